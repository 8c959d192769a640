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
encoder = "minilm-l6"
max_train = 32
max_eval = 32
epochs = 1
batch_size = 16
seed = 0

# %%

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from mtlcore import TrainConfig, repo_path, save_figure, train, write_csv

out = repo_path(results_dir)
cfg = TrainConfig(tasks=tasks, encoder=encoder, max_train=max_train, max_eval=max_eval, epochs=epochs,
                  batch_size=batch_size, seed=seed, save_checkpoint=False)
stl = train(cfg.replace(mode="stl"))
mtl = train(cfg.replace(mode="mtl"))

# %%
rows = []
for task in cfg.tasks:
    for mode, run in (("STL", stl), ("MTL", mtl)):
        rows.append({"task": task, "mode": mode, **{k: round(v, 4) for k, v in run.metrics["tasks"][task].items()}})
table = pd.DataFrame(rows)
wide = table.pivot(index="task", columns="mode", values="score")[["STL", "MTL"]]
wide["MTL - STL"] = wide["MTL"] - wide["STL"]
write_csv(out / "00_quickstart.csv", table)
wide

# %%
sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(5, 3))
sns.barplot(data=table, x="task", y="score", hue="mode", ax=ax)
ax.set(ylabel="dev score (task metric mean)", xlabel="", ylim=(0, 1),
       title=f"STL vs MTL, {max_train} train examples/task, {epochs} epoch(s)")
save_figure(fig, out / "00_quickstart")

# %% [markdown]
# The MTL model has one encoder for all tasks, so it has about 1/k of the parameters of the k STL
# models together. At the smoke sizes the scores are close to chance and say nothing; at the `cpu`
# profile the gap above is the first, rough answer to "can one model replace k models?".

# %%
print(f"parameters: STL total {stl.metrics['parameters']:,} vs MTL {mtl.metrics['parameters']:,}")
print(f"average score: STL {stl.metrics['average']:.3f}, MTL {mtl.metrics['average']:.3f}")
