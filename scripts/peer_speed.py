"""Steps per second of recworld's environments beside three peer simulators, on one protocol.

Measures how many environment steps per second each simulator runs on this machine: recworld's
registered environments (``recworld/ColdStart-v0``, ``recworld/Elicitation-v0``,
``recworld/Engagement-v0``, made with ``gymnasium.make(id)`` and default arguments), gymnasium's
``CartPole-v1`` as a floor of Python-level overhead, and three peers, each in a virtual environment of
its own because their pins cannot live beside recworld's:

- RecSim (``recsim-no-tf==0.2.3`` + ``six``): ``interest_evolution`` and ``long_term_satisfaction``
  made by their ``create_environment`` with the config of RecSim's overview colab
  (``num_candidates=10, slate_size=2, resample_documents=True, seed=0``), i.e. the ``RecSimGymEnv``
  RecSim itself returns;
- RecoGym (``recogym==0.1.3.0`` with ``torch==2.13.0``, ``scipy<1.12``, ``numpy<2``):
  ``gym.make('reco-gym-v1', disable_env_checker=True)`` (gym 0.26's checker wants an action space
  before ``init_gym`` makes one) + ``init_gym(env_1_args)``, once with ``env_1_args`` as shipped
  (``num_products=10``) and once with ``num_products=1000``; a step is a bandit step (an ad shown);
- gym-recsys (``gym-recsys==0.0.3`` + ``numpy<2``): ``gym.make('gym_recsys:RecSys-t50-v0')`` over
  1,000 items (the README's toy setup, scaled: Gaussian user and item embeddings, slates of 2, a history
  of 3, 50 steps an episode).

The protocol, the same for every environment: one process per environment (the peer's venv python for
a peer, the python running this script for recworld and CartPole); the actions are drawn beforehand with
numpy (seed 0), uniformly over the valid ones (an index for a discrete action space, a slate of distinct
items in random order for a slate space), so sampling is not timed; then ``--repeats`` times: reset (not
timed), and ``--steps`` steps, resetting inside the timing whenever an episode ends. The table gives the
median over the repetitions and each repetition's steps per second; ``peers.json`` also keeps each
repetition's steps per second of the process's CPU time, and the machine's load average before and after,
for telling a slow simulator from a busy machine.

Run it with the project's venv, so that recworld imports (the first run builds the peers' venvs, which
takes minutes and a few GB; later runs reuse them):

    .venv/bin/python scripts/peer_speed.py                      # everything, into results/peers/
    .venv/bin/python scripts/peer_speed.py --only recsim --only recworld/ColdStart-v0 --steps 2000

``--only`` takes a group (recworld, gymnasium, recsim, recogym, gym-recsys) or an environment's name as
the table shows it, and may be repeated; the output files then hold that subset only. ``--venvs``
moves the peers' venvs (default ``~/.cache/recworld/peers/<name>``), ``--python`` picks the interpreter
they are made from (default ``python3.11``). A failed install names the peer, the pip command and its
log, and the run goes on with the other peers; the table marks the failed ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULT_MARK = "PEER_SPEED_RESULT "
STAMP = "peer_speed-installed.json"
INSTALL_LOG = "pip-install.log"
ACTIONS_NOTE = (
    "actions pre-drawn with numpy (seed 0), uniform over the valid ones: an index for a discrete space, "
    "a slate of distinct items in random order for a slate space"
)

# The program each environment is timed in, run as `python -c CHILD SPEC_JSON` with the venv's python.
# It may import only what that venv has, so it is plain code that builds the environment the spec names.
CHILD = r"""
import importlib.metadata
import json
import sys
import time

import numpy as np


def gymnasium_env(params):
    import gymnasium

    if params["id"].startswith("recworld/"):
        import recworld  # noqa: F401  (registers the recworld/ ids)
    env = gymnasium.make(params["id"])

    def reset(seed):
        env.reset(seed=seed)

    def step(action):
        _, _, terminated, truncated, _ = env.step(action)
        return terminated or truncated

    return reset, step, ("discrete", int(env.action_space.n))


def recsim_env(params):
    from recsim.environments import interest_evolution, long_term_satisfaction

    module = {"interest_evolution": interest_evolution, "long_term_satisfaction": long_term_satisfaction}
    env = module[params["env"]].create_environment(dict(params["env_config"]))
    space = env.action_space  # MultiDiscrete([num_candidates] * slate_size)

    def reset(seed):
        if seed is not None:
            env.seed(seed)
        env.reset()

    def step(action):
        return env.step(action)[2]

    return reset, step, ("slate", int(space.nvec[0]), len(space.nvec))


