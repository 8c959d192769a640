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
# # B-F3: when does a source task help a target task? (Wu, Zhang & Ré 2020, Fig. 3)
#
# A target linear-regression task (d dimensions, covariance with condition number kappa on a
# d/10-coordinate subset) is trained together with one source task in a shared-module model of
# width r = 1. Every source has a parameter at the same angle to the target's (cos = 0.96); the
# sources differ only in their input covariance: **the same covariance**, kappa on a **disjoint
# subset**, or the same spectrum under a **different rotation**. The curves show the target's
# validation error of MTL minus STL against the number of source samples (below 0 = positive
# transfer), with 95% confidence bands over seeds.
#
# Two choices the paper's description leaves open are varied rather than fixed: the noise of the
# target (a noisy target, where estimation variance dominates, and a clean one, where the bias from
# the angle between the tasks dominates) and whether each task's loss is a **sum** over its samples
# (the source's pull grows with its size) or a **mean** (a fixed pull, more samples only make the
# source less noisy). The ReLU and classification variants use mean losses and noise 1.
#
# Paper: only the same-covariance source transfers positively without huge source sample counts.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
d = 30
kappa = 100.0
cosine = 0.96
target_samples_per_dim = 1.5
source_counts = [15, 60, 240]
noise_levels = [3.0, 0.3]     # noisy target (variance-dominated) and clean target (bias-dominated)
n_seeds = 2
nonlinear_d = 20
nonlinear_counts = [10, 80]
nonlinear_seeds = 1

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from mtlcore import repo_path, save_figure, write_csv
from mtlcore.claims import record_claim
from mtlcore.transfer import SOURCES, source_transfer

out = repo_path(results_dir) / "wu2020"
m_target = int(target_samples_per_dim * d)
frames = []
for weighting, noise in itertools.product(("sum", "mean"), noise_levels):
    t = source_transfer("linear", d=d, kappa=kappa, cosine=cosine, m_target=m_target, source_counts=source_counts,
                        noise=noise, seeds=range(n_seeds), loss_weighting=weighting, progress=True)
    frames.append(t.assign(setting=f"linear, {weighting} loss, noise {noise:g}"))
m_nl = int(target_samples_per_dim * nonlinear_d)
for kind in ("relu", "classification"):
    t = source_transfer(kind, d=nonlinear_d, kappa=kappa, cosine=cosine, m_target=m_nl, source_counts=nonlinear_counts,
                        noise=1.0, seeds=range(nonlinear_seeds), loss_weighting="mean", progress=True)
    frames.append(t.assign(setting=f"{kind}, mean loss, noise 1"))
table = pd.concat(frames, ignore_index=True)
write_csv(out / "b_f3_transfer.csv", table)
summary = table.groupby(["setting", "source", "m_source"])["diff"].mean().unstack("m_source")
summary.round(3)

# %%
sns.set_theme(style="whitegrid")
settings = list(dict.fromkeys(table.setting))
fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
for ax, setting in zip(axes.ravel(), settings):
    sub = table[table.setting == setting]
    sns.lineplot(data=sub, x="m_source", y="diff", hue="source", hue_order=SOURCES, marker="o", errorbar=("ci", 95),
                 ax=ax, legend=ax is axes[0, 0])
    ax.axhline(0, color="black", lw=0.8)
    metric = "error rate" if "classification" in setting else "MSE"
    ax.set(xscale="log", title=setting, xlabel="source samples", ylabel=f"target val. {metric}, MTL - STL")
fig.suptitle(f"B-F3: d={d}, kappa={kappa:g}, cos={cosine}, target samples={m_target} "
             f"(nonlinear: d={nonlinear_d}, {m_nl}), r=1, {n_seeds} seeds")
fig.tight_layout()
save_figure(fig, out / "b_f3_transfer")

# %%
best_at_max = {}
for setting, sub in table.groupby("setting", sort=False):
    at_max = sub[sub.m_source == sub.m_source.max()].groupby("source")["diff"].mean()
    best_at_max[setting] = (at_max.idxmin(), at_max.reindex(SOURCES), sub.m_source.max())
checks = {f"{setting}: same covariance best at {m} source samples": best == "same covariance"
          for setting, (best, _, m) in best_at_max.items()}
claim = record_claim(
    results_dir, "B-F3", "only the same-covariance source transfers positively without huge source sample counts",
    "MTL - STL at the largest source count; " + "; ".join(
        f"{setting}: " + ", ".join(f"{s} {v:+.3f}" for s, v in vals.items()) for setting, (_, vals, _) in best_at_max.items()),
    checks, ["wu2020/b_f3_transfer.png", "wu2020/b_f3_transfer.csv"])
for k, v in checks.items():
    print(("holds   " if v else "FAILS   ") + k)
print("verdict:", claim["verdict"])

# %% [markdown]
# **Reading.** What the same-covariance source brings depends on what dominates the target's
# error. It shares the target's high-variance directions, so it lowers the estimation variance
# exactly where the target's error weighs most, and it also imports the angle between theta_1 and
# theta_2 (bias) in exactly those directions. With a noisy target and per-task mean losses the
# variance effect wins, and the same-covariance source is the one that keeps helping as it grows
# while misaligned sources help less and less, as the paper says. With a clean target the bias
# wins, and the same-covariance source is the one that hurts, while sources on other directions
# leave the target's important directions to its own data. The verdict above is computed from
# this run; the CSV holds every seed.
