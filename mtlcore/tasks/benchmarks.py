"""The GLUE and SentEval tasks, read from the vendored copies under `data/glue` and `data/senteval`.

Where a task has a single labelled file (SentEval MR/CR/SUBJ/MPQA, and GLUE QNLI whose train set is
not available offline) the dev set is a stratified 10% split drawn with the fixed seed `SPLIT_SEED`.
GLUE's test labels are not public, so these tasks have train and dev only.
"""
from __future__ import annotations

import functools
from pathlib import Path

from .readers import read_glue_tsv, read_labelled_lines, read_sst_fine, read_trec
from .registry import DEV_FRACTION, SPLIT_SEED, Examples, TaskSpec, UnknownTaskError, register_task, stratified_split


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
