"""The task registry: what a task is (`TaskSpec`), its data (`Examples` per split) and how both are found.

Each task has one name (`glue/rte`, `senteval/mr`, `radiology/lumbar/herniation`, ...), a label kind,
its text fields, its metrics and a loader that returns `{"train", "dev"[, "test"]: Examples}` read
from the data root (`data/` of the repository, or `$MTLCORE_DATA`). Task families register
themselves with `register_task` (`mtlcore.tasks.benchmarks`, `mtlcore.tasks.radiology`, users'
task files in `mtlcore.tasks.user`) and are used unchanged by the trainer and the notebooks.

Tasks whose splits hold the same texts in the same order (the pathologies of one lumbar level, the
findings of one Open-i report) share an `input_group`: the trainer then encodes each text once and
feeds every head of the group from that one pass.

`load_task` checks what a loader returns (`check_splits`): a missing or empty split, class ids out
of range, a class task whose training labels hold one class and multi-label targets other than
0/1 are refused naming the task. Where a task has a single labelled file, its held-out splits
are drawn with the fixed seed `SPLIT_SEED`, independent of the run seed, so every run and every
notebook sees the same splits. Every data file read is noted in the file named by
`$MTLCORE_READ_LOG` (if set), which is how the pipeline knows which data each notebook read.
"""
from __future__ import annotations

import difflib
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

SPLIT_SEED = 13
DEV_FRACTION = 0.1
KINDS = ("classification", "regression", "multilabel")


class DataError(ValueError):
    """Malformed input data; the message names the file and line."""


class UnknownTaskError(KeyError):
    """A task name that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return self.args[0]



def task_key(task: str) -> str:
    """A task name as an identifier without '/' or '.' (torch ModuleDict keys, run sub-folders)."""
    return task.replace("/", "__").replace(".", "_")


@dataclass
class Examples:
    """One split of one task.

    texts:  n tuples of 1 (single sentence) or 2 (sentence pair) strings.
    labels: int64 (n,) class ids, float32 (n,) scores, or float32 (n, L) multi-label targets.
    """

    texts: list[tuple[str, ...]]
    labels: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise DataError(f"{self.source}: {len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Sequence[int]) -> "Examples":
        index = np.asarray(index, dtype=np.int64)
        return Examples([self.texts[i] for i in index], self.labels[index], self.source)


@dataclass(frozen=True)
class TaskSpec:
    """What the trainer needs to know about a task.

    metrics: metric names (see `mtlcore.analysis.metrics`); the task score is their mean (GLUE style) and
    the first one is the primary metric.
    label_names: class names for classification / multi-label tasks, None for regression.
    """

    name: str
    kind: str
    text_fields: tuple[str, ...]
    metrics: tuple[str, ...]
    label_names: tuple[str, ...] | None
    loader: Callable[[Path], dict[str, Examples]] = field(repr=False, compare=False)
    description: str = ""
    split_note: str = "official train/dev"
    input_group: str | None = None  # tasks with the same group have the same texts in every split

    @property
    def num_outputs(self) -> int:
        return 1 if self.kind == "regression" else len(self.label_names or ())


TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add a task to the registry (a later registration of the same name replaces it)."""
    if spec.kind not in KINDS:
        raise ValueError(f"task {spec.name}: kind must be one of {KINDS}, got {spec.kind!r}")
    TASKS[spec.name] = spec
    load_task.cache_clear()
    return spec


