"""Radiology tasks built from the vendored reports: class tables, splits by report, labeller agreement."""
from __future__ import annotations

from collections import Counter

import numpy as np

from mtlcore.tasks import data_root, get_task, load_task
from mtlcore.tasks.lumbar import LEVELS, PATHOLOGIES, load_lumbar_notes
from mtlcore.tasks.radiology import (LUMBAR_CLASSES, MIN_MILD, grade_class, labeller_agreement, load_hand_labels,
                                     lumbar_examples)


def test_lumbar_class_table_follows_the_mild_count_rule():
    ex = lumbar_examples(str(data_root()))
    for p in PATHOLOGIES:
        mild = Counter(ex["grades"][p])["mild"]
        assert ("mild" in LUMBAR_CLASSES[p]) == (mild >= MIN_MILD), (p, mild)
    assert grade_class("disc_bulge", "severe") == 2 and grade_class("herniation", "mild") == 1
    assert grade_class("canal_stenosis", "absent") == 0


def test_lumbar_tasks_share_inputs_and_split_by_report():
    ex = lumbar_examples(str(data_root()))
    split_ids = {s: set(ex["ids"][idx].tolist()) for s, idx in ex["split"].items()}
    assert not (split_ids["train"] & split_ids["dev"]) and not (split_ids["train"] & split_ids["test"])
    assert not (split_ids["dev"] & split_ids["test"])
    assert sum(len(v) for v in split_ids.values()) == len(set(ex["ids"].tolist())) <= ex["notes"] == 515
    a, b = load_task("radiology/lumbar/disc_bulge"), load_task("radiology/lumbar/herniation")
    for split in ("train", "dev", "test"):
        assert a[split].texts == b[split].texts and len(a[split]) > 0
    assert all(t[0].split(":")[0] in LEVELS for t in a["train"].texts)
    assert get_task("radiology/lumbar/herniation").input_group == "radiology/lumbar"


def test_labeller_agreement_on_the_blind_sample():
    hand = load_hand_labels()
    notes = dict(load_lumbar_notes())
    assert len(hand) >= 40 and set(hand) <= set(notes)
    table = labeller_agreement(hand, notes)
    assert list(table.pathology) == list(PATHOLOGIES)
    assert (table["cells"] == 5 * len(hand)).all()
    assert table["grade accuracy"].between(0, 1).all() and np.isfinite(table["presence F1"]).all()


def test_openi_tasks_match_the_data_and_share_one_split():
    from mtlcore.tasks import openi
    from mtlcore.tasks.radiology import OPENI_FINDINGS, SEVERITY_CLASSES, openi_data, openi_slug

    data = openi_data(str(data_root()))
    reports = data["reports"]
    assert tuple(openi.top_findings(reports, 10)) == OPENI_FINDINGS
    assert openi.severity_task(reports, "cardiomegaly").classes == SEVERITY_CLASSES
    presence = load_task(f"radiology/openi/{openi_slug('cardiomegaly')}")
    multi = load_task("radiology/openi/findings")
    col = OPENI_FINDINGS.index("cardiomegaly")
    for split in ("train", "dev", "test"):
        assert presence[split].texts == multi[split].texts
        assert (presence[split].labels == multi[split].labels[:, col]).all()
    assert sum(len(presence[s]) for s in presence) == len(reports) == 3927
    assert any("XXXX" in t[0] for t in presence["train"].texts)  # de-identification tokens kept
    # a report is in the same split in every task: the subset tasks take their rows' splits from one split
    where = data["where"]
    _, mask, _ = openi.chexpert_labels(reports)
    rows = {"radiology/openi/chexpert": np.flatnonzero(mask),
            "radiology/openi/cardiomegaly_severity": openi.severity_task(reports, "cardiomegaly").index}
    for name, idx in rows.items():
        task = load_task(name)
        for s in ("train", "dev", "test"):
            assert len(task[s]) == int((where[idx] == s).sum()) and task[s].texts == [(reports[i].text,)
                                                                                     for i in idx[where[idx] == s]]
    assert sum(len(ex) for ex in load_task("radiology/openi/chexpert").values()) == 3337
    assert get_task("radiology/openi/findings").input_group == get_task("radiology/openi/opacity").input_group
