"""``fpanalysis relief``: rank hardship households for minimum-living relief (低保) (rulebook §6).
Writes every household of the pool (``rank``, empty when not eligible; ``household_id``, ``area``,
``township``, ``head_name`` masked unless ``--reveal-pii``; ``eligible``, ``tier``, ``fp_type``,
the income, standard and entitlement, ``selected``, ``selection`` and the reason in Chinese and
English) and prints the declared FP types the members contradict (as warnings), what the round
must say (continuing households exceeding the quota or budget) and the households either side of
the cut line with what separates them. ``--pool all`` (default) ranks both areas as one fund,
``--pool urban``/``rural`` one area's fund, ``--pool separate`` each area on its own with
``--quota urban=N,rural=M`` or ``--budget urban=Y,rural=Z`` (rulebook §6: urban and rural pools
run separately where they are funded separately). This module also holds the options of a
selection round and their reading, shared with ``review``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.cli.common import (
    add_path,
    add_recorded_analysis_options,
    arrow_pool,
    check_dask_options,
    engine_client,
    load,
    option_help,
    parse_date,
    print_messages,
    say_written,
    uses_dask,
)
from fpanalysis.cli.history import record_relief, relief_previous, relief_register
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import OUTPUT_COLUMNS, OUTPUT_LABELS, TABLES
from fpanalysis.core.timings import phase
from fpanalysis.io import parse_bools, write_table_chunks
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.rules.relief import RELIEF_TABLES, cut_line, rank_households

HELP = "低保特困户排序与拟纳入名单 / rank hardship households for minimum-living relief (低保)"
DESCRIPTION = """\
按低保标准、困难档次和计生优先类型给低保申请户排序，\
在名额或预算内确定拟纳入名单（规则手册 docs/rules.md §6）。
Rank hardship households for minimum-living relief by tier and FP priority type, and select
them under a quota or a monthly budget (rulebook docs/rules.md §6).

在保户（在保=是，或 --previous-round 中上一轮已选中）复核仍符合条件的继续保障，先占名额/预算；
名额是本轮拟纳入的总户数：在保户仍符合条件的先占名额，剩余名额按排名给新申请户；在保户已达到或超过名额时，
在保户全部继续保障，本轮无新纳入。新申请户按排序依次纳入，遇到第一户放不下即停止。
The quota is the number of households selected in the round: continuing households that
still qualify take their places first and the places left go to newcomers in rank order;
when the continuing households reach or exceed it, they all keep relief and nobody new
enters. Newcomers enter strictly in rank order, stopping at the first that does not fit.

--pool all（默认，城乡一个资金池）| urban | rural | separate（城乡分别排序，
名额/预算写作 urban=N,rural=M）。
--pool all (default: one fund) | urban | rural | separate (each area on its own; give
--quota urban=N,rural=M or --budget urban=Y,rural=Z).

