"""Runs that cannot lose or corrupt results: concurrent writers, kills, bad flags on overwrite, divergence.

Each test drives the real command line (or the library where a process boundary is not the point)
and then checks that every folder left behind is either a complete, consistent run or clearly
marked unfinished (`<out>.partial/`, with FAILED.json where the error could be recorded).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mtlcore import Callback, TrainConfig, train
from mtlcore._io import FolderLock, LockedError
from mtlcore.training.config import ConfigError
from mtlcore.training.trainer import DivergenceError

# a small real task with the random 2-layer encoder: a CLI run takes a few seconds
SMALL = ["--tasks", "glue/rte", "--encoder", "tiny-bert", "--max-train", "64", "--max-eval", "32", "--no-progress"]


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtlcore", "train", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)


def popen(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mtlcore", "train", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def assert_complete(folder: Path, **config) -> dict:
    """`folder` is a finished run: its files are there, valid, and say the same thing."""
    assert folder.is_dir(), f"{folder} missing"
    names = {p.name for p in folder.iterdir()}
    assert {"config.yaml", "metrics.json", "timing.json", "provenance.json"} <= names, names
    assert not names & {"last.pt", "FAILED.json"}, names
    saved = yaml.safe_load((folder / "config.yaml").read_text())
    for k, v in config.items():
        assert saved[k] == v, (k, saved[k], v)
    metrics = json.loads((folder / "metrics.json").read_text())  # valid JSON (no bare NaN)
    assert metrics["mode"] == saved["mode"] and set(metrics["tasks"]) == set(saved["tasks"])
    assert not Path(f"{folder}.partial").exists() and not Path(f"{folder}.lock").exists()
    return metrics


def assert_nothing_written(out: Path) -> None:
    siblings = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name))
    assert siblings == [], siblings


# -- 1. one writer per run folder and cache entry ----------------------------------------------------


def test_two_trainers_into_one_out_at_once(tmp_path):
    out = tmp_path / "run"
    procs = [popen(*SMALL, "--epochs", "2", "--seed", str(seed), "--out", str(out)) for seed in (1, 2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes in ([0, 1], [0, 2]), results  # one run wins; the other is refused (locked, or already there)
    loser = next(err for rc, err in results if rc != 0)
    assert "being written by another process" in loser or "already exists" in loser
    winner_seed = 1 if results[0][0] == 0 else 2
    assert_complete(out, seed=winner_seed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_locked_out_is_refused_with_the_holder_named(tmp_path):
    out = tmp_path / "run"
    with FolderLock(out):
        r = cli(*SMALL, "--epochs", "1", "--out", str(out))
    assert r.returncode == 1 and "being written by another process" in r.stderr and f"pid {os.getpid()}" in r.stderr
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_lock_of_a_killed_process_is_not_stale(tmp_path):
    out = tmp_path / "entry"
    code = f"from mtlcore._io import FolderLock; import time; FolderLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(LockedError, match=f"pid {holder.pid}"):
        FolderLock(out).acquire()
    with pytest.raises(LockedError):
        FolderLock(out, wait=True, timeout=0.5).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with FolderLock(out, wait=True, timeout=10):  # the kernel released the dead holder's lock
        assert "pid" in Path(f"{out}.lock").read_text()
    assert not Path(f"{out}.lock").exists()


class CountStarts(Callback):
    def __init__(self):
        self.starts = 0

    def on_train_begin(self, trainer):
        self.starts += 1


def test_two_users_of_one_cache_entry_train_it_once(tiny_cfg, tmp_path, monkeypatch):
    import threading

    from mtlcore import cached_train

    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path))
    counter, results = CountStarts(), []
    threads = [threading.Thread(target=lambda: results.append(cached_train(tiny_cfg, callbacks=[counter])))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.starts == 1  # the second waited for the first and read its entry
    assert results[0].metrics == results[1].metrics


# -- 2. --overwrite keeps the old run until the new one is complete ------------------------------------


class Boom(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        raise RuntimeError("simulated crash after epoch 1")


def test_overwrite_with_a_bad_flag_or_a_crash_keeps_the_old_run(tiny_cfg, tmp_path):
    out = tmp_path / "run"
    train(tiny_cfg, out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for flags, message in ((["--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
                           (["--weighting", "gradnorm"], "weighting must be one of"),
                           (["--tasks", "glue/rte,glue/nope"], "unknown task 'glue/nope'")):
        r = cli(*SMALL, *flags, "--overwrite", "--out", str(out))
        assert r.returncode == 2 and message in r.stderr, r.stderr
    with pytest.raises(ConfigError, match="unknown field"):
        TrainConfig.from_dict({**tiny_cfg.to_dict(), "lr_typo": 1})
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tiny_cfg.replace(seed=9), out=out, overwrite=True, callbacks=[Boom()])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    failed = json.loads((tmp_path / "run.partial/FAILED.json").read_text())
    assert "simulated crash" in failed["error"]
    train(tiny_cfg.replace(seed=9), out=out, overwrite=True)
    assert_complete(out, seed=9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_run_killed_mid_write_is_left_unfinished_and_resumes_to_the_same_numbers(tmp_path, cli_main):
    """The killed run is a process of its own; the uninterrupted run and the resume run in this one."""
    args = [*SMALL, "--epochs", "3", "--seed", "5"]
    full = cli_main("train", *args, "--out", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    out = tmp_path / "cut"
    proc = popen(*args, "--out", str(out))
    last = Path(f"{out}.partial/last.pt")
    deadline = time.time() + 120
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and Path(f"{out}.partial/config.yaml").is_file()  # unfinished, and says so by name
    assert not Path(f"{out}.partial/metrics.json").exists()
    r = cli_main("train", *args, "--out", str(out), "--resume")  # the dead process's lock does not block
    assert r.returncode == 0, r.stderr
    a, b = assert_complete(tmp_path / "full"), assert_complete(out, seed=5)
    assert a == b


# -- 3. validation before anything is written ------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--weighting", "gradnorm"], "weighting must be one of ['equal', 'fixed']"),
    (["--device", "gpu"], "device must be auto, cpu, cuda, cuda:N or mps"),
    (["--device", "cuda:7"], "device: 'cuda:7' requested but"),
    (["--grad-clip", "-1"], "grad_clip must be a finite number >= 0"),
    (["--weight-decay", "-0.1"], "weight_decay must be a finite number >= 0"),
    (["--lr", "inf"], "lr must be a finite number > 0"),
    (["--lr", "-1e-3"], "lr must be a finite number > 0, got -0.001"),
    (["--seed", "-1"], "seed must be an integer in [0, 2**32), got -1"),
    (["--mode", "stl", "--gradient-cosine-every", "5"], "with --mode stl these flags do nothing: --gradient-cosine-every"),
    (["--task-weights", '{"glue/rte": 2}'], "task_weights are given but weighting 'equal' does not use them"),
    (["--weighting", "fixed", "--task-weights", '{"glue/rte": NaN}'], "task_weights must be finite"),
    (["--weighting", "fixed", "--task-weights", '{"glue/rte": 0}'], "task_weights must not all be zero"),
    (["--weighting", "fixed"], "weighting 'fixed' needs task_weights"),
])
def test_bad_flags_fail_before_any_folder(tmp_path, cli_main, args, message):
    out = tmp_path / "run"
    r = cli_main("train", *SMALL, *args, "--out", str(out))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert_nothing_written(out)


def test_bad_task_weights_json_is_a_usage_error(tmp_path):
    r = cli(*SMALL, "--weighting", "fixed", "--task-weights", "{rte: 2}", "--out", str(tmp_path / "r"))
    assert r.returncode == 2 and "--task-weights: not valid JSON" in r.stderr and "Traceback" not in r.stderr


def test_out_that_is_a_file_or_under_a_file(tmp_path, cli_main):
    f = tmp_path / "afile"
    f.write_text("x")
    for out, message in ((f, "is a file, not a folder"), (f / "run", "is a file, not a folder")):
        r = cli_main("train", *SMALL, "--out", str(out))
        assert r.returncode == 2 and message in r.stderr, r.stderr
    assert f.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_yaml_values_are_coerced_or_refused_by_field(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("tasks: [glue/rte]\nlr: 1e-3\nepochs: '2'\n")  # YAML reads 1e-3 as a string
    cfg = TrainConfig.from_yaml(good)
    assert cfg.lr == 0.001 and isinstance(cfg.lr, float) and cfg.epochs == 2
    for body, message in (("lr: fast", "lr: expected a number, got 'fast'"),
                          ("epochs: 2.5", "epochs: expected an integer, got 2.5"),
                          ("progress: 'yes'", "progress: expected true or false"),
                          ("tasks: glue/rte\nmax_train: [1]", "max_train: expected an integer")):
        bad.write_text(body + "\n")
        with pytest.raises(ConfigError, match=rf"bad\.yaml: {message}"):
            TrainConfig.from_yaml(bad)


# -- 4. divergence -------------------------------------------------------------------------------------------


def test_divergence_stops_the_run_with_a_clear_error(tmp_path):
    out = tmp_path / "run"
    r = cli(*SMALL, "--epochs", "2", "--lr", "1e30", "--out", str(out))
    assert r.returncode == 1 and "non-finite loss" in r.stderr and "training diverged" in r.stderr, r.stderr
    assert not out.exists()
    failed = json.loads(Path(f"{out}.partial/FAILED.json").read_text())
    assert "DivergenceError" in failed["error"]
    assert not Path(f"{out}.partial/metrics.json").exists()


class PoisonWeights(Callback):
    def on_step_end(self, trainer, step, task, loss):
        if step == 3:
            with __import__("torch").no_grad():
                next(trainer.model.heads.parameters()).fill_(float("nan"))


def test_a_nan_weight_is_caught_at_the_next_step(tiny_cfg, tmp_path):
    with pytest.raises(DivergenceError, match="at step 4"):
        train(tiny_cfg, out=tmp_path / "run", callbacks=[PoisonWeights()])
    assert (tmp_path / "run.partial/FAILED.json").is_file() and not (tmp_path / "run").exists()


def test_json_is_always_valid(tmp_path):
    import numpy as np

    from mtlcore._io import atomic_write_json

    atomic_write_json(tmp_path / "m.json", {"pearson": float("nan"), "x": [np.float32("inf"), 1.5], "n": np.int64(3)})
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"pearson": None, "x": [None, 1.5], "n": 3}


# -- 5. resume only the same config, and keep every logged row --------------------------------------------


class StopAfterEpoch1(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        if epoch == 1:
            raise KeyboardInterrupt


def test_resume_refuses_another_config_and_keeps_gradient_rows(tiny_cfg, tmp_path):
    cfg = tiny_cfg.replace(gradient_cosine_every=2, epochs=2)
    train(cfg, out=tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=tmp_path / "cut", callbacks=[StopAfterEpoch1()])
    saved = (tmp_path / "cut.partial/config.yaml").read_bytes()
    for change, text in (({"lr": 2e-3}, "lr: 0.001 -> 0.002"), ({"seed": 4}, "seed: 3 -> 4"),
                         ({"epochs": 3}, "epochs: 2 -> 3"), ({"tasks": ["test/words"]}, "tasks:")):
        with pytest.raises(ConfigError, match="was started with another config") as err:
            train(cfg.replace(**change), out=tmp_path / "cut", resume=True)
        assert text in str(err.value)
    assert (tmp_path / "cut.partial/config.yaml").read_bytes() == saved
    train(cfg.replace(progress=True), out=tmp_path / "cut", resume=True)  # display-only fields may differ
    full = (tmp_path / "full/gradient_cosines.csv").read_text()
    assert (tmp_path / "cut/gradient_cosines.csv").read_text() == full and full.count("\n") > 10
    assert (tmp_path / "cut/metrics.json").read_bytes() == (tmp_path / "full/metrics.json").read_bytes()


def test_resume_of_stl_skips_finished_tasks(tiny_cfg, tmp_path):
    cfg = tiny_cfg.replace(mode="stl", epochs=1)

    class StopSecondTask(Callback):
        def on_train_begin(self, trainer):
            if list(trainer.train_data) == ["test/flipped"]:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=tmp_path / "s", callbacks=[StopSecondTask()])
    counter = CountStarts()
    resumed = train(cfg, out=tmp_path / "s", resume=True, callbacks=[counter])
    assert counter.starts == 1  # only the unfinished task trained again
    assert resumed.metrics == train(cfg).metrics


def test_overwrite_replaces_only_run_folders(tiny_cfg, tmp_path):
    """--overwrite onto a user's data folder is refused and the folder is untouched; a run folder is replaced."""
    data = tmp_path / "mydata"
    data.mkdir()
    (data / "notes.csv").write_text("id,text\n1,keep me\n")
    with pytest.raises(ConfigError, match="not a run folder"):
        train(tiny_cfg, out=data, overwrite=True)
    assert (data / "notes.csv").read_text() == "id,text\n1,keep me\n" and not Path(f"{data}.partial").exists()
    r = cli(*SMALL, "--overwrite", "--out", str(data))
    assert r.returncode == 2 and "not a run folder" in r.stderr
    run = tmp_path / "run"
    train(tiny_cfg, out=run)
    train(tiny_cfg.replace(seed=3), out=run, overwrite=True)        # a run folder of ours: replaced
    assert "seed: 3" in (run / "config.yaml").read_text()
    (tmp_path / "empty").mkdir()
    train(tiny_cfg, out=tmp_path / "empty", overwrite=True)         # an empty folder holds nothing to lose


