"""Reading the register as typed frames: the rounds, the last round in force of a kind (latest
as-of date or period end, then sequence; superseded rounds excluded; once a relief round has
been approved, only approved relief rounds count), a round's households, units and
accountability lines, a household's history, the units' grades, the previous relief selection
a review starts from (rulebook §3, §6), and the check of the seals. A household numbered by an
ID number is looked up by its keyed hash (rulebook §7)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa

from fpanalysis.register.connection import Database
from fpanalysis.register.errors import RegisterError, no_round
from fpanalysis.register.keys import PREFIX, protect, register_key, reveal
from fpanalysis.register.keys import stored_keys as keys_as_stored
from fpanalysis.register.seals import Verification, verify
from fpanalysis.register.tables import INDICATOR_COUNTS, INDICATOR_RATES, T

KINDS = ("relief", "compliance")

ROUND_COLUMNS = [
    "round_id",
    "seq",
    "kind",
    "as_of",
    "period",
    "recorded_at",
    "package_version",
    "params_sha256",
    "supersedes",
    "superseded_by",
    "note",
    "params_json",
    "override_text",
    "inputs_json",
    "options_json",
    "stage",
]
#: the stages of a relief round (rulebook §6): ranked, decided by the committee, its notice
#: posted, approved; a compliance round has none
STAGES = ("proposed", "decided", "noticed", "approved")
HISTORY_COLUMNS = [
    "round_id",
    "as_of",
    "rank",
    "tier",
    "fp_type",
    "selected",
    "entitlement_yuan",
    "reason_zh",
    "reason_en",
    "params_sha256",
    "listed",
    "eligible",
    "selection",
    "review_due",
    "next_review_date",
    "supersedes",
    "superseded_by",
    "note",
    "stage",
    "decision",
    "decision_reason",
]
#: the history's columns taken from the round (the others come from the household's row)
_HISTORY_ROUND_COLUMNS = [
    "round_id",
    "as_of",
    "params_sha256",
    "supersedes",
    "superseded_by",
    "note",
    "stage",
]
GRADE_COLUMNS = ["unit_id", "round_id", "period", "score", "grade", "veto", "superseded_by"]


def period_bounds(label: str | None) -> tuple[str, str]:
    """Sortable (end, start) of a period label.

    Examples:
        >>> period_bounds("2024"), period_bounds("2024H1")
        (('2024-12-31', '2024-01-01'), ('2024-06-30', '2024-01-01'))
    """
    if not label:
        return ("", "")
    y = label[:4]
    if label.endswith("H1"):
        return (f"{y}-06-30", f"{y}-01-01")
    if label.endswith("H2"):
        return (f"{y}-12-31", f"{y}-07-01")
    return (f"{y}-12-31", f"{y}-01-01")


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise RegisterError(
            f"轮次类别应为 {KINDS}",
            f"the round kind must be one of {KINDS}",
            value=kind,
            rule="kind",
        )


# --------------------------------------------------------------------------- typing


def as_text(df: pd.DataFrame, columns: Iterable[str]) -> None:
    """Columns as Python strings, missing values kept missing (in place)."""
    for c in columns:
        df[c] = df[c].astype("str").where(df[c].notna())


def _as_nullable(df: pd.DataFrame, columns: Iterable[str], kind: type, dtype: str) -> None:
    for c in columns:
        df[c] = pd.array([None if v is None or pd.isna(v) else kind(v) for v in df[c]], dtype=dtype)


def _as_dates(df: pd.DataFrame, columns: Iterable[str]) -> None:
    for c in columns:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")


def _as_float(values: pd.Series) -> pd.Series:
    """Exact decimals (stored with 2 places) as the scorecard shows them."""
    return values.map(lambda v: None if v is None else float(v)).astype("float64")


def _typed_relief(df: pd.DataFrame) -> pd.DataFrame:
    _as_nullable(
        df,
        (
            "rank",
            "size",
            "income_fen",
            "tier",
            "per_capita_income_fen",
            "standard_fen",
            "entitlement_yuan",
            "review_months",
        ),
        int,
        "Int64",
    )
    _as_nullable(df, ("eligible", "selected", "review_due", "incumbent"), bool, "boolean")
    _as_dates(df, ("application_date", "last_review_date", "next_review_date"))
    as_text(
        df,
        (
            "round_id",
            "household_id",
            "pool",
            "area",
            "township",
            "tier_basis",
            "fp_type",
            "selection",
            "reason_zh",
            "reason_en",
        ),
    )
    return df.reset_index(drop=True)


def _typed_units(df: pd.DataFrame) -> pd.DataFrame:
    for c in INDICATOR_RATES:
        df[c] = df[c].astype("float64")
    _as_nullable(df, INDICATOR_COUNTS, int, "Int64")
    df["score"] = _as_float(df["score"])
    df["veto"] = df["veto"].astype(bool)
    as_text(df, ("round_id", "unit_id", "period", "grade"))
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- queries


def _read(db: Database, stmt: Any, columns: list[str]) -> pd.DataFrame:
    with db.transaction(write=False) as (conn, _):
        if conn is None:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        res = conn.execute(stmt)
        return pd.DataFrame([tuple(x) for x in res.all()], columns=list(res.keys()))


def _rows_of(db: Database, table: str, where: Any, order: Any = None) -> pd.DataFrame:
    """Every column of ``table``'s rows matching ``where`` (None: all), in ``order``."""
    t = T[table]
    stmt = sa.select(t)
    if where is not None:
        stmt = stmt.where(where(t))
    if order is not None:
        stmt = stmt.order_by(order(t))
    return _read(db, stmt, [c.name for c in t.columns])


