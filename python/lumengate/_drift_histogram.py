"""Histograms, divergences and the streaming drift monitor (part of :mod:`lumengate.drift`).

Every two-sample function takes ``(reference, current)``. Divergences follow scipy: ``kl`` is
KL(current ‖ reference) in nats (``scipy.stats.entropy(current, reference)``), ``js_distance``
is ``scipy.spatial.distance.jensenshannon`` (natural log), ``hellinger`` includes 1/√2 and
``psi`` is Σ (cur − ref)·ln(cur / ref)::

    >>> import numpy as np
    >>> from lumengate import drift
    >>> round(drift.kl([0.5, 0.5], [0.9, 0.1]), 6)
    0.368064
    >>> rng = np.random.default_rng(0)
    >>> reference, current = rng.normal(size=10_000), rng.normal(0.5, size=10_000)
    >>> drift.divergence(reference, current, statistic="psi") > 0.2
    True

Score-based functions bin both samples on edges taken from the reference (10 quantile bins
with open outer edges by default), add ``smoothing=0.5`` to every bin's count on both sides,
then compute the statistic; with smoothing on, no statistic is infinite.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from lumengate._drift_tests import ks_2samp
from lumengate._native import core
from lumengate.errors import invalid

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CategoryCounts",
    "Chi2Result",
    "DriftCheck",
    "DriftEvent",
    "DriftMonitor",
    "HistogramState",
    "MonitorStatus",
    "MonitorSummary",
    "RetrainPolicy",
    "SeverityBands",
    "benjamini_hochberg",
    "category_counts",
    "chi2_test",
    "divergence",
    "divergence_from_states",
    "false_alarm_rate",
    "hellinger",
    "histogram_edges",
    "js_distance",
    "kl",
    "kl_divergence",
    "psi",
    "report",
]

Statistic: TypeAlias = Literal["kl", "psi", "js", "hellinger"]
BinMethod: TypeAlias = Literal["quantile", "uniform", "sturges", "doane"]
NonFinite: TypeAlias = Literal["reject", "drop"]
Bins: TypeAlias = "int | Sequence[float] | npt.NDArray[np.floating[Any]]"

_native = core.drift
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATISTICS = ("kl", "psi", "js", "hellinger")


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise invalid("threads", f"must be a whole number >= 1 or None, got {threads!r}")
    return threads


def _smoothing(smoothing: float | None) -> float:
    if smoothing is None:
        return 0.0
    value = float(smoothing)
    if not math.isfinite(value) or value < 0:
        raise invalid("smoothing", f"must be a finite number >= 0 or None, got {smoothing!r}")
    return value


def _as_float_array(values: object, name: str) -> npt.NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise invalid(name, f"must be numbers; got {type(values).__name__} ({error})") from None
    if array.ndim != 1:
        raise invalid(name, f"must be one-dimensional, got {array.ndim} dimensions")
    return np.ascontiguousarray(array)


def _is_categorical(values: object) -> bool:
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        dtype = np.asarray(values).dtype
    kind = getattr(dtype, "kind", "O")
    return str(dtype) == "category" or kind in ("O", "U", "S", "b", "T")


# Probability vectors --------------------------------------------------------------------


def _vector_statistic(
    reference: object, current: object, statistic: str, smoothing: float | None
) -> float:
    return float(
        _native.divergence(
            _as_float_array(reference, "reference"),
            _as_float_array(current, "current"),
            statistic,
            _smoothing(smoothing),
        )
    )


def kl(reference: object, current: object, *, smoothing: float | None = None) -> float:
    """KL(current ‖ reference) in nats of two probability (or count) vectors.

    Equals ``scipy.stats.entropy(current, reference)``; both are normalised first::

        >>> from lumengate import drift
        >>> round(drift.kl([0.5, 0.5], [0.9, 0.1]), 6)
        0.368064
    """
    return _vector_statistic(reference, current, "kl", smoothing)


def js_distance(reference: object, current: object, *, smoothing: float | None = None) -> float:
    """Jensen-Shannon distance (natural log), as ``scipy.spatial.distance.jensenshannon``.

    >>> from lumengate import drift
    >>> round(drift.js_distance([0.5, 0.5], [0.9, 0.1]), 6)
    0.318982
    """
    return _vector_statistic(reference, current, "js", smoothing)


def psi(reference: object, current: object, *, smoothing: float | None = None) -> float:
    """Population stability index Σ (cur − ref)·ln(cur / ref) of two probability vectors.

    >>> from lumengate import drift
    >>> round(drift.psi([0.5, 0.5], [0.9, 0.1]), 6)
    0.87889
    """
    return _vector_statistic(reference, current, "psi", smoothing)


def hellinger(reference: object, current: object, *, smoothing: float | None = None) -> float:
    """Hellinger distance √(Σ (√ref − √cur)²) / √2, between 0 and 1.

    >>> from lumengate import drift
    >>> round(drift.hellinger([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    """
    return _vector_statistic(reference, current, "hellinger", smoothing)


# Binning ---------------------------------------------------------------------------------


def histogram_edges(
    reference: object,
    bins: int = 10,
    method: BinMethod = "quantile",
    *,
    non_finite: NonFinite = "reject",
) -> npt.NDArray[np.float64]:
    """Bin edges from a reference sample.

    ``"quantile"`` (default): numpy's linear quantiles at 1/bins … (bins−1)/bins, outer edges
    −inf/+inf, duplicate edges merged. ``"uniform"``, ``"sturges"`` and ``"doane"`` equal
    ``np.histogram_bin_edges`` (``bins`` is used by ``"uniform"`` only)::

        >>> from lumengate import drift
        >>> drift.histogram_edges([1.0, 2.0, 3.0, 4.0, 5.0], bins=2)
        array([-inf,   3.,  inf])
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise invalid("bins", f"must be a whole number of bins, got {bins!r}")
    if int(bins) < 1:
        raise invalid("bins", f"must be at least 1, got {bins}")
    edges: npt.NDArray[np.float64] = _native.histogram_edges(
        _as_float_array(reference, "reference"), int(bins), method, non_finite
    )
    return edges


def _edges_for(
    reference: npt.NDArray[np.float64], bins: Bins, method: BinMethod, non_finite: NonFinite
) -> npt.NDArray[np.float64]:
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        return histogram_edges(reference, int(bins), method, non_finite=non_finite)
    return _as_float_array(bins, "edges")


@dataclass(frozen=True)
class CategoryCounts:
    """Counts per category of two samples on their shared list of ``labels``."""

    labels: tuple[object, ...]
    reference: npt.NDArray[np.float64]
    current: npt.NDArray[np.float64]


def _label_counts(values: object, name: str) -> dict[object, int]:
    if isinstance(values, Mapping):
        counts: dict[object, int] = {}
        for label, count in values.items():
            number = float(count)
            if not math.isfinite(number) or number < 0:
                raise invalid(f"{name}[{label!r}]", f"is {count!r}; counts must be >= 0")
            counts[label] = int(count) if float(int(count)) == number else count
        return counts
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise invalid(name, f"must be one-dimensional, got {array.ndim} dimensions")
    if array.size == 0:
        raise invalid(name, "is empty; pass at least one label")
    result: dict[object, int] = {}
    for label in array.tolist():
        if label is None or (isinstance(label, float) and math.isnan(label)):
            raise invalid(name, "holds a missing label (None/NaN); drop or fill it first")
        result[label] = result.get(label, 0) + 1
    return result


def category_counts(
    reference: object, current: object, *, allow_new_categories: bool = False
) -> CategoryCounts:
    """Count labels (or take ``{label: count}`` mappings) of both samples on shared labels.

    Labels seen only in ``current`` raise ``InvalidArgument`` unless
    ``allow_new_categories=True`` (they then count 0 in the reference)::

        >>> from lumengate import drift
        >>> c = drift.category_counts(["a", "b", "b"], ["b", "a"])
        >>> c.labels, c.reference.tolist(), c.current.tolist()
        (('a', 'b'), [1.0, 2.0], [1.0, 1.0])
    """
    ref = _label_counts(reference, "reference")
    cur = _label_counts(current, "current")
    new = [label for label in cur if label not in ref]
    if new and not allow_new_categories:
        shown = ", ".join(repr(label) for label in new[:5])
        raise invalid(
            "current",
            f"has categories not in the reference: {shown}; pass allow_new_categories=True "
            "to count them as new",
        )
    labels = list(ref) + new
    try:
        labels = sorted(labels)  # type: ignore[type-var]
    except TypeError:
        pass
    return CategoryCounts(
        labels=tuple(labels),
        reference=np.array([float(ref.get(label, 0)) for label in labels]),
        current=np.array([float(cur.get(label, 0)) for label in labels]),
    )


def divergence(
    reference: object,
    current: object,
    statistic: Statistic = "kl",
    *,
    bins: Bins = 10,
    method: BinMethod = "quantile",
    smoothing: float | None = 0.5,
    non_finite: NonFinite = "reject",
    categorical: bool | None = None,
    allow_new_categories: bool = False,
    threads: int | None = None,
) -> float:
    """Bin two samples on edges from the reference, smooth, and return the statistic.

    ``bins`` is a number of bins (``method`` chooses them from the reference) or an
    increasing array of edges. Text, boolean and pandas categorical samples are compared
    category by category (``categorical=True`` forces it). Scores outside finite edges count
    in the outer bins::

        >>> import numpy as np
        >>> from lumengate import drift
        >>> rng = np.random.default_rng(1)
        >>> ref, cur = rng.normal(size=5000), rng.normal(size=5000)
        >>> drift.divergence(ref, cur, "kl") < 0.01
        True
    """
    if statistic not in _STATISTICS:
        raise invalid("statistic", f"must be one of {_STATISTICS}, got {statistic!r}")
    alpha = _smoothing(smoothing)
    if categorical if categorical is not None else _is_categorical(reference):
        counts = category_counts(reference, current, allow_new_categories=allow_new_categories)
        return float(_native.divergence(counts.reference, counts.current, statistic, alpha))
    ref = _as_float_array(reference, "reference")
    cur = _as_float_array(current, "current")
    edges = _edges_for(ref, bins, method, non_finite)
    value, _, _, _, _ = _native.scores_divergence(
        ref, cur, edges, statistic, alpha, non_finite, _threads(threads)
    )
    return float(value)


def kl_divergence(
    reference_scores: object,
    current_scores: object,
    bins: Bins = 10,
    *,
    method: BinMethod = "quantile",
    smoothing: float | None = 0.5,
    non_finite: NonFinite = "reject",
    threads: int | None = None,
) -> float:
    """KL(current ‖ reference) of two score samples binned on the reference's edges.

    Shorthand for ``divergence(reference_scores, current_scores, "kl", bins=bins)``.
    """
    return divergence(
        reference_scores,
        current_scores,
        "kl",
        bins=bins,
        method=method,
        smoothing=smoothing,
        non_finite=non_finite,
        threads=threads,
        categorical=False,
    )


# Chi-square and multiple testing -------------------------------------------------------


@dataclass(frozen=True)
class Chi2Result:
    """Pearson chi-square homogeneity test of two count vectors."""

    statistic: float
    pvalue: float
    dof: int


def chi2_test(reference_counts: object, current_counts: object) -> Chi2Result:
    """Chi-square test that two count vectors come from one distribution (2×k table).

    Equals ``scipy.stats.chi2_contingency([reference, current], correction=False)``; mappings
    ``{label: count}`` are aligned on their labels::

        >>> from lumengate import drift
        >>> r = drift.chi2_test([50, 50], [30, 70])
        >>> round(r.statistic, 4), r.dof
        (8.3333, 1)
    """
    if isinstance(reference_counts, Mapping) or isinstance(current_counts, Mapping):
        if not (isinstance(reference_counts, Mapping) and isinstance(current_counts, Mapping)):
            raise invalid("current_counts", "must be a mapping when reference_counts is one")
        counts = category_counts(reference_counts, current_counts, allow_new_categories=True)
        ref, cur = counts.reference, counts.current
    else:
        ref = _as_float_array(reference_counts, "reference")
        cur = _as_float_array(current_counts, "current")
    statistic, pvalue, dof = _native.chi2_test(ref, cur)
    return Chi2Result(float(statistic), float(pvalue), int(dof))


def benjamini_hochberg(pvalues: object) -> npt.NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (``fdr_bh``), in the input's order.

    >>> from lumengate import drift
    >>> drift.benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = _as_float_array(pvalues, "pvalues")
    if p.size and (bool(np.any(np.isnan(p))) or bool(np.any((p < 0) | (p > 1)))):
        index = int(np.argmax(np.isnan(p) | (p < 0) | (p > 1)))
        raise invalid(f"pvalues[{index}]", f"is {p[index]!r}; p-values must be in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    correction: Literal["bh", "none"] | None = "bh",
    alpha: float = 0.05,
    bins: int = 10,
    smoothing: float | None = 0.5,
) -> pd.DataFrame:
    """One row per column shared by two DataFrames: a test, its p-value and a drift flag.

    Numeric columns get the two-sample KS test (``drift.ks_2samp``; the ``test`` column
    says which test ran); text, boolean and categorical columns get a chi-square test on category
    counts. ``psi`` is the binned PSI; ``pvalue_adjusted`` applies Benjamini–Hochberg across
    the rows (``correction="none"`` keeps the raw p-values); ``drift`` is
    ``pvalue_adjusted < alpha``. NaN values are dropped per column::

        >>> import numpy as np, pandas as pd
        >>> from lumengate import drift
        >>> rng = np.random.default_rng(0)
        >>> ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
        >>> cur = pd.DataFrame({"x": rng.normal(1, size=2000), "c": rng.choice(["a", "b"], 2000)})
        >>> drift.report(ref, cur).set_index("column")["drift"].to_dict()
        {'c': False, 'x': True}
    """
    import pandas as pd

    if correction not in ("bh", "none", None):
        raise invalid("correction", f"must be 'bh', 'none' or None, got {correction!r}")
    if not 0 < alpha < 1:
        raise invalid("alpha", f"must be between 0 and 1, got {alpha!r}")
    shared = [name for name in reference.columns if name in set(current.columns)]
    if not shared:
        raise invalid("current", "shares no column with the reference")
    rows: list[dict[str, object]] = []
    for name in shared:
        ref_column = reference[name].dropna()
        cur_column = current[name].dropna()
        for side, column in (("reference", ref_column), ("current", cur_column)):
            if len(column) == 0:
                raise invalid(f"{side}[{name!r}]", "has no values after dropping NaN")
        if _is_categorical(ref_column) or _is_categorical(cur_column):
            counts = category_counts(
                ref_column.astype(object).to_numpy(),
                cur_column.astype(object).to_numpy(),
                allow_new_categories=True,
            )
            result = chi2_test(counts.reference, counts.current)
            statistic, pvalue, test, kind = result.statistic, result.pvalue, "chi2", "categorical"
            value = float(
                _native.divergence(counts.reference, counts.current, "psi", _smoothing(smoothing))
            )
        else:
            ref_values = _as_float_array(ref_column.to_numpy(), f"reference[{name!r}]")
            cur_values = _as_float_array(cur_column.to_numpy(), f"current[{name!r}]")
            # A constant reference column has no quantile bins; its uniform bins still work.
            constant = bool(ref_values.min() == ref_values.max())
            edges = histogram_edges(ref_values, bins, "uniform" if constant else "quantile")
            value, _, _, _, _ = _native.scores_divergence(
                ref_values, cur_values, edges, "psi", _smoothing(smoothing), "reject", 0
            )
            kind = "numeric"
            outcome = ks_2samp(ref_values, cur_values)
            statistic, pvalue, test = outcome.statistic, outcome.pvalue, "ks"
        rows.append(
            {
                "column": str(name),
                "kind": kind,
                "test": test,
                "statistic": float(statistic),
                "pvalue": float(pvalue),
                "psi": float(value),
            }
        )
    table = pd.DataFrame(rows)
    pvalues = table["pvalue"].to_numpy(dtype=float)
    adjusted = benjamini_hochberg(pvalues) if correction == "bh" else pvalues
    table["pvalue_adjusted"] = adjusted
    table["drift"] = adjusted < alpha
    return table.sort_values("column", ignore_index=True)


# Mergeable state --------------------------------------------------------------------------


class HistogramState:
    """Counts on frozen edges plus moments (n, Σx, Σx², min, max) that merge exactly.

    ``a.merge(b)`` equals the state of both samples together, bit for bit: counts, n, min
    and max are integers or chosen values, and Σx, Σx² are kept as exact fixed-point sums
    (``sum`` and ``sum_of_squares`` round them to the nearest double only when read)::

        >>> import numpy as np
        >>> from lumengate import drift
        >>> edges = np.array([-np.inf, 0.0, np.inf])
        >>> a = drift.HistogramState.from_scores([-1.0, 2.0], edges)
        >>> b = drift.HistogramState.from_scores([3.0], edges)
        >>> a.merge(b) == drift.HistogramState.from_scores([-1.0, 2.0, 3.0], edges)
        True
        >>> drift.HistogramState.from_bytes(a.to_bytes()) == a
        True
    """

    __slots__ = ("_native",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, native: Any) -> None:
        self._native = native

    @classmethod
    def from_scores(
        cls,
        scores: object,
        edges: object,
        *,
        non_finite: NonFinite = "reject",
        threads: int | None = None,
    ) -> HistogramState:
        """The state of ``scores`` binned on ``edges`` (outside scores go to outer bins)."""
        return cls(
            _native.HistogramState.from_scores(
                _as_float_array(scores, "scores"),
                _as_float_array(edges, "edges"),
                non_finite,
                _threads(threads),
            )
        )

    @classmethod
    def empty(cls, edges: object) -> HistogramState:
        """A state with no scores yet."""
        return cls(_native.HistogramState.empty(_as_float_array(edges, "edges")))

    def merge(self, other: HistogramState) -> HistogramState:
        """The state of both samples; the edges must be identical."""
        if not isinstance(other, HistogramState):
            raise invalid("other", f"must be a HistogramState, got {type(other).__name__}")
        return HistogramState(self._native.merge(other._native))

    def to_bytes(self) -> bytes:
        """Little-endian bytes: magic ``LGHS``, version 1, the state, an XXH64 checksum."""
        return bytes(self._native.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> HistogramState:
        """Read :meth:`to_bytes` output; corrupt, truncated or unknown bytes raise."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise invalid("data", f"must be bytes, got {type(data).__name__}")
        return cls(_native.HistogramState.from_bytes(bytes(data)))

    @property
    def edges(self) -> npt.NDArray[np.float64]:
        """The bin edges."""
        edges: npt.NDArray[np.float64] = self._native.edges
        return edges

    @property
    def counts(self) -> npt.NDArray[np.uint64]:
        """Scores per bin."""
        counts: npt.NDArray[np.uint64] = self._native.counts
        return counts

    @property
    def n(self) -> int:
        """Number of scores."""
        return int(self._native.n)

    @property
    def min(self) -> float:
        """Smallest score (NaN when empty)."""
        return float(self._native.min)

    @property
    def max(self) -> float:
        """Largest score (NaN when empty)."""
        return float(self._native.max)

    @property
    def sum(self) -> float:
        """Σx, rounded from the exact sum."""
        return float(self._native.sum)

    @property
    def sum_of_squares(self) -> float:
        """Σx², rounded from the exact sum."""
        return float(self._native.sum_of_squares)

    @property
    def mean(self) -> float:
        """Mean score (NaN when empty)."""
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Population variance from the moments (NaN when empty)."""
        if not self.n:
            return math.nan
        return max(self.sum_of_squares / self.n - self.mean**2, 0.0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HistogramState):
            return NotImplemented
        return bool(self._native == other._native)

    def __reduce__(self) -> tuple[Any, ...]:
        return (HistogramState.from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        return f"HistogramState(bins={self.counts.size}, n={self.n}, mean={self.mean:.6g})"


def divergence_from_states(
    reference_state: HistogramState,
    current_state: HistogramState,
    statistic: Statistic = "kl",
    *,
    smoothing: float | None = 0.5,
) -> float:
    """The statistic of two states on the same edges (smoothed like :func:`divergence`)."""
    if not np.array_equal(reference_state.edges, current_state.edges):
        raise invalid("current_state.edges", "differ from reference_state.edges")
    return float(
        _native.divergence(
            reference_state.counts.astype(np.float64),
            current_state.counts.astype(np.float64),
            statistic,
            _smoothing(smoothing),
        )
    )


# Streaming monitor -------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityBands:
    """Statistic ≥ ``mild`` is "mild", ≥ ``significant`` "significant", > ``severe`` "severe"."""

    mild: float = 0.3
    significant: float = 0.5
    severe: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.mild <= self.significant <= self.severe:
            raise invalid("bands", f"need 0 <= mild <= significant <= severe, got {self}")

    def classify(self, statistic: float) -> str:
        """The band of one statistic."""
        if math.isnan(statistic) or statistic < self.mild:
            return "normal"
        if statistic < self.significant:
            return "mild"
        if statistic <= self.severe:
            return "significant"
        return "severe"


@dataclass(frozen=True)
class RetrainPolicy:
    """Recommend retraining after ``events`` drift events within ``window``, or when any
    statistic (with a full ``min_samples``) exceeds ``max_statistic``."""

    events: int = 5
    window: timedelta = timedelta(days=7)
    max_statistic: float = 1.0

    def __post_init__(self) -> None:
        if self.events < 1:
            raise invalid("retrain.events", f"must be >= 1, got {self.events}")
        if self.window <= timedelta(0):
            raise invalid("retrain.window", f"must be positive, got {self.window}")


@dataclass(frozen=True)
class DriftCheck:
    """The monitor's verdict after one score."""

    drift: bool
    statistic: float
    severity: str
    samples: int = 0
    event: bool = False


@dataclass(frozen=True)
class DriftEvent:
    """A rising edge into drift (outside the cooldown)."""

    time: datetime
    statistic: float
    severity: str
    score_index: int


@dataclass(frozen=True)
class MonitorStatus:
    """What ``DriftMonitor.status()`` reports."""

    drift: bool
    statistic: float
    severity: str
    samples: int
    window: int
    total: int
    dropped: int
    events_in_window: int
    last_event: DriftEvent | None
    retrain_recommended: bool
    retrain_reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class MonitorSummary:
    """Drift events of the last ``days`` days."""

    since: datetime
    until: datetime
    events: int
    by_severity: dict[str, int]
    max_statistic: float
    statistic: float
    retrain_recommended: bool


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _to_us(moment: datetime, name: str) -> int:
    if not isinstance(moment, datetime):
        raise invalid(name, f"must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise invalid(name, f"is naive ({moment}); pass an aware datetime (e.g. UTC)")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _load_baseline(baseline: object, name: str = "baseline") -> npt.NDArray[np.float64]:
    if baseline is None:
        raise invalid(name, "is None; pass scores, a .npy path or a (saved) HistogramState")
    if isinstance(baseline, (str, os.PathLike)):
        path = Path(baseline)
        if not path.is_file():
            raise invalid(name, f"file {str(path)!r} does not exist")
        baseline = np.load(path, allow_pickle=False)
    values = _as_float_array(baseline, name)
    if values.size == 0:
        raise invalid(name, "is empty; pass at least one score")
    return values


class DriftMonitor:
    """Watches a stream of scores for drift from a baseline, as a service would.

    The last ``window`` scores are binned on edges frozen from the baseline; after every
    score the statistic of their counts against the baseline histogram is recomputed from the
    counts (O(bins) per score, table look-ups, no logarithm except for ``"js"``). Drift is
    ``statistic >= threshold`` once ``min_samples`` (default: ``window``) scores are in the
    window; a drift *event* is a rising edge into drift, then none until ``cooldown`` passes.
    ``baseline`` is an array of scores, a ``.npy`` path, or a :class:`HistogramState` (or its
    bytes), whose edges are then used as they are. ``clock`` returns an aware datetime (UTC
    now by default); explicit timestamps override it. Thread-safe::

        >>> import numpy as np
        >>> from datetime import datetime, timedelta, timezone
        >>> from lumengate import drift
        >>> rng = np.random.default_rng(0)
        >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> mon = drift.DriftMonitor(rng.normal(size=100_000), window=1000, clock=lambda: now)
        >>> mon.add_many(rng.normal(size=1000))
        []
        >>> events = mon.add_many(rng.normal(3.0, size=1000))
        >>> len(events), events[0].severity, mon.status().severity
        (1, 'significant', 'severe')
        >>> mon.status().retrain_recommended
        True
    """

    def __init__(
        self,
        baseline: object,
        window: int = 1000,
        statistic: Statistic = "kl",
        threshold: float = 0.5,
        bins: Bins = 10,
        *,
        method: BinMethod = "quantile",
        min_samples: int | None = None,
        smoothing: float | None = 0.5,
        cooldown: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] | None = None,
        retrain: RetrainPolicy | None = None,
        bands: SeverityBands | None = None,
        non_finite: NonFinite = "reject",
    ) -> None:
        if statistic not in _STATISTICS:
            raise invalid("statistic", f"must be one of {_STATISTICS}, got {statistic!r}")
        for name, number in (("window", window), ("min_samples", min_samples)):
            if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
                raise invalid(name, f"must be a whole number, got {number!r}")
        if not isinstance(cooldown, timedelta) or cooldown < timedelta(0):
            raise invalid("cooldown", f"must be a timedelta >= 0, got {cooldown!r}")
        threshold = float(threshold)
        if isinstance(baseline, (bytes, bytearray, memoryview)):
            baseline = HistogramState.from_bytes(bytes(baseline))
        if isinstance(baseline, HistogramState):
            if baseline.n == 0:
                raise invalid("baseline", "is an empty HistogramState")
            edges, counts = baseline.edges, baseline.counts
        else:
            values = _load_baseline(baseline)
            edges = _edges_for(values, bins, method, non_finite)
            counts, _ = _native.bin_counts(values, edges, non_finite, "baseline", 0)
        self._core = _native.DriftMonitorCore(
            edges,
            [int(c) for c in counts],
            statistic,
            threshold,
            window,
            window if min_samples is None else min_samples,
            _smoothing(smoothing),
            cooldown // timedelta(microseconds=1),
            non_finite,
        )
        self._statistic: Statistic = statistic
        self._threshold = threshold
        self._window = window
        self._cooldown = cooldown
        self._clock = clock or _utc_now
        self._retrain = retrain or RetrainPolicy()
        self._bands = bands or SeverityBands(0.6 * threshold, threshold, 2 * threshold)

    @property
    def statistic(self) -> Statistic:
        """The statistic watched: "kl", "psi", "js" or "hellinger"."""
        return self._statistic

    @property
    def bands(self) -> SeverityBands:
        """Severity bands (default 0.6×, 1× and 2× the threshold: 0.3 / 0.5 / 1.0 for KL)."""
        return self._bands

    @property
    def edges(self) -> npt.NDArray[np.float64]:
        """The frozen baseline edges."""
        edges: npt.NDArray[np.float64] = self._core.config()["edges"]
        return edges

    @property
    def counts(self) -> npt.NDArray[np.uint64]:
        """Scores per bin in the current window."""
        counts: npt.NDArray[np.uint64] = self._core.snapshot()["counts"]
        return counts

    def _now_us(self, timestamp: datetime | None, name: str = "timestamp") -> int:
        return _to_us(self._clock() if timestamp is None else timestamp, name)

    def add(self, score: float, timestamp: datetime | None = None) -> DriftCheck:
        """Add one score (at ``timestamp``, default the clock's now) and check for drift."""
        drift, statistic, samples, event = self._core.add(float(score), self._now_us(timestamp))
        return DriftCheck(
            bool(drift), float(statistic), self._bands.classify(statistic), int(samples), event
        )

    def add_many(
        self, scores: object, timestamps: Iterable[datetime] | npt.NDArray[Any] | None = None
    ) -> list[DriftEvent]:
        """Add scores in order; the same checks as calling :meth:`add` on each.

        ``timestamps`` gives one aware datetime (or ``datetime64`` in UTC) per score; without
        it, every score is stamped with one reading of the clock. Returns the drift events
        the batch raised. A batch with a rejected (non-finite) score changes nothing.
        """
        values = _as_float_array(scores, "scores")
        if timestamps is None:
            times = np.array([self._now_us(None)], dtype=np.int64)
        elif isinstance(timestamps, np.ndarray) and timestamps.dtype.kind == "M":
            times = timestamps.astype("datetime64[us]").astype(np.int64)
        else:
            times = np.array(
                [_to_us(t, f"timestamps[{i}]") for i, t in enumerate(timestamps)], dtype=np.int64
            )
        if timestamps is not None and times.size != values.size:
            raise invalid("timestamps", f"has {times.size} values for {values.size} scores")
        return [self._event(e) for e in self._core.add_many(values, times)]

    def _event(self, raw: tuple[int, float, int]) -> DriftEvent:
        time_us, statistic, index = raw
        return DriftEvent(_from_us(time_us), statistic, self._bands.classify(statistic), index)

    @property
    def events(self) -> tuple[DriftEvent, ...]:
        """Every drift event since construction or the last :meth:`reset`."""
        return tuple(self._event(e) for e in self._core.snapshot()["events"])

    def status(self) -> MonitorStatus:
        """Current statistic, drift flag and whether retraining is recommended, and why."""
        snap = self._core.snapshot()
        now = self._clock()
        events = [self._event(e) for e in snap["events"]]
        recent = [e for e in events if e.time > now - self._retrain.window]
        reasons: list[str] = []
        if len(recent) >= self._retrain.events:
            reasons.append(
                f"{len(recent)} drift events within {self._retrain.window} "
                f"(policy: {self._retrain.events})"
            )
        peak = float(snap["peak"])
        if peak > self._retrain.max_statistic:
            reasons.append(
                f"{self._statistic} reached {peak:.4g} > {self._retrain.max_statistic:g}"
            )
        statistic = float(snap["statistic"])
        return MonitorStatus(
            drift=bool(snap["drift"]),
            statistic=statistic,
            severity=self._bands.classify(statistic),
            samples=int(snap["samples"]),
            window=self._window,
            total=int(snap["total"]),
            dropped=int(snap["dropped"]),
            events_in_window=len(recent),
            last_event=events[-1] if events else None,
            retrain_recommended=bool(reasons),
            retrain_reasons=tuple(reasons),
        )

    def summary(self, days: float = 7) -> MonitorSummary:
        """Drift events of the last ``days`` days, by severity."""
        if not days > 0:
            raise invalid("days", f"must be > 0, got {days!r}")
        until = self._clock()
        since = until - timedelta(days=days)
        recent = [e for e in self.events if since < e.time <= until]
        by_severity = {name: 0 for name in ("mild", "significant", "severe")}
        for e in recent:
            by_severity[e.severity] = by_severity.get(e.severity, 0) + 1
        status = self.status()
        return MonitorSummary(
            since=since,
            until=until,
            events=len(recent),
            by_severity=by_severity,
            max_statistic=max((e.statistic for e in recent), default=math.nan),
            statistic=status.statistic,
            retrain_recommended=status.retrain_recommended,
        )

    def reset(self) -> None:
        """Forget the window, the events and the retrain history; keep the baseline."""
        self._core.reset()

    def _extra(self) -> str:
        return json.dumps(
            {
                "bands": [self._bands.mild, self._bands.significant, self._bands.severe],
                "retrain": [
                    self._retrain.events,
                    self._retrain.window // timedelta(microseconds=1),
                    self._retrain.max_statistic,
                ],
            }
        )

    def to_bytes(self) -> bytes:
        """The whole monitor (baseline, window, events, policy) as versioned bytes."""
        return bytes(self._core.to_bytes(self._extra().encode()))

    @classmethod
    def from_bytes(
        cls, data: bytes, *, clock: Callable[[], datetime] | None = None
    ) -> DriftMonitor:
        """A monitor that continues exactly where the one that wrote ``data`` stopped."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise invalid("data", f"must be bytes, got {type(data).__name__}")
        native, extra = _native.DriftMonitorCore.from_bytes(bytes(data))
        try:
            settings = json.loads(bytes(extra).decode())
            mild, significant, severe = settings["bands"]
            events, window_us, max_statistic = settings["retrain"]
        except (ValueError, KeyError, TypeError):
            raise invalid("data", "DriftMonitor bytes hold unreadable settings") from None
        monitor = cls.__new__(cls)
        monitor._core = native
        config = native.config()
        monitor._statistic = config["statistic"]
        monitor._threshold = config["threshold"]
        monitor._window = config["window"]
        monitor._cooldown = timedelta(microseconds=config["cooldown_us"])
        monitor._clock = clock or _utc_now
        monitor._retrain = RetrainPolicy(events, timedelta(microseconds=window_us), max_statistic)
        monitor._bands = SeverityBands(mild, significant, severe)
        return monitor

    def __repr__(self) -> str:
        s = self.status()
        return (
            f"DriftMonitor(statistic={self._statistic!r}, threshold={self._threshold:g}, "
            f"window={self._window}, samples={s.samples}, drift={s.drift})"
        )


def false_alarm_rate(
    baseline: object,
    window: int = 1000,
    statistic: Statistic = "kl",
    threshold: float = 0.5,
    bins: Bins = 10,
    trials: int = 1000,
    seed: int | None = 0,
    *,
    rng: np.random.Generator | None = None,
    smoothing: float | None = 0.5,
    method: BinMethod = "quantile",
) -> float:
    """Share of A/A windows drawn from the baseline that a monitor with these settings flags.

    Each of ``trials`` windows holds ``window`` scores drawn with replacement from the
    baseline (``rng``, or a generator seeded with ``seed``)::

        >>> import numpy as np
        >>> from lumengate import drift
        >>> baseline = np.random.default_rng(1).normal(size=100_000)
        >>> drift.false_alarm_rate(baseline, trials=200)
        0.0
    """
    values = _load_baseline(baseline)
    if statistic not in _STATISTICS:
        raise invalid("statistic", f"must be one of {_STATISTICS}, got {statistic!r}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise invalid("trials", f"must be a whole number >= 1, got {trials!r}")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise invalid("window", f"must be a whole number >= 1, got {window!r}")
    generator = rng if rng is not None else np.random.default_rng(seed)
    edges = _edges_for(values, bins, method, "reject")
    baseline_counts, _ = _native.bin_counts(values, edges, "reject", "baseline", 0)
    reference = baseline_counts.astype(np.float64)
    alpha = _smoothing(smoothing)
    flagged = 0
    for _ in range(trials):
        sample = values[generator.integers(0, values.size, size=window)]
        counts, _ = _native.bin_counts(sample, edges, "reject", "window", 1)
        value = _native.divergence(reference, counts.astype(np.float64), statistic, alpha)
        flagged += bool(value >= threshold)
    return flagged / trials
