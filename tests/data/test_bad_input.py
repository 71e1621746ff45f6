"""Invalid inputs to the data layer, as one table: each row is a tiny broken dataset and the error
it must raise.

In the style of Open Bandit Pipeline's ``tests/ope/test_ipw_estimators.py``: a list of tuples
``(case id, files to write, call, expected error type, regex)`` run by one parametrized test. Every
row writes its own files into ``tmp_path`` (never real MovieLens data). The regex checks that the
message names the file (and the line, where the loader knows it) and ends with what to do (the hint
after ' — ').
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recworld.data import (
    DataError,
    detect_format,
    fetch,
    load_dataset,
    load_directory,
    split_users,
    support_query,
)

# ------------------------------------------------------------------------------- tiny files
FLAGS = "|0" * 19  # the 19 genre flags of a u.item row


def u_item_row(item_id: object, title: str = "Toy Story (1995)") -> str:
    """One ``u.item`` row: id|title|release date|video date|url|19 genre flags (24 fields)."""
    return f"{item_id}|{title}|01-Jan-1995||http://example.org/{item_id}{FLAGS}\n"


# ml-100k: u.data (tab), u.item and u.user ('|').
U_DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n"
U_ITEM = u_item_row(1) + u_item_row(2, "GoldenEye (1995)")
U_USER = "1|24|M|technician|85711\n2|53|F|other|94043\n"
ML100K = {"u.data": U_DATA, "u.item": U_ITEM, "u.user": U_USER}

# ml-1m: '::' separated.
RATINGS_DAT = "1::1::5::978300760\n1::2::3::978302109\n2::1::4::978301968\n"
MOVIES_DAT = "1::Toy Story (1995)::Animation|Children's|Comedy\n2::GoldenEye (1995)::Action\n"
USERS_DAT = "1::F::1::10::48067\n2::M::56::16::70072\n"

# ml-latest: csv with headers.
CSV_HEADER = "userId,movieId,rating,timestamp\n"
RATINGS_CSV = CSV_HEADER + "1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,0.5,964982224\n"
MOVIES_CSV = (
    'movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n2,"Usual Suspects, The (1995)",Crime\n'
)

# RecBole atomic files: tab separated, 'name:type' headers.
INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
X_INTER = INTER_HEADER + "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n"
ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
X_ITEM = ITEM_HEADER + "1\tToy Story\t1995\tAnimation Comedy\n2\tGoldenEye\t1995\tAction\n"


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def at(name: str, line: int | None = None) -> str:
    """Regex for the start of a message about ``name`` (a file or directory name), at ``line``."""
    return rf"[/\\]{re.escape(name)}" + (f", line {line}" if line is not None else "") + ": "


def load(**kwargs: Any) -> Callable[[Path], Any]:
    return lambda d: load_directory(d, **kwargs)


DUPLICATE_HINT = (
    r" — remove the repeated row, or read the files with "
    r"recworld\.data\.load_directory\('[^']*', duplicates='last'\) \(keep the latest\) "
    r"or duplicates='mean' \(average them\) and pass the result as dataset="
)
FIELDS_HINT = r" — every row needs the same columns; fix or remove that row"
MISSING_FIELD_HINT = r" — fill in the missing field or remove that row"
SEPARATOR_HINT = r" — is this the right file for its format, with the right separator\?"
ROW_HINT = r" — fix or remove that row"
ID_HINT = (
    r" — this format's ids are integers; fix or remove that row "
    r"\(RecBole atomic files take ids of any text\)"
)
SCALE_HINT = r" — fix the rating or remove that row"
FRACTIONS = r"fractions must be three non-negative numbers summing to 1 with train > 0, "
LATEST_SCALE = r"\(allowed: 0\.5, 1, 1\.5, 2, 2\.5, 3, 3\.5, 4, 4\.5, 5\)"

# ---------------------------------------------------------------------------------- the table
# (case id, files to write into tmp_path, call on tmp_path, expected error type, message regex)
invalid_input_of_loaders = [
    # --- directories and formats
    (
        "missing-directory",
        {},
        lambda d: load_directory(d / "no-such-dir"),
        DataError,
        at("no-such-dir") + r"directory not found — pass the directory that holds the rating files",
    ),
    (
        "path-is-a-file",
        {"u.data": U_DATA},
        lambda d: load_directory(d / "u.data"),
        DataError,
        at("u.data") + r"not a directory — pass the directory that holds the rating files",
    ),
    (
        "unknown-format",
        {"notes.txt": "my ratings\n", "ratings.json": '{"1": 5}\n'},
        lambda d: detect_format(d),
        DataError,
        r"unknown format: none of u\.data, ratings\.dat, ratings\.csv, \*\.inter is here"
        r" — recworld reads GroupLens ml-100k/ml-1m, MovieLens latest csv and RecBole atomic files",
    ),
    (
        "unknown-format-name",
        {"u.data": U_DATA},
        load(format="ml-20m"),
        DataError,
        r"unknown format 'ml-20m' — use one of ml-100k, ml-1m, ml-latest, recbole",
    ),
    (
        "ml1m-missing-ratings-dat",
        {"movies.dat": MOVIES_DAT, "users.dat": USERS_DAT},
        load(format="ml-1m"),
        DataError,
        at("ratings.dat")
        + r"file not found — check the path, or fetch the dataset with `recworld data fetch`",
    ),
    (
        "recbole-missing-inter",
        {"x.item": X_ITEM},
        load(format="recbole"),
        DataError,
        r"expected exactly one \*\.inter file, found none"
        r" — keep one dataset's atomic files per directory",
    ),
    # --- separators and column counts
    (
        "u.data-commas",
        {"u.data": "1,1,5,881250949\n1,2,3,881250950\n"},
        load(),
        DataError,
        at("u.data", 1) + r"expected 4 fields separated by tabs, found 1" + SEPARATOR_HINT,
    ),
    (
        "ratings.dat-tabs",
        {"ratings.dat": "1\t1\t5\t978300760\n"},
        load(),
        DataError,
        at("ratings.dat", 1) + r"expected 4 fields separated by '::', found 1" + SEPARATOR_HINT,
    ),
    (
        "u.data-too-many-columns",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\t881250950\n1\t3\t4\t881250951\t7\n2\t1\t4\t881250952\n"},
        load(),
        DataError,
        at("u.data", 3) + r"expected 4 fields separated by tabs, found 5" + FIELDS_HINT,
    ),
    (
        "u.data-too-few-columns",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\n2\t1\t4\t881250951\n"},
        load(),
        DataError,
        at("u.data", 2) + r"expected 4 fields separated by tabs, found 3" + MISSING_FIELD_HINT,
    ),
    (
        "ratings.dat-too-few-columns",
        {"ratings.dat": "1::1::5::978300760\n1::2::3\n2::1::4::978301968\n"},
        load(),
        DataError,
        at("ratings.dat", 2) + r"expected 4 fields separated by '::', found 3" + MISSING_FIELD_HINT,
    ),
    (
        "ratings.csv-too-many-columns",
        {"ratings.csv": CSV_HEADER + "1,1,4.0,964982703\n1,2,3.5,964981247,x\n"},
        load(),
        DataError,
        at("ratings.csv", 3) + r"expected 4 fields separated by commas, found 5" + FIELDS_HINT,
    ),
    (
        "x.inter-too-few-columns",
        {"x.inter": INTER_HEADER + "1\t1\t5\t881250949\n1\t2\t3\n"},
        load(),
        DataError,
        at("x.inter", 3) + r"expected 4 fields separated by tabs, found 3" + MISSING_FIELD_HINT,
    ),
    (
        "u.item-25-fields",
        {"u.data": U_DATA, "u.item": u_item_row(1) + u_item_row(2)[:-1] + "|0\n" + u_item_row(3)},
        load(),
        DataError,
        at("u.item", 2) + r"expected 24 fields separated by '\|', found 25" + FIELDS_HINT,
    ),
    (
        "u.item-23-fields",
        {"u.data": U_DATA, "u.item": u_item_row(1) + u_item_row(2)[: -len("|0\n")] + "\n"},
        load(),
        DataError,
        at("u.item", 2) + r"expected 24 fields separated by '\|', found 23" + MISSING_FIELD_HINT,
    ),
    (
        "u.data-short-first-row",
        {"u.data": "1\t1\t5\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n"},
        load(),
        DataError,
        at("u.data", 1) + r"expected 4 fields separated by tabs, found 3",
    ),
    (
        "x.inter-short-first-row",
        {"x.inter": INTER_HEADER + "1\t1\t5\n1\t2\t3\t881250950\n"},
        load(),
        DataError,
        at("x.inter", 2) + r"expected 4 fields separated by tabs, found 3",
    ),
    # --- values
    (
        "u.data-rating-not-a-number",
        {"u.data": "1\t1\t5\t881250949\n1\t2\tfive\t881250950\n"},
        load(),
        DataError,
        at("u.data", 2) + r"column 'rating' holds 'five', not an integer" + ROW_HINT,
    ),
    (
        "u.data-half-star-rating",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t4.5\t881250950\n"},
        load(),
        DataError,
        at("u.data", 2) + r"column 'rating' holds '4\.5', not an integer" + ROW_HINT,
    ),
    (
        "u.data-timestamp-not-a-number",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\tyesterday\n"},
        load(),
        DataError,
        at("u.data", 2) + r"column 'timestamp' holds 'yesterday', not an integer" + ROW_HINT,
    ),
    (
        "x.inter-rating-not-a-number",
        {"x.inter": INTER_HEADER + "1\t1\t5\t881250949\n1\t2\tgood\t881250950\n"},
        load(),
        DataError,
        at("x.inter", 3) + r"column 'rating' holds 'good', not a number" + ROW_HINT,
    ),
    (
        "movies.dat-movie-id-not-an-integer",
        {"ratings.dat": RATINGS_DAT, "movies.dat": MOVIES_DAT + "abc::Heat (1995)::Action\n"},
        load(),
        DataError,
        at("movies.dat", 3) + r"column 'movie id' holds 'abc', not an integer" + ID_HINT,
    ),
    (
        "u.item-item-id-not-an-integer",
        {"u.data": U_DATA, "u.item": u_item_row(1) + u_item_row("x")},
        load(),
        DataError,
        at("u.item", 2) + r"column 'item id' holds 'x', not an integer" + ID_HINT,
    ),
    (
        "u.data-user-id-not-an-integer",
        {"u.data": "1\t1\t5\t881250949\nabc\t2\t3\t881250950\n"},
        load(),
        DataError,
        at("u.data", 2) + r"column 'user id' holds 'abc', not an integer" + ID_HINT,
    ),
    (
        "u.data-item-id-not-an-integer",
        {"u.data": "1\t1\t5\t881250949\n1\tabc\t3\t881250950\n"},
        load(),
        DataError,
        at("u.data", 2) + r"column 'item id' holds 'abc', not an integer" + ID_HINT,
    ),
    (
        "u.data-item-id-1.0",  # would become a raw id '1.0' that matches no u.item row
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1.0\t4\t881250951\n"},
        load(),
        DataError,
        at("u.data", 3) + r"column 'item id' holds '1\.0', not an integer" + ID_HINT,
    ),
    (
        "u.user-user-id-not-an-integer",
        {"u.data": U_DATA, "u.user": U_USER + "u3|31|F|writer|10003\n"},
        load(),
        DataError,
        at("u.user", 3) + r"column 'user id' holds 'u3', not an integer" + ID_HINT,
    ),
    (
        "ratings.dat-user-id-not-an-integer",
        {"ratings.dat": RATINGS_DAT + "abc::1::4::978301969\n"},
        load(),
        DataError,
        at("ratings.dat", 4) + r"column 'user id' holds 'abc', not an integer" + ID_HINT,
    ),
    (
        "ratings.dat-movie-id-not-an-integer",
        {"ratings.dat": "1::1::5::978300760\n1::tt0114709::3::978302109\n"},
        load(),
        DataError,
        at("ratings.dat", 2) + r"column 'movie id' holds 'tt0114709', not an integer" + ID_HINT,
    ),
    (
        "users.dat-user-id-not-an-integer",
        {"ratings.dat": RATINGS_DAT, "users.dat": USERS_DAT + "x::M::25::4::55117\n"},
        load(),
        DataError,
        at("users.dat", 3) + r"column 'user id' holds 'x', not an integer" + ID_HINT,
    ),
    (
        "ratings.csv-user-id-not-an-integer",
        {"ratings.csv": CSV_HEADER + "1,1,4.0,964982703\nabc,2,3.5,964981247\n"},
        load(),
        DataError,
        at("ratings.csv", 3) + r"column 'userId' holds 'abc', not an integer" + ID_HINT,
    ),
    (
        "u.data-rating-0",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t0\t881250950\n"},
        load(),
        DataError,
        at("u.data", 2) + r"rating 0 is outside the scale 1–5 \(allowed: 1, 2, 3, 4, 5\)" + SCALE_HINT,
    ),
    (
        "u.data-rating-6",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t6\t881250951\n"},
        load(),
        DataError,
        at("u.data", 3) + r"rating 6 is outside the scale 1–5 \(allowed: 1, 2, 3, 4, 5\)" + SCALE_HINT,
    ),
    (
        "ratings.csv-rating-5.5",
        {"ratings.csv": CSV_HEADER + "1,1,4.0,964982703\n1,2,5.5,964981247\n"},
        load(),
        DataError,
        at("ratings.csv", 3) + r"rating 5\.5 is outside the scale 0\.5–5 " + LATEST_SCALE + SCALE_HINT,
    ),
    (
        "ratings.csv-rating-0.25",
        {"ratings.csv": CSV_HEADER + "1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,0.25,964982224\n"},
        load(),
        DataError,
        at("ratings.csv", 4) + r"rating 0\.25 is outside the scale 0\.5–5 " + LATEST_SCALE + SCALE_HINT,
    ),
    (
        "users.dat-unknown-occupation",
        {"ratings.dat": RATINGS_DAT, "users.dat": "1::F::1::10::48067\n2::M::56::21::70072\n"},
        load(),
        DataError,
        at("users.dat", 2) + r"occupation code 21 is not one of 0–20 — fix the code or remove that row",
    ),
    # --- encodings, empty files, headers
    (
        "ratings.csv-bad-utf8",
        {"ratings.csv": (CSV_HEADER + "1,1,4.0,964982703\n").encode() + b"1,2,3.5,96498\xff1247\n"},
        load(),
        DataError,
        at("ratings.csv", 3) + r"byte 0xff is not valid utf-8 text — re-save the file as utf-8",
    ),
    (
        "x.inter-bad-utf8",
        {"x.inter": (INTER_HEADER + "1\t1\t5\t881250949\n").encode() + b"1\t2\t\xc33\t881250950\n"},
        load(),
        DataError,
        at("x.inter", 3) + r"byte 0xc3 is not valid utf-8 text — re-save the file as utf-8",
    ),
    (
        "x.item-bad-utf8-latin1-title",
        {
            "x.inter": X_INTER,
            "x.item": (ITEM_HEADER + "1\tToy Story\t1995\tAnimation\n").encode()
            + "2\tAmélie\t2001\tComedy\n".encode("latin-1"),
        },
        load(),
        DataError,
        at("x.item", 3) + r"byte 0xe9 is not valid utf-8 text — re-save the file as utf-8",
    ),
    (
        "u.data-empty",
        {"u.data": ""},
        load(),
        DataError,
        at("u.data") + r"file is empty — re-download or re-export the file",
    ),
    (
        "ratings.dat-only-blank-lines",
        {"ratings.dat": "\n  \n\n"},
        load(),
        DataError,
        at("ratings.dat") + r"file is empty — re-download or re-export the file",
    ),
    (
        "ratings.csv-header-only",
        {"ratings.csv": CSV_HEADER},
        load(),
        DataError,
        at("ratings.csv") + r"file has a header but no rows — re-export the file with its rows",
    ),
    (
        "x.inter-header-only",
        {"x.inter": INTER_HEADER + "\n"},
        load(),
        DataError,
        at("x.inter") + r"file has a header but no rows — re-export the file with its rows",
    ),
    (
        "ratings.csv-wrong-header",
        {"ratings.csv": "user,item,rating,time\n1,1,4.0,964982703\n"},
        load(),
        DataError,
        at("ratings.csv", 1)
        + r"header is 'user,item,rating,time', expected 'userId,movieId,rating,timestamp'"
        r" — is this the right file, with commas as separators\?",
    ),
    (
        "movies.csv-wrong-header",
        {"ratings.csv": RATINGS_CSV, "movies.csv": "id,title,genres\n1,Toy Story (1995),Comedy\n"},
        load(),
        DataError,
        at("movies.csv", 1) + r"header is 'id,title,genres', expected 'movieId,title,genres'",
    ),
    (
        "x.inter-header-without-types",
        {"x.inter": "user_id\titem_id\trating\n1\t1\t5\n"},
        load(),
        DataError,
        at("x.inter", 1) + r"header field 'user_id' is not 'name:type' with type token, token_seq, float or"
        r" float_seq — RecBole atomic files start with a header such as 'user_id:token'",
    ),
    (
        "x.inter-header-without-rating",
        {"x.inter": "user_id:token\titem_id:token\ttimestamp:float\n1\t1\t881250949\n"},
        load(),
        DataError,
        at("x.inter", 1) + r"header lacks the field\(s\) rating"
        r" — add rating:float to the header",
    ),
    (
        "two-inter-files",
        {"a.inter": X_INTER, "b.inter": X_INTER},
        load(),
        DataError,
        r"expected exactly one \*\.inter file, found a\.inter, b\.inter"
        r" — keep one dataset's atomic files per directory",
    ),
    (
        "u.data-leading-blank-line",
        {"u.data": "\n1\t1\t5\t881250949\n1\t2\tfive\t881250950\n"},
        load(),
        DataError,
        at("u.data", 3) + r"column 'rating' holds 'five', not an integer" + ROW_HINT,
    ),
    (
        "x.inter-blank-line-after-header",
        {"x.inter": INTER_HEADER + "\n1\t1\t5\t881250949\n1\t2\tgood\t881250950\n"},
        load(),
        DataError,
        at("x.inter", 4) + r"column 'rating' holds 'good', not a number" + ROW_HINT,
    ),
    # --- duplicates and ids missing from the side files
    (
        "u.data-duplicate-pair",
        {"u.data": "1\t1\t5\t881250949\n1\t2\t3\t881250950\n1\t1\t4\t881250951\n"},
        load(),
        DataError,
        at("u.data", 3)
        + r"user '1' rated item '1' twice \(lines 1 and 3\); recworld keeps one rating per pair"
        r" and the policy is duplicates='error'" + DUPLICATE_HINT,
    ),
    (
        "ratings.csv-duplicate-pair",
        {"ratings.csv": CSV_HEADER + "1,1,4.0,964982703\n2,1,3.5,964981247\n2,1,3.0,964982224\n"},
        load(),
        DataError,
        at("ratings.csv", 4)
        + r"user '2' rated item '1' twice \(lines 3 and 4\).*duplicates='error'"
        + DUPLICATE_HINT,
    ),
    (
        "u.data-duplicate-pair-after-blank-line",
        {"u.data": "1\t1\t5\t881250949\n\n1\t2\t3\t881250950\n1\t1\t4\t881250951\n"},
        load(),
        DataError,
        at("u.data", 4) + r"user '1' rated item '1' twice \(lines 1 and 4\)",
    ),
    (
        "u.data-duplicate-pair-names-the-directory",
        {"u.data": "1\t1\t5\t881250949\n1\t1\t4\t881250951\n"},
        lambda d: load_directory(d / ".." / d.name),
        DataError,
        r"load_directory\('[^']*[/\\]test_invalid_input_raises_a_cl[^'/\\]*', duplicates='last'\)",
    ),
    (
        "u.item-duplicate-item-id",
        {"u.data": U_DATA, "u.item": u_item_row(1) + u_item_row(2) + u_item_row(2, "Heat (1995)")},
        load(),
        DataError,
        at("u.item", 3) + r"item id '2' appears twice — keep one row per item",
    ),
    (
        "movies.csv-duplicate-movie-id",
        {"ratings.csv": RATINGS_CSV, "movies.csv": MOVIES_CSV + "1,Heat (1995),Action\n"},
        load(),
        DataError,
        at("movies.csv", 4) + r"movie id '1' appears twice — keep one row per movie",
    ),
    (
        "u.user-duplicate-user-id",
        {"u.data": U_DATA, "u.user": U_USER + "1|31|F|writer|10003\n"},
        load(),
        DataError,
        at("u.user", 3) + r"user id '1' appears twice — keep one row per user",
    ),
    (
        "u.data-item-missing-from-u.item",
        {"u.data": U_DATA + "2\t3\t2\t881250952\n", "u.item": U_ITEM},
        load(),
        DataError,
        at("u.data", 4) + r"item id '3' is rated but missing from the item file"
        r" — add the item to the item file or remove its ratings",
    ),
    (
        "ratings.dat-user-missing-from-users.dat",
        {"ratings.dat": RATINGS_DAT, "users.dat": "1::F::1::10::48067\n"},
        load(),
        DataError,
        at("ratings.dat", 3) + r"user id '2' is rated but missing from the user file"
        r" — add the user to the user file or remove its ratings",
    ),
    (
        "unknown-duplicates-policy",
        {"u.data": U_DATA},
        load(duplicates="bogus"),
        ValueError,
        r"unknown duplicates policy 'bogus'; use 'error', 'last' or 'mean'",
    ),
    # --- after loading: raw ids, splits, support/query
    (
        "user_index-unknown-raw-id",
        ML100K,
        lambda d: load_directory(d).user_index("999"),
        DataError,
        r"unknown user id '999' in .*\(2 users, e\.g\. '1'\)"
        r" — use a raw user id from the dataset's files",
    ),
    (
        "item_index-unknown-raw-id",
        ML100K,
        lambda d: load_directory(d).item_index(["1", 7]),
        DataError,
        r"unknown item id '7' in .*\(2 items, e\.g\. '1'\)"
        r" — use a raw item id from the dataset's files",
    ),
    (
        "split-fractions-sum-above-1",
        ML100K,
        lambda d: split_users(load_directory(d), fractions=(0.5, 0.5, 0.5)),
        ValueError,
        FRACTIONS + r"got \(0\.5, 0\.5, 0\.5\)",
    ),
    (
        "split-two-fractions",
        ML100K,
        lambda d: split_users(load_directory(d), fractions=(0.8, 0.2)),
        ValueError,
        FRACTIONS + r"got \(0\.8, 0\.2\)",
    ),
    (
        "split-too-few-users",
        ML100K,
        lambda d: split_users(load_directory(d)),
        ValueError,
        r"only 2 users, and a split needs at least 3 — loosen min_ratings/max_ratings",
    ),
    (
        "support_query-negative-k",
        ML100K,
        lambda d: support_query(load_directory(d), [0, 1], k=-1),
        ValueError,
        r"k and n_query must be >= 0, got k=-1, n_query=10",
    ),
    (
        "support_query-user-out-of-range",
        ML100K,
        lambda d: support_query(load_directory(d), [0, 5], k=1, n_query=1),
        ValueError,
        r"user index 5 is outside 0\.\.1",
    ),
    # --- fetch (RECWORLD_DATA_DIR points at an empty tmp cache)
    (
        "fetch-different-dataset",
        ML100K,
        lambda d: fetch("movielens-100k", source=d, verbose=False),
        DataError,
        r"(?s)could not obtain movielens-100k; tried:\n  - local files at .*: DataError: .*"
        r"content checksum [0-9a-f]{16}… does not match movielens-100k's 3c61dc9b90a365d2… "
        r"\(2 users, 2 items, 3 ratings; expected 943, 1682, 100000\).*"
        r" — the files are damaged or are another dataset; fetch again with --force\n"
        r" — on a machine with internet, download .*ml-100k\.zip",
    ),
    (
        "fetch-missing-source",
        {},
        lambda d: fetch("movielens-100k", source=d / "no-such-dir", verbose=False),
        DataError,
        r"(?s)could not obtain movielens-100k; tried:.*" + at("no-such-dir") + r"directory not found"
        r".*\n — on a machine with internet",
    ),
    (
        "fetch-zip-without-u.data",
        {"ml-100k.zip": zip_bytes({"ml-100k/README": "hello\n"})},
        lambda d: fetch("movielens-100k", source=d / "ml-100k.zip", verbose=False),
        DataError,
        r"(?s)could not obtain movielens-100k; tried:.*"
        + at("ml-100k.zip")
        + r"zip archive holds neither u\.data nor ratings\.dat — use GroupLens' ml-100k\.zip or ml-1m\.zip",
    ),
    (
        "fetch-zip-without-u.item",
        {"ml-100k.zip": zip_bytes({"ml-100k/u.data": U_DATA, "ml-100k/u.user": U_USER})},
        lambda d: fetch("movielens-100k", source=d / "ml-100k.zip", verbose=False),
        DataError,
        r"(?s)could not obtain movielens-100k; tried:.*"
        + at("ml-100k.zip")
        + r"archive lacks u\.item — is this the right archive\?",
    ),
    (
        "fetch-unknown-dataset",
        {},
        lambda d: fetch("movielens-999k", source=d, verbose=False),
        DataError,
        r"unknown dataset 'movielens-999k' — known datasets: movielens-100k",
    ),
    (
        "load_dataset-neither-name-nor-directory",
        {},
        lambda d: load_dataset(str(d / "movielens-1m")),
        DataError,
        r"'[^']*movielens-1m' is neither a known dataset nor a directory \(no [^)]*movielens-1m\)"
        r" — known datasets: movielens-100k, movielens-1m; or pass the directory that holds your "
        r"rating files",
    ),
    (
        "load_dataset-unknown-name",
        {},
        lambda d: load_dataset("ml-99"),
        DataError,
        r"'ml-99' is neither a known dataset nor a directory .* — known datasets: movielens-100k",
    ),
    (
        "load_dataset-a-file",
        {"u.data": U_DATA},
        lambda d: load_dataset(str(d / "u.data")),
        DataError,
        at("u.data") + r"not a directory — pass the directory that holds the rating files",
    ),
]


def _params(rows: list) -> list:
    return [pytest.param(*row[1:], id=row[0]) if type(row) is tuple else row for row in rows]


@pytest.mark.parametrize("files, call, error, description", _params(invalid_input_of_loaders))
def test_invalid_input_raises_a_clear_error(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str | bytes],
    call: Callable[[Path], Any],
    error: type[Exception],
    description: str,
) -> None:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("RECWORLD_DATA_DIR", str(cache))
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(error, match=description) as info:
        call(tmp_path)

    if isinstance(info.value, DataError):
        assert info.value.hint, "a DataError must say what to do"
        assert str(info.value).endswith(f" — {info.value.hint}")
    # Nothing is left in the cache: no partial dataset, no staging directory.
    assert os.listdir(cache) == []


# ------------------------------------------------------------- duplicates resolved on request
def _rating_of(data: Any, user: str, item: str) -> tuple[list[float], list[int]]:
    rows = (data.user == data.user_index(user)) & (data.item == data.item_index(item))
    return data.rating[rows].tolist(), data.timestamp[rows].tolist()


def test_duplicates_last_keeps_the_latest_timestamp(tmp_path: Path) -> None:
    # The latest rating (timestamp 12) is in the middle of the file, not at its end.
    (tmp_path / "u.data").write_text("1\t1\t5\t10\n1\t1\t3\t12\n2\t1\t2\t5\n1\t1\t4\t11\n")
    data = load_directory(tmp_path, duplicates="last")
    assert data.n_ratings == 2
    assert _rating_of(data, "1", "1") == ([3.0], [12])
    assert _rating_of(data, "2", "1") == ([2.0], [5])


def test_duplicates_last_breaks_timestamp_ties_by_file_order(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(CSV_HEADER + "1,1,4.0,100\n1,1,2.5,100\n1,2,5.0,90\n")
    data = load_directory(tmp_path, duplicates="last")
    assert data.n_ratings == 2
    assert _rating_of(data, "1", "1") == ([2.5], [100])


def test_duplicates_mean_averages_and_keeps_the_latest_timestamp(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t1\t5\t10\n2\t1\t1\t7\n1\t1\t2\t12\n1\t1\t4\t11\n")
    data = load_directory(tmp_path, duplicates="mean")
    assert data.n_ratings == 2
    rating, timestamp = _rating_of(data, "1", "1")
    assert rating == [pytest.approx(11 / 3)] and timestamp == [12]
    assert _rating_of(data, "2", "1") == ([1.0], [7])


def test_duplicates_mean_in_recbole_files(tmp_path: Path) -> None:
    (tmp_path / "x.inter").write_text(INTER_HEADER + "u1\ti1\t3.5\t1\nu1\ti1\t4.5\t2\nu2\ti1\t1.0\t3\n")
    data = load_directory(tmp_path, duplicates="mean")
    assert data.n_ratings == 2
    assert _rating_of(data, "u1", "i1") == ([4.0], [2])
