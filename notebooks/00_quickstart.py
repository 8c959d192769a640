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

# %% [markdown]
# # Quickstart: one multi-task model vs one model per task
#
# Trains a single-task (STL) model for each of two GLUE tasks and one multi-task (MTL) model with a
# shared MiniLM encoder and a head per task, then compares their dev scores. The defaults below are
# the smallest (`smoke`) sizes used by the tests; `make reproduce` injects the profile's sizes.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
tasks = "glue/rte,glue/mrpc"
seeds = [0]
train = {"max_train": 32, "max_eval": 32, "epochs": 1}   # TrainConfig fields (the profile's `train`)

# %%

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from mtlcore import TrainConfig, cached_train, repo_path, save_figure, write_csv

out = repo_path(results_dir)
cfg = TrainConfig.from_dict({**train, "tasks": tasks, "save_checkpoint": False}, source="parameters")
runs = {(mode, seed): cached_train(cfg.replace(mode=mode, seed=seed)) for mode in ("stl", "mtl") for seed in seeds}

# %%
rows = []
for (mode, seed), run in runs.items():
    for task in cfg.tasks:
        rows.append({"task": task, "mode": mode.upper(), "seed": seed,
                     **{k: round(v, 4) for k, v in run.metrics["tasks"][task].items()}})
table = pd.DataFrame(rows)
wide = table.groupby(["task", "mode"])["score"].mean().unstack()[["STL", "MTL"]]
wide["MTL - STL"] = wide["MTL"] - wide["STL"]
write_csv(out / "00_quickstart.csv", table)
wide

# %%
sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(6, 3.6))
sns.barplot(data=table, x="task", y="score", hue="mode", ax=ax)
ax.set(ylabel="dev score (task metric mean)", xlabel="", ylim=(0, 1),
       title=f"STL vs MTL: {cfg.max_train or 'all'} train examples/task, {cfg.epochs} epoch(s), {len(seeds)} seed(s)")
ax.title.set_fontsize(10)
ax.legend(loc="upper left", ncols=2)
save_figure(fig, out / "00_quickstart")

# %% [markdown]
# The MTL model has one encoder for all tasks, so it has about 1/k of the parameters of the k STL
# models together. At the smoke sizes the scores are close to chance and say nothing; at the `cpu`
# profile the gap above is the first, rough answer to "can one model replace k models?".

# %%
first = seeds[0]
print(f"parameters: STL total {runs['stl', first].metrics['parameters']:,} vs MTL {runs['mtl', first].metrics['parameters']:,}")
print(f"average score over seeds: STL {wide['STL'].mean():.3f}, MTL {wide['MTL'].mean():.3f}")
