"""Real rating data: verified fetch into a cache, loaders for the common formats, user splits.

>>> from recworld.data import load_dataset, split_users
>>> data = load_dataset("movielens-100k")          # doctest: +SKIP
>>> split = split_users(data, min_ratings=13, max_ratings=100, seed=0)  # doctest: +SKIP
"""

from recworld.data.errors import DataError
from recworld.data.fetch import (
    DATASETS,
    cache_root,
    dataset_dir,
    fetch,
    install_cache_entry,
    load,
    load_dataset,
)
from recworld.data.loaders import detect_format, load_directory
from recworld.data.rating_data import RatingData
from recworld.data.splits import SupportQuery, UserSplit, split_users, support_query

__all__ = [
    "DATASETS",
    "DataError",
    "RatingData",
    "SupportQuery",
    "UserSplit",
    "cache_root",
    "dataset_dir",
    "detect_format",
    "fetch",
    "install_cache_entry",
    "load",
    "load_dataset",
    "load_directory",
    "split_users",
    "support_query",
]
