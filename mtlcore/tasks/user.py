"""Users' own tasks: a CSV, TSV or JSONL file of texts and labels, declared by a small YAML spec.

The spec (paths are relative to the YAML file)::

    file: reports.csv             # .csv, .tsv or .jsonl (one JSON object per line)
    text: [findings, impression]  # one text column, or two (a sentence pair); a single name also works
    id: report_id                 # optional: a unique id per row
    split: split                  # optional: a column holding train, dev or test
    prefix: my                    # optional (default: the YAML file's name); tasks are named my/<task>
    encoding: utf-8               # optional (default utf-8; a UTF-8 byte-order mark is skipped)
    tasks:
      effusion: {kind: classification, label: effusion}      # classes: the values found, sorted
      severity: {kind: classification, label: severity, classes: [none, mild, severe]}
      size_mm:  {kind: regression, label: size_mm}
      findings: {kind: multilabel, labels: [nodule, edema]}  # 0/1 columns, one output each
      # any task may add `description: "..."`

Rules:

* Every plain YAML value is read as text: `classes: [no, yes]` are the strings "no" and "yes" (not
  booleans) and `classes: [0, 1]` match the cells "0" and "1". An unknown, missing or duplicate key, an
  unknown kind or a key that does not fit the kind (`classes` on a regression task) is refused naming
  the YAML file, line and key.
* Splits: with `split`, every row names its split and each of train, dev and test must hold rows.
  Without it, the rows are split 80/10/10 (train/dev/test) by `group_split` with the fixed seed
  `SPLIT_SEED`, over the sorted ids (or the row numbers when there is no `id`): a file always gives
  the same split, and with an `id` column reordering the rows does not change it.
* All tasks of one file share its rows and splits (the same texts in the same order), its
  `split_note` and its `input_group`, `shared_input_group(spec)` = "user:<prefix>": the trainer can
  encode each text once for all of them.
* Missing labels: a row whose label is missing (an empty cell, JSON null) is refused, whatever the
  task; fill it in or drop the row (tasks labelled on different rows belong in different files).
* Metrics: classification macro_f1 and accuracy, regression pearson and spearman, multilabel roc_auc.
* Reading is strict. Errors are `DataError("<file>:<line>: column '<name>': <problem>")`, lines
  1-based as an editor shows them (a CSV row with a quoted line break is reported at its first
  line, and later rows keep their true numbers): a missing column, an empty text or id, an unknown
  class, a missing, non-numeric or non-finite regression value, a multilabel value other than 0/1,
  a duplicate id (or one id in two splits), a bad split, a wrong column count or broken quoting, a
  byte not in the encoding, an empty or header-only file, a JSONL line that is not a JSON object.
  Blank lines are skipped and columns the spec does not name are ignored. CSV and TSV follow the
  same (strict) quoting rules, as Excel and pandas write them. JSONL values may be strings, numbers
  or booleans (true/false read as 1/0, 2.0 as 2); null is missing.
* Nothing is written; the spec and data file are noted in `$MTLCORE_READ_LOG` like any data file.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import yaml

from .._io import YamlTooLarge, compose_yaml
from ..analysis.metrics import METRICS
from .registry import (KINDS, SPLIT_SEED, TASKS, DataError, Examples, TaskSpec, check_splits, group_split,
                       note_read, register_task)

FORMATS = {".csv": ",", ".tsv": "\t", ".jsonl": None}
SPLITS = ("train", "dev", "test")
FRACTIONS = (0.8, 0.1, 0.1)
_WANTED = {"classification": ("macro_f1", "accuracy"), "regression": ("pearson", "spearman"),
           "multilabel": ("roc_auc",)}
DEFAULT_METRICS = {kind: tuple(m for m in names if m in METRICS) for kind, names in _WANTED.items()}
_TOP_KEYS = {"file": True, "text": True, "tasks": True, "id": False, "split": False, "prefix": False, "encoding": False}
_TASK_KEYS = {"kind": True, "label": False, "labels": False, "classes": False, "description": False}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_ORIGIN: dict[str, Path] = {}  # task name -> the spec file that registered it


@dataclass(frozen=True)
class UserTask:
    """One declared task: its kind, label column(s) and, for classification, the declared classes."""

    key: str
    kind: str
    columns: tuple[str, ...]
    classes: tuple[str, ...] | None
    description: str


@dataclass(frozen=True)
class TaskFile:
    """A validated spec; `data` is the resolved data file."""

    spec: Path
    data: Path
    text: tuple[str, ...]
    id: str | None
    split: str | None
    prefix: str
    encoding: str
    tasks: tuple[UserTask, ...]

    @property
    def columns(self) -> list[str]:
        """Every column the spec names, each once."""
        cols = [*self.text, self.id, self.split, *(c for t in self.tasks for c in t.columns)]
        return list(dict.fromkeys(c for c in cols if c))


# --- the spec -------------------------------------------------------------------------------------------


def _plain(node: yaml.Node, path: tuple[str, ...], lines: dict, where: Path) -> Any:
    """A YAML node as str / list / dict (no type guessing), noting the line of every key."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n, path, lines, where) for n in node.value]
    out: dict[str, Any] = {}
    for k, v in node.value:
        line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode):
            raise DataError(f"{where}:{line}: {'.'.join(path) or 'top level'}: keys must be plain names")
        if k.value in out:
            raise DataError(f"{where}:{line}: {'.'.join(path + (k.value,))}: duplicate key")
        lines[path + (k.value,)] = line
        out[k.value] = _plain(v, path + (k.value,), lines, where)
    return out


