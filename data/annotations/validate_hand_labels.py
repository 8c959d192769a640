"""Validate lumbar_hand_labels.jsonl against the draw and print label counts."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from draw_sample import drawn  # noqa: E402

LEVELS = ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
PATHS = ["disc_bulge", "herniation", "thecal_sac_compression",
         "nerve_root_compression", "foraminal_narrowing", "canal_stenosis"]
GRADES = {"absent", "mild", "moderate", "severe", "present"}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lumbar_hand_labels.jsonl")
with open(path, encoding="utf-8") as f:
    lines = [l for l in f.read().splitlines()]
assert len(lines) == 45, len(lines)
recs = [json.loads(l) for l in lines]
ids = [r["patient_id"] for r in recs]
assert ids == drawn, "ids do not match the draw (or are not sorted)"
assert all(isinstance(i, int) for i in ids)
counts = collections.Counter()
grades = collections.defaultdict(collections.Counter)
for r in recs:
    assert set(r) == {"patient_id", "labels", "comment"}, r.keys()
    assert isinstance(r["comment"], str)
    assert list(r["labels"]) == LEVELS, r["patient_id"]
    for lvl in LEVELS:
        assert list(r["labels"][lvl]) == PATHS, (r["patient_id"], lvl)
        for p, g in r["labels"][lvl].items():
            assert g in GRADES, (r["patient_id"], lvl, p, g)
            if g != "absent":
                counts[p] += 1
                grades[p][g] += 1
print("OK: 45 notes, 5x6 labels each, valid grades, ids match draw")
print("non-absent (note,level) labels per pathology:")
for p in PATHS:
    print(f"  {p}: {counts[p]}  {dict(sorted(grades[p].items()))}")
print("notes with comments:", [r["patient_id"] for r in recs if r["comment"]])
print("notes with all-absent labels:",
      [r["patient_id"] for r in recs if all(g == "absent" for l in r["labels"].values() for g in l.values())])
