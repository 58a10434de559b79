"""The persona router as a user sees it: features, fit, route, calibration, save/load, swaps."""

from __future__ import annotations

import importlib.util
import itertools
import json
import pickle
import threading
import time
import types
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from lumengate import persona
from lumengate._native import core
from lumengate.errors import InvalidArgument, ParseError

native = core.persona


@dataclass(frozen=True)
class FakePersona:
    id: str
    keywords_en: tuple[str, ...]
    keywords_ko: tuple[str, ...]


PERSONAS = (
    FakePersona(
        "lua", ("stress", "anxious", "lonely", "burnout"), ("스트레스", "불안", "외로", "우울")
    ),
    FakePersona(
        "elro", ("python", "error", "bug", "database", "log"), ("파이썬", "에러", "오류", "코드")
    ),
    FakePersona("riri", ("career", "roadmap", "plan"), ("진로", "커리어", "계획")),
    FakePersona(
        "nana",
        ("email", "essay", "proofread", "translate"),
        ("이메일", "자기소개서", "번역", "교정"),
    ),
)
IDS = [p.id for p in PERSONAS]

# Words per persona that are not keywords, so the n-gram stage has something to learn.
TOPIC = {
    "lua": ["feel", "tired", "sad", "mood", "sleep", "힘들어요", "마음이", "지쳐요", "걱정돼요"],
    "elro": ["exception", "compile", "server", "query", "install", "실행", "설치", "서버", "함수"],
    "riri": ["future", "job", "goal", "industry", "option", "미래", "회사", "목표", "이직"],
    "nana": ["draft", "sentence", "grammar", "letter", "tone", "문장", "초안", "메일", "요약"],
}
FILLER = ["please", "help", "me", "with", "this", "today", "좀", "도와주세요", "요즘", "너무"]


def synthetic(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Queries built from each persona's topic words and keywords plus shared filler."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        p = PERSONAS[i % 4]
        words = list(rng.choice(TOPIC[p.id], size=2))
        if rng.random() < 0.6:
            words.append(str(rng.choice([*p.keywords_en, *p.keywords_ko])))
        if rng.random() < 0.15:
            # Some noise: a word of another persona.
            other = PERSONAS[(i + 1 + int(rng.integers(3))) % 4].id
            words.append(str(rng.choice(TOPIC[other])))
        words += list(rng.choice(FILLER, size=2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(p.id)
    return texts, labels


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str], list[str], list[str]]:
    train_x, train_y = synthetic(240, 1)
    test_x, test_y = synthetic(120, 2)
    return train_x, train_y, test_x, test_y


@pytest.fixture(scope="module")
def fitted(data: tuple[list[str], ...]) -> persona.Router:
    train_x, train_y, _, _ = data
    return persona.Router(PERSONAS).fit(train_x, train_y, seed=0, C=5.0)


# Text and the lexicon ---------------------------------------------------------------------


def brute_force(patterns: list[bytes], text: bytes) -> list[tuple[int, int]]:
    return sorted(
        (p, start)
        for p, pattern in enumerate(patterns)
        for start in range(len(text) - len(pattern) + 1)
        if text[start : start + len(pattern)] == pattern
    )


def test_aho_corasick_finds_exactly_what_brute_force_finds() -> None:
    rng = np.random.default_rng(7)
    alphabet = ["a", "b", "c", "ab", "가", "나", " "]
    for _ in range(300):
        patterns = ["".join(rng.choice(alphabet, size=int(rng.integers(1, 4)))) for _ in range(6)]
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 40))))
        found = sorted(native.aho_corasick_matches(patterns, text))
        expected = brute_force([p.encode() for p in patterns], text.encode())
        assert found == expected, (patterns, text)


def test_aho_corasick_with_more_nodes_than_16_bit_states_hold() -> None:
    # Over 2^15 trie nodes switches the transition table to 32-bit entries.
    rng = np.random.default_rng(11)
    letters = list("abcdefghij가나다")
    patterns = ["".join(rng.choice(letters, size=9)) for _ in range(5000)]
    texts = [
        "".join(rng.choice([*letters, " ", "z"], size=200)),
        patterns[17] + " x " + patterns[4999] + patterns[2500][:5],
    ]
    encoded = [p.encode() for p in patterns]
    for text in texts:
        found = sorted(native.aho_corasick_matches(patterns, text))
        assert found == brute_force(encoded, text.encode())
    assert len(sorted(native.aho_corasick_matches(patterns, texts[1]))) >= 2


def test_aho_corasick_rejects_empty_pattern() -> None:
    with pytest.raises(InvalidArgument, match=r"patterns\[1\]"):
        native.aho_corasick_matches(["a", ""], "abc")


def test_decomposed_korean_and_capitals_normalise_to_the_same_text() -> None:
    composed = "파이썬에서 KeyError가 나요"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert native.normalize_query(decomposed) == native.normalize_query(composed)
    assert native.normalize_query(composed) == unicodedata.normalize("NFC", composed).casefold()


def test_normalisation_equals_nfc_casefold_on_ascii_hangul_and_their_edges() -> None:
    # ASCII and precomposed Hangul take a fast path; the edges around it take utf8proc's.
    rng = np.random.default_rng(7)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "\x1f", "가", "힣", "한", "글"]
    texts = ["".join(rng.choice(alphabet, size=int(rng.integers(1, 40)))) for _ in range(300)]
    texts += [
        "가\u11a8",  # syllable + conjoining final consonant: NFC composes them into 각
        "A\u0301bc",  # combining acute: NFC composes Á, then case folding lowers it
        "ＡＢＣ 파이썬",  # full-width Latin folds to full-width lower case
        "ㅈㅅ ㅠㅠ",  # compatibility jamo
        "Straße KeyError",
        "\u1100\u1161 KEY",  # conjoining jamo compose into 가
    ]
    for text in texts:
        if not text.strip():
            with pytest.raises(InvalidArgument, match="whitespace"):
                native.normalize_query(text)
            continue
        assert native.normalize_query(text) == unicodedata.normalize("NFC", text).casefold(), text


def test_lexicon_is_whole_word_for_latin_and_substring_for_hangul(fitted: persona.Router) -> None:
    r = fitted.route("catalog of 파이썬에서 나는 에러가")
    assert r.evidence.keywords["elro"] == ("파이썬", "에러")  # particles attached
    assert "log" not in r.evidence.keywords["elro"]  # inside "catalog"
    r = fitted.route("the LOG shows a Python error가 나요")
    assert set(r.evidence.keywords["elro"]) == {"log", "python", "error"}
    # NFD input matches the NFC keyword.
    r = fitted.route(unicodedata.normalize("NFD", "자기소개서 교정 부탁해요"))
    assert r.evidence.keywords["nana"] == ("자기소개서", "교정")


