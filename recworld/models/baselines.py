"""Baselines trained on exactly the same split as the meta-learned model.

* `ItemBias`: ``global mean + item bias`` (shrunk item means); no adaptation.
* `MFFoldIn`: biased matrix factorisation fitted by alternating least squares on the training
  users; a new user's vector and bias are fitted on the support ratings by ridge regression with
  the item factors fixed ("fold-in").
* `train_global`: the same network as the meta-learned model, trained on all training ratings
  as one population model (no meta-learning); `tune_finetune` then picks the fine-tuning rate and
  steps on validation users, giving the ``transfer`` baseline (and ``no_adapt`` with 0 steps).

Every baseline's hyper-parameters are chosen on validation users, never on test users.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from recworld.data import RatingData
from recworld.models.config import MetaConfig
from recworld.models.inputs import ModelInputs, build_net, resolve_device
from recworld.models.io import ModelFileError, check_tensors, load_model_files, save_model_files
from recworld.models.maml import TrainingReport, validation_mae, validation_tasks
from recworld.models.model import Adaptation, EmbeddingModel
from recworld.models.tasks import TaskBatch
from recworld.numerics.factorization import fit_als_on, fold_in, item_means


# ------------------------------------------------------------------ item bias
class ItemBias:
    """``mu + b_i`` with ``b_i = sum(r - mu) / (n_i + shrinkage)`` over training ratings."""

    KIND = "recworld.item_bias"

    def __init__(self, global_mean: float, item_bias: Tensor, rating_range: tuple[float, float]) -> None:
        self.global_mean = float(global_mean)
        self.item_bias = item_bias
        self.rating_range = rating_range

    @classmethod
    def fit(cls, train: RatingData, shrinkage: float = 5.0) -> ItemBias:
        mu = float(np.mean(train.rating, dtype=np.float64))
        means = item_means(train.item, train.rating, train.n_items, prior_count=shrinkage)
        bias = torch.as_tensor(means - mu, dtype=torch.float32)
        return cls(mu, bias, (float(train.rating_scale[0]), float(train.rating_scale[1])))

    def scores(self, batch_size: int, *, clip: bool = True) -> Tensor:
        """Predicted ratings ``[batch_size, n_items]`` (clipped to the scale unless ``clip=False``)."""
        out = self.global_mean + self.item_bias
        return (out.clamp(*self.rating_range) if clip else out).expand(batch_size, -1)

    def save(self, directory: str | Path) -> Path:
        config = {"global_mean": self.global_mean, "rating_range": list(self.rating_range)}
        return save_model_files(directory, self.KIND, {"item_bias": self.item_bias}, config)

    @classmethod
    def load(cls, directory: str | Path) -> ItemBias:
        tensors, config = load_model_files(directory, cls.KIND)
        try:
            mu, lo_hi = float(config["global_mean"]), tuple(config["rating_range"])
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(
                Path(directory) / "config.json", f"bad config ({err})", "save again"
            ) from err
        if set(tensors) != {"item_bias"} or tensors["item_bias"].dim() != 1:
            raise ModelFileError(
                Path(directory) / "model.safetensors", "no 1-D item_bias tensor", "save again"
            )
        return cls(mu, tensors["item_bias"], (float(lo_hi[0]), float(lo_hi[1])))


def tune_item_bias(train: RatingData, tasks: TaskBatch) -> ItemBias:
    best: tuple[float, ItemBias] | None = None
    for shrinkage in (1.0, 3.0, 10.0, 25.0):
        model = ItemBias.fit(train, shrinkage)
        pred = model.scores(len(tasks)).gather(1, tasks.query_items)
        mae = float((pred - tasks.query_ratings).abs().mean())
        if best is None or mae < best[0]:
            best = (mae, model)
    assert best is not None
    return best[1]


# ----------------------------------------------------------- MF fold-in (ALS)
class MFFoldIn:
    """Biased MF: ``r ~ mu + b_i + b_u + p_u . q_i``; new users are folded in by ridge regression."""

    KIND = "recworld.mf_foldin"

    def __init__(
        self,
        global_mean: float,
        item_bias: Tensor,
        item_factors: Tensor,
        foldin_reg: float,
        rating_range: tuple[float, float],
        info: dict[str, Any] | None = None,
    ) -> None:
        self.global_mean = float(global_mean)
        self.item_bias = item_bias
        self.item_factors = item_factors
        self.foldin_reg = float(foldin_reg)
        self.rating_range = rating_range
        self.info = dict(info or {})

    @classmethod
    def fit(
        cls,
        train: RatingData,
        *,
        rank: int = 16,
        reg: float = 5.0,
        iterations: int = 15,
        foldin_reg: float = 5.0,
        seed: int = 0,
    ) -> MFFoldIn:
        """Alternating least squares on the training ratings (`recworld.numerics.factorization`, with
        a constant ridge penalty ``reg``)."""
        model = fit_als_on(
            train, rank=rank, reg=reg, n_iter=iterations, rng=np.random.default_rng(seed), penalty="constant"
        )
        return cls(
            model.mu,
            torch.as_tensor(model.item_bias, dtype=torch.float32),
            torch.as_tensor(model.item_factors, dtype=torch.float32),
            foldin_reg,
            (float(train.rating_scale[0]), float(train.rating_scale[1])),
            info={"rank": rank, "reg": reg, "iterations": iterations, "seed": seed},
        )

    def fold_in(self, items: Tensor, ratings: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Users' ``(vector [B, rank], bias [B])`` from their support ratings (ridge ``foldin_reg``, items
        fixed: `recworld.numerics.factorization.fold_in`)."""
        design = torch.cat([torch.ones(len(self.item_bias), 1), self.item_factors], dim=1).double().numpy()
        targets = (ratings.cpu() - self.global_mean - self.item_bias[items.cpu()]).double().numpy()
        solved = fold_in(design, targets, items.cpu().numpy(), mask.cpu().numpy(), self.foldin_reg)
        vectors = torch.as_tensor(solved, dtype=torch.float32)
        return vectors[:, 1:], vectors[:, 0]

    def scores(self, items: Tensor, ratings: Tensor, mask: Tensor, *, clip: bool = True) -> Tensor:
        """Predicted ratings ``[B, n_items]`` after folding in each user's support ratings (clipped
        to the scale unless ``clip=False``)."""
        vec, bias = self.fold_in(items, ratings, mask)
        out = self.global_mean + self.item_bias[None, :] + bias[:, None] + vec @ self.item_factors.T
        return out.clamp(*self.rating_range) if clip else out

    def save(self, directory: str | Path) -> Path:
        config = {
            "global_mean": self.global_mean,
            "foldin_reg": self.foldin_reg,
            "rating_range": list(self.rating_range),
            "rank": int(self.item_factors.shape[1]),
            "n_items": int(self.item_factors.shape[0]),
            "info": self.info,
        }
        tensors = {"item_bias": self.item_bias, "item_factors": self.item_factors}
        return save_model_files(directory, self.KIND, tensors, config)

    @classmethod
    def load(cls, directory: str | Path) -> MFFoldIn:
        tensors, config = load_model_files(directory, cls.KIND)
        try:
            n, rank = int(config["n_items"]), int(config["rank"])
            lo, hi = (float(v) for v in config["rating_range"])
            mu, reg = float(config["global_mean"]), float(config["foldin_reg"])
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(
                Path(directory) / "config.json", f"bad config ({err})", "save again"
            ) from err
        check_tensors(
            Path(directory) / "model.safetensors", tensors, {"item_bias": (n,), "item_factors": (n, rank)}
        )
        return cls(mu, tensors["item_bias"], tensors["item_factors"], reg, (lo, hi), config.get("info"))


