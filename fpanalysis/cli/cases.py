"""``fpanalysis cases``: late-termination and birth-quota cases (POLICY.md §4).

One row per couple with a case: the couple and its responsible unit, the
violations, the derived quota cancellation, the timeline of permits,
pregnancies and births (zh and en) and the action the bureau must take.
Names are masked unless ``--reveal-pii`` (POLICY.md §7).
"""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import add_analysis_options
from fpanalysis.cli.compliance import load, write
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.rules.cases import case_list

HELP = "大月份引产与生育指标注销案件清单 / late-termination and birth-quota case list"
DESCRIPTION = """\
按 POLICY.md §4 列出案件：违规大月份引产、选择性别终止妊娠、生育指标注销及其后的计划外怀孕和生育，
每对夫妻一行，含时间线和应采取的处理措施。
Cases under POLICY.md §4 (unlawful late terminations, sex-selective terminations, the
cancelled birth quota and the out-of-plan pregnancies and births after it), one row per
couple, with the timeline and the action the bureau must take.
"""

TABLES = ["units", "persons", "couples", "children", "permits", "pregnancies"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)


def run(args: argparse.Namespace) -> int:
    guard_writes(args, "--out")  # before any work
    dataset, params = load(args, TABLES)
    cases = case_list(dataset, params)
    write(cases, args.out, args)
    print(
        f"{len(cases)} 对夫妻有案件；已写到 {args.out}"
        if args.lang == "zh"
        else f"{len(cases)} couples with a case; written to {args.out}"
    )
    return 0
