"""The register's tables (SQLAlchemy Core): version 1 as first built (frozen), the columns and
tables later versions add (version 2: the review columns; version 3: the committee's procedure,
rulebook §6; version 4: the seals), the current layout (:data:`T`), the exact decimal type, the
columns a seal covers (:data:`SEALED_COLUMNS`), and the triggers that make recorded rounds
append-only on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fpanalysis.core.numbers import half_up

APP = "fpanalysis-register"
#: the tables version 3 adds: the committee's decisions, the public notices, the objections
#: and the approvals of relief rounds (rulebook §6)
PROCEDURE_TABLES = ("relief_decisions", "relief_notices", "relief_objections", "relief_approvals")
#: the tables version 4 adds: the seals of the rounds and of the procedure's later records
SEAL_TABLES = ("round_seals", "record_seals")
REGISTER_TABLES = (
    "meta",
    "rounds",
    "relief_rows",
    "compliance_units",
    "compliance_accountability",
    *PROCEDURE_TABLES,
    *SEAL_TABLES,
)
#: The tables version 2 made append-only (frozen: its upgrade step creates their triggers).
V2_APPEND_ONLY = ("rounds", "relief_rows", "compliance_units", "compliance_accountability")
APPEND_ONLY_TABLES = (*V2_APPEND_ONLY, *PROCEDURE_TABLES, *SEAL_TABLES)

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


class ExactDecimal(sa.types.TypeDecorator):
    """A decimal kept exact: NUMERIC on PostgreSQL, canonical text on SQLite.

    SQLite has no exact decimal type (NUMERIC affinity stores a float), so the
    value is stored as its text; values are quantised to ``scale`` places
    (scores and penalty points are written with 2 decimals, rulebook §3).
    """

    impl = sa.String(40)
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(18, self.scale, asdecimal=True))
        return dialect.type_descriptor(sa.String(40))

    def _dec(self, value: Any) -> Decimal:
        return half_up(value, self.scale)

    def process_bind_param(self, value, dialect):
        if value is None or (isinstance(value, float) and value != value):
            return None
        d = self._dec(value)
        return d if dialect.name == "postgresql" else str(d)

    def process_result_value(self, value, dialect):
        return None if value is None else self._dec(value)


# Version 1: the first layout. Frozen: never edit it; add an upgrade step instead.
V1 = sa.MetaData()
sa.Table(
    "meta",
    V1,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
sa.Table(
    "rounds",
    V1,
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
    V1,
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
    V1,
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
    V1,
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

# Version 2 adds columns to version 1's tables.
V2_ADDED = {
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

# Version 3 adds a round's stage (proposed, decided, approved), whether each household
# received relief when the round was run, and the tables of the committee's procedure.
# Frozen like V1: a later version adds its own step.
V3_ADDED = {
    "rounds": [sa.Column("stage", sa.String(16))],
    "relief_rows": [sa.Column("incumbent", sa.Boolean)],
}
V3 = sa.MetaData()
V1.tables["rounds"].to_metadata(V3)  # what the new tables' foreign keys refer to
sa.Table(
    "relief_decisions",
    V3,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("household_id", sa.String(64), primary_key=True),
    sa.Column("proposal_round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), nullable=False),
    sa.Column("sheet", sa.String(64)),
    sa.Column("cell", sa.String(16)),
    sa.Column("pool", sa.String(16)),
    sa.Column("rank", sa.Integer),
    sa.Column("proposed_selected", sa.Boolean, nullable=False),
    sa.Column("proposed_selection", sa.String(16), nullable=False),
    sa.Column("proposed_tier", sa.Integer),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("decided_selected", sa.Boolean, nullable=False),
    sa.Column("decided_tier", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("passes_over", sa.Text),
    sa.CheckConstraint(
        "decision IN ('confirm', 'reject', 'change_tier', 'admit')", name="decisions_decision"
    ),
)
sa.Table(
    "relief_notices",
    V3,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("notice_no", sa.Integer, primary_key=True),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("place", sa.Text),
    sa.Column("recorded_at", sa.String(32), nullable=False),
)
sa.Table(
    "relief_objections",
    V3,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column("objection_id", sa.String(16), primary_key=True),
    sa.Column("event", sa.String(16), primary_key=True),
    sa.Column("household_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.CheckConstraint("event IN ('raised', 'upheld', 'rejected')", name="objections_event"),
)
sa.Table(
    "relief_approvals",
    V3,
    sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
    sa.Column(
        "decided_round_id",
        sa.String(80),
        sa.ForeignKey("rounds.round_id"),
        nullable=False,
        unique=True,
    ),
    # a staff member's name: an audit field (who approved), masked in outputs (rulebook §7)
    sa.Column("approved_by", sa.Text, nullable=False),
    sa.Column("approved_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
)

#: The columns a seal covers, table by table (those of versions 1 to 3: frozen, so that a seal
#: made today still verifies when a later version adds columns).
SEALED_COLUMNS = {
    **{
        name: [
            c.name
            for c in (
                *V1.tables[name].columns,
                *V2_ADDED.get(name, []),
                *V3_ADDED.get(name, []),
            )
        ]
        for name in V2_APPEND_ONLY
    },
    **{name: [c.name for c in V3.tables[name].columns] for name in PROCEDURE_TABLES},
}


def round_seals_table(metadata: sa.MetaData) -> sa.Table:
    """``round_seals`` as version 4 lays it out: one row per round, in recording order, with the
    hash of the round's record and the hash chained to the previous round's (frozen)."""
    return sa.Table(
        "round_seals",
        metadata,
        sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("round_sha256", sa.String(64), nullable=False),
        sa.Column("chain_sha256", sa.String(64), nullable=False),
    )


def record_seals_table(metadata: sa.MetaData) -> sa.Table:
    """``record_seals`` as version 4 lays it out: one row per record of the committee's procedure
    written after its round (a notice, an objection's event), in recording order, with the hash
    of the record and the hash chained to the entry before it (a round's seal or a record's);
    ``after_seq`` is the sequence of the last round recorded when it was sealed (frozen)."""
    return sa.Table(
        "record_seals",
        metadata,
        sa.Column("seal_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("after_seq", sa.Integer, nullable=False),
        sa.Column("round_id", sa.String(80), sa.ForeignKey("rounds.round_id"), nullable=False),
        sa.Column("record_table", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(64), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("chain_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("round_id", "record_table", "record_key", name="record_seals_once"),
    )


# The current layout (version 4) = version 1 + the columns and tables the upgrades add. The
# tables below are what the code reads and writes; tests check they match a register built
# by the upgrade steps.
META = sa.MetaData()
for _t in V1.sorted_tables:
    _new = _t.to_metadata(META)
    for _c in [*V2_ADDED.get(_t.name, []), *V3_ADDED.get(_t.name, [])]:
        _new.append_column(_c)
for _name in PROCEDURE_TABLES:
    V3.tables[_name].to_metadata(META)
round_seals_table(META)
record_seals_table(META)
T = {name: META.tables[name] for name in REGISTER_TABLES}


def add_column_sql(conn: sa.Connection, table: str, col: sa.Column) -> str:
    kind = col.type.compile(dialect=conn.dialect)
    return f"ALTER TABLE {table} ADD COLUMN {col.name} {kind}"


def append_only_sql(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """Triggers that make the database itself refuse UPDATE and DELETE of recorded rounds.

    ``tables``: the tables to guard (an upgrade step names the ones it adds).
    """
    out = []
    if dialect == "sqlite":
        for t in tables:
            for op in ("UPDATE", "DELETE"):
                out.append(
                    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} BEGIN "
                    f"SELECT RAISE(ABORT, 'fpanalysis register: {t} is append-only "
                    f"({op} refused)'); END"
                )
    else:
        out.append(
            "CREATE OR REPLACE FUNCTION fpanalysis_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ "
            # %% : the driver's paramstyle; the server sees plpgsql's own % placeholders.
            "BEGIN RAISE EXCEPTION 'fpanalysis register: %% is append-only (%% refused)', "
            "TG_TABLE_NAME, TG_OP; END $$"
        )
        for t in tables:
            out.append(
                f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION fpanalysis_append_only()"
            )
            out.append(
                f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fpanalysis_append_only()"
            )
    return out


def append_only_triggers(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> dict:
    """The triggers :func:`append_only_sql` creates: name -> table."""
    if dialect == "sqlite":
        return {f"{t}_no_{op}": t for t in tables for op in ("update", "delete")}
    return {f"{t}_{what}": t for t in tables for what in ("append_only", "no_truncate")}


def drop_trigger_sql(dialect: str, name: str, table: str) -> str:
    """The statement that drops one of those triggers (an upgrade step re-creates it)."""
    if dialect == "sqlite":
        return f"DROP TRIGGER IF EXISTS {name}"
    return f"DROP TRIGGER IF EXISTS {name} ON {table}"
