"""mtlcore: multi-task learning with transformers, and the analyses that explain when it works.

Public API (one concept per module): `data` (task registry), `encoders`, `models`, `train`,
`weighting`, `metrics`, `config`.
"""
from ._io import atomic_save_figure as save_figure, atomic_write_csv as write_csv, repo_path
from .config import ConfigError, TrainConfig
from .data import DataError, TaskSpec, UnknownTaskError, get_task, load_task, register_task, task_table
from .encoders import EncoderError, load_encoder
from .models import MultiTaskModel
from .train import Callback, RunResult, Trainer, train

__version__ = "0.1.0"
__all__ = ["Callback", "ConfigError", "DataError", "EncoderError", "MultiTaskModel", "RunResult", "TaskSpec",
           "TrainConfig", "Trainer", "UnknownTaskError", "get_task", "load_encoder", "load_task", "register_task",
           "repo_path", "save_figure", "task_table", "train", "write_csv"]
