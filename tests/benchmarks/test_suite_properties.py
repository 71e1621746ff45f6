"""Property tests (hypothesis) of the suite format (`recworld.benchmarks.suite`): generated valid
suites parse, expand to the cells the format describes and survive their dict form; one wrong
value anywhere raises `SuiteError` naming the file, the key and the value.

Suites are generated as plain documents (the dicts TOML reads into) and written as TOML text by
`to_toml`, so what is checked is the parser as a user meets it. Hypothesis runs derandomized.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from recworld.agents import AGENTS
from recworld.benchmarks.protocol import CELL_METRICS, METRICS
from recworld.benchmarks.suite import (
    _TOP_KEYS,
    DEFAULT_BOOTSTRAP,
    DEFAULT_BUDGET,
    RESERVED_KWARGS,
    Cell,
    Suite,
    SuiteError,
    parse_suite,
)
from recworld.envs import ENV_IDS

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
SOURCE = "bad.toml"
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def kind_of(env_id: str) -> str:
    return env_id.split("/")[-1].split("-v")[0]


KINDS = {env_id: kind_of(env_id) for env_id in ENV_IDS}
SUPPORTING = {kind: sorted(n for n, cls in AGENTS.items() if kind in cls.supports) for kind in KINDS.values()}
PER_USER = [m for m in METRICS if m not in CELL_METRICS]


# ------------------------------------------------------------------------------------ TOML text
def toml_key(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(doc: dict[str, Any]) -> str:
    """A suite document as TOML: top-level keys, ``[agents.X]`` tables, ``[[envs]]``, ``[[comparisons]]``."""
    lines = [
        f"{toml_key(k)} = {toml_value(v)}"
        for k, v in doc.items()
        if k not in ("agents", "envs", "comparisons") or v == []  # no [[...]] form for an empty array
    ]
    for label, spec in doc.get("agents", {}).items():
        lines.append(f"\n[agents.{toml_key(label)}]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in spec.items()]
    for table in ("envs", "comparisons"):
        for entry in doc.get(table, []):
            lines.append(f"\n[[{table}]]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ documents
labels = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,8}", fullmatch=True)
plain_values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
    ),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)
param_names = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(lambda k: k != "seed")
kwarg_names = param_names.filter(lambda k: k not in RESERVED_KWARGS)
budgets = st.integers(1, 10**7)


@st.composite
def suite_documents(draw) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["name"] = draw(labels)
    if draw(st.booleans()):
        doc["description"] = draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
    doc["seeds"] = draw(st.lists(st.integers(0, 2**31), min_size=1, max_size=4, unique=True))
    if draw(st.booleans()):
        doc["budget"] = draw(budgets)
    if draw(st.booleans()):
        doc["bootstrap"] = draw(st.integers(100, 10**5))
    if draw(st.booleans()):
        doc["metrics"] = draw(st.lists(st.sampled_from(list(METRICS)), min_size=1, max_size=5, unique=True))

    # labelled agents with parameters (their labels must not clash with registry names)
    custom: dict[str, dict[str, Any]] = {}
    for label in draw(st.lists(labels.filter(lambda s: s not in AGENTS), max_size=3, unique=True)):
        spec: dict[str, Any] = {"agent": draw(st.sampled_from(sorted(AGENTS)))}
        if draw(st.booleans()):
            spec["params"] = draw(st.dictionaries(param_names, plain_values, max_size=3))
        if draw(st.booleans()):
            spec["budget"] = draw(budgets)
        custom[label] = spec
    if custom or draw(st.booleans()):
        doc["agents"] = custom

    envs = []
    env_ids = draw(st.lists(st.sampled_from(sorted(ENV_IDS)), min_size=1, max_size=3))
    env_labels = draw(st.lists(labels, min_size=len(env_ids), max_size=len(env_ids), unique=True))
    for env_id, label in zip(env_ids, env_labels, strict=True):
        kind = KINDS[env_id]
        entry: dict[str, Any] = {"id": env_id}
        # the default label (the kind) where it is free, else an explicit one
        if env_ids.count(env_id) > 1 or draw(st.booleans()):
            entry["label"] = label if label not in KINDS.values() else label + "x"
        if draw(st.booleans()):
            entry["kwargs"] = draw(st.dictionaries(kwarg_names, plain_values, max_size=3))
        fitting = SUPPORTING[kind] + [c for c, s in custom.items() if kind in AGENTS[s["agent"]].supports]
        entry["agents"] = draw(st.lists(st.sampled_from(fitting), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()):
            entry["budget"] = draw(budgets)
        if draw(st.booleans()):
            entry["batch"] = draw(st.integers(0, 1000))
        if draw(st.booleans()):
            entry["score"] = draw(st.sampled_from([m for m in PER_USER if kind in METRICS[m][0]]))
        envs.append(entry)
    # explicit labels may still meet a default one: keep the documents valid
    final = [e.get("label", KINDS[e["id"]]) for e in envs]
    if len(set(final)) != len(final):
        for k, entry in enumerate(envs):
            entry["label"] = f"E{k}"
    doc["envs"] = envs

    if draw(st.booleans()):
        comparisons = []
        for _ in range(draw(st.integers(0, 2))):
            env = draw(st.sampled_from(envs))
            names = draw(st.lists(st.sampled_from(sorted(AGENTS)), min_size=2, max_size=5, unique=True))
            cut = draw(st.integers(1, len(names) - 1))
            entry = {
                "env": env.get("label", KINDS[env["id"]]),
                "candidates": names[:cut],
                "baselines": names[cut:],
            }
            if draw(st.booleans()):
                entry["label"] = draw(
                    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10).filter(
                        str.strip
                    )
                )
            comparisons.append(entry)
        doc["comparisons"] = comparisons
    return doc


def expected_cells(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells the module docstring describes: environment by environment, agent by agent, seed by
    seed; an agent's budget overrides its environment's, which overrides the suite's."""
    out = []
    custom = doc.get("agents", {})
    for env in doc["envs"]:
        for label in env["agents"]:
            spec = custom.get(label, {})
            budget = spec.get("budget", env.get("budget", doc.get("budget", DEFAULT_BUDGET)))
            for seed in doc["seeds"]:
                out.append(
                    {
                        "env": env.get("label", KINDS[env["id"]]),
                        "env_id": env["id"],
                        "env_kwargs": env.get("kwargs", {}),
                        "agent": label,
                        "agent_name": spec.get("agent", label),
                        "params": spec.get("params", {}),
                        "seed": seed,
                        "budget": budget,
                        "batch": env.get("batch", 0),
                        "score": env.get("score", "return"),
                    }
                )
    return out


