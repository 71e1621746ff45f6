"""Meta-training with MAML, written with `torch.func` (``functional_call``, ``grad``, ``vmap``).

Each outer step takes a batch of training users. For each (in parallel, ``vmap``) the fast
parameters take ``inner_steps`` gradient steps on K support ratings (K drawn per task from
``0..k_max``), then the query loss (MSE over ``n_query`` ratings) of the adapted model is averaged
and back-propagated to the slow parameters, the fast parameters' initial values and (Meta-SGD)
the per-element inner learning rates: second order by default, first order as an option. Adam is
the outer optimiser. After every epoch (one task per training user, freshly drawn) the validation
users' adapted MAE decides early stopping; the best epoch's weights are kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from recworld.models.adaptation import adapt_fast, predict_fast
from recworld.models.config import MetaConfig
from recworld.models.inputs import ModelInputs, build_net, resolve_device
from recworld.models.model import Adaptation, EmbeddingModel
from recworld.models.network import RecNet
from recworld.models.tasks import TaskBatch, sample_tasks
from recworld.models.uncertainty import calibrate


@dataclass
class TrainingReport:
    """What happened during training: per-epoch losses, the best epoch, wall time."""

    epochs: int = 0
    best_epoch: int = -1
    best_validation_mae: float = math.inf
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "best_validation_mae": self.best_validation_mae,
            "seconds": self.seconds,
            "history": self.history,
        }


def meta_loss(net: RecNet, params: Mapping[str, Tensor], batch: TaskBatch, config: MetaConfig) -> Tensor:
    """Mean query MSE after adapting to each task's support set (the MAML outer objective)."""
    fast = adapt_fast(
        net,
        params,
        batch.user_features,
        batch.support_items,
        batch.support_ratings,
        batch.support_mask,
        steps=config.inner_steps,
        lr=None if config.learn_inner_lr else config.inner_lr,
        first_order=config.first_order,
    )
    pred, _ = predict_fast(net, params, fast, batch.user_features, batch.query_items)
    return ((pred - batch.query_ratings) ** 2).mean()


@torch.no_grad()
def adapted_query_predictions(
    net: RecNet, tasks: TaskBatch, *, steps: int, lr: float | None, chunk: int = 1024
) -> tuple[Tensor, Tensor, Tensor]:
    """``(query mean [B, q] clipped, query phi [B, q, m], support phi [B, k, m])`` after adaptation."""
    params = dict(net.named_parameters())
    means, qphis, sphis = [], [], []
    for start in range(0, len(tasks), chunk):
        part = tasks[slice(start, start + chunk)]
        fast = adapt_fast(
            net,
            params,
            part.user_features,
            part.support_items,
            part.support_ratings,
            part.support_mask,
            steps=steps,
            lr=lr,
            first_order=True,
        )
        mean, qphi = predict_fast(net, params, fast, part.user_features, part.query_items)
        _, sphi = predict_fast(net, params, fast, part.user_features, part.support_items)
        means.append(mean.clamp(net.config.rating_min, net.config.rating_max))
        qphis.append(qphi)
        sphis.append(sphi)
    return torch.cat(means), torch.cat(qphis), torch.cat(sphis)


def validation_mae(net: RecNet, tasks: TaskBatch, *, steps: int, lr: float | None) -> float:
    mean, _, _ = adapted_query_predictions(net, tasks, steps=steps, lr=lr)
    return float((mean - tasks.query_ratings).abs().mean())


def calibrate_model(model: EmbeddingModel, tasks: TaskBatch) -> EmbeddingModel:
    """Fit the uncertainty's noise and prior scales on (validation) tasks; returns the model."""
    mean, qphi, sphi = adapted_query_predictions(
        model.net, tasks, steps=model.adaptation.steps, lr=model.adaptation.lr
    )
    model.calibration = calibrate(mean, tasks.query_ratings, qphi, sphi, tasks.support_mask)
    return model


