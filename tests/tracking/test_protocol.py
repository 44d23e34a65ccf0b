"""The ``Tracker`` protocol and ``check_tracker``: what counts as a tracker, and what is refused."""

from __future__ import annotations

import pytest

from mllife import InputError, MllifeError
from mllife.report import Report
from mllife.tracking import MlflowTracker, Tracker, log_report
from mllife.tracking._log import check_tracker, track

from ._recording import FailingTracker, RecordingTracker


def test_the_recording_tracker_and_mlflow_tracker_are_trackers(tracker):
    assert isinstance(RecordingTracker(), Tracker)
    assert isinstance(FailingTracker("log_metrics"), Tracker)
    assert isinstance(tracker, MlflowTracker)
    assert isinstance(tracker, Tracker)
    assert check_tracker(tracker) is tracker


def test_check_tracker_accepts_none_for_no_tracking():
    assert check_tracker(None) is None


class _NoTables(RecordingTracker):
    log_table = None   # an attribute that is not a method


class _Partial:
    def start_run(self, name, *, parent_run_id=None, tags=None):
        return "1"

    def end_run(self, run_id, *, status="FINISHED"):
        pass


@pytest.mark.parametrize(("value", "named"), [
    ("mlflow", "start_run"),
    (object(), "log_artifact"),
    (_Partial(), "log_params, log_metrics, set_tags, log_table, log_artifact"),
    (_NoTables(), "log_table"),
])
def test_a_tracker_missing_methods_is_refused_naming_them(value, named):
    with pytest.raises(InputError, match="tracker is a") as info:
        check_tracker(value)
    assert named in str(info.value)
    assert "MlflowTracker" in str(info.value)


def test_a_tracker_class_instead_of_an_instance_is_refused():
    with pytest.raises(InputError, match=r"class RecordingTracker, not an instance.*RecordingTracker\(\.\.\.\)"):
        check_tracker(RecordingTracker)
    with pytest.raises(InputError, match="class MlflowTracker"):
        check_tracker(MlflowTracker)


def test_log_report_refuses_bad_arguments_before_opening_a_run():
    recorder = RecordingTracker()
    report = Report(title="t", summary={"n": 1})
    with pytest.raises(InputError, match="report is a dict"):
        log_report({"n": 1}, tracker=recorder)
    with pytest.raises(InputError, match="tracker is a str"):
        log_report(report, tracker="sqlite:///mlflow.db")
    for bad in ("", 3):
        with pytest.raises(InputError, match="prefix is"):
            log_report(report, tracker=recorder, prefix=bad)
    with pytest.raises(InputError, match="note is"):
        log_report(report, tracker=recorder, note=["idea"])
    assert recorder.runs == {}
    assert recorder.calls == []


def test_track_does_nothing_without_a_tracker():
    assert track(Report(title="t", summary={"n": 1}), None, run_name="x") is None


def test_errors_are_mllife_errors():
    from mllife import TrackingError, TrackingWarning
    from mllife.tracking import TrackingError as Again

    assert issubclass(TrackingError, MllifeError)
    assert Again is TrackingError
    assert issubclass(TrackingWarning, Warning)
