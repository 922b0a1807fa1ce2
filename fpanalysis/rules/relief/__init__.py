"""Hardship households and minimum-living relief (低保, rulebook §6).

Pure functions over typed frames: each household's FP priority type
(:mod:`.fp_types`), its eligibility, tier and entitlement in exact money
(:mod:`.assess`), the ranking of each pool (:mod:`.ranking`), the selection
under a quota or a monthly budget (:mod:`.selection`), the plain-language
texts (:mod:`.texts`), the round and its lean form written a slice at a time
(:mod:`.result`), the cut line (:mod:`.cutline`), dynamic management
(:mod:`.review`) and the committee's procedure: decisions, notice, objections and
approval (:mod:`.committee`). It imports only :mod:`fpanalysis.core`; it reads and writes
no file.
"""

from fpanalysis.rules.relief.assess import (
    RECORDED_TABLES,
    RELIEF_TABLES,
    assess,
    default_as_of,
)
from fpanalysis.rules.relief.committee import (
    DECIDED_COLUMNS,
    DECISION_LABELS,
    DECISIONS,
    DIGEST_COLUMNS,
    NOTICE_CATEGORIES,
    REJECTED,
    SHEET_DECISIONS,
    WITHDRAWN,
    Problem,
    allowed_text,
    apply_decisions,
    approval_problems,
    decision_code,
    earliest_approval,
    limit_excess,
    meeting_lists,
    notice_lists,
    notice_period,
    objection_problems,
    proposal_digest,
)
from fpanalysis.rules.relief.cutline import CUT_COLUMNS, cut_line
from fpanalysis.rules.relief.fp_types import (
    FP_LABELS,
    FP_TYPES,
    PROBLEM_COLUMNS,
    derive_fp_types,
    fp_type_problems,
    join_per_group,
)
from fpanalysis.rules.relief.ranking import add_decided, rank_keys, rank_pool, sort_frame
from fpanalysis.rules.relief.result import (
    CHUNK_ROWS,
    CLI_COLUMNS,
    RELIEF_COLUMNS,
    ReliefResult,
    finish_table,
    rank_households,
    with_texts,
)
from fpanalysis.rules.relief.review import REVIEW_COLUMNS, review
from fpanalysis.rules.relief.selection import (
    POOLS,
    SELECTION_CODES,
    check_round_options,
    not_ranked,
    pool_notes,
    prepare_round,
    rank_and_select,
    select_pool,
    selected_ids,
)
from fpanalysis.rules.relief.texts import (
    ABOVE_COLUMNS,
    ABOVE_PREFIX,
    AREA_LABELS,
    KEY_LABELS,
    TEXT_COLUMNS,
    TEXT_INPUT_COLUMNS,
    TIER_LABELS,
    date_text,
    decided_texts,
    key_value_text,
    reason_texts,
    texts_for,
    yuan_text,
)

__all__ = [
    "ABOVE_COLUMNS",
    "ABOVE_PREFIX",
    "AREA_LABELS",
    "CHUNK_ROWS",
    "CLI_COLUMNS",
    "CUT_COLUMNS",
    "DECIDED_COLUMNS",
    "DECISIONS",
    "DECISION_LABELS",
    "DIGEST_COLUMNS",
    "FP_LABELS",
    "FP_TYPES",
    "KEY_LABELS",
    "NOTICE_CATEGORIES",
    "POOLS",
    "PROBLEM_COLUMNS",
    "RECORDED_TABLES",
    "REJECTED",
    "RELIEF_COLUMNS",
    "RELIEF_TABLES",
    "REVIEW_COLUMNS",
    "SELECTION_CODES",
    "SHEET_DECISIONS",
    "TEXT_COLUMNS",
    "TEXT_INPUT_COLUMNS",
    "TIER_LABELS",
    "WITHDRAWN",
    "Problem",
    "ReliefResult",
    "add_decided",
    "allowed_text",
    "apply_decisions",
    "approval_problems",
    "assess",
    "check_round_options",
    "cut_line",
    "date_text",
    "decided_texts",
    "decision_code",
    "default_as_of",
    "derive_fp_types",
    "earliest_approval",
    "finish_table",
    "fp_type_problems",
    "join_per_group",
    "key_value_text",
    "limit_excess",
    "meeting_lists",
    "not_ranked",
    "notice_lists",
    "notice_period",
    "objection_problems",
    "pool_notes",
    "prepare_round",
    "proposal_digest",
    "rank_and_select",
    "rank_households",
    "rank_keys",
    "rank_pool",
    "reason_texts",
    "review",
    "select_pool",
    "selected_ids",
    "sort_frame",
    "texts_for",
    "with_texts",
    "yuan_text",
]
