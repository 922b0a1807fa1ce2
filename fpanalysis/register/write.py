"""Recording a round: one ``rounds`` row (its id, recording time, package version, parameters,
input hashes, options, what it supersedes), all its result rows, relief households or
compliance units and accountability lines, and its seal (:mod:`fpanalysis.register.seals`),
written in one transaction. Only keys are stored, never names or ID numbers: a key shaped like an
ID number is stored as its keyed hash (:mod:`fpanalysis.register.keys`, rulebook §7)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa

from fpanalysis import __version__
from fpanalysis.core.clock import now_utc
from fpanalysis.register.connection import Database
from fpanalysis.register.errors import RegisterError
from fpanalysis.register.keys import protect_row, register_key
from fpanalysis.register.seals import seal_round
from fpanalysis.register.tables import INDICATOR_COUNTS, INDICATOR_RATES, T
from fpanalysis.rules.findings import missing


def recording_time() -> str:
    """The recording time, UTC to the second (``SOURCE_DATE_EPOCH`` when set)."""
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")


def _none(v: Any) -> Any:
    """pandas missing values (NaN, NA, NaT) as None; numpy scalars as Python values."""
    if missing(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _date(v: Any) -> dt.date | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return pd.Timestamp(v).date()


def _int(v: Any) -> int | None:
    v = _none(v)
    return None if v is None else int(v)


def _bool(v: Any) -> bool | None:
    v = _none(v)
    return None if v is None else bool(v)


def _str(v: Any) -> str | None:
    v = _none(v)
    return None if v is None else str(v)


def check_supersedes(conn: sa.Connection, where: str, kind: str, supersedes: str) -> None:
    """A correction names an existing round of the same kind, not corrected yet."""
    r = T["rounds"]
    old = conn.execute(sa.select(r.c.kind).where(r.c.round_id == supersedes)).first()
    if old is None:
        raise RegisterError(
            f"要更正的轮次 {supersedes} 不在登记簿中",
            f"the round to supersede, {supersedes}, is not in the register",
            file=where,
            value=supersedes,
            rule="supersedes",
        )
    if old.kind != kind:
        raise RegisterError(
            f"更正轮次须与原轮次同类：{supersedes} 是 {old.kind}，本轮是 {kind}",
            f"a correction must be of the same kind: {supersedes} is {old.kind}, "
            f"this round is {kind}",
            file=where,
            value=supersedes,
            rule="supersedes",
        )
    by = conn.execute(sa.select(r.c.round_id).where(r.c.supersedes == supersedes)).scalar()
    if by is not None:
        raise RegisterError(
            f"轮次 {supersedes} 已被 {by} 更正；请更正 {by}",
            f"round {supersedes} was already superseded by {by}; supersede {by} instead",
            file=where,
            value=supersedes,
            rule="supersedes",
        )


class RoundInfo(NamedTuple):
    """What a round records besides its results (see :func:`record_relief`)."""

    params: Any
    dataset: Any
    override_text: str | None
    options: Mapping[str, Any] | None
    supersedes: str | None
    note: str | None


def insert_round(
    conn: sa.Connection,
    where: str,
    kind: str,
    label: str,
    values: Mapping[str, Any],
    *,
    supersedes: str | None,
) -> str:
    """Insert a ``rounds`` row (``values``: its columns besides the id, sequence and recording
    time and package version); return its id ``<kind>-<label>-<sequence>``. The caller seals
    it (:func:`fpanalysis.register.seals.seal_round`) once its rows are written."""
    r = T["rounds"]
    if supersedes is not None:
        check_supersedes(conn, where, kind, supersedes)
    seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(r.c.seq), 0))).scalar()) + 1
    round_id = f"{kind}-{label}-{seq:04d}"
    row = {
        "round_id": round_id,
        "seq": seq,
        "kind": kind,
        "recorded_at": recording_time(),
        "package_version": __version__,
        "supersedes": supersedes,
        **values,
    }
    # a word shaped like an ID number in its note stored masked (rulebook §7)
    conn.execute(r.insert().values(**protect_row("rounds", row, register_key(conn))))
    return round_id


def _new_round(
    conn: sa.Connection,
    where: str,
    kind: str,
    label: str,
    info: RoundInfo,
    *,
    as_of: dt.date | None,
    period: str | None,
) -> str:
    """Insert the ``rounds`` row of a new round; return its id ``<kind>-<label>-<sequence>``."""
    params, dataset, override_text, options, supersedes, note = info
    if override_text is None and getattr(params, "override_file", None):
        p = Path(params.override_file)
        if p.is_file():
            override_text = p.read_text(encoding="utf-8")
    inputs = {
        "source": str(getattr(dataset, "source", None) or ""),
        "files": dict(sorted(getattr(dataset, "files", {}).items())),
        "sha256": dict(sorted(getattr(dataset, "sha256", {}).items())),
    }
    values = {
        "as_of": as_of,
        "period": period,
        "params_json": json.dumps(params.as_dict(), sort_keys=True, ensure_ascii=False),
        "params_sha256": params.sha256,
        "inputs_json": json.dumps(inputs, sort_keys=True, ensure_ascii=False),
        "override_text": override_text,
        "options_json": json.dumps(
            dict(options or {}), sort_keys=True, ensure_ascii=False, default=str
        ),
        "note": note,
        # a relief round as ranked is a proposal until the committee decides (rulebook §6)
        "stage": "proposed" if kind == "relief" else None,
    }
    return insert_round(conn, where, kind, label, values, supersedes=supersedes)


def _record(
    db: Database,
    kind: str,
    label: str,
    info: RoundInfo,
    *,
    as_of: dt.date | None,
    period: str | None,
    rows: Mapping[str, list[dict[str, Any]]],
) -> str:
    """Write a round, its result rows (by table) and its seal in one transaction; return its id.

    Keys and words shaped like ID numbers are stored as keyed hashes (rulebook §7).
    """
    with db.transaction(write=True) as (conn, _):
        key = register_key(conn)
        rid = _new_round(conn, db.where, kind, label, info, as_of=as_of, period=period)
        for table, table_rows in rows.items():
            if table_rows:
                stored = [protect_row(table, {"round_id": rid, **x}, key) for x in table_rows]
                conn.execute(T[table].insert(), stored)
        seal_round(conn, rid)
    return rid


def _relief_row(r: Mapping[str, Any], rev: pd.DataFrame | None) -> dict[str, Any]:
    """One household of a relief round as stored (and its review, when given)."""
    hid = str(r["household_id"])
    size = _int(r.get("size"))
    inc = _int(r.get("income_fen"))
    # cut to the fen, as shown (rulebook §6.7): a household below the standard never holds it
    pc = None if size in (None, 0) or inc is None else inc // size
    row = {
        "household_id": hid,
        "pool": str(r.get("pool") or "all"),
        "rank": _int(r.get("rank")),
        "area": _str(r.get("area")),
        "township": _str(r.get("township")),
        "size": size,
        "income_fen": inc,
        "eligible": bool(_bool(r.get("eligible"))),
        "tier": _int(r.get("tier")),
        "tier_basis": _str(r.get("tier_basis")),
        "fp_type": _str(r.get("fp_type")),
        "per_capita_income_fen": pc,
        "standard_fen": _int(r.get("standard_fen")),
        "entitlement_yuan": _int(r.get("entitlement_yuan")),
        "selected": bool(_bool(r.get("selected"))),
        "selection": str(r.get("selection")),
        "application_date": _date(r.get("application_date")),
        "last_review_date": _date(r.get("last_review_date")),
        "reason_zh": _str(r.get("reason_zh")),
        "reason_en": _str(r.get("reason_en")),
        "review_months": None,
        "next_review_date": None,
        "review_due": None,
        "incumbent": _bool(r.get("incumbent")),
    }
    if rev is not None and hid in rev.index:
        x = rev.loc[hid]
        row["review_months"] = _int(x.get("review_months"))
        row["next_review_date"] = _date(x.get("next_review_date"))
        row["review_due"] = _bool(x.get("review_due"))
    return row


def record_relief(
    db: Database,
    result: Any,
    params: Any,
    *,
    dataset: Any = None,
    review: pd.DataFrame | None = None,
    override_text: str | None = None,
    options: Mapping[str, Any] | None = None,
    supersedes: str | None = None,
    note: str | None = None,
) -> str:
    """Record a relief round (rulebook §6) in one transaction; return its round id.

    Args:
        result: a :class:`fpanalysis.rules.relief.ReliefResult` (every household of the
            round).
        params: the :class:`~fpanalysis.core.params.Params` in force (all recorded, with
            their hash).
        dataset: the :class:`~fpanalysis.io.Dataset` read (its files' SHA-256 are recorded).
        review: :func:`fpanalysis.rules.relief.review`'s table for the same round, for each
            selected household's review months, next review date and whether it is due.
        override_text: the override file's text (default: read from
            ``params.override_file``).
        options: how the round was run (quota, budget, pool, the previous round used).
        supersedes: the round id this one corrects (same kind).
        note: free text (why the round was recorded or corrected).
    """
    if getattr(result, "lean", False):  # a lean round: the reasons are recorded too
        result = result.with_texts()
    as_of = pd.Timestamp(result.as_of).date()
    rev = None
    if review is not None and len(review):
        rev = review.set_index("household_id")
    rows = [_relief_row(r, rev) for r in result.table.to_dict("records")]
    rows.sort(key=lambda x: x["household_id"])
    info = RoundInfo(params, dataset, override_text, options, supersedes, note)
    return _record(
        db, "relief", as_of.isoformat(), info, as_of=as_of, period=None, rows={"relief_rows": rows}
    )


def _unit_row(r: Mapping[str, Any], period: str) -> dict[str, Any]:
    u = {"unit_id": str(r["unit_id"]), "period": str(r.get("period") or period)}
    for c in INDICATOR_RATES:
        v = _none(r.get(c))
        u[c] = None if v is None else float(v)
    for c in INDICATOR_COUNTS:
        u[c] = _int(r.get(c))
    u["score"] = _none(r.get("score"))
    u["grade"] = str(r["grade"])
    u["veto"] = bool(_bool(r.get("veto")))
    return u


def _accountability_row(line: int, r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "line": line,
        "date": _date(r.get("date")),
        "rule": str(r["rule"]),
        "event_id": _str(r.get("event_id")),
        "couple_id": _str(r.get("couple_id")),
        "wife_id": _str(r.get("wife_id")),
        "husband_id": _str(r.get("husband_id")),
        "unit_id": _str(r.get("unit_id")),
        "penalty": _none(r.get("penalty")),
        "veto": bool(_bool(r.get("veto"))),
        "reason_zh": _str(r.get("reason_zh")),
        "reason_en": _str(r.get("reason_en")),
    }


def record_compliance(
    db: Database,
    scorecard: pd.DataFrame,
    accountability: pd.DataFrame | None,
    params: Any,
    *,
    period: str,
    dataset: Any = None,
    override_text: str | None = None,
    options: Mapping[str, Any] | None = None,
    supersedes: str | None = None,
    note: str | None = None,
) -> str:
    """Record a compliance evaluation (rulebook §3) in one transaction; return its round id.

    ``scorecard`` is :func:`fpanalysis.rules.compliance.compliance_scorecard`'s table,
    ``accountability`` :func:`fpanalysis.rules.compliance.accountability_list`'s
    (names are not stored: only the event, couple, person and unit keys); the other
    arguments as for :func:`record_relief`.
    """
    units = [_unit_row(r, period) for r in scorecard.to_dict("records")]
    units.sort(key=lambda x: x["unit_id"])
    acc = []
    if accountability is not None:
        records = accountability.to_dict("records")
        acc = [_accountability_row(i, r) for i, r in enumerate(records, start=1)]
    info = RoundInfo(params, dataset, override_text, options, supersedes, note)
    rows = {"compliance_units": units, "compliance_accountability": acc}
    return _record(db, "compliance", period, info, as_of=None, period=period, rows=rows)
