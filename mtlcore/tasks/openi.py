"""Open-i / Indiana University chest X-ray reports: text, manual MeSH findings, severities, CheXpert-style labels.

Source: `data/openi_iu_cxr/nlm_xml/NLMCXR_reports.tgz`, the 3,955 NLM XML reports `ecgen-radiology/<n>.xml` of
the Indiana University chest X-ray collection (Demner-Fushman et al., "Preparing a collection of radiology
examinations for distribution and retrieval", JAMIA 2016; CC BY-NC-ND 4.0). Each report has FINDINGS and
IMPRESSION sections (either may be empty) and manual MeSH codes `<major>` such as
`Opacity/lung/base/left/mild` or `normal`: a head term, then location, attribute and severity modifiers.
The `<automatic>` codes (machine-extracted) are ignored.

What this module decides, from a look at all 3,955 reports:

* 28 reports have neither FINDINGS nor IMPRESSION text (all are coded `normal`, none has CheXpert labels);
  they are skipped and counted. 3,927 are kept; 502 of them have only an IMPRESSION, 6 only FINDINGS.
* A finding is the lower-cased, stripped first `/`-part of a major code (`normal` stays `normal`), except
  where that part is an anatomical site whose finding is the next part (`ANATOMY_HEADS`): `lung` is
  mostly hypoinflation or hyperdistention, opposite findings, so the finding is `lung/hypoinflation`,
  `lung/hyperdistention`; likewise `thoracic vertebrae/degenerative`, `spine/degenerative`,
  `aorta/tortuous`, `diaphragm/elevated`, `costophrenic angle/blunted`.
  `No Indexing` (95 reports, always alone) means the indexers coded nothing; it is not a finding, so those
  reports have an empty `findings_set` (counted in the stats as `no_indexing`).
* Severity words in the modifiers: borderline, small, mild, moderate, large, severe (small/large are the size
  words of effusions, granulomas and calcinosis). A finding coded more than once keeps its worst word in
  `SEVERITY_ORDER`. Other modifiers (prominent, enlarged, chronic, ...) carry no grade.
* `report_id` is the XML's `uId` ("CXR1"), which always equals "CXR" + the file stem; `number` is the stem
  as an int (the sort key) and `xml_key` ("ecgen-radiology/1.xml") joins `file2label.json`.
"""
from __future__ import annotations

import functools
import json
import re
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from .registry import SPLIT_SEED, DataError, data_root, group_split, note_read

XML_RELPATH = Path("openi_iu_cxr") / "nlm_xml" / "NLMCXR_reports.tgz"
LABELS_RELPATH = Path("openi_iu_cxr") / "xray_report_generation_labels" / "file2label.json"
NOT_A_FINDING = "no indexing"
SEVERITY_ORDER = ("borderline", "small", "mild", "moderate", "large", "severe")  # later = worse
# Classes of the severity task, fixed from the cardiomegaly grade counts over the 3,927 kept reports
# (borderline 47, mild 135, moderate 25, severe 11): severe alone is too small to score (~1 per dev split).
SEVERITY_CLASSES = {"borderline": "borderline", "small": "mild", "mild": "mild", "moderate": "moderate_or_severe",
                    "large": "moderate_or_severe", "severe": "moderate_or_severe"}
# Order of the 14 labels in file2label.json (its readme.txt); 1 = positive or uncertain.
CHEXPERT_NAMES = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum",
                  "Fracture", "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other",
                  "Pneumonia", "Pneumothorax", "Support Devices")
_MEMBER = re.compile(r"(?:.*/)?(\d+)\.xml")


@dataclass(frozen=True)
class OpenIReport:
    """One kept report. `text` = FINDINGS + " " + IMPRESSION, stripped; the de-identification tokens
    (`XXXX`) are left exactly as they are. `mesh_major` holds the raw major codes, `findings_set` their
    distinct heads in code order, `severity` {head: worst severity word} where a code carries one."""

    report_id: str
    number: int
    xml_key: str
    findings: str
    impression: str
    text: str
    mesh_major: list[str] = field(default_factory=list)
    findings_set: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    n_images: int = 0


# MeSH heads that name a site, not a finding: the finding is the site plus the code's second part
ANATOMY_HEADS = frozenset({"lung", "thoracic vertebrae", "spine", "aorta", "aorta, thoracic", "diaphragm",
                           "costophrenic angle"})


def finding_head(term: str) -> str:
    """The finding of a MeSH major code: its first `/`-part, stripped and lower-cased, with the second part
    appended for an anatomical site (`Lung/hypoinflation/mild` -> `lung/hypoinflation`)."""
    parts = [p.strip().lower() for p in term.split("/")]
    return f"{parts[0]}/{parts[1]}" if parts[0] in ANATOMY_HEADS and len(parts) > 1 else parts[0]


