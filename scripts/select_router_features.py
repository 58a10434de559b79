#!/usr/bin/env python3
"""Chooses the default router's features, C and calibration by cross-validation on train only.

Every number printed comes from stratified 5-fold cross-validation on
tests/data/persona_queries/train.jsonl; the frozen test split is never read. Three stages:

1. features: the char_wb n-gram range, word n-grams and the lexicon weight, at a common C;
2. C for the best features;
3. calibration of the chosen model, nested: each outer fold fits the temperature on the
   out-of-fold logits of its own training part (as ``train_default_router.py`` does on all of
   train) and is scored on the outer held-out part, with accuracy per subset (kind, language).

Models are compared by out-of-fold log-loss after one temperature fitted on the pooled
out-of-fold logits (so an over- or under-confident model is not penalised for what calibration
fixes), with accuracy beside it. Run:

    .venv/bin/python scripts/select_router_features.py            # all three stages
    .venv/bin/python scripts/select_router_features.py --stage 3  # only the final check

``--personas FILE`` scores another persona file's keyword lists (the lexicon) in place of the
built-in ones, e.g. an earlier ``personas.json`` from git, so lexicons are compared by the same
folds and the same table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, special
from sklearn.model_selection import StratifiedKFold

from lumengate.persona import Persona, Router, builtin_personas, load_personas

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "tests" / "data" / "persona_queries" / "train.jsonl"
FOLDS = 5
SEED = 0
PERSONAS: Sequence[Persona] = builtin_personas()


@dataclass(frozen=True)
class Config:
    char_ngrams: tuple[int, int] = (2, 4)
    word_ngrams: int = 0
    lexicon_weight: float = 1.0
    C: float = 100.0
    calibration: str = "temperature"

    def label(self) -> str:
        low, high = self.char_ngrams
        return (
            f"char {low}-{high}, words 1-{self.word_ngrams}, lexicon x{self.lexicon_weight:g}, "
            f"C={self.C:g}"
            if self.word_ngrams
            else f"char {low}-{high}, no words, lexicon x{self.lexicon_weight:g}, C={self.C:g}"
        )


def load(path: Path = TRAIN) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def fit(
    config: Config,
    texts: Sequence[str],
    labels: Sequence[str],
    folds: int = 0,
    calibration: str = "temperature",
) -> Router:
    return Router(PERSONAS).fit(
        list(texts),
        list(labels),
        seed=SEED,
        C=config.C,
        char_ngrams=config.char_ngrams,
        word_ngrams=config.word_ngrams,
        lexicon_weight=config.lexicon_weight,
        calibration_folds=folds,
        calibration=calibration,
    )


def splits(labels: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return list(folds.split(np.zeros(len(labels)), labels))


def nll(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    scaled = logits / temperature
    return float(np.mean(special.logsumexp(scaled, axis=1) - scaled[np.arange(len(y)), y]))


def ece(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Top-label ECE over 10 equal-width bins, as Router.evaluate computes it."""
    top = probabilities.max(axis=1)
    hit = probabilities.argmax(axis=1) == y
    bins = np.minimum((top * 10).astype(int), 9)
    return float(
        sum(
            np.mean(bins == b) * abs(hit[bins == b].mean() - top[bins == b].mean())
            for b in range(10)
            if np.any(bins == b)
        )
    )


def out_of_fold_logits(config: Config, rows: list[dict[str, str]]) -> np.ndarray:
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    out = np.zeros((len(rows), 4))
    for train, held in splits(labels):
        router = fit(config, [texts[i] for i in train], [labels[i] for i in train])
        out[held] = router.logits([texts[i] for i in held])
    return out


def score(config: Config, rows: list[dict[str, str]], personas: Sequence[str]) -> dict[str, float]:
    y = np.array([personas.index(r["label"]) for r in rows])
    z = out_of_fold_logits(config, rows)
    best = optimize.minimize_scalar(
        lambda log_t: nll(z, y, float(np.exp(log_t))), bounds=(-3, 3), method="bounded"
    )
    t = float(np.exp(best.x))
    return {
        "accuracy": float(np.mean(z.argmax(axis=1) == y)),
        "log_loss": nll(z, y, t),
        "temperature": t,
        "ece": ece(special.softmax(z / t, axis=1), y),
    }


def print_row(config: Config, s: dict[str, float], started: float) -> None:
    print(
        f"| {config.label()} | {s['accuracy']:.3f} | {s['log_loss']:.4f} | "
        f"{s['temperature']:.3f} | {s['ece']:.3f} | {time.perf_counter() - started:.0f} s |",
        flush=True,
    )


HEADER = (
    "| configuration | CV accuracy | CV log-loss (T fitted) | T | ECE | time |\n"
    "|---|---|---|---|---|---|"
)

