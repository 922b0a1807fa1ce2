"""``fpanalysis review``: dynamic management of the relief register (POLICY.md §6 动态管理).

Compares this period's round with the one before: every household selected
before or now is ``enter``, ``continue``, ``tier_change`` or ``exit`` (with the
reason: income at or above the standard, or no longer listed — moved or
died), and every household selected now says when its next review falls due
(6 months, or 12 with a disabled member whose income has not changed).

"Before" is the decision register's last relief round in force with
``--register PATH|URL`` (POLICY.md §6; its tiers and incomes make
``tier_change`` and "income not changed" known), else ``--previous-round FILE``
(the last round's relief output) when given, else the ``--previous``
dataset's ``receiving`` households, else this dataset's ``receiving``
households (this period against who receives relief now). With a register,
"before" is the last round dated before this review's as-of date.

``--units --register PATH|URL`` compares each unit's grade between the
register's last two compliance rounds in force (``improved``, ``declined``,
``unchanged``, ``new``, ``dropped``); it reads no dataset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fpanalysis.cli.common import add_analysis_options
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.cli.relief import (
    add_round_options,
    load,
    parse_date,
    parse_limit,
    print_problems,
    read_previous_round,
)
from fpanalysis.core.errors import UsageError

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
    from fpanalysis.cli.history import add_register_option

    add_register_option(
        parser,
        '; 给出时“上期”为登记簿最近一轮低保 / when given, "before" is the register\'s last relief round',
    )
    parser.add_argument(
        "--units",
        action="store_true",
        help="比较登记簿最近两轮考核中各单位的等次（须 --register；不读数据集） / "
        "each unit's grade between the register's last two compliance rounds (needs --register; reads no dataset)",
    )


def run_units(args: argparse.Namespace) -> int:
    """``review --units``: units' grades between the last two compliance rounds in force."""
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.io import write_table
    from fpanalysis.register import unit_transitions

    if args.register is None:
        raise UsageError(
            "--units 须与 --register 一起使用", "--units needs --register", rule="units"
        )
    from fpanalysis.cli.history import verified

    reg = verified(open_from_args(args, create=False))
    try:
        out = unit_transitions(reg)
    finally:
        reg.close()
    write_table(out, args.out, lang=args.lang)
    n = out["transition"].value_counts()
    old, new = out["previous_round_id"].iloc[0], out["round_id"].iloc[0]
    if args.lang == "zh":
        print(
            f"{old} → {new}：上升 {n.get('improved', 0)}，下降 {n.get('declined', 0)}，未变 {n.get('unchanged', 0)}，"
            f"新列入 {n.get('new', 0)}，不再考核 {n.get('dropped', 0)}；已写到 {args.out}"
        )
    else:
        print(
            f"{old} -> {new}: improved {n.get('improved', 0)}, declined {n.get('declined', 0)}, unchanged "
            f"{n.get('unchanged', 0)}, new {n.get('new', 0)}, dropped {n.get('dropped', 0)}; written to {args.out}"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    from fpanalysis.core.privacy import mask_frame
    from fpanalysis.io import load_for_analysis, write_table
    from fpanalysis.rules.relief import RELIEF_TABLES, review

    guard_writes(args, "--out")  # before any work
    if args.units:
        return run_units(args)
    as_of = parse_date(args.as_of)
    previous_as_of = parse_date(args.previous_as_of, "--previous-as-of")
    quota = parse_limit(args.quota, "--quota", args.pool, whole=True)
    budget = parse_limit(args.budget, "--budget", args.pool, whole=False)
    previous_round = read_previous_round(args.previous_round)
    if args.register is not None:
        from fpanalysis.cli.history import open_from_args

        if previous_round is not None:
            raise UsageError(
                "--previous-round 与 --register 只能给出一个",
                "give --previous-round or --register, not both",
                rule="previous-round",
            )
        from fpanalysis.cli.history import verified

        reg = verified(open_from_args(args, create=False))  # checked before any work
    dataset, params = load(args)
    if args.register is not None:
        from fpanalysis.rules.relief import default_as_of

        # "Before" is the last round recorded for an earlier date than this review's.
        day = default_as_of(dataset) if as_of is None else as_of
        previous_round, previous_round_id = reg.previous_selection(
            as_of=day, known=dataset["households"]["household_id"]
        )
        reg.close()
        if previous_round is None:
            from fpanalysis.register import RegisterError

            raise RegisterError(
                f"登记簿中没有基准日早于 {day:%Y-%m-%d} 的低保轮次（先用 relief --record 记录一轮）",
                f"the register holds no relief round dated before {day:%Y-%m-%d} (record one with relief --record)",
                file=reg.where,
                rule="register-rounds",
            )
        print(
            f"上期：登记簿轮次 {previous_round_id}"
            if args.lang == "zh"
            else f"before: register round {previous_round_id}",
            file=sys.stderr,
        )
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
    print_problems(result.problems, args.lang, args.reveal_pii)
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
