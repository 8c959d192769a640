"""Training runs: `train(cfg, out)` trains what a config describes into a run folder, safely.

    python -m mtlcore train --tasks glue/rte,glue/mrpc --mode mtl --max-train 200 --epochs 1 --seed 1 --out runs/a

The loop itself is `mtlcore.training.trainer.Trainer`. With `mode='stl'` one model per task is trained into
`out/stl/<task>/`; with `mode='mtl'` one shared model into `out/`.

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
- Several processes (`torchrun`, see `mtlcore.training.distributed`): the same command and config; rank 0
  alone locks and writes the run folder (so it must be on a filesystem that every node sees to
  resume), the other ranks train beside it and write nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from . import distributed
from .._io import FolderLock, atomic_write_json, resolve_device, set_seed, warn
from .config import ConfigError, TrainConfig
from .encoders import encoder_positions, load_tokenizer
from ..tasks.check import split_warnings
from .models import MultiTaskModel, run_checkpoint, stl_folder   # noqa: F401 (run_checkpoint: re-exported)
from ..provenance import provenance
from .batching import prepare_split
from .callbacks import Callback, GradientCosineCallback
from .trainer import Trainer, build_model


@dataclass
class RunResult:
    metrics: dict
    models: dict[str, MultiTaskModel] = field(default_factory=dict)  # "mtl" or the task name (STL)
    folder: Path | None = None





def _fit_one(cfg: TrainConfig, tasks: list[str], train: dict, dev: dict, test: dict, folder: Path | None,
             callbacks: Sequence[Callback], resume: bool,
             ctx: distributed.DistContext = distributed.SINGLE) -> tuple[dict, dict, MultiTaskModel]:
    done = _finished(cfg, folder) if resume and folder is not None else None
    if ctx.agree(done is not None, f"{folder} as finished"):
        return done  # an STL sub-run that completed before the interruption
    set_seed(cfg.seed)
    model, tokenizer = build_model(cfg, tasks)
    if cfg.gradient_cosine_every and len(tasks) > 1:
        tracker = GradientCosineCallback(every=cfg.gradient_cosine_every)
        callbacks = [*callbacks, tracker]
    trainer = Trainer(cfg, model, {t: train[t] for t in tasks}, {t: dev[t] for t in tasks}, callbacks, folder,
                      pad_id=tokenizer.pad_token_id or 0, test={t: test[t] for t in tasks if t in test}, dist=ctx)
    metrics = trainer.fit(resume=resume)
    timing = dict(trainer.timing)
    if ctx.enabled:
        timing["processes"] = ctx.world
    if cfg.gradient_cosine_every and len(tasks) > 1:  # time the diagnostics took (inside train_seconds)
        timing["diagnostic_seconds"] = tracker.seconds
    if folder is not None and ctx.is_main:
        if cfg.save_checkpoint:
            model.save(folder / "checkpoint")
            tokenizer.save_pretrained(folder / "checkpoint" / "encoder")
        atomic_write_json(folder / "timing.json", timing)
        atomic_write_json(folder / "metrics.json", metrics)  # last: its presence marks the sub-run complete
        (folder / "last.pt").unlink(missing_ok=True)
    return metrics, timing, model


def _finished(cfg: TrainConfig, folder: Path) -> tuple[dict, dict, MultiTaskModel | None] | None:
    """(metrics, timing, model) of a sub-run folder that completed, else None."""
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


RUN_FILES = ("config.yaml", "metrics.json", "provenance.json")


class RunFolderError(RuntimeError):
    """The run's `.partial` folder was changed under it (files removed): nothing is published."""


def replaceable(folder: str | Path) -> bool:
    """Whether `--overwrite` may replace `folder`: it does not exist, is empty, or is a complete run folder of
    ours (it holds every one of `RUN_FILES`). A user's data folder is none of these."""
    folder = Path(folder)
    if not folder.exists():
        return True
    return folder.is_dir() and (not any(folder.iterdir()) or all((folder / f).is_file() for f in RUN_FILES))


def _refuse_overwrite(folder: Path) -> None:
    if not replaceable(folder):
        missing = [f for f in RUN_FILES if not (folder / f).is_file()]
        raise ConfigError(f"--out {folder} exists and is not a run folder (no {', '.join(missing)}); --overwrite "
                          "replaces only run folders: choose another --out")


