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


def test_bootstrap_interval_is_the_percentile_bootstrap_of_resampled_rows():
    """scipy draws the resamples: the interval is the quantiles of the statistic over rows drawn with the seeded
    generator, n_boot resamples of n row indices (the numbers of the hand-written loop it replaced); rows of
    paired values stay together, and NaN draws are left out of the quantiles."""
    x = np.random.default_rng(5).normal(size=(23, 2))
    diff = lambda rows: float(np.mean(rows[:, 0] - rows[:, 1]))   # noqa: E731
    iv = v.bootstrap_interval(x, diff, n_boot=2000, seed=4)
    idx = np.random.default_rng(4).integers(0, 23, (2000, 23))
    draws = [diff(x[i]) for i in idx]
    assert (iv.low, iv.high) == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])), abs=1e-12)
    assert iv.estimate == pytest.approx(diff(x)) and iv.n == 23
    flaky = v.bootstrap_interval(np.arange(6.0), lambda r: np.nan if r.min() == r.max() else r.mean(), seed=1)
    assert np.isfinite(flaky.low) and np.isfinite(flaky.high)


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


def _cka_pairs(tasks, value):
    return {(a, b): value(a, b) for i, a in enumerate(tasks) for b in tasks[i + 1:]}


def test_a_f2_decides_the_moved_layers_and_resamples_tasks():
    layers = ["emb", "l1", "l2"]
    rad_tasks, others = ["r1", "r2", "r3", "r4"], ["g1", "g2"]
    rad = _cka_pairs(rad_tasks, lambda a, b: [0.999, 0.9, 0.8])
    con = {(a, u): [0.998, 0.6, 0.5] for a in rad_tasks for u in others}
    verdict = v.a_f2(rad, con, layers)
    assert verdict.verdict == "reproduced"
    assert [c.name for c in verdict.conditions] == ["layer l1: radiology - contrast CKA", "layer l2: radiology - contrast CKA"]
    assert "undecided layer emb" in verdict.secondary           # every pair kind >= 0.99: shown, not decided
    assert verdict.conditions[0].interval.estimate == pytest.approx(0.3)
    # the last layer is decided even when nothing moved there
    still = {k: [0.999, 0.9, 0.995] for k in con}
    assert [c.name.split(":")[0] for c in v.a_f2(rad, still, layers).conditions] == ["layer l1", "layer l2"]
    # radiology below contrast at the last layer: fails
    low = _cka_pairs(rad_tasks, lambda a, b: [0.999, 0.9, 0.3])
    assert v.a_f2(low, con, layers).verdict == "not reproduced"
    # one radiology task carries the whole effect: resampling tasks makes the interval straddle 0
    one = _cka_pairs(rad_tasks, lambda a, b: [0.999, 0.9, 0.95 if "r1" in (a, b) else 0.45])
    c = v.a_f2(one, con, layers).conditions[-1]
    assert c.interval.estimate == pytest.approx((3 * 0.95 + 3 * 0.45) / 6 - 0.5)
    assert c.status == "straddles" and c.interval.low < 0 < c.interval.high
    with pytest.raises(ValueError, match="layer values"):
        v.a_f2(rad, {k: x[:2] for k, x in con.items()}, layers)


def test_a_f3_overall_layers_contrast_and_records():
    layers = [f"layer_{i}" for i in range(5)]
    rad = np.full((5, 6), 0.3) + 0.01 * np.arange(5)[:, None]
    con = np.full((5, 6), 0.05) + 0.01 * np.arange(5)[:, None]
    assert v.a_f3(rad, con, layers, records=8).verdict == "reproduced"
    bad = rad.copy()
    bad[:, 1:3] = -0.2  # 2 of 5 layers negative: 3 < 4 needed
    assert v.a_f3(bad, con, layers, records=8).verdict == "not reproduced"
    assert v.a_f3(rad, rad + 0.1, layers, records=8).verdict == "not reproduced"  # below the contrast pairs
    few = v.a_f3(rad, con, layers, records=7)                    # fewer than 8 records: cannot decide
    assert few.verdict == "inconclusive" and "fewer than 8 records" in few.reason
    assert v.a_f3(rad[:3], con[:3], layers, records=8).conditions[1].status == "blocked"   # count needs 5 seeds
    noisy = rad.copy()
    noisy[:, 2] = [0.3, -0.5, 0.4, -0.4, 0.25]    # one layer's mean +0.01: the count's low end is 4 = needed
    assert v.a_f3(noisy, con, layers, records=8).conditions[1].status == "holds"
    noisy[:, 3] = noisy[:, 2]                      # two such layers: the bootstrap count straddles 4
    c = v.a_f3(noisy, con, layers, records=8).conditions[1]
    assert c.interval.estimate == 5 and c.interval.low < 4 and c.status == "straddles"


