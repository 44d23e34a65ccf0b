"""``method="auto"``: which statistic decides, and how the decision is made.

Small samples decide on p-values (corrected for testing many columns); large
samples decide on an effect size, because with a million rows every
negligible shift is "significant". The policy, per column:

* numeric, both samples ``<= large_sample`` values: ``ks``, drifted when the
  corrected KS p-value is below ``alpha`` (the exact permutation KS over the
  distinct values when ties dominate);
* numeric, larger: ``wasserstein`` (normalised by the reference standard
  deviation, minus its expected value under no drift), drifted when it
  reaches the threshold (default 0.05 standard deviations) **and** the
  corrected KS p-value is below ``alpha``;
* categorical, small: ``chi2`` on the ``2 x k`` table (categories with an
  expected count below 5 pooled; then a permutation p-value), corrected p-value;
* categorical, larger: ``jensen_shannon`` distance (base 2, bias-corrected),
  drifted when it reaches the threshold (default 0.05) and the corrected
  chi-square p-value is below ``alpha``.

Besides the distribution, a column is drifted when its missing rate or its
inf rate moves by at least :data:`MISSING_CHANGE` (absolute) with a corrected
Fisher exact p-value below ``alpha``, or when at least :data:`UNSEEN_SHARE` of
its current values are categories the reference never had beyond the share a
sample of the same distribution meets by chance (Good-Turing: the share of
reference values whose category occurs once) with a corrected p-value of the
unseen-category permutation test below ``alpha``, or when it is gone from the
current data or changed dtype family. Every p-value of every column enters one
correction.
"""

from __future__ import annotations

from .._inference import CORRECTIONS, adjust

__all__ = ["CORRECTIONS", "adjust", "choose"]

#: Both samples at most this size: decide on p-values; above: on effect size.
LARGE_SAMPLE = 10_000
#: Absolute change of the missing (or inf) rate that counts as drift.
MISSING_CHANGE = 0.05
#: Share of current values in categories unseen in the reference that counts as drift.
UNSEEN_SHARE = 0.05
#: Default decision thresholds of the effect sizes used by "auto" on large samples.
AUTO_THRESHOLDS = {"wasserstein": 0.05, "jensen_shannon": 0.05}


def choose(kind: str, n_ref: int, n_cur: int, large_sample: int) -> tuple[str, str]:
    """``(method, decision)`` for a column; decision in {"p", "effect+p"}."""
    small = min(n_ref, n_cur) <= large_sample
    if kind == "numeric":
        return ("ks", "p") if small else ("wasserstein", "effect+p")
    return ("chi2", "p") if small else ("jensen_shannon", "effect+p")
