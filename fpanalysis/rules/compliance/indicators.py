"""The rate indicators C1–C4 of unit compliance (rulebook §3) as drill-down rows: baseline and
follow-up survey coverage, feedback timeliness and check attendance, one row per couple, survey or
woman an indicator looked at, under the couple's responsible unit on the reference date (a survey's
own ``unit_id`` does not move it), with the reason in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.dataset import isin_keys, text_equals
from fpanalysis.core.params import Params
from fpanalysis.rules.compliance.period import Period, month_day_in
from fpanalysis.rules.frames import (
    GroupedRows,
    as_dates,
    date_text,
    dense_ranks,
    first_of_runs,
    keyed,
    let_go,
    lookup_columns,
    memo,
    positions,
    rows_where,
    sort_rows,
    table_of,
    take_at,
    texts_at,
)
from fpanalysis.rules.scope import couples_in_scope, responsible_units, scope_positions

RATE_INDICATORS = [
    "baseline_coverage",
    "followup_coverage",
    "feedback_timeliness",
    "check_attendance",
]
COUNT_INDICATORS = [
    "falsifications",
    "out_of_plan_births",
    "pregnancies_without_permit",
    "unapproved_late_terminations",
]
INDICATORS = RATE_INDICATORS + COUNT_INDICATORS
INDICATOR_IDS = dict(zip(INDICATORS, [f"C{i}" for i in range(1, 9)], strict=True))
DETAIL_COLUMNS = [
    "unit_id",
    "period",
    "indicator",
    "part",
    "couple_id",
    "person_id",
    "event_id",
    "date",
    "in_denominator",
    "in_numerator",
    "penalty",
    "veto",
    "reason_zh",
    "reason_en",
]


def detail_rows(index: pd.Index, **cols: Any) -> pd.DataFrame:
    """A block of drill-down rows: every column of :data:`DETAIL_COLUMNS`, broadcast over ``index``.

    A column not given is missing (NaN); a Series is taken by position.
    """
    out = pd.DataFrame(index=index)
    for c in DETAIL_COLUMNS:
        v = cols.get(c, np.nan)
        out[c] = v.array if isinstance(v, pd.Series) else v  # by position, typed as it is
    return out


def select_reasons(
    conditions: list[Any], choices: list[tuple[Any, Any]], default: tuple[Any, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """``np.select`` over (Chinese, English) pairs of reasons: the reasons in both languages.

    Examples:
        >>> zh, en = select_reasons([np.array([True, False])], [("是", "yes")], ("否", "no"))
        >>> zh.tolist(), en.tolist()
        (['是', '否'], ['yes', 'no'])
    """
    return (
        np.select(conditions, [zh for zh, _ in choices], default[0]),
        np.select(conditions, [en for _, en in choices], default[1]),
    )


def reasons_by_case(
    conditions: list[Any],
    makers: list[Callable[[np.ndarray], tuple[Any, Any]]],
    default: Callable[[np.ndarray], tuple[Any, Any]],
) -> tuple[Any, Any]:
    """:func:`select_reasons` with each reason made only for the rows whose case it is: a row
    takes the first case whose condition holds, else the default; ``makers`` and ``default`` give
    the (Chinese, English) reasons of the rows of a mask (texts of those rows, or one text).

    The reasons come back as text arrays (``str``): each case's texts stacked and taken into the
    rows' order, never a Python object per row.

    Examples:
        >>> ids = pd.Series(["S1", "S2", "S3"])
        >>> zh, en = reasons_by_case(
        ...     [np.array([True, False, True])],
        ...     [lambda r: ("有 " + ids[r], "has " + ids[r])],
        ...     lambda r: ("无", "none"),
        ... )
        >>> zh.tolist(), en.tolist()
        (['有 S1', '无', '有 S3'], ['has S1', 'none', 'has S3'])
    """
    n = len(conditions[0])
    case = np.select(
        [np.asarray(c, dtype=bool) for c in conditions], list(range(len(makers))), len(makers)
    )
    at = np.zeros(n, dtype=np.intp)  # each row's place among the stacked texts of every case
    zh: list[pd.Series] = []
    en: list[pd.Series] = []
    done = 0
    for k, make in enumerate([*makers, default]):
        rows = case == k
        m = int(rows.sum())
        if m:
            z, e = make(rows)
            zh.append(_texts(z, m))
            en.append(_texts(e, m))
            at[rows] = np.arange(done, done + m)
            done += m
    if not done:
        return pd.array([], dtype="str"), pd.array([], dtype="str")
    return (
        pd.concat(zh, ignore_index=True).array.take(at),
        pd.concat(en, ignore_index=True).array.take(at),
    )


def _texts(v: Any, m: int) -> pd.Series:
    """``m`` reasons as a ``str`` Series: the texts given (by position), or one text repeated."""
    if isinstance(v, (pd.Series, pd.Index, np.ndarray, pd.api.extensions.ExtensionArray)):
        return pd.Series(pd.array(v, dtype="str"))
    return pd.Series(texts_at([v], np.zeros(m)))


def couple_rows(frame: pd.DataFrame, indicator: str, part: Any, **cols: Any) -> pd.DataFrame:
    """:func:`detail_rows` of the couples in ``frame``, under their responsible unit, the wife as
    the person (``frame`` has ``responsible_unit_id``, ``couple_id`` and ``wife_id``)."""
    return detail_rows(
        frame.index,
        unit_id=frame["responsible_unit_id"],
        indicator=indicator,
        part=part,
        couple_id=frame["couple_id"],
        person_id=frame["wife_id"],
        **cols,
    )


def _surveys(
    tables: Mapping[str, pd.DataFrame], keep: Callable[[pd.DataFrame], Any], columns: list[str]
) -> pd.DataFrame:
    """The ``columns`` of the surveys ``keep`` (a mask of the surveys, dated) selects, sorted by
    couple, date and id.

    Selected before they are sorted (a stable sort of the selection keeps the order the sorted
    table would give it), so that a few hundred thousand rows are sorted, not every survey.
    """
    s = table_of(tables, "surveys")
    s = s.assign(survey_date=_survey_dates(tables))
    # the columns first, then the rows: ``loc[rows, columns]`` took the rows of every column
    # first (0.37 s against 0.11 s for three columns of 2M people's 8.3M surveys)
    s = rows_where(s[columns], keep(s))
    return sort_rows(s, ["couple_id", "survey_date", "survey_id"])


def _survey_dates(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """The surveys' ``survey_date`` as dates, made once per
    :class:`~fpanalysis.rules.frames.Memo` (C1, C2's two halves and C3 read them) and let go
    with the surveys."""
    return memo(
        tables,
        ("keyed", "surveys", "survey_date as dates"),
        lambda: as_dates(table_of(tables, "surveys")["survey_date"]),
    )


def _dated_within(tables: Mapping[str, pd.DataFrame], start: Any, end: Any) -> np.ndarray:
    """Whether each survey is dated from ``start`` to ``end`` (both inclusive; an undated one is
    not), as flags compared on the dates' numbers rather than through pandas' comparisons.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"surveys": coerce("surveys", [
        ...     {"survey_id": "S1", "couple_id": "C1", "survey_date": "2024-01-01"},
        ...     {"survey_id": "S2", "couple_id": "C1", "survey_date": "2024-07-01"},
        ...     {"survey_id": "S3", "couple_id": "C1"}])}
        >>> _dated_within(t, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30")).tolist()
        [True, False, False]
    """
    dates = _survey_dates(tables).to_numpy(dtype="datetime64[ns]")
    lo, hi = (pd.Timestamp(d).to_datetime64() for d in (start, end))
    return (dates >= lo) & (dates <= hi)


def _of_kind(tables: Mapping[str, pd.DataFrame], kind: str) -> np.ndarray:
    """Whether each survey is of ``kind`` (a missing kind is none), as flags: one comparison of
    the Arrow texts per kind, made once per :class:`~fpanalysis.rules.frames.Memo` (C1 asks for
    ``baseline``, C2's two halves for ``followup``). Coding every kind first (``pd.factorize``)
    took 0.26-0.78 s on 9.1M surveys, one comparison 0.08-0.11 s.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"surveys": coerce("surveys", [
        ...     {"survey_id": "S1", "couple_id": "C1", "kind": "baseline"},
        ...     {"survey_id": "S2", "couple_id": "C1", "kind": "followup"},
        ...     {"survey_id": "S3", "couple_id": "C1"}])}
        >>> _of_kind(t, "followup").tolist(), _of_kind(t, "special").tolist()
        ([False, True, False], [False, False, False])
    """

    def make() -> np.ndarray:
        return text_equals(table_of(tables, "surveys")["kind"], kind)

    return memo(tables, ("keyed", "surveys", "kind is", kind), make)


def _first_survey(
    tables: Mapping[str, pd.DataFrame],
    couples: pd.DataFrame,
    kind: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> tuple[pd.Series, pd.Series]:
    """Each couple's first survey of ``kind`` dated from ``start`` to ``end`` (both inclusive):
    its id and date on ``couples``' index, missing when it has none."""
    s = _surveys(
        tables,
        lambda s: _of_kind(tables, kind) & _dated_within(tables, start, end),
        ["survey_id", "couple_id", "survey_date"],
    )
    first = first_of_runs(s, ["couple_id"]).set_index("couple_id")  # s is sorted by couple
    sid, sdate = lookup_columns(couples["couple_id"], first, ["survey_id", "survey_date"])
    return sid, as_dates(sdate)


# --------------------------------------------------------------------------- C1, C2

#: No reason in either language (a drill-down made for a scorecard alone reads none).
_NONE = (np.nan, np.nan)


def _coverage_rows(
    couples: pd.DataFrame,
    indicator: str,
    part: str,
    sid: pd.Series,
    sdate: pd.Series,
    *,
    found: tuple[Any, Any],
    missing: tuple[Any, Any],
) -> pd.DataFrame:
    """Survey coverage: every couple in the denominator, in the numerator when it has a survey
    (``sid``, dated ``sdate``); the reasons are (zh, en) pairs for ``found`` and ``missing``."""
    got = sid.notna()
    return couple_rows(
        couples,
        indicator,
        part,
        event_id=sid,
        date=sdate,
        in_denominator=True,
        in_numerator=got,
        reason_zh=np.where(got, found[0], missing[0]),
        reason_en=np.where(got, found[1], missing[1]),
    )


def baseline_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period, *, reasons: bool = True
) -> pd.DataFrame:
    """C1 ``baseline_coverage`` of the year of ``period``.

    The rule: every *staff* couple of childbearing age in scope on 1 January is in the
    denominator; it is in the numerator when it has a ``baseline`` survey dated from 1 January to
    ``baseline_deadline`` (the one in force on 1 January), both inclusive; a deadline of 29
    February means 28 February in other years (rulebook G2). C1 belongs to the first half (a second
    half has none). ``reasons``: False leaves ``reason_zh`` and ``reason_en`` missing (not made).
    """
    jan1 = pd.Timestamp(period.year, 1, 1)
    deadline = month_day_in(period.year, params.at("baseline_deadline", jan1))
    sc = couples_in_scope(tables, params, jan1, childbearing_only=True)
    sc = sc[sc["basis"] == "staff"]
    sid, sdate = _first_survey(tables, sc, "baseline", jan1, deadline)
    dl = deadline.strftime("%m-%d")
    if not reasons:
        return _coverage_rows(sc, "baseline_coverage", "", sid, sdate, found=_NONE, missing=_NONE)
    return _coverage_rows(
        sc,
        "baseline_coverage",
        "",
        sid,
        sdate,
        found=(
            "年初摸底调查 " + sid.fillna("") + "（" + date_text(sdate) + "）",
            "baseline survey " + sid.fillna("") + " on " + date_text(sdate),
        ),
        missing=(f"1月1日至{dl}无年初摸底调查", f"no baseline survey from 01-01 to {dl}"),
    )


