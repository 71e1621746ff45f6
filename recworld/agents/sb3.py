"""A thin adapter that makes stable-baselines3 (and sb3-contrib) algorithms recworld agents.

``ppo``, ``a2c``, ``dqn`` and ``maskable-ppo`` train with ``MultiInputPolicy`` on the environment's
``Dict`` observation, on the training users (``users="train"``), on recworld's native vector
environment (one kernel steps all ``n_envs`` users) behind SB3's ``VecEnv`` interface
(`NativeVecEnv`), with ``VecMonitor`` for the learning curve. ``choose`` is the model's
greedy choice among the items the agent may still show: the policy's most probable allowed item
(PPO, A2C; per slot, distinct, for slates), the highest allowed Q-value (DQN), or MaskablePPO's own
masked ``predict``. Training is unmasked except for MaskablePPO, which reads the environment's
``action_masks()``: that is the difference masking makes.

stable-baselines3 seeds Python's, numpy's and torch's global generators from ``seed`` when it
builds a model; prediction is deterministic. SB3 and sb3-contrib are imported only when needed
(the ``sb3`` extra).
"""

from __future__ import annotations

import importlib
import inspect
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import numpy as np

from recworld.agents.base import Agent, AgentError, training_seed
from recworld.agents.checks import check_float, check_int
from recworld.envs.context import EnvContext, env_context

INSTALL_HINT = "pip install 'recworld[sb3]'"


def import_algorithm(module: str, name: str) -> Any:
    """The SB3 algorithm class, or `AgentError` with the install hint when the extra is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as err:
        raise AgentError(f"the {name} agent needs the {module} package: {INSTALL_HINT} ({err})") from err


def native_vec_env(env_id: str, n_envs: int, **env_kwargs: Any) -> Any:
    """recworld's native vector environment as a stable-baselines3 ``VecEnv`` (`NativeVecEnv`)."""
    try:
        from stable_baselines3.common.vec_env.base_vec_env import VecEnv
    except ImportError as err:
        raise AgentError(f"NativeVecEnv needs stable-baselines3: {INSTALL_HINT} ({err})") from err

    class NativeVecEnv(VecEnv):
        """SB3's ``VecEnv`` over one recworld vector environment: no per-user environment objects,
        one batched kernel step for every user, same-step autoreset with the final observation in
        ``infos[i]["terminal_observation"]`` (SB3's convention). ``env_method("action_masks")``
        serves sb3-contrib's MaskablePPO."""

        def __init__(self) -> None:
            self.env: Any = gymnasium.make_vec(
                env_id,
                num_envs=n_envs,
                vectorization_mode="vector_entry_point",
                autoreset_mode="same-step",
                **env_kwargs,
            )
            super().__init__(n_envs, self.env.single_observation_space, self.env.single_action_space)
            self.actions: Any = None

        def reset(self) -> Any:
            observation, _ = self.env.reset(seed=list(self._seeds))  # one seed per user
            self._reset_seeds()
            self._reset_options()
            return observation

        def step_async(self, actions: np.ndarray) -> None:
            self.actions = actions

        def step_wait(self) -> Any:
            observation, reward, terminated, truncated, info = self.env.step(self.actions)
            dones = terminated | truncated
            infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = info["final_obs"][i]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            return observation, reward.astype(np.float32), dones, infos

        def close(self) -> None:
            self.env.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self.env, attr_name)] * len(list(self._get_indices(indices)))

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.env, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            chosen = list(self._get_indices(indices))
            if method_name == "action_masks":
                masks = self.env.action_masks()
                return [masks[i] for i in chosen]
            result = getattr(self.env, method_name)(*args, **kwargs)
            return [result] * len(chosen)

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * len(list(self._get_indices(indices)))

    return NativeVecEnv()


