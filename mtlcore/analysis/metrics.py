"""Task metrics, written out in numpy so each is one readable formula (tested against scikit-learn).

Kept hand-written for a measured reason: they run per task, per label and per epoch and inside bootstrap and
pilot loops, and scikit-learn's versions (the same values) take 18-130x longer a call on a lumbar test split
(`benchmarks/metrics_speed.py`, 2026-12-03: macro-F1 61 us vs 2.6 ms, MCC 29 us vs 3.7 ms).

All take `y_true` and a prediction: class ids for accuracy/F1/MCC, real scores for
Pearson/Spearman, and scores (probabilities or logits) for ROC-AUC.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def accuracy(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _confusion(y_true, y_pred, n: int) -> np.ndarray:
    return np.bincount(np.asarray(y_true) * n + np.asarray(y_pred), minlength=n * n).reshape(n, n)


def _n_classes(*arrays) -> int:
    return int(max(int(np.max(a)) for a in arrays if len(a)) + 1)


def f1(y_true, y_pred) -> float:
    """F1 of the positive class (label 1) for binary labels; macro-F1 otherwise."""
    n = max(_n_classes(y_true, y_pred), 2)
    return f1_per_class(y_true, y_pred, n)[1] if n == 2 else float(np.mean(f1_per_class(y_true, y_pred, n)))


def macro_f1(y_true, y_pred, n_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes present in y_true or y_pred (sklearn's 'macro')."""
    n = n_classes or _n_classes(y_true, y_pred)
    present = np.union1d(np.unique(y_true), np.unique(y_pred))
    return float(np.mean(f1_per_class(y_true, y_pred, n)[present]))


def f1_per_class(y_true, y_pred, n: int) -> np.ndarray:
    c = _confusion(y_true, y_pred, n)
    tp = np.diag(c).astype(float)
    denom = c.sum(0) + c.sum(1)  # predicted + actual = 2tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros(n), where=denom > 0)


def mcc(y_true, y_pred) -> float:
    """Matthews correlation (multi-class form of Gorodkin 2004); 0 when undefined."""
    c = _confusion(y_true, y_pred, max(_n_classes(y_true, y_pred), 2)).astype(float)
    t, p, s = c.sum(1), c.sum(0), c.sum()
    cov_tp = np.trace(c) * s - t @ p
    denom = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float(cov_tp / denom) if denom > 0 else 0.0


def pearson(y_true, y_score) -> float:
    a, b = np.asarray(y_true, float), np.asarray(y_score, float)
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denom) if denom > 0 else 0.0


def spearman(y_true, y_score) -> float:
    """Pearson correlation of average ranks (ties share their mean rank)."""
    from scipy.stats import rankdata   # (here: scipy.stats takes a second to import)

    return pearson(rankdata(y_true), rankdata(y_score))


def roc_auc(y_true, y_score) -> float:
    """Binary ROC-AUC as the Mann-Whitney statistic with tied ranks; for (n, L) inputs, the macro
    mean over labels that have both classes. NaN when no label has both classes."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, float)
    if y_true.ndim == 2:
        aucs = [roc_auc(y_true[:, j], y_score[:, j]) for j in range(y_true.shape[1])]
        aucs = [a for a in aucs if not np.isnan(a)]
        return float(np.mean(aucs)) if aucs else float("nan")
    pos = y_true == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(y_score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


METRICS: dict[str, Callable] = {"accuracy": accuracy, "f1": f1, "macro_f1": macro_f1, "mcc": mcc,
                                "pearson": pearson, "spearman": spearman, "roc_auc": roc_auc}
SCORE_METRICS = {"pearson", "spearman", "roc_auc"}  # take scores, not class ids


def task_metrics(kind: str, names, y_true: np.ndarray, output: np.ndarray) -> dict[str, float]:
    """Compute the named metrics from a head's raw output.

    output: (n, C) logits for classification, (n,) scores for regression, (n, L) logits for
    multi-label (class-id metrics there use threshold 0 on the logits, i.e. p = 0.5)."""
    if kind == "classification":
        pred, score = output.argmax(-1), (output[:, 1] - output[:, 0] if output.shape[1] == 2 else output)
    elif kind == "regression":
        pred = score = output
    else:
        pred, score = (output > 0).astype(int), output
    out = {}
    for name in names:
        if name not in METRICS:
            raise KeyError(f"unknown metric {name!r}; known: {sorted(METRICS)}")
        if kind == "multilabel" and name not in SCORE_METRICS:
            out[name] = float(np.mean([METRICS[name](y_true[:, j], pred[:, j]) for j in range(y_true.shape[1])]))
        else:
            out[name] = METRICS[name](y_true, score if name in SCORE_METRICS else pred)
    return out


def task_score(values: dict[str, float], names) -> float:
    """GLUE-style task score: the mean of the task's metrics (e.g. MRPC: (F1 + acc) / 2)."""
    return float(np.mean([values[n] for n in names]))
