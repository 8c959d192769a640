"""Analyses of tasks and models, free of the training loop: they take arrays, tensors or a model.

- `metrics`: the task metrics (macro-F1, accuracy, MCC, correlations, ROC AUC).
- `similarity`: CKA between layers' representations (Kornblith et al. 2019), exact and minibatched.
- `gradients`: cosines between per-task loss gradients on the shared parameters (Paper A, A-F3).
- `covariance`: Wu, Zhang & Re's covariance similarity score (eq. 5) and SVD task weights (Alg. 2).
"""
from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# imported on first use (`mtlcore._lazy`): `analysis.metrics` alone (task files need it) does not import torch
__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["covariance_similarity", "svd_task_weights", "weights_for"], ".covariance"),
    **dict.fromkeys(["GradientCosines", "task_gradient_cosines"], ".gradients"),
    **dict.fromkeys(["CKAAccumulator", "layerwise_cka", "linear_cka", "rbf_cka"], ".similarity")})

if TYPE_CHECKING:
    from .covariance import covariance_similarity, svd_task_weights, weights_for
    from .gradients import GradientCosines, task_gradient_cosines
    from .similarity import CKAAccumulator, layerwise_cka, linear_cka, rbf_cka

__all__ = ["CKAAccumulator", "GradientCosines", "covariance_similarity", "layerwise_cka", "linear_cka", "rbf_cka",
           "svd_task_weights", "task_gradient_cosines", "weights_for"]
