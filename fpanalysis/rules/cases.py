"""Late terminations, the birth quota and permit validity (rulebook §3, §4): births counted once,
every termination with its §4.1 verdict, each permit's use and effective cancellation (§4.2), the
permit valid on an event's date, and §4.4's case list (one row per couple with a case, its
timeline, violations and the bureau's action); pure functions over frames."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpanalysis.core.dataset import isin_keys
from fpanalysis.core.params import Params
from fpanalysis.core.schema import TABLES
from fpanalysis.rules.frames import (
    as_dates,
    first_of_runs,
    join_sorted,
    lookup,
    lookup_columns,
    sort_rows,
    table_of,
)
from fpanalysis.rules.scope import responsible_units

BIRTH_EVENT_COLUMNS = ["event_id", "couple_id", "date", "pregnancy_id", "child_ids"]
TERMINATION_COLUMNS = [
    "pregnancy_id",
    "couple_id",
    "date",
    "gestation_weeks",
    "termination_reason",
    "late_weeks",
    "is_late",
    "is_sex_selection",
    "is_lawful",
]
#: The party of a case or a violation: the couple, its spouses in full and its responsible unit.
PARTY_COLUMNS = ["couple_id", "wife_id", "husband_id", "wife_name", "husband_name", "unit_id"]
CASE_COLUMNS = [
    *PARTY_COLUMNS,
    "first_date",
    "violations",
    "quota_cancelled_from",
    "cancellation_basis",
    "out_of_plan_births",
    "pregnancies_without_permit",
    "timeline_zh",
    "timeline_en",
    "action_zh",
    "action_en",
]


def with_names(tables: Mapping[str, pd.DataFrame], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with ``wife_id`` and ``husband_id``) with the spouses' full names added.

    The names are in full: mask them (:func:`fpanalysis.core.privacy.mask_frame`) before they
    leave the package (rulebook §7).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"persons": coerce("persons", [{"person_id": "W1", "name": "张三妹"}])}
        >>> f = pd.DataFrame({"wife_id": ["W1"], "husband_id": ["H9"]})
        >>> with_names(t, f)[["wife_name", "husband_name"]].values.tolist()
        [['张三妹', nan]]
    """
    names = table_of(tables, "persons").drop_duplicates("person_id").set_index("person_id")["name"]
    return frame.assign(
        wife_name=frame["wife_id"].map(names), husband_name=frame["husband_id"].map(names)
    )


# --------------------------------------------------------------------------- births


