"""What tracking task-gradient cosines (A-F3) costs a training run.

    python benchmarks/gradient_overhead.py [--every 50] [--epochs 3] [--max-train 0] [--tasks lumbar]

The same MTL training twice, once plain and once with `GradientCosineCallback(every=N)` (a record at
step 0 and every N steps: one extra forward + backward per task on a fresh batch, and the k x k cosine
matrices overall and per layer). Default: the six lumbar MRI tasks (one shared-input group, one
encoder pass per step for all six heads), all their training reports, 3 epochs: about 330 steps, long
enough that the first passes' warm-up does not dominate. The run prints

- the training-loop seconds of both runs and their relative difference (the overhead as a user sees it),
- the seconds spent inside the callback as a share of the tracked run (the direct cost),

with the goal: overhead below 15% at every = 50. The two runs train the same model on the same batches
(the callback draws its batches from its own generator), so their final dev scores must agree; the
script checks that. Close other work first; torch's thread count is printed.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=50, help="record every N steps (default 50)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-train", type=int, default=0, help="training reports per task (0 = all)")
    ap.add_argument("--tasks", default="lumbar", help="'lumbar' (the six lumbar tasks) or comma-separated task names")
    ap.add_argument("--encoder", default="minilm-l6")
    args = ap.parse_args()

    import torch

    from mtlcore import TrainConfig
    from mtlcore.training.callbacks import GradientCosineCallback
    from mtlcore.tasks.lumbar import PATHOLOGIES
    from mtlcore.training.runs import train

    tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES] if args.tasks == "lumbar" else args.tasks.split(",")
    cfg = TrainConfig(tasks=tasks, mode="mtl", encoder=args.encoder, epochs=args.epochs,
                      max_train=args.max_train or None, device="cpu", progress=False, save_checkpoint=False, seed=0)
    print(f"{len(tasks)} tasks, {args.epochs} epochs, {torch.get_num_threads()} threads, record every {args.every} steps")
    runs = {}
    for name, callbacks in (("plain", []), ("tracked", [GradientCosineCallback(every=args.every, verbose=False)])):
        t0 = time.perf_counter()
        result = train(cfg, callbacks=callbacks)
        wall = time.perf_counter() - t0
        runs[name] = {"wall": wall, "metrics": result.metrics, "callbacks": callbacks}
        print(f"  {name:8s}: {wall:7.1f}s in train() (model loading and evaluation included)")
    cb = runs["tracked"]["callbacks"][0]
    steps = int(cb.table.step.max()) if len(cb.table) else 0
    plain, tracked = runs["plain"]["wall"], runs["tracked"]["wall"]
    print(f"records: {len(cb.frames)} (steps 0..{steps}); seconds inside the callback: {cb.seconds:.1f}")
    print(f"overhead: {100 * (tracked - plain) / plain:.1f}% of the plain run's time "
          f"(callback share of the tracked run: {100 * cb.seconds / tracked:.1f}%; goal < 15%)")
    same = runs["plain"]["metrics"]["average"] == runs["tracked"]["metrics"]["average"]
    print(f"same dev score with and without tracking: {same} "
          f"({runs['plain']['metrics']['average']:.4f} vs {runs['tracked']['metrics']['average']:.4f})")


if __name__ == "__main__":
    main()
