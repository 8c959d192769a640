"""Which of my tasks can share one model? `python -m mtlcore affinity`, predicted from short probes.

    python -m mtlcore affinity --tasks radiology/lumbar/disc_bulge,radiology/lumbar/herniation,glue/cola --out runs/aff
    python -m mtlcore affinity --tasks my_tasks.yaml --max-groups 2 --out runs/aff2

For k tasks it trains (through the training cache) a short single-task probe per task and one short multi-task
probe over all of them (`--probe-examples` training examples per task, one epoch: a fraction of an epoch of a
real run), then measures for every pair (i, j):

- `lookahead`: Fifty et al. 2021's inter-task affinity (`mtlcore.analysis.affinity.lookahead_affinity`) on the
  multi-task probe, both directions, averaged over `--records` fresh training batches (taken at the probe's
  end, from its cached checkpoint, with the probe's learning rate; TAG averages over training instead);
- `gradient_cosine`: the cosine of the two tasks' loss gradients on the shared encoder (Paper A's A-F3), on
  the same batches;
- `cka`: linear CKA between the two single-task probes' hidden states on one pooled set of texts (up to 64
  dev texts of each task), averaged over the transformer layers (Paper A's A-F2);
- `covariance`: Wu, Zhang & Re's covariance similarity (eq. 5, normalised) of the tasks' training inputs
  embedded by the pretrained encoder.

`combined` is their mean after standardising each over the pairs (`combine_signals`; a signal too flat over the
pairs to rank them is left out and named): it ranks the pairs of this task set (0 = its average pair), it cannot
say that any pair helps. So the grouping rests on the one signal whose 0 means "no transfer", the look-ahead
affinity: it maximises the look-ahead affinity summed over the ordered pairs within each group (TAG's signal;
`best_grouping`, at most `--max-groups` groups; tasks share a model only where that is predicted to help). Which of
these signals carries information at our scale is what `notebooks/affinity` is to measure against real
MTL - STL gaps; until then the recommendation is a prediction, and the printed evidence says what it rests on.

Writes into `--out` (built beside it, renamed when complete): `affinity.json` (every signal, the grouping, the
probes' dev scores and the settings), `affinity_pairs.csv` and `affinity.png` / `.pdf` (heatmaps).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..reporting.cache import run_seconds

SIGNALS = ("lookahead", "gradient_cosine", "cka", "covariance")
MARKER = "affinity.json"   # every advisor folder has it (what --overwrite may replace)


@dataclass
class Advice:
    tasks: list[str]
    signals: dict[str, np.ndarray]            # name -> (k x k); lookahead is directed (row i onto column j)
    combined: np.ndarray                      # (k x k) symmetric
    used: list[str]                           # the signals that entered `combined`
    groups: list[list[str]]
    score: float
    method: str
    probes: dict[str, float] = field(default_factory=dict)   # dev score of each probe ("stl:<task>", "mtl:<task>")
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    def pairs(self):
        """A pandas table, one row per pair i < j, strongest combined affinity first."""
        import pandas as pd

        rows = []
        for i, j in itertools.combinations(range(len(self.tasks)), 2):
            la = self.signals["lookahead"]
            rows.append({"task_i": self.tasks[i], "task_j": self.tasks[j], "lookahead_i_to_j": la[i, j],
                         "lookahead_j_to_i": la[j, i], "gradient_cosine": self.signals["gradient_cosine"][i, j],
                         "cka": self.signals["cka"][i, j], "covariance": self.signals["covariance"][i, j],
                         "combined": self.combined[i, j],
                         "same_group": any(self.tasks[i] in g and self.tasks[j] in g for g in self.groups)})
        return pd.DataFrame(rows).sort_values("combined", ascending=False, ignore_index=True)

    def to_json(self) -> dict:
        return {"tasks": self.tasks, "groups": self.groups, "score": self.score, "method": self.method,
                "signals": {k: v.tolist() for k, v in self.signals.items()}, "combined": self.combined.tolist(),
                "combined_from": self.used,
                "probes": self.probes, "seconds": round(self.seconds, 1), "settings": self.settings}


def probe_config(tasks: Sequence[str], mode: str, probe_examples: int = 256, encoder: str = "minilm-l6",
                 seed: int = 0, progress: bool = True, **overrides):
    """The probes' training config: one epoch over `probe_examples` training examples per task, dev capped at
    200 examples, heads at lr 1e-3 with class-balanced losses (the cpu profile's recipe, issue 20)."""
    from ..training.config import TrainConfig

    return TrainConfig(tasks=list(tasks), mode=mode, encoder=encoder, max_train=probe_examples, max_eval=200,
                       epochs=1, head_lr=1e-3, class_weights="balanced", seed=seed, progress=progress,
                       save_checkpoint=True, **overrides)


def _batches(cfg, tokenizer, records: int, seed: int) -> list[dict[str, dict]]:
    """`records` training batches per task ({task: collated batch}); tasks of one input group get the same rows."""
    from ..training import batching

    data = batching.prepare_split(cfg, tokenizer, "train")
    out = []
    for r in range(records):
        batch = {}
        for task, enc in data.items():
            rng = np.random.default_rng([seed, r, 11])
            index = rng.choice(len(enc.labels), size=min(cfg.batch_size, len(enc.labels)), replace=False)
            batch[task] = batching.collate(enc, index, tokenizer.pad_token_id or 0)
        out.append(batch)
    return out


def _mtl_signals(cfg, records: int) -> dict[str, np.ndarray]:
    """Look-ahead affinity and gradient cosines on the cached MTL probe, averaged over `records` batches."""
    from ..analysis.affinity import lookahead_affinity
    from ..analysis.gradients import task_gradient_cosines, task_gradients
    from ..reporting.cache import cached_train
    from ..training.encoders import load_tokenizer

    model = cached_train(cfg, need_models=True).models["mtl"].eval()
    look, cos = [], []
    for batch in _batches(cfg, load_tokenizer(cfg.encoder), records, cfg.seed):
        grads = task_gradients(model, batch)
        cos.append(task_gradient_cosines(model, batch, per_layer=False, gradients=grads).overall)
        look.append(lookahead_affinity(model, batch, cfg.lr, gradients=grads))
    return {"lookahead": np.mean(look, axis=0), "gradient_cosine": np.mean(cos, axis=0)}


def _pooled_texts(tasks: Sequence[str], per_task: int = 64) -> list:
    from ..tasks import load_task

    texts: list = []
    for t in tasks:
        splits = load_task(t)
        split = splits.get("dev") or splits["train"]
        texts += [x for x in split.texts[:per_task] if x not in texts]
    return texts


def _cka(cfg) -> np.ndarray:
    """(k x k) mean over transformer layers of the layer-matched linear CKA between the STL probes."""
    from ..papers.paper_a.probes import layer_cka
    from ..reporting.cache import cached_train
    from ..training.encoders import load_tokenizer

    models = cached_train(cfg, need_models=True).models
    tokenizer, texts = load_tokenizer(cfg.encoder), _pooled_texts(cfg.tasks)
    # a pair of tasks whose texts are sentence pairs and single sentences cannot share inputs: each model reads
    # its own task's fields, so the pooled set keeps the first text of each example
    texts = [t[0] if isinstance(t, tuple) else t for t in texts]
    feats = {t: m.layer_features(tokenizer, texts, 64, cfg.max_length) for t, m in models.items()}
    k = len(cfg.tasks)
    out = np.eye(k)
    for i, j in itertools.combinations(range(k), 2):
        per_layer = layer_cka(feats[cfg.tasks[i]], feats[cfg.tasks[j]], diagonal=True)
        out[i, j] = out[j, i] = float(np.mean(per_layer[1:]))
    return out


def _covariance(tasks: Sequence[str], encoder: str, max_length: int, n: int = 256) -> np.ndarray:
    """(k x k) normalised eq. 5 covariance similarity of the tasks' training inputs (pretrained encoder)."""
    from ..analysis.covariance import covariance_similarity
    from ..tasks import load_task
    from ..training.encoders import load_encoder
    from ..training.models import MultiTaskModel

    enc, tok = load_encoder(encoder, seed=0)
    model = MultiTaskModel(enc, [tasks[0]], "mean", 0.0, encoder_name=encoder).eval()
    feats = {}
    for t in tasks:
        texts = load_task(t)["train"].texts[:n]
        feats[t] = model.layer_features(tok, texts, 64, max_length)[-1]
    k = len(tasks)
    out = np.eye(k)
    for i, j in itertools.combinations(range(k), 2):
        out[i, j] = out[j, i] = covariance_similarity(feats[tasks[i]], feats[tasks[j]])
    return out


def advise(tasks: Sequence[str], max_groups: int | None = None, probe_examples: int = 256, records: int = 4,
           encoder: str = "minilm-l6", seed: int = 0, progress: bool = True) -> Advice:
    """Train (or read from the cache) the probes of `tasks` and return the pairwise evidence and the grouping."""
    from ..analysis.affinity import best_grouping, combine_signals
    from ..reporting.cache import cached_train

    tasks = list(tasks)
    if len(tasks) < 2:
        raise ValueError(f"--tasks: affinity needs at least 2 tasks, got {tasks}")
    t0 = time.perf_counter()
    stl, mtl = (probe_config(tasks, m, probe_examples, encoder, seed, progress) for m in ("stl", "mtl"))
    dev, train_seconds = {}, 0.0
    for cfg in (stl, mtl):
        run = cached_train(cfg)
        for t, row in (run.metrics.get("tasks") or {}).items():
            dev[f"{cfg.mode}:{t}"] = round(float(row["score"]), 4)
        train_seconds += run_seconds(run.folder)
    t1 = time.perf_counter()
    signals = {**_mtl_signals(mtl, records), "cka": _cka(stl), "covariance": _covariance(tasks, encoder, stl.max_length)}
    signal_seconds = time.perf_counter() - t1
    combined, used = combine_signals({k: signals[k] for k in SIGNALS})
    idx, score, method = best_grouping(signals["lookahead"], max_groups)
    # the probes' cost whether they came from the cache or not: their recorded training time + the signals' time
    settings = {"probe_examples": probe_examples, "records": records, "encoder": encoder, "seed": seed,
                "max_groups": max_groups, "lookahead_lr": mtl.lr, "probe_train_seconds": round(train_seconds, 1),
                "signal_seconds": round(signal_seconds, 1), "probe_config": stl.to_dict()}
    return Advice(tasks, signals, combined, used, [[tasks[i] for i in g] for g in idx], score, method, dev,
                  time.perf_counter() - t0, settings)


def figure(advice: Advice):
    import matplotlib.pyplot as plt
    import seaborn as sns

    short = [t.split("/")[-1] for t in advice.tasks]
    # (title, matrix, colour map options, annotation format); diagonals (a task with itself) are left blank
    panels = [(f"combined ({', '.join(advice.used) or 'none'})", advice.combined, {"cmap": "vlag", "center": 0}, ".2f"),
              ("look-ahead affinity i -> j", advice.signals["lookahead"], {"cmap": "vlag", "center": 0}, ".1e"),
              ("gradient cosine", advice.signals["gradient_cosine"], {"cmap": "vlag", "vmin": -1, "vmax": 1}, ".2f"),
              ("STL probes' CKA", advice.signals["cka"], {"cmap": "Blues", "vmin": 0, "vmax": 1}, ".2f"),
              ("covariance similarity", advice.signals["covariance"], {"cmap": "Blues", "vmin": 0, "vmax": 1}, ".2f")]
    k = len(advice.tasks)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 1, 0.45 * k + 2.6))
    for ax, (title, m, colours, fmt) in zip(axes, panels):
        sns.heatmap(m, ax=ax, mask=np.eye(k, dtype=bool), annot=k <= 8, fmt=fmt, xticklabels=short,
                    yticklabels=short, cbar=False, square=True, annot_kws={"size": 8}, **colours)
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=8)
    groups = "; ".join("{" + ", ".join(t.split("/")[-1] for t in g) + "}" for g in advice.groups)
    fig.suptitle(f"Task affinity from probes: recommended groups {groups} (from the look-ahead affinity)", fontsize=11)
    fig.tight_layout()
    return fig


