"""A trace of one figure back to its rules and rows (the rulebook's general conventions, G9), and
its renderings: :class:`Step` (one line, in Chinese and English, with the rulebook section it
applies and the ids of the rows behind it) and :class:`Trace` (the steps and the final figures),
shown as plain text, markdown, HTML (a notebook's drill-down) or a frame."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fpanalysis.core.privacy import mask_text

#: The columns of :meth:`Trace.frame`.
FRAME_COLUMNS = ["step", "level", "kind", "rule", "refs", "value", "text_zh", "text_en"]


@dataclass(frozen=True)
class Step:
    """One line of a trace.

    Attributes:
        kind: what the line states (``indicator``, ``counted``, ``excluded``, ``score``,
            ``eligibility``, ``month``...).
        zh: the line in Chinese.
        en: the line in English.
        level: its depth under the line above (0 = a heading).
        rule: the rulebook section it applies (``§3 C2``), when one does.
        refs: the ids of the data rows behind it (couples, events, members, months).
        value: the figure it states, if any.
    """

    kind: str
    zh: str
    en: str
    level: int = 0
    rule: str = ""
    refs: tuple[str, ...] = ()
    value: Any = None

    def text(self, lang: str = "zh") -> str:
        """The line in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en


@dataclass
class Trace:
    """The trace of one unit's score, one household's place or one certificate's months.

    Attributes:
        subject: ``unit``, ``household`` or ``certificate``.
        key: the id traced (``U07``, ``H0012``, ``GRZ00024``).
        steps: the lines, in reading order; the first is the title.
        result: the final figures, as the analysis gives them (``score``, ``grade``,
            ``selected``, the fen paid each month...).

    Examples:
        >>> t = Trace("unit", "U1", [Step("title", "单位 U1", "unit U1"),
        ...     Step("score", "得分 90", "score 90", level=1, rule="§3.4", value=90)],
        ...     {"score": 90})
        >>> print(t.text("en"))
        unit U1
          score 90
        >>> print(t.markdown("zh"))
        **单位 U1**
        <BLANKLINE>
        - 得分 90
    """

    subject: str
    key: str
    steps: list[Step] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    #: show ID numbers in full (``--reveal-pii``); otherwise every word shaped like a resident
    #: ID number (a household numbered by its head's ID number, say) is masked (rulebook §7)
    reveal: bool = False

    def said(self, step: Step, lang: str = "zh") -> str:
        """A step's text in ``lang`` as every output shows it: ID-shaped words masked unless
        the trace reveals them."""
        text = step.text(lang)
        return text if self.reveal else mask_text(text)

    def add(self, kind: str, zh: str, en: str, level: int = 0, **kw: Any) -> Step:
        """Append a step and return it."""
        step = Step(kind, zh, en, level, **kw)
        self.steps.append(step)
        return step

    def lines(self, lang: str = "zh") -> Iterator[str]:
        """Each step as one indented line (two spaces a level)."""
        for s in self.steps:
            yield "  " * s.level + self.said(s, lang)

    def text(self, lang: str = "zh") -> str:
        """The whole trace as plain text, one step a line (what ``fpanalysis explain`` prints)."""
        return "\n".join(self.lines(lang))

    def frame(self) -> pd.DataFrame:
        """One row per step: :data:`FRAME_COLUMNS` (``refs`` joined with ``、``)."""
        return pd.DataFrame(
            [
                {
                    "step": i,
                    "level": s.level,
                    "kind": s.kind,
                    "rule": s.rule,
                    "refs": "、".join(s.refs),
                    "value": s.value,
                    "text_zh": self.said(s, "zh"),
                    "text_en": self.said(s, "en"),
                }
                for i, s in enumerate(self.steps, start=1)
            ],
            columns=FRAME_COLUMNS,
        )

    def markdown(self, lang: str = "zh") -> str:
        """The trace as markdown: the title in bold, then nested bullets."""
        if not self.steps:
            return ""
        head, *rest = self.steps
        out = [f"**{_md_escape(self.said(head, lang))}**", ""]
        out += ["  " * max(s.level - 1, 0) + "- " + _md_escape(self.said(s, lang)) for s in rest]
        return "\n".join(out)

    def html(self, lang: str = "zh") -> str:
        """The trace as an HTML fragment (a title and nested lists), for a notebook's drill-down.

        Every text is escaped; the fragment loads nothing.
        """
        if not self.steps:
            return ""
        head, *rest = self.steps
        out = [
            f'<div class="fp-trace" lang="{"zh-CN" if lang == "zh" else "en"}">',
            f"<p><strong>{html.escape(self.said(head, lang))}</strong></p>",
        ]
        depth = 0  # lists open; the last item stays open so that a deeper list nests inside it
        for s in rest:
            level = min(max(s.level, 1), depth + 1)
            if level > depth:
                out.append("<ul>")
                depth += 1
            else:
                out.append("</li>")
                while depth > level:
                    out.append("</ul></li>")
                    depth -= 1
            out.append(f"<li>{html.escape(self.said(s, lang))}")
        if depth:
            out.append("</li>" + "</ul></li>" * (depth - 1) + "</ul>")
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.html("zh")


def _md_escape(text: str) -> str:
    """Text that markdown shows as written: a masked name's stars are not emphasis.

    Examples:
        >>> _md_escape("张** 1 × 2")
        '张\\\\*\\\\* 1 × 2'
    """
    for ch in "\\*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return text
