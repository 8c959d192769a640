"""Layer-wise linear CKA: mtlcore's feature-space path vs a naive n x n Gram-matrix path.

    python benchmarks/cka_speed.py [--n 10000] [--features 384] [--layers 7]

Activations of two 7-layer models (embeddings + 6 layers, n examples x 384 features per layer,
correlated across layers like a real network's) are compared layer by layer (7 x 7 CKA matrix):
- feature-space: `mtlcore.analysis.similarity.CKAAccumulator` fed in minibatches of 1000 rows (O(n d^2) time,
  O(d^2) memory per layer pair; what `layerwise_cka` uses);
- naive: the reference Gram form, CKA = <HKH, HLH> / (||HKH|| ||HLH||) with K = X X^T (n x n), the 7
  centred Gram matrices of model B cached and model A's built one at a time.
Each path runs in its own process so its peak memory (max RSS above the process's baseline after the
activations exist) is its own. Both compute in float64. Prints times, the ratio, peak memory, the size
of one n x n matrix, and the largest difference between the two CKA matrices.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch


def activations(n: int, d: int, layers: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, d, generator=g, dtype=torch.float64)
    out = [h]
    for _ in range(layers - 1):  # each layer a noisy mix of the previous, as in a residual network
        h = 0.8 * h @ torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))[0] \
            + 0.4 * torch.randn(n, d, generator=g, dtype=torch.float64)
        out.append(h)
    return out


def feature_path(xs, ys) -> np.ndarray:
    from mtlcore.analysis.similarity import CKAAccumulator

    acc = CKAAccumulator()
    for start in range(0, xs[0].shape[0], 1000):
        acc.update([x[start:start + 1000] for x in xs], [y[start:start + 1000] for y in ys])
    return acc.result()


def naive_path(xs, ys) -> np.ndarray:
    from mtlcore.analysis.similarity import center_gram, gram_linear

    Ls = [center_gram(gram_linear(y)) for y in ys]
    out = np.zeros((len(xs), len(ys)))
    for i, x in enumerate(xs):
        K = center_gram(gram_linear(x))
        for j, L in enumerate(Ls):
            out[i, j] = float((K * L).sum() / (K.norm() * L.norm()))
        del K
    return out


def child(path: str, n: int, d: int, layers: int) -> None:
    torch.set_num_threads(torch.get_num_threads())
    xs, ys = activations(n, d, layers, 0), activations(n, d, layers, 1)
    ys = [0.5 * y + 0.5 * x for x, y in zip(xs, ys)]  # model B partly shares model A's representation
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    mat = (feature_path if path == "feature" else naive_path)(xs, ys)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, "cka": mat.tolist()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=384)
    ap.add_argument("--layers", type=int, default=7)
    ap.add_argument("--child", choices=["feature", "naive"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.n, args.features, args.layers)
    print(f"layer-wise linear CKA, {args.layers} x {args.layers} layers, n = {args.n}, {args.features} features, "
          f"{torch.get_num_threads()} threads, float64")
    res = {}
    for path in ("feature", "naive"):
        cmd = [sys.executable, __file__, "--child", path, "--n", str(args.n), "--features", str(args.features),
               "--layers", str(args.layers)]
        res[path] = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(f"{path:>14}: {res[path]['seconds']:8.2f} s, peak memory {res[path]['peak_mib']:8.0f} MiB")
    nxn = args.n * args.n * 8 / 2**20
    diff = np.abs(np.array(res["feature"]["cka"]) - np.array(res["naive"]["cka"])).max()
    print(f"{'ratio':>14}: {res['naive']['seconds'] / res['feature']['seconds']:8.1f} x faster (feature-space)")
    print(f"{'one n x n':>14}: {nxn:8.0f} MiB (float64); feature-space peak is "
          f"{res['feature']['peak_mib'] / nxn:.2f} of it")
    print(f"{'max |diff|':>14}: {diff:.2e} between the two CKA matrices")
    print("diagonal (layer i vs layer i):", np.round(np.diag(res["feature"]["cka"]), 3).tolist())


if __name__ == "__main__":
    main()
