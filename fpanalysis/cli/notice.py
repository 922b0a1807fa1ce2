"""``fpanalysis notice``: the public notice (公示) of a decided relief round (rulebook §6, §7).

``fpanalysis notice --round ROUND_ID --out notice.html|.pdf|.xlsx [--from DATE] [--where TEXT]
[--dataset PATH] [--params FILE]`` lists the households to be admitted, continued, changed and
stopped with only what a notice may show (the head's name masked to the ``notice_name_mask``
form, the township, the household size, the tier and the monthly amount; never ID numbers or
incomes), the posting period (``notice_days`` from ``--from``) and where to object. ``--from``
records the notice in the register (the approval waits for its period to end); without it the
last recorded notice is printed again. The names come from the round's dataset, whose files
must be the ones the round recorded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fpanalysis.cli.common import option_help
from fpanalysis.core.errors import DataError, UsageError

HELP = "低保评议结果公示（HTML/PDF/XLSX） / the public notice of a decided relief round"
DESCRIPTION = """\
生成已评议轮次的公示名单：新纳入、继续保障、档次变更、停止保障；只显示户主姓名
（脱敏，如 张*三）、乡镇（街道）、家庭人口、档次和月保障金，不显示身份证号和收入
（规则手册 §6、§7）。
The public notice of a decided round: households to be admitted, continued, changed and
stopped, showing only the head's masked name (e.g. 张*三), the township, the household size,
the tier and the monthly amount; never ID numbers or incomes (rulebook §6, §7).

--from 给出公示首日并记入登记簿（公示 notice_days 天，默认 7 天；期满后才能审批）；
不给时重印最近记录的公示。
--from records the notice's first day in the register (posted notice_days days, 7 by default;
approval only after them); without it the last recorded notice is printed again.

姓名取自本轮的数据集（--dataset，默认登记簿记录的路径），其文件须与本轮记录的 SHA-256 一致。
.pdf 由 Chromium（/usr/bin/chromium）打印，A4，嵌入中文字体。
Names come from the round's dataset (--dataset, default the path the register recorded), whose
files must match the round's SHA-256. A .pdf is printed by Chromium (/usr/bin/chromium), A4,
with the Chinese fonts embedded.
"""


OPTIONS = option_help(
    """
    --out
        公示文件：.html（A4 可打印）、.pdf 或 .xlsx /
        the notice: .html (printable on A4), .pdf or .xlsx
    --from
        公示首日 YYYY-MM-DD（记入登记簿） /
        the notice's first day (recorded in the register)
    --where
        受理异议的地点或电话（默认：乡镇人民政府或县民政局） /
        where to object (default: the township government or the county Civil Affairs Bureau)
    --dataset
        本轮的数据集（默认：登记簿记录的路径） /
        the round's dataset (default: the path the register recorded)
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.committee import add_round_option
    from fpanalysis.cli.common import add_params

    add_round_option(parser, "已评议的轮次编号（decide 显示的） / the decided round's id")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help=OPTIONS["--out"])
    parser.add_argument("--from", dest="first_day", metavar="DATE", help=OPTIONS["--from"])
    parser.add_argument("--where", metavar="TEXT", help=OPTIONS["--where"])
    parser.add_argument("--dataset", type=Path, metavar="PATH", help=OPTIONS["--dataset"])
    add_params(parser)


def _dataset(args: argparse.Namespace, row: dict[str, Any]):
    """The round's dataset, refused when its files are not the ones the round recorded."""
    from fpanalysis.io import load_for_analysis
    from fpanalysis.io.recorded import changed_file
    from fpanalysis.rules.relief import RELIEF_TABLES

    inputs = json.loads(row.get("inputs_json") or "{}")
    path = args.dataset or (Path(inputs["source"]) if inputs.get("source") else None)
    if path is None:
        raise UsageError(
            "登记簿没有记录本轮的数据集：请用 --dataset 指明",
            "the register holds no dataset path for this round: give --dataset",
            rule="dataset",
        )
    ds = load_for_analysis(path, list(RELIEF_TABLES), lang=args.lang)
    for table in RELIEF_TABLES:
        changed = changed_file(ds, inputs, table)
        if changed is not None:
            name, was, now = changed[0], str(changed[1])[:12], str(changed[2])[:12]
            raise DataError(
                f"数据集与本轮记录的不一致：{name} 的 SHA-256 已变（本轮 {was}…，现为 {now}…）；"
                "请用本轮的数据集（--dataset）",
                f"the dataset is not the round's: the SHA-256 of {name} differs (round {was}…, "
                f"now {now}…); give the round's dataset (--dataset)",
                file=str(path),
                value=name,
                rule="dataset-hash",
            )
    return ds