def rounds(db: Database, kind: str | None = None) -> pd.DataFrame:
    """Every recorded round (of ``kind`` when given), in recording order (``seq``).

    ``superseded_by`` names the round that corrected it (empty when in force). ``stage``
    (relief rounds, rulebook §6): ``proposed`` (as ranked; also every round recorded before
    the register knew stages), ``decided`` (the committee's decisions), ``noticed`` (decided,
    and its public notice recorded) or ``approved``; empty for compliance rounds.
    """
    r = T["rounds"]
    cols = [c for c in ROUND_COLUMNS if c != "superseded_by"]
    stmt = sa.select(*[r.c[c] for c in cols]).order_by(r.c.seq)
    if kind is not None:
        check_kind(kind)
        stmt = stmt.where(r.c.kind == kind)
    df = _read(db, stmt, cols)
    noticed = set(_read(db, sa.select(T["relief_notices"].c.round_id), ["round_id"])["round_id"])
    df["stage"] = [
        ("noticed" if st == "decided" and rid in noticed else st)
        if isinstance(st, str)
        else "proposed"
        if k == "relief"
        else None
        for rid, k, st in zip(df["round_id"], df["kind"], df["stage"], strict=True)
    ]
    by = {s: r for s, r in zip(df["supersedes"], df["round_id"], strict=True) if isinstance(s, str)}
    df["superseded_by"] = df["round_id"].map(by) if len(df) else pd.Series(dtype="object")
    df = df[ROUND_COLUMNS]
    df["seq"] = df["seq"].astype("int64")
    df["as_of"] = pd.to_datetime(df["as_of"]).astype("datetime64[ns]")
    as_text(df, [c for c in ROUND_COLUMNS if c not in ("seq", "as_of")])
    return df.reset_index(drop=True)


def _in_force(db: Database, kind: str) -> pd.DataFrame:
    """Rounds of ``kind`` not superseded, oldest first by as-of date / period end, then seq.

    Columns: :data:`ROUND_COLUMNS`.
    """
    df = rounds(db, kind)
    df = df[df["superseded_by"].isna()].copy()
    if kind == "relief":
        df["_k"] = df["as_of"].dt.strftime("%Y-%m-%d")
        df["_k2"] = ""
    else:
        b = df["period"].map(period_bounds)
        df["_k"] = b.map(lambda x: x[0])
        df["_k2"] = b.map(lambda x: x[1])
    df = df.sort_values(["_k", "_k2", "seq"], kind="stable").drop(columns=["_k", "_k2"])
    return df.reset_index(drop=True)


def _before_round(db: Database, df: pd.DataFrame, kind: str, before: str) -> pd.DataFrame:
    """The rounds of ``df`` that come before round ``before`` (as-of / period, then seq)."""
    allr = rounds(db).set_index("round_id")
    if before not in allr.index:
        raise no_round(db.where, before)
    b = allr.loc[before]
    if b["kind"] != kind:
        raise RegisterError(
            f"轮次 {before} 是 {b['kind']}，不是 {kind}",
            f"round {before} is a {b['kind']} round, not {kind}",
            file=db.where,
            value=before,
            rule="round-id",
        )
    if kind == "relief":
        key_b = (b["as_of"].strftime("%Y-%m-%d"), "", int(b["seq"]))
        keys = [
            (a.strftime("%Y-%m-%d"), "", int(s))
            for a, s in zip(df["as_of"], df["seq"], strict=True)
        ]
    else:
        key_b = (*period_bounds(b["period"]), int(b["seq"]))
        keys = [(*period_bounds(p), int(s)) for p, s in zip(df["period"], df["seq"], strict=True)]
    keep = [k < key_b for k in keys]
    return df[pd.Series(keep, index=df.index, dtype=bool) & df["round_id"].ne(before)]


