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
# # B-F6: shared capacity of one MTL model vs the STL models' capacities (Wu, Zhang & Ré 2020, Fig. 6)
#
# Six sentence tasks (SST, MR, CR, SUBJ, MPQA, TREC); each model is word vectors -> an LSTM -> a
# linear head per task (`mtlcore.papers.wu2020.sentiment`). The capacity of the LSTM is its output dimension. We
# sweep it for each single-task (STL) model and for one multi-task (MTL) model over all six tasks;
# the capacity of each is the size with the best dev accuracy (for MTL: mean dev accuracy over the
# tasks), and accuracies are reported on test. Prop. 1's consequence is that the shared module
# should be smaller than the sum of the STL capacities, or the tasks do not interact.
#
# The paper used GloVe vectors; offline the word vectors are initialised from the input embedding table
# of the default encoder (MiniLM-L6's 384-wide word-piece vectors) and trained, as the paper trains its
# embedding layer (amended 2026-12-01); torch's LSTM replaces Lei et al.'s SRU. The sweep runs with the
# first seed; the selected sizes are then trained with every seed, and the seeds give the interval of
# the MTL - STL difference (their number from a power calculation on the earlier run, `pilot`). The
# sweep should reach the paper's 500: an optimum on the grid's largest size is not bracketed, and the
# notebook says so (then "below the sum of the STL capacities" may hold only because the grid stops).
#
# Paper: STL capacities 200 / 200 / 5 / 200 / 500 / 100 (sum 1205), mean test accuracy 82.6; MTL
# shared capacity 100, stated mean 85.1. Its MTL column (90.8, 96.0, 78.7, 89.5, 87.0, 78.7) averages
# 86.8, not 85.1: one entry is probably mis-printed, so we compare with the stated mean and show both.
#
# Verdict (../shared/PAPERS.md): (core) the MTL model's best shared size is below the sum of the STL
# capacities; (core) the MTL mean test accuracy minus the STL mean has a t-interval over seeds whose
# lower bound is >= -1 point.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
seeds = [0]
sentiment = {"max_train": 32, "max_eval": 32, "epochs": 1}   # SentimentConfig fields
tasks = "senteval/sst,senteval/mr,senteval/cr,senteval/subj,senteval/mpqa,senteval/trec"
hidden_sizes = [5, 20]          # the capacities swept (the paper: 5 ... 500)
# the earlier cpu run (44e127c, frozen vectors, seeds 0-2): MTL - STL mean test accuracy (points), mean and sd over
# seeds, against the criterion's -1 point
pilot = {"MTL - STL mean test accuracy (points)": [-2.59, 2.36, -1.0]}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from mtlcore.progress import tqdm

from mtlcore import best_on_dev, record_claim, repo_path, save_figure, verdicts, write_csv
from mtlcore.papers.wu2020.sentiment import SentimentConfig, cached_sentiment

power = pd.DataFrame(verdicts.power_table(pilot, len(seeds)))
print(f"power calculation (80% power, 95% t-intervals): this profile runs {len(seeds)} seeds {seeds}")
power

# %%
out = repo_path(results_dir) / "wu2020"
names = tasks.split(",")
short = {t: t.split("/")[-1].upper() for t in names}
base = SentimentConfig(tasks=tuple(names), **sentiment)
sweep_seed = seeds[0]
rows = []
jobs = [(t, h) for h in hidden_sizes for t in [*names, "MTL"]]
for task, h in tqdm(jobs, desc="capacity sweep"):
    cfg = base.replace(tasks=tuple(names) if task == "MTL" else (task,), hidden=h, seed=sweep_seed)
    r = cached_sentiment(cfg)
    for t in r["test"]:
        rows.append({"model": "MTL" if task == "MTL" else "STL", "task": short[t], "hidden": h,
                     "dev": r["dev"][t], "test": r["test"][t], "mean_dev": float(np.mean(list(r["dev"].values())))})
sweep = pd.DataFrame(rows)
write_csv(out / "b_f6_capacity_sweep.csv", sweep)


def best_size(frame: pd.DataFrame, column: str) -> int:
    """The size with the best dev score (ties: the smaller size)."""
    return int(best_on_dev(frame.groupby("hidden")[column].mean().to_dict()))


stl_capacity = {short[t]: best_size(sweep[(sweep.model == "STL") & (sweep.task == short[t])], "dev") for t in names}
mtl_size = best_size(sweep[sweep.model == "MTL"], "mean_dev")
print("STL capacities:", stl_capacity, "sum", sum(stl_capacity.values()), "| MTL shared size:", mtl_size)
edge = max(hidden_sizes)
on_edge = [t for t, h in stl_capacity.items() if h == edge] + (["MTL"] if mtl_size == edge else [])
bracketed = ("every optimum is inside the grid" if not on_edge else
             f"optimum on the grid's largest size {edge} (not bracketed): {', '.join(on_edge)}")
print(bracketed)

# %% [markdown]
# The selected sizes, trained with every seed (the sweep seed's runs come from the cache).

