"""Data-entry faults for testing validation: :data:`FAULTS` (each kind's table, rate and
description) and :func:`inject_faults`, which adds them to a copy of a clean dataset."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpanalysis.core.ids import check_chars
from fpanalysis.core.schema import TABLES
from fpanalysis.synth.common import SynthTables

# kind -> (table, rate of the table's rows, what it is in Chinese)
_FAULT_ROWS = {
    "bad_check_char": ("persons", 0.01, "身份证号校验码错误"),
    "sex_id_mismatch": ("persons", 0.005, "性别与身份证号不一致"),
    "birth_id_mismatch": ("persons", 0.005, "出生日期与身份证号不一致"),
    "unknown_unit": ("persons", 0.005, "单位编号不存在"),
    "wife_not_female": ("couples", 0.005, "女方编号指向男性"),
    "cert_before_birth": ("certificates", 0.02, "领证日期早于子女出生"),
    "end_before_start": ("contraception", 0.005, "结束日期早于开始日期"),
    "duplicate_key": ("children", 0.005, "编号重复"),
    "size_mismatch": ("households", 0.01, "家庭人口与成员数不符"),
    "fp_type_contradicted": ("households", 0.01, "申报计生类型与成员不符"),
    "head_id_mismatch": ("households", 0.01, "户主身份证号与户主成员不符"),
    "bad_date": ("surveys", 0.002, "日期无法识别"),
    "bad_number": ("households", 0.005, "数字无法识别"),
    "bad_enum": ("pregnancies", 0.005, "选项不在允许值内"),
}
_FAULT_EN = {
    "bad_check_char": "resident ID number with a wrong check character",
    "sex_id_mismatch": "sex disagrees with the ID number",
    "birth_id_mismatch": "birth date disagrees with the ID number",
    "unknown_unit": "unit_id refers to no unit",
    "wife_not_female": "wife_id refers to a man",
    "cert_before_birth": "certificate issued before the child's birth",
    "end_before_start": "end_date before start_date",
    "duplicate_key": "duplicate key",
    "size_mismatch": "size differs from the members listed",
    "fp_type_contradicted": "declared FP type contradicted by the members",
    "head_id_mismatch": "head_id_number disagrees with the head member",
    "bad_date": "unreadable date (text)",
    "bad_number": "unreadable number (text)",
    "bad_enum": "value not among the allowed codes (text)",
}
# Data-entry faults added by ``generate(faults=True)``: kind -> (table, rate of the table's
# rows, zh, en). At least one of each kind is added whatever the rate.
FAULTS: Mapping[str, tuple[str, float, str, str]] = {
    kind: (table, rate, zh, _FAULT_EN[kind]) for kind, (table, rate, zh) in _FAULT_ROWS.items()
}


def inject_faults(
    tables: Mapping[str, pd.DataFrame], rng: np.random.Generator | int = 0
) -> SynthTables:
    """Add the data-entry errors of :data:`FAULTS` to a copy of ``tables``.

    Each kind hits ``max(1, round(rate × rows))`` rows of its table (where the
    table has a row that can take it). The log (kind, table, key, column,
    value) is ``result.faults``.

    Examples:
        >>> from fpanalysis.synth import generate
        >>> t = inject_faults(generate(seed=3, people=40), 1)
        >>> sorted(t.faults["kind"].unique()) == sorted(FAULTS)
        True
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    t = {k: v.copy() for k, v in tables.items()}
    log = []

    def pick(table: str, kind: str, candidates=None) -> np.ndarray:
        df = t[table]
        pool = np.arange(len(df)) if candidates is None else np.flatnonzero(np.asarray(candidates))
        k = min(len(pool), max(1, round(FAULTS[kind][1] * len(df))))
        return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]

    def note(kind, table, rows, column, values):
        key = TABLES[table].key[0]
        for r, v in zip(rows, values, strict=True):
            log.append(
                {
                    "kind": kind,
                    "table": table,
                    "key": str(t[table][key].iloc[r]),
                    "column": column,
                    "value": "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v),
                }
            )

    def set_values(table, rows, column, values):
        df = t[table]
        df.iloc[rows, df.columns.get_loc(column)] = values

    def days(rows, most: int) -> pd.TimedeltaIndex:
        """1 to ``most - 1`` days, one per row."""
        return pd.to_timedelta(rng.integers(1, most, rows.size), unit="D")

    def set_dates(kind, table, rows, column, dates):
        """Set the dates and log them as ISO text."""
        set_values(table, rows, column, dates)
        note(kind, table, rows, column, pd.Series(dates).dt.strftime("%Y-%m-%d"))

    p = t["persons"]
    # persons: each row gets at most one fault, so every fault stays visible
    order = rng.permutation(len(p))
    used = np.zeros(len(p), dtype=bool)

    def free_rows(kind):
        k = max(1, round(FAULTS[kind][1] * len(p)))
        rows = order[~used[order]][:k]
        used[rows] = True
        return np.sort(rows)

    rows = free_rows("bad_check_char")
    ids = p["id_number"].to_numpy()[rows]
    wrong = ["0" if x[-1] != "0" else "1" for x in ids]
    vals = [x[:17] + w for x, w in zip(ids, wrong, strict=True)]
    set_values("persons", rows, "id_number", vals)
    note("bad_check_char", "persons", rows, "id_number", vals)

    rows = free_rows("sex_id_mismatch")
    vals = np.where(p["sex"].to_numpy()[rows] == "F", "M", "F")
    set_values("persons", rows, "sex", vals)
    note("sex_id_mismatch", "persons", rows, "sex", vals)

    rows = free_rows("birth_id_mismatch")
    later = (p["birth_date"].iloc[rows] + days(rows, 400)).to_numpy()
    set_dates("birth_id_mismatch", "persons", rows, "birth_date", later)

    rows = free_rows("unknown_unit")
    bad_unit = "U" + "9" * (len(t["units"]["unit_id"].iloc[0]) + 1)
    set_values("persons", rows, "unit_id", [bad_unit] * rows.size)
    note("unknown_unit", "persons", rows, "unit_id", [bad_unit] * rows.size)

    c = t["couples"]
    rows = pick("couples", "wife_not_female")
    vals = np.roll(c["husband_id"].to_numpy(), 1)[rows]
    set_values("couples", rows, "wife_id", vals)
    note("wife_not_female", "couples", rows, "wife_id", vals)

    ce = t["certificates"]
    if len(ce):
        rows = pick("certificates", "cert_before_birth")
        births = ce.iloc[rows][["child_id"]].merge(
            t["children"][["child_id", "birth_date"]], on="child_id", how="left"
        )
        before = (births["birth_date"] - days(rows, 200)).to_numpy()
        set_dates("cert_before_birth", "certificates", rows, "issue_date", before)

    co = t["contraception"]
    rows = pick("contraception", "end_before_start")
    before = (co["start_date"].iloc[rows] - days(rows, 100)).to_numpy()
    set_dates("end_before_start", "contraception", rows, "end_date", before)

    hh = t["households"]
    m = t["household_members"]
    hh_order = rng.permutation(len(hh))
    hh_used = np.zeros(len(hh), dtype=bool)

    def free_households(kind, allowed=None):
        ok = (
            ~hh_used[hh_order]
            if allowed is None
            else ~hh_used[hh_order] & np.asarray(allowed)[hh_order]
        )
        rows = hh_order[ok][: max(1, round(FAULTS[kind][1] * len(hh)))]
        hh_used[rows] = True
        return np.sort(rows)

    rows = free_households("size_mismatch")
    vals = (hh["size"].iloc[rows] + 1).astype("Int64").to_numpy()
    set_values("households", rows, "size", vals)
    note("size_mismatch", "households", rows, "size", vals)

    n_children = m[m["relation"] == "child"].groupby("household_id").size()
    has_children = hh["household_id"].map(n_children).fillna(0).to_numpy() > 0
    rows = free_households("fp_type_contradicted", has_children)
    set_values("households", rows, "declared_fp_type", ["infertile"] * rows.size)
    note("fp_type_contradicted", "households", rows, "declared_fp_type", ["infertile"] * rows.size)

    rows = free_households("head_id_mismatch")
    heads = hh.iloc[rows]["head_id_number"].to_numpy()
    # a valid number for someone born a year later: it disagrees with the head member's birth date
    vals = []
    for x in heads:
        body = x[:6] + str(int(x[6:10]) + 1) + x[10:17]
        vals.append(body + check_chars([body])[0])
    set_values("households", rows, "head_id_number", vals)
    note("head_id_mismatch", "households", rows, "head_id_number", vals)

    ch = t["children"]
    rows = pick("children", "duplicate_key")
    dup = ch.iloc[rows].copy()
    dup["birth_date"] = dup["birth_date"] + pd.Timedelta(days=1)
    note("duplicate_key", "children", rows, "child_id", ch["child_id"].iloc[rows])
    t["children"] = pd.concat([ch, dup]).sort_values("child_id", kind="mergesort")
    t["children"].index = pd.RangeIndex(2, 2 + len(t["children"]), name="row")

    # format faults: text where a typed value belongs
    sv = t["surveys"]
    rows = pick("surveys", "bad_date")
    vals = [f"{y}-02-30" for y in sv["survey_date"].dt.year.to_numpy()[rows]]
    sv["survey_date"] = sv["survey_date"].astype(object)
    set_values("surveys", rows, "survey_date", vals)
    note("bad_date", "surveys", rows, "survey_date", vals)

    rows = free_households("bad_number")
    vals = [f"约{v:.0f}元" for v in hh["monthly_income"].to_numpy()[rows]]
    hh["monthly_income"] = hh["monthly_income"].astype(object)
    set_values("households", rows, "monthly_income", vals)
    note("bad_number", "households", rows, "monthly_income", vals)

    rows = pick("pregnancies", "bad_enum")
    vals = ["待定"] * rows.size
    set_values("pregnancies", rows, "outcome", vals)
    note("bad_enum", "pregnancies", rows, "outcome", vals)

    out = SynthTables(t)
    out.faults = pd.DataFrame(log, columns=["kind", "table", "key", "column", "value"])
    return out
