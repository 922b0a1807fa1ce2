"""environment.yml (conda users) and pyproject.toml (pip) name the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from fpanalysis.core.config import PROJ_ROOT

# PyPI name -> conda-forge name(s), where they differ.
CONDA_NAMES = {
    "dask[distributed]": ["dask", "distributed"],
    "duckdb": ["python-duckdb"],
    "psycopg[binary]": ["psycopg"],  # conda-forge's psycopg ships the compiled parts itself
}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req.strip())
    assert m, req
    return m.group(1), m.group(2).replace(" ", "")


def _pip_side() -> dict[str, str]:
    meta = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["dev"])
    out = {}
    for r in reqs:
        name, spec = _split(r)
        assert spec.startswith(">="), f"{r}: every dependency has a lower bound"
        for conda in CONDA_NAMES.get(name.lower(), [name.lower()]):
            out[conda] = spec
    return out


def _conda_side() -> dict[str, str]:
    env = yaml.safe_load((PROJ_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    out, pip = {}, None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip = dep["pip"]
            continue
        name, spec = _split(dep)
        if name not in ("python", "pip"):
            out[name.lower()] = spec
    assert pip == ["-e ."], "the pip: section installs the package itself"
    return out


def test_same_dependencies_and_lower_bounds():
    assert _conda_side() == _pip_side()


def test_python_version_agrees():
    meta = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = (PROJ_ROOT / "environment.yml").read_text(encoding="utf-8")
    assert f"python{meta['requires-python']}" in env.replace(" ", "")


def test_ci_runs_the_readme_test_command():
    readme = (PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    ci = (PROJ_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make report" in readme
    assert re.search(r"^make test\b", ci, re.M)
