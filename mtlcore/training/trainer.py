"""The training loop for single-task (STL) and multi-task (MTL) models: `Trainer`, and the data it eats.

Each step samples a task (see `batching.task_schedule`), takes a length-grouped batch of it, and
back-propagates the weighted loss (`weighting`). Tasks that share their inputs (`TaskSpec.input_group`,
e.g. the pathologies of one report) form one unit in an MTL run: its step takes a batch of the
shared texts, runs the encoder ONCE and combines every head's loss with the weighting, so k such
tasks cost about one encoder pass instead of k (`shared_inputs=False` restores one task per step).
After every epoch all tasks are evaluated on dev; the epoch with the best GLUE-style average is
kept, and tasks with a test split are then scored on test (`metrics["test"]`): model selection on
dev, numbers on test. A non-finite loss, gradient norm or model output stops training with
`DivergenceError`. Callbacks hook analyses (gradient cosines, representations) into the loop
without changing it; their records are part of each epoch's checkpoint, so a resumed run keeps
them. `grad_accumulation: N` sums the gradients of N consecutive batches (each loss divided by N) into
one optimiser step; the learning-rate schedule and callbacks count optimiser steps. Under `torchrun`
the step's forward pass (`StepLosses`) is wrapped in DistributedDataParallel: every rank follows the same
schedule, computes its share of each global batch and DDP reduces the step's combined gradient once
(see `mtlcore.training.distributed`); evaluation is split over the ranks and gathered. Run folders, resume and
STL layout: `mtlcore.training.runs`.
"""
from __future__ import annotations

import contextlib
import copy
import math
import pickle
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from . import batching
from .batching import input_units
from .._io import atomic_torch_save, plain, resolve_device, warn
from .distributed import SINGLE, DistContext, rank_device, shard
from .config import ConfigError, TrainConfig
from .encoders import load_encoder
from ..analysis.metrics import task_metrics, task_score
from .callbacks import Callback
from .models import MultiTaskModel, count_parameters
from .weighting import class_weights, make_weighting


def _epoch_line(epoch: int, epochs: int, metrics: dict, seconds: float) -> str:
    """'epoch 2/5  dev 83.4  (disc_bulge 80.1, herniation 86.7)  train loss 0.41  37 s' (scores in points)."""
    tasks = ", ".join(f"{t.split('/')[-1]} {100 * v['score']:.1f}" for t, v in metrics["tasks"].items())
    loss = np.mean(list(metrics["train_loss"].values())) if metrics["train_loss"] else float("nan")
    return (f"epoch {epoch}/{epochs}  dev {100 * metrics['average']:.1f}  ({tasks})  train loss {loss:.3f}  "
            f"{seconds:.0f} s")


def cpu_bf16_support() -> bool | None:
    """Whether this CPU has native bfloat16 matrix instructions (AVX512-BF16 or AMX-BF16), from
    /proc/cpuinfo's flags; None where that file cannot be read (not Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss, gradient or output; the message says where."""


class UndefinedScoreError(RuntimeError):
    """No epoch had a defined dev score, so there is no model to keep; the message says which tasks."""


def compile_encoder(model: MultiTaskModel) -> bool:
    """`torch.compile` the encoder in place (inductor, dynamic shapes: batches vary in size and length; the
    parameter names and checkpoints do not change), and compile it now on a dummy batch (forward and backward in
    training mode, the random state restored, the gradients dropped): a failure (no C++ compiler, an unsupported
    op) leaves the encoder eager with a warning instead of stopping the run, and changes nothing process-wide.
    Compiled kernels are cached across runs (inductor's FX graph cache, TORCHINDUCTOR_CACHE_DIR). Returns whether
    the encoder is compiled."""
    encoder = model.encoder
    if not hasattr(encoder, "compile"):
        warn("compile: this torch has no nn.Module.compile; training eagerly")
        return False
    encoder.compile(dynamic=True)
    device, was_training = next(encoder.parameters()).device, encoder.training
    ids = torch.ones((2, 8), dtype=torch.long, device=device)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            encoder.train()
            out = encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            if out.requires_grad:   # (a frozen encoder has no backward to compile)
                out.float().sum().backward()
    except Exception as e:  # noqa: BLE001 - any compiler failure: train eagerly
        encoder._compiled_call_impl = None   # what nn.Module.compile set: the eager forward again
        warn(f"compile: torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}); "
             "training eagerly")
        return False
    finally:
        encoder.train(was_training)
        for param in encoder.parameters():
            param.grad = None
    return True


