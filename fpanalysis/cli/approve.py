"""``fpanalysis approve``: the approval that closes a relief round (rulebook §6).

``fpanalysis approve --round ROUND_ID --by NAME [--date D] [--note TEXT]`` approves a decided
round once its notice period is over (from the day after: 7 days from 1 March means approval
from 8 March) and no objection is open. The final list, without the households whose objection
was upheld, is recorded as a round that supersedes the decided one; from then on the last
approved round is "the last recorded round" for ``review`` and the next ``relief``. The
approver's name is kept as an audit field and masked in what is printed unless
``--reveal-pii``.
"""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import option_help
from fpanalysis.core.errors import UsageError

HELP = "审批已公示的低保轮次 / approve a decided relief round after its notice"
DESCRIPTION = """\
公示期满（自公示首日起 notice_days 天之后）且没有未办结的异议时，审批已评议的轮次：
最终名单（去掉异议成立的户）作为新的一轮记入登记簿，此后 review 和下一轮 relief
以它为“最近记录的一轮”（规则手册 §6）。
Approve a decided round once its notice period is over (notice_days from the first day) and no
objection is open: the final list (without households whose objection was upheld) is recorded
as a new round, which review and the next relief then take as "the last recorded round"
(rulebook §6).

审批人姓名作为审计信息记入登记簿，输出中默认脱敏。--date 默认为今天（SOURCE_DATE_EPOCH 优先）。
The approver's name is kept as an audit field and masked in outputs by default. --date defaults
to today (SOURCE_DATE_EPOCH when set).
"""


OPTIONS = option_help(
    """
    --by
        审批人（工作人员） /
        the approving staff member
    --date
        审批日期 YYYY-MM-DD（默认今天） /
        approval date (default today)
    --note
        记入登记簿的说明 /
        a note kept with the approved round
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.committee import add_round_option
    from fpanalysis.cli.common import add_reveal_pii

    add_round_option(parser, "已评议、已公示的轮次编号 / the decided, posted round's id")
    parser.add_argument("--by", required=True, metavar="NAME", help=OPTIONS["--by"])
    parser.add_argument("--date", metavar="DATE", help=OPTIONS["--date"])
    parser.add_argument("--note", metavar="TEXT", help=OPTIONS["--note"])
    add_reveal_pii(parser)


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.committee import check_text, parse_day
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.cli.outputs import guard_writes, register_target
    from fpanalysis.core.clock import now_utc
    from fpanalysis.core.privacy import mask_name

    guard_writes(args, extra=register_target(args), register=True)  # before any work
    day = parse_day(args.date, "--date") or now_utc().date()
    by = check_text(args.by, "--by")
    if not by:
        raise UsageError("--by 不能为空", "--by must not be empty", rule="approved-by", value="")
    note = check_text(args.note, "--note")
    reg = open_from_args(args, create=False)
    try:
        rid = reg.approve(args.round, by, day, note=note)
        rows = reg.relief_rows(rid)
        objections = reg.objections(args.round)
    finally:
        reg.close()
    chosen = rows[rows["selected"].fillna(False).astype(bool)]
    total = int(chosen["entitlement_yuan"].fillna(0).astype("int64").sum())
    withdrawn = int(rows["selection"].eq("withdrawn").sum())
    who = by if args.reveal_pii else mask_name(by)
    if args.lang == "zh":
        print(
            f"轮次 {args.round} 已审批（审批人 {who}，{day}）：最终名单记为轮次 {rid}；"
            f"纳入 {len(chosen)} 户，月保障金合计 {total} 元；异议 {len(objections)} 项，"
            f"成立撤销 {withdrawn} 户"
        )
    else:
        print(
            f"round {args.round} approved (by {who}, {day}): the final list is round {rid}; "
            f"{len(chosen)} households, {total} yuan a month; {len(objections)} objections, "
            f"{withdrawn} households withdrawn"
        )
    return 0
