"""Hybrid item scoring, checked against numpy references written out in this file."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import scipy.sparse as sp
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from lumengate import persona
from lumengate.errors import InvalidArgument

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "python" / "lumengate" / "data" / "catalog"
N_FEATURES = 1 << 12
PERSONAS = ("lua", "elro", "riri", "nana")


# References ----------------------------------------------------------------------------


def reference_neighbours(matrix: npt.NDArray[np.float64], m: int) -> list[list[tuple[int, float]]]:
    """Top-m cosine neighbours per item column: similarity desc, then item index asc."""
    dots = matrix.T @ matrix
    norms = np.sqrt((matrix * matrix).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        sims = dots / np.outer(norms, norms)
    lists = []
    for i in range(matrix.shape[1]):
        candidates = [j for j in range(matrix.shape[1]) if j != i and dots[i, j] > 0]
        candidates.sort(key=lambda j: (-sims[i, j], j))
        lists.append([(j, float(sims[i, j])) for j in candidates[:m]])
    return lists


def reference_cf(
    lists: list[list[tuple[int, float]]], history: dict[int, float], n_items: int
) -> npt.NDArray[np.float64]:
    sums = np.zeros(n_items)
    for item, weight in history.items():
        for j, sim in lists[item]:
            sums[j] += weight * sim
    return sums / sum(history.values())


def char_wb_ngrams(text: str) -> list[str]:
    """scikit-learn's char_wb analyzer (2-4) after NFC and case folding."""
    text = unicodedata.normalize("NFC", text).casefold()
    grams: list[str] = []
    for word in re.split(r"[ \t\n\r\f\v]+", text):
        if not word:
            continue
        padded = f" {word} "
        for n in range(2, 5):
            if len(padded) <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def hashed_counts(text: str) -> npt.NDArray[np.float64]:
    counts = np.zeros(N_FEATURES)
    for gram in char_wb_ngrams(text):
        counts[xxhash.xxh64_intdigest(gram.encode("utf-8")) % N_FEATURES] += 1
    return counts


def reference_cb(texts: list[str], query: str) -> npt.NDArray[np.float64]:
    counts = np.array([hashed_counts(t) for t in texts])
    df = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(texts)) / (1 + df)) + 1
    items = counts * idf
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    q = hashed_counts(query) * idf
    q /= np.linalg.norm(q)
    return np.clip(items @ q, 0, 1)


