"""Hypothesis runs the same examples by default and fresh ones under ``make test-fuzz``."""

from __future__ import annotations

import os

from hypothesis import settings


def test_default_profile_replays_the_same_examples():
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci":
        assert settings.default.derandomize


def test_fuzz_profile_draws_fresh_examples_and_more_of_them():
    fuzz, ci = settings.get_profile("fuzz"), settings.get_profile("ci")
    assert not fuzz.derandomize
    assert fuzz.max_examples >= 10 * ci.max_examples
    assert fuzz.deadline is None
