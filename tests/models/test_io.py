import json

import numpy as np
import pytest
import torch

from recworld.models import EmbeddingModel, ItemBias, MFFoldIn, ModelConfig, ModelFileError, RecNet


def small_model(**overrides):
    config = ModelConfig(n_items=6, n_user_features=2, n_item_features=3, text_dim=5, dim=4, **overrides)
    net = RecNet(config, generator=torch.Generator().manual_seed(0))
    net.text_embeddings.copy_(torch.randn(6, 5, generator=torch.Generator().manual_seed(1)))
    return EmbeddingModel(net, info={"note": "test"})


@pytest.mark.parametrize("adapt", ["user_embedding", "decision_layers"])
def test_round_trip_gives_identical_predictions(tmp_path, adapt):
    model = small_model(adapt=adapt)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    loaded = EmbeddingModel.load(tmp_path / "m")
    items, ratings = torch.tensor([[0, 2, 5]]), torch.tensor([[5.0, 1.0, 3.0]])
    for a, b in zip(
        model.adapt(items, ratings).predict(), loaded.adapt(items, ratings).predict(), strict=True
    ):
        assert torch.equal(a, b)
    assert loaded.info == {"note": "test"} and loaded.config == model.config


def test_corrupt_weights_give_a_clear_error(tmp_path):
    small_model().save(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00\x01 not safetensors")
    with pytest.raises(ModelFileError, match=r"model\.safetensors: is not a readable safetensors file"):
        EmbeddingModel.load(tmp_path)


def test_truncated_weights_give_a_clear_error(tmp_path):
    small_model().save(tmp_path)
    data = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt"):
        EmbeddingModel.load(tmp_path)


def test_weights_from_another_model_are_refused(tmp_path):
    small_model().save(tmp_path / "a")
    small_model(adapt="decision_layers").save(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").replace(tmp_path / "a" / "model.safetensors")
    with pytest.raises(ModelFileError, match="different models"):
        EmbeddingModel.load(tmp_path / "a")


def test_shape_mismatch_is_refused(tmp_path):
    small_model().save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"]["dim"] = 8
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="has shape"):
        EmbeddingModel.load(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.write_text("{not json"), "not valid JSON"),
        (lambda p: p.write_text("[]"), "not a JSON object"),
        (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "kind": "other"})), "kind 'other'"),
        (
            lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "format_version": 99})),
            "format version",
        ),
        (lambda p: p.unlink(), "missing"),
    ],
)
def test_bad_config_files(tmp_path, edit, message):
    small_model().save(tmp_path)
    edit(tmp_path / "config.json")
    with pytest.raises(ModelFileError, match=message):
        EmbeddingModel.load(tmp_path)


def test_unknown_config_field_is_refused(tmp_path):
    small_model().save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"]["colour"] = "blue"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="colour"):
        EmbeddingModel.load(tmp_path)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    import pickle

    small_model().save(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    EmbeddingModel.load(tmp_path)


def test_baselines_round_trip(tmp_path, tiny_data):
    mf = MFFoldIn.fit(tiny_data, rank=3, reg=2.0, iterations=3)
    mf.save(tmp_path / "mf")
    loaded = MFFoldIn.load(tmp_path / "mf")
    items, ratings = torch.tensor([[0, 1, 2]]), torch.tensor([[5.0, 4.0, 1.0]])
    mask = torch.ones_like(items, dtype=torch.bool)
    assert torch.equal(mf.scores(items, ratings, mask), loaded.scores(items, ratings, mask))
    bias = ItemBias.fit(tiny_data)
    bias.save(tmp_path / "ib")
    assert torch.equal(ItemBias.load(tmp_path / "ib").scores(2), bias.scores(2))
    with pytest.raises(ModelFileError, match="kind"):
        ItemBias.load(tmp_path / "mf")
    assert np.isfinite(loaded.global_mean)
