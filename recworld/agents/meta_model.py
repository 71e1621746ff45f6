"""The meta-learned embedding model that agents use, trained on an environment's training users only.

`trained_meta_model` meta-trains `recworld.models.EmbeddingModel` on the users of
``EnvContext.train_data`` that have 13 to 100 ratings (the MeLU protocol's filter), split into
meta-training and validation users — never an environment's test users. The model is cached on
disk under ``<recworld cache>/models/<key>/`` (the key hashes the training ratings' checksum, the
users of the split and the configuration; written to a temporary directory, then renamed) and
memoised in the process, so every agent of a benchmark shares one model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import weakref

import numpy as np

from recworld import __version__
from recworld.agents.base import AgentError
from recworld.data import RatingData, UserSplit, cache_root, install_cache_entry
from recworld.data.splits import MAX_RATINGS, MIN_RATINGS
from recworld.envs.context import EnvContext
from recworld.models import EmbeddingModel, MetaConfig, ModelFileError, meta_train, prepare_inputs

VALIDATION_FRACTION = 0.1
#: Fast defaults (seconds on a laptop CPU): no text embeddings, early stopping after 5 epochs without gain.
DEFAULT_CONFIG = MetaConfig(use_text="off", device="cpu", max_epochs=30, patience=5)

_memo: weakref.WeakKeyDictionary[RatingData, dict[int, EmbeddingModel]] = weakref.WeakKeyDictionary()


def meta_split(train_data: RatingData, seed: int) -> UserSplit:
    """Meta-training and validation users among the training users with 13–100 ratings."""
    counts = train_data.counts_per_user()
    eligible = np.flatnonzero((counts >= MIN_RATINGS) & (counts <= MAX_RATINGS))
    if len(eligible) < 2:
        raise AgentError(
            f"the environment's training users hold only {len(eligible)} users with {MIN_RATINGS} to "
            f"{MAX_RATINGS} ratings; the meta model needs at least 2"
        )
    shuffled = np.random.default_rng([seed, 7]).permutation(eligible)
    n_val = max(1, round(VALIDATION_FRACTION * len(shuffled)))
    return UserSplit(
        train=np.sort(shuffled[n_val:]),
        validation=np.sort(shuffled[:n_val]),
        test=np.zeros(0, dtype=np.int64),
        excluded=np.flatnonzero(~np.isin(np.arange(train_data.n_users), eligible)),
        seed=seed,
    )


def cache_key(train_data: RatingData, split: UserSplit, config: MetaConfig) -> str:
    """A name that changes with the training ratings, the split's users, the config or recworld."""
    digest = hashlib.sha256()
    for part in (
        train_data.checksum(),
        json.dumps(config.to_dict(), sort_keys=True),
        split.train.astype(np.int64).tobytes().hex(),
        split.validation.astype(np.int64).tobytes().hex(),
        __version__,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"meta-{digest.hexdigest()[:20]}"


def trained_meta_model(context: EnvContext, *, seed: int = 0) -> EmbeddingModel:
    """The meta-learned model of an environment's training users (cached on disk and in memory).

    Raises `AgentError` when the training users are too few to meta-train on.
    """
    by_seed = _memo.setdefault(context.train_data, {})
    if seed not in by_seed:
        by_seed[seed] = _load_or_train(context.train_data, seed)
    return by_seed[seed]


def _load_or_train(train_data: RatingData, seed: int) -> EmbeddingModel:
    split = meta_split(train_data, seed)
    config = dataclasses.replace(DEFAULT_CONFIG, seed=seed)
    target = cache_root() / "models" / cache_key(train_data, split, config)
    if target.is_dir():
        try:
            return EmbeddingModel.load(target)
        except ModelFileError:
            shutil.rmtree(target, ignore_errors=True)  # a damaged entry: train again below
    inputs = prepare_inputs(train_data, split, text=False)
    model, _ = meta_train(inputs, config, use_text=False, progress=False)
    model.info.update(seed=seed, dataset=train_data.name, source="recworld.agents.meta_model")
    model.to("cpu")
    install_cache_entry(target, model.save, target.is_dir)
    return model
