"""Parameters written out for people (rulebook §9): :func:`in_force` lists each parameter's
value on a date with the file and line it was written on (``fpanalysis params``);
:func:`param_changes` what one set of parameters changes against another (``fpanalysis params
--diff``); :func:`parameter_table` the markdown table of parameters that the rulebook
(``docs/rules.md``) holds in each section, which :func:`update_rulebook` regenerates between its
``<!-- params: NAME, ... -->`` and ``<!-- /params -->`` markers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from fpanalysis.core.params import Params, ParamSpec, default_params, to_date


def format_value(v: Any) -> str:
    """A value as an override file would write it (YAML flow style).

    Examples:
        >>> format_value((15, 49)), format_value("wife"), format_value(0.25)
        ('[15, 49]', 'wife', '0.25')
        >>> format_value({"default": 6, "disabled_member": 12})
        '{default: 6, disabled_member: 12}'
    """
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v if yaml.safe_load(v) == v else json.dumps(v, ensure_ascii=False)
    return str(v)


def _areas(spec: ParamSpec) -> list[str | None]:
    return list(spec.options["keys"]) if spec.type == "by_area" else [None]


def latest_effective_date(params: Params) -> dt.date:
    """The latest effective-from date of any parameter: the values in force from then on.

    Examples:
        >>> latest_effective_date(default_params().with_overrides({"uptake": {"2031-01-01": 0.9}}))
        datetime.date(2031, 1, 1)
    """
    return max(
        d
        for name in params.names
        for area in _areas(params.specs[name])
        for d in params.change_dates(name, area)
    )


def in_force(params: Params, date: Any) -> list[dict[str, Any]]:
    """Every parameter's value in force on ``date``, one row per parameter (and area).

    Returns:
        Rows with ``parameter`` (``name`` or ``name.area``), ``name``, ``area``,
        ``value``, ``unit``, ``effective_from`` and ``source`` (:class:`ValueSource`).

    Examples:
        >>> rows = in_force(default_params(), "2024-06-01")
        >>> [(r["parameter"], r["value"], str(r["effective_from"])) for r in rows][16]
        ('dibao_standard_yuan.urban', 730, '2023-01-01')
    """
    d = to_date(date)
    rows = []
    for name in params.names:
        spec = params.specs[name]
        for area in _areas(spec):
            start = max(s for s in params.change_dates(name, area) if s <= d)
            rows.append(
                {
                    "parameter": name if area is None else f"{name}.{area}",
                    "name": name,
                    "area": area,
                    "value": params.at(name, d, area),
                    "unit": spec.unit,
                    "effective_from": start,
                    "source": params.sources.get((name, area, start)),
                }
            )
    return rows


def param_changes(before: Params, after: Params) -> list[dict[str, Any]]:
    """What ``after`` changes against ``before``: one row per parameter (and area) and date.

    A row is written for every date on which either timeline takes a new value
    and the two differ there, and for a date from which they agree again
    (``old == new``) after differing.

    Returns:
        Rows with ``parameter``, ``name``, ``area``, ``effective_from``, ``old``,
        ``new`` and ``unit``, in the order of ``policy.yaml``, dates ascending.
        No row: nothing changes.

    Examples:
        >>> p = default_params()
        >>> q = p.with_overrides({"reward_monthly_yuan": {"2025-07-01": 30}})
        >>> [(r["parameter"], str(r["effective_from"]), r["old"], r["new"])
        ...  for r in param_changes(p, q)]
        [('reward_monthly_yuan', '2025-07-01', 20, 30)]
        >>> param_changes(p, p)
        []
    """
    rows = []
    for name in after.names:
        spec = after.specs[name]
        for area in _areas(spec):
            dates = sorted(
                set(before.change_dates(name, area)) | set(after.change_dates(name, area))
            )
            differed = False
            for d in dates:
                old, new = before.at(name, d, area), after.at(name, d, area)
                if old != new or differed:
                    rows.append(
                        {
                            "parameter": name if area is None else f"{name}.{area}",
                            "name": name,
                            "area": area,
                            "effective_from": d,
                            "old": old,
                            "new": new,
                            "unit": spec.unit,
                        }
                    )
                differed = old != new
    return rows


def _limits(spec: ParamSpec) -> str:
    """The type and limits of a parameter, as the override check applies them."""
    o, t = spec.options, spec.type
    keys = ", ".join(map(str, o.get("keys", ())))
    if t in ("int", "number"):
        kind = "whole number" if t == "int" else "number"
        return f"{kind}, {o.get('min')}–{o.get('max')}"
    if t == "int_range":
        return "[low, high], whole numbers, 0 ≤ low ≤ high ≤ 130"
    if t == "enum":
        return "one of " + ", ".join(map(str, o["choices"]))
    if t == "month_day":
        return '"MM-DD" (29 Feb: 28 Feb in other years)'
    if t == "weights":
        return f"numbers ≥ 0 for {keys}, summing to 1"
    if t == "number_map":
        return f"{'whole numbers' if o.get('integer') else 'numbers'} ≥ 0 for {keys}"
    if t == "increasing":
        return f"{o.get('length')} numbers > 0, strictly increasing"
    if t == "order":
        return f"an order of {', '.join(o['choices'])}; no repeats; ends with {o['last']}"
    if t == "age_band_rates":
        return 'age band "A-B" → rate 0–1; bands do not overlap'
    if t == "by_area":
        return f"per area ({keys}): {{date: number 1–1000000}}"
    raise AssertionError(f"unknown parameter type {t}")  # pragma: no cover - policy.yaml is ours


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _dated(tl: Iterable[tuple[dt.date, Any]]) -> str:
    return "; ".join(f"`{format_value(v)}` from {d.isoformat()}" for d, v in tl)


def parameter_table(names: Iterable[str], params: Params | None = None) -> str:
    """A markdown table of parameters: description, default by date, unit, limits, reference.

    The rulebook (``docs/rules.md``) holds one such table per section, between
    ``<!-- params: NAME, ... -->`` and ``<!-- /params -->``
    (:func:`update_rulebook` writes them).

    Args:
        names: the parameters, in the order of the table's rows.
        params: the parameters to show (default :func:`default_params`).

    Raises:
        ParamError: an unknown name.

    Examples:
        >>> row = parameter_table(["feedback_days"]).splitlines()[2]
        >>> row.split(" | ")[2:5]
        ['`15` from 1900-01-01', 'days', 'whole number, 0–366']
    """
    params = params or default_params()
    out = [
        "| 参数 parameter | 说明 description | 默认值 default（生效日期 from） | 单位 unit "
        "| 类型与限制 type, limits | 出处 reference |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        spec = params.spec(name)
        if spec.type == "by_area":
            value = "<br>".join(f"{a}: {_dated(params.timeline(name, a))}" for a in _areas(spec))
        else:
            value = _dated(params.timeline(name))
        cells = [
            f"`{name}`",
            f"{spec.description_zh}<br>{spec.description_en}",
            value,
            spec.unit,
            _limits(spec),
            spec.reference,
        ]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


_BLOCK_RE = re.compile(r"<!-- params: (?P<names>[^>]*?) -->\n(?P<body>.*?)<!-- /params -->", re.S)


@dataclass(frozen=True)
class ParamBlock:
    """A generated parameter table in the rulebook: its names, its text now, where it starts."""

    names: tuple[str, ...]
    body: str
    line: int


def rulebook_blocks(text: str) -> list[ParamBlock]:
    """The parameter blocks of a rulebook's text, in order.

    Examples:
        >>> rulebook_blocks("x\\n<!-- params: a, b -->\\nold\\n<!-- /params -->\\n")
        [ParamBlock(names=('a', 'b'), body='old\\n', line=2)]
    """
    return [
        ParamBlock(
            tuple(n.strip() for n in m["names"].split(",") if n.strip()),
            m["body"],
            text.count("\n", 0, m.start()) + 1,
        )
        for m in _BLOCK_RE.finditer(text)
    ]


def update_rulebook(text: str, params: Params | None = None) -> str:
    """The rulebook's text with every parameter block regenerated by :func:`parameter_table`.

    Raises:
        ParamError: a block names an unknown parameter.

    Examples:
        >>> t = update_rulebook("<!-- params: uptake -->\\n<!-- /params -->\\n")
        >>> t.splitlines()[3].startswith("| `uptake` |"), update_rulebook(t) == t
        (True, True)
    """

    def table(m: re.Match) -> str:
        names = [n.strip() for n in m["names"].split(",") if n.strip()]
        return f"<!-- params: {m['names']} -->\n{parameter_table(names, params)}<!-- /params -->"

    return _BLOCK_RE.sub(table, text)
