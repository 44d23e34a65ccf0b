"""Users' type checkers see mllife's real signatures, not ``Any``.

mllife loads its public names lazily (PEP 562 ``__getattr__``), which a type
checker reads as "every attribute is ``Any``"; ``mllife.audit`` and
``mllife.split`` are callable packages, which mypy reports as "Module not
callable". ``if TYPE_CHECKING:`` blocks in ``mllife/__init__.py`` and in every
lazy subpackage give the checker the real imports. These tests keep those
blocks in step with the lazy tables and run mypy on a user's script.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mllife

SRC = Path(mllife.__file__).parent


def _type_checking_names(path: Path) -> dict[str, ast.AST]:
    """Names bound inside the module's top-level ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom | ast.Import):
                for alias in stmt.names:
                    names[alias.asname or alias.name] = stmt
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names[stmt.target.id] = stmt
            elif isinstance(stmt, ast.ClassDef):
                names[stmt.name] = stmt
    return names


def _lazy_packages() -> list[str]:
    return ["mllife"] + [f"mllife.{name}" for name in mllife.SUBPACKAGES
                         if hasattr(importlib.import_module(f"mllife.{name}"), "_LAZY")]


@pytest.mark.parametrize("package", _lazy_packages())
def test_type_checking_block_lists_every_lazy_name(package):
    module = importlib.import_module(package)
    path = Path(module.__file__)
    seen = _type_checking_names(path)
    missing = sorted(set(module._LAZY) - set(seen))
    assert not missing, f"{path}: add to the `if TYPE_CHECKING:` block: {missing}"
    for name in module._LAZY:
        stmt = seen[name]
        if isinstance(stmt, ast.ImportFrom):  # re-exported explicitly: `from x import y as y`
            alias = next(a for a in stmt.names if (a.asname or a.name) == name)
            assert alias.asname == alias.name, f"{path}: write `import {name} as {name}`"


def test_user_script_runs(tmp_path):
    """The script type-checked below is a real use of the API (its last line only mistypes)."""
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    result = subprocess.run([sys.executable, "-W", "error::FutureWarning", str(script)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("package", ["audit", "split"])
def test_callable_packages_are_typed_with_every_public_name(package):
    """``mllife.audit`` / ``mllife.split`` are typed as classes listing the package's names."""
    seen = _type_checking_names(SRC / "__init__.py")
    annotation = seen[package]
    assert isinstance(annotation, ast.AnnAssign)
    assert isinstance(annotation.annotation, ast.Name)
    cls = seen[annotation.annotation.id]
    assert isinstance(cls, ast.ClassDef)
    body = {t.id for stmt in cls.body if isinstance(stmt, ast.Assign) for t in stmt.targets
            if isinstance(t, ast.Name)}
    assert "__call__" in body
    public = set(importlib.import_module(f"mllife.{package}").__all__)
    assert public - body == set(), f"add to {cls.name}: {sorted(public - body)}"


USER_SCRIPT = '''\
from typing import reveal_type

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mllife
from mllife.features import NullLikeToNaN
from mllife.split import PurgedTimeSeriesSplit

df = pd.DataFrame({"x": np.arange(40.0), "y": [0, 1] * 20})
parts = mllife.split(df, target="y")
reveal_type(parts)
train: pd.DataFrame = parts.train
audit_report = mllife.audit(df, target="y")
reveal_type(audit_report)
n_findings: int = len(audit_report.findings)
model = LogisticRegression().fit(train[["x"]], train["y"])
evaluation = mllife.evaluate(model, parts.test[["x"]], parts.test["y"])
reveal_type(evaluation)
task: str = evaluation.task
drift = mllife.drift_report(df.iloc[:20], df.iloc[20:])
reveal_type(drift)
drifted: list[object] = drift.drifted_columns
prep = mllife.make_preprocessor(df.drop(columns="y"))
reveal_type(prep)
cleaner = NullLikeToNaN()
reveal_type(cleaner)
cv = mllife.split.PurgedTimeSeriesSplit(n_splits=3)
same: PurgedTimeSeriesSplit = cv
with mllife.audit.registered_checks():
    pass
wrong: int = mllife.drift_report(df, df)  # DELIBERATE
'''


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory) -> Path:
    """One mypy cache for the module: the second run reuses what the first learnt of
    pandas, numpy and mllife (the two runs took about 16 s each, now about half)."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, source: str, cache: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "user_script.py"
    script.write_text(source, encoding="utf-8")
    command = [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--follow-imports=silent",
               "--show-error-codes", "--no-color-output", "--no-error-summary",
               "--cache-dir", str(cache), str(script)]
    # Run from tmp_path, so the project's [tool.mypy] configuration does not apply.
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_mypy_accepts_a_users_script_and_reports_its_one_error(tmp_path, mypy_cache):
    pytest.importorskip("mypy")
    result = _mypy(tmp_path, USER_SCRIPT, mypy_cache)
    lines = result.stdout.splitlines()
    errors = [line for line in lines if ": error:" in line]
    notes = [line for line in lines if "Revealed type is" in line]
    deliberate = USER_SCRIPT.splitlines().index(
        "wrong: int = mllife.drift_report(df, df)  # DELIBERATE") + 1
    assert len(errors) == 1, result.stdout + result.stderr
    assert f"user_script.py:{deliberate}: error:" in errors[0]
    assert "DriftReport" in errors[0]
    assert "[assignment]" in errors[0]
    assert "not callable" not in result.stdout
    revealed = [re.search(r'Revealed type is "(.*)"', n).group(1) for n in notes]
    assert revealed == [
        "mllife.split._split.Split",
        "mllife.audit._report.AuditReport",
        "mllife.evaluation._report.EvaluationReport",
        "mllife.drift._report.DriftReport",
        revealed[4],  # the preprocessor's class: checked below (H1/H3 may move it)
        "mllife.features._null_like.NullLikeToNaN",
    ], result.stdout
    assert revealed[4].startswith("mllife.features.")
    assert "Any" not in revealed[4]
    assert result.returncode == 1


def test_mypy_reports_a_wrong_keyword_of_a_callable_package(tmp_path, mypy_cache):
    pytest.importorskip("mypy")
    source = textwrap.dedent('''\
        import pandas as pd
        import mllife
        mllife.split(pd.DataFrame({"x": [1, 2]}), targett="x")
        mllife.audit(pd.DataFrame({"x": [1, 2]}), target="x", no_such_keyword=1)
    ''')
    result = _mypy(tmp_path, source, mypy_cache)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout
    assert '"targett"' in errors[0]
    assert '"no_such_keyword"' in errors[1]
