"""The meta-learned recommendation embedding model, its training, its baselines and save/load. The
cold-start experiment around them (``recworld meta train`` and ``recworld meta eval``) is a benchmark:
`recworld.benchmarks.meta_suite`.

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
from recworld.models.inputs import ModelInputs, prepare_inputs, resolve_device
from recworld.models.io import ModelFileError
from recworld.models.maml import TrainingReport, meta_train
from recworld.models.model import Adaptation, AdaptedUsers, EmbeddingModel
from recworld.models.network import RecNet
from recworld.models.text import item_text_embeddings, text_available
from recworld.models.uncertainty import Calibration

__all__ = [
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
    "item_text_embeddings",
    "meta_train",
    "prepare_inputs",
    "resolve_device",
    "text_available",
    "train_global",
    "tune_finetune",
]
