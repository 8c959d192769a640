"""Training callbacks: the hooks `Trainer.fit` calls, and the gradient-alignment recorder of A-F3.

`Callback` is the interface (every hook a no-op); `GradientCosineCallback` records
`mtlcore.analysis.gradients.task_gradient_cosines` every N optimiser steps of an MTL run.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._io import atomic_write_csv
from ..analysis.gradients import task_gradient_cosines

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Hooks called by `Trainer.fit`; override what you need (all are no-ops here).

    A callback that records something across the run returns it from `state_dict` (picklable); it is
    saved with each epoch's checkpoint and handed back to `load_state_dict` on resume."""

    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_step_end(self, trainer: "Trainer", step: int, task: str, loss: float) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: dict) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...
    def state_dict(self) -> dict | None: return None
    def load_state_dict(self, state: dict) -> None: ...


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
