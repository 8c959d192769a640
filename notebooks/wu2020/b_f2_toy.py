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
# # B-F2: a three-task toy example (Wu, Zhang & Ré 2020, Fig. 2)
#
# Task 1 has few, noisy labels. Task 2 shares task 1's decision boundary but its inputs come from
# another distribution; task 3 has task 1's input distribution but a boundary rotated by 90
# degrees. A shared module of width r = 1 (a direction b in the plane) with one logistic head per
# task is trained on task 1 alone, task 1 + task 2, and task 1 + task 3.
#
# Paper: training task 1 with task 2 helps; with task 3 it hurts.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
n_seeds = 4
target_samples = 12
other_samples = 200

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from mtlcore import repo_path, save_figure, write_csv
from mtlcore.claims import record_claim
from mtlcore.transfer import toy_transfer

out = repo_path(results_dir) / "wu2020"
table, example = toy_transfer(range(n_seeds), target_samples, other_samples)
write_csv(out / "b_f2_toy.csv", table)
means = table.groupby("training")["accuracy"].agg(["mean", "std"])
means.round(3)

# %%
sns.set_theme(style="whitegrid")
tasks = example["tasks"]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
colors = {"task 1 alone": "grey", "task 1 + task 2": "tab:green", "task 1 + task 3": "tab:red"}
for ax, name in zip(axes[:3], ("task 1", "task 2", "task 3")):
    X, y = tasks[name]
    ax.scatter(X[:, 0], X[:, 1], c=np.where(y > 0.5, "tab:blue", "tab:orange"), s=14 if name != "task 1" else 40,
               alpha=0.7, edgecolor="k", linewidth=0.3)
    for label, theta in ((k, v) for k, v in example.items() if k in colors):
        normal = theta / np.linalg.norm(theta)
        line = np.array([-normal[1], normal[0]]) * 4
        ax.plot([-line[0], line[0]], [-line[1], line[1]], color=colors[label], lw=2, label=f"task-1 boundary: {label}")
    ax.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", title=f"{name} data (seed 0)")
axes[0].legend(fontsize=7, loc="lower left")
sns.barplot(data=table, x="training", y="accuracy", hue="training", palette=colors, errorbar=("ci", 95), ax=axes[3])
axes[3].set(ylim=(0.4, 1.0), xlabel="", title=f"task-1 test accuracy ({n_seeds} seeds)")
axes[3].tick_params(axis="x", labelrotation=15)
fig.tight_layout()
save_figure(fig, out / "b_f2_toy")

# %%
acc = means["mean"]
checks = {"task 2 (same boundary) helps task 1": acc["task 1 + task 2"] > acc["task 1 alone"],
          "task 3 (other boundary) hurts task 1": acc["task 1 + task 3"] < acc["task 1 alone"]}
claim = record_claim(results_dir, "B-F2", "training task 1 with task 2 helps; with task 3 it hurts",
                     "task-1 accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()), checks,
                     ["wu2020/b_f2_toy.png", "wu2020/b_f2_toy.csv"])
for k, v in checks.items():
    print(("holds   " if v else "FAILS   ") + k)
print("verdict:", claim["verdict"])
