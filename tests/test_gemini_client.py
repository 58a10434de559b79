"""gemini.Client and gemini.BlockingClient against FakeGemini: answers equal google-genai's,
the wire equals google-genai's, every scripted fault becomes its typed error, and the
transport's pool, deadlines, cancellation, proxy tunnel and fork guard behave."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import ssl
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from google import genai
from google.genai import types

from lumengate import gemini
from lumengate._native import core
from lumengate.errors import (
    Cancelled,
    CircuitOpen,
    ClientError,
    GeminiError,
    IncompleteStream,
    InvalidArgument,
    LumengateError,
    RateLimited,
    ResponseParseError,
    ServerError,
    Timeout,
)
from lumengate.testing import FakeGemini, Fault, Reply

MODEL = "gemini-2.5-flash"
KEY = "client-test-key"
T = TypeVar("T")

# Millisecond-scale deadlines keep the fault tests fast; generous enough for a loaded machine.
FAST = gemini.Timeouts(connect=2, first_byte=2, idle=2, total=10)
# The fault tests look at one attempt; the retry tests pass their own policies.
NO_RETRY = gemini.RetryPolicy(max_attempts=1)


def _load_wire_cases() -> ModuleType:
    path = Path(__file__).with_name("gemini_wire_cases.py")
    spec = importlib.util.spec_from_file_location("gemini_wire_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gemini_wire_cases", module)
    spec.loader.exec_module(module)
    return module


wire_cases = _load_wire_cases()


# Every test leaves the thread set and the open file descriptor count as it found them.
pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture(params=["http", "tls"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeGemini]:
    with FakeGemini(tls=request.param == "tls") as server:
        yield server


def run(main: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run(main()), then proves no task was left pending on the loop."""

    async def checked() -> T:
        result = await main()
        current = asyncio.current_task()
        leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        assert leftover == []
        return result

    return asyncio.run(checked())


def _client(fake: FakeGemini, **kwargs: Any) -> gemini.Client:
    kwargs.setdefault("timeout", FAST)
    kwargs.setdefault("retry", NO_RETRY)
    ca = fake.ca_path if fake.tls else None
    return gemini.Client(api_key=KEY, base_url=fake.url, ca_file=ca, **kwargs)


def _blocking(fake: FakeGemini, **kwargs: Any) -> gemini.BlockingClient:
    kwargs.setdefault("timeout", FAST)
    kwargs.setdefault("retry", NO_RETRY)
    ca = fake.ca_path if fake.tls else None
    return gemini.BlockingClient(api_key=KEY, base_url=fake.url, ca_file=ca, **kwargs)


def _genai(fake: FakeGemini) -> genai.Client:
    """google-genai pointed at the same fake (TLS through the fake's CA)."""
    options: dict[str, Any] = {"base_url": fake.url}
    if fake.tls:
        # httpx 0.28 deprecates a CA path for verify=; an SSLContext is its supported form.
        options["client_args"] = {"verify": ssl.create_default_context(cafile=fake.ca_path)}
    return genai.Client(api_key=KEY, http_options=types.HttpOptions(**options))


# ------------------------------------------------------------------------ answers and wire


def test_generate_content_equals_google_genai(fake: FakeGemini) -> None:
    config = {"temperature": 0.2, "max_output_tokens": 64, "system_instruction": "be brief"}

    async def main() -> gemini.GenerateContentResponse:
        async with _client(fake) as client:
            return await client.generate_content(MODEL, "hello there", config=config)

    ours = run(main)
    with _genai(fake) as sdk:
        theirs = sdk.models.generate_content(model=MODEL, contents="hello there", config=config)
    assert ours.text == theirs.text
    assert ours.finish_reason == "STOP"
    assert theirs.usage_metadata is not None
    assert ours.usage.prompt_token_count == theirs.usage_metadata.prompt_token_count
    assert ours.usage.total_token_count == theirs.usage_metadata.total_token_count
    assert ours.model_version == theirs.model_version


def test_stream_generate_content_equals_google_genai(fake: FakeGemini) -> None:
    prompt = "stream these words one by one please"

    async def main() -> list[str]:
        async with _client(fake) as client:
            return [c.text async for c in client.stream_generate_content(MODEL, prompt)]

    ours = run(main)
    with _genai(fake) as sdk:
        theirs = [c.text for c in sdk.models.generate_content_stream(model=MODEL, contents=prompt)]
    assert len(ours) > 1
    assert ours == theirs


