"""Who is in scope on a date, and which unit answers for a couple (rulebook §2): ages in completed
years, staff and floating-population status, marriages in force and the responsible unit, as pure,
vectorised functions (one merge, no loop over couples)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.params import Params
from fpanalysis.rules.frames import Memo, keyed, memo, sort_rows

SCOPE_COLUMNS = [
    "couple_id",
    "wife_id",
    "husband_id",
    "wife_age",
    "wife_childbearing",
    "responsible_unit_id",
    "basis",
]


def _ts(on: Any) -> pd.Timestamp:
    return pd.Timestamp(on).normalize()


def _as_dates(on: Any, index: pd.Index) -> pd.Series:
    """A scalar date or a per-row Series of dates, as a datetime Series on ``index``."""
    if isinstance(on, pd.Series):
        return (
            pd.to_datetime(on).reindex(index) if not on.index.equals(index) else pd.to_datetime(on)
        )
    return pd.Series(_ts(on), index=index, dtype="datetime64[ns]")


def age_on(birth_dates: pd.Series, on: Any) -> pd.Series:
    """Age in completed years on ``on`` (a date, or a Series of dates aligned with ``birth_dates``).

    A 29 February birthday falls on 28 February in years that are not leap
    years (rulebook, general conventions). Missing dates give ``<NA>``.

    Examples:
        >>> when = pd.Series(pd.to_datetime(["2000-02-29", "1975-06-30"]))
        >>> age_on(when, "2025-02-28").tolist()
        [25, 49]
        >>> age_on(pd.Series(pd.to_datetime(["1975-06-30"])), "2025-06-29").tolist()
        [49]
    """
    b0 = pd.to_datetime(birth_dates)
    d0 = _as_dates(on, b0.index)
    ok = b0.notna() & d0.notna()
    # Fill missing dates before the arithmetic (NaN -> Int64 casts raise under
    # np.seterr(all="raise")).
    b = b0.where(ok, pd.Timestamp("2000-01-01"))
    d = d0.where(ok, pd.Timestamp("2000-01-01"))
    by, bm, bd = b.dt.year, b.dt.month, b.dt.day
    dy, dm, dd = d.dt.year, d.dt.month, d.dt.day
    leap = (dy % 4 == 0) & ((dy % 100 != 0) | (dy % 400 == 0))
    bday = bd.where(~((bm == 2) & (bd == 29) & ~leap), 28)
    before = (dm < bm) | ((dm == bm) & (dd < bday))
    age = dy - by - before.astype("Int64")
    return age.astype("Int64").where(ok)


def is_staff_on(persons: pd.DataFrame, on: Any) -> pd.Series:
    """True where the person is staff (干部职工) of a unit on ``on`` (§2).

    Of category ``staff`` with a unit, hired on or before the date and not yet left (leave date
    empty or after it).
    """
    d = _as_dates(on, persons.index)
    hired = persons["hire_date"].notna() & (persons["hire_date"] <= d)
    not_left = persons["leave_date"].isna() | (persons["leave_date"] > d)
    return (
        (persons["category"] == "staff") & persons["unit_id"].notna() & hired & not_left
    ).astype(bool)


def is_floating_on(persons: pd.DataFrame, on: Any) -> pd.Series:
    """True where the person is floating population (流动人口) registered with a unit on ``on``.

    Of category ``floating`` with a unit; ``hire_date`` and ``leave_date`` are read as the
    registration's start and end when given, and an empty ``hire_date`` means registered
    throughout.
    """
    d = _as_dates(on, persons.index)
    started = persons["hire_date"].isna() | (persons["hire_date"] <= d)
    not_left = persons["leave_date"].isna() | (persons["leave_date"] > d)
    return (
        (persons["category"] == "floating") & persons["unit_id"].notna() & started & not_left
    ).astype(bool)


def is_married_on(couples: pd.DataFrame, on: Any) -> pd.Series:
    """True where the couple is married on ``on``: married on or before it, not divorced by then."""
    d = _as_dates(on, couples.index)
    married = couples["marriage_date"].notna() & (couples["marriage_date"] <= d)
    not_divorced = couples["divorce_date"].isna() | (couples["divorce_date"] > d)
    return (married & not_divorced).astype(bool)


def _pick(first: pd.Series, second: pd.Series, wife_first: pd.Series) -> pd.Series:
    """The wife's unit or the husband's, by ``responsible_spouse``, whichever exists."""
    a = first.where(wife_first, second)
    b = second.where(wife_first, first)
    return a.where(a.notna(), b)


#: The columns of a spouse's ``persons`` row that decide the couple's responsible unit.
_SPOUSE_COLUMNS = ["unit_id", "category", "hire_date", "leave_date", "birth_date"]


def _take(values: pd.Series, at: np.ndarray, index: pd.Index) -> pd.Series:
    """``values`` at the positions ``at`` (-1: missing), on ``index``: a look-up by key whose
    positions were found once for several columns."""
    return pd.Series(
        pd.api.extensions.take(values.array, at, allow_fill=True), index=index, name=values.name
    )


def _spouses(tables: Mapping[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """For the keyed couples, where each spouse is in the keyed ``persons`` (``wife_id`` and
    ``husband_id``: positions, -1 when not there), and the persons' :data:`_SPOUSE_COLUMNS` as
    arrays to take from (made once per :class:`~fpanalysis.rules.frames.Memo`)."""

    def make() -> dict[str, np.ndarray]:
        c = keyed(tables, "couples", "couple_id")
        persons = keyed(tables, "persons", "person_id")
        out = {s: persons.index.get_indexer(c[s]) for s in ("wife_id", "husband_id")}
        for k in _SPOUSE_COLUMNS:
            v = persons[k]
            out[k] = v.to_numpy(dtype=object, na_value=np.nan) if v.dtype == "str" else v.to_numpy()
        return out

    return memo(tables, "spouses", make)


def _on_dates(params: Params, name: str, dates: pd.Series, part=None) -> pd.Series:
    """``params.at_many(name, dates)`` (``part`` of each value, a missing value or date giving
    ``None``) on ``dates``' index, each distinct date looked up once (a scope's rows share a
    handful of dates)."""
    codes, days = pd.factorize(dates)
    values = [*params.at_many(name, days), None]  # code -1 (no date) -> None
    if part is not None:
        values = [None if v is None else part(v) for v in values]
    each = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):  # one per distinct date
        each[i] = v
    return pd.Series(each[codes], index=dates.index)


def responsible_units(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    events: pd.DataFrame,
    date_column: str = "date",
) -> pd.DataFrame:
    """The responsible unit of each event's couple on the event's date (§2).

    The unit of the staff spouse; when both are staff of different units, that of the
    ``responsible_spouse`` (the wife by default); otherwise the unit a floating spouse is
    registered with (staff before floating; two floating spouses registered with different units
    follow ``responsible_spouse`` too). A couple with neither is outside the bureau's scope. A
    childbearing-age wife is within ``childbearing_age`` (15–49) in completed years on the date.

    Args:
        tables: needs ``couples`` and ``persons``.
        params: for ``responsible_spouse`` and ``childbearing_age`` in force on each date.
        events: a frame with ``couple_id`` and ``date_column``; its index is kept.
        date_column: the column holding each event's date.

    Returns:
        ``events`` with columns ``wife_id``, ``husband_id``, ``wife_age``,
        ``wife_childbearing``, ``married``, ``responsible_unit_id`` (missing when
        the couple is outside the bureau's scope on that date) and ``basis``
        (``staff`` or ``floating``). An event whose couple is unknown gets a
        missing unit.
    """
    ev = events.copy()
    dates = pd.to_datetime(ev[date_column]).astype("datetime64[ns]")
    return _responsible(params, ev, dates, _couple_parts(tables, ev["couple_id"], ev.index))


def _couple_parts(
    tables: Mapping[str, pd.DataFrame], couple_ids: pd.Series, index: pd.Index
) -> dict[str, Any]:
    """What :func:`responsible_units` reads of each couple, whatever the date, on ``index``: its
    spouses' ids, its marriage's dates and each spouse's deciding ``persons`` columns (missing
    for an unknown couple or person)."""
    c = keyed(tables, "couples", "couple_id")
    at = c.index.get_indexer(couple_ids)  # the couple's row, -1 for an unknown couple

    def spouse(col: str) -> pd.DataFrame:
        if not isinstance(tables, Memo):  # one call: look up these couples' spouses only
            persons = keyed(tables, "persons", "person_id")
            pos = persons.index.get_indexer(_take(c[col], at, index))
            return pd.DataFrame({k: _take(persons[k], pos, index) for k in _SPOUSE_COLUMNS})
        spouses = _spouses(tables)  # every couple's spouses, found once per analysis
        at_person = spouses[col]  # each couple's spouse in ``persons``, -1 when none
        pos = np.where(at >= 0, at_person[np.maximum(at, 0)], -1)
        return pd.DataFrame(
            {k: pd.api.extensions.take(spouses[k], pos, allow_fill=True) for k in _SPOUSE_COLUMNS},
            index=index,
        )

    return {
        "wife_id": _take(c["wife_id"], at, index),
        "husband_id": _take(c["husband_id"], at, index),
        "marriage": pd.DataFrame(
            {
                "marriage_date": _take(c["marriage_date"], at, index),
                "divorce_date": _take(c["divorce_date"], at, index),
            },
            index=index,
        ),
        "wife": spouse("wife_id"),
        "husband": spouse("husband_id"),
    }


def _responsible(
    params: Params, ev: pd.DataFrame, dates: pd.Series, parts: dict[str, Any]
) -> pd.DataFrame:
    """:func:`responsible_units` of the events ``ev`` (a copy, given its columns here) on
    ``dates``, their couples read as :func:`_couple_parts` (not changed)."""
    ev["wife_id"] = parts["wife_id"]
    ev["husband_id"] = parts["husband_id"]
    ev["married"] = is_married_on(parts["marriage"], dates)
    wife, husband = parts["wife"], parts["husband"]
    w_staff, h_staff = is_staff_on(wife, dates), is_staff_on(husband, dates)
    w_float, h_float = is_floating_on(wife, dates), is_floating_on(husband, dates)
    resp = _on_dates(params, "responsible_spouse", dates)
    wife_first = (resp != "husband").astype(bool)

    staff_unit = _pick(
        wife["unit_id"].where(w_staff), husband["unit_id"].where(h_staff), wife_first
    )
    float_unit = _pick(
        wife["unit_id"].where(w_float), husband["unit_id"].where(h_float), wife_first
    )
    ev["responsible_unit_id"] = staff_unit.where(staff_unit.notna(), float_unit).astype("str")
    ev.loc[staff_unit.isna() & float_unit.isna(), "responsible_unit_id"] = np.nan
    ev["basis"] = pd.Series(
        np.where(staff_unit.notna(), "staff", np.where(float_unit.notna(), "floating", None)),
        index=ev.index,
    ).astype("str")
    ev.loc[ev["responsible_unit_id"].isna(), "basis"] = np.nan

    ev["wife_age"] = age_on(wife["birth_date"], dates)
    lo = _on_dates(params, "childbearing_age", dates, lambda b: b[0] if b else None)
    hi = _on_dates(params, "childbearing_age", dates, lambda b: b[1] if b else None)
    lo, hi = lo.astype("Int64"), hi.astype("Int64")
    ev["wife_childbearing"] = (
        ((ev["wife_age"] >= lo) & (ev["wife_age"] <= hi)).fillna(False).astype(bool)
    )
    return ev


def couples_in_scope(
    tables: Mapping[str, pd.DataFrame], params: Params, on: Any, childbearing_only: bool = False
) -> pd.DataFrame:
    """Couples married on ``on`` that have a responsible unit in the bureau (§2).

    Args:
        tables: needs ``couples`` and ``persons``.
        params: parameters in force.
        on: the reference date.
        childbearing_only: keep only childbearing-age couples (wife 15–49).

    Returns:
        One row per couple, sorted by ``couple_id``, with :data:`SCOPE_COLUMNS`.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.core.params import load_params
        >>> t = {
        ...     "persons": coerce("persons", [
        ...         {"person_id": "W1", "name": "甲", "sex": "F", "birth_date": "1990-01-01",
        ...          "unit_id": "U1", "category": "staff", "hire_date": "2010-01-01"},
        ...         {"person_id": "H1", "name": "乙", "sex": "M", "birth_date": "1988-01-01",
        ...          "unit_id": "U2", "category": "staff", "hire_date": "2010-01-01"}]),
        ...     "couples": coerce("couples", [{"couple_id": "C1", "wife_id": "W1",
        ...          "husband_id": "H1", "marriage_date": "2015-01-01"}])}
        >>> s = couples_in_scope(t, load_params(), "2024-01-01")
        >>> s[["couple_id", "responsible_unit_id", "basis"]]
          couple_id responsible_unit_id  basis
        0        C1                  U1  staff
    """

    def scope() -> pd.DataFrame:
        couples = tables["couples"]
        ev = pd.DataFrame({"couple_id": couples["couple_id"].to_numpy(), "date": _ts(on)})
        # what is read of every couple is the same on every day: read once per analysis
        parts = memo(
            tables, "every couple", lambda: _couple_parts(tables, ev["couple_id"], ev.index)
        )
        ev = _responsible(params, ev, ev["date"].astype("datetime64[ns]"), parts)
        keep = ev["married"] & ev["responsible_unit_id"].notna()
        if childbearing_only:
            keep &= ev["wife_childbearing"]
        ev = ev.loc[keep, SCOPE_COLUMNS]
        return sort_rows(ev, ["couple_id"]).reset_index(drop=True)

    # C1 and C2's first half share 1 January: one scope per day and analysis
    return memo(tables, ("couples_in_scope", id(params), _ts(on), childbearing_only), scope)
