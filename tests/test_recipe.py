"""The fine-tuning recipe's parts: learning rates per parameter group, class-weighted losses, per-epoch dev lines."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mtlcore import TrainConfig
from mtlcore.training import Trainer, build_model
from mtlcore.training.batching import prepare_data
from mtlcore.training.config import ConfigError
from mtlcore.training.weighting import class_weights


def _trainer(cfg: TrainConfig) -> Trainer:
    model, tok = build_model(cfg, cfg.tasks)
    tr, dev = prepare_data(cfg, tok)
    return Trainer(cfg, model, tr, dev)


def _lr_of(trainer: Trainer, param: torch.nn.Parameter) -> float:
    (group,) = [g for g in trainer.optimizer.param_groups if any(p is param for p in g["params"])]
    return group["initial_lr"]


def test_heads_train_at_head_lr_and_the_encoder_at_lr(tiny_cfg):
    t = _trainer(tiny_cfg.replace(lr=2e-5, head_lr=3e-3))
    head = t.model.heads["test__words"].weight
    assert _lr_of(t, head) == 3e-3 and _lr_of(t, t.model.heads["test__flipped"].bias) == 3e-3
    assert all(_lr_of(t, p) == 2e-5 for p in t.model.encoder.parameters())
    # one optimiser step moves a head weight by about head_lr (Adam's first step is lr * sign(g))
    batch = t.sample_batch("test/words")
    before = head.detach().clone()
    t.batch_loss("test/words", batch).backward()
    t.optimizer.step()
    moved = (head.detach() - before).abs()
    assert moved.max().item() == pytest.approx(3e-3, rel=0.05)


def test_adapters_get_adapter_lr_and_alignment_falls_back_to_head_lr(tiny_cfg):
    t = _trainer(tiny_cfg.replace(mode="mtl", adapter="bottleneck", adapter_size=4, lr=1e-5, head_lr=1e-3,
                                  adapter_lr=4e-4))
    trainable = [(n, p) for n, p in t.model.encoder.named_parameters() if p.requires_grad]
    assert trainable and all(_lr_of(t, p) == 4e-4 for _, p in trainable)
    assert any(".adapter." in n for n, _ in trainable)
    assert _lr_of(t, t.model.heads["test__words"].weight) == 1e-3
    a = _trainer(tiny_cfg.replace(alignment=True, head_lr=7e-3))
    assert _lr_of(a, a.model.alignment.R["test__words"]) == 7e-3
    b = _trainer(tiny_cfg.replace(alignment=True, head_lr=7e-3, alignment_lr=0.5))
    assert _lr_of(b, b.model.alignment.R["test__words"]) == 0.5


def test_without_the_new_fields_every_parameter_trains_at_lr(tiny_cfg):
    t = _trainer(tiny_cfg)
    assert {g["initial_lr"] for g in t.optimizer.param_groups} == {tiny_cfg.lr}
    assert t.model.class_weights == {}


def test_class_weights_known_values():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)
    bal = class_weights(labels, 3, "balanced")
    torch.testing.assert_close(bal, torch.tensor([10 / 18, 10 / 9, 10 / 3]))      # n / (C n_c)
    sq = class_weights(labels, 3, "inv_sqrt").numpy()
    assert sq[1] / sq[0] == pytest.approx(np.sqrt(2)) and sq[2] / sq[0] == pytest.approx(np.sqrt(6))
    for w in (bal.numpy(), sq):  # the mean example weight is 1
        assert np.bincount(labels) @ w == pytest.approx(len(labels))
    absent = class_weights(np.array([0, 0, 1]), 3, "balanced")   # class 2 never seen: weight 0, still normalised
    assert absent[2] == 0 and float(absent[0] * 2 + absent[1]) == pytest.approx(3)
    assert class_weights(labels, 3, "none") is None
    with pytest.raises(ValueError, match="out of range"):
        class_weights(np.array([0, 3]), 2, "balanced")
    with pytest.raises(ValueError, match="bogus"):
        class_weights(labels, 3, "bogus")


def test_weighted_loss_on_a_hand_made_batch(tiny_cfg):
    t = _trainer(tiny_cfg.replace(class_weights="balanced"))
    w = t.model.class_weights["test/words"]
    y = t.train_data["test/words"].labels
    assert np.bincount(y) @ w.numpy() == pytest.approx(len(y), rel=1e-6)
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-1.0, 3.0]])
    labels = torch.tensor([0, 1, 1])
    per = F.cross_entropy(logits, labels, reduction="none")
    expected = (per * w[labels]).sum() / 3               # divided by the batch size, not by the weights' sum
    torch.testing.assert_close(t.model.loss("test/words", logits, labels), expected)
    # a batch of one class keeps its weight (torch's weighted mean would cancel it)
    one = torch.tensor([1, 1, 1])
    torch.testing.assert_close(t.model.loss("test/words", logits, one),
                               F.cross_entropy(logits, one) * w[1])
    # the training step and the gradient diagnostics use the same weighted loss
    t.model.eval()  # no dropout: both passes see the same logits
    t.model.class_weights["test/words"] = torch.tensor([0.2, 1.8])   # far from test/words' near-1 weights
    batch = t.sample_batch("test/words")
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = t.model(task="test/words", **inputs).logits
    unweighted = F.cross_entropy(logits, batch["labels"])
    weighted = t.batch_loss("test/words", batch)
    per = F.cross_entropy(logits, batch["labels"], reduction="none")
    torch.testing.assert_close(weighted, (per * torch.tensor([0.2, 1.8])[batch["labels"]]).mean())
    assert not torch.isclose(weighted, unweighted)


def test_recipe_fields_are_validated():
    for field, value, text in (("head_lr", 0.0, "head_lr"), ("adapter_lr", -1.0, "adapter_lr"),
                               ("class_weights", "sqrt", "class_weights must be one of none, balanced, inv_sqrt")):
        with pytest.raises(ConfigError, match=text):
            TrainConfig(tasks=["test/words"], encoder="tiny-bert", **{field: value})


def test_fit_prints_the_dev_score_of_every_epoch(tiny_cfg, capsys):
    cfg = tiny_cfg.replace(tasks=["test/words"], mode="stl", epochs=2, progress=True, head_lr=1e-2)
    m = _trainer(cfg).fit()
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("epoch ") and "dev" in ln]
    assert len(lines) == 2 and "(words " in lines[0]
    assert [h["epoch"] for h in m["history"]] == [1, 2]
    assert f"{100 * m['history'][1]['average']:.1f}" in lines[1]


def test_bf16_on_a_cpu_without_native_bf16_warns(tiny_cfg, monkeypatch):
    from mtlcore.training import trainer

    monkeypatch.setattr(trainer, "cpu_bf16_support", lambda: False)
    with pytest.warns(UserWarning, match="without AVX512-BF16 or AMX"):
        _trainer(tiny_cfg.replace(precision="bf16", device="cpu"))
    monkeypatch.setattr(trainer, "cpu_bf16_support", lambda: True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _trainer(tiny_cfg.replace(precision="bf16", device="cpu"))


# -- heads started from a linear probe (LP-FT) ------------------------------------------------------------------

def _probe_by_hand(trainer: Trainer, task: str, c_grid=(0.1, 1.0, 10.0)):
    """The dev-best class-balanced logistic regression on the pretrained encoder's standardised pooled features."""
    from sklearn.linear_model import LogisticRegression

    from mtlcore.training.head_init import pooled_features

    feats = {s: pooled_features(trainer.model, d[task], task, 0, 64, trainer.device)
             for s, d in (("train", trainer.train_data), ("dev", trainer.dev_data))}
    mean, sd = feats["train"].mean(0), feats["train"].std(0) + 1e-6
    z = {s: (f - mean) / sd for s, f in feats.items()}
    best = None
    for c in c_grid:
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z["train"], trainer.train_data[task].labels)
        acc = (clf.predict(z["dev"]) == trainer.dev_data[task].labels).mean()
        if best is None or acc > best[0]:
            best = (acc, c, clf)
    return best[1], best[2].predict_proba(z["dev"])[:, 1]