def test_every_endpoint_equals_google_genai(fake: FakeGemini) -> None:
    async def main() -> tuple[Any, ...]:
        async with _client(fake) as client:
            return (
                await client.count_tokens(MODEL, ["count", "these tokens"]),
                await client.embed_content("text-embedding-004", "embed me"),
                await client.batch_embed_contents("text-embedding-004", ["a b", "c d e"]),
                await client.list_models(page_size=2),
            )

    count, embedded, batch, models = run(main)
    with _genai(fake) as sdk:
        sdk_count = sdk.models.count_tokens(model=MODEL, contents=["count", "these tokens"])
        sdk_one = sdk.models.embed_content(model="text-embedding-004", contents="embed me")
        sdk_batch = sdk.models.embed_content(model="text-embedding-004", contents=["a b", "c d e"])
        sdk_models = list(sdk.models.list(config={"page_size": 2}))
    assert count.total_tokens == sdk_count.total_tokens
    assert sdk_one.embeddings is not None and sdk_batch.embeddings is not None
    assert list(embedded.values) == pytest.approx(sdk_one.embeddings[0].values)
    assert [list(v) for v in batch.embeddings] == [e.values for e in sdk_batch.embeddings]
    assert [m.name for m in models] == [m.name for m in sdk_models]
    assert len(models) > 2  # more than one page was followed


def _ours_on_wire(fake: FakeGemini, call: Callable[[gemini.BlockingClient], object]) -> Any:
    before = len(fake.requests)
    with gemini.BlockingClient(api_key=wire_cases.API_KEY, base_url=fake.url) as client:
        result = call(client)
        if hasattr(result, "__next__"):
            list(result)  # type: ignore[call-overload]
    (request,) = fake.requests[before:]
    return wire_cases.WireRequest(
        method=request.method,
        path=request.path,
        query=request.query,
        headers={n: request.headers[n] for n in wire_cases.WIRE_HEADERS if n in request.headers},
        json=request.json,
    )


CONFIG = {
    "temperature": 0.3,
    "top_p": 0.9,
    "max_output_tokens": 32,
    "stop_sequences": ["END"],
    "system_instruction": "be brief",
    "thinking_config": {"thinking_budget": 0},
}

WIRE_CALLS: list[tuple[str, Any, Any]] = [
    (
        "generate",
        lambda c: c.generate_content(MODEL, "hi", config=CONFIG),
        lambda s: s.models.generate_content(model=MODEL, contents="hi", config=CONFIG),
    ),
    (
        "stream",
        lambda c: c.stream_generate_content(MODEL, ["a", "b"], config=CONFIG),
        lambda s: s.models.generate_content_stream(model=MODEL, contents=["a", "b"], config=CONFIG),
    ),
    (
        "count",
        lambda c: c.count_tokens(MODEL, "count me"),
        lambda s: s.models.count_tokens(model=MODEL, contents="count me"),
    ),
    (
        "batch-embed",
        lambda c: c.batch_embed_contents("text-embedding-004", ["x", "y"]),
        lambda s: s.models.embed_content(model="text-embedding-004", contents=["x", "y"]),
    ),
    (
        "list-page",
        lambda c: c.list_models(page_size=1000),
        lambda s: s.models.list(config={"page_size": 1000}),
    ),
]


@pytest.mark.parametrize(
    ("ours", "theirs"), [c[1:] for c in WIRE_CALLS], ids=[c[0] for c in WIRE_CALLS]
)
def test_wire_equals_google_genai(fake_gemini: FakeGemini, ours: Any, theirs: Any) -> None:
    sent = _ours_on_wire(fake_gemini, ours)
    sdk = wire_cases.capture_genai(fake_gemini, theirs)
    assert sent == sdk


# ------------------------------------------------------------------------ faults


def _generate(fake: FakeGemini, **kwargs: Any) -> gemini.GenerateContentResponse:
    with _blocking(fake, **kwargs) as client:
        return client.generate_content(MODEL, "hello")


def _stream(fake: FakeGemini, seen: list[str], **kwargs: Any) -> None:
    async def main() -> None:
        async with _client(fake, **kwargs) as client:
            async for chunk in client.stream_generate_content(MODEL, "hello"):
                seen.append(chunk.text or "")

    run(main)


def test_rate_limited_carries_the_retry_delay(fake: FakeGemini) -> None:
    fake.script(Fault.status(429, retry_delay=1.5))
    with pytest.raises(RateLimited) as caught:
        _generate(fake)
    assert caught.value.status == 429
    assert caught.value.retry_delay == 1.5
    assert caught.value.retryable


@pytest.mark.parametrize("code", [500, 503])
def test_server_errors_are_typed(fake: FakeGemini, code: int) -> None:
    fake.script(Fault.status(code, "overloaded"))
    with pytest.raises(ServerError) as caught:
        _generate(fake)
    assert caught.value.status == code
    assert caught.value.message == "overloaded"


def test_client_error_names_the_server_message_never_the_key() -> None:
    with FakeGemini(api_key="the-only-key") as fake, pytest.raises(ClientError) as caught:
        _generate(fake)
    assert caught.value.status == 400
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)


def test_reset_mid_body_is_a_connection_error(fake: FakeGemini) -> None:
    fake.script(Fault.reset(after_bytes=10))
    with pytest.raises(GeminiError, match="broke off") as caught:
        _generate(fake)
    assert not isinstance(caught.value, Timeout)