def brute_force_order(scores: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Indices by score descending, equal scores in item order."""
    return np.lexsort((np.arange(scores.size), -scores.astype(np.float64)))


def ranked_by_score(top: persona.TopK, n: int) -> npt.NDArray[np.int64]:
    """The returned items re-ranked by brute force over their scores placed by item index."""
    full = np.full(n, -np.inf)
    full[top.indices] = top.scores
    return brute_force_order(full)[: len(top)]


# Fixtures ------------------------------------------------------------------------------

TEXT_ITEMS: list[dict[str, Any]] = [
    {
        "id": "py-err",
        "title": "Debugging Python KeyError",
        "tags": ["python", "debugging"],
        "description": "Read the traceback",
        "affinity": {"elro": 1.0, "lua": 0.1},
    },
    {
        "id": "sql",
        "title": "SQL query tuning",
        "tags": ["sql", "database"],
        "affinity": {"elro": 0.8},
    },
    {
        "id": "cv",
        "title": "Cover letters that get read",
        "tags": ["writing"],
        "affinity": {"nana": 0.9, "riri": 0.3},
    },
    {
        "id": "burnout",
        "title": "Working through burnout",
        "tags": ["stress"],
        "affinity": {"lua": 1.0},
    },
    {
        "id": "roadmap",
        "title": "A one-year learning roadmap",
        "tags": ["career", "plan"],
        "affinity": {"riri": 0.9},
    },
    {
        "id": "ko-py",
        "title": "파이썬 KeyError 디버깅",
        "tags": ["파이썬", "오류"],
        "affinity": {"elro": 0.95},
    },
    {
        "id": "ko-cv",
        "title": "읽히는 자기소개서 쓰기",
        "tags": ["자기소개서", "글쓰기"],
        "description": "Édition et relecture",
        "affinity": {"nana": 1.0},
    },
    {
        "id": "nobody",
        "title": "Slides that tell a story",
        "tags": ["slides"],
        "affinity": {"nana": 0.7},
    },
]
TEXTS = [" ".join([i["title"], *i["tags"], i.get("description", "")]).strip() for i in TEXT_ITEMS]
INTERACTIONS = [
    ("ann", "py-err", 3.0),
    ("ann", "sql", 1.0),
    ("bob", "py-err", 1.0),
    ("bob", "ko-py", 2.0),
    ("bob", "sql", 1.0),
    ("cat", "cv", 2.0),
    ("cat", "ko-cv", 1.0),
    ("dan", "burnout", 1.0),
    ("dan", "roadmap", 2.0),
    ("dan", "cv", 1.0),
    ("ann", "py-err", 1.0),  # repeated pair: weights add up
]


def dense_interactions() -> tuple[npt.NDArray[np.float64], dict[str, int]]:
    ids = [i["id"] for i in TEXT_ITEMS]
    users = {u: n for n, u in enumerate(dict.fromkeys(u for u, _, _ in INTERACTIONS))}
    matrix = np.zeros((len(users), len(ids)))
    for user, item, weight in INTERACTIONS:
        matrix[users[user], ids.index(item)] += weight
    return matrix, users


@pytest.fixture(scope="module")
def scorer() -> persona.HybridScorer:
    return persona.HybridScorer(TEXT_ITEMS, INTERACTIONS, n_features=N_FEATURES)


# Collaborative part --------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 2, 50], ids=["m1", "m2", "m50"])
def test_neighbour_lists_match_dense_cosine(m: int) -> None:
    rng = np.random.default_rng(m)
    # Small integer weights give exact dot products and many equal similarities (ties).
    matrix = rng.integers(0, 3, size=(40, 30)) * (rng.random((40, 30)) < 0.25)
    matrix[:, 7] = 0  # an item nobody touched
    ids = [f"item{j}" for j in range(30)]
    scorer = persona.HybridScorer.from_embeddings(
        ids, rng.normal(size=(30, 4)), interactions=sp.csr_matrix(matrix), neighbours=m
    )
    expected = reference_neighbours(matrix.astype(np.float64), m)
    for j, item in enumerate(ids):
        got_ids, got_sims = scorer.neighbours_of(item)
        assert list(got_ids) == [ids[i] for i, _ in expected[j]], item
        np.testing.assert_allclose(got_sims, [s for _, s in expected[j]], rtol=1e-6)
    assert scorer.cold_items[7] and not scorer.cold_items[np.flatnonzero(matrix.sum(0))].any()


def test_sparse_zeros_are_no_interaction() -> None:
    matrix, _ = dense_interactions()
    stored = sp.coo_matrix(matrix)
    stored.data[0] = 0.0  # kept in the structure, but no interaction
    reference = matrix.copy()
    reference[stored.row[0], stored.col[0]] = 0.0
    scorer = persona.HybridScorer(TEXT_ITEMS, stored, n_features=N_FEATURES)
    expected = reference_neighbours(reference, 50)
    for j, item in enumerate(TEXT_ITEMS):
        got_ids, _ = scorer.neighbours_of(item["id"])
        assert list(got_ids) == [TEXT_ITEMS[i]["id"] for i, _ in expected[j]]


def test_interaction_formats_agree() -> None:
    matrix, users = dense_interactions()
    frame = pd.DataFrame(INTERACTIONS, columns=["user_id", "item_id", "weight"])
    forms: list[object] = [INTERACTIONS, frame, sp.csr_matrix(matrix), sp.coo_matrix(matrix)]
    expected = reference_neighbours(matrix, 50)
    for form in forms:
        scorer = persona.HybridScorer(TEXT_ITEMS, form, n_features=N_FEATURES)
        for j, item in enumerate(TEXT_ITEMS):
            got_ids, got_sims = scorer.neighbours_of(item["id"])
            assert list(got_ids) == [TEXT_ITEMS[i]["id"] for i, _ in expected[j]]
            np.testing.assert_allclose(got_sims, [s for _, s in expected[j]], rtol=1e-6)
    unweighted = pd.DataFrame([(u, i) for u, i, _ in INTERACTIONS], columns=["user_id", "item_id"])
    binary = persona.HybridScorer(TEXT_ITEMS, unweighted, n_features=N_FEATURES)
    counts = np.zeros_like(matrix)
    for user, item, _ in INTERACTIONS:
        counts[users[user], [i["id"] for i in TEXT_ITEMS].index(item)] += 1
    ref = reference_neighbours(counts, 50)
    np.testing.assert_allclose(binary.neighbours_of("py-err")[1], [s for _, s in ref[0]], rtol=1e-6)


def test_cf_part_is_weighted_mean_of_neighbour_similarity(scorer: persona.HybridScorer) -> None:
    matrix, users = dense_interactions()
    lists = reference_neighbours(matrix, 50)
    n = len(TEXT_ITEMS)
    for user, row in users.items():
        history = {j: float(matrix[row, j]) for j in np.flatnonzero(matrix[row])}
        top = scorer.top_k(user, None, None, k=n)
        assert not top.cold_start and top.weights == (1.0, 0.0, 0.0)
        cf = np.empty(n)
        cf[top.indices] = top.cf
        np.testing.assert_allclose(cf, reference_cf(lists, history, n), rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(top.scores, top.cf)


# Content and persona parts -------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["python keyerror debugging", "파이썬 오류가 나요", "COVER letter writing", "édition", "zzz"],
    ids=["english", "korean", "case", "accent", "no-overlap"],
)
def test_cb_part_matches_hashed_char_ngram_tfidf(scorer: persona.HybridScorer, query: str) -> None:
    top = scorer.top_k("unknown-user", query, None, k=len(TEXT_ITEMS))
    assert top.cold_start and top.weights == (0.0, 1.0, 0.0)
    cb = np.empty(len(TEXT_ITEMS))
    cb[top.indices] = top.cb
    np.testing.assert_allclose(cb, reference_cb(TEXTS, query), rtol=1e-5, atol=1e-6)


def test_decomposed_korean_matches_composed(scorer: persona.HybridScorer) -> None:
    composed = "파이썬 디버깅"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    a = scorer.top_k(None, composed, None, k=3)
    b = scorer.top_k(None, decomposed, None, k=3)
    assert list(a.item_ids) == list(b.item_ids) and a.item_ids[0] == "ko-py"
    np.testing.assert_array_equal(a.scores, b.scores)


def test_pa_part_is_probability_weighted_affinity(scorer: persona.HybridScorer) -> None:
    probs = {"lua": 0.1, "elro": 0.6, "riri": 0.05, "nana": 0.25}
    affinity = np.array([[i["affinity"].get(p, 0.0) for p in PERSONAS] for i in TEXT_ITEMS])
    expected = affinity @ np.array([probs[p] for p in PERSONAS])
    top = scorer.top_k(None, None, probs, k=len(TEXT_ITEMS))
    pa = np.empty(len(TEXT_ITEMS))
    pa[top.indices] = top.pa
    np.testing.assert_allclose(pa, expected, rtol=1e-6)
    # The same probabilities as an array aligned to scorer.personas (the built-in order).
    assert scorer.personas == PERSONAS
    as_array = scorer.top_k(None, None, [probs[p] for p in scorer.personas], k=len(TEXT_ITEMS))
    np.testing.assert_array_equal(as_array.scores, top.scores)
    assert list(top.indices) == list(brute_force_order(expected.astype(np.float32)))


def test_hybrid_score_combines_parts_with_the_weights(scorer: persona.HybridScorer) -> None:
    probs = {"elro": 0.7, "nana": 0.3}
    matrix, users = dense_interactions()
    lists = reference_neighbours(matrix, 50)
    history = {j: float(matrix[users["bob"], j]) for j in np.flatnonzero(matrix[users["bob"]])}
    affinity = np.array([[i["affinity"].get(p, 0.0) for p in PERSONAS] for i in TEXT_ITEMS])
    pa = affinity @ np.array([probs.get(p, 0.0) for p in PERSONAS])
    cf = reference_cf(lists, history, len(TEXT_ITEMS))
    cb = reference_cb(TEXTS, "sql database tuning")
    expected = 0.4 * cf + 0.4 * cb + 0.2 * pa
    top = scorer.top_k("bob", "sql database tuning", probs, k=len(TEXT_ITEMS))
    assert top.weights == (0.4, 0.4, 0.2) and not top.cold_start
    np.testing.assert_allclose(top.scores, expected[top.indices], rtol=1e-5, atol=1e-6)
    assert list(top.indices) == list(ranked_by_score(top, len(TEXT_ITEMS)))
    assert top.item_ids[0] == "sql"


# Cold start, exclusions, batches -------------------------------------------------------


def test_cold_start_user_redistributes_cf_weight(scorer: persona.HybridScorer) -> None:
    probs = {"nana": 1.0}
    top = scorer.top_k("never-seen", "cover letter", probs, k=3)
    assert top.cold_start and top.weights == pytest.approx((0.0, 0.4 / 0.6, 0.2 / 0.6))
    np.testing.assert_array_equal(top.cf, 0)
    np.testing.assert_allclose(
        top.scores, top.weights[1] * top.cb + top.weights[2] * top.pa, rtol=1e-6
    )
    assert top.item_ids[0] == "cv"
    # A history-less user gives the same result whatever id it has.
    again = scorer.top_k(12345, "cover letter", probs, k=3)
    assert list(again.item_ids) == list(top.item_ids)


def test_cold_items_are_flagged(scorer: persona.HybridScorer) -> None:
    assert list(scorer.item_ids[scorer.cold_items]) == ["nobody"]
    top = scorer.top_k("cat", "slides story", None, k=len(TEXT_ITEMS))
    flagged = dict(zip(top.item_ids, top.cold_items, strict=True))
    assert flagged["nobody"] and not flagged["cv"]
    assert top.cf[list(top.item_ids).index("nobody")] == 0


def test_exclude_seen_drops_history(scorer: persona.HybridScorer) -> None:
    top = scorer.top_k("bob", "python", None, k=len(TEXT_ITEMS), exclude_seen=True)
    assert not {"py-err", "ko-py", "sql"} & set(top.item_ids)
    assert len(top) == len(TEXT_ITEMS) - 3


def test_top_k_many_equals_top_k(scorer: persona.HybridScorer) -> None:
    users = ["ann", "bob", "nobody-new", "cat"]
    queries = ["python", None, "cover letter", "파이썬"]
    probs = [{"elro": 1.0}, {"nana": 0.5, "lua": 0.5}, {"nana": 1.0}, {"riri": 1.0}]
    many = scorer.top_k_many(users, queries, probs, k=4, exclude_seen=True, threads=2)
    for result, user, query, p in zip(many, users, queries, probs, strict=True):
        one = scorer.top_k(user, query, p, k=4, exclude_seen=True)
        assert list(result.item_ids) == list(one.item_ids)
        np.testing.assert_array_equal(result.scores, one.scores)
        assert result.cold_start == one.cold_start and result.weights == one.weights


def test_concurrent_top_k_and_fit_give_consistent_results() -> None:
    scorer = persona.HybridScorer(TEXT_ITEMS, INTERACTIONS, n_features=N_FEATURES)
    expected = scorer.top_k("bob", "python", {"elro": 1.0}, k=5)

    def work(n: int) -> list[str]:
        if n % 10 == 0:
            scorer.fit(INTERACTIONS)  # the same data: results must not change
        return list(scorer.top_k("bob", "python", {"elro": 1.0}, k=5).item_ids)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(200)))
    assert all(r == list(expected.item_ids) for r in results)


# Dense path ----------------------------------------------------------------------------


def numpy_top_k(
    vectors: npt.NDArray[np.float32], query: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    scores = np.clip((vectors.astype(np.float64) @ query) / (norms * np.linalg.norm(query)), 0, 1)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return order, scores[order]


@pytest.mark.parametrize("threads", [1, 2], ids=["1thread", "2threads"])
def test_dense_top_k_equals_numpy(threads: int) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(20_000, 64)).astype(np.float32)
    scorer = persona.HybridScorer.from_embeddings(np.arange(20_000), vectors)
    for _ in range(5):
        query = rng.normal(size=64).astype(np.float32)
        top = scorer.top_k(None, query, None, k=10, threads=threads)
        ids, scores = numpy_top_k(vectors, query, 10)
        np.testing.assert_array_equal(top.item_ids, ids)
        np.testing.assert_allclose(top.scores, scores, rtol=1e-5)
        assert top.cold_start and top.weights == (0.0, 1.0, 0.0)


def ranked_by_numpy(
    vectors: npt.NDArray[np.float32], query: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every item ranked by clipped cosine (float64), equal scores in catalog order."""
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    scores = np.clip((vectors.astype(np.float64) @ query) / (norms * np.linalg.norm(query)), 0, 1)
    order = np.lexsort((np.arange(scores.size), -scores))[:k]
    return order, scores[order]


# More than one 32,768-row chunk, so ties and thresholds also cross chunk boundaries.
TIE_ROWS = 70_000


@pytest.mark.parametrize("threads", [1, 2], ids=["1thread", "2threads"])
def test_dense_top_k_ties_keep_catalog_order(threads: int) -> None:
    rng = np.random.default_rng(21)
    distinct = rng.normal(size=(40, 64)).astype(np.float32)
    vectors = distinct[rng.integers(0, 40, size=TIE_ROWS)]
    query = rng.normal(size=64).astype(np.float32)
    vectors[[5, 40_000, 69_999]] = query  # cosine 1 (clipped): three more equal scores
    scorer = persona.HybridScorer.from_embeddings(np.arange(TIE_ROWS), vectors)
    for k in (1, 10, 200):
        top = scorer.top_k(None, query, None, k=k, threads=threads)
        ids, scores = ranked_by_numpy(vectors, query, k)
        np.testing.assert_array_equal(top.item_ids, ids)
        np.testing.assert_allclose(top.scores, scores, rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2], ids=["1thread", "2threads"])