def test_task_names_that_share_a_folder_name_are_refused(tiny_cfg):
    """'a/b' and 'a__b' (or 'a.b' and 'a_b') would share one head and one STL folder."""
    for tasks in (["test/words", "test__words"], ["test/a.b", "test/a_b"]):
        with pytest.raises(ConfigError, match="map to the same head and folder name"):
            tiny_cfg.replace(tasks=tasks, mode="stl")


class _Meddle(Callback):
    """At the end of epoch 1, remove `victim` (the lock file deleted by hand, or a file of the .partial)."""

    def __init__(self, victim):
        self.victim = Path(victim)

    def on_epoch_end(self, trainer, epoch, metrics):
        if epoch == 1:
            self.victim.unlink()


def test_a_lost_lock_or_an_emptied_partial_publishes_nothing(tiny_cfg, tmp_path):
    from mtlcore._io import LockedError
    from mtlcore.training.runs import RunFolderError

    out = tmp_path / "run"
    with pytest.raises(LockedError, match="was removed or replaced"):
        train(tiny_cfg, out=out, callbacks=[_Meddle(f"{out}.lock")])
    assert not out.exists()
    with pytest.raises(RunFolderError, match="nothing was published"):
        train(tiny_cfg, out=out, callbacks=[_Meddle(f"{out}.partial/config.yaml")])
    assert not out.exists()


