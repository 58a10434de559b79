"""Persona routing, lumengate against a scikit-learn pipeline trained on the same split.

Usage: ``python benchmarks/compare_persona_router.py``. Ours is ``Router.default()`` (fitted on
tests/data/persona_queries/train.jsonl by scripts/train_default_router.py); the peer is
``HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4))`` + ``TfidfTransformer`` +
``LogisticRegression`` fitted on the same train split. Both are scored on the frozen test
split; the timings route the test queries (batch, and one at a time from Python).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from lumengate import persona
from lumengate._persona_router import _evaluate
from machine import best_seconds, machine_lines

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "persona_queries"
REPEATS = 5


def load(name: str) -> tuple[list[str], list[str]]:
    import json

    rows = [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def peer_pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 4),
                    alternate_sign=False,
                    norm=None,
                    n_features=2**18,
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
            ("lr", LogisticRegression(C=10.0, max_iter=5000)),
        ]
    )


def latencies_us(
    route: Callable[[str], object], texts: list[str], rounds: int, clock: Callable[[], int]
) -> np.ndarray:
    out = []
    for _ in range(rounds):
        for text in texts:
            start = clock()
            route(text)
            out.append(clock() - start)
    return np.asarray(out) / 1e3


def main() -> None:
    train_x, train_y = load("train.jsonl")
    test_x, test_y = load("test.jsonl")
    router = persona.Router.default()
    peer = peer_pipeline().fit(train_x, train_y)
    ours_ev = router.evaluate(test_x, test_y)
    peer_pred = peer.predict(test_x)
    peer_acc = float(np.mean(peer_pred == np.asarray(test_y)))
    # Correctness before timing: route_many agrees with route on every query.
    batch = router.route_many(test_x, threads=2)
    assert batch.persona_ids() == [router.route(t).persona for t in test_x]

    n = len(test_x)
    short = [t for t in test_x if len(t.encode()) <= 512]
    ours_1 = best_seconds(lambda: router.route_many(test_x, threads=1), REPEATS)
    ours_2 = best_seconds(lambda: router.route_many(test_x, threads=2), REPEATS)
    ours_loop = best_seconds(lambda: [router.route(t) for t in test_x], REPEATS)
    peer_batch = best_seconds(lambda: peer.predict_proba(test_x), REPEATS)
    peer_loop = best_seconds(lambda: [peer.predict_proba([t]) for t in test_x[:100]], 1) * n / 100
    # Let OpenBLAS's and oneTBB's worker threads, busy-waiting after the batch runs above, go
    # to sleep: on two cores they would otherwise share the CPU with the calls being timed.
    time.sleep(2.0)
    load_before = os.getloadavg()[0]
    wall = time.perf_counter_ns
    lat = latencies_us(router.route, short, 20, wall)
    # CPU time of the calling thread: the work itself, without waiting for a core.
    cpu_lat = latencies_us(router.route, short, 20, time.thread_time_ns)
    native_lat = latencies_us(lambda t: router._core.route(t, [], None), short, 20, wall)
    explained_lat = latencies_us(lambda t: router.route(t).evidence, short, 5, wall)
    peer_lat = latencies_us(lambda t: peer.predict_proba([t]), short[:100], 1, wall)
    load_after = os.getloadavg()[0]

    print("\n".join(machine_lines(["scikit-learn"])))
    print(f"- {n} test queries (frozen split), {len(train_x)} train queries")
    print()
    print("| router | accuracy (test) | 95 % CI | macro-F1 | ECE | Brier |")
    print("|---|---|---|---|---|---|")
    lo, hi = ours_ev.accuracy_ci
    print(
        f"| lumengate Router.default() | {ours_ev.accuracy:.3f} | {lo:.3f}–{hi:.3f} | "
        f"{ours_ev.macro_f1:.3f} | {ours_ev.ece:.3f} | {ours_ev.brier:.3f} |"
    )
    peer_ev = _evaluate(
        router.personas,
        np.array([router.personas.index(y) for y in test_y], dtype=np.int32),
        np.array([router.personas.index(y) for y in peer_pred], dtype=np.int32),
        peer.predict_proba(test_x)[:, [list(peer.classes_).index(p) for p in router.personas]],
        2000,
        0,
    )
    lo, hi = peer_ev.accuracy_ci
    print(
        f"| sklearn char_wb hashing + tf-idf + LR | {peer_acc:.3f} | {lo:.3f}–{hi:.3f} | "
        f"{peer_ev.macro_f1:.3f} | {peer_ev.ece:.3f} | {peer_ev.brier:.3f} |"
    )
    print()
    print("| case | ours (queries/s) | peer (queries/s) | ratio (ours/peer) |")
    print("|---|---|---|---|")
    print(
        f"| batch, 1 thread (route_many) | {n / ours_1:,.0f} | {n / peer_batch:,.0f} "
        f"(predict_proba on the list) | {peer_batch / ours_1:.1f}x |"
    )
    print(
        f"| batch, 2 threads (route_many) | {n / ours_2:,.0f} | {n / peer_batch:,.0f} | "
        f"{peer_batch / ours_2:.1f}x |"
    )
    print(
        f"| one at a time from Python (route) | {n / ours_loop:,.0f} | {n / peer_loop:,.0f} | "
        f"{peer_loop / ours_loop:.1f}x |"
    )
    print()
    print(
        f"route() latency over {lat.size:,} calls on queries ≤ 512 bytes: "
        f"p50 {np.percentile(lat, 50):.1f} µs, p99 {np.percentile(lat, 99):.1f} µs "
        f"(peer one-query predict_proba p50 {np.percentile(peer_lat, 50):.0f} µs, "
        f"p99 {np.percentile(peer_lat, 99):.0f} µs); 2-thread speed-up {ours_1 / ours_2:.2f}x"
    )
    print()
    print(f"| route() latency, {len(short)} queries ≤ 512 bytes | calls | p50 (µs) | p99 (µs) |")
    print("|---|---|---|---|")
    for name, values in (
        ("Router.route(q) from Python (decision, scores on demand)", lat),
        ("the same, CPU time of the calling thread", cpu_lat),
        ("the native call alone (router._core.route)", native_lat),
        ("Router.route(q).evidence (evidence built too)", explained_lat),
        ("peer: one-query predict_proba", peer_lat),
    ):
        print(
            f"| {name} | {values.size:,} | {np.percentile(values, 50):.1f} | "
            f"{np.percentile(values, 99):.1f} |"
        )
    print(f"- load average (1 min) around the latency runs: {load_before:.2f} → {load_after:.2f}")
    print(f"- best of {REPEATS} runs; the peer's one-at-a-time rate is timed on 100 queries.")


if __name__ == "__main__":
    main()
