"""Reading and summarising the crisis-language sets under tests/data/ (JSON lines with
`id`, `text`, `lang`, `category`, `form`), shared by the tests of each set."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
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
