"""Wall time of the notebook pipeline with one notebook at a time vs `--jobs N` (issue 13).

    python benchmarks/pipeline_jobs.py                        # Paper B notebooks at the smoke profile, --jobs 2
    python benchmarks/pipeline_jobs.py --profile cpu --jobs 2 --only notebooks/wu2020/*.py

Each arm runs the same notebooks with --force into its own temporary results folder and an empty temporary
training cache (so neither arm reuses the other's trainings), one arm after the other, and prints both wall
times and the ratio. Numbers at `--jobs N` come from notebooks with cores/N threads each.
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(profile: str, sources: list[str], jobs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MTLCORE_CACHE": str(Path(tmp) / "cache")}
        cmd = [sys.executable, "-m", "mtlcore.reporting.pipeline", "--profile", profile, "--force", "--no-report",
               "--results", str(Path(tmp) / "results"), "--jobs", str(jobs), "--only", *sources]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        return time.perf_counter() - t0, done.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="notebooks (default: the Paper B notebooks)")
    args = ap.parse_args()
    sources = args.only or sorted(glob.glob(str(REPO / "notebooks/wu2020*/*.py")))
    print(f"{len(sources)} notebooks, profile {args.profile}, {os.cpu_count()} cores")
    one, rc1 = run(args.profile, sources, 1)
    print(f"one at a time: {one:.1f} s (exit {rc1})", flush=True)
    many, rc2 = run(args.profile, sources, args.jobs)
    print(f"--jobs {args.jobs}:       {many:.1f} s (exit {rc2})")
    print(f"speed-up: {one / many:.2f}x")


if __name__ == "__main__":
    main()
