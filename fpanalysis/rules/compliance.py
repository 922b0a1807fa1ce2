"""Unit compliance: indicators C1–C8, score, grade and veto (POLICY.md §3).

Everything starts from :func:`compliance_detail`, the drill-down: one row per
couple, woman or event that an indicator looked at, saying whether it was in
the denominator and in the numerator and why. :func:`compliance_scorecard`
only adds those rows up, so every figure on a scorecard can be traced back to
the couples and events behind it.

The rules, as implemented (POLICY.md §3; §2 for scope; §4 for permits):

- C1 ``baseline_coverage`` — staff childbearing-age couples in scope on 1 Jan
  with a ``baseline`` survey from 1 Jan to ``baseline_deadline`` (both
  inclusive). Belongs to H1; empty in H2.
- C2 ``followup_coverage`` — staff and floating childbearing-age couples in
  scope on a half's first day with a ``followup`` survey inside the half. A
  year pools both halves (covered couples over couples in scope, added).
- C3 ``feedback_timeliness`` — surveys dated in the period that found a
  problem, reported within ``feedback_days`` (in force on the survey date);
  a problem with no reported date is not timely.
- C4 ``check_attendance`` — for each county round starting in the period, the
  wives of childbearing-age couples in scope on its start, less the exempt
  (either spouse sterilised; pregnant on the start; a pregnancy that ended
  within ``check_exempt_after_outcome_days`` before the start), who attended
  inside the round's window. A year pools its rounds.
- C5–C8 — events dated in the period, counted under the couple's responsible
  unit on the event date, whatever the wife's age: verified falsifications,
  births without a valid permit (births counted once), pregnancies detected
  without a valid permit, terminations at ≥ ``late_termination_weeks`` that
  were not lawful (§4.1).
- Every couple (and its wife) counts under its responsible unit on the
  reference date only; a survey's own ``unit_id`` does not move it.
- A rate whose denominator is 0 counts as 1.
- ``score`` = 100 × Σ weight × rate − Σ penalties, floored at 0, rounded to 2
  decimals half up (exact :class:`fractions.Fraction` arithmetic, then
  :class:`decimal.Decimal`), then graded (``grade_thresholds``). In H2 the
  C1 weight is dropped and the others are scaled to sum to 1.
- ``veto``: any C6, or any C8 for sex selection, in the period → ``fail``.

Choices where POLICY.md is silent (also in docs/design.md):

- Weights and grade thresholds are those in force on the period's last day
  (the day the period is assessed); each penalty is the one in force on its
  event's date; the baseline deadline is the one in force on 1 Jan.
- C3 and C5–C8 need only a responsible unit on the event date, not a
  marriage in force (a violation is a violation); an event whose couple has
  no responsible unit that day counts for no unit.
- A report dated before its survey is not timely (a data slip the unit must
  correct); a survey with ``problem_found`` empty found no problem.
- "Pregnant on the round's start": detected on or before the start day and no
  outcome before it. A pregnancy ending on the start day itself exempts her.
- If an override gives C1 all the weight, H2's remaining weights sum to 0 and
  its rate part counts as 100.

Examples:
    >>> parse_period("2024H2")
    Period(label='2024H2', year=2024, half=2)
    >>> parse_period("2024").start.date(), parse_period("2024").end.date()
    (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
    >>> round_half_up(Fraction(16245, 200))
    Decimal('81.23')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import Params
from fpanalysis.core.schema import TABLES, empty_frame, last_recorded_date
from fpanalysis.rules.cases import (
    _lookup,
    birth_events,
    permit_status,
    terminations,
    valid_permit_on,
)
from fpanalysis.rules.scope import couples_in_scope, responsible_units

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
SCORECARD_COLUMNS = ["unit_id", "period", *INDICATORS, "score", "grade", "veto"]
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
SUMMARY_COLUMNS = ["unit_id", "period", "indicator", "numerator", "denominator", "value"]

# Tables an analysis of §3 reads (the CLI loads these).
TABLES_NEEDED = [
    "units",
    "persons",
    "couples",
    "children",
    "permits",
    "pregnancies",
    "surveys",
    "check_rounds",
    "check_attendance",
    "contraception",
]

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*(?:[-_ ]?[Hh]([12]))?\s*$")


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A year (``half`` None) or a half-year (1 = Jan–Jun, 2 = Jul–Dec)."""

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


