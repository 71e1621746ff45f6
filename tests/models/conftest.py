import pytest

from recworld.data import split_users
from recworld.models import MetaConfig, prepare_inputs
from tests.models.synthetic import synthetic_data


@pytest.fixture(scope="session")
def tiny_data():
    return synthetic_data()


@pytest.fixture(scope="session")
def tiny_inputs(tiny_data):
    split = split_users(tiny_data, min_ratings=13, max_ratings=100, seed=0)
    return prepare_inputs(tiny_data, split, text=False)


@pytest.fixture
def tiny_config():
    return MetaConfig(
        dim=4,
        hidden=8,
        batch_size=16,
        max_epochs=3,
        patience=2,
        k_max=5,
        n_query=5,
        use_text="off",
        device="cpu",
        seed=0,
    )