def get_task(name: str) -> TaskSpec:
    """The registered task called `name`; unknown names raise with the closest matches."""
    try:
        return TASKS[name]
    except KeyError:
        close = difflib.get_close_matches(name, TASKS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownTaskError(f"unknown task {name!r}.{hint} Known tasks: {', '.join(sorted(TASKS))}") from None


def data_root() -> Path:
    """`$MTLCORE_DATA` if set, else the repository's `data/` folder."""
    root = Path(os.environ.get("MTLCORE_DATA") or Path(__file__).resolve().parents[2] / "data")
    if not root.is_dir():
        raise DataError(f"data root {root} does not exist; set MTLCORE_DATA or run from a clone with data/")
    return root


@functools.lru_cache(maxsize=64)
def _load_cached(name: str, root: str) -> dict[str, Examples]:
    spec = get_task(name)
    return check_splits(spec, spec.loader(Path(root)))


def check_splits(spec: TaskSpec, splits: dict[str, Examples]) -> dict[str, Examples]:
    """Refuse splits a model cannot learn from or be scored on: a missing or empty split, class ids out
    of range, a class task whose training labels hold one class, multi-label targets other than 0/1."""
    for split in ("train", "dev"):
        if split not in splits:
            raise DataError(f"task {spec.name}: its loader returned no {split!r} split")
    unknown = sorted(set(splits) - {"train", "dev", "test"})
    if unknown:
        raise DataError(f"task {spec.name}: unknown split(s) {unknown}; splits are train, dev and test")
    for split, ex in splits.items():
        where = f"task {spec.name}, {split} split ({ex.source})"
        if len(ex) == 0:
            raise DataError(f"{where}: no examples")
        labels = ex.labels
        if spec.kind == "classification":
            n = len(spec.label_names or ())
            if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n:
                raise DataError(f"{where}: class ids must be integers in [0, {n}), got {np.unique(labels)[:10]}")
            if split == "train" and len(np.unique(labels)) < 2:
                only = spec.label_names[int(labels[0])]
                raise DataError(f"{where}: every training label is {only!r}; a class task needs at least two classes "
                                "(is a class file empty?)")
        elif spec.kind == "multilabel":
            if labels.ndim != 2 or labels.shape[1] != spec.num_outputs or not np.isin(labels, (0, 1)).all():
                raise DataError(f"{where}: multi-label targets must be an (n, {spec.num_outputs}) array of 0/1")
        elif not np.isfinite(labels).all():
            raise DataError(f"{where}: non-finite regression targets")
    return splits


def load_task(name: str, root: str | Path | None = None) -> dict[str, Examples]:
    """Read (and cache) the splits of task `name` from `root` (default `data_root()`)."""
    return _load_cached(name, str(root or data_root()))


load_task.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]



def note_read(path: str | Path) -> None:
    """Append `path` to the read log `$MTLCORE_READ_LOG` (set by the pipeline while a notebook runs)."""
    log = os.environ.get("MTLCORE_READ_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{Path(path).resolve()}\n")


def stratified_split(examples: Examples, dev_fraction: float = DEV_FRACTION,
                     seed: int = SPLIT_SEED) -> dict[str, Examples]:
    """Seeded stratified train/dev split of a single labelled file."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(examples))
    strat = examples.labels if examples.labels.ndim == 1 and examples.labels.dtype.kind == "i" else None
    train, dev = train_test_split(index, test_size=dev_fraction, random_state=seed, stratify=strat)
    return {"train": examples.subset(np.sort(train)), "dev": examples.subset(np.sort(dev))}




def dev_as_test(splits: dict[str, Examples], seed: int = SPLIT_SEED) -> dict[str, Examples]:
    """train / dev / test from a task with train and dev only: its dev split becomes the test set and a
    stratified `DEV_FRACTION` of its train split the dev set (for selecting models without touching test)."""
    inner = stratified_split(splits["train"], seed=seed)
    return {"train": inner["train"], "dev": inner["dev"], "test": splits["dev"]}


def group_split(groups: Sequence, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Train/dev/test row indices such that all rows of one group (a report) fall in one split.

    The distinct groups are sorted, permuted with `seed` and cut by `fractions`; so the split depends
    only on the set of groups, not on the row order or the run seed."""
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    keys = np.asarray([str(g) for g in groups])
    unique = np.array(sorted(set(keys.tolist())))
    order = unique[np.random.default_rng(seed).permutation(len(unique))]
    n_train = int(round(fractions[0] * len(unique)))
    n_dev = int(round(fractions[1] * len(unique)))
    member = {"train": set(order[:n_train]), "dev": set(order[n_train:n_train + n_dev]),
              "test": set(order[n_train + n_dev:])}
    return {split: np.flatnonzero([k in ids for k in keys]) for split, ids in member.items()}


def task_table(names: Sequence[str] | None = None, root: Path | None = None):
    """A pandas table of tasks with their kind, metrics and split sizes."""
    import pandas as pd

    rows = []
    for name in names or sorted(TASKS):
        spec = get_task(name)
        splits = load_task(name, root)
        rows.append({"task": name, "kind": spec.kind, "outputs": spec.num_outputs, "metrics": ",".join(spec.metrics),
                     "train": len(splits["train"]), "dev": len(splits["dev"]),
                     "test": len(splits["test"]) if "test" in splits else 0, "split": spec.split_note})
    return pd.DataFrame(rows)


