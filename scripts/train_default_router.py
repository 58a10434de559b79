#!/usr/bin/env python3
"""Trains the shipped default router (python/lumengate/data/router_default.bin).

Fits the built-in personas on tests/data/persona_queries/train.jsonl with seed 0 and
calibrates the temperature on 5-fold out-of-fold logits of that same split; the frozen test
split is never read. The regularisation strength was chosen by ``select_c`` (cross-validated
log-loss on train only). Re-running this script reproduces the shipped file byte for byte:

    .venv/bin/python scripts/train_default_router.py
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lumengate.persona import Router

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "tests" / "data" / "persona_queries" / "train.jsonl"
OUTPUT = ROOT / "python" / "lumengate" / "data" / "router_default.bin"
SEED = 0
FOLDS = 5
C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
C_DEFAULT = 100.0  # lowest CV log-loss on train (select_c: 0.437; C=30 0.443, C=300 0.440)


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


def cv_log_loss(texts: Sequence[str], labels: Sequence[str], c: float, seed: int = SEED) -> float:
    """Mean out-of-fold log-loss of a router fitted with ``C=c`` (folds drawn from ``seed``)."""
    order = np.random.default_rng(seed).permutation(len(texts))
    losses = []
    for fold in range(FOLDS):
        held = set(order[fold::FOLDS].tolist())
        train = [i for i in range(len(texts)) if i not in held]
        test = sorted(held)
        router = Router().fit([texts[i] for i in train], [labels[i] for i in train], C=c)
        probs = router.route_many([texts[i] for i in test]).probabilities
        y = [router.personas.index(labels[i]) for i in test]
        losses.append(-np.log(np.maximum(probs[np.arange(len(test)), y], 1e-15)))
    return float(np.mean(np.concatenate(losses)))


def select_c(texts: Sequence[str], labels: Sequence[str]) -> dict[float, float]:
    """Cross-validated log-loss on the training split for each C of the grid."""
    return {c: cv_log_loss(texts, labels, c) for c in C_GRID}


def train_default_router(train_path: Path = TRAIN, c: float = C_DEFAULT) -> Router:
    """The default router, fitted and calibrated on the training split only."""
    texts, labels = load_queries(train_path)
    return Router().fit(texts, labels, seed=SEED, C=c, calibration_folds=FOLDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select-c", action="store_true", help="print CV log-loss per C")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.select_c:
        texts, labels = load_queries(TRAIN)
        for c, loss in select_c(texts, labels).items():
            print(f"C={c:<6g} cv log-loss {loss:.4f}")
        return
    router = train_default_router()
    router.save(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, T={router.temperature:.4f})")


if __name__ == "__main__":
    main()
