"""Lumbar spine MRI radiologist notes: sentence splitting, disc-level tagging and rule-based per-level labels.

The notes (`data/lumbar_spine_mri_radiologist_notes/radiologists_report_derived.csv`) are short hand-typed
reports with `//` separators, missing full stops and typos ("compresing", "thecal sca"); the rules below were
written against all 515 of them. `parse_lumbar_note` gives the sentences, their levels, the per-level model
input (`grouped_text`), the labels and an `unparsed` list of what the rules could not fully handle.

Rules chosen where the labelling convention is silent:

* Grade order is absent < mild < present < moderate < severe: an ungraded mention may be worse than mild but a
  radiologist would have said "moderate". Per (level, pathology) the highest mention wins, so a negation never
  erases a positive finding. "largely" (as in "largely compressing") counts as severe, like "markedly";
  "relatively" and "noticeably" carry no grade. Abutting (sac, root or exit canal) is mild.
* A sentence's findings apply to every level it is attributed to (no clause-level split). Attribution: the
  levels it names; else those of a "L4-L5: ..." heading earlier on its line; else those of a heading line
  with no finding of its own ("L4/L5 level :"), which covers the next lines until a blank line, a section
  title, "NB" or a line naming other levels; else, if it opens with a continuation ("mildly compressing ...",
  "With ...", "Abutting ..."), the levels of the sentence before it. Otherwise it is level-free.
* A negated level-free statement applies (as absent) to every level no sentence names. A positive one
  ("Multilevel diffuse disc bulges ...", "... noted elsewhere") is applied to no level and listed in `unparsed`.
* Hedged disc findings ("? sequestrated disc", "suggestive of ...") are not labelled (listed if nothing else
  labels them). Thoracic/cervical findings (D12/L1, T12-L1, "D12 body", C5/C6) and sections titled as another
  MRI (cervical, dorsal, knee, hip, SI joints) are skipped. A non-adjacent pair is a range (L3-S1, L2 to L5,
  "L2-L3 to L5-S1"); one written with "/" (L4/S1) is listed as ambiguous.
* "Exit (neural/nerve) canal"/foramen compressed, encroached or narrowed is foraminal narrowing; the spinal
  canal compressed, narrowed, stenotic or "narrow" is canal stenosis; "adequate" canal or sac is absent.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .readers import read_text
from .registry import DataError, data_root

LEVELS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
PATHOLOGIES = ("disc_bulge", "herniation", "thecal_sac_compression", "nerve_root_compression",
               "foraminal_narrowing", "canal_stenosis")
GRADES = ("absent", "mild", "moderate", "severe", "present")
_RANK = {"absent": 0, "mild": 1, "present": 2, "moderate": 3, "severe": 4}
CSV_RELPATH = Path("lumbar_spine_mri_radiologist_notes") / "radiologists_report_derived.csv"

_GRADE = {**dict.fromkeys(("minimal", "minimally", "slight", "slightly", "sligthly", "mild", "mildly", "mildy",
                           "nild", "small"), "mild"),
          **dict.fromkeys(("moderate", "moderately"), "moderate"),
          **dict.fromkeys(("significant", "significantly", "marked", "markedly", "severe", "severely",
                           "largely", "largly"), "severe")}

# --- levels -----------------------------------------------------------------------------------------------
# Thoracic/cervical spellings are consumed first so that "D12/L1" can never be read as an L1 level.
# T1/T2 alone are MRI sequences ("T2 signal"), hence only T10-T12.
_NONLUMBAR = re.compile(r"(?<![a-z0-9])(?:(?:D\s?\d{1,2}|T\s?1[0-2])(?:\s*[-/]\s*(?:[DTL]\s?)?\d{1,2})?"
                        r"|C\s?[1-7]\s*[-/]\s*C?\s?[1-8])(?![0-9])", re.I)
# No left word boundary: the notes glue levels to words ("atL4/L5", "L5-S1levels").
_PAIR = re.compile(r"(?<![0-9])L\s?(?P<a>[1-5])(?![0-9])(?:(?P<sep>\s*(?:[-/_\u2013]|\bto\b)\s*|\s?)"
                   r"(?:L\s?(?P<b>[1-5])|(?P<s>S)\s?1)(?![0-9])|\s*[-/_\u2013]\s*(?P<c>[1-5])(?![0-9]))", re.I)
_UNREADABLE = re.compile(r"(?<![0-9a-z])L\s?[1-5](?:[0-9]|\s*[-/]\s*(?![LS]?\s?[1-9]))", re.I)


def _scan_levels(sentence: str) -> tuple[list[str], list[str], bool]:
    """(lumbar levels, problems, whether a non-lumbar level is named)."""
    nonlumbar = bool(_NONLUMBAR.search(sentence))
    text = _NONLUMBAR.sub(lambda m: " " * len(m.group()), sentence)
    spans, problems = [], []
    for m in _PAIR.finditer(text):
        a = int(m["a"])
        b = 6 if m["s"] else int(m["b"] or m["c"])
        if m["sep"] is not None and not m["sep"].strip() and b != a + 1:
            continue  # "L3 L5" without a separator is two vertebrae, not a range
        spans.append([m.start(), m.end(), a, b, m.group()])
    merged: list[list] = []
    for sp in spans:  # "from L2-L3 to L5-S1" is one range
        if merged and re.fullmatch(r"\s*(?:to|-|\u2013)\s*", text[merged[-1][1]:sp[0]], re.I):
            merged[-1][1], merged[-1][3], merged[-1][4] = sp[1], sp[3], merged[-1][4] + " to " + sp[4]
        else:
            merged.append(sp)
    found: set[int] = set()
    for _, _, a, b, spelling in merged:
        if b <= a:
            problems.append(f"unreadable level spelling: {spelling!r}")
            continue
        if b > a + 1 and "/" in spelling:
            problems.append(f"ambiguous level spelling read as a range: {spelling!r}")
        found.update(range(a, b))
    for sp in spans:
        text = text[:sp[0]] + " " * (sp[1] - sp[0]) + text[sp[1]:]
    problems += [f"unreadable level spelling: {m.group()!r}" for m in _UNREADABLE.finditer(text)]
    return [LEVELS[v - 1] for v in sorted(found)], problems, nonlumbar


def tag_levels(sentence: str) -> list[str]:
    """Lumbar disc levels a sentence names, in canonical order (lists and ranges expanded; D12/L1 ignored)."""
    return _scan_levels(sentence)[0]


# --- sentences ---------------------------------------------------------------------------------------------
_STOP = re.compile(r"\.+(?=\s|$)|(?<=[A-Za-z]{2})\.(?=[A-Z])")  # "spasm.Desiccating" but not "7.5" or "L.SS"
_ABBREV = re.compile(r"(?:^|[^A-Za-z])(?:[A-Za-z]|lt|rt|dr|vs|e\.g|i\.e)$", re.I)
_VERB_STEM = r"(?:compr|comre|copmr|cpmpr|en[cr]{1,3}[a-z]{0,4}ch|ab[ui]t|indent|narrow|imping)"
_DANGLING = re.compile(rf"(?:\b(?:and|or|with|of|the|to|at|by|upon|on)|&|\b{_VERB_STEM}[a-z]*ing)\s*$", re.I)
_BULLET = re.compile(r"^[\s.\-\u2013\u2022*:]+")


@dataclass(frozen=True)
class _Seg:
    text: str
    first: bool        # first sentence of its line
    after_blank: bool  # a blank line precedes its line


def _segments(text: str) -> list[_Seg]:
    raw = re.sub(r"/{2,}", "\n", text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2026", "..."))
    raw = re.sub(r"\b(noted)(?=at\b|slightly\b)", r"\1 ", raw, flags=re.I)  # "notedat", "notedslightly"
    lines: list[list] = []  # [text, after_blank]
    blank = False
    for line in raw.split("\n"):
        if not line.strip():
            blank = True
        elif lines and not blank and _DANGLING.search(lines[-1][0]):
            lines[-1][0] = lines[-1][0].rstrip() + " " + line.strip()  # "compressing \nthecal sac"
        else:
            lines.append([line.strip(), blank])
            blank = False
    out = []
    for line, after_blank in lines:
        start, pieces = 0, []
        for m in _STOP.finditer(line):
            if _ABBREV.search(line[start:m.start()]):
                continue
            pieces.append(line[start:m.end()])
            start = m.end()
        pieces.append(line[start:])
        pieces = [p for p in (_BULLET.sub("", p).strip() for p in pieces) if re.search(r"[A-Za-z0-9]", p)]
        out += [_Seg(p, i == 0, after_blank) for i, p in enumerate(pieces)]
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of a note: split at newlines, `//` and full stops (not decimals, "Lt.", "L.SS"); `&` kept."""
    return [s.text for s in _segments(text)]


