"""Stubs of lumengate._core.assign: hashing and bucketing of ids."""

from typing import Any

import numpy as np
import numpy.typing as npt

class Scheme:
    def __init__(
        self,
        kind: str,
        prefix: bytes = b"",
        suffix: bytes = b"",
        seed: int = 0,
        normalizer: int = 100,
        code_points: bool = False,
    ) -> None: ...
    @property
    def integer_buckets(self) -> bool: ...

class ExperimentPlan:
    def __init__(
        self,
        scheme: Scheme,
        ranges: list[tuple[float, float]],
        scale: float = 1.0,
        upper_inclusive: bool = False,
        namespace: tuple[str, float, float] | None = None,
        forced_ids: Any = None,
        forced_index: npt.NDArray[np.int32] = ...,
        sticky_ids: Any = None,
        sticky_index: npt.NDArray[np.int32] = ...,
    ) -> None: ...

def key_bytes(id: Any) -> bytes: ...
def hash_many(ids: Any, algorithm: str, seed: int = 0, threads: int = 0) -> npt.NDArray[Any]: ...
def bucket(id: Any, scheme: Scheme) -> int | float: ...
def bucket_many(ids: Any, scheme: Scheme, threads: int = 0) -> npt.NDArray[Any]: ...
def assign_one(id: Any, plan: ExperimentPlan) -> tuple[int, float, int, bool]: ...
def assign_many(
    ids: Any, plan: ExperimentPlan, threads: int = 0
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64], npt.NDArray[np.uint8], int]: ...
def evp_digest_baseline(ids: Any, algorithm: str = "md5") -> tuple[float, int]: ...
