"""Rule-based lumbar MRI note labeller: splitting, level tagging, grades, negation, scope and the real notes."""
from __future__ import annotations

import pytest

from mtlcore.tasks.lumbar import (GRADES, LEVELS, PATHOLOGIES, label_lumbar_note, load_lumbar_notes,
                                  parse_lumbar_note, split_sentences, tag_levels)


def nonabsent(labels: dict) -> dict:
    return {(lv, p): g for lv, row in labels.items() for p, g in row.items() if g != "absent"}


# --- sentences ---------------------------------------------------------------------------------------------
def test_split_sentences_on_real_style_punctuation():
    text = ("LSS MRI :\n-Feature of muscle spasm.Desiccating disc material.\n"
            "Diffuse disc bulge about 7.5 mm noted at L4/L5 &L5/S1 levels, more to Lt. side // "
            "L5-S1: bulge noted. mildly compressing\nthe thecal sac\n\n\n")
    assert split_sentences(text) == [
        "LSS MRI :", "Feature of muscle spasm.", "Desiccating disc material.",
        "Diffuse disc bulge about 7.5 mm noted at L4/L5 &L5/S1 levels, more to Lt. side",
        "L5-S1: bulge noted.", "mildly compressing the thecal sac"]  # a line ending on its verb is continued


def test_split_keeps_single_letter_abbreviations_and_handles_missing_stops():
    assert split_sentences("MRI OF THE L. SPINE\nL.SS MRI : c. spine spasm ///No evidence of disc herniation") == [
        "MRI OF THE L. SPINE", "L.SS MRI : c. spine spasm", "No evidence of disc herniation"]
    assert split_sentences("  \n\n") == []


# --- levels ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["L4-5", "L4-L5", "L4/L5", "L4/5", "L4L5", "L4 L5", "L4_L5", "l4-5",
                                      "L4-5 level", "at L4-l5 level", "notedatL4/L5 level"])
def test_every_l4_l5_spelling(spelling):
    assert tag_levels(f"disc bulge {spelling}") == ["L4-L5"]


@pytest.mark.parametrize("spelling", ["L5-S1", "L5S1", "L5/S1", "L5/S 1", "L5-S1levels"])
def test_every_l5_s1_spelling(spelling):
    assert tag_levels(spelling) == ["L5-S1"]


@pytest.mark.parametrize("text, levels", [
    ("bulges at L4/L5 & L5/S1 levels", ["L4-L5", "L5-S1"]),
    ("bulges at L4/L5&L5/S1", ["L4-L5", "L5-S1"]),
    ("L3-4 and L4-5", ["L3-L4", "L4-L5"]),
    ("L3-4, L4-L5 and L5-S1", ["L3-L4", "L4-L5", "L5-S1"]),
    ("L5-S1 and L2-L3 levels", ["L2-L3", "L5-S1"]),              # canonical order, not text order
    ("L3/L4/&L4/L5 levels", ["L3-L4", "L4-L5"]),
    ("multilevel bulges (L3-S1)", ["L3-L4", "L4-L5", "L5-S1"]),
    ("from L2 to L5", ["L2-L3", "L3-L4", "L4-L5"]),
    ("L4-S1", ["L4-L5", "L5-S1"]),
    ("from L2-L3 to L5-S1", ["L2-L3", "L3-L4", "L4-L5", "L5-S1"]),
])
def test_lists_and_ranges(text, levels):
    assert tag_levels(text) == levels


@pytest.mark.parametrize("text", ["protrusion at D12/L1", "bulge at T12-L1", "bulge at T12 - L1", "D11/D12",
                                  "C5/C6 level", "L5 vertebra", "L4 spondylolisthesis", "L4 over L5",
                                  "L3 and L2 hemangiomas", "L2&L3", "T2 signal", "L23"])
def test_non_lumbar_and_single_vertebrae_are_not_levels(text):
    assert tag_levels(text) == []