def test_ngram_block_equals_sklearn_char_wb_tfidf(data: tuple[list[str], ...]) -> None:
    import xxhash
    from sklearn.feature_extraction import text as sklearn_text

    train_x, train_y, test_x, _ = data
    # Without keywords the features are the n-gram block plus 8 empty lexicon columns.
    plain = [FakePersona(p.id, (), ()) for p in PERSONAS]
    router = persona.Router(plain).fit(train_x, train_y)
    char_wb = sklearn_text.CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()

    def buckets(text: str) -> list[int]:
        # scikit-learn's own char_wb n-grams, hashed into our 2**18 buckets with XXH3.
        return [xxhash.xxh3_64_intdigest(g.encode()) & (2**18 - 1) for g in char_wb(text)]

    counts = sklearn_text.CountVectorizer(analyzer=buckets)
    tfidf = sklearn_text.TfidfTransformer(sublinear_tf=True)
    normalised = [native.normalize_query(t) for t in train_x]
    reference = tfidf.fit_transform(counts.fit_transform(normalised))
    ours = router.features(train_x)
    assert ours.shape[1] == reference.shape[1] + 8
    # Canonical CSR, as scipy and scikit-learn build it: ascending columns, none repeated.
    assert ours.has_canonical_format
    assert all(np.all(np.diff(ours.indices[a:b]) > 0) for a, b in itertools.pairwise(ours.indptr))
    np.testing.assert_allclose(ours[:, :-8].toarray(), reference.toarray(), rtol=1e-12, atol=1e-15)
    # Unseen n-grams at routing time count in the norm with the idf of a never-seen term
    # (smooth idf with df = 0) but get no column.
    idf_unseen = np.log(1 + len(train_x)) + 1
    ours_test = router.features(test_x)[:, :-8].toarray()
    for row, text in zip(ours_test, test_x, strict=True):
        values: dict[int, int] = {}
        for b in buckets(native.normalize_query(text)):
            values[b] = values.get(b, 0) + 1
        expected = np.zeros(reference.shape[1])
        norm2 = 0.0
        for b, count in values.items():
            column = counts.vocabulary_.get(b)
            idf = idf_unseen if column is None else tfidf.idf_[column]
            weight = (1 + np.log(count)) * idf
            norm2 += weight**2
            if column is not None:
                expected[column] = weight
        np.testing.assert_allclose(row, expected / np.sqrt(norm2), rtol=1e-12, atol=1e-15)


def test_ngram_counts_hold_for_huge_queries_and_do_not_leak_between_queries(
    data: tuple[list[str], ...],
) -> None:
    import threading

    import xxhash
    from sklearn.feature_extraction import text as sklearn_text

    train_x, train_y, test_x, _ = data
    plain = [FakePersona(p.id, (), ()) for p in PERSONAS]
    router = persona.Router(plain, max_query_bytes=1 << 20).fit(train_x, train_y)
    char_wb = sklearn_text.CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    # Random Hangul and Latin words: more n-grams (~300,000) than the 2**18 buckets, and nearly
    # every bucket used, so n-gram counting works at its largest.
    rng = np.random.default_rng(7)
    alphabet = [chr(c) for c in range(0xAC00, 0xAC00 + 400)] + list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(alphabet, size=rng.integers(1, 7))) for _ in range(30_000)]
    huge = " ".join(words)

    def buckets(text: str) -> list[int]:
        return [xxhash.xxh3_64_intdigest(g.encode()) & (2**18 - 1) for g in char_wb(text)]

    counts = sklearn_text.CountVectorizer(analyzer=buckets)
    tfidf = sklearn_text.TfidfTransformer(sublinear_tf=True)
    tfidf.fit(counts.fit_transform([native.normalize_query(t) for t in train_x]))
    values: dict[int, int] = {}
    for b in buckets(native.normalize_query(huge, 1 << 20)):
        values[b] = values.get(b, 0) + 1
    assert sum(values.values()) > 2**18 and len(values) > 2**17
    # Most buckets are unseen in fit and count only in the norm, which holds every bucket's
    # count, so one wrong count anywhere changes the whole row.
    ours = router.features([huge])[:, :-8].toarray()[0]
    idf_unseen = np.log(1 + len(train_x)) + 1
    expected = np.zeros_like(ours)
    norm2 = 0.0
    for b, count in values.items():
        column = counts.vocabulary_.get(b)
        weight = (1 + np.log(count)) * (idf_unseen if column is None else tfidf.idf_[column])
        norm2 += weight**2
        if column is not None:
            expected[column] = weight
    np.testing.assert_allclose(ours, expected / np.sqrt(norm2), rtol=1e-9, atol=1e-15)

    # The same short queries after the huge one, and first on a fresh thread: equal rows.
    after = router.features(test_x[:20]).toarray()
    fresh: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: fresh.append(router.features(test_x[:20]).toarray()))
    worker.start()
    worker.join()
    np.testing.assert_array_equal(after, fresh[0])


def _sklearn_terms(char_ngrams: tuple[int, int], word_ngrams: int) -> object:
    """scikit-learn's own char_wb and word analyzers, hashed into our 2**18 buckets with XXH3
    (word n-grams with seed 1, so a word and the same letters inside a word stay apart)."""
    import xxhash
    from sklearn.feature_extraction import text as sklearn_text

    char_wb = sklearn_text.CountVectorizer(
        analyzer="char_wb", ngram_range=char_ngrams, lowercase=False
    ).build_analyzer()
    words = sklearn_text.CountVectorizer(
        analyzer="word",
        ngram_range=(1, max(word_ngrams, 1)),
        token_pattern=r"(?u)\b\w+\b",
        lowercase=False,
    ).build_analyzer()

    def buckets(text: str) -> list[int]:
        out = [xxhash.xxh3_64_intdigest(g.encode()) & (2**18 - 1) for g in char_wb(text)]
        if word_ngrams:
            out += [xxhash.xxh3_64_intdigest(w.encode(), 1) & (2**18 - 1) for w in words(text)]
        return out

    return buckets


@pytest.mark.parametrize(
    ("char_ngrams", "word_ngrams"),
    [((2, 4), 1), ((1, 5), 2), ((3, 3), 3)],
    ids=["char2-4+words1", "char1-5+words1-2", "char3+words1-3"],
)
def test_char_and_word_ngrams_equal_sklearn_tfidf(
    data: tuple[list[str], ...], char_ngrams: tuple[int, int], word_ngrams: int
) -> None:
    from sklearn.feature_extraction import text as sklearn_text

    train_x, train_y, _, _ = data
    # Punctuation, apostrophes, digits, '_' and Hangul with particles exercise the tokenizer.
    extra = [
        "KeyError: 'user_id' in line 42 of app.py!!",
        "don't   stop (now) — c++ vs. rust?",
        "파이썬에서 에러가 나요, 도와주세요... 제발",
        "Résumé 초안 first-draft 3번째 version_2",
    ]
    texts = train_x + extra
    labels = [*train_y, "elro", "elro", "elro", "nana"]
    plain = [FakePersona(p.id, (), ()) for p in PERSONAS]
    router = persona.Router(plain).fit(
        texts, labels, char_ngrams=char_ngrams, word_ngrams=word_ngrams
    )
    assert (router.char_ngrams, router.word_ngrams) == (char_ngrams, word_ngrams)
    counts = sklearn_text.CountVectorizer(analyzer=_sklearn_terms(char_ngrams, word_ngrams))
    tfidf = sklearn_text.TfidfTransformer(sublinear_tf=True)
    normalised = [native.normalize_query(t) for t in texts]
    reference = tfidf.fit_transform(counts.fit_transform(normalised))
    ours = router.features(texts)
    assert ours.shape[1] == reference.shape[1] + 8
    np.testing.assert_allclose(ours[:, :-8].toarray(), reference.toarray(), rtol=1e-12, atol=1e-15)
    # Saved and loaded, the analyzer is the same and so are the features.
    again = persona.Router._wrap(native.Router.from_bytes(router.to_bytes()))
    assert (again.char_ngrams, again.word_ngrams) == (char_ngrams, word_ngrams)
    np.testing.assert_array_equal(again.features(extra).toarray(), router.features(extra).toarray())


