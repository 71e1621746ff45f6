"""Property tests (hypothesis) of the rating-file parsers (`recworld.data.loaders`) and of
`build_rating_data`: generated ratings tables written in each format read back to the same triples,
whatever the row order, blank lines and line endings; one corrupted row raises `DataError` naming
the file and that row's line.

Every example writes its files into a fresh temporary directory (never real MovieLens data).
Hypothesis runs derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recworld.data import DataError, detect_format, load_directory
from recworld.data.rating_data import build_rating_data
from tests.data.formats import ITEMS, USERS, WRITERS

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)

#: the ratings file of each format, its field separator and its header line (None: no header)
LAYOUT = {
    "ml-100k": ("u.data", "\t", None),
    "ml-1m": ("ratings.dat", "::", None),
    "ml-latest": ("ratings.csv", ",", "userId,movieId,rating,timestamp"),
    "recbole": ("rated.inter", "\t", "user_id:token\titem_id:token\trating:float\ttimestamp:float"),
}
FORMATS = sorted(LAYOUT)
INTEGER_IDS = ("ml-100k", "ml-1m", "ml-latest")

Row = tuple[str, str, str, int]  # user, item, rating as written, timestamp


def rating_text(fmt: str) -> st.SearchStrategy[str]:
    """Ratings as they appear in each format's files (and on its scale)."""
    if fmt in ("ml-100k", "ml-1m"):
        return st.integers(1, 5).map(str)
    if fmt == "ml-latest":
        return st.sampled_from([f"{k / 2:g}" for k in range(1, 11)] + [f"{k / 2:.1f}" for k in range(1, 11)])
    return st.one_of(
        st.integers(-10, 10).map(str), st.floats(-100, 100, allow_nan=False, width=32).map(lambda x: f"{x!r}")
    )


#: RecBole ids are any token: text, numbers, and strings that pandas would otherwise read as missing
recbole_token = st.one_of(
    st.text("abcxyzAZ019_.", min_size=1, max_size=6),
    st.sampled_from(["NA", "nan", "null", "None", "N/A", "1.0", "#", "-"]),
)


@st.composite
def tables(draw, fmt: str, min_rows: int = 1, max_rows: int = 25) -> list[Row]:
    """Rows with distinct (user, item) pairs, in the given format's id and rating conventions."""
    ids = st.integers(0, 3000).map(str) if fmt in INTEGER_IDS else recbole_token
    pairs = draw(st.lists(st.tuples(ids, ids), min_size=min_rows, max_size=max_rows, unique=True))
    ratings = draw(st.lists(rating_text(fmt), min_size=len(pairs), max_size=len(pairs)))
    stamps = draw(st.lists(st.integers(0, 2**31), min_size=len(pairs), max_size=len(pairs)))
    return [(u, i, r, t) for (u, i), r, t in zip(pairs, ratings, stamps, strict=True)]


@st.composite
def layouts(draw, n_rows: int) -> tuple[str, list[int]]:
    """A line ending, and how many blank lines go before each row (and after the last)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blanks = draw(st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=n_rows + 1, max_size=n_rows + 1))
    return newline, blanks


def render(fmt: str, rows: list[list[str]], newline: str = "\n", blanks: list[int] | None = None):
    """The ratings file's text, and the file line (1-based) of each row."""
    _, sep, header = LAYOUT[fmt]
    blanks = blanks or [0] * (len(rows) + 1)
    lines: list[str] = [] if header is None else [header]
    where = []
    for row, blank in zip(rows, blanks, strict=False):
        lines += [""] * blank
        lines.append(sep.join(row))
        where.append(len(lines))
    lines += [""] * blanks[len(rows)]
    return newline.join(lines) + newline, where


@contextmanager
def directory_with(fmt: str, text: str) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / LAYOUT[fmt][0]
        path.write_bytes(text.encode("utf-8"))
        yield Path(tmp), path


def triples(data) -> list[tuple[str, str, float, int]]:
    return sorted(
        zip(
            data.user_ids[data.user].tolist(),
            data.item_ids[data.item].tolist(),
            data.rating.tolist(),
            data.timestamp.tolist(),
            strict=True,
        )
    )


def expected(rows: list[Row]) -> list[tuple[str, str, float, int]]:
    return sorted((u, i, float(np.float32(float(r))), t) for u, i, r, t in rows)