def birth_events(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Births counted once (rulebook §3 "Births").

    Args:
        tables: uses ``pregnancies`` and ``children`` (either may be absent).

    Returns:
        One row per birth event, sorted by couple and date: ``event_id`` (the
        pregnancy's id, or the first child's id when no pregnancy names it),
        ``couple_id``, ``date`` (the pregnancy's outcome date, else the named
        child's birth date), ``pregnancy_id`` and ``child_ids`` (``;``-joined).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"pregnancies": coerce("pregnancies", [{"pregnancy_id": "G1", "couple_id": "C1",
        ...          "detected_date": "2024-01-01", "outcome": "birth",
        ...          "outcome_date": "2024-09-01", "child_id": "K1"}]),
        ...      "children": coerce("children", [
        ...          {"child_id": k, "couple_id": "C1", "birth_date": d, "sex": x}
        ...          for k, d, x in [("K1", "2024-09-01", "F"), ("K2", "2024-09-01", "M"),
        ...                          ("K3", "2026-02-01", "M")]])}
        >>> birth_events(t)[["event_id", "date", "child_ids"]].astype(str).values.tolist()
        [['G1', '2024-09-01', 'K1;K2'], ['K3', '2026-02-01', 'K3']]
    """
    preg = table_of(tables, "pregnancies")
    kids = table_of(tables, "children")
    births = preg.loc[
        preg["outcome"] == "birth", ["pregnancy_id", "couple_id", "outcome_date", "child_id"]
    ]
    # the birth dates by child id, not a copy of the table (the first of a repeated id wins)
    kid_birth = pd.Series(kids["birth_date"].array, index=pd.Index(kids["child_id"].array))
    births = births.assign(
        named_birth=as_dates(lookup(births["child_id"], kid_birth)),
        date=as_dates(births["outcome_date"]),
    )
    births["date"] = births["date"].fillna(births["named_birth"])
    births = births.dropna(subset=["date"])
    # Twins recorded as two pregnancies are one birth: keep the first per couple and day.
    births = sort_rows(births, ["couple_id", "date", "pregnancy_id"])
    births = first_of_runs(births, ["couple_id", "date"])

    # A child belongs to a pregnancy's birth when named by it, or born to the same couple on the
    # pregnancy's outcome day or on the named child's birth day (its twin).
    # (the named ids as a column, not a Python set: one Arrow look-up rather than a set of objects)
    named = preg.loc[preg["outcome"] == "birth", "child_id"].dropna()
    keys = pd.concat(
        [
            births[["couple_id", "date", "pregnancy_id"]],
            births[["couple_id", "named_birth", "pregnancy_id"]].rename(
                columns={"named_birth": "date"}
            ),
        ]
    ).dropna(subset=["date"])
    keys = keys.drop_duplicates(["couple_id", "date"])
    k = kids[["child_id", "couple_id", "birth_date"]].rename(columns={"birth_date": "date"})
    k = k.assign(date=as_dates(k["date"])).dropna(subset=["date"])
    k = k.merge(keys, on=["couple_id", "date"], how="left")
    by_preg = k.dropna(subset=["pregnancy_id"])
    named_kids = births[["pregnancy_id", "child_id"]].dropna()
    preg_kids = pd.concat([by_preg[["pregnancy_id", "child_id"]], named_kids]).drop_duplicates()
    preg_kids = sort_rows(preg_kids, ["pregnancy_id", "child_id"])
    # ``groupby("pregnancy_id")["child_id"].agg(";".join)``, over the sorted runs
    kid_lists = join_sorted(preg_kids, ["pregnancy_id"], "child_id").set_index("pregnancy_id")
    kid_lists = kid_lists["joined"]

    lone = k[k["pregnancy_id"].isna() & ~isin_keys(k["child_id"], named)]
    lone = sort_rows(lone, ["couple_id", "date", "child_id"])
    # ``groupby(["couple_id", "date"])``: the first child and the children joined, by sorted runs
    lone_events = join_sorted(lone, ["couple_id", "date"], "child_id").rename(
        columns={"first": "event_id", "joined": "child_ids"}
    )
    lone_events["pregnancy_id"] = pd.Series(np.nan, index=lone_events.index, dtype="str")

    p_events = pd.DataFrame(
        {
            "event_id": births["pregnancy_id"],
            "couple_id": births["couple_id"],
            "date": births["date"],
            "pregnancy_id": births["pregnancy_id"],
            "child_ids": lookup(births["pregnancy_id"], kid_lists),
        }
    )
    out = pd.concat([p_events, lone_events[BIRTH_EVENT_COLUMNS]], ignore_index=True)
    out["date"] = as_dates(out["date"])
    for c in ("event_id", "couple_id", "pregnancy_id", "child_ids"):
        out[c] = out[c].astype("str").where(out[c].notna())
    return sort_rows(out, ["couple_id", "date", "event_id"]).reset_index(drop=True)[
        BIRTH_EVENT_COLUMNS
    ]


# --------------------------------------------------------------------------- terminations


def terminations(tables: Mapping[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    """Every dated termination with its §4.1 verdict.

    Returns:
        Columns :data:`TERMINATION_COLUMNS`: ``date`` is the outcome date,
        ``late_weeks`` the threshold in force that day, ``is_late`` gestation at
        or above it, ``is_sex_selection``, and ``is_lawful``: not late, or late
        with county approval and at a designated facility — and never when for
        sex selection (empty approval/facility = no).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.core.params import load_params
        >>> t = {"pregnancies": coerce("pregnancies", [
        ...     {"pregnancy_id": "G1", "couple_id": "C1", "detected_date": "2024-01-01",
        ...      "outcome": "termination", "outcome_date": "2024-04-01", "gestation_weeks": 16,
        ...      "termination_reason": "medical", "county_approved": True}])}
        >>> terminations(t, load_params())[["is_late", "is_lawful"]].values.tolist()
        [[True, False]]
    """
    preg = table_of(tables, "pregnancies")
    t = preg[(preg["outcome"] == "termination") & preg["outcome_date"].notna()].copy()
    t["date"] = as_dates(t["outcome_date"])
    t["late_weeks"] = pd.Series(
        params.at_many("late_termination_weeks", t["date"]), index=t.index, dtype="Int64"
    )
    weeks = t["gestation_weeks"].astype("Int64")
    t["is_late"] = (weeks >= t["late_weeks"]).fillna(False).astype(bool)
    t["is_sex_selection"] = (t["termination_reason"] == "sex_selection").fillna(False).astype(bool)
    approved = t["county_approved"].fillna(False).astype(bool)
    designated = t["designated_facility"].fillna(False).astype(bool)
    t["is_lawful"] = (~t["is_sex_selection"] & (~t["is_late"] | (approved & designated))).astype(
        bool
    )
    t = sort_rows(t, ["couple_id", "date", "pregnancy_id"]).reset_index(drop=True)
    return t[TERMINATION_COLUMNS + ["county_approved", "designated_facility"]]


# --------------------------------------------------------------------------- permits


def _valid_pairs(status: pd.DataFrame, events: pd.DataFrame, cancel_col: str) -> pd.DataFrame:
    """Every (event, permit) pair of one couple where the permit is valid on the event's date."""
    ev = events[["_k", "couple_id", "_date"]]
    m = ev.merge(
        status[["permit_id", "couple_id", "issue_date", cancel_col, "used_on"]],
        on="couple_id",
        how="inner",
    )
    d = m["_date"]
    ok = (
        (m["issue_date"] <= d)
        & (m[cancel_col].isna() | (m[cancel_col] > d))
        & (m["used_on"].isna() | (m["used_on"] >= d))
    )
    return m[ok.fillna(False).astype(bool)]


