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
inconclusive = no core condition fails but one straddles (with where its interval lies against the
threshold, the units that would settle it at the same mean and spread - seeds for a t-interval, tasks or
groups for a bootstrap - and, where the notebook measured a unit's cost, what those would cost at its
profile); partly = every core condition holds and some other one does not.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Sequence

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
    # scipy draws the resamples (rows by index, so a row of paired values stays together); the quantiles are
    # taken here over the finite draws only (e.g. a Spearman of a resample with a constant column is NaN)
    with warnings.catch_warnings():   # scipy's warning about NaN draws: handled below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap((np.arange(len(x)),), lambda idx: statistic(x[idx]), n_resamples=n_boot,
                              vectorized=False, method="percentile", rng=np.random.default_rng(seed))
    draws = np.asarray(res.bootstrap_distribution, dtype=float)
    draws = draws[np.isfinite(draws)]
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


def power_seeds(effect: float, sd: float, threshold: float, power: float = 0.8, level: float = LEVEL,
                most: int = 100) -> int | None:
    """Seeds to fix in advance for an interval condition over seeds (PAPERS.md, "sizes fixed in advance"): the
    smallest n >= 2 at which the `level` t-interval of a mean with true value `effect` and per-seed standard
    deviation `sd` excludes `threshold` with probability >= `power` (noncentral t: it excludes the threshold when
    |mean - threshold| > t_crit s / sqrt(n)). None when even `most` seeds would not (effect at the threshold)."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or sd < 0:
        raise ValueError(f"power_seeds: effect and sd must be finite (sd >= 0), got {effect}, {sd}")
    gap = abs(effect - threshold)
    if gap == 0:
        return None
    if sd == 0:
        return 2
    for n in range(2, most + 1):
        crit = stats.t.ppf(0.5 + level / 2, n - 1)
        if stats.nct.sf(crit, n - 1, gap / (sd / math.sqrt(n))) >= power:
            return n
    return None


def power_table(pilot: dict[str, Sequence[float]], chosen: int, power: float = 0.8, most: int = 1000) -> list[dict]:
    """The power calculation behind a seed count, one row per condition: `pilot[name]` = (effect, sd, threshold)
    from an earlier run; each row gives the seeds `power_seeds` asks for (None: more than `most`, the effect sits
    at the threshold), the `chosen` count and whether it is enough."""
    rows = []
    for name, (effect, sd, threshold) in pilot.items():
        need = power_seeds(float(effect), float(sd), float(threshold), power=power, most=most)
        rows.append({"condition": name, "pilot effect": float(effect), "pilot sd": float(sd),
                     "threshold": float(threshold), f"seeds for {power:.0%} power": need if need else f"> {most}",
                     "chosen": int(chosen), "enough": bool(need is not None and chosen >= need)})
    return rows


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
    families: tuple[str, ...] = ()   # the guard keys ("<corpus>/<family>") of the models it compares
    blocked: str = ""   # why it cannot be decided whatever its numbers (e.g. "models did not learn: mtl lumbar")
    unit: str = ""      # what the interval's n counts ("seeds", "tasks", "groups"); default from its method
    unit_seconds: float | None = None   # compute one more unit costs at this profile (measured on this run)
    min_units: int = 0  # fewer units than this cannot decide (e.g. MIN_COUNT_SEEDS); what `blocked` then says

    @property
    def units(self) -> str:
        return self.unit or {"t": "seeds", "count bootstrap": "seeds", "task bootstrap": "tasks"}.get(
            self.interval.method if self.interval else "", "units")

    @property
    def status(self) -> str:
        """'holds', 'fails', 'straddles', or 'blocked' (see `blocked`)."""
        if self.blocked:
            return "blocked"
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
        status = f"inconclusive ({self.blocked})" if self.blocked else self.status
        return f"{'(core) ' if self.core else ''}{self.name}: {what}{extra} -> {status}"


@dataclass
class Verdict:
    item: str
    verdict: str
    conditions: list[Condition]
    reason: str
    secondary: dict[str, str] = field(default_factory=dict)  # shown, never deciding
    guards: list["Guard"] = field(default_factory=list)      # the learned-model guard of each family it uses

    def describe(self) -> str:
        """What a notebook prints: each guard, condition and secondary line, then '<item>: <verdict> - <reason>'."""
        return "\n".join([*(g.describe() for g in self.guards), *(c.describe() for c in self.conditions),
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
                "secondary": dict(self.secondary),
                "guards": [{**asdict(g), "needed": g.needed, "learned": g.learned, "text": g.describe()}
                           for g in self.guards]}


def decide(item: str, conditions: list[Condition], secondary: dict[str, str] | None = None,
           partly_if_some_core: bool = False, guards: Sequence["Guard"] = ()) -> Verdict:
    """The PAPERS.md rule (module docstring). `partly_if_some_core`: the item says "one of the core
    conditions holding = partly" (A-F4), so a failing core condition with another core one holding is partly.

    `guards`: the learned-model guard of each family the conditions use (PAPERS.md, general rules); a condition
    whose `families` include one that did not learn is blocked ("inconclusive (models did not learn)"), and so
    is the verdict unless a core condition on learned models fails. Blocked conditions never count as holding."""
    if not any(c.core for c in conditions):
        raise ValueError(f"{item}: no core condition")
    unknown = {f for c in conditions for f in c.families} - {g.key for g in guards}
    if guards and unknown:
        raise ValueError(f"{item}: conditions use famil(ies) {sorted(unknown)} without a learned-model guard")
    not_learned = {g.key for g in guards if not g.learned}
    for c in conditions:
        bad = [f for f in c.families if f in not_learned]
        if bad and "did not learn" not in c.blocked:   # the guard's reason first, any other reason kept after it
            c.blocked = f"models did not learn: {', '.join(bad)}" + (f"; {c.blocked}" if c.blocked else "")
    core = [c for c in conditions if c.core]
    failed = [c for c in core if c.status == "fails"]
    straddle = [c for c in core if c.status == "straddles"]
    blocked = [c for c in core if c.status == "blocked"]
    if partly_if_some_core and failed and any(c.status == "holds" for c in core) and not straddle and not blocked:
        verdict, reason = "partly", f"core condition(s) {_names(failed)} fail, the others hold"
    elif failed:
        verdict, reason = "not reproduced", f"core condition(s) {_names(failed)} fail"
    elif blocked:
        verdict = "inconclusive"
        # too few seeds: how many more and their cost (not when the models did not learn: seeds cannot fix that)
        reason = "; ".join(f"{c.name}: {c.blocked}" + (f" ({_more_units(c, c.min_units)})" if c.interval is not None
                                                       and c.interval.n < c.min_units
                                                       and "did not learn" not in c.blocked else "")
                           for c in blocked)
        if any("did not learn" in c.blocked for c in blocked):
            reason = f"models did not learn - {reason}"
    elif straddle:
        verdict = "inconclusive"
        reason = "; ".join(f"the interval of {c.name!r} straddles its threshold: {_how_far(c)}"
                           + (f"; at the same mean and spread it would settle with {need}" if (need := _settle(c))
                              else "") for c in straddle)
    elif all(c.status == "holds" for c in conditions):
        verdict, reason = "reproduced", "every condition holds"
    else:
        others = [c for c in conditions if c.status != "holds"]
        verdict, reason = "partly", f"core conditions hold; {_names(others)} do not"
    return Verdict(item, verdict, conditions, reason, dict(secondary or {}), list(guards))


def duration(seconds: float) -> str:
    """Seconds in words: '40 s', '12 min', '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 90 * 60 else f"{seconds / 3600:.1f} h"