def test_lexicon_weight_scales_only_the_keyword_columns(data: tuple[list[str], ...]) -> None:
    train_x, train_y, test_x, _ = data
    one = persona.Router(PERSONAS).fit(train_x, train_y)
    three = persona.Router(PERSONAS).fit(train_x, train_y, lexicon_weight=3.0)
    assert three.lexicon_weight == 3.0 and one.lexicon_weight == 1.0
    a, b = one.features(test_x).toarray(), three.features(test_x).toarray()
    assert np.count_nonzero(a[:, -8:]) > 0
    np.testing.assert_array_equal(b[:, :-8], a[:, :-8])
    np.testing.assert_allclose(b[:, -8:], 3.0 * a[:, -8:], rtol=1e-15)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"char_ngrams": (0, 4)}, r"char_ngrams: must be a \(min, max\) pair"),
        ({"char_ngrams": (5, 4)}, r"char_ngrams: must be a \(min, max\) pair"),
        ({"char_ngrams": (2, 9)}, r"char_ngrams: must be a \(min, max\) pair"),
        ({"char_ngrams": [2, 4]}, r"char_ngrams: must be a \(min, max\) pair"),
        ({"word_ngrams": 4}, r"word_ngrams: must be 0 \(none\), 1, 2 or 3, got 4"),
        ({"word_ngrams": True}, r"word_ngrams: must be 0 \(none\), 1, 2 or 3"),
        ({"lexicon_weight": -1.0}, r"lexicon_weight: must be a finite number >= 0"),
        ({"lexicon_weight": float("nan")}, r"lexicon_weight: must be a finite number >= 0"),
    ],
    ids=[
        "char-min-0",
        "char-min-above-max",
        "char-max-9",
        "char-list",
        "words-4",
        "words-bool",
        "lexicon-negative",
        "lexicon-nan",
    ],
)
def test_bad_feature_options_are_rejected_with_the_field(
    data: tuple[list[str], ...], options: dict[str, object], message: str
) -> None:
    train_x, train_y, _, _ = data
    with pytest.raises(InvalidArgument, match=message):
        persona.Router(PERSONAS).fit(train_x, train_y, **options)  # type: ignore[arg-type]


# The model --------------------------------------------------------------------------------


def test_logistic_regression_matches_sklearn(fitted: persona.Router, data: tuple) -> None:
    from sklearn import linear_model

    train_x, train_y, test_x, _ = data
    x = fitted.features(train_x)
    reference = linear_model.LogisticRegression(C=5.0, solver="lbfgs", tol=1e-12, max_iter=20000)
    reference.fit(x, train_y)
    order = [list(reference.classes_).index(p) for p in IDS]
    expected = reference.predict_proba(fitted.features(test_x))[:, order]
    ours = fitted.route_many(test_x).probabilities
    assert fitted.temperature == 1.0
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_fit_is_bit_reproducible(data: tuple) -> None:
    train_x, train_y, _, _ = data
    a = persona.Router(PERSONAS).fit(train_x, train_y, seed=3, calibration_folds=4).to_bytes()
    b = persona.Router(PERSONAS).fit(train_x, train_y, seed=3, calibration_folds=4).to_bytes()
    assert a == b
    # The seed draws the calibration folds, so another seed gives another temperature.
    c = persona.Router(PERSONAS).fit(train_x, train_y, seed=4, calibration_folds=4).to_bytes()
    assert c != a


def test_routing_is_accurate_and_scores_are_ranked(fitted: persona.Router, data: tuple) -> None:
    _, _, test_x, test_y = data
    ev = fitted.evaluate(test_x, test_y)
    assert ev.accuracy >= 0.9
    r = fitted.route("파이썬 서버 설치 에러 좀 도와주세요")
    assert r.persona == "elro"
    assert next(iter(r.scores)) == "elro"
    values = list(r.scores.values())
    assert values == sorted(values, reverse=True)
    assert r.confidence == values[0]
    assert r.margin == pytest.approx(values[0] - values[1])
    assert sum(values) == pytest.approx(1.0)
    assert not r.abstained and not r.crisis and r.safe_response is None
    # The strongest n-grams pushed toward the winner and occur in the normalised query.
    assert r.evidence.ngrams
    normalised = (
        " " + native.normalize_query("파이썬 서버 설치 에러 좀 도와주세요").replace(" ", "  ") + " "
    )
    for gram, contribution in r.evidence.ngrams:
        assert contribution > 0 and gram in normalised


def test_route_many_equals_route(fitted: persona.Router, data: tuple) -> None:
    _, _, test_x, _ = data
    batch = fitted.route_many(test_x, threads=2)
    assert batch.probabilities.shape == (len(test_x), 4)
    for i, text in enumerate(test_x):
        r = fitted.route(text)
        assert batch.personas[batch.persona[i]] == r.persona
        assert batch.confidence[i] == r.confidence
        np.testing.assert_array_equal(batch.probabilities[i], [r.scores[p] for p in IDS])
    single = fitted.route_many(test_x, threads=1)
    np.testing.assert_array_equal(single.probabilities, batch.probabilities)


def test_temperature_minimises_nll_like_scipy(fitted: persona.Router, data: tuple) -> None:
    from scipy import optimize, special

    _, _, test_x, test_y = data
    clone = persona.Router(PERSONAS)
    clone.swap_from(fitted)
    t = clone.calibrate(test_x, test_y, method="temperature")
    z = fitted.logits(test_x)
    y = np.array([IDS.index(v) for v in test_y])

    def nll(log_t: float) -> float:
        scaled = z / np.exp(log_t)
        return float(np.mean(special.logsumexp(scaled, axis=1) - scaled[np.arange(len(y)), y]))

    best = optimize.minimize_scalar(
        nll, bounds=(np.log(0.05), np.log(20)), method="bounded", options={"xatol": 1e-10}
    )
    assert t == pytest.approx(np.exp(best.x), rel=1e-5)
    assert clone.temperature == t and fitted.temperature == 1.0
    expected = special.softmax(z / t, axis=1)
    np.testing.assert_allclose(clone.route_many(test_x).probabilities, expected, atol=1e-12)
    with pytest.raises(InvalidArgument, match=r"method: 'platt'.*\['temperature', 'isotonic'\]"):
        clone.calibrate(test_x, test_y, method="platt")


