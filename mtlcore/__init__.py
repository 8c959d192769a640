"""mtlcore: multi-task learning with transformers, and the analyses that explain when it works.

Public API (one concept per module): `data` (task registry), `encoders`, `models`, `train`,
`weighting`, `metrics`, `config`; the analyses `similarity` (CKA), `gradients` (task-gradient
cosines) and `wzr` (Wu, Zhang & Re 2020: covariance similarity, SVD task weights, alignment).
"""
from ._io import atomic_save_figure as save_figure, atomic_write_csv as write_csv, repo_path
from .config import ConfigError, TrainConfig
from .tasks import DataError, TaskSpec, UnknownTaskError, get_task, load_task, register_task, task_table
from .encoders import EncoderError, load_encoder
from .models import MultiTaskModel
from .gradients import GradientCosineCallback, GradientCosines, task_gradient_cosines
from .similarity import CKAAccumulator, layerwise_cka, linear_cka, rbf_cka
from .train import Callback, RunResult, Trainer, train
from .wzr import AlignmentModule, add_alignment, covariance_similarity, svd_task_weights

__version__ = "0.1.0"
__all__ = ["AlignmentModule", "CKAAccumulator", "GradientCosineCallback", "GradientCosines", "add_alignment",
           "covariance_similarity", "layerwise_cka", "linear_cka", "rbf_cka", "svd_task_weights",
           "task_gradient_cosines", "Callback", "ConfigError", "DataError", "EncoderError", "MultiTaskModel", "RunResult", "TaskSpec",
           "TrainConfig", "Trainer", "UnknownTaskError", "get_task", "load_encoder", "load_task", "register_task",
           "repo_path", "save_figure", "task_table", "train", "write_csv"]
