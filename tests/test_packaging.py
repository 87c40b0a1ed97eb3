"""pyproject.toml and environment.yml list the same dependencies with the same lower bounds."""
from __future__ import annotations

import re
import tomllib

import yaml

from evaluation.paths import ROOT

# conda-forge names of the packages whose PyPI name differs
CONDA_NAMES = {"pyyaml": "pyyaml", "python-docx": "python-docx", "duckdb": "python-duckdb"}


def _norm(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_norm(r) for r in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_norm(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python=", "pip")))
    assert {CONDA_NAMES.get(k, k): v for k, v in pip_deps.items()} == conda


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert ">=" in req, f"{req} has no tested lower bound"


def test_readme_gives_the_two_commands_and_ci_calls_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make review" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