def followup_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, half: Period, *, reasons: bool = True
) -> pd.DataFrame:
    """C2 ``followup_coverage`` of one half-year (``part`` is ``H1`` or ``H2``).

    The rule: every staff or floating couple of childbearing age in scope on the half's first day
    is in the denominator; it is in the numerator when it has a ``followup`` survey dated inside
    the half (first and last day inclusive). A year is its two halves, each couple counted once in
    each; the scorecard pools them (covered couples over couples in scope, added). ``reasons``:
    False leaves ``reason_zh`` and ``reason_en`` missing (not made).

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.rules.compliance.period import parse_period
        >>> t = {"persons": coerce("persons", [
        ...         {"person_id": "W1", "sex": "F", "birth_date": "1990-06-01", "unit_id": "U1",
        ...          "category": "staff", "hire_date": "2010-01-01"},
        ...         {"person_id": "H1", "sex": "M", "birth_date": "1988-01-01"}]),
        ...      "couples": coerce("couples", [{"couple_id": "C1", "wife_id": "W1",
        ...          "husband_id": "H1", "marriage_date": "2015-05-01"}]),
        ...      "surveys": coerce("surveys", [{"survey_id": "S1", "couple_id": "C1",
        ...          "kind": "followup", "survey_date": "2024-12-31"}])}
        >>> for h in parse_period("2024").halves:
        ...     print(followup_rows(t, load_params(), h)[["part", "in_numerator", "reason_en"]]
        ...           .values.tolist())
        [['H1', False, '(staff) no follow-up survey in 2024H1']]
        [['H2', True, '(staff) follow-up survey S1 on 2024-12-31']]
    """
    sc = couples_in_scope(tables, params, half.start, childbearing_only=True)
    sid, sdate = _first_survey(tables, sc, "followup", half.start, half.end)
    part = f"H{half.half}"
    if not reasons:
        return _coverage_rows(sc, "followup_coverage", part, sid, sdate, found=_NONE, missing=_NONE)
    basis_zh = sc["basis"].map({"staff": "职工", "floating": "流动人口"})
    return _coverage_rows(
        sc,
        "followup_coverage",
        part,
        sid,
        sdate,
        found=(
            "（" + basis_zh + "）半年跟踪调查 " + sid.fillna("") + "（" + date_text(sdate) + "）",
            "(" + sc["basis"] + ") follow-up survey " + sid.fillna("") + " on " + date_text(sdate),
        ),
        missing=(
            "（" + basis_zh + f"）{half.label} 内无半年跟踪调查",
            "(" + sc["basis"] + f") no follow-up survey in {half.label}",
        ),
    )


