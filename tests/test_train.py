import json

import pytest
import torch

from mtlcore import Callback, train
from mtlcore.training import Trainer, build_model
from mtlcore.training.batching import prepare_data
from mtlcore.training.encoders import load_tokenizer


def test_tiny_mtl_run_lowers_the_training_loss(tiny_cfg):
    tok = load_tokenizer("tiny-bert")
    tr, dev = prepare_data(tiny_cfg, tok)
    model, _ = build_model(tiny_cfg, tiny_cfg.tasks)
    trainer = Trainer(tiny_cfg.replace(epochs=8), model, tr, dev)
    model.eval()
    with torch.no_grad():
        before = {t: trainer.batch_loss(t, trainer.sample_batch(t, 96)).item() for t in tr}
    assert all(0.6 < v < 0.8 for v in before.values())  # ~ln 2 at random init
    metrics = trainer.fit()
    last = metrics["history"][-1]["train_loss"]
    assert all(last[t] < 0.2 * before[t] for t in tr)
    assert metrics["average"] > 0.9  # the words decide the label; both heads learn it from one encoder


def test_same_seed_same_numbers_and_stl_layout(tiny_cfg, tmp_path):
    a = train(tiny_cfg, out=tmp_path / "a")
    train(tiny_cfg, out=tmp_path / "b")
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    c = train(tiny_cfg.replace(seed=4))
    assert c.metrics["history"][0]["train_loss"] != a.metrics["history"][0]["train_loss"]
    stl = train(tiny_cfg.replace(mode="stl", epochs=1), out=tmp_path / "stl")
    assert sorted(p.name for p in (tmp_path / "stl/stl").iterdir()) == ["test__flipped", "test__words"]
    assert set(stl.metrics["tasks"]) == {"test/words", "test/flipped"}
    assert stl.metrics["parameters"] == 2 * stl.models["test/words"].encoder.num_parameters() + 2 * (32 * 2 + 2)


class Interrupt(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        if epoch == 1:
            raise KeyboardInterrupt


def test_resume_after_interruption_gives_the_uninterrupted_numbers(tiny_cfg, tmp_path):
    full = train(tiny_cfg, out=tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        train(tiny_cfg, out=tmp_path / "cut", callbacks=[Interrupt()])
    assert (tmp_path / "cut.partial/last.pt").exists() and not (tmp_path / "cut").exists()
    resumed = train(tiny_cfg, out=tmp_path / "cut", resume=True)
    assert resumed.metrics == full.metrics
    assert not (tmp_path / "cut.partial").exists() and not (tmp_path / "cut/last.pt").exists()


@pytest.mark.parametrize("args, message", [
    (["--tasks", "glue/rte,glue/nope"], "unknown task 'glue/nope'"),
    (["--tasks", "glue/rte", "--max-train", "0"], "max_train must be a positive integer"),
    (["--tasks", "glue/rte", "--encoder", "nobody/nothing"], "cannot load encoder"),
])
def test_cli_bad_input_exits_nonzero_without_a_run_folder(tmp_path, cli_main, args, message):
    out = tmp_path / "run"
    r = cli_main("train", *args, "--out", str(out))
    assert r.returncode == 2 and message in r.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()


def test_cli_config_file_unknown_field(tmp_path, cli_main):
    cfgfile = tmp_path / "run.yaml"
    cfgfile.write_text("tasks: [glue/rte]\nepochz: 3\n")
    r = cli_main("train", "--config", str(cfgfile), "--out", str(tmp_path / "r"))
    assert r.returncode == 2 and "run.yaml: unknown field(s) ['epochz']" in r.stderr


def test_cli_help_explains_every_flag_with_its_default(cli_main):
    """`train --help` documents every TrainConfig field from its comment in the class, with its default."""
    import dataclasses
    import re

    from mtlcore import TrainConfig
    from mtlcore.__main__ import field_help

    helps = field_help()
    assert set(helps) == {f.name for f in dataclasses.fields(TrainConfig)}
    undocumented = [name for name, text in helps.items() if text.startswith("(default")]
    assert undocumented == []
    assert helps["batch_size"] == "the global batch: split over the processes of a torchrun job (default: 16)"
    assert helps["mode"] == "mtl | stl (default: mtl)" and helps["max_train"].endswith("(default: none)")
    r = cli_main("train", "--help")
    assert r.returncode == 0
    text = re.sub(r"\s+", " ", r.stdout)
    assert "--head-lr X the task heads' learning rate" in text and "(default: 0.1)" in text


def test_cli_accepts_the_field_names_as_flags(cli_main, tmp_path):
    """--max_train (the field's own spelling) is --max-train; a bad value is still named by its field."""
    r = cli_main("train", "--tasks", "glue/rte", "--max_train", "0", "--out", str(tmp_path / "r"))
    assert r.returncode == 2 and "max_train must be a positive integer" in r.stderr, r.stderr
    r = cli_main("train", "--tasks", "glue/rte", "--max_train=0", "--out", str(tmp_path / "r"))
    assert r.returncode == 2 and "max_train must be a positive integer" in r.stderr, r.stderr


def test_cli_tasks_lists_every_task(cli_main):
    r = cli_main("tasks")
    assert r.returncode == 0, r.stderr
    for name, size in [("glue/cola", "8551"), ("senteval/subj", "9000"), ("glue/qnli", "4916")]:
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith(name))
        assert size in line


def test_bf16_autocast_trains_in_bfloat16_and_keeps_fp32_weights(tiny_cfg):
    """precision: bf16 runs the training forward pass under bfloat16 autocast (the encoder's matmuls produce
    bfloat16), keeps the weights fp32, and the tiny task is still learnt; fp32 never sees bfloat16."""
    from mtlcore import TrainConfig
    from mtlcore.training.config import ConfigError

    seen = {}

    def record(precision):
        tok = load_tokenizer("tiny-bert")
        cfg = tiny_cfg.replace(precision=precision, epochs=6)
        tr, dev = prepare_data(cfg, tok)
        model, _ = build_model(cfg, cfg.tasks)
        dtypes = set()
        hook = model.encoder.encoder.layer[0].attention.self.query.register_forward_hook(
            lambda m, i, out: dtypes.add(out.dtype) if m.training else None)
        metrics = Trainer(cfg, model, tr, dev).fit()
        hook.remove()
        seen[precision] = (dtypes, {p.dtype for p in model.parameters()}, metrics)

    record("fp32")
    record("bf16")
    assert seen["fp32"][0] == {torch.float32} and seen["bf16"][0] == {torch.bfloat16}
    assert seen["bf16"][1] == {torch.float32}
    assert seen["bf16"][2]["average"] > 0.9 and seen["bf16"][2]["history"] != seen["fp32"][2]["history"]
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="fp16")


