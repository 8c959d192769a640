"""Heads that start from a linear probe: linear probing, then fine-tuning (LP-FT; Kumar et al., ICLR 2022,
"Fine-tuning can distort pretrained features and underperform out-of-distribution").

    z = pool(encoder(x))                    # the pretrained encoder's features, before any training step
    logistic regression on standardised z   # class-weighted like the run's loss, C chosen on dev
    W_t, b_t <- its coefficients, with the standardisation folded in

A random head sends noisy gradients into the encoder for the first steps, and with few steps (a 2-core CPU) the
encoder never recovers: at the cpu profile fine-tuned MiniLM lost to the frozen encoder's probe. Started from the
probe, the run is the probe at step 0 and fine-tuning moves on from there. The probe is fitted on the run's own
training examples and its C chosen on the run's dev examples (as the reference probe of
`mtlcore.training.baselines`), so no test example is read. Classification heads only; regression and multi-label
heads keep their random start.
"""
from __future__ import annotations

import numpy as np
import torch

from . import batching
from ..tasks import task_key


@torch.no_grad()
def pooled_features(model, data: batching.Encoded, task: str, pad_id: int, batch_size: int,
                    device: torch.device) -> np.ndarray:
    """(n, hidden) pooled encoder output of every example of `data` (eval mode, fp32, example order)."""
    was_training = model.training
    model.eval()
    out = np.empty((len(data), model.encoder.config.hidden_size), dtype=np.float64)
    try:
        for index in batching.sequential_batches(len(data), batch_size, data.lengths):
            batch = {k: v.to(device) for k, v in batching.collate(data, index, pad_id).items() if k != "labels"}
            _, pooled = model.encode(**batch, task=task)
            out[index] = pooled.float().cpu().numpy()
    finally:
        model.train(was_training)
    return out


def _fit(spec, x_train: np.ndarray, y_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
         balanced: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """(W (classes, hidden), b (classes,), C): the dev-best logistic regression on standardised features (the
    reference probe's fit, `baselines.logistic_on_dev`), as logits on the raw features (softmax over W x + b gives
    its class probabilities)."""
    from .baselines import logistic_on_dev

    mean, sd = x_train.mean(0), x_train.std(0) + 1e-6
    _, c, clf = logistic_on_dev(spec, (x_train - mean) / sd, y_train, (x_dev - mean) / sd, y_dev, balanced)
    coef, intercept = clf.coef_ / sd, clf.intercept_ - (clf.coef_ * (mean / sd)).sum(1)
    weight, bias = np.zeros((spec.num_outputs, x_train.shape[1])), np.full(spec.num_outputs, -30.0)  # unseen: never
    if len(clf.classes_) == 2:   # one score s for class 1: logits (-s/2, +s/2) give sigmoid(s)
        lo, hi = (int(k) for k in clf.classes_)
        weight[lo], weight[hi] = -coef[0] / 2, coef[0] / 2
        bias[lo], bias[hi] = -intercept[0] / 2, intercept[0] / 2
    else:
        for row, k in enumerate(clf.classes_):
            weight[int(k)], bias[int(k)] = coef[row], intercept[row]
    return weight, bias, c


@torch.no_grad()
def init_heads_from_probe(model, train: dict, dev: dict, pad_id: int, class_weights: str, batch_size: int,
                          device: torch.device, shared: bool = True) -> dict[str, float]:
    """Set every classification head of `model` to the linear probe of its task (see the module docstring).
    train / dev: {task: Encoded}. Tasks with the same input texts share one feature pass. Returns {task: chosen
    C} (a task with one class in its training examples keeps its random head and is left out)."""
    memo: list[tuple[batching.Encoded, np.ndarray]] = []

    def features(data: batching.Encoded, task: str) -> np.ndarray:
        for seen, x in memo if shared else ():
            if seen.input_ids == data.input_ids and seen.token_type_ids == data.token_type_ids:
                return x
        x = pooled_features(model, data, task, pad_id, batch_size, device)
        memo.append((data, x))
        return x

    chosen: dict[str, float] = {}
    for task, data in train.items():
        if data.task.kind != "classification" or len(np.unique(data.labels)) < 2:
            continue
        weight, bias, c = _fit(data.task, features(data, task), np.asarray(data.labels), features(dev[task], task),
                               np.asarray(dev[task].labels), class_weights != "none")
        head = model.heads[task_key(task)]
        head.weight.copy_(torch.as_tensor(weight, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
        chosen[task] = c
    return chosen
