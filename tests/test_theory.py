import numpy as np
import pytest

from mtlcore.papers.wu2020.theory import (covariance_factor, eq4_objective, eq4_r1, fit_shared, labels, mtl_linear, ols,
                            parameters_with_angle, predict, prop3_subspace, random_orthogonal, sample_inputs)
from mtlcore.papers.wu2020.transfer import capacity_sweep, principal_angle_sine, reweighting_demo, source_transfer, toy_transfer

rng = np.random.default_rng(0)


def test_generators_have_the_requested_geometry():
    Q = random_orthogonal(20, rng)
    np.testing.assert_allclose(Q.T @ Q, np.eye(20), atol=1e-12)
    assert np.linalg.eigvalsh(covariance_factor(20, 100.0, np.arange(2), Q).T @ covariance_factor(
        20, 100.0, np.arange(2), Q)).max() == pytest.approx(1e4)  # D entries kappa: condition number kappa^2
    L = covariance_factor(20, 3.0, np.arange(2), Q)
    eig = np.linalg.eigvalsh(L.T @ L)  # population covariance Q D^2 Q^T
    assert eig.max() / eig.min() == pytest.approx(9.0)
    a, b = parameters_with_angle(20, 0.96, rng)
    assert np.linalg.norm(a) == pytest.approx(1) and np.linalg.norm(b) == pytest.approx(1) and a @ b == pytest.approx(0.96)
    X = sample_inputs(20000, L, rng)
    np.testing.assert_allclose(X.T @ X / 20000, L.T @ L, atol=1.5)  # sample covariance near Q D^2 Q^T
    y = labels(X[:5], a, "relu", 0.0, rng)
    assert (y >= 0).all()


@pytest.mark.parametrize("r", [1, 2, 3])
def test_solver_reaches_the_prop3_closed_form(r):
    X = rng.normal(size=(120, 12))
    Y = X @ rng.normal(size=(12, 5)) + rng.normal(size=(120, 5))
    alpha = rng.uniform(0.5, 2.0, 5)
    B_star, best = prop3_subspace(X, Y, r, alpha)
    fit = mtl_linear([X] * 5, list(Y.T), r, alphas=alpha)
    assert fit.loss == pytest.approx(best, rel=1e-9)
    assert principal_angle_sine(X @ B_star, X @ fit.B) < 1e-5


def test_prop3_closed_form_is_the_best_rank_r_fit():
    """Check the closed form itself on a case solvable by hand: Y = X Theta with rank(Theta) = r gives loss 0."""
    X = rng.normal(size=(50, 6))
    Theta = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 4))
    B, loss = prop3_subspace(X, X @ Theta, 2)
    assert loss == pytest.approx(0.0, abs=1e-8)
    assert principal_angle_sine(B, np.linalg.svd(Theta)[0][:, :2]) < 1e-8


def test_width_at_least_k_reproduces_the_stl_solutions():
    k, d = 3, 10
    Xs = [rng.normal(size=(25, d)) for _ in range(k)]
    ys = [X @ rng.normal(size=d) + rng.normal(size=25) for X in Xs]
    for r in (k, k + 2):
        fit = mtl_linear(Xs, ys, r)
        for i in range(k):
            np.testing.assert_allclose(fit.theta(i), ols(Xs[i], ys[i]), atol=1e-6)
    below = mtl_linear(Xs, ys, 1)
    assert max(np.linalg.norm(below.theta(i) - ols(Xs[i], ys[i])) for i in range(k)) > 1e-2  # transfer below k


def test_eq4_r1_matches_the_general_solver():
    Xs = [rng.normal(size=(30, 8)) for _ in range(2)]
    ys = [X @ rng.normal(size=8) for X in Xs]
    b = eq4_r1(Xs, ys)
    fit = mtl_linear(Xs, ys, 1)
    total = sum(y @ y for y in ys)
    assert total - eq4_objective(b, Xs, ys) == pytest.approx(fit.loss, rel=1e-6)
    assert principal_angle_sine(b[:, None], fit.B) < 1e-4