def parse_period(text: str | int | Period) -> Period:
    """Read ``2024``, ``2024H1`` or ``2024H2`` (``2024-h1`` also works).

    Raises:
        UsageError: anything else.
    """
    if isinstance(text, Period):
        return text
    m = _PERIOD_RE.match(str(text))
    if not m:
        raise UsageError(
            f"考核期 {text!r} 无法识别：应为年度（如 2024）或半年（如 2024H1、2024H2）",
            f"period {text!r} not understood: give a year (2024) or a half-year (2024H1, 2024H2)",
            column="period",
            value=str(text),
            rule="period-format",
        )
    year, half = int(m.group(1)), m.group(2)
    if not 1900 <= year <= 2200:
        # parameters hold from 1900 on; past 2200 pandas' dates overflow (found by fuzzing: 9999H2 crashed)
        raise UsageError(
            f"考核期 {text!r} 应在 1900 至 2200 年之间",
            f"period {text!r} must lie between 1900 and 2200",
            column="period",
            value=str(text),
            rule="period-range",
        )
    return Period(f"{year}H{half}" if half else str(year), year, int(half) if half else None)


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


def latest_complete_year(tables: Mapping[str, pd.DataFrame]) -> int:
    """The dataset's latest complete year: that of its last recorded date if it is 31 Dec, else the year before.

    Derived from the data, never from today's date (POLICY.md general conventions).

    Raises:
        UsageError: the dataset has no dated record at all.
    """
    last = last_recorded_date(tables, among=RECORDED_TABLES)
    if last is None:
        raise UsageError(
            "数据集中没有任何日期记录，无法确定考核期：请用 --period 指定",
            "the dataset has no dated record to derive a period from: give --period",
            rule="period-default",
        )
    return last.year if (last.month, last.day) == (12, 31) else last.year - 1


# --------------------------------------------------------------------------- helpers


def _table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    t = tables.get(name)
    return empty_frame(name) if t is None else t


def _d(s: Any) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[ns]")


def _ds(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").fillna("")


def _rows(index: pd.Index, **cols: Any) -> pd.DataFrame:
    """A detail block: every column of DETAIL_COLUMNS, broadcast over ``index``."""
    out = pd.DataFrame(index=index)
    for c in DETAIL_COLUMNS:
        v = cols.get(c, np.nan)
        out[c] = v.to_numpy() if isinstance(v, pd.Series) else v
    return out


def _surveys(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    s = _table(tables, "surveys").copy()
    s["survey_date"] = _d(s["survey_date"])
    return s.sort_values(["couple_id", "survey_date", "survey_id"], kind="stable")


# --------------------------------------------------------------------------- C1, C2


def _baseline_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period
) -> pd.DataFrame:
    jan1 = pd.Timestamp(period.year, 1, 1)
    mm, dd = (int(x) for x in params.at("baseline_deadline", jan1).split("-"))
    deadline = pd.Timestamp(period.year, mm, dd)
    sc = couples_in_scope(tables, params, jan1, childbearing_only=True)
    sc = sc[sc["basis"] == "staff"]
    s = _surveys(tables)
    s = s[(s["kind"] == "baseline") & (s["survey_date"] >= jan1) & (s["survey_date"] <= deadline)]
    first = s.drop_duplicates("couple_id").set_index("couple_id")
    sid = _lookup(sc["couple_id"], first["survey_id"])
    sdate = _d(_lookup(sc["couple_id"], first["survey_date"]))
    got = sid.notna()
    dl = f"{mm:02d}-{dd:02d}"
    return _rows(
        sc.index,
        unit_id=sc["responsible_unit_id"],
        indicator="baseline_coverage",
        part="",
        couple_id=sc["couple_id"],
        person_id=sc["wife_id"],
        event_id=sid,
        date=sdate,
        in_denominator=True,
        in_numerator=got,
        reason_zh=np.where(
            got,
            "年初摸底调查 " + sid.fillna("") + "（" + _ds(sdate) + "）",
            f"1月1日至{dl}无年初摸底调查",
        ),
        reason_en=np.where(
            got,
            "baseline survey " + sid.fillna("") + " on " + _ds(sdate),
            f"no baseline survey from 01-01 to {dl}",
        ),
    )


def _followup_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, half: Period
) -> pd.DataFrame:
    sc = couples_in_scope(tables, params, half.start, childbearing_only=True)
    s = _surveys(tables)
    s = s[(s["kind"] == "followup") & half.contains(s["survey_date"])]
    first = s.drop_duplicates("couple_id").set_index("couple_id")
    sid = _lookup(sc["couple_id"], first["survey_id"])
    sdate = _d(_lookup(sc["couple_id"], first["survey_date"]))
    got = sid.notna()
    h = f"H{half.half}"
    basis_zh = sc["basis"].map({"staff": "职工", "floating": "流动人口"})
    return _rows(
        sc.index,
        unit_id=sc["responsible_unit_id"],
        indicator="followup_coverage",
        part=h,
        couple_id=sc["couple_id"],
        person_id=sc["wife_id"],
        event_id=sid,
        date=sdate,
        in_denominator=True,
        in_numerator=got,
        reason_zh=np.where(
            got,
            "（" + basis_zh + "）半年跟踪调查 " + sid.fillna("") + "（" + _ds(sdate) + "）",
            "（" + basis_zh + f"）{half.label} 内无半年跟踪调查",
        ),
        reason_en=np.where(
            got,
            "(" + sc["basis"] + ") follow-up survey " + sid.fillna("") + " on " + _ds(sdate),
            "(" + sc["basis"] + f") no follow-up survey in {half.label}",
        ),
    )


