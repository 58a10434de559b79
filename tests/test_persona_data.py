"""The labelled persona routing dataset and the crisis-language sets, as their users read them.

The router's training, evaluation and README numbers all rest on these files: a malformed
line, a leaked test query or an edited frozen split would silently change every result.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

DATA = Path(__file__).resolve().parent / "data"
QUERIES = DATA / "persona_queries"
PERSONAS = {"lua", "elro", "riri", "nana"}
LANGS = {"en", "ko", "mixed"}
KINDS = {"keyword", "implicit", "ambiguous"}
CATEGORIES = {"suicide", "self_harm", "abuse"}
ROUTING_FIELDS = {"id", "text", "label", "lang", "kind"}

LATIN = re.compile(r"[A-Za-z]")
# Hangul syllables plus the jamo blocks, so "ㅠㅠ" counts as Korean script.
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def _read(path: Path) -> list[dict[str, object]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            row = json.loads(line)
            assert isinstance(row, dict), f"{path.name}:{number} is not an object"
            rows.append(row)
    return rows


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def _canonical(row: dict[str, object]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def _split_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("persona_split", QUERIES / "split.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return _read(QUERIES / "all.jsonl")


def _check_text(row: dict[str, object]) -> str:
    text = row["text"]
    assert isinstance(text, str) and text == text.strip() and text, row
    assert unicodedata.normalize("NFC", text) == text, row
    return text


def _check_script(row: dict[str, object], text: str) -> None:
    # lang is the script actually used: en has no Hangul, ko no Latin letters, mixed both.
    expected = {"en": (True, False), "ko": (False, True), "mixed": (True, True)}[str(row["lang"])]
    assert (bool(LATIN.search(text)), bool(HANGUL.search(text))) == expected, row


def test_every_line_has_exactly_the_documented_fields(rows: list[dict[str, object]]) -> None:
    for row in rows:
        assert set(row) == ROUTING_FIELDS, row
        assert isinstance(row["id"], str) and re.fullmatch(r"q\d{4}", row["id"]), row
        assert row["label"] in PERSONAS, row
        assert row["lang"] in LANGS, row
        assert row["kind"] in KINDS, row
        text = _check_text(row)
        _check_script(row, text)
        assert 3 <= len(text.split()) <= 60, row
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))


def test_size_and_balance(rows: list[dict[str, object]]) -> None:
    assert len(rows) >= 1000
    labels = Counter(row["label"] for row in rows)
    assert set(labels) == PERSONAS
    for persona, count in labels.items():
        assert 0.22 <= count / len(rows) <= 0.28, (persona, count)
    langs = Counter(row["lang"] for row in rows)
    for lang in LANGS:
        assert langs[lang] / len(rows) >= 0.15, (lang, langs[lang])


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_each_persona_has_implicit_and_ambiguous_queries(
    rows: list[dict[str, object]], persona: str
) -> None:
    mine = [row for row in rows if row["label"] == persona]
    kinds = Counter(row["kind"] for row in mine)
    assert 0.15 <= kinds["implicit"] / len(mine) <= 0.25, kinds
    assert 0.05 <= kinds["ambiguous"] / len(mine) <= 0.12, kinds
    assert {row["lang"] for row in mine} == LANGS


def test_no_near_duplicate_texts(rows: list[dict[str, object]]) -> None:
    seen: dict[str, object] = {}
    for row in rows:
        key = _letters(str(row["text"]))
        assert key not in seen, (seen.get(key), row["id"])
        seen[key] = row["id"]


def test_near_duplicate_check_catches_case_and_punctuation_variants() -> None:
    assert _letters("Docker  exits, code 137!") == _letters("docker exits code 137")
    assert _letters("버그가 나요?") == _letters("버그가나요")
    assert _letters("kill a process") != _letters("kill the process")


def test_train_and_test_partition_all(rows: list[dict[str, object]]) -> None:
    train = _read(QUERIES / "train.jsonl")
    test = _read(QUERIES / "test.jsonl")
    assert {r["id"] for r in train}.isdisjoint({r["id"] for r in test})
    assert {r["text"] for r in train}.isdisjoint({r["text"] for r in test})
    assert sorted(map(_canonical, train + test)) == sorted(map(_canonical, rows))


def test_test_split_is_half_of_every_stratum(rows: list[dict[str, object]]) -> None:
    test = _read(QUERIES / "test.jsonl")
    for field in ("label", "lang"):
        total = Counter(r[field] for r in rows)
        held = Counter(r[field] for r in test)
        for value, count in total.items():
            assert abs(held[value] / count - 0.5) <= 0.01, (field, value, held[value], count)
    pairs = Counter((r["label"], r["lang"]) for r in rows)
    held_pairs = Counter((r["label"], r["lang"]) for r in test)
    for pair, count in pairs.items():
        assert held_pairs[pair] in (count // 2, (count + 1) // 2), pair


def test_test_split_is_frozen() -> None:
    digest = hashlib.sha256((QUERIES / "test.jsonl").read_bytes()).hexdigest()
    recorded = (QUERIES / "test.sha256").read_text(encoding="ascii").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", recorded)
    assert digest == recorded, "test.jsonl changed after it was frozen"


def test_split_script_reproduces_the_committed_files(tmp_path: Path) -> None:
    digest = _split_module().write_split(QUERIES / "all.jsonl", tmp_path)
    for name in ("train.jsonl", "test.jsonl", "test.sha256"):
        assert (tmp_path / name).read_bytes() == (QUERIES / name).read_bytes(), name
    assert digest == hashlib.sha256((tmp_path / "test.jsonl").read_bytes()).hexdigest()


@pytest.mark.parametrize("shuffle_seed", [1, 2, 3])
def test_split_does_not_depend_on_line_order(tmp_path: Path, shuffle_seed: int) -> None:
    lines = (QUERIES / "all.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(shuffle_seed).shuffle(lines)
    shuffled = tmp_path / "all.jsonl"
    shuffled.write_text("".join(lines), encoding="utf-8")
    _split_module().write_split(shuffled, tmp_path / "out")
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (QUERIES / name).read_bytes(), name


def test_a_different_seed_gives_a_different_split(rows: list[dict[str, object]]) -> None:
    split = _split_module().stratified_split
    _, frozen = split(rows)
    _, other = split(rows, seed=1)
    assert {r["id"] for r in frozen} != {r["id"] for r in other}
    assert len(frozen) == len(other)


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("crisis_queries.jsonl", {"id", "text", "lang", "category"}),
        ("crisis_negatives.jsonl", {"id", "text", "lang"}),
    ],
    ids=["crisis", "negatives"],
)
def test_crisis_files_parse(name: str, fields: set[str]) -> None:
    crisis_rows = _read(DATA / name)
    assert len(crisis_rows) >= 120
    ids = [row["id"] for row in crisis_rows]
    assert len(ids) == len(set(ids))
    for row in crisis_rows:
        assert set(row) == fields, row
        assert row["lang"] in LANGS, row
        _check_script(row, _check_text(row))
        if "category" in fields:
            assert row["category"] in CATEGORIES, row
    assert {"en", "ko"} <= {row["lang"] for row in crisis_rows}
    keys = [_letters(str(row["text"])) for row in crisis_rows]
    assert len(keys) == len(set(keys))


def test_crisis_set_covers_every_category_in_both_languages() -> None:
    crisis_rows = _read(DATA / "crisis_queries.jsonl")
    present = {(row["category"], row["lang"]) for row in crisis_rows}
    for category in CATEGORIES:
        for lang in ("en", "ko"):
            assert (category, lang) in present, (category, lang)


def test_crisis_negatives_are_not_crisis_queries() -> None:
    crisis = {_letters(str(r["text"])) for r in _read(DATA / "crisis_queries.jsonl")}
    negatives = {_letters(str(r["text"])) for r in _read(DATA / "crisis_negatives.jsonl")}
    assert crisis.isdisjoint(negatives)
