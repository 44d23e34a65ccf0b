"""Train/test gap, leakage red flags, baseline lift and metric by time period.

The red flags are tests, not comparisons of two numbers: the train score is
compared with a confidence interval of the test score (see :func:`red_flags`),
so a small test set does not turn noise into "overfitting" or "leakage".
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .. import _metrics
from .._errors import InputError
from .._random import as_generator
from ..report import Finding
from ._inputs import Predictions, predict
from ._periods import MIN_PERIOD_ROWS, period_freq, time_periods  # noqa: F401 (re-exported)
from ._slices import wilson_interval

_Z95 = 1.959963984540054

#: Metrics where lower is better (lift is baseline minus model for these).
LOSSES = frozenset(name for name, m in _metrics.METRICS.items() if not m.higher_is_better)

#: The primary score may fall this much from train to test before overfitting is flagged
#: (the upper bound of the test score's interval must be lower still).
OVERFIT_GAP = 0.05
#: Test may beat train by this much before it is called suspicious (the lower bound of
#: the interval of test minus train must be higher still).
TEST_ABOVE_TRAIN = 0.02
#: A headline score whose interval lies at or above this is suspiciously perfect.
PERFECT = 0.99
#: Two-sided confidence of the intervals behind the red flags: each flag is a one-sided
#: test at level (1 - CONFIDENCE) / 2 = 2.5%.
CONFIDENCE = 0.95
#: Training rows scored for the train/test gap (a seeded sample beyond this).
MAX_TRAIN_ROWS = 50_000
#: Seeded reassignments of rows behind the permutation test of ``test_above_train`` (R²).
N_PERMUTATIONS = 999
#: Recent periods must be worse at this one-sided significance level (exact for error rates)...
RECENT_ALPHA = 0.01
#: ... and by at least this share of the earlier loss, to be flagged.
RECENT_MIN_INCREASE = 0.10


def compute_metrics(pred: Predictions) -> tuple[dict[str, float], dict[str, str]]:
    """``(metrics, undefined)``: every metric of the task, from :mod:`mllife._metrics`."""
    return _metrics.task_scores(pred.task, pred.y_true, pred.y_pred, classes=pred.classes,
                                proba=pred.proba, score=pred.score, decision=pred.decision,
                                positive_label=pred.positive_label)


def primary_metric(task: str, metrics: dict[str, float]) -> str:
    """The headline score: ROC-AUC (binary, when defined), accuracy, or R²."""
    if task == "regression":
        return "r2"
    if task == "binary" and np.isfinite(metrics.get("roc_auc", np.nan)):
        return "roc_auc"
    return "accuracy"


def signed_gap(metric: str, better: float, worse: float) -> float:
    """``better - worse`` in the metric's "higher is better" direction."""
    return (worse - better) if metric in LOSSES else (better - worse)


def train_test_gap(model: Any, X_train: pd.DataFrame, y_train: pd.Series, test: Predictions,
                   test_metrics: dict[str, float], *, random_state: Any = None
                   ) -> tuple[Predictions, dict[str, float], pd.DataFrame, str]:
    """Train predictions and metrics (on at most :data:`MAX_TRAIN_ROWS` rows), the gap table, a note.

    Beyond :data:`MAX_TRAIN_ROWS` rows the sample is drawn with ``random_state``
    (``None`` is seed 0).
    """
    note = ""
    if len(X_train) > MAX_TRAIN_ROWS:
        rng = as_generator(random_state)
        take = np.sort(rng.choice(len(X_train), MAX_TRAIN_ROWS, replace=False))
        X_train, y_train = X_train.iloc[take], y_train.iloc[take]
        note = f"Train metrics on a seeded sample of {MAX_TRAIN_ROWS:,} training rows."
    train = predict(model, X_train, y_train, task=test.task, positive_label=test.positive_label)
    train_metrics, _ = compute_metrics(train)
    rows = []
    for m, test_value in test_metrics.items():
        tr = train_metrics.get(m, np.nan)
        rows.append({"metric": m, "train": tr, "test": test_value,
                     "gap": signed_gap(m, tr, test_value)})
    return train, train_metrics, pd.DataFrame(rows), note