# --------------------------------------------------------------------------- C3


def feedback_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period
) -> pd.DataFrame:
    """C3 ``feedback_timeliness``.

    The rule: every survey dated in the period that found a problem is in the denominator, under
    its couple's responsible unit on the survey date (a survey whose couple has none counts for no
    unit; no marriage in force is needed); it is in the numerator when reported within
    ``feedback_days`` (in force on the survey date) on or after the survey. A problem with no
    reported date, or a report dated before its survey, is not timely; ``problem_found`` empty is
    no problem.
    """
    s = _surveys(
        tables,
        lambda s: period.contains(s["survey_date"]) & s["problem_found"].fillna(False).astype(bool),
        ["survey_id", "couple_id", "survey_date", "problem_found", "reported_date"],
    )
    s = responsible_units(tables, params, s, "survey_date")
    s = s[s["responsible_unit_id"].notna()]
    days = (as_dates(s["reported_date"]) - s["survey_date"]).dt.days
    limit = pd.Series(
        params.at_many("feedback_days", s["survey_date"]), index=s.index, dtype="Int64"
    )
    timely = ((days >= 0) & (days <= limit)).fillna(False).astype(bool)
    rep = date_text(as_dates(s["reported_date"]))
    dz = days.astype("Int64").astype("str").fillna("")
    lim = limit.astype("str")
    reason_zh, reason_en = select_reasons(
        [s["reported_date"].isna(), days < 0],
        [
            ("发现问题，未记录反馈日期", "problem found, no report date"),
            ("反馈日期 " + rep + " 早于调查日期", "report date " + rep + " is before the survey"),
        ],
        (
            np.where(timely, "", "超期：")
            + rep
            + " 反馈，调查后 "
            + dz
            + " 天（期限 "
            + lim
            + " 天）",
            np.where(timely, "", "late: ")
            + "reported "
            + rep
            + ", "
            + dz
            + " days after the survey (limit "
            + lim
            + ")",
        ),
    )
    return couple_rows(
        s,
        "feedback_timeliness",
        "",
        event_id=s["survey_id"],
        date=s["survey_date"],
        in_denominator=True,
        in_numerator=timely,
        reason_zh=reason_zh,
        reason_en=reason_en,
    )


