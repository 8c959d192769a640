"""Paper A experiments: model families side by side, paired differences, and the efficiency of one MTL model.

    scores = family_scores(TrainConfig(max_train=600, epochs=2), LUMBAR, seeds=[0, 1, 2])
    diffs = paired_differences(scores, "mtl", "stl")          # seeds x tasks, test macro-F1 points
    eff = efficiency(LUMBAR, encoder="minilm-l6", n_texts=256)
    feats = representations(family_config(base, "stl", LUMBAR, 0), inputs=LUMBAR[0], task=LUMBAR[1])
    cka = layer_cka(feats, other_feats)                         # (layers+1) x (layers+1) linear CKA

Families (same encoder, same data, same epochs and learning rate per model):
- `stl`: one fine-tuned encoder + head per task;
- `stl+adapters`: frozen encoder, a bottleneck adapter set (Houlsby et al. 2019) and a head per task;
- `mtl`: one shared encoder, a head per task, one encoder pass per report for tasks sharing inputs;
- `mtl+adapters`: frozen encoder, one adapter set shared by all tasks, a head per task.
Every training goes through the cache (`mtlcore.reporting.cache.cached_train`), so a re-run costs nothing; the
notebooks build their configs with `base_config` and `family_config` / `pair_config`, so the same model is
trained once and shared (A-T1's STL and MTL models are the ones A-F2 compares and A-F3 tracks). The STL
and MTL families keep checkpoints (CKA needs them); adapter families and task-pair runs keep none.
Model and epoch are selected on dev; the scores compared are on test.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd

from ..training.config import TrainConfig

FAMILIES: dict[str, dict] = {
    "stl": {"mode": "stl"},
    "stl+adapters": {"mode": "stl", "adapter": "bottleneck"},
    "mtl": {"mode": "mtl"},
    "mtl+adapters": {"mode": "mtl", "adapter": "bottleneck"},
}


CHECKPOINTED = ("stl", "mtl")  # families whose models A-F2 compares


def base_config(train: dict, gradient_every: int = 0) -> TrainConfig:
    """The config every Paper A notebook starts from: the profile's `train` fields, with task-gradient cosines
    recorded every `gradient_every` steps of multi-task runs (0 = off; a single-task run records nothing).
    Training progress bars are off (the notebooks show one bar over their trainings instead)."""
    return TrainConfig.from_dict({**train, "gradient_cosine_every": gradient_every, "progress": False},
                                 source="train parameters")


def family_config(base: TrainConfig, family: str, tasks: Sequence[str], seed: int) -> TrainConfig:
    """`base` with the family's fields, the tasks and the seed. Adapters train at `adapter_lr`; the families
    without adapters drop it (unused there), so their configs, and cache keys, do not depend on it."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}")
    fields = FAMILIES[family]
    adapter_lr = base.adapter_lr if fields.get("adapter") else None
    return base.replace(tasks=list(tasks), seed=seed, save_checkpoint=family in CHECKPOINTED, adapter_lr=adapter_lr,
                        **fields)


def pair_config(base: TrainConfig, tasks: Sequence[str], seed: int) -> TrainConfig:
    """One MTL model for a task group (A-F3 contrast pairs, A-F4 groups): no checkpoint kept."""
    if len(tasks) < 2 or len(set(tasks)) != len(tasks):
        raise ValueError(f"a task group needs >= 2 distinct tasks, got {list(tasks)}")
    return base.replace(tasks=list(tasks), seed=seed, mode="mtl", save_checkpoint=False, adapter_lr=None)


def family_scores(base: TrainConfig, tasks: Sequence[str], seeds: Sequence[int],
                  families: Sequence[str] = tuple(FAMILIES), progress: bool = True) -> pd.DataFrame:
    """Long table: family, seed, task, dev and test score (the task's metric, e.g. macro-F1), parameters
    (total and trainable, summed over a family's models) and training seconds (without diagnostics)."""
    from tqdm.auto import tqdm

    from ..reporting.cache import cached_train

    rows = []
    runs = [(f, s) for f in families for s in seeds]
    for family, seed in tqdm(runs, desc="trainings", disable=not progress):
        cfg = family_config(base, family, tasks, seed)
        result = cached_train(cfg)
        m = result.metrics
        if "test" not in m:
            raise ValueError(f"tasks {list(tasks)} have no test split; Paper A tables report test scores")
        timing = _timing(result.folder)
        for task in tasks:
            rows.append({"family": family, "seed": seed, "task": task, "dev": m["tasks"][task]["score"],
                         "test": m["test"]["tasks"][task]["score"], "parameters": m["parameters"],
                         "trainable": m.get("trainable_parameters", m["parameters"]),
                         # training time without the diagnostics (gradient cosines) recorded during it
                         "train_seconds": timing.get("train_seconds", float("nan")) - timing.get("diagnostic_seconds", 0)})
    return pd.DataFrame(rows)


