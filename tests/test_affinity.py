"""Task affinity (`mtlcore.analysis.affinity`): the look-ahead affinity by hand on a toy model, the grouping
search on hand-made matrices with a known best grouping, and the combination of signals."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from mtlcore.analysis.affinity import (EXHAUSTIVE_TASKS, _greedy, best_grouping, combine_signals, grouping_score,
                                       lookahead_affinity, set_partitions)


class Toy(nn.Module):
    """Shared weights w, no heads: task t predicts x @ w, loss 0.5 * mean((x @ w - y)^2)."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))

    def shared_parameters(self):
        return [("encoder.w", self.w)]

    def forward(self, task, x):
        return SimpleNamespace(logits=x @ self.w)

    def loss(self, task, logits, labels):
        return 0.5 * ((logits - labels) ** 2).mean()


def test_lookahead_affinity_is_the_relative_loss_change_after_one_step_by_hand():
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    data = {t: (rng.normal(size=(5, 3)), rng.normal(size=5)) for t in ("a", "b", "c")}
    model = Toy(w)
    batches = {t: {"x": torch.tensor(x), "labels": torch.tensor(y)} for t, (x, y) in data.items()}
    lr = 0.3
    z = lookahead_affinity(model, batches, lr)
    loss = lambda v, t: 0.5 * np.mean((data[t][0] @ v - data[t][1]) ** 2)   # noqa: E731
    grad = lambda v, t: data[t][0].T @ (data[t][0] @ v - data[t][1]) / 5    # noqa: E731
    for i, ti in enumerate(data):
        stepped = w - lr * grad(w, ti)
        for j, tj in enumerate(data):
            assert z[i, j] == pytest.approx(1 - loss(stepped, tj) / loss(w, tj), rel=1e-10)
        assert z[i, i] > 0   # a small step on a task lowers its own loss
    assert np.array_equal(model.w.detach().numpy(), w)   # the model is restored exactly
    with pytest.raises(ValueError, match="lr must be > 0"):
        lookahead_affinity(model, batches, 0.0)


@pytest.mark.parametrize("k, g, count", [(1, 1, 1), (3, 3, 5), (4, 4, 15), (5, 5, 52), (5, 2, 16), (6, 1, 1)])
def test_set_partitions_are_each_partition_once(k, g, count):
    parts = list(set_partitions(range(k), g))
    keys = {tuple(sorted(tuple(sorted(x)) for x in p)) for p in parts}
    assert len(parts) == len(keys) == count   # Bell numbers; S(5,1) + S(5,2) = 1 + 15
    assert all(sorted(i for x in p for i in x) == list(range(k)) and len(p) <= g for p in parts)


def _blocks(sizes, within=1.0, across=-0.5, noise=0.0, seed=0):
    k = sum(sizes)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    a = np.where(labels[:, None] == labels[None, :], within, across) + np.random.default_rng(seed).normal(0, noise, (k, k))
    np.fill_diagonal(a, 0)
    return a


