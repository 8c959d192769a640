"""The machine's cores and memory, and each worker's share of the threads.

Standard library only, so it can run before numpy or torch is imported: the thread variables take effect
only when set before those libraries load (tests/conftest.py depends on that).
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping

# the variables OpenMP, MKL and OpenBLAS read (once, when they load) for their thread counts
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def machine_cores() -> int:
    """Cores this process may use (its CPU affinity, as in a container), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_memory_gb() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("inf")


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; else what `platform` knows; '' when neither says)."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def thread_share(jobs: int, cores: int | None = None) -> int:
    """Threads per worker when `jobs` run at once on `cores` cores (at least 1)."""
    return max(1, (cores or machine_cores()) // jobs)


def set_thread_vars(threads: int, env: MutableMapping[str, str] | None = None, keep: bool = False) -> None:
    """Set every thread variable of `env` (default: this process's environment) to `threads`; with `keep`, a
    value already set (by the user) stays."""
    env = os.environ if env is None else env
    for var in THREAD_VARS:
        if not (keep and var in env):
            env[var] = str(threads)
