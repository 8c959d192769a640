"""Open-i chest X-ray reports: parsing counts, hand-checked reports, findings, severity task, CheXpert join, split."""
from __future__ import annotations

import io
import re
import tarfile
from collections import Counter

import numpy as np
import pytest

from mtlcore.tasks import SPLIT_SEED, DataError, data_root
from mtlcore.tasks.openi import (CHEXPERT_NAMES, XML_RELPATH, chexpert_labels, finding_counts, parse_openi,
                                 presence_labels, severity_task, split_reports, top_findings)

_SECTION = re.compile(r'<AbstractText Label="(FINDINGS|IMPRESSION)"\s*(?:/>|>(.*?)</AbstractText>)', re.S)


@pytest.fixture(scope="module")
def parsed():
    return parse_openi()


@pytest.fixture(scope="module")
def reports(parsed):
    return parsed[0]


def test_counts_and_skipped_match_a_regex_count(parsed):
    reports, stats = parsed
    assert stats["kept"] + stats["skipped_no_text"] == stats["total_xml"] == 3955
    assert stats["kept"] == len(reports) == 3927
    # Independent count: regex over the raw XML text, not ElementTree.
    empty, total = [], 0
    with tarfile.open(data_root() / XML_RELPATH) as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(".xml"):
                total += 1
                raw = tar.extractfile(m).read().decode("utf-8")
                if not any((body or "").strip() for _, body in _SECTION.findall(raw)):
                    empty.append(m.name)
    assert total == 3955 and len(empty) == stats["skipped_no_text"] == 28
    kept_keys = {r.xml_key for r in reports}
    assert not kept_keys & set(empty)
    numbers = [r.number for r in reports]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert parse_openi()[0][0] is reports[0]  # cached


def test_hand_checked_reports(reports):
    by_id = {r.report_id: r for r in reports}
    cxr1 = by_id["CXR1"]
    assert cxr1.xml_key == "ecgen-radiology/1.xml" and cxr1.number == 1
    assert cxr1.findings_set == ["normal"] and cxr1.mesh_major == ["normal"] and cxr1.severity == {}
    assert cxr1.text.startswith("The cardiac silhouette and mediastinum size are within normal limits.")
    assert "There are no XXXX of a pleural effusion." in cxr1.text and cxr1.text.endswith("Normal chest x-XXXX.")
    assert cxr1.text == cxr1.findings + " " + cxr1.impression
    cxr10 = by_id["CXR10"]
    assert cxr10.mesh_major == ["Calcified Granuloma/lung/upper lobe/right"]
    assert cxr10.findings_set == ["calcified granuloma"] and cxr10.severity == {}
    assert "Stable calcified granuloma within the right upper lung." in cxr10.text
    assert sum("XXXX" in r.text for r in reports) > 1000  # de-identification tokens are kept verbatim
    cxr2 = by_id["CXR2"]
    assert cxr2.mesh_major == ["Cardiomegaly/borderline", "Pulmonary Artery/enlarged"]
    assert cxr2.findings_set == ["cardiomegaly", "pulmonary artery"] and cxr2.severity == {"cardiomegaly": "borderline"}
    assert cxr2.findings.startswith("Borderline cardiomegaly. Midline sternotomy XXXX.")
    assert cxr2.impression == "No acute pulmonary findings."
    assert all("no indexing" not in r.findings_set for r in reports)


def test_top_findings_and_presence_labels(reports):
    top = top_findings(reports)
    assert len(top) == len(set(top)) == 10 and "normal" not in top
    assert top[:3] == ["opacity", "cardiomegaly", "pulmonary atelectasis"] and "lung/hypoinflation" in top
    y = presence_labels(reports, top)
    assert y.shape == (len(reports), 10) and y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    sums = y.sum(axis=0)
    assert list(sums) == sorted(sums, reverse=True)
    counts = finding_counts(reports)
    assert list(sums) == [counts[h] for h in top]
    assert all(counts[h] <= sums[-1] for h in counts if h not in top and h != "normal")
    assert top_findings(reports, k=3, exclude=()) == ["normal", "opacity", "cardiomegaly"]


