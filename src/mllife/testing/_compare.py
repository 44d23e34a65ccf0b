"""Comparing two outputs (or an input before and after) and saying how they differ."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_table", "difference", "error_text", "short"]

#: Relative tolerance of "the same number" when ``exact=False`` (float sums in another order).
RTOL = 1e-9
ATOL = 1e-12


def short(value: Any, limit: int = 300) -> str:
    """``value``'s text on one line, cut at ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(exc: BaseException) -> str:
    """``TypeName: message`` of an exception, on one line."""
    return short(f"{type(exc).__name__}: {exc}")


def as_table(out: Any) -> pd.DataFrame:
    """An output (pandas, polars, numpy, sparse) as a pandas DataFrame to compare."""
    if isinstance(out, pd.DataFrame):
        return out
    if hasattr(out, "to_pandas") and hasattr(out, "columns"):  # polars, pyarrow
        return out.to_pandas()
    if hasattr(out, "toarray"):
        out = out.toarray()
    values = np.asarray(out)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    return pd.DataFrame(values)


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _cells_differ(a: pd.Series, b: pd.Series, *, exact: bool) -> np.ndarray:
    """Per row, whether the two cells differ (two missing values are equal)."""
    na_a = a.isna().to_numpy(dtype=bool)
    na_b = b.isna().to_numpy(dtype=bool)
    both = ~na_a & ~na_b
    if _numeric(a) and _numeric(b):
        va = a.to_numpy(dtype=np.float64, na_value=np.nan)
        vb = b.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            neq = va != vb if exact else ~np.isclose(va, vb, rtol=RTOL, atol=ATOL)
    else:
        oa = pd.Series(a.to_numpy(dtype=object)).where(both, None)
        ob = pd.Series(b.to_numpy(dtype=object)).where(both, None)
        try:
            neq = (oa != ob).to_numpy(dtype=bool)
        except (TypeError, ValueError):  # cells that do not compare (arrays, odd objects)
            neq = (oa.map(repr) != ob.map(repr)).to_numpy(dtype=bool)
    return (na_a != na_b) | (both & neq)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``1009``, not ``np.int64(1009)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _index_text(index: pd.Index) -> str:
    head = ", ".join(repr(_plain(v)) for v in index[:4].tolist())
    more = ", ..." if len(index) > 4 else ""
    name = f", name={index.name!r}" if index.name is not None else ""
    return f"[{head}{more}]{name}"


def difference(a: Any, b: Any, *, exact: bool = False, dtypes: bool = True,
               index: bool = True, labels: tuple[str, str] = ("", "")) -> str | None:
    """How ``b`` differs from ``a`` (shape, columns, index, dtypes, values), or None.

    Numbers are compared with a relative tolerance of 1e-9 unless ``exact``;
    missing values equal missing values. ``labels`` name the two sides in
    the text (``"before"``, ``"after"``).
    """
    ta, tb = as_table(a), as_table(b)
    la, lb = labels
    if ta.shape != tb.shape:
        return f"shape {ta.shape}{la} vs {tb.shape}{lb}"
    cols_a = [str(c) for c in ta.columns]
    cols_b = [str(c) for c in tb.columns]
    if cols_a != cols_b:
        only_a = [c for c in cols_a if c not in cols_b][:5]
        only_b = [c for c in cols_b if c not in cols_a][:5]
        what = []
        if only_a:
            what.append(f"{only_a} only in the first")
        if only_b:
            what.append(f"{only_b} only in the second")
        return f"columns differ ({'; '.join(what) or 'same names, another order'})"
    if index and not (ta.index.equals(tb.index) and ta.index.names == tb.index.names):
        return f"index {_index_text(ta.index)}{la} vs {_index_text(tb.index)}{lb}"
    for j, name in enumerate(cols_a):
        sa, sb = ta.iloc[:, j], tb.iloc[:, j]
        if dtypes and str(sa.dtype) != str(sb.dtype):
            return f"column {name!r}: dtype {sa.dtype}{la} vs {sb.dtype}{lb}"
        differ = _cells_differ(sa, sb, exact=exact)
        if differ.any():
            k = int(np.flatnonzero(differ)[0])
            row = _plain(ta.index[k]) if index else k
            return (f"column {name!r} differs in {int(differ.sum())} of {len(differ)} rows "
                    f"(first at row {row!r}: {short(repr(_plain(sa.iloc[k])), 60)}{la} vs "
                    f"{short(repr(_plain(sb.iloc[k])), 60)}{lb})")
    return None
