"""Tamper evidence for the register (rulebook §6: a review starts from the last round recorded, so
the record must be the one that was made): each round is sealed when it is recorded, in the same
transaction, by the SHA-256 of its record (its ``rounds`` row, every result row and the
committee's records written with it, its decisions or its approval, in a canonical form) and a
hash chained to the entry before it. A record of the committee's procedure written after its
round (a notice, an objection raised or closed) is sealed when it is written, into the same
chain (``record_seals``). :func:`verify` recomputes them and names the round or record that was
altered, one deleted or recorded outside fpanalysis, and an append-only trigger removed.

The chain shows a change made by hand or by another program; someone who can write the database
could also recompute every later seal. :func:`verify` returns the last seal of the chain
(``fpanalysis register check`` prints it), so that it can be noted outside the register after a
round is recorded, in the committee's minutes, and a rewritten chain shows there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fpanalysis.register.tables import (
    APPEND_ONLY_TABLES,
    SEALED_COLUMNS,
    T,
    append_only_triggers,
)

#: The tables of a round's results and of the committee's records written with the round,
#: sealed with it (and the key that orders their rows).
RESULT_TABLES = {
    "relief_rows": ("household_id",),
    "compliance_units": ("unit_id",),
    "compliance_accountability": ("line",),
    "relief_decisions": ("household_id",),
    "relief_approvals": ("round_id",),
}
#: The committee's records written after their round, each sealed on its own: the columns
#: that name one within its round.
LATER_RECORDS = {
    "relief_notices": ("notice_no",),
    "relief_objections": ("objection_id", "event"),
}


@dataclass(frozen=True)
class SealProblem:
    """One finding of :func:`verify`: the round concerned, a rule and what it means."""

    round_id: str | None
    rule: str
    message_zh: str
    message_en: str


@dataclass
class Verification:
    """What :func:`verify` found: the problems, the rounds checked and the last seal."""

    problems: list[SealProblem] = field(default_factory=list)
    rounds: int = 0
    tip: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _canon(v: Any) -> Any:
    """A stored value in a form that is the same on SQLite and PostgreSQL."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


def _line(values: list[Any]) -> bytes:
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def round_digest(conn: sa.Connection, round_id: str) -> str | None:
    """The SHA-256 of a round's record as it stands (None: no such round).

    The ``rounds`` row and every result row of the round, each as the JSON list
    of its sealed columns (:data:`~fpanalysis.register.tables.SEALED_COLUMNS`),
    rows in key order.
    """
    h = hashlib.sha256()
    r = T["rounds"]
    cols = SEALED_COLUMNS["rounds"]
    row = conn.execute(sa.select(*[r.c[c] for c in cols]).where(r.c.round_id == round_id)).first()
    if row is None:
        return None
    h.update(b"rounds\n" + _line([_canon(v) for v in row]))
    for table, key in RESULT_TABLES.items():
        t = T[table]
        cols = SEALED_COLUMNS[table]
        rows = conn.execute(sa.select(*[t.c[c] for c in cols]).where(t.c.round_id == round_id))
        lines = sorted(
            ([_canon(v) for v in x] for x in rows),
            key=lambda values: tuple(str(values[cols.index(k)]) for k in key),
        )
        h.update(f"{table}\n".encode())
        for values in lines:
            h.update(_line(values))
    return h.hexdigest()


def chain(previous: str, digest: str, round_id: str, seq: int) -> str:
    """The chained hash of a round: its digest after the previous round's chained hash.

    Examples:
        >>> chain("", "ab", "relief-2025-06-30-0001", 1)[:12]
        '02b890b1400f'
    """
    text = f"{previous}\n{digest}\n{round_id}\n{int(seq)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_round(conn: sa.Connection, round_id: str) -> str:
    """Seal a round just recorded (in the caller's transaction); return its chained hash."""
    s, r = T["round_seals"], T["rounds"]
    seq = int(conn.execute(sa.select(r.c.seq).where(r.c.round_id == round_id)).scalar_one())
    previous = _last_link(conn, seq)
    digest = round_digest(conn, round_id)
    assert digest is not None
    linked = chain(previous or "", digest, round_id, seq)
    conn.execute(
        s.insert().values(round_id=round_id, seq=seq, round_sha256=digest, chain_sha256=linked)
    )
    return linked


