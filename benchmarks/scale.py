"""Benchmark: ``DriftProfile.fit`` and ``audit`` on a Parquet dataset with Dask, against pandas.

Writes a synthetic table of ``--rows`` rows (default 20,000,000) x ``--columns``
columns (default 25) as Parquet, ``--file-rows`` rows per file (default
500,000: 40 files), one seeded chunk at a time (never the whole table in
memory): normal, lognormal and integer numbers (some missing, a ``-999``
sentinel), strings of 3 to 20,000 levels (``"N/A"`` tokens, ``" Yes"`` /
``"yes"`` variants, numbers written as text), a ``category`` column, a mostly
missing and a constant column, a UTC datetime, a flag and a binary target with
4% positives; a few rows are planted duplicates (inside a file and across
files).

Then, in the same run:

(a) Dask: a ``LocalCluster`` of ``--workers`` worker processes (default 2, one
    thread each) capped at ``--memory-limit`` each (default 1.5GB); times
    ``DriftProfile.fit(path)`` and ``audit(path, target="target")`` on the
    whole dataset (``--report`` adds ``drift_report`` of the first half of the
    files against the second half); each worker's process memory (RSS) is
    sampled every 0.05 s by a thread in the worker and its maximum reported,
    with whether a worker paused (80% of its cap), spilled to disk or was
    restarted;
(b) pandas: the first ``--slice-rows`` rows (default 2,000,000: the first
    files) in memory; times ``DriftProfile.fit(frame)`` and
    ``audit(frame, target="target")`` (the frame is read before the timer:
    the in-memory cost, the strictest baseline);
(c) equality: the same slice read as a Dask frame from the same files gives
    the pandas profile (counts, missing and inf counts, category tables,
    column kinds exact; means and variances to a relative 1e-9; quantile
    sketches within their stated ``rank_error`` of the exact column) and the
    same audit findings (every check that ran distributed: check, severity,
    column, rows, share, message and sample row labels; on a column above the
    audit's distinct-value cap, check, severity and column; the checks run on
    a sample must say so) and profile table; on the whole table, the profile
    counts every row and the audit finds the planted duplicates.

Prints wall time, rows/s, seconds per million rows of each call, the ratio
of Dask's per-row cost to pandas' (target <= 1.5x), the peak memory per
worker against its cap, and the equality results; exits non-zero when an
equality check fails.

    python benchmarks/scale.py                      # 20,000,000 x 25, 2 workers x 1.5GB
    python benchmarks/scale.py --quick              # 200,000 rows, 20,000 per file
    python benchmarks/scale.py --rows 4000000 --slice-rows 1000000 --keep --out /data/scale

On a multi-machine cluster the same calls run unchanged: only the client
changes (``Client("tcp://scheduler:8786")``), see ``docs/scale.md``.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from distributed import get_task_stream
from distributed.diagnostics.plugin import WorkerPlugin

START = pd.Timestamp("2025-01-01", tz="UTC")
SPAN_SECONDS = 365 * 86_400
N_BASE = 25  # the named columns below; more are extra normal numbers
SEGMENTS = ("consumer", "small_business", "enterprise", "public_sector")
COUNTRIES = np.array(["DE", "FR", "US", "GB", "IT", "ES", "NL", "PL", "SE", "N/A"], dtype=object)
ANSWERS = np.array(["yes", "no", " Yes", "YES", "No"], dtype=object)
ANSWER_P = np.array([0.45, 0.45, 0.04, 0.03, 0.03])
DUPLICATES_PER_FILE = 20  # copies of earlier rows of the same file
CARRIED_PER_FILE = 5  # copies of rows of the previous file


# ---- the synthetic table ---------------------------------------------------------------------------
def column_names(n_columns: int) -> list[str]:
    """The first ``n_columns`` columns (at least 5: ``target`` always last)."""
    base = ["num_normal", "num_lognormal", "num_sentinel", "num_small", "int_count", "int_code",
            "int_wide", "cat_3", "cat_12", "cat_60", "cat_500", "cat_20000", "country", "answer",
            "amount_text", "segment", "mostly_missing", "constant", "event_at", "flag", "score",
            "num_skewed", "num_uniform", "int_age"]
    extra = [f"extra_{i:03d}" for i in range(max(0, n_columns - N_BASE))]
    return [*(base + extra)[: n_columns - 1], "target"]


def levels(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}_{i:05d}" for i in range(n)], dtype=object)


LEVELS = {name: levels(name, int(name.split("_")[1])) for name in
          ("cat_3", "cat_12", "cat_60", "cat_500", "cat_20000")}


def make_chunk(index: int, n: int, columns: Sequence[str], *, seed: int = 0,
               carried: pd.DataFrame | None = None) -> pd.DataFrame:
    """Chunk ``index`` (``n`` rows), from a generator seeded by ``(seed, index)``.

    Its last rows are planted duplicates: :data:`DUPLICATES_PER_FILE` copies
    of its own earlier rows and the ``carried`` rows of the previous chunk.
    """
    rng = np.random.default_rng([seed, index])
    out: dict[str, Any] = {}
    for name in columns:
        out[name] = _column(name, rng, n, index)
    frame = pd.DataFrame(out)
    n_carried = 0 if carried is None else min(len(carried), n // 4)
    n_own = min(DUPLICATES_PER_FILE, max(0, n // 4 - n_carried))
    if n_own + n_carried:
        own = frame.iloc[rng.choice(n // 2, n_own, replace=False)]
        copies = [own] if carried is None else [own, carried.iloc[:n_carried]]
        tail = pd.concat(copies, ignore_index=True)
        frame = pd.concat([frame.iloc[: n - len(tail)], tail], ignore_index=True)
    return frame


def _column(name: str, rng: np.random.Generator, n: int, index: int) -> Any:
    def with_missing(x: np.ndarray, share: float) -> np.ndarray:
        x = x.astype(np.float64)
        x[rng.random(n) < share] = np.nan
        return x

    if name == "num_normal":
        return with_missing(rng.normal(50.0, 10.0, n), 0.02)
    if name == "num_lognormal":
        return with_missing(rng.lognormal(3.0, 0.8, n), 0.01)
    if name == "num_sentinel":
        x = np.round(rng.gamma(3.0, 20.0, n), 2)
        x[rng.random(n) < 0.005] = -999.0
        return x
    if name == "num_small":
        return np.round(rng.normal(0.0, 1.0, n), 3)
    if name == "int_count":
        return rng.poisson(3.0, n).astype(np.int64)
    if name == "int_code":
        return rng.integers(100, 140, n)
    if name == "int_wide":
        return rng.integers(0, 10**9, n)
    if name in LEVELS:
        pool = LEVELS[name]
        if len(pool) > 100:  # Zipf-like: a few frequent levels, a long tail
            weights = 1.0 / np.arange(1, len(pool) + 1)
            codes = rng.choice(len(pool), n, p=weights / weights.sum())
        else:
            codes = rng.integers(0, len(pool), n)
        values = pool[codes]
        values[rng.random(n) < 0.01] = None
        return values
    if name == "country":
        return COUNTRIES[rng.choice(len(COUNTRIES), n, p=[0.3, 0.15, 0.15, 0.1, 0.08, 0.08, 0.05, 0.04, 0.03, 0.02])]
    if name == "answer":
        return ANSWERS[rng.choice(len(ANSWERS), n, p=ANSWER_P)]
    if name == "amount_text":
        return np.char.mod("%.2f", np.round(rng.gamma(2.0, 30.0, n), 2)).astype(object)
    if name == "segment":
        return pd.Categorical.from_codes(rng.integers(0, len(SEGMENTS), n), categories=list(SEGMENTS))
    if name == "mostly_missing":
        return with_missing(rng.normal(0.0, 1.0, n), 0.97)
    if name == "constant":
        return np.full(n, "v1", dtype=object)
    if name == "event_at":
        seconds = np.sort(rng.integers(0, SPAN_SECONDS // 1000, n)) + index * (SPAN_SECONDS // 1000)
        return pd.DatetimeIndex(START + pd.to_timedelta(seconds, unit="s"))
    if name == "flag":
        return rng.random(n) < 0.3
    if name == "score":
        return rng.beta(2.0, 5.0, n)
    if name == "num_skewed":
        return with_missing(rng.exponential(2.0, n) ** 2, 0.05)
    if name == "num_uniform":
        return rng.uniform(-1.0, 1.0, n)
    if name == "int_age":
        return rng.integers(18, 90, n)
    if name == "target":
        return (rng.random(n) < 0.04).astype(np.int64)
    return rng.normal(0.0, 1.0, n)  # extra_*


def write_dataset(out: Path, rows: int, columns: int, file_rows: int, *, seed: int = 0) -> list[Path]:
    """The table as ``part-00000.parquet``... in ``out``, one chunk in memory at a time."""
    out.mkdir(parents=True, exist_ok=True)
    names = column_names(columns)
    paths: list[Path] = []
    carried: pd.DataFrame | None = None
    for index, start in enumerate(range(0, rows, file_rows)):
        chunk = make_chunk(index, min(file_rows, rows - start), names, seed=seed, carried=carried)
        carried = chunk.iloc[: CARRIED_PER_FILE].copy()
        path = out / f"part-{index:05d}.parquet"
        chunk.to_parquet(path)
        paths.append(path)
        del chunk
    return paths


def planted_duplicates(rows: int, file_rows: int) -> int:
    """Rows that repeat an earlier row (what ``duplicate_rows`` must count)."""
    total = 0
    for index, start in enumerate(range(0, rows, file_rows)):
        n = min(file_rows, rows - start)
        carried = 0 if index == 0 else min(CARRIED_PER_FILE, n // 4)
        total += carried + min(DUPLICATES_PER_FILE, max(0, n // 4 - carried))
    return total


# ---- worker memory ---------------------------------------------------------------------------------
def _start_sampler(dask_worker: Any, interval: float = 0.05) -> None:
    """In a worker: a daemon thread keeping the process's peak RSS and whether the worker paused."""
    import os
    import threading

    import psutil

    state = {"peak": 0, "paused": False}
    process = psutil.Process(os.getpid())

    def loop() -> None:
        while True:
            state["peak"] = max(int(state["peak"]), process.memory_info().rss)
            state["paused"] = bool(state["paused"]) or str(dask_worker.status).endswith("paused")
            time.sleep(interval)

    dask_worker._mllife_bench = state  # read back by _read_sampler
    threading.Thread(target=loop, daemon=True, name="mllife-bench-rss").start()


