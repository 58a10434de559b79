"""Split all.jsonl 50/50 into train.jsonl and test.jsonl, stratified by (label, lang).

Run from anywhere: ``python tests/data/persona_queries/split.py``. The output is a pure
function of all.jsonl and SEED, so re-running reproduces the committed files byte for byte.
test.jsonl is frozen once committed; test.sha256 holds its digest.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

SEED = 20261129
FIELDS = ("id", "text", "label", "lang", "kind")
HERE = Path(__file__).resolve().parent


def read_queries(path: Path) -> list[dict[str, str]]:
    """Every non-blank line of a JSONL file, in file order."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def stratified_split(
    rows: list[dict[str, str]], seed: int = SEED
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(train, test): each (label, lang) stratum shuffled by one seeded RNG, half to test.

    Strata are visited in sorted order and each is sorted by id before shuffling, so the
    result does not depend on the order of lines in the input. An odd stratum gives its
    extra row to train. Both halves come back in id order.
    """
    strata: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        strata[(row["label"], row["lang"])].append(row)
    rng = random.Random(seed)
    test_ids: set[str] = set()
    for key in sorted(strata):
        members = sorted(strata[key], key=lambda r: r["id"])
        rng.shuffle(members)
        test_ids.update(r["id"] for r in members[: len(members) // 2])
    ordered = sorted(rows, key=lambda r: r["id"])
    train = [r for r in ordered if r["id"] not in test_ids]
    test = [r for r in ordered if r["id"] in test_ids]
    return train, test


def _dump(rows: list[dict[str, str]]) -> bytes:
    # Fixed key order, real UTF-8 and "\n" endings keep the bytes (and the digest) stable.
    lines = (json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n" for r in rows)
    return "".join(lines).encode("utf-8")


def write_split(all_path: Path, out_dir: Path, seed: int = SEED) -> str:
    """Write train.jsonl, test.jsonl and test.sha256 into out_dir; return the digest."""
    train, test = stratified_split(read_queries(all_path), seed)
    test_bytes = _dump(test)
    digest = hashlib.sha256(test_bytes).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train.jsonl").write_bytes(_dump(train))
    (out_dir / "test.jsonl").write_bytes(test_bytes)
    (out_dir / "test.sha256").write_bytes((digest + "\n").encode("ascii"))
    return digest


if __name__ == "__main__":
    print(write_split(HERE / "all.jsonl", HERE))
