"""Where a training step's time goes in mtlcore's loop: collation, forward, backward, clipping, optimiser.

    python benchmarks/step_profile.py [--setting multi|single] [--n 256] [--batch-size 16] [--encoder minilm-l6]
                                      [--precision fp32|bf16] [--compile] [--batch-tokens N] [--profile-steps 8]

The same pieces as `Trainer._epoch` (one unit's length-grouped batches, `StepLosses`, the weighting,
`clip_grad_norm_`, AdamW, the schedule), timed separately with the loss values read back after the forward
pass (as the loop does), over one epoch's batches after two warm-up steps. `multi`: the six lumbar
pathologies sharing the level texts (one encoder pass, six heads); `single`: RTE.

Then `--profile-steps` steps under torch.profiler: each op's own (self) CPU time summed into op groups (matrix
products, attention, layer norm, softmax, dropout, element-wise, casts and copies, embedding, optimiser, other),
and the step's model FLOP/s (6 x non-embedding parameters x real tokens per second) as a share of this machine's
matmul peak in the same precision (`matmul_peak.py`, measured in the same run). `--precision bf16` runs the
forward pass under bfloat16 autocast as the trainer does.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from mtlcore import TrainConfig
    from mtlcore.training import batching
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.tasks.lumbar import PATHOLOGIES
    from mtlcore.training import Trainer, build_model
    from mtlcore.training.batching import prepare_data

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=["multi", "single"], default="multi")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--compile", action="store_true", help="torch.compile the encoder (TrainConfig compile)")
    ap.add_argument("--batch-tokens", type=int, help="batches of at most this many padded tokens (TrainConfig batch_tokens)")
    ap.add_argument("--profile-steps", type=int, default=8, help="steps timed by torch.profiler for the op-group table")
    args = ap.parse_args()
    tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES] if args.setting == "multi" else ["glue/rte"]
    cfg = TrainConfig(tasks=tasks, encoder=args.encoder, max_train=args.n, max_eval=8, batch_size=args.batch_size,
                      epochs=1, progress=False, save_checkpoint=False, precision=args.precision,
                      compile=args.compile, batch_tokens=args.batch_tokens)
    tok = load_tokenizer(cfg.encoder)
    train, dev = prepare_data(cfg, tok)
    model, _ = build_model(cfg, cfg.tasks)
    trainer = Trainer(cfg, model, train, dev)
    unit_tasks = next(iter(trainer.units.values()))
    data = train[unit_tasks[0]]
    batches = (trainer.token_plans[1][next(iter(trainer.units))] if cfg.batch_tokens else
               batching.length_grouped_batches(data.lengths, cfg.batch_size, np.random.default_rng(0)))

    def step(index) -> list[float]:
        marks = [time.perf_counter()]
        batch = trainer.to_device(batching.collate(data, index, tok.pad_token_id or 0))
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        labels = {t: batching.collate_labels(train[t], index).to(trainer.device) for t in unit_tasks}
        marks.append(time.perf_counter())
        with trainer.autocast():
            losses = {t: v.float() for t, v in trainer.step_losses(unit_tasks, inputs, labels).items()}
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
        return marks

    parts = ["collate", "forward", "backward", "clip", "optimiser", "schedule + zero_grad"]
    spent = dict.fromkeys(parts, 0.0)
    for i, index in enumerate(batches):
        marks = step(index)
        if i >= 2:
            for part, a, b in zip(parts, marks, marks[1:]):
                spent[part] += b - a
    total = sum(spent.values())
    steps = len(batches) - 2
    print(f"{args.setting}: {', '.join(tasks)}; {steps} steps, {1000 * total / steps:.0f} ms per step, "
          f"{torch.get_num_threads()} threads, device {trainer.device}")
    for part, s in spent.items():
        print(f"  {part:22s} {1000 * s / steps:7.1f} ms  {100 * s / total:5.1f}%")
    op_groups(step, batches, data, model, args)


# op name fragments -> group, first match wins (aten names of the pinned torch; self time, so nothing counts
# twice); element-wise ops and views by exact name (a fragment like 'aten::exp' would also take 'aten::expand')
GROUPS = (("attention", ("scaled_dot_product", "flash_attention", "_efficient_attention")),
          ("matrix products", ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_addmm_activation",
                               "mkldnn_matmul", "aten::linear", "aten::matmul", "addmmbackward", "mmbackward")),
          ("layer norm", ("layer_norm", "layernorm")),
          ("softmax", ("softmax",)),
          ("dropout", ("dropout", "bernoulli")),
          ("optimiser", ("adam", "_foreach", "clip_grad", "aten::norm", "linalg_vector_norm")),
          ("embedding", ("embedding",)))
EXACT = {"casts and copies": {"aten::copy_", "aten::to", "aten::_to_copy", "aten::clone", "aten::contiguous",
                              "aten::cat", "aten::stack", "aten::fill_", "aten::zero_", "aten::zeros",
                              "aten::zeros_like", "aten::empty", "aten::empty_like", "aten::ones_like"},
         "views and shapes": {"aten::view", "aten::reshape", "aten::expand", "aten::transpose", "aten::permute",
                              "aten::slice", "aten::select", "aten::unsqueeze", "aten::squeeze", "aten::as_strided",
                              "aten::t", "aten::_unsafe_view", "aten::split", "aten::chunk", "aten::narrow"},
         "element-wise": {"aten::add", "aten::add_", "aten::mul", "aten::mul_", "aten::div", "aten::div_",
                          "aten::sub", "aten::rsub", "aten::gelu", "aten::gelu_backward", "aten::tanh",
                          "aten::tanh_backward", "aten::where", "aten::exp", "aten::log", "aten::sum", "aten::mean",
                          "aten::neg", "aten::masked_fill", "aten::masked_fill_", "aten::pow", "aten::sqrt",
                          "aten::rsqrt", "aten::clamp", "aten::clamp_min", "aten::maximum", "aten::nll_loss_forward",
                          "aten::nll_loss_backward", "aten::_log_softmax", "aten::_log_softmax_backward_data",
                          "aten::threshold_backward", "aten::relu", "aten::sigmoid", "aten::abs", "aten::sign"}}


def group_of(name: str) -> str:
    for group, names in EXACT.items():
        if name in names:
            return group
    low = name.lower()
    return next((g for g, keys in GROUPS if any(k.lower() in low for k in keys)), "other")


def op_groups(step, batches, data, model, args) -> None:
    """The op-group table of `--profile-steps` steps under torch.profiler, and the share of the matmul peak."""
    from torch.profiler import ProfilerActivity, profile

    from matmul_peak import matmul_peak

    device = next(model.parameters()).device
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    chosen = batches[2:2 + args.profile_steps] or batches[:args.profile_steps]
    tokens = sum(int(data.lengths[index].sum()) for index in chosen)
    with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])) as prof:
        sync()
        t0 = time.perf_counter()
        for index in chosen:
            step(index)
        sync()
        seconds = time.perf_counter() - t0
    spent: dict[str, float] = {}
    for event in prof.key_averages():   # on a GPU the kernels' own device time, on a CPU the ops' own CPU time
        own = (event.self_device_time_total if cuda else event.self_cpu_time_total) / 1e6
        spent[group_of(event.key)] = spent.get(group_of(event.key), 0.0) + own
    total = sum(spent.values())
    print(f"\nop groups over {len(chosen)} profiled steps ({args.precision}; own time of each op, all threads' "
          f"ops in one sum: {total:.2f} s against {seconds:.2f} s of wall time with the profiler on)")
    for group, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {group:18s} {1000 * s / len(chosen):8.1f} ms/step  {100 * s / total:5.1f}%")
    non_embedding = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    plain_seconds = min(timed(step, chosen, sync), timed(step, chosen, sync))   # without the profiler, best of 2
    flops = 6 * non_embedding * tokens / plain_seconds / 1e12
    peak = matmul_peak(args.precision, device=device.type)
    print(f"matrix products (with attention): {100 * (spent.get('matrix products', 0) + spent.get('attention', 0)) / total:.1f}% "
          f"of the op time; model FLOP/s {flops:.3f} TFLOP/s (6 x {non_embedding / 1e6:.1f}M x {tokens} real tokens in "
          f"{plain_seconds:.2f} s) = {100 * flops / peak:.1f}% of this machine's {args.precision} matmul peak "
          f"{peak:.3f} TFLOP/s (2048 x 2048, best of 5, measured now)")


def timed(step, chosen, sync) -> float:
    sync()
    t0 = time.perf_counter()
    for index in chosen:
        step(index)
    sync()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
