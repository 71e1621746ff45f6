"""The compiled step of the recommendation environments: one implementation for ``B`` users.

Every environment step is a loop over users here, compiled by numba (cached on disk, so a new
process loads it instead of compiling), with no Python between the action and the next
observation. The single environment calls it with ``B = 1``, the vector environment with
``B = num_envs``: there is no second copy of the logic. The kernels in `recworld.envs.cold_start`,
`recworld.envs.engagement` and `recworld.envs.elicitation` own the state arrays and pass them in;
the pieces a user may plug in (a simulator or a choice model of their own) are computed in
Python before the call and handed over (``probs_given``, ``clicks_given``).

Draws come from `recworld.numerics.counter`: draw ``d`` of step ``t`` in each episode's stream.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from recworld.numerics.counter import uniform

#: choice models with a compiled form (`recworld.simulators.choice`)
CHOICE_KINDS = {"MultinomialLogit": 0, "Cascade": 1, "PositionBased": 2}
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
SQRT_HALF = 1.0 / math.sqrt(2.0)


# ------------------------------------------------------------------ the user's answer
@njit(cache=True, inline="always")
def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z * SQRT_HALF)


@njit(cache=True, inline="always")
def ordinal_probabilities(score: float, sigma: float, thresholds: np.ndarray, out: np.ndarray) -> None:
    """The ordinal probit's level probabilities of a latent ``score`` with noise ``sigma`` into ``out``
    (`recworld.simulators.ordinal.level_probabilities`); ``sigma = 0`` puts all the mass on the level
    the score falls in (a replayed rating)."""
    n = len(thresholds)
    if sigma <= 0.0:
        level = 0
        for k in range(n):
            if score > thresholds[k]:
                level = k + 1
        for k in range(n + 1):
            out[k] = 1.0 if k == level else 0.0
        return
    below = 0.0
    for k in range(n):
        cdf = _normal_cdf((thresholds[k] - score) / sigma)
        out[k] = max(cdf - below, 0.0)
        below = cdf
    out[n] = max(1.0 - below, 0.0)


@njit(cache=True, inline="always")
def sample_level(probs: np.ndarray, u: float) -> int:
    """The level at ``u``'s position in the CDF of ``probs`` (`recworld.simulators.base.sample_levels`)."""
    total = 0.0
    for k in range(len(probs)):
        total += probs[k]
    target = u * total
    cumulative = 0.0
    index = 0
    for k in range(len(probs)):
        cumulative += probs[k]
        if target > cumulative:
            index = k + 1
    return min(index, len(probs) - 1)