def _timing(folder) -> dict:
    import json

    path = None if folder is None else folder / "timing.json"
    return json.loads(path.read_text()) if path is not None and path.is_file() else {}


def paired_differences(scores: pd.DataFrame, a: str, b: str, split: str = "test") -> pd.DataFrame:
    """(seeds x tasks) `a` - `b` in points (x100), paired by seed and task."""
    wide = scores.pivot_table(index=["seed", "task"], columns="family", values=split)
    missing = [f for f in (a, b) if f not in wide.columns]
    if missing:
        raise ValueError(f"no scores for famil{'y' if len(missing) == 1 else 'ies'} {missing}")
    return (100 * (wide[a] - wide[b])).unstack("task")


def summary_table(scores: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per task and family: mean and standard deviation over seeds of the score, in points."""
    g = scores.assign(points=100 * scores[split]).groupby(["task", "family"]).points
    return g.agg(["mean", "std", "count"]).round(2).unstack("family")


def efficiency(tasks: Sequence[str], encoder: str = "minilm-l6", n_texts: int = 256, batch_size: int = 64,
               max_length: int = 128, repeats: int = 3) -> dict:
    """One MTL model with k heads vs k STL models on the same reports: parameters and inference throughput.

    The k STL models are timed as k passes of a same-size single-head model over the texts (each STL model
    costs exactly that), the MTL model as one `predict` pass for all k heads; medians of `repeats`
    alternating rounds. Models are freshly built: timing does not depend on the weights."""
    import statistics

    import torch

    from ..training.models import MultiTaskModel, count_parameters
    from ..tasks import load_task
    from ..training.trainer import build_model

    k = len(tasks)
    cfg = TrainConfig(tasks=list(tasks), encoder=encoder, device="cpu", progress=False, max_length=max_length)
    mtl, tok = build_model(cfg, tasks)
    stl = MultiTaskModel(mtl.encoder, tasks[:1], mtl.pooling, mtl.dropout.p)
    texts = [t[0] for t in load_task(tasks[0])["test"].texts][:n_texts]
    mtl.eval(), stl.eval()
    mtl.predict(tok, texts[:batch_size], batch_size=batch_size, max_length=max_length)  # warm-up
    one, many = [], []
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            mtl.predict(tok, texts, batch_size=batch_size, max_length=max_length)
            one.append(len(texts) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(k):
                stl.predict(tok, texts, batch_size=batch_size, max_length=max_length)
            many.append(len(texts) / (time.perf_counter() - t0))
    mtl_params, stl_params = count_parameters(mtl), k * count_parameters(stl)
    return {"k": k, "texts": len(texts), "threads": torch.get_num_threads(),
            "mtl_parameters": mtl_params, "stl_parameters_total": stl_params,
            "parameter_ratio": mtl_params / stl_params,
            "mtl_examples_per_second": statistics.median(one), "k_stl_examples_per_second": statistics.median(many),
            "throughput_ratio": statistics.median(one) / statistics.median(many)}


# -- representations and gradients of cached runs (A-F2, A-F3, A-F4) ------------------------------------


def layer_names(n_layers: int) -> list[str]:
    """Names of the `n_layers` hidden states: the embedding output, then layer_1 .. layer_{n-1}."""
    return ["embeddings"] + [f"layer_{i}" for i in range(1, n_layers)]


def representations(cfg: TrainConfig, inputs: str, task: str | None = None, split: str = "test",
                    batch_size: int = 64) -> np.ndarray:
    """(layers + 1, n, hidden) mean-pooled hidden states of a cached run's model on the `split` texts of task
    `inputs`: the STL model of `task` (cfg.mode "stl") or the MTL model (cfg.mode "mtl", task None).

    Trains the run if the cache lacks it (it must keep checkpoints). The array is stored beside the checkpoint,
    keyed by the texts, split and max_length, so every notebook asking again reads it."""
    import hashlib
    import json

    from .._io import atomic_save_npy
    from ..reporting.cache import cached_train
    from ..training.encoders import load_tokenizer
    from ..training.models import MultiTaskModel
    from ..tasks import load_task
    from ..training.runs import run_checkpoint

    if not cfg.save_checkpoint:
        raise ValueError("representations: the run must keep its checkpoint (save_checkpoint=True)")
    if (cfg.mode == "stl") != (task is not None):
        raise ValueError(f"representations: give `task` for an STL run and none for an MTL run (mode {cfg.mode!r})")
    if task is not None and task not in cfg.tasks:
        raise ValueError(f"representations: task {task!r} is not one of the run's tasks {cfg.tasks}")
    splits = load_task(inputs)
    if split not in splits:
        raise ValueError(f"representations: task {inputs!r} has no {split!r} split (has {sorted(splits)})")
    texts = list(splits[split].texts)
    folder = cached_train(cfg).folder
    checkpoint = run_checkpoint(folder, task)
    digest = hashlib.sha256(json.dumps([inputs, split, cfg.max_length, texts]).encode()).hexdigest()[:20]
    path = checkpoint.parent / "representations" / f"{digest}.npy"
    if path.is_file():
        return np.load(path)
    model = MultiTaskModel.load(checkpoint)
    feats = model.layer_features(load_tokenizer(cfg.encoder), texts, batch_size, cfg.max_length)
    atomic_save_npy(path, feats)
    return feats


def corpus_features(base: TrainConfig, corpora: dict[str, Sequence[str]], contrast_tasks: Sequence[str],
                    seeds: Sequence[int], mtl: bool = True, progress: bool = True) -> dict[tuple[str, int, str], np.ndarray]:
    """Representations on each corpus's test reports (the inputs its tasks share; the first task's test texts),
    keyed (model, seed, corpus): model = a task (its STL model: the corpus's STL run, or the STL run of
    `contrast_tasks`) or "mtl" (the corpus's MTL model, with `mtl`). Every run is the cached A-T1 family run."""
    from tqdm.auto import tqdm

    feats = {}
    for corpus, seed in tqdm([(c, s) for c in corpora for s in seeds], desc="representations", disable=not progress):
        tasks = list(corpora[corpus])
        for t in tasks:
            feats[t, seed, corpus] = representations(family_config(base, "stl", tasks, seed), tasks[0], task=t)
        for u in contrast_tasks:
            feats[u, seed, corpus] = representations(family_config(base, "stl", contrast_tasks, seed), tasks[0], task=u)
        if mtl:
            feats["mtl", seed, corpus] = representations(family_config(base, "mtl", tasks, seed), tasks[0])
    return feats


def layer_cka(a: np.ndarray, b: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """Linear CKA between every layer of `a` and every layer of `b` ((layers, n, hidden) each, same n inputs,
    exact over all n): a (La x Lb) matrix, or with `diagonal` the layer-matched vector (La == Lb)."""
    from ..analysis.similarity import CKAAccumulator, linear_cka

    if a.ndim != 3 or b.ndim != 3 or a.shape[1] != b.shape[1]:
        raise ValueError(f"layer_cka: need (layers, n, hidden) arrays over the same n inputs, got {a.shape}, {b.shape}")
    if diagonal:
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"layer_cka(diagonal=True): layer counts differ ({a.shape[0]} vs {b.shape[0]})")
        return np.array([linear_cka(x, y) for x, y in zip(a, b)])
    acc = CKAAccumulator()
    acc.update(list(a), list(b))
    return acc.result()


def gradient_cosines(cfg: TrainConfig) -> pd.DataFrame:
    """The task-gradient cosines a cached multi-task run recorded (`gradient_cosine_every` > 0): columns step,
    layer ('overall', 'embeddings', 'layer_<i>'), task_i, task_j, cosine."""
    from ..reporting.cache import cached_train

    if cfg.mode != "mtl" or len(cfg.tasks) < 2 or not cfg.gradient_cosine_every:
        raise ValueError("gradient_cosines: needs a multi-task run (mode 'mtl', >= 2 tasks) with gradient_cosine_every > 0")
    path = cached_train(cfg).folder / "gradient_cosines.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the run recorded no gradient cosines")
    return pd.read_csv(path)


def group_gap(base: TrainConfig, group: Sequence[str], stl_tasks: dict[str, Sequence[str]], seed: int) -> dict[str, float]:
    """Per task of `group` that has a test split: (group MTL - STL) test score in points, same seed. The STL
    model of a task comes from its corpus's STL run (`stl_tasks`: task -> the task list of that run)."""
    from ..reporting.cache import cached_train

    mtl = cached_train(pair_config(base, group, seed)).metrics.get("test", {}).get("tasks", {})
    out = {}
    for task in group:
        if task not in mtl:
            continue
        if task not in stl_tasks:
            raise ValueError(f"group_gap: no STL run given for task {task!r}")
        stl = cached_train(family_config(base, "stl", stl_tasks[task], seed)).metrics["test"]["tasks"][task]
        out[task] = 100 * (mtl[task]["score"] - stl["score"])
    if not out:
        raise ValueError(f"group_gap: no task of {list(group)} has a test split")
    return out
