"""Drift statistics: batch divergences and two-sample tests equal to scipy, mergeable state,
and streaming detectors for services.

Every two-sample function takes ``(reference, current)``.
"""

from __future__ import annotations

from lumengate._drift_detectors import *  # noqa: F403
from lumengate._drift_detectors import __all__ as _detectors_all
from lumengate._drift_histogram import *  # noqa: F403
from lumengate._drift_histogram import __all__ as _histogram_all
from lumengate._drift_tests import *  # noqa: F403
from lumengate._drift_tests import __all__ as _tests_all

__all__ = [*_histogram_all, *_tests_all, *_detectors_all]