# ---- intervals of the primary score -------------------------------------------------


def _z(confidence: float) -> float:
    return _Z95 if confidence == 0.95 else float(stats.norm.ppf(0.5 + confidence / 2))


def auc_interval(auc: float, n_pos: int, n_neg: int, *, confidence: float = CONFIDENCE
                 ) -> tuple[float, float]:
    """Newcombe's score interval of a ROC-AUC from ``n_pos`` positives and ``n_neg`` negatives.

    Method 5 of Newcombe (2006, *Statistics in Medicine* 25:559): the
    Hanley–McNeil variance with Q1, Q2 of the exponential model and both
    group sizes replaced by their mean ``N``,
    ``V(t) = t(1 - t) / (n_pos n_neg) * ((2N - 1) - (3N - 3) / ((2 - t)(1 + t)))``,
    inverted like Wilson's interval: every ``t`` with ``(auc - t)² <= z² V(t)``.
    Unlike a Wald interval it stays inside [0, 1] and does not collapse to a
    point at an AUC of exactly 1 (1.0 on 50 + 50 rows gives [0.96, 1]).

    Examples
    --------
    >>> low, high = auc_interval(0.8, 50, 50)
    >>> round(low, 3), round(high, 3)
    (0.697, 0.871)
    >>> round(auc_interval(1.0, 50, 50)[0], 3)
    0.96
    """
    if n_pos < 1 or n_neg < 1 or not np.isfinite(auc):
        return np.nan, np.nan
    z2 = _z(confidence) ** 2
    # 2N - 1 and 3N - 3 with N the mean group size.
    auc, a, b = float(auc), n_pos + n_neg - 1.0, 1.5 * (n_pos + n_neg) - 3.0
    pairs = float(n_pos) * float(n_neg)

    def inside(t: float) -> bool:
        var = t * (1 - t) / pairs * (a - b / ((2 - t) * (1 + t)))
        return (auc - t) ** 2 <= z2 * var

    def end(outer: float) -> float:
        """Bisection from the estimate (always inside) towards ``outer`` (plain floats: fast)."""
        if inside(outer):
            return outer
        inner = auc
        for _ in range(60):
            mid = (inner + outer) / 2
            if inside(mid):
                inner = mid
            else:
                outer = mid
        return inner

    return end(0.0), end(1.0)


