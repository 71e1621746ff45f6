"""Registration of the environments under the ``recgym`` namespace (done when recgym is imported)."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "recgym/ColdStart-v0": "recgym.envs.cold_start:ColdStart",
    "recgym/Elicitation-v0": "recgym.envs.elicitation:Elicitation",
    "recgym/Engagement-v0": "recgym.envs.engagement:Engagement",
}


def register_envs() -> None:
    """Register every recgym environment (idempotent)."""
    for env_id, target in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{target}Env",
            vector_entry_point=f"{target}VectorEnv",
            disable_env_checker=False,
        )
