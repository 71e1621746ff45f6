"""Long-term user dynamics for Engagement: components that make today's recommendation shape tomorrow.

The state of each user lives in the public genre space (``G`` genres; an item's genre profile ``g`` is
its genre multi-hot normalised to sum to 1), so the dynamics work on top of any simulator. An episode
is a sequence of *sessions*: the user consumes one item per step, a session ends now and then, and
the user comes back for another one — or does not, which ends the episode. Four components, each
optional and parameterised (RecSim's long-term-satisfaction environment and KuaiSim's
leave-and-return model are the precedents):

* `Boredom` — per-genre boredom ``b`` grows by ``gain * g`` with every consumed item, decays by
  ``decay`` per step and by ``carry_over`` between sessions (boredom persists across sessions), and
  lowers the score of items in bored genres by ``weight * b . g`` rating points *now*.
* `Drift` — interest ``a`` moves toward the genres of consumed items in the direction of the
  verdict ``v = clip((rating - neutral) / spread, -1, 1)``: ``a += rate * v * g``, clipped to
  ``+-max_drift``; it adds ``a . g`` to the score.
* `Satisfaction` — ``s`` is an exponential average (rate ``rate``) of each step's outcome
  ``v - wear_cost * repetition``, where ``repetition`` in [0, 1] is how much of the consumed item's
  genre profile the user consumed lately (``sum(min(recent, g))``, the overlap of the two genre
  distributions, with ``recent`` an exponential average of consumed profiles, ``memory`` per step):
  a drama after dramas repeats fully, a drama-comedy after dramas half. A film that rates well but
  repeats the last few wears the user out: it pays now and costs later.
* `Retention` — after each step the session ends with probability
  ``sigmoid(end_bias - end_slope * s)``; the user then comes back for another session with
  probability ``sigmoid(return_bias + return_slope * s)``, and otherwise leaves for good (the
  episode terminates). Retention is the delayed reward: a satisfied user stays for more sessions.

What the data says (MovieLens-100K, each user's ratings in time order, a session = ratings less than
an hour apart; `recworld.simulators.dynamics.session_statistics` computes these):

* sessions: median 12 ratings, 2,692 sessions of 943 users, so after a session a user came back for
  another one 65% of the time: ``end_bias = logit(0.056)`` (a geometric session with median 12)
  and ``return_bias = logit(0.65)`` reproduce both at neutral satisfaction.
* immediate wear: a rating's residual (after user and item means) does not fall with how much its
  film repeats the genres of the same session's previous films (slope +0.04 rating points per unit
  of boredom overlap): the data shows no immediate boredom, so ``Boredom.weight`` is small (0.05).
* the delayed effect — satisfaction built or spent by variety, and its effect on coming back — is
  not identified by MovieLens: ratings are entered after the fact, and nothing records why a user
  stopped. ``wear_cost``, ``end_slope`` and ``return_slope`` are assumptions, chosen so that the
  delayed effect is material (the planning gap of `recworld agents list`'s ``oracle-planner`` over
  the myopic ``oracle`` is the measure of it); the ``"control"`` dynamics switch every carried-over
  effect off, and there greedy and planner tie.
* drift: slow (0.02 per step), so tastes move over tens of items, not within three; MovieLens says
  nothing about it within the ~100 items of an episode.

Pass ``dynamics="default"`` / ``"control"``, an `EngagementDynamics`, or a mapping from component
name to its parameters (``None`` switches a component off), e.g.
``{"satisfaction": {"wear_cost": 2.0}, "drift": None}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit


def _check(owner: str, ranges: dict[str, tuple[float, float, bool]], values: dict[str, float]) -> None:
    """Raise naming every parameter outside its range; ``ranges[name] = (low, high, high_open)``."""
    bad = []
    for name, (low, high, high_open) in ranges.items():
        value = values[name]
        if not (low <= value < high if high_open else low <= value <= high):
            bad.append(f"{name}={value} (allowed: [{low}, {high}{')' if high_open else ']'})")
    if bad:
        raise ValueError(f"{owner}: out-of-range {', '.join(bad)}")


@dataclass(frozen=True)
class Boredom:
    """Per-genre boredom: a score penalty now, persisting across sessions (module docstring)."""

    gain: float = 1.0
    decay: float = 0.85
    weight: float = 0.05
    carry_over: float = 0.5

    def __post_init__(self) -> None:
        _check(
            "Boredom",
            {
                "gain": (0, 10, False),
                "decay": (0, 1, True),
                "weight": (0, 5, False),
                "carry_over": (0, 1, False),
            },
            dataclasses.asdict(self),
        )


@dataclass(frozen=True)
class Drift:
    """Interest drifting toward liked genres and away from disliked ones (module docstring)."""

    rate: float = 0.02
    max_drift: float = 1.0

    def __post_init__(self) -> None:
        _check("Drift", {"rate": (0, 1, False), "max_drift": (0, 5, False)}, dataclasses.asdict(self))


@dataclass(frozen=True)
class Satisfaction:
    """Satisfaction built by good, varied films and spent by repetitive ones (module docstring)."""

    rate: float = 0.15
    wear_cost: float = 1.5
    memory: float = 0.3

    def __post_init__(self) -> None:
        _check(
            "Satisfaction",
            {"rate": (0, 1, False), "wear_cost": (0, 10, False), "memory": (0, 1, False)},
            dataclasses.asdict(self),
        )
        if self.rate == 0:
            raise ValueError("Satisfaction: out-of-range rate=0 (allowed: (0, 1])")


@dataclass(frozen=True)
class Retention:
    """Sessions that end, and users who come back with a probability set by satisfaction."""

    end_bias: float = -2.83
    end_slope: float = 3.0
    return_bias: float = 0.62
    return_slope: float = 4.0

    def __post_init__(self) -> None:
        _check(
            "Retention",
            {
                "end_bias": (-20, 20, False),
                "end_slope": (0, 50, False),
                "return_bias": (-20, 20, False),
                "return_slope": (0, 50, False),
            },
            dataclasses.asdict(self),
        )


COMPONENTS: dict[str, type] = {
    "boredom": Boredom,
    "drift": Drift,
    "satisfaction": Satisfaction,
    "retention": Retention,
}


@dataclass
class DynamicState:
    """Per-user session state, float32 ``(B, G)`` and ``(B,)`` arrays; updated in place."""

    affinity: np.ndarray
    boredom: np.ndarray
    recent: np.ndarray
    satisfaction: np.ndarray
    sessions: np.ndarray

    def repeat(self, times: int) -> DynamicState:
        """A copy with each user's row repeated ``times`` times (for lookahead over candidates)."""
        return DynamicState(
            *(np.repeat(getattr(self, f.name), times, axis=0) for f in dataclasses.fields(self))
        )