# ---------------------------------------------------------------------------------- valid suites
@SETTINGS
@given(suite_documents())
def test_a_valid_suite_parses_to_what_it_says(doc):
    suite = parse_suite(to_toml(doc), source=SOURCE, default_name="generated")
    assert suite.name == doc.get("name", "generated")
    assert suite.description == doc.get("description", "")
    assert suite.seeds == tuple(doc["seeds"])
    assert suite.budget == doc.get("budget", DEFAULT_BUDGET)
    assert suite.bootstrap == doc.get("bootstrap", DEFAULT_BOOTSTRAP)
    if "metrics" in doc:
        listed = tuple(doc["metrics"])
        assert suite.metrics == (listed if "return" in listed else ("return", *listed))
    else:
        assert suite.metrics == tuple(METRICS)
    assert [e.label for e in suite.envs] == [e.get("label", KINDS[e["id"]]) for e in doc["envs"]]
    if "comparisons" in doc:
        assert [(c.env, list(c.candidates), list(c.baselines)) for c in suite.comparisons] == [
            (c["env"], c["candidates"], c["baselines"]) for c in doc["comparisons"]
        ]
        for c, raw in zip(suite.comparisons, doc["comparisons"], strict=True):
            default = f"{'/'.join(raw['candidates'])} vs {'/'.join(raw['baselines'])}"
            assert c.label == raw.get("label", default)
    else:
        assert suite.comparisons is None


@SETTINGS
@given(suite_documents())
def test_cells_are_the_grid_of_environments_agents_and_seeds(doc):
    suite = parse_suite(to_toml(doc), source=SOURCE)
    cells = suite.cells()
    assert len(cells) == len(doc["seeds"]) * sum(len(e["agents"]) for e in doc["envs"])
    assert len({c.key for c in cells}) == len(cells)
    assert [c.model_dump() for c in cells] == expected_cells(doc)
    for cell in cells:
        assert cell.key == f"{cell.env}__{cell.agent}__{cell.seed}"
        assert cell.key.count("__") == 2  # labels never hold '__', so the key splits back
        assert Cell.model_validate_json(cell.model_dump_json()) == cell


