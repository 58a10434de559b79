"""The exceptions lumengate raises.

Every error a caller can fix is an :class:`InvalidArgument`, which is also a
:class:`ValueError`; its ``field`` names the argument (``"weights"``, ``"ids[3]"``) and its
message says the value and what is allowed.

Gemini failures are :class:`GeminiError` (an :class:`HttpError`) or one of its subclasses::

    GeminiError                       status, code, message, grpc_status, details, retry_delay
    ├── RateLimited                   HTTP 429 (retryable; honour ``retry_delay``)
    ├── ClientError                   other 4xx (never retried)
    ├── ServerError                   5xx (500/502/503/504 retryable)
    ├── Timeout                       a deadline passed (also a ``TimeoutError``)
    ├── Cancelled                     the caller cancelled the request
    ├── CircuitOpen                   the circuit breaker refused the request
    └── ResponseParseError            the reply was not the JSON/SSE it should be
        └── IncompleteStream          the stream closed inside an event
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Cancelled",
    "CircuitOpen",
    "ClientError",
    "GeminiError",
    "HttpError",
    "IncompleteStream",
    "InvalidArgument",
    "LumengateError",
    "ParseError",
    "RateLimited",
    "ResponseParseError",
    "ServerError",
    "Timeout",
]


class LumengateError(Exception):
    """Base class of every lumengate error."""

    # The message is positional-only so that subclasses may carry a ``message`` attribute.
    def __init__(self, message: str = "", /, **attributes: Any) -> None:
        super().__init__(message)
        for name, value in attributes.items():
            setattr(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls: type[LumengateError], message: str, attributes: dict[str, Any]) -> Any:
    return cls(message, **attributes)


class InvalidArgument(LumengateError, ValueError):
    """An argument has a value outside what is allowed; ``field`` names it."""

    field: str

    def __init__(self, message: str = "", /, *, field: str = "", **attributes: Any) -> None:
        super().__init__(message, field=field, **attributes)


class ParseError(InvalidArgument):
    """Text (a key, a JSON document) could not be parsed."""


class HttpError(LumengateError):
    """An HTTP exchange failed; ``status`` is the HTTP status (0 before any response)."""

    status: int
    retryable: bool

    def __init__(
        self, message: str = "", /, *, status: int = 0, retryable: bool = False, **attributes: Any
    ) -> None:
        super().__init__(message, status=status, retryable=retryable, **attributes)


class GeminiError(HttpError):
    """A Gemini request failed.

    ``status`` is the HTTP status (0 when no response arrived), ``code`` the ``error.code`` of
    the JSON body, ``message`` the server's ``error.message``, ``grpc_status`` its
    ``error.status`` (``"RESOURCE_EXHAUSTED"``), ``details`` its ``error.details`` list and
    ``retry_delay`` the seconds the server asked to wait (``RetryInfo.retryDelay`` or a
    ``Retry-After`` header), else ``None``. The API key never appears in any of them.
    """

    code: int
    message: str
    grpc_status: str
    details: tuple[Any, ...]
    retry_delay: float | None

    def __init__(
        self,
        text: str = "",
        /,
        *,
        status: int = 0,
        retryable: bool = False,
        code: int = 0,
        message: str = "",
        grpc_status: str = "",
        details: tuple[Any, ...] = (),
        retry_delay: float | None = None,
        **attributes: Any,
    ) -> None:
        super().__init__(
            text,
            status=status,
            retryable=retryable,
            code=code,
            message=message or text,
            grpc_status=grpc_status,
            details=tuple(details),
            retry_delay=retry_delay,
            **attributes,
        )


class RateLimited(GeminiError):
    """A rate limit refused the operation (HTTP 429, or the client's own token bucket)."""


class ClientError(GeminiError):
    """The server rejected the request (HTTP 4xx other than 429); resending will not help."""


class ServerError(GeminiError):
    """The server failed (HTTP 5xx)."""


class Timeout(GeminiError, TimeoutError):
    """A deadline passed before the operation finished."""


class Cancelled(GeminiError):
    """The operation was cancelled by its caller."""


class CircuitOpen(GeminiError):
    """A circuit breaker is open after repeated failures."""


class ResponseParseError(GeminiError):
    """A response body or stream event was not the JSON it should be."""


class IncompleteStream(ResponseParseError):
    """A server-sent event stream ended in the middle of an event."""


def invalid(field: str, message: str) -> InvalidArgument:
    """An InvalidArgument whose message starts with the field, as the native core words it."""
    return InvalidArgument(f"{field}: {message}", field=field)
