"""The cold-start experiment behind ``recworld meta train`` and ``recworld meta eval``.

``train_suite`` trains, for each seed, the meta-learned model (with text embeddings when the
``text`` extra is installed, and ``meta_notext`` without them for the ablation), the transfer
baseline (the same network trained globally, fine-tuned on the support set; ``no_adapt`` is the
same weights with no fine-tuning), MF fold-in and item bias, all on that seed's user split
(``split_users(min_ratings=13, max_ratings=100, seed=seed)``), and saves each under
``OUT/seed_<s>/<model>/``. ``evaluate_suite`` reloads them and evaluates on each seed's test users.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recworld import __version__
from recworld.benchmarks.meta_evaluate import (
    KS,
    Columns,
    Scorer,
    concat_columns,
    embedding_scorer,
    evaluate_scorers,
    evaluation_tasks,
    item_bias_scorer,
    mf_scorer,
    paired_difference,
    summarise,
    without_uncertainty,
)
from recworld.data import RatingData, load_dataset, split_users
from recworld.data.splits import MAX_RATINGS, MIN_RATINGS
from recworld.models.baselines import ItemBias, MFFoldIn, train_global, tune_finetune, tune_item_bias, tune_mf
from recworld.models.config import MetaConfig
from recworld.models.inputs import prepare_inputs, resolve_device, resolve_text
from recworld.models.io import ModelFileError
from recworld.models.maml import calibrate_model, meta_train, validation_tasks
from recworld.models.model import EmbeddingModel
from recworld.numerics.statistics import bootstrap_indices

SUITE_FILE = "suite.json"


def _seed_dir(out: Path, seed: int) -> Path:
    return out / f"seed_{seed}"


def train_suite(
    data: RatingData,
    out: str | Path,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    config: MetaConfig | None = None,
    ablation: bool = True,
    baselines: bool = True,
    progress: bool | None = None,
    log_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train every model for every seed into ``out``; returns (and writes) the suite summary."""
    config = config or MetaConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    use_text = resolve_text(config.use_text)
    summary: dict[str, Any] = {
        "dataset": data.name,
        "checksum": data.checksum(),
        "seeds": list(seeds),
        "split": {"min_ratings": MIN_RATINGS, "max_ratings": MAX_RATINGS, "fractions": [0.8, 0.1, 0.1]},
        "meta_config": config.to_dict(),
        "text": use_text,
        "device": str(resolve_device(config.device)),
        "versions": {
            "recworld": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
        },
        "models": {},
    }
    for seed in seeds:
        seed_config = dataclasses.replace(config, seed=seed)
        split = split_users(data, min_ratings=MIN_RATINGS, max_ratings=MAX_RATINGS, seed=seed)
        inputs = prepare_inputs(data, split, text=use_text)
        val = validation_tasks(inputs, seed_config, np.random.default_rng([seed, 3]), draws=3)
        record: dict[str, Any] = {}
        variants = [("meta", use_text)] + ([("meta_notext", False)] if ablation and use_text else [])
        for name, text in variants:
            log = None if log_dir is None else Path(log_dir) / f"seed_{seed}"
            model, report = meta_train(
                inputs, seed_config, use_text=text, progress=progress, log_dir=log, name=name
            )
            model.info.update(seed=seed, dataset=data.name)
            model.to("cpu").save(_seed_dir(out, seed) / name)
            record[name] = {
                "seconds": report.seconds,
                "epochs": report.epochs,
                "best_epoch": report.best_epoch,
                "validation_mae": report.best_validation_mae,
                "calibration": model.calibration.to_dict(),
            }
        if baselines:
            start = time.perf_counter()
            global_model, report = train_global(inputs, seed_config, use_text=use_text, progress=progress)
            val_device = val.to(global_model.device)
            transfer = calibrate_model(tune_finetune(global_model, val_device), val_device)
            transfer.info.update(seed=seed, dataset=data.name)
            transfer.to("cpu").save(_seed_dir(out, seed) / "transfer")
            record["transfer"] = {"seconds": time.perf_counter() - start, **transfer.info["finetune"]}
            start = time.perf_counter()
            val_cpu = val.to("cpu")
            tune_mf(inputs.train, val_cpu, seed=seed).save(_seed_dir(out, seed) / "mf_foldin")
            tune_item_bias(inputs.train, val_cpu).save(_seed_dir(out, seed) / "item_bias")
            record["mf_foldin+item_bias"] = {"seconds": time.perf_counter() - start}
        summary["models"][f"seed_{seed}"] = record
        (out / SUITE_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def load_scorers(seed_dir: Path) -> tuple[dict[str, Scorer], EmbeddingModel | None]:
    """The scorers of every model saved under one seed's directory (``no_adapt`` from ``transfer``,
    without an uncertainty: its calibration was fitted for the fine-tuning rule, not for this one)."""
    scorers: dict[str, Scorer] = {}
    reference: EmbeddingModel | None = None
    for name in ("meta", "meta_notext"):
        if (seed_dir / name).exists():
            model = EmbeddingModel.load(seed_dir / name)
            reference = reference or model
            scorers[name] = embedding_scorer(model)
    if (seed_dir / "transfer").exists():
        transfer = EmbeddingModel.load(seed_dir / "transfer")
        reference = reference or transfer
        scorers["transfer"] = embedding_scorer(transfer)
        scorers["no_adapt"] = without_uncertainty(embedding_scorer(transfer.with_adaptation(0)))
    if (seed_dir / "item_bias").exists():
        scorers["item_bias"] = item_bias_scorer(ItemBias.load(seed_dir / "item_bias"))
    if (seed_dir / "mf_foldin").exists():
        scorers["mf_foldin"] = mf_scorer(MFFoldIn.load(seed_dir / "mf_foldin"))
    return scorers, reference


def evaluate_suite(
    model_dir: str | Path,
    *,
    ks: Sequence[int] = KS,
    n_query: int = 10,
    n_boot: int = 2000,
    data: RatingData | None = None,
) -> dict[str, Any]:
    """Evaluate a `train_suite` directory on each seed's test users; returns the full report.

    ``report["results"]`` is the ``--json`` object ``{model: {K: {metric: {mean, ci_low, ci_high, n}}}}``.
    """
    model_dir = Path(model_dir)
    suite_path = model_dir / SUITE_FILE
    if not suite_path.exists():
        raise ModelFileError(
            suite_path, "missing", "give a directory written by `recworld meta train --out DIR`"
        )
    try:
        suite = json.loads(suite_path.read_text())
        dataset, seeds, checksum = suite["dataset"], list(suite["seeds"]), suite["checksum"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ModelFileError(
            suite_path, f"unreadable suite summary ({err})", "train the suite again"
        ) from err
    data = data if data is not None else load_dataset(dataset)
    if data.checksum() != checksum:
        raise ModelFileError(
            suite_path,
            f"the models were trained on data with checksum {checksum[:12]}…, "
            f"but {data.name} now has {data.checksum()[:12]}…",
            "evaluate on the data the suite was trained on, or train again",
        )
    user_features, _ = data.user_features()
    per_seed: list[dict[str, dict[int, Columns]]] = []
    coverage: dict[str, Any] = {}
    for seed in seeds:
        scorers, reference = load_scorers(_seed_dir(model_dir, seed))
        if not scorers:
            raise ModelFileError(_seed_dir(model_dir, seed), "holds no saved model", "train the suite again")
        split = split_users(data, min_ratings=MIN_RATINGS, max_ratings=MAX_RATINGS, seed=seed)
        tasks, skipped = evaluation_tasks(data, split.test, user_features, ks=ks, n_query=n_query, seed=seed)
        coverage[f"seed_{seed}"] = {
            "test_users": len(split.test),
            "evaluated": len(tasks),
            "skipped": skipped,
        }
        config = reference.config if reference is not None else None
        per_seed.append(
            evaluate_scorers(
                scorers,
                tasks,
                ks=ks,
                like_threshold=config.like_threshold if config else 4.0,
                rating_step=config.rating_step if config else 1.0,
                rating_range=(float(data.rating_scale[0]), float(data.rating_scale[1])),
            )
        )
    names = [n for n in per_seed[0] if all(n in p for p in per_seed)]
    columns = {n: {k: concat_columns([p[n][k] for p in per_seed]) for k in ks} for n in names}
    results = summarise(columns, n_boot=n_boot)
    comparisons: dict[str, Any] = {}
    for other in ("transfer", "mf_foldin", "meta_notext", "no_adapt", "item_bias"):
        if "meta" in columns and other in columns:
            comparisons[f"meta-{other}"] = {
                str(k): paired_difference(
                    columns["meta"][k],
                    columns[other][k],
                    "mae",
                    bootstrap_indices(len(columns["meta"][k]["n"]), n_boot=n_boot, seed=1),
                )
                for k in ks
            }
    return {
        "dataset": dataset,
        "seeds": seeds,
        "ks": list(ks),
        "n_query": n_query,
        "users": coverage,
        "units": int(sum(c["evaluated"] for c in coverage.values())),
        "protocol": (
            f"same test users for every K: those with >= {max(ks) + n_query} ratings; nested random "
            f"support sets, one random query set of {n_query} per user; CI: percentile bootstrap over "
            f"(seed, user) units, {n_boot} resamples"
        ),
        "results": results,
        "paired_mae_differences": comparisons,
        "suite": {
            k: suite[k]
            for k in ("meta_config", "text", "device", "versions", "machine", "models")
            if k in suite
        },
    }
