"""Wu, Zhang & Ré's sentiment setting (Sec. 3, Figs. 5b, 6, 7): word embeddings -> a shared module -> a head per task.

    cfg = SentimentConfig(tasks=("senteval/sst", "senteval/mr"), module="lstm", hidden=100)
    result = train_sentiment(cfg)                  # {"dev": {task: acc}, "test": {task: acc}, ...}
    pair = alignment_pair(cfg, phase2_epochs=4)    # Alg. 1 with vs without R on one MTL model
    moved = transfer(source_cfg, target_cfg, aligned=True)  # an STL source model fine-tuned on the target

The paper uses GloVe vectors and an LSTM (also an MLP and a CNN). GloVe is not available offline, so the
word vectors are initialised from the input embedding table of the configured encoder (MiniLM-L6 by default:
30522 WordPiece vectors of width 384), looked up for the encoder tokenizer's word pieces. As in the paper (its
Sec. 3.3 reads the covariance off "the single-task model's embedding"), the word vectors are trained in every arm
(`train_vectors=True`, lazy Adam on the rows a batch uses: `torch.optim.SparseAdam`); `train_vectors=False` keeps
them frozen, a labelled variant in which Alg. 1's R_i is the only thing that can move a task's inputs.

Device: `SentimentConfig.device` ("cpu", "cuda", or "auto" = CUDA when available); the cache key holds the
resolved device and, on the CPU, the numerics settings that change results across CPUs (`numerics`).

Data (splits with a test set, word pieces, the word-vector table): `mtlcore.papers.wu2020.sentiment_data`.

Modules (`SharedModule`): `lstm` (one-layer LSTM, its last hidden state; the paper's Lei et al. 2018 SRU cell is
replaced by torch's standard LSTM), `mlp` (mean of the word vectors -> linear -> ReLU) and `cnn` (width-3
convolution -> ReLU -> max over time); `hidden` is the capacity (the LSTM's output dimension).

Alg. 1 (`alignment_pair`): phase 1 trains the word vectors, the shared module and the heads on all tasks; phase 2
fixes the shared module and trains, from the same phase-1 state and heads, either R_i and A_i (with alignment) or
A_i alone (without: R stays the identity, which is the model without the module, see the tests), and in both arms
the word vectors when they are trainable, so that R is not the only way to adapt the inputs. Both arms use the same
optimiser settings and epochs and select their epoch on dev.
"""
from __future__ import annotations

import copy
import functools
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ...progress import tqdm

from ..._io import set_seed
from ...analysis.covariance import covariance_similarity, spectral_factor
from ...tasks import get_task, task_key
from ...training.alignment import AlignmentModule
from .sentiment_data import SENTIMENT_TASKS, SST_TEST, Encoded, embedding_table, task_data

CODE = ("papers.wu2020.sentiment",)   # its numbers depend on this module and what it imports (`code_version`)
MODULES = ("lstm", "mlp", "cnn")