def r2_interval(y_true: np.ndarray, y_pred: np.ndarray, *, confidence: float = CONFIDENCE
                ) -> tuple[float, float]:
    """Delta-method interval of the R² of ``y_pred`` on new data, on the scale of ``log(1 - R²)``.

    The target is ``1 - E[(y - ŷ)²] / Var(y)``. With ``e`` the squared errors
    and ``d`` the squared deviations from the mean of ``y_true``, its
    estimate ``log(mean(e) / (mean(d) n / (n - 1)))`` has the delta-method
    variance ``var(e / mean(e) - d / mean(d)) / n``; the interval uses
    Student's t with ``n - 1`` degrees of freedom there and is mapped back,
    so it never goes above 1. (The plain normal interval around scikit-learn's
    R², whose variance divides by ``n``, missed the true value above its
    upper end in 3.5% of 100-row Gaussian samples instead of 2.5%; this one in
    2.6-2.9%.)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> y = x + rng.normal(size=400)
    >>> low, high = r2_interval(y, x)
    >>> round(low, 2), round(high, 2)
    (0.47, 0.59)
    """
    y = np.asarray(y_true, dtype=float)
    e = (y - np.asarray(y_pred, dtype=float)) ** 2
    d = (y - y.mean()) ** 2 if len(y) else y
    n = len(y)
    mean_e, mean_d = (float(e.mean()), float(d.mean())) if n else (np.nan, np.nan)
    if n < 2 or not mean_d > 0:
        return np.nan, np.nan
    if mean_e == 0:
        return 1.0, 1.0
    sd = float(np.std(e / mean_e - d / mean_d, ddof=1)) / np.sqrt(n)
    centre = np.log(mean_e / mean_d * (n - 1) / n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd
    return float(1 - np.exp(centre + half)), float(1 - np.exp(centre - half))


def clopper_pearson(k: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of ``k`` successes out of ``n``.

    Each end misses with probability at most ``(1 - confidence) / 2`` for every
    true rate, which Wilson's interval does not promise: on 100 rows its upper
    end misses 2.9% of the time on average over rates 0.5-0.99, up to 7.9%.

    Examples
    --------
    >>> low, high = clopper_pearson(70, 100)
    >>> round(low, 4), round(high, 4)
    (0.6002, 0.7876)
    >>> clopper_pearson(100, 100)[1]
    1.0
    """
    if n < 1:
        return np.nan, np.nan
    tail = (1 - confidence) / 2
    low = float(stats.beta.ppf(tail, k, n - k + 1)) if k > 0 else 0.0
    high = float(stats.beta.ppf(1 - tail, k + 1, n - k)) if k < n else 1.0
    return low, high


class ScoreInterval(NamedTuple):
    """The primary score of one set of predictions with its confidence interval."""

    metric: str
    value: float
    low: float
    high: float
    n: int
    method: str


def score_interval(pred: Predictions, metric: str, value: float, *,
                   confidence: float = CONFIDENCE) -> ScoreInterval:
    """The interval of ``value``, the primary ``metric`` of ``pred`` (see :func:`primary_metric`).

    ROC-AUC: :func:`auc_interval` (Newcombe's score interval); accuracy:
    :func:`clopper_pearson` of the correct rows; R²: :func:`r2_interval`. Other
    metrics, and undefined values, get a NaN interval.
    """
    n = len(pred.y_true)
    low = high = np.nan
    method = ""
    if np.isfinite(value) and n:
        if metric == "roc_auc":
            n_pos = int(np.sum(pred.y_true == pred.positive_label))
            low, high = auc_interval(value, n_pos, n - n_pos, confidence=confidence)
            method = "Newcombe score interval (2006, method 5)"
        elif metric == "accuracy":
            low, high = clopper_pearson(int(np.sum(pred.correct)), n, confidence=confidence)
            method = "Clopper-Pearson exact interval"
        elif metric == "r2":
            low, high = r2_interval(pred.y_true, pred.y_pred, confidence=confidence)
            method = "delta method on log(1 - R²), Student's t"
    return ScoreInterval(metric, float(value), float(low), float(high), n, method)


def difference_interval(test: ScoreInterval, train: ScoreInterval) -> tuple[float, float]:
    """Interval of ``test - train`` from the two intervals (MOVER, Newcombe's hybrid score method).

    Zou & Donner (2008): ``d - sqrt((s - l_s)² + (u_t - t)²)`` for the lower end,
    ``d + sqrt((u_s - s)² + (t - l_t)²)`` for the upper, with ``s, t`` the
    two scores and ``d = s - t`` (for two proportions with Wilson intervals
    this is Newcombe's (1998) method 10). The two samples are independent rows.
    """
    d = test.value - train.value
    low = d - np.hypot(test.value - test.low, train.high - train.value)
    high = d + np.hypot(test.high - test.value, train.value - train.low)
    return float(low), float(high)


def r2_permutation_p_value(y_test: np.ndarray, pred_test: np.ndarray, y_train: np.ndarray,
                           pred_train: np.ndarray, *, n_resamples: int | None = None,
                           random_state: Any = None) -> float:
    """One-sided permutation p-value of "the test R² exceeds the train R² by chance".

    The statistic is ``R²(test rows) - R²(train rows)``, each ``1 - SSE / SST``
    of its own rows. Under the null that test rows are like train rows, the
    rows (their target and prediction) are exchangeable between the two sets,
    so the p-value is ``(1 + exceedances) / (1 + resamples)`` over random
    reassignments of the pooled rows drawn with ``random_state`` (``None`` is
    seed 0), a valid p-value for any error
    distribution. It is conservative for a fitted model, whose training errors
    are in-sample and so smaller. Each resample draws only the smaller set (one
    loop per resample, none per row).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=300)
    >>> noisy, exact = y + rng.normal(size=300), y + 0.1 * rng.normal(size=300)
    >>> r2_permutation_p_value(y[:100], exact[:100], y[100:], noisy[100:])
    0.001
    >>> r2_permutation_p_value(y[:100], noisy[:100], y[100:], noisy[100:]) > 0.05
    True
    """
    y = np.concatenate([np.asarray(y_test, dtype=float), np.asarray(y_train, dtype=float)])
    e2 = (y - np.concatenate([np.asarray(pred_test, dtype=float),
                              np.asarray(pred_train, dtype=float)])) ** 2
    n_test, n = len(y_test), len(y)
    if n_test < 2 or n - n_test < 2:
        return 1.0
    centre = float(y.mean())   # shifts y: the sums of squares keep their precision
    y = y - centre
    totals = np.array([e2.sum(), y.sum(), (y * y).sum()])
    k = min(n_test, n - n_test)   # draw the smaller set

    def gap(sums: np.ndarray) -> np.ndarray:
        """R²(test) - R²(train) from the drawn set's sums of e², y and y² (rows of ``sums``)."""
        drawn = sums if k == n_test else totals - sums
        rest = totals - drawn

        def r2(part: np.ndarray, m: int) -> np.ndarray:
            sst = part[..., 2] - part[..., 1] ** 2 / m
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(sst > 0, 1.0 - part[..., 0] / sst, np.nan)

        return r2(drawn, n_test) - r2(rest, n - n_test)

    first = np.arange(n_test) if k == n_test else np.arange(n_test, n)
    observed = float(gap(np.array([e2[first].sum(), y[first].sum(), (y[first] ** 2).sum()])))
    if not np.isfinite(observed):
        return 1.0
    resamples = N_PERMUTATIONS if n_resamples is None else n_resamples
    rng = as_generator(random_state)
    sums = np.empty((resamples, 3))
    for b in range(resamples):   # one draw per resample, not per row
        take = rng.choice(n, size=k, replace=False)
        sums[b] = e2[take].sum(), y[take].sum(), (y[take] ** 2).sum()
    null = gap(sums)
    extreme = int(np.count_nonzero(null >= observed - 1e-12 * max(abs(observed), 1.0)))
    return (1 + extreme) / (1 + resamples)


class RedFlags(NamedTuple):
    """What :func:`red_flags` found."""

    findings: list[Finding]
    #: ``None`` without training data (or when the interval is undefined).
    overfitting: bool | None
    #: The numbers behind the flags (``EvaluationReport.red_flag_test``), None when undefined.
    details: dict[str, Any] | None


def red_flags(test: Predictions, metrics: dict[str, float], train: Predictions | None,
              train_metrics: dict[str, float] | None,
              baseline_metrics: dict[str, float] | None, *, random_state: Any = None) -> RedFlags:
    """Overfitting and leakage findings, each a one-sided test at level 2.5%.

    ``s`` is the test score of the primary metric (:func:`primary_metric`)
    with its 95% interval ``[l, u]`` (:func:`score_interval`), ``t`` the train
    score.

    * ``overfitting`` when ``t - u > OVERFIT_GAP``: even the upper bound of
      the test score is more than :data:`OVERFIT_GAP` below train. It tests
      "the model scores at least ``t - OVERFIT_GAP`` on new data"; the train
      score is what this fitted model got on its own rows, a fixed number.
    * ``test_above_train`` when the lower bound of the 95% interval of
      ``s - t`` (:func:`difference_interval`, both scores' sampling error)
      is above :data:`TEST_ABOVE_TRAIN`. It tests "test rows are no easier
      than train rows": under it, the in-sample train score is on average at
      least the test score. For R², whose interval assumes light-tailed
      errors, the rows must also pass :func:`r2_permutation_p_value` at
      2.5% (with lognormal errors the interval alone fired in 9.5% of
      100-row test sets), its reassignments drawn with ``random_state``.
    * ``suspiciously_perfect`` (warning) when ``l >= PERFECT``: the test data
      show the score is near-perfect, not just lucky (it tests "the true score
      is below :data:`PERFECT`"). A score at or above :data:`PERFECT` whose
      interval reaches below is an ``info`` finding of the same name. Skipped
      when the baseline itself scores :data:`PERFECT`.

    The two gap flags cannot both fire; with a correctly specified model each
    fires in at most 2.5% of test sets (``tests/calibration/test_evaluation.py``).
    """
    findings: list[Finding] = []
    primary = primary_metric(test.task, metrics)
    value = float(metrics.get(primary, np.nan))
    if not np.isfinite(value):
        return RedFlags(findings, None, None)
    ci = score_interval(test, primary, value)
    level = round((1 - CONFIDENCE) / 2, 12)
    details: dict[str, Any] = {
        "metric": primary, "method": ci.method, "confidence": CONFIDENCE, "level": level,
        "n_test": ci.n, "test": value, "test_ci_low": ci.low, "test_ci_high": ci.high,
    }
    shown = f"95% CI {ci.low:.4f}–{ci.high:.4f}"
    trivial = baseline_metrics is not None and baseline_metrics.get(primary, 0.0) >= PERFECT
    if value >= PERFECT and not trivial:
        if ci.low >= PERFECT:
            findings.append(Finding(
                "suspiciously_perfect", "warning", message=(
                    f"test {primary} is {value:.4f} ({shown}: at least {PERFECT} with 97.5% "
                    "confidence): near-perfect scores usually mean target leakage (a feature "
                    "recorded after the outcome, duplicates across train and test)"),
                threshold=PERFECT, n_rows=ci.n, details={"ci_low": ci.low, "ci_high": ci.high},
                suggestion="Run mllife.check_leakage(train, test, target=...) and look at the top SHAP features.",
            ))
        elif np.isfinite(ci.low):
            findings.append(Finding(
                "suspiciously_perfect", "info", message=(
                    f"test {primary} is {value:.4f}, near-perfect, but on {ci.n} rows its "
                    f"{shown} reaches below {PERFECT}: too few rows to call it leakage"),
                threshold=PERFECT, n_rows=ci.n, details={"ci_low": ci.low, "ci_high": ci.high},
                suggestion="If the task is not known to be this easy, run mllife.check_leakage.",
            ))
    if train is None or train_metrics is None:
        return RedFlags(findings, None, details)
    tr = float(train_metrics.get(primary, np.nan))
    if test.is_classification and len(np.unique(test.y_true)) < 2:
        # Accuracy on a test set of one class measures that class only: comparing it with
        # the train accuracy over every class says nothing about overfitting.
        details["gap_skipped"] = "the test set holds one class"
        return RedFlags(findings, None, details)
    if not (np.isfinite(tr) and np.isfinite(ci.low) and np.isfinite(ci.high)):
        return RedFlags(findings, None, details)
    train_ci = score_interval(train, primary, tr)
    diff_low, diff_high = difference_interval(ci, train_ci)
    if not np.isfinite(diff_low):  # an undefined train interval: judge train as a fixed number
        diff_low, diff_high = ci.low - tr, ci.high - tr
    overfit = bool(tr - ci.high > OVERFIT_GAP)
    above = bool(diff_low > TEST_ABOVE_TRAIN)
    permutation_p = None
    if above and primary == "r2":
        # The delta-method intervals assume light tails: with skewed errors a small test set
        # usually misses the rare large errors and looks better than train (9.5% false
        # alarms at 100 lognormal test rows). The rows must also pass a permutation test.
        permutation_p = r2_permutation_p_value(test.y_true, test.y_pred, train.y_true,
                                               train.y_pred, random_state=random_state)
        above = permutation_p < level
    details.update({"n_train": train_ci.n, "train": tr, "train_ci_low": train_ci.low,
                    "train_ci_high": train_ci.high, "difference_ci_low": diff_low,
                    "difference_ci_high": diff_high, "overfitting": overfit,
                    "test_above_train": above, "permutation_p_value": permutation_p})
    if overfit:
        findings.append(Finding(
            "overfitting", "warning", message=(
                f"{primary} falls from {tr:.4f} on train to {value:.4f} on test ({shown}): "
                f"even the upper bound is {tr - ci.high:.4f} below train, more than {OVERFIT_GAP}"),
            threshold=OVERFIT_GAP, details={"ci_low": ci.low, "ci_high": ci.high, "train": tr},
            suggestion="Regularise, simplify the model or add data; compare with cross-validation.",
        ))
    if above:
        permuted = ("" if permutation_p is None else
                    f"; permutation p = {permutation_p:.2g} ({N_PERMUTATIONS} seeded reassignments "
                    "of the rows to test and train)")
        findings.append(Finding(
            "test_above_train", "warning", message=(
                f"{primary} is higher on test ({value:.4f}) than on train ({tr:.4f}): test minus "
                f"train is {value - tr:.4f} (95% CI {diff_low:.4f} to {diff_high:.4f}), above "
                f"{TEST_ABOVE_TRAIN} even at its lower bound{permuted}; test rows may be easier, "
                "duplicated from train, or leaked"),
            threshold=TEST_ABOVE_TRAIN,
            details={"difference_ci_low": diff_low, "difference_ci_high": diff_high,
                     **({} if permutation_p is None else {"permutation_p_value": permutation_p})},
            suggestion="Check how the split was made (mllife.split, mllife.check_leakage).",
        ))
    return RedFlags(findings, overfit, details)


def fit_baseline(baseline: Any, task: str, X_train: pd.DataFrame | None, y_train: pd.Series | None,
                 X_test: pd.DataFrame, y_test: pd.Series) -> tuple[Any, str, list[str]]:
    """The fitted baseline estimator, its name and notes (``(None, "", [])`` when skipped)."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier, DummyRegressor

    notes: list[str] = []
    if baseline is None:
        return None, "", notes
    X_fit, y_fit = (X_train, y_train) if X_train is not None and y_train is not None else (X_test, y_test)
    on_test = X_train is None or y_train is None
    dummy = DummyRegressor(strategy="mean") if task == "regression" else DummyClassifier(strategy="prior")
    if isinstance(baseline, str):
        if baseline != "auto":
            raise InputError(f"baseline={baseline!r} is not known",
                             expected="'auto', None or a scikit-learn estimator")
        estimator: Any = dummy
        if not on_test:
            try:
                from ..baselines import baseline as make_baseline

                estimator = make_baseline(task)
            except (ImportError, AttributeError, TypeError, ValueError):
                estimator = dummy
        else:
            notes.append("No training data given: the baseline is a Dummy fitted on y_test "
                         "(the test class prior or mean), which flatters the baseline slightly.")
    else:
        estimator = baseline
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(estimator)
            return estimator, type(estimator).__name__, notes
        except (NotFittedError, TypeError):  # unfitted, or not an estimator: handled below
            pass
        if on_test:
            notes.append("No training data given: the baseline was fitted on the test set.")
    try:
        fitted = clone(estimator).fit(X_fit, y_fit)
    except Exception as exc:
        if estimator is dummy:
            raise
        notes.append(f"Baseline {type(estimator).__name__} failed to fit ({type(exc).__name__}); "
                     "used a Dummy baseline instead.")
        fitted = clone(dummy).fit(X_fit, y_fit)
    return fitted, type(fitted).__name__, notes


def lift(metrics: dict[str, float], baseline_metrics: dict[str, float]) -> dict[str, float]:
    """Model minus baseline per metric, signed so that positive is better."""
    out = {}
    for m, v in metrics.items():
        b = baseline_metrics.get(m, np.nan)
        if np.isfinite(v) and np.isfinite(b):
            out[m] = float(signed_gap(m, v, b))
    return out


def by_period(pred: Predictions, time: pd.Series) -> tuple[pd.DataFrame, Finding | None, dict[str, Any]]:
    """The loss per period with its 95% CI, and a finding when recent periods are worse.

    Recent = the last quarter of the periods (at least one). They are flagged
    when their pooled loss is higher than that of the earlier periods in a
    one-sided test (Fisher's exact test for the error rate, Welch's t-test
    for absolute errors) at level :data:`RECENT_ALPHA` *and* by at least
    :data:`RECENT_MIN_INCREASE` of the earlier loss.
    """
    from sklearn.metrics import roc_auc_score

    valid = time.notna().to_numpy()
    codes, labels, starts, freq = time_periods(time[valid])
    loss = pred.loss[valid]
    k = len(labels)
    n = np.bincount(codes, minlength=k)
    total = np.bincount(codes, loss, k)
    value = total / np.maximum(n, 1)
    rate = pred.is_classification
    name = "error_rate" if rate else "mae"
    table = pd.DataFrame({"period": labels, "start": starts, "n": n,
                          name: value})
    if rate:
        low, high = wilson_interval(total, n)
    else:
        sq = np.bincount(codes, loss * loss, k)
        var = np.maximum(sq / np.maximum(n, 1) - value**2, 0) * n / np.maximum(n - 1, 1)
        half = 1.959963984540054 * np.sqrt(var / np.maximum(n, 1))
        low, high = value - half, value + half
    table["ci_low"], table["ci_high"] = low, high
    if pred.task == "binary" and pred.score is not None:
        truth = (pred.y_true == pred.positive_label)[valid]
        score = pred.score[valid]
        aucs = np.full(k, np.nan)
        for i in range(k):  # one call per period (not per row)
            mask = codes == i
            t = truth[mask]
            if t.any() and not t.all():
                aucs[i] = roc_auc_score(t, score[mask])
        table["roc_auc"] = aucs
    info: dict[str, Any] = {"freq": freq, **recent_test(loss, codes, k, rate=rate)}
    worse = bool(info["recent_worse"])
    n_recent = info["recent_periods"]
    recent = codes >= k - n_recent
    finding = None
    if worse:
        finding = Finding(
            "recent_periods_worse", "warning", column=str(time.name) if time.name is not None else None,
            message=(f"{name} in the last {n_recent} period(s) ({info['recent']:.4f}) is higher "
                     f"than before ({info['earlier']:.4f}); one-sided p = {info['p_value']:.2g}"),
            n_rows=int(recent.sum()), share=float(recent.mean()), threshold=RECENT_ALPHA,
            suggestion="The data may be drifting: compare recent and training data with mllife.drift_report.",
        )
    return table, finding, info


def recent_test(loss: np.ndarray, codes: np.ndarray, k: int, *, rate: bool) -> dict[str, Any]:
    """Is the loss of the last quarter of ``k`` periods (codes in time order) higher than before?

    One-sided: Fisher's exact test of the errors when ``rate`` (given all the
    errors, are too many of them recent? The pooled z-test it replaces called
    2-3% of stationary models worse at a 1% level when errors are rare or
    periods small), else Welch's t-test of the absolute errors. Worse when
    ``p < RECENT_ALPHA`` and the recent loss is at least
    ``1 + RECENT_MIN_INCREASE`` times the earlier one. Fewer than 3 periods,
    or fewer than 2 rows on a side, are not judged (``recent_worse`` None).

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.repeat(np.arange(4), 50)
    >>> loss = np.r_[np.zeros(150), np.ones(10), np.zeros(40)]
    >>> out = recent_test(loss, codes, 4, rate=True)
    >>> out["recent_periods"], out["recent_worse"], f"{out['p_value']:.2g}"
    (1, True, '4.6e-07')
    """
    out: dict[str, Any] = {"recent_periods": 0, "p_value": None, "recent_worse": None}
    if k < 3:
        return out
    n_recent = max(1, round(0.25 * k))
    recent = codes >= k - n_recent
    out["recent_periods"] = n_recent
    a, b = loss[recent], loss[~recent]
    if len(a) < 2 or len(b) < 2:
        return out
    p1, p2 = float(a.mean()), float(b.mean())
    if rate:
        errors = round(float(a.sum()))
        p_value = float(stats.hypergeom.sf(errors - 1, len(a) + len(b),
                                           errors + round(float(b.sum())), len(a)))
    else:
        res = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
        p_value = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
    worse = bool(p_value < RECENT_ALPHA and p1 > p2 * (1 + RECENT_MIN_INCREASE))
    out.update({"p_value": p_value, "recent_worse": worse, "recent": p1, "earlier": p2})
    return out
