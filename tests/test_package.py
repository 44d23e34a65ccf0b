"""The package itself: lazy imports, public API, command line and demo."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import mllife

HEAVY = ("shap", "fairlearn", "imblearn", "matplotlib", "skops", "fastapi", "starlette",
         "uvicorn", "prometheus_client", "mlflow", "dask", "distributed")


def test_import_is_light():
    code = (
        "import sys, mllife; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tracking_does_not_import_mlflow_until_a_tracker_is_made():
    code = (
        "import sys, mllife, mllife.tracking as t; "
        "t.MlflowTracker, t.log_report, t.Tracker, mllife.TrackingWarning; "
        "print('mlflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_scale_and_the_entry_points_do_not_import_dask_until_a_dask_frame_arrives():
    code = (
        "import sys, pandas as pd, mllife, mllife.scale; "
        "from mllife.drift import DriftProfile, drift_report; "
        "frame = pd.DataFrame({'x': [1.0, 2.0, 3.0], 'c': list('aab')}); "
        "DriftProfile.fit(frame); mllife.audit(frame); mllife.profile(frame); "
        "drift_report(frame, frame); "
        "print([m for m in ('dask', 'distributed') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in mllife.__all__:
        assert getattr(mllife, name) is not None, name
    assert "make_churn" in dir(mllife)
    with pytest.raises(AttributeError, match="no_such_name"):
        mllife.no_such_name


def test_subpackages_declare_all():
    for name in mllife.SUBPACKAGES:
        module = importlib.import_module(f"mllife.{name}")
        assert module.__all__, name
        for public in module.__all__:
            assert getattr(module, public) is not None, f"mllife.{name}.{public}"


def test_version():
    assert mllife.__version__.count(".") >= 2


def test_demo_writes_reports(tmp_path):
    from mllife._demo import run_demo

    ctx = run_demo(tmp_path, n_rows=600, verbose=False)
    htmls = sorted(p.name for p in tmp_path.glob("*.html"))
    assert "00_data.html" in htmls
    for path in tmp_path.glob("*.json"):
        assert json.loads(path.read_text())["report"]
    assert len(ctx.written) == len(list(tmp_path.iterdir()))
    # reports are written in the order of their numbers (the lifecycle's)
    numbered = [p.name for p in ctx.written if p.name[:2].isdigit() and p.suffix == ".html"]
    assert numbered == sorted(numbered)
    assert numbered[-3:] == ["06_bundle.html", "07_drift.html", "08_monitor.html"]


def test_command_line_help():
    out = subprocess.run([sys.executable, "-m", "mllife", "--help"], capture_output=True,
                         text=True, check=True)
    assert "demo" in out.stdout
