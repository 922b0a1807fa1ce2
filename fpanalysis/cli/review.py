"""``fpanalysis review``: dynamic management of the relief register (POLICY.md §6 动态管理).

Compares this period's round with the one before: every household selected
before or now is ``enter``, ``continue``, ``tier_change`` or ``exit`` (with the
reason: income at or above the standard, or no longer listed — moved or
died), and every household selected now says when its next review falls due
(6 months, or 12 with a disabled member whose income has not changed).

"Before" is ``--previous-round FILE`` (the last round's relief output) when
given, else the ``--previous`` dataset's ``receiving`` households, else this
dataset's ``receiving`` households (this period against who receives relief now).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fpanalysis.cli.common import add_analysis_options, check_outputs
from fpanalysis.cli.relief import (
    add_round_options,
    load,
    parse_date,
    parse_limit,
    print_problems,
    read_previous_round,
)

HELP = "低保动态管理：新纳入、继续、档次变动、退出与到期复核 / relief register review: enter, continue, tier change, exit, reviews due"
DESCRIPTION = """\
比较两期数据（或本期与目前在保户），列出每户的变动（新纳入、继续、档次变动、退出及原因）和应复核的户（POLICY.md §6）。
Compare two periods' data (or this period against who receives relief now): each household's
transition (enter, continue, tier change, exit with its reason) and who is due for review.

复核周期 6 个月；有残疾成员且收入未变的 12 个月（收入是否变化须有 --previous 上期数据，否则按 6 个月）。
Reviews every 6 months, or 12 for a household with a disabled member whose income has not
changed (that needs --previous; without it the change is unknown and 6 months apply).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="DATASET",
        help="上期数据集（文件夹或 .xlsx）；不给出时与本期在保户比较 / "
        "the previous period's dataset; without it, this period is compared with who receives relief now",
    )
    parser.add_argument(
        "--previous-as-of",
        metavar="DATE",
        help="上期基准日（默认：上期数据中最近的申请或复核日期） / the previous period's as-of date (default: its last recorded date)",
    )
    add_round_options(parser)


def run(args: argparse.Namespace) -> int:
    from fpanalysis.io import load_for_analysis, write_table
    from fpanalysis.privacy import mask_frame
    from fpanalysis.relief import RELIEF_TABLES, review

    check_outputs(args.out, dataset=args.dataset)
    as_of = parse_date(args.as_of)
    previous_as_of = parse_date(args.previous_as_of, "--previous-as-of")
    quota = parse_limit(args.quota, "--quota", args.pool, whole=True)
    budget = parse_limit(args.budget, "--budget", args.pool, whole=False)
    previous_round = read_previous_round(args.previous_round)
    dataset, params = load(args)
    previous = None
    if args.previous is not None:
        previous = load_for_analysis(
            args.previous, list(RELIEF_TABLES), skip_invalid=args.skip_invalid, lang=args.lang
        )
        for line in previous.messages:
            print(("上期：" if args.lang == "zh" else "previous: ") + line, file=sys.stderr)
    out, result = review(
        dataset,
        params,
        as_of,
        previous=previous,
        previous_as_of=previous_as_of,
        previous_round=previous_round,
        quota=quota,
        budget_yuan=budget,
        pool=args.pool,
    )
    print_problems(result.problems, args.lang)
    write_table(
        mask_frame(out, reveal=args.reveal_pii), args.out, lang=args.lang, table="households"
    )
    n = out["transition"].value_counts()
    due = int(out["review_due"].fillna(False).astype(bool).sum())
    day = result.as_of.strftime("%Y-%m-%d")
    if args.lang == "zh":
        print(
            f"基准日 {day}：新纳入 {n.get('enter', 0)}，继续 {n.get('continue', 0)}，档次变动 {n.get('tier_change', 0)}，"
            f"退出 {n.get('exit', 0)}；应复核 {due} 户；已写到 {args.out}"
        )
    else:
        print(
            f"as of {day}: enter {n.get('enter', 0)}, continue {n.get('continue', 0)}, tier change "
            f"{n.get('tier_change', 0)}, exit {n.get('exit', 0)}; {due} due for review; written to {args.out}"
        )
    return 0
