"""lumengate: the building blocks of a persona-based LLM gateway.

Capabilities live in submodules: :mod:`lumengate.assign` (sticky hashing-based assignment,
experiments and canary rollouts), :mod:`lumengate.stats` (experiment statistics) and
:mod:`lumengate.drift` (drift statistics and detectors).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from lumengate import assign, drift, errors, stats
from lumengate._native import available_cpus, max_threads, set_max_threads

try:
    __version__ = version("lumengate")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "assign",
    "available_cpus",
    "drift",
    "errors",
    "max_threads",
    "set_max_threads",
    "stats",
]
