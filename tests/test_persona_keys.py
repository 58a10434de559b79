"""Personas as data and resonance keys: what the router, the prompt builder and users rely on."""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumengate import persona
from lumengate.errors import InvalidArgument, ParseError
from lumengate.persona import Persona

ISSUE_PERSONAS = {
    # id: (emoji, tone, pace, intents that the issue's definition implies)
    "lua": ("🌙", "warm", "slow", {"reflect", "comfort", "motivate"}),
    "elro": ("🔧", "analytical", "fast", {"debug"}),
    "riri": ("🌏", "curious", "medium", {"plan", "decide", "career_planning"}),
    "nana": ("✒️", "formal", "medium", {"write", "edit", "summarize"}),
}


def persona_dict(**changes: Any) -> dict[str, Any]:
    data = persona.builtin_personas()[0].to_dict()
    data.update(changes)
    return data


# Personas ---------------------------------------------------------------------------------


def test_builtin_personas_are_the_four_of_the_issue_in_order() -> None:
    personas = persona.builtin_personas()
    assert [p.id for p in personas] == ["lua", "elro", "riri", "nana"]
    for p in personas:
        emoji, tone, pace, intents = ISSUE_PERSONAS[p.id]
        assert (p.emoji, p.tone, p.pace) == (emoji, tone, pace)
        assert intents <= set(p.intents)
        assert 30 <= len(p.keywords_en) <= 160 and 30 <= len(p.keywords_ko) <= 160
        assert len(set(p.keywords_en)) == len(p.keywords_en)
        assert len(set(p.keywords_ko)) == len(p.keywords_ko)
        assert p.name.lower() == p.id and p.voice.startswith(f"You are {p.name}")


def test_korean_keywords_are_korean_and_english_keywords_are_not() -> None:
    def hangul(text: str) -> bool:
        return any("\uac00" <= ch <= "\ud7a3" for ch in text)

    for p in persona.builtin_personas():
        assert all(hangul(k) for k in p.keywords_ko), p.id
        assert not any(hangul(k) for k in p.keywords_en), p.id


def test_builtin_keywords_are_normalised_and_belong_to_one_persona() -> None:
    # The lexicon matches normalised query text, so a keyword that is not NFC and case-folded
    # could never match; a keyword of two personas would be evidence for both at once.
    owners: dict[str, list[str]] = {}
    for p in persona.builtin_personas():
        for keyword in (*p.keywords_en, *p.keywords_ko):
            assert keyword == unicodedata.normalize("NFC", keyword).casefold(), keyword
            assert keyword == keyword.strip(), keyword
            owners.setdefault(keyword, []).append(p.id)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_builtin_file_matches_the_loaded_personas() -> None:
    path = Path(persona.__file__).parent / "data" / "personas.json"
    assert persona.load_personas(path) == persona.builtin_personas()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [Persona.from_dict(d).to_dict() for d in document["personas"]] == document["personas"]


def test_dict_round_trip_and_list_inputs_become_tuples() -> None:
    for p in persona.builtin_personas():
        assert Persona.from_dict(p.to_dict()) == p
        assert hash(Persona.from_dict(p.to_dict())) == hash(p)
    lua = persona.builtin_personas()[0]
    made = Persona(
        id="x",
        name="X",
        emoji="x",
        description="d",
        tone="calm",
        pace="slow",
        intents=["reflect"],  # type: ignore[arg-type]
        keywords_en=["a"],  # type: ignore[arg-type]
        keywords_ko=["가"],  # type: ignore[arg-type]
        voice=lua.voice,
    )
    assert made.intents == ("reflect",) and made.keywords_ko == ("가",)


