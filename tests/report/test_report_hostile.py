"""``Report.from_dict`` and ``Report.load`` read files: hostile input raises ``InputError``.

Crafted JSON must never reach the user as a raw pandas/numpy/Python error, never make
pandas or numpy build a silently wrong value, never read the clock, and never cost
much more than its own size. Also: what ``FrozenDict`` keeps of a read-only mapping's
behaviour (``|``, ``copy()``, ``hash``), as ``MappingProxyType`` did before it.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import time

import pandas as pd
import pytest

from mllife import InputError
from mllife.report import FrozenDict, Report
from mllife.report._codec import Decoder


def _decode(obj):
    return Decoder(lambda where: None)(obj)


def _frame(**kw):
    return {"$frame": {"columns": ["a"], "dtypes": ["float64"], "data": [[1.0]], **kw}}


def _series(dtype, data, **kw):
    return {"$series": {"name": "s", "dtype": dtype, "data": data, **kw}}


def _category(categories):
    return {"name": "category", "categories": categories, "ordered": False}


# ---- typed values pandas or numpy cannot build --------------------------------------
@pytest.mark.parametrize("obj", [
    pytest.param({"$items": [[_frame(), 1]]}, id="frame-as-mapping-key"),
    pytest.param({"$items": [[{"$array": {"dtype": "int64", "shape": [1], "data": [1]}}, 1]]},
                 id="array-as-mapping-key"),
    pytest.param(_series("int64", [1]) | {"$series": {"name": _frame(), "dtype": "int64",
                                                      "data": [1]}}, id="frame-as-series-name"),
    pytest.param({"$frame": {"columns": ["a"], "dtypes": ["int64"], "data": [None],
                             "typed": {"\u00b2": [1]}}}, id="superscript-column-position"),
    pytest.param({"$frame": {"columns": [], "dtypes": [], "data": [], "multi_columns": True}},
                 id="empty-multi-columns"),
    pytest.param(_series("int64", [1], index={"multi": True, "names": ["a"], "values": [5]}),
                 id="multi-index-label-not-a-list"),
    pytest.param(_series("int64", [1], index={"multi": True, "names": ["a", "b", "c"],
                                              "values": [[1, 2]]}), id="multi-index-names"),
    pytest.param(_series(_category(["a", "a"]), ["a"]), id="duplicate-categories"),
    pytest.param(_series(_category(["a", None]), ["a"]), id="null-category"),
    pytest.param(_series(_category([[1]]), ["a"]), id="list-category"),
    pytest.param(_series(_category(["a"]), [[1]]), id="list-in-categorical"),
    pytest.param({"$array": {"dtype": "float64", "shape": [0, 2**70], "data": []}},
                 id="array-dimension-past-intp"),
    pytest.param({"$array": {"dtype": "float64", "shape": [0, 2**62, 2**62], "data": []}},
                 id="array-too-big"),
    pytest.param({"$timestamp": ["2024-01-01T00:00:00+00:00", ""]}, id="empty-time-zone"),
])
def test_typed_values_pandas_cannot_build_raise_input_error(obj):
    with pytest.raises(InputError):
        _decode(obj)


def test_a_hostile_field_reaches_from_dict_as_input_error():
    data = Report(title="t", summary={"a": 1}).to_dict()
    data["fields"]["summary"] = {"$items": [[_frame(), 1]]}
    with pytest.raises(InputError, match="fields"):
        Report.from_dict(json.loads(json.dumps(data)))


# ---- typed values that would come back silently wrong --------------------------------
def test_a_timestamp_past_the_unit_range_is_not_wrapped_around():
    out = _decode(_series("datetime64[ns]", ["9999-12-31T00:00:00"]))
    assert out.tolist() == ["9999-12-31T00:00:00"]        # kept as written, never year 1816
    ok = _decode(_series("datetime64[ns]", ["2024-01-01T00:00:00.000000001", None]))
    assert ok.dtype == "datetime64[ns]"
    assert ok[0] == pd.Timestamp("2024-01-01T00:00:00.000000001")
    days = _decode({"$array": {"dtype": "datetime64[D]", "shape": [1], "data": ["2024-01-02"]}})
    assert days.dtype == "datetime64[D]"


@pytest.mark.parametrize(("dtype", "data"), [
    ("float64", ["nan", "1e5"]), ("bool", [5, 0]), ("int64", [True, 1.5]),
    ("int64", [[1, 2]]), ("float64", [[1.0, 2.0], 3.0]),
])
def test_values_of_another_type_are_not_cast_into_a_numeric_dtype(dtype, data):
    out = _decode(_series(dtype, data))
    assert out.dtype == object
    assert out.tolist() == data                           # kept as objects, as written


def test_nested_lists_never_become_a_second_dimension():
    array = _decode({"$array": {"dtype": "float64", "shape": [1], "data": [[1, 2]]}})
    assert array.shape == (1,)
    frame = _decode({"$frame": {"columns": ["a"], "dtypes": ["float64"], "data": [[[1, 2]]]}})
    assert frame.shape == (1, 1)
    series = _decode(_series("int64", [1], index={"dtype": "float64", "values": [[1, 2]]}))
    assert series.index.tolist() == [[1, 2]]


@pytest.mark.parametrize("text", ["now", "today", "NOW"])
def test_a_timestamp_never_reads_the_clock(text):
    with pytest.raises(InputError, match="ISO 8601"):
        _decode({"$timestamp": text})


# ---- bounded work ----------------------------------------------------------------------
def _chained_refs() -> dict:
    data = Report(title="t", summary={"a": 1}).to_dict()
    data["x"] = [{"$ref": "y"}] * 1000
    data["y"] = [{"$ref": "z"}] * 1000
    data["z"] = [0] * 1000
    data["fields"]["summary"] = {"$ref": "x"}
    return data


def test_references_do_not_chain_a_small_file_into_a_billion_values():
    data = _chained_refs()
    assert len(json.dumps(data)) < 40_000
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"\$ref"):
        Report.from_dict(data)
    assert time.perf_counter() - start < 2.0


def test_a_reference_is_used_once_and_only_as_a_whole_field():
    data = Report(title="t", summary={"a": 1}).to_dict()
    data["x"] = [1, 2]
    data["fields"]["summary"] = {"k": {"$ref": "x"}}
    with pytest.raises(InputError, match=r"\$ref"):
        Report.from_dict(data)
    data["fields"]["summary"] = {"$items": [[1, {"$ref": "x"}], [2, {"$ref": "x"}]]}
    with pytest.raises(InputError, match=r"\$ref"):
        Report.from_dict(data)


def test_load_spends_no_more_values_than_the_file_has_bytes(tmp_path):
    base = Report(title="t", tables={"t": pd.DataFrame({"a": range(2_000)})})
    data = base.to_dict()
    frame = data["fields"]["tables"]["t"]                  # a reference to the "t" table
    assert "table" in frame["$frame"]
    data["fields"]["summary"] = {"$items": [[i, frame] for i in range(5_000)]}  # 10M cells
    path = tmp_path / "amplified.json"
    path.write_text(json.dumps(data))
    start = time.perf_counter()
    with pytest.raises(InputError, match="too many values"):
        Report.load(path)
    assert time.perf_counter() - start < 5.0
    assert Report.load(base.save(tmp_path / "fine.json")) == base


def test_deep_nesting_outside_the_fields_raises_input_error():
    deep: object = 1
    for _ in range(900):                                  # json.loads reads this much nesting
        deep = [deep]
    data = Report(title="t").to_dict()
    with pytest.raises(InputError, match="nested too deeply"):
        Report.from_dict({**data, "findings": [{"check": "c", "severity": "info",
                                                "details": {"x": deep}}]})
    with pytest.raises(InputError, match="nested too deeply"):
        Report.from_dict({**data, "findings": [{"check": "c", "severity": "info",
                                                "column": deep}]})
    views = {k: v for k, v in data.items() if k != "fields"}
    with pytest.raises(InputError, match="nested too deeply"):
        Report.from_dict({**views, "summary": {"x": deep}})


# ---- load: the file ----------------------------------------------------------------------
def test_load_refuses_duplicate_keys(tmp_path):
    text = Report(title="t", summary={"a": 1}).to_json(indent=None)
    path = tmp_path / "dup.json"
    path.write_text(text[:-1] + ', "title": "another"}')
    with pytest.raises(InputError, match="duplicate key"):
        Report.load(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_load_reads_at_most_max_bytes_of_a_file_whose_size_is_unknown():
    start = time.perf_counter()
    with pytest.raises(InputError, match="bytes"):
        Report.load("/dev/zero", max_bytes=1_000_000)      # st_size is 0: reading never ends
    assert time.perf_counter() - start < 5.0


# ---- from_dict: field types -------------------------------------------------------------
@pytest.mark.parametrize(("name", "value", "match"), [
    ("tables", {"t": 1}, "field 'tables'"),
    ("notes", [1], "field 'notes'"),
])
def test_the_items_of_a_field_have_the_declared_type(name, value, match):
    data = Report(title="t").to_dict()
    data["fields"][name] = value
    with pytest.raises(InputError, match=match):
        Report.from_dict(data)


def test_a_subclass_whose_annotations_do_not_resolve_refuses_files():
    """No silent skip of the field type check: a file it cannot check is refused."""
    import dataclasses

    @dataclasses.dataclass(frozen=True, eq=False)
    class Odd(Report):
        extra: NotDefinedAnywhere = None  # type: ignore[name-defined]  # noqa: F821

    data = Report(title="t").to_dict()
    data["report"] = "Odd"
    with pytest.raises(InputError, match="annotations do not resolve"):
        Odd.from_dict(data)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_the_format_version_is_the_integer_one(version):
    with pytest.raises(InputError, match="format version"):
        Report.from_dict({**Report(title="t").to_dict(), "format_version": version})


# ---- FrozenDict keeps what MappingProxyType offered ------------------------------------
def test_frozen_dict_merges_copies_and_hashes_like_a_read_only_mapping():
    summary = Report(title="t", summary={"rows": 3}).summary
    assert summary | {"cols": 2} == {"rows": 3, "cols": 2}
    assert type(summary | {"cols": 2}) is dict
    assert {"cols": 2} | summary == {"cols": 2, "rows": 3}
    copied = summary.copy()
    copied["rows"] = 4
    assert summary["rows"] == 3
    assert type(copied) is dict
    assert copy.copy(summary) == summary
    assert hash(FrozenDict({"a": 1, "b": (2,)})) == hash(FrozenDict({"b": (2,), "a": 1}))
    assert len({FrozenDict({"a": 1}), FrozenDict({"a": 1})}) == 1
    with pytest.raises(TypeError):
        hash(FrozenDict({"a": [1]}))                          # unhashable values, like a tuple
    with pytest.raises(TypeError):
        summary |= {"x": 1}                                   # type: ignore[misc]
    assert pickle.loads(pickle.dumps(summary)) == summary
    frames = FrozenDict({"t": pd.DataFrame({"a": [1]})})
    merged = frames | {}
    merged["t"].loc[0, "a"] = 9                               # a merge hands out copies too
    assert frames["t"]["a"].tolist() == [1]


# ---- errors: a user's subclass with a constructor of its own unpickles -----------------
class _ColumnMissing(InputError):
    def __init__(self, name: str) -> None:
        super().__init__("is missing", column=name, expected="the column")


def test_an_error_subclass_with_its_own_constructor_pickles():
    from mllife import SchemaError

    class _Contract(SchemaError):
        def __init__(self, column: str) -> None:
            super().__init__([{"column": column, "problem": "missing column", "count": 1}])

    err = _ColumnMissing("age")
    for twin in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(twin) is _ColumnMissing
        assert str(twin) == str(err)
        assert vars(twin) == vars(err)
    contract = _Contract("age")
    twin = copy.deepcopy(contract)                       # a local class: deepcopy, not pickle
    assert twin.problems == contract.problems
    assert str(twin) == str(contract)