def test_dense_top_k_when_few_cosines_are_positive(threads: int) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(TIE_ROWS, 16)).astype(np.float32)
    vectors[:, 0] = np.abs(vectors[:, 0]) + 8.0
    query = np.zeros(16, dtype=np.float32)
    query[0] = -1.0
    vectors[[12, 30_000]] = -vectors[[12, 30_000]]  # the only positive cosines
    scorer = persona.HybridScorer.from_embeddings(np.arange(TIE_ROWS), vectors)
    top = scorer.top_k(None, query, None, k=10, threads=threads)
    ids, scores = ranked_by_numpy(vectors, query, 10)
    # Two positive scores, then zeros (clipped negative cosines) in catalog order.
    assert set(ids[:2]) == {12, 30_000} and list(ids[2:]) == list(range(8))
    np.testing.assert_array_equal(top.item_ids, ids)
    np.testing.assert_allclose(top.scores, scores, rtol=1e-5)


@pytest.mark.parametrize("dim", [3, 7, 16, 33, 64, 100], ids=lambda d: f"d{d}")
def test_dense_top_k_equals_numpy_for_any_dimension(dim: int) -> None:
    rng = np.random.default_rng(dim)
    vectors = rng.normal(size=(40_000, dim)).astype(np.float32)
    scorer = persona.HybridScorer.from_embeddings(np.arange(40_000), vectors)
    for _ in range(3):
        query = rng.normal(size=dim).astype(np.float32)
        top = scorer.top_k(None, query, None, k=25, threads=2)
        ids, scores = ranked_by_numpy(vectors, query, 25)
        np.testing.assert_array_equal(top.item_ids, ids)
        np.testing.assert_allclose(top.scores, scores, rtol=1e-5)


