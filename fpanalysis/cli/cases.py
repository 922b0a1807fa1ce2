"""``fpanalysis cases``: late-termination and birth-quota cases (rulebook §4), one row per couple
with a case: the couple and its responsible unit, the violations, the derived quota cancellation,
the timeline of permits, pregnancies and births (zh and en) and the action the bureau must take.
Names are masked unless ``--reveal-pii`` (rulebook §7)."""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import add_analysis_options, book, load, say_written, write
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.rules.cases import case_list

HELP = "大月份引产与生育指标注销案件清单 / late-termination and birth-quota case list"
DESCRIPTION = """\
按规则手册 docs/rules.md §4 列出案件：违规大月份引产、选择性别终止妊娠、生育指标注销
及其后的计划外怀孕和生育，每对夫妻一行，含时间线和应采取的处理措施。
孕周不少于大月份孕周的选择性别终止妊娠同时带两种违规和两项措施。
Cases under the rulebook, docs/rules.md §4 (unlawful late terminations, sex-selective
terminations, the cancelled birth quota and the out-of-plan pregnancies and births after it),
one row per couple, with the timeline and the action the bureau must take. A sex-selective
termination at or above the late threshold carries both violations and both actions.
"""

TABLES = ["units", "persons", "couples", "children", "permits", "pregnancies"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)


def run(args: argparse.Namespace) -> int:
    from fpanalysis.core.schema import last_recorded_date
    from fpanalysis.io.workbooks import as_of_text

    guard_writes(args, "--out")  # before any work
    dataset, params = load(args, TABLES)
    cases = case_list(dataset, params)
    day = last_recorded_date(dataset, among=TABLES)
    when = None if day is None else as_of_text(day, args.lang, data=True)
    write(cases, args.out, args, book("cases", args, args.out, when=when, tables=dataset))
    say_written(args, f"{len(cases)} 对夫妻有案件", f"{len(cases)} couples with a case")
    return 0
