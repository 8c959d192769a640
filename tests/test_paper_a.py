"""Paper A experiment helpers: configs shared through the cache, representations, CKA, cosines, gaps."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mtlcore import TrainConfig
from mtlcore.papers.paper_a import (base_config, family_config, gradient_cosines, layer_cka, layer_names, pair_config,
                             paired_differences, representations, summary_table, group_gap)
from mtlcore.tasks import Examples, TaskSpec, register_task

WORDS = {0: ["awful", "bad", "boring", "poor"], 1: ["great", "good", "superb", "fine"]}


def _examples(n: int, seed: int, flip: bool) -> Examples:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    texts = [(f"the report was {rng.choice(WORDS[int(v)])} and {rng.choice(['long', 'short'])}",) for v in y]
    return Examples(texts, (1 - y if flip else y).astype(np.int64), f"paper-a-test-{seed}")


for _name, _flip in (("test/pa_words", False), ("test/pa_flipped", True)):
    register_task(TaskSpec(_name, "classification", ("sentence",), ("macro_f1",), ("0", "1"),
                           lambda root, flip=_flip: {"train": _examples(64, 1, flip), "dev": _examples(32, 2, flip),
                                                     "test": _examples(40, 3, flip)},
                           "synthetic task with a test split, for the Paper A helpers"))
TASKS = ["test/pa_words", "test/pa_flipped"]


@pytest.fixture
def base(tmp_path, monkeypatch):
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path / "cache"))
    return base_config({"encoder": "tiny-bert", "epochs": 1, "batch_size": 16, "lr": 1e-3, "warmup_ratio": 0.0},
                       gradient_every=2)


def test_family_configs_keep_checkpoints_only_where_cka_needs_them(base):
    assert family_config(base, "stl", TASKS, 1).save_checkpoint and family_config(base, "mtl", TASKS, 1).save_checkpoint
    assert not family_config(base, "stl+adapters", TASKS, 1).save_checkpoint
    pair = pair_config(base, TASKS, 2)
    assert (pair.mode, pair.seed, pair.save_checkpoint, pair.gradient_cosine_every) == ("mtl", 2, False, 2)
    with pytest.raises(ValueError, match="2 distinct tasks"):
        pair_config(base, TASKS[:1], 0)
    with pytest.raises(ValueError, match="unknown family"):
        family_config(base, "mtl+lora", TASKS, 0)


def test_family_train_gives_one_family_its_own_fields_and_no_other(base):
    own = {"stl+adapters": {"head_lr": 3e-3}, "mtl+adapters": {"head_lr": 3e-3}}
    for family in ("stl+adapters", "mtl+adapters"):
        cfg = family_config(base.replace(adapter_lr=1e-3), family, TASKS, 4, own)
        plain = family_config(base.replace(adapter_lr=1e-3), family, TASKS, 4)
        assert cfg.head_lr == 3e-3 and cfg.replace(head_lr=plain.head_lr) == plain   # only the named field moved
    for family in ("stl", "mtl"):                                                       # the others: untouched
        assert family_config(base, family, TASKS, 4, own) == family_config(base, family, TASKS, 4)
    with pytest.raises(ValueError, match="unknown family"):
        family_config(base, "stl", TASKS, 0, {"stl+lora": {"head_lr": 1e-3}})
    with pytest.raises(ValueError, match=r"family_train\['stl'\].*unknown field"):
        family_config(base, "stl", TASKS, 0, {"stl": {"head_rate": 1e-3}})
    with pytest.raises(ValueError, match="set by the family"):
        family_config(base, "stl", TASKS, 0, {"stl": {"mode": "mtl"}})


def test_layer_cka_is_one_on_itself_and_matches_its_diagonal():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 50, 8)), rng.normal(size=(3, 50, 6))
    b[0] = a[0] @ rng.normal(size=(8, 6))  # a linear map of layer 0 (CKA < 1 in general, but high)
    np.testing.assert_allclose(np.diag(layer_cka(a, a)), 1.0)
    full = layer_cka(a, b)
    assert full.shape == (3, 3)
    np.testing.assert_allclose(layer_cka(a, b, diagonal=True), np.diag(full))
    assert layer_cka(a, 3.0 * a + 1.0, diagonal=True) == pytest.approx([1, 1, 1])  # invariant to scale and shift
    with pytest.raises(ValueError, match="same n inputs"):
        layer_cka(a, b[:, :40])
    with pytest.raises(ValueError, match="layer counts differ"):
        layer_cka(a, b[:2], diagonal=True)


def test_layer_features_are_pooled_hidden_states_in_input_order(base):
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training import build_model

    model, tok = build_model(base.replace(tasks=TASKS), TASKS)
    texts = ["a short one", "a much longer text than the first one here", "mid length text"]
    feats = model.layer_features(tok, texts, batch_size=2)
    assert feats.shape == (model.encoder.config.num_hidden_layers + 1, 3, model.encoder.config.hidden_size)
    np.testing.assert_allclose(model.layer_features(tok, texts[::-1], batch_size=3)[:, ::-1], feats, atol=1e-5)
    model.eval()  # no dropout in the hand computation either
    enc = tok(texts[1:2], return_tensors="pt")
    with torch.no_grad():
        hidden = model.encoder(**enc, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(feats[:, 1], torch.stack([h[0].mean(0) for h in hidden]).numpy(), atol=1e-5)
    assert layer_names(feats.shape[0]) == ["embeddings"] + [f"layer_{i}" for i in range(1, feats.shape[0])]
    with pytest.raises(ValueError, match="no texts"):
        model.layer_features(tok, [])
    with pytest.raises(ValueError, match="non-empty"):
        model.layer_features(tok, ["fine", "  "])
    assert load_tokenizer  # the notebooks load the tokenizer by the encoder's name


def test_representations_are_computed_once_and_read_back(base, monkeypatch):
    cfg = family_config(base, "stl", TASKS, 0)
    first = representations(cfg, TASKS[0], task=TASKS[1])
    assert first.shape[1] == 40  # the test split of the inputs task
    from mtlcore.training import models

    def refuse(*a, **k):
        raise AssertionError("the stored representations should be read, not recomputed")

    monkeypatch.setattr(models.MultiTaskModel, "load", classmethod(refuse))
    np.testing.assert_array_equal(representations(cfg, TASKS[0], task=TASKS[1]), first)
    with pytest.raises(ValueError, match="give `task`"):
        representations(family_config(base, "mtl", TASKS, 0), TASKS[0], task=TASKS[0])
    with pytest.raises(ValueError, match="save_checkpoint"):
        representations(cfg.replace(save_checkpoint=False), TASKS[0], task=TASKS[0])
    with pytest.raises(ValueError, match="no 'validation' split"):
        representations(cfg, TASKS[0], task=TASKS[0], split="validation")


def test_an_stl_model_is_more_like_itself_than_like_another_seed(base):
    a = representations(family_config(base, "stl", TASKS, 0), TASKS[0], task=TASKS[0])
    b = representations(family_config(base, "stl", TASKS, 1), TASKS[0], task=TASKS[0])
    same, other = layer_cka(a, a, diagonal=True), layer_cka(a, b, diagonal=True)
    assert np.allclose(same, 1.0) and np.all(other <= 1.0 + 1e-9) and other[-1] < 1.0


def test_gradient_cosines_of_a_tracked_run_and_its_timing(base):
    from mtlcore import cached_train

    cfg = pair_config(base, TASKS, 0)
    table = gradient_cosines(cfg)
    layers = set(table.layer)
    assert {"overall", "embeddings", "layer_1", "layer_2"} <= layers and "layer_0" not in layers
    assert table.step.min() == 0 and table.cosine.between(-1, 1).all()
    assert set(zip(table.task_i, table.task_j)) == {tuple(TASKS)}
    timing = json.loads((cached_train(cfg).folder / "timing.json").read_text())
    assert 0 < timing["diagnostic_seconds"] < timing["train_seconds"]
    with pytest.raises(ValueError, match="multi-task run"):
        gradient_cosines(family_config(base, "stl", TASKS, 0))


def test_group_gap_is_mtl_minus_stl_test_score_in_points(base):
    from mtlcore import cached_train

    gaps = group_gap(base, TASKS, {t: TASKS for t in TASKS}, 0)
    mtl = cached_train(pair_config(base, TASKS, 0)).metrics["test"]["tasks"]
    stl = cached_train(family_config(base, "stl", TASKS, 0)).metrics["test"]["tasks"]
    for t in TASKS:
        assert gaps[t] == pytest.approx(100 * (mtl[t]["score"] - stl[t]["score"]))
    with pytest.raises(ValueError, match="no STL run given"):
        group_gap(base, TASKS, {TASKS[0]: TASKS}, 0)


def test_paired_differences_and_summary_known_values():
    scores = pd.DataFrame({"family": ["mtl", "stl"] * 4, "seed": [0, 0, 0, 0, 1, 1, 1, 1],
                           "task": ["a", "a", "b", "b"] * 2, "test": [0.70, 0.60, 0.50, 0.55, 0.80, 0.75, 0.40, 0.40]})
    diff = paired_differences(scores, "mtl", "stl")
    np.testing.assert_allclose(diff.loc[0].to_numpy(), [10.0, -5.0])
    np.testing.assert_allclose(diff.loc[1].to_numpy(), [5.0, 0.0])
    table = summary_table(scores)
    assert table.loc["a", ("mean", "mtl")] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="no scores for family"):
        paired_differences(scores, "mtl", "stl+adapters")


def test_base_config_is_the_same_for_every_notebook():
    a, b = base_config({"max_train": 10}, 4), base_config({"max_train": 10}, 4)
    assert a == b and a.gradient_cosine_every == 4 and not a.progress and isinstance(a, TrainConfig)
