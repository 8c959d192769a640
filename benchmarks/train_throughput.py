"""Training throughput of mtlcore's loop vs Hugging Face's `Trainer`, plain and with its own length grouping.

    python benchmarks/train_throughput.py [--task glue/rte] [--n 256] [--batch-size 16] [--encoder minilm-l6]
                                          [--rounds 3]

All three train the same model (`MultiTaskModel`: MiniLM encoder + one linear head) on the same
examples with the same batch size, optimiser and schedule for one epoch; no evaluation is timed.
The Trainer gets its standard dynamic padding (`DataCollatorWithPadding`), once as is and once with
`train_sampling_strategy="group_by_length"` (the pinned transformers' name for length grouping: the peer
an expert would set up); mtlcore groups batches by length (its default). The three run in alternating
rounds; the medians of examples/second and both ratios are printed.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def mtlcore_throughput(cfg) -> float:
    from mtlcore.encoders import load_tokenizer
    from mtlcore.train import Trainer, build_model, prepare_data

    tok = load_tokenizer(cfg.encoder)
    train, dev = prepare_data(cfg, tok)
    model, _ = build_model(cfg, cfg.tasks)
    trainer = Trainer(cfg, model, train, {t: d for t, d in dev.items()})
    trainer.evaluate = lambda data=None: {"tasks": {}, "average": 0.0}  # time training only
    t0 = time.perf_counter()
    trainer.fit()
    return sum(len(d) for d in train.values()) * cfg.epochs / (time.perf_counter() - t0)


class _LossModel(torch.nn.Module):
    """The same MultiTaskModel behind the (input_ids, attention_mask, labels) -> {'loss'} interface Trainer expects."""

    def __init__(self, model, task):
        super().__init__()
        self.model, self.task = model, task

    def forward(self, input_ids, attention_mask, labels, token_type_ids=None):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, task=self.task)
        return {"loss": self.model.loss(self.task, out.logits, labels), "logits": out.logits}


def hf_trainer_throughput(cfg, group_by_length: bool = False) -> float:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from mtlcore.encoders import load_tokenizer
    from mtlcore.train import build_model, prepare_data

    tok = load_tokenizer(cfg.encoder)
    train, _ = prepare_data(cfg, tok)
    task = cfg.tasks[0]
    enc = train[task]
    rows = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": int(y)}
            for ids, y in zip(enc.input_ids, enc.labels)]
    model, _ = build_model(cfg, cfg.tasks)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.batch_size, num_train_epochs=cfg.epochs,
                                 learning_rate=cfg.lr, weight_decay=cfg.weight_decay,
                                 warmup_steps=int(cfg.warmup_ratio * cfg.epochs * -(-len(rows) // cfg.batch_size)),
                                 max_grad_norm=cfg.grad_clip, lr_scheduler_type="linear", save_strategy="no",
                                 eval_strategy="no", logging_strategy="no", report_to=[], seed=cfg.seed,
                                 disable_tqdm=True, use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
                                 **({"train_sampling_strategy": "group_by_length"} if group_by_length else {}))
        trainer = Trainer(model=_LossModel(model, task), args=args, train_dataset=rows,
                          data_collator=DataCollatorWithPadding(tok))
        t0 = time.perf_counter()
        trainer.train()
        return len(rows) * cfg.epochs / (time.perf_counter() - t0)


def main() -> None:
    from mtlcore import TrainConfig

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", default="glue/rte")
    ap.add_argument("--n", type=int, default=256, help="training examples")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians are reported)")
    args = ap.parse_args()
    cfg = TrainConfig(tasks=[args.task], mode="stl", encoder=args.encoder, max_train=args.n, max_eval=8,
                      batch_size=args.batch_size, epochs=1, progress=False, save_checkpoint=False, seed=0)
    print(f"task {args.task}, {args.n} examples, batch {args.batch_size}, encoder {args.encoder}, "
          f"{torch.get_num_threads()} threads, device {'cuda' if torch.cuda.is_available() else 'cpu'}")
    import statistics

    arms = {"mtlcore.train": lambda: mtlcore_throughput(cfg),
            "transformers.Trainer": lambda: hf_trainer_throughput(cfg),
            "Trainer, group_by_length": lambda: hf_trainer_throughput(cfg, group_by_length=True)}
    speeds = {name: [] for name in arms}
    for r in range(args.rounds):
        for name, arm in arms.items():
            speeds[name].append(arm())
        print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.1f}" for n, v in speeds.items()), flush=True)
    med = {n: statistics.median(v) for n, v in speeds.items()}
    for n, v in med.items():
        print(f"{n:26s}: {v:8.1f} examples/s (median of {args.rounds})")
    print(f"ratio mtlcore / Trainer                  : {med['mtlcore.train'] / med['transformers.Trainer']:6.2f}")
    print(f"ratio mtlcore / Trainer, group_by_length : "
          f"{med['mtlcore.train'] / med['Trainer, group_by_length']:6.2f}")


if __name__ == "__main__":
    main()
