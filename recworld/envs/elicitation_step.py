"""The compiled step of `recworld/Elicitation-v0` (`recworld.envs.elicitation.ElicitationKernel`): the
user's answer to each question, the fold-in recommender's update, and its metrics kept incrementally
(a full pass over the catalog only when the user knew the film). Written as loops over the batch, as
`recworld.envs.compiled`, whose shared pieces (the ordinal answer, the history) it calls."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from recworld.envs.compiled import (
    Packed,
    block_bounds,
    level_probabilities,
    record_batch,
    sample_ratings,
    scores_of,
    start_answers,
)
from recworld.numerics.counter import step_key, step_uniform
from recworld.numerics.metrics import dcg_discounts, select_top
from recworld.numerics.online import add_observation

#: the recommender's metrics state (``scores`` below): the users' population rows, predictions, the
#: truth and its gains (population tables), candidates, the best items by gain, the recommender's
#: list, error sum and count, ideal DCG, nDCG, MAE, and the rating scale's ends
SCORES = (
    "member",
    "predicted",
    "truth",
    "gains",
    "candidates",
    "ideal_items",
    "top",
    "error_sum",
    "n_candidates",
    "ideal",
    "ndcg",
    "mae",
    "low",
    "high",
)

#: the fold-in's posterior (``posterior`` below): the design (float64, and transposed float32), the
#: offsets, each user's posterior inverse precision and right-hand side, who is still at the prior
#: (their rows of the last two and of the predictions are filled at their first answer), the prior's
#: inverse, right-hand side and predictions
POSTERIOR = (
    "design",
    "design_t",
    "offset",
    "inverse",
    "rhs",
    "at_prior",
    "prior_inverse",
    "prior_rhs",
    "prior_prediction",
)


@njit(cache=True)
def elicitation_answers(
    lo: int,
    hi: int,
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
    steps = np.empty(batch, dtype=t.dtype)
    now = np.empty(batch, dtype=keys.dtype)  # each user's step key
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        steps[b] = min(t[b], horizon - 1)
        now[b] = step_key(keys[b], steps[b])
    if not probs_given:
        no_shift = np.zeros((batch, 0))
        no_genres = (np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        scores = scores_of(lo, hi, actions, rows, table, no_shift, no_genres)
        level_probabilities(lo, hi, scores, sigma, thresholds, probs)
    rating = sample_ratings(lo, hi, probs, levels, now, 1).reshape(batch)
    knows = np.zeros(batch, dtype=np.bool_)
    expected = np.zeros(batch)
    repeat = np.zeros(batch, dtype=np.bool_)
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        item, step = actions[b, 0], steps[b]
        if awareness_given:
            aware = awareness[b]
        else:
            z = (table[rows[b], item] - aware_shape[1]) / aware_shape[2]
            aware = 1.0 / (1.0 + math.exp(-(aware_user[rows[b]] + aware_item[item] + aware_shape[0] * z)))
        repeat[b] = shown[b, item]
        knows[b] = step_uniform(now[b], 0) < aware and not repeat[b]
        for k in range(n_levels):
            expected[b] += probs[b, 0, k] * levels[k]
        asked[b, step] = item
        answers[b, step] = rating[b]
        known[b, step] = knows[b]
        shown[b, item] = True
    return knows, rating, expected, repeat


@njit(cache=True, inline="always")
def _error(predicted: float, truth: float, low: float, high: float) -> float:
    return abs(min(max(predicted, low), high) - truth)


@njit(cache=True, inline="always")
def _ndcg(dcg: float, ideal: float) -> float:
    """nDCG from the list's DCG and the ideal one's, 0 when no candidate has a gain
    (`recworld.numerics.metrics.ndcg_at_k`)."""
    return dcg / max(ideal, 1e-12) if ideal > 0 else 0.0


@njit(cache=True, inline="always")
def _listed_gain(gains: np.ndarray, top: np.ndarray, discounts: np.ndarray) -> float:
    """DCG of the list ``top`` (``-1`` past its end) with ``gains`` (`recworld.numerics.metrics.dcg_at_k`)."""
    dcg = 0.0
    for j in range(len(top)):
        if top[j] >= 0:
            dcg += gains[top[j]] / discounts[j]
    return dcg


@njit(cache=True)
def _ideal_gain(
    ideal_items: np.ndarray, gains: np.ndarray, candidates: np.ndarray, discounts: np.ndarray
) -> float:
    """DCG of the best possible list: the first ``len(discounts)`` candidates of the user's items by gain."""
    dcg, rank, k = 0.0, 0, len(discounts)
    for item in ideal_items:
        if rank == k:
            break
        if item >= 0 and candidates[item]:
            dcg += gains[item] / discounts[rank]
            rank += 1
    return dcg


