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
# # B-T1: SVD task reweighting (Alg. 2) on tasks that share their inputs (Wu, Zhang & Ré 2020, Sec. 3.2-3.3)
#
# Alg. 2 assumes every task labels the same inputs X. The paper used ChestX-ray14 (14 findings per
# image, CheXNet); our substitute is the Open-i chest X-ray reports with their ten most frequent manual
# MeSH findings (`radiology/openi/findings`: every finding labels every report).
#
# What X is: each report's mean-pooled last hidden state of the frozen encoder (MiniLM-L6 at the cpu
# profile), centred on the training mean; theta_i = X^T y_i. On top, Wu et al.'s model: a shared module
# (linear -> ReLU) and a logistic head per task, trained on sum_i alpha_i BCE_i (alpha rescaled to mean 1;
# uniform = all 1), the epoch chosen on the mean dev AUC, AUCs reported on test (`mtlcore.papers.wu2020.reweighting`).
#
# The ablation (the verdict): 20 random pairs of the ten findings; in each, random 0/1 labels on a random
# 20% of one task's training reports; Alg. 2 (rank 1) vs uniform, same initialisation and batch order;
# the number is the clean task's test AUC. Each (seed, pair) draws its own corrupted rows and
# initialisation; the units share the test reports, so the interval over them is somewhat optimistic.
#
# **Room to gain** (amended 2026-12-01): with every training report, Open-i's clean tasks sat at AUC
# 0.95-0.99 with uniform weights, where the paper's +2.4 cannot occur. So the training size is chosen
# first, from the uniform-weight baseline alone and before any reweighted run: the uniform model on the
# clean ten-task set (first seed) at each of `train_sizes` training reports, and the largest size whose
# mean dev AUC lies in 0.75-0.90 (ChestX-ray14's range) is kept (`reweighting.choose_training_size`).
# Dev and test reports stay whole. Seeds: a power calculation on the earlier run (`pilot`), fresh seeds.
#
# Paper: over 20 pairs, +2.4 mean AUC; on the clean 14-task set, +0.4 AUC.
# Verdict (../shared/PAPERS.md): (core) >= 20 pairs; (core) SVD - uniform clean-task AUC > 0 with a
# t-interval over the pairs x seeds units. Secondary: on the clean ten-task set the gain is >= -0.1 AUC
# points (Alg. 2's rank chosen on dev, the paper's +0.4).

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
task = "radiology/openi/findings"
encoder = "tiny-bert"        # the frozen encoder whose pooled features are X
max_length = 64              # tokens per report for the features
n_pairs = 20
fraction = 0.2               # share of the noisy task's training rows given random labels
model = {"hidden": 32, "epochs": 3, "lr": 3e-3, "batch_size": 256}   # reweighting.train_weighted settings
ranks = [1, 2, 3]            # Alg. 2 ranks tried on the clean set (chosen on dev)
train_sizes = [50, 100, None]   # training reports tried for the uniform baseline (None: all)
auc_range = [0.75, 0.90]        # the uniform mean dev AUC that leaves room to gain
device = "cpu"                  # "cpu", "cuda" or "auto" for the small reweighting models
# the earlier cpu run (44e127c, every training report, seeds 0-2): SVD - uniform clean-task AUC points per
# (pair, seed) unit, mean and sd (effect, sd, threshold)
pilot = {"SVD - uniform clean AUC (points), per unit": [-0.31, 1.43, 0.0]}

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from mtlcore.progress import tqdm

from mtlcore import best_on_dev, record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.reweighting import (alg2_weights, choose_training_size, frozen_features, noisy_pair,
                                               train_weighted, training_subset)
from mtlcore.tasks import get_task

power = pd.DataFrame(verdicts.power_table(pilot, n_pairs * len(seeds)))
print(f"power calculation over (pair, seed) units (80% power, 95% t): this profile runs {n_pairs} pairs x "
      f"{len(seeds)} seeds = {n_pairs * len(seeds)} units, seeds {seeds}")
power

# %% [markdown]
# The training size, from the uniform baseline alone (no reweighted run yet).

# %%
out = repo_path(results_dir) / "wu2020"
model = {**model, "device": device}
full = frozen_features(task, encoder=encoder, max_length=max_length)
baseline = []
for n in train_sizes:
    r = train_weighted(training_subset(full, n), None, seed=seeds[0], **model)
    baseline.append({"training reports": n or len(full["train"][1]), "size": n,
                     "uniform mean dev AUC": float(np.nanmean(r["dev"]))})
baseline = pd.DataFrame(baseline)
chosen_size = choose_training_size(dict(zip(baseline["training reports"], baseline["uniform mean dev AUC"])),
                                   *auc_range)
write_csv(out / "b_t1_training_size.csv", baseline)
print(f"training size: {chosen_size} reports (the largest with uniform mean dev AUC in {auc_range}, else the "
      "nearest)")
data = training_subset(full, chosen_size)
baseline

# %%
labels = list(get_task(task).label_names)
x_train, y_train = data["train"]
print(f"X: {x_train.shape[0]} training reports x {x_train.shape[1]} features; positives per task:",
      dict(zip(labels, y_train.sum(0).astype(int).tolist())))