def test_isotonic_calibration_equals_sklearn_isotonic_on_the_top_probability(
    fitted: persona.Router, data: tuple
) -> None:
    from scipy import special
    from sklearn.isotonic import IsotonicRegression

    train_x, _, test_x, test_y = data
    # Noisy labels, so that the top probability is over-confident and the map has work to do.
    rng = np.random.default_rng(11)
    labels = [IDS[int(rng.integers(4))] if rng.random() < 0.3 else y for y in test_y]
    clone = persona.Router(PERSONAS)
    clone.swap_from(fitted)
    t = clone.calibrate(test_x, labels, method="isotonic")
    p = special.softmax(fitted.logits(test_x) / t, axis=1)
    hit = p.argmax(axis=1) == np.array([IDS.index(v) for v in labels])
    iso = IsotonicRegression(y_min=0.25, y_max=1.0, out_of_bounds="clip").fit(p.max(axis=1), hit)
    knots_x, knots_y = clone.confidence_map
    assert len(knots_x) > 2 and np.all(np.diff(knots_x) > 0)
    np.testing.assert_allclose(knots_y, iso.predict(knots_x), atol=1e-12)
    # Routing new queries: the top probability is the isotonic value (never below the
    # rescaled runner-up), the others keep their proportions, and the ranking is unchanged.
    q = special.softmax(fitted.logits(train_x) / t, axis=1)
    top = q.argmax(axis=1)
    p1 = q.max(axis=1)
    p2 = np.sort(q, axis=1)[:, -2]
    c = np.maximum(iso.predict(p1), p2 / (1 - p1 + p2))
    expected = q * ((1 - c) / (1 - p1))[:, None]
    expected[np.arange(len(q)), top] = c
    ours = clone.route_many(train_x)
    np.testing.assert_allclose(ours.probabilities, expected, atol=1e-12)
    # A query the crisis stage flags goes to lua whatever its scores.
    calm = ~ours.crisis
    np.testing.assert_array_equal(ours.persona[calm], top[calm])
    assert all(ours.persona[ours.crisis] == IDS.index("lua"))
    # The map is saved with the model; a new temperature drops it.
    again = persona.Router._wrap(native.Router.from_bytes(clone.to_bytes()))
    np.testing.assert_array_equal(again.route_many(train_x).probabilities, ours.probabilities)
    clone._core.set_temperature(t)
    assert clone.confidence_map[0].size == 0
    np.testing.assert_allclose(clone.route_many(train_x).probabilities, q, atol=1e-12)


def test_fit_calibrates_with_isotonic_on_out_of_fold_logits(data: tuple) -> None:
    train_x, train_y, _, _ = data
    temperature = persona.Router(PERSONAS).fit(train_x, train_y, seed=2, calibration_folds=4)
    isotonic = persona.Router(PERSONAS).fit(
        train_x, train_y, seed=2, calibration_folds=4, calibration="isotonic"
    )
    # Same model and temperature; only the map is added.
    assert isotonic.temperature == temperature.temperature
    np.testing.assert_array_equal(isotonic.logits(train_x), temperature.logits(train_x))
    assert temperature.confidence_map[0].size == 0 and isotonic.confidence_map[0].size > 0
    with pytest.raises(InvalidArgument, match=r"calibration: 'platt' is not supported"):
        persona.Router(PERSONAS).fit(train_x, train_y, calibration="platt")


def test_abstain_below_threshold_goes_to_default(fitted: persona.Router, data: tuple) -> None:
    _, _, test_x, _ = data
    router = persona.Router(PERSONAS)
    router.swap_from(fitted)
    probs = router.route_many(test_x).probabilities
    router.set_abstain({p: 0.99 for p in IDS})
    assert router.default_persona == "riri"
    batch = router.route_many(test_x)
    # The crisis stage is never abstained away: a flagged query stays with lua.
    expected = (probs.max(axis=1) < 0.99) & ~batch.crisis
    np.testing.assert_array_equal(batch.abstained, expected)
    assert all(batch.persona[expected] == IDS.index("riri"))
    r = router.route(test_x[int(np.argmax(expected))])
    assert r.abstained and r.persona == "riri"
    router.set_abstain({"elro": 0.5}, default_persona="nana")
    assert router.thresholds == {"elro": 0.5} and router.default_persona == "nana"
    with pytest.raises(InvalidArgument, match="unknown persona 'bob'"):
        router.set_abstain({"bob": 0.5})
    with pytest.raises(InvalidArgument, match="default_persona"):
        router.set_abstain(None, default_persona="bob")


def test_embeddings_are_features_when_fitted_with_them(data: tuple) -> None:
    train_x, train_y, _, _ = data
    rng = np.random.default_rng(0)
    # An embedding that carries the label: the router must learn to use it.
    emb = rng.normal(size=(len(train_x), 4)).astype(np.float32)
    emb[np.arange(len(train_x)), [IDS.index(y) for y in train_y]] += 4
    plain = [FakePersona(p.id, (), ()) for p in PERSONAS]
    router = persona.Router(plain).fit(train_x, train_y, embeddings=emb)
    vector = np.zeros(4, dtype=np.float32)
    vector[IDS.index("nana")] = 6
    assert router.route("hello there", embedding=vector).persona == "nana"
    vector[:] = 0
    vector[IDS.index("lua")] = 6
    assert router.route("hello there", embedding=vector).persona == "lua"
    with pytest.raises(InvalidArgument, match=r"embedding.*required"):
        router.route("hello there")
    with pytest.raises(InvalidArgument, match="embeddings"):
        persona.Router(plain).fit(train_x, train_y, embeddings=emb[:-1])


# Crisis -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "honestly I've been thinking about suicide",
        "I keep cutting myself when I'm stressed",
        "요즘 너무 힘들어서 죽고 싶어요",
        "자해를 멈출 수가 없어요",
        "아빠가 저를 때려요",
        unicodedata.normalize("NFD", "살기 싫어요 그냥"),
    ],
)
def test_crisis_language_routes_to_lua_with_safe_response(
    fitted: persona.Router, text: str
) -> None:
    router = persona.Router(PERSONAS)
    router.swap_from(fitted)
    # Thresholds that would abstain everything cannot hide a crisis.
    router.set_abstain({p: 1.0 for p in IDS})
    r = router.route(text)
    assert r.crisis and r.persona == "lua" and not r.abstained
    assert r.safe_response is not None
    assert "109" in r.safe_response and "1577-0199" in r.safe_response and "988" in r.safe_response
    assert r.crisis_phrases
    batch = router.route_many([text, "python error"])
    assert list(batch.crisis) == [True, False]
    assert batch.personas[batch.persona[0]] == "lua"


@pytest.mark.parametrize(
    "text",
    [
        "How do I kill a zombie process?",
        "스트레스 때문에 잠을 못 자요",
        "The suite is killing my laptop",
        "서버가 죽었어요 로그 좀 봐주세요",
    ],
)
def test_ordinary_queries_are_not_crisis(fitted: persona.Router, text: str) -> None:
    assert not fitted.route(text).crisis


# Save, load and swap ----------------------------------------------------------------------


def test_save_load_roundtrip(fitted: persona.Router, data: tuple, tmp_path: Path) -> None:
    _, _, test_x, _ = data
    path = tmp_path / "router.bin"
    fitted.save(path)
    loaded = persona.Router.load(path)
    assert loaded.to_bytes() == fitted.to_bytes() == path.read_bytes()
    np.testing.assert_array_equal(
        loaded.route_many(test_x).probabilities, fitted.route_many(test_x).probabilities
    )
    assert path.read_bytes()[:8] == b"LGROUTER"
    assert int.from_bytes(path.read_bytes()[8:12], "little") == 2


def _analyzer_offset(v2: bytes) -> int:
    """Where a version-2 file's analyzer fields start (after personas and thresholds)."""

    def u32(at: int) -> int:
        return int.from_bytes(v2[at : at + 4], "little")

    at = 12
    personas = u32(at)
    at += 4
    for _ in range(personas):
        at += 4 + u32(at)  # id
        keywords = u32(at)
        at += 4
        for _ in range(keywords):
            at += 4 + u32(at)
    at += 8  # max_query_bytes
    at += 4 + 8 * u32(at)  # thresholds
    return at + 4 + 4  # default persona, hash bits


def _rechecksummed(body: bytes) -> bytes:
    import xxhash

    return body + xxhash.xxh64_intdigest(body).to_bytes(8, "little")


