"""Benchmark suites: TOML files naming environments, agents, seeds, budgets and metrics.

A suite is a grid of *cells* ``(environment, agent, seed)``. The shipped suites live in
``recworld/benchmarks/suites/`` (``quick``, ``default``, ``full``); ``load_suite`` takes one of those
names or the path of a file of your own. The format, with every key (only ``seeds`` and ``envs``
are required)::

    name = "my-suite"                 # default: the file name without .toml
    description = "what it is for"
    seeds = [0, 1, 2]                 # independent repetitions: the env's and the agent's seed
    budget = 20000                    # training timesteps for agents that learn offline (default 10000)
    bootstrap = 2000                  # bootstrap resamples for the intervals (default 2000)
    metrics = ["return", "regret"]    # what the report shows (default: all of METRICS)

    [agents.eps-0.2]                  # optional: a label for an agent with parameters
    agent = "epsilon-greedy"          # the registry name (default: the label)
    params = { epsilon = 0.2 }        # keyword arguments of make_agent (besides seed)
    budget = 50000                    # overrides the env's and the suite's budget

    [[envs]]
    id = "recworld/ColdStart-v0"        # a registered recworld environment
    label = "ColdStart"               # default: the id's name without the version
    kwargs = { horizon = 20 }         # environment arguments (never `users`: see below)
    agents = ["random", "eps-0.2"]    # agent labels; a label not under [agents] is a registry name
    budget = 5000                     # overrides the suite's budget for this environment
    batch = 0                         # users per vector env in evaluation (0: all test users at once)
    score = "return"                  # the metric that ranks agents (default: return)

    [[comparisons]]                   # optional: probability of improvement for chosen pairs
    env = "ColdStart"                 # (default: the pairs of DEFAULT_COMPARISONS, by env kind)
    label = "meta vs best non-meta"
    candidates = ["meta-greedy", "meta-ucb"]   # the best of these (labels or registry names) ...
    baselines = ["thompson", "linucb"]         # ... against the best of these

``batch`` is part of the protocol, not only a memory knob: agents that pool what they learn
across users (item bandits, Q-tables) start afresh in each batch of users, so a batch of 10 and
all users at once are different experiments (both recorded with the cell).

The benchmark sets ``users`` itself (``"train"`` for `Agent.fit`, ``"test"`` for evaluation), so a
suite may not. Agent names are *not* checked against the registry here: an unknown agent becomes a
failed cell with its error in the report, so a suite written for agents still to come loads today.
Every other mistake raises `SuiteError` naming the file, the key and the value, and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 (setup.cfg installs tomli there)
    import tomli as tomllib  # type: ignore[no-redef]

SUITES_DIR = Path(__file__).parent / "suites"

#: metric -> (environment kinds it applies to, True if higher is better, short description)
METRICS: dict[str, tuple[frozenset[str], bool, str]] = {
    "return": (
        frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"}),
        True,
        "sum of rewards per episode (Replay: the click of each matched round, so the mean is the click rate)",
    ),
    "regret": (frozenset({"ColdStart", "Engagement"}), False, "sum of per-step regret against the oracle"),
    "like_rate": (
        frozenset({"ColdStart", "Elicitation", "Engagement"}),
        True,
        "share of rated items rated >= 4",
    ),
    "ndcg": (frozenset({"Elicitation"}), True, "nDCG@k of the recommender's list after elicitation"),
    "mae": (frozenset({"Elicitation"}), False, "the recommender's MAE against the truth after elicitation"),
    "answer_rate": (frozenset({"Elicitation"}), True, "share of questions the user could answer"),
    "coverage": (
        frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"}),
        True,
        "distinct items shown over all users / catalog size",
    ),
    "diversity": (
        frozenset({"ColdStart", "Elicitation", "Engagement"}),
        True,
        "intra-list diversity: mean pairwise genre cosine distance of a user's items",
    ),
    "session_length": (frozenset({"Engagement"}), True, "steps before the user left or the session ended"),
    "leave_rate": (frozenset({"Engagement"}), False, "share of users who left before the horizon"),
    "matched": (
        frozenset({"Replay"}),
        True,
        "logged rounds where the agent's pick matched the log (they count)",
    ),
}
#: metrics measured once per cell (all users together) rather than per user
CELL_METRICS = frozenset({"coverage", "matched"})

#: kind -> [(label, candidates, baselines, exclude)]: P(best candidate > best baseline), by registry
#: names, with the paired difference of their means. ``baselines=None`` means every agent that is
#: neither a candidate, privileged, nor in ``exclude``.
BANDITS = frozenset(
    {
        "epsilon-greedy",
        "ucb1",
        "thompson",
        "linucb",
        "lin-thompson",
        "meta-greedy",
        "meta-ucb",
        "meta-thompson",
    }
)
FEEDBACK_RL = frozenset({"q-learning", "sarsa", "linear-q", "slate-q", "ppo", "a2c", "dqn", "maskable-ppo"})
DEFAULT_COMPARISONS: dict[str, list[tuple[str, frozenset[str], frozenset[str] | None, frozenset[str]]]] = {
    "ColdStart": [
        (
            "meta vs best non-meta",
            frozenset({"meta-greedy", "meta-ucb", "meta-thompson"}),
            None,
            frozenset(),
        )
    ],
    "Elicitation": [
        (
            "best active learner vs random questions",
            frozenset(
                {
                    "entropy",
                    "log-pop-entropy",
                    "uncertainty",
                    "committee",
                    "expected-change",
                    "meta-elicitation",
                }
            ),
            frozenset({"random"}),
            frozenset(),
        )
    ],
    "Engagement": [
        (
            "planning gap: planner vs myopic oracle",
            frozenset({"oracle-planner"}),
            frozenset({"oracle"}),
            frozenset(),
        ),
        ("best feedback-RL agent vs best bandit", FEEDBACK_RL, BANDITS, frozenset()),
    ],
}

RESERVED_KWARGS = {
    "users": "the benchmark sets it (users='train' for fit, users='test' for evaluation)",
    "num_envs": "the benchmark sets it from `batch`",
    "render_mode": "the benchmark does not render",
}
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_TOP_KEYS = (
    "name",
    "description",
    "seeds",
    "budget",
    "bootstrap",
    "metrics",
    "agents",
    "envs",
    "comparisons",
)
_ENV_KEYS = ("id", "label", "kwargs", "agents", "budget", "batch", "score")
_AGENT_KEYS = ("agent", "params", "budget")
_COMPARISON_KEYS = ("env", "label", "candidates", "baselines")
DEFAULT_BUDGET = 10_000
DEFAULT_BOOTSTRAP = 2000


class SuiteError(ValueError):
    """A suite that cannot be run: the message names the file, the key and the value, and the fix."""


@dataclass(frozen=True)
class Cell:
    """One run: an agent on an environment with a seed. ``key`` names its record file."""

    env: str
    env_id: str
    env_kwargs: dict[str, Any]
    agent: str
    agent_name: str
    params: dict[str, Any]
    seed: int
    budget: int
    batch: int = 0
    score: str = "return"

    @property
    def key(self) -> str:
        return f"{self.env}__{self.agent}__{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "env_id": self.env_id,
            "env_kwargs": dict(self.env_kwargs),
            "agent": self.agent,
            "agent_name": self.agent_name,
            "params": dict(self.params),
            "seed": self.seed,
            "budget": self.budget,
            "batch": self.batch,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cell:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class AgentSpec:
    label: str
    agent: str
    params: dict[str, Any] = field(default_factory=dict)
    budget: int | None = None


@dataclass(frozen=True)
class EnvSpec:
    label: str
    id: str
    kwargs: dict[str, Any]
    agents: tuple[str, ...]
    budget: int | None = None
    batch: int = 0
    score: str = "return"


@dataclass(frozen=True)
class Comparison:
    env: str
    label: str
    candidates: tuple[str, ...]
    baselines: tuple[str, ...] | None


@dataclass(frozen=True)
class Suite:
    """A resolved, validated suite (see the module docstring for the file format)."""

    name: str
    seeds: tuple[int, ...]
    envs: tuple[EnvSpec, ...]
    agents: dict[str, AgentSpec]
    description: str = ""
    budget: int = DEFAULT_BUDGET
    bootstrap: int = DEFAULT_BOOTSTRAP
    metrics: tuple[str, ...] = tuple(METRICS)
    comparisons: tuple[Comparison, ...] | None = None
    source: str = ""

    def cells(self) -> list[Cell]:
        """Every cell, environment by environment, agent by agent, seed by seed."""
        cells = []
        for env in self.envs:
            for label in env.agents:
                spec = self.agents.get(label, AgentSpec(label, label))
                budget = spec.budget if spec.budget is not None else env.budget
                for seed in self.seeds:
                    cells.append(
                        Cell(
                            env=env.label,
                            env_id=env.id,
                            env_kwargs=dict(env.kwargs),
                            agent=label,
                            agent_name=spec.agent,
                            params=dict(spec.params),
                            seed=seed,
                            budget=budget if budget is not None else self.budget,
                            batch=env.batch,
                            score=env.score,
                        )
                    )
        return cells

    def to_dict(self) -> dict[str, Any]:
        """The resolved suite as plain data (written beside the results as ``suite.json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "seeds": list(self.seeds),
            "budget": self.budget,
            "bootstrap": self.bootstrap,
            "metrics": list(self.metrics),
            "agents": {
                label: {"agent": a.agent, "params": dict(a.params), "budget": a.budget}
                for label, a in self.agents.items()
            },
            "envs": [
                {
                    "label": e.label,
                    "id": e.id,
                    "kwargs": dict(e.kwargs),
                    "agents": list(e.agents),
                    "budget": e.budget,
                    "batch": e.batch,
                    "score": e.score,
                }
                for e in self.envs
            ],
            "comparisons": None
            if self.comparisons is None
            else [
                {
                    "env": c.env,
                    "label": c.label,
                    "candidates": list(c.candidates),
                    "baselines": None if c.baselines is None else list(c.baselines),
                }
                for c in self.comparisons
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suite:
        """Inverse of `to_dict` (for ``recworld bench report``)."""
        comparisons = data.get("comparisons")
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            source=data.get("source", ""),
            seeds=tuple(data["seeds"]),
            budget=data.get("budget", DEFAULT_BUDGET),
            bootstrap=data.get("bootstrap", DEFAULT_BOOTSTRAP),
            metrics=tuple(data.get("metrics", METRICS)),
            agents={
                label: AgentSpec(label, a["agent"], dict(a.get("params", {})), a.get("budget"))
                for label, a in data.get("agents", {}).items()
            },
            envs=tuple(
                EnvSpec(
                    label=e["label"],
                    id=e["id"],
                    kwargs=dict(e.get("kwargs", {})),
                    agents=tuple(e["agents"]),
                    budget=e.get("budget"),
                    batch=e.get("batch", 0),
                    score=e.get("score", "return"),
                )
                for e in data["envs"]
            ),
            comparisons=None
            if comparisons is None
            else tuple(
                Comparison(
                    c["env"],
                    c["label"],
                    tuple(c["candidates"]),
                    None if c.get("baselines") is None else tuple(c["baselines"]),
                )
                for c in comparisons
            ),
        )


def shipped_suites() -> list[str]:
    """Names of the suites shipped with recworld."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def suite_path(name_or_path: str | Path) -> Path:
    """The file of a shipped suite name, or the given path; `SuiteError` if neither exists."""
    path = Path(name_or_path)
    shipped = SUITES_DIR / f"{name_or_path}.toml"
    if path.suffix == ".toml" or len(path.parts) > 1 or not shipped.is_file():
        if path.is_file():
            return path
        if path.suffix == ".toml" or len(path.parts) > 1:
            raise SuiteError(f"suite file {str(path)!r} does not exist; check the path")
        raise SuiteError(
            f"no suite named {str(name_or_path)!r}; shipped suites: {', '.join(shipped_suites())}, "
            "or give the path of a .toml file"
        )
    return shipped


def load_suite(name_or_path: str | Path) -> Suite:
    """Load and validate a suite by shipped name (``quick``, ``default``, ``full``) or path."""
    path = suite_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SuiteError(f"cannot read suite file {path}: {err}") from None
    return parse_suite(text, source=str(path), default_name=path.stem)


def parse_suite(text: str, *, source: str = "<suite>", default_name: str = "suite") -> Suite:
    """Validate a suite given as TOML text (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SuiteError(f"{source}: not valid TOML: {err}") from None
    return _Validator(source).suite(data, default_name)


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> SuiteError:
        return SuiteError(f"{self.source}: {where}: {message}")

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail(
                where or "top level",
                f"unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)} (check the spelling)",
            )

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table, got {value!r}")
        return value

    def plain(self, value: Any, where: str) -> Any:
        """``value`` if it is made of strings, numbers, booleans, arrays and tables (records are
        JSON); TOML dates and times are refused."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.plain(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.plain(item, f"{where}[{index}]")
        elif not isinstance(value, str | int | float | bool):
            raise self.fail(where, f"{value} is a {type(value).__name__}; use a string or a number")
        return value

    def integer(self, value: Any, where: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected an integer, got {value!r}")
        if value < minimum:
            raise self.fail(where, f"must be at least {minimum}, got {value}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {value!r}")
        return value

    def label(self, value: Any, where: str) -> str:
        value = self.text(value, where)
        if not _LABEL.match(value) or "__" in value:
            raise self.fail(
                where,
                f"{value!r} cannot name a record file; use letters, digits and . _ + - "
                "(starting with a letter or digit, no '__')",
            )
        return value

    def strings(self, value: Any, where: str, *, labels: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"expected a non-empty list of names, got {value!r}")
        items = tuple(
            self.label(v, f"{where}[{i}]") if labels else self.text(v, f"{where}[{i}]")
            for i, v in enumerate(value)
        )
        repeated = sorted({v for v in items if items.count(v) > 1})
        if repeated:
            raise self.fail(where, f"{repeated[0]!r} is listed twice; list each once")
        return items

    def suite(self, data: dict[str, Any], default_name: str) -> Suite:
        self.keys(data, _TOP_KEYS, "")
        name = self.text(data.get("name", default_name), "name")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail("description", f"expected a string, got {description!r}")
        if "seeds" not in data:
            raise self.fail("seeds", "missing; give a list of seeds, e.g. seeds = [0, 1, 2]")
        seeds_value = data["seeds"]
        if not isinstance(seeds_value, list) or not seeds_value:
            raise self.fail("seeds", f"expected a non-empty list of integers, got {seeds_value!r}")
        seeds = tuple(self.integer(s, f"seeds[{i}]", 0) for i, s in enumerate(seeds_value))
        if len(set(seeds)) != len(seeds):
            raise self.fail("seeds", f"{list(seeds)} repeats a seed; each seed is one independent repetition")
        budget = self.integer(data.get("budget", DEFAULT_BUDGET), "budget", 1)
        bootstrap = self.integer(data.get("bootstrap", DEFAULT_BOOTSTRAP), "bootstrap", 100)
        metrics = tuple(METRICS)
        if "metrics" in data:
            metrics = self.strings(data["metrics"], "metrics")
            for i, metric in enumerate(metrics):
                if metric not in METRICS:
                    raise self.fail(
                        f"metrics[{i}]", f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}"
                    )
            if "return" not in metrics:
                metrics = ("return", *metrics)
        agents = self.agents(data.get("agents", {}))
        if "envs" not in data:
            raise self.fail("envs", "missing; add at least one [[envs]] table with an id and agents")
        raw_envs = data["envs"]
        if not isinstance(raw_envs, list) or not raw_envs:
            raise self.fail("envs", "expected one or more [[envs]] tables")
        envs = tuple(self.env(e, f"envs[{i}]") for i, e in enumerate(raw_envs))
        labels = [e.label for e in envs]
        for label in labels:
            if labels.count(label) > 1:
                raise self.fail(
                    "envs", f"two environments are labelled {label!r}; give each a distinct `label`"
                )
        comparisons = None
        if "comparisons" in data:
            raw = data["comparisons"]
            if not isinstance(raw, list):
                raise self.fail("comparisons", "expected [[comparisons]] tables")
            comparisons = tuple(self.comparison(c, f"comparisons[{i}]", envs) for i, c in enumerate(raw))
        return Suite(
            name=name,
            description=description,
            seeds=seeds,
            budget=budget,
            bootstrap=bootstrap,
            metrics=metrics,
            agents=agents,
            envs=envs,
            comparisons=comparisons,
            source=self.source,
        )

    def agents(self, raw: Any) -> dict[str, AgentSpec]:
        table = self.table(raw, "agents")
        specs = {}
        for label, value in table.items():
            where = f"agents.{label}"
            self.label(label, where)
            entry = self.table(value, where)
            self.keys(entry, _AGENT_KEYS, where)
            params = self.plain(self.table(entry.get("params", {}), f"{where}.params"), f"{where}.params")
            if "seed" in params:
                raise self.fail(f"{where}.params", "`seed` comes from the suite's seeds; remove it here")
            budget = None if "budget" not in entry else self.integer(entry["budget"], f"{where}.budget", 1)
            specs[label] = AgentSpec(
                label, self.text(entry.get("agent", label), f"{where}.agent"), params, budget
            )
        return specs

    def env(self, raw: Any, where: str) -> EnvSpec:
        import gymnasium as gym

        from recworld.envs import ENV_IDS

        entry = self.table(raw, where)
        self.keys(entry, _ENV_KEYS, where)
        if "id" not in entry:
            raise self.fail(where, f"missing `id`; one of: {', '.join(ENV_IDS)}")
        env_id = self.text(entry["id"], f"{where}.id")
        if env_id not in ENV_IDS and env_id not in gym.registry:
            raise self.fail(
                f"{where}.id", f"unknown environment {env_id!r}; registered: {', '.join(ENV_IDS)}"
            )
        default_label = env_id.split("/")[-1].split("-v")[0]
        label = self.label(entry.get("label", default_label), f"{where}.label")
        kwargs = self.plain(self.table(entry.get("kwargs", {}), f"{where}.kwargs"), f"{where}.kwargs")
        for key, why in RESERVED_KWARGS.items():
            if key in kwargs:
                raise self.fail(f"{where}.kwargs", f"{key!r} cannot be set: {why}; remove it")
        if "agents" not in entry:
            raise self.fail(where, 'missing `agents`; list the agents to run, e.g. agents = ["random"]')
        agents = self.strings(entry["agents"], f"{where}.agents", labels=True)
        budget = None if "budget" not in entry else self.integer(entry["budget"], f"{where}.budget", 1)
        batch = self.integer(entry.get("batch", 0), f"{where}.batch", 0)
        score = self.text(entry.get("score", "return"), f"{where}.score")
        if score not in METRICS or score in CELL_METRICS:
            per_user = [m for m in METRICS if m not in CELL_METRICS]
            raise self.fail(
                f"{where}.score", f"{score!r} is not a per-user metric; one of: {', '.join(per_user)}"
            )
        from recworld.envs.registration import env_kind

        kind = env_kind(env_id)
        if kind is not None and kind not in METRICS[score][0]:
            measured = [m for m in METRICS if kind in METRICS[m][0] and m not in CELL_METRICS]
            raise self.fail(
                f"{where}.score",
                f"{score!r} is not measured on {kind} environments; one of: {', '.join(measured)}",
            )
        return EnvSpec(label, env_id, kwargs, agents, budget, batch, score)

    def comparison(self, raw: Any, where: str, envs: tuple[EnvSpec, ...]) -> Comparison:
        entry = self.table(raw, where)
        self.keys(entry, _COMPARISON_KEYS, where)
        labels = [e.label for e in envs]
        env = self.text(entry.get("env"), f"{where}.env")
        if env not in labels:
            raise self.fail(
                f"{where}.env", f"no environment is labelled {env!r}; labels: {', '.join(labels)}"
            )
        candidates = self.strings(entry.get("candidates"), f"{where}.candidates")
        baselines = self.strings(entry.get("baselines"), f"{where}.baselines")
        overlap = sorted(set(candidates) & set(baselines))
        if overlap:
            raise self.fail(where, f"{overlap[0]!r} is both a candidate and a baseline; keep it in one list")
        label = self.text(
            entry.get("label", f"{'/'.join(candidates)} vs {'/'.join(baselines)}"), f"{where}.label"
        )
        return Comparison(env, label, candidates, baselines)
