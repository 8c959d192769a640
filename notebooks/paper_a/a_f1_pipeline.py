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
# # A-F1: one real lumbar MRI note through the pipeline
#
# Paper A's pipeline: report -> sentences -> a level tag per sentence -> the text grouped per level
# -> one MTL model predicts every pathology of each level from that level's text (one encoder pass
# per level for all six heads). The note is chosen by a fixed rule, not by its result: the first
# note (by id) of the **test** split with findings at two or more levels, at least three sentences
# and nothing the labeller could not parse. The model is the MTL model of the six lumbar tasks at
# this profile's size (seed 0); its predictions are shown next to the silver labels.
#
# PAPERS.md fixes no verdict criterion for this figure, so it records none; the models' accuracy is
# judged in A-T1.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
train = {"max_train": 32, "max_eval": 32, "epochs": 1}   # TrainConfig fields (the profile's `train`)
gradient_every = 1                # as in A-T1, whose cached MTL model (seed 0) this is

# %%
import matplotlib.pyplot as plt

from mtlcore import cached_train, load_tokenizer, repo_path, save_figure
from mtlcore.papers.paper_a import base_config, family_config
from mtlcore.tasks import data_root, get_task
from mtlcore.tasks.lumbar import LEVELS, PATHOLOGIES
from mtlcore.tasks.radiology import grade_class, lumbar_examples, lumbar_parses

out = repo_path(results_dir) / "paper_a"
parses = lumbar_parses()
ex = lumbar_examples(str(data_root()))
test_ids = sorted(set(ex["ids"][ex["split"]["test"]].tolist()))


def eligible(pid):
    p = parses[pid]
    levels = [lv for lv, d in p.labels.items() if any(g != "absent" for g in d.values())]
    return len(levels) >= 2 and len(p.sentences) >= 3 and not p.unparsed


note_id = next(pid for pid in test_ids if eligible(pid))
note = parses[note_id]
print(f"note {note_id} (test split):\n{note.text}")

# %%
tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES]
cfg = family_config(base_config(train, gradient_every), "mtl", tasks, seed=0)
model = cached_train(cfg, need_models=True).models["mtl"]
tok = load_tokenizer(cfg.encoder)
levels = [lv for lv in LEVELS if note.grouped_text[lv].strip()]
logits = model.predict(tok, [f"{lv}: {note.grouped_text[lv].strip()}" for lv in levels], tasks,
                       max_length=cfg.max_length)
pred = {t: logits[t].argmax(-1) for t in tasks}
rows = []
for i, lv in enumerate(levels):
    for p in PATHOLOGIES:
        t = f"radiology/lumbar/{p}"
        names = get_task(t).label_names
        rows.append({"level": lv, "pathology": p, "silver": names[grade_class(p, note.labels[lv][p])],
                     "predicted": names[int(pred[t][i])]})
import pandas as pd

table = pd.DataFrame(rows)
table

# %%
fig = plt.figure(figsize=(13, 1.6 + 0.5 * (len(note.sentences) + len(levels))), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1, 1.35])
ax = left.subplots()
ax.axis("off")
ax.set_title(f"note {note_id}: sentences and level tags", loc="left")
y = 1.0
for s, tag in zip(note.sentences, note.tags):
    ax.text(0, y, f"[{', '.join(tag) or 'no level'}]", color="tab:blue", fontsize=9, va="top", family="monospace")
    ax.text(0.24, y, s if len(s) < 70 else s[:67] + "...", fontsize=9, va="top", wrap=True)
    y -= 1 / (len(note.sentences) + len(levels) + 2)
ax.text(0, y - 0.02, "grouped text per level (model input):", fontsize=9, va="top", style="italic")
for lv in levels:
    y -= 1 / (len(note.sentences) + len(levels) + 2)
    txt = note.grouped_text[lv].strip()
    ax.text(0, y - 0.02, f"{lv}: {txt if len(txt) < 90 else txt[:87] + '...'}", fontsize=8, va="top")
ax2 = right.subplots()
ax2.axis("off")
ax2.set_title(f"silver label / MTL prediction ({profile} profile, seed 0; present+ = present or worse)",
              loc="left")
short = {"present_or_worse": "present+"}  # display only
cells = [[f"{short.get(r.silver, r.silver)} / {short.get(r.predicted, r.predicted)}" for r in table[table.level == lv].itertuples()] for lv in levels]
colours = [["#d7f0d7" if r.silver == r.predicted else "#f6d5d5" for r in table[table.level == lv].itertuples()]
           for lv in levels]
grid = ax2.table(cellText=cells, cellColours=colours, rowLabels=levels,
                 colLabels=[p.replace("_", "\n") for p in PATHOLOGIES], loc="center", cellLoc="center")
grid.auto_set_font_size(False)
grid.set_fontsize(8)
grid.scale(1, 2.4)
save_figure(fig, out / "a_f1_pipeline")
print(f"{(table.silver == table.predicted).mean():.0%} of this note's {len(table)} cells agree (green)")
