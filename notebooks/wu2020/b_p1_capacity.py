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
# # B-P1: shared capacity and transfer (Wu, Zhang & Ré 2020, Prop. 1)
#
# k related linear tasks share a module of width r. Prop. 1: when r >= k there is an optimum with
# B A_i = theta_i (each task's single-task solution), so the tasks do not interact: no transfer.
# Below k the shared module must compromise, which is where transfer (positive or negative)
# happens. The left panel shows the distance of each task's MTL predictor from its STL predictor,
# the right panel the change in validation MSE.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
k = 4
d = 20
samples = 30
widths = [1, 2, 4, 5]
n_seeds = 2

# %%
import matplotlib.pyplot as plt
import seaborn as sns

from mtlcore import repo_path, save_figure, write_csv
from mtlcore.claims import record_claim
from mtlcore.transfer import capacity_sweep

out = repo_path(results_dir) / "wu2020"
table = capacity_sweep(k=k, d=d, m=samples, widths=widths, seeds=range(n_seeds))
write_csv(out / "b_p1_capacity.csv", table)
table.groupby("r")[["gap", "diff"]].agg(["mean", "max"]).round(4)

# %%
sns.set_theme(style="whitegrid")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
sns.lineplot(data=table.assign(gap=table.gap.clip(lower=1e-16)), x="r", y="gap", marker="o", errorbar=("ci", 95),
             ax=axes[0])
axes[0].set(yscale="log", ylabel="relative distance MTL - STL", xlabel="shared width r",
            title="||B A_i - theta_i(STL)|| / ||theta_i(STL)||")
sns.lineplot(data=table, x="r", y="diff", marker="o", errorbar=("ci", 95), ax=axes[1])
axes[1].axhline(0, color="black", lw=0.8)
axes[1].set(ylabel="val. MSE, MTL - STL", xlabel="shared width r", title="transfer (below 0 = positive)")
for ax in axes:
    ax.axvline(k, color="tab:red", ls="--", lw=1)
    ax.text(k, ax.get_ylim()[1], " r = k", color="tab:red", va="top")
fig.suptitle(f"B-P1: k={k} tasks, d={d}, {samples} samples each, {n_seeds} seeds")
fig.tight_layout()
save_figure(fig, out / "b_p1_capacity")

# %%
above, below = table[table.r >= k], table[table.r < k]
checks = {"r >= k: MTL equals STL for every task (relative gap < 1e-6)": above.gap.max() < 1e-6,
          "r < k: the shared module changes the predictors (transfer happens)": below.groupby("r").gap.mean().min() > 1e-3}
claim = record_claim(results_dir, "B-P1", "with shared capacity r >= k there is an optimum with no transfer",
                     f"max gap at r >= k: {above.gap.max():.1e}; mean gap at r < k: "
                     + ", ".join(f"r={r}: {g:.3f}" for r, g in below.groupby('r').gap.mean().items())
                     + f"; MTL-STL val. MSE at r=1: {table[table.r == min(widths)]['diff'].mean():+.3f}",
                     checks, ["wu2020/b_p1_capacity.png", "wu2020/b_p1_capacity.csv"])
for key, v in checks.items():
    print(("holds   " if v else "FAILS   ") + key)
print("verdict:", claim["verdict"])
