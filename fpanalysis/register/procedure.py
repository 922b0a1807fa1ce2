"""The committee's procedure in the register (rulebook §6): a relief round's proposal decided by
the democratic appraisal meeting (a new round that supersedes it, with each household's proposed
and decided status), its public notice, the objections raised during it and their outcomes, and
the approval (a last round that supersedes the decided one, without the households whose
objection was upheld). Every step is appended in one transaction and refused, with nothing
written, when the round is not at the stage it needs; each is sealed into the register's chain
(:mod:`fpanalysis.register.seals`), and a household numbered by an ID number is stored as its
keyed hash (:mod:`fpanalysis.register.keys`, rulebook §7)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from fpanalysis.register.connection import Database
from fpanalysis.register.errors import ProcedureError, RegisterError, no_round, stage_error
from fpanalysis.register.keys import protect, protect_row, register_key
from fpanalysis.register.read import as_text, rounds
from fpanalysis.register.seals import record_key, seal_record, seal_round
from fpanalysis.register.tables import T
from fpanalysis.register.write import insert_round, recording_time
from fpanalysis.rules.relief import (
    DECISION_LABELS,
    REJECTED,
    WITHDRAWN,
    approval_problems,
    notice_period,
    objection_problems,
)

NOTICE_COLUMNS = ["round_id", "notice_no", "first_day", "last_day", "days", "place", "recorded_at"]
OBJECTION_COLUMNS = [
    "round_id",
    "objection_id",
    "household_id",
    "raised_on",
    "text",
    "outcome",
    "closed_on",
    "outcome_reason",
]


def _frame(conn: sa.Connection | None, stmt: Any, columns: list[str]) -> pd.DataFrame:
    if conn is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    res = conn.execute(stmt)
    return pd.DataFrame([tuple(x) for x in res.all()], columns=list(res.keys()))


def _fail(zh: str, en: str, value: Any, rule: str, where: str | None = None) -> ProcedureError:
    return ProcedureError(zh, en, file=where, value=value, rule=rule)


def _round(conn: sa.Connection, where: str, round_id: str) -> dict[str, Any]:
    """The ``rounds`` row of a relief round, with ``stage`` and ``superseded_by``."""
    r = T["rounds"]
    row = conn.execute(sa.select(r).where(r.c.round_id == round_id)).mappings().first()
    if row is None:
        raise no_round(where, round_id)
    if row["kind"] != "relief":
        raise RegisterError(
            f"轮次 {round_id} 不是低保轮次",
            f"round {round_id} is not a relief round",
            file=where,
            value=round_id,
            rule="round-id",
        )
    out = dict(row)
    out["stage"] = out.get("stage") or "proposed"
    by = conn.execute(sa.select(r.c.round_id, r.c.stage).where(r.c.supersedes == round_id)).first()
    out["superseded_by"] = None if by is None else by.round_id
    out["superseded_stage"] = None if by is None else (by.stage or "proposed")
    return out


def _decided(conn: sa.Connection, where: str, round_id: str) -> dict[str, Any]:
    """A decided round not yet approved (for a notice, an objection, an approval)."""
    row = _round(conn, where, round_id)
    stage, by = row["stage"], row["superseded_by"]
    if stage == "decided" and by is None:
        return row
    later = row["superseded_stage"]
    if stage == "decided" and later == "approved":
        zh, en = f"轮次 {round_id} 已审批（{by}）", f"round {round_id} is already approved ({by})"
    elif stage == "proposed" and later == "decided":
        zh = f"轮次 {round_id} 是方案，已评议为 {by}：请用 --round {by}"
        en = f"round {round_id} is a proposal decided as {by}: use --round {by}"
    elif stage == "proposed" and by is None:
        zh = f"轮次 {round_id} 还没有评议（先用 fpanalysis decide 读回评议结果）"
        en = (
            f"round {round_id} is not decided yet (read the meeting's decisions with "
            "fpanalysis decide first)"
        )
    elif stage == "approved":
        zh = f"轮次 {round_id} 是审批后的名单，已经办结"
        en = f"round {round_id} is an approved list: the procedure is closed"
    else:
        zh, en = f"轮次 {round_id} 已被 {by} 更正", f"round {round_id} was superseded by {by}"
    raise stage_error(where, round_id, zh, en)


def _rows(conn: sa.Connection, round_id: str) -> list[dict[str, Any]]:
    t = T["relief_rows"]
    stmt = sa.select(t).where(t.c.round_id == round_id).order_by(t.c.household_id)
    return [dict(m) for m in conn.execute(stmt).mappings().all()]


def _next_round(
    conn: sa.Connection,
    where: str,
    base: Mapping[str, Any],
    rows: list[dict[str, Any]],
    *,
    stage: str,
    options: Mapping[str, Any],
    note: str | None,
) -> str:
    """Record a round that supersedes ``base``: its parameters and inputs, ``rows``, ``stage``."""
    opts = json.loads(base.get("options_json") or "{}")
    opts.update(options)
    values = {
        "as_of": base["as_of"],
        "period": None,
        "params_json": base["params_json"],
        "params_sha256": base["params_sha256"],
        "inputs_json": base["inputs_json"],
        "override_text": base.get("override_text"),
        "options_json": json.dumps(opts, sort_keys=True, ensure_ascii=False, default=str),
        "note": note,
        "stage": stage,
    }
    label = pd.Timestamp(base["as_of"]).date().isoformat()
    rid = insert_round(conn, where, "relief", label, values, supersedes=base["round_id"])
    if rows:
        key = register_key(conn)
        stored = [protect_row("relief_rows", {**r, "round_id": rid}, key) for r in rows]
        conn.execute(T["relief_rows"].insert(), stored)
    return rid


def _append(row: dict[str, Any], zh: str, en: str) -> None:
    row["reason_zh"] = (row.get("reason_zh") or "") + zh
    row["reason_en"] = (row.get("reason_en") or "") + en


def _apply(row: dict[str, Any], d: Mapping[str, Any]) -> None:
    """One household's row of the decided round: the committee's decision applied."""
    code, reason = d["decision"], d.get("reason") or ""
    why_zh = f"（{reason}）" if reason else ""
    why_en = f" ({reason})" if reason else ""
    if code == "reject":
        row["selected"], row["selection"] = False, REJECTED
        _append(row, f"；民主评议：不同意{why_zh}", f"; committee: rejected{why_en}")
    elif code == "change_tier":
        old, new = row.get("tier"), int(d["decided_tier"])
        row["tier"], row["tier_basis"] = new, "committee"
        _append(
            row,
            f"；民主评议：档次由 {old} 调整为 {new}{why_zh}",
            f"; committee: tier changed from {old} to {new}{why_en}",
        )
    elif code == "admit":
        row["selected"], row["selection"] = True, "admitted"
        over = d.get("passes_over") or ""
        _append(
            row,
            f"；民主评议：补充纳入{why_zh}" + (f"，越过 {over.replace(' ', '、')}" if over else ""),
            f"; committee: admitted out of rank order{why_en}"
            + (f", passing over {over.replace(' ', ', ')}" if over else ""),
        )
    elif reason:
        _append(row, f"；民主评议：同意{why_zh}", f"; committee: confirmed{why_en}")


def record_decision(
    db: Database,
    proposal_round_id: str,
    decided: pd.DataFrame,
    *,
    options: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> str:
    """Record the committee's decisions on a proposal as a round that supersedes it.

    Args:
        proposal_round_id: the proposal (a round as ``relief --record`` recorded it).
        decided: :func:`fpanalysis.rules.relief.apply_decisions`'s table (checked).
        options: kept with the round besides the proposal's (``over_quota_reason``).
        note: free text.

    Returns:
        The decided round's id. Its households are the proposal's with each decision
        applied (``selection`` ``rejected`` for a household turned down, ``tier_basis``
        ``committee`` for a tier the committee changed, the reason extended); the
        ``relief_decisions`` table keeps every listed household's proposed and decided
        status and tier, the committee's reason and the households an out-of-order
        admission passed over.

    Raises:
        ProcedureError: the round is not a proposal, or already decided or superseded.
    """
    with db.transaction(write=True) as (conn, _):
        key = register_key(conn)  # a household numbered by its ID number: its keyed hash
        by_id = {protect(str(r["household_id"]), key): r for r in decided.to_dict("records")}
        base = _round(conn, db.where, proposal_round_id)
        if base["stage"] != "proposed" or base["superseded_by"] is not None:
            what = base["superseded_by"] or base["stage"]
            raise _fail(
                f"轮次 {proposal_round_id} 不是待评议的方案（{what}）",
                f"round {proposal_round_id} is not a proposal awaiting decision ({what})",
                proposal_round_id,
                "round-stage",
                db.where,
            )
        rows = _rows(conn, proposal_round_id)
        for row in rows:
            row.pop("round_id", None)
            if row["household_id"] in by_id:
                _apply(row, by_id[row["household_id"]])
        opts = {"stage": "decided", "decides": proposal_round_id, **dict(options or {})}
        rid = _next_round(conn, db.where, base, rows, stage="decided", options=opts, note=note)
        recs = [
            protect_row(
                "relief_decisions",
                {
                    "round_id": rid,
                    "proposal_round_id": proposal_round_id,
                    "household_id": h,
                    "sheet": d.get("sheet"),
                    "cell": d.get("cell"),
                    "pool": d.get("pool"),
                    "rank": None if pd.isna(d.get("rank")) else int(d["rank"]),
                    "proposed_selected": bool(d["proposed_selected"]),
                    "proposed_selection": str(d["proposed_selection"]),
                    "proposed_tier": None
                    if pd.isna(d.get("proposed_tier"))
                    else int(d["proposed_tier"]),
                    "decision": d["decision"],
                    "decided_selected": bool(d["decided_selected"]),
                    "decided_tier": None
                    if pd.isna(d.get("decided_tier"))
                    else int(d["decided_tier"]),
                    "reason": d.get("reason") or None,
                    "passes_over": d.get("passes_over") or None,
                },
                key,
            )
            for h, d in sorted(by_id.items())
        ]
        if recs:
            conn.execute(T["relief_decisions"].insert(), recs)
        seal_round(conn, rid)  # the decided round with its decisions
    return rid


def _notices(conn: sa.Connection | None, round_id: str) -> pd.DataFrame:
    n = T["relief_notices"]
    stmt = sa.select(n).where(n.c.round_id == round_id).order_by(n.c.notice_no)
    return _frame(conn, stmt, NOTICE_COLUMNS)


def _objection_events(conn: sa.Connection | None, round_id: str) -> pd.DataFrame:
    o = T["relief_objections"]
    stmt = sa.select(o).where(o.c.round_id == round_id).order_by(o.c.objection_id, o.c.recorded_at)
    return _frame(conn, stmt, [c.name for c in o.columns])


def record_notice(
    db: Database, round_id: str, first_day: Any, days: int, place: str | None
) -> tuple[int, bool]:
    """Record the public notice of a decided round: its first day, its days and where to object.

    Returns ``(notice number, recorded now)``: a notice the same as the last one recorded
    (same first day, days and place) is not recorded again; another one is (a notice
    posted again: the period then runs from its first day).

    Raises:
        ProcedureError: the round is not decided, already approved, or the first day is
            before the round's as-of date.
    """
    first, last = notice_period(first_day, days)
    with db.transaction(write=True) as (conn, _):
        row = _decided(conn, db.where, round_id)
        as_of = pd.Timestamp(row["as_of"]).date()
        if first < as_of:
            raise _fail(
                f"公示首日 {first} 早于本轮基准日 {as_of}",
                f"the notice's first day {first} is before the round's as-of date {as_of}",
                str(first),
                "notice-date",
                db.where,
            )
        old = _notices(conn, round_id)
        if len(old):
            x = old.iloc[-1]
            same = (
                pd.Timestamp(x["first_day"]).date() == first
                and int(x["days"]) == int(days)
                and (x["place"] or None) == (place or None)
            )
            if same:
                return int(x["notice_no"]), False
        no = int(old["notice_no"].max()) + 1 if len(old) else 1
        values = {
            "round_id": round_id,
            "notice_no": no,
            "first_day": first,
            "last_day": last,
            "days": int(days),
            "place": place,
        }
        _insert(conn, "relief_notices", values, seal=round_id)
    return no, True


def _household_in(conn: sa.Connection, where: str, round_id: str, household_id: str) -> None:
    t = T["relief_rows"]
    hit = conn.execute(
        sa.select(t.c.household_id).where(
            t.c.round_id == round_id, t.c.household_id == household_id
        )
    ).first()
    if hit is None:
        raise _fail(
            f"户 {household_id} 不在轮次 {round_id} 中",
            f"household {household_id} is not in round {round_id}",
            household_id,
            "household-not-in-round",
            where,
        )


def _problem(p: Any, where: str) -> ProcedureError:
    return ProcedureError(p.message_zh, p.message_en, file=where, value=p.value, rule=p.rule)


def record_objection(
    db: Database,
    round_id: str,
    household_id: str,
    date: Any,
    text: str,
    *,
    outcome: str | None = None,
    outcome_reason: str | None = None,
) -> str:
    """Record an objection to a household of a decided round during its notice; return its id.

    With ``outcome`` (``upheld`` or ``rejected``) and its reason the objection is closed on
    the same day. Ids are ``O001``, ``O002``, ... within the round.

    Raises:
        ProcedureError: the round is not decided and posted, the date is before the
            notice's first day, the household is not in the round.
    """
    day = pd.Timestamp(date).date()
    with db.transaction(write=True) as (conn, _):
        _decided(conn, db.where, round_id)
        household_id = protect(str(household_id), register_key(conn))
        _household_in(conn, db.where, round_id, household_id)
        events = _objection_events(conn, round_id)
        found = objection_problems(_notices(conn, round_id), events, objection_id=None, date=day)
        if found:
            raise _problem(found[0], db.where)
        raised = events.loc[events["event"].eq("raised"), "objection_id"]
        n = max([int(str(x)[1:]) for x in raised] or [0]) + 1
        oid = f"O{n:03d}"
        _insert_event(conn, round_id, oid, "raised", household_id, day, text)
        if outcome is not None:
            _insert_event(conn, round_id, oid, outcome, household_id, day, outcome_reason)
    return oid


def _insert_event(conn, round_id, oid, event, household_id, day, text) -> None:
    """Append one event of an objection (keys and texts protected) and seal it."""
    values = {
        "round_id": round_id,
        "objection_id": oid,
        "event": event,
        "household_id": household_id,
        "date": day,
        "text": text,
    }
    _insert(conn, "relief_objections", values, seal=round_id)


def _insert(
    conn: sa.Connection, table: str, values: dict[str, Any], seal: str | None = None
) -> None:
    """Append one row of a procedure table, stamped with the recording time, its keys and
    texts protected; with ``seal`` (its round) sealed as a record of that round."""
    values = {**values, "recorded_at": recording_time()}
    stored = protect_row(table, values, register_key(conn))
    conn.execute(T[table].insert().values(**stored))
    if seal is not None:
        seal_record(conn, table, seal, record_key(table, values))


def close_objection(
    db: Database, round_id: str, objection_id: str, outcome: str, date: Any, reason: str
) -> str:
    """Close an open objection as ``upheld`` or ``rejected`` on ``date``; return its household.

    Raises:
        ProcedureError: no such objection, already closed, closed before it was raised, or
            the round not at the decided stage.
    """
    day = pd.Timestamp(date).date()
    with db.transaction(write=True) as (conn, _):
        _decided(conn, db.where, round_id)
        events = _objection_events(conn, round_id)
        found = objection_problems(
            _notices(conn, round_id), events, objection_id=objection_id, date=day
        )
        if found:
            raise _problem(found[0], db.where)
        hid = str(events.loc[events["objection_id"].eq(objection_id), "household_id"].iloc[0])
        _insert_event(conn, round_id, objection_id, outcome, hid, day, reason)
    return hid


def _upheld(events: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Households whose objection was upheld: ``{household: (objection id, reason)}``."""
    up = events[events["event"].eq("upheld")]
    return {
        str(h): (o, t or "")
        for h, o, t in zip(up["household_id"], up["objection_id"], up["text"], strict=True)
    }


