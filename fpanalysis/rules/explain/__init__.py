"""Traces of the analyses' figures back to their rules and rows (the rulebook's ``explain``): one
unit's compliance score (rulebook §3), one household's place in a relief round (rulebook §6) and one
only-child certificate's months (rulebook §5), each a :class:`Trace` of bilingual steps with the
final figures the analysis gives, shown as text, markdown, HTML or a frame. Built on the public rule
functions the analyses use (the compliance drill-down and scorecard, ``rank_households``, the
reward's readable rule); pure functions over frames that import only :mod:`fpanalysis.core` and the
rules. Names and ID numbers are masked unless revealed (rulebook §7)."""

from fpanalysis.rules.explain.certificate import explain_certificate, first_paid
from fpanalysis.rules.explain.drill import SUBJECTS, explain, trace_html
from fpanalysis.rules.explain.household import explain_household
from fpanalysis.rules.explain.trace import FRAME_COLUMNS, Step, Trace
from fpanalysis.rules.explain.unit import explain_unit

__all__ = [
    "FRAME_COLUMNS",
    "SUBJECTS",
    "Step",
    "Trace",
    "explain",
    "explain_certificate",
    "first_paid",
    "explain_household",
    "explain_unit",
    "trace_html",
]
