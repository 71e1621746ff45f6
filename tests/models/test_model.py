import numpy as np
import pytest
import torch

from recworld.benchmarks.meta_speed import random_histories
from recworld.models import meta_train
from recworld.models.inputs import like_level


@pytest.fixture(scope="module")
def trained(tiny_inputs):
    from recworld.models import MetaConfig

    config = MetaConfig(
        dim=4, batch_size=16, max_epochs=3, patience=2, k_max=5, n_query=5, use_text="off", device="cpu"
    )
    model, _ = meta_train(tiny_inputs, config, use_text=False, progress=False)
    return model


def test_batched_adaptation_shapes(trained, tiny_data):
    items, ratings, mask, features = random_histories(tiny_data, 33, max_len=7, rng=np.random.default_rng(0))
    users = trained.adapt(items, ratings, mask, features)
    assert len(users) == 33
    mean, std = users.predict()
    assert mean.shape == std.shape == (33, tiny_data.n_items)
    assert (mean >= 1).all() and (mean <= 5).all() and (std > 0).all()
    some_mean, some_std = users.predict(torch.tensor([0, 3, 5]))
    torch.testing.assert_close(some_mean, mean[:, [0, 3, 5]])
    torch.testing.assert_close(some_std, std[:, [0, 3, 5]])
    per_user = users.predict(torch.arange(6).repeat(33, 1))[0]
    torch.testing.assert_close(per_user, mean[:, :6])
    p_like = users.like_probability()
    assert p_like.shape == (33, tiny_data.n_items) and ((p_like >= 0) & (p_like <= 1)).all()
    assert torch.equal(p_like >= 0.5, mean >= 3.5)


def test_uncertainty_shrinks_with_more_ratings(trained):
    items = torch.arange(10).repeat(2, 1)
    ratings = torch.full((2, 10), 4.0)
    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[1] = True
    _, std = trained.adapt(items, ratings, mask).predict()
    assert (std[1, :10] < std[0, :10]).all()


def test_no_features_means_the_mean_user(trained):
    items, ratings = torch.tensor([[1, 2]]), torch.tensor([[5.0, 4.0]])
    a = trained.adapt(items, ratings).predict()[0]
    b = trained.adapt(items, ratings, user_features=trained.net.user_feature_mean[None]).predict()[0]
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    ("items", "ratings", "mask", "features", "message"),
    [
        ([[0, 1]], [[4.0]], None, None, "must both be"),
        ([[0, 999]], [[4.0, 3.0]], None, None, "item index 999"),
        ([[0.0, 1.0]], [[4.0, 3.0]], None, None, "integer item indices"),
        ([[0, 1]], [[4.0, float("nan")]], None, None, "NaN"),
        ([[0, 1]], [[4.0, 3.0]], [[True]], None, "mask must have"),
        ([[0, 1]], [[4.0, 3.0]], None, [[1.0]], "user_features must be"),
    ],
)
def test_bad_inputs_are_named(trained, items, ratings, mask, features, message):
    with pytest.raises(ValueError, match=message):
        trained.adapt(
            torch.tensor(items),
            torch.tensor(ratings),
            None if mask is None else torch.tensor(mask),
            None if features is None else torch.tensor(features),
        )


def test_adapting_many_users_is_fast(trained, tiny_data):
    import time

    items, ratings, mask, features = random_histories(
        tiny_data, 1024, max_len=20, rng=np.random.default_rng(1)
    )
    trained.adapt(items, ratings, mask, features)
    start = time.perf_counter()
    trained.adapt(items, ratings, mask, features)
    assert time.perf_counter() - start < 1.0


def test_like_level_is_a_rating_level():
    assert like_level(np.arange(1.0, 6.0), 1.0, 5.0) == 4.0
    assert like_level(np.arange(0.5, 5.01, 0.5), 0.5, 5.0) == 4.0  # not 3.875
    assert like_level(np.arange(1.0, 11.0), 1.0, 10.0) == 8.0
