"""Two-sample drift tests and the mergeable quantile sketch (part of :mod:`lumengate.drift`).

Each test compares a ``reference`` score sample with a ``current`` one and returns the same
statistic and p-value as the scipy function users know:

>>> import numpy as np
>>> from lumengate import drift
>>> rng = np.random.default_rng(0)
>>> reference, current = rng.normal(size=5000), rng.normal(0.1, 1, size=5000)
>>> r = drift.ks_2samp(reference, current)     # == scipy.stats.ks_2samp(reference, current)
>>> r.method
'exact'
>>> bool(r.pvalue < 0.05)
True
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from lumengate._native import core
from lumengate.errors import invalid

__all__ = [
    "AndersonResult",
    "CramerVonMisesResult",
    "KsResult",
    "QuantileSketch",
    "SketchDistance",
    "anderson_ksamp",
    "cramervonmises",
    "ks_2samp",
    "ks_from_sketches",
    "wasserstein",
    "wasserstein_from_sketches",
]

_native = core.drift

NonFinite = Literal["reject", "drop"]


def _scores(values: Any, field: str) -> npt.NDArray[np.float64]:
    """A 1-d float64 view of list, numpy or pandas input (copies only to convert)."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(field, f"must be numbers, got {type(values).__name__}") from None
    if array.ndim != 1:
        raise invalid(field, f"must be one-dimensional, got shape {array.shape}")
    return array


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise invalid("threads", f"must be a whole number >= 1 or None, got {threads!r}")
    return threads


@dataclass(frozen=True)
class KsResult:
    """Two-sample Kolmogorov-Smirnov test result.

    ``statistic`` is the largest gap between the two empirical CDFs, measured at the score
    ``statistic_location``; ``statistic_sign`` is +1 when the reference CDF is above the
    current one there (reference scores smaller), -1 when below. ``method`` says whether the
    p-value is ``"exact"`` or ``"asymp"`` (asymptotic). ``dropped`` counts NaN/inf scores
    removed from (reference, current) under ``non_finite="drop"``.
    """

    statistic: float
    pvalue: float
    method: Literal["exact", "asymp"]
    statistic_location: float = 0.0
    statistic_sign: int = 1
    dropped: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class CramerVonMisesResult:
    """Two-sample Cramér-von Mises test result (``method`` is "exact" or "asymptotic")."""

    statistic: float
    pvalue: float
    method: Literal["exact", "asymptotic"]
    dropped: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class AndersonResult:
    """k-sample Anderson-Darling test result.

    ``pvalue`` is interpolated from Scholz & Stephens' table and, like scipy's, capped to
    [0.001, 0.25]; ``pvalue_capped`` says when a bound was hit (the true value lies beyond).
    ``critical_values`` are for significance levels 25, 10, 5, 2.5, 1, 0.5 and 0.1 %.
    """

    statistic: float
    pvalue: float
    critical_values: tuple[float, ...]
    pvalue_capped: bool
    dropped: tuple[int, ...]


@dataclass(frozen=True)
class SketchDistance:
    """A distance computed from two sketches, with its guaranteed worst-case error."""

    statistic: float
    error_bound: float


def ks_2samp(
    reference: Any,
    current: Any,
    *,
    method: Literal["auto", "exact", "asymp"] = "auto",
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    non_finite: NonFinite = "reject",
    threads: int | None = None,
) -> KsResult:
    """Did the score distribution move? The two-sample Kolmogorov-Smirnov test.

    Equals ``scipy.stats.ks_2samp(reference, current, method=method)``: with
    ``method="auto"`` the p-value is exact when both samples have at most 10,000 scores and
    asymptotic otherwise (also when the exact count fails, as scipy falls back).
    ``alternative="greater"`` asks whether the reference CDF lies above the current one
    (reference scores tend to be smaller), ``"less"`` the opposite, as in scipy. NaN/inf are
    rejected unless ``non_finite="drop"``. Both samples are sorted on every allowed thread.

    >>> from lumengate import drift
    >>> drift.ks_2samp([0.1, 0.2, 0.3], [0.6, 0.7, 0.8]).statistic
    1.0
    """
    statistic, pvalue, exact, dropped_reference, dropped_current, location, sign = _native.ks_2samp(
        _scores(reference, "reference"),
        _scores(current, "current"),
        method=method,
        alternative=alternative,
        non_finite=non_finite,
        threads=_threads(threads),
    )
    return KsResult(
        statistic=float(statistic),
        pvalue=float(pvalue),
        method="exact" if exact else "asymp",
        statistic_location=float(location),
        statistic_sign=int(sign),
        dropped=(int(dropped_reference), int(dropped_current)),
    )


