"""Task metrics: mtlcore's numpy formulas vs scikit-learn's functions, time per call and agreement.

    python benchmarks/metrics_speed.py [--n 227] [--classes 3] [--repeat 500]

Why `mtlcore.analysis.metrics` stays hand-written (issue 23 asked for scikit-learn where it fits): the
metrics are called per task, per label of a multi-label task and per epoch, and inside bootstrap and pilot
loops; scikit-learn's input validation costs milliseconds a call. For each metric this prints the time per
call of both (best of 5 rounds of `--repeat` calls, on one split of a lumbar test split's size) and the largest
difference of their values over 50 random draws (the tests check agreement too: tests/test_metrics.py).
"""
from __future__ import annotations

import argparse
import timeit

import numpy as np
from sklearn import metrics as skm

from mtlcore.analysis import metrics as ours


def cases(n: int, classes: int, rng: np.random.Generator):
    y, p = rng.integers(0, classes, n), rng.integers(0, classes, n)
    yb, score = (y > 0).astype(int), rng.random(n)
    real, pred = rng.normal(size=n), rng.normal(size=n)
    return {
        "accuracy": (lambda: ours.accuracy(y, p), lambda: skm.accuracy_score(y, p)),
        "macro_f1": (lambda: ours.macro_f1(y, p), lambda: skm.f1_score(y, p, average="macro")),
        "f1 (binary)": (lambda: ours.f1(yb, (p > 0).astype(int)), lambda: skm.f1_score(yb, (p > 0).astype(int))),
        "mcc": (lambda: ours.mcc(y, p), lambda: skm.matthews_corrcoef(y, p)),
        "roc_auc": (lambda: ours.roc_auc(yb, score), lambda: skm.roc_auc_score(yb, score)),
        "pearson": (lambda: ours.pearson(real, pred), lambda: float(np.corrcoef(real, pred)[0, 1])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=227, help="examples (default: a lumbar test split's 227)")
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=500, help="calls per timing round")
    args = ap.parse_args()
    timed = cases(args.n, args.classes, np.random.default_rng(0))
    print(f"{'metric':<12} {'mtlcore us':>11} {'sklearn us':>11} {'ratio':>7} {'max |diff|':>11}")
    for name, (a, b) in timed.items():
        ta = min(timeit.repeat(a, number=args.repeat, repeat=5)) / args.repeat * 1e6
        tb = min(timeit.repeat(b, number=args.repeat, repeat=5)) / args.repeat * 1e6
        diff = max(abs(f() - g()) for f, g in (cases(args.n, args.classes, np.random.default_rng(s))[name]
                                               for s in range(50)))
        print(f"{name:<12} {ta:>11.1f} {tb:>11.1f} {tb / ta:>6.0f}x {diff:>11.2e}")


if __name__ == "__main__":
    main()
