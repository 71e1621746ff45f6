"""Checks on the real MovieLens-100K (fetched into the cache by the README's test command)."""

import numpy as np
import pytest

from recworld.data import DATASETS, load_dataset, load_directory, split_users

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("movielens-100k")


def test_counts_and_checksum(ml100k):
    assert (ml100k.n_users, ml100k.n_items, ml100k.n_ratings) == (943, 1682, 100_000)
    assert ml100k.checksum() == DATASETS["movielens-100k"].checksum
    assert ml100k.rating_histogram() == {"1": 6110, "2": 11370, "3": 27145, "4": 34174, "5": 21201}
    assert ml100k.counts_per_user().min() == 20  # every ml-100k user rated at least 20 movies
    assert len(ml100k.genres) == 19
    assert list(ml100k.users.columns) == ["age", "gender", "occupation", "zip_code"]
    assert ml100k.item_text()[0] == "Toy Story (1995) — Animation, Children's, Comedy"


def test_grouplens_files_of_the_same_ratings_give_the_same_checksum(ml100k, tmp_path):
    """The GroupLens reader proven on the real content: write it as u.data/u.item/u.user and re-read."""
    rows = zip(
        ml100k.user_ids[ml100k.user],
        ml100k.item_ids[ml100k.item],
        ml100k.rating.astype(int),
        ml100k.timestamp,
        strict=True,
    )
    (tmp_path / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows))
    genres = ml100k.genres
    lines = []
    for raw, (title, year, item_genres) in zip(
        ml100k.item_ids, ml100k.items.itertuples(index=False), strict=True
    ):
        date = f"01-Jan-{int(year)}" if np.isfinite(year) else ""
        shown = f"{title} ({int(year)})" if np.isfinite(year) else title
        flags = "|".join("1" if g in item_genres else "0" for g in genres)
        lines.append(f"{raw}|{shown}|{date}||http://example.org|{flags}\n")
    (tmp_path / "u.item").write_bytes("".join(lines).encode("latin-1"))
    (tmp_path / "u.user").write_text(
        "".join(
            f"{raw}|{int(a)}|{g}|{o}|{z}\n"
            for raw, (a, g, o, z) in zip(ml100k.user_ids, ml100k.users.itertuples(index=False), strict=True)
        )
    )
    again = load_directory(tmp_path)
    assert again.checksum() == ml100k.checksum()
    assert again.item_text() == ml100k.item_text()
    np.testing.assert_array_equal(again.user_features()[0], ml100k.user_features()[0])


def test_melu_split_on_real_users(ml100k):
    split = split_users(ml100k, min_ratings=13, max_ratings=100, seed=0)
    counts = ml100k.counts_per_user()
    assert len(split.excluded) == int((counts > 100).sum())
    assert len(split.train) + len(split.validation) + len(split.test) == int((counts <= 100).sum())
