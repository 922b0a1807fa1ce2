"""Validation a clerk can act on (DATA.md; POLICY.md §7, §8 and general conventions).

:func:`validate_dataset` lists **every** problem of a loaded dataset, each with
its table, the row number as the user sees it, the row's key, the column, the
value as it stands in the input, the rule broken and a message in Chinese and
English. Errors reject their row; warnings and notes do not.

The checks, in three layers:

1. *Reading* (:mod:`fpanalysis.io`): unreadable files, missing required
   columns, unknown columns (warning), cells that are not dates, yes/no,
   whole numbers or numbers.
2. *Per column* (pandera, schemas built from :data:`fpanalysis.core.schema.TABLES`
   in :func:`pandera_schema`, lazy so every failure is collected): required
   values, enum and set values, ranges (``gestation_weeks`` 0–45, ``size`` ≥ 1,
   ``assessed_tier`` 1–3, ``monthly_income`` ≥ 0), unique keys (composite for
   ``check_attendance``; every copy of a duplicated key is rejected, since the
   clerk must decide which is right).
3. *Across fields and tables* (vectorised pandas): references between tables
   that are present (a reference to an absent table is not checked, and a note
   says so), date order, impossible dates (any date before 1900-01-01; a birth
   after the day of the check, ``as_of``), conditional requirements, household
   size, resident ID numbers (:mod:`fpanalysis.core.ids`).

Choices where the spec is silent (also in docs/design.md):

- A problem with a cell that cannot be parsed is reported once, as a type
  error: the same cell is not reported again as "required" or out of order.
- A table-level error (missing required column, empty or unreadable file)
  rejects every row of the table.
- ``outcome_date`` given for an ``ongoing`` pregnancy is a warning (DATA.md says
  it is empty while ongoing, but the rules never read it then).
- A contraception record's ``person_id`` and a pregnancy's ``child_id`` must
  belong to the record's couple (DATA.md "the spouse using it", "for a birth"),
  like a certificate's child and payee.
- Two persons with the same resident ID number: a warning on both rows.
- A household whose members do not include exactly one ``head`` is not checked
  against ``head_id_number`` (nothing to compare with).

Examples:
    >>> from fpanalysis.io import Dataset
    >>> units = schema.coerce("units", [{"unit_id": "U1", "name": "办公室", "kind": "section"},
    ...                                 {"unit_id": "U1", "name": "财务股", "kind": "section"}])
    >>> report = validate_dataset(Dataset({"units": units}))
    >>> [(p.row, p.column, p.rule) for p in report.errors]
    [(2, 'unit_id', 'unique'), (3, 'unit_id', 'unique')]
    >>> report.ok
    False
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from fpanalysis.core import ids, schema
from fpanalysis.io import SEVERITY_LABELS, Dataset, Problem, isin_keys, row_keys, write_table

__all__ = ["Problem", "ValidationReport", "validate_dataset", "pandera_schema", "write_rejects"]

# Rules whose problem is "the cell is empty": not repeated for a cell that has a type error.
_EMPTINESS_RULES = frozenset({"required", "hire_date_required", "outcome_date_required"})
_TYPE_RULES = frozenset({"date", "bool", "int", "number"})


# --------------------------------------------------------------------------- the report


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

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """The problems as a table (for ``--out``), both messages included.

        ``lang`` chooses the language of the severity and table columns' values;
        :func:`fpanalysis.io.write_table` translates the headers.
        """
        zh = lang == "zh"
        recs = []
        for p in self.problems:
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
                else f"result: {len(self.errors)} errors, {n_rej} rows rejected; correct them and validate again."
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
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * (w - _width(s))
    return fill + s if right else s + fill


# --------------------------------------------------------------------------- pandera schemas


def _set_check(codes: frozenset[str]):
    def check(v: str) -> bool:
        return all(p in codes for p in str(v).split(";"))

    return check


@functools.cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of ``table``, built from :data:`fpanalysis.core.schema.TABLES`.

    Checks required values, enum/set values, bounds and unique keys; types are
    already checked while reading (:mod:`fpanalysis.io`), so no dtype is forced.

    Examples:
        >>> s = pandera_schema("pregnancies")
        >>> [c.name for c in s.columns["gestation_weeks"].checks]
        ['in_range']
    """
    t = schema.TABLES[table]
    cols = {}
    for c in t.columns:
        checks = []
        if c.type == "enum":
            checks.append(pa.Check.isin(list(c.codes), name="enum"))
        elif c.type == "set":
            checks.append(pa.Check(_set_check(frozenset(c.codes)), element_wise=True, name="set"))
        if c.min is not None and c.max is not None:
            checks.append(pa.Check.in_range(c.min, c.max, name="in_range"))
        elif c.min is not None:
            checks.append(pa.Check.ge(c.min, name="ge"))
        elif c.max is not None:
            checks.append(pa.Check.le(c.max, name="le"))
        single_key = t.key == (c.name,)
        cols[c.name] = pa.Column(
            nullable=not c.required,
            unique=single_key,
            report_duplicates="all",
            checks=checks,
            required=True,
        )
    unique = list(t.key) if len(t.key) > 1 else None
    return pa.DataFrameSchema(cols, unique=unique, report_duplicates="all", name=table)