def test_malformed_json_is_a_parse_error(fake: FakeGemini) -> None:
    fake.script(Fault.malformed_json())
    with pytest.raises(ResponseParseError):
        _generate(fake)


def test_truncated_stream_raises_after_the_complete_chunks(fake: FakeGemini) -> None:
    fake.script(Fault.truncated_stream(["Hel", "lo"]))
    seen: list[str] = []
    with pytest.raises(IncompleteStream):
        _stream(fake, seen)
    assert seen == ["Hel", "lo"]


def test_mid_stream_error_raises_the_typed_error(fake: FakeGemini) -> None:
    fake.script(Fault.stream_error(["Hel"], code=503))
    seen: list[str] = []
    with pytest.raises(ServerError) as caught:
        _stream(fake, seen)
    assert seen == ["Hel"]
    assert caught.value.status == 503


def test_slow_loris_hits_the_idle_deadline(fake: FakeGemini) -> None:
    fake.script(Fault.slow_loris(interval=0.5))
    timeout = gemini.Timeouts(connect=2, first_byte=2, idle=0.05, total=10)
    started = time.monotonic()
    with pytest.raises(Timeout, match=r"\(idle\)"):
        _generate(fake, timeout=timeout)
    assert time.monotonic() - started < 2


def test_stalled_stream_hits_the_idle_deadline(fake: FakeGemini) -> None:
    fake.script(Reply.stream(["a", "b", "c"], delay=1.0))
    timeout = gemini.Timeouts(connect=2, first_byte=2, idle=0.1, total=10)
    seen: list[str] = []
    with pytest.raises(Timeout, match=r"\(idle\)"):
        _stream(fake, seen, timeout=timeout)
    assert seen == ["a"]


def test_slow_first_byte_hits_its_deadline(fake: FakeGemini) -> None:
    fake.script(Reply.text("late", latency=1.0))
    timeout = gemini.Timeouts(connect=2, first_byte=0.05, idle=2, total=10)
    with pytest.raises(Timeout, match=r"\(first_byte\)"):
        _generate(fake, timeout=timeout)


def test_total_deadline_bounds_a_trickling_stream(fake: FakeGemini) -> None:
    fake.script(Reply.stream([f"w{i}" for i in range(50)], delay=0.03))
    timeout = gemini.Timeouts(connect=2, first_byte=2, idle=1, total=0.3)
    seen: list[str] = []
    with pytest.raises(Timeout, match=r"\(total\)"):
        _stream(fake, seen, timeout=timeout)
    assert 0 < len(seen) < 50


def test_wrong_host_certificate_fails_verification() -> None:
    with FakeGemini(tls=True, cert_hostname="wrong.example") as fake:
        with pytest.raises(GeminiError, match="certificate verification failed") as caught:
            _generate(fake)
    assert "mismatch" in str(caught.value)
    assert fake.requests == ()


def test_untrusted_certificate_fails_without_the_test_ca() -> None:
    with FakeGemini(tls=True) as fake:
        client = gemini.BlockingClient(api_key=KEY, base_url=fake.url, timeout=FAST)
        with client, pytest.raises(GeminiError, match="certificate verification failed"):
            client.generate_content(MODEL, "hello")


def test_connection_refused_is_a_clear_error() -> None:
    with FakeGemini() as fake:
        url = fake.url  # the port is free again once the server stops
    with gemini.BlockingClient(api_key=KEY, base_url=url, timeout=FAST, retry=NO_RETRY) as client:
        with pytest.raises(GeminiError, match=r"cannot connect to 127\.0\.0\.1") as caught:
            client.generate_content(MODEL, "hello")
    assert caught.value.status == 0


# ------------------------------------------------------------------------ the pool


def test_pool_maximum_is_respected_and_connections_are_reused(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("slow", latency=0.02), times=40)

    async def main() -> tuple[list[str], dict[str, int]]:
        async with _client(fake_gemini, max_connections=3) as client:
            replies = await asyncio.gather(
                *(client.generate_content(MODEL, f"q{i}") for i in range(40))
            )
            return [r.text or "" for r in replies], client.stats()

    texts, stats = run(main)
    assert texts == ["slow"] * 40
    assert fake_gemini.connections == 3
    assert stats["connections_opened"] == 3
    assert stats["connections_reused"] == 37
    assert stats["queued"] > 0


def test_waiting_requests_are_served_in_arrival_order(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("first", latency=0.1))

    async def main() -> None:
        async with _client(fake_gemini, max_connections=1) as client:
            await asyncio.gather(*(client.generate_content(MODEL, f"q{i}") for i in range(12)))

    run(main)
    order = [r.json["contents"][0]["parts"][0]["text"] for r in fake_gemini.requests]
    assert order == [f"q{i}" for i in range(12)]


