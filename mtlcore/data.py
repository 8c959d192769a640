"""Task registry and readers for the vendored datasets (GLUE, SentEval).

Each task has one name (`glue/rte`, `senteval/mr`, ...), a label kind, its text fields, its
metrics and a loader that returns `{"train": Examples, "dev": Examples}` read from the data root
(`data/` of the repository, or `$MTLCORE_DATA`). Later task families (radiology) register
themselves with `register_task` and are used unchanged by the trainer and the notebooks.

Readers are strict: a wrong column count, an unknown label, an empty text, a non-finite or
out-of-range score, a byte that is not in the file's encoding or a field longer than the csv
module allows raises `DataError` naming the file and line; an empty or header-only file, a class
file without examples and a split whose labels leave a class task with one class are refused
naming the file or task. Every data file read is noted in the file named by `$MTLCORE_READ_LOG`
(if set), which is how the pipeline knows which data each notebook depends on. Where a task has a single labelled file
(SentEval MR/CR/SUBJ/MPQA, and GLUE QNLI whose train set is not available offline) the dev set
is a stratified 10% split drawn with the fixed seed `SPLIT_SEED`, independent of the run seed, so
every run and every notebook sees the same dev set.
"""
from __future__ import annotations

import csv
import difflib
import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

SPLIT_SEED = 13
DEV_FRACTION = 0.1
KINDS = ("classification", "regression", "multilabel")


class DataError(ValueError):
    """Malformed input data; the message names the file and line."""


class UnknownTaskError(KeyError):
    """A task name that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return self.args[0]


@dataclass
class Examples:
    """One split of one task.

    texts:  n tuples of 1 (single sentence) or 2 (sentence pair) strings.
    labels: int64 (n,) class ids, float32 (n,) scores, or float32 (n, L) multi-label targets.
    """

    texts: list[tuple[str, ...]]
    labels: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise DataError(f"{self.source}: {len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Sequence[int]) -> "Examples":
        index = np.asarray(index, dtype=np.int64)
        return Examples([self.texts[i] for i in index], self.labels[index], self.source)


@dataclass(frozen=True)
class TaskSpec:
    """What the trainer needs to know about a task.

    metrics: metric names (see `mtlcore.metrics`); the task score is their mean (GLUE style) and
    the first one is the primary metric.
    label_names: class names for classification / multi-label tasks, None for regression.
    """

    name: str
    kind: str
    text_fields: tuple[str, ...]
    metrics: tuple[str, ...]
    label_names: tuple[str, ...] | None
    loader: Callable[[Path], dict[str, Examples]] = field(repr=False, compare=False)
    description: str = ""
    split_note: str = "official train/dev"

    @property
    def num_outputs(self) -> int:
        return 1 if self.kind == "regression" else len(self.label_names or ())


TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add a task to the registry (a later registration of the same name replaces it)."""
    if spec.kind not in KINDS:
        raise ValueError(f"task {spec.name}: kind must be one of {KINDS}, got {spec.kind!r}")
    TASKS[spec.name] = spec
    load_task.cache_clear()
    return spec