def code_severity(term: str) -> str | None:
    """The worst severity word among a code's modifiers, or None."""
    words = [p.strip().lower() for p in term.split("/")[1:]]
    graded = [w for w in words if w in SEVERITY_ORDER]
    return max(graded, key=SEVERITY_ORDER.index) if graded else None


def _section(root: ET.Element, label: str) -> str:
    for node in root.iter("AbstractText"):
        if node.get("Label") == label:
            return "".join(node.itertext()).strip()
    return ""  # a missing section reads as an empty one


def _parse_member(archive: Path, name: str, raw: bytes) -> OpenIReport:
    m = _MEMBER.fullmatch(name)
    if not m:
        raise DataError(f"{archive}: member {name}: expected a name like ecgen-radiology/<n>.xml")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        raise DataError(f"{archive}: member {name}: malformed XML ({e})") from None
    number = int(m.group(1))
    uid = root.find("uId")
    report_id = uid.get("id") if uid is not None and uid.get("id") else f"CXR{number}"
    if report_id != f"CXR{number}":  # the join with file2label relies on stem and id agreeing
        raise DataError(f"{archive}: member {name}: uId {report_id!r} does not match the file name")
    findings, impression = _section(root, "FINDINGS"), _section(root, "IMPRESSION")
    mesh = root.find("MeSH")
    major = [t.text.strip() for t in (mesh.findall("major") if mesh is not None else []) if t.text and t.text.strip()]
    heads: list[str] = []
    severity: dict[str, str] = {}
    for term in major:
        head = finding_head(term)
        if head == NOT_A_FINDING:
            continue
        if head not in heads:
            heads.append(head)
        grade = code_severity(term)
        if grade and (head not in severity or SEVERITY_ORDER.index(grade) > SEVERITY_ORDER.index(severity[head])):
            severity[head] = grade
    return OpenIReport(report_id, number, name, findings, impression, f"{findings} {impression}".strip(), major,
                       heads, severity, len(root.findall("parentImage")))


@functools.lru_cache(maxsize=4)
def _parse_cached(path: str, mtime_ns: int) -> tuple[tuple[OpenIReport, ...], dict]:
    del mtime_ns  # part of the cache key only: a rewritten archive is parsed again
    archive = Path(path)
    reports, seen = [], set()
    stats = Counter(total_xml=0, skipped_no_text=0)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not (member.isfile() and member.name.endswith(".xml")):
                    continue
                if member.name in seen:
                    raise DataError(f"{archive}: member {member.name} occurs twice")
                seen.add(member.name)
                stats["total_xml"] += 1
                report = _parse_member(archive, member.name, tar.extractfile(member).read())
                if not report.text:  # nothing a text model could read
                    stats["skipped_no_text"] += 1
                    continue
                reports.append(report)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{archive}: not a readable tar archive ({type(e).__name__}: {e})") from None
    reports.sort(key=lambda r: r.number)
    stats.update(kept=len(reports), no_findings=sum(not r.findings for r in reports),
                 no_impression=sum(not r.impression for r in reports),
                 normal=sum("normal" in r.findings_set for r in reports),
                 no_indexing=sum(any(finding_head(t) == NOT_A_FINDING for t in r.mesh_major) for r in reports),
                 with_severity=sum(bool(r.severity) for r in reports))
    return tuple(reports), dict(stats)


def parse_openi(path: str | Path | None = None) -> tuple[list[OpenIReport], dict]:
    """All reports with some FINDINGS or IMPRESSION text, sorted by number, and counts: total_xml,
    skipped_no_text, kept, no_findings, no_impression, normal, no_indexing, with_severity.

    Default path: `<data root>/openi_iu_cxr/nlm_xml/NLMCXR_reports.tgz` (`$MTLCORE_DATA` honoured). The
    archive is read in place and parsed once per resolved path (and modification time). Malformed XML
    raises `DataError` naming the member. The reports are shared between calls: do not mutate them."""
    archive = (Path(path) if path is not None else data_root() / XML_RELPATH).resolve()
    if not archive.is_file():
        raise DataError(f"{archive}: file not found")
    note_read(archive)
    reports, stats = _parse_cached(str(archive), archive.stat().st_mtime_ns)
    return list(reports), dict(stats)


def finding_counts(reports: Sequence[OpenIReport]) -> Counter:
    """{finding head: number of reports coded with it} (a report counts once per head)."""
    return Counter(head for r in reports for head in r.findings_set)


def top_findings(reports: Sequence[OpenIReport], k: int = 10, exclude: Sequence[str] = ("normal",)) -> list[str]:
    """The k finding heads coded in most reports, most frequent first, ties broken by name.

    On the 3,927 kept reports the top 10 (in reports) are: opacity 455, cardiomegaly 375, pulmonary
    atelectasis 332, calcinosis 305, lung/hypoinflation 283, calcified granuloma 274, thoracic
    vertebrae/degenerative 252, lung/hyperdistention 208, cicatrix 196, spine/degenerative 182; next come
    markings 163 and pleural effusion 161 (`normal`: 1,363 reports)."""
    counts, skip = finding_counts(reports), set(exclude)
    ranked = sorted((h for h in counts if h not in skip), key=lambda h: (-counts[h], h))
    return ranked[:k]


