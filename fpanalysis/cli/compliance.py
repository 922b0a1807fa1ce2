"""``fpanalysis compliance``: unit scorecards C1–C8, score, grade and veto (rulebook §3): one
row per unit (``unit_id``, ``period``, the eight indicator columns, ``score``, ``grade`` and
``veto``); ``--detail FILE`` writes the drill-down (which couples, women and events each figure
counted). ``--period`` defaults to the dataset's latest complete year, derived from the data (never
today's date). This module also holds ``--period`` and its reading, shared with
``accountability``."""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import (
    add_path,
    add_recorded_analysis_options,
    arrow_pool,
    book,
    check_dask_options,
    load_data,
    on_dask,
    option_help,
    say_written,
    uses_dask,
    write,
)
from fpanalysis.cli.history import check_record_options, open_from_args, record_compliance
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.memory import release_memory
from fpanalysis.core.params import load_params
from fpanalysis.rules.compliance import (
    TABLES_NEEDED,
    compliance_detail,
    compliance_scorecard,
    latest_complete_year,
    parse_period,
)
from fpanalysis.rules.compliance.detail import scorecard_columns, surveys_in_view
from fpanalysis.rules.frames import Memo

HELP = (
    "单位计生工作考核（C1–C8、得分、等次、一票否决） / "
    "unit compliance scorecards (C1-C8, score, grade, veto)"
)

DESCRIPTION = """\
按单位计算考核指标 C1–C8、得分、等次和一票否决（规则手册 docs/rules.md §3），每个单位一行。
Per-unit compliance indicators C1-C8, score, grade and veto (rulebook docs/rules.md §3),
one row per unit.

--period 2024（年度）、2024H1 / 2024H2（半年）；默认为数据中最近一个完整年度。
--period 2024 (year), 2024H1 / 2024H2 (half-year); default: the dataset's latest complete year.
--detail FILE 写出明细：每项指标计入分子、分母的夫妻、妇女和事件。
--detail FILE writes the drill-down: the couples, women and events behind every figure.
"""


OPTIONS = option_help(
    """
    --period
        考核期：2024、2024H1 或 2024H2（默认：数据中最近一个完整年度） /
        period: 2024, 2024H1 or 2024H2 (default: the dataset's latest complete year)
    --detail
        另写出明细表（.csv/.xlsx） /
        also write the drill-down table (.csv/.xlsx)
    """
)


def add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", metavar="P", help=OPTIONS["--period"])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recorded_analysis_options(parser, add_period)
    add_path(parser, "--detail", OPTIONS["--detail"])


def period_of(args: argparse.Namespace, dataset) -> str:
    """``--period`` as given, or the dataset's latest complete year."""
    if args.period:
        return parse_period(args.period).label
    return str(latest_complete_year(dataset))


def run(args: argparse.Namespace) -> int:
    from fpanalysis.io.workbooks import period_text

    guard_writes(args, "--out", "--detail")  # before any work
    check_dask_options(args)
    if args.period:
        parse_period(args.period)  # a bad period is a usage error before loading anything
    check_record_options(args)
    if args.record or args.register is not None:
        open_from_args(args, create=True).close()  # an unusable register fails before any work
    if uses_dask(args):
        card, detail, period = run_dask(args)
        dataset = None  # the units' names are read for a workbook only
    else:
        arrow_pool()  # a province's columns are read, converted and let go one after another
        params = load_params(args.params)
        # Handed over to the rules (no --record), the surveys C1-C3 cannot look at are let go
        # as each part is validated: the rules select the same ones again from those kept.
        keep = None
        if args.period and not args.record:
            keep = {"surveys": surveys_in_view(params, parse_period(args.period))}
            if args.detail is None:  # a scorecard alone: only the columns its rules read
                keep.update(scorecard_columns())
        dataset = load_data(args, TABLES_NEEDED, keep=keep)
        period = period_of(args, dataset)
        release_memory()  # what the validation held
        tables = dataset
        if not args.record:  # only the units' names are read after the drill-down
            tables = Memo(dataset, handed_over=True)  # the rules let go of what they have read
            dataset = {k: dataset[k] for k in ("units",) if k in dataset}
        detail = None  # a scorecard alone adds each block of rows up, never the drill-down
        if args.detail is not None or args.record:  # reasons are written there only
            detail = compliance_detail(tables, params, period)
        card = compliance_scorecard(tables, params, period, detail=detail)
        del tables
    when = period_text(period, args.lang)
    write(card, args.out, args, book("scorecard", args, args.out, when=when, tables=dataset))
    if args.detail is not None:
        write(
            detail, args.detail, args, book("detail", args, args.detail, when=when, tables=dataset)
        )
    n = card["grade"].value_counts()
    vetoed = int(card["veto"].sum())
    say_written(
        args,
        f"考核期 {period}：{len(card)} 个单位，优秀 {n.get('excellent', 0)}，"
        f"合格 {n.get('pass', 0)}，不合格 {n.get('fail', 0)}（一票否决 {vetoed}）",
        f"period {period}: {len(card)} units, excellent {n.get('excellent', 0)}, "
        f"pass {n.get('pass', 0)}, fail {n.get('fail', 0)} (vetoed {vetoed})",
    )
    if args.record:  # last: a failed command leaves the register as it was
        record_compliance(args, card, detail, dataset, params, period)
    return 0


def run_dask(args: argparse.Namespace):
    """``--engine dask``: the scorecard (and ``--detail``) by
    :mod:`fpanalysis.engines.dask.compliance`.

    The drill-down is gathered only with ``--detail`` (one file, the pandas
    engine's bytes). ``--record``/``--register`` need the whole dataset in one
    process (the accountability list) and are refused with the Dask engine.
    """
    from fpanalysis.engines.dask.compliance import compliance as dask_compliance

    params = load_params(args.params)
    res = on_dask(args, dask_compliance, params, args.period, detail=args.detail is not None)
    return res.scorecard, res.detail, res.period
