"""The Gemini clients: :class:`Client` for asyncio and :class:`BlockingClient` for plain code.

Part of :mod:`lumengate.gemini`. Request bytes come from the ``build_*`` functions and replies
are parsed by the ``parse_*`` functions of the models module; what happens in between is the
native transport: an HTTP/1.1 keep-alive pool over TLS on one I/O thread, deadlines,
streaming with flow control and cancellation. Its results arrive in a lock-free queue; an
eventfd wakes the asyncio loop once for many of them and the loop thread resolves the futures.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import json
import logging
import math
import os
import threading
import time
import urllib.request
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from lumengate._gemini_models import (
    ApiKey,
    BatchEmbedContentsResponse,
    CountTokensResponse,
    EmbedContentResponse,
    GenerateContentResponse,
    Model,
    PriceTable,
    StreamDecoder,
    UsageMetadata,
    WireRequest,
    build_batch_embed_contents,
    build_count_tokens,
    build_embed_content,
    build_generate_content,
    build_list_models,
    error_from_response,
    parse_batch_embed_contents,
    parse_count_tokens,
    parse_embed_content,
    parse_generate_content,
    parse_list_models,
    resolve_api_key,
)
from lumengate._gemini_policy import Limits, RetryPolicy
from lumengate._native import core
from lumengate.errors import (
    Cancelled,
    CircuitOpen,
    GeminiError,
    IncompleteStream,
    InvalidArgument,
    RateLimited,
    ResponseParseError,
    ServerError,
    Timeout,
)
from lumengate.tokens import estimate_tokens

__all__ = ["DEFAULT_BASE_URL", "BlockingClient", "Client", "ModelUsage", "Timeouts"]

logger = logging.getLogger(__name__)

R = TypeVar("R")

# The transport stops reading a stream while 64 chunks wait undelivered (its default
# stream_queue_chunks). Taking chunks is reported in batches of 16: each report is a wake-up
# of the I/O thread, and with at most 15 unreported the window can never fill while the
# reader waits for more, so a stream cannot stall on a report it is holding back.
_CONSUMED_BATCH = 16

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
"""The Gemini Developer API, used when ``base_url`` is not given."""

# One native event: (id, kind, status, headers, data, failure, message, body_started).
_Event = tuple[int, str, int, list[tuple[str, str]], bytes, str, str, bool]

_TIMEOUT_NAMES = {
    "timeout_connect": "connect",
    "timeout_first_byte": "first_byte",
    "timeout_idle": "idle",
    "timeout_total": "total",
}


@dataclass(frozen=True)
class Timeouts:
    """Per-request deadlines in seconds.

    ``connect`` covers DNS, TCP, a proxy tunnel and the TLS handshake; ``first_byte`` runs
    from sending the request to the response head; ``idle`` is the longest gap between body
    reads (a stalled stream raises :class:`~lumengate.errors.Timeout`); ``total`` bounds the
    whole request, waiting for a pooled connection included.

    >>> Timeouts(total=5)
    Timeouts(connect=10.0, first_byte=60.0, idle=30.0, total=5.0)
    """

    connect: float = 10.0
    first_byte: float = 60.0
    idle: float = 30.0
    total: float = 600.0

    def __post_init__(self) -> None:
        for name in ("connect", "first_byte", "idle", "total"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidArgument(
                    f"timeout.{name}: expected a finite number of seconds > 0, got {value!r}",
                    field=f"timeout.{name}",
                )
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    prefix: str


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(base_url: str | None, allow_http: bool | None) -> _Endpoint:
    url = base_url or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise InvalidArgument(
            f"base_url: expected a str, got {type(url).__name__}", field="base_url"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            f"base_url: {url!r} is not an http:// or https:// URL with a host", field="base_url"
        )
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"base_url: {url!r} must not have a query or fragment", field="base_url"
        )
    host = parts.hostname
    if parts.scheme == "http" and not _is_loopback(host) and allow_http is not True:
        raise InvalidArgument(
            f"base_url: plain http:// to {host!r} would send the API key unencrypted; use "
            "https://, a loopback host, or pass allow_http=True",
            field="base_url",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidArgument(f"base_url: {url!r} has an invalid port", field="base_url") from None
    return _Endpoint(parts.scheme, host, port, parts.path.rstrip("/"))


def _proxy_for(endpoint: _Endpoint) -> tuple[str, int]:
    """``HTTPS_PROXY`` (``HTTP_PROXY`` for http://) unless ``NO_PROXY`` names the host."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(endpoint.scheme)
    if not proxy:
        return "", 0
    if urllib.request.proxy_bypass_environment(endpoint.host, proxies):  # type: ignore[attr-defined]
        return "", 0
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise InvalidArgument(
            f"{endpoint.scheme.upper()}_PROXY: only http:// proxies (CONNECT tunnels) are "
            f"supported, got {parts.scheme}://",
            field=f"{endpoint.scheme.upper()}_PROXY",
        )
    return parts.hostname, parts.port or 80


def _failure_error(failure: str, message: str, status: int, body_started: bool) -> GeminiError:
    if failure in _TIMEOUT_NAMES:
        return Timeout(
            f"Gemini request timed out ({_TIMEOUT_NAMES[failure]}): {message}",
            status=0,
            retryable=True,
        )
    if failure == "cancelled":
        return Cancelled(f"Gemini request cancelled: {message}")
    if failure == "closed":
        return Cancelled(f"Gemini request cancelled: {message}")
    if failure == "protocol":
        return ResponseParseError(f"Gemini reply is not HTTP/1.1: {message}", status=status)
    return GeminiError(f"Gemini {failure} error: {message}", status=status, retryable=True)


@dataclass
class _Counters:
    streams: int = 0


@dataclass(frozen=True)
class ModelUsage:
    """Tokens one client spent on one model, summed over replies that reported usage.

    ``cost_usd`` is ``None`` when the client has no price table.
    """

    requests: int
    prompt_tokens: int
    candidates_tokens: int
    thoughts_tokens: int
    total_tokens: int
    cost_usd: float | None


def _is_outage(error: BaseException) -> bool:
    """Whether a failure counts against the circuit breaker: the service, not the caller."""
    if isinstance(error, (RateLimited, ServerError, Timeout, ResponseParseError)):
        return True
    # Connection, TLS and protocol failures are raised as the base class.
    return type(error) is GeminiError


def _text_tokens(body: bytes) -> int:
    """Estimated input tokens of a request body: every ``text`` string it carries."""

    def walk(node: Any) -> int:
        if isinstance(node, dict):
            total = 0
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += estimate_tokens(value)
                else:
                    total += walk(value)
            return total
        if isinstance(node, list):
            return sum(walk(item) for item in node)
        return 0

    return walk(json.loads(body)) if body else 0


class _Session:
    """What both clients share: the native transport, the key, the endpoint and counters."""

    def __init__(
        self,
        api_key: ApiKey | str | None,
        base_url: str | None,
        timeout: Timeouts | None,
        retry: RetryPolicy | None,
        max_connections: int,
        ca_file: str | None,
        allow_http: bool | None,
        limits: Limits | None,
        prices: PriceTable | None,
    ) -> None:
        if retry is None:
            retry = RetryPolicy()
        if not isinstance(retry, RetryPolicy):
            raise InvalidArgument(
                f"retry: expected gemini.RetryPolicy (max_attempts=1 disables retries), got "
                f"{type(retry).__name__}",
                field="retry",
            )
        if limits is not None and not isinstance(limits, Limits):
            raise InvalidArgument(
                f"limits: expected gemini.Limits or None, got {type(limits).__name__}",
                field="limits",
            )
        if prices is not None and not isinstance(prices, PriceTable):
            raise InvalidArgument(
                f"prices: expected gemini.PriceTable or None, got {type(prices).__name__}",
                field="prices",
            )
        if timeout is None:
            timeout = Timeouts()
        if not isinstance(timeout, Timeouts):
            raise InvalidArgument(
                f"timeout: expected gemini.Timeouts, got {type(timeout).__name__}",
                field="timeout",
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise InvalidArgument(
                f"max_connections: expected an int >= 1, got {max_connections!r}",
                field="max_connections",
            )
        if max_connections < 1:
            raise InvalidArgument(
                f"max_connections: must be >= 1, got {max_connections}", field="max_connections"
            )
        if ca_file is not None and not isinstance(ca_file, str):
            raise InvalidArgument("ca_file: expected a path (str) or None", field="ca_file")
        self._key = resolve_api_key(api_key)
        self._endpoint = _endpoint(base_url, allow_http)
        self._timeout = timeout
        self._retry = retry
        self._limits = limits
        self._limiter = core.gemini.Limiter(limits) if limits is not None else None
        self._breaker = (
            core.gemini.CircuitBreaker(limits.breaker_failures, limits.breaker_reset_s)
            if limits is not None and limits.breaker_failures > 0
            else None
        )
        self._prices = prices
        self._usage: dict[str, list[int]] = {}
        self._usage_lock = threading.Lock()
        # Each request's jitter has its own seed; a random base keeps clients apart.
        self._seed = int.from_bytes(os.urandom(8), "little")
        proxy_host, proxy_port = _proxy_for(self._endpoint)
        self._transport = core.gemini.Transport(
            max_connections=max_connections,
            ca_file=ca_file or "",
            proxy_host=proxy_host,
            proxy_port=proxy_port,
        )
        # Interpreter exit closes a client its owner forgot: the I/O thread is joined, not
        # left running while Python tears down.
        self._finalizer = weakref.finalize(self, self._transport.close)
        self._counters = _Counters()

    def __repr__(self) -> str:
        state = "closed" if self._transport.closed else "open"
        return f"{type(self).__name__}(base_url='{self.base_url}', {state})"

    @property
    def base_url(self) -> str:
        """The URL requests go to (scheme, host, port and path prefix)."""
        e = self._endpoint
        return f"{e.scheme}://{e.host}:{e.port}{e.prefix}"

    def _submit(self, wire: WireRequest, *, stream: bool) -> int:
        e, t = self._endpoint, self._timeout
        return int(
            self._transport.submit(
                scheme=e.scheme,
                host=e.host,
                port=e.port,
                method=wire.method,
                target=e.prefix + wire.target(),
                headers=list(wire.headers),
                body=wire.body,
                stream=stream,
                connect=t.connect,
                first_byte=t.first_byte,
                idle=t.idle,
                total=t.total,
                retry=self._retry,
                retry_seed=self._next_seed(),
            )
        )

    def _next_seed(self) -> int:
        self._seed = (self._seed + 0x9E3779B97F4A7C15) % 2**64
        return self._seed

    # --- limits, circuit breaker and usage ---------------------------------------------------

    def _check_breaker(self) -> None:
        if self._breaker is None:
            return
        allowed, _ = self._breaker.allow(time.monotonic())
        if not allowed:
            assert self._limits is not None
            raise CircuitOpen(
                f"Gemini circuit breaker is open after {self._limits.breaker_failures} "
                f"consecutive failures; the next request goes through "
                f"{self._limits.breaker_reset_s:g} s after it opened",
                status=0,
                retryable=True,
            )

    def _estimate(self, wire: WireRequest) -> float:
        if self._limits is None or self._limits.tpm <= 0:
            return 0.0
        return float(_text_tokens(wire.body))

    def _settle(
        self,
        ticket: Any,
        error: BaseException | None,
        usage: UsageMetadata | None = None,
        model: str | None = None,
    ) -> None:
        """After a request: free its limiter slot (correcting the token estimate by the
        reported usage), tell the breaker, and add the usage to the per-model totals."""
        now = time.monotonic()
        if ticket is not None and self._limiter is not None:
            actual = float(usage.prompt_token_count) if usage is not None else None
            self._limiter.release(ticket, now, actual)
            self._slot_freed()
        if self._breaker is not None:
            if error is None:
                self._breaker.on_success()
            elif _is_outage(error):
                self._breaker.on_failure(now)
            elif isinstance(error, GeminiError) and not isinstance(error, (Cancelled, CircuitOpen)):
                # The service answered (a 4xx of the caller's making): it is up.
                self._breaker.on_success()
        if usage is not None and model is not None:
            with self._usage_lock:
                row = self._usage.setdefault(model.removeprefix("models/"), [0, 0, 0, 0, 0])
                row[0] += 1
                row[1] += usage.prompt_token_count
                row[2] += usage.candidates_token_count
                row[3] += usage.thoughts_token_count
                row[4] += usage.total_token_count

    def _slot_freed(self) -> None:
        """Wakes requests waiting for a concurrency slot (each client waits its own way)."""

    def usage(self) -> dict[str, ModelUsage]:
        """Tokens spent per model so far (from each reply's ``usageMetadata``; for a stream,
        its last chunk's), with the cost when the client has a price table. A model missing
        from the table raises :class:`~lumengate.errors.InvalidArgument` naming it."""
        with self._usage_lock:
            rows = {model: list(row) for model, row in self._usage.items()}
        out: dict[str, ModelUsage] = {}
        for model, (requests, prompt, candidates, thoughts, total) in sorted(rows.items()):
            cost = None
            if self._prices is not None:
                cost = self._prices.cost(
                    UsageMetadata(
                        prompt_token_count=prompt,
                        candidates_token_count=candidates,
                        thoughts_token_count=thoughts,
                    ),
                    model,
                )
            out[model] = ModelUsage(requests, prompt, candidates, thoughts, total, cost)
        return out

    def limit_counters(self) -> dict[str, int]:
        """The limiter's and the circuit breaker's counters (empty without ``limits``)."""
        out: dict[str, int] = {}
        if self._limiter is not None:
            out.update({f"limiter_{k}": int(v) for k, v in self._limiter.counters().items()})
        if self._breaker is not None:
            out.update({f"breaker_{k}": int(v) for k, v in self._breaker.counters().items()})
        return out

    def stats(self) -> dict[str, int]:
        """Counters since the client started: requests, attempts (requests plus retries),
        retries, completed, failed (requests that ended in an error), timeouts (attempts that
        hit a deadline, retried or not), cancelled, resent (re-sent on a fresh connection after
        a reused one failed before any response byte; not an attempt of the retry policy),
        connections_opened/reused/closed/open, queued (waited for a pool slot), bytes_sent,
        bytes_received, streams."""
        native = dict(self._transport.stats())
        attempts = native["requests"] + native["retries"]
        return {"attempts": attempts, "streams": self._counters.streams, **native}

    def _wire_generate(
        self, model: str, contents: Any, config: Mapping[str, Any] | None, stream: bool
    ) -> WireRequest:
        return build_generate_content(model, contents, config, stream=stream, api_key=self._key)


def _unary_result(event: _Event) -> tuple[int, list[tuple[str, str]], bytes]:
    _, kind, status, headers, data, failure, message, body_started = event
    if kind == "failed":
        raise _failure_error(failure, message, status, body_started)
    if not 200 <= status < 300:
        raise error_from_response(status, headers, data)
    return status, headers, data


class Client(_Session):
    """An asyncio Gemini client on the native transport.

    ::

        async with gemini.Client(base_url=fake.url, api_key="test") as client:
            reply = await client.generate_content("gemini-2.5-flash", "hello")
            async for chunk in client.stream_generate_content("gemini-2.5-flash", "hi"):
                print(chunk.text, end="")

    ``api_key`` defaults to ``GOOGLE_API_KEY`` / ``GEMINI_API_KEY``; ``base_url`` to
    :data:`DEFAULT_BASE_URL`. Plain ``http://`` is allowed only for loopback hosts unless
    ``allow_http=True``. ``ca_file`` replaces the system trust store (a test CA, a corporate
    bundle). ``HTTPS_PROXY`` and ``NO_PROXY`` are honoured through a CONNECT tunnel. A client
    belongs to the event loop it is first used on; cancelling an awaiting task cancels the
    native request.
    """

    def __init__(
        self,
        api_key: ApiKey | str | None = None,
        base_url: str | None = None,
        timeout: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        ca_file: str | None = None,
        allow_http: bool | None = None,
        limits: Limits | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout,
            retry,
            max_connections,
            ca_file,
            allow_http,
            limits,
            prices,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._futures: dict[int, asyncio.Future[_Event]] = {}
        self._streams: dict[int, _AsyncStream] = {}
        self._slot_waiters: list[asyncio.Future[None]] = []

    async def __aenter__(self) -> Client:
        self._bind()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            if self._transport.closed:
                raise Cancelled("the Gemini client is closed")
            self._loop = loop
            loop.add_reader(self._transport.fileno(), self._deliver)
        elif loop is not self._loop:
            raise RuntimeError(
                "this gemini.Client belongs to the event loop it was first used on; create "
                "one client per event loop"
            )
        if self._transport.closed:
            raise Cancelled("the Gemini client is closed")
        return loop

    def _deliver(self) -> None:
        """Runs on the loop thread when the eventfd is readable: routes every queued event."""
        for event in self._transport.drain():
            request_id = event[0]
            future = self._futures.pop(request_id, None)
            if future is not None:
                if not future.done():
                    future.set_result(event)
                continue
            stream = self._streams.get(request_id)
            if stream is not None:
                stream.put(event)

    async def aclose(self) -> None:
        """Cancel every running request, close every connection and join the I/O thread."""
        self.close()

    def close(self) -> None:
        """As :meth:`aclose`, callable from synchronous code (and on the loop thread)."""
        if self._transport.closed and self._loop is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._transport.fileno())
        self._transport.close()
        self._deliver()
        for future in self._futures.values():
            if not future.done():
                future.set_exception(Cancelled("Gemini request cancelled: the client was closed"))
        self._futures.clear()
        self._loop = None
        self._finalizer.detach()

    async def _request(self, wire: WireRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        loop = self._bind()
        future: asyncio.Future[_Event] = loop.create_future()
        request_id = self._submit(wire, stream=False)
        self._futures[request_id] = future
        try:
            event = await future
        except asyncio.CancelledError:
            self._futures.pop(request_id, None)
            self._transport.cancel(request_id)
            raise
        return _unary_result(event)

    async def _admit(self, wire: WireRequest) -> Any:
        """The limiter's ticket for ``wire`` once the limits admit it (None without limits);
        raises CircuitOpen while the breaker is open."""
        self._check_breaker()
        if self._limiter is None:
            return None
        loop = self._bind()
        tokens = self._estimate(wire)
        while True:
            got = self._limiter.try_acquire(tokens, time.monotonic())
            if not isinstance(got, float):
                return got
            if not math.isinf(got):
                await asyncio.sleep(got)
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                # A release wakes the waiters; the timeout only guards against a missed wake.
                await asyncio.wait({waiter}, timeout=1.0)
            finally:
                if waiter in self._slot_waiters:
                    self._slot_waiters.remove(waiter)

    def _slot_freed(self) -> None:
        waiters, self._slot_waiters = self._slot_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _call(self, wire: WireRequest, parse: Callable[[bytes], R], model: str | None) -> R:
        ticket = await self._admit(wire)
        try:
            _, _, body = await self._request(wire)
            result = parse(body)
        except BaseException as error:
            self._settle(ticket, error)
            raise
        self._settle(ticket, None, getattr(result, "usage", None), model)
        return result

    async def generate_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> GenerateContentResponse:
        """``models.generateContent``: contents and config as google-genai takes them."""
        wire = self._wire_generate(model, contents, config, stream=False)
        return await self._call(wire, parse_generate_content, model)

    async def stream_generate_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> AsyncIterator[GenerateContentResponse]:
        """``models.streamGenerateContent`` (SSE): yields each chunk as it arrives."""
        wire = self._wire_generate(model, contents, config, stream=True)
        loop = self._bind()
        ticket = await self._admit(wire)
        stream = _AsyncStream(loop)
        request_id = self._submit(wire, stream=True)
        self._counters.streams += 1
        self._streams[request_id] = stream
        reader = _StreamReader(self._transport, request_id)
        error: BaseException | None = None
        try:
            while not reader.finished:
                for chunk in reader.take(await stream.get()):
                    yield chunk
        except BaseException as caught:
            error = caught
            raise
        finally:
            self._streams.pop(request_id, None)
            if not reader.finished:
                self._transport.cancel(request_id)
            self._settle(ticket, error, reader.usage, model)

    async def count_tokens(self, model: str, contents: Any) -> CountTokensResponse:
        """``models.countTokens`` for ``contents``."""
        wire = build_count_tokens(model, contents, api_key=self._key)
        return await self._call(wire, parse_count_tokens, None)

    async def embed_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> EmbedContentResponse:
        """``models.embedContent``: one content (a str, a list of str, a content dict)."""
        wire = build_embed_content(model, contents, config, api_key=self._key)
        return await self._call(wire, parse_embed_content, None)

    async def batch_embed_contents(
        self, model: str, requests: Any, config: Mapping[str, Any] | None = None
    ) -> BatchEmbedContentsResponse:
        """``models.batchEmbedContents``: each str or content dict of ``requests`` on its own."""
        wire = build_batch_embed_contents(model, requests, config, api_key=self._key)
        return await self._call(wire, parse_batch_embed_contents, None)

    async def list_models(self, page_size: int | None = None) -> list[Model]:
        """Every model, following ``nextPageToken`` through all pages."""
        models: list[Model] = []
        token: str | None = None
        while True:
            wire = build_list_models(page_size, token, api_key=self._key)
            page = await self._call(wire, parse_list_models, None)
            models.extend(page.models)
            token = page.next_page_token
            if not token:
                return models


def _stream_failure(
    failure: str, message: str, status: int, body_started: bool, event: _Event
) -> GeminiError:
    if failure == "connection" and body_started:
        return IncompleteStream(f"the Gemini stream broke off: {message}", status=status)
    return _failure_error(failure, message, status, body_started)


class _StreamReader:
    """Turns one stream's native events into response chunks, for either client.

    Taken chunks are reported to the transport in batches (see ``_CONSUMED_BATCH``); the
    last reported ``usageMetadata`` is kept for the client's accounting.
    """

    def __init__(self, transport: Any, request_id: int) -> None:
        self._transport = transport
        self._request_id = request_id
        self._decoder = StreamDecoder()
        self._taken = 0  # chunks taken and not yet reported to the transport
        self.finished = False
        self.usage: UsageMetadata | None = None

    def take(self, event: _Event) -> list[GenerateContentResponse]:
        """The chunks ``event`` completes; raises the typed error of a failed stream."""
        _, kind, status, headers, data, failure, message, body_started = event
        if kind == "head":
            return []
        if kind == "chunk":
            self._taken += 1
            if self._taken == _CONSUMED_BATCH:
                self._transport.consumed(self._request_id, self._taken)
                self._taken = 0
            return self._noted(self._decoder.feed(data))
        self.finished = True
        if kind == "failed":
            raise _stream_failure(failure, message, status, body_started, event)
        if not 200 <= status < 300:
            raise error_from_response(status, headers, data)
        return self._noted(self._decoder.close())

    def _noted(self, chunks: list[GenerateContentResponse]) -> list[GenerateContentResponse]:
        for chunk in chunks:
            self.usage = chunk.usage or self.usage
        return chunks


class _AsyncStream:
    """Events of one stream, filled by the loop thread's delivery and read by its iterator."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._events: collections.deque[_Event] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, event: _Event) -> None:
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> _Event:
        while not self._events:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.popleft()


class BlockingClient(_Session):
    """The same calls as :class:`Client`, blocking, with no event loop involved.

    It waits on a native condition variable, so it works inside Jupyter (whose loop is already
    running) and from several threads at once::

        with gemini.BlockingClient(base_url=fake.url, api_key="test") as client:
            print(client.generate_content("gemini-2.5-flash", "hello").text)
    """

    # Waits are cut into slices so that Ctrl-C (KeyboardInterrupt) is noticed promptly.
    _WAIT_SLICE_S = 0.25

    def __init__(
        self,
        api_key: ApiKey | str | None = None,
        base_url: str | None = None,
        timeout: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        ca_file: str | None = None,
        allow_http: bool | None = None,
        limits: Limits | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout,
            retry,
            max_connections,
            ca_file,
            allow_http,
            limits,
            prices,
        )
        self._condition = threading.Condition()
        self._inbox: dict[int, collections.deque[_Event]] = {}
        self._draining = False
        self._drained_after_close = False
        self._slots = threading.Condition()

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Cancel every running request, close every connection and join the I/O thread.

        Threads still waiting on a request raise :class:`~lumengate.errors.Cancelled`.
        """
        # The native close wakes the thread blocked in the transport's wait and waits for it to
        # leave before freeing anything; the threads parked on the condition are woken here.
        self._transport.close()
        self._finalizer.detach()
        with self._condition:
            self._condition.notify_all()

    def _next_event(self, request_id: int) -> _Event:
        """The next event of ``request_id``; one waiting thread drains for all of them."""
        while True:
            with self._condition:
                while True:
                    box = self._inbox.get(request_id)
                    if box:
                        return box.popleft()
                    if self._drained_after_close:
                        raise Cancelled("Gemini request cancelled: the client was closed")
                    if not self._draining:
                        self._draining = True
                        break
                    self._condition.wait(self._WAIT_SLICE_S)
            events: list[_Event] = []
            # Once closed is seen, the wait below returns the transport's final events, so
            # after routing them any request left without one will never get one.
            closed = self._transport.closed
            try:
                events = self._transport.wait(self._WAIT_SLICE_S)
            finally:
                with self._condition:
                    for event in events:
                        box = self._inbox.get(event[0])
                        if box is not None:
                            box.append(event)
                    if closed:
                        self._drained_after_close = True
                    self._draining = False
                    self._condition.notify_all()

    def _open(self, wire: WireRequest, *, stream: bool) -> int:
        with self._condition:
            request_id = self._submit(wire, stream=stream)
            self._inbox[request_id] = collections.deque()
        return request_id

    def _forget(self, request_id: int, finished: bool) -> None:
        with self._condition:
            self._inbox.pop(request_id, None)
        if not finished:
            self._transport.cancel(request_id)

    def _request(self, wire: WireRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = self._open(wire, stream=False)
        finished = False
        try:
            event = self._next_event(request_id)
            finished = True
        finally:
            self._forget(request_id, finished)
        return _unary_result(event)

    def _admit(self, wire: WireRequest) -> Any:
        """As :meth:`Client._admit`, waiting on this thread."""
        self._check_breaker()
        if self._limiter is None:
            return None
        tokens = self._estimate(wire)
        while True:
            if self._transport.closed:
                raise Cancelled("the Gemini client is closed")
            got = self._limiter.try_acquire(tokens, time.monotonic())
            if not isinstance(got, float):
                return got
            with self._slots:
                # A release notifies; the slice bounds the wait so Ctrl-C and close are seen.
                self._slots.wait(min(got, self._WAIT_SLICE_S))

    def _slot_freed(self) -> None:
        with self._slots:
            self._slots.notify_all()

    def _call(self, wire: WireRequest, parse: Callable[[bytes], R], model: str | None) -> R:
        ticket = self._admit(wire)
        try:
            _, _, body = self._request(wire)
            result = parse(body)
        except BaseException as error:
            self._settle(ticket, error)
            raise
        self._settle(ticket, None, getattr(result, "usage", None), model)
        return result

    def generate_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> GenerateContentResponse:
        """``models.generateContent``: contents and config as google-genai takes them."""
        wire = self._wire_generate(model, contents, config, stream=False)
        return self._call(wire, parse_generate_content, model)

    def stream_generate_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> Iterator[GenerateContentResponse]:
        """``models.streamGenerateContent`` (SSE): yields each chunk as it arrives."""
        wire = self._wire_generate(model, contents, config, stream=True)
        ticket = self._admit(wire)
        request_id = self._open(wire, stream=True)
        self._counters.streams += 1
        reader = _StreamReader(self._transport, request_id)
        error: BaseException | None = None
        try:
            while not reader.finished:
                yield from reader.take(self._next_event(request_id))
        except BaseException as caught:
            error = caught
            raise
        finally:
            self._forget(request_id, reader.finished)
            self._settle(ticket, error, reader.usage, model)

    def count_tokens(self, model: str, contents: Any) -> CountTokensResponse:
        """``models.countTokens`` for ``contents``."""
        wire = build_count_tokens(model, contents, api_key=self._key)
        return self._call(wire, parse_count_tokens, None)

    def embed_content(
        self, model: str, contents: Any, config: Mapping[str, Any] | None = None
    ) -> EmbedContentResponse:
        """``models.embedContent``: one content (a str, a list of str, a content dict)."""
        wire = build_embed_content(model, contents, config, api_key=self._key)
        return self._call(wire, parse_embed_content, None)

    def batch_embed_contents(
        self, model: str, requests: Sequence[Any] | str, config: Mapping[str, Any] | None = None
    ) -> BatchEmbedContentsResponse:
        """``models.batchEmbedContents``: each str or content dict of ``requests`` on its own."""
        wire = build_batch_embed_contents(model, requests, config, api_key=self._key)
        return self._call(wire, parse_batch_embed_contents, None)

    def list_models(self, page_size: int | None = None) -> list[Model]:
        """Every model, following ``nextPageToken`` through all pages."""
        models: list[Model] = []
        token: str | None = None
        while True:
            wire = build_list_models(page_size, token, api_key=self._key)
            page = self._call(wire, parse_list_models, None)
            models.extend(page.models)
            token = page.next_page_token
            if not token:
                return models