@njit(cache=True, inline="always")
def _on_ideal_list(item: int, ideal_items: np.ndarray, candidates: np.ndarray, k: int) -> bool:
    """Was ``item`` (a candidate until now, no longer in ``candidates``) among the first ``k``
    candidates of the user's items by gain (the ideal list)?"""
    rank = 0
    for other in ideal_items:
        if rank == k or other < 0:
            return False
        if other == item:
            return True
        rank += candidates[other]
    return False


@njit(cache=True, fastmath={"reassoc"})
def _error_sum(
    predicted: np.ndarray, truth: np.ndarray, candidates: np.ndarray, low: float, high: float
) -> tuple[float, int]:
    """The absolute error of the clipped predictions summed over the candidates, and their count:
    summed in the order the compiler vectorises (the same on a given machine, not the loop's)."""
    total, count = 0.0, 0
    for i in range(len(predicted)):
        total += _error(predicted[i], truth[i], low, high) if candidates[i] else 0.0
        count += candidates[i]
    return total, count


@njit(cache=True)
def _score_candidates(
    predicted: np.ndarray,
    truth: np.ndarray,
    gains: np.ndarray,
    candidates: np.ndarray,
    low: float,
    high: float,
    top: np.ndarray,
    ideal_items: np.ndarray,
) -> tuple[float, int]:
    """One pass over a user's candidates: the error sum and count of the predictions, the
    recommender's list ``top`` (by prediction) and, if ``ideal_items`` is not empty, the best list by
    gain (``len(ideal_items)`` long)."""
    total, count = _error_sum(predicted, truth, candidates, low, high)
    select_top(predicted, candidates, top)
    if len(ideal_items):
        select_top(gains, candidates, ideal_items)
    return total, count


@njit(cache=True)
def elicitation_start(
    index: np.ndarray,
    rated: np.ndarray,
    rated_only: bool,
    prior_prediction: np.ndarray,
    scores: tuple,
    cache: tuple,
) -> None:
    """The users at ``index`` before any question: the candidates (the films the member did not rate
    in the data, or, with ``rated_only``, those they rated), predictions with no answer (``prior_prediction``,
    when it is not empty; else ``predicted`` holds a recommender's of your own) and the metrics (``scores``:
    `SCORES`).
    ``truth``, ``gains`` and ``rated`` are the population's tables (row: ``member``). With the prior's
    predictions a member always starts alike, so ``cache`` (``(done, top, ideal_items, metrics,
    count)``, rows: members) keeps each member's lists and metrics after their first episode."""
    member, predicted, truth, gains, candidates, ideal_items, top = scores[:7]
    error_sum, n_candidates, ideal, ndcg, mae, low, high = scores[7:]
    done, cached_top, cached_ideal_items, cached_metrics, cached_count = cache
    discounts = dcg_discounts(top.shape[1])
    for b in index:
        m = member[b]
        row, rated_row = candidates[b], rated[m]
        for i in range(len(row)):
            row[i] = rated_row[i] == rated_only
        if len(prior_prediction):  # (the kernel marks the user `at_prior`: `predicted` is not filled)
            if done[m]:
                top[b], ideal_items[b], n_candidates[b] = (
                    cached_top[m],
                    cached_ideal_items[m],
                    cached_count[m],
                )
                error_sum[b], ideal[b], ndcg[b], mae[b] = cached_metrics[m]
                continue
        row = prior_prediction if len(prior_prediction) else predicted[b]
        total, count = _score_candidates(
            row, truth[m], gains[m], candidates[b], low, high, top[b], ideal_items[b]
        )
        error_sum[b], n_candidates[b] = total, count
        mae[b] = total / max(count, 1)
        ideal[b] = _ideal_gain(ideal_items[b], gains[m], candidates[b], discounts)
        ndcg[b] = _ndcg(_listed_gain(gains[m], top[b], discounts), ideal[b])
        if len(prior_prediction):
            done[m] = True
            cached_top[m], cached_ideal_items[m], cached_count[m] = top[b], ideal_items[b], count
            cached_metrics[m, 0], cached_metrics[m, 1] = error_sum[b], ideal[b]
            cached_metrics[m, 2], cached_metrics[m, 3] = ndcg[b], mae[b]


