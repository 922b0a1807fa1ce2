"""Tamper evidence for the register (rulebook §6: a review starts from the last round recorded, so
the record must be the one that was made): each round is sealed when it is recorded, in the same
transaction, by the SHA-256 of its record (its ``rounds`` row and every result row, in a
canonical form) and a hash chained to the previous round's seal. :func:`verify` recomputes them
and names the round that was altered, a round deleted or recorded outside fpanalysis, and an
append-only trigger removed.

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

#: The tables of a round's results, sealed with it (and the key that orders their rows).
RESULT_TABLES = {
    "relief_rows": ("household_id",),
    "compliance_units": ("unit_id",),
    "compliance_accountability": ("line",),
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
    previous = conn.execute(
        sa.select(s.c.chain_sha256).where(s.c.seq < seq).order_by(s.c.seq.desc()).limit(1)
    ).scalar()
    digest = round_digest(conn, round_id)
    assert digest is not None
    linked = chain(previous or "", digest, round_id, seq)
    conn.execute(
        s.insert().values(round_id=round_id, seq=seq, round_sha256=digest, chain_sha256=linked)
    )
    return linked


def seal_all(conn: sa.Connection) -> None:
    """Seal every round not sealed yet, in recording order (the version 3 upgrade)."""
    s, r = T["round_seals"], T["rounds"]
    sealed = set(conn.execute(sa.select(s.c.round_id)).scalars())
    for rid in conn.execute(sa.select(r.c.round_id).order_by(r.c.seq)).scalars():
        if rid not in sealed:
            seal_round(conn, rid)


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
    s, r = T["round_seals"], T["rounds"]
    out = Verification()
    rounds = {rid: seq for rid, seq in conn.execute(sa.select(r.c.round_id, r.c.seq))}
    seals = conn.execute(sa.select(s).order_by(s.c.seq)).mappings().all()
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
    previous = ""
    for x in seals:
        rid = x["round_id"]
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
        if chain(previous, x["round_sha256"], rid, x["seq"]) != x["chain_sha256"]:
            out.problems.append(
                SealProblem(
                    rid,
                    "chain-broken",
                    f"封存链在轮次 {rid} 处断开：此前有轮次被删除，或封存记录被改动",
                    f"the chain of seals breaks at round {rid}: a round before it was removed, "
                    "or a seal was changed",
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
