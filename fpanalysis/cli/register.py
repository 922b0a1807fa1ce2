"""``fpanalysis register check``: verify the decision register's seals (rulebook §6).

Every round recorded is sealed by the hash of its record, chained to the round before it
(:mod:`fpanalysis.register.seals`). ``check`` recomputes them all and names each round altered,
deleted or recorded outside fpanalysis, and each append-only trigger removed; it prints the last
seal of the chain, to compare with the one noted when the round was recorded. Exit code 0 when
the register is intact, 3 when it is not (or cannot be used), 75 when it is busy. It writes
nothing.
"""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import add_lang, option_help

HELP = "登记簿核验：每一轮的封存与封存链 / check the decision register's seals and chain"
DESCRIPTION = """\
重新计算登记簿每一轮的封存散列及封存链，指出被改动、被删除或不是由 fpanalysis 记录的轮次，
以及被删除的只追加保护。
Recompute every round's seal and the chain of seals; name each round altered, deleted or not
recorded by fpanalysis, and any append-only protection removed.

  fpanalysis register check --register register.sqlite

退出码 / exit code: 0 完好 intact; 3 不符或不可用 altered or unusable; 75 正被写入 busy.
"""


OPTIONS = option_help(
    """
    action
        check：核验封存 /
        verify the seals
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fpanalysis.cli.history import add_register_option

    parser.add_argument("action", choices=["check"], help=OPTIONS["action"])
    add_register_option(parser)
    add_lang(parser)


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.history import open_from_args
    from fpanalysis.register.errors import tampered

    reg = open_from_args(args, create=False)
    try:
        found = reg.check_seals()
    finally:
        reg.close()
    zh = args.lang == "zh"
    if not found.ok:
        for p in found.problems:
            print(("不符：" if zh else "altered: ") + (p.message_zh if zh else p.message_en))
        raise tampered(reg.where, found.problems)
    tip = (found.tip or "")[:16]
    print(
        f"登记簿 {reg.where}：{found.rounds} 轮，每一轮的封存和封存链都完好；最后的封存 {tip}"
        if zh
        else f"register {reg.where}: {found.rounds} rounds, every seal and the chain intact; "
        f"last seal {tip}"
    )
    return 0
