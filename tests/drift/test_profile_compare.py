"""``DriftProfile.compare`` forwards ``drift_report``'s keywords: same names, defaults, docs."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest

from mllife.drift import DriftProfile, drift_report

#: The keywords ``compare`` cannot take: the domain classifier needs the reference rows.
NEEDS_REFERENCE_ROWS = {"multivariate", "multivariate_threshold"}


def _keywords(fn):
    return {name: p for name, p in inspect.signature(fn).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _parameter_docs(fn) -> dict[str, str]:
    """numpydoc ``Parameters`` entries: name -> type line and description."""
    doc = inspect.getdoc(fn) or ""
    section = re.search(r"^Parameters\n-+\n(.*?)(?:^\w[\w ]*\n-+\n|\Z)", doc, flags=re.S | re.M)
    assert section is not None, fn
    entries: dict[str, str] = {}
    name = None
    for line in section.group(1).splitlines():
        if line and not line.startswith(" "):
            header, _, kind = line.partition(" : ")
            names = [n.strip() for n in header.split(",")]
            name = names[0]
            for each in names:
                entries[each] = kind.strip()
            key = names
        elif name is not None:
            for each in key:
                entries[each] += "\n" + line.strip()
    return entries


def test_compare_takes_drift_reports_keywords():
    report_kw = _keywords(drift_report)
    compare_kw = _keywords(DriftProfile.compare)
    assert set(compare_kw) == set(report_kw) - NEEDS_REFERENCE_ROWS
    assert set(report_kw) >= NEEDS_REFERENCE_ROWS
    for name, param in compare_kw.items():
        assert param.default == report_kw[name].default, name
        assert param.annotation == report_kw[name].annotation, name
    positional = [p.name for p in inspect.signature(DriftProfile.compare).parameters.values()
                  if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == ["self", "current"]  # no **kwargs to hide a misspelt keyword


def test_compare_documents_each_keyword_as_drift_report_does():
    report_doc = _parameter_docs(drift_report)
    compare_doc = _parameter_docs(DriftProfile.compare)
    for name in _keywords(DriftProfile.compare):
        assert name in compare_doc, name
        assert compare_doc[name] == report_doc[name], name


def test_compare_refuses_a_keyword_it_cannot_honour():
    profile = DriftProfile.fit(pd.DataFrame({"x": np.arange(50.0)}))
    with pytest.raises(TypeError, match="multivariate"):
        profile.compare(pd.DataFrame({"x": np.arange(50.0)}), multivariate=True)


def test_random_state_none_is_seed_zero():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b", "c"], 300)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, size=300), "c": rng.choice(["a", "b", "c"], 300)})
    # wasserstein and psi draw permutation p-values: the seed matters
    method = {"x": "wasserstein", "c": "psi"}
    default = drift_report(ref, cur, method=method).table
    pd.testing.assert_frame_equal(default, drift_report(ref, cur, method=method, random_state=0).table)
    pd.testing.assert_frame_equal(default, drift_report(ref, cur, method=method).table)
    other = drift_report(ref, cur, method=method, random_state=1).table
    assert not default["p_value"].equals(other["p_value"])
    profile = DriftProfile.fit(ref)
    pd.testing.assert_frame_equal(profile.compare(cur, method=method).table,
                                  profile.compare(cur, method=method, random_state=0).table)
    assert inspect.signature(drift_report).parameters["random_state"].default is None


def test_multivariate_default_seed_is_reproducible():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    cur = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    a = drift_report(ref, cur, multivariate=True).multivariate
    b = drift_report(ref, cur, multivariate=True, random_state=0).multivariate
    assert a["auc"] == b["auc"]
    assert a["p_value"] == b["p_value"]
