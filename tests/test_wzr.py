import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from mtlcore import train
from mtlcore.training.encoders import load_encoder
from mtlcore.training.models import MultiTaskModel
from mtlcore.analysis.covariance import covariance_similarity, svd_task_weights, weights_for
from mtlcore.training.alignment import add_alignment

rng = np.random.default_rng(0)


def test_covariance_similarity_hand_computed_and_same_covariance():
    X = np.diag([3.0, 1.0])  # X^T X has eigenvalues 9, 1: both kept at 99% energy
    assert covariance_similarity(X, X, normalise=False) == pytest.approx(np.sqrt(81 + 1) / 10)  # ||D||_F / tr D
    assert covariance_similarity(X, X) == pytest.approx(1.0)
    A = rng.normal(size=(200, 10)) @ np.diag(np.linspace(1, 3, 10))
    B = rng.normal(size=(300, 10)) @ np.diag(np.linspace(1, 3, 10))  # same covariance, other samples
    assert covariance_similarity(A, B) > 0.95


def test_covariance_similarity_row_rotation_invariance_and_disjoint_support():
    A = rng.normal(size=(50, 8))
    B = rng.normal(size=(60, 8)) @ rng.normal(size=(8, 8))
    Q = ortho_group.rvs(50, random_state=4)
    for norm in (True, False):
        assert covariance_similarity(Q @ A, B, normalise=norm) == pytest.approx(covariance_similarity(A, B, normalise=norm))
    left, right = np.zeros((40, 8)), np.zeros((40, 8))
    left[:, :4], right[:, 4:] = rng.normal(size=(40, 4)), rng.normal(size=(40, 4))
    assert covariance_similarity(left, right) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same number of columns"):
        covariance_similarity(A, B[:, :5])


def test_svd_task_weights_hand_worked_example():
    X = np.eye(2)
    Y = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]])  # theta_1 = (3, 0), theta_2 = (4, 0), theta_3 = (0, 1)
    # Theta Theta^T = diag(25, 1): U_1 = e_1, so alpha = |theta_i . e_1| = (3, 4, 0); at rank 2 alpha_i = ||theta_i||
    np.testing.assert_allclose(svd_task_weights(X, Y, rank=1), [3.0, 4.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(svd_task_weights(X, Y, rank=2), [3.0, 4.0, 1.0], atol=1e-12)
    assert weights_for(["a", "b", "c"], [3.0, 4.0, 0.0]) == {"a": 3.0, "b": 4.0, "c": 0.0}


def test_noise_task_gets_smaller_weight():
    X = rng.normal(size=(500, 20))
    theta = rng.normal(size=20)
    y1 = X @ theta + 0.1 * rng.normal(size=500)
    y2 = X @ (theta + 0.1 * rng.normal(size=20)) + 0.1 * rng.normal(size=500)
    y3 = rng.permutation(y1)  # same label distribution, no relation to X
    alpha = svd_task_weights(X, np.c_[y1, y2, y3], rank=1)
    assert alpha[2] < 0.3 * min(alpha[:2])


def test_svd_task_weights_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        svd_task_weights(np.ones((3, 2)), np.array([[1.0], [np.nan], [0.0]]), 1)
    with pytest.raises(ValueError, match="same rows"):
        svd_task_weights(np.ones((3, 2)), np.ones((4, 1)), 1)
    with pytest.raises(ValueError, match="rank"):
        svd_task_weights(np.ones((3, 2)), np.ones((3, 2)), 3)


def test_alignment_at_identity_leaves_outputs_unchanged_and_round_trips(tmp_path):
    enc, tok = load_encoder("tiny-bert", seed=0)
    model = MultiTaskModel(enc, ["test/words", "test/flipped"]).eval()
    batch = dict(tok(["an example", "another longer example"], padding=True, return_tensors="pt"))
    before = model(**batch, task="test/words", output_hidden_states=True)
    before_flipped = model(**batch, task="test/flipped").logits
    add_alignment(model)
    after = model(**batch, task="test/words", output_hidden_states=True)
    torch.testing.assert_close(before.logits, after.logits)
    with torch.no_grad():
        model.alignment.R["test__words"].mul_(2.0)
    changed = model(**batch, task="test/words", output_hidden_states=True)
    torch.testing.assert_close(changed.hidden_states[0], 2 * before.hidden_states[0])  # Z = X R on the embeddings
    torch.testing.assert_close(model(**batch, task="test/flipped").logits, before_flipped)  # R_i is per task
    model.save(tmp_path / "ck")
    again = MultiTaskModel.load(tmp_path / "ck").eval()
    torch.testing.assert_close(again(**batch, task="test/words").logits, changed.logits)


def test_alg1_schedule_trains_only_alignment_and_heads(tiny_cfg):
    cfg = tiny_cfg.replace(alignment=True, freeze_encoder=True, epochs=1, lr=1e-2)
    run = train(cfg)
    model = run.models["mtl"]
    fresh = load_encoder("tiny-bert", seed=cfg.seed)[0]
    for (name, p), q in zip(model.encoder.named_parameters(), fresh.parameters()):
        assert torch.equal(p.detach().cpu(), q), name
    eye = torch.eye(32)
    assert all(not torch.allclose(R.detach().cpu(), eye) for R in model.alignment.R.values())


def test_alignment_matrices_get_no_weight_decay_and_their_own_learning_rate(tiny_cfg):
    from mtlcore.training import Trainer, build_model
    from mtlcore.training.batching import prepare_data

    cfg = tiny_cfg.replace(alignment=True, alignment_lr=0.5, weight_decay=0.3)
    model, tok = build_model(cfg, cfg.tasks)
    tr, dev = prepare_data(cfg, tok)
    groups = Trainer(cfg, model, tr, dev).optimizer.param_groups
    align = [g for g in groups if any(p is model.alignment.R["test__words"] for p in g["params"])]
    assert len(align) == 1 and align[0]["weight_decay"] == 0.0 and align[0]["initial_lr"] == 0.5


def test_degenerate_inputs_to_the_wzr_functions_raise_naming_the_argument():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="Theta = X\\^T Y is all zeros"):
        svd_task_weights(X, np.zeros((20, 3)), 1)
    with pytest.raises(ValueError, match="Theta = X\\^T Y is all zeros"):
        svd_task_weights(np.zeros((20, 4)), np.ones((20, 3)), 1)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X2 contains NaN or inf"):
        covariance_similarity(X, bad)
    with pytest.raises(ValueError, match="X1 is all zeros"):
        covariance_similarity(np.zeros((5, 4)), X)