def test_d12_l1_beside_lumbar_levels_is_dropped_and_reported():
    p = parse_lumbar_note("Diffuse disc bulges noted at D12/L1 & L4/L5 levels.")
    assert p.tags == [["L4-L5"]]
    assert nonabsent(p.labels) == {("L4-L5", "disc_bulge"): "present"}
    assert any(u.startswith("non-lumbar level skipped") for u in p.unparsed)
    p = parse_lumbar_note("Small disc protrusion noted at D12/L1, mildly compressing the thecal sac.")
    assert nonabsent(p.labels) == {} and p.unparsed[0].startswith("non-lumbar finding skipped")


# --- grades, negation and scope --------------------------------------------------------------------------------
def test_grade_covers_only_the_word_it_modifies():
    labels = label_lumbar_note("Mild disc bulge noted at L4-L5 level compressing the thecal sac.")
    assert nonabsent(labels) == {("L4-L5", "disc_bulge"): "mild", ("L4-L5", "thecal_sac_compression"): "present"}


def test_adverb_on_the_verb_covers_all_its_objects():
    labels = label_lumbar_note("Diffuse disc bulge noted at L4/L5 level, mildly compressing the thecal sac and "
                               "exit nerve roots and significantly encroaching exit neural canals")
    assert nonabsent(labels) == {("L4-L5", "disc_bulge"): "present", ("L4-L5", "thecal_sac_compression"): "mild",
                                 ("L4-L5", "nerve_root_compression"): "mild",
                                 ("L4-L5", "foraminal_narrowing"): "severe"}


@pytest.mark.parametrize("word, grade", [("minimal", "mild"), ("slight", "mild"), ("small", "mild"),
                                         ("Mild", "mild"), ("moderate", "moderate"), ("marked", "severe"),
                                         ("severe", "severe"), ("significant", "severe")])
def test_grade_words(word, grade):
    assert label_lumbar_note(f"L5-S1: {word} central disc protrusion.")["L5-S1"]["herniation"] == grade


@pytest.mark.parametrize("text", ["No significant thecal sac compression at L4-L5.",
                                  "L4-L5: no significant thecal sac or nerve root compression noted.",
                                  "L4-L5: disc bulge, without thecal sac compression.",
                                  "L4-L5: thecal sac compression is not seen.",
                                  "L4-L5: adequate thecal sac, no evidence of disc herniation."])
def test_negation(text):
    labels = label_lumbar_note(text)
    for p in ("thecal_sac_compression", "nerve_root_compression", "herniation"):
        assert labels["L4-L5"][p] == "absent"


def test_negation_stays_in_its_clause():
    labels = label_lumbar_note("L5-S1: broad based disc bulge indenting thecal sac but not causing significant "
                               "nerve root compression or foraminal narrowing.")
    assert nonabsent(labels) == {("L5-S1", "disc_bulge"): "present",
                                 ("L5-S1", "thecal_sac_compression"): "present"}


def test_abutting_is_mild_and_exit_canal_is_foraminal():
    labels = label_lumbar_note("L3-L4: disc bulge abutting the thecal sac and Rt S1 nerve root.\n"
                               "L4-L5: bulge where the Lt exit canal also appeared compressed.\n"
                               "L5-S1: bulge compressing the thecal sac and exit canals.")
    assert labels["L3-L4"]["thecal_sac_compression"] == labels["L3-L4"]["nerve_root_compression"] == "mild"
    assert labels["L4-L5"]["foraminal_narrowing"] == labels["L5-S1"]["foraminal_narrowing"] == "present"


def test_only_what_is_stated():
    labels = label_lumbar_note("Small right foraminal disc protrusion noted at L5-S1 level.\n"
                               "L4-L5: torn annulus.\nL3-L4: postoperative fibrosis compressing the thecal sac.")
    assert nonabsent(labels) == {("L5-S1", "herniation"): "mild", ("L3-L4", "thecal_sac_compression"): "present"}


def test_canal_stenosis_and_adequate_canal():
    labels = label_lumbar_note("L4-L5: bulge with secondary spinal canal stenosis.\nL3-L4: narrow spinal canal.\n"
                               "L5-S1: bulge. Adequate spinal canal.")
    assert [labels[lv]["canal_stenosis"] for lv in ("L3-L4", "L4-L5", "L5-S1")] == ["present", "present", "absent"]


