"""The fifth crisis-language development pair: fresh messages that stress the indirect forms
of crisis language, and look-alikes that resemble them without being crises.

Both files were written by hand for issue 4's crisis stage, without reading the stage, its
phrase list, its model, its training script or any other crisis set, and frozen here by SHA-256
before the stage was first run on them, so the stage's first measurement on them is one more
estimate on messages it has never seen. Each message was written for its own speaker and
situation (a 12-year-old, pupils before the college entrance exam, students, a conscript, a
veteran, new and laid-off employees, a migrant worker, a nurse on nights, parents, a widower
of 67, people in their seventies), in text-message lower case or in full sentences; the Korean
and mixed-script messages were written in those languages for their own situations (the
entrance exam, military service, rental-deposit fraud, holiday visits to relatives), not
translated from the English ones.

- `crisis_dev5.jsonl` (`cd5001` ... `cd5120`): 120 messages to a mentoring chatbot, 48 English,
  48 Korean and 24 mixed script; 50 suicide, 35 self-harm and 35 abuse. Two thirds (80) are
  indirect and most of those carry no crisis word at all: hoping not to wake up, being a burden,
  "no point", farewells and thanks "for everything", a pet, belongings or passwords left for
  someone, questions about heights, bridges, charcoal, stored tablets or life-insurance payouts,
  blood to wash out, marks and scars to hide, skipping meals or sleep as punishment, a relapse
  told as a reset counter, a partner checking the phone and the money, a passport kept in a
  safe, being locked out, stalking after a move, a relative's "special game" or "secret",
  intimate images and deepfakes used to extort, and crises tucked inside a request about code,
  a README, a CV, a cover letter or a graduate scheme. One third (40) name the crisis or
  describe the act. Per language (explicit/indirect): English and Korean each 7/13 suicide,
  5/9 self-harm, 4/10 abuse; mixed script 3/7, 3/4, 2/5.
- `crisis_dev5_negatives.jsonl` (`cd5n001` ... `cd5n120`): 120 look-alikes with the same
  language split. 80 are indirect: tiredness, burnout, grief for a grandparent, a father or a
  pet, loneliness after a move, a breakup, failed exams, quitting a job, emigrating and giving
  furniture away, farewell e-mails, a hand-over of passwords before leave, wanting to "disappear"
  to a beach, wills and estate planning, family life insurance, viewing platforms, dose
  questions, skipped lunches, sleepless nights, rehoming a cat, covering a tattoo or a cast, and
  a cut finger or a grazed arm. 40 are explicit: a crisis word in a harmless sense (killing,
  aborting and hanging processes, pods, rebases, queries and tabs; games, dramas, novels, lyrics
  and history; research, policy and teaching on suicide, self-harm and abuse; helping a friend;
  hyperbole; boxing; medication).

Fields are those of `crisis_blind3.md` (`id`, `text`, `lang`, `category`, `form`); `lang` is
the script actually used. Each file's lines were shuffled once with `random.Random(20261130)`
before the ids were numbered, so neighbouring lines say nothing about category or form.

Measured once on the stage before it was fitted on the pair (the fifth revision's rules and the
model trained on the sets up to the third blind pair): recall 87/120 = 72.5 % (explicit 39/40,
indirect 48/80; English 34/48, Korean 37/48, mixed 16/24; suicide 36/50, self-harm 23/35,
abuse 28/35) and false alarms 8/120 = 6.7 % (explicit 5/40, indirect 3/80; English 3/48,
Korean 4/48, mixed 1/24). The pair is development data since: the stage's families were
broadened with it in view and its model is trained on it, and tests/test_persona_crisis_stage.py
asserts its fitted figures.

This module checks only the data: the digests, the fields, the balance above, that no message
repeats within or across the two files, and that none equals (letters only, case-folded) a text
in any other data file.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from crisis_sets import (
    CRISIS_CATEGORIES,
    DATA,
    FIELDS,
    FORMS,
    LANGS,
    FrozenPair,
    Row,
    check_row,
    letters,
    read,
    texts_elsewhere,
)
from lumengate import persona

DEV5 = FrozenPair(
    "dev5",
    DATA / "crisis_dev5.jsonl",
    DATA / "crisis_dev5_negatives.jsonl",
    (
        "61620ee3e187dd13c15d3e14daf6e6f19c52b2394df484c1bbc0dfb9fe1247fd",
        "2fbe823a4438726bc4bbeec6148dda427013c36ff69be947f2fdd161320bfa17",
    ),
    ("cd5", "cd5n"),
    120,
    True,
    frozenset(
        f"crisis_{stem}{suffix}.jsonl"
        for stem in ("heldout", "blind", "blind2", "blind3", "dev", "dev2", "dev3", "dev4")
        for suffix in ("", "_negatives")
    )
    | {"crisis_negatives.jsonl", "crisis_queries.jsonl", "persona_queries/all.jsonl"},
)
SIDES = [pytest.param(0, id="positives"), pytest.param(1, id="negatives")]

LANG_COUNTS = {"en": 48, "ko": 48, "mixed": 24}
# (explicit, indirect) per language: one third explicit, two thirds indirect.
FORM_COUNTS = {"en": (16, 32), "ko": (16, 32), "mixed": (8, 16)}
CATEGORY_COUNTS = {"suicide": 50, "self_harm": 35, "abuse": 35}


def both() -> list[Row]:
    return read(DEV5.positives) + read(DEV5.negatives)


@pytest.mark.parametrize("side", SIDES)
def test_files_are_the_ones_frozen(side: int) -> None:
    path = DEV5.files()[side]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == DEV5.digests[side], f"{path.name} changed after it was frozen"


@pytest.mark.parametrize("side", SIDES)
def test_every_line_has_exactly_the_documented_fields_in_id_order(side: int) -> None:
    rows = read(DEV5.files()[side])
    prefix = DEV5.prefixes[side]
    assert [row["id"] for row in rows] == [f"{prefix}{n:03d}" for n in range(1, 121)]
    categories = CRISIS_CATEGORIES if side == 0 else {"negative"}
    for row in rows:
        assert list(row) == FIELDS, row["id"]
        check_row(row, categories)


@pytest.mark.parametrize("side", SIDES)
def test_languages_and_forms_follow_the_brief(side: int) -> None:
    rows = read(DEV5.files()[side])
    assert dict(Counter(row["lang"] for row in rows)) == LANG_COUNTS
    by_lang = Counter((row["lang"], row["form"]) for row in rows)
    for lang in LANGS:
        assert (by_lang[(lang, "explicit")], by_lang[(lang, "indirect")]) == FORM_COUNTS[lang]


def test_positives_split_over_categories_and_cover_every_language_and_form() -> None:
    positives = read(DEV5.positives)
    assert dict(Counter(row["category"] for row in positives)) == CATEGORY_COUNTS
    present = Counter((row["category"], row["lang"], row["form"]) for row in positives)
    for category in CRISIS_CATEGORIES:
        for lang in LANGS:
            for form in FORMS:
                assert present[(category, lang, form)] >= 2, (category, lang, form)
    # Indirect messages outnumber explicit ones in every category, as the brief asks.
    for category in CRISIS_CATEGORIES:
        forms = Counter(row["form"] for row in positives if row["category"] == category)
        assert forms["indirect"] > forms["explicit"], (category, forms)


def test_ids_are_unique_across_both_files() -> None:
    ids = [row["id"] for row in both()]
    assert len(ids) == len(set(ids)) == 240


def test_no_text_repeats_within_or_across_the_files() -> None:
    seen: dict[str, str] = {}
    for row in both():
        key = letters(row["text"])
        assert key not in seen, (seen.get(key), row["id"])
        seen[key] = row["id"]


def test_no_text_equals_one_in_any_other_data_file() -> None:
    elsewhere = texts_elsewhere(DEV5.files())
    # The check saw every data file that existed when the pair was written.
    assert DEV5.earlier <= set(elsewhere.values()), sorted(DEV5.earlier - set(elsewhere.values()))
    # Ids and file names only: a failure must not print a text from either side.
    shared = sorted(
        (row["id"], elsewhere[letters(row["text"])])
        for row in both()
        if letters(row["text"]) in elsewhere
    )
    assert shared == []


def test_every_message_fits_the_default_router_query_limit() -> None:
    limit = persona.Router.default().max_query_bytes
    assert [r["id"] for r in both() if len(r["text"].encode()) > limit] == []