# --- findings within one sentence ----------------------------------------------------------------------------
_OBJECT = re.compile(
    r"(?P<root>\b(?:exit(?:e|ing)?\s+)?(?:nerv[a-z]*|nerrve|nerev|needle)\s*roo[a-z]*"
    r"|\bexit(?:ing)?\s+nerves?\b(?!\s*(?:canal|roo)))"
    r"|(?P<foramen>\b(?:neural|nerves?)\s+exit\s+canals?\b|\bexit(?:ing)?\s+(?:neural\s*|nerves?\s+)?canals?\b"
    r"|\b(?:neural|nerves?)\s*canals?\b|\b(?:neural\s+)?foram[a-z]*|\bexit(?:ing)?\s+neural\b)"
    r"|(?P<thecal>\b(?:thecal+|thercal|tyhecal|tehcal|thyecal|theca)\b(?:\s*(?:n?sac|sa|sca|cac)\b)?|\bthecalsac\b)"
    r"|(?P<other>\bspinal\s+cord|\bcord\b|\b(?:anterior\s+)?csf\s+spaces?|\blateral\s+recess[a-z]*"
    r"|\bdisc\s+spaces?|\bsacral\s+canal)"
    r"|(?P<canal>\b(?:spinal|central|lumbar)\s+canal\b|\bspinal\b)", re.I)
