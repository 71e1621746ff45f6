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
    env = "ColdStart"                 # (default: protocol.DEFAULT_COMPARISONS)
    label = "meta vs best non-meta"
    candidates = ["meta-greedy", "meta-ucb"]   # the best of these (labels, registry names or agent
                                               # families: "bandit", "active", "meta", "rl") ...
    baselines = ["thompson", "linucb"]         # ... against the best of these

``batch`` is part of the protocol, not only a memory knob: agents that pool what they learn
across users (item bandits, Q-tables) start afresh in each batch of users, so a batch of 10 and
all users at once are different experiments (both recorded with the cell).

The benchmark sets ``users`` itself (``"train"`` for `Agent.fit`, ``"test"`` for evaluation), so a
suite may not. Agent names are *not* checked against the registry here: an unknown agent becomes a
failed cell with its error in the report, so a suite written for agents still to come loads today.
Every other mistake raises `SuiteError` naming the file, the key and the value, and what to do.

The format is declared once, as the pydantic models below (strict types, no unknown keys, frozen);
validators hold only the rules a type cannot say, and `SuiteError.from_validation` turns pydantic's
error into that one message.
"""

from __future__ import annotations

import re
import reprlib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 (setup.cfg installs tomli there)
    import tomli as tomllib  # type: ignore[no-redef]

from recworld.benchmarks.protocol import CELL_METRICS, METRICS

SUITES_DIR = Path(__file__).parent / "suites"

RESERVED_KWARGS = {
    "users": "the benchmark sets it (users='train' for fit, users='test' for evaluation)",
    "num_envs": "the benchmark sets it from `batch`",
    "render_mode": "the benchmark does not render",
}
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
DEFAULT_BUDGET = 10_000
DEFAULT_BOOTSTRAP = 2000


class SuiteError(ValueError):
    """A suite that cannot be run: the message names the file, the key and the value, and the fix."""

    @classmethod
    def from_validation(cls, err: ValidationError, source: str) -> SuiteError:
        """The one error to show for a suite pydantic refused: an unknown key if there is one (a
        misspelt key explains the rest), else the first, as ``source: key path: what to do``."""
        errors = err.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = list(first["loc"])
        cause = first.get("ctx", {}).get("error")
        if first["type"] == "extra_forbidden":
            key = str(loc.pop())
            message = _unknown_key(key, _allowed_keys(loc))
        elif isinstance(cause, ValueError):  # a rule of the validators below
            loc += getattr(cause, "at", ())
            message = str(cause)
        else:
            message = _type_message(first)
        return cls(f"{source}: {_path(loc)}: {message}")


class _Invalid(ValueError):
    """A broken rule whose key lies ``at`` a path below the value being validated."""

    def __init__(self, message: str, *at: str | int) -> None:
        super().__init__(message)
        self.at = at


# ----------------------------------------------------------------------------- rules types cannot say
def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError(f"expected a non-empty string, got {text!r}")
    return text


def _file_name_safe(label: str) -> str:
    """Labels make up record file names (``{env}__{agent}__{seed}.json``), split back on ``__``."""
    if not _LABEL.match(label) or "__" in label:
        raise ValueError(
            f"{label!r} cannot name a record file; use letters, digits and . _ + - "
            "(starting with a letter or digit, no '__')"
        )
    return label


def _known_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")
    return metric


def _listed_once(names: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{repeated[0]!r} is listed twice; list each once")
    return names


def _plain(table: dict[str, Any]) -> dict[str, Any]:
    """Strings, numbers, booleans, arrays and tables only: records are JSON, so TOML dates and times
    are refused."""

    def check(value: Any, at: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                check(item, (*at, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                check(item, (*at, index))
        elif not isinstance(value, str | int | float | bool):
            raise _Invalid(f"{value} is a {type(value).__name__}; use a string or a number", *at)

    check(table, ())
    return table


T = TypeVar("T")
#: TOML arrays, read into tuples (of any length, and of one item or more)
Array = Annotated[tuple[T, ...], Field(strict=False)]
NonEmpty = Annotated[tuple[T, ...], Field(min_length=1, strict=False)]
Text = Annotated[StrictStr, AfterValidator(_non_blank)]
Label = Annotated[Text, AfterValidator(_file_name_safe)]
Names = Annotated[NonEmpty[Text], AfterValidator(_listed_once)]
Labels = Annotated[NonEmpty[Label], AfterValidator(_listed_once)]
Plain = Annotated[dict[str, Any], AfterValidator(_plain)]
Metric = Annotated[StrictStr, AfterValidator(_known_metric)]
Budget = Annotated[StrictInt, Field(ge=1)]


# ------------------------------------------------------------------------------------------- models
class _Schema(BaseModel):
    """Strict types (an integer is an int, not a bool or "3"), no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Cell(_Schema):
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


