"""The register's schema versions: reading the version a database holds (refusing a foreign or a
newer one), building version 1, and the ordered upgrade steps (:data:`UPGRADES`) that take any
older register to :data:`CURRENT_SCHEMA_VERSION`, run inside the caller's transaction: version 2
adds the review columns and the append-only triggers, version 3 the committee's procedure
(rulebook §6), version 4 the seals of the rounds and of the procedure's records (rulebook §6) and
the keyed hashes of keys shaped like ID numbers (rulebook §7)."""

from __future__ import annotations

import sqlalchemy as sa

from fpanalysis.register.errors import RegisterError, foreign
from fpanalysis.register.keys import KEY_META, PROTECTED, new_key, protect_row, register_key
from fpanalysis.register.seals import seal_all
from fpanalysis.register.tables import (
    APP,
    PROCEDURE_TABLES,
    SEAL_TABLES,
    V1,
    V2_ADDED,
    V2_APPEND_ONLY,
    V3,
    V3_ADDED,
    T,
    add_column_sql,
    append_only_sql,
    append_only_triggers,
    drop_trigger_sql,
    record_seals_table,
    round_seals_table,
)

CURRENT_SCHEMA_VERSION = 4


def create_v1(conn: sa.Connection) -> None:
    """Build an empty register as version 1 laid it out."""
    V1.create_all(conn)
    conn.execute(
        T["meta"].insert(), [{"key": "app", "value": APP}, {"key": "schema_version", "value": "1"}]
    )


def upgrade_1_to_2(conn: sa.Connection) -> None:
    """v2: override text, options and a note per round; review dates per household; triggers."""
    for table, cols in V2_ADDED.items():
        for c in cols:
            conn.exec_driver_sql(add_column_sql(conn, table, c))
    # A round may be superseded once: a correction of a correction names the latest.
    conn.exec_driver_sql("CREATE UNIQUE INDEX rounds_supersedes_once ON rounds (supersedes)")
    for stmt in append_only_sql(conn.dialect.name, V2_APPEND_ONLY):
        conn.exec_driver_sql(stmt)


def upgrade_2_to_3(conn: sa.Connection) -> None:
    """v3: the committee's procedure (rulebook §6): a round's stage, whether each household
    received relief when the round was run, and the decisions, notices, objections and
    approvals, append-only like the rest."""
    for table, cols in V3_ADDED.items():
        for c in cols:
            conn.exec_driver_sql(add_column_sql(conn, table, c))
    for name in PROCEDURE_TABLES:
        V3.tables[name].create(conn)
    for stmt in append_only_sql(conn.dialect.name, PROCEDURE_TABLES):
        conn.exec_driver_sql(stmt)


def upgrade_3_to_4(conn: sa.Connection) -> None:
    """v4: tamper evidence and no ID numbers in the clear (rulebook §6, §7).

    Adds ``round_seals`` and ``record_seals`` (append-only) and the register's random
    key (``meta.pii_key``); stores the keys shaped like ID numbers that earlier rounds
    and the committee's records hold as their keyed hashes, and such numbers in their
    texts masked (the append-only triggers are lifted for that, in this transaction,
    and put back); then seals every round, in recording order, and every notice and
    objection recorded after its round.
    """
    dialect = conn.dialect.name
    md = sa.MetaData()
    V1.tables["rounds"].to_metadata(md)
    round_seals_table(md).create(conn)
    record_seals_table(md).create(conn)
    for stmt in append_only_sql(dialect, SEAL_TABLES):
        conn.exec_driver_sql(stmt)
    conn.execute(T["meta"].insert().values(key=KEY_META, value=new_key()))
    _protect_recorded(conn, register_key(conn))
    seal_all(conn)


def _protect_recorded(conn: sa.Connection, key: bytes) -> None:
    """Rows recorded before version 4 with ID-shaped keys or words: hashed, masked."""
    dialect = conn.dialect.name
    for table, columns in PROTECTED.items():
        t = T[table]
        pk = [c.name for c in t.primary_key.columns]
        cols = [*pk, *(c for group in columns for c in group if c not in pk)]
        changes = []
        for row in conn.execute(sa.select(*[t.c[c] for c in cols])).mappings():
            new = protect_row(table, dict(row), key)
            if new != dict(row):
                changes.append((dict(row), new))
        if not changes:
            continue
        triggers = append_only_triggers(dialect, (table,))
        for name in triggers:
            conn.exec_driver_sql(drop_trigger_sql(dialect, name, table))
        for old, new in changes:
            where = sa.and_(*[t.c[c] == old[c] for c in pk])
            conn.execute(t.update().where(where).values(**new))
        for stmt in append_only_sql(dialect, (table,)):
            conn.exec_driver_sql(stmt)


# Ordered upgrade steps: UPGRADES[v] takes a register from version v to v + 1.
UPGRADES = {1: upgrade_1_to_2, 2: upgrade_2_to_3, 3: upgrade_3_to_4}
assert len(UPGRADES) == CURRENT_SCHEMA_VERSION - 1


def schema_version(conn: sa.Connection, where: str) -> int | None:
    """The register's schema version in this transaction (None: an empty database).

    Raises:
        RegisterError: a database with other tables and no register, an unreadable
            version, or a version newer than this code.
    """
    names = set(sa.inspect(conn).get_table_names())
    if "meta" not in names:
        if names:
            raise foreign(where, sorted(names))
        return None
    rows = dict(conn.execute(sa.select(T["meta"].c.key, T["meta"].c.value)).all())
    if rows.get("app") != APP:
        raise foreign(where, sorted(names))
    try:
        version = int(rows.get("schema_version", ""))
    except ValueError:
        raise RegisterError(
            "登记簿的版本号无法识别",
            "the register's schema version is unreadable",
            file=where,
            value=rows.get("schema_version"),
            rule="register-version",
        ) from None
    if version > CURRENT_SCHEMA_VERSION:
        raise RegisterError(
            f"登记簿的结构版本 {version} 比本程序（支持到 {CURRENT_SCHEMA_VERSION}）新："
            "请升级 fpanalysis；未做任何改动",
            f"the register's schema version {version} is newer than this program's "
            f"({CURRENT_SCHEMA_VERSION}): upgrade fpanalysis; nothing was changed",
            file=where,
            value=version,
            rule="register-version",
        )
    return version


def bring_up_to_date(conn: sa.Connection, version: int | None) -> None:
    """Create the register (``version`` None) or upgrade it to the current version, in place."""
    if version is None:
        create_v1(conn)
        version = 1
    for v in range(version, CURRENT_SCHEMA_VERSION):
        UPGRADES[v](conn)
    if version != CURRENT_SCHEMA_VERSION:
        conn.execute(
            T["meta"]
            .update()
            .where(T["meta"].c.key == "schema_version")
            .values(value=str(CURRENT_SCHEMA_VERSION))
        )