@pytest.mark.parametrize(
    ("changes", "field", "mentions"),
    [
        ({"id": "Lua"}, "id", "lowercase identifier"),
        ({"id": "1lua"}, "id", "lowercase identifier"),
        ({"id": "my-persona"}, "id", "lowercase identifier"),
        ({"tone": "grumpy"}, "tone", "calm, warm, curious, analytical"),
        ({"pace": "glacial"}, "pace", "slow, medium, fast"),
        ({"intents": []}, "intents", "at least one"),
        ({"intents": ["reflect", "nap"]}, "intents[1]", "career_planning"),
        ({"intents": ["reflect", "reflect"]}, "intents", "duplicates"),
        ({"intents": "reflect"}, "intents", "list of strings"),
        ({"name": " "}, "name", "non-empty"),
        ({"voice": None}, "voice", "non-empty"),
        ({"keywords": {"en": ["ok"]}}, "keywords", "'en' and 'ko'"),
        ({"keywords": {"en": ["ok", ""], "ko": ["네"]}}, "keywords.en[1]", "non-empty"),
        ({"colour": "blue"}, "persona", "unknown keys ['colour']"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_persona_fields_name_the_field(
    changes: dict[str, Any], field: str, mentions: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(mentions)) as info:
        Persona.from_dict(persona_dict(**changes))
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_missing_key_is_named() -> None:
    data = persona_dict()
    del data["voice"]
    with pytest.raises(InvalidArgument, match=r"missing keys \['voice'\]"):
        Persona.from_dict(data)


def test_load_personas_from_json_list_and_yaml(tmp_path: Path) -> None:
    import yaml

    personas = persona.builtin_personas()
    as_list = tmp_path / "personas.json"
    as_list.write_text(json.dumps([p.to_dict() for p in personas[:2]]), encoding="utf-8")
    assert persona.load_personas(as_list) == personas[:2]
    as_yaml = tmp_path / "personas.yml"
    as_yaml.write_text(
        yaml.safe_dump({"personas": [p.to_dict() for p in personas]}, allow_unicode=True),
        encoding="utf-8",
    )
    assert persona.load_personas(str(as_yaml)) == personas


def test_yaml_without_pyyaml_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "personas.yaml"
    path.write_text("personas: []\n", encoding="utf-8")
    # None in sys.modules makes any import of the name fail, as if PyYAML were not installed.
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match="PyYAML"):
        persona.load_personas(path)


@pytest.mark.parametrize(
    ("name", "content", "field", "mentions"),
    [
        ("p.txt", "[]", "path", ".json, .yaml, .yml"),
        ("p.json", "{not json", "path", "invalid JSON"),
        ("p.json", "[]", "personas", "non-empty list"),
        ("p.json", '{"people": []}', "personas", "'personas' list"),
    ],
    ids=["suffix", "syntax", "empty", "no-personas-key"],
)
def test_load_personas_bad_files(
    tmp_path: Path, name: str, content: str, field: str, mentions: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidArgument, match=mentions) as info:
        persona.load_personas(path)
    assert info.value.field == field


def test_load_personas_rejects_duplicate_ids(tmp_path: Path) -> None:
    lua = persona.builtin_personas()[0].to_dict()
    path = tmp_path / "p.json"
    path.write_text(json.dumps([lua, lua]), encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"duplicate persona ids \['lua'\]"):
        persona.load_personas(path)


# Resonance keys ---------------------------------------------------------------------------

VOCABULARY = persona.Vocabulary.default()
RESONANCE_JSON = Path(persona.__file__).parent / "data" / "resonance.json"


def levenshtein(a: str, b: str) -> int:
    """The textbook recursive definition, memoised: an independent check of the core's DP."""

    @functools.cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def expected_lenient(part: str, word: str) -> tuple[str, str | None] | None:
    """(value, reason) the issue's rule gives for an already normalised word, or None."""
    values = VOCABULARY.values(part)  # type: ignore[arg-type]
    if word in values:
        return word, None
    synonyms = [(w, v) for w, v in VOCABULARY.synonyms.items() if v in values]
    for w, v in synonyms:
        if w == word:
            return v, "synonym"
    candidates = [(v, v) for v in values] + synonyms
    # A near miss: at most 2 edits, and at most half of the shorter of the two words.
    distances = [
        (d, order, v)
        for order, (w, v) in enumerate(candidates)
        if (d := levenshtein(word, w)) <= 2 and 2 * d <= min(len(word), len(w))
    ]
    if not distances:
        return None
    best = min(distances)
    return best[2], "edit_distance"


def test_the_issue_example() -> None:
    key = persona.parse_resonance_key("Calm-slow-career-planning", lenient=False)
    assert (key.tone, key.pace, key.intent) == ("calm", "slow", "career_planning")
    assert str(key) == "calm-slow-career_planning" and key.mappings == ()
    assert persona.parse_resonance_key(str(key)) == key


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("calm", ("calm", None, None)),
        ("calm-slow", ("calm", "slow", None)),
        ("calm-slow-learn", ("calm", "slow", "learn")),
        ("CALM", ("calm", None, None)),
        ("  Warm \t- FAST  ", ("warm", "fast", None)),
        ("calm - slow - Career_Planning ", ("calm", "slow", "career_planning")),
        ("calm-slow-career planning", ("calm", "slow", "career_planning")),
        ("calm-slow-career--planning", ("calm", "slow", "career_planning")),
        ("\u3000calm\u3000", ("calm", None, None)),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_partial_keys_case_and_blanks(text: str, parts: tuple[str | None, ...]) -> None:
    key = persona.parse_resonance_key(text)
    assert (key.tone, key.pace, key.intent) == parts
    assert str(key) == "-".join(p for p in parts if p)


def test_korean_and_english_synonyms_in_lenient_mode() -> None:
    key = persona.parse_resonance_key("차분-느리게-커리어", lenient=True)
    assert str(key) == "calm-slow-career_planning"
    assert [(m.part, m.given, m.mapped_to, m.reason) for m in key.mappings] == [
        ("tone", "차분", "calm", "synonym"),
        ("pace", "느리게", "slow", "synonym"),
        ("intent", "커리어", "career_planning", "synonym"),
    ]
    key = persona.parse_resonance_key("Relaxed-quickly-Debugging", lenient=True)
    assert str(key) == "calm-fast-debug"
    assert {m.reason for m in key.mappings} == {"synonym"}


def test_decomposed_korean_equals_composed_korean() -> None:
    text = "따뜻한-천천히-진로 계획"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text and len(decomposed) > len(text)
    composed_key = persona.parse_resonance_key(text, lenient=True)
    decomposed_key = persona.parse_resonance_key(decomposed, lenient=True)
    assert composed_key == decomposed_key
    assert str(decomposed_key) == "warm-slow-career_planning"
    assert [m.mapped_to for m in decomposed_key.mappings] == ["warm", "slow", "career_planning"]
    # Problems quote the text as typed, but find the same parts and suggestions.
    problems = [(p.part, p.suggestion) for p in persona.validate_resonance_key(decomposed)]
    assert problems == [(p.part, p.suggestion) for p in persona.validate_resonance_key(text)]
    assert problems == [("tone", "warm"), ("pace", "slow"), ("intent", "career_planning")]


def test_strict_rejects_what_lenient_maps() -> None:
    with pytest.raises(ParseError) as info:
        persona.parse_resonance_key("차분-slow")
    assert info.value.field == "tone"
    assert isinstance(info.value, InvalidArgument) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert all(tone in message for tone in VOCABULARY.tones)
    assert "calm" in message and "synonym" in message
    lenient = persona.parse_resonance_key("차분-slow", lenient=True)
    assert str(lenient) == "calm-slow"


def test_lenient_still_rejects_what_is_not_near() -> None:
    with pytest.raises(ParseError, match="unknown intent 'quantum chromodynamics'") as info:
        persona.parse_resonance_key("calm-slow-quantum chromodynamics", lenient=True)
    assert info.value.field == "intent"


@pytest.mark.parametrize(
    ("text", "part"),
    [("calm-f", "pace"), ("ok", "tone"), ("x", "tone"), ("calm-slow-zz", "intent"), ("hi", "tone")],
)
def test_lenient_mode_does_not_map_words_too_short_to_be_near_misses(text: str, part: str) -> None:
    # Every two-letter word is two edits from every two-syllable Korean synonym (차분, 느린…),
    # so a bound on edits alone would turn any short word into some value.
    with pytest.raises(ParseError, match=part):
        persona.parse_resonance_key(text, lenient=True)
    assert any(p.part == part for p in persona.validate_resonance_key(text))


def test_lenient_mode_maps_a_swapped_pair_of_letters() -> None:
    key = persona.parse_resonance_key("clam-slwo", lenient=True)
    assert (key.tone, key.pace) == ("calm", "slow")
    assert [m.reason for m in key.mappings] == ["edit_distance", "edit_distance"]


def test_ties_go_to_the_earlier_vocabulary_value() -> None:
    # "walm" is one edit from both "calm" (first tone) and "warm" (second).
    assert levenshtein("walm", "calm") == levenshtein("walm", "warm") == 1
    assert persona.parse_resonance_key("walm", lenient=True).tone == "calm"


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[str, str]:
    part = draw(st.sampled_from(["tone", "pace", "intent"]))
    values = VOCABULARY.values(part)  # type: ignore[arg-type]
    words = [*values, *(w for w, v in VOCABULARY.synonyms.items() if v in values)]
    word = list(draw(st.sampled_from(words)))
    alphabet = _LETTERS + "가나다차분"
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "delete", "substitute"]))
        at = draw(st.integers(0, len(word)))
        letter = draw(st.sampled_from(alphabet))
        if op == "insert":
            word.insert(at, letter)
        elif word and at < len(word):
            if op == "delete" and len(word) > 1:
                del word[at]
            else:
                word[at] = letter
    return part, "".join(word).strip("_")


