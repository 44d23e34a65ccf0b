"""``ModelBundle.predict_file``: known answers, planted bad rows, atomic writes, invariants."""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mllife import InputError, MissingDependencyError, ModelError, SchemaError
from mllife._compat import PANDAS_GE_3
from mllife.bundle import InputSchema, ModelBundle, PredictFileResult

N = 50
CATEGORIES = ["basic", "pro", "NA", "None"]


def _train(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(3000, 500, n).round(2)),
        "plan": rng.choice(CATEGORIES, n),
        "active": rng.random(n) < 0.5,
        "since": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), "D"),
    })
    y = ((X["age"] > 45) ^ (X["plan"] == "NA")).astype(int).to_numpy()
    return X, y


TRAIN, Y = _train()
PIPE = Pipeline([
    ("pre", ColumnTransformer([("num", "passthrough", ["age", "active"]),
                               ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])),
    ("model", LogisticRegression()),
]).fit(TRAIN, Y)
BUNDLE = ModelBundle(PIPE, InputSchema.infer(TRAIN), version="3.1")
#: The source rows: the contract's columns (training-like values) and an identifier.
SOURCE = _train(N, seed=1)[0].assign(id=[f"c{i:03d}" for i in range(N)])


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _read(path: Path) -> pd.DataFrame:
    """An output as written: text stays text ("NA" is no missing value here)."""
    if path.name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    exact = {} if PANDAS_GE_3 else {"float_precision": "round_trip"}  # pandas 2: within an ulp
    return pd.read_csv(path, keep_default_na=False, na_values=[""], **exact)


def _same_floats(actual: pd.Series, expected: pd.Series) -> None:
    """Equal to the last bits a batch size changes: the model's own sums (BLAS) add up in
    another order for one row than for fifty; CSV itself writes and reads floats exactly."""
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=1e-13, atol=0)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- known answers
@pytest.mark.parametrize("chunk_rows", [1, 7, 10, 1_000])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "csv.gz"])
def test_scores_equal_predict_proba_on_the_whole_frame(tmp_path, fmt, chunk_rows):
    src = _write(SOURCE, tmp_path / f"in.{fmt}")
    dst = tmp_path / f"out.{'parquet' if fmt == 'csv' else 'csv'}"
    result = BUNDLE.predict_file(src, dst, chunk_rows=chunk_rows, keep=["id"], progress=False)
    assert (result.rows, result.scored, result.rejected) == (N, N, 0)
    out = _read(dst)
    expected = BUNDLE.predict_proba(SOURCE.drop(columns="id"))
    assert out.columns.tolist() == ["row", "id", "prediction", "proba_0", "proba_1",
                                    "model_version"]
    assert out["row"].tolist() == list(range(N))
    assert out["id"].tolist() == SOURCE["id"].tolist()
    assert out["prediction"].tolist() == expected["prediction"].tolist()
    for name in ["proba_0", "proba_1"]:
        _same_floats(out[name], expected[name])
    assert set(out["model_version"].astype(str)) == {"3.1"}
    assert _read(result.rejects).columns.tolist() == ["row", *SOURCE.columns, "problems"]
    assert len(_read(result.rejects)) == 0
    assert _leftovers(tmp_path) == []


def test_predict_without_probabilities(tmp_path):
    src = _write(SOURCE, tmp_path / "in.csv")
    BUNDLE.predict_file(src, tmp_path / "out.csv", proba=False)
    out = _read(tmp_path / "out.csv")
    assert out.columns.tolist() == ["row", "prediction", "model_version"]
    assert out["prediction"].tolist() == BUNDLE.predict(SOURCE)["prediction"].tolist()


def test_a_regressor_writes_its_predictions(tmp_path):
    X = TRAIN[["age"]]
    reg = ModelBundle(LinearRegression().fit(X, TRAIN["age"] * 2.0), InputSchema.infer(X),
                      version="r")
    src = _write(SOURCE[["age"]], tmp_path / "in.parquet")
    result = reg.predict_file(src, tmp_path / "out.parquet", chunk_rows=9)
    out = _read(result.dst)
    assert out.columns.tolist() == ["row", "prediction", "model_version"]
    np.testing.assert_allclose(out["prediction"], SOURCE["age"] * 2.0)
    with pytest.raises(InputError, match="no predict_proba"):
        reg.predict_file(src, tmp_path / "again.csv", proba=True)
    assert not (tmp_path / "again.csv").exists()


