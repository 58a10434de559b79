"""Hybrid item scoring (part of :mod:`lumengate.persona`).

``score = w_cf·CF + w_cb·CB + w_pa·PA`` with weights 0.4 / 0.4 / 0.2 by default; each part is
in [0, 1] by construction, so no part needs rescaling against the candidate set (min-max over
the candidates would make an item's score depend on which other items happen to be there):

- **CF** (collaborative): item-item cosine similarity of the interaction columns, kept as the
  top ``neighbours`` items per item (ties by item order). A user's CF score for an item is the
  mean, weighted by the user's interaction weights, of the similarity between the item and
  each item in the user's history (0 when the item is in no history item's list). Cosines of
  non-negative weights lie in [0, 1], and so does their weighted mean.
- **CB** (content): cosine of the query with the item. Text scorers use hashed character
  n-grams (2–4 code points inside padded words, like scikit-learn's ``char_wb``; NFC and case
  folding first; XXH64 modulo ``n_features``) weighted by TF-IDF (smooth idf, L2 rows); those
  vectors are non-negative, so the cosine is in [0, 1]. Dense scorers use the cosine of the
  float32 embeddings with negative values clipped to 0 (an opposite item is as unrelated as an
  orthogonal one).
- **PA** (persona affinity): ``Σₚ P(p | query) · affinity[item, p]`` with affinities in [0, 1]
  and probabilities summing to at most 1.

A part without signal for a request gets weight 0 and its weight goes to the remaining parts in
proportion to theirs: a user with no history (or an unknown user) is *cold start*, CF is 0 and
``(w_cb, w_pa)`` become ``(w_cb, w_pa) / (w_cb + w_pa)``; the same happens to CB without a
query and to PA without ``persona_probs``. Items nobody interacted with simply get CF = 0 and
are flagged in :attr:`HybridScorer.cold_items` and :attr:`TopK.cold_items`.

    >>> from lumengate import persona
    >>> items = [
    ...     {"id": "py", "title": "Python errors", "tags": ["debug"],
    ...      "affinity": {"elro": 1.0}},
    ...     {"id": "cv", "title": "Cover letters", "tags": ["writing"],
    ...      "affinity": {"nana": 1.0}},
    ...     {"id": "sql", "title": "SQL debugging", "tags": ["debug"],
    ...      "affinity": {"elro": 0.8}},
    ... ]
    >>> interactions = [("ann", "py", 1.0), ("ann", "sql", 1.0), ("bob", "cv", 2.0)]
    >>> scorer = persona.HybridScorer(items, interactions)
    >>> top = scorer.top_k("ann", "python error", {"elro": 0.9, "nana": 0.1}, k=2)
    >>> list(top.item_ids), top.cold_start
    (['py', 'sql'], False)
    >>> new = scorer.top_k("someone-new", "cover letter", {"nana": 1.0}, k=1)
    >>> list(new.item_ids), new.cold_start, new.weights
    (['cv'], True, (0.0, 0.6666666666666666, 0.3333333333333333))
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from lumengate._native import core, whole
from lumengate._native import thread_argument as _threads
from lumengate._persona_keys import _check_query, _text_argument
from lumengate.errors import invalid

__all__ = ["HybridScorer", "Item", "TopK"]

# The built-in persona ids: the default order of affinity columns and probability arrays.
BUILT_IN_PERSONAS: tuple[str, ...] = ("lua", "elro", "riri", "nana")

_native = core.persona
_MAX_LISTED = 5


@dataclass(frozen=True)
class Item:
    """A catalog item: its text feeds CB, its per-persona affinity (in [0, 1]) feeds PA."""

    id: str
    title: str
    tags: tuple[str, ...] = ()
    description: str = ""
    affinity: Mapping[str, float] = field(default_factory=dict)
    lang: str = "en"
    kind: str = ""

    @property
    def text(self) -> str:
        """Title, tags and description joined by spaces: what the query is compared with."""
        return " ".join(part for part in (self.title, *self.tags, self.description) if part)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Item:
        """An item from a mapping with ``id``, ``title`` and optional other fields."""
        if "id" not in data or "title" not in data:
            raise invalid("items", f"each item needs 'id' and 'title', got keys {sorted(data)}")
        tags = data.get("tags", ())
        if isinstance(tags, str):
            tags = (tags,)
        return cls(
            id=data["id"],
            title=str(data["title"]),
            tags=tuple(str(t) for t in tags),
            description=str(data.get("description", "")),
            affinity=dict(data.get("affinity", {})),
            lang=str(data.get("lang", "en")),
            kind=str(data.get("kind", "")),
        )


@dataclass(frozen=True)
class TopK:
    """The k best items of one request, best first (equal scores keep catalog order).

    ``cf``, ``cb`` and ``pa`` are the parts before weighting; ``weights`` are the weights
    actually used (after redistribution); ``cold_items`` flags returned items that nobody has
    interacted with.
    """

    item_ids: npt.NDArray[Any]
    indices: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]
    cf: npt.NDArray[np.float32]
    cb: npt.NDArray[np.float32]
    pa: npt.NDArray[np.float32]
    cold_start: bool
    cold_items: npt.NDArray[np.bool_]
    weights: tuple[float, float, float]

    def __len__(self) -> int:
        return int(self.indices.size)


# The largest hashed text-feature space: its idf table alone is 8 bytes a feature.
_MAX_FEATURES = 1 << 24


def _weights(weights: Sequence[float]) -> tuple[float, float, float]:
    try:
        values = tuple(float(w) for w in weights)
    except (TypeError, ValueError):
        raise invalid(
            "weights", f"must be three numbers (w_cf, w_cb, w_pa), got {weights!r}"
        ) from None
    if len(values) != 3:
        raise invalid("weights", f"must be three numbers (w_cf, w_cb, w_pa), got {len(values)}")
    return values[0], values[1], values[2]


def _listed(values: Iterable[object]) -> str:
    shown = list(values)
    text = ", ".join(repr(v) for v in shown[:_MAX_LISTED])
    return text + (f" and {len(shown) - _MAX_LISTED} more" if len(shown) > _MAX_LISTED else "")


@dataclass
class _Interactions:
    user_index: dict[Any, int] | None  # None: user ids are the matrix's row numbers
    n_users: int
    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def _empty_interactions() -> _Interactions:
    empty = np.zeros(0, dtype=np.int64)
    return _Interactions({}, 0, empty, empty, np.zeros(0, dtype=np.float64))


def _from_triplets(
    user_ids: Sequence[Any], item_ids: Sequence[Any], values: Any, item_index: Mapping[Any, int]
) -> _Interactions:
    unknown = [i for i in dict.fromkeys(item_ids) if i not in item_index]
    if unknown:
        raise invalid("interactions", f"unknown item ids {_listed(unknown)} (not in the items)")
    user_index: dict[Any, int] = {}
    users = np.fromiter(
        (user_index.setdefault(u, len(user_index)) for u in user_ids),
        dtype=np.int64,
        count=len(user_ids),
    )
    items = np.fromiter((item_index[i] for i in item_ids), dtype=np.int64, count=len(item_ids))
    weights = np.ascontiguousarray(values, dtype=np.float64)
    return _Interactions(user_index, len(user_index), users, items, weights)


def _interactions(
    interactions: object, n_items: int, item_index: Callable[[], Mapping[Any, int]]
) -> _Interactions:
    """Triplets (user row, item column, weight) from scipy.sparse, a DataFrame or tuples.

    ``item_index`` is called only for inputs that name items by id, so a large catalog with
    sparse or no interactions never builds the id → position dictionary.
    """
    if interactions is None:
        return _empty_interactions()
    if hasattr(interactions, "tocoo") and hasattr(interactions, "shape"):
        coo = interactions.tocoo()
        if coo.shape[1] != n_items:
            raise invalid(
                "interactions",
                f"a sparse matrix must have one column per item ({n_items}), got {coo.shape[1]}",
            )
        # Explicitly stored zeros mean "no interaction" in a sparse matrix.
        stored = np.asarray(coo.data) != 0
        return _Interactions(
            None,
            int(coo.shape[0]),
            np.ascontiguousarray(coo.row[stored], dtype=np.int64),
            np.ascontiguousarray(coo.col[stored], dtype=np.int64),
            np.ascontiguousarray(coo.data[stored], dtype=np.float64),
        )
    index = item_index()
    frame: Any = interactions
    if hasattr(frame, "columns"):
        columns = list(frame.columns)
        if "user_id" not in columns or "item_id" not in columns:
            raise invalid(
                "interactions",
                f"a DataFrame needs columns user_id, item_id[, weight], got {columns}",
            )
        weight = frame["weight"].to_numpy() if "weight" in columns else np.ones(len(frame))
        return _from_triplets(frame["user_id"].tolist(), frame["item_id"].tolist(), weight, index)
    rows = list(interactions)  # type: ignore[call-overload]
    user_ids: list[Any] = []
    item_ids: list[Any] = []
    weights: list[float] = []
    for position, row in enumerate(rows):
        if not isinstance(row, (tuple, list)) or len(row) not in (2, 3):
            raise invalid(
                "interactions",
                f"rows must be (user_id, item_id[, weight]), got {row!r} at row {position}",
            )
        user_ids.append(row[0])
        item_ids.append(row[1])
        weights.append(float(row[2]) if len(row) == 3 else 1.0)
    return _from_triplets(user_ids, item_ids, weights, index)


class HybridScorer:
    """Scores catalog items for a user and a query; see the module documentation.

    ``items`` are :class:`Item` objects or mappings (``id``, ``title``, ``tags``,
    ``description``, ``affinity`` {persona: weight}); ``interactions`` are a scipy.sparse
    users × items matrix (columns in item order, user ids are row numbers), a DataFrame with
    ``user_id``, ``item_id`` and optional ``weight`` columns, or ``(user_id, item_id[,
    weight])`` tuples. ``neighbours`` is M, the length of each item's neighbour list.
    """

    def __init__(
        self,
        items: Sequence[Item | Mapping[str, Any]],
        interactions: object = None,
        weights: Sequence[float] = (0.4, 0.4, 0.2),
        *,
        neighbours: int = 50,
        personas: Sequence[str] = BUILT_IN_PERSONAS,
        n_features: int = 1 << 18,
        threads: int | None = None,
    ) -> None:
        catalog = tuple(i if isinstance(i, Item) else Item.from_mapping(i) for i in items)
        if not catalog:
            raise invalid("items", "must hold at least one item")
        for index, item in enumerate(catalog):
            _text_argument(item.text, f"items[{index}]")
        self._items: tuple[Item, ...] | None = catalog
        self._personas = self._persona_ids(personas)
        ids = [i.id for i in catalog]
        self._setup_ids(ids)
        self._affinity = self._affinity_matrix(catalog)
        self._texts: list[str] | None = [i.text for i in catalog]
        self._vectors: npt.NDArray[np.float32] | None = None
        if whole(n_features, "n_features", 1) > _MAX_FEATURES:
            raise invalid("n_features", f"must be at most {_MAX_FEATURES}, got {n_features}")
        self._n_features = int(n_features)
        self._weights = _weights(weights)
        self._neighbours = whole(neighbours, "neighbours", 1)
        self._threads = _threads(threads)
        self.fit(interactions)

    @classmethod
    def from_embeddings(
        cls,
        item_ids: Sequence[Any] | npt.ArrayLike,
        item_vectors: npt.ArrayLike,
        affinity: npt.ArrayLike | None = None,
        interactions: object = None,
        weights: Sequence[float] = (0.4, 0.4, 0.2),
        *,
        neighbours: int = 50,
        personas: Sequence[str] = BUILT_IN_PERSONAS,
        threads: int | None = None,
    ) -> HybridScorer:
        """A scorer whose CB part is the cosine of dense item vectors with a query vector.

        ``item_vectors`` is float32 ``[n_items, d]``, read in place when it already is float32
        and C-contiguous (otherwise converted once); ``affinity`` is ``[n_items,
        len(personas)]`` in [0, 1] or None (no PA part).

        The scorer also keeps an int8 copy of the vectors (``n_items × d`` bytes, a quarter of
        the float32 size): a request with only a query vector scans that copy, then computes
        the float32 cosine of the rows that can still be among the k best, so its result is
        the same as scoring every row. Do not modify ``item_vectors`` afterwards.
        """
        self = cls.__new__(cls)
        self._items = None
        self._personas = self._persona_ids(personas)
        ids = np.asarray(item_ids)
        if ids.ndim != 1:
            raise invalid("item_ids", f"must be one-dimensional, got {ids.ndim} dimensions")
        self._setup_ids(ids)
        vectors = np.asarray(item_vectors)
        if vectors.ndim != 2 or vectors.shape[0] != ids.size:
            raise invalid(
                "item_vectors",
                f"must have shape ({ids.size}, d) (one row per item id), got {vectors.shape}",
            )
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if affinity is None:
            self._affinity = None
        else:
            matrix = np.ascontiguousarray(affinity, dtype=np.float32)
            if matrix.shape != (ids.size, len(self._personas)):
                raise invalid(
                    "affinity",
                    f"must have shape ({ids.size}, {len(self._personas)}) (items × personas "
                    f"{list(self._personas)}), got {matrix.shape}",
                )
            self._affinity = matrix
        self._texts = None
        self._n_features = 0
        self._weights = _weights(weights)
        self._neighbours = whole(neighbours, "neighbours", 1)
        self._threads = _threads(threads)
        self.fit(interactions)
        return self

    @classmethod
    def sample(cls, weights: Sequence[float] = (0.4, 0.4, 0.2)) -> HybridScorer:
        """The embedded default: the bundled mentoring catalog and its synthetic interactions."""
        folder = resources.files("lumengate") / "data" / "catalog"
        items = json.loads((folder / "items.json").read_text(encoding="utf-8"))
        lines = (folder / "interactions.csv").read_text(encoding="utf-8").splitlines()
        rows = [(r["user_id"], r["item_id"], float(r["weight"])) for r in csv.DictReader(lines)]
        return cls(items, rows, weights)

    def fit(self, interactions: object) -> HybridScorer:
        """Rebuild the neighbour lists and histories from ``interactions``; returns self.

        The new native state replaces the old one in a single assignment, so concurrent
        ``top_k`` calls see either the old or the new model, never a mix.
        """
        parsed = _interactions(interactions, self._ids.size, self._index)
        args = (
            self._affinity,
            len(self._personas),
            self._weights,
            parsed.n_users,
            parsed.users,
            parsed.items,
            parsed.values,
            # More neighbours than items is every other item.
            min(self._neighbours, len(self._ids)),
        )
        if self._texts is not None:
            native = _native.HybridScorer.from_texts(
                self._texts, *args, n_features=self._n_features, threads=self._threads
            )
        else:
            native = _native.HybridScorer.from_vectors(self._vectors, *args, threads=self._threads)
        cold = np.asarray(native.has_interactions) == 0
        self._state = (native, parsed.user_index, parsed.n_users, cold)
        return self

    @property
    def item_ids(self) -> npt.NDArray[Any]:
        """The item ids in catalog order."""
        return self._ids

    @property
    def items(self) -> tuple[Item, ...] | None:
        """The catalog items (None for a scorer built from embeddings)."""
        return self._items

    @property
    def personas(self) -> tuple[str, ...]:
        """Persona ids in the order of affinity columns and probability arrays."""
        return self._personas

    @property
    def weights(self) -> tuple[float, float, float]:
        """The configured (w_cf, w_cb, w_pa)."""
        return self._weights

    @property
    def cold_items(self) -> npt.NDArray[np.bool_]:
        """Per item, True when no user interacted with it (its CF is always 0)."""
        cold: npt.NDArray[np.bool_] = self._state[3].copy()
        return cold

    def neighbours_of(self, item_id: Any) -> tuple[npt.NDArray[Any], npt.NDArray[np.float32]]:
        """The item's neighbour ids and cosine similarities, most similar first."""
        index = self._index().get(item_id)
        if index is None:
            raise invalid("item_id", f"unknown item id {item_id!r}")
        offsets, items, similarity = self._state[0].neighbour_lists()
        begin, end = int(offsets[index]), int(offsets[index + 1])
        return self._ids[items[begin:end]], similarity[begin:end]

    def top_k(
        self,
        user_id: Any,
        query: str | npt.ArrayLike | None = None,
        persona_probs: Mapping[str, float] | npt.ArrayLike | None = None,
        k: int = 10,
        *,
        exclude_seen: bool = False,
        threads: int | None = None,
    ) -> TopK:
        """The k best items for ``user_id`` (unknown users are cold start, not an error).

        ``query`` is text for a text scorer or a vector for an embeddings scorer;
        ``persona_probs`` maps persona id → probability (a router result's ``scores``) or is an
        array aligned to :attr:`personas`: each in [0, 1], summing to at most 1 (a partial
        distribution scales the PA part down; an empty mapping is no information, as None).
        ``exclude_seen`` drops the user's history items.
        """
        # More than the catalog holds is the whole catalog.
        k = min(whole(k, "k", 1), len(self._ids))
        native, user_index, n_users, cold = self._state
        text, vector = self._query(query)
        probs = self._probs(persona_probs)
        raw = native.top_k(
            self._user_row(user_id, user_index, n_users),
            text,
            vector,
            probs,
            k=k,
            exclude_seen=bool(exclude_seen),
            threads=_threads(threads),
        )
        return self._result(raw, cold)

    def top_k_many(
        self,
        user_ids: Sequence[Any],
        queries: Sequence[str | None] | npt.ArrayLike | None = None,
        persona_probs: Sequence[Mapping[str, float]] | npt.ArrayLike | None = None,
        k: int = 10,
        *,
        exclude_seen: bool = False,
        threads: int | None = None,
    ) -> list[TopK]:
        """:meth:`top_k` for many requests at once (one per worker, all cores by default)."""
        k = min(whole(k, "k", 1), len(self._ids))
        native, user_index, n_users, cold = self._state
        users = np.fromiter(
            (self._user_row(u, user_index, n_users) for u in user_ids),
            dtype=np.int64,
            count=len(user_ids),
        )
        texts: list[str | None] | None = None
        vectors: npt.NDArray[np.float32] | None = None
        if queries is not None:
            if self._texts is not None:
                texts = [self._query(q)[0] if q is not None else None for q in queries]  # type: ignore[union-attr]
            else:
                vectors = np.ascontiguousarray(queries, dtype=np.float32)
        probs: npt.NDArray[np.float64] | None = None
        if persona_probs is not None:
            if isinstance(persona_probs, np.ndarray):
                probs = np.ascontiguousarray(persona_probs, dtype=np.float64)
            else:
                rows = [self._probs(p) for p in persona_probs]  # type: ignore[union-attr]
                probs = np.array(rows, dtype=np.float64).reshape(len(rows), len(self._personas))
        raw = native.top_k_many(
            users,
            texts,
            vectors,
            probs,
            k=k,
            exclude_seen=bool(exclude_seen),
            threads=_threads(threads),
        )
        return [self._result(r, cold) for r in raw]

    def __repr__(self) -> str:
        kind = "text" if self._texts is not None else "embeddings"
        return (
            f"HybridScorer({self._ids.size} items, {kind}, users={self._state[2]}, "
            f"weights={self._weights}, neighbours={self._neighbours})"
        )

    # Helpers ---------------------------------------------------------------------------

    @staticmethod
    def _persona_ids(personas: Sequence[str]) -> tuple[str, ...]:
        ids = tuple(str(p) for p in personas)
        if not ids or len(set(ids)) != len(ids):
            raise invalid("personas", f"must be distinct persona ids, got {list(personas)}")
        return ids

    def _setup_ids(self, ids: Sequence[Any] | npt.NDArray[Any]) -> None:
        array = np.asarray(ids)
        if array.dtype.kind in "USO":
            # Python strings in results print and compare like the ids the caller passed.
            array = np.array(array.tolist(), dtype=object)
        if array.size == 0:
            raise invalid("item_ids", "must hold at least one item")
        self._ids = array
        self._item_index: dict[Any, int] | None = None
        if array.dtype == object:
            index = self._index()
            repeated = len(index) != array.size
        else:
            repeated = np.unique(array).size != array.size
        if repeated:
            counts: dict[Any, int] = {}
            for item in array.tolist():
                counts[item] = counts.get(item, 0) + 1
            repeats = [item for item, count in counts.items() if count > 1]
            raise invalid("item_ids", f"must be unique; repeated: {_listed(repeats)}")

    def _index(self) -> dict[Any, int]:
        if self._item_index is None:
            self._item_index = {item: i for i, item in enumerate(self._ids.tolist())}
        return self._item_index

    def _affinity_matrix(self, catalog: Sequence[Item]) -> npt.NDArray[np.float32] | None:
        if not any(i.affinity for i in catalog):
            return None
        column = {p: c for c, p in enumerate(self._personas)}
        matrix = np.zeros((len(catalog), len(self._personas)), dtype=np.float32)
        for row, item in enumerate(catalog):
            for persona, value in item.affinity.items():
                if persona not in column:
                    raise invalid(
                        "items",
                        f"item {item.id!r} has affinity for unknown persona {persona!r}; "
                        f"allowed: {list(self._personas)}",
                    )
                weight = float(value)
                if not 0.0 <= weight <= 1.0:
                    raise invalid(
                        "items",
                        f"item {item.id!r} affinity[{persona!r}] must be in [0, 1], got {value!r}",
                    )
                matrix[row, column[persona]] = weight
        return matrix

    def _query(self, query: object) -> tuple[str | None, npt.NDArray[np.float32] | None]:
        if query is None:
            return None, None
        if self._texts is not None:
            if not isinstance(query, str):
                raise invalid("query", f"must be text for this scorer, got {type(query).__name__}")
            # Refused exactly when route() refuses it (blank or invisible only); no query is None.
            return _check_query(_text_argument(query, "query")), None
        if isinstance(query, str):
            raise invalid(
                "query", "this scorer was built from embeddings; pass a float32 query vector"
            )
        return None, np.ascontiguousarray(query, dtype=np.float32)

    def _probs(self, persona_probs: object) -> npt.NDArray[np.float64] | None:
        if persona_probs is None:
            return None
        if isinstance(persona_probs, Mapping):
            if not persona_probs:  # no persona information, as None
                return None
            unknown = [p for p in persona_probs if p not in self._personas]
            if unknown:
                raise invalid(
                    "persona_probs",
                    f"unknown persona ids {_listed(unknown)}; allowed: {list(self._personas)}",
                )
            values = [float(persona_probs.get(p, 0.0)) for p in self._personas]
            probs = np.array(values, dtype=np.float64)
        else:
            probs = np.ascontiguousarray(persona_probs, dtype=np.float64)
        if probs.shape != (len(self._personas),):
            raise invalid(
                "persona_probs",
                f"must have one probability per persona {list(self._personas)}, "
                f"got shape {probs.shape}",
            )
        if not np.all(np.isfinite(probs)):
            raise invalid("persona_probs", "must be finite probabilities in [0, 1]")
        return probs

    @staticmethod
    def _user_row(user_id: Any, user_index: dict[Any, int] | None, n_users: int) -> int:
        if user_index is not None:
            return user_index.get(user_id, -1)
        if isinstance(user_id, (int, np.integer)) and not isinstance(user_id, bool):
            return int(user_id) if 0 <= user_id < n_users else -1
        return -1

    def _result(self, raw: tuple[Any, ...], cold_items: npt.NDArray[np.bool_]) -> TopK:
        indices, scores, cf, cb, pa, cold_start, weights = raw
        return TopK(
            item_ids=self._ids[indices],
            indices=indices,
            scores=scores,
            cf=cf,
            cb=cb,
            pa=pa,
            cold_start=bool(cold_start),
            cold_items=cold_items[indices],
            weights=(float(weights[0]), float(weights[1]), float(weights[2])),
        )
