"""Routing a query to a persona (part of :mod:`lumengate.persona`).

The router reads a query through three feature sets, all in the native core: a lexicon stage
(Aho-Corasick over each persona's Korean and English keywords; whole words for Latin script,
substrings for Hangul, which attaches particles), hashed character n-grams of each
space-padded word (2–4 code points unless ``fit`` says otherwise) and optionally word n-grams,
with sublinear TF-IDF, and optionally the resonance key and dense embeddings given by the
caller. Text is validated and NFC-normalised and case-folded first, so decomposed Hangul and
capitals match. An L2-regularised multinomial logistic regression, fitted by a deterministic
L-BFGS, scores the personas; a temperature, optionally followed by an isotonic map of the top
probability, calibrates the probabilities. A separate crisis stage runs before the model and
cannot be calibrated or abstained away::

    >>> from lumengate import persona
    >>> router = persona.Router.default()
    >>> r = router.route("파이썬에서 KeyError가 나요")
    >>> r.persona, r.crisis
    ('elro', False)
    >>> round(sum(r.scores.values()), 6)
    1.0
    >>> router.route("I want to kill myself").persona
    'lua'

When a persona's confidence is below its threshold (none by default) the router abstains to
``default_persona``, ``riri``: the big-picture persona is the safest general answer.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from lumengate import _persona_embed
from lumengate._native import core, whole
from lumengate._native import thread_argument as _threads
from lumengate._persona_keys import _str_tuple, _text_argument, parse_resonance_key
from lumengate.errors import ParseError, invalid

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from lumengate._persona_embed import GeminiEmbedder

__all__ = [
    "Evaluation",
    "PersonaMetrics",
    "RouteBatch",
    "RouteEvidence",
    "RouteResult",
    "Router",
    "crisis_phrases",
    "safe_response",
]

_native = core.persona
_DEFAULT_MODEL = "router_default.bin"
_CALIBRATION_METHODS = ("temperature", "isotonic")
# The largest query a router may be configured to accept (1 GiB).
_MAX_QUERY_BYTES = 1 << 30
_SAFE_RESPONSE = str(_native.safe_response())


class _PersonaLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def keywords_en(self) -> Sequence[str]: ...
    @property
    def keywords_ko(self) -> Sequence[str]: ...


def safe_response() -> str:
    """The fixed text, with help-line numbers, returned when crisis language is found.

    >>> "109" in safe_response() and "988" in safe_response()
    True
    """
    return _SAFE_RESPONSE


def crisis_phrases(text: str | bytes) -> list[str]:
    """Why the crisis stage fires on ``text``: the built-in phrases found (normalised, with
    spaces between Hangul removed), the patterns matched (``"pattern: i … die"``) or, when only
    its learned model fired, that model's probability (``"model: 0.91"``); empty when the stage
    does not fire.

    >>> crisis_phrases("요즘 너무 힘들어서 죽고 싶어요")
    ['죽고싶']
    >>> crisis_phrases("How do I kill a zombie process?")
    []
    """
    return list(_native.crisis_phrases(text))


@dataclass(frozen=True)
class RouteEvidence:
    """Why the router chose: matched keywords per persona and the strongest n-grams (with
    their contribution to the logit of the model's top persona)."""

    keywords: dict[str, tuple[str, ...]]
    ngrams: tuple[tuple[str, float], ...]


class RouteResult:
    """One routed query. ``scores`` maps persona → calibrated probability, most probable first;
    ``confidence`` is the top probability and ``margin`` top − second. ``persona`` is the top
    one unless the router abstained (then the default persona) or found crisis language (then
    ``lua``, or the default persona for a router without ``lua``, with ``safe_response`` set);
    ``confidence`` and ``scores`` are still the model's, for the persona it ranked first.

    Immutable. ``scores``, ``evidence`` and ``crisis_phrases`` are built the first time they are
    read, by the model that routed the query (a later swap does not change them), so a caller
    that needs only the decision does not pay for them."""

    # The decision as the native router returned it, its last item the native outcome that
    # builds scores and evidence on request (None for a result built in Python). The other
    # slots stay unset until first read.
    __slots__ = ("_crisis_phrases", "_decision", "_evidence", "_scores")

    _decision: tuple[str, float, float, bool, bool, Any]
    _scores: dict[str, float]
    _evidence: RouteEvidence
    _crisis_phrases: tuple[str, ...]

    def __init__(
        self,
        persona: str,
        confidence: float,
        scores: dict[str, float],
        margin: float,
        evidence: RouteEvidence,
        abstained: bool,
        crisis: bool,
        safe_response: str | None = None,
        crisis_phrases: tuple[str, ...] = (),
    ) -> None:
        if (safe_response is not None) != crisis:
            raise invalid("safe_response", "must be given when crisis is true and None otherwise")
        setattr_ = object.__setattr__
        setattr_(self, "_decision", (persona, confidence, margin, abstained, crisis, None))
        setattr_(self, "_scores", scores)
        setattr_(self, "_evidence", evidence)
        setattr_(self, "_crisis_phrases", crisis_phrases)

    @classmethod
    def _from_native(cls, routed: tuple[str, float, float, bool, bool, Any]) -> RouteResult:
        self = object.__new__(cls)
        object.__setattr__(self, "_decision", routed)
        return self

    @property
    def persona(self) -> str:
        return self._decision[0]

    @property
    def confidence(self) -> float:
        return self._decision[1]

    @property
    def margin(self) -> float:
        return self._decision[2]

    @property
    def abstained(self) -> bool:
        return self._decision[3]

    @property
    def crisis(self) -> bool:
        return self._decision[4]

    @property
    def safe_response(self) -> str | None:
        return _SAFE_RESPONSE if self._decision[4] else None

    @property
    def scores(self) -> dict[str, float]:
        try:
            return self._scores
        except AttributeError:
            scores: dict[str, float] = self._decision[5].scores()
            object.__setattr__(self, "_scores", scores)
            return scores

    @property
    def evidence(self) -> RouteEvidence:
        try:
            return self._evidence
        except AttributeError:
            self._explain()
            return self._evidence

    @property
    def crisis_phrases(self) -> tuple[str, ...]:
        try:
            return self._crisis_phrases
        except AttributeError:
            self._explain()
            return self._crisis_phrases

    def _explain(self) -> None:
        keywords, ngrams, phrases = self._decision[5].evidence()
        object.__setattr__(self, "_evidence", RouteEvidence(keywords=keywords, ngrams=ngrams))
        object.__setattr__(self, "_crisis_phrases", phrases)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.persona,
            self.confidence,
            self.scores,
            self.margin,
            self.evidence,
            self.abstained,
            self.crisis,
            self.safe_response,
            self.crisis_phrases,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RouteResult is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RouteResult is immutable; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouteResult):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        names = (
            "persona",
            "confidence",
            "scores",
            "margin",
            "evidence",
            "abstained",
            "crisis",
            "safe_response",
            "crisis_phrases",
        )
        parts = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields(), strict=True))
        return f"RouteResult({parts})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles as plain values: the native snapshot stays in this process.
        return (_route_result, self._fields())