@given(near_misses())
def test_lenient_mapping_matches_brute_force_levenshtein(case: tuple[str, str]) -> None:
    part, word = case
    if not word:
        return
    text = {"tone": word, "pace": f"calm-{word}", "intent": f"calm-slow-{word}"}[part]
    expected = expected_lenient(part, word)
    if expected is None:
        with pytest.raises(ParseError):
            persona.parse_resonance_key(text, lenient=True)
        return
    key = persona.parse_resonance_key(text, lenient=True)
    assert getattr(key, part) == expected[0]
    mappings = [(m.part, m.given, m.mapped_to, m.reason) for m in key.mappings]
    if expected[1] is None:
        assert mappings == []
    else:
        assert mappings == [(part, word, expected[0], expected[1])]


def test_validate_lists_every_problem() -> None:
    problems = persona.validate_resonance_key("clam-sloow-quantum physics")
    assert [(p.part, p.given, p.suggestion) for p in problems] == [
        ("tone", "clam", "calm"),
        ("pace", "sloow", "slow"),
        ("intent", "quantum physics", None),
    ]
    assert problems[0].allowed == VOCABULARY.tones and problems[1].allowed == VOCABULARY.paces
    assert problems[2].allowed == VOCABULARY.intents
    assert all(p.message.startswith(f"{p.part}: ") for p in problems)
    with pytest.raises(ParseError) as info:
        persona.parse_resonance_key("clam-sloow-quantum physics")
    assert info.value.field == "tone"
    assert all(p.message in str(info.value) for p in problems[1:])
    assert persona.validate_resonance_key("calm-slow-learn") == []


