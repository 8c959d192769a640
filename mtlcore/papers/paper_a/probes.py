"""Paper A's probes of cached runs: layer representations and their CKA (A-F2), the task-gradient cosines that
multi-task runs recorded (A-F3), and the MTL - STL gap of a task group (A-F4).

    feats = representations(family_config(base, "stl", LUMBAR, 0), inputs=LUMBAR[0], task=LUMBAR[1])
    cka = layer_cka(feats, other_feats)                         # (layers+1) x (layers+1) linear CKA
    per_run = run_cosines(gradient_cosines(cfg))                # mean over the records after step 0
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...training.config import TrainConfig
from .families import family_config, pair_config

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

    from ..._io import atomic_save_npy
    from ...reporting.cache import cached_train
    from ...training.encoders import load_tokenizer
    from ...training.models import MultiTaskModel
    from ...tasks import load_task
    from ...training.runs import run_checkpoint

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
    from ...progress import tqdm

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
    from ...analysis.similarity import CKAAccumulator, linear_cka

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
    from ...reporting.cache import cached_train

    if cfg.mode != "mtl" or len(cfg.tasks) < 2 or not cfg.gradient_cosine_every:
        raise ValueError("gradient_cosines: needs a multi-task run (mode 'mtl', >= 2 tasks) with gradient_cosine_every > 0")
    path = cached_train(cfg).folder / "gradient_cosines.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the run recorded no gradient cosines")
    return pd.read_csv(path)


def group_gap(base: TrainConfig, group: Sequence[str], stl_tasks: dict[str, Sequence[str]], seed: int) -> dict[str, float]:
    """Per task of `group` that has a test split: (group MTL - STL) test score in points, same seed. The STL
    model of a task comes from its corpus's STL run (`stl_tasks`: task -> the task list of that run)."""
    from ...reporting.cache import cached_train

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


def group_scores(base: TrainConfig, group: Sequence[str], seed: int) -> dict[str, float]:
    """Per task of `group` that has a test split: the group MTL model's test score in points (for the guard of
    the group models, which A-F4's gaps and cosines come from)."""
    from ...reporting.cache import cached_train

    mtl = cached_train(pair_config(base, group, seed)).metrics.get("test", {}).get("tasks", {})
    return {t: 100 * mtl[t]["score"] for t in group if t in mtl}


def run_cosines(cos: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The records that A-F3 averages (PAPERS.md, amended): step-0 records (random heads) left out. Returns the
    kept records and the fewest kept records of any run (columns `kind`, `corpus`, `run`, `seed` name a run where
    present), which the verdict needs to be at least 8."""
    kept = cos[cos.step > 0]
    run = [c for c in ("kind", "corpus", "run", "seed") if c in kept.columns]
    if kept.empty:
        return kept, 0
    per_run = kept.groupby(run).step.nunique() if run else pd.Series([kept.step.nunique()])
    return kept, int(per_run.min())
