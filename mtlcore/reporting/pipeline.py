"""Run the notebooks headlessly with papermill, one profile at a time, then write the report.

    python -m mtlcore.reporting.pipeline --profile cpu                 # what `make reproduce` runs
    python -m mtlcore.reporting.pipeline --profile smoke --only notebooks/00_quickstart.py
    python -m mtlcore.reporting.pipeline --profile cpu --force         # ignore the up-to-date stamps
    python -m mtlcore.reporting.pipeline --profile cpu --jobs 2        # two notebooks at a time (`run_parallel`)

`--jobs auto` (the default, and the Makefile's) runs as many notebooks at once as the machine has cores,
bounded by its memory (`auto_jobs` over the whole notebook set); each gets cores/jobs threads, also when only
some notebooks run (a training's cache key includes its thread count, so notebooks share cached trainings
however they are started).

Each notebook's jupytext `.py` source is executed into `results/<profile>/<name>.ipynb` with the
profile's parameters injected (`mtlcore.training.config.Profile.parameters`). A notebook whose source,
parameters, mtlcore code and data are unchanged since its last successful run is not run again
(its stamp is in `results/<profile>/.stamps/`). "Data" is what the notebook actually read: while
it runs, every data file mtlcore opens is logged (`$MTLCORE_READ_LOG`, see `mtlcore.tasks`) and the
stamp keeps each file's digest, so editing a file re-runs exactly the notebooks that read it,
wherever the data root is (`$MTLCORE_DATA`). A failing notebook is kept with its error and the
others still run; `results/<profile>/logs/<name>.log` holds each notebook's output. The summary
(`summary.json`) is rewritten before and after each notebook, so a notebook that is running or
was killed shows as such; the report never shows an older verdict for a notebook that failed or
did not finish. The exit code is non-zero if anything failed. Finally `report.md` /
`report.html` are rebuilt from the results.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path

from .._io import REPO_ROOT, FolderLock, LockedError, atomic_write_json, positive_int
from .claims import forget_claims
from .cache import code_version, file_digest
from ..machine import THREAD_VARS, machine_cores, machine_memory_gb, set_thread_vars, thread_share
from ..training.config import ConfigError, Profile
from ..provenance import provenance

NOTEBOOKS = REPO_ROOT / "notebooks"
PROFILES = NOTEBOOKS / "profiles"


def notebook_name(path: Path) -> str:
    """`notebooks/wu2020/b_f3_transfer.py` -> `wu2020/b_f3_transfer`; a notebook elsewhere -> its file stem."""
    path = path.resolve()
    return path.relative_to(NOTEBOOKS).with_suffix("").as_posix() if path.is_relative_to(NOTEBOOKS) else path.stem


def discover() -> list[Path]:
    """Every jupytext notebook under notebooks/ in name order (profiles excluded)."""
    return sorted(p for p in NOTEBOOKS.rglob("*.py") if "profiles" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def load_profile(name: str) -> Profile:
    """`notebooks/profiles/<name>.yaml`, or a YAML file given by path."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PROFILES / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
        raise ConfigError(f"unknown profile {name!r} ({path} not found); known: {known}")
    return Profile.from_yaml(path)


