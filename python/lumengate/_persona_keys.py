"""Personas as data, resonance keys and prompt building (part of :mod:`lumengate.persona`).

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

A resonance key (``tone-pace-intent``) says how the user wants to be answered; the native
core parses it against a :class:`Vocabulary` and :func:`match_score` compares it with a
persona's preferred resonance. :func:`build_prompt` turns persona, key, context and query
into a Gemini request within a token budget.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Literal, TypeAlias, cast

from lumengate._native import core
from lumengate.errors import invalid
from lumengate.tokens import estimate_tokens

__all__ = [
    "ContextItem",
    "KeyMapping",
    "KeyProblem",
    "Persona",
    "Prompt",
    "ResonanceKey",
    "Vocabulary",
    "build_prompt",
    "builtin_personas",
    "load_personas",
    "match_score",
    "parse_resonance_key",
    "validate_resonance_key",
]

_native_keys = core.persona

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
    ``pace`` are single values of the default resonance vocabulary (see :meth:`from_dict` for
    another) and ``intents`` a non-empty list of its intents: the persona's preferred
    resonance, used by :func:`match_score`. Keyword lists may be given as any iterable of
    strings; they are stored as tuples.
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
        vocabulary = _validating_vocabulary.get() or _default_vocabulary()
        for part, value, allowed in (
            ("tone", self.tone, vocabulary.tones),
            ("pace", self.pace, vocabulary.paces),
        ):
            if value not in allowed:
                raise invalid(part, f"unknown {part} {value!r}; allowed: {_allowed(allowed)}")
        intents = _strings(self.intents, "intents")
        if not intents:
            raise invalid("intents", "must name at least one intent")
        for index, intent in enumerate(intents):
            if intent not in vocabulary.intents:
                raise invalid(
                    f"intents[{index}]",
                    f"unknown intent {intent!r}; allowed: {_allowed(vocabulary.intents)}",
                )
        if len(set(intents)) != len(intents):
            raise invalid("intents", f"has duplicates: {list(intents)}")
        # Frozen: normalise list inputs to tuples so that personas hash and compare by value.
        object.__setattr__(self, "intents", intents)
        object.__setattr__(self, "keywords_en", _strings(self.keywords_en, "keywords_en"))
        object.__setattr__(self, "keywords_ko", _strings(self.keywords_ko, "keywords_ko"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], vocabulary: Vocabulary | None = None) -> Persona:
        """Build a persona from the JSON shape of ``personas.json`` (see :meth:`to_dict`).

        Tone, pace and intents are checked against ``vocabulary`` (the default one when
        None), so personas may use values added with :meth:`Vocabulary.extend`.
        """
        # A context variable (not a field) carries the vocabulary into __post_init__, so that
        # personas stay plain values and concurrent loads in other threads are unaffected.
        token = _validating_vocabulary.set(_vocabulary(vocabulary))
        try:
            return cls._from_dict(data)
        finally:
            _validating_vocabulary.reset(token)

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> Persona:
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


def _personas_from_document(
    document: object, source: str, vocabulary: Vocabulary | None = None
) -> tuple[Persona, ...]:
    if isinstance(document, Mapping):
        if "personas" not in document:
            raise invalid("personas", f"{source}: a mapping needs a 'personas' list")
        document = document["personas"]
    if not isinstance(document, list) or not document:
        raise invalid("personas", f"{source}: expected a non-empty list of personas")
    personas = tuple(Persona.from_dict(item, vocabulary) for item in document)
    ids = [p.id for p in personas]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise invalid("id", f"{source}: duplicate persona ids {duplicates}")
    return personas


def load_personas(
    path: str | PathLike[str], vocabulary: Vocabulary | None = None
) -> tuple[Persona, ...]:
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
    return _personas_from_document(document, str(file), vocabulary)


@functools.cache
def builtin_personas() -> tuple[Persona, ...]:
    """The four built-in personas, in the order lua, elro, riri, nana."""
    text = resources.files("lumengate").joinpath("data/personas.json").read_text("utf-8")
    return _personas_from_document(json.loads(text), "lumengate/data/personas.json")


# Resonance keys ---------------------------------------------------------------------------

Part: TypeAlias = Literal["tone", "pace", "intent"]
_Reason: TypeAlias = Literal["synonym", "edit_distance"]
_ProblemPart: TypeAlias = Literal["key", "tone", "pace", "intent"]
_PARTS: tuple[Part, ...] = ("tone", "pace", "intent")
_validating_vocabulary: ContextVar[Vocabulary | None] = ContextVar(
    "_validating_vocabulary", default=None
)


def _str_tuple(value: object, field: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise invalid(field, f"must be a list of strings, got {type(value).__name__}")
    items = tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise invalid(f"{field}[{index}]", f"must be a string, got {type(item).__name__}")
        _text_argument(item, f"{field}[{index}]")
    return items


def _pairs(value: object, field: str) -> list[tuple[str, str, float]]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise invalid(field, f"must be a list of (a, b, similarity), got {type(value).__name__}")
    out = []
    for index, item in enumerate(value):
        if (
            not isinstance(item, (tuple, list))
            or len(item) != 3
            or not isinstance(item[0], str)
            or not isinstance(item[1], str)
            or isinstance(item[2], bool)
            or not isinstance(item[2], (int, float))
        ):
            raise invalid(f"{field}[{index}]", f"must be (a, b, similarity), got {item!r}")
        _text_argument(item[0], f"{field}[{index}][0]")
        _text_argument(item[1], f"{field}[{index}][1]")
        out.append((item[0], item[1], float(item[2])))
    return out


class Vocabulary:
    """The allowed tones, paces and intents of resonance keys, with synonyms and similarities.

    Paces are ordered (slow to fast). ``synonyms`` maps other words, Korean or English, to a
    value; lenient parsing uses them. The similarity tables give how close two tones or two
    intents are, for :func:`match_score`: symmetric, 1 on the diagonal, 0 for pairs not
    listed. A vocabulary is immutable; :meth:`extend` returns a new one::

        >>> from lumengate.persona import Vocabulary
        >>> v = Vocabulary.default()
        >>> v.paces
        ('slow', 'medium', 'fast')
        >>> v.synonyms["차분"], v.synonyms["debugging"]
        ('calm', 'debug')
        >>> v.similarity("tone", "calm", "warm") == v.similarity("tone", "warm", "calm")
        True
        >>> bigger = v.extend(tones=["stoic"], synonyms={"담담": "stoic"})
        >>> bigger.tones[-1], "stoic" in v.tones
        ('stoic', False)

    The defaults ship as ``lumengate/data/resonance.json``, which documents the tables.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        tones: Iterable[str],
        paces: Iterable[str],
        intents: Iterable[str],
        synonyms: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        tone_similarity: Iterable[tuple[str, str, float]] = (),
        intent_similarity: Iterable[tuple[str, str, float]] = (),
    ) -> None:
        pairs = list(synonyms.items() if isinstance(synonyms, Mapping) else synonyms or ())
        if any(not isinstance(pair, tuple) or len(pair) != 2 for pair in pairs):
            raise invalid("synonyms", "must be a mapping word -> value or (word, value) pairs")
        words = _str_tuple((word for word, _ in pairs), "synonyms")
        targets = _str_tuple((value for _, value in pairs), "synonyms")
        self._native: Any = _native_keys.Vocabulary(
            tones=list(_str_tuple(tones, "tones")),
            paces=list(_str_tuple(paces, "paces")),
            intents=list(_str_tuple(intents, "intents")),
            synonyms=list(zip(words, targets, strict=True)),
            tone_similarity=_pairs(tone_similarity, "tone_similarity"),
            intent_similarity=_pairs(intent_similarity, "intent_similarity"),
        )

    @classmethod
    def default(cls) -> Vocabulary:
        """The shipped vocabulary (the same object on every call)."""
        return _default_vocabulary()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabulary:
        """A vocabulary from the shape of ``resonance.json`` (extra keys are ignored)."""
        missing = [k for k in ("tones", "paces", "intents") if k not in data]
        if missing:
            raise invalid("vocabulary", f"missing keys {missing}")
        return cls(
            data["tones"],
            data["paces"],
            data["intents"],
            data.get("synonyms", {}),
            data.get("tone_similarity", ()),
            data.get("intent_similarity", ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The shape of ``resonance.json``; synonyms keyed by their normalised spelling."""
        return {
            "tones": list(self.tones),
            "paces": list(self.paces),
            "intents": list(self.intents),
            "synonyms": self.synonyms,
            "tone_similarity": [list(p) for p in self.similarity_table("tone")],
            "intent_similarity": [list(p) for p in self.similarity_table("intent")],
        }

    @property
    def tones(self) -> tuple[str, ...]:
        return tuple(self._native.values("tone"))

    @property
    def paces(self) -> tuple[str, ...]:
        """Ordered from slowest to fastest."""
        return tuple(self._native.values("pace"))

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self._native.values("intent"))

    @property
    def synonyms(self) -> dict[str, str]:
        """Word (NFC, case-folded, words joined by ``_``) -> value, in the order given."""
        return dict(self._native.synonyms)

    def values(self, part: Part) -> tuple[str, ...]:
        """The allowed values of ``"tone"``, ``"pace"`` or ``"intent"``."""
        return tuple(self._native.values(part))

    def similarity(self, part: Part, a: str, b: str) -> float:
        """How close two values of one part are, in [0, 1] (pace: 1 − |Δ| / (paces − 1))."""
        return float(self._native.similarity(part, a, b))

    def similarity_table(self, part: Literal["tone", "intent"]) -> tuple[tuple[str, str, float]]:
        """The listed (a, b, similarity) pairs of the tone or intent table."""
        return tuple(self._native.similarities(part))

    def extend(
        self,
        *,
        tones: Iterable[str] = (),
        paces: Iterable[str] = (),
        intents: Iterable[str] = (),
        synonyms: Mapping[str, str] | None = None,
        tone_similarity: Iterable[tuple[str, str, float]] = (),
        intent_similarity: Iterable[tuple[str, str, float]] = (),
    ) -> Vocabulary:
        """A new vocabulary with more values (new paces go after the fastest), synonyms and
        similarities; this one is unchanged."""
        if synonyms is not None and not isinstance(synonyms, Mapping):
            raise invalid("synonyms", f"must be a mapping word -> value, got {type(synonyms)}")
        # Pairs, not a merged dict, so that a word mapped anew to another value is reported.
        merged_synonyms = [*self.synonyms.items(), *(synonyms or {}).items()]
        return Vocabulary(
            [*self.tones, *_str_tuple(tones, "tones")],
            [*self.paces, *_str_tuple(paces, "paces")],
            [*self.intents, *_str_tuple(intents, "intents")],
            merged_synonyms,
            [*self.similarity_table("tone"), *_pairs(tone_similarity, "tone_similarity")],
            [*self.similarity_table("intent"), *_pairs(intent_similarity, "intent_similarity")],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Vocabulary(tones={self.tones}, paces={self.paces}, intents={self.intents}, "
            f"{len(self.synonyms)} synonyms)"
        )


@functools.cache
def _default_vocabulary() -> Vocabulary:
    text = resources.files("lumengate").joinpath("data/resonance.json").read_text("utf-8")
    return Vocabulary.from_dict(json.loads(text))


def _vocabulary(vocabulary: Vocabulary | None) -> Vocabulary:
    if vocabulary is None:
        return _default_vocabulary()
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary: expected a Vocabulary or None, got {type(vocabulary)}")
    return vocabulary


@dataclass(frozen=True)
class KeyMapping:
    """How lenient parsing read one part: ``given`` was mapped to ``mapped_to`` by ``reason``
    (``"synonym"`` or ``"edit_distance"``)."""

    part: Part
    given: str
    mapped_to: str
    reason: _Reason


@dataclass(frozen=True)
class KeyProblem:
    """One problem of a key text: the part (``"key"`` for the whole text), the text given,
    a message, the allowed values and, when lenient parsing would map it, the suggestion."""

    part: _ProblemPart
    given: str
    message: str
    allowed: tuple[str, ...]
    suggestion: str | None


_VALUE = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class ResonanceKey:
    """A parsed ``tone-pace-intent`` key; unset parts are None and fill from the left.

    ``str(key)`` is the canonical spelling: the set parts joined by ``-``, lowercase, with
    ``_`` between the intent's words (``calm-slow-career_planning``; ``""`` when nothing is
    set). Parsing that text gives the same key. ``mappings`` records what lenient parsing
    changed and does not take part in equality.
    """

    tone: str | None = None
    pace: str | None = None
    intent: str | None = None
    mappings: tuple[KeyMapping, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in _PARTS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not _VALUE.match(value)):
                raise invalid(name, f"must be None or a lowercase value like 'calm', got {value!r}")
        if (self.pace is not None and self.tone is None) or (
            self.intent is not None and self.pace is None
        ):
            raise invalid("key", "parts fill from the left: tone, tone-pace or tone-pace-intent")
        object.__setattr__(self, "mappings", tuple(self.mappings))

    def __str__(self) -> str:
        return "-".join(v for v in (self.tone, self.pace, self.intent) if v is not None)


# No size limit for the blank check: prompt queries and context are not routing queries.
_NO_SIZE_LIMIT = 1 << 62


def _check_query(query: str, field: str = "query") -> str:
    """``query`` if the router would read it: not empty and not only whitespace or invisible
    characters (the native check route() applies, so both refuse the same texts)."""
    _native_keys.normalize_query(query, _NO_SIZE_LIMIT, field)
    return query


def _text_argument(text: object, field: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{field}: expected str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise invalid(
            field, f"is not valid Unicode (lone surrogate at index {error.start})"
        ) from None
    return text


def parse_resonance_key(
    text: str, lenient: bool = False, vocabulary: Vocabulary | None = None
) -> ResonanceKey:
    """Parse ``tone-pace-intent`` (or ``tone`` or ``tone-pace``).

    The intent is everything after the second ``-``; ``-``, ``_`` and blanks between its words
    become ``_``. Text is NFC-normalised and case-folded and each part trimmed. Strict mode
    raises :class:`lumengate.errors.ParseError` (a ValueError) naming the first bad part and
    listing every problem with the allowed values; lenient mode maps synonyms and near misses
    (values or synonyms within edit distance 2 that change at most half of the shorter word, so
    ``clam`` is calm but ``f`` is not fast; smallest distance, then vocabulary order) and
    records each mapping::

        >>> from lumengate.persona import parse_resonance_key
        >>> key = parse_resonance_key("Calm-slow-career-planning")
        >>> key.tone, key.pace, key.intent, str(key)
        ('calm', 'slow', 'career_planning', 'calm-slow-career_planning')
        >>> str(parse_resonance_key(" warm - fast "))
        'warm-fast'
        >>> key = parse_resonance_key("차분-느리게-debuging", lenient=True)
        >>> str(key)
        'calm-slow-debug'
        >>> [(m.given, m.mapped_to, m.reason) for m in key.mappings][-1]
        ('debuging', 'debug', 'edit_distance')
        >>> parse_resonance_key("grumpy")
        Traceback (most recent call last):
        ...
        lumengate.errors.ParseError: tone: unknown tone 'grumpy'; allowed: calm, warm, ...
    """
    text = _text_argument(text, "text")
    if not isinstance(lenient, bool):
        raise TypeError(f"lenient: expected bool, got {type(lenient).__name__}")
    native = _vocabulary(vocabulary)._native
    tone, pace, intent, mappings = _native_keys.parse_resonance_key(text, native, lenient)
    return ResonanceKey(
        tone,
        pace,
        intent,
        tuple(KeyMapping(cast(Part, p), g, m, cast(_Reason, r)) for p, g, m, r in mappings),
    )


def validate_resonance_key(text: str, vocabulary: Vocabulary | None = None) -> list[KeyProblem]:
    """Every problem of ``text`` as a strict key (empty when it parses)::

    >>> from lumengate.persona import validate_resonance_key
    >>> [(p.part, p.suggestion) for p in validate_resonance_key("clam-sloow-nap")]
    [('tone', 'calm'), ('pace', 'slow'), ('intent', None)]
    >>> validate_resonance_key("calm-slow-learn")
    []
    """
    text = _text_argument(text, "text")
    native = _vocabulary(vocabulary)._native
    return [
        KeyProblem(cast(_ProblemPart, part), given, message, tuple(allowed), suggestion or None)
        for part, given, message, allowed, suggestion in _native_keys.validate_resonance_key(
            text, native
        )
    ]


def match_score(
    key: ResonanceKey | str,
    profile: Persona | ResonanceKey,
    vocabulary: Vocabulary | None = None,
) -> float:
    """How well ``profile`` (a persona's preferred resonance, or another key) fits ``key``.

    The mean over the parts set in both of a per-part similarity: 1 for equal values; pace by
    ordinal distance, 1 − |Δ| / (paces − 1) (1 − |Δ|/2 with slow, medium, fast); tone and
    intent from the vocabulary's similarity tables, the intent as the best over a persona's
    intents. 0.5 when no part can be compared. A ``str`` key is parsed strictly::

        >>> from lumengate import persona
        >>> lua, elro = persona.builtin_personas()[:2]
        >>> persona.match_score("warm-slow-comfort", lua)
        1.0
        >>> persona.match_score("warm-slow-comfort", elro) < 0.5
        True
        >>> persona.match_score(persona.ResonanceKey(), lua)
        0.5
    """
    if isinstance(key, str):
        key = parse_resonance_key(key, vocabulary=vocabulary)
    if not isinstance(key, ResonanceKey):
        raise TypeError(f"key: expected a ResonanceKey or str, got {type(key).__name__}")
    tone: str | None
    pace: str | None
    if isinstance(profile, Persona):
        tone, pace, intents = profile.tone, profile.pace, list(profile.intents)
    elif isinstance(profile, ResonanceKey):
        tone, pace = profile.tone, profile.pace
        intents = [profile.intent] if profile.intent is not None else []
    else:
        raise TypeError(
            f"profile: expected a Persona or ResonanceKey, got {type(profile).__name__}"
        )
    return float(
        _native_keys.match_score(
            key.tone, key.pace, key.intent, tone, pace, intents, _vocabulary(vocabulary)._native
        )
    )


# Prompt building --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextItem:
    """One context item as :func:`build_prompt` saw it: its position in ``context``, its
    text and its relevance (0.0 for a plain string)."""

    index: int
    text: str
    relevance: float


@dataclass(frozen=True)
class Prompt:
    """A Gemini prompt: the system instruction, ``contents`` in the REST shape
    (``[{"role": "user", "parts": [{"text": ...}, ...]}]``), the context items dropped to fit
    the token budget (in the order dropped) and the estimated tokens of the whole prompt."""

    system_instruction: str
    contents: list[dict[str, Any]]
    dropped: tuple[ContextItem, ...]
    tokens: int

    def to_request(self) -> dict[str, Any]:
        """The ``generateContent`` request body: ``systemInstruction`` plus ``contents``."""
        return {
            "systemInstruction": {"parts": [{"text": self.system_instruction}]},
            "contents": self.contents,
        }


def _guidance(persona: Persona, key: ResonanceKey | None) -> str:
    tone = key.tone if key is not None and key.tone is not None else None
    pace = key.pace if key is not None and key.pace is not None else None
    intent = key.intent if key is not None and key.intent is not None else None
    lines = [
        f"Tone: {tone or persona.tone}"
        + (" (the user asked for it)." if tone else " (your usual tone)."),
        f"Pace: {pace or persona.pace}"
        + (" (the user asked for it)." if pace else " (your usual pace)."),
    ]
    if intent:
        lines.append(f"The user's intent: {intent.replace('_', ' ')}.")
    lines.append("Answer in the language the user writes in (Korean, English or both).")
    return "\n".join(lines)


def _context_items(context: object) -> list[ContextItem]:
    if isinstance(context, (str, bytes)) or not isinstance(context, Iterable):
        raise invalid(
            "context", f"must be a sequence of strings or (text, relevance) pairs, got {context!r}"
        )
    items = []
    for index, item in enumerate(context):
        field_name = f"context[{index}]"
        if isinstance(item, str):
            text, relevance = item, 0.0
        elif isinstance(item, tuple) and len(item) == 2:
            text, score = item
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise invalid(field_name, f"relevance must be a number, got {score!r}")
            relevance = float(score)
            if not math.isfinite(relevance):
                raise invalid(field_name, f"relevance must be finite, got {score!r}")
        else:
            raise invalid(field_name, f"must be a string or a (text, relevance) pair, got {item!r}")
        if not isinstance(text, str) or not text.strip():
            raise invalid(field_name, f"text must be a non-empty string, got {text!r}")
        _text_argument(text, field_name)
        items.append(ContextItem(index, text, relevance))
    return items


def _parts(kept: Sequence[ContextItem], query: str) -> list[dict[str, str]]:
    if not kept:
        return [{"text": query}]
    blocks = [{"text": f"[context {item.index + 1}]\n{item.text}"} for item in kept]
    return [*blocks, {"text": f"[question]\n{query}"}]


def _prompt_tokens(system_instruction: str, parts: Sequence[Mapping[str, str]]) -> int:
    return estimate_tokens(system_instruction) + sum(estimate_tokens(p["text"]) for p in parts)


def build_prompt(
    persona: Persona,
    key: ResonanceKey | str | None,
    context: Sequence[str | tuple[str, float]],
    query: str | bytes,
    token_budget: int = 2048,
) -> Prompt:
    """Build a Gemini prompt for ``query`` answered by ``persona`` in the resonance of ``key``.

    ``key`` given as text is parsed leniently, as :meth:`Router.route` parses it, so a key the
    router accepted builds its prompt; ``query`` (``str`` or UTF-8 ``bytes``) must be one the
    router would route (not empty, not only whitespace or invisible characters).

    The system instruction is the persona's voice followed by the resonance in words (the
    key's parts, the persona's own tone and pace where the key leaves them unset). The user
    content holds each context item as a labelled block (``[context 2]``, numbered by position
    in ``context``) and then the query (``[question]``); with no context left the query stands
    alone. Context items are strings (relevance 0.0) or ``(text, relevance)`` pairs. While the
    estimate (:func:`lumengate.tokens.estimate_tokens`, summed over the system instruction and
    every part) exceeds ``token_budget``, the least relevant item is dropped, the oldest (first
    in ``context``) first among equals; the query is never dropped. If the system instruction
    and the query alone exceed the budget, :class:`lumengate.errors.InvalidArgument` (field
    ``token_budget``) says the minimum needed::

        >>> from lumengate import persona
        >>> lua = persona.builtin_personas()[0]
        >>> prompt = persona.build_prompt(
        ...     lua, "calm-slow-reflect", [("old note", 0.1), ("relevant note", 0.9)],
        ...     "요즘 너무 지쳐요", token_budget=200)
        >>> prompt.contents[0]["role"], len(prompt.contents[0]["parts"])
        ('user', 3)
        >>> prompt.tokens <= 200
        True
        >>> full = persona.build_prompt(lua, None, ["a", "b"], "hi", token_budget=10_000)
        >>> small = persona.build_prompt(lua, None, ["a", "b"], "hi", token_budget=full.tokens - 1)
        >>> [item.text for item in small.dropped], small.tokens < full.tokens
        (['a'], True)
    """
    if not isinstance(persona, Persona):
        raise TypeError(f"persona: expected a Persona, got {type(persona).__name__}")
    if isinstance(key, str):
        # Leniently, as Router.route reads a key given as text.
        key = parse_resonance_key(key, lenient=True)
    if key is not None and not isinstance(key, ResonanceKey):
        raise TypeError(f"key: expected a ResonanceKey, str or None, got {type(key).__name__}")
    if isinstance(query, bytes):
        try:
            query = query.decode("utf-8")
        except UnicodeDecodeError as error:
            raise invalid("query", f"is not valid UTF-8 (at byte {error.start})") from None
    query = _check_query(_text_argument(query, "query"))
    if isinstance(token_budget, bool) or not isinstance(token_budget, int) or token_budget < 1:
        raise invalid("token_budget", f"must be a whole number >= 1, got {token_budget!r}")
    items = _context_items(context)

    system_instruction = f"{persona.voice}\n\n{_guidance(persona, key)}"
    minimum = _prompt_tokens(system_instruction, _parts([], query))
    if minimum > token_budget:
        raise invalid(
            "token_budget",
            f"{token_budget} is too small: the system instruction and the query alone need "
            f"{minimum} tokens",
        )
    # The estimate is a sum over parts, so each block is counted once and dropping one
    # subtracts its count; only the query's label changes when the last block goes.
    system_tokens = estimate_tokens(system_instruction)
    labelled_query = estimate_tokens(_parts([items[0]], query)[-1]["text"]) if items else 0
    block_tokens = {item.index: estimate_tokens(_parts([item], query)[0]["text"]) for item in items}
    remaining = sum(block_tokens.values())
    dropped: list[ContextItem] = []
    tokens = system_tokens + labelled_query + remaining if items else minimum
    for item in sorted(items, key=lambda item: (item.relevance, item.index)):
        if tokens <= token_budget:
            break
        dropped.append(item)
        remaining -= block_tokens[item.index]
        tokens = system_tokens + labelled_query + remaining
        if len(dropped) == len(items):
            tokens = minimum
    gone = {item.index for item in dropped}
    parts = _parts([item for item in items if item.index not in gone], query)
    contents = [{"role": "user", "parts": parts}]
    return Prompt(system_instruction, contents, tuple(dropped), tokens)