def test_dense_top_k_separates_rows_closer_than_int8_resolution() -> None:
    # Rows with one large spike (coarse int8 steps for the rest) and near-copies of the best
    # row that differ by ~1e-3, below the int8 step but far above float32 rounding.
    rng = np.random.default_rng(9)
    vectors = rng.normal(size=(50_000, 64)).astype(np.float32)
    vectors[::7, 3] = 400.0
    query = rng.normal(size=64).astype(np.float32)
    base = query + rng.normal(scale=0.5, size=64).astype(np.float32)
    copies = rng.choice(50_000, size=30, replace=False)
    vectors[copies] = base + rng.normal(scale=1e-3, size=(30, 64)).astype(np.float32)
    scorer = persona.HybridScorer.from_embeddings(np.arange(50_000), vectors)
    for threads in (1, 2):
        top = scorer.top_k(None, query, None, k=20, threads=threads)
        ids, scores = ranked_by_numpy(vectors, query, 20)
        assert set(ids) <= set(copies)
        np.testing.assert_array_equal(top.item_ids, ids)
        np.testing.assert_allclose(top.scores, scores, rtol=1e-5)


def test_dense_input_is_read_in_place_or_cast_once() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    scorer = persona.HybridScorer.from_embeddings(np.arange(500), vectors)
    assert np.shares_memory(scorer._state[0].vectors, vectors)
    query = rng.normal(size=16)
    # float64 and Fortran-ordered inputs are converted (forcecast) and give the same ranking.
    for other in (vectors.astype(np.float64), np.asfortranarray(vectors)):
        converted = persona.HybridScorer.from_embeddings(np.arange(500), other)
        a = converted.top_k(None, query, None, k=7)
        b = scorer.top_k(None, query.astype(np.float32), None, k=7)
        np.testing.assert_array_equal(a.item_ids, b.item_ids)
        np.testing.assert_array_equal(a.scores, b.scores)


