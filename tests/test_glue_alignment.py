"""Alg. 1 on GLUE task sets (`mtlcore.glue_alignment`, B-F5a): held-out variants and the two-phase schedule."""
from __future__ import annotations

import numpy as np
import pytest

from mtlcore import TrainConfig
from mtlcore import glue_alignment as G
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
    without = G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=False)
    with_r = G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=True)
    assert without["phase1"] == with_r["phase1"]                      # one phase-1 run for both arms
    assert set(without["test"]) == set(tasks)
    assert without["average"] == pytest.approx(np.mean(list(without["test"].values())))
    # phase 2 trains the heads only (encoder fixed), plus one d x d matrix R per task with alignment (d = 32)
    heads = sum(32 * n + n for n in (2, 2))
    assert without["phase2"]["trainable_parameters"] == heads
    assert with_r["phase2"]["trainable_parameters"] == heads + 2 * 32 * 32
    monkeypatch.setattr(G, "_phase2", lambda *a, **k: pytest.fail("phase 2 trained again"))
    assert G.alg1(base, tasks, seed=0, phase2_epochs=1, aligned=True)["test"] == with_r["test"]
