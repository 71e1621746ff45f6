"""The inner loop: adapt the fast parameters to each user's support ratings, batched with `torch.func`.

Every user is a task. Histories of different lengths are padded to one width and masked; the
support loss is the *sum* of squared errors over the unmasked ratings, so a user with more ratings
moves further from the meta-learned prior (few steps from the prior on a sum of squares behave like
ridge regression towards it). The same function serves meta-training (second order by default: the
inner gradients stay in the autograd graph; ``first_order=True`` detaches them) and inference.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor
from torch.func import functional_call, grad, vmap

from recworld.models.network import RecNet

Params = dict[str, Tensor]


def split_params(net: RecNet, params: Mapping[str, Tensor] | None = None) -> tuple[Params, Params]:
    """``(fast, slow)``: the adapted tensors, and everything else the forward needs (with buffers)."""
    params = dict(net.named_parameters()) if params is None else dict(params)
    fast = {name: params[name] for name in net.fast_names}
    slow = {
        name: p for name, p in params.items() if name not in fast and not name.startswith("inner_log_lr.")
    }
    slow.update(dict(net.named_buffers()))
    return fast, slow


def inner_rates(net: RecNet, params: Mapping[str, Tensor], lr: float | None) -> Params:
    """Learned per-element rates (``lr=None``) or one fixed rate for every adapted tensor."""
    if lr is None:
        return {name: params[f"inner_log_lr.{name}"].exp() for name in net.fast_names}
    return {name: torch.full_like(params[name], float(lr)) for name in net.fast_names}


def adapt_fast(
    net: RecNet,
    params: Mapping[str, Tensor],
    user_features: Tensor,
    items: Tensor,
    ratings: Tensor,
    mask: Tensor,
    *,
    steps: int,
    lr: float | None = None,
    first_order: bool = False,
) -> Params:
    """Fast parameters after ``steps`` gradient steps on each user's support set.

    Shapes: ``user_features [B, f_u]``, ``items [B, n]`` (long), ``ratings [B, n]``, ``mask [B, n]``
    (bool or 0/1). Returns each adapted tensor with a leading batch dimension ``B``.
    """
    fast0, slow = split_params(net, params)
    rates = inner_rates(net, params, lr)
    weight = mask.to(ratings.dtype)

    def support_loss(fast: Params, uf: Tensor, it: Tensor, r: Tensor, w: Tensor) -> Tensor:
        pred, _ = functional_call(net, {**slow, **fast}, (uf, it))
        return (w * (pred - r) ** 2).sum()

    loss_grad = grad(support_loss)

    def one_user(uf: Tensor, it: Tensor, r: Tensor, w: Tensor) -> Params:
        fast = fast0
        for _ in range(steps):
            g = loss_grad(fast, uf, it, r, w)
            if first_order:
                g = {name: value.detach() for name, value in g.items()}
            fast = {name: fast[name] - rates[name] * g[name] for name in fast}
        return fast

    if items.shape[1] == 0 or steps == 0:
        return {name: value.expand(len(items), *value.shape) for name, value in fast0.items()}
    adapted: Params = vmap(one_user)(user_features, items, ratings, weight)
    return adapted


def predict_fast(
    net: RecNet,
    params: Mapping[str, Tensor],
    fast: Params,
    user_features: Tensor,
    items: Tensor,
) -> tuple[Tensor, Tensor]:
    """``(rating [B, n], phi [B, n, m])`` with batched fast parameters.

    ``items`` is ``[B, n]`` (per user) or ``[n]`` (the same items for every user, computed once).
    """
    _, slow = split_params(net, params)

    def one_user(f: Params, uf: Tensor, it: Tensor) -> tuple[Tensor, Tensor]:
        out: tuple[Tensor, Tensor] = functional_call(net, {**slow, **f}, (uf, it))
        return out

    items_dim = 0 if items.dim() == 2 else None
    result: tuple[Tensor, Tensor] = vmap(one_user, in_dims=(0, 0, items_dim))(fast, user_features, items)
    return result
