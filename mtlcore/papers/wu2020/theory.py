"""Wu, Zhang & Ré (2020) theory on synthetic data: task generators and shared-module solvers.

Model (eq. 3): task i has inputs X_i (m_i x d), labels y_i; prediction g(X_i B) A_i with a shared
B (d x r) and a head A_i (r,); loss sum_i alpha_i L(g(X_i B) A_i, y_i), g = identity or ReLU,
L = squared error (regression) or logistic loss (classification). The single-task (STL) model is the
same with one task; for linear regression it is ordinary least squares.

Generators follow the paper's recipe: Gaussian R_i, a random orthonormal Q, and a diagonal D_i whose
entries are `kappa` on a d/10-coordinate subset and 1 elsewhere (the paper's D; the covariance then has
condition number kappa^2). We draw rows x = z D_i Q_i^T (z ~ N(0, I)), i.e. X_i = R_i D_i Q_i^T with
covariance Q_i D_i^2 Q_i^T. (Written as R_i Q_i D_i the rotation would have no effect, since R_i Q_i is
Gaussian again; this is our reading, stated so it can be checked.)

Solvers: `mtl_linear` (variable projection + L-BFGS on the sufficient statistics X_i^T X_i, X_i^T y_i),
`eq4_r1` (the r = 1 objective of eq. 4, heads eliminated), `prop3_subspace` (closed form of
Prop. 3 for shared inputs, to check the solver against) and `fit_shared` (L-BFGS for the ReLU and
logistic variants).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize


# ---------------------------------------------------------------------------------------------
# generators


def random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random d x d orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def covariance_factor(d: int, kappa: float, subset: np.ndarray, Q: np.ndarray | None = None) -> np.ndarray:
    """L = D Q^T with D_jj = kappa on `subset`, 1 elsewhere: rows z L have covariance Q D^2 Q^T (condition
    number kappa^2)."""
    diag = np.ones(d)
    diag[np.asarray(subset)] = kappa
    return diag[:, None] * (np.eye(d) if Q is None else Q.T)


def sample_inputs(m: int, factor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """X = R L with R ~ N(0, 1)^{m x d}."""
    return rng.normal(size=(m, factor.shape[0])) @ factor


def parameters_with_angle(d: int, cosine: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors theta_1, theta_2 in R^d with <theta_1, theta_2> = cosine."""
    a = rng.normal(size=d)
    a /= np.linalg.norm(a)
    b = rng.normal(size=d)
    b -= (b @ a) * a
    b /= np.linalg.norm(b)
    return a, cosine * a + np.sqrt(1 - cosine**2) * b


def labels(X: np.ndarray, theta: np.ndarray, kind: str, noise: float, rng: np.random.Generator) -> np.ndarray:
    """y for task families: 'linear' X theta + eps, 'relu' ReLU(X theta) + eps, 'classification' 1[X theta + eps > 0]."""
    signal = X @ theta
    eps = noise * rng.normal(size=len(signal))
    if kind == "linear":
        return signal + eps
    if kind == "relu":
        return np.maximum(signal, 0) + eps
    if kind == "classification":
        return (signal + eps > 0).astype(float)
    raise ValueError(f"kind must be linear, relu or classification, got {kind!r}")


# ---------------------------------------------------------------------------------------------
# linear solvers


def ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Single-task linear regression: the minimum-norm least-squares theta."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


@dataclass
class SharedFit:
    """B (d x r), heads A (k x r), per-task biases c (k,) (0 without bias), and the training loss."""

    B: np.ndarray
    A: np.ndarray
    loss: float
    c: np.ndarray | None = None

    def theta(self, i: int) -> np.ndarray:
        """The linear predictor of task i, B A_i (d,)."""
        return self.B @ self.A[i]


def _heads(B: np.ndarray, G: list[np.ndarray], c: list[np.ndarray]) -> np.ndarray:
    return np.stack([np.linalg.lstsq(B.T @ g @ B, B.T @ ci, rcond=None)[0] for g, ci in zip(G, c)])


def _linear_loss(B, A, G, c, yy, alphas) -> float:
    return float(sum(a * (Ai @ B.T @ g @ B @ Ai - 2 * ci @ B @ Ai + y2)
                     for a, Ai, g, ci, y2 in zip(alphas, A, G, c, yy)))


