"""Months and money for the reward (rulebook §5): month indices (``year * 12 + month - 1``) from
dates, ``YYYY-MM`` labels, fen and yuan, the default start month, and the §5 parameters in force on
the first day of each month of a horizon (:class:`MonthlyParams`, with the split modes and the
shares a month's amount is cut into)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.numbers import yuan_to_fen
from fpanalysis.core.params import Params
from fpanalysis.core.schema import last_recorded_date
from fpanalysis.rules.bonus import parallel

#: The largest age cap policy.yaml allows: a child older than this is never paid.
MAX_AGE_CAP = 30
#: The split modes (``reward_split``) and the shares of a month's amount: ``major`` is the payee's
#: half, with the odd fen.
MODES = ("payee", "half")
SHARES = ("full", "major", "minor")
#: Month sentinels for "no bound".
FAR_PAST, FAR_FUTURE = -(10**7), 10**7
#: The months :func:`parse_month` accepts (parameters hold from 1900-01-01 on).
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: The tables whose recorded dates (``schema.Column.recorded``) give the default start month.
RECORDED_TABLES = ("persons", "couples", "children", "certificates")


def month_index(dates: Any) -> np.ndarray:
    """Months since year 0 (``year * 12 + month - 1``) as int64; a missing date gives a far past.

    Examples:
        >>> month_index(pd.to_datetime(["2024-02-29", "2025-01-01"])).tolist()
        [24289, 24300]
    """
    return month_or(dates, FAR_PAST)


_NAT = np.iinfo(np.int64).min
_EPOCH_M = 1970 * 12  # datetime64[M] counts months from 1970-01

#: Ticks per day of the datetime64 units that divide a day (the cast to days is a floor division
#: by this).
_PER_DAY = {
    "D": 1,
    "h": 24,
    "m": 1440,
    "s": 86_400,
    "ms": 86_400_000,
    "us": 86_400_000_000,
    "ns": 86_400_000_000_000,
}


def month_or(dates: Any, missing: int, dtype: Any = np.int64) -> np.ndarray:
    """Month index of each date (``dtype``), ``missing`` where the date is missing.

    Dates are cast to days (a division), and the days looked up in a table of
    month indices over the column's range of days: numpy's own cast to
    ``datetime64[M]`` and pandas' year/month fields both run a calendar
    computation per element, several times slower on the tens of millions of
    dates of a province's tables. The range comes from the raw values (the
    cast to days is monotonic), and the cast and look-up run block by block
    into the result: no full-length array of days.

    Examples:
        >>> d = np.array(["1969-12-31T23:00", "NaT", "2024-02-29"], dtype="datetime64[ns]")
        >>> month_or(d, -1, np.int32).tolist()
        [23639, -1, 24289]
    """
    arr = np.asarray(dates)
    if arr.dtype.kind != "M":
        arr = np.asarray(dates, dtype="datetime64[ns]")
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.int64)  # int64 whatever ``dtype``, as before: callers widen it
    raw = arr.view(np.int64)
    nat = raw == _NAT
    any_nat = bool(nat.any())
    if any_nat and bool(nat.all()):
        return np.full(n, missing, dtype)
    hi_raw = int(raw.max())  # NaT is the smallest int64: never the maximum of a column with a date
    lo_raw = int(np.min(raw, where=~nat, initial=hi_raw)) if any_nat else int(raw.min())
    lo, hi = (
        int(np.array([lo_raw, hi_raw]).view(arr.dtype).astype("datetime64[D]").view(np.int64)[i])
        for i in (0, 1)
    )
    if hi - lo > 5_000_000:  # absurd range (year 9999 and the like): let numpy do the calendar
        out = (arr.astype("datetime64[M]").view(np.int64) + _EPOCH_M).astype(dtype)
    else:
        table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
        table = (table + _EPOCH_M).astype(dtype)
        out = np.empty(n, dtype)
        unit, step = np.datetime_data(arr.dtype)
        per_day = _PER_DAY.get(unit) if step == 1 else None
        for b0 in range(0, n, parallel.BLOCK):
            b1 = min(b0 + parallel.BLOCK, n)
            # a copy either way (safe to change in place); the floor division by the ticks of a day
            # is what numpy's cast to days computes, several times faster
            if per_day is not None:
                days = raw[b0:b1] // per_day
            else:
                days = arr[b0:b1].astype("datetime64[D]").view(np.int64)
            days -= lo
            if any_nat:
                days[nat[b0:b1]] = 0  # any valid offset; overwritten below
            table.take(days, out=out[b0:b1])
    if any_nat:
        out[nat] = missing
    return out


def parse_month(value: Any) -> int:
    """A ``YYYY-MM`` string, a date or a Timestamp as a month index; a bad value is a UsageError.

    Examples:
        >>> month_label(parse_month("2026-01"))
        '2026-01'
    """
    try:
        ts = pd.Period(str(value)[:7] if isinstance(value, str) else value, freq="M")
    except (ValueError, TypeError):
        raise UsageError(
            f"月份应写作 YYYY-MM：{value!r}",
            f"a month must be written YYYY-MM: {value!r}",
            value=str(value),
            rule="month-format",
        ) from None
    if (
        isinstance(value, str)
        and not pd.Series([value]).str.fullmatch(r"\d{4}-\d{2}(-\d{2})?").iloc[0]
    ):
        raise UsageError(
            f"月份应写作 YYYY-MM：{value!r}",
            f"a month must be written YYYY-MM: {value!r}",
            value=value,
            rule="month-format",
        )
    if not FIRST_YEAR <= ts.year <= LAST_YEAR:
        # before 1900 no parameter is in force (the start of time); past 2200 pandas' dates overflow
        raise UsageError(
            f"月份应在 {FIRST_YEAR}-01 至 {LAST_YEAR}-12 之间：{value!r}",
            f"a month must lie between {FIRST_YEAR}-01 and {LAST_YEAR}-12: {value!r}",
            value=str(value),
            rule="month-range",
        )
    return ts.year * 12 + ts.month - 1


def month_label(m: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def month_start(m: int) -> dt.date:
    """The first day of a month index."""
    return dt.date(m // 12, m % 12 + 1, 1)


def fen_to_yuan(values: Iterable[int]) -> list[Decimal]:
    """Integer fen to yuan Decimals with exactly 2 decimals (``Decimal('12.50')``).

    One Decimal is made per distinct amount and shared by the cells that hold it (a Decimal
    is immutable): a province's table repeats a few thousand amounts over millions of cells.

    Examples:
        >>> fen_to_yuan([1250, 0, -5, 1250])
        [Decimal('12.50'), Decimal('0.00'), Decimal('-0.05'), Decimal('12.50')]
    """
    fen = np.asarray(values if isinstance(values, np.ndarray) else list(values))
    if fen.dtype.kind not in "iu" or fen.ndim != 1:
        return [Decimal(int(v)).scaleb(-2) for v in fen.reshape(-1)]
    distinct, at = np.unique(fen, return_inverse=True)
    yuan = np.empty(len(distinct), dtype=object)
    yuan[:] = [Decimal(int(v)).scaleb(-2) for v in distinct]
    return yuan[at.reshape(-1)].tolist()


def month_after(day: Any) -> str:
    """``YYYY-MM`` of the month after the one ``day`` falls in.

    Examples:
        >>> month_after(pd.Timestamp("2025-12-31"))
        '2026-01'
    """
    return month_label(int(month_index(pd.DatetimeIndex([day]))[0]) + 1)


def default_start(tables: Mapping[str, pd.DataFrame]) -> str:
    """The month after the dataset's last recorded date (never today's date), as ``YYYY-MM``.

    Recorded dates: hires and departures, marriages and divorces, births,
    certificate issues and revocations. A dataset with none of them raises
    :class:`UsageError` (give ``--start``).
    """
    last = last_recorded_date(tables, among=RECORDED_TABLES)
    if last is None:
        raise UsageError(
            "数据中没有任何日期，无法确定预测起始月份，请用 --start YYYY-MM 指定",
            "the dataset records no dates, so the start month cannot be derived; "
            "give --start YYYY-MM",
            rule="start-month",
        )
    return month_after(last)


def _param_by_month(params: Params, name: str, months: np.ndarray) -> list[Any]:
    dates = (
        pd.to_datetime([month_start(int(m)) for m in months])
        if len(months)
        else pd.DatetimeIndex([])
    )
    return params.at_many(name, dates) if len(months) else []


@dataclass(frozen=True)
class MonthlyParams:
    """The §5 parameters in force on the first day of each month of a horizon."""

    months: np.ndarray  # month indices
    amount_fen: np.ndarray  # int64
    age_cap: np.ndarray  # int64
    split: np.ndarray  # int8 code into MODES
    uptake: np.ndarray  # float64

    @classmethod
    def of(cls, params: Params, start_m: int, months: int) -> MonthlyParams:
        """Read the parameters month by month (one vectorised look-up per parameter)."""
        ms = np.arange(start_m, start_m + months, dtype=np.int64)
        amount = np.array(
            [yuan_to_fen(v) for v in _param_by_month(params, "reward_monthly_yuan", ms)],
            dtype=np.int64,
        )
        cap = np.array(_param_by_month(params, "reward_age_cap", ms), dtype=np.int64)
        split = np.array(
            [MODES.index(v) for v in _param_by_month(params, "reward_split", ms)], dtype=np.int8
        )
        uptake = np.array(_param_by_month(params, "uptake", ms), dtype=np.float64)
        return cls(ms, amount, cap.reshape(-1), split.reshape(-1), uptake.reshape(-1))

    def share_fen(self) -> np.ndarray:
        """Fen per month for each share: rows full, major (payee's half, odd fen), minor."""
        a = self.amount_fen
        return np.stack([a, a - a // 2, a // 2])