# --------------------------------------------------------------------------- C4


_STERILISATIONS = ["female_sterilization", "male_sterilization"]
_STERILE_DATES = ["start_date", "end_date", "falsified_found_date"]


def _sterilised(tables: Mapping[str, pd.DataFrame], who: pd.DataFrame) -> pd.Series:
    """For rows of ``who`` (person_id, _date, _k), the first sterilisation record in force, else
    missing: started on or before the date, not ended and not found falsified by then."""
    c = table_of(tables, "contraception")
    c = c[c["method"].isin(_STERILISATIONS)]
    m = who.merge(
        c[["record_id", "person_id", "start_date", "end_date", "falsified_found_date"]],
        on="person_id",
    )
    d = m["_date"]
    ok = (
        (
            (m["start_date"] <= d)
            & (m["end_date"].isna() | (m["end_date"] > d))
            & (m["falsified_found_date"].isna() | (m["falsified_found_date"] > d))
        )
        .fillna(False)
        .astype(bool)
    )
    m = sort_rows(m[ok], ["_k", "record_id"]).drop_duplicates("_k")
    return m.set_index("_k")["record_id"]


def _round_wives(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period
) -> pd.DataFrame | None:
    """One row per county round starting in the period and childbearing-age couple in scope on
    its start (``round_id``, ``_start``, ``_end``, ``_exempt_days``, the round's number ``_r``
    among them and a row key ``_k``; with a :class:`~fpanalysis.rules.frames.Memo`, the
    positions :func:`~fpanalysis.rules.scope.scope_positions` gives, ``_couple``, ``_wife``
    and ``_husband``)."""
    rounds = table_of(tables, "check_rounds")
    rounds = rounds[period.contains(as_dates(rounds["start_date"]))].sort_values(
        ["start_date", "round_id"], kind="stable"
    )
    blocks = []
    # a handful of county rounds a year, not rows of data
    for i, r in enumerate(rounds.itertuples(index=False)):
        sc = couples_in_scope(tables, params, r.start_date, childbearing_only=True)
        sc = sc.assign(
            round_id=r.round_id,
            _start=pd.Timestamp(r.start_date),
            _end=pd.Timestamp(r.end_date),
            _r=i,
        )
        at = scope_positions(tables, params, r.start_date, childbearing_only=True)
        if at is not None:  # the couples' and spouses' positions, as the scope found them
            for k, v in at.items():
                sc["_" + k] = v
        sc["_exempt_days"] = params.at("check_exempt_after_outcome_days", r.start_date)
        blocks.append(sc)
    if not blocks:
        return None
    w = pd.concat(blocks, ignore_index=True)
    del blocks, sc
    let_go(tables, (), kept=("couples_in_scope",))  # the rounds' scopes are in w now
    w["_k"] = np.arange(len(w))
    return w


