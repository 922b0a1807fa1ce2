"""Unit compliance (rulebook §3): the indicators C1–C8 as a drill-down (:func:`compliance_detail`,
one row per couple, woman or event an indicator looked at), added up into per-unit sums and scored
into the scorecard (:func:`compliance_scorecard`: rates, score, grade and veto), the indicator
summary, the assessment periods and the accountability list; pure functions over frames that
import only ``fpanalysis.core`` and the rules ``frames``, ``scope`` and ``cases``."""

from fpanalysis.rules.compliance.accountability import ACCOUNTABILITY_COLUMNS, accountability_list
from fpanalysis.rules.compliance.detail import TABLES_NEEDED, compliance_detail, sort_detail
from fpanalysis.rules.compliance.indicators import (
    COUNT_INDICATORS,
    DETAIL_COLUMNS,
    INDICATOR_IDS,
    INDICATORS,
    RATE_INDICATORS,
)
from fpanalysis.rules.compliance.period import (
    RECORDED_TABLES,
    Period,
    complete_year,
    latest_complete_year,
    parse_period,
)
from fpanalysis.rules.compliance.scoring import (
    SCORECARD_COLUMNS,
    SUMMARY_COLUMNS,
    SUMS_COLUMNS,
    add_unit_sums,
    compliance_scorecard,
    half_year_trend,
    indicator_summary,
    round_half_up,
    score_unit,
    scorecard_from_detail,
    scorecard_from_sums,
    summary_from_sums,
    unit_sums,
)

__all__ = [
    "ACCOUNTABILITY_COLUMNS",
    "COUNT_INDICATORS",
    "DETAIL_COLUMNS",
    "INDICATORS",
    "INDICATOR_IDS",
    "RATE_INDICATORS",
    "RECORDED_TABLES",
    "SCORECARD_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMS_COLUMNS",
    "TABLES_NEEDED",
    "Period",
    "accountability_list",
    "add_unit_sums",
    "complete_year",
    "compliance_detail",
    "compliance_scorecard",
    "half_year_trend",
    "indicator_summary",
    "latest_complete_year",
    "parse_period",
    "round_half_up",
    "score_unit",
    "scorecard_from_detail",
    "scorecard_from_sums",
    "sort_detail",
    "summary_from_sums",
    "unit_sums",
]