def _allowed(c: schema.Column) -> tuple[str, str]:
    zh = "、".join(f"{lab}（{code}）" for code, lab in c.labels.items())
    en = ", ".join(f"{code} ({lab})" for code, lab in c.labels.items())
    return zh, en


def _bound_text(c: schema.Column) -> tuple[str, str]:
    def n(x):
        return int(x) if float(x).is_integer() else x

    if c.min is not None and c.max is not None:
        return f"应在 {n(c.min)} 到 {n(c.max)} 之间", f"must be between {n(c.min)} and {n(c.max)}"
    if c.min is not None:
        return f"应不小于 {n(c.min)}", f"must be at least {n(c.min)}"
    return f"应不大于 {n(c.max)}", f"must be at most {n(c.max)}"


def _column_problems(table: str, df: pd.DataFrame) -> list[tuple[int, str | None, str, str, str]]:
    """Run the pandera schema lazily; (row, column, rule, zh, en) per failure."""
    t = schema.TABLES[table]
    try:
        pandera_schema(table).validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    out = []
    key_zh = "、".join(t.column(k).zh for k in t.key)
    for rec in fc.itertuples(index=False):
        if pd.isna(rec.index):
            continue  # a column- or frame-level failure has no row; none is expected here
        row = int(rec.index)
        check = str(rec.check)
        col = rec.column if isinstance(rec.column, str) and rec.column in t.names else None
        if check == "not_nullable":
            out.append((row, col, "required", "必填项为空", "a required value is empty"))
        elif check in ("field_uniqueness", "multiple_fields_uniqueness"):
            if len(t.key) > 1:
                if col is not None and col != t.key[0]:
                    continue  # one problem per row for a composite key
                out.append(
                    (
                        row,
                        t.key[0],
                        "unique",
                        f"{key_zh} 的组合重复：同一组合只能有一行",
                        f"duplicate key ({', '.join(t.key)}): each combination may appear once",
                    )
                )
            else:
                out.append(
                    (
                        row,
                        col,
                        "unique",
                        f"{key_zh}重复：每个编号只能出现一次",
                        f"duplicate key {t.key[0]}: each value may appear once",
                    )
                )
        elif check.startswith("enum") or check.startswith("isin"):
            zh, en = _allowed(t.column(col))
            out.append(
                (
                    row,
                    col,
                    "enum",
                    f"不是允许的选项，应为：{zh}",
                    f"not an allowed value; use one of: {en}",
                )
            )
        elif check.startswith("set"):
            zh, en = _allowed(t.column(col))
            out.append(
                (
                    row,
                    col,
                    "set",
                    f"含有不允许的选项，可选：{zh}（用 ; 或 、 分隔）",
                    f"holds a value that is not allowed; choose from: {en} (separated by ; or 、)",
                )
            )
        elif check.startswith(("in_range", "greater_than_or_equal_to", "less_than_or_equal_to")):
            zh, en = _bound_text(t.column(col))
            out.append((row, col, "range", f"超出范围：{zh}", f"out of range: {en}"))
        else:  # pragma: no cover - a check added to the schema without a message
            out.append((row, col, check, f"未通过检查 {check}", f"failed check {check}"))
    # uniqueness may be reported by both the column and the frame: once per (row, rule)
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- cross-field rules


@dataclass(frozen=True)
class _Finding:
    table: str
    rows: pd.Index
    column: str
    rule: str
    zh: str
    en: str
    severity: str = "error"
    detail: pd.Series | None = None  # per-row extra text appended to both messages
    messages: pd.DataFrame | None = None  # per-row whole messages (message_zh, message_en)


def _fmt(d) -> str:
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


# (table, later column, earlier column): later >= earlier when both are given
DATE_ORDER = (
    ("persons", "leave_date", "hire_date"),
    ("couples", "divorce_date", "marriage_date"),
    ("pregnancies", "outcome_date", "detected_date"),
    ("check_rounds", "end_date", "start_date"),
    ("contraception", "end_date", "start_date"),
    ("permits", "cancelled_date", "issue_date"),
    ("certificates", "revoked_date", "issue_date"),
    ("surveys", "reported_date", "survey_date"),
)


