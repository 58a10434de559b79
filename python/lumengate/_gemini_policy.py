"""How the Gemini client retries and how fast it may send (part of :mod:`lumengate.gemini`).

:class:`RetryPolicy` is exponential backoff with *full jitter*: after attempt ``n`` fails
(``n = 1`` for the first), the client waits a uniform random time in
``[0, min(max_delay_s, initial_delay_s * multiplier ** (n - 1)))`` — the same bounds as
tenacity's ``wait_random_exponential(multiplier=initial_delay_s, max=max_delay_s,
exp_base=multiplier)``. Only the listed ``statuses`` are retried, plus connection errors and
timeouts when ``retry_connection_errors``; 400, 401, 403 and 404 never are. A server's
``RetryInfo.retryDelay`` or ``Retry-After`` is a lower bound of the wait. The client gives up
when ``max_attempts`` are used or when a wait would end past ``budget_s`` after the first
attempt started; a stream that has delivered a chunk is never retried::

    >>> from lumengate import gemini
    >>> policy = gemini.RetryPolicy(max_attempts=4, initial_delay_s=0.5)
    >>> [policy.backoff_cap(retry) for retry in range(3)]
    [0.5, 1.0, 2.0]

:class:`Limits` caps concurrent requests and the requests and tokens per minute (0 means
unlimited), and configures the circuit breaker. Each per-minute limit is a token bucket
that holds one minute's allowance and starts full, so in any window of ``W`` seconds at most
``rpm * (1 + W / 60)`` requests are sent (a full minute's burst, then the steady rate), and
likewise ``tpm * (1 + W / 60)`` tokens. Tokens are estimated before a request and corrected
by the reply's ``usageMetadata``; a request estimated above the whole ``tpm`` is refused with
:class:`~lumengate.errors.InvalidArgument` instead of waiting forever. The breaker opens
after ``breaker_failures`` consecutive failures (0 disables it) and, ``breaker_reset_s``
later, lets one probe through: its success closes the breaker, its failure re-opens it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lumengate._native import core, whole
from lumengate.errors import invalid

__all__ = ["Limits", "RetryPolicy"]

_native = core.gemini
# Whole-number fields cross into the core as 32-bit ints.
_INT32 = (-(2**31), 2**31 - 1)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(name, f"must be a number, got {value!r}")
    return float(value)


def _statuses(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise invalid("statuses", f"must be a sequence of HTTP statuses, got {value!r}")
    return tuple(whole(status, f"statuses[{i}]", *_INT32) for i, status in enumerate(value))


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When and how long the Gemini client waits before it retries a request."""

    max_attempts: int = 5
    """Total attempts including the first; 1 means no retries."""
    initial_delay_s: float = 1.0
    """Cap of the first backoff, in seconds."""
    max_delay_s: float = 60.0
    """Cap of every backoff, in seconds (a server's delay may exceed it)."""
    multiplier: float = 2.0
    """Growth of the cap from one retry to the next."""
    budget_s: float = 120.0
    """Seconds from the first attempt's start past which no wait may end."""
    statuses: tuple[int, ...] = field(default=(408, 429, 500, 502, 503, 504))
    """HTTP statuses that are retried; 400, 401, 403 and 404 are refused."""
    retry_connection_errors: bool = True
    """Whether connection errors and timeouts are retried."""

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "max_attempts", whole(self.max_attempts, "max_attempts", *_INT32))
        for name in ("initial_delay_s", "max_delay_s", "multiplier", "budget_s"):
            set_field(self, name, _number(name, getattr(self, name)))
        set_field(self, "statuses", _statuses(self.statuses))
        flag = self.retry_connection_errors
        if not isinstance(flag, bool):
            raise invalid("retry_connection_errors", f"must be True or False, got {flag!r}")
        _native.validate_retry_policy(self)

    def backoff_cap(self, retry: int) -> float:
        """Upper bound in seconds of the random wait before retry ``retry`` (0 = the first)."""
        return float(_native.retry_backoff_cap(self, whole(retry, "retry", *_INT32)))


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Concurrency and per-minute limits of a Gemini client, and its circuit breaker."""

    max_concurrent: int = 0
    """Requests in flight at once; 0 means unlimited."""
    rpm: float = 0
    """Requests per minute; 0 means unlimited."""
    tpm: float = 0
    """Tokens (input, estimated, then corrected by usage) per minute; 0 means unlimited."""
    breaker_failures: int = 5
    """Consecutive failures that open the circuit breaker; 0 disables it."""
    breaker_reset_s: float = 30
    """Seconds the breaker stays open before it lets one probe through."""

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        for name in ("max_concurrent", "breaker_failures"):
            set_field(self, name, whole(getattr(self, name), name, *_INT32))
        for name in ("rpm", "tpm", "breaker_reset_s"):
            set_field(self, name, _number(name, getattr(self, name)))
        _native.validate_limits(self)