def last_round(
    db: Database, kind: str, before: str | None = None, as_of: Any = None
) -> dict[str, Any] | None:
    """The last round of ``kind`` in force (not superseded), or None.

    A relief round that went through the committee's procedure wins over proposals: when
    the rounds considered include an approved one, the last *approved* round is the one in
    force (a later proposal, or a decision not yet approved, does not change who receives
    relief). A register whose rounds were never approved works as before: the last round
    in force, proposal or not (a bureau that does not record the procedure).

    Args:
        kind: ``relief`` or ``compliance``.
        before: a round id: the last round in force that comes before it (by
            as-of date / period, then sequence), that round itself excluded.
            Used when recording a correction of ``before`` (its "previous
            round" is the one before the round it corrects).
        as_of: only rounds dated strictly before this date (relief: as-of
            date; compliance: period end): "before" a period is a round
            of an earlier date, never one of the same date.
    """
    check_kind(kind)
    df = _in_force(db, kind)
    if as_of is not None:
        day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
        if kind == "relief":
            df = df[df["as_of"].dt.strftime("%Y-%m-%d").lt(day)]
        else:
            df = df[df["period"].map(lambda p: period_bounds(p)[0]).lt(day)]
    if before is not None:
        df = _before_round(db, df, kind, before)
    if kind == "relief" and df["stage"].eq("approved").any():
        df = df[df["stage"].eq("approved")]
    if df.empty:
        return None
    return df.iloc[-1].to_dict()


def relief_rows(db: Database, round_id: str) -> pd.DataFrame:
    """The households of a relief round, as recorded (sorted by household id).

    Money: ``income_fen``, ``standard_fen``, ``per_capita_income_fen`` integer
    fen; ``entitlement_yuan`` whole yuan (rulebook §6 rounds it up).
    """
    df = _rows_of(db, "relief_rows", lambda t: t.c.round_id == round_id, lambda t: t.c.household_id)
    return _typed_relief(df)


def compliance_units(db: Database, round_id: str) -> pd.DataFrame:
    """The units of a compliance round (by unit id); ``score`` as recorded (2 decimals)."""
    df = _rows_of(db, "compliance_units", lambda t: t.c.round_id == round_id, lambda t: t.c.unit_id)
    return _typed_units(df)


def compliance_accountability(db: Database, round_id: str) -> pd.DataFrame:
    """The accountability rows of a compliance round, in recorded order (keys, no names)."""
    df = _rows_of(
        db, "compliance_accountability", lambda t: t.c.round_id == round_id, lambda t: t.c.line
    )
    _as_dates(df, ("date",))
    df["line"] = df["line"].astype("int64")
    df["veto"] = df["veto"].astype(bool)
    df["penalty"] = _as_float(df["penalty"])
    as_text(
        df,
        (
            "round_id",
            "rule",
            "event_id",
            "couple_id",
            "wife_id",
            "husband_id",
            "unit_id",
            "reason_zh",
            "reason_en",
        ),
    )
    return df.reset_index(drop=True)


def household_history(db: Database, household_id: str) -> pd.DataFrame:
    """One row per recorded relief round for one household (rulebook §6 动态管理).

    Columns: ``round_id``, ``as_of``, ``rank``, ``tier``, ``fp_type``,
    ``selected``, ``entitlement_yuan``, ``reason_zh``, ``reason_en``,
    ``params_sha256``, then ``listed`` (False: the household was not in that
    round's data, and the reason says so), ``eligible``, ``selection``,
    ``review_due``, ``next_review_date``, ``supersedes``, ``superseded_by``,
    ``note``, and the committee's procedure (rulebook §6): the round's ``stage``, the
    committee's ``decision`` on the household in a decided round (``confirm``, ``reject``,
    ``change_tier``, ``admit``) and its ``decision_reason``. Every round is shown,
    superseded ones included (they are part of the record: a proposal and the decision
    that superseded it show the proposed and the decided status); sorted by as-of date,
    then recording order.
    """
    rounds_ = rounds(db, "relief")
    rounds_ = rounds_.sort_values(["as_of", "seq"], kind="stable").reset_index(drop=True)
    t = T["relief_rows"]
    stored = str(household_id)
    with db.transaction(write=False) as (conn, _):
        if conn is None:
            found = pd.DataFrame({c.name: pd.Series(dtype="object") for c in t.columns})
        else:  # stored as its keyed hash when it is an ID number
            stored = protect(stored, register_key(conn))
            res = conn.execute(sa.select(t).where(t.c.household_id == stored))
            found = pd.DataFrame([tuple(x) for x in res.all()], columns=list(res.keys()))
    rows = _typed_relief(found).set_index("round_id")
    out = rounds_[_HISTORY_ROUND_COLUMNS].copy()
    listed = out["round_id"].isin(rows.index)
    for c in HISTORY_COLUMNS:
        if c in _HISTORY_ROUND_COLUMNS or c in ("listed", "decision", "decision_reason"):
            continue
        out[c] = rows[c].reindex(out["round_id"]).to_numpy()
        out[c] = out[c].astype(rows[c].dtype)
    out["listed"] = listed.astype(bool)
    d = T["relief_decisions"]
    dec = _read(
        db,
        sa.select(d.c.round_id, d.c.decision, d.c.reason).where(d.c.household_id == stored),
        ["round_id", "decision", "reason"],
    ).set_index("round_id")
    out["decision"] = dec["decision"].reindex(out["round_id"]).to_numpy()
    out["decision_reason"] = dec["reason"].reindex(out["round_id"]).to_numpy()
    as_text(out, ("decision", "decision_reason"))
    out.loc[~listed, "reason_zh"] = "本轮数据中没有此户（未申请、迁出或死亡）"
    out.loc[~listed, "reason_en"] = "not listed in this round's data (not applying, moved or died)"
    return out[HISTORY_COLUMNS].reset_index(drop=True)


