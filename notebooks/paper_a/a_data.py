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
# # Paper A data: lumbar MRI notes and Open-i chest X-ray reports as multi-task corpora
#
# Paper A extracts, from each spine MRI report, a severity per (disc level, pathology). Its reports
# are private; the public substitutes are the 515 radiologist notes of the *Lumbar Spine MRI*
# dataset (Sudirman et al., Mendeley Data) and the 3,955 Open-i / Indiana University chest X-ray
# reports. This notebook shows how the lumbar notes become tasks: the labelling rules, how often
# each grade occurs per level and pathology, example notes with their labels, every note the
# labeller could not fully parse, and how the labeller agrees with a blind hand-labelled sample.
#
# **The lumbar labels are silver**: a rule-based labeller (`mtlcore.tasks.lumbar`) written to the
# conventions below produces them, not a radiologist.

# %% tags=["parameters"]
profile = "smoke"
results_dir = "results/smoke"
n_examples = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from mtlcore import repo_path, save_figure, write_csv
from mtlcore.tasks import task_table
from mtlcore.tasks import lumbar, radiology

out = repo_path(results_dir) / "paper_a"
parses = radiology.lumbar_parses()
print(f"{len(parses)} non-empty notes; levels {', '.join(lumbar.LEVELS)}; pathologies {', '.join(lumbar.PATHOLOGIES)}")

# %% [markdown]
# ## Labelling rules
#
# - **Levels**: `L4-5`, `L4-L5`, `L4/L5`, `L4/5`, `L4L5`, `L5-S1`, `L5S1`, `L5/S1`; lists (`L4/L5 & L5/S1`,
#   `L3-4 and L4-5`) give each listed level; ranges over non-adjacent vertebrae (`L3-S1`, `L2 to L5`)
#   cover every level in between. D12/L1 and above are not lumbar levels here.
# - **Pathologies**: disc bulge (diffuse, annular, broad- or wide-based); herniation (protrusion,
#   extrusion, herniation, prolapse, HNP, sequestrated fragment); thecal sac compression (compressed
#   or indented; "abutting" = mild); nerve root compression (exiting/traversing root compressed,
#   impinged, encroached, contacted; "abutting" = mild); foraminal narrowing (neural foramen
#   narrowed/stenotic, or the exit canal encroached/compressed); canal stenosis (spinal/central canal
#   stenosis or narrowing).
# - **Grades**: minimal, slight, mild(ly), small = mild; moderate = moderate; significant, marked =
#   severe unless negated ("no significant X" = absent); a finding stated without a grade is
#   *present*. A grade covers only the word it modifies ("mild disc bulge compressing the thecal sac":
#   bulge mild, sac present; "mildly compressing the sac and exit roots": both mild).
# - **Statements without a level** ("No evidence of disc herniation") apply to every level the note
#   does not otherwise describe. Only what is stated is labelled.
#
# The labeller's own choices where these conventions are silent are in its module docstring:

# %%
print(lumbar.__doc__.split("Rules chosen where the labelling convention is silent:")[1].strip())

# %% [markdown]
# ## Grades per level and pathology
#
# Number of notes with each grade. Most levels are normal; L4-L5 and L5-S1 carry most findings, and
# no note uses the word "moderate", so the tasks collapse grades to `absent / mild / present-or-worse`
# where the labeller finds at least 50 mild cells and to `absent / present` elsewhere
# (`mtlcore.tasks.radiology.LUMBAR_CLASSES`, fixed from these counts before any model was trained).

# %%
counts = radiology.grade_counts(parses)
write_csv(out / "a_data_lumbar_grades.csv", counts)
wide = counts.pivot_table(index=["pathology", "level"], columns="grade", values="notes", fill_value=0)
wide = wide.reindex(columns=[g for g in lumbar.GRADES if g in wide.columns])
wide

# %%
sns.set_theme(style="whitegrid")
positive = counts[counts.grade != "absent"].groupby(["pathology", "level"]).notes.sum().unstack("level")
positive = positive.reindex(index=list(lumbar.PATHOLOGIES), columns=list(lumbar.LEVELS)).fillna(0).astype(int)
fig, ax = plt.subplots(figsize=(7.5, 3.8))
sns.heatmap(positive, annot=True, fmt="d", cmap="Blues", cbar_kws={"label": "notes with a finding"}, ax=ax)
ax.set(xlabel="disc level", ylabel="", title=f"Lumbar notes with a finding (any grade), {len(parses)} notes (silver labels)")
save_figure(fig, out / "a_data_lumbar_findings")

# %% [markdown]
# ## The tasks
#
# One example per (note, level) whose input is the level's grouped text (its sentences plus the
# note's level-free statements, prefixed with the level); a level the note says nothing about has no
# text and is left out. All six tasks share these inputs (one input group), split by note 80/10/10.

