# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%

# %% [markdown]
# # A-F2: how similar are the task-specific models, layer by layer? (linear CKA)
#
# Paper A explains MTL's success by the STL models of its tasks having similar representations at
# every hidden layer. Here: linear CKA (Kornblith et al. 2019) between the mean-pooled hidden states
# (embedding output and every transformer layer) of two models on the **same test inputs**, exact
# over all of them:
#
# - **radiology pairs**: the STL models of two tasks of the same corpus (same seed), on that
#   corpus's test reports;
# - **contrast pairs**: a radiology STL model vs a GLUE/SentEval STL model (sentiment, question
#   type), on the radiology test reports, so that "similar" has a scale;
# - **noise floor**: two STL models of the same task trained with different seeds;
# - **STL vs MTL**: each STL model vs the MTL model of its corpus (same seed).
#
# The STL and MTL models are the ones A-T1 scores (same configs, shared through the cache).
# Verdict (../shared/PAPERS.md, amended 2026-12-01): (core) at every layer where fine-tuning moved the
# models (the contrast pairs' mean CKA < 0.99), and at the last layer, the mean CKA of radiology pairs minus
# the mean CKA of contrast pairs has a 95% bootstrap interval above 0, resampling tasks (pairs share tasks);
# the STL models compared must pass the learned-model guard. Secondary: the original every-layer condition,
# and the distance of the radiology pairs to the same-task noise floor.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
train = {"max_train": 32, "max_eval": 32, "epochs": 1, "encoder": "tiny-bert"}   # TrainConfig fields (the profile's `train`)
gradient_every = 1                # A-T1's configs record gradient cosines every N MTL steps (shared cache)
lumbar_tasks = ["radiology/lumbar/disc_bulge", "radiology/lumbar/thecal_sac_compression"]
openi_tasks = ["radiology/openi/opacity", "radiology/openi/cardiomegaly"]
contrast_tasks = ["senteval/trec"]

# %%
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from mtlcore import cached_train, record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.paper_a import (base_config, corpus_features, corpus_guards, dev_guard, family_config,
                                   layer_cka, layer_names)
from mtlcore.reporting.cache import run_seconds

out = repo_path(results_dir) / "paper_a"
base = base_config(train, gradient_every)
corpora = {c: t for c, t in (("lumbar", lumbar_tasks), ("openi", openi_tasks)) if t}   # a profile may leave one out
# (model, seed, corpus) -> (layers, n, hidden); model = a task name (its STL model) or "mtl"
feats = corpus_features(base, corpora, contrast_tasks, seeds)
layers = layer_names(next(iter(feats.values())).shape[0])
print({c: f"{next(v for k, v in feats.items() if k[2] == c).shape[1]} test reports" for c in corpora})

# %%
rows, full = [], []


def add(kind, corpus, a, b, seed, fa, fb):
    m = layer_cka(fa, fb)
    for j, name in enumerate(layers):
        rows.append({"kind": kind, "corpus": corpus, "a": a, "b": b, "seed": seed, "layer": name, "cka": m[j, j]})
    full.append({"kind": kind, "corpus": corpus, "matrix": m})


for corpus, tasks in corpora.items():
    for s in seeds:
        for t1, t2 in combinations(tasks, 2):
            add("radiology pair", corpus, t1, t2, str(s), feats[t1, s, corpus], feats[t2, s, corpus])
        for t in tasks:
            for u in contrast_tasks:
                add("contrast pair", corpus, t, u, str(s), feats[t, s, corpus], feats[u, s, corpus])
            add("STL vs MTL", corpus, t, "mtl", str(s), feats[t, s, corpus], feats["mtl", s, corpus])
    for t in tasks:
        for s1, s2 in combinations(seeds, 2):
            add("same task, two seeds", corpus, t, t, f"{s1}-{s2}", feats[t, s1, corpus], feats[t, s2, corpus])
cka = pd.DataFrame(rows)
write_csv(out / "a_f2_cka.csv", cka)
kinds = [k for k in ("same task, two seeds", "STL vs MTL", "radiology pair", "contrast pair") if k in set(cka.kind)]
# one unit per pair (or task): the mean over seeds
units = cka.groupby(["kind", "corpus", "a", "b", "layer"], sort=False).cka.mean().reset_index()
units.groupby(["kind", "layer"], sort=False).cka.mean().unstack("layer")[layers].loc[kinds].round(3)

# %% [markdown]
# ## Layer-matched CKA: each kind of pair, mean over pairs with a 95% bootstrap interval

# %%
sns.set_theme(style="whitegrid")
palette = dict(zip(("same task, two seeds", "STL vs MTL", "radiology pair", "contrast pair"),
                   sns.color_palette("colorblind", 4)))
fig, axes = plt.subplots(1, len(corpora), figsize=(5.5 * len(corpora), 4.2), sharey=True, squeeze=False,
                         layout="constrained")
