"""Alg. 1 on GLUE task sets (`mtlcore.papers.wu2020.glue_alignment`, B-F5a): held-out variants and the two-phase schedule."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mtlcore import TrainConfig
from mtlcore.papers.wu2020 import glue_alignment as G
from mtlcore.tasks import load_task


def test_heldout_variant_selects_on_train_and_tests_on_dev():
    name = G.heldout("glue/rte")
    assert name == "glue-heldout/rte" and G.heldout("glue/rte") == name
    v, orig = load_task(name), load_task("glue/rte")
    assert len(v["train"]) + len(v["dev"]) == len(orig["train"]) and len(v["test"]) == len(orig["dev"])
    assert v["test"].texts == orig["dev"].texts
    assert set(v["dev"].texts) <= set(orig["train"].texts)            # the selection split is held out of train
    assert np.isclose(len(v["dev"]) / len(orig["train"]), 0.1, atol=0.01)


def test_alg1_arms_share_phase_one_and_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path))
    base = TrainConfig(encoder="tiny-bert", max_train=16, max_eval=16, epochs=1, batch_size=8, progress=False)
    tasks = ("glue/rte", "glue/mrpc")
    from mtlcore.training import trainer as T
    from mtlcore.training.models import MultiTaskModel

    starts = []
    real_init = T.Trainer.__init__

    def spy(self, cfg, model, *a, **k):
        starts.append((cfg, {n: v.clone() for n, v in model.state_dict().items() if not n.startswith("alignment")}))
        real_init(self, cfg, model, *a, **k)

    monkeypatch.setattr(T.Trainer, "__init__", spy)
    without = G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=False)
    with_r = G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=True)
    # phase 1 ran once (the first Trainer), and each phase 2 starts from its checkpoint, encoder fixed, lr 1e-3
    assert len(starts) == 3 and not starts[0][0].freeze_encoder
    saved = MultiTaskModel.load(_phase1_folder(base, tasks)).state_dict()
    for cfg, state in starts[1:]:
        assert cfg.freeze_encoder and cfg.lr == 1e-3
        # (the unused BERT pooler is re-initialised by from_pretrained on every load; it never enters a forward)
        assert [n for n, v in saved.items() if not torch.equal(state[n], v) and ".pooler." not in n] == []
    assert without["R_minus_I"] == {} and min(with_r["R_minus_I"].values()) > 0     # only the aligned arm moves R
    assert set(without["test"]) == set(tasks)
    assert without["average"] == pytest.approx(np.mean(list(without["test"].values())))
    # phase 2 trains the heads only (encoder fixed), plus one d x d matrix R per task with alignment (d = 32)
    heads = sum(32 * n + n for n in (2, 2))
    assert without["phase2"]["trainable_parameters"] == heads
    assert with_r["phase2"]["trainable_parameters"] == heads + 2 * 32 * 32
    monkeypatch.setattr(G, "_phase2", lambda *a, **k: pytest.fail("phase 2 trained again"))
    assert G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=True)["test"] == with_r["test"]


def _phase1_folder(base, tasks):
    from mtlcore import cached_train
    from mtlcore.training.runs import run_checkpoint

    return run_checkpoint(cached_train(G.phase1_config(base, tasks, 0)).folder)