# %%
tasks = [f"radiology/lumbar/{p}" for p in lumbar.PATHOLOGIES]
sizes = task_table(tasks)[["task", "outputs", "train", "dev", "test"]]
from mtlcore.tasks import get_task, load_task

sizes["classes"] = [", ".join(get_task(t).label_names) for t in tasks]
sizes["train class counts"] = [", ".join(map(str, pd.Series(load_task(t)["train"].labels).value_counts().sort_index()))
                               for t in tasks]
write_csv(out / "a_data_lumbar_tasks.csv", sizes)
sizes

# %% [markdown]
# ## Examples with their labels

# %%
for pid in sorted(parses)[:n_examples]:
    parsed = parses[pid]
    print(f"--- note {pid} ---\n{parsed.text.strip()}\n")
    for level in lumbar.LEVELS:
        found = {p: g for p, g in parsed.labels[level].items() if g != "absent"}
        if parsed.grouped_text[level].strip():
            print(f"  {level}: {found or 'nothing found'}\n      input: {parsed.grouped_text[level][:160]!r}")
    print()

# %% [markdown]
# ## Notes the labeller could not fully parse
#
# Every item the rules could not fully handle, with the reason. A "positive finding without a level"
# (e.g. "multilevel disc bulges") is labelled at no level, by the convention that only what is
# stated is labelled.

# %%
unparsed = radiology.unparsed_table(parses)
write_csv(out / "a_data_lumbar_unparsed.csv", unparsed)
print(f"{unparsed.patient_id.nunique()} of {len(parses)} notes have at least one such item")
display(unparsed.reason.value_counts().rename("items").to_frame())
with pd.option_context("display.max_colwidth", 140, "display.max_rows", 200):
    display(unparsed)

# %% [markdown]
# ## Agreement with a blind hand-labelled sample
#
# 45 notes drawn at random with a fixed seed (`data/annotations/README.md` has the draw) were labelled
# by hand to the same conventions, blind to the labeller's output. The annotator was an AI annotation
# session, not a radiologist, and both it and the labeller follow the same written conventions, so
# this measures how faithfully the labeller applies the conventions, not how right the conventions
# are clinically. Presence = any grade but absent; grade accuracy = exact grade, over all 5 levels of
# each note.

# %%
hand = radiology.load_hand_labels()
agreement = radiology.labeller_agreement(hand, {pid: p.text for pid, p in parses.items()})
write_csv(out / "a_data_lumbar_agreement.csv", agreement)
agreement.round(3)

# %% [markdown]
# ## Open-i chest X-ray reports
#
# Text = FINDINGS + IMPRESSION (`XXXX` de-identification tokens kept); reports with neither are
# skipped. Labels are the manual MeSH major codes: a finding is the code's first part, or, where that
# part is an anatomical site, the site with its finding (`lung/hypoinflation`). The ten most frequent
# findings are presence tasks that share their inputs, plus one multi-label task holding all ten;
# cardiomegaly, whose codes carry a grade most often, gives a severity task; and the 14 CheXpert-style
# labels of `file2label.json` (**predicted by a model**, not annotated) form a multi-label task.

# %%
from mtlcore.tasks import openi

reports, stats = openi.parse_openi()
display(pd.Series(stats, name="reports").to_frame())
counts = openi.finding_counts(reports)
top = pd.DataFrame({"finding": radiology.OPENI_FINDINGS,
                    "reports": [counts[f] for f in radiology.OPENI_FINDINGS]})
severity = openi.severity_task(reports, "cardiomegaly")
print(f"cardiomegaly severity: {dict(zip(*np.unique(severity.grades, return_counts=True)))} -> classes "
      f"{severity.classes}; {severity.ungraded} reports coded without a grade are left out")
names, mask, chex = openi.chexpert_labels(reports)
print(f"CheXpert-style labels (model-predicted) for {mask.sum()} of {len(reports)} reports; positives: "
      + ", ".join(f"{n} {int(c)}" for n, c in zip(names, chex[mask].sum(0))))
write_csv(out / "a_data_openi_findings.csv", top)
openi_tasks = [t for t in task_table().task if t.startswith("radiology/openi/")]
write_csv(out / "a_data_openi_tasks.csv", task_table(openi_tasks)[["task", "kind", "outputs", "train", "dev", "test"]])
top

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
sns.barplot(data=top, y="finding", x="reports", color="tab:blue", ax=ax)
ax.set(xlabel=f"reports coded with the finding (of {len(reports)})", ylabel="",
       title="Open-i: the 10 most frequent MeSH findings (presence tasks)")
save_figure(fig, out / "a_data_openi_findings")
