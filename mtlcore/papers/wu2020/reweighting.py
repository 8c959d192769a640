"""Wu, Zhang & Ré's Alg. 2 (SVD task reweighting) on real tasks that share their inputs (B-T1).

    feats = frozen_features("radiology/openi/findings")           # {split: (X, Y)}, X the frozen encoder's features
    alpha = alg2_weights(feats["train"][0], feats["train"][1], rank=1)
    result = train_weighted(feats, tasks=[0, 3], weights=alpha, seed=0)   # test AUC per task

X, for theta_i = X^T y_i: each report's mean-pooled last hidden state of the frozen encoder (MiniLM-L6 by
default), centred on the training mean. Every task of a multi-label set labels the same reports, which is Alg. 2's
assumption (shared X). The model on top is Wu et al.'s: a shared module (linear -> ReLU, width `hidden`) and a
logistic head per task, trained on sum_i alpha_i BCE_i with the alphas rescaled to mean 1 (uniform weights: all 1);
the epoch is chosen on the mean dev AUC over the tasks and the AUCs are reported on test.

`noisy_pair` is the paper's ablation: two tasks, random labels (0/1 with equal odds) on a random 20% of one task's
training rows, Alg. 2 weights (rank 1) vs uniform, both from the same initialisation and batch order; the corrupted
rows and the initialisation are drawn from the run seed and the pair together.
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..._io import atomic_save_npy, resolve_device, set_seed
from ...analysis.covariance import svd_task_weights

CODE = ("papers.wu2020.reweighting",)   # its numbers depend on this module and what it imports (`code_version`)


def _pooled(encoder_and_tokenizer, task: str, texts, max_length: int) -> np.ndarray:
    """The last hidden state of the frozen encoder, mean-pooled over each text's real tokens (n x d), via
    `MultiTaskModel.layer_features` (length-sorted batches; its head for `task` is never used)."""
    from ...training.models import MultiTaskModel

    encoder, tokenizer = encoder_and_tokenizer
    model = MultiTaskModel(encoder, [task], "mean", 0.0)
    return model.layer_features(tokenizer, texts, max_length=max_length)[-1].astype(np.float32)


def frozen_features(task: str, encoder: str = "minilm-l6", max_length: int = 256) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (X, Y)} for a multi-label task: X (n x d) the frozen encoder's mean-pooled features of its texts
    (cached as .npy), Y (n x k) its 0/1 labels."""
    from ...reporting.cache import result_path
    from ...tasks import get_task, load_task

    spec = get_task(task)
    if spec.kind != "multilabel":
        raise ValueError(f"frozen_features: {task} is {spec.kind}; Alg. 2 needs tasks sharing inputs (a multi-label "
                         "task, one column per task)")
    from ...training.encoders import load_encoder

    out, loaded = {}, None
    for split, ex in load_task(task).items():
        path = result_path("features", {"task": task, "split": split, "max_length": max_length}, tasks=[task],
                           encoder=encoder, code=CODE, suffix=".npy")
        if path.is_file():
            x = np.load(path)
        else:
            loaded = loaded or load_encoder(encoder)          # once for all splits that need it
            x = _pooled(loaded, task, ex.texts, max_length)
            atomic_save_npy(path, x)
        out[split] = (x, np.asarray(ex.labels, dtype=np.float32))
    return out


