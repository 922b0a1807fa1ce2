"""Scenarios of the reward (rulebook §5): the overrides a parsed scenario file holds, each
scenario's parameters, and every scenario's projection side by side. Reading the files is
:func:`fpanalysis.io.scenarios.load_scenarios`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from fpanalysis.core.errors import ParamError
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus.model import DEFAULT_DRAWS, DEFAULT_MONTHS, BonusModel


def _file_error(zh: str, en: str, file: str | None) -> ParamError:
    return ParamError(zh, en, file=file, rule="scenario-file")


def scenario_overrides(
    raw: Any, name: str, *, file: str | None = None, taken: Collection[str] = ()
) -> dict[str, dict]:
    """The scenarios of one scenario file's content: ``{scenario name: overrides}``.

    The content is a plain override mapping (one scenario, called ``name``:
    the file's stem) or ``scenarios: {name: overrides}``; empty content is one
    scenario with no override.

    Args:
        raw: the parsed file (``None`` for an empty file).
        name: the scenario's name when the content is a plain override mapping.
        file: the file's name, for the error messages.
        taken: scenario names already used (by earlier files).

    Raises:
        ParamError: the content is not a mapping, or a name repeats one in
            ``taken`` or is ``baseline``.

    Examples:
        >>> scenario_overrides({"uptake": 0.5}, "low")
        {'low': {'uptake': 0.5}}
        >>> list(scenario_overrides({"scenarios": {"a": {}, "b": None}}, "x"))
        ['a', 'b']
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _file_error("情景文件应为 名称: 值 的映射", "a scenario file must be a mapping", file)
    named = raw["scenarios"] if set(raw) == {"scenarios"} else {name: raw}
    if not isinstance(named, Mapping):
        raise _file_error(
            "scenarios 下应为 情景名: 覆盖参数 的映射",
            "'scenarios' must map scenario names to overrides",
            file,
        )
    out: dict[str, dict] = {}
    for key, ov in named.items():
        key = str(key)
        if key in taken or key in out or key == "baseline":
            raise ParamError(
                f"情景名重复或保留：{key}",
                f"scenario name repeated or reserved: {key}",
                file=file,
                value=key,
                rule="scenario-name",
            )
        out[key] = dict(ov or {})
    return out


def scenario_params(params: Params, scenarios: Mapping[str, Mapping]) -> dict[str, Params]:
    """``{"baseline": params, name: params.with_overrides(overrides), ...}``, overrides checked."""
    out = {"baseline": params}
    for name, ov in scenarios.items():
        out[name] = params.with_overrides(ov, source=f"scenario {name}")
    return out


def compare_scenarios(
    model: BonusModel,
    params_by_scenario: Mapping[str, Params],
    months: int = DEFAULT_MONTHS,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    by: Sequence[str] = ("month", "unit_id"),
    *,
    fen: bool = False,
) -> pd.DataFrame:
    """Every scenario's table at level ``by``, stacked with a ``scenario`` column (baseline first).

    Every scenario uses the same seed (common random numbers), so a difference
    between scenarios comes from the parameters, not the draw. ``fen``: as
    :meth:`BonusProjection.table`'s (money as int64 fen under the yuan names).
    """
    frames = []
    for name, p in params_by_scenario.items():
        pr = model.project(p, months, draws, seed, scenario=name)
        pr.meta["show_scenario"] = True
        frames.append(pr.table(by, fen=fen))
    return pd.concat(frames, ignore_index=True)