def recogym_env(params):
    import gym
    import recogym

    args = dict(recogym.env_1_args, random_seed=params["random_seed"])
    args.update(params.get("overrides", {}))
    # gym 0.26's env checker needs an action space at construction; RecoGym sets it in init_gym
    env = gym.make("reco-gym-v1", disable_env_checker=True)
    env.init_gym(args)
    user = [0]

    def reset(seed):
        if seed is not None:
            env.reset_random_seed()
            user[0] = 0
        done = True
        while done:  # a RecoGym episode is one user; the first step (None) gives the organic sessions
            user[0] += 1
            env.reset(user_id=user[0])
            done = env.step(None)[2]

    def step(action):
        return env.step(action)[2]

    return reset, step, ("discrete", int(args["num_products"]))


def gym_recsys_env(params):
    import gym
    import gym_recsys  # noqa: F401  (registers the RecSys-t<T>-v0 ids)

    rng = np.random.default_rng(params["seed"])
    n_items, n_users, dim = params["n_items"], params["n_users"], params["dim"]
    users = rng.standard_normal((n_users, dim)).astype(np.float32)
    items = rng.standard_normal((n_items + 1, dim))  # row -1: the skip pseudo-item the env appends

    def user_state(user_id, hist_seq):
        return users[user_id]

    def reward(user_id, hist_seq, slate):
        return np.inner(users[user_id], items[slate])

    env = gym.make(
        f"gym_recsys:RecSys-t{params['horizon']}-v0",
        apply_api_compatibility=True,
        user_ids=list(range(n_users)),
        item_category=rng.integers(0, params["n_categories"], n_items).tolist(),
        item_popularity=rng.integers(1, 1000, n_items).tolist(),
        hist_seq_len=params["hist_seq_len"],
        slate_size=params["slate_size"],
        user_state_model_callback=user_state,
        reward_model_callback=reward,
    )

    def reset(seed):
        env.reset(seed=seed)

    def step(action):
        _, _, terminated, truncated, _ = env.step(action)
        return terminated or truncated

    return reset, step, ("slate", n_items, params["slate_size"])


BUILDERS = {
    "gymnasium": gymnasium_env,
    "recsim": recsim_env,
    "recogym": recogym_env,
    "gym-recsys": gym_recsys_env,
}


def draw_actions(space, steps, seed):
    rng = np.random.default_rng(seed)
    if space[0] == "discrete":
        return rng.integers(space[1], size=steps).tolist()
    _, n, k = space
    return [rng.choice(n, size=k, replace=False) for _ in range(steps)]


def main():
    spec = json.loads(sys.argv[1])
    reset, step, space = BUILDERS[spec["builder"]](spec["params"])
    actions = draw_actions(space, spec["steps"], seed=0)
    runs, cpu_runs, episodes = [], [], []
    for _ in range(spec["repeats"]):
        reset(spec["seed"])
        ended = 0
        cpu_start = time.process_time()
        start = time.perf_counter()
        for action in actions:
            if step(action):
                reset(None)
                ended += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        runs.append(len(actions) / elapsed)
        cpu_runs.append(len(actions) / cpu if cpu > 0 else None)
        episodes.append(ended)
    versions = {}
    for name in spec["packages"]:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    result = {
        "runs": runs,
        "cpu_runs": cpu_runs,
        "episodes_ended": episodes,
        "action_space": list(space),
        "python": sys.version.split()[0],
        "versions": versions,
    }
    print("PEER_SPEED_RESULT " + json.dumps(result), flush=True)


main()
"""


@dataclass(frozen=True)
class Case:
    """One environment to time: its name in the table, how the child builds it, and in words."""

    name: str
    builder: str
    params: dict[str, Any]
    config: str


@dataclass(frozen=True)
class Group:
    """A library whose environments are timed with one python: a peer's own venv, or this one."""

    name: str
    library: str
    cases: tuple[Case, ...]
    packages: tuple[str, ...]
    installs: tuple[tuple[str, ...], ...] = ()  # pip install calls, in order; () = the running python
    needs: tuple[str, ...] = ()  # modules the running python must have, for a group without installs
    why: str = ""

    @property
    def local(self) -> bool:
        return not self.installs


