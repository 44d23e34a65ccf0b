"""The private Dask layer (mllife._dask): recognising frames and paths, the tree, progress."""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import _dask
from mllife._frame import as_frame, as_series
from mllife.scale import progress


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(50, dtype=float), "c": list("abcde") * 10})


def test_dask_frames_and_parquet_paths_are_recognised(frame, tmp_path):
    ddf = dd.from_pandas(frame, npartitions=3)
    assert _dask.is_dask_frame(ddf)
    assert not _dask.is_dask_frame(frame)
    assert not _dask.is_dask_frame(ddf["x"])  # a Dask Series is not a frame
    frame.to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "notes.txt").write_text("not parquet")
    assert _dask.is_parquet_path(tmp_path / "part-0.parquet")
    assert _dask.is_parquet_path(str(tmp_path / "*.parquet"))
    assert _dask.is_parquet_path(tmp_path)  # a folder holding Parquet files
    assert not _dask.is_parquet_path(tmp_path / "notes.txt")
    assert not _dask.is_parquet_path(tmp_path / "missing-folder")
    assert not _dask.is_parquet_path(b"x.parquet")
    assert _dask.to_dask_frame(frame) is None
    read = _dask.to_dask_frame(tmp_path)
    pd.testing.assert_frame_equal(read.compute().reset_index(drop=True), frame, check_dtype=False)


def test_a_bad_parquet_path_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(mllife.InputError, match=r"nothing-here.*Parquet"):
        _dask.to_dask_frame(str(tmp_path / "nothing-here" / "*.parquet"), name="reference")
    bogus = tmp_path / "bogus.parquet"
    bogus.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(mllife.InputError, match=r"bogus\.parquet"):
        _dask.to_dask_frame(bogus, name="reference")


def test_duplicate_column_names_are_refused(frame):
    twice = dd.from_pandas(frame, npartitions=2)
    twice = dd.concat([twice, twice["x"]], axis=1)
    with pytest.raises(mllife.InputError, match="duplicate column names x"):
        _dask.to_dask_frame(twice, name="current")


def test_pandas_only_functions_refuse_a_dask_collection_instead_of_computing_it(frame):
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(mllife.InputError, match=r"X is a Dask collection.*\.compute\(\)"):
        as_frame(ddf)
    with pytest.raises(mllife.InputError, match=r"y is a Dask collection"):
        as_series(ddf["x"])
    with pytest.raises(mllife.InputError, match="Dask collection"):
        as_frame(ddf["x"])


def _leaf(part: pd.DataFrame, i: int) -> list[tuple[int, int]]:
    return [(i, len(part))]


def _merge(parts: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    return [item for p in parts for item in p]


@pytest.mark.parametrize("npartitions", [1, 2, 8, 9, 64, 65])
def test_the_tree_merges_every_partition_once_in_partition_order(client, npartitions):
    frame = pd.DataFrame({"x": np.arange(200)})
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False)
    (out,) = _dask.compute(_dask.tree_reduce(ddf, _leaf, _merge))
    assert [i for i, _ in out] == list(range(ddf.npartitions))
    assert sum(n for _, n in out) == 200
    merges = []

    def recording(parts):
        merges.append(len(parts))
        return _merge(parts)

    (again,) = dask.compute(_dask.tree_reduce(ddf, _leaf, recording, split_every=3), scheduler="sync")
    assert again == out
    assert all(2 <= m <= 3 or ddf.npartitions == 1 for m in merges) or merges == []


def test_the_tree_refuses_a_split_every_below_two(frame):
    with pytest.raises(mllife.InputError, match="split_every"):
        _dask.tree_reduce(dd.from_pandas(frame, npartitions=2), _leaf, _merge, split_every=1)


def test_progress_shows_a_bar_with_the_local_scheduler_and_with_a_client(frame, capsys, client):
    lazy = _dask.tree_reduce(dd.from_pandas(frame, npartitions=4), _leaf, _merge)
    with dask.config.set(scheduler="sync"), progress():
        (local,) = _dask.compute(lazy)
    assert "Completed" in capsys.readouterr().out
    with progress():
        (distributed,) = _dask.compute(lazy)
    out = capsys.readouterr().out
    assert "100%" in out or "Completed" in out
    assert local == distributed
    with progress(), progress(False):
        _dask.compute(lazy)
    assert capsys.readouterr().out == ""
    assert not _dask.progress_enabled()


def test_progress_refuses_a_non_bool():
    with pytest.raises(mllife.InputError, match="enabled"), progress("yes"):  # type: ignore[arg-type]
        pass
