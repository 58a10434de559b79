"""The Gemini client over HTTP against FakeGemini (groups "gemini-unary", "gemini-stream").

Each round sends a batch of concurrent requests through lumengate's client and, in the same
group, through google-genai's async client; both must get back exactly the echo FakeGemini
answers with. ``benchmarks/compare_gemini.py`` is the full comparison (CPU per request,
overhead percentiles, TLS, RSS growth) with the server in its own process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from google import genai
from google.genai import types
from pytest_benchmark.fixture import BenchmarkFixture

from lumengate import gemini
from lumengate.testing import FakeGemini

MODEL = "gemini-2.5-flash"
BATCH = 32
CONNECTIONS = 32


def prompt(index: int) -> str:
    return f"request {index}: the quick brown fox jumps over the lazy dog at dawn"


def echo(index: int) -> str:
    """What FakeGemini answers when no reply is scripted: the last user turn, echoed."""
    return "Echo: " + prompt(index)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def run_batches(
    benchmark: BenchmarkFixture,
    loop: asyncio.AbstractEventLoop,
    one: Callable[[int], Awaitable[str]],
) -> list[str]:
    async def batch() -> list[str]:
        return list(await asyncio.gather(*(one(i) for i in range(BATCH))))

    texts: list[str] = benchmark(lambda: loop.run_until_complete(batch()))
    return texts


@pytest.fixture
def ours(fake_gemini: FakeGemini, loop: asyncio.AbstractEventLoop) -> Iterator[gemini.Client]:
    client = gemini.Client(
        api_key="bench",
        base_url=fake_gemini.url,
        max_connections=CONNECTIONS,
        retry=gemini.RetryPolicy(max_attempts=1),
    )
    loop.run_until_complete(client.__aenter__())
    yield client
    loop.run_until_complete(client.__aexit__(None, None, None))


@pytest.fixture
def peer(fake_gemini: FakeGemini, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    import aiohttp

    async def make() -> tuple[genai.Client, aiohttp.ClientSession]:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS))
        options = types.HttpOptions(
            base_url=fake_gemini.url,
            retry_options=types.HttpRetryOptions(attempts=1),
            aiohttp_client=session,
        )
        return genai.Client(api_key="bench", http_options=options), session

    client, session = loop.run_until_complete(make())
    yield client.aio
    loop.run_until_complete(client.aio.aclose())
    loop.run_until_complete(session.close())


@pytest.mark.benchmark(group="gemini-unary")
def test_unary_ours(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, ours: gemini.Client
) -> None:
    async def one(index: int) -> str:
        response = await ours.generate_content(MODEL, prompt(index))
        return response.text

    assert run_batches(benchmark, loop, one) == [echo(i) for i in range(BATCH)]


@pytest.mark.benchmark(group="gemini-unary")
def test_unary_google_genai(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, peer: Any
) -> None:
    async def one(index: int) -> str:
        response = await peer.models.generate_content(model=MODEL, contents=prompt(index))
        return str(response.text)

    assert run_batches(benchmark, loop, one) == [echo(i) for i in range(BATCH)]


@pytest.mark.benchmark(group="gemini-stream")
def test_stream_ours(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, ours: gemini.Client
) -> None:
    async def one(index: int) -> str:
        chunks = [c.text async for c in ours.stream_generate_content(MODEL, prompt(index))]
        assert len(chunks) > 1, "FakeGemini streams the echo in several chunks"
        return "".join(chunks)

    assert run_batches(benchmark, loop, one) == [echo(i) for i in range(BATCH)]


@pytest.mark.benchmark(group="gemini-stream")
def test_stream_google_genai(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, peer: Any
) -> None:
    async def one(index: int) -> str:
        stream = await peer.models.generate_content_stream(model=MODEL, contents=prompt(index))
        chunks = [c.text or "" async for c in stream]
        assert len(chunks) > 1, "FakeGemini streams the echo in several chunks"
        return "".join(chunks)

    assert run_batches(benchmark, loop, one) == [echo(i) for i in range(BATCH)]
