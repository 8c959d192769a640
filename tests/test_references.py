"""Reference rows (majority floor, TF-IDF, frozen-encoder probe), learned-model guards per family, and A-F1's
presence micro-F1 with its bootstrap over notes, on hand-made inputs with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtlcore.papers.paper_a import family_guards, presence_micro_f1, run_cosines
from mtlcore.tasks import load_task
from mtlcore.training.baselines import C_GRID, reference_scores


def test_reference_rows_on_a_toy_task_with_a_known_answer():
    out = reference_scores("test/sentiment", encoder="tiny-bert")
    splits = load_task("test/sentiment")
    top = np.bincount(splits["train"].labels).argmax()
    assert out["majority"]["test"] == pytest.approx(np.mean(splits["test"].labels == top))   # accuracy of one class
    assert out["tfidf"]["test"] == 1.0 and out["tfidf"]["dev"] == 1.0   # the sentiment word decides the label
    assert out["tfidf"]["C"] in C_GRID and out["probe"]["C"] in C_GRID
    assert 0.0 <= out["probe"]["test"] <= 1.0
    # the length word is what test/length asks, and the same words are in every text: TF-IDF finds it too
    assert reference_scores("test/length", which=["tfidf"])["tfidf"]["test"] == 1.0
    # the same training examples as a run with max_train: fewer examples, still a valid floor
    few = reference_scores("test/sentiment", max_train=10, which=["majority"])
    assert set(few) == {"majority"}


def test_reference_rows_refuse_what_they_cannot_score():
    with pytest.raises(ValueError, match="unknown reference"):
        reference_scores("test/sentiment", which=["bert"])
    dev_only = reference_scores("test/words", which=["majority", "tfidf"])   # no test split: dev scores only
    assert set(dev_only["majority"]) == {"dev"} and set(dev_only["tfidf"]) == {"dev", "C"}
    assert dev_only["tfidf"]["dev"] == 1.0


def test_family_guards_from_score_tables():
    scores = pd.DataFrame([{"family": f, "seed": s, "task": t, "test": v}
                           for f, v in (("stl", 0.8), ("mtl", 0.45)) for s in (0, 1) for t in ("a", "b")])
    refs = pd.DataFrame([{"family": r, "task": t, "test": v} for r, v in (("majority", 0.4), ("tfidf", 0.9))
                         for t in ("a", "b")])
    guards = {g.family: g for g in family_guards(scores, refs, "toy")}
    assert guards["stl"].learned and not guards["mtl"].learned            # needed: 40 + 0.5 x 50 = 65 points
    assert guards["mtl"].needed == pytest.approx(65.0) and guards["mtl"].mean == pytest.approx(45.0)


def test_presence_micro_f1_known_value_and_note_bootstrap():
    rows = []
    for note, (silver, pred) in enumerate([([1, 0, 2], [1, 0, 0]), ([0, 0, 1], [1, 0, 1]), ([2, 2, 0], [2, 1, 0])]):
        rows += [{"note": note, "level": "L4-L5", "pathology": f"p{i}", "silver": s, "predicted": p}
                 for i, (s, p) in enumerate(zip(silver, pred))]
    iv = presence_micro_f1(pd.DataFrame(rows))
    # presence: tp = 1 + 1 + 2 = 4, fp = 0 + 1 + 0 = 1, fn = 1 + 0 + 0 = 1 -> F1 = 8 / 10
    assert iv.estimate == pytest.approx(0.8) and iv.n == 3
    assert 0.0 <= iv.low <= iv.estimate <= iv.high <= 1.0
    perfect = pd.DataFrame(rows).assign(predicted=lambda d: d.silver)
    assert presence_micro_f1(perfect).low == 1.0
    with pytest.raises(ValueError, match="no 'gold' column"):
        presence_micro_f1(pd.DataFrame(rows), truth="gold")


def test_run_cosines_drop_step_zero_and_count_records():
    cos = pd.DataFrame({"kind": "r", "corpus": "c", "seed": [0] * 4 + [1] * 3, "step": [0, 4, 8, 12, 0, 4, 8],
                        "cosine": [0.9, 0.1, 0.2, 0.3, 0.9, 0.1, 0.2]})
    kept, fewest = run_cosines(cos)
    assert (kept.step > 0).all() and len(kept) == 5 and fewest == 2


def test_pipeline_table_covers_every_level_with_text():
    from mtlcore import TrainConfig
    from mtlcore.papers.paper_a import notes_of, pipeline_table
    from mtlcore.tasks.lumbar import PATHOLOGIES, parse_lumbar_note, load_lumbar_notes
    from mtlcore.tasks.radiology import grade_class
    from mtlcore.training import build_model

    tasks = [f"radiology/lumbar/{p}" for p in PATHOLOGIES]
    model, tok = build_model(TrainConfig(tasks=tasks, encoder="tiny-bert", progress=False), tasks)
    ids = [pid for pid, _ in load_lumbar_notes()[:3]]
    notes = notes_of(ids)
    table = pipeline_table(model, tok, notes)
    parsed = {pid: parse_lumbar_note(text) for pid, text in notes.items()}
    levels = {(pid, lv) for pid, p in parsed.items() for lv, txt in p.grouped_text.items() if txt.strip()}
    assert set(zip(table.note, table.level)) == levels and len(table) == 6 * len(levels)
    for r in table.itertuples():
        assert r.silver == grade_class(r.pathology, parsed[r.note].labels[r.level][r.pathology])
    with pytest.raises(ValueError, match="no lumbar note"):
        notes_of([-1])
    # a note the pipeline cannot handle is counted as not processed, not fatal and not silently dropped
    broken = pipeline_table(model, tok, {**notes, -5: None})
    assert set(broken.attrs["failed"]) == {-5} and sorted(broken.attrs["processed"]) == sorted(notes)
    assert len(broken) == len(table)


def test_one_training_class_gives_that_class(monkeypatch):
    from mtlcore.training import baselines

    splits = load_task("test/sentiment")
    only = splits["train"].subset(np.flatnonzero(splits["train"].labels == 1))
    monkeypatch.setattr(baselines, "subset", lambda ex, n: only if ex is splits["train"] else ex)
    monkeypatch.setattr(baselines, "load_task", lambda name: splits)
    out = baselines.reference_scores("test/sentiment", which=["majority", "tfidf"])
    assert out["tfidf"]["test"] == out["majority"]["test"] == pytest.approx(np.mean(splits["test"].labels == 1))