# --------------------------------------------------------------------------- C3


def _feedback_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period
) -> pd.DataFrame:
    s = _surveys(tables)
    s = s[period.contains(s["survey_date"]) & s["problem_found"].fillna(False).astype(bool)]
    s = responsible_units(tables, params, s, "survey_date")
    s = s[s["responsible_unit_id"].notna()]
    days = (_d(s["reported_date"]) - s["survey_date"]).dt.days
    limit = pd.Series(
        params.at_many("feedback_days", s["survey_date"]), index=s.index, dtype="Int64"
    )
    timely = ((days >= 0) & (days <= limit)).fillna(False).astype(bool)
    rep = _ds(_d(s["reported_date"]))
    dz = days.astype("Int64").astype("str").fillna("")
    reason_zh = np.where(
        s["reported_date"].isna(),
        "发现问题，未记录反馈日期",
        np.where(
            days < 0,
            "反馈日期 " + rep + " 早于调查日期",
            np.where(timely, "", "超期：")
            + rep
            + " 反馈，调查后 "
            + dz
            + " 天（期限 "
            + limit.astype("str")
            + " 天）",
        ),
    )
    reason_en = np.where(
        s["reported_date"].isna(),
        "problem found, no report date",
        np.where(
            days < 0,
            "report date " + rep + " is before the survey",
            np.where(timely, "", "late: ")
            + "reported "
            + rep
            + ", "
            + dz
            + " days after the survey (limit "
            + limit.astype("str")
            + ")",
        ),
    )
    return _rows(
        s.index,
        unit_id=s["responsible_unit_id"],
        indicator="feedback_timeliness",
        part="",
        couple_id=s["couple_id"],
        person_id=s["wife_id"],
        event_id=s["survey_id"],
        date=s["survey_date"],
        in_denominator=True,
        in_numerator=timely,
        reason_zh=reason_zh,
        reason_en=reason_en,
    )


# --------------------------------------------------------------------------- C4


def _sterilised(tables: Mapping[str, pd.DataFrame], who: pd.DataFrame) -> pd.Series:
    """For rows of ``who`` (person_id, _date, _k), the first sterilisation record in force, else missing."""
    c = _table(tables, "contraception")
    c = c[c["method"].isin(["female_sterilization", "male_sterilization"])]
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
    m = m[ok].sort_values(["_k", "record_id"], kind="stable").drop_duplicates("_k")
    return m.set_index("_k")["record_id"]


