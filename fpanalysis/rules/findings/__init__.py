"""What each analysis's results say, as figures and sentences in Chinese and English: the
conclusion boxes of the reports and dashboards (:func:`compliance_findings`,
:func:`bonus_findings`, :func:`relief_findings`), the differences from a baseline (grades a
weighting changes, what a scenario costs, what a moved quota or standard does), one unit's
to-do list, and the number formats they share. Pure functions over the rules' results; it
imports only :mod:`fpanalysis.core` and the rules."""

from fpanalysis.rules.findings import bonus, compliance, relief
from fpanalysis.rules.findings.bonus import (
    PARAM_LABELS,
    bonus_findings,
    change_label,
    quoted_year,
    scenario_changes,
    year_label,
    year_totals,
)
from fpanalysis.rules.findings.compliance import (
    GRADE_EN,
    GRADE_ZH,
    TODO_COLUMNS,
    compliance_findings,
    failing_units,
    grade_changes,
    grade_label,
    half_year_fails,
    indicator_label,
    unit_findings,
    unit_label,
    unit_reason,
    unit_todo,
)
from fpanalysis.rules.findings.relief import (
    QUOTA_MEANING,
    cut_sentence,
    relief_findings,
    round_figures,
)
from fpanalysis.rules.findings.text import (
    BLANK,
    Findings,
    Line,
    fen_money,
    missing,
    money,
    money_cell,
    pct,
    pick,
)

__all__ = [
    "BLANK",
    "GRADE_EN",
    "GRADE_ZH",
    "PARAM_LABELS",
    "QUOTA_MEANING",
    "TODO_COLUMNS",
    "Findings",
    "Line",
    "bonus",
    "bonus_findings",
    "change_label",
    "compliance",
    "compliance_findings",
    "cut_sentence",
    "failing_units",
    "fen_money",
    "grade_changes",
    "grade_label",
    "half_year_fails",
    "indicator_label",
    "missing",
    "money",
    "money_cell",
    "pct",
    "pick",
    "quoted_year",
    "relief",
    "relief_findings",
    "round_figures",
    "scenario_changes",
    "unit_findings",
    "unit_label",
    "unit_reason",
    "unit_todo",
    "year_label",
    "year_totals",
]
