"""Alg. 2 on tasks sharing inputs (`mtlcore.papers.wu2020.reweighting`, B-T1): label corruption, weights, the weighted model,
the frozen features and the noisy-pair ablation."""
from __future__ import annotations

import numpy as np
import pytest

from mtlcore.papers.wu2020 import reweighting as R
from mtlcore.tasks import Examples, TaskSpec, register_task
from mtlcore.analysis.covariance import svd_task_weights


def _data(n=(300, 100, 100), d=12, seed=0):
    """Two tasks on shared Gaussian features: task 0 = sign(x_0), task 1 = sign(x_1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, m in zip(("train", "dev", "test"), n):
        x = rng.normal(size=(m, d)).astype(np.float32)
        out[split] = (x, np.stack([x[:, 0] > 0, x[:, 1] > 0], 1).astype(np.float32))
    return out


def test_corrupt_touches_only_the_chosen_rows_of_one_column():
    y = np.zeros((200, 3), dtype=np.float32)
    z = R.corrupt(y, column=1, fraction=0.2, seed=4)
    assert np.array_equal(z[:, [0, 2]], y[:, [0, 2]]) and y.sum() == 0          # a copy, other columns untouched
    assert 0 < z[:, 1].sum() <= 40                                                  # random 0/1 on 40 rows
    assert np.array_equal(z, R.corrupt(y, 1, 0.2, seed=4))                          # same seed, same labels
    with pytest.raises(ValueError, match="fraction"):
        R.corrupt(y, 1, 1.5, seed=0)


def test_alg2_weights_centre_the_features():
    x, y = _data()["train"]
    shifted = R.alg2_weights(x + 5.0, y, rank=1)
    assert np.allclose(shifted, R.alg2_weights(x, y, rank=1), rtol=1e-5)
    assert np.allclose(R.alg2_weights(x, y, 1), svd_task_weights(x - x.mean(0), y, 1))
    # identical label columns get identical weights
    same = R.alg2_weights(x, np.stack([y[:, 0], y[:, 0]], 1), rank=1)
    assert same[0] == pytest.approx(same[1])


def test_weighted_model_learns_and_weights_change_it():
    data = _data()
    uni = R.train_weighted(data, None, hidden=8, epochs=15, lr=1e-2, batch_size=32, seed=0)
    assert min(uni["test"]) > 0.9 and uni["alpha"] == [1.0, 1.0]
    again = R.train_weighted(data, [3.0, 3.0], hidden=8, epochs=15, lr=1e-2, batch_size=32, seed=0)
    assert again["test"] == uni["test"]                          # alphas are rescaled to mean 1
    tilted = R.train_weighted(data, [1.9, 0.1], hidden=8, epochs=15, lr=1e-2, batch_size=32, seed=0)
    assert tilted["alpha"] == pytest.approx([1.9, 0.1]) and tilted["test"] != uni["test"]
    for bad in ([1.0], [-1.0, 1.0], [0.0, 0.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="weights"):
            R.train_weighted(data, bad, epochs=1)
    with pytest.raises(ValueError, match="train_labels"):
        R.train_weighted(data, None, epochs=1, train_labels=np.zeros((3, 2), np.float32))


def test_noisy_pair_downweights_a_task_whose_labels_are_noise():
    """Balanced labels, half of task 1's training labels random: its theta shrinks, so rank-1 Alg. 2 weighs it
    below the clean task; pairs draw their own noise."""
    r = R.noisy_pair(_data(), (0, 1), noisy=1, fraction=0.5, seed=0, hidden=8, epochs=5, lr=1e-2, batch_size=32)
    assert r["alpha_noisy"] < 0.5 < 1.5 < r["alpha_clean"]
    swapped = R.noisy_pair(_data(), (1, 0), noisy=0, fraction=0.5, seed=0, hidden=8, epochs=5, lr=1e-2, batch_size=32)
    assert swapped["alpha_noisy"] != r["alpha_noisy"]       # another pair, other corrupted rows
    with pytest.raises(ValueError, match="position"):
        R.noisy_pair(_data(), (0, 1), noisy=2)


def _register_multilabel():
    rng = np.random.default_rng(1)

    def load(root):
        out = {}
        for split, n in (("train", 40), ("dev", 12), ("test", 12)):
            a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
            texts = [(f"lungs {'opaque' if i else 'clear'}, heart {'large' if j else 'normal'}",) for i, j in zip(a, b)]
            out[split] = Examples(texts, np.stack([a, b], 1).astype(np.float32), f"multi-{split}")
        return out

    register_task(TaskSpec("test/multi", "multilabel", ("report",), ("roc_auc",), ("opacity", "cardiomegaly"), load,
                           "synthetic multi-label task for tests"))


def test_frozen_features_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path))
    _register_multilabel()
    f = R.frozen_features("test/multi", encoder="tiny-bert", max_length=16)
    assert f["train"][0].shape == (40, 32) and f["train"][1].shape == (40, 2) and set(f) == {"train", "dev", "test"}
    monkeypatch.setattr(R, "_pooled", lambda *a, **k: pytest.fail("features computed again"))
    g = R.frozen_features("test/multi", encoder="tiny-bert", max_length=16)
    assert np.array_equal(f["dev"][0], g["dev"][0])
    with pytest.raises(ValueError, match="multi-label"):
        R.frozen_features("test/words", encoder="tiny-bert")


def test_best_on_dev_prefers_the_smaller_of_ties_and_ignores_nan():
    from mtlcore import best_on_dev

    assert best_on_dev({200: 0.8, 5: 0.8, 100: 0.7}) == 5
    assert best_on_dev({1: float("nan"), 3: 0.1}) == 3
    with pytest.raises(ValueError, match="no finite"):
        best_on_dev({1: float("nan")})


def test_training_subset_is_seeded_nested_and_leaves_eval_whole():
    data = _data()
    small, large = R.training_subset(data, 50), R.training_subset(data, 120)
    assert small["train"][0].shape == (50, 12) and small["dev"][0] is data["dev"][0]
    rows = {tuple(r) for r in large["train"][0]}
    assert all(tuple(r) in rows for r in small["train"][0])                   # nested
    assert np.array_equal(R.training_subset(data, 50)["train"][1], small["train"][1])
    assert R.training_subset(data, None)["train"][0] is data["train"][0]
    with pytest.raises(ValueError, match="n must be"):
        R.training_subset(data, 1)


def test_choose_training_size_from_the_uniform_baseline():
    assert R.choose_training_size({100: 0.70, 300: 0.80, 1000: 0.88, 3000: 0.95}) == 1000   # largest inside
    assert R.choose_training_size({100: 0.93, 300: 0.96}) == 100                             # nearest to the range
    assert R.choose_training_size({100: 0.60, 300: 0.70}) == 300
    with pytest.raises(ValueError, match="no sizes"):
        R.choose_training_size({})
    with pytest.raises(ValueError, match="device"):
        R.train_weighted(_data(), None, epochs=1, device="nonsense")
