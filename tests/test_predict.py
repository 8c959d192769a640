"""`python -m mtlcore predict`: a trained run's predictions on new texts, and its errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, clean_registry_module):
    """An MTL and an STL run on the users' example task file (three tasks: 2 and 3 classes, 2 labels)."""
    from mtlcore import TrainConfig, train

    root = tmp_path_factory.mktemp("predict")
    shutil.copy(EXAMPLES / "radiology_tasks.yaml", root)
    shutil.copy(EXAMPLES / "radiology_reports.csv", root)
    from mtlcore.training.runs import SmallSplitWarning

    base = TrainConfig(tasks=[str(root / "radiology_tasks.yaml")], encoder="tiny-bert", epochs=1, progress=False,
                       device="cpu", seed=1)
    # 60 rows split 48/6/6: training warns that dev and test are too small to say much
    with pytest.warns(SmallSplitWarning, match=r"cxr/severity: dev has 6 examples \(one example moves the score by "
                                               r"17 points\); scores on so few"):
        train(base, out=root / "mtl")
    train(base.replace(mode="stl", tasks=["cxr/effusion", "cxr/findings"], task_files=base.task_files),
          out=root / "stl")
    return root


def _texts(root: Path, n: int = 7) -> pd.DataFrame:
    return pd.read_csv(root / "radiology_reports.csv", dtype=str).head(n)[["report_id", "findings"]]


def test_predict_adds_class_names_and_probabilities_that_match_the_model(runs, tmp_path, cli_main):
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training.models import MultiTaskModel

    _texts(runs).to_csv(tmp_path / "in.csv", index=False)
    r = cli_main("predict", "--run", str(runs / "mtl"), "--input", str(tmp_path / "in.csv"),
                 "--out", str(tmp_path / "out.csv"), "--no-progress")
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(tmp_path / "out.csv", dtype={"report_id": str})
    assert list(out.columns[:2]) == ["report_id", "findings"] and len(out) == 7
    p = out[["cxr/effusion:p(no)", "cxr/effusion:p(yes)"]].to_numpy()
    assert np.allclose(p.sum(1), 1, atol=1e-9) and set(out["cxr/effusion"]) <= {"no", "yes"}
    assert set(out["cxr/severity"]) <= {"none", "mild", "severe"}
    assert set(out["cxr/findings:edema"]) <= {0, 1} and out["cxr/findings:p(edema)"].between(0, 1).all()
    # the same numbers as the model's own forward pass on the same texts
    model = MultiTaskModel.load(runs / "mtl" / "checkpoint")
    raw = model.predict(load_tokenizer(str(runs / "mtl" / "checkpoint" / "encoder")), list(out["findings"]))
    soft = np.exp(raw["cxr/severity"]) / np.exp(raw["cxr/severity"]).sum(1, keepdims=True)
    cols = [f"cxr/severity:p({c})" for c in ("none", "mild", "severe")]
    assert np.allclose(out[cols].to_numpy(), soft, atol=1e-6)
    assert list(out["cxr/severity"]) == [["none", "mild", "severe"][i] for i in soft.argmax(1)]
    assert np.array_equal(out["cxr/findings:nodule"], (raw["cxr/findings"][:, 0] > 0).astype(int))


def test_predict_jsonl_in_and_out_and_stl_runs_and_a_task_subset(runs, tmp_path, cli_main):
    frame = _texts(runs).rename(columns={"findings": "note"})
    (tmp_path / "in.jsonl").write_text(frame.to_json(orient="records", lines=True))
    r = cli_main("predict", "--run", str(runs / "stl"), "--input", str(tmp_path / "in.jsonl"), "--text-column", "note",
                 "--tasks", "cxr/findings", "--out", str(tmp_path / "out.jsonl"), "--no-progress")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == 7 and rows[0]["report_id"] == frame.report_id[0]
    assert {k for k in rows[0] if k.startswith("cxr/")} == {"cxr/findings:nodule", "cxr/findings:edema",
                                                           "cxr/findings:p(nodule)", "cxr/findings:p(edema)"}


@pytest.mark.parametrize("rows, args, message", [
    ("report_id,text\nA,fine\n", [], "in.csv: task cxr/effusion reads column(s) ['findings'], not in the input"),
    ("report_id,findings\nA,fine\nB,\n", [], "in.csv:3: empty text in column(s) ['findings']"),
    ("report_id,findings\nA,fine\n", ["--tasks", "cxr/nope"], "--tasks: ['cxr/nope'] not trained in"),
    ("report_id,findings\n", [], "in.csv: no rows to predict"),
])
def test_predict_bad_input_names_the_file_line_or_argument_and_writes_nothing(runs, tmp_path, cli_main, rows, args,
                                                                              message):
    (tmp_path / "in.csv").write_text(rows)
    r = cli_main("predict", "--run", str(runs / "mtl"), "--input", str(tmp_path / "in.csv"),
                 "--out", str(tmp_path / "out.csv"), "--no-progress", *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "out.csv").exists()


