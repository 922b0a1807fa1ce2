"""``fpanalysis decide``: the democratic appraisal meeting's decisions read back (rulebook §6).

``fpanalysis decide MEETING.xlsx --round ROUND_ID [--register PATH|URL] [--over-quota --reason
TEXT] [--note TEXT]`` reads the decision, reason and decided-tier columns of the meeting
workbook ``relief --meeting --record`` wrote for the round, checks them against the proposal
(the round's id and proposal hash, every protected cell, the households listed, each
decision's value, reason and tier, the quota or budget) and records the decided round, which
supersedes the proposal. Any problem is reported with its sheet, cell, value and rule, and
nothing is recorded.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fpanalysis.cli.common import option_help
from fpanalysis.core.errors import UsageError

HELP = (
    "读回民主评议结果并记入登记簿 / read the committee's decisions back from the meeting "
    "workbook and record them"
)
DESCRIPTION = """\
读回 relief --meeting --record 写出的评议会名单中的评议意见
（同意、不同意、调整档次、补充纳入；留空视为同意），与方案逐项核对后作为新的一轮记入登记簿
（取代原方案，保留每户拟定和评议后的状态与档次）（规则手册 §6）。
Read the decisions (confirm, reject, change tier, admit out of order; blank = confirm) back from
the meeting workbook relief --meeting --record wrote, check them against the proposal and record
them as a new round that supersedes it, with each household's proposed and decided status and
tier (rulebook §6).

