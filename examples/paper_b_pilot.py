"""Paper B's pilot (issue 21): sizes and costs for the cpu profile, on DEV scores and pilot seeds (100+) that the
deciding runs do not use.

    python examples/paper_b_pilot.py --stage glue --recipe '{"max_train": 300, "epochs": 3}'
    python examples/paper_b_pilot.py --stage sentiment      # seconds per sentiment model, trained vs frozen vectors

glue: one all-five MTL model (B-F5a's phase 1, issue 20's recipe) per pilot seed, its dev score per task beside the
majority floor and TF-IDF on the same dev examples, and the guard's line on dev; the time of one phase-1 run.
sentiment: the time of the STL and MTL models that B-F5b, B-F6 and B-F7 train, at the cpu sizes.
Rows go to results/pilot/paper_b_pilot.csv.
"""
from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from mtlcore import TrainConfig, cached_train, repo_path, verdicts, write_csv
from mtlcore.papers.wu2020.glue_alignment import GLUE_FIVE, heldout, phase1_config

OUT = repo_path("results/pilot/paper_b_pilot.csv")
GLUE_BASE = {"encoder": "minilm-l6", "max_eval": 150, "lr": 5e-5, "head_lr": 3e-3, "class_weights": "balanced",
             "precision": "fp32"}


def _save(rows: list[dict]) -> None:
    old = pd.read_csv(OUT) if OUT.is_file() else pd.DataFrame()
    write_csv(OUT, pd.concat([old, pd.DataFrame(rows)], ignore_index=True))


def glue(recipe: dict, seeds: list[int]) -> None:
    from mtlcore.training.baselines import reference_scores

    base = TrainConfig.from_dict({**GLUE_BASE, **recipe}, source="--recipe")
    rows = []
    for seed in seeds:
        cfg = phase1_config(base, GLUE_FIVE, seed).replace(save_checkpoint=False)
        t0 = time.perf_counter()
        m = cached_train(cfg).metrics
        seconds = time.perf_counter() - t0
        scores, floor, tfidf = {}, {}, {}
        for task in GLUE_FIVE:
            name = heldout(task)
            ref = reference_scores(name, base.max_train, which=["majority", "tfidf"], max_eval=base.max_eval)
            scores[name], floor[name], tfidf[name] = (100 * m["tasks"][name]["score"], 100 * ref["majority"]["dev"],
                                                      100 * ref["tfidf"]["dev"])
            rows.append({"stage": "glue", "seed": seed, "task": task, "dev": scores[name], "floor": floor[name],
                         "tfidf": tfidf[name], "seconds": round(seconds, 1), "recipe": json.dumps(recipe)})
        g = verdicts.guard("mtl (dev)", "glue", scores, floor, tfidf)
        print(f"seed {seed} {json.dumps(recipe)}: {g.describe()} ({seconds:.0f} s)", flush=True)
    _save(rows)


def sentiment() -> None:
    from mtlcore.papers.wu2020.sentiment import SentimentConfig, train_sentiment

    tasks = ("senteval/sst", "senteval/mr", "senteval/cr", "senteval/subj", "senteval/mpqa", "senteval/trec")
    rows = []
    for vectors in (True, False):
        for label, cfg in (("STL MR", SentimentConfig(tasks=("senteval/mr",))),
                           ("MTL pair", SentimentConfig(tasks=tasks[:2])),
                           ("MTL six", SentimentConfig(tasks=tasks))):
            for hidden in (100, 500) if label != "MTL pair" else (100,):
                c = cfg.replace(max_train=500, max_eval=500, epochs=6, hidden=hidden, seed=100,
                                train_vectors=vectors)
                t0 = time.perf_counter()
                r = train_sentiment(c)
                seconds = time.perf_counter() - t0
                print(f"{label} hidden {hidden} {'trained' if vectors else 'frozen'} vectors: {seconds:.1f} s, "
                      f"mean dev {sum(r['dev'].values()) / len(r['dev']):.3f}", flush=True)
                rows.append({"stage": "sentiment", "model": label, "hidden": hidden, "train_vectors": vectors,
                             "seconds": round(seconds, 1), "dev": sum(r["dev"].values()) / len(r["dev"])})
    _save(rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--stage", choices=["glue", "sentiment"], required=True)
    p.add_argument("--recipe", default='{"max_train": 300, "epochs": 3}', help="JSON of TrainConfig fields")
    p.add_argument("--seeds", type=int, nargs="+", default=[100])
    args = p.parse_args()
    if args.stage == "glue":
        glue(json.loads(args.recipe), args.seeds)
    else:
        sentiment()


if __name__ == "__main__":
    main()
