"""Matplotlib figures for reports, rendered off-screen and embedded as base64 PNG.

matplotlib is imported only when a report is rendered to HTML, never at
``import mllife``. No pyplot state is used: each figure is a standalone
``matplotlib.figure.Figure``, so rendering is thread-safe and leaves no
global figures behind.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Colours used across reports (colour-blind-safe, Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


@dataclass(frozen=True)
class Plot:
    """A figure a report draws when it is rendered to HTML.

    Parameters
    ----------
    title : str
        Caption shown above the figure.
    draw : callable
        ``draw(ax)`` draws on a matplotlib ``Axes``.
    size : tuple of float, default=(6.0, 3.5)
        Width and height in inches.

    Examples
    --------
    >>> p = Plot("Churn by plan", lambda ax: ax.bar(["a", "b"], [0.2, 0.3]))
    >>> p.to_data_uri().startswith("data:image/png;base64,")
    True
    """

    title: str
    draw: Callable[[Any], None]
    size: tuple[float, float] = (6.0, 3.5)

    def render(self) -> bytes:
        """The figure as PNG bytes."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=self.size, dpi=90, layout="constrained")
        ax = fig.subplots()
        self.draw(ax)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
        return buffer.getvalue()

    def to_data_uri(self) -> str:
        """The figure as a ``data:`` URI, ready for an ``<img src>``."""
        return "data:image/png;base64," + base64.b64encode(self.render()).decode("ascii")


def bar(
    ax: Any,
    labels: Sequence[Any],
    values: Sequence[float],
    *,
    xlabel: str = "",
    horizontal: bool = True,
    color: str = PALETTE[0],
) -> None:
    """A bar chart, horizontal by default (long labels stay readable)."""
    names = [str(v) for v in labels]
    if horizontal:
        positions = np.arange(len(names))[::-1]
        ax.barh(positions, values, color=color)
        ax.set_yticks(positions, names)
        ax.set_xlabel(xlabel)
    else:
        ax.bar(names, values, color=color)
        ax.set_ylabel(xlabel)
        ax.tick_params(axis="x", labelrotation=45)


def heatmap(
    ax: Any,
    matrix: Any,
    xlabels: Sequence[Any],
    ylabels: Sequence[Any],
    *,
    fmt: str = "{:.0f}",
    xlabel: str = "",
    ylabel: str = "",
) -> None:
    """An annotated heatmap (confusion matrices, correlation tables)."""
    values = np.asarray(matrix, dtype=float)
    image = ax.imshow(values, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(xlabels)), [str(v) for v in xlabels])
    ax.set_yticks(range(len(ylabels)), [str(v) for v in ylabels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    finite = values[np.isfinite(values)]
    middle = (finite.max() + finite.min()) / 2 if finite.size else 0.0
    if values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center",
                        color="white" if v > middle else "black", fontsize=8)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


def lines(
    ax: Any,
    series: dict[str, tuple[Sequence[Any], Sequence[float]]],
    *,
    xlabel: str = "",
    ylabel: str = "",
    diagonal: bool = False,
) -> None:
    """Several labelled lines on one axes (ROC/PR curves, metrics over time)."""
    for (label, (x, y)), color in zip(series.items(), PALETTE * 4, strict=False):
        ax.plot(x, y, label=label, color=color, linewidth=1.6)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8)


def histograms(
    ax: Any,
    samples: dict[str, Any],
    *,
    bins: Any = 30,
    xlabel: str = "",
) -> None:
    """Overlaid density histograms of several samples (reference vs current)."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in samples.items()}
    arrays = {k: v[np.isfinite(v)] for k, v in arrays.items()}
    pooled = np.concatenate(list(arrays.values())) if arrays else np.array([])
    if pooled.size and isinstance(bins, int):
        edges = np.histogram_bin_edges(pooled, bins=bins)
    else:
        edges = bins
    for (label, values), color in zip(arrays.items(), PALETTE, strict=False):
        if values.size:
            ax.hist(values, bins=edges, density=True, alpha=0.45, label=label, color=color)
    ax.set_xlabel(xlabel)
    ax.legend(frameon=False, fontsize=8)
