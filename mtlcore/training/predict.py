"""A trained run used on texts: `python -m mtlcore predict` (new texts) and `evaluate` (a task's labelled split).

    python -m mtlcore predict --run runs/x --input reports.csv --out predictions.csv
    python -m mtlcore predict --run runs/x --input notes.jsonl --text-column report --out predictions.jsonl
    python -m mtlcore evaluate --run runs/x --split test --out runs/x/eval_test

The run folder's `config.yaml` says which tasks it trained and how (MTL: one model in `<run>/checkpoint`; STL:
one per task in `<run>/stl/<task>/checkpoint`), its tokenizer is in the checkpoint and its `max_length` is the
run's. The input is CSV or JSONL (by extension; `-` reads standard input, JSONL when it starts with `{`); each
task reads its own text columns (the task's `text_fields`, e.g. `sentence` or `report`), or `--text-column`
for one-text tasks. The output keeps the input's columns and adds, per task:

- classification: `<task>` (the class name) and `<task>:p(<class>)` (softmax probabilities);
- multi-label: `<task>:<label>` (0/1 at probability 0.5) and `<task>:p(<label>)` (sigmoid);
- regression: `<task>` (the score).

`evaluate` scores the run's models on a split of their tasks (`--tasks` a subset of the run's tasks, or a task
file to register first, e.g. on a machine where the run's own file path does not exist) with each task's metrics,
and writes into `--out`: `metrics.json`, per classification task `<task>_confusion.csv` (gold rows, predicted
columns) and per task `<task>_predictions.csv` (each example's texts, gold label and the predict columns).

Bad input (a missing column, an empty text, an unknown task, a run without its checkpoint) is an error naming
the file and line or argument, before anything is written; the outputs are written atomically.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._io import atomic_write_csv, atomic_write_text, load_yaml
from .config import ConfigError, TrainConfig
from .runs import run_checkpoint


class PredictInputError(ValueError):
    """The input file cannot be predicted on; the message names the file, line or column."""


def read_input(path: str) -> tuple[pd.DataFrame, str, int]:
    """(rows as strings, the name to show in messages, the line number of row 0: 2 for CSV, 1 for JSONL)."""
    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
        jsonl = text.lstrip().startswith("{")
        source = io.StringIO(text)
    else:
        p = Path(path)
        if not p.is_file():
            raise PredictInputError(f"--input {path}: no such file")
        name, jsonl, source = str(p), p.suffix.lower() in (".jsonl", ".ndjson", ".json"), p
    try:
        frame = (pd.read_json(source, lines=True, dtype=False) if jsonl else
                 pd.read_csv(source, dtype=str, keep_default_na=False))
    except ValueError as e:   # pandas' parser errors (ParserError, JSON errors) are ValueErrors
        raise PredictInputError(f"{name}: not valid {'JSONL' if jsonl else 'CSV'}: {str(e).splitlines()[0]}") from None
    if frame.empty:
        raise PredictInputError(f"{name}: no rows to predict")
    return frame, name, 1 if jsonl else 2


def _texts(frame: pd.DataFrame, columns: Sequence[str], name: str, first_line: int, task: str) -> list:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PredictInputError(f"{name}: task {task} reads column(s) {missing}, not in the input (columns: "
                                f"{list(frame.columns)}); name the text column with --text-column")
    rows = []
    for i, values in enumerate(frame[list(columns)].itertuples(index=False)):
        texts = tuple("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values)
        if not all(t.strip() for t in texts):
            raise PredictInputError(f"{name}:{i + first_line}: empty text in column(s) {list(columns)}")
        rows.append(texts)
    return rows


def _columns(spec, out: np.ndarray) -> dict[str, np.ndarray]:
    """Output columns of one task from its raw head outputs `out`."""
    import torch

    t = spec.name
    if spec.kind == "regression":
        return {t: out.reshape(-1)}
    if spec.kind == "classification":
        p = torch.softmax(torch.from_numpy(out).double(), -1).numpy()
        names = np.asarray(spec.label_names)
        return {t: names[p.argmax(1)], **{f"{t}:p({c})": p[:, j] for j, c in enumerate(spec.label_names)}}
    p = torch.sigmoid(torch.from_numpy(out).double()).numpy()   # multi-label
    cols = {f"{t}:{c}": (p[:, j] >= 0.5).astype(int) for j, c in enumerate(spec.label_names)}
    return {**cols, **{f"{t}:p({c})": p[:, j] for j, c in enumerate(spec.label_names)}}


def _run_models(run: str | Path, tasks: Sequence[str] | None):
    """(max_length, [(model, tokenizer, its chosen tasks)]) of a run folder: one MTL model or each STL task's."""
    from .models import MultiTaskModel
    from .encoders import load_tokenizer

    run = Path(run)
    if not (run / "config.yaml").is_file():
        raise FileNotFoundError(f"--run {run}: not a run folder (no config.yaml)")
    # the run's own record, read as it is (building a TrainConfig would register its task files, which a moved
    # run folder may not have beside it: the checkpoints carry their tasks' specs)
    saved = load_yaml((run / "config.yaml").read_text(), run / "config.yaml") or {}
    defaults = TrainConfig.__dataclass_fields__
    mode, max_length = (saved.get(k, defaults[k].default) for k in ("mode", "max_length"))
    trained = list(saved.get("tasks") or [])
    chosen = list(tasks) if tasks else trained
    unknown = [t for t in chosen if t not in trained]
    if unknown:
        raise ConfigError(f"--tasks: {unknown} not trained in {run} (its tasks: {trained})")
    units = [(None, chosen)] if mode == "mtl" else [(t, [t]) for t in chosen]
    checkpoints = [(run_checkpoint(run, sub), names) for sub, names in units]
    for checkpoint, _ in checkpoints:   # all present before any model is loaded
        if not (checkpoint / "model.json").is_file():
            raise FileNotFoundError(f"--run {run}: no checkpoint at {checkpoint} (trained with --no-save-checkpoint?)")
    return int(max_length), ((MultiTaskModel.load(c), load_tokenizer(str(c / "encoder")), names)
                             for c, names in checkpoints)


