"""Training results cached by a hash of everything that determines them.

    from mtlcore.cache import cached_train
    run = cached_train(TrainConfig(tasks=["glue/rte"], mode="stl", seed=1))   # trains once, then reads

The key hashes the full config (minus display-only fields), the content of the task's data files,
the encoder's identity, the source code of the `mtlcore` modules that training runs through, and
what else changes numbers: the device type the config resolves to and torch's thread count (CPU
kernels reduce in a thread-count-dependent order, so results are bit-identical only at a fixed
thread count). A re-run of a notebook or the report reuses earlier training, and any change to
data, config, code, device or thread count retrains. Entries are run folders under
`$MTLCORE_CACHE` (default `.cache/runs/` in the repository); `make clean-cache` removes them.
One process fills an entry at a time (`FolderLock`): a second process asking for the same entry
waits and then reads it instead of training it again.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

from ._io import REPO_ROOT, FolderLock, resolve_device
from .config import TrainConfig
from .tasks import get_task, load_task

DISPLAY_ONLY = ("progress", "device")  # device enters the key as the type it resolves to


def cache_root() -> Path:
    return Path(os.environ.get("MTLCORE_CACHE") or REPO_ROOT / ".cache") / "runs"


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, size: int, mtime_ns: int, inode: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """sha256 of a file's content (memoised per path, size, mtime and inode)."""
    st = os.stat(path)
    return _file_digest(str(path), st.st_size, st.st_mtime_ns, st.st_ino)


def data_fingerprint(tasks: Sequence[str]) -> dict[str, str]:
    """Per task: a hash over its split sources' file contents (or the source text for in-memory tasks)."""
    out = {}
    for name in tasks:
        spec = get_task(name)
        h = hashlib.sha256(repr((spec.kind, spec.metrics, spec.label_names, spec.split_note)).encode())
        for split, ex in sorted(load_task(name).items()):
            for part in ex.source.split(", "):
                h.update(f"{split}:{file_digest(part) if part and Path(part).is_file() else part}".encode())
        out[name] = h.hexdigest()
    return out


def encoder_fingerprint(name: str) -> str:
    """Encoder identity: the weights' file digests for local folders (incl. the bundled MiniLM), else the name."""
    from .encoders import TINY, resolve_encoder

    if name == TINY:
        return TINY
    path = Path(resolve_encoder(name)).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt"})
        return hashlib.sha256("".join(f"{p.name}:{file_digest(p)}" for p in files).encode()).hexdigest()
    return name


# the modules (or subpackages) whose code decides a training run's numbers (the cache key hashes these)
TRAINING_MODULES = ("_io", "batching", "config", "encoders", "gradients", "metrics", "models", "tasks", "train",
                    "trainer", "weighting", "wzr")
# modules that only orchestrate or present results (a change to them re-runs no notebook)
PRESENTATION_MODULES = ("cache", "pipeline", "provenance", "report")


@functools.lru_cache(maxsize=4)
def code_version(modules: tuple[str, ...] | None = None) -> str:
    """sha256 over the source of the named mtlcore modules and subpackages (default: all but the presentation ones)."""
    folder = Path(__file__).parent
    names = modules or tuple(p.stem for p in folder.iterdir()
                             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.stem not in PRESENTATION_MODULES)
    h = hashlib.sha256()
    for name in sorted(names):
        path = folder / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        for f in files:
            h.update(f.relative_to(folder).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def cache_key(cfg: TrainConfig) -> str:
    settings = {k: v for k, v in cfg.to_dict().items() if k not in DISPLAY_ONLY}
    import torch

    blob = {"config": settings, "data": data_fingerprint(cfg.tasks), "encoder": encoder_fingerprint(cfg.encoder),
            "code": code_version(TRAINING_MODULES), "device": resolve_device(cfg.device).type,
            "threads": torch.get_num_threads()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:20]


def cached_train(cfg: TrainConfig, need_models: bool = False, callbacks=()):
    """`train(cfg)` through the cache. Returns a `RunResult`; its models are loaded from the cached checkpoint
    when `need_models` (the config then must keep checkpoints), else left empty on a cache hit."""
    from .models import MultiTaskModel
    from .train import RunResult, run_checkpoint, train

    if need_models and not cfg.save_checkpoint:
        raise ValueError("cached_train(need_models=True) needs save_checkpoint=True in the config")
    folder = cache_root() / cache_key(cfg)
    with FolderLock(folder, wait=True):  # another process filling this entry: wait, then read its result
        if (folder / "metrics.json").is_file():
            metrics = json.loads((folder / "metrics.json").read_text())
            models = {}
            if need_models:
                if cfg.mode == "mtl":
                    models["mtl"] = MultiTaskModel.load(run_checkpoint(folder))
                else:
                    models = {t: MultiTaskModel.load(run_checkpoint(folder, t)) for t in cfg.tasks}
            return RunResult(metrics, models, folder)
        return train(cfg, out=folder, callbacks=callbacks, overwrite=True, lock=False)


def result_path(kind: str, params: dict, tasks: Sequence[str] = (), encoder: str | None = None,
                modules: tuple[str, ...] = TRAINING_MODULES, suffix: str = ".json") -> Path:
    """Where a cached result that is not one `train` run lives: `.cache/results/<kind>/<key><suffix>`; the key
    hashes `kind`, `params`, the data of `tasks`, the encoder, the code of `modules` and torch's thread count."""
    import torch

    blob = {"kind": kind, "params": params, "data": data_fingerprint(tasks),
            "encoder": encoder_fingerprint(encoder) if encoder else None, "code": code_version(modules),
            "threads": torch.get_num_threads()}
    key = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return cache_root().parent / "results" / kind / f"{key}{suffix}"


def cached_result(kind: str, params: dict, compute, tasks: Sequence[str] = (), encoder: str | None = None,
                  modules: tuple[str, ...] = TRAINING_MODULES) -> dict:
    """`compute()` (a JSON-able dict) through the cache (`result_path`), for results that are not one `train`
    run (e.g. the sentiment models of `mtlcore.sentiment`). One process fills an entry at a time."""
    from ._io import atomic_write_json

    path = result_path(kind, params, tasks, encoder, modules)
    with FolderLock(path.with_suffix(""), wait=True):
        if path.is_file():
            return json.loads(path.read_text())
        result = compute()
        atomic_write_json(path, result)
        return result
