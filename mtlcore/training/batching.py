"""Tokenised task data and length-grouped, dynamically padded batches.

`prepare_split` loads, subsets and tokenises the tasks of a config (tasks of one input group once);
`input_units` groups tasks that share their inputs into one training unit.

Texts are tokenised once (no padding); each epoch the examples are shuffled, cut into chunks of
`50 * batch_size`, sorted by length inside each chunk and split into batches, whose order is
shuffled again. Batches are padded to their own longest sequence only, which is where most of the
speed over fixed-length padding comes from. `token_batches` (TrainConfig `batch_tokens`) sizes batches by padded
tokens instead of examples.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..tasks import SPLIT_SEED, DataError, Examples, TaskSpec, get_task, load_task

if TYPE_CHECKING:
    from .config import TrainConfig

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


def _grouped(lengths: np.ndarray, chunk_size: int, cut, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle, cut into chunks of `chunk_size`, sort each chunk longest first, `cut(chunk)` it into batches and
    shuffle the batches: the structure both batchings share (two draws from `rng`, in this order)."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), chunk_size):
        chunk = order[start:start + chunk_size]
        batches += cut(chunk[np.argsort(-lengths[chunk], kind="stable")])
    return [batches[i] for i in rng.permutation(len(batches))]


def length_grouped_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of indices with similar lengths (see module docstring)."""
    return _grouped(lengths, CHUNK * batch_size,
                    lambda chunk: [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)], rng)


def token_batches(lengths: np.ndarray, max_tokens: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled length-grouped batches sized by tokens: each batch's padded size (examples x its longest
    example) is at most `max_tokens` (an example longer than that is a batch of its own). Every example once, as
    `length_grouped_batches`, but short texts make large batches and long ones small: fewer, fuller matrix
    products per epoch. What it changes: the number of optimiser steps per epoch, and each batch's mean loss
    weighs an example by 1 / (its batch's size), so long examples weigh more than with batches of examples."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    typical = max(1, max_tokens // max(1, int(np.median(lengths)) if len(lengths) else 1))

    def cut(chunk: np.ndarray) -> list[np.ndarray]:
        batches, first = [], 0
        while first < len(chunk):   # sorted longest first: a batch's first example is its longest
            size = max(1, max_tokens // max(1, int(lengths[chunk[first]])))
            batches.append(chunk[first:first + size])
            first += size
        return batches

    return _grouped(lengths, CHUNK * typical, cut, rng)


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


def subset(examples: Examples, limit: int | None) -> Examples:
    """The first `limit` examples of a fixed permutation (seed SPLIT_SEED): nested as `limit` grows and the same
    for every run seed, so seeds vary the model, not the data."""
    if limit is None or limit >= len(examples):
        return examples
    order = np.random.default_rng(SPLIT_SEED).permutation(len(examples))
    return examples.subset(np.sort(order[:limit]))


def prepare_data(cfg: TrainConfig, tokenizer) -> tuple[dict, dict]:
    """Load, subset and tokenise train/dev of every task in `cfg` -> ({task: Encoded}, {task: Encoded})."""
    return prepare_split(cfg, tokenizer, "train"), prepare_split(cfg, tokenizer, "dev")


def prepare_split(cfg: TrainConfig, tokenizer, split: str) -> dict:
    """{task: Encoded} of one split for the tasks of `cfg` that have it (train: max_train, else max_eval).

    Tasks of one input group are tokenised once and must hold the same texts (else DataError)."""
    limit = cfg.max_train if split == "train" else cfg.max_eval
    out, shared = {}, {}
    for name in cfg.tasks:
        spec, splits = get_task(name), load_task(name)
        if split not in splits:
            continue
        ex = subset(splits[split], limit)
        first = shared.get(spec.input_group) if spec.input_group else None
        if first is None:
            out[name] = encode(spec, ex, tokenizer, cfg.max_length)
            if spec.input_group:
                shared[spec.input_group] = (name, ex.texts, out[name])
            continue
        other, texts, enc = first
        if texts != ex.texts:
            raise DataError(f"tasks {other} and {name} are in input group {spec.input_group!r} but their {split} "
                            "texts differ; an input group must hold the same texts in the same order")
        out[name] = dataclasses.replace(enc, task=spec, labels=ex.labels)
    return out


def input_units(data: dict, shared: bool = True) -> dict[str, list[str]]:
    """{unit: tasks}: tasks of one input group form one unit (named after the group) when `shared`, else each
    task is its own unit. A unit of several tasks is trained and evaluated from one encoder pass per batch."""
    units: dict[str, list[str]] = {}
    for name, enc in data.items():
        units.setdefault(enc.task.input_group if shared and enc.task.input_group else name, []).append(name)
    return {(tasks[0] if len(tasks) == 1 else unit): tasks for unit, tasks in units.items()}