--as-of 默认为数据中最近的申请或复核日期（不取今天）。一轮只考虑在基准日及以前申请的户，
使用基准日有效的低保标准。
--as-of defaults to the dataset's last application or review date (never today). A round
considers only the households that had applied by the as-of date, at the standard in force on it.
"""

POOL_CHOICES = ["all", "urban", "rural", "separate"]
# the end of --register's help in relief
REGISTER_HELP = (
    "; 给出时上一轮在保户取自登记簿最近一轮 / "
    "when given, who receives relief now comes from its last round"
)


OPTIONS = option_help(
    """
    --as-of
        基准日 YYYY-MM-DD（默认：数据中最近的申请或复核日期）；只考虑此日及以前申请的户 /
        as-of date (default: the dataset's last application or review date); only households that
        had applied by then are considered
    --quota
        本轮名额（户；在保户先占） /
        households this round (continuing households first)
    --budget
        每月预算（元；在保户先占） /
        monthly budget in yuan (continuing households first)
    --pool
        资金池：all 城乡合并（默认）、urban、rural、separate 城乡分别 /
        fund: all (default, one pool), urban, rural, separate (each area on its own)
    --previous-round
        上一轮的 relief 输出（.csv/.xlsx；其中已选中的户视为在保） /
        the last round's relief output (.csv/.xlsx); its selected households count as receiving
    --meeting
        另写出供评议会使用的拟纳入名单（格式化 .xlsx） /
        also write the selected list as a formatted .xlsx for the committee's meeting
    """
)


def _number(text: str, option: str, whole: bool) -> Any:
    try:
        v = int(text) if whole else float(text)
    except ValueError:
        kind = ("非负整数", "a whole number >= 0") if whole else ("非负数", "a number >= 0")
        raise UsageError(
            f"{option} 应为{kind[0]}：{text!r}",
            f"{option} must be {kind[1]}: {text!r}",
            value=text,
            rule=option.lstrip("-"),
        ) from None
    if v < 0:
        raise UsageError(
            f"{option} 不能为负：{text!r}",
            f"{option} must not be negative: {text!r}",
            value=text,
            rule=option.lstrip("-"),
        )
    if not whole and v.is_integer():
        v = int(v)
    return v


def parse_limit(text: str | None, option: str, pool: str, whole: bool) -> Any:
    """``--quota 30`` / ``--budget 50000``, or ``urban=10,rural=20`` with ``--pool separate``."""
    if text is None:
        return None
    if "=" in text:
        if pool != "separate":
            raise UsageError(
                f"{option} 按地区分别给出时须配合 --pool separate",
                f"{option} per area needs --pool separate",
                value=text,
                rule="pool",
            )
        out = {}
        for part in text.split(","):
            area, _, value = part.partition("=")
            area = area.strip()
            if area not in ("urban", "rural") or area in out:
                raise UsageError(
                    f"{option} 的地区应为 urban 或 rural（各一次）：{part!r}",
                    f"{option}: the area must be urban or rural, once each: {part!r}",
                    value=text,
                    rule="pool",
                )
            out[area] = _number(value.strip(), option, whole)
        missing = {"urban", "rural"} - set(out)
        if missing:
            raise UsageError(
                f"--pool separate 需要两个地区的{option}：缺少 {', '.join(sorted(missing))}",
                f"--pool separate needs {option} for both areas: "
                f"missing {', '.join(sorted(missing))}",
                value=text,
                rule="pool",
            )
        return out
    if pool == "separate":
        raise UsageError(
            f"--pool separate 时请写 {option} urban=N,rural=M",
            f"with --pool separate write {option} urban=N,rural=M",
            value=text,
            rule="pool",
        )
    return _number(text, option, whole)


def add_round_options(parser: argparse.ArgumentParser) -> None:
    """--as-of, --quota | --budget, --pool: the options of a selection round."""
    parser.add_argument("--as-of", metavar="DATE", help=OPTIONS["--as-of"])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quota", metavar="N", help=OPTIONS["--quota"])
    group.add_argument("--budget", metavar="YUAN", help=OPTIONS["--budget"])
    parser.add_argument("--pool", choices=POOL_CHOICES, default="all", help=OPTIONS["--pool"])
    add_path(parser, "--previous-round", OPTIONS["--previous-round"])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recorded_analysis_options(parser, add_round_options, REGISTER_HELP)
    add_path(parser, "--meeting", OPTIONS["--meeting"])


def round_keywords(
    args: argparse.Namespace, quota: Any, budget: Any, previous_round: pd.DataFrame | None
) -> dict[str, Any]:
    """The keywords of a selection round: ``quota``, ``budget_yuan``, ``pool``,
    ``previous_round``."""
    return {
        "quota": quota,
        "budget_yuan": budget,
        "pool": args.pool,
        "previous_round": previous_round,
    }


def read_previous_round(path: Path | None) -> pd.DataFrame | None:
    """A previous ``relief`` output: its ``household_id`` and ``selected`` columns (English or
    Chinese headers), read as any input is (:func:`fpanalysis.io.load_table_file`)."""
    if path is None:
        return None
    from fpanalysis.io import load_table_file

    # the dataset's readers and limits: encodings, zip and XML bombs, formulas with no value
    df = load_table_file(path, "--previous-round")
    names = {
        TABLES["households"].column("household_id").zh: "household_id",
        OUTPUT_COLUMNS["selected"]: "selected",
    }
    df = df.rename(columns=names)
    if not {"household_id", "selected"} <= set(df.columns):
        raise UsageError(
            "上一轮文件须有“户编号”和“拟纳入”两列（relief 的输出）",
            "the previous round's file needs household_id and selected columns (a relief output)",
            file=str(path),
            rule="previous-round",
        )
    selected, bad = parse_bools(df["selected"].astype("str"))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise UsageError(
            "上一轮文件的“拟纳入”列应为 是/否",
            "the previous round's selected column must be yes/no",
            file=str(path),
            row=row,
            column="selected",
            value=df["selected"].iloc[row - 2],
        )
    return pd.DataFrame({"household_id": df["household_id"], "selected": selected})


def shown(text: str, reveal: bool) -> str:
    """A console line: ID-shaped keys in it masked unless ``--reveal-pii`` (rulebook §7)."""
    from fpanalysis.core.privacy import mask_text

    return text if reveal else mask_text(text)


def print_problems(problems: pd.DataFrame, lang: str, reveal: bool = False) -> None:
    """Data problems found by the rules (declared FP types the members contradict), as warnings."""
    label = "警告" if lang == "zh" else "warning"
    col = "message_zh" if lang == "zh" else "message_en"
    for p in problems.to_dict("records"):
        where = f"households 第{p['row']}行" if lang == "zh" else f"households row {p['row']}"
        line = f"{label}: {where} [{p['household_id']}] {p['column']}: {p[col]} ({p['rule']})"
        print(shown(line, reveal), file=sys.stderr)


def print_cut(cut: pd.DataFrame, lang: str, reveal: bool = False) -> None:
    """The households either side of the cut line and what separates them."""
    if cut.empty:
        return
    zh = lang == "zh"
    labels = OUTPUT_LABELS["selection"] if zh else {}
    print("分界线两侧：" if zh else "either side of the cut line:")
    for r in cut.to_dict("records"):
        side = ("线上" if r["side"] == "above" else "线下") if zh else r["side"]
        rank = "" if pd.isna(r["rank"]) else int(r["rank"])
        hid, yuan = r["household_id"], r["entitlement_yuan"]
        if zh:
            selection = labels.get(r["selection"], r["selection"])
            line = (
                f"  {side} 第{rank}名 {hid}（{selection}，月保障金 {yuan} 元）："
                f"{r['separated_by_zh']}"
            )
        else:
            line = (
                f"  {side} rank {rank} {hid} ({r['selection']}, {yuan} yuan): "
                f"{r['separated_by_en']}"
            )
        print(shown(line, reveal))


def run(args: argparse.Namespace) -> int:
    guard_writes(args, "--out", "--meeting")  # before any work
    check_dask_options(args)
    if args.meeting is not None and args.meeting.suffix.lower() != ".xlsx":
        raise UsageError(
            "--meeting 应为 .xlsx 文件", "--meeting must be an .xlsx file", file=str(args.meeting)
        )
    as_of = parse_date(args.as_of)
    quota = parse_limit(args.quota, "--quota", args.pool, whole=True)
    budget = parse_limit(args.budget, "--budget", args.pool, whole=False)
    previous_round = read_previous_round(args.previous_round)
    reg = relief_register(args)  # --register/--record: checked before any work
    if uses_dask(args):
        with engine_client(args) as client:  # the workers write the texts as the table is written
            result = run_dask(
                client, args, as_of, round_keywords(args, quota, budget, previous_round)
            )
            write_outputs(result, args, ahead=False)  # the driver's memory is the bound
    else:
        arrow_pool()
        dataset, params = load(args, RELIEF_TABLES)
        # With a register, "receiving now" is its last relief round (rulebook §6).
        previous_round, previous_round_id = relief_previous(
            args, reg, previous_round, dataset, as_of
        )
        # lean: the reasons are written a slice at a time as the table is written (province scale)
        result = rank_households(
            dataset,
            params,
            as_of,
            **round_keywords(args, quota, budget, previous_round),
            texts=bool(args.record) or args.meeting is not None,
        )
        if not args.record:  # only the register needs the tables again: not held while writing
            dataset = None
        write_outputs(result, args)

    t = result.table
    n = t["selection"].value_counts()
    chosen = t["selected"].fillna(False).astype(bool)  # result.selected, one column at a time
    total = int(t.loc[chosen, "entitlement_yuan"].astype("int64").sum())
    day = result.as_of.strftime("%Y-%m-%d")
    eligible, selected = int(t["eligible"].sum()), int(chosen.sum())
    continuing, admitted, waiting = (n.get(k, 0) for k in ("continuing", "admitted", "waiting"))
    zh = args.lang == "zh"
    for z, e in result.notes:
        print(shown(("注意：" + z) if zh else ("note: " + e), args.reveal_pii))
    print_cut(cut_line(result), args.lang, args.reveal_pii)
    say_written(
        args,
        f"基准日 {day}：{len(t)} 户，符合条件 {eligible} 户；拟纳入 {selected} 户"
        f"（继续 {continuing}，新纳入 {admitted}），候补 {waiting} 户；"
        f"月保障金合计 {total} 元",
        f"as of {day}: {len(t)} households, {eligible} eligible; {selected} selected "
        f"({continuing} continuing, {admitted} admitted), {waiting} waiting; "
        f"{total} yuan a month",
    )
    if args.meeting is not None and not args.record:
        print(("评议会名单已写到 " if zh else "meeting list written to ") + str(args.meeting))
    if args.record:  # last: a failed command leaves the register as it was
        rid = record_relief(
            args,
            reg,
            result,
            dataset,
            params,
            previous_round=previous_round,
            previous_round_id=previous_round_id,
            quota=quota,
            budget=budget,
        )
        if args.meeting is not None:  # it names the round, so it is written once recorded
            ids = result.table["household_id"].astype(str).tolist()
            export_meeting_xlsx(
                result.with_texts(),
                args.meeting,
                lang=args.lang,
                reveal_pii=args.reveal_pii,
                round_id=rid,
                keys=dict(zip(ids, reg.stored_keys(ids), strict=True)),
            )
            print(
                (f"评议会名单已写到 {args.meeting}（轮次 {rid}；评议后用 fpanalysis decide 读回）")
                if zh
                else f"meeting list written to {args.meeting} (round {rid}; read the "
                "committee's decisions back with fpanalysis decide)"
            )
    return 0


def write_outputs(result, args: argparse.Namespace, *, ahead: bool = True) -> None:
    """The problems, the table (``--out``) and the meeting workbook (``--meeting``) of a round.

    With ``--record`` the meeting workbook is written once the round is recorded (it names
    the round, for ``fpanalysis decide``).

    The table is written a slice at a time (:func:`fpanalysis.io.write_table_chunks`):
    a lean round's reasons are written per slice and never all held at once; with ``ahead``
    the next slice is made while the last is written (one more slice held). The Dask engine
    writes without: its workers make the reasons, and its driver, which would hold the
    slice, has little room under its 4 GB (``benchmarks/README.md``).
    """
    print_problems(result.problems, args.lang, args.reveal_pii)
    chunks = (mask_frame(c, reveal=args.reveal_pii) for c in result.output_chunks())
    if args.out.suffix.lower() == ".xlsx":
        from fpanalysis.cli.common import book
        from fpanalysis.io.workbooks import as_of_text, write_table_workbook

        when = as_of_text(result.as_of, args.lang)
        b = book("relief", args, args.out, when=when, tables={})
        write_table_workbook(joined(chunks, args.out), args.out, b, lang=args.lang)
    else:
        with phase("write the table, its reasons made a slice at a time"):
            write_table_chunks(chunks, args.out, lang=args.lang, table="households", ahead=ahead)
    if args.meeting is not None and not getattr(args, "record", False):
        export_meeting_xlsx(
            result.with_texts(), args.meeting, lang=args.lang, reveal_pii=args.reveal_pii
        )


def joined(chunks, path: Path):
    """The slices of a table as one frame, refused past the rows an .xlsx sheet holds."""
    import pandas as pd

    from fpanalysis.io.write import check_xlsx_rows

    frames, n = [], 0
    for c in chunks:
        n += len(c)
        check_xlsx_rows(n, path)
        frames.append(c)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def run_dask(client, args: argparse.Namespace, as_of, selection: dict[str, Any]):
    """``--engine dask``: the round by :mod:`fpanalysis.engines.dask.relief` (the pandas engine's
    result); ``selection`` is :func:`round_keywords`.

    Lean and held: the driver gathers only the households' keys; the table's rows stay in
    ``client``'s workers, which write them, texts and all, while the table is written.
    """
    from fpanalysis.engines.dask.relief import rank_households as dask_rank

    params = load_params(args.params)
    res = dask_rank(
        client,
        args.dataset,
        params,
        as_of,
        **selection,
        skip_invalid=args.skip_invalid,
        lang=args.lang,
        texts=False,
        keys_only=True,
    )
    print_messages(res.messages)
    return res.result