def test_best_grouping_finds_the_known_best_grouping():
    a = _blocks([2, 3], noise=0.05)
    groups, score, method = best_grouping(a)
    assert groups == [[0, 1], [2, 3, 4]] and method == "exhaustive"
    assert score == pytest.approx(grouping_score(a, [[0, 1], [2, 3, 4]]))
    # one group forced: everything together; tasks that hurt each other everywhere stay alone
    assert best_grouping(a, max_groups=1)[0] == [[0, 1, 2, 3, 4]]
    assert best_grouping(-np.ones((3, 3)) + np.eye(3))[0] == [[0], [1], [2]]
    # a hand-made 4-task case: 0 helps 1 a lot but 1 hurts 0 a little (directed), 2 and 3 are neutral
    d = np.array([[0, 2.0, 0, 0], [-0.5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    # 0 and 1 together gain 2 - 0.5 > 0; 2 and 3 gain nothing either way, and a tie keeps them apart (no sharing
    # without a predicted gain)
    assert best_grouping(d)[0] == [[0, 1], [2], [3]]
    with pytest.raises(ValueError, match="max_groups"):
        best_grouping(a, max_groups=0)


def test_the_heuristic_beyond_the_exhaustive_size_recovers_clear_blocks():
    a = _blocks([4, 3, 5])
    assert a.shape[0] > EXHAUSTIVE_TASKS
    groups, score, method = best_grouping(a)
    assert method == "greedy merge + moves" and groups == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]
    assert score == pytest.approx(4 * 3 + 3 * 2 + 5 * 4)   # every ordered pair within a block adds 1
    assert len(best_grouping(a, max_groups=2)[0]) == 2
    for seed in range(5):   # where both run, the heuristic reaches at least 90% of the exhaustive optimum
        small = _blocks([3, 2, 3], noise=0.3, seed=seed)
        assert _greedy(small, 8)[1] >= 0.9 * best_grouping(small)[1] > 0


def test_combine_signals_standardises_each_signal_over_the_pairs():
    rng = np.random.default_rng(1)
    s1, s2 = (symmetric_random(rng, 4) for _ in range(2))
    c, used = combine_signals({"a": s1, "b": s2})
    assert used == ["a", "b"] and np.allclose(c, c.T) and np.allclose(np.diag(c), 0)
    # a positive rescaling or shift of a signal changes nothing; a constant signal, or one flatter than its floor,
    # is left out (and not named as used)
    assert np.allclose(combine_signals({"a": 10 * s1 + 3, "b": s2})[0], c)
    flat, used = combine_signals({"a": s1, "b": s2, "const": np.ones((4, 4)), "cka": 0.99 + 1e-4 * s1})
    assert np.allclose(flat, c) and used == ["a", "b"]
    iu = np.triu_indices(4, 1)
    z = (s1[iu] - s1[iu].mean()) / s1[iu].std()
    assert np.allclose(combine_signals({"a": s1})[0][iu], z)
    two, used = combine_signals({"a": np.array([[0, 1.0], [1.0, 0]])})   # one pair: nothing to rank
    assert used == [] and not two.any()


def test_grouping_of_two_tasks_follows_the_sign_of_their_affinity():
    """With a signal whose 0 means no transfer, two tasks share a model exactly when they help each other."""
    assert best_grouping(np.array([[0, 0.3], [0.1, 0]]))[0] == [[0, 1]]
    assert best_grouping(np.array([[0, 0.3], [-0.5, 0]]))[0] == [[0], [1]]
    assert best_grouping(np.array([[0, -0.1], [-0.2, 0]]), max_groups=1)[0] == [[0, 1]]   # forced into one model


def symmetric_random(rng, k):
    m = rng.normal(size=(k, k))
    m = (m + m.T) / 2
    np.fill_diagonal(m, 0)
    return m


def test_affinity_command_recommends_a_grouping_with_its_evidence(tmp_path, cli_main, monkeypatch, clean_registry):
    """End to end on the example task file with the tiny encoder: every task in exactly one group, each signal a
    k x k matrix, the files written; bad task names stop before any probe trains."""
    import json
    import shutil
    from pathlib import Path

    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path / "cache"))
    examples = Path(__file__).resolve().parents[1] / "examples"
    for name in ("radiology_tasks.yaml", "radiology_reports.csv"):
        shutil.copy(examples / name, tmp_path)
    out = tmp_path / "aff"
    r = cli_main("affinity", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--encoder", "tiny-bert",
                 "--probe-examples", "16", "--records", "1", "--max-groups", "2", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "recommended grouping" in r.stdout and "evidence per pair" in r.stdout
    advice = json.loads((out / "affinity.json").read_text())
    tasks = advice["tasks"]
    assert sorted(t for g in advice["groups"] for t in g) == sorted(tasks) and len(advice["groups"]) <= 2
    for name, m in advice["signals"].items():
        assert np.asarray(m).shape == (3, 3), name
    assert np.allclose(np.diag(advice["signals"]["gradient_cosine"]), 1) and np.allclose(advice["combined"],
                                                                                      np.asarray(advice["combined"]).T)
    assert {p.name for p in out.iterdir()} == {"affinity.json", "affinity_pairs.csv", "affinity.png", "affinity.pdf"}
    bad = cli_main("affinity", "--tasks", "radiology/lumbar/disc_bulg,glue/cola", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "radiology/lumbar/disc_bulge" in bad.stderr and not (tmp_path / "b").exists()
    one = cli_main("affinity", "--tasks", "glue/cola", "--out", str(tmp_path / "c"))
    assert one.returncode == 2 and "at least 2 tasks" in one.stderr
    again = cli_main("affinity", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--out", str(out))
    assert again.returncode == 2 and "exists; pass --overwrite" in again.stderr