def _as_version_1(v2: bytes) -> bytes:
    """A version-2 file rewritten in the version-1 layout: no analyzer or lexicon weight."""

    def u32(at: int) -> int:
        return int.from_bytes(v2[at : at + 4], "little")

    analyzer = at = _analyzer_offset(v2)
    assert v2[at : at + 12] == b"\x02\0\0\0\x04\0\0\0\0\0\0\0"  # char 2-4, no words
    at += 20
    buckets = int.from_bytes(v2[at : at + 8], "little")
    at += 8 + 12 * buckets + 8  # buckets, idf, idf of unseen n-grams
    tokens = u32(at)
    at += 4
    for _ in range(tokens):
        at += 4 + u32(at)
    at += 8 + 8 + 8 + 8  # embedding size, C, seed, temperature
    assert v2[at : at + 8] == bytes(8)  # no confidence map
    version = (1).to_bytes(4, "little")
    body = v2[:8] + version + v2[12:analyzer] + v2[analyzer + 20 : at] + v2[at + 8 : -8]
    return _rechecksummed(body)


def test_version_1_files_still_load_with_the_version_1_features(
    fitted: persona.Router, data: tuple, tmp_path: Path
) -> None:
    _, _, test_x, _ = data
    path = tmp_path / "v1.bin"
    path.write_bytes(_as_version_1(fitted.to_bytes()))
    old = persona.Router.load(path)
    assert (old.char_ngrams, old.word_ngrams, old.lexicon_weight) == ((2, 4), 0, 1.0)
    np.testing.assert_array_equal(
        old.route_many(test_x).probabilities, fitted.route_many(test_x).probabilities
    )
    # Saving writes the current version, identical to the model it was read from.
    assert old.to_bytes() == fitted.to_bytes()


def _without_ngram_columns(v2: bytes) -> bytes:
    """A file's model with its n-gram columns removed, leaving keywords, keys and biases: what
    fit never writes, but a checksummed file can hold."""

    def u32(at: int) -> int:
        return int.from_bytes(v2[at : at + 4], "little")

    def u64(at: int) -> int:
        return int.from_bytes(v2[at : at + 8], "little")

    personas = u32(12)
    count = _analyzer_offset(v2) + 20
    buckets = u64(count)
    idf_unseen = count + 8 + 12 * buckets
    at = idf_unseen + 8
    tokens = u32(at)
    at += 4
    for _ in range(tokens):
        at += 4 + u32(at)
    at += 8 + 8 + 8 + 8  # embedding size, C, seed, temperature
    at += 8 + 16 * u64(at)  # confidence map
    weights = u64(at)
    # Weights are feature-major with the n-gram columns first.
    kept = at + 8 + 8 * buckets * personas
    body = (
        v2[:count]
        + bytes(8)
        + v2[idf_unseen:at]
        + (weights - buckets * personas).to_bytes(8, "little")
        + v2[kept:-8]
    )
    return _rechecksummed(body)


def test_a_model_without_ngram_columns_routes_on_its_keywords(
    fitted: persona.Router, tmp_path: Path
) -> None:
    path = tmp_path / "keywords_only.bin"
    path.write_bytes(_without_ngram_columns(fitted.to_bytes()))
    bare = persona.Router.load(path)
    queries = ["python zxqv", "python wubb", "wubb zxqv python", "burnout zxqv"]
    routed = bare.route_many(queries)
    # No n-gram is known to it, so only keyword hits (and the biases) move its scores: queries
    # that differ in other words route alike, and differ once their keywords do.
    np.testing.assert_array_equal(routed.probabilities[0], routed.probabilities[1])
    np.testing.assert_array_equal(routed.probabilities[0], routed.probabilities[2])
    assert not np.array_equal(routed.probabilities[0], routed.probabilities[3])
    assert np.all(np.isfinite(routed.probabilities))
    np.testing.assert_allclose(routed.probabilities.sum(axis=1), 1.0)
    assert [bare.route(q).persona for q in queries] == routed.persona_ids()
    # The fitted model, which knows their n-grams, tells the first two apart.
    full = fitted.route_many(queries)
    assert not np.array_equal(full.probabilities[0], full.probabilities[1])


def test_load_rejects_damaged_files(fitted: persona.Router, tmp_path: Path) -> None:
    good = fitted.to_bytes()
    path = tmp_path / "bad.bin"
    cases = {
        b"not a router file": "magic",
        good[: len(good) // 2]: "truncated",
        good[:9]: "truncated",
        good[:8] + (7).to_bytes(4, "little") + good[12:]: "version 7; this build reads versions 1",
        good[:100] + bytes([good[100] ^ 1]) + good[101:]: "checksum",
    }
    # A well-formed file whose first two n-gram buckets are swapped: columns are the buckets'
    # ranks, so the list must be strictly ascending.
    buckets = _analyzer_offset(good) + 20 + 8
    first, second = good[buckets : buckets + 4], good[buckets + 4 : buckets + 8]
    assert int.from_bytes(first, "little") < int.from_bytes(second, "little")
    swapped = good[:buckets] + second + first + good[buckets + 8 : -8]
    cases[_rechecksummed(swapped)] = "buckets out of order"
    for content, message in cases.items():
        path.write_bytes(content)
        with pytest.raises(ParseError, match=message):
            persona.Router.load(path)


def test_result_parts_come_from_the_model_that_routed(data: tuple) -> None:
    train_x, train_y, _, _ = data
    old = persona.Router(PERSONAS).fit(train_x, train_y, C=1.0)
    new = persona.Router(PERSONAS).fit(train_x, train_y, C=50.0)
    shared = persona.Router(PERSONAS)
    shared.swap_from(old)
    text = "파이썬 서버 설치 에러 좀 도와주세요 python error"
    routed = shared.route(text)  # scores and evidence not read yet
    shared.swap_from(new)
    reference = old.route(text)
    assert routed.scores == reference.scores != new.route(text).scores
    assert routed.evidence == reference.evidence
    assert routed.evidence.keywords["elro"] and routed.evidence.ngrams
    assert routed == reference


def test_route_result_is_an_immutable_value(fitted: persona.Router) -> None:
    r = fitted.route("I want to kill myself")
    with pytest.raises(AttributeError, match="immutable"):
        r.persona = "elro"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(r))
    assert copy == r and copy.crisis and copy.crisis_phrases == r.crisis_phrases
    assert copy.safe_response == r.safe_response == persona.safe_response()
    assert repr(copy) == repr(r) and repr(r).startswith("RouteResult(persona='lua'")
    other = fitted.route("python error")
    assert other != r and other.safe_response is None and other.crisis_phrases == ()
    with pytest.raises(ValueError, match="safe_response"):
        persona.RouteResult("lua", 1.0, {}, 1.0, r.evidence, False, True)