@njit(cache=True, inline="always")
def choose(
    kind: int,
    temperature: float,
    no_click: float,
    decay: float,
    expected: np.ndarray,
    like: np.ndarray,
    fresh: np.ndarray,
    key: Any,
    step: int,
    first_draw: int,
    out: np.ndarray,
) -> None:
    """Clicks of one slate under a built-in choice model (`recworld.simulators.choice`); slots that are
    not fresh are never clicked."""
    s = len(expected)
    if kind == 0:  # multinomial logit with a no-click option, one uniform
        top = no_click / temperature
        for j in range(s):
            if fresh[j]:
                top = max(top, expected[j] / temperature)
        total = math.exp(no_click / temperature - top)
        for j in range(s):
            if fresh[j]:
                total += math.exp(expected[j] / temperature - top)
        u = uniform(key, step, first_draw)
        cumulative = 0.0
        chosen = -1
        for j in range(s):
            out[j] = False
            if fresh[j]:
                cumulative += math.exp(expected[j] / temperature - top) / total
            if chosen < 0 and u < cumulative:
                chosen = j
        if chosen >= 0:
            out[chosen] = True
    elif kind == 1:  # cascade: the first slot the user is attracted to
        found = False
        for j in range(s):
            attracted = fresh[j] and uniform(key, step, first_draw + j) < like[j]
            out[j] = attracted and not found
            found = found or attracted
    else:  # position-based examination
        for j in range(s):
            examined = like[j] / (j + 1.0) ** decay if fresh[j] else 0.0
            out[j] = uniform(key, step, first_draw + j) < examined


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
@njit(cache=True, inline="always")
def record(
    b: int,
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
    """Add user ``b``'s step at ring position ``head`` (`recworld.envs.history.History`)."""
    d = features.shape[1]
    for j in range(len(items)):
        item = items[j]
        scaled = (ratings[j] - low) / span if taken[j] else 0.0
        verdict = 2.0 * scaled - 1.0 if taken[j] else 0.0
        for f in range(d):
            value = features[item, f] if shown[j] else 0.0
            ring_items[b, head, j, f] = value
            shown_sum[b, f] += value
            rated_sum[b, f] += features[item, f] * verdict
        ring_responses[b, head, j, 0] = scaled
        ring_responses[b, head, j, 1] = 1.0 if taken[j] else 0.0
        ring_responses[b, head, j, 2] = 1.0 if shown[j] else 0.0
        ring_responses[b, head, j, 3] = 1.0 if clicked[j] else 0.0
        n_shown[b] += 1.0 if shown[j] else 0.0
        n_rated[b] += 1.0 if taken[j] else 0.0


@njit(cache=True)
def record_batch(
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
    """`record` for every user (``items`` etc. ``(B, S)``)."""
    for b in range(items.shape[0]):
        record(
            b,
            head,
            items[b],
            ratings[b],
            taken[b],
            shown[b],
            clicked[b],
            features,
            low,
            span,
            ring_items,
            ring_responses,
            shown_sum,
            rated_sum,
            n_shown,
            n_rated,
        )


@njit(cache=True)
def observe_history(
    head: int,
    ring_items: np.ndarray,
    ring_responses: np.ndarray,
    shown_sum: np.ndarray,
    rated_sum: np.ndarray,
    n_shown: np.ndarray,
    n_rated: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh ``recent_items``, ``recent_responses`` (the ring read from ``head``: most recent first)
    and ``history`` (mean features shown, rating-weighted mean), ``(B, ...)`` float32 each."""
    batch, window, slots, d = ring_items.shape
    channels = ring_responses.shape[3]
    recent_items = np.empty((batch, window * slots * d), dtype=np.float32)
    recent_responses = np.empty((batch, window * slots * channels), dtype=np.float32)
    history = np.empty((batch, 2 * d), dtype=np.float32)
    for b in range(batch):
        at, ar = 0, 0
        for w in range(window):
            position = (head + w) % window
            for j in range(slots):
                for f in range(d):
                    recent_items[b, at] = ring_items[b, position, j, f]
                    at += 1
                for c in range(channels):
                    recent_responses[b, ar] = ring_responses[b, position, j, c]
                    ar += 1
        shown_n, rated_n = max(n_shown[b], 1.0), max(n_rated[b], 1.0)
        for f in range(d):
            history[b, f] = min(max(shown_sum[b, f] / shown_n, -1.0), 1.0)
            history[b, d + f] = min(max(rated_sum[b, f] / rated_n, -1.0), 1.0)
    return recent_items, recent_responses, history


# ------------------------------------------------------------------ Engagement's dynamics
@njit(cache=True, inline="always")
def preference(
    params: np.ndarray, affinity: np.ndarray, boredom: np.ndarray, b: int, out: np.ndarray
) -> bool:
    """User ``b``'s per-genre score shift into ``out``; False when no component shifts scores
    (`recworld.simulators.dynamics.EngagementDynamics.preference`)."""
    has_boredom, has_drift = params[0] > 0, params[5] > 0
    if not (has_boredom or has_drift):
        return False
    for g in range(len(out)):
        value = affinity[b, g] if has_drift else 0.0
        if has_boredom:
            value -= params[3] * boredom[b, g]
        out[g] = value
    return True


@njit(cache=True, inline="always")
def update_dynamics(
    params: np.ndarray,
    b: int,
    items: np.ndarray,
    ratings: np.ndarray,
    taken: np.ndarray,
    profiles: np.ndarray,
    affinity: np.ndarray,
    boredom: np.ndarray,
    recent: np.ndarray,
    satisfaction: np.ndarray,
    sessions: np.ndarray,
    key: Any,
    step: int,
    first_draw: int,
) -> bool:
    """One step of user ``b``'s dynamics in place (`EngagementDynamics.update`, then the session's end
    and the user's return drawn); True when the user leaves."""
    n_genres = profiles.shape[1]
    neutral, spread = params[16], params[17]
    consumed = np.zeros(n_genres)
    drifted = np.zeros(n_genres)
    outcome_sum, n_taken = 0.0, 0
    for j in range(len(items)):
        if not taken[j]:
            continue
        item = items[j]
        verdict = min(max((ratings[j] - neutral) / spread, -1.0), 1.0)
        repetition = 0.0
        for g in range(n_genres):
            p = profiles[item, g]
            consumed[g] += p
            drifted[g] += verdict * p
            repetition += min(recent[b, g], p)
        outcome_sum += verdict - params[10] * repetition
        n_taken += 1
    if params[8] > 0:  # satisfaction
        outcome = outcome_sum / n_taken if n_taken > 0 else -0.5
        satisfaction[b] += params[9] * (outcome - satisfaction[b])
        memory = params[11]
        for g in range(n_genres):
            recent[b, g] = recent[b, g] * (1.0 - memory) + memory * consumed[g]
    if params[0] > 0:  # boredom
        for g in range(n_genres):
            boredom[b, g] = boredom[b, g] * params[2] + params[1] * consumed[g]
    if params[5] > 0:  # drift
        limit = params[7]
        for g in range(n_genres):
            affinity[b, g] = min(max(affinity[b, g] + params[6] * drifted[g], -limit), limit)
    s = satisfaction[b]
    p_end = 1.0 / (1.0 + math.exp(-(params[12] - params[13] * s)))
    p_return = 1.0 / (1.0 + math.exp(-(params[14] + params[15] * s)))
    session_over = uniform(key, step, first_draw) < p_end
    comes_back = uniform(key, step, first_draw + 1) < p_return
    if session_over and comes_back:
        if params[0] > 0:
            for g in range(n_genres):
                boredom[b, g] *= params[4]
        sessions[b] += 1
    return session_over and not comes_back


@njit(cache=True)
def best_shifted_scores(
    table: np.ndarray,
    row: int,
    order: np.ndarray,
    shown: np.ndarray,
    b: int,
    shift: np.ndarray,
    profiles: np.ndarray,
    out: np.ndarray,
) -> None:
    """The ``len(out)`` best scores among user ``b``'s unseen items under a per-genre ``shift``, best
    first. Items are visited in order of static score (``order``) and the walk stops once no item
    further down can enter: an item's shift is a convex mix of the genres' (its profile sums to 1 or
    0), so it is at most ``max(0, max(shift))``."""
    top_shift = 0.0
    for g in range(len(shift)):
        top_shift = max(top_shift, shift[g])
    m = len(out)
    for k in range(m):
        out[k] = -np.inf
    for position in range(order.shape[0]):
        item = order[position]
        base = table[row, item]
        if base + top_shift <= out[m - 1]:
            break
        if shown[b, item]:
            continue
        value = base
        for g in range(len(shift)):
            value += shift[g] * profiles[item, g]
        if value > out[m - 1]:
            k = m - 1
            while k > 0 and out[k - 1] < value:
                out[k] = out[k - 1]
                k -= 1
            out[k] = value


# ------------------------------------------------------------------ one step of ColdStart / Engagement
@njit(cache=True)
def recommend_step(
    actions: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    sigma: np.ndarray,
    thresholds: np.ndarray,
    levels: np.ndarray,
    liked: np.ndarray,
    probs: np.ndarray,
    probs_given: bool,
    clicks: np.ndarray,
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
    top_expected: np.ndarray,
    top_rows: np.ndarray,
    pointer: np.ndarray,
    history: tuple,
    features: np.ndarray,
    dynamics: np.ndarray,
    state: tuple,
    profiles: np.ndarray,
    best_given: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance every user one step (see `recworld.envs.cold_start.RecommendationKernel`).

        ``regret_mode``: 0 none; 1 the static world's best unseen items, from each user's precomputed list
        ``top``/``top_expected`` (row ``top_rows[b]``, the pointer past what was shown); 2 the best unseen
        items under today's dynamics (``top`` holds each user's items by static score); 3 the best unseen
    items' expected ratings summed in ``best_given`` (a simulator of your own). ``dynamics`` is
        the parameter vector (`DYNAMICS`, empty for a static world) and ``state`` Engagement's arrays
        ``(affinity, boredom, recent, satisfaction, sessions)``. ``history`` is ``(head, ring_items,
        ring_responses, shown_sum, rated_sum, n_shown, n_rated)``. Returns reward, whether the user
        left, and the info arrays rating, expected_rating, regret, clicks and repeats."""
    batch, s = actions.shape
    n_levels = len(levels)
    low, high = levels.min(), levels.max()
    choice_kind, temperature, no_click, decay = int(choice[0]), choice[1], choice[2], choice[3]
    head, ring_items, ring_responses, shown_sum, rated_sum, n_shown, n_rated = history
    affinity, boredom, recent, satisfaction, sessions = state
    dynamic = len(dynamics) > 0
    n_genres = profiles.shape[1]
    reward = np.zeros(batch)
    left = np.zeros(batch, dtype=np.bool_)
    info_rating = np.zeros(batch)
    info_expected = np.zeros(batch)
    info_regret = np.zeros(batch)
    info_clicks = np.zeros(batch, dtype=np.int64)
    info_repeats = np.zeros(batch, dtype=np.int64)
    fresh = np.empty(s, dtype=np.bool_)
    expected = np.empty(s)
    like = np.empty(s)
    ratings = np.empty(s)
    taken = np.empty(s, dtype=np.bool_)
    clicked = np.empty(s, dtype=np.bool_)
    shift = np.zeros(n_genres)
    best = np.empty(s)
    level_probs = np.empty(n_levels)
    for b in range(batch):
        key, step = keys[b], min(t[b], horizon - 1)
        items = actions[b]
        # which slots are fresh: neither shown earlier nor repeated earlier in the slate
        n_fresh = 0
        for j in range(s):
            ok = not shown[b, items[j]]
            for k in range(j):
                if items[k] == items[j]:
                    ok = False
            fresh[j] = ok
            n_fresh += ok
        # the best unseen items' expected ratings, before this step changes anything
        best_sum = 0.0
        shifted = dynamic and preference(dynamics, affinity, boredom, b, shift)
        if regret_mode == 1:
            m = top_rows[b]
            if s == 1:
                p, last = pointer[b], top.shape[1] - 1
                while p < last and shown[b, top[m, p]]:
                    p += 1
                pointer[b] = p
                best_sum = top_expected[m, p]
            else:
                found = 0
                for unseen in (True, False):
                    for p in range(top.shape[1]):
                        if found < s and shown[b, top[m, p]] != unseen:
                            best_sum += top_expected[m, p]
                            found += 1
        elif regret_mode == 2:
            if not shifted:
                shift[:] = 0.0
            best_shifted_scores(table, rows[b], top[top_rows[b]], shown, b, shift, profiles, best)
            for j in range(s):
                ordinal_probabilities(best[j], sigma[b], thresholds, level_probs)
                for k in range(n_levels):
                    best_sum += level_probs[k] * levels[k]
        elif regret_mode == 3:
            best_sum = best_given[b]
        # the user's answer: rating distribution, sampled rating, choice
        expected_sum = 0.0
        for j in range(s):
            item = items[j]
            if not probs_given:
                score = table[rows[b], item]
                if shifted:
                    for g in range(n_genres):
                        score += shift[g] * profiles[item, g]
                ordinal_probabilities(score, sigma[b], thresholds, probs[b, j])
            e, lk = 0.0, 0.0
            for k in range(n_levels):
                e += probs[b, j, k] * levels[k]
                if liked[k]:
                    lk += probs[b, j, k]
            expected[j], like[j] = (e, lk) if fresh[j] else (-np.inf, 0.0)
            ratings[j] = levels[sample_level(probs[b, j], uniform(key, step, j))]
            if fresh[j]:
                expected_sum += e
        if clicks_given:
            clicked[:] = clicks[b]
        else:
            choose(choice_kind, temperature, no_click, decay, expected, like, fresh, key, step, s, clicked)
        n_taken, n_clicks, rating_sum, total = 0, 0, 0.0, 0.0
        for j in range(s):
            clicked[j] = clicked[j] and fresh[j]
            taken[j] = fresh[j] if s == 1 else clicked[j]
            n_taken += taken[j]
            n_clicks += clicked[j]
            if taken[j]:
                rating_sum += ratings[j]
            total += reward_of(
                reward_kind, ratings[j], taken[j], clicked[j], predicted[items[j]], low, high, like_threshold
            )
        reward[b] = total
        info_rating[b] = rating_sum / n_taken if n_taken > 0 else 0.0
        info_expected[b] = expected_sum / max(n_fresh, 1)
        info_regret[b] = (best_sum - expected_sum) / s if regret_mode > 0 else 0.0
        info_clicks[b] = n_clicks
        info_repeats[b] = s - n_fresh
        for j in range(s):
            shown[b, items[j]] = True
        record(
            b,
            head,
            items,
            ratings,
            taken,
            fresh,
            clicked,
            features,
            low,
            high - low,
            ring_items,
            ring_responses,
            shown_sum,
            rated_sum,
            n_shown,
            n_rated,
        )
        if dynamic:
            left[b] = update_dynamics(
                dynamics,
                b,
                items,
                ratings,
                taken,
                profiles,
                affinity,
                boredom,
                recent,
                satisfaction,
                sessions,
                key,
                step,
                2 * s,
            )
        t[b] += 1
    return reward, left, info_rating, info_expected, info_regret, info_clicks, info_repeats


@njit(cache=True)
def shifted_scores(
    actions: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    dynamics: np.ndarray,
    state: tuple,
    profiles: np.ndarray,
) -> np.ndarray:
    """The latent scores of the actions under the dynamics, ``(B, S)`` float32, for a simulator whose
    rating probabilities come from Python."""
    batch, s = actions.shape
    affinity, boredom = state[0], state[1]
    out = np.empty((batch, s), dtype=np.float32)
    shift = np.zeros(profiles.shape[1])
    for b in range(batch):
        shifted = len(dynamics) > 0 and preference(dynamics, affinity, boredom, b, shift)
        for j in range(s):
            score = float(table[rows[b], actions[b, j]])
            if shifted:
                for g in range(profiles.shape[1]):
                    score += shift[g] * profiles[actions[b, j], g]
            out[b, j] = score
    return out


# ------------------------------------------------------------------ one step of Elicitation
@njit(cache=True)
def elicitation_answers(
    actions: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    sigma: np.ndarray,
    thresholds: np.ndarray,
    levels: np.ndarray,
    probs: np.ndarray,
    probs_given: bool,
    awareness: np.ndarray,
    awareness_given: bool,
    aware_user: np.ndarray,
    aware_item: np.ndarray,
    aware_shape: np.ndarray,
    keys: np.ndarray,
    t: np.ndarray,
    horizon: int,
    shown: np.ndarray,
    asked: np.ndarray,
    answers: np.ndarray,
    known: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each user's answer to the question ``actions[b, 0]``: do they know the film (draw 0 against the
    awareness model, ``sigmoid(aware_user + aware_item + gamma * (score - center) / scale)`` with
    ``aware_shape = (gamma, center, scale)``, or ``awareness`` given), and their rating (draw 1).
    Records the question; returns knows, rating, expected rating and repeat, ``(B,)`` each."""
    batch, n_levels = actions.shape[0], len(levels)
    knows = np.zeros(batch, dtype=np.bool_)
    rating = np.zeros(batch)
    expected = np.zeros(batch)
    repeat = np.zeros(batch, dtype=np.bool_)
    for b in range(batch):
        item, key, step = actions[b, 0], keys[b], min(t[b], horizon - 1)
        score = table[rows[b], item]
        if awareness_given:
            aware = awareness[b]
        else:
            logit = (
                aware_user[rows[b]]
                + aware_item[item]
                + aware_shape[0] * (score - aware_shape[1]) / aware_shape[2]
            )
            aware = 1.0 / (1.0 + math.exp(-logit))
        repeat[b] = shown[b, item]
        knows[b] = uniform(key, step, 0) < aware and not repeat[b]
        if not probs_given:
            ordinal_probabilities(score, sigma[b], thresholds, probs[b, 0])
        e = 0.0
        for k in range(n_levels):
            e += probs[b, 0, k] * levels[k]
        expected[b] = e
        rating[b] = levels[sample_level(probs[b, 0], uniform(key, step, 1))]
        asked[b, step] = item
        answers[b, step] = rating[b]
        known[b, step] = knows[b]
        shown[b, item] = True
    return knows, rating, expected, repeat


@njit(cache=True, inline="always")
def _error(predicted: float, truth: float, low: float, high: float) -> float:
    return abs(min(max(predicted, low), high) - truth)


@njit(cache=True)
def select_top(values: np.ndarray, allowed: np.ndarray, out: np.ndarray) -> None:
    """The ``len(out)`` allowed entries of ``values`` with the highest values, best first, into ``out``
    (``-1`` past the allowed ones): one pass, each entry inserted into a sorted short list."""
    m = len(out)
    best = np.full(m, -np.inf)
    out[:] = -1
    for i in range(len(values)):
        if not allowed[i]:
            continue
        value = values[i]
        if out[m - 1] >= 0 and value <= best[m - 1]:
            continue
        j = m - 1
        while j > 0 and (out[j - 1] < 0 or best[j - 1] < value):
            best[j], out[j] = best[j - 1], out[j - 1]
            j -= 1
        best[j], out[j] = value, i


@njit(cache=True)
def ranked_gain(
    b: int, predicted: np.ndarray, gains: np.ndarray, candidates: np.ndarray, top: np.ndarray
) -> float:
    """DCG of user ``b``'s candidates ranked by ``predicted`` (`recworld.numerics.metrics.dcg_at_k`),
    keeping the ranked items in ``top[b]`` (``-1`` past the candidates)."""
    select_top(predicted[b], candidates[b], top[b])
    return listed_gain(b, gains, top)


@njit(cache=True, inline="always")
def listed_gain(b: int, gains: np.ndarray, top: np.ndarray) -> float:
    dcg = 0.0
    for j in range(top.shape[1]):
        if top[b, j] >= 0:
            dcg += gains[b, top[b, j]] / math.log2(j + 2.0)
    return dcg


@njit(cache=True)
def ideal_gain(b: int, ideal_items: np.ndarray, gains: np.ndarray, candidates: np.ndarray, k: int) -> float:
    """DCG of the best possible list: the first ``k`` candidates of the user's items by gain."""
    dcg, rank = 0.0, 0
    for j in range(ideal_items.shape[1]):
        item = ideal_items[b, j]
        if rank < k and item >= 0 and candidates[b, item]:
            dcg += gains[b, item] / math.log2(rank + 2.0)
            rank += 1
    return dcg


@njit(cache=True)
def elicitation_start(
    index: np.ndarray,
    predicted: np.ndarray,
    truth: np.ndarray,
    gains: np.ndarray,
    candidates: np.ndarray,
    ideal_items: np.ndarray,
    top: np.ndarray,
    error_sum: np.ndarray,
    n_candidates: np.ndarray,
    ideal: np.ndarray,
    ndcg: np.ndarray,
    mae: np.ndarray,
    low: float,
    high: float,
) -> None:
    """The metrics of the users at ``index`` before any question (ideal list by gain, sorted)."""
    for b in index:
        select_top(gains[b], candidates[b], ideal_items[b])
        total, count = 0.0, 0
        for i in range(predicted.shape[1]):
            if candidates[b, i]:
                total += _error(predicted[b, i], truth[b, i], low, high)
                count += 1
        error_sum[b], n_candidates[b] = total, count
        mae[b] = total / max(count, 1)
        ideal[b] = ideal_gain(b, ideal_items, gains, candidates, top.shape[1])
        dcg = ranked_gain(b, predicted, gains, candidates, top)
        ndcg[b] = dcg / max(ideal[b], 1e-12) if ideal[b] > 0 else 0.0


@njit(cache=True)
def fold_in_answer(
    b: int,
    item: int,
    rating: float,
    design: np.ndarray,
    offset: np.ndarray,
    inverse: np.ndarray,
    rhs: np.ndarray,
    predicted: np.ndarray,
) -> None:
    """Add one answer to user ``b``'s fold-in (`recworld.envs.recommender.FoldInRecommender`): a
    rank-one update of the posterior's inverse normal matrix (Sherman–Morrison) and the predictions
    of every item from the new posterior mean."""
    d = design.shape[1]
    x = design[item]
    ax = inverse[b] @ x
    denominator = 1.0 + x @ ax
    target = rating - offset[item]
    for r in range(d):
        rhs[b, r] += x[r] * target
        for c in range(d):
            inverse[b, r, c] -= ax[r] * ax[c] / denominator
    vector = inverse[b] @ rhs[b]
    for i in range(design.shape[0]):
        score = offset[i]
        for r in range(d):
            score += design[i, r] * vector[r]
        predicted[b, i] = score


@njit(cache=True)
def elicitation_metrics(
    actions: np.ndarray,
    knows: np.ndarray,
    rating: np.ndarray,
    changed: np.ndarray,
    fold_in: bool,
    design: np.ndarray,
    offset: np.ndarray,
    inverse: np.ndarray,
    rhs: np.ndarray,
    given: np.ndarray,
    predicted: np.ndarray,
    truth: np.ndarray,
    gains: np.ndarray,
    candidates: np.ndarray,
    ideal_items: np.ndarray,
    top: np.ndarray,
    error_sum: np.ndarray,
    n_candidates: np.ndarray,
    ideal: np.ndarray,
    ndcg: np.ndarray,
    mae: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """The recommender's error before and after each answer, on the same films (the asked film leaves
    the candidates first), and its nDCG after; updates the metrics in place and returns the MAE
    before. Predictions change only where ``changed``: with ``fold_in`` (where the user knew the film)
    they are updated here, else they are the ``given`` ones (a recommender of your own). Otherwise the
    error sum loses the asked film and the list is re-ranked only if the film was on it."""
    batch, k = actions.shape[0], top.shape[1]
    before = np.zeros(batch)
    for b in range(batch):
        item = actions[b, 0]
        was_candidate = candidates[b, item]
        if was_candidate:
            candidates[b, item] = False
            error_sum[b] -= _error(predicted[b, item], truth[b, item], low, high)
            n_candidates[b] -= 1
        before[b] = error_sum[b] / max(n_candidates[b], 1)
        if changed[b]:
            if fold_in:
                fold_in_answer(b, item, rating[b], design, offset, inverse, rhs, predicted)
            else:
                predicted[b] = given[b]
            total = 0.0
            for i in range(predicted.shape[1]):
                if candidates[b, i]:
                    total += _error(predicted[b, i], truth[b, i], low, high)
            error_sum[b] = total
        on_list = False
        for j in range(k):
            on_list = on_list or top[b, j] == item
        if was_candidate:
            ideal[b] = ideal_gain(b, ideal_items, gains, candidates, k)
        if changed[b] or on_list:
            dcg = ranked_gain(b, predicted, gains, candidates, top)
        else:
            dcg = listed_gain(b, gains, top)
        mae[b] = error_sum[b] / max(n_candidates[b], 1)
        ndcg[b] = dcg / max(ideal[b], 1e-12) if ideal[b] > 0 else 0.0
    return before
