"""``fpanalysis explain``: the trace of one figure back to its rules and rows (rulebook §3, §5, §6):
a unit's compliance score, a household's place in a relief round, a certificate's months, printed in
the chosen language with names and ID numbers masked unless ``--reveal-pii`` (rulebook §7)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fpanalysis.cli.common import (
    add_dataset,
    add_lang,
    add_params,
    add_reveal_pii,
    add_skip_invalid,
    option_help,
    positive_int,
)

HELP = (
    "追溯一个数字的规则与数据行（单位得分、低保户、光荣证） / "
    "trace one figure back to its rules and rows (a unit's score, a household, a certificate)"
)
DESCRIPTION = """\
把一个数字追溯到计算它的规则（规则手册各节）和数据行，逐步说明：
Trace one figure back to the rules (the rulebook's sections) and the data rows that make it:

  explain unit U07 --period 2024H1 [DATASET]
      单位考核：每项指标的分子分母及计入、未计入、不计入本单位的夫妻和原因，每项扣分及其事件，
      得分算式（四舍五入保留 2 位小数）、等次和一票否决（规则手册 §3）。
      a unit's score: each indicator's numerator and denominator with the couples counted, missed
      and left out (and why), each penalty with its event, the score's arithmetic, the grade and
      the veto (rulebook §3).
  explain household H0012 --as-of 2025-06-30 [--quota N | --budget Y] [DATASET]
      低保：人均收入、标准、资格、档次及依据、计生类型及认定它的成员、排序键、名次和前后两户、
      是否纳入及原因（规则手册 §6）。
      relief: per-capita income, the standard, eligibility, the tier and why, the FP type and the
      members behind it, the ranking keys, the rank with the households just above and below,
      and why it is or is not selected (rulebook §6).
  explain certificate GRZ00024 --start 2026-01 --months 36 [DATASET]
      独生子女父母奖励金：逐月是否发放、决定它的条款、当月金额和发放单位（规则手册 §5）。
      the reward: each month paid or not, the clause that decides it, the amount and who pays it
      (rulebook §5).

姓名和身份证号默认脱敏；--reveal-pii 显示完整信息。
Names and ID numbers are masked unless --reveal-pii.
"""

_KINDS = {
    "unit": (
        "单位考核得分的追溯（规则手册 §3） / a unit's compliance score, traced (rulebook §3)",
        "单位编号 / unit id",
    ),
    "household": (
        "一户低保资格、排序与选定的追溯（规则手册 §6） / "
        "a household's eligibility, rank and selection, traced (rulebook §6)",
        "户编号 / household id",
    ),
    "certificate": (
        "一张光荣证逐月发放的追溯（规则手册 §5） / "
        "a certificate's months of the reward, traced (rulebook §5)",
        "光荣证编号 / certificate id",
    ),
}


OPTIONS = option_help(
    """
    --start
        第一个月（默认：数据最后记录日期的下一个月） /
        first month (default: the month after the dataset's last recorded date)
    --months
        月数（默认 36） /
        months (default 36)
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.compliance import add_period
    from fpanalysis.cli.relief import add_round_options

    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    kinds = {}
    for kind, (help_, id_help) in _KINDS.items():
        p = sub.add_parser(
            kind,
            help=help_,
            description=help_,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("key", metavar=kind.upper(), help=id_help)
        add_dataset(p)
        add_params(p)
        add_lang(p)
        add_reveal_pii(p)
        add_skip_invalid(p)
        kinds[kind] = p
    add_period(kinds["unit"])
    add_round_options(kinds["household"])
    kinds["certificate"].add_argument("--start", metavar="YYYY-MM", help=OPTIONS["--start"])
    kinds["certificate"].add_argument(
        "--months", type=positive_int("--months"), default=36, metavar="N", help=OPTIONS["--months"]
    )


def _load(args: argparse.Namespace, tables: Sequence[str]):
    """Parameters and the validated dataset; prints what ``--skip-invalid`` left out."""
    from fpanalysis.core.params import load_params
    from fpanalysis.io import load_for_analysis

    params = load_params(args.params)
    dataset = load_for_analysis(
        args.dataset, list(tables), skip_invalid=args.skip_invalid, lang=args.lang
    )
    for line in getattr(dataset, "messages", []):
        print(line, file=sys.stderr)
    return dataset, params


def trace_of(args: argparse.Namespace):
    """The :class:`~fpanalysis.rules.explain.Trace` the command line asks for (options checked
    before the dataset is read)."""
    from fpanalysis.rules import explain

    if args.kind == "unit":
        from fpanalysis.rules.compliance import TABLES_NEEDED, parse_period

        if args.period:
            parse_period(args.period)
        dataset, params = _load(args, TABLES_NEEDED)
        return explain.explain_unit(
            dataset, args.key, args.period, params, reveal_pii=args.reveal_pii
        )
    if args.kind == "household":
        from fpanalysis.cli.relief import parse_date, parse_limit, read_previous_round
        from fpanalysis.rules.relief import RELIEF_TABLES, check_round_options

        as_of = parse_date(args.as_of)
        quota = parse_limit(args.quota, "--quota", args.pool, whole=True)
        budget = parse_limit(args.budget, "--budget", args.pool, whole=False)
        check_round_options(quota, budget, args.pool)
        previous = read_previous_round(args.previous_round)
        dataset, params = _load(args, RELIEF_TABLES)
        return explain.explain_household(
            dataset,
            args.key,
            as_of,
            params,
            quota=quota,
            budget_yuan=budget,
            pool=args.pool,
            previous_round=previous,
            reveal_pii=args.reveal_pii,
        )
    from fpanalysis.rules.bonus import TABLES_NEEDED, parse_month

    if args.start is not None:
        parse_month(args.start)
    dataset, params = _load(args, TABLES_NEEDED)
    return explain.explain_certificate(
        dataset, args.key, args.start, args.months, params, reveal_pii=args.reveal_pii
    )


def run(args: argparse.Namespace) -> int:
    trace = trace_of(args)
    if args.reveal_pii:  # a deliberate act, said on the console (rulebook §7.4)
        print(
            "注意：--reveal-pii 已显示完整姓名和身份证号"
            if args.lang == "zh"
            else "note: --reveal-pii: full names and ID numbers are shown",
            file=sys.stderr,
        )
    print(trace.text(args.lang))  # ID-shaped words masked by the trace unless revealed
    return 0
