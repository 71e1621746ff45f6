"""Train a compact PPO end to end on the torch backend: users, policy and updates on one device.

``recworld/ColdStart-v0`` with ``backend="torch"`` keeps every user's state on the device, so rollouts
never leave it: observations arrive as tensors, actions go back as tensors. The policy is a small MLP
over the observation's boxes with a logit per film (films already shown are masked); PPO with GAE,
clipped ratios and an entropy bonus. Each iteration prints the mean reward per step and the speed:
environment user-steps per second during rollouts, and end to end (rollout and update).

Run: python examples/train_torch_ppo.py --device cuda --num-envs 65536 --iterations 20
     python examples/train_torch_ppo.py --device cpu --num-envs 256 --iterations 3   (a quick check)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import gymnasium as gym
import torch
from torch import nn

import recworld  # noqa: F401 - registers the recworld/... environment ids


def flatten(observation: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([observation[key] for key in sorted(observation)], dim=1)


class Policy(nn.Module):
    def __init__(self, n_inputs: int, n_items: int, hidden: int = 256) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.logits = nn.Linear(hidden, n_items)
        self.value = nn.Linear(hidden, 1)

    def forward(
        self, x: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.distributions.Categorical, torch.Tensor]:
        h = self.body(x)
        logits = self.logits(h).masked_fill(~allowed, -1e9)
        return torch.distributions.Categorical(logits=logits), self.value(h)[:, 0]


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=20, help="rollout length per iteration (one episode)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--minibatches", type=int, default=4)
    parser.add_argument(
        "--minibatch-rows",
        type=int,
        default=131_072,
        help="at most this many rows a minibatch (more minibatches when the rollout is larger): a "
        "minibatch holds a logit per film for each row",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    env = gym.make_vec(
        "recworld/ColdStart-v0",
        num_envs=args.num_envs,
        vectorization_mode="vector_entry_point",
        backend="torch",
        device=device,
        reward="like",
    )
    observation, _ = env.reset(seed=args.seed)
    n_items = int(env.single_action_space.n)
    n_inputs = flatten(observation).shape[1]
    policy = Policy(n_inputs, n_items).to(device)
    optimiser = torch.optim.Adam(policy.parameters(), lr=3e-4)
    n, t_max = args.num_envs, args.steps
    summary: dict[str, float] = {}
    for iteration in range(args.iterations):
        started = time.perf_counter()
        env_seconds = 0.0
        # the rollout, written in place (a million users' masks are 1.7 GB a step: no second copy)
        inputs = torch.empty((t_max, n, n_inputs), device=device)
        masks = torch.empty((t_max, n, n_items), dtype=torch.bool, device=device)
        actions = torch.empty((t_max, n), dtype=torch.int64, device=device)
        log_probs, values, rewards, dones = (torch.empty((t_max, n), device=device) for _ in range(4))
        with torch.no_grad():
            for t in range(t_max):
                inputs[t], masks[t] = flatten(observation), env.action_masks()
                distribution, values[t] = policy(inputs[t], masks[t])
                actions[t] = distribution.sample()
                log_probs[t] = distribution.log_prob(actions[t])
                del distribution  # (its logits: a float per film and user)
                tick = time.perf_counter()
                observation, reward, terminated, truncated, _ = env.step(actions[t])
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                env_seconds += time.perf_counter() - tick
                rewards[t] = reward.float()
                dones[t] = (terminated | truncated).float()
            last_value = policy(flatten(observation), env.action_masks())[1]
        # generalised advantage estimation (gamma 0.99, lambda 0.95)
        advantages = torch.zeros(t_max, n, device=device)
        running = torch.zeros(n, device=device)
        for t in reversed(range(t_max)):
            next_value = last_value if t == t_max - 1 else values[t + 1]
            alive = 1.0 - dones[t]
            delta = rewards[t] + 0.99 * next_value * alive - values[t]
            running = delta + 0.99 * 0.95 * alive * running
            advantages[t] = running
        returns = advantages + values
        batch = {
            "x": inputs.reshape(t_max * n, -1),
            "allowed": masks.reshape(t_max * n, -1),
            "action": actions.reshape(-1),
            "log_prob": log_probs.reshape(-1),
            "advantage": advantages.reshape(-1),
            "return": returns.reshape(-1),
        }
        batch["advantage"] = (batch["advantage"] - batch["advantage"].mean()) / (
            batch["advantage"].std() + 1e-8
        )
        size = len(batch["action"])
        n_minibatches = max(args.minibatches, -(-size // args.minibatch_rows))
        for _ in range(args.epochs):
            for chunk in torch.randperm(size, device=device).chunk(n_minibatches):
                distribution, value = policy(batch["x"][chunk], batch["allowed"][chunk])
                ratio = torch.exp(distribution.log_prob(batch["action"][chunk]) - batch["log_prob"][chunk])
                advantage = batch["advantage"][chunk]
                clipped = torch.clamp(ratio, 0.8, 1.2) * advantage
                loss = (
                    -torch.min(ratio * advantage, clipped).mean()
                    + 0.5 * (value - batch["return"][chunk]).pow(2).mean()
                    - 0.01 * distribution.entropy().mean()
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - started
        summary = {
            "mean_reward_per_step": float(rewards.mean()),
            "env_user_steps_per_s": n * t_max / env_seconds,
            "end_to_end_user_steps_per_s": n * t_max / elapsed,
        }
        print(
            f"iteration {iteration + 1}: mean reward per step {summary['mean_reward_per_step']:.3f}; "
            f"environment {summary['env_user_steps_per_s']:,.0f} user-steps/s, "
            f"end to end {summary['end_to_end_user_steps_per_s']:,.0f} user-steps/s on {device}"
        )
    return summary


if __name__ == "__main__":
    main()