def test_dense_with_affinity_and_history() -> None:
    rng = np.random.default_rng(11)
    n = 300
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    affinity = rng.random((n, 4)).astype(np.float32)
    rows = [(f"u{u}", int(i), 1.0) for u in range(30) for i in rng.choice(n, 5, replace=False)]
    scorer = persona.HybridScorer.from_embeddings(
        np.arange(n), vectors, affinity, rows, weights=(0.5, 0.3, 0.2), neighbours=10
    )
    query = rng.normal(size=8).astype(np.float32)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    top = scorer.top_k("u3", query, probs, k=n)
    _, cb = numpy_top_k(vectors, query, n)
    full_cb = np.empty(n)
    full_cb[numpy_top_k(vectors, query, n)[0]] = cb
    np.testing.assert_allclose(top.cb, full_cb[top.indices], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(top.pa, (affinity @ probs)[top.indices], rtol=1e-5)
    np.testing.assert_allclose(
        top.scores, 0.5 * top.cf + 0.3 * top.cb + 0.2 * top.pa, rtol=1e-6, atol=1e-7
    )
    assert list(top.indices) == list(ranked_by_score(top, n))


# Invariants (hypothesis) ---------------------------------------------------------------

weights_strategy = st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10)).filter(
    lambda t: sum(t) > 0
)