def build_model(cfg: TrainConfig, tasks: Sequence[str]) -> tuple[MultiTaskModel, object]:
    """Fresh encoder + heads for `tasks`; the heads (and a tiny encoder) are initialised from `cfg.seed`."""
    encoder, tokenizer = load_encoder(cfg.encoder, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    model = MultiTaskModel(encoder, tasks, cfg.pooling, cfg.dropout, encoder_name=cfg.encoder)
    if cfg.adapter:
        from .adapters import add_adapters

        add_adapters(model.encoder, cfg.adapter_size)
    if cfg.alignment:
        from .alignment import add_alignment

        add_alignment(model)
    return model, tokenizer


class StepLosses(torch.nn.Module):
    """One training step's forward pass as a module (what DDP wraps): {task: unweighted mean loss} of `tasks`
    on one batch of inputs, from one encoder pass when the tasks share their inputs."""

    def __init__(self, model: MultiTaskModel):
        super().__init__()
        self.model = model

    def forward(self, tasks: Sequence[str], inputs: dict, labels: dict) -> dict[str, torch.Tensor]:
        if len(tasks) == 1:
            return {tasks[0]: self.model.loss(tasks[0], self.model(task=tasks[0], **inputs).logits, labels[tasks[0]])}
        logits = self.model.forward_tasks(tasks, **inputs)
        return {t: self.model.loss(t, logits[t], labels[t]) for t in tasks}


class Trainer:
    """Trains `model` on `train` ({task: Encoded}) and evaluates on `dev`; see the module docstring.

    `dist` is this process's place in a torchrun job (default: a single process); only its main
    process writes checkpoints and callback files."""

    def __init__(self, cfg: TrainConfig, model: MultiTaskModel, train: dict, dev: dict,
                 callbacks: Sequence[Callback] = (), folder: Path | None = None, pad_id: int = 0,
                 test: dict | None = None, dist: DistContext = SINGLE):
        self.cfg, self.model, self.train_data, self.dev_data, self.test_data = cfg, model, train, dev, test or {}
        self.shared = cfg.mode == "mtl" and cfg.shared_inputs and not cfg.alignment
        self.units = input_units(train, self.shared)
        self.callbacks, self.folder, self.pad_id, self.dist = list(callbacks), folder, pad_id, dist
        self.device = resolve_device(rank_device(cfg.device, dist))
        weights = None if cfg.task_weights is None else {t: cfg.task_weights[t] for t in train}
        self.weighting = make_weighting(cfg.weighting, list(train), weights)
        self.step = 0
        if cfg.precision == "bf16" and self.device.type == "cpu" and cpu_bf16_support() is False:
            warn("precision bf16 on a CPU without AVX512-BF16 or AMX: bfloat16 matrix products are emulated there "
                 "and train far slower than fp32 (measured ~30x on an AVX2 CPU)")
        self.model.to(self.device)
        self.model.class_weights = {
            t: w for t, enc in train.items() if enc.task.kind == "classification"
            and (w := class_weights(enc.labels, enc.task.num_outputs, cfg.class_weights)) is not None}
        if cfg.freeze_encoder:
            for p in self.model.encoder.parameters():
                p.requires_grad_(False)
        self.losses = self.step_losses = StepLosses(self.model)
        if dist.enabled:  # heads of other units (and e.g. an encoder's unused pooler) get no gradient in a step
            self.step_losses = torch.nn.parallel.DistributedDataParallel(
                self.step_losses, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=True, forward_sync_buffers=False)
        # batch_tokens: every epoch's token-sized batches are planned here (their own generator, so the plain path's
        # draws are untouched), as the schedule needs the run's number of steps
        self.token_plans = {epoch: {u: batching.token_batches(train[ts[0]].lengths, cfg.batch_tokens,
                                                              np.random.default_rng([cfg.seed, epoch, 3, i]))
                                    for i, (u, ts) in enumerate(self.units.items())}
                            for epoch in range(1, cfg.epochs + 1)} if cfg.batch_tokens else {}
        per_epoch = ([sum(map(len, plan.values())) for plan in self.token_plans.values()] if cfg.batch_tokens else
                     [sum(math.ceil(len(train[ts[0]]) / cfg.batch_size) for ts in self.units.values())] * cfg.epochs)
        self.batches_per_epoch = per_epoch[0]
        self.steps_per_epoch = math.ceil(self.batches_per_epoch / cfg.grad_accumulation)  # optimiser steps
        total = sum(math.ceil(b / cfg.grad_accumulation) for b in per_epoch)
        if cfg.compile:
            compile_encoder(self.model)
        # the fused AdamW kernel (as transformers.Trainer's default adamw_torch_fused): on MiniLM-L6 a CPU step of
        # the optimiser takes 7 ms instead of the per-tensor loop's 67 ms, a fifth of a training step
        self.optimizer = torch.optim.AdamW(self._param_groups(), lr=cfg.lr, fused=self.device.type in ("cpu", "cuda"))
        # (the plain path's expression as it always was: int(0.15 * 180) is not int(0.15 * 3 * 60))
        warm = int(cfg.warmup_ratio * total) if cfg.batch_tokens else int(cfg.warmup_ratio * cfg.epochs * self.steps_per_epoch)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    def learning_rate(self, name: str) -> float:
        """The peak learning rate of parameter `name`: heads at `head_lr`, the alignment matrices R_i at
        `alignment_lr` (else `head_lr`), an adapted encoder's trainable parameters (adapters, LayerNorms) at
        `adapter_lr`, everything else at `lr`; an unset one falls back to `lr`."""
        cfg = self.cfg
        if name.startswith("heads."):
            return cfg.head_lr or cfg.lr
        if name.startswith("alignment."):
            return cfg.alignment_lr or cfg.head_lr or cfg.lr
        if cfg.adapter and name.startswith("encoder."):
            return cfg.adapter_lr or cfg.lr
        return cfg.lr

    def _param_groups(self) -> list[dict]:
        """One group per (learning rate, weight decay): decay on weight matrices only; the alignment matrices R_i
        get none (decay would pull them towards 0, not towards their identity init)."""
        groups: dict[tuple[float, float], list] = {}
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                continue
            plain = name.startswith("alignment.") or p.ndim < 2 or "LayerNorm" in name
            key = (self.learning_rate(name), 0.0 if plain else self.cfg.weight_decay)
            groups.setdefault(key, []).append(p)
        return [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]

    # -- pieces callbacks may use --------------------------------------------------------------

    def to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device) for k, v in batch.items()}

    def autocast(self):
        """bfloat16 autocast of the training forward pass when `precision: bf16` (weights, gradients and the
        optimiser stay fp32; evaluation runs in fp32)."""
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                              enabled=self.cfg.precision == "bf16")

    def batch_loss(self, task: str, batch: dict) -> torch.Tensor:
        """Unweighted mean loss of `task` on one collated batch (moved to the device)."""
        return self.unit_losses([task], batch, {task: batch["labels"]})[task]

    def unit_losses(self, tasks: Sequence[str], batch: dict, labels: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{task: unweighted mean loss} of tasks sharing one batch of inputs, from one encoder pass (the training
        step's `StepLosses`, here not through DDP: for diagnostics and benchmarks)."""
        return self.losses(tasks, {k: v for k, v in batch.items() if k != "labels"}, labels)

    def sample_batch(self, task: str, size: int | None = None, seed: int = 0) -> dict:
        """A random training batch of `task` (on the device), e.g. for gradient diagnostics. Tasks of one input
        group get the same examples for the same `seed` (same data size, same generator): per-task gradients
        of one batch."""
        data = self.train_data[task]
        rng = np.random.default_rng([self.cfg.seed, seed, 7])
        index = rng.choice(len(data), size=min(size or self.cfg.batch_size, len(data)), replace=False)
        return self.to_device(batching.collate(data, index, self.pad_id))

    @torch.no_grad()
    def evaluate(self, data: dict | None = None) -> dict:
        """{task: {metric: value, 'score': mean}} and 'average' over tasks (under torchrun each rank scores every
        world-th batch and the outputs are gathered, so every rank gets the same numbers)."""
        self.model.eval()
        data = data if data is not None else self.dev_data
        result: dict = {"tasks": {}}
        for tasks in input_units(data, self.shared).values():
            first = data[tasks[0]]
            mine: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
            batches = batching.sequential_batches(len(first), self.cfg.eval_batch_size, first.lengths)
            for index in batches[self.dist.rank::self.dist.world]:
                batch = self.to_device(batching.collate(first, index, self.pad_id))
                inputs = {k: v for k, v in batch.items() if k != "labels"}
                logits = (self.model.forward_tasks(tasks, **inputs) if len(tasks) > 1
                          else {tasks[0]: self.model(task=tasks[0], **inputs).logits})
                mine.append((index, {t: out.float().cpu().numpy() for t, out in logits.items()}))
            outputs: dict[str, np.ndarray] = {}
            for index, logits in (part for parts in self.dist.gather(mine) for part in parts):
                for task, out in logits.items():
                    if task not in outputs:
                        outputs[task] = np.empty((len(first), *out.shape[1:]), dtype=np.float32)
                    outputs[task][index] = out  # batches are length-sorted: put rows back in example order
            for task in tasks:
                if not np.isfinite(outputs[task]).all():
                    raise DivergenceError(f"non-finite model outputs on {task} after step {self.step}: the "
                                          "weights diverged; lower lr or check the data and task weights")
                enc = data[task]
                values = task_metrics(enc.task.kind, enc.task.metrics, enc.labels, outputs[task])
                values["score"] = task_score(values, enc.task.metrics)
                result["tasks"][task] = values
        result["average"] = float(np.mean([v["score"] for v in result["tasks"].values()]))
        self.model.train()
        return result

    # -- the loop ----------------------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict:
        cfg, state = self.cfg, {"epoch": 0, "best": -math.inf, "best_state": None, "history": [], "seconds": 0.0}
        last = self.folder / "last.pt" if self.folder and cfg.save_checkpoint else None
        if self.dist.agree(bool(resume and last and last.exists()), f"the resume checkpoint {last}"):
            state = self._restore(last)
        self.model.train()
        t0 = time.perf_counter()
        if cfg.head_init == "probe" and state["epoch"] == 0:  # LP-FT: part of the run's training time
            from .head_init import init_heads_from_probe

            state["probe_C"] = init_heads_from_probe(self.model, self.train_data, self.dev_data, self.pad_id,
                                                     cfg.class_weights, cfg.eval_batch_size, self.device, self.shared)
        for cb in self.callbacks:  # e.g. the step-0 gradient-cosine record: part of the run's training time
            cb.on_train_begin(self)
        state["seconds"] += time.perf_counter() - t0
        for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
            t0 = time.perf_counter()
            loss_sum = self._epoch(epoch)
            state["seconds"] += time.perf_counter() - t0
            metrics = self.evaluate()
            metrics.update(epoch=epoch, train_loss=loss_sum)
            state["history"].append(metrics)
            if cfg.progress and self.dist.is_main:
                tqdm.write(_epoch_line(epoch, cfg.epochs, metrics, state["seconds"]), file=sys.stderr)
            if metrics["average"] > state["best"]:
                state["best"], state["best_state"] = metrics["average"], copy.deepcopy(self.model.state_dict())
            state["epoch"] = epoch
            if last and self.dist.is_main:
                atomic_torch_save(last, plain({**state, "model": self.model.state_dict(), "step": self.step,
                                               "optimizer": self.optimizer.state_dict(),
                                               "scheduler": self.scheduler.state_dict(),
                                               "callbacks": self._callback_states()}))
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, metrics)
        if state["best_state"] is None:  # every epoch's dev average was NaN: nothing to select
            last_dev = state["history"][-1]["tasks"] if state["history"] else {}
            undefined = sorted(t for t, v in last_dev.items() if not math.isfinite(v["score"]))
            raise UndefinedScoreError(
                f"no epoch had a defined dev score (undefined on {', '.join(undefined) or 'every task'}): the dev "
                f"split is too small or holds one class only (max_eval={cfg.max_eval}); raise --max-eval or check "
                "the dev labels")
        self.model.load_state_dict(state["best_state"])
        for cb in self.callbacks:
            cb.on_train_end(self)
        # the epoch whose weights were kept: the first with the highest defined dev average (max() over a
        # history that starts with a NaN epoch would keep that NaN epoch)
        best = max((m for m in state["history"] if math.isfinite(m["average"])), key=lambda m: m["average"])
        n_train = sum(len(self.train_data[ts[0]]) for ts in self.units.values()) * cfg.epochs  # over all ranks
        self.timing = {"train_seconds": state["seconds"], "train_examples": n_train,
                       "examples_per_second": n_train / max(state["seconds"], 1e-9)}
        result = {"tasks": best["tasks"], "average": best["average"], "best_epoch": best["epoch"],
                  "parameters": count_parameters(self.model),
                  "trainable_parameters": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
                  "history": state["history"]}
        if "probe_C" in state:   # head_init probe: each head's logistic regression C, chosen on dev
            result["probe_C"] = state["probe_C"]
        if self.test_data:  # the dev-selected model, scored once on test
            result["test"] = self.evaluate(self.test_data)
        return result

    def _epoch(self, epoch: int) -> dict[str, float]:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(cfg.seed * 1_000_003 + epoch + 7_919 * self.dist.rank)  # dropout (its own masks per rank)
        if cfg.batch_tokens:
            queues = {u: list(batches) for u, batches in self.token_plans[epoch].items()}
            n_batches = {u: len(batches) for u, batches in queues.items()}
        else:
            queues = {u: [] for u in self.units}
            n_batches = {u: math.ceil(len(self.train_data[ts[0]]) / cfg.batch_size) for u, ts in self.units.items()}
        schedule = batching.task_schedule(n_batches, cfg.sampling, cfg.temperature, rng)
        sums = {t: [0.0, 0] for t in self.train_data}
        groups = [schedule[i:i + cfg.grad_accumulation] for i in range(0, len(schedule), cfg.grad_accumulation)]
        bar = tqdm(groups, desc=f"epoch {epoch}/{cfg.epochs}", disable=not (cfg.progress and self.dist.is_main),
                   leave=False)
        for group in bar:
            value = 0.0
            for i, unit in enumerate(group):
                if not queues[unit]:   # (uniform / temperature sampling: a unit may start another pass)
                    lengths = self.train_data[self.units[unit][0]].lengths
                    queues[unit] = (batching.token_batches(lengths, cfg.batch_tokens, rng) if cfg.batch_tokens else
                                    batching.length_grouped_batches(lengths, cfg.batch_size, rng))
                last = i == len(group) - 1  # DDP reduces gradients after the last batch of the step only
                sync = contextlib.nullcontext() if last or not self.dist.enabled else self.step_losses.no_sync()
                with sync:
                    losses = self._backward(unit, queues[unit].pop(), len(group), epoch)
                for task, loss in losses.items():
                    sums[task][0] += loss
                    sums[task][1] += 1
                value += float(self.weighting.combine({t: torch.tensor(v) for t, v in losses.items()})) / len(group)
            if cfg.grad_clip:
                norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                if not torch.isfinite(norm):
                    raise DivergenceError(f"non-finite gradient norm on {unit} at step {self.step + 1} "
                                          f"(epoch {epoch}): training diverged; lower lr (now {cfg.lr})")
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            bar.set_postfix(task=unit.split("/")[-1], loss=f"{value:.3f}")
            for cb in self.callbacks:
                cb.on_step_end(self, self.step, unit, value)
        return {t: s / max(n, 1) for t, (s, n) in sums.items()}

    def _backward(self, unit: str, index: np.ndarray, accumulate: int, epoch: int) -> dict[str, float]:
        """Forward + backward of one (global) batch `index` of `unit`, its loss divided by `accumulate`; returns
        {task: mean loss over the whole global batch} (the same on every rank)."""
        tasks, data = self.units[unit], self.train_data[self.units[unit][0]]
        rows, scale = shard(index, self.dist)
        batch = self.to_device(batching.collate(data, rows, self.pad_id))
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        labels = ({unit: batch["labels"]} if len(tasks) == 1 else
                  {t: batching.collate_labels(self.train_data[t], rows).to(self.device) for t in tasks})
        with self.autocast():
            losses = {t: loss.float() for t, loss in self.step_losses(tasks, inputs, labels).items()}
        if self.dist.enabled:  # the whole batch's mean: sum over ranks of (n_rank / n) * local mean
            local = torch.stack([loss.detach().double() for loss in losses.values()]) * (scale / self.dist.world)
            values = dict(zip(losses, self.dist.sum(local).tolist()))
        else:
            values = {t: loss.item() for t, loss in losses.items()}
        for task, v in values.items():
            if not math.isfinite(v):
                raise DivergenceError(f"non-finite loss ({v}) on task {task} at step {self.step + 1} "
                                      f"(epoch {epoch}): training diverged; lower lr (now {self.cfg.lr}) or check the "
                                      "data, labels and task weights")
        total = self.weighting.combine(losses)
        (total * (scale / accumulate)).backward()  # x * 1.0 is exact: one process without accumulation is unchanged
        return values

    def _callback_keys(self) -> list[str]:
        """'<class>#<n>': callbacks are matched by kind, so a resumed run may add or drop others."""
        seen: dict[str, int] = {}
        keys = []
        for cb in self.callbacks:
            name = type(cb).__name__
            seen[name] = seen.get(name, -1) + 1
            keys.append(f"{name}#{seen[name]}")
        return keys

    def _callback_states(self) -> dict:
        return {key: st for key, cb in zip(self._callback_keys(), self.callbacks) if (st := cb.state_dict()) is not None}

    def _restore(self, path: Path) -> dict:
        try:  # tensors and plain values only: a crafted pickle cannot run code here
            saved = torch.load(path, map_location=self.device, weights_only=True)
        except pickle.UnpicklingError as e:
            raise ConfigError(f"{path}: refused to load the resume checkpoint: it holds objects other than tensors "
                              f"and plain values ({str(e).splitlines()[0][:200]}), which could run code when "
                              "unpickled; delete it to restart the run from scratch") from None
        except Exception as e:  # a truncated or foreign file: say which, not a pickle traceback
            raise ConfigError(f"{path}: cannot read the resume checkpoint ({type(e).__name__}: {e}); "
                              "delete it to restart the run from scratch") from None
        self.model.load_state_dict(saved.pop("model"))
        self.optimizer.load_state_dict(saved.pop("optimizer"))
        self.scheduler.load_state_dict(saved.pop("scheduler"))
        self.step = saved.pop("step")
        states = saved.pop("callbacks", {})
        for key, cb in zip(self._callback_keys(), self.callbacks):
            if key in states:
                cb.load_state_dict(states[key])
        return saved