def _more_units(c: Condition, total: int) -> str:
    """'2 more seeds' and, where the condition knows a unit's cost, what they would cost."""
    more, unit = total - c.interval.n, c.units
    text = f"{more} more {unit if more != 1 else unit.rstrip('s')}"
    if c.unit_seconds is not None and math.isfinite(c.unit_seconds):
        text += (f", about {duration(more * c.unit_seconds)} of training at this profile at "
                 f"{duration(c.unit_seconds)} per {unit.rstrip('s')} as measured on this run")
    return text


def _how_far(c: Condition) -> str:
    """Where a straddling interval lies against its threshold: estimate, interval, threshold."""
    iv = c.interval
    op = (">=" if c.inclusive else ">") if c.above else ("<=" if c.inclusive else "<")
    return f"{iv.estimate:+.3g} [{iv.low:+.3g}, {iv.high:+.3g}] over {iv.n} {c.units} vs {op} {c.threshold:g}"


def _settle(c: Condition) -> str:
    """What would settle a straddling condition with the same mean and spread, with its cost where known: seeds
    for a t-interval over seeds, more units of a bootstrap (its width taken to shrink as 1/sqrt(n))."""
    iv = c.interval
    if iv.method == "t":
        if iv.n < 2:
            return "at least 2 seeds (one seed gives no interval)"
        n = seeds_to_settle(iv, c.threshold)
        return (f"~{n} {c.units} ({_more_units(c, n)})" if n
                else f"more than 1000 {c.units} (its mean is too close to the threshold)")
    if iv.method == "count" and _SETTLE in c.detail:
        return c.detail.split(_SETTLE)[1]
    if iv.method == "count bootstrap":
        cost = (f"; each seed about {duration(c.unit_seconds)} of training at this profile"
                if c.unit_seconds is not None and math.isfinite(c.unit_seconds) else "")
        return (f"more seeds (its count interval over {iv.n} seeds spans {iv.low:g}..{iv.high:g} around "
                f"{c.threshold:g}){cost}")
    if iv.method not in ("bootstrap", "task bootstrap"):
        return ""
    gap = iv.estimate - c.threshold
    half = (iv.estimate - iv.low) if gap > 0 else (iv.high - iv.estimate)
    if not (math.isfinite(gap) and math.isfinite(half)) or gap == 0 or iv.n < 2:
        return ""
    # the smallest n whose half-width half * sqrt(n0 / n) is below the gap, strictly (as seeds_to_settle); rounded
    # first so that 16 x (0.3 / 0.1)^2 is 144 and not 144.00000000000003
    n = math.floor(round(iv.n * (half / abs(gap)) ** 2, 9)) + 1
    if n > 1000 * iv.n:
        return f"more than {1000 * iv.n} {c.units} (its estimate is too close to the threshold)"
    return f"~{n} {c.units} if the interval narrows as 1/sqrt(n) ({_more_units(c, n)})"


