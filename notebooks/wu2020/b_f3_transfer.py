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
# A target linear-regression task in d dimensions is trained together with one source task in a
# shared-module model of width r = 1 (eq. 3: the **sum** of the tasks' squared losses). Every source
# has a parameter at the same angle to the target's (|cos| = 0.96); the sources differ only in their
# input covariance (X = R D Q^T, D with entries kappa on d/10 coordinates and 1 elsewhere, so the
# covariance's condition number is kappa^2): **the same covariance** as the target, kappa on a
# **disjoint subset**, or the same spectrum under a **different rotation**. The curves show the
# target's validation MSE of MTL minus STL against the number of source samples (below 0 = positive
# transfer), with 95% confidence bands over seeds.
#
# **Primary setting** (the paper's, which decides the verdict): noiseless labels, d = 100, kappa =
# 100, an **underdetermined** target (m_target < d). Also shown: a target with 1.5 d samples **with
# label noise** (amended 2026-12-01: a noiseless overdetermined target is solved exactly by STL, so no
# source can help it and that line was degenerate), and the project's variants (a noisy target with per-task mean losses; ReLU regression and
# classification), each with its own line, none deciding the verdict.
#
# Verdict (../shared/PAPERS.md): (core) at moderate source counts (d, 3d, 10d) the same-covariance
# source has MTL - STL < 0 (t-interval over seeds), and no other source has an interval wholly below
# 0 at two or more of those counts. Secondary: whether the other sources also turn positive at the
# largest count tried.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
d = 20
kappa = 100.0
cosine = 0.96
target_samples = [10, 30]         # the primary (underdetermined, < d) first; then 1.5 d (shown with label noise)
source_counts = [20, 60, 200]     # must contain d, 3d and 10d (the moderate counts of the criterion)
n_seeds = 2
first_seed = 1000                 # fresh seeds: the earlier runs used 0..n_seeds-1
variant_noise = 3.0               # the project's noisy-target variant (per-task mean losses)
nonlinear_d = 20
nonlinear_counts = [10, 80]
nonlinear_seeds = 1
# the earlier cpu run (44e127c, 10 seeds, primary setting): same-covariance MTL - STL target error at the
# moderate counts, mean and sd over seeds (effect, sd, threshold)
pilot = {"same covariance at d": [45.6, 23.5, 0.0], "same covariance at 3d": [44.3, 23.8, 0.0],
         "same covariance at 10d": [51.9, 27.7, 0.0]}

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from mtlcore import record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.transfer import SOURCES, source_transfer

power = pd.DataFrame(verdicts.power_table(pilot, n_seeds))
print(f"power calculation (80% power, 95% t-intervals): this profile runs {n_seeds} seeds")
power

# %%
out = repo_path(results_dir) / "wu2020"
seeds, nonlinear_range = range(first_seed, first_seed + n_seeds), range(first_seed, first_seed + nonlinear_seeds)
moderate = [d, 3 * d, 10 * d]
if not set(moderate) <= set(source_counts) or target_samples[0] >= d:
    raise ValueError(f"source_counts must contain {moderate} and the first target size must be below d={d}")
frames = []
for m_t in target_samples:
    noise = 0.0 if m_t < d else variant_noise    # an overdetermined noiseless target is exact alone: noise it
    t = source_transfer("linear", d=d, kappa=kappa, cosine=cosine, m_target=m_t, source_counts=source_counts,
                        noise=noise, seeds=seeds, loss_weighting="sum", progress=True)
    frames.append(t.assign(setting=f"linear, sum loss, {'noiseless' if noise == 0 else f'noise {noise:g}'}, "
                           f"{m_t} target samples" + (" (primary)" if m_t == target_samples[0] else "")))
t = source_transfer("linear", d=d, kappa=kappa, cosine=cosine, m_target=target_samples[-1], source_counts=source_counts,
                    noise=variant_noise, seeds=seeds, loss_weighting="mean", progress=True)
frames.append(t.assign(setting=f"variant: linear, mean loss, noise {variant_noise:g}, {target_samples[-1]} target samples"))
m_nl = int(1.5 * nonlinear_d)
for kind in ("relu", "classification"):
    t = source_transfer(kind, d=nonlinear_d, kappa=kappa, cosine=cosine, m_target=m_nl, source_counts=nonlinear_counts,
                        noise=1.0, seeds=nonlinear_range, loss_weighting="mean", progress=True)
    frames.append(t.assign(setting=f"variant: {kind}, mean loss, noise 1, d={nonlinear_d}"))
