"""Validation a clerk can act on: :func:`validate_dataset` lists every problem of a loaded
dataset (reading, per-column checks by pandera, checks across fields and tables, resident ID
numbers), :class:`ValidationReport` says which rows the errors reject and
:func:`write_rejects` writes those rows as they stood in the input, with their reasons. It
imports ``fpanalysis.core``, ``fpanalysis.rules`` and the writers of ``fpanalysis.io``, never
the loader (which calls it).
"""

from fpanalysis.io.validate.check import validate_dataset
from fpanalysis.io.validate.columns import pandera_schema
from fpanalysis.io.validate.crossfield import BIRTH_DATES, DATE_ORDER, EARLIEST_DATE
from fpanalysis.io.validate.idnumbers import KEY_ID_RULE
from fpanalysis.io.validate.report import (
    PROBLEM_HEADERS,
    ValidationReport,
    count_accounting,
    write_rejects,
)

__all__ = [
    "BIRTH_DATES",
    "DATE_ORDER",
    "EARLIEST_DATE",
    "KEY_ID_RULE",
    "PROBLEM_HEADERS",
    "ValidationReport",
    "count_accounting",
    "pandera_schema",
    "validate_dataset",
    "write_rejects",
]
