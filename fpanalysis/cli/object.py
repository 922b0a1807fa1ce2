"""``fpanalysis object``: objections raised during a relief round's public notice (rulebook §6).

``fpanalysis object --round ROUND_ID --household H --date D --text TEXT [--upheld REASON |
--rejected REASON]`` records an objection to a household of a decided round (from the notice's
first day on), closed at once when an outcome is given; ``fpanalysis object --round ROUND_ID
--close O001 --date D --upheld REASON | --rejected REASON`` closes an open one. A household
whose objection is upheld is taken out of the final list when the round is approved; the round
cannot be approved while an objection is open.
"""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import option_help
from fpanalysis.core.errors import UsageError

HELP = "登记公示期异议及处理结果 / record an objection raised during the notice, and its outcome"
DESCRIPTION = """\
登记公示期间对某户的异议（--household、--date、--text），可同时给出结果
（--upheld 理由：异议成立，该户从最终名单中撤销；--rejected 理由：异议不成立）；
未办结的异议以后用 --close 异议编号 办结。有未办结的异议时不能审批（规则手册 §6）。
Record an objection to a household raised during the notice (--household, --date, --text), with
its outcome at once if known (--upheld REASON: the household is taken out of the final list;
--rejected REASON); close an open one later with --close OBJECTION_ID. A round with an open
objection cannot be approved (rulebook §6).

异议内容和理由记入登记簿：请勿写入姓名或身份证号（写“户主”“该户”即可）。
The text and reasons are kept in the register: write no names or ID numbers ("the head").
"""


OPTIONS = option_help(
    """
    --household
        被提出异议的户编号 /
        the household
    --date
        异议提出（或办结）日期 YYYY-MM-DD /
        the date the objection was raised (or closed)
    --text
        异议内容 /
        what the objection says
    --close
        办结一项未办结的异议（如 O001） /
        close an open objection (e.g. O001)
    --upheld
        异议成立及理由：该户从最终名单中撤销 /
        upheld, and why: the household is taken out of the final list
    --rejected
        异议不成立及理由 /
        rejected, and why
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.committee import add_round_option

    add_round_option(parser, "已评议的轮次编号 / the decided round's id")
    parser.add_argument("--household", metavar="H", help=OPTIONS["--household"])
    parser.add_argument("--date", required=True, metavar="DATE", help=OPTIONS["--date"])
    parser.add_argument("--text", metavar="TEXT", help=OPTIONS["--text"])
    parser.add_argument("--close", metavar="OBJECTION_ID", help=OPTIONS["--close"])
    outcome = parser.add_mutually_exclusive_group()
    outcome.add_argument("--upheld", metavar="REASON", help=OPTIONS["--upheld"])
    outcome.add_argument("--rejected", metavar="REASON", help=OPTIONS["--rejected"])


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.committee import check_text, parse_day
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.cli.outputs import guard_writes, register_target

    guard_writes(args, extra=register_target(args), register=True)  # before any work
    day = parse_day(args.date, "--date")
    outcome = "upheld" if args.upheld is not None else ("rejected" if args.rejected else None)
    reason = check_text(
        args.upheld if args.upheld is not None else args.rejected, "--upheld/--rejected"
    )
    if outcome is not None and not reason:
        raise UsageError(
            "异议结果须写明理由", "an outcome needs its reason", rule="objection-reason", value=""
        )
    zh = args.lang == "zh"
    if args.close is not None:
        if args.household is not None or args.text is not None:
            raise UsageError(
                "--close 不与 --household、--text 同用",
                "--close does not go with --household or --text",
                rule="objection-options",
            )
        if outcome is None:
            raise UsageError(
                "--close 须给出 --upheld 或 --rejected 及理由",
                "--close needs --upheld or --rejected with a reason",
                rule="objection-options",
            )
        reg = open_from_args(args, create=False)
        try:
            hid = reg.close_objection(args.round, args.close, outcome, day, reason)
        finally:
            reg.close()
        _print(args.close, hid, outcome, zh)
        return 0
    if args.household is None or not (args.text or "").strip():
        raise UsageError(
            "登记异议须给出 --household 和 --text（办结已有异议用 --close）",
            "an objection needs --household and --text (close an existing one with --close)",
            rule="objection-options",
        )
    text = check_text(args.text, "--text")
    reg = open_from_args(args, create=False)
    try:
        oid = reg.record_objection(
            args.round, args.household, day, text, outcome=outcome, outcome_reason=reason
        )
    finally:
        reg.close()
    _print(oid, args.household, outcome, zh)
    return 0


def _print(oid: str, hid: str, outcome: str | None, zh: bool) -> None:
    from fpanalysis.core.privacy import mask_text

    hid = mask_text(hid)  # a household numbered by its head's ID (rulebook §7)
    if zh:
        what = {
            None: "未办结（审批前须办结）",
            "upheld": "异议成立：审批时该户从最终名单中撤销",
            "rejected": "异议不成立",
        }[outcome]
        print(f"异议 {oid}（户 {hid}）已记入登记簿：{what}")
    else:
        what = {
            None: "open (to be closed before the approval)",
            "upheld": "upheld: the household leaves the final list at the approval",
            "rejected": "rejected",
        }[outcome]
        print(f"objection {oid} (household {hid}) recorded: {what}")