RECSIM_CONFIG = {"num_candidates": 10, "slate_size": 2, "resample_documents": True, "seed": 0}
RECSIM_WORDS = {
    "interest_evolution": "interest_evolution.create_environment(num_candidates=10, slate_size=2, "
    "resample_documents=True, seed=0), the RecSim overview colab's config",
    "long_term_satisfaction": "long_term_satisfaction.create_environment(the same config; it ignores "
    "seed, its samplers default to seed 0)",
}
RECOGYM_WORDS = (
    "gym.make('reco-gym-v1', disable_env_checker=True) + init_gym(env_1_args, random_seed=0){}; "
    "a step is a bandit step (an ad shown), a reset is env.reset(user_id) + env.step(None)"
)
GYM_RECSYS = {
    "n_items": 1000,
    "n_users": 100,
    "dim": 10,
    "n_categories": 10,
    "slate_size": 2,
    "hist_seq_len": 3,
    "horizon": 50,
    "seed": 0,
}

GROUPS: tuple[Group, ...] = (
    Group(
        name="recworld",
        library="recworld",
        packages=("recworld", "gymnasium", "numpy"),
        needs=("gymnasium", "recworld"),
        cases=tuple(
            Case(env_id, "gymnasium", {"id": env_id}, "gymnasium.make(id), default arguments")
            for env_id in ("recworld/ColdStart-v0", "recworld/Elicitation-v0", "recworld/Engagement-v0")
        ),
    ),
    Group(
        name="gymnasium",
        library="gymnasium",
        packages=("gymnasium", "numpy"),
        needs=("gymnasium",),
        cases=(Case("CartPole-v1", "gymnasium", {"id": "CartPole-v1"}, "gymnasium.make('CartPole-v1')"),),
    ),
    Group(
        name="recsim",
        library="RecSim",
        packages=("recsim-no-tf", "gym", "numpy", "six"),
        installs=(("recsim-no-tf==0.2.3", "six"),),
        why="recsim-no-tf: RecSim without TensorFlow, installable on 3.11; six: imported, not declared",
        cases=tuple(
            Case(
                f"recsim/{env}",
                "recsim",
                {"env": env, "env_config": RECSIM_CONFIG},
                f"the RecSimGymEnv returned by {RECSIM_WORDS[env]}",
            )
            for env in ("interest_evolution", "long_term_satisfaction")
        ),
    ),
    Group(
        name="recogym",
        library="RecoGym",
        packages=("recogym", "gym", "numpy", "scipy", "numba", "torch"),
        installs=(("torch==2.13.0",), ("recogym==0.1.3.0", "torch==2.13.0", "scipy<1.12", "numpy<2")),
        why=(
            "`import recogym` imports its agents: torch (pinned, installed first, the CPU build) and "
            "`from scipy import rand`, gone in scipy 1.12; gym 0.26 needs numpy<2 (np.bool8)"
        ),
        cases=(
            Case(
                "recogym/reco-gym-v1",
                "recogym",
                {"random_seed": 0},
                RECOGYM_WORDS.format(" (num_products=10, as shipped)"),
            ),
            Case(
                "recogym/reco-gym-v1 (1000 products)",
                "recogym",
                {"random_seed": 0, "overrides": {"num_products": 1000}},
                RECOGYM_WORDS.format(" with num_products=1000"),
            ),
        ),
    ),
    Group(
        name="gym-recsys",
        library="gym-recsys",
        packages=("gym-recsys", "gym", "numpy"),
        installs=(("gym-recsys==0.0.3", "numpy<2"),),
        why="numpy<2: gym 0.26, its dependency, uses np.bool8 in the env checker that gym.make adds",
        cases=(
            Case(
                "gym-recsys/RecSys-t50-v0",
                "gym-recsys",
                GYM_RECSYS,
                "gym.make('gym_recsys:RecSys-t50-v0', apply_api_compatibility=True): 1,000 items, 100 users, "
                "Gaussian 10-d embeddings (reward = inner product), slate 2, history 3, 50 steps an episode",
            ),
        ),
    ),
)


class InstallError(RuntimeError):
    """A peer's venv could not be made; the message names the peer, the command and pip's log."""