def test_swaps_are_atomic_while_threads_route(data: tuple) -> None:
    train_x, train_y, test_x, _ = data
    old = persona.Router(PERSONAS).fit(train_x, train_y, C=1.0)
    new = persona.Router(PERSONAS).fit(train_x, train_y, C=50.0)
    expected_old = old.route_many(test_x).probabilities
    expected_new = new.route_many(test_x).probabilities
    assert not np.array_equal(expected_old, expected_new)
    shared = persona.Router(PERSONAS)
    shared.swap_from(old)
    stop = threading.Event()
    failures: list[str] = []
    seen = {"old": 0, "new": 0}

    def worker() -> None:
        while not stop.is_set():
            for i in range(0, len(test_x), 7):
                r = shared.route(test_x[i])
                got = [r.scores[p] for p in IDS]
                if np.array_equal(got, expected_old[i]):
                    seen["old"] += 1
                elif np.array_equal(got, expected_new[i]):
                    seen["new"] += 1
                else:
                    failures.append(test_x[i])
            batch = shared.route_many(test_x)
            if not (
                np.array_equal(batch.probabilities, expected_old)
                or np.array_equal(batch.probabilities, expected_new)
            ):
                failures.append("batch mixed two models")

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(2000):
        shared.swap_from(new if i % 2 == 0 else old)
        time.sleep(0.0005)
        if i >= 100 and seen["old"] > 20 and seen["new"] > 20:
            break
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    assert seen["old"] > 0 and seen["new"] > 0


# Bad input ----------------------------------------------------------------------------------


def test_bad_queries_are_rejected_with_the_field(fitted: persona.Router) -> None:
    with pytest.raises(InvalidArgument, match="query: must not be empty"):
        fitted.route("")
    with pytest.raises(InvalidArgument, match="query: must not be only whitespace"):
        fitted.route(" \t\u3000\n")
    with pytest.raises(InvalidArgument, match=r"query: is 4097 bytes, over the limit of 4096"):
        fitted.route("a" * 4097)
    with pytest.raises(InvalidArgument, match=r"query: is not valid UTF-8 \(at byte 3\)"):
        fitted.route(b"abc\xff")
    with pytest.raises(InvalidArgument, match=r"queries\[1\]: is not valid UTF-8 \(at byte 0\)"):
        fitted.route_many(["ok", b"\xc3"])
    with pytest.raises(InvalidArgument, match=r"queries\[2\]: must not be empty"):
        fitted.route_many(["ok", "fine", ""])
    with pytest.raises(InvalidArgument, match="query: must be str or bytes"):
        fitted.route(3)  # type: ignore[arg-type]
    small = persona.Router(PERSONAS, max_query_bytes=10).fit(
        ["python bug", "so lonely"], ["elro", "lua"]
    )
    assert small.max_query_bytes == 10
    assert small.route("python bug").persona == "elro"
    with pytest.raises(InvalidArgument, match="query: is 11 bytes, over the limit of 10"):
        small.route("a" * 11)


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",
        "\ufeff \u200b",
        "\u00ad\u2060",
        "\x00\x01",
        " \x7f\t",
        "\u3164\u3164",  # Hangul filler, the "empty" character of Korean apps
        "\u115f\uffa0",  # Hangul choseong and halfwidth fillers
        "\u034f\ufe0f",  # combining grapheme joiner, variation selector
        "\u2800",  # blank Braille pattern
    ],
)
def test_queries_of_only_invisible_characters_are_rejected_as_blank(
    fitted: persona.Router, text: str
) -> None:
    with pytest.raises(InvalidArgument, match="query: must not be only whitespace or invisible"):
        fitted.route(text)
    with pytest.raises(InvalidArgument, match=r"queries\[1\]: must not be only whitespace"):
        fitted.route_many(["python bug", text])
    # Around visible text they are part of the query as given.
    assert fitted.route(f"python{text}bug").persona == "elro"


def test_bad_fit_input_is_rejected_with_the_field(data: tuple) -> None:
    train_x, train_y, _, _ = data
    router = persona.Router(PERSONAS)
    with pytest.raises(InvalidArgument, match="router: is not fitted"):
        router.route("hello")
    with pytest.raises(InvalidArgument, match=r"labels\[1\]: unknown persona 'bob'.*'lua'"):
        router.fit(["a", "b"], ["lua", "bob"])
    with pytest.raises(InvalidArgument, match="labels: has 1 entries but queries has 2"):
        router.fit(["a", "b"], ["lua"])
    with pytest.raises(InvalidArgument, match="labels: has only one persona \\('lua'\\)"):
        router.fit(["a", "b"], ["lua", "lua"])
    with pytest.raises(InvalidArgument, match=r"queries\[1\]: must not be only whitespace"):
        router.fit(["a", " "], ["lua", "elro"])
    with pytest.raises(InvalidArgument, match="resonance_keys: has 1 entries"):
        router.fit(["a", "b"], ["lua", "elro"], resonance_keys=[None])
    with pytest.raises(InvalidArgument, match="queries: must be a sequence"):
        router.fit("ab", ["lua", "elro"])
    with pytest.raises(InvalidArgument, match="calibration_folds"):
        router.fit(train_x, train_y, calibration_folds=1)
    with pytest.raises(InvalidArgument, match="C: must be a finite number > 0"):
        router.fit(train_x, train_y, C=0)
    with pytest.raises(InvalidArgument, match=r"personas.*twice"):
        persona.Router([PERSONAS[0], PERSONAS[0]])


# Evaluation -------------------------------------------------------------------------------


