"""Tokenised task data and length-grouped, dynamically padded batches.

Texts are tokenised once (no padding); each epoch the examples are shuffled, cut into chunks of
`50 * batch_size`, sorted by length inside each chunk and split into batches, whose order is
shuffled again. Batches are padded to their own longest sequence only, which is where most of the
speed over fixed-length padding comes from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .tasks import Examples, TaskSpec

CHUNK = 50


@dataclass
class Encoded:
    """One task split, tokenised: token ids per example (lists of ints) and labels."""

    task: TaskSpec
    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.input_ids), dtype=np.int64, count=len(self.input_ids))


def encode(task: TaskSpec, examples: Examples, tokenizer, max_length: int) -> Encoded:
    """Tokenise `examples` (single sentences or pairs) with truncation to `max_length` tokens."""
    columns = list(zip(*examples.texts))
    enc = tokenizer(*[list(c) for c in columns], truncation=True, max_length=max_length, padding=False)
    tt = enc.get("token_type_ids")
    return Encoded(task, enc["input_ids"], tt, examples.labels)


def collate(data: Encoded, index: np.ndarray, pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pad the examples `index` of `data` to their longest length -> model inputs + labels."""
    seqs = [data.input_ids[i] for i in index]
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, :len(s)] = torch.as_tensor(s)
        mask[row, :len(s)] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if data.token_type_ids is not None:
        tt = torch.zeros_like(ids)
        for row, i in enumerate(index):
            t = data.token_type_ids[i]
            tt[row, :len(t)] = torch.as_tensor(t)
        batch["token_type_ids"] = tt
    batch["labels"] = collate_labels(data, index)
    return batch


def collate_labels(data: Encoded, index: np.ndarray) -> torch.Tensor:
    """The labels of examples `index` (float for regression / multi-label targets, long for class ids)."""
    labels = torch.as_tensor(data.labels[index])
    return labels.float() if labels.dtype.is_floating_point else labels


def length_grouped_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of indices with similar lengths (see module docstring)."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), CHUNK * batch_size):
        chunk = order[start:start + CHUNK * batch_size]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def sequential_batches(n: int, batch_size: int, lengths: np.ndarray | None = None) -> list[np.ndarray]:
    """Deterministic evaluation batches (sorted by length when given, to pad less)."""
    order = np.argsort(-lengths, kind="stable") if lengths is not None else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def task_schedule(n_batches: dict[str, int], sampling: str, temperature: float,
                  rng: np.random.Generator) -> list[str]:
    """The task of each step of one epoch (sum_i n_i steps).

    proportional: every task's batches exactly once, in a random interleaving. uniform / temperature:
    task i drawn with probability p_i ~ n_i^(1/T) (T = inf for uniform); a task that runs out of
    batches starts a fresh pass over its data."""
    tasks = list(n_batches)
    total = sum(n_batches.values())
    if sampling == "proportional" or len(tasks) == 1:
        plan = np.repeat(np.arange(len(tasks)), [n_batches[t] for t in tasks])
        return [tasks[i] for i in rng.permutation(plan)]
    power = 0.0 if sampling == "uniform" else 1.0 / temperature
    p = np.array([n_batches[t] ** power for t in tasks], dtype=float)
    return [tasks[i] for i in rng.choice(len(tasks), size=total, p=p / p.sum())]