def test_count_interval_bootstrap_over_seeds():
    table = np.array([[1.0, -1.0, 0.5], [1.0, -1.0, 0.5], [1.0, -1.0, 0.5], [1.0, -1.0, 0.5], [1.0, -1.0, 0.5]])
    iv = v.count_interval(table)
    assert (iv.estimate, iv.low, iv.high, iv.n) == (2, 2, 2, 5)                  # no seed spread: exact count
    mixed = np.array([[1.0, 2.0], [1.0, -2.0], [1.0, 2.0], [1.0, -2.0], [1.0, 1.0]])   # item 2: mean +0.2, noisy
    iv = v.count_interval(mixed)
    assert iv.estimate == 2 and iv.low == 1 and iv.high == 2
    assert v.count_interval(mixed, above=False).estimate == 0
    need2 = v.count_over_seeds("n", True, mixed, 2, ["a", "b"])
    need1 = v.count_over_seeds("n", True, mixed, 1, ["a", "b"])
    assert (need2.status, need1.status) == ("straddles", "holds")
    assert v.count_over_seeds("n", True, -np.abs(mixed), 1, ["a", "b"]).status == "fails"
    assert v.count_over_seeds("n", True, mixed[:4], 1, ["a", "b"]).status == "blocked"   # < 5 seeds
    with pytest.raises(ValueError, match="NaN"):
        v.count_interval([[np.nan]])


def test_learned_model_guard():
    floor, ref = {"a": 50.0, "b": 30.0}, {"a": 90.0, "b": 70.0}
    g = v.guard("mtl", "lumbar", {"a": 60.0, "b": 60.0}, floor, ref)        # mean 60 vs 40 + 0.5 x 40 = 60
    assert g.needed == pytest.approx(60.0) and g.learned and g.key == "lumbar/mtl"
    floor_family = v.guard("mtl", "lumbar", floor, floor, ref)
    assert not floor_family.learned and "did not learn" in floor_family.describe()
    with pytest.raises(ValueError, match="same tasks"):
        v.guard("mtl", "lumbar", {"a": 1.0}, floor, ref)
    # a family at the floor makes the MTL-vs-STL condition inconclusive, never "holds"
    stl = v.guard("stl", "lumbar", {"a": 80.0, "b": 60.0}, floor, ref)
    close = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.2], [0.3, 0.0, 0.1]])
    out = v.a_t1(close, 5.5, 6, 0.17, "lumbar", guards=[stl, floor_family])
    assert out.verdict == "inconclusive" and out.reason.startswith("models did not learn")
    assert out.conditions[0].status == "blocked" and "inconclusive (models did not learn: lumbar/mtl)" in out.describe()
    assert v.a_t1(close, 5.5, 6, 0.17, "lumbar", guards=[stl, g]).verdict == "reproduced"
    # a core condition that fails on its own (efficiency) still fails
    assert v.a_t1(close, 2.0, 6, 0.17, "lumbar", guards=[stl, floor_family]).verdict == "not reproduced"
    assert "guard lumbar/mtl" in out.to_dict()["guards"][1]["text"]
    with pytest.raises(ValueError, match="without a learned-model guard"):
        v.a_t1(close, 5.5, 6, 0.17, "openi", guards=[stl, g])


def test_a_f1_criterion():
    good = v.Interval(0.86, 0.78, 0.92, 40, "bootstrap")
    assert v.a_f1(40, 40, good).verdict == "reproduced"
    assert v.a_f1(40, 39, good).verdict == "not reproduced"                       # a note left out
    assert v.a_f1(40, 40, v.Interval(0.78, 0.72, 0.85, 40, "bootstrap")).verdict == "not reproduced"   # < 0.80
    wide = v.a_f1(40, 40, v.Interval(0.82, 0.65, 0.93, 40, "bootstrap"))          # low end below 0.70
    assert wide.verdict == "inconclusive"
    assert v.a_f1(40, 40, v.Interval(0.82, 0.60, 0.68, 40, "bootstrap")).verdict == "not reproduced"
    floor = v.Guard("mtl", "lumbar", 30.0, 30.0, 90.0)                            # the MTL model did not learn
    blocked = v.a_f1(40, 40, good, guards=[floor], families=("lumbar/mtl",))
    assert blocked.verdict == "inconclusive" and blocked.reason.startswith("models did not learn")
    assert v.a_f1(40, 39, good, guards=[floor], families=("lumbar/mtl",)).verdict == "not reproduced"


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


