#!/usr/bin/env python3
"""Trains the shipped default router (python/lumengate/data/router_default.bin).

Fits the built-in personas on tests/data/persona_queries/train.jsonl with seed 0 and
calibrates it on 5-fold out-of-fold logits of that same split; the frozen test
split is never read. The features, C and calibration (DEFAULT_CONFIG) were chosen by
scripts/select_router_features.py, stratified cross-validation on train only. Re-running this
script reproduces the shipped file byte for byte:

    .venv/bin/python scripts/train_default_router.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lumengate.persona import Router

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "tests" / "data" / "persona_queries" / "train.jsonl"
OUTPUT = ROOT / "python" / "lumengate" / "data" / "router_default.bin"
SEED = 0
FOLDS = 5
# Chosen by scripts/select_router_features.py (CV on train only; its output is the record).
DEFAULT_CONFIG: dict[str, Any] = {
    "char_ngrams": (1, 4),
    "word_ngrams": 1,
    "lexicon_weight": 0.1,
    "C": 30.0,
    "calibration": "temperature",
}


def load_queries(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels of a JSON-lines split."""
    texts, labels = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


def train_default_router(train_path: Path = TRAIN) -> Router:
    """The default router, fitted and calibrated on the training split only."""
    texts, labels = load_queries(train_path)
    return Router().fit(texts, labels, seed=SEED, calibration_folds=FOLDS, **DEFAULT_CONFIG)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    router = train_default_router()
    router.save(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, T={router.temperature:.4f})")


if __name__ == "__main__":
    main()