@settings(max_examples=40, deadline=None)
@given(weights=weights_strategy, seed=st.integers(0, 2**32 - 1), k=st.integers(1, 60))
def test_invariants(weights: tuple[int, int, int], seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    total = sum(weights)
    w = (weights[0] / total, weights[1] / total, weights[2] / total)
    n = int(rng.integers(1, 50))
    vectors = rng.normal(size=(n, 6)).astype(np.float32)
    affinity = rng.random((n, 4)).astype(np.float32)
    interactions = sp.random(12, n, density=0.2, random_state=int(seed % 2**31), format="csr")
    scorer = persona.HybridScorer.from_embeddings(
        np.arange(n), vectors, affinity, interactions, weights=w, neighbours=5
    )
    probs = rng.dirichlet(np.ones(4))
    query = rng.normal(size=6).astype(np.float32)
    user = int(rng.integers(0, 14))  # 12 and 13 are unknown users
    top = scorer.top_k(user, query, probs, k=k)
    everything = scorer.top_k(user, query, probs, k=n)
    # Scores and parts in [0, 1]; sorted with ties in item order; top-k is a prefix of all.
    for part in (top.scores, top.cf, top.cb, top.pa):
        assert np.all((part >= 0) & (part <= 1))
    assert list(everything.indices) == list(ranked_by_score(everything, n))
    assert len(top) == min(k, n)
    assert list(top.indices) == list(everything.indices[: len(top)])
    # Effective weights: CF's weight goes to CB and PA in proportion when the user is cold.
    if top.cold_start:
        rest = w[1] + w[2]
        expected = (0.0, w[1] / rest, w[2] / rest) if rest > 0 else (0.0, 0.5, 0.5)
        assert top.weights == pytest.approx(expected, rel=1e-12)
        assert np.all(top.cf == 0)
    else:
        assert top.weights == pytest.approx(w, rel=1e-12)
    assert sum(top.weights) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(
        top.scores,
        top.weights[0] * top.cf + top.weights[1] * top.cb + top.weights[2] * top.pa,
        rtol=1e-6,
        atol=1e-7,
    )


# Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ((0.5, 0.5, 0.5), "sum to 1"),
        ((1.2, -0.2, 0.0), ">= 0"),
        ((float("nan"), 0.5, 0.5), "finite"),
        ((0.5, 0.5), "three numbers"),
    ],
    ids=["sum", "negative", "nan", "length"],
)
def test_bad_weights(weights: tuple[float, ...], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as error:
        persona.HybridScorer(TEXT_ITEMS, INTERACTIONS, weights)
    assert error.value.field == "weights"


def test_bad_inputs_name_the_field(scorer: persona.HybridScorer) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(10, 4)).astype(np.float32)
    cases: list[tuple[str, Any]] = [
        ("item_vectors", lambda: persona.HybridScorer.from_embeddings(np.arange(9), vectors)),
        (
            "affinity",
            lambda: persona.HybridScorer.from_embeddings(np.arange(10), vectors, np.ones((10, 3))),
        ),
        (
            "item_vectors",
            lambda: persona.HybridScorer.from_embeddings(
                np.arange(10), np.where(np.eye(10, 4) > 0, np.nan, vectors)
            ),
        ),
        ("item_ids", lambda: persona.HybridScorer.from_embeddings(np.zeros(10), vectors)),
        ("k", lambda: scorer.top_k("ann", "python", None, k=0)),
        ("persona_probs", lambda: scorer.top_k("ann", "python", {"yoda": 1.0})),
        ("persona_probs", lambda: scorer.top_k("ann", "python", [0.5, 0.5])),
        ("persona_probs", lambda: scorer.top_k("ann", "python", {"lua": 0.9, "elro": 0.9})),
        ("query", lambda: scorer.top_k("ann", "   ")),
        ("query", lambda: scorer.top_k("ann", np.ones(4))),
        ("query", lambda: scorer.top_k("nobody-at-all", None, None)),
        ("query", lambda: scorer.top_k("nobody-at-all", None, {})),
        ("interactions", lambda: persona.HybridScorer(TEXT_ITEMS, [("u", "ghost", 1.0)])),
        ("interactions", lambda: persona.HybridScorer(TEXT_ITEMS, [("u", "cv", -1.0)])),
        ("items", lambda: persona.HybridScorer([{"id": "a", "title": "x", "affinity": {"x": 1}}])),
        ("neighbours", lambda: persona.HybridScorer(TEXT_ITEMS, neighbours=0)),
        ("n_features", lambda: persona.HybridScorer(TEXT_ITEMS, n_features=2**64)),
        ("query", lambda: scorer.top_k("ann", "python \ud800")),
        ("query", lambda: scorer.top_k("ann", "\u200b\u3164")),
        ("items[0]", lambda: persona.HybridScorer([{"id": "a", "title": "x\ud800"}])),
    ]
    for field, call in cases:
        with pytest.raises(InvalidArgument) as error:
            call()
        assert error.value.field == field, (field, str(error.value))
    dense = persona.HybridScorer.from_embeddings(np.arange(10), vectors)
    for query in (np.ones(5), np.array([np.nan, 0, 0, 0])):
        with pytest.raises(InvalidArgument) as error:
            dense.top_k(None, query)
        assert error.value.field == "query"
    with pytest.raises(InvalidArgument, match="'ghost', 'spook'") as error:
        persona.HybridScorer(TEXT_ITEMS, [("u", "ghost"), ("v", "spook"), ("w", "cv")])
    assert error.value.field == "interactions"