def _date_order(ds: Dataset) -> list[_Finding]:
    out = []
    for table, later, earlier in DATE_ORDER:
        if table not in ds:
            continue
        df = ds[table]
        bad = df[later] < df[earlier]
        if bad.any():
            t = schema.TABLES[table]
            lz, ez = t.column(later).zh, t.column(earlier).zh
            out.append(
                _Finding(
                    table,
                    df.index[bad],
                    later,
                    "date_order",
                    f"{lz}早于{ez}",
                    f"{later} is before {earlier}",
                    detail=df.loc[bad, earlier].map(_fmt),
                )
            )
    return out


# The start of time of the parameters (POLICY.md §9) and of Excel's calendar: no record
# of living people or of the bureau's work is older.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
# Dates that cannot lie after the day of the check: a person cannot be born tomorrow.
BIRTH_DATES = (
    ("persons", "birth_date"),
    ("children", "birth_date"),
    ("household_members", "birth_date"),
)


def _date_bounds(ds: Dataset, as_of: pd.Timestamp) -> list[_Finding]:
    """Impossible dates: any date before 1900-01-01; a birth after ``as_of``.

    Examples:
        >>> p = schema.coerce("persons", [
        ...     {"person_id": "P1", "name": "甲", "sex": "F", "birth_date": "1899-12-31", "category": "outside"},
        ...     {"person_id": "P2", "name": "乙", "sex": "F", "birth_date": "2030-01-01", "category": "outside"}])
        >>> [(list(f.rows), f.rule) for f in _date_bounds(Dataset({"persons": p}), pd.Timestamp("2026-01-01"))]
        [([2], 'date_before_1900'), ([3], 'date_in_future')]
    """
    out = []
    for t in schema.TABLES_LIST:
        if t.name not in ds:
            continue
        df = ds[t.name]
        for c in t.columns:
            if c.type != "date":
                continue
            early = df[c.name] < EARLIEST_DATE
            if early.any():
                out.append(
                    _Finding(
                        t.name,
                        df.index[early],
                        c.name,
                        "date_before_1900",
                        f"{c.zh}早于 1900-01-01，不可能（多为录入错误，或 Excel 把空日期显示为 1900 年前后）",
                        f"{c.name} is before 1900-01-01, which is impossible (a typing error, or an "
                        "empty Excel date shown as 1899/1900)",
                    )
                )
    for table, col in BIRTH_DATES:
        if table not in ds:
            continue
        df = ds[table]
        late = df[col] > as_of
        if late.any():
            zh = schema.TABLES[table].column(col).zh
            out.append(
                _Finding(
                    table,
                    df.index[late],
                    col,
                    "date_in_future",
                    f"{zh}晚于校验基准日 {_fmt(as_of)}，不可能",
                    f"{col} is after the as-of date {_fmt(as_of)}, which is impossible",
                )
            )
    return out


def _references(ds: Dataset) -> tuple[list[_Finding], list[Problem]]:
    findings, notes = [], []
    for t in schema.TABLES_LIST:
        if t.name not in ds:
            continue
        df = ds[t.name]
        for c in t.columns:
            if not c.references:
                continue
            tt, tc = c.references.split(".")
            if tt not in ds:
                notes.append(
                    Problem(
                        t.name,
                        None,
                        c.name,
                        None,
                        "reference_not_checked",
                        f"未提供表“{schema.TABLES[tt].zh}”，列“{c.zh}”的引用未检查",
                        f"table '{tt}' is not in the dataset; references in column '{c.name}' were not checked",
                        "note",
                        None,
                        ds.file_of(t.name),
                    )
                )
                continue
            v = df[c.name]
            bad = v.notna() & ~isin_keys(v, ds[tt][tc])
            if bad.any():
                findings.append(
                    _Finding(
                        t.name,
                        df.index[bad],
                        c.name,
                        "reference",
                        f"在表“{schema.TABLES[tt].zh}”中找不到这个{schema.TABLES[tt].column(tc).zh}",
                        f"no such {tc} in table '{tt}'",
                    )
                )
    return findings, notes


def _lookup(ds: Dataset, table: str, key: str, values: pd.Series, column: str) -> pd.Series:
    """``table.column`` of the (first) row whose ``key`` equals each value (NaN if none)."""
    ref = ds[table].drop_duplicates(key).set_index(key)[column]
    return _map(values, ref)