def test_reused_connection_closed_before_any_byte_is_resent_once(
    fake_gemini: FakeGemini,
) -> None:
    with _blocking(fake_gemini, max_connections=1) as client:
        client.generate_content(MODEL, "warm up")  # leaves one idle connection
        fake_gemini.script(Fault.close())
        answer = client.generate_content(MODEL, "again")
        stats = client.stats()
    assert answer.text == "Echo: again"
    assert stats["resent"] == 1
    assert [r.connection for r in fake_gemini.requests] == [1, 1, 2]


def test_a_fresh_connection_is_never_resent(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.close())
    with _blocking(fake_gemini) as client:
        with pytest.raises(GeminiError, match="reading the response"):
            client.generate_content(MODEL, "hello")
        assert client.stats()["resent"] == 0
    assert len(fake_gemini.requests) == 1


def test_a_reused_connection_that_sent_bytes_is_never_resent(fake_gemini: FakeGemini) -> None:
    with _blocking(fake_gemini, max_connections=1) as client:
        client.generate_content(MODEL, "warm up")
        fake_gemini.script(Fault.reset(after_bytes=5))
        with pytest.raises(GeminiError):
            client.generate_content(MODEL, "again")
        assert client.stats()["resent"] == 0
    assert len(fake_gemini.requests) == 2


# ------------------------------------------------------------------------ cancellation, loops


def test_cancelling_the_task_cancels_the_request_and_frees_its_slot(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.script(Reply.text("never awaited", latency=3))

    async def main() -> tuple[str, float, dict[str, int]]:
        async with _client(fake_gemini, max_connections=1) as client:
            task = asyncio.ensure_future(client.generate_content(MODEL, "slow"))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            started = time.monotonic()
            reply = await client.generate_content(MODEL, "next")
            return reply.text or "", time.monotonic() - started, client.stats()

    text, elapsed, stats = run(main)
    assert text == "Echo: next"
    assert elapsed < 1.5  # the slot did not wait for the cancelled reply
    assert stats["cancelled"] == 1


def test_leaving_a_stream_early_cancels_it(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.stream([f"w{i}" for i in range(40)], delay=0.05))

    async def main() -> tuple[list[str], dict[str, int]]:
        async with _client(fake_gemini, max_connections=1) as client:
            seen = []
            stream = client.stream_generate_content(MODEL, "long")
            async for chunk in stream:
                seen.append(chunk.text or "")
                if len(seen) == 2:
                    break
            await stream.aclose()  # type: ignore[attr-defined]
            after = await client.generate_content(MODEL, "next")
            assert after.text == "Echo: next"
            return seen, client.stats()

    seen, stats = run(main)
    assert seen == ["w0", "w1"]
    assert stats["cancelled"] == 1


def test_a_client_belongs_to_its_first_loop(fake_gemini: FakeGemini) -> None:
    client = _client(fake_gemini)

    async def use() -> str:
        return (await client.generate_content(MODEL, "hi")).text or ""

    try:
        assert run(use) == "Echo: hi"
        with pytest.raises(RuntimeError, match="event loop it was first used on"):
            run(use)
    finally:
        client.close()


def test_closing_fails_running_requests_and_later_calls(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("late", latency=3))

    async def main() -> None:
        client = _client(fake_gemini)
        task = asyncio.ensure_future(client.generate_content(MODEL, "slow"))
        await asyncio.sleep(0.1)
        await client.aclose()
        with pytest.raises(Cancelled, match="closed"):
            await task
        with pytest.raises(Cancelled, match="closed"):
            await client.generate_content(MODEL, "after")
        await client.aclose()  # idempotent

    run(main)


def test_blocking_client_works_inside_a_running_loop(fake: FakeGemini) -> None:
    async def notebook_cell() -> tuple[str, list[str]]:
        with _blocking(fake) as client:
            text = client.generate_content(MODEL, "from a notebook").text or ""
            chunks = [c.text or "" for c in client.stream_generate_content(MODEL, "a b c")]
        return text, chunks

    text, chunks = run(notebook_cell)
    assert text == "Echo: from a notebook"
    assert "".join(chunks) == "Echo: a b c"


def test_blocking_client_from_many_threads(fake_gemini: FakeGemini) -> None:
    results: dict[int, str] = {}
    with _blocking(fake_gemini, max_connections=4) as client:

        def work(index: int) -> None:
            results[index] = client.generate_content(MODEL, f"thread {index}").text or ""

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {i: f"Echo: thread {i}" for i in range(16)}


def test_closing_a_blocking_client_wakes_every_waiting_thread(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("late", latency=3), times=6)
    outcomes: dict[int, BaseException | str] = {}
    client = _blocking(fake_gemini, max_connections=2)

    def work(index: int) -> None:
        try:
            outcomes[index] = client.generate_content(MODEL, f"thread {index}").text or ""
        except BaseException as error:  # each thread's outcome is what the test inspects
            outcomes[index] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # every thread is waiting: two on the server, four for a pool slot
    started = time.monotonic()
    client.close()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads)
    assert time.monotonic() - started < 2  # woken by close, not by the 3 s replies
    assert sorted(outcomes) == list(range(6))
    for outcome in outcomes.values():
        assert isinstance(outcome, Cancelled) and "closed" in str(outcome)
    with pytest.raises(Cancelled, match="closed"):
        client.generate_content(MODEL, "after")