class RssSampler(WorkerPlugin):
    """Starts :func:`_start_sampler` in every worker, a replacement for a restarted one included."""

    def setup(self, worker: Any) -> None:
        _start_sampler(worker)


def _read_sampler(dask_worker: Any, reset: bool = False) -> dict[str, Any]:
    """In a worker: its pid, peak RSS, pause flag and spill writes so far (``reset`` restarts the peak)."""
    import os

    state = getattr(dask_worker, "_mllife_bench", {"peak": None, "paused": None})
    metrics = getattr(dask_worker.data, "cumulative_metrics", {})
    written = sum(v for (label, unit), v in metrics.items() if label == "disk-write" and unit == "count")
    out = {"pid": os.getpid(), "peak": state["peak"], "paused": state["paused"], "spill_writes": int(written)}
    if reset and state["peak"] is not None:
        state["peak"], state["paused"] = 0, False
    return out


class WorkerMemory:
    """Peak RSS per worker process over a block of work, sampled inside each worker.

    A worker its nanny restarted (past 95% of its memory limit) is reported
    as ``restarted``; its replacement is sampled from its start.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        client.register_plugin(RssSampler(), name="mllife-bench-rss")
        self.pids: dict[str, int] = {}
        self.spills: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        stats = self.client.run(_read_sampler, reset=True)
        self.pids = {a: row["pid"] for a, row in stats.items()}
        self.spills = {a: row["spill_writes"] for a, row in stats.items()}

    def read(self) -> dict[str, dict[str, Any]]:
        """Per worker address since :meth:`reset`: peak RSS, paused, spill writes, restarted, new."""
        stats = self.client.run(_read_sampler)
        for address, row in stats.items():
            row["new"] = address not in self.pids
            row["restarted"] = False
            row["spill_writes"] -= self.spills.get(address, 0)
        for address in set(self.pids) - set(stats):
            stats[address] = {"pid": self.pids[address], "peak": None, "paused": None, "spill_writes": 0,
                              "restarted": True, "new": False}
        return stats


# ---- timing and checks -----------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _summary_values(summary: dict[str, Any]) -> np.ndarray:
    from mllife.drift._sketch import decode_floats  # the encoding DriftProfile.to_dict writes

    return decode_floats(summary["values"])


def sketch_distance(sketch: np.ndarray, weights: np.ndarray | None, exact: np.ndarray) -> float:
    """Largest distance between the (weighted) sketch's CDF and the exact values' CDF."""
    exact = np.sort(exact)
    if sketch.size == 0 or exact.size == 0:
        return 0.0 if sketch.size == exact.size else 1.0
    order = np.argsort(sketch, kind="stable")
    points = sketch[order]
    w = np.ones(points.size) if weights is None else weights[order]
    cum = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    at = np.union1d(points, exact)  # both CDFs are right-continuous steps: their jumps suffice
    f_sketch = cum[np.searchsorted(points, at, side="right")]
    f_exact = np.searchsorted(exact, at, side="right") / exact.size
    return float(np.max(np.abs(f_sketch - f_exact)))


def compare_profiles(ours: Any, theirs: Any, frame: pd.DataFrame) -> tuple[list[str], float]:
    """Where the Dask profile ``ours`` differs from the pandas profile ``theirs`` of ``frame``.

    Returns the differences (empty: equal) and the largest quantile-sketch
    rank error measured against the exact column.
    """
    from mllife.drift import DriftProfile

    a, b = ours.to_dict(), theirs.to_dict()
    problems: list[str] = []
    if a["n_rows"] != b["n_rows"]:
        problems.append(f"n_rows {a['n_rows']} != {b['n_rows']}")
    names_a = [c["name"] for c in a["columns"]]
    names_b = [c["name"] for c in b["columns"]]
    if names_a != names_b:
        return [*problems, f"columns {names_a} != {names_b}"], math.nan
    worst = 0.0
    for ca, cb in zip(a["columns"], b["columns"], strict=True):
        name = ca["name"]
        for key in ("family", "dtype", "column_kind"):
            if ca.get(key) != cb.get(key):
                problems.append(f"{name}: {key} {ca.get(key)!r} != {cb.get(key)!r}")
        sa, sb = ca["summary"], cb["summary"]
        if ca["family"] == "categorical":
            if dict(zip(sa["labels"], sa["counts"], strict=True)) != dict(zip(sb["labels"], sb["counts"], strict=True)):
                problems.append(f"{name}: category counts differ")
            if sa["n_missing"] != sb["n_missing"]:
                problems.append(f"{name}: n_missing {sa['n_missing']} != {sb['n_missing']}")
            continue
        for key in ("n", "n_missing", "n_posinf", "n_neginf"):
            if sa[key] != sb[key]:
                problems.append(f"{name}: {key} {sa[key]} != {sb[key]}")
        for key in ("mean", "m2"):
            if not math.isclose(sa[key], sb[key], rel_tol=1e-9, abs_tol=1e-9):
                problems.append(f"{name}: {key} {sa[key]!r} != {sb[key]!r}")
        values = _summary_values(sa)
        if sa["exact"]:
            if sb["exact"] and not np.array_equal(values, _summary_values(sb)):
                problems.append(f"{name}: exact values differ")
            continue
        # the exact finite values of the column, as the profile reads them
        full = DriftProfile.fit(frame[[name]], exact_size=len(frame)).to_dict()["columns"][0]["summary"]
        weights = np.full(values.size, sa["n"] / values.size) if values.size else None
        distance = sketch_distance(values, weights, _summary_values(full))
        worst = max(worst, distance)
        if distance > sa["rank_error"] + 1e-12:
            problems.append(f"{name}: sketch CDF {distance:.2e} from the data's, above its rank_error "
                            f"{sa['rank_error']:.2e}")
    return problems, worst


def _finding_key(finding: Any, *, counts: bool = True) -> tuple[Any, ...]:
    if not counts:
        return (finding.check, finding.severity, str(finding.column))
    share = None if finding.share is None else round(float(finding.share), 12)
    return (finding.check, finding.severity, str(finding.column), finding.n_rows, share, finding.message,
            tuple(finding.sample_index))


#: Profile fields a Dask audit estimates for a column above its distinct-value cap (``report.scale``).
ESTIMATED = ("n_unique", "top", "top_share", "median", "kind_reason")


def compare_audits(ours: Any, theirs: Any) -> tuple[list[str], dict[str, Any]]:
    """Differences between the Dask audit ``ours`` and the pandas audit ``theirs`` of the same rows.

    As ``ours.scale`` states: the findings of the checks that ran distributed
    must be equal (check, severity, column, rows, share, message, sample row
    labels), except on a column above the distinct-value cap, where the same
    check, severity and column are required and the row counts reported;
    every finding of a check run on a sample must say so; the profile tables
    must agree (the estimated fields of the capped columns aside).
    """
    scale = dict(ours.scale)
    sampled = set(scale.get("sampled", ()))
    approximate = {str(c) for c in scale.get("approximate", {})}
    problems: list[str] = []
    if set(ours.checks) != set(theirs.checks):
        problems.append(f"checks run {sorted(ours.checks)} != {sorted(theirs.checks)}")

    def split(report: Any) -> tuple[set[tuple[Any, ...]], dict[tuple[Any, ...], int]]:
        exact, sketched = set(), {}
        for f in report.findings:
            if f.check in sampled:
                continue
            if str(f.column) in approximate:
                sketched[_finding_key(f, counts=False)] = f.n_rows
            else:
                exact.add(_finding_key(f))
        return exact, sketched

    (mine, mine_sk), (base, base_sk) = split(ours), split(theirs)
    problems += [f"only in Dask: {k}" for k in sorted(mine - base, key=str)]
    problems += [f"only in pandas: {k}" for k in sorted(base - mine, key=str)]
    problems += [f"only in Dask: {k} (sketched column)" for k in sorted(set(mine_sk) - set(base_sk), key=str)]
    problems += [f"only in pandas: {k} (sketched column)" for k in sorted(set(base_sk) - set(mine_sk), key=str)]
    if ours.n_rows > scale.get("sample_rows", ours.n_rows):
        problems += [f"sampled finding does not say so: {f.check} {f.column}: {f.message}"
                     for f in ours.findings if f.check in sampled and "sample" not in f.message]
    problems += compare_profile_tables(ours.profile, theirs.profile, approximate)
    sketched = {k: (mine_sk[k], base_sk[k]) for k in sorted(set(mine_sk) & set(base_sk), key=str)}
    return problems, {"sampled": sorted(sampled), "approximate": sorted(approximate), "sketched": sketched,
                      "n_findings": len(ours.findings)}


def compare_profile_tables(ours: pd.DataFrame, theirs: pd.DataFrame, approximate: set[str]) -> list[str]:
    """Field by field: equal (floats to a relative 1e-9).

    Aside: the estimated fields of the columns above the distinct-value cap,
    and a ``kind_reason`` that says its kind was decided on a sample (its
    counts are the sample's; the ``kind`` itself must agree).
    """
    if list(ours.columns) != list(theirs.columns) or len(ours) != len(theirs):
        return [f"profile tables differ in shape: {ours.shape} != {theirs.shape}"]
    problems = []
    for (_, a), (_, b) in zip(ours.iterrows(), theirs.iterrows(), strict=True):  # one row per column
        skip = ESTIMATED if str(a["column"]) in approximate else ()
        for field in ours.columns:
            x, y = a[field], b[field]
            if field in skip or (pd.isna(x) and pd.isna(y)):
                continue
            if field == "kind_reason" and "sample" in str(x):  # the kind decided on a stated sample
                continue
            if isinstance(x, float | np.floating) and isinstance(y, float | np.floating):
                if math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                    continue
            elif x == y:
                continue
            problems.append(f"profile {a['column']}.{field}: {x!r} != {y!r}")
    return problems


# ---- the run -----------------------------------------------------------------------------------------
def fmt_bytes(n: float | None) -> str:
    return "   n/a  " if n is None else f"{n / 1e9:6.2f} GB"


def per_million(seconds: float, rows: int) -> float:
    return seconds / rows * 1e6


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--columns", type=int, default=N_BASE)
    parser.add_argument("--file-rows", type=int, default=500_000, help="rows per Parquet file")
    parser.add_argument("--slice-rows", type=int, default=2_000_000,
                        help="rows of the pandas slice (rounded up to whole files)")
    parser.add_argument("--out", type=Path, default=None, help="dataset folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the dataset (and reuse it when present)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.5GB", help="per worker")
    parser.add_argument("--report", action="store_true",
                        help="also time drift_report(first half of the files, second half)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds after which a Dask call counts as failed (a worker paused for good)")
    parser.add_argument("--quick", action="store_true", help="200,000 rows, 20,000 per file, slice 60,000")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.file_rows, args.slice_rows = 200_000, 20_000, 60_000
    if args.columns < 5 or args.rows < 1 or args.file_rows < 1 or args.slice_rows < 1 or args.workers < 1:
        parser.error("--columns must be >= 5 and --rows, --file-rows, --slice-rows, --workers >= 1")
    return args


def dataset(args: argparse.Namespace, out: Path) -> tuple[list[Path], float]:
    """The Parquet files (written now, or reused with ``--keep`` when they match) and the write time."""
    expected = math.ceil(args.rows / args.file_rows)
    paths = sorted(out.glob("part-*.parquet"))
    stamp = out / "SIZE"
    wanted = f"{args.rows} {args.columns} {args.file_rows}"
    if args.keep and len(paths) == expected and stamp.exists() and stamp.read_text() == wanted:
        return paths, 0.0
    for path in paths:
        path.unlink()
    paths, seconds = timed(lambda: write_dataset(out, args.rows, args.columns, args.file_rows))
    stamp.write_text(wanted)
    return paths, seconds


def attempt(fn: Callable[[], Any], timeout: float | None = None) -> tuple[Any, float, str | None]:
    """``fn()``'s result and seconds, or ``None`` and the error (a worker killed 4 times...).

    With ``timeout``, ``fn`` runs in a thread and a call still running after
    that many seconds is reported as failed (a worker paused at 80% of its
    memory limit with nothing to spill waits forever); the thread is left to
    end when the cluster closes.
    """
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["out"] = fn()
        except Exception as exc:  # reported in the table; the run goes on and exits non-zero
            box["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"

    start = time.perf_counter()
    worker = threading.Thread(target=call, daemon=True, name="mllife-bench-call")
    worker.start()
    worker.join(timeout)
    seconds = time.perf_counter() - start
    if worker.is_alive():
        return None, seconds, f"still running after {timeout:,.0f} s (--timeout): given up"
    return box.get("out"), seconds, box.get("error")


def run_dask(client: Any, args: argparse.Namespace, out: Path, paths: list[Path]) -> dict[str, dict[str, Any]]:
    """The timed calls on the whole dataset: per call its result, seconds, error and worker memory."""
    import mllife
    from mllife.drift import DriftProfile, drift_report

    memory = WorkerMemory(client)
    DriftProfile.fit(str(paths[0]))  # warm-up: the workers import mllife and pyarrow (not timed)
    glob = str(out / "part-*.parquet")
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("fit", lambda: DriftProfile.fit(glob)),
        ("audit", lambda: mllife.audit(glob, target="target")),
    ]
    if args.report and len(paths) > 1:
        half = len(paths) // 2
        sides = []
        for folder, part in ((out / "reference", paths[:half]), (out / "current", paths[half:])):
            folder.mkdir(exist_ok=True)
            for path in part:
                if not (folder / path.name).exists():
                    (folder / path.name).symlink_to(path)
            sides.append(str(folder))
        calls.append(("report", lambda: drift_report(sides[0], sides[1])))
    runs: dict[str, dict[str, Any]] = {}
    for name, call in calls:
        memory.reset()
        with get_task_stream(client) as stream:
            result, seconds, error = attempt(call, args.timeout)
        runs[name] = {"result": result, "seconds": seconds, "error": error, "memory": memory.read()}
        print(f"  dask {name:<6}: {seconds:8.1f} s{'  FAILED: ' + error if error else ''}; task time "
              f"{task_time(stream.data)}", flush=True)
    return runs


def task_time(records: list[dict[str, Any]], top: int = 4) -> str:
    """Where the workers' time went: compute seconds per kind of task (``read_parquet``, mllife's...)."""
    from distributed.utils import key_split

    spent: dict[str, float] = {}
    for record in records:
        name = key_split(record["key"])
        for span in record["startstops"]:
            if span["action"] == "compute":
                spent[name] = spent.get(name, 0.0) + span["stop"] - span["start"]
    total = sum(spent.values()) or 1.0
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    shown = [f"{k} {v:.1f} s ({v / total:.0%})" for k, v in ranked[:top]]
    rest = sum(v for _, v in ranked[top:])
    return f"{total:.1f} s: " + ", ".join(shown) + (f", other {rest:.1f} s" if rest else "")


def run_slice(slice_paths: list[str], timeout: float | None) -> dict[str, Any]:
    """The pandas calls on the slice in memory (timed), and the Dask calls on the same files."""
    import dask.dataframe as dd

    import mllife
    from mllife.drift import DriftProfile

    slice_ddf = dd.read_parquet(slice_paths)
    # exactly what the workers read from these files (pyarrow's threads read them, as pd.read_parquet)
    frame, read_seconds = timed(lambda: slice_ddf.compute(scheduler="sync"))
    out: dict[str, Any] = {"frame": frame, "read_seconds": read_seconds}
    out["fit"], out["fit_seconds"] = timed(lambda: DriftProfile.fit(frame))
    out["audit"], out["audit_seconds"] = timed(lambda: mllife.audit(frame, target="target"))
    print(f"  pandas    : read {read_seconds:.1f} s, fit {out['fit_seconds']:.1f} s, audit "
          f"{out['audit_seconds']:.1f} s on {len(frame):,} rows", flush=True)
    out["dask_fit"], _, out["dask_fit_error"] = attempt(lambda: DriftProfile.fit(slice_ddf), timeout)
    out["dask_audit"], _, out["dask_audit_error"] = attempt(lambda: mllife.audit(slice_ddf, target="target"),
                                                            timeout)
    return out


def print_times(runs: dict[str, dict[str, Any]], pandas: dict[str, Any], rows: int) -> list[float]:
    """The table of times; returns the per-row ratios Dask / pandas of ``fit`` and ``audit``.

    ``vs pandas``: Dask's per-row cost (reading the Parquet files included)
    over the pandas call's on the frame in memory, the target's ratio;
    ``vs read+call``: over the pandas read of the slice plus the call.
    """
    n_slice = len(pandas["frame"])
    print(f"{'call':<24}{'wall s':>9}{'rows/s':>13}{'s / M rows':>12}{'vs pandas':>11}{'vs read+call':>14}")
    ratios = []
    for name, label in (("fit", "DriftProfile.fit"), ("audit", "audit"), ("report", "drift_report")):
        if name not in runs:
            continue
        seconds = runs[name]["seconds"]
        if runs[name]["error"]:
            print(f"{'dask   ' + label:<24}{'FAILED':>9}   after {seconds:.1f} s")
            ratios.append(math.inf)
            continue
        dask_cost = per_million(seconds, rows)
        if name == "report":  # no pandas counterpart timed: both halves would not fit in memory
            print(f"{'dask   ' + label:<24}{seconds:9.1f}{rows / seconds:13,.0f}{dask_cost:12.2f}")
            continue
        pandas_cost = per_million(pandas[f"{name}_seconds"], n_slice)
        with_read = per_million(pandas[f"{name}_seconds"] + pandas["read_seconds"], n_slice)
        ratios.append(dask_cost / pandas_cost)
        print(f"{'dask   ' + label:<24}{seconds:9.1f}{rows / seconds:13,.0f}{dask_cost:12.2f}"
              f"{ratios[-1]:10.2f}x{dask_cost / with_read:13.2f}x")
        print(f"{'pandas ' + label:<24}{pandas[f'{name}_seconds']:9.1f}"
              f"{n_slice / pandas[f'{name}_seconds']:13,.0f}{pandas_cost:12.2f}")
    read = pandas["read_seconds"]
    print(f"{'pandas read_parquet':<24}{read:9.1f}{n_slice / read:13,.0f}{per_million(read, n_slice):12.2f}")
    return ratios


def print_memory(runs: dict[str, dict[str, Any]], cap: float) -> tuple[bool, str]:
    """Peak memory per worker and call.

    Returns whether every worker stayed within its cap without a restart (the
    target: no spill to death), and what pressure there was (pauses, spills).
    """
    print(f"peak memory per worker (RSS, sampled every 0.05 s in the worker; cap {fmt_bytes(cap).strip()}):")
    within, paused, spills = True, False, 0
    for name, run in runs.items():
        for address, row in sorted(run["memory"].items()):
            flags = [f for f, on in (("PAUSED (80% of cap)", row["paused"]),
                                     (f"spilled ({row['spill_writes']} writes)", row["spill_writes"]),
                                     ("RESTARTED by its nanny (95% of cap)", row["restarted"]),
                                     ("a replacement worker", row["new"])) if on]
            within = within and (row["peak"] or 0) <= cap and not row["restarted"]
            paused, spills = paused or bool(row["paused"]), spills + int(row["spill_writes"])
            peak = "    gone " if row["peak"] is None else fmt_bytes(row["peak"])
            print(f"  {name:<7}{address:<28}{peak} {(row['peak'] or 0) / cap:5.0%} of cap  "
                  f"{'; '.join(flags) or 'no pause, no spill'}")
    restarted = sorted({a for run in runs.values() for a, row in run["memory"].items() if row["restarted"]})
    print(f"workers restarted: {', '.join(restarted) or 'none'}")
    return within, f"{'a worker paused' if paused else 'no pause'}, {spills} spill writes"


def check_equal(runs: dict[str, dict[str, Any]], pandas: dict[str, Any], args: argparse.Namespace,
                n_files: int) -> bool:
    """Print the equality checks of the slice (and of the whole table's known answers); all passed?"""
    frame = pandas["frame"]
    profile_problems: list[str] = []
    audit_problems: list[str] = []
    worst, notes = math.nan, {"n_findings": 0, "sampled": [], "approximate": [], "sketched": {}}
    if pandas["dask_fit_error"]:
        profile_problems.append(f"Dask fit of the slice failed: {pandas['dask_fit_error']}")
    else:
        profile_problems, worst = compare_profiles(pandas["dask_fit"], pandas["fit"], frame)
    if pandas["dask_audit_error"]:
        audit_problems.append(f"Dask audit of the slice failed: {pandas['dask_audit_error']}")
    else:
        audit_problems, notes = compare_audits(pandas["dask_audit"], pandas["audit"])
    planted = planted_duplicates(args.rows, args.file_rows)
    found = None
    if runs["audit"]["result"] is not None:
        found = [f.n_rows for f in runs["audit"]["result"].findings if f.check == "duplicate_rows"]
        if found != [planted]:
            audit_problems.append(f"whole table: duplicate_rows found {found}, planted {planted}")
    whole = ""
    if runs["fit"]["result"] is not None:
        fitted = runs["fit"]["result"].to_dict()
        if fitted["n_rows"] != args.rows:
            profile_problems.append(f"whole table: a profile of {fitted['n_rows']} rows, wrote {args.rows}")
        errors = [c["summary"]["rank_error"] for c in fitted["columns"] if "rank_error" in c["summary"]]
        whole = (f"; whole table: {fitted['n_rows']:,} rows profiled, stated rank_error "
                 f"<= {max(errors, default=0.0):.2e}")
    print(f"equality on the {len(frame):,}-row slice ({n_files} files, Dask vs pandas):")
    print(f"  DriftProfile: {'equal' if not profile_problems else 'DIFFERENT'} (rows, counts, missing and inf, "
          f"categories, kinds exact; means and variances to 1e-9; quantile sketches at most {worst:.2e} "
          f"from the exact CDF, within their rank_error){whole}")
    for problem in profile_problems:
        print(f"    {problem}")
    print(f"  audit       : {'equal' if not audit_problems else 'DIFFERENT'} ({notes['n_findings']} findings with their "
          f"sample rows; "
          f"checks on a sample: {', '.join(notes['sampled']) or 'none'}); whole table: "
          f"{found} duplicate rows found, {planted} planted")
    if notes["approximate"]:
        print(f"    above the distinct-value cap (quantiles from a sketch, n_unique estimated): "
              f"{', '.join(notes['approximate'])}")
    for (check, severity, column), (n_dask, n_pandas) in notes["sketched"].items():
        print(f"    {check} {column} ({severity}, sketched quantiles): {n_dask} rows, pandas {n_pandas}")
    for problem in audit_problems:
        print(f"    {problem}")
    return not profile_problems and not audit_problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # the shuffle by row hash logs each shuffle's start and end at warning level
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    import dask
    import distributed

    import mllife

    owned = args.out is None
    out = Path(tempfile.mkdtemp(prefix="mllife-scale-")) if owned else args.out
    try:
        paths, t_write = dataset(args, out)
        n_files = min(len(paths), math.ceil(args.slice_rows / args.file_rows))
        size = sum(p.stat().st_size for p in paths)
        print(f"dataset     : {args.rows:,} rows x {args.columns} columns, {len(paths)} Parquet files "
              f"of {args.file_rows:,} rows, {size / 2**20:,.0f} MiB on disk "
              f"({'written in ' + format(t_write, '.1f') + ' s' if t_write else 'reused'}), {out}", flush=True)
        # no dashboard; the scheduler's HTTP routes on a free port (8787 may be taken)
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                      memory_limit=args.memory_limit, dashboard_address=None,
                                      scheduler_kwargs={"dashboard_address": ":0"}) as cluster, \
                distributed.Client(cluster) as client:
            cap = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"]
            print(f"cluster     : {args.workers} worker processes x 1 thread, memory limit "
                  f"{fmt_bytes(cap).strip()} each (dask {dask.__version__}, mllife {mllife.__version__})",
                  flush=True)
            runs = run_dask(client, args, out, paths)
            pandas = run_slice([str(p) for p in paths[:n_files]], args.timeout)
        print()
        ratios = print_times(runs, pandas, args.rows)
        print()
        within, pressure = print_memory(runs, cap)
        print(f"targets     : per-row cost <= 1.5x pandas: {'met' if max(ratios) <= 1.5 else 'MISSED'} "
              f"(fit {ratios[0]:.2f}x, audit {ratios[1]:.2f}x); peak worker memory within its cap, "
              f"no worker restarted: {'met' if within else 'MISSED'} ({pressure})")
        print()
        equal = check_equal(runs, pandas, args, n_files)
        failed = [name for name, run in runs.items() if run["error"]]
        return 0 if equal and not failed else 1
    finally:
        if owned and not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
