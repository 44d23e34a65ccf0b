"""Matplotlib figures for reports, rendered off-screen and embedded as base64 PNG.

matplotlib is imported only when a report is rendered to HTML, never at
``import mllife``. No pyplot state is used: each figure is a standalone
``matplotlib.figure.Figure``, so rendering is thread-safe and leaves no
global figures behind.

Labels come from users' data (class names, column names, categories) and can be
long. The helpers here never let them collapse or overlap a figure: tick labels
are wrapped onto lines of at most :data:`LABEL_WIDTH` characters, a label that
needs more than :data:`LABEL_LINES` lines is cut, numbered (``[1] Adelie…``)
and spelled out in a key under the figure, and the figure grows to fit its
labels (:func:`label_axes`); the ``size`` of a :class:`Plot` is a minimum.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Colours used across reports (colour-blind-safe, Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: Tick labels are wrapped onto lines of at most this many characters ...
LABEL_WIDTH = 24
#: ... and at most this many lines; a longer label is cut and spelled out in the key.
LABEL_LINES = 2
#: Characters per line of the key under a figure.
KEY_WIDTH = 80
#: Font size of fitted tick labels and of the key, in points.
TICK_FONT = 8.0
# Sizes used to grow a figure around its labels, in inches (average character of
# DejaVu Sans at TICK_FONT, with a margin; line height with spacing).
_CHAR = TICK_FONT * 0.62 / 72
_LINE = TICK_FONT * 1.3 / 72
#: Smallest axes a figure keeps for the data, in inches (width, height).
MIN_AXES = (2.5, 1.6)
#: x tick labels lie flat while they fit side by side in this many inches, else at 45 degrees.
MAX_FLAT_WIDTH = 6.0


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
        Width and height in inches: the smallest size; the helpers of this
        module grow the figure when its labels need more room.

    Examples
    --------
    >>> p = Plot("Churn by plan", lambda ax: ax.bar(["a", "b"], [0.2, 0.3]))
    >>> p.to_data_uri().startswith("data:image/png;base64,")
    True
    """

    title: str
    draw: Callable[[Any], None]
    size: tuple[float, float] = (6.0, 3.5)

    def figure(self) -> Any:
        """The drawn ``matplotlib.figure.Figure`` (standalone, no pyplot state).

        Examples
        --------
        >>> plot = Plot("bars", lambda ax: ax.bar(["a", "b"], [1, 2]), size=(3.0, 2.0))
        >>> plot.figure().get_size_inches().tolist()
        [3.0, 2.0]
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=self.size, dpi=90, layout="constrained")
        ax = fig.subplots()
        self.draw(ax)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        return fig

    def render(self) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=90, metadata={"Software": None})
        return buffer.getvalue()

    def to_data_uri(self) -> str:
        """The figure as a ``data:`` URI, ready for an ``<img src>``."""
        return "data:image/png;base64," + base64.b64encode(self.render()).decode("ascii")


def fit_labels(labels: Sequence[Any], *, width: int = LABEL_WIDTH,
               max_lines: int = LABEL_LINES) -> tuple[list[str], list[str]]:
    r"""Tick labels that fit, and the key of those that had to be cut.

    Each label is wrapped on word boundaries onto lines of at most ``width``
    characters. One that needs more than ``max_lines`` lines is numbered and
    cut (``"[1] Adelie Penguin…"``, still at most ``max_lines`` lines of
    ``width``), and the key lists it in full (``"[1] Adelie Penguin
    (Pygoscelis adeliae)"``). Equal labels get the same number.

    Examples
    --------
    >>> fit_labels(["short", "Gentoo penguin (Pygoscelis papua)"])
    (['short', 'Gentoo penguin\n(Pygoscelis papua)'], [])
    >>> texts, key = fit_labels(["revenue over the twelve months before the snapshot date, in euros"])
    >>> texts
    ['[1] revenue over the\ntwelve months before th…']
    >>> key
    ['[1] revenue over the twelve months before the snapshot date, in euros']
    """
    texts: list[str] = []
    key: list[str] = []
    numbers: dict[str, int] = {}
    for label in (str(v) for v in labels):
        lines = textwrap.wrap(label, width) or [label]
        if len(lines) <= max_lines:
            texts.append("\n".join(lines))
            continue
        if label not in numbers:
            numbers[label] = len(numbers) + 1
            key.append(f"[{numbers[label]}] {label}")
        number = numbers[label]
        cut = textwrap.wrap(f"[{number}] {label}", width)[:max_lines]
        cut[-1] = cut[-1][: width - 1] + "…"
        texts.append("\n".join(cut))
    return texts, key


def _extent(texts: Sequence[str]) -> tuple[float, float]:
    """Width and height in inches of the largest of ``texts`` at :data:`TICK_FONT`."""
    lines = [t.split("\n") for t in texts] or [[""]]
    chars = max(len(line) for parts in lines for line in parts)
    return chars * _CHAR, max(len(parts) for parts in lines) * _LINE


def label_axes(
    ax: Any,
    *,
    x: tuple[Any, Sequence[Any]] | None = None,
    y: tuple[Any, Sequence[Any]] | None = None,
    cell: float = 0.0,
    extra_width: float = 0.0,
) -> None:
    """Put ``(positions, labels)`` on the x and/or y axis, fitted, and grow the figure to fit.

    Labels go through :func:`fit_labels`; x labels lie flat while they fit
    side by side in ``MAX_FLAT_WIDTH`` inches, else at 45 degrees. The figure
    is enlarged (never shrunk) so that every tick gets the room its label
    needs (and at least ``cell`` inches), the axes keep at least
    :data:`MIN_AXES`, and the key of cut labels fits under it.
    ``extra_width`` reserves room for a colour bar.
    """
    full = [str(v) for v in (list(x[1]) if x else []) + (list(y[1]) if y else [])]
    fitted, key = fit_labels(list(dict.fromkeys(full)))
    text_of = dict(zip(dict.fromkeys(full), fitted, strict=True))
    need_w = 0.6 + extra_width
    need_h = 0.8
    along_x, along_y = MIN_AXES
    if y is not None:
        texts = [text_of[str(v)] for v in y[1]]
        ax.set_yticks(list(y[0]), texts)
        ax.tick_params(axis="y", labelsize=TICK_FONT)
        width, height = _extent(texts)
        need_w += width
        along_y = max(along_y, len(texts) * max(height + 0.06, cell))
    if x is not None:
        texts = [text_of[str(v)] for v in x[1]]
        ax.set_xticks(list(x[0]), texts)
        ax.tick_params(axis="x", labelsize=TICK_FONT)
        width, height = _extent(texts)
        if len(texts) * (width + 0.15) <= MAX_FLAT_WIDTH:
            ax.tick_params(axis="x", labelrotation=0)
            need_h += height
            along_x = max(along_x, len(texts) * max(width + 0.15, cell))
        else:
            for tick in ax.get_xticklabels():
                tick.set(rotation=45, horizontalalignment="right", rotation_mode="anchor")
            need_h += (width + height) * 0.71
            along_x = max(along_x, len(texts) * max(height * 1.41 + 0.05, cell))
    key_w, key_h = _add_key(ax.figure, key)
    _grow(ax.figure, max(need_w + along_x, key_w), need_h + along_y + key_h)


def _add_key(fig: Any, key: Sequence[str]) -> tuple[float, float]:
    """Draw the key of cut labels under the figure; the room it takes, in inches."""
    if not key:
        return 0.0, 0.0
    from matplotlib.patches import Patch

    lines = [textwrap.fill(entry, KEY_WIDTH, subsequent_indent="    ") for entry in key]
    fig.legend([Patch(visible=False)] * len(lines), lines, loc="outside lower left",
               handlelength=0, handletextpad=0, frameon=False, fontsize=TICK_FONT,
               title="labels cut above", title_fontsize=TICK_FONT, alignment="left")
    n_lines = sum(line.count("\n") + 1 for line in lines)
    width = max(len(part) for line in lines for part in line.split("\n")) * _CHAR + 0.4
    return width, (n_lines + 2) * _LINE + 0.1


def _grow(fig: Any, width: float, height: float) -> None:
    """Enlarge ``fig`` to at least ``width`` x ``height`` inches (never shrink it)."""
    current = fig.get_size_inches()
    if width > current[0] or height > current[1]:
        fig.set_size_inches(max(float(current[0]), width), max(float(current[1]), height))


def bar(
    ax: Any,
    labels: Sequence[Any],
    values: Sequence[float],
    *,
    xlabel: str = "",
    horizontal: bool = True,
    color: str = PALETTE[0],
) -> None:
    """A bar chart, horizontal by default; long labels are wrapped or cut (:func:`label_axes`)."""
    names = [str(v) for v in labels]
    if horizontal:
        positions = np.arange(len(names))[::-1]
        ax.barh(positions, values, color=color)
        label_axes(ax, y=(positions, names))
        ax.set_xlabel(xlabel)
    else:
        positions = np.arange(len(names))
        ax.bar(positions, values, color=color)
        label_axes(ax, x=(positions, names))
        ax.set_ylabel(xlabel)


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
    """An annotated heatmap (confusion matrices, correlation tables); labels as :func:`label_axes`."""
    values = np.asarray(matrix, dtype=float)
    image = ax.imshow(values, cmap="Blues", aspect="auto")
    label_axes(ax, x=(range(len(xlabels)), xlabels), y=(range(len(ylabels)), ylabels),
               cell=0.45, extra_width=1.0)
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
    """Several labelled lines on one axes (ROC/PR curves, metrics over time); legend labels fitted."""
    names, key = fit_labels(list(series))
    for (x, y), name, color in zip(series.values(), names, PALETTE * 4, strict=False):
        ax.plot(x, y, label=name, color=color, linewidth=1.6)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=TICK_FONT)
        # The legend sits inside the axes: keep them larger than it.
        width, height = _extent(names)
        key_w, key_h = _add_key(ax.figure, key)
        _grow(ax.figure, max(2 * width + 1.6, key_w),
              len(names) * (height + 0.05) * 2 + 1.0 + key_h)


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


#: A timeline labels at most this many of its positions (first and last included).
MAX_TIMELINE_TICKS = 10


def timeline_ticks(ax: Any, labels: Sequence[Any], *, max_ticks: int = MAX_TIMELINE_TICKS,
                   xlabel: str = "") -> None:
    """Label the x axis of a timeline drawn at positions ``0 .. len(labels) - 1``.

    At most ``max_ticks`` evenly spaced positions are labelled (the first and
    the last always), so hundreds of windows stay legible; the labels go
    through :func:`label_axes` (wrapped, cut and keyed when long).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> timeline_ticks(ax, [f"window {i}" for i in range(150)])
    >>> len(ax.get_xticks())
    10
    """
    n = len(labels)
    if n == 0:
        return
    positions = np.unique(np.linspace(0, n - 1, num=min(n, max(2, max_ticks))).round().astype(int))
    label_axes(ax, x=(positions.tolist(), [labels[i] for i in positions]))
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel(xlabel)
