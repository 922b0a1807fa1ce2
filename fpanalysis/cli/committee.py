"""What the commands of the committee's procedure share (``decide``, ``notice``, ``object``,
``approve``; rulebook §6): their register and date options, a date given on the command line,
free text checked for ID numbers, and the printing of problems found in the meeting workbook."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

import pandas as pd

from fpanalysis.core.errors import DataError, UsageError


def add_round_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--round ROUND_ID`` (required), ``--register``, ``--lang``."""
    from fpanalysis.cli.common import add_lang
    from fpanalysis.cli.history import add_register_option

    parser.add_argument("--round", required=True, metavar="ROUND_ID", help=what)
    add_register_option(parser)
    add_lang(parser)


def parse_day(text: str | None, option: str) -> Any:
    """``YYYY-MM-DD`` as a date (None stays None); a bad date is a usage error naming the option."""
    from fpanalysis.cli.relief import parse_date

    day = parse_date(text, option)
    return None if day is None else day.date()


def check_text(text: str | None, option: str) -> str | None:
    """Free text kept in the register: stripped, and refused when it holds an ID number
    (the register keeps no citizen's personal information, rulebook §7)."""
    from fpanalysis.core.privacy import find_unmasked_ids

    if text is None:
        return None
    text = text.strip()
    if find_unmasked_ids(text):
        raise UsageError(
            f"{option} 中不能写身份证号（登记簿不保存个人信息）",
            f"{option} must not hold an ID number (the register keeps no personal information)",
            rule="id-number-in-text",
        )
    return text


def n_tiers(round_row: dict[str, Any]) -> int:
    """How many tiers the round's parameters had on its as-of date (``tier_bands``)."""
    bands = json.loads(round_row.get("params_json") or "{}").get("tier_bands") or {}
    day = pd.Timestamp(round_row["as_of"]).strftime("%Y-%m-%d")
    in_force = [v for d, v in sorted(bands.items()) if d <= day]
    return len(in_force[-1]) if in_force else 3


def round_options(round_row: dict[str, Any]) -> dict[str, Any]:
    """The options a round was recorded with (quota, budget, pool, what came before)."""
    return json.loads(round_row.get("options_json") or "{}")


def report_problems(problems: Iterable[Any], *, file: str, lang: str) -> None:
    """Print every problem (both languages, Chinese first) and raise the first, saying how
    many there are and that nothing was recorded.

    Raises:
        DataError: the first problem, with the sheet and cell in its message.
    """
    problems = list(problems)
    if not problems:
        return
    label = "错误" if lang == "zh" else "error"
    for p in problems[1:]:
        zh, en = p.located()
        print(f"{label}: {zh} / {en}", file=sys.stderr)
    zh, en = problems[0].located()
    n = len(problems)
    raise DataError(
        f"{zh}（共 {n} 处问题；未记入登记簿）",
        f"{en} ({n} problem{'s' * (n != 1)}; nothing was recorded)",
        file=file,
        value=problems[0].value,
        rule=problems[0].rule,
    )
