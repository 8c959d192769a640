import csv
import numpy as np

PATH = "data/lumbar_spine_mri_radiologist_notes/radiologists_report_derived.csv"
with open(PATH, encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
nonempty = {int(r["patient_id"]): r["clinician_notes"] for r in rows
            if (r["clinician_notes"] or "").strip()}
ids_sorted = sorted(nonempty)
drawn = np.random.default_rng(20261123).choice(ids_sorted, size=45, replace=False)
drawn = sorted(int(x) for x in drawn)
if __name__ == "__main__":
    print(len(rows), len(nonempty))
    print(drawn)
