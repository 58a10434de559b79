"""Loads the native core and says how to build it when it is missing."""

from __future__ import annotations

import operator

try:
    from lumengate import _core
except ImportError as error:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "lumengate's native core (lumengate._core) is not built or cannot load "
        f"({error}). From a source checkout run `make test` (or `scripts/bootstrap`), "
        "or `pip install .`; the build needs the Debian packages listed in README.md."
    ) from error

core = _core


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, then any cgroup CPU quota."""
    return int(_core.available_cpus())


def set_max_threads(cap: int | None) -> None:
    """Cap the threads any batch call uses, process-wide (``None`` or 0 removes the cap).

    Services that run several workers per machine set this so that workers do not
    oversubscribe the CPUs.
    """
    _core.set_max_threads(
        0 if cap is None else min(whole(cap, "cap", 0, or_none=True), MAX_THREADS)
    )


def max_threads() -> int | None:
    """The process-wide thread cap, or None when there is none."""
    cap = int(_core.max_threads())
    return cap or None


def whole(
    value: object,
    field: str,
    low: int | None = None,
    high: int | None = None,
    *,
    or_none: bool = False,
) -> int:
    """``value`` as an ``int``: a whole number (``int`` or a NumPy integer, never ``bool``)
    within ``[low, high]`` (an open end when None). The error names ``field`` and the range,
    and says None is allowed too when the caller takes it (``or_none``)."""
    allowed = (
        f" in [{low}, {high}]"
        if low is not None and high is not None
        else f" >= {low}"
        if low is not None
        else f" <= {high}"
        if high is not None
        else ""
    )
    number: int | None = None
    if not isinstance(value, bool):
        try:
            number = operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            number = None
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        from lumengate.errors import invalid

        allowed += " or None" if or_none else ""
        raise invalid(field, f"must be a whole number{allowed}, got {value!r}")
    return number


# Thread counts above this are clamped: no machine has more, and the core takes a size_t.
MAX_THREADS = 1 << 16


def thread_argument(threads: int | None) -> int:
    """A batch call's ``threads`` as the core takes it: 0 for ``None`` (every available CPU),
    else a whole number >= 1, clamped to :data:`MAX_THREADS`."""
    if threads is None:
        return 0
    return min(whole(threads, "threads", 1, or_none=True), MAX_THREADS)


def resolve_threads(threads: int | None) -> int:
    """Threads a batch call will use: ``None`` means every available CPU, after the cap."""
    return int(_core.resolve_threads(thread_argument(threads)))
