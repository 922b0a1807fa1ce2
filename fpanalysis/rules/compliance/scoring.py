"""Scoring unit compliance (rulebook §3): the per-unit sums of the drill-down (numerators,
denominators, exact penalty points, vetoes), the indicator summary, and the scorecard: pooled rates,
a rate whose denominator is 0 counting as 1, ``score`` = 100 × Σ weight × rate − Σ penalties
(floored at 0, exact, rounded to 2 decimals half up), the grade and the veto."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from fpanalysis.core.dataset import arrow_text
from fpanalysis.core.numbers import as_written
from fpanalysis.core.params import Params
from fpanalysis.core.textnumbers import dense_codes, sorted_text_codes
from fpanalysis.core.timings import phase
from fpanalysis.rules.compliance.detail import detail_blocks
from fpanalysis.rules.compliance.indicators import COUNT_INDICATORS, INDICATORS, RATE_INDICATORS
from fpanalysis.rules.compliance.period import Period, parse_period
from fpanalysis.rules.frames import positions, table_of

SCORECARD_COLUMNS = ["unit_id", "period", *INDICATORS, "score", "grade", "veto"]
SUMMARY_COLUMNS = ["unit_id", "period", "indicator", "numerator", "denominator", "value"]
SUMS_COLUMNS = ["unit_id", "indicator", "numerator", "denominator", "penalty", "veto"]


def unit_sums(detail: pd.DataFrame) -> pd.DataFrame:
    """The per-unit sums a scorecard is made of: the "map" half of the scoring (rulebook §3).

    Every figure of the scorecard is a sum over detail rows, so sums of parts
    of a dataset (partitions holding whole couples) add up to the sums of the
    whole: :func:`add_unit_sums` adds them, :func:`scorecard_from_sums` scores.

    Returns:
        One row per (unit, indicator) present in ``detail``, sorted:
        ``numerator`` (rows counted in the numerator, int64), ``denominator``
        (rows in the denominator, int64), ``penalty`` (the exact
        :class:`~fractions.Fraction` sum of the penalty points, object) and
        ``veto`` (vetoing rows, int64).

    Examples:
        >>> d = pd.DataFrame({"unit_id": ["U1", "U1", "U1"],
        ...     "indicator": ["followup_coverage"] * 2 + ["falsifications"],
        ...     "in_denominator": pd.array([True, True, pd.NA], dtype="boolean"),
        ...     "in_numerator": pd.array([True, False, True], dtype="boolean"),
        ...     "penalty": [0.0, 0.0, 0.5], "veto": [False, False, False]})
        >>> for row in unit_sums(d).values.tolist():
        ...     print(row)
        ['U1', 'falsifications', 1, 0, Fraction(1, 2), 0]
        ['U1', 'followup_coverage', 1, 2, Fraction(0, 1), 0]
    """
    keep = detail["unit_id"].notna().to_numpy()
    g = _UnitGroups(detail["unit_id"][keep], detail["indicator"][keep])
    numerator = detail["in_numerator"].fillna(False) & detail["in_denominator"].fillna(True)
    denominator = detail["in_denominator"].fillna(False)
    veto = detail["veto"].astype(bool)

    def count(flags: pd.Series) -> np.ndarray:
        return np.bincount(g.at[flags.to_numpy(dtype=bool)[keep]], minlength=len(g.present))

    out = g.frame()
    out["numerator"] = count(numerator).astype("int64")
    out["denominator"] = count(denominator).astype("int64")
    # Penalty points exactly as written (0.5 is 1/2): a handful of event rows, not every couple.
    points = detail["penalty"].to_numpy(dtype="float64")[keep]
    some = np.flatnonzero(points > 0)
    exact = {v: _exact(v) for v in np.unique(points[some]).tolist()}
    out["penalty"] = pd.Series(
        _exact_totals(g.at[some], [exact[v] for v in points[some].tolist()], len(g.present)),
        dtype="object",
    )
    out["veto"] = count(veto).astype("int64")
    return out[SUMS_COLUMNS]


class _UnitGroups:
    """The (unit, indicator) groups of rows with every unit and indicator given, as
    ``groupby(["unit_id", "indicator"], sort=True)`` finds them, without grouping the texts:
    each row's group as one integer, its unit's place among the units sorted times the
    indicators plus its indicator's place (:func:`_sorted_codes`); ``present``: the groups
    with rows, in order; ``at``: each row's group's place among them. The sums are then
    counted per group by numpy (:func:`unit_sums`, :func:`_added_by_codes`)."""

    def __init__(self, unit_id: pd.Series, indicator: pd.Series) -> None:
        units, self.unit_names = _sorted_codes(unit_id.astype("str"))
        kinds, self.kind_names = _sorted_codes(indicator.astype("str"))
        self.width = max(len(self.kind_names), 1)
        group = units.astype(np.int64) * self.width + kinds
        self.at, self.present = dense_codes(group, len(self.unit_names) * self.width)

    def frame(self) -> pd.DataFrame:
        """The groups' units and indicators, a row per group with rows, in order."""
        return pd.DataFrame(
            {
                "unit_id": pd.Series(self.unit_names.take(self.present // self.width), dtype="str"),
                "indicator": pd.Series(
                    self.kind_names.take(self.present % self.width), dtype="str"
                ),
            }
        )


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=True)`` of texts with none missing; a column holding one
    text throughout (a block of one indicator) is known by one comparison, and ids of one width
    (the units) are read as numbers (:func:`~fpanalysis.core.textnumbers.sorted_text_codes`), not
    hashed row by row.

    Examples:
        >>> codes, names = _sorted_codes(pd.Series(["b", "a", "b"], dtype="str"))
        >>> codes.tolist(), names.tolist()
        ([1, 0, 1], ['a', 'b'])
        >>> codes, names = _sorted_codes(pd.Series(["C2", "C2"], dtype="str"))
        >>> codes.tolist(), names.tolist()
        ([0, 0], ['C2'])
    """
    if len(values) and bool((values == values.iloc[0]).all()):
        return np.zeros(len(values), dtype=np.intp), pd.Index(values.iloc[:1], dtype="str")
    coded = sorted_text_codes(arrow_text(values)) if len(values) else None
    if coded is not None:  # ids of one width (the units): read as numbers, not hashed
        codes, first = coded
        return codes, pd.Index(values.iloc[first], dtype="str")
    codes, names = pd.factorize(values, sort=True)
    return codes, pd.Index(names, dtype="str")


def _exact_totals(at: np.ndarray, points: list[Fraction], size: int) -> np.ndarray:
    """The exact sums of ``points`` at ``size`` places (``at``: each point's place; -1: none,
    left out as a group-by leaves out a missing unit): Fractions in an object array, the one
    nought :class:`~fractions.Fraction` where no point falls.

    Penalty points are few (an event row here and there, not every couple) and take a handful
    of values: they are put over one common denominator and added as integers, and only a
    place with points gets a Fraction of its own (a Fraction reduces itself at every addition).

    Examples:
        >>> _exact_totals(np.array([1, 1, -1]), [Fraction(1, 2), Fraction(7, 20), Fraction(3)], 3)
        array([Fraction(0, 1), Fraction(17, 20), Fraction(0, 1)], dtype=object)
    """
    out = np.empty(size, dtype=object)
    out.fill(_ZERO)
    at = np.asarray(at, dtype=np.intp)
    found = at >= 0
    values = [
        p if type(p) is Fraction else Fraction(p)
        for p, f in zip(points, found.tolist(), strict=True)
        if f
    ]
    if not values:
        return out
    scale = math.lcm(*{v.denominator for v in values})
    scaled = np.array([v.numerator * (scale // v.denominator) for v in values], dtype=object)
    totals = np.zeros(size, dtype=object)  # Python integers: exact whatever their size
    np.add.at(totals, at[found], scaled)
    for i in np.flatnonzero(totals.astype(bool)).tolist():
        out[i] = Fraction(totals[i], scale)
    return out


def _with_points(points: np.ndarray) -> np.ndarray:
    """The places of an object array of exact points (:func:`_exact_totals`) that are not
    nought. The one nought :data:`_ZERO` is known at once by identity; any other value is asked
    (a part made in another process holds noughts of its own). ``points.astype(bool)`` called
    a Fraction's ``__bool__`` for each of 2M people's 300,000 sums.

    Examples:
        >>> _with_points(np.array([_ZERO, Fraction(1, 2), Fraction(0), 3], dtype=object)).tolist()
        [1, 3]
    """
    zero = _ZERO
    return np.flatnonzero(
        np.fromiter((p is not zero and p != 0 for p in points.tolist()), bool, len(points))
    )


def add_unit_sums(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add :func:`unit_sums` of several parts of a dataset into the sums of the whole ("reduce").

    Examples:
        >>> row = ["U1", "followup_coverage"]
        >>> a = pd.DataFrame([[*row, 1, 2, Fraction(0), 0]], columns=SUMS_COLUMNS)
        >>> b = pd.DataFrame([[*row, 3, 3, Fraction(1, 2), 1]], columns=SUMS_COLUMNS)
        >>> add_unit_sums([a, b]).values.tolist()
        [['U1', 'followup_coverage', 4, 5, Fraction(1, 2), 1]]
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype="object"
                    if c == "penalty"
                    else ("str" if c in ("unit_id", "indicator") else "int64")
                )
                for c in SUMS_COLUMNS
            }
        )
    s = pd.concat(parts, ignore_index=True)
    if not (s["unit_id"].isna().any() or s["indicator"].isna().any()):
        return _added_by_codes(s)
    return _added_by_groups(s)


def _added_by_groups(s: pd.DataFrame) -> pd.DataFrame:
    """:func:`add_unit_sums` of the parts stacked (``s``) by a group-by of the texts: the
    readable rule (a row without a unit or an indicator is left out, as a group-by leaves it)."""
    out = (
        s.groupby(["unit_id", "indicator"], sort=True)[["numerator", "denominator", "veto"]]
        .sum()
        .astype("int64")
    )
    # The exact sum per (unit, indicator) of sum(points, Fraction(0)), without a Python call per
    # group: at 2M people a group-by with a lambda took seconds over 131k groups of noughts.
    points = s["penalty"].to_numpy(dtype=object)
    some = _with_points(points)  # the few rows with points
    keys = pd.MultiIndex.from_arrays([s["unit_id"].iloc[some], s["indicator"].iloc[some]])
    out["penalty"] = pd.Series(
        _exact_totals(out.index.get_indexer(keys), points[some].tolist(), len(out)),
        index=out.index,
        dtype="object",
    )
    return out.reset_index()[SUMS_COLUMNS]


def _added_by_codes(s: pd.DataFrame) -> pd.DataFrame:
    """:func:`_added_by_groups` of parts with every unit and indicator given, as :func:`unit_sums`
    adds rows up: each (unit, indicator) as one integer from their sorted codes, the counts
    added by numpy, not grouped by the texts (a province's 303,040 units' sums, block by block:
    millions of rows)."""
    g = _UnitGroups(s["unit_id"], s["indicator"])

    def added(column: str) -> np.ndarray:
        # (counts of rows: exact as float64 far beyond any dataset's rows)
        weights = s[column].to_numpy(dtype=np.float64)
        return np.bincount(g.at, weights=weights, minlength=len(g.present)).astype("int64")

    points = s["penalty"].to_numpy(dtype=object)
    some = _with_points(points)  # the few rows with points
    out = g.frame()
    out["numerator"], out["denominator"] = added("numerator"), added("denominator")
    out["penalty"] = pd.Series(
        _exact_totals(g.at[some], points[some].tolist(), len(g.present)), dtype="object"
    )
    out["veto"] = added("veto")
    return out[SUMS_COLUMNS]


def _units_in(sums: pd.DataFrame) -> set:
    """The units of ``sums`` (each distinct id once, not one Python object per row)."""
    return set(sums["unit_id"].dropna().unique().tolist())


def summary_from_sums(
    sums: pd.DataFrame, units: list[str] | None = None, period: str = ""
) -> pd.DataFrame:
    """:func:`indicator_summary` from :func:`unit_sums` (or their total over partitions)."""
    if units is None:
        units = sorted(_units_in(sums))
    grid = pd.MultiIndex.from_product([units, INDICATORS], names=["unit_id", "indicator"])
    # Each row of ``sums`` at its place in the grid (unit by unit, the indicators in order),
    # found by the unit's position among ``units`` and the indicator's among the eight.
    unit_at = positions(pd.Index(units), sums["unit_id"]) if len(units) else np.full(len(sums), -1)
    kind_at = pd.Index(INDICATORS).get_indexer(sums["indicator"])
    found = (unit_at >= 0) & (kind_at >= 0)
    at = unit_at[found] * len(INDICATORS) + kind_at[found]
    out = pd.DataFrame(index=grid)
    for column in ("numerator", "denominator"):
        values = np.zeros(len(grid), dtype="int64")
        values[at] = sums[column].to_numpy(dtype="int64")[found]
        out[column] = values
    out["denominator"] = out["denominator"].astype("Int64")
    is_rate = out.index.get_level_values("indicator").isin(RATE_INDICATORS)
    out.loc[~is_rate, "denominator"] = pd.NA
    rate = out["numerator"] / out["denominator"].astype("float64").where(
        out["denominator"].fillna(0) > 0
    )
    out["value"] = np.where(is_rate, rate.fillna(1.0), out["numerator"].astype("float64"))
    no_c1 = str(period).endswith("H2")
    if no_c1:
        out.loc[
            out.index.get_level_values("indicator") == "baseline_coverage", ["numerator", "value"]
        ] = [0, np.nan]
    out = out.reset_index()
    out.insert(1, "period", period)
    return out[SUMMARY_COLUMNS]


def indicator_summary(
    detail: pd.DataFrame, units: list[str] | None = None, period: str | None = None
) -> pd.DataFrame:
    """Numerator, denominator and value per unit and indicator, from :func:`compliance_detail`.

    A rate's ``value`` is numerator ÷ denominator, 1 when the denominator is 0;
    a count's ``value`` is the numerator (denominator empty). C1 of a second
    half-year is empty (no rows at all).
    """
    if period is None:
        period = detail["period"].iloc[0] if len(detail) else ""
    return summary_from_sums(unit_sums(detail), units, period)


def round_half_up(x: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Round an exact number to ``places`` decimals, halves away from zero (rulebook conventions).

    Examples:
        >>> round_half_up(Fraction(16245, 200)), round_half_up(Decimal("-0.125"))
        (Decimal('81.23'), Decimal('-0.13'))
    """
    q = Decimal(1).scaleb(-places)
    if isinstance(x, Fraction):
        scaled = x * 10**places
        n = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
        return (Decimal(n if scaled >= 0 else -n) * q).quantize(q)
    return Decimal(x).quantize(q, rounding=ROUND_HALF_UP)


#: Nought penalty points (a Fraction is immutable: one object serves every row).
_ZERO = Fraction(0)


@functools.lru_cache(maxsize=1024)
def _exact(x: float) -> Fraction:
    """A parameter's decimal value exactly as written (0.35 is 35/100, not the nearest float);
    each value converted once (a scorecard reads a handful of weights and penalties)."""
    return Fraction(as_written(x))


def score_unit(
    rates: Mapping[str, tuple[int, int] | None],
    penalties: Fraction | Decimal | float,
    weights: Mapping[str, float],
    thresholds: Mapping[str, float],
    veto: bool,
) -> tuple[Decimal, str]:
    """Score and grade of one unit from exact numerators and denominators (rulebook §3).

    Args:
        rates: indicator -> (numerator, denominator), or ``None`` when the
            indicator is left out (C1 in H2): its weight is dropped and the
            others are scaled to sum to 1.
        penalties: total penalty points.
        weights, thresholds: ``compliance_weights``, ``grade_thresholds``.
        veto: the period has a veto.

    Returns:
        ``(score, grade)``: the score rounded to 2 decimals half up, floored at 0.

    The rule: a rate whose denominator is 0 counts as 1; score = 100 × Σ weight × rate − penalties,
    in exact fractions (a weight of 0.35 is 35/100), floored at 0 and rounded to 2 decimals half
    up; if the weights left sum to 0 the rate part counts as 100. The grade is ``excellent`` or
    ``pass`` from the score (at or above its threshold), else ``fail``; a veto fails the unit
    whatever its score.

    Examples:
        >>> w = {"baseline_coverage": 0.25, "followup_coverage": 0.25, "feedback_timeliness": 0.15,
        ...      "check_attendance": 0.35}
        >>> t = {"excellent": 90, "pass": 70}
        >>> score_unit({"baseline_coverage": (3, 4), "followup_coverage": (1, 1),
        ...             "feedback_timeliness": (0, 0), "check_attendance": (2, 3)}, 5, w, t, False)
        (Decimal('77.08'), 'pass')
        >>> score_unit({"baseline_coverage": None, "followup_coverage": (1, 2),
        ...             "feedback_timeliness": (1, 1), "check_attendance": (1, 1)}, 0, w, t, False)
        (Decimal('83.33'), 'pass')
    """
    used = {k: v for k, v in rates.items() if v is not None}
    total_w = sum((_exact(weights[k]) for k in used), Fraction(0))
    part = Fraction(0)
    for k, (num, den) in used.items():
        r = Fraction(num, den) if den else Fraction(1)
        part += _exact(weights[k]) * r
    rate_part = 100 * part / total_w if total_w else Fraction(100)
    pen = penalties if isinstance(penalties, Fraction) else _exact(penalties)
    raw = max(rate_part - pen, Fraction(0))
    score = round_half_up(raw)
    if veto:
        grade = "fail"
    elif score >= as_written(thresholds["excellent"]):
        grade = "excellent"
    elif score >= as_written(thresholds["pass"]):
        grade = "pass"
    else:
        grade = "fail"
    return score, grade


def _unit_penalties(sums: pd.DataFrame, units: list[str]) -> tuple[list[Fraction], np.ndarray]:
    """Each of ``units``' penalty points, the exact sum of its rows in ``sums`` (0 when none,
    :func:`_exact_totals`), and the same as floats (made only where a unit has points)."""
    pen = sums["penalty"].to_numpy(dtype=object)
    has = _with_points(pen)  # the few rows with points
    floats = np.zeros(len(units), dtype="float64")
    if not len(has) or not units:
        return [_ZERO] * len(units), floats
    at = positions(pd.Index(units), sums["unit_id"].iloc[has])
    out = _exact_totals(at, pen[has].tolist(), len(units))
    for i in _with_points(out).tolist():
        floats[i] = float(out[i])
    return out.tolist(), floats


#: A score this close to a half cent, in cents, is computed exactly (:func:`score_unit`).
_NEAR_HALF = 1e-6


def score_units(
    nums: np.ndarray,
    dens: np.ndarray,
    penalties: list[Fraction],
    weights: list[float],
    thresholds: Mapping[str, float],
    veto: np.ndarray,
    floats: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`score_unit` of many units at once: ``(score, grade)`` arrays, the score as a float.

    Args:
        nums, dens: (units × rates used) numerators and denominators, the rates in the order of
            ``weights`` (the weights of the rates used, C1 left out in a second half).
        penalties: each unit's exact penalty points.
        thresholds: ``grade_thresholds``.
        veto: each unit's veto.
        floats: the penalties as floats, when the caller has them (else made here).

    The sum is taken in floating point, and only a score within a millionth of a cent of a half
    cent (where rounding could go either way) is computed exactly, as :func:`score_unit` does,
    on integers (:func:`_exact_cents`); elsewhere the rounded score is the same.

    Examples:
        >>> w = [0.25, 0.25, 0.15, 0.35]
        >>> score_units(np.array([[3, 1, 0, 2]]), np.array([[4, 1, 0, 3]]), [Fraction(5)], w,
        ...             {"excellent": 90, "pass": 70}, np.array([False]))
        (array([77.08]), array(['pass'], dtype=object))
    """
    n_units = len(penalties)
    exact_w = [_exact(w) for w in weights]
    total_w = sum(exact_w, Fraction(0))
    if n_units == 0:
        return np.zeros(0, dtype="float64"), np.zeros(0, dtype=object)
    if total_w:
        safe = np.where(dens > 0, dens, 1)
        rates = np.where(dens > 0, nums / safe, 1.0)
        w = np.array([float(x) for x in exact_w], dtype="float64")
        rate_part = 100.0 * (rates @ w) / float(total_w)
    else:
        rate_part = np.full(n_units, 100.0)
    if floats is None:
        floats = np.fromiter((float(p) for p in penalties), dtype="float64", count=n_units)
    cents = np.maximum(rate_part - floats, 0.0) * 100.0
    n = np.floor(cents + 0.5)
    near = np.abs(cents - np.floor(cents) - 0.5) < _NEAR_HALF
    # A half cent, or too close to tell: :func:`score_unit`'s exact arithmetic, on integers.
    a, total = _integer_weights(exact_w)
    for i in np.flatnonzero(near):
        n[i] = _exact_cents(nums[i].tolist(), dens[i].tolist(), penalties[i], a, total)
    score = n / 100.0
    cut = {g: math.ceil(Fraction(as_written(thresholds[g])) * 100) for g in ("excellent", "pass")}
    grade = np.where(n >= cut["excellent"], "excellent", np.where(n >= cut["pass"], "pass", "fail"))
    grade = np.where(veto, "fail", grade).astype(object)
    return score, grade


def _integer_weights(weights: list[Fraction]) -> tuple[list[int], int]:
    """Exact weights as integers over one common denominator, and their sum over it."""
    scale = math.lcm(*(w.denominator for w in weights)) if weights else 1
    a = [int(w * scale) for w in weights]
    return a, sum(a)


def _exact_cents(
    nums: list[int], dens: list[int], penalty: Fraction | Decimal | float, a: list[int], total: int
) -> int:
    """:func:`score_unit`'s score in whole cents (rounded half up, floored at 0), the same exact
    arithmetic on integers: every fraction over one common denominator, one division at the end
    (a :class:`~fractions.Fraction` reduces itself at every step). ``a``, ``total``: the weights
    by :func:`_integer_weights`.

    Examples:
        >>> a, total = _integer_weights([Fraction(1, 4), Fraction(1, 4), Fraction(3, 20),
        ...                              Fraction(7, 20)])
        >>> _exact_cents([1, 1, 1, 1], [8, 1, 1, 1], Fraction(0), a, total)  # 78.125: up
        7813
        >>> _exact_cents([3, 1, 0, 2], [4, 1, 0, 3], Fraction(5), a, total)
        7708
    """
    pen = penalty if isinstance(penalty, Fraction) else _exact(penalty)
    if total:
        common = math.prod(d for d in dens if d)  # every rate over one denominator
        rates = sum(
            w * (n * (common // d) if d else common) for w, n, d in zip(a, nums, dens, strict=True)
        )
        # 100 x rates / (total x common) - pen, over total x common x pen's denominator
        den = total * common * pen.denominator
        num = 100 * rates * pen.denominator - pen.numerator * total * common
    else:  # no weight left: the rate part counts as 100
        den = pen.denominator
        num = 100 * den - pen.numerator
    if num <= 0:
        return 0
    return (2 * 100 * num + den) // (2 * den)


def compliance_sums(
    tables: Mapping[str, pd.DataFrame], params: Params, period: str | Period
) -> pd.DataFrame:
    """The per-unit sums of :func:`compliance_detail` without the drill-down: each block of rows
    (:func:`~fpanalysis.rules.compliance.detail.detail_blocks`, no reasons) is added up as it
    comes and let go, so the drill-down is never stacked nor sorted. Equal to
    ``unit_sums(compliance_detail(tables, params, period))``: every figure is a sum over rows,
    and sums of parts add up (:func:`add_unit_sums`)."""
    parts = []
    for block in detail_blocks(tables, params, period, reasons=False):
        if len(block):
            parts.append(unit_sums(block))
        del block
    return add_unit_sums(parts)


def scorecard_from_detail(
    detail: pd.DataFrame, params: Params, period: str | Period, units: list[str] | None = None
) -> pd.DataFrame:
    """Add :func:`compliance_detail` rows up into the scorecard (one row per unit)."""
    return scorecard_from_sums(unit_sums(detail), params, period, units)


def scorecard_from_sums(
    sums: pd.DataFrame, params: Params, period: str | Period, units: list[str] | None = None
) -> pd.DataFrame:
    """Score the per-unit sums (:func:`unit_sums`, or :func:`add_unit_sums` of parts): "compute".

    Pooling (sums over halves and rounds), H2's reweighting, exact scores
    rounded half up, grades and the veto, as :func:`score_unit`. Every unit of
    ``units`` and every unit in ``sums`` gets a row. The weights and grade
    thresholds are those in force on the period's last day (the penalties, in
    the sums, those in force on each event's date); any vetoing event (a C6, or
    a C8 for sex selection) in the period vetoes the unit.
    """
    period = parse_period(period)
    if units is None:
        units = sorted(_units_in(sums))
    else:
        units = sorted(set(units) | _units_in(sums))
    summ = summary_from_sums(sums, units, period.label)
    weights = params.at("compliance_weights", period.end)
    thresholds = params.at("grade_thresholds", period.end)
    pen, pen_floats = _unit_penalties(sums, units)
    veto = sums.groupby("unit_id")["veto"].sum().reindex(units, fill_value=0).to_numpy() > 0

    # The summary is the whole grid, a row per unit (in ``units``' order) and indicator (in
    # :data:`INDICATORS`' order): its columns as units x indicators at once, not pivoted.
    def grid(column: str, dtype: str) -> np.ndarray:
        return summ[column].to_numpy(dtype=dtype, na_value=0).reshape(len(units), len(INDICATORS))

    wide = pd.DataFrame(
        summ["value"].to_numpy(dtype="float64").reshape(len(units), len(INDICATORS)),
        index=pd.Index(units, name="unit_id"),
        columns=pd.Index(INDICATORS, name="indicator"),
    )
    used = [k for k in RATE_INDICATORS if not (k == "baseline_coverage" and period.half == 2)]
    cols = [INDICATORS.index(k) for k in used]
    score, grade = score_units(
        grid("numerator", "int64")[:, cols],
        grid("denominator", "int64")[:, cols],
        pen,
        [weights[k] for k in used],
        thresholds,
        veto,
        pen_floats,
    )
    sc = pd.DataFrame({"unit_id": units, "score": score, "grade": grade, "veto": veto})
    out = wide.reset_index()
    out.insert(1, "period", period.label)
    for k in COUNT_INDICATORS:
        out[k] = out[k].astype("int64")
    out = out.merge(sc, on="unit_id", how="left")
    out["unit_id"] = out["unit_id"].astype("str")
    out["veto"] = out["veto"].astype(bool)
    out["grade"] = out["grade"].astype("str")
    return out[SCORECARD_COLUMNS].sort_values("unit_id", kind="stable").reset_index(drop=True)


def compliance_scorecard(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    period: str | Period,
    *,
    detail: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per unit: ``unit_id``, ``period``, C1–C8, ``score``, ``grade``, ``veto`` (§3).

    Every unit of the ``units`` table appears, even one with nobody in scope
    (all its denominators are 0, so its rates count as 1).

    Args:
        tables: the dataset.
        params: parameters in force.
        period: ``2024``, ``2024H1`` or ``2024H2``.
        detail: a precomputed :func:`compliance_detail` for the same period.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.core.params import load_params
        >>> t = {"units": coerce("units", [{"unit_id": "U1", "name": "办公室", "kind": "section"}]),
        ...      "persons": coerce("persons", []), "couples": coerce("couples", [])}
        >>> card = compliance_scorecard(t, load_params(), "2024H2")
        >>> card[["unit_id", "baseline_coverage", "score", "grade"]]
          unit_id  baseline_coverage  score      grade
        0      U1                NaN  100.0  excellent
    """
    period = parse_period(period)
    if detail is None:  # no drill-down asked: the blocks' sums, not the sorted drill-down
        sums = compliance_sums(tables, params, period)
        units = table_of(tables, "units")["unit_id"].dropna().tolist()
        with phase("rules scorecard"):
            return scorecard_from_sums(sums, params, period, units)
    units = table_of(tables, "units")["unit_id"].dropna().tolist()
    with phase("rules scorecard"):
        return scorecard_from_detail(detail, params, period, units)


def half_year_trend(
    tables: Mapping[str, pd.DataFrame], params: Params, years: list[int]
) -> pd.DataFrame:
    """Scorecards of every half of ``years``, stacked (for trend charts)."""
    cards = [compliance_scorecard(tables, params, f"{y}H{h}") for y in years for h in (1, 2)]
    return pd.concat(cards, ignore_index=True)
