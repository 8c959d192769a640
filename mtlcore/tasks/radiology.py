"""Radiology tasks: per-level lumbar MRI pathologies (silver labels) and Open-i chest X-ray findings.

Lumbar (`radiology/lumbar/<pathology>`, input group `radiology/lumbar`): one example per (note,
level) whose input is the level's grouped text (`mtlcore.tasks.lumbar.parse_lumbar_note`: the
level's sentences plus the note's level-free statements), prefixed with the level ("L4-L5: ...")
so that a model knows which level it reads. A level the note says nothing about (no sentence of
its own and no level-free statement) has no input text and is left out. Labels are SILVER: they
come from the rule-based labeller, not from a radiologist. Grades collapse to classes by a rule
fixed from the grade counts over all notes before any model was trained:

    absent / mild / present-or-worse   where the labeller finds at least MIN_MILD mild cells,
    absent / present                   otherwise (mild joins present).

Open-i (`radiology/openi/*`, from `mtlcore.tasks.openi`; text = FINDINGS + IMPRESSION, `XXXX`
de-identification tokens kept; labels = the manual MeSH major codes):
- `radiology/openi/<finding>`: presence (absent / present) of each of the 10 most frequent findings
  (`OPENI_FINDINGS`, a test checks it against the data), and `radiology/openi/findings`, all ten as
  one multi-label task; these share their inputs (every kept report; input group `radiology/openi`);
- `radiology/openi/cardiomegaly_severity`: borderline / mild / moderate-or-severe among the reports
  whose cardiomegaly code carries a grade (`openi.severity_task`);
- `radiology/openi/chexpert`: the 14 CheXpert-style labels of `file2label.json` as one multi-label
  task, on the 3,337 reports that have them. These labels are MODEL-PREDICTED (an LSTM CheXpert
  labeller), not annotations.

Splits, for every radiology task: train / dev / test by report (`group_split`, 80/10/10, seed
`SPLIT_SEED`), so no report is in two splits and the split does not depend on the run seed; every
Open-i task takes its reports' splits from one split of all kept reports, so a report is in the same
split in every task.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

import re

from . import openi
from .lumbar import LEVELS, PATHOLOGIES, CSV_RELPATH, load_lumbar_notes, parse_lumbar_note
from .registry import DataError, Examples, TaskSpec, data_root, group_split, note_read, register_task

MIN_MILD = 50          # a pathology keeps a separate "mild" class if the labeller finds at least this many
LUMBAR_GROUP = "radiology/lumbar"
HAND_LABELS = Path("annotations") / "lumbar_hand_labels.jsonl"
SPLIT_NOTE = "train/dev/test 80/10/10 by report (seed 13); silver labels"

# Decided from the labeller's grade counts over the 515 notes x 5 levels (see notebooks/paper_a/a_data):
# disc_bulge mild 126, herniation 30, thecal_sac_compression 170, nerve_root_compression 89,
# foraminal_narrowing 13, canal_stenosis 0. A test recomputes the counts and checks this table.
LUMBAR_CLASSES = {
    "disc_bulge": ("absent", "mild", "present_or_worse"),
    "herniation": ("absent", "present"),
    "thecal_sac_compression": ("absent", "mild", "present_or_worse"),
    "nerve_root_compression": ("absent", "mild", "present_or_worse"),
    "foraminal_narrowing": ("absent", "present"),
    "canal_stenosis": ("absent", "present"),
}


def grade_class(pathology: str, grade: str) -> int:
    """The class id of a labeller grade for `pathology`'s task (see LUMBAR_CLASSES)."""
    classes = LUMBAR_CLASSES[pathology]
    if grade == "absent":
        return 0
    if grade == "mild" and "mild" in classes:
        return 1
    return len(classes) - 1


@functools.lru_cache(maxsize=4)
def lumbar_examples(root: str) -> dict:
    """Parse every note once: {"ids", "levels", "texts", "grades": {pathology: [...]}, "split": {split: idx}}."""
    notes = load_lumbar_notes(Path(root) / CSV_RELPATH)
    ids, levels, texts = [], [], []
    grades: dict[str, list[str]] = {p: [] for p in PATHOLOGIES}
    for pid, note in notes:
        parsed = parse_lumbar_note(note)
        for level in LEVELS:
            text = parsed.grouped_text[level].strip()
            if not text:
                continue
            ids.append(pid)
            levels.append(level)
            texts.append(f"{level}: {text}")
            for p in PATHOLOGIES:
                grades[p].append(parsed.labels[level][p])
    return {"ids": np.asarray(ids), "levels": levels, "texts": texts, "grades": grades,
            "split": group_split(ids), "notes": len(notes)}