@pytest.mark.parametrize("mode", ["stl", "mtl"])
def test_a_probe_start_makes_the_model_the_probe_at_step_0(tiny_cfg, mode):
    from mtlcore.training.head_init import init_heads_from_probe

    cfg = tiny_cfg.replace(mode=mode, tasks=["test/sentiment", "test/length"], class_weights="balanced",
                           head_init="probe", dropout=0.0)
    t = _trainer(cfg)
    chosen = init_heads_from_probe(t.model, t.train_data, t.dev_data, 0, "balanced", 64, t.device, t.shared)
    assert set(chosen) == {"test/sentiment", "test/length"}
    t.model.eval()
    for task in chosen:
        c, proba = _probe_by_hand(t, task)
        assert chosen[task] == c
        with torch.no_grad():
            batch = t.to_device(__import__("mtlcore.training.batching", fromlist=["collate"]).collate(
                t.dev_data[task], np.arange(len(t.dev_data[task]))))
            logits = t.model(task=task, **{k: v for k, v in batch.items() if k != "labels"}).logits
        # softmax over (-s/2, s/2) is the probe's sigmoid(s): the same class probabilities
        np.testing.assert_allclose(F.softmax(logits, -1)[:, 1].numpy(), proba, atol=1e-4)


def test_a_probe_start_is_recorded_in_metrics_json(tiny_cfg, tmp_path):
    import json

    from mtlcore.training.runs import train

    train(tiny_cfg.replace(head_init="probe", class_weights="balanced", epochs=1), out=tmp_path / "run")
    chosen = json.loads((tmp_path / "run" / "metrics.json").read_text())["probe_C"]
    assert set(chosen) == {"test/words", "test/flipped"} and all(c in (0.1, 1.0, 10.0) for c in chosen.values())
    train(tiny_cfg.replace(epochs=1), out=tmp_path / "plain")
    assert "probe_C" not in json.loads((tmp_path / "plain" / "metrics.json").read_text())


def test_head_init_is_validated(tiny_cfg):
    with pytest.raises(ConfigError, match="head_init must be 'random' or 'probe'"):
        tiny_cfg.replace(head_init="lp")
    with pytest.raises(ConfigError, match="freeze_encoder"):
        tiny_cfg.replace(head_init="probe", freeze_encoder=True)
