"""``fpanalysis accountability``: the accountability list (责任追究制度, rulebook §3), one row per
violation in the period: the date, the rule broken, the couple (the party), its responsible unit,
the unit's head and liaison, the penalty points and whether it vetoes the unit. Names are masked
unless ``--reveal-pii`` (rulebook §7)."""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import add_analysis_options, book, load, say_written, write
from fpanalysis.cli.compliance import add_period, period_of
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.rules.compliance import TABLES_NEEDED, accountability_list, parse_period

HELP = "责任追究清单：每起违规一行 / accountability list: one row per violation"
DESCRIPTION = """\
列出考核期内每起违规（节育弄虚作假、计划外生育、未持证怀孕、违规大月份引产、选择性别终止妊娠）：
当事夫妻、责任单位、单位负责人、计生联络员、违反规定和日期。孕周不少于大月份孕周的选择性别终止妊娠
列两行（违规大月份引产和选择性别终止妊娠）。姓名默认脱敏。
One row per violation in the period (falsification, out-of-plan birth, pregnancy without
permit, unapproved late termination, sex-selective termination): the couple, the unit,
its head and liaison, the rule and the date. A sex-selective termination at or above the late
threshold is two rows (the unapproved late termination and the sex selection). Names are masked
by default.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    add_period(parser)


def run(args: argparse.Namespace) -> int:
    from fpanalysis.io.workbooks import period_text

    guard_writes(args, "--out")  # before any work
    if args.period:
        parse_period(args.period)
    dataset, params = load(args, TABLES_NEEDED)
    period = period_of(args, dataset)
    rows = accountability_list(dataset, params, period)
    when = period_text(period, args.lang)
    write(rows, args.out, args, book("accountability", args, args.out, when=when, tables=dataset))
    say_written(
        args, f"考核期 {period}：{len(rows)} 起违规", f"period {period}: {len(rows)} violations"
    )
    return 0
