"""Checks across fields and tables, vectorised over whole columns: references between tables
that are present (a reference to an absent table is not checked, and a note says so), date
order, impossible dates (before 1900-01-01; a birth after the day of the check), conditional
requirements, records that must belong to their couple, household size, and declared FP types
that the members contradict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import Dataset, Problem, isin_keys, same_texts
from fpanalysis.io.validate.findings import (
    Finding,
    callers_lookups,
    fmt_date,
    key_positions,
    key_positions_each,
    loaded_columns,
    lookup,
)
from fpanalysis.rules.relief import derive_fp_types, fp_type_problems
from fpanalysis.rules.relief.fp_types import fp_types

__all__ = [
    "BIRTH_DATES",
    "DATE_ORDER",
    "EARLIEST_DATE",
    "conditional",
    "date_bounds",
    "date_order",
    "references",
]


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


def date_order(ds: Dataset, only: str | None = None) -> list[Finding]:
    """``only``: the checks of that table alone (a table checked a part at a time)."""
    out = []
    for table, later, earlier in DATE_ORDER:
        if table not in ds or only not in (None, table):
            continue
        df = ds[table]
        bad = df[later] < df[earlier]
        if bad.any():
            t = schema.TABLES[table]
            lz, ez = t.column(later).zh, t.column(earlier).zh
            out.append(
                Finding(
                    table,
                    df.index[bad],
                    later,
                    "date_order",
                    f"{lz}早于{ez}",
                    f"{later} is before {earlier}",
                    detail=df.loc[bad, earlier].map(fmt_date),
                )
            )
    return out


# The start of time of the parameters (rulebook §9) and of Excel's calendar: no record
# of living people or of the bureau's work is older.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
# Dates that cannot lie after the day of the check: a person cannot be born tomorrow.
BIRTH_DATES = (
    ("persons", "birth_date"),
    ("children", "birth_date"),
    ("household_members", "birth_date"),
)


def date_bounds(ds: Dataset, as_of: pd.Timestamp, only: str | None = None) -> list[Finding]:
    """Impossible dates: any date before 1900-01-01; a birth after ``as_of`` (``only``: in
    that table alone).

    Examples:
        >>> woman = {"sex": "F", "category": "outside"}
        >>> p = schema.coerce("persons", [
        ...     {"person_id": "P1", "name": "甲", "birth_date": "1899-12-31", **woman},
        ...     {"person_id": "P2", "name": "乙", "birth_date": "2030-01-01", **woman}])
        >>> found = date_bounds(Dataset({"persons": p}), pd.Timestamp("2026-01-01"))
        >>> [(list(f.rows), f.rule) for f in found]
        [([2], 'date_before_1900'), ([3], 'date_in_future')]
    """
    out = []
    for table, df, c in loaded_columns(ds):
        if c.type != "date" or only not in (None, table):
            continue
        early = df[c.name] < EARLIEST_DATE
        if early.any():
            out.append(
                Finding(
                    table,
                    df.index[early],
                    c.name,
                    "date_before_1900",
                    f"{c.zh}早于 1900-01-01，不可能"
                    "（多为录入错误，或 Excel 把空日期显示为 1900 年前后）",
                    f"{c.name} is before 1900-01-01, which is impossible (a typing error, "
                    "or an empty Excel date shown as 1899/1900)",
                )
            )
    for table, col in BIRTH_DATES:
        if table not in ds or only not in (None, table):
            continue
        df = ds[table]
        late = df[col] > as_of
        if late.any():
            zh = schema.TABLES[table].column(col).zh
            out.append(
                Finding(
                    table,
                    df.index[late],
                    col,
                    "date_in_future",
                    f"{zh}晚于校验基准日 {fmt_date(as_of)}，不可能",
                    f"{col} is after the as-of date {fmt_date(as_of)}, which is impossible",
                )
            )
    return out


def _references_found(ds: Dataset, only: str | None) -> dict[tuple[str, str], np.ndarray]:
    """(table, column) -> which of its values are among the keys it refers to (a missing value
    finds a missing key), for every reference to a table present. The columns that refer to
    the same keys are looked up together (:func:`key_positions_each`: the keys hashed once);
    the lookups run on two threads (pyarrow's hash lookups let go of the interpreter), the
    longest first."""
    from concurrent.futures import ThreadPoolExecutor

    by_keys: dict[str, list[tuple[str, str, pd.Series]]] = {}
    for table, df, c in loaded_columns(ds):
        if only not in (None, table):
            continue
        if c.references and c.references.split(".")[0] in ds:
            by_keys.setdefault(c.references, []).append((table, c.name, df[c.name]))
    todo = [(ref, cols) for ref, cols in by_keys.items()]
    todo.sort(key=lambda x: -sum(len(v) for _, _, v in x[1]))

    shared = callers_lookups()  # the pool's threads store their look-ups in the caller's

    def look_up(ref: str, cols: list[tuple[str, str, pd.Series]]) -> list[np.ndarray]:
        tt, tc = ref.split(".")
        with shared():
            return [at >= 0 for at in key_positions_each([v for _, _, v in cols], ds[tt][tc])]

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda x: look_up(*x), todo))
    return {
        (t, name): at
        for (_, cols), ats in zip(todo, found, strict=True)
        for (t, name, _), at in zip(cols, ats, strict=True)
    }


def references(ds: Dataset, only: str | None = None) -> tuple[list[Finding], list[Problem]]:
    """References to rows of other tables that are not there, and a note for each reference
    to a table not given (``only``: those of that table alone)."""
    findings, notes = [], []
    known = _references_found(ds, only)
    for table, df, c in loaded_columns(ds):
        if not c.references or only not in (None, table):
            continue
        tt, tc = c.references.split(".")
        if tt not in ds:
            notes.append(
                Problem(
                    table,
                    None,
                    c.name,
                    None,
                    "reference_not_checked",
                    f"未提供表“{schema.TABLES[tt].zh}”，列“{c.zh}”的引用未检查",
                    f"table '{tt}' is not in the dataset; references in column '{c.name}' "
                    "were not checked",
                    "note",
                    None,
                    ds.file_of(table),
                )
            )
            continue
        v = df[c.name]
        # (the positions of a value in the keys: the checks across tables look them up again)
        bad = v.notna() & ~pd.Series(known.pop((table, c.name)), index=v.index)
        if bad.any():
            findings.append(
                Finding(
                    table,
                    df.index[bad],
                    c.name,
                    "reference",
                    f"在表“{schema.TABLES[tt].zh}”中找不到这个{schema.TABLES[tt].column(tc).zh}",
                    f"no such {tc} in table '{tt}'",
                )
            )
    return findings, notes


# (table, person column, the sex that person may not have, rule)
WRONG_SEX = (
    ("couples", "wife_id", "M", "wife_sex"),
    ("couples", "husband_id", "F", "husband_sex"),
    ("check_attendance", "person_id", "M", "attendance_woman"),
)
# (table, person column, rule): the person must be one of the row's couple
NOT_SPOUSE = (
    ("certificates", "payee_id", "payee_spouse"),
    ("contraception", "person_id", "contraception_spouse"),
)
# rule -> (zh, en) message
MESSAGES = {
    "wife_sex": ("女方在人员表中的性别为男", "the wife is recorded as male in persons"),
    "husband_sex": ("男方在人员表中的性别为女", "the husband is recorded as female in persons"),
    "attendance_woman": ("环孕检记录的人员应为女性", "check attendance must be of a woman"),
    "payee_spouse": ("领取人不是这对夫妻中的一方", "the payee is not one of the couple's spouses"),
    "contraception_spouse": (
        "采取措施的人不是这对夫妻中的一方",
        "the person is not one of the couple's spouses",
    ),
}


def _lookup(ds: Dataset, table: str, key: str, values: pd.Series, column: str) -> pd.Series:
    """``table.column`` of the (first) row whose ``key`` equals each value (NaN if none)."""
    return lookup(values, ds[table][key], ds[table][column])


def conditional(ds: Dataset, only: str | None = None) -> list[Finding]:
    """The conditional requirements and the checks across tables (``only``: of the rows of that
    table alone)."""
    out: list[Finding] = []

    def want(table: str) -> bool:
        return table in ds and only in (None, table)

    def add(table, mask, column, rule, zh, en, severity="error", detail=None):
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            df = ds[table]
            out.append(
                Finding(
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

    def child_of_couple(table: str, rule: str, zh: str) -> None:
        """The record's child must be a child of the record's couple."""
        df = ds[table]
        cc = _lookup(ds, "children", "child_id", df["child_id"], "couple_id")
        wrong = cc.notna() & df["couple_id"].notna() & cc.ne(df["couple_id"])
        add(table, wrong, "child_id", rule, zh, "the child belongs to another couple", detail=cc)

    if want("persons"):
        p = ds["persons"]
        add(
            "persons",
            p["category"].eq("staff") & p["hire_date"].isna(),
            "hire_date",
            "hire_date_required",
            "干部职工必须填写入职日期",
            "hire_date is required for staff",
        )
    if want("pregnancies"):
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
            child_of_couple(
                "pregnancies", "pregnancy_child_couple", "该子女不属于本条妊娠记录的夫妻"
            )
    if "persons" in ds:
        for table, column, sex, rule in WRONG_SEX:
            if want(table):
                found = _lookup(ds, "persons", "person_id", ds[table][column], "sex")
                add(table, found.eq(sex), column, rule, *MESSAGES[rule])
    if "couples" in ds:

        def not_spouse(df, col):
            wife = _lookup(ds, "couples", "couple_id", df["couple_id"], "wife_id")
            husband = _lookup(ds, "couples", "couple_id", df["couple_id"], "husband_id")
            found = key_positions(df["couple_id"], ds["couples"]["couple_id"]) >= 0
            known = pd.Series(found, index=df.index) & df[col].notna()
            return known & df[col].ne(wife) & df[col].ne(husband)

        for table, column, rule in NOT_SPOUSE:
            if want(table):
                add(table, not_spouse(ds[table], column), column, rule, *MESSAGES[rule])
    if want("certificates") and "children" in ds:
        ce = ds["certificates"]
        child_of_couple("certificates", "certificate_child_couple", "该子女不属于光荣证上的夫妻")
        born = _lookup(ds, "children", "child_id", ce["child_id"], "birth_date")
        add(
            "certificates",
            ce["issue_date"] < born,
            "issue_date",
            "certificate_before_birth",
            "领证日期早于子女出生日期",
            "issue_date is before the child's birth_date",
            detail=born.dt.strftime("%Y-%m-%d").fillna(""),
        )
    if want("households") and "household_members" in ds:
        h = ds["households"]
        ids, sizes = member_counts(ds["household_members"]["household_id"])
        at = (  # every household listed, in the members' order (the usual export): no look-up
            np.arange(len(h))
            if same_texts(h["household_id"], ids)
            else key_positions(h["household_id"], ids)
        )
        listed = pd.Series(np.append(sizes, 0)[at], index=h.index, dtype="int64")
        add(
            "households",
            h["size"].notna() & h["household_id"].notna() & h["size"].ne(listed),
            "size",
            "household_size",
            "家庭人口与家庭成员表所列人数不符",
            "size differs from the members listed",
            detail=listed.astype(str),
        )
    if want("households") and "household_members" in ds:
        # rulebook §6: a declared FP type that the members contradict is a data error. It is
        # reported (naming the household) but does not reject the row: the members are the
        # evidence, so relief uses the derived type. The derivation is relief's.
        # Only a declared type can be contradicted, and a household's type is its members'
        # alone (another household's members count for none).
        h = ds["households"]
        m = ds["household_members"]
        # the types alone first, of every household: members listed by household are then
        # found without a look-up (``core.dataset.listed_as_keys``), where among the households
        # that declare one they were looked up (1.25 s at 10M people); the evidence, the
        # problem's words, only where a declared type differs
        derived = fp_types(h, m).fillna("")
        declared = h["declared_fp_type"].notna().to_numpy()
        h = h[declared & h["declared_fp_type"].ne(derived).fillna(False).to_numpy()]
        m = m[isin_keys(m["household_id"], h["household_id"]).to_numpy()]
        probs = fp_type_problems(h, derive_fp_types(h, m))
        if len(probs):
            rows = pd.Index(probs["row"].astype("int64"))
            out.append(
                Finding(
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


def member_counts(ids: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The distinct known values of ``ids`` and how many rows hold each, by pyarrow's
    ``value_counts`` (the same counts as :func:`_member_counts_readable`, in another order).

    Examples:
        >>> keys, n = member_counts(pd.Series(["h2", "h1", None, "h2"], dtype="str"))
        >>> keys.tolist(), n.tolist()
        (['h2', 'h1'], [2, 1])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from fpanalysis.core.dataset import arrow_text, run_starts, text_in_order
    from fpanalysis.core.textnumbers import one_array

    a = one_array(arrow_text(ids))
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    if len(a) > 1 and text_in_order(ids):  # each value one run (members listed by household)
        starts = run_starts(a)
        values = a.take(pa.array(starts))  # in order of first appearance, as value_counts
        keys = pd.Series(values.to_pandas(types_mapper={values.type: text}.get), dtype=text)
        return keys, np.diff(np.append(starts, len(a))).astype("int64")
    vc = pc.value_counts(pc.drop_null(a))
    values = vc.field("values")
    keys = pd.Series(values.to_pandas(types_mapper={values.type: text}.get), dtype=text)
    return keys, vc.field("counts").to_numpy(zero_copy_only=False).astype("int64")


def _member_counts_readable(ids: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The readable rule of :func:`member_counts`: pandas' group sizes by value."""
    counts = ids.groupby(ids).size()
    return pd.Series(counts.index, dtype="str"), counts.to_numpy(dtype="int64")
