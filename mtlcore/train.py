"""One training loop for single-task (STL) and multi-task (MTL) models.

    python -m mtlcore train --tasks glue/rte,glue/mrpc --mode mtl --max-train 200 --epochs 1 --seed 1 --out runs/a

Each step samples a task (see `batching.task_schedule`), takes a length-grouped batch of it, and
back-propagates the weighted loss (`weighting`). Tasks that share their inputs (`TaskSpec.input_group`,
e.g. the pathologies of one report) form one unit in an MTL run: its step takes a batch of the
shared texts, runs the encoder ONCE and combines every head's loss with the weighting, so k such
tasks cost about one encoder pass instead of k (`shared_inputs=False` restores one task per step).
After every epoch all tasks are evaluated on dev; the epoch with the best GLUE-style average is
kept, and tasks with a test split are then scored on test (`metrics["test"]`): model selection on
dev, numbers on test. Callbacks hook analyses (gradient cosines, representations) into the loop
without changing it.

What a run folder guarantees (see also the README):
- Inputs first: config, device, `--out`, tokenizer and every task's data are checked before
  anything is written.
- One writer: `<out>.lock` (`FolderLock`) makes a second process writing the same folder fail at
  once with a clear error.
- Atomic: the run is built in `<out>.partial/` and renamed to `<out>/` only when complete; with
  `overwrite=True` the old `<out>/` is replaced only then, so a typo or a kill never loses it. A
  run that fails leaves `<out>.partial/FAILED.json` with the error; one that is killed leaves
  `<out>.partial/` (never `<out>/`).
- Divergence: a non-finite loss, gradient norm or dev output stops the run with `DivergenceError`.
- Resume: `resume=True` continues `<out>.partial/` from its last epoch, only with the same config
  (else an error lists the differences), with the same numbers as an uninterrupted run (all
  randomness of an epoch is derived from (seed, epoch)) and the callbacks' records restored.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from . import batching
from ._io import FolderLock, atomic_torch_save, atomic_write_json, resolve_device, set_seed
from .config import ConfigError, TrainConfig
from .tasks import SPLIT_SEED, DataError, Examples, get_task, load_task
from .encoders import load_encoder, load_tokenizer
from .metrics import task_metrics, task_score
from .models import MultiTaskModel, count_parameters, head_key
from .provenance import provenance
from .weighting import make_weighting


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss, gradient or output; the message says where."""


class Callback:
    """Hooks called by `Trainer.fit`; override what you need (all are no-ops here).

    A callback that records something across the run returns it from `state_dict` (picklable); it is
    saved with each epoch's checkpoint and handed back to `load_state_dict` on resume."""

    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_step_end(self, trainer: "Trainer", step: int, task: str, loss: float) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: dict) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...
    def state_dict(self) -> dict | None: return None
    def load_state_dict(self, state: dict) -> None: ...


@dataclass
class RunResult:
    metrics: dict
    models: dict[str, MultiTaskModel] = field(default_factory=dict)  # "mtl" or the task name (STL)
    folder: Path | None = None


def subset(examples: Examples, limit: int | None) -> Examples:
    """The first `limit` examples of a fixed permutation (seed SPLIT_SEED): nested as `limit` grows and the same
    for every run seed, so seeds vary the model, not the data."""
    if limit is None or limit >= len(examples):
        return examples
    order = np.random.default_rng(SPLIT_SEED).permutation(len(examples))
    return examples.subset(np.sort(order[:limit]))


def prepare_data(cfg: TrainConfig, tokenizer) -> tuple[dict, dict]:
    """Load, subset and tokenise train/dev of every task in `cfg` -> ({task: Encoded}, {task: Encoded})."""
    return prepare_split(cfg, tokenizer, "train"), prepare_split(cfg, tokenizer, "dev")


def prepare_split(cfg: TrainConfig, tokenizer, split: str) -> dict:
    """{task: Encoded} of one split for the tasks of `cfg` that have it (train: max_train, else max_eval).

    Tasks of one input group are tokenised once and must hold the same texts (else DataError)."""
    limit = cfg.max_train if split == "train" else cfg.max_eval
    out, shared = {}, {}
    for name in cfg.tasks:
        spec, splits = get_task(name), load_task(name)
        if split not in splits:
            continue
        ex = subset(splits[split], limit)
        first = shared.get(spec.input_group) if spec.input_group else None
        if first is None:
            out[name] = batching.encode(spec, ex, tokenizer, cfg.max_length)
            if spec.input_group:
                shared[spec.input_group] = (name, ex.texts, out[name])
            continue
        other, texts, enc = first
        if texts != ex.texts:
            raise DataError(f"tasks {other} and {name} are in input group {spec.input_group!r} but their {split} "
                            "texts differ; an input group must hold the same texts in the same order")
        out[name] = dataclasses.replace(enc, task=spec, labels=ex.labels)
    return out


