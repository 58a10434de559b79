"""Reading and summarising the crisis-language sets under tests/data/ (JSON lines with
`id`, `text`, `lang`, `category`, `form`), shared by the tests of each set."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lumengate import persona

DATA = Path(__file__).resolve().parent / "data"

LATIN = re.compile(r"[A-Za-z]")
# Hangul syllables plus the jamo blocks, so "ㅠㅠ" and "ㅈㅅ" count as Korean script.
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

Row = dict[str, str]

LANGS = {"en", "ko", "mixed"}
FORMS = {"explicit", "indirect"}
CRISIS_CATEGORIES = {"suicide", "self_harm", "abuse"}
# lang is the script actually used: en has no Hangul, ko no Latin letters, mixed both.
SCRIPTS = {"en": (True, False), "ko": (False, True), "mixed": (True, True)}
FIELDS = ["id", "text", "lang", "category", "form"]
# The balance: 40 % English, 40 % Korean, 20 % mixed script.
LANG_SHARES = {"en": 0.40, "ko": 0.40, "mixed": 0.20}


@dataclass(frozen=True)
class FrozenPair:
    """A set of crisis messages and a set of look-alikes, written without sight of the crisis
    stage and frozen by SHA-256 before the stage was first run on them."""

    name: str
    positives: Path
    negatives: Path
    digests: tuple[str, str]
    prefixes: tuple[str, str]
    # Rows per file, numbered 001..size; None: at least MIN_ROWS, ids in any order.
    size: int | None
    # Exact balance (64/64/32 messages per language, half explicit in each) rather than the
    # issue's shares within a tolerance.
    exact_balance: bool
    # Data files that existed when the pair was written; its no-shared-text check must see them.
    earlier: frozenset[str]

    def files(self) -> tuple[Path, Path]:
        return (self.positives, self.negatives)


MIN_ROWS = 120


def _pair(
    name: str,
    stem: str,
    digests: tuple[str, str],
    prefixes: tuple[str, str],
    size: int | None,
    exact_balance: bool,
    earlier: tuple[str, ...],
) -> FrozenPair:
    return FrozenPair(
        name,
        DATA / f"{stem}.jsonl",
        DATA / f"{stem}_negatives.jsonl",
        digests,
        prefixes,
        size,
        exact_balance,
        frozenset(f"{e}{suffix}.jsonl" for e in earlier for suffix in ("", "_negatives")),
    )


HELDOUT = _pair(
    "heldout",
    "crisis_heldout",
    (
        "4d750de88361f30a953f996a9b1da06bcc8c7c7b1b2d290e769d75f4f0edea6a",
        "01879f7383053092659f26906d6d3b6b91b5dc40940450ef9e7bb14fae36f38e",
    ),
    ("ch", "cn"),
    None,
    False,
    (),
)
BLIND = _pair(
    "blind",
    "crisis_blind",
    (
        "299ed13c8ddcb16e160b9fe2b97e72e2877fdb38f24522ff20bfe5d7da110cc4",
        "2a7da793580360d872439f625665305b5c911a5653a0d40b7b6a25a564b2b1ce",
    ),
    ("cb", "cbn"),
    160,
    False,
    (),
)
BLIND2 = _pair(
    "blind2",
    "crisis_blind2",
    (
        "2a2a25668702028b1e29c76076d961e35c6488417b8368f1c845ccc3450ae4b7",
        "01188fb9f1d1a814fcd6af8ec27b09a0dac5134de0474ea76c4ed30be8c2c2f4",
    ),
    ("cc", "ccn"),
    160,
    True,
    ("crisis_blind",),
)
BLIND3 = _pair(
    "blind3",
    "crisis_blind3",
    (
        "1568645480e1ae0bb6eb5a35950e7e5685a08002f5dba02141bd1f346937ba9f",
        "3885a61e5e978a4bec4476c30eec230caa767a17ee7b9bf887a578552f9df67f",
    ),
    ("cb3", "cb3n"),
    160,
    True,
    ("crisis_heldout", "crisis_blind", "crisis_blind2"),
)
BLIND4 = _pair(
    "blind4",
    "crisis_blind4",
    (
        "891eba812178917b0ed725e54aebc071e394c24dafbcfc6142fe935a65a632ff",
        "b7dd91b6b83204c63c4035cac7b95ce7cc47d6cb4ca5bc03fe39d5c11936a470",
    ),
    ("cb4", "cb4n"),
    160,
    True,
    ("crisis_heldout", "crisis_blind", "crisis_blind2", "crisis_blind3"),
)
FROZEN_PAIRS = (HELDOUT, BLIND, BLIND2, BLIND3, BLIND4)
# Written to one brief, so they share its balance and coverage rules and were checked against
# every data file before them; the held-out pair predates that brief and has its own rules.
BLIND_PAIRS = (BLIND, BLIND2, BLIND3, BLIND4)


def read(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            row = json.loads(line)
            assert isinstance(row, dict), f"{path.name}:{number} is not an object"
            assert all(isinstance(v, str) for v in row.values()), f"{path.name}:{number}"
            rows.append(row)
    return rows


def check_row(row: Row, categories: set[str]) -> None:
    """Documented values, a trimmed NFC text, and a lang that matches the script used."""
    assert row["category"] in categories, row["id"]
    assert row["form"] in FORMS, row["id"]
    assert row["lang"] in LANGS, row["id"]
    text = row["text"]
    assert text and text == text.strip(), row["id"]
    assert unicodedata.normalize("NFC", text) == text, row["id"]
    scripts = (bool(LATIN.search(text)), bool(HANGUL.search(text)))
    assert scripts == SCRIPTS[row["lang"]], row["id"]


def letters(text: str) -> str:
    """Letters only, case-folded: equal keys mean equal texts up to case, spacing and
    punctuation."""
    return "".join(c for c in text.casefold() if c.isalpha())


def strings(value: object) -> Iterator[str]:
    """Every string inside a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def texts_elsewhere(excluded: tuple[Path, ...]) -> dict[str, str]:
    """letters(text) -> the data file it appears in, over every other tests/data/*.jsonl."""
    elsewhere: dict[str, str] = {}
    for path in sorted(p for p in DATA.rglob("*.jsonl") if p not in excluded):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    for value in strings(json.loads(line)):
                        elsewhere.setdefault(letters(value), path.relative_to(DATA).as_posix())
    return elsewhere


def flagged(router: persona.Router, rows: list[Row]) -> list[bool]:
    """Whether the router's crisis stage fires on each row's text."""
    batch = router.route_many([row["text"] for row in rows])
    assert len(batch.crisis) == len(rows)
    return [bool(flag) for flag in batch.crisis]


def summary(rows: list[Row], counted: list[bool], fields: list[str]) -> str:
    """Aggregate counts only ("k/n; lang: en a/b, ..."), never a text."""

    def breakdown(field: str) -> str:
        totals = Counter(row[field] for row in rows)
        hits = Counter(row[field] for row, hit in zip(rows, counted, strict=True) if hit)
        return ", ".join(f"{value} {hits[value]}/{totals[value]}" for value in sorted(totals))

    return "; ".join([f"{sum(counted)}/{len(rows)}"] + [f"{f}: {breakdown(f)}" for f in fields])
