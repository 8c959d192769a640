"""Representation similarity: linear and RBF CKA, streaming, and layer-by-layer between two models.

Centered kernel alignment (Kornblith et al. 2019, "Similarity of Neural Network Representations
Revisited"), for activations X (n x p) and Y (n x q) of the same n inputs:

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),   K = k(X, X), L = l(Y, Y).

For the linear kernel, with column-centred X and Y, HSIC(K, L) ~ ||Y^T X||_F^2, so

    linear CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)

costs O(n p q) and never forms an n x n matrix. The debiased variant replaces each HSIC by the
unbiased estimator of Song et al. (2012) (used for CKA by Nguyen et al. 2021), which in feature
space reads, with a_i = ||x_i||^2, b_i = ||y_i||^2 of the centred rows and A = sum a_i, B = sum b_i:

    HSIC_u(X, Y) ~ ||Y^T X||_F^2 - n/(n-2) a.b + A B / ((n-1)(n-2))

(the common factor 1/(n(n-3)) cancels in the ratio). `CKAAccumulator` gathers the sufficient
statistics of these formulas batch by batch, so CKA over many examples never holds all activations.

Meaningless input, the same on every path (`linear_cka`, `rbf_cka`, `gram_cka`, `CKAAccumulator`,
`layerwise_cka`): NaN or inf activations and fewer than 2 examples raise ValueError naming the
argument; a layer that is constant over the examples (centred sum of squares below 1e-10 of the raw
one, so float round-off of a constant counts as constant) has no similarity to anything: its CKA
is NaN, with a `ConstantLayerWarning`.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch

from .._io import warn

Array = np.ndarray | torch.Tensor
CONSTANT_TOL = 1e-10  # centred / raw sum of squares below this: the layer is constant over the examples


class ConstantLayerWarning(RuntimeWarning):
    """CKA of a layer that is constant over the examples is undefined (returned as NaN)."""


def _as64(x: Array, name: str = "X", min_rows: int = 2) -> torch.Tensor:
    t = x.detach() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x, dtype=np.float64))
    if t.ndim != 2:
        raise ValueError(f"{name}: activations must be 2-D (examples x features), got shape {tuple(t.shape)}")
    if t.shape[0] < min_rows:
        raise ValueError(f"{name}: CKA needs at least {min_rows} examples (rows), got {t.shape[0]}")
    t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: activations contain NaN or inf")
    return t


def _is_constant(centred_sq: torch.Tensor | float, raw_sq: torch.Tensor | float) -> bool:
    return float(centred_sq) <= CONSTANT_TOL * float(raw_sq)


def _undefined(what: str) -> float:
    warn(f"CKA undefined: {what} is constant over the examples (zero variance); returning NaN", ConstantLayerWarning)
    return float("nan")


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"X and Y must have the same number of examples (rows), got {x.shape[0]} and {y.shape[0]}")


def _debiased(xty_sq: torch.Tensor, a: torch.Tensor, b: torch.Tensor, n: int) -> torch.Tensor:
    return xty_sq - n / (n - 2) * (a @ b) + a.sum() * b.sum() / ((n - 1) * (n - 2))


def _unit_scale(t: torch.Tensor) -> torch.Tensor:
    """`t` divided by its largest absolute value (when that is finite and > 0)."""
    top = t.abs().max() if t.numel() else torch.tensor(0.0, dtype=t.dtype)
    return t / top if torch.isfinite(top) and top > 0 else t


def linear_cka(X: Array, Y: Array, debiased: bool = False) -> float:
    """Linear CKA of X (n x p) and Y (n x q) in the feature-space form (see module docstring).

    Invariant to orthogonal transforms and isotropic scaling of X or Y; 1 when X == Y."""
    x, y = _as64(X, "X"), _as64(Y, "Y")
    _check_pair(x, y)
    x, y = _unit_scale(x), _unit_scale(y)   # CKA is scale invariant; 1e200-sized activations would overflow
    n = x.shape[0]
    if debiased and n < 4:
        raise ValueError("the debiased estimator needs at least 4 examples")
    xc, yc = x - x.mean(0), y - y.mean(0)
    for name, raw, c in (("X", x, xc), ("Y", y, yc)):
        if _is_constant(c.square().sum(), raw.square().sum()):
            return _undefined(name)
    x, y = xc, yc
    xy, xx, yy = (y.T @ x).square().sum(), (x.T @ x).square().sum(), (y.T @ y).square().sum()
    if debiased:
        a, b = x.square().sum(1), y.square().sum(1)
        xy, xx, yy = _debiased(xy, a, b, n), _debiased(xx, a, a, n), _debiased(yy, b, b, n)
    return float(xy / torch.sqrt(xx * yy))


def gram_linear(X: Array) -> torch.Tensor:
    x = _as64(X)
    return x @ x.T


def gram_rbf(X: Array, threshold: float = 1.0) -> torch.Tensor:
    """RBF Gram matrix exp(-||x_i - x_j||^2 / (2 sigma^2)) with sigma^2 = threshold^2 * median squared distance
    (over all n^2 pairs, as in Kornblith et al.'s reference code)."""
    x = _as64(X)
    sq = x.square().sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(0)
    return torch.exp(-d2 / (2 * threshold**2 * d2.median()))


def center_gram(K: torch.Tensor) -> torch.Tensor:
    """H K H with H = I - 11^T/n, by subtracting row, column and grand means (O(n^2))."""
    return K - K.mean(0, keepdim=True) - K.mean(1, keepdim=True) + K.mean()


def gram_cka(K: torch.Tensor, L: torch.Tensor) -> float:
    """CKA from two n x n Gram matrices (biased HSIC): <HKH, HLH> / (||HKH|| ||HLH||)."""
    K, L = _as64(K, "K"), _as64(L, "L")
    if K.shape != L.shape or K.shape[0] != K.shape[1]:
        raise ValueError(f"K and L must be square Gram matrices of the same size, got {tuple(K.shape)} and {tuple(L.shape)}")
    kc, lc = center_gram(K), center_gram(L)
    for name, raw, c in (("K", K, kc), ("L", L, lc)):
        if _is_constant(c.square().sum(), raw.square().sum()):
            return _undefined(f"the representation behind {name}")
    return float((kc * lc).sum() / (kc.norm() * lc.norm()))


def rbf_cka(X: Array, Y: Array, threshold: float = 1.0) -> float:
    """CKA with RBF kernels whose bandwidth is `threshold` times the median distance (O(n^2) memory)."""
    x, y = _as64(X, "X"), _as64(Y, "Y")
    _check_pair(x, y)
    for name, t in (("X", x), ("Y", y)):
        if _is_constant((t - t.mean(0)).square().sum(), t.square().sum()):
            return _undefined(name)
    return gram_cka(gram_rbf(x, threshold), gram_rbf(y, threshold))


class CKAAccumulator:
    """Linear CKA between every X layer and every Y layer, fed in minibatches.

    update(xs, ys): xs a list of (batch x p_i) activations, ys a list of (batch x q_j), same rows.
    result() -> (len(xs) x len(ys)) CKA matrix, equal to `linear_cka` on the concatenated batches.

    Keeps, per layer, sum x, X^T X and the statistics of the row norms, and per pair X^T Y; memory is
    O(layers^2 d^2), independent of the number of examples.
    """

    def __init__(self, debiased: bool = False, device: str | torch.device = "cpu"):
        self.debiased, self.device = debiased, torch.device(device)
        self.n = 0
        self.x_stats: list[dict] | None = None
        self.y_stats: list[dict] | None = None
        self.cross: list[list[torch.Tensor]] | None = None      # sum x_i y_j^T
        self.pq: torch.Tensor | None = None                      # sum_rows ||x_i||^2 ||y_j||^2, (Lx, Ly)
        self.p_y: list[list[torch.Tensor]] | None = None         # sum_rows ||x_i||^2 y_j
        self.q_x: list[list[torch.Tensor]] | None = None         # sum_rows ||y_j||^2 x_i

    @staticmethod
    def _stats(layers: Sequence[torch.Tensor]) -> list[dict]:
        return [{"s": torch.zeros(t.shape[1], dtype=torch.float64, device=t.device),
                 "gram": torch.zeros(t.shape[1], t.shape[1], dtype=torch.float64, device=t.device),
                 "p": torch.zeros((), dtype=torch.float64, device=t.device),
                 "pp": torch.zeros((), dtype=torch.float64, device=t.device),
                 "px": torch.zeros(t.shape[1], dtype=torch.float64, device=t.device)} for t in layers]

    @staticmethod
    def _add(stats: list[dict], layers: Sequence[torch.Tensor], norms: Sequence[torch.Tensor]) -> None:
        for st, t, p in zip(stats, layers, norms):
            st["s"] += t.sum(0)
            st["gram"] += t.T @ t
            st["p"] += p.sum()
            st["pp"] += p @ p
            st["px"] += p @ t

    def update(self, xs: Sequence[Array], ys: Sequence[Array]) -> None:
        xs = [_as64(x, f"xs[{i}]", min_rows=1).to(self.device) for i, x in enumerate(xs)]
        ys = [_as64(y, f"ys[{j}]", min_rows=1).to(self.device) for j, y in enumerate(ys)]
        for y in ys:
            _check_pair(xs[0], y)
        if self.x_stats is None:
            self.x_stats, self.y_stats = self._stats(xs), self._stats(ys)
            self.cross = [[torch.zeros(x.shape[1], y.shape[1], dtype=torch.float64, device=self.device) for y in ys]
                          for x in xs]
            if self.debiased:
                self.pq = torch.zeros(len(xs), len(ys), dtype=torch.float64, device=self.device)
                self.p_y = [[torch.zeros(y.shape[1], dtype=torch.float64, device=self.device) for y in ys] for _ in xs]
                self.q_x = [[torch.zeros(x.shape[1], dtype=torch.float64, device=self.device) for _ in ys] for x in xs]
        px, qy = [x.square().sum(1) for x in xs], [y.square().sum(1) for y in ys]
        self._add(self.x_stats, xs, px)
        self._add(self.y_stats, ys, qy)
        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                self.cross[i][j] += x.T @ y
                if self.debiased:
                    self.pq[i, j] += px[i] @ qy[j]
                    self.p_y[i][j] += px[i] @ y
                    self.q_x[i][j] += qy[j] @ x
        self.n += xs[0].shape[0]

    def _centered_cross_sq(self, sx, sy, cross) -> torch.Tensor:
        c = cross - torch.outer(sx, sy) / self.n          # sum (x - m_x)(y - m_y)^T
        return c.square().sum()

    def _centered_norm_dot(self, st_x: dict, st_y: dict, pq, p_y, q_x, cross) -> tuple[torch.Tensor, ...]:
        """a.b, A, B for the centred rows, from uncentred sums (a_i = ||x_i - m_x||^2, b_i likewise)."""
        n = self.n
        mx, my = st_x["s"] / n, st_y["s"] / n
        Mx, My = mx @ mx, my @ my
        # a_i = p_i - 2 x_i.m_x + M_x, b_i = q_i - 2 y_i.m_y + M_y; expand sum_i a_i b_i
        ab = (pq - 2 * (p_y @ my) + My * st_x["p"] - 2 * (q_x @ mx) + 4 * (mx @ cross @ my)
              - 2 * My * n * Mx + Mx * st_y["p"] - 2 * Mx * n * My + n * Mx * My)
        return ab, st_x["p"] - n * Mx, st_y["p"] - n * My

    def _self_term(self, st: dict) -> torch.Tensor:
        """HSIC(X, X) up to the common factor: ||X_c^T X_c||_F^2, or its debiased form."""
        sq = self._centered_cross_sq(st["s"], st["s"], st["gram"])
        if not self.debiased:
            return sq
        ab, A, _ = self._centered_norm_dot(st, st, st["pp"], st["px"], st["px"], st["gram"])
        return sq - self.n / (self.n - 2) * ab + A * A / ((self.n - 1) * (self.n - 2))

    def _constant(self, st: dict) -> bool:
        raw = st["gram"].trace()
        return _is_constant(raw - st["s"] @ st["s"] / self.n, raw)

    def result(self) -> np.ndarray:
        if self.x_stats is None:
            raise ValueError("CKAAccumulator.result() before any update()")
        if self.n < 2:
            raise ValueError(f"CKAAccumulator: CKA needs at least 2 examples, got {self.n}")
        if self.debiased and self.n < 4:
            raise ValueError("the debiased estimator needs at least 4 examples")
        xx = [self._self_term(st) for st in self.x_stats]
        yy = [self._self_term(st) for st in self.y_stats]
        const_x = [self._constant(st) for st in self.x_stats]
        const_y = [self._constant(st) for st in self.y_stats]
        for side, flags in (("xs", const_x), ("ys", const_y)):
            for i in np.flatnonzero(flags):
                _undefined(f"layer {side}[{i}]")
        out = np.zeros((len(xx), len(yy)))
        for i, sx in enumerate(self.x_stats):
            for j, sy in enumerate(self.y_stats):
                if const_x[i] or const_y[j]:
                    out[i, j] = np.nan
                    continue
                hsic = self._centered_cross_sq(sx["s"], sy["s"], self.cross[i][j])
                if self.debiased:
                    ab, A, B = self._centered_norm_dot(sx, sy, self.pq[i, j], self.p_y[i][j], self.q_x[i][j],
                                                       self.cross[i][j])
                    hsic = hsic - self.n / (self.n - 2) * ab + A * B / ((self.n - 1) * (self.n - 2))
                out[i, j] = float(hsic / torch.sqrt(xx[i] * yy[j]))
        return out


def layer_activations(hidden_states: Sequence[torch.Tensor], attention_mask: torch.Tensor,
                      level: str = "pooled") -> list[torch.Tensor]:
    """Per-layer activation matrices from a model's hidden states (each B x T x H).

    pooled: the attention-masked mean over tokens, (B x H) per layer. token: every real (unpadded)
    token as a row, (sum of lengths x H) per layer."""
    if level == "pooled":
        m = attention_mask.unsqueeze(-1).to(hidden_states[0].dtype)
        return [(h * m).sum(1) / m.sum(1).clamp_min(1) for h in hidden_states]
    if level == "token":
        keep = attention_mask.bool()
        return [h[keep] for h in hidden_states]
    raise ValueError(f"level must be 'pooled' or 'token', got {level!r}")


@torch.no_grad()
def layerwise_cka(model_a, model_b, batches: Iterable[dict], level: str = "pooled", debiased: bool = False,
                  task_a: str | None = None, task_b: str | None = None, progress: bool = False) -> np.ndarray:
    """CKA between every hidden layer (embeddings + each transformer layer) of two models on the same inputs.

    model_a, model_b: `MultiTaskModel`s (or anything whose forward takes input_ids, attention_mask, task,
    output_hidden_states and returns `.hidden_states`). batches: dicts with input_ids, attention_mask (and
    optionally token_type_ids); labels are ignored. Returns the (L_a+1) x (L_b+1) matrix; its diagonal is
    the layer-by-layer similarity. One forward pass per model and batch.
    """
    from tqdm import tqdm

    acc = CKAAccumulator(debiased=debiased)
    was = model_a.training, model_b.training
    model_a.eval(), model_b.eval()
    try:
        for batch in tqdm(batches, desc="CKA", disable=not progress, leave=False):
            inputs = {k: v for k, v in batch.items() if k != "labels"}
            ha = model_a(**inputs, task=task_a or model_a.tasks[0], output_hidden_states=True).hidden_states
            hb = model_b(**inputs, task=task_b or model_b.tasks[0], output_hidden_states=True).hidden_states
            mask = inputs["attention_mask"]
            acc.update(layer_activations(ha, mask, level), layer_activations(hb, mask, level))
    finally:
        model_a.train(was[0]), model_b.train(was[1])
    return acc.result()
