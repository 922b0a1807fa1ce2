"""The cut line of a relief round (rulebook §6).

The households just above and just below each pool's cut line, with the
ranking key (or the continuing households' prior claim) that puts one above
the other and why the line falls there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fpanalysis.rules.relief.ranking import sort_frame
from fpanalysis.rules.relief.texts import KEY_LABELS, key_value_text

if TYPE_CHECKING:
    from fpanalysis.rules.relief.result import ReliefResult

SIDES = ("waiting", "admitted", "continuing")
CUT_COLUMNS = [
    "pool",
    "side",
    "rank",
    "household_id",
    "selection",
    "tier",
    "fp_type",
    "per_capita_income_yuan",
    "application_date",
    "entitlement_yuan",
    "cumulative_yuan",
    "separated_by_zh",
    "separated_by_en",
]


def cut_line(result: ReliefResult, n: int = 1) -> pd.DataFrame:
    """The households just above and just below each pool's cut line, and what separates them.

    Above: the last ``n`` newcomers admitted (or, when nobody new entered, the
    last continuing households); below: the first ``n`` eligible households
    left waiting. ``separated_by_*`` says, for the pair straddling the line,
    which ranking key puts one above the other and why the line falls there.
    A pool where nobody waits has no cut line (no rows).

    Returns:
        :data:`CUT_COLUMNS`; ``side`` is ``above`` or ``below``.
    """
    t = result.table
    out = []
    # positions first, then only the few rows taken (a province's table is millions of rows)
    ranked = t["rank"].notna().to_numpy(bool)
    selection = t["selection"]
    is_ = {k: selection.eq(k).fillna(False).to_numpy(bool) for k in SIDES}
    for p in sorted(t["pool"].dropna().unique()):
        at = np.flatnonzero(t["pool"].eq(p).fillna(False).to_numpy(bool) & ranked)
        at = at[np.argsort(t["rank"].iloc[at].to_numpy("int64"), kind="stable")]  # rank order
        waiting = at[is_["waiting"][at]]
        if not len(waiting):
            continue
        admitted = at[is_["admitted"][at]]
        last = admitted if len(admitted) else at[is_["continuing"][at]]
        above = t.iloc[last[max(len(last) - n, 0) :]].copy()
        below = t.iloc[waiting[:n]].copy()
        above["side"] = "above"
        below["side"] = "below"
        first = below.iloc[0]
        ab_z, ab_e = _separation(above.iloc[-1] if not above.empty else None, first, result.order)
        above["separated_by_zh"] = ab_z
        above["separated_by_en"] = ab_e
        below["separated_by_zh"] = first["why_zh"]
        below["separated_by_en"] = first["why_en"]
        out += [above, below]
    if not out:
        return pd.DataFrame(columns=CUT_COLUMNS)
    return pd.concat(out)[CUT_COLUMNS].reset_index(drop=True)


def _separation(above: pd.Series | None, below: pd.Series, order: Iterable[str]) -> tuple[str, str]:
    if above is None:
        return "", ""
    if above["selection"] == "continuing":
        # Nobody new entered: the line is drawn by the continuing households, not by the ranking.
        return (
            "在保户继续保障，先行占用名额/预算（不与新申请户重新排序），新申请户自 "
            f"{below['household_id']}（第 {below['rank']} 名）起均未纳入",
            "continues: households receiving relief now are paid first "
            "(not re-ranked against newcomers); "
            f"newcomers from {below['household_id']} (rank {below['rank']}) on wait",
        )
    for k in order:
        # The same keys the ranking sorted on, from the two rows of the (typed) table.
        keys = sort_frame(pd.DataFrame([above, below]).astype({"fp_priority": bool}))
        sa, sb = keys[k].iloc[0], keys[k].iloc[1]
        if not (sa == sb or (pd.isna(sa) and pd.isna(sb))):
            az, ae = key_value_text(k, above)
            bz, be = key_value_text(k, below)
            return (
                f"纳入；排在 {below['household_id']} 之前，因{KEY_LABELS[k][0]}：{az} 对 {bz}",
                f"admitted; ranks above {below['household_id']} by {KEY_LABELS[k][1]}: "
                f"{ae} against {be}",
            )
    return "", ""  # pragma: no cover - household_id separates every pair