def combine(item: str, parts: Sequence[Verdict]) -> Verdict:
    """One verdict over several settings that must all hold (e.g. A-T1 "per corpus"): `decide` over the union
    of their conditions, each named after its part."""
    conditions = [dataclasses.replace(c, name=f"{p.item}: {c.name}") for p in parts for c in p.conditions]
    secondary = {f"{p.item}: {k}": val for p in parts for k, val in p.secondary.items()}
    return decide(item, conditions, secondary, guards=[g for p in parts for g in p.guards])


@dataclass(frozen=True)
class Guard:
    """The learned-model guard of one model family on one corpus (PAPERS.md, general rules): the family's mean
    test score over tasks must close at least half the distance from the majority-class floor to the TF-IDF
    reference, mean >= floor + 0.5 (reference - floor), all three means over the same tasks, in points."""

    family: str
    corpus: str
    mean: float
    floor: float
    reference: float
    split: str = "test"      # where the three means come from ("dev" for tasks without a labelled test split)

    @property
    def key(self) -> str:
        return f"{self.corpus}/{self.family}"

    @property
    def needed(self) -> float:
        return self.floor + 0.5 * (self.reference - self.floor)

    @property
    def learned(self) -> bool:
        return bool(self.mean >= self.needed)

    def describe(self) -> str:
        return (f"guard {self.key}: mean {self.split} {self.mean:.1f} vs floor {self.floor:.1f} + 0.5 x (TF-IDF "
                f"{self.reference:.1f} - floor) = {self.needed:.1f} -> {'learned' if self.learned else 'did not learn'}")


def guard(family: str, corpus: str, scores: dict[str, float], floor: dict[str, float],
          reference: dict[str, float], split: str = "test") -> Guard:
    """`Guard` from per-task numbers in points: `scores` (the family's mean test score over seeds), `floor` (the
    majority class), `reference` (TF-IDF + class-balanced logistic regression); the same tasks in all three."""
    tasks = sorted(scores)
    if not tasks or sorted(floor) != tasks or sorted(reference) != tasks:
        raise ValueError(f"guard {corpus}/{family}: scores, floor and reference need the same tasks, got "
                         f"{tasks}, {sorted(floor)}, {sorted(reference)}")
    mean = lambda d: float(np.mean([d[t] for t in tasks]))  # noqa: E731
    return Guard(family, corpus, mean(scores), mean(floor), mean(reference), split)


MIN_COUNT_SEEDS = 5