def _route_result(*fields: Any) -> RouteResult:
    return RouteResult(*fields)


@dataclass(frozen=True)
class RouteBatch:
    """Many routed queries as arrays: ``persona`` indexes ``personas``; ``probabilities`` is
    [n, len(personas)] calibrated."""

    personas: tuple[str, ...]
    persona: npt.NDArray[np.int32]
    confidence: npt.NDArray[np.float64]
    probabilities: npt.NDArray[np.float64]
    crisis: npt.NDArray[np.bool_]
    abstained: npt.NDArray[np.bool_]

    def persona_ids(self) -> list[str]:
        """The routed persona id of each query."""
        return [self.personas[i] for i in self.persona]


@dataclass(frozen=True)
class PersonaMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Router quality on labelled queries.

    ``accuracy`` and ``confusion`` (rows = true, columns = routed, in ``personas`` order) use
    the routed persona. ``ece`` (top-label, 10 equal-width bins) and ``brier`` (mean over
    queries of Σ (p − onehot)²) judge the calibrated probabilities. ``accuracy_ci`` is a 95 %
    percentile bootstrap interval."""

    n: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    macro_f1: float
    per_persona: dict[str, PersonaMetrics]
    confusion: npt.NDArray[np.int64]
    personas: tuple[str, ...]
    ece: float
    brier: float
    probabilities: npt.NDArray[np.float64] = field(repr=False)
    labels: npt.NDArray[np.int32] = field(repr=False)

    def confusion_frame(self) -> pd.DataFrame:
        """The confusion matrix as a labelled DataFrame (needs pandas)."""
        import pandas as pd

        index = pd.Index(self.personas, name="true")
        columns = pd.Index(self.personas, name="routed")
        return pd.DataFrame(self.confusion, index=index, columns=columns)

    def reliability(self, bins: int = 10) -> tuple[npt.NDArray[np.float64], ...]:
        """Per equal-width confidence bin: mean confidence, accuracy and count."""
        confidence = self.probabilities.max(axis=1)
        correct = self.probabilities.argmax(axis=1) == self.labels
        which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
        count = np.bincount(which, minlength=bins).astype(np.float64)
        safe = np.maximum(count, 1)
        mean_conf = np.bincount(which, weights=confidence, minlength=bins) / safe
        accuracy = np.bincount(which, weights=correct.astype(np.float64), minlength=bins) / safe
        return mean_conf, accuracy, count

    def plot(self) -> Figure:
        """Confusion matrix and reliability diagram side by side (needs matplotlib)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4.2), layout="constrained")
        ax_cm, ax_rel = fig.subplots(1, 2)
        image = ax_cm.imshow(self.confusion, cmap="Blues")
        ticks = range(len(self.personas))
        ax_cm.set_xticks(ticks, self.personas)
        ax_cm.set_yticks(ticks, self.personas)
        ax_cm.set_xlabel("routed")
        ax_cm.set_ylabel("true")
        ax_cm.set_title(f"accuracy {self.accuracy:.3f}")
        top = self.confusion.max() if self.confusion.size else 0
        for (i, j), value in np.ndenumerate(self.confusion):
            ax_cm.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                color="white" if value > top / 2 else "black",
            )
        fig.colorbar(image, ax=ax_cm)
        mean_conf, accuracy, count = self.reliability()
        edges = np.linspace(0, 1, 11)
        used = count > 0
        ax_rel.bar(
            edges[:-1][used],
            accuracy[used],
            width=0.1,
            align="edge",
            alpha=0.7,
            edgecolor="black",
            label="accuracy",
        )
        ax_rel.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax_rel.plot(mean_conf[used], accuracy[used], marker="o", color="C1", label="bin mean")
        ax_rel.set_xlim(0, 1)
        ax_rel.set_ylim(0, 1)
        ax_rel.set_xlabel("confidence (top probability)")
        ax_rel.set_ylabel("accuracy")
        ax_rel.set_title(f"reliability, ECE {self.ece:.3f}")
        ax_rel.legend(loc="upper left")
        return fig