class SB3Agent(Agent):
    """Shared adapter; subclasses name the algorithm and its recworld defaults.

    Parameters: ``learning_rate`` (0, 1]; ``gamma`` [0, 1]; ``n_envs`` 1..1024 training users at
    once; ``net_arch`` hidden layer widths (1..8 layers of 1..4096 units); ``hyperparams``:
    any other keyword of the SB3 algorithm's constructor (for example ``{"n_steps": 64}``).
    """

    learns_offline = True
    supports = frozenset({"ColdStart", "Engagement"})
    families = frozenset({"rl"})
    algorithm: ClassVar[tuple[str, str]]
    #: recworld's defaults for the algorithm's own keywords (overridden by ``hyperparams``)
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        seed: int = 0,
        learning_rate: float = 3e-4,
        gamma: float = 0.99,
        n_envs: int = 4,
        net_arch: tuple[int, ...] | list[int] = (64, 64),
        hyperparams: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(seed)
        self.learning_rate = check_float("learning_rate", learning_rate, 0.0, 1.0, open_low=True)
        self.gamma = check_float("gamma", gamma, 0.0, 1.0)
        self.n_envs = check_int("n_envs", n_envs, 1, 1024)
        if not isinstance(net_arch, tuple | list) or not 1 <= len(net_arch) <= 8:
            raise AgentError(f"net_arch must be a list of 1 to 8 layer widths, got {net_arch!r}")
        self.net_arch = [check_int("net_arch width", w, 1, 4096) for w in net_arch]
        if hyperparams is not None and not isinstance(hyperparams, dict):
            raise AgentError(f"hyperparams must be a dict of SB3 keywords, got {hyperparams!r}")
        self.hyperparams = dict(hyperparams or {})
        self.model: Any = None

    # ------------------------------------------------------------------ checks
    def check_context(self, context: EnvContext) -> None:
        """Raise `AgentError` when the algorithm cannot act in this environment."""

    def prepare(self, context: EnvContext) -> None:
        self.check_context(context)

    # ------------------------------------------------------------------ training
    def fit(self, env_id: str, env_kwargs: dict[str, Any], timesteps: int) -> list[tuple[int, float]]:
        """Train the SB3 model for ``timesteps`` environment steps on the training users."""
        timesteps = check_int("timesteps", timesteps, 1)
        algorithm = import_algorithm(*self.algorithm)
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.vec_env import VecMonitor

        native = native_vec_env(env_id, self.n_envs, **{**env_kwargs, "users": "train"})
        env = VecMonitor(native)
        try:
            self.check_context(env_context(native.env))
            options = {**self.defaults, **self.hyperparams}
            try:
                self.model = algorithm(
                    "MultiInputPolicy",
                    env,
                    learning_rate=self.learning_rate,
                    gamma=self.gamma,
                    policy_kwargs={"net_arch": list(self.net_arch)},
                    seed=training_seed(self.seed),
                    device="cpu",
                    verbose=0,
                    **options,
                )
            except TypeError as err:
                raise AgentError(
                    f"{algorithm.__name__} does not accept hyperparams {sorted(options)}: {err}"
                ) from err
            curve: list[tuple[int, float]] = []
            every = max(timesteps // 20, 1)

            class Curve(BaseCallback):
                """Mean return of the episodes finished since the last point, every ``every`` steps."""

                returns: list[float] = []  # noqa: RUF012 - one instance per fit
                mark = 0

                def _on_step(self) -> bool:
                    for info in self.locals.get("infos", ()):
                        if "episode" in info:
                            self.returns.append(float(info["episode"]["r"]))
                    if self.num_timesteps - self.mark >= every and self.returns:
                        curve.append((int(self.num_timesteps), float(np.mean(self.returns))))
                        self.returns, self.mark = [], self.num_timesteps
                    return True

            self.model.learn(total_timesteps=timesteps, callback=Curve())
        finally:
            env.close()
        return curve

    # ------------------------------------------------------------------ acting
    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise AgentError(f"agent {self.name!r} has no model: call fit(...) or load(path) first")
        assert self.context is not None
        import torch

        policy = self.model.policy
        with torch.no_grad():
            obs, _ = policy.obs_to_tensor(self.batch_observation(observation))
            if hasattr(policy, "q_net"):  # DQN: Q-values of every item
                slot_scores = [policy.q_net(obs).cpu().numpy()]
            else:  # PPO, A2C: the policy's probabilities, one categorical per slot
                distribution = policy.get_distribution(obs).distribution
                parts = distribution if isinstance(distribution, list) else [distribution]
                slot_scores = [part.logits.cpu().numpy() for part in parts]
        allowed = allowed.copy()
        chosen = np.empty((self.batch, len(slot_scores)), dtype=np.int64)
        for slot, scores in enumerate(slot_scores):  # slots, not users or items: a slate's S positions
            chosen[:, slot] = np.where(allowed, scores, -np.inf).argmax(axis=1)
            allowed[np.arange(self.batch), chosen[:, slot]] = False
        return chosen

    def batch_observation(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {key: np.asarray(value, dtype=np.float32) for key, value in observation.items()}

    # ------------------------------------------------------------------ save and load
    def save(self, path: str | Path) -> Path:
        """SB3's own format (a zip of JSON and torch weights) at ``path`` (``.zip`` added by SB3)."""
        if self.model is None:
            raise AgentError(f"agent {self.name!r} has no model to save: call fit(...) first")
        self.model.save(path)
        path = Path(path)
        return path if path.suffix == ".zip" else path.with_name(path.name + ".zip")

    def load(self, path: str | Path) -> SB3Agent:
        """Load a model written by `save` (SB3's ``Algorithm.load``); returns self.

        SB3's format stores some entries (the spaces, the policy class, buffers) with cloudpickle,
        and loading runs them: load only files you trust. The schedules are replaced by constants
        (SB3's advice for loading a model to predict with).
        """
        algorithm = import_algorithm(*self.algorithm)
        path = Path(path)
        if not path.exists() and path.with_name(path.name + ".zip").exists():
            path = path.with_name(path.name + ".zip")
        if not path.is_file():
            raise AgentError(f"no saved SB3 model at {path}: give the file that save() wrote")
        custom = {
            "learning_rate": self.learning_rate,
            "lr_schedule": _Constant(self.learning_rate),
            "clip_range": _Constant(0.2),
            "exploration_schedule": _Constant(0.0),
        }
        try:
            self.model = algorithm.load(path, device="cpu", custom_objects=custom)
        except (ValueError, KeyError, zipfile.BadZipFile) as err:
            raise AgentError(f"{path} is not a {algorithm.__name__} model saved by save(): {err}") from err
        return self


class _Constant:
    """A constant schedule (SB3 schedules are callables of the remaining progress)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, progress_remaining: float) -> float:
        return self.value


class PPOAgent(SB3Agent):
    """stable-baselines3 PPO (defaults here: ``n_steps=128``, ``batch_size=64``)."""

    name = "ppo"
    algorithm = ("stable_baselines3", "PPO")
    defaults: ClassVar[dict[str, Any]] = {"n_steps": 128, "batch_size": 64}


class A2CAgent(SB3Agent):
    """stable-baselines3 A2C (SB3's defaults, ``learning_rate`` 7e-4 as in SB3)."""

    name = "a2c"
    algorithm = ("stable_baselines3", "A2C")

    def __init__(
        self,
        seed: int = 0,
        learning_rate: float = 7e-4,
        gamma: float = 0.99,
        n_envs: int = 4,
        net_arch: tuple[int, ...] | list[int] = (64, 64),
        hyperparams: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(seed, learning_rate, gamma, n_envs, net_arch, hyperparams)


class DQNAgent(SB3Agent):
    """stable-baselines3 DQN: one item per step only (``slate_size=1``: DQN needs ``Discrete``).

    Defaults here: ``buffer_size=50_000`` (SB3's million would not fit the observations in memory),
    ``learning_starts=500``, ``target_update_interval=1000``, ``exploration_fraction=0.3``.
    """

    name = "dqn"
    algorithm = ("stable_baselines3", "DQN")
    defaults: ClassVar[dict[str, Any]] = {
        "buffer_size": 50_000,
        "learning_starts": 500,
        "target_update_interval": 1000,
        "exploration_fraction": 0.3,
    }

    def __init__(
        self,
        seed: int = 0,
        learning_rate: float = 1e-4,
        gamma: float = 0.99,
        n_envs: int = 1,
        net_arch: tuple[int, ...] | list[int] = (64, 64),
        hyperparams: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(seed, learning_rate, gamma, n_envs, net_arch, hyperparams)

    def check_context(self, context: EnvContext) -> None:
        if context.slate_size != 1:
            raise AgentError(
                "dqn needs one item per step (a Discrete action space), got "
                f"slate_size={context.slate_size}; use ppo, a2c or maskable-ppo for slates"
            )


class MaskablePPOAgent(SB3Agent):
    """sb3-contrib MaskablePPO: never shows an item twice (masks from ``action_masks()`` in training,
    the agent's allowed items when acting). Defaults as for ``ppo``."""

    name = "maskable-ppo"
    algorithm = ("sb3_contrib", "MaskablePPO")
    defaults: ClassVar[dict[str, Any]] = {"n_steps": 128, "batch_size": 64}

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise AgentError(f"agent {self.name!r} has no model: call fit(...) or load(path) first")
        assert self.context is not None
        s = self.context.slate_size
        masks = allowed if s == 1 else np.tile(allowed, (1, s))
        actions, _ = self.model.predict(
            self.batch_observation(observation), deterministic=True, action_masks=masks
        )
        return np.asarray(actions).reshape(self.batch, s)


class PolicyAgent(Agent):
    """Any trained policy with stable-baselines3's ``predict(observation, deterministic=True)`` (and,
    if it takes one, ``action_masks=``), as a recworld agent: the benchmark evaluates it like the
    others. It acts on the batched observation and learns nothing online."""

    name = "policy"
    supports = frozenset({"ColdStart", "Elicitation", "Engagement"})
    families = frozenset({"rl"})

    def __init__(self, policy: Any, seed: int = 0) -> None:
        super().__init__(seed)
        if not callable(getattr(policy, "predict", None)):
            raise AgentError(f"{type(policy).__name__} has no predict(observation, ...): it is not a policy")
        self.policy = policy
        self.takes_masks = "action_masks" in inspect.signature(policy.predict).parameters

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        extra = {"action_masks": np.tile(allowed, (1, self.context.slate_size))} if self.takes_masks else {}
        actions, _ = self.policy.predict(observation, deterministic=True, **extra)
        return np.asarray(actions, dtype=np.int64).reshape(self.batch, self.context.slate_size)


#: SB3 algorithm class name -> the recworld adapter that acts with its model (masked greedy choice)
ADAPTERS: dict[str, type[SB3Agent]] = {
    "PPO": PPOAgent,
    "A2C": A2CAgent,
    "DQN": DQNAgent,
    "MaskablePPO": MaskablePPOAgent,
}


def as_agent(policy: Any, *, algorithm: str = "ppo", seed: int = 0) -> Agent:
    """An agent for the benchmark's evaluation from what a user has at hand:

    * a recworld `Agent`: itself;
    * a trained stable-baselines3 model (PPO, A2C, DQN, MaskablePPO): the recworld adapter of its
      algorithm, which acts with the model by masked greedy choice (the benchmark's protocol);
    * a path to a model saved by SB3 (``model.save(path)``): loaded with ``algorithm`` (``"ppo"``,
      ``"a2c"``, ``"dqn"`` or ``"maskable-ppo"``);
    * any other object with SB3's ``predict``: `PolicyAgent`.
    """
    if isinstance(policy, Agent):
        return policy
    if isinstance(policy, str | Path):
        adapters = {cls.name: cls for cls in ADAPTERS.values()}
        if algorithm not in adapters:
            raise AgentError(f"algorithm={algorithm!r} is not one of {', '.join(adapters)}")
        return adapters[algorithm](seed=seed).load(policy)
    adapter = ADAPTERS.get(type(policy).__name__)
    if adapter is not None and hasattr(policy, "policy"):
        agent = adapter(seed=seed)
        agent.model = policy
        return agent
    return PolicyAgent(policy, seed=seed)
