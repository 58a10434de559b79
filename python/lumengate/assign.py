"""Deterministic, sticky hashing-based assignment: A/B tests, feature flags, canary rollouts.

An id is hashed by a *scheme* into a bucket; an :class:`Experiment` maps buckets to
variants and a :class:`Rollout` admits buckets below its current stage's percentage. The
same id always lands in the same bucket, on every machine and in every SDK the scheme is
named after::

    >>> from lumengate import assign
    >>> scheme = assign.Md5Mod100(seed="42")
    >>> assign.bucket("user_1", scheme)          # int(md5("user_1_42").hexdigest()[:8], 16) % 100
    35
    >>> exp = assign.Experiment(key="lumen-vs-legacy", variants=["control", "treatment"],
    ...                         weights=[0.5, 0.5], scheme=scheme)
    >>> exp.assign("user_1").variant
    'control'
    >>> assign.Rollout().in_canary("user_1", stage=0)   # stage 0 admits 5 %
    False

Key bytes are defined once: ``str`` is hashed as UTF-8 (no normalisation), ``bytes`` as
is, integers (Python, numpy, nullable pandas ``Int64``) as decimal text. Floats, None, NaN,
booleans and empty ids are errors that name the offending index.

Batch functions take lists, numpy arrays (``str``, ``bytes``, object, integer,
``StringDType``), pandas Series (Arrow-backed strings read straight from their buffers) and
pyarrow arrays; they release the GIL and use every CPU this process may use (see
:func:`lumengate.set_max_threads`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from lumengate._native import core, resolve_threads
from lumengate.errors import invalid

__all__ = [
    "ALGORITHMS",
    "Assignment",
    "BatchAssignment",
    "Experiment",
    "GrowthBookV1",
    "GrowthBookV2",
    "Md5Canary",
    "Md5Mod100",
    "Namespace",
    "Optimizely",
    "PlanOut",
    "Rollout",
    "Scheme",
    "Stage",
    "Statsig",
    "Unleash",
    "bucket",
    "bucket_many",
    "hash_many",
    "key_bytes",
    "scheme_from_dict",
]

_native = core.assign

Id: TypeAlias = "str | bytes | int | np.integer[Any]"
ALGORITHMS = ("md5", "sha1", "sha256", "fnv1a32", "murmur3_32", "xxhash64")
UNLEASH_VARIANT_SEED = 86028157
FORMAT_VERSION = 1


# ---------------------------------------------------------------------------------------
# Key input: every container becomes one of the forms the native core reads without
# per-element Python calls where the buffer allows.


def _first_missing(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.argmax(mask))


def _arrow_form(array: Any) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if array.null_count:
        index = _first_missing(np.asarray(array.is_null().to_numpy(zero_copy_only=False)))
        raise invalid(f"ids[{index}]", "is missing (null); every id must be present")
    kind = array.type
    width: type[np.signedinteger[Any]]
    if pa.types.is_integer(kind):
        return array.to_numpy(zero_copy_only=False)
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        width = np.int32
    elif pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        width = np.int64
    elif hasattr(pa.types, "is_string_view") and (
        pa.types.is_string_view(kind) or pa.types.is_binary_view(kind)
    ):
        return _arrow_form(
            array.cast(pa.large_string() if pa.types.is_string_view(kind) else pa.large_binary())
        )
    else:
        raise invalid(
            "ids", f"Arrow type {kind} is not an id type; use strings, binary or integers"
        )
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=width)[
        array.offset : array.offset + len(array) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return ("utf8", data, offsets)


def _ids_input(ids: Any) -> Any:
    """The native form of a batch of ids."""
    module = type(ids).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(ids, pd.Index):
            ids = ids.to_series(index=None)
        if isinstance(ids, pd.DataFrame):
            raise invalid("ids", "is a DataFrame; pass one column (a Series) of ids")
        if isinstance(ids, pd.Series):
            dtype = ids.dtype
            if isinstance(dtype, pd.ArrowDtype) or getattr(dtype, "storage", None) == "pyarrow":
                # Arrow-backed: read the offsets and data buffers, no per-element Python calls.
                return _arrow_form(ids.array.__arrow_array__())  # type: ignore[attr-defined]
            if isinstance(ids.dtype, pd.api.extensions.ExtensionDtype) and ids.dtype.kind in "iu":
                mask = np.asarray(ids.isna())
                if mask.any():
                    raise invalid(
                        f"ids[{_first_missing(mask)}]", "is missing (NA); every id must be present"
                    )
                return ids.to_numpy(dtype=np.int64 if ids.dtype.kind == "i" else np.uint64)
            return _ids_input(
                ids.to_numpy(dtype=object) if ids.dtype.kind not in "iuSU" else ids.to_numpy()
            )
    if module.startswith("pyarrow"):
        return _arrow_form(ids)
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1:
            raise invalid("ids", f"must be one-dimensional, got shape {ids.shape}")
        kind = ids.dtype.kind
        if kind == "T":
            # StringDType: numpy encodes to UTF-8 bytes in C; with a missing-value sentinel the
            # values go via objects so that the error can name the missing index.
            if hasattr(ids.dtype, "na_object"):
                return ids.astype(object)
            return np.strings.encode(ids, "utf-8")
        if kind in "USiuO":
            return np.ascontiguousarray(ids)
        if kind == "b":
            raise invalid(
                "ids[0]", f"bool {ids[0]!r} is not an id; ids must be str, bytes or integers"
            )
        return ids  # the native core names index 0 of a float or other non-id array
    if isinstance(ids, (str, bytes)):
        raise invalid("ids", "is a single id; pass a list or array, or use the single-id function")
    if isinstance(ids, Iterable):
        items = list(ids)
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array
    raise invalid("ids", f"{type(ids).__name__} is not a collection of ids")


def key_bytes(user_id: Id) -> bytes:
    """The bytes an id is hashed as: ``str`` as UTF-8, ``bytes`` as is, integers as decimal."""
    return bytes(_native.key_bytes(user_id))


def hash_many(
    ids: Any, algorithm: str, seed: int = 0, *, threads: int | None = None
) -> npt.NDArray[Any]:
    """Hash every id with ``algorithm`` (one of :data:`ALGORITHMS`).

    Digests (md5, sha1, sha256, via OpenSSL) come back as fixed-width bytes equal to
    ``hashlib.<algorithm>(key).digest()``; fnv1a32 and murmur3_32 as ``uint32``, xxhash64 as
    ``uint64``. ``seed`` applies to murmur3_32 (32-bit) and xxhash64.
    """
    if algorithm not in ALGORITHMS:
        raise invalid(
            "algorithm", f"unknown algorithm {algorithm!r}; allowed: {', '.join(ALGORITHMS)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise invalid("seed", f"must be a whole number >= 0, got {seed!r}")
    return np.asarray(
        _native.hash_many(_ids_input(ids), algorithm, int(seed), resolve_threads(threads))
    )


# ---------------------------------------------------------------------------------------
# Schemes


def _check_text(name: str, value: Any, *, allow_empty: bool = True) -> None:
    if not isinstance(value, str):
        raise invalid(name, f"must be a str, got {type(value).__name__} {value!r}")
    if not allow_empty and not value:
        raise invalid(name, "must not be empty")


def _check_percent(percent: Any, name: str = "percent") -> float:
    if isinstance(percent, bool) or not isinstance(percent, (int, float, np.integer, np.floating)):
        raise invalid(name, f"must be a number in [0, 100], got {percent!r}")
    value = float(percent)
    if not (0.0 <= value <= 100.0):
        raise invalid(name, f"must be in [0, 100], got {percent!r}")
    return value


@dataclass(frozen=True)
class Scheme:
    """How an id becomes a bucket; subclasses are bit-compatible with one convention.

    ``bucket_count`` is the size of an integer bucket space, or None when buckets are unit
    fractions in [0, 1).
    """

    name: ClassVar[str] = ""
    bucket_count: ClassVar[int | None] = None

    def __getstate__(self) -> dict[str, Any]:
        # The compiled native form is a cache: rebuilt on demand, never pickled.
        return {k: v for k, v in self.__dict__.items() if k != "native"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _native_parts(self) -> dict[str, Any]:
        raise NotImplementedError

    @cached_property
    def native(self) -> Any:
        parts = self._native_parts()
        for key in ("prefix", "suffix"):
            if isinstance(parts.get(key), str):
                parts[key] = parts[key].encode("utf-8")
        return _native.Scheme(self.name, **parts)

    @property
    def integer_buckets(self) -> bool:
        return self.bucket_count is not None

    def _scale(self) -> float:
        return float(self.bucket_count) if self.bucket_count is not None else 1.0

    def ranges(
        self, weights: Sequence[float], coverage: float
    ) -> tuple[list[tuple[float, float]], float, bool]:
        """Variant ranges in bucket units (start inclusive, end exclusive), scale, inclusivity.

        Integer schemes take consecutive integer ranges, ``round(cumulative share × buckets)``;
        fraction schemes use the cumulative shares themselves, as GrowthBook computes them.
        """
        ranges: list[tuple[float, float]] = []
        cumulative = 0.0
        scale = self._scale()
        for weight in weights:
            start = cumulative
            cumulative += weight
            if self.bucket_count is None:
                ranges.append((start, start + coverage * weight))
            else:
                ranges.append(
                    (float(round(start * scale)), float(round((start + coverage * weight) * scale)))
                )
        return ranges, 1.0, False

    def admits(self, buckets: Any, percent: float) -> Any:
        """Whether buckets fall inside a rollout of ``percent`` % (monotone in percent)."""
        return np.asarray(buckets) < percent / 100.0 * self._scale()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"scheme": type(self).__name__}
        data.update({k: v for k, v in self.__dict__.items() if k != "native"})
        return data


@dataclass(frozen=True)
class Md5Mod100(Scheme):
    """The mentoring service's A/B rule: ``int(md5(f"{id}_{seed}").hexdigest()[:8], 16) % 100``.

    Buckets 0..99; with weights, variant i takes buckets from ``round(100 × share before i)``
    up to ``round(100 × share through i)`` (control when the bucket is below its percentage).
    """

    seed: str
    name: ClassVar[str] = "md5_mod100"
    bucket_count: ClassVar[int | None] = 100

    def __post_init__(self) -> None:
        _check_text("seed", self.seed)

    def _native_parts(self) -> dict[str, Any]:
        return {"suffix": "_" + self.seed}


@dataclass(frozen=True)
class Md5Canary(Scheme):
    """The original canary rule: ``int(md5(id).hexdigest()[:8], 16) % 100 < percent``.

    With a ``salt`` the key is ``f"{salt}:{id}"``, so independent canaries stop sampling the
    same users.
    """

    salt: str | None = None
    name: ClassVar[str] = "md5_canary"
    bucket_count: ClassVar[int | None] = 100

    def __post_init__(self) -> None:
        if self.salt is not None:
            _check_text("salt", self.salt, allow_empty=False)

    def _native_parts(self) -> dict[str, Any]:
        return {"prefix": "" if self.salt is None else self.salt + ":"}


def _check_text_unit(text: Any) -> None:
    if text not in ("utf16", "code_points"):
        raise invalid("text", f"must be 'utf16' or 'code_points', got {text!r}")


@dataclass(frozen=True)
class GrowthBookV1(Scheme):
    """GrowthBook hash v1: ``fnv1a32(id + seed) % 1000 / 1000`` (a fraction in [0, 1)).

    GrowthBook's FNV-1a does not hash UTF-8 bytes: its JS SDK and its Python SDK (4.0 and
    later) hash UTF-16 code units (``text="utf16"``, the default); Python SDKs before 4.0
    hashed whole code points (``text="code_points"``). The two differ only for characters
    outside the Basic Multilingual Plane, such as emoji.
    """

    seed: str
    text: Literal["utf16", "code_points"] = "utf16"
    name: ClassVar[str] = "growthbook_v1"

    def __post_init__(self) -> None:
        _check_text("seed", self.seed)
        _check_text_unit(self.text)

    def _native_parts(self) -> dict[str, Any]:
        return {"suffix": self.seed, "code_points": self.text == "code_points"}


@dataclass(frozen=True)
class GrowthBookV2(Scheme):
    """GrowthBook hash v2: ``fnv1a32(str(fnv1a32(seed + id))) % 10000 / 10000``.

    ``text`` chooses the unit FNV-1a runs over, as for :class:`GrowthBookV1`.
    """

    seed: str
    text: Literal["utf16", "code_points"] = "utf16"
    name: ClassVar[str] = "growthbook_v2"

    def __post_init__(self) -> None:
        _check_text("seed", self.seed)
        _check_text_unit(self.text)

    def _native_parts(self) -> dict[str, Any]:
        return {"prefix": self.seed, "code_points": self.text == "code_points"}


@dataclass(frozen=True)
class Unleash(Scheme):
    """Unleash's normalized hash: ``murmur3_x86_32(f"{group_id}:{id}", seed) % normalizer + 1``.

    Buckets are 1..normalizer. A gradual rollout admits ``bucket <= percent`` (normalizer
    100); variants use seed 86028157 and a normalizer equal to the total variant weight
    (:meth:`for_variants`).
    """

    group_id: str
    seed: int = 0
    normalizer: int = 100
    name: ClassVar[str] = "unleash"

    def __post_init__(self) -> None:
        _check_text("group_id", self.group_id)
        for label, value, low in (("seed", self.seed, 0), ("normalizer", self.normalizer, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value < 2**32:
                raise invalid(
                    label, f"must be a whole number in [{low}, 4294967295], got {value!r}"
                )

    @classmethod
    def for_variants(cls, group_id: str, total_weight: int = 1000) -> Unleash:
        """The scheme Unleash uses to pick a variant (seed 86028157, normalizer = total weight)."""
        return cls(group_id=group_id, seed=UNLEASH_VARIANT_SEED, normalizer=total_weight)

    @property
    def bucket_count(self) -> int:  # type: ignore[override]
        return self.normalizer

    def _native_parts(self) -> dict[str, Any]:
        return {"prefix": self.group_id + ":", "seed": self.seed, "normalizer": self.normalizer}

    def ranges(
        self, weights: Sequence[float], coverage: float
    ) -> tuple[list[tuple[float, float]], float, bool]:
        # Unleash picks the first variant whose cumulative weight reaches the 1-based bucket.
        base, scale, inclusive = super().ranges(weights, coverage)
        return [(start + 1, end + 1) for start, end in base], scale, inclusive

    def admits(self, buckets: Any, percent: float) -> Any:
        limit = percent / 100.0 * self.normalizer
        return (np.asarray(buckets) <= limit) & (percent > 0)


@dataclass(frozen=True)
class Statsig(Scheme):
    """Statsig's pass-percentage hash: the first 8 bytes (big-endian) of
    ``sha256(f"{config_salt}.{rule_salt}.{unit_id}")`` modulo 10000; a rule passes when the
    bucket is below ``percent × 100``. Both salts come from Statsig's exported config.
    """

    config_salt: str
    rule_salt: str
    name: ClassVar[str] = "statsig"
    bucket_count: ClassVar[int | None] = 10000

    def __post_init__(self) -> None:
        _check_text("config_salt", self.config_salt)
        _check_text("rule_salt", self.rule_salt)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], rule_id: str) -> Statsig:
        """The scheme of one rule of an exported Statsig config (``salt`` and the rule's salt)."""
        try:
            salt = config["salt"]
            rules = config["rules"]
        except (KeyError, TypeError) as error:
            raise invalid(
                "config", f"is missing {error}; expected Statsig's exported config"
            ) from None
        for rule in rules:
            if rule.get("id") == rule_id:
                return cls(config_salt=salt, rule_salt=rule.get("salt", rule_id))
        known = ", ".join(str(rule.get("id")) for rule in rules)
        raise invalid("rule_id", f"no rule {rule_id!r} in config; rules: {known}")

    def _native_parts(self) -> dict[str, Any]:
        return {"prefix": f"{self.config_salt}.{self.rule_salt}."}


@dataclass(frozen=True)
class Optimizely(Scheme):
    """Optimizely's bucket: ``floor(murmur3_x86_32(id + entity_id, 1) / 2**32 × 10000)``.

    ``entity_id`` is the experiment (or rule) id from the datafile; buckets are 0..9999 and a
    variation covers buckets below its ``endOfRange``.
    """

    entity_id: str
    name: ClassVar[str] = "optimizely"
    bucket_count: ClassVar[int | None] = 10000

    def __post_init__(self) -> None:
        _check_text("entity_id", self.entity_id)

    def _native_parts(self) -> dict[str, Any]:
        return {"suffix": self.entity_id}


@dataclass(frozen=True)
class PlanOut(Scheme):
    """PlanOut's unit hash, a fraction in [0, 1]: the first 15 hex digits of
    ``sha1(f"{experiment_salt}.{param_salt}.{unit}")`` as an integer, divided by
    ``float(0xFFFFFFFFFFFFFFF)`` (a float, exactly 2**60).

    Experiments use PlanOut's ``WeightedChoice``: the fraction times the total weight picks the
    first variant whose cumulative weight reaches it. PlanOut's Python SDK encodes the key as
    ASCII and fails on other text; here non-ASCII units are hashed as UTF-8.
    """

    experiment_salt: str
    param_salt: str
    name: ClassVar[str] = "planout"

    def __post_init__(self) -> None:
        _check_text("experiment_salt", self.experiment_salt)
        _check_text("param_salt", self.param_salt)

    def _native_parts(self) -> dict[str, Any]:
        return {"prefix": f"{self.experiment_salt}.{self.param_salt}."}

    def ranges(
        self, weights: Sequence[float], coverage: float
    ) -> tuple[list[tuple[float, float]], float, bool]:
        total = sum(weights)
        ranges: list[tuple[float, float]] = []
        cumulative = 0.0
        for weight in weights:
            start = cumulative
            cumulative += weight
            ranges.append((start, start + coverage * weight if coverage < 1 else cumulative))
        return ranges, float(total), True


_SCHEMES: dict[str, type[Scheme]] = {
    cls.__name__: cls
    for cls in (
        Md5Mod100,
        Md5Canary,
        GrowthBookV1,
        GrowthBookV2,
        Unleash,
        Statsig,
        Optimizely,
        PlanOut,
    )
}


def scheme_from_dict(data: Mapping[str, Any]) -> Scheme:
    """Rebuild a scheme from :meth:`Scheme.to_dict` output."""
    if not isinstance(data, Mapping) or "scheme" not in data:
        raise invalid("scheme", f"expected a mapping with a 'scheme' name, got {data!r}")
    name = data["scheme"]
    cls = _SCHEMES.get(name)
    if cls is None:
        raise invalid("scheme", f"unknown scheme {name!r}; allowed: {', '.join(_SCHEMES)}")
    params = {k: v for k, v in data.items() if k != "scheme"}
    try:
        return cls(**params)
    except TypeError as error:
        raise invalid("scheme", f"bad parameters for {name}: {error}") from None


def _check_scheme(scheme: Any) -> Scheme:
    if not isinstance(scheme, Scheme):
        raise invalid(
            "scheme",
            f"unknown scheme {scheme!r}; allowed: a Scheme instance ({', '.join(_SCHEMES)})",
        )
    return scheme


def bucket(user_id: Id, scheme: Scheme) -> int | float:
    """The scheme's raw bucket value for one id (an int, or a fraction for fraction schemes)."""
    return _native.bucket(user_id, _check_scheme(scheme).native)


def bucket_many(ids: Any, scheme: Scheme, threads: int | None = None) -> npt.NDArray[Any]:
    """Buckets of many ids: ``int64`` for integer schemes, ``float64`` for fractions.

    Equal, element for element, to :func:`bucket`. ``threads=None`` uses every CPU this
    process may use (affinity and cgroup quota), capped by :func:`lumengate.set_max_threads`.
    """
    native = _check_scheme(scheme).native
    return np.asarray(_native.bucket_many(_ids_input(ids), native, resolve_threads(threads)))


# ---------------------------------------------------------------------------------------
# Experiments

REASONS = ("hashed", "forced", "sticky", "not_in_namespace", "not_in_coverage")


@dataclass(frozen=True)
class Namespace:
    """A slice of GrowthBook-style namespace ``id``: ids whose v1 hash of
    ``id + "__" + namespace`` falls in ``[start, end)`` take part; experiments in one
    namespace with disjoint ranges never share a user."""

    id: str
    start: float
    end: float

    def __post_init__(self) -> None:
        _check_text("namespace.id", self.id, allow_empty=False)
        for label, value in (("namespace.start", self.start), ("namespace.end", self.end)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                raise invalid(label, f"must be a number in [0, 1], got {value!r}")
        if self.start >= self.end:
            raise invalid("namespace", f"start {self.start} must be below end {self.end}")


@dataclass(frozen=True)
class Assignment:
    """One id's assignment. ``index`` is -1 and ``variant`` None when not in the experiment;
    ``reason`` is one of ``hashed``, ``forced``, ``sticky``, ``not_in_namespace``,
    ``not_in_coverage``."""

    variant: str | None
    index: int
    bucket: int | float
    in_experiment: bool
    reason: str
    moved: bool = False


@dataclass(frozen=True)
class BatchAssignment:
    """Assignments of many ids as arrays; ``index`` is -1 where an id is not in the experiment.

    ``moved`` counts sticky ids whose bucket now gives another variant than the one they keep.
    """

    index: npt.NDArray[np.int32]
    bucket: npt.NDArray[Any]
    reason_code: npt.NDArray[np.uint8]
    variants: tuple[str, ...]
    moved: int

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def in_experiment(self) -> npt.NDArray[np.bool_]:
        return self.index >= 0

    @property
    def variant(self) -> npt.NDArray[np.object_]:
        """Variant names (None where not in the experiment)."""
        names = np.array([*self.variants, None], dtype=object)
        return names[np.where(self.index >= 0, self.index, len(self.variants))]

    @property
    def reason(self) -> npt.NDArray[np.object_]:
        return np.array(REASONS, dtype=object)[self.reason_code]

    def counts(self) -> dict[str | None, int]:
        """Users per variant (None: not in the experiment)."""
        tally = np.bincount(self.index + 1, minlength=len(self.variants) + 1)
        result: dict[str | None, int] = {
            name: int(tally[i + 1]) for i, name in enumerate(self.variants)
        }
        result[None] = int(tally[0])
        return result

    def to_pandas(self, ids: Any = None) -> Any:
        """A DataFrame with columns variant, index, bucket, reason (and id when given)."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "variant": pd.Categorical.from_codes(self.index, pd.Index(self.variants)),
                "index": self.index,
                "bucket": self.bucket,
                "reason": pd.Categorical.from_codes(
                    self.reason_code.astype(np.int8), pd.Index(REASONS)
                ),
            }
        )
        if ids is not None:
            frame.insert(0, "id", np.asarray(ids))
        return frame


def _check_weights(weights: Any, n: int, *, strict: bool) -> tuple[float, ...] | None:
    if weights is None:
        return None
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise invalid("weights", f"must be a sequence of numbers, got {weights!r}") from None
    if not strict:
        return tuple(values)
    if len(values) != n:
        raise invalid(
            "weights", f"has {len(values)} entries for {n} variants; give one per variant"
        )
    for i, w in enumerate(values):
        if math.isnan(w) or w < 0 or math.isinf(w):
            raise invalid(f"weights[{i}]", f"must be a finite share >= 0, got {weights[i]!r}")
    total = math.fsum(values)
    if abs(total - 1.0) > 1e-9:
        raise invalid("weights", f"must sum to 1, got {total!r} (from {list(values)})")
    return tuple(values)


@dataclass(frozen=True, eq=True)
class Experiment:
    """Variants split by weight over a scheme's buckets.

    ``mode="strict"`` (native experiments) rejects weights that are negative, NaN or do not
    sum to 1, and coverage outside [0, 1]. ``mode="compat"`` reproduces the normalisation of
    the SDK a scheme comes from (GrowthBook: coverage clamped to [0, 1], weights of the wrong
    length or summing outside [0.99, 1.01] replaced by equal weights), for migrations.

    ``overrides`` force ids to a variant; ``hash_attribute`` names the attribute hashed when
    :meth:`assign` receives a mapping of user attributes (or a DataFrame in
    :meth:`assign_many`).
    """

    key: str
    variants: Sequence[str]
    weights: Sequence[float] | None = None
    scheme: Scheme | None = None
    coverage: float = 1.0
    namespace: Namespace | None = None
    overrides: Mapping[Any, str] | Sequence[tuple[Any, str]] = ()
    hash_attribute: str = "id"
    mode: Literal["strict", "compat"] = "strict"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_text("key", self.key, allow_empty=False)
        if isinstance(self.variants, str) or not isinstance(self.variants, Iterable):
            raise invalid("variants", f"must be a list of variant names, got {self.variants!r}")
        variants = tuple(self.variants)
        set_(self, "variants", variants)
        if not variants:
            raise invalid("variants", "is empty; an experiment needs at least one variant")
        for i, name in enumerate(variants):
            _check_text(f"variants[{i}]", name, allow_empty=False)
        if len(set(variants)) != len(variants):
            raise invalid("variants", f"names must be unique, got {list(variants)}")
        if self.mode not in ("strict", "compat"):
            raise invalid("mode", f"must be 'strict' or 'compat', got {self.mode!r}")
        strict = self.mode == "strict"
        set_(self, "weights", _check_weights(self.weights, len(variants), strict=strict))
        scheme = Md5Mod100(seed=self.key) if self.scheme is None else _check_scheme(self.scheme)
        set_(self, "scheme", scheme)
        if isinstance(self.coverage, bool) or not isinstance(self.coverage, (int, float)):
            raise invalid("coverage", f"must be a number in [0, 1], got {self.coverage!r}")
        if strict and not (0.0 <= self.coverage <= 1.0):
            raise invalid("coverage", f"must be in [0, 1], got {self.coverage!r}")
        set_(self, "coverage", float(self.coverage))
        if self.namespace is not None and not isinstance(self.namespace, Namespace):
            if isinstance(self.namespace, Sequence) and len(self.namespace) == 3:
                set_(self, "namespace", Namespace(*self.namespace))
            else:
                raise invalid(
                    "namespace", f"must be Namespace(id, start, end), got {self.namespace!r}"
                )
        overrides = self.overrides
        pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
        normalised = []
        for user, variant in pairs:
            if variant not in variants:
                raise invalid(
                    f"overrides[{user!r}]", f"variant {variant!r} is not one of {list(variants)}"
                )
            if isinstance(user, bytes):
                raise invalid(f"overrides[{user!r}]", "override ids must be str or integers")
            key_bytes(user)  # validates the id
            normalised.append((user if isinstance(user, str) else str(user), variant))
        set_(self, "overrides", tuple(sorted(normalised)))
        _check_text("hash_attribute", self.hash_attribute, allow_empty=False)

    # -- derived values -----------------------------------------------------------------

    @property
    def effective_weights(self) -> tuple[float, ...]:
        """The weights after the mode's normalisation (strict: as given or equal)."""
        n = len(self.variants)
        equal = tuple(1.0 / n for _ in range(n))
        if self.weights is None:
            return equal
        if self.mode == "compat":
            total = sum(self.weights)
            if len(self.weights) != n or total < 0.99 or total > 1.01:
                return equal
        return tuple(self.weights)

    @property
    def effective_coverage(self) -> float:
        return min(1.0, max(0.0, self.coverage))

    def bucket_ranges(self) -> list[tuple[float, float]]:
        """Each variant's bucket range in the scheme's units."""
        assert self.scheme is not None
        return self.scheme.ranges(self.effective_weights, self.effective_coverage)[0]

    def _plan(self, sticky: Any = None) -> Any:
        assert self.scheme is not None
        ranges, scale, inclusive = self.scheme.ranges(
            self.effective_weights, self.effective_coverage
        )
        namespace = (
            None
            if self.namespace is None
            else (self.namespace.id, float(self.namespace.start), float(self.namespace.end))
        )
        index_of = {name: i for i, name in enumerate(self.variants)}
        forced_ids = forced_index = None
        if self.overrides:
            forced_ids = _ids_input([user for user, _ in self.overrides])
            forced_index = np.array([index_of[v] for _, v in self.overrides], dtype=np.int32)
        sticky_ids = sticky_index = None
        if sticky is not None:
            sticky_ids, sticky_index = self._sticky_input(sticky, index_of)
        return _native.ExperimentPlan(
            self.scheme.native,
            ranges,
            scale=scale,
            upper_inclusive=inclusive,
            namespace=namespace,
            forced_ids=forced_ids,
            forced_index=forced_index if forced_index is not None else np.zeros(0, np.int32),
            sticky_ids=sticky_ids,
            sticky_index=sticky_index if sticky_index is not None else np.zeros(0, np.int32),
        )

    def _sticky_input(self, sticky: Any, index_of: Mapping[str, int]) -> tuple[Any, Any]:
        if hasattr(sticky, "items") and not type(sticky).__module__.startswith("pandas"):
            users = list(sticky.keys())
            names = list(sticky.values())
        elif type(sticky).__module__.startswith("pandas") and hasattr(sticky, "index"):
            users = sticky.index
            names = list(sticky.to_numpy(dtype=object))
        else:
            raise invalid("sticky", "must map ids to earlier variant names (dict or pandas Series)")
        codes = np.empty(len(names), dtype=np.int32)
        for i, name in enumerate(names):
            code = index_of.get(name) if isinstance(name, str) else None
            if code is None:
                raise invalid(
                    f"sticky[{i}]", f"variant {name!r} is not one of {list(self.variants)}"
                )
            codes[i] = code
        if len(names) == 0:
            return None, None
        return _ids_input(users if not hasattr(users, "to_series") else users.to_series()), codes

    @cached_property
    def _compiled(self) -> Any:
        return self._plan()

    def __getstate__(self) -> dict[str, Any]:
        # The compiled plan is a cache: rebuilt on demand, never pickled.
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _user_id(self, user: Any) -> Any:
        if isinstance(user, Mapping):
            if self.hash_attribute not in user:
                raise invalid(
                    "user", f"has no attribute {self.hash_attribute!r} (the hash_attribute)"
                )
            return user[self.hash_attribute]
        return user

    # -- assignment ---------------------------------------------------------------------

    def assign(self, user: Any, sticky: Mapping[Any, str] | None = None) -> Assignment:
        """Assign one user (an id, or a mapping holding ``hash_attribute``).

        ``sticky`` maps ids to the variant they were shown before; it wins over the hash so
        that a change of weights moves nobody already exposed.
        """
        user_id = self._user_id(user)
        plan = self._compiled
        if sticky:
            # Only this user's earlier variant matters; the plan holds just that one entry.
            previous = sticky.get(user_id)
            if previous is None and not isinstance(user_id, str):
                previous = sticky.get(key_bytes(user_id).decode("utf-8", "replace"))
            if previous is not None:
                plan = self._plan({user_id: previous})
        index, raw_bucket, reason, moved = _native.assign_one(user_id, plan)
        assert self.scheme is not None
        bucket_value: int | float = (
            int(raw_bucket) if self.scheme.integer_buckets else float(raw_bucket)
        )
        return Assignment(
            variant=self.variants[index] if index >= 0 else None,
            index=int(index),
            bucket=bucket_value,
            in_experiment=index >= 0,
            reason=REASONS[reason],
            moved=bool(moved),
        )

    def assign_many(
        self, ids: Any, sticky: Any = None, *, threads: int | None = None
    ) -> BatchAssignment:
        """Assign many ids (array, list, Series, or a DataFrame with ``hash_attribute``)."""
        if type(ids).__module__.startswith("pandas") and hasattr(ids, "columns"):
            if self.hash_attribute not in ids.columns:
                raise invalid(
                    "ids", f"DataFrame has no column {self.hash_attribute!r} (the hash_attribute)"
                )
            ids = ids[self.hash_attribute]
        plan = self._compiled if sticky is None else self._plan(sticky)
        index, buckets, reason, moved = _native.assign_many(
            _ids_input(ids), plan, resolve_threads(threads)
        )
        assert self.scheme is not None
        bucket_array = np.asarray(buckets)
        if self.scheme.integer_buckets:
            bucket_array = bucket_array.astype(np.int64)
        return BatchAssignment(
            index=np.asarray(index),
            bucket=bucket_array,
            reason_code=np.asarray(reason),
            variants=tuple(self.variants),
            moved=int(moved),
        )

    def moves(self, ids: Any, new: Experiment, *, threads: int | None = None) -> int:
        """How many of ``ids`` would change variant if this experiment were replaced by ``new``
        without sticky assignment."""
        before = self.assign_many(ids, threads=threads)
        after = new.assign_many(ids, threads=threads)
        return int(np.count_nonzero(before.variant != after.variant))

    # -- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        assert self.scheme is not None
        return {
            "type": "Experiment",
            "version": FORMAT_VERSION,
            "key": self.key,
            "variants": list(self.variants),
            "weights": None if self.weights is None else list(self.weights),
            "scheme": self.scheme.to_dict(),
            "coverage": self.coverage,
            "namespace": None
            if self.namespace is None
            else {
                "id": self.namespace.id,
                "start": self.namespace.start,
                "end": self.namespace.end,
            },
            "overrides": [list(pair) for pair in self.overrides],
            "hash_attribute": self.hash_attribute,
            "mode": self.mode,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Experiment:
        _check_document(data, "Experiment")
        namespace = data.get("namespace")
        return cls(
            key=data["key"],
            variants=tuple(data["variants"]),
            weights=None if data.get("weights") is None else tuple(data["weights"]),
            scheme=scheme_from_dict(data["scheme"]),
            coverage=data.get("coverage", 1.0),
            namespace=None if namespace is None else Namespace(**namespace),
            overrides=tuple((u, v) for u, v in data.get("overrides", [])),
            hash_attribute=data.get("hash_attribute", "id"),
            mode=data.get("mode", "strict"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Experiment:
        return cls.from_dict(_load_json(text))

    @classmethod
    def from_optimizely(cls, datafile: Mapping[str, Any] | str, experiment_key: str) -> Experiment:
        """The experiment ``experiment_key`` of an Optimizely datafile, bucketed as Optimizely
        buckets it (its traffic allocation becomes the variant ranges)."""
        data = _load_json(datafile) if isinstance(datafile, (str, bytes)) else datafile
        experiments = [e for e in data.get("experiments", []) if e.get("key") == experiment_key]
        for group in data.get("groups", []):
            experiments += [
                e for e in group.get("experiments", []) if e.get("key") == experiment_key
            ]
        if not experiments:
            raise invalid("experiment_key", f"no experiment {experiment_key!r} in the datafile")
        experiment = experiments[0]
        names = {v["id"]: v["key"] for v in experiment["variations"]}
        variants: list[str] = []
        weights: list[float] = []
        previous = 0
        for allocation in experiment["trafficAllocation"]:
            end = int(allocation["endOfRange"])
            entity = allocation["entityId"]
            if entity not in names:
                raise invalid(
                    "trafficAllocation",
                    f"entity {entity!r} is not a variation of {experiment_key!r}; holdouts and "
                    "gaps are not supported",
                )
            variants.append(names[entity])
            weights.append((end - previous) / 10000)
            previous = end
        return cls(
            key=experiment_key,
            variants=tuple(variants),
            weights=tuple(weights),
            scheme=Optimizely(entity_id=str(experiment["id"])),
            coverage=1.0,
            mode="compat",
        )


def _load_json(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as error:
        raise invalid("json", f"is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid("json", "must hold an object")
    return data


def _check_document(data: Mapping[str, Any], kind: str) -> None:
    if data.get("type") != kind:
        raise invalid("type", f"expected a {kind} document, got {data.get('type')!r}")
    if data.get("version") != FORMAT_VERSION:
        raise invalid(
            "version",
            f"unsupported format version {data.get('version')!r}; "
            f"this release reads {FORMAT_VERSION}",
        )


# ---------------------------------------------------------------------------------------
# Rollouts


@dataclass(frozen=True)
class Stage:
    """A canary stage: ``percent`` of users admitted, for at least ``min_duration``
    (None: the final stage, held indefinitely)."""

    percent: float
    min_duration: timedelta | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", _check_percent(self.percent, "stage.percent"))
        if self.min_duration is not None and (
            not isinstance(self.min_duration, timedelta) or self.min_duration < timedelta(0)
        ):
            raise invalid(
                "stage.min_duration", f"must be a timedelta >= 0 or None, got {self.min_duration!r}"
            )


DEFAULT_STAGES = (
    Stage(5, timedelta(hours=24)),
    Stage(10, timedelta(hours=24)),
    Stage(25, timedelta(hours=48)),
    Stage(50, timedelta(hours=72)),
    Stage(100, None),
)


@dataclass(frozen=True, eq=True)
class Rollout:
    """Ordered canary stages over a scheme (default: the original MD5 canary rule).

    Admission is monotone: a user admitted at a stage stays admitted at every later stage,
    because stages only raise the percentage of the same buckets.
    """

    stages: tuple[Stage, ...] = DEFAULT_STAGES
    scheme: Scheme = field(default_factory=Md5Canary)

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages:
            raise invalid("stages", "is empty; a rollout needs at least one stage")
        for i, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                raise invalid(f"stages[{i}]", f"must be a Stage, got {stage!r}")
            if i and stage.percent <= stages[i - 1].percent:
                raise invalid(
                    f"stages[{i}]",
                    f"percent {stage.percent} must exceed the previous stage's "
                    f"{stages[i - 1].percent}",
                )
            if stage.min_duration is None and i != len(stages) - 1:
                raise invalid(f"stages[{i}]", "only the last stage may have no minimum duration")
        object.__setattr__(self, "stages", stages)
        _check_scheme(self.scheme)

    def _stage(self, stage: int) -> Stage:
        if (
            isinstance(stage, bool)
            or not isinstance(stage, (int, np.integer))
            or not 0 <= stage < len(self.stages)
        ):
            raise invalid(
                "stage", f"must be a stage index in [0, {len(self.stages) - 1}], got {stage!r}"
            )
        return self.stages[int(stage)]

    def percent(self, stage: int) -> float:
        return self._stage(stage).percent

    def in_canary(self, user_id: Id, stage: int) -> bool:
        """Whether one user is admitted at ``stage``."""
        percent = self._stage(stage).percent
        return bool(self.scheme.admits(bucket(user_id, self.scheme), percent))

    def in_canary_many(
        self, ids: Any, stage: int, *, threads: int | None = None
    ) -> npt.NDArray[np.bool_]:
        """Admission of many ids at ``stage`` as a boolean array."""
        percent = self._stage(stage).percent
        return np.asarray(
            self.scheme.admits(bucket_many(ids, self.scheme, threads=threads), percent)
        )

    def first_stage_many(self, ids: Any, *, threads: int | None = None) -> npt.NDArray[np.int8]:
        """The first stage admitting each id (len(stages) when none does)."""
        buckets = bucket_many(ids, self.scheme, threads=threads)
        first = np.full(buckets.shape[0], len(self.stages), dtype=np.int8)
        for i in reversed(range(len(self.stages))):
            first[self.scheme.admits(buckets, self.stages[i].percent)] = i
        return first

    def can_advance(self, stage: int, entered_at: datetime, now: datetime) -> bool:
        """Whether ``stage`` has been held for its minimum duration (the last stage never
        advances)."""
        current = self._stage(stage)
        if current.min_duration is None or stage == len(self.stages) - 1:
            return False
        return now - entered_at >= current.min_duration

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "Rollout",
            "version": FORMAT_VERSION,
            "stages": [
                {
                    "percent": s.percent,
                    "min_duration_seconds": None
                    if s.min_duration is None
                    else s.min_duration.total_seconds(),
                }
                for s in self.stages
            ],
            "scheme": self.scheme.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rollout:
        _check_document(data, "Rollout")
        stages = tuple(
            Stage(
                s["percent"],
                None
                if s.get("min_duration_seconds") is None
                else timedelta(seconds=s["min_duration_seconds"]),
            )
            for s in data["stages"]
        )
        return cls(stages=stages, scheme=scheme_from_dict(data["scheme"]))

    @classmethod
    def from_json(cls, text: str | bytes) -> Rollout:
        return cls.from_dict(_load_json(text))