def test_most_severe_mention_wins():
    labels = label_lumbar_note("L4-L5: mild disc bulge.\nDiffuse disc bulge at L4-L5, largely compressing the "
                               "thecal sac.\nL4-L5: mildly compressing the thecal sac.\nNo disc bulge at L4-L5.")
    assert labels["L4-L5"]["disc_bulge"] == "present" and labels["L4-L5"]["thecal_sac_compression"] == "severe"


# --- statements without a level, headings and continuations -------------------------------------------------------
def test_level_free_negation_applies_to_undescribed_levels_only():
    note = "L4-L5: disc bulge compressing the thecal sac.\nNo significant thecal sac or nerve root compression noted."
    p = parse_lumbar_note(note)
    assert nonabsent(p.labels) == {("L4-L5", "disc_bulge"): "present",
                                   ("L4-L5", "thecal_sac_compression"): "present"}
    assert p.described == ["L4-L5"] and p.unparsed == []
    assert p.grouped_text["L5-S1"] == "No significant thecal sac or nerve root compression noted."
    assert p.grouped_text["L4-L5"] == note.replace("\n", " ")


def test_positive_level_free_statement_labels_nothing_and_is_reported():
    p = parse_lumbar_note("Multilevel diffuse disc bulges noted compressing the thecal sac.\n"
                          "Mild multilevel disc bulges noted elsewhere.")
    assert nonabsent(p.labels) == {}
    assert [u.split(":")[0] for u in p.unparsed] == ["positive finding without a level",
                                                     "positive finding at unnamed other levels"]


def test_heading_covers_its_line_and_bare_heading_covers_following_lines():
    p = parse_lumbar_note("L4-5: annular disc bulge. compression of right L4 nerve root is also noted. "
                          "L5-S1: protrusion. // Torn annulus, probably.\n"
                          "L3/L4 level :\nDiffuse disc bulges compressing thecal sac\nAdequate spinal canal\n\n"
                          "No evidence of disc herniation.")
    assert p.tags == [["L4-L5"], ["L4-L5"], ["L5-S1"], [], ["L3-L4"], ["L3-L4"], ["L3-L4"], []]
    assert p.labels["L4-L5"]["nerve_root_compression"] == p.labels["L3-L4"]["thecal_sac_compression"] == "present"


def test_continuation_line_inherits_previous_levels():
    labels = label_lumbar_note("Diffuse disc bulge noted at L4-L5 level\nMildly compressing the thecal sac\n"
                               "Features of muscle spasm\nCompressing the exit canals")
    assert labels["L4-L5"]["thecal_sac_compression"] == "mild"
    assert all(labels[lv]["foraminal_narrowing"] == "absent" for lv in LEVELS)


def test_non_lumbar_sections_are_skipped():
    p = parse_lumbar_note("C.SPINE MRI :\nDisc protrusion noted compressing the cord.\nLSS MRI :\n"
                          "L4-L5: disc protrusion.")
    assert p.skipped == [True, True, True, False]
    assert nonabsent(p.labels) == {("L4-L5", "herniation"): "present"}


def test_hedged_herniation_is_not_labelled():
    p = parse_lumbar_note("L3/L4: soft tissue lesion compressing thecal sac ? sequestrated disc.")
    assert nonabsent(p.labels) == {("L3-L4", "thecal_sac_compression"): "present"}
    assert p.unparsed[0].startswith("hedged finding not labelled")


def test_unreadable_level_spelling_is_reported():
    p = parse_lumbar_note("Mild disc bulges noted at L23-L3 and L4-L5 levels.")
    assert p.tags == [["L4-L5"]] and p.unparsed == ["unreadable level spelling: 'L23'"]


# --- output shape, loader and the real notes --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "LSS MRI", "No evidence of disc herniation.", "L3-S1: severe canal stenosis"])
def test_labels_always_have_five_levels_by_six_pathologies(text):
    labels = label_lumbar_note(text)
    assert list(labels) == list(LEVELS)
    assert all(list(row) == list(PATHOLOGIES) and set(row.values()) <= set(GRADES) for row in labels.values())


