import numpy as np
import pytest

from recworld.data import split_users, support_query
from recworld.data.rating_data import build_rating_data


def random_data(n_users=60, n_items=40, seed=0):
    """Random ratings where user u rated 5 + u % 30 items, each at a distinct time."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, size=5 + u % 30, replace=False)
        users += [str(u)] * len(chosen)
        items += [str(i) for i in chosen]
    n = len(users)
    return build_rating_data(
        name="random",
        raw_user=users,
        raw_item=items,
        rating=rng.integers(1, 6, n).astype(float),
        timestamp=rng.permutation(n) + 1_000,
        users=None,
        items=None,
        genres=(),
        rating_scale=(1.0, 5.0),
    )


def test_split_is_disjoint_complete_and_seeded():
    data = random_data()
    split = split_users(data, fractions=(0.7, 0.1, 0.2), seed=3)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == data.n_users
    assert len(np.unique(np.concatenate(parts))) == data.n_users
    assert (len(split.test), len(split.validation)) == (12, 6)
    again = split_users(data, fractions=(0.7, 0.1, 0.2), seed=3)
    for a, b in zip(parts, [again.train, again.validation, again.test], strict=True):
        assert np.array_equal(a, b)
    other = split_users(data, fractions=(0.7, 0.1, 0.2), seed=4)
    assert not np.array_equal(split.test, other.test)


def test_ratings_filter_follows_melu_bounds():
    data = random_data()
    split = split_users(data, min_ratings=13, max_ratings=20, seed=0)
    counts = data.counts_per_user()
    kept = np.concatenate([split.train, split.validation, split.test])
    assert ((counts[kept] >= 13) & (counts[kept] <= 20)).all()
    assert set(split.excluded) == set(np.flatnonzero((counts < 13) | (counts > 20)))


def test_test_users_never_reach_the_training_side():
    data = random_data()
    split = split_users(data, seed=1)
    train = split.ratings(data, "train")
    assert not np.isin(train.user, split.test).any()
    assert not np.isin(train.user, split.validation).any()
    assert (
        train.n_ratings + split.ratings(data, "validation").n_ratings + split.ratings(data, "test").n_ratings
        == data.n_ratings
    )


@pytest.mark.parametrize("order", ["random", "time"])
def test_support_and_query_are_disjoint_and_belong_to_the_user(order):
    data = random_data()
    tasks = support_query(data, np.arange(data.n_users), k=5, n_query=10, rng=0, order=order)
    counts = data.counts_per_user()
    assert set(tasks.skipped) == set(np.flatnonzero(counts < 15))
    assert tasks.support.shape == (len(tasks.users), 5) and tasks.query.shape == (len(tasks.users), 10)
    assert (data.user[tasks.support] == tasks.users[:, None]).all()
    assert (data.user[tasks.query] == tasks.users[:, None]).all()
    for s, q in zip(tasks.support, tasks.query, strict=True):
        assert not set(s) & set(q)
    if order == "time":
        assert (data.timestamp[tasks.support].max(axis=1) < data.timestamp[tasks.query].min(axis=1)).all()
        # The query holds the user's latest ratings.
        last = np.array([data.timestamp[data.user == u].max() for u in tasks.users])
        assert (data.timestamp[tasks.query].max(axis=1) == last).all()


def test_support_query_is_reproducible_and_varies_with_the_seed():
    data = random_data()
    a = support_query(data, np.arange(30), k=3, rng=np.random.default_rng(7))
    b = support_query(data, np.arange(30), k=3, rng=np.random.default_rng(7))
    c = support_query(data, np.arange(30), k=3, rng=np.random.default_rng(8))
    assert np.array_equal(a.support, b.support) and np.array_equal(a.query, b.query)
    assert not np.array_equal(a.support, c.support)


def test_zero_support_is_allowed():
    tasks = support_query(random_data(), np.arange(10, 20), k=0, n_query=10, rng=0)
    assert tasks.support.shape == (len(tasks.users), 0)
