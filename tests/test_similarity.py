import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from mtlcore.training.encoders import load_encoder
from mtlcore.training.models import MultiTaskModel
from mtlcore.analysis.similarity import (CKAAccumulator, gram_cka, gram_linear, layer_activations, layerwise_cka, linear_cka,
                                rbf_cka)

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 12))
Y = X[:, :8] @ rng.normal(size=(8, 9)) + 0.5 * rng.normal(size=(120, 9))


def unbiased_hsic(K, L):
    """Song et al. (2012) unbiased HSIC, written with n x n Gram matrices (independent of the feature-space code)."""
    n = K.shape[0]
    K, L = K.copy(), L.copy()
    np.fill_diagonal(K, 0)
    np.fill_diagonal(L, 0)
    one = np.ones(n)
    return (np.trace(K @ L) + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * one @ K @ L @ one) / (n * (n - 3))


@pytest.mark.parametrize("cka", [linear_cka, lambda a, b: linear_cka(a, b, debiased=True), rbf_cka])
def test_identical_inputs_give_one(cka):
    assert cka(X, X) == pytest.approx(1.0)


def test_invariances_of_linear_cka():
    base = linear_cka(X, Y)
    Q = ortho_group.rvs(9, random_state=1)
    assert linear_cka(X, Y @ Q) == pytest.approx(base)
    assert linear_cka(3.7 * X, Y) == pytest.approx(base)
    assert linear_cka(X + 5.0, Y) == pytest.approx(base)  # centring
    assert linear_cka(X, Y, debiased=True) == pytest.approx(linear_cka(X @ ortho_group.rvs(12, random_state=2), Y, True))
    stretched = linear_cka(X * np.r_[10.0, np.ones(11)], Y)
    assert abs(stretched - base) > 0.01  # not invariant to non-isotropic scaling


def test_rbf_cka_invariant_to_rotation_and_scale():
    Q = ortho_group.rvs(12, random_state=3)
    assert rbf_cka(X @ Q * 2.0, Y) == pytest.approx(rbf_cka(X, Y))


def test_feature_space_equals_gram_form_biased_and_debiased():
    assert linear_cka(X, Y) == pytest.approx(gram_cka(gram_linear(X), gram_linear(Y)))
    K, L = (X - X.mean(0)) @ (X - X.mean(0)).T, (Y - Y.mean(0)) @ (Y - Y.mean(0)).T
    expected = unbiased_hsic(K, L) / np.sqrt(unbiased_hsic(K, K) * unbiased_hsic(L, L))
    assert linear_cka(X, Y, debiased=True) == pytest.approx(expected)


@pytest.mark.parametrize("debiased", [False, True])
def test_accumulator_matches_full_computation(debiased):
    acc = CKAAccumulator(debiased=debiased)
    Z = X @ rng.normal(size=(12, 5)) + 3.0  # an offset, so centring across batches matters
    for start in range(0, 120, 25):
        s = slice(start, start + 25)
        acc.update([X[s], Y[s]], [Y[s], torch.as_tensor(Z[s])])
    expected = [[linear_cka(a, b, debiased) for b in (Y, Z)] for a in (X, Y)]
    np.testing.assert_allclose(acc.result(), expected, rtol=1e-9)


def test_debiased_estimator_removes_small_sample_inflation():
    """Independent random representations: true CKA is 0; the biased estimate at n << d is far from it."""
    biased, unbiased = [], []
    for seed in range(5):
        r = np.random.default_rng(seed)
        A, B = r.normal(size=(40, 300)), r.normal(size=(40, 300))
        biased.append(linear_cka(A, B))
        unbiased.append(linear_cka(A, B, debiased=True))
    assert np.mean(biased) > 0.8
    assert abs(np.mean(unbiased)) < 0.05


def test_shape_errors():
    with pytest.raises(ValueError, match="same number of examples"):
        linear_cka(X, Y[:10])
    with pytest.raises(ValueError, match="2-D"):
        linear_cka(X[:, 0], Y)


def test_layerwise_cka_of_a_model_with_itself_and_token_level():
    enc, tok = load_encoder("tiny-bert", seed=0)
    model = MultiTaskModel(enc, ["test/words"])
    other = MultiTaskModel(load_encoder("tiny-bert", seed=1)[0], ["test/words"])
    texts = [f"sentence number {i} is {'long ' * (i % 5)}here" for i in range(24)]
    batches = [{k: v for k, v in tok(texts[i:i + 8], padding=True, return_tensors="pt").items()} for i in (0, 8, 16)]
    same = layerwise_cka(model, model, batches)
    assert same.shape == (3, 3) and np.allclose(np.diag(same), 1.0)
    diff = layerwise_cka(model, other, batches)
    assert np.all(np.diag(diff) < 0.999)
    tokens = layerwise_cka(model, model, batches, level="token")
    assert np.allclose(np.diag(tokens), 1.0)
    h = [torch.ones(2, 3, 4)]
    assert layer_activations(h, torch.tensor([[1, 1, 0], [1, 0, 0]]), "token")[0].shape == (3, 4)


CKA_PATHS = {
    "linear": lambda X, Y: linear_cka(X, Y),
    "debiased": lambda X, Y: linear_cka(X, Y, debiased=True),
    "rbf": lambda X, Y: rbf_cka(X, Y),
    "gram": lambda X, Y: gram_cka(gram_linear(X), gram_linear(Y)),
    "accumulator": lambda X, Y: _accumulate(X, Y),
}


def _accumulate(X, Y):
    acc = CKAAccumulator()
    for rows in np.array_split(np.arange(len(X)), 3):
        if len(rows):
            acc.update([X[rows]], [Y[rows]])
    return float(acc.result()[0, 0])


@pytest.mark.parametrize("path", sorted(CKA_PATHS))
@pytest.mark.parametrize("constant", [0.0, 1.0, 0.1, 3.3, 1e6])
def test_constant_layer_gives_nan_with_a_warning_on_every_path(path, constant):
    from mtlcore.analysis.similarity import ConstantLayerWarning

    X = np.random.default_rng(0).normal(size=(40, 6))
    C = np.full((40, 6), constant)
    with pytest.warns(ConstantLayerWarning, match="constant over the examples"):
        assert np.isnan(CKA_PATHS[path](C, X))
    with pytest.warns(ConstantLayerWarning):
        assert np.isnan(CKA_PATHS[path](X, C))


@pytest.mark.parametrize("path", sorted(CKA_PATHS))
def test_nan_input_and_a_single_example_raise_naming_the_argument(path):
    X = np.random.default_rng(0).normal(size=(10, 3))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        CKA_PATHS[path](X, bad)
    with pytest.raises(ValueError, match="at least 2 examples"):
        CKA_PATHS[path](X[:1], X[:1])


def test_linear_cka_of_huge_activations_is_not_called_constant():
    import torch

    from mtlcore.analysis.similarity import linear_cka

    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 8, generator=g, dtype=torch.float64)
    y = x @ torch.randn(8, 8, generator=g, dtype=torch.float64)
    assert linear_cka(1e200 * x, 1e200 * y) == pytest.approx(linear_cka(x, y), rel=1e-9)
    assert linear_cka(1e-200 * x, x) == pytest.approx(1.0)
