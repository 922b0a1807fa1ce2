"""``fpanalysis params``: parameters in force, what an override file changes, the rulebook's tables.

Three uses, one at a time:

- ``fpanalysis params [--date D] [--params FILE]``: every parameter in force on
  a date with its value, unit and the file and line it comes from;
- ``fpanalysis params [--params BASE] --diff FILE``: what ``FILE`` changes,
  parameter by parameter and date by date (rulebook §9);
- ``fpanalysis params --rulebook docs/rules.md [--check]``: regenerate the
  parameter tables of the rulebook from ``policy.yaml`` (``--check``: only say
  whether they are up to date; exit 1 when not).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fpanalysis.cli.common import add_lang, add_out, add_params, option_help
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.errors import FPError, UsageError
from fpanalysis.core.param_tables import (
    format_value,
    in_force,
    latest_effective_date,
    param_changes,
    rulebook_blocks,
    update_rulebook,
)
from fpanalysis.core.params import (
    START_OF_TIME,
    Params,
    ValueSource,
    load_params,
    with_override_file,
)

HELP = (
    "政策参数：生效值、覆盖文件的改动、规则手册参数表 / "
    "policy parameters: in force, changes, rulebook tables"
)
DESCRIPTION = """\
列出某日生效的全部政策参数（值、单位、出自哪个文件第几行）；--diff 列出覆盖文件改变了什么；
--rulebook 按 policy.yaml 重新生成规则手册（docs/rules.md）中的参数表。
List every policy parameter in force on a date (value, unit, and the file and line it
comes from); --diff shows what an override file changes; --rulebook regenerates the
parameter tables of the rulebook (docs/rules.md) from policy.yaml.

--date 默认取参数文件中最晚的生效日期（即按文件"现在"生效的值），从不取今天的日期 /
--date defaults to the latest effective-from date in the parameter files (what is in
force "now" according to the files), never to today's date.

退出码 / exit codes: 0 成功 ok; 1 参数文件有误，或 --check 发现参数表已过时 bad parameters,
or --check found a stale table; 2 命令用法有误 bad command line.
"""


OPTIONS = option_help(
    """
    --date
        列出此日生效的参数（默认：参数文件中最晚的生效日期） /
        list the parameters in force on this day (default: the latest effective-from date in the
        parameter files)
    --diff
        列出覆盖文件 FILE 相对默认值（或 --params）改变的参数 /
        show what override file FILE changes against the defaults (or --params)
    --rulebook
        重新生成规则手册 FILE 中的参数表（就地改写） /
        regenerate the parameter tables of the rulebook FILE in place
    --check
        与 --rulebook 同用：只检查参数表是否最新，不改写 /
        with --rulebook: only check that the tables are up to date, write nothing
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", metavar="YYYY-MM-DD", help=OPTIONS["--date"])
    add_params(parser)
    parser.add_argument("--diff", type=Path, metavar="FILE", help=OPTIONS["--diff"])
    parser.add_argument("--rulebook", type=Path, metavar="FILE", help=OPTIONS["--rulebook"])
    parser.add_argument("--check", action="store_true", help=OPTIONS["--check"])
    add_lang(parser)
    add_out(parser, required=False)


def _check_options(args: argparse.Namespace) -> None:
    if args.check and args.rulebook is None:
        raise UsageError(
            "--check 只能与 --rulebook 一起使用",
            "--check can only be used with --rulebook",
            rule="params-options",
        )
    if args.rulebook is not None:
        given = [
            opt
            for opt, v in (
                ("--date", args.date),
                ("--params", args.params),
                ("--diff", args.diff),
                ("--out", args.out),
            )
            if v is not None
        ]
        if given:
            raise UsageError(
                f"--rulebook 不能与 {'、'.join(given)} 一起使用（参数表总是按默认值生成）",
                f"--rulebook does not go with {', '.join(given)} (the tables always show the "
                "defaults)",
                value=given[0],
                rule="params-options",
            )
    if args.diff is not None and args.date is not None:
        raise UsageError(
            "--diff 不能与 --date 一起使用（改动按日期逐一列出）",
            "--diff does not go with --date (changes are listed date by date)",
            rule="params-options",
        )


