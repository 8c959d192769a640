"""Verdicts from the criteria that ../shared/PAPERS.md fixes ("Verdict criteria"), in one place.

Every paper item's notebook measures its numbers and hands them to the function named after the item
(`a_t1`, `a0_t1`, `a_f2`, `a_f3`, `a_f4`, ...); the function builds the item's conditions exactly as
PAPERS.md states them and `decide` turns them into the verdict. Nothing here looks at which verdict
would be nicer: thresholds are the written ones, and every condition can fail.

A condition is either an interval compared with a threshold, or a yes/no fact (a count, a ratio
of deterministic measurements). An interval condition *holds* when the whole 95% interval is on the
claimed side of the threshold, *fails* when it is wholly on the wrong side, and otherwise
*straddles*. Intervals: `t_interval` over seeds (the mean paired difference; seeds are the unit) or
`bootstrap_interval` over task pairs / groups where those are the unit.

`decide` (PAPERS.md): reproduced = every condition holds; not reproduced = a core condition fails;
inconclusive = no core condition fails but one straddles (with the number of seeds that would
settle it, where the unit is seeds); partly = every core condition holds and some other one does not.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import stats

VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "not run")
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate and its `level` interval over n units (seeds, pairs or groups)."""

    estimate: float
    low: float
    high: float
    n: int
    method: str
    sd: float = float("nan")   # the units' standard deviation (t-intervals), for the seeds-needed estimate

    def __str__(self) -> str:
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}] ({self.method}, n={self.n})"


