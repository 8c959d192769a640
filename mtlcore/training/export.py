"""One task of a trained run as a Hugging Face model folder: `python -m mtlcore export`.

    python -m mtlcore export --run runs/x --task radiology/lumbar/disc_bulge --out exported/disc_bulge

The folder holds the encoder and the task's head as one `model.safetensors`, a `config.json` with the class names
(`id2label`), the problem type and the pooling, the tokenizer (its `model_max_length` is the run's `max_length`)
and `hf_modeling.py`, the model class (`mtlcore.training.hf_modeling`). transformers loads it without mtlcore:

    AutoModelForSequenceClassification.from_pretrained("exported/disc_bulge", trust_remote_code=True)

`trust_remote_code` is needed because mtlcore pools the encoder's tokens (a mean by default) where BERT's own
sequence classifier reads its pooler: a stock class would load the weights and give other numbers. Runs with
adapters or Wu et al.'s alignment are refused (their extra modules live in mtlcore's code only). The folder is
built beside `--out` and renamed into place when complete.
"""
from __future__ import annotations

import copy
from pathlib import Path

PROBLEM_TYPES = {"classification": "single_label_classification", "multilabel": "multi_label_classification",
                 "regression": "regression"}


MARKER = "config.json"   # every exported folder has it (what --overwrite may replace)


class ExportError(ValueError):
    """A run or task that cannot be exported (named in the message)."""


def export_task(run: str | Path, task: str, out: str | Path, overwrite: bool = False) -> Path:
    """Write `task` of run folder `run` into the Hugging Face model folder `out`; returns `out`."""
    from .._io import atomic_folder, check_out_folder
    from ..tasks import task_key
    from .config import ConfigError
    from .hf_modeling import PooledSequenceClassifier
    from .predict import _run_models

    out = check_out_folder(out, overwrite, MARKER)   # before the model is loaded
    try:
        max_length, units = _run_models(run, [task])
    except ConfigError as e:   # (the run's tasks named with this command's flag)
        raise ConfigError(str(e).replace("--tasks:", "--task:")) from None
    model, tokenizer, _ = next(iter(units))
    if model.alignment is not None or any(".adapter." in k for k in model.encoder.state_dict()):
        raise ExportError(f"--run {run}: a model with {'alignment' if model.alignment is not None else 'adapters'} "
                          "cannot be exported (those modules exist in mtlcore only); predict with "
                          "`python -m mtlcore predict` instead")
    spec = model.specs[task]
    config = copy.deepcopy(model.encoder.config)
    names = list(spec.label_names) if spec.label_names is not None else [spec.name]
    config.num_labels = spec.num_outputs
    config.id2label = dict(enumerate(names))
    config.label2id = {n: i for i, n in enumerate(names)}
    config.problem_type = PROBLEM_TYPES[spec.kind]
    config.mtlcore_pooling = model.pooling
    config.classifier_dropout = model.dropout.p
    config.mtlcore_task = task
    config.mtlcore_metrics = list(spec.metrics)
    config.mtlcore_text_fields = list(spec.text_fields)
    hf = PooledSequenceClassifier(config)
    head = model.heads[task_key(task)].state_dict()
    hf.encoder.load_state_dict(model.encoder.state_dict())
    hf.classifier.load_state_dict(head)
    hf.eval()
    hf.register_for_auto_class("AutoModelForSequenceClassification")
    with atomic_folder(out, overwrite, marker=MARKER) as partial:
        hf.save_pretrained(partial)
        tokenizer.model_max_length = max_length
        tokenizer.save_pretrained(partial)
    return out
