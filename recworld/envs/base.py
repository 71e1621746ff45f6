"""What the recommendation environments share: batched kernels, the observation, and the Gymnasium wrappers.

Each environment's logic is written once, as a *kernel* that advances ``B`` users at once (its step
compiled, `recworld.envs.compiled`). The single environment runs a kernel with ``B = 1``; the native
vector environment runs one with ``B = num_envs``. Every draw is a pure function of (seed, episode,
step, draw) (`recworld.numerics.counter`): an environment seeded ``s`` plays episodes 0, 1, 2, ... of
seed ``s``, so sub-environment ``i`` of a vector environment seeded ``s`` is exactly the single
environment seeded ``s + i``, with no generator objects.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from recworld.envs.compiled import (
    Packed,
    all_within,
    autoreset_outputs,
    blocks,
    next_streams,
    observe_blocks,
    observe_packed,
    pack,
    start_episodes,
)
from recworld.envs.history import OBSERVATION_PARTS, History, Layout
from recworld.envs.world import World, build_world
from recworld.numerics.counter import seed_words, stream_keys
from recworld.simulators import ReplaySimulator

_UNSET = object()
WORLD_OPTIONS = (
    "dataset",
    "simulator",
    "users",
    "split_seed",
    "n_synthetic",
    "population_seed",
    "user_spread",
    "duplicates",
)


class InvalidAction(ValueError):
    """An action outside the action space (the message names the value and the allowed range)."""


class UnsupportedRenderMode(ValueError, TypeError):
    """A render mode other than ``"ansi"``. Also a `TypeError`, because stable-baselines3's
    ``make_vec_env`` asks for ``"rgb_array"`` and retries without a render mode on a TypeError."""


def world_from(options: dict[str, Any]) -> World:
    """Pop the world arguments from ``options`` and build (or reuse) the world."""
    return build_world(**{key: options.pop(key) for key in WORLD_OPTIONS if key in options})


def make_kernel(kernel_class: type[Kernel], batch: int, options: dict[str, Any]) -> Kernel:
    """Build a kernel, naming every accepted argument when an unknown one is passed."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted: set[str] = set()
    for base in kernel_class.__mro__:
        if issubclass(base, Kernel) and base is not Kernel and "__init__" in vars(base):
            parameters = inspect.signature(base.__init__).parameters.values()
            accepted |= {p.name for p in parameters if p.kind in named} - {"self", "world", "batch"}
    unknown = sorted(set(options) - accepted - set(WORLD_OPTIONS) - {"observation"})
    if unknown:
        allowed = ", ".join(sorted(accepted | set(WORLD_OPTIONS) | {"render_mode", "observation"}))
        raise TypeError(f"unknown argument(s) {', '.join(unknown)}; the environment accepts: {allowed}")
    options = dict(options)
    observation = options.pop("observation", "dict")
    if observation not in OBSERVATIONS:
        raise ValueError(
            f"observation={observation!r} is not one of {', '.join(OBSERVATIONS)} ('flat': one float32 Box, "
            "for libraries without Dict spaces)"
        )
    kernel = kernel_class(world_from(options), batch, **options)
    if observation == "flat":
        kernel.flatten_observations()
    return kernel


#: ``"dict"`` (default): a ``Dict`` of float32 boxes; ``"flat"``: one float32 ``Box``, the boxes of the
#: ``Dict`` concatenated in its key order, which Gymnasium sorts (``history``, ``progress``,
#: ``recent_items``, ``recent_responses``, ``user``; the same as ``gymnasium.spaces.flatten``), for
#: libraries without ``Dict`` support (RLlib's default config, CleanRL-style scripts). recworld's own
#: agents read the ``Dict`` form.
OBSERVATIONS = ("dict", "flat")


CANDIDATES = ("all", "rated")
#: the action dtypes `all_within` takes (native byte order); others are checked by numpy
COMPILED_ACTION_TYPES = frozenset(
    np.dtype(f"{kind}{bits}") for kind in ("int", "uint") for bits in (8, 16, 32, 64)
) | {
    np.dtype(np.float32),
    np.dtype(np.float64),
}
#: the compiled step's action dtype (native byte order; numpy's dtypes of it are one object)
INT64 = np.dtype(np.int64)
#: ``members`` not given to `start_episodes`: each user is drawn from their stream
NO_MEMBERS = np.zeros(0, dtype=np.int64)


