"""Import time of mllife next to ``import pandas, sklearn.base``, each in a fresh interpreter.

Run: ``python benchmarks/import_time.py``. Prints the median of several runs of
each import and the ratio, and confirms no heavy optional dependency was loaded.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

HEAVY = ("shap", "fairlearn", "imblearn", "matplotlib", "skops")
RUNS = 7


def timed(statement: str) -> tuple[float, list[str]]:
    code = (
        "import time, sys; t = time.perf_counter(); "
        f"{statement}; "
        "d = time.perf_counter() - t; "
        f"print(d); print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.splitlines()
    return float(seconds), [m for m in heavy.split(",") if m]


def main() -> None:
    baseline = [timed("import pandas, sklearn.base")[0] for _ in range(RUNS)]
    ours, heavy = [], set()
    for _ in range(RUNS):
        seconds, loaded = timed("import mllife")
        ours.append(seconds)
        heavy.update(loaded)
    b, m = statistics.median(baseline), statistics.median(ours)
    print(f"import pandas, sklearn.base : {b * 1000:7.1f} ms (median of {RUNS})")
    print(f"import mllife               : {m * 1000:7.1f} ms (median of {RUNS})")
    print(f"ratio mllife / baseline     : {m / b:7.2f}x")
    print(f"heavy modules loaded        : {sorted(heavy) or 'none'}")
    if heavy:
        sys.exit(1)


if __name__ == "__main__":
    main()