class AgentSpec(_Schema):
    """``[agents.LABEL]``: a registry name with parameters (the label is its key in `Suite.agents`)."""

    agent: Text
    params: Plain = {}
    budget: Budget | None = None

    @field_validator("params")
    @classmethod
    def _seed_is_the_suites(cls, params: dict[str, Any]) -> dict[str, Any]:
        if "seed" in params:
            raise ValueError("`seed` comes from the suite's seeds; remove it here")
        return params


class EnvSpec(_Schema):
    """``[[envs]]``: an environment, its arguments and the agents to run on it."""

    id: Text
    label: Label
    kwargs: Plain = {}
    agents: Labels
    budget: Budget | None = None
    batch: Annotated[StrictInt, Field(ge=0)] = 0
    score: Text = "return"

    @model_validator(mode="before")
    @classmethod
    def _label_defaults_to_the_kind(cls, data: Any) -> Any:
        """Unlabelled, an environment is named by its id without namespace and version."""
        if isinstance(data, dict) and "label" not in data and isinstance(data.get("id"), str):
            return {**data, "label": data["id"].split("/")[-1].split("-v")[0]}
        return data

    @field_validator("id")
    @classmethod
    def _registered(cls, env_id: str) -> str:
        import gymnasium as gym

        from recworld.envs import ENV_IDS

        if env_id not in ENV_IDS and env_id not in gym.registry:
            raise ValueError(f"unknown environment {env_id!r}; registered: {', '.join(ENV_IDS)}")
        return env_id

    @field_validator("kwargs")
    @classmethod
    def _not_reserved(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        for key, why in RESERVED_KWARGS.items():
            if key in kwargs:
                raise ValueError(f"{key!r} cannot be set: {why}; remove it")
        return kwargs

    @field_validator("score")
    @classmethod
    def _measured_per_user_here(cls, score: str, info: ValidationInfo) -> str:
        """The score ranks agents by their users' values, so it is a per-user metric of this kind."""
        per_user = [m for m in METRICS if m not in CELL_METRICS]
        if score not in per_user:
            raise ValueError(f"{score!r} is not a per-user metric; one of: {', '.join(per_user)}")
        from recworld.envs.registration import env_kind

        kind = env_kind(info.data["id"]) if "id" in info.data else None
        if kind is not None and kind not in METRICS[score][0]:
            measured = [m for m in per_user if kind in METRICS[m][0]]
            raise ValueError(
                f"{score!r} is not measured on {kind} environments; one of: {', '.join(measured)}"
            )
        return score


class Comparison(_Schema):
    """``[[comparisons]]``: the best of ``candidates`` against the best of ``baselines`` on ``env``
    (``baselines=None``, only in `recworld.benchmarks.protocol.DEFAULT_COMPARISONS`: every other
    unprivileged agent)."""

    env: Text
    candidates: Names
    baselines: Names | None
    label: Text

    @model_validator(mode="before")
    @classmethod
    def _label_defaults_to_the_lists(cls, data: Any) -> Any:
        """Unlabelled, a comparison is named by its lists: ``a/b vs c``."""
        if isinstance(data, dict) and "label" not in data:
            sides = [data.get("candidates", ()), data.get("baselines", ())]
            if all(isinstance(s, list | tuple) and all(isinstance(n, str) for n in s) for s in sides):
                return {**data, "label": " vs ".join("/".join(side) for side in sides)}
        return data

    @model_validator(mode="after")
    def _disjoint(self) -> Comparison:
        overlap = sorted(set(self.candidates) & set(self.baselines or ()))
        if overlap:
            raise ValueError(f"{overlap[0]!r} is both a candidate and a baseline; keep it in one list")
        return self


class Suite(_Schema):
    """A resolved, validated suite (see the module docstring for the file format); ``source`` is the
    file it was read from (set by `parse_suite`, not a key of the file)."""

    name: Text
    description: StrictStr = ""
    seeds: NonEmpty[Annotated[StrictInt, Field(ge=0)]]
    budget: Budget = DEFAULT_BUDGET
    bootstrap: Annotated[StrictInt, Field(ge=100)] = DEFAULT_BOOTSTRAP
    metrics: Annotated[NonEmpty[Metric], AfterValidator(_listed_once)] = tuple(METRICS)
    agents: dict[Label, AgentSpec] = {}
    envs: NonEmpty[EnvSpec]
    comparisons: Array[Comparison] | None = None  # None: DEFAULT_COMPARISONS; empty: none
    source: str = ""

    @field_validator("seeds")
    @classmethod
    def _seeds_distinct(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"{list(seeds)} repeats a seed; each seed is one independent repetition")
        return seeds

    @field_validator("metrics")
    @classmethod
    def _return_first(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        """``return`` is always reported: it is every environment's default score."""
        return metrics if "return" in metrics else ("return", *metrics)

    @field_validator("agents", mode="before")
    @classmethod
    def _agent_defaults_to_the_label(cls, agents: Any) -> Any:
        """An ``[agents.LABEL]`` table without ``agent`` is the registry agent named LABEL."""
        if isinstance(agents, dict):
            return {label: {"agent": label, **s} if isinstance(s, dict) else s for label, s in agents.items()}
        return agents

    @field_validator("envs")
    @classmethod
    def _labels_distinct(cls, envs: tuple[EnvSpec, ...]) -> tuple[EnvSpec, ...]:
        labels = [env.label for env in envs]
        for label in labels:
            if labels.count(label) > 1:
                raise ValueError(f"two environments are labelled {label!r}; give each a distinct `label`")
        return envs

    @field_validator("comparisons")
    @classmethod
    def _on_listed_envs(
        cls, comparisons: tuple[Comparison, ...] | None, info: ValidationInfo
    ) -> tuple[Comparison, ...] | None:
        """Each comparison is on one of the suite's environments (left unchecked when those are
        invalid: their own error comes first)."""
        labels = [env.label for env in info.data.get("envs", ())]
        for index, comparison in enumerate(comparisons or ()):
            if labels and comparison.env not in labels:
                raise _Invalid(
                    f"no environment is labelled {comparison.env!r}; labels: {', '.join(labels)}",
                    index,
                    "env",
                )
        return comparisons

    def cells(self) -> list[Cell]:
        """Every cell, environment by environment, agent by agent, seed by seed."""
        cells = []
        for env in self.envs:
            for label in env.agents:
                spec = self.agents.get(label, AgentSpec(agent=label))
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


_TOP_KEYS = tuple(name for name in Suite.model_fields if name != "source")


# ----------------------------------------------------------------------------------------- loading
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
    if "source" in data:  # where the text came from, not something it says
        raise SuiteError(f"{source}: top level: {_unknown_key('source', _TOP_KEYS)}")
    try:
        return Suite.model_validate({"name": default_name, **data, "source": source})
    except ValidationError as err:
        raise SuiteError.from_validation(err, source) from None


# ---------------------------------------------------------------------------------- error messages
#: what a key holds, for one that is missing or not a (non-empty) list
_EXPECTED = {
    "seeds": "a non-empty list of integers (seeds = [0, 1, 2])",
    "envs": "one or more [[envs]] tables, each with an id and agents",
    "comparisons": "[[comparisons]] tables",
    "agents": 'a non-empty list of agent labels (agents = ["random"])',
    "metrics": "a non-empty list of metric names",
    "env": "the label of one of the [[envs]]",
    "candidates": "a non-empty list of agent names",
    "baselines": "a non-empty list of agent names",
}


def _path(loc: list[str | int]) -> str:
    """``envs[1].score``, ``agents.ppo.params`` (a dict key's own errors are reported at the key)."""
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc if part != "[key]"]
    return "".join(parts).lstrip(".") or "top level"


def _allowed_keys(loc: list[str | int]) -> tuple[str, ...]:
    """The keys of the table at ``loc``."""
    if not loc:
        return _TOP_KEYS
    tables: dict[str | int, type[_Schema]] = {"envs": EnvSpec, "comparisons": Comparison, "agents": AgentSpec}
    return tuple(tables[loc[0]].model_fields)


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    return f"unknown key {key!r}; allowed keys: {', '.join(allowed)} (check the spelling)"


def _expected(key: str | int) -> str:
    if key == "id":
        from recworld.envs import ENV_IDS

        return f"one of {', '.join(ENV_IDS)}"
    return _EXPECTED.get(str(key), "a non-empty list")


def _type_message(error: ErrorDetails) -> str:
    """What is wrong with a value of the wrong type or size, and what to write instead."""
    kind, value, key = error["type"], error["input"], error["loc"][-1] if error["loc"] else ""
    if kind == "missing":
        return f"missing; give {_expected(key)}"
    if kind in ("tuple_type", "too_short"):
        return f"expected {_expected(key)}, got {value!r}"
    if kind == "int_type":
        return f"expected an integer, got {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {error.get('ctx', {}).get('ge')}, got {value}"
    if kind == "string_type":
        return f"expected a string, got {value!r}"
    if kind in ("dict_type", "model_type"):
        return f"expected a table, got {value!r}"
    return f"{error['msg']}, got {reprlib.repr(value)}"
