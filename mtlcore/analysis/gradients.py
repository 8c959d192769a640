"""Task-gradient alignment on the shared encoder (Paper A, A-F3).

For tasks 1..k with losses L_i on a batch of each, g_i = dL_i/d(theta_shared) and the k x k cosine
matrix is the normalised Gram matrix

    C_ij = <g_i, g_j> / (||g_i|| ||g_j||),

computed for all shared parameters ("overall") and for each layer group (embeddings, layer_1 ..
layer_L, numbered like the hidden states that CKA compares: hidden state i is layer_i's output): the overall Gram matrix is the sum of the groups' Gram matrices. Positive C_ij: a
step on task i also lowers task j's loss (to first order); negative: the tasks pull apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import torch

_LAYER = re.compile(r"(?:^|\.)layers?\.(\d+)\.")


def layer_group(name: str) -> str:
    """Shared-parameter name -> 'embeddings', 'layer_<i>' (1-based: the i-th transformer block, whose output is
    hidden state i) or 'other' (e.g. a final LayerNorm)."""
    if "embeddings" in name:
        return "embeddings"
    m = _LAYER.search(name)
    return f"layer_{int(m.group(1)) + 1}" if m else "other"


@dataclass
class GradientCosines:
    """tasks: the k task names; overall: (k x k) cosines; per_layer: {group: (k x k)}; norms: {task: ||g||}."""

    tasks: list[str]
    overall: np.ndarray
    per_layer: dict[str, np.ndarray] = field(default_factory=dict)
    norms: dict[str, float] = field(default_factory=dict)

    def tidy(self, step: int | None = None) -> pd.DataFrame:
        """Long table: (step,) layer, task_i, task_j, cosine; one row per unordered pair i < j per group."""
        rows = []
        for layer, mat in [("overall", self.overall), *self.per_layer.items()]:
            for i in range(len(self.tasks)):
                for j in range(i + 1, len(self.tasks)):
                    rows.append({"layer": layer, "task_i": self.tasks[i], "task_j": self.tasks[j],
                                 "cosine": float(mat[i, j])})
        frame = pd.DataFrame(rows)
        if step is not None:
            frame.insert(0, "step", step)
        return frame


def _cosine(gram: torch.Tensor) -> np.ndarray:
    norms = gram.diagonal().clamp_min(0).sqrt()
    denom = torch.outer(norms, norms)
    cos = torch.where(denom > 0, gram / denom.clamp_min(1e-300), torch.zeros_like(gram))
    return cos.cpu().numpy()


def task_gradients(model, batch_per_task: Mapping[str, dict], share_inputs: bool = True
                   ) -> tuple[list[str], list[torch.Tensor], dict[str, list[torch.Tensor]]]:
    """(names, params, {task: [dL_task/dp for p in params]}) on `model`'s shared encoder parameters.

    Tasks whose batches hold the same inputs (an input group: the lumbar pathologies of one level text) share
    ONE forward pass, and each task's gradient is one backward pass over that shared graph (torch.autograd.grad
    with retain_graph); other tasks get a forward + backward each. .grad of the model is untouched; only the k
    gradients are held, no copy of the model. Dropout follows the model's train/eval mode (with dropout on, a
    shared pass gives the tasks one dropout mask; `share_inputs=False` gives each task its own pass)."""
    names, params = zip(*model.shared_parameters())
    by_task: dict[str, list[torch.Tensor]] = {}
    shared = share_inputs and hasattr(model, "forward_tasks") and getattr(model, "alignment", None) is None
    for unit in _same_inputs(batch_per_task, shared):
        inputs = {k: v for k, v in batch_per_task[unit[0]].items() if k != "labels"}
        logits = (model.forward_tasks(unit, **inputs) if len(unit) > 1
                  else {unit[0]: model(task=unit[0], **inputs).logits})
        for i, task in enumerate(unit):
            loss = model.loss(task, logits[task], batch_per_task[task]["labels"])
            g = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=i < len(unit) - 1)
            by_task[task] = [torch.zeros_like(p) if gi is None else gi.detach() for gi, p in zip(g, params)]
    return list(names), list(params), {t: by_task[t] for t in batch_per_task}


def task_gradient_cosines(model, batch_per_task: Mapping[str, dict], per_layer: bool = True,
                          share_inputs: bool = True, gradients=None) -> GradientCosines:
    """Cosines between per-task loss gradients on `model`'s shared encoder parameters.

    model: a `MultiTaskModel`. batch_per_task: {task: collated batch with labels}, on the model's device. The
    gradients are `task_gradients(model, batch_per_task, share_inputs)` unless given (`gradients`: its result).
    """
    names, params, by_task = gradients or task_gradients(model, batch_per_task, share_inputs)
    groups = [layer_group(n) for n in names]
    tasks = list(batch_per_task)
    grads = [by_task[t] for t in tasks]
    k = len(tasks)
    keys = sorted(set(groups), key=_group_order)
    grams = {key: torch.zeros(k, k, dtype=torch.float64, device=params[0].device) for key in keys}
    for idx, key in enumerate(groups):
        flat = _stacked([grads[t][idx] for t in range(k)])
        grams[key] += flat @ flat.T
    overall = sum(grams.values())
    return GradientCosines(tasks, _cosine(overall), {key: _cosine(g) for key, g in grams.items()} if per_layer else {},
                           {t: float(overall[i, i].sqrt()) for i, t in enumerate(tasks)})


def _stacked(grads: list[torch.Tensor]) -> torch.Tensor:
    """(k, n) float64 rows of k gradients of one parameter. An embedding table (a matrix of > 4096 rows) keeps only
    the rows some task's gradient touches (the batch's tokens; the others are 0 for every task and add nothing to
    the Gram matrix): for MiniLM's 30522 x 384 word embeddings this is most of a record's Gram time."""
    if grads[0].ndim == 2 and grads[0].shape[0] > 4096:
        rows = torch.stack([g.abs().sum(1) for g in grads]).sum(0).nonzero().squeeze(1)
        grads = [g.index_select(0, rows) for g in grads]
    return torch.stack([g.reshape(-1).to(torch.float64) for g in grads])


def _same_inputs(batches: Mapping[str, dict], shared: bool = True) -> list[list[str]]:
    """Tasks grouped by identical input tensors (one forward pass each group); singletons when not `shared`."""
    units: list[list[str]] = []
    for task, batch in batches.items():
        for unit in units if shared else ():
            first = batches[unit[0]]
            if first.keys() == batch.keys() and all(torch.equal(first[k], batch[k]) for k in batch if k != "labels"):
                unit.append(task)
                break
        else:
            units.append([task])
    return units


def _group_order(key: str) -> tuple[int, int]:
    if key == "embeddings":
        return (0, 0)
    if key.startswith("layer_"):
        return (1, int(key.split("_")[1]))
    return (2, 0)
