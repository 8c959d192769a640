"""This machine's practical matrix-multiply peak: the best of 5 square matmuls, in TFLOP/s, per precision.

    python benchmarks/matmul_peak.py [--size 2048] [--repeats 5] [--device cpu|cuda]

The denominator of a "share of peak" claim (issue 25): measured here, on this machine's cores or GPU, in the same
run as the training it is compared with, not a data sheet's number. A (size x size) @ (size x size) product is
2 size^3 FLOPs; the first product of each precision is a warm-up (not timed). bf16 on a CPU without AVX512-BF16
or AMX is emulated and shows as such (far below fp32).
"""
from __future__ import annotations

import argparse
import time

import torch


def matmul_peak(precision: str = "fp32", size: int = 2048, repeats: int = 5, device: str = "cpu") -> float:
    """Best-of-`repeats` TFLOP/s of a (size x size) matmul in `precision` (fp32 | bf16) on `device`."""
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=g).to(device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    a @ b
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best / 1e12


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    print(f"{args.size} x {args.size} matmul, best of {args.repeats}, {args.device}, {torch.get_num_threads()} threads")
    for precision in ("fp32", "bf16"):
        print(f"{precision}: {matmul_peak(precision, args.size, args.repeats, args.device):.3f} TFLOP/s")


if __name__ == "__main__":
    main()