@pytest.mark.parametrize(
    ("text", "part", "mentions"),
    [
        ("", "key", "empty or blank"),
        ("   \t ", "key", "empty or blank"),
        ("calm--learn", "pace", "is empty"),
        ("calm-slow-", "intent", "is empty"),
        ("-slow", "tone", "is empty"),
        ("calm slow", "tone", "not a single word"),
        ("calm-very slow", "pace", "not a single word"),
        ("calm-" + "x" * 300, "key", "at most 256 bytes"),
        ("차분" * 50, "key", "at most 256 bytes"),
    ],
    ids=[
        "empty",
        "blank",
        "empty-pace",
        "empty-intent",
        "empty-tone",
        "two-words",
        "two-paces",
        "too-long",
        "too-long-korean",
    ],
)
def test_malformed_keys(text: str, part: str, mentions: str) -> None:
    with pytest.raises(ParseError, match=mentions) as info:
        persona.parse_resonance_key(text, lenient=True)
    assert info.value.field == part
    assert persona.validate_resonance_key(text)[0].part == part


@pytest.mark.parametrize("text", [None, 3, b"calm", ["calm"]], ids=repr)
def test_non_str_keys_are_type_errors(text: object) -> None:
    with pytest.raises(TypeError, match="text: expected str"):
        persona.parse_resonance_key(text)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text: expected str"):
        persona.validate_resonance_key(text)  # type: ignore[arg-type]


def test_lone_surrogates_are_value_errors() -> None:
    with pytest.raises(InvalidArgument, match="text: is not valid Unicode") as info:
        persona.parse_resonance_key("calm\ud800")
    assert info.value.field == "text"


@pytest.mark.parametrize(
    "kwargs",
    [{"pace": "slow"}, {"tone": "calm", "intent": "learn"}, {"tone": "Calm"}, {"tone": "a-b"}],
    ids=repr,
)
def test_resonance_key_values_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        persona.ResonanceKey(**kwargs)