def get_task(name: str) -> TaskSpec:
    """The registered task called `name`; unknown names raise with the closest matches."""
    try:
        return TASKS[name]
    except KeyError:
        close = difflib.get_close_matches(name, TASKS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownTaskError(f"unknown task {name!r}.{hint} Known tasks: {', '.join(sorted(TASKS))}") from None


def data_root() -> Path:
    """`$MTLCORE_DATA` if set, else the repository's `data/` folder."""
    root = Path(os.environ.get("MTLCORE_DATA") or Path(__file__).resolve().parents[1] / "data")
    if not root.is_dir():
        raise DataError(f"data root {root} does not exist; set MTLCORE_DATA or run from a clone with data/")
    return root


@functools.lru_cache(maxsize=64)
def _load_cached(name: str, root: str) -> dict[str, Examples]:
    spec = get_task(name)
    return check_splits(spec, spec.loader(Path(root)))


def check_splits(spec: TaskSpec, splits: dict[str, Examples]) -> dict[str, Examples]:
    """Refuse splits a model cannot learn from or be scored on: a missing or empty split, class ids out
    of range, a class task whose training labels hold one class, multi-label targets other than 0/1."""
    for split in ("train", "dev"):
        if split not in splits:
            raise DataError(f"task {spec.name}: its loader returned no {split!r} split")
    for split, ex in splits.items():
        where = f"task {spec.name}, {split} split ({ex.source})"
        if len(ex) == 0:
            raise DataError(f"{where}: no examples")
        labels = ex.labels
        if spec.kind == "classification":
            n = len(spec.label_names or ())
            if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n:
                raise DataError(f"{where}: class ids must be integers in [0, {n}), got {np.unique(labels)[:10]}")
            if split == "train" and len(np.unique(labels)) < 2:
                only = spec.label_names[int(labels[0])]
                raise DataError(f"{where}: every training label is {only!r}; a class task needs at least two classes "
                                "(is a class file empty?)")
        elif spec.kind == "multilabel":
            if labels.ndim != 2 or labels.shape[1] != spec.num_outputs or not np.isin(labels, (0, 1)).all():
                raise DataError(f"{where}: multi-label targets must be an (n, {spec.num_outputs}) array of 0/1")
        elif not np.isfinite(labels).all():
            raise DataError(f"{where}: non-finite regression targets")
    return splits


def load_task(name: str, root: str | Path | None = None) -> dict[str, Examples]:
    """Read (and cache) the splits of task `name` from `root` (default `data_root()`)."""
    return _load_cached(name, str(root or data_root()))


load_task.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------------------------
# readers


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: file not found (is the data root right? see data/README.md)")
    note_read(path)
    return path


def note_read(path: str | Path) -> None:
    """Append `path` to the read log `$MTLCORE_READ_LOG` (set by the pipeline while a notebook runs)."""
    log = os.environ.get("MTLCORE_READ_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{Path(path).resolve()}\n")


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


def stratified_split(examples: Examples, dev_fraction: float = DEV_FRACTION,
                     seed: int = SPLIT_SEED) -> dict[str, Examples]:
    """Seeded stratified train/dev split of a single labelled file."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(examples))
    strat = examples.labels if examples.labels.ndim == 1 and examples.labels.dtype.kind == "i" else None
    train, dev = train_test_split(index, test_size=dev_fraction, random_state=seed, stratify=strat)
    return {"train": examples.subset(np.sort(train)), "dev": examples.subset(np.sort(dev))}


# ----------------------------------------------------------------------------------------------
# GLUE and SentEval


ENTAIL = ("not_entailment", "entailment")
BINARY = ("0", "1")


def _glue(name: str, folder: str, text_cols, label_col, labels, metrics, desc: str,
          header: bool = True, n_columns: int | None = None, single_file: bool = False,
          score_range: tuple[float, float] | None = None) -> TaskSpec:
    def load(root: Path) -> dict[str, Examples]:
        read = functools.partial(read_glue_tsv, text_columns=text_cols, label_column=label_col,
                                 label_names=labels, header=header, n_columns=n_columns, score_range=score_range)
        if single_file:
            return stratified_split(read(root / "glue" / folder / "dev.tsv"))
        return {split: read(root / "glue" / folder / f"{split}.tsv") for split in ("train", "dev")}

    kind = "regression" if labels is None else "classification"
    fields = tuple(str(c) for c in text_cols)
    note = (f"official dev.tsv re-split {1 - DEV_FRACTION:.0%}/{DEV_FRACTION:.0%} (stratified, seed {SPLIT_SEED}); "
            "the official train set is not available offline" if single_file else "official train/dev")
    return TaskSpec(f"glue/{name}", kind, fields, metrics, labels, load, desc, note)


def _senteval(name: str, files: dict[str, str], labels, desc: str, encoding: str = "utf-8") -> TaskSpec:
    def load(root: Path) -> dict[str, Examples]:
        paths = {lab: root / "senteval" / rel for lab, rel in files.items()}
        return stratified_split(read_labelled_lines(paths, labels, encoding))

    note = f"single labelled set split {1 - DEV_FRACTION:.0%}/{DEV_FRACTION:.0%} (stratified, seed {SPLIT_SEED})"
    return TaskSpec(f"senteval/{name}", "classification", ("sentence",), ("accuracy",), labels, load, desc, note)


def _register_builtin() -> None:
    for spec in (
        _glue("cola", "CoLA", [3], 1, BINARY, ("mcc",), "linguistic acceptability", header=False, n_columns=4),
        _glue("sst2", "SST-2", ["sentence"], "label", BINARY, ("accuracy",), "sentiment (phrases)"),
        _glue("mrpc", "MRPC", ["#1 String", "#2 String"], "Quality", BINARY, ("f1", "accuracy"), "paraphrase"),
        _glue("rte", "RTE", ["sentence1", "sentence2"], "label", ENTAIL, ("accuracy",), "entailment"),
        _glue("qnli", "QNLI", ["question", "sentence"], "label", ENTAIL, ("accuracy",), "question-answer entailment",
              single_file=True),
        _glue("stsb", "STS-B", ["sentence1", "sentence2"], "score", None, ("pearson", "spearman"),
              "semantic similarity (0-5)", score_range=(0.0, 5.0)),
        _glue("wnli", "WNLI", ["sentence1", "sentence2"], "label", BINARY, ("accuracy",), "Winograd entailment"),
        _senteval("mr", {"neg": "MR/rt-polarity.neg", "pos": "MR/rt-polarity.pos"}, ("neg", "pos"),
                  "movie-review polarity", encoding="latin-1"),
        _senteval("cr", {"neg": "CR/custrev.neg", "pos": "CR/custrev.pos"}, ("neg", "pos"), "product-review polarity"),
        _senteval("subj", {"objective": "SUBJ/subj.objective", "subjective": "SUBJ/subj.subjective"},
                  ("objective", "subjective"), "subjectivity", encoding="latin-1"),
        _senteval("mpqa", {"neg": "MPQA/mpqa.neg", "pos": "MPQA/mpqa.pos"}, ("neg", "pos"), "opinion polarity"),
    ):
        register_task(spec)

    trec_labels = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    register_task(TaskSpec(
        "senteval/trec", "classification", ("question",), ("accuracy",), trec_labels,
        lambda root: {"train": read_trec(root / "senteval/TREC/train_5500.label", trec_labels),
                      "dev": read_trec(root / "senteval/TREC/TREC_10.label", trec_labels)},
        "question type (6 coarse classes)", "official train / TREC-10 test used as dev"))
    register_task(TaskSpec(
        "senteval/sst", "classification", ("sentence",), ("accuracy",), BINARY,
        lambda root: {split: read_glue_tsv(root / f"senteval/SST/binary/sentiment-{split}", [0], 1, BINARY,
                                           header=False, n_columns=2) for split in ("train", "dev")},
        "binary sentiment (SentEval SST-2)"))
    register_task(TaskSpec(
        "senteval/sst5", "classification", ("sentence",), ("accuracy",), tuple(str(i) for i in range(5)),
        lambda root: {split: read_sst_fine(root / f"senteval/SST/fine/sentiment-{split}") for split in ("train", "dev")},
        "fine-grained sentiment (5 classes)"))


_register_builtin()


def task_table(names: Sequence[str] | None = None, root: Path | None = None):
    """A pandas table of tasks with their kind, metrics and split sizes."""
    import pandas as pd

    rows = []
    for name in names or sorted(TASKS):
        spec = get_task(name)
        splits = load_task(name, root)
        rows.append({"task": name, "kind": spec.kind, "outputs": spec.num_outputs, "metrics": ",".join(spec.metrics),
                     "train": len(splits["train"]), "dev": len(splits["dev"]), "split": spec.split_note})
    return pd.DataFrame(rows)


def download_official(task: str, dest: str | Path) -> Path:
    """For online users: fetch the full official GLUE split (e.g. QNLI train) with the `datasets` library and
    write it in the GLUE TSV layout under `dest/glue/<Task>/`; then point `MTLCORE_DATA` at `dest`.

    Needs `pip install datasets` and network access; the offline default never calls this.
    """
    try:
        import datasets  # type: ignore
    except ImportError as e:  # pragma: no cover - optional dependency
        raise RuntimeError("download_official needs the `datasets` package: pip install datasets") from e
    folders = {"glue/qnli": ("qnli", "QNLI", ["index", "question", "sentence", "label"]),
               "glue/rte": ("rte", "RTE", ["index", "sentence1", "sentence2", "label"])}
    if task not in folders:
        raise UnknownTaskError(f"download_official supports {sorted(folders)}, not {task!r}")
    config, folder, cols = folders[task]
    out = Path(dest) / "glue" / folder
    out.mkdir(parents=True, exist_ok=True)
    ds = datasets.load_dataset("nyu-mll/glue", config)  # pragma: no cover - needs network
    for split, hf_split in (("train", "train"), ("dev", "validation")):  # pragma: no cover
        rows = ["\t".join(cols)]
        for i, ex in enumerate(ds[hf_split]):
            rows.append("\t".join([str(i), ex[cols[1]], ex[cols[2]], ENTAIL[1 - ex["label"]]]))
        (out / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out  # pragma: no cover
