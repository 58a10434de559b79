from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator

import pytest
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


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """The test leaves the thread set and the open file descriptor count as it found them
    (a native I/O thread is invisible to threading: its eventfd and sockets are fds)."""
    gc.collect()
    threads, fds = set(threading.enumerate()), _fds()
    native_before = threading.active_count()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        gc.collect()
        if set(threading.enumerate()) <= threads and _fds() <= fds:
            break
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads == set()
    assert threading.active_count() <= native_before
    assert _fds() <= fds