def write_advice(advice: Advice, out: str | Path, overwrite: bool = False) -> Path:
    """affinity.json, affinity_pairs.csv and affinity.png/.pdf into `out`, built beside it and renamed."""
    import matplotlib.pyplot as plt

    from .._io import atomic_folder, atomic_save_figure, atomic_write_csv, atomic_write_json

    with atomic_folder(out, overwrite, marker=MARKER) as partial:
        atomic_write_json(partial / "affinity.json", advice.to_json())
        atomic_write_csv(partial / "affinity_pairs.csv", advice.pairs())
        fig = figure(advice)
        atomic_save_figure(fig, partial / "affinity")
        plt.close(fig)
    return out


def render(advice: Advice) -> str:
    """The recommendation and its evidence as text for the terminal."""
    import pandas as pd

    lines = [f"recommended grouping ({advice.method}, at most {advice.settings.get('max_groups') or len(advice.tasks)}"
             f" groups; look-ahead affinity summed within groups {advice.score:+.3g}, 0 = every task alone):"]
    lines += [f"  model {n}: {', '.join(g)}" for n, g in enumerate(advice.groups, 1)]
    table = advice.pairs().drop(columns="same_group")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3g}".format):
        flat = [x for x in SIGNALS if x not in advice.used]
        lines += ["", "evidence per pair (higher = more affinity; combined = mean of the standardised "
                  f"{', '.join(advice.used) or 'signals (none usable)'}"
                  + (f"; too flat over the pairs to rank them: {', '.join(flat)}" if flat else "") + "):",
                  table.to_string(index=False)]
    lines += ["", "probe dev scores: " + ", ".join(f"{k} {v:.3f}" for k, v in advice.probes.items()),
              f"({advice.seconds:.0f} s, probes of {advice.settings['probe_examples']} examples per task, one epoch; "
              "the combined score ranks pairs within this task set and is a prediction, not a measured gap)"]
    return "\n".join(lines)


def main_affinity(args) -> int:
    """The `python -m mtlcore affinity` command (arguments parsed by mtlcore.__main__)."""
    from ..tasks.check import expand_task_names

    tasks = expand_task_names([args.tasks])
    from .._io import check_out_folder

    out = check_out_folder(args.out, args.overwrite, MARKER)   # before any probe trains
    advice = advise(tasks, args.max_groups, args.probe_examples, args.records, args.encoder, args.seed,
                    progress=args.progress)
    write_advice(advice, out, args.overwrite)
    print(render(advice))
    print(f"\nwritten: {out}/affinity.json, affinity_pairs.csv, affinity.png, affinity.pdf")
    return 0
