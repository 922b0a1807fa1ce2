"""``fpanalysis history``: what the decision register recorded (rulebook §6 动态管理, §3): one
household over the recorded relief rounds (``HOUSEHOLD_ID``; a round without it says so), one unit's
or every unit's score, grade and veto over the compliance rounds (``--unit``, ``--units``), or the
rounds themselves (``--rounds``). The register defaults to ``register.sqlite`` in the working
folder. This module also holds the register steps shared by ``relief``, ``compliance`` and
``review``: opening the register, the previous round, recording a round."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.cli.common import add_lang, add_out, add_register_option, option_help, say_written
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.errors import UsageError
from fpanalysis.io import write_table
from fpanalysis.rules.compliance import accountability_list
from fpanalysis.rules.relief import default_as_of, review

HELP = (
    "登记簿查询：某户历次低保记录、单位历次考核等次 / "
    "the decision register: a household's relief rounds, units' grades"
)
DESCRIPTION = """\
从登记簿（--register，默认当前文件夹的 register.sqlite，或 postgresql:// 地址）读出记录。
Read the decision register (--register, default register.sqlite in the working folder, or a
postgresql:// URL).

fpanalysis history H0001 --out h.csv          某户历次低保轮次 / a household over the relief rounds
fpanalysis history --unit U01 --out u.csv     某单位历次考核等次 / a unit's grades over the rounds
fpanalysis history --units --out units.csv    所有单位 / every unit
fpanalysis history --rounds --out rounds.csv  所有轮次 / the rounds themselves

登记簿不可用时退出码 3，正被他人写入时 75（请稍后重试）。
Exit code 3 when the register cannot be used, 75 when it is busy (try again).
"""

TIMEOUT_ENV = "FPANALYSIS_REGISTER_TIMEOUT"


# --------------------------------------------------------------------------- the register


OPTIONS = option_help(
    """
    household_id
        户编号 /
        household id
    --unit
        某单位历次考核等次 /
        one unit's grades over the rounds
    --units
        所有单位历次考核等次 /
        every unit's grades
    --rounds
        登记簿中的所有轮次 /
        every recorded round
    --dataset
        单位名称所取自的数据集（--unit、--units；默认登记簿记录的最近一轮考核的数据集） /
        the dataset the units' names are read from (--unit, --units; default: the one the
        newest compliance round recorded)
    """
)


def _timeout() -> float:
    from fpanalysis.register import DEFAULT_TIMEOUT

    text = os.environ.get(TIMEOUT_ENV)
    try:
        return float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


def check_record_options(args: argparse.Namespace) -> None:
    """--supersedes and --note only make sense with --record."""
    for opt in ("supersedes", "note"):
        if getattr(args, opt, None) is not None and not getattr(args, "record", False):
            raise UsageError(
                f"--{opt} 须与 --record 一起使用",
                f"--{opt} needs --record",
                rule=opt,
            )


def open_from_args(args: argparse.Namespace, *, create: bool):
    """The register named by ``--register`` (default ``register.sqlite``), checked."""
    from fpanalysis.register import open_register

    return open_register(getattr(args, "register", None), create=create, timeout=_timeout())


def relief_register(args: argparse.Namespace):
    """For ``relief``: the register of ``--register``/``--record``, checked before any work
    (or None)."""
    check_record_options(args)
    if getattr(args, "register", None) is None and not getattr(args, "record", False):
        return None
    return open_from_args(args, create=bool(getattr(args, "record", False)))


def relief_previous(
    args: argparse.Namespace,
    reg: Any,
    previous_round: pd.DataFrame | None,
    dataset: Any,
    as_of: Any,
) -> tuple[pd.DataFrame | None, str | None]:
    """``(previous_round, previous_round_id)`` for a relief round on ``as_of``.

    With a register, "who receives relief now" is its last relief round in force
    dated before ``as_of`` (default: the dataset's last recorded date), and
    before the round ``--supersedes`` corrects; ``--previous-round FILE`` wins
    when given (and is recorded as such).
    """
    if reg is None or previous_round is not None:
        return previous_round, None
    day = default_as_of(dataset) if as_of is None else as_of
    known = dataset["households"]["household_id"] if "households" in dataset else None
    return reg.previous_selection(before=getattr(args, "supersedes", None), as_of=day, known=known)


def _params_text(args: argparse.Namespace) -> str | None:
    p = getattr(args, "params", None)
    if p is None:
        return None
    return Path(p).read_text(encoding="utf-8")


def record_relief(
    args: argparse.Namespace,
    reg: Any,
    result: Any,
    dataset: Any,
    params: Any,
    *,
    previous_round: pd.DataFrame | None,
    previous_round_id: str | None,
    quota: Any,
    budget: Any,
) -> str:
    """Record the relief round (with each selected household's review date); print its id."""
    rev, _ = review(
        dataset,
        params,
        result.as_of,
        previous_round=previous_round,
        quota=quota,
        budget_yuan=budget,
        pool=result.pool,
    )
    before = (
        f"register:{previous_round_id}"
        if previous_round_id
        else (
            f"file:{args.previous_round}" if getattr(args, "previous_round", None) else "receiving"
        )
    )
    options = {
        "quota": quota,
        "budget_yuan": budget,
        "pool": result.pool,
        "before": before,
        "reveal_pii": bool(getattr(args, "reveal_pii", False)),  # rulebook §7
    }
    rid = reg.record_relief(
        result,
        params,
        dataset=dataset,
        review=rev,
        override_text=_params_text(args),
        options=options,
        supersedes=args.supersedes,
        note=args.note,
    )
    print_recorded(rid, reg, args.lang)
    return rid


def record_compliance(args: argparse.Namespace, card, detail, dataset, params, period: str) -> str:
    """Record the compliance evaluation with its accountability list; print its id."""
    check_record_options(args)
    reg = open_from_args(args, create=True)
    acc = accountability_list(dataset, params, period, detail=detail)
    rid = reg.record_compliance(
        card,
        acc,
        params,
        period=period,
        dataset=dataset,
        override_text=_params_text(args),
        options={"reveal_pii": bool(getattr(args, "reveal_pii", False))},  # rulebook §7
        supersedes=args.supersedes,
        note=args.note,
    )
    print_recorded(rid, reg, args.lang)
    return rid


def print_recorded(round_id: str, reg: Any, lang: str) -> None:
    if lang == "zh":
        print(f"已记入登记簿 {reg.where}：轮次 {round_id}")
    else:
        print(f"recorded in the register {reg.where}: round {round_id}")


def verified(reg: Any) -> Any:
    """The register, once every round's seal and the chain are checked (rulebook §6).

    Raises:
        RegisterError: a round altered, deleted or recorded outside fpanalysis, or the
            append-only protection removed (exit code 3), naming the rounds.
    """
    from fpanalysis.register.errors import tampered

    found = reg.check_seals()
    if not found.ok:
        reg.close()
        raise tampered(reg.where, found.problems)
    return reg


def unit_names(reg: Any, dataset: Path | None, out: Path | None, *, lang: str) -> dict[str, str]:
    """Unit id -> name, for the register's tables of units (rulebook §3).

    A round records what it scored (ids, rates, grades), not the units' names, so the names are
    read from a dataset's ``units`` table: ``dataset`` when given (an error when it cannot be
    read), else the dataset the newest compliance round recorded, while its units file is the
    one that round read (:func:`fpanalysis.io.recorded.recorded_dataset`; else the names are
    left out, with a line on stderr saying why and how to give them). ``out`` is refused where
    it would overwrite the dataset read (:func:`fpanalysis.io.guard.check_writes`). Which
    dataset the names came from is said on stderr: a name is a label, read as it is today.
    """
    from fpanalysis.cli.outputs import OUTPUTS
    from fpanalysis.io import load_for_analysis
    from fpanalysis.io.guard import Target, check_writes
    from fpanalysis.io.recorded import recorded_dataset
    from fpanalysis.io.workbooks import unit_names_of

    zh = lang == "zh"
    if dataset is None:
        rounds = reg.rounds("compliance")
        ds = recorded_dataset(
            rounds["inputs_json"].iloc[-1] if len(rounds) else None,
            "units",
            lang=lang,
            what=("未列单位名称", "no unit names"),
            whose=("最近一轮考核的数据集", "the newest compliance round's dataset"),
            hint=("；可用 --dataset 指明", "; give one with --dataset"),
        )
        if ds is None:
            return {}
    else:
        ds = load_for_analysis(dataset, ["units"], lang=lang)
    if out is not None:
        _, kind, suffixes = OUTPUTS["--out"]
        check_writes([Target("--out", Path(out), kind, suffixes)], [("--dataset", ds.source)])
    names = unit_names_of(ds)
    print(f"单位名称取自 {ds.source}" if zh else f"unit names from {ds.source}", file=sys.stderr)
    return names


# --------------------------------------------------------------------------- history


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "household_id", nargs="?", metavar="HOUSEHOLD_ID", help=OPTIONS["household_id"]
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--unit", metavar="UNIT_ID", help=OPTIONS["--unit"])
    group.add_argument("--units", action="store_true", help=OPTIONS["--units"])
    group.add_argument("--rounds", action="store_true", help=OPTIONS["--rounds"])
    parser.add_argument("--dataset", type=Path, metavar="PATH", help=OPTIONS["--dataset"])
    add_register_option(parser)
    add_lang(parser)
    add_out(parser)


def run(args: argparse.Namespace) -> int:
    guard_writes(args, "--out", register=True)  # before any work
    modes = [args.household_id is not None, args.unit is not None, args.units, args.rounds]
    if sum(bool(m) for m in modes) != 1:
        raise UsageError(
            "请给出户编号，或 --unit / --units / --rounds 之一",
            "give a household id, or one of --unit / --units / --rounds",
            rule="history-mode",
        )
    if args.dataset is not None and not (args.unit or args.units):
        raise UsageError(
            "--dataset 只用于 --unit 或 --units（单位名称）",
            "--dataset is for --unit or --units only (the units' names)",
            rule="history-mode",
        )
    from fpanalysis.core.privacy import mask_frame, mask_text

    reg = verified(open_from_args(args, create=False))
    zh = args.lang == "zh"
    who = mask_text(args.household_id)  # a household numbered by its head's ID (rulebook §7)
    try:
        if args.household_id is not None:
            df = reg.household_history(args.household_id)
            n_listed = int(df["listed"].sum())
            if zh:
                msg = f"户 {who}：登记簿共 {len(df)} 轮低保，其中 {n_listed} 轮有此户"
            else:
                msg = f"household {who}: {len(df)} relief rounds recorded, listed in {n_listed}"
            if len(df) and n_listed == 0:
                print(
                    f"注意：登记簿的任何一轮都没有户 {who}"
                    if zh
                    else f"note: household {who} is in no recorded round",
                    file=sys.stderr,
                )
        elif args.rounds:
            # the round's kind, not a unit's (units.kind, 单位类型) in the headers
            df = reg.rounds().rename(columns={"kind": "round_kind"})
            msg = f"登记簿共 {len(df)} 轮" if zh else f"{len(df)} rounds recorded"
        else:
            from fpanalysis.io.workbooks import with_unit_names

            names = unit_names(reg, args.dataset, args.out, lang=args.lang)
            df = with_unit_names(reg.unit_grades(args.unit), names)
            who = args.unit or ("所有单位" if zh else "every unit")
            if args.unit and names.get(args.unit):
                who += f"（{names[args.unit]}）" if zh else f" ({names[args.unit]})"
            n = df["round_id"].nunique()
            msg = (
                f"{who}：{n} 轮考核，{len(df)} 行"
                if zh
                else f"{who}: {n} compliance rounds, {len(df)} rows"
            )
    finally:
        reg.close()
    df = mask_frame(df)  # a household numbered by its head's ID (rulebook §7)
    if args.out.suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import Book, register_text, write_table_workbook

        if args.household_id is not None:
            kind, when = "household_history", ("户 " if zh else "household ") + who
        elif args.rounds:
            kind, when = "rounds", None
        else:
            # the unit with its name, as the line printed says it
            kind, when = "unit_grades", args.unit and ("单位 " if zh else "unit ") + who
        b = Book(kind, when=when, source=register_text(reg.where, args.lang))
        write_table_workbook(df, args.out, b, lang=args.lang)
    else:
        write_table(df, args.out, lang=args.lang)
    say_written(args, msg, msg)
    return 0
