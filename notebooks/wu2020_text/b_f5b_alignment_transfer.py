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
# # B-F5b: transfer from SST with and without covariance alignment (Wu, Zhang & Ré 2020, Fig. 5b)
#
# The paper's setting: word embeddings -> an LSTM -> a linear head (`mtlcore.papers.wu2020.sentiment`). A
# single-task model is trained on the source, SST, with its capacity (the LSTM's output dimension)
# tuned on SST's dev set and its epoch chosen on dev ("to convergence": the dev curve is shown).
# It is then fine-tuned on each target (MR, CR, SUBJ, MPQA, TREC) for `target_epochs` epochs, either
# as it is or with an alignment matrix R (d x d, identity at init) on the target's word vectors,
# Z = X R (Alg. 1's transfer variant). Both arms start from the same source model, the same head
# initialisation and seed, and use the same optimiser and learning rate; each picks its epoch on
# the target's dev set and is scored on the target's test set (SST and TREC: official test sets; MR,
# CR, SUBJ, MPQA: a held-out 10%).
#
# Word vectors: initialised from the default encoder's input embedding table (MiniLM-L6 word pieces),
# since GloVe is not available offline, and **trained** in the source model and in both arms of the
# fine-tuning (the paper trains its embedding layer; amended 2026-12-01: with frozen vectors R was the
# only way to adapt the inputs, which confounds alignment with capacity). Frozen vectors are shown as a
# labelled variant (`frozen_variant`), not deciding. The paper's LSTM is Lei et al.'s SRU; ours is
# torch's LSTM.
#
# Paper: alignment is better on 4 of the 5 targets, by up to +2.5% accuracy.
# Verdict (../shared/PAPERS.md): (core) >= 4 of 5 targets improve (mean over seeds; a count with a
# bootstrap interval over seeds, fewer than 5 seeds inconclusive) and (core) the mean gain over the
# targets has a t-interval over seeds above 0. Seeds fixed in advance by a power calculation on the
# earlier run (`pilot`), fresh seeds.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
sentiment = {"max_train": 32, "max_eval": 32, "epochs": 1}   # SentimentConfig fields (the target runs)
frozen_variant = True        # also run the frozen-vector variant (labelled, not deciding)
# the earlier cpu run (44e127c, frozen vectors, seeds 0-4): per-target gain (points), mean and sd over seeds
pilot = {"gain MR": [-1.08, 1.74, 0.0], "gain CR": [0.26, 2.56, 0.0], "gain SUBJ": [5.96, 2.97, 0.0],
         "gain MPQA": [1.32, 1.14, 0.0], "gain TREC": [15.72, 4.61, 0.0], "mean gain": [4.44, 1.63, 0.0]}
source = "senteval/sst"
source_hidden = [20]         # capacities tried for the source model (chosen on SST dev with the first seed)
source_max_train = 64        # SST training sentences for the source model
source_epochs = 2            # the source model's epochs (best on dev kept)
targets = "senteval/mr,senteval/cr,senteval/subj,senteval/mpqa,senteval/trec"
target_epochs = 1            # fine-tuning epochs on each target (the paper: 5-10)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from mtlcore.progress import tqdm

from mtlcore import best_on_dev, record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.sentiment import SentimentConfig, cached_sentiment, cached_transfer

power = pd.DataFrame(verdicts.power_table(pilot, len(seeds)))
print(f"power calculation (80% power, 95% t-intervals; a count needs >= 5 seeds): this profile runs {len(seeds)} "
      f"seeds {seeds}")
power

# %%
out = repo_path(results_dir) / "wu2020"
base = SentimentConfig(tasks=(source,), **sentiment)
src_base = base.replace(max_train=source_max_train, epochs=source_epochs)
sweep = {h: cached_sentiment(src_base.replace(hidden=h, seed=seeds[0])) for h in source_hidden}
hidden = best_on_dev({h: sweep[h]["dev"][source] for h in source_hidden})
src_base = src_base.replace(hidden=hidden)
print(f"source capacity {hidden} (SST dev accuracy by size: "
      + ", ".join(f"{h}: {r['dev'][source]:.3f}" for h, r in sweep.items()) + ")")

rows, sources = [], []
for vectors in ("trained", "frozen") if frozen_variant else ("trained",):
    for seed in tqdm(seeds, desc=f"seeds ({vectors} vectors)"):
        src_cfg = src_base.replace(seed=seed, train_vectors=vectors == "trained")
        for target in targets.split(","):
            tgt_cfg = base.replace(tasks=(target,), hidden=hidden, epochs=target_epochs, seed=seed,
                                   train_vectors=vectors == "trained")
            for aligned in (False, True):
                r = cached_transfer(src_cfg, tgt_cfg, aligned)
                rows.append({"vectors": vectors, "seed": seed, "target": target,
                             "alignment": "with R" if aligned else "without", "dev": r["dev"][target],
                             "accuracy": r["test"][target], "best_epoch": r["best_epoch"]})
        src = r["source"]                       # the SST model every target of this seed was fine-tuned from
        sources.append({"vectors": vectors, "seed": seed, "dev": src["dev"], "test": src["test"],
                        "best_epoch": src["best_epoch"], "dev_curve": [round(c, 4) for c in src["dev_curve"]]})