for ax, corpus in zip(axes[0], corpora):
    part = units[units.corpus == corpus]
    sns.pointplot(data=part, x="layer", y="cka", hue="kind", hue_order=kinds, palette=palette, order=layers,
                  errorbar=("ci", 95), dodge=0.3, markersize=4, linewidth=1.5, ax=ax, seed=0)
    ax.set(title=f"{corpus} test reports ({len(corpora[corpus])} tasks, {len(seeds)} seed(s))", xlabel="",
           ylabel="linear CKA (axis starts above 0)", ylim=(max(0.0, np.floor(units.cka.min() * 20) / 20 - 0.05), 1.01))
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8, loc="lower left")
fig.suptitle(f"A-F2 ({profile}): layer-matched CKA between models on the same inputs")
save_figure(fig, out / "a_f2_cka_layers")

# %% [markdown]
# ## Every layer against every layer: mean CKA matrix per kind of pair

# %%
shown = [k for k in ("radiology pair", "contrast pair", "STL vs MTL") if k in kinds]
fig, axes = plt.subplots(len(corpora), len(shown), figsize=(4.2 * len(shown), 3.8 * len(corpora)), squeeze=False,
                         layout="constrained")
for i, corpus in enumerate(corpora):
    for j, kind in enumerate(shown):
        mats = [f["matrix"] for f in full if f["kind"] == kind and f["corpus"] == corpus]
        sns.heatmap(pd.DataFrame(np.mean(mats, axis=0), index=layers, columns=layers), vmin=0, vmax=1,
                    cmap="viridis", annot=True, fmt=".2f", annot_kws={"size": 7}, cbar=j == len(shown) - 1,
                    square=True, ax=axes[i, j])
        axes[i, j].set(title=f"{corpus}: {kind} (mean of {len(mats)})", ylabel="radiology STL model",
                       xlabel={"radiology pair": "STL model of another radiology task",
                               "contrast pair": "GLUE/SentEval STL model"}.get(kind, "MTL model"))
fig.suptitle(f"A-F2 ({profile}): layer x layer linear CKA")
save_figure(fig, out / "a_f2_cka_heatmaps")

# %% [markdown]
# ## Verdict
#
# PAPERS.md (amended 2026-12-01): decided at the layers where fine-tuning moved the models (the contrast pairs'
# mean CKA < 0.99) and at the last layer, with a bootstrap that resamples tasks (pairs share tasks); the STL
# models compared must pass the learned-model guard. The original every-layer condition is a secondary line.

# %%
def pairs(kind):
    part = units[units.kind == kind].pivot_table(index=["a", "b"], columns="layer", values="cka")[layers]
    return {key: row.to_numpy() for key, row in part.iterrows()}


rad, con = pairs("radiology pair"), pairs("contrast pair")
mean = units.groupby(["kind", "layer"]).cka.mean()
secondary = {}
if "same task, two seeds" in kinds:
    gap = [mean["same task, two seeds", name] - mean["radiology pair", name] for name in layers]
    secondary["noise floor - radiology pairs, per layer"] = ", ".join(f"{n} {g:+.3f}" for n, g in zip(layers, gap))
else:
    secondary["noise floor"] = "not measured (one seed)"
secondary["STL vs MTL, mean per layer"] = ", ".join(f"{n} {mean['STL vs MTL', n]:.3f}" for n in layers)
every = verdicts.decide("every layer", [verdicts.Condition(f"layer {n}", True, verdicts.two_sample_interval(
    np.stack(list(rad.values()))[:, j], np.stack(list(con.values()))[:, j], 0), 0.0) for j, n in enumerate(layers)])
secondary["original criterion (every layer, pairs resampled)"] = every.verdict
guards = corpus_guards(base, corpora, seeds, ["stl"])   # the radiology STL models, on test
guards.append(dev_guard(base, "stl", "contrast", {u: [family_config(base, "stl", contrast_tasks, s) for s in seeds]
                                                  for u in contrast_tasks}))   # the contrast STL models, on dev
# one more task's cost: its STL models over the seeds, as the mean over the tasks the bootstrap resamples
# (radiology and contrast: their STL runs' seconds over all seeds / their number of tasks)
stl_runs = [*corpora.values(), contrast_tasks]
task_seconds = (sum(run_seconds(cached_train(family_config(base, "stl", tasks, s)).folder, True, float("nan"))
                    for tasks in stl_runs for s in seeds) / sum(len(tasks) for tasks in stl_runs))
v = verdicts.a_f2(rad, con, layers, secondary=secondary, guards=guards,
                 families=tuple(g.key for g in guards), task_seconds=task_seconds)
print(v.describe())
ours = (f"radiology pairs (n={len(rad)}) vs contrast pairs (n={len(con)}), mean CKA per layer: "
        + ", ".join(f"{n} {mean['radiology pair', n]:.2f} vs {mean['contrast pair', n]:.2f}" for n in layers))
record_claim(results_dir, "A-F2", "STL models of the tasks are similar at every hidden layer (high CKA).", ours,
             verdict=v, artefacts=["paper_a/a_f2_cka_layers.png", "paper_a/a_f2_cka_heatmaps.png"])

# %% [markdown]
# ## Reading the result
#
# The verdict above is computed from the PAPERS.md criterion. Two things give the numbers their scale:
# the contrast pairs (a model trained on an unrelated task, seeing the same radiology reports), and the
# noise floor (the same task, another seed): a radiology pair cannot be expected to be more similar than
# two runs of one task. All models start from the same pre-trained encoder and are fine-tuned briefly at
# the cpu profile, so the early layers stay close to it and CKA is high for every kind of pair there;
# the layers where the kinds separate, if any, are the informative ones.
