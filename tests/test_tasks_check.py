"""`python -m mtlcore tasks check`: counts per split and class, and the warnings of `mtlcore.tasks.check`."""
from __future__ import annotations

import numpy as np
import pytest

from mtlcore.tasks import TaskSpec
from mtlcore.tasks.check import MIN_CLASS_EXAMPLES, check_tasks, class_counts, expand_task_names, split_warnings

from test_user_tasks import _write


def _spec(kind: str, labels=("no", "yes")) -> TaskSpec:
    return TaskSpec(name="t/x", kind=kind, text_fields=("text",), metrics=("accuracy",),
                    label_names=None if kind == "regression" else tuple(labels), loader=lambda root: {})


def test_class_counts_of_each_kind():
    assert class_counts(_spec("classification", ("a", "b", "c")), np.array([0, 2, 2])) == {"a": 1, "b": 0, "c": 2}
    assert class_counts(_spec("multilabel", ("p", "q")), np.array([[1, 0], [1, 1], [0, 0]])) == {"p": 2, "q": 1}
    assert class_counts(_spec("regression"), np.array([0.5, 1.0])) is None


def test_split_warnings_name_each_problem_and_nothing_else():
    spec = _spec("classification", ("no", "yes", "maybe"))
    big = np.array([0] * 40 + [1] * 20 + [2] * 6)
    assert split_warnings(spec, {"train": big, "dev": big, "test": big}) == []
    small_test = np.array([0] * 20 + [1] * 3)          # 23 examples, 3 'yes', no 'maybe'
    lines = split_warnings(spec, {"train": big, "dev": big, "test": small_test})
    assert lines == ["t/x: test has 23 examples (one example moves the score by 4 points); scores on so few "
                     "examples say little",
                     "t/x: test has no example of class(es) ['maybe']; they are never scored",
                     f"t/x: test has fewer than {MIN_CLASS_EXAMPLES} examples of class(es) {{'yes': 3}}; their F1 "
                     "rests on a handful"]
    no_train = split_warnings(spec, {"train": np.array([0] * 50 + [1] * 50), "dev": big})
    assert no_train == ["t/x: train has no example of class(es) ['maybe']; the model cannot learn them"]
    assert split_warnings(_spec("regression"), {"train": np.ones(40), "dev": np.arange(40.0)}) == [
        "t/x: every train score is 1; nothing to learn or rank"]
    multi = split_warnings(_spec("multilabel", ("p", "q")), {"train": np.array([[1, 0]] * 40 + [[0, 1]] * 2)})
    assert multi == [f"t/x: train has fewer than {MIN_CLASS_EXAMPLES} examples of label(s) {{'q': 2}}; their F1 "
                     "rests on a handful"]


def test_check_of_a_task_file_counts_every_split(tmp_path, clean_registry):
    names = expand_task_names([str(_write(tmp_path))])
    assert names == ["t/effusion", "t/size", "t/findings"]
    table, warnings = check_tasks(names)
    assert set(table["task"]) == set(names) and set(table["split"]) == {"train", "dev", "test"}
    per_task = table.groupby("task")["examples"].sum()
    assert (per_task == 12).all()                                  # every row is in exactly one split
    effusion = table[table["task"] == "t/effusion"].set_index("split")["classes"]
    totals = [sum(int(part.split("=")[1]) for part in effusion[s].split(", ")) for s in ("train", "dev", "test")]
    assert totals == list(table[table["task"] == "t/effusion"].set_index("split").loc[["train", "dev", "test"],
                                                                                       "examples"])
    assert any(w.startswith("t/effusion: dev has") and "say little" in w for w in warnings)


def test_tasks_check_command(tmp_path, cli_main, clean_registry):
    spec = _write(tmp_path)
    done = cli_main("tasks", "check", str(spec))
    assert done.returncode == 0, done.stderr
    assert "t/effusion" in done.stdout and "3 task(s)" in done.stdout and "warning: t/effusion: dev has" in done.stderr
    assert cli_main("tasks", "check", str(spec), "--strict").returncode == 1
    assert cli_main("tasks", "check", "radiology/lumbar/disc_bulge").returncode == 0
    unknown = cli_main("tasks", "check", "radiology/lumbar/disc_bulg")
    assert unknown.returncode == 2 and "radiology/lumbar/disc_bulge" in unknown.stderr
    nothing = cli_main("tasks", "check", "nosuch/*")
    assert nothing.returncode == 2 and "no registered task matches 'nosuch/*'" in nothing.stderr


@pytest.mark.parametrize("entry", ["radiology/lumbar/*", "radiology/lumbar/herniation,radiology/lumbar/disc_bulge"])
def test_expand_task_names_takes_patterns_and_comma_lists(entry):
    names = expand_task_names([entry])
    assert "radiology/lumbar/herniation" in names and all(n.startswith("radiology/lumbar/") for n in names)
