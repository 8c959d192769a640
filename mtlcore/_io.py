"""Small shared helpers: atomic writes, locks, seeding, devices.

Every file the project writes goes through `atomic_write_*`, so an interrupted run never leaves
a half-written JSON/YAML/CSV behind: content goes to a temporary file in the same folder and is
renamed into place (rename is atomic on POSIX within one filesystem). JSON is always valid JSON:
non-finite floats (an undefined metric) are written as `null`, never as a bare `NaN`.

`FolderLock` gives one writer per run folder or cache entry: an advisory `flock` on
`<folder>.lock`, which the kernel releases when its holder dies, so a lock can never be left
stale by a killed process; the file records the holder's pid and host for the error message.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict

import errno
import fcntl
import json
import math
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    import torch


DISK_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is used up",
               errno.EFBIG: "the file is larger than the size limit (ulimit -f)"}


_WARNED: dict = {}   # warn's registry: a message is shown once per process under the default filter


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """`warnings.warn`, shown as 'mtlcore: <Category>: message' instead of under the path of the file that
    raised it (a notebook's output would show the machine's paths); filters and pytest.warns see it as usual."""
    import warnings

    warnings.warn_explicit(message, category, "mtlcore", 0, module="mtlcore", registry=_WARNED)


class WriteError(OSError):
    """A result file could not be written (disk full, quota, file-size limit); names the file. The file's old
    contents, if any, are unchanged (writes go through a temp file + rename)."""


def disk_error(e: BaseException, path: str | Path) -> WriteError | None:
    """A `WriteError` naming `path` for a disk-full / quota / file-size error `e` (an OSError, or the RuntimeError
    torch.save raises when its writes stop short), else None."""
    code = getattr(e, "errno", None)
    if code in DISK_ERRNOS:
        reason = DISK_ERRNOS[code]
    elif isinstance(e, RuntimeError) and any(m in str(e) for m in ("unexpected pos", "file write failed",
                                                                     "PytorchStreamWriter failed writing")):
        code, reason = errno.EIO, "the write stopped short (disk full or a file-size limit)"
    else:
        return None
    return WriteError(code, f"cannot write {path}: {reason}; nothing was replaced: free space (or lift the limit) "
                            "and run again (an interrupted training continues with --resume)")


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, (OSError, RuntimeError)) and (err := disk_error(e, path)) is not None:
            raise err from None
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically (temp file + rename)."""
    return _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write `obj` as indented JSON atomically; numpy scalars are converted and non-finite floats become null."""
    text = json.dumps(finite_or_none(obj), indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def finite_or_none(obj: Any) -> Any:
    """`obj` with every NaN/inf float (also numpy floats and arrays) replaced by None, recursively."""
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite_or_none(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def atomic_torch_save(path: str | Path, obj: Any) -> Path:
    """`torch.save` through a temp file + rename."""
    import torch   # (here, not at the top: the command line's --help does not wait for torch)

    return _atomic(Path(path), lambda p: torch.save(obj, p))


def plain(obj: Any) -> Any:
    """`obj` with numpy scalars and arrays turned into Python numbers and lists (tensors, dicts, lists, tuples, str,
    numbers and None kept), so that `torch.load(weights_only=True)` can read a checkpoint without running code."""
    import torch

    if isinstance(obj, torch.Tensor) or obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return type(obj)((k, plain(v)) for k, v in obj.items()) if isinstance(obj, OrderedDict) else {
            k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    raise TypeError(f"plain: cannot store a {type(obj).__name__} in a checkpoint that loads without code")


def atomic_save_npy(path: str | Path, array: np.ndarray) -> Path:
    """`np.save` through a temp file + rename (the name keeps its `.npy`)."""
    def write(p: Path) -> None:
        with open(p, "wb") as f:
            np.save(f, array)

    return _atomic(Path(path), write)


def check_out_folder(out: str | Path, overwrite: bool = False, marker: str | None = None) -> Path:
    """`atomic_folder`'s refusals, for a command to make before its work: FileExistsError if `out` exists and not
    `overwrite`, or exists and is neither empty nor a folder holding `marker`. Returns `out` as a Path."""
    out = Path(out)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"--out {out} exists; pass --overwrite to replace it")
        if not out.is_dir() or (any(out.iterdir()) and (marker is None or not (out / marker).is_file())):
            raise FileExistsError(f"--out {out} exists and is not a folder this command wrote (no {marker}); "
                                  "--overwrite replaces only those: choose another --out")
    return out


@contextlib.contextmanager
def atomic_folder(out: str | Path, overwrite: bool = False, marker: str | None = None):
    """Build a folder in `<out>.partial` (yielded) and rename it to `out` when the block ends without an error;
    on an error nothing of it is left. An existing `out` is replaced only with `overwrite`, and only if it is
    empty or holds `marker` (a file this kind of folder always has): --overwrite never deletes a folder of
    something else. Both refusals are FileExistsError, raised up front."""
    import shutil

    out = check_out_folder(out, overwrite, marker)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def positive_int(text: str, also: tuple[str, ...] = ()) -> int | str:
    """An argparse type: a positive integer, or one of the words `also` (e.g. 'auto')."""
    import argparse

    if text in also:
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        words = "".join(f"{w!r} or " for w in also)
        raise argparse.ArgumentTypeError(f"must be {words}a positive integer, got {text!r}")
    return value


class SavedFiles(list):
    """The paths written (a list); shown in a notebook as their file names, not as machine-specific paths."""

    def __repr__(self) -> str:
        return "saved " + ", ".join(Path(p).name for p in self)


def atomic_save_figure(fig, stem: str | Path) -> SavedFiles:
    """Save a matplotlib figure as `<stem>.png` and `<stem>.pdf`, each atomically."""
    stem = Path(stem)
    out = SavedFiles()
    for ext in ("png", "pdf"):
        out.append(_atomic(stem.with_suffix(f".{ext}"),
                           lambda p, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight")))
    return out


class SavedPath(type(Path())):   # (the concrete PosixPath / WindowsPath class: Path itself cannot be subclassed
    """A path written (a Path in every way); shown in a notebook as its file name, not a machine's path."""   # before 3.12)

    def __repr__(self) -> str:
        return f"saved {self.name}"

    # paths derived from it (parent, / name, with_suffix) are plain paths: 3.12+ builds them with with_segments,
    # 3.10-3.11 with the class method _from_parsed_parts (an instance method from 3.12: not overridden there)
    def with_segments(self, *segments):
        return Path(*segments)

    if sys.version_info < (3, 12):
        @classmethod
        def _from_parsed_parts(cls, drv, root, parts):
            return type(Path())._from_parsed_parts(drv, root, parts)


