"""Two-sample drift tests, lumengate against scipy.stats, measured in one run.

Usage: ``python benchmarks/compare_drift_tests.py [--markdown-out PATH]``; ``LUMENGATE_BENCH_N``
sets the size of each sample (default 1,000,000). Every case first asserts that both sides give
the same statistic (rtol 1e-10) and p-value (rtol 1e-8), then reports the best wall time of a
few runs of the public call and ``scipy / ours``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from lumengate import drift
from lumengate._native import resolve_threads
from machine import best_seconds, machine_lines, table

REPEATS = 5


def quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


@dataclass(frozen=True)
class Case:
    name: str
    threads: int
    ours: Callable[[], Any]
    peer: Callable[[], Any]
    values: Callable[[Any], tuple[float, ...]]
    peer_values: Callable[[Any], tuple[float, ...]]


def check(case: Case) -> None:
    ours = case.values(case.ours())
    peer = case.peer_values(quiet(case.peer))
    for index, (a, b) in enumerate(zip(ours, peer, strict=True)):
        rtol = 1e-10 if index == 0 else 1e-8
        if not abs(a - b) <= rtol * abs(b) + (1e-13 if index else 0.0):
            raise AssertionError(f"{case.name}: value {index} differs: ours {a!r}, scipy {b!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    n = int(os.environ.get("LUMENGATE_BENCH_N", "1000000"))
    if n < 2:
        parser.error(f"LUMENGATE_BENCH_N must be >= 2, got {n}")
    machine = [*machine_lines(["scipy"]), f"- threads used: {resolve_threads(None)}"]
    rng = np.random.default_rng(42)
    a = rng.normal(size=n)
    b = rng.normal(0.002, 1.0, size=n)

    one = 1
    every = resolve_threads(None)
    cases = []
    for threads in sorted({one, every}):
        cases += [
            Case(
                "ks_2samp",
                threads,
                lambda t=threads: drift.ks_2samp(a, b, threads=t),
                lambda: scipy_stats.ks_2samp(a, b),
                lambda r: (r.statistic, r.pvalue),
                lambda r: (float(r.statistic), float(r.pvalue)),
            ),
            Case(
                "wasserstein",
                threads,
                lambda t=threads: drift.wasserstein(a, b, threads=t),
                lambda: scipy_stats.wasserstein_distance(a, b),
                lambda r: (r,),
                lambda r: (float(r),),
            ),
        ]
    cases += [
        Case(
            "cramervonmises",
            every,
            lambda: drift.cramervonmises(a, b),
            lambda: scipy_stats.cramervonmises_2samp(a, b),
            lambda r: (r.statistic, r.pvalue),
            lambda r: (float(r.statistic), float(r.pvalue)),
        ),
        Case(
            "anderson_ksamp",
            every,
            lambda: drift.anderson_ksamp([a, b]),
            lambda: scipy_stats.anderson_ksamp([a, b], variant="midrank"),
            lambda r: (r.statistic, r.pvalue),
            lambda r: (float(r.statistic), float(r.pvalue)),
        ),
    ]
    rows = []
    peer_seconds: dict[str, float] = {}
    for case in cases:
        check(case)
        ours = best_seconds(case.ours, REPEATS)
        if case.name not in peer_seconds:
            peer_seconds[case.name] = best_seconds(lambda case=case: quiet(case.peer), 3)
        peer = peer_seconds[case.name]
        rows.append(
            [
                case.name,
                str(case.threads),
                f"{ours * 1e3:.1f}",
                f"{peer * 1e3:.1f}",
                f"{peer / ours:.1f}x",
            ]
        )

    report = ["## Two-sample drift tests", "", f"N = {n:,} scores per sample (normal)", ""]
    report += [*machine, ""]
    report += table(["test", "threads", "ours (ms)", "scipy (ms)", "ratio (scipy/ours)"], rows)
    report += [
        "",
        f"- best of {REPEATS} (ours) and 3 (scipy) wall times of the public call; "
        "every case matched scipy before timing; scipy is single-threaded. Our samples are "
        "copied and radix-sorted, one worker per sample, then merged in one linear pass.",
    ]
    text = "\n".join(report)
    print(text)
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