_VERBS = (("compress", re.compile(r"^(?:compr(?!eh)|comre|copmr|cpmpr|imping|contact|comparison$)")),
          ("encroach", re.compile(r"^en[cr]{1,3}[a-z]{0,4}ch")), ("abut", re.compile(r"^ab[ui]t")),
          ("indent", re.compile(r"^indent")), ("narrow", re.compile(r"^narrow")),
          ("stenosis", re.compile(r"^(?:sten|stnos)")), ("adequate", re.compile(r"^ad?equate$|^adquate$")))
_AFFECTS = {"thecal": {"compress", "encroach", "abut", "indent", "narrow", "adequate"},
            "root": {"compress", "encroach", "abut", "indent"},
            "foramen": {"compress", "encroach", "abut", "narrow", "stenosis"},
            "canal": {"compress", "encroach", "indent", "narrow", "stenosis", "adequate"}}
_PATH_OF = {"thecal": "thecal_sac_compression", "root": "nerve_root_compression",
            "foramen": "foraminal_narrowing", "canal": "canal_stenosis"}
_FILL = (r"(?:[\s,&/()\-]|\b(?:the|teh|a|an|andd?|or|both|bilateral|its|of|on|upon|with|left|right|lt|rt|l|r"
         r"|sided|side|sides|l[1-5]|s[12])\b)*")
_GAP = re.compile(rf"{_FILL}", re.I)
_GAP_FIRST = re.compile(rf"{_FILL}(?:\band\s+[a-z]+ing\b{_FILL})?", re.I)  # "compressing and filling the sac"
_GAP_BACK = re.compile(rf"(?:{_FILL}|\b(?:is|are|was|appears?|appeared|also|still)\b)*", re.I)
_CLAUSE = re.compile(r"[.;:,]|\b(?:but|however|whereas|while|although|with|associated)\b", re.I)
_NEG_PRE = re.compile(r"\b(?:no|not|without|nor|absence|negative)\b", re.I)
_NEG_POST = re.compile(r"\b(?:not\s+(?:seen|noted|identified|evident|present|visuali[sz]ed)|absent|free"
                       r"|unremarkable)\b", re.I)
_HEDGE = re.compile(r"\?|\b(?:suggest|sugget|probabl|possibl|likely|mostly|query)", re.I)
# "herniation cannot be excluded", "cannot rule out stenosis", "to rule out": uncertainty, for every pathology
_UNCERTAIN_PRE = re.compile(r"\b(?:can\s*not|can't|could\s+not|not)\s+(?:exclude|rule\s+out)\b|\brule\s+out\b"
                            r"|\br/o\b|\bquestionable\b|\bequivocal\b", re.I)
