#!/usr/bin/env python3
"""Trains the crisis stage's learned component (cpp/src/persona/crisis_model.inc).

A character n-gram logistic regression: every 2- to 4-code-point window of the compact text
(NFC, case-folded, whitespace runs as one space, no space between two Hangul characters),
hashed with 32-bit FNV-1a over its UTF-8 bytes into ``BUCKETS`` buckets, counts L2-normalised.
Positives are every crisis set the stage may be fitted on (tests/data/crisis_queries.jsonl,
crisis_dev.jsonl to crisis_dev5.jsonl, and the held-out and first three blind sets,
crisis_heldout.jsonl and crisis_blind.jsonl to crisis_blind3.jsonl, which have been measured once
and are now development data); negatives are their look-alike sets and the training split of the
persona queries. The persona test split and any set not yet measured are never read. Persona
queries weigh PERSONA_WEIGHT and indirect crisis messages INDIRECT_WEIGHT in the fit.

The probability threshold is chosen by stratified k-fold cross-validation. Ordinary persona
queries about stress and burnout sit close to crisis language, so the model alone cannot reach a
high recall without firing on many of them; the shipped threshold is the lowest one whose
out-of-fold false-alarm rate on the persona training split stays <= ``PERSONA_BUDGET``. The
stage fires on the lexicon OR the model, so the model is a safety net under the lexicon, never a
filter, and look-alike framing can veto it.

The printed "stage cv" numbers combine the lexicon and patterns of the built extension with the
out-of-fold model score. The lexicon was written while reading all of these sets, so those numbers
are cross-validated for the model only; they are an optimistic estimate for unseen messages. Each
set's line also splits its recall into what the lexicon finds (in-sample: its families were added
after reading the set) and what only the out-of-fold model adds. ``--curve`` adds the trade-off
the budget was chosen from: for each budget in BUDGETS, the model's and the stage's out-of-fold
recall (all and indirect) and false alarms, once with stratified folds and once leaving one
crisis pair out at a time (closer to how a new blind pair is met).

Re-running this script reproduces the generated file byte for byte:

    .venv/bin/python scripts/train_crisis_stage.py          # writes the .inc, prints CV numbers
    .venv/bin/python scripts/train_crisis_stage.py --check  # exit 1 if the file would change
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
POSITIVES = (
    DATA / "crisis_queries.jsonl",
    DATA / "crisis_dev.jsonl",
    DATA / "crisis_dev2.jsonl",
    DATA / "crisis_heldout.jsonl",
    DATA / "crisis_blind.jsonl",
    DATA / "crisis_dev3.jsonl",
    DATA / "crisis_blind2.jsonl",
    DATA / "crisis_dev4.jsonl",
    DATA / "crisis_blind3.jsonl",
    DATA / "crisis_dev5.jsonl",
)
NEGATIVES = (
    DATA / "crisis_negatives.jsonl",
    DATA / "crisis_dev_negatives.jsonl",
    DATA / "crisis_dev2_negatives.jsonl",
    DATA / "crisis_heldout_negatives.jsonl",
    DATA / "crisis_blind_negatives.jsonl",
    DATA / "crisis_dev3_negatives.jsonl",
    DATA / "crisis_blind2_negatives.jsonl",
    DATA / "crisis_dev4_negatives.jsonl",
    DATA / "crisis_blind3_negatives.jsonl",
    DATA / "crisis_dev5_negatives.jsonl",
    DATA / "persona_queries" / "train.jsonl",
)
# The ordinary queries: the model's false alarms on them are held to PERSONA_BUDGET.
PERSONA = DATA / "persona_queries" / "train.jsonl"
OUTPUT = ROOT / "cpp" / "src" / "persona" / "crisis_model.inc"
BUCKETS = 1 << 15
C = 30.0
FOLDS = 5
SEED = 0
TARGET_RECALL = 0.99
# A miss is far worse than a false alarm, so the budget sits above the old 0.5 %, with a margin
# under the 1 % limit on ordinary queries for the lexicon's own false alarms and sampling noise.
PERSONA_BUDGET = 0.0075
# The budgets the --curve option compares.
BUDGETS = (0.005, 0.0075, 0.01)
# Training weights: the persona queries are the negatives the threshold is held to, and indirect
# messages are the ones the lexicon misses on new sets, so both count more than the rest.
PERSONA_WEIGHT = 3.0
INDIRECT_WEIGHT = 2.0


def _is_space(ch: str) -> bool:
    cp = ord(ch)
    if ch == " " or 0x09 <= cp <= 0x0D or cp in (0x1C, 0x1D, 0x1E, 0x1F, 0x85):
        return True
    return cp >= 0x80 and unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _is_hangul(ch: str) -> bool:
    cp = ord(ch) if ch else 0
    return 0xAC00 <= cp <= 0xD7A3 or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F


def normalize(text: str) -> str:
    """NFC and case folding, as the router's text normaliser does."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def compact(normalized: str) -> str:
    """The crisis stage's reading of normalised text (mirrors CrisisDetector::compact)."""
    out: list[str] = []
    pending = False
    last = ""
    for ch in normalized:
        if _is_space(ch):
            pending = bool(out)
            continue
        if ch in "\u2018\u2019":
            ch = "'"
        elif "\uff01" <= ch <= "\uff5e":  # full-width ASCII
            ch = chr(ord(ch) - 0xFEE0)
        if pending and not (_is_hangul(last) and _is_hangul(ch)):
            out.append(" ")
        pending = False
        out.append(ch)
        last = ch
    return "".join(out)


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def features(normalized: str) -> dict[int, float]:
    """Hashed n-gram bucket -> L2-normalised count, for text already normalised."""
    padded = " " + compact(normalized) + " "
    counts: Counter[int] = Counter()
    for n in (2, 3, 4):
        for i in range(len(padded) - n + 1):
            counts[fnv1a(padded[i : i + n].encode("utf-8")) & (BUCKETS - 1)] += 1
    norm = math.sqrt(sum(c * c for c in counts.values()))
    return {b: c / norm for b, c in counts.items()}


def matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for r, text in enumerate(texts):
        for b, v in sorted(features(normalize(text)).items()):
            rows.append(r)
            cols.append(b)
            vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), BUCKETS), dtype=np.float64)


def load(paths: Sequence[Path]) -> list[str]:
    return [row["text"] for row in load_rows(paths)]


def load_rows(paths: Sequence[Path]) -> list[dict[str, str]]:
    """Rows with their source file name under "source"."""
    rows = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    rows.append({**json.loads(line), "source": path.name})
    return rows


def sample_weights(rows: Sequence[dict[str, str]]) -> np.ndarray:
    """PERSONA_WEIGHT for persona queries, INDIRECT_WEIGHT for indirect crisis messages, else 1."""
    weights = np.ones(len(rows))
    for i, row in enumerate(rows):
        if row["source"] == PERSONA.name:
            weights[i] = PERSONA_WEIGHT
        elif row.get("form") == "indirect" and row["category"] != "negative":
            weights[i] = INDIRECT_WEIGHT
    return weights


def fit(x: sparse.csr_matrix, y: np.ndarray, weights: np.ndarray) -> LogisticRegression:
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=5000, class_weight="balanced")
    return model.fit(x, y, sample_weight=weights)


def out_of_fold(
    x: sparse.csr_matrix, y: np.ndarray, weights: np.ndarray, folds: Sequence[np.ndarray]
) -> np.ndarray:
    """Each text's probability from the model fitted on the other folds (fold = test indices)."""
    oof = np.zeros(len(y))
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        oof[test] = fit(x[train], y[train], weights[train]).predict_proba(x[test])[:, 1]
    return oof


def stratified_folds(y: np.ndarray, strata: np.ndarray) -> list[np.ndarray]:
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return [test for _train, test in folds.split(np.zeros(len(y)), strata)]


def pair_folds(rows: Sequence[dict[str, str]]) -> list[np.ndarray]:
    """One fold per crisis pair (its messages and its look-alikes), the persona queries spread
    over them at random: each pair is scored by a model that never saw it, as a new blind pair
    would be."""
    pairs = [path.name.removesuffix(".jsonl") for path in POSITIVES]
    owner = []
    rng = np.random.default_rng(SEED)
    for row in rows:
        stem = row["source"].removesuffix(".jsonl").removesuffix("_negatives")
        stem = "crisis_queries" if stem == "crisis" else stem
        owner.append(pairs.index(stem) if stem in pairs else int(rng.integers(len(pairs))))
    index = np.array(owner)
    return [np.flatnonzero(index == k) for k in range(len(pairs))]


