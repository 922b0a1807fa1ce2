"""The decision register (登记簿): every relief round and compliance evaluation recorded,
append-only, in an SQLite file (``register.sqlite`` by default) or a shared PostgreSQL
database, with its parameters and input hashes, and each relief round's way through the
committee's procedure (decisions, notice, objections, approval), so that a review starts from
the last round in force (rulebook §6) and units can be compared over time (rulebook §3); keys
only, never citizens' personal information (rulebook §7; the approving staff member's name is
an audit field). It may import ``fpanalysis.core`` and ``fpanalysis.rules`` (and SQLAlchemy
Core)."""

from fpanalysis.register.api import Register, open_register
from fpanalysis.register.connection import (
    DEFAULT_REGISTER,
    DEFAULT_TIMEOUT,
    PG_LOCK_KEY,
    SQLITE_MAGIC,
    Database,
    normalize_target,
)
from fpanalysis.register.errors import (
    ProcedureError,
    RegisterBusyError,
    RegisterError,
    no_round,
    stage_error,
)
from fpanalysis.register.migrations import CURRENT_SCHEMA_VERSION, UPGRADES
from fpanalysis.register.procedure import NOTICE_COLUMNS, OBJECTION_COLUMNS, decision_label
from fpanalysis.register.read import KINDS, STAGES
from fpanalysis.register.tables import (
    APP,
    APPEND_ONLY_TABLES,
    INDICATOR_COUNTS,
    INDICATOR_RATES,
    META,
    PROCEDURE_TABLES,
    REGISTER_TABLES,
    ExactDecimal,
    T,
)
from fpanalysis.register.transitions import (
    GRADE_LABELS,
    GRADE_ORDER,
    UNIT_TRANSITION_COLUMNS,
    unit_transitions,
)

__all__ = [
    "APP",
    "APPEND_ONLY_TABLES",
    "CURRENT_SCHEMA_VERSION",
    "DEFAULT_REGISTER",
    "DEFAULT_TIMEOUT",
    "GRADE_LABELS",
    "GRADE_ORDER",
    "INDICATOR_COUNTS",
    "INDICATOR_RATES",
    "KINDS",
    "META",
    "NOTICE_COLUMNS",
    "OBJECTION_COLUMNS",
    "PG_LOCK_KEY",
    "PROCEDURE_TABLES",
    "REGISTER_TABLES",
    "STAGES",
    "SQLITE_MAGIC",
    "T",
    "UNIT_TRANSITION_COLUMNS",
    "UPGRADES",
    "Database",
    "ExactDecimal",
    "ProcedureError",
    "Register",
    "RegisterBusyError",
    "RegisterError",
    "decision_label",
    "normalize_target",
    "no_round",
    "open_register",
    "stage_error",
    "unit_transitions",
]
