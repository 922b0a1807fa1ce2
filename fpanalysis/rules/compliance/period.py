"""Assessment periods of unit compliance (rulebook §3): a year or a half-year, read from ``2024``,
``2024H1`` or ``2024H2``, and the default period, the dataset's latest complete year."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.schema import last_recorded_date

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*(?:[-_ ]?[Hh]([12]))?\s*$")

#: the tables whose recorded dates (``schema.Column.recorded``) give the default period
RECORDED_TABLES = (
    "couples",
    "children",
    "permits",
    "pregnancies",
    "surveys",
    "check_attendance",
    "contraception",
)


@dataclass(frozen=True)
class Period:
    """A year (``half`` None) or a half-year (1 = Jan–Jun, 2 = Jul–Dec).

    Examples:
        >>> p = parse_period("2024")
        >>> p.start.date(), p.end.date(), [h.label for h in p.halves]
        (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), ['2024H1', '2024H2'])
    """

    label: str
    year: int
    half: int | None = None

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, 7 if self.half == 2 else 1, 1)

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, 6, 30) if self.half == 1 else pd.Timestamp(self.year, 12, 31)

    @property
    def halves(self) -> list[Period]:
        """The half-years the period is made of."""
        if self.half:
            return [self]
        return [Period(f"{self.year}H1", self.year, 1), Period(f"{self.year}H2", self.year, 2)]

    def contains(self, dates: pd.Series) -> pd.Series:
        """True where a date falls in the period (first and last day inclusive)."""
        return ((dates >= self.start) & (dates <= self.end)).fillna(False).astype(bool)


def month_day_in(year: int, month_day: str) -> pd.Timestamp:
    """The day a yearly ``MM-DD`` parameter names in ``year`` (rulebook G2).

    29 February means 28 February in a year that has none, as a 29 February birthday does.

    Examples:
        >>> [month_day_in(y, "02-29").date().isoformat() for y in (2024, 2025)]
        ['2024-02-29', '2025-02-28']
        >>> month_day_in(2025, "03-31").date().isoformat()
        '2025-03-31'
    """
    mm, dd = (int(x) for x in month_day.split("-"))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if (mm, dd) == (2, 29) and not leap:
        dd = 28
    return pd.Timestamp(year, mm, dd)


def parse_period(text: str | int | Period) -> Period:
    """Read ``2024``, ``2024H1`` or ``2024H2`` (``2024-h1`` also works), years 1900 to 2200.

    Raises:
        UsageError: anything else.

    Examples:
        >>> parse_period("2024H2")
        Period(label='2024H2', year=2024, half=2)
        >>> parse_period(" 2024-h1 ").label
        '2024H1'
    """
    if isinstance(text, Period):
        return text
    m = _PERIOD_RE.match(str(text))
    if not m:
        raise _period_error(
            text,
            "无法识别：应为年度（如 2024）或半年（如 2024H1、2024H2）",
            "not understood: give a year (2024) or a half-year (2024H1, 2024H2)",
            "period-format",
        )
    year, half = int(m.group(1)), m.group(2)
    if not 1900 <= year <= 2200:
        # parameters hold from 1900 on; past 2200 pandas' dates overflow (9999H2 crashed)
        raise _period_error(
            text, "应在 1900 至 2200 年之间", "must lie between 1900 and 2200", "period-range"
        )
    return Period(f"{year}H{half}" if half else str(year), year, int(half) if half else None)


def _period_error(text: object, zh: str, en: str, rule: str) -> UsageError:
    """The period ``text`` refused: what is wrong with it in both languages."""
    return UsageError(
        f"考核期 {text!r} {zh}",
        f"period {text!r} {en}",
        column="period",
        value=str(text),
        rule=rule,
    )


def complete_year(last: pd.Timestamp | None) -> int:
    """The latest complete year up to the date ``last``: its year on 31 Dec, else the year before.

    Raises:
        UsageError: ``last`` is ``None`` (a dataset without any dated record).

    Examples:
        >>> complete_year(pd.Timestamp("2024-12-31")), complete_year(pd.Timestamp("2024-12-30"))
        (2024, 2023)
    """
    if last is None:
        raise UsageError(
            "数据集中没有任何日期记录，无法确定考核期：请用 --period 指定",
            "the dataset has no dated record to derive a period from: give --period",
            rule="period-default",
        )
    return last.year if (last.month, last.day) == (12, 31) else last.year - 1


def latest_complete_year(tables: Mapping[str, pd.DataFrame]) -> int:
    """The dataset's latest complete year (:func:`complete_year` of its last recorded date).

    Derived from the data, never from today's date (rulebook, general conventions).

    Raises:
        UsageError: the dataset has no dated record at all.
    """
    return complete_year(last_recorded_date(tables, among=RECORDED_TABLES))