def mtl_linear(Xs: list[np.ndarray], ys: list[np.ndarray], r: int, alphas=None, restarts: int = 2,
               seed: int = 0, maxiter: int = 5000, from_stl: bool = True) -> SharedFit:
    """Minimise sum_i alpha_i ||X_i B A_i - y_i||^2 over B (d x r) and heads A_i (r,).

    Variable projection: for fixed B each head is the least-squares fit A_i = (B^T G_i B)^+ B^T c_i
    (G_i = X_i^T X_i, c_i = X_i^T y_i), leaving f(B) = sum_i alpha_i (||y_i||^2 - c_i^T B A_i), whose gradient is
    2 sum_i alpha_i (G_i B A_i - c_i) A_i^T; f is minimised with L-BFGS. (Plain alternating least squares
    stalls for hundreds of steps near saddle points, so a stopping rule on its progress is unreliable.)
    Starts from the top-r left singular vectors of the STL solutions [theta_1 ... theta_k] (unless not
    `from_stl`: for r >= k that start already spans every theta_i, Prop. 1's construction) and from
    `restarts` random B's; keeps the best.
    """
    if not from_stl and restarts < 1:
        raise ValueError("mtl_linear(from_stl=False) needs restarts >= 1")
    k, d = len(Xs), Xs[0].shape[1]
    alphas = np.ones(k) if alphas is None else np.asarray(alphas, float)
    G, c = [X.T @ X for X in Xs], [X.T @ y for X, y in zip(Xs, ys)]
    yy = [float(y @ y) for y in ys]
    scale = max(sum(a * v for a, v in zip(alphas, yy)), 1e-300)

    def objective(flat):
        B = flat.reshape(d, r)
        A = _heads(B, G, c)
        val = sum(a * (v - ci @ B @ Ai) for a, v, ci, Ai in zip(alphas, yy, c, A))
        grad = 2 * sum(a * np.outer(g @ B @ Ai - ci, Ai) for a, g, ci, Ai in zip(alphas, G, c, A))
        return val / scale, grad.ravel() / scale

    rng = np.random.default_rng(seed)
    stl = np.stack([ols(X, y) for X, y in zip(Xs, ys)], axis=1)
    u = np.linalg.svd(stl, full_matrices=False)[0]
    starts = [np.c_[u[:, :min(r, k)], rng.normal(size=(d, max(0, r - k)))]] if from_stl else []
    starts += [rng.normal(size=(d, r)) for _ in range(restarts)]
    best = None
    for B0 in starts:
        res = minimize(objective, B0.ravel(), jac=True, method="L-BFGS-B",
                       options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-12})
        B = np.linalg.qr(res.x.reshape(d, r))[0] if r <= d else res.x.reshape(d, r)
        A = _heads(B, G, c)
        fit = SharedFit(B, A, _linear_loss(B, A, G, c, yy, alphas))
        if best is None or fit.loss < best.loss:
            best = fit
    return best


def eq4_objective(b: np.ndarray, Xs: list[np.ndarray], ys: list[np.ndarray]) -> float:
    """The r = 1 form of eq. 4 with the heads eliminated: sum_i <X_i b, y_i>^2 / ||X_i b||^2 (to maximise)."""
    return float(sum((X @ b @ y) ** 2 / max((X @ b) @ (X @ b), 1e-300) for X, y in zip(Xs, ys)))


def eq4_r1(Xs: list[np.ndarray], ys: list[np.ndarray], restarts: int = 5, seed: int = 0) -> np.ndarray:
    """Maximise `eq4_objective` over b (L-BFGS from the STL solutions and random starts) -> unit b (d,)."""
    G, c = [X.T @ X for X in Xs], [X.T @ y for X, y in zip(Xs, ys)]

    def neg(b):
        val, grad = 0.0, np.zeros_like(b)
        for g, ci in zip(G, c):
            p, q = ci @ b, b @ g @ b
            val += p * p / q
            grad += 2 * p / q * ci - 2 * p * p / q**2 * (g @ b)
        return -val, -grad

    rng = np.random.default_rng(seed)
    starts = [ols(X, y) for X, y in zip(Xs, ys)] + [rng.normal(size=Xs[0].shape[1]) for _ in range(restarts)]
    best = min((minimize(neg, s / np.linalg.norm(s), jac=True, method="L-BFGS-B") for s in starts), key=lambda r: r.fun)
    return best.x / np.linalg.norm(best.x)


