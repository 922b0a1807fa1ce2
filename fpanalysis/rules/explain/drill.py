"""One entry for a notebook's drill-down (rulebook §3, §5, §6): the trace of a unit, a household or
a certificate by name, and its HTML, with the options of the analysis it traces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import Params
from fpanalysis.rules.explain.certificate import explain_certificate
from fpanalysis.rules.explain.household import explain_household
from fpanalysis.rules.explain.trace import Trace
from fpanalysis.rules.explain.unit import explain_unit

#: What can be traced.
SUBJECTS = ("unit", "household", "certificate")


def explain(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    subject: str,
    key: str,
    *,
    reveal_pii: bool = False,
    **options: Any,
) -> Trace:
    """The trace of ``key``, a ``unit``, ``household`` or ``certificate`` (rulebook §3, §6, §5).

    Args:
        tables: the dataset.
        params: parameters in force.
        subject: one of :data:`SUBJECTS`.
        key: the id traced.
        reveal_pii: show names and ID numbers in full (rulebook §7).
        options: the analysis's own: ``period`` and ``detail`` (unit); ``as_of``, ``quota``,
            ``budget_yuan``, ``pool``, ``previous_round`` and ``result`` (household); ``start``
            and ``months`` (certificate, 36 months by default).

    Raises:
        UsageError: an unknown subject or id.
    """
    if subject == "unit":
        return explain_unit(
            tables,
            key,
            options.get("period"),
            params,
            detail=options.get("detail"),
            reveal_pii=reveal_pii,
        )
    if subject == "household":
        as_of = options.pop("as_of", None)
        return explain_household(tables, key, as_of, params, reveal_pii=reveal_pii, **options)
    if subject == "certificate":
        return explain_certificate(
            tables,
            key,
            options.get("start"),
            options.get("months", 36),
            params,
            reveal_pii=reveal_pii,
        )
    raise UsageError(
        f"只能追溯 {'、'.join(SUBJECTS)}：{subject!r}",
        f"what can be traced: {', '.join(SUBJECTS)}; not {subject!r}",
        value=str(subject),
        rule="explain-subject",
    )


def trace_html(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    subject: str,
    key: str,
    *,
    lang: str = "zh",
    **options: Any,
) -> str:
    """:func:`explain`'s trace as an HTML fragment in ``lang``: what a notebook shows with
    ``IPython.display.HTML`` under a unit, household or certificate picked in its drill-down."""
    return explain(tables, params, subject, key, **options).html(lang)
