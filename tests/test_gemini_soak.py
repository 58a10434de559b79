"""The Gemini client under a long mixed-fault load (marker ``soak``; ``make bench`` runs it).

10 000 requests (``LUMENGATE_SOAK_N``) at concurrency 64 against FakeGemini, a fixed share of
them scripted to fail: 429 with RetryInfo, 500/503, a reset inside the body, a close before
any byte, malformed JSON, a truncated event stream, an error event mid-stream, chunks or
bytes slower than the idle deadline, and callers that cancel. Every request is its own model
name, so its script answers only it, whatever the interleaving. The test proves that each
request ends in the outcome its script implies (the echo, possibly after retries, or the
right typed error), that the client's counters add up to what the server saw, and that
nothing is left behind: no thread, descriptor, task or scripted action, and a bounded RSS.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from lumengate import gemini
from lumengate.errors import (
    ClientError,
    GeminiError,
    IncompleteStream,
    RateLimited,
    ResponseParseError,
    ServerError,
    Timeout,
)
from lumengate.testing import FakeGemini, Fault, Reply
from lumengate.testing._script import Action

TOTAL = int(os.environ.get("LUMENGATE_SOAK_N", "10000"))
CONCURRENCY = 64
ROUNDS = 10
ATTEMPTS = 3
IDLE = 1.0
SLOW = 3 * IDLE
RETRY_DELAY = 0.02
RSS_GROWTH_LIMIT = 16 * 2**20

pytestmark = [pytest.mark.soak, pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class Case:
    """A kind of request: what the server is scripted to do and how the request must end.

    ``hits`` is how many requests the server receives for it; ``outcome`` is ``None`` for the
    echo, else the exact error class.
    """

    name: str
    weight: int
    stream: bool = False
    actions: tuple[tuple[Action, int], ...] = ()
    outcome: type[BaseException] | None = None
    hits: int = 1
    status: int | None = None
    cancel_after_first_chunk: bool = False
    cancel_after: float | None = None
    min_seconds: float = 0.0
    tags: frozenset[str] = field(default_factory=frozenset)


RATE_LIMIT = Fault.status(429, retry_delay=RETRY_DELAY)
CASES = (
    Case("ok", 40),
    Case("ok stream", 20, stream=True),
    Case("429 then ok", 5, actions=((RATE_LIMIT, 1),), hits=2, min_seconds=RETRY_DELAY),
    Case("500 then ok", 4, actions=((Fault.status(500), 1),), hits=2),
    Case("503 then ok stream", 3, stream=True, actions=((Fault.status(503), 1),), hits=2),
    Case("close then ok", 3, actions=((Fault.close(), 1),), hits=2),
    Case("reset then ok", 3, actions=((Fault.reset(after_bytes=40), 1),), hits=2),
    Case(
        "429 always",
        2,
        actions=((RATE_LIMIT, ATTEMPTS),),
        outcome=RateLimited,
        hits=ATTEMPTS,
        status=429,
        min_seconds=(ATTEMPTS - 1) * RETRY_DELAY,
    ),
    Case(
        "503 always",
        2,
        actions=((Fault.status(503), ATTEMPTS),),
        outcome=ServerError,
        hits=ATTEMPTS,
        status=503,
    ),
    Case("400", 2, actions=((Fault.status(400), 1),), outcome=ClientError, status=400),
    Case(
        "reset always",
        1,
        actions=((Fault.reset(after_bytes=40), ATTEMPTS),),
        outcome=GeminiError,
        hits=ATTEMPTS,
    ),
    Case("malformed json", 2, actions=((Fault.malformed_json(), 1),), outcome=ResponseParseError),
    Case(
        "truncated stream",
        2,
        stream=True,
        actions=((Fault.truncated_stream(["Hel"]), 1),),
        outcome=IncompleteStream,
    ),
    Case(
        "error event mid-stream",
        2,
        stream=True,
        actions=((Fault.stream_error(["Hel"], code=503), 1),),
        outcome=ServerError,
        status=503,
    ),
    Case(
        "stalled stream",
        1,
        stream=True,
        actions=((Reply.stream(["Hel", "lo", "!"], delay=SLOW), 1),),
        outcome=Timeout,
        tags=frozenset({"timeout"}),
    ),
    Case(
        "slow-loris body",
        1,
        actions=((Fault.slow_loris(interval=SLOW), ATTEMPTS),),
        outcome=Timeout,
        hits=ATTEMPTS,
        tags=frozenset({"timeout"}),
    ),
    Case(
        "cancelled while waiting",
        2,
        actions=((Reply.text("late", latency=SLOW), 1),),
        outcome=asyncio.CancelledError,
        cancel_after=0.05,
        tags=frozenset({"cancel"}),
    ),
    Case(
        "cancelled mid-stream",
        1,
        stream=True,
        actions=((Reply.stream(["Hel", "lo"], delay=SLOW), 1),),
        outcome=asyncio.CancelledError,
        cancel_after_first_chunk=True,
        tags=frozenset({"cancel"}),
    ),
)


def prompt(index: int) -> str:
    return f"soak request {index}: say it back"


def plan(total: int, seed: int = 20261129) -> list[Case]:
    """Which case each request is: a seeded shuffle of the weighted mix."""
    weights = sum(c.weight for c in CASES)
    cases = [c for c in CASES for _ in range(c.weight * total // weights)]
    cases += [CASES[0]] * (total - len(cases))
    random.Random(seed).shuffle(cases)
    return cases


@dataclass
class Ended:
    case: Case
    error: BaseException | None
    text: str | None
    seconds: float


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


async def one_request(client: gemini.Client, fake: FakeGemini, index: int, case: Case) -> Ended:
    model = f"soak-{index}"
    for action, times in case.actions:
        fake.script(action, model=model, times=times)
    started = time.monotonic()
    first_chunk = asyncio.Event()

    async def call() -> str:
        if not case.stream:
            return (await client.generate_content(model, prompt(index))).text
        parts: list[str] = []
        async for chunk in client.stream_generate_content(model, prompt(index)):
            parts.append(chunk.text)
            first_chunk.set()
        return "".join(parts)

    task = asyncio.ensure_future(call())
    if case.cancel_after is not None:
        # Cancel once the server holds the request (its scripted reply is taken then), so a
        # loaded machine that is slow to send it cannot leave the script unmet.
        deadline = time.monotonic() + 30
        while not task.done() and time.monotonic() < deadline:
            if any(r.model == model for r in fake.requests):
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(case.cancel_after)
        task.cancel()
    elif case.cancel_after_first_chunk:
        # A stream that fails before its first chunk ends here too, and is reported as is.
        chunk_seen = asyncio.ensure_future(first_chunk.wait())
        await asyncio.wait({task, chunk_seen}, return_when=asyncio.FIRST_COMPLETED)
        chunk_seen.cancel()
        task.cancel()
    try:
        text = await task
    except BaseException as error:  # the outcome under test, CancelledError included
        if not isinstance(error, (Exception, asyncio.CancelledError)):
            raise
        return Ended(case, error, None, time.monotonic() - started)
    return Ended(case, None, text, time.monotonic() - started)


def check(index: int, ended: Ended) -> str | None:
    """Why ``ended`` is not the outcome its case implies, or None when it is."""
    case = ended.case
    if case.outcome is None:
        if ended.error is not None:
            return f"{case.name}: expected the echo, got {ended.error!r}"
        if ended.text != "Echo: " + prompt(index):
            return f"{case.name}: expected the echo, got {ended.text!r}"
    elif type(ended.error) is not case.outcome:
        return f"{case.name}: expected {case.outcome.__name__}, got {ended.error!r}"
    elif case.status is not None and getattr(ended.error, "status", None) != case.status:
        return f"{case.name}: expected status {case.status}, got {ended.error!r}"
    if case.outcome is RateLimited and getattr(ended.error, "retry_delay", None) != RETRY_DELAY:
        return f"{case.name}: expected retry_delay {RETRY_DELAY}, got {ended.error!r}"
    if ended.seconds < case.min_seconds:
        return f"{case.name}: ended after {ended.seconds:.3f} s, before the server's retry delay"
    return None


def test_ten_thousand_requests_with_mixed_faults(fake: FakeGemini) -> None:
    cases = plan(TOTAL)
    per_round = -(-TOTAL // ROUNDS)
    gc.collect()
    threads, fds = set(threading.enumerate()), open_fds()
    failures: list[str] = []
    rss: list[int] = []
    counted: Counter[str] = Counter()

    async def soak() -> dict[str, int]:
        limit = asyncio.Semaphore(CONCURRENCY)
        client = gemini.Client(
            api_key="soak",
            base_url=fake.url,
            max_connections=CONCURRENCY,
            timeout=gemini.Timeouts(connect=10, first_byte=60, idle=IDLE, total=120),
            retry=gemini.RetryPolicy(
                max_attempts=ATTEMPTS, initial_delay_s=0.001, max_delay_s=0.01, budget_s=60
            ),
        )

        async def limited(index: int) -> None:
            async with limit:
                ended = await one_request(client, fake, index, cases[index])
            problem = check(index, ended)
            if problem is not None:
                failures.append(f"request {index}: {problem}")

        async with client:
            for start in range(0, TOTAL, per_round):
                await asyncio.gather(
                    *(limited(i) for i in range(start, min(start + per_round, TOTAL)))
                )
                assert fake.pending == 0, "every scripted fault was met by an attempt"
                counted.update(hits=len(fake.requests))
                fake.clear()
                gc.collect()
                rss.append(rss_bytes())
        stats = client.stats()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return stats

    stats = asyncio.run(soak())

    assert failures == [], f"{len(failures)} requests ended wrongly, e.g. {failures[:10]}"
    expected_hits = sum(c.hits for c in cases)
    assert counted["hits"] == expected_hits
    # Each attempt the client made reached the server once, or twice when a reused
    # connection died before any byte and the transport re-sent it on a fresh one.
    assert stats["attempts"] + stats["resent"] == expected_hits
    assert stats["retries"] == stats["attempts"] - TOTAL
    n_cancel = sum("cancel" in c.tags for c in cases)
    assert stats["cancelled"] >= n_cancel
    timeouts = sum(c.hits for c in cases if "timeout" in c.tags)
    assert stats["timeouts"] == timeouts
    assert stats["connections_open"] == 0

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gc.collect()
        if set(threading.enumerate()) <= threads and open_fds() <= fds:
            break
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads == set()
    assert open_fds() <= fds
    growth = rss[-1] - rss[0]
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew {growth / 2**20:.1f} MiB over the soak"