def prop3_subspace(X: np.ndarray, Y: np.ndarray, r: int, alphas=None) -> tuple[np.ndarray, float]:
    """Prop. 3, shared inputs X (m x d), labels Y (m x k): the optimal B and the optimal loss.

    With X = U D V^T, the optimal column space of X B is U W_r, W_r the top-r eigenvectors of
    M = sum_i alpha_i U^T y_i y_i^T U, so B = V D^{-1} W_r, and the optimal loss is
    sum_i alpha_i ||y_i||^2 - (sum of the r largest eigenvalues of M)."""
    alphas = np.ones(Y.shape[1]) if alphas is None else np.asarray(alphas, float)
    U, D, Vt = np.linalg.svd(X, full_matrices=False)
    P = U.T @ Y
    M = (P * alphas) @ P.T
    vals, vecs = np.linalg.eigh(M)
    top = np.argsort(vals)[::-1][:r]
    B = Vt.T @ (vecs[:, top] / D[:, None])
    return B, float(alphas @ (Y * Y).sum(0) - vals[top].sum())


# ---------------------------------------------------------------------------------------------
# ReLU and logistic variants


def fit_shared(Xs: list[np.ndarray], ys: list[np.ndarray], r: int, activation: str = "linear", loss: str = "mse",
               alphas=None, bias: bool = False, l2: float = 1e-4, restarts: int = 3, steps: int = 300,
               seed: int = 0) -> SharedFit:
    """Minimise sum_i alpha_i L(g(X_i B) A_i + c_i, y_i) + l2 (||B||^2 + ||A||^2) with full-batch L-BFGS (float64).

    activation: 'linear' | 'relu'; loss: 'mse' (sum of squares) | 'logistic' (labels in {0, 1}).
    The best of `restarts` random initialisations (seeded) is returned."""
    k, d = len(Xs), Xs[0].shape[1]
    alphas = torch.ones(k, dtype=torch.float64) if alphas is None else torch.as_tensor(alphas, dtype=torch.float64)
    Xt = [torch.as_tensor(X, dtype=torch.float64) for X in Xs]
    yt = [torch.as_tensor(y, dtype=torch.float64) for y in ys]
    gen = torch.Generator().manual_seed(seed)

    def penalised_loss(B: torch.Tensor, A: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        total = l2 * (B.square().sum() + A.square().sum())
        for i, (X, y) in enumerate(zip(Xt, yt)):
            h = X @ B
            out = (torch.relu(h) if activation == "relu" else h) @ A[i] + c[i]
            total = total + alphas[i] * (torch.nn.functional.binary_cross_entropy_with_logits(out, y, reduction="sum")
                                         if loss == "logistic" else (out - y).square().sum())
        return total

    best = None
    for _ in range(restarts):
        B = (torch.randn(d, r, generator=gen, dtype=torch.float64) / np.sqrt(d)).requires_grad_()
        A = (torch.randn(k, r, generator=gen, dtype=torch.float64)).requires_grad_()
        c = torch.zeros(k, dtype=torch.float64, requires_grad=bias)
        opt = torch.optim.LBFGS([B, A] + ([c] if bias else []), max_iter=steps, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-10, tolerance_change=1e-14)

        def objective(opt=opt, B=B, A=A, c=c):
            opt.zero_grad()
            total = penalised_loss(B, A, c)
            total.backward()
            return total

        opt.step(objective)
        value = float(objective().detach())
        if best is None or value < best.loss:
            best = SharedFit(B.detach().numpy().copy(), A.detach().numpy().copy(), value, c.detach().numpy().copy())
    return best


def predict(fit: SharedFit, i: int, X: np.ndarray, activation: str = "linear") -> np.ndarray:
    """Task i's raw output g(X B) A_i + c_i (a logit for classification)."""
    h = X @ fit.B
    h = np.maximum(h, 0) if activation == "relu" else h
    return h @ fit.A[i] + (fit.c[i] if fit.c is not None else 0.0)
