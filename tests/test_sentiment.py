"""The sentiment models of Wu et al.'s Sec. 3 (`mtlcore.papers.wu2020.sentiment`): LSTM STL/MTL training, Alg. 1's alignment
module and schedule, the transfer variant, eq. 5 on the embeddings, and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mtlcore.papers.wu2020 import sentiment as S
from mtlcore.papers.wu2020 import sentiment_data as D

TASKS = ("test/words", "test/flipped")


def cfg(**kw):
    base = dict(tasks=TASKS, encoder="minilm-l6", module="lstm", hidden=16, epochs=6, batch_size=16, lr=3e-2,
                max_train=None, max_eval=None, seed=1)
    return S.SentimentConfig(**{**base, **kw})


def test_splits_are_disjoint_and_test_is_the_held_out_split():
    s = D.sentiment_splits("test/words")
    assert set(s) == {"train", "dev", "test"}
    assert len(s["train"]) + len(s["dev"]) == 96 and len(s["test"]) == 48   # registry train 96 -> train + dev
    sst = D.sentiment_splits("senteval/sst")
    assert len(sst["test"]) == 1821 and len(sst["dev"]) == 872             # SST's official test and dev


@pytest.mark.parametrize("module", S.MODULES)
def test_stl_learns_the_words_task(module):
    r = S.train_sentiment(cfg(tasks=("test/words",), module=module))
    assert r["test"]["test/words"] >= 0.85         # the sentiment word decides the label
    assert 1 <= r["best_epoch"] <= 6 and len(r["dev_curve"]) == 6
    assert r["dev"] == r["dev_curve"][r["best_epoch"] - 1]


def test_lstm_mtl_shares_one_module_and_learns_both_tasks():
    r, model = S.train_sentiment(cfg(), return_model=True)
    assert set(r["test"]) == set(TASKS) and min(r["test"].values()) >= 0.85  # opposite labels, one shared LSTM
    assert len(model.heads) == 2 and isinstance(model.shared.net, torch.nn.LSTM)
    assert model.embed.weight.requires_grad and model.embed.sparse            # word vectors train (the paper)


def test_word_vectors_change_only_when_trainable_and_the_table_stays():
    table = D.embedding_table("minilm-l6").clone()
    c = cfg(epochs=1)
    _, trained = S.train_sentiment(c, return_model=True)
    _, frozen = S.train_sentiment(c.replace(train_vectors=False), return_model=True)
    assert torch.equal(frozen.embed.weight, table) and not frozen.embed.weight.requires_grad
    moved = (trained.embed.weight != table).any(dim=1)
    used = torch.unique(torch.cat([S._data(c)[t]["train"].ids.ravel() for t in TASKS]))
    assert moved.any() and set(torch.nonzero(moved).ravel().tolist()) <= set(used.tolist()) - {0}  # train rows only
    assert torch.equal(D.embedding_table("minilm-l6"), table)                   # the shared table is a copy's source
    with pytest.raises(ValueError, match="device"):
        cfg(device="tpu")


def test_same_seed_same_numbers_and_seed_matters():
    a, b = S.train_sentiment(cfg(epochs=2)), S.train_sentiment(cfg(epochs=2))
    assert a["dev_curve"] == b["dev_curve"] and a["test"] == b["test"]
    _, m1 = S.train_sentiment(cfg(epochs=1), return_model=True)
    _, m2 = S.train_sentiment(cfg(epochs=1, seed=2), return_model=True)
    assert not torch.equal(m1.shared.net.weight_ih_l0, m2.shared.net.weight_ih_l0)


def test_alignment_fixed_at_identity_equals_training_without_the_module():
    """The issue's identity test: a model with R frozen at I trains exactly like the model without R."""
    c = cfg(epochs=3)
    data = S._data(c)
    plain, aligned = S.build_model(c), S.build_model(c, alignment=True)
    for p in aligned.alignment.parameters():
        p.requires_grad_(False)
    r1 = S.fit(plain, data, list(plain.parameters()), 3, c.batch_size, c.lr, c.seed)
    r2 = S.fit(aligned, data, list(aligned.parameters()), 3, c.batch_size, c.lr, c.seed)
    assert r1["dev_curve"] == r2["dev_curve"] and r1["test"] == r2["test"]
    for name, value in plain.state_dict().items():
        assert torch.equal(value, aligned.state_dict()[name]), name
    assert all(torch.equal(R, torch.eye(R.shape[0])) for R in aligned.alignment.R.values())


def test_alignment_pair_schedule():
    c = cfg(epochs=2, train_vectors=False)       # frozen vectors: the phase-1 embeddings are the raw word vectors
    out = S.alignment_pair(c, phase2_epochs=2)
    assert {"phase1", "before_phase1", "after", "with", "without"} <= set(out)
    data = S._data(c)
    model = S.build_model(c, alignment=True)     # R = I: the aligned embeddings are the raw ones
    assert S.eq5_scores(model, data, TASKS, aligned=True) == S.eq5_scores(model, data, TASKS, aligned=False)
    assert out["before_phase1"] == S.eq5_scores(model, data, TASKS, aligned=False)
    x1, x2 = (S.train_embeddings(model, data[t]["train"], t) for t in TASKS)
    assert x1.shape[0] == int(data[TASKS[0]]["train"].lengths.sum())   # one row per word piece
    assert 0 < out["before_phase1"]["eq5"] < 1 and out["after"]["eq5"] != out["before_phase1"]["eq5"]   # R moved
    trained = S.alignment_pair(c.replace(train_vectors=True), phase2_epochs=1)   # trained vectors: they moved
    assert trained["before_phase1"] != out["before_phase1"]
    with pytest.raises(ValueError, match="phase2_epochs"):
        S.alignment_pair(c, phase2_epochs=0)


