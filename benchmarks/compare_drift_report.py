"""Column-wise drift report, lumengate against Evidently's default data drift report.

Usage: ``python benchmarks/compare_drift_report.py``; ``LUMENGATE_BENCH_N`` sets the rows of
each DataFrame (default 100,000). Both sides get the same reference and current DataFrames
(10 numeric columns, 5 of them shifted, and 2 categorical columns) and run their default
report: ``drift.report(reference, current)`` here, ``Report([DataDriftPreset()])`` there.
Evidently pins pandas < 3, which this package's environment does not, so it runs in its own
interpreter (``LUMENGATE_EVIDENTLY_PYTHON``, default ``.venv-evidently/bin/python``, made by
``make bench-evidently``) on the same arrays, timed inside that process, in the same run.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from lumengate import drift
from lumengate._native import available_cpus
from machine import best_seconds, cpu_model

REPEATS = 3
NUMERIC = 10
SHIFTED = 5

EVIDENTLY_SIDE = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
import evidently
from evidently import Report
from evidently.presets import DataDriftPreset

warnings.simplefilter("ignore")
data = np.load(sys.argv[1], allow_pickle=False)
def frame(prefix):
    columns = {k[len(prefix):]: data[k] for k in data.files if k.startswith(prefix)}
    return pd.DataFrame(columns)
reference, current = frame("reference/"), frame("current/")
best = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    best = min(best, time.perf_counter() - start)
drifted = None
for metric in snapshot.dict()["metrics"]:
    value = metric.get("value")
    if isinstance(value, dict) and "DriftedColumnsCount" in metric.get("metric_name", ""):
        drifted = int(value["count"])
print(json.dumps({"seconds": best, "version": evidently.__version__,
                  "pandas": pd.__version__, "drifted": drifted}))
"""


def frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference: dict[str, np.ndarray] = {}
    current: dict[str, np.ndarray] = {}
    for i in range(NUMERIC):
        shift = 0.1 if i < SHIFTED else 0.0
        reference[f"score_{i}"] = rng.normal(size=rows)
        current[f"score_{i}"] = rng.normal(shift, 1.0, size=rows)
    labels = np.array(["lua", "elro", "riri", "nana"])
    reference["persona"] = rng.choice(labels, rows, p=[0.25, 0.25, 0.25, 0.25])
    current["persona"] = rng.choice(labels, rows, p=[0.4, 0.2, 0.2, 0.2])
    reference["variant"] = rng.choice(labels[:2], rows)
    current["variant"] = rng.choice(labels[:2], rows)
    return pd.DataFrame(reference), pd.DataFrame(current)


def plain(column: pd.Series) -> np.ndarray:
    """A numpy array that np.load reads without pickle (strings as fixed-width unicode)."""
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy()
    return column.to_numpy(dtype=str)


def evidently_python() -> Path | None:
    configured = os.environ.get("LUMENGATE_EVIDENTLY_PYTHON")
    if configured:
        return Path(configured)
    default = Path(__file__).resolve().parent.parent / ".venv-evidently" / "bin" / "python"
    return default if default.exists() else None


def main() -> int:
    rows = int(os.environ.get("LUMENGATE_BENCH_N", "100000"))
    reference, current = frames(rows)
    ours = drift.report(reference, current)
    ours_seconds = best_seconds(lambda: drift.report(reference, current), REPEATS)

    print("# Drift report: lumengate vs Evidently's default data drift report")
    print(f"- CPU: {cpu_model()}; lumengate CPUs: {available_cpus()}")
    print(f"- Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"- lumengate {importlib.metadata.version('lumengate')}")
    print(f"- {rows:,} rows x {NUMERIC + 2} columns ({SHIFTED} numeric columns shifted by 0.1 sd,")
    print("  one categorical column re-weighted); best of", REPEATS)
    print("- ours: drift.report (KS + PSI per numeric column, chi-square per categorical, BH):")
    print(f"  {int(ours['drift'].sum())} of {len(ours)} columns flagged")

    interpreter = evidently_python()
    if interpreter is None:
        print("\nEvidently: no interpreter; run `make bench-evidently` (or set")
        print("LUMENGATE_EVIDENTLY_PYTHON to a Python with evidently installed).")
        print(f"\n| report | ours (s) |\n|---|---|\n| default | {ours_seconds:.3f} |")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "frames.npz"
        arrays = {f"reference/{k}": plain(reference[k]) for k in reference.columns}
        arrays |= {f"current/{k}": plain(current[k]) for k in current.columns}
        np.savez(path, **arrays)  # type: ignore[arg-type]
        done = subprocess.run(
            [str(interpreter), "-c", EVIDENTLY_SIDE, str(path), str(REPEATS)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    peer = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"- Evidently {peer['version']} (pandas {peer['pandas']}), its own interpreter:")
    print(f"  {peer['drifted']} of {NUMERIC + 2} columns flagged")
    print()
    print("| report | ours (s) | Evidently (s) | ratio (Evidently/ours) |")
    print("|---|---|---|---|")
    ratio = peer["seconds"] / ours_seconds
    print(f"| default | {ours_seconds:.3f} | {peer['seconds']:.3f} | {ratio:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