def _on_rows(found: pd.Series, w: pd.DataFrame) -> pd.Series:
    """``found`` (indexed by ``_k``, each row number of ``w`` at most once) on every row of
    ``w``, missing where it has nothing: ``found.reindex(w["_k"]).set_axis(w.index)``, by
    positions (``w["_k"]`` numbers the rows 0, 1, ...: no index of row numbers is hashed)."""
    at = np.full(len(w), -1, dtype=np.intp)
    at[found.index.to_numpy(dtype=np.intp)] = np.arange(len(found))
    return take_at(found, at, w.index)


def check_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period, *, reasons: bool = True
) -> pd.DataFrame:
    """C4 ``check_attendance`` (``part`` is the round).

    The rule: for each county round *starting* in the period, the wife of every childbearing-age
    couple in scope on the round's start day is *required* to attend, unless she is exempt on that
    day: either spouse sterilised (a sterilisation record in force: started on or before the day,
    not ended and not found falsified by then); pregnant (a pregnancy detected on or before the day
    with no outcome before it, so one ending on the day itself exempts her); or a pregnancy that
    ended within ``check_exempt_after_outcome_days`` before the start. The required wives are the
    denominator; those who attended the round on a day inside its window (start to end, both
    inclusive) are the numerator. A year pools its rounds. ``reasons``: False leaves ``reason_zh``
    and ``reason_en`` missing (not made).

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.rules.compliance.period import parse_period
        >>> t = {"persons": coerce("persons", [
        ...         {"person_id": w, "sex": "F", "birth_date": "1990-06-01", "unit_id": "U1",
        ...          "category": "staff", "hire_date": "2010-01-01"} for w in ("W1", "W2")]),
        ...      "couples": coerce("couples", [{"couple_id": c, "wife_id": w,
        ...          "marriage_date": "2015-05-01"} for c, w in [("C1", "W1"), ("C2", "W2")]]),
        ...      "check_rounds": coerce("check_rounds", [
        ...          {"round_id": "R1", "start_date": "2024-09-01", "end_date": "2024-09-30"}]),
        ...      "check_attendance": coerce("check_attendance", [
        ...          {"round_id": "R1", "person_id": "W1", "attended_date": "2024-10-02"}]),
        ...      "pregnancies": coerce("pregnancies", [{"pregnancy_id": "G1", "couple_id": "C2",
        ...          "detected_date": "2024-08-15"}])}
        >>> r = check_rows(t, load_params(), parse_period("2024H2"))
        >>> r[["person_id", "in_denominator", "in_numerator"]].values.tolist()
        [['W1', True, False], ['W2', False, False]]
        >>> r["reason_en"].tolist()[0]
        "attended on 2024-10-02, outside the round's window 2024-09-01～2024-09-30"
    """
    w = _round_wives(tables, params, period)
    if w is None:
        return detail_rows(pd.RangeIndex(0))
    found = _found_by_positions(tables, w)
    if found is None:  # ids the positions cannot stand for: the readable rule
        found = _found_by_merges(tables, w)
    steril, preg_on, ended_id, ended_on = (
        found["steril"],
        found["preg_on"],
        found["ended_id"],
        found["ended_on"],
    )
    att_date, att_ok = found["att_date"], found["att_ok"]

    exempt = steril.notna() | preg_on.notna() | ended_id.notna()
    required = ~exempt
    attended = required & att_ok
    return couple_rows(
        w,
        "check_attendance",
        w["round_id"],
        event_id=w["round_id"],
        date=att_date.where(att_ok),
        in_denominator=required,
        in_numerator=attended,
        **(
            _check_reasons(w, att_date, att_ok, steril, preg_on, ended_id, ended_on)
            if reasons
            else {}
        ),
    )


