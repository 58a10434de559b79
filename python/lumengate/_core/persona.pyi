"""Stubs of lumengate._core.persona."""

from typing import Any

# keys part

class Vocabulary:
    def __init__(
        self,
        tones: list[str],
        paces: list[str],
        intents: list[str],
        synonyms: list[tuple[str, str]],
        tone_similarity: list[tuple[str, str, float]],
        intent_similarity: list[tuple[str, str, float]],
    ) -> None: ...
    def values(self, part: str) -> list[str]: ...
    @property
    def synonyms(self) -> list[tuple[str, str]]: ...
    def similarities(self, part: str) -> list[tuple[str, str, float]]: ...
    def similarity(self, part: str, a: str, b: str) -> float: ...

def parse_resonance_key(
    text: str, vocabulary: Vocabulary, lenient: bool = False
) -> tuple[str | None, str | None, str | None, list[tuple[str, str, str, str]]]: ...
def validate_resonance_key(
    text: str, vocabulary: Vocabulary
) -> list[tuple[str, str, str, list[str], str]]: ...
def match_score(
    tone: str | None,
    pace: str | None,
    intent: str | None,
    profile_tone: str | None,
    profile_pace: str | None,
    profile_intents: list[str],
    vocabulary: Vocabulary,
) -> float: ...

# router part

class RouteOutcome:
    def scores(self) -> dict[str, float]: ...
    def evidence(
        self,
    ) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, float], ...], tuple[str, ...]]: ...

class Router:
    def __init__(
        self,
        persona_ids: list[str],
        keywords: list[list[str]],
        max_query_bytes: int = 4096,
        thresholds: list[float] = ...,
        default_persona: int = 0,
    ) -> None: ...
    def fit(
        self,
        queries: list[Any],
        labels: Any,
        keys: list[list[str]] | None = None,
        embeddings: Any = None,
        C: float = 10.0,
        seed: int = 0,
        calibration_folds: int = 0,
        max_iter: int = 2000,
        tol: float = 1e-8,
        char_ngrams: tuple[int, int] = (2, 4),
        word_ngrams: int = 0,
        lexicon_weight: float = 1.0,
        calibration: str = "temperature",
    ) -> None: ...
    def calibrate(
        self,
        queries: list[Any],
        labels: Any,
        keys: list[list[str]] | None = None,
        embeddings: Any = None,
        method: str = "temperature",
    ) -> float: ...
    def set_temperature(self, temperature: float) -> None: ...
    def set_abstain(self, thresholds: list[float], default_persona: int) -> None: ...
    def route(
        self, query: str | bytes, key: list[str] = ..., embedding: Any = None
    ) -> tuple[str, float, float, bool, bool, RouteOutcome]: ...
    def route_many(
        self,
        queries: list[Any],
        keys: list[list[str]] | None = None,
        embeddings: Any = None,
        threads: int = 0,
    ) -> tuple[list[str], Any, Any, Any, Any, Any]: ...
    def check_queries(
        self, queries: list[Any], single: bool = False, routing: bool = True
    ) -> None: ...
    def logits(
        self, queries: list[Any], keys: list[list[str]] | None = None, embeddings: Any = None
    ) -> Any: ...
    def features(
        self, queries: list[Any], keys: list[list[str]] | None = None, embeddings: Any = None
    ) -> tuple[Any, Any, Any, tuple[int, int]]: ...
    def to_bytes(self) -> bytes: ...
    def load_bytes(self, data: bytes) -> None: ...
    def swap_from(self, other: Router) -> None: ...
    def snapshot(self) -> Router: ...
    @staticmethod
    def from_bytes(data: bytes) -> Router: ...
    @property
    def fitted(self) -> bool: ...
    @property
    def persona_ids(self) -> list[str]: ...
    @property
    def keywords(self) -> list[list[str]]: ...
    @property
    def temperature(self) -> float: ...
    @property
    def thresholds(self) -> list[float]: ...
    @property
    def default_persona(self) -> int: ...
    @property
    def crisis_persona(self) -> str: ...
    @property
    def max_query_bytes(self) -> int: ...
    @property
    def embedding_dim(self) -> int: ...
    @property
    def feature_count(self) -> int: ...
    @property
    def key_vocabulary(self) -> list[str]: ...
    @property
    def C(self) -> float: ...
    @property
    def char_ngrams(self) -> tuple[int, int]: ...
    @property
    def word_ngrams(self) -> int: ...
    @property
    def lexicon_weight(self) -> float: ...
    @property
    def confidence_map(self) -> tuple[list[float], list[float]]: ...
    @property
    def seed(self) -> int: ...

def normalize_query(
    text: str | bytes, max_query_bytes: int = 4096, field: str = "query"
) -> str: ...
def crisis_phrases(text: str | bytes) -> list[str]: ...
def crisis_lexicon() -> list[str]: ...
def crisis_verdict(text: str | bytes) -> tuple[bool, bool, bool, float, bool]: ...
def crisis_compact(text: str) -> str: ...
def crisis_model_threshold() -> float: ...
def safe_response() -> str: ...
def aho_corasick_matches(patterns: list[str], text: str | bytes) -> list[tuple[int, int]]: ...

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
