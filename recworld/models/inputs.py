"""What every model is built from: the features of a `RatingData`, the training ratings, the device.

Only training users' ratings set anything learned (the global mean, biases, embeddings);
demographics and item side information are known for every user and item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from recworld.data import RatingData, UserSplit
from recworld.models.config import MetaConfig, ModelConfig
from recworld.models.network import RecNet
from recworld.models.text import item_text_embeddings, text_available, warn_text_missing
from recworld.numerics.factorization import item_means


@dataclass(frozen=True)
class ModelInputs:
    data: RatingData
    split: UserSplit
    user_features: np.ndarray  # [n_users, f_u] float32
    item_features: np.ndarray  # [n_items, f_i] float32
    text_embeddings: np.ndarray | None  # [n_items, 384] float32 or None

    @property
    def train(self) -> RatingData:
        return self.split.ratings(self.data, "train")


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA (or Apple MPS) when present, else CPU; any other name is used as given."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from err


def resolve_text(use_text: Literal["auto", "on", "off"]) -> bool:
    if use_text == "off":
        return False
    if text_available():
        return True
    if use_text == "on":
        raise ImportError("use_text='on' needs the text extra: pip install 'recworld[text]'")
    warn_text_missing()
    return False


def prepare_inputs(data: RatingData, split: UserSplit, *, text: bool) -> ModelInputs:
    user_features, _ = data.user_features()
    item_features, _ = data.item_features()
    return ModelInputs(
        data=data,
        split=split,
        user_features=user_features.astype(np.float32),
        item_features=item_features.astype(np.float32),
        text_embeddings=item_text_embeddings(data) if text else None,
    )


def like_level(levels: np.ndarray, lo: float, hi: float) -> float:
    """The rating from which a user likes an item: the smallest rating level at or above three
    quarters of the scale (4 of 1..5; 4.0, not 3.875, on a half-star 0.5..5 scale)."""
    above = np.asarray(levels, dtype=np.float64)
    above = above[above >= lo + 0.75 * (hi - lo) - 1e-9]
    return float(above.min()) if len(above) else float(hi)


def build_net(inputs: ModelInputs, config: MetaConfig, *, use_text: bool) -> RecNet:
    """A freshly initialised network (weights drawn from ``torch.Generator`` seeded by ``config.seed``)."""
    data, train = inputs.data, inputs.train
    text = inputs.text_embeddings if use_text else None
    lo, hi = data.rating_scale
    values = np.unique(data.rating)
    step = float(np.min(np.diff(values))) if len(values) > 1 else 1.0
    model_config = ModelConfig(
        n_items=data.n_items,
        n_user_features=inputs.user_features.shape[1],
        n_item_features=inputs.item_features.shape[1],
        text_dim=0 if text is None else text.shape[1],
        dim=config.dim,
        adapt=config.adapt,
        hidden=config.hidden,
        global_mean=float(train.rating.mean()) if train.n_ratings else (lo + hi) / 2,
        rating_min=float(lo),
        rating_max=float(hi),
        rating_step=step,
        like_threshold=like_level(values, lo, hi),
        inner_lr=config.inner_lr,
    )
    generator = torch.Generator().manual_seed(config.seed)
    net = RecNet(model_config, generator=generator)
    net.item_features.copy_(torch.as_tensor(inputs.item_features))
    if text is not None:
        net.text_embeddings.copy_(torch.as_tensor(text))
    if train.n_ratings:  # start from shrunk item means: a good prior that the training refines
        mean = float(np.mean(train.rating, dtype=np.float64))
        bias = item_means(train.item, train.rating, data.n_items) - mean
        net.item_bias.data.copy_(torch.as_tensor(bias, dtype=torch.float32))
    train_users = np.unique(train.user)
    if len(train_users):
        net.user_feature_mean.copy_(torch.as_tensor(inputs.user_features[train_users].mean(axis=0)))
    return net