def input_units(data: dict, shared: bool = True) -> dict[str, list[str]]:
    """{unit: tasks}: tasks of one input group form one unit (named after the group) when `shared`, else each
    task is its own unit. A unit of several tasks is trained and evaluated from one encoder pass per batch."""
    units: dict[str, list[str]] = {}
    for name, enc in data.items():
        units.setdefault(enc.task.input_group if shared and enc.task.input_group else name, []).append(name)
    return {(tasks[0] if len(tasks) == 1 else unit): tasks for unit, tasks in units.items()}


def build_model(cfg: TrainConfig, tasks: Sequence[str]) -> tuple[MultiTaskModel, object]:
    """Fresh encoder + heads for `tasks`; the heads (and a tiny encoder) are initialised from `cfg.seed`."""
    encoder, tokenizer = load_encoder(cfg.encoder, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    model = MultiTaskModel(encoder, tasks, cfg.pooling, cfg.dropout, encoder_name=cfg.encoder)
    if cfg.alignment:
        from .wzr import add_alignment

        add_alignment(model)
    return model, tokenizer


class Trainer:
    """Trains `model` on `train` ({task: Encoded}) and evaluates on `dev`; see the module docstring."""

    def __init__(self, cfg: TrainConfig, model: MultiTaskModel, train: dict, dev: dict,
                 callbacks: Sequence[Callback] = (), folder: Path | None = None, pad_id: int = 0,
                 test: dict | None = None):
        self.cfg, self.model, self.train_data, self.dev_data, self.test_data = cfg, model, train, dev, test or {}
        self.shared = cfg.mode == "mtl" and cfg.shared_inputs and not cfg.alignment
        self.units = input_units(train, self.shared)
        self.callbacks, self.folder, self.pad_id = list(callbacks), folder, pad_id
        self.device = resolve_device(cfg.device)
        weights = None if cfg.task_weights is None else {t: cfg.task_weights[t] for t in train}
        self.weighting = make_weighting(cfg.weighting, list(train), weights)
        self.step = 0
        self.model.to(self.device)
        if cfg.freeze_encoder:
            for p in self.model.encoder.parameters():
                p.requires_grad_(False)
        self.steps_per_epoch = sum(math.ceil(len(train[ts[0]]) / cfg.batch_size) for ts in self.units.values())
        self.optimizer = torch.optim.AdamW(self._param_groups(), lr=cfg.lr)
        total, warm = cfg.epochs * self.steps_per_epoch, int(cfg.warmup_ratio * cfg.epochs * self.steps_per_epoch)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    def _param_groups(self) -> list[dict]:
        """Weight decay on weight matrices only; the alignment matrices R_i get none (decay would pull them
        towards 0, not towards their identity init) and their own learning rate if `alignment_lr` is set."""
        decay, no_decay, align = [], [], []
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                continue
            if name.startswith("alignment."):
                align.append(p)
            else:
                (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if align:
            groups.append({"params": align, "weight_decay": 0.0, "lr": self.cfg.alignment_lr or self.cfg.lr})
        return groups

    # -- pieces callbacks may use --------------------------------------------------------------

    def to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device) for k, v in batch.items()}

    def batch_loss(self, task: str, batch: dict) -> torch.Tensor:
        """Unweighted mean loss of `task` on one collated batch (moved to the device)."""
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        out = self.model(task=task, **inputs)
        return self.model.loss(task, out.logits, batch["labels"])

    def unit_losses(self, tasks: Sequence[str], batch: dict, labels: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{task: unweighted mean loss} of tasks sharing one batch of inputs, from one encoder pass."""
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = self.model.forward_tasks(tasks, **inputs)
        return {t: self.model.loss(t, logits[t], labels[t]) for t in tasks}

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
        """{task: {metric: value, 'score': mean}} and 'average' over tasks."""
        self.model.eval()
        data = data if data is not None else self.dev_data
        result: dict = {"tasks": {}}
        for tasks in input_units(data, self.shared).values():
            first = data[tasks[0]]
            outputs: dict[str, np.ndarray] = {}
            for index in batching.sequential_batches(len(first), self.cfg.eval_batch_size, first.lengths):
                batch = self.to_device(batching.collate(first, index, self.pad_id))
                inputs = {k: v for k, v in batch.items() if k != "labels"}
                logits = (self.model.forward_tasks(tasks, **inputs) if len(tasks) > 1
                          else {tasks[0]: self.model(task=tasks[0], **inputs).logits})
                for task, out in logits.items():
                    out = out.float().cpu().numpy()
                    if not np.isfinite(out).all():
                        raise DivergenceError(f"non-finite model outputs on {task} after step {self.step}: the "
                                              "weights diverged; lower lr or check the data and task weights")
                    if task not in outputs:
                        outputs[task] = np.empty((len(first), *out.shape[1:]), dtype=np.float32)
                    outputs[task][index] = out  # batches are length-sorted: put rows back in example order
            for task in tasks:
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
        if resume and last and last.exists():
            state = self._restore(last)
        self.model.train()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
            t0 = time.perf_counter()
            loss_sum = self._epoch(epoch)
            state["seconds"] += time.perf_counter() - t0
            metrics = self.evaluate()
            metrics.update(epoch=epoch, train_loss=loss_sum)
            state["history"].append(metrics)
            if metrics["average"] > state["best"]:
                state["best"], state["best_state"] = metrics["average"], copy.deepcopy(self.model.state_dict())
            state["epoch"] = epoch
            if last:
                atomic_torch_save(last, {**state, "model": self.model.state_dict(), "step": self.step,
                                         "optimizer": self.optimizer.state_dict(),
                                         "scheduler": self.scheduler.state_dict(),
                                         "callbacks": self._callback_states()})
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, metrics)
        self.model.load_state_dict(state["best_state"])
        for cb in self.callbacks:
            cb.on_train_end(self)
        best = max(state["history"], key=lambda m: m["average"])
        n_train = sum(len(self.train_data[ts[0]]) for ts in self.units.values()) * cfg.epochs
        self.timing = {"train_seconds": state["seconds"], "train_examples": n_train,
                       "examples_per_second": n_train / max(state["seconds"], 1e-9)}
        result = {"tasks": best["tasks"], "average": best["average"], "best_epoch": best["epoch"],
                  "parameters": count_parameters(self.model), "history": state["history"]}
        if self.test_data:  # the dev-selected model, scored once on test
            result["test"] = self.evaluate(self.test_data)
        return result

    def _epoch(self, epoch: int) -> dict[str, float]:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(cfg.seed * 1_000_003 + epoch)  # dropout of this epoch
        queues: dict[str, list] = {u: [] for u in self.units}
        n_batches = {u: math.ceil(len(self.train_data[ts[0]]) / cfg.batch_size) for u, ts in self.units.items()}
        schedule = batching.task_schedule(n_batches, cfg.sampling, cfg.temperature, rng)
        sums = {t: [0.0, 0] for t in self.train_data}
        bar = tqdm(schedule, desc=f"epoch {epoch}/{cfg.epochs}", disable=not cfg.progress, leave=False)
        for unit in bar:
            tasks = self.units[unit]
            first = self.train_data[tasks[0]]
            if not queues[unit]:
                queues[unit] = batching.length_grouped_batches(first.lengths, cfg.batch_size, rng)
            index = queues[unit].pop()
            batch = self.to_device(batching.collate(first, index, self.pad_id))
            if len(tasks) == 1:
                losses = {unit: self.batch_loss(unit, batch)}
            else:
                labels = {t: batching.collate_labels(self.train_data[t], index).to(self.device) for t in tasks}
                losses = self.unit_losses(tasks, batch, labels)
            for task, loss in losses.items():
                if not torch.isfinite(loss):
                    raise DivergenceError(f"non-finite loss ({loss.item()}) on task {task} at step {self.step + 1} "
                                          f"(epoch {epoch}): training diverged; lower lr (now {cfg.lr}) or check the "
                                          "data, labels and task weights")
            total = self.weighting.combine(losses)
            total.backward()
            if cfg.grad_clip:
                norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                if not torch.isfinite(norm):
                    raise DivergenceError(f"non-finite gradient norm on {unit} at step {self.step + 1} "
                                          f"(epoch {epoch}): training diverged; lower lr (now {cfg.lr})")
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            for task, loss in losses.items():
                sums[task][0] += loss.item()
                sums[task][1] += 1
            value = total.item()
            bar.set_postfix(task=unit.split("/")[-1], loss=f"{value:.3f}")
            for cb in self.callbacks:
                cb.on_step_end(self, self.step, unit, value)
        return {t: s / max(n, 1) for t, (s, n) in sums.items()}

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
        try:
            saved = torch.load(path, weights_only=False)
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


def stl_folder(folder: str | Path, task: str) -> Path:
    """Where an STL run folder keeps task `task`'s model: `<folder>/stl/<task with / as __>`."""
    return Path(folder) / "stl" / head_key(task)


def run_checkpoint(folder: str | Path, task: str | None = None) -> Path:
    """The best-model checkpoint inside a run folder: `<folder>/checkpoint` (MTL) or `<folder>/stl/<task>/checkpoint`."""
    return (Path(folder) if task is None else stl_folder(folder, task)) / "checkpoint"


def _fit_one(cfg: TrainConfig, tasks: list[str], train: dict, dev: dict, test: dict, folder: Path | None,
             callbacks: Sequence[Callback], resume: bool) -> tuple[dict, dict, MultiTaskModel]:
    if resume and folder is not None and (done := _finished(cfg, folder)) is not None:
        return done  # an STL sub-run that completed before the interruption
    set_seed(cfg.seed)
    model, tokenizer = build_model(cfg, tasks)
    if cfg.gradient_cosine_every and len(tasks) > 1:
        from .gradients import GradientCosineCallback

        callbacks = [*callbacks, GradientCosineCallback(every=cfg.gradient_cosine_every)]
    trainer = Trainer(cfg, model, {t: train[t] for t in tasks}, {t: dev[t] for t in tasks}, callbacks, folder,
                      pad_id=tokenizer.pad_token_id or 0, test={t: test[t] for t in tasks if t in test})
    metrics = trainer.fit(resume=resume)
    if folder is not None:
        if cfg.save_checkpoint:
            model.save(folder / "checkpoint")
            tokenizer.save_pretrained(folder / "checkpoint" / "encoder")
        atomic_write_json(folder / "timing.json", trainer.timing)
        atomic_write_json(folder / "metrics.json", metrics)  # last: its presence marks the sub-run complete
        (folder / "last.pt").unlink(missing_ok=True)
    return metrics, trainer.timing, model


def _finished(cfg: TrainConfig, folder: Path) -> tuple[dict, dict, MultiTaskModel | None] | None:
    """(metrics, timing, model) of a sub-run folder that completed, else None."""
    import json

    if not (folder / "metrics.json").is_file() or (folder / "last.pt").exists():
        return None
    model = MultiTaskModel.load(folder / "checkpoint") if cfg.save_checkpoint else None
    return (json.loads((folder / "metrics.json").read_text()), json.loads((folder / "timing.json").read_text()), model)


# fields that change no number: a resumed run may differ in these
RESUME_FREE = ("progress",)


def config_differences(saved: TrainConfig, cfg: TrainConfig) -> list[str]:
    """'field: saved -> new' for every field (but display-only ones) in which two configs differ;
    devices are compared by what they resolve to here."""
    a, b = saved.to_dict(), cfg.to_dict()
    out = []
    for k in a:
        if k in RESUME_FREE or a[k] == b[k]:
            continue
        if k == "device" and resolve_device(a[k]).type == resolve_device(b[k]).type:
            continue
        out.append(f"{k}: {a[k]!r} -> {b[k]!r}")
    return out


def check_out(out: str | Path) -> Path:
    """Refuse an `--out` that cannot become a run folder (a file, or under a file), before anything is written."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} is a file, not a folder")
    partial = Path(f"{out}.partial")
    if partial.exists() and not partial.is_dir():
        raise ConfigError(f"--out: {partial} is a file; remove it or choose another folder")
    parent = folder.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {folder}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {folder}: {parent} is not writable")
    return folder


def train(cfg: TrainConfig, out: str | Path | None = None, callbacks: Sequence[Callback] = (),
          resume: bool = False, overwrite: bool = False, lock: bool = True) -> RunResult:
    """Train what `cfg` describes; write the run folder `out` (if given) and return metrics and models.

    See the module docstring for what the run folder guarantees. With `mode='stl'` one model per task
    is trained into `out/stl/<task>/`. `lock=False` is for a caller that already holds `FolderLock(out)`.
    """
    try:
        resolve_device(cfg.device)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if out is not None:
        check_out(out)
        if Path(out).is_dir() and not overwrite:
            raise ConfigError(f"--out {out} already exists; pass --overwrite to replace it (the old run is kept "
                              "until the new one is complete) or choose another folder")
    tokenizer = load_tokenizer(cfg.encoder)
    data = {split: prepare_split(cfg, tokenizer, split) for split in ("train", "dev", "test")}
    if out is None:
        return _train_into(cfg, None, data, callbacks, resume)
    folder_lock = FolderLock(out) if lock else None
    if folder_lock:
        folder_lock.acquire()
    try:
        return _train_into(cfg, Path(out), data, callbacks, resume, overwrite)
    finally:
        if folder_lock:
            folder_lock.release()


def _train_into(cfg: TrainConfig, folder: Path | None, data: dict[str, dict], callbacks: Sequence[Callback],
                resume: bool, overwrite: bool = False) -> RunResult:
    partial = None if folder is None else Path(f"{folder}.partial")
    if partial is not None:  # under the lock now: look again, then prepare <out>.partial
        if folder.exists() and not overwrite:
            raise ConfigError(f"--out {folder} already exists; pass --overwrite or choose another folder")
        if resume and partial.is_dir() and (partial / "config.yaml").is_file():
            diff = config_differences(TrainConfig.from_yaml(partial / "config.yaml"), cfg)
            if diff:
                raise ConfigError(f"--resume: {partial} was started with another config; differences (saved -> "
                                  f"now): {'; '.join(diff)}. Resume with the saved config, or drop --resume to restart")
            (partial / "FAILED.json").unlink(missing_ok=True)
        else:
            if partial.exists():
                shutil.rmtree(partial)
            partial.mkdir(parents=True)
            cfg.to_yaml(partial / "config.yaml")
            atomic_write_json(partial / "provenance.json", provenance())
    try:
        groups = [[t] for t in cfg.tasks] if cfg.mode == "stl" else [list(cfg.tasks)]
        models, runs, timing = {}, {}, {}
        for tasks in groups:
            key = tasks[0] if cfg.mode == "stl" else "mtl"
            sub = None if partial is None else (stl_folder(partial, tasks[0]) if cfg.mode == "stl" else partial)
            if sub is not None:
                sub.mkdir(parents=True, exist_ok=True)
            runs[key], timing[key], models[key] = _fit_one(cfg, tasks, data["train"], data["dev"], data["test"], sub,
                                                           callbacks, resume)
        metrics = runs["mtl"] if cfg.mode == "mtl" else _combine_stl(runs)
        metrics = {"mode": cfg.mode, **metrics}
    except BaseException as e:
        if partial is not None and partial.is_dir():
            atomic_write_json(partial / "FAILED.json", {"error": f"{type(e).__name__}: {e}",
                                                        "traceback": traceback.format_exc(limit=8).splitlines(),
                                                        "time": time.strftime("%Y-%m-%d %H:%M:%S")})
        raise
    if partial is not None:
        atomic_write_json(partial / "timing.json", _sum_timing(timing))
        atomic_write_json(partial / "metrics.json", metrics)
        _replace(partial, folder)
    return RunResult(metrics, {k: m for k, m in models.items() if m is not None}, folder)


def _replace(partial: Path, folder: Path) -> None:
    """Move the complete `partial` to `folder`; an existing `folder` is set aside first and deleted after."""
    old = None
    if folder.exists():
        old = folder.with_name(f"{folder.name}.replaced-{os.getpid()}")
        folder.rename(old)
    partial.rename(folder)
    if old is not None:
        shutil.rmtree(old)


def _combine_stl(runs: dict[str, dict]) -> dict:
    tasks = {t: r["tasks"][t] for t, r in runs.items()}
    out = {"tasks": tasks, "average": float(np.mean([v["score"] for v in tasks.values()])),
           "best_epoch": {t: r["best_epoch"] for t, r in runs.items()},
           "parameters": sum(r["parameters"] for r in runs.values())}
    test = {t: r["test"]["tasks"][t] for t, r in runs.items() if "test" in r}
    if test:
        out["test"] = {"tasks": test, "average": float(np.mean([v["score"] for v in test.values()]))}
    return out


def _sum_timing(timing: dict[str, dict]) -> dict:
    sec = sum(t["train_seconds"] for t in timing.values())
    n = sum(t["train_examples"] for t in timing.values())
    return {"train_seconds": sec, "train_examples": n, "examples_per_second": n / max(sec, 1e-9), "runs": timing}