def recall_threshold(oof: np.ndarray, y: np.ndarray) -> float:
    """The largest threshold whose out-of-fold recall on positives is >= TARGET_RECALL."""
    positives = np.sort(oof[y == 1])
    allowed_misses = math.floor((1.0 - TARGET_RECALL) * len(positives))
    return float(positives[allowed_misses])


def budget_threshold(oof_persona: np.ndarray, budget: float = PERSONA_BUDGET) -> float:
    """The lowest threshold whose out-of-fold false-alarm rate on ordinary persona queries is
    <= budget."""
    negatives = np.sort(oof_persona)[::-1]
    allowed = math.floor(budget * len(negatives))
    return float(np.nextafter(negatives[allowed], 1.0))


def render(model: LogisticRegression, threshold: float) -> str:
    weights = model.coef_[0]
    used = np.flatnonzero(weights)
    lines = [
        "// Generated by scripts/train_crisis_stage.py: the crisis stage's learned component.",
        "// Regenerate with that script; it reproduces this file byte for byte.",
        f"constexpr std::uint32_t kModelBuckets = {BUCKETS}U;",
        f"constexpr double kModelBias = {float(model.intercept_[0])!r};",
        f"constexpr double kModelThreshold = {threshold!r};",
        f"constexpr std::array<std::uint32_t, {len(used)}> kModelIndex = {{",
    ]
    lines += [f"    {int(i)}U," for i in used]
    lines += ["};", f"constexpr std::array<float, {len(used)}> kModelWeight = {{"]
    lines += [f"    {float(np.float32(weights[i]))!r}F," for i in used]
    lines += ["};", ""]
    return "\n".join(lines)


def training_set() -> tuple[list[dict[str, str]], np.ndarray]:
    """Every training row (positives first) and its label."""
    pos = load_rows(POSITIVES)
    neg = load_rows(NEGATIVES)
    return pos + neg, np.array([1] * len(pos) + [0] * len(neg))


def train(curve: bool = False) -> tuple[str, dict[str, float]]:
    rows, y = training_set()
    texts = [row["text"] for row in rows]
    persona = np.array([row["source"] == PERSONA.name for row in rows])
    weights = sample_weights(rows)
    x = matrix(texts)
    oof = out_of_fold(x, y, weights, stratified_folds(y, 2 * y + persona))
    at_recall = recall_threshold(oof, y)
    report = {
        f"threshold for oof recall >= {TARGET_RECALL}": at_recall,
        "  oof false alarms there (look-alikes)": float(
            np.mean(oof[(y == 0) & ~persona] >= at_recall)
        ),
        "  oof false alarms there (persona train)": float(np.mean(oof[persona] >= at_recall)),
    }
    threshold = budget_threshold(oof[persona])
    report["shipped threshold"] = threshold
    report["  oof recall (model alone)"] = float(np.mean(oof[y == 1] >= threshold))
    for path in NEGATIVES:
        part = oof[np.array([row["source"] == path.name for row in rows])]
        report[f"  oof false alarms (model alone) [{path.name}]"] = float(
            np.mean(part >= threshold)
        )
    report.update(combined_cv(rows, y, oof, threshold))
    if curve:
        report.update(budget_curve(rows, y, oof, "stratified"))
        pairs = out_of_fold(x, y, weights, pair_folds(rows))
        report.update(budget_curve(rows, y, pairs, "leave-one-pair-out"))
    return render(fit(x, y, weights), threshold), report


