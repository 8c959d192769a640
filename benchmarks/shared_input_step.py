"""What one multi-task model costs for k tasks of the same reports, vs k single-task models.

    python benchmarks/shared_input_step.py [--encoder minilm-l6] [--ks 1 2 6 12] [--steps 20] [--n 512]

Inputs are the grouped level texts of the lumbar MRI notes (`radiology/lumbar/*`, one input group).
k tasks sharing them: the six lumbar pathologies, repeated with further heads for k = 12 (each head
has its own labels' shape; the cost does not depend on the label values).

1. Training: the cost per example of one MTL step (one encoder pass, k heads, the weighted sum of k
   losses, backward, AdamW step) on the same length-grouped batches, relative to k = 1 (goal: k = 6
   under 1.15x). Median over `--steps` timed steps after 3 warm-up steps.
2. Inference: examples/second of ONE MTL model predicting all k tasks (`MultiTaskModel.predict`, one
   encoder pass per batch) vs k STL models predicting one task each on the same reports (k passes of
   a same-size single-head model), and their ratio (goal at k = 6: at least 5x).

All k are measured in alternating rounds (medians), so drifting machine load affects them alike;
torch's thread count is printed. Close other work first.
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

from mtlcore.training import batching  # noqa: E402


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
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training.batching import prepare_split

    cfg = TrainConfig(tasks=tasks, encoder=encoder, max_train=n, progress=False, device="cpu")
    tok = load_tokenizer(encoder)
    return cfg, tok, prepare_split(cfg, tok, "train")


class StepBench:
    """A shared-input MTL step with k heads on fixed length-grouped batches; `run(steps)` -> seconds per example."""

    def __init__(self, k: int, encoder: str, n: int, batch_size: int):
        from mtlcore.training import Trainer, build_model

        self.tasks = _tasks(k)
        cfg, self.tok, self.train = _data(self.tasks, encoder, n)
        cfg = cfg.replace(batch_size=batch_size)
        self.model, _ = build_model(cfg, self.tasks)
        self.trainer = Trainer(cfg, self.model, self.train, {})
        first = self.train[self.tasks[0]]
        self.batches = batching.length_grouped_batches(first.lengths, batch_size, np.random.default_rng(0))
        self.i = 0

    def run(self, steps: int) -> float:
        first, times = self.train[self.tasks[0]], []
        for _ in range(steps):
            index = self.batches[self.i % len(self.batches)]
            self.i += 1
            t0 = time.perf_counter()
            batch = batching.collate(first, index, self.tok.pad_token_id or 0)
            labels = {t: batching.collate_labels(self.train[t], index) for t in self.tasks}
            losses = (self.trainer.unit_losses(self.tasks, batch, labels) if len(self.tasks) > 1
                      else {self.tasks[0]: self.trainer.batch_loss(self.tasks[0], batch)})
            self.trainer.weighting.combine(losses).backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.trainer.optimizer.step()
            self.trainer.optimizer.zero_grad(set_to_none=True)
            times.append((time.perf_counter() - t0) / len(index))
        return statistics.median(times)


def inference_seconds(model, tok, texts: list[str], repeats: int, batch_size: int = 64) -> float:
    """Seconds for `repeats` predict passes of `model` over `texts` (every head of the model each time)."""
    t0 = time.perf_counter()
    for _ in range(repeats):
        model.predict(tok, texts, batch_size=batch_size)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 6, 12])
    ap.add_argument("--steps", type=int, default=10, help="timed training steps per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds over k; medians are reported")
    ap.add_argument("--n", type=int, default=512, help="reports (level texts) used")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    from mtlcore.tasks import load_task

    print(f"encoder {args.encoder}, torch threads {torch.get_num_threads()}, batch {args.batch_size}; medians of "
          f"{args.rounds} alternating rounds ({args.steps} training steps each); {args.n} texts for inference")
    benches = {k: StepBench(k, args.encoder, args.n, args.batch_size) for k in args.ks}
    for b in benches.values():
        b.run(2)  # warm-up
    texts = [t[0] for t in load_task("radiology/lumbar/disc_bulge")["train"].texts[:args.n]]
    one_head = _single_head(benches[args.ks[0]].model)  # same encoder weights, one head; used in eval mode only
    train_cost = {k: [] for k in args.ks}
    mtl_rate = {k: [] for k in args.ks}
    stl_rate = {k: [] for k in args.ks}
    for _ in range(args.rounds):
        for k, b in benches.items():
            train_cost[k].append(b.run(args.steps))
            b.model.eval()
            mtl_rate[k].append(len(texts) / inference_seconds(b.model, b.tok, texts, 1))
            stl_rate[k].append(len(texts) / inference_seconds(one_head, b.tok, texts, k))  # k STL models = k passes
            b.model.train()
    med = {k: statistics.median(v) for k, v in train_cost.items()}
    base = med[min(args.ks)]
    print(f"{'k':>3} {'train ms/example':>17} {'vs k=1':>7} {'MTL ex/s':>9} {'k STL ex/s':>11} {'MTL / k STL':>12}")
    for k in args.ks:
        one, many = statistics.median(mtl_rate[k]), statistics.median(stl_rate[k])
        print(f"{k:>3} {1000 * med[k]:>17.2f} {med[k] / base:>6.2f}x {one:>9.1f} {many:>11.1f} {one / many:>11.2f}x")
    print("goals: training at k=6 under 1.15x of k=1; inference at k=6 at least 5x k STL models")


def _single_head(model):
    """An STL model: the same encoder with one head (what each of the k STL models costs per pass)."""
    from mtlcore.training.models import MultiTaskModel

    return MultiTaskModel(model.encoder, model.tasks[:1], model.pooling, model.dropout.p)


if __name__ == "__main__":
    main()