def wasserstein(
    reference: Any,
    current: Any,
    *,
    non_finite: NonFinite = "reject",
    threads: int | None = None,
) -> float:
    """How far did the scores move, in score units? The first Wasserstein distance.

    Equals ``scipy.stats.wasserstein_distance(reference, current)``.

    >>> from lumengate import drift
    >>> drift.wasserstein([0, 1, 3], [5, 6, 8])
    5.0
    """
    distance, _, _ = _native.wasserstein(
        _scores(reference, "reference"),
        _scores(current, "current"),
        non_finite=non_finite,
        threads=_threads(threads),
    )
    return float(distance)


def cramervonmises(
    reference: Any,
    current: Any,
    *,
    method: Literal["auto", "exact", "asymptotic"] = "auto",
    non_finite: NonFinite = "reject",
    threads: int | None = None,
) -> CramerVonMisesResult:
    """Two-sample Cramér-von Mises test, equal to ``scipy.stats.cramervonmises_2samp``.

    With ``method="auto"`` the p-value is exact when both samples have at most 20 scores,
    otherwise asymptotic. Each sample needs at least two scores.

    >>> from lumengate import drift
    >>> r = drift.cramervonmises([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0])
    >>> r.method, round(r.pvalue, 4)
    ('exact', 0.0286)
    """
    statistic, pvalue, exact, dropped_reference, dropped_current = _native.cramervonmises(
        _scores(reference, "reference"),
        _scores(current, "current"),
        method=method,
        non_finite=non_finite,
        threads=_threads(threads),
    )
    return CramerVonMisesResult(
        statistic=float(statistic),
        pvalue=float(pvalue),
        method="exact" if exact else "asymptotic",
        dropped=(int(dropped_reference), int(dropped_current)),
    )


def anderson_ksamp(
    samples: Sequence[Any],
    *,
    non_finite: NonFinite = "reject",
    threads: int | None = None,
) -> AndersonResult:
    """k-sample Anderson-Darling test (midrank variant), usually ``[reference, current]``.

    Equals ``scipy.stats.anderson_ksamp(samples, variant="midrank")`` (scipy 1.17's default
    computation): the statistic, and the p-value interpolated from Scholz & Stephens' table,
    capped to [0.001, 0.25] (``pvalue_capped`` is then True; scipy warns instead).

    >>> from lumengate import drift
    >>> r = drift.anderson_ksamp([[0.1, 0.4, 0.5, 0.9], [1.2, 1.5, 1.7, 2.0]])
    >>> r.pvalue_capped, round(r.pvalue, 4)
    (False, 0.0106)
    """
    if isinstance(samples, np.ndarray) and samples.ndim == 1:
        raise invalid("samples", "must be a sequence of samples, e.g. [reference, current]")
    arrays = [_scores(s, f"samples[{i}]") for i, s in enumerate(samples)]
    statistic, pvalue, critical, capped, dropped = _native.anderson_ksamp(
        arrays, non_finite=non_finite, threads=_threads(threads)
    )
    return AndersonResult(
        statistic=float(statistic),
        pvalue=float(pvalue),
        critical_values=tuple(float(c) for c in critical),
        pvalue_capped=bool(capped != 0),
        dropped=tuple(int(d) for d in dropped),
    )