_UNCERTAIN_POST = re.compile(r"\b(?:can\s*not|can't|could\s+not|not)\s+(?:be\s+)?(?:excluded|ruled\s+out)\b", re.I)
_HERNIATION = re.compile(r"^(?:pro(?:tru|rtu|trot)|extru|her?n?ia|hnp$|prolap|seque)")
_NP_STOP = {"noted", "note", "notred", "seen", "is", "are", "was", "with", "and", "or", "at", "of", "in", "to",
            "by", "on", "no", "not", "without", "there", "also", "as"}
_LOCATIVE = re.compile(r"\b(?:within|in|into|between|at|of|to)\b(?:\W+\w+){0,2}\W*$", re.I)


@dataclass(frozen=True)
class _Mention:
    pathology: str
    grade: str           # "absent" when negated
    hedged: bool = False


def _clause(s: str, start: int, end: int) -> tuple[str, str]:
    """Text of the clause before `start` and after `end` (negation and hedges do not cross clauses)."""
    left = max((m.end() for m in _CLAUSE.finditer(s, 0, start)), default=0)
    right = _CLAUSE.search(s, end)
    return s[left:start], s[end:right.start() if right else len(s)]


def _word_before(s: str, pos: int) -> str:
    m = re.search(r"([a-z]+)\s*$", s[:pos], re.I)
    return m.group(1).lower() if m else ""


def _np_grade(tokens: list[re.Match], i: int) -> str:
    """Grade adjective in the noun phrase ending at token i ("Mild diffuse disc bulge", "Small, Rt ... protrusion")."""
    for tok in reversed(tokens[max(0, i - 6):i]):
        w = tok.group().lower()
        if w in _GRADE:
            return _GRADE[w]
        if w in _NP_STOP or not w.isalpha() or any(rx.match(w) for _, rx in _VERBS):
            break
    return "present"


def _findings(s: str) -> tuple[list[_Mention], list[str]]:
    """Pathology mentions of one sentence, with grade/negation/hedge, and what could not be read."""
    mentions, problems = [], []
    tokens = list(re.finditer(r"[A-Za-z0-9]+|[.;:()]", s))
    for i, tok in enumerate(tokens):  # disc nouns
        w = tok.group().lower()
        path = "disc_bulge" if w.startswith("bulg") else "herniation" if _HERNIATION.match(w) else None
        if path:
            pre, post = _clause(s, tok.start(), tok.end())
            uncertain = bool(_UNCERTAIN_PRE.search(pre) or _UNCERTAIN_POST.search(post))
            hedged = uncertain or (bool(_HEDGE.search(pre)) and path == "herniation")
            negated = not uncertain and bool(_NEG_PRE.search(pre) or _NEG_POST.search(post))
            mentions.append(_Mention(path, "absent" if negated else _np_grade(tokens, i), hedged and not negated))
    objects = [(m.lastgroup, m.start(), m.end(), m.group()) for m in _OBJECT.finditer(s)]
    used: set[int] = set()
    for tok in tokens:  # verbs (and their nominal forms) with their objects, forward first then backward
        kind = next((k for k, rx in _VERBS if rx.match(tok.group().lower())), None)
        if kind is None:
            continue
        chosen, pos, gap = [], tok.end(), _GAP_FIRST
        for j, (_, a, b, _) in enumerate(objects):
            if a >= pos and j not in used and gap.fullmatch(s[pos:a]):
                chosen.append(j)
                pos, gap = b, _GAP
            elif a >= pos:
                break
        if not chosen:
            pos = tok.start()
            for j in range(len(objects) - 1, -1, -1):
                _, a, b, _ = objects[j]
                if b <= pos and j not in used and _GAP_BACK.fullmatch(s[b:pos]):
                    chosen.append(j)
                    pos = a
                elif b <= pos:
                    break
        used.update(chosen)
        start = min([tok.start()] + [objects[j][1] for j in chosen])
        end = max([tok.end()] + [objects[j][2] for j in chosen])
        pre, post = _clause(s, start, end)
        uncertain = bool(_UNCERTAIN_PRE.search(pre) or _UNCERTAIN_POST.search(post))
        negated = kind == "adequate" or (not uncertain and bool(_NEG_PRE.search(pre) or _NEG_POST.search(post)))
        grade = _GRADE.get(_word_before(s, tok.start())) or _GRADE.get(_word_before(s, start)) or (
            "mild" if kind == "abut" else "present")
        targets = [objects[j][0] for j in chosen] or (["canal"] if kind == "stenosis" else [])
        for obj in targets:
            if obj in _AFFECTS and kind in _AFFECTS[obj]:
                mentions.append(_Mention(_PATH_OF[obj], "absent" if negated else grade, uncertain and not negated))
        if not targets and kind in {"compress", "encroach", "abut", "indent"} and not negated \
                and not re.match(r"\s*fracture", s[tok.end():], re.I):
            problems.append(f"verb without a recognised object: {s!r}")
    for j, (obj, a, b, text) in enumerate(objects):
        if j in used or obj not in {"thecal", "root", "foramen"} or text.lower().startswith("foraminal"):
            continue
        pre, post = _clause(s, a, b)
        if not (_NEG_PRE.search(pre) or _NEG_POST.search(post) or _LOCATIVE.search(s[:a])):
            problems.append(f"structure without a recognised verb: {s!r}")
    return mentions, problems


