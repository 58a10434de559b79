"""Stubs of lumengate._core.persona."""

from typing import Any

# keys part

# router part

# scorer part

# Arrays are numpy arrays; Any keeps this section free of imports the other parts share.
_ScorerArray = Any
_TopKTuple = tuple[
    _ScorerArray,
    _ScorerArray,
    _ScorerArray,
    _ScorerArray,
    _ScorerArray,
    bool,
    tuple[float, float, float],
]

class HybridScorer:
    @staticmethod
    def from_texts(
        texts: list[str],
        affinity: _ScorerArray | None,
        n_personas: int,
        weights: tuple[float, float, float],
        n_users: int,
        users: _ScorerArray,
        items: _ScorerArray,
        values: _ScorerArray,
        neighbours: int = 50,
        n_features: int = 262144,
        threads: int = 0,
    ) -> HybridScorer: ...
    @staticmethod
    def from_vectors(
        vectors: _ScorerArray,
        affinity: _ScorerArray | None,
        n_personas: int,
        weights: tuple[float, float, float],
        n_users: int,
        users: _ScorerArray,
        items: _ScorerArray,
        values: _ScorerArray,
        neighbours: int = 50,
        threads: int = 0,
    ) -> HybridScorer: ...
    @property
    def n_items(self) -> int: ...
    @property
    def vectors(self) -> _ScorerArray | None: ...
    @property
    def has_interactions(self) -> _ScorerArray: ...
    def neighbour_lists(self) -> tuple[_ScorerArray, _ScorerArray, _ScorerArray]: ...
    def history(self, user: int) -> tuple[_ScorerArray, _ScorerArray]: ...
    def text_vector(self, item: int) -> tuple[_ScorerArray, _ScorerArray]: ...
    def query_vector(self, text: str) -> tuple[_ScorerArray, _ScorerArray]: ...
    def top_k(
        self,
        user: int,
        text: str | None,
        vector: _ScorerArray | None,
        persona_probs: _ScorerArray | None,
        k: int = 10,
        exclude_seen: bool = False,
        threads: int = 0,
    ) -> _TopKTuple: ...
    def top_k_many(
        self,
        users: _ScorerArray,
        texts: list[str | None] | None,
        vectors: _ScorerArray | None,
        persona_probs: _ScorerArray | None,
        k: int = 10,
        exclude_seen: bool = False,
        threads: int = 0,
    ) -> list[_TopKTuple]: ...