def centred(x_train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean = x_train.mean(0, keepdims=True)
    return [x_train - mean, *(o - mean for o in others)]


def alg2_weights(x_train: np.ndarray, y_train: np.ndarray, rank: int) -> np.ndarray:
    """Alg. 2's alpha_i from the centred training features and the (possibly noisy) training labels."""
    return svd_task_weights(centred(np.asarray(x_train, dtype=np.float64))[0], y_train, rank)


def corrupt(y: np.ndarray, column: int, fraction: float, seed: int) -> np.ndarray:
    """A copy of y with random 0/1 labels (equal odds) on a random `fraction` of rows of `column`."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    y = y.copy()
    rows = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    y[rows, column] = rng.integers(0, 2, size=len(rows))
    return y


class SharedHeads(nn.Module):
    """Shared module (linear -> ReLU) and one logistic head per task (a k-output linear layer, column i = A_i)."""

    def __init__(self, dim: int, hidden: int, k: int):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        self.heads = nn.Linear(hidden, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.shared(x))


def _aucs(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per-task ROC-AUC (NaN for a task without both classes)."""
    from ...analysis.metrics import roc_auc

    return np.array([roc_auc(y[:, j], score[:, j]) for j in range(y.shape[1])])


def train_weighted(data: dict[str, tuple[np.ndarray, np.ndarray]], weights: Sequence[float] | None = None,
                   hidden: int = 32, epochs: int = 30, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
                   train_labels: np.ndarray | None = None, device: str = "cpu") -> dict:
    """Train `SharedHeads` on sum_i alpha_i BCE_i (alpha: `weights` rescaled to mean 1; None = uniform) over the
    columns of Y; `train_labels` replaces the training labels (e.g. corrupted ones). Returns {"dev", "test": per-task
    AUC lists, "best_epoch", "alpha"}; the epoch is the one with the best mean dev AUC. `device`: "cpu", "cuda" or
    "auto" (CUDA when available); the batch order and initialisation come from `seed` on the CPU either way."""
    (x_tr, y_tr), (x_dev, y_dev), (x_te, y_te) = data["train"], data["dev"], data["test"]
    if train_labels is not None:
        if train_labels.shape != y_tr.shape:
            raise ValueError(f"train_labels must have shape {y_tr.shape}, got {train_labels.shape}")
        y_tr = train_labels
    k = y_tr.shape[1]
    alpha = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
    if alpha.shape != (k,) or not np.isfinite(alpha).all() or (alpha < 0).any() or not alpha.any():
        raise ValueError(f"weights must be {k} finite non-negative numbers, not all 0; got {weights}")
    alpha = alpha * k / alpha.sum()
    dev_ = resolve_device(device)
    x_tr, x_dev, x_te = (torch.as_tensor(a).to(dev_) for a in centred(x_tr, x_dev, x_te))
    y = torch.as_tensor(y_tr).to(dev_)
    set_seed(seed)
    model = SharedHeads(x_tr.shape[1], hidden, k).to(dev_)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    a = torch.as_tensor(alpha, dtype=torch.float32, device=dev_)
    rng = np.random.default_rng(seed)
    best, best_state, best_epoch = -np.inf, None, 0
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(y))
        for i in range(0, len(order), batch_size):
            idx = torch.as_tensor(order[i:i + batch_size], device=dev_)
            loss = nn.functional.binary_cross_entropy_with_logits(model(x_tr[idx]), y[idx], reduction="none")
            loss = (loss.mean(0) * a).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            dev = _aucs(y_dev, model(x_dev).cpu().numpy())
        if np.nanmean(dev) > best:
            best, best_state, best_epoch = float(np.nanmean(dev)), copy.deepcopy(model.state_dict()), epoch + 1
    model.load_state_dict(best_state)
    with torch.no_grad():
        dev, test = _aucs(y_dev, model(x_dev).cpu().numpy()), _aucs(y_te, model(x_te).cpu().numpy())
    return {"dev": dev.tolist(), "test": test.tolist(), "best_epoch": best_epoch, "alpha": alpha.tolist()}


def training_subset(data: dict[str, tuple[np.ndarray, np.ndarray]], n: int | None,
                    seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`data` with its training rows cut to a fixed seeded random `n` (None or >= all: unchanged); dev and test
    stay whole. Nested: the n-row subset's rows are among those of any larger subset (same seed)."""
    x, y = data["train"]
    if n is None or n >= len(y):
        return dict(data)
    if int(n) < 2:
        raise ValueError(f"training_subset: n must be >= 2, got {n}")
    idx = np.sort(np.random.default_rng(seed).permutation(len(y))[:int(n)])
    return {**data, "train": (x[idx], y[idx])}


def choose_training_size(uniform_dev_auc: dict[int, float], low: float = 0.75, high: float = 0.90) -> int:
    """B-T1's training size, from the uniform-weight baseline alone (PAPERS.md, amended 2026-12-01): the largest
    size whose mean dev AUC lies in [low, high] (room to gain, as on ChestX-ray14); if none does, the size whose
    AUC is nearest to that range (ties: the smaller size)."""
    if not uniform_dev_auc:
        raise ValueError("choose_training_size: no sizes")
    inside = [n for n, a in uniform_dev_auc.items() if low <= a <= high]
    if inside:
        return max(inside)
    gap = {n: (low - a if a < low else a - high) for n, a in uniform_dev_auc.items()}
    return min(sorted(gap), key=lambda n: gap[n])


def noisy_pair(data: dict[str, tuple[np.ndarray, np.ndarray]], pair: tuple[int, int], noisy: int,
               fraction: float = 0.2, seed: int = 0, **train) -> dict:
    """The ablation for one task pair: columns `pair` of Y, random labels on `fraction` of the training rows of
    column `noisy` (0 or 1 within the pair), Alg. 2 (rank 1) vs uniform weights. Returns the clean task's test AUC
    under both, the Alg. 2 weights and both full results."""
    if noisy not in (0, 1):
        raise ValueError(f"noisy is the position within the pair (0 or 1), got {noisy}")
    # one seed per (run seed, pair, noisy side): pairs get their own corrupted rows and initialisation
    unit = int(np.random.SeedSequence([seed, *pair, noisy]).generate_state(1)[0])
    sub = {s: (x, y[:, list(pair)]) for s, (x, y) in data.items()}
    y_noisy = corrupt(sub["train"][1], noisy, fraction, unit)
    alpha = alg2_weights(sub["train"][0], y_noisy, rank=1)
    uniform = train_weighted(sub, None, seed=unit, train_labels=y_noisy, **train)
    svd = train_weighted(sub, alpha, seed=unit, train_labels=y_noisy, **train)
    clean = 1 - noisy
    return {"clean_uniform": uniform["test"][clean], "clean_svd": svd["test"][clean],
            "noisy_uniform": uniform["test"][noisy], "noisy_svd": svd["test"][noisy],
            "alpha_clean": float(svd["alpha"][clean]), "alpha_noisy": float(svd["alpha"][noisy])}
