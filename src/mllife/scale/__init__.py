"""Scale: mllife's summaries on data bigger than memory, with Dask.

``DriftProfile.fit``, ``drift_report``, ``profile``, ``audit`` and
``Monitor.observe`` take a ``dask.dataframe.DataFrame`` (or, for the first
four, the path of a Parquet dataset) where they take a pandas frame. Each
partition is summarised where it lives and only the summaries travel: they
are merged in a tree into the same result as the pandas call (exact for
counts, missing rates and category tables; within the sketch's stated rank
error for quantiles). Checks that need all rows together run on a stated
sample. See ``docs/scale.md``.

Dask is the optional extra ``pip install "mllife[dask]"``: ``import mllife``
and ``import mllife.scale`` never import it.

:func:`progress` shows Dask's progress bar for the work started inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import _dask

__all__ = ["progress"]


@contextmanager
def progress(enabled: bool = True) -> Iterator[None]:
    """Show Dask's progress bar while mllife computes on Dask frames inside the block.

    With a ``distributed.Client`` the bar is ``distributed.progress`` (a text
    bar in a terminal, a widget in a notebook); with Dask's local scheduler it
    is ``dask.diagnostics.ProgressBar``. Dask's own ``ProgressBar`` context
    manager works too, with the local scheduler only.

    Parameters
    ----------
    enabled : bool, default=True
        ``False`` turns the bar off inside an enclosing ``progress()`` block.

    Raises
    ------
    InputError
        When ``enabled`` is not a bool.

    Examples
    --------
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from mllife.drift import DriftProfile
    >>> frame = dd.from_pandas(pd.DataFrame({"x": range(100)}), npartitions=4)
    >>> with progress():  # doctest: +ELLIPSIS
    ...     profile = DriftProfile.fit(frame)
    [...] | ...% Completed | ...
    >>> profile
    <DriftProfile: 1 columns, 100 rows>
    """
    with _dask.progress(enabled):
        yield
