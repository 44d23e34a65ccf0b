"""DriftReport figures: one effect-size scale per statistic family, long categories fitted."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from mllife.drift import drift_report
from mllife.report._plots import LABEL_WIDTH


def _drawn(plot):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot.figure()
        fig.savefig(io.BytesIO(), format="png")
    return fig


def _bars(fig) -> dict[str, float]:
    """Bar label -> bar length of a horizontal bar chart."""
    ax = fig.axes[0]
    names = [" ".join(t.get_text().split("\n")) for t in ax.get_yticklabels()]
    positions = [t.get_position()[1] for t in ax.get_yticklabels()]
    lengths = {round(p.get_y() + p.get_height() / 2): p.get_width() for p in ax.containers[0]}
    return {name: lengths[round(pos)] for name, pos in zip(names, positions, strict=True)}


def test_effect_sizes_of_numbers_and_categories_are_drawn_on_separate_scales():
    # A signup date moving by years has a Wasserstein distance of dozens of reference sds;
    # next to it on one linear axis, Jensen-Shannon distances (0 to 1) were invisible.
    rng = np.random.default_rng(0)
    n = 3_000
    ref = pd.DataFrame({
        "signup_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        "monthly_charges": rng.normal(70, 20, n),
        "plan": rng.choice(np.array(["basic", "standard", "premium"]), n, p=[0.5, 0.3, 0.2]),
        "region": rng.choice(np.array(["north", "south"]), n),
    })
    cur = ref.assign(signup_date=ref["signup_date"] + pd.Timedelta(days=900),
                     plan=rng.choice(np.array(["basic", "standard", "premium"]), n, p=[0.3, 0.3, 0.4]))
    report = drift_report(ref, cur)
    table = report.table.set_index("column")
    assert table.loc["signup_date", "effect_size"] > 50
    plots = {p.title: p for p in report._plots()}
    numbers = _drawn(plots["Effect size of numeric columns: Wasserstein distance in reference standard deviations"])
    categories = _drawn(plots["Effect size of categorical columns: Jensen-Shannon distance (0 to 1)"])
    assert _bars(numbers) == pytest.approx(table.loc[["signup_date", "monthly_charges"], "effect_size"].to_dict())
    assert _bars(categories) == pytest.approx(table.loc[["plan", "region"], "effect_size"].to_dict())
    # Each panel on its own scale: the categories' axis ends near their largest distance.
    assert categories.axes[0].get_xlim()[1] < 1.0
    assert numbers.axes[0].get_xlim()[1] > 50
    # The threshold of each column is marked on its bar (0.05 by default for both families).
    for fig in (numbers, categories):
        (markers,) = fig.axes[0].collections
        assert np.asarray(markers.get_offsets())[:, 0].tolist() == pytest.approx([0.05, 0.05])
    custom = drift_report(ref, cur, method="jensen_shannon", threshold=0.2)
    fig = _drawn(next(p for p in custom._plots() if p.title.startswith("Effect size of categorical")))
    assert np.asarray(fig.axes[0].collections[0].get_offsets())[:, 0].tolist() == pytest.approx([0.2, 0.2])


def test_long_category_labels_of_an_overlay_are_fitted():
    rng = np.random.default_rng(1)
    levels = np.array([f"{name} subscription, billed monthly, loyalty discount"
                       for name in ("Basic", "Standard", "Premium", "Family")])
    ref = pd.DataFrame({"plan": rng.choice(levels, 2_000)})
    cur = pd.DataFrame({"plan": rng.choice(levels, 2_000, p=[0.1, 0.2, 0.3, 0.4])})
    report = drift_report(ref, cur)
    overlay = next(p for p in report._plots() if p.title == "plan: reference vs current")
    fig = _drawn(overlay)
    texts = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(texts) == 4
    assert all(len(line) <= LABEL_WIDTH for t in texts for line in t.split("\n"))
    (key,) = fig.legends  # cut labels are spelled out under the figure
    assert len(key.get_texts()) == 4