@dataclass(frozen=True)
class SentimentConfig:
    """One sentiment model: `tasks` (one = STL, several = MTL with a shared module), the module and its capacity."""

    tasks: tuple[str, ...] = SENTIMENT_TASKS
    module: str = "lstm"
    hidden: int = 100
    epochs: int = 8
    batch_size: int = 32
    lr: float = 1e-3
    max_train: int | None = 2000     # training examples per task (a fixed seeded subset; None = all)
    max_eval: int | None = None      # dev and test examples per task (a fixed seeded subset; None = all)
    max_len: int = 50                # word pieces per sentence
    seed: int = 0
    encoder: str = "minilm-l6"
    train_vectors: bool = True       # the word vectors are trained (the paper); False: frozen (a labelled variant)
    device: str = "cpu"              # "cpu", "cuda" or "auto" (CUDA when available)
    progress: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        if not self.tasks:
            raise ValueError("SentimentConfig.tasks: name at least one task")
        for t in self.tasks:
            get_task(t)  # unknown names raise with the closest matches
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"SentimentConfig.tasks: duplicate task names in {self.tasks}")
        if self.module not in MODULES:
            raise ValueError(f"SentimentConfig.module must be one of {MODULES}, got {self.module!r}")
        for name in ("hidden", "epochs", "batch_size", "max_len"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"SentimentConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_train", "max_eval"):
            v = getattr(self, name)
            if v is not None and int(v) < 1:
                raise ValueError(f"SentimentConfig.{name} must be >= 1 or None, got {v}")
        if not self.lr > 0:
            raise ValueError(f"SentimentConfig.lr must be > 0, got {self.lr}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"SentimentConfig.device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("SentimentConfig.device='cuda' but torch sees no CUDA device (use 'auto' or 'cpu')")

    def replace(self, **changes) -> "SentimentConfig":
        return replace(self, **changes)

    @property
    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("progress")
        d["tasks"] = list(self.tasks)
        d["device"] = self.torch_device.type        # what ran, not what was asked for
        return d


NUMERICS_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def numerics() -> dict[str, str]:
    """The environment settings that pick CPU kernels (and so the last bits of every sum): PyTorch's vector ISA,
    MKL's conditional numerical reproducibility branch and oneDNN's ISA cap. `make reproduce` pins them for the
    sentiment notebooks (`mtlcore.reporting.pipeline.PORTABLE_NUMERICS`) so that CPUs of different ISAs take the
    same code paths; they are part of the cache key."""
    import os

    return {v: os.environ.get(v, "") for v in NUMERICS_VARS}


def _cache_params(cfg: "SentimentConfig", **extra) -> dict:
    """What a cached sentiment result depends on beyond the registry's data: the config, the SST test file (read
    outside the registry, so not in its fingerprint), the device that ran it and, on the CPU, the kernel-choosing
    environment (`numerics`)."""
    from ...reporting.cache import file_digest

    files = {"sst_test": file_digest(SST_TEST())} if "senteval/sst" in cfg.tasks else {}
    device = cfg.torch_device.type
    return {**cfg.to_dict(), **extra, "files": files, "device": device,
            **({"numerics": numerics()} if device == "cpu" else {})}


def _data(cfg: SentimentConfig, tasks: Sequence[str] | None = None) -> dict[str, dict[str, Encoded]]:
    return {t: task_data(t, cfg.encoder, cfg.max_len, cfg.max_train, cfg.max_eval) for t in (tasks or cfg.tasks)}


# ---------------------------------------------------------------- models

class SharedModule(nn.Module):
    """The shared module g: (batch x time x d word vectors, lengths) -> batch x hidden."""

    def __init__(self, kind: str, dim: int, hidden: int):
        super().__init__()
        if kind not in MODULES:
            raise ValueError(f"shared module must be one of {MODULES}, got {kind!r}")
        self.kind = kind
        if kind == "lstm":
            self.net = nn.LSTM(dim, hidden, batch_first=True)
        elif kind == "mlp":
            self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        else:
            self.net = nn.Conv1d(dim, hidden, kernel_size=3, padding=1)

    def forward(self, z: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = lengths.to(z.device)
        mask = (torch.arange(z.shape[1], device=z.device)[None, :] < lengths[:, None]).unsqueeze(-1)   # B x T x 1
        if self.kind == "lstm":
            packed = pack_padded_sequence(z, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, (h, _) = self.net(packed)
            return h[-1]
        if self.kind == "mlp":
            mean = (z * mask).sum(1) / lengths[:, None].to(z.dtype)
            return self.net(mean)
        conv = torch.relu(self.net(z.transpose(1, 2))).transpose(1, 2)              # B x T x h
        return conv.masked_fill(~mask, float("-inf")).max(dim=1).values


class SentimentModel(nn.Module):
    """Word vectors (trainable or frozen) -> (optional per-task alignment R_i) -> shared module -> a linear head per
    task. Trainable vectors take sparse gradients (only the rows a batch uses), for `torch.optim.SparseAdam`."""

    def __init__(self, table: torch.Tensor, n_classes: dict[str, int], module: str, hidden: int,
                 alignment: bool = False, train_vectors: bool = False):
        super().__init__()
        self.tasks = list(n_classes)
        self.embed = nn.Embedding.from_pretrained(table.clone(), freeze=not train_vectors, padding_idx=0,
                                                  sparse=train_vectors)   # a copy: training must not touch the table
        dim = table.shape[1]
        self.alignment = AlignmentModule(self.tasks, dim) if alignment else None
        self.shared = SharedModule(module, dim, hidden)
        self.heads = nn.ModuleDict({task_key(t): nn.Linear(hidden, c) for t, c in n_classes.items()})

    def embeddings(self, ids: torch.Tensor, task: str) -> torch.Tensor:
        """Z_i = X_i R_i: the word vectors of a batch of task `task`, aligned when the model has R."""
        x = self.embed(ids)
        return self.alignment(x, task) if self.alignment is not None else x

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, task: str) -> torch.Tensor:
        return self.heads[task_key(task)](self.shared(self.embeddings(ids, task), lengths))


def build_model(cfg: SentimentConfig, alignment: bool = False) -> SentimentModel:
    set_seed(cfg.seed)
    n_classes = {t: len(get_task(t).label_names) for t in cfg.tasks}
    model = SentimentModel(embedding_table(cfg.encoder), n_classes, cfg.module, cfg.hidden, alignment,
                           train_vectors=cfg.train_vectors)
    return model.to(cfg.torch_device)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def accuracy(model: SentimentModel, data: Encoded, task: str, batch_size: int = 256) -> float:
    model.eval()
    device = _device(model)
    correct = 0
    for i in range(0, len(data), batch_size):
        ids, lengths = data.ids[i:i + batch_size], data.lengths[i:i + batch_size]
        width = int(lengths.max())
        pred = model(ids[:, :width].to(device), lengths, task).argmax(-1).cpu()
        correct += int((pred == data.labels[i:i + batch_size]).sum())
    return correct / len(data)


def _batches(data: dict[str, Encoded], batch_size: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """One epoch: every task's training rows in shuffled batches, the tasks' batches interleaved at random."""
    out = []
    for task, d in data.items():
        order = rng.permutation(len(d))
        out += [(task, order[i:i + batch_size]) for i in range(0, len(d), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]


def fit(model: SentimentModel, data: dict[str, dict[str, Encoded]], parameters: Sequence[nn.Parameter],
        epochs: int, batch_size: int, lr: float, seed: int, progress: bool = False, desc: str = "train") -> dict:
    """Train `parameters` (Adam, `lr`) on every task of `data` for `epochs`, keep the epoch with the best mean dev
    accuracy (restored into `model`), and return {"dev", "test": {task: accuracy}, "best_epoch", "dev_curve"}."""
    params = [p for p in parameters if p.requires_grad]
    if not params:
        raise ValueError("fit: nothing to train (no parameter requires grad)")
    sparse = [p for p in params if model.embed.sparse and p is model.embed.weight]
    dense = [p for p in params if not any(p is q for q in sparse)]
    opts = ([torch.optim.Adam(dense, lr=lr)] if dense else []) + ([torch.optim.SparseAdam(sparse, lr=lr)] if sparse
                                                                   else [])
    device = _device(model)
    rng = np.random.default_rng(seed)
    tasks = list(data)
    best, best_state, curve = -np.inf, None, []
    loss_fn = nn.CrossEntropyLoss()
    for epoch in tqdm(range(epochs), desc=desc, disable=not progress):
        model.train()
        for task, rows in _batches({t: data[t]["train"] for t in tasks}, batch_size, rng):
            d = data[task]["train"]
            idx = torch.as_tensor(rows)
            lengths = d.lengths[idx]
            logits = model(d.ids[idx, :int(lengths.max())].to(device), lengths, task)
            loss = loss_fn(logits, d.labels[idx].to(device))
            for opt in opts:
                opt.zero_grad()
            loss.backward()
            for opt in opts:
                opt.step()
        dev = {t: accuracy(model, data[t]["dev"], t) for t in tasks}
        curve.append(dev)
        if np.mean(list(dev.values())) > best:
            best, best_state = float(np.mean(list(dev.values()))), copy.deepcopy(model.state_dict())
            best_epoch = epoch + 1
    model.load_state_dict(best_state)
    return {"dev": curve[best_epoch - 1], "test": {t: accuracy(model, data[t]["test"], t) for t in tasks},
            "best_epoch": best_epoch, "dev_curve": curve}


def _trainable(model: SentimentModel, shared: bool, heads: bool, alignment: bool,
               vectors: bool = True) -> list[nn.Parameter]:
    """The parameters to train; the word vectors only when `vectors` and the model was built with trainable ones."""
    params = [model.embed.weight] if vectors and model.embed.weight.requires_grad else []
    if shared:
        params += list(model.shared.parameters())
    if heads:
        params += list(model.heads.parameters())
    if alignment and model.alignment is not None:
        params += list(model.alignment.parameters())
    return params


def train_sentiment(cfg: SentimentConfig, return_model: bool = False):
    """Train one STL (one task) or MTL (several tasks, one shared module) model; epoch chosen on mean dev accuracy.
    Returns the result dict (and the model when `return_model`)."""
    data = _data(cfg)
    model = build_model(cfg)
    t0 = time.perf_counter()
    result = fit(model, data, _trainable(model, True, True, False), cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed,
                 cfg.progress, desc=f"{'STL' if len(cfg.tasks) == 1 else 'MTL'} {cfg.module}-{cfg.hidden}")
    result["seconds"] = time.perf_counter() - t0
    return (result, model) if return_model else result


def cached_sentiment(cfg: SentimentConfig) -> dict:
    """`train_sentiment(cfg)` through the result cache."""
    from ...reporting.cache import cached_result

    return cached_result("sentiment", _cache_params(cfg), lambda: train_sentiment(cfg), tasks=cfg.tasks,
                         encoder=cfg.encoder, code=CODE)


# ---------------------------------------------------------------- Alg. 1 and eq. 5

def train_embeddings(model: SentimentModel, data: Encoded, task: str, aligned: bool = True) -> torch.Tensor:
    """The word vectors of `task`'s training sentences as rows (all word pieces, n_pieces x d): X_i, or X_i R_i
    when `aligned` and the model has R. This is the embedding before the shared module that eq. 5 compares."""
    with torch.no_grad():
        mask = torch.arange(data.ids.shape[1])[None, :] < data.lengths[:, None]
        x = model.embed(data.ids[mask].to(_device(model)))
        if aligned and model.alignment is not None:
            x = model.alignment(x, task)
    return x.cpu()


def eq5_scores(model: SentimentModel, data: dict[str, dict[str, Encoded]], tasks: Sequence[str],
               aligned: bool) -> dict[str, float]:
    """The raw eq. 5 score (`covariance_similarity(normalise=False)`) of the first two `tasks`' embeddings and,
    labelled as such, the self-normalised variant."""
    a, b = (train_embeddings(model, data[t]["train"], t, aligned) for t in tasks[:2])
    return {"eq5": covariance_similarity(a, b, normalise=False),
            "normalised": covariance_similarity(a, b, normalise=True)}


def alignment_pair(cfg: SentimentConfig, phase2_epochs: int) -> dict:
    """Alg. 1 on one MTL model of `cfg.tasks` (module docstring): phase 1 trains the word vectors (when trainable),
    the shared module and the heads; phase 2 fixes the shared module and trains, from the same state, R_i + A_i
    ("with") or A_i alone ("without"), and the word vectors in both arms when they are trainable. Returns both
    arms' dev/test accuracies and raw eq. 5 scores (with the self-normalised variant): "before_phase1" of the
    phase-1 model's embeddings, "after" of the aligned arm's X_i R_i, and "after_without" of the unaligned arm's
    embeddings, so that after - after_without is R's own share of a change (B-F7's "before" comes from the STL
    models, `cached_stl_factor`, whose separately trained vectors also differ from the MTL model's)."""
    if len(cfg.tasks) < 2:
        raise ValueError("alignment_pair needs at least two tasks")
    if int(phase2_epochs) < 1:
        raise ValueError(f"alignment_pair: phase2_epochs must be >= 1, got {phase2_epochs}")
    data = _data(cfg)
    phase1, base = train_sentiment(cfg, return_model=True)
    # the phase-1 MTL model's own (unaligned) embeddings; B-F7's "before" is the STL models' (`cached_stl_factor`)
    out = {"phase1": phase1, "before_phase1": eq5_scores(base, data, cfg.tasks, aligned=False)}
    for arm, aligned in (("without", False), ("with", True)):
        model = build_model(cfg, alignment=True)         # R = identity; the "without" arm never trains it
        model.load_state_dict(base.state_dict(), strict=False)
        for p in model.shared.parameters():
            p.requires_grad_(False)
        out[arm] = fit(model, data, _trainable(model, False, True, aligned), phase2_epochs, cfg.batch_size, cfg.lr,
                       cfg.seed + 1, cfg.progress, desc=f"Alg. 1 phase 2 {arm}")
        out["after" if aligned else "after_without"] = eq5_scores(model, data, cfg.tasks, aligned=aligned)
    return out


def stl_factor(cfg: SentimentConfig) -> dict:
    """An STL model of `cfg`'s one task (`train_sentiment`) and, under "factor", the spectral factor
    (`analysis.covariance.spectral_factor`, d x r) of its embedding of its own training sentences: eq. 5 between two
    STL models is `factor_similarity` of their factors (the paper's "before alignment", Sec. 3.3)."""
    if len(cfg.tasks) != 1:
        raise ValueError(f"stl_factor: one task, got {cfg.tasks}")
    result, model = train_sentiment(cfg, return_model=True)
    task = cfg.tasks[0]
    x = train_embeddings(model, _data(cfg)[task]["train"], task, aligned=False)
    return {**result, "factor": spectral_factor(x, name=f"{task} embeddings").round(7).tolist()}


def cached_stl_factor(cfg: SentimentConfig) -> dict:
    from ...reporting.cache import cached_result

    return cached_result("sentiment_stl_factor", _cache_params(cfg), lambda: stl_factor(cfg), tasks=cfg.tasks,
                         encoder=cfg.encoder, code=CODE)


def cached_alignment_pair(cfg: SentimentConfig, phase2_epochs: int) -> dict:
    from ...reporting.cache import cached_result

    return cached_result("sentiment_alg1", _cache_params(cfg, phase2_epochs=phase2_epochs),
                         lambda: alignment_pair(cfg, phase2_epochs), tasks=cfg.tasks, encoder=cfg.encoder,
                         code=CODE)


@functools.lru_cache(maxsize=2)
def source_model(source: SentimentConfig) -> tuple[dict, SentimentModel]:
    """The trained source model of `source` (memoised per config: the transfers of one seed share it)."""
    result, model = train_sentiment(source, return_model=True)
    return result, model


def transfer(source: SentimentConfig, target: SentimentConfig, aligned: bool) -> dict:
    """Alg. 1's transfer variant: the STL model of `source` (one task, epoch chosen on its dev set) fine-tuned on
    the one task of `target` with `target`'s data sizes, epochs, learning rate and seed: the source's shared module
    (and its trained word vectors) and a new head, with `aligned` also an alignment matrix R on the target's word vectors (identity at init). Both
    arms: the same source model, optimiser settings, seed, head initialisation and batch order; the epoch is
    chosen on the target's dev set and the accuracy reported on its test set. Returns the fine-tuning result and,
    under "source", the source model's own dev/test accuracy and dev curve."""
    if len(source.tasks) != 1 or len(target.tasks) != 1:
        raise ValueError(f"transfer: source and target are single-task configs, got {source.tasks} and {target.tasks}")
    if ((source.module, source.hidden, source.encoder, source.max_len, source.train_vectors)
            != (target.module, target.hidden, target.encoder, target.max_len, target.train_vectors)):
        raise ValueError("transfer: the target config must keep the source's module, hidden size, encoder, max_len "
                         "and train_vectors")
    src_result, src = source_model(source)
    model = build_model(target, alignment=aligned)
    model.shared.load_state_dict(src.shared.state_dict())
    if target.train_vectors:                     # fine-tune the source STL model: its trained word vectors too
        model.embed.weight.data.copy_(src.embed.weight.data)
    data = _data(target)
    result = fit(model, data, _trainable(model, True, True, aligned), target.epochs, target.batch_size, target.lr,
                 target.seed, target.progress, desc=f"transfer -> {target.tasks[0]}{' with R' if aligned else ''}")
    task = source.tasks[0]
    result["source"] = {"dev": src_result["dev"][task], "test": src_result["test"][task],
                        "best_epoch": src_result["best_epoch"], "dev_curve": [c[task] for c in src_result["dev_curve"]]}
    return result


def cached_transfer(source: SentimentConfig, target: SentimentConfig, aligned: bool) -> dict:
    from ...reporting.cache import cached_result

    params = {"source": _cache_params(source), "target": _cache_params(target), "aligned": aligned}
    return cached_result("sentiment_transfer", params, lambda: transfer(source, target, aligned),
                         tasks=(*source.tasks, *target.tasks), encoder=source.encoder, code=CODE)