def test_fit_shared_linear_agrees_with_the_exact_solver():
    Xs = [rng.normal(size=(40, 6)) for _ in range(2)]
    ys = [X @ rng.normal(size=6) + 0.1 * rng.normal(size=40) for X in Xs]
    exact = mtl_linear(Xs, ys, 1)
    approx = fit_shared(Xs, ys, 1, l2=0.0)
    assert approx.loss == pytest.approx(exact.loss, rel=1e-5)
    np.testing.assert_allclose(predict(approx, 0, Xs[0]), Xs[0] @ exact.theta(0), atol=1e-3)


def test_identical_noiseless_tasks_transfer_perfectly():
    """cos = 1, no noise: eq. 3 has a zero-loss optimum with B = theta, so MTL recovers the target exactly from any
    source with enough samples, while the underdetermined target alone cannot."""
    t = source_transfer("linear", d=20, cosine=1.0, m_target=10, source_counts=[200], noise=0.0, seeds=[0])
    assert (t.mtl < 1e-8).all() and (t.stl > 1e-2).all()
    np.testing.assert_allclose(t["diff"], t.mtl - t.stl)
    assert set(t.source) == {"same covariance", "disjoint subset", "different rotation"}


def test_toy_tasks_have_equal_counts_and_one_boundary_for_tasks_2_and_3():
    from mtlcore.papers.wu2020.transfer import toy_tasks

    t = toy_tasks(np.random.default_rng(4), m=30, flip=0.2, angle=15.0, cluster_angle=60.0)
    assert {len(t[k][1]) for k in ("task 1", "task 2", "task 3")} == {30}
    assert np.degrees(np.arccos(t["w1"] @ t["w2"])) == pytest.approx(15.0)
    for k in ("task 2", "task 3"):  # clean labels from the one boundary w2
        np.testing.assert_array_equal(t[k][1], (t[k][0] @ t["w2"] > 0).astype(float))
    assert np.abs(t["task 3"][0] @ t["w2"]).min() > 0.3   # task 3: nothing close to the boundary
    assert np.abs(t["task 2"][0] @ t["w2"]).min() < 0.3   # task 2: data along it
    flipped = np.mean(t["task 1"][1] != (t["task 1"][0] @ t["w1"] > 0))
    assert 0 < flipped < 0.45


def test_random_starts_reach_the_stl_optimum_at_r_at_least_k():
    table = capacity_sweep(k=3, d=8, m=20, widths=[1, 3, 4], seeds=[0], restarts=3)
    assert table[table.r >= 3].loss_gap.max() < 1e-8
    assert table[table.r == 1].loss_gap.max() > 1e-3
    assert (table.loss_gap > -1e-9).all()  # nothing beats a task's own least-squares optimum


def test_toy_example_task2_helps_and_task3_hurts():
    table, example = toy_transfer(range(6))
    acc = table.groupby("training")["accuracy"].mean()
    assert acc["task 1 + task 2"] > acc["task 1 alone"] > acc["task 1 + task 3"]


@pytest.mark.parametrize("call, message", [
    (lambda: capacity_sweep(k=0), "need k, d >= 1 and m > d"),
    (lambda: capacity_sweep(d=30, m=30), "m > d"),
    (lambda: mtl_linear([np.eye(3)], [np.ones(3)], 1, restarts=0, from_stl=False), "restarts >= 1"),
    (lambda: source_transfer("linear", d=10), "d must be >= 20"),
    (lambda: source_transfer("quadratic"), "kind must be"),
    (lambda: reweighting_demo(k=3, r=3), "1 <= r < k"),
])
def test_experiment_parameters_are_checked_up_front(call, message):
    with pytest.raises(ValueError, match=message):
        call()
