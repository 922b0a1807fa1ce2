"""Scenario files of the reward budget: YAML files read into ``{scenario name: overrides}``
(:func:`fpanalysis.rules.bonus.scenario_overrides` says what a file may hold)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpanalysis.core.params import read_yaml
from fpanalysis.rules.bonus import scenario_overrides


def load_scenarios(paths: Sequence[str | Path]) -> dict[str, dict]:
    """Read scenario files: each a plain override file (named by its file stem) or
    ``scenarios: {name: overrides}``.

    Raises:
        ParamError: a file is unreadable, not a mapping, or two scenarios share a name.
    """
    out: dict[str, dict] = {}
    for path in paths:
        path = Path(path)
        out.update(scenario_overrides(read_yaml(path), path.stem, file=str(path), taken=out))
    return out
