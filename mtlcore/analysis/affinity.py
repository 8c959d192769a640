"""Task affinity: which tasks help each other, and the grouping of tasks that this predicts.

- `lookahead_affinity`: the inter-task affinity of Fifty et al. 2021 (TAG, "Efficiently Identifying Task
  Groupings for Multi-Task Learning"): after one gradient step on task i's loss on the shared parameters,

      Z_{i->j} = 1 - L_j(theta_s - lr * grad_s L_i) / L_j(theta_s),

  on the same batches; positive: a step on i lowers j's loss. Averaged over the records of a training run.
- `combine_signals`: pairwise signals of different scales (look-ahead affinity, gradient cosine, CKA between
  single-task models, covariance similarity) put on one scale: each signal's values over the pairs are
  standardised (mean 0, sd 1) and the standardised signals averaged; a signal whose spread over the pairs is
  below its stated floor (`SIGNAL_FLOORS`: too flat to rank pairs, e.g. the CKA of barely trained probes) adds
  nothing and is named. 0 is the average pair of this task set, not "no transfer": the combination RANKS pairs;
  it cannot say whether any pair helps, so it does not decide the grouping.
- `best_grouping`: the partition of the tasks into at most `max_groups` groups with the largest total
  affinity, the sum over ordered pairs (i onto j) within each group (a task alone adds 0: its single-task
  model), on a signal whose 0 means "no transfer" (the advisor uses the look-ahead affinity, as TAG does; TAG
  averages over a group's members where we sum, so that a larger group of tasks that help each other beats
  splitting it, and a task that neither helps nor is helped stays alone). Ties go to MORE groups: tasks share a
  model only where that is predicted to help. Exhaustive over all set partitions up to `EXHAUSTIVE_TASKS` tasks; beyond, a stated heuristic: greedy
  merging of the two groups whose union gains most, then single-task moves between groups until none improves
  the total.
"""
from __future__ import annotations

import itertools
from typing import Iterator, Mapping, Sequence

import numpy as np
import torch

from .gradients import _same_inputs, task_gradients

EXHAUSTIVE_TASKS = 9   # Bell(9) = 21,147 partitions (about a second); beyond, the heuristic


def _losses(model, batch_per_task: Mapping[str, dict]) -> dict[str, float]:
    """Each task's loss on its batch (no gradients; tasks with the same inputs share one forward pass)."""
    out = {}
    shared = hasattr(model, "forward_tasks") and getattr(model, "alignment", None) is None
    with torch.no_grad():
        for unit in _same_inputs(batch_per_task, shared):
            inputs = {k: v for k, v in batch_per_task[unit[0]].items() if k != "labels"}
            logits = (model.forward_tasks(unit, **inputs) if len(unit) > 1
                      else {unit[0]: model(task=unit[0], **inputs).logits})
            for task in unit:
                out[task] = float(model.loss(task, logits[task], batch_per_task[task]["labels"]))
    return out


def lookahead_affinity(model, batch_per_task: Mapping[str, dict], lr: float, gradients=None) -> np.ndarray:
    """(k x k) Z with Z[i, j] = Z_{i->j} for the tasks of `batch_per_task` in its order (the diagonal is task
    i's own look-ahead). One plain gradient step of size `lr` on the shared parameters only (the heads stay):
    the look-ahead of Fifty et al. 2021. `gradients`: `task_gradients(model, batch_per_task)` if already
    computed. The model's parameters are restored exactly afterwards. A task whose loss is 0 gets Z 0."""
    if lr <= 0:
        raise ValueError(f"lookahead_affinity: lr must be > 0, got {lr}")
    tasks = list(batch_per_task)
    _, params, grads = gradients or task_gradients(model, batch_per_task)
    before = _losses(model, batch_per_task)
    saved = [p.detach().clone() for p in params]
    z = np.zeros((len(tasks), len(tasks)))
    try:
        for i, task in enumerate(tasks):
            with torch.no_grad():
                for p, g in zip(params, grads[task]):
                    p.sub_(lr * g)
            after = _losses(model, batch_per_task)
            with torch.no_grad():
                for p, s in zip(params, saved):
                    p.copy_(s)
            z[i] = [1 - after[t] / before[t] if before[t] > 0 else 0.0 for t in tasks]
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
    return z


def symmetric(matrix: np.ndarray) -> np.ndarray:
    """(A + A^T) / 2: a directed affinity (i onto j) as one value per unordered pair."""
    a = np.asarray(matrix, dtype=float)
    return (a + a.T) / 2


# below this spread over the pairs (sd, on the signal's own 0-1 or -1..1 scale) a signal cannot rank pairs and is
# left out of the combination (fixed with the advisor, before its validation ran)
SIGNAL_FLOORS = {"gradient_cosine": 0.01, "cka": 0.01, "covariance": 0.01}