# ---------------------------------------------------------------- planted bad rows
#: (row, column, bad text, problem the reject file must name)
PLANTED = [
    (3, "age", "abc", "age: text instead of integers"),
    (8, "plan", "gold", "plan: unseen category"),
    (11, "age", "", "age: missing value where training had none"),
    (20, "age", "500", "age: out of range"),
    (27, "since", "31/12/2020", "since: text that is not an ISO 8601 date-time"),
    (41, "active", "maybe", "active: text instead of true/false (or 0/1)"),
    (49, "income", "12,5", "income: text instead of numbers"),
]


def _planted_text(tmp_path: Path, planted=PLANTED, name: str = "bad.csv") -> Path:
    frame = SOURCE.astype({"age": object, "plan": object, "since": str, "active": object,
                           "income": object})
    for row, column, text, _ in planted:
        frame.loc[row, column] = text
    return _write(frame, tmp_path / name)


@pytest.mark.parametrize("chunk_rows", [1, 6, 100])
def test_planted_bad_rows_are_rejected_with_their_problems(tmp_path, chunk_rows):
    src = _planted_text(tmp_path)
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=chunk_rows,
                                 keep=["id"])
    bad_rows = [row for row, *_ in PLANTED]
    assert (result.rows, result.rejected, result.scored) == (N, len(PLANTED), N - len(PLANTED))
    rejects = _read(result.rejects)
    assert rejects["row"].tolist() == bad_rows
    assert rejects["problems"].tolist() == [problem for *_, problem in PLANTED]
    # the source columns as read, the bad cells included
    assert rejects.loc[rejects["row"] == 3, "age"].item() == "abc"
    assert rejects.loc[rejects["row"] == 27, "since"].item() == "31/12/2020"
    assert rejects["id"].tolist() == [f"c{r:03d}" for r in bad_rows]
    out = _read(result.dst)
    good = [r for r in range(N) if r not in bad_rows]
    assert out["row"].tolist() == good
    expected = BUNDLE.predict_proba(SOURCE.iloc[good].drop(columns="id"))
    _same_floats(out["proba_1"], expected["proba_1"])


def test_several_problems_of_one_row_are_all_named(tmp_path):
    src = _planted_text(tmp_path, [(5, "age", "abc", ""), (5, "plan", "gold", ""),
                                   (5, "since", "yesterday", "")])
    result = BUNDLE.predict_file(src, tmp_path / "out.csv")
    rejects = _read(result.rejects)
    assert rejects["row"].tolist() == [5]
    assert rejects["problems"].item() == ("age: text instead of integers; plan: unseen "
                                          "category; since: text that is not an ISO 8601 "
                                          "date-time")


def test_problems_never_echo_values(tmp_path):
    src = _planted_text(tmp_path, [(2, "plan", "secret-token-123", "")])
    result = BUNDLE.predict_file(src, tmp_path / "out.csv")
    assert "secret-token-123" not in " ".join(_read(result.rejects)["problems"])


def test_every_row_rejected(tmp_path):
    frame = SOURCE.assign(plan="gold")
    result = BUNDLE.predict_file(_write(frame, tmp_path / "in.parquet"),
                                 tmp_path / "out.parquet", chunk_rows=8, keep=["id"])
    assert (result.scored, result.rejected) == (0, N)
    out = _read(result.dst)
    assert len(out) == 0
    assert out.columns.tolist() == ["row", "id", "prediction", "proba_0", "proba_1",
                                    "model_version"]
    assert _read(result.rejects)["row"].tolist() == list(range(N))


# ---------------------------------------------------------------- reading CSV faithfully
def test_categories_that_look_missing_stay_text(tmp_path):
    frame = SOURCE.copy()
    frame["plan"] = (["NA", "None"] * N)[:N]
    src = _write(frame, tmp_path / "in.csv")
    assert ",NA," in src.read_text()
    assert ",None," in src.read_text()
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=13)
    assert (result.scored, result.rejected) == (N, 0)
    expected = BUNDLE.predict_proba(frame.drop(columns="id"))
    out = _read(result.dst)
    _same_floats(out["proba_1"], expected["proba_1"])
    # "NA" and "None" are not read as missing (which the contract would reject here)
    missing = BUNDLE.predict_proba(frame.drop(columns="id").assign(plan="basic"))
    assert not np.array_equal(out["proba_1"].to_numpy(), missing["proba_1"].to_numpy())


