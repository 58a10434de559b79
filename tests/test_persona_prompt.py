"""build_prompt: what the gateway sends to Gemini, trimmed to a token budget."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumengate import persona
from lumengate.errors import InvalidArgument, ParseError
from lumengate.tokens import estimate_tokens

LUA, ELRO, RIRI, NANA = persona.builtin_personas()


def texts_of(prompt: persona.Prompt) -> list[str]:
    (content,) = prompt.contents
    return [part["text"] for part in content["parts"]]


def recount(prompt: persona.Prompt) -> int:
    return estimate_tokens(prompt.system_instruction) + sum(map(estimate_tokens, texts_of(prompt)))


def reference_drop_order(context: list[tuple[str, float]]) -> list[int]:
    """Least relevant first; among equals the oldest (first given) first."""
    return sorted(range(len(context)), key=lambda i: (context[i][1], i))


def test_system_instruction_holds_voice_and_resonance() -> None:
    prompt = persona.build_prompt(RIRI, "calm-slow-career-planning", [], "이직할까요?")
    assert prompt.system_instruction.startswith(RIRI.voice)
    for words in ("calm", "slow", "career planning"):
        assert words in prompt.system_instruction
    plain = persona.build_prompt(RIRI, None, [], "이직할까요?")
    assert f"Tone: {RIRI.tone}" in plain.system_instruction
    assert f"Pace: {RIRI.pace}" in plain.system_instruction
    lenient = persona.parse_resonance_key("차분-느리게", lenient=True)
    assert "Tone: calm" in persona.build_prompt(LUA, lenient, [], "q").system_instruction


def test_contents_are_gemini_rest_shaped() -> None:
    prompt = persona.build_prompt(
        ELRO, "analytical-fast-debug", ["traceback: KeyError 'x'", ("dict docs", 0.7)], "왜 나요?"
    )
    assert prompt.contents == [
        {
            "role": "user",
            "parts": [
                {"text": "[context 1]\ntraceback: KeyError 'x'"},
                {"text": "[context 2]\ndict docs"},
                {"text": "[question]\n왜 나요?"},
            ],
        }
    ]
    request = json.loads(json.dumps(prompt.to_request(), ensure_ascii=False))
    assert request["systemInstruction"] == {"parts": [{"text": prompt.system_instruction}]}
    assert request["contents"] == prompt.contents
    assert prompt.dropped == () and prompt.tokens == recount(prompt)
    alone = persona.build_prompt(ELRO, None, [], "hello")
    assert texts_of(alone) == ["hello"]


def test_drops_least_relevant_then_oldest() -> None:
    context = [("a" * 40, 0.5), ("b" * 40, 0.1), ("c" * 40, 0.5), ("d" * 40, 0.9), ("e" * 40, 0.1)]
    full = persona.build_prompt(NANA, None, context, "summarize", token_budget=100_000)
    assert full.dropped == ()
    per_item = estimate_tokens("[context 1]\n" + "a" * 40)
    # Room for all but two items: the two least relevant go, older one first.
    prompt = persona.build_prompt(NANA, None, context, "summarize", full.tokens - per_item - 1)
    assert [item.index for item in prompt.dropped] == [1, 4]
    assert [item.index for item in prompt.dropped] == reference_drop_order(context)[:2]
    # Room for one item fewer still: of the two at 0.5 the older (index 0) goes first.
    smaller = persona.build_prompt(NANA, None, context, "summarize", full.tokens - 2 * per_item - 1)
    assert [item.index for item in smaller.dropped] == [1, 4, 0]
    assert texts_of(smaller) == ["[context 3]\n" + "c" * 40, "[context 4]\n" + "d" * 40,
                                 "[question]\nsummarize"]  # fmt: skip
    assert smaller.dropped[0] == persona.ContextItem(1, "b" * 40, 0.1)


def test_plain_strings_count_as_relevance_zero() -> None:
    context: list[Any] = ["old history", ("retrieved", 0.2), "newer history"]
    full = persona.build_prompt(LUA, None, context, "q", token_budget=10_000)
    prompt = persona.build_prompt(LUA, None, context, "q", token_budget=full.tokens - 1)
    assert [(d.index, d.relevance) for d in prompt.dropped] == [(0, 0.0)]


@st.composite
def prompt_cases(draw: st.DrawFn) -> tuple[list[tuple[str, float]], str, int]:
    words = st.sampled_from(["파이썬", "에러", "KeyError", "career", "지쳐요", "draft", "42", "🙂"])
    text = st.lists(words, min_size=1, max_size=12).map(" ".join)
    relevance = st.sampled_from([0.0, 0.25, 0.5, 1.0])
    context = draw(st.lists(st.tuples(text, relevance), max_size=8))
    query = draw(text)
    return context, query, draw(st.integers(0, 120))


@given(prompt_cases())
def test_budget_is_respected_and_the_query_kept(
    case: tuple[list[tuple[str, float]], str, int],
) -> None:
    context, query, slack = case
    minimum = persona.build_prompt(LUA, "warm-slow", [], query, token_budget=100_000).tokens
    budget = minimum + slack
    prompt = persona.build_prompt(LUA, "warm-slow", context, query, token_budget=budget)
    assert prompt.tokens == recount(prompt) <= budget
    assert texts_of(prompt)[-1].endswith(query)
    # Exactly the reference's first k items are dropped, for the smallest k that fits.
    order = reference_drop_order(context)
    k = len(prompt.dropped)
    assert [d.index for d in prompt.dropped] == order[:k]
    kept = [
        f"[context {i + 1}]\n{context[i][0]}" for i in range(len(context)) if i not in order[:k]
    ]
    assert texts_of(prompt)[:-1] == kept
    if k > 0:
        # Dropping one item fewer would not have fitted.
        survivors = [i for i in range(len(context)) if i not in order[: k - 1]]
        parts = [f"[context {i + 1}]\n{context[i][0]}" for i in survivors]
        parts.append(f"[question]\n{query}")
        needed = estimate_tokens(prompt.system_instruction) + sum(map(estimate_tokens, parts))
        assert needed > budget


def test_budget_below_system_and_query_names_the_minimum() -> None:
    query = "요즘 너무 지치고 아무것도 하기 싫어요. 어떻게 해야 할까요?"
    minimum = estimate_tokens(persona.build_prompt(LUA, None, [], query).system_instruction)
    minimum += estimate_tokens(query)
    with pytest.raises(InvalidArgument, match=rf"need {minimum} tokens") as info:
        persona.build_prompt(LUA, None, ["context"], query, token_budget=minimum - 1)
    assert info.value.field == "token_budget"
    assert (
        persona.build_prompt(LUA, None, ["context"], query, token_budget=minimum).tokens == minimum
    )


def test_korean_context_is_counted_per_syllable() -> None:
    context = [
        ("파이썬 딕셔너리에 없는 키를 읽으면 KeyError가 납니다.", 0.9),
        ("오늘 점심 메뉴", 0.1),
    ]
    full = persona.build_prompt(ELRO, None, context, "KeyError가 나요", token_budget=10_000)
    assert full.tokens == recount(full)
    assert estimate_tokens("[context 2]\n오늘 점심 메뉴") >= len("오늘점심메뉴")
    trimmed = persona.build_prompt(ELRO, None, context, "KeyError가 나요", full.tokens - 1)
    assert [d.text for d in trimmed.dropped] == ["오늘 점심 메뉴"]


@pytest.mark.parametrize(
    ("kwargs", "error", "mentions"),
    [
        ({"query": ""}, InvalidArgument, "query: must not be empty"),
        ({"query": " \n "}, InvalidArgument, "query: must not be only whitespace"),
        ({"query": "\u200b\u3164"}, InvalidArgument, "query: must not be only whitespace or inv"),
        ({"query": b"\xff"}, InvalidArgument, "query: is not valid UTF-8 (at byte 0)"),
        ({"query": None}, TypeError, "query: expected str"),
        ({"query": "hi\udc80"}, InvalidArgument, "query: is not valid Unicode"),
        ({"context": ["\ud800"]}, InvalidArgument, "context[0]: is not valid Unicode"),
        ({"token_budget": 0}, InvalidArgument, "token_budget: must be a whole number >= 1"),
        ({"token_budget": True}, InvalidArgument, "token_budget"),
        ({"token_budget": 10.5}, InvalidArgument, "token_budget"),
        ({"context": "one string"}, InvalidArgument, "context: must be a sequence"),
        ({"context": [("x", math.nan)]}, InvalidArgument, "context[0]: relevance must be finite"),
        ({"context": ["ok", ("x", True)]}, InvalidArgument, "context[1]: relevance must be a num"),
        ({"context": ["ok", ("x", 1, 2)]}, InvalidArgument, "context[1]: must be a string or"),
        ({"context": [" "]}, InvalidArgument, "context[0]: text must be a non-empty"),
        ({"context": [(None, 0.5)]}, InvalidArgument, "context[0]: text must be"),
        ({"persona": "lua"}, TypeError, "persona: expected a Persona"),
        ({"key": 3}, TypeError, "key: expected"),
        ({"key": "grumpy-slow"}, ParseError, "tone: unknown tone 'grumpy'"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_bad_input(kwargs: dict[str, Any], error: type[Exception], mentions: str) -> None:
    arguments: dict[str, Any] = {"persona": LUA, "key": None, "context": [], "query": "hi"}
    arguments.update(kwargs)
    with pytest.raises(error, match=re.escape(mentions)):
        persona.build_prompt(**arguments)


def test_a_key_the_router_accepts_builds_its_prompt() -> None:
    # Router.route reads text keys leniently; so does build_prompt.
    router = persona.Router.default()
    assert router.route("요즘 너무 지쳐요", resonance_key="차분-느리게").persona == "lua"
    lenient = persona.parse_resonance_key("차분-느리게", lenient=True)
    assert (lenient.tone, lenient.pace) == ("calm", "slow")
    by_text = persona.build_prompt(LUA, "차분-느리게", [], "요즘 너무 지쳐요")
    by_key = persona.build_prompt(LUA, lenient, [], "요즘 너무 지쳐요")
    assert by_text == by_key
    assert persona.build_prompt(LUA, None, [], b"hi") == persona.build_prompt(LUA, None, [], "hi")