def _lumbar_loader(pathology: str):
    def load(root: Path) -> dict[str, Examples]:
        ex = lumbar_examples(str(root))
        labels = np.asarray([grade_class(pathology, g) for g in ex["grades"][pathology]], dtype=np.int64)
        source = str(Path(root) / CSV_RELPATH)
        return {split: Examples([(ex["texts"][i],) for i in idx], labels[idx], source)
                for split, idx in ex["split"].items()}

    return load


def register_lumbar_tasks() -> list[str]:
    names = []
    for p in PATHOLOGIES:
        spec = TaskSpec(f"radiology/lumbar/{p}", "classification", ("level_text",), ("macro_f1",), LUMBAR_CLASSES[p],
                        _lumbar_loader(p), f"lumbar MRI {p.replace('_', ' ')} per level (silver labels)", SPLIT_NOTE,
                        input_group=LUMBAR_GROUP)
        names.append(register_task(spec).name)
    return names


@functools.lru_cache(maxsize=4)
def lumbar_parses(root: str | None = None) -> dict:
    """{patient_id: LumbarParse} for every non-empty note (parsed once per data root)."""
    notes = load_lumbar_notes(Path(root or data_root()) / CSV_RELPATH)
    return {pid: parse_lumbar_note(text) for pid, text in notes}


def grade_counts(parses: dict):
    """Long table (level, pathology, grade, notes): how many notes the labeller gives each grade per level."""
    import pandas as pd

    rows = [{"level": lv, "pathology": p, "grade": parsed.labels[lv][p]}
            for parsed in parses.values() for lv in LEVELS for p in PATHOLOGIES]
    return pd.DataFrame(rows).value_counts().rename("notes").reset_index()


def unparsed_table(parses: dict):
    """One row per item the labeller could not fully handle: patient_id, reason, sentence."""
    import pandas as pd

    rows = []
    for pid, parsed in parses.items():
        for item in parsed.unparsed:
            reason, _, sentence = item.partition(": ")
            rows.append({"patient_id": pid, "reason": reason, "sentence": sentence.strip("'\"")})
    return pd.DataFrame(rows, columns=["patient_id", "reason", "sentence"])


# the 10 most frequent Open-i findings (reports: 455, 375, 332, 305, 283, 274, 252, 208, 196, 182)
OPENI_FINDINGS = ("opacity", "cardiomegaly", "pulmonary atelectasis", "calcinosis", "lung/hypoinflation",
                  "calcified granuloma", "thoracic vertebrae/degenerative", "lung/hyperdistention", "cicatrix",
                  "spine/degenerative")
OPENI_GROUP = "radiology/openi"
SEVERITY_CLASSES = ("borderline", "mild", "moderate_or_severe")  # = openi.severity_task(...).classes (tested)
OPENI_SPLIT_NOTE = "train/dev/test 80/10/10 by report (seed 13); manual MeSH codes"