def _previous_tiers(reg, options: dict[str, Any]) -> dict[str, int] | None:
    """The tiers of the round that came before (when it is in the register)."""
    before = str(options.get("before") or "")
    if not before.startswith("register:"):
        return None
    prev = reg.relief_rows(before.split(":", 1)[1])
    prev = prev[prev["selected"].fillna(False).astype(bool) & prev["tier"].notna()]
    return dict(zip(prev["household_id"], prev["tier"].astype(int), strict=True))


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.committee import check_text, parse_day, round_options
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.cli.outputs import guard_writes, register_target
    from fpanalysis.core.params import load_params
    from fpanalysis.core.privacy import mask_name_as
    from fpanalysis.io.guard import Target, check_writes
    from fpanalysis.io.notice import (
        NOTICE_SUFFIXES,
        Notice,
        check_chromium,
        check_notice_out,
        write_notice,
    )
    from fpanalysis.register import stage_error
    from fpanalysis.rules.relief import (
        NOTICE_CATEGORIES,
        earliest_approval,
        notice_lists,
        notice_period,
    )

    check_notice_out(args.out)
    # an .xlsx notice never replaces a workbook fpanalysis did not write or that was saved
    # since (the committee's filled-in meeting workbook): rulebook §7, outputs only where asked
    kind = "workbook" if args.out.suffix.lower() == ".xlsx" else "file"
    out = Target("--out", args.out, kind, NOTICE_SUFFIXES, forceable=False)
    guard_writes(args, extra=[out, *register_target(args)], register=True)  # before any work
    if args.out.suffix.lower() == ".pdf":
        check_chromium()  # before any work
    first_day = parse_day(args.first_day, "--from")
    where = check_text(args.where, "--where")
    params = load_params(args.params)
    reg = open_from_args(args, create=False)
    try:
        proc = reg.procedure(args.round)
        decided = proc["decided"]
        if decided is None:
            raise stage_error(
                reg.where,
                args.round,
                f"轮次 {args.round} 还没有评议（先用 fpanalysis decide 读回评议结果）",
                f"round {args.round} is not decided yet (read the decisions with fpanalysis "
                "decide first)",
            )
        rounds = reg.rounds("relief").set_index("round_id")
        row = rounds.loc[decided].to_dict() | {"round_id": decided}
        notices = reg.notices(decided)
        if first_day is None:
            if notices.empty:
                raise UsageError(
                    "本轮还没有公示记录：请用 --from 给出公示首日",
                    "no notice is recorded for this round: give its first day with --from",
                    rule="notice-date",
                )
            last = notices.iloc[-1]
            first_day, days = last["first_day"], int(last["days"])
            where = where if args.where is not None else (last["place"] or None)
        else:
            if proc["approved"] is not None:
                raise stage_error(
                    reg.where,
                    args.round,
                    f"轮次 {decided} 已审批（{proc['approved']}），不能再公示",
                    f"round {decided} is already approved ({proc['approved']}); no new notice",
                )
            days = int(params.at("notice_days", first_day))
        first, last_day = notice_period(first_day, days)
        if proc["approved"] is not None:
            rows = reg.relief_rows(proc["approved"])
        else:
            rows = reg.final_rows(decided)
        proposal = rounds.loc[proc["proposal"]].to_dict() if proc["proposal"] else row
        ds = _dataset(args, row)
        check_writes([out], [("--dataset", ds.source)])  # the round's dataset, once known
        # a household numbered by its head's ID is stored as its keyed hash: its id again
        # (the notice shows no id; its order and names follow the dataset's ids)
        ids = ds["households"]["household_id"].astype(str).tolist()
        back = dict(zip(reg.stored_keys(ids), ids, strict=True))
        decisions = reg.decisions(decided)
        for df in (rows, decisions):
            df["household_id"] = df["household_id"].map(lambda h: back.get(h, h))
        tiers = _previous_tiers(reg, round_options(proposal))
        tiers = None if tiers is None else {back.get(h, h): t for h, t in tiers.items()}
        lists = notice_lists(rows, decisions, tiers)
        form = params.at("notice_name_mask", first)
        names = ds["households"].set_index("household_id")["head_name"]
        lists["head"] = [
            mask_name_as(names.get(h), form) if h in names.index else ""
            for h in lists["household_id"]
        ]
        notice = Notice(lists, first, last_day, days, where or "", decided, args.lang)
        write_notice(notice, args.out)
        recorded = False
        if args.first_day is not None:
            _, recorded = reg.record_notice(decided, first, days, where)
    finally:
        reg.close()
    n = lists["category"].value_counts()
    counts = [(NOTICE_CATEGORIES[c], int(n.get(c, 0))) for c in NOTICE_CATEGORIES]
    approval = earliest_approval(first, days)
    lines = [
        (
            f"轮次 {decided} 公示："
            + "，".join(f"{lab[0]} {k} 户" for lab, k in counts)
            + f"；公示期 {first} 至 {last_day}（{days} 天）；已写到 {args.out}",
            f"notice of round {decided}: "
            + ", ".join(f"{lab[1]} {k}" for lab, k in counts)
            + f"; posted {first} to {last_day} ({days} days); written to {args.out}",
        )
    ]
    if recorded:
        lines.append(
            (
                f"公示已记入登记簿：{first} 起 {days} 天，{approval} 起可审批",
                f"notice recorded in the register: approval from {approval}",
            )
        )
    for zh, en in lines:
        print(zh if args.lang == "zh" else en)
    return 0