def test_evaluation_matches_sklearn_and_direct_formulas(
    fitted: persona.Router, data: tuple
) -> None:
    from sklearn import metrics

    _, _, test_x, test_y = data
    # Noisier labels so that every metric has errors to count.
    rng = np.random.default_rng(5)
    labels = [IDS[int(rng.integers(4))] if rng.random() < 0.3 else y for y in test_y]
    ev = fitted.evaluate(test_x, labels)
    batch = fitted.route_many(test_x)
    routed = batch.persona_ids()
    assert ev.n == len(test_x)
    assert ev.accuracy == pytest.approx(metrics.accuracy_score(labels, routed))
    assert ev.macro_f1 == pytest.approx(
        metrics.f1_score(labels, routed, average="macro", zero_division=0)
    )
    np.testing.assert_array_equal(
        ev.confusion, metrics.confusion_matrix(labels, routed, labels=IDS)
    )
    p, r, f, s = metrics.precision_recall_fscore_support(
        labels, routed, labels=IDS, zero_division=0
    )
    for i, name in enumerate(IDS):
        m = ev.per_persona[name]
        assert (m.precision, m.recall, m.f1, m.support) == pytest.approx((p[i], r[i], f[i], s[i]))
    # ECE, written out: top-label confidence in 10 equal-width bins.
    probs = batch.probabilities
    y = np.array([IDS.index(v) for v in labels])
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    ece = 0.0
    for lo in np.arange(10) / 10:
        upper = conf < lo + 0.1 if lo < 0.9 else conf <= 1.0
        mask = (conf >= lo) & upper
        if mask.any():
            ece += mask.mean() * abs((pred[mask] == y[mask]).mean() - conf[mask].mean())
    assert ev.ece == pytest.approx(ece, abs=1e-12)
    onehot = np.eye(4)[y]
    assert ev.brier == pytest.approx(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    # The bootstrap interval brackets the accuracy and is reproducible for the seed.
    low, high = ev.accuracy_ci
    assert low <= ev.accuracy <= high and high - low < 0.3
    assert fitted.evaluate(test_x, labels).accuracy_ci == ev.accuracy_ci
    frame = ev.confusion_frame()
    assert list(frame.index) == IDS and frame.to_numpy().sum() == len(test_x)
    fig = ev.plot()
    assert len(fig.axes) >= 2


# The shipped default router and the bilingual data ------------------------------------------

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _training_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "train_default_router", ROOT / "scripts" / "train_default_router.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_router_is_reproduced_byte_for_byte_by_the_training_script() -> None:
    shipped = resources.files("lumengate").joinpath("data", "router_default.bin").read_bytes()
    retrained = _training_script().train_default_router().to_bytes()
    assert retrained == shipped
    router = persona.Router.default()
    assert router.to_bytes() == shipped
    assert router.personas == ("lua", "elro", "riri", "nana")
    assert router.default_persona == "riri" and router.thresholds == {}
    assert router.temperature != 1.0  # calibrated on out-of-fold logits of the train split


def test_default_router_routes_the_readme_example() -> None:
    r = persona.Router.default().route("파이썬에서 KeyError가 나요", resonance_key=None)
    assert r.persona == "elro"
    assert "keyerror" in r.evidence.keywords["elro"]


def _frozen_test_evaluation() -> persona.Evaluation:
    rows = _rows(DATA / "persona_queries" / "test.jsonl")
    return persona.Router.default().evaluate([r["text"] for r in rows], [r["label"] for r in rows])


def test_default_router_meets_the_ece_and_interval_targets_on_the_frozen_test_split() -> None:
    ev = _frozen_test_evaluation()
    assert ev.accuracy_ci[0] >= 0.85
    assert ev.ece <= 0.05


def test_default_router_meets_the_accuracy_target_on_the_frozen_test_split() -> None:
    assert _frozen_test_evaluation().accuracy >= 0.90


def test_crisis_stage_recall_and_false_alarms() -> None:
    router = persona.Router.default()
    positives = _rows(DATA / "crisis_queries.jsonl")
    negatives = _rows(DATA / "crisis_negatives.jsonl")
    batch = router.route_many([r["text"] for r in positives])
    missed = [r["text"] for r, hit in zip(positives, batch.crisis, strict=True) if not hit]
    assert missed == [], f"recall {1 - len(missed) / len(positives):.3f}"
    assert set(batch.persona_ids()) == {"lua"}
    alarms = router.route_many([r["text"] for r in negatives]).crisis
    false_positive_rate = float(np.mean(alarms))
    print(f"crisis recall 1.000 on {len(positives)}, false positives {false_positive_rate:.3f}")
    assert false_positive_rate <= 0.05


@dataclass(frozen=True)
class Key:
    tone: str | None
    pace: str | None
    intent: str | None


def test_resonance_key_features_are_learnt_when_given(data: tuple) -> None:
    train_x, train_y, _, _ = data
    intents = {"lua": "comfort", "elro": "debug", "riri": "plan", "nana": "write"}
    keys = [Key("calm", None, intents[y]) for y in train_y]
    router = persona.Router(PERSONAS).fit(train_x, train_y, resonance_keys=keys)
    assert router._core.key_vocabulary == sorted(
        {"tone=calm", *(f"intent={v}" for v in intents.values())}
    )
    neutral = "please help me with this today"
    for name, intent in intents.items():
        assert router.route(neutral, Key("calm", None, intent)).persona == name
    # Without a key the key columns are simply absent.
    assert (
        router.route(neutral, None).confidence
        < router.route(neutral, Key(None, None, "debug")).confidence
    )
    with pytest.raises(InvalidArgument, match="resonance_key"):
        router.route(neutral, 42)
    # Text keys are parsed leniently: "writ" is within edit distance 2 of "write".
    assert router.route(neutral, "calm-slow-debug").persona == "elro"
    assert router.route(neutral, "Calm-fast-writ").persona == "nana"


# One model per call while another thread swaps ---------------------------------------------


class _SwapsAfterFirstRead:
    """A native router that another thread swaps to ``other``'s model right after the first
    call that reads a model (route_many or snapshot): the worst moment for a caller that reads
    the persona ids or maps labels separately from routing."""

    def __init__(self, core: object, other: persona.Router) -> None:
        self._core = core
        self._other = other
        self.swapped = False

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._core, name)
        if name not in ("route_many", "snapshot"):
            return attr

        def call(*args: object, **kwargs: object) -> object:
            out = attr(*args, **kwargs)
            if not self.swapped:
                self._core.swap_from(self._other._core)  # type: ignore[attr-defined]
                self.swapped = True
            return out

        return call


@pytest.fixture(scope="module")
def two_persona_router(data: tuple) -> persona.Router:
    train_x, train_y, _, _ = data
    keep = [i for i, y in enumerate(train_y) if y in ("elro", "riri")]
    return persona.Router([PERSONAS[1], PERSONAS[2]]).fit(
        [train_x[i] for i in keep], [train_y[i] for i in keep]
    )


def test_route_many_labels_its_arrays_with_the_model_that_routed(
    fitted: persona.Router, two_persona_router: persona.Router, data: tuple
) -> None:
    _, _, test_x, _ = data
    expected = fitted.route_many(test_x)
    router = persona.Router._wrap(fitted._core.snapshot())
    spy = _SwapsAfterFirstRead(router._core, two_persona_router)
    router._core = spy
    batch = router.route_many(test_x)
    assert spy.swapped and router.personas == ("elro", "riri")
    assert batch.personas == tuple(IDS)
    np.testing.assert_array_equal(batch.probabilities, expected.probabilities)
    assert batch.persona_ids() == expected.persona_ids()


def test_evaluate_scores_against_the_model_it_routed_with(
    fitted: persona.Router, two_persona_router: persona.Router, data: tuple
) -> None:
    _, _, test_x, test_y = data
    expected = fitted.evaluate(test_x, test_y)
    router = persona.Router._wrap(fitted._core.snapshot())
    spy = _SwapsAfterFirstRead(router._core, two_persona_router)
    router._core = spy
    ev = router.evaluate(test_x, test_y)
    assert spy.swapped and router.personas == ("elro", "riri")
    assert ev.personas == tuple(IDS)
    assert ev.accuracy == expected.accuracy
    np.testing.assert_array_equal(ev.confusion, expected.confusion)


def test_set_abstain_and_its_properties_read_one_model(
    fitted: persona.Router, two_persona_router: persona.Router
) -> None:
    router = persona.Router._wrap(fitted._core.snapshot())
    spy = _SwapsAfterFirstRead(router._core, two_persona_router)
    router._core = spy
    # The thresholds name the personas of the model they were resolved against.
    router.set_abstain({"lua": 0.9}, default_persona="nana")
    assert spy.swapped
    assert router.personas == tuple(IDS)
    assert router.thresholds == {"lua": 0.9} and router.default_persona == "nana"


def test_route_many_never_mixes_models_while_another_thread_swaps(
    fitted: persona.Router, two_persona_router: persona.Router, data: tuple
) -> None:
    _, _, test_x, _ = data
    live = persona.Router._wrap(fitted._core.snapshot())
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            live.swap_from(two_persona_router)
            live.swap_from(fitted)

    thread = threading.Thread(target=swapper)
    thread.start()
    try:
        deadline = time.monotonic() + 1.0
        calls = 0
        while time.monotonic() < deadline:
            batch = live.route_many(test_x[:3])
            calls += 1
            assert batch.probabilities.shape == (3, len(batch.personas))
            assert set(batch.persona_ids()) <= set(batch.personas)
    finally:
        stop.set()
        thread.join()
    assert calls > 0


# Bad arguments are named -------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedding_router(data: tuple) -> persona.Router:
    train_x, train_y, _, _ = data
    emb = np.eye(4, dtype=np.float32)[[IDS.index(y) for y in train_y]]
    return persona.Router(PERSONAS).fit(train_x, train_y, embeddings=emb)


