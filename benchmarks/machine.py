"""What the comparison scripts share: how they time a call and what they print about the
machine they ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from lumengate._native import available_cpus


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or the architecture where that is missing."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` wall-clock timings of run()."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def machine_lines(packages: Sequence[str], load_at_start: float | None = None) -> list[str]:
    """Markdown list lines naming the CPU, the CPUs lumengate may use, the load average when the
    run started, and the versions of Python, numpy, `packages` and lumengate."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = os.getloadavg()[0] if load_at_start is None else load_at_start
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in [*packages, "lumengate"]
    )
    return [
        f"- CPU: {cpu_model()}",
        f"- os.cpu_count(): {os.cpu_count()}; affinity: {affinity}; "
        f"lumengate available CPUs: {available_cpus()}",
        f"- load average (1 min) at start: {load:.2f}",
        f"- Python {platform.python_version()} ({sys.implementation.name}), "
        f"numpy {np.__version__}, {versions}",
    ]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table with its columns padded to a common width."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return f"| {' | '.join(padded)} |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [
        line(row) for row in rows
    ]
