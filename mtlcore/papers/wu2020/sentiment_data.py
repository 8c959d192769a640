"""The data of Wu, Zhang & Re's sentiment setting: splits with a test set, word pieces, the word-vector table.

    splits = sentiment_splits("senteval/mr")                     # {"train", "dev", "test"}: Examples
    data = task_data("senteval/mr", "minilm-l6", max_len=50, max_train=500, max_eval=None)   # Encoded per split
    table = embedding_table("minilm-l6")                         # V x d word vectors

Splits (`sentiment_splits`): the paper reports test accuracy. SST has official dev and test sets; for the other
five the registry's held-out split (TREC: the official TREC-10 test; MR, CR, SUBJ, MPQA: the registry's seeded
10%) is the test set and a stratified 10% of the registry's train split (seed `SPLIT_SEED`) is the dev set that
selects the epoch. Numbers are on test; dev only selects.

Word vectors: the paper uses GloVe, which is not available offline; `embedding_table` is the input embedding
table of the configured encoder (MiniLM-L6 by default: 30522 WordPiece vectors of width 384), looked up for the
encoder tokenizer's word pieces (`encode`). The models are `mtlcore.papers.wu2020.sentiment`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ...tasks import Examples, get_task, load_task
from ...tasks.readers import read_glue_tsv
from ...tasks.registry import data_root, dev_as_test
from ...training.batching import subset

SENTIMENT_TASKS = ("senteval/sst", "senteval/mr", "senteval/cr", "senteval/subj", "senteval/mpqa", "senteval/trec")


def SST_TEST():  # noqa: N802 - a path, resolved when called (MTLCORE_DATA may change)
    return data_root() / "senteval/SST/binary/sentiment-test"


def sentiment_splits(task: str) -> dict[str, Examples]:
    """train / dev / test of a sentiment task (module docstring): SST official dev and test; the others' registry
    held-out split is test and a stratified 10% of the registry's train split is dev."""
    spec = get_task(task)
    if spec.kind != "classification" or len(spec.text_fields) != 1:
        raise ValueError(f"sentiment models take single-sentence classification tasks; {task} is "
                         f"{spec.kind} with fields {spec.text_fields}")
    splits = load_task(task)
    if task == "senteval/sst":
        test = read_glue_tsv(SST_TEST(), [0], 1, spec.label_names, header=False, n_columns=2)
        return {"train": splits["train"], "dev": splits["dev"], "test": test}
    return dev_as_test(splits)


@functools.lru_cache(maxsize=4)
def _tokenizer(encoder: str):
    from ...training.encoders import load_tokenizer

    return load_tokenizer(encoder)


@functools.lru_cache(maxsize=2)
def embedding_table(encoder: str) -> torch.Tensor:
    """The encoder's input (word-piece) embedding table, V x d, detached."""
    from ...training.encoders import load_encoder

    model, _ = load_encoder(encoder)
    emb = model.get_input_embeddings()
    return emb.weight.detach().clone()


@dataclass
class Encoded:
    ids: torch.Tensor        # n x max_len word-piece ids, 0-padded (rows are non-empty)
    lengths: torch.Tensor    # n
    labels: torch.Tensor     # n

    def __len__(self) -> int:
        return len(self.labels)


def encode(texts: Sequence[str], labels: np.ndarray, encoder: str, max_len: int, where: str = "") -> Encoded:
    """Word-piece ids of each text (no special tokens), truncated to `max_len`; an empty text raises naming `where`."""
    tok = _tokenizer(encoder)
    pieces = tok(list(texts), add_special_tokens=False, truncation=True, max_length=max_len)["input_ids"]
    empty = [i for i, p in enumerate(pieces) if not p]
    if empty:
        raise ValueError(f"{where}: {len(empty)} text(s) have no word pieces (first at row {empty[0]})")
    ids = torch.zeros(len(pieces), max_len, dtype=torch.long)
    for i, p in enumerate(pieces):
        ids[i, :len(p)] = torch.tensor(p)
    lengths = torch.tensor([len(p) for p in pieces])
    return Encoded(ids, lengths, torch.as_tensor(np.asarray(labels), dtype=torch.long))


def task_data(task: str, encoder: str, max_len: int, max_train: int | None, max_eval: int | None) -> dict[str, Encoded]:
    """The encoded train / dev / test splits of `task` (fixed seeded subsets when capped), memoised per loaded
    data (a task registered again is encoded again)."""
    return _task_data(task, id(load_task(task)), encoder, max_len, max_train, max_eval)


@functools.lru_cache(maxsize=64)
def _task_data(task: str, loaded: int, encoder: str, max_len: int, max_train: int | None,
               max_eval: int | None) -> dict[str, Encoded]:
    out = {}
    for split, ex in sentiment_splits(task).items():
        ex = subset(ex, max_train if split == "train" else max_eval)
        out[split] = encode([t[0] for t in ex.texts], ex.labels, encoder, max_len, where=f"{task} {split}")
    return out
