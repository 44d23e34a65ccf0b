"""Robust outliers: Tukey's far-out fences (IQR) or median/MAD, on a log scale for skewed data."""

from __future__ import annotations

from collections.abc import Iterator
from statistics import NormalDist

import numpy as np

from ..report import Finding
from ._data import AuditData
from ._registry import _builtin

_Q75_Z = 0.6744897501960817  # standard-normal third quartile
_IQR_Z = 2 * _Q75_Z
_MAD_Z = _Q75_Z  # MAD of a standard normal
#: A signed column whose 1%-99% range exceeds this many IQRs (normal: 3.4, Student t3: 5.9)
#: is heavy-tailed: its magnitudes are judged on a log scale.
_HEAVY = 10.0


def _fence_z(n: int, k: float) -> float:
    """The normal quantile a fence must reach so clean normal data of ``n`` rows
    expects under 0.01 false flags, and never closer than ``k`` IQRs past the quartile."""
    return max(_Q75_Z + k * _IQR_Z, NormalDist().inv_cdf(1 - 0.005 / max(n, 1)))


@_builtin("outliers", method="iqr", k=3.0, gross=20.0)
def outliers(data: AuditData, method: str = "iqr", k: float = 3.0, gross: float = 20.0) -> Iterator[Finding]:
    """Values far outside a numeric column's bulk.

    The scale: ``log(x + c)`` when the column is non-negative and
    right-skewed (charges, counts, durations; ``c`` is the smallest positive
    value when zeros occur, and only the upper side is judged there, as
    zeros are common and legitimate); ``log(|x| + c)``, upper side only,
    when the column has both signs and heavy tails (its 1%-99% range over
    10 IQRs: profit, balance changes); raw otherwise. The fences: with
    ``method="iqr"``, ``Q1 - k*IQR`` and ``Q3 + k*IQR`` (Tukey's far-out
    fences, ``k=3``); with ``"mad"``, ``median +- z * 1.4826 * MAD``. Either
    is widened with the row count so that clean normal data expects under
    0.01 flagged values whatever its size.

    Severity: ``warning`` when some flagged value is also more than ``gross``
    raw IQRs beyond the quartiles (a unit error or a typo: 60x the usual),
    ``info`` otherwise (a heavy tail worth a look). Sentinels reported as
    disguised nulls are left out. Columns with fewer than 10 distinct values,
    booleans and identifiers (the ``id_cols`` and columns that look like ids)
    are skipped. The target is judged like any column; its finding says it
    is about the target (``details["target"]``): outlying labels pull a
    regression model as much as outlying inputs do.
    """
    if method not in ("iqr", "mad"):
        from .._errors import InputError

        raise InputError(f"method={method!r}", expected='"iqr" or "mad"')
    ids = set(data.id_cols)
    for col in data.columns:
        if not col.is_numeric or col.n_unique < 10 or col.id_like or col.label in ids:
            continue
        is_target = data.target is not None and col.label == data.target
        raw = col.series.to_numpy(dtype=float, na_value=np.nan)
        valid = np.isfinite(raw)
        if col.sentinels:
            valid &= ~np.isin(raw, col.sentinels)
        x = raw[valid]
        if len(x) < 20:
            continue
        q01, q05, q25, q50, q75, q95, q99 = np.quantile(x, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
        raw_iqr = q75 - q25
        log = bool(q05 >= 0 and x.min() >= 0 and (q95 - q50) > 1.5 * (q50 - q05))
        # Signed and heavy-tailed (profit, balance changes): judge the magnitudes on a log scale.
        signed = bool(not log and q01 < 0 < q99 and raw_iqr > 0 and (q99 - q01) > _HEAVY * raw_iqr)
        shift = 0.0
        if log or signed:
            mag = np.abs(x)
            positive = mag[mag > 0]
            shift = 0.0 if mag.min() > 0 else (float(positive.min()) if positive.size else 1.0)
            y = np.log(mag + shift)
            y25, y50, y75 = np.quantile(y, [0.25, 0.5, 0.75]) if signed else np.log(
                np.array([q25, q50, q75]) + shift)
            log = True
        else:
            y, y25, y50, y75 = x, q25, q50, q75
        z = _fence_z(len(y), k)
        if method == "iqr":
            spread = y75 - y25
            if not spread > 0:
                continue
            reach = (z - _Q75_Z) / _IQR_Z * spread
            lo, hi = y25 - reach, y75 + reach
        else:
            mad = float(np.median(np.abs(y - y50)))
            if not mad > 0:
                continue
            lo, hi = y50 - z * mad / _MAD_Z, y50 + z * mad / _MAD_Z
        flagged = (y > hi) if (signed or (log and shift > 0)) else ((y < lo) | (y > hi))
        n = int(flagged.sum())
        if n == 0:
            continue
        far = flagged & ((x > q75 + gross * raw_iqr) | (x < q25 - gross * raw_iqr)) if raw_iqr > 0 else flagged & False
        mask = np.zeros(data.n_rows, dtype=bool)
        mask[np.flatnonzero(valid)[flagged]] = True
        if signed:
            high = float(np.exp(hi) - shift)
            low = -high
        else:
            low, high = (float(np.exp(lo) - shift), float(np.exp(hi) - shift)) if log else (float(lo), float(hi))
        yield Finding(
            "outliers", "warning" if far.any() else "info", column=col.label,
            message=f"{n} {'target values' if is_target else 'values'} lie outside [{low:.4g}, {high:.4g}] "
                    f"({'log scale of |x|, ' if signed else 'log scale, ' if log else ''}{method.upper()} fences)"
                    + (f"; {int(far.sum())} of them more than {gross:g} IQRs out" if far.any() else ""),
            n_rows=n, share=n / data.n_rows, threshold=float(k), sample_index=data.sample_index(mask),
            suggestion="check them at the source (unit errors, typos); "
                       + ("drop wrong labels; if they are real, use a robust loss (Huber, absolute "
                          "error) or model a transformed target" if is_target
                          else "clip or use a robust model if they are real"),
            details={"method": method, "log_scale": log, "signed_log_scale": signed, "low": low,
                     "high": high, "n_gross": int(far.sum()), "min": float(x.min()),
                     "max": float(x.max()), "target": is_target},
        )
