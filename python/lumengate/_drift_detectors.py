"""Streaming change detectors: ADWIN, Page-Hinkley and KSWIN (part of :mod:`lumengate.drift`).

Each detector takes one value at a time (``update``) or a whole array (``update_many``, which
runs in C++ with the GIL released) and says where the stream changed. Defaults, detection
points and internal estimates are River's (``river.drift`` 0.26) on the same stream::

    >>> import numpy as np
    >>> from lumengate import drift
    >>> rng = np.random.default_rng(7)
    >>> scores = np.concatenate([rng.normal(0.2, 0.05, 2000), rng.normal(0.5, 0.05, 2000)])
    >>> adwin = drift.ADWIN()
    >>> adwin.update_many(scores).tolist()   # indices where a drift was detected
    [2047]
    >>> adwin.width, round(adwin.estimation, 2)   # the window since that drift
    (1952, 0.5)

A detector's state survives a restart: ``to_bytes()`` gives versioned bytes and
``from_bytes()`` (or :func:`detector_from_bytes`) continues from them. One detector may be
shared between threads; every call holds its lock.

NaN and inf are rejected (``update_many`` names the index, e.g. ``xs[3]``) unless the
detector was made with ``non_finite="drop"``, which skips and counts them (``n_dropped``).
``n_seen`` and ``n_detections`` count since the detector was created; River's
``n_detections`` restarts with every new window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from lumengate._native import core, whole
from lumengate.errors import invalid

__all__ = ["ADWIN", "KSWIN", "NonFinite", "PageHinkley", "detector_from_bytes"]

_native = core.drift

NonFinite = Literal["reject", "drop"]
"""What a detector does with NaN and inf: raise (naming the index) or skip and count them."""

_Detector = TypeVar("_Detector", "ADWIN", "PageHinkley", "KSWIN")


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise invalid(field, f"must be a number, got {value!r}")
    return float(value)


def _state_bytes(data: object) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise invalid("state", f"must be bytes from to_bytes(), got {type(data).__name__}")
    return bytes(data)


def _load(cls: type[_Detector], data: object) -> _Detector:
    # The native part is initialised with its defaults, then replaced by the stored state.
    detector = cls.__new__(cls)
    cls._native_type.__init__(detector)
    detector._restore(_state_bytes(data))
    return detector


def _restore(cls: type[_Detector], data: bytes) -> _Detector:
    return cls.from_bytes(data)


class ADWIN(_native.ADWIN):
    """ADWIN (adaptive windowing): keeps the longest recent window whose mean has not changed.

    Every ``clock`` updates each split of the window into an older and a newer part is tested
    with a Hoeffding-style bound at significance ``delta``; when one is significant the oldest
    values are dropped and a drift is reported. The update after a drift starts a new window,
    as River does. ``width``, ``total``, ``estimation`` (the window mean) and ``variance``
    (River's sum of squared deviations) describe the current window.

    >>> from lumengate import drift
    >>> adwin = drift.ADWIN(delta=0.002)
    >>> [i for i, x in enumerate([0.0] * 1000 + [1.0] * 1000) if adwin.update(x)]
    [1023]
    """

    _native_type: ClassVar[Any] = _native.ADWIN

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        *,
        non_finite: NonFinite = "reject",
    ) -> None:
        super().__init__(
            _number("delta", delta),
            whole(clock, "clock"),
            whole(max_buckets, "max_buckets"),
            whole(min_window_length, "min_window_length"),
            whole(grace_period, "grace_period"),
            non_finite=non_finite,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ADWIN:
        """The detector saved by :meth:`to_bytes`, ready to continue the stream."""
        return _load(cls, data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.to_bytes()))

    def __repr__(self) -> str:
        return (
            f"ADWIN(delta={self.delta!r}, clock={self.clock}, max_buckets={self.max_buckets}, "
            f"min_window_length={self.min_window_length}, grace_period={self.grace_period}, "
            f"non_finite={self.non_finite!r}; width={self.width}, "
            f"n_detections={self.n_detections})"
        )


class PageHinkley(_native.PageHinkley):
    """Page-Hinkley test: a drift when the cumulative deviation from the running mean moves
    more than ``threshold`` away from its extreme.

    ``delta`` is the change tolerated per value, ``alpha`` the forgetting factor of the
    cumulative sums and ``mode`` chooses increases (``"up"``), decreases (``"down"``) or
    ``"both"``. Nothing is reported before ``min_instances`` values since the last drift.

    >>> from lumengate import drift
    >>> ph = drift.PageHinkley(mode="up")
    >>> ph.update_many([0.0] * 500 + [5.0] * 100).tolist()
    [510]
    """

    _native_type: ClassVar[Any] = _native.PageHinkley

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Literal["both", "up", "down"] = "both",
        *,
        non_finite: NonFinite = "reject",
    ) -> None:
        if not isinstance(mode, str):
            raise invalid("mode", f"must be 'both', 'up' or 'down', got {mode!r}")
        super().__init__(
            whole(min_instances, "min_instances"),
            _number("delta", delta),
            _number("threshold", threshold),
            _number("alpha", alpha),
            mode,
            non_finite=non_finite,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PageHinkley:
        """The detector saved by :meth:`to_bytes`, ready to continue the stream."""
        return _load(cls, data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.to_bytes()))

    def __repr__(self) -> str:
        return (
            f"PageHinkley(min_instances={self.min_instances}, delta={self.delta!r}, "
            f"threshold={self.threshold!r}, alpha={self.alpha!r}, mode={self.mode!r}, "
            f"non_finite={self.non_finite!r}; n_detections={self.n_detections})"
        )


def _seed_words(seed: object) -> list[int]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise invalid("seed", f"must be a whole number >= 0 or None, got {seed!r}")
    value = int(seed)
    if value < 0:
        raise invalid("seed", f"must be a whole number >= 0 or None, got {value}")
    words = [value & 0xFFFFFFFF]
    value >>= 32
    while value:
        words.append(value & 0xFFFFFFFF)
        value >>= 32
    return words


class KSWIN(_native.KSWIN):
    """KSWIN: a Kolmogorov-Smirnov test between the newest ``stat_size`` values of a sliding
    window of ``window_size`` and as many values drawn at random from the older part.

    A drift is reported when the test's p-value is at most ``alpha`` and its statistic
    exceeds 0.1 (River's rule). With the same integer ``seed`` the random draws are those of
    River's ``random.Random(seed)``, so detections match River's; ``seed=None`` draws fresh
    OS randomness. ``window`` pre-fills the sliding window.

    >>> from lumengate import drift
    >>> kswin = drift.KSWIN(alpha=0.0001, seed=42)
    >>> kswin.update_many([0.0, 1.0] * 500 + [4.0, 5.0, 6.0, 7.0] * 250).tolist()
    [1016]
    """

    _native_type: ClassVar[Any] = _native.KSWIN

    def __init__(
        self,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
        window: Iterable[float] | None = None,
        *,
        non_finite: NonFinite = "reject",
    ) -> None:
        words = [] if seed is None else _seed_words(seed)
        if window is None:
            initial: npt.NDArray[np.float64] = np.zeros(0, dtype=np.float64)
        else:
            items = window if isinstance(window, np.ndarray) else list(window)
            try:
                initial = np.asarray(items, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError) as error:
                raise invalid("window", f"must hold numbers ({error})") from error
        super().__init__(
            _number("alpha", alpha),
            whole(window_size, "window_size"),
            whole(stat_size, "stat_size"),
            words,
            seed is not None,
            initial,
            non_finite=non_finite,
        )

    @property
    def seed(self) -> int | None:
        """The seed the random draws restart from after each drift (None: OS randomness)."""
        words = self.seed_words
        if words is None:
            return None
        return sum(word << (32 * i) for i, word in enumerate(words))

    @classmethod
    def from_bytes(cls, data: bytes) -> KSWIN:
        """The detector saved by :meth:`to_bytes`, ready to continue the stream."""
        return _load(cls, data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.to_bytes()))

    def __repr__(self) -> str:
        return (
            f"KSWIN(alpha={self.alpha!r}, window_size={self.window_size}, "
            f"stat_size={self.stat_size}, seed={self.seed!r}, non_finite={self.non_finite!r}; "
            f"n_detections={self.n_detections})"
        )


_KINDS: dict[int, type[ADWIN] | type[PageHinkley] | type[KSWIN]] = {
    1: ADWIN,
    2: PageHinkley,
    3: KSWIN,
}


def detector_from_bytes(data: bytes) -> ADWIN | PageHinkley | KSWIN:
    """Whichever detector :meth:`to_bytes` saved, e.g. when a service stores several kinds.

    >>> from lumengate import drift
    >>> ph = drift.PageHinkley(threshold=20.0)
    >>> drift.detector_from_bytes(ph.to_bytes()).threshold
    20.0
    """
    raw = _state_bytes(data)
    kind = raw[6] if len(raw) > 6 and raw[:4] == b"LGDD" else None
    cls = _KINDS.get(kind) if kind is not None else None
    if cls is None:
        raise invalid(
            "state",
            "is not a lumengate detector state (no 'LGDD' header); "
            "pass bytes made by to_bytes() of a detector",
        )
    return cls.from_bytes(raw)