def _check_rows(tables: Mapping[str, pd.DataFrame], params: Params, period: Period) -> pd.DataFrame:
    rounds = _table(tables, "check_rounds")
    rounds = rounds[period.contains(_d(rounds["start_date"]))].sort_values(
        ["start_date", "round_id"], kind="stable"
    )
    blocks = []
    for r in rounds.itertuples(index=False):  # a handful of county rounds a year, not rows of data
        sc = couples_in_scope(tables, params, r.start_date, childbearing_only=True)
        sc = sc.assign(
            round_id=r.round_id, _start=pd.Timestamp(r.start_date), _end=pd.Timestamp(r.end_date)
        )
        sc["_exempt_days"] = params.at("check_exempt_after_outcome_days", r.start_date)
        blocks.append(sc)
    if not blocks:
        return _rows(pd.RangeIndex(0))
    w = pd.concat(blocks, ignore_index=True)
    w["_k"] = np.arange(len(w))
    start = w["_start"]

    # Either spouse sterilised on the start day.
    both = pd.concat(
        [
            pd.DataFrame({"person_id": w["wife_id"], "_date": start, "_k": w["_k"]}),
            pd.DataFrame({"person_id": w["husband_id"], "_date": start, "_k": w["_k"]}),
        ],
        ignore_index=True,
    )
    steril = _sterilised(tables, both).reindex(w["_k"]).set_axis(w.index)

    # Pregnant on the start, or a pregnancy that ended within N days before it (by the wife's couple).
    p = _table(tables, "pregnancies")
    m = w[["_k", "couple_id", "_start", "_exempt_days"]].merge(
        p[["pregnancy_id", "couple_id", "detected_date", "outcome_date"]], on="couple_id"
    )
    ongoing = (m["detected_date"] <= m["_start"]) & (
        m["outcome_date"].isna() | (m["outcome_date"] >= m["_start"])
    )
    gap = (m["_start"] - m["outcome_date"]).dt.days
    recent = (gap >= 0) & (gap <= m["_exempt_days"])
    preg_on = (
        m[ongoing.fillna(False).astype(bool)]
        .sort_values(["_k", "pregnancy_id"])
        .drop_duplicates("_k")
    )
    preg_on = preg_on.set_index("_k")["pregnancy_id"].reindex(w["_k"]).set_axis(w.index)
    ended = m[recent.fillna(False).astype(bool) & ~ongoing.fillna(False).astype(bool)]
    ended = ended.sort_values(["_k", "pregnancy_id"]).drop_duplicates("_k").set_index("_k")
    ended_id = ended["pregnancy_id"].reindex(w["_k"]).set_axis(w.index)
    ended_on = _d(ended["outcome_date"].reindex(w["_k"]).set_axis(w.index))

    a = _table(tables, "check_attendance")
    att = w[["_k", "round_id", "wife_id", "_start", "_end"]].merge(
        a[["round_id", "person_id", "attended_date"]],
        left_on=["round_id", "wife_id"],
        right_on=["round_id", "person_id"],
    )
    inside = (
        ((att["attended_date"] >= att["_start"]) & (att["attended_date"] <= att["_end"]))
        .fillna(False)
        .astype(bool)
    )
    att_date = _d(
        att.drop_duplicates("_k")
        .set_index("_k")["attended_date"]
        .reindex(w["_k"])
        .set_axis(w.index)
    )
    att_ok = pd.Series(w["_k"].isin(att.loc[inside, "_k"]).to_numpy(), index=w.index)

    exempt = steril.notna() | preg_on.notna() | ended_id.notna()
    required = ~exempt
    attended = required & att_ok
    sd, ed = _ds(start), _ds(w["_end"])
    win = sd + "～" + ed
    late = att_date.notna() & ~att_ok
    reason_zh = np.select(
        [steril.notna(), preg_on.notna(), ended_id.notna(), att_ok, late],
        [
            "免检：夫妻一方已结扎（" + steril.fillna("") + "）",
            "免检：轮次开始时怀孕（" + preg_on.fillna("") + "）",
            "免检：妊娠 "
            + ended_id.fillna("")
            + " 于 "
            + _ds(ended_on)
            + " 结束，距轮次开始不超过 "
            + w["_exempt_days"].astype("str")
            + " 天",
            "已于 " + _ds(att_date) + " 受检",
            "受检日期 " + _ds(att_date) + " 不在轮次期间 " + win,
        ],
        "应检未检（" + win + "）",
    )
    reason_en = np.select(
        [steril.notna(), preg_on.notna(), ended_id.notna(), att_ok, late],
        [
            "exempt: a spouse is sterilised (" + steril.fillna("") + ")",
            "exempt: pregnant on the round's start (" + preg_on.fillna("") + ")",
            "exempt: pregnancy "
            + ended_id.fillna("")
            + " ended on "
            + _ds(ended_on)
            + ", within "
            + w["_exempt_days"].astype("str")
            + " days of the start",
            "attended on " + _ds(att_date),
            "attended on " + _ds(att_date) + ", outside the round's window " + win,
        ],
        "required, did not attend (" + win + ")",
    )
    return _rows(
        w.index,
        unit_id=w["responsible_unit_id"],
        indicator="check_attendance",
        part=w["round_id"],
        couple_id=w["couple_id"],
        person_id=w["wife_id"],
        event_id=w["round_id"],
        date=att_date.where(att_ok),
        in_denominator=required,
        in_numerator=attended,
        reason_zh=reason_zh,
        reason_en=reason_en,
    )


# --------------------------------------------------------------------------- C5–C8


def _event_block(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    ev: pd.DataFrame,
    indicator: str,
    counted: pd.Series,
    veto: pd.Series | bool,
    reason_zh: Any,
    reason_en: Any,
    person: pd.Series | None = None,
) -> pd.DataFrame:
    """Rows for events ``ev`` (couple_id, date, event_id) under their responsible unit on the date."""
    if ev.empty:
        return _rows(pd.RangeIndex(0))
    ru = responsible_units(tables, params, ev[["couple_id", "date"]], "date")
    penalty = pd.Series(
        [
            p[indicator] if p is not None else np.nan
            for p in params.at_many("compliance_penalties", ev["date"])
        ],
        index=ev.index,
        dtype="float64",
    )
    counted = counted.astype(bool)
    veto_s = (pd.Series(veto, index=ev.index) if not isinstance(veto, pd.Series) else veto).astype(
        bool
    ) & counted
    out = _rows(
        ev.index,
        unit_id=ru["responsible_unit_id"],
        indicator=indicator,
        part="",
        couple_id=ev["couple_id"],
        person_id=ru["wife_id"] if person is None else person,
        event_id=ev["event_id"],
        date=ev["date"],
        in_denominator=pd.NA,
        in_numerator=counted,
        penalty=penalty.where(counted, 0.0),
        veto=veto_s,
        reason_zh=reason_zh,
        reason_en=reason_en,
    )
    return out[ru["responsible_unit_id"].notna().to_numpy()]