def tune_mf(train: RatingData, tasks: TaskBatch, *, seed: int = 0) -> MFFoldIn:
    """Rank, ALS and fold-in regularisation with the best adapted MAE on validation ``tasks``."""
    best: tuple[float, MFFoldIn] | None = None
    for rank, reg in itertools.product((8, 32), (3.0, 10.0, 30.0)):
        model = MFFoldIn.fit(train, rank=rank, reg=reg, seed=seed)
        for foldin_reg in (1.0, 3.0, 10.0, 30.0):
            model.foldin_reg = foldin_reg
            pred = model.scores(tasks.support_items, tasks.support_ratings, tasks.support_mask)
            mae = float((pred.gather(1, tasks.query_items) - tasks.query_ratings).abs().mean())
            if best is None or mae < best[0]:
                best = (
                    mae,
                    MFFoldIn(
                        model.global_mean,
                        model.item_bias,
                        model.item_factors,
                        foldin_reg,
                        model.rating_range,
                        {**model.info, "validation_mae": mae},
                    ),
                )
    assert best is not None
    return best[1]


# ------------------------------------------------- global network + fine-tune
def train_global(
    inputs: ModelInputs,
    config: MetaConfig,
    *,
    use_text: bool,
    batch_size: int = 512,
    progress: bool | None = None,
) -> tuple[EmbeddingModel, TrainingReport]:
    """The meta-model's network trained on all training ratings as one population (no meta-learning).

    Early stopping on the validation users' MAE without adaptation (what this model optimises).
    """
    start = time.perf_counter()
    device = resolve_device(config.device)
    net = build_net(inputs, config, use_text=use_text).to(device)
    rng, val_rng = np.random.default_rng(config.seed + 7919).spawn(2)
    val_tasks = validation_tasks(inputs, config, val_rng, draws=3).to(device)
    train = inputs.train
    uf_all = torch.as_tensor(inputs.user_features, device=device)
    users = torch.as_tensor(train.user, dtype=torch.long, device=device)
    items = torch.as_tensor(train.item, dtype=torch.long, device=device)
    ratings = torch.as_tensor(train.rating, dtype=torch.float32, device=device)
    params = {n: p for n, p in net.named_parameters() if not n.startswith("inner_log_lr.")}
    buffers = dict(net.named_buffers())
    optimizer = torch.optim.Adam(list(params.values()), lr=config.outer_lr, weight_decay=config.weight_decay)

    def one(uf: Tensor, item: Tensor) -> Tensor:
        pred, _ = functional_call(net, {**params, **buffers}, (uf, item[None]))
        return pred[0]

    report = TrainingReport()
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    bar = tqdm(
        range(config.max_epochs), desc="global", disable=(not progress) if progress is not None else None
    )
    for epoch in bar:
        order = torch.as_tensor(rng.permutation(len(ratings)), device=device)
        losses = []
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            pred = vmap(one)(uf_all[users[idx]], items[idx])
            loss = ((pred - ratings[idx]) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        val = validation_mae(net, val_tasks, steps=0, lr=None)
        report.history.append({"epoch": epoch, "train_mse": float(np.mean(losses)), "validation_mae": val})
        report.epochs = epoch + 1
        if val < report.best_validation_mae - 1e-5:
            report.best_validation_mae, report.best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        bar.set_postfix(val_mae=f"{val:.4f}")
        if epoch - report.best_epoch >= config.patience:
            break
    bar.close()
    net.load_state_dict(best_state)
    report.seconds = time.perf_counter() - start
    info = {"trainer": "global", "meta_config": config.to_dict(), "use_text": use_text}
    model = EmbeddingModel(net, adaptation=Adaptation(steps=0, lr=None), info=info)
    model.info["training"] = {k: v for k, v in report.to_dict().items() if k != "history"}
    return model, report


def tune_finetune(
    model: EmbeddingModel,
    tasks: TaskBatch,
    *,
    lrs: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1),
    steps: tuple[int, ...] = (3, 10, 30),
) -> EmbeddingModel:
    """The fine-tuning rule (plain gradient steps on the support set) with the best validation MAE."""
    best: tuple[float, int, float] | None = None
    for n_steps, lr in itertools.product(steps, lrs):
        mae = validation_mae(model.net, tasks, steps=n_steps, lr=lr)
        if np.isfinite(mae) and (best is None or mae < best[0]):
            best = (mae, n_steps, lr)
    if best is None:
        raise RuntimeError("every fine-tuning rate diverged on the validation users")
    tuned = model.with_adaptation(best[1], best[2])
    tuned.info = {**model.info, "finetune": {"steps": best[1], "lr": best[2], "validation_mae": best[0]}}
    return tuned
