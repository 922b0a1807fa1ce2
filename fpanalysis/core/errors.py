"""User-facing errors in Chinese and English: :class:`FPError` and its kinds (bad data, a bad
parameter file, a bad option), each with the file, row, column, value and rule it concerns and
the exit code the command line ends with; the command line prints one in the user's language
and never shows a traceback for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FPError(Exception):
    """An error the user can act on.

    Args:
        message_zh: What is wrong and what to do, in Simplified Chinese.
        message_en: The same in English.
        file: The input file concerned, if any.
        row: The row number as the user sees it in the file (header = row 1).
        column: The column concerned (English name).
        value: The offending value, as it stands in the input.
        rule: A short name of the rule broken.

    Examples:
        >>> e = FPError("缺少列", "missing column", file="persons.csv", column="sex")
        >>> e.text("en")
        'missing column [file persons.csv, column sex]'
        >>> e.text("zh")
        '缺少列 [文件 persons.csv，列 sex]'
    """

    message_zh: str
    message_en: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    rule: str | None = None
    exit_code: int = field(default=1)

    def __post_init__(self) -> None:
        super().__init__(self.message_en)

    def where(self, lang: str = "zh") -> str:
        """Return the location part of the message (file, row, column, value)."""
        labels = (
            {"file": "文件", "row": "行", "column": "列", "value": "值", "rule": "规则"}
            if lang == "zh"
            else {
                "file": "file",
                "row": "row",
                "column": "column",
                "value": "value",
                "rule": "rule",
            }
        )
        parts = []
        for key in ("file", "row", "column", "value", "rule"):
            v = getattr(self, key)
            if v is not None and not (key == "value" and v == ""):
                parts.append(f"{labels[key]} {v!r}" if key == "value" else f"{labels[key]} {v}")
        sep = "，" if lang == "zh" else ", "
        return sep.join(parts)

    def text(self, lang: str = "zh") -> str:
        """Return the whole message in ``lang`` (``zh`` or ``en``)."""
        msg = self.message_zh if lang == "zh" else self.message_en
        where = self.where(lang)
        return f"{msg} [{where}]" if where else msg

    def __str__(self) -> str:
        return f"{self.text('zh')} / {self.text('en')}"


class ParamError(FPError):
    """A parameter file or override is wrong (unknown name, wrong type, bad date)."""


class DataError(FPError):
    """A dataset cannot be read or fails validation."""


class UsageError(FPError):
    """A command-line option is wrong."""

    def __init__(self, message_zh: str, message_en: str, **kw: Any) -> None:
        kw.setdefault("exit_code", 2)
        super().__init__(message_zh, message_en, **kw)


class OutputError(FPError):
    """An output cannot be written where asked: the path is a folder, its folder is a file or
    read-only, the disk is full. Nothing was replaced: the old file, if any, is intact."""
