"""lumengate.assign from the user's side: hashers, key bytes, schemes equal to their SDKs,
experiments, rollouts, batch inputs and bad input."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import mmh3
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lumengate
from lumengate import assign
from lumengate.errors import InvalidArgument

# Golden ids: ASCII, Korean (precomposed and decomposed jamo), emoji (astral, ZWJ sequence),
# mixed scripts, long ids.
GOLDEN_IDS = [
    "user_1",
    "123",
    "사용자",
    "\u1109\u1161\u110b\u116d\u11bc\u110c\u1161",  # 사용자 as decomposed jamo: different bytes
    "😀user",
    "👩‍💻",
    "user_ñ_é",
    "a" * 1000,
    "멘토링-lumen-🌙",
]
IDS = [f"user_{i}" for i in range(5000)] + GOLDEN_IDS


def md5_mod100(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % 100


def fnv1a32_bytes(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def fnv1a32_code_points(text: str) -> int:
    # GrowthBook's Python SDK before 4.0 XORed whole code points (ord of each character).
    h = 0x811C9DC5
    for ch in text:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h


# ---------------------------------------------------------------------------------------
# Hashers


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_digests_equal_hashlib(algorithm: str) -> None:
    out = assign.hash_many(IDS, algorithm)
    expected = [hashlib.new(algorithm, s.encode()).digest() for s in IDS]
    assert out.dtype == np.dtype(f"S{hashlib.new(algorithm).digest_size}")
    # numpy 'S' strips trailing NULs on item access; compare the raw fixed-width rows.
    raw = out.view(np.uint8).reshape(len(IDS), -1)
    assert [bytes(row) for row in raw] == expected


@pytest.mark.parametrize("seed", [0, 1, 86028157, 2**32 - 1], ids=lambda s: f"seed{s}")
def test_murmur3_equals_mmh3(seed: int) -> None:
    out = assign.hash_many(IDS, "murmur3_32", seed=seed)
    assert out.dtype == np.uint32
    assert out.tolist() == [mmh3.hash(s.encode(), seed, signed=False) for s in IDS]


def test_fnv1a32_equals_reference() -> None:
    out = assign.hash_many(IDS, "fnv1a32")
    assert out.tolist() == [fnv1a32_bytes(s.encode()) for s in IDS]


def test_xxhash64_equals_reference() -> None:
    import xxhash

    for seed in (0, 42, 2**64 - 1):
        out = assign.hash_many(IDS, "xxhash64", seed=seed)
        assert out.dtype == np.uint64
        assert out.tolist() == [xxhash.xxh64_intdigest(s.encode(), seed=seed) for s in IDS]


def test_hash_many_rejects_unknown_algorithm_and_seed_misuse() -> None:
    with pytest.raises(ValueError, match=r"algorithm.*'crc32'.*allowed: md5, sha1"):
        assign.hash_many(["a"], "crc32")
    with pytest.raises(InvalidArgument, match="seed: applies only to murmur3_32 and xxhash64"):
        assign.hash_many(["a"], "md5", seed=3)
    with pytest.raises(InvalidArgument, match="32-bit seed"):
        assign.hash_many(["a"], "murmur3_32", seed=2**32)


# ---------------------------------------------------------------------------------------
# Key bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("사용자", "사용자".encode()),
        (b"\xff\x00raw", b"\xff\x00raw"),
        (123, b"123"),
        (-5, b"-5"),
        (np.int64(-9), b"-9"),
        (np.uint64(2**64 - 1), b"18446744073709551615"),
        (10**30, b"1" + b"0" * 30),
    ],
    ids=["korean", "bytes", "int", "negative", "np.int64", "np.uint64", "bigint"],
)
def test_key_bytes(value: object, expected: bytes) -> None:
    assert assign.key_bytes(value) == expected  # type: ignore[arg-type]


def test_integer_ids_hash_as_decimal_text_in_every_container() -> None:
    scheme = assign.Md5Mod100(seed="42")
    values = [0, 7, -3, 2**40, 123456789]
    expected = [md5_mod100(f"{v}_42") for v in values]
    assert assign.bucket_many(np.array(values, dtype=np.int64), scheme).tolist() == expected
    assert assign.bucket_many(values, scheme).tolist() == expected
    assert assign.bucket_many(pd.Series(values, dtype="Int64"), scheme).tolist() == expected
    assert assign.bucket_many(pa.array(values), scheme).tolist() == expected
    unsigned = np.array([0, 2**64 - 1], dtype=np.uint64)
    assert assign.bucket_many(unsigned, scheme).tolist() == [
        md5_mod100("0_42"),
        md5_mod100(f"{2**64 - 1}_42"),
    ]
    assert assign.bucket(7, scheme) == assign.bucket("7", scheme)


@pytest.mark.parametrize(
    ("ids", "index", "what"),
    [
        (["a", None, "c"], 1, "NoneType None"),
        (["a", "b", float("nan")], 2, "float nan"),
        ([1, 2.5], 1, "float 2.5"),
        (["a", True], 1, "bool True"),
        (np.array([1.0, 2.0]), 0, "float"),
        (["ok", ""], 1, "is empty"),
        (pd.Series([1, None, 3], dtype="Int64"), 1, "missing"),
        (pd.Series(["a", None], dtype="string[pyarrow]"), 1, "missing"),
        (pa.array(["a", "b", None]), 2, "missing"),
        (np.array(["a", "\ud800"], dtype=object), 1, "surrogate"),
    ],
    ids=[
        "none",
        "nan",
        "float",
        "bool",
        "float-array",
        "empty-id",
        "Int64-NA",
        "arrow-null",
        "pyarrow-null",
        "lone-surrogate",
    ],
)
def test_bad_ids_name_the_index(ids: object, index: int, what: str) -> None:
    with pytest.raises(InvalidArgument, match=rf"ids\[{index}\].*{what}") as caught:
        assign.bucket_many(ids, assign.Md5Mod100(seed="42"))
    assert caught.value.field == f"ids[{index}]"


def test_error_names_lowest_bad_index_under_threads() -> None:
    ids = np.array([f"u{i}" for i in range(200_000)], dtype=object)
    ids[150_000] = None
    ids[60_000] = 1.5
    with pytest.raises(InvalidArgument, match=r"ids\[60000\]"):
        assign.bucket_many(ids, assign.Md5Mod100(seed="s"), threads=2)


@pytest.mark.parametrize(
    "scheme",
    [assign.GrowthBookV2(seed="s"), assign.Md5Mod100(seed="s")],
    ids=["block-kernel", "one-by-one"],
)
def test_error_inside_a_block_names_its_index(scheme: assign.Scheme) -> None:
    ids = [f"u{i}" for i in range(11)]
    ids[6] = ""
    with pytest.raises(InvalidArgument, match=r"ids\[6\]: is empty"):
        assign.bucket_many(ids, scheme)
    ids[6] = "\ud800"
    with pytest.raises(InvalidArgument, match=r"ids\[6\].*surrogate"):
        assign.bucket_many(np.array(ids, dtype=object), scheme)


@pytest.mark.parametrize(
    "ids",
    [[], np.array([], dtype=str), np.zeros((2, 2), dtype=np.int64), "user_1", 5],
    ids=["empty-list", "empty-array", "2d", "single-str", "scalar"],
)
def test_bad_containers(ids: object) -> None:
    with pytest.raises(InvalidArgument, match=r"^ids: "):
        assign.bucket_many(ids, assign.Md5Mod100(seed="42"))


@pytest.mark.parametrize("value", [None, 1.5, float("nan"), True, ""], ids=repr)
def test_bad_single_id(value: object) -> None:
    with pytest.raises(InvalidArgument, match="user_id"):
        assign.bucket(value, assign.Md5Mod100(seed="42"))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Schemes, bit for bit with their reference SDKs


def test_md5_mod100_is_the_mentoring_rule() -> None:
    scheme = assign.Md5Mod100(seed="42")
    assert assign.bucket_many(IDS, scheme).tolist() == [md5_mod100(f"{u}_42") for u in IDS]
    assert all(assign.bucket(u, scheme) == md5_mod100(f"{u}_42") for u in GOLDEN_IDS)


def test_md5_canary_rule_and_salt() -> None:
    plain = assign.Md5Canary()
    assert assign.bucket_many(IDS, plain).tolist() == [md5_mod100(u) for u in IDS]
    salted = assign.Md5Canary(salt="search-v2")
    assert assign.bucket_many(IDS, salted).tolist() == [md5_mod100(f"search-v2:{u}") for u in IDS]
    # Independent canaries: with distinct salts the 10 % samples barely overlap (~1 %).
    a = assign.Rollout(scheme=assign.Md5Canary(salt="a")).in_canary_many(IDS[:5000], stage=1)
    b = assign.Rollout(scheme=assign.Md5Canary(salt="b")).in_canary_many(IDS[:5000], stage=1)
    assert np.count_nonzero(a & b) < 0.03 * 5000


def test_growthbook_hash_equals_sdk() -> None:
    from growthbook.core import gbhash

    for seed in ("", "exp-1", "씨앗", "🌱"):
        for version, scheme_cls in ((1, assign.GrowthBookV1), (2, assign.GrowthBookV2)):
            scheme = scheme_cls(seed=seed)
            ours = assign.bucket_many(IDS, scheme)
            assert ours.dtype == np.float64
            assert ours.tolist() == [gbhash(seed, u, version) for u in IDS]
            assert all(assign.bucket(u, scheme) == gbhash(seed, u, version) for u in GOLDEN_IDS)


def test_growthbook_code_point_mode_matches_pre_4_python_sdk() -> None:
    v1 = assign.GrowthBookV1(seed="s", text="code_points")
    v2 = assign.GrowthBookV2(seed="s", text="code_points")
    for u in GOLDEN_IDS:
        assert assign.bucket(u, v1) == (fnv1a32_code_points(u + "s") % 1000) / 1000
        inner = str(fnv1a32_code_points("s" + u))
        assert assign.bucket(u, v2) == (fnv1a32_code_points(inner) % 10000) / 10000
    # The two text units agree on the Basic Multilingual Plane and differ on emoji.
    assert assign.bucket("사용자", v1) == assign.bucket("사용자", assign.GrowthBookV1(seed="s"))
    assert assign.bucket("😀user", v2) != assign.bucket("😀user", assign.GrowthBookV2(seed="s"))


@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
    coverage=st.floats(-0.5, 1.5),
)
def test_growthbook_compat_ranges_equal_sdk(weights: list[float], coverage: float) -> None:
    from growthbook.core import getBucketRanges

    exp = assign.Experiment(
        key="e",
        variants=[f"v{i}" for i in range(len(weights))],
        weights=weights,
        coverage=coverage,
        scheme=assign.GrowthBookV2(seed="e"),
        mode="compat",
    )
    assert exp.bucket_ranges() == getBucketRanges(len(weights), coverage, weights)


@pytest.mark.parametrize(
    ("weights", "coverage", "namespace"),
    [
        ([0.5, 0.5], 1.0, None),
        ([0.1, 0.2, 0.7], 0.6, None),
        ([0.34, 0.33, 0.33], 1.0, ("pricing", 0.2, 0.7)),
        ([0.7, 0.2], 1.3, None),  # compat: coverage clamped, weights outside [0.99, 1.01]
    ],
    ids=["even", "uneven-coverage", "namespace", "normalised"],
)
def test_growthbook_experiment_equals_sdk_run(
    weights: list[float], coverage: float, namespace: tuple[str, float, float] | None
) -> None:
    from growthbook.core import chooseVariation, gbhash, getBucketRanges, inNamespace

    exp = assign.Experiment(
        key="checkout",
        variants=[f"v{i}" for i in range(len(weights))],
        weights=weights,
        coverage=coverage,
        namespace=namespace,  # type: ignore[arg-type]
        scheme=assign.GrowthBookV2(seed="checkout"),
        mode="compat",
    )
    ranges = getBucketRanges(len(weights), coverage, weights)
    expected = []
    for u in IDS:
        if namespace is not None and not inNamespace(u, namespace):
            expected.append(-1)
        else:
            n = gbhash("checkout", u, 2)
            expected.append(chooseVariation(n, ranges))  # type: ignore[arg-type]
    batch = exp.assign_many(IDS)
    assert batch.index.tolist() == expected
    assert [exp.assign(u).index for u in GOLDEN_IDS] == expected[-len(GOLDEN_IDS) :]


def test_unleash_equals_sdk() -> None:
    from UnleashClient.utils import normalized_hash

    assert assign.bucket("123", assign.Unleash(group_id="gr1")) == 73
    assert normalized_hash("123", "gr1") == 73
    variant_scheme = assign.Unleash.for_variants("gr1", total_weight=100)
    assert assign.bucket("123", variant_scheme) == normalized_hash("123", "gr1", 100, 86028157)
    for group, seed, normalizer in (
        ("gr1", 0, 100),
        ("feature.x", 86028157, 1000),
        ("그룹", 7, 37),
    ):
        scheme = assign.Unleash(group_id=group, seed=seed, normalizer=normalizer)
        assert assign.bucket_many(IDS, scheme).tolist() == [
            normalized_hash(u, group, normalizer, seed) for u in IDS
        ]


def test_unleash_gradual_rollout_and_variants_follow_sdk_rules() -> None:
    from UnleashClient.utils import normalized_hash

    rollout = assign.Rollout(
        stages=(
            assign.Stage(5, timedelta(hours=1)),
            assign.Stage(37, timedelta(hours=1)),
            assign.Stage(100),
        ),
        scheme=assign.Unleash(group_id="flag"),
    )
    for stage, percent in ((0, 5), (1, 37), (2, 100)):
        expected = [normalized_hash(u, "flag") <= percent for u in IDS]
        assert rollout.in_canary_many(IDS, stage=stage).tolist() == expected
    # Variants: the first whose cumulative weight reaches the 1-based bucket.
    weights = [200, 300, 500]
    exp = assign.Experiment(
        key="flag",
        variants=["a", "b", "c"],
        weights=[w / 1000 for w in weights],
        scheme=assign.Unleash.for_variants("flag", total_weight=1000),
    )
    for u in IDS[:2000]:
        target = normalized_hash(u, "flag", 1000, 86028157)
        counter, chosen = 0, -1
        for i, w in enumerate(weights):
            counter += w
            if counter >= target:
                chosen = i
                break
        assert exp.assign(u).index == chosen


def test_unleash_engine_agrees_on_rollout_and_variants() -> None:
    # UnleashClient 6 evaluates toggles in its bundled engine (yggdrasil); ask it directly.
    from yggdrasil_engine.engine import UnleashEngine

    state = {
        "version": 2,
        "features": [
            {
                "name": "flag",
                "enabled": True,
                "strategies": [
                    {
                        "name": "flexibleRollout",
                        "parameters": {"rollout": "37", "stickiness": "userId", "groupId": "grp"},
                    }
                ],
                "variants": [
                    {"name": "a", "weight": 200, "stickiness": "userId"},
                    {"name": "b", "weight": 300, "stickiness": "userId"},
                    {"name": "c", "weight": 500, "stickiness": "userId"},
                ],
            }
        ],
    }
    engine = UnleashEngine()
    engine.take_state(json.dumps(state))
    ids = IDS[:3000] + GOLDEN_IDS
    enabled = [engine.is_enabled("flag", {"userId": u}).is_enabled for u in ids]
    rollout = assign.Rollout(
        stages=(assign.Stage(37, timedelta(days=1)), assign.Stage(100)),
        scheme=assign.Unleash(group_id="grp"),
    )
    assert rollout.in_canary_many(ids, stage=0).tolist() == enabled
    exp = assign.Experiment(
        key="flag",
        variants=["a", "b", "c"],
        weights=[0.2, 0.3, 0.5],
        scheme=assign.Unleash.for_variants("flag", total_weight=1000),
    )
    ours = exp.assign_many(ids).variant.tolist()
    theirs = [engine.get_variant("flag", {"userId": u}).variant.name for u in ids]
    assert [o for o, on in zip(ours, enabled, strict=False) if on] == [
        t for t, on in zip(theirs, enabled, strict=False) if on
    ]


def test_statsig_equals_sdk_and_reads_exported_config() -> None:
    from statsig.evaluator import _Evaluator
    from statsig.statsig_user import StatsigUser
    from statsig.utils import sha256_hash

    scheme = assign.Statsig(config_salt="a_config", rule_salt="rule_1")
    assert assign.bucket_many(IDS, scheme).tolist() == [
        sha256_hash(f"a_config.rule_1.{u}") % 10000 for u in IDS
    ]
    config = {"name": "a_gate", "salt": "a_config", "rules": [{"id": "rule_1", "salt": "rule_1"}]}
    assert assign.Statsig.from_config(config, "rule_1") == scheme
    with pytest.raises(InvalidArgument, match=r"rule_id.*rules: rule_1"):
        assign.Statsig.from_config(config, "nope")
    # The SDK's own pass-percentage rule (a private, stateless evaluator method) agrees with a
    # rollout stage at the same percentage.
    evaluator = _Evaluator.__new__(_Evaluator)
    rule = {"id": "rule_1", "salt": "rule_1", "passPercentage": 37.5}
    ids = IDS[:2000] + GOLDEN_IDS
    theirs = [
        evaluator._Evaluator__eval_pass_percentage(StatsigUser(user_id=u), rule, config)
        for u in ids
    ]
    rollout = assign.Rollout(
        stages=(assign.Stage(37.5, timedelta(days=1)), assign.Stage(100)), scheme=scheme
    )
    assert rollout.in_canary_many(ids, stage=0).tolist() == theirs


OPTIMIZELY_DATAFILE = {
    "version": "4",
    "projectId": "100",
    "accountId": "100",
    "revision": "1",
    "anonymizeIP": False,
    "botFiltering": False,
    "attributes": [],
    "audiences": [],
    "events": [],
    "groups": [],
    "rollouts": [],
    "featureFlags": [],
    "layers": [],
    "experiments": [
        {
            "id": "1111",
            "key": "lumen_vs_legacy",
            "layerId": "2222",
            "status": "Running",
            "audienceIds": [],
            "forcedVariations": {},
            "variations": [
                {"id": "3331", "key": "control", "variables": []},
                {"id": "3332", "key": "treatment", "variables": []},
                {"id": "3333", "key": "treatment_b", "variables": []},
            ],
            "trafficAllocation": [
                {"entityId": "3331", "endOfRange": 3333},
                {"entityId": "3332", "endOfRange": 6666},
                {"entityId": "3333", "endOfRange": 10000},
            ],
        }
    ],
}


def test_optimizely_equals_sdk() -> None:
    from optimizely import optimizely as optimizely_sdk
    from optimizely.bucketer import Bucketer
    from optimizely.logger import NoOpLogger

    bucketer = Bucketer()
    scheme = assign.Optimizely(entity_id="1111")
    assert assign.bucket_many(IDS, scheme).tolist() == [
        bucketer._generate_bucket_value(f"{u}1111") for u in IDS
    ]
    client = optimizely_sdk.Optimizely(json.dumps(OPTIMIZELY_DATAFILE), logger=NoOpLogger())
    exp = assign.Experiment.from_optimizely(OPTIMIZELY_DATAFILE, "lumen_vs_legacy")
    ours = exp.assign_many(IDS[:1500]).variant.tolist()
    theirs = [client.get_variation("lumen_vs_legacy", u) for u in IDS[:1500]]
    assert ours == theirs
    client.close()


def test_planout_equals_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    # PlanOut 0.6 (the last release) imports collections.MutableMapping, removed in Python
    # 3.10; restoring the alias lets the real SDK run unchanged.
    import collections
    import collections.abc

    monkeypatch.setattr(
        collections, "MutableMapping", collections.abc.MutableMapping, raising=False
    )
    from planout.assignment import Assignment
    from planout.ops.random import RandomFloat, WeightedChoice

    scheme = assign.PlanOut(experiment_salt="exp", param_salt="p")
    ascii_ids = IDS[:3000]
    expected = []
    for u in ascii_ids:
        a = Assignment("exp")
        a.p = RandomFloat(min=0.0, max=1.0, unit=u)
        expected.append(a.p)
    assert assign.bucket_many(ascii_ids, scheme).tolist() == expected

    weights = [0.2, 0.5, 0.3]
    exp = assign.Experiment(
        key="exp",
        variants=["a", "b", "c"],
        weights=weights,
        scheme=assign.PlanOut(experiment_salt="exp", param_salt="color"),
    )
    chosen = []
    for u in ascii_ids:
        a = Assignment("exp")
        a.color = WeightedChoice(choices=["a", "b", "c"], weights=weights, unit=u)
        chosen.append(a.color)
    assert exp.assign_many(ascii_ids).variant.tolist() == chosen


# ---------------------------------------------------------------------------------------
# Experiments


def test_readme_experiment() -> None:
    scheme = assign.Md5Mod100(seed="42")
    exp = assign.Experiment(
        key="lumen-vs-legacy", variants=["control", "treatment"], weights=[0.5, 0.5], scheme=scheme
    )
    a = exp.assign("user_1")
    assert a.bucket == md5_mod100("user_1_42")
    assert a.variant == ("control" if a.bucket < 50 else "treatment")
    assert a.in_experiment and a.reason == "hashed"
    assert assign.Experiment.from_json(exp.to_json()) == exp


@pytest.mark.parametrize(
    "weights",
    [[0.5, 0.5], [0.3, 0.7], [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]],
    ids=["50-50", "30-70", "four-uneven", "four-even"],
)
def test_md5_weighted_variants_take_consecutive_bucket_ranges(weights: list[float]) -> None:
    exp = assign.Experiment(
        key="k",
        variants=[f"v{i}" for i in range(len(weights))],
        weights=weights,
        scheme=assign.Md5Mod100(seed="42"),
    )
    bounds = np.rint(np.cumsum(weights) * 100).astype(int).tolist()
    batch = exp.assign_many(IDS)
    for u, index in zip(IDS, batch.index.tolist(), strict=False):
        b = md5_mod100(f"{u}_42")
        assert index == next(i for i, bound in enumerate(bounds) if b < bound)


def test_assign_many_equals_assign_for_every_feature() -> None:
    exp = assign.Experiment(
        key="k",
        variants=["a", "b", "c"],
        weights=[0.2, 0.3, 0.5],
        coverage=0.8,
        namespace=assign.Namespace("ns", 0.1, 0.9),
        overrides={"user_3": "c", "사용자": "a"},
        scheme=assign.GrowthBookV1(seed="k"),
    )
    sticky = {"user_10": "b", "user_11": "a", "👩‍💻": "c"}
    batch = exp.assign_many(IDS, sticky=sticky)
    singles = [exp.assign(u, sticky=sticky) for u in IDS]
    assert batch.index.tolist() == [s.index for s in singles]
    assert batch.reason.tolist() == [s.reason for s in singles]
    assert batch.bucket.tolist() == [s.bucket for s in singles]
    assert batch.moved == sum(s.moved for s in singles)
    assert exp.assign("user_3").reason == "forced"
    assert set(batch.reason.tolist()) == {
        "hashed",
        "forced",
        "sticky",
        "not_in_namespace",
        "not_in_coverage",
    }


def test_sticky_assignments_survive_a_weight_change() -> None:
    old = assign.Experiment(key="k", variants=["control", "treatment"], weights=[0.5, 0.5])
    new = assign.Experiment(key="k", variants=["control", "treatment"], weights=[0.2, 0.8])
    exposed = IDS[:3000]
    before = old.assign_many(exposed)
    sticky = dict(zip(exposed, before.variant.tolist(), strict=False))
    after = new.assign_many(exposed, sticky=sticky)
    assert after.variant.tolist() == before.variant.tolist()
    would_move = old.moves(exposed, new)
    assert after.moved == would_move
    # Buckets 20..49 flip from control to treatment: about 30 % of users.
    assert 0.25 * 3000 < would_move < 0.35 * 3000
    sticky_series = pd.Series(sticky)
    assert new.assign_many(exposed, sticky=sticky_series).moved == would_move
    fresh = new.assign_many(IDS[3000:4000], sticky=sticky)
    assert fresh.moved == 0 and set(fresh.reason.tolist()) == {"hashed"}


def test_hash_attribute_reads_mappings_and_frames() -> None:
    exp = assign.Experiment(key="k", variants=["a", "b"], hash_attribute="company")
    assert exp.assign({"company": "acme", "id": "u1"}) == exp.assign("acme")
    frame = pd.DataFrame({"company": ["acme", "globex", "initech"], "id": ["1", "2", "3"]})
    assert (
        exp.assign_many(frame).index.tolist()
        == exp.assign_many(["acme", "globex", "initech"]).index.tolist()
    )
    with pytest.raises(InvalidArgument, match="company"):
        exp.assign({"id": "u1"})
    with pytest.raises(InvalidArgument, match="company"):
        exp.assign_many(pd.DataFrame({"id": ["1"]}))


def test_batch_assignment_views() -> None:
    exp = assign.Experiment(key="k", variants=["a", "b"], coverage=0.5)
    batch = exp.assign_many(IDS)
    counts = batch.counts()
    assert sum(counts.values()) == len(IDS)
    assert counts[None] == int(np.count_nonzero(batch.index < 0))
    frame = batch.to_pandas(ids=IDS)
    assert list(frame.columns) == ["id", "variant", "index", "bucket", "reason"]
    assert frame["variant"].isna().sum() == counts[None]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"weights": [0.5, 0.6]}, r"weights: must sum to 1"),
        ({"weights": [-0.5, 1.5]}, r"weights\[0\]: must be a finite share >= 0"),
        ({"weights": [float("nan"), 0.5]}, r"weights\[0\]"),
        ({"weights": [1.0]}, r"weights: has 1 entries for 2 variants"),
        ({"coverage": 1.5}, r"coverage: must be in \[0, 1\], got 1.5"),
        ({"coverage": -0.1}, r"coverage: must be in \[0, 1\]"),
        ({"variants": ["a", "a"]}, r"variants: names must be unique"),
        ({"variants": []}, r"variants: is empty"),
        ({"variants": "ab"}, r"variants: must be a list"),
        (
            {"scheme": "md5"},
            r"scheme: unknown scheme 'md5'; allowed: a Scheme instance \(Md5Mod100",
        ),
        ({"overrides": {"u": "zzz"}}, r"overrides\['u'\]: variant 'zzz' is not one of"),
        ({"namespace": ("ns", 0.7, 0.2)}, r"namespace: start 0.7 must be below end 0.2"),
        ({"mode": "loose"}, r"mode: must be 'strict' or 'compat'"),
        ({"key": ""}, r"key: must not be empty"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else None,
)
def test_experiment_validation(kwargs: dict[str, object], pattern: str) -> None:
    params: dict[str, object] = {"key": "k", "variants": ["a", "b"]}
    params.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        assign.Experiment(**params)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("factory", "pattern"),
    [
        (lambda: assign.Md5Mod100(seed=42), r"seed: must be a str, got int 42"),  # type: ignore[arg-type]
        (
            lambda: assign.Unleash(group_id="g", normalizer=0),
            r"normalizer: must be a whole number in \[1",
        ),
        (
            lambda: assign.GrowthBookV2(seed="s", text="utf8"),
            r"text: must be 'utf16' or 'code_points'",
        ),  # type: ignore[arg-type]
        (
            lambda: assign.scheme_from_dict({"scheme": "Murmur"}),
            r"unknown scheme 'Murmur'; allowed: Md5Mod100",
        ),
        (
            lambda: assign.Rollout().in_canary("u", stage=5),
            r"stage: must be a stage index in \[0, 4\], got 5",
        ),
        (lambda: assign.Stage(percent=120), r"stage.percent: must be in \[0, 100\], got 120"),
        (
            lambda: assign.Rollout(stages=(assign.Stage(50, timedelta(1)), assign.Stage(10))),
            r"stages\[1\]: percent 10.0 must exceed",
        ),
        (
            lambda: assign.Experiment.from_json('{"type": "Experiment", "version": 99}'),
            r"version: unsupported format version 99",
        ),
        (lambda: assign.Experiment.from_json("{not json"), r"json: is not valid JSON"),
    ],
    ids=[
        "seed-type",
        "normalizer",
        "text-unit",
        "unknown-scheme",
        "stage-index",
        "percent",
        "stage-order",
        "version",
        "json",
    ],
)
def test_bad_parameters(factory: object, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        factory()  # type: ignore[operator]


@pytest.mark.parametrize(
    "scheme",
    [
        assign.Md5Mod100(seed="42"),
        assign.Md5Canary(salt="x"),
        assign.GrowthBookV1(seed="s"),
        assign.GrowthBookV2(seed="s", text="code_points"),
        assign.Unleash(group_id="g", seed=3, normalizer=1000),
        assign.Statsig(config_salt="c", rule_salt="r"),
        assign.Optimizely(entity_id="1"),
        assign.PlanOut(experiment_salt="e", param_salt="p"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_value_types_round_trip(scheme: assign.Scheme) -> None:
    exp = assign.Experiment(
        key="k",
        variants=["a", "b"],
        weights=[0.25, 0.75],
        scheme=scheme,
        coverage=0.9,
        namespace=assign.Namespace("ns", 0.0, 0.5),
        overrides={"u1": "b"},
        hash_attribute="id",
    )
    again = assign.Experiment.from_json(exp.to_json())
    assert again == exp and hash(again) == hash(exp)
    assert again.assign_many(IDS[:500]).index.tolist() == exp.assign_many(IDS[:500]).index.tolist()
    rollout = assign.Rollout(scheme=scheme)
    assert assign.Rollout.from_json(rollout.to_json()) == rollout


def test_value_types_pickle_after_use() -> None:
    import pickle

    exp = assign.Experiment(key="k", variants=["a", "b"], scheme=assign.GrowthBookV2(seed="k"))
    before = exp.assign_many(IDS[:100]).index  # compiles and caches the native plan
    again = pickle.loads(pickle.dumps(exp))
    assert again == exp
    assert np.array_equal(again.assign_many(IDS[:100]).index, before)
    rollout = assign.Rollout()
    rollout.in_canary("u", 0)
    assert pickle.loads(pickle.dumps(rollout)) == rollout


def test_single_assign_with_sticky_mapping_of_any_size() -> None:
    exp = assign.Experiment(key="k", variants=["a", "b"], weights=[0.5, 0.5])
    sticky = {f"user_{i}": "b" for i in range(50_000)}
    assert exp.assign("user_7", sticky=sticky).variant == "b"
    assert exp.assign("user_7", sticky=sticky).reason == "sticky"
    assert exp.assign("someone_new", sticky=sticky).reason == "hashed"
    assert exp.assign(42, sticky={"42": "a"}).reason == "sticky"


# ---------------------------------------------------------------------------------------
# Rollouts


def test_default_rollout_stages() -> None:
    rollout = assign.Rollout()
    assert [s.percent for s in rollout.stages] == [5, 10, 25, 50, 100]
    assert [s.min_duration for s in rollout.stages] == [
        timedelta(hours=24),
        timedelta(hours=24),
        timedelta(hours=48),
        timedelta(hours=72),
        None,
    ]
    start = datetime(2026, 1, 1)
    assert not rollout.can_advance(0, start, start + timedelta(hours=23))
    assert rollout.can_advance(0, start, start + timedelta(hours=24))
    assert not rollout.can_advance(4, start, start + timedelta(days=365))


def test_rollout_is_the_original_canary_rule() -> None:
    rollout = assign.Rollout()
    for stage, percent in enumerate((5, 10, 25, 50, 100)):
        expected = [md5_mod100(u) < percent for u in IDS]
        assert rollout.in_canary_many(IDS, stage=stage).tolist() == expected
        assert [rollout.in_canary(u, stage) for u in GOLDEN_IDS] == expected[-len(GOLDEN_IDS) :]


@given(
    ids=st.lists(st.text(min_size=1).filter(lambda s: "\x00" not in s), min_size=1, max_size=40),
    salt=st.one_of(st.none(), st.text(min_size=1, max_size=8)),
)
def test_rollout_is_monotone(ids: list[str], salt: str | None) -> None:
    ids = [u for u in ids if not any(0xD800 <= ord(c) <= 0xDFFF for c in u)] or ["x"]
    rollout = assign.Rollout(scheme=assign.Md5Canary(salt=salt))
    admitted = [rollout.in_canary_many(ids, stage=s) for s in range(len(rollout.stages))]
    for earlier, later in itertools.pairwise(admitted):
        assert not np.any(earlier & ~later)
    assert admitted[-1].all()


@pytest.mark.slow
def test_variant_split_is_unbiased_across_stages() -> None:
    from scipy.stats import chi2_contingency

    ids = np.char.add("user_", np.arange(1_000_000).astype(str))
    rollout = assign.Rollout()
    exp = assign.Experiment(
        key="lumen-vs-legacy",
        variants=["control", "treatment"],
        weights=[0.5, 0.5],
        scheme=assign.Md5Mod100(seed="42"),
    )
    stage = rollout.first_stage_many(ids)
    variant = exp.assign_many(ids).index
    table = np.zeros((len(rollout.stages), 2), dtype=np.int64)
    np.add.at(table, (stage, variant), 1)
    result = chi2_contingency(table)
    assert result.pvalue > 0.001, table
    # Each stage admits its nominal share of users (within 0.3 percentage points).
    shares = np.cumsum(table.sum(axis=1)) / len(ids) * 100
    assert np.allclose(shares, [5, 10, 25, 50, 100], atol=0.3)


# ---------------------------------------------------------------------------------------
# Batch containers and threads


def _containers(values: list[str]) -> dict[str, object]:
    containers: dict[str, object] = {
        "list": values,
        "tuple": tuple(values),
        "numpy-U": np.array(values),
        "numpy-object": np.array(values, dtype=object),
        "numpy-S": np.array([v.encode() for v in values], dtype="S"),
        "numpy-StringDType": np.array(values, dtype=np.dtypes.StringDType()),
        "pandas-object": pd.Series(values, dtype=object),
        "pandas-str": pd.Series(values, dtype="str"),
        "pandas-python-string": pd.Series(values, dtype="string[python]"),
        "pandas-arrow-string": pd.Series(values, dtype="string[pyarrow]"),
        "pandas-ArrowDtype-large": pd.Series(values, dtype=pd.ArrowDtype(pa.large_string())),
        "pandas-sliced-arrow": pd.Series(["pad", *values], dtype="string[pyarrow]").iloc[1:],
        "pyarrow-array": pa.array(values),
        "pyarrow-chunked": pa.chunked_array([values[:7], values[7:]]),
        "pandas-categorical": pd.Series(values, dtype="category"),
    }
    return containers


@pytest.mark.parametrize("container", list(_containers(["x"]).keys()))
def test_every_container_gives_the_same_buckets(container: str) -> None:
    values = GOLDEN_IDS + IDS[:50]
    scheme = assign.GrowthBookV2(seed="s")
    expected = [assign.bucket(u, scheme) for u in values]
    ids = _containers(values)[container]
    assert assign.bucket_many(ids, scheme).tolist() == expected


def test_threads_give_identical_results_and_respect_the_cap() -> None:
    ids = np.array([f"user_{i}" for i in range(100_000)])
    scheme = assign.Md5Mod100(seed="42")
    one = assign.bucket_many(ids, scheme, threads=1)
    assert np.array_equal(one, assign.bucket_many(ids, scheme, threads=None))
    assert np.array_equal(one, assign.bucket_many(ids, scheme, threads=8))
    assert lumengate.available_cpus() >= 1
    try:
        lumengate.set_max_threads(1)
        assert lumengate.max_threads() == 1
        assert lumengate._native.resolve_threads(None) == 1
        assert np.array_equal(one, assign.bucket_many(ids, scheme))
    finally:
        lumengate.set_max_threads(None)
    assert lumengate.max_threads() is None
    with pytest.raises(InvalidArgument, match="threads: must be a whole number >= 1"):
        assign.bucket_many(ids, scheme, threads=0)


def test_concurrent_callers_release_the_gil_and_agree() -> None:
    ids = np.array([f"user_{i}" for i in range(200_000)], dtype=object)
    scheme = assign.Md5Mod100(seed="42")
    expected = assign.bucket_many(ids, scheme, threads=1)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []
    ticks = 0
    done = threading.Event()

    def work() -> None:
        try:
            results.append(assign.bucket_many(ids, scheme, threads=1))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()

    def watch() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            done.wait(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    for w in workers:
        w.join()
    done.set()
    watcher.join()
    assert not errors
    assert all(np.array_equal(r, expected) for r in results)
    assert ticks > 5  # the interpreter kept running other threads during native work


# ---------------------------------------------------------------------------------------
# GrowthBook's shared SDK test vectors (tests/data/growthbook_cases.json)

GROWTHBOOK_CASES = json.loads(
    (Path(__file__).parent / "data" / "growthbook_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", GROWTHBOOK_CASES["hash"], ids=lambda c: f"{c[0]}|{c[1]}|v{c[2]}")
def test_growthbook_cases_hash(case: list[object]) -> None:
    seed, value, version, expected = case
    schemes = {1: assign.GrowthBookV1, 2: assign.GrowthBookV2}
    if expected is None:  # an unknown hash version: nothing to bucket with
        assert version not in schemes
        return
    scheme = schemes[version](seed=seed)  # type: ignore[index]
    assert assign.bucket(value, scheme) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("case", GROWTHBOOK_CASES["getBucketRange"], ids=lambda c: c[0])
def test_growthbook_cases_bucket_ranges(case: list[object]) -> None:
    _, (count, coverage, weights), expected = case  # type: ignore[misc]
    exp = assign.Experiment(
        key="k",
        variants=[f"v{i}" for i in range(count)],
        weights=weights,
        coverage=coverage,
        scheme=assign.GrowthBookV1(seed="k"),
        mode="compat",
    )
    assert exp.bucket_ranges() == [pytest.approx(tuple(r), abs=1e-12) for r in expected]


@pytest.mark.parametrize("case", GROWTHBOOK_CASES["inNamespace"], ids=lambda c: c[0])
def test_growthbook_cases_in_namespace(case: list[object]) -> None:
    _, user, (ns, start, end), expected = case  # type: ignore[misc]
    exp = assign.Experiment(
        key="k",
        variants=["a"],
        namespace=assign.Namespace(ns, start, end),
        scheme=assign.GrowthBookV1(seed="k"),
    )
    assert (exp.assign(user).reason != "not_in_namespace") == expected


@pytest.mark.parametrize("case", GROWTHBOOK_CASES["getEqualWeights"], ids=lambda c: f"n{c[0]}")
def test_growthbook_cases_equal_weights(case: list[object]) -> None:
    count, expected = case
    if count < 1:  # type: ignore[operator]
        with pytest.raises(InvalidArgument, match="variants: is empty"):
            assign.Experiment(key="k", variants=[f"v{i}" for i in range(max(count, 0))])  # type: ignore[call-overload]
        return
    exp = assign.Experiment(key="k", variants=[f"v{i}" for i in range(count)])  # type: ignore[call-overload]
    assert [round(w, 8) for w in exp.effective_weights] == expected


@pytest.mark.parametrize("case", GROWTHBOOK_CASES["chooseVariation"], ids=lambda c: c[0])
def test_growthbook_cases_choose_variation(case: list[object]) -> None:
    # Each case's ranges are GrowthBook ranges of some weights and coverage; an experiment with
    # those, and a user whose hash is exactly n, must land on the expected variation.
    from growthbook.core import gbhash, getBucketRanges

    _, n, ranges, expected = case  # type: ignore[misc]
    starts = [start for start, _ in ranges]
    weights = [b - a for a, b in zip(starts, [*starts[1:], 1.0], strict=False)]
    coverage = (ranges[0][1] - ranges[0][0]) / weights[0]
    assert getBucketRanges(len(ranges), coverage, weights) == [tuple(r) for r in ranges]
    candidates = np.array([f"u{i}" for i in range(100_000)])
    scheme = assign.GrowthBookV2(seed="cv")
    user = str(candidates[np.flatnonzero(assign.bucket_many(candidates, scheme) == n)[0]])
    assert gbhash("cv", user, 2) == n
    exp = assign.Experiment(
        key="cv",
        variants=[f"v{i}" for i in range(len(ranges))],
        weights=weights,
        coverage=coverage,
        scheme=scheme,
        mode="compat",
    )
    assert exp.assign(user).index == expected
