"""Training throughput of mtlcore's loop vs Hugging Face's `Trainer`, plain and with its own length grouping.

    python benchmarks/train_throughput.py [--task glue/rte] [--n 256] [--batch-size 16] [--encoder minilm-l6]
                                          [--rounds 3] [--setting single|multi|both] [--k 6] [--precision bf16]
                                          [--peak-tflops 989] [--compile] [--batch-tokens N]

Two settings. `single`: one task (`--task`, default RTE), a `MultiTaskModel` with one head. `multi`: k tasks
that share their inputs (`--k` of the six lumbar pathologies, which label the same level texts): one
model with k heads. In both, every arm trains the same model on the same examples with the same batch
size, optimiser and schedule for one epoch; no evaluation is timed. mtlcore groups batches by length (its
default) and, in `multi`, runs the encoder once per batch for all k heads. The Trainer gets its standard
dynamic padding (`DataCollatorWithPadding`), once as is and once with `train_sampling_strategy=
"group_by_length"` (the pinned transformers' name for length grouping: the peer an expert would set
up); in `multi` the expert's model is the same k-head model behind Trainer's interface: one encoder pass,
the sum of the k losses (what mtlcore's equal weighting computes). The arms run in alternating rounds;
the medians of examples/second and both ratios are printed per setting, and the model FLOP/s of mtlcore's
training (6 x non-embedding parameters x real tokens per second) with its share of the peak of the precision
trained in: on a CPU the machine's own, measured in the same run (`matmul_peak.py`: best of 5 2048 x 2048
matmuls), on a GPU the data sheet's bf16 peak (or `--peak-tflops`).

`--compile`: mtlcore's encoder through torch.compile (TrainConfig `compile`), and the Trainer arms with their own
`torch_compile=True` (the expert's peer); the compile time is inside each round's time (the first round compiles,
later rounds read inductor's cache), so the medians show the steady state and round 1 the first run's cost.
`--batch-tokens N`: mtlcore's batches sized by tokens (TrainConfig `batch_tokens`; the Trainer has no such
sampler and keeps batches of `--batch-size` examples).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def mtlcore_throughput(cfg) -> float:
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training import Trainer, build_model
    from mtlcore.training.batching import prepare_data

    tok = load_tokenizer(cfg.encoder)
    train, dev = prepare_data(cfg, tok)
    model, _ = build_model(cfg, cfg.tasks)
    trainer = Trainer(cfg, model, train, {t: d for t, d in dev.items()})
    trainer.evaluate = lambda data=None: {"tasks": {}, "average": 0.0}  # time training only
    n = sum(len(train[ts[0]]) for ts in trainer.units.values()) * cfg.epochs  # texts (a shared text counts once)
    tokens = sum(int(train[ts[0]].lengths.sum()) for ts in trainer.units.values()) * cfg.epochs
    t0 = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - t0
    non_embedding = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    LAST_FLOPS["per_second"] = 6 * non_embedding * tokens / seconds  # training FLOPs ~ 6 N D (real tokens)
    LAST_FLOPS["non_embedding"] = non_embedding
    return n / seconds


LAST_FLOPS: dict[str, float] = {}


class _LossModel(torch.nn.Module):
    """The same MultiTaskModel behind the (input_ids, attention_mask, labels) -> {'loss'} interface Trainer expects;
    with several tasks (sharing the inputs) one encoder pass feeds every head and the losses are summed."""

    def __init__(self, model, tasks):
        super().__init__()
        self.model, self.tasks = model, list(tasks)

    def forward(self, input_ids, attention_mask, labels, token_type_ids=None):
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        if len(self.tasks) == 1:
            out = self.model(task=self.tasks[0], **inputs)
            return {"loss": self.model.loss(self.tasks[0], out.logits, labels), "logits": out.logits}
        logits = self.model.forward_tasks(self.tasks, **inputs)
        loss = sum(self.model.loss(t, logits[t], labels[:, i]) for i, t in enumerate(self.tasks))
        return {"loss": loss}


def hf_trainer_throughput(cfg, group_by_length: bool = False) -> float:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training import build_model
    from mtlcore.training.batching import prepare_data

    tok = load_tokenizer(cfg.encoder)
    train, _ = prepare_data(cfg, tok)
    enc = train[cfg.tasks[0]]
    labels = (enc.labels.tolist() if len(cfg.tasks) == 1 else
              [list(row) for row in zip(*(train[t].labels.tolist() for t in cfg.tasks))])
    rows = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": y} for ids, y in zip(enc.input_ids, labels)]
    model, _ = build_model(cfg, cfg.tasks)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.batch_size, num_train_epochs=cfg.epochs,
                                 learning_rate=cfg.lr, weight_decay=cfg.weight_decay,
                                 warmup_steps=int(cfg.warmup_ratio * cfg.epochs * -(-len(rows) // cfg.batch_size)),
                                 max_grad_norm=cfg.grad_clip, lr_scheduler_type="linear", save_strategy="no",
                                 eval_strategy="no", logging_strategy="no", report_to=[], seed=cfg.seed,
                                 disable_tqdm=True, use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
                                 bf16=cfg.precision == "bf16", torch_compile=cfg.compile,
                                 **({"train_sampling_strategy": "group_by_length"} if group_by_length else {}))
        trainer = Trainer(model=_LossModel(model, cfg.tasks), args=args, train_dataset=rows,
                          data_collator=DataCollatorWithPadding(tok))
        t0 = time.perf_counter()
        trainer.train()
        return len(rows) * cfg.epochs / (time.perf_counter() - t0)


def measure(cfg, rounds: int, label: str) -> dict[str, float]:
    """Alternating rounds of the three arms on `cfg`; prints and returns the medians (examples/second)."""
    import statistics

    arms = {"mtlcore.training.runs": lambda: mtlcore_throughput(cfg),
            "transformers.Trainer": lambda: hf_trainer_throughput(cfg),
            "Trainer, group_by_length": lambda: hf_trainer_throughput(cfg, group_by_length=True)}
    speeds: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(rounds):
        for name, arm in arms.items():
            speeds[name].append(arm())
        print(f"[{label}] round {r + 1}: " + ", ".join(f"{n} {v[-1]:.1f}" for n, v in speeds.items()), flush=True)
    med = {n: statistics.median(v) for n, v in speeds.items()}
    for n, v in med.items():
        print(f"[{label}] {n:26s}: {v:8.1f} examples/s (median of {rounds})")
    print(f"[{label}] ratio mtlcore / Trainer                  : {med['mtlcore.training.runs'] / med['transformers.Trainer']:6.2f}")
    print(f"[{label}] ratio mtlcore / Trainer, group_by_length : "
          f"{med['mtlcore.training.runs'] / med['Trainer, group_by_length']:6.2f}", flush=True)
    return med


def main() -> None:
    from mtlcore import TrainConfig
    from mtlcore.tasks.lumbar import PATHOLOGIES

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", default="glue/rte", help="the single-task setting's task")
    ap.add_argument("--n", type=int, default=256, help="training examples (texts)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians are reported)")
    ap.add_argument("--setting", choices=["single", "multi", "both"], default="both")
    ap.add_argument("--k", type=int, default=6, choices=range(2, len(PATHOLOGIES) + 1),
                    help="tasks sharing their inputs in the multi-task setting (lumbar pathologies)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16 autocast (every arm)")
    ap.add_argument("--peak-tflops", type=float, help="the device's peak TFLOP/s in --precision (default: measured on a "
                    "CPU, a known GPU's bf16 data sheet)")
    ap.add_argument("--compile", action="store_true", help="torch.compile: mtlcore's encoder, the Trainer's torch_compile")
    ap.add_argument("--batch-tokens", type=int, help="mtlcore's batches: at most this many padded tokens each")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    base = TrainConfig(tasks=[args.task], mode="stl", encoder=args.encoder, max_train=args.n, max_eval=8,
                       batch_size=args.batch_size, epochs=1, progress=False, save_checkpoint=False, seed=0,
                       precision=args.precision, compile=args.compile, batch_tokens=args.batch_tokens)
    settings = {"single": base,
                "multi": base.replace(tasks=[f"radiology/lumbar/{p}" for p in PATHOLOGIES[:args.k]], mode="mtl")}
    print(f"{args.n} examples, batch {args.batch_size}" + (f" (mtlcore: {args.batch_tokens} tokens)" if args.batch_tokens
          else "") + (", compiled" if args.compile else "") + f", encoder {args.encoder}, {args.precision}, "
          f"{torch.get_num_threads()} threads, device {device}")
    if args.peak_tflops:
        peak, what = args.peak_tflops, "given"
    elif device == "cuda":
        peak, what = PEAK_BF16_TFLOPS.get(_gpu_kind()), "data sheet bf16"
    else:
        from matmul_peak import matmul_peak

        peak, what = matmul_peak(args.precision), f"measured {args.precision} 2048 x 2048 matmul, best of 5"
        print(f"this machine's {args.precision} matmul peak: {peak:.3f} TFLOP/s")
    for name in (["single", "multi"] if args.setting == "both" else [args.setting]):
        cfg = settings[name]
        print(f"\n[{name}] tasks: {', '.join(cfg.tasks)}", flush=True)
        measure(cfg, args.rounds, name)
        flops = LAST_FLOPS["per_second"] / 1e12  # mtlcore's last round
        share = f", {100 * flops / peak:.1f}% of the {peak:.3g} TFLOP/s peak ({what})" if peak else ""
        print(f"[{name}] mtlcore model FLOP/s (6 x {LAST_FLOPS['non_embedding'] / 1e6:.1f}M non-embedding parameters "
              f"x real tokens / s, last round): {flops:.3f} TFLOP/s{share}")


# dense bf16 tensor-core peaks from the vendors' data sheets (SXM parts), for the share of peak
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def _gpu_kind() -> str | None:
    name = torch.cuda.get_device_name()
    return next((k for k in PEAK_BF16_TFLOPS if k in name), None)


if __name__ == "__main__":
    main()