@njit(cache=True)
def fold_in_answer(b: int, item: int, rating: float, posterior: tuple, predicted: np.ndarray) -> None:
    """Add one answer to user ``b``'s fold-in (`recworld.envs.recommender.FoldInRecommender`): a
    rank-one update of the posterior (`recworld.numerics.online.add_observation`) and the predictions
    of every item from the new posterior mean (``design_t``: the design transposed, float32, so the
    passes over items are vectorised sweeps, four factors each). ``posterior``: `POSTERIOR`; a user still
    ``at_prior`` starts from the prior here (an episode's start copies nothing)."""
    design, design_t, offset, inverse, rhs, at_prior, prior_inverse, prior_rhs = posterior[:8]
    d = design.shape[1]
    if at_prior[b]:
        inverse[b] = prior_inverse
        rhs[b] = prior_rhs
        at_prior[b] = False
    add_observation(inverse, rhs, b, design[item], rating - offset[item])
    mean = np.zeros(d, dtype=np.float32)  # the posterior mean, inverse @ rhs
    for r in range(d):
        total = 0.0
        for c in range(d):
            total += inverse[b, r, c] * rhs[b, c]
        mean[r] = total
    row = predicted[b]
    for i in range(len(row)):
        row[i] = offset[i]
    r = 0
    while r + 4 <= d:  # four factors per sweep: a quarter of the passes over the row
        w0, w1, w2, w3 = mean[r], mean[r + 1], mean[r + 2], mean[r + 3]
        f0, f1, f2, f3 = design_t[r], design_t[r + 1], design_t[r + 2], design_t[r + 3]
        for i in range(len(row)):
            row[i] += (w0 * f0[i] + w1 * f1[i]) + (w2 * f2[i] + w3 * f3[i])
        r += 4
    while r < d:
        weight, factor = mean[r], design_t[r]
        for i in range(len(row)):
            row[i] += weight * factor[i]
        r += 1


@njit(cache=True)
def elicitation_metrics(
    lo: int,
    hi: int,
    actions: np.ndarray,
    knows: np.ndarray,
    rating: np.ndarray,
    changed: np.ndarray,
    fold_in: bool,
    posterior: tuple,
    given: np.ndarray,
    scores: tuple,
) -> np.ndarray:
    """The recommender's error before and after each answer, on the same films (the asked film leaves
    the candidates first), and its nDCG after; updates the metrics in place and returns the MAE
    before. Predictions change only where ``changed``: with ``fold_in`` (where the user knew the film)
    they are updated here (``posterior``: the fold-in's, `POSTERIOR`),
    else they are the ``given`` ones (a recommender of your own). Otherwise the error sum loses the
    asked film and the list is re-ranked only if the film was on it."""
    at_prior, prior_prediction = posterior[5], posterior[8]
    member, predicted, truth, gains, candidates, ideal_items, top = scores[:7]
    error_sum, n_candidates, ideal, ndcg, mae, low, high = scores[7:]
    batch, k = actions.shape[0], top.shape[1]
    before = np.zeros(batch)
    no_ideal = np.zeros(0, dtype=np.int64)
    discounts = dcg_discounts(k)
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        item, m = actions[b, 0], member[b]
        row = prior_prediction if at_prior[b] else predicted[b]
        was_candidate = candidates[b, item]
        if was_candidate:
            candidates[b, item] = False
            error_sum[b] -= _error(row[item], truth[m, item], low, high)
            n_candidates[b] -= 1
        before[b] = error_sum[b] / max(n_candidates[b], 1)
        on_list = False
        for j in range(k):
            on_list = on_list or top[b, j] == item
        if changed[b]:
            if fold_in:
                fold_in_answer(b, item, rating[b], posterior, predicted)
            else:
                predicted[b] = given[b]
            error_sum[b], _ = _score_candidates(
                predicted[b], truth[m], gains[m], candidates[b], low, high, top[b], no_ideal
            )
        elif on_list:
            select_top(row, candidates[b], top[b])
        on_ideal = was_candidate and _on_ideal_list(item, ideal_items[b], candidates[b], k)
        if on_ideal:
            ideal[b] = _ideal_gain(ideal_items[b], gains[m], candidates[b], discounts)
        mae[b] = error_sum[b] / max(n_candidates[b], 1)
        if changed[b] or on_list or on_ideal:  # else neither list changed: nor did the nDCG
            ndcg[b] = _ndcg(_listed_gain(gains[m], top[b], discounts), ideal[b])
    return before


