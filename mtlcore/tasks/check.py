"""What a task's splits hold, before a model is trained on them: `python -m mtlcore tasks check SPEC`.

    python -m mtlcore tasks check my_tasks.yaml            # a users' task file (registered first)
    python -m mtlcore tasks check 'radiology/lumbar/*'     # registered names, comma lists or * patterns

`check_tasks` gives a table of examples per split and class (or per label, multi-label) and one warning per
problem that would make a score mean little: a dev or test split of fewer than `MIN_EVAL_EXAMPLES` examples, a
class with fewer than `MIN_CLASS_EXAMPLES` examples in a split (its F1 rests on a handful), a class the training
split lacks (the model cannot learn it) or an evaluation split lacks (it is never scored), a constant target.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

import numpy as np

from .registry import TASKS, TaskSpec, UnknownTaskError, get_task, load_task

MIN_EVAL_EXAMPLES = 30    # below this one example moves a dev or test score by more than 3 points
MIN_CLASS_EXAMPLES = 5    # a class (a label's positives) with fewer examples in a split gets a warning
SPLITS = ("train", "dev", "test")


def class_counts(spec: TaskSpec, labels: np.ndarray) -> dict[str, int] | None:
    """{class name: examples} (classification), {label: positives} (multi-label), None (regression)."""
    if spec.kind == "classification":
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(spec.label_names or ()))
        return dict(zip(spec.label_names or (), (int(c) for c in counts)))
    if spec.kind == "multilabel":
        return dict(zip(spec.label_names or (), (int(c) for c in np.asarray(labels).sum(axis=0))))
    return None


def split_warnings(spec: TaskSpec, labels: Mapping[str, np.ndarray], rare: bool = True) -> list[str]:
    """The problems of one task's splits (`labels`: split -> its label array), one line each, naming the task;
    `rare=False` leaves out the rare-class lines (training warns about the rest)."""
    out = []
    for split, y in labels.items():
        n = len(y)
        if split != "train" and n < MIN_EVAL_EXAMPLES:
            out.append(f"{spec.name}: {split} has {n} examples (one example moves the score by "
                       f"{100 / max(n, 1):.0f} points); scores on so few examples say little")
        counts = class_counts(spec, y)
        if counts is None:
            if n > 1 and np.ptp(np.asarray(y, dtype=float)) == 0:
                out.append(f"{spec.name}: every {split} score is {float(y[0]):g}; nothing to learn or rank")
            continue
        word = "class(es)" if spec.kind == "classification" else "label(s)"
        absent = [c for c, k in counts.items() if k == 0]
        if absent and split == "train":
            out.append(f"{spec.name}: train has no example of {word} {absent}; the model cannot learn them")
        elif absent and "train" in labels and any(class_counts(spec, labels["train"])[c] for c in absent):
            out.append(f"{spec.name}: {split} has no example of {word} {absent}; they are never scored")
        few = {c: k for c, k in counts.items() if 0 < k < MIN_CLASS_EXAMPLES}
        if few and rare:
            out.append(f"{spec.name}: {split} has fewer than {MIN_CLASS_EXAMPLES} examples of {word} {few}; "
                       "their F1 rests on a handful")
    return out


def expand_task_names(entries: Sequence[str]) -> list[str]:
    """Task names from `entries`: names, comma lists, `*` patterns over the registered tasks, or users' task
    files (`.yaml`/`.yml`, registered here). Unknown names raise `UnknownTaskError` with the closest matches."""
    from .user import register_task_file

    names: list[str] = []
    for entry in (e.strip() for item in entries for e in item.split(",")):
        if not entry:
            continue
        if entry.lower().endswith((".yaml", ".yml")):
            names += register_task_file(entry)
        elif any(ch in entry for ch in "*?["):
            matched = sorted(fnmatch.filter(TASKS, entry))
            if not matched:
                raise UnknownTaskError(f"no registered task matches {entry!r} (`python -m mtlcore tasks` lists them)")
            names += matched
        else:
            names.append(get_task(entry).name)
    return list(dict.fromkeys(names))


def check_tasks(names: Sequence[str], root=None):
    """(table, warnings): a pandas row per task and split with its examples and class counts, and the
    `split_warnings` of every task."""
    import pandas as pd

    rows, warnings = [], []
    for name in names:
        spec = get_task(name)
        splits = load_task(name, root)
        labels = {s: splits[s].labels for s in SPLITS if s in splits}
        for split, y in labels.items():
            counts = class_counts(spec, y)
            if counts is None:
                shown = f"scores {float(np.min(y)):g} .. {float(np.max(y)):g}" if len(y) else ""
            else:
                shown = ("positives: " if spec.kind == "multilabel" else "") + ", ".join(f"{c}={k}" for c, k in
                                                                                     counts.items())
            rows.append({"task": name, "split": split, "examples": len(y), "classes": shown})
        warnings += split_warnings(spec, labels)
    return pd.DataFrame(rows, columns=["task", "split", "examples", "classes"]), warnings