def _event_rows(
    tables: Mapping[str, pd.DataFrame], params: Params, period: Period
) -> list[pd.DataFrame]:
    blocks = []
    # C5: verified falsifications.
    c = _table(tables, "contraception")
    f = c[period.contains(_d(c["falsified_found_date"]))]
    ev = pd.DataFrame(
        {
            "couple_id": f["couple_id"],
            "date": _d(f["falsified_found_date"]),
            "event_id": f["record_id"],
        }
    )
    blocks.append(
        _event_block(
            tables,
            params,
            ev,
            "falsifications",
            pd.Series(True, index=ev.index),
            False,
            "查实节育弄虚作假（"
            + f["method"].map(TABLES["contraception"].column("method").labels).fillna("")
            + "）",
            "verified contraception falsification (" + f["method"].fillna("") + ")",
            person=f["person_id"],
        )
    )
    status = permit_status(tables, params)
    # C6: births counted once, without a valid permit on the birth date.
    b = birth_events(tables)
    b = b[period.contains(b["date"])]
    valid = valid_permit_on(tables, params, b, status=status)
    ev = b[["couple_id", "date", "event_id"]]
    kids = b["child_ids"].fillna("")
    blocks.append(
        _event_block(
            tables,
            params,
            ev,
            "out_of_plan_births",
            valid.isna(),
            True,
            np.where(
                valid.isna(),
                "分娩（" + kids + "）时无有效生育证",
                "持有效生育证 " + valid.fillna("") + "（" + kids + "）",
            ),
            np.where(
                valid.isna(),
                "birth (" + kids + ") without a valid permit",
                "valid permit " + valid.fillna("") + " (" + kids + ")",
            ),
        )
    )
    # C7: pregnancies detected without a valid permit.
    p = _table(tables, "pregnancies")
    p = p[period.contains(_d(p["detected_date"]))]
    ev = pd.DataFrame(
        {"couple_id": p["couple_id"], "date": _d(p["detected_date"]), "event_id": p["pregnancy_id"]}
    )
    valid = valid_permit_on(tables, params, ev, status=status)
    blocks.append(
        _event_block(
            tables,
            params,
            ev,
            "pregnancies_without_permit",
            valid.isna(),
            False,
            np.where(valid.isna(), "发现怀孕时无有效生育证", "持有效生育证 " + valid.fillna("")),
            np.where(
                valid.isna(),
                "pregnancy detected without a valid permit",
                "valid permit " + valid.fillna(""),
            ),
        )
    )
    # C8: late terminations that were not lawful (§4.1); sex selection vetoes.
    t = terminations(tables, params)
    t = t[period.contains(t["date"]) & t["is_late"]]
    ev = pd.DataFrame(
        {"couple_id": t["couple_id"], "date": t["date"], "event_id": t["pregnancy_id"]}
    )
    wk = t["gestation_weeks"].astype("Int64").astype("str")
    appr = t["county_approved"].fillna(False).astype(bool)
    desig = t["designated_facility"].fillna(False).astype(bool)
    why_zh = np.select(
        [t["is_sex_selection"], ~appr & ~desig, ~appr, ~desig],
        ["选择性别引产", "未经县批准且不在指定机构", "未经县批准", "不在指定机构"],
        "经县批准、在指定机构",
    )
    why_en = np.select(
        [t["is_sex_selection"], ~appr & ~desig, ~appr, ~desig],
        [
            "for sex selection",
            "not approved by the county, not at a designated facility",
            "not approved by the county",
            "not at a designated facility",
        ],
        "approved by the county, at a designated facility",
    )
    blocks.append(
        _event_block(
            tables,
            params,
            ev,
            "unapproved_late_terminations",
            ~t["is_lawful"],
            t["is_sex_selection"],
            "孕" + wk + "周引产：" + why_zh,
            "termination at " + wk + " weeks: " + why_en,
        )
    )
    return blocks


# --------------------------------------------------------------------------- public