def _found_by_merges(tables: Mapping[str, pd.DataFrame], w: pd.DataFrame) -> dict[str, pd.Series]:
    """What C4 finds for each row of ``w`` (:func:`_round_wives`), by joins of the ids as texts:
    the readable rule, which :func:`_found_by_positions` gives by positions.

    ``steril`` (the first sterilisation record in force on the start), ``preg_on`` (the first
    pregnancy ongoing on it), ``ended_id`` and ``ended_on`` (the first that ended within the
    exempting days before it, and when), ``att_date`` (the date of the wife's first attendance
    of the round, in the table's order) and ``att_ok`` (whether one was inside the round's
    window), each on ``w``'s index, missing where there is none."""
    start = w["_start"]

    # Either spouse sterilised on the start day. Only the spouses with a sterilisation record are
    # joined (a spouse without one has none in force): the same first record per row, from a
    # join of those few rather than of every wife and husband of every round.
    c = table_of(tables, "contraception")
    sterile = c.loc[c["method"].isin(_STERILISATIONS), "person_id"]
    both = pd.concat(
        [
            pd.DataFrame({"person_id": w[s], "_date": start, "_k": w["_k"]})[
                isin_keys(w[s], sterile).to_numpy(dtype=bool)
            ]
            for s in ("wife_id", "husband_id")
        ],
        ignore_index=True,
    )
    steril = _on_rows(_sterilised(tables, both), w)

    # Pregnant on the start, or a pregnancy that ended within N days before it (by the couple):
    # only the couples with a pregnancy are joined (the others have none to look at).
    p = table_of(tables, "pregnancies")
    pregnant = isin_keys(w["couple_id"], p["couple_id"]).to_numpy(dtype=bool)
    m = w.loc[pregnant, ["_k", "couple_id", "_start", "_exempt_days"]].merge(
        p[["pregnancy_id", "couple_id", "detected_date", "outcome_date"]], on="couple_id"
    )
    ongoing = (m["detected_date"] <= m["_start"]) & (
        m["outcome_date"].isna() | (m["outcome_date"] >= m["_start"])
    )
    gap = (m["_start"] - m["outcome_date"]).dt.days
    recent = (gap >= 0) & (gap <= m["_exempt_days"])
    preg_on = sort_rows(m[ongoing.fillna(False).astype(bool)], ["_k", "pregnancy_id"])
    preg_on = preg_on.drop_duplicates("_k")
    preg_on = _on_rows(preg_on.set_index("_k")["pregnancy_id"], w)
    ended = m[recent.fillna(False).astype(bool) & ~ongoing.fillna(False).astype(bool)]
    ended = sort_rows(ended, ["_k", "pregnancy_id"]).drop_duplicates("_k").set_index("_k")
    ended_id = _on_rows(ended["pregnancy_id"], w)
    ended_on = as_dates(_on_rows(ended["outcome_date"], w))

    # Attended inside the round's window.
    a = table_of(tables, "check_attendance")
    a = a.loc[
        isin_keys(a["round_id"], pd.Series(w["round_id"].unique())).to_numpy(dtype=bool),
        ["round_id", "person_id", "attended_date"],
    ]  # the period's rounds: the rows the join can match, in their order
    att = w[["_k", "round_id", "wife_id", "_start", "_end"]].merge(
        a,
        left_on=["round_id", "wife_id"],
        right_on=["round_id", "person_id"],
    )
    inside = (
        ((att["attended_date"] >= att["_start"]) & (att["attended_date"] <= att["_end"]))
        .fillna(False)
        .astype(bool)
    )
    att_date = as_dates(_on_rows(att.drop_duplicates("_k").set_index("_k")["attended_date"], w))
    att_ok = np.zeros(len(w), dtype=bool)
    att_ok[att.loc[inside, "_k"].to_numpy(dtype=np.intp)] = True  # (``_k``: w's row numbers)
    att_ok = pd.Series(att_ok, index=w.index)
    return {
        "steril": steril,
        "preg_on": preg_on,
        "ended_id": ended_id,
        "ended_on": ended_on,
        "att_date": att_date,
        "att_ok": att_ok,
    }