def test_loader_honours_mtlcore_data_and_reports_bad_lines(tmp_path, monkeypatch):
    folder = tmp_path / "lumbar_spine_mri_radiologist_notes"
    folder.mkdir()
    good = folder / "radiologists_report_derived.csv"
    good.write_text('patient_id,clinician_notes\r\n1,"L4-5: bulge\nNo herniation"\r\n2,\r\n3,  \r\n4,x\r\n',
                    encoding="utf-8")
    monkeypatch.setenv("MTLCORE_DATA", str(tmp_path))
    assert load_lumbar_notes() == [(1, "L4-5: bulge\nNo herniation"), (4, "x")]
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,clinician_notes\n1,ok\nabc,note\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv:3"):
        load_lumbar_notes(bad)
    bad.write_text('patient_id,clinician_notes\n1,"two\nlines"\nx,bad\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv:4"):
        load_lumbar_notes(bad)
    bad.write_bytes(b"patient_id,clinician_notes\n1,\xff\xfe broken\n")
    with pytest.raises(ValueError, match=r"bad\.csv"):
        load_lumbar_notes(bad)
    bad.write_text("id,notes\n1,ok\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv:1: expected header"):
        load_lumbar_notes(bad)


def test_all_real_notes_parse_with_few_unparsed(monkeypatch):
    monkeypatch.delenv("MTLCORE_DATA", raising=False)
    try:
        notes = load_lumbar_notes()
    except FileNotFoundError:
        pytest.skip("lumbar notes CSV not present")
    assert len(notes) == 515
    parses = [parse_lumbar_note(text) for _, text in notes]
    for p in parses:
        assert list(p.labels) == list(LEVELS) and set(p.grouped_text) == set(LEVELS)
        assert all(g in GRADES for row in p.labels.values() for g in row.values())
    fraction = sum(bool(p.unparsed) for p in parses) / len(parses)
    print(f"lumbar notes with unparsed items: {fraction:.1%}")
    assert fraction < 0.15  # measured 9.3% (48/515) when the rules were written
    positives = {p: sum(any(x.labels[lv][p] != "absent" for lv in LEVELS) for x in parses) for p in PATHOLOGIES}
    print("notes with a non-absent label:", positives)
    assert positives["disc_bulge"] > 250 and positives["canal_stenosis"] > 10


@pytest.mark.parametrize("bad", [None, 3, b"L4-5: disc bulge"])
def test_the_labeller_names_a_non_text_argument(bad):
    from mtlcore.tasks.lumbar import label_lumbar_note

    with pytest.raises(TypeError, match="text must be one report as a str, got"):
        label_lumbar_note(bad)


def test_cannot_be_excluded_is_uncertain_not_present():
    from mtlcore.tasks.lumbar import parse_lumbar_note

    for note in ("L4-L5: a small disc herniation cannot be excluded.", "L4-L5: cannot rule out disc herniation.",
                 "L4-L5: canal stenosis can not be ruled out."):
        p = parse_lumbar_note(note)
        assert all(g == "absent" for g in p.labels["L4-L5"].values()), note
        assert any(u.startswith("hedged finding not labelled") for u in p.unparsed), note
    sure = parse_lumbar_note("L4-L5: a small disc herniation is seen.")
    assert sure.labels["L4-L5"]["herniation"] != "absent"


def test_a_note_that_is_not_english_is_flagged_not_parsed():
    from mtlcore.tasks.lumbar import parse_lumbar_note

    german = ("LWK 4/5: breitbasige Bandscheibenvorwoelbung mit Einengung des Spinalkanals und beider "
              "Neuroforamina, Kompression der Nervenwurzel L5 links.")
    p = parse_lumbar_note(german)
    assert p.unparsed and p.unparsed[0].startswith("not parsed: the note does not read as English")
    english = parse_lumbar_note("L4-L5: mild diffuse disc bulge with narrowing of the neural foramina.")
    assert not any(u.startswith("not parsed") for u in english.unparsed)
