"""The accountability list of unit compliance (责任追究制度, rulebook §3): one row per violation in
a period, naming the couple, its responsible unit on the date, the unit's head and liaison, the
rule and the date."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpanalysis.core.params import Params
from fpanalysis.rules.cases import PARTY_COLUMNS, terminations, with_names
from fpanalysis.rules.compliance.detail import compliance_detail
from fpanalysis.rules.compliance.indicators import COUNT_INDICATORS
from fpanalysis.rules.compliance.period import Period, parse_period
from fpanalysis.rules.frames import as_dates, table_of
from fpanalysis.rules.scope import responsible_units

ACCOUNTABILITY_COLUMNS = [
    "date",
    "rule",
    "event_id",
    *PARTY_COLUMNS,
    "unit_name",
    "unit_head_name",
    "liaison_name",
    "penalty",
    "veto",
    "reason_zh",
    "reason_en",
]


def accountability_list(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    period: str | Period,
    *,
    detail: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The accountability list (责任追究制度, rulebook §3): one row per violation in the period.

    A violation is a counted C5–C8 event, plus every sex-selective
    termination (unlawful at any gestation, §4.1; ``rule`` =
    ``sex_selective_termination``, the quota cancellation of §4.2, no penalty
    points of its own): one at or above the late-termination threshold is
    both rows, its C8 and this one (rulebook §3.9). Each row
    names the couple (the party), its responsible unit on the date, the unit's
    head and liaison, the rule and the date. Names are in full here: mask them
    with :func:`fpanalysis.core.privacy.mask_frame` before they leave the package.

    Returns:
        Columns :data:`ACCOUNTABILITY_COLUMNS`, sorted by date, unit, rule, event.
    """
    period = parse_period(period)
    if detail is None:
        detail = compliance_detail(tables, params, period)
    v = detail[detail["indicator"].isin(COUNT_INDICATORS) & detail["in_numerator"]]
    v = v.assign(rule=v["indicator"])[
        [
            "date",
            "rule",
            "event_id",
            "couple_id",
            "unit_id",
            "penalty",
            "veto",
            "reason_zh",
            "reason_en",
        ]
    ]
    t = terminations(tables, params)
    t = t[period.contains(t["date"]) & t["is_sex_selection"]]
    if len(t):
        ru = responsible_units(tables, params, t[["couple_id", "date"]], "date")
        weeks = t["gestation_weeks"].astype("Int64").astype("str").fillna("?")
        late = t["is_late"].to_numpy(bool)
        extra = pd.DataFrame(
            {
                "date": t["date"],
                "rule": "sex_selective_termination",
                "event_id": t["pregnancy_id"],
                "couple_id": t["couple_id"],
                "unit_id": ru["responsible_unit_id"],
                "penalty": 0.0,
                "veto": False,
                "reason_zh": "孕"
                + weeks
                + "周选择性别终止妊娠"
                + np.where(late, "（同时计为违规大月份引产）", ""),
                "reason_en": "sex-selective termination at "
                + weeks
                + " weeks"
                + np.where(late, " (an unapproved late termination too)", ""),
            }
        )
        v = pd.concat([v, extra[extra["unit_id"].notna()]], ignore_index=True)
    couples = table_of(tables, "couples").drop_duplicates("couple_id").set_index("couple_id")
    units = table_of(tables, "units").drop_duplicates("unit_id").set_index("unit_id")
    out = v.copy()
    out["wife_id"] = out["couple_id"].map(couples["wife_id"])
    out["husband_id"] = out["couple_id"].map(couples["husband_id"])
    out = with_names(tables, out)
    out["unit_name"] = out["unit_id"].map(units["name"])
    out["unit_head_name"] = out["unit_id"].map(units["head_name"])
    out["liaison_name"] = out["unit_id"].map(units["liaison_name"])
    out["date"] = as_dates(out["date"])
    out["veto"] = out["veto"].astype(bool)
    out["penalty"] = out["penalty"].astype("float64")
    for c in ACCOUNTABILITY_COLUMNS:
        if c not in ("date", "veto", "penalty"):
            out[c] = out[c].astype("str").where(out[c].notna())
    out = out.sort_values(["date", "unit_id", "rule", "event_id"], kind="stable").reset_index(
        drop=True
    )
    return out[ACCOUNTABILITY_COLUMNS]