table = pd.concat(frames, ignore_index=True)
write_csv(out / "b_f3_transfer.csv", table)
summary = table.groupby(["setting", "source", "m_source"], sort=False)["diff"].mean().unstack("m_source")
summary

# %%
sns.set_theme(style="whitegrid")
settings = list(dict.fromkeys(table.setting))
fig, axes = plt.subplots(2, 3, figsize=(15, 8))
for ax, setting in zip(axes.ravel(), settings):
    sub = table[table.setting == setting]
    sns.lineplot(data=sub, x="m_source", y="diff", hue="source", hue_order=SOURCES, marker="o", errorbar=("ci", 95),
                 ax=ax, legend=ax is axes[0, 0])
    ax.axhline(0, color="black", lw=0.8)
    if "primary" in setting:
        for m in moderate:
            ax.axvline(m, color="grey", ls=":", lw=1)
    metric = "error rate" if "classification" in setting else "MSE"
    ax.set(xscale="log", title=setting, xlabel="source samples", ylabel=f"target val. {metric}, MTL - STL")
    ax.title.set_fontsize(9)
for ax in axes.ravel()[len(settings):]:
    ax.axis("off")
fig.suptitle(f"B-F3: d={d}, kappa={kappa:g} (D entries), cos={cosine}, r=1, {n_seeds} seeds; dotted: the moderate "
             "source counts d, 3d, 10d")
fig.tight_layout()
save_figure(fig, out / "b_f3_transfer")

# %%
def decide(setting):
    sub = table[table.setting == setting]
    diffs = {src: {m: g.sort_values("seed")["diff"].to_numpy() for m, g in part.groupby("m_source")}
             for src, part in sub.groupby("source")}
    largest = sub.m_source.max()
    at_max = sub[sub.m_source == largest].groupby("source")["diff"].apply(verdicts.t_interval)
    return verdicts.b_f3(diffs, "same covariance", moderate, secondary={
        f"at the largest count ({largest})": "; ".join(f"{src} {iv}" for src, iv in at_max.items())})


primary = decide(settings[0])
for c in primary.conditions:
    print(c.describe())
print("B-F3:", primary.verdict, "-", primary.reason)
for key, val in primary.secondary.items():
    print(f"(secondary) {key}: {val}")
also = decide(settings[1]) if len(target_samples) > 1 else None
if also is not None:
    primary.secondary[f"same criterion, {target_samples[1]} target samples (not deciding)"] = (
        f"{also.verdict}: {also.reason}")
    print(f"(secondary) {target_samples[1]} target samples: {also.verdict} - {also.reason}")
same = table[(table.setting == settings[0]) & (table.source == "same covariance")]
record_claim(results_dir, "B-F3", "only the same-covariance source transfers positively without huge source sample "
             "counts", f"primary (noiseless, sum loss, {target_samples[0]} target samples), same-covariance MTL - STL: "
             + ", ".join(f"{m}: {verdicts.t_interval(same[same.m_source == m]['diff'])}" for m in moderate),
             verdict=primary, artefacts=["wu2020/b_f3_transfer.png", "wu2020/b_f3_transfer.csv"])

# %% [markdown]
# **Why the same-covariance source can hurt here, in plain words.** With r = 1 the shared module is
# one direction b, and MTL fits both tasks through it: the fitted target parameter is pulled toward
# the source's parameter, which sits at an angle (cos 0.96) to the target's. That pull is a bias,
# and it is largest where the inputs vary most, because those directions dominate both tasks'
# losses. A source with the target's own covariance has its high-variance directions exactly where
# the target's are, so the angle's bias lands where the target's error is weighed most; a source with
# another covariance spreads its weight over other directions. So the same-covariance source helps
# only while the variance it removes from the target's estimate exceeds the bias it brings. The
# paper's Theorem 2 guarantees positive transfer only when c = kappa(X_target) sin(theta_1, theta_2)
# <= 1/3; here kappa(X) is about kappa = 100 and sin = 0.28 (cos 0.96), so c is about 28, some 80
# times the bound: the setting of Fig. 3 lies outside the theorem, and "not reproduced" for this
# recipe is a finding about the figure, not a contradiction of the theorem.
#
# **Reading.** The verdict is computed from the PAPERS.md criterion in the primary setting only;
# the other panels are shown for what they teach. Two effects compete for a source that shares the
# target's covariance: it lowers the target's estimation error exactly in the directions that weigh
# most, and it imports the angle between theta_1 and theta_2 in those same directions. Which one
# wins depends on how much the target can learn alone (its sample count and noise), which is why
# the underdetermined target, the 1.5 d target and the noisy variant can differ.
