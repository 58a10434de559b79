"""The exceptions lumengate raises.

Every error a caller can fix is an :class:`InvalidArgument`, which is also a
:class:`ValueError`; its ``field`` names the argument (``"weights"``, ``"ids[3]"``) and its
message says the value and what is allowed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Cancelled",
    "CircuitOpen",
    "HttpError",
    "InvalidArgument",
    "LumengateError",
    "ParseError",
    "RateLimited",
    "Timeout",
]


class LumengateError(Exception):
    """Base class of every lumengate error."""

    def __init__(self, message: str = "", **attributes: Any) -> None:
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

    def __init__(self, message: str = "", *, field: str = "", **attributes: Any) -> None:
        super().__init__(message, field=field, **attributes)


class ParseError(InvalidArgument):
    """Text (a key, a JSON document) could not be parsed."""


class HttpError(LumengateError):
    """An HTTP exchange failed; ``status`` is the HTTP status (0 before any response)."""

    status: int
    retryable: bool

    def __init__(
        self, message: str = "", *, status: int = 0, retryable: bool = False, **attributes: Any
    ) -> None:
        super().__init__(message, status=status, retryable=retryable, **attributes)


class Timeout(LumengateError, TimeoutError):
    """A deadline passed before the operation finished."""


class Cancelled(LumengateError):
    """The operation was cancelled by its caller."""


class RateLimited(LumengateError):
    """A rate limit refused the operation."""


class CircuitOpen(LumengateError):
    """A circuit breaker is open after repeated failures."""


def invalid(field: str, message: str) -> InvalidArgument:
    """An InvalidArgument whose message starts with the field, as the native core words it."""
    return InvalidArgument(f"{field}: {message}", field=field)
