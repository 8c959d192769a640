"""Synthetic transfer experiments of Wu, Zhang & Ré (2020): B-F2, B-F3, B-P1, B-P3.

Each function returns a tidy pandas table (one row per seed and setting) that a notebook plots;
everything is seeded, so the same arguments give the same numbers. Errors are measured on a
fresh validation sample of the target task: mean squared error for regression, error rate for
classification.

    from mtlcore.papers.wu2020.transfer import source_transfer
    table = source_transfer("linear", d=100, m_target=150, source_counts=[50, 200, 800], seeds=range(5))
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from .theory import (covariance_factor, fit_shared, labels, mtl_linear, ols, parameters_with_angle, predict,
                     prop3_subspace, random_orthogonal, sample_inputs)
from ...analysis.covariance import svd_task_weights

SOURCES = ("same covariance", "disjoint subset", "different rotation")


def _require(ok: bool, message: str) -> None:
    """Bad experiment parameters fail at once with the parameter's name, not deep inside a solver."""
    if not ok:
        raise ValueError(message)


def source_factors(d: int, kappa: float, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The target's covariance factor and the three sources' (B-F3): the same covariance; kappa on a
    disjoint d/10-coordinate subset (same rotation); kappa on the same subset under another rotation."""
    q1, q2 = random_orthogonal(d, rng), random_orthogonal(d, rng)
    s1, s2 = np.arange(d // 10), np.arange(d // 10, 2 * (d // 10))
    target = covariance_factor(d, kappa, s1, q1)
    return target, {"same covariance": target, "disjoint subset": covariance_factor(d, kappa, s2, q1),
                    "different rotation": covariance_factor(d, kappa, s1, q2)}


def _error(kind: str, y_true: np.ndarray, output: np.ndarray) -> float:
    if kind == "classification":
        return float(np.mean((output > 0) != (y_true > 0.5)))
    return float(np.mean((output - y_true) ** 2))


LOSS_WEIGHTINGS = ("sum", "mean")


def _fit_predict(kind: str, Xs, ys, r: int, X_val: np.ndarray, seed: int, loss_weighting: str = "sum") -> np.ndarray:
    """Train the shared-module model on tasks (Xs, ys) and return task 0's output on X_val.

    loss_weighting 'sum': every sample counts once (a task's pull grows with its sample count);
    'mean': alpha_i = 1/m_i, each task's loss is its mean (a task's pull is fixed, more samples only make it
    less noisy)."""
    if loss_weighting not in LOSS_WEIGHTINGS:
        raise ValueError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}, got {loss_weighting!r}")
    alphas = None if loss_weighting == "sum" else [1.0 / len(y) for y in ys]
    if kind == "linear":
        if len(Xs) == 1:
            return X_val @ ols(Xs[0], ys[0])
        return X_val @ mtl_linear(Xs, ys, r, alphas=alphas, restarts=1, seed=seed).theta(0)
    act, loss = ("relu", "mse") if kind == "relu" else ("linear", "logistic")
    m = np.mean([len(y) for y in ys])  # keep the regulariser's relative strength when losses are means
    fit = fit_shared(Xs, ys, r, activation=act, loss=loss, restarts=2, steps=200, seed=seed, alphas=alphas,
                     l2=(1e-3 if kind == "classification" else 1e-6) / (1 if alphas is None else m))
    return predict(fit, 0, X_val, act)


def source_transfer(kind: str = "linear", d: int = 100, kappa: float = 100.0, cosine: float = 0.96,
                    m_target: int = 150, source_counts: Sequence[int] = (50, 200, 800, 3200), noise: float = 1.0,
                    seeds: Iterable[int] = range(5), r: int = 1, n_val: int = 2000,
                    sources: Sequence[str] = SOURCES, loss_weighting: str = "sum", progress: bool = False) -> pd.DataFrame:
    """B-F3: target validation error of MTL (target + one source, shared width r) minus STL (target alone).

    Target: m_target samples from covariance factor L_1, parameter theta_1; every source has parameter
    theta_2 with <theta_1, theta_2> = cosine (unit vectors) and a covariance from `source_factors`.
    kind: 'linear' (y = X theta + eps), 'relu' (y = ReLU(X theta) + eps) or 'classification'
    (y = 1[X theta + eps > 0]). loss_weighting: 'sum' or 'mean' over each task's samples (see `_fit_predict`).
    Columns: kind, loss_weighting, noise, seed, source, m_source, stl, mtl, diff (= mtl - stl; < 0 is positive
    transfer)."""
    _require(kind in ("linear", "relu", "classification"), f"kind must be linear, relu or classification, got {kind!r}")
    _require(d >= 20, f"d must be >= 20 (two disjoint d/10-coordinate subsets), got {d}")
    _require(m_target >= 1 and all(m >= 1 for m in source_counts), "m_target and source_counts must be >= 1")
    _require(-1 <= cosine <= 1 and kappa >= 1 and r >= 1, "need -1 <= cosine <= 1, kappa >= 1 and r >= 1")
    _require(set(sources) <= set(SOURCES), f"sources must be among {SOURCES}, got {list(sources)}")
    rows = []
    seeds = list(seeds)
    for seed in tqdm(seeds, desc=f"B-F3 {kind}", disable=not progress, leave=False):
        rng = np.random.default_rng(seed)
        target, factors = source_factors(d, kappa, rng)
        theta1, theta2 = parameters_with_angle(d, cosine, rng)
        X1 = sample_inputs(m_target, target, rng)
        y1 = labels(X1, theta1, kind, noise, rng)
        Xv = sample_inputs(n_val, target, rng)
        yv = labels(Xv, theta1, kind, noise, rng)
        stl = _error(kind, yv, _fit_predict(kind, [X1], [y1], r, Xv, seed))
        for name in sources:
            for m in source_counts:
                X2 = sample_inputs(m, factors[name], rng)
                y2 = labels(X2, theta2, kind, noise, rng)
                mtl = _error(kind, yv, _fit_predict(kind, [X1, X2], [y1, y2], r, Xv, seed, loss_weighting))
                rows.append({"kind": kind, "loss_weighting": loss_weighting, "noise": noise, "seed": seed,
                             "source": name, "m_source": m, "stl": stl, "mtl": mtl, "diff": mtl - stl})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# B-F2: the three-task toy example


def _unit(degrees: float) -> np.ndarray:
    return np.array([np.cos(np.radians(degrees)), np.sin(np.radians(degrees))])


def toy_tasks(rng: np.random.Generator, m: int = 20, flip: float = 0.2, angle: float = 15.0,
              cluster_angle: float = 60.0, spread: float = 0.25, n_test: int = 4000) -> dict:
    """Three 2-D binary tasks with the same number m of samples (B-F2, the paper's Fig. 2).

    task 1 (the target): x ~ N(0, I), labels 1[x.w1 > 0] with a fraction `flip` flipped (its own data
    pin its boundary down poorly). Tasks 2 and 3 share ONE boundary, w2 at `angle` degrees to w1
    (clean labels 1[x.w2 > 0]), and differ only in their data:
    - task 2: x ~ N(0, I), like task 1: much of its data lies near the boundary and fixes its direction;
    - task 3: two tight clusters (sd `spread`) at +-2u, u at `cluster_angle` degrees to w2, labelled by w2:
      no data near the boundary, so many directions separate it and a max-margin fit points along u.
    Returns the tasks, a clean test set of task 1, w1 and w2."""
    w1, w2 = _unit(45.0), _unit(45.0 + angle)
    u = _unit(45.0 + angle + cluster_angle)

    def gaussian(n):
        return rng.normal(size=(n, 2))

    def label(X, w, flip_p=0.0):
        y = (X @ w > 0).astype(float)
        return np.where(rng.random(len(y)) < flip_p, 1 - y, y)

    side = rng.choice([-1.0, 1.0], size=m)
    X3 = 2.0 * side[:, None] * u + spread * rng.normal(size=(m, 2))
    X1, X2, Xt = gaussian(m), gaussian(m), gaussian(n_test)
    return {"task 1": (X1, label(X1, w1, flip)), "task 2": (X2, label(X2, w2)), "task 3": (X3, label(X3, w2)),
            "test": (Xt, label(Xt, w1)), "w1": w1, "w2": w2}


TOY_TRAININGS = (("task 1 alone", None), ("task 1 + task 2", "task 2"), ("task 1 + task 3", "task 3"))


def toy_transfer(seeds: Iterable[int] = range(20), m: int = 20, **task_args) -> tuple[pd.DataFrame, dict]:
    """B-F2: task 1's test accuracy trained alone, with task 2 and with task 3 (shared direction b in R^2, r = 1,
    a logistic head per task, the sum of the tasks' losses). Returns the table (seed, training, accuracy) and,
    for the first seed, the data and task 1's fitted direction per training."""
    rows, example = [], {}
    for seed in seeds:
        tasks = toy_tasks(np.random.default_rng(seed), m, **task_args)
        Xt, yt = tasks["test"]
        for name, partner in TOY_TRAININGS:
            Xs, ys = [tasks["task 1"][0]], [tasks["task 1"][1]]
            if partner:
                Xs.append(tasks[partner][0])
                ys.append(tasks[partner][1])
            fit = fit_shared(Xs, ys, 1, loss="logistic", l2=1e-2, restarts=2, steps=200, seed=seed)
            acc = float(np.mean((predict(fit, 0, Xt) > 0) == (yt > 0.5)))
            rows.append({"seed": seed, "training": name, "accuracy": acc})
            if name not in example:
                example[name] = fit.theta(0)
        example.setdefault("tasks", tasks)
    return pd.DataFrame(rows), example


# ---------------------------------------------------------------------------------------------
# B-P1: capacity


def capacity_sweep(k: int = 4, d: int = 30, m: int = 40, widths: Sequence[int] = (1, 2, 3, 4, 5, 6),
                   relatedness: float = 0.3, noise: float = 1.0, seeds: Iterable[int] = range(5),
                   n_val: int = 2000, restarts: int = 5) -> pd.DataFrame:
    """B-P1 (Prop. 1): MTL with shared width r vs STL on k related linear tasks (theta_i = theta_0 +
    relatedness * noise, isotropic inputs). The MTL solver starts only from `restarts` random B's (never from
    the STL solutions, which for r >= k would be Prop. 1's construction) and keeps the best. Columns: seed, r,
    task, loss_gap (the task's training loss at the MTL solution minus its STL optimum, relative to that
    optimum; 0 means the task reached its own optimum), gap (||B A_i - theta_i^STL|| / ||theta_i^STL||),
    stl, mtl, diff (validation MSE, MTL - STL)."""
    _require(k >= 1 and d >= 1 and m > d, f"need k, d >= 1 and m > d (a noisy STL optimum > 0), got k={k}, d={d}, m={m}")
    _require(len(widths) > 0 and all(r >= 1 for r in widths), f"widths must be positive integers, got {list(widths)}")
    _require(restarts >= 1, f"restarts must be >= 1, got {restarts}")
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        theta0 = rng.normal(size=d) / np.sqrt(d)
        thetas = [theta0 + relatedness * rng.normal(size=d) / np.sqrt(d) for _ in range(k)]
        Xs = [rng.normal(size=(m, d)) for _ in range(k)]
        ys = [X @ t + noise * rng.normal(size=m) for X, t in zip(Xs, thetas)]
        Xv = rng.normal(size=(n_val, d))
        yv = [Xv @ t + noise * rng.normal(size=n_val) for t in thetas]
        stl = [ols(X, y) for X, y in zip(Xs, ys)]
        train_opt = [np.sum((X @ t - y) ** 2) for X, y, t in zip(Xs, ys, stl)]
        for r in widths:
            fit = mtl_linear(Xs, ys, r, restarts=restarts, seed=seed, from_stl=False)
            for i in range(k):
                s, t = np.mean((Xv @ stl[i] - yv[i]) ** 2), np.mean((Xv @ fit.theta(i) - yv[i]) ** 2)
                train_loss = np.sum((Xs[i] @ fit.theta(i) - ys[i]) ** 2)
                rows.append({"seed": seed, "r": r, "task": i + 1, "stl": s, "mtl": t, "diff": t - s,
                             "loss_gap": float((train_loss - train_opt[i]) / train_opt[i]),
                             "gap": float(np.linalg.norm(fit.theta(i) - stl[i]) / np.linalg.norm(stl[i]))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# B-P3: Prop. 3 closed form and Alg. 2 reweighting


def principal_angle_sine(A: np.ndarray, B: np.ndarray) -> float:
    """Sine of the largest principal angle between the column spaces of A and B (full column rank, same
    dimension; 0 = same subspace)."""
    qa, qb = np.linalg.qr(A)[0], np.linalg.qr(B)[0]
    return float(np.linalg.norm(qa - qb @ (qb.T @ qa), 2))  # ||(I - P_B) Q_A||_2, accurate for tiny angles


def prop3_check(m: int = 200, d: int = 20, k: int = 5, widths: Sequence[int] = (1, 2, 3),
                seeds: Iterable[int] = range(5)) -> pd.DataFrame:
    """Alternating least squares vs the Prop. 3 closed form on shared inputs, uniform and random alpha.
    Columns: seed, r, weights, closed_form_loss, solver_loss, rel_gap, subspace_sine."""
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(m, d))
        Y = X @ rng.normal(size=(d, k)) + rng.normal(size=(m, k))
        for weights, alpha in (("uniform", np.ones(k)), ("random", rng.uniform(0.2, 2.0, k))):
            for r in widths:
                B_star, best = prop3_subspace(X, Y, r, alpha)
                fit = mtl_linear([X] * k, list(Y.T), r, alphas=alpha, seed=seed, restarts=5, from_stl=False)
                rows.append({"seed": seed, "r": r, "weights": weights, "closed_form_loss": best,
                             "solver_loss": fit.loss, "rel_gap": (fit.loss - best) / best,
                             "subspace_sine": principal_angle_sine(X @ B_star, X @ fit.B)})
    return pd.DataFrame(rows)


def reweighting_demo(m: int = 80, d: int = 50, k: int = 6, r: int = 2, corrupt: Sequence[float] = (0.0, 0.2, 0.5, 0.8),
                     noise: float = 1.0, seeds: Iterable[int] = range(10), n_val: int = 2000) -> pd.DataFrame:
    """Alg. 2 on shared inputs: k tasks whose theta_i lie near one r-dim subspace; a fraction `corrupt` of the
    last task's training labels is replaced by a random permutation of them. MTL (width r) with uniform weights
    vs alpha = svd_task_weights(X, Y, r). Validation labels are clean. Columns: seed, corrupt, weights, alpha_last
    (alpha of the corrupted task / mean alpha), clean_mse (validation MSE averaged over the k-1 clean tasks),
    all_mse (averaged over all k tasks)."""
    _require(k >= 2 and 1 <= r < k, f"need k >= 2 tasks and 1 <= r < k, got k={k}, r={r}")
    _require(all(0 <= p <= 1 for p in corrupt), f"corrupt fractions must be in [0, 1], got {list(corrupt)}")
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        basis = np.linalg.qr(rng.normal(size=(d, r)))[0]
        thetas = basis @ rng.normal(size=(r, k)) + 0.05 * rng.normal(size=(d, k))
        X = rng.normal(size=(m, d))
        Y = X @ thetas + noise * rng.normal(size=(m, k))
        Xv = rng.normal(size=(n_val, d))
        Yv = Xv @ thetas
        for p in corrupt:
            Yc = Y.copy()
            idx = rng.choice(m, size=int(p * m), replace=False)
            Yc[idx, -1] = rng.permutation(Yc[idx, -1])
            for name, alpha in (("uniform", np.ones(k)), ("SVD (Alg. 2)", svd_task_weights(X, Yc, r))):
                fit = mtl_linear([X] * k, list(Yc.T), r, alphas=alpha, restarts=1, seed=seed)
                errors = [np.mean((Xv @ fit.theta(i) - Yv[:, i]) ** 2) for i in range(k)]
                rows.append({"seed": seed, "m": m, "corrupt": p, "weights": name,
                             "alpha_last": float(alpha[-1] / alpha.mean()), "clean_mse": float(np.mean(errors[:-1])),
                             "all_mse": float(np.mean(errors))})
    return pd.DataFrame(rows)
