"""Data-parallel training (torchrun, gloo, 2 CPU processes) computes what one process computes.

The encoder is a tiny random BERT saved to a local folder with every dropout at 0 (dropout draws its
masks per rank, so with dropout the two runs would differ by design, not by error). Both runs use the
same config; `batch_size` is the global batch. Tolerance: the per-epoch train losses within 1e-5
(absolute) and every saved head weight within 1e-5 (measured: about 3e-8 and 1.5e-8); the dev scores equal. What remains is the order
of floating-point sums (a gradient averaged over two half-batches vs one whole batch).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mtlcore.distributed import DistContext, shard

REPO = Path(__file__).resolve().parents[1]


def test_shard_splits_a_batch_and_scales_to_the_global_mean():
    index = np.arange(7)
    parts = [shard(index, DistContext(rank=r, world=2)) for r in range(2)]
    assert [list(p[0]) for p in parts] == [[0, 2, 4, 6], [1, 3, 5]]
    # DDP averages over ranks: (1/W) sum_r scale_r * mean_r == the mean over the whole batch
    losses = np.arange(7, dtype=float) ** 2
    ddp = np.mean([scale * losses[rows].mean() for rows, scale in parts])
    assert ddp == pytest.approx(losses.mean(), rel=1e-12)
    rows, scale = shard(np.arange(1), DistContext(rank=1, world=2))  # nothing left for rank 1
    assert len(rows) == 1 and scale == 0.0
    assert shard(index, DistContext())[1] == 1.0


@pytest.fixture(scope="module")
def no_dropout_encoder(tmp_path_factory) -> Path:
    from transformers import BertModel

    from mtlcore.encoders import load_tokenizer, tiny_config

    folder = tmp_path_factory.mktemp("encoder")
    tok = load_tokenizer("tiny-bert")
    config = tiny_config(vocab_size=tok.vocab_size)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _run(cmd: list[str], out: Path, cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}
    r = subprocess.run(cmd + ["--out", str(out)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize("shared_inputs, batch, accumulation", [(False, 7, 2), (True, 5, 1)],
                         ids=["unused-heads-accumulation", "shared-inputs"])
def test_two_gloo_processes_match_one_process(tmp_path, no_dropout_encoder, shared_inputs, batch, accumulation):
    """Three tasks of one users' file: with shared_inputs off each step trains one head (DDP's unused heads),
    batches of 7 split 4/3 and two batches per optimiser step; with it on, one pass feeds all three heads."""
    shutil.copy(REPO / "examples" / "radiology_tasks.yaml", tmp_path)
    shutil.copy(REPO / "examples" / "radiology_reports.csv", tmp_path)
    args = ["train", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--encoder", str(no_dropout_encoder),
            "--epochs", "2", "--batch-size", str(batch), "--grad-accumulation", str(accumulation), "--lr", "1e-3",
            "--dropout", "0", "--warmup-ratio", "0", "--device", "cpu", "--seed", "3", "--no-progress",
            "--shared-inputs" if shared_inputs else "--no-shared-inputs"]
    one = _run([sys.executable, "-m", "mtlcore", *args], tmp_path / "one", tmp_path)
    two = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                "-m", "mtlcore", *args], tmp_path / "two", tmp_path)
    assert json.loads((tmp_path / "two" / "timing.json").read_text())["runs"]["mtl"]["processes"] == 2
    assert not (tmp_path / "one" / "timing.json").read_text().count("processes")
    for a, b in zip(one["history"], two["history"], strict=True):
        for task in a["train_loss"]:
            assert b["train_loss"][task] == pytest.approx(a["train_loss"][task], abs=1e-5)
        assert {t: v["score"] for t, v in b["tasks"].items()} == pytest.approx(
            {t: v["score"] for t, v in a["tasks"].items()}, abs=1e-9)
    assert two["test"]["average"] == pytest.approx(one["test"]["average"], abs=1e-9)
    heads = [torch.load(tmp_path / run / "checkpoint" / "heads.pt") for run in ("one", "two")]
    assert heads[0].keys() == heads[1].keys()
    for key in heads[0]:
        assert torch.allclose(heads[0][key], heads[1][key], atol=1e-5, rtol=0), key
    first, last = one["history"][0]["train_loss"], one["history"][-1]["train_loss"]
    assert sum(last.values()) < sum(first.values())  # it trained: the comparison is not of two idle models