def predict_run(run: str | Path, frame: pd.DataFrame, name: str = "input", first_line: int = 2,
                tasks: Sequence[str] | None = None, text_column: str | None = None, batch_size: int = 64,
                progress: bool = True) -> pd.DataFrame:
    """`frame` with each task's prediction columns added (see the module docstring)."""
    max_length, models = _run_models(run, tasks)
    result = frame.copy()
    for model, tokenizer, names in models:
        by_columns: dict[tuple, list[str]] = {}
        for t in names:   # tasks reading the same columns share one encoder pass per batch
            fields = model.specs[t].text_fields
            if text_column is not None:
                if len(fields) != 1:
                    raise ConfigError(f"--text-column: task {t} reads {len(fields)} texts ({list(fields)})")
                fields = (text_column,)
            by_columns.setdefault(tuple(fields), []).append(t)
        for fields, group in by_columns.items():
            texts = _texts(frame, fields, name, first_line, group[0])
            out = model.predict(tokenizer, texts, group, batch_size=batch_size, max_length=max_length,
                                progress=progress)
            for t in group:
                for col, values in _columns(model.specs[t], out[t]).items():
                    result[col] = values
    return result


def write_predictions(frame: pd.DataFrame, out: str) -> None:
    """CSV, or JSONL for a .jsonl name; `-` prints CSV. Atomic: a failed write leaves no half file."""
    if out == "-":
        frame.to_csv(sys.stdout, index=False)
    elif Path(out).suffix.lower() in (".jsonl", ".ndjson"):
        import json

        records = frame.astype(object).where(frame.notna(), None).to_dict("records")   # NaN -> null
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
    else:
        atomic_write_csv(out, frame)


def evaluate_run(run: str | Path, tasks: Sequence[str] | None = None, split: str = "test", max_eval: int | None = None,
                 batch_size: int = 64, progress: bool = True) -> tuple[dict, dict[str, pd.DataFrame],
                                                                        dict[str, pd.DataFrame]]:
    """({task: {metric: value, "score": mean, "n": examples}}, {task: confusion table}, {task: per-example table})
    of the run's models on `split` of their tasks (the first `max_eval` examples, or all)."""
    from sklearn.metrics import confusion_matrix

    from ..analysis.metrics import task_metrics, task_score
    from ..tasks.registry import data_root

    max_length, models = _run_models(run, tasks)
    metrics, confusions, examples = {}, {}, {}
    for model, tokenizer, names in models:
        data = {}
        for t in names:
            splits = model.specs[t].loader(data_root())
            if split not in splits:
                raise ConfigError(f"--split {split}: task {t} has the splits {sorted(splits)}")
            data[t] = splits[split]
        outputs: dict[str, np.ndarray] = {}
        groups: dict[tuple, list[str]] = {}   # tasks with the same texts (an input group): one encoder pass
        for t in names:
            groups.setdefault(tuple(data[t].texts[:max_eval]), []).append(t)
        for texts, group in groups.items():
            outputs.update(model.predict(tokenizer, list(texts), group, batch_size=batch_size, max_length=max_length,
                                         progress=progress))
        for t in names:
            spec, out = model.specs[t], outputs[t]
            n = len(out)
            labels = data[t].labels[:n]
            values = task_metrics(spec.kind, spec.metrics, labels, out)
            metrics[t] = {**values, "score": task_score(values, spec.metrics), "n": n}
            table = pd.DataFrame({f: [x[i] for x in data[t].texts[:n]] for i, f in enumerate(spec.text_fields)})
            if spec.kind == "classification":
                table["gold"] = np.asarray(spec.label_names)[labels]
                cm = confusion_matrix(labels, out.argmax(1), labels=range(len(spec.label_names)))
                confusions[t] = pd.DataFrame(cm, index=pd.Index(spec.label_names, name="gold"),
                                             columns=spec.label_names).reset_index()
            elif spec.kind == "multilabel":
                for j, c in enumerate(spec.label_names):
                    table[f"gold:{c}"] = labels[:, j].astype(int)
            else:
                table["gold"] = labels
            for col, values_ in _columns(spec, out).items():
                table[col] = values_
            examples[t] = table
    return metrics, confusions, examples


def write_evaluation(out: str | Path, metrics: dict, confusions: dict, examples: dict) -> Path:
    """The files of `evaluate_run`'s results in folder `out` (each written atomically)."""
    from .._io import atomic_write_json
    from ..tasks import task_key

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for t, table in confusions.items():
        atomic_write_csv(out / f"{task_key(t)}_confusion.csv", table)
    for t, table in examples.items():
        atomic_write_csv(out / f"{task_key(t)}_predictions.csv", table)
    atomic_write_json(out / "metrics.json", metrics)   # last: its presence marks a complete evaluation
    return out
