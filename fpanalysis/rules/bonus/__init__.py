"""The only-child parents' reward: committed payments, projection, liability (POLICY.md §5).

**Month m is paid** for a certificate iff ``month(issue_date) ≤ m``,
``m ≤ month(child's birth_date + reward_age_cap years)``, ``m < month(revoked_date)``
when revoked, and the payer is on the payroll in m
(``month(hire_date) ≤ m ≤ month(leave_date)``). The amount is
``reward_monthly_yuan`` in force on the first day of m.

The computation is cut in two so that a widget can re-project instantly:

1. :func:`certificate_segments` turns certificates into *payment segments*
   (one per certificate, split mode and payer) and :func:`compress` folds the
   segments into **cohorts**: segments with the same split mode, paying unit,
   share, first paid month, last payroll/revocation month and the child's
   **birth month**. The cohort keeps the birth month rather than the last paid
   month, so a new age cap needs no second look at the certificates (a 29
   February birthday falls on 28 February, which is still February: the month
   of the cap birthday is always ``birth month + 12 × cap``).
2. :func:`project_cohorts` evaluates the rule over the cohorts, one pass per
   run of months with the same age cap and split; its cost depends on the
   number of cohorts, not certificates (tens of milliseconds for the 3.4
   million cohorts of 10 million certificates).

New certificates (:func:`new_certificate_groups`, :func:`simulate_new`) come
from in-scope couples without a child, by seeded Monte Carlo vectorised over
draws; :class:`BonusProjection` keeps every draw so that a percentile at any
level (unit-month, year, bureau) is the percentile of that level's summed
draws, never a sum of lower-level percentiles.

Choices where POLICY.md §5 is silent (also in docs/design.md):

- **Parameters by month**: every parameter (amount, age cap, split, uptake) is
  the one in force on the first day of the month concerned; a cap raised from a
  date therefore pays, from that date on, every child under the new cap (also
  one whose payments had stopped under the old cap).
- **On the bureau's payroll** = a person of category ``staff`` with a
  ``unit_id``; in a month when ``month(hire_date) ≤ m ≤ month(leave_date)``
  (empty leave date: still employed; empty hire date: never on the payroll, as
  in :func:`fpanalysis.rules.scope.is_staff_on`). The paying unit is the person's
  ``unit_id``.
- **split = half**: the two spouses are the certificate's couple. Both on the
  bureau's payroll: each one's unit pays half while that spouse is on the
  payroll; the payee's half gets the odd fen (``amount - amount // 2``), the
  other ``amount // 2``, so the halves add up to the amount exactly. Only one
  spouse on the bureau's payroll: its unit pays all, while that spouse is on
  the payroll. Neither: outside the budget.
- **Outside the budget**: a certificate with no payer on the bureau's payroll
  under the split in force in the start month (split = payee: its payee is not
  staff with a unit) is listed apart by :func:`outside_budget`, never added in.
- **New certificates**: couples in scope on the start date
  (:func:`fpanalysis.rules.scope.couples_in_scope`, childbearing only) with no row
  in ``children`` and a *staff* responsible unit (a floating couple's
  certificate would be outside the budget). The first birth comes in month k of
  the horizon with probability ``h (1-h)^k``, ``h = 1 - (1-p)^(1/12)``, ``p`` =
  ``births_per_couple_year`` of the wife's age band on the start date (the band
  is not advanced during the horizon); the certificate follows ``lag_months``
  later with probability ``uptake`` (in force in the issue month). The payee is
  the responsible spouse, assumed to stay on the payroll; with ``half`` the
  other spouse's unit pays half when that spouse is staff on the start date.
  Children born before the start month without a certificate, and second
  children, are not modelled.
- **Percentiles**: ``numpy.percentile(..., method="inverted_cdf")``: the
  smallest draw with at least p % of draws at or below it, so every percentile
  is an actual draw, exact to the fen.
- **Liability**: the payments from the start month to the end of each current
  certificate's entitlement, assuming every payer on the payroll in the start
  month (or hired later) stays on it; a payer who left before the start month
  pays nothing more. Discounted at ``discount_rate`` (yearly, in force in the
  start month): the payment of month ``start + k`` counts ``1 / (1+r)^(k/12)``;
  the discounted sum is rounded once to the fen (half up).

Examples:
    >>> from fpanalysis.core.schema import coerce
    >>> from fpanalysis.core.params import load_params
    >>> t = {
    ...     "persons": coerce("persons", [{"person_id": "P1", "sex": "F", "unit_id": "U1",
    ...         "category": "staff", "hire_date": "2000-01-01"}]),
    ...     "couples": coerce("couples", [{"couple_id": "C1", "wife_id": "P1", "husband_id": "P2"}]),
    ...     "children": coerce("children", [{"child_id": "K1", "couple_id": "C1",
    ...         "birth_date": "2012-03-15"}]),
    ...     "certificates": coerce("certificates", [{"cert_id": "G1", "couple_id": "C1",
    ...         "child_id": "K1", "issue_date": "2013-01-05", "payee_id": "P1"}])}
    >>> committed_payments(t, load_params(), "2026-01", 4)
         month unit_id committed_yuan
    0  2026-01      U1          20.00
    1  2026-02      U1          20.00
    2  2026-03      U1          20.00
    3  2026-04      U1           0.00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import ParamError, UsageError
from fpanalysis.core.params import Params, read_yaml
from fpanalysis.core.schema import last_recorded_date
from fpanalysis.rules.scope import couples_in_scope, is_staff_on

TABLES_NEEDED = ["units", "persons", "couples", "children", "certificates"]
#: Default projection horizon in months (three budget years).
DEFAULT_MONTHS = 36
#: Default number of Monte Carlo draws.
DEFAULT_DRAWS = 1000
#: The largest age cap policy.yaml allows: a child older than this is never paid.
MAX_AGE_CAP = 30

MODES = ("payee", "half")
SHARES = ("full", "major", "minor")  # major = the payee's half with the odd fen
_LO, _HI = -(10**7), 10**7  # month sentinels for "no bound"
SEGMENT_COLUMNS = ["cert_id", "mode", "unit_id", "share", "first_m", "end_m", "birth_m"]
#: What a cohort is keyed by: the child's birth month rather than the last paid month, so that any age cap
#: re-projects from cohorts alone.
COHORT_KEYS = ["mode", "unit_id", "share", "first_m", "end_m", "birth_m"]
OUTPUT_COLUMNS = [
    "month",
    "unit_id",
    "committed_yuan",
    "new_p10_yuan",
    "new_p50_yuan",
    "new_p90_yuan",
]


# --------------------------------------------------------------------------- months and money


def month_index(dates: Any) -> np.ndarray:
    """Months since year 0 (``year * 12 + month - 1``) as int64; a missing date gives a far-past sentinel.

    Examples:
        >>> month_index(pd.to_datetime(["2024-02-29", "2025-01-01"])).tolist()
        [24289, 24300]
    """
    return _month_or(dates, _LO)


_NAT = np.iinfo(np.int64).min
_EPOCH_M = 1970 * 12  # datetime64[M] counts months from 1970-01


#: Rows per block of the blockwise loops below: their temporaries (a few MB) stay in the cache and are
#: reused, instead of full-length arrays of tens of millions of rows each touched fresh.
_BLOCK = 1 << 20


#: Ticks per day of the datetime64 units that divide a day (the cast to days is a floor division by this).
_PER_DAY = {
    "D": 1,
    "h": 24,
    "m": 1440,
    "s": 86_400,
    "ms": 86_400_000,
    "us": 86_400_000_000,
    "ns": 86_400_000_000_000,
}


def _month_or(dates: Any, missing: int, dtype: Any = np.int64) -> np.ndarray:
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
        >>> _month_or(d, -1, np.int32).tolist()
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
        for b0 in range(0, n, _BLOCK):
            b1 = min(b0 + _BLOCK, n)
            # a copy either way (safe to change in place); the floor division by the ticks of a day is
            # what numpy's cast to days computes, several times faster
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
    """A ``YYYY-MM`` string, a date or a Timestamp as a month index; a bad value is a :class:`UsageError`.

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


#: the months :func:`parse_month` accepts (parameters hold from 1900-01-01 on).
FIRST_YEAR, LAST_YEAR = 1900, 2200