@functools.cache
def mask_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of a vector environment's info masks (Gymnasium's ``_key`` beside each ``key``), made
    once per set of info keys rather than formatted every step."""
    return tuple(f"_{key}" for key in keys)


class Kernel(ABC):
    """The batched logic of one environment (see the module docstring)."""

    #: the registered id, for messages
    env_id: ClassVar[str] = "recworld environment"

    def __init__(self, world: World, batch: int, horizon: int, slate_size: int, window: int) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        if not 1 <= slate_size <= world.n_items:
            raise ValueError(
                f"slate_size must be between 1 and the catalog size {world.n_items}, got {slate_size}"
            )
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.world, self.batch, self.horizon, self.slate_size = world, batch, horizon, slate_size
        self.n_items = world.n_items
        self.action_space: spaces.Space = (
            spaces.Discrete(self.n_items)
            if slate_size == 1
            else spaces.MultiDiscrete(np.full(slate_size, self.n_items, dtype=np.int64))
        )
        item_dim = world.item_features.shape[1]
        levels = np.asarray(world.simulator.rating_levels, dtype=np.float32)
        self.history = History(
            batch, slate_size, window, item_dim, (float(levels.min()), float(levels.max()))
        )
        user_dim = world.population_features.shape[1]
        self.observation_space: spaces.Space = spaces.Dict(
            {
                "user": spaces.Box(-5.0, 5.0, (user_dim,), np.float32),
                "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
                **self.history.space_parts(item_dim),
            }
        )
        boxes: dict[str, Any] = dict(getattr(self.observation_space, "spaces", {}))
        self.layout = Layout({key: box.shape[0] for key, box in boxes.items()}, batch, OBSERVATION_PARTS)
        self.member = np.zeros(batch, dtype=np.int64)  # index into world.population
        self.user = np.zeros(batch, dtype=np.int64)  # simulator user index
        self.t = np.zeros(batch, dtype=np.int64)
        self.rows = np.arange(batch)
        self.shown = np.zeros((batch, self.n_items), dtype=bool)
        self.keys = np.zeros(batch, dtype=np.uint64)  # each user's episode stream
        self.log: list[list[str]] = [[] for _ in range(batch)]
        self.keep_log = False  # text log of each step, for render_mode="ansi" only
        #: compiled calls' standing arguments (`recworld.envs.compiled.Packed`), made at first use
        self.packed: dict[str, Packed] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the packed arguments (compiled-code objects): they are made again."""
        return {**self.__dict__, "packed": {}}

    def reset_users(self, index: np.ndarray, keys: np.ndarray, members: np.ndarray | None = None) -> None:
        """Start a new episode for the users at ``index`` with the episode streams ``keys``
        (`recworld.numerics.counter.stream_keys`).

        The user is the stream's first draw; ``members`` (positions in the population, one per index)
        picks the users instead, so an evaluation can visit every test user."""
        index = np.asarray(index, dtype=np.int64)
        if members is None:
            members = NO_MEMBERS
        else:
            members = np.asarray(members, dtype=np.int64).reshape(-1)
            if members.shape != index.shape or (
                members.size and (members.min() < 0 or members.max() >= len(self.world.population))
            ):
                raise ValueError(
                    f"members must be {len(index)} positions in the population of "
                    f"{len(self.world.population)} users"
                )
        start_episodes(index, np.asarray(keys, dtype=np.uint64), members, self.packed_start())
        if self.keep_log:
            for b in index.tolist():  # rendering only
                self.log[b] = []
        self.start(index)

    def packed_start(self) -> Packed:
        """`recworld.envs.compiled.start_episodes`'s packed arguments."""
        packed = self.packed.get("start")
        if packed is None:
            items = (self.keys, self.member, self.user, self.t, self.shown, self.world.population)
            packed = self.packed["start"] = pack((*items, self.history.ring()))
        return packed

    def rated_only(self, candidates: str | None, needed: int, why: str) -> bool:
        """Resolve the ``candidates`` option: ``"rated"`` restricts the episode to the films each user
        rated in the data (the replay protocol; the default, and the only choice, on replay), ``"all"``
        to the whole catalog. Every user must have rated ``needed`` films (``why`` says what for)."""
        replay = isinstance(self.world.simulator, ReplaySimulator)
        chosen = candidates if candidates is not None else ("rated" if replay else "all")
        if chosen not in CANDIDATES:
            raise ValueError(
                f"{self.env_id}: candidates={candidates!r} is not one of {', '.join(CANDIDATES)}"
            )
        if replay and chosen == "all":
            raise ValueError(
                f"{self.env_id}: candidates='all' with simulator='replay': the data knows only the films "
                "each user rated; use candidates='rated' (the default on replay)"
            )
        if chosen == "rated":
            counts = np.array([len(rated) for rated in self.world.population_rated])
            short = int((counts < needed).sum())
            if short:
                raise ValueError(
                    f"{self.env_id}: candidates='rated' needs every user to have rated at least {needed} "
                    f"films ({why}); {short} of {len(counts)} users have fewer (the fewest: {counts.min()}) "
                    "— shorten the episode, or choose users with more ratings (users=...)"
                )
        return chosen == "rated"

    def start(self, index: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Environment-specific per-episode set-up for the users at ``index``."""

    def observe(self, first: bool = False) -> dict[str, np.ndarray] | np.ndarray:
        """A fresh observation of every user (an agent may keep it), written by the compiled
        `recworld.envs.compiled.observe`; ``first``: the first user's only (the single environment)."""
        buffer = self.layout.new()
        n_blocks = blocks(self.batch)
        if n_blocks > 1:
            observe_blocks(buffer, self.history.head, self.packed_observe(), n_blocks)
        else:
            observe_packed(buffer, self.history.head, self.packed_observe())
        return self.observation(buffer, first)

    def packed_observe(self) -> Packed:
        """`recworld.envs.compiled.observe_range`'s packed arguments."""
        packed = self.packed.get("observe")
        if packed is None:
            layout = self.layout
            items = (layout.bases, layout.strides, self.history.ring(), self.world.population_features)
            packed = self.packed["observe"] = pack((*items, self.member, self.t, self.horizon))
        return packed

    def observation(self, buffer: np.ndarray, first: bool = False) -> dict[str, np.ndarray] | np.ndarray:
        """The observation in a written flat ``buffer`` (`recworld.envs.history.Layout`), as the space
        has it; ``first``: the first user's only."""
        layout = self.layout
        if layout.rows:
            return buffer[: layout.total] if first else buffer.reshape(self.batch, layout.total)
        return layout.first(buffer) if first else layout.parts(buffer)

    def flatten_observations(self) -> None:
        """Observe one float32 ``Box``: the ``Dict``'s boxes concatenated in its key order."""
        boxes: dict[str, Any] = dict(getattr(self.observation_space, "spaces", {}))
        self.layout = Layout(self.layout.widths, self.batch, OBSERVATION_PARTS, rows=True)
        self.packed.clear()  # (those holding the old layout's are made again)
        low = np.concatenate([box.low.reshape(-1) for box in boxes.values()])
        high = np.concatenate([box.high.reshape(-1) for box in boxes.values()])
        self.observation_space = spaces.Box(low, high, dtype=np.float32)

    def action_masks(self) -> np.ndarray:
        """Allowed items (not shown yet in this episode); ``(B, n_items)``, or ``(B, S * n_items)``
        for slates (each slot masked alike, as sb3-contrib's MaskablePPO expects)."""
        allowed = ~self.shown
        return allowed if self.slate_size == 1 else np.tile(allowed, (1, self.slate_size))

    def check_actions(self, actions: Any, shown: Any = _UNSET) -> np.ndarray:
        """Actions as an int array ``(B, S)``; anything outside the action space raises `InvalidAction`
        (naming ``shown``, the action as the caller gave it, when given)."""
        expected = (self.batch,) if self.slate_size == 1 else (self.batch, self.slate_size)
        if type(actions) is np.ndarray and actions.dtype is INT64 and actions.shape == expected:
            # the common case, a vector environment's batch as the action space samples it: what the
            # path below would return, with one look at its flags and one compiled pass
            flags = actions.flags
            if flags.c_contiguous and flags.writeable and all_within(actions.reshape(-1), self.n_items):
                return actions.reshape(self.batch, self.slate_size)
        shown = actions if shown is _UNSET else shown
        array = np.asarray(actions)
        if array.shape != expected or array.dtype.kind not in "iu":
            finite = array.dtype.kind == "f" and np.all(np.isfinite(array))
            integral = finite and np.all(array == np.round(array))
            if integral and array.shape == expected:
                pass  # whole numbers given as floats: checked against the catalog below, then cast
            else:
                raise InvalidAction(
                    f"action {shown!r} is not in {self.action_space}: expected integer item indices "
                    f"0..{self.n_items - 1}"
                    + ("" if self.slate_size == 1 else f", {self.slate_size} per slate")
                )
        flat = array.reshape(-1)
        if flat.dtype in COMPILED_ACTION_TYPES:
            inside = all_within(flat, self.n_items)
        else:  # float16, long double, the other byte order: numba takes none of them
            inside = flat.size == 0 or (flat.min() >= 0 and flat.max() < self.n_items)
        if not inside:
            bad = array.min() if array.min() < 0 else array.max()
            raise InvalidAction(f"action {bad:g} is outside the catalog: items are 0..{self.n_items - 1}")
        # One layout for the compiled step (another would compile another copy of it): C order,
        # int64, writeable; the caller's own array when it already is one (the step only reads it).
        checked = np.ascontiguousarray(array.reshape(self.batch, self.slate_size), dtype=np.int64)
        return checked if checked.flags.writeable else checked.copy()

    @abstractmethod
    def step(
        self, actions: np.ndarray, fresh: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every user one step: rewards, terminated, truncated (``(B,)`` each) and info arrays —
        the kernel's own, overwritten by the next step, or with ``fresh`` copies the caller may keep
        (the vector environment's: each block of outputs copied once, its rows views of the copy)."""

    def restart(self, index: np.ndarray, seeds: np.ndarray, episodes: np.ndarray) -> None:
        """Autoreset: the users at ``index`` start the next episode of their ``seeds`` (``episodes``
        moved on: `recworld.envs.compiled.next_streams`)."""
        self.reset_users(index, next_streams(index, seeds, episodes))

    def step_autoreset(
        self, actions: np.ndarray, ended: np.ndarray, seeds: np.ndarray, episodes: np.ndarray
    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray, bool]:
        """A vector step under Gymnasium's next-step autoreset: every user steps, then those whose
        episode had ``ended`` (flags, updated in place to whether each episode ends now) start their next
        episode (`restart`); their outputs are those of a reset
        (`recworld.envs.compiled.autoreset_outputs`). Returns the
        observation, rewards, terminated, truncated and info (all fresh, ``info["user"]`` the users
        after the restarts), which users were stepped, and whether any was reset. A kernel may do it
        all in one compiled call (`recworld.envs.cold_start.RecommendationKernel`); this is the plain
        path, in steps."""
        index = np.flatnonzero(ended)
        reward, terminated, truncated, info = self.step(actions, fresh=True)
        if len(index):
            self.restart(index, seeds, episodes)
            info["user"] = self.user.copy()
        stepped = np.empty(self.batch, dtype=bool)
        autoreset_outputs(0, self.batch, ended, reward, terminated, truncated, stepped)
        return self.observe(), reward, terminated, truncated, info, stepped, len(index) > 0

    def describe(self, b: int) -> str:
        """The episode so far, as text (for ``render_mode="ansi"``)."""
        head = f"user {self.user[b]} (step {self.t[b]}/{self.horizon})"
        return "\n".join([head, *self.log[b][-10:]]) + "\n"


class RecEnv(gym.Env):
    """A single environment running a kernel with one user (see the subclasses' docstrings)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 - Gymnasium's convention
    kernel_class: ClassVar[type[Kernel]]

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UnsupportedRenderMode(f"render_mode={render_mode!r}; the only render mode is 'ansi'")
        self.render_mode = render_mode
        self.kernel = make_kernel(self.kernel_class, 1, options)
        self.kernel.keep_log = render_mode == "ansi"
        self.observation_space = self.kernel.observation_space
        self.action_space = self.kernel.action_space
        self._running = False
        self._seed: np.ndarray | None = None  # the seed (as `seed_words`), and the episode of it being played
        self._episode = np.zeros(1, dtype=np.uint64)
        self._first = np.zeros(1, dtype=np.int64)  # the index of the single user

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        """Start an episode: the first of ``seed``, or the next of the current seed (one drawn from
        the operating system when none was ever given); ``options={"member": i}`` picks the i-th user
        of the population."""
        super().reset(seed=seed)
        # the next seed and episode, kept only once the kernel has accepted the reset
        if seed is not None or self._seed is None:
            words = seed_words([int(seed) if seed is not None else int(self.np_random.integers(2**63))])
            episode = np.zeros(1, dtype=np.uint64)
        else:
            words, episode = self._seed, self._episode + np.uint64(1)
        member = None if not options or "member" not in options else np.array([options["member"]])
        self.kernel.reset_users(self._first, stream_keys(words, episode), member)
        self._seed, self._episode = words, episode
        self._running = True
        return self._observation(), {"user": int(self.kernel.user[0])}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if not self._running:
            raise ResetNeeded("call reset() before step(): the episode has not started or has ended")
        kernel = self.kernel
        if (
            (type(action) is int or isinstance(action, np.integer))
            and kernel.slate_size == 1
            and (0 <= action < kernel.n_items)
        ):  # the common case, already valid: what `check_actions` would return
            reward, terminated, truncated, info = kernel.step(np.array([[action]], dtype=np.int64))
        else:
            reward, terminated, truncated, info = kernel.step(self._checked(action))
        ended, cut = bool(terminated[0]), bool(truncated[0])
        self._running = not (ended or cut)
        flat = {key: value.item() for key, value in info.items()}  # one-element arrays
        return self._observation(), reward.item(), ended, cut, flat

    def _checked(self, action: Any) -> np.ndarray:
        try:
            return self.kernel.check_actions(np.asarray(action)[None], shown=action)
        except (TypeError, ValueError) as err:  # e.g. a string that numpy cannot read as a number
            if isinstance(err, InvalidAction):
                raise
            raise InvalidAction(f"action {action!r} is not in {self.action_space}") from None

    def action_masks(self) -> np.ndarray:
        return self.kernel.action_masks()[0]

    def render(self) -> Any:  # the text (``str``) or None; Gymnasium types it by release
        return self.kernel.describe(0) if self.render_mode == "ansi" else None

    def _observation(self) -> dict[str, np.ndarray] | np.ndarray:
        return self.kernel.observe(first=True)


class RecVectorEnv(gym.vector.VectorEnv):
    """The native vector environment: ``num_envs`` users advanced together by one kernel.

    Autoreset is Gymnasium's next-step mode by default: the step after an episode ends resets that
    sub-environment (its action is ignored, its reward is 0, its ``info["user"]`` is the new user).
    ``autoreset_mode=AutoresetMode.SAME_STEP`` (or ``"same-step"``) resets it within the step that
    ended it, returning the new episode's first observation, with the final one in
    ``info["final_obs"]`` and the step's info in ``info["final_info"]`` (Gymnasium's same-step
    convention, and stable-baselines3's ``VecEnv`` one).
    ``backend="torch"`` with ``device="cuda"`` (ColdStart and Engagement) keeps the users on a GPU
    (`recworld.envs.torch_backend`). ``reset(options={"members": m})`` picks the users (positions in the
    population) instead of
    drawing them. A seed of ``None`` (for all, or one sub-environment in a list) plays that
    sub-environment's next episode, as Gymnasium's ``reset(seed=None)`` continues its generator.
    """

    metadata = {"render_modes": ["ansi"], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012
    kernel_class: ClassVar[type[Kernel]]

    def __new__(cls, num_envs: int = 1, *args: Any, backend: str = "numpy", **options: Any) -> Any:
        """``backend="torch"`` (with ``device=``) builds `recworld.envs.torch_backend.TorchVectorEnv`."""
        if backend == "torch":
            from recworld.envs.torch_backend import TorchVectorEnv

            return TorchVectorEnv(cls.kernel_class, num_envs, *args, **options)
        if backend != "numpy":
            raise ValueError(f"backend={backend!r} is not one of numpy, torch")
        return super().__new__(cls)

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        backend: str = "numpy",
        device: Any = None,
        **options: Any,
    ) -> None:
        if device is not None:
            raise ValueError(f"device={device!r} needs backend='torch' (the numpy backend runs on the CPU)")
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        modes: dict[Any, AutoresetMode] = {m: m for m in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)}
        modes.update({"next-step": AutoresetMode.NEXT_STEP, "same-step": AutoresetMode.SAME_STEP})
        if autoreset_mode not in modes:
            raise ValueError(f"autoreset_mode={autoreset_mode!r} is not one of next-step, same-step")
        self.autoreset_mode = modes[autoreset_mode]
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.kernel = make_kernel(self.kernel_class, num_envs, options)
        self.kernel.keep_log = render_mode == "ansi"
        self.single_observation_space = self.kernel.observation_space
        self.single_action_space = self.kernel.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._seeds: np.ndarray | None = None  # each sub-environment's seed (uint64 words) and episode
        self._episodes = np.zeros(num_envs, dtype=np.uint64)
        self._autoreset = np.zeros(num_envs, dtype=bool)  # whose episode ended in the last step

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict]:
        if seed is None or isinstance(seed, int | np.integer):
            seeds = [None if seed is None else int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} environments")
        # the next seeds and episodes, kept only once the kernel has accepted the reset
        if self._seeds is None:  # never seeded: seeds from the operating system where none is given
            words = seed_words(np.random.default_rng().integers(2**63, size=self.num_envs))
            episodes = np.zeros(self.num_envs, dtype=np.uint64)
        else:
            words, episodes = self._seeds.copy(), self._episodes + np.uint64(1)
        given = [i for i, s in enumerate(seeds) if s is not None]
        if given:
            words[given] = seed_words([seeds[i] for i in given])
            episodes[given] = 0
        members = None if not options or "members" not in options else options["members"]
        self.kernel.reset_users(np.arange(self.num_envs), stream_keys(words, episodes), members)
        self._seeds, self._episodes = words, episodes
        self._autoreset[:] = False
        everyone = np.ones(self.num_envs, dtype=bool)
        return self.kernel.observe(), {"user": self.kernel.user.copy(), "_user": everyone}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._seeds is None:
            raise ResetNeeded("call reset() before step()")
        checked = self.kernel.check_actions(actions)
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            return self._same_step_reset(*self.kernel.step(checked, fresh=True))
        # a sub-environment whose episode ended is reset now, not stepped (``stepped`` False): it
        # reports its reset info only
        observation, reward, terminated, truncated, info, stepped, reset = self.kernel.step_autoreset(
            checked, self._autoreset, self._seeds, self._episodes
        )
        info.update(dict.fromkeys(mask_keys(tuple(info)), stepped))  # (the info is the step's own, fresh)
        if reset:
            info["_user"] = np.ones(self.num_envs, dtype=bool)
        return observation, reward, terminated, truncated, info

    def _same_step_reset(
        self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, info: dict[str, np.ndarray]
    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Gymnasium's same-step convention: an ended sub-environment is reset now; the step's info
        goes to ``info["final_info"]`` (arrays with ``_key`` masks, as the top level has them), its
        last observation to ``info["final_obs"]``, and the top level holds its reset info (``user``)."""
        done = terminated | truncated
        ended = np.flatnonzero(done)
        out: dict[str, Any] = {**info, **dict.fromkeys(mask_keys(tuple(info)), ~done)}
        if len(ended):
            final = self.kernel.observe()
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in ended:  # only the users whose episode ended
                final_obs[i] = (
                    final[i] if isinstance(final, np.ndarray) else {k: v[i] for k, v in final.items()}
                )
            assert self._seeds is not None
            self.kernel.restart(ended, self._seeds, self._episodes)
            out["user"] = info["user"].copy()
            out["user"][ended] = self.kernel.user[ended]
            out["_user"] = np.ones(self.num_envs, dtype=bool)
            out["final_info"] = {**info, **{mask: done.copy() for mask in mask_keys(tuple(info))}}
            out.update(final_obs=final_obs, _final_obs=done.copy(), _final_info=done.copy())
        return self.kernel.observe(), reward, terminated, truncated, out

    def action_masks(self) -> np.ndarray:
        return self.kernel.action_masks()

    def render(self) -> Any:  # one text (``str``) per user, or None
        if self.render_mode != "ansi":
            return None
        return tuple(self.kernel.describe(b) for b in range(self.num_envs))