class QuantileSketch:
    """A small, mergeable summary of a score stream with rank error at most ``epsilon * n``.

    Sketch each partition or replica, merge the sketches, and ask quantiles, CDF values or a
    drift distance as if you held all the scores. The algorithm is the deterministic
    multi-level compactor (Manku-Rajagopalan-Lindsay, in the mergeable form of Agarwal et al.
    2012): same input, same bytes. ``rank_error_bound`` is the exact worst-case rank error
    accumulated so far, never more than ``epsilon * n``.

    >>> import numpy as np
    >>> from lumengate import drift
    >>> a = drift.QuantileSketch(epsilon=0.01)
    >>> a.update(np.arange(1000.0))
    >>> b = drift.QuantileSketch(epsilon=0.01)
    >>> b.update(np.arange(1000.0, 2000.0))
    >>> a.merge(b)
    >>> a.n, abs(a.quantile(0.5) - 1000) <= 0.01 * 2000
    (2000, True)
    >>> drift.QuantileSketch.from_bytes(a.to_bytes()).n
    2000
    """

    __slots__ = ("_dropped", "_lock", "_sketch")

    def __init__(self, epsilon: float = 0.001) -> None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
            raise invalid("epsilon", f"must be a number, got {epsilon!r}")
        self._sketch = _native.QuantileSketch(float(epsilon))
        self._dropped = 0
        # update() runs without the GIL; the lock keeps every other call off the native
        # state meanwhile, so one sketch can be shared between threads.
        self._lock = threading.Lock()

    @classmethod
    def _wrap(cls, native: Any) -> QuantileSketch:
        sketch = cls.__new__(cls)
        sketch._sketch = native
        sketch._dropped = 0
        sketch._lock = threading.Lock()
        return sketch

    def update(self, scores: Any, *, non_finite: NonFinite = "reject") -> None:
        """Add scores. NaN/inf are rejected, or skipped and counted in :attr:`dropped`."""
        array = _scores(scores, "scores")
        with self._lock:
            self._dropped += int(self._sketch.update(array, non_finite=non_finite))

    @property
    def dropped(self) -> int:
        """NaN/inf scores this object skipped under ``non_finite="drop"`` (not serialised)."""
        return self._dropped

    def merge(self, other: QuantileSketch) -> None:
        """Fold ``other`` (same epsilon) into this sketch; ``other`` is unchanged."""
        if not isinstance(other, QuantileSketch):
            raise invalid("other", f"must be a QuantileSketch, got {type(other).__name__}")
        with _locked(self, other):
            self._sketch.merge(other._sketch)

    def quantile(self, q: float) -> float:
        """The score at quantile ``q`` in [0, 1] (rank within ``epsilon * n``)."""
        with self._lock:
            return float(self._sketch.quantile(float(q)))

    def cdf(self, x: Any) -> Any:
        """Fraction of scores <= ``x`` (within ``epsilon``); ``x`` may be an array."""
        if np.ndim(x) == 0:
            with self._lock:
                return float(self._sketch.cdf(float(x)))
        array = _scores(x, "x")
        with self._lock:
            return self._sketch.cdf_many(array)

    @property
    def n(self) -> int:
        """How many scores the sketch has seen."""
        with self._lock:
            return int(self._sketch.n)

    @property
    def epsilon(self) -> float:
        """The rank-error target, as a fraction of ``n``."""
        with self._lock:
            return float(self._sketch.epsilon)

    @property
    def rank_error_bound(self) -> float:
        """Worst-case absolute rank error of answers so far (at most ``epsilon * n``)."""
        with self._lock:
            return float(self._sketch.rank_error_bound)

    @property
    def retained(self) -> int:
        """How many scores the sketch stores."""
        with self._lock:
            return int(self._sketch.retained)

    @property
    def min(self) -> float:
        """The smallest score seen."""
        with self._lock:
            return float(self._sketch.min)

    @property
    def max(self) -> float:
        """The largest score seen."""
        with self._lock:
            return float(self._sketch.max)

    def to_bytes(self) -> bytes:
        """Versioned little-endian bytes (magic ``LGQS``); read back with :meth:`from_bytes`."""
        with self._lock:
            return bytes(self._sketch.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> QuantileSketch:
        """Read a sketch from :meth:`to_bytes` output; corrupt or unknown data raises."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise invalid("data", f"must be bytes, got {type(data).__name__}")
        return cls._wrap(_native.QuantileSketch.from_bytes(bytes(data)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (QuantileSketch.from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        return f"QuantileSketch(epsilon={self.epsilon}, n={self.n}, retained={self.retained})"


@contextmanager
def _locked(*sketches: QuantileSketch) -> Iterator[None]:
    """Holds the locks of distinct sketches, always in the same order (no deadlock)."""
    with ExitStack() as stack:
        for sketch in sorted({id(s): s for s in sketches}.values(), key=id):
            stack.enter_context(sketch._lock)
        yield


def _sketch_pair(reference: Any, current: Any) -> tuple[Any, Any]:
    for field, value in (("reference", reference), ("current", current)):
        if not isinstance(value, QuantileSketch):
            raise invalid(field, f"must be a QuantileSketch, got {type(value).__name__}")
    return reference._sketch, current._sketch


def ks_from_sketches(reference: QuantileSketch, current: QuantileSketch) -> SketchDistance:
    """KS statistic between two sketched samples, within ``error_bound`` (<= 2 epsilon).

    >>> import numpy as np
    >>> from lumengate import drift
    >>> a, b = drift.QuantileSketch(), drift.QuantileSketch()
    >>> a.update(np.arange(100.0)); b.update(np.arange(50.0, 150.0))
    >>> drift.ks_from_sketches(a, b).statistic
    0.5
    """
    pair = _sketch_pair(reference, current)
    with _locked(reference, current):
        statistic, bound = _native.ks_from_sketches(*pair)
    return SketchDistance(statistic=float(statistic), error_bound=float(bound))


def wasserstein_from_sketches(reference: QuantileSketch, current: QuantileSketch) -> SketchDistance:
    """Wasserstein-1 distance between two sketched samples.

    Within ``error_bound`` = (relative rank errors of both sketches) x (score range).
    """
    pair = _sketch_pair(reference, current)
    with _locked(reference, current):
        statistic, bound = _native.wasserstein_from_sketches(*pair)
    return SketchDistance(statistic=float(statistic), error_bound=float(bound))