# -- YAML that expands without bound -----------------------------------------------------------------------------

_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))  # 9^9 values


def test_an_alias_bomb_is_refused_naming_the_file(tmp_path):
    from mtlcore.tasks import DataError
    from mtlcore.tasks.user import read_spec

    spec = tmp_path / "tasks.yaml"
    spec.write_text("name: mine\n" + _BOMB)
    with pytest.raises(DataError, match=r"tasks\.yaml: the YAML expands to more than 100000 values"):
        read_spec(spec)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(_BOMB + "epochs: 1\n")
    with pytest.raises(ConfigError, match=r"run\.yaml: the YAML expands"):
        TrainConfig.from_yaml(cfg)
    loop = tmp_path / "loop.yaml"
    loop.write_text("a: &a [1, *a]\n")
    with pytest.raises(ConfigError, match=r"loop\.yaml: line 1: an alias refers to a value that contains it"):
        TrainConfig.from_yaml(loop)


def test_plain_anchors_still_load(tmp_path):
    from mtlcore._io import load_yaml

    assert load_yaml("a: &x [1, 2]\nb: *x\nc: {d: 3.5}\n", "t.yaml") == {"a": [1, 2], "b": [1, 2], "c": {"d": 3.5}}
    assert load_yaml("", "empty.yaml") is None