@dataclass(frozen=True)
class EngagementDynamics:
    """The components in force (``None``: off) and the rating scale's verdict mapping."""

    boredom: Boredom | None = field(default_factory=Boredom)
    drift: Drift | None = field(default_factory=Drift)
    satisfaction: Satisfaction | None = field(default_factory=Satisfaction)
    retention: Retention = field(default_factory=Retention)
    neutral_rating: float = 3.5
    rating_spread: float = 1.5

    def __post_init__(self) -> None:
        if self.rating_spread <= 0:
            raise ValueError(f"EngagementDynamics: rating_spread={self.rating_spread} must be > 0")

    # ------------------------------------------------------------------ building
    @classmethod
    def control(cls) -> EngagementDynamics:
        """No carried-over effect: nothing shown changes the user's future (constant session and
        return probabilities, no boredom, drift or satisfaction). Greedy is optimal here."""
        return cls(boredom=None, drift=None, satisfaction=None)

    @classmethod
    def from_spec(cls, spec: Any) -> EngagementDynamics:
        """From ``None``/``"default"``, ``"control"``, an `EngagementDynamics`, or a mapping of
        component name to parameters (``None`` turns it off; unnamed components keep defaults)."""
        if spec is None or (isinstance(spec, str) and spec == "default"):
            return cls()
        if isinstance(spec, str) and spec == "control":
            return cls.control()
        if isinstance(spec, cls):
            return spec
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"dynamics={spec!r}: expected 'default', 'control', an EngagementDynamics or a mapping "
                f"of components ({', '.join(COMPONENTS)}) to parameters"
            )
        unknown = sorted(set(spec) - set(COMPONENTS) - {"neutral_rating", "rating_spread"})
        if unknown:
            raise ValueError(
                f"dynamics: unknown component {', '.join(map(repr, unknown))}; the components are "
                f"{', '.join(COMPONENTS)} (plus neutral_rating, rating_spread)"
            )
        parts: dict[str, Any] = {}
        for name, params in spec.items():
            if name not in COMPONENTS:
                parts[name] = float(params)
            elif params is None:
                if name == "retention":
                    raise ValueError("dynamics: retention cannot be switched off (it ends the episode)")
                parts[name] = None
            elif not isinstance(params, Mapping):
                raise ValueError(
                    f"dynamics: {name}={params!r}: give its parameters as a mapping (e.g. "
                    f"{{{name!r}: {{...}}}}) or None to switch it off"
                )
            else:
                component = COMPONENTS[name]
                allowed = [f.name for f in dataclasses.fields(component)]
                extra = sorted(set(params) - set(allowed))
                if extra:
                    raise ValueError(
                        f"dynamics: {name} has no parameter {', '.join(extra)}; its parameters: "
                        f"{', '.join(allowed)}"
                    )
                parts[name] = component(**params)
        return cls(**parts)

    @staticmethod
    def genre_profiles(genre_multi_hot: np.ndarray) -> np.ndarray:
        """Item genre profiles ``(n_items, G)``: multi-hot rows normalised to sum to 1."""
        totals = genre_multi_hot.sum(axis=1, keepdims=True)
        return (genre_multi_hot / np.maximum(totals, 1)).astype(np.float32)

    def initial_state(self, n_users: int, n_genres: int) -> DynamicState:
        return DynamicState(
            affinity=np.zeros((n_users, n_genres), dtype=np.float32),
            boredom=np.zeros((n_users, n_genres), dtype=np.float32),
            recent=np.zeros((n_users, n_genres), dtype=np.float32),
            satisfaction=np.zeros(n_users, dtype=np.float32),
            sessions=np.ones(n_users, dtype=np.int64),
        )

    # ------------------------------------------------------------------ scores now
    def preference(self, state: DynamicState) -> np.ndarray | None:
        """The per-genre score shift ``(B, G)``, or None when no component shifts scores."""
        if self.drift is None and self.boredom is None:
            return None
        shift = state.affinity.copy() if self.drift is not None else np.zeros_like(state.boredom)
        if self.boredom is not None:
            shift -= self.boredom.weight * state.boredom
        return shift

    def shift(self, state: DynamicState, profiles: np.ndarray) -> np.ndarray | None:
        """Score shift of the items shown, genre ``profiles`` ``(B, G)`` or ``(B, S, G)``."""
        preference = self.preference(state)
        if preference is None:
            return None
        if profiles.ndim == 2:
            return np.einsum("bg,bg->b", preference, profiles)
        return np.einsum("bg,bsg->bs", preference, profiles)

    def catalog_shift(self, state: DynamicState, profiles: np.ndarray) -> np.ndarray | None:
        """Score shift of every item with genre ``profiles`` ``(n_items, G)``: ``(B, n_items)``."""
        preference = self.preference(state)
        return None if preference is None else preference @ profiles.T

    def verdict(self, ratings: np.ndarray) -> np.ndarray:
        """A rating as a verdict in [-1, 1]."""
        return np.clip((ratings - self.neutral_rating) / self.rating_spread, -1.0, 1.0).astype(np.float32)

    # ------------------------------------------------------------------ one step
    def update(
        self,
        state: DynamicState,
        profiles: np.ndarray,
        verdicts: np.ndarray,
        consumed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Apply one step in place; return each user's probability that the session ends now and
        that they come back after it, ``(B,)`` each.

        ``profiles`` (``(B, G)`` or ``(B, S, G)`` for slates) and ``verdicts`` (``(B,)`` or
        ``(B, S)``) describe what was shown; ``consumed`` (bool, like ``verdicts``; default all)
        marks what each user took. A user who took nothing counts as mildly disappointed (-0.5).
        """
        if verdicts.ndim == 1:
            profiles, verdicts = profiles[:, None, :], verdicts[:, None]
            consumed = None if consumed is None else consumed[:, None]
        took = np.ones(verdicts.shape, dtype=np.float32) if consumed is None else consumed.astype(np.float32)
        consumed_profile = np.einsum("bs,bsg->bg", took, profiles)
        if self.satisfaction is not None:
            sat = self.satisfaction
            repetition = np.minimum(state.recent[:, None, :], profiles).sum(axis=-1)  # (B, S) in [0, 1]
            outcome_each = verdicts - sat.wear_cost * repetition
            n_taken = took.sum(axis=1)
            outcome = np.where(n_taken > 0, (took * outcome_each).sum(axis=1) / np.maximum(n_taken, 1), -0.5)
            state.satisfaction += sat.rate * (outcome.astype(np.float32) - state.satisfaction)
            state.recent *= 1.0 - sat.memory
            state.recent += sat.memory * consumed_profile
        if self.boredom is not None:
            state.boredom *= self.boredom.decay
            state.boredom += self.boredom.gain * consumed_profile
        if self.drift is not None:
            state.affinity += self.drift.rate * np.einsum("bs,bsg->bg", took * verdicts, profiles)
            np.clip(state.affinity, -self.drift.max_drift, self.drift.max_drift, out=state.affinity)
        return self.session_odds(state)

    def session_odds(self, state: DynamicState) -> tuple[np.ndarray, np.ndarray]:
        """``(p_end, p_return)``: the chance that the session ends after this step, and that the user
        then comes back for another, ``(B,)`` float32 each."""
        r, s = self.retention, state.satisfaction
        p_end = expit(r.end_bias - r.end_slope * s).astype(np.float32)
        p_return = expit(r.return_bias + r.return_slope * s).astype(np.float32)
        return p_end, p_return

    def new_session(self, state: DynamicState, mask: np.ndarray) -> None:
        """The users in ``mask`` come back for another session: boredom partly carried over."""
        if self.boredom is not None:
            state.boredom[mask] *= self.boredom.carry_over
        state.sessions[mask] += 1


def session_statistics(
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray,
    timestamp: np.ndarray,
    genre_multi_hot: np.ndarray,
    gap: int = 3600,
) -> dict[str, float]:
    """What a rating log says about sessions (ratings less than ``gap`` seconds apart): median
    session length, the share of sessions after which the user came back, and the slope of a
    rating's residual (after user and item means) on its boredom overlap with the same session's
    earlier films (decay 0.85, the `Boredom` default) — the evidence quoted in the module docstring."""
    order = np.lexsort((timestamp, user))
    u, it, r, ts = user[order], item[order], rating[order].astype(np.float64), timestamp[order]
    new = np.r_[True, (u[1:] != u[:-1]) | (np.diff(ts) > gap)]
    session = np.cumsum(new) - 1
    lengths = np.bincount(session)
    n_users = len(np.unique(u))
    profiles = EngagementDynamics.genre_profiles(genre_multi_hot).astype(np.float64)
    n_items = len(profiles)
    user_mean = np.bincount(u, r) / np.maximum(np.bincount(u), 1)
    item_mean = np.bincount(it, r, minlength=n_items) / np.maximum(np.bincount(it, minlength=n_items), 1)
    residual = r - user_mean[u] - item_mean[it] + r.mean()
    overlap = np.zeros(len(r))
    boredom = np.zeros(profiles.shape[1])
    for k in range(len(r)):  # one pass over the log, for the docstring's evidence only
        if new[k]:
            boredom[:] = 0.0
        overlap[k] = boredom @ profiles[it[k]]
        boredom = 0.85 * boredom + profiles[it[k]]
    design = np.column_stack([np.ones(len(r)), overlap])
    slope = float(np.linalg.lstsq(design, residual, rcond=None)[0][1])
    return {
        "sessions": float(len(lengths)),
        "users": float(n_users),
        "median_session_length": float(np.median(lengths)),
        "return_rate": float((len(lengths) - n_users) / len(lengths)),
        "wear_slope": slope,
    }