rng = np.random.default_rng(0)
all_pairs = list(itertools.combinations(range(len(labels)), 2))
chosen = [all_pairs[i] for i in rng.choice(len(all_pairs), size=min(n_pairs, len(all_pairs)), replace=False)]
noisy_side = rng.integers(0, 2, size=len(chosen))
rows = []
for (pair, noisy), seed in tqdm(list(itertools.product(zip(chosen, noisy_side), seeds)), desc="pairs x seeds"):
    r = noisy_pair(data, pair, int(noisy), fraction=fraction, seed=seed, **model)
    rows.append({"pair": f"{labels[pair[0]]} + {labels[pair[1]]}", "noisy task": labels[pair[noisy]],
                 "clean task": labels[pair[1 - noisy]], "seed": seed, **r})
pairs = pd.DataFrame(rows)
pairs["gain (AUC points)"] = 100 * (pairs["clean_svd"] - pairs["clean_uniform"])
pairs["noisy weight / mean"] = pairs["alpha_noisy"] / ((pairs["alpha_noisy"] + pairs["alpha_clean"]) / 2)
write_csv(out / "b_t1_noisy_pairs.csv", pairs)
pairs.groupby("pair", sort=False)[["clean_uniform", "clean_svd", "gain (AUC points)", "noisy weight / mean"]].mean().round(3)

# %% [markdown]
# The clean ten-task set: uniform weights vs Alg. 2, its rank chosen on the mean dev AUC (secondary).

# %%
clean = []
for seed in tqdm(seeds, desc="clean set"):
    uniform = train_weighted(data, None, seed=seed, **model)
    tried = {r: train_weighted(data, alg2_weights(x_train, y_train, r), seed=seed, **model) for r in ranks}
    rank = best_on_dev({r: np.nanmean(tried[r]["dev"]) for r in ranks})
    clean.append({"seed": seed, "rank": rank, "uniform": np.nanmean(uniform["test"]),
                  "svd": np.nanmean(tried[rank]["test"]), "alpha": np.round(tried[rank]["alpha"], 2).tolist()})
clean = pd.DataFrame(clean)
clean["gain (AUC points)"] = 100 * (clean["svd"] - clean["uniform"])
write_csv(out / "b_t1_clean_set.csv", clean)
clean

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 1]})
order = pairs.groupby("pair", sort=False)["gain (AUC points)"].mean().sort_values().index
sns.barplot(data=pairs, y="pair", x="gain (AUC points)", order=order, errorbar=None, color="tab:blue", ax=axes[0])
sns.stripplot(data=pairs, y="pair", x="gain (AUC points)", order=order, color="black", size=3, ax=axes[0])
axes[0].axvline(0, color="black", lw=0.8)
axes[0].set(ylabel="", title=f"clean-task AUC, Alg. 2 - uniform; {int(100 * fraction)}% random labels on the "
            f"other task ({len(seeds)} seed(s))")
axes[0].tick_params(axis="y", labelsize=7)
sns.boxplot(y=pairs["noisy weight / mean"], ax=axes[1], color="tab:orange")
axes[1].axhline(1, color="black", lw=0.8)
axes[1].set(title="Alg. 2 weight of the noisy task\n(1 = the pair's mean)", ylabel="")
fig.tight_layout()
save_figure(fig, out / "b_t1_svd_reweighting")

# %%
units = pairs.pivot_table(index="pair", columns="seed", values="gain (AUC points)", sort=False).to_numpy()
clean_gain = verdicts.t_interval(clean["gain (AUC points)"].to_numpy())
holds = clean_gain.estimate >= -0.1
v = verdicts.b_t1(units, secondary={
    "training size (uniform baseline, dev AUC)": f"{chosen_size} reports: " + ", ".join(
        f"{n}: {a:.3f}" for n, a in zip(baseline["training reports"], baseline["uniform mean dev AUC"])),
    "clean ten-task set, Alg. 2 - uniform mean test AUC in points (x100; the mean, not its interval), "
    "criterion >= -0.1 [paper +0.4]":
        f"{clean_gain} -> {'holds' if holds else 'fails'}",
    "noisy task's Alg. 2 weight below the pair's mean":
        f"{int((pairs['noisy weight / mean'] < 1).sum())}/{len(pairs)} pair-seeds"})
print(v.describe())
record_claim(results_dir, "B-T1", "with random labels on 20% of one task's data, over 20 pairs, SVD weights beat "
             "uniform by +2.4 mean AUC; +0.4 AUC on the clean set (ChestX-ray14, CheXNet)",
             f"Open-i, ten MeSH findings sharing the reports; {chosen_size} training reports (chosen from the uniform "
             f"baseline's dev AUC); X = frozen {encoder} mean-pooled features; clean-task "
             f"AUC gain {pairs['gain (AUC points)'].mean():+.2f} points over {units.shape[0]} pairs x {units.shape[1]} "
             f"seed(s); clean set {clean['gain (AUC points)'].mean():+.2f}",
             verdict=v, artefacts=["wu2020/b_t1_svd_reweighting.png", "wu2020/b_t1_noisy_pairs.csv",
                                   "wu2020/b_t1_clean_set.csv"])

# %% [markdown]
# **Reading.** Alg. 2 can only help the clean task if it gives the noisy task a smaller weight (right
# panel below 1) and if that smaller weight matters for the clean head through the shared module. With
# ten rare findings (5-12% positives) the test AUCs rest on a few dozen positive reports each, so the
# per-pair dots are noisy; the verdict uses every pair and seed as a unit.
