"""Run the notebooks headlessly with papermill, one profile at a time.

    python -m mtlcore.pipeline --profile cpu                 # what `make reproduce` runs
    python -m mtlcore.pipeline --profile smoke --only notebooks/00_quickstart.py

Each notebook's jupytext `.py` source is executed into `results/<profile>/<name>.ipynb` with the
profile's parameters injected (`profile`, `results_dir` and that notebook's entries in
`notebooks/profiles/<profile>.yaml`). A failing notebook is kept with its error, the others still
run, and the summary (also `results/<profile>/summary.json`) lists what ran, how long and what
failed; the exit code is non-zero if anything failed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from ._io import REPO_ROOT, atomic_write_json

NOTEBOOKS = REPO_ROOT / "notebooks"
PROFILES = NOTEBOOKS / "profiles"


def notebook_name(path: Path) -> str:
    """`notebooks/wu2020/b_f3.py` -> `wu2020/b_f3`."""
    return path.resolve().relative_to(NOTEBOOKS).with_suffix("").as_posix()


def discover() -> list[Path]:
    """Every jupytext notebook under notebooks/ in name order (profiles excluded)."""
    return sorted(p for p in NOTEBOOKS.rglob("*.py") if "profiles" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def load_profile(name: str) -> dict:
    path = PROFILES / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
        raise SystemExit(f"unknown profile {name!r} ({path} not found); known: {known}")
    data = yaml.safe_load(path.read_text()) or {}
    return {"name": data.get("name", name), "notebooks": data.get("notebooks") or {}}


def run_notebook(source: Path, profile: dict, results: Path) -> dict:
    """Execute one notebook; returns {'notebook', 'seconds', 'status', 'error'}."""
    import jupytext
    import papermill as pm

    name = notebook_name(source)
    out = results / f"{name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {"profile": profile["name"], "results_dir": str(results), **profile["notebooks"].get(name, {})}
    t0 = time.perf_counter()
    status, error = "ok", ""
    try:
        nb = jupytext.read(source)
        declared = set(pm.inspect_notebook(_write_tmp(nb, out)))
        unknown = sorted(set(params) - declared)
        if unknown:
            raise ValueError(f"profile {profile['name']!r} sets parameters {unknown} that {source.name} does not declare")
        pm.execute_notebook(str(out), str(out), parameters=params, cwd=str(REPO_ROOT), progress_bar=False,
                            log_output=False, kernel_name="python3")
    except Exception as e:  # a failing notebook is reported, and the others still run
        status, error = "failed", f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
    return {"notebook": name, "seconds": round(time.perf_counter() - t0, 1), "status": status, "error": error,
            "output": str(out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out)}


def _write_tmp(nb, out: Path) -> str:
    import jupytext

    jupytext.write(nb, out, fmt="ipynb")
    return str(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mtlcore.pipeline", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--only", nargs="*", help="notebook .py files to run (default: all)")
    ap.add_argument("--results", help="output folder (default results/<profile>)")
    args = ap.parse_args(argv)
    profile = load_profile(args.profile)
    results = Path(args.results) if args.results else REPO_ROOT / "results" / profile["name"]
    sources = [Path(p).resolve() for p in args.only] if args.only else discover()
    rows = []
    t0 = time.perf_counter()
    for i, src in enumerate(sources, 1):
        print(f"[{i}/{len(sources)}] {notebook_name(src)} ...", flush=True)
        rows.append(run_notebook(src, profile, results))
        r = rows[-1]
        print(f"[{i}/{len(sources)}] {r['notebook']}: {r['status']} in {r['seconds']}s {r['error']}", flush=True)
    failed = [r for r in rows if r["status"] != "ok"]
    summary = {"profile": profile["name"], "seconds": round(time.perf_counter() - t0, 1), "notebooks": rows,
               "failed": [r["notebook"] for r in failed]}
    atomic_write_json(results / "summary.json", summary)
    print(f"\n{len(rows) - len(failed)}/{len(rows)} notebooks ok in {summary['seconds']}s"
          + (f"; FAILED: {', '.join(summary['failed'])}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
