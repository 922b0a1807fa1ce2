"""Numbers and codes as a reader sees them, in Chinese or English: money (``¥4,800.00``,
``4,800.00 元``), percentages, signed differences, and the finding lines a conclusion box is made
of (:class:`Line`, :class:`Findings`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from fpanalysis.core.numbers import half_up

#: What an empty cell shows.
BLANK = "—"
#: Tones of a finding line: what it asks of the reader.
TONES = ("info", "good", "warn", "bad")


def _dec(x: Any) -> Decimal:
    return half_up(x, 2)


def money(x: Any, lang: str = "zh", *, sign: bool = False) -> str:
    """An amount of yuan in a sentence: ``¥4,800.00`` (``+¥``/``−¥`` with ``sign``).

    Examples:
        >>> money(4800), money("1234.5"), money(-20, sign=True), money(0.005, sign=True)
        ('¥4,800.00', '¥1,234.50', '−¥20.00', '+¥0.01')
    """
    d = _dec(x)
    text = f"¥{abs(d):,.2f}"
    if d < 0:
        return "−" + text
    return ("+" + text) if sign else text


def money_cell(x: Any, lang: str = "zh") -> str:
    """An amount of yuan in a table cell (``#,##0.00 元``); missing is ``—``.

    Examples:
        >>> money_cell(4800), money_cell(None), money_cell(12.5, "en")
        ('4,800.00 元', '—', '¥12.50')
    """
    if missing(x):
        return BLANK
    d = _dec(x)
    return f"{d:,.2f} 元" if lang == "zh" else money(d)


def fen_money(fen: int, lang: str = "zh", *, sign: bool = False) -> str:
    """Whole fen as :func:`money`.

    Examples:
        >>> fen_money(480000), fen_money(-2050, sign=True)
        ('¥4,800.00', '−¥20.50')
    """
    return money(Decimal(int(fen)).scaleb(-2), lang, sign=sign)


def pct(x: Any, places: int = 1) -> str:
    """A rate 0–1 as a percentage (``90.9%``); missing is ``—``.

    Examples:
        >>> pct(0.909091), pct(1.0), pct(None), pct(0.5, 0)
        ('90.9%', '100.0%', '—', '50%')
    """
    if missing(x):
        return BLANK
    return f"{float(x) * 100:.{places}f}%"


def missing(x: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA.

    Examples:
        >>> import pandas as pd
        >>> [missing(v) for v in (None, float("nan"), pd.NaT, pd.NA, 0, "")]
        [True, True, True, True, False, False]
    """
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # a list or an array is not a missing value
        return False


def pick(zh: str, en: str, lang: str) -> str:
    """The text in ``lang`` (``zh`` or ``en``).

    Examples:
        >>> pick("是", "yes", "en")
        'yes'
    """
    return zh if lang == "zh" else en


@dataclass(frozen=True)
class Line:
    """One sentence of a conclusion, in both languages, with its tone (``info``, ``good``,
    ``warn``, ``bad``)."""

    zh: str
    en: str
    tone: str = "info"

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return pick(self.zh, self.en, lang)


@dataclass(frozen=True)
class Findings:
    """A conclusion: its title, the figures it states (JSON-able, keyed by name) and its lines.

    Examples:
        >>> f = Findings("结论", "Conclusions", {"n": 2}, (Line("两户", "two households"),))
        >>> f.texts("en")
        ['two households']
    """

    title_zh: str
    title_en: str
    figures: dict[str, Any] = field(default_factory=dict)
    lines: tuple[Line, ...] = ()

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return pick(self.title_zh, self.title_en, lang)

    def texts(self, lang: str) -> list[str]:
        """Every line in ``lang``."""
        return [ln.text(lang) for ln in self.lines]