sources = pd.DataFrame(sources)
everything = pd.DataFrame(rows)
table = everything[everything.vectors == "trained"]
write_csv(out / "b_f5b_alignment_transfer.csv", everything)
write_csv(out / "b_f5b_source.csv", sources)
print(sources.to_string(index=False))
if not power.enough.all() or len(seeds) < verdicts.MIN_COUNT_SEEDS:
    print("note: fewer seeds than the power calculation (above) or the count rule (5) ask for: "
          + ", ".join(power.condition[~power.enough]))
wide = table.pivot_table(index="target", columns="alignment", values="accuracy", aggfunc="mean")[["without", "with R"]]
wide["gain (points)"] = 100 * (wide["with R"] - wide["without"])
wide.round(4)

# %%
paired = table.pivot_table(index=["target", "seed"], columns="alignment", values="accuracy").reset_index()
paired["gain (points)"] = 100 * (paired["with R"] - paired["without"])
order = targets.split(",")
short = {t: t.split("/")[-1].upper() for t in order}
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
sns.barplot(data=table.replace(short), x="target", y="accuracy", hue="alignment", order=list(short.values()),
            errorbar=("ci", 95), ax=axes[0])
axes[0].set(ylim=(0, 1.15), xlabel="", title=f"target test accuracy after transfer from SST (LSTM-{hidden})")
axes[0].legend(loc="upper center", ncols=2)
sns.barplot(data=paired.replace(short), x="target", y="gain (points)", order=list(short.values()), errorbar=("ci", 95),
            ax=axes[1], color="tab:green")
sns.stripplot(data=paired.replace(short), x="target", y="gain (points)", order=list(short.values()), ax=axes[1],
              color="black", size=4)
axes[1].axhline(0, color="black", lw=0.8)
axes[1].set(xlabel="", title=f"alignment gain per target ({len(seeds)} seed(s))")
fig.tight_layout()
save_figure(fig, out / "b_f5b_alignment_transfer")

# %%
per_seed = {t: g.sort_values("seed")["gain (points)"].to_numpy() for t, g in paired.groupby("target")}
per_seed = {t: per_seed[t] for t in order}
secondary = {}
if len(order) == 5 and "senteval/trec" in order:    # where the gain sits (a review found it in TREC)
    rest = np.mean([per_seed[t] for t in order if t != "senteval/trec"], axis=0)
    secondary["mean gain without TREC (not deciding)"] = str(verdicts.t_interval(rest))
if frozen_variant:
    fz = everything[everything.vectors == "frozen"].pivot_table(index=["target", "seed"], columns="alignment",
                                                              values="accuracy")
    fz_gain = (100 * (fz["with R"] - fz["without"])).unstack("target")[order]
    secondary["variant, frozen word vectors (not deciding)"] = (
        f"mean gain {verdicts.t_interval(fz_gain.mean(axis=1).to_numpy())}; per target "
        + ", ".join(f"{short[t]} {fz_gain[t].mean():+.2f}" for t in order))
v = verdicts.b_f5b(per_seed, secondary)
print(v.describe())
record_claim(results_dir, "B-F5b", "alignment is better on 4 of 5 targets, up to +2.5% accuracy",
             "gain with R (test accuracy points, mean over " + f"{len(seeds)} seed(s)): "
             + ", ".join(f"{short[t]} {wide.loc[t, 'gain (points)']:+.2f}" for t in order)
             + f"; source LSTM-{hidden} on SST, test accuracy {sources.test.mean():.3f} (best epoch on dev "
             f"{sources.best_epoch.tolist()} of {source_epochs}); {target_epochs} target epochs, "
             f"{base.max_train} target sentences, test sets capped at {base.max_eval}; trained word vectors (from MiniLM's "
             "word-piece table)",
             verdict=v, artefacts=["wu2020/b_f5b_alignment_transfer.png", "wu2020/b_f5b_alignment_transfer.csv"])

# %% [markdown]
# **Reading.** The right panel shows each seed's paired gain (dots): where the dots straddle 0 the
# difference is within seed noise at this scale. The verdict follows the PAPERS.md criterion (>= 4
# of 5 targets improve on average, and the mean gain's t-interval over seeds above 0). The source
# table above shows the source model's dev curve: its best epoch before the last means it was
# trained past its dev optimum, i.e. to convergence at this data size.
#
# A caveat the criterion does not see: R is a d x d matrix (384 x 384 here) that only the aligned arm
# trains. With trained word vectors both arms can adapt the target's inputs, so R's extra capacity
# matters less than in the frozen variant (shown as a secondary line, with the mean gain without TREC,
# the target farthest from SST); B-F7's eq. 5 scores before and after alignment are the place to look
# at alignment itself.