def _withdraw(rows: list[dict[str, Any]], upheld: Mapping[str, tuple[str, str]]) -> None:
    for row in rows:
        if row["household_id"] in upheld and row.get("selected"):
            oid, why = upheld[row["household_id"]]
            row["selected"], row["selection"] = False, WITHDRAWN
            _append(
                row,
                f"；公示期异议 {oid} 成立：{why}",
                f"; objection {oid} upheld during the notice: {why}",
            )


def approve(db: Database, round_id: str, by: str, on: Any, *, note: str | None = None) -> str:
    """Approve a decided round after its notice: record the final list as a round that
    supersedes it, without the households whose objection was upheld; return its id.

    ``by`` (the approving staff member) is kept as an audit field; outputs mask it like
    any name (rulebook §7).

    Raises:
        ProcedureError: the round is not decided, its notice not recorded or its period
            not over on ``on``, an objection still open or dated after ``on``.
    """
    day = pd.Timestamp(on).date()
    with db.transaction(write=True) as (conn, _):
        base = _decided(conn, db.where, round_id)
        events = _objection_events(conn, round_id)
        found = approval_problems(_notices(conn, round_id), events, day)
        if found:
            raise _problem(found[0], db.where)
        rows = _rows(conn, round_id)
        for row in rows:
            row.pop("round_id", None)
        _withdraw(rows, _upheld(events))
        opts = {"stage": "approved", "approves": round_id}
        rid = _next_round(conn, db.where, base, rows, stage="approved", options=opts, note=note)
        values = {
            "round_id": rid,
            "decided_round_id": round_id,
            "approved_by": by,
            "approved_on": day,
        }
        _insert(conn, "relief_approvals", values)
        seal_round(conn, rid)  # the approved round with its approval
    return rid


