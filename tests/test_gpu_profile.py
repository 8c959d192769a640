"""The gpu profile end to end at smoke sizes: its own module (make test's longest test, ~5 min), so that make test's
xdist workers start it first while the other worker takes the rest (tests/conftest.py orders it first)."""
import json

from mtlcore.reporting.pipeline import main as pipeline
from mtlcore.training.config import Profile


# The gpu profile's sizes, shrunk to smoke sizes; everything else (task lists, corpora, seed lists' roles,
# ranks, capacities, max_length) is the gpu profile's own, so its structure runs on a CPU in minutes.
GPU_AT_SMOKE_SIZES = {
    "wu2020/b_f2_toy": {"n_seeds": 4},
    "wu2020/b_f3_transfer": {"d": 20, "target_samples": [10, 30], "source_counts": [20, 60, 200], "n_seeds": 2,
                             "nonlinear_d": 20, "nonlinear_counts": [10, 80], "nonlinear_seeds": 1},
    "wu2020/b_p1_capacity": {"d": 20, "samples": 30, "n_seeds": 2, "restarts": 2},
    "wu2020/b_p3_reweighting": {"n_seeds": 2, "samples": [80, 300]},
    "wu2020_text/b_f5b_alignment_transfer": {"seeds": [0, 1], "sentiment": {"max_train": 32, "max_eval": 32,
                                             "epochs": 1}, "source_max_train": 64, "source_epochs": 1,
                                             "target_epochs": 1},
    "wu2020_text/b_f6_capacity": {"seeds": [0, 1], "sentiment": {"max_train": 32, "max_eval": 32, "epochs": 1,
                                                                 "device": "auto"},
                                  "tasks": "senteval/sst,senteval/mr,senteval/trec", "hidden_sizes": [5, 10, 25]},
    "wu2020_text/b_f7_covariance_alignment": {"seeds": [0, 1], "sentiment": {"max_train": 32, "max_eval": 32,
                                                                             "epochs": 1, "hidden": 20,
                                                                             "device": "auto"}, "phase2_epochs": 1,
                                              "tasks": "senteval/sst,senteval/mr,senteval/trec"},
    "wu2020_text/b_f5a_glue_pairs": {"seeds": [0, 1], "pair_seeds": [0, 1], "train": {"encoder": "tiny-bert"},
                                     "phase2_epochs": 1},
    "wu2020_text/b_t1_svd_reweighting": {"encoder": "tiny-bert", "seeds": [0, 1], "model": {"hidden": 16, "epochs": 2,
                                         "lr": 0.003, "batch_size": 128}, "train_sizes": [50, None]},
    "paper_a/a_t1_families": {"efficiency_texts": 64},
    "paper_a/a_f4_explanation": {"pair_seeds": [0]},
    "affinity/advisor_validation": {"pair_seeds": [0], "probe_examples": 16, "records": 1, "mixed_seeds": [0, 1],
                                    "mixed_tasks": ["radiology/lumbar/disc_bulge", "radiology/openi/opacity",
                                                    "glue/sst2"]},
}


# Notebooks whose gpu parameters are sizes only: shrunk to smoke sizes they run what nbval runs in `make test`
# (b_f3's counts are the shrunk lists above, b_f2's a seed count, the quickstart has no gpu entry), so this test
# leaves them out for make test's time (~70 s).
SIZES_ONLY = {"00_quickstart", "wu2020/b_f2_toy", "wu2020/b_f3_transfer"}


GROUPED = {"paper_a/a_f4_explanation", "affinity/advisor_validation"}


def gpu_at_smoke_sizes() -> "Profile":
    from mtlcore.reporting.pipeline import load_profile

    gpu = load_profile("gpu")
    notebooks = {name: {**params, **GPU_AT_SMOKE_SIZES.get(name, {})} for name, params in gpu.notebooks.items()}
    for name, params in notebooks.items():   # Paper A: 3 of the gpu profile's lumbar and Open-i tasks (make test's
        keep = 4 if name in GROUPED else 3   # time); A-F4 and the advisor 4 + 4: their criteria need 15 groups
        for key in ("lumbar_tasks", "openi_tasks"):
            if len(params.get(key, [])) > keep:
                params[key] = params[key][:keep]
    return Profile(name="gpu-at-smoke-sizes", description="the gpu profile at smoke sizes (a test)", seeds=[0, 1],
                   train={**gpu.train, "encoder": "tiny-bert", "max_train": 32, "max_eval": 32, "epochs": 1},
                   notebooks=notebooks)


def test_the_gpu_profile_runs_end_to_end_at_smoke_sizes(tmp_path, monkeypatch):
    """Every notebook with the gpu profile's parameters (Open-i tasks, both adapter corpora, all contrast pairs,
    its ranks and capacities, 2 seeds) at smoke sizes on the tiny encoder: a gpu run cannot fail on something a
    CPU could have found. Each shrunk size is listed in GPU_AT_SMOKE_SIZES or `gpu_at_smoke_sizes` (3 of the 6
    lumbar and 3 of the 10 Open-i tasks, 4 and 4 for A-F4); the notebooks whose gpu parameters are sizes only (SIZES_ONLY) run in
    nbval."""
    from mtlcore.reporting.pipeline import discover, notebook_name

    profile = gpu_at_smoke_sizes()
    assert set(GPU_AT_SMOKE_SIZES) <= set(profile.notebooks)  # no shrink entry for a notebook gpu.yaml lacks
    assert not SIZES_ONLY - {notebook_name(nb) for nb in discover()}
    path = tmp_path / "gpu_at_smoke_sizes.yaml"
    profile.to_yaml(path)
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    run = [str(nb) for nb in discover() if notebook_name(nb) not in SIZES_ONLY]
    rc = pipeline(["--profile", str(path), "--results", str(results), "--jobs", "2", "--only", *run])
    summary = json.loads((results / "summary.json").read_text())
    failed = {r["notebook"]: r.get("error", "") for r in summary["notebooks"] if r["status"] != "ok"}
    assert rc == 0 and not failed, failed
    assert (results / "report.html").is_file()
    assert len(summary["notebooks"]) == len(run)
    # what a reader of the executed notebooks sees: each figure inline, no machine's paths, no avoidable warning
    from mtlcore._io import REPO_ROOT

    for nb in discover():
        name = notebook_name(nb)
        if name in SIZES_ONLY:
            continue
        outputs = [o for c in json.loads((results / f"{name}.ipynb").read_text())["cells"] for o in c.get("outputs", [])]
        shown = json.dumps([{k: v for k, v in o.items() if k != "data"} | {"data": {k: v for k, v in o.get(
            "data", {}).items() if not k.startswith("image/")}} for o in outputs])
        for bad in (str(REPO_ROOT), str(tmp_path), "IProgress", "FutureWarning", "LOAD REPORT"):
            assert bad not in shown, f"{name}: its outputs show {bad!r}"
        if "save_figure(" in nb.read_text():
            assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no inline figure"
