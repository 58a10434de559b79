"""Checks every frozen crisis pair must pass, whatever the stage scores on it: the files are
the ones that were frozen, every line follows the documented schema and the issue's balance,
and no message repeats within the pair or appears in any other data file.

What the stage achieves on each pair is measured in that pair's own module
(test_persona_crisis_heldout.py, _blind.py, _blind2.py, _blind3.py, _blind4.py).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from crisis_sets import (
    BLIND_PAIRS,
    CRISIS_CATEGORIES,
    FIELDS,
    FORMS,
    FROZEN_PAIRS,
    LANG_SHARES,
    LANGS,
    MIN_ROWS,
    FrozenPair,
    Row,
    check_row,
    letters,
    read,
    texts_elsewhere,
)
from lumengate import persona

SIDES = ["positives", "negatives"]


def files(pairs: tuple[FrozenPair, ...]) -> list[object]:
    """One case per file: (pair, 0) is its crisis messages, (pair, 1) its look-alikes."""
    return [
        pytest.param(pair, side, id=f"{pair.name}-{SIDES[side]}")
        for pair in pairs
        for side in (0, 1)
    ]


FILES = files(FROZEN_PAIRS)
BLIND_FILES = files(BLIND_PAIRS)
PAIRS = [pytest.param(pair, id=pair.name) for pair in FROZEN_PAIRS]
BLIND = [pytest.param(pair, id=pair.name) for pair in BLIND_PAIRS]


def both(pair: FrozenPair) -> list[Row]:
    return read(pair.positives) + read(pair.negatives)


@pytest.mark.parametrize(("pair", "side"), FILES)
def test_pair_files_are_the_ones_frozen(pair: FrozenPair, side: int) -> None:
    path = pair.files()[side]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == pair.digests[side], f"{path.name} changed after it was frozen"


@pytest.mark.parametrize(("pair", "side"), FILES)
def test_every_line_has_exactly_the_documented_fields(pair: FrozenPair, side: int) -> None:
    rows = read(pair.files()[side])
    prefix = pair.prefixes[side]
    ids = [row["id"] for row in rows]
    if pair.size is None:
        assert len(rows) >= MIN_ROWS
        assert all(re.fullmatch(prefix + r"\d{3}", i) for i in ids), ids
    else:
        assert ids == [f"{prefix}{n:03d}" for n in range(1, pair.size + 1)]
    categories = CRISIS_CATEGORIES if side == 0 else {"negative"}
    for row in rows:
        assert list(row) == FIELDS, row["id"]
        check_row(row, categories)


@pytest.mark.parametrize(("pair", "side"), FILES)
def test_language_shares_follow_the_issue(pair: FrozenPair, side: int) -> None:
    rows = read(pair.files()[side])
    langs = Counter(row["lang"] for row in rows)
    if pair.exact_balance:
        exact = {lang: round(share * len(rows)) for lang, share in LANG_SHARES.items()}
        assert dict(langs) == exact
    for lang, share in LANG_SHARES.items():
        assert abs(langs[lang] / len(rows) - share) <= 0.02, (lang, langs[lang], len(rows))


@pytest.mark.parametrize("pair", PAIRS)
def test_ids_are_unique_across_both_sets(pair: FrozenPair) -> None:
    ids = [row["id"] for row in both(pair)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("pair", PAIRS)
def test_no_near_duplicate_texts_within_or_across_sets(pair: FrozenPair) -> None:
    seen: dict[str, str] = {}
    for row in both(pair):
        key = letters(row["text"])
        assert key not in seen, (seen.get(key), row["id"])
        seen[key] = row["id"]


def test_near_duplicate_key_ignores_case_spacing_and_punctuation_only() -> None:
    assert letters("I'm SO tired, honestly.") == letters("im so tired honestly")
    assert letters("사는 게 의미가 없음") == letters("사는게의미가없음")
    assert letters("kill the process") != letters("kill a process")


@pytest.mark.parametrize("pair", PAIRS)
def test_every_message_fits_the_default_router_query_limit(pair: FrozenPair) -> None:
    limit = persona.Router.default().max_query_bytes
    too_long = [r["id"] for r in both(pair) if len(r["text"].encode()) > limit]
    assert too_long == []


@pytest.mark.parametrize(("pair", "side"), BLIND_FILES)
def test_explicit_and_indirect_forms_are_balanced_in_every_language(
    pair: FrozenPair, side: int
) -> None:
    rows = read(pair.files()[side])
    by_lang = Counter((row["lang"], row["form"]) for row in rows)
    forms = Counter(row["form"] for row in rows)
    assert abs(forms["explicit"] / len(rows) - 0.5) <= 0.05, forms
    for lang in LANGS:
        explicit, indirect = by_lang[(lang, "explicit")], by_lang[(lang, "indirect")]
        if pair.exact_balance:
            assert explicit == indirect, (lang, explicit, indirect)
        assert 0.4 <= explicit / (explicit + indirect) <= 0.6, (lang, explicit, indirect)


@pytest.mark.parametrize("pair", BLIND)
def test_positives_cover_every_category_and_form_in_every_language(pair: FrozenPair) -> None:
    positives = read(pair.positives)
    present = Counter((row["category"], row["lang"], row["form"]) for row in positives)
    for category in CRISIS_CATEGORIES:
        for lang in LANGS:
            for form in FORMS:
                assert present[(category, lang, form)] >= 4, (category, lang, form)
    categories = Counter(row["category"] for row in positives)
    assert categories["suicide"] >= 0.35 * len(positives), categories
    assert min(categories.values()) >= 0.2 * len(positives), categories


@pytest.mark.parametrize("pair", BLIND)
def test_blind_pairs_share_no_text_with_any_other_data_file(pair: FrozenPair) -> None:
    elsewhere = texts_elsewhere(pair.files())
    names = set(elsewhere.values())
    routing = {"persona_queries/all.jsonl"}
    assert routing | pair.earlier <= names, sorted(names)
    # Ids and file names only: the failure message must not print a text from either side.
    shared = sorted(
        (row["id"], elsewhere[letters(row["text"])])
        for row in both(pair)
        if letters(row["text"]) in elsewhere
    )
    assert shared == []