@dataclass
class Outcome:
    """What timing one environment gave: its runs, or why there are none."""

    case: Case
    group: Group
    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float | None] = field(default_factory=list)  # steps per second of the process's CPU time
    episodes_ended: list[int] = field(default_factory=list)
    action_space: list[Any] = field(default_factory=list)
    python: str | None = None
    versions: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp.name, 0o666 & ~umask)  # what a plain open() would have given, not the temp file's 0600
    os.replace(tmp.name, path)


def python_version(python: str) -> str:
    """The version of the interpreter ``python`` (a path or a name on PATH)."""
    try:
        done = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        raise InstallError(f"cannot run the base python {python!r} (--python): {err}") from err
    return done.stdout.strip()


def ensure_venv(group: Group, root: Path, base_python: str) -> Path:
    """The python of the group's venv under ``root``, made and installed unless already done with these
    same pins on the same Python version (a stamp file records both)."""
    venv = root / group.name
    python = venv / "bin" / "python"
    wanted = {"python": python_version(base_python), "installs": [list(step) for step in group.installs]}
    stamp = venv / STAMP
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    root.mkdir(parents=True, exist_ok=True)
    command = [base_python, "-m", "venv", str(venv)]
    print(f"[{group.name}] {' '.join(command)}", file=sys.stderr, flush=True)
    made = subprocess.run(command, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise InstallError(
            f"{group.name}: `{' '.join(command)}` failed with exit code {made.returncode}: "
            + (made.stderr.strip().splitlines() or ["no output"])[-1]
        )
    log = venv / INSTALL_LOG
    for step in group.installs:
        command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *step]
        print(f"[{group.name}] {' '.join(command)}  (log: {log})", file=sys.stderr, flush=True)
        with open(log, "a") as out:
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if code != 0:
            raise InstallError(
                f"{group.name}: `pip install {' '.join(step)}` failed with exit code {code}; pip's log: {log}"
            )
    write_atomic(stamp, json.dumps(wanted, indent=1))
    return python