def unit_grades(db: Database, unit_id: str | None = None) -> pd.DataFrame:
    """Each unit's score, grade and veto over the recorded compliance rounds (rulebook §3).

    One row per (unit, round), sorted by unit, then period end, then recording order.
    """
    rounds_ = rounds(db, "compliance")
    where = None if unit_id is None else (lambda t: t.c.unit_id == str(unit_id))
    units = _typed_units(_rows_of(db, "compliance_units", where))
    df = units.merge(rounds_[["round_id", "seq", "superseded_by"]], on="round_id", how="left")
    b = df["period"].map(period_bounds)
    df["_k"] = b.map(lambda x: x[0]).astype("str")
    df["_k2"] = b.map(lambda x: x[1]).astype("str")
    df = df.sort_values(["unit_id", "_k", "_k2", "seq"], kind="stable")
    return df[GRADE_COLUMNS].reset_index(drop=True)


def previous_selection(
    db: Database,
    before: str | None = None,
    as_of: Any = None,
    known: Iterable[Any] | None = None,
    more_known: Callable[[str | None], Iterable[Any]] | None = None,
) -> tuple[pd.DataFrame | None, str | None]:
    """The last relief round in force (see :func:`last_round`) as a review's previous round.

    Returns :func:`fpanalysis.rules.relief.review`'s ``previous_round`` (``household_id``,
    ``selected``, ``tier``, ``income_fen``, ``area``, ``township``) and its round id;
    ``(None, None)`` when none is recorded. ``known``: this round's household ids; a
    household stored as the keyed hash of its ID number gets its id back when it is
    among them (the others keep the hash). ``more_known``: called with the round's
    ``inputs_json`` when some keep it after ``known`` (households that have left since), it
    gives more ids (those of the dataset the round read:
    :func:`fpanalysis.io.recorded.recorded_households`); called outside the register's
    transaction.
    """
    last = last_round(db, "relief", before=before, as_of=as_of)
    if last is None:
        return None, None
    t = T["relief_rows"]
    with db.transaction(write=False) as (conn, _):  # the key and the rows in one transaction
        res = conn.execute(
            sa.select(t).where(t.c.round_id == last["round_id"]).order_by(t.c.household_id)
        )
        rows = _typed_relief(pd.DataFrame([tuple(x) for x in res.all()], columns=list(res.keys())))
        key = register_key(conn)
    if known is not None:
        rows["household_id"] = reveal(rows["household_id"], known, key)
    if more_known is not None and rows["household_id"].astype(str).str.startswith(PREFIX).any():
        rows["household_id"] = reveal(
            rows["household_id"], more_known(last.get("inputs_json")), key
        )
    cols = ["household_id", "selected", "tier", "income_fen", "area", "township"]
    return rows[cols].reset_index(drop=True), last["round_id"]


def check_seals(db: Database) -> Verification:
    """Recompute every round's seal and the chain (:func:`fpanalysis.register.seals.verify`)."""
    with db.transaction(write=False) as (conn, _):
        if conn is None:
            return Verification()
        return verify(conn)


def seal_of(db: Database, round_id: str) -> str | None:
    """The chained seal of a recorded round (what to note in the minutes), or None."""
    s = T["round_seals"]
    with db.transaction(write=False) as (conn, _):
        if conn is None:
            return None
        return conn.execute(sa.select(s.c.chain_sha256).where(s.c.round_id == round_id)).scalar()


def stored_keys(db: Database, values: Iterable[Any]) -> list[Any]:
    """Household or unit ids as the register stores them: an ID number as its keyed hash
    (:func:`fpanalysis.register.keys.protect`), any other id as itself (rulebook §7)."""
    values = list(values)
    with db.transaction(write=False) as (conn, _):
        if conn is None:
            return values
        return keys_as_stored(values, register_key(conn))
