"""Realistic tables the split tests share."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: R's ``datasets::Titanic`` (Dawson 1995): passengers and crew of the Titanic by
#: class, age, sex and survival. Counts per class (1st, 2nd, 3rd, crew) for each
#: (age, sex, survived) cell; 2,201 people.
TITANIC_COUNTS = {
    ("child", "male", "no"): (0, 0, 35, 0),
    ("child", "female", "no"): (0, 0, 17, 0),
    ("adult", "male", "no"): (118, 154, 387, 670),
    ("adult", "female", "no"): (4, 13, 89, 3),
    ("child", "male", "yes"): (5, 11, 13, 0),
    ("child", "female", "yes"): (1, 13, 14, 0),
    ("adult", "male", "yes"): (57, 14, 75, 192),
    ("adult", "female", "yes"): (140, 80, 76, 20),
}


def titanic() -> pd.DataFrame:
    """The Titanic table as pydataset's ``titanic``: one row per person, 4 categorical columns.

    Only 16 feature rows (class x age x sex) are possible and 14 occur; 24
    distinct (features, survived) rows.
    """
    cells = pd.DataFrame(
        [(klass, age, sex, survived, count)
         for (age, sex, survived), counts in TITANIC_COUNTS.items()
         for klass, count in zip(("1st", "2nd", "3rd", "crew"), counts, strict=True)],
        columns=["class", "age", "sex", "survived", "n"],
    )
    rows = cells.loc[cells.index.repeat(cells["n"])].drop(columns="n")
    return rows.sample(frac=1.0, random_state=0).reset_index(drop=True)


def census(n: int = 6_000, seed: int = 0) -> pd.DataFrame:
    """An adult-census-like table: five categorical columns with skewed levels.

    8,960 feature rows are possible, under ten times the rows, and about
    1,500 distinct ones occur in 6,000 rows, so repeats are inherent; yet
    there are plenty of sets of identical rows for every part.
    """
    rng = np.random.default_rng(seed)

    def column(levels: int) -> np.ndarray:
        weights = 1.0 / np.arange(1, levels + 1) ** 1.5
        return rng.choice(levels, n, p=weights / weights.sum())

    df = pd.DataFrame({
        "workclass": np.array(["private", "self-emp", "local-gov", "state-gov", "federal-gov",
                               "self-emp-inc", "without-pay"])[column(7)],
        "education": column(16),
        "sex": np.array(["male", "female"])[rng.integers(0, 2, n)],
        "race": column(5),
        "age_band": column(8),
    })
    df["income_over_50k"] = (rng.random(n) < 0.15 + 0.02 * df["education"] / 4).astype(int)
    return df