def _last_link(conn: sa.Connection, before_seq: int | None = None) -> str | None:
    """The chained hash of the chain's last entry (before round ``before_seq``'s seal)."""
    s, rs = T["round_seals"], T["record_seals"]
    q1 = sa.select(s.c.seq, s.c.chain_sha256)
    q2 = sa.select(rs.c.after_seq, rs.c.seal_no, rs.c.chain_sha256)
    if before_seq is not None:
        q1 = q1.where(s.c.seq < before_seq)
        q2 = q2.where(rs.c.after_seq < before_seq)
    a = conn.execute(q1.order_by(s.c.seq.desc()).limit(1)).first()
    b = conn.execute(q2.order_by(rs.c.after_seq.desc(), rs.c.seal_no.desc()).limit(1)).first()
    if a is None and b is None:
        return None
    if b is None or (a is not None and a.seq > b.after_seq):
        return a.chain_sha256
    return b.chain_sha256


def record_label(round_id: str, table: str, key: str) -> str:
    """How a later record is named in the chain and in :func:`verify`'s findings."""
    return f"{round_id} {table} {key}"


def _record_where(table: str, round_id: str, key: str) -> Any:
    t = T[table]
    parts = key.split("/")
    cols = [t.c[c] for c in LATER_RECORDS[table]]
    typed = [
        int(v) if isinstance(c.type, sa.Integer) else v for c, v in zip(cols, parts, strict=True)
    ]
    return sa.and_(t.c.round_id == round_id, *[c == v for c, v in zip(cols, typed, strict=True)])


def record_digest(conn: sa.Connection, table: str, round_id: str, key: str) -> str | None:
    """The SHA-256 of one later record as it stands (None: no such record).

    Examples:
        >>> sorted(LATER_RECORDS)
        ['relief_notices', 'relief_objections']
    """
    t = T[table]
    cols = SEALED_COLUMNS[table]
    row = conn.execute(
        sa.select(*[t.c[c] for c in cols]).where(_record_where(table, round_id, key))
    ).first()
    if row is None:
        return None
    return hashlib.sha256(f"{table}\n".encode() + _line([_canon(v) for v in row])).hexdigest()


def record_key(table: str, values: dict[str, Any]) -> str:
    """The key of a later record within its round (``1``, ``O001/raised``)."""
    return "/".join(str(values[c]) for c in LATER_RECORDS[table])


def seal_record(conn: sa.Connection, table: str, round_id: str, key: str) -> str:
    """Seal a later record just written (in the caller's transaction); return its chained hash."""
    rs, r = T["record_seals"], T["rounds"]
    after = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(r.c.seq), 0))).scalar())
    no = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(rs.c.seal_no), 0))).scalar()) + 1
    digest = record_digest(conn, table, round_id, key)
    assert digest is not None
    linked = chain(_last_link(conn) or "", digest, record_label(round_id, table, key), no)
    conn.execute(
        rs.insert().values(
            seal_no=no,
            after_seq=after,
            round_id=round_id,
            record_table=table,
            record_key=key,
            record_sha256=digest,
            chain_sha256=linked,
        )
    )
    return linked


def _later_records(conn: sa.Connection) -> list[tuple[str, str, str, str]]:
    """Every later record: ``(recorded_at, table, round_id, key)``, in recording order."""
    out = []
    for table, cols in LATER_RECORDS.items():
        t = T[table]
        for row in conn.execute(sa.select(t.c.recorded_at, t.c.round_id, *[t.c[c] for c in cols])):
            out.append((row[0], table, row[1], "/".join(str(v) for v in row[2:])))
    return sorted(out)


def seal_all(conn: sa.Connection) -> None:
    """Seal every round not sealed yet, in recording order, then every later record of the
    committee's procedure not sealed yet (the version 4 upgrade)."""
    s, r, rs = T["round_seals"], T["rounds"], T["record_seals"]
    sealed = set(conn.execute(sa.select(s.c.round_id)).scalars())
    for rid in conn.execute(sa.select(r.c.round_id).order_by(r.c.seq)).scalars():
        if rid not in sealed:
            seal_round(conn, rid)
    done = set(conn.execute(sa.select(rs.c.round_id, rs.c.record_table, rs.c.record_key)).all())
    for _, table, rid, key in _later_records(conn):
        if (rid, table, key) not in done:
            seal_record(conn, table, rid, key)


