"""What one multi-task model costs for k tasks of the same reports, vs k single-task models.

    python benchmarks/shared_input_step.py [--encoder minilm-l6] [--ks 1 2 6 12] [--steps 20] [--n 512]

Inputs are the grouped level texts of the lumbar MRI notes (`radiology/lumbar/*`, one input group).
k tasks sharing them: the six lumbar pathologies, repeated with further heads for k = 12 (each head
has its own labels' shape; the cost does not depend on the label values).

1. Training: the cost per example of one MTL step (one encoder pass, k heads, the weighted sum of k
   losses, backward, AdamW step) on the same length-grouped batches, relative to k = 1 (goal: k = 6
   under 1.15x). Median over `--steps` timed steps after 3 warm-up steps.
2. Inference: examples/second of ONE MTL model predicting all k tasks (`MultiTaskModel.predict`, one
   encoder pass per batch) vs k STL models predicting one task each on the same reports (k passes),
   and their ratio (goal at k = 6: at least 5x).

Both are measured in this process with torch's current thread count (printed); close other work first.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _tasks(k: int) -> list[str]:
    """k task names of the lumbar input group: the six pathologies, then copies registered under bench/."""
    from mtlcore.tasks import get_task, register_task
    from mtlcore.tasks.lumbar import PATHOLOGIES

    base = [f"radiology/lumbar/{p}" for p in PATHOLOGIES]
    names = []
    for i in range(k):
        spec = get_task(base[i % len(base)])
        if i < len(base):
            names.append(spec.name)
            continue
        copy = dataclasses.replace(spec, name=f"bench/copy{i // len(base)}/{spec.name.split('/')[-1]}")
        names.append(register_task(copy).name)
    return names


def _data(tasks: list[str], encoder: str, n: int):
    from mtlcore import TrainConfig
    from mtlcore.encoders import load_tokenizer
    from mtlcore.train import prepare_split

    cfg = TrainConfig(tasks=tasks, encoder=encoder, max_train=n, progress=False, device="cpu")
    tok = load_tokenizer(encoder)
    return cfg, tok, prepare_split(cfg, tok, "train")


def train_step_cost(k: int, encoder: str, n: int, steps: int, batch_size: int) -> float:
    """Median seconds per example of a shared-input MTL step with k heads."""
    from mtlcore import batching
    from mtlcore.train import Trainer, build_model

    tasks = _tasks(k)
    cfg, tok, train = _data(tasks, encoder, n)
    cfg = cfg.replace(batch_size=batch_size)
    model, _ = build_model(cfg, tasks)
    trainer = Trainer(cfg, model, train, {})
    first = train[tasks[0]]
    batches = batching.length_grouped_batches(first.lengths, batch_size, np.random.default_rng(0))
    times = []
    for i in range(steps + 3):
        index = batches[i % len(batches)]
        t0 = time.perf_counter()
        batch = batching.collate(first, index, tok.pad_token_id or 0)
        labels = {t: batching.collate_labels(train[t], index) for t in tasks}
        losses = trainer.unit_losses(tasks, batch, labels) if k > 1 else {tasks[0]: trainer.batch_loss(tasks[0], batch)}
        trainer.weighting.combine(losses).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        if i >= 3:
            times.append((time.perf_counter() - t0) / len(index))
    return statistics.median(times)


def inference_throughput(k: int, encoder: str, n: int, batch_size: int) -> tuple[float, float]:
    """(examples/s of one MTL model predicting k tasks, examples/s of k STL models predicting one task each)."""
    from mtlcore.tasks import load_task
    from mtlcore.train import build_model

    tasks = _tasks(k)
    cfg, tok, _ = _data(tasks, encoder, n)
    texts = [t[0] for t in load_task(tasks[0])["train"].texts[:n]]
    mtl, _ = build_model(cfg, tasks)
    stl, _ = build_model(cfg.replace(tasks=tasks[:1], mode="stl"), tasks[:1])  # k STL models cost k passes of one
    mtl.predict(tok, texts[:batch_size], batch_size=batch_size)  # warm-up
    t0 = time.perf_counter()
    mtl.predict(tok, texts, batch_size=batch_size)
    one = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(k):
        stl.predict(tok, texts, batch_size=batch_size)
    many = len(texts) / (time.perf_counter() - t0)
    return one, many


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 6, 12])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--n", type=int, default=512, help="reports (level texts) used")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    print(f"encoder {args.encoder}, torch threads {torch.get_num_threads()}, batch {args.batch_size}, "
          f"{args.steps} timed training steps, {args.n} texts for inference")
    base = None
    print(f"{'k':>3} {'train ms/example':>17} {'vs k=1':>7} {'MTL ex/s':>9} {'k STL ex/s':>11} {'MTL / k STL':>12}")
    for k in args.ks:
        cost = train_step_cost(k, args.encoder, args.n, args.steps, args.batch_size)
        base = base or cost
        one, many = inference_throughput(k, args.encoder, args.n, 64)
        print(f"{k:>3} {1000 * cost:>17.2f} {cost / base:>6.2f}x {one:>9.1f} {many:>11.1f} {one / many:>11.2f}x", flush=True)


if __name__ == "__main__":
    main()