def count_interval(table: np.ndarray, threshold: float = 0.0, above: bool = True, n_boot: int = 10_000,
                   seed: int = 0) -> Interval:
    """How many items have their mean over seeds on the claimed side of `threshold`, with a bootstrap interval
    over seeds (PAPERS.md, general rules): `table` is (seeds x items); each draw resamples the seed rows,
    recomputes the per-item means and counts. The interval's n is the number of seeds."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"count_interval: expected a (seeds x items) table, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("count_interval: table contains NaN or inf")

    def count(rows: np.ndarray) -> np.ndarray:
        means = rows.mean(axis=-2)
        return ((means > threshold) if above else (means < threshold)).sum(axis=-1)

    estimate = float(count(t))
    if t.shape[0] < 2:
        return Interval(estimate, 0.0, float(t.shape[1]), 1, "count bootstrap")
    idx = np.random.default_rng(seed).integers(0, t.shape[0], (n_boot, t.shape[0]))
    low, high = np.quantile(count(t[idx]), [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Interval(estimate, float(low), float(high), t.shape[0], "count bootstrap")


def count_over_seeds(name: str, core: bool, table: np.ndarray, need: int, items: Sequence[str],
                     threshold: float = 0.0, above: bool = True, families: tuple[str, ...] = ()) -> Condition:
    """"At least `need` of the items have their mean over seeds > (or < ) `threshold`": holds when the bootstrap
    interval's low end >= need, fails when its high end < need, straddles otherwise; fewer than
    `MIN_COUNT_SEEDS` seeds cannot decide (blocked)."""
    iv = count_interval(table, threshold, above)
    means = np.asarray(table, dtype=float).mean(axis=0)
    detail = f"{int(iv.estimate)} of {len(items)}: " + ", ".join(f"{n} {m:+.3f}" for n, m in zip(items, means))
    blocked = f"fewer than {MIN_COUNT_SEEDS} seeds ({iv.n})" if iv.n < MIN_COUNT_SEEDS else ""
    return Condition(name, core, iv, threshold=need, inclusive=True, detail=detail, families=families,
                     blocked=blocked, min_units=MIN_COUNT_SEEDS)


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


def _seed_cost(family_seconds: Mapping[str, float] | None, *families: str) -> float | None:
    """Training seconds of one more seed of `families` (each: all its tasks), from `family_seconds`."""
    if not family_seconds or any(f not in family_seconds for f in families):
        return None
    return float(sum(family_seconds[f] for f in families))


def a_t1(diff_points: np.ndarray, throughput_ratio: float, k: int, parameter_ratio: float,
         corpus: str = "", guards: Sequence[Guard] = (), family_seconds: Mapping[str, float] | None = None) -> Verdict:
    """A-T1 for one corpus. diff_points: (seeds x tasks) paired MTL - STL test macro-F1 in points (x100).
    throughput_ratio: one MTL model's inference throughput / that of k STL models on the same reports.
    parameter_ratio: MTL parameters / total parameters of the k STL models. guards: the corpus's `stl` and
    `mtl` learned-model guards (PAPERS.md: a family that did not learn makes "MTL matches STL" inconclusive).
    family_seconds: per family, the training seconds of one seed (all its tasks) at this profile, for the cost
    of the seeds that would settle a straddling interval.

    (core) the mean over tasks of the paired difference has a t-interval (over seeds) lower bound >= -2
    points. (core) efficiency: throughput ratio >= 0.8 k and "about 1/k" of the parameters, read as a
    parameter ratio <= 1.1 / k (the k heads make it slightly above 1/k)."""
    d = np.asarray(diff_points, dtype=float)
    if d.ndim != 2:
        raise ValueError(f"diff_points must be (seeds x tasks), got shape {d.shape}")
    uses = (f"{corpus}/stl", f"{corpus}/mtl") if guards else ()
    match = Condition("MTL matches STL (mean over tasks of MTL - STL macro-F1, points)", True,
                      t_interval(d.mean(axis=1)), threshold=-2.0, inclusive=True, families=uses,
                      unit_seconds=_seed_cost(family_seconds, "stl", "mtl"))
    speed = Condition(f"one MTL model serves k={k} tasks at >= 0.8k times the throughput of k STL models", True,
                      holds=throughput_ratio >= 0.8 * k, detail=f"ratio {throughput_ratio:.2f} vs {0.8 * k:.2f}")
    params = Condition("with about 1/k of the STL models' parameters (ratio <= 1.1/k)", True,
                       holds=parameter_ratio <= 1.1 / k, detail=f"ratio {parameter_ratio:.3f} vs 1/k = {1 / k:.3f}")
    return decide(f"A-T1{' ' + corpus if corpus else ''}", [match, speed, params], guards=guards)


def a0_t1(mtl_minus_stl: Sequence[float], mtl_minus_adapters: Sequence[float],
          secondary: dict[str, str] | None = None, corpus: str = "", guards: Sequence[Guard] = (),
          family_seconds: Mapping[str, float] | None = None) -> Verdict:
    """A0-T1. Each argument: per seed, the mean over tasks of the paired MTL - (STL | STL + adapters) test
    macro-F1 in points. (core) both t-interval lower bounds >= -2 points. MTL + adapters goes in `secondary`.
    guards: the corpus's `stl`, `stl+adapters` and `mtl` learned-model guards. family_seconds: as in `a_t1`."""
    g = (lambda *fs: tuple(f"{corpus}/{f}" for f in fs)) if guards else (lambda *fs: ())
    return decide(f"A0-T1{' ' + corpus if corpus else ''}", [
        Condition("MTL - STL fine-tuning (points)", True, t_interval(mtl_minus_stl), -2.0, inclusive=True,
                  families=g("mtl", "stl"), unit_seconds=_seed_cost(family_seconds, "mtl", "stl")),
        Condition("MTL - STL with adapters (points)", True, t_interval(mtl_minus_adapters), -2.0, inclusive=True,
                  families=g("mtl", "stl+adapters"), unit_seconds=_seed_cost(family_seconds, "mtl", "stl+adapters")),
    ], secondary, guards=guards)


