"""Tasks that share their inputs: one encoder pass feeds every head, with the same losses and gradients
as one pass per task, fewer steps, test-split scoring, gradient diagnostics and predict."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mtlcore import TrainConfig, train
from mtlcore.training.encoders import load_tokenizer
from mtlcore.tasks import DataError, Examples, TaskSpec, register_task
from mtlcore.training import Trainer, build_model
from mtlcore.training.batching import input_units, prepare_split
from mtlcore.training import batching

TASKS = ["test/sentiment", "test/length"]


@pytest.fixture
def shared_cfg():
    return TrainConfig(tasks=TASKS, encoder="tiny-bert", epochs=2, batch_size=16, lr=1e-3, warmup_ratio=0.0,
                       progress=False, seed=3)


def _trainer(cfg):
    tok = load_tokenizer(cfg.encoder)
    tr, dev, te = (prepare_split(cfg, tok, s) for s in ("train", "dev", "test"))
    model, _ = build_model(cfg, cfg.tasks)
    return Trainer(cfg, model, tr, dev, test=te)


@pytest.mark.parametrize("weights", [None, {"test/sentiment": 3.0, "test/length": 1.0}])
def test_one_pass_gives_the_per_task_losses_and_gradients(shared_cfg, weights):
    cfg = shared_cfg if weights is None else shared_cfg.replace(weighting="fixed", task_weights=weights)
    trainer = _trainer(cfg)
    trainer.model.eval()  # no dropout: the two paths see the same network
    data = trainer.train_data
    index = np.arange(20)
    batch = trainer.to_device(batching.collate(data[TASKS[0]], index))
    labels = {t: batching.collate_labels(data[t], index) for t in TASKS}
    losses = trainer.unit_losses(TASKS, batch, labels)
    trainer.weighting.combine(losses).backward()
    shared = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    trainer.model.zero_grad()
    alpha = trainer.weighting.weights()
    for t in TASKS:  # today's path: one encoder pass per task on the same batch
        b = {**batch, "labels": labels[t]}
        loss = trainer.batch_loss(t, b)
        assert torch.allclose(loss, losses[t], atol=1e-6)
        (alpha[t] * loss).backward()
    for n, p in trainer.model.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(shared[n], p.grad, atol=1e-6, rtol=1e-5)


def test_units_steps_and_test_scores(shared_cfg):
    tok = load_tokenizer("tiny-bert")
    tr = prepare_split(shared_cfg, tok, "train")
    assert input_units(tr) == {"test/report": TASKS}
    assert input_units(tr, shared=False) == {t: [t] for t in TASKS}
    assert tr[TASKS[0]].input_ids is tr[TASKS[1]].input_ids  # tokenised once
    one, sep = _trainer(shared_cfg.replace(epochs=10, lr=3e-3)), _trainer(shared_cfg.replace(shared_inputs=False))
    assert one.steps_per_epoch == 6 and sep.steps_per_epoch == 12  # 96 texts, batch 16: k=2 heads, one pass
    metrics = one.fit()
    assert metrics["average"] > 0.9 and set(metrics["test"]["tasks"]) == set(TASKS)
    assert metrics["test"]["average"] > 0.9  # both rules are in the words: one encoder learns both


def test_shared_inputs_with_other_tasks_and_stl(shared_cfg, tmp_path):
    mixed = train(shared_cfg.replace(tasks=[*TASKS, "test/words"], epochs=1, gradient_cosine_every=2),
                  out=tmp_path / "mixed")
    assert set(mixed.metrics["tasks"]) == {*TASKS, "test/words"} and set(mixed.metrics["test"]["tasks"]) == set(TASKS)
    import pandas as pd

    cos = pd.read_csv(tmp_path / "mixed/gradient_cosines.csv")
    assert set(cos.task_i) | set(cos.task_j) == {*TASKS, "test/words"} and cos.cosine.between(-1, 1).all()
    stl = train(shared_cfg.replace(mode="stl", epochs=1))
    assert set(stl.metrics["test"]["tasks"]) == set(TASKS)


def test_gradient_batches_of_one_group_are_the_same_examples(shared_cfg):
    trainer = _trainer(shared_cfg)
    a, b = (trainer.sample_batch(t, 8, seed=5) for t in TASKS)
    assert torch.equal(a["input_ids"], b["input_ids"]) and not torch.equal(a["labels"], b["labels"])


def test_predict_returns_every_task_from_one_pass(shared_cfg):
    trainer = _trainer(shared_cfg)
    model, tok = trainer.model, load_tokenizer("tiny-bert")
    texts = ["the film was great and long", "the film was awful and new", "bad"]
    out = model.predict(tok, texts)
    assert set(out) == set(TASKS) and out[TASKS[0]].shape == (3, 2)
    model.eval()
    for i, text in enumerate(texts):  # same as one forward per text and task
        enc = tok([text], return_tensors="pt")
        for t in TASKS:
            np.testing.assert_allclose(out[t][i], model(task=t, **enc).logits[0].detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="non-empty string"):
        model.predict(tok, ["fine", "  "])


def test_an_input_group_with_different_texts_is_refused(shared_cfg):
    def load(root):
        ex = Examples([("other text",), ("more",)], np.array([0, 1]), "x")
        return {"train": ex, "dev": ex}

    register_task(TaskSpec("test/impostor", "classification", ("s",), ("accuracy",), ("0", "1"), load,
                           input_group="test/report"))
    with pytest.raises(DataError, match="input group 'test/report' but their train texts differ"):
        prepare_split(shared_cfg.replace(tasks=["test/sentiment", "test/impostor"]), load_tokenizer("tiny-bert"), "train")