def test_a_verdict_recorded_as_a_claim_reaches_the_report(tmp_path, monkeypatch):
    from mtlcore.reporting.claims import load_claims, record_claim
    from mtlcore.reporting.pipeline import update_summary
    from mtlcore.training.config import Profile
    from mtlcore.reporting.report import write_report

    decided = v.a0_t1([0.2, 0.1, 0.3], [-1.0, 3.0, -0.5])
    assert decided.verdict == "inconclusive"
    monkeypatch.setenv("MTLCORE_NOTEBOOK", "paper_a/a_t1_families")
    record_claim(tmp_path, "A0-T1", "paper", "ours", verdict=decided)
    update_summary(tmp_path, [{"notebook": "paper_a/a_t1_families", "status": "ok", "seconds": 1.0, "error": ""}],
                   Profile(name="t"))   # the report shows only claims of a completed run
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
    assert v.b_p3(1e-6, {80: NEG[:5], 160: NEG[:5]}, NEG[:5]).verdict == "not reproduced"  # < 10 seeds


def test_b_p3_paired_weight_check():
    """The noisy task's weight is compared with its own weight on the clean labels of the same seed: a drop that
    is small against the spread between seeds (tasks of different signal norm) is still seen when paired."""
    rng = np.random.default_rng(0)
    clean = rng.uniform(0.5, 2.0, 12)                 # its weight / mean weight varies a lot between seeds
    noisy = clean - 0.05 + 0.01 * rng.normal(size=12)   # and random labels take a little off, every seed
    neg10 = NEG[:10]
    res = v.b_p3(1e-6, {80: neg10, 160: neg10}, noisy - clean)
    assert res.verdict == "reproduced"
    assert res.conditions[3].interval.high < 0
    # the unpaired comparison with the mean weight (1.0) could not see it: its interval straddles
    assert v.t_interval(noisy - 1.0).low < 0 < v.t_interval(noisy - 1.0).high
    assert v.b_p3(1e-6, {80: neg10, 160: neg10}, -(noisy - clean)).verdict == "not reproduced"  # weighted up
    assert v.b_p3(1e-6, {80: neg10, 160: neg10}, WIDE[:12]).verdict == "inconclusive"


def test_b_f5a_b_f5b_every_verdict():
    pairs = {f"p{i}": (POS if i < 7 else NEG) for i in range(10)}
    assert v.b_f5a(pairs, POS).verdict == "reproduced"
    assert v.b_f5a({**pairs, "p0": NEG, "p1": NEG}, POS).verdict == "not reproduced"   # 5/10
    assert v.b_f5a(pairs, WIDE).verdict == "inconclusive"
    assert v.b_f5a(pairs, NEG).verdict == "not reproduced"
    res = v.b_f5a({k: g[:1] for k, g in pairs.items()}, POS)                           # one seed per pair
    assert res.verdict == "inconclusive" and "fewer than 5 seeds" in res.reason
    floor = v.Guard("stl", "glue", 50.0, 50.0, 80.0)                                  # single-task models at floor
    res = v.b_f5a(pairs, POS, guards=[floor])
    assert res.verdict == "inconclusive" and "did not learn" in res.reason
    with pytest.raises(ValueError, match="10 GLUE pairs"):
        v.b_f5a({"p0": POS}, POS)
    with pytest.raises(ValueError, match="same number of seeds"):
        v.b_f5a({**pairs, "p0": POS[:5]}, POS)
    targets = {t: POS for t in ("MR", "CR", "SUBJ", "MPQA")}
    assert v.b_f5b({**targets, "TREC": NEG}).verdict == "reproduced"
    assert v.b_f5b({**targets, "TREC": NEG, "MR": NEG}).verdict == "not reproduced"     # 3/5
    assert v.b_f5b({**{t: [0.3, -0.1, 0.2] for t in targets}, "TREC": [0.1, 0.1, -0.6]}).verdict == "inconclusive"
    # the count straddles: two targets whose mean sits near 0 with a wide spread over seeds
    res = v.b_f5b({**{t: POS for t in ("MR", "CR", "SUBJ")}, "MPQA": WIDE, "TREC": WIDE})
    assert res.conditions[0].status == "straddles" and res.verdict == "inconclusive"


