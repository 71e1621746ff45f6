"""Cross-check recworld's off-policy estimators against obp's on the Open Bandit Dataset.

obp pins old numpy and pandas, so it lives in a virtual environment of its own and never imports
recworld. Three steps (the values the tests compare with, `tests/ope/obp_values.json`, came from them):

    .venv/bin/python scripts/obp_crosscheck.py inputs /tmp/obp-inputs          # recworld's venv
    python3 -m venv /tmp/obpvenv && /tmp/obpvenv/bin/pip install sb-obp==0.5.10
    /tmp/obpvenv/bin/python scripts/obp_crosscheck.py obp /tmp/obp-inputs tests/ope/obp_values.json

`inputs` writes, per campaign and direction, the logged rounds and the evaluation policy's
``action_dist`` and reward model ``q_hat`` exactly as recworld builds them; `obp` runs obp's IPW,
SNIPW, DM and DR on them, and obp's own end-to-end Thompson-sampling distribution (``BernoulliTS`` with
the ZOZOTOWN prior, ``random_state=0``) for the estimate it gives with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DIRECTIONS = (("bts", "random"), ("random", "bts"))
CAMPAIGNS = ("all", "men", "women")


def write_inputs(out: Path) -> None:
    from recworld.data.obd import load_obd
    from recworld.ope.estimators import item_position_model
    from recworld.ope.evaluation import action_dist, rounds_of

    out.mkdir(parents=True, exist_ok=True)
    for campaign in CAMPAIGNS:
        logs = {policy: load_obd(campaign, policy) for policy in ("random", "bts")}
        for target, behaviour in DIRECTIONS:
            log = logs[behaviour]
            dist = action_dist(target, log, logs[target], seed=0, n_sim=100_000)
            q_hat = item_position_model(rounds_of(log), log.n_items, log.n_positions, seed=0)
            np.savez_compressed(
                out / f"{campaign}_{target}_from_{behaviour}.npz",
                action=log.action,
                position=log.position,
                reward=log.reward,
                pscore=log.pscore,
                action_dist=dist[:1],
                q_hat=q_hat,
            )


def run_obp(inputs: Path, out: Path) -> None:
    from obp.ope import (
        DirectMethod,
        DoublyRobust,
        InverseProbabilityWeighting,
        SelfNormalizedInverseProbabilityWeighting,
    )
    from obp.policy import BernoulliTS

    values: dict[str, dict[str, float]] = {}
    for campaign in CAMPAIGNS:
        for target, behaviour in DIRECTIONS:
            key = f"{campaign}_{target}_from_{behaviour}"
            z = np.load(inputs / f"{key}.npz")
            n = len(z["action"])
            dist = np.broadcast_to(z["action_dist"], (n, *z["action_dist"].shape[1:])).copy()
            common = dict(reward=z["reward"], action=z["action"], position=z["position"], pscore=z["pscore"])
            row = {
                "ipw": InverseProbabilityWeighting().estimate_policy_value(**common, action_dist=dist),
                "snipw": SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(
                    **common, action_dist=dist
                ),
                "dm": DirectMethod().estimate_policy_value(
                    position=z["position"], action_dist=dist, estimated_rewards_by_reg_model=z["q_hat"]
                ),
                "dr": DoublyRobust().estimate_policy_value(
                    **common, action_dist=dist, estimated_rewards_by_reg_model=z["q_hat"]
                ),
            }
            if target == "bts":
                policy = BernoulliTS(
                    n_actions=dist.shape[1],
                    len_list=dist.shape[2],
                    is_zozotown_prior=True,
                    campaign=campaign,
                    random_state=0,
                )
                own = policy.compute_batch_action_dist(n_rounds=n, n_sim=100_000)
                row["ipw_obp_policy"] = InverseProbabilityWeighting().estimate_policy_value(
                    **common, action_dist=own
                )
            values[key] = {name: float(value) for name, value in row.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "inputs":
        write_inputs(Path(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "obp":
        run_obp(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