def _map(values: pd.Series, ref: pd.Series) -> pd.Series:
    """``values.map(ref)`` for a uniquely indexed ``ref``, keeping ``ref``'s dtype.

    (pandas 3.1's ``Series.map`` fails on an empty datetime ``ref``.)
    """
    return pd.Series(ref.reindex(values.to_numpy()).to_numpy(), index=values.index, dtype=ref.dtype)


def _conditional(ds: Dataset) -> list[_Finding]:
    out: list[_Finding] = []

    def add(table, mask, column, rule, zh, en, severity="error", detail=None):
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            df = ds[table]
            out.append(
                _Finding(
                    table,
                    df.index[mask],
                    column,
                    rule,
                    zh,
                    en,
                    severity,
                    None if detail is None else detail[mask],
                )
            )

    if "persons" in ds:
        p = ds["persons"]
        add(
            "persons",
            p["category"].eq("staff") & p["hire_date"].isna(),
            "hire_date",
            "hire_date_required",
            "干部职工必须填写入职日期",
            "hire_date is required for staff",
        )
    if "pregnancies" in ds:
        g = ds["pregnancies"]
        ongoing = g["outcome"].eq("ongoing")
        add(
            "pregnancies",
            g["outcome"].notna() & ~ongoing & g["outcome_date"].isna(),
            "outcome_date",
            "outcome_date_required",
            "妊娠已有结局，必须填写结局日期",
            "outcome_date is required unless the pregnancy is ongoing",
        )
        add(
            "pregnancies",
            ongoing & g["outcome_date"].notna(),
            "outcome_date",
            "outcome_date_while_ongoing",
            "妊娠中不应有结局日期",
            "an ongoing pregnancy should have no outcome_date",
            "warning",
        )
        if "children" in ds:
            cc = _lookup(ds, "children", "child_id", g["child_id"], "couple_id")
            add(
                "pregnancies",
                cc.notna() & g["couple_id"].notna() & cc.ne(g["couple_id"]),
                "child_id",
                "pregnancy_child_couple",
                "该子女不属于本条妊娠记录的夫妻",
                "the child belongs to another couple",
                detail=cc,
            )
    if "persons" in ds:
        sex = ds["persons"].drop_duplicates("person_id").set_index("person_id")["sex"]
        if "couples" in ds:
            c = ds["couples"]
            add(
                "couples",
                c["wife_id"].map(sex).eq("M"),
                "wife_id",
                "wife_sex",
                "女方在人员表中的性别为男",
                "the wife is recorded as male in persons",
            )
            add(
                "couples",
                c["husband_id"].map(sex).eq("F"),
                "husband_id",
                "husband_sex",
                "男方在人员表中的性别为女",
                "the husband is recorded as female in persons",
            )
        if "check_attendance" in ds:
            a = ds["check_attendance"]
            add(
                "check_attendance",
                a["person_id"].map(sex).eq("M"),
                "person_id",
                "attendance_woman",
                "环孕检记录的人员应为女性",
                "check attendance must be of a woman",
            )
    if "couples" in ds:
        cp = ds["couples"].drop_duplicates("couple_id").set_index("couple_id")

        def not_spouse(df, col):
            wife = df["couple_id"].map(cp["wife_id"])
            husband = df["couple_id"].map(cp["husband_id"])
            known = df["couple_id"].isin(cp.index) & df[col].notna()
            return known & df[col].ne(wife) & df[col].ne(husband)

        if "certificates" in ds:
            add(
                "certificates",
                not_spouse(ds["certificates"], "payee_id"),
                "payee_id",
                "payee_spouse",
                "领取人不是这对夫妻中的一方",
                "the payee is not one of the couple's spouses",
            )
        if "contraception" in ds:
            add(
                "contraception",
                not_spouse(ds["contraception"], "person_id"),
                "person_id",
                "contraception_spouse",
                "采取措施的人不是这对夫妻中的一方",
                "the person is not one of the couple's spouses",
            )
    if "certificates" in ds and "children" in ds:
        ce = ds["certificates"]
        cc = _lookup(ds, "children", "child_id", ce["child_id"], "couple_id")
        add(
            "certificates",
            cc.notna() & ce["couple_id"].notna() & cc.ne(ce["couple_id"]),
            "child_id",
            "certificate_child_couple",
            "该子女不属于光荣证上的夫妻",
            "the child belongs to another couple",
            detail=cc,
        )
        born = _lookup(ds, "children", "child_id", ce["child_id"], "birth_date")
        add(
            "certificates",
            ce["issue_date"] < born,
            "issue_date",
            "certificate_before_birth",
            "领证日期早于子女出生日期",
            "issue_date is before the child's birth_date",
            detail=born.map(_fmt),
        )
    if "households" in ds and "household_members" in ds:
        h = ds["households"]
        counts = ds["household_members"].groupby("household_id").size()
        listed = h["household_id"].map(counts).fillna(0).astype("int64")
        add(
            "households",
            h["size"].notna() & h["household_id"].notna() & h["size"].ne(listed),
            "size",
            "household_size",
            "家庭人口与家庭成员表所列人数不符",
            "size differs from the members listed",
            detail=listed.astype(str),
        )
    if "households" in ds and "household_members" in ds:
        # POLICY.md §6: a declared FP type that the members contradict is a data error. It is
        # reported (naming the household) but does not reject the row: the members are the
        # evidence, so relief uses the derived type (issue 5). The derivation is relief's.
        from fpanalysis.rules.relief import derive_fp_types, fp_type_problems

        h = ds["households"]
        probs = fp_type_problems(h, derive_fp_types(h, ds["household_members"]))
        if len(probs):
            rows = pd.Index(probs["row"].astype("int64"))
            out.append(
                _Finding(
                    "households",
                    rows,
                    "declared_fp_type",
                    "fp_type_contradicted",
                    "申报计生类型与家庭成员不符",
                    "the declared FP type is contradicted by the members",
                    severity="warning",
                    detail=None,
                    messages=probs.set_index(rows)[["message_zh", "message_en"]],
                )
            )
    return out