def check_out(out: str | Path) -> Path:
    """Refuse an `--out` that cannot become a run folder (a file, or under a file), before anything is written."""
    folder = Path(out)
    here = Path.cwd().resolve()
    if folder.name in ("", ".", "..") or folder.resolve() == here or folder.resolve() in here.parents:
        raise ConfigError(f"--out {out}: names the current folder or one above it; a run is written to "
                          "<out>.partial beside <out> and then renamed onto it, so give a new folder's name, "
                          "e.g. --out runs/first")
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
    ctx = distributed.context(cfg.device)
    try:
        resolve_device(distributed.rank_device(cfg.device, ctx))
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if ctx.enabled:   # every rank must be about to train the same run into the same folder
        setup = {"config": cfg.to_dict(), "out": None if out is None else str(Path(out).resolve()),
                 "resume": resume, "overwrite": overwrite}
        ctx.same_everywhere(hashlib.sha256(json.dumps(setup, sort_keys=True, default=str).encode()).hexdigest(),
                            "the config, --out, --resume and --overwrite")
    if out is not None:
        check_out(out)
        if Path(out).is_dir() and not overwrite:
            raise ConfigError(f"--out {out} already exists; pass --overwrite to replace it (the old run is kept "
                              "until the new one is complete) or choose another folder")
        if overwrite:
            _refuse_overwrite(Path(out))
    tokenizer = load_tokenizer(cfg.encoder)
    positions = encoder_positions(cfg.encoder)
    if positions is not None and cfg.max_length > positions:
        raise ConfigError(f"max_length {cfg.max_length} is beyond the {positions} token positions of encoder "
                          f"{cfg.encoder!r}; use --max-length {positions} or less")
    data = {split: prepare_split(cfg, tokenizer, split) for split in ("train", "dev", "test")}
    if ctx.is_main:
        for message in small_split_warnings(data):
            warn(message, SmallSplitWarning)
    if out is None:
        return _train_into(cfg, None, data, callbacks, resume, ctx=ctx)
    folder_lock = FolderLock(out) if lock else None
    if folder_lock:
        ctx.on_main(folder_lock.acquire)
    try:
        return _train_into(cfg, Path(out), data, callbacks, resume, overwrite, ctx,
                           lock_check=folder_lock.check if folder_lock else None)
    finally:
        if folder_lock and ctx.is_main:
            folder_lock.release()


class SmallSplitWarning(UserWarning):
    """A dev or test split too small for its score to mean much."""


def small_split_warnings(data: dict[str, dict]) -> list[str]:
    """`mtlcore.tasks.check.split_warnings` of every task about to be trained (`data`: split -> task -> its
    encoded split), without the rare-class lines (`tasks check` shows those): a dev or test split under
    MIN_EVAL_EXAMPLES examples, a class the training split has and an evaluation split lacks, or the reverse."""
    out = []
    for task, train in data["train"].items():
        labels = {"train": train.labels, **{s: data[s][task].labels for s in ("dev", "test") if task in data.get(s, {})}}
        out += split_warnings(train.task, labels, rare=False)
    return out


def _train_into(cfg: TrainConfig, folder: Path | None, data: dict[str, dict], callbacks: Sequence[Callback],
                resume: bool, overwrite: bool = False,
                ctx: distributed.DistContext = distributed.SINGLE, lock_check=None) -> RunResult:
    partial = None if folder is None else Path(f"{folder}.partial")
    if partial is not None:  # rank 0 prepares the folder; a failure there is every rank's error
        digest = data_digest(data)
        ctx.on_main(lambda: _prepare(cfg, folder, partial, resume, overwrite, digest))
    try:
        groups = [[t] for t in cfg.tasks] if cfg.mode == "stl" else [list(cfg.tasks)]
        models, runs, timing = {}, {}, {}
        for tasks in groups:
            key = tasks[0] if cfg.mode == "stl" else "mtl"
            sub = None if partial is None else (stl_folder(partial, tasks[0]) if cfg.mode == "stl" else partial)
            if sub is not None and ctx.is_main:
                sub.mkdir(parents=True, exist_ok=True)
            runs[key], timing[key], models[key] = _fit_one(cfg, tasks, data["train"], data["dev"], data["test"], sub,
                                                           callbacks, resume, ctx)
        metrics = runs["mtl"] if cfg.mode == "mtl" else _combine_stl(runs)
        metrics = {"mode": cfg.mode, **metrics}
    except BaseException as e:
        if partial is not None and ctx.is_main and partial.is_dir():
            atomic_write_json(partial / "FAILED.json", {"error": f"{type(e).__name__}: {e}",
                                                        "traceback": traceback.format_exc(limit=8).splitlines(),
                                                        "time": time.strftime("%Y-%m-%d %H:%M:%S")})
        raise
    if partial is not None and ctx.is_main:
        if not (partial / "config.yaml").is_file() or not (partial / "provenance.json").is_file():
            raise RunFolderError(f"{partial} lost its config.yaml or provenance.json during the run (removed by "
                               "another process or by hand); nothing was published: run again")
        if lock_check is not None:
            lock_check()
        atomic_write_json(partial / "timing.json", _sum_timing(timing))
        atomic_write_json(partial / "metrics.json", metrics)
        _replace(partial, folder)
    ctx.barrier()  # every rank returns once the run folder is complete
    return RunResult(metrics, {k: m for k, m in models.items() if m is not None}, folder)