def as_fields(rows: list[Row]) -> list[list[str]]:
    return [[u, i, r, str(t)] for u, i, r, t in rows]


# --------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_generated_table_reads_back_to_its_triples(fmt):
    @SETTINGS
    @given(st.data())
    def check(data):
        rows = data.draw(tables(fmt))
        newline, blanks = data.draw(layouts(len(rows)))
        text, _ = render(fmt, as_fields(rows), newline, blanks)
        with directory_with(fmt, text) as (directory, _):
            assert detect_format(directory) == fmt
            loaded = load_directory(directory)
        assert triples(loaded) == expected(rows)
        users = {u for u, *_ in rows}
        items = {i for _, i, *_ in rows}
        assert (loaded.n_users, loaded.n_items, loaded.n_ratings) == (len(users), len(items), len(rows))
        # indices are contiguous, raw ids kept both ways and ordered (numerically when all integers)
        assert sorted(loaded.user_ids.tolist()) == sorted(users)
        for ids in (loaded.user_ids.tolist(), loaded.item_ids.tolist()):
            if all(s.isdigit() for s in ids):
                assert [int(s) for s in ids] == sorted(int(s) for s in ids)
            else:
                assert ids == sorted(ids)
        assert loaded.user.dtype == np.int32 and loaded.rating.dtype == np.float32
        assert loaded.timestamp.dtype == np.int64

    check()


@pytest.mark.parametrize("fmt", FORMATS)
def test_checksum_ignores_row_order_blank_lines_and_line_endings(fmt):
    @SETTINGS
    @given(st.data())
    def check(data):
        rows = data.draw(tables(fmt, max_rows=15))
        shuffled = data.draw(st.permutations(rows))
        newline, blanks = data.draw(layouts(len(rows)))
        with directory_with(fmt, render(fmt, as_fields(rows))[0]) as (directory, _):
            first = load_directory(directory).checksum()
        with directory_with(fmt, render(fmt, as_fields(shuffled), newline, blanks)[0]) as (directory, _):
            second = load_directory(directory).checksum()
        assert first == second

    check()


@SETTINGS
@given(st.data())
def test_every_format_gives_the_same_content(data):
    """Ratings of the tiny catalog of `tests.data.formats`, written by its writers (with item and
    user files) in all four formats, give one checksum and the same triples."""
    pairs = data.draw(
        st.lists(
            st.tuples(st.sampled_from([u[0] for u in USERS]), st.sampled_from([i[0] for i in ITEMS])),
            min_size=1,
            max_size=len(USERS) * len(ITEMS),
            unique=True,
        )
    )
    ratings = [(u, i, data.draw(st.integers(1, 5)), data.draw(st.integers(0, 2**31 - 1))) for u, i in pairs]
    checksums, contents = set(), []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, write in WRITERS.items():
            loaded = load_directory(write(Path(tmp) / fmt, ratings=ratings))
            checksums.add(loaded.checksum())
            contents.append(triples(loaded))
            # the item catalog (and the user table, in the formats that have one) is kept whole
            assert loaded.n_items == len(ITEMS)
            assert loaded.n_users == (len({u for u, *_ in ratings}) if fmt == "ml-latest" else len(USERS))
            assert loaded.counts_per_item().sum() == len(ratings)
    assert len(checksums) == 1
    assert all(c == sorted((str(u), str(i), float(r), t) for u, i, r, t in ratings) for c in contents)


# ------------------------------------------------------------------------------- corrupted rows
#: corruption -> (formats it applies to, how it changes the row's fields, words of the message)
CORRUPTIONS = {
    "rating is text": (FORMATS, lambda f, v: [f[0], f[1], v, f[3]], "rating"),
    "rating off the scale": (("ml-100k", "ml-1m", "ml-latest"), lambda f, v: [f[0], f[1], v, f[3]], "scale"),
    "rating not an integer": (("ml-100k", "ml-1m"), lambda f, v: [f[0], f[1], "3.5", f[3]], "integer"),
    "timestamp is text": (FORMATS, lambda f, v: [f[0], f[1], f[2], v], "timestamp"),
    "user id is text": (INTEGER_IDS, lambda f, v: [v, f[1], f[2], f[3]], "not an integer"),
    "field missing": (FORMATS, lambda f, v: f[:3], "expected 4 fields"),
    "field added": (FORMATS, lambda f, v: [*f, "7"], "expected 4 fields"),
}
BAD_TEXT = st.sampled_from(["abc", "x5", "five", "nan", "inf", "", "4,0", "1e", "--1"])
OFF_SCALE = {
    "ml-100k": st.sampled_from(["0", "6", "-1", "10"]),
    "ml-1m": st.sampled_from(["0", "6", "-1", "10"]),
    "ml-latest": st.sampled_from(["0", "0.0", "5.5", "0.25", "6", "-0.5", "4.75"]),
}
CASES = [(fmt, kind) for kind, (formats, _, _) in CORRUPTIONS.items() for fmt in formats]


