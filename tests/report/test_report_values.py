"""Reports are values: frozen fields, copies in and out, equality, ``from_dict`` and ``load``.

The per-producer checks (every report mllife returns) live in
``tests/test_report_contract.py``; this file tests the machinery on small reports
built by hand, and what ``from_dict`` refuses.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.report import Finding, FrozenDict, Plot, Report
from mllife.report._codec import MAX_DEPTH, Decoder, encode
from mllife.report._frozen import freeze
from mllife.report._plots import bar


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": np.array([1, 2, 3], dtype="int64"),
        "x": [0.5, np.nan, np.inf],
        "flag": [True, False, True],
        "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
        "zone": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"]).tz_localize(
            "Europe/Paris"),
        "wait": pd.to_timedelta(["1D", "2h", None]),
        "plan": pd.Categorical(["b", "a", "b"], categories=["b", "a", "c"], ordered=True),
        "mixed": pd.Series([1.5, pd.Timestamp("2024-01-01"), np.nan], dtype=object),
        "count": pd.array([1, None, 3], dtype="Int64"),
        "text": pd.Series(["a", None, "c"], dtype="string"),
    }, index=pd.Index([10, 20, 30], name="row"))


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _Scores(Report):
    """A user's report: a frame, an array, a mapping, a list and a float that may be NaN."""

    table: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    draws: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    settings: dict = dataclasses.field(default_factory=dict)
    names: list = dataclasses.field(default_factory=list)
    score: float = float("nan")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "settings", dict(self.settings))   # left mutable on purpose

    def _tables(self):
        return {"scores": self.table}

    def _derive_findings(self):
        return [Finding("low", "warning", message="low score")] if self.score < 0.5 else []

    def _extra(self):
        return {"settings": dict(self.settings), "score": self.score}

    def _plots(self):
        values = [float(v) for v in self.draws if np.isfinite(v)]
        return (Plot("Draws", functools.partial(bar, labels=[str(v) for v in values],
                                                values=values)),)


def _scores(**kw) -> _Scores:
    base = {"table": _frame(), "draws": np.array([0.1, np.nan, 0.3]),
            "settings": {"alpha": 0.05, "columns": ["a", "b"], "by": {1: "one"}},
            "names": ["x", "y"], "score": 0.25}
    return _Scores(title="Scores", **{**base, **kw})


# ---- frozen fields ------------------------------------------------------------------
def test_fields_are_frozen_after_the_whole_post_init_chain():
    r = _scores()
    assert isinstance(r.settings, FrozenDict)          # frozen after the subclass's own dict()
    assert r.settings["columns"] == ("a", "b")
    assert r.names == ("x", "y")
    assert not r.draws.flags.writeable
    with pytest.raises(TypeError):
        r.settings["alpha"] = 1.0                      # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.score = 1.0                                  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        r.draws[0] = 9.0


def test_the_frame_passed_in_and_the_frame_read_never_change_the_report():
    frame, draws, settings = _frame(), np.array([1.0, 2.0]), {"alpha": 0.05, "columns": ["a"]}
    r = _scores(table=frame, draws=draws, settings=settings)
    before = r.to_dict()
    frame.loc[10, "x"] = -1.0
    frame["new"] = 1
    draws[0] = -1.0
    settings["alpha"] = 0.5
    settings["columns"].append("b")
    read = r.table
    read.loc[10, "x"] = -2.0
    del read["n"]
    r.table.index.name = "renamed"
    main = r.to_frame()
    main.loc[10, "x"] = -3.0
    assert r.to_dict() == before
    assert r.table.loc[10, "x"] == 0.5
    assert "n" in r.table
    assert r.table.index.name == "row"


def test_tables_of_a_plain_report_are_copied_both_ways():
    frame = pd.DataFrame({"a": [1, 2]})
    r = Report(tables={"t": frame}, summary={"rows": [1, 2]})
    frame.loc[0, "a"] = 9
    read = r.tables["t"]
    read.loc[0, "a"] = 8
    for table in r.tables.values():
        table.loc[1, "a"] = 7
    assert r.tables["t"]["a"].tolist() == [1, 2]
    assert r.summary["rows"] == (1, 2)


