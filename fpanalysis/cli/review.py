"""``fpanalysis review``: dynamic management of the relief register (rulebook §6 动态管理).
Compares this period's round with the one before: every household selected before or now is
``enter``, ``continue``, ``tier_change`` or ``exit`` (with the reason: income at or above the
standard, or no longer listed — moved or died), and every household selected now says when its
next review falls due (6 months, or 12 with a disabled member whose income has not changed).
"Before" is the decision register's last relief round in force dated before this review's as-of
date with ``--register PATH|URL`` (its tiers and incomes make ``tier_change`` and "income not
changed" known), else ``--previous-round FILE`` (the last round's relief output), else the
``--previous`` dataset's ``receiving`` households, else this dataset's. ``--units --register``
compares each unit's grade between the register's last two compliance rounds in force
(``improved``, ``declined``, ``unchanged``, ``new``, ``dropped``); the units' names come from
``DATASET`` when given, else from the dataset the newest compliance round recorded."""

from __future__ import annotations

import argparse
import sys

from fpanalysis.cli.common import (
    add_analysis_options,
    add_path,
    add_register_option,
    load,
    option_help,
    parse_date,
    say_written,
)
from fpanalysis.cli.history import open_from_args
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.cli.relief import (
    add_round_options,
    parse_limit,
    print_problems,
    read_previous_round,
    round_keywords,
)
from fpanalysis.core.errors import UsageError
from fpanalysis.core.privacy import mask_frame
from fpanalysis.io import load_for_analysis, write_table
from fpanalysis.rules.relief import RELIEF_TABLES, default_as_of, review

HELP = (
    "低保动态管理：新纳入、继续、档次变动、退出与到期复核 / "
    "relief register review: enter, continue, tier change, exit, reviews due"
)
DESCRIPTION = """\
比较两期数据（或本期与目前在保户），\
列出每户的变动（新纳入、继续、档次变动、退出及原因）和应复核的户（规则手册 docs/rules.md §6）。
Compare two periods' data (or this period against who receives relief now): each household's
transition (enter, continue, tier change, exit with its reason) and who is due for review.

复核周期 6 个月；有残疾成员且收入未变的 12 个月\
（收入是否变化须有 --previous 上期数据，否则按 6 个月）。
Reviews every 6 months, or 12 for a household with a disabled member whose income has not
changed (that needs --previous; without it the change is unknown and 6 months apply).
"""