def test_gradient_accumulation_steps_on_the_mean_gradient_of_its_batches(tiny_cfg):
    """grad_accumulation=3: one optimiser step per three batches, on the mean of their gradients (checked by
    hand on the epoch's first three batches, dropout off so both computations are deterministic)."""
    import copy
    import math

    import numpy as np

    from mtlcore.training import batching

    cfg = tiny_cfg.replace(tasks=["test/words"], epochs=1, batch_size=8, grad_accumulation=3, grad_clip=0.0,
                           dropout=0.0)
    tr, dev = prepare_data(cfg, load_tokenizer("tiny-bert"))
    model, _ = build_model(cfg, cfg.tasks)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    reference = copy.deepcopy(model)
    trainer = Trainer(cfg, model, tr, dev)
    seen = []
    trainer.optimizer.register_step_pre_hook(lambda *_: seen.append(
        {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    trainer.fit()
    assert trainer.steps_per_epoch == math.ceil(96 / 8 / 3) == len(seen) == trainer.step
    rng = np.random.default_rng([cfg.seed, 1])  # the trainer's epoch-1 generator: schedule, then batches
    batching.task_schedule({"test/words": 12}, cfg.sampling, cfg.temperature, rng)
    queue = batching.length_grouped_batches(tr["test/words"].lengths, 8, rng)
    total = 0.0
    for _ in range(3):
        batch = batching.collate(tr["test/words"], queue.pop())
        out = reference(task="test/words", input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        total = total + reference.loss("test/words", out.logits, batch["labels"]) / 3
    total.backward()
    hand = {n: p.grad for n, p in reference.named_parameters() if p.grad is not None}
    assert hand.keys() == seen[0].keys()
    for name, g in hand.items():
        assert torch.allclose(seen[0][name], g, atol=1e-6, rtol=1e-4), name


class _Payload:
    """A pickle that runs code when unpickled (writes a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_crafted_resume_checkpoint_is_refused_without_running_code(tiny_cfg, tmp_path):
    """--resume reads last.pt with weights_only: a pickle that would run code is refused, naming the file."""
    from mtlcore.training.config import ConfigError

    with pytest.raises(KeyboardInterrupt):
        train(tiny_cfg, out=tmp_path / "cut", callbacks=[Interrupt()])
    last = tmp_path / "cut.partial/last.pt"
    saved = torch.load(last, weights_only=True)                 # our own checkpoint loads without code
    assert saved["epoch"] == 1 and "optimizer" in saved
    marker = tmp_path / "pwned"
    torch.save({**saved, "evil": _Payload(marker)}, last)
    with pytest.raises(ConfigError, match="refused to load the resume checkpoint"):
        train(tiny_cfg, out=tmp_path / "cut", resume=True)
    assert not marker.exists()


def test_resume_after_the_data_changed_is_refused(tiny_cfg, tmp_path, monkeypatch):
    """The config is the same but a task's data is not: --resume must not continue on the new data."""
    from mtlcore.training import runs
    from mtlcore.training.config import ConfigError

    with pytest.raises(KeyboardInterrupt):
        train(tiny_cfg, out=tmp_path / "cut", callbacks=[Interrupt()])
    saved = json.loads((tmp_path / "cut.partial/data.json").read_text())
    assert set(saved) == set(tiny_cfg.tasks)
    real = runs.data_digest
    monkeypatch.setattr(runs, "data_digest", lambda data: {**real(data), tiny_cfg.tasks[0]: "edited"})
    with pytest.raises(ConfigError, match=f"the data of {tiny_cfg.tasks[0]} changed"):
        train(tiny_cfg, out=tmp_path / "cut", resume=True)


def test_data_digest_sees_a_changed_label_or_text(tiny_cfg):
    import dataclasses

    import numpy as np

    from mtlcore.training.batching import prepare_split
    from mtlcore.training.encoders import load_tokenizer
    from mtlcore.training.runs import data_digest

    tok = load_tokenizer(tiny_cfg.encoder)
    data = {s: prepare_split(tiny_cfg, tok, s) for s in ("train", "dev", "test")}
    task = tiny_cfg.tasks[0]
    base = data_digest(data)
    assert base == data_digest({s: dict(d) for s, d in data.items()})          # deterministic
    enc = data["train"][task]
    labels = np.array(enc.labels, copy=True)
    labels[0] = 1 - labels[0]
    flipped = {**data, "train": {**data["train"], task: dataclasses.replace(enc, labels=labels)}}
    ids = [list(x) for x in enc.input_ids]
    ids[0][-1] += 1
    edited = {**data, "train": {**data["train"], task: dataclasses.replace(enc, input_ids=ids)}}
    for other in (flipped, edited):
        d = data_digest(other)
        assert d[task] != base[task] and all(d[t] == base[t] for t in base if t != task)


def test_no_defined_dev_score_is_a_clear_error_not_a_traceback(tiny_cfg, tmp_path, monkeypatch):
    """Every epoch's dev score undefined (e.g. one dev example, or a one-class dev split for AUC): the run stops
    naming the tasks and the setting, and its .partial says so."""
    from mtlcore.training import trainer as T

    real = T.Trainer.evaluate

    def nan_dev(self, data=None):
        out = real(self, data)
        if data is None:   # the dev evaluation of each epoch
            out = {**out, "tasks": {t: {**v, "score": float("nan")} for t, v in out["tasks"].items()},
                   "average": float("nan")}
        return out

    monkeypatch.setattr(T.Trainer, "evaluate", nan_dev)
    with pytest.raises(T.UndefinedScoreError, match="no epoch had a defined dev score .*raise --max-eval"):
        train(tiny_cfg, out=tmp_path / "run")
    assert "UndefinedScoreError" in (tmp_path / "run.partial/FAILED.json").read_text()


def test_an_undefined_first_epoch_is_not_reported_as_the_selected_one(tiny_cfg, monkeypatch):
    """Epoch 1's dev score undefined, epoch 2's defined: the kept weights are epoch 2's, and so are the reported
    best epoch and dev scores (NaN compares false, so a plain max over the history kept epoch 1)."""
    import math

    from mtlcore.training import trainer as T

    real, calls = T.Trainer.evaluate, []

    def first_dev_nan(self, data=None):
        out = real(self, data)
        if data is None:
            calls.append(1)
            if len(calls) == 1:
                out = {**out, "tasks": {t: {**v, "score": float("nan")} for t, v in out["tasks"].items()},
                       "average": float("nan")}
        return out

    monkeypatch.setattr(T.Trainer, "evaluate", first_dev_nan)
    metrics = train(tiny_cfg).metrics
    assert metrics["best_epoch"] == 2 and math.isfinite(metrics["average"])
    assert metrics["average"] == metrics["history"][1]["average"] and math.isnan(metrics["history"][0]["average"])