def validation_tasks(
    inputs: ModelInputs, config: MetaConfig, rng: np.random.Generator, draws: int
) -> TaskBatch:
    """``draws`` task sets over the validation users, concatenated (fixed for the whole run)."""
    data, users = inputs.data, inputs.split.validation
    parts = [
        sample_tasks(data, users, inputs.user_features, rng=rng, k_max=config.k_max, n_query=config.n_query)
        for _ in range(draws)
    ]
    return TaskBatch(**{name: torch.cat([getattr(p, name) for p in parts]) for name in vars(parts[0])})


def meta_train(
    inputs: ModelInputs,
    config: MetaConfig,
    *,
    use_text: bool,
    progress: bool | None = None,
    log_dir: str | Path | None = None,
    name: str = "meta",
    init: EmbeddingModel | None = None,
) -> tuple[EmbeddingModel, TrainingReport]:
    """Meta-train an `EmbeddingModel` on the split's training users (early stopping on validation users).

    ``progress=None`` shows a bar only on a terminal; ``log_dir`` writes TensorBoard scalars
    (needs the ``tensorboard`` package). ``init`` starts from another model's weights (for example
    the globally trained network) instead of a random initialisation.
    """
    start = time.perf_counter()
    device = resolve_device(config.device)
    net = build_net(inputs, config, use_text=use_text).to(device)
    if init is not None:
        net.load_state_dict(init.net.state_dict())
    train_rng, val_rng = np.random.default_rng(config.seed).spawn(2)
    val_tasks = validation_tasks(inputs, config, val_rng, draws=3).to(device)
    train_users = inputs.split.train
    lr = None if config.learn_inner_lr else config.inner_lr
    params = dict(net.named_parameters())
    trainable = [p for n, p in params.items() if config.learn_inner_lr or not n.startswith("inner_log_lr.")]
    optimizer = torch.optim.Adam(trainable, lr=config.outer_lr, weight_decay=config.weight_decay)
    writer = _summary_writer(log_dir)
    report = TrainingReport()
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    bar = tqdm(range(config.max_epochs), desc=name, disable=(not progress) if progress is not None else None)
    for epoch in bar:
        tasks = sample_tasks(
            inputs.data,
            train_users,
            inputs.user_features,
            rng=train_rng,
            k_max=config.k_max,
            n_query=config.n_query,
        )
        order = train_rng.permutation(len(tasks))
        losses = []
        for b in range(0, len(order), config.batch_size):
            batch = tasks[order[b : b + config.batch_size]].to(device)
            loss = meta_loss(net, params, batch, config)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        val = validation_mae(net, val_tasks, steps=config.inner_steps, lr=lr)
        row = {"epoch": epoch, "train_query_mse": float(np.mean(losses)), "validation_mae": val}
        report.history.append(row)
        report.epochs = epoch + 1
        if writer is not None:
            writer.add_scalar(f"{name}/train_query_mse", row["train_query_mse"], epoch)
            writer.add_scalar(f"{name}/validation_mae", val, epoch)
        if val < report.best_validation_mae - 1e-5:
            report.best_validation_mae, report.best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        bar.set_postfix(val_mae=f"{val:.4f}", best=f"{report.best_validation_mae:.4f}")
        if epoch - report.best_epoch >= config.patience:
            break
    bar.close()
    if writer is not None:
        writer.close()
    net.load_state_dict(best_state)
    model = EmbeddingModel(
        net,
        adaptation=Adaptation(steps=config.inner_steps, lr=lr),
        info={"trainer": "maml", "meta_config": config.to_dict(), "use_text": use_text},
    )
    calibrate_model(model, val_tasks)
    report.seconds = time.perf_counter() - start
    model.info["training"] = {k: v for k, v in report.to_dict().items() if k != "history"}
    return model, report


def _summary_writer(log_dir: str | Path | None) -> Any:
    if log_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "TensorBoard logging needs the tensorboard package: pip install tensorboard"
        ) from err
    return SummaryWriter(log_dir=str(log_dir))
