"""Speed of the embedding model: meta-training time and batched adaptation time.

The two figures the models layer promises (meta-training on MovieLens-100K at default settings;
adapting 1,024 users at once), reported by ``recworld bench speed --sections meta``.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any

import numpy as np
import torch

from recworld.data import RatingData, split_users
from recworld.models.config import MetaConfig
from recworld.models.inputs import prepare_inputs, resolve_device, resolve_text
from recworld.models.maml import meta_train
from recworld.models.model import EmbeddingModel


def random_histories(
    data: RatingData, n_users: int, *, max_len: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n_users`` real users' histories (up to ``max_len`` random ratings each), padded and masked."""
    users = rng.choice(data.n_users, size=n_users, replace=n_users > data.n_users)
    order = np.lexsort((rng.random(data.n_ratings), data.user))
    counts = np.bincount(data.user, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lengths = np.minimum(counts[users], rng.integers(1, max_len + 1, size=n_users))
    position = np.arange(max_len)
    mask = position[None, :] < lengths[:, None]
    rows = order[starts[users][:, None] + np.where(mask, position[None, :], 0)]
    features, _ = data.user_features()
    return (
        torch.as_tensor(data.item[rows], dtype=torch.long),
        torch.as_tensor(data.rating[rows], dtype=torch.float32),
        torch.as_tensor(mask),
        torch.as_tensor(features[users], dtype=torch.float32),
    )


def time_adaptation(
    model: EmbeddingModel,
    data: RatingData,
    *,
    n_users: int = 1024,
    max_len: int = 20,
    repeats: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """Median seconds to adapt ``n_users`` users, and to score the whole catalog for them."""
    device = model.device
    items, ratings, mask, features = (
        t.to(device)
        for t in random_histories(data, n_users, max_len=max_len, rng=np.random.default_rng(seed))
    )
    adapt_times, predict_times = [], []
    for _ in range(repeats + 1):  # the first round warms up
        _sync(device)
        start = time.perf_counter()
        users = model.adapt(items, ratings, mask, features)
        _sync(device)
        middle = time.perf_counter()
        users.predict()
        _sync(device)
        adapt_times.append(middle - start)
        predict_times.append(time.perf_counter() - middle)
    return {
        "users": n_users,
        "history_len_max": max_len,
        "inner_steps": model.adaptation.steps,
        "adapt_seconds": statistics.median(adapt_times[1:]),
        "predict_all_items_seconds": statistics.median(predict_times[1:]),
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_speed_benchmark(
    data: RatingData, *, device: str = "auto", seed: int = 0, progress: bool | None = None
) -> dict[str, Any]:
    """Meta-train at default settings (MeLU split, ``seed``) and time batched adaptation."""
    config = MetaConfig(device=device, seed=seed)
    use_text = resolve_text(config.use_text)
    split = split_users(data, min_ratings=13, max_ratings=100, seed=seed)
    start = time.perf_counter()
    inputs = prepare_inputs(data, split, text=use_text)
    prepare_seconds = time.perf_counter() - start
    model, report = meta_train(inputs, config, use_text=use_text, progress=progress)
    return {
        "dataset": data.name,
        "device": str(resolve_device(device)),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "text": use_text,
        "prepare_inputs_seconds": prepare_seconds,
        "meta_training_seconds": report.seconds,
        "epochs": report.epochs,
        "best_epoch": report.best_epoch,
        "seconds_per_epoch": report.seconds / max(report.epochs, 1),
        "adaptation": time_adaptation(model, data, seed=seed),
    }