@SETTINGS
@given(suite_documents())
def test_the_dict_form_round_trips(doc):
    suite = parse_suite(to_toml(doc), source=SOURCE)
    as_dict = suite.model_dump(mode="json")
    assert Suite.model_validate(as_dict) == suite
    through_json = Suite.model_validate(json.loads(json.dumps(as_dict)))  # as written to suite.json
    assert through_json == suite and through_json.cells() == suite.cells()
    assert Suite.model_validate(as_dict).model_dump(mode="json") == as_dict
    # ... and the dict form, written back as a suite file, is the same suite again
    again = {k: v for k, v in as_dict.items() if k != "source" and v is not None}
    again["agents"] = {
        label: {k: v for k, v in spec.items() if v is not None} for label, spec in again["agents"].items()
    }
    again["envs"] = [{k: v for k, v in e.items() if v is not None} for e in again["envs"]]
    if "comparisons" in again:
        again["comparisons"] = [{k: v for k, v in c.items() if v is not None} for c in again["comparisons"]]
    assert parse_suite(to_toml(again), source=SOURCE) == suite


@SETTINGS
@given(suite_documents(), labels.filter(lambda s: s not in AGENTS), st.data())
def test_agent_names_are_left_to_the_cells(doc, name, data):
    """Agent names are not checked against the registry: an unknown one becomes cells of its own."""
    j = data.draw(st.integers(0, len(doc["envs"]) - 1))
    assume(name not in doc["envs"][j]["agents"] and name not in doc.get("agents", {}))
    doc["envs"][j]["agents"].append(name)
    cells = [c for c in parse_suite(to_toml(doc), source=SOURCE).cells() if c.agent == name]
    assert len(cells) == len(doc["seeds"])
    assert all(c.agent_name == name and c.params == {} for c in cells)


# -------------------------------------------------------------------------------- invalid suites
not_integers = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x != int(x)),
    st.integers(0, 100).map(float),  # 3.0 is a float, not an integer
    st.text(max_size=4).filter(lambda s: "\x7f" not in s and all(c.isprintable() for c in s)),
    st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
)


def below(minimum: int) -> st.SearchStrategy[int]:
    return st.integers(-(10**6), minimum - 1)


bad_labels = st.one_of(
    st.sampled_from(["a b", "a__b", "-a", ".a", "a/b", "a:b", "é", "a\tb"]),
    st.builds(lambda a, b: f"{a}__{b}", labels, labels),
)
unknown_metrics = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(
    lambda s: s not in METRICS
)


MISTAKES = [
    "seed-negative",
    "seed-type",
    "budget",
    "bootstrap",
    "metric",
    "env-id",
    "env-budget",
    "env-batch",
    "env-score",
    "env-agent",
    "env-kwarg",
    "agent-budget",
    "top-key",
]