# --------------------------------------------------------------------------- resident ID numbers


def _id_findings(
    table: str,
    df: pd.DataFrame,
    column: str,
    births: pd.Series,
    sexes: pd.Series,
    subject: tuple[str, str],
) -> list[_Finding]:
    """Check ``df[column]`` by the rules of :func:`fpanalysis.core.ids.check_id_number` (POLICY.md §8).

    Vectorised over the column (a province has tens of millions of numbers):
    numbers written with ASCII digits and ``X`` only are checked by numpy over
    their 17 digits — check character (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8
    4 2, ``10X98765432``), birth date, sex digit, 15-digit upgrade, region
    code — giving exactly the problems and messages ``check_id_number`` gives;
    any other value (spaces, full-width digits, a lowercase ``x``, other
    scripts, empty) goes through ``check_id_number`` itself, one by one.
    """
    v = df[column]
    has = v.notna()
    if not has.any():
        return []
    rows = df.index[has]
    vals = v[has].astype("str")
    b = births[has]
    if not pd.api.types.is_datetime64_any_dtype(b):
        b = pd.to_datetime(b, errors="coerce")
    sx = sexes[has].astype(object).to_numpy()
    found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}

    def add(sev: str, code: str, where: np.ndarray, zh, en) -> None:
        if len(where):
            found.setdefault((sev, code), []).append(
                (
                    np.asarray(rows[where]),
                    np.asarray(zh, dtype=object),
                    np.asarray(en, dtype=object),
                )
            )

    plain = vals.str.fullmatch(r"[0-9X]+").fillna(False).to_numpy(dtype=bool)
    _id_rowwise(np.flatnonzero(~plain), vals, b, sx, add)
    _id_vectorised(np.flatnonzero(plain), vals, b, sx, add)

    out = []
    for (sev, code), chunks in found.items():
        r = np.concatenate([c[0] for c in chunks])
        zh = np.concatenate([c[1] for c in chunks])
        en = np.concatenate([c[2] for c in chunks])
        msgs = pd.DataFrame(
            {
                "message_zh": [f"{subject[0]}{x}" for x in zh],
                "message_en": [f"{subject[1]}{x}" for x in en],
            },
            index=pd.Index(r),
        )
        rule = code if str(code).startswith("id") else f"id_{code}"
        out.append(
            _Finding(
                table,
                pd.Index(r),
                column,
                rule,
                msgs["message_zh"].iloc[0],
                msgs["message_en"].iloc[0],
                sev,
                messages=msgs,
            )
        )
    return out


def _id_rowwise(
    pos: np.ndarray, vals: pd.Series, births: pd.Series, sexes: np.ndarray, add
) -> None:
    """The unusual values: :func:`fpanalysis.core.ids.check_id_number` row by row (few rows)."""

    for i in pos:
        bb, s = births.iloc[i], sexes[i]
        res = ids.check_id_number(
            vals.iloc[i],
            birth_date=None if pd.isna(bb) else pd.Timestamp(bb).date(),
            sex=None if (s is None or pd.isna(s) or s not in ("F", "M")) else s,
        )
        for sev, items in (("error", res.errors), ("warning", res.warnings)):
            for code, zh, en in items:
                add(sev, code, np.array([i]), [zh], [en])


_ID_CHECK = np.frombuffer(ids.CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)
_SEX_ZH = {"F": "女", "M": "男"}


