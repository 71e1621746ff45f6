"""The recommendation embedding network, written for one user at a time so `torch.func.vmap` batches it.

Item side: a learned item embedding, plus a linear map of the genre multi-hot and year, plus
(optionally) a linear map of the language-model text embedding; and an item bias.
User side: a linear map of the demographic features, plus the part that adapts to each user:

* ``adapt="user_embedding"`` (default): a user vector and a user bias, both added to the
  demographic prior. The score is ``global + item_bias + user_bias + <user, item>``. We chose it
  because the adapted part is small (``dim + 1`` numbers per user), so a few inner steps for 1,024
  users cost milliseconds, scoring the whole catalog is one matrix product, and the posterior of
  the adapted part has a closed form (the uncertainty in `recworld.models.uncertainty`).
* ``adapt="decision_layers"``: MeLU's local update. Two ReLU layers over ``[user, item,
  user*item]`` and a linear output adapt to each user; more expressive and slower to score.

Parameter names are part of the saved format: ``FAST`` lists the adapted ones per mode, and
``inner_log_lr.<name>`` holds the learned (Meta-SGD) inner learning rates of each adapted tensor.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from recworld.models.config import ModelConfig

FAST: dict[str, tuple[str, ...]] = {
    "user_embedding": ("user_vec", "user_bias"),
    "decision_layers": ("dec0_w", "dec0_b", "dec1_w", "dec1_b", "out_w", "out_b"),
}


class RecNet(nn.Module):
    """``forward(user_features[f_u], items[n]) -> (rating[n], phi[n, m])`` for one user.

    ``phi`` are the features on which the score is linear in the last adapted layer (item vector
    and 1 for ``user_embedding``; last hidden layer and 1 for ``decision_layers``); the uncertainty
    model uses them.
    """

    item_features: Tensor
    text_embeddings: Tensor
    user_feature_mean: Tensor

    def __init__(self, config: ModelConfig, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        c, d = config, config.dim

        def normal(*shape: int, std: float) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator) * std)

        self.register_buffer("item_features", torch.zeros(c.n_items, c.n_item_features))
        self.register_buffer("text_embeddings", torch.zeros(c.n_items, c.text_dim))
        self.register_buffer("user_feature_mean", torch.zeros(c.n_user_features))

        self.global_bias = nn.Parameter(torch.tensor(float(c.global_mean)))
        self.item_bias = nn.Parameter(torch.zeros(c.n_items))
        self.item_emb = normal(c.n_items, d, std=0.05)
        self.item_feat_proj = normal(c.n_item_features, d, std=0.05)
        self.text_proj = normal(c.text_dim, d, std=0.05)
        self.user_proj = normal(c.n_user_features, d, std=0.05)
        self.user_proj_bias = nn.Parameter(torch.zeros(d))
        if c.adapt == "user_embedding":
            self.user_vec = nn.Parameter(torch.zeros(d))
            self.user_bias = nn.Parameter(torch.zeros(()))
        else:
            h = c.hidden
            self.dec0_w = normal(3 * d, h, std=math.sqrt(2.0 / (3 * d)))
            self.dec0_b = nn.Parameter(torch.zeros(h))
            self.dec1_w = normal(h, h, std=math.sqrt(2.0 / h))
            self.dec1_b = nn.Parameter(torch.zeros(h))
            self.out_w = normal(h, std=math.sqrt(1.0 / h))
            self.out_b = nn.Parameter(torch.zeros(()))
        self.inner_log_lr = nn.ParameterDict(
            {
                name: nn.Parameter(torch.full_like(getattr(self, name), math.log(c.inner_lr)))
                for name in FAST[c.adapt]
            }
        )

    @property
    def fast_names(self) -> tuple[str, ...]:
        return FAST[self.config.adapt]

    def item_vectors(self, items: Tensor) -> Tensor:
        q = self.item_emb[items] + self.item_features[items] @ self.item_feat_proj
        if self.config.text_dim:
            q = q + self.text_embeddings[items] @ self.text_proj
        return q

    def forward(self, user_features: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        q = self.item_vectors(items)
        base = self.global_bias + self.item_bias[items]
        prior = user_features @ self.user_proj + self.user_proj_bias
        ones = torch.ones_like(q[..., :1])
        if self.config.adapt == "user_embedding":
            user = prior + self.user_vec
            return base + q @ user + self.user_bias, torch.cat([q, ones], dim=-1)
        x = torch.cat([prior.expand_as(q), q, prior * q], dim=-1)
        hidden = torch.relu(x @ self.dec0_w + self.dec0_b)
        hidden = torch.relu(hidden @ self.dec1_w + self.dec1_b)
        return base + hidden @ self.out_w + self.out_b, torch.cat([hidden, ones], dim=-1)
