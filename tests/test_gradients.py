from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mtlcore import train
from mtlcore.analysis.gradients import layer_group, task_gradient_cosines
from mtlcore.training.callbacks import GradientCosineCallback


class SharedLinear(nn.Module):
    """f_i(x) = x.w for every task (shared w, no heads): L_i = mean((X_i w - y_i)^2), g_i = 2/m X_i^T (X_i w - y_i)."""

    def __init__(self, w):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([nn.Linear(len(w), 1, bias=False)])
        self.encoder.layer[0].weight.data = torch.as_tensor(w, dtype=torch.float64)[None]

    def shared_parameters(self):
        return list(self.encoder.named_parameters())

    def forward(self, x, task):
        return SimpleNamespace(logits=self.encoder.layer[0](x).squeeze(-1))

    def loss(self, task, logits, labels):
        return ((logits - labels) ** 2).mean()


def test_two_task_linear_model_matches_hand_computation():
    r = np.random.default_rng(0)
    w = r.normal(size=4)
    X1, X2 = r.normal(size=(6, 4)), r.normal(size=(5, 4))
    y1, y2 = r.normal(size=6), r.normal(size=5)
    g1, g2 = 2 / 6 * X1.T @ (X1 @ w - y1), 2 / 5 * X2.T @ (X2 @ w - y2)
    expected = g1 @ g2 / np.linalg.norm(g1) / np.linalg.norm(g2)
    batches = {"a": {"x": torch.tensor(X1), "labels": torch.tensor(y1)},
               "b": {"x": torch.tensor(X2), "labels": torch.tensor(y2)}}
    res = task_gradient_cosines(SharedLinear(w), batches)
    assert res.overall[0, 1] == pytest.approx(expected)
    assert res.per_layer["layer_1"][0, 1] == pytest.approx(expected)
    assert res.norms["a"] == pytest.approx(np.linalg.norm(g1))
    np.testing.assert_allclose(np.diag(res.overall), 1.0)


def test_identical_tasks_give_one_and_opposed_targets_give_minus_one():
    r = np.random.default_rng(1)
    X, y = torch.tensor(r.normal(size=(8, 3))), torch.tensor(r.normal(size=8))
    model = SharedLinear(np.zeros(3))  # at w = 0, g = -2/m X^T y: flipping y flips g
    same = task_gradient_cosines(model, {"a": {"x": X, "labels": y}, "b": {"x": X, "labels": y}})
    opposed = task_gradient_cosines(model, {"a": {"x": X, "labels": y}, "b": {"x": X, "labels": -y}})
    assert same.overall[0, 1] == pytest.approx(1.0) and opposed.overall[0, 1] == pytest.approx(-1.0)
    table = opposed.tidy(step=7)
    assert list(table.columns) == ["step", "layer", "task_i", "task_j", "cosine"] and len(table) == 2


def test_layer_groups_of_bert_parameter_names():
    assert layer_group("embeddings.word_embeddings.weight") == "embeddings"
    assert layer_group("encoder.layer.3.attention.self.query.weight") == "layer_4"
    assert layer_group("encoder.layer.11.output.dense.bias") == "layer_12"
    assert layer_group("final_layer_norm.weight") == "other"


def test_callback_writes_the_table_and_leaves_training_unchanged(tiny_cfg, tmp_path):
    cfg = tiny_cfg.replace(epochs=1)
    plain = train(cfg)
    cb = GradientCosineCallback(every=2, verbose=False)
    run = train(cfg, out=tmp_path / "run", callbacks=[cb])
    assert run.metrics == plain.metrics  # recording draws its own batches and uses no training randomness
    table = pd.read_csv(tmp_path / "run/gradient_cosines.csv")
    assert sorted(table.step.unique()) == list(range(0, 13, 2))  # 12 steps: 96/16 per task x 2 tasks
    assert set(table.layer) == {"overall", "embeddings", "layer_1", "layer_2"}
    assert table.cosine.between(-1, 1).all() and 0 < cb.overhead < 1


def test_tasks_sharing_inputs_take_one_forward_pass_and_the_same_cosines():
    from mtlcore import TrainConfig
    from mtlcore.training import Trainer, build_model
    from mtlcore.training.batching import prepare_data

    shared_cfg = TrainConfig(tasks=["test/sentiment", "test/length"], encoder="tiny-bert", batch_size=16,
                             progress=False, seed=3)
    model, tok = build_model(shared_cfg, shared_cfg.tasks)
    tr, dev = prepare_data(shared_cfg, tok)
    trainer = Trainer(shared_cfg, model, tr, dev)
    model.eval()
    batches = {t: trainer.sample_batch(t, seed=5) for t in tr}
    calls = []
    hook = model.encoder.register_forward_hook(lambda *a: calls.append(1))
    one = task_gradient_cosines(model, batches)
    assert len(calls) == 1                                   # one encoder pass for the input group
    separate = task_gradient_cosines(model, batches, share_inputs=False)
    assert len(calls) == 1 + len(batches)
    hook.remove()
    np.testing.assert_allclose(one.overall, separate.overall, atol=1e-6)
    for key in separate.per_layer:
        np.testing.assert_allclose(one.per_layer[key], separate.per_layer[key], atol=1e-6)
    assert one.norms == pytest.approx(separate.norms, rel=1e-5)


def test_embedding_rows_no_task_touches_are_skipped_exactly():
    import torch

    from mtlcore.analysis.gradients import _stacked

    torch.manual_seed(0)
    table = torch.zeros(3, 5000, 4, dtype=torch.float32)            # an embedding table's gradient for 3 tasks
    table[:, [7, 4096, 4999]] = torch.randn(3, 3, 4)               # only the batch's tokens' rows are non-zero
    table[1, 10] = torch.randn(4)                                  # a row one task alone touches
    rows = _stacked(list(table))
    assert rows.shape == (3, 4 * 4) and rows.dtype == torch.float64
    dense = table.reshape(3, -1).double()
    torch.testing.assert_close(rows @ rows.T, dense @ dense.T, rtol=0, atol=1e-12)
    small = [torch.randn(6, 4) for _ in range(3)]                  # a small matrix is kept whole
    assert _stacked(small).shape == (3, 24)