def _id_vectorised(
    pos: np.ndarray, vals: pd.Series, births: pd.Series, sexes: np.ndarray, add
) -> None:
    """Numbers of ASCII digits and ``X``: the rules of ``check_id_number`` by whole columns."""

    if not pos.size:
        return
    sub = vals.iloc[pos]
    text = sub.to_numpy(dtype=object)
    length = sub.str.len().to_numpy(dtype=np.int64)
    has_x = sub.str.contains("X", regex=False).to_numpy(dtype=bool)
    x_last_only = sub.str.fullmatch(r"[0-9]{17}X").to_numpy(dtype=bool)
    is15 = (length == 15) & ~has_x
    is18 = (length == 18) & (~has_x | x_last_only)
    bad_len = (length != 15) & (length != 18)
    add(
        "error",
        "bad_length",
        pos[bad_len],
        [f"身份证号应为 18 位（或 15 位旧号），实为 {n} 位" for n in length[bad_len]],
        [
            f"an ID number has 18 characters (or 15 digits, legacy); this one has {n}"
            for n in length[bad_len]
        ],
    )
    bad_chars = ~bad_len & ~is15 & ~is18
    k = int(bad_chars.sum())
    add(
        "error",
        "bad_characters",
        pos[bad_chars],
        ["身份证号只能是数字，最后一位可以是 X"] * k,
        ["an ID number is digits only, with X allowed as the last character"] * k,
    )
    ok = is15 | is18
    if not ok.any():
        return
    # 18-character form: a 15-digit number gets "19" before its year and a computed check character
    raw = np.array(text[ok].tolist(), dtype="S18")
    buf = np.zeros((raw.size, 18), dtype=np.uint8)
    buf[:, :] = raw.view(np.uint8).reshape(raw.size, 18) if raw.size else buf
    legacy = is15[ok]
    if legacy.any():
        old = buf[legacy, :15].copy()
        buf[legacy, :6] = old[:, :6]
        buf[legacy, 6:8] = np.frombuffer(b"19", dtype=np.uint8)
        buf[legacy, 8:17] = old[:, 6:15]
    # one contiguous row per digit position (position-major), so each pass reads memory in order
    digits = np.ascontiguousarray(buf[:, :17].T).astype(np.int32) - 48
    expected = _ID_CHECK[ids.check_indices(digits)]
    buf[legacy, 17] = expected[legacy]

    def full(mask: np.ndarray) -> np.ndarray:  # the 18-character numbers of some rows, as text
        return buf[mask].view("S18").ravel().astype(str)

    at = pos[ok]
    if legacy.any():
        up = full(legacy)
        add(
            "warning",
            "legacy_15",
            at[legacy],
            [f"15 位旧身份证号，已升级为 18 位：{n}" for n in up],
            [f"15-digit legacy ID number, upgraded to 18 characters: {n}" for n in up],
        )
    sex_id = np.where(digits[16] % 2 == 1, "M", "F")
    y = (digits[6] * 1000 + digits[7] * 100 + digits[8] * 10 + digits[9]).astype(np.int64)
    m = (digits[10] * 10 + digits[11]).astype(np.int64)
    d = (digits[12] * 10 + digits[13]).astype(np.int64)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m - 1, 0, 11)]
    month_days = month_days + ((m == 2) & leap)
    valid = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= month_days)
    bad_date = ~valid
    add(
        "error",
        "bad_birth_date",
        at[bad_date],
        [f"身份证号中的出生日期 {n[6:14]} 不存在" for n in full(bad_date)],
        [f"the birth date in the ID number, {n[6:14]}, does not exist" for n in full(bad_date)],
    )
    wrong = ~legacy & (buf[:, 17] != expected)
    got = buf[wrong, 17].tobytes().decode("ascii")
    exp = expected[wrong].tobytes().decode("ascii")
    add(
        "error",
        "bad_check_character",
        at[wrong],
        [f"校验码错误：末位为“{g}”，应为“{e}”" for g, e in zip(got, exp, strict=True)],
        [f"wrong check character '{g}'; expected '{e}'" for g, e in zip(got, exp, strict=True)],
    )
    rec = births.iloc[at]
    known = rec.notna().to_numpy(dtype=bool)
    rec_ymd = np.where(
        known,
        (rec.dt.year.fillna(0) * 10000 + rec.dt.month.fillna(0) * 100 + rec.dt.day.fillna(0))
        .to_numpy(dtype="float64")
        .astype(np.int64),
        0,
    )
    mismatch = valid & known & (rec_ymd != y * 10000 + m * 100 + d)
    born = [
        f"{a:04d}-{b_:02d}-{c:02d}"
        for a, b_, c in zip(y[mismatch], m[mismatch], d[mismatch], strict=True)
    ]
    recorded = [f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}" for x in rec_ymd[mismatch]]
    add(
        "error",
        "birth_date_mismatch",
        at[mismatch],
        [
            f"身份证号中的出生日期 {a} 与登记的出生日期 {r} 不一致"
            for a, r in zip(born, recorded, strict=True)
        ],
        [
            f"the birth date in the ID number, {a}, disagrees with the recorded {r}"
            for a, r in zip(born, recorded, strict=True)
        ],
    )
    rs = sexes[at]
    rec_sex = np.where(rs == "F", "F", np.where(rs == "M", "M", ""))
    sex_bad = (rec_sex != "") & (rec_sex != sex_id)
    add(
        "error",
        "sex_mismatch",
        at[sex_bad],
        [
            f"身份证号表示性别为{_SEX_ZH[a]}，登记为{_SEX_ZH[r]}"
            for a, r in zip(sex_id[sex_bad], rec_sex[sex_bad], strict=True)
        ],
        [
            f"the ID number says sex {a}; the record says {r}"
            for a, r in zip(sex_id[sex_bad], rec_sex[sex_bad], strict=True)
        ],
    )
    region = (
        digits[0] * 100000
        + digits[1] * 10000
        + digits[2] * 1000
        + digits[3] * 100
        + digits[4] * 10
        + digits[5]
    )
    codes, inverse = np.unique(region, return_inverse=True)
    known_code = np.array([ids.region_known(f"{c:06d}") for c in codes], dtype=bool)
    unknown = ~known_code[inverse.ravel()]
    regs = [f"{c:06d}" for c in region[unknown]]
    add(
        "warning",
        "unknown_region",
        at[unknown],
        [f"地区码 {r} 不在代码表中（可能已撤销，仅提示）" for r in regs],
        [
            f"region code {r} is not in the code list (perhaps abolished; a warning only)"
            for r in regs
        ],
    )


