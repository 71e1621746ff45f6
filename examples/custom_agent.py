"""An agent of your own, defined outside recworld, benchmarked like the built-in ones.

``GenreGreedy`` recommends the best-rated training films of the genre the user has liked most so far
(ties, and the first step, go to the item's mean training rating). It subclasses
`recworld.agents.Agent`: `prepare` reads the public training side once, `begin` resets a user's
state, `update` learns from the answers in the observation, `choose` picks among allowed items.

Benchmark it without touching recworld (the suite names it ``custom_agent:GenreGreedy``):

    PYTHONPATH=examples recworld bench run --suite examples/custom_agent.toml --out results/custom

or use it directly:

    PYTHONPATH=examples python examples/custom_agent.py
"""

from __future__ import annotations

import numpy as np

from recworld.agents import Agent, Responses
from recworld.envs.context import EnvContext


class GenreGreedy(Agent):
    """Greedy on the user's favourite genre so far, by mean training rating."""

    name = "genre-greedy"
    supports = frozenset({"ColdStart", "Engagement"})

    def __init__(self, seed: int = 0, weight: float = 1.0) -> None:
        super().__init__(seed)
        self.weight = weight

    def prepare(self, context: EnvContext) -> None:
        self.genres = context.item_features[:, : context.n_genres]  # (n_items, G) multi-hot
        self.item_score = context.item_mean_rating.astype(np.float64)
        self.taste = np.zeros((self.batch, context.n_genres))

    def begin(self, index: np.ndarray) -> None:
        self.taste[index] = 0.0

    def update(self, responses: Responses) -> None:
        # Centre each rating on the item's mean: a 4 for a film everybody rates 4.5 is a mild no.
        verdict = np.where(responses.taken, responses.ratings - self.item_score[responses.items], 0.0)
        self.taste[responses.users] += np.einsum("us,usg->ug", verdict, self.genres[responses.items])

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        scores = self.item_score[None, :] + self.weight * np.tanh(self.taste) @ self.genres.T
        return np.where(allowed, scores, -np.inf).argmax(axis=1)[:, None]


if __name__ == "__main__":
    import gymnasium as gym

    from recworld.envs.context import env_context

    env = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=94, vectorization_mode="vector_entry_point", users="test"
    )
    agent = GenreGreedy().bind(env_context(env), env.num_envs)
    observation, _ = env.reset(seed=0)
    total, start = np.zeros(env.num_envs), np.ones(env.num_envs, dtype=bool)
    for _ in range(20):
        observation, reward, _, _, _ = env.step(agent.act(observation, env.action_masks(), start))
        total, start = total + reward, np.zeros(env.num_envs, dtype=bool)
    print(f"GenreGreedy on 94 held-out users: mean return {total.mean():.2f} over 20 steps")
