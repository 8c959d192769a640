"""Training results cached by a hash of everything that determines them.

    from mtlcore import cached_train
    run = cached_train(TrainConfig(tasks=["glue/rte"], mode="stl", seed=1))   # trains once, then reads

The key hashes the full config (minus display-only fields), the content of the task's data files,
the encoder's identity, the code of the `mtlcore` modules that training runs through (`code_version`:
docstrings, comments and module moves do not count), and
what else changes numbers: the device type the config resolves to and torch's thread count (CPU
kernels reduce in a thread-count-dependent order, so results are bit-identical only at a fixed
thread count). A re-run of a notebook or the report reuses earlier training, and any change to
data, config, code, device or thread count retrains. Entries are run folders under
`$MTLCORE_CACHE` (default `.cache/runs/` in the repository); `make clean-cache` removes them.
One process fills an entry at a time (`FolderLock`): a second process asking for the same entry
waits and then reads it instead of training it again.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

from .._io import REPO_ROOT, FolderLock, resolve_device
from ..training.config import TrainConfig
from ..tasks import get_task, load_task

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
    from ..training.encoders import TINY, resolve_encoder

    if name == TINY:
        return TINY
    path = Path(resolve_encoder(name)).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt"})
        return hashlib.sha256("".join(f"{p.name}:{file_digest(p)}" for p in files).encode()).hexdigest()
    return name


# the code that decides a training run's numbers: `train` and every mtlcore module it imports (`code_version`)
TRAINING_CODE = ("training.runs",)
# modules that only orchestrate, record or present results: left out of every code hash (a change to them
# retrains nothing and re-runs no notebook)
PRESENTATION_MODULES = ("provenance", "reporting.cache", "reporting.pipeline", "reporting.report")


class _Normalise(ast.NodeTransformer):
    """A module's AST as far as its numbers go: no docstrings (comments are not in the AST) and imports of
    mtlcore modules by their last name only, so moving a module between folders changes no hash."""

    def __init__(self, package: str, known: dict[str, Path]):
        self.package, self.known = package, known

    def _strip(self, node):
        self.generic_visit(node)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip

    def visit_ImportFrom(self, node: ast.ImportFrom):
        target = _resolve(self.package, node)
        if target is not None:  # `from .x.y import f` -> `from y import f`; `from . import sub` -> `from mtlcore import sub`
            submodules = all(f"{target}.{a.name}".lstrip(".") in self.known for a in node.names)
            node.module, node.level = ("mtlcore" if submodules else target.rsplit(".", 1)[-1] or "mtlcore"), 0
        return node


def _resolve(package: str, node: ast.ImportFrom) -> str | None:
    """The mtlcore module an ImportFrom names, dotted below mtlcore ("" = mtlcore itself), or None if external."""
    if node.level:
        parts = package.split(".") if package else []
        if node.level - 1 > len(parts):
            return None
        base = parts[: len(parts) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    if node.module == "mtlcore" or (node.module or "").startswith("mtlcore."):
        return node.module[len("mtlcore."):] if "." in node.module else ""
    return None


def _modules(root: Path) -> dict[str, Path]:
    """{dotted name below mtlcore: file}; a package is its __init__.py ("" = mtlcore/__init__.py)."""
    out = {}
    for f in root.rglob("*.py"):
        parts = f.relative_to(root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def _imports(name: str, tree: ast.Module, known: dict[str, Path]) -> set[str]:
    """The mtlcore modules that module `name` imports anywhere (module level, in functions, under TYPE_CHECKING)."""
    package = _package(name, known)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (target := _resolve(package, node)) is not None:
            subs = {f"{target}.{a.name}".lstrip(".") for a in node.names}
            found.update(subs & known.keys() if subs <= known.keys() else {target, *(subs & known.keys())})
        elif isinstance(node, ast.Import):
            found.update(a.name[len("mtlcore."):] for a in node.names if a.name.startswith("mtlcore."))
    return {m for m in found if m in known}


def _package(name: str, known: dict[str, Path]) -> str:
    return name if known[name].name == "__init__.py" else name.rpartition(".")[0]


def code_modules(entries: tuple[str, ...] | None = None, root: str | Path | None = None) -> list[str]:
    """The mtlcore modules (dotted below mtlcore) whose code decides a result: `entries` and every mtlcore module
    they import, transitively, at module level or inside functions (default: every module), less
    `PRESENTATION_MODULES`. Parent packages count only where imported by name (`from ..tasks import x`)."""
    folder = Path(root) if root else Path(__file__).resolve().parents[1]
    known = _modules(folder)
    todo = list(entries) if entries is not None else list(known)
    for name in todo:
        if name not in known:
            raise ValueError(f"code_version: no module mtlcore.{name} under {folder}")
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name in PRESENTATION_MODULES:
            continue
        seen.add(name)
        if entries is not None:
            todo.extend(_imports(name, ast.parse(known[name].read_text()), known))
    return sorted(seen)


@functools.lru_cache(maxsize=32)
def code_version(entries: tuple[str, ...] | None = None, root: str | None = None) -> str:
    """sha256 over the code of `code_modules(entries)`. Each module counts by its last name and its AST without
    docstrings, comments or the folders of its mtlcore imports: editing a docstring or moving a module keeps
    the hash, any change to code (a loss, a default) changes it. `root`: the package folder (default: this one)."""
    folder = Path(root) if root else Path(__file__).resolve().parents[1]
    known = _modules(folder)
    digests = []
    for name in code_modules(entries, folder):
        tree = _Normalise(_package(name, known), known).visit(ast.parse(known[name].read_text()))
        digests.append(f"{name.rsplit('.', 1)[-1] or 'mtlcore'}:{hashlib.sha256(ast.unparse(tree).encode()).hexdigest()}")
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def cache_key(cfg: TrainConfig) -> str:
    settings = {k: v for k, v in cfg.to_dict().items() if k not in DISPLAY_ONLY}
    import torch

    blob = {"config": settings, "data": data_fingerprint(cfg.tasks), "encoder": encoder_fingerprint(cfg.encoder),
            "code": code_version(TRAINING_CODE), "device": resolve_device(cfg.device).type,
            "threads": torch.get_num_threads()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:20]


def cached_train(cfg: TrainConfig, need_models: bool = False, callbacks=()):
    """`train(cfg)` through the cache. Returns a `RunResult`; its models are loaded from the cached checkpoint
    when `need_models` (the config then must keep checkpoints), else left empty on a cache hit."""
    from ..training.models import MultiTaskModel
    from ..training.runs import RunResult, run_checkpoint, train

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
                code: tuple[str, ...] = TRAINING_CODE, suffix: str = ".json") -> Path:
    """Where a cached result that is not one `train` run lives: `.cache/results/<kind>/<key><suffix>`; the key
    hashes `kind`, `params`, the data of `tasks`, the encoder, `code_version(code)` and torch's thread count."""
    import torch

    blob = {"kind": kind, "params": params, "data": data_fingerprint(tasks),
            "encoder": encoder_fingerprint(encoder) if encoder else None, "code": code_version(tuple(code)),
            "threads": torch.get_num_threads()}
    key = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return cache_root().parent / "results" / kind / f"{key}{suffix}"


def cached_result(kind: str, params: dict, compute, tasks: Sequence[str] = (), encoder: str | None = None,
                  code: tuple[str, ...] = TRAINING_CODE) -> dict:
    """`compute()` (a JSON-able dict) through the cache (`result_path`), for results that are not one `train`
    run (e.g. the sentiment models of `mtlcore.papers.wu2020.sentiment`). One process fills an entry at a time."""
    from .._io import atomic_write_json

    path = result_path(kind, params, tasks, encoder, code)
    with FolderLock(path.with_suffix(""), wait=True):
        if path.is_file():
            return json.loads(path.read_text())
        result = compute()
        atomic_write_json(path, result)
        return result


def run_seconds(folder, diagnostics: bool = False, missing: float = 0.0) -> float:
    """The training seconds a (cached) run folder recorded (`timing.json`), without the time its gradient-cosine
    diagnostics took (training a model does not need them) unless `diagnostics`; `missing` when it has none."""
    path = Path(folder) / "timing.json"
    if not path.is_file():
        return missing
    timing = json.loads(path.read_text())
    return float(timing.get("train_seconds", 0.0)) - (0.0 if diagnostics else float(timing.get("diagnostic_seconds", 0.0)))