@pytest.mark.parametrize(("fmt", "kind"), CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_a_corrupted_row_raises_data_error_naming_file_and_line(fmt, kind):
    _, corrupt, words = CORRUPTIONS[kind]

    @settings(max_examples=10, deadline=None, derandomize=True)
    @given(st.data())
    def check(data):
        rows = data.draw(tables(fmt, max_rows=12))
        newline, blanks = data.draw(layouts(len(rows)))
        k = data.draw(st.integers(0, len(rows) - 1))
        value = data.draw(OFF_SCALE[fmt] if kind == "rating off the scale" else BAD_TEXT)
        if fmt == "ml-latest" and "," in value:
            value = value.replace(",", ";")  # a comma would be a field separator, another corruption
        fields = as_fields(rows)
        fields[k] = corrupt(fields[k], value)
        text, where = render(fmt, fields, newline, blanks)
        with directory_with(fmt, text) as (directory, path), pytest.raises(DataError) as caught:
            load_directory(directory)
        err = caught.value
        assert err.path == path and err.line == where[k], (str(err), where[k])
        assert str(err).startswith(f"{path}, line {where[k]}: ")
        assert words in err.problem
        assert err.hint  # ends with what to do

    check()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_repeated_pair_names_both_lines(fmt):
    @SETTINGS
    @given(st.data())
    def check(data):
        rows = data.draw(tables(fmt, max_rows=10))
        first = data.draw(st.integers(0, len(rows) - 1))
        u, i, _, t = rows[first]
        again = (u, i, data.draw(rating_text(fmt)), t + 1)
        at = data.draw(st.integers(first + 1, len(rows)))
        rows = [*rows[:at], again, *rows[at:]]
        newline, blanks = data.draw(layouts(len(rows)))
        text, where = render(fmt, as_fields(rows), newline, blanks)
        with directory_with(fmt, text) as (directory, path):
            with pytest.raises(DataError) as caught:
                load_directory(directory)
            assert caught.value.path == path and caught.value.line == where[at]
            assert f"lines {where[first]} and {where[at]}" in caught.value.problem
            # the later timestamp wins under 'last'
            kept = load_directory(directory, duplicates="last")
        assert kept.n_ratings == len(rows) - 1
        assert triples(kept) == expected([r for j, r in enumerate(rows) if j != first])

    check()


# ----------------------------------------------------------------------------- build_rating_data
@st.composite
def raw_ratings(draw):
    """Raw ids from small pools (so pairs repeat), ratings and timestamps with ties."""
    pool = st.one_of(st.integers(0, 6).map(str), st.sampled_from(["a", "b", "NA"]))
    n = draw(st.integers(1, 30))
    users = draw(st.lists(pool, min_size=n, max_size=n))
    items = draw(st.lists(pool, min_size=n, max_size=n))
    ratings = draw(st.lists(st.integers(1, 5).map(float), min_size=n, max_size=n))
    stamps = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return users, items, ratings, stamps


def build(users, items, ratings, stamps, duplicates="error", lines=None):
    return build_rating_data(
        name="generated",
        raw_user=users,
        raw_item=items,
        rating=np.asarray(ratings),
        timestamp=np.asarray(stamps),
        users=None,
        items=None,
        genres=(),
        rating_scale=(1.0, 5.0),
        duplicates=duplicates,
        ratings_file="ratings.txt",
        lines=lines,
    )


@SETTINGS
@given(raw_ratings())
def test_duplicate_policies(raw):
    users, items, ratings, stamps = raw
    pairs = list(zip(users, items, strict=True))
    groups: dict[tuple[str, str], list[int]] = {}
    for row, pair in enumerate(pairs):
        groups.setdefault(pair, []).append(row)
    repeated = [rows for rows in groups.values() if len(rows) > 1]

    if repeated:
        lines = np.arange(len(pairs)) * 2 + 5  # a file with a blank line between rows
        with pytest.raises(DataError) as caught:
            build(users, items, ratings, stamps, lines=lines)
        second = min(rows[1] for rows in repeated)
        first = groups[pairs[second]][0]
        assert caught.value.line == lines[second]
        assert f"lines {lines[first]} and {lines[second]}" in caught.value.problem
    else:
        data = build(users, items, ratings, stamps)
        assert triples(data) == sorted(zip(users, items, ratings, stamps, strict=True))

    last = build(users, items, ratings, stamps, duplicates="last")
    mean = build(users, items, ratings, stamps, duplicates="mean")
    want_last, want_mean = [], []
    for (u, i), rows in groups.items():
        latest = max(rows, key=lambda r: (stamps[r], r))  # latest timestamp, then the later row
        want_last.append((u, i, ratings[latest], stamps[latest]))
        want_mean.append((u, i, float(np.mean([ratings[r] for r in rows])), max(stamps[r] for r in rows)))
    assert triples(last) == sorted(want_last)
    got = triples(mean)
    assert [g[:2] + g[3:] for g in got] == [w[:2] + w[3:] for w in sorted(want_mean)]
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in sorted(want_mean)], rtol=1e-6)
    # one rating per pair, and the checksum does not depend on the row order
    assert last.n_ratings == mean.n_ratings == len(groups)
    order = np.random.default_rng(len(pairs)).permutation(len(pairs))
    shuffled = build(*(list(np.asarray(v, dtype=object)[order]) for v in raw), duplicates="mean")
    assert shuffled.checksum() == mean.checksum()


