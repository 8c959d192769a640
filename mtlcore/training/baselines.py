"""Reference rows: what a classification task scores without fine-tuning, on the same examples.

    scores = reference_scores("radiology/lumbar/disc_bulge", max_train=None, encoder="minilm-l6")
    # {"majority": {"dev": .., "test": ..}, "tfidf": {...}, "probe": {...}}  (the task's own metric, 0..1)

- `majority`: every example gets the most frequent training class (the floor a model that learned
  nothing reaches).
- `tfidf`: TF-IDF of word 1-2 grams + class-balanced logistic regression (PAPERS.md's reference for the
  learned-model guard).
- `probe`: the frozen pretrained encoder's mean-pooled last hidden state + class-balanced logistic
  regression (a fine-tuned model that loses to it has a broken recipe).
The logistic regressions' inverse regularisation C is chosen on dev from `C_GRID` (the best dev score, ties
to the smaller C); the scores reported are of that model. Examples are the run's: the same `subset` of
train (`max_train`), dev and test (`max_eval`) as `prepare_split`, so a reference and a family see the same data.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..analysis.metrics import task_metrics, task_score
from ..tasks import get_task, load_task
from .batching import subset

REFERENCES = ("majority", "tfidf", "probe")
C_GRID = (0.1, 1.0, 10.0)


def _texts(examples) -> list[str]:
    return [" [SEP] ".join(t) for t in examples.texts]


def _score(spec, labels: np.ndarray, pred: np.ndarray) -> float:
    """The task's score of hard predictions (one-hot logits, so threshold metrics see the predicted class)."""
    onehot = np.eye(spec.num_outputs)[pred]
    return task_score(task_metrics("classification", spec.metrics, labels, onehot), spec.metrics)


def logistic_on_dev(spec, x_train, y_train, x_dev, y_dev, balanced: bool = True):
    """(dev score, C, fitted LogisticRegression): the C of `C_GRID` whose model scores best on dev (ties to the
    smaller C), class-balanced unless `balanced` is False. Training needs >= 2 classes."""
    from sklearn.linear_model import LogisticRegression

    best = None
    for c in C_GRID:
        clf = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
        clf.fit(x_train, y_train)
        dev = _score(spec, y_dev, clf.predict(x_dev))
        if best is None or dev > best[0]:
            best = (dev, c, clf)
    return best


def _fit_on_dev(spec, x_train, y_train, x_dev, y_dev, x_test, y_test) -> dict[str, float]:
    classes = np.unique(y_train)
    if len(classes) < 2:   # one class in training (tiny subsets): no classifier to fit, it predicts that class
        return {s: _score(spec, y, np.full(len(y), classes[0])) for s, y in (("dev", y_dev), ("test", y_test))
                if y is not None}
    dev, c, clf = logistic_on_dev(spec, x_train, y_train, x_dev, y_dev)
    return {"dev": dev, "C": c, **({} if x_test is None else {"test": _score(spec, y_test, clf.predict(x_test))})}


def reference_scores(task: str, max_train: int | None = None, encoder: str = "minilm-l6", max_length: int = 128,
                     which: Sequence[str] = REFERENCES, batch_size: int = 64,
                     max_eval: int | None = None) -> dict[str, dict[str, float]]:
    """{reference: {"dev": score, "test": score[, "C": chosen C]}} of one classification task, on the examples a
    run with the same `max_train` / `max_eval` sees (`subset` of each split); a task without a test split gets
    dev scores only (the guard of a contrast task is on dev, where C is chosen too)."""
    unknown = [w for w in which if w not in REFERENCES]
    if unknown:
        raise ValueError(f"unknown reference(s) {unknown}; known: {list(REFERENCES)}")
    spec = get_task(task)
    if spec.kind != "classification":
        raise ValueError(f"reference_scores: task {task!r} is {spec.kind}; reference rows are for classification")
    splits = load_task(task)
    missing = [s for s in ("train", "dev") if s not in splits]
    if missing:
        raise ValueError(f"reference_scores: task {task!r} has no {'/'.join(missing)} split")
    parts = {"train": subset(splits["train"], max_train), "dev": subset(splits["dev"], max_eval)}
    if "test" in splits:   # a task without one (GLUE's hidden test) gets dev scores only
        parts["test"] = subset(splits["test"], max_eval)
    train, dev, test = parts["train"], parts["dev"], parts.get("test")
    y = {name: np.asarray(ex.labels, dtype=np.int64) for name, ex in parts.items()}
    scored = [s for s in ("dev", "test") if s in parts]
    out: dict[str, dict[str, float]] = {}
    if "majority" in which:
        top = int(np.bincount(y["train"], minlength=spec.num_outputs).argmax())
        out["majority"] = {s: _score(spec, y[s], np.full(len(y[s]), top)) for s in scored}
    if "tfidf" in which:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        x_train = vec.fit_transform(_texts(train))
        out["tfidf"] = _fit_on_dev(spec, x_train, y["train"], vec.transform(_texts(dev)), y["dev"],
                                   None if test is None else vec.transform(_texts(test)), y.get("test"))
    if "probe" in which:
        feats = _frozen_features(task, encoder, parts, max_length, batch_size)
        mean, sd = feats["train"].mean(0), feats["train"].std(0) + 1e-6   # standardised on train
        z = {s: (f - mean) / sd for s, f in feats.items()}
        out["probe"] = _fit_on_dev(spec, z["train"], y["train"], z["dev"], y["dev"], z.get("test"), y.get("test"))
    return out


def _frozen_features(task: str, encoder: str, splits: dict, max_length: int, batch_size: int) -> dict[str, np.ndarray]:
    """{split: (n, hidden)} mean-pooled last hidden state of the pretrained encoder (no fine-tuning)."""
    from .encoders import load_encoder
    from .models import MultiTaskModel

    enc, tok = load_encoder(encoder, seed=0)
    model = MultiTaskModel(enc, [task], "mean", 0.0, encoder_name=encoder)
    return {s: model.layer_features(tok, ex.texts, batch_size, max_length)[-1] for s, ex in splits.items()}
