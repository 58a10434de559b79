"""What a :class:`~lumengate.testing.FakeGemini` answers: scripted replies, faults, records."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lumengate.errors import InvalidArgument

__all__ = ["ENDPOINTS", "Action", "Fault", "RecordedRequest", "Reply"]

#: The endpoint names used by :meth:`FakeGemini.script` and :attr:`RecordedRequest.endpoint`.
ENDPOINTS = (
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
    "listModels",
    "getModel",
)

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _non_negative(value: float, name: str) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise InvalidArgument(f"{name} must be a finite number >= 0, got {value!r}", field=name)
    return float(value)


def error_body(
    code: int, message: str, *, details: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The Gemini error document ``{"error": {"code", "message", "status", "details"}}``.

    >>> error_body(404, "no such model")["error"]["status"]
    'NOT_FOUND'
    """
    return {
        "error": {
            "code": code,
            "message": message,
            "status": _STATUS_NAMES.get(code, "UNKNOWN"),
            "details": [dict(d) for d in details],
        }
    }


def _format_duration(seconds: float) -> str:
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


@dataclass(frozen=True)
class Reply:
    """A successful answer, scripted with :meth:`FakeGemini.script`.

    >>> Reply.text("Paris").status
    200
    >>> len(Reply.stream(["Hel", "lo"], delay=0.05).chunks)
    2

    ``latency`` is waited before the status line is sent; ``delay`` between streamed events.
    """

    body: Any = None
    status: int = 200
    chunks: tuple[Any, ...] | None = None
    delay: float = 0.0
    latency: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls,
        body: Any,
        *,
        status: int = 200,
        latency: float = 0.0,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Answer with ``body`` serialised as JSON, exactly as given."""
        if not 100 <= status <= 599:
            raise InvalidArgument(f"status must be in 100..599, got {status}", field="status")
        return cls(
            body=body,
            status=status,
            latency=_non_negative(latency, "latency"),
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def text(
        cls,
        text: str,
        *,
        finish_reason: str = "STOP",
        latency: float = 0.0,
    ) -> Reply:
        """A generateContent answer whose candidate says ``text`` (usage counted by the fake)."""
        return cls(body=_TextBody(text, finish_reason), latency=_non_negative(latency, "latency"))

    @classmethod
    def stream(
        cls,
        chunks: Sequence[str | Mapping[str, Any]],
        *,
        delay: float = 0.0,
        latency: float = 0.0,
    ) -> Reply:
        """A server-sent-events answer, one event per chunk, ``delay`` seconds apart.

        A string chunk becomes a full GenerateContentResponse carrying that text delta (the
        last one with ``finishReason: STOP``); a mapping is sent as the event's JSON as is.
        The answer is an event stream whichever endpoint the request was for.
        """
        if isinstance(chunks, (str, bytes)) or len(chunks) == 0:
            raise InvalidArgument(
                f"chunks must be a non-empty sequence of strings or JSON objects, got {chunks!r}",
                field="chunks",
            )
        return cls(
            chunks=tuple(chunks),
            delay=_non_negative(delay, "delay"),
            latency=_non_negative(latency, "latency"),
        )


@dataclass(frozen=True)
class _TextBody:
    text: str
    finish_reason: str


FaultKind = Literal[
    "status",
    "reset",
    "malformed_json",
    "truncated_stream",
    "stream_error",
    "slow_loris",
    "close",
]


@dataclass(frozen=True)
class Fault:
    """A failure, scripted with :meth:`FakeGemini.script`; build one with a class method.

    >>> Fault.status(429, retry_delay=1.5).body()["error"]["details"][0]["retryDelay"]
    '1.5s'
    >>> Fault.reset(after_bytes=10).kind
    'reset'
    """

    kind: FaultKind
    code: int = 0
    message: str = ""
    retry_delay: float | None = None
    retry_after: str | None = None
    after_bytes: int = 0
    chunks: tuple[str, ...] = ()
    interval: float = 0.0
    latency: float = 0.0

    @classmethod
    def status(
        cls,
        code: int,
        message: str | None = None,
        *,
        retry_delay: float | None = None,
        retry_after: float | str | None = None,
        latency: float = 0.0,
    ) -> Fault:
        """An error status with Gemini's error body.

        ``retry_delay`` adds a ``google.rpc.RetryInfo`` detail (``"1.5s"``); ``retry_after``
        sets the ``Retry-After`` header (seconds or an HTTP date, sent as given).
        """
        if not 400 <= code <= 599:
            raise InvalidArgument(f"code must be in 400..599, got {code}", field="code")
        if retry_delay is not None:
            _non_negative(retry_delay, "retry_delay")
        return cls(
            kind="status",
            code=code,
            message=message or f"fake Gemini scripted error {code}",
            retry_delay=retry_delay,
            retry_after=None if retry_after is None else str(retry_after),
            latency=_non_negative(latency, "latency"),
        )

    @classmethod
    def reset(cls, *, after_bytes: int = 0) -> Fault:
        """Send a 200 status line and ``after_bytes`` of the body, then reset the connection."""
        if after_bytes < 0:
            raise InvalidArgument(
                f"after_bytes must be >= 0, got {after_bytes}", field="after_bytes"
            )
        return cls(kind="reset", after_bytes=after_bytes)

    @classmethod
    def malformed_json(cls) -> Fault:
        """A 200 answer with ``Content-Type: application/json`` whose body is not JSON."""
        return cls(kind="malformed_json")

    @classmethod
    def truncated_stream(cls, chunks: Sequence[str] = ("Hel",)) -> Fault:
        """Stream ``chunks`` as complete events, then half an event, then close the connection."""
        return cls(kind="truncated_stream", chunks=tuple(chunks))

    @classmethod
    def stream_error(
        cls, chunks: Sequence[str] = ("Hel",), *, code: int = 500, message: str | None = None
    ) -> Fault:
        """Stream ``chunks``, then an event ``data: {"error": ...}``, then end the stream."""
        return cls(
            kind="stream_error",
            chunks=tuple(chunks),
            code=code,
            message=message or f"fake Gemini scripted stream error {code}",
        )

    @classmethod
    def slow_loris(cls, *, interval: float = 0.5) -> Fault:
        """Send the headers at once, then the body one byte every ``interval`` seconds."""
        if _non_negative(interval, "interval") == 0:
            raise InvalidArgument("interval must be > 0, got 0", field="interval")
        return cls(kind="slow_loris", interval=interval)

    @classmethod
    def close(cls) -> Fault:
        """Read the request, then close the connection without any response byte."""
        return cls(kind="close")

    def body(self) -> dict[str, Any]:
        """The error document a ``status`` or ``stream_error`` fault sends."""
        details: list[dict[str, Any]] = []
        if self.retry_delay is not None:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": _format_duration(self.retry_delay),
                }
            )
        return error_body(self.code, self.message, details=details)


Action = Reply | Fault


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it.

    ``headers`` has lower-case names (the API key is kept: the server is a fake);
    ``json`` is the parsed body or ``None``; ``arrived`` is ``time.monotonic()`` when the
    request's first byte was read and ``arrived_wall`` is ``time.time()`` at that point.
    """

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    endpoint: str | None
    model: str | None
    arrived: float
    arrived_wall: float
    connection: int = field(default=0)

    def body_text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", "replace")


def dumps(value: Any) -> bytes:
    """Compact JSON, as Gemini sends it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