@SETTINGS
@given(raw_ratings(), st.lists(st.integers(0, 9).map(str), max_size=5))
def test_a_side_table_defines_the_catalog(raw, extra_items):
    """Items in the item table nobody rated stay in the catalog; a rated item missing from it is
    an error naming the rating's line."""
    users, items, ratings, stamps = raw
    catalog = sorted(set(items) | set(extra_items))
    table = {"title": catalog, "year": [np.nan] * len(catalog), "genres": [()] * len(catalog)}
    frame = pd.DataFrame(table, index=pd.Index(catalog))
    data = build_rating_data(
        name="generated",
        raw_user=users,
        raw_item=items,
        rating=np.asarray(ratings),
        timestamp=np.asarray(stamps),
        users=None,
        items=frame,
        genres=(),
        rating_scale=(1.0, 5.0),
        duplicates="last",
    )
    assert sorted(data.item_ids.tolist()) == sorted(catalog)
    counts = dict(zip(data.item_ids.tolist(), data.counts_per_item().tolist(), strict=True))
    for item in catalog:
        assert (counts[item] > 0) == (item in items)
    assert data.items["title"].tolist() == data.item_ids.tolist()

    missing = items[-1]
    smaller = frame.drop(index=missing)
    lines = np.arange(len(items)) + 2
    with pytest.raises(DataError) as caught:
        build_rating_data(
            name="generated",
            raw_user=users,
            raw_item=items,
            rating=np.asarray(ratings),
            timestamp=np.asarray(stamps),
            users=None,
            items=smaller,
            genres=(),
            rating_scale=(1.0, 5.0),
            duplicates="last",
            ratings_file="ratings.txt",
            lines=lines,
        )
    assert caught.value.line == lines[items.index(missing)]
    assert f"item id {missing!r} is rated but missing from the item file" in caught.value.problem


@pytest.mark.parametrize("token", ["--5", "²"])
def test_recbole_ids_that_merely_look_numeric_are_read_as_text(token):
    fields = [["1", "a", "3", "10"], [token, "b", "4", "11"]]
    with directory_with("recbole", render("recbole", fields)[0]) as (directory, path):
        try:
            data = load_directory(directory)
        except DataError as err:  # refusing the id, with the file named, would do too
            assert err.path == path
            return
    assert sorted(data.user_ids.tolist()) == sorted(["1", token])
    assert sorted(triples(data)) == sorted([("1", "a", 3.0, 10), (token, "b", 4.0, 11)])