def read_spec(spec_path: str | Path) -> TaskFile:
    """Parse and validate a YAML task spec (the data file must exist but is not read)."""
    where = Path(spec_path)
    if not where.is_file():
        raise DataError(f"{where}: task spec not found")
    note_read(where)
    try:
        node = compose_yaml(where.read_bytes().decode("utf-8-sig"), where)
    except YamlTooLarge as e:
        raise DataError(str(e)) from None
    except UnicodeDecodeError as e:
        raise DataError(f"{where}: not valid utf-8 (byte offset {e.start})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise DataError(f"{where}:{mark.line + 1 if mark else 1}: not valid YAML "
                        f"({getattr(e, 'problem', None) or e})") from None
    lines: dict[tuple[str, ...], int] = {}
    tree = _plain(node, (), lines, where) if node is not None else None

    def bad(path: tuple[str, ...], msg: str) -> DataError:
        line = next((lines[path[:i]] for i in range(len(path), 0, -1) if path[:i] in lines), None)
        return DataError(f"{where}{f':{line}' if line else ''}: {'.'.join(path) + ': ' if path else ''}{msg}")

    def keys(d: Any, allowed: dict[str, bool], path: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise bad(path, f"expected a mapping with keys {', '.join(allowed)}")
        for k in d:
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise bad(path + (k,), f"unknown key ({hint}known keys: {', '.join(allowed)})")
        for k, required in allowed.items():
            if required and k not in d:
                raise bad(path, f"missing key {k!r}")
        return d

    def name(path: tuple[str, ...], value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise bad(path, f"expected a non-empty name, got {value!r}")
        return value.strip()

    def names(path: tuple[str, ...], value: Any, lo: int, hi: int | None = None) -> tuple[str, ...]:
        items = tuple(name(path, v) for v in (value if isinstance(value, list) else [value]))
        if not lo <= len(items) <= (hi or len(items)) or len(set(items)) < len(items):
            raise bad(path, f"expected {f'{lo} to {hi}' if hi else f'at least {lo}'} distinct names, got {value!r}")
        return items

    top = keys(tree if tree is not None else {}, _TOP_KEYS, ())
    file = name(("file",), top["file"])
    data = where.parent / file
    if data.suffix.lower() not in FORMATS:
        raise bad(("file",), f"{file!r}: expected a .csv, .tsv or .jsonl file")
    if not data.is_file():
        raise bad(("file",), f"data file {data} not found")
    text = names(("text",), top["text"], 1, 2)
    id_col = name(("id",), top["id"]) if "id" in top else None
    split_col = name(("split",), top["split"]) if "split" in top else None
    if id_col is not None and id_col in (*text, split_col):
        raise bad(("id",), f"column {id_col!r} is also a text or split column")
    if split_col is not None and split_col in text:
        raise bad(("split",), f"column {split_col!r} is also a text column")
    prefix = name(("prefix",), top["prefix"]) if "prefix" in top else where.stem
    if not _NAME.match(prefix):
        raise bad(("prefix",), f"{prefix!r} is not a valid task prefix (letters, digits, _ . -; no '/')")
    encoding = name(("encoding",), top["encoding"]) if "encoding" in top else "utf-8"
    try:
        encoding = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:
        raise bad(("encoding",), f"unknown encoding {encoding!r}") from None
    if not isinstance(top["tasks"], dict) or not top["tasks"]:
        raise bad(("tasks",), "expected a mapping of task name -> {kind, label(s), ...}")
    tasks = []
    for key, body in top["tasks"].items():
        path = ("tasks", key)
        if not _NAME.match(key):
            raise bad(path, "task names use letters, digits, _ . - (no '/')")
        body = keys(body, _TASK_KEYS, path)
        kind = name(path + ("kind",), body["kind"])
        if kind not in KINDS:
            raise bad(path + ("kind",), f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        want, other = ("labels", "label") if kind == "multilabel" else ("label", "labels")
        if other in body:
            raise bad(path + (other,), f"a {kind} task takes `{want}`, not `{other}`")
        if want not in body:
            raise bad(path, f"missing key {want!r}")
        if "classes" in body and kind != "classification":
            raise bad(path + ("classes",), "only classification tasks take `classes`")
        columns = names(path + (want,), body[want], 1) if want == "labels" else (name(path + (want,), body[want]),)
        for c in columns:
            if c in (*text, id_col, split_col):
                raise bad(path + (want,), f"column {c!r} is also a text, id or split column")
        classes = names(path + ("classes",), body["classes"], 2) if "classes" in body else None
        default = f"{kind} of {', '.join(columns)} in {data.name}"
        desc = name(path + ("description",), body["description"]) if "description" in body else default
        tasks.append(UserTask(key, kind, columns, classes, desc))
    return TaskFile(where, data, text, id_col, split_col, prefix, encoding, tuple(tasks))


def shared_input_group(spec_path: str | Path) -> str:
    """The `input_group` of every task of a spec: its tasks share the same texts in every split."""
    return _group(read_spec(spec_path).prefix)


def _group(prefix: str) -> str:
    return f"user:{prefix}"


# --- the data file ------------------------------------------------------------------------------------

Row = tuple[int, dict[str, "str | None"]]  # (first line of the row, needed column -> value, None if missing)


def _csv_rows(tf: TaskFile, text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=FORMATS[tf.data.suffix.lower()], strict=True)
    header: list[str] | None = None
    columns, end, n = tf.columns, 0, 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if header is None:
                header, header_line = [h.strip() for h in fields], start
                for c in columns:
                    if header.count(c) != 1:
                        problem = "appears twice in" if c in header else "is missing from"
                        raise DataError(f"{tf.data}:{start}: column {c!r}: {problem} the header "
                                        f"(named in {tf.spec.name}); the header has {header}")
                pos = {c: header.index(c) for c in columns}
                continue
            if len(fields) != len(header):
                raise DataError(f"{tf.data}:{start}: expected {len(header)} columns as in the header, got {len(fields)}")
            n += 1
            yield start, {c: fields[i] for c, i in pos.items()}
    except csv.Error as e:
        raise DataError(f"{tf.data}:{end + 1}: unreadable row starting here ({e})") from None
    if header is None:
        raise DataError(f"{tf.data}:1: empty file; expected a header line naming the columns, then rows")
    if n == 0:
        raise DataError(f"{tf.data}:{header_line}: header only, no data rows")


def _json_value(tf: TaskFile, line: int, column: str, v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and not math.isfinite(v):   # json reads NaN / Infinity as floats
        raise DataError(f"{tf.data}:{line}: column {column!r}: {v} is not a value (NaN or Infinity in the JSON); "
                        "fill it in or drop the row")
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    raise DataError(f"{tf.data}:{line}: column {column!r}: expected a string, number or boolean, got {type(v).__name__}")


def _jsonl_rows(tf: TaskFile, text: str) -> Iterator[Row]:
    columns, n = tf.columns, 0
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DataError(f"{tf.data}:{line}: not a JSON object ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{tf.data}:{line}: expected a JSON object {{...}}, got a {type(obj).__name__}")
        for c in columns:
            if c not in obj:
                raise DataError(f"{tf.data}:{line}: column {c!r}: missing (the object has keys {sorted(obj)})")
        n += 1
        yield line, {c: _json_value(tf, line, c, obj[c]) for c in columns}
    if n == 0:
        raise DataError(f"{tf.data}:1: empty file; expected one JSON object per line")


def _rows(tf: TaskFile, text: str) -> Iterator[Row]:
    return (_jsonl_rows if tf.data.suffix.lower() == ".jsonl" else _csv_rows)(tf, text)


def _decode(tf: TaskFile) -> str:
    raw = tf.data.read_bytes()
    try:
        return raw.decode(tf.encoding)
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        row: dict[str, str | None] | None = None
        try:  # name the column: the cell of the row holding that line that got a replacement character
            for start, cells in _rows(tf, raw.decode(tf.encoding, errors="replace")):
                if start > line:
                    break
                row = cells
        except DataError:
            pass
        hit = next((c for c, v in (row or {}).items() if v and "\ufffd" in v), None)
        column = f"column {hit!r}: " if hit else ""
        raise DataError(f"{tf.data}:{line}: {column}not valid {tf.encoding.removesuffix('-sig')} (byte "
                        f"{raw[e.start]:#04x}); is the file in another encoding? (set `encoding:` in "
                        f"{tf.spec.name})") from None


def _label(tf: TaskFile, task: UserTask, line: int, cells: dict[str, str | None]) -> Any:
    """A row's raw label for `task`: a class name, a float or a list of 0/1."""
    out = []
    for c in task.columns:
        where = f"{tf.data}:{line}: column {c!r}"
        v = (cells[c] or "").strip()
        if not v:
            raise DataError(f"{where}: missing label for task {tf.prefix}/{task.key} (rows with a missing label "
                            "are refused: fill it in or drop the row)")
        if task.kind == "classification":
            if task.classes is not None and v not in task.classes:
                raise DataError(f"{where}: unknown label {v!r}; expected one of {list(task.classes)}")
            return v
        if task.kind == "regression":
            try:
                x = float(v)
            except ValueError:
                raise DataError(f"{where}: {v!r} is not a number (task {tf.prefix}/{task.key} is regression)") from None
            if not math.isfinite(x):
                raise DataError(f"{where}: non-finite value {v!r}")
            return x
        if v not in ("0", "1"):
            raise DataError(f"{where}: {v!r} is not 0 or 1 (task {tf.prefix}/{task.key} is multilabel)")
        out.append(float(v))
    return out


def _read(tf: TaskFile) -> tuple[list[tuple[str, ...]], dict[str, list], dict[str, np.ndarray]]:
    """(texts, raw labels per task key, row indices per split) of the data file."""
    note_read(tf.data)
    texts: list[tuple[str, ...]] = []
    labels: dict[str, list] = {t.key: [] for t in tf.tasks}
    ids, splits, seen = [], [], {}
    for line, cells in _rows(tf, _decode(tf)):
        row = []
        for c in tf.text:
            if not (cells[c] or "").strip():
                raise DataError(f"{tf.data}:{line}: column {c!r}: empty text")
            row.append(cells[c].strip())
        if tf.split:
            s = (cells[tf.split] or "").strip()
            if s not in SPLITS:
                raise DataError(f"{tf.data}:{line}: column {tf.split!r}: bad split {s!r}; expected train, dev or test")
            splits.append(s)
        if tf.id:
            i = (cells[tf.id] or "").strip()
            if not i:
                raise DataError(f"{tf.data}:{line}: column {tf.id!r}: empty id")
            if i in seen:
                first, s0 = seen[i]
                if tf.split and s0 != splits[-1]:
                    raise DataError(f"{tf.data}:{line}: column {tf.id!r}: id {i!r} is in the {splits[-1]} split here "
                                    f"and in the {s0} split on line {first}; an id belongs to one split")
                raise DataError(f"{tf.data}:{line}: column {tf.id!r}: duplicate id {i!r} (first on line {first})")
            seen[i] = (line, splits[-1] if tf.split else None)
            ids.append(i)
        texts.append(tuple(row))
        for t in tf.tasks:
            labels[t.key].append(_label(tf, t, line, cells))
    if tf.split:
        index = {s: np.flatnonzero(np.asarray(splits) == s) for s in SPLITS}
        empty = [s for s in SPLITS if not len(index[s])]
        if empty:
            raise DataError(f"{tf.data}: column {tf.split!r}: no {empty[0]!r} rows; train, dev and test each need rows")
    else:
        index = group_split(ids if tf.id else range(len(texts)), FRACTIONS, SPLIT_SEED)
        if any(not len(v) for v in index.values()):
            raise DataError(f"{tf.data}: {len(texts)} rows are too few for an 80/10/10 train/dev/test split; "
                            f"add rows or a split column")
    return texts, labels, index


def _loader(splits: dict[str, Examples], data: Path) -> Callable[[Path], dict[str, Examples]]:
    def load(root: Path) -> dict[str, Examples]:  # the file was read when the spec was loaded; `root` is unused
        note_read(data)
        return {s: Examples(list(ex.texts), ex.labels.copy(), ex.source) for s, ex in splits.items()}
    return load


def _same_number(tf: TaskFile, task: UserTask, names: tuple[str, ...]) -> None:
    """Refuse inferred class names that spell one number twice ('1' and '1.0'): they would become two classes."""
    seen: dict[float, str] = {}
    for name in names:
        try:
            x = float(name)
        except ValueError:
            continue
        if x in seen:
            raise DataError(f"{tf.data}: column(s) {list(task.columns)}: labels {seen[x]!r} and {name!r} are the same "
                            f"number but would be two classes of task {tf.prefix}/{task.key}; write one spelling, "
                            f"or list the classes under `classes:` in {tf.spec.name}")
        seen[x] = name


def load_task_file(spec_path: str | Path) -> list[TaskSpec]:
    """Read a spec and its data file into one TaskSpec per task (loaders return train/dev/test)."""
    tf = read_spec(spec_path)
    texts, raw, index = _read(tf)
    how = (f"split column {tf.split!r}" if tf.split else
           f"seeded 80/10/10 split over {f'ids ({tf.id})' if tf.id else 'row numbers'}, seed {SPLIT_SEED}")
    note = f"train/dev/test from {tf.data.name}: {how}; shared by all {tf.prefix}/* tasks"
    # every task of the file has the same texts in every split; set only if this TaskSpec has the field
    group = {"input_group": _group(tf.prefix)} if "input_group" in {f.name for f in dataclasses.fields(TaskSpec)} else {}
    specs = []
    for t in tf.tasks:
        names: tuple[str, ...] | None = None
        if t.kind == "classification":
            names = t.classes or tuple(sorted(set(raw[t.key])))
            if t.classes is None:
                _same_number(tf, t, names)
            y = np.asarray([names.index(v) for v in raw[t.key]], dtype=np.int64)
        elif t.kind == "multilabel":
            names, y = t.columns, np.asarray(raw[t.key], dtype=np.float32).reshape(len(texts), len(t.columns))
        else:
            y = np.asarray(raw[t.key], dtype=np.float32)
        every = Examples(texts, y, str(tf.data))
        splits = {s: every.subset(index[s]) for s in SPLITS}
        spec = TaskSpec(f"{tf.prefix}/{t.key}", t.kind, tf.text, DEFAULT_METRICS[t.kind], names,
                        _loader(splits, tf.data), t.description, note, **group)
        check_splits(spec, splits)
        specs.append(spec)
    return specs


def register_task_file(spec_path: str | Path) -> list[str]:
    """Register a spec's tasks (`mtlcore.tasks.register_task`) and return their names.

    Registering the same file again replaces its tasks; a prefix already used by built-in tasks or by
    another spec file is refused."""
    specs = load_task_file(spec_path)
    origin = Path(spec_path).resolve()
    prefix = specs[0].name.split("/")[0]
    for other in TASKS:
        if other.split("/")[0] == prefix and _ORIGIN.get(other) != origin:
            source = f"the task file {_ORIGIN[other]}" if other in _ORIGIN else "a built-in task family"
            raise DataError(f"{spec_path}: prefix: {prefix!r} is already used by {other} ({source}); "
                            "choose another prefix")
    for stale in [n for n, o in _ORIGIN.items() if o == origin]:
        TASKS.pop(stale, None)
        del _ORIGIN[stale]
    for spec in specs:
        register_task(spec)
        _ORIGIN[spec.name] = origin
    return [s.name for s in specs]