def test_phase_two_trains_only_what_alg1_says(monkeypatch):
    """Phase 2 keeps the shared module fixed; the arm without alignment never moves R."""
    seen = {}
    real_fit = S.fit

    def spy(model, data, parameters, *a, **k):
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        r = real_fit(model, data, parameters, *a, **k)
        if model.alignment is not None:
            seen[k.get("desc")] = {n: not torch.equal(before[n], p) for n, p in model.named_parameters()}
        return r

    monkeypatch.setattr(S, "fit", spy)
    S.alignment_pair(cfg(epochs=1), phase2_epochs=2)
    without, with_ = seen["Alg. 1 phase 2 without"], seen["Alg. 1 phase 2 with"]
    assert not any(v for n, v in without.items() if n.startswith(("shared", "alignment")))
    assert any(v for n, v in without.items() if n.startswith("heads"))
    assert without["embed.weight"] and with_["embed.weight"]      # both arms may adapt the (trainable) vectors
    assert not any(v for n, v in with_.items() if n.startswith("shared"))
    assert any(v for n, v in with_.items() if n.startswith("alignment"))


def test_transfer_fine_tunes_the_trained_source_model(monkeypatch):
    """The shared module that fine-tuning starts from is the source model trained with the SOURCE's settings
    (not the target's), and both arms start from the same module and head."""
    src = cfg(tasks=("test/words",), epochs=3)
    tgt = cfg(tasks=("test/flipped",), epochs=2, max_train=40)
    source_model = S.train_sentiment(src, return_model=True)[1]
    trained, vectors = source_model.shared.state_dict(), source_model.embed.weight.detach().clone()
    starts = {}
    real_fit = S.fit

    def spy(model, data, parameters, *a, **k):
        if "transfer" in k.get("desc", ""):
            starts[k["desc"]] = ({n: v.clone() for n, v in model.shared.state_dict().items()},
                                 {n: v.clone() for n, v in model.heads.state_dict().items()}, len(data["test/flipped"]["train"]))
            assert torch.equal(model.embed.weight, vectors)          # fine-tuning starts from the source's vectors
        return real_fit(model, data, parameters, *a, **k)

    monkeypatch.setattr(S, "fit", spy)
    S.source_model.cache_clear()
    a = S.transfer(src, tgt, aligned=False)
    b = S.transfer(src, tgt, aligned=True)
    (shared_a, head_a, n_a), (shared_b, head_b, n_b) = starts.values()
    assert all(torch.equal(shared_a[n], trained[n]) and torch.equal(shared_b[n], trained[n]) for n in trained)
    assert all(torch.equal(head_a[n], head_b[n]) for n in head_a) and n_a == n_b == 40   # the target's sizes
    assert a["source"]["best_epoch"] <= 3 and len(a["source"]["dev_curve"]) == 3         # the source's epochs
    assert set(b["test"]) == {"test/flipped"}
    with pytest.raises(ValueError, match="single-task"):
        S.transfer(cfg(), tgt, aligned=False)
    with pytest.raises(ValueError, match="hidden size"):
        S.transfer(src, tgt.replace(hidden=8), aligned=False)
    with pytest.raises(ValueError, match="train_vectors"):
        S.transfer(src, tgt.replace(train_vectors=False), aligned=False)


def test_stl_factor_gives_eq5_between_stl_models():
    from mtlcore.analysis.covariance import covariance_similarity, factor_similarity

    a, b = cfg(tasks=(TASKS[0],), epochs=1), cfg(tasks=(TASKS[1],), epochs=1)
    fa, fb = S.stl_factor(a), S.stl_factor(b)
    (_, ma), (_, mb) = S.train_sentiment(a, return_model=True), S.train_sentiment(b, return_model=True)
    xa = S.train_embeddings(ma, S._data(a)[TASKS[0]]["train"], TASKS[0])
    xb = S.train_embeddings(mb, S._data(b)[TASKS[1]]["train"], TASKS[1])
    assert factor_similarity(fa["factor"], fb["factor"]) == pytest.approx(
        covariance_similarity(xa, xb, normalise=False), rel=1e-5)
    assert fa["test"] == S.train_sentiment(a)["test"]
    with pytest.raises(ValueError, match="one task"):
        S.stl_factor(cfg())


def test_cached_results_are_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("MTLCORE_CACHE", str(tmp_path))
    c = cfg(tasks=("test/words",), epochs=1)
    first = S.cached_sentiment(c)
    monkeypatch.setattr(S, "train_sentiment", lambda *_a, **_k: pytest.fail("retrained a cached result"))
    assert S.cached_sentiment(c)["test"] == first["test"]
    assert len(list((tmp_path / "results" / "sentiment").glob("*.json"))) == 1


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="module"):
        cfg(module="gru")
    with pytest.raises(KeyError, match="no/such"):
        cfg(tasks=("no/such",))
    with pytest.raises(ValueError, match="hidden"):
        cfg(hidden=0)
    with pytest.raises(ValueError, match="bad split: 1 text"):
        D.encode(["good", "   "], np.array([0, 1]), "tiny-bert", 8, where="bad split")
    with pytest.raises(ValueError, match="single-sentence classification"):
        D.sentiment_splits("glue/rte")
