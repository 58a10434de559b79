"""persona.GeminiEmbedder against FakeGemini: batching at the API's limit in order, de-duplication
and the LRU cache, size and finiteness checks, Gemini errors as the client's typed errors, and a
router routing with ``embedder=`` exactly as with the same vectors passed by hand."""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pytest

from lumengate import gemini, persona
from lumengate.errors import (
    CircuitOpen,
    InvalidArgument,
    RateLimited,
    ResponseParseError,
    ServerError,
)
from lumengate.testing import FakeGemini, Fault, RecordedRequest, Reply

KEY = "embed-test-key"
MODEL = "gemini-embedding-001"
DIMS = 16
T = TypeVar("T")

FAST = gemini.Timeouts(connect=2, first_byte=2, idle=2, total=10)
NO_RETRY = gemini.RetryPolicy(max_attempts=1)


# Every test leaves the thread set and the open file descriptor count as it found them.
pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def run(main: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run(main()), then proves no task was left pending on the loop."""

    async def checked() -> T:
        result = await main()
        current = asyncio.current_task()
        assert [t for t in asyncio.all_tasks() if t is not current and not t.done()] == []
        return result

    return asyncio.run(checked())


def _blocking(fake: FakeGemini, **kwargs: Any) -> gemini.BlockingClient:
    kwargs.setdefault("timeout", FAST)
    kwargs.setdefault("retry", NO_RETRY)
    return gemini.BlockingClient(api_key=KEY, base_url=fake.url, **kwargs)


def _async(fake: FakeGemini, **kwargs: Any) -> gemini.Client:
    kwargs.setdefault("timeout", FAST)
    kwargs.setdefault("retry", NO_RETRY)
    return gemini.Client(api_key=KEY, base_url=fake.url, **kwargs)


def _sent(fake: FakeGemini) -> list[list[str]]:
    """The texts of every batchEmbedContents request the fake received, request by request."""
    batches = []
    for record in fake.requests:
        assert record.endpoint == "batchEmbedContents"
        batches.append([_text(r) for r in record.json["requests"]])
    return batches


def _text(request: dict[str, Any]) -> str:
    return "".join(part["text"] for part in request["content"]["parts"])


def _server_vectors(fake: FakeGemini) -> dict[str, list[float]]:
    """Each text the fake embedded and the vector it sent back for it, by replaying the recorded
    requests against the fake itself through plain HTTP (what the server answers, not ours)."""
    import httpx

    out: dict[str, list[float]] = {}
    for record in fake.requests:
        headers = {"x-goog-api-key": KEY, "content-type": "application/json"}
        reply = httpx.post(fake.url + record.path, content=record.body, headers=headers).json()
        for request, vector in zip(record.json["requests"], reply["embeddings"], strict=True):
            out[_text(request)] = vector["values"]
    return out


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float64)


def _batch_reply(vectors: list[list[float]]) -> Reply:
    return Reply.json({"embeddings": [{"values": v} for v in vectors]})


# ------------------------------------------------------------------ batching, order, cache


def test_batches_split_at_the_limit_and_keep_order(fake: FakeGemini) -> None:
    texts = [f"query number {i}" for i in range(250)]
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=DIMS)
        vectors = embedder.embed(texts)
    sent = _sent(fake)
    assert [len(b) for b in sent] == [100, 100, 50]
    assert [t for batch in sent for t in batch] == texts
    first = fake.requests[0].json["requests"][0]
    assert first["taskType"] == "CLASSIFICATION"
    assert first["outputDimensionality"] == DIMS
    assert first["model"] == f"models/{MODEL}"
    reference = _server_vectors(fake)
    assert vectors.dtype == np.float32 and vectors.shape == (250, DIMS)
    expected = np.array([reference[t] for t in texts])
    np.testing.assert_allclose(vectors, _unit(expected), rtol=1e-6, atol=1e-7)
    assert vectors.flags.c_contiguous


def test_smaller_batch_size_is_honoured(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        persona.GeminiEmbedder(client, MODEL, dimensions=DIMS, batch_size=7).embed(
            [f"t{i}" for i in range(20)]
        )
    assert [len(b) for b in _sent(fake)] == [7, 7, 6]


def test_batch_size_above_the_api_limit_is_refused(fake: FakeGemini) -> None:
    with _blocking(fake) as client, pytest.raises(InvalidArgument) as caught:
        persona.GeminiEmbedder(client, batch_size=101)
    assert caught.value.field == "batch_size" and "in [1, 100]" in str(caught.value)


def test_identical_texts_are_sent_once_and_cached(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=DIMS)
        first = embedder.embed(["alpha", "beta", "alpha"])
        assert _sent(fake) == [["alpha", "beta"]]
        np.testing.assert_array_equal(first[0], first[2])
        kept = first.copy()
        first[:] = 0  # the caller's array is its own, not the cache's
        again = embedder.embed(["beta", "alpha"])
        assert len(fake.requests) == 1  # no second request
        np.testing.assert_array_equal(again, kept[[1, 0]])
        embedder.embed(["gamma", "alpha"])
        assert _sent(fake)[1:] == [["gamma"]]
        info = embedder.cache_info()
    assert (info.hits, info.misses, info.currsize, info.requests) == (3, 3, 3, 2)


def test_cache_is_least_recently_used_and_keyed_by_settings(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        small = persona.GeminiEmbedder(client, MODEL, dimensions=DIMS, cache_size=2)
        small.embed(["a", "b"])
        small.embed(["a"])  # a is now the most recent
        small.embed(["c"])  # evicts b
        small.embed(["a"])
        assert _sent(fake) == [["a", "b"], ["c"]]
        small.embed(["b"])
        assert _sent(fake)[-1] == ["b"]
        assert small.cache_info().currsize == 2
        off = persona.GeminiEmbedder(client, MODEL, dimensions=DIMS, cache_size=0)
        off.embed(["a"])
        off.embed(["a"])
        assert _sent(fake)[-2:] == [["a"], ["a"]]
    with pytest.raises(InvalidArgument, match="cache_size"):
        persona.GeminiEmbedder(client, cache_size=-1)


def test_concurrent_embeds_share_the_cache_safely(fake: FakeGemini) -> None:
    texts = [f"shared {i % 30}" for i in range(120)]
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=DIMS, cache_size=25)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda k: embedder.embed(texts[k::4]), range(4)))
        info = embedder.cache_info()
    reference = _server_vectors(fake)
    for k, got in enumerate(results):
        expected = _unit(np.array([reference[t] for t in texts[k::4]]))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert info.currsize <= 25 and info.hits + info.misses == sum(
        len(set(texts[k::4])) for k in range(4)
    )


# ---------------------------------------------------------- sizes, normalisation, finiteness


def test_truncated_vectors_are_normalised_and_full_ones_kept(fake: FakeGemini) -> None:
    raw = [[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    with _blocking(fake) as client:
        fake.script(_batch_reply(raw))
        unit = persona.GeminiEmbedder(client, MODEL, dimensions=4).embed(["x", "y"])
        fake.script(_batch_reply(raw))
        kept = persona.GeminiEmbedder(client, MODEL, dimensions=4, normalize=False).embed(
            ["x", "y"]
        )
        full = persona.GeminiEmbedder(client, MODEL).embed(["native size"])
    np.testing.assert_allclose(unit, _unit(np.array(raw)), rtol=1e-7)
    np.testing.assert_array_equal(kept, np.array(raw, dtype=np.float32))
    assert "outputDimensionality" not in fake.last_request.json["requests"][0]
    assert full.shape == (1, 3072)  # gemini-embedding-001's native size, as the fake serves it
    assert np.linalg.norm(full[0]) == pytest.approx(1.0, abs=1e-6)


def test_a_reply_of_the_wrong_size_is_a_typed_error(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=8)
        fake.script(_batch_reply([[0.1] * 5]))
        with pytest.raises(ResponseParseError) as caught:
            embedder.embed(["short"])
        assert getattr(caught.value, "field", None) == "output_dimensionality"
        assert "8" in str(caught.value) and "[5]" in str(caught.value)
        fake.script(_batch_reply([[0.1] * 8]))
        with pytest.raises(ResponseParseError, match="sent 2 texts, got 1"):
            embedder.embed(["one", "two"])
        assert embedder.cache_info().currsize == 0


def test_vectors_must_stay_finite(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=2, normalize=False)
        fake.script(_batch_reply([[1e300, 0.0]]))  # beyond float32
        with pytest.raises(ResponseParseError, match="float32"):
            embedder.embed(["huge"])
        fake.script(_batch_reply([[0.0, 0.0]]))
        with pytest.raises(ResponseParseError, match="all zeros"):
            persona.GeminiEmbedder(client, MODEL, dimensions=2).embed(["zero"])


def test_extreme_but_finite_vectors_normalise_to_unit_length(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL, dimensions=2)
        fake.script(_batch_reply([[1e200, 1e200], [1e-200, -1e-200]]))
        vectors = embedder.embed(["huge", "tiny"])
    np.testing.assert_allclose(vectors, _unit(np.array([[1.0, 1.0], [1.0, -1.0]])), rtol=1e-7)


def test_a_reply_of_empty_vectors_or_unrepresentable_numbers_is_a_typed_error(
    fake: FakeGemini,
) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, MODEL)
        fake.script(_batch_reply([[], []]))
        with pytest.raises(ResponseParseError, match="empty"):
            embedder.embed(["a", "b"])
        assert embedder.dimensions is None
        fake.script(_batch_reply([[10**400, 0]]))
        with pytest.raises(ResponseParseError, match="too large"):
            embedder.embed(["c"])


def test_a_cached_vector_does_not_keep_its_whole_reply_alive(fake: FakeGemini) -> None:
    texts = [f"text {i}" for i in range(50)]
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS, cache_size=1)
        first = embedder.embed(texts)
        again = embedder.embed(texts[-1:])
    assert embedder.cache_info().currsize == 1
    np.testing.assert_array_equal(again[0], first[-1])
    # The one cached row owns its 4·DIMS bytes; a view would pin the 50-row reply.
    cached = next(iter(embedder._cache.values()))
    assert cached.base is None and cached.nbytes == 4 * DIMS
    assert not cached.flags.writeable


def test_requests_are_counted_when_sent_even_if_they_fail(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        fake.script(Fault.status(500), endpoint="batchEmbedContents")
        with pytest.raises(ServerError):
            embedder.embed(["fails"])
        fake.script(_batch_reply([[0.1] * DIMS]))
        with pytest.raises(ResponseParseError):
            embedder.embed(["one", "two"])
        assert embedder.cache_info().requests == len(fake.requests) == 2


# ---------------------------------------------------------------------------- bad input


def test_bad_arguments_name_the_field(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"dimensions": 0}, "dimensions"),
            ({"dimensions": 1.5}, "dimensions"),
            ({"task_type": "SORTING"}, "task_type"),
            ({"batch_size": 0}, "batch_size"),
            ({"normalize": "yes"}, "normalize"),
        ]
        for kwargs, field in cases:
            with pytest.raises(InvalidArgument) as caught:
                persona.GeminiEmbedder(client, **kwargs)
            assert caught.value.field == field
        with pytest.raises(InvalidArgument, match="CLASSIFICATION"):
            persona.GeminiEmbedder(client, task_type="sorting")
        assert persona.GeminiEmbedder(client, task_type="retrieval_query").task_type == (
            "RETRIEVAL_QUERY"
        )
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        for texts, field in [
            ("one string", "texts"),
            (["ok", "  "], "texts[1]"),
            ([3], "texts[0]"),
        ]:
            with pytest.raises(InvalidArgument) as caught:
                embedder.embed(texts)  # type: ignore[arg-type]
            assert caught.value.field == field
        assert embedder.embed([]).shape == (0, DIMS)
    assert fake.requests == ()
    with pytest.raises(TypeError, match="client"):
        persona.GeminiEmbedder("not a client")  # type: ignore[arg-type]


def test_the_wrong_call_for_the_client_kind_is_a_type_error(fake: FakeGemini) -> None:
    router = persona.Router.default()
    with _blocking(fake) as client:
        blocking = persona.GeminiEmbedder(client, dimensions=DIMS)
        with pytest.raises(TypeError, match=r"aembed\(\) needs an asyncio gemini.Client"):
            run(lambda: blocking.aembed(["x"]))
        with pytest.raises(TypeError, match=r"BlockingClient.*router.route"):
            run(lambda: router.aroute("x", embedder=blocking))

    async def main() -> None:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            assert embedder.is_async
            with pytest.raises(TypeError, match=r"embed\(\) needs a gemini.BlockingClient"):
                embedder.embed(["x"])
            for call in (
                lambda: router.route_many(["x"], embedder=embedder),
                lambda: router.route("x", embedder=embedder),
                lambda: persona.Router().fit(["x"], ["lua"], embedder=embedder),
            ):
                with pytest.raises(TypeError, match="aroute_many"):
                    call()

    run(main)
    assert fake.requests == ()


# ------------------------------------------------------------------------- Gemini errors


@pytest.mark.parametrize(
    ("code", "error"), [(500, ServerError), (429, RateLimited)], ids=["500", "429"]
)
def test_gemini_errors_surface_as_the_clients_errors(
    fake: FakeGemini, code: int, error: type[Exception]
) -> None:
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        fake.script(Fault.status(code), endpoint="batchEmbedContents")
        with pytest.raises(error) as caught:
            embedder.embed(["fails"])
        assert caught.value.status == code  # type: ignore[attr-defined]

    async def main() -> None:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            fake.script(Fault.status(code), endpoint="batchEmbedContents")
            with pytest.raises(error):
                await embedder.aembed(["fails"])

    run(main)


def test_the_clients_retries_apply_and_a_failed_batch_returns_nothing(fake: FakeGemini) -> None:
    retry = gemini.RetryPolicy(max_attempts=2, initial_delay_s=0.01, max_delay_s=0.02)
    texts = [f"t{i}" for i in range(150)]
    with _blocking(fake, retry=retry) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        fake.script(Fault.status(503), endpoint="batchEmbedContents")
        assert embedder.embed(texts[:3]).shape == (3, DIMS)  # the retry succeeded
        fake.clear()
        # The second batch fails on both attempts: the call raises rather than return 100 rows.
        fake.script(_batch_reply(_fake_rows(texts[3:103])))
        fake.script(Fault.status(500), Fault.status(500), endpoint="batchEmbedContents")
        with pytest.raises(ServerError):
            embedder.embed(texts)
        assert [len(b) for b in _sent(fake)] == [100, 47, 47]
        # The batch that succeeded is cached; the retry of the call sends only the rest.
        fake.clear()
        assert embedder.embed(texts).shape == (150, DIMS)
        assert _sent(fake) == [texts[103:]]


def _fake_rows(texts: list[str]) -> list[list[float]]:
    return [[float(b) for b in hashlib.sha256(t.encode()).digest()[:DIMS]] for t in texts]


def test_an_open_circuit_propagates(fake: FakeGemini) -> None:
    limits = gemini.Limits(breaker_failures=1, breaker_reset_s=60)
    with _blocking(fake, limits=limits) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        fake.script(Fault.status(500), endpoint="batchEmbedContents")
        with pytest.raises(ServerError):
            embedder.embed(["first"])
        with pytest.raises(CircuitOpen):
            embedder.embed(["second"])
    assert len(fake.requests) == 1


# ------------------------------------------------------------------------------- router

PERSONAS = ("lua", "elro", "riri", "nana")


def _labelled(n: int, offset: int = 0) -> tuple[list[str], list[str]]:
    """Queries with no persona keyword at all: only an embedding can tell their persona."""
    queries = [f"request {offset + i} please" for i in range(n)]
    # Labels drawn from a hash, so no n-gram of the text predicts them.
    labels = [PERSONAS[hashlib.sha256(q.encode()).digest()[0] % 4] for q in queries]
    return queries, labels


def _informative(texts: list[str], labels: list[str]) -> list[list[float]]:
    """A label direction plus hash noise, as an embedding model that understands the topic."""
    rows = []
    for text, label in zip(texts, labels, strict=True):
        noise = np.frombuffer(hashlib.sha256(text.encode()).digest()[:DIMS], dtype=np.uint8)
        row = (noise.astype(np.float64) / 255 - 0.5) * 0.2
        row[PERSONAS.index(label)] += 1.0
        rows.append(row.tolist())
    return rows


def _script_batches(fake: FakeGemini, texts: list[str], labels: list[str]) -> None:
    rows = _informative(texts, labels)
    for start in range(0, len(texts), 100):
        fake.script(_batch_reply(rows[start : start + 100]), endpoint="batchEmbedContents")


def test_a_router_learns_from_the_embedders_vectors(fake: FakeGemini) -> None:
    train, train_labels = _labelled(120)
    test, test_labels = _labelled(40, offset=1000)
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        _script_batches(fake, train, train_labels)
        router = persona.Router().fit(train, train_labels, embedder=embedder)
        assert router.embedding_dim == DIMS
        _script_batches(fake, test, test_labels)
        with_embeddings = router.evaluate(test, test_labels, embedder=embedder)
    plain = persona.Router().fit(train, train_labels).evaluate(test, test_labels)
    assert with_embeddings.accuracy == 1.0
    assert plain.accuracy < 0.5  # the text alone carries no persona


def test_embedder_routes_exactly_as_the_same_vectors_by_hand(fake: FakeGemini) -> None:
    train, labels = _labelled(80)
    held, held_labels = _labelled(20, offset=500)
    queries = [
        "request 3 please",
        "request 900 please",
        "I want to kill myself",
        "request 3 please",
    ]
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        by_embedder = persona.Router().fit(train, labels, seed=0, embedder=embedder)
        t_embedder = by_embedder.calibrate(held, held_labels, embedder=embedder)
        routed = [by_embedder.route(q, embedder=embedder) for q in queries]
        batch = by_embedder.route_many(queries, embedder=embedder)
        ev = by_embedder.evaluate(held, held_labels, embedder=embedder)
    vectors = _server_vectors(fake)

    def by_hand(texts: list[str]) -> npt.NDArray[np.float32]:
        return _unit(np.array([vectors[t] for t in texts])).astype(np.float32)

    manual = persona.Router().fit(train, labels, seed=0, embeddings=by_hand(train))
    assert manual.to_bytes() != persona.Router().fit(train, labels, seed=0).to_bytes()
    t_manual = manual.calibrate(held, held_labels, embeddings=by_hand(held))
    assert t_embedder == t_manual
    assert by_embedder.to_bytes() == manual.to_bytes()
    assert routed == [manual.route(q, embedding=by_hand([q])[0]) for q in queries]
    assert routed[2].crisis
    expected = manual.route_many(queries, embeddings=by_hand(queries))
    np.testing.assert_array_equal(batch.probabilities, expected.probabilities)
    np.testing.assert_array_equal(batch.persona, expected.persona)
    ev_manual = manual.evaluate(held, held_labels, embeddings=by_hand(held))
    assert (ev.accuracy, ev.ece, ev.brier) == (ev_manual.accuracy, ev_manual.ece, ev_manual.brier)


def test_async_and_blocking_paths_agree(fake: FakeGemini) -> None:
    train, labels = _labelled(60)
    queries = ["request 7 please", "request 70000 please", "파이썬 오류", "request 7 please"]
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        router = persona.Router().fit(train, labels, embedder=embedder)
        vectors = embedder.embed(queries)
        single = [router.route(q, embedder=embedder) for q in queries]
        batch = router.route_many(queries, embedder=embedder)

    async def main() -> tuple[Any, ...]:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            got = await embedder.aembed(queries)
            one = [await router.aroute(q, embedder=embedder) for q in queries]
            many = await router.aroute_many(queries, embedder=embedder)
            return got, one, many

    a_vectors, a_single, a_batch = run(main)
    np.testing.assert_array_equal(a_vectors, vectors)
    assert a_single == single
    np.testing.assert_array_equal(a_batch.probabilities, batch.probabilities)
    assert a_batch.persona_ids() == batch.persona_ids()


def test_embedding_size_must_match_the_router(fake: FakeGemini) -> None:
    train, labels = _labelled(40)
    with _blocking(fake) as client:
        fitted = persona.Router().fit(
            train, labels, embedder=persona.GeminiEmbedder(client, dimensions=DIMS)
        )
        fake.clear()
        other = persona.GeminiEmbedder(client, dimensions=8)
        with pytest.raises(InvalidArgument) as caught:
            fitted.route("request 1 please", embedder=other)
        assert caught.value.field == "embedder"
        assert "8-dimensional" in str(caught.value) and "16-dimensional" in str(caught.value)
        assert fake.requests == ()  # refused before paying for a request
        native = persona.GeminiEmbedder(client)  # size unknown until the reply: 3072
        with pytest.raises(InvalidArgument, match="3072-dimensional") as caught:
            fitted.route_many(["request 1 please"], embedder=native)
        assert caught.value.field == "embedder"
        with pytest.raises(InvalidArgument, match="fitted without embeddings") as caught:
            persona.Router.default().route("hi", embedder=other)
        assert caught.value.field == "embedder"


def test_embedding_and_embedder_together_is_an_error(fake: FakeGemini) -> None:
    train, labels = _labelled(8)
    vector = np.zeros(DIMS, dtype=np.float32)
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        router = persona.Router()
        calls: list[Callable[[], object]] = [
            lambda: router.fit(train, labels, embeddings=np.zeros((8, DIMS)), embedder=embedder),
            lambda: router.route("x", embedding=vector, embedder=embedder),
            lambda: router.route_many(["x"], embeddings=vector[None], embedder=embedder),
        ]
        for call in calls:
            with pytest.raises(InvalidArgument, match="not both") as caught:
                call()
            assert "embedder" in str(caught.value) and "embedding" in str(caught.value)
        with pytest.raises(TypeError, match="GeminiEmbedder"):
            router.route("x", embedder=object())  # type: ignore[arg-type]
    assert fake.requests == ()


def test_fake_records_are_what_the_embedder_sent(fake: FakeGemini) -> None:
    with _blocking(fake) as client:
        persona.GeminiEmbedder(client, "text-embedding-004", task_type=None).embed(["plain"])
    record: RecordedRequest = fake.last_request
    assert record.path == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert record.json == {
        "requests": [
            {
                "content": {"parts": [{"text": "plain"}], "role": "user"},
                "model": "models/text-embedding-004",
            }
        ]
    }


def test_concurrent_async_calls_share_one_request(fake: FakeGemini) -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            fake.script(Reply.json({"embeddings": [{"values": [1.0] * DIMS}]}, latency=0.2))
            got = await asyncio.gather(*(embedder.aembed(["burst"]) for _ in range(5)))
            fake.script(Fault.status(500, latency=0.2), endpoint="batchEmbedContents")
            failed = await asyncio.gather(
                *(embedder.aembed(["fails together"]) for _ in range(3)), return_exceptions=True
            )
            return list(got), list(failed)

    got, failed = run(main)
    assert _sent(fake) == [["burst"], ["fails together"]]
    for vectors in got:
        np.testing.assert_allclose(vectors, np.full((1, DIMS), DIMS**-0.5), rtol=1e-6)
    assert all(isinstance(error, ServerError) for error in failed)


def test_a_cancelled_fetch_lets_the_waiting_call_fetch_itself(fake: FakeGemini) -> None:
    async def main() -> Any:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            fake.script(Reply.json({"embeddings": [{"values": [1.0] * DIMS}]}, latency=1.0))
            first = asyncio.ensure_future(embedder.aembed(["slow"]))
            await asyncio.sleep(0.05)
            second = asyncio.ensure_future(embedder.aembed(["slow"]))
            await asyncio.sleep(0.05)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            return await second

    vectors = run(main)
    assert vectors.shape == (1, DIMS)
    assert _sent(fake) == [["slow"], ["slow"]]


def test_bytes_queries_are_embedded_as_their_text(fake: FakeGemini) -> None:
    train, labels = _labelled(20)
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        router = persona.Router().fit(train, labels, embedder=embedder)
        as_bytes = router.route("파이썬 오류".encode(), embedder=embedder)
        as_text = router.route("파이썬 오류", embedder=embedder)
        with pytest.raises(InvalidArgument) as caught:
            embedder.embed([b"\xff\xfe"])
    assert as_bytes == as_text
    assert caught.value.field == "texts[0]"
    assert _sent(fake)[-1] == ["파이썬 오류"]


def test_bad_router_arguments_fail_before_any_request(fake: FakeGemini) -> None:
    train, labels = _labelled(12)
    vectors = np.eye(12, DIMS, dtype=np.float32)
    router = persona.Router().fit(train, labels, embeddings=vectors)
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        with pytest.raises(InvalidArgument, match="threads"):
            router.route_many(["x"], embedder=embedder, threads=0)
        with pytest.raises(InvalidArgument, match="resonance_keys"):
            router.route_many(["x", "y"], ["calm"], embedder=embedder)
        with pytest.raises(InvalidArgument):
            router.route("x", resonance_key=42, embedder=embedder)
        # Everything the router itself would refuse, named as the router names it.
        for call, field in [
            (lambda: router.route("a" * 5000, embedder=embedder), "query"),
            (lambda: router.route("\u200b\u200b", embedder=embedder), "query"),
            (lambda: router.route(b"\xff", embedder=embedder), "query"),
            (lambda: router.route_many(["ok", " "], embedder=embedder), "queries[1]"),
            (lambda: router.route_many(["ok", 3], embedder=embedder), "queries[1]"),
            (lambda: persona.Router().route("x", embedder=embedder), "router"),
            (lambda: persona.Router.default().route("x", embedder=embedder), "embedder"),
            (
                lambda: persona.Router().fit(
                    train, labels, resonance_keys=[None], embedder=embedder
                ),
                "resonance_keys",
            ),
            (lambda: persona.Router().fit(train, labels, C=-1, embedder=embedder), "C"),
            (
                lambda: persona.Router().fit([*train[:-1], " "], labels, embedder=embedder),
                "queries[11]",
            ),
            (lambda: router.calibrate(["ok", ""], labels[:2], embedder=embedder), "queries[1]"),
        ]:
            with pytest.raises(InvalidArgument) as caught:
                call()
            assert caught.value.field == field, (field, str(caught.value))

    async def main() -> None:
        async with _async(fake) as client:
            embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
            with pytest.raises(InvalidArgument):
                await router.aroute("x", resonance_key=42, embedder=embedder)
            with pytest.raises(InvalidArgument, match="resonance_keys"):
                await router.aroute_many(["x", "y"], ["calm"], embedder=embedder)
            with pytest.raises(InvalidArgument, match="query: is 5000 bytes"):
                await router.aroute("a" * 5000, embedder=embedder)
            with pytest.raises(InvalidArgument, match=r"queries\[1\]: must not be empty"):
                await router.aroute_many(["ok", ""], embedder=embedder)
            with pytest.raises(InvalidArgument, match="threads"):
                await router.aroute_many(["ok"], embedder=embedder, threads=0)

    run(main)
    assert fake.requests == ()


def test_composed_and_decomposed_korean_are_one_text(fake: FakeGemini) -> None:
    composed = "요즘 너무 지쳐요"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    with _blocking(fake) as client:
        embedder = persona.GeminiEmbedder(client, dimensions=DIMS)
        vectors = embedder.embed([composed, decomposed])
        again = embedder.embed([decomposed])
    assert _sent(fake) == [[composed]]
    np.testing.assert_array_equal(vectors[0], vectors[1])
    np.testing.assert_array_equal(again[0], vectors[0])
