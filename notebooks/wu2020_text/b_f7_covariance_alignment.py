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
# task, `mtlcore.papers.wu2020.sentiment`) is trained with Alg. 1's schedule: phase 1 trains the shared LSTM and
# the heads; phase 2 fixes the LSTM and trains, from the same phase-1 state, either the alignment
# matrices R_i and the heads (with alignment) or the heads alone (without; R stays the identity).
# The gain is the pair's mean test accuracy with minus without; each arm picks its epoch on dev.
#
# The score is eq. 5 itself (raw, `covariance_similarity(normalise=False)`) of the two tasks'
# embeddings before the LSTM: before alignment the word vectors X_i of the training sentences (what
# the single-task models see, the vectors being frozen), after alignment X_i R_i of the aligned MTL
# model. The self-normalised score is shown as a labelled extra; it can move the other way.
#
# Paper: gain on 13 of 15 pairs (up to +4.1%), the score rises on all 15 after alignment.
# Verdict (../shared/PAPERS.md): (core) the raw score rises on >= 12 of 15 pairs; (core) alignment
# gains (mean over seeds) on >= 10 of 15. Secondary: Spearman(score change, gain) > 0.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
sentiment = {"max_train": 32, "max_eval": 32, "epochs": 1, "hidden": 20}   # SentimentConfig fields (phase 1)
tasks = "senteval/sst,senteval/mr,senteval/cr,senteval/subj,senteval/mpqa,senteval/trec"
phase2_epochs = 1            # epochs of phase 2 (shared LSTM fixed), both arms

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from tqdm.auto import tqdm

from mtlcore import record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.sentiment import SentimentConfig, cached_alignment_pair

out = repo_path(results_dir) / "wu2020"
names = tasks.split(",")
short = {t: t.split("/")[-1].upper() for t in names}
pairs = list(itertools.combinations(names, 2))
rows = []
for (a, b), seed in tqdm(list(itertools.product(pairs, seeds)), desc="pairs x seeds"):
    r = cached_alignment_pair(SentimentConfig(tasks=(a, b), seed=seed, **sentiment), phase2_epochs)
    rows.append({"pair": f"{short[a]}-{short[b]}", "seed": seed,
                 "without": float(np.mean(list(r["without"]["test"].values()))),
                 "with": float(np.mean(list(r["with"]["test"].values()))),
                 "phase 1": float(np.mean(list(r["phase1"]["test"].values()))),
                 "eq5 before": r["before"]["eq5"], "eq5 after": r["after"]["eq5"],
                 "normalised before": r["before"]["normalised"], "normalised after": r["after"]["normalised"]})
table = pd.DataFrame(rows)
table["gain (points)"] = 100 * (table["with"] - table["without"])
write_csv(out / "b_f7_covariance_alignment.csv", table)
summary = table.groupby("pair", sort=False).mean(numeric_only=True).drop(columns="seed")
summary["eq5 change"] = summary["eq5 after"] - summary["eq5 before"]
summary["normalised change"] = summary["normalised after"] - summary["normalised before"]
summary[["eq5 before", "eq5 after", "eq5 change", "normalised change", "gain (points)"]].round(4)

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
s = summary.reset_index()
axes[0].scatter(s["eq5 change"], s["gain (points)"], color="tab:blue")
for _, row in s.iterrows():
    axes[0].annotate(row.pair, (row["eq5 change"], row["gain (points)"]), fontsize=7, xytext=(3, 3),
                     textcoords="offset points")
axes[0].axhline(0, color="black", lw=0.8)
axes[0].axvline(0, color="black", lw=0.8)
axes[0].set(xlabel="raw eq. 5 score: after - before alignment", ylabel="alignment gain (test accuracy points)",
            title=f"15 task pairs ({len(seeds)} seed(s))")
long = s.melt(id_vars="pair", value_vars=["eq5 before", "eq5 after"], var_name="", value_name="raw eq. 5 score")
sns.barplot(data=long, x="pair", y="raw eq. 5 score", hue="", ax=axes[1])
axes[1].tick_params(axis="x", rotation=70)
axes[1].set(xlabel="", title="raw eq. 5 score of the pair's embeddings")
fig.tight_layout()
save_figure(fig, out / "b_f7_covariance_alignment")

# %%
v = verdicts.b_f7(summary["eq5 change"].to_dict(), summary["gain (points)"].to_dict())
norm_rises = int((summary["normalised change"] > 0).sum())
print(f"labelled extra: the self-normalised score rises on {norm_rises}/{len(summary)} pairs")
print(v.describe())
record_claim(results_dir, "B-F7", "alignment gains on 13 of 15 pairs (up to +4.1%); the score rises on all 15",
             f"raw eq. 5 score rises on {int((summary['eq5 change'] > 0).sum())}/{len(summary)} pairs, alignment gains "
             f"on {int((summary['gain (points)'] > 0).sum())}/{len(summary)} (largest {summary['gain (points)'].max():+.2f} "
             f"points, mean {summary['gain (points)'].mean():+.2f}); normalised score rises on {norm_rises}; "
             f"{len(seeds)} seed(s), LSTM-{sentiment.get('hidden', 100)}, {sentiment.get('max_train')} sentences per task",
             verdict=v, artefacts=["wu2020/b_f7_covariance_alignment.png", "wu2020/b_f7_covariance_alignment.csv"])

# %% [markdown]
# **Reading.** Each point is one task pair: to the right the raw eq. 5 score rose with alignment,
# upwards alignment improved the pair's mean test accuracy. The "without" arm trains exactly as
# long as the "with" arm (heads only, R fixed at the identity), so the gain is R's alone.
