"""What a notebook really reads, for its cache stamp.

The pipeline runs each notebook with `$MTLCORE_READ_LOG` set and, as its first cell, `watch_reads()`: an audit hook
(`sys.addaudithook`) that logs every file the kernel opens for reading under the repository or the data root
(`$MTLCORE_DATA`), whoever opens it (mtlcore's readers, pandas, numpy, a helper module). The stamp keeps each
file's digest, so editing any of them re-runs the notebook. Not logged: the virtual environment, the training and
result caches (their entries are keyed by content), the results folders (outputs), hidden folders (`.git`),
`*.egg-info` and `__pycache__` (tooling), and the code under `mtlcore/` and `notebooks/` (part of the stamp's key
already). Files outside the repository and the data root are
not tracked.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_installed = False


def _prefixes() -> tuple[list[str], list[str]]:
    from .._io import REPO_ROOT
    from ..tasks.registry import data_root

    repo = Path(REPO_ROOT).resolve()
    roots = [str(repo)]
    try:
        roots.append(str(data_root().resolve()))
    except Exception:  # noqa: BLE001 - no data root: only the repository is watched
        pass
    cache = Path(os.environ.get("MTLCORE_CACHE") or repo / ".cache").resolve()
    skip = [str(p) for p in (repo / ".venv", repo / ".git", repo / "results", repo / "mtlcore", repo / "notebooks",
                             cache, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())]
    return roots, skip


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(p + os.sep) for p in prefixes)


def _tooling(path: str, roots: list[str]) -> bool:
    """Files of the tools rather than data: anything under a hidden folder, an `*.egg-info` folder (read by
    importlib.metadata for entry points) or `__pycache__`, relative to the root it is under."""
    for root in roots:
        if _under(path, [root]):
            parts = Path(path[len(root):]).parts[:-1]
            return any(p.startswith(".") or p.endswith(".egg-info") or p == "__pycache__" for p in parts if p != os.sep)
    return False


def watch_reads() -> bool:
    """Install the read-logging audit hook in this process (once; a no-op without `$MTLCORE_READ_LOG`). Returns
    whether it is installed."""
    global _installed
    log = os.environ.get("MTLCORE_READ_LOG")
    if _installed or not log:
        return _installed
    roots, skip = _prefixes()
    skip.append(str(Path(log).resolve().parent))
    seen: set[str] = set()

    def hook(event: str, args: tuple) -> None:
        if event != "open":
            return
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        if mode is not None and any(c in str(mode) for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS:
            return
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if real in seen or not _under(real, roots) or _under(real, skip) or _tooling(real, roots):
            return
        if not os.path.isfile(real):
            return
        seen.add(real)
        with open(log, "a", encoding="utf-8") as f:   # mode "a": this open is not logged itself
            f.write(real + "\n")

    sys.addaudithook(hook)
    _installed = True
    return True
