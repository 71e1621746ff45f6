"""The Open Bandit Dataset paper's evaluation of off-policy estimators.

Two policies ran on the same campaign at the same time: uniform random and Bernoulli Thompson
sampling. Each one's click rate is known from its own logs (the on-policy value), so an estimator
can be judged by estimating one policy's value from the *other* policy's logs: Thompson sampling
from the random logs, and the reverse. Reported per estimator: the estimate with its bootstrap
interval, the relative error against the on-policy value, and whether that value lies in the
interval; the on-policy value carries its own bootstrap interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recworld.data.obd import LoggedFeedback, load_obd
from recworld.ope.estimators import ESTIMATORS, LoggedRounds, bootstrap_ratio, estimate, item_position_model
from recworld.ope.policies import bernoulli_ts_action_dist, uniform_action_dist


def rounds_of(log: LoggedFeedback) -> LoggedRounds:
    return LoggedRounds(log.action, log.position, log.reward, log.pscore)


def action_dist(
    policy: str, log: LoggedFeedback, reference: LoggedFeedback, *, seed: int, n_sim: int
) -> np.ndarray:
    """``policy`` (``random`` or ``bts``) as an evaluation policy over the rounds of ``log``; the
    Thompson sampler's prior comes from ``reference`` (the campaign's)."""
    if policy == "random":
        return uniform_action_dist(log.n_rounds, log.n_items, log.n_positions)
    return bernoulli_ts_action_dist(
        reference.prior_alpha,
        reference.prior_beta,
        log.n_rounds,
        log.n_positions,
        n_sim=n_sim,
        rng=np.random.default_rng(seed),
    )


def evaluate_ope(
    campaign: str = "all",
    *,
    n_boot: int = 2000,
    n_sim: int = 100_000,
    seed: int = 0,
    path: str | None = None,
) -> dict[str, Any]:
    """``{"bts_from_random": ..., "random_from_bts": ...}``, each ``{"on_policy": {...}, estimator:
    {"estimate", "ci_low", "ci_high", "relative_error", "covers_on_policy"}}``."""
    logs = {policy: load_obd(campaign, policy, path=path) for policy in ("random", "bts")}
    result: dict[str, Any] = {"campaign": campaign, "n_boot": n_boot, "n_sim": n_sim, "seed": seed}
    for target, behaviour in (("bts", "random"), ("random", "bts")):
        log = logs[behaviour]
        rounds = rounds_of(log)
        dist = action_dist(target, log, logs[target], seed=seed, n_sim=n_sim)
        q_hat = item_position_model(rounds, log.n_items, log.n_positions, seed=seed)
        truth = logs[target]
        on_policy = bootstrap_ratio(truth.reward, n_boot=n_boot, rng=np.random.default_rng(seed))
        part: dict[str, Any] = {"rounds": log.n_rounds, "on_policy": on_policy}
        for name in ESTIMATORS:
            value = estimate(name, rounds, dist, q_hat, n_boot=n_boot, rng=np.random.default_rng(seed))
            value["relative_error"] = abs(value["estimate"] - on_policy["estimate"]) / on_policy["estimate"]
            value["covers_on_policy"] = bool(value["ci_low"] <= on_policy["estimate"] <= value["ci_high"])
            part[name] = value
        result[f"{target}_from_{behaviour}"] = part
    return result