def _ids(ds: Dataset) -> list[_Finding]:
    out: list[_Finding] = []
    if "persons" in ds:
        p = ds["persons"]
        out += _id_findings("persons", p, "id_number", p["birth_date"], p["sex"], ("", ""))
        n = p["id_number"]
        dup = n.notna() & n.duplicated(keep=False)
        if dup.any():
            out.append(
                _Finding(
                    "persons",
                    p.index[dup],
                    "id_number",
                    "duplicate_id_number",
                    "身份证号与另一人员相同",
                    "the same ID number is recorded for another person",
                    "warning",
                )
            )
    if "households" in ds:
        h = ds["households"]
        births = pd.Series(pd.NaT, index=h.index, dtype="datetime64[ns]")
        sexes = pd.Series(None, index=h.index, dtype="str")
        if "household_members" in ds:
            m = ds["household_members"]
            heads = m[m["relation"].eq("head")]
            heads = heads[~heads["household_id"].duplicated(keep=False)].set_index("household_id")
            births = _map(h["household_id"], heads["birth_date"])
            sexes = _map(h["household_id"], heads["sex"])
        out += _id_findings(
            "households", h, "head_id_number", births, sexes, ("户主成员：", "head member: ")
        )
    return out


# --------------------------------------------------------------------------- validate_dataset


