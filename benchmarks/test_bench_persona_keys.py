"""Resonance keys and prompt building (pytest-benchmark group "persona-keys").

Per-call costs on the gateway's request path; each benchmark checks its result first.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from lumengate import persona
from lumengate.tokens import estimate_tokens

pytestmark = pytest.mark.benchmark(group="persona-keys")

LUA, ELRO, RIRI, NANA = persona.builtin_personas()


def test_parse_strict(benchmark: BenchmarkFixture) -> None:
    key = benchmark(persona.parse_resonance_key, "Calm-slow-career-planning")
    assert (key.tone, key.pace, key.intent) == ("calm", "slow", "career_planning")


def test_parse_lenient_korean_and_typos(benchmark: BenchmarkFixture) -> None:
    key = benchmark(persona.parse_resonance_key, "차분-느리게-debuging", lenient=True)
    assert str(key) == "calm-slow-debug"
    assert [m.reason for m in key.mappings] == ["synonym", "synonym", "edit_distance"]


def test_match_score_over_the_four_personas(benchmark: BenchmarkFixture) -> None:
    key = persona.parse_resonance_key("analytical-fast-debug")
    personas = (LUA, ELRO, RIRI, NANA)

    def scores() -> list[float]:
        return [persona.match_score(key, p) for p in personas]

    result = benchmark(scores)
    assert max(range(4), key=result.__getitem__) == 1 and result[1] == 1.0


def test_build_prompt_with_trimming(benchmark: BenchmarkFixture) -> None:
    context = [
        (f"이전 대화 {i}: 파이썬 KeyError 와 딕셔너리 사용법 설명 " * 3, i / 20) for i in range(20)
    ]
    full = persona.build_prompt(ELRO, "analytical-fast-debug", context, "KeyError가 나요", 100_000)
    budget = full.tokens // 2
    prompt = benchmark(
        persona.build_prompt, ELRO, "analytical-fast-debug", context, "KeyError가 나요", budget
    )
    assert prompt.tokens <= budget
    assert [d.index for d in prompt.dropped] == list(range(len(prompt.dropped)))
    texts = [prompt.system_instruction] + [p["text"] for p in prompt.contents[0]["parts"]]
    assert prompt.tokens == sum(map(estimate_tokens, texts))
