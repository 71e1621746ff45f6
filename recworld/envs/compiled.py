"""The compiled step of the recommendation environments: one implementation for ``B`` users.

Every environment step is a loop over users here, compiled by numba (cached on disk, so a new
process loads it instead of compiling), with no Python between the action and the next
observation. The single environment calls it with ``B = 1``, the vector environment with
``B = num_envs``: there is no second copy of the logic. Here: the pieces every environment shares
(the user's ordinal answer and choice, the history and the observation, the packed arguments), the
Engagement dynamics and the step of ColdStart and Engagement (with, for the vector environment, the
restarts and the observation in the same call: `recommend_autoreset_block`); Elicitation's step
builds on them in `recworld.envs.elicitation_step`. The kernels in `recworld.envs.cold_start`,
`recworld.envs.engagement` and `recworld.envs.elicitation` own the state arrays and pass them in
(packed once: `pack`); the pieces a user may plug in (a simulator or a choice model of their own) are
computed in Python before the call and handed over (``probs_given``, ``clicks_given``).

Draws come from `recworld.numerics.counter`: draw ``d`` of step ``t`` in each episode's stream.

Every loop over users runs over ``range(lo, hi)``, a block of the batch. A vector environment of many
users steps its blocks on numba's threads (the ``*_blocks`` calls, in `blocks` blocks): no user's
step reads what another's writes, so the result is the same on any number of threads. The number
of threads is numba's (``NUMBA_NUM_THREADS``, or ``numba.set_num_threads`` in the calling thread).
Such a loop starts ``b = max(b, 0)``: from ``range(lo, hi)`` the compiler cannot tell that ``b`` is
not negative, and the check for a negative index on every ``a[b]`` kept the loops inside from being
vectorised (observations took a third longer).

An index read from an array is made safe once, before the loop that uses it (``m = max(member[b], 0)``,
then ``a[m, f]``): a store might alias any array, so an index read inside the loop (``a[member[b], f]``)
is read again, and checked for a negative value, on every pass, and the loop is not vectorised. A view
(``row = a[b]``) would do as much, but each costs two atomic reference-count updates: one per user is
worth it only before a long copy (the observation's parts); a short loop over a user's genres or a walk
down their items indexes the arrays themselves.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import cast

import numba
import numpy as np
from numba import njit, prange
from numba.core import types
from numba.experimental import structref
from numba.np.ufunc import parallel as numba_parallel

from recworld.numerics.counter import RESET_STEP, step_key, step_uniform, stream_keys, uniform
from recworld.numerics.normal import normal_cdf

#: rewards (`recworld.envs.rewards`), in the order of ``REWARDS``
REWARD_KINDS = {"rating": 0, "centred": 1, "like": 2, "click": 3, "surprise": 4}
#: the layout of the dynamics' parameter vector (`dynamics_parameters`)
DYNAMICS = (
    "boredom",
    "boredom.gain",
    "boredom.decay",
    "boredom.weight",
    "boredom.carry_over",
    "drift",
    "drift.rate",
    "drift.max_drift",
    "satisfaction",
    "satisfaction.rate",
    "satisfaction.wear_cost",
    "satisfaction.memory",
    "retention.end_bias",
    "retention.end_slope",
    "retention.return_bias",
    "retention.return_slope",
    "neutral_rating",
    "rating_spread",
)


#: the fewest users a thread steps: a smaller batch steps on the calling thread alone (starting the
#: threads costs more than they would save)
USERS_PER_THREAD = 256


@functools.cache
def thread_counter() -> Callable[[], int]:
    """What tells numba's thread count: once its thread pool has started, the pool's own getter, the
    value `numba.get_num_threads` returns (``set_num_threads`` included) without the two locks that
    function takes on every call; `numba.get_num_threads` itself where numba has no such getter."""
    numba.get_num_threads()  # starts the pool, which sets the getter
    getter = getattr(numba_parallel, "_get_num_threads", None)
    if callable(getter) and getter() == numba.get_num_threads():
        return cast("Callable[[], int]", getter)
    return numba.get_num_threads


def blocks(batch: int) -> int:
    """How many blocks a batch of ``batch`` users steps in: one per thread of numba's, each of at least
    `USERS_PER_THREAD` users."""
    if batch < 2 * USERS_PER_THREAD:
        return 1
    return max(1, min(thread_counter()(), batch // USERS_PER_THREAD))


@njit(cache=True, inline="always")
def block_bounds(block: int, blocks: int, batch: int) -> tuple[int, int]:
    """``(lo, hi)``: the users of block ``block`` of ``blocks`` near-equal blocks of ``batch``."""
    return block * batch // blocks, (block + 1) * batch // blocks


# ------------------------------------------------------------------ standing arguments, held natively
@structref.register
class _PackedType(types.StructRef):
    def preprocess_fields(self, fields: tuple) -> tuple:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class Packed(structref.StructRefProxy):
    """A step's standing arguments (a tuple of the kernel's arrays, which it updates in place) held by
    compiled code: a call then passes one object, where unboxing some forty arrays on every call cost
    more than a single user's whole step. Made by `pack`."""

    items: tuple  # the field, read by compiled code

    def __new__(cls, items: tuple) -> Packed:
        return structref.StructRefProxy.__new__(cls, items)


structref.define_proxy(Packed, _PackedType, ["items"])


@njit(cache=True)
def pack(items: tuple) -> Packed:
    """``Packed(items)`` made by compiled code cached on disk (the proxy's own constructor compiles
    anew in every process)."""
    return Packed(items)


