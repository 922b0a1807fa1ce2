"""The notebooks' parameters, declared once with their types (:data:`NOTEBOOKS`), and the checks
a report makes before anything runs: an undeclared name, a value of the wrong type or outside
its choices is a :class:`~fpanalysis.core.errors.ParamError`; command-line text is converted
to the declared type and relative paths are made absolute (a ``://`` URL is not a path)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from fpanalysis.core.errors import FPError, ParamError


class NotebookParam(NamedTuple):
    """One declared notebook parameter.

    ``type`` is a Python type or a tuple of them (``type(None)`` for "may be
    None"); ``choices`` limits a text value; ``path`` marks a file name that
    is resolved to an absolute path before the notebook runs.
    """

    type: type | tuple[type, ...]
    default: Any
    help_zh: str
    help_en: str
    choices: tuple[str, ...] = ()
    path: bool = False


NoneType = type(None)

_DATASET = NotebookParam(
    str,
    "",
    "数据集：CSV/Parquet 文件夹或 .xlsx 工作簿；空 = 自带样例数据",
    "dataset folder or .xlsx workbook; empty = the bundled sample",
    path=True,
)
_LANG = NotebookParam(
    str, "zh", "表头和标签的语言", "language of headers and labels", choices=("zh", "en")
)
_REGISTER = NotebookParam(
    str,
    "",
    "登记簿：SQLite 文件或 postgresql:// 地址；空 = 不读登记簿",
    "the decision register: an SQLite file or a postgresql:// URL; empty = none",
    path=True,
)
_REVEAL = NotebookParam(
    bool,
    False,
    "显示完整姓名和身份证号（默认脱敏，rulebook §7；即 --reveal-pii）",
    "show full names and ID numbers (masked by default, rulebook §7; what --reveal-pii sets)",
)
_TABLES_DIR = NotebookParam(
    str,
    "",
    "完整表格（CSV）写到的文件夹，相对于笔记本所在文件夹；空 = 不写（报告中为 tables）",
    "folder, relative to the notebook's, where the full tables are written as CSV; "
    "empty = none (a report writes them to tables)",
)
_PARAMS_FILE = NotebookParam(
    str,
    "",
    "参数覆盖文件（YAML）；空 = 默认参数",
    "parameter override file (YAML); empty = defaults",
    path=True,
)

#: notebook file stem -> {parameter name: NotebookParam}, in the parameters cell's order.
NOTEBOOKS: dict[str, dict[str, NotebookParam]] = {
    "01_unit_compliance": {
        "dataset": _DATASET,
        "period": NotebookParam(
            str,
            "",
            "考核期：2024、2024H1 或 2024H2；空 = 最近一个完整年度",
            "period: 2024, 2024H1 or 2024H2; empty = the latest complete year",
        ),
        "weights_file": _PARAMS_FILE._replace(
            help_zh="参数覆盖文件（YAML，含考核权重）；空 = 默认参数",
            help_en="parameter override file (YAML, e.g. the indicator weights); empty = defaults",
        ),
        "lang": _LANG,
        "unit": NotebookParam(
            str, "", "单位编号（如 U07）；空 = 全局", "unit id (e.g. U07); empty = the whole bureau"
        ),
        "reveal_pii": _REVEAL,
        "register": _REGISTER,
        "tables_dir": _TABLES_DIR,
    },
    "02_bonus_budget": {
        "dataset": _DATASET,
        "start": NotebookParam(
            str,
            "",
            "起始月份 YYYY-MM；空 = 数据最后记录日期的下一个月",
            "first month YYYY-MM; empty = the month after the data's last recorded date",
        ),
        "months": NotebookParam(int, 36, "预测月数", "horizon in months"),
        "scenario_file": NotebookParam(
            str,
            "",
            "情景文件（YAML）；空 = 示例情景",
            "scenario file (YAML); empty = example scenarios",
            path=True,
        ),
        "params_file": _PARAMS_FILE,
        "draws": NotebookParam(int, 1000, "蒙特卡洛模拟次数", "Monte Carlo draws"),
        "seed": NotebookParam(int, 0, "随机数种子", "random seed"),
        "lang": _LANG,
        "reveal_pii": _REVEAL,
        "tables_dir": _TABLES_DIR,
    },
    "03_relief_ranking": {
        "dataset": _DATASET,
        "as_of": NotebookParam(
            str,
            "",
            "基准日 YYYY-MM-DD；空 = 数据最后记录日期",
            "as-of date YYYY-MM-DD; empty = the data's last recorded date",
        ),
        "quota": NotebookParam(
            (int, dict, NoneType),
            None,
            "名额（户）；None = 不限；分池时 urban=N,rural=M",
            "quota (households); None = no limit; urban=N,rural=M with pool=separate",
        ),
        "budget_yuan": NotebookParam(
            (int, float, dict, NoneType),
            None,
            "每月预算（元）；None = 不限；分池时 urban=Y,rural=Z",
            "monthly budget (yuan); None = no limit; urban=Y,rural=Z with pool=separate",
        ),
        "pool": NotebookParam(
            str,
            "all",
            "资金池：all、urban、rural 或 separate",
            "pool: all, urban, rural or separate",
            choices=("all", "urban", "rural", "separate"),
        ),
        "params_file": _PARAMS_FILE,
        "previous": NotebookParam(
            str,
            "",
            "上期数据集；空 = 与目前在保户比较",
            "previous period's dataset; empty = compare with those receiving now",
            path=True,
        ),
        "meeting_xlsx": NotebookParam(
            str,
            "",
            "评议会名单 .xlsx 的输出文件；空 = 不写",
            "meeting list .xlsx to write; empty = none",
            path=True,
        ),
        "lang": _LANG,
        "reveal_pii": _REVEAL,
        "register": _REGISTER,
        "tables_dir": _TABLES_DIR,
    },
}

#: the notebooks' full tables go to this folder of a report (the ``tables_dir`` parameter).
REPORT_TABLES_DIR = "tables"

#: the parameter through which each notebook takes the ``--params`` override file.
PARAMS_FILE_PARAMETER: dict[str, str] = {
    "01_unit_compliance": "weights_file",
    "02_bonus_budget": "params_file",
    "03_relief_ranking": "params_file",
}

#: a notebook declaring this parameter is run once more per unit of the dataset.
UNIT_PARAMETER = "unit"


def _type_names(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "true/false",
        dict: "urban=..,rural=..",
        NoneType: "None",
    }
    return " | ".join(names.get(x, x.__name__) for x in ts)


def declared(notebook: str) -> dict[str, NotebookParam]:
    """The declared parameters of ``notebook`` (a file stem or a path).

    Raises:
        ParamError: the notebook is not declared here.

    Examples:
        >>> list(declared("02_bonus_budget.ipynb"))[:3]
        ['dataset', 'start', 'months']
    """
    stem = Path(notebook).stem if str(notebook).endswith(".ipynb") else str(notebook)
    try:
        return NOTEBOOKS[stem]
    except KeyError:
        raise ParamError(
            f"笔记本 {stem} 没有在 fpanalysis/report/notebook_params.py 中声明参数；"
            f"已声明：{', '.join(NOTEBOOKS)}",
            f"notebook {stem} has no parameter declaration in "
            "fpanalysis/report/notebook_params.py; "
            f"declared: {', '.join(NOTEBOOKS)}",
            file=stem,
            rule="notebook-declared",
        ) from None


def defaults(notebook: str) -> dict[str, Any]:
    """The default value of every parameter of ``notebook``.

    Examples:
        >>> defaults("03_relief_ranking")["pool"]
        'all'
    """
    return {name: p.default for name, p in declared(notebook).items()}


def _from_text(text: str, p: NotebookParam, name: str, notebook: str) -> Any:
    """Convert a command-line value to the declared type (the first type that fits)."""
    ts = p.type if isinstance(p.type, tuple) else (p.type,)
    s = text.strip()
    if NoneType in ts and s.lower() in ("none", "null"):
        return None
    for t in ts:
        if t is int:
            try:
                return int(s.replace("_", ""))
            except ValueError:
                continue
        if t is float:
            try:
                v = float(s)
            except ValueError:
                continue
            if math.isfinite(v):
                return v
        if t is bool and s.lower() in ("true", "false", "yes", "no", "1", "0"):
            return s.lower() in ("true", "yes", "1")
        if t is dict and "=" in s:
            out = {}
            for part in s.split(","):
                k, _, v = part.partition("=")
                out[k.strip()] = _from_text(
                    v, p._replace(type=tuple(x for x in ts if x in (int, float))), name, notebook
                )
            return out
        if t is str:
            return text
    raise _bad_type(notebook, name, p, text)


def _bad_type(notebook: str, name: str, p: NotebookParam, value: Any) -> ParamError:
    return ParamError(
        f"笔记本 {notebook} 的参数 {name} 应为 {_type_names(p.type)}（{p.help_zh}）",
        f"notebook {notebook}: parameter {name} must be {_type_names(p.type)} ({p.help_en})",
        file=notebook,
        column=name,
        value=value,
        rule="notebook-parameter-type",
    )


def _check_one(notebook: str, name: str, p: NotebookParam, value: Any) -> Any:
    ts = p.type if isinstance(p.type, tuple) else (p.type,)
    if isinstance(value, os.PathLike) and str in ts:
        value = os.fspath(value)
    if isinstance(value, str) and str not in ts:
        return _check_one(notebook, name, p, _from_text(value, p, name, notebook))
    if isinstance(value, float) and int in ts and float not in ts and value.is_integer():
        value = int(value)
    # bool is an int subclass in Python: True is not a quota.
    ok = any(
        (isinstance(value, t) and not (t in (int, float) and isinstance(value, bool)))
        or (t is float and isinstance(value, int) and not isinstance(value, bool))
        for t in ts
    )
    if not ok:
        raise _bad_type(notebook, name, p, value)
    if isinstance(value, dict):
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()):
            raise _bad_type(notebook, name, p, value)
    if p.choices and value not in p.choices:
        raise ParamError(
            f"笔记本 {notebook} 的参数 {name} 只能是 {'、'.join(p.choices)}",
            f"notebook {notebook}: parameter {name} must be one of {', '.join(p.choices)}",
            file=notebook,
            column=name,
            value=value,
            rule="notebook-parameter-choice",
        )
    return value


def check_parameters(
    notebook: str, values: Mapping[str, Any], *, base: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Check ``values`` against the declaration of ``notebook`` and return them typed.

    Text values (from the command line) are converted to the declared type;
    relative paths are made absolute against ``base`` (default: the working
    directory); an empty path stays empty (= the notebook's default).

    Raises:
        ParamError: an unknown parameter, a value of the wrong type, or a value
            outside the allowed choices.

    Examples:
        >>> check_parameters("02_bonus_budget", {"months": "24", "lang": "en"})
        {'months': 24, 'lang': 'en'}
        >>> check_parameters("02_bonus_budget", {"draw": 10})  # doctest: +NORMALIZE_WHITESPACE
        Traceback (most recent call last):
        ...
        fpanalysis.core.errors.ParamError: 笔记本 02_bonus_budget 没有参数 draw；可用参数：dataset,
        start, months, scenario_file, params_file, draws, seed, lang, reveal_pii, tables_dir
        [文件 02_bonus_budget，列 draw，规则 notebook-parameter-unknown] / notebook 02_bonus_budget
        has no parameter draw; known: dataset, start, months, scenario_file, params_file, draws,
        seed, lang, reveal_pii, tables_dir [file 02_bonus_budget, column draw,
        rule notebook-parameter-unknown]
    """
    decl = declared(notebook)
    stem = Path(notebook).stem if str(notebook).endswith(".ipynb") else str(notebook)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in decl:
            known = ", ".join(decl)
            raise ParamError(
                f"笔记本 {stem} 没有参数 {name}；可用参数：{known}",
                f"notebook {stem} has no parameter {name}; known: {known}",
                file=stem,
                column=name,
                rule="notebook-parameter-unknown",
            )
        p = decl[name]
        v = _check_one(stem, name, p, value)
        if p.path and v and "://" not in str(v):  # a URL (the register's postgresql://) is no path
            v = str((Path(base or Path.cwd()) / Path(v).expanduser()).resolve())
        out[name] = v
    return out


def notebooks_named(
    name: str, stems: list[str], *, error: type[FPError] = ParamError, value: Any = None
) -> list[str]:
    """The notebooks ``name`` designates among ``stems``: the stem itself or its number prefix.

    Raises:
        ParamError: (or ``error``) no notebook has that name; ``value`` is what the user wrote
            (default: ``name``).

    Examples:
        >>> notebooks_named("02", ["01_unit_compliance", "02_bonus_budget"])
        ['02_bonus_budget']
    """
    hit = [s for s in stems if s == name or s.split("_", 1)[0] == name]
    if not hit:
        raise error(
            f"没有笔记本 {name}；可选：{', '.join(stems)}",
            f"no notebook {name}; choose from {', '.join(stems)}",
            value=name if value is None else value,
            rule="notebook-unknown",
        )
    return hit


def parse_assignments(items: Iterable[str], notebooks: Iterable[str]) -> dict[str, dict[str, str]]:
    """Read ``-p [NOTEBOOK:]NAME=VALUE`` options into {notebook stem: {name: text}}.

    Without ``NOTEBOOK:`` a value goes to every notebook that declares NAME;
    ``NOTEBOOK`` may be the stem or its number prefix (``02``).

    Raises:
        ParamError: no ``=``, an unknown notebook, or a name no notebook declares.

    Examples:
        >>> stems = ["01_unit_compliance", "02_bonus_budget"]
        >>> parse_assignments(["draws=200", "01:period=2024H1"], stems)
        {'01_unit_compliance': {'period': '2024H1'}, '02_bonus_budget': {'draws': '200'}}
    """
    stems = list(notebooks)
    out: dict[str, dict[str, str]] = {s: {} for s in stems}
    for item in items:
        target, sep, value = item.partition("=")
        if not sep or not target.strip():
            raise ParamError(
                f"参数 {item!r} 应写成 NAME=VALUE 或 NOTEBOOK:NAME=VALUE",
                f"parameter {item!r} must be NAME=VALUE or NOTEBOOK:NAME=VALUE",
                value=item,
                rule="notebook-parameter-syntax",
            )
        nb, colon, name = target.strip().rpartition(":")
        name = name.strip()
        if colon:
            chosen = notebooks_named(nb, stems, value=item)
            for s in chosen:
                if name not in declared(s):
                    check_parameters(s, {name: value})  # raises the unknown-parameter error
        else:
            chosen = [s for s in stems if name in declared(s)]
            if not chosen:
                raise ParamError(
                    f"没有笔记本声明参数 {name}",
                    f"no notebook declares a parameter {name}",
                    column=name,
                    value=item,
                    rule="notebook-parameter-unknown",
                )
        for s in chosen:
            out[s][name] = value
    return {s: v for s, v in out.items() if v}
