"""The check and statistic registries: unregister, and scopes that leave nothing behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import InputError
from mllife.audit import register_check, registered_checks, unregister_check
from mllife.audit._registry import REGISTRY
from mllife.drift import (
    _statistics,
    drift_report,
    register_statistic,
    registered_statistics,
    unregister_statistic,
)
from mllife.report import Finding


def _gap(ref, cur):
    return abs(float(np.mean(cur) - np.mean(ref))), None


def probe_check(data):
    return [Finding("probe_check", "info", message=f"{data.n_rows} rows")]


def _state():
    return list(REGISTRY.items()), dict(_statistics._USER)


def test_public_names():
    for name in ("unregister_check", "registered_checks"):
        assert getattr(mllife, name) is getattr(mllife.audit, name)
        assert name in mllife.__all__
        assert name in mllife.audit.__all__
    for name in ("unregister_statistic", "registered_statistics"):
        assert getattr(mllife, name) is getattr(mllife.drift, name)
        assert name in mllife.__all__
        assert name in mllife.drift.__all__


def test_unregister_check():
    before = _state()
    register_check(probe_check)
    assert "probe_check" in mllife.audit(pd.DataFrame({"a": [1]})).checks
    unregister_check("probe_check")
    assert "probe_check" not in mllife.audit(pd.DataFrame({"a": [1]})).checks
    assert _state() == before
    with pytest.raises(InputError, match="no user check named 'probe_check'"):
        unregister_check("probe_check")
    with pytest.raises(InputError, match="built-in"):
        unregister_check("disguised_nulls")
    assert _state() == before


def test_a_user_check_replacing_a_built_in_gives_way_on_unregister():
    builtin = REGISTRY["disguised_nulls"]
    order = list(REGISTRY)
    register_check(probe_check, name="disguised_nulls", replace=True)
    try:
        assert not REGISTRY["disguised_nulls"].builtin
    finally:
        unregister_check("disguised_nulls")
    assert REGISTRY["disguised_nulls"] is builtin
    assert list(REGISTRY) == order


def test_check_scope_restores_even_on_error():
    def failing_block():
        with registered_checks(probe_check):
            assert "probe_check" in REGISTRY
            register_check(probe_check, name="second_probe")
            register_check(probe_check, name="disguised_nulls", replace=True)
            raise RuntimeError("inside")

    before = _state()
    with pytest.raises(RuntimeError, match="inside"):
        failing_block()
    assert _state() == before


def test_check_scopes_nest_and_refuse_a_taken_name():
    before = _state()
    with registered_checks(probe_check):
        with registered_checks():
            register_check(probe_check, name="inner_probe")
        assert "inner_probe" not in REGISTRY
        assert "probe_check" in REGISTRY
        with pytest.raises(InputError, match="already registered"), registered_checks(probe_check):
            pass  # pragma: no cover - never entered
        assert "probe_check" in REGISTRY
        with registered_checks(probe_check, replace=True):
            pass
    assert _state() == before


def test_unregister_statistic():
    before = _state()
    register_statistic("gap_probe", _gap, threshold=1.0)
    unregister_statistic("gap_probe")
    assert _state() == before
    with pytest.raises(InputError, match="no user statistic named 'gap_probe'"):
        unregister_statistic("gap_probe")
    with pytest.raises(InputError, match="built-in"):
        unregister_statistic("ks")


def test_statistic_scope_restores_replaced_and_new_even_on_error():
    def failing_block():
        with registered_statistics():
            register_statistic("gap_probe", lambda a, b: (0.0, None), threshold=1.0, replace=True)
            register_statistic("other_probe", _gap, threshold=1.0)
            raise RuntimeError("inside")

    ref = pd.DataFrame({"x": np.arange(100.0) % 10})
    with registered_statistics():
        register_statistic("gap_probe", _gap, threshold=1.0)
        before = _state()
        with pytest.raises(RuntimeError, match="inside"):
            failing_block()
        assert _state() == before
        assert _statistics._USER["gap_probe"].fn is _gap
        assert drift_report(ref, ref + 5.0, method="gap_probe").table.loc[0, "drifted"]
    assert "gap_probe" not in _statistics._USER
