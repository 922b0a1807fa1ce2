"""``fpanalysis compliance``: unit scorecards C1–C8, score, grade and veto (POLICY.md §3).

One row per unit: ``unit_id``, ``period``, the eight indicator columns,
``score``, ``grade`` (``excellent``/``pass``/``fail``; Chinese labels with
``--lang zh``) and ``veto``. ``--detail FILE`` writes the drill-down: which
couples, women and events each figure counted. ``--period`` defaults to the
dataset's latest complete year, derived from the data (never today's date).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from fpanalysis.cli.common import add_analysis_options, check_outputs, write
from fpanalysis.compliance import (
    TABLES_NEEDED,
    compliance_detail,
    compliance_scorecard,
    latest_complete_year,
    parse_period,
)
from fpanalysis.params import Params, load_params

HELP = "单位计生工作考核（C1–C8、得分、等次、一票否决） / unit compliance scorecards (C1-C8, score, grade, veto)"
DESCRIPTION = """\
按单位计算考核指标 C1–C8、得分、等次和一票否决（POLICY.md §3），每个单位一行。
Per-unit compliance indicators C1-C8, score, grade and veto (POLICY.md §3), one row per unit.

--period 2024（年度）、2024H1 / 2024H2（半年）；默认为数据中最近一个完整年度。
--period 2024 (year), 2024H1 / 2024H2 (half-year); default: the dataset's latest complete year.
--detail FILE 写出明细：每项指标计入分子、分母的夫妻、妇女和事件。
--detail FILE writes the drill-down: the couples, women and events behind every figure.
"""


def add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period",
        metavar="P",
        help="考核期：2024、2024H1 或 2024H2（默认：数据中最近一个完整年度） / "
        "period: 2024, 2024H1 or 2024H2 (default: the dataset's latest complete year)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    add_period(parser)
    parser.add_argument(
        "--detail",
        type=Path,
        metavar="FILE",
        help="另写出明细表（.csv/.xlsx） / also write the drill-down table (.csv/.xlsx)",
    )


def load(args: argparse.Namespace, tables: Sequence[str] = TABLES_NEEDED):
    """Parameters and the validated dataset; prints what ``--skip-invalid`` left out."""
    from fpanalysis.io import load_for_analysis

    params: Params = load_params(args.params)
    dataset = load_for_analysis(args.dataset, list(tables), skip_invalid=args.skip_invalid, lang=args.lang)
    for line in getattr(dataset, "messages", []):
        print(line, file=sys.stderr)
    return dataset, params


def period_of(args: argparse.Namespace, dataset) -> str:
    """``--period`` as given, or the dataset's latest complete year."""
    if args.period:
        return parse_period(args.period).label
    return str(latest_complete_year(dataset))


def run(args: argparse.Namespace) -> int:
    check_outputs(args.out, args.detail, dataset=args.dataset)
    if args.period:
        parse_period(args.period)  # a bad period is a usage error before loading anything
    dataset, params = load(args)
    period = period_of(args, dataset)
    detail = compliance_detail(dataset, params, period)
    card = compliance_scorecard(dataset, params, period, detail=detail)
    write(card, args.out, args)
    if args.detail is not None:
        write(detail, args.detail, args)
    n = card["grade"].value_counts()
    if args.lang == "zh":
        print(
            f"考核期 {period}：{len(card)} 个单位，优秀 {n.get('excellent', 0)}，合格 {n.get('pass', 0)}，"
            f"不合格 {n.get('fail', 0)}（一票否决 {int(card['veto'].sum())}）；已写到 {args.out}"
        )
    else:
        print(
            f"period {period}: {len(card)} units, excellent {n.get('excellent', 0)}, pass {n.get('pass', 0)}, "
            f"fail {n.get('fail', 0)} (vetoed {int(card['veto'].sum())}); written to {args.out}"
        )
    return 0
