"""The offline token estimator: its documented rules, its bounds and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumengate.errors import InvalidArgument
from lumengate.tokens import estimate_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t", 0),
        ("hello", 1),
        ("hello world", 2),
        ("internationalization", 1 + 4),
        ("2026", 2),
        ("a, b.", 4),
        ("안녕하세요", 5),
        ("파이썬에서 KeyError가 나요", 5 + 2 + 1 + 2),
        ("日本語", 3),
        ("🙂🙂", 2),
    ],
    ids=[
        "empty",
        "blank",
        "word",
        "two-words",
        "long-word",
        "digits",
        "punct",
        "hangul",
        "mixed",
        "kanji",
        "emoji",
    ],
)
def test_documented_rules(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected
    assert estimate_tokens(text.encode()) == expected


@given(st.text(max_size=200), st.text(max_size=200))
def test_concatenation_with_a_space_is_additive(left: str, right: str) -> None:
    # Whitespace ends every run, so two texts joined by a space cost what they cost apart.
    assert estimate_tokens(left + " " + right) == estimate_tokens(left) + estimate_tokens(right)


@given(st.text(max_size=300))
def test_never_more_than_one_token_per_code_point(text: str) -> None:
    assert 0 <= estimate_tokens(text) <= len(text)


def test_invalid_utf8_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"text.*UTF-8.*byte 3") as info:
        estimate_tokens(b"abc\xff")
    assert info.value.field == "text"


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="text"):
        estimate_tokens(42)  # type: ignore[arg-type]


def test_a_lone_surrogate_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match="surrogate") as info:
        estimate_tokens("abc \ud800")
    assert info.value.field == "text"


def test_long_texts_count_the_same_with_the_gil_released() -> None:
    # Above 64 KiB the count runs without the GIL; the rules do not change with the length.
    piece = "파이썬 KeyError 12345 hello, "
    long_text = piece * 4000
    assert len(long_text.encode()) > 1 << 16
    assert estimate_tokens(long_text) == 4000 * estimate_tokens(piece)