def openi_slug(finding: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", finding).strip("_")


@functools.lru_cache(maxsize=4)
def openi_data(root: str) -> dict:
    """The kept Open-i reports with their split (one split of all reports, reused by every task)."""
    reports, stats = openi.parse_openi(Path(root) / openi.XML_RELPATH)
    split = openi.split_reports([r.report_id for r in reports])
    where = np.empty(len(reports), dtype=object)
    for name, idx in split.items():
        where[idx] = name
    return {"reports": reports, "stats": stats, "where": where}


def _openi_examples(root: Path, rows: np.ndarray, labels: np.ndarray, source: str) -> dict[str, Examples]:
    data = openi_data(str(root))
    texts = [(data["reports"][i].text,) for i in rows]
    where = data["where"][rows]
    return {split: Examples([texts[j] for j in np.flatnonzero(where == split)], labels[where == split], source)
            for split in ("train", "dev", "test")}


def _openi_loader(kind: str, finding: str | None = None):
    def load(root: Path) -> dict[str, Examples]:
        reports = openi_data(str(root))["reports"]
        source = str(Path(root) / openi.XML_RELPATH)
        everyone = np.arange(len(reports))
        if kind == "presence":
            return _openi_examples(root, everyone, openi.presence_labels(reports, [finding])[:, 0], source)
        if kind == "findings":
            return _openi_examples(root, everyone, openi.presence_labels(reports, OPENI_FINDINGS).astype(np.float32),
                                   source)
        if kind == "severity":
            task = openi.severity_task(reports, "cardiomegaly")
            return _openi_examples(root, task.index, task.labels, source)
        names, mask, labels = openi.chexpert_labels(reports, Path(root) / openi.LABELS_RELPATH)
        return _openi_examples(root, np.flatnonzero(mask), labels[mask].astype(np.float32),
                               f"{source}, {Path(root) / openi.LABELS_RELPATH}")

    return load


def register_openi_tasks() -> list[str]:
    specs = [TaskSpec(f"radiology/openi/{openi_slug(f)}", "classification", ("report",), ("macro_f1",),
                      ("absent", "present"), _openi_loader("presence", f), f"chest X-ray: {f} (MeSH code)",
                      OPENI_SPLIT_NOTE, input_group=OPENI_GROUP) for f in OPENI_FINDINGS]
    specs.append(TaskSpec("radiology/openi/findings", "multilabel", ("report",), ("roc_auc", "macro_f1"),
                          tuple(OPENI_FINDINGS), _openi_loader("findings"), "chest X-ray: the 10 findings, multi-label",
                          OPENI_SPLIT_NOTE, input_group=OPENI_GROUP))
    specs.append(TaskSpec("radiology/openi/cardiomegaly_severity", "classification", ("report",), ("macro_f1",),
                          SEVERITY_CLASSES, _openi_loader("severity"),
                          "chest X-ray: cardiomegaly grade among graded reports", OPENI_SPLIT_NOTE))
    specs.append(TaskSpec("radiology/openi/chexpert", "multilabel", ("report",), ("roc_auc", "macro_f1"),
                          tuple(openi.CHEXPERT_NAMES), _openi_loader("chexpert"),
                          "chest X-ray: 14 CheXpert-style labels (MODEL-PREDICTED)",
                          "train/dev/test 80/10/10 by report (seed 13); model-predicted labels",
                          input_group="radiology/openi/chexpert"))
    return [register_task(s).name for s in specs]


def load_hand_labels(path: str | Path | None = None) -> dict[int, dict[str, dict[str, str]]]:
    """The blind hand-labelled sample (`data/annotations/lumbar_hand_labels.jsonl`): {patient_id: labels}."""
    path = Path(path) if path is not None else data_root() / HAND_LABELS
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    note_read(path)
    out = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[int(row["patient_id"])] = row["labels"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}:{lineno}: not a hand-label record ({type(e).__name__}: {e})") from None
    return out


def labeller_agreement(hand: dict[int, dict], notes: dict[int, str]):
    """Per pathology, over the (note, level) cells of the hand-labelled notes: presence precision, recall
    and F1 (present = any grade but absent) and grade accuracy (exact grade). Returns a pandas DataFrame."""
    import pandas as pd

    missing = sorted(set(hand) - set(notes))
    if missing:
        raise DataError(f"hand labels name notes that are not in the corpus: {missing[:10]}")
    auto = {pid: parse_lumbar_note(notes[pid]).labels for pid in hand}
    rows = []
    for p in PATHOLOGIES:
        gold = np.array([hand[pid][lv][p] for pid in hand for lv in LEVELS])
        pred = np.array([auto[pid][lv][p] for pid in hand for lv in LEVELS])
        g, q = gold != "absent", pred != "absent"
        tp = int((g & q).sum())
        precision = tp / q.sum() if q.sum() else float("nan")
        recall = tp / g.sum() if g.sum() else float("nan")
        f1 = 2 * tp / (g.sum() + q.sum()) if (g.sum() + q.sum()) else float("nan")
        rows.append({"pathology": p, "cells": len(gold), "gold present": int(g.sum()), "labeller present": int(q.sum()),
                     "presence precision": precision, "presence recall": recall, "presence F1": f1,
                     "grade accuracy": float((gold == pred).mean())})
    return pd.DataFrame(rows)
