"""Task loss weighting: how per-task losses become the one loss that is back-propagated.

A weighting is a small object with `combine(losses) -> loss`; the trainer takes one by composition.
`WEIGHTINGS` maps names (as used in configs) to classes; later methods (uncertainty, GradNorm, the
SVD reweighting of Wu et al. 2020 Alg. 2 via `FixedWeighting`) register here.
"""
from __future__ import annotations

import math
from typing import Mapping, Protocol, Sequence

import torch


class Weighting(Protocol):
    def combine(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor: ...


class EqualWeighting:
    """sum_i L_i: every task counts once (with one task per step this is the plain loss)."""

    def __init__(self, tasks: Sequence[str], **_: object):
        self.tasks = list(tasks)

    def combine(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack(list(losses.values())).sum()

    def weights(self) -> dict[str, float]:
        return {t: 1.0 for t in self.tasks}


class FixedWeighting:
    """sum_i alpha_i L_i with fixed alpha_i (e.g. from `mtlcore.analysis.covariance.svd_task_weights`).

    alpha is rescaled to mean 1 over the tasks so the learning rate keeps its meaning."""

    uses_task_weights = True

    def __init__(self, tasks: Sequence[str], weights: Mapping[str, float] | None = None, normalise: bool = True):
        if weights is None:
            raise ValueError("weighting 'fixed' needs task_weights: {task: alpha}")
        missing = sorted(set(tasks) - set(weights))
        extra = sorted(set(weights) - set(tasks))
        if missing or extra:
            raise ValueError(f"task_weights must name exactly the tasks; missing {missing}, unknown {extra}")
        if not all(math.isfinite(w) and w >= 0 for w in weights.values()):
            raise ValueError(f"task_weights must be finite and >= 0, got {dict(weights)}")
        if not any(w > 0 for w in weights.values()):
            raise ValueError(f"task_weights must not all be zero, got {dict(weights)}")
        total = sum(weights[t] for t in tasks)
        scale = len(tasks) / total if normalise and total > 0 else 1.0
        self.alpha = {t: float(weights[t]) * scale for t in tasks}

    def combine(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.alpha[t] * loss for t, loss in losses.items()]).sum()

    def weights(self) -> dict[str, float]:
        return dict(self.alpha)


WEIGHTINGS = {"equal": EqualWeighting, "fixed": FixedWeighting}


def make_weighting(name: str, tasks: Sequence[str], weights: Mapping[str, float] | None = None) -> Weighting:
    """Build the weighting called `name` for `tasks`."""
    if name not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {name!r}; known: {sorted(WEIGHTINGS)}")
    return WEIGHTINGS[name](tasks, weights=weights)
