"""Provenance recorded with every result: git commit, package versions, machine."""
from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("mtlcore", "torch", "transformers", "numpy", "pandas", "scikit-learn", "scipy", "papermill")


OUTPUTS = ("results",)  # what a run writes itself: its own changes there do not make the code "dirty"


def git_commit(repo: Path | None = None) -> str:
    """HEAD's hash, with '+dirty' when tracked files outside the run outputs (`OUTPUTS`) have changes; 'unknown'
    outside git. A pipeline run rewrites the committed results/ as it goes; those changes are its product, not
    a change to the code that made them, so they are not counted."""
    repo = repo or Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                *(f":(exclude){o}" for o in OUTPUTS)], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance() -> dict:
    """Commit, versions and machine. `cpu_capability` is the instruction set torch's CPU kernels dispatch to
    (AVX2, AVX512, ...): the element-wise kernels (softmax, layer norm, GELU) round differently on each, so a
    training run repeats bit for bit on the same capability and thread count, and moves within seed noise across
    machines that differ in it (docs/usage.md, "Same seed, same numbers")."""
    import torch

    from .machine import cpu_name

    return {"git_commit": git_commit(), "python": platform.python_version(), "platform": platform.platform(),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            "cpu": cpu_name(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "packages": package_versions()}
