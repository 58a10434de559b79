"""The fake Gemini server: asyncio in a background thread, HTTP/1.1 with keep-alive, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lumengate.errors import InvalidArgument
from lumengate.testing import _responses as responses
from lumengate.testing._script import (
    ENDPOINTS,
    Action,
    Fault,
    RecordedRequest,
    Reply,
    _TextBody,
    dumps,
    error_body,
)

__all__ = ["FakeGemini"]

log = logging.getLogger("lumengate.testing")

_API = "/v1beta/"
_MAX_HEADER_BYTES = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Scripted:
    action: Action
    endpoint: str | None
    model: str | None
    remaining: int


class _BadRequest(Exception):
    pass


def _route(method: str, path: str) -> tuple[str | None, str | None]:
    """(endpoint, model) for a request path, or (None, None) when nothing serves it."""
    if not path.startswith(_API):
        return None, None
    rest = unquote(path[len(_API) :])
    if rest == "models" and method == "GET":
        return "listModels", None
    if not rest.startswith("models/"):
        return None, None
    name = rest[len("models/") :]
    if ":" in name:
        model, _, verb = name.partition(":")
        if method == "POST" and verb in ENDPOINTS and model:
            return verb, model
        return None, None
    if method == "GET" and name and "/" not in name:
        return "getModel", name
    return None, None


class FakeGemini:
    """A fake Gemini Developer API (v1beta) on 127.0.0.1 for tests, HTTP or HTTPS.

    It serves ``generateContent``, ``streamGenerateContent?alt=sse``, ``countTokens``,
    ``embedContent``, ``batchEmbedContents``, ``GET models`` (paginated) and ``GET models/{m}``
    with deterministic answers (the reply echoes the last user turn), requires the
    ``x-goog-api-key`` header (or ``?key=``), records every request, and answers scripted
    :class:`Reply` and :class:`Fault` values first::

        >>> import json, urllib.error, urllib.request
        >>> def get(url):
        ...     request = urllib.request.Request(url, headers={"x-goog-api-key": "k"})
        ...     try:
        ...         with urllib.request.urlopen(request) as response:
        ...             return response.status, json.load(response)
        ...     except urllib.error.HTTPError as error:
        ...         with error:
        ...             return error.code, json.load(error)
        >>> with FakeGemini() as fake:
        ...     fake.script(Fault.status(503))
        ...     status, body = get(fake.url + "/v1beta/models/gemini-2.5-flash")
        ...     print(status, body["error"]["status"])
        ...     status, body = get(fake.url + "/v1beta/models/gemini-2.5-flash")
        ...     print(status, body["displayName"])
        503 UNAVAILABLE
        200 Gemini 2.5 Flash

    ``tls=True`` serves HTTPS with a certificate from a throwaway ``trustme`` CA (give clients
    :attr:`ca_path` or :attr:`ca_pem`); ``cert_hostname`` issues it for another host name so
    that verification fails. ``api_key``, when set, is the only key accepted (others get
    Gemini's 400 ``API_KEY_INVALID``). Every response carries ``x-fake-server-time-us``: the
    microseconds from the request's first byte to the response headers, scripted latency
    included.
    """

    def __init__(
        self,
        *,
        tls: bool = False,
        port: int = 0,
        host: str = "127.0.0.1",
        cert_hostname: str | None = None,
        api_key: str | None = None,
        page_size: int = 50,
    ) -> None:
        if not 0 <= port <= 65535:
            raise InvalidArgument(f"port must be in 0..65535, got {port}", field="port")
        if page_size < 1:
            raise InvalidArgument(f"page_size must be >= 1, got {page_size}", field="page_size")
        if cert_hostname is not None and not tls:
            raise InvalidArgument("cert_hostname needs tls=True", field="cert_hostname")
        self.tls = tls
        self.host = host
        self._port = port
        self._cert_hostname = cert_hostname
        self.api_key = api_key
        self.page_size = page_size
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []
        self._script: list[_Scripted] = []
        self._serial = 0
        self._connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ca_pem: bytes | None = None
        self._ca_file: str | None = None
        self._ssl: ssl.SSLContext | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeGemini:
        """Bind and start serving in a background thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("FakeGemini is already running")
        if self.tls:
            self._make_tls()
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._serve_connection,
                        self.host,
                        self._port,
                        ssl=self._ssl,
                        backlog=1024,
                        reuse_address=True,
                    )
                )
            except BaseException as error:
                failure.append(error)
                ready.set()
                return
            self._port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="lumengate-fake-gemini", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            loop.close()
            self._thread = None
            self._loop = None
            self._remove_ca_file()
            raise failure[0]
        log.info("fake Gemini serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        self._loop = None
        self._thread = None
        self._server = None
        self._remove_ca_file()

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- addresses, TLS
    @property
    def port(self) -> int:
        """The bound port (the ephemeral one chosen when started with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL for clients, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self._port}"

    @property
    def ca_pem(self) -> bytes:
        """The throwaway CA certificate (PEM) that signed the server certificate."""
        if self._ca_pem is None:
            raise RuntimeError("ca_pem exists only for a started FakeGemini(tls=True)")
        return self._ca_pem

    @property
    def ca_path(self) -> str:
        """A file holding :attr:`ca_pem`, removed when the server stops."""
        if self._ca_file is None:
            raise RuntimeError("ca_path exists only for a started FakeGemini(tls=True)")
        return self._ca_file

    def _make_tls(self) -> None:
        try:
            import trustme
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ImportError(
                "FakeGemini(tls=True) needs trustme: pip install 'lumengate[testing]'"
            ) from error
        ca = trustme.CA()
        names = [self._cert_hostname] if self._cert_hostname else [self.host, "localhost"]
        cert = ca.issue_cert(*names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert.configure_cert(context)
        self._ssl = context
        self._ca_pem = ca.cert_pem.bytes()
        fd, path = tempfile.mkstemp(prefix="lumengate-fake-gemini-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as handle:
            handle.write(self._ca_pem)
        self._ca_file = path

    def _remove_ca_file(self) -> None:
        if self._ca_file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._ca_file)
            self._ca_file = None
            self._ca_pem = None
            self._ssl = None

    # ----------------------------------------------------------------- script and records
    def script(
        self,
        *actions: Action,
        endpoint: str | None = None,
        model: str | None = None,
        times: int = 1,
    ) -> None:
        """Queue ``actions``; each answers ``times`` matching requests, in order.

        ``endpoint`` (one of ``generateContent``, ``streamGenerateContent``, ``countTokens``,
        ``embedContent``, ``batchEmbedContents``, ``listModels``, ``getModel``) and ``model``
        restrict which requests an action answers; unmatched requests get the next matching
        action or the default answer::

            >>> fake = FakeGemini()
            >>> fake.script(Fault.status(429, retry_delay=1.5), endpoint="generateContent")
            >>> fake.script(Reply.stream(["Hel", "lo"], delay=0.05), times=2)
            >>> fake.pending
            2
        """
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise InvalidArgument(
                f"endpoint must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}",
                field="endpoint",
            )
        if times < 1:
            raise InvalidArgument(f"times must be >= 1, got {times}", field="times")
        for action in actions:
            if not isinstance(action, (Reply, Fault)):
                raise InvalidArgument(
                    f"actions must be Reply or Fault values, got {action!r}", field="actions"
                )
        model = None if model is None else model.removeprefix("models/")
        with self._lock:
            self._script.extend(_Scripted(a, endpoint, model, times) for a in actions)

    @property
    def pending(self) -> int:
        """How many scripted actions are still queued."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received since start or the last :meth:`clear`, oldest first."""
        with self._lock:
            return tuple(self._records)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request; ``LookupError`` when none arrived."""
        with self._lock:
            if not self._records:
                raise LookupError("the fake Gemini has not received any request")
            return self._records[-1]

    @property
    def connections(self) -> int:
        """How many connections were accepted since start (keep-alive reuses one)."""
        with self._lock:
            return self._connections

    def clear(self) -> None:
        """Forget recorded requests and drop scripted actions not yet used."""
        with self._lock:
            self._records.clear()
            self._script.clear()

    def _take(self, endpoint: str | None, model: str | None) -> Action | None:
        with self._lock:
            for index, entry in enumerate(self._script):
                if entry.endpoint is not None and entry.endpoint != endpoint:
                    continue
                if entry.model is not None and entry.model != model:
                    continue
                entry.remaining -= 1
                if entry.remaining == 0:
                    del self._script[index]
                return entry.action
        return None

    # ----------------------------------------------------------------- connections
    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self._connections += 1
            connection = self._connections
        try:
            while True:
                keep_alive = await self._serve_request(reader, writer, connection)
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.transport.close()

    async def _serve_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int
    ) -> bool:
        try:
            first = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError:
            return False
        started = time.perf_counter()
        arrived, arrived_wall = time.monotonic(), time.time()
        try:
            head = first + await reader.readuntil(b"\r\n\r\n") if first != b"\r\n" else first
        except asyncio.LimitOverrunError:
            await self._send_simple(writer, 431, b"", started, close=True)
            return False
        try:
            method, target, headers = self._parse_head(head)
            body = await self._read_body(reader, headers)
        except _BadRequest as error:
            await self._send_error(writer, 400, str(error), started, close=True)
            return False
        split = urlsplit(target)
        query = {k: tuple(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parsed: Any = None
        json_error: str | None = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError) as error:
                json_error = f"Invalid JSON payload received. {error}"
        endpoint, model = _route(method, split.path)
        record = RecordedRequest(
            method=method,
            path=split.path,
            query=query,
            headers=headers,
            body=body,
            json=parsed,
            endpoint=endpoint,
            model=model,
            arrived=arrived,
            arrived_wall=arrived_wall,
            connection=connection,
        )
        with self._lock:
            self._records.append(record)
            self._serial += 1
            serial = self._serial
        close = headers.get("connection", "").lower() == "close"

        key = headers.get("x-goog-api-key") or (query.get("key") or ("",))[0]
        if endpoint is None:
            await self._send_error(
                writer, 404, f"{method} {split.path} is not served by the fake", started, close
            )
            return not close
        if not key:
            await self._send_error(
                writer,
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
                started,
                close,
            )
            return not close
        if self.api_key is not None and key != self.api_key:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ]
            await self._send_error(
                writer, 400, "API key not valid. Please pass a valid API key.", started, close,
                details=details,
            )  # fmt: skip
            return not close
        action = self._take(endpoint, model)
        if action is None and json_error is not None:
            await self._send_error(writer, 400, json_error, started, close)
            return not close
        if isinstance(action, Fault):
            return await self._send_fault(writer, action, started, close)
        return await self._send_reply(writer, action, record, serial, started, close)

    @staticmethod
    def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
        try:
            text = head.decode("latin-1")
            request_line, *lines = text.split("\r\n")
            method, target, version = request_line.split(" ")
        except ValueError as error:
            raise _BadRequest(f"malformed request line: {head[:80]!r}") from error
        if not version.startswith("HTTP/1."):
            raise _BadRequest(f"unsupported protocol {version!r}")
        headers: dict[str, str] = {}
        for line in lines:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(f"malformed header line {line!r}")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return method, target, headers

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                try:
                    size = int(size_line.split(b";")[0], 16)
                except ValueError as error:
                    raise _BadRequest(f"malformed chunk size {size_line!r}") from error
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = headers.get("content-length", "0")
        if not length.isdigit():
            raise _BadRequest(f"malformed Content-Length {length!r}")
        return await reader.readexactly(int(length)) if int(length) else b""

    # ----------------------------------------------------------------- responses
    @staticmethod
    def _head(
        status: int,
        headers: Iterable[tuple[str, str]],
        started: float,
        close: bool,
    ) -> bytes:
        server_us = int((time.perf_counter() - started) * 1e6)
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        lines.append(f"x-fake-server-time-us: {server_us}")
        lines.append("server: lumengate-fake-gemini")
        if close:
            lines.append("connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send_simple(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        started: float,
        close: bool,
        content_type: str = "application/json; charset=UTF-8",
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        headers = [("content-type", content_type), ("content-length", str(len(body)))]
        headers.extend(extra)
        writer.write(self._head(status, headers, started, close) + body)
        await writer.drain()

    async def _send_error(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        message: str,
        started: float,
        close: bool,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        body = dumps(error_body(status, message, details=details or []))
        await self._send_simple(writer, status, body, started, close)

    async def _send_fault(
        self, writer: asyncio.StreamWriter, fault: Fault, started: float, close: bool
    ) -> bool:
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.kind == "status":
            extra = [("retry-after", fault.retry_after)] if fault.retry_after is not None else []
            body = dumps(fault.body())
            await self._send_simple(writer, fault.code, body, started, close, extra=extra)
            return not close
        if fault.kind == "close":
            writer.transport.close()
            return False
        if fault.kind == "malformed_json":
            await self._send_simple(writer, 200, b'{"candidates": [{"content": ', started, close)
            return not close
        if fault.kind in ("reset", "slow_loris"):
            body = dumps(
                responses.generate_response(
                    text="This body is never delivered whole." * 4,
                    finish_reason="STOP",
                    prompt_tokens=1,
                    candidates_tokens=28,
                    thoughts=0,
                    model="gemini-2.5-flash",
                    rid="fault",
                )
            )
            headers = [
                ("content-type", "application/json; charset=UTF-8"),
                ("content-length", str(len(body))),
            ]
            writer.write(self._head(200, headers, started, close))
            if fault.kind == "reset":
                writer.write(body[: fault.after_bytes])
                await writer.drain()
                self._reset(writer)
                return False
            for index in range(len(body)):
                writer.write(body[index : index + 1])
                await writer.drain()
                await asyncio.sleep(fault.interval)
            return not close
        # Streaming faults: complete events first.
        writer.write(self._head(200, _SSE_HEADERS, started, close))
        for index, text in enumerate(fault.chunks):
            event = _stream_chunk(text, None, index, "gemini-2.5-flash", "fault")
            writer.write(_chunk(b"data: " + dumps(event) + b"\r\n\r\n"))
        if fault.kind == "truncated_stream":
            partial = b'data: {"candidates": [{"content": {"parts": [{"te'
            writer.write(_chunk(partial))
            await writer.drain()
            writer.transport.close()
            return False
        writer.write(_chunk(b"data: " + dumps(fault.body()) + b"\r\n\r\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return not close

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _send_reply(
        self,
        writer: asyncio.StreamWriter,
        reply: Reply | None,
        record: RecordedRequest,
        serial: int,
        started: float,
        close: bool,
    ) -> bool:
        if reply is not None and reply.latency:
            await asyncio.sleep(reply.latency)
        endpoint = record.endpoint
        if reply is not None and reply.chunks is not None:
            texts = list(reply.chunks)
            await self._stream(writer, texts, reply.delay, record, serial, started, close)
            return not close
        if reply is not None and not isinstance(reply.body, _TextBody):
            body = dumps(reply.body)
            await self._send_simple(writer, reply.status, body, started, close, extra=reply.headers)
            return not close
        if endpoint == "streamGenerateContent":
            text, _ = self._reply_text(reply, record)
            pieces = _split_words(text)
            await self._stream(writer, pieces, 0.0, record, serial, started, close)
            return not close
        status, document = self._default(reply, record, serial)
        await self._send_simple(writer, status, dumps(document), started, close)
        return not close

    @staticmethod
    def _reply_text(reply: Reply | None, record: RecordedRequest) -> tuple[str, str]:
        if reply is not None and isinstance(reply.body, _TextBody):
            return reply.body.text, reply.body.finish_reason
        return responses.reply_text(record.json)

    def _default(
        self, reply: Reply | None, record: RecordedRequest, serial: int
    ) -> tuple[int, Any]:
        body, model = record.json, record.model or ""
        endpoint = record.endpoint
        if endpoint == "listModels":
            return self._list_models(record)
        if endpoint == "getModel":
            entry = responses.model_resource(model)
            if entry is None:
                return 404, error_body(404, f"models/{model} is not found for API version v1beta")
            return 200, entry
        if not isinstance(body, Mapping):
            return 400, error_body(400, "the request body must be a JSON object")
        if endpoint == "generateContent":
            text, finish = self._reply_text(reply, record)
            prompt = responses.count_tokens(responses.prompt_text(body))
            return 200, responses.generate_response(
                text=text,
                finish_reason=finish,
                prompt_tokens=prompt,
                candidates_tokens=responses.count_tokens(text),
                thoughts=responses.thoughts_tokens(body),
                model=model,
                rid=responses.response_id(record.body, serial),
            )
        if endpoint == "countTokens":
            total = responses.count_tokens(responses.prompt_text(body))
            return 200, {
                "totalTokens": total,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
            }
        if endpoint == "embedContent":
            return _embed_one(body, model)
        if endpoint == "batchEmbedContents":
            requests = body.get("requests")
            if not isinstance(requests, list) or not requests:
                return 400, error_body(400, "requests must be a non-empty list")
            embeddings = []
            for item in requests:
                status, one = _embed_one(item, model)
                if status != 200:
                    return status, one
                embeddings.append(one["embedding"])
            return 200, {"embeddings": embeddings}
        raise AssertionError(endpoint)

    def _list_models(self, record: RecordedRequest) -> tuple[int, Any]:
        size_text = (record.query.get("pageSize") or (str(self.page_size),))[0]
        token = (record.query.get("pageToken") or ("",))[0]
        if not size_text.isdigit() or int(size_text) < 0:
            return 400, error_body(400, f"pageSize must be a non-negative integer: {size_text}")
        size = min(int(size_text) or self.page_size, 1000)
        start = 0
        if token:
            if not (token.startswith("page-") and token[5:].isdigit()):
                return 400, error_body(400, f"Invalid page token: {token}")
            start = int(token[5:])
        page = [dict(m) for m in responses.MODELS[start : start + size]]
        document: dict[str, Any] = {"models": page}
        if start + size < len(responses.MODELS):
            document["nextPageToken"] = f"page-{start + size}"
        return 200, document

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        chunks: list[Any],
        delay: float,
        record: RecordedRequest,
        serial: int,
        started: float,
        close: bool,
    ) -> None:
        writer.write(self._head(200, _SSE_HEADERS, started, close))
        await writer.drain()
        body = record.json if isinstance(record.json, Mapping) else {}
        prompt = responses.count_tokens(responses.prompt_text(body))
        thoughts = responses.thoughts_tokens(body)
        rid = responses.response_id(record.body, serial)
        model = record.model or ""
        produced = 0
        for index, chunk in enumerate(chunks):
            if index and delay:
                await asyncio.sleep(delay)
            if isinstance(chunk, Mapping):
                event: Any = chunk
            else:
                produced += responses.count_tokens(chunk)
                last = index == len(chunks) - 1
                event = responses.generate_response(
                    text=chunk,
                    finish_reason="STOP" if last else None,
                    prompt_tokens=prompt,
                    candidates_tokens=produced,
                    thoughts=thoughts,
                    model=model,
                    rid=rid,
                )
            writer.write(_chunk(b"data: " + dumps(event) + b"\r\n\r\n"))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


_SSE_HEADERS = (
    ("content-type", "text/event-stream"),
    ("transfer-encoding", "chunked"),
    ("cache-control", "no-cache"),
)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _split_words(text: str) -> list[str]:
    """Split ``text`` into streaming deltas of about three words each, keeping all characters."""
    words = text.split(" ")
    pieces = [" ".join(words[i : i + 3]) for i in range(0, len(words), 3)]
    return [p if i == 0 else " " + p for i, p in enumerate(pieces)] or [""]


def _stream_chunk(text: str, finish: str | None, index: int, model: str, rid: str) -> Any:
    return responses.generate_response(
        text=text,
        finish_reason=finish,
        prompt_tokens=1,
        candidates_tokens=index + 1,
        thoughts=0,
        model=model,
        rid=rid,
    )


def _embed_one(request: Any, model: str) -> tuple[int, Any]:
    if not isinstance(request, Mapping):
        return 400, error_body(400, "each embed request must be a JSON object")
    dims = request.get("outputDimensionality")
    if dims is None:
        dims = responses.default_dimensions(model)
    if not isinstance(dims, int) or not 1 <= dims <= 3072:
        return 400, error_body(400, f"outputDimensionality must be in 1..3072, got {dims!r}")
    text = "\n".join(responses._parts_text(request.get("content")))
    return 200, {"embedding": {"values": responses.embedding(text, dims)}}