def _key_tokens(key: object, field: str = "resonance_key") -> list[str]:
    """Resonance-key feature tokens (``tone=calm``…) for the core; None → no key features.

    Strings are parsed with ``parse_resonance_key(text, lenient=True)``; objects with ``tone``,
    ``pace`` and ``intent`` attributes (a ``ResonanceKey``) are used as they are. Errors name
    ``field`` (the argument, with its index in a batch) before the part that failed."""
    if key is None:
        return []
    if isinstance(key, str):
        try:
            key = parse_resonance_key(key, lenient=True)
        except ParseError as error:
            raise ParseError(f"{field}: {error}", field=field) from None
    tokens = []
    for part in ("tone", "pace", "intent"):
        value = getattr(key, part, None)
        if value is not None:
            tokens.append(f"{part}={getattr(value, 'value', value)!s}".lower())
    if not tokens and not hasattr(key, "tone"):
        raise invalid(field, f"must be a ResonanceKey, a str or None, got {key!r}")
    return tokens


def _texts(queries: object, name: str = "queries") -> list[Any]:
    if isinstance(queries, (str, bytes)):
        raise invalid(name, "must be a sequence of queries, got a single string")
    try:
        items: list[Any] = list(queries)  # type: ignore[call-overload]
        return items
    except TypeError:
        raise invalid(name, f"must be a sequence of str, got {type(queries).__name__}") from None


def _float32(values: object, field: str) -> npt.NDArray[np.float32]:
    """``values`` as a C-contiguous float32 array: real numbers only, finite after the cast."""
    try:
        array = np.asarray(values)
    except ValueError as error:
        raise invalid(field, f"must be an array of real numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        raise invalid(field, f"must hold real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        converted = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(converted)):
        raise invalid(field, "must be finite (no NaN or inf, and within float32's range)")
    return converted


