"""Experiment statistics shared by assignment, canaries and drift.

>>> from lumengate import stats
>>> r = stats.srm_test(observed=[4300, 5700], weights=[0.5, 0.5])
>>> r.mismatch        # the split is far from 50/50: assignment or logging is broken
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lumengate._native import core
from lumengate.errors import invalid

__all__ = ["SrmResult", "chi2_sf", "srm_test"]

_native = core.stats


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch test result.

    ``mismatch`` is ``pvalue < alpha``. ``empty_arms`` lists arms (by label) that were
    planned to get users but got none: always worth a look, even without a mismatch.
    """

    statistic: float
    pvalue: float
    mismatch: bool
    dof: int
    alpha: float
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    arms: tuple[Any, ...]
    empty_arms: tuple[Any, ...]


def chi2_sf(x: float, dof: float) -> float:
    """P(X >= x) for a chi-squared variable with ``dof`` degrees of freedom (Boost.Math)."""
    return float(_native.chi2_sf(float(x), float(dof)))


def _counts_from_frame(
    data: Any, column: str | None, weights: Any
) -> tuple[list[Any], list[float], list[float]]:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        name = column or "variant"
        if name not in data.columns:
            raise invalid(
                "column", f"DataFrame has no column {name!r}; columns: {list(data.columns)}"
            )
        series = data[name]
    else:
        series = data
    if not isinstance(weights, Mapping):
        raise invalid(
            "weights", "must map each arm label to its planned share when observed is a DataFrame"
        )
    counts = series.value_counts(dropna=True)
    unknown = [label for label in counts.index if label not in weights]
    if unknown:
        raise invalid(
            "observed", f"holds arms {unknown} that have no weight; weights cover {list(weights)}"
        )
    arms = list(weights)
    return arms, [float(counts.get(arm, 0)) for arm in arms], [float(weights[arm]) for arm in arms]


def srm_test(
    observed: Sequence[int] | Mapping[Any, int] | Any,
    weights: Sequence[float] | Mapping[Any, float],
    *,
    alpha: float = 0.001,
    column: str | None = None,
) -> SrmResult:
    """Chi-square test of observed arm sizes against planned weights (any number of arms).

    ``observed`` is a sequence of counts, a mapping arm -> count, or a DataFrame of exposures
    (one row per user, arm label in ``column``, default ``"variant"``) or a Series of labels;
    with a mapping or a frame, ``weights`` maps arm -> share. Weights must sum to 1. The
    verdict uses ``alpha`` (0.001 by default, the usual SRM threshold). An arm with weight 0
    that got users is a certain mismatch; an arm with users planned but none observed is listed
    in ``empty_arms``.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise invalid("alpha", f"must be in (0, 1), got {alpha!r}")
    module = type(observed).__module__
    if module.startswith("pandas"):
        arms, counts, shares = _counts_from_frame(observed, column, weights)
    elif isinstance(observed, Mapping):
        if not isinstance(weights, Mapping) or set(weights) != set(observed):
            raise invalid("weights", "must map the same arms as observed")
        arms = list(observed)
        counts = [float(observed[arm]) for arm in arms]
        shares = [float(weights[arm]) for arm in arms]
    else:
        counts_array = np.asarray(observed, dtype=float)
        if counts_array.ndim != 1:
            raise invalid(
                "observed", f"must be a 1-d sequence of counts, got shape {counts_array.shape}"
            )
        counts = counts_array.tolist()
        if isinstance(weights, Mapping):
            raise invalid("weights", "must be a sequence when observed is a sequence")
        try:
            shares = [float(w) for w in weights]
        except (TypeError, ValueError):
            raise invalid("weights", f"must be numbers, got {weights!r}") from None
        arms = list(range(len(counts)))
    statistic, pvalue, dof, expected = _native.srm_test(counts, shares)
    empty = tuple(
        arm
        for arm, count, share in zip(arms, counts, shares, strict=True)
        if count == 0 and share > 0
    )
    return SrmResult(
        statistic=float(statistic),
        pvalue=float(pvalue),
        mismatch=bool(pvalue < alpha),
        dof=int(dof),
        alpha=float(alpha),
        observed=tuple(int(c) for c in counts),
        expected=tuple(float(e) for e in expected),
        arms=tuple(arms),
        empty_arms=empty,
    )