def a_f1(notes: int, processed: int, micro_f1: Interval, secondary: dict[str, str] | None = None,
         guards: Sequence[Guard] = (), families: tuple[str, ...] = ()) -> Verdict:
    """A-F1, the pipeline on real reports. notes / processed: test-split notes given to the pipeline / those that
    came out of it with predictions (sentences -> level tags -> grouped text -> predictions, no manual step; a
    note whose parsing or prediction raised is not processed). micro_f1: the pipeline's presence micro-F1 against
    those notes' labels with a bootstrap interval over notes. guards/families: the MTL model's learned-model guard.
    (core) every note processed; (core) micro-F1 >= 0.80; (core) the interval's low end >= 0.70."""
    return decide("A-F1", [
        _fact("every test-split note goes through the pipeline with no manual step", notes > 0 and processed == notes,
              f"{processed} of {notes} notes"),
        Condition("presence micro-F1 >= 0.80", True, holds=micro_f1.estimate >= 0.80, detail=f"micro-F1 {micro_f1}",
                  families=families),
        Condition("presence micro-F1, bootstrap over notes: low end", True, micro_f1, 0.70, inclusive=True,
                  families=families, unit="notes"),
    ], secondary, guards=guards)


MOVED_CKA = 0.99


def a_f2(radiology: dict[tuple[str, str], Sequence[float]], contrast: dict[tuple[str, str], Sequence[float]],
         layers: Sequence[str], secondary: dict[str, str] | None = None, seed: int = 0, n_boot: int = 10_000,
         guards: Sequence[Guard] = (), families: tuple[str, ...] = (), task_seconds: float | None = None) -> Verdict:
    """A-F2 (amended 2026-12-01). radiology[(task_a, task_b)]: per layer, the CKA between the two radiology tasks'
    STL models (mean over seeds); contrast[(radiology task, contrast task)]: per layer, a radiology STL model vs a
    GLUE/SentEval STL model on the same inputs.

    The decided layers: those where fine-tuning moved the models (the contrast pairs' mean CKA < 0.99), and the
    last layer always. (core) at each decided layer, mean radiology CKA - mean contrast CKA > 0 with a bootstrap
    interval resampling tasks (pairs share tasks: each draw takes the radiology and the contrast tasks with
    replacement and weights every pair by how often both its tasks were drawn). Other layers are shown, not
    decided. `families`: the guard keys of the STL models compared. task_seconds: training seconds of one more
    task's STL models (all seeds) at this profile, for the cost of what would settle a straddling layer."""
    rad, con = _pair_table(radiology, len(layers), "radiology"), _pair_table(contrast, len(layers), "contrast")
    con_mean = np.mean([v for v in con.values()], axis=0)
    decided = [j for j in range(len(layers)) if con_mean[j] < MOVED_CKA or j == len(layers) - 1]
    draws = _task_bootstrap(rad, con, seed, n_boot)
    rad_mean, conm = np.mean(list(rad.values()), axis=0), con_mean
    conditions = []
    for j in decided:
        d = draws[:, j][np.isfinite(draws[:, j])]
        low, high = np.quantile(d, [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
        iv = Interval(float(rad_mean[j] - conm[j]), float(low), float(high), len(_tasks(rad, con)), "task bootstrap")
        one = "; one contrast task: the interval does not cover the choice of unrelated task" if len(
            {p[1] for p in con}) < 2 else ""
        conditions.append(Condition(f"layer {layers[j]}: radiology - contrast CKA", True, iv, 0.0,
                                    detail=f"contrast mean {conm[j]:.3f}{one}", families=families, unit="tasks",
                                    unit_seconds=task_seconds))
    shown = {layers[j]: f"radiology {rad_mean[j]:.4f}, contrast {conm[j]:.4f} (every pair kind >= {MOVED_CKA}: "
                        "not decided)" for j in range(len(layers)) if j not in decided}
    return decide("A-F2", conditions, {**{f"undecided layer {k}": v for k, v in shown.items()}, **(secondary or {})},
                  guards=guards)


def _pair_table(pairs: dict, n_layers: int, what: str) -> dict[tuple[str, str], np.ndarray]:
    if not pairs:
        raise ValueError(f"A-F2: no {what} pairs")
    out = {}
    for key, values in pairs.items():
        v = _finite(values, f"{what} pair {key}")
        if len(v) != n_layers:
            raise ValueError(f"A-F2: {what} pair {key} has {len(v)} layer values, expected {n_layers}")
        out[tuple(key)] = v
    return out


def _tasks(rad: dict, con: dict) -> list[str]:
    return sorted({t for pair in rad for t in pair} | {pair[0] for pair in con}) + sorted({p[1] for p in con})


def _task_bootstrap(rad: dict, con: dict, seed: int, n_boot: int) -> np.ndarray:
    """(n_boot x layers) draws of mean radiology CKA - mean contrast CKA, resampling tasks (see `a_f2`)."""
    radiology = sorted({t for pair in rad for t in pair} | {pair[0] for pair in con})
    others = sorted({pair[1] for pair in con})
    ri, oi = {t: i for i, t in enumerate(radiology)}, {t: i for i, t in enumerate(others)}
    rng = np.random.default_rng(seed)
    w = rng.multinomial(len(radiology), np.full(len(radiology), 1 / len(radiology)), n_boot).astype(float)
    u = rng.multinomial(len(others), np.full(len(others), 1 / len(others)), n_boot).astype(float)
    rw = np.stack([w[:, ri[a]] * w[:, ri[b]] for a, b in rad], axis=1)          # (n_boot x radiology pairs)
    cw = np.stack([w[:, ri[a]] * u[:, oi[b]] for a, b in con], axis=1)          # (n_boot x contrast pairs)
    rv, cv = np.stack(list(rad.values())), np.stack(list(con.values()))         # (pairs x layers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rw @ rv) / rw.sum(1, keepdims=True) - (cw @ cv) / cw.sum(1, keepdims=True)


MIN_RECORDS = 8


def a_f3(radiology_cos: np.ndarray, contrast_cos: np.ndarray, layers: Sequence[str], records: int,
         secondary: dict[str, str] | None = None, guards: Sequence[Guard] = (),
         families: tuple[str, ...] = (), seed_seconds: float | None = None) -> Verdict:
    """A-F3 (amended 2026-12-01). radiology_cos / contrast_cos: (seeds x (1 + layers)) mean gradient cosine over
    training of the radiology (resp. contrast) pairs, step-0 records left out, column 0 the overall cosine, then
    one column per layer. records: the fewest records (after step 0) of any run; fewer than 8 cannot decide.
    (core) overall radiology cosine > 0 (t over seeds); the per-layer means over seeds > 0 at >= 80% of the
    layers (count with a bootstrap interval over seeds); the overall radiology cosine above the contrast
    pairs' (paired by seed). seed_seconds: training seconds of one more seed's runs at this profile."""
    rad, con = np.asarray(radiology_cos, float), np.asarray(contrast_cos, float)
    if rad.shape != con.shape or rad.ndim != 2 or rad.shape[1] != 1 + len(layers):
        raise ValueError(f"cosine tables must both be (seeds x {1 + len(layers)}), got {rad.shape} and {con.shape}")
    need = math.ceil(0.8 * len(layers))
    few = f"fewer than {MIN_RECORDS} records per run ({records})" if records < MIN_RECORDS else ""
    conditions = [
        Condition("overall radiology gradient cosine", True, t_interval(rad[:, 0]), 0.0, families=families),
        count_over_seeds(f"radiology cosine > 0 at >= 80% of layers ({need} of {len(layers)})", True, rad[:, 1:],
                         need, layers, families=families),
        Condition("overall radiology - contrast cosine", True, t_interval(rad[:, 0] - con[:, 0]), 0.0,
                  families=families),
    ]
    for c in conditions:
        c.blocked = c.blocked or few
        c.unit_seconds = seed_seconds
    return decide("A-F3", conditions, secondary, guards=guards)


def a_f4(cka: Sequence[float], cosine: Sequence[float], gap: Sequence[float], min_groups: int = 15,
         seed: int = 0, guards: Sequence[Guard] = (), families: tuple[str, ...] = (),
         group_seconds: float | None = None) -> Verdict:
    """A-F4 over task groups (one value per group of each argument; gap = MTL - STL). (core) Spearman(CKA, gap)
    > 0 and Spearman(cosine, gap) > 0, bootstrap intervals over groups; one of the two holding = partly.
    Fewer than `min_groups` groups is refused (PAPERS.md asks for >= 15). group_seconds: training seconds of one
    more group (its MTL runs, all seeds) at this profile, for the cost of what would settle a straddling one."""
    n = len(gap)
    if n < min_groups or len(cka) != n or len(cosine) != n:
        raise ValueError(f"A-F4 needs >= {min_groups} groups with cka, cosine and gap each; got "
                         f"{len(cka)}, {len(cosine)}, {n}")
    return decide("A-F4", [
        Condition("Spearman(mean STL-STL CKA, MTL - STL gap)", True, spearman_interval(cka, gap, seed=seed), 0.0,
                  families=families, unit="groups", unit_seconds=group_seconds),
        Condition("Spearman(mean gradient cosine, MTL - STL gap)", True, spearman_interval(cosine, gap, seed=seed), 0.0,
                  families=families, unit="groups", unit_seconds=group_seconds),
    ], partly_if_some_core=True, guards=guards)


ADVISOR_MAX_COMPUTE = 0.10   # the advisor's probes may cost at most this share of training every group (issue 24)


def advisor(prediction: Sequence[float], gap: Sequence[float], advisor_seconds: float, training_seconds: float,
            grouping_minus_best: Sequence[float], min_groups: int = 15, seed: int = 0,
            guards: Sequence[Guard] = (), families: tuple[str, ...] = (), mixed_families: tuple[str, ...] = (),
            secondary: dict[str, str] | None = None) -> Verdict:
    """The task-affinity advisor against real runs (issue 24; criteria fixed in the notebook before its results).
    (core) its combined pairwise prediction ranks the groups' real MTL - STL gaps: Spearman > 0, bootstrap over
    groups; (core) its probes cost at most ADVISOR_MAX_COMPUTE of training every group; (core) on the mixed task
    set its recommended grouping scores at least as well as the baseline the notebook chose by its rule (per
    seed: grouping - baseline, mean points over the tasks, t over seeds, >= 0). `families` guard the ranking's
    models (A-F4's), `mixed_families` the mixed set's."""
    n = len(gap)
    if n < min_groups or len(prediction) != n:
        raise ValueError(f"advisor needs >= {min_groups} groups with a prediction and a gap each; got "
                         f"{len(prediction)}, {n}")
    if advisor_seconds < 0 or training_seconds <= 0:
        raise ValueError(f"advisor: seconds must be >= 0 (advisor) and > 0 (training), got {advisor_seconds}, "
                         f"{training_seconds}")
    share = advisor_seconds / training_seconds
    return decide("ADV", [
        Condition("Spearman(advisor's combined affinity, MTL - STL gap)", True,
                  spearman_interval(prediction, gap, seed=seed), 0.0, families=families, unit="groups"),
        Condition(f"advisor compute <= {ADVISOR_MAX_COMPUTE:.0%} of training every group", True,
                  holds=share <= ADVISOR_MAX_COMPUTE,
                  detail=f"{advisor_seconds:.0f} s vs {training_seconds:.0f} s = {share:.1%}"),
        Condition("mixed set: recommended grouping - the better default (mean points over the tasks)", True,
                  t_interval(grouping_minus_best), 0.0, inclusive=True, families=mixed_families),
    ], secondary, guards=guards)


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


def two_sample_interval(a: np.ndarray, b: np.ndarray, seed: int = 0, n_boot: int = 10_000) -> Interval:
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


def b_p3(max_sine: float, clean_diffs: dict[int, Sequence[float]], noisy_weight_drop: Sequence[float],
         secondary: dict[str, str] | None = None) -> Verdict:
    """B-P3. max_sine: the largest principal-angle sine between the solver's shared subspace and Prop. 3's closed
    form. clean_diffs[m]: per seed, at sample size m and 20% random labels on one task, the clean tasks' mean error
    with Alg. 2's weights minus with uniform weights. noisy_weight_drop: per seed, the noisy task's Alg. 2 weight
    with the random labels minus its weight on the clean labels of the same seed (paired; PAPERS.md amended
    2026-12-01: the tasks differ in signal norm, so the mean weight is no reference). (core) sine < 1e-4; (core)
    >= 10 seeds and Alg. 2 lower (interval < 0) at >= 2 sizes; (core) the paired weight change < 0 (interval)."""
    seeds = min(len(_finite(v, f"clean_diffs[{m}]")) for m, v in clean_diffs.items())
    sizes = sorted(clean_diffs)
    return decide("B-P3", [
        _fact("solver subspace = Prop. 3 closed form (sine < 1e-4)", max_sine < 1e-4, f"max sine {max_sine:.2e}"),
        _fact(">= 10 seeds per sample size", seeds >= 10, f"{seeds} seeds"),
        count_condition("Alg. 2 beats uniform on the clean tasks at >= 2 sample sizes", True,
                        [t_interval(clean_diffs[m]) for m in sizes], 0.0, 2, above=False,
                        labels=[f"m={m}" for m in sizes]),
        Condition("noisy task's weight with random labels - its weight on clean labels (paired)", True,
                  t_interval(noisy_weight_drop), 0.0, above=False),
    ], secondary)


def _seed_table(per_item: dict[str, Sequence[float]], what: str) -> np.ndarray:
    """(seeds x items) from {item: per-seed values}, every item with the same seeds."""
    lengths = {len(_finite(v, f"{what}[{k}]")) for k, v in per_item.items()}
    if len(lengths) != 1:
        raise ValueError(f"{what}: every item needs the same number of seeds, got lengths {sorted(lengths)}")
    return np.array([_finite(v, k) for k, v in per_item.items()]).T


def b_f5a(pair_gains: dict[str, Sequence[float]] | None, all_five_gains: Sequence[float],
          guards: Sequence[Guard] = (), pairs_not_run: str = "") -> Verdict:
    """B-F5a. pair_gains[pair]: per seed (the same seeds for every pair), the GLUE score with alignment minus
    without, for each of the 10 pairs; all_five_gains: per seed, the average-score gain with all five tasks
    together. (core) the mean gain > 0 on >= 6 of the 10 pairs [paper 7/10], a count with a bootstrap interval over
    seeds (fewer than 5 seeds: inconclusive); (core) the all-five gain > 0 (t over seeds) [paper +2.35]. `guards`:
    the learned-model guard of the models the gains come from (every condition uses all of them).
    `pair_gains=None` with `pairs_not_run` (why, and what running them would cost): the pair count is blocked."""
    fam = tuple(g.key for g in guards)
    name = "alignment beats no alignment on >= 6 of 10 pairs [paper 7/10]"
    if pair_gains is None:
        if not pairs_not_run:
            raise ValueError("B-F5a: without pair gains, say why in pairs_not_run")
        pairs = Condition(name, True, blocked=f"pairs not run: {pairs_not_run}")
    else:
        if len(pair_gains) != 10:
            raise ValueError(f"B-F5a: the criterion is over the 10 GLUE pairs, got {len(pair_gains)}")
        pairs = count_over_seeds(name, True, _seed_table(pair_gains, "B-F5a pair_gains"), 6, list(pair_gains),
                                 families=fam)
    return decide("B-F5a", [
        pairs,
        Condition("all five tasks: average score gain", True, t_interval(all_five_gains), 0.0, families=fam),
    ], guards=guards)


def b_f5b(gains: dict[str, Sequence[float]], secondary: dict[str, str] | None = None) -> Verdict:
    """B-F5b. gains[target]: per seed, target accuracy with alignment minus without (SST -> target), five targets,
    the same seeds for each. (core) >= 4 of 5 targets improve (mean over seeds), a count with a bootstrap interval
    over seeds (fewer than 5 seeds: inconclusive); (core) the mean gain over targets has a t-interval over seeds
    above 0."""
    if len(gains) != 5:
        raise ValueError(f"B-F5b: the criterion is over 5 targets, got {len(gains)}")
    table = _seed_table(gains, "B-F5b gains")
    return decide("B-F5b", [
        count_over_seeds(">= 4 of 5 targets improve (mean over seeds) [paper 4/5]", True, table, 4, list(gains)),
        Condition("mean gain over targets", True, t_interval(table.mean(axis=1)), 0.0),
    ], secondary)


def b_f6(stl_capacity: dict[str, int], mtl_size: int, mtl_minus_stl: Sequence[float]) -> Verdict:
    """B-F6. stl_capacity[task]: the hidden size with the best dev score in the sweep; mtl_size: the MTL model's
    best shared size (on dev); mtl_minus_stl: per seed, MTL mean test accuracy - STL mean test accuracy, points.
    (core) mtl_size < the sum of STL capacities; (core) the accuracy difference's lower bound >= -1 point."""
    total = sum(stl_capacity.values())
    return decide("B-F6", [
        _fact("MTL shared size < sum of STL capacities", mtl_size < total, f"{mtl_size} vs {total}"),
        Condition("MTL - STL mean test accuracy (points)", True, t_interval(mtl_minus_stl), -1.0, inclusive=True),
    ])


def b_f7(score_change: dict[str, Sequence[float]], gains: dict[str, Sequence[float]], seed: int = 0) -> Verdict:
    """B-F7 over the task pairs (15 for six tasks). score_change[pair]: per seed, the raw eq. 5 score after minus
    before alignment; gains[pair]: per seed, the accuracy gain from alignment; the same seeds for every pair.
    (core) the score rises on >= 12 of 15 pairs [15/15]; (core) alignment gains on >= 10 of 15 [13/15] (for n
    pairs: 80% and two thirds, rounded up); each a count of per-pair means over seeds with a bootstrap interval over
    seeds (fewer than 5 seeds: inconclusive). Secondary: Spearman(mean score change, mean gain)."""
    if set(score_change) != set(gains) or len(gains) < 3:
        raise ValueError("B-F7: score_change and gains need the same pairs (at least 3)")
    pairs = list(gains)
    n = len(pairs)
    rise = _seed_table({p: score_change[p] for p in pairs}, "B-F7 score_change")
    gain = _seed_table({p: gains[p] for p in pairs}, "B-F7 gains")
    need_rise, need_win = math.ceil(0.8 * n - 1e-9), math.ceil(2 * n / 3 - 1e-9)
    rho = spearman_interval(rise.mean(axis=0), gain.mean(axis=0), seed=seed)
    return decide("B-F7", [
        count_over_seeds(f"raw eq. 5 score rises after alignment on >= {need_rise} of {n} pairs [paper 15/15]", True,
                         rise, need_rise, pairs),
        count_over_seeds(f"alignment gains on >= {need_win} of {n} pairs [paper 13/15]", True, gain, need_win, pairs),
    ], {"Spearman(mean score change, mean gain)": str(rho)})


def b_t1(clean_auc_gains: np.ndarray, secondary: dict[str, str] | None = None) -> Verdict:
    """B-T1. clean_auc_gains: (pairs x seeds) clean-task AUC with SVD weights minus with uniform weights, 20% random
    labels on the other task. (core) >= 20 random pairs; (core) the mean gain > 0, t-interval over the pairs x seeds
    units [paper +2.4]. Pass the clean multi-label comparison [paper +0.4, criterion >= -0.1] in `secondary`."""
    g = np.asarray(clean_auc_gains, float)
    if g.ndim != 2:
        raise ValueError(f"B-T1: gains must be (pairs x seeds), got shape {g.shape}")
    return decide("B-T1", [
        _fact(">= 20 random task pairs", g.shape[0] >= 20, f"{g.shape[0]} pairs x {g.shape[1]} seeds"),
        Condition("SVD weights - uniform, clean-task AUC", True, t_interval(g.ravel()), 0.0, unit="pair x seed units"),
    ], secondary)
