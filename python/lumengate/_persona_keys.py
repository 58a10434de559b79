"""Personas as data (part of :mod:`lumengate.persona`).

A :class:`Persona` is a plain, frozen value: who answers, in which voice, with which preferred
resonance (tone, pace, intents) and which Korean and English keywords point to it. The four
built-in personas ship as package data and more can be loaded from JSON or YAML::

    >>> from lumengate import persona
    >>> [p.id for p in persona.builtin_personas()]
    ['lua', 'elro', 'riri', 'nana']
    >>> lua = persona.builtin_personas()[0]
    >>> lua.emoji, lua.tone, lua.pace, lua.intents
    ('🌙', 'warm', 'slow', ('reflect', 'comfort', 'motivate'))
    >>> persona.Persona.from_dict(lua.to_dict()) == lua
    True
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from lumengate.errors import invalid

__all__ = [
    "Persona",
    "builtin_personas",
    "load_personas",
]

DEFAULT_TONES = ("calm", "warm", "curious", "analytical", "urgent", "playful", "formal", "anxious")
DEFAULT_PACES = ("slow", "medium", "fast")
DEFAULT_INTENTS = (
    "learn",
    "debug",
    "build",
    "plan",
    "decide",
    "explore",
    "reflect",
    "comfort",
    "motivate",
    "write",
    "edit",
    "summarize",
    "career_planning",
)

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_TEXT_FIELDS = ("name", "emoji", "description", "voice")
_DICT_KEYS = (
    "id",
    "name",
    "emoji",
    "description",
    "tone",
    "pace",
    "intents",
    "keywords",
    "voice",
)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(values)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"must be a non-empty string, got {value!r}")
    return value


def _strings(value: object, field: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise invalid(field, f"must be a list of strings, got {type(value).__name__}")
    items = tuple(value)
    for index, item in enumerate(items):
        _text(item, f"{field}[{index}]")
    return items


@dataclass(frozen=True)
class Persona:
    """One persona: identity, voice, preferred resonance and routing keywords.

    ``id`` is a lowercase identifier (``[a-z][a-z0-9_]*``) and is part of the API. ``tone`` and
    ``pace`` are single values of the resonance vocabulary and ``intents`` a non-empty list of
    its intents (the persona's preferred resonance, used by :func:`match_score`). Keyword
    lists may be given as any iterable of strings; they are stored as tuples.
    """

    id: str
    name: str
    emoji: str
    description: str
    tone: str
    pace: str
    intents: tuple[str, ...]
    keywords_en: tuple[str, ...]
    keywords_ko: tuple[str, ...]
    voice: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise invalid(
                "id", f"must be a lowercase identifier like 'lua' or 'my_persona', got {self.id!r}"
            )
        for name in _TEXT_FIELDS:
            _text(getattr(self, name), name)
        if self.tone not in DEFAULT_TONES:
            raise invalid("tone", f"unknown tone {self.tone!r}; allowed: {_allowed(DEFAULT_TONES)}")
        if self.pace not in DEFAULT_PACES:
            raise invalid("pace", f"unknown pace {self.pace!r}; allowed: {_allowed(DEFAULT_PACES)}")
        intents = _strings(self.intents, "intents")
        if not intents:
            raise invalid("intents", "must name at least one intent")
        for index, intent in enumerate(intents):
            if intent not in DEFAULT_INTENTS:
                raise invalid(
                    f"intents[{index}]",
                    f"unknown intent {intent!r}; allowed: {_allowed(DEFAULT_INTENTS)}",
                )
        if len(set(intents)) != len(intents):
            raise invalid("intents", f"has duplicates: {list(intents)}")
        # Frozen: normalise list inputs to tuples so that personas hash and compare by value.
        object.__setattr__(self, "intents", intents)
        object.__setattr__(self, "keywords_en", _strings(self.keywords_en, "keywords_en"))
        object.__setattr__(self, "keywords_ko", _strings(self.keywords_ko, "keywords_ko"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Persona:
        """Build a persona from the JSON shape of ``personas.json`` (see :meth:`to_dict`)."""
        if not isinstance(data, Mapping):
            raise invalid("persona", f"must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_DICT_KEYS))
        if unknown:
            raise invalid("persona", f"unknown keys {unknown}; allowed: {_allowed(_DICT_KEYS)}")
        missing = [key for key in _DICT_KEYS if key not in data]
        if missing:
            raise invalid("persona", f"missing keys {missing}")
        keywords = data["keywords"]
        if not isinstance(keywords, Mapping) or set(keywords) != {"en", "ko"}:
            raise invalid("keywords", "must be a mapping with exactly the keys 'en' and 'ko'")
        return cls(
            id=data["id"],
            name=data["name"],
            emoji=data["emoji"],
            description=data["description"],
            tone=data["tone"],
            pace=data["pace"],
            intents=_strings(data["intents"], "intents"),
            keywords_en=_strings(keywords["en"], "keywords.en"),
            keywords_ko=_strings(keywords["ko"], "keywords.ko"),
            voice=data["voice"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: keywords nested as ``{"en": [...], "ko": [...]}``, lists not tuples."""
        return {
            "id": self.id,
            "name": self.name,
            "emoji": self.emoji,
            "description": self.description,
            "tone": self.tone,
            "pace": self.pace,
            "intents": list(self.intents),
            "keywords": {"en": list(self.keywords_en), "ko": list(self.keywords_ko)},
            "voice": self.voice,
        }


def _personas_from_document(document: object, source: str) -> tuple[Persona, ...]:
    if isinstance(document, Mapping):
        if "personas" not in document:
            raise invalid("personas", f"{source}: a mapping needs a 'personas' list")
        document = document["personas"]
    if not isinstance(document, list) or not document:
        raise invalid("personas", f"{source}: expected a non-empty list of personas")
    personas = tuple(Persona.from_dict(item) for item in document)
    ids = [p.id for p in personas]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise invalid("id", f"{source}: duplicate persona ids {duplicates}")
    return personas


def load_personas(path: str | PathLike[str]) -> tuple[Persona, ...]:
    """Personas from a JSON (``.json``) or YAML (``.yaml``/``.yml``) file, in file order.

    The document is either a list of persona mappings or ``{"personas": [...]}`` (the shape
    of the built-in ``personas.json``). YAML needs PyYAML (``pip install PyYAML``).
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise invalid("path", f"unsupported file type {suffix!r}; allowed: .json, .yaml, .yml")
    text = file.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise invalid("path", f"{file}: invalid JSON ({error})") from None
    else:
        try:
            # Imported by name so that PyYAML stays optional for users and for type checking.
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise ImportError(
                f"reading {file} needs PyYAML; install it with `pip install PyYAML`"
            ) from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise invalid("path", f"{file}: invalid YAML ({error})") from None
    return _personas_from_document(document, str(file))


@functools.cache
def builtin_personas() -> tuple[Persona, ...]:
    """The four built-in personas, in the order lua, elro, riri, nana."""
    text = resources.files("lumengate").joinpath("data/personas.json").read_text("utf-8")
    return _personas_from_document(json.loads(text), "lumengate/data/personas.json")
