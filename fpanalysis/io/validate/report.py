"""The validation report: every problem of a dataset and the rows they reject
(:class:`ValidationReport`), its summary for a clerk and its table for ``--out``, and the
rejects files (:func:`write_rejects`) holding each rejected row as it stood in the input with
its reasons, for the clerk to correct.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import SEVERITY_LABELS, Dataset, Problem
from fpanalysis.core.privacy import mask_problem
from fpanalysis.io.write import write_table

__all__ = ["PROBLEM_HEADERS", "ValidationReport", "count_accounting", "write_rejects"]


@dataclass
class ValidationReport:
    """Every problem of a dataset, and which rows they reject.

    Attributes:
        problems: all problems, sorted by table (schema order), row, column.
        rows: table -> data rows read.
        rejected: table -> sorted row numbers with at least one error.
    """

    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, list[int]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "note"]

    @property
    def ok(self) -> bool:
        """True when the dataset is usable: no errors (warnings allowed)."""
        return not self.errors

    def valid_frames(self, dataset: Dataset) -> dict[str, pd.DataFrame]:
        """The dataset's frames without their rejected rows."""
        return {t: df.drop(index=self.rejected.get(t, [])) for t, df in dataset.items()}

    def to_frame(self, lang: str = "en", masked: bool = False) -> pd.DataFrame:
        """The problems as a table (for ``--out``), both messages included.

        ``lang`` chooses the language of the severity and table columns' values;
        :func:`fpanalysis.io.write_table` translates the headers. ``masked``: the
        values, keys and messages as anything but ``validate``'s console shows them
        (:func:`fpanalysis.core.privacy.mask_problem`, rulebook §7).
        """
        zh = lang == "zh"
        recs = []
        for p in self.problems:
            if masked:
                p = mask_problem(p)
            recs.append(
                {
                    "severity": SEVERITY_LABELS.get(p.severity, (p.severity,) * 2)[0 if zh else 1],
                    "table": (
                        schema.TABLES[p.table].zh if zh and p.table in schema.TABLES else p.table
                    ),
                    "file": p.file,
                    "row": p.row,
                    "key": p.key,
                    "column": (
                        schema.zh_header(p.column, p.table) if zh and p.column else p.column
                    ),
                    "value": p.value,
                    "rule": p.rule,
                    "message_zh": p.message_zh,
                    "message_en": p.message_en,
                }
            )
        df = pd.DataFrame(recs, columns=list(PROBLEM_HEADERS))
        df["row"] = df["row"].astype("Int64")
        if zh:
            df.columns = [PROBLEM_HEADERS[c] for c in df.columns]
        return df

    def summary(self, dataset: Dataset, lang: str = "zh") -> str:
        """A readable summary: per table rows read, rejected, warnings; then each problem."""
        zh = lang == "zh"
        lines = []
        src = dataset.source if dataset.source is not None else ""
        lines.append(f"数据集：{src}" if zh else f"dataset: {src}")
        head = (
            ("表", "文件", "读入行数", "拒绝行数", "警告")
            if zh
            else ("table", "file", "rows read", "rejected", "warnings")
        )
        table_rows = []
        for t in schema.TABLES:
            if t not in self.rows and t not in dataset.files:
                continue
            warns = sum(1 for p in self.warnings if p.table == t)
            name = f"{schema.TABLES[t].zh}" if zh else t
            table_rows.append(
                (
                    name,
                    dataset.files.get(t, ""),
                    str(self.rows.get(t, 0)),
                    str(len(self.rejected.get(t, []))),
                    str(warns),
                )
            )
        widths = [max(_width(r[i]) for r in [head, *table_rows]) for i in range(len(head))]
        for r in [head, *table_rows]:
            lines.append(
                "  ".join(
                    _pad(v, w, right=i >= 2) for i, (v, w) in enumerate(zip(r, widths, strict=True))
                )
            )
        if dataset.absent:
            names = (
                ("、".join(schema.TABLES[t].zh for t in dataset.absent))
                if zh
                else ", ".join(dataset.absent)
            )
            lines.append(f"未提供的表：{names}" if zh else f"tables not in the dataset: {names}")
        for label, probs in (
            (("错误", "errors"), self.errors),
            (("警告", "warnings"), self.warnings),
            (("说明", "notes"), self.notes),
        ):
            if probs:
                lines.append("")
                lines.append(
                    f"{label[0]}（{len(probs)}）：" if zh else f"{label[1]} ({len(probs)}):"
                )
                lines.extend("  " + p.text(lang) for p in probs)
        lines.append("")
        n_rej = sum(len(v) for v in self.rejected.values())
        if self.ok:
            lines.append(
                "结论：数据可用（可能有警告）。"
                if zh
                else "result: the data is usable (warnings allowed)."
            )
        else:
            lines.append(
                f"结论：数据有 {len(self.errors)} 个错误，{n_rej} 行被拒绝；请改正后重新校验。"
                if zh
                else f"result: {len(self.errors)} errors, {n_rej} rows rejected; "
                "correct them and validate again."
            )
        return "\n".join(lines)


