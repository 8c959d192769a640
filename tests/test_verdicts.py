"""The PAPERS.md verdict rules on hand-made inputs: every verdict reachable, intervals of known value."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mtlcore import verdicts as v


def test_t_interval_hand_computed():
    iv = v.t_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t_{0.975, 2} * sd(=1) / sqrt(3)
    assert iv.estimate == 2.0 and iv.sd == 1.0 and iv.n == 3
    assert iv.low == pytest.approx(2 - half) and iv.high == pytest.approx(2 + half)
    one = v.t_interval([0.7])
    assert one.low == -math.inf and one.high == math.inf
    with pytest.raises(ValueError, match="NaN"):
        v.t_interval([1.0, float("nan")])


def test_bootstrap_is_seeded_and_covers_the_estimate():
    x = np.random.default_rng(1).normal(1.0, 1.0, size=40)
    a, b = v.bootstrap_interval(x, seed=3), v.bootstrap_interval(x, seed=3)
    assert a == b and a.low < a.estimate < a.high and a.low > 0.4
    rho = v.spearman_interval(np.arange(20), np.arange(20) ** 2)
    assert rho.estimate == pytest.approx(1.0) and rho.low == pytest.approx(1.0)


def test_seeds_to_settle():
    iv = v.t_interval([0.5, 1.5, -0.5, 2.5])  # mean 1, sd 1.29: straddles 0 with 4 seeds
    assert iv.low < 0 < iv.high
    n = v.seeds_to_settle(iv, 0.0)
    assert n is not None and n > 4
    assert v.t_interval(np.r_[[0.5, 1.5, -0.5, 2.5] * (n // 4 + 1)]).low > 0  # the same spread over n seeds settles


def test_condition_status_both_directions():
    iv = v.Interval(0.0, -1.0, 1.0, 5, "t")
    assert v.Condition("x", True, iv, threshold=-1.0, inclusive=True).status == "holds"
    assert v.Condition("x", True, iv, threshold=-1.0).status == "straddles"
    assert v.Condition("x", True, iv, threshold=2.0).status == "fails"
    assert v.Condition("x", True, iv, threshold=2.0, above=False).status == "holds"
    assert v.Condition("x", True, iv, threshold=0.5, above=False).status == "straddles"
    assert v.Condition("x", True, holds=False).status == "fails"


def _a_t1(diffs, ratio=5.5, params=0.17):
    return v.a_t1(np.asarray(diffs, float), throughput_ratio=ratio, k=6, parameter_ratio=params).verdict


def test_a_t1_every_verdict():
    close = [[0.5, -0.5, 0.2], [0.1, 0.3, -0.2], [0.4, 0.0, 0.1]]          # MTL ~ STL, tight
    assert _a_t1(close) == "reproduced"
    assert _a_t1(close, ratio=4.0) == "not reproduced"                    # < 0.8 k = 4.8
    assert _a_t1(close, params=0.5) == "not reproduced"                   # far above 1/k
    assert _a_t1([[-6, -7, -5], [-6.5, -6, -7], [-5.5, -6, -6]]) == "not reproduced"   # clearly worse
    wide = [[-1, -1, -1], [3, 3, 3], [-0.5, -0.5, -0.5]]  # mean +0.5, but 3 seeds leave the CI below -2
    verdict = v.a_t1(np.asarray(wide, float), 5.5, 6, 0.17)
    assert verdict.verdict == "inconclusive" and "would settle with" in verdict.reason and "~" in verdict.reason
    hopeless = v.a_t1(np.asarray([[-1.0] * 3, [3.0] * 3, [-9.0] * 3]), 5.5, 6, 0.17)  # mean -2.33, sd 6
    assert hopeless.verdict == "inconclusive" and "more than" in hopeless.reason


def test_a0_t1_and_partly_from_a_non_core_condition():
    assert v.a0_t1([0.2, 0.1, 0.3], [1.0, 1.2, 0.8]).verdict == "reproduced"
    assert v.a0_t1([0.2, 0.1, 0.3], [-5.0, -5.5, -4.5]).verdict == "not reproduced"
    extra = v.Condition("secondary-style extra", False, holds=False)
    core = v.Condition("core", True, holds=True)
    assert v.decide("X", [core, extra]).verdict == "partly"
    with pytest.raises(ValueError, match="no core condition"):
        v.decide("X", [extra])


def test_a_f2_each_layer_must_separate():
    layers = ["emb", "l0", "l1"]
    rng = np.random.default_rng(0)
    rad = 0.9 + 0.01 * rng.normal(size=(6, 3))
    con = 0.5 + 0.01 * rng.normal(size=(8, 3))
    assert v.a_f2(rad, con, layers).verdict == "reproduced"
    rad_bad = rad.copy()
    rad_bad[:, 2] = 0.3
    assert v.a_f2(rad_bad, con, layers).verdict == "not reproduced"
    rad_close = rad.copy()
    rad_close[:, 2] = con[:, 2].mean() + np.array([0.2, -0.2, 0.15, -0.15, 0.1, -0.1])  # same mean, spread
    assert v.a_f2(rad_close, con, layers).verdict == "inconclusive"
    with pytest.raises(ValueError, match="layers"):
        v.a_f2(rad, con[:, :2], layers)


def test_a_f3_overall_layers_and_contrast():
    layers = [f"layer_{i}" for i in range(5)]
    rad = np.full((5, 6), 0.3) + 0.01 * np.arange(5)[:, None]
    con = np.full((5, 6), 0.05) + 0.01 * np.arange(5)[:, None]
    assert v.a_f3(rad, con, layers).verdict == "reproduced"
    bad = rad.copy()
    bad[:, 1:3] = -0.2  # 2 of 5 layers negative: 3 < 4 needed
    assert v.a_f3(bad, con, layers).verdict == "not reproduced"
    assert v.a_f3(rad, rad + 0.1, layers).verdict == "not reproduced"  # below the contrast pairs
    noisy = rad.copy()
    noisy[:, 1] = [0.3, -0.2, 0.4, -0.1, 0.2]  # one layer straddles: 4 sure + 1 open >= 4 needed -> holds
    assert v.a_f3(noisy, con, layers).verdict == "reproduced"
    noisy[:, 2] = [0.3, -0.2, 0.4, -0.1, 0.2]  # 3 sure + 2 open: could reach 4
    assert v.a_f3(noisy, con, layers).verdict == "inconclusive"


def test_a_f4_correlations_partly_and_minimum_groups():
    rng = np.random.default_rng(2)
    gap = np.linspace(-5, 1, 20)
    cka = gap + rng.normal(0, 0.3, 20)
    cos = -gap + rng.normal(0, 0.3, 20)
    assert v.a_f4(cka, gap + rng.normal(0, 0.3, 20), gap).verdict == "reproduced"
    assert v.a_f4(cka, cos, gap).verdict == "partly"        # one of the two holds
    assert v.a_f4(-cka, cos, gap).verdict == "not reproduced"
    with pytest.raises(ValueError, match=">= 15 groups"):
        v.a_f4(cka[:10], cos[:10], gap[:10])


def test_a_verdict_recorded_as_a_claim_reaches_the_report(tmp_path):
    from mtlcore.reporting.claims import load_claims, record_claim
    from mtlcore.training.config import Profile
    from mtlcore.reporting.report import write_report

    decided = v.a0_t1([0.2, 0.1, 0.3], [-1.0, 3.0, -0.5])
    assert decided.verdict == "inconclusive"
    record_claim(tmp_path, "A0-T1", "paper", "ours", verdict=decided)
    claim = load_claims(tmp_path)["A0-T1"]
    assert claim["verdict"] == "inconclusive" and "straddles" in claim["reason"]
    assert [c["status"] for c in claim["conditions"]] == ["holds", "straddles"]
    md, page = write_report(tmp_path, Profile(name="t"))
    assert "Why inconclusive:" in md.read_text() and ">inconclusive</span>" in page.read_text()


def test_combine_requires_every_part():
    good = v.a0_t1([0.2, 0.1, 0.3], [1.0, 1.2, 0.8])
    bad = v.a0_t1([0.2, 0.1, 0.3], [-5.0, -5.5, -4.5])
    assert v.combine("A0-T1", [good, good]).verdict == "reproduced"
    both = v.combine("A0-T1", [good, bad])
    assert both.verdict == "not reproduced" and len(both.conditions) == 4 and both.conditions[2].name.startswith("A0-T1: ")


# -- Paper B criteria: each reaches every verdict on hand-made inputs -----------------------------------

POS = [1.0, 1.2, 0.8, 1.1, 0.9] * 4    # 20 seeds, clearly > 0
NEG = [-x for x in POS]
WIDE = [3.0, -2.8, 2.9, -3.1, 0.4] * 4  # mean ~ +0.08, straddles 0


def test_b_f2_every_verdict():
    assert v.b_f2(POS, NEG, True, True).verdict == "reproduced"
    assert v.b_f2(POS, POS, True, True).verdict == "not reproduced"        # task 3 helps instead of hurting
    assert v.b_f2(POS[:10], NEG[:10], True, True).verdict == "not reproduced"  # fewer than 20 seeds
    assert v.b_f2(POS, NEG, False, True).verdict == "not reproduced"       # not the paper's setting
    res = v.b_f2(WIDE, NEG, True, True)
    assert res.verdict == "inconclusive" and "seeds" in res.reason


def _b_f3(same, other_at):
    counts = [100, 300, 1000]
    other = {m: (NEG if m in other_at else WIDE) for m in counts}
    return v.b_f3({"same": {m: same for m in counts}, "rotated": other, "scaled": {m: POS for m in counts}},
                  "same", counts)


def test_b_f3_every_verdict():
    assert _b_f3(NEG, other_at=[100]).verdict == "reproduced"            # another source below 0 at one count only
    assert _b_f3(NEG, other_at=[100, 300]).verdict == "not reproduced"   # ... at two counts: not "only"
    assert _b_f3(POS, other_at=[]).verdict == "not reproduced"           # the same-covariance source hurts
    assert _b_f3(WIDE, other_at=[]).verdict == "inconclusive"
    with pytest.raises(ValueError, match="no numbers"):
        v.b_f3({"same": {100: NEG}}, "same", [100, 300])


def test_b_p1_every_verdict():
    gaps = {1: 0.2, 2: 0.05, 3: 1e-6, 4: 2e-7}
    assert v.b_p1(gaps, k=3, restarts=5).verdict == "reproduced"
    assert v.b_p1(gaps, k=3, restarts=5, from_construction=True).verdict == "not reproduced"
    assert v.b_p1({**gaps, 4: 3e-3}, k=3, restarts=5).verdict == "not reproduced"   # r >= k short of the optimum
    assert v.b_p1({**gaps, 2: 1e-5}, k=3, restarts=8).verdict == "not reproduced"   # r < k already optimal
    with pytest.raises(ValueError, match="both sides"):
        v.b_p1({3: 0.0}, k=3, restarts=5)


def test_b_p3_every_verdict_and_the_size_count():
    neg10, wide10 = NEG[:10], WIDE[:10]
    assert v.b_p3(1e-6, {80: neg10, 160: neg10, 300: wide10}, neg10).verdict == "reproduced"
    assert v.b_p3(1e-2, {80: neg10, 160: neg10}, neg10).verdict == "not reproduced"      # subspace off
    assert v.b_p3(1e-6, {80: neg10, 160: POS[:10]}, neg10).verdict == "not reproduced"   # wins at one size only
    res = v.b_p3(1e-6, {80: neg10, 160: wide10, 300: POS[:10]}, neg10)                   # 1 sure, 1 open
    assert res.verdict == "inconclusive"
    assert v.b_p3(1e-6, {80: neg10, 160: neg10}, POS[:10]).verdict == "not reproduced"   # noisy task weighted up
    assert v.b_p3(1e-6, {80: NEG[:5], 160: NEG[:5]}, NEG[:5]).verdict == "not reproduced"  # < 10 seeds


def test_b_f5a_b_f5b_every_verdict():
    pairs = {f"p{i}": (POS if i < 7 else NEG) for i in range(10)}
    assert v.b_f5a(pairs, POS).verdict == "reproduced"
    assert v.b_f5a({**pairs, "p0": NEG, "p1": NEG}, POS).verdict == "not reproduced"   # 5/10
    assert v.b_f5a(pairs, WIDE).verdict == "inconclusive"
    assert v.b_f5a(pairs, NEG).verdict == "not reproduced"
    with pytest.raises(ValueError, match="10 GLUE pairs"):
        v.b_f5a({"p0": POS}, POS)
    targets = {t: POS for t in ("MR", "CR", "SUBJ", "MPQA")}
    assert v.b_f5b({**targets, "TREC": NEG}).verdict == "reproduced"
    assert v.b_f5b({**targets, "TREC": NEG, "MR": NEG}).verdict == "not reproduced"     # 3/5
    assert v.b_f5b({**{t: [0.3, -0.1, 0.2] for t in targets}, "TREC": [0.1, 0.1, -0.6]}).verdict == "inconclusive"


def test_b_f6_b_f7_b_t1_every_verdict():
    caps = {"SST": 100, "MR": 200, "CR": 50}
    assert v.b_f6(caps, 200, [0.5, -0.2, 0.1, 0.3]).verdict == "reproduced"
    assert v.b_f6(caps, 400, [0.5, -0.2, 0.1, 0.3]).verdict == "not reproduced"   # no smaller than the sum
    assert v.b_f6(caps, 200, [-4, -5, -4.5]).verdict == "not reproduced"
    assert v.b_f6(caps, 200, [2, -3, 0.5]).verdict == "inconclusive"
    pairs = [f"p{i}" for i in range(15)]
    rise = {p: 1.0 for p in pairs}
    gain = {p: (1.0 if i < 11 else -1.0) for i, p in enumerate(pairs)}
    res = v.b_f7(rise, gain)
    assert res.verdict == "reproduced" and "nan" in res.secondary["Spearman(score change, gain)"]  # constant x
    assert v.b_f7({**rise, **{p: -1.0 for p in pairs[:4]}}, gain).verdict == "not reproduced"   # rises on 11/15
    assert v.b_f7({p: float(i) for i, p in enumerate(pairs)}, gain).secondary[
        "Spearman(score change, gain)"].startswith("-")  # gains fall as the score change grows here
    assert v.b_f7(rise, {**gain, "p0": -1.0, "p1": -1.0}).verdict == "not reproduced"           # gains on 9/15
    g = np.array([POS[:5]] * 20)
    assert v.b_t1(g).verdict == "reproduced"
    assert v.b_t1(g[:10]).verdict == "not reproduced"                                            # 10 pairs only
    assert v.b_t1(-g).verdict == "not reproduced"
    assert v.b_t1(np.array([[0.5, -0.6]] * 20)).verdict == "inconclusive"


def test_verdict_describe_lists_conditions_secondary_and_the_verdict():
    out = v.b_f6({"A": 100, "B": 200}, 50, [1.0, 2.0, 1.5]).describe().splitlines()
    assert out[0].startswith("(core) MTL shared size < sum of STL capacities: 50 vs 300 -> holds")
    assert out[-1].startswith("B-F6: ") and len(out) == 3
    with_secondary = v.b_f7({"a": 1.0, "b": 1.0, "c": -1.0}, {"a": 1.0, "b": 2.0, "c": 3.0}).describe()
    assert "secondary: Spearman(score change, gain)" in with_secondary
