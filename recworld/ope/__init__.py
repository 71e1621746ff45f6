"""Off-policy evaluation on logged bandit feedback: IPW, SNIPW, DM and DR with bootstrap intervals
(`recworld.ope.estimators`), the Open Bandit Dataset's logging policies as evaluation policies
(`recworld.ope.policies`), and the OBD paper's evaluation of the estimators
(`recworld.ope.evaluation`, ``recworld ope run``)."""

from recworld.ope.estimators import (
    ESTIMATORS,
    LoggedRounds,
    bootstrap_ratio,
    estimate,
    importance_weights,
    item_position_model,
    round_terms,
)
from recworld.ope.evaluation import evaluate_ope
from recworld.ope.policies import bernoulli_ts_action_dist, uniform_action_dist

__all__ = [
    "ESTIMATORS",
    "LoggedRounds",
    "bernoulli_ts_action_dist",
    "bootstrap_ratio",
    "estimate",
    "evaluate_ope",
    "importance_weights",
    "item_position_model",
    "round_terms",
    "uniform_action_dist",
]
