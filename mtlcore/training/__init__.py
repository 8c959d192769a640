"""The training core: a config, an encoder with a head per task, the loop, run folders.

- `config`: `TrainConfig` (the YAML/CLI schema of one run) and `Profile` (a notebook profile).
- `encoders`: offline-first loading of a Hugging Face encoder (the bundled MiniLM by default).
- `models`: `MultiTaskModel` (shared encoder, a head per task); `adapters` (bottleneck adapters) and
  `alignment` (Wu et al.'s per-task R_i) are its optional components.
- `batching`: tokenised splits, length-grouped batches, the task schedule.
- `weighting`: how task losses combine (equal, fixed alpha_i).
- `callbacks`: the hooks of the loop, and the gradient-cosine recorder.
- `trainer`: `Trainer`, one optimiser over the model; `distributed`: torchrun ranks.
- `runs`: `train(cfg, out)`, run folders that are atomic, locked and resumable.

Imports flow down only: training -> tasks -> analysis -> `mtlcore._io` (see `tests/test_layout.py`).
"""
from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# name -> ".module[:attribute]", imported on first use (`mtlcore._lazy`): `mtlcore.training.config` (what the
# command line's --help needs) does not wait for torch
__getattr__, __dir__ = lazy_exports(__name__, {
    "AlignmentModule": ".alignment", "add_alignment": ".alignment", "Callback": ".callbacks",
    "GradientCosineCallback": ".callbacks", "ConfigError": ".config", "Profile": ".config", "TrainConfig": ".config",
    "EncoderError": ".encoders", "load_encoder": ".encoders", "load_tokenizer": ".encoders",
    "MultiTaskModel": ".models", "RunResult": ".runs", "run_checkpoint": ".runs", "train": ".runs",
    "DivergenceError": ".trainer", "Trainer": ".trainer", "build_model": ".trainer"})

if TYPE_CHECKING:
    from .alignment import AlignmentModule, add_alignment
    from .callbacks import Callback, GradientCosineCallback
    from .config import ConfigError, Profile, TrainConfig
    from .encoders import EncoderError, load_encoder, load_tokenizer
    from .models import MultiTaskModel
    from .runs import RunResult, run_checkpoint, train
    from .trainer import DivergenceError, Trainer, build_model

__all__ = ["AlignmentModule", "Callback", "ConfigError", "DivergenceError", "EncoderError", "GradientCosineCallback",
           "MultiTaskModel", "Profile", "RunResult", "TrainConfig", "Trainer", "add_alignment", "build_model",
           "load_encoder", "load_tokenizer", "run_checkpoint", "train"]