def validate_dataset(dataset: Dataset, *, as_of=None) -> ValidationReport:
    """Check every rule of DATA.md over a loaded dataset; list every problem.

    Args:
        dataset: from :func:`fpanalysis.io.load_dataset` (or a
            :class:`~fpanalysis.io.Dataset` of hand-made frames).
        as_of: the day of the check (date, Timestamp or ``YYYY-MM-DD``): a birth
            date after it is an error (``date_in_future``). Default: today (UTC),
            the one thing a check may take from the clock, since a birth that
            has not happened yet is impossible whatever the data's extract date.

    Returns:
        A :class:`ValidationReport`; ``report.ok`` is true when nothing is an
        error. Problems are sorted by table (schema order), row, column.
    """
    problems: list[Problem] = list(dataset.problems)
    if dataset.source is not None and not len(dataset) and not dataset.raw and not dataset.files:
        problems.append(
            Problem(
                None,
                None,
                None,
                None,
                "no_tables",
                "数据集中没有找到任何表（文件名或工作表名应为表名，如 persons.csv 或“人员”）",
                "no tables found in the dataset (files or sheets are named after tables, e.g. persons.csv or 人员)",
                "error",
                None,
                str(dataset.source),
            )
        )
    findings: list[_Finding] = []
    col_probs: list[Problem] = []
    keys = {t: row_keys(df, t) for t, df in dataset.items()}

    def raw_value(table: str, row: int | None, column: str | None) -> str | None:
        if row is None or column is None:
            return None
        raw = dataset.raw.get(table)
        header = dataset.headers.get(table, {}).get(column)
        if raw is not None and header is not None and row in raw.index:
            return raw.at[row, header]
        v = (
            dataset[table].at[row, column]
            if table in dataset and row in dataset[table].index
            else None
        )
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        return _fmt(v) if isinstance(v, pd.Timestamp) else str(v)

    for t in schema.TABLES:
        if t in dataset:
            for row, col, rule, zh, en in _column_problems(t, dataset[t]):
                col_probs.append(
                    Problem(t, row, col, None, rule, zh, en, "error", None, dataset.file_of(t, row))
                )
    ref_findings, notes = _references(dataset)
    as_of = (
        pd.Timestamp(dt.datetime.now(dt.UTC).date()) if as_of is None else pd.Timestamp(as_of)
    ).normalize()
    findings += ref_findings + _date_order(dataset) + _date_bounds(dataset, as_of)
    findings += _conditional(dataset) + _ids(dataset)
    problems += notes + col_probs
    for f in findings:
        for row in f.rows:
            file = dataset.file_of(f.table, int(row))  # a part file for partitioned tables
            zh, en = f.zh, f.en
            if f.messages is not None:
                zh, en = f.messages.at[row, "message_zh"], f.messages.at[row, "message_en"]
            elif f.detail is not None:
                d = f.detail.get(row)
                if d is not None and not (isinstance(d, float) and pd.isna(d)) and d != "":
                    zh, en = f"{zh}（{d}）", f"{en} ({d})"
            problems.append(
                Problem(f.table, int(row), f.column, None, f.rule, zh, en, f.severity, None, file)
            )

    # One report per cell: a type error stands for the emptiness it causes.
    typed_cells = {(p.table, p.row, p.column) for p in problems if p.rule in _TYPE_RULES}
    problems = [
        p
        for p in problems
        if not (p.rule in _EMPTINESS_RULES and (p.table, p.row, p.column) in typed_cells)
        and not (p.rule == "date_order" and (p.table, p.row, p.column) in typed_cells)
    ]
    # Fill in the key and the raw value as the clerk typed it.
    filled = []
    for p in problems:
        if p.table in keys and p.row is not None:
            key = p.key if p.key is not None else (keys[p.table].get(p.row) or None)
            value = p.value if p.value is not None else raw_value(p.table, p.row, p.column)
            p = replace(p, key=key, value=value)
        filled.append(p)
    order = {t: i for i, t in enumerate(schema.TABLES)}
    sev_order = {"error": 0, "warning": 1, "note": 2}
    colpos = {t.name: {c.name: i for i, c in enumerate(t.columns)} for t in schema.TABLES_LIST}
    filled.sort(
        key=lambda p: (
            sev_order.get(p.severity, 3),
            order.get(p.table, -1),
            -1 if p.row is None else p.row,
            colpos.get(p.table, {}).get(p.column, -1),
            p.rule,
        )
    )
    filled = list(dict.fromkeys(filled))

    rows = {t: len(df) for t, df in dataset.raw.items()} | {t: len(df) for t, df in dataset.items()}
    rejected: dict[str, list[int]] = {}
    for t in rows:
        idx = dataset[t].index if t in dataset else dataset.raw[t].index
        if any(p.table == t and p.row is None and p.severity == "error" for p in filled):
            rej = set(idx)
        else:
            rej = {
                p.row
                for p in filled
                if p.table == t and p.severity == "error" and p.row is not None
            }
        if rej:
            rejected[t] = sorted(int(r) for r in rej)
    return ValidationReport(filled, rows, rejected)


# --------------------------------------------------------------------------- rejects


def write_rejects(
    report: ValidationReport, dataset: Dataset, folder: str | os.PathLike, lang: str = "zh"
) -> dict[str, Path]:
    """Write each table's rejected rows, as they stood in the input, to ``folder``.

    One CSV (UTF-8 with BOM) per table with rejected rows, named after the
    input file or sheet (``人员.csv``), holding the row number, every original
    column with its original header and raw text, and the reasons in Chinese and
    English (several reasons joined by ``；`` / ``; ``). Values are NOT masked:
    this is the clerk's own correction work (POLICY.md §7). Text that begins
    with ``= + - @`` gets a leading ``'`` like every CSV this package writes.

    Returns:
        table -> path written.
    """
    folder = Path(folder)
    out: dict[str, Path] = {}
    zh = lang == "zh"
    for t, rows in report.rejected.items():
        raw = dataset.raw.get(t)
        if raw is None:
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
        frame = raw.loc[rows].copy()
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