def month_label(m: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def month_start(m: int) -> dt.date:
    """The first day of a month index."""
    return dt.date(m // 12, m % 12 + 1, 1)


def yuan_to_fen(value: Any) -> int:
    """Yuan (int, float or Decimal) to integer fen, half up, through the decimal text.

    Examples:
        >>> yuan_to_fen(20), yuan_to_fen(12.345), yuan_to_fen("0.1")
        (2000, 1235, 10)
    """
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(values: Iterable[int]) -> list[Decimal]:
    """Integer fen to yuan Decimals with exactly 2 decimals (``Decimal('12.50')``)."""
    return [Decimal(int(v)).scaleb(-2) for v in values]


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


# --------------------------------------------------------------------------- certificates -> segments


def _on_payroll_person(p: pd.DataFrame) -> np.ndarray:
    return (
        ((p["category"] == "staff") & p["unit_id"].notna() & p["hire_date"].notna())
        .fillna(False)
        .to_numpy(bool)
    )


def _ids(values: Any) -> np.ndarray:
    """Key values as a numpy array: int64 for integer keys without gaps, else objects (strings, NaN)."""
    if isinstance(values, np.ndarray):
        return values
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype.kind in "iu":
        return s.to_numpy(np.int64)
    if isinstance(s.dtype, pd.Int64Dtype | pd.Int32Dtype) and not s.hasnans:
        return s.to_numpy(np.int64)
    return s.to_numpy(object) if s.dtype != object else s.to_numpy()


def _lookup(keys: Any, values: Any) -> np.ndarray:
    """Position in ``keys`` of each of ``values`` (the first of duplicated keys wins; -1 when absent).

    Integer keys in ascending order (what a register numbered in order gives)
    are searched by bisection: ``values`` sorted first unless they already
    are, since bisecting in random order misses the cache at every step. Any
    other key is hashed (``pandas.Index.get_indexer``).

    Examples:
        >>> _lookup(np.array([10, 20, 20, 30]), np.array([30, 20, 25])).tolist()
        [3, 1, -1]
        >>> _lookup(pd.Series(["b", "a", "b"]), pd.Series(["a", "b", "c"])).tolist()
        [1, 0, -1]
    """
    k, v = _ids(keys), _ids(values)
    if len(k) == 0 or len(v) == 0:
        return np.full(len(v), -1, np.int64)
    if k.dtype.kind in "iu" and v.dtype.kind in "iu" and bool(np.all(k[1:] >= k[:-1])):
        first, last = int(k[0]), int(k[-1])
        if last - first == len(k) - 1 and (len(k) < 2 or bool(np.all(k[1:] != k[:-1]))):
            # consecutive numbers (a register numbered 1..n): the position is the number's offset, like
            # a database's perfect-hash join on a dense integer key
            pos = v - first
            pos[(v < first) | (v > last)] = -1
            return pos
        if bool(np.all(v[1:] >= v[:-1])):
            pos = np.searchsorted(k, v)
        else:
            order = np.argsort(v)
            pos = np.empty(len(v), np.int64)
            pos[order] = np.searchsorted(k, v[order])
        np.minimum(pos, len(k) - 1, out=pos)
        pos[k[pos] != v] = -1
        return pos
    idx = pd.Index(k)
    if idx.is_unique:
        return idx.get_indexer(v).astype(np.int64, copy=False)
    first = ~idx.duplicated(keep="first")
    pos = pd.Index(idx[first]).get_indexer(v)
    return np.where(pos >= 0, np.flatnonzero(first)[np.maximum(pos, 0)], -1)


def _take(arr: np.ndarray, pos: np.ndarray, missing: Any) -> np.ndarray:
    """``arr[pos]`` with ``missing`` where ``pos`` is -1."""
    if len(arr) == 0:
        return np.full(
            len(pos),
            missing,
            dtype=np.asarray(missing).dtype if not isinstance(missing, bool) else bool,
        )
    absent = pos < 0
    if not absent.any():  # the usual case: every key found, no clipped copy of the positions
        return arr[pos]
    out = arr[np.maximum(pos, 0)]
    out[absent] = missing
    return out


def _factorize_units(units: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 = missing) and labels (order of first appearance) of a unit column.

    A pyarrow-backed string column is dictionary-encoded by pyarrow (several
    times faster than hashing through pandas on tens of millions of rows).
    """
    arr = units.array
    pa_arr = getattr(arr, "_pa_array", None)
    if pa_arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        enc = pc.dictionary_encode(pa_arr).combine_chunks()
        if pa.types.is_string(enc.type.value_type) or pa.types.is_large_string(enc.type.value_type):
            ind = enc.indices if enc.null_count == 0 else enc.indices.fill_null(-1)
            codes = np.asarray(ind.to_numpy(zero_copy_only=False))
            return codes, pd.Index([str(u) for u in enc.dictionary.to_pylist()], dtype="str")
    codes, labels = pd.factorize(units.reset_index(drop=True))  # NaN -> -1
    return codes, pd.Index([str(u) for u in labels], dtype="str")


#: Below this many rows the work runs in the calling thread (a thread hand-off costs more than it saves).
_PARALLEL_MIN = 500_000


class _Serial:
    """A stand-in for an executor that runs each job at once in the calling thread."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn, *args):
        from concurrent.futures import Future

        f: Future = Future()
        f.set_result(fn(*args))
        return f


def _pool(rows: int):
    """Two threads for province-sized work (the machines have two cores or more), else :class:`_Serial`.

    Only independent, deterministic pieces are handed out (each writes its own
    arrays or slices), so the result is the same either way.
    """
    if rows < _PARALLEL_MIN:
        return _Serial()
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=2)


def certificate_segments(
    tables: Mapping[str, pd.DataFrame],
    *,
    assume_stay_from: int | None = None,
    with_info: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Payment segments of every certificate, for both split modes (POLICY.md §5).

    A segment says: under split ``mode``, unit ``unit_id`` pays ``share`` of the
    amount in each month m with ``first_m ≤ m ≤ end_m`` and
    ``m ≤ birth_m + 12 × age_cap``. Months are month indices (:func:`month_index`).
    One pass of array look-ups: the person attributes are computed once, then
    taken for payees, wives and husbands by position.

    Args:
        tables: needs ``certificates``, ``children``, ``persons``, ``couples``.
        assume_stay_from: for the liability: a payer still on the payroll in
            this month (or hired later) is assumed to stay (leave date ignored).
        with_info: also return the per-certificate frame (``None`` otherwise:
            a projection does not need it).

    Returns:
        ``(segments, certs)``: segments with :data:`SEGMENT_COLUMNS` (``share``
        and ``mode`` as codes into :data:`SHARES`, :data:`MODES`; ``unit_id``
        categorical), and one row per certificate with ``cert_id``,
        ``couple_id``, ``payee_id``, ``category``, ``payee_unit_id``,
        ``issue_m``, ``birth_m``, ``stop_m`` (last month before revocation) and
        ``in_budget_payee`` / ``in_budget_half`` (a bureau payer exists under
        that split).
    """
    certs = tables["certificates"]
    persons = tables["persons"]
    children = tables["children"]
    couples = tables["couples"]

    p_ids = _ids(persons["person_id"])

    # Person attributes, once; then only positions are carried per certificate and the attributes are
    # gathered for the segments that exist (fewer full-length temporaries on province-sized tables).
    def person_units():
        return _factorize_units(persons["unit_id"])

    def person_side():
        p_ok = _on_payroll_person(persons)
        # int32 months (sentinels ±10**7 fit): half the memory first touched on province-sized tables
        p_hire = _month_or(persons["hire_date"], _HI, np.int32)
        p_leave = _month_or(persons["leave_date"], _HI, np.int32)
        if assume_stay_from is not None:
            p_leave[p_leave >= assume_stay_from] = _HI
        return p_ok, p_hire, p_leave

    def cert_side():
        pos_child = _lookup(children["child_id"], certs["child_id"])
        birth_m = _take(
            _month_or(children["birth_date"], _LO, np.int32), pos_child, _LO
        )  # unknown child: never paid
        del pos_child
        pos_couple = _lookup(couples["couple_id"], certs["couple_id"])
        issue_m = _month_or(certs["issue_date"], _HI, np.int32)  # no issue date: never paid
        stop_m = _month_or(certs["revoked_date"], _HI + 1, np.int32)
        stop_m -= 1

        def spouse(column: str) -> np.ndarray:
            ids = _ids(couples[column])
            if len(ids) == 0:
                return np.full(len(pos_couple), -1, np.int64)
            unknown = pos_couple < 0
            if not unknown.any():  # every couple found: no clipped copy of the positions
                return _lookup(p_ids, ids[pos_couple])
            pos = _lookup(p_ids, ids[np.maximum(pos_couple, 0)])
            pos[unknown] = -1  # unknown couple: no spouses
            return pos

        # positions kept as int32 when the persons table allows: three full-length arrays held until the
        # segments are written, at half the memory
        narrow = np.int32 if len(p_ids) < 2**31 - 1 else np.int64
        payee_pos = _lookup(p_ids, certs["payee_id"]).astype(narrow, copy=False)
        wife_pos = spouse("wife_id").astype(narrow, copy=False)
        husb_pos = spouse("husband_id").astype(narrow, copy=False)
        return birth_m, issue_m, stop_m, payee_pos, wife_pos, husb_pos

    with _pool(len(certs)) as pool:
        # the persons' units, their other attributes and the certificate side are independent: when the
        # tables are large two pool threads take the person side, in two jobs of about equal length, while
        # this thread does the certificate side (numpy and pyarrow release the GIL), otherwise one after
        # the other
        units_job = pool.submit(person_units)
        person_job = pool.submit(person_side)
        birth_m, issue_m, stop_m, payee_pos, wife_pos, husb_pos = cert_side()
        unit_codes, unit_labels = units_job.result()
        p_ok, p_hire, p_leave = person_job.result()
    pay_ok = _take(p_ok, payee_pos, False)
    w_ok = _take(p_ok, wife_pos, False)
    h_ok = _take(p_ok, husb_pos, False)

    # split = payee: the payee's unit pays all while the payee is on the payroll.
    # split = half: each spouse on the bureau's payroll pays half (the payee's half has the odd fen);
    # only one spouse on the payroll: its unit pays all. A payee who is neither spouse counts as the wife.
    payee_is_husband = (husb_pos >= 0) & (payee_pos == husb_pos)
    full, major, minor = (np.int8(SHARES.index(x)) for x in SHARES)
    legs = [
        (pay_ok, MODES.index("payee"), payee_pos, full),
        (
            w_ok,
            MODES.index("half"),
            wife_pos,
            np.where(h_ok, np.where(payee_is_husband, minor, major), full),
        ),
        (
            h_ok,
            MODES.index("half"),
            husb_pos,
            np.where(w_ok, np.where(payee_is_husband, major, minor), full),
        ),
    ]
    del payee_is_husband
    # Every column is written once into its final array (no per-leg pieces concatenated afterwards).
    # The work is cut in pieces of one leg and one block of certificates, each writing its own slice of
    # every column, so that two threads share it evenly (three legs of unequal size would not).
    n_certs = len(certs)
    pieces = []  # (leg, first certificate, first segment row)
    total = 0
    for k, leg in enumerate(legs):
        for b0 in range(0, n_certs, _BLOCK):
            pieces.append((k, b0, total))
            total += int(np.count_nonzero(leg[0][b0 : b0 + _BLOCK]))
    cert_ids = certs["cert_id"].reset_index(drop=True)
    # integer certificate ids (numpy) are gathered block by block like the other columns; any other kind
    # (strings, nullable) through one index array and the array's own take
    cert_np = (
        cert_ids.to_numpy()
        if cert_ids.dtype.kind in "iu" and isinstance(cert_ids.dtype, np.dtype)
        else None
    )
    cid = np.empty(total, cert_np.dtype) if cert_np is not None else None
    idx = np.empty(total, np.int64) if cert_np is None else None
    mode = np.empty(total, np.int8)
    # codes as narrow as the categorical will store them, so that it takes them without a copy
    unit = np.empty(total, np.int16 if len(unit_labels) < 2**15 else np.int32)
    share = np.empty(total, np.int8)
    first = np.empty(total, np.int64)
    end = np.empty(total, np.int64)
    birth = np.empty(total, np.int64)

    def fill(k: int, b0: int, o: int) -> None:  # leg k, certificates b0 .. b0 + _BLOCK - 1
        mask, mode_code, pos, share_code = legs[k]
        # block by block: the gathered temporaries stay small (in the cache) and are reused
        rows = np.flatnonzero(mask[b0 : b0 + _BLOCK])
        rows += b0
        sl = slice(o, o + len(rows))
        mode[sl] = mode_code
        if cid is not None:
            cid[sl] = cert_np[rows]
        else:
            idx[sl] = rows
        share[sl] = share_code if np.ndim(share_code) == 0 else share_code[rows]
        pp = pos[rows]
        unit[sl] = unit_codes[pp]
        np.maximum(issue_m[rows], p_hire[pp], out=first[sl])
        np.minimum(stop_m[rows], p_leave[pp], out=end[sl])
        birth[sl] = birth_m[rows]

    with _pool(total) as pool:
        for job in [pool.submit(fill, *piece) for piece in pieces]:
            job.result()
    legs.clear()  # drop the masks early

    if total:
        # copy=False: no consolidation of the int columns into one block (a full copy of every segment)
        seg = pd.DataFrame(
            {
                "cert_id": cid if cid is not None else cert_ids.array.take(idx),
                "mode": mode,
                "unit_id": pd.Categorical.from_codes(unit, categories=unit_labels, validate=False),
                "share": share,
                "first_m": first,
                "end_m": end,
                "birth_m": birth,
            },
            copy=False,
        )
    else:
        seg = pd.DataFrame(
            {
                c: pd.Series([], dtype=t)
                for c, t in zip(
                    SEGMENT_COLUMNS,
                    ["str", "int8", "str", "int8", "int64", "int64", "int64"],
                    strict=True,
                )
            }
        )
    if not with_info:
        return seg, None
    cat = _take(persons["category"].to_numpy(object), payee_pos, None)
    pay_unit = _take(unit_codes, payee_pos, -1)
    pay_unit_label = np.where(
        pay_unit >= 0,
        unit_labels.to_numpy(object)[np.maximum(pay_unit, 0)] if len(unit_labels) else None,
        None,
    )
    info = pd.DataFrame(
        {
            "cert_id": cert_ids.to_numpy(),
            "couple_id": certs["couple_id"].to_numpy(),
            "payee_id": certs["payee_id"].to_numpy(),
            "category": cat,
            "payee_unit_id": pay_unit_label,
            "issue_m": issue_m.astype(np.int64),
            "birth_m": birth_m.astype(np.int64),
            "stop_m": stop_m.astype(np.int64),
            "in_budget_payee": pay_ok,
            "in_budget_half": w_ok | h_ok,
        }
    )
    return seg, info


@dataclass(frozen=True)
class Cohorts:
    """Segments folded into cohorts: numpy columns plus the unit labels.

    ``unit`` is a code into ``units``; ``count`` is how many certificates the
    cohort holds. Built once; every projection works from this form only.
    """

    units: tuple[str, ...]
    mode: np.ndarray
    unit: np.ndarray
    share: np.ndarray
    first_m: np.ndarray
    end_m: np.ndarray
    birth_m: np.ndarray
    count: np.ndarray
    start_m: int
    max_months: int | None = None

    def __len__(self) -> int:
        return len(self.count)

    @property
    def certificates(self) -> int:
        """Segments folded in (a ``half`` certificate paid by two units counts twice)."""
        return int(self.count.sum())


def compress(
    segments: pd.DataFrame, start_m: int, units: Sequence[str] = (), max_months: int | None = None
) -> Cohorts:
    """Fold segments into cohorts from ``start_m`` on (months before it are dropped).

    A segment that ends before ``start_m``, or whose child is older than
    :data:`MAX_AGE_CAP` throughout, can never be paid from ``start_m`` on and is
    dropped; ``first_m`` is raised to ``start_m`` so that certificates issued
    before the start share one cohort, and ``end_m`` is lowered to the month of
    the child's 30th birthday (no cap allows more). With ``max_months`` the
    cohorts serve projections of at most that many months only: ends are
    lowered to the horizon's last month and segments that start after it are
    dropped, which bounds the number of cohorts whatever the number of
    certificates.

    Examples:
        >>> seg = pd.DataFrame({"cert_id": ["A", "B", "C"], "mode": [0, 0, 0], "unit_id": ["U1"] * 3,
        ...     "share": [0, 0, 0], "first_m": [24000, 24100, 24400], "end_m": [10**7] * 3,
        ...     "birth_m": [24200, 24200, 24200]})
        >>> c = compress(seg, 24300)
        >>> len(c), c.count.tolist(), c.first_m.tolist(), c.end_m.tolist()
        (2, [2, 1], [24300, 24400], [24560, 24560])
    """
    s = segments
    n = len(s)
    horizon_end = None if max_months is None else start_m + max_months - 1
    first_all = s["first_m"].to_numpy(np.int64)
    end_all = s["end_m"].to_numpy(np.int64)
    birth_all = s["birth_m"].to_numpy(np.int64)
    # Rows are cut in two halves folded by two threads when there are many (see _pool); the counts add up.
    half = (n + 1) // 2
    bounds = [(0, half), (half, n)] if n >= _PARALLEL_MIN else [(0, n)]

    # The clipped month columns are held as int32 when every value a kept row can have fits (month indices
    # do; sentinels too): half the memory. Values of rows that are dropped are clipped into that range
    # too (a first month past the last possible end, an end before the start: still dropped).
    b_max = int(birth_all.max()) if n else 0
    first_cap = b_max + 12 * MAX_AGE_CAP + 1  # past every row's end
    narrow = -(2**31) <= start_m - 1 and max(start_m, first_cap) < 2**31 - 1
    mdt = np.int32 if narrow else np.int64
    unit_col = s["unit_id"]
    # segments from certificate_segments: the unit codes are there already; only categories in use count
    codes = (
        unit_col.cat.codes.to_numpy() if isinstance(unit_col.dtype, pd.CategoricalDtype) else None
    )
    n_cats = len(unit_col.cat.categories) if codes is not None else 0

    def prepare(lo: int, hi: int):
        m = hi - lo
        first, end = np.empty(m, mdt), np.empty(m, mdt)
        keep, typical = np.empty(m, bool), np.empty(m, bool)
        kept_per_cat = np.zeros(n_cats + 1, np.int64)  # kept rows per code + 1 (0: none, dropped)
        for b0 in range(0, m, _BLOCK):  # block by block: the int64 temporaries stay small
            b1 = min(b0 + _BLOCK, m)
            f = np.maximum(first_all[lo + b0 : lo + b1], start_m)
            seg_end = end_all[lo + b0 : lo + b1]
            # Beyond the child's 30th birthday month nothing is ever paid (MAX_AGE_CAP), so the end can be
            # clipped there: this bounds every month column, which lets the six keys pack into one int64.
            e = birth_all[lo + b0 : lo + b1] + 12 * MAX_AGE_CAP
            if horizon_end is not None:
                np.minimum(e, horizon_end, out=e)
            # Typical: paid from the start month until the horizon ends or the child turns 30, neither
            # payroll nor revocation ending it first (the segment's own end is no earlier than that one).
            # Such a row's key is (mode, unit, share, birth) alone.
            t = seg_end >= e
            np.minimum(e, seg_end, out=e)
            k = f <= e
            t &= f == start_m
            t &= k
            keep[b0:b1], typical[b0:b1] = k, t
            if codes is not None:
                cb = codes[lo + b0 : lo + b1].astype(np.intp)
                cb += 1
                cb *= k
                kept_per_cat += np.bincount(cb, minlength=n_cats + 1)
            if narrow:
                np.minimum(f, first_cap, out=f)
                np.maximum(e, start_m - 1, out=e)
            first[b0:b1], end[b0:b1] = f, e
        return first, end, keep, typical, kept_per_cat

    with _pool(n) as pool:
        prepared = [job.result() for job in [pool.submit(prepare, lo, hi) for lo, hi in bounds]]

    if codes is not None:
        used = sum(p[4] for p in prepared)[1:] > 0
        cats = [str(x) for x in unit_col.cat.categories]
        labels = [c for c, u in zip(cats, used, strict=True) if u]
        all_units = sorted(set(units) | set(labels))
        recode = np.append(pd.Index(all_units).get_indexer(cats), -1)  # code -1 (no unit) -> -1
        recode = recode.astype(np.int16 if len(all_units) < 2**15 else np.int32)  # narrow row codes

        def unit_of(lo: int, hi: int) -> np.ndarray:
            return recode[codes[lo:hi]]
    else:
        keep = prepared[0][2] if len(prepared) == 1 else np.concatenate([p[2] for p in prepared])
        fcodes, fl = pd.factorize(unit_col.reset_index(drop=True)[keep])
        labels = [str(x) for x in fl]
        all_units = sorted(set(units) | set(labels))
        unit_code = np.zeros(n, np.int64)
        unit_code[keep] = (
            pd.Index(all_units).get_indexer(labels)[fcodes]
            if len(fcodes)
            else np.zeros(0, np.int64)
        )

        def unit_of(lo: int, hi: int) -> np.ndarray:
            return unit_code[lo:hi]

    mode_all, share_all = s["mode"].to_numpy(), s["share"].to_numpy()

    def columns(k: int) -> list[np.ndarray]:
        (lo, hi), (first, end, *_) = bounds[k], prepared[k]
        return [mode_all[lo:hi], unit_of(lo, hi), share_all[lo:hi], first, end, birth_all[lo:hi]]

    uniq, count = _fold(columns, prepared, n, start_m, horizon_end, len(all_units))
    return Cohorts(
        units=tuple(all_units),
        mode=uniq[0].astype(np.int8),
        unit=uniq[1],
        share=uniq[2].astype(np.int8),
        first_m=uniq[3],
        end_m=uniq[4],
        birth_m=uniq[5],
        count=count.astype(np.int64),
        start_m=start_m,
        max_months=max_months,
    )


#: Largest dense count table :func:`_fold` allocates (int64 cells).
_DENSE_MAX = 1 << 25


def _fold(columns, prepared, n: int, start_m: int, horizon_end: int | None, n_units: int):
    """Distinct kept rows of the six key columns (mode, unit, share, first, end, birth) in lexicographic order.

    ``columns(k)`` gives chunk k's six columns and ``prepared[k]`` its
    ``(first, end, keep, typical, ...)`` (the list is emptied once the rows
    are folded, so that its full-length arrays are freed early). The keys are
    packed mixed-radix into one int64. *Typical* rows (see :func:`compress`)
    are counted in a dense table over (mode, unit, share, birth month) with
    ``np.bincount`` (no hashing), one table per chunk, added up; the other
    kept rows by a hash factorize of their packed keys. The two sorted lists
    are then merged (a typical key never equals an atypical one). Same result
    as counting every row at once (the property tests compare with a
    month-by-month reference).

    Returns:
        ``([mode, unit, share, first, end, birth], count)``, int64 arrays.
    """
    n_keep = sum(int(np.count_nonzero(p[2])) for p in prepared)
    if n_keep == 0:
        return [np.zeros(0, np.int64) for _ in range(6)], np.zeros(0, np.int64)
    # Bounds that cover every kept row, from cheap whole-column reductions: a kept row has
    # start ≤ first ≤ end ≤ birth + 12 × MAX_AGE_CAP (and ≤ the horizon's end), so birth ≥ start - 360;
    # unit codes are -1 (no unit) .. n_units - 1.
    chunks = [columns(k) for k in range(len(prepared))]
    hi_birth = max(int(c[5].max()) for c in chunks if len(c[5]))
    hi_end = hi_birth + 12 * MAX_AGE_CAP
    if horizon_end is not None:
        hi_end = min(hi_end, horizon_end)
    lows = [
        min(int(c[0].min()) for c in chunks if len(c[0])),
        -1,
        min(int(c[2].min()) for c in chunks if len(c[2])),
        start_m,
        start_m,
        start_m - 12 * MAX_AGE_CAP,
    ]
    highs = [
        max(int(c[0].max()) for c in chunks if len(c[0])),
        n_units - 1,
        max(int(c[2].max()) for c in chunks if len(c[2])),
        hi_end,
        hi_end,
        hi_birth,
    ]
    spans = [hi - lo + 1 for lo, hi in zip(lows, highs, strict=True)]
    if (
        np.prod([float(x) for x in spans]) >= 2.0**62
    ):  # pathological month ranges: sort rows instead
        stacked = np.concatenate(
            [
                np.column_stack([col[p[2]].astype(np.int64) for col in c])
                for c, p in zip(chunks, prepared, strict=True)
            ]
        )
        uniq, count = np.unique(stacked, axis=0, return_counts=True)
        return [uniq[:, i] for i in range(6)], count

    def pack(cs: list[np.ndarray]) -> np.ndarray:
        key = cs[0].astype(np.int64)
        key -= lows[0]
        for c, lo, sp in zip(cs[1:], lows[1:], spans[1:], strict=True):
            key *= sp
            key += c
            key -= lo
        return key

    def unpack(keys: np.ndarray) -> list[np.ndarray]:
        out, rest = [], keys.copy()
        for lo, sp in zip(reversed(lows), reversed(spans), strict=True):
            out.append(rest % sp + lo)
            rest //= sp
        return out[::-1]

    dense = spans[0] * spans[1] * spans[2] * spans[5]
    n_typ = sum(int(np.count_nonzero(p[3])) for p in prepared)
    use_dense = n_typ > 0 and dense <= min(_DENSE_MAX, 8 * n_typ + (1 << 20))

    def fold_chunk(k: int):
        mode, unit, share, first, end, birth = chunks[k]
        keep, typical = prepared[k][2], prepared[k][3]
        hist = None
        if use_dense:
            # the typical rows' cells, block by block (computed over every row of a block, no gathers)
            d = np.empty(int(np.count_nonzero(typical)), np.int64)
            o = 0
            for b0 in range(0, len(mode), _BLOCK):
                sl = slice(b0, b0 + _BLOCK)
                db = mode[sl].astype(np.int64)
                db -= lows[0]
                for c, i in ((unit, 1), (share, 2), (birth, 5)):
                    db *= spans[i]
                    db += c[sl]
                    db -= lows[i]
                db = db[typical[sl]]
                d[o : o + len(db)] = db
                o += len(db)
            hist = np.bincount(d, minlength=dense)
            del d
            rest = keep & ~typical
        else:
            rest = keep
        rows = np.flatnonzero(
            rest
        )  # one index array for the six gathers (a mask would be scanned six times)
        return hist, pack([c[rows] for c in chunks[k]])

    with _pool(n) as pool:
        folded = [job.result() for job in [pool.submit(fold_chunk, k) for k in range(len(chunks))]]
    # the full-length columns are no longer needed (the caller keeps none of them): free them before the
    # cohorts' own arrays are allocated, so that those reuse their memory
    chunks.clear()
    prepared.clear()
    hists = [f[0] for f in folded]
    folded = [f[1] for f in folded]
    parts_keys, parts_counts, parts_cols = [], [], []
    if use_dense:
        hist = hists.pop(0)
        while hists:
            hist += hists.pop()
        cells = np.flatnonzero(hist)
        cnt = hist[cells]
        del hist
        birth, rest = cells % spans[5] + lows[5], cells // spans[5]
        share, rest = rest % spans[2] + lows[2], rest // spans[2]
        unit, mode = rest % spans[1] + lows[1], rest // spans[1] + lows[0]
        end = birth + 12 * MAX_AGE_CAP
        if horizon_end is not None:
            np.minimum(end, horizon_end, out=end)
        tcols = [mode, unit, share, np.full(len(cells), start_m, np.int64), end, birth]
        # (mode, unit, share, birth) order is the full key order: first is fixed and end grows with birth
        parts_keys.append(pack(tcols))
        parts_counts.append(cnt)
        parts_cols.append(tcols)
    key = folded[0] if len(folded) == 1 else np.concatenate(folded)
    del folded
    if len(key) or not use_dense:
        inv, uk = pd.factorize(key, sort=True)
        uk = np.asarray(uk, dtype=np.int64)
        parts_keys.append(uk)
        parts_counts.append(np.bincount(inv, minlength=len(uk)))
        parts_cols.append(unpack(uk))
    del key
    if len(parts_keys) == 1:
        return parts_cols[0], parts_counts[0]
    # merge two sorted, disjoint key lists
    k1, k2 = parts_keys
    at2 = np.searchsorted(k1, k2) + np.arange(len(k2))
    total = len(k1) + len(k2)
    from1 = np.ones(total, bool)
    from1[at2] = False
    out_cols = []
    for c1, c2 in zip(parts_cols[0], parts_cols[1], strict=True):
        c = np.empty(total, np.int64)
        c[from1] = c1
        c[at2] = c2
        out_cols.append(c)
    count = np.empty(total, np.int64)
    count[from1] = parts_counts[0]
    count[at2] = parts_counts[1]
    return out_cols, count


def _sum_by(codes: np.ndarray, values: np.ndarray, n: int, axis: int = 0) -> np.ndarray:
    """Sum ``values`` along ``axis`` into ``n`` groups given by ``codes`` (sorted reduceat; exact ints)."""
    shape = list(values.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=values.dtype)
    if values.shape[axis] == 0:
        return out
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    sums = np.add.reduceat(np.take(values, order, axis=axis), starts, axis=axis)
    idx = [slice(None)] * values.ndim
    idx[axis] = sc[starts]
    out[tuple(idx)] = sums
    return out


def project_cohorts(cohorts: Cohorts, mp: MonthlyParams) -> np.ndarray:
    """Committed fen per unit and month: array ``(len(cohorts.units), len(mp.months))``, exact int64.

    The horizon is cut into runs of months with the same age cap and split
    (usually one to three). Within a run a cohort is paid in one interval of
    months, ``max(first, run start) .. min(end, birth + 12 × cap, run end)``,
    so each cohort adds its count at the interval's start and removes it after
    its end; a cumulative sum over months then gives the certificates paid per
    unit, share and month, and the amount in force is applied per month. The
    cost is one pass over the cohorts per run, independent of the number of
    months: this is what a widget re-runs on every slider move.

    Examples:
        >>> c = Cohorts(("U1",), np.array([0], np.int8), np.array([0]), np.array([0], np.int8),
        ...     np.array([24300]), np.array([24310]), np.array([24150]), np.array([2]), 24300)
        >>> mp = MonthlyParams(np.arange(24300, 24304), np.array([2000, 2000, 3000, 3000]),
        ...     np.array([14, 14, 14, 12]), np.zeros(4, np.int8), np.ones(4))
        >>> project_cohorts(c, mp).tolist()  # born 2012-07: aged 12 from 2024-07, so cap 12 stops it
        [[4000, 4000, 6000, 0]]
    """
    n_u, n_m = len(cohorts.units), len(mp.months)
    out = np.zeros((n_u, n_m), np.int64)
    if len(cohorts.count) == 0 or n_m == 0:
        return out
    cap, split = np.asarray(mp.age_cap), np.asarray(mp.split)
    cut = np.flatnonzero((cap[1:] != cap[:-1]) | (split[1:] != split[:-1])) + 1
    bounds = np.r_[0, cut, n_m]
    m0 = int(mp.months[0])
    width = n_m + 1
    size = n_u * 3 * width
    mode = cohorts.mode
    # Cohorts from compress (and merged ones) are sorted by mode first: a run then reads only the cohorts
    # of the split in force, as one slice. Otherwise a mask picks them.
    by_mode = len(mode) < 2 or bool(np.all(mode[1:] >= mode[:-1]))

    def run_delta(sl: slice, lo_m: int, hi_m: int, cap_years: int, split_code: int) -> np.ndarray:
        """Count changes (+count at the first paid month, -count after the last) of cohorts ``sl``."""
        first, end, birth = cohorts.first_m[sl], cohorts.end_m[sl], cohorts.birth_m[sl]
        lo = np.maximum(first, lo_m)
        hi = birth + 12 * cap_years
        np.minimum(hi, end, out=hi)
        np.minimum(hi, hi_m, out=hi)
        sel = lo <= hi
        if not by_mode:
            sel &= mode[sl] == split_code
        rows = np.flatnonzero(sel)
        if len(rows) == 0:
            return np.zeros(size, np.float64)
        # (unit, share) row of the count table, then the month's column
        base = cohorts.unit[sl][rows].astype(np.int64) * 3
        base += cohorts.share[sl][rows]
        base *= width
        base -= m0
        # Counts as float64 bincount weights are exact: every partial sum is an integer far below 2**53.
        w = cohorts.count[sl][rows].astype(np.float64)
        d = np.bincount(base + lo[rows], weights=w, minlength=size)
        base += hi[rows]
        base += 1
        d -= np.bincount(base, weights=w, minlength=size)
        return d

    delta = np.zeros(size, np.float64)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        lo_m, hi_m, c, sp = int(mp.months[a]), int(mp.months[b - 1]), int(cap[a]), int(split[a])
        if by_mode:
            i0 = int(np.searchsorted(mode, sp, side="left"))
            i1 = int(np.searchsorted(mode, sp, side="right"))
        else:
            i0, i1 = 0, len(mode)
        # two halves in two threads for province-sized cohort sets (each adds its own array)
        mid = (i0 + i1) // 2
        pieces = [slice(i0, mid), slice(mid, i1)] if i1 - i0 >= _PARALLEL_MIN else [slice(i0, i1)]
        with _pool(i1 - i0) as pool:
            for job in [pool.submit(run_delta, sl, lo_m, hi_m, c, sp) for sl in pieces]:
                delta += job.result()
    paid = np.rint(np.cumsum(delta.reshape(n_u, 3, width)[:, :, :n_m], axis=2)).astype(np.int64)
    fen = mp.share_fen()  # (3, M)
    np.einsum("usm,sm->um", paid, fen, out=out)
    return out


# --------------------------------------------------------------------------- new certificates


NEW_GROUP_COLUMNS = ["payee_unit_id", "other_unit_id", "rate", "couples"]


def _band_rate(ages: pd.Series, rates: Mapping[str, float]) -> np.ndarray:
    """The yearly rate of each age's band (``"15-19": 0.2``); an age in no band gets 0."""
    a = ages.astype("float64").to_numpy()
    out = np.zeros(len(a))
    for band, r in rates.items():  # a handful of bands, not rows
        lo, hi = (int(x) for x in str(band).split("-"))
        out[(a >= lo) & (a <= hi)] = float(r)
    return out


def new_certificate_groups(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any
) -> pd.DataFrame:
    """In-scope childless couples on ``start`` grouped by who would pay and their birth rate (§5).

    Returns:
        One row per group with :data:`NEW_GROUP_COLUMNS`: the responsible
        (staff) unit that pays with split = payee, the other spouse's staff unit
        (or missing) for split = half, the yearly first-birth probability, and
        the number of couples. Sorted, so the simulation is reproducible.
    """
    on = pd.Timestamp(start)
    scope = couples_in_scope(tables, params, on, childbearing_only=True)
    has_child = scope["couple_id"].isin(tables["children"]["couple_id"])
    scope = scope[~has_child & (scope["basis"] == "staff")].reset_index(drop=True)
    if scope.empty:
        return pd.DataFrame(
            {
                "payee_unit_id": pd.Series([], dtype="str"),
                "other_unit_id": pd.Series([], dtype="str"),
                "rate": pd.Series([], dtype="float64"),
                "couples": pd.Series([], dtype="int64"),
            }
        )
    persons = tables["persons"].drop_duplicates("person_id").set_index("person_id")
    wife = persons.reindex(scope["wife_id"].to_numpy())
    husb = persons.reindex(scope["husband_id"].to_numpy())
    w_unit = wife["unit_id"].where(is_staff_on(wife, on)).to_numpy(object)
    h_unit = husb["unit_id"].where(is_staff_on(husb, on)).to_numpy(object)
    payee_unit = scope["responsible_unit_id"].to_numpy(object)
    # The payee is the responsible spouse: the other spouse is the one whose staff unit is not the payee's side.
    wife_pays = pd.Series(w_unit).notna().to_numpy() & (w_unit == payee_unit)
    resp = pd.Series(params.at_many("responsible_spouse", pd.to_datetime([on] * len(scope))))
    wife_pays &= ~(
        (resp == "husband").to_numpy()
        & pd.Series(h_unit).notna().to_numpy()
        & (h_unit == payee_unit)
    )
    other = np.where(wife_pays, h_unit, w_unit)
    rate = _band_rate(scope["wife_age"], params.at("births_per_couple_year", on))
    g = pd.DataFrame({"payee_unit_id": payee_unit, "other_unit_id": other, "rate": rate})
    g["other_unit_id"] = g["other_unit_id"].astype("str")
    g["payee_unit_id"] = g["payee_unit_id"].astype("str")
    out = (
        g.groupby(["payee_unit_id", "other_unit_id", "rate"], dropna=False, sort=True)
        .size()
        .rename("couples")
        .reset_index()
    )
    out = out[out["rate"] > 0].reset_index(drop=True)
    out["couples"] = out["couples"].astype("int64")
    return out


def simulate_new(
    groups: pd.DataFrame, mp: MonthlyParams, lag_months: int, draws: int, seed: int
) -> np.ndarray:
    """New certificates issued in each month of the horizon: int array ``(draws, groups, months)``.

    For a group of N couples with monthly hazard h, the certificate issue month
    of all N couples is one multinomial draw over the categories "birth in month
    k and certificate at k + lag" (probability ``h (1-h)^k × uptake``) and
    "none within the horizon"; vectorised over groups and draws (one call).
    """
    n_m = len(mp.months)
    g = len(groups)
    out = np.zeros((draws, g, n_m), dtype=np.int64)
    k_issue = n_m - lag_months  # issue months lag..n_m-1 come from births 0..k_issue-1
    if g == 0 or k_issue <= 0 or draws <= 0:
        return out
    p = groups["rate"].to_numpy(np.float64)
    h = 1.0 - np.power(1.0 - np.clip(p, 0.0, 1.0), 1.0 / 12.0)
    k = np.arange(k_issue)
    birth_p = h[:, None] * np.power(1.0 - h[:, None], k[None, :])  # (G, K)
    up = mp.uptake[lag_months:][None, :]
    cat = birth_p * up
    rest = np.clip(1.0 - cat.sum(axis=1, keepdims=True), 0.0, 1.0)
    pvals = np.concatenate([cat, rest], axis=1)
    pvals /= pvals.sum(axis=1, keepdims=True)  # guard against rounding above 1
    if seed is not None and int(seed) < 0:  # numpy's ValueError otherwise (found by fuzzing)
        raise UsageError(
            f"随机数种子应为非负整数：{seed!r}",
            f"the seed must be a whole number >= 0: {seed!r}",
            value=str(seed),
            rule="seed",
        )
    rng = np.random.default_rng(seed)
    n = groups["couples"].to_numpy(np.int64)
    draw = rng.multinomial(n, pvals, size=(draws, g))  # (D, G, K+1)
    out[:, :, lag_months:] = draw[:, :, :k_issue]
    return out


def project_new(
    groups: pd.DataFrame,
    issued: np.ndarray,
    mp: MonthlyParams,
    lag_months: int,
    units: Sequence[str],
) -> np.ndarray:
    """Fen paid to new certificates: int array ``(draws, len(units), months)``, exact.

    A certificate issued in horizon month j (child born j - lag) is paid in
    month m iff ``j ≤ m ≤ j - lag + 12 × age_cap(m)``: a window sum over issue
    months, taken from cumulative sums (no loop over months).
    """
    d, g, n_m = issued.shape
    out = np.zeros((d, len(units), n_m), dtype=np.int64)
    if g == 0 or n_m == 0:
        return out
    uidx = pd.Index(list(units))
    payee_u = uidx.get_indexer(groups["payee_unit_id"].to_numpy(object))
    other_u = uidx.get_indexer(groups["other_unit_id"].to_numpy(object))
    has_other = groups["other_unit_id"].notna().to_numpy() & (other_u >= 0)
    fen = mp.share_fen()
    is_payee = mp.split == MODES.index("payee")
    # Three kinds of leg, each with one fen row over the payment months (the split in force in each month):
    # 0 the payee's unit when the other spouse is not staff (all, either split); 1 the payee's unit when the
    # other spouse is staff (all under payee, the major half under half); 2 the other spouse's unit (nothing
    # under payee, the minor half under half).
    kind_fen = np.stack([fen[0], np.where(is_payee, fen[0], fen[1]), np.where(is_payee, 0, fen[2])])
    leg_g = np.r_[np.arange(g), np.flatnonzero(has_other)]
    leg_key = np.r_[payee_u * 3 + np.where(has_other, 1, 0), other_u[has_other] * 3 + 2]
    order = np.argsort(leg_key, kind="stable")
    leg_g, leg_key = leg_g[order], leg_key[order]
    first = np.flatnonzero(np.r_[True, leg_key[1:] != leg_key[:-1]])
    keys = leg_key[first]
    # The payment window is linear in the issued counts, so legs of one unit and kind are summed first:
    # the work below scales with units, not with couples or groups. Counts fit int32 (halves the memory).
    issued_k = np.add.reduceat(issued[:, leg_g, :].astype(np.int32), first, axis=1)  # (D, K, M)
    csum = np.zeros((d, len(keys), n_m + 1), np.int32)
    np.cumsum(issued_k, axis=2, out=csum[:, :, 1:])
    m = np.arange(n_m)
    lo = np.minimum(
        np.clip(m - 12 * mp.age_cap + lag_months, 0, None), m + 1
    )  # earliest issue still paid in m
    active = csum[:, :, 1:] - csum[:, :, lo]  # (D, K, M) certificates being paid in m
    values = active * kind_fen[keys % 3][None, :, :]  # int64 fen
    unit_of = keys // 3  # sorted, since keys are
    starts = np.flatnonzero(np.r_[True, unit_of[1:] != unit_of[:-1]])
    out[:, unit_of[starts], :] = np.add.reduceat(values, starts, axis=1)
    return out


# --------------------------------------------------------------------------- the projection


def _pct(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """P10, P50, P90 over ``axis`` as int64 fen (actual draws: ``inverted_cdf``)."""
    if x.shape[axis] == 0:
        shape = list(x.shape)
        shape[axis] = 3
        return np.zeros(shape, np.int64)
    return np.percentile(x, [10, 50, 90], axis=axis, method="inverted_cdf").astype(np.int64)


@dataclass
class BonusProjection:
    """A projection over a horizon: committed fen per unit-month and every draw of new fen.

    Attributes:
        start_m: first month (index).
        units: unit ids (rows of ``committed_fen``).
        committed_fen: int64 ``(units, months)``.
        new_fen: int64 ``(draws, units, months)``: each draw kept, so that any
            level's percentile is taken over that level's summed draws.
    """

    start_m: int
    units: tuple[str, ...]
    committed_fen: np.ndarray
    new_fen: np.ndarray
    scenario: str = "baseline"
    meta: dict = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return [month_label(self.start_m + i) for i in range(self.committed_fen.shape[1])]

    def _frame(
        self, labels: dict[str, list], committed: np.ndarray, new: np.ndarray
    ) -> pd.DataFrame:
        p = (
            _pct(new, axis=0)
            if new.ndim and new.shape[0]
            else np.zeros((3, *committed.shape), np.int64)
        )
        df = pd.DataFrame(labels)
        df["committed_yuan"] = fen_to_yuan(committed.reshape(-1))
        for i, q in enumerate(("p10", "p50", "p90")):
            df[f"new_{q}_yuan"] = fen_to_yuan(p[i].reshape(-1))
        return df

    def table(self, by: Sequence[str] = ("month", "unit_id")) -> pd.DataFrame:
        """Totals at a level: ``by`` ⊆ {``month`` or ``year``, ``unit_id``}; ``()`` = the whole horizon.

        New-certificate percentiles are taken over the draws summed to that
        level (POLICY.md §5). Rows sorted by period then unit.

        Examples:
            >>> pr = BonusProjection(24300, ("U1", "U2"), np.array([[100, 100], [0, 50]]),
            ...                      np.array([[[0, 10], [10, 0]], [[10, 0], [0, 10]]]))
            >>> pr.table(("month",))[["month", "committed_yuan", "new_p90_yuan"]]
                 month committed_yuan new_p90_yuan
            0  2025-01           1.00         0.10
            1  2025-02           1.50         0.10
        """
        by = tuple(by)
        c, n = self.committed_fen, self.new_fen
        if "unit_id" not in by:
            c, n = c.sum(axis=0, keepdims=True), n.sum(axis=1, keepdims=True)
        months = np.arange(self.start_m, self.start_m + c.shape[1])
        if "month" in by:
            periods = [month_label(int(m)) for m in months]
            pcol = "month"
        elif "year" in by:
            years = months // 12
            uy = np.unique(years)
            code = np.searchsorted(uy, years)
            c = _sum_by(code, c, len(uy), axis=1)
            n = _sum_by(code, n, len(uy), axis=2)
            periods, pcol = [int(y) for y in uy], "year"
        else:
            c, n = c.sum(axis=1, keepdims=True), n.sum(axis=2, keepdims=True)
            periods, pcol = [None], None
        units = list(self.units) if "unit_id" in by else [None]
        # rows: period-major, then unit
        cc = np.ascontiguousarray(c.T)  # (P, U)
        nn = np.ascontiguousarray(np.transpose(n, (0, 2, 1)))  # (D, P, U)
        labels: dict[str, list] = {}
        if pcol:
            labels[pcol] = [p for p in periods for _ in units]
        if "unit_id" in by:
            labels["unit_id"] = [u for _ in periods for u in units]
        df = self._frame(labels, cc, nn)
        if self.scenario != "baseline" or self.meta.get("show_scenario"):
            df.insert(0, "scenario", self.scenario)
        return df


@dataclass
class BonusModel:
    """The compressed form a projection (and a widget) works from: built once per dataset and start.

    Re-projecting with new parameters (amount, age cap, split, uptake, lag,
    horizon up to ``max_months``) reads only cohorts and new-certificate groups.
    """

    start_m: int
    cohorts: Cohorts
    groups: pd.DataFrame
    units: tuple[str, ...]

    @classmethod
    def build(
        cls,
        tables: Mapping[str, pd.DataFrame],
        params: Params,
        start: Any,
        max_months: int | None = None,
    ) -> BonusModel:
        """Segments, cohorts and new-certificate groups as of the first day of ``start`` (a month).

        ``max_months`` bounds the horizons this model can project (see :func:`compress`); ``None``: any.
        """
        start_m = parse_month(start)
        seg, _ = certificate_segments(tables, with_info=False)
        groups = new_certificate_groups(tables, params, month_start(start_m))
        unit_ids = (
            tables["units"]["unit_id"].dropna().astype("str").tolist() if "units" in tables else []
        )
        extra = groups["payee_unit_id"].tolist() + groups["other_unit_id"].dropna().tolist()
        cohorts = compress(
            seg, start_m, units=sorted(set(unit_ids) | set(extra)), max_months=max_months
        )
        return cls(start_m, cohorts, groups, cohorts.units)

    def project(
        self,
        params: Params,
        months: int = DEFAULT_MONTHS,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
        scenario: str = "baseline",
    ) -> BonusProjection:
        """Committed and new payments for ``months`` months from the start under ``params``."""
        if months < 1:
            raise UsageError(
                "预测月数应至少为 1",
                "the horizon must be at least 1 month",
                value=months,
                rule="months",
            )
        if draws < 1:
            raise UsageError(
                "模拟次数应至少为 1", "draws must be at least 1", value=draws, rule="draws"
            )
        if self.cohorts.max_months is not None and months > self.cohorts.max_months:
            raise UsageError(
                f"此模型最多预测 {self.cohorts.max_months} 个月",
                f"this model projects at most {self.cohorts.max_months} months",
                value=months,
                rule="months",
            )
        mp = MonthlyParams.of(params, self.start_m, months)
        committed = project_cohorts(self.cohorts, mp)
        lag = int(params.at("lag_months", month_start(self.start_m)))
        issued = simulate_new(self.groups, mp, lag, draws, seed)
        new = project_new(self.groups, issued, mp, lag, self.units)
        return BonusProjection(
            self.start_m,
            self.units,
            committed,
            new,
            scenario=scenario,
            meta={"draws": draws, "seed": seed, "months": months, "lag_months": lag},
        )


def project(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    start: Any,
    months: int = DEFAULT_MONTHS,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> BonusProjection:
    """The budget projection (POLICY.md §5): committed payments and new certificates with bands."""
    return BonusModel.build(tables, params, start, max_months=months).project(
        params, months, draws, seed
    )


def committed_payments(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any, months: int = DEFAULT_MONTHS
) -> pd.DataFrame:
    """Committed payments per month and unit (columns ``month``, ``unit_id``, ``committed_yuan``)."""
    start_m = parse_month(start)
    seg, _ = certificate_segments(tables, with_info=False)
    unit_ids = (
        tables["units"]["unit_id"].dropna().astype("str").tolist() if "units" in tables else []
    )
    cohorts = compress(seg, start_m, units=unit_ids, max_months=months)
    mp = MonthlyParams.of(params, start_m, months)
    fen = project_cohorts(cohorts, mp)
    pr = BonusProjection(start_m, cohorts.units, fen, np.zeros((0, *fen.shape), np.int64))
    return pr.table()[["month", "unit_id", "committed_yuan"]]


# --------------------------------------------------------------------------- scenarios


def load_scenarios(paths: Sequence[str | Path]) -> dict[str, dict]:
    """Read scenario files: each a plain override file (named by its file stem) or ``scenarios: {name: overrides}``.

    Raises:
        ParamError: a file is unreadable, not a mapping, or two scenarios share a name.
    """
    out: dict[str, dict] = {}
    for path in paths:
        path = Path(path)
        raw = read_yaml(path)
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ParamError(
                "情景文件应为 名称: 值 的映射",
                "a scenario file must be a mapping",
                file=str(path),
                rule="scenario-file",
            )
        named = raw["scenarios"] if set(raw) == {"scenarios"} else {path.stem: raw}
        if not isinstance(named, Mapping):
            raise ParamError(
                "scenarios 下应为 情景名: 覆盖参数 的映射",
                "'scenarios' must map scenario names to overrides",
                file=str(path),
                rule="scenario-file",
            )
        for name, ov in named.items():
            name = str(name)
            if name in out or name == "baseline":
                raise ParamError(
                    f"情景名重复或保留：{name}",
                    f"scenario name repeated or reserved: {name}",
                    file=str(path),
                    value=name,
                    rule="scenario-name",
                )
            out[name] = dict(ov or {})
    return out


def scenario_params(params: Params, scenarios: Mapping[str, Mapping]) -> dict[str, Params]:
    """``{"baseline": params, name: params.with_overrides(overrides), ...}`` (overrides validated)."""
    out = {"baseline": params}
    for name, ov in scenarios.items():
        out[name] = params.with_overrides(ov, source=f"scenario {name}")
    return out


def compare_scenarios(
    model: BonusModel,
    params_by_scenario: Mapping[str, Params],
    months: int = DEFAULT_MONTHS,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    by: Sequence[str] = ("month", "unit_id"),
) -> pd.DataFrame:
    """Every scenario's table at level ``by``, stacked with a ``scenario`` column (baseline first).

    Every scenario uses the same seed (common random numbers), so a difference
    between scenarios comes from the parameters, not the draw.
    """
    frames = []
    for name, p in params_by_scenario.items():
        pr = model.project(p, months, draws, seed, scenario=name)
        pr.meta["show_scenario"] = True
        frames.append(pr.table(by))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- liability and outside


LIABILITY_COLUMNS = ["unit_id", "certificates", "liability_yuan", "liability_discounted_yuan"]


def liability(tables: Mapping[str, pd.DataFrame], params: Params, start: Any) -> pd.DataFrame:
    """Remaining payments owed to today's certificates from ``start`` on, by paying unit (§5).

    Payers on the payroll in the start month are assumed to stay; parameters in
    force in each future month apply (a dated rise counts). Undiscounted and
    discounted at ``discount_rate`` (yearly; month ``start + k`` weighs
    ``(1+r)^(-k/12)``), rounded once to the fen. ``certificates`` counts the
    certificates with at least one future payment from that unit.
    """
    start_m = parse_month(start)
    seg, _ = certificate_segments(tables, assume_stay_from=start_m, with_info=False)
    unit_ids = (
        tables["units"]["unit_id"].dropna().astype("str").tolist() if "units" in tables else []
    )
    cohorts = compress(seg, start_m, units=unit_ids)
    units = list(cohorts.units)
    if len(cohorts):
        max_cap = max(int(v) for _, v in params.timeline("reward_age_cap"))
        last = int(np.minimum(cohorts.end_m, cohorts.birth_m + 12 * max_cap).max())
        months = max(last - start_m + 1, 1)
    else:
        months = 1
    mp = MonthlyParams.of(params, start_m, months)
    fen = project_cohorts(cohorts, mp)  # (U, M)
    r = Decimal(str(params.at("discount_rate", month_start(start_m))))
    # Discount factors exactly in Decimal on the unit-month totals (small), then one rounding per unit.
    k = np.arange(months)
    nz = fen.any(axis=0)
    factors = {int(i): (1 + r) ** (Decimal(int(i)) / 12) for i in k[nz]}
    disc = []
    for row in fen:
        s = sum((Decimal(int(v)) / factors[int(i)] for i, v in enumerate(row) if v), Decimal(0))
        disc.append(int(s.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    # certificates still paid by each unit: any paid month in the horizon
    m = mp.months[None, :]
    paid_any = (
        (cohorts.first_m[:, None] <= m)
        & (m <= cohorts.end_m[:, None])
        & (m <= cohorts.birth_m[:, None] + 12 * mp.age_cap[None, :])
        & (cohorts.mode[:, None] == mp.split[None, :])
    ).any(axis=1)
    n_cert = _sum_by(cohorts.unit, np.where(paid_any, cohorts.count, 0), len(units))
    return pd.DataFrame(
        {
            "unit_id": pd.Series(units, dtype="str"),
            "certificates": pd.Series(n_cert, dtype="int64"),
            "liability_yuan": fen_to_yuan(fen.sum(axis=1)),
            "liability_discounted_yuan": fen_to_yuan(disc),
        }
    )


OUTSIDE_COLUMNS = [
    "cert_id",
    "couple_id",
    "payee_id",
    "category",
    "unit_id",
    "months_due",
    "outside_yuan",
]


def outside_budget(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any, months: int = DEFAULT_MONTHS
) -> pd.DataFrame:
    """Certificates with no payer on the bureau's payroll, shown apart from the budget (§5).

    Under the split in force in the start month. ``months_due`` and
    ``outside_yuan`` are what the certificate is entitled to in the horizon
    (issue, age cap and revocation applied; payroll not), which the bureau does
    not pay; ``unit_id`` is the payee's registered unit, if any. Certificates
    entitled to nothing in the horizon are left out.
    """
    start_m = parse_month(start)
    _, info = certificate_segments(tables)
    split = params.at("reward_split", month_start(start_m))
    inside = info["in_budget_payee"] if split == "payee" else info["in_budget_half"]
    out = info[~inside.to_numpy(bool)].reset_index(drop=True)
    mp = MonthlyParams.of(params, start_m, months)
    m = mp.months[None, :]
    ent = (
        (out["issue_m"].to_numpy()[:, None] <= m)
        & (m <= out["stop_m"].to_numpy()[:, None])
        & (m <= out["birth_m"].to_numpy()[:, None] + 12 * mp.age_cap[None, :])
    )
    res = pd.DataFrame(
        {
            "cert_id": out["cert_id"].astype("str"),
            "couple_id": out["couple_id"].astype("str"),
            "payee_id": out["payee_id"].astype("str"),
            "category": out["category"].astype("str"),
            "unit_id": out["payee_unit_id"].astype("str"),
            "months_due": ent.sum(axis=1).astype("int64"),
            "outside_yuan": fen_to_yuan((ent * mp.amount_fen[None, :]).sum(axis=1)),
        }
    )
    res = res[res["months_due"] > 0]  # entitled to nothing in the horizon: no budget question
    return res.sort_values("cert_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- defaults


#: the tables whose recorded dates (``schema.Column.recorded``) give the default start month
RECORDED_TABLES = ("persons", "couples", "children", "certificates")


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
            "the dataset records no dates, so the start month cannot be derived; give --start YYYY-MM",
            rule="start-month",
        )
    return month_label(int(month_index(pd.DatetimeIndex([last]))[0]) + 1)
