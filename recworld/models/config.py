"""Configuration of the embedding model and of its meta-training, as small validated dataclasses.

Both are saved as JSON beside the weights, so every field is a plain JSON value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Adapt = Literal["user_embedding", "decision_layers"]


@dataclass(frozen=True)
class ModelConfig:
    """The shape of an `EmbeddingModel` (everything needed to rebuild it before loading weights).

    Attributes:
        n_items: catalog size (item indices ``0..n_items-1`` of the `RatingData`).
        n_user_features: width of the demographic vector (``RatingData.user_features()``).
        n_item_features: width of the genre multi-hot plus year (``RatingData.item_features()``).
        text_dim: width of the language-model item embedding; 0 means the model uses no text.
        dim: width of the item and user embeddings.
        adapt: which part adapts to each user. ``"user_embedding"`` (default) adapts a user vector
            and a user bias added to the demographic user vector; the score is a dot product, so
            scoring the whole catalog for many users is one matrix product. ``"decision_layers"``
            is MeLU's local update: the MLP over ``[user, item, user*item]`` adapts.
        hidden: width of the decision layers (``adapt="decision_layers"`` only).
        global_mean: mean training rating (initial value of the global bias).
        rating_min, rating_max: predictions are clipped to this range.
        rating_step: spacing of the rating values (1 for MovieLens); the like probability
            ``P(rating >= t)`` is read as ``P(continuous rating >= t - rating_step / 2)``.
        like_threshold: a rating at or above it is a like.
        inner_lr: initial inner-loop learning rate (per element, learned when meta-training
            with ``learn_inner_lr``).
    """

    n_items: int
    n_user_features: int
    n_item_features: int
    text_dim: int = 0
    dim: int = 32
    adapt: Adapt = "user_embedding"
    hidden: int = 64
    global_mean: float = 3.5
    rating_min: float = 1.0
    rating_max: float = 5.0
    rating_step: float = 1.0
    like_threshold: float = 4.0
    inner_lr: float = 0.02

    def __post_init__(self) -> None:
        for name in ("n_items", "dim", "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("n_user_features", "n_item_features", "text_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"ModelConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.adapt not in ("user_embedding", "decision_layers"):
            raise ValueError(
                f"ModelConfig.adapt must be 'user_embedding' or 'decision_layers', got {self.adapt!r}"
            )
        if not self.rating_min < self.rating_max:
            raise ValueError(f"rating_min {self.rating_min} must be below rating_max {self.rating_max}")
        if self.inner_lr <= 0:
            raise ValueError(f"ModelConfig.inner_lr must be > 0, got {self.inner_lr}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelConfig:
        return cls(**_known_fields(cls, raw, "model config"))


@dataclass(frozen=True)
class MetaConfig:
    """Meta-training settings (MAML over user tasks, MeLU protocol).

    Attributes:
        dim, adapt, hidden, inner_lr: passed to `ModelConfig`.
        inner_steps: gradient steps on the support set, in meta-training and at adaptation.
        first_order: drop the second-order terms (first-order MAML); default is full second order.
        learn_inner_lr: learn one inner learning rate per adapted parameter element (Meta-SGD).
        outer_lr: Adam learning rate of the outer loop.
        weight_decay: L2 penalty of the outer loop on the item embeddings and projections.
        batch_size: user tasks per outer step (vectorised with ``torch.func.vmap``).
        max_epochs: passes over the training users; each pass draws fresh support/query sets.
        patience: stop after this many epochs without a better validation MAE.
        k_max: support sizes are drawn uniformly from ``0..min(k_max, n_ratings - n_query)``.
        n_query: query ratings per task.
        use_text: use language-model item embeddings (``"auto"``: when the ``text`` extra is installed).
        seed: seeds the weights, the task draws and the split-independent randomness.
        device: ``"auto"`` (an accelerator when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    """

    dim: int = 32
    adapt: Adapt = "user_embedding"
    hidden: int = 64
    inner_lr: float = 0.02
    inner_steps: int = 3
    first_order: bool = False
    learn_inner_lr: bool = True
    outer_lr: float = 1e-3
    weight_decay: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 120
    patience: int = 10
    k_max: int = 20
    n_query: int = 10
    use_text: Literal["auto", "on", "off"] = "auto"
    seed: int = 0
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positive = ("dim", "hidden", "batch_size", "max_epochs", "patience", "n_query")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"MetaConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.inner_steps < 0 or self.k_max < 0:
            raise ValueError(
                f"inner_steps and k_max must be >= 0, got inner_steps={self.inner_steps}, k_max={self.k_max}"
            )
        for name in ("inner_lr", "outer_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"MetaConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.weight_decay < 0:
            raise ValueError(f"MetaConfig.weight_decay must be >= 0, got {self.weight_decay}")
        if self.use_text not in ("auto", "on", "off"):
            raise ValueError(f"MetaConfig.use_text must be 'auto', 'on' or 'off', got {self.use_text!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MetaConfig:
        return cls(**_known_fields(cls, raw, "meta-training config"))


def _known_fields(cls: type, raw: dict[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"the {what} must be a JSON object, got {type(raw).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ValueError(
            f"unknown {what} field(s) {unknown}; known fields are {sorted(names)} "
            "(was the file written by a newer recworld?)"
        )
    return dict(raw)
