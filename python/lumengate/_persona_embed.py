"""Dense query embeddings from Gemini for the persona router (part of :mod:`lumengate.persona`).

:class:`GeminiEmbedder` turns texts into a float32 ``[n, d]`` array through
``models.batchEmbedContents`` on a :class:`lumengate.gemini.BlockingClient` (:meth:`embed`) or
a :class:`lumengate.gemini.Client` (``await`` :meth:`aembed`). Identical texts in one call are
sent once, and an LRU cache keyed by (model, dimensions, task type, text) answers texts seen
before without a request, so a service routing repeated queries pays for each text once; on an
asyncio client, tasks asking for a text already being fetched await that request.

Texts are NFC-normalised first, as the router normalises them, so a composed and a decomposed
spelling of the same Korean query cost one request and get one vector.

A batch holds at most 100 texts: the API rejects larger ones with "at most 100 requests can be
in one batch". gemini-embedding-001 returns 3072 values, normalised to unit length; asked for
fewer (``output_dimensionality``, Matryoshka truncation; 768 and 1536 are the recommended
sizes), its vectors are not unit length, and Google's embeddings guide tells callers to
normalise them. The embedder does that by default whenever ``dimensions`` is set.
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lumengate._gemini_client import BlockingClient, Client
from lumengate._native import whole
from lumengate.errors import InvalidArgument, ResponseParseError, invalid

__all__ = ["EmbedCacheInfo", "GeminiEmbedder"]

MAX_BATCH = 100
TASK_TYPES = (
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "RETRIEVAL_DOCUMENT",
    "RETRIEVAL_QUERY",
    "CODE_RETRIEVAL_QUERY",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
)

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbedCacheInfo:
    """Cache statistics: ``hits`` and ``misses`` count distinct texts looked up per call;
    ``requests`` counts batchEmbedContents calls sent."""

    hits: int
    misses: int
    maxsize: int
    currsize: int
    requests: int


class GeminiEmbedder:
    """Embeds texts with a Gemini embedding model, batched, de-duplicated and cached.

    ``client`` is a :class:`~lumengate.gemini.BlockingClient` (use :meth:`embed`) or a
    :class:`~lumengate.gemini.Client` (use ``await`` :meth:`aembed`). ``dimensions`` is sent as
    ``output_dimensionality`` and every returned vector must have it; ``task_type`` is one of
    the API's task types (``None`` sends none). ``batch_size`` texts at most go in one
    request (1..100). ``cache_size`` vectors are kept, least recently used dropped first
    (0 turns the cache off). ``normalize``: ``None`` scales vectors to unit length when
    ``dimensions`` is set (truncated vectors are not unit length), ``True`` always, ``False``
    never. Thread-safe; errors from Gemini propagate as the client raised them and a call
    that fails returns nothing.
    """

    def __init__(
        self,
        client: Client | BlockingClient,
        model: str = "gemini-embedding-001",
        *,
        dimensions: int | None = None,
        task_type: str | None = "CLASSIFICATION",
        batch_size: int = MAX_BATCH,
        cache_size: int = 10_000,
        normalize: bool | None = None,
    ) -> None:
        if not isinstance(client, (Client, BlockingClient)):
            raise TypeError(
                f"client: must be a gemini.Client or gemini.BlockingClient, "
                f"got {type(client).__name__}"
            )
        if not isinstance(model, str) or not model.strip():
            raise invalid("model", f"must be a non-empty model name, got {model!r}")
        if dimensions is not None:
            dimensions = whole(dimensions, "dimensions", 1)
        if task_type is not None:
            if not isinstance(task_type, str) or task_type.upper() not in TASK_TYPES:
                raise invalid(
                    "task_type", f"{task_type!r} is not supported; allowed: {list(TASK_TYPES)}"
                )
            task_type = task_type.upper()
        if normalize is not None and not isinstance(normalize, bool):
            raise invalid("normalize", f"must be None, True or False, got {normalize!r}")
        self._client = client
        self._model = model
        self._dimensions = dimensions
        self._task_type = task_type
        self._batch_size = whole(batch_size, "batch_size", 1, MAX_BATCH)
        self._cache_size = whole(cache_size, "cache_size", 0)
        self._normalize = dimensions is not None if normalize is None else normalize
        self._cache: OrderedDict[tuple[str, int | None, str | None, str], Vector] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._requests = 0
        self._width: int | None = dimensions
        # Only an asyncio client's embedder uses it, on that client's one event loop.
        self._in_flight: dict[tuple[str, int | None, str | None, str], asyncio.Future[Any]] = {}

    def __repr__(self) -> str:
        kind = "Client" if isinstance(self._client, Client) else "BlockingClient"
        return (
            f"GeminiEmbedder({kind}, model={self._model!r}, dimensions={self._dimensions!r}, "
            f"task_type={self._task_type!r}, batch_size={self._batch_size}, "
            f"cache_size={self._cache_size})"
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int | None:
        """The requested size, or the size of the vectors returned so far, or ``None`` before
        the first vector when no size was requested."""
        return self._width

    @property
    def task_type(self) -> str | None:
        return self._task_type

    @property
    def is_async(self) -> bool:
        """True when the client is a :class:`~lumengate.gemini.Client` (use :meth:`aembed`)."""
        return isinstance(self._client, Client)

    def cache_info(self) -> EmbedCacheInfo:
        with self._lock:
            return EmbedCacheInfo(
                self._hits, self._misses, self._cache_size, len(self._cache), self._requests
            )

    def cache_clear(self) -> None:
        """Drop every cached vector and reset the statistics."""
        with self._lock:
            self._cache.clear()
            self._hits = self._misses = self._requests = 0

    # Embedding ---------------------------------------------------------------------------

    def embed(self, texts: Sequence[str | bytes]) -> Vector:
        """float32 ``[len(texts), d]``, row i for ``texts[i]`` (``str`` or UTF-8 ``bytes``),
        on a blocking client."""
        client = self._client
        if not isinstance(client, BlockingClient):
            raise TypeError(
                "embed() needs a gemini.BlockingClient; this embedder wraps an asyncio "
                "gemini.Client: use `await embedder.aembed(texts)`"
            )
        unique, where, missing = self._plan(texts)
        found = self._lookup(unique, missing)
        for start in range(0, len(missing), self._batch_size):
            chunk = missing[start : start + self._batch_size]
            self._count_request()
            reply = client.batch_embed_contents(self._model, chunk, self._config())
            found.update(self._store(chunk, reply.embeddings))
        return self._assemble(unique, where, found)

    async def aembed(self, texts: Sequence[str | bytes]) -> Vector:
        """As :meth:`embed`, awaiting an asyncio :class:`~lumengate.gemini.Client`."""
        client = self._client
        if not isinstance(client, Client):
            raise TypeError(
                "aembed() needs an asyncio gemini.Client; this embedder wraps a "
                "gemini.BlockingClient: use embedder.embed(texts)"
            )
        unique, where, missing = self._plan(texts)
        found = self._lookup(unique, missing)
        # Texts another task is already fetching are awaited, not sent again: a burst of
        # identical queries costs one request.
        shared = {
            t: self._in_flight[self._key(t)] for t in missing if self._key(t) in self._in_flight
        }
        own = [t for t in missing if t not in shared]
        found.update(await self._fetch_async(client, own))
        retry = []
        for text, future in shared.items():
            vector = await asyncio.shield(future)
            if vector is None:  # the fetching task was cancelled: fetch it here
                retry.append(text)
            else:
                found[text] = vector
        found.update(await self._fetch_async(client, retry))
        return self._assemble(unique, where, found)

    async def _fetch_async(self, client: Client, texts: list[str]) -> dict[str, Vector]:
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[Vector | None]] = {}
        for text in texts:
            futures[text] = self._in_flight[self._key(text)] = loop.create_future()
        found: dict[str, Vector] = {}
        try:
            for start in range(0, len(texts), self._batch_size):
                chunk = texts[start : start + self._batch_size]
                self._count_request()
                reply = await client.batch_embed_contents(self._model, chunk, self._config())
                for text, vector in self._store(chunk, reply.embeddings).items():
                    found[text] = vector
                    futures[text].set_result(vector)
        except Exception as error:
            for future in futures.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # waiters re-raise it; none may be waiting
            raise
        finally:
            for text, future in futures.items():
                if not future.done():
                    future.set_result(None)
                if self._in_flight.get(self._key(text)) is future:
                    del self._in_flight[self._key(text)]
        return found

    # Internals ---------------------------------------------------------------------------

    def _count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self._task_type is not None:
            config["task_type"] = self._task_type
        if self._dimensions is not None:
            config["output_dimensionality"] = self._dimensions
        return config

    def _key(self, text: str) -> tuple[str, int | None, str | None, str]:
        return (self._model, self._dimensions, self._task_type, text)

    def _plan(self, texts: Sequence[str | bytes]) -> tuple[list[str], list[int], list[str]]:
        """The distinct texts in first-seen order, each input's index into them, and (filled
        by :meth:`_lookup`) the ones to fetch."""
        if isinstance(texts, (str, bytes)):
            raise invalid("texts", "must be a sequence of texts, got a single string")
        try:
            items = list(texts)
        except TypeError:
            raise invalid(
                "texts", f"must be a sequence of str, got {type(texts).__name__}"
            ) from None
        index: dict[str, int] = {}
        where: list[int] = []
        for i, item in enumerate(items):
            if isinstance(item, bytes):
                try:
                    item = item.decode("utf-8")
                except UnicodeDecodeError:
                    raise invalid(f"texts[{i}]", "is not valid UTF-8") from None
            if not isinstance(item, str):
                raise invalid(f"texts[{i}]", f"must be str, got {type(item).__name__}")
            if not item.strip():
                raise invalid(f"texts[{i}]", "must not be empty or only whitespace")
            # As the router reads it: composed and decomposed Hangul are one text, one vector.
            item = unicodedata.normalize("NFC", item)
            where.append(index.setdefault(item, len(index)))
        return list(index), where, []

    def _lookup(self, unique: list[str], missing: list[str]) -> dict[str, Vector]:
        found: dict[str, Vector] = {}
        with self._lock:
            for text in unique:
                vector = self._cache.get(self._key(text)) if self._cache_size else None
                if vector is None:
                    missing.append(text)
                    self._misses += 1
                else:
                    self._cache.move_to_end(self._key(text))
                    found[text] = vector
                    self._hits += 1
        return found

    def _store(self, chunk: list[str], embeddings: Sequence[Sequence[float]]) -> dict[str, Vector]:
        """Checks one reply (count, size, finiteness), normalises it and caches it."""
        if len(embeddings) != len(chunk):
            raise ResponseParseError(
                f"batchEmbedContents: sent {len(chunk)} texts, got {len(embeddings)} embeddings",
                field="embeddings",
            )
        widths = {len(v) for v in embeddings}
        with self._lock:
            expected = self._width
        if widths == {0}:
            raise ResponseParseError(
                "embeddings: the reply's vectors are empty", field="embeddings"
            )
        if len(widths) != 1 or (expected is not None and widths != {expected}):
            field = "output_dimensionality" if self._dimensions is not None else "dimensions"
            wanted = expected if expected is not None else "one size for every vector"
            raise ResponseParseError(
                f"{field}: expected {wanted} values per embedding, the reply has {sorted(widths)}",
                field=field,
            )
        array = np.asarray(embeddings, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
            raise ResponseParseError(
                f"embeddings[{row}]: has a value that is not finite", field=f"embeddings[{row}]"
            )
        if self._normalize:
            # Scaled by the largest value first, so neither 1e200 nor 1e-200 loses the norm.
            peaks = np.max(np.abs(array), axis=1, keepdims=True)
            if np.any(peaks == 0):
                row = int(np.flatnonzero(peaks[:, 0] == 0)[0])
                raise ResponseParseError(
                    f"embeddings[{row}]: is all zeros and cannot be normalised",
                    field=f"embeddings[{row}]",
                )
            array = array / peaks
            array = array / np.linalg.norm(array, axis=1, keepdims=True)
        if np.any(np.abs(array) > np.finfo(np.float32).max):
            raise ResponseParseError("embeddings: a value overflows float32", field="embeddings")
        vectors = array.astype(np.float32)
        out: dict[str, Vector] = {}
        for i, text in enumerate(chunk):
            # A row of its own: a cached vector must not keep its whole reply alive.
            row = vectors[i].copy()
            row.setflags(write=False)
            out[text] = row
        with self._lock:
            if self._width is None:
                self._width = vectors.shape[1]
            if self._cache_size:
                for text, vector in out.items():
                    self._cache[self._key(text)] = vector
                    self._cache.move_to_end(self._key(text))
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def _assemble(self, unique: list[str], where: list[int], found: dict[str, Vector]) -> Vector:
        width = self._width if self._width is not None else 0
        if not where:
            return np.empty((0, width), dtype=np.float32)
        rows = np.empty((len(unique), len(found[unique[0]])), dtype=np.float32)
        for i, text in enumerate(unique):
            rows[i] = found[text]
        if len(where) == len(unique):  # no duplicates: ``where`` is 0, 1, 2, ...
            return rows
        return rows[np.asarray(where, dtype=np.intp)]


def _check_dim(embedder: GeminiEmbedder, expected: int | None, given: int | None) -> None:
    if expected is None:
        return
    if expected == 0:
        raise invalid(
            "embedder",
            "was given but the router was fitted without embeddings; pass embedder=None",
        )
    if given is not None and given != expected:
        raise invalid(
            "embedder",
            f"gives {given}-dimensional vectors ({embedder.model}) but the router was fitted "
            f"with {expected}-dimensional embeddings",
        )


def _check_pair(embeddings: object, embedder: object, single: bool) -> None:
    name = "embedding" if single else "embeddings"
    if embedder is not None and embeddings is not None:
        raise InvalidArgument(
            f"{name}, embedder: give {name}= or embedder=, not both", field="embedder"
        )
    if embedder is not None and not isinstance(embedder, GeminiEmbedder):
        raise TypeError(
            f"embedder: must be a persona.GeminiEmbedder, got {type(embedder).__name__}"
        )


def fetch(
    embedder: GeminiEmbedder | None,
    embeddings: Any,
    texts: Sequence[Any],
    expected: int | None,
    *,
    single: bool = False,
    check: Callable[[], object] | None = None,
) -> Any:
    """``embeddings`` as given, or the embedder's vectors for ``texts`` (blocking), checked
    against the router's embedding size ``expected`` (``None``: no check, as for fit).
    ``check`` runs before a request is sent: the caller's own argument checks, so whatever
    it would refuse costs no request."""
    _check_pair(embeddings, embedder, single)
    if embedder is None:
        return embeddings
    if embedder.is_async:
        raise TypeError(
            "embedder: wraps an asyncio gemini.Client, which this blocking call cannot await: "
            "use `await router.aroute(...)` / `await router.aroute_many(...)`, or pass "
            "embeddings=await embedder.aembed(texts)"
        )
    if check is not None:
        check()
    _check_dim(embedder, expected, embedder.dimensions)
    vectors = embedder.embed(texts)
    if len(vectors) == 0:
        return np.empty((0, expected or vectors.shape[1]), dtype=np.float32)
    _check_dim(embedder, expected, vectors.shape[1])
    return vectors


async def afetch(
    embedder: GeminiEmbedder | None,
    embeddings: Any,
    texts: Sequence[Any],
    expected: int | None,
    *,
    single: bool = False,
    check: Callable[[], object] | None = None,
) -> Any:
    """As :func:`fetch`, awaiting an asyncio client."""
    _check_pair(embeddings, embedder, single)
    if embedder is None:
        return embeddings
    if not embedder.is_async:
        raise TypeError(
            "embedder: wraps a gemini.BlockingClient; await an embedder on an asyncio "
            "gemini.Client here, or call router.route(..., embedder=) / route_many instead"
        )
    if check is not None:
        check()
    _check_dim(embedder, expected, embedder.dimensions)
    vectors = await embedder.aembed(texts)
    if len(vectors) == 0:
        return np.empty((0, expected or vectors.shape[1]), dtype=np.float32)
    _check_dim(embedder, expected, vectors.shape[1])
    return vectors