def t_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean of `values` (one per seed) with its t-interval; n = 1 gives an infinite interval."""
    x = _finite(values, "values")
    n, mean = len(x), float(np.mean(x))
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, "t", float("nan"))
    sd = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, "t", sd)


def bootstrap_interval(values: Sequence[float] | np.ndarray, statistic: Callable[[np.ndarray], float] = np.mean,
                       n_boot: int = 10_000, seed: int = 0, level: float = LEVEL) -> Interval:
    """`statistic` of the units (rows of `values`) with a percentile bootstrap interval resampling the rows."""
    x = np.asarray(values, dtype=float)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError("bootstrap_interval: values must hold at least one unit")
    if not np.isfinite(x).all():
        raise ValueError("bootstrap_interval: values contain NaN or inf")
    estimate = float(statistic(x))
    if len(x) < 2:
        return Interval(estimate, -math.inf, math.inf, len(x), "bootstrap")
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(x[rng.integers(0, len(x), len(x))]) for _ in range(n_boot)], dtype=float)
    draws = draws[np.isfinite(draws)]  # e.g. a Spearman of a resample with a constant column
    low, high = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(estimate, float(low), float(high), len(x), "bootstrap")


def spearman_interval(x: Sequence[float], y: Sequence[float], n_boot: int = 10_000, seed: int = 0) -> Interval:
    """Spearman's rho of (x, y) pairs with a bootstrap interval over the pairs (the groups)."""
    x, y = _finite(x, "x"), _finite(y, "y")
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"spearman_interval: x and y need the same length >= 3, got {len(x)} and {len(y)}")
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    rx, ry = stats.rankdata(x[idx], axis=1), stats.rankdata(y[idx], axis=1)  # ties share their mean rank
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    denom = np.sqrt((rx * rx).sum(1) * (ry * ry).sum(1))
    draws = ((rx * ry).sum(1) / np.where(denom > 0, denom, np.nan))
    draws = draws[np.isfinite(draws)]  # a resample with a constant column has no rank correlation
    if len(draws) == 0:  # x or y constant: no rank correlation at all (the interval straddles any threshold)
        return Interval(float("nan"), -math.inf, math.inf, len(x), "bootstrap")
    low, high = np.quantile(draws, [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Interval(float(stats.spearmanr(x, y).statistic), float(low), float(high), len(x), "bootstrap")


def seeds_to_settle(interval: Interval, threshold: float, level: float = LEVEL, most: int = 1000) -> int | None:
    """Seeds a t-interval with the same mean and sd would need to lie wholly on one side of `threshold`."""
    if not math.isfinite(interval.sd) or interval.sd == 0 or interval.estimate == threshold:
        return None
    gap = abs(interval.estimate - threshold)
    for n in range(max(interval.n, 2), most + 1):
        if stats.t.ppf(0.5 + level / 2, n - 1) * interval.sd / math.sqrt(n) < gap:
            return n
    return None


@dataclass
class Condition:
    """One condition of an item: an interval vs a threshold (`above`: the claim is estimate > threshold,
    or >= with `inclusive`), or a yes/no fact (`holds`)."""

    name: str
    core: bool
    interval: Interval | None = None
    threshold: float = 0.0
    above: bool = True
    inclusive: bool = False
    holds: bool | None = None
    detail: str = ""

    @property
    def status(self) -> str:
        """'holds', 'fails' or 'straddles'."""
        if self.interval is None:
            if self.holds is None:
                raise ValueError(f"condition {self.name!r} has neither an interval nor a yes/no fact")
            return "holds" if self.holds else "fails"
        lo, hi, t = self.interval.low, self.interval.high, self.threshold
        if self.above:
            good, bad = (lo >= t if self.inclusive else lo > t), (hi < t if self.inclusive else hi <= t)
        else:
            good, bad = (hi <= t if self.inclusive else hi < t), (lo > t if self.inclusive else lo >= t)
        return "holds" if good else "fails" if bad else "straddles"

    def describe(self) -> str:
        side = (">=" if self.inclusive else ">") if self.above else ("<=" if self.inclusive else "<")
        what = f"{self.interval} vs {side} {self.threshold:g}" if self.interval is not None else (self.detail or "")
        extra = f"; {self.detail}" if self.interval is not None and self.detail else ""
        return f"{'(core) ' if self.core else ''}{self.name}: {what}{extra} -> {self.status}"


@dataclass
class Verdict:
    item: str
    verdict: str
    conditions: list[Condition]
    reason: str
    secondary: dict[str, str] = field(default_factory=dict)  # shown, never deciding

    def describe(self) -> str:
        """What a notebook prints: each condition, each secondary line, then '<item>: <verdict> - <reason>'."""
        return "\n".join([*(c.describe() for c in self.conditions),
                          *(f"secondary: {k} {v}" for k, v in self.secondary.items()),
                          f"{self.item}: {self.verdict} - {self.reason}"])

    def to_dict(self) -> dict:
        def plain(c: Condition) -> dict:
            d = asdict(c)
            d["holds"] = None if c.holds is None else bool(c.holds)
            d["threshold"] = float(c.threshold)
            return {**d, "status": c.status, "text": c.describe()}

        return {"item": self.item, "verdict": self.verdict, "reason": self.reason,
                "conditions": [plain(c) for c in self.conditions],
                "secondary": dict(self.secondary)}


def decide(item: str, conditions: list[Condition], secondary: dict[str, str] | None = None,
           partly_if_some_core: bool = False) -> Verdict:
    """The PAPERS.md rule (module docstring). `partly_if_some_core`: the item says "one of the core
    conditions holding = partly" (A-F4), so a failing core condition with another core one holding is partly."""
    if not any(c.core for c in conditions):
        raise ValueError(f"{item}: no core condition")
    core = [c for c in conditions if c.core]
    failed = [c for c in core if c.status == "fails"]
    straddle = [c for c in core if c.status == "straddles"]
    if partly_if_some_core and failed and any(c.status == "holds" for c in core) and not straddle:
        verdict, reason = "partly", f"core condition(s) {_names(failed)} fail, the others hold"
    elif failed:
        verdict, reason = "not reproduced", f"core condition(s) {_names(failed)} fail"
    elif straddle:
        needs = [f"{c.name}: " + ("at least 2 seeds (one seed gives no interval)" if c.interval.n < 2 else
                                   f"~{n} seeds" if (n := seeds_to_settle(c.interval, c.threshold)) else
                                   "more than 1000 seeds (its mean is too close to the threshold)")
                 for c in straddle if c.interval is not None and c.interval.method == "t"]
        needs += [f"{c.name}: {c.detail.split(_SETTLE)[1]}" for c in straddle
                  if c.interval is not None and c.interval.method == "count" and _SETTLE in c.detail]
        verdict = "inconclusive"
        reason = (f"the interval of {_names(straddle)} straddles its threshold"
                  + (f"; would settle with {', '.join(needs)} (same mean and spread)" if needs else ""))
    elif all(c.status == "holds" for c in conditions):
        verdict, reason = "reproduced", "every condition holds"
    else:
        others = [c for c in conditions if c.status != "holds"]
        verdict, reason = "partly", f"core conditions hold; {_names(others)} do not"
    return Verdict(item, verdict, conditions, reason, dict(secondary or {}))


def combine(item: str, parts: Sequence[Verdict]) -> Verdict:
    """One verdict over several settings that must all hold (e.g. A-T1 "per corpus"): `decide` over the union
    of their conditions, each named after its part."""
    conditions = [Condition(f"{p.item}: {c.name}", c.core, c.interval, c.threshold, c.above, c.inclusive, c.holds,
                            c.detail) for p in parts for c in p.conditions]
    secondary = {f"{p.item}: {k}": val for p in parts for k, val in p.secondary.items()}
    return decide(item, conditions, secondary)


def _names(conditions: list[Condition]) -> str:
    return ", ".join(repr(c.name) for c in conditions)


def _finite(values, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if len(x) == 0:
        raise ValueError(f"{name}: no values")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return x


# -- Paper A ----------------------------------------------------------------------------------------


def a_t1(diff_points: np.ndarray, throughput_ratio: float, k: int, parameter_ratio: float,
         corpus: str = "") -> Verdict:
    """A-T1 for one corpus. diff_points: (seeds x tasks) paired MTL - STL test macro-F1 in points (x100).
    throughput_ratio: one MTL model's inference throughput / that of k STL models on the same reports.
    parameter_ratio: MTL parameters / total parameters of the k STL models.

    (core) the mean over tasks of the paired difference has a t-interval (over seeds) lower bound >= -2
    points. (core) efficiency: throughput ratio >= 0.8 k and "about 1/k" of the parameters, read as a
    parameter ratio <= 1.1 / k (the k heads make it slightly above 1/k)."""
    d = np.asarray(diff_points, dtype=float)
    if d.ndim != 2:
        raise ValueError(f"diff_points must be (seeds x tasks), got shape {d.shape}")
    match = Condition("MTL matches STL (mean over tasks of MTL - STL macro-F1, points)", True,
                      t_interval(d.mean(axis=1)), threshold=-2.0, inclusive=True)
    speed = Condition(f"one MTL model serves k={k} tasks at >= 0.8k times the throughput of k STL models", True,
                      holds=throughput_ratio >= 0.8 * k, detail=f"ratio {throughput_ratio:.2f} vs {0.8 * k:.2f}")
    params = Condition("with about 1/k of the STL models' parameters (ratio <= 1.1/k)", True,
                       holds=parameter_ratio <= 1.1 / k, detail=f"ratio {parameter_ratio:.3f} vs 1/k = {1 / k:.3f}")
    return decide(f"A-T1{' ' + corpus if corpus else ''}", [match, speed, params])


def a0_t1(mtl_minus_stl: Sequence[float], mtl_minus_adapters: Sequence[float],
          secondary: dict[str, str] | None = None) -> Verdict:
    """A0-T1. Each argument: per seed, the mean over tasks of the paired MTL - (STL | STL + adapters) test
    macro-F1 in points. (core) both t-interval lower bounds >= -2 points. MTL + adapters goes in `secondary`."""
    return decide("A0-T1", [
        Condition("MTL - STL fine-tuning (points)", True, t_interval(mtl_minus_stl), -2.0, inclusive=True),
        Condition("MTL - STL with adapters (points)", True, t_interval(mtl_minus_adapters), -2.0, inclusive=True),
    ], secondary)


def a_f2(radiology_cka: np.ndarray, contrast_cka: np.ndarray, layers: Sequence[str],
         secondary: dict[str, str] | None = None, seed: int = 0) -> Verdict:
    """A-F2. radiology_cka: (radiology task pairs x layers) CKA between the pair's STL models; contrast_cka:
    (contrast pairs x layers), a radiology STL model vs a GLUE/SentEval one on the same inputs.
    (core) at every layer, mean radiology CKA - mean contrast CKA > 0 with a bootstrap interval over pairs
    (both sets resampled) above 0."""
    rad, con = np.asarray(radiology_cka, float), np.asarray(contrast_cka, float)
    if rad.ndim != 2 or con.ndim != 2 or rad.shape[1] != len(layers) or con.shape[1] != len(layers):
        raise ValueError(f"CKA tables must be (pairs x {len(layers)} layers), got {rad.shape} and {con.shape}")
    conditions = [Condition(f"layer {name}: radiology - contrast CKA", True,
                            _two_sample(rad[:, j], con[:, j], seed), 0.0) for j, name in enumerate(layers)]
    return decide("A-F2", conditions, secondary)


def a_f3(radiology_cos: np.ndarray, contrast_cos: np.ndarray, layers: Sequence[str],
         secondary: dict[str, str] | None = None) -> Verdict:
    """A-F3. radiology_cos / contrast_cos: (seeds x (1 + layers)) mean gradient cosine over training of the
    radiology (resp. contrast) pairs, column 0 the overall cosine, then one column per layer.
    (core) overall radiology cosine > 0 (t over seeds); > 0 at >= 80% of the layers; and the overall radiology
    cosine above the contrast pairs' (paired by seed)."""
    rad, con = np.asarray(radiology_cos, float), np.asarray(contrast_cos, float)
    if rad.shape != con.shape or rad.ndim != 2 or rad.shape[1] != 1 + len(layers):
        raise ValueError(f"cosine tables must both be (seeds x {1 + len(layers)}), got {rad.shape} and {con.shape}")
    per_layer = [t_interval(rad[:, 1 + j]) for j in range(len(layers))]
    need = math.ceil(0.8 * len(layers))
    layer_cond = count_condition(f"radiology cosine > 0 at >= 80% of layers ({need} of {len(layers)})", True,
                                 per_layer, 0.0, need, labels=layers)
    return decide("A-F3", [
        Condition("overall radiology gradient cosine", True, t_interval(rad[:, 0]), 0.0),
        layer_cond,
        Condition("overall radiology - contrast cosine", True, t_interval(rad[:, 0] - con[:, 0]), 0.0),
    ], secondary)


def a_f4(cka: Sequence[float], cosine: Sequence[float], gap: Sequence[float], min_groups: int = 15,
         seed: int = 0) -> Verdict:
    """A-F4 over task groups (one value per group of each argument; gap = MTL - STL). (core) Spearman(CKA, gap)
    > 0 and Spearman(cosine, gap) > 0, bootstrap intervals over groups; one of the two holding = partly.
    Fewer than `min_groups` groups is refused (PAPERS.md asks for >= 15)."""
    n = len(gap)
    if n < min_groups or len(cka) != n or len(cosine) != n:
        raise ValueError(f"A-F4 needs >= {min_groups} groups with cka, cosine and gap each; got "
                         f"{len(cka)}, {len(cosine)}, {n}")
    return decide("A-F4", [
        Condition("Spearman(mean STL-STL CKA, MTL - STL gap)", True, spearman_interval(cka, gap, seed=seed), 0.0),
        Condition("Spearman(mean gradient cosine, MTL - STL gap)", True, spearman_interval(cosine, gap, seed=seed), 0.0),
    ], partly_if_some_core=True)


def count_condition(name: str, core: bool, intervals: Sequence[Interval], threshold: float, need: int,
                    above: bool = True, labels: Sequence[str] | None = None) -> Condition:
    """"At least `need` of these intervals lie wholly on the claimed side of `threshold`": holds when that many
    already do, fails when even counting every straddling one as good leaves fewer, else straddles. The
    condition's interval is (count now, count now, count if every straddling one settled the right way)."""
    statuses = [Condition("", core, iv, threshold, above).status for iv in intervals]
    good, undecided = statuses.count("holds"), statuses.count("straddles")
    labels = labels or [str(i) for i in range(len(intervals))]
    detail = ", ".join(f"{n} {iv}" for n, iv in zip(labels, intervals))
    settle = [f"{n}: " + ("at least 2 seeds" if iv.n < 2 else f"~{k} seeds" if (k := seeds_to_settle(iv, threshold))
                          else "more than 1000 seeds")
              for n, iv, st in zip(labels, intervals, statuses) if st == "straddles" and iv.method == "t"]
    if settle and good < need <= good + undecided:
        detail += f"{_SETTLE}{', '.join(settle)}"
    return Condition(name, core, Interval(good, good, good + undecided, len(intervals), "count"), threshold=need,
                     inclusive=True, detail=detail)


_SETTLE = "; to settle the straddling ones: "


def _two_sample(a: np.ndarray, b: np.ndarray, seed: int, n_boot: int = 10_000) -> Interval:
    """mean(a) - mean(b) with a bootstrap resampling each set of units independently."""
    a, b = _finite(a, "a"), _finite(b, "b")
    rng = np.random.default_rng(seed)
    draws = (a[rng.integers(0, len(a), (n_boot, len(a)))].mean(1)
             - b[rng.integers(0, len(b), (n_boot, len(b)))].mean(1))
    low, high = np.quantile(draws, [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Interval(float(a.mean() - b.mean()), float(low), float(high), len(a) + len(b), "bootstrap")


# -- Paper B ----------------------------------------------------------------------------------------


def _fact(name: str, holds: bool, detail: str, core: bool = True) -> Condition:
    return Condition(name, core, holds=bool(holds), detail=detail)


def b_f2(with_2: Sequence[float], with_3: Sequence[float], equal_counts: bool, same_boundary: bool) -> Verdict:
    """B-F2, the three-task toy. with_2 / with_3: per seed, acc(task 1 trained with task 2 | 3) - acc(task 1 alone).
    (core) >= 20 seeds, equal sample counts, tasks 2 and 3 with the same boundary (the setting's facts);
    (core) the with-2 gain > 0 and the with-3 gain < 0, t-intervals over seeds."""
    n = len(_finite(with_2, "with_2"))
    return decide("B-F2", [
        _fact(">= 20 seeds", n >= 20 and len(_finite(with_3, "with_3")) >= 20, f"{n} seeds"),
        _fact("equal sample counts for the three tasks", equal_counts, "setting"),
        _fact("tasks 2 and 3 share one decision boundary", same_boundary, "setting"),
        Condition("acc(1 with 2) - acc(1 alone)", True, t_interval(with_2), 0.0),
        Condition("acc(1 with 3) - acc(1 alone)", True, t_interval(with_3), 0.0, above=False),
    ])


def b_f3(diffs: dict[str, dict[int, Sequence[float]]], same: str, moderate_counts: Sequence[int],
         secondary: dict[str, str] | None = None) -> Verdict:
    """B-F3 in the primary setting. diffs[source][m_source]: per seed, MTL - STL target error (negative = the
    source helps). same: the same-covariance source. moderate_counts: {d, 3d, 10d}, each present for every source.
    (core) at each moderate count the same-covariance source's difference < 0 (t over seeds); (core) no other
    source has an interval wholly below 0 at two or more of those counts."""
    if same not in diffs:
        raise ValueError(f"B-F3: the same-covariance source {same!r} is not among {sorted(diffs)}")
    missing = [(s, m) for s in diffs for m in moderate_counts if m not in diffs[s]]
    if missing:
        raise ValueError(f"B-F3: no numbers for (source, count) {missing[:4]}")
    conditions = [Condition(f"same covariance at m_source={m}: MTL - STL target error", True,
                            t_interval(diffs[same][m]), 0.0, above=False) for m in moderate_counts]
    for src in (s for s in diffs if s != same):
        ivs = [t_interval(diffs[src][m]) for m in moderate_counts]
        below = sum(iv.high < 0 for iv in ivs)
        conditions.append(_fact(f"{src}: not below 0 at two or more moderate counts", below < 2,
                                f"wholly below 0 at {below} of {list(moderate_counts)}: "
                                + ", ".join(f"{m} {iv}" for m, iv in zip(moderate_counts, ivs))))
    return decide("B-F3", conditions, secondary)


def b_p1(relative_gaps: dict[int, float], k: int, restarts: int, from_construction: bool = False) -> Verdict:
    """B-P1. relative_gaps[r]: for shared width r, the largest over tasks of (MTL task loss - the task's STL optimum)
    / STL optimum, at the best of `restarts` random initialisations. (core) restarts >= 5 and none started from
    Prop. 1's construction; (core) every r >= k has gap < 1e-4; (core) every r < k has gap > 1e-3."""
    big = {r: g for r, g in relative_gaps.items() if r >= k}
    small = {r: g for r, g in relative_gaps.items() if r < k}
    if not big or not small:
        raise ValueError(f"B-P1 needs widths on both sides of k={k}, got {sorted(relative_gaps)}")
    return decide("B-P1", [
        _fact(">= 5 random restarts, none from Prop. 1's construction", restarts >= 5 and not from_construction,
              f"{restarts} restarts" + (", started from the construction" if from_construction else "")),
        _fact("r >= k reaches every task's STL optimum (relative gap < 1e-4)", all(g < 1e-4 for g in big.values()),
              ", ".join(f"r={r}: {g:.2e}" for r, g in sorted(big.items()))),
        _fact("r < k leaves a gap (> 1e-3)", all(g > 1e-3 for g in small.values()),
              ", ".join(f"r={r}: {g:.2e}" for r, g in sorted(small.items()))),
    ])


def b_p3(max_sine: float, clean_diffs: dict[int, Sequence[float]], noisy_weight_excess: Sequence[float],
         secondary: dict[str, str] | None = None) -> Verdict:
    """B-P3. max_sine: the largest principal-angle sine between the solver's shared subspace and Prop. 3's closed
    form. clean_diffs[m]: per seed, at sample size m and 20% random labels on one task, the clean tasks' mean error
    with Alg. 2's weights minus with uniform weights. noisy_weight_excess: per seed, the noisy task's Alg. 2 weight
    minus the mean weight. (core) sine < 1e-4; (core) >= 10 seeds and Alg. 2 lower (interval < 0) at >= 2 sizes;
    (core) the noisy task's weight below the mean weight (interval < 0)."""
    seeds = min(len(_finite(v, f"clean_diffs[{m}]")) for m, v in clean_diffs.items())
    sizes = sorted(clean_diffs)
    return decide("B-P3", [
        _fact("solver subspace = Prop. 3 closed form (sine < 1e-4)", max_sine < 1e-4, f"max sine {max_sine:.2e}"),
        _fact(">= 10 seeds per sample size", seeds >= 10, f"{seeds} seeds"),
        count_condition("Alg. 2 beats uniform on the clean tasks at >= 2 sample sizes", True,
                        [t_interval(clean_diffs[m]) for m in sizes], 0.0, 2, above=False,
                        labels=[f"m={m}" for m in sizes]),
        Condition("noisy task's weight - mean weight", True, t_interval(noisy_weight_excess), 0.0, above=False),
    ], secondary)


def b_f5a(pair_gains: dict[str, Sequence[float]], all_five_gains: Sequence[float]) -> Verdict:
    """B-F5a. pair_gains[pair]: per seed, the GLUE score with alignment minus without, for each of the 10 pairs;
    all_five_gains: per seed, the average-score gain with all five tasks together. (core) the mean gain > 0 on
    >= 6 of the 10 pairs [paper 7/10]; (core) the all-five gain > 0 (t over seeds) [paper +2.35]."""
    if len(pair_gains) != 10:
        raise ValueError(f"B-F5a: the criterion is over the 10 GLUE pairs, got {len(pair_gains)}")
    means = {p: float(np.mean(_finite(g, p))) for p, g in pair_gains.items()}
    wins = sum(m > 0 for m in means.values())
    return decide("B-F5a", [
        _fact("alignment beats no alignment on >= 6 of 10 pairs (mean over seeds)", wins >= 6,
              f"{wins}/10 [paper 7/10]: " + ", ".join(f"{p} {m:+.2f}" for p, m in means.items())),
        Condition("all five tasks: average score gain", True, t_interval(all_five_gains), 0.0),
    ])


def b_f5b(gains: dict[str, Sequence[float]]) -> Verdict:
    """B-F5b. gains[target]: per seed, target accuracy with alignment minus without (SST -> target), five targets,
    the same seeds for each. (core) >= 4 of 5 targets improve (mean over seeds); (core) the mean gain over
    targets has a t-interval over seeds above 0."""
    if len(gains) != 5:
        raise ValueError(f"B-F5b: the criterion is over 5 targets, got {len(gains)}")
    table = np.array([_finite(g, t) for t, g in gains.items()])
    means = table.mean(axis=1)
    return decide("B-F5b", [
        _fact(">= 4 of 5 targets improve (mean over seeds)", (means > 0).sum() >= 4,
              f"{int((means > 0).sum())}/5 [paper 4/5]: " + ", ".join(f"{t} {m:+.2f}" for t, m in zip(gains, means))),
        Condition("mean gain over targets", True, t_interval(table.mean(axis=0)), 0.0),
    ])


def b_f6(stl_capacity: dict[str, int], mtl_size: int, mtl_minus_stl: Sequence[float]) -> Verdict:
    """B-F6. stl_capacity[task]: the hidden size with the best dev score in the sweep; mtl_size: the MTL model's
    best shared size (on dev); mtl_minus_stl: per seed, MTL mean test accuracy - STL mean test accuracy, points.
    (core) mtl_size < the sum of STL capacities; (core) the accuracy difference's lower bound >= -1 point."""
    total = sum(stl_capacity.values())
    return decide("B-F6", [
        _fact("MTL shared size < sum of STL capacities", mtl_size < total, f"{mtl_size} vs {total}"),
        Condition("MTL - STL mean test accuracy (points)", True, t_interval(mtl_minus_stl), -1.0, inclusive=True),
    ])


def b_f7(score_change: dict[str, float], gains: dict[str, float], seed: int = 0) -> Verdict:
    """B-F7 over the task pairs (15 for six tasks). score_change[pair]: raw eq. 5 score after - before alignment;
    gains[pair]: accuracy gain from alignment (mean over seeds). (core) the score rises on >= 12 of 15 pairs
    [15/15]; (core) alignment gains on >= 10 of 15 [13/15] (for n pairs: 80% and two thirds, rounded up).
    Secondary: Spearman(score change, gain)."""
    if set(score_change) != set(gains) or len(gains) < 3:
        raise ValueError("B-F7: score_change and gains need the same pairs (at least 3)")
    n = len(gains)
    pairs = list(gains)
    rises = sum(score_change[p] > 0 for p in pairs)
    wins = sum(gains[p] > 0 for p in pairs)
    need_rise, need_win = math.ceil(0.8 * n - 1e-9), math.ceil(2 * n / 3 - 1e-9)
    rho = spearman_interval([score_change[p] for p in pairs], [gains[p] for p in pairs], seed=seed)
    return decide("B-F7", [
        _fact(f"raw eq. 5 score rises after alignment on >= {need_rise} of {n} pairs", rises >= need_rise,
              f"{rises}/{n} [paper 15/15]"),
        _fact(f"alignment gains on >= {need_win} of {n} pairs", wins >= need_win, f"{wins}/{n} [paper 13/15]"),
    ], {"Spearman(score change, gain)": str(rho)})


def b_t1(clean_auc_gains: np.ndarray, secondary: dict[str, str] | None = None) -> Verdict:
    """B-T1. clean_auc_gains: (pairs x seeds) clean-task AUC with SVD weights minus with uniform weights, 20% random
    labels on the other task. (core) >= 20 random pairs; (core) the mean gain > 0, t-interval over the pairs x seeds
    units [paper +2.4]. Pass the clean multi-label comparison [paper +0.4, criterion >= -0.1] in `secondary`."""
    g = np.asarray(clean_auc_gains, float)
    if g.ndim != 2:
        raise ValueError(f"B-T1: gains must be (pairs x seeds), got shape {g.shape}")
    return decide("B-T1", [
        _fact(">= 20 random task pairs", g.shape[0] >= 20, f"{g.shape[0]} pairs x {g.shape[1]} seeds"),
        Condition("SVD weights - uniform, clean-task AUC", True, t_interval(g.ravel()), 0.0),
    ], secondary)
