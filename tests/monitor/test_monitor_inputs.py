"""Monitor: every parameter checked at construction, bad batches and label frames refused
with an InputError naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife import InputError, SuccessCriteria
from mllife.monitor import Monitor

from .conftest import T0, daily_batches


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "no time_col and no rows"),
    ({"time_col": "t", "window": "banana"}, "window='banana' is not a duration"),
    ({"time_col": "t", "window": "-1D"}, "not a positive duration"),
    ({"time_col": "t", "window": "0s"}, "not a positive duration"),
    ({"time_col": "t", "window": 3}, "window=3 is not a duration"),
    ({"time_col": "t", "window": True}, "not a duration"),
    ({"rows": 0}, "rows=0"),
    ({"rows": 2.5}, "rows=2.5"),
    ({"rows": True}, "rows=True"),
    ({"time_col": "t", "alpha": 0}, "alpha=0"),
    ({"time_col": "t", "alpha": 1.0}, "alpha=1.0"),
    ({"time_col": "t", "alpha": float("nan")}, "alpha=nan"),
    ({"time_col": "t", "alpha": "0.05"}, "alpha='0.05'"),
    ({"time_col": "t", "metrics": ["mae"]}, "mae"),
    ({"time_col": "t", "metrics": ["wizardry"]}, "wizardry"),
    ({"time_col": "t", "metrics": "accuracy"}, "metrics='accuracy'"),
    ({"time_col": "t", "metrics": {"accuracy": 1.5}}, "accuracy"),
    ({"time_col": "t", "metrics": SuccessCriteria({}, max_latency_ms=5)}, "without thresholds"),
    ({"time_col": "t", "label_col": "t"}, "repeat a name"),
    ({"time_col": ["t"]}, "time_col=\\['t'\\]"),
    ({"time_col": "t", "id_col": ""}, "id_col=''"),
])
def test_construction_errors_name_the_parameter(churn, kwargs, match):
    with pytest.raises(InputError, match=match):
        Monitor(churn.bundle, reference=churn.reference, **kwargs)


def test_bundle_and_reference_are_checked(churn):
    from mllife.bundle import ModelBundle

    with pytest.raises(InputError, match="bundle is a str"):
        Monitor("model", time_col="t")
    bare = ModelBundle(churn.bundle.model, churn.bundle.schema, version="x")
    with pytest.raises(InputError, match="no input reference"):
        Monitor(bare, time_col="t")
    with pytest.raises(InputError, match="lacks the input column"):
        Monitor(churn.bundle, reference=churn.reference.drop(columns="age"), time_col="t")
    with pytest.raises(InputError, match="no rows"):
        Monitor(churn.bundle, reference=churn.reference.iloc[:0], time_col="t")
    broken = churn.reference.assign(plan="gold")
    with pytest.raises(InputError, match="reference breaks the bundle's schema"):
        Monitor(churn.bundle, reference=broken, time_col="t")
    unlabelled = churn.reference.assign(y=churn.reference["y"].astype(float))
    unlabelled.loc[unlabelled.index[:3], "y"] = np.nan
    with pytest.raises(InputError, match="missing labels"):
        Monitor(churn.bundle, reference=unlabelled, time_col="t", label_col="y")


def test_reference_without_a_drift_profile_is_profiled(churn):
    from mllife.bundle import ModelBundle

    bare = ModelBundle(churn.bundle.model, churn.bundle.schema, version="x")
    monitor = Monitor(bare, reference=churn.reference, time_col="t", label_col="y", id_col="id")
    report = monitor.observe(daily_batches(churn.pool, 1, 100)[0]).report()
    assert report.reference["source"] == "reference"
    assert set(report.columns.loc[report.columns["role"] == "input", "column"]) == set(
        churn.inputs)


def test_metrics_spellings_and_thresholds(churn):
    m = Monitor(churn.bundle, reference=churn.reference, time_col="t", metrics=["ROC-AUC"])
    assert m.metric_names == ("roc_auc",)
    assert m.thresholds == {}
    m = Monitor(churn.bundle, reference=churn.reference, time_col="t",
                metrics={"accuracy": 0.99})
    assert m.thresholds == {"accuracy": 0.99}
    report = m.observe(daily_batches(churn.pool, 1, 300)[0]).report()
    perf = report.signal("estimated_performance")
    assert perf["alarm"].all()
    assert "threshold 0.99" in perf["reason"].iloc[0]
    assert report.findings[0].severity == "error"
    crit = Monitor(churn.bundle, reference=churn.reference, time_col="t",
                   metrics=SuccessCriteria({"roc_auc": 0.5}))
    assert crit.thresholds == {"roc_auc": 0.5}


def test_batches_without_or_with_bad_time_raise(churn):
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t")
    rows = churn.pool.drop(columns="y").iloc[:5]
    with pytest.raises(InputError, match="column 't': the batch has no time column"):
        monitor.observe(rows)
    with pytest.raises(InputError, match="column 't'"):
        monitor.observe(rows.assign(t=[1, 2, 3, 4, 5]))
    with pytest.raises(InputError, match="column 't'"):
        monitor.observe(rows.assign(t="yesterday"))
    assert monitor.windows == []
    assert monitor.label_counts["batches"] == 0


def test_bad_output_columns_raise_before_any_change(churn):
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t")
    batch = churn.pool.drop(columns="y").iloc[:5].assign(t=T0, proba_0="high", proba_1="low")
    with pytest.raises(InputError, match="proba_0"):
        monitor.observe(batch)
    assert monitor.n_rows == 0


def test_label_frames_are_checked(churn):
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t", label_col="y",
                      id_col="id")
    with pytest.raises(InputError, match="column 'id'"):
        monitor.observe_labels(pd.DataFrame({"y": [1]}))
    with pytest.raises(InputError, match="column 'y'"):
        monitor.observe_labels(pd.DataFrame({"id": [1]}))
    assert monitor.observe_labels(pd.DataFrame({"id": [], "y": []})) is monitor
    no_ids = Monitor(churn.bundle, reference=churn.reference, time_col="t", label_col="y")
    with pytest.raises(InputError, match="id_col= and label_col="):
        no_ids.observe_labels(pd.DataFrame({"id": [1], "y": [1]}))


def test_repeated_ids_keep_the_first_row_waiting(churn):
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t", label_col="y",
                      id_col="id")
    batch = daily_batches(churn.pool.drop(columns="y"), 1, 10)[0]
    monitor.observe(batch).observe(batch.assign(t=batch["t"] + pd.Timedelta("1D")))
    assert monitor.label_counts["repeated_ids"] == 10
    monitor.observe_labels(churn.pool.loc[:9, ["id", "y"]])
    assert monitor.report().windows["n_labelled"].tolist() == [10, 0]


def test_repr_and_properties(churn):
    monitor = Monitor(churn.bundle, reference=churn.reference, rows=50)
    assert repr(monitor) == "<Monitor bundle='1.0.0' windows=0 rows=0 rows=50>"
    monitor.observe(churn.pool.drop(columns="y").iloc[:120])
    assert monitor.windows == ["rows 0-49", "rows 50-99", "rows 100-149"]
    assert monitor.n_rows == 120
    assert monitor.bundle_version == "1.0.0"


def test_a_problem_spec_gives_time_label_and_criteria(churn):
    from mllife import ProblemSpec

    spec = ProblemSpec("y", "binary", time_col="t", criteria={"accuracy": 0.6})
    monitor = Monitor(churn.bundle, reference=churn.reference, spec=spec)
    assert (monitor.time_col, monitor.label_col) == ("t", "y")
    assert monitor.thresholds == {"accuracy": 0.6}
    with pytest.raises(InputError, match="disagrees with spec"):
        Monitor(churn.bundle, reference=churn.reference, time_col="when", spec=spec)
    with pytest.raises(InputError, match="spec="):
        Monitor(churn.bundle, reference=churn.reference, time_col="t", spec="spec")