def _first_valid(status: pd.DataFrame, events: pd.DataFrame, cancel_col: str) -> pd.Series:
    """For each event (by ``_k``) the id of the first valid permit, else missing."""
    pairs = _valid_pairs(status, events, cancel_col)
    pairs = sort_rows(pairs, ["_k", "issue_date", "permit_id"]).drop_duplicates("_k")
    return pairs.set_index("_k")["permit_id"].reindex(events["_k"]).set_axis(events.index)


def _prep_events(events: pd.DataFrame, date_column: str) -> pd.DataFrame:
    ev = events[["couple_id"]].copy()
    ev["_date"] = as_dates(events[date_column])
    ev["_k"] = np.arange(len(ev))
    return ev


def _quota_triggers(
    tables: Mapping[str, pd.DataFrame], params: Params, base: pd.DataFrame
) -> pd.DataFrame:
    """§4.2: per couple, the first sex-selective termination while holding a valid permit."""
    term = terminations(tables, params)
    sel = term[term["is_sex_selection"]]
    if sel.empty:
        return pd.DataFrame(
            {
                "couple_id": pd.Series([], dtype="str"),
                "pregnancy_id": pd.Series([], dtype="str"),
                "date": pd.Series([], dtype="datetime64[ns]"),
                "held": pd.Series([], dtype="str"),
            }
        )
    ev = _prep_events(sel.assign(date=sel["date"]), "date")
    pairs = _valid_pairs(base, ev, "cancelled_date")
    held = pairs.groupby("_k")["permit_id"].agg(lambda s: ";".join(sorted(s)))
    sel = sel.assign(held=held.reindex(ev["_k"]).set_axis(sel.index))
    sel = sel.dropna(subset=["held"]).sort_values(
        ["couple_id", "date", "pregnancy_id"], kind="stable"
    )
    return sel.drop_duplicates("couple_id")[
        ["couple_id", "pregnancy_id", "date", "held"]
    ].reset_index(drop=True)


