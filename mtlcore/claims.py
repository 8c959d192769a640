"""Verdicts on the papers' claims, written by the notebooks and read by the report.

A notebook computes its verdict from its own results and records it with `record_claim`; the
report (`results/<profile>/report.html`) collects every `claims/*.json`. Verdicts:
`reproduced`, `partly`, `not reproduced`, `not run`; the report shows `failed` instead of any
verdict for an item whose notebook failed or did not finish in the latest pipeline run (each claim
records the notebook that wrote it, `$MTLCORE_NOTEBOOK`, set by the pipeline).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ._io import atomic_write_json, repo_path

VERDICTS = ("reproduced", "partly", "not reproduced", "not run")


def verdict(checks: dict[str, bool]) -> str:
    """All checks true -> reproduced, some -> partly, none -> not reproduced."""
    passed = sum(bool(v) for v in checks.values())
    return "reproduced" if passed == len(checks) else "partly" if passed else "not reproduced"


def record_claim(results_dir: str | Path, item: str, paper: str, ours: str, checks: dict[str, bool],
                 artefacts: list[str] | None = None) -> dict:
    """Write `<results_dir>/claims/<item>.json`: the paper's claim, what we measured, the checks and the verdict."""
    from .provenance import git_commit, package_versions

    entry = {"item": item, "paper": paper, "ours": ours, "checks": {k: bool(v) for k, v in checks.items()},
             "verdict": verdict(checks), "artefacts": artefacts or [], "notebook": os.environ.get("MTLCORE_NOTEBOOK"),
             "provenance": {"git_commit": git_commit(), "packages": package_versions()}}
    atomic_write_json(repo_path(results_dir) / "claims" / f"{item}.json", entry)
    return entry


def load_claims(results_dir: str | Path) -> dict[str, dict]:
    folder = repo_path(results_dir) / "claims"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}