# %%
final = []
for seed in tqdm(seeds, desc="seeds"):
    for t in names:
        r = cached_sentiment(base.replace(tasks=(t,), hidden=stl_capacity[short[t]], seed=seed))
        final.append({"seed": seed, "model": "STL", "task": short[t], "hidden": stl_capacity[short[t]],
                      "test": r["test"][t]})
    r = cached_sentiment(base.replace(hidden=mtl_size, seed=seed))
    final += [{"seed": seed, "model": "MTL", "task": short[t], "hidden": mtl_size, "test": r["test"][t]} for t in names]
final = pd.DataFrame(final)
write_csv(out / "b_f6_capacity_seeds.csv", final)

# the paper's Table (SST, MR, CR, SUBJ, MPQA, TREC); a `tasks` subset keeps its own rows
paper = pd.DataFrame({"task": ["SST", "MR", "CR", "SUBJ", "MPQA", "TREC"],
                      "paper STL cap.": [200, 200, 5, 200, 500, 100], "paper STL acc.": [82.3, 76.4, 73.2, 91.5, 86.7, 85.7],
                      "paper MTL acc.": [90.8, 96.0, 78.7, 89.5, 87.0, 78.7]})
acc = (100 * final.pivot_table(index="task", columns="model", values="test", aggfunc="mean")).round(1)
table = pd.DataFrame({"task": list(short.values()),
                      "STL cap.": [stl_capacity[s] for s in short.values()],
                      "STL acc.": [acc.loc[s, "STL"] for s in short.values()],
                      "MTL cap.": mtl_size,
                      "MTL acc.": [acc.loc[s, "MTL"] for s in short.values()]}).merge(paper, on="task", how="left")
overall = {"task": "Overall", "STL cap.": sum(stl_capacity.values()), "STL acc.": table["STL acc."].mean().round(1),
           "MTL cap.": mtl_size, "MTL acc.": table["MTL acc."].mean().round(1)}
if set(short.values()) == set(paper.task):   # the paper's overall row is over its six tasks
    overall.update({"paper STL cap.": 1205, "paper STL acc.": 82.6, "paper MTL acc.": "85.1 stated (column mean 86.8)"})
table = pd.concat([table, pd.DataFrame([overall])], ignore_index=True)
write_csv(out / "b_f6_capacity_table.csv", table)
table

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
stl = sweep[sweep.model == "STL"]
sns.lineplot(data=stl, x="hidden", y="dev", hue="task", marker="o", ax=axes[0])
mtl_mean = sweep[sweep.model == "MTL"].groupby("hidden")["dev"].mean().reset_index()
axes[0].plot(mtl_mean.hidden, mtl_mean.dev, "k--", marker="s", label="MTL (mean over tasks)")
axes[0].axvline(mtl_size, color="black", lw=0.8, ls=":")
axes[0].set(xscale="log", xlabel="LSTM capacity (output dimension)", ylabel="dev accuracy",
            title=f"capacity sweep (seed {sweep_seed}); dotted: MTL's best size {mtl_size}")
axes[0].legend(fontsize=8, ncols=2)
diff = final.pivot_table(index=["seed", "task"], columns="model", values="test").reset_index()
diff["MTL - STL (points)"] = 100 * (diff["MTL"] - diff["STL"])
sns.barplot(data=diff, x="task", y="MTL - STL (points)", order=list(short.values()), errorbar=("ci", 95),
            color="tab:blue", ax=axes[1])
sns.stripplot(data=diff, x="task", y="MTL - STL (points)", order=list(short.values()), color="black", size=4,
              ax=axes[1])
axes[1].axhline(0, color="black", lw=0.8)
axes[1].set(xlabel="", title=f"test accuracy, MTL (size {mtl_size}) - STL (own capacities), {len(seeds)} seed(s)")
fig.tight_layout()
save_figure(fig, out / "b_f6_capacity")

# %%
per_seed = final.groupby(["seed", "model"])["test"].mean().unstack()
mtl_minus_stl = (100 * (per_seed["MTL"] - per_seed["STL"])).to_numpy()
v = verdicts.b_f6(stl_capacity, mtl_size, mtl_minus_stl)
v.secondary["capacity grid"] = f"{hidden_sizes}: {bracketed}"
print(v.describe())
record_claim(results_dir, "B-F6", "STL capacities sum to 1205; one MTL model with shared capacity 100 reaches mean "
             "accuracy 85.1 vs the STL mean 82.6 (its column averages 86.8)",
             f"STL capacities {stl_capacity} (sum {sum(stl_capacity.values())}); MTL shared size {mtl_size}; mean test "
             f"accuracy STL {100 * per_seed['STL'].mean():.1f}, MTL {100 * per_seed['MTL'].mean():.1f} "
             f"({len(seeds)} seed(s); LSTM on trained word vectors from MiniLM's table, sizes {hidden_sizes}, "
             f"{sentiment.get('max_train')} training sentences per task)",
             verdict=v, artefacts=["wu2020/b_f6_capacity.png", "wu2020/b_f6_capacity_table.csv",
                                   "wu2020/b_f6_capacity_sweep.csv"])

# %% [markdown]
# **Reading.** The first condition compares the MTL model's best shared size with the sum of the
# STL capacities; it can fail (a sweep whose MTL optimum is its largest size with small STL optima).
# The second asks whether the one shared model stays within a point of the six STL models on test.
# The paper's own MTL column is internally inconsistent (mean 86.8 vs the stated 85.1); we compare
# only directions and the criterion, never the paper's numbers.
