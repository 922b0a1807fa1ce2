"""The decision register (登记簿): every relief round and compliance evaluation, recorded.

POLICY.md §6 (动态管理: "before" is the last recorded round) and §3 (责任追究:
the accountability list) need a memory of what was decided, when, on which
data and under which parameters. The register is that memory: an embedded
SQLite file by default (``register.sqlite`` in the working folder) or a
PostgreSQL database shared by a bureau (``postgresql://…``), reached through
SQLAlchemy Core (no ORM).

Contracts:

- **Rounds are append-only and immutable.** A round is one ``rounds`` row and
  all its result rows (``relief_rows``, or ``compliance_units`` +
  ``compliance_accountability``), written in ONE transaction: all or nothing.
  A correction is a new round that names the one it ``supersedes`` (same
  kind, must exist, and may be superseded only once). The code never issues
  UPDATE or DELETE on those tables, and the database refuses them (triggers
  that raise, on SQLite and PostgreSQL).
- **No personal information** (POLICY.md §7): only keys are stored
  (``household_id``, ``unit_id``, ``couple_id``, ``wife_id``/``husband_id``
  = person ids), never names or resident ID numbers.
- **Round ids** read ``<kind>-<as-of date or period>-<sequence>``, e.g.
  ``relief-2025-11-28-0003`` or ``compliance-2024H1-0004``: the sequence is
  the register-wide count of rounds (1, 2, …), taken inside the writing
  transaction, so ids are unique and show the recording order.
- **Versioned schema.** A ``meta`` table holds ``app`` =
  ``fpanalysis-register`` and ``schema_version``. :data:`CURRENT_SCHEMA_VERSION`
  is what this code writes; :data:`UPGRADES` lists the steps from each older
  version. A new register is built as version 1 and upgraded step by step (so
  the upgrade path runs every time). An older register is upgraded in place in
  the same transaction as the first round recorded into it; a read of an older
  register upgrades inside a transaction that is rolled back afterwards, so
  reading never modifies the register.
- **Refusals** (:class:`RegisterError`, exit code 3): a file that is not
  SQLite (or is corrupt), a database with other tables and no register
  ``meta`` (foreign), a schema version newer than the code, an unreachable
  server. :class:`RegisterBusyError` (exit code 75, EX_TEMPFAIL: try again)
  when another writer holds the register longer than the wait
  (``timeout``, default 30 s). A failed command leaves the register as it was.
- **Concurrency.** SQLite: every write is ``BEGIN IMMEDIATE`` with a busy
  timeout; PostgreSQL: every write takes a transaction-scoped advisory lock
  (polled until the timeout). Two writers at once: the second waits for the
  first and both succeed, or it gives up with the "try again" error; a reader
  never sees half a round.
- **"The last round"** of a kind is the latest *in force* (not superseded) by
  as-of date (relief) or period end (compliance), then by sequence; so a late
  correction of an old round does not become "the last round".

Examples:
    >>> import tempfile, pathlib
    >>> reg = open_register(pathlib.Path(tempfile.mkdtemp()) / "register.sqlite")
    >>> reg.rounds().columns[:4].tolist(), len(reg.rounds())
    (['round_id', 'seq', 'kind', 'as_of'], 0)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from fpanalysis import __version__
from fpanalysis.core.clock import now_utc
from fpanalysis.core.errors import FPError

APP = "fpanalysis-register"
CURRENT_SCHEMA_VERSION = 2
DEFAULT_REGISTER = "register.sqlite"
DEFAULT_TIMEOUT = 30.0
KINDS = ("relief", "compliance")
SQLITE_MAGIC = b"SQLite format 3\x00"
# An arbitrary constant of ours: the PostgreSQL advisory lock that serialises writers.
PG_LOCK_KEY = 7_046_301_909

REGISTER_TABLES = ("meta", "rounds", "relief_rows", "compliance_units", "compliance_accountability")
APPEND_ONLY_TABLES = ("rounds", "relief_rows", "compliance_units", "compliance_accountability")

INDICATOR_RATES = [
    "baseline_coverage",
    "followup_coverage",
    "feedback_timeliness",
    "check_attendance",
]
INDICATOR_COUNTS = [
    "falsifications",
    "out_of_plan_births",
    "pregnancies_without_permit",
    "unapproved_late_terminations",
]


class RegisterError(FPError):
    """The register cannot be used: not a register, foreign, too new, unreachable, refused."""

    def __init__(self, message_zh: str, message_en: str, **kw: Any) -> None:
        kw.setdefault("exit_code", 3)
        super().__init__(message_zh, message_en, **kw)


class RegisterBusyError(RegisterError):
    """Another writer holds the register: nothing was written, try again."""

    def __init__(self, where: str | None = None) -> None:
        super().__init__(
            "登记簿正被他人写入，请稍后重试（本次未写入任何内容）",
            "the register is busy, try again (nothing was written)",
            file=where,
            rule="register-busy",
            exit_code=75,
        )


# --------------------------------------------------------------------------- types


class ExactDecimal(sa.types.TypeDecorator):
    """A decimal kept exact: NUMERIC on PostgreSQL, canonical text on SQLite.

    SQLite has no exact decimal type (NUMERIC affinity stores a float), so the
    value is stored as its text; values are quantised to ``scale`` places
    (scores and penalty points are written with 2 decimals, POLICY.md §3).
    """

    impl = sa.String(40)
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self._q = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(18, self.scale, asdecimal=True))
        return dialect.type_descriptor(sa.String(40))

    def _dec(self, value: Any) -> Decimal:
        d = (
            value
            if isinstance(value, Decimal)
            else Decimal(repr(float(value)) if isinstance(value, float) else str(value))
        )
        return d.quantize(self._q, rounding=ROUND_HALF_UP)

    def process_bind_param(self, value, dialect):
        if value is None or (isinstance(value, float) and value != value):
            return None
        d = self._dec(value)
        return d if dialect.name == "postgresql" else str(d)

    def process_result_value(self, value, dialect):
        return None if value is None else self._dec(value)


# --------------------------------------------------------------------------- schema
#
# Version 1: the first layout. Frozen: never edit it; add an upgrade step instead.

_V1 = sa.MetaData()
sa.Table(
    "meta",
    _V1,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
sa.Table(
    "rounds",
    _V1,
    sa.Column("round_id", sa.String(80), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("as_of", sa.Date),
    sa.Column("period", sa.String(16)),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("package_version", sa.String(32), nullable=False),
    sa.Column("params_json", sa.Text, nullable=False),
    sa.Column("params_sha256", sa.String(64), nullable=False),
    sa.Column("inputs_json", sa.Text, nullable=False),
    sa.Column("supersedes", sa.String(80), sa.ForeignKey("rounds.round_id")),
    sa.CheckConstraint("kind IN ('relief', 'compliance')", name="rounds_kind"),
)
sa.Table(
    "relief_rows",
    _V1,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("household_id", sa.String(64), primary_key=True),
    sa.Column("pool", sa.String(16), nullable=False),
    sa.Column("rank", sa.Integer),
    sa.Column("area", sa.String(16)),
    sa.Column("township", sa.Text),
    sa.Column("size", sa.Integer),
    sa.Column("income_fen", sa.BigInteger),
    sa.Column("eligible", sa.Boolean, nullable=False),
    sa.Column("tier", sa.Integer),
    sa.Column("tier_basis", sa.String(16)),
    sa.Column("fp_type", sa.String(32)),
    sa.Column("per_capita_income_fen", sa.BigInteger),
    sa.Column("standard_fen", sa.BigInteger),
    sa.Column("entitlement_yuan", sa.BigInteger),
    sa.Column("selected", sa.Boolean, nullable=False),
    sa.Column("selection", sa.String(16), nullable=False),
    sa.Column("application_date", sa.Date),
    sa.Column("reason_zh", sa.Text),
    sa.Column("reason_en", sa.Text),
)
sa.Table(
    "compliance_units",
    _V1,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("unit_id", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(16), nullable=False),
    *[sa.Column(c, sa.Float) for c in INDICATOR_RATES],
    *[sa.Column(c, sa.Integer) for c in INDICATOR_COUNTS],
    sa.Column("score", ExactDecimal(2)),
    sa.Column("grade", sa.String(16), nullable=False),
    sa.Column("veto", sa.Boolean, nullable=False),
)
sa.Table(
    "compliance_accountability",
    _V1,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("date", sa.Date),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(64)),
    sa.Column("couple_id", sa.String(64)),
    sa.Column("wife_id", sa.String(64)),
    sa.Column("husband_id", sa.String(64)),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("penalty", ExactDecimal(2)),
    sa.Column("veto", sa.Boolean, nullable=False),
    sa.Column("reason_zh", sa.Text),
    sa.Column("reason_en", sa.Text),
)

# The current layout (version 2) = version 1 + the columns the upgrade adds. The
# tables below are what the code reads and writes; tests check they match a
# register built by the upgrade steps.
_V2_ADDED = {
    "rounds": [
        sa.Column("override_text", sa.Text),
        sa.Column("options_json", sa.Text),
        sa.Column("note", sa.Text),
    ],
    "relief_rows": [
        sa.Column("review_months", sa.Integer),
        sa.Column("last_review_date", sa.Date),
        sa.Column("next_review_date", sa.Date),
        sa.Column("review_due", sa.Boolean),
    ],
}

META = sa.MetaData()
for _t in _V1.sorted_tables:
    _new = _t.to_metadata(META)
    for _c in _V2_ADDED.get(_t.name, []):
        _new.append_column(_c)
T = {name: META.tables[name] for name in REGISTER_TABLES}


def _add_column_sql(conn: sa.Connection, table: str, col: sa.Column) -> str:
    kind = col.type.compile(dialect=conn.dialect)
    return f"ALTER TABLE {table} ADD COLUMN {col.name} {kind}"


def _append_only_sql(dialect: str) -> list[str]:
    """Triggers that make the database itself refuse UPDATE and DELETE of recorded rounds."""
    out = []
    if dialect == "sqlite":
        for t in APPEND_ONLY_TABLES:
            for op in ("UPDATE", "DELETE"):
                out.append(
                    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} BEGIN "
                    f"SELECT RAISE(ABORT, 'fpanalysis register: {t} is append-only ({op} refused)'); END"
                )
    else:
        out.append(
            "CREATE OR REPLACE FUNCTION fpanalysis_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            # %% : the driver's paramstyle; the server sees plpgsql's own % placeholders.
            "BEGIN RAISE EXCEPTION 'fpanalysis register: %% is append-only (%% refused)', TG_TABLE_NAME, TG_OP; END $$"
        )
        for t in APPEND_ONLY_TABLES:
            out.append(
                f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION fpanalysis_append_only()"
            )
            out.append(
                f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fpanalysis_append_only()"
            )
    return out


def _create_v1(conn: sa.Connection) -> None:
    _V1.create_all(conn)
    conn.execute(
        T["meta"].insert(), [{"key": "app", "value": APP}, {"key": "schema_version", "value": "1"}]
    )


def _upgrade_1_to_2(conn: sa.Connection) -> None:
    """v2: override text, options and a note per round; review dates per household; append-only triggers."""
    for table, cols in _V2_ADDED.items():
        for c in cols:
            conn.exec_driver_sql(_add_column_sql(conn, table, c))
    # A round may be superseded once: a correction of a correction names the latest.
    conn.exec_driver_sql("CREATE UNIQUE INDEX rounds_supersedes_once ON rounds (supersedes)")
    for stmt in _append_only_sql(conn.dialect.name):
        conn.exec_driver_sql(stmt)


# Ordered upgrade steps: UPGRADES[v] takes a register from version v to v + 1.
UPGRADES = {1: _upgrade_1_to_2}
assert len(UPGRADES) == CURRENT_SCHEMA_VERSION - 1


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    """The recording time, UTC to the second (``SOURCE_DATE_EPOCH`` when set: reproducible runs)."""
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")


def _period_bounds(label: str | None) -> tuple[str, str]:
    """Sortable (end, start) of a period label: ``2024`` → 2024-12-31, ``2024H1`` → 2024-06-30."""
    if not label:
        return ("", "")
    y = label[:4]
    if label.endswith("H1"):
        return (f"{y}-06-30", f"{y}-01-01")
    if label.endswith("H2"):
        return (f"{y}-12-31", f"{y}-07-01")
    return (f"{y}-12-31", f"{y}-01-01")


def _none(v: Any) -> Any:
    """pandas missing values (NaN, NA, NaT) as None; numpy scalars as Python values."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
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


