"""Users' task files (`mtlcore.tasks.user`): the example, strict reading, the formats and the spec."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from mtlcore.tasks import TASKS, DataError, get_task, load_task
from mtlcore.tasks import user
from mtlcore.tasks.user import load_task_file, read_spec, register_task_file, shared_input_group

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "radiology_tasks.yaml"

SPEC = """\
file: r.{ext}
text: findings
id: report_id
prefix: t
tasks:
  effusion: {{kind: classification, label: effusion, classes: [no, yes]}}
  size:     {{kind: regression, label: size}}
  findings: {{kind: multilabel, labels: [nodule, edema]}}
"""
HEADER = ["report_id", "findings", "effusion", "size", "nodule", "edema"]


def _rows(n: int = 12) -> list[list[str]]:
    return [[f"r{i}", f"report {i}: {'small effusion' if i % 2 else 'no effusion'}, \"quoted\"",
             "yes" if i % 2 else "no", f"{i * 1.5}", str(i % 3 == 0 and 1 or 0), str(int(i % 4 == 1))]
            for i in range(n)]


def _write(tmp_path: Path, rows=None, header=HEADER, ext: str = "csv", spec: str | None = None,
           lineterminator: str = "\n") -> Path:
    rows = _rows() if rows is None else rows
    data = tmp_path / f"r.{ext}"
    if ext == "jsonl":
        data.write_text("".join(json.dumps(dict(zip(header, r))) + "\n" for r in rows), encoding="utf-8")
    else:
        with data.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter="\t" if ext == "tsv" else ",", lineterminator=lineterminator)
            w.writerow(header)
            w.writerows(rows)
    path = tmp_path / "spec.yaml"
    path.write_text(spec if spec is not None else SPEC.format(ext=ext), encoding="utf-8")
    return path


def _splits(spec_path) -> dict[str, dict]:
    return {s.name: s.loader(Path(".")) for s in load_task_file(spec_path)}




# --- the example ----------------------------------------------------------------------------------------


def test_example_loads_with_shared_disjoint_deterministic_splits():
    specs = load_task_file(EXAMPLE)
    assert [(s.name, s.kind, s.num_outputs) for s in specs] == [
        ("cxr/effusion", "classification", 2), ("cxr/severity", "classification", 3), ("cxr/findings", "multilabel", 2)]
    assert specs[0].label_names == ("no", "yes") and specs[1].label_names == ("none", "mild", "severe")
    assert specs[0].metrics == ("macro_f1", "accuracy") and specs[2].metrics == ("roc_auc",)
    assert len({s.split_note for s in specs}) == 1 and "seed 13" in specs[0].split_note
    assert {s.input_group for s in specs} == {shared_input_group(EXAMPLE)} == {"user:cxr"}
    splits = [s.loader(Path(".")) for s in specs]
    assert {k: len(v) for k, v in splits[0].items()} == {"train": 48, "dev": 6, "test": 6}
    for other in splits[1:]:  # one input group: the same texts in the same order in every split
        assert all(other[k].texts == splits[0][k].texts for k in ("train", "dev", "test"))
    texts = {k: set(v.texts) for k, v in splits[0].items()}
    assert len(texts["train"] | texts["dev"] | texts["test"]) == 60
    assert not (texts["train"] & texts["dev"] or texts["train"] & texts["test"] or texts["dev"] & texts["test"])
    again = load_task_file(EXAMPLE)[0].loader(Path("."))
    assert all(again[k].texts == splits[0][k].texts for k in again)
    effusion, severity = splits[0]["train"].labels, splits[1]["train"].labels
    assert ((effusion == 0) == (severity == 0)).all()  # severity "none" exactly when there is no effusion


def test_example_registers_and_loads_through_the_registry(clean_registry):
    names = register_task_file(EXAMPLE)
    assert names == ["cxr/effusion", "cxr/severity", "cxr/findings"]
    assert get_task("cxr/findings").kind == "multilabel"
    splits = load_task("cxr/severity")
    assert set(splits) == {"train", "dev", "test"} and splits["train"].labels.dtype == np.int64
    assert register_task_file(EXAMPLE) == names  # the same file again replaces its tasks


def test_seeded_split_follows_ids_not_row_order(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    a = _splits(_write(tmp_path / "a", _rows(40)))
    b = _splits(_write(tmp_path / "b", _rows(40)[::-1]))
    for split in ("train", "dev", "test"):
        assert set(a["t/effusion"][split].texts) == set(b["t/effusion"][split].texts)
    assert {k: len(v) for k, v in a["t/size"].items()} == {"train": 32, "dev": 4, "test": 4}


def test_without_id_rows_are_split_by_row_number(tmp_path):
    spec = SPEC.format(ext="csv").replace("id: report_id\n", "")
    splits = _splits(_write(tmp_path, _rows(10), spec=spec))["t/size"]
    assert {k: len(v) for k, v in splits.items()} == {"train": 8, "dev": 1, "test": 1}
    assert splits["train"].labels.dtype == np.float32


def test_split_column_is_used(tmp_path):
    rows = [r + [["train", "train", "dev", "test"][i % 4]] for i, r in enumerate(_rows(12))]
    spec = SPEC.format(ext="csv").replace("prefix: t", "prefix: t\nsplit: part")
    splits = _splits(_write(tmp_path, rows, header=HEADER + ["part"], spec=spec))["t/effusion"]
    assert {k: len(v) for k, v in splits.items()} == {"train": 6, "dev": 3, "test": 3}
    assert splits["dev"].texts[0][0].startswith("report 2:")


def test_csv_tsv_and_jsonl_give_identical_examples(tmp_path):
    rows = _rows(20)
    rows[3][1] = "a text, with a comma,\n a line break and a \"quote\"\tand a tab"
    got = {}
    for ext in ("csv", "tsv", "jsonl"):
        (tmp_path / ext).mkdir()
        got[ext] = _splits(_write(tmp_path / ext, rows, ext=ext))
    for ext in ("tsv", "jsonl"):
        for name, splits in got["csv"].items():
            for k, ex in splits.items():
                assert ex.texts == got[ext][name][k].texts, (ext, name, k)
                np.testing.assert_array_equal(ex.labels, got[ext][name][k].labels)
                assert ex.labels.dtype == got[ext][name][k].labels.dtype


def test_jsonl_numbers_and_booleans(tmp_path):
    lines = [{"report_id": i, "findings": f"text {i}", "effusion": ["no", "yes"][i % 2], "size": i * 2.0,
              "nodule": bool(i % 3 == 0), "edema": int(i % 4 == 1)} for i in range(12)]
    (tmp_path / "r.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n\n")
    (tmp_path / "spec.yaml").write_text(SPEC.format(ext="jsonl"))
    splits = _splits(tmp_path / "spec.yaml")
    every = np.concatenate([v.labels for v in splits["t/findings"].values()])
    assert every.sum(0).tolist() == [4, 3]


def test_sentence_pairs_and_classes_from_the_data(tmp_path):
    spec = ("file: r.tsv\ntext: [findings, effusion]\nprefix: p\n"
            "tasks:\n  n: {kind: classification, label: nodule}\n  s: {kind: regression, label: size}\n")
    specs = load_task_file(_write(tmp_path, _rows(20), ext="tsv", spec=spec))
    assert specs[0].label_names == ("0", "1") and specs[0].text_fields == ("findings", "effusion")
    train = specs[0].loader(Path("."))["train"]
    assert len(train.texts[0]) == 2 and train.texts[0][1] in ("no", "yes")


def test_reading_writes_nothing_and_notes_the_files_read(tmp_path, monkeypatch):
    spec = _write(tmp_path)
    log = tmp_path.parent / f"{tmp_path.name}.log"
    monkeypatch.setenv("MTLCORE_READ_LOG", str(log))
    before = sorted(p.name for p in tmp_path.iterdir())
    load_task_file(spec)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    noted = set(log.read_text().split())
    assert {str(spec.resolve()), str((tmp_path / "r.csv").resolve())} <= noted


def test_encoding_option_and_utf8_bom(tmp_path):
    rows = _rows()
    rows[0][1] = "caf\u00e9 effusion"
    spec = _write(tmp_path, rows, spec=SPEC.format(ext="csv") + "encoding: latin-1\n")
    (tmp_path / "r.csv").write_bytes((tmp_path / "r.csv").read_text(encoding="utf-8").encode("latin-1"))
    texts = [t for ex in _splits(spec)["t/size"].values() for t in ex.texts]
    assert ("caf\u00e9 effusion",) in texts
    spec = _write(tmp_path, rows)
    (tmp_path / "r.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "r.csv").read_bytes())
    assert len(load_task_file(spec)) == 3  # the BOM does not hide the first column's name


# --- bad data files -------------------------------------------------------------------------------------


BAD_CELLS = [  # (row, column, new value, expected message); {line}: the row's line, {first}: row 1's line
    (2, "findings", "", r"{line}: column 'findings': empty text"),
    (2, "findings", "   ", r"{line}: column 'findings': empty text"),
    (3, "effusion", "maybe", r"{line}: column 'effusion': unknown label 'maybe'; expected one of \['no', 'yes'\]"),
    (3, "effusion", "", r"{line}: column 'effusion': missing label for task t/effusion"),
    (4, "size", "", r"{line}: column 'size': missing label for task t/size"),
    (4, "size", "NaN", r"{line}: column 'size': non-finite value 'NaN'"),
    (4, "size", "inf", r"{line}: column 'size': non-finite value 'inf'"),
    (4, "size", "12 mm", r"{line}: column 'size': '12 mm' is not a number"),
    (5, "nodule", "2", r"{line}: column 'nodule': '2' is not 0 or 1"),
    (5, "edema", "yes", r"{line}: column 'edema': 'yes' is not 0 or 1"),
    (5, "edema", "", r"{line}: column 'edema': missing label for task t/findings"),
    (6, "report_id", "r1", r"{line}: column 'report_id': duplicate id 'r1' \(first on line {first}\)"),
    (6, "report_id", " ", r"{line}: column 'report_id': empty id"),
]


@pytest.mark.parametrize("row, column, value, message", BAD_CELLS)
@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl"])
def test_bad_cells_name_file_line_and_column(tmp_path, row, column, value, message, ext):
    rows = _rows()
    rows[row][HEADER.index(column)] = value
    first_row_line = 1 if ext == "jsonl" else 2  # CSV and TSV have a header line
    expected = rf"r\.{ext}:" + message.format(line=row + first_row_line, first=1 + first_row_line)
    with pytest.raises(DataError, match=expected):
        load_task_file(_write(tmp_path, rows, ext=ext))


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    header = [h if h != "edema" else "oedema" for h in HEADER]
    with pytest.raises(DataError, match=r"r\.csv:1: column 'edema': is missing from the header \(named in spec\.yaml\)"):
        load_task_file(_write(tmp_path, header=header))
    with pytest.raises(DataError, match=r"r\.jsonl:1: column 'edema': missing \(the object has keys"):
        load_task_file(_write(tmp_path, header=header, ext="jsonl"))


@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_csv_lines_count_quoted_line_breaks(tmp_path, terminator):
    rows = _rows()
    rows[1][1] = "first line\nsecond line\nthird line"  # row 1 spans lines 3-5
    rows[3][2] = "maybe"                                 # so row 3 is on line 7
    with pytest.raises(DataError, match=r"r\.csv:7: column 'effusion': unknown label 'maybe'"):
        load_task_file(_write(tmp_path, rows, lineterminator=terminator))


def test_wrong_column_count_and_broken_quoting(tmp_path):
    spec = _write(tmp_path)
    lines = (tmp_path / "r.csv").read_text().splitlines()
    (tmp_path / "r.csv").write_text("\n".join(lines[:4] + [lines[4] + ",extra"] + lines[5:]) + "\n")
    with pytest.raises(DataError, match=r"r\.csv:5: expected 6 columns as in the header, got 7"):
        load_task_file(spec)
    (tmp_path / "r.csv").write_text("\n".join(lines[:6] + ['r99,"never closed,no,1,0,0'] + lines[6:]) + "\n")
    with pytest.raises(DataError, match=r"r\.csv:7: unreadable row starting here"):
        load_task_file(spec)


def test_wrong_encoding_names_line_and_column(tmp_path):
    rows = _rows()
    rows[2][1] = "caf\u00e9"
    spec = _write(tmp_path, rows)
    (tmp_path / "r.csv").write_bytes((tmp_path / "r.csv").read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(DataError, match=r"r\.csv:4: column 'findings': not valid utf-8 \(byte 0xe9\).*encoding:"):
        load_task_file(spec)


@pytest.mark.parametrize("ext, body, message", [
    ("csv", "", r"r\.csv:1: empty file"),
    ("csv", "\n\n", r"r\.csv:1: empty file"),
    ("csv", ",".join(HEADER) + "\n", r"r\.csv:1: header only, no data rows"),
    ("tsv", "\t".join(HEADER) + "\n\n", r"r\.tsv:1: header only, no data rows"),
    ("jsonl", "\n", r"r\.jsonl:1: empty file"),
    ("jsonl", '{"report_id": "a"}\n[1, 2]\n', r"r\.jsonl:1: column 'findings': missing"),
    ("jsonl", '\n[1, 2]\n', r"r\.jsonl:2: expected a JSON object \{\.\.\.\}, got a list"),
    ("jsonl", '\n\n"text"\n', r"r\.jsonl:3: expected a JSON object \{\.\.\.\}, got a str"),
    ("jsonl", '{"report_id": "a", \n', r"r\.jsonl:1: not a JSON object \(.* at column"),
])
def test_empty_header_only_and_non_object_files(tmp_path, ext, body, message):
    spec = _write(tmp_path, ext=ext)
    (tmp_path / f"r.{ext}").write_text(body)
    with pytest.raises(DataError, match=message):
        load_task_file(spec)


def test_jsonl_nested_value_is_refused(tmp_path):
    spec = _write(tmp_path, ext="jsonl")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    obj = json.loads(lines[2])
    obj["findings"] = {"text": "x"}
    (tmp_path / "r.jsonl").write_text("\n".join(lines[:2] + [json.dumps(obj)] + lines[3:]) + "\n")
    with pytest.raises(DataError, match=r"r\.jsonl:3: column 'findings': expected a string, number or boolean, got dict"):
        load_task_file(spec)


@pytest.mark.parametrize("parts, message", [
    (["train", "dev", "test", "valid"], r"r\.csv:5: column 'part': bad split 'valid'; expected train, dev or test"),
    (["train", "dev", "test", ""], r"r\.csv:5: column 'part': bad split ''"),
    (["train", "dev", "train", "dev"], r"r\.csv: column 'part': no 'test' rows"),
])
def test_bad_split_column(tmp_path, parts, message):
    rows = [r + [parts[i % 4]] for i, r in enumerate(_rows())]
    spec = SPEC.format(ext="csv").replace("prefix: t", "prefix: t\nsplit: part")
    with pytest.raises(DataError, match=message):
        load_task_file(_write(tmp_path, rows, header=HEADER + ["part"], spec=spec))


def test_an_id_in_two_splits_is_refused(tmp_path):
    rows = [r + [["train", "dev", "test"][i % 3]] for i, r in enumerate(_rows())]
    rows[4][0] = "r0"  # r0 is in train on line 2; row 4 (line 6) is in dev
    spec = SPEC.format(ext="csv").replace("prefix: t", "prefix: t\nsplit: part")
    with pytest.raises(DataError, match=r"r\.csv:6: column 'report_id': id 'r0' is in the dev split here and in the "
                                        r"train split on line 2"):
        load_task_file(_write(tmp_path, rows, header=HEADER + ["part"], spec=spec))


def test_too_few_rows_and_a_single_class(tmp_path):
    with pytest.raises(DataError, match=r"r\.csv: 5 rows are too few for an 80/10/10"):
        load_task_file(_write(tmp_path, _rows(5)))
    rows = _rows()
    for r in rows:
        r[2] = "no"
    with pytest.raises(DataError, match=r"t/effusion, train split .*every training label is 'no'"):
        load_task_file(_write(tmp_path, rows))


# --- the spec ------------------------------------------------------------------------------------------


BASE = SPEC.format(ext="csv")


@pytest.mark.parametrize("spec, message", [
    (BASE + "labels_file: x.csv\n", r"spec\.yaml:9: labels_file: unknown key \(known keys: file, text"),
    (BASE.replace("classes:", "clases:"), r"spec\.yaml:6: tasks\.effusion\.clases: unknown key \(did you mean 'classes'\?"),
    (BASE.replace("text: findings\n", ""), r"spec\.yaml: missing key 'text'"),
    (BASE.replace("kind: regression, ", ""), r"spec\.yaml:7: tasks\.size: missing key 'kind'"),
    (BASE.replace("kind: regression", "kind: binary"),
     r"spec\.yaml:7: tasks\.size\.kind: unknown kind 'binary'; expected one of classification, regression, multilabel"),
    (BASE.replace("labels: [nodule, edema]", "label: nodule"), r"tasks\.findings\.label: a multilabel task takes `labels`"),
    (BASE.replace("label: size", "label: size, classes: [a, b]"), r"tasks\.size\.classes: only classification tasks"),
    (BASE.replace("classes: [no, yes]", "classes: [no]"), r"tasks\.effusion\.classes: expected at least 2 distinct names"),
    (BASE.replace("label: size", "label: findings"), r"tasks\.size\.label: column 'findings' is also a text"),
    (BASE + "id: other\n", r"spec\.yaml:9: id: duplicate key"),
    (BASE.replace("text: findings", "text: [findings, a, b]"), r"spec\.yaml:2: text: expected 1 to 2 distinct names"),
    (BASE.replace("prefix: t", "prefix: a/b"), r"spec\.yaml:4: prefix: 'a/b' is not a valid task prefix"),
    (BASE.replace("r.csv", "r.xlsx"), r"spec\.yaml:1: file: 'r\.xlsx': expected a \.csv, \.tsv or \.jsonl file"),
    (BASE.replace("r.csv", "missing.csv"), r"spec\.yaml:1: file: data file .*missing\.csv not found"),
    (BASE + "encoding: klingon\n", r"spec\.yaml:9: encoding: unknown encoding 'klingon'"),
    (BASE.split("tasks:")[0] + "tasks: [a, b]\n", r"spec\.yaml:5: tasks: expected a mapping of task name"),
    (BASE.replace("[no, yes]}", "[no, yes]"), r"spec\.yaml:\d+: not valid YAML"),
    ("- a\n- b\n", r"spec\.yaml: expected a mapping with keys file, text, tasks"),
    ("", r"spec\.yaml: missing key 'file'"),
    (BASE.replace("  size:", "  my/size:"), r"spec\.yaml:7: tasks\.my/size: task names use"),
])
def test_bad_specs_are_refused_naming_file_line_and_key(tmp_path, spec, message):
    path = _write(tmp_path, spec=spec)
    with pytest.raises(DataError, match=message):
        load_task_file(path)


def test_yaml_values_are_read_as_text(tmp_path):
    tf = read_spec(_write(tmp_path))
    assert tf.tasks[0].classes == ("no", "yes")  # not (False, True)
    assert tf.data == tmp_path / "r.csv" and tf.prefix == "t" and tf.encoding == "utf-8-sig"
    assert load_task_file(tmp_path / "spec.yaml")[0].label_names == ("no", "yes")


def test_default_prefix_is_the_spec_file_name(tmp_path):
    path = _write(tmp_path, spec=BASE.replace("prefix: t\n", ""))
    assert [s.name for s in load_task_file(path)] == ["spec/effusion", "spec/size", "spec/findings"]
    assert shared_input_group(path) == "user:spec"


def test_prefix_clashes_are_refused(tmp_path, clean_registry):
    path = _write(tmp_path, spec=BASE.replace("prefix: t", "prefix: glue"))
    with pytest.raises(DataError, match=r"spec\.yaml: prefix: 'glue' is already used by glue/\w+ \(a built-in"):
        register_task_file(path)
    assert register_task_file(_write(tmp_path)) == ["t/effusion", "t/size", "t/findings"]
    (tmp_path / "b").mkdir()
    other = _write(tmp_path / "b")
    with pytest.raises(DataError, match=r"prefix: 't' is already used by t/effusion \(the task file .*spec\.yaml\)"):
        register_task_file(other)
    # re-registering the first file with fewer tasks drops the stale ones
    (tmp_path / "spec.yaml").write_text(re.sub(r"  size:.*\n", "", BASE))
    assert register_task_file(tmp_path / "spec.yaml") == ["t/effusion", "t/findings"]
    assert "t/size" not in TASKS


def test_cli_trains_on_the_example_and_a_corrupted_copy_names_the_line(tmp_path):
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1] / "examples"
    args = ["--mode", "mtl", "--encoder", "tiny-bert", "--epochs", "1", "--no-progress"]
    r = subprocess.run([sys.executable, "-m", "mtlcore", "train", "--tasks", str(root / "radiology_tasks.yaml"), *args,
                        "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["dev"]) == set(out["test"]) == {"cxr/effusion", "cxr/severity", "cxr/findings"}
    bad = tmp_path / "bad"
    shutil.copytree(root, bad)
    lines = (bad / "radiology_reports.csv").read_text().splitlines(keepends=True)
    lines[13] = lines[13].replace(",mild,", ",moderate,").replace(",none,", ",moderate,").replace(",severe,", ",moderate,")
    (bad / "radiology_reports.csv").write_text("".join(lines))
    r = subprocess.run([sys.executable, "-m", "mtlcore", "train", "--tasks", str(bad / "radiology_tasks.yaml"), *args,
                        "--out", str(tmp_path / "run2")], capture_output=True, text=True)
    assert r.returncode == 2 and "radiology_reports.csv:14: column 'severity': unknown label 'moderate'" in r.stderr
    assert not (tmp_path / "run2").exists() and not (tmp_path / "run2.partial").exists()


def test_jsonl_nan_text_is_refused(tmp_path):
    spec = _write(tmp_path, ext="jsonl")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    lines[3] = lines[3].replace('"findings": "', '"findings": NaN, "x": "', 1)
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"r\.jsonl:4: column 'findings': nan is not a value"):
        load_task_file(spec)


def test_one_number_spelled_two_ways_is_not_two_classes(tmp_path):
    spec = SPEC.replace("effusion: {{kind: classification, label: effusion, classes: [no, yes]}}",
                        "effusion: {{kind: classification, label: effusion}}")
    rows = _rows()
    for i, r in enumerate(rows):
        r[2] = ["1", "1.0", "0"][i % 3]
    path = _write(tmp_path, rows=rows, spec=spec.format(ext="csv"))
    with pytest.raises(DataError, match=r"labels '1' and '1\.0' are the same number but would be two classes"):
        load_task_file(path)


def test_a_user_task_checkpoint_loads_in_a_fresh_process_and_after_moving_without_its_task_file(tmp_path, cli_main,
                                                                                               clean_registry):
    """A fresh process loading a checkpoint of users' tasks gets its tasks' specs from the checkpoint (classes,
    kinds, text fields) and their data through the task file its run used; moved away from that file the
    checkpoint still loads and predicts, and only reading the task's data is an error naming it. (The training
    runs in this process; the loads are fresh processes.)"""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1] / "examples"
    shutil.copy(root / "radiology_tasks.yaml", tmp_path)
    shutil.copy(root / "radiology_reports.csv", tmp_path)
    r = cli_main("train", "--tasks", str(tmp_path / "radiology_tasks.yaml"), "--encoder", "tiny-bert", "--epochs", "1",
                 "--no-progress", "--save-checkpoint", "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    load = ("import sys\nfrom mtlcore.training.models import MultiTaskModel\n"
            "m = MultiTaskModel.load(sys.argv[1] + '/checkpoint')\n"
            "print(sorted(m.tasks), m.specs['cxr/severity'].label_names)\n"
            "try:\n    print('rows', len(m.specs['cxr/effusion'].loader(None)['train'].labels))\n"
            "except Exception as e:\n    print('no data:', e)\n")
    ok = subprocess.run([sys.executable, "-c", load, str(tmp_path / "run")], capture_output=True, text=True)
    assert ok.returncode == 0 and "('none', 'mild', 'severe')" in ok.stdout and "rows 48" in ok.stdout, ok.stderr
    assert "pooler" not in ok.stderr and "MISSING" not in ok.stderr   # no load report that reads like a failure
    moved = tmp_path / "elsewhere" / "run"
    moved.parent.mkdir()
    shutil.move(tmp_path / "run", moved)
    (tmp_path / "radiology_tasks.yaml").unlink()
    gone = subprocess.run([sys.executable, "-c", load, str(moved)], capture_output=True, text=True)
    assert gone.returncode == 0 and "('none', 'mild', 'severe')" in gone.stdout, gone.stderr
    assert "no data: task cxr/effusion: checkpoint" in gone.stdout and "its data is not registered" in gone.stdout
    (tmp_path / "texts.csv").write_text("findings\nSmall left pleural effusion.\n")
    pred = subprocess.run([sys.executable, "-m", "mtlcore", "predict", "--run", str(moved), "--input",
                           str(tmp_path / "texts.csv"), "--out", str(tmp_path / "p.csv"), "--no-progress"],
                          capture_output=True, text=True)
    assert pred.returncode == 0, pred.stderr
    assert "cxr/severity:p(mild)" in (tmp_path / "p.csv").read_text().splitlines()[0]


def test_a_project_folder_moved_with_its_runs_and_task_file_still_reads(tmp_path, cli_main, clean_registry):
    """config.yaml names the task file relative to the run folder: a project (task file, data, runs) moved or
    copied elsewhere reads its run configs again, and `MultiTaskModel.from_run` loads the model with its data."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1] / "examples"
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(root / "radiology_tasks.yaml", project)
    shutil.copy(root / "radiology_reports.csv", project)
    r = cli_main("train", "--tasks", str(project / "radiology_tasks.yaml"), "--encoder", "tiny-bert", "--epochs", "1",
                 "--no-progress", "--out", str(project / "runs" / "a"))
    assert r.returncode == 0, r.stderr
    saved = (project / "runs" / "a" / "config.yaml").read_text()
    assert "- ../../radiology_tasks.yaml" in saved and str(tmp_path) not in saved
    moved = tmp_path / "elsewhere" / "project"
    moved.parent.mkdir()
    shutil.move(project, moved)
    load = ("import sys\nfrom mtlcore import MultiTaskModel, TrainConfig\n"
            "print(TrainConfig.from_yaml(sys.argv[1] + '/config.yaml').task_files)\n"
            "m = MultiTaskModel.from_run(sys.argv[1])\n"
            "print(sorted(m.tasks), len(m.specs['cxr/effusion'].loader(None)['train'].labels))\n")
    done = subprocess.run([sys.executable, "-c", load, str(moved / "runs" / "a")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str([str(moved / "radiology_tasks.yaml")]),
                                        "['cxr/effusion', 'cxr/findings', 'cxr/severity'] 48"]


def test_relative_task_files_in_a_config_file_are_relative_to_it(tmp_path, clean_registry):
    from mtlcore import TrainConfig

    (tmp_path / "conf").mkdir()
    _write(tmp_path)
    (tmp_path / "conf" / "run.yaml").write_text("tasks: [../spec.yaml]\nencoder: tiny-bert\n")
    cfg = TrainConfig.from_yaml(tmp_path / "conf" / "run.yaml")
    assert cfg.task_files == [str((tmp_path / "spec.yaml").resolve())] and "t/effusion" in cfg.tasks


def test_a_config_path_found_only_in_the_working_directory_still_reads_with_a_warning(tmp_path, monkeypatch,
                                                                                      clean_registry):
    from mtlcore import TrainConfig

    (tmp_path / "conf").mkdir()
    _write(tmp_path)
    (tmp_path / "conf" / "run.yaml").write_text("tasks: [spec.yaml]\nencoder: tiny-bert\n")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(FutureWarning, match="relative to the working directory"):
        cfg = TrainConfig.from_yaml(tmp_path / "conf" / "run.yaml")
    assert cfg.task_files == [str((tmp_path / "spec.yaml").resolve())]