不同意、调整档次、补充纳入须写明理由；越序补充纳入会列出被越过的户；决定的名单超过名额或预算时拒绝，
除非给出 --over-quota 和 --reason。任何问题都指明工作表、单元格、值和规则，且不记入任何内容。
Every departure needs a reason; an admission out of rank order names the households it passes
over; a decided list over the quota or budget is refused unless --over-quota with --reason.
Any problem names the sheet, cell, value and rule, and nothing is recorded.
"""


OPTIONS = option_help(
    """
    workbook
        评议会填写后的会议表（.xlsx） /
        the meeting workbook as the committee filled it in
    --over-quota
        允许决定的名单超过名额或预算（须同时给出 --reason） /
        accept a decided list over the quota or budget (needs --reason)
    --reason
        超过名额或预算的理由（与 --over-quota 同用） /
        why the list may exceed the quota or budget (with --over-quota)
    --note
        记入登记簿的说明（如会议日期） /
        a note kept with the round (e.g. the meeting's date)
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.committee import add_round_option

    parser.add_argument("workbook", type=Path, metavar="WORKBOOK", help=OPTIONS["workbook"])
    add_round_option(parser, "方案的轮次编号（relief --record 显示的） / the proposal's round id")
    parser.add_argument("--over-quota", action="store_true", help=OPTIONS["--over-quota"])
    parser.add_argument("--reason", metavar="TEXT", help=OPTIONS["--reason"])
    parser.add_argument("--note", metavar="TEXT", help=OPTIONS["--note"])


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.committee import check_text, n_tiers, report_problems, round_options
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.cli.outputs import guard_writes, register_target
    from fpanalysis.io.meeting import read_meeting_workbook
    from fpanalysis.register import stage_error
    from fpanalysis.rules.relief import Problem, apply_decisions, limit_excess, proposal_digest

    # the register is written; the meeting workbook and the register are never each other
    guard_writes(args, extra=register_target(args), register=True)  # before any work
    if args.over_quota != (args.reason is not None):
        raise UsageError(
            "--over-quota 与 --reason 须一起给出",
            "--over-quota and --reason go together",
            rule="over-quota",
        )
    reason = check_text(args.reason, "--reason")
    note = check_text(args.note, "--note")
    if args.over_quota and not reason:
        raise UsageError(
            "--reason 不能为空", "--reason must not be empty", rule="over-quota", value=""
        )
    reg = open_from_args(args, create=False)
    try:
        wb = read_meeting_workbook(args.workbook)
        rounds = reg.rounds("relief").set_index("round_id")
        problems: list[Problem] = []
        sheet, cell = wb.round_cells.get("round_id", (None, None))
        if wb.round_id != args.round:
            problems.append(
                Problem(
                    f"这份会议表属于轮次 {wb.round_id or '（未记入登记簿）'}，不是 {args.round}",
                    f"this meeting workbook is of round {wb.round_id or '(not recorded)'}, "
                    f"not {args.round}",
                    "round-mismatch",
                    wb.round_id,
                    sheet,
                    cell,
                )
            )
            report_problems(problems, file=str(args.workbook), lang=args.lang)
        if args.round not in rounds.index:
            from fpanalysis.register import no_round

            raise no_round(reg.where, args.round, "relief")
        row = rounds.loc[args.round].to_dict() | {"round_id": args.round}
        by = row["superseded_by"]
        if row["stage"] != "proposed" or isinstance(by, str):
            what = by if isinstance(by, str) else row["stage"]
            raise stage_error(
                reg.where,
                args.round,
                f"轮次 {args.round} 不是待评议的方案（{what}）",
                f"round {args.round} is not a proposal awaiting decision ({what})",
            )
        proposal = reg.relief_rows(args.round)
        if wb.digest != proposal_digest(proposal):
            sheet, cell = wb.round_cells.get("proposal_sha256", (None, None))
            problems.append(
                Problem(
                    "会议表中的方案摘要与登记簿中该轮的方案不符（不是这一轮写出的会议表，或已被改动）",
                    "the workbook's proposal hash does not match the round's proposal in the "
                    "register (a workbook of another round, or edited)",
                    "proposal-digest",
                    wb.digest,
                    sheet,
                    cell,
                )
            )
        # a household numbered by an ID number: the register's keyed hash (rulebook §7)
        marks = wb.marks.assign(round_id=args.round)
        marks["household_id"] = reg.stored_keys(marks["household_id"])
        # each household as the workbook showed it to the committee (an ID number masked,
        # never the register's hash), for the problems and the summary
        shown = dict(zip(marks["household_id"], marks["household_shown"], strict=True))
        decided, found = apply_decisions(proposal, marks, n_tiers=n_tiers(row), sheets=wb.sheets)
        listed = {"household-not-in-round", "household-twice", "wrong-list", "rows-missing"}
        problems += [p for p in found if p.rule in listed]
        problems += wb.problems
        problems += [p for p in found if p.rule not in listed]
        opts = round_options(row)
        excess = (
            []
            if problems
            else limit_excess(
                proposal, decided, quota=opts.get("quota"), budget_yuan=opts.get("budget_yuan")
            )
        )
        if excess and not args.over_quota:
            problems += [
                Problem(
                    f"{zh}；如确需超出，请用 --over-quota --reason 说明理由",
                    f"{en}; to exceed it, give --over-quota --reason",
                    "over-quota",
                    None,
                )
                for zh, en in excess
            ]
        report_problems(_as_shown(problems, shown), file=str(args.workbook), lang=args.lang)
        extra = (
            {"over_quota_reason": reason, "over_quota": [e for _, e in excess]} if excess else {}
        )
        rid = reg.record_decision(args.round, decided, options=extra, note=note)
        _print_summary(args, reg, rid, decided, excess, shown)
    finally:
        reg.close()
    return 0


def _as_shown(problems: list[Any], shown: dict[str, str]) -> list[Any]:
    """``problems`` with each register key they name (``id#`` and 24 hex digits) replaced by the
    household as the workbook showed it, where it did (a household missing from the workbook
    keeps its key: there is nothing else to name it by)."""
    import dataclasses

    from fpanalysis.register.keys import STORED_KEY

    def named(v: Any) -> Any:
        return (
            STORED_KEY.sub(lambda m: shown.get(m.group(0)) or m.group(0), v)
            if isinstance(v, str)
            else v
        )

    return [
        dataclasses.replace(
            p, message_zh=named(p.message_zh), message_en=named(p.message_en), value=named(p.value)
        )
        for p in problems
    ]


def _print_summary(args, reg, rid, decided, excess, shown) -> None:
    """What was decided: the counts, each departure with its reason, the new list's size.

    ``shown``: each household's key as the register stores it -> as the meeting workbook shows
    it, so that a household numbered by an ID number is named by the number masked, not by its
    hash (rulebook §7); any ID number left in a line is masked too.
    """
    from fpanalysis.core.privacy import mask_text

    def name(key: str) -> str:
        return shown.get(key) or key

    zh = args.lang == "zh"
    n = decided["decision"].value_counts()
    counts = {c: int(n.get(c, 0)) for c in ("confirm", "reject", "change_tier", "admit")}
    rows = reg.relief_rows(rid)
    chosen = rows[rows["selected"].fillna(False).astype(bool)]
    total = int(chosen["entitlement_yuan"].fillna(0).astype("int64").sum())
    if zh:
        print(
            f"已记入登记簿 {reg.where}：轮次 {rid}（评议结果，取代方案 {args.round}）；"
            f"同意 {counts['confirm']}，不同意 {counts['reject']}，"
            f"调整档次 {counts['change_tier']}，"
            f"补充纳入 {counts['admit']}；决定纳入 {len(chosen)} 户，月保障金合计 {total} 元"
        )
    else:
        print(
            f"recorded in the register {reg.where}: round {rid} (the committee's decisions, "
            f"superseding the proposal {args.round}); confirmed {counts['confirm']}, rejected "
            f"{counts['reject']}, tier changed {counts['change_tier']}, admitted out of order "
            f"{counts['admit']}; {len(chosen)} households decided, {total} yuan a month"
        )
    for d in decided[~decided["decision"].eq("confirm")].to_dict("records"):
        rank = "" if d["rank"] is None else d["rank"]
        over = " ".join(name(k) for k in (d["passes_over"] or "").split())
        who = name(d["household_id"])
        if zh:
            what = {
                "reject": "不同意",
                "change_tier": f"档次 {d['proposed_tier']} → {d['decided_tier']}",
                "admit": "补充纳入" + (f"，越过 {over.replace(' ', '、')}" if over else ""),
            }[d["decision"]]
            print(mask_text(f"  {who}（第 {rank} 名）：{what}；理由：{d['reason']}"))
        else:
            what = {
                "reject": "rejected",
                "change_tier": f"tier {d['proposed_tier']} -> {d['decided_tier']}",
                "admit": "admitted out of order"
                + (f", passing over {over.replace(' ', ', ')}" if over else ""),
            }[d["decision"]]
            print(mask_text(f"  {who} (rank {rank}): {what}; reason: {d['reason']}"))
    for z, e in excess:
        print(
            ("注意：超出名额或预算（--over-quota）：" + z)
            if zh
            else ("note: over the limit (--over-quota): " + e)
        )
