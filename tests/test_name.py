"""The package is recworld; nothing of the distribution still answers to the old name (see README)."""

import subprocess
from pathlib import Path

import gymnasium as gym
from setuptools import find_packages

import recworld  # noqa: F401  (registers the environments)

ROOT = Path(__file__).resolve().parents[1]
OLD = "recgym"


def test_no_package_or_module_of_the_distribution_uses_the_old_name():
    packages = find_packages(str(ROOT), include=["recworld", "recworld.*"])
    assert packages and all(p.split(".")[0] == "recworld" for p in packages)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [f for f in tracked if OLD in f.lower()]


def test_old_ids_are_not_registered():
    assert [i for i in gym.registry if i.startswith("recworld/")]
    assert not [i for i in gym.registry if OLD in i.lower()]


def test_only_the_readme_sentence_and_this_test_mention_the_old_name():
    hits = subprocess.run(
        ["git", "grep", "-il", OLD], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert sorted(hits) == ["README.md", "tests/test_name.py"]
    readme = [line for line in (ROOT / "README.md").read_text().splitlines() if OLD in line.lower()]
    assert len(readme) <= 2 and "SCOPE-RL" in (ROOT / "README.md").read_text()