STAGE1 = [
    Config((2, 4), 0),
    Config((1, 4), 0),
    Config((2, 5), 0),
    Config((1, 5), 0),
    Config((1, 3), 0),
    Config((2, 4), 1),
    Config((2, 4), 2),
    Config((1, 4), 2),
    Config((1, 5), 2),
    Config((2, 4), 0, 0.0),
    Config((2, 4), 0, 0.1),
    Config((2, 4), 0, 0.25),
    Config((2, 4), 0, 0.5),
    Config((2, 4), 0, 2.0),
    Config((1, 4), 0, 0.0),
    Config((1, 4), 0, 0.03),
    Config((1, 4), 0, 0.05),
    Config((1, 4), 0, 0.1),
    Config((1, 4), 0, 0.25),
    Config((1, 4), 0, 0.5),
    Config((1, 4), 0, 2.0),
    Config((1, 3), 0, 0.1),
    Config((1, 5), 0, 0.1),
    Config((1, 4), 1, 0.1),
    Config((1, 4), 2, 0.1),
    Config((1, 4), 2, 0.05),
    Config((1, 4), 2, 0.07),
    Config((1, 4), 2, 0.15),
    Config((1, 4), 2, 0.2),
    Config((1, 5), 2, 0.1),
    Config((1, 4), 3, 0.1),
]
C_GRID = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def best_of(
    configs: Sequence[Config], rows: list[dict[str, str]], personas: Sequence[str]
) -> Config:
    """Score every configuration, print its row, and return the one with the lowest log-loss."""
    print(HEADER)
    best: tuple[float, Config] | None = None
    for config in configs:
        started = time.perf_counter()
        s = score(config, rows, personas)
        print_row(config, s, started)
        if best is None or s["log_loss"] < best[0]:
            best = (s["log_loss"], config)
    assert best is not None
    return best[1]


def stage_features(rows: list[dict[str, str]], personas: Sequence[str]) -> Config:
    print("\n## Stage 1: features (C=100)\n")
    return best_of(STAGE1, rows, personas)


def stage_c(rows: list[dict[str, str]], personas: Sequence[str], base: Config) -> Config:
    print(f"\n## Stage 2: C for {base.label()}\n")
    grid = [Config(base.char_ngrams, base.word_ngrams, base.lexicon_weight, c) for c in C_GRID]
    return best_of(grid, rows, personas)


def stage_calibration(rows: list[dict[str, str]], personas: Sequence[str], config: Config) -> None:
    """Nested CV of the full recipe: each outer fold is fitted and calibrated on out-of-fold
    logits of its own training part (inner 5-fold), then scored on its held-out part."""
    print(f"\n## Stage 3: nested CV of {config.label()}, calibration from inner 5-fold\n")
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    y = np.array([personas.index(v) for v in labels])
    onehot = np.eye(4)[y]
    probabilities = {
        name: np.zeros((len(rows), 4)) for name in ("none (T=1)", "temperature", "isotonic")
    }
    for train, held in splits(labels):
        held_texts = [texts[i] for i in held]
        for method in ("temperature", "isotonic"):
            router = fit(
                config,
                [texts[i] for i in train],
                [labels[i] for i in train],
                folds=FOLDS,
                calibration=method,
            )
            probabilities[method][held] = router.route_many(held_texts).probabilities
        probabilities["none (T=1)"][held] = special.softmax(router.logits(held_texts), axis=1)
    print("| calibration | accuracy | ECE | Brier | log-loss |\n|---|---|---|---|---|")
    for name, p in probabilities.items():
        print(
            f"| {name} | {np.mean(p.argmax(axis=1) == y):.3f} | {ece(p, y):.3f} | "
            f"{np.mean(np.sum((p - onehot) ** 2, axis=1)):.3f} | "
            f"{-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-15))):.4f} |"
        )
    hit = probabilities[config.calibration].argmax(axis=1) == y
    print(f"\n| subset ({config.calibration}) | n | CV accuracy |\n|---|---|---|")
    for field in ("kind", "lang"):
        for value in sorted({r[field] for r in rows}):
            mask = np.array([r[field] == value for r in rows])
            print(f"| {field}={value} | {mask.sum()} | {hit[mask].mean():.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=int, choices=(1, 2, 3), default=1, help="first stage")
    parser.add_argument(
        "--personas", type=Path, help="persona file (.json/.yaml) whose keywords form the lexicon"
    )
    args = parser.parse_args()
    global PERSONAS
    if args.personas is not None:
        PERSONAS = load_personas(args.personas)
        print(f"lexicon: keywords of {args.personas}")
    from train_default_router import DEFAULT_CONFIG  # type: ignore[import-not-found]

    rows = load()
    personas = Router(PERSONAS).personas
    config = Config(**DEFAULT_CONFIG)
    if args.stage <= 1:
        features = stage_features(rows, personas)
        print(f"\nbest features: {features.label()}")
    if args.stage <= 2:
        chosen = stage_c(rows, personas, features if args.stage <= 1 else config)
        print(f"\nchosen: {chosen.label()} (shipped: {config.label()})")
    stage_calibration(rows, personas, config)


if __name__ == "__main__":
    main()
