import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn import metrics as skm

from mtlcore.analysis.metrics import accuracy, f1, macro_f1, mcc, pearson, roc_auc, spearman, task_metrics, task_score

rng = np.random.default_rng(0)


@pytest.mark.parametrize("n_classes", [2, 3, 6])
def test_class_metrics_match_sklearn(n_classes):
    y = rng.integers(0, n_classes, 300)
    p = np.where(rng.random(300) < 0.6, y, rng.integers(0, n_classes, 300))
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert mcc(y, p) == pytest.approx(skm.matthews_corrcoef(y, p))
    assert macro_f1(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))
    expected_f1 = skm.f1_score(y, p) if n_classes == 2 else skm.f1_score(y, p, average="macro")
    assert f1(y, p) == pytest.approx(expected_f1)


def test_degenerate_cases():
    assert mcc([1, 1, 1], [1, 1, 1]) == 0.0  # sklearn also returns 0 when undefined
    assert f1([0, 0], [0, 0]) == 0.0
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_correlations_and_auc_match_reference():
    y = rng.normal(size=200)
    s = y + rng.normal(size=200)
    s[:20] = np.round(s[:20])  # ties
    assert pearson(y, s) == pytest.approx(pearsonr(y, s)[0])
    assert spearman(y, np.round(s)) == pytest.approx(spearmanr(y, np.round(s))[0])
    yb = (y > 0).astype(int)
    assert roc_auc(yb, np.round(s, 1)) == pytest.approx(skm.roc_auc_score(yb, np.round(s, 1)))
    Y = rng.integers(0, 2, (100, 4))
    S = Y + rng.normal(size=(100, 4))
    assert roc_auc(Y, S) == pytest.approx(skm.roc_auc_score(Y, S, average="macro"))


def test_task_metrics_from_logits_and_glue_score():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.3, 0.1], [0.0, 5.0]])
    y = np.array([0, 1, 1, 1])
    m = task_metrics("classification", ("f1", "accuracy"), y, logits)
    assert m["accuracy"] == 0.75 and m["f1"] == pytest.approx(0.8)  # tp 2, fp 0, fn 1
    assert task_score(m, ("f1", "accuracy")) == pytest.approx(0.775)
    ml = task_metrics("multilabel", ("accuracy", "roc_auc"), np.array([[1, 0], [0, 1]]), np.array([[1.0, -1], [-1, 1]]))
    assert ml == {"accuracy": 1.0, "roc_auc": 1.0}
