"""Wu, Zhang & Ré's Alg. 1 on GLUE task sets with the transformer encoder (B-F5a).

    base = TrainConfig(encoder="minilm-l6", max_train=200, epochs=2)
    without = alg1(base, ("glue/cola", "glue/rte"), seed=0, phase2_epochs=1, aligned=False)
    with_r = alg1(base, ("glue/cola", "glue/rte"), seed=0, phase2_epochs=1, aligned=True)

Alg. 1's schedule: phase 1 trains one MTL model (shared encoder + a head per task) on the task set; phase 2
fixes the encoder and trains, from the phase-1 model and its heads, the per-task alignment matrices R_i
(identity at init, on the embedding layer's output) with the heads ("with"), or the heads alone ("without",
the same epochs, optimiser and learning rate `phase2_lr`, 1e-3 by default: at the encoder's fine-tuning rate
R would hardly move in a short phase 2). Both arms share the phase-1 run (one cached training).

GLUE's test labels are not public, so each task runs as its held-out variant (`heldout`): training on 90% of
the task's train split, epoch selection on the other 10% (stratified, seed `SPLIT_SEED`), numbers on the official
dev set. QNLI's official train set is not available offline: its variant splits the registry's train part of the
official dev set the same way and reports on the registry's held-out tenth of it.
"""
from __future__ import annotations

import torch

from ..._io import resolve_device
from ...training.config import TrainConfig
from ...tasks import TaskSpec, get_task, load_task, register_task
from ...tasks.registry import SPLIT_SEED, TASKS, dev_as_test

GLUE_FIVE = ("glue/cola", "glue/mrpc", "glue/qnli", "glue/rte", "glue/sst2")
PREFIX = "glue-heldout/"
CODE = ("papers.wu2020.glue_alignment",)   # phase 2: this module and what it imports (`code_version`)


def heldout(task: str) -> str:
    """The held-out variant of `task` (module docstring), registered on first use; returns its name."""
    name = PREFIX + task.split("/", 1)[-1]
    if name in TASKS:
        return name
    spec = get_task(task)

    def load(root, task=task):
        return dev_as_test(load_task(task, root))

    register_task(TaskSpec(name, spec.kind, spec.text_fields, spec.metrics, spec.label_names, load,
                           f"{spec.description} (held-out dev for selection, official dev as test)",
                           f"90/10 stratified split of {task}'s train (seed {SPLIT_SEED}) as train/dev; {task}'s dev "
                           "as test"))
    return name


def device_type(cfg: TrainConfig) -> str:
    return resolve_device(cfg.device).type


def phase1_config(base: TrainConfig, tasks, seed: int) -> TrainConfig:
    """The MTL run of phase 1 on the held-out variants of `tasks`."""
    return base.replace(tasks=[heldout(t) for t in tasks], mode="mtl", seed=seed, save_checkpoint=True,
                        alignment=False, freeze_encoder=False, progress=False)


def _phase2(p1: TrainConfig, phase2_epochs: int, aligned: bool, phase2_lr: float) -> dict:
    from ...reporting.cache import cached_train
    from ...training.encoders import load_tokenizer
    from ...training.models import MultiTaskModel
    from ...training.batching import prepare_split
    from ...training.runs import run_checkpoint
    from ...training.trainer import Trainer
    from ...training.alignment import add_alignment
    from ..._io import set_seed

    first = cached_train(p1)
    cfg = p1.replace(epochs=phase2_epochs, freeze_encoder=True, alignment=aligned, lr=phase2_lr, alignment_lr=None,
                     save_checkpoint=False)
    set_seed(cfg.seed)
    model = MultiTaskModel.load(run_checkpoint(first.folder))
    if aligned:
        add_alignment(model)
    tokenizer = load_tokenizer(cfg.encoder)
    data = {split: prepare_split(cfg, tokenizer, split) for split in ("train", "dev", "test")}
    trainer = Trainer(cfg, model, data["train"], data["dev"], pad_id=tokenizer.pad_token_id or 0, test=data["test"])
    metrics = trainer.fit()
    moved = {} if model.alignment is None else {
        k: float(torch.linalg.norm(R.detach() - torch.eye(R.shape[0]))) for k, R in model.alignment.R.items()}
    return {"phase1": first.metrics, "phase2": metrics, "R_minus_I": moved}


def alg1(base: TrainConfig, tasks, seed: int, phase2_epochs: int, aligned: bool, phase2_lr: float = 1e-3) -> dict:
    """Phase 1 (cached MTL run) and phase 2 of one arm, through the result cache. Phase 2 trains at `phase2_lr`
    in both arms (heads, and R with alignment; the encoder is fixed). Returns {"phase1": metrics, "phase2":
    metrics, "R_minus_I": {task: ||R - I||_F}, "test": {task: GLUE score on the official dev set}, "average"}."""
    if phase2_epochs < 1 or not phase2_lr > 0:
        raise ValueError(f"alg1: phase2_epochs must be >= 1 and phase2_lr > 0, got {phase2_epochs}, {phase2_lr}")
    from ...reporting.cache import cached_result

    p1 = phase1_config(base, tasks, seed)
    params = {"phase1": {k: v for k, v in p1.to_dict().items() if k not in ("progress", "device")},
              "phase2_epochs": phase2_epochs, "phase2_lr": phase2_lr, "aligned": aligned, "device": device_type(p1)}
    out = cached_result("glue_alg1", params, lambda: _phase2(p1, phase2_epochs, aligned, phase2_lr), tasks=p1.tasks,
                        encoder=p1.encoder, code=CODE)
    scores = {t: out["phase2"]["test"]["tasks"][heldout(t)]["score"] for t in tasks}
    return {**out, "test": scores, "average": sum(scores.values()) / len(scores)}
