"""A-F1: Paper A's pipeline on whole lumbar notes, and how its presence predictions score.

    table = pipeline_table(model, tokenizer, note_ids)     # note, level, pathology, silver, predicted (class ids)
    f1 = presence_micro_f1(table)                          # Interval: bootstrap over notes

The pipeline is the paper's: report -> sentences -> level tag per sentence -> sentences grouped per level
(`mtlcore.tasks.lumbar.parse_lumbar_note`) -> the MTL model predicts every pathology's class per level, one
encoder pass per level text (batched per note). A level with no text gets no prediction (the labeller says nothing of it either),
exactly as the training examples are built (`mtlcore.tasks.radiology.lumbar_examples`). "Presence" is any
class other than absent (class 0).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...reporting.verdicts import Interval, LEVEL
from ...tasks.lumbar import LEVELS, PATHOLOGIES, parse_lumbar_note
from ...tasks.radiology import grade_class

TASK_PREFIX = "radiology/lumbar/"


def pipeline_table(model, tokenizer, notes: dict[int, str], max_length: int = 128,
                   gold: dict[int, dict[str, dict[str, str]]] | None = None) -> pd.DataFrame:
    """One row per (note, level with text, pathology): silver (the labeller's class), predicted (the model's
    class) and, with `gold` ({note: {level: {pathology: grade}}}, e.g. the hand labels), gold's class too.
    `notes`: {note id: raw note text}; every note goes through the pipeline with no manual step. A note whose
    parsing or prediction raises is left out and recorded in `table.attrs["failed"]` ({note: error}); notes
    processed (with or without level text) are listed in `table.attrs["processed"]`."""
    tasks = [TASK_PREFIX + p for p in PATHOLOGIES]
    missing = [t for t in tasks if t not in model.tasks]
    if missing:
        raise ValueError(f"pipeline_table: the model has no head for {missing}")
    rows, failed, processed = [], {}, []
    for pid, text in notes.items():
        try:
            parsed = parse_lumbar_note(text)
            levels = [lv for lv in LEVELS if parsed.grouped_text[lv].strip()]
            texts = [f"{lv}: {parsed.grouped_text[lv].strip()}" for lv in levels]
            logits = model.predict(tokenizer, texts, tasks, max_length=max_length) if texts else {}
        except Exception as e:  # noqa: BLE001 - a note the pipeline cannot handle is counted, not fatal
            failed[pid] = f"{type(e).__name__}: {e}"
            continue
        processed.append(pid)
        for i, level in enumerate(levels):
            for p in PATHOLOGIES:
                row = {"note": pid, "level": level, "pathology": p, "silver": grade_class(p, parsed.labels[level][p]),
                       "predicted": int(logits[TASK_PREFIX + p][i].argmax())}
                if gold is not None and pid in gold:
                    row["gold"] = grade_class(p, gold[pid][level][p])
                rows.append(row)
    table = pd.DataFrame(rows, columns=["note", "level", "pathology", "silver", "predicted"]
                         + (["gold"] if any("gold" in r for r in rows) else []))
    table.attrs.update(failed=failed, processed=processed)
    return table


def _counts(table: pd.DataFrame, truth: str) -> pd.DataFrame:
    """Per note: true positives, false positives and false negatives of presence (class > 0)."""
    t, p = table[truth] > 0, table.predicted > 0
    return pd.DataFrame({"note": table.note, "tp": t & p, "fp": ~t & p, "fn": t & ~p}).groupby("note").sum()


def presence_micro_f1(table: pd.DataFrame, truth: str = "silver", n_boot: int = 10_000, seed: int = 0) -> Interval:
    """Micro-F1 of presence over every (note, level, pathology) cell, with a percentile bootstrap interval that
    resamples notes (a note's cells move together)."""
    if truth not in table.columns:
        raise ValueError(f"presence_micro_f1: the table has no {truth!r} column")
    per_note = _counts(table.dropna(subset=[truth]), truth).to_numpy(dtype=float)   # (notes x [tp, fp, fn])
    if len(per_note) == 0:
        raise ValueError("presence_micro_f1: no notes")

    def f1(c: np.ndarray) -> np.ndarray:
        tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
        denom = 2 * tp + fp + fn
        return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)

    estimate = float(f1(per_note.sum(0)))
    idx = np.random.default_rng(seed).integers(0, len(per_note), (n_boot, len(per_note)))
    low, high = np.quantile(f1(per_note[idx].sum(1)), [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Interval(estimate, float(low), float(high), len(per_note), "bootstrap over notes")


def per_pathology_f1(table: pd.DataFrame, truth: str = "silver") -> dict[str, float]:
    """Presence F1 per pathology (secondary lines of A-F1)."""
    out = {}
    for p, part in table.dropna(subset=[truth]).groupby("pathology", sort=False):
        c = _counts(part, truth).sum()
        denom = 2 * c.tp + c.fp + c.fn
        out[p] = float(2 * c.tp / denom) if denom else 0.0
    return out


def notes_of(note_ids: Sequence[int]) -> dict[int, str]:
    """{note id: raw text} of the lumbar notes with these ids (the vendored corpus)."""
    from ...tasks import data_root
    from ...tasks.lumbar import CSV_RELPATH, load_lumbar_notes

    notes = dict(load_lumbar_notes(data_root() / CSV_RELPATH))
    missing = [i for i in note_ids if i not in notes]
    if missing:
        raise ValueError(f"notes_of: no lumbar note with id(s) {missing[:10]}")
    return {i: notes[i] for i in note_ids}