def _embeddings(embeddings: object, n: int) -> npt.NDArray[np.float32] | None:
    if embeddings is None:
        return None
    array = _float32(embeddings, "embeddings")
    if array.ndim != 2 or array.shape[0] != n:
        raise invalid("embeddings", f"must have shape [{n}, d], got {list(array.shape)}")
    return array


def _keywords(persona: object, field: str) -> list[str]:
    """A persona's keywords: a list of strings (a single string is an error, not its letters)."""
    return list(_str_tuple(getattr(persona, field), f"{getattr(persona, 'id', '?')}.{field}"))


class Router:
    """Routes queries to personas; thread-safe. A fitted model is immutable and swapped in
    atomically, so every call (``route``, ``route_many``, ``evaluate``, the properties) reads
    one model, the old or the new, never a mix. Calls that change the model (``fit``,
    ``calibrate``, ``set_abstain``, ``swap_from``) each build the new model from one snapshot
    and swap it in whole; of two concurrent changes, the later swap wins."""

    def __init__(
        self,
        personas: Sequence[_PersonaLike] | None = None,
        *,
        max_query_bytes: int = 4096,
        thresholds: Mapping[str, float] | None = None,
        default_persona: str | None = None,
    ) -> None:
        if personas is None:
            from lumengate._persona_keys import builtin_personas

            personas = builtin_personas()
        ids = [_text_argument(p.id, "personas[].id") for p in personas]
        keywords = [[*_keywords(p, "keywords_en"), *_keywords(p, "keywords_ko")] for p in personas]
        if isinstance(max_query_bytes, bool) or not isinstance(max_query_bytes, int):
            raise invalid("max_query_bytes", f"must be a whole number, got {max_query_bytes!r}")
        if not 1 <= max_query_bytes <= _MAX_QUERY_BYTES:
            raise invalid(
                "max_query_bytes",
                f"must be in [1, {_MAX_QUERY_BYTES}], got {max_query_bytes}",
            )
        self._core = _native.Router(ids, keywords, max_query_bytes)
        self.set_abstain(thresholds, default_persona)

    @classmethod
    def _wrap(cls, native: Any) -> Router:
        router = cls.__new__(cls)
        router._core = native
        return router

    def _snapshot(self) -> Router:
        """A router on this one's current model, unaffected by later swaps of this one."""
        return Router._wrap(self._core.snapshot())

    # Loading and saving ------------------------------------------------------------------

    @classmethod
    def default(cls) -> Router:
        """The four built-in personas, fitted on the shipped training split and calibrated."""
        data = resources.files("lumengate").joinpath("data", _DEFAULT_MODEL).read_bytes()
        return cls._wrap(_native.Router.from_bytes(data))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Router:
        """A router read from a file written by :meth:`save`."""
        return cls._wrap(_native.Router.from_bytes(Path(path).read_bytes()))

    def to_bytes(self) -> bytes:
        """The fitted model: magic ``LGROUTER``, format version, little-endian payload, XXH64."""
        return bytes(self._core.to_bytes())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model; the file is replaced atomically (write, then rename)."""
        target = Path(path)
        data = self.to_bytes()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def swap_from(self, source: Router | str | os.PathLike[str]) -> None:
        """Replace the model by another router's or a saved file's, atomically. An unfitted
        router is refused (as :meth:`save` refuses to write one) and this one keeps its model,
        so a bad reload cannot take a serving router down."""
        if isinstance(source, Router):
            model = source._core.snapshot()
            if not model.fitted:
                raise invalid(
                    "source", "is not fitted; the router keeps its model (fit it or load a file)"
                )
            self._core.swap_from(model)
        else:
            self._core.load_bytes(Path(source).read_bytes())

    # Configuration -----------------------------------------------------------------------

    @property
    def personas(self) -> tuple[str, ...]:
        return tuple(self._core.persona_ids)

    @property
    def fitted(self) -> bool:
        return bool(self._core.fitted)

    @property
    def embedding_dim(self) -> int:
        """Size of the dense embeddings the model was fitted with (0: none)."""
        return int(self._core.embedding_dim)

    def _expected_dim(self) -> int | None:
        """The embedding size routing needs; None before fit (routing then fails on that)."""
        return self.embedding_dim if self.fitted else None

    @property
    def temperature(self) -> float:
        return float(self._core.temperature)

    @property
    def char_ngrams(self) -> tuple[int, int]:
        """(min, max) code points of the char_wb n-grams the model was fitted with."""
        low, high = self._core.char_ngrams
        return int(low), int(high)

    @property
    def word_ngrams(self) -> int:
        """Longest word n-gram of the model (0: no word features)."""
        return int(self._core.word_ngrams)

    @property
    def lexicon_weight(self) -> float:
        """Scale of the keyword columns."""
        return float(self._core.lexicon_weight)

    @property
    def confidence_map(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Knots (top probability after the temperature, calibrated value) of the isotonic
        confidence map; both empty when the calibration is a temperature alone."""
        x, y = self._core.confidence_map
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    @property
    def max_query_bytes(self) -> int:
        return int(self._core.max_query_bytes)

    @property
    def default_persona(self) -> str:
        model = self._core.snapshot()
        return str(model.persona_ids[model.default_persona])

    @property
    def crisis_persona(self) -> str:
        """The persona crisis language is routed to: ``lua`` when the router has it, else
        :attr:`default_persona`."""
        return str(self._core.crisis_persona)

    @property
    def thresholds(self) -> dict[str, float]:
        model = self._core.snapshot()
        values = model.thresholds
        if not values:
            return {}
        return {p: t for p, t in zip(model.persona_ids, values, strict=True) if t > 0}

    def set_abstain(
        self, thresholds: Mapping[str, float] | None = None, default_persona: str | None = None
    ) -> None:
        """Abstain to ``default_persona`` (``riri`` when present) when the top persona's
        probability is below its threshold; ``None`` or missing personas never abstain."""
        model = self._snapshot()
        ids = model.personas
        if default_persona is None:
            default_persona = "riri" if "riri" in ids else ids[0]
        if default_persona not in ids:
            raise invalid("default_persona", f"{default_persona!r} is not one of {list(ids)}")
        values = [0.0] * len(ids)
        for name, value in (thresholds or {}).items():
            if name not in ids:
                raise invalid("thresholds", f"unknown persona {name!r}; allowed: {list(ids)}")
            number = float(value)
            if not (0.0 <= number <= 1.0):
                raise invalid(f"thresholds[{name}]", f"must be in [0, 1], got {value!r}")
            values[ids.index(name)] = number
        model._core.set_abstain(values if thresholds else [], ids.index(default_persona))
        self._core.swap_from(model._core)

    # Fitting -----------------------------------------------------------------------------

    def _labels(self, labels: object, n: int) -> npt.NDArray[np.int32]:
        ids = self.personas
        values = _texts(labels, "labels")
        if len(values) != n:
            raise invalid("labels", f"has {len(values)} entries but queries has {n}")
        index = {p: i for i, p in enumerate(ids)}
        out = np.empty(n, dtype=np.int32)
        for i, label in enumerate(values):
            if label not in index:
                raise invalid(f"labels[{i}]", f"unknown persona {label!r}; allowed: {list(ids)}")
            out[i] = index[label]
        return out

    def _keys(self, keys: Sequence[object] | None, n: int) -> list[list[str]] | None:
        if keys is None:
            return None
        values = _texts(keys, "resonance_keys")
        if len(values) != n:
            raise invalid("resonance_keys", f"has {len(values)} entries but queries has {n}")
        return [_key_tokens(k, f"resonance_keys[{i}]") for i, k in enumerate(values)]

    def fit(
        self,
        queries: Sequence[str],
        labels: Sequence[str],
        seed: int = 0,
        *,
        C: float = 10.0,
        resonance_keys: Sequence[object] | None = None,
        embeddings: npt.ArrayLike | None = None,
        embedder: GeminiEmbedder | None = None,
        calibration_folds: int = 0,
        char_ngrams: tuple[int, int] = (2, 4),
        word_ngrams: int = 0,
        lexicon_weight: float = 1.0,
        calibration: str = "temperature",
    ) -> Router:
        """Fit on labelled queries (labels are persona ids). The solver is deterministic, so
        the same data and seed give the same bytes from :meth:`to_bytes`; ``seed`` draws the
        folds when ``calibration_folds`` > 1, which also fits the temperature on the
        out-of-fold logits. ``char_ngrams`` is the (min, max) length in code points of the
        char_wb n-grams; ``word_ngrams`` > 0 adds word n-grams of 1 to that many words (a word
        being a run of letters, digits and ``_``), hashed into the same TF-IDF vector;
        ``lexicon_weight`` scales the keyword columns. ``calibration`` (used when
        ``calibration_folds`` > 1) is ``"temperature"`` or ``"isotonic"``: the temperature, then
        an isotonic map of the top probability fitted on the same out-of-fold logits (see
        :meth:`calibrate`). ``embedder`` (a :class:`GeminiEmbedder` on a blocking client)
        fetches the embeddings of ``queries`` instead of ``embeddings``. Returns ``self``."""
        texts = _texts(queries)
        model = self._snapshot()
        y = model._labels(labels, len(texts))
        seed = whole(seed, "seed", 0, 2**64 - 1)
        calibration_folds = whole(calibration_folds, "calibration_folds", 0, max(len(texts), 1))
        if (
            not isinstance(char_ngrams, tuple)
            or len(char_ngrams) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in char_ngrams)
            or not 1 <= char_ngrams[0] <= char_ngrams[1] <= 8
        ):
            raise invalid(
                "char_ngrams",
                f"must be a (min, max) pair with 1 <= min <= max <= 8, got {char_ngrams!r}",
            )
        if isinstance(word_ngrams, bool) or word_ngrams not in (0, 1, 2, 3):
            raise invalid("word_ngrams", f"must be 0 (none), 1, 2 or 3, got {word_ngrams!r}")
        if calibration not in _CALIBRATION_METHODS:
            raise invalid(
                "calibration",
                f"{calibration!r} is not supported; allowed: {list(_CALIBRATION_METHODS)}",
            )
        if isinstance(C, bool) or not isinstance(C, (int, float)) or not 0 < C < math.inf:
            raise invalid("C", f"must be a finite number > 0, got {C!r}")
        keys = model._keys(resonance_keys, len(texts))
        # Everything the core would refuse is refused before a request is paid for.
        embeddings = model._fetch(embedder, embeddings, texts, fitting=True)
        model._core.fit(
            texts,
            y,
            keys,
            _embeddings(embeddings, len(texts)),
            C=float(C),
            seed=seed,
            calibration_folds=calibration_folds,
            char_ngrams=char_ngrams,
            word_ngrams=word_ngrams,
            lexicon_weight=float(lexicon_weight),
            calibration=calibration,
        )
        self._core.swap_from(model._core)
        return self

    def calibrate(
        self,
        queries: Sequence[str],
        labels: Sequence[str],
        method: str = "temperature",
        *,
        resonance_keys: Sequence[object] | None = None,
        embeddings: npt.ArrayLike | None = None,
        embedder: GeminiEmbedder | None = None,
    ) -> float:
        """Fit the calibration on held-out labelled queries (not the fit data); returns the
        temperature. ``"temperature"`` divides the logits by the temperature minimising the
        log-loss; ``"isotonic"`` then maps the top probability through an isotonic regression
        of "the top persona is right" on it (scikit-learn's ``IsotonicRegression`` with
        ``y_min=1/len(personas)``, ``y_max=1``) and rescales the other probabilities to keep
        their proportions, never letting the runner-up overtake the top persona."""
        if method not in _CALIBRATION_METHODS:
            raise invalid(
                "method", f"{method!r} is not supported; allowed: {list(_CALIBRATION_METHODS)}"
            )
        texts = _texts(queries)
        model = self._snapshot()
        y = model._labels(labels, len(texts))
        keys = model._keys(resonance_keys, len(texts))
        embeddings = model._fetch(embedder, embeddings, texts)
        temperature = float(
            model._core.calibrate(
                texts,
                y,
                keys,
                _embeddings(embeddings, len(texts)),
                method=method,
            )
        )
        self._core.swap_from(model._core)
        return temperature

    # Embeddings ---------------------------------------------------------------------------

    def _fetch(
        self,
        embedder: GeminiEmbedder | None,
        embeddings: Any,
        texts: list[str | bytes],
        *,
        single: bool = False,
        fitting: bool = False,
    ) -> Any:
        """``embeddings`` as given, or ``embedder``'s vectors for ``texts``. The core's checks
        of the queries (for fitting, or for routing) run first, so nothing it would refuse
        costs a request; fitting takes any embedding size, routing the fitted one."""
        return _persona_embed.fetch(
            embedder,
            embeddings,
            texts,
            None if fitting else self._expected_dim(),
            single=single,
            check=lambda: self._core.check_queries(texts, single, not fitting),
        )

    async def _afetch(
        self, embedder: GeminiEmbedder, texts: list[str | bytes], *, single: bool = False
    ) -> Any:
        """:meth:`_fetch` for routing, awaiting an asyncio client."""
        return await _persona_embed.afetch(
            embedder,
            None,
            texts,
            self._expected_dim(),
            single=single,
            check=lambda: self._core.check_queries(texts, single),
        )

    # Routing -----------------------------------------------------------------------------

    def route(
        self,
        query: str | bytes,
        resonance_key: object = None,
        *,
        embedding: npt.ArrayLike | None = None,
        embedder: GeminiEmbedder | None = None,
    ) -> RouteResult:
        """Route one query (``str``, or UTF-8 ``bytes``). ``embedder`` (a
        :class:`GeminiEmbedder` on a blocking client) fetches the query's embedding instead
        of ``embedding``.

        Every input is checked before anything is routed, so a bad key, an over-size query or
        a failed embedding request raises rather than returning a result, crisis or not. A
        service that must answer crisis language whatever else fails checks the text with
        :func:`crisis_phrases` (the same stage, no model, no key, no embedding, texts up to
        4 MiB) and shows :func:`safe_response` when it fires."""
        if not isinstance(query, (str, bytes)):
            raise invalid("query", f"must be str or bytes, got {type(query).__name__}")
        key = [] if resonance_key is None else _key_tokens(resonance_key)
        if embedder is not None or embedding is not None:
            fetched = self._fetch(embedder, embedding, [query], single=True)
            embedding = fetched[0] if embedder is not None else fetched
        vector = None if embedding is None else _float32(embedding, "embedding")
        return RouteResult._from_native(self._core.route(query, key, vector))

    def route_many(
        self,
        queries: Sequence[str | bytes],
        resonance_keys: Sequence[object] | None = None,
        *,
        embeddings: npt.ArrayLike | None = None,
        embedder: GeminiEmbedder | None = None,
        threads: int | None = None,
    ) -> RouteBatch:
        """Route many queries on all cores (the GIL is released); see :class:`RouteBatch`.
        ``embedder`` fetches the embeddings instead of ``embeddings`` (blocking client)."""
        texts = _texts(queries)
        workers = _threads(threads)
        keys = self._keys(resonance_keys, len(texts))
        embeddings = self._fetch(embedder, embeddings, texts)
        ids, persona, confidence, probs, crisis, abstained = self._core.route_many(
            texts, keys, _embeddings(embeddings, len(texts)), workers
        )
        return RouteBatch(tuple(ids), persona, confidence, probs, crisis, abstained)

    async def aroute(
        self,
        query: str | bytes,
        resonance_key: object = None,
        *,
        embedder: GeminiEmbedder,
    ) -> RouteResult:
        """:meth:`route` with the embedding awaited from ``embedder`` (an asyncio
        ``gemini.Client``); routing itself takes microseconds and runs on the loop."""
        if not isinstance(query, (str, bytes)):
            raise invalid("query", f"must be str or bytes, got {type(query).__name__}")
        # A bad key or query fails before the request is paid for.
        if resonance_key is not None:
            _key_tokens(resonance_key)
        vectors = await self._afetch(embedder, [query], single=True)
        return self.route(query, resonance_key, embedding=vectors[0])

    async def aroute_many(
        self,
        queries: Sequence[str | bytes],
        resonance_keys: Sequence[object] | None = None,
        *,
        embedder: GeminiEmbedder,
        threads: int | None = None,
    ) -> RouteBatch:
        """:meth:`route_many` with the embeddings awaited from ``embedder`` (an asyncio
        ``gemini.Client``)."""
        texts = _texts(queries)
        # Bad arguments fail before the request is paid for.
        _threads(threads)
        self._keys(resonance_keys, len(texts))
        vectors = await self._afetch(embedder, texts)
        return self.route_many(texts, resonance_keys, embeddings=vectors, threads=threads)

    def logits(
        self, queries: Sequence[str], *, embeddings: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.float64]:
        """Uncalibrated logits [n, personas] (the temperature divides them)."""
        texts = _texts(queries)
        return np.asarray(self._core.logits(texts, None, _embeddings(embeddings, len(texts))))

    def features(
        self,
        queries: Sequence[str],
        *,
        resonance_keys: Sequence[object] | None = None,
        embeddings: npt.ArrayLike | None = None,
    ) -> Any:
        """The model's feature matrix as a ``scipy.sparse.csr_matrix`` (needs scipy): TF-IDF
        n-gram columns (character and word n-grams), then per persona a keyword indicator and
        log1p(keyword count), both times ``lexicon_weight``, then key tokens, then embeddings.
        The matrix is in canonical form: each row's columns ascending, none repeated."""
        import scipy.sparse  # type: ignore[import-untyped]

        texts = _texts(queries)
        data, indices, indptr, shape = self._core.features(
            texts, self._keys(resonance_keys, len(texts)), _embeddings(embeddings, len(texts))
        )
        matrix = scipy.sparse.csr_matrix((data, indices, indptr), shape=tuple(shape))
        # The core lists a row's n-gram columns in the order the n-grams occur in the query.
        matrix.sort_indices()
        return matrix

    # Evaluation --------------------------------------------------------------------------

    def evaluate(
        self,
        queries: Sequence[str],
        labels: Sequence[str],
        *,
        resamples: int = 2000,
        seed: int = 0,
        resonance_keys: Sequence[object] | None = None,
        embeddings: npt.ArrayLike | None = None,
        embedder: GeminiEmbedder | None = None,
    ) -> Evaluation:
        """Accuracy with a bootstrap 95 % interval (``resamples`` draws with ``seed``),
        macro-F1, per-persona metrics, the confusion matrix, ECE and Brier score on labelled
        queries, routed as :meth:`route_many` routes them: with their ``resonance_keys`` and
        their ``embeddings`` (or those ``embedder`` fetches) when the router was fitted so."""
        resamples = whole(resamples, "resamples", 1, 1_000_000)
        seed = whole(seed, "seed", 0, 2**128 - 1)
        texts = _texts(queries)
        model = self._snapshot()
        y = model._labels(labels, len(texts))
        if len(texts) == 0:
            raise invalid("queries", "must not be empty")
        batch = model.route_many(texts, resonance_keys, embeddings=embeddings, embedder=embedder)
        return _evaluate(batch.personas, y, batch.persona, batch.probabilities, resamples, seed)