def test_b_f6_b_f7_b_t1_every_verdict():
    caps = {"SST": 100, "MR": 200, "CR": 50}
    assert v.b_f6(caps, 200, [0.5, -0.2, 0.1, 0.3]).verdict == "reproduced"
    assert v.b_f6(caps, 400, [0.5, -0.2, 0.1, 0.3]).verdict == "not reproduced"   # no smaller than the sum
    assert v.b_f6(caps, 200, [-4, -5, -4.5]).verdict == "not reproduced"
    assert v.b_f6(caps, 200, [2, -3, 0.5]).verdict == "inconclusive"
    pairs = [f"p{i}" for i in range(15)]
    rise = {p: POS[:5] for p in pairs}
    gain = {p: (POS[:5] if i < 11 else NEG[:5]) for i, p in enumerate(pairs)}
    res = v.b_f7(rise, gain)
    key = "Spearman(mean score change, mean gain)"
    assert res.verdict == "reproduced" and "nan" in res.secondary[key]  # constant x
    assert v.b_f7({**rise, **{p: NEG[:5] for p in pairs[:4]}}, gain).verdict == "not reproduced"   # rises on 11/15
    assert v.b_f7({p: [float(i)] * 5 for i, p in enumerate(pairs)}, gain).secondary[key].startswith("-")
    assert v.b_f7(rise, {**gain, "p0": NEG[:5], "p1": NEG[:5]}).verdict == "not reproduced"        # gains on 9/15
    two = v.b_f7({p: POS[:2] for p in pairs}, {p: POS[:2] for p in pairs})                     # 2 seeds: a count
    assert two.verdict == "inconclusive" and "fewer than 5 seeds" in two.reason                 # cannot decide
    # a count that flips between seeds straddles: 8 pairs' gains change sign from seed to seed
    flip = {p: ([1.0, -1.2, 1.1, -0.9, 0.1] if i < 8 else POS[:5]) for i, p in enumerate(pairs)}
    assert v.b_f7(rise, flip).conditions[1].status == "straddles"
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
    assert "secondary: Spearman(mean score change, mean gain)" in with_secondary


def test_power_seeds_known_values():
    from scipy import stats

    n = v.power_seeds(effect=1.0, sd=1.0, threshold=0.0)
    # the noncentral-t power at n reaches 0.8, at n - 1 it does not
    power = lambda k: stats.nct.sf(stats.t.ppf(0.975, k - 1), k - 1, 1.0 * math.sqrt(k))  # noqa: E731
    assert power(n) >= 0.8 > power(n - 1) and n == 10
    assert v.power_seeds(3.0, 1.0, 0.0) < n < v.power_seeds(0.5, 1.0, 0.0)    # bigger effect, fewer seeds
    assert v.power_seeds(-1.0, 1.0, 0.0) == n                                  # either side of the threshold
    assert v.power_seeds(0.0, 1.0, 0.0) is None and v.power_seeds(0.01, 5.0, 0.0) is None
    assert v.power_seeds(1.0, 0.0, 0.0) == 2


def test_power_table_rows():
    rows = v.power_table({"big": (1.0, 1.0, 0.0), "zero": (0.0, 1.0, 0.0)}, chosen=12)
    assert rows[0]["seeds for 80% power"] == v.power_seeds(1.0, 1.0, 0.0) and rows[0]["enough"]
    assert rows[1]["seeds for 80% power"] == "> 1000" and not rows[1]["enough"]


def test_b_f5a_without_pairs_is_blocked_and_says_why():
    res = v.b_f5a(None, POS, pairs_not_run="5 seeds x 10 pairs: ~150 single-core minutes; the gpu profile runs them")
    assert res.verdict == "inconclusive" and "pairs not run" in res.reason and "150" in res.reason
    assert res.conditions[1].status == "holds"                     # the all-five condition is still decided
    assert v.b_f5a(None, NEG, pairs_not_run="x").verdict == "not reproduced"   # a failing core condition decides
    with pytest.raises(ValueError, match="pairs_not_run"):
        v.b_f5a(None, POS)


def test_a_blocked_condition_keeps_the_guard_reason_first_and_dev_guards_say_dev():
    floor = v.Guard("mtl", "lumbar", 40.0, 40.0, 90.0)
    c = v.Condition("x", True, v.t_interval(POS), 0.0, families=("lumbar/mtl",), blocked="fewer than 8 records (2)")
    res = v.decide("A-F3", [c], guards=[floor])
    assert res.conditions[0].blocked == "models did not learn: lumbar/mtl; fewer than 8 records (2)"
    assert res.reason.startswith("models did not learn")
    assert "mean dev" in v.guard("stl (dev)", "glue", {"a": 60.0}, {"a": 50.0}, {"a": 70.0}, split="dev").describe()
    assert "mean test" in floor.describe()


