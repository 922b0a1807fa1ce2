"""A round of minimum-living relief (rulebook §6): :func:`rank_households` and its result.

The round assesses every household, ranks and selects each pool and gives
every household a plain-language reason. A *lean* round leaves the texts out
and writes them a slice at a time as its table is written (a province's
millions of reasons are never all in memory); how the slices' texts are
written may be handed in (:attr:`ReliefResult.runner`), so an engine can
write them elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import ahead
from fpanalysis.core.params import Params
from fpanalysis.core.timings import phase
from fpanalysis.rules.relief.assess import default_as_of
from fpanalysis.rules.relief.fp_types import (
    EVIDENCE_INPUT_COLUMNS,
    Children,
    put_evidence,
    with_evidence,
)
from fpanalysis.rules.relief.selection import (
    SELECTION_INPUT_COLUMNS,
    absent,
    check_round_options,
    not_ranked,
    prepare_lean_round,
    prepare_round,
    rank_and_select,
)
from fpanalysis.rules.relief.texts import (
    ABOVE_PREFIX,
    TEXT_INPUT_COLUMNS,
    reason_texts,
    texts_for,
)

# Output columns of :func:`rank_households`, in order.
RELIEF_COLUMNS = [
    "pool",
    "rank",
    "household_id",
    "area",
    "township",
    "head_name",
    "size",
    "monthly_income",
    "eligible",
    "tier",
    "tier_basis",
    "fp_type",
    "per_capita_income_yuan",
    "standard_yuan",
    "entitlement_yuan",
    "cumulative_yuan",
    "incumbent",
    "selected",
    "selection",
    "application_date",
    "reason_zh",
    "reason_en",
]

# The columns the CLI writes (head_name masked unless revealed).
CLI_COLUMNS = [
    "rank",
    "household_id",
    "area",
    "township",
    "head_name",
    "eligible",
    "tier",
    "fp_type",
    "per_capita_income_yuan",
    "standard_yuan",
    "entitlement_yuan",
    "selected",
    "selection",
    "reason_zh",
    "reason_en",
]

#: Rows per slice when a lean round's texts are written (about 100 MB of texts and
#: working columns).
CHUNK_ROWS = 100_000


@dataclass
class ReliefResult:
    """A round of relief selection: the table, the problems, the notes and the cut.

    Attributes:
        table: one row per household of the pool(s) (:data:`RELIEF_COLUMNS`
            plus working columns), ranked households first in rank order.
        problems: data problems (:func:`fp_type_problems`), shown as warnings.
        notes: ``(zh, en)`` lines the output must say (incumbents exceeding the
            quota or budget, a pool with nobody new).
        as_of: the date the standards and tiers are taken on.
        pool: ``all``, ``urban``, ``rural`` or ``separate``.
        quota, budget_yuan: what limited the round (``None`` = no limit).
        order: the ranking order used.
    """

    table: pd.DataFrame
    problems: pd.DataFrame
    notes: list[tuple[str, str]]
    as_of: pd.Timestamp
    pool: str = "all"
    quota: Any = None
    budget_yuan: Any = None
    order: tuple[str, ...] = field(default_factory=tuple)
    bands: tuple = ()
    #: How a lean round's texts are written: ``runner(slices, bands, order)`` yields
    #: :func:`texts_for` of each slice, in order. ``None``: here, one slice after another;
    #: an engine may hand in one that writes them elsewhere (in its workers).
    runner: Callable[..., Iterator[pd.DataFrame]] | None = field(
        default=None, repr=False, compare=False
    )
    #: A lean round made here leaves its FP evidence for later too: the table has
    #: :data:`EVIDENCE_INPUT_COLUMNS` in its place, and these are the children it lists (its
    #: slices' texts are then written here, whatever ``runner``). ``None``: the table has the
    #: evidence.
    children: Children | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of_round(
        cls,
        table: pd.DataFrame,
        problems: pd.DataFrame,
        notes: list[tuple[str, str]],
        params: Params,
        as_of: pd.Timestamp,
        *,
        pool: str,
        quota: Any,
        budget_yuan: Any,
        runner: Callable[..., Iterator[pd.DataFrame]] | None = None,
        children: Children | None = None,
    ) -> ReliefResult:
        """The result of a round on ``as_of``, with the ranking order and bands in force then."""
        return cls(
            table=table,
            problems=problems,
            notes=notes,
            as_of=as_of,
            pool=pool,
            quota=quota,
            budget_yuan=budget_yuan,
            order=tuple(params.at("ranking_order", as_of)),
            bands=tuple(params.at("tier_bands", as_of)),
            runner=runner,
            children=children,
        )

    @property
    def selected(self) -> pd.DataFrame:
        """The selected households in rank order."""
        t = self.table
        return t[t["selected"].fillna(False).astype(bool)]

    @property
    def lean(self) -> bool:
        """Whether the texts (:data:`TEXT_COLUMNS`) are still to be written (:meth:`chunks`)."""
        return "reason_zh" not in self.table.columns

    def output_columns(self) -> list[str]:
        """The CLI's columns (:data:`CLI_COLUMNS`; ``pool`` first when the pools run separately)."""
        return CLI_COLUMNS if self.pool != "separate" else ["pool", *CLI_COLUMNS]

    def chunks(
        self, rows: int | None = None, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """The table a slice of ``rows`` rows at a time, with every text, in table order.

        A lean round writes each slice's texts when it is reached, so the
        texts of a province (gigabytes) are never all in memory: a writer
        appends slice after slice. At least one (maybe empty) slice comes, so
        a writer always gets the header. Joined, the slices are the table
        :func:`rank_households` gives with ``texts=True``. ``rows`` defaults
        to :data:`CHUNK_ROWS`.
        """
        rows = rows or CHUNK_ROWS
        t = self.table
        n = len(t)
        starts = range(0, n, rows) if n else range(1)
        if not self.lean:
            for s in starts:
                piece = t.iloc[s : s + rows]
                yield piece if columns is None else piece[columns]
            return
        slices = (t.iloc[s : s + rows] for s in starts)
        # two slices' texts made at once where two threads' memory allows the round's rows
        here = partial(_texts_here, workers=2 if ahead.two_threads(n) else 1)
        wanted = list(TEXT_INPUT_COLUMNS)
        if self.children is not None:  # the evidence too, from the children held here
            wanted += EVIDENCE_INPUT_COLUMNS
            run = partial(here, children=self.children)
        else:  # (an engine's runner is sent only what the texts need)
            run = self.runner or here
        inputs = (sl[[c for c in wanted if c in sl.columns]] for sl in slices)
        for s, texts in zip(starts, run(inputs, self.bands, self.order), strict=True):
            yield with_texts(t.iloc[s : s + rows], texts, columns)

    def with_texts(self) -> ReliefResult:
        """This round with every text written (itself when it is not lean)."""
        if not self.lean:
            return self
        table = pd.concat(list(self.chunks()))
        return dataclasses.replace(
            self, table=table.reset_index(drop=True), runner=None, children=None
        )

    def output(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The table with the CLI's columns (:data:`CLI_COLUMNS`), unmasked."""
        cols = columns or self.output_columns()
        if self.lean:
            return pd.concat(list(self.chunks(columns=cols))).reset_index(drop=True)
        return self.table[cols].reset_index(drop=True)

    def output_chunks(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`output` a slice at a time (what the CLI writes)."""
        for piece in self.chunks(rows, columns=self.output_columns()):
            yield piece.reset_index(drop=True)


def with_texts(
    lean: pd.DataFrame, texts: pd.DataFrame, columns: list[str] | None = None
) -> pd.DataFrame:
    """Rows of a lean table with their texts, in the columns and order of the full table.

    ``decided_zh``/``decided_en`` take the place of the ``above__`` columns
    (where :func:`rank_pool` writes them), ``fp_evidence_zh``/``fp_evidence_en`` that of
    ``fp_branch`` and ``children_at`` where the texts bring them (a round that left the
    evidence for later); ``reason_zh``/``reason_en`` come last.
    ``columns``: only these, in this order (the full table's ``[columns]``).
    """
    placed = {"decided_zh", "decided_en", "fp_evidence_zh", "fp_evidence_en"}
    if columns is not None and not placed & set(columns):
        out = lean[[c for c in columns if c in lean.columns]].copy()
        for c in ("reason_zh", "reason_en"):  # texts (``str``), as written
            out[c] = texts[c].astype("str").array
        return out[columns]
    cols = list(lean.columns)
    above = [c for c in cols if c.startswith(ABOVE_PREFIX)]
    out = lean.drop(columns=above)
    if above:  # a round with no household has no ranking columns (as the full table)
        at = cols.index(above[0])
        # object, as the stacked full table has them
        for k, c in enumerate(("decided_zh", "decided_en")):
            out.insert(
                at + k, c, pd.Series(texts[c].to_numpy(object), index=out.index, dtype=object)
            )
    if "fp_evidence_zh" in texts.columns and "fp_branch" in out.columns:
        out = put_evidence(out, texts["fp_evidence_zh"], texts["fp_evidence_en"])
    for c in ("reason_zh", "reason_en"):  # texts (``str``), as written
        out[c] = texts[c].astype("str").array
    return out if columns is None else out[columns]


def _texts_here(
    slices: Iterable[pd.DataFrame],
    bands: tuple,
    order: Iterable[str],
    *,
    workers: int = 2,
    children: Children | None = None,
) -> Iterator[pd.DataFrame]:
    """Each slice's texts (:func:`texts_for`), ``workers`` slices made at once (pyarrow's text
    kernels let go of the interpreter; :func:`~fpanalysis.core.ahead.in_order`): the same
    texts, in the same order. With ``children``, each slice's FP evidence is written first
    (:func:`~.fp_types.with_evidence`) and comes with its texts."""
    order = tuple(order)

    def texts(sl: pd.DataFrame) -> pd.DataFrame:
        if children is None:
            return texts_for(sl, bands, order)
        sl = with_evidence(sl, children, threads=False)
        out = texts_for(sl, bands, order)
        out["fp_evidence_zh"] = sl["fp_evidence_zh"]
        out["fp_evidence_en"] = sl["fp_evidence_en"]
        return out

    yield from ahead.in_order(texts, slices, workers=workers)


def rank_households(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    quota: int | Mapping[str, int] | None = None,
    budget_yuan: Any = None,
    pool: str = "all",
    previous_round: Any = None,
    texts: bool = True,
) -> ReliefResult:
    """Rank and select hardship households for 低保 on ``as_of`` (rulebook §6).

    Args:
        tables: ``households`` and ``household_members`` (typed frames).
        params: parameters (``dibao_standard_yuan``, ``tier_bands``, ``ranking_order``).
        as_of: the date of the round; default :func:`default_as_of`.
        quota: households per round (new admissions are limited; continuing
            households are never dropped). A mapping per area with ``pool="separate"``.
        budget_yuan: monthly budget in yuan (same rules). A mapping per area
            with ``pool="separate"``.
        pool: ``all`` (one pool), ``urban``, ``rural`` or ``separate``.
        previous_round: the last recorded round's selection (a frame with
            ``household_id`` and ``selected``, or the selected ids); those
            households count as receiving relief now, like ``receiving``.
        texts: write every text now. ``False`` gives a *lean* round: the
            same table without :data:`TEXT_COLUMNS`, whose texts
            :meth:`ReliefResult.chunks` writes a slice at a time (a province's
            millions of reasons need not all be in memory at once).

    Returns:
        A :class:`ReliefResult`; ``result.table`` has a reason for every household.

    Raises:
        UsageError: an unknown pool, a negative quota or budget, or a missing per-pool limit.

    Examples:
        >>> import textwrap
        >>> from fpanalysis.core.params import load_params
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [
        ...     {"household_id": "H1", "head_name": "张三", "area": "urban", "size": 2,
        ...      "monthly_income": 300.0, "application_date": "2025-03-01"},
        ...     {"household_id": "H2", "head_name": "李四", "area": "urban", "size": 1,
        ...      "monthly_income": 800.0, "application_date": "2025-03-02"}])
        >>> mm = coerce("household_members", [
        ...     {"member_id": "M1", "household_id": "H1", "relation": "head", "sex": "F"},
        ...     {"member_id": "M2", "household_id": "H1", "relation": "child", "sex": "F"},
        ...     {"member_id": "M3", "household_id": "H2", "relation": "head", "sex": "M"}])
        >>> tables = {"households": hh, "household_members": mm}
        >>> r = rank_households(tables, load_params(), "2025-06-30")
        >>> columns = ["household_id", "rank", "tier", "fp_type", "entitlement_yuan", "selected"]
        >>> r.table[columns].astype(object).values.tolist()
        [['H1', 1, 1, 'only_daughter', 1240, True], ['H2', <NA>, <NA>, nan, <NA>, False]]
        >>> print(textwrap.fill(r.table.loc[0, "reason_en"], 90))
        rank 1. tier 1 (income ratio = household income / (standard x size) = 300.00 / 1540.00 =
        0.1948, below 0.3); only-daughter household: the only child M2 (F) is a daughter;
        household income 300.00 yuan < urban standard 770 x 2 = 1540.00 yuan: eligible;
        entitlement 1540.00 - 300.00, rounded up to 1240 yuan a month; ranking: first in the pool;
        admitted: no quota or budget (all who qualify are covered)
    """
    check_round_options(quota, budget_yuan, pool)
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    order = tuple(params.at("ranking_order", as_of))
    with phase("rules relief assessed"):
        if texts:
            assessed, problems = prepare_round(
                tables, params, as_of, pool=pool, previous_round=previous_round
            )
            children = None
        else:  # the FP evidence, texts too, is written with the reasons, a slice at a time
            assessed, problems, children = prepare_lean_round(
                tables, params, as_of, pool=pool, previous_round=previous_round
            )
    # The pools are ranked and selected on their keys alone; the table's other columns are
    # then taken from the assessed rows a column at a time (a province's wide rows, copied
    # once). Rows are found by their labels: distinct ones (a table's row numbers).
    narrow = assessed.index.is_unique
    keys = assessed[[c for c in assessed.columns if c in SELECTION_INPUT_COLUMNS]]
    with phase("rules relief ranked and selected"):
        parts, notes = _rank_pools(
            keys if narrow else assessed,
            order,
            quota=quota,
            budget_yuan=budget_yuan,
            pool=pool,
            texts=texts,
        )
    del keys
    with phase("rules relief table"):
        if narrow and parts:
            sizes = [len(p_) for p_ in parts]
            table = _stack(parts, assessed)
            parts.clear()  # the keys' parts, stacked: not held while the wide table is built
            table = _widen(table, sizes, assessed)
            del assessed
            table = _with_reasons(table, params, as_of, texts=texts)
        else:
            table = finish_table(parts, assessed, params, as_of, texts=texts)
    return ReliefResult.of_round(
        table,
        problems,
        notes,
        params,
        as_of,
        pool=pool,
        quota=quota,
        budget_yuan=budget_yuan,
        children=children,
    )


def _rank_pools(
    assessed: pd.DataFrame, order: tuple[str, ...], **limits: Any
) -> tuple[list[pd.DataFrame], list[tuple[str, str]]]:
    """Each pool ranked and selected (:func:`rank_and_select`) and its unranked rows
    (:func:`not_ranked`): the parts of the table, in order, and the round's notes.
    ``limits``: :func:`rank_and_select`'s keywords (the limits, the pool option, ``texts``)."""
    parts, notes = [], []
    for p in sorted(assessed["pool"].dropna().unique()):
        in_pool = assessed["pool"].eq(p)
        a = assessed if in_pool.all() else assessed[in_pool]  # one pool: no copy
        sel, n = rank_and_select(a, order, p, **limits)
        notes += n
        parts += [sel, not_ranked(a, sel)]
    return parts, notes


def _widen(narrow: pd.DataFrame, sizes: list[int], assessed: pd.DataFrame) -> pd.DataFrame:
    """The table stacked from the keys' parts (:func:`_stack`) with the assessed rows' other
    columns, in the order of the table stacked from the whole rows (:func:`finish_table`).

    ``sizes``: the rows of each part, in order. Each column is taken from ``assessed`` once,
    part by part as the whole rows' stacking takes it (the same pieces: a text column's
    Arrow chunks, where a Parquet file's pages are cut, are the same), and dropped from
    ``assessed`` (which is left without them). The columns are taken by two threads where
    :func:`~fpanalysis.core.ahead.two_threads` allows (Arrow's take lets go of the
    interpreter; a province's texts are most of this step), each column whole by one.
    """
    positions = assessed.index.get_indexer(narrow.index)
    ends = np.cumsum(sizes)
    pieces = list(zip(ends - np.asarray(sizes), ends, strict=True))
    columns = list(assessed.columns) + [c for c in narrow.columns if c not in assessed.columns]
    sources = {c: assessed.pop(c).array for c in columns if c not in narrow.columns}

    def taken(c: str) -> Any:
        arr = sources.pop(c)  # let go once taken
        got = [arr.take(positions[s:e]) for s, e in pieces]
        return got[0] if len(got) == 1 else type(arr)._concat_same_type(got)

    # the largest first: the second thread starts with it (both_ends)
    work = [(c, partial(taken, c)) for c in sorted(sources, key=lambda c: -sources[c].nbytes)]
    if ahead.two_threads(len(narrow)):
        done = ahead.both_ends(work)
    else:
        done = {c: w() for c, w in work}
    out = pd.DataFrame(index=narrow.index)
    for c in columns:
        out[c] = narrow[c] if c in narrow.columns else pd.Series(done.pop(c), index=out.index)
    return out


#: The ranking columns the unranked rows lack, with the type the stacked table gives them.
_GAP_TYPES = {
    "decided_by": "str",
    "above_id": "str",
    ABOVE_PREFIX + "household_id": "str",
    ABOVE_PREFIX + "rank": "Int64",
    ABOVE_PREFIX + "tier": "Int64",
    ABOVE_PREFIX + "fp_priority": "boolean",
    ABOVE_PREFIX + "application_date": "datetime64[ns]",
}


def _typed_gaps(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The parts with the ranking columns some lack added as missing values of their type.

    Stacked with untyped gaps (NaN), such a column is Python objects that
    :func:`finish_table` then types (slow at province scale); typed before, it
    is the same column. Only where every part that has the column has it of
    that type (a ``fp_priority`` above of ``True``/``False``/NaN is typed first).
    """
    out = list(parts)
    for c, dtype in _GAP_TYPES.items():
        have = [k for k, p_ in enumerate(out) if c in p_.columns]
        if not have or len(have) == len(out):
            continue
        if dtype == "boolean":
            for k in have:
                if out[k][c].dtype == object:
                    out[k] = out[k].assign(**{c: out[k][c].astype("boolean")})
        if any(str(out[k][c].dtype) != dtype for k in have):
            continue
        for k, p_ in enumerate(out):
            if c not in p_.columns:
                gap = pd.Series(absent(len(p_), dtype), index=p_.index)
                out[k] = p_.assign(**{c: gap})
    return out


def finish_table(
    parts: list[pd.DataFrame],
    assessed: pd.DataFrame,
    params: Params,
    as_of: pd.Timestamp,
    *,
    texts: bool = True,
) -> pd.DataFrame:
    """Stack the pools' ranked and unranked rows, fix the types and write every reason.

    ``texts=False``: no reasons (a lean table, :func:`rank_households`).
    """
    return _with_reasons(_stack(parts, assessed), params, as_of, texts=texts)


def _with_reasons(
    table: pd.DataFrame, params: Params, as_of: pd.Timestamp, *, texts: bool
) -> pd.DataFrame:
    """The stacked table with every reason (``texts``), numbered from 0."""
    if texts:
        table["reason_zh"], table["reason_en"] = reason_texts(
            table, tuple(params.at("tier_bands", as_of))
        )
    return table.reset_index(drop=True)


def _shared_texts(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The parts with the selection's reasons as Python texts, each text once.

    The unranked rows lack them, so stacked they are Python objects anyway; made one per
    row from Arrow they cost ~200 bytes a row (a province: gigabytes), while most rows share
    one of a few texts (every continuing household's, every household below the cut's).
    The same values, shared.
    """
    out = list(parts)
    for c in ("why_zh", "why_en"):
        have = [k for k, p_ in enumerate(out) if c in p_.columns]
        if not have or len(have) == len(out):
            continue
        for k in have:
            s = out[k][c]
            if s.dtype == "str":
                codes, uniques = pd.factorize(s, use_na_sentinel=False)
                texts = uniques.to_numpy(dtype=object).take(codes)
                out[k] = out[k].assign(**{c: pd.Series(texts, index=s.index, dtype=object)})
    return out


def _stack(parts: list[pd.DataFrame], assessed: pd.DataFrame) -> pd.DataFrame:
    """The pools' ranked and unranked rows stacked, their types fixed (:func:`finish_table`
    without the reasons; the parts' row labels kept)."""
    cols = list(dict.fromkeys([c for p_ in parts for c in p_.columns]))
    parts = _shared_texts(_typed_gaps(parts))
    table = pd.concat([p_.reindex(columns=cols) for p_ in parts]) if parts else assessed.iloc[0:0]
    for c, dtype in (("rank", "Int64"), ("selected", "boolean"), ("cumulative_fen", "Int64")):
        if c not in table:
            table[c] = pd.Series(dtype=dtype)
        if str(table[c].dtype) != dtype:
            table[c] = table[c].astype(dtype)
    if "selection" not in table:  # no household: the columns exist still (an empty output)
        table["selection"] = pd.Series(dtype="str")
    table["cumulative_yuan"] = table["cumulative_fen"] / 100
    table["incumbent"] = table["incumbent"].astype(bool)
    for c in (ABOVE_PREFIX + "rank", ABOVE_PREFIX + "tier"):
        if c in table:  # the unranked rows' NaN made them floats: "rank 3", not "rank 3.0"
            v = table[c]
            na = v.isna().to_numpy()
            # no NaN is cast (np.seterr)
            ints = v.astype("float64").fillna(0).to_numpy().astype(np.int64)
            table[c] = pd.arrays.IntegerArray(ints, na)
    # Stacking with the unranked rows' NaN left these as Python objects (~60-110 bytes a row; a
    # province's table is millions of rows): typed, they are the same values in a fraction of it.
    for c, dtype in (
        ("decided_by", "str"),
        ("above_id", "str"),
        (ABOVE_PREFIX + "household_id", "str"),
        (ABOVE_PREFIX + "fp_priority", "boolean"),
        (ABOVE_PREFIX + "application_date", "datetime64[ns]"),
    ):
        if c in table and table[c].dtype == object:
            table[c] = table[c].astype(dtype)
    return table
