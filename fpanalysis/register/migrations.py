"""The register's schema versions: reading the version a database holds (refusing a foreign or a
newer one), building version 1, and the ordered upgrade steps (:data:`UPGRADES`) that take any
older register to :data:`CURRENT_SCHEMA_VERSION`, run inside the caller's transaction."""

from __future__ import annotations

import sqlalchemy as sa

from fpanalysis.register.errors import RegisterError, foreign
from fpanalysis.register.tables import (
    APP,
    PROCEDURE_TABLES,
    V1,
    V2_ADDED,
    V3,
    V3_ADDED,
    T,
    add_column_sql,
    append_only_sql,
)

CURRENT_SCHEMA_VERSION = 3


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
    for stmt in append_only_sql(conn.dialect.name):
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


# Ordered upgrade steps: UPGRADES[v] takes a register from version v to v + 1.
UPGRADES = {1: upgrade_1_to_2, 2: upgrade_2_to_3}
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