# --- the note ------------------------------------------------------------------------------------------------
_SECTION_LUMBAR = re.compile(r"\bl\.?\s?ss\b|lumb|\bl\.\s*spine", re.I)
_SECTION_OTHER = re.compile(r"cervical|\bc\.?\s*spine|\bd\.?\s*spine|dorsal|knee|hip|\bsij?\b|joint", re.I)
_CONTINUATION = re.compile(r"^(?!compression\s+fracture)(?:(?:with|and|&|causing|mostly|where)\b"
                           rf"|(?:[a-z]+ly\s+|mild\s+|significant\s+)?{_VERB_STEM})", re.I)


@dataclass
class LumbarParse:
    """Everything the labeller derived from one note (see the module docstring for the rules)."""
    text: str
    sentences: list[str]
    tags: list[list[str]]               # levels each sentence is attributed to (named, heading or inherited)
    skipped: list[bool]                 # section titles and non-lumbar sentences, left out of grouped_text
    described: list[str]                # levels some sentence is attributed to
    grouped_text: dict[str, str]        # level -> its sentences plus the level-free ones, in note order
    labels: dict[str, dict[str, str]]   # level -> pathology -> grade
    unparsed: list[str]                 # "reason: detail" for what the rules could not fully handle


def _heading(s: str) -> str | None:
    """Content after a leading level list ("L4-L5 AND L5-S1: ..."), "" for a bare one, None if no heading."""
    prefix, _, content = s.partition(":")
    if not (_PAIR.search(prefix) or _NONLUMBAR.search(prefix)):
        return None
    rest = _PAIR.sub(" ", _NONLUMBAR.sub(" ", prefix))
    rest = re.sub(r"\b(?:levels?|leve|and)\b|[\W_]", "", rest, flags=re.I)
    return content.strip() if len(rest) <= 1 else None


_ENGLISH = re.compile(r"\b(?:the|of|and|with|at|is|are|no|not|in|on|disc|discs|level|levels|canal|spinal|normal"
                      r"|seen|noted|mild|bulge|bulging|root|roots|sac|spine|vertebra[el]?)\b", re.I)


