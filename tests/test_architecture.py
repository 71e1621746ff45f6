"""Imports flow one way, as ARCHITECTURE.md draws them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "recworld"

#: package -> the recworld packages it may import (the top level ``recworld`` is always allowed)
ALLOWED = {
    "numerics": set(),
    "data": set(),
    "simulators": {"data", "numerics"},
    "envs": {"data", "numerics", "simulators"},
    "models": {"data", "numerics"},
    "agents": {"data", "numerics", "envs", "models"},
    "ope": {"data", "numerics"},
    "benchmarks": {"data", "numerics", "simulators", "envs", "models", "agents", "ope"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        found |= {n.split(".")[1] for n in names if n.startswith("recworld.")}
    return found


def test_every_package_imports_only_what_the_map_allows():
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for target in _imports(path) - allowed - {package}:
                wrong.append(f"{path.relative_to(ROOT.parent)} imports recworld.{target}")
    assert not wrong, "\n".join(wrong)


def test_the_map_names_every_package():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED)
    text = (ROOT.parent / "ARCHITECTURE.md").read_text()
    assert all(f"`recworld/{package}`" in text for package in packages)
