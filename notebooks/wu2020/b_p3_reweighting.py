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
# # B-P3: the optimal shared subspace (Prop. 3) and SVD task reweighting (Alg. 2)
#
# With inputs X shared by all tasks, Prop. 3 gives the optimal shared module in closed form: the
# column space of X B is spanned by the top-r eigenvectors of sum_i alpha_i U^T y_i y_i^T U
# (X = U D V^T). We check our solver (started only from random B's) against it. Alg. 2 then weights
# each task by the length of its theta_i = X^T y_i inside the top-r singular subspace of
# [theta_1 ... theta_k]; a task whose labels are partly random should get a small weight, and
# the other tasks should be learned better than with uniform weights.
#
# The paper's setting: random labels on **20%** of one task's data; we also show the whole grid of
# corruption fractions and sample sizes. Verdict (../shared/PAPERS.md): (core) the solver's subspace
# equals the closed form (sine < 1e-4); (core) at 20% corruption, Alg. 2's weights give the clean tasks
# a lower mean error than uniform weights (t-interval over >= 10 seeds wholly below 0) at >= 2 of the
# sample sizes tried, and the noisy task's weight falls below its own weight on the clean labels of the
# same seed (paired over seeds, interval below 0; amended 2026-12-01: the generator's tasks differ in
# signal norm, so the clean last task already gets about 1.25x the mean weight, and a comparison with
# the mean weight could not see the noise).
#
# **Seeds fixed in advance**: from a power calculation on the earlier run (`pilot`: the committed cpu
# result, 12 seeds 0-11, same grid), fresh seeds from `first_seed` on.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
n_seeds = 2
first_seed = 1000                  # fresh seeds: the pilot used 0-11
# the earlier cpu run (44e127c, 12 seeds, 20% random labels): effect, sd over seeds, threshold
pilot = {"Alg. 2 - uniform clean MSE at m 60": [-0.1337, 0.4071, 0.0],
         "Alg. 2 - uniform clean MSE at m 80": [-0.0059, 0.1318, 0.0],
         "Alg. 2 - uniform clean MSE at m 150": [0.0165, 0.0255, 0.0],
         "Alg. 2 - uniform clean MSE at m 300": [0.0127, 0.0118, 0.0],
         "noisy task's weight, 20% - 0% random labels": [-0.1432, 0.0785, 0.0]}
corrupt = [0.0, 0.2, 0.9]          # must contain the paper's 0.2 and 0 (the paired weight check)
tasks = 6
rank = 2
dim = 50
samples = [80, 300]   # from data-scarce (shared structure matters) to data-rich (each task learnable alone)
paper_corrupt = 0.2   # the paper's fraction of random labels, which decides the verdict

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from mtlcore import record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.transfer import prop3_check, reweighting_demo

power = pd.DataFrame(verdicts.power_table(pilot, n_seeds))
print(f"power calculation (80% power, 95% t-intervals): this profile runs {n_seeds} seeds from {first_seed}")
power

# %%
seeds = range(first_seed, first_seed + n_seeds)
out = repo_path(results_dir) / "wu2020"
p3 = prop3_check(seeds=seeds)
write_csv(out / "b_p3_prop3.csv", p3)
rw = pd.concat([reweighting_demo(m=m, d=dim, k=tasks, r=rank, corrupt=corrupt, seeds=seeds) for m in samples],
               ignore_index=True)
write_csv(out / "b_p3_reweighting.csv", rw)
p3.groupby(["weights", "r"])[["rel_gap", "subspace_sine"]].max()

# %%
rw.groupby(["m", "corrupt", "weights"])[["clean_mse", "all_mse", "alpha_last"]].mean().round(4)

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 4, figsize=(19, 3.9))
sns.stripplot(data=p3.assign(rel_gap=p3.rel_gap.abs().clip(lower=1e-16)), x="r", y="rel_gap", hue="weights", ax=axes[0])
axes[0].set(yscale="log", ylabel="|solver - closed form| / closed form", title="Prop. 3: solver vs closed-form loss")
for ax, m in zip(axes[1:3], samples):
    sns.lineplot(data=rw[rw.m == m], x="corrupt", y="clean_mse", hue="weights", marker="o", errorbar=("ci", 95), ax=ax)
    ax.set(xlabel="fraction of the last task's labels randomised", ylabel="val. MSE of the clean tasks",
           title=f"Alg. 2 vs uniform, {m} samples, d={dim}, k={tasks}, r={rank}")