def _triggers(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        q = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(conn.exec_driver_sql(q).scalars())


def verify(conn: sa.Connection) -> Verification:
    """Recompute every seal and the chain; list what does not hold (in the caller's transaction).

    Examples:
        >>> Verification().ok
        True
    """
    s, r, rs = T["round_seals"], T["rounds"], T["record_seals"]
    out = Verification()
    rounds = {rid: seq for rid, seq in conn.execute(sa.select(r.c.round_id, r.c.seq))}
    seals = conn.execute(sa.select(s).order_by(s.c.seq)).mappings().all()
    later = conn.execute(sa.select(rs).order_by(rs.c.after_seq, rs.c.seal_no)).mappings().all()
    out.rounds = len(rounds)
    sealed = {x["round_id"] for x in seals}
    for rid in sorted(set(rounds) - sealed, key=rounds.get):
        out.problems.append(
            SealProblem(
                rid,
                "round-unsealed",
                f"轮次 {rid} 没有封存记录：不是由 fpanalysis 记录的，或其封存记录被删除",
                f"round {rid} has no seal: it was not recorded by fpanalysis, or its seal was "
                "deleted",
            )
        )
    done = {(x["round_id"], x["record_table"], x["record_key"]) for x in later}
    for _, table, rid, key in _later_records(conn):
        if (rid, table, key) not in done:
            what = record_label(rid, table, key)
            out.problems.append(
                SealProblem(
                    rid,
                    "record-unsealed",
                    f"记录 {what} 没有封存记录：不是由 fpanalysis 记录的，或其封存记录被删除",
                    f"record {what} has no seal: it was not recorded by fpanalysis, or its seal "
                    "was deleted",
                )
            )
    # one chain: each round's seal, then the records sealed after it, in recording order
    entries = sorted(
        [((x["seq"], 0, 0), x) for x in seals]
        + [((x["after_seq"], 1, x["seal_no"]), x) for x in later],
        key=lambda e: e[0],
    )
    previous = ""
    for _, x in entries:
        rid = x["round_id"]
        if "seal_no" in x:
            table, key = x["record_table"], x["record_key"]
            what = record_label(rid, table, key)
            now = record_digest(conn, table, rid, key) if table in LATER_RECORDS else None
            if now is None:
                out.problems.append(
                    SealProblem(
                        rid,
                        "record-deleted",
                        f"记录 {what} 已被删除（只剩其封存记录）",
                        f"record {what} was deleted (only its seal is left)",
                    )
                )
            elif now != x["record_sha256"]:
                out.problems.append(
                    SealProblem(
                        rid,
                        "record-altered",
                        f"记录 {what} 在记录后被改动：其内容与封存时不符",
                        f"record {what} was altered after it was recorded: it differs from its "
                        "seal",
                    )
                )
            label, digest, n = what, x["record_sha256"], x["seal_no"]
        else:
            if rid not in rounds:
                out.problems.append(
                    SealProblem(
                        rid,
                        "round-deleted",
                        f"轮次 {rid} 已被删除（只剩其封存记录）",
                        f"round {rid} was deleted (only its seal is left)",
                    )
                )
            elif round_digest(conn, rid) != x["round_sha256"]:
                out.problems.append(
                    SealProblem(
                        rid,
                        "round-altered",
                        f"轮次 {rid} 在记录后被改动：其内容与封存时不符",
                        f"round {rid} was altered after it was recorded: its record differs from "
                        "its seal",
                    )
                )
            label, digest, n = rid, x["round_sha256"], x["seq"]
        if chain(previous, digest, label, n) != x["chain_sha256"]:
            out.problems.append(
                SealProblem(
                    rid,
                    "chain-broken",
                    f"封存链在 {label} 处断开：此前有轮次或记录被删除，或封存记录被改动",
                    f"the chain of seals breaks at {label}: a round or record before it was "
                    "removed, or a seal was changed",
                )
            )
        previous = x["chain_sha256"]
    out.tip = previous or None
    present = _triggers(conn)
    for name, table in append_only_triggers(conn.dialect.name, APPEND_ONLY_TABLES).items():
        if name not in present:
            out.problems.append(
                SealProblem(
                    None,
                    "append-only-removed",
                    f"表 {table} 的只追加保护（触发器 {name}）已被删除",
                    f"the append-only protection of table {table} (trigger {name}) was removed",
                )
            )
    return out