# --------------------------------------------------------------------------- reading


def _read(db: Database, fn: Any) -> Any:
    with db.transaction(write=False) as (conn, _):
        return fn(conn)


def decisions(db: Database, round_id: str) -> pd.DataFrame:
    """The committee's decisions recorded with a decided round (one row per listed household)."""
    d = T["relief_decisions"]
    stmt = sa.select(d).where(d.c.round_id == round_id).order_by(d.c.household_id)
    df = _read(db, lambda conn: _frame(conn, stmt, [c.name for c in d.columns]))
    for c in ("rank", "proposed_tier", "decided_tier"):
        df[c] = pd.array([None if pd.isna(v) else int(v) for v in df[c]], dtype="Int64")
    for c in ("proposed_selected", "decided_selected"):
        df[c] = df[c].astype(bool)
    return df.reset_index(drop=True)


def notices(db: Database, round_id: str) -> pd.DataFrame:
    """The notices recorded for a decided round, oldest first (:data:`NOTICE_COLUMNS`)."""
    df = _read(db, lambda conn: _notices(conn, round_id))
    return df[NOTICE_COLUMNS].reset_index(drop=True)


def objections(db: Database, round_id: str) -> pd.DataFrame:
    """A decided round's objections, one row each (:data:`OBJECTION_COLUMNS`): when raised
    and about which household, and the outcome (``upheld``, ``rejected``; empty: open)."""
    ev = _read(db, lambda conn: _objection_events(conn, round_id))
    raised = ev[ev["event"].eq("raised")].set_index("objection_id")
    closed = ev[~ev["event"].eq("raised")].set_index("objection_id")
    out = pd.DataFrame(
        {
            "round_id": round_id,
            "objection_id": raised.index,
            "household_id": raised["household_id"].to_numpy(),
            "raised_on": raised["date"].to_numpy(),
            "text": raised["text"].to_numpy(),
            "outcome": closed["event"].reindex(raised.index).to_numpy(),
            "closed_on": closed["date"].reindex(raised.index).to_numpy(),
            "outcome_reason": closed["text"].reindex(raised.index).to_numpy(),
        },
        columns=OBJECTION_COLUMNS,
    )
    as_text(out, ("objection_id", "household_id", "text", "outcome", "outcome_reason"))
    return out.reset_index(drop=True)


