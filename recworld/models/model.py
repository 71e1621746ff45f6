"""`EmbeddingModel`: the trained embedding model with its batched adaptation API for agents.

>>> model = EmbeddingModel.load("runs/ml100k/seed_0/meta")                     # doctest: +SKIP
>>> users = model.adapt(items, ratings, mask, user_features)   # [B, n] histories, padded + masked
>>> mean, std = users.predict()                               # [B, n_items] each
>>> p_like = users.like_probability()                         # P(rating >= like_threshold)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from recworld.models.adaptation import Params, adapt_fast, predict_fast
from recworld.models.config import ModelConfig
from recworld.models.io import ModelFileError, check_tensors, load_model_files, save_model_files
from recworld.models.network import RecNet
from recworld.models.uncertainty import Calibration, posterior_covariance, predictive_std

KIND = "recworld.embedding_model"


@dataclass(frozen=True)
class Adaptation:
    """How `EmbeddingModel.adapt` adapts: ``steps`` inner steps, learned rates (``lr=None``) or one rate."""

    steps: int = 3
    lr: float | None = None

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"Adaptation.steps must be >= 0, got {self.steps}")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"Adaptation.lr must be > 0 or None (learned rates), got {self.lr}")


class EmbeddingModel:
    """The network, how it adapts, the uncertainty calibration, and where it came from."""

    def __init__(
        self,
        net: RecNet,
        *,
        adaptation: Adaptation | None = None,
        calibration: Calibration | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.net = net
        self.adaptation = adaptation or Adaptation()
        self.calibration = calibration or Calibration()
        self.info = dict(info or {})

    @property
    def config(self) -> ModelConfig:
        return self.net.config

    @property
    def device(self) -> torch.device:
        return self.net.item_bias.device

    def to(self, device: str | torch.device) -> EmbeddingModel:
        self.net.to(device)
        return self

    def with_adaptation(self, steps: int, lr: float | None = None) -> EmbeddingModel:
        """The same weights with another adaptation rule (shares the network)."""
        return EmbeddingModel(
            self.net, adaptation=Adaptation(steps, lr), calibration=self.calibration, info=self.info
        )

    # ---------------------------------------------------------------- adapt
    def adapt(
        self,
        items: Tensor,
        ratings: Tensor,
        mask: Tensor | None = None,
        user_features: Tensor | None = None,
    ) -> AdaptedUsers:
        """Adapt to ``B`` users' observed ratings at once.

        Args:
            items: ``[B, n]`` item indices (padding slots may hold any valid index).
            ratings: ``[B, n]`` observed ratings.
            mask: ``[B, n]`` bool, True where a rating is observed (default: all observed).
            user_features: ``[B, f_u]`` demographics as in ``RatingData.user_features()``; ``None``
                uses the training users' mean vector.
        """
        items, ratings, mask, user_features = self._check_inputs(items, ratings, mask, user_features)
        params = dict(self.net.named_parameters())
        with torch.no_grad():
            fast = adapt_fast(
                self.net,
                params,
                user_features,
                items,
                ratings,
                mask,
                steps=self.adaptation.steps,
                lr=self.adaptation.lr,
                first_order=True,  # no outer gradient at inference
            )
            fast = {name: value.detach() for name, value in fast.items()}
            _, support_phi = predict_fast(self.net, params, fast, user_features, items)
            covariance = posterior_covariance(
                support_phi, mask, self.calibration.noise_std, self.calibration.prior_std
            )
        return AdaptedUsers(self, fast, user_features, covariance)

    def _check_inputs(
        self, items: Tensor, ratings: Tensor, mask: Tensor | None, user_features: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        device = self.device
        items = torch.as_tensor(items, device=device)
        ratings = torch.as_tensor(ratings, dtype=torch.float32, device=device)
        if items.dim() != 2 or ratings.shape != items.shape:
            raise ValueError(
                f"items and ratings must both be [B, n], got {tuple(items.shape)} and {tuple(ratings.shape)}"
            )
        if items.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"items must be integer item indices, got dtype {items.dtype}")
        items = items.long()
        mask = (
            torch.ones_like(items, dtype=torch.bool)
            if mask is None
            else torch.as_tensor(mask, device=device).bool()
        )
        if mask.shape != items.shape:
            raise ValueError(
                f"mask must have the shape of items {tuple(items.shape)}, got {tuple(mask.shape)}"
            )
        if items.numel() and (items.min() < 0 or items.max() >= self.config.n_items):
            bad = int(items.min()) if items.min() < 0 else int(items.max())
            raise ValueError(
                f"item index {bad} is outside 0..{self.config.n_items - 1}; use the RatingData's item indices"
            )
        observed = ratings[mask]
        if observed.numel() and not torch.isfinite(observed).all():
            raise ValueError("ratings hold NaN or infinite values where mask is True")
        b, f_u = items.shape[0], self.config.n_user_features
        if user_features is None:
            user_features = self.net.user_feature_mean.expand(b, f_u)
        user_features = torch.as_tensor(user_features, dtype=torch.float32, device=device)
        if user_features.shape != (b, f_u):
            raise ValueError(
                f"user_features must be [B, {f_u}] = [{b}, {f_u}], got {tuple(user_features.shape)}; "
                "use RatingData.user_features() rows, or None for the mean user"
            )
        return items, ratings, mask, user_features

    # ------------------------------------------------------------- save/load
    def save(self, directory: str | Path) -> Path:
        state = self.net.state_dict()
        config = {
            "model": self.config.to_dict(),
            "adaptation": dataclasses.asdict(self.adaptation),
            "calibration": self.calibration.to_dict(),
            "info": self.info,
        }
        return save_model_files(directory, KIND, state, config)

    @classmethod
    def load(cls, directory: str | Path, *, device: str | torch.device = "cpu") -> EmbeddingModel:
        tensors, raw = load_model_files(directory, KIND, device=device)
        config_path = Path(directory) / "config.json"
        try:
            config = ModelConfig.from_dict(raw["model"])
            adaptation = Adaptation(**raw["adaptation"])
            calibration = Calibration.from_dict(raw["calibration"])
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(config_path, f"bad model config ({err})", "save the model again") from err
        net = RecNet(config)
        expected = {name: tuple(t.shape) for name, t in net.state_dict().items()}
        check_tensors(Path(directory) / "model.safetensors", tensors, expected)
        net.load_state_dict(tensors)
        net.to(device)
        return cls(net, adaptation=adaptation, calibration=calibration, info=raw.get("info", {}))


class AdaptedUsers:
    """``B`` users adapted by `EmbeddingModel.adapt`: predictions, uncertainty, like probabilities."""

    def __init__(self, model: EmbeddingModel, fast: Params, user_features: Tensor, covariance: Tensor):
        self.model = model
        self.fast = fast
        self.user_features = user_features
        self.covariance = covariance

    def __len__(self) -> int:
        return len(self.user_features)

    @torch.no_grad()
    def predict(
        self, items: Tensor | None = None, *, chunk: int = 256, clip: bool = True
    ) -> tuple[Tensor, Tensor]:
        """``(mean, std)`` predicted ratings, each ``[B, n]``.

        ``items`` is ``None`` (the whole catalog), ``[n]`` (the same items for every user) or
        ``[B, n]``. The mean is clipped to the rating scale (``clip=False`` keeps the raw score,
        which ranks items without ties at the ends of the scale); ``std`` is the calibrated
        predictive standard deviation (see `recworld.models.uncertainty`).
        """
        net, config = self.model.net, self.model.config
        if items is None:
            items = torch.arange(config.n_items, device=self.model.device)
        items = torch.as_tensor(items, device=self.model.device).long()
        if items.dim() == 2 and items.shape[0] != len(self):
            raise ValueError(f"items must be [n] or [B={len(self)}, n], got {tuple(items.shape)}")
        params = dict(net.named_parameters())
        means, stds = [], []
        for start in range(0, len(self), chunk):
            part = slice(start, start + chunk)
            fast = {name: value[part] for name, value in self.fast.items()}
            its = items[part] if items.dim() == 2 else items
            mean, phi = predict_fast(net, params, fast, self.user_features[part], its)
            if config.adapt == "user_embedding" and items.dim() == 1:
                phi = phi[0]  # the same item features for every user
            means.append(mean.clamp(config.rating_min, config.rating_max) if clip else mean)
            stds.append(predictive_std(phi, self.covariance[part], self.model.calibration.noise_std))
        if not means:
            n = items.shape[-1]
            empty = torch.zeros(0, n, device=self.model.device)
            return empty, empty
        return torch.cat(means), torch.cat(stds)

    def like_probability(self, items: Tensor | None = None, threshold: float | None = None) -> Tensor:
        """``P(rating >= threshold)`` under the Gaussian predictive (default: the config's like threshold)."""
        config = self.model.config
        threshold = config.like_threshold if threshold is None else threshold
        mean, std = self.predict(items)
        cut = threshold - config.rating_step / 2
        return torch.special.ndtr((mean - cut) / std)
