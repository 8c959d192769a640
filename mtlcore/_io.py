"""Small shared helpers: atomic writes, seeding, provenance.

Every file the project writes goes through `atomic_write_*`, so an interrupted run never leaves
a half-written JSON/YAML/CSV behind: content goes to a temporary file in the same folder and is
renamed into place (rename is atomic on POSIX within one filesystem).
"""
from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch


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
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically (temp file + rename)."""
    return _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write `obj` as indented JSON atomically; numpy scalars are converted."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def atomic_torch_save(path: str | Path, obj: Any) -> Path:
    """`torch.save` through a temp file + rename."""
    return _atomic(Path(path), lambda p: torch.save(obj, p))


def atomic_save_figure(fig, stem: str | Path) -> list[Path]:
    """Save a matplotlib figure as `<stem>.png` and `<stem>.pdf`, each atomically."""
    stem = Path(stem)
    out = []
    for ext in ("png", "pdf"):
        out.append(_atomic(stem.with_suffix(f".{ext}"),
                           lambda p, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight")))
    return out


def atomic_write_csv(path: str | Path, frame) -> Path:
    """Write a pandas DataFrame as CSV atomically."""
    return _atomic(Path(path), lambda p: frame.to_csv(p, index=False))


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch, and ask torch for deterministic kernels.

    This is the one place determinism is configured; everything else derives its randomness from
    explicit generators seeded from the run seed.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda if available else cpu; anything else is passed to torch.device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_path(path: str | Path) -> Path:
    """`path` if absolute, else relative to the repository root (notebooks run from notebooks/ under nbval)."""
    path = Path(path)
    return path if path.is_absolute() else REPO_ROOT / path
