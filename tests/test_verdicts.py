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
    from mtlcore.claims import load_claims, record_claim
    from mtlcore.config import Profile
    from mtlcore.report import write_report

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