@st.composite
def mistakes(draw, kind: str):
    """A valid document with one wrong value of the given kind, where the error must point, and the
    value."""
    doc = copy.deepcopy(draw(suite_documents()))
    envs = doc["envs"]
    j = draw(st.integers(0, len(envs) - 1))
    if kind == "seed-negative":
        i = draw(st.integers(0, len(doc["seeds"]) - 1))
        doc["seeds"][i] = value = draw(below(0))
        where = f"seeds[{i}]"
    elif kind == "seed-type":
        i = draw(st.integers(0, len(doc["seeds"]) - 1))
        doc["seeds"][i] = value = draw(not_integers)
        where = f"seeds[{i}]"
    elif kind == "budget":
        doc["budget"] = value = draw(st.one_of(below(1), not_integers))
        where = "budget"
    elif kind == "bootstrap":
        doc["bootstrap"] = value = draw(st.one_of(below(100), not_integers))
        where = "bootstrap"
    elif kind == "metric":
        metrics = doc.get("metrics") or ["return"]
        i = draw(st.integers(0, len(metrics)))
        value = draw(unknown_metrics)
        doc["metrics"] = [*metrics[:i], value, *metrics[i:]]
        where = f"metrics[{i}]"
    elif kind == "env-id":
        envs[j]["id"] = value = draw(st.from_regex(r"recworld/Nope[A-Z]{0,3}-v[0-9]", fullmatch=True))
        where = f"envs[{j}].id"
    elif kind == "env-budget":
        envs[j]["budget"] = value = draw(st.one_of(below(1), not_integers))
        where = f"envs[{j}].budget"
    elif kind == "env-batch":
        envs[j]["batch"] = value = draw(st.one_of(below(0), not_integers))
        where = f"envs[{j}].batch"
    elif kind == "env-score":
        envs[j]["score"] = value = draw(st.one_of(st.sampled_from(sorted(CELL_METRICS)), unknown_metrics))
        where = f"envs[{j}].score"
    elif kind == "env-agent":
        k = draw(st.integers(0, len(envs[j]["agents"])))
        value = draw(bad_labels)
        envs[j]["agents"].insert(k, value)
        where = f"envs[{j}].agents[{k}]"
    elif kind == "env-kwarg":
        value = draw(st.sampled_from(sorted(RESERVED_KWARGS)))
        envs[j].setdefault("kwargs", {})[value] = draw(plain_values)
        where = f"envs[{j}].kwargs"
    elif kind == "agent-budget":
        label = draw(labels.filter(lambda s: s not in AGENTS))
        agents = doc.setdefault("agents", {})
        agents.setdefault(label, {})["budget"] = value = draw(st.one_of(below(1), not_integers))
        where = f"agents.{label}.budget"
    else:
        value = draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(lambda k: k not in doc))
        if value in _TOP_KEYS:
            value += "x"
        doc[value] = 1
        where = "top level"
    return doc, where, value


@pytest.mark.parametrize("kind", MISTAKES)
def test_one_wrong_value_raises_suite_error_naming_key_and_value(kind):
    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(mistakes(kind))
    def check(mistake):
        doc, where, value = mistake
        with pytest.raises(SuiteError) as caught:
            parse_suite(to_toml(doc), source=SOURCE)
        message = str(caught.value)
        assert message.startswith(f"{SOURCE}: {where}: "), message
        assert repr(value) in message or str(value) in message, message

    check()


@SETTINGS
@given(suite_documents(), st.data())
def test_repeated_names_are_refused(doc, data):
    seeds = doc["seeds"]
    again = data.draw(st.sampled_from(seeds))
    doc_seeds = copy.deepcopy(doc)
    doc_seeds["seeds"] = [*seeds, again]
    with pytest.raises(SuiteError, match=re.escape(f"{SOURCE}: seeds: ") + ".*repeats a seed"):
        parse_suite(to_toml(doc_seeds), source=SOURCE)

    j = data.draw(st.integers(0, len(doc["envs"]) - 1))
    doc_agents = copy.deepcopy(doc)
    agents = doc_agents["envs"][j]["agents"]
    name = data.draw(st.sampled_from(agents))
    agents.append(name)
    with pytest.raises(SuiteError) as caught:
        parse_suite(to_toml(doc_agents), source=SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: envs[{j}].agents: {name!r} is listed twice")

    doc_envs = copy.deepcopy(doc)
    doc_envs["envs"].append(copy.deepcopy(doc["envs"][j]))
    label = doc["envs"][j].get("label", KINDS[doc["envs"][j]["id"]])
    with pytest.raises(SuiteError) as caught:
        parse_suite(to_toml(doc_envs), source=SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: envs: two environments are labelled {label!r}")


def test_a_score_the_environment_does_not_measure_is_refused():
    accepted = []
    for env_id, kind in sorted(KINDS.items()):
        for score in (m for m in PER_USER if kind not in METRICS[m][0]):
            text = f'seeds = [0]\n[[envs]]\nid = "{env_id}"\nagents = ["random"]\nscore = "{score}"\n'
            try:
                parse_suite(text, source=SOURCE)
            except SuiteError as err:
                assert str(err).startswith(f"{SOURCE}: envs[0].score: ") and repr(score) in str(err)
            else:
                accepted.append((kind, score))
    assert not accepted, f"scores the environment does not measure were accepted: {accepted}"
