"""Policy parameters as effective-dated data (rulebook §9): the defaults in ``policy.yaml``
beside this module, each with the date it takes effect from, its unit, its limits and the clause
of the work plan it comes from; :func:`load_params` reads them with an optional override file
(YAML, ``--params FILE``) into :class:`Params`, which answers the value in force on a date, a
parameter's timeline, the 低保 standard of an area, a copy with overrides and where each value
was written. How an override combines with the defaults is rulebook §9.1–9.2; what it may not
hold is a :class:`~fpanalysis.core.errors.ParamError` naming the key (``docs/design.md``,
"Parameters").

Examples:
    >>> p = load_params()
    >>> p.at("reward_monthly_yuan", "2024-05-01")
    20
    >>> p2 = p.with_overrides({"reward_monthly_yuan": {"2025-07-01": 30}})
    >>> p2.at("reward_monthly_yuan", "2025-06-30"), p2.at("reward_monthly_yuan", "2025-07-01")
    (20, 30)
    >>> p.dibao_standard("urban", "2021-06-01")
    684
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from fpanalysis.core.config import POLICY_FILE
from fpanalysis.core.errors import ParamError

START_OF_TIME = dt.date(1900, 1, 1)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAY_RE = re.compile(r"^(\d{2})-(\d{2})$")
_BAND_RE = re.compile(r"^(\d{1,3})-(\d{1,3})$")


# --------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses repeated keys (two values for one date)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool | dt.date) and key is not None:
            # YAML allows "? [a, b]" as a key; a parameter name or date is never one
            raise ParamError(
                f"参数文件中的键必须是名称或日期，不能是 {type(key).__name__}",
                f"a key in a parameter file must be a name or a date, not a {type(key).__name__}",
                row=key_node.start_mark.line + 1,
                rule="param-key",
            )
        norm = key.isoformat() if isinstance(key, dt.date) else key
        if norm in seen:
            raise ParamError(
                f"参数文件中键重复：{norm}（同一日期或名称出现两次）",
                f"repeated key {norm} in a parameter file (the same date or name twice)",
                row=key_node.start_mark.line + 1,
                value=str(norm),
                rule="unique-keys",
            )
        seen[norm] = loader.construct_object(value_node, deep=deep)
    return seen


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ParamError(
            "找不到参数文件", "parameter file not found", file=str(path), rule="file-exists"
        ) from None
    except UnicodeDecodeError:
        raise ParamError(
            "参数文件不是 UTF-8 文本", "parameter file is not UTF-8 text", file=str(path)
        ) from None


def _key_lines(loader: _StrictLoader, node: Any, prefix: tuple, out: dict, seen: set) -> None:
    """Record the line (1-based) of every mapping key under ``node``, by its path of keys.

    A node reached again through a YAML alias is not walked twice (aliases of
    aliases would otherwise take exponential time).
    """
    if not isinstance(node, yaml.MappingNode) or id(node) in seen:
        return
    seen.add(id(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        path = (*prefix, key.isoformat() if isinstance(key, dt.date) else key)
        out[path] = key_node.start_mark.line + 1
        _key_lines(loader, value_node, path, out, seen)


#: How deep a parameter file may nest mappings and lists (rulebook §9: the deepest parameter,
#: a standard by area and date, is 3 levels); a file nested deeper is refused before it is built.
MAX_YAML_DEPTH = 32


def _check_depth(text: str, path: Path) -> None:
    """Refuse a YAML text nested deeper than :data:`MAX_YAML_DEPTH` (PyYAML builds it by recursion).

    The events are read one by one (the parser is not recursive), so a file
    nested 10,000 levels deep is refused without building anything.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError:
        return  # unreadable text: reported, with its line, by the parse that follows
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    mark = event.start_mark
                    raise ParamError(
                        f"参数文件嵌套超过 {MAX_YAML_DEPTH} 层：参数文件最多只需 3 层",
                        f"the parameter file nests more than {MAX_YAML_DEPTH} levels deep: a "
                        "parameter file needs 3 at most",
                        file=str(path),
                        row=mark.line + 1 if mark else None,
                        rule="yaml-depth",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # a syntax error: reported, with its line, by the parse that follows
    finally:
        if loader is not None:
            loader.dispose()


def _parse_yaml(path: Path, with_lines: bool) -> tuple[Any, dict[tuple, int]]:
    path = Path(path)
    text = _read_text(path)
    _check_depth(text, path)
    loader = None
    lines: dict[tuple, int] = {}
    try:
        loader = _StrictLoader(text)  # refuses control characters: a YAMLError like the others
        node = loader.get_single_node()
        doc = None if node is None else loader.construct_document(node)
        if with_lines and node is not None:
            _key_lines(loader, node, (), lines, set())
        return doc, lines
    except ParamError as exc:
        exc.file = str(path)
        raise
    except RecursionError:  # an alias web too deep for the builder: refused, never a traceback
        raise ParamError(
            "参数文件的结构太深，无法读取",
            "the parameter file is nested too deeply to be read",
            file=str(path),
            rule="yaml-depth",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in str(exc.problem):
            # !!python/object and friends: the safe loader builds plain data only
            raise ParamError(
                "参数文件不是有效的 YAML：不允许的标签（出于安全原因只读取普通数据）："
                f"{exc.problem}",
                f"parameter file is not valid YAML: a tag that is not allowed (only plain data "
                f"is read, for safety): {exc.problem}",
                file=str(path),
                row=mark.line + 1 if mark else None,
                rule="yaml-unsafe-tag",
            ) from None
        raise ParamError(
            f"参数文件不是有效的 YAML：{getattr(exc, 'problem', exc)}",
            f"parameter file is not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            row=mark.line + 1 if mark else None,
            rule="yaml-syntax",
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely, refusing repeated keys; errors name the file."""
    return _parse_yaml(path, with_lines=False)[0]


def read_yaml_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Read a YAML file like :func:`read_yaml`, and the line of every mapping key in it.

    Returns:
        ``(doc, lines)``: ``lines`` maps the path of keys to a key (dates as
        ``YYYY-MM-DD``) to its line in the file, counting from 1.

    Examples:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.yaml"
        >>> _ = p.write_text("reward_age_cap: 18\\nreward_monthly_yuan:\\n  2025-07-01: 30\\n")
        >>> doc, lines = read_yaml_lines(p)
        >>> doc["reward_monthly_yuan"], lines[("reward_monthly_yuan", "2025-07-01")]
        ({'2025-07-01': 30}, 3)
    """
    return _parse_yaml(path, with_lines=True)


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class ParamSpec:
    """What a parameter is: its type, unit, clause and bilingual description."""

    name: str
    type: str
    unit: str
    reference: str
    description_zh: str
    description_en: str
    options: Mapping[str, Any] = field(default_factory=dict)


def _err(name: str, zh: str, en: str, value: Any = None, rule: str = "param-type") -> ParamError:
    return ParamError(
        f"参数 {name}：{zh}", f"parameter {name}: {en}", column=name, value=value, rule=rule
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping):
        return MappingProxyType({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    return v


def _check_value(spec: ParamSpec, v: Any) -> Any:
    """Check one value against its spec; return it normalised (and frozen)."""
    n, o, t = spec.name, spec.options, spec.type
    if t in ("int", "number"):
        ok = _is_int(v) if t == "int" else _is_number(v)
        if not ok:
            kind = ("整数", "a whole number") if t == "int" else ("数字", "a number")
            raise _err(n, f"应为{kind[0]}", f"must be {kind[1]}", v)
        if "min" in o and v < o["min"] or "max" in o and v > o["max"]:
            raise _err(
                n,
                f"应在 {o.get('min')} 到 {o.get('max')} 之间",
                f"must be between {o.get('min')} and {o.get('max')}",
                v,
            )
        return v
    if t == "int_range":
        if not (isinstance(v, list | tuple) and len(v) == 2 and all(_is_int(x) for x in v)):
            raise _err(n, "应为两个整数 [下限, 上限]", "must be two whole numbers [low, high]", v)
        if not 0 <= v[0] <= v[1] <= 130:
            raise _err(n, "下限不得大于上限", "low must not exceed high (0-130)", v)
        return tuple(v)
    if t == "enum":
        if v not in o["choices"]:
            raise _err(n, f"应为 {o['choices']} 之一", f"must be one of {o['choices']}", v)
        return v
    if t == "month_day":
        m = _MONTH_DAY_RE.match(v) if isinstance(v, str) else None
        if not m:
            raise _err(n, '应为 "MM-DD" 格式', 'must be "MM-DD"', v)
        try:
            dt.date(2000, int(m.group(1)), int(m.group(2)))
        except ValueError:
            raise _err(n, "不是有效的月-日", "is not a valid month-day", v) from None
        return v
    if t in ("weights", "number_map"):
        if not isinstance(v, Mapping):
            raise _err(
                n, f"应为映射，键为 {o['keys']}", f"must be a mapping with keys {o['keys']}", v
            )
        keys = set(v)
        if keys != set(o["keys"]):
            unknown, missing = (
                sorted(map(str, keys - set(o["keys"]))),
                sorted(set(o["keys"]) - keys),
            )
            raise _err(
                n,
                f"键不符：未知 {unknown}，缺少 {missing}",
                f"keys do not match: unknown {unknown}, missing {missing}",
                v,
            )
        for k, x in v.items():
            integer = o.get("integer", False)
            if not (_is_int(x) if integer else _is_number(x)) or x < 0:
                kind = (
                    ("非负整数", "a whole number >= 0") if integer else ("非负数", "a number >= 0")
                )
                raise _err(f"{n}.{k}", f"应为{kind[0]}", f"must be {kind[1]}", x)
        if t == "weights" and abs(sum(v.values()) - 1.0) > 1e-9:
            raise _err(
                n,
                f"权重之和应为 1（现为 {sum(v.values()):g}）",
                f"weights must sum to 1 (they sum to {sum(v.values()):g})",
                v,
            )
        if n == "grade_thresholds" and v["excellent"] < v["pass"]:
            raise _err(n, "优秀分数线不得低于合格分数线", "excellent must not be below pass", v)
        return _freeze({k: v[k] for k in o["keys"]})
    if t == "increasing":
        if not (isinstance(v, list | tuple) and all(_is_number(x) for x in v)):
            raise _err(n, "应为数字列表", "must be a list of numbers", v)
        if "length" in o and len(v) != o["length"]:
            raise _err(n, f"应有 {o['length']} 个数", f"must have {o['length']} numbers", v)
        if any(x <= 0 for x in v) or any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise _err(n, "应为严格递增的正数", "must be positive and strictly increasing", v)
        return tuple(v)
    if t == "order":
        if not (isinstance(v, list | tuple) and v and all(isinstance(x, str) for x in v)):
            raise _err(n, "应为名称列表", "must be a list of names", v)
        bad = [x for x in v if x not in o["choices"]]
        if bad:
            raise _err(
                n,
                f"未知的排序键 {bad}，可选 {o['choices']}",
                f"unknown keys {bad}; choose from {o['choices']}",
                v,
            )
        if len(set(v)) != len(v):
            raise _err(n, "排序键重复", "a key appears twice", v)
        if v[-1] != o["last"]:
            raise _err(
                n,
                f"最后一个键应为 {o['last']}（保证排序唯一）",
                f"must end with {o['last']} so the order is total",
                v,
            )
        return tuple(v)
    if t == "age_band_rates":
        if not isinstance(v, Mapping) or not v:
            raise _err(n, "应为 年龄段 → 概率 的映射", "must be a mapping of age band -> rate", v)
        out = {}
        for k, x in v.items():
            m = _BAND_RE.match(str(k))
            if not m or int(m.group(1)) > int(m.group(2)):
                raise _err(
                    n, f'年龄段 {k!r} 应写作 "A-B"', f'age band {k!r} must be written "A-B"', k
                )
            if not _is_number(x) or not 0 <= x <= 1:
                raise _err(f"{n}.{k}", "概率应在 0 到 1 之间", "rate must be between 0 and 1", x)
            out[str(k)] = x
        bands = sorted((int(k.split("-")[0]), int(k.split("-")[1])) for k in out)
        if any(b[0] <= a[1] for a, b in zip(bands, bands[1:], strict=False)):
            raise _err(n, "年龄段重叠", "age bands overlap", v)
        return _freeze(out)
    raise AssertionError(f"unknown parameter type {t}")  # pragma: no cover - policy.yaml is ours


def _parse_date(name: str, key: Any) -> dt.date:
    d = None
    if isinstance(key, dt.datetime):
        d = key.date()
    elif isinstance(key, dt.date):
        d = key
    elif isinstance(key, str) and _DATE_RE.match(key):
        try:
            d = dt.date.fromisoformat(key)
        except ValueError:
            pass
    if d is not None and d < START_OF_TIME:
        # 1025-07-01 for 2025-07-01: before the start of time nothing is in force to replace
        raise _err(
            name,
            f"生效日期 {d.isoformat()} 早于起始日 {START_OF_TIME.isoformat()}（多为年份笔误）",
            f"effective date {d.isoformat()} is before the start of time "
            f"{START_OF_TIME.isoformat()} (a typo in the year?)",
            d.isoformat(),
            rule="param-date",
        )
    if d is not None:
        return d
    raise _err(
        name,
        f"生效日期 {key!r} 不是有效的 ISO 日期（YYYY-MM-DD）",
        f"effective date {key!r} is not a valid ISO date (YYYY-MM-DD)",
        str(key),
        rule="param-date",
    )


def _is_dated(v: Any) -> bool:
    """A mapping whose keys all look like dates is a timeline."""
    return (
        isinstance(v, Mapping)
        and bool(v)
        and all(isinstance(k, dt.date) or (isinstance(k, str) and _DATE_RE.match(k)) for k in v)
    )


def _timeline(
    spec: ParamSpec, raw: Any, name: str | None = None
) -> tuple[tuple[dt.date, Any], ...]:
    """Turn a plain value or a {date: value} mapping into a checked, sorted timeline."""
    name = name or spec.name
    if isinstance(raw, Mapping) and raw and not _is_dated(raw):
        if any(
            isinstance(k, dt.date) or (isinstance(k, str) and re.match(r"^\d{4}-", k)) for k in raw
        ):
            for k in raw:  # a half-dated mapping: name the key that is not a date
                _parse_date(name, k)
    if _is_dated(raw):
        items = sorted((_parse_date(name, k), v) for k, v in raw.items())
        return tuple((d, _check_value(spec, v)) for d, v in items)
    return ((START_OF_TIME, _check_value(spec, raw)),)


def _merge(default: tuple, override: tuple) -> tuple:
    first = override[0][0]
    return tuple([e for e in default if e[0] < first] + list(override))


@dataclass(frozen=True)
class ValueSource:
    """Where a value in force was written: a file and line, and whether it is a default.

    ``file`` is the parameter file (``policy.yaml`` for a default), or a label
    such as ``scenario NAME`` for overrides given as a mapping; ``line``
    counts from 1 and is ``None`` when the value was not read from a file.
    """

    file: str | None
    line: int | None
    default: bool = False


def _entry_lines(name: str, raw: Any, lines: Mapping[tuple, int], prefix: tuple) -> dict:
    """The line of each effective date of a raw value: ``{date: line or None}``."""
    if _is_dated(raw):
        return {
            _parse_date(name, k): lines.get(
                (*prefix, k.isoformat() if isinstance(k, dt.date) else k)
            )
            for k in raw
        }
    return {START_OF_TIME: lines.get(prefix)}


# --------------------------------------------------------------------------- Params


def to_date(d: Any) -> dt.date:
    """A date from a date, datetime, pandas Timestamp or ``YYYY-MM-DD`` text."""
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    if hasattr(d, "to_pydatetime"):  # pandas Timestamp
        return d.to_pydatetime().date()
    if isinstance(d, str):
        return dt.date.fromisoformat(d[:10])
    raise TypeError(f"not a date: {d!r}")


@dataclass(frozen=True)
class Params:
    """The parameters in force: a frozen mapping from name to timeline.

    Use :meth:`at` for the value on a date, :meth:`timeline` for all of a
    parameter's values, :meth:`with_overrides` for a scenario.
    """

    specs: Mapping[str, ParamSpec]
    timelines: Mapping[str, Any]
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    override_file: str | None = None
    # (name, area or None, effective_from) -> ValueSource; not part of the values (nor the hash)
    sources: Mapping[tuple, ValueSource] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    @property
    def names(self) -> list[str]:
        """Every parameter name, in the order of ``policy.yaml``."""
        return list(self.specs)

    def spec(self, name: str) -> ParamSpec:
        """What ``name`` is (type, unit, reference, descriptions); an unknown name is an error."""
        return self._spec(name)

    def _spec(self, name: str) -> ParamSpec:
        if name not in self.specs:
            raise ParamError(
                f"未知参数 {name}", f"unknown parameter {name}", column=name, rule="param-name"
            )
        return self.specs[name]

    def timeline(self, name: str, area: str | None = None) -> list[tuple[dt.date, Any]]:
        """Return ``[(effective_from, value), ...]`` sorted by date.

        ``dibao_standard_yuan`` needs ``area`` (``urban`` or ``rural``).
        """
        spec = self._spec(name)
        tl = self.timelines[name]
        if spec.type == "by_area":
            if area not in tl:
                raise ParamError(
                    f"参数 {name} 没有地区 {area!r}",
                    f"parameter {name} has no area {area!r}",
                    column=name,
                )
            tl = tl[area]
        return list(tl)

    def at(self, name: str, date: Any, area: str | None = None) -> Any:
        """Return the value of ``name`` in force on ``date`` (inclusive of its first day)."""
        d = to_date(date)
        value = None
        for start, v in self.timeline(name, area):
            if start <= d:
                value = v
            else:
                break
        if value is None:
            raise ParamError(
                f"参数 {name} 在 {d} 没有生效的值",
                f"parameter {name} has no value in force on {d}",
                column=name,
            )
        return value

    def at_many(self, name: str, dates: Any, area: str | None = None) -> list[Any]:
        """The value in force on each of ``dates`` (a Series or array of datetimes), vectorised.

        Returns a list aligned with ``dates``; a missing date gives ``None``.

        Examples:
            >>> import pandas as pd
            >>> p = default_params().with_overrides({"reward_monthly_yuan": {"2025-07-01": 30}})
            >>> p.at_many("reward_monthly_yuan", pd.to_datetime(["2025-06-30", "2025-07-01", None]))
            [20, 30, None]
        """
        import numpy as np
        import pandas as pd

        tl = self.timeline(name, area)
        starts = np.array([np.datetime64(d, "D") for d, _ in tl])
        values = [v for _, v in tl]
        d = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")
        missing = np.isnat(d)
        idx = np.searchsorted(starts, np.where(missing, starts[0], d), side="right") - 1
        return [
            None if m or i < 0 else values[i]
            for i, m in zip(idx.tolist(), missing.tolist(), strict=True)
        ]

    def dibao_standard(self, area: str, date: Any) -> Any:
        """The 低保 standard (yuan per person per month) for ``area`` on ``date``."""
        return self.at("dibao_standard_yuan", date, area=area)

    def change_dates(self, name: str, area: str | None = None) -> list[dt.date]:
        """The dates on which ``name`` takes a new value (the first is the start of time)."""
        return [d for d, _ in self.timeline(name, area)]

    def source(self, name: str, date: Any, area: str | None = None) -> ValueSource | None:
        """Where the value of ``name`` in force on ``date`` was written (file and line).

        Examples:
            >>> p = default_params().with_overrides({"reward_age_cap": 18}, source="scenario A")
            >>> p.source("reward_age_cap", "2025-01-01")
            ValueSource(file='scenario A', line=None, default=False)
            >>> s = p.source("reward_monthly_yuan", "2025-01-01")
            >>> s.default, Path(s.file).name, s.line > 0
            (True, 'policy.yaml', True)
        """
        d = to_date(date)
        start = None
        for s, _ in self.timeline(name, area):
            if s <= d:
                start = s
        return None if start is None else self.sources.get((name, area, start))

    def with_overrides(
        self,
        overrides: Mapping[str, Any],
        source: str | None = None,
        lines: Mapping[tuple, int] | None = None,
    ) -> Params:
        """Return new parameters with ``overrides`` applied (the form of an override file).

        Args:
            overrides: ``{name: value or {date: value}}``.
            source: the override file (or a label), named in errors and in :meth:`source`.
            lines: the line of each key in the file (:func:`read_yaml_lines`), for :meth:`source`.
        """
        if overrides is None:
            return self
        if not isinstance(overrides, Mapping):
            raise ParamError(
                "参数覆盖文件应为 名称: 值 的映射",
                "a parameter override file must be a mapping of name: value",
                file=source,
                rule="param-file",
            )
        timelines = dict(self.timelines)
        sources = dict(self.sources)
        lines = lines or {}
        for name, raw in overrides.items():
            spec = self.specs.get(name)
            if spec is None:
                raise ParamError(
                    f"未知参数 {name}（可用：{', '.join(self.specs)}）",
                    f"unknown parameter {name} (known: {', '.join(self.specs)})",
                    file=source,
                    column=str(name),
                    rule="param-name",
                )
            try:
                if spec.type == "by_area":
                    timelines[name] = self._override_by_area(spec, timelines[name], raw)
                    written = {
                        a: _entry_lines(f"{name}.{a}", tl, lines, (name, a))
                        for a, tl in raw.items()
                    }
                else:
                    timelines[name] = _merge(timelines[name], _timeline(spec, raw))
                    written = {None: _entry_lines(name, raw, lines, (name,))}
            except ParamError as exc:
                exc.file = exc.file or source
                raise
            for area, dated in written.items():
                tl = timelines[name] if area is None else timelines[name][area]
                for start, _ in tl:
                    if start in dated:
                        sources[(name, area, start)] = ValueSource(source, dated[start])
        merged = {**dict(self.overrides), **{k: overrides[k] for k in overrides}}
        return Params(
            specs=self.specs,
            timelines=MappingProxyType(timelines),
            overrides=MappingProxyType(merged),
            override_file=source or self.override_file,
            sources=MappingProxyType(sources),
        )

    @staticmethod
    def _override_by_area(spec: ParamSpec, current: Mapping, raw: Any) -> Mapping:
        areas = spec.options["keys"]
        if not isinstance(raw, Mapping) or not raw:
            raise _err(
                spec.name,
                f"应为 地区 → {{日期: 金额}} 的映射，地区为 {areas}",
                f"must map area -> {{date: amount}}, areas {areas}",
                raw,
            )
        out = dict(current)
        number = ParamSpec(spec.name, "number", spec.unit, "", "", "", {"min": 1, "max": 1_000_000})
        for area, tl in raw.items():
            if area not in areas:
                raise _err(
                    spec.name,
                    f"未知地区 {area!r}，可选 {areas}",
                    f"unknown area {area!r}; choose from {areas}",
                    area,
                )
            out[area] = _merge(current[area], _timeline(number, tl, f"{spec.name}.{area}"))
        return MappingProxyType(out)

    def as_dict(self) -> dict[str, Any]:
        """Every parameter's timeline as plain JSON-able data (for provenance)."""

        def plain(v: Any) -> Any:
            if isinstance(v, Mapping):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, tuple | list):
                if v and all(
                    isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], dt.date) for e in v
                ):
                    return {e[0].isoformat(): plain(e[1]) for e in v}
                return [plain(x) for x in v]
            return v

        return {name: plain(self.timelines[name]) for name in self.specs}

    @property
    def sha256(self) -> str:
        """A hash of every value in force: equal hashes, equal parameters."""
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _load_defaults(path: Path = POLICY_FILE) -> Params:
    doc, lines = read_yaml_lines(path)
    specs: dict[str, ParamSpec] = {}
    timelines: dict[str, Any] = {}
    sources: dict[tuple, ValueSource] = {}
    meta = {"type", "unit", "reference", "description_zh", "description_en", "values"}
    for name, entry in doc.items():
        options = {k: v for k, v in entry.items() if k not in meta}
        spec = ParamSpec(
            name=name,
            type=entry["type"],
            unit=entry["unit"],
            reference=entry["reference"],
            description_zh=entry["description_zh"],
            description_en=entry["description_en"],
            options=MappingProxyType(options),
        )
        specs[name] = spec
        if spec.type == "by_area":
            number = ParamSpec(name, "number", spec.unit, "", "", "", {"min": 1, "max": 1_000_000})
            timelines[name] = MappingProxyType(
                {a: _timeline(number, entry["values"][a], f"{name}.{a}") for a in options["keys"]}
            )
            raw = {a: (entry["values"][a], (name, "values", a)) for a in options["keys"]}
        else:
            timelines[name] = _timeline(spec, entry["values"])
            raw = {None: (entry["values"], (name, "values"))}
        for area, (value, prefix) in raw.items():
            for start, line in _entry_lines(name, value, lines, prefix).items():
                sources[(name, area, start)] = ValueSource(str(path), line, default=True)
    return Params(
        specs=MappingProxyType(specs),
        timelines=MappingProxyType(timelines),
        sources=MappingProxyType(sources),
    )


_DEFAULTS: Params | None = None


def default_params() -> Params:
    """The package's defaults (``policy.yaml``), read once."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = _load_defaults()
    return _DEFAULTS


def load_params(override: str | Path | Mapping[str, Any] | None = None) -> Params:
    """Return the parameters in force: the defaults, with an override file or mapping applied.

    Args:
        override: ``None``, a path to a YAML override file, or a mapping of the same form.

    Raises:
        ParamError: unknown names, wrong types, malformed or repeated dates.
    """
    params = default_params()
    if override is None:
        return params
    if isinstance(override, Mapping):
        return params.with_overrides(override)
    return with_override_file(params, override)


def with_override_file(params: Params, path: str | Path) -> Params:
    """``params`` with the override file at ``path`` applied, remembering each value's line.

    Raises:
        ParamError: as :func:`load_params`.
    """
    doc, lines = read_yaml_lines(Path(path))
    if doc is None:
        return params
    return params.with_overrides(doc, source=str(path), lines=lines)


def describe(
    params: Params, names: Iterable[str] | None = None, lang: str = "zh"
) -> list[dict[str, Any]]:
    """One row per parameter and effective date: name, from, value, unit, clause, description."""
    rows = []
    for name in names or params.names:
        spec = params.specs[name]
        areas = spec.options.get("keys") if spec.type == "by_area" else [None]
        for area in areas:
            for start, value in params.timeline(name, area):
                rows.append(
                    {
                        "name": name if area is None else f"{name}.{area}",
                        "effective_from": start.isoformat(),
                        "value": json.dumps(_plain(value), ensure_ascii=False),
                        "unit": spec.unit,
                        "reference": spec.reference,
                        "description": spec.description_zh if lang == "zh" else spec.description_en,
                        "overridden": name in params.overrides,
                    }
                )
    return rows


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v