# ------------------------------------------------------------------ the actions
@njit(cache=True)
def all_within(values: np.ndarray, n: int) -> bool:
    """Whether every one of ``values`` (1-D) lies in ``[0, n)``: one pass where ``min`` and ``max``
    would make two (the actions' check, every step)."""
    for value in values:
        if not (value >= 0 and value < n):
            return False
    return True


# ------------------------------------------------------------------ an episode's start
@njit(cache=True)
def next_streams(index: np.ndarray, seeds: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """The next episode of the sub-environments at ``index``: their episode counters (``episodes``,
    uint64) moved on in place, and the streams' keys (`recworld.numerics.counter.stream_keys`)."""
    for b in index:
        episodes[b] += np.uint64(1)
    return stream_keys(seeds[index], episodes[index])


@njit(cache=True)
def autoreset_outputs(
    lo: int,
    hi: int,
    ended: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    stepped: np.ndarray,
) -> int:
    """Gymnasium's next-step autoreset of users ``lo:hi`` of a step's outputs: a sub-environment whose
    episode had ``ended`` (its flag) was reset, not stepped (``stepped`` False; reward 0, neither
    terminated nor truncated); ``ended`` then becomes whether its episode ends now. Returns how many
    were reset."""
    reset = 0
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        stepped[b] = not ended[b]
        if ended[b]:
            reward[b], terminated[b], truncated[b] = 0.0, False, False
            reset += 1
        ended[b] = terminated[b] or truncated[b]
    return reset


@njit(cache=True)
def start_episodes(index: np.ndarray, keys: np.ndarray, members: np.ndarray, packed: Packed) -> None:
    """Start an episode for the users at ``index`` with the streams ``keys``: the user is the stream's
    first draw at `RESET_STEP` (or ``members[i]``, positions in the population, when given), nothing
    shown, an empty history. ``packed`` = ``(keys, member, user, t, shown, population, ring)``, the
    kernel's arrays (`recworld.envs.base.Kernel.reset_users`)."""
    stream, member, user, t, shown, population, ring = packed.items
    n_population = len(population)
    for i in range(len(index)):
        b = max(index[i], 0)  # (not negative: see the module's docstring)
        stream[b] = keys[i]
        if len(members):
            m = members[i]
        else:
            m = min(int(uniform(keys[i], RESET_STEP, 0) * n_population), n_population - 1)
        member[b], user[b], t[b] = m, population[m], 0
        for item in range(shown.shape[1]):
            shown[b, item] = False
    clear_history(index, ring)


@njit(cache=True)
def clear_history(index: np.ndarray, ring: tuple) -> None:
    """Forget the episodes of the users at ``index`` (``ring``: `recworld.envs.history.History.ring`)."""
    ring_items, ring_responses, shown_sum, rated_sum, n_shown, n_rated = ring
    batch = len(ring_items)
    items = ring_items.reshape(batch, ring_items.size // batch)
    responses = ring_responses.reshape(batch, ring_responses.size // batch)
    for i in range(len(index)):
        b = max(index[i], 0)  # (not negative: see the module's docstring)
        for f in range(items.shape[1]):
            items[b, f] = 0.0
        for f in range(responses.shape[1]):
            responses[b, f] = 0.0
        for f in range(shown_sum.shape[1]):
            shown_sum[b, f], rated_sum[b, f] = 0.0, 0.0
        n_shown[b], n_rated[b] = 0.0, 0.0


@njit(cache=True, inline="always")
def start_answers(
    b: int,
    table_rows: np.ndarray,
    rows_of: np.ndarray,
    sigma: np.ndarray,
    noise: np.ndarray,
    user: np.ndarray,
) -> None:
    """User ``b``'s answers at an episode's start: their row of the score table (``rows_of[b]``) and
    their noise (none for a world without it: ``noise`` empty)."""
    table_rows[b] = rows_of[b]
    if len(noise):
        sigma[b] = noise[user[b]]


@njit(cache=True)
def start_recommendation(index: np.ndarray, packed: Packed) -> None:
    """ColdStart's and Engagement's own start for the users at ``index`` (after `start_episodes`):
    their pointer into their best items at 0, their row of the score table and their noise, on
    ``candidates="rated"`` the films they did not rate counted as shown, and with ``dynamic`` the
    dynamics' state as `recworld.simulators.dynamics.EngagementDynamics.initial_state` makes it.
    ``packed`` = ``(pointer, table_rows, rows_of, sigma, noise, user, member, rated, shown, dynamic,
    state)`` (`start_answers` for the second to sixth), ``rated`` the population's rated mask or
    empty, ``state`` the dynamics' arrays."""
    pointer, table_rows, rows_of, sigma, noise, user, member, rated, shown, dynamic, state = packed.items
    affinity, boredom, recent, satisfaction, sessions = state
    for i in range(len(index)):
        b = max(index[i], 0)  # (not negative: see the module's docstring)
        pointer[b] = 0
        start_answers(b, table_rows, rows_of, sigma, noise, user)
        if len(rated):
            m = max(member[b], 0)
            for item in range(shown.shape[1]):
                shown[b, item] = not rated[m, item]
        if dynamic:
            for g in range(affinity.shape[1]):
                affinity[b, g], boredom[b, g], recent[b, g] = 0.0, 0.0, 0.0
            satisfaction[b], sessions[b] = 0.0, 1


# ------------------------------------------------------------------ the user's answer
# Each piece is a loop over the batch: a call per user, with arrays as arguments, costs more than
# the arithmetic it would wrap.


@njit(cache=True)
def level_probabilities(
    lo: int, hi: int, scores: np.ndarray, sigma: np.ndarray, thresholds: np.ndarray, out: np.ndarray
) -> None:
    """The ordinal probit's level probabilities of latent ``scores`` ``(B, S)`` with user noise ``sigma``
    ``(B,)`` into ``out`` ``(B, S, L)`` (`recworld.simulators.ordinal.level_probabilities`); a noise of 0
    puts all the mass on the level the score falls in (a replayed rating). In three passes: the cut
    points' standardised distances of all the block's users into one run, their CDFs in one loop over
    it (which vectorises: a user's four cut points do not), then the levels' probabilities."""
    slots, n = scores.shape[1], len(thresholds)
    lo, hi = max(lo, 0), max(hi, 0)  # (not negative: see the module's docstring)
    cdf = np.empty((hi - lo) * slots * n)
    i = 0
    for b in range(lo, hi):
        b = max(b, 0)
        noise = sigma[b]
        per_noise = 0.0 if noise <= 0.0 else 1.0 / noise
        for j in range(slots):
            score = scores[b, j]
            for k in range(n):
                cdf[i] = (thresholds[k] - score) * per_noise
                i += 1
    for i in range(len(cdf)):
        cdf[i] = normal_cdf(cdf[i])
    i = 0
    for b in range(lo, hi):
        b = max(b, 0)
        noise = sigma[b]
        for j in range(slots):
            if noise <= 0.0:
                score, level = scores[b, j], 0
                for k in range(n):
                    if score > thresholds[k]:
                        level = k + 1
                for k in range(n + 1):
                    out[b, j, k] = 1.0 if k == level else 0.0
                i += n
                continue
            below = 0.0
            for k in range(n):
                out[b, j, k] = max(cdf[i] - below, 0.0)
                below = cdf[i]
                i += 1
            out[b, j, n] = max(1.0 - below, 0.0)


@njit(cache=True)
def sample_ratings(
    lo: int,
    hi: int,
    probs: np.ndarray,
    levels: np.ndarray,
    now: np.ndarray,
    first_draw: int,
) -> np.ndarray:
    """A rating per slot at draw ``first_draw + j``'s position in the CDF of ``probs`` ``(B, S, L)``
    (`recworld.simulators.base.sample_levels`), ``(B, S)``; ``now``: each user's step key
    (`recworld.numerics.counter.step_key`)."""
    batch, slots, n_levels = probs.shape
    ratings = np.empty((batch, slots))
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        for j in range(slots):
            total = 0.0
            for k in range(n_levels):
                total += probs[b, j, k]
            target = step_uniform(now[b], first_draw + j) * total
            cumulative, index = 0.0, 0
            for k in range(n_levels):
                cumulative += probs[b, j, k]
                if target > cumulative:
                    index = k + 1
            ratings[b, j] = levels[min(index, n_levels - 1)]
    return ratings


@njit(cache=True, inline="always")
def _exp_below(x: float) -> float:
    """``exp(x)`` for ``x <= 0`` measured from the largest term: that term's is exactly 1, uncomputed."""
    return 1.0 if x == 0.0 else math.exp(x)


@njit(cache=True)
def choose(
    lo: int,
    hi: int,
    choice: np.ndarray,
    expected: np.ndarray,
    like: np.ndarray,
    fresh: np.ndarray,
    now: np.ndarray,
    first_draw: int,
) -> np.ndarray:
    """Clicks ``(B, S)`` under a built-in choice model (`recworld.simulators.choice`), ``choice`` =
    ``(kind, temperature, no_click_rating, decay)``; slots that are not fresh are never clicked.
    ``now``: each user's step key."""
    batch, s = expected.shape
    kind, temperature, no_click, decay = int(choice[0]), choice[1], choice[2], choice[3]
    clicked = np.zeros((batch, s), dtype=np.bool_)
    weights = np.zeros(s)
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        key = now[b]
        if kind == 0:  # multinomial logit with a no-click option, one uniform
            top = no_click / temperature
            for j in range(s):
                if fresh[b, j]:
                    top = max(top, expected[b, j] / temperature)
            total = _exp_below(no_click / temperature - top)
            for j in range(s):
                weights[j] = _exp_below(expected[b, j] / temperature - top) if fresh[b, j] else 0.0
                total += weights[j]
            u = step_uniform(key, first_draw) * total
            cumulative = 0.0
            for j in range(s):
                cumulative += weights[j]
                if u < cumulative:
                    clicked[b, j] = True
                    break
        elif kind == 1:  # cascade: the first slot the user is attracted to
            for j in range(s):
                if fresh[b, j] and step_uniform(key, first_draw + j) < like[b, j]:
                    clicked[b, j] = True
                    break
        else:  # position-based examination
            for j in range(s):
                examined = like[b, j] / (j + 1.0) ** decay if fresh[b, j] else 0.0
                clicked[b, j] = step_uniform(key, first_draw + j) < examined
    return clicked


@njit(cache=True, inline="always")
def reward_of(
    kind: int,
    rating: float,
    taken: bool,
    clicked: bool,
    baseline: float,
    low: float,
    high: float,
    like_threshold: float,
) -> float:
    """One slot's reward (`recworld.envs.rewards.reward_signal`)."""
    if kind == 3:
        return 1.0 if clicked else 0.0
    if not taken:
        return 0.0
    if kind == 0:
        return rating
    if kind == 1:
        return rating - 0.5 * (low + high)
    if kind == 2:
        return 1.0 if rating >= like_threshold else 0.0
    return max(0.0, rating - baseline)


# ------------------------------------------------------------------ what the user can see
@njit(cache=True)
def record_batch(
    lo: int,
    hi: int,
    head: int,
    items: np.ndarray,
    ratings: np.ndarray,
    taken: np.ndarray,
    shown: np.ndarray,
    clicked: np.ndarray,
    features: np.ndarray,
    low: float,
    span: float,
    ring_items: np.ndarray,
    ring_responses: np.ndarray,
    shown_sum: np.ndarray,
    rated_sum: np.ndarray,
    n_shown: np.ndarray,
    n_rated: np.ndarray,
) -> None:
    """Add every user's step (``items`` etc. ``(B, S)``) at ring position ``head``
    (`recworld.envs.history.History`)."""
    d = features.shape[1]
    head = max(head, 0)  # (not negative: see the module's docstring)
    for b in range(lo, hi):
        b = max(b, 0)
        for j in range(items.shape[1]):
            scaled = (ratings[b, j] - low) / span if taken[b, j] else 0.0
            verdict = 2.0 * scaled - 1.0
            item = max(items[b, j], 0)
            if shown[b, j]:
                for f in range(d):
                    ring_items[b, head, j, f] = features[item, f]
                for f in range(d):
                    shown_sum[b, f] += features[item, f]
            else:
                for f in range(d):
                    ring_items[b, head, j, f] = 0.0
            if taken[b, j]:
                for f in range(d):
                    rated_sum[b, f] += features[item, f] * verdict
            ring_responses[b, head, j, 0] = scaled
            ring_responses[b, head, j, 1] = 1.0 if taken[b, j] else 0.0
            ring_responses[b, head, j, 2] = 1.0 if shown[b, j] else 0.0
            ring_responses[b, head, j, 3] = 1.0 if clicked[b, j] else 0.0
            n_shown[b] += 1.0 if shown[b, j] else 0.0
            n_rated[b] += 1.0 if taken[b, j] else 0.0


@njit(cache=True)
def _unroll(lo: int, hi: int, ring: np.ndarray, split: int, out: np.ndarray, base: int, stride: int) -> None:
    """Each row ``b`` of a ring ``(B, n)`` read from ``split`` round to ``split - 1``, into
    ``out[base + b * stride:][:n]``: two contiguous runs per row."""
    n = ring.shape[1]
    split = max(split, 0)  # (not negative: see the module's docstring)
    tail = n - split
    for b in range(lo, hi):
        b = max(b, 0)
        row = out[base + b * stride :]  # a view: indices the compiler knows are not negative
        for i in range(tail):
            row[i] = ring[b, split + i]
        for i in range(split):
            row[tail + i] = ring[b, i]


@njit(cache=True)
def observe_history(
    lo: int,
    hi: int,
    out: np.ndarray,
    bases: np.ndarray,
    strides: np.ndarray,
    head: int,
    ring_items: np.ndarray,
    ring_responses: np.ndarray,
    shown_sum: np.ndarray,
    rated_sum: np.ndarray,
    n_shown: np.ndarray,
    n_rated: np.ndarray,
) -> None:
    """Write ``recent_items``, ``recent_responses`` (the ring read from ``head``: most recent first)
    and ``history`` (mean features shown, rating-weighted mean) into the flat float32 buffer ``out``:
    user ``b``'s part ``k`` starts at ``bases[k] + b * strides[k]`` (`recworld.envs.history.Layout`)."""
    batch, window, slots, d = ring_items.shape
    channels = ring_responses.shape[3]
    _unroll(
        lo, hi, ring_items.reshape(batch, window * slots * d), head * slots * d, out, bases[0], strides[0]
    )
    _unroll(
        lo,
        hi,
        ring_responses.reshape(batch, window * slots * channels),
        head * slots * channels,
        out,
        bases[1],
        strides[1],
    )
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        row = out[bases[2] + b * strides[2] :]
        per_shown, per_rated = 1.0 / max(n_shown[b], 1.0), 1.0 / max(n_rated[b], 1.0)  # (a division is slow)
        for f in range(d):
            row[f] = min(max(shown_sum[b, f] * per_shown, -1.0), 1.0)
        for f in range(d):
            row[d + f] = min(max(rated_sum[b, f] * per_rated, -1.0), 1.0)


@njit(cache=True)
def observe(
    lo: int,
    hi: int,
    out: np.ndarray,
    bases: np.ndarray,
    strides: np.ndarray,
    history: tuple,
    population_features: np.ndarray,
    member: np.ndarray,
    t: np.ndarray,
    horizon: int,
) -> None:
    """Write the whole observation into ``out`` as `observe_history` does, parts in the order ``user``
    (the member's public features), ``progress`` (step / horizon), then `observe_history`'s three
    (``history`` is `recworld.envs.history.History.state`)."""
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        row, m = out[bases[0] + b * strides[0] :], max(member[b], 0)
        for f in range(population_features.shape[1]):
            row[f] = population_features[m, f]
        out[bases[1] + b * strides[1]] = min(t[b], horizon) / horizon
    observe_history(lo, hi, out, bases[2:], strides[2:], *history)


# ------------------------------------------------------------------ Engagement's dynamics
@njit(cache=True)
def preferences(
    lo: int, hi: int, params: np.ndarray, affinity: np.ndarray, boredom: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's per-genre score shift ``(B, G)`` (rows ``lo:hi`` written), ``(B, 0)`` when no
    component shifts scores (`recworld.simulators.dynamics.EngagementDynamics.preference`), and the
    most it can raise an item's score, ``max(0, max(shift))`` per user (an item's shift is a convex mix
    of the genres': its profile sums to 1 or 0)."""
    has_boredom, has_drift = len(params) > 0 and params[0] > 0, len(params) > 0 and params[5] > 0
    rise = np.zeros(affinity.shape[0])
    if not (has_boredom or has_drift):
        return np.zeros((affinity.shape[0], 0)), rise
    shift = np.empty(affinity.shape)
    n_genres, weight = affinity.shape[1], params[3]
    lo, hi = max(lo, 0), max(hi, 0)  # (not negative: see the module's docstring)
    # the block's rows as one flat run: a user's row of genres is too short a loop to vectorise
    first, last = lo * n_genres, hi * n_genres
    out = shift.reshape(shift.size)[first:last]
    drift, bored = affinity.reshape(affinity.size)[first:last], boredom.reshape(boredom.size)[first:last]
    if has_drift and has_boredom:
        for i in range(len(out)):
            out[i] = drift[i] - weight * bored[i]
    elif has_drift:
        for i in range(len(out)):
            out[i] = drift[i]
    else:
        for i in range(len(out)):
            out[i] = 0.0 - weight * bored[i]
    for b in range(lo, hi):
        b = max(b, 0)
        top = 0.0
        for g in range(n_genres):
            top = max(top, shift[b, g])
        rise[b] = top
    return shift, rise


@njit(cache=True)
def scores_of(
    lo: int,
    hi: int,
    actions: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    shift: np.ndarray,
    genres: tuple,
) -> np.ndarray:
    """The latent scores of the actions ``(B, S)``: the table's, plus the genre ``shift`` (``(B, G)``, or
    ``(B, 0)`` for none) weighted by each item's genre profile (``genres``: `World.genre_lists`)."""
    starts, genre, weight = genres
    batch, s = actions.shape
    out = np.empty((batch, s))
    # the table's scores first, in a loop without branches: its scattered reads overlap
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        for j in range(s):
            out[b, j] = table[rows[b], actions[b, j]]
    if shift.shape[1]:
        for b in range(lo, hi):
            b = max(b, 0)  # (not negative: see the module's docstring)
            for j in range(s):
                item, score = actions[b, j], out[b, j]
                for k in range(starts[item], starts[item + 1]):
                    score += shift[b, genre[k]] * weight[k]
                out[b, j] = score
    return out


@njit(cache=True)
def update_dynamics(
    lo: int,
    hi: int,
    params: np.ndarray,
    actions: np.ndarray,
    ratings: np.ndarray,
    taken: np.ndarray,
    genres: tuple,
    state: tuple,
    now: np.ndarray,
    first_draw: int,
    left: np.ndarray,
) -> None:
    """One step of every user's dynamics in place (`EngagementDynamics.update`, then the session's end
    and the user's return drawn); who leaves into ``left``, ``(B,)``. An item's profile is read as its
    list of genres (``genres``: `World.genre_lists`): the genres it lacks add nothing to any sum (its
    weights and the users' ``recent`` are never negative), and a genre no taken item has keeps its
    drift (``affinity`` never leaves ``[-max_drift, max_drift]``: adding nothing and clipping is no
    change). The session's end is draw ``first_draw`` of each user's step key ``now``
    (`recworld.numerics.counter.step_key`), the return the next, drawn only when the session ends (it
    decides nothing otherwise)."""
    affinity, boredom, recent, satisfaction, sessions = state
    starts, genre, weight = genres
    n_genres = affinity.shape[1]
    neutral, spread = params[16], params[17]
    has_boredom, has_drift, has_satisfaction = params[0] > 0, params[5] > 0, params[8] > 0
    gain, decay, rate, limit = params[1], params[2], params[6], params[7]
    memory = params[11]
    keep = 1.0 - memory
    slots = actions.shape[1]
    wear_cost = params[10]
    lo, hi = max(lo, 0), max(hi, 0)  # (not negative: see the module's docstring)
    # each genre's share of what each user took (zero but at the taken items' genres), for the whole
    # block: the decays after the loop are then one flat loop over the block's rows, where a user's
    # row alone is too short a loop to vectorise; and each genre's share weighted by the user's
    # verdict, set back to zero after each user
    consumed, drifted = np.empty((hi - lo) * n_genres), np.zeros(n_genres)
    for b in range(lo, hi):
        b = max(b, 0)
        own = (b - lo) * n_genres
        for g in range(n_genres):  # (zeroed here, where the row is written next: no pass of its own)
            consumed[own + g] = 0.0
        outcome_sum, n_taken = 0.0, 0
        for j in range(slots):
            if not taken[b, j]:
                continue
            item = actions[b, j]
            verdict = min(max((ratings[b, j] - neutral) / spread, -1.0), 1.0)
            repetition = 0.0
            for k in range(starts[item], starts[item + 1]):
                g = max(genre[k], 0)
                repetition += min(recent[b, g], weight[k])
                consumed[own + g] += weight[k]
                drifted[g] += verdict * weight[k]
            outcome_sum += verdict - wear_cost * repetition
            n_taken += 1
        if has_satisfaction:
            outcome = outcome_sum / n_taken if n_taken > 0 else -0.5
            satisfaction[b] += params[9] * (outcome - satisfaction[b])
        for j in range(slots):
            if not taken[b, j]:
                continue
            item = actions[b, j]
            for k in range(starts[item], starts[item + 1]):
                g = max(genre[k], 0)
                if has_drift:
                    affinity[b, g] = min(max(affinity[b, g] + rate * drifted[g], -limit), limit)
                drifted[g] = 0.0
    first, last = lo * n_genres, hi * n_genres
    if has_satisfaction:
        flat = recent.reshape(recent.size)[first:last]
        for i in range(len(flat)):
            flat[i] = flat[i] * keep + memory * consumed[i]
    if has_boredom:
        flat = boredom.reshape(boredom.size)[first:last]
        for i in range(len(flat)):
            flat[i] = flat[i] * decay + gain * consumed[i]
    for b in range(lo, hi):
        b = max(b, 0)
        s = satisfaction[b]
        p_end = 1.0 / (1.0 + math.exp(-(params[12] - params[13] * s)))
        left[b] = False
        if step_uniform(now[b], first_draw) < p_end:  # the session is over
            p_return = 1.0 / (1.0 + math.exp(-(params[14] + params[15] * s)))
            if step_uniform(now[b], first_draw + 1) < p_return:
                if has_boredom:
                    for g in range(n_genres):
                        boredom[b, g] *= params[4]
                sessions[b] += 1
            else:
                left[b] = True


# ------------------------------------------------------------------ the best unseen items, for regret
@njit(cache=True)
def static_best_expected(
    lo: int,
    hi: int,
    top: np.ndarray,
    expected: np.ndarray,
    top_rows: np.ndarray,
    pointer: np.ndarray,
    shown: np.ndarray,
    s: int,
) -> np.ndarray:
    """Each user's ``s`` best unseen items' expected ratings, summed, from their precomputed list
    ``top``/``expected`` (row ``top_rows[b]``); with one item per step a pointer moves past what was
    shown (it stops at the list's end, which only a user with nothing unseen left reaches)."""
    last = top.shape[1] - 1
    out = np.zeros(len(top_rows))
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        m = top_rows[b]
        if s == 1:
            p = pointer[b]
            while p < last and shown[b, top[m, p]]:
                p += 1
            pointer[b] = p
            out[b] = expected[m, p]
            continue
        found = 0
        for unseen in (True, False):  # the unseen first, in order, then (if too few) the rest
            for p in range(top.shape[1]):
                if found < s and shown[b, top[m, p]] != unseen:
                    out[b] += expected[m, p]
                    found += 1
    return out


@njit(cache=True)
def best_shifted_scores(
    lo: int,
    hi: int,
    order: np.ndarray,
    ordered: np.ndarray,
    order_rows: np.ndarray,
    shown: np.ndarray,
    shift: np.ndarray,
    rise: np.ndarray,
    genres: tuple,
    s: int,
) -> np.ndarray:
    """The ``s`` best scores among each user's unseen items under the genre ``shift``, best first,
    ``(B, s)``. Items are visited in order of static score (``order``, member ``order_rows[b]``'s list,
    with those scores in ``ordered``: read in sequence, not scattered over the score table; both in
    `World.score_order`'s blocks of positions) and the walk stops once no item further down can enter:
    the shift raises no score by more than ``rise[b]`` (`preferences`; the padding's ``-inf`` stops it
    at the list's end). ``genres``: the items' genre lists (`World.genre_lists`)."""
    starts, genre, weight = genres
    shifted = shift.shape[1] > 0
    out = np.empty((len(order_rows), s))
    width = order.shape[1]
    n_blocks = (shown.shape[1] + width - 1) // width
    members = order.shape[0] // n_blocks  # the rows of one block
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        for k in range(s):
            out[b, k] = -np.inf
        top_shift = rise[b]
        row = max(order_rows[b], 0)
        for _ in range(n_blocks):
            end = False
            for position in range(width):
                base = ordered[row, position]
                if base + top_shift <= out[b, s - 1]:
                    end = True
                    break
                item = max(order[row, position], 0)
                if shown[b, item]:
                    continue
                value = float(base)
                if shifted:
                    for k in range(starts[item], starts[item + 1]):
                        value += shift[b, genre[k]] * weight[k]
                if value > out[b, s - 1]:
                    k = s - 1
                    while k > 0 and out[b, k - 1] < value:
                        out[b, k] = out[b, k - 1]
                        k -= 1
                    out[b, k] = value
            if end:
                break
            row += members
    return out


# ------------------------------------------------------------------ one step of ColdStart / Engagement
@njit(cache=True)
def recommend_step(
    lo: int,
    hi: int,
    actions: np.ndarray,
    head: int,
    clicks: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    sigma: np.ndarray,
    thresholds: np.ndarray,
    levels: np.ndarray,
    liked: np.ndarray,
    probs: np.ndarray,
    probs_given: bool,
    clicks_given: bool,
    keys: np.ndarray,
    t: np.ndarray,
    horizon: int,
    shown: np.ndarray,
    choice: np.ndarray,
    reward_kind: int,
    predicted: np.ndarray,
    like_threshold: float,
    regret_mode: int,
    top: np.ndarray,
    top_values: np.ndarray,
    top_rows: np.ndarray,
    pointer: np.ndarray,
    ring: tuple,
    features: np.ndarray,
    dynamics: np.ndarray,
    state: tuple,
    genres: tuple,
    best_given: np.ndarray,
    reward: np.ndarray,
    done: np.ndarray,
    floats: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Advance every user one step (see `recworld.envs.cold_start.RecommendationKernel`).

    ``regret_mode``: 0 none; 1 the static world's best unseen items, from each user's precomputed list
    ``top`` with their expected ratings in ``top_values`` (`static_best_expected`); 2 the best unseen
    items under today's dynamics (``top`` holds each user's items by static score, ``top_values`` those
    scores: `best_shifted_scores`); 3 the best unseen
    items' expected ratings summed in ``best_given`` (a simulator of your own). ``dynamics`` is the
    parameter vector (`DYNAMICS`, empty for a static world) and ``state`` Engagement's arrays
    ``(affinity, boredom, recent, satisfaction, sessions)``, ``genres`` the items' genre lists
    (`recworld.envs.world.World.genre_lists`). ``ring`` is the history's ``(ring_items,
    ring_responses, shown_sum, rated_sum, n_shown, n_rated)``, written at ``head``; ``probs`` and
    ``clicks`` are read when given. Writes the rewards ``(B,)``, ``(2, B)`` terminated (the user left)
    and truncated, ``(3, B)`` info rating, expected_rating and regret (with dynamics ``(4, B)``, then
    satisfaction), and ``(2, B)`` clicks and repeats (with dynamics ``(3, B)``, then the session) into
    the last four arrays (the kernel's own: an array returned to Python costs more than the step
    of a single user)."""
    batch, s = actions.shape
    n_levels = len(levels)
    low, high = levels.min(), levels.max()
    now = np.empty(batch, dtype=keys.dtype)  # each user's step key: the draws of this step start from it
    # which slots are fresh: neither shown earlier nor repeated earlier in the slate
    fresh = np.empty((batch, s), dtype=np.bool_)
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        now[b] = step_key(keys[b], min(t[b], horizon - 1))
        for j in range(s):
            ok = not shown[b, actions[b, j]]
            for k in range(j):
                ok = ok and actions[b, k] != actions[b, j]
            fresh[b, j] = ok
    shift, rise = preferences(lo, hi, dynamics, state[0], state[1])
    # the best unseen items' expected ratings, before this step changes anything
    if regret_mode == 1:
        best_sum = static_best_expected(lo, hi, top, top_values, top_rows, pointer, shown, s)
    elif regret_mode == 2:
        best = best_shifted_scores(lo, hi, top, top_values, top_rows, shown, shift, rise, genres, s)
        best_probs = np.empty((batch, s, n_levels), dtype=np.float32)
        level_probabilities(lo, hi, best, sigma, thresholds, best_probs)
        best_sum = np.zeros(batch)
        for b in range(lo, hi):
            b = max(b, 0)  # (not negative: see the module's docstring)
            for j in range(s):
                for k in range(n_levels):
                    best_sum[b] += best_probs[b, j, k] * levels[k]
    else:
        best_sum = best_given
    # the user's answer: rating distribution, sampled rating, choice
    if not probs_given:
        scores = scores_of(lo, hi, actions, rows, table, shift, genres)
        level_probabilities(lo, hi, scores, sigma, thresholds, probs)
    expected = np.empty((batch, s))
    like = np.empty((batch, s))
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        for j in range(s):
            e, lk = 0.0, 0.0
            for k in range(n_levels):
                e += probs[b, j, k] * levels[k]
                if liked[k]:
                    lk += probs[b, j, k]
            expected[b, j], like[b, j] = (e, lk) if fresh[b, j] else (-np.inf, 0.0)
    ratings = sample_ratings(lo, hi, probs, levels, now, 0)
    if clicks_given:
        clicked = np.empty((batch, s), dtype=np.bool_)
        for b in range(lo, hi):
            b = max(b, 0)  # (not negative: see the module's docstring)
            for j in range(s):
                clicked[b, j] = clicks[b, j] and fresh[b, j]
    else:
        clicked = choose(lo, hi, choice, expected, like, fresh, now, s)
    taken = fresh if s == 1 else clicked
    # rewards and info
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        n_fresh, n_taken, n_clicks, rating_sum, expected_sum, total = 0, 0, 0, 0.0, 0.0, 0.0
        for j in range(s):
            item = actions[b, j]
            n_fresh += fresh[b, j]
            n_taken += taken[b, j]
            n_clicks += clicked[b, j]
            if fresh[b, j]:
                expected_sum += expected[b, j]
            if taken[b, j]:
                rating_sum += ratings[b, j]
            total += reward_of(
                reward_kind,
                ratings[b, j],
                taken[b, j],
                clicked[b, j],
                predicted[item],
                low,
                high,
                like_threshold,
            )
            shown[b, item] = True
        reward[b] = total
        floats[0, b] = rating_sum / n_taken if n_taken > 0 else 0.0
        floats[1, b] = expected_sum / max(n_fresh, 1)
        floats[2, b] = (best_sum[b] - expected_sum) / s if regret_mode > 0 else 0.0
        counts[0, b], counts[1, b] = n_clicks, s - n_fresh
    record_batch(lo, hi, head, actions, ratings, taken, fresh, clicked, features, low, high - low, *ring)
    if len(dynamics):
        update_dynamics(lo, hi, dynamics, actions, ratings, taken, genres, state, now, 2 * s, done[0])
    for b in range(lo, hi):
        b = max(b, 0)  # (not negative: see the module's docstring)
        if len(dynamics):
            floats[3, b], counts[2, b] = state[3][b], state[4][b]
        else:
            done[0, b] = False
        t[b] += 1
        done[1, b] = t[b] >= horizon and not done[0, b]


# ------------------------------------------------------------------ the calls with packed arguments
@njit(cache=True)
def recommend_step_packed(actions: np.ndarray, head: int, clicks: np.ndarray, packed: Packed) -> None:
    """`recommend_step` of the whole batch, with the arguments after ``clicks`` in ``packed``."""
    recommend_step(0, len(actions), actions, head, clicks, *packed.items)


@njit(cache=True)
def recommend_step_block(
    block: int, blocks: int, actions: np.ndarray, head: int, clicks: np.ndarray, packed: Packed
) -> None:
    """`recommend_step` of block ``block`` of ``blocks`` equal blocks of users."""
    lo, hi = block_bounds(block, blocks, len(actions))
    recommend_step(lo, hi, actions, head, clicks, *packed.items)


@njit(cache=True, parallel=True)
def recommend_step_blocks(
    actions: np.ndarray, head: int, clicks: np.ndarray, packed: Packed, blocks: int
) -> None:
    """`recommend_step_packed` in ``blocks`` blocks of users, on numba's threads."""
    for block in prange(blocks):
        recommend_step_block(block, blocks, actions, head, clicks, packed)


@njit(cache=True)
def recommend_autoreset_block(
    block: int,
    blocks: int,
    actions: np.ndarray,
    head: int,
    clicks: np.ndarray,
    packed: Packed,
    autoreset: Packed,
    out: np.ndarray,
    floats: np.ndarray,
    counts: np.ndarray,
    flags: np.ndarray,
) -> int:
    """A vector step of block ``block`` of ``blocks`` under Gymnasium's next-step autoreset, in one
    call: `recommend_step`; then the users whose episode had ``ended`` start their next one of
    ``streams`` = ``(seeds, episodes)`` (`next_streams`; `start_episodes` with ``start``,
    `start_recommendation` with ``start_own``: as `recworld.envs.base.Kernel.reset_users` would) and
    `autoreset_outputs` marks them not ``stepped``; then the observation into ``out`` (`observe_range`
    with ``view``), and the step's outputs into the caller's fresh arrays, while the block's rows are
    still in cache: ``floats`` the rewards then the info floats, ``counts`` the info counts then each
    ``user`` (after the restarts), ``flags`` terminated, truncated and stepped. ``autoreset`` =
    ``(ended, streams, start, start_own, view, user)``. Returns how many users were reset. (The
    arguments that change from step to step are passed one by one: packed into one tuple, the
    parallel twin ran a third slower.)"""
    lo, hi = block_bounds(block, blocks, len(actions))
    recommend_step(lo, hi, actions, head, clicks, *packed.items)
    ended, streams, start, start_own, view, user = autoreset.items
    index = np.flatnonzero(ended[lo:hi]) + lo
    if len(index):
        seeds, episodes = streams
        start_episodes(index, next_streams(index, seeds, episodes), np.zeros(0, dtype=np.int64), start)
        start_recommendation(index, start_own)
    reward, done = packed.items[-4], packed.items[-3]
    own_floats, own_counts = packed.items[-2], packed.items[-1]
    reset = autoreset_outputs(lo, hi, ended, reward, done[0], done[1], flags[2])
    observe_range(lo, hi, out, head, view)
    lo, hi = max(lo, 0), max(hi, 0)  # (not negative: see the module's docstring)
    floats[0, lo:hi] = reward[lo:hi]
    floats[1:, lo:hi] = own_floats[:, lo:hi]
    counts[:-1, lo:hi] = own_counts[:, lo:hi]
    counts[-1, lo:hi] = user[lo:hi]
    flags[:2, lo:hi] = done[:, lo:hi]
    return reset


@njit(cache=True, parallel=True)
def recommend_autoreset_blocks(
    actions: np.ndarray,
    head: int,
    clicks: np.ndarray,
    packed: Packed,
    autoreset: Packed,
    out: np.ndarray,
    floats: np.ndarray,
    counts: np.ndarray,
    flags: np.ndarray,
    blocks: int,
) -> int:
    """`recommend_autoreset_block` in ``blocks`` blocks of users, on numba's threads."""
    reset = 0
    for block in prange(blocks):
        reset += recommend_autoreset_block(
            block, blocks, actions, head, clicks, packed, autoreset, out, floats, counts, flags
        )
    return reset


@njit(cache=True)
def observe_range(lo: int, hi: int, out: np.ndarray, head: int, packed: Packed) -> None:
    """`observe` of users ``lo:hi`` with ``packed`` = ``(bases, strides, ring, population_features,
    member, t, horizon)``, ``ring`` the history's arrays read from ``head``."""
    bases, strides, ring, features, member, t, horizon = packed.items
    observe(lo, hi, out, bases, strides, (head, *ring), features, member, t, horizon)


@njit(cache=True)
def observe_packed(out: np.ndarray, head: int, packed: Packed) -> None:
    """`observe_range` of the whole batch."""
    observe_range(0, len(packed.items[4]), out, head, packed)


@njit(cache=True)
def observe_block(block: int, blocks: int, out: np.ndarray, head: int, packed: Packed) -> None:
    """`observe_range` of block ``block`` of ``blocks`` equal blocks of users."""
    lo, hi = block_bounds(block, blocks, len(packed.items[4]))
    observe_range(lo, hi, out, head, packed)


@njit(cache=True, parallel=True)
def observe_blocks(out: np.ndarray, head: int, packed: Packed, blocks: int) -> None:
    """`observe_packed` in ``blocks`` blocks of users, on numba's threads."""
    for block in prange(blocks):
        observe_block(block, blocks, out, head, packed)