def test_severity_task(reports):
    task = severity_task(reports)
    assert task.finding == "cardiomegaly"
    assert task.classes == ("borderline", "mild", "moderate_or_severe")
    assert Counter(task.grades) == {"mild": 135, "borderline": 47, "moderate": 25, "severe": 11}
    assert np.bincount(task.labels).tolist() == [47, 135, 36] and task.ungraded == 157
    assert len(task.index) + task.ungraded == finding_counts(reports)["cardiomegaly"]
    assert all("cardiomegaly" in reports[i].findings_set for i in task.index)


def test_chexpert_join(reports):
    names, mask, labels = chexpert_labels(reports)
    assert names == CHEXPERT_NAMES and len(names) == 14
    assert mask.dtype == bool and mask.sum() == 3337
    assert labels.shape == (len(reports), 14) and not labels[~mask].any()
    # The labelled reports are exactly those with FINDINGS text and at least one image.
    assert (mask == np.array([bool(r.findings) and r.n_images > 0 for r in reports])).all()
    cxr162 = next(i for i, r in enumerate(reports) if r.xml_key == "ecgen-radiology/162.xml")
    assert labels[cxr162].tolist() == [0] * 8 + [1] + [0] * 5  # "No Finding" only


def test_split_by_report(reports):
    ids = [r.report_id for r in reports]
    split = split_reports(ids)
    assert set(split) == {"train", "dev", "test"}
    parts = [set(split[s].tolist()) for s in ("train", "dev", "test")]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert set().union(*parts) == set(range(len(ids)))
    for s, frac in zip(("train", "dev", "test"), (0.8, 0.1, 0.1)):
        assert abs(len(split[s]) - frac * len(ids)) <= 1
    order = np.random.default_rng(0).permutation(len(ids))
    shuffled = split_reports([ids[i] for i in order])
    assert {s: {ids[order[i]] for i in idx} for s, idx in shuffled.items()} == \
           {s: {ids[i] for i in idx} for s, idx in split.items()}
    assert split_reports(ids, seed=SPLIT_SEED)["test"].tolist() == split["test"].tolist()
    assert split_reports(ids, seed=SPLIT_SEED + 1)["test"].tolist() != split["test"].tolist()
    twice = split_reports(ids[:20] + ids[:20])  # a repeated id lands in one split
    where = {int(i): s for s, idx in twice.items() for i in idx}
    assert all(where[i] == where[i + 20] for i in range(20))


def _tarball(path, members: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _xml(n: int, findings: str, *major: str) -> str:
    codes = "".join(f"<major>{m}</major>" for m in major)
    return (f'<?xml version="1.0" encoding="utf-8"?><eCitation><uId id="CXR{n}"/><Abstract>'
            f'<AbstractText Label="FINDINGS">{findings}</AbstractText><AbstractText Label="IMPRESSION"/></Abstract>'
            f"<MeSH>{codes}<automatic>Edema</automatic></MeSH></eCitation>")


def test_small_tarball_and_malformed_member(tmp_path):
    good = tmp_path / "good.tgz"
    _tarball(good, {"ecgen-radiology/12.xml": _xml(12, " Heart XXXX. ", "Opacity/lung/mild", "Opacity/base/moderate",
                                                   "Cardiomegaly", "No Indexing "),
                    "ecgen-radiology/3.xml": _xml(3, "Clear.", "No Indexing"),
                    "ecgen-radiology/1.xml": _xml(1, "", "normal")})
    reports, stats = parse_openi(good)
    assert stats["total_xml"] == 3 and stats["skipped_no_text"] == 1 and stats["kept"] == 2
    assert [r.number for r in reports] == [3, 12] and stats["no_indexing"] == 2
    r = reports[1]
    assert r.text == "Heart XXXX." and r.impression == "" and r.findings_set == ["opacity", "cardiomegaly"]
    assert r.severity == {"opacity": "moderate"}  # the worst grade of a finding coded twice
    assert reports[0].findings_set == [] and presence_labels(reports, ["opacity"]).tolist() == [[0], [1]]
    bad = tmp_path / "bad.tgz"
    _tarball(bad, {"ecgen-radiology/1.xml": _xml(1, "Clear.", "normal"),
                   "ecgen-radiology/7.xml": "<eCitation><uId id='CXR7'/><MeSH></eCitation>"})
    with pytest.raises(DataError, match=r"ecgen-radiology/7\.xml"):
        parse_openi(bad)
    with pytest.raises(DataError, match="not found"):
        parse_openi(tmp_path / "missing.tgz")
