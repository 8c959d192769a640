"""Serialise the hand-entered labels below to lumbar_hand_labels.jsonl.

The labels in HAND were typed by the annotator after reading each note;
this script does no text processing of the notes, it only fills absent
defaults, writes the JSONL and validates it against the draw.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from draw_sample import drawn  # noqa: E402

LEVELS = ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
PATHS = ["disc_bulge", "herniation", "thecal_sac_compression",
         "nerve_root_compression", "foraminal_narrowing", "canal_stenosis"]
GRADES = {"absent", "mild", "moderate", "severe", "present"}

DB, HN, TS, NR, FN, CS = PATHS

# id -> ({level: {pathology: grade}}, comment)
HAND = {
    7: ({"L4-L5": {DB: "present", TS: "present", FN: "present"},
         "L5-S1": {HN: "mild"}}, ""),
    19: ({"L1-L2": {DB: "present", TS: "present"},
          "L3-L4": {DB: "present", NR: "present"},
          "L5-S1": {DB: "present", TS: "present"}},
         "Focal 'central', 'right posterolateral' and 'right paramedian disc bulge' labelled disc_bulge (the note says bulge, not protrusion), not herniation. "
         "L3-4 'compression of right nerve root within neural foramen': nerve_root_compression present; foraminal_narrowing left absent because narrowing of the foramen is not itself stated."),
    22: ({"L4-L5": {HN: "present", TS: "severe", NR: "severe"}},
         "'Significantly compressing the thecal sac and the left exit nerve root': 'significantly' modifies the verb governing both objects, so thecal sac and nerve root both severe. 'Left exit nerve root' labelled as nerve root, not foramen."),
    29: ({"L4-L5": {DB: "present", TS: "mild", NR: "mild"},
          "L5-S1": {DB: "present", TS: "present", NR: "present"}},
         ""),
    32: ({}, ""),
    34: ({"L4-L5": {HN: "mild", TS: "mild"}}, ""),
    41: ({"L3-L4": {DB: "present", TS: "mild"},
          "L4-L5": {DB: "present", TS: "mild", FN: "mild"}}, ""),
    47: ({"L1-L2": {HN: "mild", TS: "mild"},
          "L3-L4": {DB: "present", TS: "present", NR: "present", CS: "present"},
          "L4-L5": {DB: "present", TS: "present", NR: "present", CS: "present"}},
         "'Multilevel diffuse disc bulges, noticeably at L3/L4 & L4/L5': only the two named levels labelled; the other bulging levels are not named. "
         "Compression of thecal sac, 'both nerve roots' and 'secondary spinal canal stenosis' attributed to both named levels."),
    77: ({"L4-L5": {DB: "mild", TS: "mild"}},
         "'Mild disc bulge ... abutting the thecal sac' followed by 'no significant thecal sac or nerve root compression': abutting = mild kept at L4-L5 (more severe wins / level-specific statement); nerve root absent."),
    105: ({"L4-L5": {DB: "mild", TS: "mild", NR: "mild"},
           "L5-S1": {DB: "mild", TS: "mild", NR: "mild"}}, ""),
    125: ({"L5-S1": {DB: "present", TS: "present", FN: "present"}},
          "'Lt paracentral, wide base, disc bulge' labelled disc_bulge (wide-based bulge), not herniation."),
    157: ({"L4-L5": {DB: "mild"}}, "Level written 'L4_L5', read as L4-L5."),
    226: ({}, "'Multilevel mild disc bulges' with no level named: no level labelled for disc_bulge (positive finding without level). Thecal/nerve root negated; 'adequate spinal canal' -> canal_stenosis absent."),
    258: ({"L4-L5": {DB: "present", TS: "mild", NR: "mild"}}, ""),
    271: ({"L3-L4": {DB: "present", TS: "present", FN: "present"},
           "L4-L5": {DB: "present", TS: "present", FN: "present"}}, ""),
    272: ({"L4-L5": {DB: "present", TS: "mild"}},
          "'mild comparison thecal sac' read as a typo for 'mild compression of the thecal sac' -> thecal mild. The 'No significant thecal sac or nerve root compression' line belongs to the cervical MRI section and was not applied to lumbar levels (no effect on labels)."),
    279: ({"L5-S1": {HN: "mild", TS: "present"}}, ""),
    282: ({"L5-S1": {HN: "present", TS: "present", NR: "mild"}}, ""),
    294: ({"L4-L5": {DB: "mild", TS: "mild", FN: "present"}},
          "'Multilevel mild disc bulges ..., noticeably at L4-L5': only L4-L5 is named, so only it is labelled. 'The spinal canal is still adequate' -> canal_stenosis absent."),
    348: ({"L3-L4": {DB: "mild", TS: "mild", NR: "mild"},
           "L4-L5": {DB: "mild", TS: "mild", NR: "mild"}},
          "'mainly at L3/L4 & L4/L5': only the named levels labelled. 'mildly compressing the thecal sac and exit nerve' -> 'exit nerve' read as exiting nerve root (nerve_root mild), not foramen."),
    349: ({}, ""),
    370: ({"L4-L5": {DB: "present", TS: "present", FN: "present"},
           "L5-S1": {DB: "present", TS: "present", FN: "present"}}, ""),
    389: ({"L4-L5": {DB: "mild"}}, ""),
    436: ({"L5-S1": {DB: "present", TS: "present", FN: "present"}}, ""),
    447: ({"L3-L4": {DB: "present", TS: "present", NR: "present", CS: "present"},
           "L4-L5": {DB: "present", TS: "present", NR: "present", CS: "present"}},
          "'... as well as and to lesser degree at L3/L4 level': the full finding (bulge, thecal sac and both nerve roots compression, secondary canal stenosis) applied to L3/L4 as well; 'to lesser degree' is not a grade word, so left as present. Fixation screws, fractures and L4/L5 spondylolisthesis not labelled."),
    453: ({"L5-S1": {HN: "present", TS: "present"}}, ""),
    464: ({}, ""),
    476: ({"L4-L5": {DB: "mild"}}, ""),
    477: ({"L4-L5": {DB: "mild"},
           "L5-S1": {HN: "present", TS: "present"}}, ""),
    494: ({"L2-L3": {DB: "present", TS: "present", FN: "present"}},
          "'Multilevel diffuse disc bulges ... largest at L2-L3 level': only L2-L3 is named, so only it is labelled (bulge, thecal sac compression, exit neural canal encroachment); other levels of the multilevel finding are unnamed."),
    500: ({"L2-L3": {DB: "mild", TS: "mild"}}, ""),
    507: ({"L2-L3": {HN: "present", TS: "present"},
           "L4-L5": {HN: "present", TS: "present", FN: "present"}},
          "'largely compressing the thecal sac and right exit neural canal': 'largely' is not among the grade words of the conventions, so kept as present (a reader could argue severe)."),
    516: ({"L4-L5": {DB: "present", TS: "present", FN: "present"}},
          "'Multilevel diffuse disc bulges ... noticeably at L4-L5': only L4-L5 is named, so only it is labelled."),
    519: ({"L4-L5": {DB: "present", TS: "mild", NR: "mild"},
           "L5-S1": {DB: "present", TS: "mild", NR: "mild"}}, ""),
    521: ({}, ""),
    522: ({"L4-L5": {DB: "present", TS: "present", FN: "present"},
           "L5-S1": {DB: "mild"}}, ""),
    524: ({"L4-L5": {DB: "present", TS: "present", FN: "present"},
           "L5-S1": {DB: "mild", TS: "mild", NR: "mild"}},
          ""),
    537: ({"L4-L5": {DB: "mild", TS: "mild"}}, ""),
    545: ({}, ""),
    555: ({}, ""),
    563: ({"L4-L5": {DB: "present", HN: "present", TS: "present", FN: "present"},
           "L5-S1": {DB: "mild"}}, ""),
    564: ({"L3-L4": {DB: "present", TS: "mild", FN: "present"},
           "L4-L5": {DB: "present", TS: "mild", FN: "present"}},
          "'with mild compressing thecal sac and encroaching upon exiting neural canals': 'mild' modifies 'compressing' only; 'encroaching' is a separate verb, so foraminal_narrowing present (not mild)."),
    568: ({"L4-L5": {DB: "present", TS: "mild", NR: "mild"}}, ""),
    571: ({"L4-L5": {DB: "present", TS: "present", NR: "present", CS: "present"}},
          "'Multilevel diffuse disc bulges notecibly at L4/L5': only L4/L5 named, so only it is labelled. 'relatively secondary spinal canal stenosis': 'relatively' not a grade word -> present. "
          "'wedging fractures of L2 & L4 vertebral bodies ... without significant thecal sac' (truncated, read as no significant thecal sac compression) refers to vertebral bodies, not disc levels; no effect on labels."),
    573: ({"L4-L5": {DB: "present", TS: "mild", FN: "present"}},
          "'mildly compressing the thecal sac and encroaching upon exit neural canal': 'mildly' modifies 'compressing' only, so foraminal_narrowing present. Previous fenestration and annular tear not labelled."),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    assert sorted(HAND) == drawn, (sorted(HAND), drawn)
    out = os.path.join(here, "lumbar_hand_labels.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for pid in drawn:
            given, comment = HAND[pid]
            for lvl, d in given.items():
                assert lvl in LEVELS, (pid, lvl)
                for p, g in d.items():
                    assert p in PATHS and g in GRADES, (pid, p, g)
            labels = {lvl: {p: given.get(lvl, {}).get(p, "absent") for p in PATHS}
                      for lvl in LEVELS}
            f.write(json.dumps({"patient_id": pid, "labels": labels,
                                "comment": comment}, ensure_ascii=False) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