def test_closing_the_transport_releases_a_thread_blocked_in_wait(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.script(Reply.text("late", latency=3))
    transport = core.gemini.Transport(max_connections=1)
    wire = gemini.build_generate_content(MODEL, "x", api_key=KEY)
    rid = transport.submit(
        "http", "127.0.0.1", fake_gemini.port, "POST", wire.target(), list(wire.headers),
        wire.body, False, 2.0, 5.0, 2.0, 10.0,
    )  # fmt: skip
    seen: list[Any] = []
    waiter = threading.Thread(target=lambda: seen.extend(transport.wait(-1)))
    waiter.start()
    time.sleep(0.2)
    transport.close()  # the waiter blocks with no time limit: close must wake it, then free
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    events = seen + transport.drain()
    assert [(e[0], e[1], e[5]) for e in events] == [(rid, "failed", "closed")]
    assert transport.wait(-1) == []  # a closed transport never blocks


def test_hundreds_of_concurrent_requests(fake: FakeGemini) -> None:
    async def main() -> tuple[list[str], dict[str, int]]:
        async with _client(fake, max_connections=16) as client:
            replies = await asyncio.gather(
                *(client.generate_content(MODEL, f"request {i}") for i in range(300))
            )
            return [r.text or "" for r in replies], client.stats()

    texts, stats = run(main)
    assert texts == [f"Echo: request {i}" for i in range(300)]
    assert stats["requests"] == stats["completed"] == 300
    assert stats["connections_opened"] <= 16


def test_a_slow_stream_consumer_pauses_reading(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.stream([f"w{i}" for i in range(30)], delay=0.01))
    transport = core.gemini.Transport(max_connections=1, stream_queue_chunks=2)
    wire = gemini.build_generate_content(MODEL, "x", stream=True, api_key=KEY)
    try:
        rid = transport.submit(
            "http", "127.0.0.1", fake_gemini.port, "POST", wire.target(), list(wire.headers),
            wire.body, True, 2.0, 2.0, 2.0, 10.0,
        )  # fmt: skip
        events: list[Any] = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            events += transport.wait(0.05)
        chunks = [e for e in events if e[1] == "chunk"]
        assert len(chunks) == 2  # reading stopped with two chunks not yet consumed
        assert not any(e[1] == "done" for e in events)
        data = b"".join(e[4] for e in chunks)
        while not any(e[1] in ("done", "failed") for e in events):
            transport.consumed(rid, 2)
            fresh = transport.wait(1.0)
            data += b"".join(e[4] for e in fresh if e[1] == "chunk")
            events += fresh
        assert events[-1][1] == "done"
        decoded = gemini.StreamDecoder().feed(data)
        assert [c.text for c in decoded] == [f"w{i}" for i in range(30)]
    finally:
        transport.close()


# ------------------------------------------------------------------------ proxy, fork, args


@contextlib.contextmanager
def connect_proxy() -> Iterator[tuple[int, list[str]]]:
    """A minimal HTTP CONNECT proxy on 127.0.0.1; yields its port and the targets asked for."""
    targets: list[str] = []
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n")[0].decode().split(" ")
        targets.append(f"{method} {target}")
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        state["server"] = server
        state["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait()
    try:
        yield state["port"], targets
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_https_proxy_tunnels_with_connect(
    fake_gemini_tls: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_proxy_env(monkeypatch)
    with connect_proxy() as (port, targets):
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        answer = _generate(fake_gemini_tls)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = _generate(fake_gemini_tls)
    assert answer.text == direct.text == "Echo: hello"
    assert targets == [f"CONNECT 127.0.0.1:{fake_gemini_tls.port}"]


def test_a_client_from_before_fork_fails_clearly_in_the_child(fake_gemini: FakeGemini) -> None:
    with _blocking(fake_gemini) as client:
        assert client.generate_content(MODEL, "parent").text == "Echo: parent"
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running
            pid = os.fork()
        if pid == 0:  # the child: report what using the parent's client did, then leave
            os.close(read_end)
            try:
                client.generate_content(MODEL, "child")
                outcome = "no error"
            except LumengateError as error:
                outcome = f"{type(error).__name__}: {error}"
            except BaseException as error:
                outcome = f"unexpected {type(error).__name__}: {error}"
            os.write(write_end, outcome.encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            outcome = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert "fork()" in outcome and outcome.startswith("LumengateError")
        # The parent's client is untouched by the child.
        assert client.generate_content(MODEL, "parent again").text == "Echo: parent again"
    assert [r.json["contents"][0]["parts"][0]["text"] for r in fake_gemini.requests] == [
        "parent",
        "parent again",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"base_url": "http://example.com"}, "base_url"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"timeout": 5}, "timeout"),
        ({"ca_file": "/nonexistent/ca.pem"}, "ca_file"),
        ({"retry": 3}, "retry"),
        ({"limits": {"rpm": 10}}, "limits"),
        ({"prices": {"gemini-2.5-flash": {"input": 1, "output": 2}}}, "prices"),
    ],
    ids=[
        "no-connections",
        "plain-http-remote",
        "ftp",
        "timeout-number",
        "missing-ca",
        "retry-number",
        "limits-dict",
        "prices-dict",
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    kwargs.setdefault("base_url", "https://example.com")
    with pytest.raises(InvalidArgument) as caught:
        gemini.Client(api_key=KEY, **kwargs)
    assert caught.value.field == field


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(InvalidArgument, match=r"timeout\.idle") as caught:
        gemini.Timeouts(idle=0)
    assert caught.value.field == "timeout.idle"


def test_plain_http_to_a_remote_host_needs_the_opt_in() -> None:
    with gemini.BlockingClient(
        api_key=KEY, base_url="http://example.com", allow_http=True
    ) as client:
        assert client.base_url == "http://example.com:80"


def test_the_key_never_shows_in_reprs(fake_gemini: FakeGemini) -> None:
    with _blocking(fake_gemini) as client:
        assert KEY not in repr(client)
        assert fake_gemini.url in repr(client)


# ------------------------------------------------------------------------ retries


def _quick_retry(**kwargs: Any) -> gemini.RetryPolicy:
    kwargs.setdefault("initial_delay_s", 0.01)
    kwargs.setdefault("max_delay_s", 0.05)
    return gemini.RetryPolicy(**kwargs)


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_until_an_answer(fake: FakeGemini, code: int) -> None:
    fake.script(Fault.status(code), times=2)
    with _blocking(fake, retry=_quick_retry()) as client:
        reply = client.generate_content(MODEL, "hello")
        stats = client.stats()
    assert reply.text
    hits = [r for r in fake.requests if r.endpoint == "generateContent"]
    assert len(hits) == 3
    # Every attempt sends the same bytes.
    assert len({r.body for r in hits}) == 1
    assert (stats["requests"], stats["retries"], stats["attempts"]) == (1, 2, 3)


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_caller_errors_are_never_retried(fake_gemini: FakeGemini, code: int) -> None:
    fake_gemini.script(Fault.status(code))
    with (
        _blocking(fake_gemini, retry=_quick_retry()) as client,
        pytest.raises(GeminiError) as caught,
    ):
        client.generate_content(MODEL, "hello")
    assert caught.value.status == code
    assert len(fake_gemini.requests) == 1


def test_attempts_are_capped_and_the_last_error_is_raised(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(503, "still down"), times=10)
    with _blocking(fake_gemini, retry=_quick_retry(max_attempts=3)) as client:
        with pytest.raises(ServerError, match="still down") as caught:
            client.generate_content(MODEL, "hello")
        assert client.stats()["retries"] == 2
    assert caught.value.status == 503
    assert len(fake_gemini.requests) == 3


def test_the_servers_retry_delay_is_a_lower_bound(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(429, retry_delay=0.3))
    with _blocking(fake_gemini, retry=_quick_retry()) as client:
        client.generate_content(MODEL, "hello")
    first, second = fake_gemini.requests
    assert second.arrived - first.arrived >= 0.3


def test_retry_after_header_is_a_lower_bound(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(503, retry_after=1))
    with _blocking(fake_gemini, retry=_quick_retry()) as client:
        client.generate_content(MODEL, "hello")
    first, second = fake_gemini.requests
    assert second.arrived - first.arrived >= 1.0


def test_a_delay_past_the_budget_gives_up_at_once(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(429, retry_delay=30))
    with _blocking(fake_gemini, retry=_quick_retry(budget_s=5)) as client:
        started = time.monotonic()
        with pytest.raises(RateLimited) as caught:
            client.generate_content(MODEL, "hello")
    assert time.monotonic() - started < 5
    assert caught.value.retry_delay == 30
    assert len(fake_gemini.requests) == 1


def test_connection_failures_are_retried(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.close(), Fault.reset(after_bytes=5))
    with _blocking(fake_gemini, retry=_quick_retry()) as client:
        assert client.generate_content(MODEL, "hello").text
    assert len(fake_gemini.requests) == 3


def test_connection_failures_are_not_retried_when_switched_off(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.close())
    policy = _quick_retry(retry_connection_errors=False)
    with _blocking(fake_gemini, retry=policy) as client, pytest.raises(GeminiError):
        client.generate_content(MODEL, "hello")
    assert len(fake_gemini.requests) == 1


def test_a_timed_out_attempt_is_retried_within_the_total_deadline(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.script(Reply.text("late", latency=1.0))
    timeout = gemini.Timeouts(connect=2, first_byte=0.2, idle=2, total=10)
    with _blocking(fake_gemini, retry=_quick_retry(), timeout=timeout) as client:
        assert client.generate_content(MODEL, "hello").text != "late"
    assert len(fake_gemini.requests) == 2


def test_the_total_deadline_bounds_every_retry(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.status(503), times=100)
    timeout = gemini.Timeouts(connect=2, first_byte=2, idle=2, total=0.5)
    policy = _quick_retry(max_attempts=100, initial_delay_s=0.05, max_delay_s=0.05)
    with _blocking(fake_gemini, retry=policy, timeout=timeout) as client:
        started = time.monotonic()
        # The last attempt's 503 when the next backoff would pass the deadline, or Timeout when
        # the deadline falls while an attempt is in flight (a slow, loaded machine).
        with pytest.raises((ServerError, Timeout)):
            client.generate_content(MODEL, "hello")
    assert time.monotonic() - started < 2
    assert 2 <= len(fake_gemini.requests) < 100


def test_certificate_failures_are_not_retried() -> None:
    with FakeGemini(tls=True) as fake:
        with gemini.BlockingClient(
            api_key=KEY, base_url=fake.url, timeout=FAST, retry=_quick_retry()
        ) as client:
            with pytest.raises(GeminiError, match="certificate verification failed"):
                client.generate_content(MODEL, "hello")
            stats = client.stats()
    assert stats["retries"] == 0 and stats["connections_opened"] == 1


def test_a_stream_is_retried_before_it_starts(fake: FakeGemini) -> None:
    fake.script(Fault.status(503), endpoint="streamGenerateContent")
    fake.script(Reply.stream(["Hel", "lo"]), endpoint="streamGenerateContent")
    seen: list[str] = []
    _stream(fake, seen, retry=_quick_retry())
    assert "".join(seen) == "Hello"
    assert len(fake.requests) == 2


def test_a_stream_that_delivered_a_chunk_is_never_retried(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Fault.stream_error(["Hel"], code=503))
    seen: list[str] = []
    with pytest.raises(ServerError):
        _stream(fake_gemini, seen, retry=_quick_retry())
    assert seen == ["Hel"]
    assert len(fake_gemini.requests) == 1


def test_cancelling_during_the_backoff_ends_the_request(fake_gemini: FakeGemini) -> None:
    # The server asks for 20 s, so the request is surely waiting when it is cancelled.
    fake_gemini.script(Fault.status(429, retry_delay=20))
    timeout = gemini.Timeouts(connect=2, first_byte=2, idle=2, total=60)

    async def main() -> dict[str, int]:
        async with _client(fake_gemini, retry=_quick_retry(), timeout=timeout) as client:
            task = asyncio.ensure_future(client.generate_content(MODEL, "hello"))
            while not fake_gemini.requests:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(100):
                if client.stats()["cancelled"]:
                    break
                await asyncio.sleep(0.01)
            return client.stats()

    stats = run(main)
    assert stats["cancelled"] == 1
    assert len(fake_gemini.requests) == 1


def test_jitter_differs_between_requests_and_stays_under_the_cap(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.script(Fault.status(503), times=8)
    policy = _quick_retry(initial_delay_s=0.2, max_delay_s=0.2)

    async def main() -> None:
        async with _client(fake_gemini, retry=policy) as client:
            await asyncio.gather(*(client.generate_content(MODEL, f"q{i}") for i in range(8)))

    run(main)
    first: dict[str, float] = {}
    gaps = []
    for request in fake_gemini.requests:
        text = request.json["contents"][0]["parts"][0]["text"]
        if text in first:
            gaps.append(request.arrived - first[text])
        else:
            first[text] = request.arrived
    assert len(gaps) == 8
    assert max(gaps) < 0.2 + 0.15
    assert len({round(g, 3) for g in gaps}) > 1


# ------------------------------------------------------------------------ limits and breaker


def test_max_concurrent_caps_requests_in_flight(fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("slow", latency=0.2), times=6)
    limits = gemini.Limits(max_concurrent=2, breaker_failures=0)

    async def main() -> dict[str, int]:
        async with _client(fake_gemini, limits=limits) as client:
            await asyncio.gather(*(client.generate_content(MODEL, "hi") for _ in range(6)))
            return client.limit_counters()

    counters = run(main)
    arrivals = sorted(r.arrived for r in fake_gemini.requests)
    # At most two at a time: the third arrives only after the first answer (0.2 s later).
    assert arrivals[2] - arrivals[0] >= 0.15
    assert arrivals[4] - arrivals[2] >= 0.15
    assert counters["limiter_admitted"] == 6
    assert counters["limiter_concurrency_waits"] >= 1


def test_rpm_makes_the_request_past_a_minutes_allowance_wait(fake_gemini: FakeGemini) -> None:
    limits = gemini.Limits(rpm=30, breaker_failures=0)
    with _blocking(fake_gemini, limits=limits) as client:
        began = time.monotonic()
        for _ in range(30):
            client.count_tokens(MODEL, "hi")
        started = time.monotonic()
        client.count_tokens(MODEL, "hi")
        waited = time.monotonic() - started
        counters = client.limit_counters()
    # The bucket holds 30 and refills at one request every 2 s; it started after `began`, so
    # the 31st waits at least 2 s less whatever refilled while the first 30 ran.
    assert waited >= 2.0 - (started - began) - 0.01
    assert counters["limiter_rate_waits"] >= 1
    assert len(fake_gemini.requests) == 31


def test_a_request_above_the_whole_tpm_is_refused(fake_gemini: FakeGemini) -> None:
    limits = gemini.Limits(tpm=10, breaker_failures=0)
    with _blocking(fake_gemini, limits=limits) as client:
        with pytest.raises(InvalidArgument, match="tpm"):
            client.generate_content(MODEL, "word " * 50)
    assert fake_gemini.requests == ()


def test_tpm_is_corrected_by_the_reported_usage(fake_gemini: FakeGemini) -> None:
    limits = gemini.Limits(tpm=100_000, breaker_failures=0)
    with _blocking(fake_gemini, limits=limits) as client:
        reply = client.generate_content(MODEL, "how are you today")
        counters = client.limit_counters()
    assert reply.usage is not None and reply.usage.prompt_token_count > 0
    assert counters["limiter_token_corrections"] == 1


def test_the_breaker_opens_after_consecutive_failures_and_probes(fake_gemini: FakeGemini) -> None:
    limits = gemini.Limits(breaker_failures=2, breaker_reset_s=0.3)
    fake_gemini.script(Fault.status(503), times=2)
    with _blocking(fake_gemini, limits=limits) as client:
        for _ in range(2):
            with pytest.raises(ServerError):
                client.generate_content(MODEL, "hello")
        with pytest.raises(CircuitOpen, match="2 consecutive failures"):
            client.generate_content(MODEL, "hello")
        assert len(fake_gemini.requests) == 2
        time.sleep(0.35)
        assert client.generate_content(MODEL, "hello").text  # the probe closes it
        assert client.generate_content(MODEL, "hello").text
        counters = client.limit_counters()
    assert counters["breaker_opens"] == 1
    assert counters["breaker_rejections"] == 1
    assert counters["breaker_closes"] == 1


def test_caller_errors_do_not_open_the_breaker(fake_gemini: FakeGemini) -> None:
    limits = gemini.Limits(breaker_failures=2, breaker_reset_s=30)
    fake_gemini.script(Fault.status(400), times=3)
    with _blocking(fake_gemini, limits=limits) as client:
        for _ in range(3):
            with pytest.raises(ClientError):
                client.generate_content(MODEL, "hello")
        assert client.generate_content(MODEL, "hello").text


# ------------------------------------------------------------------------ usage and cost


def test_usage_and_cost_add_up_per_model(fake: FakeGemini) -> None:
    prices = gemini.PriceTable.from_dict(
        {MODEL: {"input": 0.30, "output": 2.50}, "gemini-2.5-pro": {"input": 1.25, "output": 10}}
    )
    replies: list[gemini.GenerateContentResponse] = []

    async def main() -> dict[str, gemini.ModelUsage]:
        async with _client(fake, prices=prices) as client:
            replies.append(await client.generate_content(MODEL, "hello there"))
            replies.append(await client.generate_content("models/gemini-2.5-pro", "plan my week"))
            last = None
            async for chunk in client.stream_generate_content(MODEL, "tell me a story"):
                last = chunk
            assert last is not None
            replies.append(last)
            return client.usage()

    usage = run(main)
    assert set(usage) == {MODEL, "gemini-2.5-pro"}
    flash = [replies[0].usage, replies[2].usage]
    assert all(u is not None for u in flash)
    assert usage[MODEL].requests == 2
    assert usage[MODEL].prompt_tokens == sum(u.prompt_token_count for u in flash if u)
    assert usage[MODEL].total_tokens == sum(u.total_token_count for u in flash if u)
    expected = sum(prices.cost(u, MODEL) for u in flash if u)
    assert usage[MODEL].cost_usd == pytest.approx(expected, rel=1e-12)
    pro = replies[1].usage
    assert pro is not None
    assert usage["gemini-2.5-pro"].cost_usd == pytest.approx(prices.cost(pro, "gemini-2.5-pro"))


def test_usage_without_prices_has_no_cost_and_a_missing_price_is_named(
    fake_gemini: FakeGemini,
) -> None:
    with _blocking(fake_gemini) as client:
        client.generate_content(MODEL, "hello")
        assert client.usage()[MODEL].cost_usd is None
    prices = gemini.PriceTable.from_dict({"gemini-2.5-pro": {"input": 1, "output": 2}})
    with _blocking(fake_gemini, prices=prices) as client:
        client.generate_content(MODEL, "hello")
        with pytest.raises(InvalidArgument, match=r"gemini-2\.5-flash"):
            client.usage()