def permit_status(
    tables: Mapping[str, pd.DataFrame], params: Params, births: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every permit with its use and its effective cancellation (§3 valid permit, §4.2).

    Returns:
        The ``permits`` columns plus ``used_on`` / ``used_by`` (the first birth
        event on or after issue), ``derived_cancelled_date`` (from §4.2),
        ``effective_cancelled_date`` (the earlier of recorded and derived),
        ``cancel_basis`` (``recorded``, ``termination_date``,
        ``issued_after_cancellation`` or missing) and ``trigger_pregnancy_id``.
        Sorted by ``permit_id``, index 0..n-1. ``births``: a precomputed :func:`birth_events`
        of the same tables (saves the work when the caller needs the births too).

    A permit covers one birth, the first on or after its issue date (a birth on the issue date
    included); two permits held at once are each used by the first birth after their own issue.
    A sex-selective termination is unlawful whatever its approval flags say, so §4.2 cancels the
    permits a couple holds then: from the county's recorded date, else from the termination date;
    a permit issued to the couple after the termination is never valid.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.core.params import load_params
        >>> t = {
        ...     "permits": coerce("permits", [
        ...         {"permit_id": "B1", "couple_id": "C1", "issue_date": "2023-01-10"}]),
        ...     "pregnancies": coerce("pregnancies", [{"pregnancy_id": "G1", "couple_id": "C1",
        ...         "detected_date": "2024-01-05", "outcome": "termination",
        ...         "outcome_date": "2024-03-01", "gestation_weeks": 18,
        ...         "termination_reason": "sex_selection"}]),
        ...     "children": coerce("children", [])}
        >>> s = permit_status(t, load_params())
        >>> s.loc[0, ["permit_id", "effective_cancelled_date", "cancel_basis"]].tolist()
        ['B1', Timestamp('2024-03-01 00:00:00'), 'termination_date']
    """
    permits = table_of(tables, "permits")
    base = permits[
        ["permit_id", "couple_id", "issue_date", "cancelled_date", "cancel_reason"]
    ].copy()
    base["issue_date"] = as_dates(base["issue_date"])
    base["cancelled_date"] = as_dates(base["cancelled_date"])
    if births is None:
        births = birth_events(tables)
    m = base[["permit_id", "couple_id", "issue_date"]].merge(
        births[["couple_id", "date", "event_id"]], on="couple_id", how="inner"
    )
    m = sort_rows(m[m["date"] >= m["issue_date"]], ["permit_id", "date", "event_id"])
    first = first_of_runs(m, ["permit_id"]).set_index("permit_id")
    used_on, used_by = lookup_columns(base["permit_id"], first, ["date", "event_id"])
    base["used_on"] = as_dates(used_on)
    base["used_by"] = used_by

    trig = _quota_triggers(tables, params, base).set_index("couple_id")
    t_date, t_preg = lookup_columns(base["couple_id"], trig, ["date", "pregnancy_id"])
    t_date = as_dates(t_date)
    held_ids = set(";".join(trig["held"]).split(";")) if len(trig) else set()
    is_held = isin_keys(base["permit_id"], pd.Series(sorted(held_ids), dtype="str"))
    issued_after = t_date.notna() & (base["issue_date"] > t_date)
    derived = pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns]")
    derived = derived.mask(is_held, base["cancelled_date"].fillna(t_date))
    derived = derived.mask(issued_after, base["issue_date"])
    base["derived_cancelled_date"] = derived
    base["effective_cancelled_date"] = pd.concat([base["cancelled_date"], derived], axis=1).min(
        axis=1
    )
    base["effective_cancelled_date"] = as_dates(base["effective_cancelled_date"])
    basis = pd.Series(np.nan, index=base.index, dtype="str")
    basis = basis.mask(base["cancelled_date"].notna(), "recorded")
    basis = basis.mask(is_held & base["cancelled_date"].isna(), "termination_date")
    basis = basis.mask(
        issued_after & ~(base["cancelled_date"] < base["issue_date"]).fillna(False),
        "issued_after_cancellation",
    )
    base["cancel_basis"] = basis
    base["trigger_pregnancy_id"] = t_preg.where(is_held | issued_after)
    return sort_rows(base, ["permit_id"]).reset_index(drop=True)


def valid_permit_on(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    events: pd.DataFrame,
    date_column: str = "date",
    status: pd.DataFrame | None = None,
) -> pd.Series:
    """The first permit valid on each event's date for its couple (§3), or missing.

    Args:
        tables: uses ``permits``, ``pregnancies``, ``children``.
        params: parameters in force.
        events: a frame with ``couple_id`` and ``date_column``; its index is kept.
        date_column: the column with each event's date.
        status: a precomputed :func:`permit_status` (saves work when called repeatedly).

    Returns:
        A string Series on ``events.index``: a valid permit's id, or missing.
    """
    if status is None:
        status = permit_status(tables, params)
    ev = _prep_events(events, date_column)
    return _first_valid(status, ev, "effective_cancelled_date")


# --------------------------------------------------------------------------- §4 cases


def _labelled(column: str, codes: tuple[str, ...] | None = None) -> dict[str, tuple[str, str]]:
    """A pregnancies column's codes -> (its Chinese label, the code in words)."""
    labels = TABLES["pregnancies"].column(column).labels
    return {k: (labels[k], k.replace("_", " ")) for k in codes or labels}


# kind: (zh, en)
_EVENT_TEXT = {
    "permit_issued": ("发放生育证", "birth permit issued"),
    "permit_cancelled": ("生育证注销", "birth permit cancelled"),
    "pregnancy_detected": ("发现怀孕", "pregnancy detected"),
    **_labelled("outcome", ("birth", "termination", "miscarriage")),
}
_REASON_TEXT = _labelled("termination_reason")
_BASIS_TEXT = {
    "recorded": ("按县注销日期", "from the county's recorded date"),
    "termination_date": (
        "按引产日期（生育证表未记注销）",
        "from the termination date (no cancellation recorded)",
    ),
    "issued_after_cancellation": (
        "注销指标后发放，无效",
        "issued after the quota was cancelled: not valid",
    ),
}


# A termination's detail around its weeks, reason, county approval and facility: (zh, en)
_TERMINATION_WORDS = (
    ("（孕", "周，原因", "，县批准", "，指定机构", "）"),
    (" (", " weeks, reason ", ", county approval ", ", designated facility ", ")"),
)


def _termination_detail(tm: pd.DataFrame, weeks: pd.Series, zh: bool) -> pd.Series:
    """The detail of each termination in ``tm`` (``weeks``: its gestation as text)."""
    lang = 0 if zh else 1
    w = _TERMINATION_WORDS[lang]
    reason = tm["termination_reason"].map(
        lambda r: _REASON_TEXT.get(r, ("未填", "not given"))[lang]
    )
    return (
        w[0]
        + weeks
        + w[1]
        + reason
        + w[2]
        + _yesno(tm["county_approved"], zh)
        + w[3]
        + _yesno(tm["designated_facility"], zh)
        + w[4]
    )


def _yesno(s: pd.Series, zh: bool) -> pd.Series:
    v = s.astype("boolean").fillna(False).astype(bool)
    return pd.Series(np.where(v, "是" if zh else "yes", "否" if zh else "no"), index=s.index)


def _permit_rows(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    status: pd.DataFrame,
    cancel_from: pd.Series,
    events: pd.DataFrame,
    event_id: pd.Series,
    kind: str,
    violation: str,
    no_permit: tuple[str, str],
) -> pd.DataFrame:
    """Timeline rows of events that need a valid permit (a pregnancy, a birth).

    An event is the ``violation`` when its couple held no valid permit on its date and the date is
    on or after the couple's quota cancellation (``cancel_from``, by couple); ``no_permit`` is the
    (zh, en) detail of an event without a valid permit.
    """
    valid = valid_permit_on(tables, params, events, status=status)
    after = events["date"] >= as_dates(lookup(events["couple_id"], cancel_from))
    return pd.DataFrame(
        {
            "couple_id": events["couple_id"],
            "date": events["date"],
            "kind": kind,
            "event_id": event_id,
            "violation": np.where(valid.isna() & after.fillna(False), violation, None),
            "detail_zh": np.where(valid.isna(), no_permit[0], "（持证 " + valid.fillna("") + "）"),
            "detail_en": np.where(valid.isna(), no_permit[1], " (permit " + valid.fillna("") + ")"),
        }
    )


def case_events(tables: Mapping[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    """§4 timeline of every couple with a case: one row per event, in date order.

    Returns:
        Columns ``couple_id``, ``date``, ``kind`` (``permit_issued``,
        ``permit_cancelled``, ``pregnancy_detected``, ``birth``,
        ``termination``, ``miscarriage``), ``event_id``, ``violation`` (the
        rule codes the event breaks, ``;``-joined, or missing:
        ``unapproved_late_termination``, ``sex_selective_termination``, both
        for a sex-selective termination at or above the late threshold,
        ``out_of_plan_birth``, ``pregnancy_without_permit``), ``text_zh``,
        ``text_en``.
    """
    term = terminations(tables, params)
    bad = term[~term["is_lawful"]]
    couples = sorted(set(bad["couple_id"]))
    status = permit_status(tables, params)
    preg = table_of(tables, "pregnancies")
    preg = preg[preg["couple_id"].isin(couples)]
    births = birth_events(tables)
    births = births[births["couple_id"].isin(couples)]
    st = status[status["couple_id"].isin(couples)]
    cancel_from = (
        st.dropna(subset=["trigger_pregnancy_id"])
        .groupby("couple_id")["effective_cancelled_date"]
        .min()
    )

    parts = []
    parts.append(
        pd.DataFrame(
            {
                "couple_id": st["couple_id"],
                "date": st["issue_date"],
                "kind": "permit_issued",
                "event_id": st["permit_id"],
                "detail_zh": np.where(
                    st["cancel_basis"] == "issued_after_cancellation",
                    "（指标已注销，此证无效）",
                    "",
                ),
                "detail_en": np.where(
                    st["cancel_basis"] == "issued_after_cancellation",
                    " (quota cancelled: not valid)",
                    "",
                ),
            }
        )
    )
    canc = st[
        st["effective_cancelled_date"].notna() & (st["cancel_basis"] != "issued_after_cancellation")
    ]
    bz = canc["cancel_basis"].map(lambda b: _BASIS_TEXT.get(b, ("", ""))[0])
    be = canc["cancel_basis"].map(lambda b: _BASIS_TEXT.get(b, ("", ""))[1])
    parts.append(
        pd.DataFrame(
            {
                "couple_id": canc["couple_id"],
                "date": canc["effective_cancelled_date"],
                "kind": "permit_cancelled",
                "event_id": canc["permit_id"],
                "detail_zh": "（" + bz + "）",
                "detail_en": " (" + be + ")",
            }
        )
    )
    # Pregnancies detected and births: out of plan without a valid permit (C7, C6); a violation of
    # the case once the quota is cancelled (§4.3).
    pr = preg[["pregnancy_id", "couple_id", "detected_date"]].rename(
        columns={"detected_date": "date"}
    )
    for events, event_id, kind, violation, no_permit in (
        (
            pr,
            pr["pregnancy_id"],
            "pregnancy_detected",
            "pregnancy_without_permit",
            ("（无有效生育证）", " (no valid permit)"),
        ),
        (
            births,
            births["event_id"],
            "birth",
            "out_of_plan_birth",
            ("（无有效生育证，计划外）", " (no valid permit: out of plan)"),
        ),
    ):
        parts.append(
            _permit_rows(
                tables, params, status, cancel_from, events, event_id, kind, violation, no_permit
            )
        )
    tm = term[term["couple_id"].isin(couples)]
    weeks = tm["gestation_weeks"].astype("Int64").astype("str").fillna("?")
    # rulebook §3.9: a sex-selective termination at or above the late threshold breaks both rules,
    # C8's unapproved late termination and §4.2's sex selection (the quota cancellation): both codes
    late = tm["is_late"] & ~tm["is_lawful"]
    sex = tm["is_sex_selection"]
    viol = np.where(
        sex & late,
        "sex_selective_termination;unapproved_late_termination",
        np.where(
            sex,
            "sex_selective_termination",
            np.where(late, "unapproved_late_termination", None),
        ),
    )
    parts.append(
        pd.DataFrame(
            {
                "couple_id": tm["couple_id"],
                "date": tm["date"],
                "kind": "termination",
                "event_id": tm["pregnancy_id"],
                "violation": viol,
                "detail_zh": _termination_detail(tm, weeks, zh=True),
                "detail_en": _termination_detail(tm, weeks, zh=False),
            }
        )
    )
    out = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else None
    )
    cols = ["couple_id", "date", "kind", "event_id", "violation", "text_zh", "text_en"]
    if out is None:
        return pd.DataFrame(
            {c: pd.Series([], dtype="datetime64[ns]" if c == "date" else "str") for c in cols}
        )
    if "violation" not in out:
        out["violation"] = np.nan
    out["date"] = as_dates(out["date"])
    out["violation"] = out["violation"].astype("str").where(out["violation"].notna())
    kz = out["kind"].map(lambda k: _EVENT_TEXT[k][0])
    ke = out["kind"].map(lambda k: _EVENT_TEXT[k][1])
    ds = out["date"].dt.strftime("%Y-%m-%d")
    out["text_zh"] = ds + " " + kz + " " + out["event_id"] + out["detail_zh"].fillna("")
    out["text_en"] = ds + " " + ke + " " + out["event_id"] + out["detail_en"].fillna("")
    order = {
        k: i
        for i, k in enumerate(
            [
                "permit_issued",
                "pregnancy_detected",
                "termination",
                "miscarriage",
                "birth",
                "permit_cancelled",
            ]
        )
    }
    out["_o"] = out["kind"].map(order)
    out = out.sort_values(["couple_id", "date", "_o", "event_id"], kind="stable").reset_index(
        drop=True
    )
    return out[cols]


_ACTIONS = {
    "unapproved_late_termination": (
        "上报县计生部门查处违规大月份引产，并按责任追究制度追究单位责任",
        "report the unapproved late termination to the county for investigation and hold the "
        "unit accountable",
    ),
    "sex_selective_termination": (
        "上报县计生部门查处非医学需要的选择性别终止妊娠",
        "report the non-medical sex-selective termination to the county",
    ),
    "cancel_quota": (
        "报县注销其生育指标（生育证），不再安排生育指标",
        "report the couple to the county to cancel the birth quota (permit); no new quota is "
        "arranged",
    ),
    "confirm_cancellation": (
        "生育证表未记录注销：核实县里的注销决定并补录注销日期",
        "the permits table records no cancellation: confirm the county's decision and record "
        "its date",
    ),
    "out_of_plan": (
        "注销指标后的怀孕、生育属计划外，上报给予行政和经济处罚",
        "pregnancies and births after the cancellation are out of plan: report them for "
        "administrative and economic penalties",
    ),
}


def case_list(tables: Mapping[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    """§4.4: one row per couple with a case, its timeline, violation and the bureau's action.

    A couple has a case when it has an unlawful termination (late and not
    approved or not at a designated facility, or for sex selection at any
    gestation) and a responsible unit on its first violation's date (a couple
    outside the bureau's scope has none). A sex-selective termination at or
    above the late threshold carries both violations and both actions
    (rulebook §3.9). Names are the persons' full names:
    mask them with :func:`fpanalysis.core.privacy.mask_frame` before anything
    leaves the package (rulebook §7).

    Returns:
        Columns :data:`CASE_COLUMNS`, sorted by ``couple_id``.
    """
    ev = case_events(tables, params)
    if ev.empty:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in CASE_COLUMNS})
    status = permit_status(tables, params)
    v = ev.dropna(subset=["violation"])
    first = v.groupby("couple_id")["date"].min().rename("first_date").reset_index()
    first = responsible_units(tables, params, first, "first_date")
    first = first[first["responsible_unit_id"].notna()]
    keep = first["couple_id"]
    out = first[["couple_id", "wife_id", "husband_id", "first_date"]].rename(columns={})
    out["unit_id"] = first["responsible_unit_id"]
    out = with_names(tables, out)
    v = v[v["couple_id"].isin(keep)]
    v = v.assign(violation=v["violation"].str.split(";")).explode("violation")  # one code a row
    kinds = v.groupby("couple_id")["violation"].agg(lambda s: ";".join(sorted(set(s))))
    out["violations"] = out["couple_id"].map(kinds)
    counts = v.groupby(["couple_id", "violation"]).size().unstack(fill_value=0)
    for code, col in (
        ("out_of_plan_birth", "out_of_plan_births"),
        ("pregnancy_without_permit", "pregnancies_without_permit"),
    ):
        out[col] = (
            out["couple_id"]
            .map(counts[code] if code in counts else pd.Series(dtype="int64"))
            .fillna(0)
            .astype("int64")
        )
    st = status.dropna(subset=["trigger_pregnancy_id"])
    held = st[st["cancel_basis"] != "issued_after_cancellation"]
    cf = held.groupby("couple_id")["effective_cancelled_date"].min()
    out["quota_cancelled_from"] = as_dates(lookup(out["couple_id"], cf))
    basis = held.sort_values(
        ["couple_id", "effective_cancelled_date", "permit_id"]
    ).drop_duplicates("couple_id")
    out["cancellation_basis"] = out["couple_id"].map(basis.set_index("couple_id")["cancel_basis"])
    ev = ev[ev["couple_id"].isin(keep)]
    out["timeline_zh"] = out["couple_id"].map(ev.groupby("couple_id")["text_zh"].agg("；".join))
    out["timeline_en"] = out["couple_id"].map(ev.groupby("couple_id")["text_en"].agg("; ".join))

    has = {code: out["violations"].str.contains(code, regex=False) for code in _ACTIONS}
    has["cancel_quota"] = out["quota_cancelled_from"].notna()
    has["confirm_cancellation"] = out["cancellation_basis"] == "termination_date"
    has["out_of_plan"] = (out["out_of_plan_births"] + out["pregnancies_without_permit"]) > 0
    az = pd.Series("", index=out.index)
    ae = pd.Series("", index=out.index)
    for code in (
        "unapproved_late_termination",
        "sex_selective_termination",
        "cancel_quota",
        "confirm_cancellation",
        "out_of_plan",
    ):
        flag = has[code].fillna(False).astype(bool)
        z, e = _ACTIONS[code]
        az = az.where(~flag, az + np.where(az == "", "", "；") + z)
        ae = ae.where(~flag, ae + np.where(ae == "", "", "; ") + e)
    out["action_zh"] = az
    out["action_en"] = ae
    return out.sort_values("couple_id", kind="stable").reset_index(drop=True)[CASE_COLUMNS]
