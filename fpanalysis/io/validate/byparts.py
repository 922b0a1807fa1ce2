"""A large table checked a part (Parquet part file) at a time, so that a province's surveys and
check attendances are never held whole while the dataset is validated: each part is read typed,
its rows keep their numbers in the whole table, and every check that looks at one row at a time
(required values, codes, bounds, dates, references to the other tables, the checks across
tables) runs on it against the other tables, held whole; then the part is let go. Only what
compares rows of different parts is kept: the key columns (duplicate keys, compared once every
part is read) and two counts per key column (how many of its values look like ID numbers).

The tables checked so are those no other table refers to (:data:`BY_PART_TABLES`): nothing
looks up a row of theirs, so no other check needs them whole. The problems are the ones found
when the table is read whole, with the same rows, keys, values and messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import Dataset, Problem, RawTables
from fpanalysis.core.privacy import id_shaped
from fpanalysis.io.typed import TypedPlan
from fpanalysis.io.validate.columns import column_problems, unique_problems
from fpanalysis.io.validate.crossfield import conditional, date_bounds, date_order, references
from fpanalysis.io.validate.findings import shared_lookups
from fpanalysis.io.validate.idnumbers import key_id_problem
from fpanalysis.io.validate.problems import drop_shadowed, fill_keys_and_values, finding_problems

__all__ = ["BY_PART_TABLES", "ROWS_AT_ONCE", "PartChecks", "check_by_part", "slices"]

_REFERRED = {
    c.references.split(".")[0] for t in schema.TABLES_LIST for c in t.columns if c.references
}
#: Tables that may be checked a part at a time: no column of another table refers to them, and
#: no check counts or reads their rows as a whole (the households' checks read the members).
BY_PART_TABLES = frozenset(
    t for t in schema.TABLES if t not in _REFERRED and t != "household_members"
)
#: Rows read and checked at once: consecutive parts are taken together up to this many rows
#: (a province's surveys in a few slices of under a gigabyte each), since each look-up of a
#: slice's references hashes the whole column it refers to again (a table at a county's scale
#: is checked in one slice, as when read whole).
ROWS_AT_ONCE = 8_000_000


@dataclass
class PartChecks:
    """The problems of a table checked a part at a time, by the kind of check that found them
    (the order in which :func:`~fpanalysis.io.validate.validate_dataset` gathers them), each
    with its row's key and the value as typed already filled in."""

    reading: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    columns: list[Problem] = field(default_factory=list)
    key_ids: list[Problem] = field(default_factory=list)
    findings: list[Problem] = field(default_factory=list)


def check_by_part(
    dataset: Dataset,
    table: str,
    plan: TypedPlan,
    as_of: pd.Timestamp,
    after_part: Callable[[str, pd.DataFrame], None] | None = None,
) -> PartChecks:
    """Check ``table`` (not among ``dataset``'s frames) a part of ``plan`` at a time against the
    tables ``dataset`` holds; ``after_part(table, frame)`` is given each part once checked.

    The raw reader of the table in ``dataset.raw`` gets the table's row numbers.
    """
    t = schema.TABLES[table]
    out = PartChecks()
    keys = _Keys(plan)
    indexes: list[pd.Index] = []
    id_counts = {c.name: [0, 0] for c in t.columns if c.type == "id"}
    for which in slices(plan, ROWS_AT_ONCE):
        got = plan.read(which, header_problems=False, one_chunk=False)
        frame = got.frame
        view = dataset.replace_frames({**dict(dataset), table: frame})
        with shared_lookups():  # the look-ups of one part, let go with it
            cols = [
                Problem(table, r, col, None, rule, zh, en, "error", None, view.file_of(table, r))
                for r, col, rule, zh, en in column_problems(table, frame, unique=False)
            ]
            refs, notes = references(view, only=table)
            findings = refs + date_order(view, only=table) + date_bounds(view, as_of, only=table)
            findings += conditional(view, only=table)
        found = finding_problems(view, findings)
        if which[0] == 0:
            out.notes += notes  # a reference to a table not given: said once, not per part
        # a type error stands for the emptiness it causes: both are in this part
        kept = set(drop_shadowed(got.problems + cols + found))
        part = Dataset(
            {table: frame},
            raw=RawTables(readers={table: got.raw}),
            headers={table: plan.found},
        )
        fill = fill_keys_and_values
        out.reading += fill(part, [p for p in got.problems if p in kept])
        out.columns += fill(part, [p for p in cols if p in kept])
        out.findings += fill(part, [p for p in found if p in kept])
        for name, counts in id_counts.items():
            if name in frame:
                counts[0] += int(id_shaped(frame[name]).sum())
                counts[1] += int(frame[name].notna().sum())
        keys.add(which, frame[list(t.key)])
        indexes.append(frame.index)
        del view, part, got
        if after_part is not None:
            after_part(table, frame)
        del frame
    index = _joined(indexes)
    plan.raw.index = index  # the table's raw rows (dataset.raw), now that they are counted
    for c in t.columns:
        n, total = id_counts.get(c.name, (0, 0))
        if n and c.name in plan.found:
            out.key_ids.append(key_id_problem(table, c, n, total, dataset.file_of(table)))
    out.columns += _duplicates(dataset, table, plan, keys.held)
    return out