def combine_signals(signals: Mapping[str, np.ndarray], floors: Mapping[str, float] | None = None
                    ) -> tuple[np.ndarray, list[str]]:
    """(combined, used): the mean of the signals (k x k, symmetrised; higher = more affinity), each standardised
    over the pairs i < j first, and the names of the signals that entered it. A signal whose sd over the pairs is
    below its floor (`floors`, default SIGNAL_FLOORS; 0 for signals not named) is left out (with fewer than 2
    pairs every signal is). NaN entries are left out of their pair's mean; no usable signal gives zeros."""
    if not signals:
        raise ValueError("combine_signals: no signals")
    floors = SIGNAL_FLOORS if floors is None else floors
    k = next(iter(signals.values())).shape[0]
    iu = np.triu_indices(k, 1)
    parts, used = [], []
    for name, m in signals.items():
        m = np.asarray(m, dtype=float)
        if m.shape != (k, k):
            raise ValueError(f"combine_signals: signal {name!r} is {m.shape}, expected ({k}, {k})")
        v = symmetric(m)[iu]
        finite = v[np.isfinite(v)]
        sd = finite.std() if finite.size > 1 else 0.0
        if sd > 0 and sd >= floors.get(name, 0.0):
            parts.append((v - finite.mean()) / sd)
            used.append(name)
    out = np.zeros((k, k))
    if parts:
        with np.errstate(invalid="ignore"):
            out[iu] = np.nan_to_num(np.nanmean(np.vstack(parts), axis=0))
    return out + out.T, used


def grouping_score(affinity: np.ndarray, groups: Sequence[Sequence[int]]) -> float:
    """The sum over groups of the affinities `affinity[i, j]` (i onto j) of every ordered pair i != j within it."""
    a = np.asarray(affinity, dtype=float)
    return float(sum(a[i, j] for g in groups for i in g for j in g if i != j))


def set_partitions(items: Sequence[int], max_groups: int) -> Iterator[list[list[int]]]:
    """Every partition of `items` into at most `max_groups` non-empty groups (each once)."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest, max_groups):
        for i in range(len(part)):   # `first` joins an existing group
            yield part[:i] + [[first, *part[i]]] + part[i + 1:]
        if len(part) < max_groups:   # or starts its own
            yield [[first], *part]


def best_grouping(affinity: np.ndarray, max_groups: int | None = None) -> tuple[list[list[int]], float, str]:
    """(groups, score, method): the partition of range(k) into at most `max_groups` groups (default k: any
    number) maximising `grouping_score`. Exhaustive up to EXHAUSTIVE_TASKS tasks, else greedy merging then
    single-task moves (method says which). Ties go to more groups (no sharing without a predicted gain), then to
    the first found."""
    a = np.asarray(affinity, dtype=float)
    k = a.shape[0]
    if a.shape != (k, k) or k == 0:
        raise ValueError(f"best_grouping: affinity must be a square matrix, got shape {a.shape}")
    g = k if max_groups is None else max_groups
    if g < 1:
        raise ValueError(f"best_grouping: max_groups must be >= 1, got {max_groups}")
    if k <= EXHAUSTIVE_TASKS:
        best, best_key = None, None
        for part in set_partitions(range(k), g):
            key = (round(grouping_score(a, part), 12), len(part))
            if best_key is None or key > best_key:
                best, best_key = part, key
        return _canonical(best), grouping_score(a, best), "exhaustive"
    return _greedy(a, g)


def _canonical(groups: list[list[int]]) -> list[list[int]]:
    return sorted((sorted(x) for x in groups), key=lambda x: x[0])


def _greedy(a: np.ndarray, max_groups: int) -> tuple[list[list[int]], float, str]:
    groups: list[list[int]] = [[i] for i in range(a.shape[0])]
    while True:   # merge the pair of groups whose union gains most (forced while there are too many groups)
        best, gain = None, -np.inf
        for x, y in itertools.combinations(range(len(groups)), 2):
            trial = [g for n, g in enumerate(groups) if n not in (x, y)] + [groups[x] + groups[y]]
            d = grouping_score(a, trial) - grouping_score(a, groups)
            if d > gain:
                best, gain = trial, d
        if best is None or (gain <= 1e-12 and len(groups) <= max_groups):   # merge only for a gain (or if forced)
            break
        groups = best
    improved = True
    while improved:   # move one task to another group while that raises the total
        improved = False
        for t in range(a.shape[0]):
            src = next(n for n, g in enumerate(groups) if t in g)
            for dst in range(len(groups)):
                if dst == src:
                    continue
                trial = [list(g) for g in groups]
                trial[src].remove(t)
                trial[dst].append(t)
                trial = [g for g in trial if g]
                if grouping_score(a, trial) > grouping_score(a, groups) + 1e-12:
                    groups, improved = trial, True
                    break
    return _canonical(groups), grouping_score(a, groups), "greedy merge + moves"