def test_predict_needs_a_run_with_its_checkpoint(runs, tmp_path, cli_main):
    (tmp_path / "in.csv").write_text("findings\nfine\n")
    r = cli_main("predict", "--run", str(tmp_path), "--input", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "not a run folder (no config.yaml)" in r.stderr
    shutil.copytree(runs / "mtl", tmp_path / "run")
    shutil.rmtree(tmp_path / "run" / "checkpoint")
    r = cli_main("predict", "--run", str(tmp_path / "run"), "--input", str(tmp_path / "in.csv"),
                 "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "no checkpoint at" in r.stderr and not (tmp_path / "o.csv").exists()


def test_evaluate_writes_metrics_that_agree_with_its_own_confusion_and_predictions(runs, tmp_path, cli_main,
                                                                                   monkeypatch):
    from mtlcore.training.models import MultiTaskModel

    calls = []
    original = MultiTaskModel.predict
    monkeypatch.setattr(MultiTaskModel, "predict", lambda self, tok, texts, tasks=None, **kw: calls.append(tasks)
                        or original(self, tok, texts, tasks, **kw))
    r = cli_main("evaluate", "--run", str(runs / "mtl"), "--split", "dev", "--out", str(tmp_path / "ev"),
                 "--no-progress")
    assert r.returncode == 0, r.stderr
    assert calls == [["cxr/effusion", "cxr/severity", "cxr/findings"]]   # one input group: one encoder pass
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert set(metrics) == {"cxr/effusion", "cxr/severity", "cxr/findings"}
    for task, classes in (("cxr/effusion", ["no", "yes"]), ("cxr/severity", ["none", "mild", "severe"])):
        key = task.replace("/", "__")
        cm = pd.read_csv(tmp_path / "ev" / f"{key}_confusion.csv").set_index("gold")
        pred = pd.read_csv(tmp_path / "ev" / f"{key}_predictions.csv")
        assert list(cm.columns) == classes and cm.to_numpy().sum() == metrics[task]["n"] == len(pred)
        assert metrics[task]["accuracy"] == pytest.approx(np.trace(cm.to_numpy()) / len(pred))
        assert metrics[task]["accuracy"] == pytest.approx((pred["gold"] == pred[task]).mean())
        assert metrics[task]["score"] == pytest.approx((metrics[task]["accuracy"] + metrics[task]["macro_f1"]) / 2)
    assert "cxr/effusion" in r.stdout and "accuracy" in r.stdout


def test_evaluate_a_task_subset_of_an_stl_run_and_its_errors(runs, tmp_path, cli_main):
    r = cli_main("evaluate", "--run", str(runs / "stl"), "--tasks", "cxr/findings", "--max-eval", "3",
                 "--out", str(tmp_path / "ev"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["cxr/findings"]["n"] == 3
    r = cli_main("evaluate", "--run", str(runs / "stl"), "--split", "val", "--out", str(tmp_path / "e2"))
    assert r.returncode == 2 and "--split val: task cxr/effusion has the splits ['dev', 'test', 'train']" in r.stderr
    assert not (tmp_path / "e2").exists()
    for flag in ("--max-eval", "--batch-size"):
        r = cli_main("evaluate", "--run", str(runs / "stl"), flag, "0", "--out", str(tmp_path / "e3"))
        assert r.returncode == 2 and f"{flag}: must be a positive integer, got '0'" in r.stderr, r.stderr
    assert not (tmp_path / "e3").exists()


def test_small_split_warnings_name_small_splits_and_missing_classes():
    from types import SimpleNamespace as NS

    from mtlcore.training.runs import small_split_warnings

    spec = lambda name: NS(name=name, kind="classification", label_names=("no", "yes", "maybe"))   # noqa: E731
    split = lambda name, labels: NS(labels=np.asarray(labels), task=spec(name))   # noqa: E731
    data = {"train": {"t": split("t", [0, 1, 2] * 20), "u": split("u", [0, 1] * 20)},
            "dev": {"t": split("t", [0, 1] * 20), "u": split("u", [0, 1] * 20)},
            "test": {"t": split("t", [0, 1, 2] * 3), "u": split("u", [0, 1] * 20)}}
    assert small_split_warnings(data) == [   # (the test split's 3 examples a class: `tasks check` says so)
        "t: dev has no example of class(es) ['maybe']; they are never scored",
        "t: test has 9 examples (one example moves the score by 11 points); scores on so few examples say little",
        "u: train has no example of class(es) ['maybe']; the model cannot learn them"]


@pytest.mark.parametrize("run, task", [("mtl", "cxr/severity"), ("stl", "cxr/findings")])
def test_export_round_trip_through_transformers_gives_the_runs_own_numbers(runs, tmp_path, cli_main, run, task):
    """One task exported as a Hugging Face folder: AutoModelForSequenceClassification loads it (with its class
    names) without mtlcore's code and gives the same logits as the run's model."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training.models import MultiTaskModel
    from mtlcore.training.runs import run_checkpoint

    out = tmp_path / "hf"
    r = cli_main("export", "--run", str(runs / run), "--task", task, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert {"config.json", "model.safetensors", "hf_modeling.py"} <= {p.name for p in out.iterdir()}
    hf = AutoModelForSequenceClassification.from_pretrained(out, trust_remote_code=True).eval()
    texts = list(_texts(runs)["findings"])
    checkpoint = run_checkpoint(runs / run, None if run == "mtl" else task)
    ours = MultiTaskModel.load(checkpoint).predict(load_tokenizer(str(checkpoint / "encoder")), texts, [task])[task]
    tok = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        logits = hf(**tok(texts, padding=True, truncation=True, return_tensors="pt")).logits.numpy()
    assert np.allclose(logits, ours, atol=1e-5)
    expected = {"cxr/severity": ["none", "mild", "severe"], "cxr/findings": ["nodule", "edema"]}[task]
    assert [hf.config.id2label[i] for i in range(len(expected))] == expected
    assert hf.config.problem_type == ("multi_label_classification" if task == "cxr/findings"
                                      else "single_label_classification")
    again = cli_main("export", "--run", str(runs / run), "--task", task, "--out", str(out))
    assert again.returncode == 2 and "exists; pass --overwrite" in again.stderr
    wrong = cli_main("export", "--run", str(runs / run), "--task", "cxr/nope", "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "cxr/nope" in wrong.stderr and not (tmp_path / "x").exists()
