"""``RuleClassifier`` and ``RuleRegressor``: "could we just use some if-statements?"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets

from .._compat import ensure_fitted
from .._errors import InputError
from ._rule_language import CompiledRule, evaluate_rule, parse_rule
from ._validation import check_frame, check_target

Rules = Sequence[tuple[str, Any]] | Callable[[pd.DataFrame], Any]

_RULES_EXPECTED = (
    "a list of (rule string, output) pairs, or a callable taking the "
    "DataFrame and returning one output per row"
)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _check_rules(rules: Any) -> list[tuple[CompiledRule, Any]] | Callable[[pd.DataFrame], Any]:
    """The rules as a list of (parsed rule, output) pairs (or the callable), or an InputError.

    Every rule string is parsed into the closed rule language, at fit and again at
    predict, so rules changed after fit (e.g. in a stored model) are checked before
    any of them is evaluated.
    """
    if callable(rules):
        return rules
    if isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
        raise InputError(f"rules is a {type(rules).__name__}", expected=_RULES_EXPECTED)
    pairs: list[tuple[str, Any]] = []
    for i, rule in enumerate(rules):
        if not (isinstance(rule, Sequence) and not isinstance(rule, str) and len(rule) == 2):
            raise InputError(f"rule {i} is {rule!r}", expected="a (rule string, output) pair")
        text, output = rule
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"rule {i} has the rule {text!r}", expected="a rule string such as 'age < 18'")
        if np.ndim(output) != 0 or _is_missing(output):
            raise InputError(f"rule {i} {text!r} has the output {output!r}", expected="one value")
        pairs.append((text, output))
    # Parse only once every pair is well formed: a malformed list fails on its shape first.
    return [(parse_rule(text, index=i), output) for i, (text, output) in enumerate(pairs)]


class _RuleModel(BaseEstimator):
    """Shared fit/predict logic: first matching rule wins, else the default."""

    _numeric_target = False

    def __init__(self, rules: Rules = (), default: Any = None) -> None:
        self.rules = rules
        self.default = default

    # ---- subclass hooks ------------------------------------------------------
    def _learn_default(self, y: np.ndarray) -> Any:
        raise NotImplementedError

    def _learn_outputs(self, y: np.ndarray, outputs: list[Any]) -> None:
        """Learn the output space (``classes_``) from y and the rule outputs."""

    def _codes(self, values: np.ndarray, where: str) -> np.ndarray:
        raise NotImplementedError

    # ---- the estimator ---------------------------------------------------------
    def fit(self, X: Any, y: Any) -> _RuleModel:
        """Check the rules on ``X`` and learn the output space from ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Arrays get the column names ``x0, x1, ...`` that rules can use.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self

        Raises
        ------
        InputError
            A rule that is not a valid rule on ``X`` (its number and text are in
            the message): outside the rule language, naming a column ``X`` does
            not have, or comparing types that do not compare; or malformed rules.
        """
        frame = check_frame(self, X, reset=True)
        target = check_target(y, len(frame), numeric=self._numeric_target)
        if not self._numeric_target:
            check_classification_targets(target)
        rules = _check_rules(self.rules)
        if callable(rules):
            values = self._call(rules, frame)
            present = values[~pd.isna(values)]
            outputs = list(pd.unique(present)) if present.size else []
        else:
            outputs = [output for _, output in rules]
        self.default_ = self._learn_default(target) if _is_missing(self.default) else self.default
        self._learn_outputs(target, [*outputs, self.default_])
        _, counts = self._apply(frame, rules)
        labels = ["callable"] if callable(rules) else [rule.text for rule, _ in rules]
        # Plain lists, not a Series: a fitted model must serialise with skops (bundles).
        self._coverage = ([*labels, "default"], [int(c) for c in counts])
        return self

    @property
    def coverage_(self) -> pd.Series:
        """Training rows taken by each rule and by the default (after :meth:`fit`)."""
        if "_coverage" not in vars(self):
            raise AttributeError("coverage_ is set by fit")
        labels, counts = self._coverage
        return pd.Series(counts, index=labels, name="training rows", dtype="int64")

    @staticmethod
    def _call(rules: Callable[[pd.DataFrame], Any], frame: pd.DataFrame) -> np.ndarray:
        try:
            values = rules(frame)
        except Exception as exc:
            raise InputError(
                f"the rules callable failed: {type(exc).__name__}: {exc}",
                expected="a callable taking the DataFrame and returning one output per row",
            ) from exc
        values = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
        if values.ndim != 1 or values.shape[0] != len(frame):
            raise InputError(
                f"the rules callable returned shape {values.shape} for {len(frame)} rows",
                expected="one output per row",
            )
        return values

    def _apply(
        self, frame: pd.DataFrame, rules: list[tuple[CompiledRule, Any]] | Callable[[pd.DataFrame], Any]
    ) -> tuple[np.ndarray, list[int]]:
        """Output codes per row and how many rows each rule (then the default) took."""
        n = len(frame)
        default_code = self._codes(np.array([self.default_], dtype=object), "default")[0]
        if callable(rules):
            values = self._call(rules, frame)
            missing = np.asarray(pd.isna(values), dtype=bool)
            codes = np.full(n, default_code)
            codes[~missing] = self._codes(values[~missing], "the rules callable")
            return codes, [int((~missing).sum()), int(missing.sum())]
        codes = np.full(n, default_code)
        taken = np.zeros(n, dtype=bool)
        counts = []
        for rule, output in rules:
            hit = evaluate_rule(rule, frame) & ~taken
            codes[hit] = self._codes(np.array([output], dtype=object), rule.label)[0]
            taken |= hit
            counts.append(int(hit.sum()))
        counts.append(int(n - taken.sum()))
        return codes, counts

    def _predict_codes(self, X: Any) -> np.ndarray:
        ensure_fitted(self)
        frame = check_frame(self, X, reset=False)
        return self._apply(frame, _check_rules(self.rules))[0]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a comparison with NaN does not hold: the default applies
        tags.input_tags.string = True  # rules compare strings as well as numbers
        return tags


class RuleClassifier(ClassifierMixin, _RuleModel):
    """A classifier written as if-statements: the first matching rule gives the label.

    Parameters
    ----------
    rules : list of (str, label) pairs or callable, default=()
        Pairs of a rule and the label for the rows where it holds; rules are
        tried in order and the first one that holds wins. A rule is written in
        a small closed language that is parsed, never run as code: column
        names (in backticks if they hold spaces: `` `monthly charges` ``), numbers, ``'text'``,
        ``True``/``False``/``None``, comparisons (chained too), ``and``/``or``/
        ``not``, arithmetic, ``x in [literal, ...]`` and the helpers ``isna``,
        ``notna``, ``abs``, ``lower``, ``upper``, ``strip``, ``len``; for example
        ``"`monthly charges` > 70 and contract in ['month-to-month', 'weekly']"``
        or ``"isna(age) or age < 18"``. A comparison with a missing value is
        unknown, and a rule that is unknown on a row does not hold there (see
        ``docs/baselines.md``, "The rule language"). Or a callable taking the
        DataFrame and returning one label per row, missing (``None``/NaN)
        meaning "no rule". Numpy input has the column names ``x0, x1, ...``.
    default : label, default=None
        The label of rows no rule takes; ``None`` means the most frequent
        label of ``y`` (ties: the smallest).

    Attributes
    ----------
    classes_ : ndarray
        The sorted labels of ``y``, the rule outputs and the default.
    default_ : label
        The default in use.
    coverage_ : pandas.Series
        Training rows taken by each rule and by the default.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"tenure": [1, 30, 3, 50], "plan": ["a", "b", "b", "a"]})
    >>> y = [1, 0, 1, 0]
    >>> clf = RuleClassifier([("tenure < 6 and plan == 'b'", 1), ("tenure < 6", 1)], default=0)
    >>> clf.fit(X, y).predict(X)
    array([1, 0, 1, 0])
    >>> clf.predict_proba(X)[:2]
    array([[0., 1.],
           [1., 0.]])
    >>> clf.coverage_.tolist()
    [1, 1, 2]

    Names with spaces go in backticks; a missing value never satisfies a
    comparison, ``isna`` tests for it:

    >>> import numpy as np
    >>> X = pd.DataFrame({"monthly charges": [90.0, 20.0, np.nan], "age": [30, np.nan, 15]})
    >>> rules = [("`monthly charges` > 70", "high"), ("isna(age) or age < 18", "check")]
    >>> RuleClassifier(rules, default="ok").fit(X, ["ok"] * 3).predict(X).tolist()
    ['high', 'check', 'check']

    Rules are parsed, never executed: anything outside the rule language fails
    at ``fit`` (and again at ``predict`` if the rules were changed since):

    >>> RuleClassifier([("age.__class__ > 1", 1)], default=0).fit(X, [0, 1, 0])
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: rule 0 'age.__class__ > 1' uses attribute access 'age.__class__', which the rule language does not allow; ...
    """

    def _learn_default(self, y: np.ndarray) -> Any:
        labels, counts = np.unique(y, return_counts=True)
        return labels[np.argmax(counts)]

    def _learn_outputs(self, y: np.ndarray, outputs: list[Any]) -> None:
        labels = np.concatenate([np.unique(y).astype(object), np.asarray(outputs, dtype=object)])
        try:
            # As objects, so that 1 and "1" stay apart: mixed types fail to sort.
            classes = np.unique(labels)
        except TypeError as exc:
            raise InputError(
                f"the rule outputs {outputs!r} and the labels of y cannot be sorted together",
                expected="rule outputs and default of the same type as the labels of y",
            ) from exc
        self.classes_ = np.array(classes.tolist()) if y.dtype != object else classes

    def _codes(self, values: np.ndarray, where: str) -> np.ndarray:
        codes = pd.Index(self.classes_).get_indexer(pd.Index(values))
        if (codes < 0).any():
            unknown = pd.unique(values[codes < 0])[:5]
            raise InputError(
                f"{where} gave labels {list(unknown)!r} that were not seen at fit",
                n_rows=int((codes < 0).sum()),
                expected=f"labels among {list(self.classes_)!r}",
            )
        return codes

    def predict(self, X: Any) -> np.ndarray:
        """The label of the first rule that holds on each row, else the default.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        codes = self._predict_codes(X)
        return np.asarray(self.classes_[codes])

    def predict_proba(self, X: Any) -> np.ndarray:
        """One-hot probabilities of :meth:`predict` over ``classes_``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        codes = self._predict_codes(X)
        proba = np.zeros((codes.shape[0], len(self.classes_)))
        proba[np.arange(codes.shape[0]), codes] = 1.0
        return proba

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # fixed rules, not learned from y
        return tags


class RuleRegressor(RegressorMixin, _RuleModel):
    """A regressor written as if-statements: the first matching rule gives the value.

    Parameters
    ----------
    rules : list of (str, float) pairs or callable, default=()
        Pairs of a rule and the value for the rows where it holds, tried in
        order, first match wins. Rules are written in the closed rule language
        of :class:`RuleClassifier` (parsed, never run as code), e.g.
        ``"`living area` >= 120 and district in ['north', 'centre']"`` or
        ``"isna(rooms) or rooms < 2"``. Or a callable taking the DataFrame and
        returning one value per row, NaN/``None`` meaning "no rule". Numpy
        input has the column names ``x0, x1, ...``.
    default : float, default=None
        The value of rows no rule takes; ``None`` means the mean of ``y``.

    Attributes
    ----------
    default_ : float
    coverage_ : pandas.Series
        Training rows taken by each rule and by the default.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"rooms": [1, 2, 3, 5]})
    >>> reg = RuleRegressor([("rooms >= 4", 500.0), ("rooms >= 2", 300.0)])
    >>> reg.fit(X, [100.0, 250.0, 350.0, 520.0]).predict(X)
    array([305., 300., 300., 500.])
    >>> RuleRegressor(lambda df: df["rooms"] * 100.0).fit(X, [1, 2, 3, 4]).predict(X)
    array([100., 200., 300., 500.])
    """

    _numeric_target = True

    def _learn_default(self, y: np.ndarray) -> Any:
        return float(np.mean(y))

    def _learn_outputs(self, y: np.ndarray, outputs: list[Any]) -> None:
        self._codes(np.asarray(outputs, dtype=object), "the rules")

    def _codes(self, values: np.ndarray, where: str) -> np.ndarray:
        try:
            return np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where} gave non-numeric values", expected="numbers") from exc

    def predict(self, X: Any) -> np.ndarray:
        """The value of the first rule that holds on each row, else the default.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return np.asarray(self._predict_codes(X), dtype=float)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # fixed rules, not learned from y
        return tags