def test_sizes_beyond_the_catalog_mean_the_whole_catalog(scorer: persona.HybridScorer) -> None:
    n = len(TEXT_ITEMS)
    everything = scorer.top_k("ann", "python", None, k=n)
    for k in (n + 1, 2**62, 2**64):
        top = scorer.top_k("ann", "python", None, k=k)
        np.testing.assert_array_equal(top.indices, everything.indices)
    many = scorer.top_k_many(["ann", "bob"], ["python", "career"], None, k=2**64)
    assert [len(t) for t in many] == [n, n]
    # Neighbour lists hold every other item either way, so the scores are the same.
    wide = persona.HybridScorer(TEXT_ITEMS, INTERACTIONS, neighbours=2**64, n_features=N_FEATURES)
    exact = persona.HybridScorer(TEXT_ITEMS, INTERACTIONS, neighbours=n, n_features=N_FEATURES)
    np.testing.assert_array_equal(
        wide.top_k("ann", "python", None, k=n).scores,
        exact.top_k("ann", "python", None, k=n).scores,
    )
    assert len(scorer.top_k("ann", "python", None, k=3, threads=2**64)) == 3


# The sample catalog --------------------------------------------------------------------


def test_sample_catalog_is_what_the_script_writes(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "make_sample_catalog.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True)
    for name in ("items.json", "interactions.csv"):
        assert (tmp_path / name).read_bytes() == (CATALOG / name).read_bytes(), name


def test_sample_catalog_shape_and_scorer() -> None:
    items = json.loads((CATALOG / "items.json").read_text(encoding="utf-8"))
    with (CATALOG / "interactions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert 60 <= len(items) <= 120 and len({i["id"] for i in items}) == len(items)
    assert {i["lang"] for i in items} == {"en", "ko"}
    assert {i["kind"] for i in items} == {"course", "article", "template", "exercise"}
    for item in items:
        assert set(item["affinity"]) == set(PERSONAS)
        assert all(0 <= v <= 1 for v in item["affinity"].values())
    assert len({r["user_id"] for r in rows}) == 50 and 200 <= len(rows) <= 600
    scorer = persona.HybridScorer.sample()
    assert scorer.item_ids.size == len(items)
    top = scorer.top_k("user01", "파이썬 디버깅 KeyError", {"elro": 0.9, "lua": 0.1}, k=5)
    assert not top.cold_start and top.item_ids[0].startswith("elro-")
