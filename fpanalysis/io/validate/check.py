"""Validation of a loaded dataset: :func:`validate_dataset` runs every check (the problems met
while reading, the per-column checks, the checks across fields and tables, the resident ID
numbers) and lists every problem with its table, row, key, column, value as typed, rule and
message in Chinese and English; errors reject their row, warnings and notes do not, and a cell
that cannot be parsed is reported once, as a type error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial

import pandas as pd

from fpanalysis.core import ahead, schema, timings
from fpanalysis.core.dataset import Dataset, Problem
from fpanalysis.io.typed import TypedPlan
from fpanalysis.io.validate.byparts import check_by_part
from fpanalysis.io.validate.columns import column_problems
from fpanalysis.io.validate.crossfield import (
    conditional,
    date_bounds,
    date_order,
    references,
)
from fpanalysis.io.validate.findings import Finding, callers_lookups, shared_lookups
from fpanalysis.io.validate.idnumbers import id_number_findings, key_id_problems
from fpanalysis.io.validate.problems import drop_shadowed, fill_keys_and_values, finding_problems
from fpanalysis.io.validate.report import ValidationReport

__all__ = ["drop_shadowed", "fill_keys_and_values", "finding_problems", "validate_dataset"]


def validate_dataset(
    dataset: Dataset,
    *,
    as_of=None,
    by_part: Mapping[str, TypedPlan] | None = None,
    after_part: Callable[[str, pd.DataFrame], None] | None = None,
) -> ValidationReport:
    """Check every rule of the data dictionary over a loaded dataset; list every problem.

    Args:
        dataset: from :func:`fpanalysis.io.load_dataset` (or a
            :class:`~fpanalysis.core.dataset.Dataset` of hand-made frames).
        as_of: the day of the check (date, Timestamp or ``YYYY-MM-DD``): a birth
            date after it is an error (``date_in_future``). Default: today (UTC),
            the one thing a check may take from the clock, since a birth that
            has not happened yet is impossible whatever the data's extract date.
        by_part: tables not in ``dataset``'s frames, to be read and checked a part at a time
            (:func:`fpanalysis.io.load.load_by_part`): the same problems as when read whole.
        after_part: called with (table, frame) for each part of those tables once checked.

    Returns:
        A :class:`ValidationReport`; ``report.ok`` is true when nothing is an
        error. Problems are sorted by table (schema order), row, column.

    Examples:
        >>> units = schema.coerce("units", [
        ...     {"unit_id": "U1", "name": "办公室", "kind": "section"},
        ...     {"unit_id": "U1", "name": "财务股", "kind": "section"}])
        >>> report = validate_dataset(Dataset({"units": units}))
        >>> [(p.row, p.column, p.rule) for p in report.errors]
        [(2, 'unit_id', 'unique'), (3, 'unit_id', 'unique')]
        >>> report.ok
        False
    """
    with timings.phase("validate"), shared_lookups():
        return _validate(dataset, as_of=as_of, by_part=by_part or {}, after_part=after_part)


def _validate(
    dataset: Dataset,
    *,
    as_of=None,
    by_part: Mapping[str, TypedPlan],
    after_part: Callable[[str, pd.DataFrame], None] | None,
) -> ValidationReport:
    """The checks of :func:`validate_dataset`."""
    problems: list[Problem] = list(dataset.problems)
    if dataset.source is not None and not len(dataset) and not dataset.raw and not dataset.files:
        problems.append(
            Problem(
                None,
                None,
                None,
                None,
                "no_tables",
                "数据集中没有找到任何表（文件名或工作表名应为表名，如 persons.csv 或“人员”）",
                "no tables found in the dataset (files or sheets are named after tables, "
                "e.g. persons.csv or 人员)",
                "error",
                None,
                str(dataset.source),
            )
        )
    as_of = (
        pd.Timestamp(dt.datetime.now(dt.UTC).date()) if as_of is None else pd.Timestamp(as_of)
    ).normalize()

    def columns() -> list[Problem]:
        return [
            Problem(t, row, col, None, rule, zh, en, "error", None, dataset.file_of(t, row))
            for t in schema.TABLES
            if t in dataset
            for row, col, rule, zh, en in column_problems(t, dataset[t])
        ]

    # The checks of the tables held whole, then each table read by parts: independent pieces
    # of work, each result kept under its name and gathered below in this order.
    held: dict[str, Callable[[], object]] = {
        "columns": columns,
        "references": lambda: references(dataset),
        "dates": lambda: date_order(dataset) + date_bounds(dataset, as_of),
        "conditional": lambda: conditional(dataset),
        "id_numbers": lambda: id_number_findings(dataset),
        "key_ids": lambda: key_id_problems(dataset),
    }
    parted = [t for t in schema.TABLES if t in by_part]
    held_rows = sum(len(df) for _, df in dataset.items())  # the tables held whole
    two = ahead.two_threads(held_rows + sum(plan.rows for plan in by_part.values()))
    done = _run_checks(
        held,
        {t: partial(check_by_part, dataset, t, by_part[t], as_of, after_part) for t in parted},
        two=two,
        rows={t: by_part[t].rows for t in parted},
        held_beside=_held_beside(held_rows, two=two),
    )
    ref_findings, notes = done["references"]
    col_probs, key_ids = done["columns"], done["key_ids"]
    findings: list[Finding] = ref_findings + done["dates"]
    findings += done["conditional"] + done["id_numbers"]
    found = finding_problems(dataset, findings)
    # The tables checked a part at a time, each problem in its place among the others (the
    # problems are sorted below; what a part finds is in the same order as when read whole).
    for got in (done[t] for t in parted):
        problems += got.reading
        notes += got.notes
        col_probs += got.columns
        key_ids += got.key_ids
        found += got.findings
    problems += notes + col_probs + key_ids + found
    problems = drop_shadowed(problems)
    # Fill in the key and the raw value as the clerk typed it.
    filled = fill_keys_and_values(dataset, problems)
    order = {t: i for i, t in enumerate(schema.TABLES)}
    sev_order = {"error": 0, "warning": 1, "note": 2}
    colpos = {t.name: {c.name: i for i, c in enumerate(t.columns)} for t in schema.TABLES_LIST}
    filled.sort(
        key=lambda p: (
            sev_order.get(p.severity, 3),
            order.get(p.table, -1),
            -1 if p.row is None else p.row,
            colpos.get(p.table, {}).get(p.column, -1),
            p.rule,
        )
    )
    filled = list(dict.fromkeys(filled))

    rows = {t: len(dataset.raw.index(t)) for t in dataset.raw} | {
        t: len(df) for t, df in dataset.items()
    }
    whole = {p.table for p in filled if p.row is None and p.severity == "error"}
    by_table: dict[str, set[int]] = {}
    for p in filled:
        if p.severity == "error" and p.row is not None:
            by_table.setdefault(p.table, set()).add(p.row)
    rejected: dict[str, list[int]] = {}
    for t in rows:
        if t in whole:
            idx = dataset[t].index if t in dataset else dataset.raw.index(t)
            rej = set(idx)
        else:
            rej = by_table.get(t, set())
        if rej:
            rejected[t] = sorted(int(r) for r in rej)
    return ValidationReport(filled, rows, rejected)


def _run_checks(
    held: dict[str, Callable[[], object]],
    parts: dict[str, Callable[[], object]],
    *,
    two: bool,
    rows: Mapping[str, int],
    held_beside: bool = False,
) -> dict[str, object]:
    """Run every piece of work of ``held`` and ``parts`` (name -> work) once; their results by
    name.

    On two threads (``two``, :func:`~fpanalysis.core.ahead.both_ends`), the second thread takes
    the tables read by parts, largest first, while the caller's thread takes the checks of the
    tables held whole, the quickest first; each then goes on to what the other has not begun.
    Otherwise (a province, where no two parts may be held at once) the caller's thread checks
    the tables read by parts one after another; with ``held_beside``
    (:func:`~fpanalysis.core.ahead.fits_beside`) a second thread meanwhile runs the checks of
    the tables held whole, in their order, and without it they run first on the caller's. The
    second thread shares the caller's look-ups (:func:`shared_lookups`: they are of the same
    keys). Each piece runs whole on one thread, so its result is the same either way.
    """
    if two:
        order = sorted(parts, key=lambda t: -rows[t]) + sorted(held, key=_HELD_COST.index)
        every = held | parts
        return ahead.both_ends([(name, every[name]) for name in order], second=callers_lookups())
    if not (held_beside and held and parts):
        return {name: work() for name, work in (held | parts).items()}
    lookups = callers_lookups()

    def held_checks() -> dict[str, object]:
        with lookups():
            return {name: work() for name, work in held.items()}

    waiting = ahead.beside(held_checks)
    try:
        done = {name: work() for name, work in parts.items()}
    except BaseException:
        with contextlib.suppress(BaseException):  # the caller's error is the one raised
            waiting()
        raise
    return waiting() | done


#: A province's tables held whole are checked on a second thread beside its parts up to this
#: many rows of them. At 10M people, beside the parts, the checks of the 20M rows that
#: ``compliance`` holds whole raised validation's peak by 0.16-0.27 GB (its validation took
#: 31-37 s instead of 34-45 s), and those of the 39M rows that ``validate`` holds whole (the
#: households and their members too) by 0.9-1.3 GB, to 7.3-7.75 GB against the 8 GB target
#: (``benchmarks/README.md``): beyond this they run first, on the caller's thread.
HELD_BESIDE_ROWS = 30_000_000


def _held_beside(held_rows: int, *, two: bool) -> bool:
    """Whether the checks of the tables held whole (``held_rows`` rows) run on a second thread
    beside a province's parts (:func:`_run_checks`): not where two threads share every check
    (``two``), within :data:`HELD_BESIDE_ROWS`, and where the memory allows
    (:func:`~fpanalysis.core.ahead.fits_beside`).

    Examples:
        >>> _held_beside(30_000_000, two=True), _held_beside(HELD_BESIDE_ROWS + 1, two=False)
        (False, False)
    """
    return not two and held_rows <= HELD_BESIDE_ROWS and ahead.fits_beside(held_rows)


#: The checks of the tables held whole, the slowest first (as measured on 2M people).
_HELD_COST = ["id_numbers", "conditional", "references", "columns", "key_ids", "dates"]