def test_other_missing_markers_are_missing(tmp_path):
    lines = ["age,income,plan,active,since",
             "30,NA,basic,True,2021-01-01",     # "NA": a missing income (nullable)
             "30,null,pro,False,2021-01-01",    # "null" too
             "31,2000,N/A,True,2021-01-01",     # not a category of plan: missing, refused
             "32,2000,basic,TRUE,2021-01-01",   # booleans in any case
             "33,1e3,pro,0,2021-01-01"]         # 1e3 and 0: a number and a boolean
    src = tmp_path / "in.csv"
    src.write_text("\n".join(lines) + "\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv")
    assert _read(result.rejects)[["row", "problems"]].values.tolist() == [
        [2, "plan: missing value where training had none"]]
    assert _read(result.dst)["row"].tolist() == [0, 1, 3, 4]


class _Echo(BaseEstimator):
    """Predicts the values of its one column: what the model saw."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.asarray(X.iloc[:, 0])


@pytest.mark.parametrize("stray", [False, True])
def test_floats_are_read_exactly(tmp_path, stray):
    values = np.random.default_rng(3).normal(0, 1e3, 300)
    X = pd.DataFrame({"x": values})
    echo = ModelBundle(_Echo().fit(X), InputSchema.infer(X, out_of_range="ignore"),
                       version="e")
    text = pd.Series(values, dtype=object).map(repr)
    if stray:  # a cell that is no number: the chunk's column is read as text
        text[7] = "abc"
    src = tmp_path / "in.csv"
    src.write_text("x\n" + "\n".join(text) + "\n")
    result = echo.predict_file(src, tmp_path / "out.parquet", chunk_rows=100)
    out = _read(result.dst)
    kept = np.delete(values, 7) if stray else values
    np.testing.assert_array_equal(out["prediction"].to_numpy(), kept)  # bit for bit
    assert result.rejected == int(stray)


def test_integers_beyond_2_53_are_read_exactly(tmp_path):
    X = pd.DataFrame({"n": [0, 2**62]})
    echo = ModelBundle(_Echo().fit(X), InputSchema.infer(X), version="e")
    src = tmp_path / "in.csv"
    src.write_text(f"n\n{2**53 + 1}\n{2**62 - 1}\nabc\n{10**20}\n")
    result = echo.predict_file(src, tmp_path / "out.csv", proba=False)
    out = pd.read_csv(result.dst, dtype={"prediction": object})
    assert out["prediction"].tolist() == [str(2**53 + 1), str(2**62 - 1)]
    assert _read(result.rejects)["problems"].tolist() == [
        "n: text instead of integers", "n: value not representable as int64"]


# ---------------------------------------------------------------- whole-file problems
def test_empty_file_writes_headers(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(",".join(SOURCE.columns) + "\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.parquet", keep=["id"])
    assert (result.rows, result.scored, result.rejected) == (0, 0, 0)
    out = _read(result.dst)
    assert out.columns.tolist() == ["row", "id", "prediction", "proba_0", "proba_1",
                                    "model_version"]
    assert len(out) == 0
    assert out["prediction"].dtype == np.int64
    assert _read(result.rejects).columns.tolist() == ["row", *SOURCE.columns, "problems"]


def test_empty_parquet_file(tmp_path):
    src = _write(SOURCE.iloc[:0], tmp_path / "in.parquet")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", rejects=tmp_path / "rej.parquet")
    assert (result.rows, result.scored, result.rejected) == (0, 0, 0)
    assert _read(result.dst).columns.tolist() == ["row", "prediction", "proba_0", "proba_1",
                                                  "model_version"]
    rejects = _read(result.rejects)
    assert rejects.columns.tolist() == ["row", *SOURCE.columns, "problems"]
    assert rejects["age"].dtype == SOURCE["age"].dtype  # the source's own types


def test_a_missing_contract_column_writes_nothing(tmp_path):
    src = _write(SOURCE.drop(columns="plan").rename(columns={"age": "agee"}),
                 tmp_path / "in.csv")
    with pytest.raises(SchemaError) as info:
        BUNDLE.predict_file(src, tmp_path / "out.csv")
    problems = {(p["column"], p["problem"]) for p in info.value.problems}
    assert problems == {("age", "missing column"), ("plan", "missing column")}
    assert "rename 'agee' to 'age'" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_unexpected_column_under_extra_error(tmp_path):
    strict = ModelBundle(PIPE, InputSchema.infer(TRAIN, extra="error"), version="s")
    src = _write(SOURCE, tmp_path / "in.parquet")
    with pytest.raises(SchemaError, match="unexpected column"):
        strict.predict_file(src, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]
    result = strict.predict_file(_write(SOURCE.drop(columns="id"), tmp_path / "ok.csv"),
                                 tmp_path / "out.csv")
    assert result.scored == N


# ---------------------------------------------------------------- atomic writes
class _FailsOnCall(ClassifierMixin, BaseEstimator):
    """A classifier that raises on its ``fail_on``-th call of predict_proba."""

    def __init__(self, fail_on=3):
        self.fail_on = fail_on

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.calls_ = 0
        return self

    def predict_proba(self, X):
        self.calls_ += 1
        if self.calls_ == self.fail_on:
            raise RuntimeError("the disk of the feature store is gone")
        return np.tile([0.25, 0.75], (len(X), 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.mark.parametrize("dst_name", ["out.csv", "out.parquet", "out.csv.gz"])
def test_a_model_failing_midway_leaves_no_output(tmp_path, dst_name):
    model = _FailsOnCall().fit(TRAIN, Y)
    bundle = ModelBundle(model, InputSchema.infer(TRAIN), version="x")
    src = _write(SOURCE, tmp_path / "in.csv")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    with pytest.raises(ModelError, match="feature store"):
        bundle.predict_file(src, tmp_path / dst_name, chunk_rows=10)
    assert model.calls_ == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no output, no temp file
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before


def test_a_failure_keeps_the_previous_output(tmp_path):
    src = _write(SOURCE, tmp_path / "in.csv")
    first = BUNDLE.predict_file(src, tmp_path / "out.csv")
    previous = first.dst.read_bytes(), first.rejects.read_bytes()
    failing = ModelBundle(_FailsOnCall(fail_on=1).fit(TRAIN, Y), BUNDLE.schema, version="x")
    with pytest.raises(ModelError):
        failing.predict_file(src, tmp_path / "out.csv")
    assert (first.dst.read_bytes(), first.rejects.read_bytes()) == previous
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"chunk_rows": 0}, "chunk_rows"),
    ({"chunk_rows": True}, "chunk_rows"),
    ({"chunk_rows": 2.5}, "chunk_rows"),
    ({"proba": "yes"}, "proba"),
    ({"progress": 1}, "progress"),
    ({"keep": ["nope"]}, "keep columns"),
    ({"keep": ["prediction"]}, "output writes itself"),
    ({"keep": ["proba_1"]}, "output writes itself"),
    ({"keep": ["id", "id"]}, "distinct"),
    ({"keep": 3}, "sequence"),
    ({"rejects": "rej.txt"}, "unknown suffix"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    src = _write(SOURCE, tmp_path / "in.csv")
    if "rejects" in kwargs:
        kwargs = {"rejects": tmp_path / kwargs["rejects"]}
    with pytest.raises(InputError, match=match):
        BUNDLE.predict_file(src, tmp_path / "out.csv", **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_bad_paths(tmp_path):
    src = _write(SOURCE, tmp_path / "in.csv")
    with pytest.raises(InputError, match=r"unknown suffix.*\.csv, \.csv\.gz"):
        BUNDLE.predict_file(src, tmp_path / "out.xlsx")
    with pytest.raises(InputError, match="unknown suffix"):
        BUNDLE.predict_file(tmp_path / "in.json", tmp_path / "out.csv")
    with pytest.raises(InputError, match="not a file"):
        BUNDLE.predict_file(tmp_path / "missing.csv", tmp_path / "out.csv")
    with pytest.raises(InputError, match="does not exist"):
        BUNDLE.predict_file(src, tmp_path / "no" / "out.csv")
    with pytest.raises(InputError, match="three different"):
        BUNDLE.predict_file(src, src)
    with pytest.raises(InputError, match="three different"):
        BUNDLE.predict_file(src, tmp_path / "." / "in.csv")
    (tmp_path / "link.csv").symlink_to(src)
    with pytest.raises(InputError, match="three different"):
        BUNDLE.predict_file(src, tmp_path / "link.csv")
    (tmp_path / "link.csv").unlink()
    with pytest.raises(InputError, match="three different"):
        BUNDLE.predict_file(src, tmp_path / "out.csv", rejects=tmp_path / "out.csv")
    with pytest.raises(InputError, match="a path"):
        BUNDLE.predict_file(None, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    src = _write(SOURCE, tmp_path / "in.csv")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    for dst, rejects in [("out.parquet", None), ("out.csv", "rejects.pq")]:
        with pytest.raises(MissingDependencyError, match="pip install pyarrow"):
            BUNDLE.predict_file(src, tmp_path / dst,
                                rejects=None if rejects is None else tmp_path / rejects)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# ---------------------------------------------------------------- result and progress
def test_result_reads_well(tmp_path):
    src = _planted_text(tmp_path, PLANTED[:1])
    result = BUNDLE.predict_file(src, tmp_path / "scores.csv.gz")
    assert isinstance(result, PredictFileResult)
    assert result.rejects == tmp_path / "scores.rejects.csv"
    assert result.dst == tmp_path / "scores.csv.gz"
    assert result.seconds > 0
    text = repr(result)
    assert text.startswith("<PredictFileResult 50 rows: 49 scored, 1 rejected in ")
    assert text.endswith("-> scores.csv.gz (rejects: scores.rejects.csv)>")
    with pytest.raises(AttributeError):
        result.rows = 3  # frozen


def test_progress_bar_only_when_asked(tmp_path, capsys):
    src = _write(SOURCE, tmp_path / "in.parquet")
    BUNDLE.predict_file(src, tmp_path / "a.csv", chunk_rows=20, progress=True)
    assert "predict_file in.parquet" in capsys.readouterr().err
    BUNDLE.predict_file(src, tmp_path / "b.csv", chunk_rows=20, progress=False)
    BUNDLE.predict_file(src, tmp_path / "c.csv", chunk_rows=20)  # stderr is no terminal here
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- the invariant
_KINDS = {"text": ("age", "abc"), "unseen": ("plan", "gold"), "missing": ("age", None),
          "range": ("age", -4), "date": ("since", "2021-13-45")}


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_row_is_scored_or_rejected_exactly_once(data):
    n = data.draw(st.integers(0, 40), label="rows")
    chunk_rows = data.draw(st.integers(1, 45), label="chunk_rows")
    fmt = data.draw(st.sampled_from(["csv", "parquet"]), label="format")
    # Parquet columns have one type: no text in the integer column there
    possible = [k for k in _KINDS if fmt == "csv" or k != "text"]
    kinds = data.draw(st.lists(st.sampled_from([None, *possible]), min_size=n, max_size=n),
                      label="defects")
    frame = SOURCE.iloc[:n].astype({"age": object, "plan": object, "since": str})
    for i, kind in enumerate(kinds):
        if kind is not None:
            column, text = _KINDS[kind]
            frame.iloc[i, frame.columns.get_loc(column)] = text
    with tempfile.TemporaryDirectory() as folder:
        src = _write(frame, Path(folder) / f"in.{fmt}")
        result = BUNDLE.predict_file(src, Path(folder) / "out.csv", chunk_rows=chunk_rows)
        scored, rejects = _read(result.dst), _read(result.rejects)
        assert _leftovers(Path(folder)) == []
    assert result.rows == n == result.scored + result.rejected
    assert (len(scored), len(rejects)) == (result.scored, result.rejected)
    assert sorted([*scored["row"], *rejects["row"]]) == list(range(n))
    assert rejects["row"].tolist() == [i for i, k in enumerate(kinds) if k is not None]
    assert all(problem.startswith(_KINDS[kinds[row]][0] + ": ")
               for row, problem in zip(rejects["row"], rejects["problems"], strict=True))