def _from(d, lang: str) -> str:
    if d == START_OF_TIME:
        return (
            f"自 {d.isoformat()}（起始日）起"
            if lang == "zh"
            else f"from {d.isoformat()} (the start)"
        )
    return f"自 {d.isoformat()} 起" if lang == "zh" else f"from {d.isoformat()}"


def source_text(source: ValueSource | None, lang: str) -> str:
    """``default (policy.yaml line N)`` or ``FILE line N``, in ``lang``.

    Examples:
        >>> source_text(ValueSource("/x/policy.yaml", 131, default=True), "en")
        'default (policy.yaml line 131)'
        >>> source_text(ValueSource("rise.yaml", 2), "zh")
        'rise.yaml 第 2 行'
    """
    if source is None or source.file is None:
        return "覆盖" if lang == "zh" else "override"
    if source.default:
        where = Path(source.file).name
        if source.line is None:
            return f"默认（{where}）" if lang == "zh" else f"default ({where})"
        return (
            f"默认（{where} 第 {source.line} 行）"
            if lang == "zh"
            else f"default ({where} line {source.line})"
        )
    if source.line is None:
        return source.file
    return (
        f"{source.file} 第 {source.line} 行"
        if lang == "zh"
        else f"{source.file} line {source.line}"
    )


def listing(params: Params, date, lang: str, defaulted: bool) -> tuple[list[str], list[dict]]:
    """The lines ``fpanalysis params`` prints, and the rows it writes with ``--out``."""
    rows = in_force(params, date)
    d = date.isoformat()
    if lang == "zh":
        head = (
            f"{d} 生效的参数" + ("（默认取参数文件中最晚的生效日期）" if defaulted else "") + "："
        )
    else:
        head = f"Parameters in force on {d}" + (
            " (the latest effective date in the parameter files):" if defaulted else ":"
        )
    lines, table = [head], []
    for r in rows:
        value = format_value(r["value"])
        since = "" if r["effective_from"] == START_OF_TIME else r["effective_from"].isoformat()
        src = source_text(r["source"], lang)
        if lang == "zh":
            when = f"，自 {since} 起" if since else ""
            lines.append(f"{r['parameter']}：{value}（{r['unit']}）{when} —— {src}")
        else:
            when = f", from {since}" if since else ""
            lines.append(f"{r['parameter']}: {value} ({r['unit']}){when} — {src}")
        table.append(
            {
                "parameter": r["parameter"],
                "value": value,
                "unit": r["unit"],
                "effective_from": r["effective_from"].isoformat(),
                "source": src,
            }
        )
    return lines, table


def changes(before: Params, after: Params, label: str, lang: str) -> tuple[list[str], list[dict]]:
    """The lines ``fpanalysis params --diff`` prints, and the rows it writes with ``--out``."""
    rows = param_changes(before, after)
    head = (
        f"{label} 改变的参数（之前 → 之后）："
        if lang == "zh"
        else f"Changes made by {label} (before → after):"
    )
    lines, table = [head], []
    for r in rows:
        old, new, unit = format_value(r["old"]), format_value(r["new"]), r["unit"]
        when = _from(r["effective_from"], lang)
        if r["old"] == r["new"]:
            lines.append(
                f"{r['parameter']}：{when}与之前相同：{new}（{unit}）"
                if lang == "zh"
                else f"{r['parameter']}: the same as before {when} on: {new} ({unit})"
            )
        else:
            lines.append(
                f"{r['parameter']}：{old} → {new}（{unit}），{when}"
                if lang == "zh"
                else f"{r['parameter']}: {old} → {new} ({unit}), {when}"
            )
        table.append(
            {
                "parameter": r["parameter"],
                "effective_from": r["effective_from"].isoformat(),
                "old": old,
                "new": new,
                "unit": unit,
            }
        )
    if not rows:
        lines.append("无变化" if lang == "zh" else "no change")
    return lines, table