def atomic_write_csv(path: str | Path, frame) -> SavedPath:
    """Write a pandas DataFrame as CSV atomically; returns the path (shown by its file name)."""
    return SavedPath(_atomic(Path(path), lambda p: frame.to_csv(p, index=False)))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class LockedError(RuntimeError):
    """Another process holds the lock of a run folder or cache entry."""


class FolderLock:
    """Exclusive advisory lock on `<folder>.lock` (one writer per folder; see the module docstring).

        with FolderLock(out):            # raises LockedError at once if another process writes `out`
            ...
        with FolderLock(entry, wait=True):   # or waits for it (cache entries: the second reader reuses)

    The lock file is removed on release; a waiter that acquires a file that was removed meanwhile
    retries on the new one, so two processes never both hold the lock of one folder.
    """

    def __init__(self, folder: str | Path, wait: bool = False, timeout: float | None = None):
        self.folder = Path(folder)
        self.path = self.folder.with_name(self.folder.name + ".lock")
        self.wait, self.timeout = wait, timeout
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown process"
        except OSError:
            return "unknown process"

    def acquire(self) -> "FolderLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not self.wait or (self.timeout is not None and time.monotonic() - t0 > self.timeout):
                    raise LockedError(f"{self.folder} is being written by another process ({self.holder()}; "
                                      f"lock file {self.path}); wait for it to finish or choose another folder") from None
                time.sleep(0.2)
                continue
            try:  # the holder before us may have removed the file after we opened it: lock the current one
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            self._fd = fd
            return self

    def check(self) -> None:
        """Raise LockedError if the lock was lost: its file deleted or replaced (say, by hand) since we took it,
        so another writer may hold a lock of its own on the same folder. Call before publishing."""
        if self._fd is None:
            raise LockedError(f"{self.folder}: the lock is not held")
        try:
            same = os.path.samestat(os.fstat(self._fd), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:
            raise LockedError(f"{self.folder}: the lock file {self.path} was removed or replaced while this process "
                              "wrote the folder, so another writer may be at work; nothing was published (this "
                              "run's files are in the .partial folder)")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch, and ask torch for deterministic kernels.

    This is the one place determinism is configured; everything else derives its randomness from
    explicit generators seeded from the run seed.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda if available else cpu; anything else must name a device this machine has."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"device: {device!r} is not a device name (auto, cpu, cuda, cuda:1, mps)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available on this machine (use auto or cpu)")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device: {device!r} requested but this machine has {torch.cuda.device_count()} GPU(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device: {device!r} requested but MPS is not available on this machine")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device: {device!r} is not supported (auto, cpu, cuda[:N], mps)")
    return dev


REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_path(path: str | Path) -> Path:
    """`path` if absolute, else relative to the repository root (notebooks run from notebooks/ under nbval)."""
    path = Path(path)
    return path if path.is_absolute() else REPO_ROOT / path


YAML_MAX_VALUES = 100_000   # a config, profile or task spec is a few hundred values; more is an alias bomb


class YamlTooLarge(ValueError):
    """A YAML document whose aliases (&a / *a) expand to more than `YAML_MAX_VALUES` values."""


def compose_yaml(text: str, where: str | Path):
    """The YAML node graph of `text` (yaml.compose, SafeLoader), refused with `YamlTooLarge` when its aliases would
    expand it to more than YAML_MAX_VALUES values (a "billion laughs" document: nine nested lists of nine aliases
    are 9^9 values, expanded until memory runs out). Counted on the graph with memoised sizes, so the check is
    linear in the file."""
    import yaml

    node = yaml.compose(text, Loader=yaml.SafeLoader)
    sizes: dict[int, int] = {}

    def size(n) -> int:
        key = id(n)
        if sizes.get(key) == -1:
            raise YamlTooLarge(f"{where}: line {n.start_mark.line + 1}: an alias refers to a value that contains "
                               "it (a recursive &name / *name); write the values out")
        if key not in sizes:
            sizes[key] = -1   # in progress
            if isinstance(n, yaml.SequenceNode):
                total = 1 + sum(size(c) for c in n.value)
            elif isinstance(n, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in n.value)
            else:
                total = 1
            sizes[key] = total
            if total > YAML_MAX_VALUES:
                raise YamlTooLarge(f"{where}: the YAML expands to more than {YAML_MAX_VALUES} values through its "
                                   f"aliases (&name / *name, near line {n.start_mark.line + 1}); a config or task "
                                   "spec needs far fewer: write the values out or remove the nested aliases")
        return sizes[key]

    if node is not None:
        size(node)
    return node


def load_yaml(text: str, where: str | Path) -> Any:
    """`yaml.safe_load(text)` after `compose_yaml`'s size check (plain values only: no Python objects)."""
    import yaml

    node = compose_yaml(text, where)
    return None if node is None else yaml.SafeLoader("").construct_document(node)
