"""Strict readers for the file layouts of the vendored data sets (GLUE TSV, SentEval line files, TREC, SST).

A wrong column count, an unknown label, an empty text, a non-finite or out-of-range score, a byte
that is not in the file's encoding or a field longer than the csv module allows raises `DataError`
naming the file and line; an empty or header-only file and a class file without examples are
refused naming the file.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from .registry import DataError, Examples, note_read


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: file not found (is the data root right? see data/README.md)")
    note_read(path)
    return path


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The whole file decoded; a byte sequence invalid in `encoding` raises DataError with its line."""
    data = _require(path).read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid {encoding} (byte {data[e.start]:#04x} at offset {e.start}); "
                        "is the file in another encoding?") from None


def read_tsv(path: Path, n_columns: int | None = None, header: bool = True,
             encoding: str = "utf-8-sig") -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a tab-separated file without quoting; every row must have the header's column count.

    Returns (header or None, [(line_number, fields), ...]); line numbers are 1-based as an editor
    shows them.
    """
    import io

    rows: list[tuple[int, list[str]]] = []
    cols = None
    reader = csv.reader(io.StringIO(read_text(path, encoding), newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    lineno = 0
    try:
        for lineno, fields in enumerate(reader, start=1):
            if header and cols is None:
                cols = fields
                n_columns = len(fields)
                continue
            if not fields:
                raise DataError(f"{path}:{lineno}: empty line")
            if n_columns is not None and len(fields) != n_columns:
                raise DataError(f"{path}:{lineno}: expected {n_columns} tab-separated columns, got {len(fields)}")
            rows.append((lineno, fields))
    except csv.Error as e:
        raise DataError(f"{path}:{lineno + 1}: unreadable row ({e})") from None
    if header and cols is None:
        raise DataError(f"{path}: empty file (expected a header line)")
    if not rows:
        raise DataError(f"{path}: no examples" + (" (header only)" if header else " (empty file)"))
    return cols, rows


def read_lines(path: Path, encoding: str = "utf-8") -> list[tuple[int, str]]:
    """Lines of a one-example-per-line file. Splits on '\\n' only: some latin-1 files contain
    byte 0x85, which `str.splitlines` would wrongly treat as a line break."""
    lines = read_text(path, encoding).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        raise DataError(f"{path}: no examples (empty file)")
    return [(i, line.rstrip("\r")) for i, line in enumerate(lines, start=1)]


def _text(path: Path, lineno: int, value: str) -> str:
    value = value.strip()
    if not value:
        raise DataError(f"{path}:{lineno}: empty text")
    return value


def _class(path: Path, lineno: int, value: str, names: Sequence[str]) -> int:
    try:
        return list(names).index(value.strip())
    except ValueError:
        raise DataError(f"{path}:{lineno}: bad label {value!r}; expected one of {list(names)}") from None


def _score(path: Path, lineno: int, value: str, bounds: tuple[float, float] | None = None) -> float:
    try:
        x = float(value)
    except ValueError:
        raise DataError(f"{path}:{lineno}: bad score {value!r}; expected a number") from None
    if not math.isfinite(x):
        raise DataError(f"{path}:{lineno}: non-finite score {value!r}")
    if bounds is not None and not bounds[0] <= x <= bounds[1]:
        raise DataError(f"{path}:{lineno}: score {value!r} outside the task's range [{bounds[0]}, {bounds[1]}]")
    return x


def _column(path: Path, header: list[str], name: str) -> int:
    if name not in header:
        raise DataError(f"{path}:1: missing column {name!r}; header has {header}")
    return header.index(name)


def read_glue_tsv(path: Path, text_columns: Sequence[str | int], label_column: str | int,
                  label_names: Sequence[str] | None, header: bool = True, n_columns: int | None = None,
                  score_range: tuple[float, float] | None = None) -> Examples:
    """A GLUE-format TSV -> Examples. Columns are header names, or indices when header=False;
    regression scores (label_names None) must lie in `score_range` if given."""
    cols, rows = read_tsv(path, n_columns=n_columns, header=header)
    idx = (lambda c: _column(path, cols, c)) if header else (lambda c: int(c))
    t_idx = [idx(c) for c in text_columns]
    l_idx = idx(label_column)
    texts, labels = [], []
    for lineno, f in rows:
        texts.append(tuple(_text(path, lineno, f[i]) for i in t_idx))
        labels.append(_score(path, lineno, f[l_idx], score_range) if label_names is None
                      else _class(path, lineno, f[l_idx], label_names))
    dtype = np.float32 if label_names is None else np.int64
    return Examples(texts, np.asarray(labels, dtype=dtype), str(path))


def read_labelled_lines(files: dict[str, Path], label_names: Sequence[str], encoding: str) -> Examples:
    """SentEval binary layout: one file per label, one example per line.

    Whitespace-only lines are not examples and are skipped (CR has 4, MPQA 3; SentEval's own loader
    keeps them as empty sentences, which an encoder cannot classify).
    """
    texts, labels = [], []
    for label, path in files.items():
        before = len(texts)
        for lineno, line in read_lines(path, encoding):
            if not line.strip():
                continue
            texts.append((_text(path, lineno, line),))
            labels.append(list(label_names).index(label))
        if len(texts) == before:
            raise DataError(f"{path}: no examples of class {label!r}")
    return Examples(texts, np.asarray(labels, dtype=np.int64), ", ".join(map(str, files.values())))


def read_trec(path: Path, label_names: Sequence[str]) -> Examples:
    """TREC `COARSE:fine question` lines -> 6-way coarse classification."""
    texts, labels = [], []
    for lineno, line in read_lines(path, "latin-1"):
        head, _, question = line.partition(" ")
        coarse = head.split(":")[0]
        labels.append(_class(path, lineno, coarse, label_names))
        texts.append((_text(path, lineno, question),))
    return Examples(texts, np.asarray(labels, dtype=np.int64), str(path))


def read_sst_fine(path: Path) -> Examples:
    """SentEval SST-5 lines `label sentence`."""
    texts, labels = [], []
    for lineno, line in read_lines(path):
        head, _, sentence = line.partition(" ")
        labels.append(_class(path, lineno, head, [str(i) for i in range(5)]))
        texts.append((_text(path, lineno, sentence),))
    return Examples(texts, np.asarray(labels, dtype=np.int64), str(path))