def approvals(db: Database) -> pd.DataFrame:
    """Every approval: the approved round, the decided round it closed, by whom and when.

    ``approved_by`` is a staff member's name: mask it before it leaves the package
    (:func:`fpanalysis.core.privacy.mask_frame` does).
    """
    a = T["relief_approvals"]
    stmt = sa.select(a).order_by(a.c.approved_on, a.c.round_id)
    return _read(db, lambda conn: _frame(conn, stmt, [c.name for c in a.columns]))


def final_rows(db: Database, round_id: str) -> pd.DataFrame:
    """A decided round's households as they stand: upheld objections taken out of the list."""
    from fpanalysis.register.read import relief_rows

    rows = relief_rows(db, round_id)
    up = _upheld(_read(db, lambda conn: _objection_events(conn, round_id)))
    hit = rows["household_id"].isin(list(up)) & rows["selected"].fillna(False).astype(bool)
    rows.loc[hit, "selected"] = False
    rows.loc[hit, "selection"] = WITHDRAWN
    return rows


def procedure(db: Database, round_id: str | None = None) -> dict[str, Any]:
    """Where a relief round stands in the committee's procedure (rulebook §6).

    ``round_id``: any round of the chain (proposal, decided, approved); default the last
    relief round in force. Returns ``{"round_id": the latest round of the chain, "stage",
    "proposal", "decided", "approved"`` (round ids or None), ``"departures"`` (the
    decisions other than a plain confirmation, with their reasons and the households an
    admission passed over), ``"notices"``, ``"objections"``, ``"approval"`` (a row of
    :func:`approvals` or None)``}``; None when the register holds no relief round.
    """
    from fpanalysis.register.read import last_round

    allr = rounds(db, "relief")
    if round_id is None:
        last = last_round(db, "relief")
        if last is None:
            return None
        round_id = last["round_id"]
    byid = allr.set_index("round_id")
    if round_id not in byid.index:
        raise no_round(db.where, round_id, "relief")
    chain = {"proposal": None, "decided": None, "approved": None}
    rid = round_id
    while rid is not None and isinstance(rid, str):  # back to the proposal
        st = byid.loc[rid, "stage"]
        key = {"proposed": "proposal", "noticed": "decided"}.get(st, st)
        if chain.get(key) is None:
            chain[key] = rid
        if st == "proposed":
            break
        rid = byid.loc[rid, "supersedes"]
    rid = round_id
    while True:  # forward to the latest step
        nxt = byid.loc[rid, "superseded_by"]
        if not isinstance(nxt, str) or byid.loc[nxt, "stage"] == "proposed":
            break
        st = byid.loc[nxt, "stage"]
        chain[{"noticed": "decided"}.get(st, st)] = nxt
        rid = nxt
    latest = chain["approved"] or chain["decided"] or chain["proposal"] or round_id
    dec_id = chain["decided"]
    dec = decisions(db, dec_id or "")
    departures = dec[~dec["decision"].eq("confirm")].reset_index(drop=True)
    appr = approvals(db)
    appr = appr[appr["round_id"].eq(chain["approved"])]
    return {
        "round_id": latest,
        "stage": byid.loc[latest, "stage"],
        **chain,
        "departures": departures,
        "notices": notices(db, dec_id or ""),
        "objections": objections(db, dec_id or ""),
        "approval": appr.iloc[0].to_dict() if len(appr) else None,
    }


def decision_label(code: Any, lang: str = "zh") -> str:
    """A decision code in words (``reject`` -> 不同意 / reject)."""
    if code not in DECISION_LABELS:
        return "" if code is None or (isinstance(code, float) and pd.isna(code)) else str(code)
    return DECISION_LABELS[code][0 if lang == "zh" else 1]
