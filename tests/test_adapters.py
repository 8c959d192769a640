"""Bottleneck adapters (Houlsby et al. 2019): identity at init, frozen encoder, only adapters + heads train."""
from __future__ import annotations

import copy

import pytest
import torch

from mtlcore import TrainConfig, train
from mtlcore.training.adapters import add_adapters, adapter_state_dict, parameter_summary
from mtlcore.training.encoders import load_encoder
from mtlcore.training.models import MultiTaskModel


@pytest.fixture
def encoder_and_batch():
    enc, tok = load_encoder("tiny-bert", seed=0)
    batch = tok(["the film was great", "no pleural effusion is seen today"], padding=True, return_tensors="pt")
    return enc, batch


def test_zero_up_projection_leaves_every_hidden_state_unchanged(encoder_and_batch):
    enc, batch = encoder_and_batch
    original = copy.deepcopy(enc).eval()
    torch.manual_seed(1)
    add_adapters(enc, bottleneck=8)
    enc.eval()
    a = original(**batch, output_hidden_states=True).hidden_states
    b = enc(**batch, output_hidden_states=True).hidden_states
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=0)


@pytest.mark.parametrize("train_layer_norm", [True, False])
def test_only_adapters_and_layer_norms_train(encoder_and_batch, train_layer_norm):
    enc, batch = encoder_and_batch
    cfg = enc.config
    adapters = add_adapters(enc, bottleneck=8, train_layer_norm=train_layer_norm)
    assert len(adapters) == 2 * cfg.num_hidden_layers
    per_adapter = 2 * cfg.hidden_size * 8 + 8 + cfg.hidden_size
    layer_norms = (2 * cfg.num_hidden_layers + 1) * 2 * cfg.hidden_size  # 2 per layer + embeddings, weight + bias
    expected = 2 * cfg.num_hidden_layers * per_adapter + (layer_norms if train_layer_norm else 0)
    assert parameter_summary(enc)["trainable"] == expected
    before = {n: p.detach().clone() for n, p in enc.named_parameters()}
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad], lr=0.5)
    enc.train()
    enc(**batch).last_hidden_state.square().mean().backward()
    assert all(p.grad is not None for a in adapters for p in a.parameters())
    assert all(a.up.weight.grad.abs().sum() > 0 for a in adapters)  # zero weights, non-zero gradient
    opt.step()
    changed = {n for n, p in enc.named_parameters() if not torch.equal(before[n], p.detach())}
    frozen = {n for n in before if ".adapter." not in n and not (train_layer_norm and "LayerNorm" in n)}
    assert not changed & frozen  # every frozen parameter is bitwise unchanged
    assert any(".adapter." in n for n in changed)
    assert train_layer_norm == any("LayerNorm" in n for n in changed)


def test_adapters_sit_before_the_residual_layer_norm(encoder_and_batch):
    enc, batch = encoder_and_batch
    adapters = add_adapters(enc, bottleneck=4)
    with torch.no_grad():
        adapters[0].up.bias.fill_(5.0)  # a large shift added after the attention projection
    layer = enc.encoder.layer[0].attention.output
    out = layer(torch.randn(2, 3, enc.config.hidden_size), torch.randn(2, 3, enc.config.hidden_size))
    normed = (out - layer.LayerNorm.bias) / layer.LayerNorm.weight
    torch.testing.assert_close(normed.mean(-1), torch.zeros(2, 3), atol=1e-4, rtol=0)  # still LayerNorm'd


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="BERT-style"):
        add_adapters(torch.nn.Linear(3, 3))


def test_adapter_runs_train_save_and_load(tmp_path):
    import conftest  # noqa: F401  (registers the synthetic tasks)

    cfg = TrainConfig(tasks=["test/words", "test/flipped"], encoder="tiny-bert", epochs=1, batch_size=16, lr=1e-3,
                      warmup_ratio=0.0, progress=False, seed=3, adapter="bottleneck", adapter_size=8)
    run = train(cfg, out=tmp_path / "run")
    model = run.models["mtl"]
    assert run.metrics["trainable_parameters"] < run.metrics["parameters"] / 2
    loaded = MultiTaskModel.load(tmp_path / "run/checkpoint")
    assert adapter_state_dict(loaded.encoder).keys() == adapter_state_dict(model.encoder).keys()
    ids = torch.tensor([[101, 2023, 2001, 2307, 102]])
    model.eval(), loaded.eval()
    for t in cfg.tasks:
        torch.testing.assert_close(model(ids, torch.ones_like(ids), task=t).logits,
                                   loaded(ids, torch.ones_like(ids), task=t).logits)
    from transformers import AutoModel

    AutoModel.from_pretrained(tmp_path / "run/checkpoint/encoder")  # the encoder folder stays a plain HF model