@pytest.mark.parametrize(
    "vector",
    [
        np.array([np.nan, 0, 0, 0], dtype=np.float32),
        np.array([0, np.inf, 0, 0], dtype=np.float32),
        np.array([1e300, 0, 0, 0]),  # beyond float32's range
    ],
    ids=["nan", "inf", "overflows-float32"],
)
def test_route_rejects_an_embedding_that_is_not_finite(
    embedding_router: persona.Router, vector: np.ndarray
) -> None:
    with pytest.raises(InvalidArgument, match="embedding: must be finite"):
        embedding_router.route("hello there", embedding=vector)
    with pytest.raises(InvalidArgument, match="embeddings: must be finite"):
        embedding_router.route_many(["hello there"], embeddings=vector[None, :])


def test_embeddings_must_be_real_numbers(embedding_router: persona.Router) -> None:
    with pytest.raises(InvalidArgument, match="embedding: must hold real numbers"):
        embedding_router.route("hello", embedding=np.ones(4, dtype=np.complex64))
    with pytest.raises(InvalidArgument, match="embeddings: must hold real numbers"):
        embedding_router.route_many(["hello"], embeddings=[["a", "b", "c", "d"]])
    with pytest.raises(InvalidArgument, match="embeddings: must be an array of real numbers"):
        embedding_router.route_many(["a", "b"], embeddings=[[1.0, 2.0, 3.0, 4.0], [1.0]])


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.route("KeyError \ud800"),
        lambda r: persona.crisis_phrases("kill myself \ud800"),
        lambda r: persona.Router([FakePersona("lua", ("calm\ud800",), ()), PERSONAS[1]]),
        lambda r: persona.Vocabulary(["a\ud800"], ["slow"], ["learn"]),
    ],
    ids=["route", "crisis_phrases", "persona-keyword", "vocabulary"],
)
def test_lone_surrogates_are_rejected_as_invalid_text(fitted: persona.Router, call: object) -> None:
    with pytest.raises(InvalidArgument, match="surrogate"):
        call(fitted)  # type: ignore[operator]


def test_keywords_must_be_a_list_not_one_string() -> None:
    with pytest.raises(InvalidArgument, match=r"lua\.keywords_en: must be a list of strings"):
        persona.Router([FakePersona("lua", "python", ()), PERSONAS[1]])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"calibration_folds": -1}, "calibration_folds"),
        ({"calibration_folds": 2.5}, "calibration_folds"),
        ({"calibration_folds": True}, "calibration_folds"),
        ({"calibration_folds": 10_000}, "calibration_folds"),
        ({"seed": 2**64}, "seed"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_fit_options_name_the_field(data: tuple, kwargs: dict, field: str) -> None:
    train_x, train_y, _, _ = data
    with pytest.raises(InvalidArgument, match=rf"^{field}: must be a whole number in \["):
        persona.Router(PERSONAS).fit(train_x, train_y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"resamples": 0}, "resamples"),
        ({"resamples": -1}, "resamples"),
        ({"resamples": 1.5}, "resamples"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_evaluate_options_name_the_field(
    fitted: persona.Router, data: tuple, kwargs: dict, field: str
) -> None:
    _, _, test_x, test_y = data
    with pytest.raises(InvalidArgument, match=rf"^{field}: must be a whole number in \["):
        fitted.evaluate(test_x, test_y, **kwargs)


def test_more_threads_than_any_machine_has_means_all_of_them(
    fitted: persona.Router, data: tuple
) -> None:
    _, _, test_x, _ = data
    np.testing.assert_array_equal(
        fitted.route_many(test_x, threads=2**64).probabilities,
        fitted.route_many(test_x, threads=1).probabilities,
    )


def test_max_query_bytes_is_bounded() -> None:
    with pytest.raises(InvalidArgument, match=r"max_query_bytes: must be in \[1, 1073741824\]"):
        persona.Router(PERSONAS, max_query_bytes=2**64)


def test_evaluate_routes_with_the_resonance_keys_it_is_given(data: tuple) -> None:
    train_x, train_y, test_x, test_y = data
    intents = {"lua": "comfort", "elro": "debug", "riri": "plan", "nana": "write"}
    router = persona.Router(PERSONAS).fit(
        train_x, train_y, resonance_keys=[Key("calm", None, intents[y]) for y in train_y]
    )
    keys = [Key("calm", None, intents[y]) for y in test_y]
    routed = router.route_many(test_x, keys).persona_ids()
    ev = router.evaluate(test_x, test_y, resonance_keys=keys)
    assert ev.accuracy == np.mean([p == y for p, y in zip(routed, test_y, strict=True)])
    # The keys carry the label, so scoring with them is sharper than scoring without.
    assert ev.brier < router.evaluate(test_x, test_y).brier


def test_crisis_goes_to_lua_or_else_to_the_default_persona(
    fitted: persona.Router, two_persona_router: persona.Router
) -> None:
    assert fitted.crisis_persona == "lua"
    assert fitted.route("I want to kill myself").persona == "lua"
    assert two_persona_router.crisis_persona == two_persona_router.default_persona == "riri"
    r = two_persona_router.route("I want to kill myself")
    assert r.crisis and r.persona == "riri" and r.safe_response == persona.safe_response()
    two_persona_router.set_abstain(default_persona="elro")
    try:
        assert two_persona_router.crisis_persona == "elro"
        assert two_persona_router.route("I want to kill myself").persona == "elro"
    finally:
        two_persona_router.set_abstain(default_persona="riri")


def test_resonance_key_errors_name_the_argument_and_its_index(fitted: persona.Router) -> None:
    with pytest.raises(ParseError, match=r"^resonance_key: tone: unknown tone 'zzz'") as one:
        fitted.route("python bug", "zzz")
    assert one.value.field == "resonance_key"
    with pytest.raises(ParseError, match=r"^resonance_keys\[2\]: tone: .*allowed") as many:
        fitted.route_many(["a", "b", "c"], [None, "calm", "zzz"])
    assert many.value.field == "resonance_keys[2]"
    with pytest.raises(InvalidArgument, match=r"^resonance_keys\[1\]: must be a ResonanceKey"):
        fitted.route_many(["a", "b"], [None, 42])


def test_swapping_in_an_unfitted_router_is_refused_and_the_model_kept(
    fitted: persona.Router, data: tuple
) -> None:
    _, _, test_x, _ = data
    live = persona.Router._wrap(fitted._core.snapshot())
    before = live.route_many(test_x).probabilities
    with pytest.raises(InvalidArgument, match="source: is not fitted") as caught:
        live.swap_from(persona.Router(PERSONAS))
    assert caught.value.field == "source"
    np.testing.assert_array_equal(live.route_many(test_x).probabilities, before)
    assert live.route("I want to kill myself").crisis


def test_crisis_language_is_found_by_crisis_phrases_when_route_refuses_the_input(
    fitted: persona.Router,
) -> None:
    # route() raises on a bad input, crisis or not; the README's fallback still finds it.
    long_message = "오늘도 회사에서 힘든 하루였어요. " * 200 + "그냥 죽고 싶어요"
    for call in (
        lambda: fitted.route(long_message),
        lambda: fitted.route("I want to kill myself", resonance_key="zzz-slow"),
    ):
        with pytest.raises(InvalidArgument):
            call()
    assert persona.crisis_phrases(long_message)
    assert persona.crisis_phrases("I want to kill myself")