def test_parsing_from_many_threads_agrees() -> None:
    texts = [
        "calm-slow-learn",
        "차분-느리게-커리어",
        "walm-fst-debuging",
        "formal-medium-edit",
    ] * 50
    expected = [persona.parse_resonance_key(t, lenient=True) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: persona.parse_resonance_key(t, lenient=True), texts))
    assert got == expected
    assert [g.mappings for g in got] == [e.mappings for e in expected]


# Vocabulary -------------------------------------------------------------------------------


def test_default_vocabulary_is_the_issues() -> None:
    assert VOCABULARY.tones == (
        "calm", "warm", "curious", "analytical", "urgent", "playful", "formal", "anxious",
    )  # fmt: skip
    assert VOCABULARY.paces == ("slow", "medium", "fast")
    assert VOCABULARY.intents == (
        "learn", "debug", "build", "plan", "decide", "explore", "reflect", "comfort",
        "motivate", "write", "edit", "summarize", "career_planning",
    )  # fmt: skip
    for word, value in {"차분": "calm", "느리게": "slow", "커리어": "career_planning",
                        "debugging": "debug"}.items():  # fmt: skip
        assert VOCABULARY.synonyms[word] == value
    assert persona.Vocabulary.default() is VOCABULARY


def test_similarity_tables_follow_the_shipped_data() -> None:
    data = json.loads(RESONANCE_JSON.read_text(encoding="utf-8"))
    for part in ("tone", "intent"):
        listed = {frozenset((a, b)): value for a, b, value in data[f"{part}_similarity"]}
        values = VOCABULARY.values(part)
        for a in values:
            for b in values:
                got = VOCABULARY.similarity(part, a, b)
                expected = 1.0 if a == b else listed.get(frozenset((a, b)), 0.0)
                assert got == expected, (part, a, b)
                assert 0.0 <= got <= 1.0
                assert got == VOCABULARY.similarity(part, b, a)


def test_extend_returns_a_new_vocabulary() -> None:
    bigger = VOCABULARY.extend(
        tones=["stoic"],
        paces=["frantic"],
        synonyms={"담담": "stoic"},
        tone_similarity=[("stoic", "calm", 0.8)],
    )
    assert "stoic" not in VOCABULARY.tones and bigger.tones[-1] == "stoic"
    assert str(persona.parse_resonance_key("담담-frantic", lenient=True, vocabulary=bigger)) == (
        "stoic-frantic"
    )
    with pytest.raises(ParseError):
        persona.parse_resonance_key("stoic")
    assert bigger.similarity("tone", "calm", "stoic") == 0.8
    # Pace similarity spreads over the longer scale: 1 - |Δ| / (paces - 1).
    assert bigger.similarity("pace", "slow", "fast") == pytest.approx(1 - 2 / 3)
    assert VOCABULARY.similarity("pace", "slow", "fast") == 0.0
    assert persona.Vocabulary.from_dict(bigger.to_dict()) == bigger


