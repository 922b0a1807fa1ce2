"""Assessment of hardship households on a date (rulebook §6).

Eligibility, tier, FP type and entitlement of every household against the
低保 standard in force, and the default as-of date. Money is exact: incomes
and standards are converted once to integer fen (half up, through
``Decimal``) and compared in integers: eligible iff ``income < standard ×
size``, the tier from the ratio against each band as a fraction, the
entitlement ``standard × size − income`` rounded up to whole yuan.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import DataError
from fpanalysis.core.numbers import as_written, yuan_to_fen, yuan_to_fen_column
from fpanalysis.core.params import Params
from fpanalysis.core.schema import last_recorded_date
from fpanalysis.rules.frames import texts_at
from fpanalysis.rules.relief.fp_types import (
    Children,
    derive_without_evidence,
    fp_type_problems,
    with_evidence,
)

RELIEF_TABLES = ("households", "household_members")
#: the tables whose recorded dates (``schema.Column.recorded``) give the default as-of date
RECORDED_TABLES = ("households",)


def default_as_of(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp:
    """The households' last recorded date: the latest application or review date.

    The default as-of date of ``relief`` and ``review`` (rulebook general
    conventions: defaults come from the data, never from today).

    Raises:
        DataError: the households table has no dates at all.
    """
    last = last_recorded_date(tables, among=RECORDED_TABLES)
    if last is None:
        raise DataError(
            "低保户表没有任何申请日期或复核日期，无法确定基准日；请用 --as-of 指定",
            "the households table has no application or review dates to take the as-of date "
            "from; give --as-of",
            rule="as_of",
        )
    return last.normalize()


def _standards(area: pd.Series, params: Params, as_of: pd.Timestamp) -> pd.Series:
    """The standard in force on ``as_of`` per household's area, in fen (Int64)."""
    codes, areas = pd.factorize(area)  # each area's standard once
    fen = [yuan_to_fen(params.dibao_standard(a, as_of)) for a in areas.tolist()]
    out = pd.array(np.take(np.asarray(fen + [0], dtype=np.int64), codes), dtype="Int64")
    out[codes < 0] = pd.NA
    return pd.Series(out, index=area.index, name=area.name)


def assess(
    tables: Mapping[str, pd.DataFrame], params: Params, as_of: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eligibility, tier, FP type and entitlement of every household on ``as_of`` (rulebook §6).

    Returns:
        ``(assessed, problems)``: ``assessed`` has one row per household (the
        households' index) with the input columns and ``income_fen``,
        ``standard_fen``, ``standard_yuan``, ``eligible``, ``ratio_tier``,
        ``tier``, ``tier_basis`` (``assessed``/``ratio``), ``fp_type``,
        ``fp_priority``, ``per_capita_income_yuan`` (cut, not rounded, to the
        fen, for display: 2309.99 yuan for 3 shows 769.99, never the standard
        770.00 it is below), ``pc_key`` (exact ranking key), ``entitlement_fen`` and
        ``entitlement_yuan`` (whole yuan, rounded up; eligible only), and the
        FP evidence; ``problems`` as :func:`fp_type_problems`.
    """
    assessed, problems, children = assess_lean(tables, params, as_of)
    return with_evidence(assessed, children), problems


def assess_lean(
    tables: Mapping[str, pd.DataFrame], params: Params, as_of: Any
) -> tuple[pd.DataFrame, pd.DataFrame, Children]:
    """:func:`assess` with the FP evidence's texts left for later (a lean round's): the
    frame has :data:`~.fp_types.EVIDENCE_INPUT_COLUMNS` where it would have ``fp_evidence_zh``
    and ``fp_evidence_en``, and the children they list come third;
    :func:`~.fp_types.with_evidence` of any of its rows writes them."""
    as_of = pd.Timestamp(as_of).normalize()
    # its own columns; the households' data shared with the table given (copy on write)
    h = tables["households"].copy(deep=False)
    derived, children = derive_without_evidence(h, tables["household_members"])
    problems = fp_type_problems(h, derived, children)

    size = h["size"].astype("int64")
    income = yuan_to_fen_column(h["monthly_income"]).astype("int64")
    std = _standards(h["area"], params, as_of).astype("int64")
    line = std * size
    eligible = income < line

    bands = params.at("tier_bands", as_of)
    reached = pd.Series(0, index=h.index, dtype="int64")
    for b in bands:
        f = Fraction(as_written(float(b)))
        reached += (income * f.denominator >= f.numerator * line).astype("int64")
    ratio_tier = (1 + reached).clip(upper=len(bands)).astype("Int64").where(eligible, pd.NA)
    assessed_tier = h["assessed_tier"].astype("Int64")
    tier = assessed_tier.where(assessed_tier.notna(), ratio_tier)
    basis = pd.Series(
        texts_at(
            ("assessed", "ratio"),
            np.where(tier.notna(), np.where(assessed_tier.notna(), 0, 1), -1),
        ),
        index=h.index,
    )

    ent_fen = (line - income).astype("Int64").where(eligible)
    ent_yuan = -((-ent_fen) // 100)  # ceiling to whole yuan, in integers

    h["income_fen"] = income
    h["standard_fen"] = std
    h["standard_yuan"] = std / 100
    h["eligible"] = eligible.astype("boolean")
    h["ratio_tier"] = ratio_tier
    h["tier"] = tier
    h["tier_basis"] = basis
    h["fp_type"] = derived["fp_type"]
    h["fp_priority"] = derived["fp_type"].notna()
    # cut to the fen (rulebook §6.7): a household below the standard never shows it
    h["per_capita_income_yuan"] = (income // size) / 100
    h["pc_key"] = income / size
    h["entitlement_fen"] = ent_fen
    h["entitlement_yuan"] = ent_yuan
    for c in (
        "n_children",
        "n_daughters",
        "sterilized_members",
        "fp_branch",
        "children_at",
    ):
        h[c] = derived[c]
    return h, problems, children
