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
# # B-F7: covariance similarity score vs the gain from alignment, 15 sentiment task pairs (Wu, Zhang & Ré 2020, Fig. 7)
#
# For each pair of the six sentence tasks, one MTL model (word vectors -> shared LSTM -> a head per
# task, `mtlcore.papers.wu2020.sentiment`) is trained with Alg. 1's schedule: phase 1 trains the word
# vectors, the shared LSTM and the heads; phase 2 fixes the LSTM and trains, from the same phase-1
# state, the word vectors and the heads plus the alignment matrices R_i (with alignment), or the word
# vectors and the heads alone (without; R stays the identity). The gain is the pair's mean test
# accuracy with minus without; each arm picks its epoch on dev.
#
# The word vectors are initialised from MiniLM's word-piece table and **trained** in every model (the
# paper trains its embedding layer; amended 2026-12-01: with frozen vectors R was the only way to adapt
# the inputs, which confounds alignment with capacity). The score is eq. 5 itself (raw,
# `factor_similarity` of the spectral factors) of the two tasks' embeddings before the LSTM, as in the
# paper's Sec. 3.3: **before** alignment, each task's own single-task model's trained embedding of its
# training sentences (six STL models per seed); **after**, the aligned MTL model's X_i R_i. The
# self-normalised score is shown as a labelled extra; it can move the other way.
#
# Paper: gain on 13 of 15 pairs (up to +4.1%), the score rises on all 15 after alignment.
# Verdict (../shared/PAPERS.md): (core) the raw score rises on >= 12 of 15 pairs; (core) alignment
# gains on >= 10 of 15; each a count of per-pair means over seeds with a bootstrap interval over seeds
# (fewer than 5 seeds: inconclusive). Secondary: Spearman(mean score change, mean gain) > 0.
#
# What "before -> after" includes: before, each task has its own STL model's vectors; after, both tasks
# share the MTL model's jointly trained vectors, and R acts on top. So the raw score can move with R
# at the identity. The "without" arm (same schedule, R fixed) separates the two: its eq. 5 score is
# shown, and **R's own share** (after with R - after without R, per pair) is a secondary line.
#
# **Seeds**: 5, the count rule's minimum. The power table below is from the earlier run (`pilot`: the
# committed cpu result, frozen vectors, seeds 0-1), whose "eq5 change" was measured against the phase-1
# MTL embeddings, not against STL models: it is shown for the order of magnitude, not as the estimand of
# this run. Fresh seeds.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
sentiment = {"max_train": 32, "max_eval": 32, "epochs": 1, "hidden": 20}   # SentimentConfig fields (phase 1)
# the earlier cpu run (44e127c, frozen vectors, 2 seeds; its eq5 change was after - phase-1 MTL, an older
# definition): per pair gain and raw eq. 5 change, mean and sd over seeds (effect, sd, threshold)
pilot = {"gain MR-CR (points)": [1.447, 1.531, 0.0], "gain SST-CR (points)": [-0.545, 0.434, 0.0],
         "gain SST-MR (points)": [-4.600, 3.536, 0.0], "eq5 change MR-CR": [0.002, 0.015, 0.0],
         "eq5 change SST-SUBJ": [-0.003, 0.018, 0.0], "eq5 change CR-SUBJ": [0.031, 0.054, 0.0]}
tasks = "senteval/sst,senteval/mr,senteval/cr,senteval/subj,senteval/mpqa,senteval/trec"
phase2_epochs = 1            # epochs of phase 2 (shared LSTM fixed), both arms

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from mtlcore.progress import tqdm

from mtlcore import record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.analysis.covariance import factor_similarity
from mtlcore.papers.wu2020.sentiment import SentimentConfig, cached_alignment_pair, cached_stl_factor

power = pd.DataFrame(verdicts.power_table(pilot, len(seeds)))
print(f"power calculation (80% power, 95% t-intervals; a count needs >= 5 seeds): this profile runs {len(seeds)} "
      f"seeds {seeds}")
power

# %%
out = repo_path(results_dir) / "wu2020"
names = tasks.split(",")
short = {t: t.split("/")[-1].upper() for t in names}
pairs = list(itertools.combinations(names, 2))
stl = {(t, seed): cached_stl_factor(SentimentConfig(tasks=(t,), seed=seed, **sentiment))
       for seed in tqdm(seeds, desc="STL models (before)") for t in names}
rows = []
for (a, b), seed in tqdm(list(itertools.product(pairs, seeds)), desc="pairs x seeds"):
    r = cached_alignment_pair(SentimentConfig(tasks=(a, b), seed=seed, **sentiment), phase2_epochs)
    fa, fb = stl[a, seed]["factor"], stl[b, seed]["factor"]
    rows.append({"pair": f"{short[a]}-{short[b]}", "seed": seed,
                 "without": float(np.mean(list(r["without"]["test"].values()))),
                 "with": float(np.mean(list(r["with"]["test"].values()))),
                 "phase 1": float(np.mean(list(r["phase1"]["test"].values()))),
                 "STL": float(np.mean([stl[a, seed]["test"][a], stl[b, seed]["test"][b]])),
                 "eq5 before": factor_similarity(fa, fb), "eq5 after": r["after"]["eq5"],
                 "normalised before": factor_similarity(fa, fb, normalise=True),
                 "normalised after": r["after"]["normalised"],
                 "eq5 after without R": r["after_without"]["eq5"],
                 "eq5 phase 1 (MTL, unaligned)": r["before_phase1"]["eq5"]})
