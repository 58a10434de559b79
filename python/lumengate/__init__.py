"""lumengate: the building blocks of a persona-based LLM gateway.

Capabilities live in submodules: :mod:`lumengate.assign` (sticky hashing-based assignment,
experiments and canary rollouts), :mod:`lumengate.stats` (experiment statistics),
:mod:`lumengate.drift` (drift statistics and detectors), :mod:`lumengate.persona` (resonance
keys, routing and item scoring) and :mod:`lumengate.gemini` (the async Gemini client).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from lumengate import assign, drift, errors, gemini, persona, stats, tokens
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
    "gemini",
    "max_threads",
    "persona",
    "set_max_threads",
    "stats",
    "tokens",
]
