"""Wu, Zhang & Ré (ICLR 2020), "Understanding and Improving Information Transfer in Multi-Task Learning".

Model: k tasks, task i with inputs X_i (m_i x d) and labels y_i; a shared module B (d x r) and
per-task output modules A_i; loss sum_i alpha_i L(g(X_i B) A_i, y_i).

Implemented here:
- `covariance_similarity`: how well two tasks' input covariances X_i^T X_i align; with `normalise=False`
  it is eq. 5 itself (the raw score), by default a self-normalised variant that is not eq. 5 (the two can
  move in opposite directions, e.g. under Alg. 1's alignment, B-F7).
- `svd_task_weights` (Alg. 2): task weights alpha_i from the top-r singular subspace of
  [theta_1 ... theta_k], theta_i = X^T y_i, for tasks that share inputs X.
- `weights_for`: alpha as the `task_weights` of `TrainConfig(weighting='fixed')`.

Alg. 1's alignment matrices R_i are a model component: `mtlcore.training.alignment`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

Array = np.ndarray | torch.Tensor


def _np(x: Array) -> np.ndarray:
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return x.astype(np.float64)


def spectral_factor(X: Array, energy: float = 0.99, name: str = "X") -> np.ndarray:
    """F = U_r D_r^{1/2} (d x r) of X (m x d): all that eq. 5 needs of one task's inputs, so a model's embedding of
    its data can be reduced to this and compared later with `factor_similarity`."""
    x = _np(X)
    if x.ndim != 2:
        raise ValueError(f"spectral_factor: {name} must be 2-D (rows x d), got shape {x.shape}")
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], got {energy}")
    return _spectral_factor(x, energy, name)


def factor_similarity(f1: Array, f2: Array, normalise: bool = False) -> float:
    """`covariance_similarity` from two `spectral_factor`s (raw eq. 5 by default here)."""
    f1, f2 = _np(f1), _np(f2)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[0] != f2.shape[0]:
        raise ValueError(f"factors must be 2-D with the same number of rows (d), got {f1.shape} and {f2.shape}")
    cross = np.linalg.norm(f1.T @ f2)
    if not normalise:
        return float(cross / (np.linalg.norm(f1) * np.linalg.norm(f2)))
    return float(cross / np.sqrt(np.linalg.norm(f1.T @ f1) * np.linalg.norm(f2.T @ f2)))


def _spectral_factor(X: np.ndarray, energy: float, name: str) -> np.ndarray:
    """U D^{1/2} of the best rank-r approximation U D U^T of X^T X keeping `energy` of its spectrum
    (the smallest r with sum_{j<=r} D_jj >= energy * trace)."""
    if not np.isfinite(X).all():
        raise ValueError(f"covariance_similarity: {name} contains NaN or inf")
    if not X.any():
        raise ValueError(f"covariance_similarity: {name} is all zeros (no covariance to compare)")
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    eig = s**2                                           # eigenvalues of X^T X, descending
    r = int(np.searchsorted(np.cumsum(eig) / eig.sum(), energy - 1e-12) + 1)
    return vt[:r].T * s[:r]                              # d x r: U_r D_r^{1/2}


def covariance_similarity(X1: Array, X2: Array, energy: float = 0.99, normalise: bool = True) -> float:
    """Covariance similarity score of two tasks: eq. 5 of Wu et al. 2020 with `normalise=False`, else a
    self-normalised variant (call only the raw score "eq. 5").

    With X_i^T X_i ~ U_i D_i U_i^T (rank r_i, `energy` of the spectrum kept) and F_i = U_i D_i^{1/2}:

        eq. 5:      S(X1, X2) = ||F_1^T F_2||_F / (||F_1||_F ||F_2||_F)          (normalise=False)

    Eq. 5 equals ||D||_F / tr(D) < 1 for two identical covariances of rank > 1, so by default (not eq. 5) the
    score is divided by the geometric mean of the self-scores, S / sqrt(S(X1,X1) S(X2,X2)) =
    ||F_1^T F_2||_F / sqrt(||F_1^T F_1||_F ||F_2^T F_2||_F), which is 1 for equal covariances (up to
    scale) and 0 for covariances on orthogonal subspaces. Both are invariant to row rotations X_i -> Q X_i.
    X1 (m1 x d) and X2 (m2 x d) need the same d, not the same number of rows.
    """
    a, b = _np(X1), _np(X2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"X1 and X2 must be 2-D with the same number of columns, got {a.shape} and {b.shape}")
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], got {energy}")
    return factor_similarity(_spectral_factor(a, energy, "X1"), _spectral_factor(b, energy, "X2"), normalise)


def svd_task_weights(X: Array, Y: Array, rank: int) -> np.ndarray:
    """Task weights alpha (k,) by SVD reweighting (Wu et al. 2020, Alg. 2).

    X: shared inputs (m x d); Y: labels of the k tasks (m x k). theta_i = X^T y_i (the columns of
    Theta = X^T Y, d x k); U_r = top-`rank` left singular vectors of Theta; alpha_i = ||theta_i^T U_r||,
    the length of task i's parameter inside the subspace the tasks share. A task whose theta lies
    outside the shared subspace (e.g. noisy labels) gets a small weight.
    """
    x, y = _np(X), _np(Y)
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"X (m x d) and Y (m x k) must have the same rows, got {x.shape} and {y.shape}")
    if not np.isfinite(y).all() or not np.isfinite(x).all():
        raise ValueError("svd_task_weights: X and Y must be finite (no NaN labels)")
    theta = x.T @ y
    if not 1 <= rank <= min(theta.shape):
        raise ValueError(f"rank must be in [1, {min(theta.shape)}], got {rank}")
    if not theta.any():
        raise ValueError("svd_task_weights: Theta = X^T Y is all zeros (X or Y is zero, or the labels are orthogonal "
                         "to the inputs): there is no shared subspace to weigh the tasks by")
    u, _, _ = np.linalg.svd(theta, full_matrices=False)
    return np.linalg.norm(theta.T @ u[:, :rank], axis=1)


def weights_for(tasks: Sequence[str], alpha: Sequence[float]) -> dict[str, float]:
    """{task: alpha_i} for `TrainConfig(weighting='fixed', task_weights=...)`."""
    if len(tasks) != len(alpha):
        raise ValueError(f"{len(tasks)} tasks but {len(alpha)} weights")
    return {t: float(a) for t, a in zip(tasks, alpha)}