#: The headers of the table ``--out`` writes: column -> (Chinese, English).
HEADERS = {
    "parameter": ("参数", "parameter"),
    "value": ("值", "value"),
    "unit": ("单位", "unit"),
    "effective_from": ("生效日期", "effective_from"),
    "source": ("来源", "source"),
    "old": ("原值", "old"),
    "new": ("新值", "new"),
}


def _write(rows: list[dict], columns: list[str], path: Path, lang: str, when: str) -> None:
    """The rows to ``path``: a ``.csv`` or ``.parquet`` as a table (headers in ``lang``), an
    ``.xlsx`` as a formatted workbook with a title saying ``when`` (the date in force, or the
    parameter file compared)."""
    import pandas as pd

    from fpanalysis.io import write_table

    df = pd.DataFrame(rows, columns=columns, dtype="str")
    if path.suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import Book, write_table_workbook

        kind = "parameter_changes" if "old" in columns else "parameters"
        write_table_workbook(df, path, Book(kind, when=when), lang=lang, headers=HEADERS)
        return
    if lang == "zh":
        df.columns = [HEADERS[c][0] for c in columns]
    write_table(df, path, lang="en", table="parameters")


def _rulebook(path: Path, check: bool, lang: str) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise UsageError(
            "找不到规则手册文件", "rulebook file not found", file=str(path), rule="file-exists"
        ) from None
    blocks = rulebook_blocks(text)
    if not blocks:
        raise UsageError(
            "规则手册中没有参数表标记 <!-- params: ... -->",
            "the rulebook holds no parameter block <!-- params: ... -->",
            file=str(path),
            rule="rulebook-blocks",
        )
    try:
        new = update_rulebook(text)
    except FPError as exc:
        exc.file = str(path)
        raise
    fresh = {(b.names, b.body) for b in rulebook_blocks(new)}
    stale = [b for b in blocks if (b.names, b.body) not in fresh]
    if check:
        if not stale:
            print(
                f"{path}：参数表均为最新"
                if lang == "zh"
                else f"{path}: parameter tables up to date"
            )
            return 0
        for b in stale:
            names = ", ".join(b.names)
            print(
                f"{path} 第 {b.line} 行：参数表已过时（{names}）"
                if lang == "zh"
                else f"{path} line {b.line}: parameter table out of date ({names})",
                file=sys.stderr,
            )
        print(
            "请运行 fpanalysis params --rulebook 重新生成"
            if lang == "zh"
            else "run fpanalysis params --rulebook to regenerate them",
            file=sys.stderr,
        )
        return 1
    if new != text:
        from fpanalysis.io.guard import write_bytes

        write_bytes(path, new.encode("utf-8"), "--rulebook")
    n = len(stale)
    print(
        f"{path}：已重新生成 {n} 个参数表（共 {len(blocks)} 个）"
        if lang == "zh"
        else f"{path}: {n} of {len(blocks)} parameter tables regenerated"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.relief import parse_date

    _check_options(args)
    lang = args.lang
    if args.rulebook is not None:
        if not args.check:  # regenerated in place: the rulebook is the one file written
            from fpanalysis.io.guard import Target

            guard_writes(args, extra=[Target("--rulebook", args.rulebook)], register=False)
        return _rulebook(args.rulebook, args.check, lang)
    guard_writes(args, "--out")  # before any work
    date = parse_date(args.date, "--date")
    params = load_params(args.params)
    if args.diff is not None:
        after = with_override_file(params, args.diff)
        lines, rows = changes(params, after, str(args.diff), lang)
        columns = ["parameter", "effective_from", "old", "new", "unit"]
        when = str(args.diff)
    else:
        day = latest_effective_date(params) if date is None else date.date()
        lines, rows = listing(params, day, lang, defaulted=date is None)
        columns = ["parameter", "value", "unit", "effective_from", "source"]
        when = f"{day.isoformat()} 生效" if lang == "zh" else f"in force on {day.isoformat()}"
    if args.out is not None:
        _write(rows, columns, args.out, lang, when)
    print("\n".join(lines))
    if args.out is not None:
        print(("已写到 " if lang == "zh" else "written to ") + str(args.out))
    return 0
