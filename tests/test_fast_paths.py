"""The speed paths of issue 25 against the plain path: token-sized batches and the compiled encoder give the
same losses on a tiny model (stated tolerances), and the token batches keep the epoch's examples."""
import math

import numpy as np
import pytest
import torch

from mtlcore.training import Trainer, batching, build_model
from mtlcore.training.batching import prepare_data
from mtlcore.training.encoders import load_tokenizer


def test_token_batches_hold_every_example_once_within_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, size=500)
    lengths[7] = 200                                  # longer than the budget: a batch of its own
    batches = batching.token_batches(lengths, 256, np.random.default_rng(1))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(500))  # every example exactly once
    for b in batches:
        assert len(b) >= 1 and (len(b) == 1 or len(b) * lengths[b].max() <= 256)
    assert [7] in [b.tolist() for b in batches]
    # short texts make larger batches than long ones; same seed, same batches
    short, long_ = batching.token_batches(np.full(64, 8), 256, rng), batching.token_batches(np.full(64, 64), 256, rng)
    assert {len(b) for b in short} == {32} and {len(b) for b in long_} == {4}
    again = batching.token_batches(lengths, 256, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again)) and len(again) == len(batches)
    with pytest.raises(ValueError, match="max_tokens"):
        batching.token_batches(lengths, 0, rng)


def _mean_loss(trainer, data, task, batches) -> float:
    """The example-weighted mean loss of `task` over `batches` (dropout off)."""
    total = 0.0
    with torch.no_grad():
        for index in batches:
            batch = trainer.to_device(batching.collate(data, index))
            total += trainer.batch_loss(task, batch).item() * len(index)
    return total / sum(len(b) for b in batches)


def test_token_batches_give_the_plain_paths_loss_and_train(tiny_cfg):
    """Padding is masked out: the mean loss over the training set is the same (1e-5) whether it is cut into
    batches of 16 examples or of at most 256 padded tokens; a run with batch_tokens trains, plans its steps from
    its batches, and the same seed gives the same numbers."""
    cfg = tiny_cfg.replace(tasks=["test/words"], dropout=0.0, batch_tokens=256, epochs=6)
    tr, dev = prepare_data(cfg, load_tokenizer("tiny-bert"))
    model, _ = build_model(cfg, cfg.tasks)
    trainer = Trainer(cfg, model, tr, dev)
    model.eval()
    data = tr["test/words"]
    plain = _mean_loss(trainer, data, "test/words", batching.length_grouped_batches(data.lengths, 16, np.random.default_rng(0)))
    tokens = _mean_loss(trainer, data, "test/words", trainer.token_plans[1]["test/words"])
    assert math.isclose(plain, tokens, rel_tol=1e-5)
    plan = trainer.token_plans[1]["test/words"]
    assert trainer.batches_per_epoch == len(plan) and all(len(b) * data.lengths[b].max() <= 256 for b in plan)
    assert max(len(b) for b in plan) > 16   # the synthetic sentences are short: batches of more than 16
    model.train()
    first = trainer.fit()
    assert trainer.step == sum(len(p["test/words"]) for p in trainer.token_plans.values())
    assert trainer.scheduler.get_last_lr() == [0.0] * len(trainer.optimizer.param_groups)  # planned steps: decayed to 0
    assert first["average"] > 0.9
    model2, _ = build_model(cfg, cfg.tasks)
    assert Trainer(cfg, model2, tr, dev).fit()["history"] == first["history"]


def test_the_compiled_encoder_gives_the_plain_losses(tiny_cfg):
    """compile: true (inductor, dynamic shapes) on the tiny encoder really compiles (dynamo traced graphs, the
    encoder's compiled forward is set) and gives the same first-epoch loss as eager within 1e-5 relative
    (compiled kernels fuse and reorder float operations; measured 3e-8). Dropout off everywhere: compiled dropout draws its masks with
    another generator than eager, so with it on the two runs see different masks (same distribution)."""
    cfg = tiny_cfg.replace(tasks=["test/words"], epochs=1, dropout=0.0)
    tr, dev = prepare_data(cfg, load_tokenizer("tiny-bert"))
    from torch._dynamo.utils import counters

    runs = {}
    for compiled in (False, True):
        model, _ = build_model(cfg, cfg.tasks)
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        graphs = counters["stats"]["unique_graphs"]
        trainer = Trainer(cfg.replace(compile=compiled), model, tr, dev)
        assert (model.encoder._compiled_call_impl is not None) == compiled   # compiled, not fallen back to eager
        metrics = trainer.fit()
        runs[compiled] = (metrics["history"][0]["train_loss"]["test/words"], counters["stats"]["unique_graphs"] - graphs)
    assert runs[False][1] == 0 and runs[True][1] > 0     # only the compiled run traced graphs
    assert math.isclose(runs[False][0], runs[True][0], rel_tol=1e-5), runs


def test_a_failing_compile_trains_eagerly_with_a_warning(tiny_cfg, monkeypatch):
    """A compiler failure at the dummy batch: a warning, the eager encoder, and training goes on."""
    cfg = tiny_cfg.replace(tasks=["test/words"], epochs=1, compile=True)
    tr, dev = prepare_data(cfg, load_tokenizer("tiny-bert"))
    model, _ = build_model(cfg, cfg.tasks)

    def fails(*args, **kwargs):
        raise RuntimeError("no cc")

    def broken(self, *args, **kwargs):   # as a compile whose first call fails
        self._compiled_call_impl = fails

    monkeypatch.setattr(torch.nn.Module, "compile", broken)
    with pytest.warns(UserWarning, match="torch.compile failed .*RuntimeError: no cc.*training eagerly"):
        trainer = Trainer(cfg, model, tr, dev)
    assert model.encoder._compiled_call_impl is None and trainer.fit()["history"]


def test_fast_paths_refuse_what_they_cannot_do(tiny_cfg):
    from mtlcore.training.config import ConfigError

    with pytest.raises(ConfigError, match="batch_tokens with sampling 'uniform'"):
        tiny_cfg.replace(batch_tokens=256, sampling="uniform")
    with pytest.raises(ConfigError, match="compile with alignment"):
        tiny_cfg.replace(compile=True, alignment=True)
    with pytest.raises(ConfigError, match="batch_tokens must be a positive integer"):
        tiny_cfg.replace(batch_tokens=0)
