"""What the dashboards share: the box that holds a dashboard (it says what it is where no live
kernel draws it, instead of ``VBox(children=...)``), the "计算中… / computing…" line shown while
a change is recomputed, and the labels' style."""

from __future__ import annotations

import html

import ipywidgets as w

from fpanalysis.charts.tables import style_tag

# Labels in full (the default label width cuts "领证率 uptake" to "领证率 upt...").
LABEL_STYLE = {"description_width": "initial"}
#: What a saved notebook shows for a dashboard until it is run.
PLACEHOLDER = (
    "（交互仪表板：运行笔记本后在此显示 / interactive dashboard: run the notebook to use it）"
)


class Dashboard(w.VBox):
    """A dashboard's outer box; its plain-text form is :data:`PLACEHOLDER`."""

    def __repr__(self) -> str:
        return PLACEHOLDER


def slider(kind: type[w.Widget], description: str, value, **bounds) -> w.Widget:
    """A ``kind`` slider that recomputes when let go, its label in full."""
    return kind(
        value=value,
        description=description,
        continuous_update=False,
        style=LABEL_STYLE,
        **bounds,
    )


def busy_html(lang: str = "zh") -> str:
    """The line shown while a change is recomputed.

    Examples:
        >>> busy_html("en")
        '<p class="fp-busy">计算中… / computing…</p>'
    """
    return f'<p class="fp-busy">{html.escape("计算中… / computing…")}</p>'


def with_style(markup: str) -> str:
    """A dashboard view with the tables' stylesheet (the page may not have it yet)."""
    return style_tag() + markup