table = pd.DataFrame(rows)
table["gain (points)"] = 100 * (table["with"] - table["without"])
write_csv(out / "b_f7_covariance_alignment.csv", table)
summary = table.groupby("pair", sort=False).mean(numeric_only=True).drop(columns="seed")
summary["eq5 change"] = summary["eq5 after"] - summary["eq5 before"]
summary["normalised change"] = summary["normalised after"] - summary["normalised before"]
summary["R's share"] = summary["eq5 after"] - summary["eq5 after without R"]
summary[["STL", "without", "with", "eq5 before", "eq5 after without R", "eq5 after", "eq5 change", "R's share",
         "normalised change", "gain (points)"]].round(4)

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
s = summary.reset_index()
axes[0].scatter(s["eq5 change"], s["gain (points)"], color="tab:blue")
for n, (_, row) in enumerate(s.sort_values("eq5 change").iterrows()):   # labels alternate above and below
    axes[0].annotate(row.pair, (row["eq5 change"], row["gain (points)"]), fontsize=7,
                     xytext=(3, 4 if n % 2 else -10), textcoords="offset points")
axes[0].axhline(0, color="black", lw=0.8)
axes[0].axvline(0, color="black", lw=0.8)
axes[0].set(xlabel="raw eq. 5 score: after - before alignment", ylabel="alignment gain (test accuracy points)",
            title=f"15 task pairs ({len(seeds)} seed(s))")
long = s.melt(id_vars="pair", value_vars=["eq5 before", "eq5 after"], var_name="", value_name="raw eq. 5 score")
sns.barplot(data=long, x="pair", y="raw eq. 5 score", hue="", ax=axes[1])
axes[1].tick_params(axis="x", rotation=70)
axes[1].set(xlabel="", title="raw eq. 5 score of the pair's embeddings")
axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
fig.tight_layout()
save_figure(fig, out / "b_f7_covariance_alignment")

# %%
table["eq5 change"] = table["eq5 after"] - table["eq5 before"]
per_seed = {name: {p: g.sort_values("seed")[col].to_numpy() for p, g in table.groupby("pair", sort=False)}
            for name, col in (("change", "eq5 change"), ("gain", "gain (points)"))}
v = verdicts.b_f7(per_seed["change"], per_seed["gain"])
share = (table["eq5 after"] - table["eq5 after without R"]).groupby(table.seed).mean().to_numpy()
share_rises = int((summary["R's share"] > 0).sum())
share_mean = verdicts.t_interval(share) if len(share) > 1 else f"{share.mean():+.4f}"
v.secondary["R's own share of the change (after with R - after without R, same MTL schedule)"] = (
    f"rises on {share_rises}/{len(summary)} pairs; mean over pairs {share_mean} (t over seeds)")
norm_rises = int((summary["normalised change"] > 0).sum())
print(f"labelled extra: the self-normalised score rises on {norm_rises}/{len(summary)} pairs")
print(v.describe())
record_claim(results_dir, "B-F7", "alignment gains on 13 of 15 pairs (up to +4.1%); the score rises on all 15",
             f"raw eq. 5 score rises on {int((summary['eq5 change'] > 0).sum())}/{len(summary)} pairs, alignment gains "
             f"on {int((summary['gain (points)'] > 0).sum())}/{len(summary)} (largest {summary['gain (points)'].max():+.2f} "
             f"points, mean {summary['gain (points)'].mean():+.2f}); normalised score rises on {norm_rises}; "
             f"{len(seeds)} seed(s), LSTM-{sentiment.get('hidden', 100)}, {sentiment.get('max_train')} sentences per task, "
             "trained word vectors (before: the STL models' embeddings)",
             verdict=v, artefacts=["wu2020/b_f7_covariance_alignment.png", "wu2020/b_f7_covariance_alignment.csv"])
if not power.enough.all() or len(seeds) < verdicts.MIN_COUNT_SEEDS:
    print("note: fewer seeds than the power calculation (above) or the count rule (5) ask for: "
          + ", ".join(power.condition[~power.enough]))

# %% [markdown]
# **Reading.** Each point is one task pair: to the right the raw eq. 5 score rose from the STL models'
# embeddings to the aligned MTL model's (which includes the move from separate to shared word vectors;
# R's own share is the secondary line),
# upwards alignment improved the pair's mean test accuracy. The "without" arm trains exactly as
# long as the "with" arm (word vectors and heads, R fixed at the identity), so the gain is R's alone,
# and R is no longer the only way the inputs can adapt.
