"""The only-child parents' reward (rulebook §5): the rule read plainly for one certificate and
one month (:mod:`.reward`), and the fast engine that applies it to a county or a province
(certificates to payment segments, segments folded into cohorts, cohorts projected month by month),
new certificates by seeded Monte Carlo, the budget projection and its scenarios, the remaining
liability and the certificates outside the budget. Pure functions over frames: it imports
:mod:`fpanalysis.core` and :mod:`fpanalysis.rules.scope` only.
"""

from fpanalysis.rules.bonus.cohorts import (
    COHORT_KEYS,
    Cohorts,
    compress,
    project_cohorts,
)
from fpanalysis.rules.bonus.draws import DenseDraws, NewDraws, SimulatedDraws, percentiles
from fpanalysis.rules.bonus.liabilities import (
    LIABILITY_COLUMNS,
    OUTSIDE_COLUMNS,
    liability,
    liability_certificates,
    liability_from_cohorts,
    outside_budget,
)
from fpanalysis.rules.bonus.model import (
    DEFAULT_DRAWS,
    DEFAULT_MONTHS,
    OUTPUT_COLUMNS,
    BonusModel,
    BonusProjection,
    committed_payments,
    project,
)
from fpanalysis.rules.bonus.months import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_AGE_CAP,
    MODES,
    RECORDED_TABLES,
    SHARES,
    MonthlyParams,
    default_start,
    fen_to_yuan,
    month_after,
    month_index,
    month_label,
    month_start,
    parse_month,
    yuan_to_fen,
)
from fpanalysis.rules.bonus.new import (
    NEW_GROUP_COLUMNS,
    empty_groups,
    new_certificate_groups,
    new_draws,
    project_new,
    simulate_new,
    simulate_slots,
)
from fpanalysis.rules.bonus.reward import (
    Certificate,
    Person,
    entitled,
    month_paid,
    payment,
    payments,
)
from fpanalysis.rules.bonus.scenarios import (
    compare_scenarios,
    scenario_overrides,
    scenario_params,
)
from fpanalysis.rules.bonus.segments import (
    COLUMNS_UNUSED,
    SEGMENT_COLUMNS,
    TABLES_NEEDED,
    certificate_segments,
)

__all__ = [
    "COHORT_KEYS",
    "COLUMNS_UNUSED",
    "DEFAULT_DRAWS",
    "DEFAULT_MONTHS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "LIABILITY_COLUMNS",
    "MAX_AGE_CAP",
    "MODES",
    "NEW_GROUP_COLUMNS",
    "OUTPUT_COLUMNS",
    "OUTSIDE_COLUMNS",
    "RECORDED_TABLES",
    "SEGMENT_COLUMNS",
    "SHARES",
    "TABLES_NEEDED",
    "BonusModel",
    "BonusProjection",
    "Certificate",
    "Cohorts",
    "DenseDraws",
    "MonthlyParams",
    "NewDraws",
    "Person",
    "SimulatedDraws",
    "certificate_segments",
    "committed_payments",
    "compare_scenarios",
    "compress",
    "default_start",
    "empty_groups",
    "entitled",
    "fen_to_yuan",
    "liability",
    "liability_certificates",
    "liability_from_cohorts",
    "month_after",
    "month_index",
    "month_label",
    "month_paid",
    "month_start",
    "new_certificate_groups",
    "new_draws",
    "outside_budget",
    "parse_month",
    "payment",
    "payments",
    "percentiles",
    "project",
    "project_cohorts",
    "project_new",
    "scenario_overrides",
    "scenario_params",
    "simulate_new",
    "simulate_slots",
    "yuan_to_fen",
]