def test_equality_is_equality_of_to_dict():
    a, b = _scores(), _scores()
    assert a == b
    assert hash(a) == hash(b)
    assert a is not b
    assert a != _scores(score=0.3)
    assert a != Report(title="Scores")
    assert {a, b} == {a}


def test_pickle_deepcopy_and_replace_keep_the_value():
    r = _scores()
    for twin in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r), dataclasses.replace(r)):
        assert twin == r
        assert type(twin) is _Scores
        assert not twin.draws.flags.writeable
        assert isinstance(twin.settings, FrozenDict)
        pd.testing.assert_frame_equal(twin.table, r.table)


def test_a_pickle_of_the_earlier_layout_still_loads():
    r = Report(title="old", summary={"rows": 1})
    state = dict(vars(r))
    state["summary"] = dict(state["summary"])
    old = Report.__new__(Report)
    old.__setstate__({"state": state, "proxies": ["summary"], "frozen": []})
    assert old == r
    assert isinstance(old.summary, FrozenDict)


def test_freeze_and_frozen_dict():
    value = freeze({"a": [1, {"b": [2]}], "arr": np.arange(3), "t": (1, [2])})
    assert value["a"] == (1, FrozenDict({"b": (2,)}))
    assert value["t"] == (1, (2,))
    assert not value["arr"].flags.writeable
    for twin in (copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert isinstance(twin, FrozenDict)
        assert twin["t"] == value["t"]
        np.testing.assert_array_equal(twin["arr"], value["arr"])
    assert repr(FrozenDict({"a": 1})) == "FrozenDict({'a': 1})"


# ---- from_dict: the round trip ------------------------------------------------------
def test_from_dict_rebuilds_every_field_with_its_dtype():
    r = _scores()
    data = json.loads(r.to_json())
    again = _Scores.from_dict(data)
    assert again == r
    assert again.to_dict() == r.to_dict()
    pd.testing.assert_frame_equal(again.table, r.table)
    np.testing.assert_array_equal(again.draws, r.draws)
    assert again.settings["by"] == {1: "one"}          # a non-text key comes back
    assert np.isnan(Report.from_dict(_scores(score=float("nan")).to_dict()).score)
    assert again.findings == r.findings
    assert again.findings[0].check == "low"
    assert "<img" in again.to_html()                   # rendering works on what came back


def test_report_from_dict_dispatches_and_subclasses_check():
    from mllife.audit import AuditReport

    r = _scores()
    assert type(Report.from_dict(r.to_dict())) is _Scores
    with pytest.raises(InputError, match="not a AuditReport"):
        AuditReport.from_dict(r.to_dict())
    with pytest.raises(InputError, match="unknown report class"):
        Report.from_dict({**r.to_dict(), "report": "os.system"})


def test_the_findings_come_back_as_saved():
    given = Finding("given", "info", column=("a", 1), message="m", sample_index=(3, 4),
                    details={"k": [1, 2]})
    r = _scores(findings=[given])
    again = Report.from_dict(json.loads(r.to_json()))
    assert [f.check for f in again.findings] == ["low", "given"]
    assert again.findings[1].column == ("a", 1)
    assert again.findings[1].details == {"k": [1, 2]}


def test_save_and_load(tmp_path):
    r = _scores()
    path = r.save(tmp_path / "scores.json")
    assert Report.load(path) == r
    assert _Scores.load(path) == r
    with pytest.raises(InputError, match="bytes"):
        Report.load(path, max_bytes=100)
    (tmp_path / "nan.json").write_text(path.read_text().replace('"score": 0.25', '"score": NaN'))
    with pytest.raises(InputError, match="strict JSON"):
        Report.load(tmp_path / "nan.json")
    (tmp_path / "cut.json").write_text(path.read_text()[:-20])
    with pytest.raises(InputError, match="strict JSON"):
        Report.load(tmp_path / "cut.json")


def test_a_dict_without_fields_reads_as_a_plain_report_of_its_views():
    data = _scores().to_dict()
    del data["fields"]
    plain = Report.from_dict(data)
    assert type(plain) is Report
    assert plain.title == "Scores"
    assert list(plain.tables["scores"].columns) == list(_frame().columns)
    assert [f.check for f in plain.findings] == ["low"]
    with pytest.raises(InputError, match="no 'fields'"):
        _Scores.from_dict(data)


# ---- from_dict: what it refuses -----------------------------------------------------
def _bad(mutate):
    data = json.loads(_scores().to_json())
    mutate(data)
    return data


@pytest.mark.parametrize(("mutate", "match"), [
    (lambda d: d.update(unexpected=1), "unknown keys"),
    (lambda d: d["fields"].update(unknown_field=1), "unknown fields"),
    (lambda d: d["fields"].update(score="high"), "field 'score'"),
    (lambda d: d["fields"].update(table=[1, 2]), "field 'table'"),
    (lambda d: d["fields"].update(title=3), "field 'title'"),
    (lambda d: d.update(fields=[]), "'fields' is a list"),
    (lambda d: d.update(report=None), "names its class"),
    (lambda d: d.update(format_version=99), "format version"),
    (lambda d: d["findings"].append({"check": "x", "severity": "fatal"}), "severity"),
    (lambda d: d["findings"].append({"check": "x", "severity": "info", "code": 1}), "unknown keys"),
    (lambda d: d["findings"].append({"check": 1, "severity": "info"}), "check is a int"),
    (lambda d: d.update(findings={}), "'findings' is a dict"),
    (lambda d: d["fields"].update(score={"$float": "huge"}), r"\$float"),
    (lambda d: d["fields"].update(score={"$eval": "1+1"}), "unknown typed value"),
    (lambda d: d["fields"].update(score={"$float": "nan", "x": 1}), "beside other keys"),
    (lambda d: d["fields"]["draws"]["$array"].update(shape=[2]), "shape"),
    (lambda d: d["fields"]["draws"]["$array"].update(shape=[10**12]), "shape"),
    (lambda d: d["fields"]["table"]["$frame"].update(dtypes=["int64"]), "dtype"),
    (lambda d: d["fields"]["table"]["$frame"].update(table="missing"), "refers to"),
    (lambda d: d["fields"]["table"]["$frame"].update(data=[[1]]), "one source"),
    (lambda d: d["tables"]["scores"].append({"n": 4}), "records"),
    (lambda d: d["fields"]["table"]["$frame"].update(columns=[{"a": 1}] * 10), "key or a name"),
])
def test_from_dict_refuses_what_to_dict_never_writes(mutate, match):
    with pytest.raises(InputError, match=match):
        Report.from_dict(_bad(mutate))


def test_dtypes_come_from_an_allow_list():
    decode = Decoder(lambda where: None)
    frame = {"$frame": {"columns": ["a", "b", "c"], "dtypes": ["V1000000000", "U99999999", "str"],
                        "data": [[1, 2], ["x", "y"], ["p", None]]}}
    out = decode(frame)
    assert out["a"].dtype == object
    assert out["b"].dtype == object
    assert out["c"].tolist()[0] == "p"
    with pytest.raises(InputError, match="dtype"):
        decode({"$frame": {"columns": ["a"], "dtypes": ["x" * 100], "data": [[1]]}})


def test_nesting_and_size_are_bounded():
    deep: object = 1
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(InputError, match="nested too deeply"):
        Decoder(lambda where: None)(deep)
    with pytest.raises(InputError, match="too many values"):
        Decoder(lambda where: None, max_items=10)(list(range(20)))
    with pytest.raises(InputError, match="JSON values only"):
        Decoder(lambda where: None)({"a": object()})


def test_encode_keeps_what_json_cannot_say():
    value = {"nan": float("nan"), "inf": -np.inf, "when": pd.Timestamp("2024-01-01", tz="UTC"),
             "day": pd.Timestamp("2024-01-01").date(), "wait": pd.Timedelta("1h"), 2: "two",
             "$dollar": 1, "series": pd.Series([1.0, None], name="s", index=["a", "b"])}
    back = Decoder(lambda where: None)(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert np.isnan(back["nan"])
    assert back["inf"] == -np.inf
    assert back["when"] == value["when"]
    assert str(back["when"].tz) == "UTC"
    assert back["day"] == value["day"]
    assert back["wait"] == value["wait"]
    assert back[2] == "two"
    assert back["$dollar"] == 1
    pd.testing.assert_series_equal(back["series"], value["series"])