OPTIONS = option_help(
    """
    --previous
        上期数据集（文件夹或 .xlsx）；不给出时与本期在保户比较 /
        the previous period's dataset; without it, this period is compared with who receives relief
        now
    --previous-as-of
        上期基准日（默认：上期数据中最近的申请或复核日期） /
        the previous period's as-of date (default: its last recorded date)
    --units
        比较登记簿最近两轮考核中各单位的等次（须 --register；单位名称取自 DATASET，
        默认最近一轮考核记录的数据集） /
        each unit's grade between the register's last two compliance rounds (needs --register;
        the units' names from DATASET, default the dataset the newest compliance round recorded)
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    add_path(parser, "--previous", OPTIONS["--previous"], metavar="DATASET")
    parser.add_argument("--previous-as-of", metavar="DATE", help=OPTIONS["--previous-as-of"])
    add_round_options(parser)
    add_register_option(
        parser,
        "; 给出时“上期”为登记簿最近一轮低保 / "
        'when given, "before" is the register\'s last relief round',
    )
    parser.add_argument("--units", action="store_true", help=OPTIONS["--units"])


def run_units(args: argparse.Namespace) -> int:
    """``review --units``: units' grades between the last two compliance rounds in force."""
    from fpanalysis.register import unit_transitions

    if args.register is None:
        raise UsageError(
            "--units 须与 --register 一起使用", "--units needs --register", rule="units"
        )
    from fpanalysis.cli.history import unit_names, verified
    from fpanalysis.core import config
    from fpanalysis.io.workbooks import with_unit_names

    reg = verified(open_from_args(args, create=False))
    try:
        out = unit_transitions(reg)
        # the units' names: from DATASET when one is given, else from the newest round's
        given = None if args.dataset == config.SAMPLE_DIR else args.dataset
        out = with_unit_names(out, unit_names(reg, given, args.out, lang=args.lang))
    finally:
        reg.close()
    if args.out.suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import Book, register_text, write_table_workbook

        old, new = out["previous_round_id"].iloc[0], out["round_id"].iloc[0]
        b = Book("unit_review", when=f"{old} → {new}", source=register_text(reg.where, args.lang))
        write_table_workbook(out, args.out, b, lang=args.lang)
    else:
        write_table(out, args.out, lang=args.lang)
    counts = out["transition"].value_counts()
    n = {k: counts.get(k, 0) for k in ("improved", "declined", "unchanged", "new", "dropped")}
    old, new = out["previous_round_id"].iloc[0], out["round_id"].iloc[0]
    say_written(
        args,
        f"{old} → {new}：上升 {n['improved']}，下降 {n['declined']}，未变 {n['unchanged']}，"
        f"新列入 {n['new']}，不再考核 {n['dropped']}",
        f"{old} -> {new}: improved {n['improved']}, declined {n['declined']}, unchanged "
        f"{n['unchanged']}, new {n['new']}, dropped {n['dropped']}",
    )
    return 0


def run(args: argparse.Namespace) -> int:
    guard_writes(args, "--out")  # before any work
    if args.units:
        return run_units(args)
    as_of = parse_date(args.as_of)
    previous_as_of = parse_date(args.previous_as_of, "--previous-as-of")
    quota = parse_limit(args.quota, "--quota", args.pool, whole=True)
    budget = parse_limit(args.budget, "--budget", args.pool, whole=False)
    previous_round = read_previous_round(args.previous_round)
    if args.register is not None:
        if previous_round is not None:
            raise UsageError(
                "--previous-round 与 --register 只能给出一个",
                "give --previous-round or --register, not both",
                rule="previous-round",
            )
        from fpanalysis.cli.history import verified

        reg = verified(open_from_args(args, create=False))  # checked before any work
    dataset, params = load(args, RELIEF_TABLES)
    if args.register is not None:
        # "Before" is the last round recorded for an earlier date than this review's.
        day = default_as_of(dataset) if as_of is None else as_of
        # the households that left since get their ids back from the previous round's dataset
        from functools import partial

        from fpanalysis.io.recorded import recorded_households

        previous_round, previous_round_id = reg.previous_selection(
            as_of=day,
            known=dataset["households"]["household_id"],
            more_known=partial(recorded_households, lang=args.lang),
        )
        reg.close()
        if previous_round is None:
            from fpanalysis.register import RegisterError

            raise RegisterError(
                f"登记簿中没有基准日早于 {day:%Y-%m-%d} 的低保轮次"
                "（先用 relief --record 记录一轮）",
                f"the register holds no relief round dated before {day:%Y-%m-%d} "
                "(record one with relief --record)",
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
        **round_keywords(args, quota, budget, previous_round),
    )
    print_problems(result.problems, args.lang, args.reveal_pii)
    if args.out.suffix.lower() == ".xlsx":
        from fpanalysis.cli.common import book
        from fpanalysis.io.workbooks import as_of_text, write_table_workbook

        b = book("review", args, args.out, when=as_of_text(result.as_of, args.lang), tables={})
        write_table_workbook(mask_frame(out, reveal=args.reveal_pii), args.out, b, lang=args.lang)
    else:
        write_table(
            mask_frame(out, reveal=args.reveal_pii), args.out, lang=args.lang, table="households"
        )
    counts = out["transition"].value_counts()
    n = {k: counts.get(k, 0) for k in ("enter", "continue", "tier_change", "exit")}
    due = int(out["review_due"].fillna(False).astype(bool).sum())
    day = result.as_of.strftime("%Y-%m-%d")
    say_written(
        args,
        f"基准日 {day}：新纳入 {n['enter']}，继续 {n['continue']}，档次变动 {n['tier_change']}，"
        f"退出 {n['exit']}；应复核 {due} 户",
        f"as of {day}: enter {n['enter']}, continue {n['continue']}, tier change "
        f"{n['tier_change']}, exit {n['exit']}; {due} due for review",
    )
    return 0
