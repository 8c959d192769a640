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
# Transfer variant of Alg. 1: a single-task model is trained on the source (SST, binary
# sentiment); its encoder is then fine-tuned on each target (MR, CR, SUBJ, MPQA, TREC) either as
# it is or with an alignment matrix R (d x d, identity at init) applied to the embedding layer's
# output, Z = X R. Both variants start from the same source encoder, the same head initialisation
# and the same seed, so each pair differs only by R. The paper used GloVe + LSTM models and
# BERT; here the encoder is the profile's (MiniLM-L6 on the CPU) and the sizes are the profile's.
#
# Paper: alignment is better on 4 of the 5 targets, by up to +2.5% accuracy.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
train = {"max_train": 32, "max_eval": 32, "epochs": 1}   # TrainConfig fields (the profile's `train`)
source = "senteval/sst"
targets = "senteval/mr,senteval/cr,senteval/subj,senteval/mpqa,senteval/trec"
target_epochs = 1        # fine-tuning epochs on each target (the paper: 5-10)
alignment_lr = 1e-3      # learning rate of R (the encoder and head use train["lr"])

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from mtlcore import TrainConfig, repo_path, save_figure, write_csv
from mtlcore.cache import cached_train
from mtlcore.claims import record_claim
from mtlcore.train import run_checkpoint

out = repo_path(results_dir) / "wu2020"
base = TrainConfig.from_dict({**train, "tasks": [source], "mode": "stl"}, source="parameters")
rows = []
for seed in seeds:
    src = cached_train(base.replace(seed=seed, save_checkpoint=True))
    encoder = run_checkpoint(src.folder, source) / "encoder"
    for target in targets.split(","):
        for aligned in (False, True):
            cfg = base.replace(tasks=[target], encoder=str(encoder), epochs=target_epochs, seed=seed,
                               alignment=aligned, alignment_lr=alignment_lr if aligned else None,
                               save_checkpoint=False)
            run = cached_train(cfg)
            rows.append({"seed": seed, "target": target, "alignment": "with R" if aligned else "without",
                         "accuracy": run.metrics["tasks"][target]["accuracy"],
                         "source_accuracy": src.metrics["tasks"][source]["accuracy"]})
table = pd.DataFrame(rows)
write_csv(out / "b_f5b_alignment_transfer.csv", table)
wide = table.pivot_table(index="target", columns="alignment", values="accuracy", aggfunc="mean")[["without", "with R"]]
wide["gain"] = wide["with R"] - wide["without"]
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
axes[0].set(ylim=(0, 1.15), xlabel="", title=f"target accuracy after transfer from {source}")
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
from mtlcore import verdicts

gains = wide["gain"]
per_seed = {t: g.sort_values("seed")["gain (points)"].to_numpy() for t, g in paired.groupby("target")}  # points
v = verdicts.b_f5b(per_seed)
for c in v.conditions:
    print(c.describe())
print("B-F5b:", v.verdict, "-", v.reason)
record_claim(results_dir, "B-F5b", "alignment is better on 4 of 5 targets, up to +2.5% accuracy",
             f"gain with R (accuracy points, mean over {len(seeds)} seed(s)): "
             + ", ".join(f"{t.split('/')[-1]} {100 * g:+.2f}" for t, g in gains.items())
             + f"; source {source} dev accuracy {table.source_accuracy.mean():.3f} (transformer setting, scored on the "
             "dev set that also selects the epoch: not yet the paper's LSTM setting)",
             verdict=v, artefacts=["wu2020/b_f5b_alignment_transfer.png", "wu2020/b_f5b_alignment_transfer.csv"])

# %% [markdown]
# **Reading.** The right panel shows each seed's paired gain (dots): where the dots straddle 0
# the difference is within seed noise at this scale. The verdict follows the PAPERS.md criterion
# (>= 4 of 5 targets improve on average, and the mean gain's t-interval over seeds above 0). This
# notebook still runs the transformer setting and scores on the dev set that picks the epoch; the
# paper's LSTM setting with a test split is the open part of issue 12.
