"""Verdicts on the papers' claims, written by the notebooks and read by the report.

A notebook computes its verdict from its own results and records it with `record_claim`; the
report (`results/<profile>/report.html`) collects every `claims/*.json`. Items decided by the
PAPERS.md criteria pass the `mtlcore.reporting.verdicts.Verdict` (`verdict=`), whose conditions become the
claim's checks and whose verdict (`reproduced`, `partly`, `not reproduced`, `inconclusive`) is
recorded as is; older notebooks pass plain `checks` (all true -> reproduced, some -> partly, none ->
not reproduced). Items no notebook produced are `not run`; the report shows `failed` instead of any
verdict for an item whose notebook failed or did not finish in the latest pipeline run (each claim
records the notebook that wrote it, `$MTLCORE_NOTEBOOK`, set by the pipeline).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .._io import atomic_write_json, repo_path

VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "not run")


def _verdict(checks: dict[str, bool]) -> str:
    """All checks true -> reproduced, some -> partly, none -> not reproduced."""
    passed = sum(bool(v) for v in checks.values())
    return "reproduced" if passed == len(checks) else "partly" if passed else "not reproduced"


class Claim(dict):
    """A recorded claim (the dict written to claims/<item>.json), shown in a notebook as its verdict line."""

    def __repr__(self) -> str:
        reason = f" ({self['reason']})" if self.get("reason") else ""
        return f"{self['item']}: {self['verdict']}{reason} -> claims/{self['item']}.json"


def record_claim(results_dir: str | Path, item: str, paper: str, ours: str, checks: dict[str, bool] | None = None,
                 artefacts: list[str] | None = None, verdict=None) -> Claim:
    """Write `<results_dir>/claims/<item>.json`: the paper's claim, what we measured, the checks and the verdict.

    verdict: a `mtlcore.reporting.verdicts.Verdict` (the PAPERS.md criterion); else the verdict follows `checks`."""
    from ..provenance import provenance

    if verdict is not None:
        decided = verdict.to_dict()
        checks = {g["text"]: g["learned"] for g in decided["guards"]}   # the learned-model guard of each family
        checks.update({c["text"]: c["status"] == "holds" for c in decided["conditions"]})
        checks.update({f"(secondary, not deciding) {k}: {v}": True for k, v in decided["secondary"].items()})
        extra = {"reason": decided["reason"], "conditions": decided["conditions"], "guards": decided["guards"]}
    elif checks is None:
        raise ValueError("record_claim needs checks or a verdict")
    else:
        extra = {}
    entry = {"item": item, "paper": paper, "ours": ours, "checks": {k: bool(v) for k, v in checks.items()},
             "verdict": verdict.verdict if verdict is not None else _verdict(checks), **extra,
             "artefacts": artefacts or [], "notebook": os.environ.get("MTLCORE_NOTEBOOK"),
             "provenance": {k: v for k, v in provenance().items()
                            if k in ("git_commit", "device", "cpu", "cpu_capability", "threads", "packages")}}
    atomic_write_json(repo_path(results_dir) / "claims" / f"{item}.json", entry)
    return Claim(entry)


verdict = _verdict  # the plain-checks rule, kept under its old name


def load_claims(results_dir: str | Path) -> dict[str, dict]:
    """{item: claim} of `<results_dir>/claims/*.json`; a file that cannot be read (truncated, not JSON) becomes an
    entry with "unreadable": True whose "ours" names the file and the error."""
    folder = repo_path(results_dir) / "claims"
    out: dict[str, dict] = {}
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            claim = json.loads(p.read_text())
            if not isinstance(claim, dict) or "verdict" not in claim:
                raise ValueError("not a claim record (no verdict)")
        except (ValueError, OSError) as e:
            claim = {"item": p.stem, "unreadable": True, "checks": {}, "artefacts": [], "verdict": "failed",
                     "ours": f"claims/{p.name} cannot be read ({type(e).__name__}: {e}); run its notebook again"}
        out[p.stem] = claim
    return out


def forget_claims(results_dir: str | Path, notebook: str) -> list[str]:
    """Remove the claims `notebook` wrote in an earlier run (called as it starts again): a notebook that no longer
    records an item must not leave its old verdict behind. Returns the items removed."""
    gone = []
    for item, claim in load_claims(results_dir).items():
        if claim.get("notebook") == notebook:
            (repo_path(results_dir) / "claims" / f"{item}.json").unlink(missing_ok=True)
            gone.append(item)
    return gone
