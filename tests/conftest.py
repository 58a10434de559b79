from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI: no deadline (shared 2-core machines), derandomised so a failure reproduces.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
