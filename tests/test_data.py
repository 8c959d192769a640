import re
from pathlib import Path

import numpy as np
import pytest

from mtlcore.tasks import (DataError, Examples, UnknownTaskError, get_task, load_task, read_glue_tsv, read_labelled_lines,
                          read_lines, stratified_split, task_table)

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)
    return p


def test_registry_sizes_match_data_readme():
    """The sizes `python -m mtlcore tasks` prints are the ones documented in data/README.md."""
    readme = (ROOT / "data" / "README.md").read_text()
    documented = {m[0]: (int(m[1]), int(m[2])) for m in
                  re.findall(r"^\| `((?:glue|senteval)/\w+)` \|[^|]*\|[^|]*\| (\d+) \| (\d+) \|", readme, re.M)}
    table = task_table([t for t in documented])
    assert len(documented) >= 13
    for row in table.itertuples():
        assert documented[row.task] == (row.train, row.dev), row.task


def test_official_glue_sizes_and_labels():
    cola, mrpc, stsb = load_task("glue/cola"), load_task("glue/mrpc"), load_task("glue/stsb")
    assert (len(cola["train"]), len(cola["dev"])) == (8551, 1043)
    assert (len(mrpc["train"]), len(mrpc["dev"])) == (3668, 408)
    assert len(mrpc["train"].texts[0]) == 2 and set(np.unique(mrpc["train"].labels)) == {0, 1}
    assert stsb["train"].labels.dtype == np.float32 and 0 <= stsb["train"].labels.min() and stsb["train"].labels.max() <= 5
    trec = load_task("senteval/trec")
    assert set(np.unique(trec["train"].labels)) == set(range(6))


def test_single_file_split_is_stratified_disjoint_and_fixed():
    mr = load_task("senteval/mr")
    assert len(mr["train"]) + len(mr["dev"]) == 5331 * 2
    assert abs(mr["train"].labels.mean() - mr["dev"].labels.mean()) < 0.01  # stratified
    ex = Examples([(f"s{i}",) for i in range(200)], np.r_[np.zeros(150), np.ones(50)].astype(np.int64))
    a, b = stratified_split(ex), stratified_split(ex)
    assert a["dev"].texts == b["dev"].texts  # fixed seed, not the run seed
    assert not set(a["train"].texts) & set(a["dev"].texts) and len(a["train"]) + len(a["dev"]) == 200
    assert a["dev"].labels.sum() == 5 and len(a["dev"]) == 20  # 10%, class ratio kept


def test_latin1_file_with_nel_bytes_is_split_on_newlines_only(tmp_path):
    p = _write(tmp_path, "x.pos", "caf\xe9 ok\nsmart\x85quote here\n".encode("latin-1"))
    lines = read_lines(p, "latin-1")
    assert [l for _, l in lines] == ["café ok", "smart\x85quote here"]


@pytest.mark.parametrize("body, message", [
    ("sentence1\tsentence2\tlabel\na\tb\tentailment\nonly two\tcols\n", r"bad\.tsv:3: expected 3 tab-separated columns, got 2"),
    ("sentence1\tsentence2\tlabel\na\tb\tmaybe\n", r"bad\.tsv:2: bad label 'maybe'"),
    ("sentence1\tsentence2\tlabel\na\t  \tentailment\n", r"bad\.tsv:2: empty text"),
    ("sentence1\tlabelx\na\t1\n", r"bad\.tsv:1: missing column 'sentence2'"),
])
def test_malformed_tsv_names_file_and_line(tmp_path, body, message):
    p = _write(tmp_path, "bad.tsv", body)
    with pytest.raises(DataError, match=message):
        read_glue_tsv(p, ["sentence1", "sentence2"], "label", ("not_entailment", "entailment"))


@pytest.mark.parametrize("score, message", [("nan", "non-finite score"), ("high", "bad score 'high'")])
def test_bad_regression_scores(tmp_path, score, message):
    p = _write(tmp_path, "sts.tsv", f"sentence1\tsentence2\tscore\na\tb\t1.5\nc\td\t{score}\n")
    with pytest.raises(DataError, match=rf"sts\.tsv:3: {message}"):
        read_glue_tsv(p, ["sentence1", "sentence2"], "score", None)


def test_missing_file_and_blank_lines(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_glue_tsv(tmp_path / "nope.tsv", ["s"], "label", ("0", "1"))
    pos, neg = _write(tmp_path, "a.pos", "good\n\n  \nfine\n"), _write(tmp_path, "a.neg", "bad\n")
    ex = read_labelled_lines({"neg": neg, "pos": pos}, ("neg", "pos"), "utf-8")
    assert [t[0] for t in ex.texts] == ["bad", "good", "fine"] and ex.labels.tolist() == [0, 1, 1]


def test_unknown_task_suggests_close_names():
    with pytest.raises(UnknownTaskError, match=r"unknown task 'glue/mrcp'.*Did you mean glue/mrpc"):
        get_task("glue/mrcp")


@pytest.mark.parametrize("body, message", [
    (b"sentence\tlabel\ngood\t1\nna\xefve \xff\t0\n", r"x\.tsv:3: not valid utf-8"),
    (b"sentence\tlabel\n", r"x\.tsv: no examples \(header only\)"),
    (b"", r"x\.tsv: empty file"),
    (b"sentence\tlabel\ngood\t1\n" + b"a" * 200_000 + b"\t0\n", r"x\.tsv:3: unreadable row \(field larger than field limit"),
])
def test_unreadable_files_name_file_and_line(tmp_path, body, message):
    p = _write(tmp_path, "x.tsv", body)
    with pytest.raises(DataError, match=message):
        read_glue_tsv(p, ["sentence"], "label", ("0", "1"))


def test_empty_class_file_and_out_of_range_score(tmp_path):
    pos, neg = _write(tmp_path, "a.pos", "good\n"), _write(tmp_path, "a.neg", "\n  \n")
    with pytest.raises(DataError, match=r"a\.neg: no examples"):
        read_labelled_lines({"neg": neg, "pos": pos}, ("neg", "pos"), "utf-8")
    sts = _write(tmp_path, "sts.tsv", "sentence1\tsentence2\tscore\na\tb\t1.5\nc\td\t17.5\n")
    with pytest.raises(DataError, match=r"sts\.tsv:3: score '17.5' outside the task's range \[0.0, 5.0\]"):
        read_glue_tsv(sts, ["sentence1", "sentence2"], "score", None, score_range=(0.0, 5.0))


def test_a_one_class_training_split_is_refused(tmp_path):
    import numpy as np

    from mtlcore.tasks import Examples, TaskSpec, check_splits

    spec = TaskSpec("t/one", "classification", ("s",), ("accuracy",), ("neg", "pos"), lambda root: {})
    one = Examples([("a",), ("b",)], np.array([1, 1]), "f.txt")
    with pytest.raises(DataError, match="every training label is 'pos'"):
        check_splits(spec, {"train": one, "dev": one})
    with pytest.raises(DataError, match=r"class ids must be integers in \[0, 2\)"):
        check_splits(spec, {"train": Examples([("a",), ("b",)], np.array([0, 2]), "f"), "dev": one})
    with pytest.raises(DataError, match="no 'dev' split"):
        check_splits(spec, {"train": one})
