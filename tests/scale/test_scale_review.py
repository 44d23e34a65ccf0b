"""Review of the Dask paths of drift and monitor: defects found by a hostile review, each pinned.

Every test runs on the module's real ``distributed`` cluster (``client``).
Bad input must reach the user as an :class:`~mllife.MllifeError` naming what
is wrong (the path, the column), never as a raw pyarrow/pandas/dask error
re-raised from a worker.
"""

from __future__ import annotations

from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.drift import DriftProfile, drift_report

pytestmark = pytest.mark.usefixtures("client")


def _frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=float), "c": list("abcd" * (n // 4))})


def _corrupt_dataset(tmp_path: Path) -> Path:
    """A folder of two Parquet files, the second not Parquet at all (its schema is never read
    up front: Dask reads the first file's footer, the second fails when its partition is read)."""
    _frame().to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "part-1.parquet").write_bytes(b"not a parquet file at all")
    return tmp_path


@pytest.mark.parametrize("as_glob", [False, True])
def test_corrupt_file_in_a_parquet_folder_is_an_input_error(tmp_path: Path, as_glob: bool) -> None:
    # Defect: a corrupt file among good ones raised pyarrow's ArrowInvalid from the worker.
    path = _corrupt_dataset(tmp_path)
    source = str(path / "*.parquet") if as_glob else str(path)
    with pytest.raises(InputError, match="Parquet") as info:
        DriftProfile.fit(source)
    assert "ArrowInvalid" in str(info.value)  # the reader's own words are kept in the message


def test_corrupt_parquet_file_as_current_side_is_an_input_error(tmp_path: Path) -> None:
    path = _corrupt_dataset(tmp_path)
    with pytest.raises(InputError, match="Parquet"):
        drift_report(_frame(), str(path))
    with pytest.raises(InputError, match="Parquet"):
        DriftProfile.fit(_frame()).compare(str(path))


def test_parquet_files_with_different_columns_is_an_input_error(tmp_path: Path) -> None:
    # Defect: a dataset whose second file lacks the first file's columns raised a raw
    # KeyError("None of [Index(['x', 'c'])] are in the [columns]") from Dask's reader.
    _frame().to_parquet(tmp_path / "part-0.parquet")
    pd.DataFrame({"q": [1.0, 2.0]}).to_parquet(tmp_path / "part-1.parquet")
    with pytest.raises(InputError, match="Parquet"):
        DriftProfile.fit(str(tmp_path))


def test_partition_without_a_column_of_the_meta_names_the_column() -> None:
    # Defect: a partition lacking a column Dask's meta promises raised a raw KeyError('x')
    # inside the leaf task; it must be an InputError naming the column and the partition.
    meta = pd.DataFrame({"x": np.zeros(0), "y": np.zeros(0)})
    good = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    bad = pd.DataFrame({"y": [5.0]})
    ddf = dd.from_delayed([dask.delayed(good), dask.delayed(bad)], meta=meta, verify_meta=False)
    with pytest.raises(InputError, match="partition 1") as info:
        DriftProfile.fit(ddf)
    assert info.value.column == "x"
    with pytest.raises(InputError, match="partition 1"):
        drift_report(good, ddf)


def test_good_parquet_still_equals_pandas(tmp_path: Path) -> None:
    # The fix must not touch the good path: a folder of good files equals the computed frame.
    frame = _frame(40)
    frame.iloc[:20].to_parquet(tmp_path / "part-0.parquet")
    frame.iloc[20:].to_parquet(tmp_path / "part-1.parquet")
    got = DriftProfile.fit(str(tmp_path)).to_dict()
    want = DriftProfile.fit(dd.read_parquet(str(tmp_path)).compute()).to_dict()
    assert got == want


def test_monitor_observe_corrupt_parquet_is_an_input_error_and_changes_nothing(tmp_path: Path) -> None:
    from tests.monitor.conftest import T0, _churn_bundle

    from mllife.monitor import Monitor

    fitted = _churn_bundle()
    rows = fitted.pool.iloc[:40].drop(columns="y").reset_index(drop=True)
    rows["t"] = T0 + pd.to_timedelta(np.arange(len(rows)) * 5, unit="min")
    rows.to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "part-1.parquet").write_bytes(b"not a parquet file at all")
    monitor = Monitor(fitted.bundle, reference=fitted.reference, label_col="y", id_col="id", time_col="t")
    with pytest.raises(InputError, match="Parquet"):
        monitor.observe(str(tmp_path))
    assert (monitor.n_rows, monitor.windows) == (0, [])  # the failed batch left no trace
    monitor.observe(str(tmp_path / "part-0.parquet"))  # the good file alone is observed
    assert monitor.n_rows == len(rows)


def test_hive_partitioned_parquet_folder_is_read(tmp_path: Path) -> None:
    # Defect: a folder written by pandas' to_parquet(path, partition_cols=[...]) (or Dask's
    # partition_on=) holds its files in key=value subfolders; it was not recognised as a
    # Parquet dataset and reached as_frame as a plain string ("has 0 dimension(s)").
    frame = pd.DataFrame({"x": np.arange(20, dtype=float), "k": list("ab" * 10)})
    frame.to_parquet(tmp_path, partition_cols=["k"])
    got = DriftProfile.fit(str(tmp_path))
    want = DriftProfile.fit(dd.read_parquet(str(tmp_path)).compute())
    assert got.n_rows == 20
    assert got.to_dict() == want.to_dict()
    assert drift_report(str(tmp_path), frame).table["column"].tolist() == ["x", "k"]
