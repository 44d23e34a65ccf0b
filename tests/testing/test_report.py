"""``TransformerCheckReport`` keeps the report contract, and reads as a list of rules.

The contract tests of ``tests/test_report_contract.py`` run here on a report with planted
failures (they take the ``produced`` fixture of this module).
"""

from __future__ import annotations

import json
import pickle

import pytest

from mllife import TransformerCheckError
from mllife.report import Report
from mllife.testing import TransformerCheckReport, check_transformer
from tests.test_report import check_html
from tests.test_report_contract import (  # noqa: F401 - collected here, on this module's fixture
    test_every_output_format_works,
    test_findings_attribute_holds_every_finding,
    test_frames_in_and_out_are_copies_and_mappings_read_only,
    test_from_dict_rebuilds_the_report,
    test_replace_keeps_derived_findings_once,
    test_reports_are_values_pickle_and_deepcopy,
)

from .transformers import MutatesInput, WrongNamesLength


@pytest.fixture(scope="module")
def failing() -> TransformerCheckReport:
    return check_transformer(WrongNamesLength(), sklearn_checks=False)


@pytest.fixture(scope="module")
def produced(failing):
    return "check_transformer", failing


def test_rules_table_and_findings(failing):
    rules = failing.rules
    assert list(rules.columns) == ["rule", "status", "message"]
    assert set(rules["status"]) == {"passed", "failed", "skipped"}
    assert failing.failed_rules == ["names_out_length"]
    (finding,) = failing.findings
    assert (finding.check, finding.severity) == ("names_out_length", "error")
    assert finding.message == rules.set_index("rule").loc["names_out_length", "message"]
    summary = failing.to_dict()["summary"]
    assert summary == {"estimator": "WrongNamesLength()", "passed": False, "rules": 13,
                       "rules passed": 8, "rules failed": 1, "rules skipped": 4}


def test_html_shows_every_rule(failing):
    html = failing.to_html()
    check_html(html)
    assert html.count("<tr>") >= len(failing.rules)
    assert "names_out_length: expected get_feature_names_out()" in html
    assert "<h2>rules</h2>" in html
    assert failing._repr_html_().startswith('<div class="mllife-report">')


def test_json_round_trip_keeps_the_rules(failing, tmp_path):
    again = Report.load(failing.save(tmp_path / "check.json"))
    assert isinstance(again, TransformerCheckReport)
    assert again == failing
    assert again.failed_rules == failing.failed_rules
    assert again.estimator == "WrongNamesLength()"
    assert TransformerCheckReport.from_dict(json.loads(failing.to_json())).passed is False
    with pytest.raises(TransformerCheckError, match="names_out_length"):
        again.raise_for_failures()
    twin = pickle.loads(pickle.dumps(failing))
    assert twin.rules.equals(failing.rules)


def test_error_names_every_failed_rule():
    report = check_transformer(MutatesInput(), sklearn_checks=False,
                               expected_failed_checks={"check_fit2d_1sample": "unused"})
    with pytest.raises(TransformerCheckError) as caught:
        report.raise_for_failures()
    err = caught.value
    assert err.rules == ("no_input_mutation",)
    lines = str(err).splitlines()
    assert lines[0] == "MutatesInput() broke 1 of 13 rules of mllife.testing.check_transformer:"
    assert lines[1].startswith("- no_input_mutation: expected fit and transform to leave X")
    twin = pickle.loads(pickle.dumps(err))
    assert (str(twin), twin.rules) == (str(err), err.rules)
