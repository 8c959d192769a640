"""Task loss weighting: how per-task losses become the one loss that is back-propagated.

A weighting is a small object with `combine(losses) -> loss`; the trainer takes one by composition.
`WEIGHTINGS` maps names (as used in configs) to classes; later methods (uncertainty, GradNorm, the
SVD reweighting of Wu et al. 2020 Alg. 2 via `FixedWeighting`) register here. `class_weights` weighs the
classes within one classification task's loss (config `class_weights`).
"""
from __future__ import annotations

import math
from typing import Mapping, Protocol, Sequence

import numpy as np
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


def class_weights(labels: np.ndarray, n_classes: int, how: str) -> torch.Tensor | None:
    """Per-class loss weights of a classification task from its training labels, or None for `how='none'`.

    `balanced`: w_c = n / (C n_c) (scikit-learn's "balanced"); `inv_sqrt`: w_c proportional to n_c^(-1/2).
    Both are scaled so that the mean weight of the training examples is 1 (sum_c n_c w_c = n), so the loss
    keeps its scale and only its balance changes; a class with no training example gets weight 0 (it never
    appears as a label, and 0 keeps the normalisation exact).
    """
    if how == "none":
        return None
    if how not in ("balanced", "inv_sqrt"):
        raise ValueError(f"class_weights must be none, balanced or inv_sqrt, got {how!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"class_weights: expected a non-empty vector of class ids, got shape {labels.shape}")
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes).astype(np.float64)
    if len(counts) > n_classes:
        raise ValueError(f"class_weights: label {int(labels.max())} is out of range for {n_classes} classes")
    present = counts > 0
    raw = np.zeros(n_classes)
    raw[present] = 1.0 / counts[present] if how == "balanced" else counts[present] ** -0.5
    raw *= len(labels) / float((counts * raw).sum())
    return torch.tensor(raw, dtype=torch.float32)
