import dataclasses

import numpy as np
import pytest
import torch
from torch.func import functional_call

from recworld.models import MetaConfig, ModelConfig, RecNet, meta_train
from recworld.models.adaptation import adapt_fast, predict_fast, split_params
from recworld.models.maml import meta_loss
from recworld.models.tasks import sample_tasks


def tiny_net(adapt="user_embedding", seed=0):
    config = ModelConfig(
        n_items=7, n_user_features=3, n_item_features=2, dim=3, hidden=4, adapt=adapt, inner_lr=0.05
    )
    net = RecNet(config, generator=torch.Generator().manual_seed(seed)).double()
    net.item_features.copy_(torch.rand(7, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    return net


def tiny_batch(b=3, n=4, q=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        uf=torch.randn(b, 3, generator=g, dtype=torch.float64),
        s_items=torch.randint(0, 7, (b, n), generator=g),
        s_r=torch.randint(1, 6, (b, n), generator=g).double(),
        s_mask=torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)[:b, :n],
        q_items=torch.randint(0, 7, (b, q), generator=g),
        q_r=torch.randint(1, 6, (b, q), generator=g).double(),
    )


def outer_grads(net, batch, *, steps, first_order):
    params = dict(net.named_parameters())
    fast = adapt_fast(
        net,
        params,
        batch["uf"],
        batch["s_items"],
        batch["s_r"],
        batch["s_mask"],
        steps=steps,
        lr=None,
        first_order=first_order,
    )
    pred, _ = predict_fast(net, params, fast, batch["uf"], batch["q_items"])
    loss = ((pred - batch["q_r"]) ** 2).mean()
    return dict(zip(params, torch.autograd.grad(loss, list(params.values()), allow_unused=True), strict=True))


def hand_unrolled_grads(net, batch, *, steps):
    """The same MAML objective with a Python loop over tasks and torch.autograd.grad(create_graph=True)."""
    params = dict(net.named_parameters())
    buffers = dict(net.named_buffers())
    fast_names = net.fast_names
    total = 0.0
    b = len(batch["uf"])
    for t in range(b):
        fast = {n: params[n] for n in fast_names}
        slow = {n: p for n, p in params.items() if n not in fast_names}
        for _ in range(steps):
            pred, _ = functional_call(net, {**slow, **buffers, **fast}, (batch["uf"][t], batch["s_items"][t]))
            loss = (batch["s_mask"][t].double() * (pred - batch["s_r"][t]) ** 2).sum()
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
            fast = {
                n: fast[n] - params[f"inner_log_lr.{n}"].exp() * g for n, g in zip(fast, grads, strict=True)
            }
        pred, _ = functional_call(net, {**slow, **buffers, **fast}, (batch["uf"][t], batch["q_items"][t]))
        total = total + ((pred - batch["q_r"][t]) ** 2).mean() / b
    return dict(
        zip(params, torch.autograd.grad(total, list(params.values()), allow_unused=True), strict=True)
    )


@pytest.mark.parametrize("adapt", ["user_embedding", "decision_layers"])
def test_torch_func_matches_a_hand_unrolled_inner_loop(adapt):
    net, batch = tiny_net(adapt), tiny_batch()
    ours = outer_grads(net, batch, steps=2, first_order=False)
    ref = hand_unrolled_grads(net, batch, steps=2)
    for name in ours:
        if ref[name] is None:
            assert ours[name] is None or torch.count_nonzero(ours[name]) == 0
            continue
        torch.testing.assert_close(ours[name], ref[name], rtol=1e-9, atol=1e-10, msg=name)


def test_second_order_differs_from_first_order():
    net, batch = tiny_net("decision_layers"), tiny_batch()
    second = outer_grads(net, batch, steps=2, first_order=False)
    first = outer_grads(net, batch, steps=2, first_order=True)
    # The gradient through the initial fast weights carries the Hessian term only in second order.
    assert not torch.allclose(second["dec0_w"], first["dec0_w"])
    assert not torch.allclose(second["item_emb"], first["item_emb"])
    # With no inner step the two coincide.
    zero2 = outer_grads(net, batch, steps=0, first_order=False)
    zero1 = outer_grads(net, batch, steps=0, first_order=True)
    torch.testing.assert_close(zero2["dec0_w"], zero1["dec0_w"])


def test_padding_does_not_change_adaptation():
    net, batch = tiny_net(), tiny_batch()
    params = dict(net.named_parameters())
    args = (batch["uf"], batch["s_items"], batch["s_r"], batch["s_mask"])
    fast = adapt_fast(net, params, *args, steps=3)
    padded = [torch.cat([x, x[:, :2]], dim=1) for x in args[1:]]
    padded[2] = torch.cat([batch["s_mask"], torch.zeros(3, 2, dtype=torch.bool)], dim=1)
    fast_padded = adapt_fast(net, params, batch["uf"], *padded, steps=3)
    for name in fast:
        torch.testing.assert_close(fast[name], fast_padded[name])
    # A user with no observed rating keeps the meta-learned prior.
    fast0, _ = split_params(net)
    empty = adapt_fast(
        net, params, batch["uf"], batch["s_items"], batch["s_r"], torch.zeros_like(batch["s_mask"]), steps=3
    )
    torch.testing.assert_close(empty["user_vec"], fast0["user_vec"].expand(3, -1))


def test_meta_loss_decreases_and_training_is_deterministic(tiny_inputs, tiny_config):
    model_a, report_a = meta_train(tiny_inputs, tiny_config, use_text=False, progress=False)
    model_b, _ = meta_train(tiny_inputs, tiny_config, use_text=False, progress=False)
    state_a, state_b = model_a.net.state_dict(), model_b.net.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name
    assert model_a.calibration == model_b.calibration
    assert report_a.epochs >= 1 and np.isfinite(report_a.best_validation_mae)
    other, _ = meta_train(
        tiny_inputs, dataclasses.replace(tiny_config, seed=1), use_text=False, progress=False
    )
    assert not torch.equal(other.net.item_emb, model_a.net.item_emb)


def test_outer_step_reduces_the_meta_loss(tiny_inputs, tiny_config):
    from recworld.models.inputs import build_net

    torch.manual_seed(0)
    net = build_net(tiny_inputs, tiny_config, use_text=False)
    params = dict(net.named_parameters())
    tasks = sample_tasks(
        tiny_inputs.data,
        tiny_inputs.split.train,
        tiny_inputs.user_features,
        rng=np.random.default_rng(0),
        k_max=5,
        n_query=5,
    )
    optimizer = torch.optim.Adam(params.values(), lr=1e-2)
    first = float(meta_loss(net, params, tasks, tiny_config).detach())
    for _ in range(20):
        loss = meta_loss(net, params, tasks, tiny_config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(meta_loss(net, params, tasks, tiny_config).detach()) < first


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inner_steps", -1, "inner_steps"),
        ("batch_size", 0, "batch_size"),
        ("outer_lr", 0.0, "outer_lr"),
        ("use_text", "yes", "use_text"),
        ("adapt", "everything", "adapt"),
    ],
)
def test_invalid_configs_say_which_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        cfg = MetaConfig(**{field: value})
        ModelConfig(n_items=3, n_user_features=0, n_item_features=0, adapt=cfg.adapt)