def time_case(group: Group, case: Case, python: str, args: argparse.Namespace) -> Outcome:
    spec = {
        "builder": case.builder,
        "params": case.params,
        "steps": args.steps,
        "repeats": args.repeats,
        "seed": 0,
        "packages": list(group.packages),
    }
    cwd = REPO if group.local else Path(python).parents[1]
    try:
        done = subprocess.run(
            [python, "-c", CHILD, json.dumps(spec)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(case, group, error=f"timed out after {args.timeout} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-15:] or ["no output on stderr"]
        return Outcome(case, group, error=f"exit code {done.returncode}: {tail[-1]}\n" + "\n".join(tail))
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    return Outcome(
        case,
        group,
        runs=result["runs"],
        cpu_runs=result["cpu_runs"],
        episodes_ended=result["episodes_ended"],
        action_space=result["action_space"],
        python=result["python"],
        versions=result["versions"],
    )


def selected(only: list[str]) -> list[tuple[Group, list[Case]]]:
    names = {g.name for g in GROUPS} | {c.name for g in GROUPS for c in g.cases}
    unknown = sorted(set(only) - names)
    if unknown:
        raise SystemExit(f"--only: unknown {unknown}; known: {', '.join(sorted(names))}")
    picked = []
    for group in GROUPS:
        cases = [c for c in group.cases if not only or group.name in only or c.name in only]
        if cases:
            picked.append((group, cases))
    return picked


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "load_average_before": list(os.getloadavg()),
    }


def recworld_source() -> dict[str, Any]:
    from recworld.benchmarks.speed import source_commit

    commit = source_commit()
    if commit is None:
        return {"commit": None, "recworld_modified": False}
    return {"commit": commit.removesuffix("+changes"), "recworld_modified": commit.endswith("+changes")}


def rate(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "—"


def markdown(report: dict[str, Any]) -> str:
    repeats = report["protocol"]["repeats"]
    source = report["recworld_source"]
    modified = " (with uncommitted changes)" if source["recworld_modified"] else ""
    mach = report["machine"]
    lines = [
        "# Steps per second: recworld and its peers",
        "",
        f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['platform']}; 1-minute load average "
        f"{mach['load_average_before'][0]:.2f} before, {mach['load_average_after'][0]:.2f} after. "
        f"recworld at commit `{source['commit']}`{modified}. Run {report['started']}, "
        f"{report['duration_s']:.0f} s in all, by `{report['command']}`.",
        "",
        f"Protocol: {report['protocol']['steps']:,} steps per run, {repeats} runs, one process per "
        f"environment; {ACTIONS_NOTE}; resets at episode ends are timed, the reset before each run is not.",
        "",
        f"| environment | library | steps/s (median of {repeats}) | "
        + " | ".join(f"run {i + 1}" for i in range(repeats))
        + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in range(repeats)) + " |",
    ]
    notes = []
    for row in report["results"]:
        if row["error"]:
            notes.append(f"- {row['environment']} failed: {row['error'].splitlines()[0]}")
            cells = ["failed"] + ["—"] * repeats
        else:
            cells = [rate(row["steps_per_s"])] + [rate(r) for r in row["runs"]]
        lines.append(f"| {row['environment']} | {row['library']} | " + " | ".join(cells) + " |")
    lines += ["", *notes] if notes else []
    lines += ["", "## Configurations", ""]
    lines += [f"- {row['environment']}: {row['config']}" for row in report["results"]]
    lines += ["", "## Pythons and packages", ""]
    for info in report["groups"].values():
        versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
        where = info.get("venv") or info.get("python_executable")
        pins = " and then ".join(" ".join(step) for step in info["pins"]) or "(the running python)"
        pins += f" ({info['why']})" if info["why"] else ""
        if info.get("error"):
            lines.append(f"- {info['library']}: FAILED ({info['error']}); pins: {pins}; {where}")
        else:
            lines.append(
                f"- {info['library']}: Python {info.get('python')}, {versions}; pins: {pins}; {where}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="group or env name")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "peers")
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "recworld" / "peers")
    parser.add_argument("--python", default=shutil.which("python3.11") or sys.executable)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per environment")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be positive")

    started = time.monotonic()
    report: dict[str, Any] = {
        "command": shlex.join(
            ["python", "scripts/peer_speed.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "protocol": {"steps": args.steps, "repeats": args.repeats, "actions": ACTIONS_NOTE, "seed": 0},
        "machine": machine(),
        "recworld_source": recworld_source(),
    }
    outcomes: list[Outcome] = []
    groups: dict[str, dict[str, Any]] = {}
    for group, cases in selected(args.only):
        info = groups[group.name] = {
            "library": group.library,
            "pins": [list(step) for step in group.installs],
            "why": group.why,
            "error": None,
        }
        if group.local:
            python = sys.executable
            info["python_executable"] = python
            missing = [module for module in group.needs if find_spec(module) is None]
            if missing:
                err = (
                    f"{' and '.join(missing)} not importable from {python}: run this with the project's venv"
                )
                print(f"[{group.name}] {err}", file=sys.stderr, flush=True)
                info["error"] = err
                outcomes += [Outcome(c, group, error=err) for c in cases]
                continue
        else:
            info["venv"] = str(args.venvs / group.name)
            try:
                python = str(ensure_venv(group, args.venvs, args.python))
            except InstallError as err:
                print(f"install failed: {err}", file=sys.stderr, flush=True)
                info["error"] = str(err)
                outcomes += [Outcome(c, group, error=f"install failed: {err}") for c in cases]
                continue
        for case in cases:
            print(f"[{group.name}] timing {case.name} ...", file=sys.stderr, flush=True)
            outcome = time_case(group, case, python, args)
            outcomes.append(outcome)
            if outcome.error:
                print(f"[{group.name}] {case.name} failed: {outcome.error}", file=sys.stderr, flush=True)
            else:
                runs = ", ".join(rate(r) for r in outcome.runs)
                print(f"[{group.name}] {case.name}: {rate(outcome.median)} steps/s ({runs})", file=sys.stderr)
                info.update(python=outcome.python, versions=outcome.versions)

    report["duration_s"] = time.monotonic() - started
    report["machine"]["load_average_after"] = list(os.getloadavg())
    report["groups"] = groups
    report["results"] = [
        {
            "environment": o.case.name,
            "library": o.group.library,
            "config": o.case.config,
            "steps_per_s": o.median,
            "runs": o.runs,
            "cpu_time_runs": o.cpu_runs,
            "episodes_ended": o.episodes_ended,
            "action_space": o.action_space,
            "error": o.error,
        }
        for o in outcomes
    ]
    write_atomic(args.out / "peers.json", json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    write_atomic(args.out / "peers.md", table)
    print(table)
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
