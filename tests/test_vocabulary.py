"""One task and metric vocabulary: every entry point accepts the same names, gives one value.

Each metric of ``mllife._metrics.METRICS``, in every spelling, is accepted by
``SuccessCriteria``, ``compare_models``, ``evaluate`` and ``compare_champion``
exactly for the tasks where it is defined, and refused (``InputError``) for
the others. On one train/test split the four give the same value. No module
outside ``_metrics.py`` keeps its own table of metric names.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge

import mllife
from mllife import (
    InputError,
    SuccessCriteria,
    _metrics,
    _task,
    compare_champion,
    compare_models,
    evaluate,
)
from mllife.evaluation import _champion_metrics as cm
from mllife.problem import METRICS, normalize_metric_name

TASKS = ("binary", "multiclass", "regression")
N_TRAIN = 200


def _data(task: str):
    if task == "regression":
        X, y = make_regression(300, 4, noise=10.0, random_state=0)
        return X, y + 300.0, Ridge()        # no zero target: MAPE is defined
    n_classes = 2 if task == "binary" else 3
    X, y = make_classification(300, n_features=6, n_informative=4, n_classes=n_classes,
                               random_state=0)
    return X, y, LogisticRegression(max_iter=500)


@pytest.fixture(scope="module")
def fitted():
    out = {}
    for task in TASKS:
        X, y, model = _data(task)
        out[task] = (X, y, model, model.fit(X[:N_TRAIN], y[:N_TRAIN]))
    return out


@pytest.fixture(scope="module")
def evaluations(fitted):
    return {task: evaluate(model, X[N_TRAIN:], y[N_TRAIN:], baseline=None)
            for task, (X, y, _, model) in fitted.items()}


def _threshold(metric: _metrics.Metric) -> float:
    low, high = metric.bounds
    return low if low is not None else high


def test_every_spelling_names_one_metric():
    spellings = {}
    for name, metric in _metrics.METRICS.items():
        for spelling in (name, *metric.aliases, metric.scorer or name, name.upper(),
                         name.replace("_", " "), name.replace("_", "-")):
            assert normalize_metric_name(spelling) == name, spelling
            assert spellings.setdefault(normalize_metric_name(spelling), name) == name
            assert SuccessCriteria({spelling: _threshold(metric)}).metrics == (name,)
    assert set(METRICS) == set(_metrics.METRICS)
    assert not set(_metrics.ALIASES) & set(_metrics.METRICS)   # an alias is never a name


def test_compare_champion_supports_exactly_the_vocabulary():
    assert set(cm.METRICS) == set(_metrics.METRICS) == set(cm.MIN_EVENTS)


def test_names_outside_the_vocabulary_are_scikit_learns_only():
    # compare_models also takes scikit-learn scorer names outside the vocabulary; they have
    # no vocabulary name, so success criteria refuse them and the report does not map them.
    for name in ("jaccard", "explained_variance", "f1_weighted", "medae"):
        assert _metrics.lookup(name) is None
        with pytest.raises(InputError, match="unknown metric"):
            SuccessCriteria({name: 0.5})


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(_metrics.METRICS))
def test_every_entry_point_accepts_the_metric_where_it_is_defined(fitted, evaluations,
                                                                   name, task):
    metric = _metrics.METRICS[name]
    X, y, model, trained = fitted[task]
    X_test, y_test = X[N_TRAIN:], y[N_TRAIN:]
    criteria = SuccessCriteria({name: _threshold(metric)})
    one_fold = [(np.arange(N_TRAIN), np.arange(N_TRAIN, len(y)))]
    if task not in metric.tasks:
        with pytest.raises(InputError, match=r"(does not apply|score and the task is)"):
            compare_models({"m": model}, X, y, cv=one_fold, scoring=name, baseline=False)
        # a classification metric on a continuous target is refused by the target check first
        with pytest.raises(InputError, match=r"(does not apply|fractional numbers|is a "
                                             r"regressor, and|is a classifier, and)"):
            compare_champion(trained, trained, X_test, y_test, metric=name, n_boot=100)
        with pytest.raises(InputError, match="which the EvaluationReport does not compute"):
            criteria.checklist(evaluations[task])
        return
    # evaluate computes it, and the criteria read it
    value = evaluations[task].metrics[name]
    assert np.isfinite(value)
    assert criteria.checklist(evaluations[task])["actual"].iloc[0] == pytest.approx(value)
    # compare_models scores it (one fold: the same model on the same test rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = compare_models({"m": model}, X, y, cv=one_fold, scoring=name, baseline=False)
    (score,) = report.scoring
    assert report.metric_names == {score: name}
    assert report.fold_scores[score].iloc[0] == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert criteria.checklist(report)["actual"].iloc[0] == pytest.approx(value)
    # compare_champion decides on it, from the same value
    result = compare_champion(trained, trained, X_test, y_test, metric=name, n_boot=100)
    assert result.metric == name
    assert result.champion_score == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert criteria.checklist(result)["actual"].iloc[0] == pytest.approx(value)


def test_default_scores_of_a_comparison_are_read_by_their_vocabulary_names():
    X, y = make_classification(300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    report = compare_models({"m": LogisticRegression(max_iter=500)}, X, y, cv=3)
    assert report.metric_names == {"accuracy": "accuracy", "f1_macro": "f1",
                                   "balanced_accuracy": "balanced_accuracy"}
    table = SuccessCriteria({"f1": 0.5, "accuracy": 0.5}).checklist(report)
    best = report.results.set_index("model").loc[report.best]
    assert table["actual"].tolist() == pytest.approx([best["f1_macro_mean"],
                                                      best["accuracy_mean"]])
    with pytest.raises(InputError, match=r"names 'roc_auc', which the comparison \(m\) does "
                                         r"not compute.*accuracy, f1, balanced_accuracy"):
        SuccessCriteria({"roc_auc": 0.5}).check(report)


def test_compare_models_accepts_pr_auc_as_success_criteria_do():
    X, y = make_classification(300, random_state=0)
    report = compare_models({"m": LogisticRegression()}, X, y, cv=3, scoring=["pr_auc", "auc"])
    assert report.scoring == ("pr_auc", "roc_auc")
    default = compare_models({"m": LogisticRegression()}, X, y, cv=3)
    np.testing.assert_allclose(report.fold_scores["pr_auc"],
                               default.fold_scores["average_precision"])
    assert SuccessCriteria({"average precision": 0.5}).passed(default)


def test_compare_models_checks_criteria_for_every_model():
    X, y = make_classification(300, random_state=0)
    criteria = SuccessCriteria({"recall": 0.5, "ece": 0.2}, max_model_bytes=10**7,
                               min_lift_over_baseline=0.1)
    report = compare_models({"m": LogisticRegression()}, X, y, cv=3, criteria=criteria)
    assert "recall" in report.scoring
    assert "ece" in report.scoring
    # The baseline (class shares as probabilities) is better calibrated than the model: the
    # lift in ECE fails, the lifts in the defaults hold.
    assert report.passed == {"m": False, "baseline": False}
    table = report.checklist
    mine = table[table["model"] == "m"].set_index("item")["passed"]
    assert not mine["lift over baseline in ece ≥ 0.1"]
    assert mine.drop("lift over baseline in ece ≥ 0.1").all()
    relaxed = compare_models({"m": LogisticRegression()}, X, y, cv=3,
                             criteria={"recall": 0.5, "ece": 0.2})
    assert relaxed.passed == {"m": True, "baseline": False}
    (finding,) = relaxed.findings_by(check="success_criteria")
    assert finding.severity == "info"
    assert "m meets" in finding.message
    (finding,) = report.findings_by(check="success_criteria")
    assert finding.severity == "warning"
    assert "no model meets" in finding.message
    assert list(table.columns) == ["model", "item", "target", "actual", "passed"]
    assert set(table["model"]) == {"m", "baseline"}
    assert "success criteria" in report.to_dict()["tables"]
    with pytest.raises(InputError, match="the success criteria name ece, which the scoring "
                                         "leaves out"):
        compare_models({"m": LogisticRegression()}, X, y, cv=3, criteria=criteria,
                       scoring=["roc_auc", "recall"])
    with pytest.raises(InputError, match="'rmse' does not apply to a binary task"):
        compare_models({"m": LogisticRegression()}, X, y, cv=3, criteria={"rmse": 1.0})


def test_one_task_rule():
    rng = np.random.default_rng(0)
    labels = pd.Series(rng.choice(["a", "b", "c"], 50), name="tier")
    assert _task.infer_task(labels) == "multiclass"
    assert _task.infer_task(pd.Series([0.0, 1.0] * 5)) == "regression"
    assert _task.infer_task(pd.Series([0.0, 1.0] * 5), model=LogisticRegression()) == "binary"
    assert _task.infer_task(pd.Series([0, 1, 2] * 5), model=Ridge()) == "regression"
    model = LogisticRegression().fit(np.arange(9.0)[:, None], [0, 1, 2] * 3)
    assert _task.infer_task(pd.Series([0, 1] * 5), model=model) == "multiclass"
    assert _task.infer_task(pd.Series([1.5, 2.5]), task="forecast") == "forecast"
    for y, task, why in ((labels, "binary", "it holds 3 labels"),
                         (labels, "regression", "not numbers"),
                         (pd.Series([0.5, 1.5, 2.25], name="price"), "multiclass", "continuous")):
        with pytest.raises(InputError, match=f"column '{y.name}': task={task!r} contradicts "
                                             f"the target: .*{why}"):
            _task.infer_task(y, task=task)
    with pytest.raises(InputError, match="the model is a regressor"):
        _task.infer_task(pd.Series([0, 1] * 5), model=Ridge(), task="binary")
    with pytest.raises(InputError, match="classifiers were given a continuous target"):
        _task.infer_task(pd.Series([0.5, 1.5, 2.25]), model=LogisticRegression())


def test_every_caller_uses_the_one_task_rule():
    from mllife.baselines import _baseline
    from mllife.evaluation import _inputs

    assert mllife.problem.TASKS == _baseline.TASKS == _task.TASKS
    y = pd.Series([3, 1, 2, 3, 1, 2])
    for model in (None, Ridge(), LogisticRegression()):
        assert _inputs.infer_task(model, y) == _task.infer_task(y, model=model)
    assert mllife.baseline(" Binary ").__class__.__name__ == "DummyClassifier"


def _metric_name_tables() -> list[tuple[str, int, list[str]]]:
    """Literal tuples, lists, sets and dict keys holding 3+ metric names, outside _metrics.py."""
    names = set(_metrics.METRICS) | set(_metrics.ALIASES)
    found = []
    src = Path(mllife.__file__).parent
    for path in sorted(src.rglob("*.py")):
        if path.name == "_metrics.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [k for k in node.keys if k is not None]
            else:
                continue
            hits = [e.value for e in items
                    if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in names]
            if len(hits) >= 3:
                found.append((str(path.relative_to(src)), node.lineno, hits))
    return found


#: Literals that hold metric names without being a metric vocabulary: column labels of
#: tables, and scikit-learn's own scorer families (its names, not mllife's).
NOT_VOCABULARIES = {
    "evaluation/_curves.py": "the columns of the threshold table",
    "evaluation/_fairness.py": "the column names a fairness table reserves",
    "experiments/_scoring.py": "scikit-learn's regression and binary-only scorer families",
}


def test_no_second_table_of_metric_names():
    tables = [t for t in _metric_name_tables() if t[0].replace("\\", "/") not in NOT_VOCABULARIES]
    assert tables == [], "metric names belong in mllife/_metrics.py"