PROBLEM_HEADERS = {
    "severity": "级别",
    "table": "表",
    "file": "文件",
    "row": "行号",
    "key": "编号",
    "column": "列",
    "value": "值",
    "rule": "规则",
    "message_zh": "说明",
    "message_en": "说明（英文）",
}


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * (w - _width(s))
    return fill + s if right else s + fill


def write_rejects(
    report: ValidationReport, dataset: Dataset, folder: str | os.PathLike, lang: str = "zh"
) -> dict[str, Path]:
    """Write each table's rejected rows, as they stood in the input, to ``folder``.

    One CSV (UTF-8 with BOM) per table with rejected rows, named after the
    input file or sheet (``人员.csv``), holding the row number, every original
    column with its original header and raw text, and the reasons in Chinese and
    English (several reasons joined by ``；`` / ``; ``). Values are NOT masked:
    this is the clerk's own correction work (rulebook §7). Text that begins
    with ``= + - @`` gets a leading ``'`` like every CSV this package writes.

    Returns:
        table -> path written.
    """
    folder = Path(folder)
    out: dict[str, Path] = {}
    zh = lang == "zh"
    for t, rows in report.rejected.items():
        if t not in list(dataset.raw):  # (by name: `in` would render the whole table)
            continue
        errs = [p for p in report.errors if p.table == t]
        reasons_zh: dict[int, list[str]] = {r: [] for r in rows}
        reasons_en: dict[int, list[str]] = {r: [] for r in rows}
        for p in errs:
            targets = rows if p.row is None else [p.row]
            for r in targets:
                col = schema.zh_header(p.column, t) if p.column else ""
                reasons_zh[r].append(
                    f"{col}：{p.message_zh}（{p.rule}）" if col else f"{p.message_zh}（{p.rule}）"
                )
                reasons_en[r].append(
                    f"{p.column}: {p.message_en} ({p.rule})"
                    if p.column
                    else f"{p.message_en} ({p.rule})"
                )
        frame = dataset.raw.rows(t, rows).copy()
        row_h, rz_h, re_h = (
            ("行号", "问题", "问题（英文）") if zh else ("row", "reasons_zh", "reasons_en")
        )
        frame.insert(0, row_h, frame.index.astype("int64"))
        frame[rz_h] = ["；".join(dict.fromkeys(reasons_zh[r])) for r in rows]
        frame[re_h] = ["; ".join(dict.fromkeys(reasons_en[r])) for r in rows]
        frame = frame.reset_index(drop=True)
        name = dataset.files.get(t, t)
        stem = name.split("[", 1)[1].rstrip("]") if "[" in name else Path(name).stem
        path = folder / f"{stem}.csv"
        write_table(frame, path)
        out[t] = path
    return out


def count_accounting(report: ValidationReport, dataset: Dataset) -> dict[str, tuple[int, int, int]]:
    """table -> (rows read, valid rows, rejected rows): valid + rejected == read."""
    out = {}
    for t, n in report.rows.items():
        rej = len(report.rejected.get(t, []))
        out[t] = (n, n - rej, rej)
    return out