sns.lineplot(data=rw[rw.weights != "uniform"], x="corrupt", y="alpha_last", hue="m", marker="o", errorbar=("ci", 95),
             ax=axes[3], palette="deep")
axes[3].set(xlabel="fraction of the last task's labels randomised", ylabel="alpha of corrupted task / mean alpha",
            title="weight Alg. 2 gives the corrupted task")
fig.tight_layout()
save_figure(fig, out / "b_p3_reweighting")

# %%
if paper_corrupt not in corrupt or 0.0 not in corrupt:
    raise ValueError(f"corrupt must include the paper's fraction {paper_corrupt} and 0 (clean), got {corrupt}")
at = rw[rw.corrupt == paper_corrupt]
wide = at.pivot_table(index=["m", "seed"], columns="weights", values="clean_mse")
clean_diffs = {m: (g["SVD (Alg. 2)"] - g["uniform"]).to_numpy() for m, g in wide.groupby(level="m")}
# paired: the last task's Alg. 2 weight (/ mean weight) with 20% random labels minus on its clean labels, same seed
# and data (reweighting_demo draws X, Y once per seed), averaged over the sample sizes
alg2 = rw[rw.weights == "SVD (Alg. 2)"].pivot_table(index=["m", "seed"], columns="corrupt", values="alpha_last")
noisy_drop = (alg2[paper_corrupt] - alg2[0.0]).groupby(level="seed").mean().to_numpy()
cells = rw.pivot_table(index=["m", "corrupt"], columns="weights", values="clean_mse")
grid = {f"m={m}, corrupt={c:g}": f"Alg. 2 - uniform clean MSE {r['SVD (Alg. 2)'] - r['uniform']:+.4f}"
        for (m, c), r in cells.iterrows()}
v = verdicts.b_p3(float(p3.subspace_sine.max()), clean_diffs, noisy_drop,
                  secondary={**grid, "solver vs closed-form loss": f"max relative gap {p3.rel_gap.abs().max():.1e}"})
print(v.describe())
record_claim(results_dir, "B-P3", "Prop. 3 gives the optimal shared subspace; SVD reweighting (Alg. 2) makes MTL "
             "robust to a task with random labels",
             f"max subspace sine {p3.subspace_sine.max():.1e}; at {paper_corrupt:.0%} random labels, Alg. 2 - uniform "
             "clean-task MSE: " + ", ".join(f"m={m}: {verdicts.t_interval(d_)}" for m, d_ in clean_diffs.items())
             + f"; noisy task's weight, {paper_corrupt:.0%} - 0% random labels (paired) "
             f"{verdicts.t_interval(noisy_drop)}", verdict=v,
             artefacts=["wu2020/b_p3_reweighting.png", "wu2020/b_p3_prop3.csv", "wu2020/b_p3_reweighting.csv"])
if not power.enough.all():
    print("note: the power calculation (above) asks for more seeds than this profile runs for: "
          + ", ".join(power.condition[~power.enough]))

# %% [markdown]
# **Reading.** The verdict above is computed from the PAPERS.md criterion at the paper's 20%; the
# other cells of the grid are shown, not used. The solver and the closed form agree to numerical
# precision, so the notebooks' MTL solutions are the true optima of eq. 3. Alg. 2 gives the task with randomised labels a
# weight that falls with the corruption. Whether that helps depends on how much the tasks need
# each other: with few samples per task (the left Alg. 2 panel) the shared subspace carries the
# clean tasks and keeping the noisy task from bending it pays; with many samples every task is
# nearly learnable alone and the weights change little.
