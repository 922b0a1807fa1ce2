"""Reaching a register: its target (an SQLite file or a PostgreSQL URL), the engine, the checks
made before any use, and :meth:`Database.transaction`, one transaction at the current schema
version in which writers wait for each other (SQLite ``BEGIN IMMEDIATE`` with a busy timeout,
a PostgreSQL advisory lock) until :class:`~fpanalysis.register.errors.RegisterBusyError`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from fpanalysis.register.errors import (
    RegisterBusyError,
    RegisterError,
    bad_target,
    db_error,
    not_sqlite,
    unreachable,
)
from fpanalysis.register.migrations import (
    CURRENT_SCHEMA_VERSION,
    bring_up_to_date,
    schema_version,
)

DEFAULT_REGISTER = "register.sqlite"
DEFAULT_TIMEOUT = 30.0
SQLITE_MAGIC = b"SQLite format 3\x00"
# An arbitrary constant of ours: the PostgreSQL advisory lock that serialises writers.
PG_LOCK_KEY = 7_046_301_909


def normalize_target(target: str | os.PathLike | None) -> tuple[str, sa.URL, Path | None]:
    """``(backend, url, path)`` for a register target: a path, ``sqlite:///…``, ``postgresql://…``.

    Examples:
        >>> normalize_target("postgresql://u:pw@127.0.0.1:5432/reg")[1].drivername
        'postgresql+psycopg'
        >>> normalize_target("my.sqlite")[0]
        'sqlite'
    """
    if target is None or str(target).strip() == "":
        target = DEFAULT_REGISTER
    text = str(target)
    if "://" in text:
        try:
            url = sa.make_url(text)
        except sa_exc.ArgumentError:
            raise bad_target(text) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
            return "postgresql", url, None
        if backend == "sqlite" and url.database:
            path = Path(url.database)
            return "sqlite", sa.URL.create("sqlite", database=str(path)), path
        raise bad_target(text)
    path = Path(text)
    return "sqlite", sa.URL.create("sqlite", database=str(path)), path


class Database:
    """A register's database: the engine, the checks and the transactions.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        where: the file path or the URL with its password hidden (for messages).
        timeout: seconds a writer waits for another before :class:`RegisterBusyError`.
    """

    def __init__(self, backend: str, url: sa.URL, path: Path | None, timeout: float) -> None:
        self.backend = backend
        self.url = url
        self.path = path
        self.timeout = float(timeout)
        self.where = str(path) if path is not None else url.render_as_string(hide_password=True)
        if backend == "sqlite":
            self.engine = sa.create_engine(
                url,
                isolation_level="AUTOCOMMIT",  # we issue BEGIN [IMMEDIATE] / COMMIT ourselves
                poolclass=sa.pool.NullPool,
                connect_args={"timeout": self.timeout},
            )

            @sa.event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
                dbapi_conn.execute("PRAGMA foreign_keys = ON")
        else:
            self.engine = sa.create_engine(
                url,
                isolation_level="AUTOCOMMIT",
                poolclass=sa.pool.NullPool,
                connect_args={"connect_timeout": max(1, int(min(self.timeout, 10)))},
            )

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _missing(self) -> bool:
        """An SQLite register whose file does not exist yet (created by the first write)."""
        return self.path is not None and (not self.path.exists() or self.path.stat().st_size == 0)

    def _check_file(self) -> None:
        p = self.path
        if p is None or not p.exists():
            return
        if p.is_dir():
            raise RegisterError(
                "登记簿路径是一个文件夹",
                "the register path is a folder",
                file=str(p),
                rule="register-file",
            )
        if p.stat().st_size == 0:
            return
        with p.open("rb") as f:
            head = f.read(100)
        if not head.startswith(SQLITE_MAGIC) or len(head) < 100:
            raise not_sqlite(str(p))

    def check(self) -> int | None:
        """Check the register can be used; return its schema version (None: none yet).

        Changes nothing.
        """
        self._check_file()
        if self._missing():
            return None
        with self.transaction(write=False) as (conn, version):
            return version if conn is not None else None

    def _lock_pg(self, conn: sa.Connection) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            got = conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({PG_LOCK_KEY})").scalar()
            if got:
                return
            if time.monotonic() >= deadline:
                raise RegisterBusyError(self.where)
            time.sleep(0.05)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[tuple[sa.Connection | None, int | None]]:
        """One transaction at the current schema version: ``(connection, version as found)``.

        A write creates the register when there is none and upgrades an older one,
        inside this same transaction, and commits at the end. A read of an older
        register upgrades inside the transaction and rolls back (reads never
        modify the register); a read with no register yields ``(None, None)``.
        """
        self._check_file()
        if not write and self._missing():
            yield None, None
            return
        created = self.path is not None and not self.path.exists()
        try:
            conn = self.engine.connect()
        except sa_exc.DBAPIError as exc:
            if self.backend == "postgresql":
                raise unreachable(self.where, exc) from None
            raise db_error(exc, self.where, self.backend) from None
        try:
            stored = self._begin(conn, write)  # the version as found, before any upgrade
            if stored is None and not write:
                conn.exec_driver_sql("ROLLBACK")
                yield None, stored
                return
            bring_up_to_date(conn, stored)
            try:
                yield conn, stored
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT" if write else "ROLLBACK")
        except sa_exc.DBAPIError as exc:
            self._give_up(conn, created)
            raise db_error(exc, self.where, self.backend) from None
        except BaseException:
            self._give_up(conn, created)
            raise
        finally:
            conn.close()

    def _give_up(self, conn: sa.Connection, created: bool) -> None:
        """Roll back and close; a failed first write leaves no empty file behind."""
        try:
            conn.exec_driver_sql("ROLLBACK")
        except Exception:  # noqa: BLE001 - nothing open, or the connection is gone
            pass
        conn.close()
        if (
            created
            and self.path is not None
            and self.path.exists()
            and self.path.stat().st_size == 0
        ):
            self.path.unlink()  # SQLite creates the file on connecting

    def _begin(self, conn: sa.Connection, write: bool) -> int | None:
        """Begin the transaction (waiting for other writers) and return the schema version.

        A read of an older register begins a write transaction instead: the upgrade
        made in it is rolled back at the end.
        """
        if self.backend == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            version = schema_version(conn, self.where)
            if not write and version is not None and version < CURRENT_SCHEMA_VERSION:
                conn.exec_driver_sql("ROLLBACK")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                version = schema_version(conn, self.where)
            return version
        conn.exec_driver_sql(
            "BEGIN ISOLATION LEVEL " + ("READ COMMITTED" if write else "REPEATABLE READ")
        )
        if write:
            self._lock_pg(conn)
        version = schema_version(conn, self.where)
        if not write and version is not None and version < CURRENT_SCHEMA_VERSION:
            conn.exec_driver_sql("ROLLBACK")
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL READ COMMITTED")
            self._lock_pg(conn)
            version = schema_version(conn, self.where)
        return version
