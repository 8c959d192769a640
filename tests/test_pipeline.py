import json
import textwrap
from pathlib import Path

import pytest

from mtlcore.reporting.cache import cache_key, cached_train
from mtlcore.reporting.claims import record_claim, verdict
from mtlcore.training.config import ConfigError, Profile
from mtlcore.reporting.pipeline import main as pipeline, update_summary
from mtlcore.reporting.report import ITEMS, write_report

NB_HEADER = "# %% tags=[\"parameters\"]\nprofile = 'x'\nresults_dir = 'r'\nvalue = 1\n\n# %%\n"


def _notebook(path, body):
    path.write_text(NB_HEADER + textwrap.dedent(body))
    return path


def test_profile_schema_is_strict_and_validates_train_fields(tmp_path):
    p = Profile(name="t", seeds=[1, 2], train={"max_train": 10}, notebooks={"a": {"train": {"epochs": 2}, "x": 3}})
    assert p.parameters("a", {"seeds", "train", "x"}) == {"profile": "t", "seeds": [1, 2],
                                                           "train": {"max_train": 10, "epochs": 2}, "x": 3}
    assert p.parameters("b", set()) == {"profile": "t"}
    with pytest.raises(ConfigError, match="unknown field"):
        Profile(train={"max_trian": 3})
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nsedes: [1]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown field\(s\) \['sedes'\]"):
        Profile.from_yaml(bad)


