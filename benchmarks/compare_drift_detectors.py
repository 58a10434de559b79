"""Streaming detector speed, lumengate against River, measured in one run of this script.

Usage: ``python benchmarks/compare_drift_detectors.py [--markdown-out PATH]``;
``LUMENGATE_BENCH_N`` sets the stream length (default 1,000,000). The stream is Gaussian
noise whose mean jumps every 20,000 values. Before any timing, each detector's detection indices are
checked equal to River's on the River subset. Reported: nanoseconds per value for our
``update()`` called once per value from Python, our ``update_many()`` on a numpy array, and
River's ``update()`` + ``drift_detected`` per value, with the ratios River / ours.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from river import drift as _river_drift

from lumengate import drift
from machine import best_seconds, machine_lines, table

river_drift: Any = _river_drift  # River ships no type hints
RIVER_SUBSET = 200_000
SEGMENT = 20_000
OURS_REPEATS = 5
LOOP_REPEATS = 3


def stream(n: int, seed: int = 0) -> npt.NDArray[np.float64]:
    # Gaussian noise whose mean jumps every SEGMENT values, so that the River subset sees the
    # same mix of growing windows and detections as the whole stream.
    rng = np.random.default_rng(seed)
    means = np.repeat(rng.normal(0.0, 2.0, -(-n // SEGMENT)), SEGMENT)[:n]
    return means + rng.normal(0.0, 1.0, n)


def river_loop(make: Callable[[], Any], values: list[float]) -> list[int]:
    detector = make()
    hits: list[int] = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
    return hits


def ours_loop(make: Callable[[], Any], values: list[float]) -> list[int]:
    detector = make()
    hits: list[int] = []
    for i, x in enumerate(values):
        if detector.update(x):
            hits.append(i)
    return hits


def ours_batch(make: Callable[[], Any], values: npt.NDArray[np.float64]) -> list[int]:
    hits: list[int] = make().update_many(values).tolist()
    return hits


@dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[[], Any]
    river: Callable[[], Any]


CASES = (
    Case("ADWIN (defaults)", drift.ADWIN, river_drift.ADWIN),
    Case("ADWIN (clock=1)", lambda: drift.ADWIN(clock=1), lambda: river_drift.ADWIN(clock=1)),
    Case("PageHinkley (defaults)", drift.PageHinkley, river_drift.PageHinkley),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    machine = machine_lines(["river"])

    n = int(os.environ.get("LUMENGATE_BENCH_N", "1000000"))
    if n < 1:
        parser.error(f"LUMENGATE_BENCH_N must be >= 1, got {n}")
    values = stream(n)
    value_list = values.tolist()
    subset = min(n, RIVER_SUBSET)
    river_values = value_list[:subset]

    rows: list[list[str]] = []
    for case in CASES:
        expected = river_loop(case.river, river_values)
        batched = ours_batch(case.ours, values[:subset])
        single = ours_loop(case.ours, river_values)
        if batched != expected or single != expected:
            raise AssertionError(
                f"{case.name}: detections differ from River on the first {subset:,} values: "
                f"River {expected[:5]}..., update_many {batched[:5]}..., update {single[:5]}..."
            )
        river_ns = (
            best_seconds(partial(river_loop, case.river, river_values), LOOP_REPEATS) / subset * 1e9
        )
        single_ns = best_seconds(partial(ours_loop, case.ours, value_list), LOOP_REPEATS) / n * 1e9
        batched_ns = best_seconds(partial(ours_batch, case.ours, values), OURS_REPEATS) / n * 1e9
        rows.append(
            [
                case.name,
                f"{single_ns:.1f}",
                f"{batched_ns:.1f}",
                f"{river_ns:.1f}",
                f"{river_ns / single_ns:.1f}x",
                f"{river_ns / batched_ns:.1f}x",
                str(len(expected)),
            ]
        )

    report = ["## Streaming detectors", "", f"N = {n:,} values (mean jumps every {SEGMENT:,})", ""]
    report += [*machine, ""]
    report += table(
        [
            "detector",
            "ours update() (ns/value)",
            "ours update_many (ns/value)",
            "River (ns/value)",
            "River / update()",
            "River / update_many",
            "drifts in subset",
        ],
        rows,
    )
    report += [
        "",
        f"- ours update(): a Python loop over a list of all {n:,} floats calling update() once "
        f"per value and testing its result, best of {LOOP_REPEATS}.",
        f"- ours update_many: one call on the float64 numpy array of all {n:,} values, GIL "
        f"released, best of {OURS_REPEATS}.",
        f"- River {importlib.metadata.version('river')}: a Python loop over the first "
        f"{subset:,} values calling update() and reading drift_detected, best of "
        f"{LOOP_REPEATS}, per-value time scaled from that subset.",
        f"- before timing, detections on the first {subset:,} values matched River's for both "
        "update() and update_many.",
    ]
    text = "\n".join(report) + "\n"
    print(text, end="")
    if args.markdown_out is not None:
        args.markdown_out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