def _stamp_key(source: Path, params: dict) -> str:
    blob = json.dumps({"source": file_digest(source), "params": params, "code": code_version(),
                       "data_root": os.environ.get("MTLCORE_DATA", "")}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _digests(paths) -> dict[str, str]:
    return {p: (file_digest(p) if Path(p).is_file() else "missing") for p in sorted(set(paths))}


def _data_unchanged(stamp: dict) -> bool:
    """Every data file the notebook read last time still has the content it had then."""
    recorded = stamp.get("data")
    return isinstance(recorded, dict) and _digests(recorded) == recorded


def update_summary(results: Path, rows: list[dict], profile: Profile, seconds: float | None = None,
                   keep: set[str] | None = None) -> dict:
    """Merge `rows` into `results/summary.json` (rows of other notebooks are kept, or only those named in
    `keep`) and write it atomically."""
    path = results / "summary.json"
    old = {}
    if path.is_file():
        try:
            old = {r["notebook"]: r for r in json.loads(path.read_text()).get("notebooks", [])}
        except (json.JSONDecodeError, KeyError, TypeError):
            old = {}
    if keep is not None:
        old = {k: r for k, r in old.items() if k in keep}
    old.update({r["notebook"]: r for r in rows})
    notebooks = sorted(old.values(), key=lambda r: r["notebook"])
    summary = {"profile": profile.name, "seconds": seconds, "notebooks": notebooks,
               "failed": [r["notebook"] for r in notebooks if r["status"] in ("failed", "running")],
               "provenance": provenance()}
    atomic_write_json(path, summary)
    return summary


def run_notebook(source: Path, profile: Profile, results: Path, force: bool = False, on_start=None) -> dict:
    """Execute one notebook unless its stamp is current; returns a summary row. `on_start(row)` is called
    with a 'running' row just before the notebook executes (the pipeline records it in summary.json)."""
    import jupytext
    import papermill as pm

    name = notebook_name(source)
    out = results / f"{name}.ipynb"
    stamp, log = results / ".stamps" / f"{name}.json", results / "logs" / f"{name}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    row = {"notebook": name, "output": str(out.relative_to(results)), "log": str(log.relative_to(results))}
    try:
        nb = jupytext.read(source)
        declared = set(pm.inspect_notebook(_write(nb, out.with_suffix(".input.ipynb"))))
        out.with_suffix(".input.ipynb").unlink()
        # results_dir relative to the repository (the kernel's working directory) where it lies inside it: the
        # executed notebook's parameters cell then names no machine's path
        where = os.path.relpath(results, REPO_ROOT) if results.resolve().is_relative_to(REPO_ROOT) else str(results)
        params = {**profile.parameters(name, declared), "results_dir": where}
        unknown = sorted(set(params) - declared - {"profile", "results_dir"})
        if unknown:
            raise ValueError(f"profile {profile.name!r} sets parameters {unknown} that {source.name} does not declare")
        key = _stamp_key(source, params)
        previous = json.loads(stamp.read_text()) if stamp.is_file() else {}
        if not force and out.is_file() and previous.get("key") == key and _data_unchanged(previous):
            return {**row, "status": "up to date", "seconds": round(time.perf_counter() - t0, 1), "error": "",
                    "ran_seconds": previous.get("seconds")}
        stamp.unlink(missing_ok=True)
        forget_claims(results, name)   # its verdicts come from this run or not at all
        if on_start is not None:
            on_start({**row, "status": "running", "seconds": 0.0, "error": "did not finish (killed or still running)"})
        import nbformat

        watch = nbformat.v4.new_code_cell("# pipeline: log every data file this notebook reads (its cache stamp)\n"
                                          "from mtlcore.reporting.reads import watch_reads\nwatch_reads();")
        watch.metadata["tags"] = ["mtlcore-pipeline"]
        nb.cells.insert(0, watch)
        _write(nb, out)
        handler = logging.FileHandler(log, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("papermill")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        reads = stamp.with_suffix(".reads")
        reads.parent.mkdir(parents=True, exist_ok=True)
        reads.write_text("")
        env = {"MTLCORE_READ_LOG": str(reads), "MTLCORE_NOTEBOOK": name, "MPLBACKEND": INLINE_BACKEND,
               "MTLCORE_PROGRESS": "text",   # text bars: a widget would be saved at 0% (mtlcore.progress)
               **(PORTABLE_ENV if name in PORTABLE_NUMERICS else {})}
        saved_env = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # inherited by the kernel
        try:
            pm.execute_notebook(_shown(out), _shown(out), parameters=params, cwd=str(REPO_ROOT), progress_bar=False,
                                log_output=True, kernel_name="python3", kernel_manager_class=_kernel_manager_class())
        finally:
            logger.removeHandler(handler)
            handler.close()
            for k, v in saved_env.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        seconds = round(time.perf_counter() - t0, 1)
        data = _digests(line for line in reads.read_text().splitlines() if line)
        reads.unlink()
        atomic_write_json(stamp, {"key": key, "seconds": seconds, "params": params, "data": data,
                                  "provenance": provenance()})
        return {**row, "status": "ok", "seconds": seconds, "error": ""}
    except Exception as e:  # a failing notebook is reported, and the others still run
        lines = str(e).strip().splitlines()
        return {**row, "status": "failed", "seconds": round(time.perf_counter() - t0, 1),
                "error": f"{type(e).__name__}: {lines[-1] if lines else ''}"[:500]}


# The kernel's figures go into the executed notebook (the Makefile's MPLBACKEND=Agg, meant for scripts, would
# reach the kernel and leave every figure cell without its image).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _kernel_manager_class():
    """The notebooks' kernels talk over local Unix sockets (IPC) where the Jupyter runtime folder's path leaves
    room for a socket name (at most 107 bytes): no TCP port is opened, and ipykernel 7's "running over TCP
    without encryption" warning is not printed for every notebook. Elsewhere, jupyter_client's TCP default.

    Each kernel gets its own connection file in the runtime folder, so its sockets are named after it
    (<runtime>/kernel-<uuid>-ipc-<n>): without one, jupyter_client names them kernel-ipc-<n> in the working
    directory, where two kernels starting at once (--jobs 2) would pick the same names."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = jupyter_runtime_dir()
    # a socket is <runtime>/kernel-<36-character uuid>-ipc-<n>, n a one-digit channel number
    if os.name != "posix" or len(os.fsencode(runtime)) > 107 - len("/kernel--ipc-0") - 36:
        return AsyncKernelManager

    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _ipc(self) -> str:
            return "ipc"

        @default("connection_file")
        def _own_connection_file(self) -> str:
            os.makedirs(runtime, exist_ok=True)
            return os.path.join(runtime, f"kernel-{uuid.uuid4()}.json")

    return IPCKernelManager


def _shown(path: Path) -> str:
    """`path` relative to the working directory where it lies below it (what a user can paste), else absolute."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _log_path(results: Path, name: str) -> str:
    return _shown(results / "logs" / f"{name}.log")


# While notebooks run in parallel, a line every this many seconds names the ones still running (a long notebook
# would otherwise leave the terminal silent for many minutes).
HEARTBEAT_SECONDS = 300


def _print_row(i: int, n: int, row: dict) -> None:
    print(f"[{i}/{n}] {row['notebook']}: {row['status']} in {row['seconds']}s {row['error']}", flush=True)


# Notebooks whose small CPU models (LSTMs on word vectors) moved between machines of different ISAs (issue 21:
# B-F6's MTL mean 67.8 -> 71.2 between two CPUs, same seeds): their kernels run with every ISA-dependent choice
# pinned to AVX2, which every x86-64 machine of ours has: PyTorch's vectorised ops (ATEN_CPU_CAPABILITY), MKL's
# BLAS branch (MKL_CBWR, conditional numerical reproducibility) and oneDNN's kernels (ONEDNN_MAX_CPU_ISA). Read
# once when the kernel starts, so they are set for the kernel process; the sentiment cache key records them.
PORTABLE_NUMERICS = frozenset({"wu2020_text/b_f5b_alignment_transfer", "wu2020_text/b_f6_capacity",
                               "wu2020_text/b_f7_covariance_alignment"})
PORTABLE_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
# A notebook's peak memory at the cpu profile (MiniLM, its trainings, its kernel): `auto_jobs` keeps this much
# free per notebook it runs at once.
NOTEBOOK_MEMORY_GB = 4


def auto_jobs(notebooks: int, cores: int | None = None, memory_gb: float | None = None) -> int:
    """Notebooks to run at once: one per core, no more than there are notebooks, and no more than the memory
    holds at `NOTEBOOK_MEMORY_GB` each (at least 1)."""
    cores = cores or machine_cores()
    memory_gb = machine_memory_gb() if memory_gb is None else memory_gb
    return max(1, min(cores, notebooks, int(memory_gb // NOTEBOOK_MEMORY_GB)))


def _run_in_worker(source: Path, profile: Profile, results: Path, force: bool, threads: int, on_start=None) -> dict:
    """One notebook in a worker process: its kernel (a child of this process) inherits the thread limits."""
    set_thread_vars(threads)
    return run_notebook(source, profile, results, force, on_start=on_start)


def _worker_main(source: Path, profile: Profile, results: Path, force: bool, threads: int, queue) -> None:
    """A notebook's own process: put (source, 'running' row) on `queue` when it starts executing, then (source,
    final row); an exception becomes a failed row. Only the parent writes summary.json (it holds the lock)."""
    try:
        row = _run_in_worker(source, profile, results, force, threads,
                             on_start=lambda started: queue.put((str(source), started)))
    except BaseException as e:  # noqa: BLE001 - report anything, the parent decides
        name = notebook_name(source)
        row = {"notebook": name, "output": f"{name}.ipynb", "log": f"logs/{name}.log", "status": "failed",
               "seconds": 0.0, "error": f"worker: {type(e).__name__}: {e}"[:500]}
    queue.put((str(source), row))


def longest_first(sources: list[Path], results: Path) -> list[Path]:
    """`sources` in the order to start them when running several at once: the longest last run first (its
    `ran_seconds` or `seconds` in `summary.json`), notebooks never run before them all (their time is unknown),
    name order among equals. Starting the long ones first shortens the whole run (the longest-processing-time
    rule): with name order, the last notebook to start may be the longest and run alone at the end."""
    try:
        rows = json.loads((results / "summary.json").read_text()).get("notebooks", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        rows = []
    took = {r.get("notebook"): r.get("ran_seconds") or r.get("seconds") for r in rows if isinstance(r, dict)}
    known = {s: float(took[notebook_name(s)]) for s in sources
             if isinstance(took.get(notebook_name(s)), (int, float)) and took[notebook_name(s)] > 0}
    return sorted(sources, key=lambda s: (s in known, -known.get(s, 0.0), notebook_name(s)))


def run_parallel(sources: list[Path], profile: Profile, results: Path, force: bool, jobs: int) -> list[dict]:
    """Run `sources` `jobs` at a time, each in its own process (spawned: nothing of this process's thread pools
    is inherited) with `thread_share(jobs)` threads. Same caching, stamps and logs as one at a time: a training
    two notebooks need is filled by one and read by the other (the cache's lock). Torch reduces in a
    thread-count-dependent order, so the training cache keys (which include the thread count) differ from a run
    with one notebook at a time. A notebook that fails, or whose process dies (killed, out of memory), is
    reported as failed and the others go on: every notebook has a process of its own, so one death cannot break
    the rest (a shared process pool would fail every pending notebook with it)."""
    import multiprocessing
    import queue as queues

    threads = thread_share(jobs)
    print(f"running {len(sources)} notebooks, {jobs} at a time with {threads} thread(s) each", flush=True)
    ctx = multiprocessing.get_context("spawn")
    results_q = ctx.Queue()
    pending, running, rows = longest_first(list(sources), results), {}, []
    beat = time.perf_counter()

    def finish(key: str, row: dict) -> None:
        if row.get("status") == "running":   # the notebook started executing: mark it, as one at a time does
            update_summary(results, [row], profile)
            return
        proc, _, _ = running.pop(key)
        proc.join()
        rows.append(row)
        update_summary(results, [row], profile)
        _print_row(len(rows), len(sources), row)

    while pending or running:
        while pending and len(running) < jobs:
            src = pending.pop(0)
            proc = ctx.Process(target=_worker_main, args=(src, profile, results, force, threads, results_q))
            proc.start()
            running[str(src)] = (proc, notebook_name(src), time.perf_counter())
            print(f"    started {notebook_name(src)} (log: {_log_path(results, notebook_name(src))})", flush=True)
        try:
            key, row = results_q.get(timeout=0.5)
            finish(key, row)
            continue
        except queues.Empty:
            pass
        if time.perf_counter() - beat >= HEARTBEAT_SECONDS:
            beat = time.perf_counter()
            print("    still running: " + ", ".join(f"{name} ({(beat - started) / 60:.0f} min)"
                                                   for _, name, started in running.values()), flush=True)
        for key, (proc, name, started) in list(running.items()):
            if proc.is_alive() or proc.exitcode == 0:   # a clean exit's row is still in the queue
                continue
            try:   # a row may have arrived just before the process died
                got, row = results_q.get(timeout=1.0)
                finish(got, row)
                if row.get("status") != "running":
                    break
            except queues.Empty:
                finish(key, {"notebook": name, "output": f"{name}.ipynb", "log": f"logs/{name}.log",
                             "status": "failed", "seconds": round(time.perf_counter() - started, 1),
                             "error": f"worker: its process died (exit code {proc.exitcode}); the other notebooks "
                                      "went on"})
    order = {notebook_name(s): i for i, s in enumerate(sources)}
    return sorted(rows, key=lambda r: order.get(r["notebook"], len(order)))


def _write(nb, path: Path) -> str:
    import jupytext

    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    jupytext.write(nb, path, fmt="ipynb")
    return str(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mtlcore.reporting.pipeline", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="cpu", help="smoke | cpu | gpu, or a profile YAML file")
    ap.add_argument("--only", nargs="*", help="notebook .py files to run (default: all)")
    ap.add_argument("--results", help="output folder (default results/<profile>)")
    ap.add_argument("--force", action="store_true", help="run notebooks even when their stamp is current")
    ap.add_argument("--jobs", type=functools.partial(positive_int, also=("auto",)), default="auto",
                    help="notebooks run at once, each in its own process with cores/jobs threads; 'auto' (default): "
                         f"one per core, at most one per {NOTEBOOK_MEMORY_GB} GB of memory")
    ap.add_argument("--no-report", action="store_true", help="skip report.md / report.html")
    ap.add_argument("--report-only", action="store_true", help="only rebuild the report from existing results")
    args = ap.parse_args(argv)
    try:
        profile = load_profile(args.profile)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results = Path(args.results).resolve() if args.results else REPO_ROOT / "results" / profile.name
    lock = FolderLock(results / ".stamps" / "pipeline")   # one pipeline per results folder: summary, stamps, claims
    try:
        lock.acquire()
    except LockedError:
        print(f"error: another pipeline ({lock.holder()}) is writing {results}; wait for it to finish, or run into "
              "another folder with --results", file=sys.stderr)
        return 2
    try:
        return _main(args, profile, results)
    finally:
        lock.release()


def _main(args, profile: Profile, results: Path) -> int:
    if args.report_only:
        from .report import write_report

        print(f"report: {write_report(results, profile)[1]}")
        return 0
    sources = [Path(p).resolve() for p in args.only] if args.only else discover()
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    # auto: the machine's share for the whole notebook set, whatever subset runs now, so that a notebook gets the
    # same thread count (part of every cached training's key) in a full run, a partial one and `make notebook`
    jobs = auto_jobs(len(discover())) if args.jobs == "auto" else args.jobs
    rows, t0 = [], time.perf_counter()
    if not args.only:  # a full run: forget the rows of notebooks that no longer exist
        update_summary(results, [], profile, keep={notebook_name(p) for p in sources})
    if jobs == 1:
        saved = {v: os.environ.get(v) for v in THREAD_VARS}
        set_thread_vars(thread_share(1))   # (the kernels inherit it)
        try:
            for i, src in enumerate(sources, 1):
                print(f"[{i}/{len(sources)}] {notebook_name(src)} ... (log: {_log_path(results, notebook_name(src))})",
                      flush=True)
                r = run_notebook(src, profile, results, args.force,
                                 on_start=lambda row: update_summary(results, [row], profile))
                rows.append(r)
                update_summary(results, [r], profile)
                _print_row(i, len(sources), r)
        finally:
            for v, value in saved.items():
                if value is None:
                    os.environ.pop(v, None)
                else:
                    os.environ[v] = value
    else:
        rows = run_parallel(sources, profile, results, args.force, jobs)
    failed = [r["notebook"] for r in rows if r["status"] == "failed"]
    summary = update_summary(results, [], profile, seconds=round(time.perf_counter() - t0, 1))
    if not args.no_report:
        from .report import write_report

        paths = write_report(results, profile)
        print(f"report: {paths[1]}")
    ok = sum(r["status"] != "failed" for r in rows)
    print(f"\n{ok}/{len(rows)} notebooks ok ({sum(r['status'] == 'up to date' for r in rows)} up to date) "
          f"in {summary['seconds']}s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
