"""Where a training step's time goes in mtlcore's loop: collation, forward, backward, clipping, optimiser.

    python benchmarks/step_profile.py [--setting multi|single] [--n 256] [--batch-size 16] [--encoder minilm-l6]

The same pieces as `Trainer._epoch` (one unit's length-grouped batches, `StepLosses`, the weighting,
`clip_grad_norm_`, AdamW, the schedule), timed separately with the loss values read back after the forward
pass (as the loop does), over one epoch's batches after two warm-up steps. `multi`: the six lumbar
pathologies sharing the level texts (one encoder pass, six heads); `single`: RTE.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from mtlcore import TrainConfig, batching
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.tasks.lumbar import PATHOLOGIES
    from mtlcore.training import Trainer, build_model
    from mtlcore.training.batching import prepare_data

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=["multi", "single"], default="multi")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--encoder", default="minilm-l6")
    args = ap.parse_args()
    tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES] if args.setting == "multi" else ["glue/rte"]
    cfg = TrainConfig(tasks=tasks, encoder=args.encoder, max_train=args.n, max_eval=8, batch_size=args.batch_size,
                      epochs=1, progress=False, save_checkpoint=False)
    tok = load_tokenizer(cfg.encoder)
    train, dev = prepare_data(cfg, tok)
    model, _ = build_model(cfg, cfg.tasks)
    trainer = Trainer(cfg, model, train, dev)
    unit_tasks = next(iter(trainer.units.values()))
    data = train[unit_tasks[0]]
    batches = batching.length_grouped_batches(data.lengths, cfg.batch_size, np.random.default_rng(0))
    parts = ["collate", "forward", "backward", "clip", "optimiser", "schedule + zero_grad"]
    spent = dict.fromkeys(parts, 0.0)
    for i, index in enumerate(batches):
        marks = [time.perf_counter()]
        batch = trainer.to_device(batching.collate(data, index, tok.pad_token_id or 0))
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        labels = {t: batching.collate_labels(train[t], index).to(trainer.device) for t in unit_tasks}
        marks.append(time.perf_counter())
        losses = trainer.step_losses(unit_tasks, inputs, labels)
        [loss.item() for loss in losses.values()]
        marks.append(time.perf_counter())
        trainer.weighting.combine(losses).backward()
        marks.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        marks.append(time.perf_counter())
        trainer.optimizer.step()
        marks.append(time.perf_counter())
        trainer.scheduler.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        marks.append(time.perf_counter())
        if i >= 2:
            for part, a, b in zip(parts, marks, marks[1:]):
                spent[part] += b - a
    total = sum(spent.values())
    steps = len(batches) - 2
    print(f"{args.setting}: {', '.join(tasks)}; {steps} steps, {1000 * total / steps:.0f} ms per step, "
          f"{torch.get_num_threads()} threads, device {trainer.device}")
    for part, s in spent.items():
        print(f"  {part:22s} {1000 * s / steps:7.1f} ms  {100 * s / total:5.1f}%")


if __name__ == "__main__":
    main()