def test_advisor_verdict_reaches_each_outcome():
    """The advisor's three core conditions on hand-made inputs: all hold; the compute budget broken; the ranking
    undecided over noisy groups; too few groups refused."""
    x = np.arange(16, dtype=float)
    good = v.advisor(x, 2 * x + 1, 50, 1000, [1.0, 2.0, 1.5])
    assert good.verdict == "reproduced", good.describe()
    assert "50 s vs 1000 s = 5.0%" in good.describe()
    slow = v.advisor(x, 2 * x + 1, 200, 1000, [1.0, 2.0, 1.5])
    assert slow.verdict == "not reproduced" and "-> fails" in slow.describe()
    unsure = v.advisor(x, np.sin(x), 50, 1000, [1.0, 2.0, 1.5])   # Spearman +0.05 [-0.47, +0.55]
    assert unsure.verdict == "inconclusive"
    against = v.advisor(x, -x, 50, 1000, [1.0, 2.0, 1.5])          # ranks the gaps backwards
    assert against.verdict == "not reproduced"
    same = v.advisor(x, 2 * x, 50, 1000, [0.0, 0.0])   # the grouping is one of the two defaults: ties hold (>= 0)
    assert same.verdict == "reproduced"
    with pytest.raises(ValueError, match=">= 15 groups"):
        v.advisor(x[:5], x[:5], 1, 10, [1.0])


def test_an_inconclusive_verdict_says_how_far_and_what_would_settle_it_at_what_cost():
    """A straddling interval's reason: its estimate and interval against the threshold, the units that would
    settle it at the same mean and spread (seeds by the t quantile; groups of a bootstrap by 1/sqrt(n)) and,
    where a unit's cost is known, the cost of the missing ones; too few seeds of a count: the seeds missing."""
    wide = np.asarray([[-1, -1, -1], [3, 3, 3], [-0.5, -0.5, -0.5]], float)
    n = v.seeds_to_settle(v.t_interval(wide.mean(axis=1)), -2.0)
    reason = v.a_t1(wide, 5.5, 6, 0.17, family_seconds={"stl": 300.0, "mtl": 60.0}).reason
    assert "+0.5 [-4.91, +5.91] over 3 seeds vs >= -2" in reason
    assert f"would settle with ~{n} seeds ({n - 3} more seeds, about {v.duration((n - 3) * 360)} of training" in reason
    assert "at 6 min per seed" in reason
    assert "of training" not in v.a_t1(wide, 5.5, 6, 0.17).reason            # no cost known: none claimed
    spear = v.Condition("rho", True, v.Interval(0.1, -0.2, 0.5, 16, "bootstrap"), 0.0, unit="groups",
                        unit_seconds=120.0)
    # gap 0.1, the half toward the threshold 0.3: at 16 x 3^2 = 144 groups the interval touches 0; 145 are past it
    assert ("~145 groups if the interval narrows as 1/sqrt(n) (129 more groups, about 4.3 h of training"
            in v.decide("X", [spear]).reason)
    below = v.Condition("rho", True, v.Interval(-0.1, -0.4, 0.1, 16, "bootstrap"), 0.0, unit="groups")
    assert "~65 groups" in v.decide("X", [below]).reason                    # 16 x (0.2 / 0.1)^2 + 1: settles as fails
    few = v.count_over_seeds("count", True, np.ones((3, 4)), 3, list("abcd"))
    few.unit_seconds = 420.0
    reason = v.decide("X", [few]).reason
    assert "fewer than 5 seeds (3) (2 more seeds, about 14 min of training at this profile at 7 min per seed" in reason
    assert [v.duration(s) for s in (40, 600, 5400, 12600)] == ["40 s", "10 min", "1.5 h", "3.5 h"]
    few.blocked = "models did not learn: x/stl; " + few.blocked                 # more seeds cannot fix that
    assert "more seeds" not in v.decide("X", [few]).reason
    fixed = v.count_condition("2 of 3 pairs", True, [v.Interval(1, -0.5, 1.5, 3, "bootstrap")] * 3, 0.0, 2)
    assert v.decide("X", [fixed]).verdict == "inconclusive" and "1/sqrt" not in v.decide("X", [fixed]).reason                     # a count of fixed items: no unit count
