"""``python -m mllife demo``: a walk through the lifecycle on ``make_churn``.

Each lifecycle package contributes one step, ``mllife.<package>._demo.run(ctx)``,
which reads what earlier steps left in ``ctx.state``, writes its reports with
``ctx.write`` and returns nothing. Steps run in lifecycle order.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .datasets import ChurnData, make_churn

#: Lifecycle order of the demo steps (a package without ``_demo`` is skipped).
STEPS: tuple[str, ...] = (
    "mllife.datasets",
    "mllife.audit",
    "mllife.split",
    "mllife.features",
    "mllife.baselines",
    "mllife.experiments",
    "mllife.evaluation",
    "mllife.bundle",  # fits the drift profile it carries
    "mllife.drift",
    "mllife.monitor",  # watches a stream with the bundle's model
)


@dataclass
class DemoContext:
    """What the demo steps share.

    Attributes
    ----------
    out : Path
        Folder the reports are written to.
    messy : ChurnData
        ``make_churn(defects=True, drift=True)``: for the audit.
    clean : ChurnData
        ``make_churn(defects=False, drift=True)``: for modelling.
    state : dict
        What steps leave for later ones: ``"split"`` (a ``Split``),
        ``"preprocessor"``, ``"model"`` (a fitted Pipeline), ``"bundle"``...
    written : list of Path
        Every file written so far.
    """

    out: Path
    messy: ChurnData
    clean: ChurnData
    state: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def write(self, report: Any, stem: str) -> None:
        """Save ``report`` as ``<stem>.html`` and ``<stem>.json`` in :attr:`out`."""
        for suffix in (".html", ".json"):
            self.written.append(report.save(self.out / f"{stem}{suffix}"))

    def say(self, line: str) -> None:
        """Record a line for the closing summary."""
        self.log.append(line)


def run_demo(out: str | Path = "demo-output", *, n_rows: int = 6_000, random_state: int = 0,
             verbose: bool = True) -> DemoContext:
    """Run every available demo step and return the shared context.

    Examples
    --------
    >>> import tempfile
    >>> ctx = run_demo(tempfile.mkdtemp(), n_rows=400, verbose=False)  # doctest: +SKIP
    """
    ctx = DemoContext(
        out=Path(out),
        messy=make_churn(n_rows, random_state=random_state, defects=True, drift=True),
        clean=make_churn(n_rows, random_state=random_state + 1, defects=False, drift=True),
    )
    ctx.out.mkdir(parents=True, exist_ok=True)
    for package in STEPS:
        module_name = f"{package}._demo"
        if importlib.util.find_spec(package) is None or importlib.util.find_spec(module_name) is None:
            continue
        start = time.perf_counter()
        before = len(ctx.written)
        importlib.import_module(module_name).run(ctx)
        if verbose:
            seconds = time.perf_counter() - start
            names = ", ".join(p.name for p in ctx.written[before:]) or "no file"
            print(f"[{package.split('.')[-1]:>11}] {seconds:6.2f}s  wrote {names}")
    if verbose:
        for line in ctx.log:
            print(line)
        print(f"\n{len(ctx.written)} files written to {ctx.out.resolve()}")
    return ctx


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m mllife demo [--out DIR]`` or
    ``python -m mllife serve BUNDLE [options]`` (see ``python -m mllife serve --help``)."""
    parser = argparse.ArgumentParser(prog="python -m mllife", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the lifecycle demo and write its reports")
    demo.add_argument("--out", default="demo-output", help="folder for the reports")
    demo.add_argument("--rows", type=int, default=6_000, help="rows of synthetic data")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    # serve's own parser lives in mllife.serve._cli, imported only when serve is chosen.
    sub.add_parser("serve", add_help=False,
                   help="serve a bundle over HTTP (needs mllife[serve]; serve --help)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":
        from .serve._cli import main as serve

        return serve(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "demo":
        run_demo(args.out, n_rows=args.rows, random_state=args.seed)
    return 0
