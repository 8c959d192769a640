"""Per-task input alignment R_i of Wu, Zhang & Re (ICLR 2020), Alg. 1.

A d x d matrix R_i per task (identity at init) applied to the embedding layer's output,
Z_i = X_i R_i, before the shared encoder. Alg. 1's schedule (shared module fixed while R_i and the
heads train) is `TrainConfig(alignment=True, freeze_encoder=True)`; the covariance score that
motivates it is `mtlcore.analysis.covariance`.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..tasks import task_key


class AlignmentModule(nn.Module):
    """Per-task alignment matrices R_i (d x d, identity at init) for Wu et al.'s Alg. 1: Z_i = X_i R_i."""

    def __init__(self, tasks: Sequence[str], dim: int):
        super().__init__()
        self._key = task_key
        self.R = nn.ParameterDict({task_key(t): nn.Parameter(torch.eye(dim)) for t in tasks})

    def forward(self, x: torch.Tensor, task: str) -> torch.Tensor:
        """x: (..., d) embedding-layer output of task `task` -> x R_task."""
        return x @ self.R[self._key(task)]


def add_alignment(model) -> AlignmentModule:
    """Attach an `AlignmentModule` to a `MultiTaskModel`; its forward then applies R_task to the output of
    the encoder's embedding layer. At identity init the model's outputs are unchanged."""
    if not hasattr(model.encoder, "embeddings"):
        raise ValueError("alignment needs an encoder with an `embeddings` module (BERT-style)")
    model.alignment = AlignmentModule(model.tasks, model.encoder.config.hidden_size)
    return model.alignment