def _found_by_positions(
    tables: Mapping[str, pd.DataFrame], w: pd.DataFrame
) -> dict[str, pd.Series] | None:
    """:func:`_found_by_merges` by positions: each id is found once in its keyed table (persons,
    couples) and the events are joined to ``w``'s rows by those numbers
    (:class:`~fpanalysis.rules.frames.GroupedRows`), not by merges of texts. None (the readable
    rule to be used) when a position could not stand for its text: a sterilisation record or an
    attendance whose person is not in ``persons`` (its id could equal a spouse's unknown one), or
    a round's id twice among the period's rounds (each row's own window would decide)."""
    r = w["_r"].to_numpy(dtype=np.intp)
    rounds, first = np.unique(r, return_index=True)
    round_ids = w["round_id"].take(first)
    if round_ids.duplicated().any():
        return None
    starts = w["_start"].to_numpy(dtype="datetime64[ns]")[first]
    ends = w["_end"].to_numpy(dtype="datetime64[ns]")[first]
    exempt_days = w["_exempt_days"].to_numpy()[first]
    code = np.full(int(rounds.max()) + 1 if len(rounds) else 0, -1, dtype=np.intp)
    code[rounds] = np.arange(len(rounds))
    r = code[r]  # each row's round among ``rounds``
    in_round = [np.flatnonzero(r == i) for i in range(len(rounds))]  # w's rows of each round

    persons = keyed(tables, "persons", "person_id")
    c = table_of(tables, "contraception")
    sterile = c["method"].isin(_STERILISATIONS).to_numpy(dtype=bool)
    # every record's person found, then the sterilisations' kept: as many values as the persons
    # are found by a binary search of their ids (a few among many hashed the persons' ids)
    c_person = positions(persons.index, c["person_id"])[sterile]
    c = rows_where(c, sterile)
    a = table_of(tables, "check_attendance")
    a_round = positions(pd.Index(round_ids.array), a["round_id"])
    a = rows_where(a, a_round >= 0)  # the period's rounds: the rows that can match, in order
    a_round = a_round[a_round >= 0]
    a_person = positions(persons.index, a["person_id"])
    if (c_person < 0).any() or (a_person < 0).any():
        return None
    found = all(k in w for k in ("_couple", "_wife", "_husband"))
    wife, husband = (
        w[k].to_numpy() if found else positions(persons.index, w[k[1:] + "_id"])
        for k in ("_wife", "_husband")
    )

    # Either spouse sterilised on the start day: the first record in force by record id (the
    # wife's on a tie), among the wife's and the husband's.
    rank = dense_ranks(c["record_id"])
    people = len(persons.index)
    by_person = GroupedRows(c_person, rank, size=people)
    rank_of = np.append(rank, np.iinfo(np.int64).max)  # at -1 (no record): after every rank
    c_start, c_end, c_false = (as_dates(c[k]).to_numpy() for k in _STERILE_DATES)
    steril = np.full(len(w), -1, dtype=np.intp)
    for day, rows in zip(starts, in_round, strict=True):
        ok = (
            (c_start <= day)
            & (np.isnat(c_end) | (c_end > day))
            & (np.isnat(c_false) | (c_false > day))
        )
        # the wives' and the husbands' spans in one look-up (one pass over the flags)
        both = by_person.first(ok, *by_person.ranges(np.concatenate([wife[rows], husband[rows]])))
        hers, his = both[: len(rows)], both[len(rows) :]
        his_first = (his >= 0) & (rank_of[his] < rank_of[hers])
        steril[rows] = np.where(his_first, his, hers)
    del by_person

    # Pregnant on the start, or a pregnancy that ended within N days before it (by the couple;
    # a pregnancy of no known couple is nobody's here).
    couples = keyed(tables, "couples", "couple_id")
    p = table_of(tables, "pregnancies")
    by_couple = GroupedRows(
        positions(couples.index, p["couple_id"]), dense_ranks(p["pregnancy_id"]), len(couples)
    )
    couple = w["_couple"].to_numpy() if found else positions(couples.index, w["couple_id"])
    detected = as_dates(p["detected_date"]).to_numpy()
    outcome = as_dates(p["outcome_date"]).to_numpy()
    preg_on = np.full(len(w), -1, dtype=np.intp)
    ended = np.full(len(w), -1, dtype=np.intp)
    ns, day_ns = outcome.astype(np.int64), 86_400 * 10**9
    for i, (day, rows) in enumerate(zip(starts, in_round, strict=True)):
        ongoing = (detected <= day) & (np.isnat(outcome) | (outcome >= day))
        # whole days, floored (``.dt.days``), from the nanoseconds (NaT: no gap, no warning)
        gap = (day.astype(np.int64) - ns) // day_ns
        recent = ~np.isnat(outcome) & (gap >= 0) & (gap <= exempt_days[i]) & ~ongoing
        span = by_couple.ranges(couple[rows])
        preg_on[rows] = by_couple.first(ongoing, *span)
        ended[rows] = by_couple.first(recent, *span)
    del by_couple

    # Attended: the wife's first attendance of the round (the table's order) and whether any was
    # inside the round's window; a round at a time (each grouped by the persons' positions).
    attended = as_dates(a["attended_date"]).to_numpy()
    inside = (attended >= starts[a_round]) & (attended <= ends[a_round])
    att_at = np.full(len(w), -1, dtype=np.intp)
    att_ok = np.zeros(len(w), dtype=bool)
    for i, rows in enumerate(in_round):
        mine = np.flatnonzero(a_round == i)
        if not len(mine):
            continue
        by_wife = GroupedRows(a_person[mine], size=people)
        span = by_wife.ranges(wife[rows])
        at = by_wife.first(np.ones(len(mine), dtype=bool), *span)
        att_at[rows] = np.where(at >= 0, mine[np.maximum(at, 0)], -1)
        att_ok[rows] = by_wife.any(inside[mine], *span)
        del by_wife

    def on_w(values: pd.Series, at: np.ndarray) -> pd.Series:
        return take_at(values.reset_index(drop=True), at, w.index)

    return {
        "steril": on_w(c["record_id"], steril),
        "preg_on": on_w(p["pregnancy_id"], preg_on),
        "ended_id": on_w(p["pregnancy_id"], ended),
        "ended_on": as_dates(on_w(p["outcome_date"], ended)),
        "att_date": as_dates(on_w(a["attended_date"], att_at)),
        "att_ok": pd.Series(att_ok, index=w.index),
    }


