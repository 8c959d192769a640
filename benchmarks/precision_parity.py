"""Do bf16 autocast and torch.compile give the fp32 eager run's dev scores, within seed noise?

    python benchmarks/precision_parity.py [--seeds 20,21,22] [--arms fp32,bf16,compile] [--margin 1.0]
                                          [--max-train 600] [--epochs 3] [--rows rows.jsonl] [--device cpu]

The same training in each arm and seed: Paper A's cpu recipe (`notebooks/profiles/cpu.yaml`, paper_a train
block: class-balanced loss, heads started from the linear probe, lr 5e-5) on one MTL model over the six lumbar
tasks, which share their level texts (one encoder pass per batch), `--max-train` examples per task, every dev
example. Arms: `fp32` (eager, the profiles' setting), `bf16` (bfloat16 autocast of the training forward pass),
`compile` (fp32, the encoder through torch.compile), `bf16-compile`. Model and epoch are chosen on dev, as in
every run; only dev scores are read here (test is not looked at).

The rule, fixed before the first run of this script (an equivalence test, two one-sided): an arm gives the
fp32 numbers "within seed noise" when the 95% t-interval of its paired difference to fp32 (mean dev macro-F1 over
the six tasks, points, same seed) lies inside +-`--margin` (default 1.0 point: half of A-T1's -2-point threshold);
"differs" when the interval lies outside it; else "undecided" (more seeds). Paired runs share the seed's data order and initial heads, so the
difference's spread is small and 3 seeds can decide; the script prints each interval's half-width.

It also prints each arm's training-loop seconds (`timing.json`'s train_seconds: no loading, tokenising or
evaluation), so the speed bought by bf16 or compile is measured on the runs that give the scores; the arm order
rotates with the seed so that no arm always runs first, and a compiled run's compile time is inside its seconds.
A compile arm whose encoder fell back to eager stops the script. Every finished run is appended to `--rows`
(JSON lines) at once. bf16 only pays off on a CPU with bfloat16 instructions (`lscpu`: avx512_bf16 or amx_bf16);
elsewhere PyTorch emulates it, many times slower, and the trainer warns.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ARMS = {"fp32": {"precision": "fp32", "compile": False}, "bf16": {"precision": "bf16", "compile": False},
        "compile": {"precision": "fp32", "compile": True}, "bf16-compile": {"precision": "bf16", "compile": True}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="20,21,22", help="comma-separated seeds, at least 2 (default 20,21,22)")
    ap.add_argument("--arms", default="fp32,bf16,compile", help=f"comma-separated, from {', '.join(ARMS)}")
    ap.add_argument("--max-train", type=int, default=600, help="training examples per task (default 600)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    ap.add_argument("--margin", type=float, default=1.0, help="equivalence margin, dev points (default 1.0)")
    ap.add_argument("--rows", default="precision_parity.jsonl", help="JSON-lines file of every finished run")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = args.arms.split(",")
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        ap.error(f"--arms: unknown {unknown}; choose from {list(ARMS)}")
    if "fp32" not in arms:
        ap.error("--arms must include fp32 (the reference)")
    if len(seeds) < 2:
        ap.error("--seeds: at least 2 (the rule needs an interval over seeds)")

    import json
    import tempfile
    from pathlib import Path

    import numpy as np
    import torch

    from mtlcore import TrainConfig
    from mtlcore.reporting.verdicts import t_interval
    from mtlcore.tasks.lumbar import PATHOLOGIES
    from mtlcore.training.runs import train

    tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES]
    base = TrainConfig(tasks=tasks, mode="mtl", encoder=args.encoder, epochs=args.epochs, max_train=args.max_train,
                       lr=5e-5, head_lr=5e-5, class_weights="balanced", head_init="probe", device=args.device,
                       progress=False, save_checkpoint=False)
    print(f"six lumbar tasks, MTL, {args.max_train} examples per task, {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads, seeds {seeds}, arms {arms}, margin +-{args.margin} points")
    dev, seconds = {a: [] for a in arms}, {a: [] for a in arms}
    for i, seed in enumerate(seeds):
        for arm in arms[i % len(arms):] + arms[:i % len(arms)]:   # rotated: no arm always runs first
            if ARMS[arm]["compile"]:
                torch._dynamo.reset()   # each compiled run starts from a clean dynamo state
            with tempfile.TemporaryDirectory() as tmp:
                result = train(base.replace(seed=seed, **ARMS[arm]), out=Path(tmp) / "run")
                train_seconds = json.loads((Path(tmp) / "run" / "timing.json").read_text())["train_seconds"]
            if ARMS[arm]["compile"] and getattr(result.models["mtl"].encoder, "_compiled_call_impl", None) is None:
                raise SystemExit(f"seed {seed} {arm}: the encoder fell back to eager (see the warning): no comparison")
            dev[arm].append(100 * result.metrics["average"])
            seconds[arm].append(train_seconds)
            with open(args.rows, "a") as f:
                f.write(json.dumps({"seed": seed, "arm": arm, "dev": dev[arm][-1], "train_seconds": train_seconds,
                                    "max_train": args.max_train, "epochs": args.epochs}) + "\n")
            print(f"  seed {seed} {arm:12s}: dev {dev[arm][-1]:6.2f}  (training loop {train_seconds:6.1f} s)",
                  flush=True)
    print(f"\nfp32: dev {np.mean(dev['fp32']):.2f}, sd over seeds {np.std(dev['fp32'], ddof=1):.2f} points, "
          f"{np.median(seconds['fp32']):.1f} s a training loop (median)")
    for arm in arms:
        if arm == "fp32":
            continue
        diff = t_interval([a - b for a, b in zip(dev[arm], dev["fp32"])])
        if -args.margin <= diff.low and diff.high <= args.margin:
            verdict = "within seed noise (equivalent)"
        elif diff.high < -args.margin or diff.low > args.margin:
            verdict = "differs"
        else:
            verdict = "undecided (more seeds)"
        speed = np.median(seconds["fp32"]) / np.median(seconds[arm])
        print(f"{arm}: dev {np.mean(dev[arm]):.2f}; {arm} - fp32 {diff} points, half-width "
              f"{(diff.high - diff.low) / 2:.2f} vs margin {args.margin} -> {verdict}; "
              f"{np.median(seconds[arm]):.1f} s a training loop, {speed:.2f}x fp32's speed")

if __name__ == "__main__":
    main()
