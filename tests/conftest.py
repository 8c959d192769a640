"""Shared fixtures: a tiny synthetic task family that the tiny random BERT learns in seconds."""
from __future__ import annotations

import os
import subprocess

# Under pytest-xdist every worker, and every notebook kernel or subprocess it starts, gets its share of the cores
# (set before torch is imported): two workers each running two OpenMP threads on two cores spin against each other
# and made `make test` slower on two workers than on one (CI 1681 s vs 1262 s). A value the user set is kept.
if os.environ.get("PYTEST_XDIST_WORKER"):
    from mtlcore.machine import set_thread_vars, thread_share   # (standard library only: numpy is not loaded yet)

    set_thread_vars(thread_share(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))), keep=True)

import numpy as np
import pytest

from mtlcore.tasks import Examples, TaskSpec, register_task

WORDS = {0: ["awful", "bad", "boring", "poor"], 1: ["great", "good", "superb", "fine"]}


def _synthetic(n: int, seed: int, flip: bool = False) -> Examples:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    texts = [(f"the film was {rng.choice(WORDS[int(y)])} and {rng.choice(['long', 'short', 'new'])}",) for y in labels]
    return Examples(texts, (1 - labels if flip else labels).astype(np.int64), f"synthetic-{seed}")


def _register(name: str, flip: bool) -> None:
    register_task(TaskSpec(name, "classification", ("sentence",), ("accuracy",), ("0", "1"),
                           lambda root, flip=flip: {"train": _synthetic(96, 1, flip), "dev": _synthetic(48, 2, flip)},
                           "synthetic sentiment for tests"))


_register("test/words", False)
_register("test/flipped", True)


def _forget_new_tasks(before: set) -> None:
    from mtlcore.tasks import TASKS, load_task, user

    for name in set(TASKS) - before:
        TASKS.pop(name)
        user._ORIGIN.pop(name, None)
    load_task.cache_clear()


@pytest.fixture
def clean_registry():
    """Tasks registered during the test (e.g. from a users' task file) are forgotten after it."""
    from mtlcore.tasks import TASKS

    before = set(TASKS)
    yield
    _forget_new_tasks(before)


@pytest.fixture(scope="module")
def clean_registry_module():
    """`clean_registry` for a module's fixtures."""
    from mtlcore.tasks import TASKS

    before = set(TASKS)
    yield
    _forget_new_tasks(before)


@pytest.fixture
def cli_main(capsys):
    """`python -m mtlcore ARGS` run in this process: a CompletedProcess with the exit code, stdout and stderr. For
    checks of what the command says and leaves behind (a new interpreter costs ~5 s of imports a call); the tests
    where the process itself is the point (kills, resource limits, torchrun, a fresh interpreter) keep subprocesses."""
    from mtlcore.__main__ import main

    def run(*args: str) -> subprocess.CompletedProcess:
        try:
            rc = main(list(args))
        except SystemExit as e:   # argparse's usage errors
            rc = e.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, rc, captured.out, captured.err)

    return run


@pytest.fixture
def tiny_cfg():
    from mtlcore import TrainConfig

    return TrainConfig(tasks=["test/words", "test/flipped"], encoder="tiny-bert", epochs=2, batch_size=16, lr=1e-3,
                       warmup_ratio=0.0, progress=False, seed=3)


def _shared(n: int, seed: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Texts with two labels each: sentiment (word) and length word ('long' vs other)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    size = rng.choice(["long", "short", "new"], size=n)
    texts = [(f"the film was {rng.choice(WORDS[int(a)])} and {b}",) for a, b in zip(y, size)]
    return texts, y.astype(np.int64), (size == "long").astype(np.int64)


def _register_shared(name: str, which: int, group: str | None = "test/report") -> None:
    def load(root, which=which):
        out = {}
        for split, (n, seed) in {"train": (96, 5), "dev": (48, 6), "test": (40, 7)}.items():
            texts, a, b = _shared(n, seed)
            out[split] = Examples(texts, (a, b)[which], f"shared-{seed}")
        return out

    register_task(TaskSpec(name, "classification", ("sentence",), ("accuracy",), ("0", "1"), load,
                           "synthetic shared-input task for tests", input_group=group))


_register_shared("test/sentiment", 0)
_register_shared("test/length", 1)


# make test runs two xdist workers with --dist loadscope --no-loadscope-reorder: a module's tests and a notebook's
# cells stay on one worker, in order, and scopes are handed out in collection order. The longest modules go first
# (the longest-processing-time rule; measured with --durations), so that neither worker is left alone with a long
# one at the end.
LONGEST_FIRST = ("tests/test_gpu_profile.py", "tests/test_pipeline.py", "tests/test_distributed.py",
                 "tests/test_failure_modes.py", "tests/test_user_tasks.py")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)   # stable: within a module and among the rest, collection order