def _evaluate(
    personas: tuple[str, ...],
    y: npt.NDArray[np.int32],
    predicted: npt.NDArray[np.int32],
    probabilities: npt.NDArray[np.float64],
    resamples: int,
    seed: int,
) -> Evaluation:
    k = len(personas)
    n = len(y)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    correct = (y == predicted).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n))
    boot = correct[draws].mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    per_persona: dict[str, PersonaMetrics] = {}
    f1s = []
    for i, name in enumerate(personas):
        tp = float(confusion[i, i])
        predicted_i = float(confusion[:, i].sum())
        support = int(confusion[i, :].sum())
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_persona[name] = PersonaMetrics(precision, recall, f1, support)
        if support or predicted_i:
            f1s.append(f1)
    top = probabilities.max(axis=1)
    hit = (probabilities.argmax(axis=1) == y).astype(np.float64)
    bins = np.minimum((top * 10).astype(np.int64), 9)
    ece = 0.0
    for b in range(10):
        mask = bins == b
        if mask.any():
            ece += mask.sum() / n * abs(hit[mask].mean() - top[mask].mean())
    onehot = np.eye(k)[y]
    brier = float(np.mean(np.sum((probabilities - onehot) ** 2, axis=1)))
    return Evaluation(
        n=n,
        accuracy=float(correct.mean()),
        accuracy_ci=(float(low), float(high)),
        macro_f1=float(np.mean(f1s)) if f1s else math.nan,
        per_persona=per_persona,
        confusion=confusion,
        personas=personas,
        ece=float(ece),
        brier=brier,
        probabilities=probabilities,
        labels=y,
    )
