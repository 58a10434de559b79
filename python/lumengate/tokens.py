"""The package's offline token estimator, shared by prompt building and the Gemini client.

>>> from lumengate.tokens import estimate_tokens
>>> estimate_tokens("hello world")
2
>>> estimate_tokens("파이썬에서 KeyError가 나요")
10
>>> estimate_tokens("")
0
"""

from __future__ import annotations

from lumengate._core import estimate_tokens as _estimate_tokens

__all__ = ["estimate_tokens"]


def estimate_tokens(text: str | bytes) -> int:
    """Estimate the Gemini tokens of ``text`` without a tokenizer, erring on the high side.

    A run of Latin letters costs one token up to six letters and one more per four after,
    digit runs one per three digits, every Hangul syllable, CJK ideograph or other non-Latin
    letter one, every other symbol one; whitespace is free. ``bytes`` must be valid UTF-8
    (:class:`lumengate.errors.InvalidArgument` otherwise, field ``"text"``).
    """
    if not isinstance(text, (str, bytes)):
        raise TypeError(f"text: expected str or bytes, got {type(text).__name__}")
    return _estimate_tokens(text)