def slices(plan: TypedPlan, rows: int) -> list[list[int]]:
    """The parts of ``plan`` in consecutive groups, each of the fewest parts that hold ``rows``
    rows or more (the last may hold fewer).

    Examples:
        >>> from types import SimpleNamespace as N
        >>> slices(N(parts=[N(rows=4), N(rows=4), N(rows=1), N(rows=9), N(rows=2)]), 5)
        [[0, 1], [2, 3], [4]]
    """
    out: list[list[int]] = [[]]
    held = 0
    for k, part in enumerate(plan.parts):
        if held >= rows:
            out.append([])
            held = 0
        out[-1].append(k)
        held += part.rows
    return out


class _Keys:
    """The key columns of a table's slices, for the duplicate keys across them, held only when
    needed: while every slice's keys are in increasing order, each after the last of the slice
    before (keys written in order, as usual), no key can repeat and none is held; the first
    slice out of order has the keys of the slices before it read again, and from then on every
    slice's keys are held."""

    def __init__(self, plan: TypedPlan) -> None:
        self.plan = plan
        self.columns = list(plan.table.key)
        self.held: list[pd.DataFrame] = []
        self.read: list[list[int]] = []  # the slices seen, in order
        self.ordered = True
        self.last: tuple | None = None  # the last key of the slices seen, while in order

    def add(self, which: list[int], keys: pd.DataFrame) -> None:
        if self.ordered and self._follows_on(keys):
            self.read.append(which)
            return
        if self.ordered:  # out of order: the keys of the slices before are needed after all
            self.ordered = False
            for earlier in self.read:
                frame = self.plan.read(earlier, header_problems=False, one_chunk=False).frame
                self.held.append(frame[self.columns])
                del frame
        self.read.append(which)
        self.held.append(keys)

    def _follows_on(self, keys: pd.DataFrame) -> bool:
        """Whether these keys increase, none missing, and come after the last ones seen."""
        from fpanalysis.core.dataset import arrow_text
        from fpanalysis.io.validate.columns import _strictly_increasing

        if not len(keys):
            return True
        arrays = [arrow_text(keys[c]) for c in self.columns]
        if any(a.null_count for a in arrays):
            return False
        if len(keys) > 1 and not _strictly_increasing(arrays):
            return False
        # text compared by code point, as Arrow compares UTF-8 bytes
        first = tuple(a[0].as_py() for a in arrays)
        if self.last is not None and not self.last < first:
            return False
        self.last = tuple(a[len(keys) - 1].as_py() for a in arrays)
        return True


def _joined(indexes: list[pd.Index]) -> pd.Index:
    """The parts' row numbers as one index: a range when they follow on with no blank row (no
    memory taken by tens of millions of numbers), else the numbers."""
    pieces = [i for i in indexes if len(i)]
    if not pieces:
        return pd.Index([], dtype="int64", name="row")
    follow_on = all(int(i[-1]) - int(i[0]) == len(i) - 1 for i in pieces) and all(
        int(b[0]) == int(a[-1]) + 1 for a, b in zip(pieces, pieces[1:], strict=False)
    )
    if follow_on:
        return pd.RangeIndex(int(pieces[0][0]), int(pieces[-1][-1]) + 1, name="row")
    return pd.Index(np.concatenate([np.asarray(i) for i in pieces]), dtype="int64", name="row")


def _duplicates(
    dataset: Dataset, table: str, plan: TypedPlan, keys: list[pd.DataFrame]
) -> list[Problem]:
    """The duplicate keys across every part, with each row's key and key value as typed."""
    if not keys:
        return []
    whole = _stacked(keys)
    keys.clear()
    found = unique_problems(table, whole)
    if not found:
        return []
    probs = [
        Problem(table, row, col, None, rule, zh, en, "error", None, dataset.file_of(table, row))
        for row, col, rule, zh, en in found
    ]
    rows = sorted({p.row for p in probs})
    part = Dataset(
        {table: whole.loc[rows]},
        raw=RawTables(readers={table: plan.reader(pd.Index(rows, dtype="int64", name="row"))}),
        headers={table: plan.found},
    )
    return fill_keys_and_values(part, probs)


def _stacked(keys: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' key columns as one frame, each part's columns let go once stacked. A text
    column keeps its parts' Arrow chunks (not joined: the duplicates are found chunk by chunk,
    :func:`~fpanalysis.io.validate.columns._duplicated`)."""
    columns = {}
    for c in list(keys[0].columns):
        columns[c] = pd.concat([k.pop(c) for k in keys]) if len(keys) > 1 else keys[0].pop(c)
    index = columns[next(iter(columns))].index
    return pd.DataFrame(columns, index=index, copy=False)