def budget_curve(
    rows: Sequence[dict[str, str]], y: np.ndarray, oof: np.ndarray, scheme: str
) -> dict[str, float]:
    """For each persona budget: the model's out-of-fold recall (all, indirect), its false alarms
    on the look-alikes, and the whole stage's (lexicon OR model) recall and false alarms."""
    persona = np.array([row["source"] == PERSONA.name for row in rows])
    indirect = np.array([row.get("form") == "indirect" for row in rows]) & (y == 1)
    look_alike = (y == 0) & ~persona
    verdicts = lexicon_verdicts(rows)
    report = {}
    for budget in BUDGETS:
        threshold = budget_threshold(oof[persona], budget)
        head = f"curve {scheme} budget {budget:.4f}"
        report[f"{head} threshold"] = threshold
        report[f"{head} model recall"] = float(np.mean(oof[y == 1] >= threshold))
        report[f"{head} model recall indirect"] = float(np.mean(oof[indirect] >= threshold))
        report[f"{head} model false alarms look-alikes"] = float(
            np.mean(oof[look_alike] >= threshold)
        )
        if verdicts is not None:
            fires = stage_fires(verdicts, oof, threshold)
            report[f"{head} stage recall"] = float(np.mean(fires[y == 1]))
            report[f"{head} stage recall indirect"] = float(np.mean(fires[indirect]))
            report[f"{head} stage false alarms look-alikes"] = float(np.mean(fires[look_alike]))
            report[f"{head} stage false alarms persona"] = float(np.mean(fires[persona]))
    return report


def combined_cv(
    rows: Sequence[dict[str, str]], y: np.ndarray, oof: np.ndarray, threshold: float
) -> dict[str, float]:
    """Cross-validated numbers of the whole stage: the fixed lexicon and patterns of the built
    extension OR the out-of-fold model score, with framing vetoing weak evidence and the model.
    Recall by language, category and form; false alarms by set. Empty when the extension is not
    built."""
    verdicts = lexicon_verdicts(rows)
    if verdicts is None:
        return {}
    lexicon = verdicts[:, 0] | (~verdicts[:, 2] & verdicts[:, 1])
    fires = stage_fires(verdicts, oof, threshold)
    report = {"stage cv recall": float(np.mean(fires[y == 1]))}
    for path in POSITIVES:
        index = np.array([row["source"] == path.name for row in rows])
        report[f"  lexicon alone, in-sample [{path.name}]"] = float(np.mean(lexicon[index]))
        report[f"  added only by the out-of-fold model [{path.name}]"] = float(
            np.mean(fires[index] & ~lexicon[index])
        )
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if y[i] == 1:
            keys = [f"[{row['source']}]", f"lang={row['lang']}", f"category={row['category']}"]
            keys.append(f"form={row.get('form', 'unlabelled')}")
        else:
            keys = [f"false alarms [{row['source']}]"]
            if "form" in row:
                keys.append(f"false alarms look-alike form={row['form']}")
            if row["source"] != PERSONA.name:
                keys.append(f"false alarms look-alike lang={row['lang']}")
        for key in keys:
            groups.setdefault(key, []).append(i)
    for key in sorted(groups, key=lambda k: (k.startswith("false"), k)):
        index = np.array(groups[key])
        name = key if key.startswith("false") else f"recall {key}"
        report[f"stage cv {name} (n={len(index)})"] = float(np.mean(fires[index]))
    return report


def lexicon_verdicts(rows: Sequence[dict[str, str]]) -> np.ndarray | None:
    """(strong, weak, framing) of the built extension's lexicon for each row; None when the
    extension is not built."""
    try:
        from lumengate._native import core
    except ImportError:
        return None
    if not hasattr(core.persona, "crisis_verdict"):
        return None
    return np.array([core.persona.crisis_verdict(row["text"])[:3] for row in rows], dtype=bool)


def stage_fires(verdicts: np.ndarray, oof: np.ndarray, threshold: float) -> np.ndarray:
    """The stage's decision with the out-of-fold model: the lexicon, or the model unless framing
    vetoes it."""
    strong, weak, framing = verdicts[:, 0], verdicts[:, 1], verdicts[:, 2]
    return strong | (~framing & (weak | (oof >= threshold)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output would change")
    parser.add_argument(
        "--curve",
        action="store_true",
        help="also print the budget trade-off, stratified and leave-one-pair-out",
    )
    args = parser.parse_args()
    text, report = train(curve=args.curve)
    for key, value in report.items():
        print(f"{key}: {value:.4f}")
    if args.check:
        sys.exit(0 if args.output.read_text(encoding="utf-8") == text else 1)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