def presence_labels(reports: Sequence[OpenIReport], findings: Sequence[str]) -> np.ndarray:
    """(n, len(findings)) int64: 1 where the report is coded with the finding, else 0."""
    out = np.zeros((len(reports), len(findings)), dtype=np.int64)
    column = {f: j for j, f in enumerate(findings)}
    for i, r in enumerate(reports):
        for head in r.findings_set:
            if head in column:
                out[i, column[head]] = 1
    return out


class SeverityTask(NamedTuple):
    """The severity task of one finding: `index` into the reports, their raw `grades` and class `labels`."""

    finding: str
    classes: tuple[str, ...]
    index: np.ndarray
    grades: list[str]
    labels: np.ndarray
    ungraded: int


def severity_task(reports: Sequence[OpenIReport], finding: str | None = None,
                  classes: dict[str, str] | None = None) -> SeverityTask:
    """Grade classification among the reports coded with one finding.

    `finding` defaults to the head whose codes most often carry a severity word (reports counted once, ties by
    name): on the vendored data cardiomegaly (218 graded of 375 reports; thoracic vertebrae follows with 118).
    Classes (`SEVERITY_CLASSES`): borderline 47, mild 135, moderate_or_severe 36 (moderate 25 + severe 11).
    Reports with the finding but no severity word (157 for cardiomegaly) are excluded, as `ungraded`: an
    unqualified "Cardiomegaly" is not a grade, and guessing one would put label noise in every class."""
    if finding is None:
        graded = Counter(head for r in reports for head in r.severity)
        if not graded:
            raise DataError("no report carries a severity modifier")
        finding = min(graded, key=lambda h: (-graded[h], h))
    mapping = classes or SEVERITY_CLASSES
    names = tuple(dict.fromkeys(mapping[g] for g in SEVERITY_ORDER if g in mapping))
    index, grades = [], []
    for i, r in enumerate(reports):
        grade = r.severity.get(finding)
        if grade is not None and grade in mapping:
            index.append(i)
            grades.append(grade)
    ungraded = sum(finding in r.findings_set for r in reports) - len(index)
    labels = np.asarray([names.index(mapping[g]) for g in grades], dtype=np.int64)
    return SeverityTask(finding, names, np.asarray(index, dtype=np.int64), grades, labels, ungraded)


def chexpert_labels(reports: Sequence[OpenIReport],
                    path: str | Path | None = None) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, mask, labels): the 14 CheXpert-style labels of `file2label.json` joined by `xml_key`.

    These labels are MODEL-PREDICTED (an LSTM CheXpert labeller trained on MIMIC-CXR, from
    github.com/ginobilinie/xray_report_generation), not radiologist annotations; 1 = positive or uncertain.
    `mask` (n,) bool marks the reports that have labels: 3,337 of the 3,927 kept, exactly those with FINDINGS
    text and at least one image. `labels` (n, 14) int64 is 0 where `mask` is False."""
    file = (Path(path) if path is not None else data_root() / LABELS_RELPATH).resolve()
    if not file.is_file():
        raise DataError(f"{file}: file not found")
    note_read(file)
    try:
        table = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{file}: not JSON ({e})") from None
    if not isinstance(table, dict):
        raise DataError(f"{file}: expected an object {{xml key: [14 labels]}}")
    mask = np.zeros(len(reports), dtype=bool)
    labels = np.zeros((len(reports), len(CHEXPERT_NAMES)), dtype=np.int64)
    for i, r in enumerate(reports):
        row = table.get(r.xml_key)
        if row is None:
            continue
        if not (isinstance(row, list) and len(row) == len(CHEXPERT_NAMES) and all(v in (0, 1) for v in row)):
            raise DataError(f"{file}: {r.xml_key}: expected {len(CHEXPERT_NAMES)} labels of 0/1, got {row!r}")
        mask[i], labels[i] = True, row
    return CHEXPERT_NAMES, mask, labels


def split_reports(report_ids: Sequence, seed: int = SPLIT_SEED,
                  fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, np.ndarray]:
    """{"train", "dev", "test": positions in `report_ids`}: a seeded split by report.

    The distinct ids are sorted, permuted with `seed` (default `SPLIT_SEED`, not the run seed) and cut by
    `fractions` (`group_split`), so a report (every position holding its id) is in exactly one split and the
    split depends only on the set of ids, not their order. Split the ids of all kept reports and subset,
    so that a report falls in the same split in every Open-i task."""
    return group_split(list(report_ids), fractions, seed)