@njit(cache=True)
def elicitation_finish(
    lo: int,
    hi: int,
    actions: np.ndarray,
    head: int,
    answered: tuple,
    changed: np.ndarray,
    fold_in: bool,
    given: np.ndarray,
    metric_arguments: tuple,
    ring: tuple,
    features: np.ndarray,
    t: np.ndarray,
    horizon: int,
    mae_reward: bool,
    outputs: tuple,
) -> None:
    """After the answers (``answered``: `elicitation_answers`' four arrays): the recommender's metrics
    (`elicitation_metrics`; ``metric_arguments`` are its ``(posterior, scores)``),
    the reward, the history and the clock. Writes into ``outputs`` the rewards, terminated ``(B,)``,
    ``(4, B)`` info rating (0 where unknown), expected_rating, ndcg and mae, and ``(2, B)`` known and
    repeats."""
    reward, terminated, floats, counts = outputs
    knows, rating, expected, repeat = answered
    batch = len(knows)
    posterior, scores = metric_arguments
    ndcg, mae, low, high = scores[10:]
    ndcg_before = np.empty(batch)
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        ndcg_before[b] = ndcg[b]
    before = elicitation_metrics(lo, hi, actions, knows, rating, changed, fold_in, posterior, given, scores)
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        reward[b] = before[b] - mae[b] if mae_reward else ndcg[b] - ndcg_before[b]
    ratings = rating.reshape(batch, 1)
    taken = knows.reshape(batch, 1)
    record_batch(
        lo,
        hi,
        head,
        actions,
        ratings,
        taken,
        np.ones((batch, 1), dtype=np.bool_),
        taken,
        features,
        low,
        high - low,
        *ring,
    )
    for b in range(lo, hi):
        b = max(b, 0)  # (see `recworld.envs.compiled`'s docstring)
        t[b] += 1
        terminated[b] = t[b] >= horizon
        floats[0, b] = rating[b] if knows[b] else 0.0
        floats[1, b], floats[2, b], floats[3, b] = expected[b], ndcg[b], mae[b]
        counts[0, b], counts[1, b] = knows[b], repeat[b]


@njit(cache=True)
def elicitation_step(
    lo: int, hi: int, actions: np.ndarray, head: int, answer_arguments: tuple, finish_arguments: tuple
) -> None:
    """A whole Elicitation step with the default fold-in recommender (one call: `elicitation_answers`
    with ``answer_arguments``, then `elicitation_finish` with ``finish_arguments``, its arguments from
    ``metric_arguments`` on)."""
    answered = elicitation_answers(lo, hi, actions, *answer_arguments)
    no_predictions = np.zeros((1, 1), dtype=np.float32)
    elicitation_finish(lo, hi, actions, head, answered, answered[0], True, no_predictions, *finish_arguments)


@njit(cache=True)
def elicitation_start_packed(index: np.ndarray, packed: Packed, clear: bool, score: bool) -> None:
    """The users at ``index`` start an episode: with ``clear`` no question asked yet (their answers,
    their rows of the score table and noise, and, with the fold-in, their posterior at the prior), with
    ``score`` their candidates and metrics (`elicitation_start`). ``packed`` = ``(episode, rated,
    rated_only, prior_prediction, scores, cache)``, ``episode`` = ``(asked, answers, known, table_rows,
    rows_of, sigma, noise, user, at_prior, fold_in)`` (`start_answers` for the fourth to eighth)."""
    episode, rated, rated_only, prior_prediction, scores, cache = packed.items
    asked, answers, known, table_rows, rows_of, sigma, noise, user, at_prior, fold_in = episode
    if clear:
        for b in index:
            asked[b, :], answers[b, :], known[b, :] = 0, 0.0, False
            start_answers(b, table_rows, rows_of, sigma, noise, user)
            if fold_in:
                at_prior[b] = True
    if score:
        elicitation_start(index, rated, rated_only, prior_prediction, scores, cache)


@njit(cache=True)
def elicitation_step_packed(actions: np.ndarray, head: int, packed: Packed) -> None:
    """`elicitation_step` of the whole batch, with the arguments after ``head`` in ``packed``."""
    elicitation_step(0, len(actions), actions, head, *packed.items)


@njit(cache=True)
def elicitation_step_block(block: int, blocks: int, actions: np.ndarray, head: int, packed: Packed) -> None:
    """`elicitation_step` of block ``block`` of ``blocks`` equal blocks of users."""
    lo, hi = block_bounds(block, blocks, len(actions))
    elicitation_step(lo, hi, actions, head, *packed.items)


@njit(cache=True, parallel=True)
def elicitation_step_blocks(actions: np.ndarray, head: int, packed: Packed, blocks: int) -> None:
    """`elicitation_step_packed` in ``blocks`` blocks of users, on numba's threads."""
    for block in prange(blocks):
        elicitation_step_block(block, blocks, actions, head, packed)