def normalize_target(target: str | os.PathLike | None) -> tuple[str, sa.URL, Path | None]:
    """``(backend, url, path)`` for a register target: a file path, ``sqlite:///…`` or ``postgresql://…``.

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
            raise _bad_target(text) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
            return "postgresql", url, None
        if backend == "sqlite" and url.database:
            path = Path(url.database)
            return "sqlite", sa.URL.create("sqlite", database=str(path)), path
        raise _bad_target(text)
    path = Path(text)
    return "sqlite", sa.URL.create("sqlite", database=str(path)), path


def _bad_target(text: str) -> RegisterError:
    return RegisterError(
        "登记簿应为文件路径（SQLite）或 postgresql:// 地址",
        "the register must be a file path (SQLite) or a postgresql:// URL",
        value=text,
        rule="register-target",
    )


# --------------------------------------------------------------------------- the register


@dataclass
class _State:
    version: int | None  # None: no register yet (a new file, or an empty database)


class Register:
    """An open register. Build it with :func:`open_register`.

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

    # ------------------------------------------------------------ checks

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Register:
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
            raise RegisterError(
                "不是登记簿文件（不是 SQLite 数据库，或文件已损坏）；未做任何改动",
                "not a register file (not an SQLite database, or corrupt); nothing was changed",
                file=str(p),
                rule="register-not-sqlite",
            )

    def _inspect(self, conn: sa.Connection) -> _State:
        """The register's schema version in this transaction; refuse foreign or newer databases."""
        names = set(sa.inspect(conn).get_table_names())
        if "meta" not in names:
            if names:
                raise self._foreign(sorted(names))
            return _State(None)
        rows = dict(conn.execute(sa.select(T["meta"].c.key, T["meta"].c.value)).all())
        if rows.get("app") != APP:
            raise self._foreign(sorted(names))
        try:
            version = int(rows.get("schema_version", ""))
        except ValueError:
            raise RegisterError(
                "登记簿的版本号无法识别",
                "the register's schema version is unreadable",
                file=self.where,
                value=rows.get("schema_version"),
                rule="register-version",
            ) from None
        if version > CURRENT_SCHEMA_VERSION:
            raise RegisterError(
                f"登记簿的结构版本 {version} 比本程序（支持到 {CURRENT_SCHEMA_VERSION}）新：请升级 fpanalysis；未做任何改动",
                f"the register's schema version {version} is newer than this program's "
                f"({CURRENT_SCHEMA_VERSION}): upgrade fpanalysis; nothing was changed",
                file=self.where,
                value=version,
                rule="register-version",
            )
        return _State(version)

    def _foreign(self, names: list[str]) -> RegisterError:
        shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        return RegisterError(
            f"该数据库不是 fpanalysis 登记簿（已有其他表：{shown}）；未做任何改动",
            f"this database is not an fpanalysis register (it holds other tables: {shown}); nothing was changed",
            file=self.where,
            rule="register-foreign",
        )

    def _db_error(self, exc: Exception) -> RegisterError:
        text = str(getattr(exc, "orig", exc))
        low = text.lower()
        if "locked" in low or "busy" in low:
            return RegisterBusyError(self.where)
        if (
            isinstance(exc, sa_exc.OperationalError)
            and self.backend == "postgresql"
            and ("connect" in low or "connection" in low or "timeout" in low or "refused" in low)
        ):
            return RegisterError(
                f"无法连接登记簿数据库服务器：{text.strip().splitlines()[0] if text.strip() else ''}",
                f"cannot reach the register's database server: {text.strip().splitlines()[0] if text.strip() else ''}",
                file=self.where,
                rule="register-unreachable",
            )
        if "not a database" in low or "malformed" in low or "encrypted" in low:
            return RegisterError(
                "不是登记簿文件（不是 SQLite 数据库，或文件已损坏）；未做任何改动",
                "not a register file (not an SQLite database, or corrupt); nothing was changed",
                file=self.where,
                rule="register-not-sqlite",
            )
        if "append-only" in low:
            return RegisterError(
                "登记簿只能追加：已记录的轮次不能修改或删除",
                "the register is append-only: recorded rounds cannot be changed or deleted",
                file=self.where,
                rule="register-append-only",
            )
        return RegisterError(
            f"登记簿拒绝了本次写入，未写入任何内容：{text.strip().splitlines()[0] if text.strip() else ''}",
            f"the register refused this write; nothing was written: {text.strip().splitlines()[0] if text.strip() else ''}",
            file=self.where,
            rule="register-refused",
        )

    def check(self) -> int | None:
        """Check the register can be used; return its schema version (None: none yet). Changes nothing."""
        self._check_file()
        if self._missing():
            return None
        with self._transaction(write=False) as (conn, state):
            return state.version if conn is not None else None

    # ------------------------------------------------------------ transactions

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
    def _transaction(self, write: bool) -> Iterator[tuple[sa.Connection | None, _State]]:
        """One transaction at the current schema version.

        A write creates the register when there is none and upgrades an older one,
        inside this same transaction, and commits at the end. A read of an older
        register upgrades inside the transaction and rolls back (reads never
        modify the register); a read with no register yields ``(None, state)``.
        """
        self._check_file()
        if not write and self._missing():
            yield None, _State(None)
            return
        created = self.path is not None and not self.path.exists()
        try:
            conn = self.engine.connect()
        except sa_exc.DBAPIError as exc:
            if self.backend == "postgresql":
                first = str(getattr(exc, "orig", exc)).strip().splitlines()
                raise RegisterError(
                    f"无法连接登记簿数据库服务器：{first[0] if first else ''}",
                    f"cannot reach the register's database server: {first[0] if first else ''}",
                    file=self.where,
                    rule="register-unreachable",
                ) from None
            raise self._db_error(exc) from None
        try:
            state, _ = self._begin(conn, write)
            stored = state  # the version as found, before any upgrade in this transaction
            if state.version is None and not write:
                conn.exec_driver_sql("ROLLBACK")
                yield None, state
                return
            if state.version is None:
                _create_v1(conn)
                state = _State(1)
            for v in range(state.version, CURRENT_SCHEMA_VERSION):
                UPGRADES[v](conn)
            if state.version != CURRENT_SCHEMA_VERSION:
                conn.execute(
                    T["meta"]
                    .update()
                    .where(T["meta"].c.key == "schema_version")
                    .values(value=str(CURRENT_SCHEMA_VERSION))
                )
            try:
                yield conn, stored
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT" if write else "ROLLBACK")
        except sa_exc.DBAPIError as exc:
            self._rollback_quietly(conn)
            conn.close()
            self._remove_if_created(created)
            raise self._db_error(exc) from None
        except BaseException:
            self._rollback_quietly(conn)
            conn.close()
            self._remove_if_created(created)
            raise
        finally:
            conn.close()

    def _remove_if_created(self, created: bool) -> None:
        """A failed first write leaves no empty file behind (SQLite creates it on connecting)."""
        if (
            created
            and self.path is not None
            and self.path.exists()
            and self.path.stat().st_size == 0
        ):
            self.path.unlink()

    @staticmethod
    def _rollback_quietly(conn: sa.Connection) -> None:
        try:
            conn.exec_driver_sql("ROLLBACK")
        except Exception:  # noqa: BLE001 - nothing open, or the connection is gone
            pass

    def _begin(self, conn: sa.Connection, write: bool) -> tuple[_State, bool]:
        if self.backend == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            state = self._inspect(conn)
            if not write and state.version is not None and state.version < CURRENT_SCHEMA_VERSION:
                # Reading an older register: upgrade in a write transaction, rolled back at the end.
                conn.exec_driver_sql("ROLLBACK")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                state = self._inspect(conn)
                return state, True
            return state, False
        conn.exec_driver_sql(
            "BEGIN ISOLATION LEVEL " + ("READ COMMITTED" if write else "REPEATABLE READ")
        )
        if write:
            self._lock_pg(conn)
        state = self._inspect(conn)
        if not write and state.version is not None and state.version < CURRENT_SCHEMA_VERSION:
            conn.exec_driver_sql("ROLLBACK")
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL READ COMMITTED")
            self._lock_pg(conn)
            state = self._inspect(conn)
            return state, True
        return state, False

    # ------------------------------------------------------------ writing

    def _new_round(
        self,
        conn: sa.Connection,
        kind: str,
        label: str,
        *,
        as_of: dt.date | None,
        period: str | None,
        params: Any,
        dataset: Any,
        override_text: str | None,
        options: Mapping[str, Any] | None,
        supersedes: str | None,
        note: str | None,
    ) -> str:
        r = T["rounds"]
        if supersedes is not None:
            old = conn.execute(sa.select(r.c.kind).where(r.c.round_id == supersedes)).first()
            if old is None:
                raise RegisterError(
                    f"要更正的轮次 {supersedes} 不在登记簿中",
                    f"the round to supersede, {supersedes}, is not in the register",
                    file=self.where,
                    value=supersedes,
                    rule="supersedes",
                )
            if old.kind != kind:
                raise RegisterError(
                    f"更正轮次须与原轮次同类：{supersedes} 是 {old.kind}，本轮是 {kind}",
                    f"a correction must be of the same kind: {supersedes} is {old.kind}, this round is {kind}",
                    file=self.where,
                    value=supersedes,
                    rule="supersedes",
                )
            by = conn.execute(sa.select(r.c.round_id).where(r.c.supersedes == supersedes)).scalar()
            if by is not None:
                raise RegisterError(
                    f"轮次 {supersedes} 已被 {by} 更正；请更正 {by}",
                    f"round {supersedes} was already superseded by {by}; supersede {by} instead",
                    file=self.where,
                    value=supersedes,
                    rule="supersedes",
                )
        seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(r.c.seq), 0))).scalar()) + 1
        round_id = f"{kind}-{label}-{seq:04d}"
        if override_text is None and getattr(params, "override_file", None):
            p = Path(params.override_file)
            if p.is_file():
                override_text = p.read_text(encoding="utf-8")
        inputs = {
            "source": str(getattr(dataset, "source", None) or ""),
            "files": dict(sorted(getattr(dataset, "files", {}).items())),
            "sha256": dict(sorted(getattr(dataset, "sha256", {}).items())),
        }
        conn.execute(
            r.insert().values(
                round_id=round_id,
                seq=seq,
                kind=kind,
                as_of=as_of,
                period=period,
                recorded_at=_now(),
                package_version=__version__,
                params_json=json.dumps(params.as_dict(), sort_keys=True, ensure_ascii=False),
                params_sha256=params.sha256,
                inputs_json=json.dumps(inputs, sort_keys=True, ensure_ascii=False),
                supersedes=supersedes,
                override_text=override_text,
                options_json=json.dumps(
                    dict(options or {}), sort_keys=True, ensure_ascii=False, default=str
                ),
                note=note,
            )
        )
        return round_id

    def record_relief(
        self,
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
        """Record a relief round (POLICY.md §6) in one transaction; return its round id.

        Args:
            result: a :class:`fpanalysis.rules.relief.ReliefResult` (every household of the round).
            params: the :class:`~fpanalysis.core.params.Params` in force (all recorded, with their hash).
            dataset: the :class:`~fpanalysis.core.dataset.Dataset` read (its files' SHA-256 are recorded).
            review: :func:`fpanalysis.rules.relief.review`'s table for the same round, for each
                selected household's review months, next review date and whether it is due.
            override_text: the override file's text (default: read from ``params.override_file``).
            options: how the round was run (quota, budget, pool, the previous round used).
            supersedes: the round id this one corrects (same kind).
            note: free text (why the round was recorded or corrected).
        """
        if getattr(result, "lean", False):  # a lean round: the reasons are recorded too
            result = result.with_texts()
        t = result.table
        as_of = pd.Timestamp(result.as_of).date()
        rev = None
        if review is not None and len(review):
            rev = review.set_index("household_id")
        rows = []
        for r in t.to_dict("records"):
            hid = str(r["household_id"])
            size = _int(r.get("size"))
            inc = _int(r.get("income_fen"))
            pc = None if size in (None, 0) or inc is None else (inc * 2 + size) // (2 * size)
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
            }
            if rev is not None and hid in rev.index:
                x = rev.loc[hid]
                row["review_months"] = _int(x.get("review_months"))
                row["next_review_date"] = _date(x.get("next_review_date"))
                row["review_due"] = _bool(x.get("review_due"))
            rows.append(row)
        rows.sort(key=lambda x: x["household_id"])
        with self._transaction(write=True) as (conn, _):
            rid = self._new_round(
                conn,
                "relief",
                as_of.isoformat(),
                as_of=as_of,
                period=None,
                params=params,
                dataset=dataset,
                override_text=override_text,
                options=options,
                supersedes=supersedes,
                note=note,
            )
            if rows:
                conn.execute(T["relief_rows"].insert(), [{"round_id": rid, **x} for x in rows])
        return rid

    def record_compliance(
        self,
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
        """Record a compliance evaluation (POLICY.md §3) in one transaction; return its round id.

        ``scorecard`` is :func:`fpanalysis.rules.compliance.compliance_scorecard`'s table,
        ``accountability`` :func:`fpanalysis.rules.compliance.accountability_list`'s
        (names are not stored: only the event, couple, person and unit keys).
        """
        units = []
        for r in scorecard.to_dict("records"):
            u = {"unit_id": str(r["unit_id"]), "period": str(r.get("period") or period)}
            for c in INDICATOR_RATES:
                v = _none(r.get(c))
                u[c] = None if v is None else float(v)
            for c in INDICATOR_COUNTS:
                u[c] = _int(r.get(c))
            u["score"] = _none(r.get("score"))
            u["grade"] = str(r["grade"])
            u["veto"] = bool(_bool(r.get("veto")))
            units.append(u)
        units.sort(key=lambda x: x["unit_id"])
        acc = []
        if accountability is not None:
            for i, r in enumerate(accountability.to_dict("records"), start=1):
                acc.append(
                    {
                        "line": i,
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
                )
        with self._transaction(write=True) as (conn, _):
            rid = self._new_round(
                conn,
                "compliance",
                period,
                as_of=None,
                period=period,
                params=params,
                dataset=dataset,
                override_text=override_text,
                options=options,
                supersedes=supersedes,
                note=note,
            )
            if units:
                conn.execute(
                    T["compliance_units"].insert(), [{"round_id": rid, **x} for x in units]
                )
            if acc:
                conn.execute(
                    T["compliance_accountability"].insert(), [{"round_id": rid, **x} for x in acc]
                )
        return rid

    # ------------------------------------------------------------ reading

    def _read(self, stmt: Any, columns: list[str]) -> pd.DataFrame:
        with self._transaction(write=False) as (conn, _):
            if conn is None:
                return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
            res = conn.execute(stmt)
            return pd.DataFrame([tuple(x) for x in res.all()], columns=list(res.keys()))

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
    ]

    def rounds(self, kind: str | None = None) -> pd.DataFrame:
        """Every recorded round (of ``kind`` when given), in recording order (``seq``).

        ``superseded_by`` names the round that corrected it (empty when in force).
        """
        r = T["rounds"]
        cols = [c for c in self.ROUND_COLUMNS if c != "superseded_by"]
        stmt = sa.select(*[r.c[c] for c in cols]).order_by(r.c.seq)
        if kind is not None:
            _check_kind(kind)
            stmt = stmt.where(r.c.kind == kind)
        df = self._read(stmt, cols)
        by = {
            s: r
            for s, r in zip(df["supersedes"], df["round_id"], strict=True)
            if isinstance(s, str)
        }
        df["superseded_by"] = df["round_id"].map(by) if len(df) else pd.Series(dtype="object")
        df = df[self.ROUND_COLUMNS]
        df["seq"] = df["seq"].astype("int64")
        df["as_of"] = pd.to_datetime(df["as_of"]).astype("datetime64[ns]")
        for c in self.ROUND_COLUMNS:
            if c not in ("seq", "as_of"):
                df[c] = df[c].astype("str").where(df[c].notna())
        return df.reset_index(drop=True)

    def _in_force(self, kind: str) -> pd.DataFrame:
        """Rounds of ``kind`` not superseded, oldest first by as-of date / period end, then sequence."""
        df = self.rounds(kind)
        df = df[df["superseded_by"].isna()].copy()
        if kind == "relief":
            df["_k"] = df["as_of"].dt.strftime("%Y-%m-%d")
            df["_k2"] = ""
        else:
            b = df["period"].map(_period_bounds)
            df["_k"] = b.map(lambda x: x[0])
            df["_k2"] = b.map(lambda x: x[1])
        df = df.sort_values(["_k", "_k2", "seq"], kind="stable").drop(columns=["_k", "_k2"])
        return df.reset_index(drop=True)

    def last_round(
        self, kind: str, before: str | None = None, as_of: Any = None
    ) -> dict[str, Any] | None:
        """The last round of ``kind`` in force (not superseded), or None.

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
        _check_kind(kind)
        df = self._in_force(kind)
        if as_of is not None:
            day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
            if kind == "relief":
                df = df[df["as_of"].dt.strftime("%Y-%m-%d").lt(day)]
            else:
                df = df[df["period"].map(lambda p: _period_bounds(p)[0]).lt(day)]
        if before is not None:
            allr = self.rounds().set_index("round_id")
            if before not in allr.index:
                raise RegisterError(
                    f"登记簿中没有轮次 {before}",
                    f"no round {before} in the register",
                    file=self.where,
                    value=before,
                    rule="round-id",
                )
            b = allr.loc[before]
            if b["kind"] != kind:
                raise RegisterError(
                    f"轮次 {before} 是 {b['kind']}，不是 {kind}",
                    f"round {before} is a {b['kind']} round, not {kind}",
                    file=self.where,
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
                key_b = (*_period_bounds(b["period"]), int(b["seq"]))
                keys = [
                    (*_period_bounds(p), int(s))
                    for p, s in zip(df["period"], df["seq"], strict=True)
                ]
            keep = [k < key_b for k in keys]
            df = df[pd.Series(keep, index=df.index, dtype=bool) & df["round_id"].ne(before)]
        if df.empty:
            return None
        return df.iloc[-1].to_dict()

    def relief_rows(self, round_id: str) -> pd.DataFrame:
        """The households of a relief round, as recorded (sorted by household id).

        Money: ``income_fen``, ``standard_fen``, ``per_capita_income_fen`` integer
        fen; ``entitlement_yuan`` whole yuan (POLICY.md §6 rounds it up).
        """
        t = T["relief_rows"]
        cols = [c.name for c in t.columns]
        df = self._read(
            sa.select(t).where(t.c.round_id == round_id).order_by(t.c.household_id), cols
        )
        return _typed_relief(df)

    def compliance_units(self, round_id: str) -> pd.DataFrame:
        """The units of a compliance round (sorted by unit id); ``score`` as recorded (2 decimals)."""
        t = T["compliance_units"]
        cols = [c.name for c in t.columns]
        df = self._read(sa.select(t).where(t.c.round_id == round_id).order_by(t.c.unit_id), cols)
        return _typed_units(df)

    def compliance_accountability(self, round_id: str) -> pd.DataFrame:
        """The accountability rows of a compliance round, in recorded order (keys only, no names)."""
        t = T["compliance_accountability"]
        cols = [c.name for c in t.columns]
        df = self._read(sa.select(t).where(t.c.round_id == round_id).order_by(t.c.line), cols)
        df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
        df["line"] = df["line"].astype("int64")
        df["veto"] = df["veto"].astype(bool)
        df["penalty"] = (
            df["penalty"].map(lambda v: None if v is None else float(v)).astype("float64")
        )
        for c in (
            "round_id",
            "rule",
            "event_id",
            "couple_id",
            "wife_id",
            "husband_id",
            "unit_id",
            "reason_zh",
            "reason_en",
        ):
            df[c] = df[c].astype("str").where(df[c].notna())
        return df.reset_index(drop=True)

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
    ]

    def household_history(self, household_id: str) -> pd.DataFrame:
        """One row per recorded relief round for one household (POLICY.md §6 动态管理).

        Columns: ``round_id``, ``as_of``, ``rank``, ``tier``, ``fp_type``,
        ``selected``, ``entitlement_yuan``, ``reason_zh``, ``reason_en``,
        ``params_sha256``, then ``listed`` (False: the household was not in that
        round's data, and the reason says so), ``eligible``, ``selection``,
        ``review_due``, ``next_review_date``, ``supersedes``, ``superseded_by``
        and ``note``. Every round is shown, superseded ones included (they are
        part of the record); sorted by as-of date, then recording order.
        """
        rounds = self.rounds("relief")
        rounds = rounds.sort_values(["as_of", "seq"], kind="stable").reset_index(drop=True)
        t = T["relief_rows"]
        cols = [c.name for c in t.columns]
        rows = _typed_relief(
            self._read(sa.select(t).where(t.c.household_id == str(household_id)), cols)
        ).set_index("round_id")
        out = rounds[
            ["round_id", "as_of", "params_sha256", "supersedes", "superseded_by", "note"]
        ].copy()
        listed = out["round_id"].isin(rows.index)
        for c in (
            "rank",
            "tier",
            "fp_type",
            "selected",
            "entitlement_yuan",
            "reason_zh",
            "reason_en",
            "eligible",
            "selection",
            "review_due",
            "next_review_date",
        ):
            out[c] = rows[c].reindex(out["round_id"]).to_numpy()
            out[c] = out[c].astype(rows[c].dtype)
        out["listed"] = listed.astype(bool)
        out.loc[~listed, "reason_zh"] = "本轮数据中没有此户（未申请、迁出或死亡）"
        out.loc[~listed, "reason_en"] = (
            "not listed in this round's data (not applying, moved or died)"
        )
        return out[self.HISTORY_COLUMNS].reset_index(drop=True)

    GRADE_COLUMNS = ["unit_id", "round_id", "period", "score", "grade", "veto", "superseded_by"]

    def unit_grades(self, unit_id: str | None = None) -> pd.DataFrame:
        """Each unit's score, grade and veto over the recorded compliance rounds (POLICY.md §3).

        One row per (unit, round), sorted by unit, then period end, then recording order.
        """
        rounds = self.rounds("compliance")
        t = T["compliance_units"]
        cols = [c.name for c in t.columns]
        stmt = sa.select(t)
        if unit_id is not None:
            stmt = stmt.where(t.c.unit_id == str(unit_id))
        units = _typed_units(self._read(stmt, cols))
        df = units.merge(rounds[["round_id", "seq", "superseded_by"]], on="round_id", how="left")
        b = df["period"].map(_period_bounds)
        df["_k"] = b.map(lambda x: x[0]).astype("str")
        df["_k2"] = b.map(lambda x: x[1]).astype("str")
        df = df.sort_values(["unit_id", "_k", "_k2", "seq"], kind="stable")
        return df[self.GRADE_COLUMNS].reset_index(drop=True)

    def previous_selection(
        self, before: str | None = None, as_of: Any = None
    ) -> tuple[pd.DataFrame | None, str | None]:
        """The last relief round in force (see :meth:`last_round`) as :func:`fpanalysis.rules.relief.review`'s
        ``previous_round``: ``household_id``, ``selected``, ``tier``, ``income_fen``, ``area``,
        ``township``; and its round id. ``(None, None)`` when none is recorded."""
        last = self.last_round("relief", before=before, as_of=as_of)
        if last is None:
            return None, None
        rows = self.relief_rows(last["round_id"])
        cols = ["household_id", "selected", "tier", "income_fen", "area", "township"]
        return rows[cols].reset_index(drop=True), last["round_id"]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise RegisterError(
            f"轮次类别应为 {KINDS}",
            f"the round kind must be one of {KINDS}",
            value=kind,
            rule="kind",
        )


def _typed_relief(df: pd.DataFrame) -> pd.DataFrame:
    for c in (
        "rank",
        "size",
        "income_fen",
        "tier",
        "per_capita_income_fen",
        "standard_fen",
        "entitlement_yuan",
        "review_months",
    ):
        df[c] = pd.array(
            [None if v is None or pd.isna(v) else int(v) for v in df[c]], dtype="Int64"
        )
    for c in ("eligible", "selected", "review_due"):
        df[c] = pd.array(
            [None if v is None or pd.isna(v) else bool(v) for v in df[c]], dtype="boolean"
        )
    for c in ("application_date", "last_review_date", "next_review_date"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    for c in (
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
    ):
        df[c] = df[c].astype("str").where(df[c].notna())
    return df.reset_index(drop=True)


def _typed_units(df: pd.DataFrame) -> pd.DataFrame:
    for c in INDICATOR_RATES:
        df[c] = df[c].astype("float64")
    for c in INDICATOR_COUNTS:
        df[c] = pd.array(
            [None if v is None or pd.isna(v) else int(v) for v in df[c]], dtype="Int64"
        )
    # Stored exact (2 decimals); shown as the scorecard shows it.
    df["score"] = df["score"].map(lambda v: None if v is None else float(v)).astype("float64")
    df["veto"] = df["veto"].astype(bool)
    for c in ("round_id", "unit_id", "period", "grade"):
        df[c] = df[c].astype("str").where(df[c].notna())
    return df.reset_index(drop=True)


def open_register(
    target: str | os.PathLike | None = None,
    *,
    create: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> Register:
    """Open the decision register at ``target`` and check it can be used.

    Args:
        target: a file path (SQLite; default ``register.sqlite`` in the working
            folder), ``sqlite:///PATH``, or ``postgresql://user@host:port/db``
            (``postgresql+psycopg://`` too).
        create: when False, a missing SQLite file is an error (reading commands).
            When True it is created by the first round recorded (never before:
            a failed command leaves no file behind).
        timeout: seconds a writer waits for another writer (SQLite busy timeout,
            PostgreSQL lock polling) before :class:`RegisterBusyError`.

    Returns:
        A :class:`Register`.

    Raises:
        RegisterError: not an SQLite file or corrupt, a foreign database, a
            schema newer than this code, an unreachable server, a missing file
            with ``create=False``.
    """
    backend, url, path = normalize_target(target)
    reg = Register(backend, url, path, timeout)
    if not create and path is not None and not path.exists():
        raise RegisterError(
            "找不到登记簿文件",
            "the register file does not exist",
            file=str(path),
            rule="register-missing",
        )
    try:
        reg.check()
    except BaseException:
        reg.close()
        raise
    return reg


# --------------------------------------------------------------------------- comparisons

GRADE_ORDER = {"fail": 0, "pass": 1, "excellent": 2}
GRADE_LABELS = {
    "excellent": ("优秀", "excellent"),
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
}
UNIT_TRANSITION_COLUMNS = [
    "unit_id",
    "previous_round_id",
    "round_id",
    "previous_period",
    "period",
    "previous_grade",
    "grade",
    "previous_score",
    "score",
    "veto",
    "transition",
    "reason_zh",
    "reason_en",
]


def unit_transitions(
    reg: Register, *, new: str | None = None, old: str | None = None
) -> pd.DataFrame:
    """Each unit's grade between two compliance rounds (POLICY.md §3; default: the last two in force).

    ``transition``: ``improved`` / ``declined`` (grade order 不合格 < 合格 < 优秀),
    ``unchanged``, ``new`` (not in the older round) or ``dropped`` (not in the newer one).

    Raises:
        RegisterError: fewer than two compliance rounds to compare.
    """
    if new is None:
        last = reg.last_round("compliance")
        new = None if last is None else last["round_id"]
    if new is not None and old is None:
        prev = reg.last_round("compliance", before=new)
        old = None if prev is None else prev["round_id"]
    if new is None or old is None:
        raise RegisterError(
            "登记簿中可比较的考核轮次不足两轮",
            "the register holds fewer than two compliance rounds to compare",
            file=reg.where,
            rule="register-rounds",
        )
    a = reg.compliance_units(old).set_index("unit_id")
    b = reg.compliance_units(new).set_index("unit_id")
    ids = sorted(set(a.index) | set(b.index))
    out = pd.DataFrame({"unit_id": ids})
    out["previous_round_id"] = old
    out["round_id"] = new
    out["previous_period"] = out["unit_id"].map(a["period"])
    out["period"] = out["unit_id"].map(b["period"])
    out["previous_grade"] = out["unit_id"].map(a["grade"])
    out["grade"] = out["unit_id"].map(b["grade"])
    out["previous_score"] = out["unit_id"].map(a["score"]).astype("float64")
    out["score"] = out["unit_id"].map(b["score"]).astype("float64")
    out["veto"] = out["unit_id"].map(b["veto"]).astype("boolean")
    zh, en, tr = [], [], []
    for r in out.to_dict("records"):  # one per unit (tens to hundreds)
        pg, g = r["previous_grade"], r["grade"]
        if pd.isna(pg):
            t = "new"
            z, e = (
                f"新列入考核：{GRADE_LABELS[g][0]}（{r['score']:.2f} 分）",
                f"new: {g} ({r['score']:.2f} points)",
            )
        elif pd.isna(g):
            t = "dropped"
            z, e = "本轮考核中已无此单位", "no longer in this round's evaluation"
        else:
            d = GRADE_ORDER[g] - GRADE_ORDER[pg]
            t = "improved" if d > 0 else ("declined" if d < 0 else "unchanged")
            word_z = {"improved": "上升", "declined": "下降", "unchanged": "未变"}[t]
            z = (
                f"等次{word_z}：{GRADE_LABELS[pg][0]}（{r['previous_period']}，{r['previous_score']:.2f} 分）"
                f" → {GRADE_LABELS[g][0]}（{r['period']}，{r['score']:.2f} 分）"
            )
            e = (
                f"grade {t}: {pg} ({r['previous_period']}, {r['previous_score']:.2f} points)"
                f" -> {g} ({r['period']}, {r['score']:.2f} points)"
            )
        if r["veto"] is True:
            z += "；本期一票否决"
            e += "; vetoed this period"
        tr.append(t)
        zh.append(z)
        en.append(e)
    out["transition"] = pd.Series(tr, dtype="str")
    out["reason_zh"] = pd.Series(zh, dtype="str")
    out["reason_en"] = pd.Series(en, dtype="str")
    for c in (
        "previous_round_id",
        "round_id",
        "previous_period",
        "period",
        "previous_grade",
        "grade",
    ):
        out[c] = out[c].astype("str").where(out[c].notna())
    return out[UNIT_TRANSITION_COLUMNS]
