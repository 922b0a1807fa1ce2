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

from fpanalysis.cli.common import add_analysis_options, add_engine_options, write
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.params import Params, load_params
from fpanalysis.rules.compliance import (
    TABLES_NEEDED,
    compliance_detail,
    compliance_scorecard,
    latest_complete_year,
    parse_period,
)

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
    from fpanalysis.cli.history import add_record_options

    add_analysis_options(parser)
    add_period(parser)
    add_record_options(parser)
    add_engine_options(parser)
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
    dataset = load_for_analysis(
        args.dataset, list(tables), skip_invalid=args.skip_invalid, lang=args.lang
    )
    for line in getattr(dataset, "messages", []):
        print(line, file=sys.stderr)
    return dataset, params


def period_of(args: argparse.Namespace, dataset) -> str:
    """``--period`` as given, or the dataset's latest complete year."""
    if args.period:
        return parse_period(args.period).label
    return str(latest_complete_year(dataset))


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.history import check_record_options, open_from_args, record_compliance

    guard_writes(args, "--out", "--detail")  # before any work
    check_dask_options(args)
    if args.period:
        parse_period(args.period)  # a bad period is a usage error before loading anything
    check_record_options(args)
    if args.record or args.register is not None:
        open_from_args(args, create=True).close()  # an unusable register fails before any work
    if getattr(args, "engine", "pandas") == "dask":
        card, detail, period = run_dask(args)
    else:
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
    if args.record:  # last: a failed command leaves the register as it was
        record_compliance(args, card, detail, dataset, params, period)
    return 0


def run_dask(args: argparse.Namespace):
    """``--engine dask``: the scorecard (and ``--detail``) by :mod:`fpanalysis.engines.dask.compliance`.

    The drill-down is gathered only with ``--detail`` (one file, the pandas
    engine's bytes). ``--record``/``--register`` need the whole dataset in one
    process (the accountability list) and are refused with the Dask engine.
    """
    from fpanalysis.cli.common import engine_client
    from fpanalysis.engines.dask.compliance import compliance as dask_compliance

    params: Params = load_params(args.params)
    with engine_client(args) as client:
        res = dask_compliance(
            client,
            args.dataset,
            params,
            args.period,
            detail=args.detail is not None,
            skip_invalid=args.skip_invalid,
            lang=args.lang,
        )
    for line in res.messages:
        print(line, file=sys.stderr)
    return res.scorecard, res.detail, res.period


def check_dask_options(args: argparse.Namespace) -> None:
    """Engine options that do not go together, refused before any work (exit 2).

    ``--record``/``--register`` need the whole dataset in one process (the
    accountability list, the previous round) and are refused with ``--engine dask``.
    """
    from fpanalysis.cli.common import check_engine_options
    from fpanalysis.core.errors import UsageError

    check_engine_options(args)
    if getattr(args, "engine", "pandas") == "dask" and (
        getattr(args, "record", False) or getattr(args, "register", None) is not None
    ):
        raise UsageError(
            "--record/--register 暂不能与 --engine dask 同用（需要在本机读入整个数据集）",
            "--record/--register do not go with --engine dask yet (they need the whole dataset in one process)",
            value="--engine dask",
            rule="engine-options",
        )
