import numpy as np
import pytest

from recworld.data import RatingData, detect_format, load_directory
from tests.data.formats import GENRES, ITEMS, RATINGS, USERS, WRITERS


@pytest.fixture(params=sorted(WRITERS))
def fmt(request):
    return request.param


def test_detects_each_format(tmp_path, fmt):
    WRITERS[fmt](tmp_path)
    assert detect_format(tmp_path) == fmt


def test_every_format_reads_the_same_content(tmp_path, fmt):
    reference = load_directory(WRITERS["ml-100k"](tmp_path / "ref"))
    data = load_directory(WRITERS[fmt](tmp_path / fmt))
    assert data.checksum() == reference.checksum()
    assert (data.n_users, data.n_items, data.n_ratings) == (4, 4, len(RATINGS))
    # Raw ids are ordered numerically ("12" after "3"), in both directions.
    assert list(data.user_ids) == ["1", "2", "3", "12"]
    assert data.user_index("12") == 3 and data.user_index(12) == 3
    assert list(data.item_index(["40", "10"])) == [3, 0]
    # Each rating lands on the right (user, item) cell.
    dense = data.rating_matrix().toarray()
    for u, i, r, _ in RATINGS:
        assert dense[data.user_index(u), data.item_index(i)] == r
    # Side information survives every format the same way.
    assert data.item_text() == reference.item_text()
    assert data.item_text()[1] == "Amélie (2001) — Comedy, Romance"
    assert data.items.loc[3, "title"] == "Usual Suspects, The"
    assert data.items["year"].tolist() == [1995.0, 2001.0, 1995.0, 1995.0]
    assert data.items["genres"].tolist() == reference.items["genres"].tolist()
    # Genre vocabularies keep MovieLens' order (ml-100k lists all 19; others list the ones seen).
    assert [g for g in reference.genres if g in data.genres] == list(data.genres)


def test_ratings_are_contiguous_typed_arrays(tmp_path, fmt):
    data = load_directory(WRITERS[fmt](tmp_path))
    assert data.user.dtype == np.int32 and data.item.dtype == np.int32
    assert data.rating.dtype == np.float32 and data.timestamp.dtype == np.int64
    assert data.timestamp.tolist() == [t for *_, t in RATINGS]
    assert data.counts_per_item()[data.item_index("40")] == 0  # unrated catalog item is kept


def test_user_features_encode_demographics(tmp_path):
    data = load_directory(WRITERS["ml-100k"](tmp_path))
    features, names = data.user_features()
    assert features.dtype == np.float32 and features.shape == (len(USERS), len(names))
    assert names[0] == "age" and "gender:F" in names and "occupation:writer" in names
    assert abs(features[:, 0].mean()) < 1e-6  # standardised
    writer = names.index("occupation:writer")
    assert features[:, writer].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_ml_latest_has_no_demographics_and_one_constant_user_feature(tmp_path):
    data = load_directory(WRITERS["ml-latest"](tmp_path))
    features, names = data.user_features()
    assert features.shape == (4, 1) and names == ["constant"]
    assert features.dtype == np.float32 and not features.any()


def test_item_features_are_genres_and_scaled_year(tmp_path):
    data = load_directory(WRITERS["ml-100k"](tmp_path))
    features, names = data.item_features()
    assert features.shape == (len(ITEMS), 20) and names[-1] == "year"
    assert features[:, -1].tolist() == [0.0, 1.0, 0.0, 0.0]
    scifi = names.index("genre:Sci-Fi")
    assert features[:, scifi].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_summary_holds_the_documented_keys(tmp_path):
    summary = load_directory(WRITERS["recbole"](tmp_path)).summary()
    assert {"users", "items", "ratings", "density", "rating_histogram"} <= set(summary)
    assert summary["rating_histogram"] == {"1": 1, "2": 1, "3": 2, "4": 2, "5": 1}
    assert summary["density"] == pytest.approx(7 / 16)
    assert summary["ratings_per_user"]["q100"] == 3.0


def test_select_keeps_the_index_space(tmp_path):
    data = load_directory(WRITERS["ml-100k"](tmp_path))
    part = data.select(data.user == 0)
    assert isinstance(part, RatingData)
    assert part.n_ratings == 3 and part.n_users == data.n_users and part.n_items == data.n_items


def test_ml100k_reads_the_genre_file_when_present(tmp_path):
    d = WRITERS["ml-100k"](tmp_path)
    (d / "u.genre").write_text("".join(f"{g}|{j}\n" for j, g in enumerate(GENRES)) + "\n")
    assert load_directory(d).genres[15] == "Sci-Fi"


def test_blank_lines_are_skipped_and_crlf_accepted(tmp_path):
    d = WRITERS["ml-latest"](tmp_path)
    text = (d / "ratings.csv").read_text()
    (d / "ratings.csv").write_text(text.replace("\n", "\r\n", 3) + "\n\n")
    assert load_directory(d).n_ratings == len(RATINGS)