def test_max_length_beyond_the_encoders_positions_is_refused_before_anything_is_written(tiny_cfg, tmp_path):
    from mtlcore.training.encoders import encoder_positions

    assert encoder_positions("tiny-bert") == 512 and encoder_positions("minilm-l6") == 512
    with pytest.raises(ConfigError, match=r"max_length 600 is beyond the 512 token positions of encoder 'tiny-bert'"):
        train(tiny_cfg.replace(max_length=600), out=tmp_path / "run")
    assert not any(tmp_path.iterdir())


def test_out_naming_the_current_folder_is_refused(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for out in (".", "./", "..", str(tmp_path)):
        with pytest.raises(ConfigError, match="names the current folder or one above it"):
            train(tiny_cfg, out=out, overwrite=True)
    assert not any(tmp_path.iterdir()) and not (tmp_path.parent / f"{tmp_path.name}.partial").exists()


def test_a_full_disk_names_the_file_and_keeps_the_old_contents(tmp_path):
    import errno

    from mtlcore._io import WriteError, _atomic

    target = tmp_path / "metrics.json"
    target.write_text("old")

    def full(path):
        path.write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteError, match=r"cannot write .*metrics\.json: no space left on the device"):
        _atomic(target, full)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_file_size_limit_during_training_is_one_clear_line(tmp_path):
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))   # the tiny model's checkpoint is ~4 MB

    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "mtlcore", "train", "--tasks", "glue/rte", "--encoder", "tiny-bert",
                        "--max-train", "20", "--max-eval", "20", "--epochs", "1", "--no-progress", "--out", str(out)],
                       preexec_fn=limit, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"cannot write {out}.partial/last.pt: the write stopped short" in r.stderr
    assert not out.exists()
