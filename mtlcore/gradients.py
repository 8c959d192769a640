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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import torch

from ._io import atomic_write_csv
from .trainer import Callback

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


def task_gradient_cosines(model, batch_per_task: Mapping[str, dict], per_layer: bool = True) -> GradientCosines:
    """Cosines between per-task loss gradients on `model`'s shared encoder parameters.

    model: a `MultiTaskModel`. batch_per_task: {task: collated batch with labels}, on the model's device.
    One forward + backward per task (torch.autograd.grad, so .grad of the model is untouched); only the
    k gradient vectors are held, no copy of the model. Dropout follows the model's train/eval mode.
    """
    names, params = zip(*model.shared_parameters())
    groups = [layer_group(n) for n in names]
    tasks = list(batch_per_task)
    grads: list[list[torch.Tensor]] = []
    for task in tasks:
        batch = batch_per_task[task]
        out = model(task=task, **{k: v for k, v in batch.items() if k != "labels"})
        loss = model.loss(task, out.logits, batch["labels"])
        g = torch.autograd.grad(loss, params, allow_unused=True)
        grads.append([torch.zeros_like(p) if gi is None else gi.detach() for gi, p in zip(g, params)])
    k = len(tasks)
    keys = sorted(set(groups), key=_group_order)
    grams = {key: torch.zeros(k, k, dtype=torch.float64, device=params[0].device) for key in keys}
    for idx, key in enumerate(groups):
        flat = torch.stack([grads[t][idx].reshape(-1).to(torch.float64) for t in range(k)])
        grams[key] += flat @ flat.T
    overall = sum(grams.values())
    return GradientCosines(tasks, _cosine(overall), {key: _cosine(g) for key, g in grams.items()} if per_layer else {},
                           {t: float(overall[i, i].sqrt()) for i, t in enumerate(tasks)})


def _group_order(key: str) -> tuple[int, int]:
    if key == "embeddings":
        return (0, 0)
    if key.startswith("layer_"):
        return (1, int(key.split("_")[1]))
    return (2, 0)


class GradientCosineCallback(Callback):
    """Records `task_gradient_cosines` every `every` steps of MTL training (and at step 0).

    Each record draws a fresh batch of `batch_size` examples per task (default: the training batch
    size) from its own RNG, so the training run's numbers are unchanged, and evaluates gradients
    with dropout off. The tidy table
    (step, layer, task_i, task_j, cosine) is written to `<run>/gradient_cosines.csv` after every epoch;
    `overhead` is the fraction of the run's wall time spent here. The rows are part of the epoch
    checkpoint (`state_dict`), so a resumed run keeps the rows logged before the interruption.
    """

    def __init__(self, every: int = 50, batch_size: int | None = None, path: str | Path | None = None, verbose: bool = True):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every, self.batch_size, self.path, self.verbose = every, batch_size, path, verbose
        self.frames: list[pd.DataFrame] = []
        self.seconds = 0.0
        self._t0 = 0.0

    @property
    def table(self) -> pd.DataFrame:
        return pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame(
            columns=["step", "layer", "task_i", "task_j", "cosine"])

    @property
    def overhead(self) -> float:
        total = time.perf_counter() - self._t0
        return self.seconds / total if total > 0 else 0.0

    def state_dict(self) -> dict:
        return {"rows": self.table.to_dict("records")}

    def load_state_dict(self, state: dict) -> None:
        self.frames = [pd.DataFrame(state["rows"], columns=["step", "layer", "task_i", "task_j", "cosine"])]

    def record(self, trainer, step: int) -> None:
        t0 = time.perf_counter()
        model = trainer.model
        was_training = model.training
        model.eval()
        batches = {t: trainer.sample_batch(t, self.batch_size, seed=step) for t in trainer.train_data}
        self.frames.append(task_gradient_cosines(model, batches).tidy(step))
        model.train(was_training)
        self.seconds += time.perf_counter() - t0

    def _target(self, trainer) -> Path | None:
        if not trainer.dist.is_main:  # under torchrun every rank computes the same records; rank 0 writes them
            return None
        if self.path is not None:
            return Path(self.path)
        return trainer.folder / "gradient_cosines.csv" if trainer.folder is not None else None

    def on_train_begin(self, trainer) -> None:
        self._t0 = time.perf_counter()
        if len(trainer.train_data) > 1 and trainer.step == 0:
            self.record(trainer, 0)

    def on_step_end(self, trainer, step: int, task: str, loss: float) -> None:
        if step % self.every == 0 and len(trainer.train_data) > 1:
            self.record(trainer, step)

    def on_epoch_end(self, trainer, epoch: int, metrics: dict) -> None:
        target = self._target(trainer)
        if target is not None and self.frames:
            atomic_write_csv(target, self.table)

    def on_train_end(self, trainer) -> None:
        self.on_epoch_end(trainer, -1, {})
        if self.verbose and self.frames and trainer.dist.is_main:
            print(f"gradient-cosine callback: {len(self.frames)} records every {self.every} steps, "
                  f"{self.seconds:.1f}s = {100 * self.overhead:.1f}% of the run's time")
