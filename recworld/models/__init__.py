"""The meta-learned recommendation embedding model, its baselines, evaluation and save/load.

>>> from recworld.data import load_dataset, split_users
>>> from recworld.models import MetaConfig, meta_train, prepare_inputs
>>> data = load_dataset("movielens-100k")                                        # doctest: +SKIP
>>> inputs = prepare_inputs(data, split_users(data, min_ratings=13, max_ratings=100), text=False)
>>> model, report = meta_train(inputs, MetaConfig(), use_text=False)             # doctest: +SKIP
>>> users = model.adapt(items, ratings, mask, user_features)                      # doctest: +SKIP
>>> mean, std = users.predict()                                                   # doctest: +SKIP
"""

from recworld.models.baselines import ItemBias, MFFoldIn, train_global, tune_finetune
from recworld.models.config import MetaConfig, ModelConfig
from recworld.models.evaluate import KS, METRICS, format_report, format_table
from recworld.models.inputs import ModelInputs, prepare_inputs, resolve_device
from recworld.models.io import ModelFileError
from recworld.models.maml import TrainingReport, meta_train
from recworld.models.model import Adaptation, AdaptedUsers, EmbeddingModel
from recworld.models.network import RecNet
from recworld.models.plots import plot_cold_start
from recworld.models.suite import evaluate_suite, train_suite
from recworld.models.text import item_text_embeddings, text_available
from recworld.models.uncertainty import Calibration

__all__ = [
    "KS",
    "METRICS",
    "Adaptation",
    "AdaptedUsers",
    "Calibration",
    "EmbeddingModel",
    "ItemBias",
    "MFFoldIn",
    "MetaConfig",
    "ModelConfig",
    "ModelFileError",
    "ModelInputs",
    "RecNet",
    "TrainingReport",
    "evaluate_suite",
    "format_report",
    "format_table",
    "item_text_embeddings",
    "meta_train",
    "plot_cold_start",
    "prepare_inputs",
    "resolve_device",
    "text_available",
    "train_global",
    "train_suite",
    "tune_finetune",
]