@pytest.mark.parametrize(
    ("changes", "field", "mentions"),
    [
        ({"tones": ["calm"]}, "tones", "already a tone"),
        ({"intents": ["slow"]}, "intents", "already a pace"),
        ({"tones": ["Loud"]}, "tones", "lowercase identifier"),
        ({"tones": ["very-loud"]}, "tones", "lowercase identifier"),
        ({"synonyms": {"zzz": "sleepy"}}, "synonyms", "not a tone, pace or intent"),
        ({"synonyms": {"CALM": "warm"}}, "synonyms", "already a value"),
        ({"synonyms": {"차분": "warm"}}, "synonyms", "maps to both"),
        ({"tone_similarity": [("calm", "learn", 0.5)]}, "tone_similarity", "not a tone"),
        ({"tone_similarity": [("calm", "warm", 1.5)]}, "tone_similarity", "outside [0, 1]"),
        ({"tone_similarity": [("warm", "calm", 0.2)]}, "tone_similarity", "given twice"),
        ({"tone_similarity": [("calm", "calm", 0.2)]}, "tone_similarity", "always 1"),
        ({"tones": "calm"}, "tones", "list of strings"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_bad_vocabulary_extensions(changes: dict[str, Any], field: str, mentions: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(mentions)) as info:
        VOCABULARY.extend(**changes)
    assert info.value.field == field


def test_personas_may_use_an_extended_vocabulary(tmp_path: Path) -> None:
    bigger = VOCABULARY.extend(tones=["stoic"])
    data = persona_dict(id="stoa", tone="stoic")
    with pytest.raises(InvalidArgument, match="unknown tone 'stoic'"):
        Persona.from_dict(data)
    assert Persona.from_dict(data, vocabulary=bigger).tone == "stoic"
    path = tmp_path / "p.json"
    path.write_text(json.dumps([data]), encoding="utf-8")
    assert persona.load_personas(path, vocabulary=bigger)[0].id == "stoa"


# Match score ------------------------------------------------------------------------------


@st.composite
def keys(draw: st.DrawFn) -> persona.ResonanceKey:
    n = draw(st.integers(0, 3))
    parts = [
        draw(st.sampled_from(VOCABULARY.tones)),
        draw(st.sampled_from(VOCABULARY.paces)),
        draw(st.sampled_from(VOCABULARY.intents)),
    ]
    tone, pace, intent = (value if i < n else None for i, value in enumerate(parts))
    return persona.ResonanceKey(tone, pace, intent)


def reference_match(key: persona.ResonanceKey, tone: str, pace: str, intents: list[str]) -> float:
    table = json.loads(RESONANCE_JSON.read_text(encoding="utf-8"))

    def similarity(part: str, a: str, b: str) -> float:
        if a == b:
            return 1.0
        if part == "pace":
            order = table["paces"]
            return float(1 - abs(order.index(a) - order.index(b)) / 2)
        pairs = {frozenset((x, y)): v for x, y, v in table[f"{part}_similarity"]}
        return float(pairs.get(frozenset((a, b)), 0.0))

    scores = []
    if key.tone:
        scores.append(similarity("tone", key.tone, tone))
    if key.pace:
        scores.append(similarity("pace", key.pace, pace))
    if key.intent:
        scores.append(max(similarity("intent", key.intent, i) for i in intents))
    return sum(scores) / len(scores) if scores else 0.5


@given(keys(), st.sampled_from(persona.builtin_personas()))
def test_match_score_against_personas(key: persona.ResonanceKey, profile: Persona) -> None:
    score = persona.match_score(key, profile)
    assert 0.0 <= score <= 1.0
    expected = reference_match(key, profile.tone, profile.pace, list(profile.intents))
    assert score == pytest.approx(expected, abs=1e-12)


@given(keys(), keys())
def test_match_score_between_keys(key: persona.ResonanceKey, other: persona.ResonanceKey) -> None:
    score = persona.match_score(key, other)
    assert 0.0 <= score <= 1.0
    if key.tone and other.tone and key.pace and other.pace:
        # The table is symmetric, so fully comparable keys score the same both ways.
        if bool(key.intent) == bool(other.intent):
            assert score == pytest.approx(persona.match_score(other, key))
    if key.tone:
        assert persona.match_score(key, key) == 1.0
    else:
        assert score == 0.5


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("slow", "slow", 1.0),
        ("slow", "medium", 0.5),
        ("slow", "fast", 0.0),
        ("fast", "medium", 0.5),
    ],
)
def test_pace_is_ordinal(first: str, second: str, expected: float) -> None:
    key = persona.ResonanceKey("calm", first)
    assert persona.match_score(key, persona.ResonanceKey("calm", second)) == (1 + expected) / 2


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("warm-slow-comfort", "lua"),
        ("anxious-slow-reflect", "lua"),
        ("analytical-fast-debug", "elro"),
        ("curious-medium-career_planning", "riri"),
        ("formal-medium-edit", "nana"),
    ],
)
def test_each_persona_matches_its_own_resonance_best(text: str, best: str) -> None:
    scores = {p.id: persona.match_score(text, p) for p in persona.builtin_personas()}
    assert max(scores, key=scores.__getitem__) == best
    assert sorted(scores.values())[-1] > sorted(scores.values())[-2]


def test_match_score_bad_inputs() -> None:
    lua = persona.builtin_personas()[0]
    with pytest.raises(TypeError, match="profile"):
        persona.match_score("calm", "calm")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key"):
        persona.match_score(3, lua)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="unknown tone 'stoic'"):
        persona.match_score(persona.ResonanceKey("stoic"), lua)
    with pytest.raises(ParseError):
        persona.match_score("grumpy", lua)
