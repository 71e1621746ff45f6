"""``backend="torch"``: the ColdStart and Engagement vector environments stepped with torch, on any device.

``gym.make_vec("recworld/ColdStart-v0", num_envs=1_000_000, vectorization_mode="vector_entry_point",
backend="torch", device="cuda")`` keeps every user's state on the device and returns observations,
rewards, flags and info as torch tensors there (spaces and info keys are the numpy backend's). The
step is the same as `recworld.envs.compiled.recommend_step`, written as whole-batch tensor operations,
and draws the same counter-based streams (`counter_uniforms` reproduces `recworld.numerics.counter`
bit for bit with wrapping int64 arithmetic), so the two backends agree in distribution; they differ
in the last bits of floating point (the order of sums, float32 here), which can move a draw that
falls on a boundary. Fitted worlds (tabular or replay) and the built-in choice models; everything
else is the numpy backend's (``backend="numpy"``, the default).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from recworld.envs.base import Kernel, make_kernel, mask_keys
from recworld.envs.cold_start import RecommendationKernel
from recworld.numerics.counter import GOLDEN, MIX_1, MIX_2, RESET_STEP, TO_UNIT


def _signed(word: np.uint64) -> int:
    """A 64-bit word as the int64 with the same bits."""
    value = int(word)
    return value - (1 << 64) if value >= 1 << 63 else value


G, M1, M2 = _signed(GOLDEN), _signed(MIX_1), _signed(MIX_2)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 words (torch's ``>>`` is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _mix(z: torch.Tensor) -> torch.Tensor:
    z = (z ^ _shift_right(z, 30)) * M1
    z = (z ^ _shift_right(z, 27)) * M2
    return z ^ _shift_right(z, 31)


def stream_keys(seeds: torch.Tensor, streams: torch.Tensor) -> torch.Tensor:
    """`recworld.numerics.counter.stream_keys` on int64 tensors (seeds taken modulo 2**64)."""
    return _mix(_mix(seeds + G) ^ streams)


def counter_uniforms(keys: torch.Tensor, steps: torch.Tensor, n_draws: int) -> torch.Tensor:
    """`recworld.numerics.counter.uniforms` on the device: ``(B, n_draws)`` float64."""
    inner = _mix(keys + (steps + 1) * G)
    draws = torch.arange(1, n_draws + 1, device=keys.device, dtype=torch.int64) * G
    words = _mix(inner[:, None] + draws[None, :])
    return _shift_right(words, 11).to(torch.float64) * TO_UNIT


class TorchRecommendationKernel:
    """`RecommendationKernel`'s state and step for ``batch`` users as device tensors. The constants
    (the world's tables, the choice model, the dynamics) come from a one-user numpy kernel."""

    def __init__(self, reference: RecommendationKernel, batch: int, device: torch.device) -> None:
        if reference.probs_in_python:
            raise ValueError(
                f"{reference.env_id}: backend='torch' needs a fitted world (a family name, a saved "
                "simulator or replay) and a built-in choice model; use backend='numpy' for your own"
            )
        self.reference, self.batch, self.device = reference, batch, device
        self.horizon, self.slate_size, self.n_items = (
            reference.horizon,
            reference.slate_size,
            reference.n_items,
        )
        world = reference.world

        def tensor(array: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
            return torch.as_tensor(np.asarray(array), device=device, dtype=dtype)

        self.table = tensor(reference.table)
        self.noise = tensor(reference.noise)
        self.thresholds = tensor(reference.thresholds)
        self.levels = tensor(reference.levels)
        self.liked = tensor(reference.liked_levels)
        self.surprise_baseline = tensor(reference.surprise_baseline)
        self.features = tensor(world.item_features)
        self.profiles = tensor(world.genre_profiles)
        self.population = tensor(world.population)
        self.population_features = tensor(world.population_features)
        self.choice = [float(value) for value in reference.choice_parameters]
        self.dynamics = [float(value) for value in reference.dynamics_parameters]
        self.regret = getattr(reference, "compute_regret", True)
        if not self.dynamics:
            top, expected = world.top_items(self.horizon * self.slate_size + self.slate_size, reference.rated)
            self.top, self.top_expected = tensor(top), tensor(expected)
        elif self.regret:
            # each member's items by static score, best first, and those scores, padded past the
            # catalog's end (item 0, score -inf) for the windows of `_best_shifted`
            scores, order = self.table[self.population].sort(dim=1, descending=True)
            width = self.window_width = min(max(self.search_width, self.slate_size), self.n_items)
            self.static_order = torch.cat([order, torch.zeros_like(order[:, :width])], 1)
            self.static_scores = torch.cat([scores, torch.full_like(scores[:, : width + 1], -torch.inf)], 1)
        self.rated_mask = tensor(world.rated_mask()) if reference.rated else None
        s, window, d = self.slate_size, reference.history.window, self.features.shape[1]
        f32 = torch.float32
        self.member = torch.zeros(batch, dtype=torch.int64, device=device)
        self.user = torch.zeros_like(self.member)
        # into each user's list of best items (a static world), or items by static score (dynamics)
        self.pointer = torch.zeros_like(self.member)
        self.t = torch.zeros_like(self.member)
        self.keys = torch.zeros_like(self.member)
        self.sigma = torch.zeros(batch, device=device, dtype=f32)
        self.shown = torch.zeros((batch, self.n_items), dtype=torch.bool, device=device)
        self.ring_items = torch.zeros((batch, window, s, d), device=device, dtype=f32)
        self.ring_responses = torch.zeros((batch, window, s, 4), device=device, dtype=f32)
        self.head = 0
        self.shown_sum = torch.zeros((batch, d), device=device, dtype=f32)
        self.rated_sum = torch.zeros((batch, d), device=device, dtype=f32)
        self.n_shown = torch.zeros(batch, device=device, dtype=f32)
        self.n_rated = torch.zeros(batch, device=device, dtype=f32)
        g = self.profiles.shape[1]
        self.affinity = torch.zeros((batch, g), device=device, dtype=f32)
        self.boredom = torch.zeros((batch, g), device=device, dtype=f32)
        self.recent = torch.zeros((batch, g), device=device, dtype=f32)
        self.satisfaction = torch.zeros(batch, device=device, dtype=f32)
        self.sessions = torch.ones(batch, dtype=torch.int64, device=device)

    # ------------------------------------------------------------------ episodes
    def reset_users(
        self, index: torch.Tensor, keys: torch.Tensor, members: torch.Tensor | None = None
    ) -> None:
        n_population = len(self.population)
        if members is not None:  # refused before anything changes, as the numpy kernel does
            members = members.reshape(-1)
            if members.shape != index.shape or (
                len(members) and (int(members.min()) < 0 or int(members.max()) >= n_population)
            ):
                raise ValueError(
                    f"members must be {len(index)} positions in the population of {n_population} users"
                )
        self.keys[index] = keys
        draw = counter_uniforms(keys, torch.full_like(keys, RESET_STEP), 1)[:, 0]
        member = (draw * n_population).long().clamp(max=n_population - 1)
        self.member[index] = member if members is None else members
        self.user[index] = self.population[self.member[index]]
        self.t[index] = 0
        self.pointer[index] = 0
        self.shown[index] = False
        if self.rated_mask is not None:
            self.shown[index] = ~self.rated_mask[self.member[index]]
        for array in (self.ring_items, self.ring_responses, self.shown_sum, self.rated_sum, self.n_shown):
            array[index] = 0.0
        self.n_rated[index] = 0.0
        rows = self.user[index]
        self.sigma[index] = self.noise[rows] if len(self.noise) else 0.0
        for array in (self.affinity, self.boredom, self.recent, self.satisfaction):
            array[index] = 0.0
        self.sessions[index] = 1

    # ------------------------------------------------------------------ the step
    def _preference(self) -> torch.Tensor | None:
        dyn = self.dynamics
        if not dyn or (dyn[0] <= 0 and dyn[5] <= 0):
            return None
        shift = self.affinity.clone() if dyn[5] > 0 else torch.zeros_like(self.boredom)
        return shift - dyn[3] * self.boredom if dyn[0] > 0 else shift

    def _probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        """The ordinal probit's level probabilities ``scores.shape + (L,)`` (a noise of 0: one level)."""
        sigma = self.sigma.reshape(-1, *([1] * (scores.ndim - 1)))
        z = (self.thresholds - scores[..., None]) / sigma.clamp(min=1e-12)[..., None]
        cdf = torch.special.ndtr(z)
        ones = torch.ones_like(cdf[..., :1])
        probs = torch.diff(torch.cat([torch.zeros_like(ones), cdf, ones], dim=-1), dim=-1).clamp(min=0.0)
        if len(self.noise) and bool((self.sigma > 0).all()):
            return probs
        level = (scores[..., None] > self.thresholds).sum(-1)
        exact = torch.nn.functional.one_hot(level, len(self.levels)).to(probs.dtype)
        return torch.where((sigma > 0)[..., None], probs, exact)

    def _best_expected(self, pref: torch.Tensor | None) -> torch.Tensor:
        """Each user's ``S`` best unseen items' expected ratings, summed, ``(B,)``: in a static world
        from each user's precomputed list (`_best_listed`), under dynamics by a search that reads a
        few items per user (`_best_shifted`). Neither passes over the catalog for every user."""
        if not self.dynamics:
            return self._best_listed()
        return (self._probabilities(self._best_shifted(pref)) @ self.levels).sum(1).double()

    def _best_listed(self) -> torch.Tensor:
        """A static world's best unseen items, as the numpy kernel finds them
        (`RecommendationKernel.best_unseen`): with one item per step a pointer into each user's list
        moves past what was shown (a few passes of one item per user: it only moves forward, and stops
        at the list's end); with a slate, the list's unseen items first, in order, then the rest."""
        if self.slate_size == 1:
            self._move_pointer(self.top, self.top.shape[1] - 1)
            return self.top_expected[self.member, self.pointer].double()
        s = self.slate_size
        items = self.top[self.member]
        unseen = ~self.shown.gather(1, items)
        order = torch.argsort((~unseen).to(torch.int8), dim=1, stable=True)[:, :s]
        return self.top_expected[self.member].gather(1, order).sum(1).double()

    def _move_pointer(self, lists: torch.Tensor, last: int) -> None:
        """Move each user's `pointer` into their member's row of ``lists`` past the items shown (it
        stops at ``last``): a few passes of one item per user, since it only moves forward."""
        shown, flat = self.shown.view(-1), lists.view(-1)  # (one index of a flat table: cheaper than a pair)
        rows = torch.arange(self.batch, device=self.device) * self.n_items
        starts = self.member * lists.shape[1]
        while True:
            blocked = shown[rows + flat[starts + self.pointer]] & (self.pointer < last)
            if not bool(blocked.any()):
                return
            self.pointer += blocked

    #: how many items by static score `_best_shifted` scores for each user (at least a slate's)
    search_width = 16

    def _best_shifted(self, pref: torch.Tensor | None) -> torch.Tensor:
        """The ``S`` best scores among each user's unseen items under today's genre shift ``pref``,
        best first, ``(B, S)`` (``-inf`` past the unseen items), as the numpy kernel's walk finds them
        (`recworld.envs.compiled.best_shifted_scores`). A pointer moves along each member's items by
        static score past those shown, and the `window_width` items from it are scored; the shift
        raises no item's score by more than the user's largest genre shift, so every item further
        down scores at most the static score one past the window plus that rise, and where the
        window's S-th best unseen reaches it the window's answer is the catalog's. Only the other
        users' catalogs are scanned."""
        s, width = self.slate_size, self.window_width  # (a slate is at most the catalog: the kernel checks)
        self._move_pointer(self.static_order, self.n_items - 1)
        # the window's places in the flat tables (one index of a flat table: cheaper than a pair)
        order_at = self.member * self.static_order.shape[1] + self.pointer
        scores_at = self.member * self.static_scores.shape[1] + self.pointer
        window = torch.arange(width, device=self.device)
        items = self.static_order.view(-1)[order_at[:, None] + window]
        scores = self.static_scores.view(-1)[scores_at[:, None] + window]
        bound = self.static_scores.view(-1)[scores_at + width]
        if pref is not None:
            scores = scores + torch.bmm(self.profiles[items], pref[:, :, None])[:, :, 0]
            bound = bound + pref.amax(1).clamp(min=0.0)
        scores = scores.masked_fill(self.shown.gather(1, items), -torch.inf)
        best = scores.topk(s, dim=1).values  # (the window holds at least a slate: see `window_width`)
        rest = (best[:, -1] < bound).nonzero()[:, 0]
        if len(rest):
            catalog = self.table[self.user[rest]]
            if pref is not None:
                catalog = catalog + pref[rest] @ self.profiles.T
            best[rest] = catalog.masked_fill(self.shown[rest], -torch.inf).topk(s, dim=1).values
        return best

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        s, b = self.slate_size, self.batch
        rows = torch.arange(b, device=self.device)[:, None]
        step = self.t.clamp(max=self.horizon - 1)
        draws = counter_uniforms(self.keys, step, 2 * s + (2 if self.dynamics else 0))
        fresh = ~self.shown.gather(1, actions)
        if s > 1:
            fresh &= ~torch.triu(actions[:, :, None] == actions[:, None, :], diagonal=1).any(1)
        pref = self._preference()
        best_sum = self._best_expected(pref) if (self.regret or not self.dynamics) else None
        scores = self.table[self.user[:, None], actions]
        if pref is not None:
            scores = scores + (pref[:, None, :] * self.profiles[actions]).sum(-1)
        probs = self._probabilities(scores)
        expected = probs @ self.levels
        like = probs[..., self.liked].sum(-1)
        cumulative = probs.cumsum(-1)
        target = draws[:, :s, None].float() * cumulative[..., -1:]
        ratings = self.levels[(target > cumulative).sum(-1).clamp(max=len(self.levels) - 1)]
        clicked = self._choose(
            torch.where(fresh, expected, -torch.inf), torch.where(fresh, like, 0.0), draws, fresh
        )
        taken = fresh if s == 1 else clicked
        reward = self._reward(ratings, taken, clicked, actions).sum(1)
        n_fresh, n_taken = fresh.sum(1), taken.sum(1)
        expected_sum = (expected * fresh).sum(1).double()
        info = {
            "rating": torch.where(n_taken > 0, (ratings * taken).sum(1) / n_taken.clamp(min=1), 0.0).double(),
            "expected_rating": expected_sum / n_fresh.clamp(min=1),
            "regret": torch.zeros(b, dtype=torch.float64, device=self.device)
            if best_sum is None
            else (best_sum - expected_sum) / s,
            "clicks": clicked.sum(1),
            "repeats": s - n_fresh,
            "user": self.user.clone(),
        }
        self.shown[rows, actions] = True
        self._record(actions, ratings, taken, fresh, clicked)
        left = (
            self._update_dynamics(actions, ratings, taken, draws)
            if self.dynamics
            else torch.zeros_like(fresh[:, 0])
        )
        if self.dynamics:
            info["satisfaction"] = self.satisfaction.double()
            info["session"] = self.sessions.clone()
        self.t += 1
        truncated = (self.t >= self.horizon) & ~left
        return reward.double(), left, truncated, info

    def _choose(
        self, expected: torch.Tensor, like: torch.Tensor, draws: torch.Tensor, fresh: torch.Tensor
    ) -> torch.Tensor:
        s = self.slate_size
        kind, temperature, no_click, decay = self.choice
        if kind == 0:  # multinomial logit with a no-click option, one uniform
            logits = torch.cat([expected, torch.full_like(expected[:, :1], no_click)], 1) / temperature
            cumulative = torch.softmax(logits.double(), 1)[:, :s].cumsum(1)
            below = draws[:, s : s + 1] < cumulative
            clicked = below & ~torch.cat([torch.zeros_like(below[:, :1]), below[:, :-1]], 1)
        elif kind == 1:  # cascade
            attracted = draws[:, s : 2 * s] < like
            clicked = attracted & (attracted.cumsum(1) == 1)
        else:  # position-based
            examination = 1.0 / (torch.arange(s, device=self.device) + 1.0) ** decay
            clicked = draws[:, s : 2 * s] < like * examination
        return clicked & fresh

    def _reward(
        self, ratings: torch.Tensor, taken: torch.Tensor, clicked: torch.Tensor, actions: torch.Tensor
    ) -> torch.Tensor:
        kind, low, high = self.reference.reward, float(self.levels.min()), float(self.levels.max())
        if kind == "click":
            return clicked.double()
        if kind == "rating":
            value = ratings
        elif kind == "centred":
            value = ratings - 0.5 * (low + high)
        elif kind == "like":
            value = (ratings >= self.reference.like_threshold).float()
        else:  # surprise
            value = (ratings - self.surprise_baseline[actions]).clamp(min=0.0)
        return (value * taken).double()

    def _record(
        self,
        actions: torch.Tensor,
        ratings: torch.Tensor,
        taken: torch.Tensor,
        fresh: torch.Tensor,
        clicked: torch.Tensor,
    ) -> None:
        window = self.ring_items.shape[1]
        self.head = (self.head - 1) % window
        low, high = float(self.levels.min()), float(self.levels.max())
        features = self.features[actions]
        items = features * fresh[..., None]
        scaled = torch.where(taken, (ratings - low) / (high - low), 0.0)
        self.ring_items[:, self.head] = items
        self.ring_responses[:, self.head] = torch.stack(
            [scaled, taken.float(), fresh.float(), clicked.float()], -1
        )
        self.shown_sum += items.sum(1)
        self.n_shown += fresh.sum(1)
        verdict = torch.where(taken, 2.0 * scaled - 1.0, 0.0)
        self.rated_sum += (features * verdict[..., None]).sum(1)
        self.n_rated += taken.sum(1)

    def _update_dynamics(
        self, actions: torch.Tensor, ratings: torch.Tensor, taken: torch.Tensor, draws: torch.Tensor
    ) -> torch.Tensor:
        dyn, s = self.dynamics, self.slate_size
        profiles, took = self.profiles[actions], taken.float()
        verdicts = ((ratings - dyn[16]) / dyn[17]).clamp(-1.0, 1.0)
        consumed = (took[..., None] * profiles).sum(1)
        if dyn[8] > 0:  # satisfaction
            repetition = torch.minimum(self.recent[:, None, :], profiles).sum(-1)
            outcome_each = verdicts - dyn[10] * repetition
            n_taken = took.sum(1)
            outcome = torch.where(n_taken > 0, (took * outcome_each).sum(1) / n_taken.clamp(min=1), -0.5)
            self.satisfaction += dyn[9] * (outcome - self.satisfaction)
            self.recent.mul_(1.0 - dyn[11]).add_(dyn[11] * consumed)
        if dyn[0] > 0:  # boredom
            self.boredom.mul_(dyn[2]).add_(dyn[1] * consumed)
        if dyn[5] > 0:  # drift
            drifted = (took[..., None] * verdicts[..., None] * profiles).sum(1)
            self.affinity.add_(dyn[6] * drifted).clamp_(-dyn[7], dyn[7])
        p_end = torch.sigmoid(dyn[12] - dyn[13] * self.satisfaction.double())
        p_return = torch.sigmoid(dyn[14] + dyn[15] * self.satisfaction.double())
        over = draws[:, 2 * s] < p_end
        back = draws[:, 2 * s + 1] < p_return
        again = over & back
        if dyn[0] > 0:
            self.boredom[again] *= dyn[4]
        self.sessions += again.long()
        return over & ~back

    def observe(self) -> dict[str, torch.Tensor]:
        window = self.ring_items.shape[1]
        order = (self.head + torch.arange(window, device=self.device)) % window
        d = self.features.shape[1]
        history = torch.empty((self.batch, 2 * d), device=self.device)
        history[:, :d] = self.shown_sum / self.n_shown.clamp(min=1.0)[:, None]
        history[:, d:] = self.rated_sum / self.n_rated.clamp(min=1.0)[:, None]
        return {
            "history": history.clamp(-1.0, 1.0),
            "progress": (self.t.clamp(max=self.horizon).float() / self.horizon)[:, None],
            "recent_items": self.ring_items[:, order].reshape(self.batch, -1),
            "recent_responses": self.ring_responses[:, order].reshape(self.batch, -1),
            "user": self.population_features[self.member],
        }


class TorchVectorEnv(gym.vector.VectorEnv):
    """A ColdStart or Engagement vector environment on the torch backend (see the module docstring);
    next-step autoreset, seeds and episodes as `recworld.envs.base.RecVectorEnv`'s."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        kernel_class: type[Kernel],
        num_envs: int,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        device: str | torch.device | None = None,
        **options: Any,
    ) -> None:
        if not issubclass(kernel_class, RecommendationKernel):
            raise ValueError(
                f"backend='torch' steps ColdStart and Engagement; {kernel_class.env_id} has "
                "backend='numpy' only"
            )
        if render_mode is not None:
            raise ValueError("backend='torch' does not render; use backend='numpy' with render_mode='ansi'")
        if autoreset_mode not in (AutoresetMode.NEXT_STEP, "next-step"):
            raise ValueError(
                "backend='torch' resets ended episodes at the next step (autoreset_mode='next-step')"
            )
        if options.get("observation", "dict") != "dict":
            raise ValueError("backend='torch' observes a Dict of tensors; flatten them on the device instead")
        self.device = torch.device(
            device if device is not None else "cuda" if torch.cuda.is_available() else "cpu"
        )
        reference = make_kernel(kernel_class, 1, options)
        assert isinstance(reference, RecommendationKernel)
        self.num_envs = num_envs
        self.kernel = TorchRecommendationKernel(reference, num_envs, self.device)
        self.single_observation_space = reference.observation_space
        self.single_action_space = reference.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._seeds: torch.Tensor | None = None
        self._episodes = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self._autoreset = torch.zeros(num_envs, dtype=torch.bool, device=self.device)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Seeds ``seed + i`` (episode 0), or, with no seed, each sub-environment's next episode."""
        everyone = torch.arange(self.num_envs, device=self.device)
        # the next seeds and episodes, kept only once the kernel has accepted the reset
        if seed is not None:
            seeds, episodes = everyone + int(seed), torch.zeros_like(self._episodes)
        elif self._seeds is None:
            seeds = torch.randint(0, 2**62, (self.num_envs,), device=self.device)
            episodes = torch.zeros_like(self._episodes)
        else:
            seeds, episodes = self._seeds, self._episodes + 1
        members = None
        if options and "members" in options:
            members = torch.as_tensor(np.asarray(options["members"]), device=self.device, dtype=torch.int64)
        self.kernel.reset_users(everyone, stream_keys(seeds, episodes), members)
        self._seeds, self._episodes = seeds, episodes
        self._autoreset.zero_()
        return self.kernel.observe(), {"user": self.kernel.user.clone()}

    def step(self, actions: Any) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        if self._seeds is None:
            raise ResetNeeded("call reset() before step()")
        actions = torch.as_tensor(actions, device=self.device, dtype=torch.int64).reshape(self.num_envs, -1)
        if actions.shape[1] != self.kernel.slate_size or bool(
            ((actions < 0) | (actions >= self.kernel.n_items)).any()
        ):
            raise ValueError(
                f"actions must be {self.num_envs} x {self.kernel.slate_size} item indices in "
                f"0..{self.kernel.n_items - 1}"
            )
        reward, terminated, truncated, info = self.kernel.step(actions)
        restart = self._autoreset.nonzero()[:, 0]
        if len(restart):
            self._episodes[restart] += 1
            self.kernel.reset_users(restart, stream_keys(self._seeds[restart], self._episodes[restart]))
            reward[restart], terminated[restart], truncated[restart] = 0.0, False, False
            info["user"][restart] = self.kernel.user[restart]
        self._autoreset = terminated | truncated
        stepped = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        stepped[restart] = False
        info.update(dict.fromkeys(mask_keys(tuple(info)), stepped))
        info["_user"] = torch.ones_like(stepped)
        return self.kernel.observe(), reward, terminated, truncated, info

    def action_masks(self) -> torch.Tensor:
        allowed = ~self.kernel.shown
        return allowed if self.kernel.slate_size == 1 else allowed.repeat(1, self.kernel.slate_size)
