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
from safetensors.torch import load_file

from mtlcore.training.distributed import DistContext, shard

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

    from mtlcore.training.encoders import load_tokenizer, tiny_config

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


WEIGHTS = '{"cxr/effusion": 2, "cxr/severity": 1, "cxr/findings": 0.5}'


@pytest.mark.parametrize("extra", [
    ["--no-shared-inputs", "--batch-size", "7", "--grad-accumulation", "2"],
    ["--shared-inputs", "--batch-size", "47", "--weighting", "fixed", "--task-weights", WEIGHTS,
     "--gradient-cosine-every", "2"],
    ["--mode", "stl", "--batch-size", "6"],
], ids=["unused-heads-accumulation", "shared-inputs-empty-shard-fixed-weights-cosines", "stl"])
def test_two_gloo_processes_match_one_process(tmp_path, no_dropout_encoder, extra):
    """Three tasks of one users' file (48 training rows): without shared inputs each step trains one head (DDP's
    unused heads), batches of 7 split 4/3 and two batches make a step; with shared inputs one pass feeds all
    three heads, and batches of 47 leave a last batch of one row, so rank 1 takes part with nothing (scale 0), under
    fixed task weights and with task-gradient cosines recorded (from the shared pass); STL trains three one-task
    models in turn."""
    shutil.copy(REPO / "examples" / "radiology_tasks.yaml", tmp_path)
    shutil.copy(REPO / "examples" / "radiology_reports.csv", tmp_path)
    args = ["train", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--encoder", str(no_dropout_encoder),
            "--epochs", "2", "--lr", "1e-3", "--dropout", "0", "--warmup-ratio", "0", "--device", "cpu",
            "--seed", "3", "--no-progress", *extra]
    one = _run([sys.executable, "-m", "mtlcore", *args], tmp_path / "one", tmp_path)
    two = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                "-m", "mtlcore", *args], tmp_path / "two", tmp_path)
    timing = json.loads((tmp_path / "two" / "timing.json").read_text())["runs"]
    assert {t["processes"] for t in timing.values()} == {2}
    assert not (tmp_path / "one" / "timing.json").read_text().count("processes")
    stl = "--mode" in extra
    runs = [_sub_runs(tmp_path / "one", stl), _sub_runs(tmp_path / "two", stl)]
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        a, b = runs[0][key], runs[1][key]
        for ha, hb in zip(a["history"], b["history"], strict=True):
            for task in ha["train_loss"]:
                assert hb["train_loss"][task] == pytest.approx(ha["train_loss"][task], abs=1e-5)
            assert {t: v["score"] for t, v in hb["tasks"].items()} == pytest.approx(
                {t: v["score"] for t, v in ha["tasks"].items()}, abs=1e-9)
        first, last = a["history"][0]["train_loss"], a["history"][-1]["train_loss"]
        assert sum(last.values()) < sum(first.values())  # it trained: the comparison is not of two idle models
    assert two["test"]["average"] == pytest.approx(one["test"]["average"], abs=1e-9)
    for sub in _checkpoints(tmp_path / "one", stl):
        heads = [load_file(root / sub / "heads.safetensors") for root in (tmp_path / "one", tmp_path / "two")]
        assert heads[0].keys() == heads[1].keys()
        for key in heads[0]:
            assert torch.allclose(heads[0][key], heads[1][key], atol=1e-5, rtol=0), key
    if "--gradient-cosine-every" in extra:
        import pandas as pd

        cos = [pd.read_csv(tmp_path / run / "gradient_cosines.csv") for run in ("one", "two")]
        assert len(cos[0]) == len(cos[1]) > 0
        assert np.allclose(cos[0]["cosine"], cos[1]["cosine"], atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["radiology_tasks.yaml", "radiology_reports.csv", "one", "two"])  # nothing else written, no .partial left


def _sub_runs(folder: Path, stl: bool) -> dict:
    """{name: metrics with a history}: the MTL run itself, or each STL task's run."""
    if not stl:
        return {"mtl": json.loads((folder / "metrics.json").read_text())}
    return {p.name: json.loads((p / "metrics.json").read_text()) for p in sorted((folder / "stl").iterdir())}


def _checkpoints(folder: Path, stl: bool) -> list[str]:
    return [f"stl/{p.name}/checkpoint" for p in sorted((folder / "stl").iterdir())] if stl else ["checkpoint"]


def test_a_failure_on_rank_0_stops_every_rank(tmp_path, no_dropout_encoder):
    """Rank 0 cannot take the run folder's lock (held here): it fails with the lock's message and rank 1, told
    by rank 0, fails too instead of waiting at the next collective; nothing is written."""
    from mtlcore._io import FolderLock

    shutil.copy(REPO / "examples" / "radiology_tasks.yaml", tmp_path)
    shutil.copy(REPO / "examples" / "radiology_reports.csv", tmp_path)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "mtlcore",
           "train", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--encoder", str(no_dropout_encoder),
           "--epochs", "1", "--device", "cpu", "--no-progress", "--out", str(out)]
    with FolderLock(out):
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode != 0
    assert "is being written by another process" in r.stderr and "rank 0 failed: LockedError" in r.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()


def test_ranks_started_with_different_configs_refuse_to_train(tmp_path, no_dropout_encoder):
    """One rank started with another --lr: every rank stops with a message naming the disagreement."""
    shutil.copy(REPO / "examples" / "radiology_tasks.yaml", tmp_path)
    shutil.copy(REPO / "examples" / "radiology_reports.csv", tmp_path)
    out = tmp_path / "run"
    wrapper = tmp_path / "rank_args.py"
    wrapper.write_text(
        "import os, sys\nfrom mtlcore.__main__ import main\n"
        f"args = ['train', '--tasks', {str(tmp_path / 'radiology_tasks.yaml')!r}, '--encoder', "
        f"{str(no_dropout_encoder)!r}, '--epochs', '1', '--device', 'cpu', '--no-progress', '--out', {str(out)!r}]\n"
        "if os.environ['RANK'] == '1':\n    args += ['--lr', '1e-3']\n"
        "sys.exit(main(args))\n")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(wrapper)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode != 0
    assert r.stderr.count("the ranks disagree on the config, --out, --resume and --overwrite: rank(s) [1]") == 2
    assert not out.exists() and not (tmp_path / "run.partial").exists()
