"""Bottleneck adapters (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP").

An adapter maps a sub-layer's output h to  h + W_up gelu(W_down h)  (hidden -> bottleneck -> hidden,
with a residual). Houlsby et al. put one after the attention block's output projection and one after
the feed-forward block of every transformer layer, before that sub-layer's own residual + LayerNorm;
the pretrained weights stay frozen and only the adapters (and, as in the paper, the LayerNorms) and
the task heads train. W_up starts at zero, so at initialisation the adapted encoder computes exactly
what the original does.

    add_adapters(model.encoder, bottleneck=64)   # in place; returns the adapter modules

Here the adapter wraps the `.dense` projection of a BERT-style layer's `attention.output` and
`output` modules: their forward is dense -> dropout -> LayerNorm(x + input), so wrapping `dense`
places the adapter exactly where Houlsby et al. put it.
"""
from __future__ import annotations

import torch
from torch import nn


class BottleneckAdapter(nn.Module):
    """h -> h + up(gelu(down(h))); `up` is zero-initialised (identity at init)."""

    def __init__(self, hidden: int, bottleneck: int):
        super().__init__()
        self.down = nn.Linear(hidden, bottleneck)
        self.up = nn.Linear(bottleneck, hidden)
        nn.init.normal_(self.down.weight, std=1e-2)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(nn.functional.gelu(self.down(h)))


class AdaptedProjection(nn.Module):
    """A frozen projection followed by an adapter: adapter(dense(x))."""

    def __init__(self, dense: nn.Linear, adapter: BottleneckAdapter):
        super().__init__()
        self.dense, self.adapter = dense, adapter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.dense(x))


def _sublayers(encoder: nn.Module) -> list[nn.Module]:
    """The modules whose `.dense` gets an adapter: per layer, `attention.output` and `output`."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError(f"add_adapters: {type(encoder).__name__} has no `encoder.layer` list; bottleneck adapters "
                         "are implemented for BERT-style encoders (layer.attention.output.dense, layer.output.dense)")
    out = []
    for i, layer in enumerate(layers):
        for path in ("attention.output", "output"):
            module = layer.get_submodule(path)
            if not isinstance(getattr(module, "dense", None), (nn.Linear, AdaptedProjection)):
                raise ValueError(f"add_adapters: layer {i} has no `{path}.dense` projection (not a BERT-style layer)")
            out.append(module)
    return out


def add_adapters(encoder: nn.Module, bottleneck: int = 64, train_layer_norm: bool = True) -> nn.ModuleList:
    """Insert a `BottleneckAdapter` after the attention and feed-forward outputs of every layer (in place),
    freeze every original parameter except the LayerNorms (if `train_layer_norm`, as Houlsby et al.), and
    return the adapters. Adapter weights are drawn from torch's current RNG."""
    if bottleneck < 1:
        raise ValueError(f"bottleneck must be >= 1, got {bottleneck}")
    targets = _sublayers(encoder)
    if any(isinstance(m.dense, AdaptedProjection) for m in targets):
        raise ValueError("add_adapters: this encoder already has adapters")
    for name, p in encoder.named_parameters():
        p.requires_grad_(train_layer_norm and "LayerNorm" in name)
    adapters = nn.ModuleList()
    for module in targets:
        adapter = BottleneckAdapter(module.dense.out_features, bottleneck).to(module.dense.weight.device)
        module.dense = AdaptedProjection(module.dense, adapter)
        adapters.append(adapter)
    return adapters


def has_adapters(encoder: nn.Module) -> bool:
    return any(isinstance(m, AdaptedProjection) for m in encoder.modules())


def adapter_state_dict(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable part of an adapted encoder (adapters and, if trained, LayerNorms), by parameter name."""
    return {n: p.detach().cpu().clone() for n, p in encoder.named_parameters() if p.requires_grad}


def base_state_dict(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """The encoder's weights under their original names (adapters left out): what `save_pretrained` expects."""
    return {k.replace(".dense.dense.", ".dense."): v for k, v in encoder.state_dict().items() if ".adapter." not in k}


def parameter_summary(module: nn.Module) -> dict[str, int]:
    return {"total": sum(p.numel() for p in module.parameters()),
            "trainable": sum(p.numel() for p in module.parameters() if p.requires_grad)}
