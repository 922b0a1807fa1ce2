"""What the traces share: the error for an id the dataset does not hold (naming the closest ones),
personal information masked unless revealed (rulebook §7), and numbers, money and dates as text."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.numbers import plain_text
from fpanalysis.core.privacy import mask_id_number, mask_name


def unknown_id(what: tuple[str, str], key: str, known: Iterable[Any]) -> UsageError:
    """The error for an id that is not in the dataset, naming the closest ids it holds.

    Args:
        what: the kind of id, (zh, en): ``("单位", "unit")``.
        key: the id asked for.
        known: the ids the dataset holds.

    Examples:
        >>> print(unknown_id(("单位", "unit"), "U7", ["U17", "U07", "U08"]).text("en"))
        no unit U7 in the dataset; the closest ids: U07, U17 [value 'U7', rule unknown-id]
        >>> unknown_id(("户", "household"), "X", []).message_zh
        '数据集中没有户 X'
    """
    ids = sorted({str(k) for k in known if not pd.isna(k)})
    same = [i for i in ids if _unpadded(i) == _unpadded(str(key))]  # U7 is U07 written short
    close = same + difflib.get_close_matches(str(key), ids, n=3, cutoff=0.6)
    close = list(dict.fromkeys(close))[:3]
    zh = f"数据集中没有{what[0]} {key}"
    en = f"no {what[1]} {key} in the dataset"
    if close:
        zh += "；最接近的编号：" + "、".join(close)
        en += "; the closest ids: " + ", ".join(close)
    return UsageError(zh, en, value=str(key), rule="unknown-id")


def _unpadded(key: str) -> str:
    """An id without the zeros that pad its numbers: ``H0012`` -> ``H12``."""
    return re.sub(r"(?<!\d)0+(?=\d)", "", key)


def name_text(value: Any, reveal: bool) -> str:
    """A person's name as a trace shows it: masked unless revealed; ``""`` when missing."""
    if value is None or pd.isna(value) or str(value) == "":
        return ""
    return str(value) if reveal else str(mask_name(str(value)))


def id_number_text(value: Any, reveal: bool) -> str:
    """A resident ID number as a trace shows it: masked unless revealed; ``""`` when missing."""
    if value is None or pd.isna(value) or str(value) == "":
        return ""
    return str(value) if reveal else str(mask_id_number(str(value)))


def with_name(key: str, name: str, lang: str) -> str:
    """``C0076（李*）`` / ``C0076 (李*)``; the id alone when there is no name."""
    if not name:
        return key
    return f"{key}（{name}）" if lang == "zh" else f"{key} ({name})"


def day_text(value: Any) -> str:
    """A date as ``YYYY-MM-DD``; ``""`` when missing."""
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def number_text(value: Any) -> str:
    """A parameter's number as written: ``0.25``, ``5``, ``0.5``.

    Examples:
        >>> number_text(0.25), number_text(5.0), number_text(Fraction(1, 2))
        ('0.25', '5', '0.5')
    """
    if isinstance(value, Fraction):
        return exact_text(value)
    return plain_text(value)


def exact_text(value: Fraction, places: int = 6) -> str:
    """An exact number in decimals: all of them when it ends within ``places``, else the first
    ``places`` followed by ``…`` (cut, not rounded: the text never shows a digit it does not have).

    Examples:
        >>> exact_text(Fraction(275, 3)), exact_text(Fraction(91, 4)), exact_text(Fraction(-25, 2))
        ('91.666666…', '22.75', '-12.5')
    """
    sign = "-" if value < 0 else ""
    v = abs(value)
    scaled = v * 10**places
    whole = scaled.numerator // scaled.denominator
    digits = f"{whole // 10**places}.{whole % 10**places:0{places}d}".rstrip("0").rstrip(".")
    return sign + digits + ("" if scaled.denominator == 1 else "…")


def rate_text(num: int, den: int) -> str:
    """A rate as its exact value: ``2/3 ≈ 0.6667``, ``3/3 = 1``, ``1/4 = 0.25``.

    Examples:
        >>> rate_text(2, 3), rate_text(3, 3), rate_text(1, 4)
        ('2/3 ≈ 0.6667', '3/3 = 1', '1/4 = 0.25')
    """
    r = Fraction(num, den)
    scaled = r * 10**4
    if scaled.denominator == 1:
        return f"{num}/{den} = {exact_text(r)}"
    q = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return f"{num}/{den} ≈ {q // 10**4}.{q % 10**4:04d}"
