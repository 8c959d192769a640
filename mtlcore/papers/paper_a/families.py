"""Paper A experiments: model families side by side, paired differences, and the efficiency of one MTL model.

    scores = family_scores(TrainConfig(max_train=600, epochs=2), LUMBAR, seeds=[0, 1, 2])
    diffs = paired_differences(scores, "mtl", "stl")          # seeds x tasks, test macro-F1 points
    eff = efficiency(LUMBAR, encoder="minilm-l6", n_texts=256)
    refs = reference_rows(base, LUMBAR)                         # majority floor, TF-IDF, frozen-encoder probe
    guards = family_guards(scores, refs, "lumbar")              # PAPERS.md's learned-model guard per family

Families (same encoder, same data, same epochs and learning rates per model, except where a profile gives a
family its own TrainConfig fields, `family_train`: the cpu profile's adapter families train their heads at a
learning rate chosen for them on dev):
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
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...training.config import TrainConfig

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


def family_config(base: TrainConfig, family: str, tasks: Sequence[str], seed: int,
                  family_train: Mapping[str, Mapping[str, Any]] | None = None) -> TrainConfig:
    """`base` with the family's fields, the tasks and the seed, then `family_train[family]` (TrainConfig fields
    this family alone gets, e.g. {"stl+adapters": {"head_lr": 1e-3}}). Adapters train at `adapter_lr`; the families
    without adapters drop it (unused there), so their configs, and cache keys, do not depend on it."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}")
    unknown = sorted(set(family_train or {}) - set(FAMILIES))
    if unknown:
        raise ValueError(f"family_train: unknown famil{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                         f"known: {sorted(FAMILIES)}")
    own = dict((family_train or {}).get(family) or {})
    clash = sorted(set(own) & {"tasks", "seed", "mode", "adapter"})   # what FAMILIES and the arguments set
    if clash:
        raise ValueError(f"family_train[{family!r}]: {clash} are set by the family, the tasks and the seed")
    fields = FAMILIES[family]
    adapter_lr = base.adapter_lr if fields.get("adapter") else None
    cfg = base.replace(tasks=list(tasks), seed=seed, save_checkpoint=family in CHECKPOINTED, adapter_lr=adapter_lr,
                       **fields)
    if not own:
        return cfg
    return TrainConfig.from_dict({**cfg.to_dict(), **own}, source=f"family_train[{family!r}]")


def pair_config(base: TrainConfig, tasks: Sequence[str], seed: int) -> TrainConfig:
    """One MTL model for a task group (A-F3 contrast pairs, A-F4 groups): no checkpoint kept."""
    if len(tasks) < 2 or len(set(tasks)) != len(tasks):
        raise ValueError(f"a task group needs >= 2 distinct tasks, got {list(tasks)}")
    return base.replace(tasks=list(tasks), seed=seed, mode="mtl", save_checkpoint=False, adapter_lr=None)


def family_scores(base: TrainConfig, tasks: Sequence[str], seeds: Sequence[int],
                  families: Sequence[str] = tuple(FAMILIES), progress: bool = True,
                  family_train: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Long table: family, seed, task, dev and test score (the task's metric, e.g. macro-F1), parameters
    (total and trainable, summed over a family's models), training seconds without the diagnostics recorded
    during training (gradient cosines: `train_seconds`, the efficiency table's) and with them (`run_seconds`, what
    the run cost). `family_train`: per-family TrainConfig fields (`family_config`)."""
    from ...progress import tqdm

    from ...reporting.cache import cached_train, run_seconds

    rows = []
    runs = [(f, s) for f in families for s in seeds]
    for family, seed in tqdm(runs, desc="trainings", disable=not progress):
        cfg = family_config(base, family, tasks, seed, family_train)
        result = cached_train(cfg)
        m = result.metrics
        if "test" not in m:
            raise ValueError(f"tasks {list(tasks)} have no test split; Paper A tables report test scores")
        seconds, with_diagnostics = (run_seconds(result.folder, d, float("nan")) for d in (False, True))
        for task in tasks:
            rows.append({"family": family, "seed": seed, "task": task, "dev": m["tasks"][task]["score"],
                         "test": m["test"]["tasks"][task]["score"], "parameters": m["parameters"],
                         "trainable": m.get("trainable_parameters", m["parameters"]),
                         # training time without the diagnostics (gradient cosines) recorded during it
                         "train_seconds": seconds, "run_seconds": with_diagnostics})
    return pd.DataFrame(rows)


def seconds_per_seed(scores: pd.DataFrame) -> dict[str, float]:
    """Per family of a `family_scores` table: the training seconds of one seed (the family's run over all its
    tasks, with the diagnostics it records), mean over seeds: what one more seed costs at this profile (verdicts'
    cost of settling an interval)."""
    runs = scores.drop_duplicates(["family", "seed"])
    return {f: float(v) for f, v in runs.groupby("family").run_seconds.mean().items()}


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

    from ...training.models import MultiTaskModel, count_parameters
    from ...tasks import load_task
    from ...training.trainer import build_model

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


def cached_references(base: TrainConfig, task: str, which: Sequence[str] = ("majority", "tfidf", "probe")) -> dict:
    """`training.baselines.reference_scores` of `task` on the examples `base` trains and scores on, through the
    result cache (one entry per task, sizes and set of references)."""
    from ...reporting.cache import cached_result
    from ...training.baselines import REFERENCES, reference_scores

    which = list(which)
    params = {"task": task, "max_train": base.max_train, "max_eval": base.max_eval, "encoder": base.encoder,
              "max_length": base.max_length, **({} if sorted(which) == sorted(REFERENCES) else {"which": which})}
    return cached_result("reference_rows", params, lambda: reference_scores(
        task, base.max_train, base.encoder, base.max_length, which=which, max_eval=base.max_eval), tasks=[task],
        encoder=base.encoder if "probe" in which else None, code=("training.baselines",))


def reference_rows(base: TrainConfig, tasks: Sequence[str], progress: bool = True) -> pd.DataFrame:
    """Long table (family = the reference's name, task, dev, test, C) of the reference rows of
    `mtlcore.training.baselines` on the examples the families see (`base.max_train`, `base.max_eval`), cached."""
    from ...progress import tqdm

    rows = []
    for task in tqdm(tasks, desc="reference rows", disable=not progress):
        scores = cached_references(base, task)
        rows += [{"family": ref, "task": task, "dev": v["dev"], "test": v["test"], "C": v.get("C")}
                 for ref, v in scores.items()]
    return pd.DataFrame(rows)


def family_guards(scores: pd.DataFrame, references: pd.DataFrame, corpus: str) -> list:
    """PAPERS.md's learned-model guard of every family in `scores` (family, task, test; one corpus), against the
    majority floor and the TF-IDF reference of `references` (`reference_rows`) on the same tasks, in points."""
    from ...reporting import verdicts

    tasks = sorted(scores.task.unique())
    ref = references.set_index(["family", "task"]).test
    floor = {t: 100 * ref["majority", t] for t in tasks}
    tfidf = {t: 100 * ref["tfidf", t] for t in tasks}
    means = (100 * scores.groupby(["family", "task"]).test.mean())
    return [verdicts.guard(f, corpus, {t: means[f, t] for t in tasks}, floor, tfidf)
            for f in scores.family.unique()]


def corpus_guards(base: TrainConfig, corpora: dict[str, Sequence[str]], seeds: Sequence[int],
                  families: dict[str, Sequence[str]] | Sequence[str] = ("stl", "mtl"), progress: bool = False) -> list:
    """The learned-model guards of `families` (the same for every corpus, or {corpus: families}) on each corpus,
    from the cached family runs and reference rows (a notebook that compares these models calls this)."""
    out = []
    for corpus, tasks in corpora.items():
        fams = families[corpus] if isinstance(families, dict) else families
        scores = family_scores(base, tasks, seeds, fams, progress=progress)
        out += family_guards(scores, reference_rows(base, tasks, progress=progress), corpus)
    return out


def dev_guard(base: TrainConfig, family: str, corpus: str, runs: dict[str, Sequence[TrainConfig]]) -> object:
    """The learned-model guard ON DEV of tasks without a test split (the GLUE/SentEval contrast tasks): per task,
    the mean dev score of its `runs` (cached configs that trained it) against the majority floor and TF-IDF on
    the same dev examples (dev also selected the models' epoch and TF-IDF's C, so all three lean the same way)."""
    from ...reporting import verdicts
    from ...reporting.cache import cached_train

    scores, floor, tfidf = {}, {}, {}
    for task, cfgs in runs.items():
        scores[task] = 100 * float(np.mean([cached_train(c).metrics["tasks"][task]["score"] for c in cfgs]))
        ref = cached_references(base, task, which=("majority", "tfidf"))
        floor[task], tfidf[task] = 100 * ref["majority"]["dev"], 100 * ref["tfidf"]["dev"]
    return verdicts.guard(f"{family} (dev)", corpus, scores, floor, tfidf, split="dev")
