"""The synthetic county's fixed facts (extract date, the bureau's units, townships) and the
helpers every part of the generator shares: int-day arithmetic, serial ids and typed tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.core.params import load_params
from fpanalysis.core.schema import TABLES, coerce

START = pd.Timestamp("2018-01-01")  # the register's first year
END = pd.Timestamp("2025-11-28")  # the extract date: the last recorded date is on or before it
EPOCH = pd.Timestamp("1970-01-01")
START_DAY = int((START - EPOCH).days)
END_DAY = int((END - EPOCH).days)
Y = 365.25  # days in a year, on average
BOY_SHARE = 118 / 218  # a birth is a boy: 118 boys per 100 girls (docs/synth.md)
# "no such date" in the int-day arrays: far in the future, small enough never to overflow
# when days are added to it or when it goes through float64 (missing values in pandas)
NEVER = 10**9

SECTIONS = (
    "办公室",
    "人事股",
    "财务股",
    "社会救助股",
    "优抚安置股",
    "基层政权和社区建设股",
    "社会事务股",
    "区划地名股",
    "社会组织管理股",
    "老龄办",
)
AFFILIATED = (
    "社会福利院",
    "殡仪馆",
    "救助管理站",
    "光荣院",
    "婚姻登记处",
    "城关敬老院",
    "居民家庭经济状况核对中心",
    "烈士陵园管理所",
    "军队离退休干部休养所",
    "福利彩票销售管理站",
)
URBAN_TOWNSHIPS = ("城关镇", "东城街道", "西城街道")
RURAL_TOWNSHIPS = (
    "黄埠镇",
    "杨集镇",
    "洙湖镇",
    "党店镇",
    "朱里镇",
    "华陂镇",
    "塔桥乡",
    "东洪乡",
    "邵店镇",
    "五龙镇",
)


class SynthTables(dict):
    """``dict`` table name -> typed frame, plus the faults added (``faults`` log, a DataFrame).

    A format fault (``bad_date`` ...) cannot live in a typed column: its column
    is held as ``object`` with the raw text in the faulted cell.
    """

    faults: pd.DataFrame | None = None


def day_of(ts) -> int:
    return int((pd.Timestamp(ts) - EPOCH).days)


def to_dt(days, valid=None) -> pd.Series:
    """int days since 1970 (numpy) -> datetime64[ns] Series; ``valid`` False -> NaT."""
    d = np.asarray(days, dtype="int64")
    out = pd.Series(d.astype("datetime64[D]").astype("datetime64[ns]"))
    if valid is not None:
        out = out.where(np.asarray(valid, dtype=bool))
    return out


def to_dt_or_nat(days) -> pd.Series:
    """int days since 1970, :data:`NEVER` for none -> datetime64[ns] Series with NaT for none."""
    d = np.asarray(days, dtype="int64")
    known = d != NEVER
    return to_dt(np.where(known, d, 0), known)


def add_years(days: np.ndarray, years) -> np.ndarray:
    """The date ``years`` after each date, 29 Feb -> 28 Feb (as int days)."""
    s = pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]"))
    y = s.dt.year.to_numpy() + np.asarray(years)
    m = s.dt.month.to_numpy()
    d = s.dt.day.to_numpy()
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    d = np.where((m == 2) & (d == 29) & ~leap, 28, d)
    ts = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": d}))
    return ((ts - EPOCH).dt.days).to_numpy().astype("int64")


def age_on(birth_days: np.ndarray, on_days) -> np.ndarray:
    """Completed years on ``on`` (29 Feb birthdays fall on 28 Feb), as ints."""
    b = pd.Series(np.asarray(birth_days, dtype="int64").astype("datetime64[D]"))
    o = pd.Series(
        np.broadcast_to(np.asarray(on_days, dtype="int64"), b.shape).astype("datetime64[D]")
    )
    by, bm, bd = b.dt.year.to_numpy(), b.dt.month.to_numpy(), b.dt.day.to_numpy()
    oy, om, od = o.dt.year.to_numpy(), o.dt.month.to_numpy(), o.dt.day.to_numpy()
    leap = (oy % 4 == 0) & ((oy % 100 != 0) | (oy % 400 == 0))
    bd = np.where((bm == 2) & (bd == 29) & ~leap, 28, bd)
    return oy - by - ((om < bm) | ((om == bm) & (od < bd))).astype(int)


def serial_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, wide enough that string order is numeric order."""
    w = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{w}d}" for i in range(1, n + 1)], dtype=object)


def couple_ix(frame: pd.DataFrame) -> np.ndarray:
    """The couple positions of a frame's ``c`` column, as integers even when it is empty."""
    return frame["c"].to_numpy(dtype="int64")


def uniform_int(rng, lo, hi, size=None) -> np.ndarray:
    """Integers in [lo, hi] inclusive (arrays allowed)."""
    lo = np.asarray(lo, dtype="int64")
    hi = np.asarray(hi, dtype="int64")
    return lo + np.floor(
        rng.random(size if size is not None else np.broadcast(lo, hi).shape) * (hi - lo + 1)
    ).astype("int64")


def typed_table(table: str, data: dict) -> pd.DataFrame:
    """``data`` as a frame of ``table`` (:func:`~fpanalysis.core.schema.coerce`), sorted by key.

    The index is the file row number (2, 3, ...) in key order.
    """
    df = coerce(table, pd.DataFrame(data))
    df = df.sort_values(list(TABLES[table].key), kind="mergesort")
    df.index = pd.RangeIndex(2, 2 + len(df), name="row")
    return df


def dibao_standards() -> dict[str, float]:
    """The 低保 standards in force at the extract date (yuan per person per month), by area."""
    params = load_params()
    return {a: float(params.dibao_standard(a, END.date())) for a in ("urban", "rural")}