def data_digest(data: dict[str, dict]) -> dict[str, str]:
    """Per task: sha256 over the token ids and labels of every split the run uses (what it trains and is scored
    on, after subsetting and tokenising), so a resume can tell that a task's data changed."""
    out: dict = {}
    for split in sorted(data):
        for task, enc in sorted(data[split].items()):
            h = out.setdefault(task, hashlib.sha256())
            h.update(f"{split}:{len(enc)}:".encode())
            for ids in enc.input_ids:
                h.update(np.asarray(ids, dtype=np.int64).tobytes() + b"|")
            h.update(np.ascontiguousarray(np.asarray(enc.labels, dtype=np.float64)).tobytes())
    return {t: h.hexdigest() for t, h in out.items()}


def _prepare(cfg: TrainConfig, folder: Path, partial: Path, resume: bool, overwrite: bool,
             digest: dict[str, str] | None = None) -> None:
    """Under the lock: look again, then prepare `<out>.partial` (kept for a resume with the same config and the
    same data: `digest`, see `data_digest`, saved as data.json)."""
    if folder.exists() and not overwrite:
        raise ConfigError(f"--out {folder} already exists; pass --overwrite or choose another folder")
    _refuse_overwrite(folder)
    if resume and partial.is_dir() and (partial / "config.yaml").is_file():
        diff = config_differences(TrainConfig.from_yaml(partial / "config.yaml"), cfg)
        if diff:
            raise ConfigError(f"--resume: {partial} was started with another config; differences (saved -> "
                              f"now): {'; '.join(diff)}. Resume with the saved config, or drop --resume to restart")
        saved = partial / "data.json"
        if digest is not None:
            before = json.loads(saved.read_text()) if saved.is_file() else None
            changed = sorted(t for t in digest if before is not None and before.get(t) != digest[t])
            if before is None or changed:
                raise ConfigError(f"--resume: the data of {', '.join(changed) or 'the tasks'} changed since {partial} "
                                  "was started (or it has no data.json to compare with); drop --resume to restart "
                                  "on the new data")
        (partial / "FAILED.json").unlink(missing_ok=True)
        return
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    cfg.to_yaml(partial / "config.yaml")
    if digest is not None:
        atomic_write_json(partial / "data.json", digest)
    atomic_write_json(partial / "provenance.json", provenance())


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
           "parameters": sum(r["parameters"] for r in runs.values()),
           "trainable_parameters": sum(r.get("trainable_parameters", r["parameters"]) for r in runs.values())}
    test = {t: r["test"]["tasks"][t] for t, r in runs.items() if "test" in r}
    if test:
        out["test"] = {"tasks": test, "average": float(np.mean([v["score"] for v in test.values()]))}
    return out


def _sum_timing(timing: dict[str, dict]) -> dict:
    sec = sum(t["train_seconds"] for t in timing.values())
    n = sum(t["train_examples"] for t in timing.values())
    out = {"train_seconds": sec, "train_examples": n, "examples_per_second": n / max(sec, 1e-9), "runs": timing}
    if any("diagnostic_seconds" in t for t in timing.values()):
        out["diagnostic_seconds"] = sum(t.get("diagnostic_seconds", 0.0) for t in timing.values())
    return out
