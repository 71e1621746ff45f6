"""Writers of one tiny dataset in every supported format, for tests.

The same ratings are written in each format, so a loader is correct when every format gives the
same `RatingData` content (and the same checksum).
"""

from __future__ import annotations

from pathlib import Path

from recworld.data.loaders import MOVIELENS_GENRES

# (user, item, rating, timestamp) — user 3 rated little, item 30 is Sci-Fi only.
RATINGS = [
    (1, 10, 5, 881250949),
    (1, 20, 3, 881250950),
    (1, 30, 4, 881250951),
    (2, 10, 2, 891717742),
    (2, 30, 1, 891717743),
    (3, 20, 4, 878887116),
    (12, 10, 3, 878887117),
]
USERS = [
    (1, 24, "M", "technician", "85711"),
    (2, 53, "F", "other", "94043"),
    (3, 23, "M", "writer", "32067"),
    (12, 31, "F", "writer", "10003"),
]
# id, title with year, release date, genres; item 40 is in the catalog but unrated.
ITEMS = [
    (10, "Toy Story (1995)", "01-Jan-1995", ("Animation", "Children's", "Comedy")),
    (20, "Amélie (2001)", "01-Jan-2001", ("Comedy", "Romance")),
    (30, "Twelve Monkeys (1995)", "01-Jan-1995", ("Drama", "Sci-Fi")),
    (40, "Usual Suspects, The (1995)", "14-Aug-1995", ("Crime", "Thriller")),
]
GENRES = MOVIELENS_GENRES
ML1M_OCCUPATION = {"technician": 17, "other": 0, "writer": 20}


def write_ml100k(d: Path, ratings=RATINGS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings))
    rows = []
    for i, title, date, genres in ITEMS:
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        rows.append(f"{i}|{title}|{date}||http://example.org/{i}|{flags}\n")
    (d / "u.item").write_bytes("".join(rows).encode("latin-1"))
    (d / "u.user").write_text("".join(f"{u}|{a}|{g}|{o}|{z}\n" for u, a, g, o, z in USERS))
    return d


def write_ml1m(d: Path, ratings=RATINGS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ratings.dat").write_text("".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in ratings))
    (d / "movies.dat").write_bytes(
        "".join(f"{i}::{title}::{'|'.join(g)}\n" for i, title, _, g in ITEMS).encode("latin-1")
    )
    (d / "users.dat").write_text(
        "".join(f"{u}::{g}::{a}::{ML1M_OCCUPATION[o]}::{z}\n" for u, a, g, o, z in USERS)
    )
    return d


def write_ml_latest(d: Path, ratings=RATINGS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{float(r)},{t}\n" for u, i, r, t in ratings)
    )

    def quote(s: str) -> str:
        return f'"{s}"' if "," in s else s

    (d / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f"{i},{quote(title)},{'|'.join(g)}\n" for i, title, _, g in ITEMS),
        encoding="utf-8",
    )
    return d


def write_recbole(d: Path, ratings=RATINGS, name: str = "tiny") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings)
    )
    items = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    for i, title, date, genres in ITEMS:
        items += f"{i}\t{title.rsplit(' (', 1)[0]}\t{date[-4:]}\t{' '.join(genres)}\n"
    (d / f"{name}.item").write_text(items, encoding="utf-8")
    (d / f"{name}.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        + "".join(f"{u}\t{a}\t{g}\t{o}\t{z}\n" for u, a, g, o, z in USERS)
    )
    return d


WRITERS = {
    "ml-100k": write_ml100k,
    "ml-1m": write_ml1m,
    "ml-latest": write_ml_latest,
    "recbole": write_recbole,
}