def compliance_detail(
    tables: Mapping[str, pd.DataFrame], params: Params, period: str | Period
) -> pd.DataFrame:
    """The drill-down behind every figure of the scorecard (POLICY.md §3).

    Args:
        tables: the dataset (``units``, ``persons``, ``couples`` and the event
            tables; absent event tables count as empty).
        params: parameters in force.
        period: ``2024``, ``2024H1``, ``2024H2`` or a :class:`Period`.

    Returns:
        Columns :data:`DETAIL_COLUMNS`, one row per couple / woman / event an
        indicator looked at: ``part`` is the half (C2) or round (C4);
        ``in_denominator`` (NA for the counts C5–C8), ``in_numerator`` (for a
        count: counted as a violation), ``penalty`` points, ``veto``, and the
        reason in Chinese and English. Sorted by unit, indicator (C1..C8),
        part, couple, event.
    """
    period = parse_period(period)
    blocks = []
    if period.half in (None, 1):
        blocks.append(_baseline_rows(tables, params, period))
    for h in period.halves:
        blocks.append(_followup_rows(tables, params, h))
    blocks.append(_feedback_rows(tables, params, period))
    blocks.append(_check_rows(tables, params, period))
    blocks.extend(_event_rows(tables, params, period))
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        out = _rows(pd.RangeIndex(0))
    else:
        out = pd.concat(blocks, ignore_index=True)
    out["period"] = period.label
    for c in (
        "unit_id",
        "period",
        "indicator",
        "part",
        "couple_id",
        "person_id",
        "event_id",
        "reason_zh",
        "reason_en",
    ):
        out[c] = out[c].astype("str").where(out[c].notna())
    out["date"] = _d(out["date"])
    out["in_denominator"] = out["in_denominator"].astype("boolean")
    out["in_numerator"] = out["in_numerator"].astype("boolean").fillna(False)
    out["penalty"] = pd.to_numeric(out["penalty"]).astype("float64")
    out["veto"] = out["veto"].astype("boolean").fillna(False).astype(bool)
    return sort_detail(out)


def sort_detail(detail: pd.DataFrame) -> pd.DataFrame:
    """Detail rows in the drill-down's order: unit, indicator (C1..C8), part, couple, event, person.

    Stable, so rows of one couple keep their order: the drill-downs of parts
    holding whole couples, stacked and sorted, equal the drill-down of the whole.
    """
    out = detail.assign(_i=detail["indicator"].map({k: i for i, k in enumerate(INDICATORS)}))
    out = out.sort_values(
        ["unit_id", "_i", "part", "couple_id", "event_id", "person_id"],
        kind="stable",
        na_position="last",
    )
    return out.drop(columns="_i").reset_index(drop=True)[DETAIL_COLUMNS]


SUMS_COLUMNS = ["unit_id", "indicator", "numerator", "denominator", "penalty", "veto"]


def unit_sums(detail: pd.DataFrame) -> pd.DataFrame:
    """The per-unit sums a scorecard is made of: the "map" half of the scoring (POLICY.md §3).

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
        >>> d = pd.DataFrame({"unit_id": ["U1", "U1", "U1"], "indicator": ["followup_coverage"] * 2 + ["falsifications"],
        ...     "in_denominator": pd.array([True, True, pd.NA], dtype="boolean"),
        ...     "in_numerator": pd.array([True, False, True], dtype="boolean"),
        ...     "penalty": [0.0, 0.0, 0.5], "veto": [False, False, False]})
        >>> unit_sums(d).values.tolist()
        [['U1', 'falsifications', 1, 0, Fraction(1, 2), 0], ['U1', 'followup_coverage', 1, 2, Fraction(0, 1), 0]]
    """
    d = detail[detail["unit_id"].notna()]
    g = pd.DataFrame(
        {
            "unit_id": d["unit_id"].astype("str"),
            "indicator": d["indicator"].astype("str"),
            "numerator": (
                d["in_numerator"].fillna(False) & d["in_denominator"].fillna(True)
            ).astype("int64"),
            "denominator": d["in_denominator"].fillna(False).astype("int64"),
            "veto": d["veto"].astype(bool).astype("int64"),
        }
    )
    out = g.groupby(["unit_id", "indicator"], sort=True)[["numerator", "denominator", "veto"]].sum()
    # Penalty points exactly as written (0.5 is 1/2): a handful of event rows, not every couple.
    pen = d.loc[d["penalty"] > 0, ["unit_id", "indicator", "penalty"]]
    pen = pen.groupby(["unit_id", "indicator"], sort=True)["penalty"].agg(
        lambda s: sum((_exact(v) for v in s), Fraction(0))
    )
    out["penalty"] = pd.Series(
        [pen.get(k, Fraction(0)) for k in out.index], index=out.index, dtype="object"
    )
    return out.reset_index()[SUMS_COLUMNS]


