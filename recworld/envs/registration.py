"""Registration of the environments under the ``recworld`` namespace (done when recworld is imported)."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "recworld/ColdStart-v0": "recworld.envs.cold_start:ColdStart",
    "recworld/Elicitation-v0": "recworld.envs.elicitation:Elicitation",
    "recworld/Engagement-v0": "recworld.envs.engagement:Engagement",
}
#: environments on logged data: a single environment each (a replay is one stream of rounds)
REPLAY_IDS = {"recworld/OBD-Replay-v0": "recworld.envs.obd_replay:OBDReplayEnv"}


def env_kind(env_id: str) -> str | None:
    """The kind of a recworld environment id (``ColdStart``, ``Elicitation``, ``Engagement``,
    ``Replay``), None for an id recworld does not register."""
    if env_id in ENV_IDS:
        return ENV_IDS[env_id].rsplit(":", 1)[1]
    return "Replay" if env_id in REPLAY_IDS else None


def register_envs() -> None:
    """Register every recworld environment (idempotent)."""
    for env_id, target in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{target}Env",
            vector_entry_point=f"{target}VectorEnv",
            disable_env_checker=False,
        )
    for env_id, entry_point in REPLAY_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
