"""split(spec=...) and split's default seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife import InputError, ProblemSpec
from mllife.split import split


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame({
        "t": pd.date_range("2024-01-01", periods=n, freq="D"),
        "customer": rng.integers(0, 60, n),
        "x": rng.normal(size=n),
        "y": rng.integers(0, 2, n),
    })


@pytest.mark.parametrize(("columns", "strategy"), [({"time_col": "t"}, "time"),
                                                   ({"group_col": "customer"}, "group")])
def test_spec_gives_target_time_and_group(frame, columns, strategy):
    spec = ProblemSpec("y", "binary", **columns)
    parts = split(frame, spec=spec)
    assert parts.strategy == strategy
    assert parts.target == "y"
    explicit = split(frame, target="y", **columns)
    for name in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(getattr(parts, name), getattr(explicit, name))
    X, y = parts.xy("test")
    assert "y" not in X.columns
    assert y.name == "y"


def test_explicit_values_that_agree_are_fine_and_disagreeing_ones_raise(frame):
    spec = ProblemSpec("y", "binary", group_col="customer")
    same = split(frame, spec=spec, target="y", group_col="customer", random_state=1)
    assert same.strategy == "group"
    target_only = ProblemSpec("y", "binary")
    added = split(frame, spec=target_only, time_col="t")   # the spec has no time column
    assert (added.strategy, added.target) == ("time", "y")
    with pytest.raises(InputError, match=r"split\(target='x'\) disagrees with spec.target='y'"):
        split(frame, spec=spec, target="x")
    with pytest.raises(InputError, match=r"disagrees with spec.group_col"):
        split(frame, spec=spec, group_col="t")
    with pytest.raises(InputError, match=r"a mllife.ProblemSpec"):
        split(frame, spec={"target": "y"})


def test_random_state_none_is_seed_zero(frame):
    # D3: split(df) twice gives the same split, the one of random_state=0.
    a, b = split(frame, target="y"), split(frame, target="y")
    zero = split(frame, target="y", random_state=0)
    for name in ("train", "validation", "test"):
        assert getattr(a, name).index.equals(getattr(b, name).index)
        assert getattr(a, name).index.equals(getattr(zero, name).index)
    other = split(frame, target="y", random_state=1)
    assert not other.test.index.equals(a.test.index)
    generator = split(frame, target="y", random_state=np.random.default_rng(5))
    assert abs(len(generator.test) - len(a.test)) <= 2   # stratified: sizes within a row or two


def test_check_leakage_takes_its_columns_from_a_spec():
    from mllife import InputError
    from mllife.split import check_leakage

    train = pd.DataFrame({"customer": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0]})
    test = pd.DataFrame({"customer": ["c", "d"], "spend": [3.0, 4.0]})
    spec = ProblemSpec("spend", "regression", group_col="customer")
    by_spec = check_leakage(train, test, spec=spec)
    by_hand = check_leakage(train, test, target="spend", group_col="customer")
    assert [f.check for f in by_spec.findings] == [f.check for f in by_hand.findings]
    assert "group_overlap" in [f.check for f in by_spec.findings]
    with pytest.raises(InputError, match="disagrees with spec"):
        check_leakage(train, test, group_col="spend", spec=spec)


def test_check_leakage_random_state_none_is_seed_zero_and_seeds_the_folds():
    """D3: the one-feature scores' folds follow random_state; None is seed 0."""
    from mllife.split import check_leakage

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    train["y"] = (train["x"] + rng.normal(size=300) > 0).astype(int)
    test = train.sample(50, random_state=1).reset_index(drop=True)
    default = check_leakage(train, test, target="y").feature_scores
    zero = check_leakage(train, test, target="y", random_state=0).feature_scores
    other = check_leakage(train, test, target="y", random_state=7).feature_scores
    pd.testing.assert_frame_equal(default, zero)
    assert not default["score"].equals(other["score"])