def test_pipeline_reports_a_failing_notebook_runs_the_rest_and_skips_up_to_date(tmp_path, capsys):
    """... and an executed notebook keeps its figures inline (the Makefile's MPLBACKEND=Agg does not reach the
    kernel), with save_figure's value shown as file names, not the machine's paths, and mtlcore's progress bar
    saved at its last state without tqdm's IProgress warning."""
    good = _notebook(tmp_path / "good.py", f"""\
        import matplotlib.pyplot as plt
        from mtlcore import save_figure
        from mtlcore.progress import tqdm
        total = sum(tqdm(range(7), desc="loop"))
        print('value is', value)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [value, 1])
        save_figure(fig, {str(tmp_path / "fig")!r})
        """)
    bad = _notebook(tmp_path / "bad.py", "raise ValueError(f'bad parameter value={value}')\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nnotebooks:\n  good: {value: 2}\n  bad: {value: -1}\n")
    results = tmp_path / "res"
    rc = pipeline(["--profile", str(profile), "--only", str(bad), str(good), "--results", str(results), "--jobs", "1"])
    assert rc == 1
    summary = json.loads((results / "summary.json").read_text())
    status = {r["notebook"]: r for r in summary["notebooks"]}
    assert summary["failed"] == ["bad"] and status["good"]["status"] == "ok"
    assert "bad parameter value=-1" in status["bad"]["error"]
    assert (results / "bad.ipynb").is_file() and "value is 2" in (results / "logs/good.log").read_text()
    outputs = [o for c in json.loads((results / "good.ipynb").read_text())["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    streams = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "loop: 100%" in streams and "7/7" in streams and "IProgress" not in streams
    shown = ["".join(o["data"]["text/plain"]) for o in outputs if o["output_type"] == "execute_result"]
    assert shown == ["saved fig.png, fig.pdf"] and (tmp_path / "fig.pdf").is_file()
    assert "not run" in (results / "report.html").read_text()
    rc = pipeline(["--profile", str(profile), "--only", str(good), "--results", str(results), "--jobs", "1"])
    assert rc == 0
    again = {r["notebook"]: r for r in json.loads((results / "summary.json").read_text())["notebooks"]}
    assert again["good"]["status"] == "up to date" and again["bad"]["status"] == "failed"


def test_pipeline_rejects_a_parameter_the_notebook_does_not_declare(tmp_path):
    nb = _notebook(tmp_path / "nb.py", "x = value\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nnotebooks:\n  nb: {valeu: 2}\n")
    rc = pipeline(["--profile", str(profile), "--only", str(nb), "--results", str(tmp_path / "r"), "--no-report",
                   "--jobs", "1"])
    row = json.loads((tmp_path / "r/summary.json").read_text())["notebooks"][0]
    assert rc == 1 and "['valeu']" in row["error"]


def test_training_cache_hits_and_misses(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path))
    cfg = tiny_cfg.replace(epochs=1)
    first = cached_train(cfg, need_models=True)
    second = cached_train(cfg.replace(progress=True), need_models=True)  # display-only field: same key
    assert second.folder == first.folder and second.metrics == first.metrics
    assert set(second.models) == {"mtl"}
    assert cache_key(cfg.replace(seed=cfg.seed + 1)) != cache_key(cfg)
    assert cache_key(cfg.replace(lr=cfg.lr * 2)) != cache_key(cfg)


def test_claims_and_report_list_every_item(tmp_path, monkeypatch):
    assert verdict({"a": True, "b": True}) == "reproduced"
    assert verdict({"a": True, "b": False}) == "partly"
    assert verdict({"a": False}) == "not reproduced"
    monkeypatch.setenv("MTLCORE_NOTEBOOK", "wu2020/b_f2_toy")
    claim = record_claim(tmp_path, "B-F2", "paper says", "we saw", {"x": True}, ["wu2020/fig.png"])
    assert repr(claim) == "B-F2: reproduced -> claims/B-F2.json"   # a notebook shows one line, not the dict
    assert claim == json.loads((tmp_path / "claims/B-F2.json").read_text())
    (tmp_path / "wu2020").mkdir()
    (tmp_path / "wu2020/fig.png").write_bytes(b"png")
    update_summary(tmp_path, [{"notebook": "wu2020/b_f2_toy", "status": "ok", "seconds": 1.0, "error": ""}],
                   Profile(name="t"))
    md, page = write_report(tmp_path, Profile(name="t"))
    text = page.read_text()
    assert all(f"id='{item.id}'" in text for item in ITEMS)
    assert text.count(">not run</span></td></tr>") == len(ITEMS) - 1 and "<img src='wu2020/fig.png'" in text
    assert "| B-F2 |" in md.read_text()
    n = len(ITEMS) - 1   # the tally of report.md is on the page too
    assert "Verdicts: reproduced 1" in md.read_text() and f">not run</span> {n}" in text and ">reproduced</span> 1" in text


def test_notebook_defaults_are_the_smoke_profile():
    """nbval runs the notebooks at their defaults; those must be what the smoke profile injects."""
    import jupytext
    import papermill as pm

    from mtlcore.reporting.pipeline import discover, load_profile, notebook_name

    smoke = load_profile("smoke")
    for source in discover():
        path = source.with_suffix(".ipynb")
        assert path.is_file(), f"{path} missing: run jupytext --sync {source}"
        defaults = {k: eval(v["default"]) for k, v in pm.inspect_notebook(str(path)).items()}
        assert {"profile", "results_dir"} <= set(defaults), source
        assert defaults["profile"] == "smoke" and defaults["results_dir"] == "results/smoke", source
        injected = smoke.parameters(notebook_name(source), set(defaults))
        for key, value in injected.items():
            assert defaults[key] == value, f"{source.name}: default {key}={defaults[key]!r}, smoke profile {value!r}"
        assert jupytext.read(source).cells[0].source == jupytext.read(path).cells[0].source  # paired copies agree


def test_edited_data_reruns_exactly_the_notebooks_that_read_it(tmp_path, monkeypatch):
    """The stamp keeps the digest of every data file a notebook read (also under $MTLCORE_DATA)."""
    import shutil

    from mtlcore._io import REPO_ROOT

    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data/senteval/CR", data / "senteval/CR")
    monkeypatch.setenv("MTLCORE_DATA", str(data))
    reader = _notebook(tmp_path / "reader.py", "from mtlcore.tasks import load_task\nprint(len(load_task('senteval/cr')['train']))\n")
    other = _notebook(tmp_path / "other.py", "print(value)\n")
    profile, results = tmp_path / "p.yaml", tmp_path / "res"
    profile.write_text("name: p\n")
    args = ["--profile", str(profile), "--only", str(reader), str(other), "--results", str(results), "--no-report"]

    def statuses():
        assert pipeline(args) == 0
        return {r["notebook"]: r["status"] for r in json.loads((results / "summary.json").read_text())["notebooks"]}

    assert statuses() == {"reader": "ok", "other": "ok"}
    stamp = json.loads((results / ".stamps/reader.json").read_text())
    assert sorted(stamp["data"]) == sorted(str((data / f"senteval/CR/custrev.{s}").resolve()) for s in ("neg", "pos"))
    assert json.loads((results / ".stamps/other.json").read_text())["data"] == {}
    assert statuses() == {"reader": "up to date", "other": "up to date"}
    with open(data / "senteval/CR/custrev.pos", "a") as f:
        f.write("one more happy customer\n")
    assert statuses() == {"reader": "ok", "other": "up to date"}


def test_training_cache_key_includes_the_thread_count(tiny_cfg):
    import torch

    n = torch.get_num_threads()
    key = cache_key(tiny_cfg)
    try:
        torch.set_num_threads(n + 1)
        assert cache_key(tiny_cfg) != key
    finally:
        torch.set_num_threads(n)
    assert cache_key(tiny_cfg.replace(device="cpu")) == key  # 'auto' resolves to cpu here: same numbers


def test_training_code_hash_ignores_docstrings_comments_and_moves_but_not_code(tmp_path):
    """The training cache key's code part (`code_version`): what decides the numbers, not where it lives."""
    import shutil

    import mtlcore
    from mtlcore.reporting.cache import TRAINING_CODE, code_modules, code_version

    root = tmp_path / "mtlcore"
    shutil.copytree(Path(mtlcore.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_version(TRAINING_CODE, str(root)) == code_version(TRAINING_CODE)  # the copy hashes as the original
    base = code_version(TRAINING_CODE, str(root))
    models = root / "training" / "models.py"
    src = models.read_text()

    def edited(path, old, new):
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
        code_version.cache_clear()
        return code_version(TRAINING_CODE, str(root))

    # a docstring and a comment: same key
    assert edited(models, '"""Cross-entropy (classification)', '"""The loss. Cross-entropy (classification)') == base
    assert edited(models, "        kind = self.specs[task].kind\n", "        kind = self.specs[task].kind  # a comment\n") == base
    # a module moved to another folder, its importers updated: same key
    shutil.move(root / "training" / "weighting.py", root / "analysis" / "weighting.py")
    edited(root / "training" / "trainer.py", "from .weighting import", "from ..analysis.weighting import")
    assert edited(root / "training" / "config.py", "from .weighting import", "from ..analysis.weighting import") == base
    assert "analysis.weighting" in code_modules(TRAINING_CODE, root)
    # the loss itself: a new key
    models.write_text(src)
    code_version.cache_clear()
    assert code_version(TRAINING_CODE, str(root)) == base
    assert edited(models, "return F.cross_entropy(logits, labels)",
                  "return F.cross_entropy(logits, labels, label_smoothing=0.1)") != base
    # a module training never imports (a paper's) changes no training key; the reporting cache is not code
    code_version.cache_clear()
    assert "papers.wu2020.sentiment" not in code_modules(TRAINING_CODE, root)
    assert "reporting.cache" not in code_modules(("papers.wu2020.sentiment",), root)
    code_version.cache_clear()


def test_report_never_shows_an_old_verdict_for_a_failed_or_unfinished_notebook(tmp_path, monkeypatch):
    from mtlcore.reporting.pipeline import update_summary

    monkeypatch.setenv("MTLCORE_NOTEBOOK", "wu2020/b_f2_toy")
    record_claim(tmp_path, "B-F2", "paper says", "old numbers", {"x": True}, ["wu2020/fig.png"])
    profile = Profile(name="t")
    for status in ("failed", "running"):
        update_summary(tmp_path, [{"notebook": "wu2020/b_f2_toy", "status": status, "seconds": 1.0,
                                   "error": "ValueError: boom" if status == "failed" else "did not finish"}], profile)
        md, page = write_report(tmp_path, profile)
        text, mdtext = page.read_text(), md.read_text()
        row = next(line for line in mdtext.splitlines() if line.startswith("| B-F2 |"))
        assert ">failed</span>" in text and row.endswith("**failed** |")
        assert "old numbers" not in text and "fig.png" not in text
    update_summary(tmp_path, [{"notebook": "wu2020/b_f2_toy", "status": "ok", "seconds": 1.0, "error": ""}], profile)
    assert "old numbers" in write_report(tmp_path, profile)[1].read_text()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_pipeline_leaves_its_notebook_marked_running(tmp_path, jobs):
    """One at a time the pipeline marks the notebook itself; in parallel its worker tells the parent, which alone
    writes summary.json. Killed (the whole process group: pipeline, worker, kernel), the row says 'running'."""
    import os
    import signal
    import subprocess
    import sys

    slow = _notebook(tmp_path / "slow.py", "import time\ntime.sleep(120)\n")
    profile, results = tmp_path / "p.yaml", tmp_path / "res"
    profile.write_text("name: p\n")
    proc = subprocess.Popen([sys.executable, "-m", "mtlcore.reporting.pipeline", "--profile", str(profile), "--only", str(slow),
                             "--results", str(results), "--jobs", jobs], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    import time

    deadline = time.time() + 120
    while time.time() < deadline and not (results / "summary.json").is_file():
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    summary = json.loads((results / "summary.json").read_text())
    assert summary["notebooks"][0]["status"] == "running" and summary["failed"] == ["slow"]
    assert not (results / ".stamps/slow.json").exists()


def test_parallel_jobs_isolate_failures_and_share_threads(tmp_path, capsys):
    """--jobs 2: both notebooks run (each in its own process, with its share of the threads), a failing one is
    reported without stopping the other, the summary keeps both and the exit code is 1."""
    from mtlcore.machine import thread_share

    assert thread_share(2, cores=2) == 1 and thread_share(3, cores=16) == 5 and thread_share(4, cores=2) == 1
    good = _notebook(tmp_path / "good.py", "import os\nprint('threads', os.environ.get('OMP_NUM_THREADS'))\n")
    bad = _notebook(tmp_path / "bad.py", "raise ValueError('boom')\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\n")
    results = tmp_path / "res"
    rc = pipeline(["--profile", str(profile), "--only", str(bad), str(good), "--results", str(results),
                   "--jobs", "2", "--no-report"])
    assert rc == 1
    status = {r["notebook"]: r for r in json.loads((results / "summary.json").read_text())["notebooks"]}
    assert status["good"]["status"] == "ok" and status["bad"]["status"] == "failed" and "boom" in status["bad"]["error"]
    import os

    expected = str(thread_share(2))
    assert f"threads {expected}" in (results / "logs/good.log").read_text()
    with pytest.raises(SystemExit) as exit_:
        pipeline(["--profile", str(profile), "--only", str(good), "--results", str(results), "--jobs", "0"])
    assert exit_.value.code == 2
    out = capsys.readouterr().out
    assert "started good (log: " in out and "logs/good.log)" in out


def test_kernels_talk_over_unix_sockets_where_the_runtime_folder_leaves_room(monkeypatch):
    """IPC kernels (no TCP port, no ipykernel warning about unencrypted TCP) unless a socket's path would pass
    the 107-byte limit of Unix socket names; each kernel's sockets are named after its own connection file in
    the runtime folder (two kernels never share a name). The notebooks of the other tests here run through them."""
    from mtlcore.reporting.pipeline import _kernel_manager_class

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", "/tmp/" + "r" * 53)     # 58 bytes + "/kernel-<uuid>-ipc-1" (50) > 107
    assert _kernel_manager_class()().transport == "tcp"
    import shutil
    import tempfile

    runtime = tempfile.mkdtemp(prefix="rt", dir="/tmp")     # short: pytest's tmp_path may pass the limit
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", runtime)
    one, two = _kernel_manager_class()(), _kernel_manager_class()()
    assert one.transport == "ipc" and one.ip != two.ip
    one.write_connection_file()
    try:
        assert one.ip.startswith(f"{runtime}/kernel-") and one.ip.endswith("-ipc") and len(one.ip) + 2 <= 107
        assert one.connection_file == one.ip[:-len("-ipc")] + ".json"
    finally:
        one.cleanup_connection_file()
        shutil.rmtree(runtime)


def test_set_thread_vars_sets_each_variable_and_keeps_the_users_on_request():
    from mtlcore.machine import THREAD_VARS, set_thread_vars

    env = {"MKL_NUM_THREADS": "7"}
    set_thread_vars(3, env, keep=True)
    assert env == {"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "7", "OPENBLAS_NUM_THREADS": "3"}
    set_thread_vars(1, env)
    assert env == dict.fromkeys(THREAD_VARS, "1")


def test_auto_jobs_is_one_notebook_per_core_within_memory():
    from mtlcore.reporting.pipeline import NOTEBOOK_MEMORY_GB, auto_jobs

    assert auto_jobs(16, cores=2, memory_gb=24) == 2
    assert auto_jobs(1, cores=8, memory_gb=64) == 1                         # never more than the notebooks
    assert auto_jobs(16, cores=64, memory_gb=3 * NOTEBOOK_MEMORY_GB) == 3   # memory bounds it
    assert auto_jobs(16, cores=4, memory_gb=1) == 1                         # at least one


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_every_profile_entry_names_a_notebook_and_only_its_declared_parameters(name):
    """A typo in cpu.yaml / gpu.yaml (a notebook or parameter name) fails here, not an hour into a run."""
    import papermill as pm

    from mtlcore.training.config import TrainConfig
    from mtlcore.reporting.pipeline import discover, load_profile, notebook_name

    profile = load_profile(name)
    declared = {notebook_name(s): set(pm.inspect_notebook(str(s.with_suffix(".ipynb")))) for s in discover()}
    assert set(profile.notebooks) <= set(declared), sorted(set(profile.notebooks) - set(declared))
    for nb, params in declared.items():
        injected = profile.parameters(nb, params)
        assert set(injected) - {"profile"} <= params, (nb, sorted(set(injected) - params))
        if "train" in injected:
            TrainConfig.from_dict(injected["train"], source=f"{name}.yaml {nb}")   # validated as TrainConfig fields
        if "sentiment" in injected:
            from mtlcore.papers.wu2020.sentiment import SentimentConfig

            SentimentConfig(**injected["sentiment"])


def test_a_killed_worker_fails_only_its_own_notebook(tmp_path):
    """--jobs 2 with one notebook's process killed (SIGKILL of its worker): that notebook is failed, the others
    before and after it still run and succeed."""
    first = _notebook(tmp_path / "first.py", "print('first')\n")
    killer = _notebook(tmp_path / "killer.py", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    later = _notebook(tmp_path / "later.py", "print('later')\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\n")
    results = tmp_path / "res"
    rc = pipeline(["--profile", str(profile), "--only", str(first), str(killer), str(later),
                   "--results", str(results), "--jobs", "2", "--no-report"])
    status = {r["notebook"]: r for r in json.loads((results / "summary.json").read_text())["notebooks"]}
    assert rc == 1 and status["killer"]["status"] == "failed" and "process died" in status["killer"]["error"]
    assert all(status[n]["status"] == "ok" for n in ("first", "later")), status


def test_the_report_shows_only_current_complete_records(tmp_path, monkeypatch):
    """No summary.json: no verdict shown as current; a truncated claim file is named; a figure deleted since is
    listed as missing; a notebook that runs again and no longer records its item leaves no old verdict."""
    from mtlcore.reporting.claims import forget_claims, load_claims

    profile = Profile(name="t")
    monkeypatch.setenv("MTLCORE_NOTEBOOK", "wu2020/b_f2_toy")
    record_claim(tmp_path, "B-F2", "paper says", "old numbers", {"x": True}, ["wu2020/gone.png"])
    monkeypatch.setenv("MTLCORE_NOTEBOOK", "wu2020/b_p1_capacity")
    record_claim(tmp_path, "B-P1", "paper says", "p1 numbers", {"x": True})
    md, page = write_report(tmp_path, profile)                                # no summary.json at all
    row = next(line for line in md.read_text().splitlines() if line.startswith("| B-F2 |"))
    assert row.endswith("**not run** |") and "summary.json is missing" in row
    ok = [{"notebook": n, "status": "ok", "seconds": 1.0, "error": ""} for n in ("wu2020/b_f2_toy", "wu2020/b_p1_capacity")]
    update_summary(tmp_path, ok, profile)
    text = write_report(tmp_path, profile)[1].read_text()
    assert "old numbers" in text and "missing: wu2020/gone.png" in text and "<img src='wu2020/gone.png'" not in text
    (tmp_path / "claims/B-P1.json").write_text('{"item": "B-P1", "verd')     # truncated mid-write by hand
    assert load_claims(tmp_path)["B-P1"]["unreadable"]
    row = next(line for line in write_report(tmp_path, profile)[0].read_text().splitlines() if line.startswith("| B-P1 |"))
    assert "claims/B-P1.json cannot be read" in row and row.endswith("**failed** |")
    assert forget_claims(tmp_path, "wu2020/b_f2_toy") == ["B-F2"]             # the notebook starts again ...
    row = next(line for line in write_report(tmp_path, profile)[0].read_text().splitlines() if line.startswith("| B-F2 |"))
    assert row.endswith("**not run** |") and "old numbers" not in row        # ... and records nothing


def test_a_notebook_reading_through_pandas_reruns_when_that_file_changes(tmp_path, monkeypatch):
    """Reads are logged by an audit hook in the kernel, not only by mtlcore's readers."""
    data = tmp_path / "data"
    data.mkdir()
    table = data / "mine.csv"
    table.write_text("a,b\n1,2\n")
    monkeypatch.setenv("MTLCORE_DATA", str(data))
    reader = _notebook(tmp_path / "pandas_reader.py", f"import pandas as pd\nprint(pd.read_csv({str(table)!r}).a.sum())\n")
    profile, results = tmp_path / "p.yaml", tmp_path / "res"
    profile.write_text("name: p\n")
    args = ["--profile", str(profile), "--only", str(reader), "--results", str(results), "--no-report"]

    def status():
        assert pipeline(args) == 0
        return json.loads((results / "summary.json").read_text())["notebooks"][0]["status"]

    assert status() == "ok"
    assert list(json.loads((results / ".stamps/pandas_reader.json").read_text())["data"]) == [str(table.resolve())]
    assert status() == "up to date"
    table.write_text("a,b\n5,2\n")
    assert status() == "ok"


def test_a_second_pipeline_on_the_same_results_is_refused_naming_the_first(tmp_path, capsys):
    from mtlcore._io import FolderLock

    nb = _notebook(tmp_path / "nb.py", "print(value)\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\n")
    results = tmp_path / "r"
    with FolderLock(results / ".stamps" / "pipeline"):   # a first pipeline, still running
        rc = pipeline(["--profile", str(profile), "--only", str(nb), "--results", str(results), "--no-report",
                       "--jobs", "1"])
        assert rc == 2 and "another pipeline (" in capsys.readouterr().err
        assert not (results / "summary.json").exists() and not (results / "nb.ipynb").exists()
    assert pipeline(["--profile", str(profile), "--only", str(nb), "--results", str(results), "--no-report",
                     "--jobs", "1"]) == 0
    assert not (results / ".stamps" / "pipeline.lock").exists()


def test_report_says_in_plain_words_what_each_deciding_condition_rests_on():
    from mtlcore.reporting.report import plain_words, run_of

    claim = {"conditions": [
        {"name": "MTL - STL (points)", "core": True, "interval": {"estimate": -3.6, "low": -10.5, "high": 3.2, "n": 3},
         "threshold": -2.0, "above": True, "status": "straddles"},
        {"name": "gain", "core": True, "interval": {"estimate": 0.02, "low": 0.01, "high": 0.04, "n": 180},
         "threshold": 0.0, "above": True, "status": "holds"},
        {"name": "throughput", "core": True, "interval": None, "detail": "ratio 5.79 vs 4.80", "status": "holds"},
        {"name": "pairs", "core": True, "interval": None, "blocked": "pairs not run", "status": "blocked"},
        {"name": "side note", "core": False, "interval": None, "status": "holds"}],
        "provenance": {"git_commit": "0123456789abcdef+dirty"}}
    assert plain_words(claim) == [
        "MTL - STL (points): -3.6; the 95% interval [-10.5, +3.2] over n=3 includes -2: too wide to decide.",
        "gain: +0.02; the 95% interval [+0.01, +0.04] over n=180 lies at or above +0: holds.",
        "throughput: ratio 5.79 vs 4.80, so it holds.",
        "pairs: not judged (pairs not run)."]
    assert run_of(claim) == "commit 0123456789 (uncommitted changes)" and plain_words({}) == []


def test_parallel_runs_start_the_longest_notebooks_first(tmp_path):
    from mtlcore.reporting.pipeline import NOTEBOOKS, longest_first

    names = ["paper_a/a_data", "paper_a/a_f4_explanation", "paper_a/a_t1_families", "wu2020/b_f2_toy"]
    sources = [NOTEBOOKS / f"{n}.py" for n in names]
    assert longest_first(sources, tmp_path) == sorted(sources)          # no summary yet: name order
    (tmp_path / "summary.json").write_text(json.dumps({"notebooks": [
        {"notebook": "paper_a/a_data", "seconds": 13.0},
        {"notebook": "paper_a/a_f4_explanation", "seconds": 0.1, "ran_seconds": 3900.0},   # up to date last time
        {"notebook": "paper_a/a_t1_families", "seconds": 2900.0}]}))
    order = [s.relative_to(NOTEBOOKS).with_suffix("").as_posix() for s in longest_first(sources, tmp_path)]
    assert order == ["wu2020/b_f2_toy", "paper_a/a_f4_explanation", "paper_a/a_t1_families", "paper_a/a_data"]


def test_written_files_show_their_names_and_stay_paths(tmp_path):
    """write_csv's and save_figure's values are what a notebook cell shows: file names, not the machine's paths;
    write_csv's is a Path in every way, and paths derived from it are plain paths."""
    import pandas as pd
    from pathlib import Path

    from mtlcore._io import SavedPath, atomic_write_csv

    p = atomic_write_csv(tmp_path / "t.csv", pd.DataFrame({"a": [1, 2]}))
    assert isinstance(p, SavedPath) and repr(p) == "saved t.csv" and p == tmp_path / "t.csv"
    assert p.read_text() == "a\n1\n2\n" and str(p) == str(tmp_path / "t.csv")
    for derived in (p.parent, p.with_suffix(".txt"), p / "x", p.parents[0]):
        assert type(derived) is type(Path()) and str(tmp_path) in repr(derived)


def test_overwrite_replaces_only_a_folder_of_the_same_kind(tmp_path):
    from mtlcore._io import atomic_folder

    out = tmp_path / "out"
    with atomic_folder(out, marker="done.json") as part:
        (part / "done.json").write_text("{}")
    with pytest.raises(FileExistsError, match="pass --overwrite"):
        with atomic_folder(out, marker="done.json"):
            pass
    with atomic_folder(out, overwrite=True, marker="done.json") as part:
        (part / "done.json").write_text("[]")
    assert (out / "done.json").read_text() == "[]" and not (tmp_path / "out.partial").exists()
    other = tmp_path / "data"
    other.mkdir()
    (other / "precious.csv").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder this command wrote"):
        with atomic_folder(other, overwrite=True, marker="done.json"):
            pass
    assert (other / "precious.csv").is_file()
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "failed") as part:
            (part / "half.json").write_text("{")
            raise RuntimeError("boom")
    assert not (tmp_path / "failed").exists() and not (tmp_path / "failed.partial").exists()
