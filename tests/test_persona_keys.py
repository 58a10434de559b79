"""Personas as data and resonance keys: what the router, the prompt builder and users rely on."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from lumengate import persona
from lumengate.errors import InvalidArgument
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
        assert 30 <= len(p.keywords_en) <= 60 and 30 <= len(p.keywords_ko) <= 60
        assert len(set(p.keywords_en)) == len(p.keywords_en)
        assert len(set(p.keywords_ko)) == len(p.keywords_ko)
        assert p.name.lower() == p.id and p.voice.startswith(f"You are {p.name}")


def test_korean_keywords_are_korean_and_english_keywords_are_not() -> None:
    def hangul(text: str) -> bool:
        return any("\uac00" <= ch <= "\ud7a3" for ch in text)

    for p in persona.builtin_personas():
        assert all(hangul(k) for k in p.keywords_ko), p.id
        assert not any(hangul(k) for k in p.keywords_en), p.id


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
    yaml = pytest.importorskip("yaml")
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