def _reads_as_english(text: str) -> bool:
    """Whether a note is (mostly) English words in Latin letters: the labeller's rules are English patterns, so a
    note in another language would get all-'absent' labels without a word being read."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20:   # too short to tell (an empty or one-line note)
        return True
    latin = sum(c.isascii() for c in letters) / len(letters)
    words = re.findall(r"[A-Za-z]+", text)
    return latin >= 0.8 and len(_ENGLISH.findall(text)) >= max(1, len(words) // 25)


def parse_lumbar_note(text: str) -> LumbarParse:
    """Split, tag and label one note; `label_lumbar_note` returns just the labels."""
    if not isinstance(text, str):
        raise TypeError(f"parse_lumbar_note: text must be one report as a str, got {type(text).__name__}")
    segs = _segments(text)
    tags: list[list[str]] = []
    skipped: list[bool] = []
    findings: list[list[_Mention]] = []
    unparsed: list[str] = []
    lumbar_section = True
    line_ctx = block = prev_ctx = None  # contexts are (levels, non_lumbar)
    for seg in segs:
        s = seg.text
        if seg.first:
            line_ctx = None
        if seg.after_blank or (seg.first and re.match(r"nb\b", s, re.I)):
            block = prev_ctx = None
        mentions, problems = _findings(s)
        levels, level_problems, nonlumbar = _scan_levels(s)
        if re.search(r"\bmri\b", s, re.I) and len(s.split()) <= 8 and not mentions:  # a section title
            lumbar_section = bool(_SECTION_LUMBAR.search(s)) or not _SECTION_OTHER.search(s)
            block = prev_ctx = None
            tags.append([])
            skipped.append(True)
            findings.append([])
            continue
        head = _heading(s)
        ctx = (frozenset(levels), nonlumbar and not levels) if (levels or nonlumbar) else None
        if head is not None:
            line_ctx = ctx
            block = ctx if not _findings(head)[0] else None
        elif ctx is not None:  # names levels: keep a heading it falls within, else it ends the block
            ctx = next((h for h in (line_ctx, block) if h and not ctx[1] and ctx[0] <= h[0]), ctx)
            if ctx is not block:
                block = None
        else:
            ctx = line_ctx or block or (prev_ctx if _CONTINUATION.match(s) else None)
        prev_ctx = ctx
        skip = not lumbar_section or (ctx is not None and ctx[1])
        tags.append([] if skip or ctx is None else [lv for lv in LEVELS if lv in ctx[0]])
        skipped.append(skip)
        findings.append([] if skip else mentions)
        if skip:
            if any(m.grade != "absent" for m in mentions):
                unparsed.append(f"non-lumbar finding skipped: {s!r}")
            continue
        unparsed += level_problems + problems
        if nonlumbar and any(m.grade != "absent" for m in mentions):
            unparsed.append(f"non-lumbar level skipped in a lumbar sentence: {s!r}")
    if not _reads_as_english(text):
        unparsed.insert(0, "not parsed: the note does not read as English (the rules are English word patterns); "
                           "its labels are the all-'absent' default, not a reading")
    described = [lv for lv in LEVELS if any(lv in t for t in tags)]
    labels = {lv: dict.fromkeys(PATHOLOGIES, "absent") for lv in LEVELS}
    for s, t, ms in zip((g.text for g in segs), tags, findings):
        positive = [m for m in ms if m.grade != "absent" and not m.hedged]
        for m in positive:
            for lv in t:
                if _RANK[m.grade] > _RANK[labels[lv][m.pathology]]:
                    labels[lv][m.pathology] = m.grade
        if not t and positive:
            where = "at unnamed other levels" if re.search(r"elsewhere|elswere|other levels", s, re.I) \
                else "without a level"
            unparsed.append(f"positive finding {where}: {s!r}")
        # Negated level-free statements cover the undescribed levels, whose labels are still "absent".
    for s, t, ms in zip((g.text for g in segs), tags, findings):
        for m in ms:
            if m.hedged and all(labels[lv][m.pathology] == "absent" for lv in t or LEVELS):
                unparsed.append(f"hedged finding not labelled: {s!r}")
    grouped = {lv: " ".join(g.text for g, t, sk in zip(segs, tags, skipped) if not sk and (lv in t or not t))
               for lv in LEVELS}
    return LumbarParse(text, [g.text for g in segs], tags, skipped, described, grouped, labels, unparsed)


def label_lumbar_note(text: str) -> dict[str, dict[str, str]]:
    """`{level: {pathology: grade}}` for every level in LEVELS and pathology in PATHOLOGIES."""
    return parse_lumbar_note(text).labels


def load_lumbar_notes(path: str | Path | None = None) -> list[tuple[int, str]]:
    """(patient_id, note) for the non-empty notes; default file under the data root (`$MTLCORE_DATA` or `data/`).
    A malformed file raises DataError naming the line its bad record starts on."""
    path = Path(path) if path is not None else data_root() / CSV_RELPATH
    reader = csv.reader(io.StringIO(read_text(path, "utf-8-sig"), newline=""))
    notes: list[tuple[int, str]] = []
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != ["patient_id", "clinician_notes"]:
            raise DataError(f"{path}:1: expected header 'patient_id,clinician_notes', got {header!r}")
        start = reader.line_num + 1  # a quoted note spans several lines: name the line its record starts on
        for row in reader:
            if len(row) != 2 or not row[0].strip().isdigit():
                raise DataError(f"{path}:{start}: expected '<int patient_id>,<note>', got {row!r}")
            if row[1].strip():
                notes.append((int(row[0]), row[1]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV near line {reader.line_num + 1}: {exc}") from None
    return notes
