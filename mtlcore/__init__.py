"""mtlcore: multi-task learning with transformers, and the analyses that explain when it works.

The package in layers, each importing only the ones below it (`tests/test_layout.py` checks this):

    papers/     the two papers' experiments (paper_a, wu2020/, selection)
    reporting/  cache, verdicts, claims, report, pipeline
    training/   config, encoders, models (+ adapters, alignment), batching, weighting, trainer, runs
    tasks/      the task registry and the task families (GLUE, SentEval, radiology, users' files)
    analysis/   metrics, similarity (CKA), gradients (cosines), covariance (Wu et al.'s eq. 5, Alg. 2)
    _io, provenance, machine   atomic writes, locks, seeds; where a result came from; cores and thread shares

The common names are re-exported here: `from mtlcore import TrainConfig, train, cached_train, verdicts`
(imported on first use: `import mtlcore` itself is fast).
"""
from typing import TYPE_CHECKING

from ._lazy import lazy_exports

# name -> "module:attribute"; each module is imported when its first name is used (`mtlcore._lazy`)
_EXPORTS = {
    "save_figure": "._io:atomic_save_figure", "write_csv": "._io:atomic_write_csv", "repo_path": "._io",
    **dict.fromkeys(["CKAAccumulator", "GradientCosines", "covariance_similarity", "layerwise_cka", "linear_cka",
                     "rbf_cka", "svd_task_weights", "task_gradient_cosines"], ".analysis"),
    **dict.fromkeys(["DataError", "TaskSpec", "UnknownTaskError", "get_task", "load_task", "register_task",
                     "task_table"], ".tasks"),
    **dict.fromkeys(["AlignmentModule", "Callback", "ConfigError", "EncoderError", "GradientCosineCallback",
                     "MultiTaskModel", "RunResult", "TrainConfig", "Trainer", "add_alignment", "load_encoder",
                     "load_tokenizer", "train"], ".training"),
    **dict.fromkeys(["cached_result", "cached_train", "record_claim", "verdicts"], ".reporting"),
    "best_on_dev": ".papers",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:   # what the names are, for type checkers and editors
    from ._io import atomic_save_figure as save_figure, atomic_write_csv as write_csv, repo_path
    from .analysis import (CKAAccumulator, GradientCosines, covariance_similarity, layerwise_cka, linear_cka,
                           rbf_cka, svd_task_weights, task_gradient_cosines)
    from .tasks import DataError, TaskSpec, UnknownTaskError, get_task, load_task, register_task, task_table
    from .training import (AlignmentModule, Callback, ConfigError, EncoderError, GradientCosineCallback,
                           MultiTaskModel, RunResult, TrainConfig, Trainer, add_alignment, load_encoder,
                           load_tokenizer, train)
    from .reporting import cached_result, cached_train, record_claim, verdicts
    from .papers import best_on_dev

__version__ = "0.1.0"
__all__ = ["AlignmentModule", "CKAAccumulator", "Callback", "ConfigError", "DataError", "EncoderError",
           "GradientCosineCallback", "GradientCosines", "MultiTaskModel", "RunResult", "TaskSpec", "TrainConfig",
           "Trainer", "UnknownTaskError", "add_alignment", "best_on_dev", "cached_result", "cached_train",
           "covariance_similarity", "get_task", "layerwise_cka", "linear_cka", "load_encoder", "load_task",
           "load_tokenizer", "rbf_cka", "record_claim", "register_task", "repo_path", "save_figure",
           "svd_task_weights", "task_gradient_cosines", "task_table", "train", "verdicts", "write_csv"]