def _check_reasons(
    w: pd.DataFrame,
    att_date: pd.Series,
    att_ok: pd.Series,
    steril: pd.Series,
    preg_on: pd.Series,
    ended_id: pd.Series,
    ended_on: pd.Series,
) -> dict[str, pd.Series]:
    """C4's reasons for the rows of :func:`check_rows` (``reason_zh``, ``reason_en``)."""
    start = w["_start"]
    win = date_text(start) + "～" + date_text(w["_end"])
    late = att_date.notna() & ~att_ok
    ended = ended_id.fillna("")
    ended_at, days = date_text(ended_on), w["_exempt_days"].astype("str")
    reason_zh, reason_en = reasons_by_case(
        [steril.notna(), preg_on.notna(), ended_id.notna(), att_ok, late],
        [
            lambda r: (
                "免检：夫妻一方已结扎（" + steril[r].fillna("") + "）",
                "exempt: a spouse is sterilised (" + steril[r].fillna("") + ")",
            ),
            lambda r: (
                "免检：轮次开始时怀孕（" + preg_on[r].fillna("") + "）",
                "exempt: pregnant on the round's start (" + preg_on[r].fillna("") + ")",
            ),
            lambda r: (
                "免检：妊娠 "
                + ended[r]
                + " 于 "
                + ended_at[r]
                + " 结束，距轮次开始不超过 "
                + days[r]
                + " 天",
                "exempt: pregnancy "
                + ended[r]
                + " ended on "
                + ended_at[r]
                + ", within "
                + days[r]
                + " days of the start",
            ),
            lambda r: (
                "已于 " + date_text(att_date[r]) + " 受检",
                "attended on " + date_text(att_date[r]),
            ),
            lambda r: (
                "受检日期 " + date_text(att_date[r]) + " 不在轮次期间 " + win[r],
                "attended on " + date_text(att_date[r]) + ", outside the round's window " + win[r],
            ),
        ],
        lambda r: ("应检未检（" + win[r] + "）", "required, did not attend (" + win[r] + ")"),
    )
    return {"reason_zh": reason_zh, "reason_en": reason_en}