def add_unit_sums(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add :func:`unit_sums` of several parts of a dataset into the sums of the whole (the "reduce").

    Examples:
        >>> a = pd.DataFrame([["U1", "followup_coverage", 1, 2, Fraction(0), 0]], columns=SUMS_COLUMNS)
        >>> b = pd.DataFrame([["U1", "followup_coverage", 3, 3, Fraction(1, 2), 1]], columns=SUMS_COLUMNS)
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
    out = (
        s.groupby(["unit_id", "indicator"], sort=True)[["numerator", "denominator", "veto"]]
        .sum()
        .astype("int64")
    )
    out["penalty"] = s.groupby(["unit_id", "indicator"], sort=True)["penalty"].agg(
        lambda v: sum(v, Fraction(0))
    )
    return out.reset_index()[SUMS_COLUMNS]


def summary_from_sums(
    sums: pd.DataFrame, units: list[str] | None = None, period: str = ""
) -> pd.DataFrame:
    """:func:`indicator_summary` from :func:`unit_sums` (or their total over partitions)."""
    if units is None:
        units = sorted(set(sums["unit_id"].dropna()))
    grid = pd.MultiIndex.from_product([units, INDICATORS], names=["unit_id", "indicator"])
    s = sums.set_index(["unit_id", "indicator"])
    out = pd.DataFrame(index=grid)
    out["numerator"] = s["numerator"].reindex(grid).fillna(0).astype("int64")
    out["denominator"] = s["denominator"].reindex(grid).fillna(0).astype("int64").astype("Int64")
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
    """Round an exact number to ``places`` decimals, halves away from zero (POLICY.md conventions)."""
    q = Decimal(1).scaleb(-places)
    if isinstance(x, Fraction):
        scaled = x * 10**places
        n = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
        return (Decimal(n if scaled >= 0 else -n) * q).quantize(q)
    return Decimal(x).quantize(q, rounding=ROUND_HALF_UP)


def _exact(x: float) -> Fraction:
    """A parameter's decimal value exactly as written (0.35 is 35/100, not the nearest binary float)."""
    return Fraction(Decimal(str(x)))


def score_unit(
    rates: Mapping[str, tuple[int, int] | None],
    penalties: Fraction | Decimal | float,
    weights: Mapping[str, float],
    thresholds: Mapping[str, float],
    veto: bool,
) -> tuple[Decimal, str]:
    """Score and grade of one unit from exact numerators and denominators (POLICY.md §3).

    Args:
        rates: indicator -> (numerator, denominator), or ``None`` when the
            indicator is left out (C1 in H2): its weight is dropped and the
            others are scaled to sum to 1.
        penalties: total penalty points.
        weights, thresholds: ``compliance_weights``, ``grade_thresholds``.
        veto: the period has a veto.

    Returns:
        ``(score, grade)``: the score rounded to 2 decimals half up, floored at 0.

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
    elif score >= Decimal(str(thresholds["excellent"])):
        grade = "excellent"
    elif score >= Decimal(str(thresholds["pass"])):
        grade = "pass"
    else:
        grade = "fail"
    return score, grade


def scorecard_from_detail(
    detail: pd.DataFrame, params: Params, period: str | Period, units: list[str] | None = None
) -> pd.DataFrame:
    """Add :func:`compliance_detail` rows up into the scorecard (one row per unit)."""
    return scorecard_from_sums(unit_sums(detail), params, period, units)


def scorecard_from_sums(
    sums: pd.DataFrame, params: Params, period: str | Period, units: list[str] | None = None
) -> pd.DataFrame:
    """Score the per-unit sums (:func:`unit_sums`, or :func:`add_unit_sums` of parts): the "compute" step.

    Pooling (sums over halves and rounds), H2's reweighting, exact scores
    rounded half up, grades and the veto, as :func:`score_unit`. Every unit of
    ``units`` and every unit in ``sums`` gets a row.
    """
    period = parse_period(period)
    if units is None:
        units = sorted(set(sums["unit_id"].dropna()))
    else:
        units = sorted(set(units) | set(sums["unit_id"].dropna()))
    summ = summary_from_sums(sums, units, period.label)
    weights = params.at("compliance_weights", period.end)
    thresholds = params.at("grade_thresholds", period.end)
    pen = sums.groupby("unit_id")["penalty"].agg(lambda s: sum(s, Fraction(0)))
    veto = sums.groupby("unit_id")["veto"].sum()
    wide = summ.pivot(index="unit_id", columns="indicator", values="value").reindex(
        index=units, columns=INDICATORS
    )
    nums = summ.pivot(index="unit_id", columns="indicator", values="numerator")
    dens = summ.pivot(index="unit_id", columns="indicator", values="denominator")
    rows = []
    for u in units:  # one iteration per unit (tens or hundreds), not per record
        rates = {
            k: None
            if (k == "baseline_coverage" and period.half == 2)
            else (int(nums.at[u, k]), int(dens.at[u, k]))
            for k in RATE_INDICATORS
        }
        v = bool(veto.get(u, 0))
        score, grade = score_unit(rates, pen.get(u, Fraction(0)), weights, thresholds, v)
        rows.append({"unit_id": u, "score": float(score), "grade": grade, "veto": v})
    sc = pd.DataFrame(rows, columns=["unit_id", "score", "grade", "veto"])
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
    """One row per unit: ``unit_id``, ``period``, C1–C8, ``score``, ``grade``, ``veto`` (POLICY.md §3).

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
        >>> compliance_scorecard(t, load_params(), "2024H2")[["unit_id", "baseline_coverage", "score", "grade"]]
          unit_id  baseline_coverage  score      grade
        0      U1                NaN  100.0  excellent
    """
    period = parse_period(period)
    if detail is None:
        detail = compliance_detail(tables, params, period)
    units = list(_table(tables, "units")["unit_id"].dropna())
    return scorecard_from_detail(detail, params, period, units)


def half_year_trend(
    tables: Mapping[str, pd.DataFrame], params: Params, years: list[int]
) -> pd.DataFrame:
    """Scorecards of every half of ``years``, stacked (for trend charts)."""
    cards = [compliance_scorecard(tables, params, f"{y}H{h}") for y in years for h in (1, 2)]
    return pd.concat(cards, ignore_index=True)


# --------------------------------------------------------------------------- accountability

ACCOUNTABILITY_COLUMNS = [
    "date",
    "rule",
    "event_id",
    "couple_id",
    "wife_id",
    "husband_id",
    "wife_name",
    "husband_name",
    "unit_id",
    "unit_name",
    "unit_head_name",
    "liaison_name",
    "penalty",
    "veto",
    "reason_zh",
    "reason_en",
]


def accountability_list(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    period: str | Period,
    *,
    detail: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The accountability list (责任追究制度, POLICY.md §3): one row per violation in the period.

    A violation is a counted C5–C8 event, plus a sex-selective termination
    below the late-termination threshold (unlawful at any gestation, §4.1;
    ``rule`` = ``sex_selective_termination``, no penalty points). Each row
    names the couple (the party), its responsible unit on the date, the unit's
    head and liaison, the rule and the date. Names are in full here: mask them
    with :func:`fpanalysis.core.privacy.mask_frame` before they leave the package.

    Returns:
        Columns :data:`ACCOUNTABILITY_COLUMNS`, sorted by date, unit, rule, event.
    """
    period = parse_period(period)
    if detail is None:
        detail = compliance_detail(tables, params, period)
    v = detail[detail["indicator"].isin(COUNT_INDICATORS) & detail["in_numerator"]]
    v = v.assign(rule=v["indicator"])[
        [
            "date",
            "rule",
            "event_id",
            "couple_id",
            "unit_id",
            "penalty",
            "veto",
            "reason_zh",
            "reason_en",
        ]
    ]
    t = terminations(tables, params)
    t = t[period.contains(t["date"]) & t["is_sex_selection"] & ~t["is_late"]]
    if len(t):
        ru = responsible_units(tables, params, t[["couple_id", "date"]], "date")
        extra = pd.DataFrame(
            {
                "date": t["date"],
                "rule": "sex_selective_termination",
                "event_id": t["pregnancy_id"],
                "couple_id": t["couple_id"],
                "unit_id": ru["responsible_unit_id"],
                "penalty": 0.0,
                "veto": False,
                "reason_zh": "孕"
                + t["gestation_weeks"].astype("Int64").astype("str").fillna("?")
                + "周选择性别终止妊娠",
                "reason_en": "sex-selective termination at "
                + t["gestation_weeks"].astype("Int64").astype("str").fillna("?")
                + " weeks",
            }
        )
        v = pd.concat([v, extra[extra["unit_id"].notna()]], ignore_index=True)
    couples = _table(tables, "couples").drop_duplicates("couple_id").set_index("couple_id")
    names = _table(tables, "persons").drop_duplicates("person_id").set_index("person_id")["name"]
    units = _table(tables, "units").drop_duplicates("unit_id").set_index("unit_id")
    out = v.copy()
    out["wife_id"] = out["couple_id"].map(couples["wife_id"])
    out["husband_id"] = out["couple_id"].map(couples["husband_id"])
    out["wife_name"] = out["wife_id"].map(names)
    out["husband_name"] = out["husband_id"].map(names)
    out["unit_name"] = out["unit_id"].map(units["name"])
    out["unit_head_name"] = out["unit_id"].map(units["head_name"])
    out["liaison_name"] = out["unit_id"].map(units["liaison_name"])
    out["date"] = _d(out["date"])
    out["veto"] = out["veto"].astype(bool)
    out["penalty"] = out["penalty"].astype("float64")
    for c in ACCOUNTABILITY_COLUMNS:
        if c not in ("date", "veto", "penalty"):
            out[c] = out[c].astype("str").where(out[c].notna())
    out = out.sort_values(["date", "unit_id", "rule", "event_id"], kind="stable").reset_index(
        drop=True
    )
    return out[ACCOUNTABILITY_COLUMNS]
