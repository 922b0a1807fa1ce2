"""The trace of one only-child certificate month by month (rulebook §5): for each month of a horizon
whether it is paid and the clause that decides it (before the issue, after the age cap's month,
revoked, the payee off the payroll...), the amount in force and who pays it (for ``reward_split =
half``, each spouse's unit and its part). Every figure is the reward's readable rule
(:func:`fpanalysis.rules.bonus.payments`) applied to the certificate's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import Params
from fpanalysis.core.schema import TABLES
from fpanalysis.rules.bonus import (
    Certificate,
    Person,
    default_start,
    entitled,
    month_label,
    month_start,
    parse_month,
    payments,
    yuan_to_fen,
)
from fpanalysis.rules.bonus.reward import birthday, month_of, on_payroll
from fpanalysis.rules.explain.common import day_text, name_text, unknown_id
from fpanalysis.rules.explain.trace import Trace
from fpanalysis.rules.relief import yuan_text

_SIDES = {"wife": ("女方", "wife"), "husband": ("男方", "husband")}


def _day(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def person_of(persons: pd.DataFrame, person_id: Any) -> Person | None:
    """The reward's view of a person (:class:`~fpanalysis.rules.bonus.Person`) from the persons
    table indexed by ``person_id``; ``None`` for an unknown person."""
    if person_id is None or pd.isna(person_id) or person_id not in persons.index:
        return None
    p = persons.loc[person_id]
    return Person(
        str(person_id),
        _text(p["category"]),
        _text(p["unit_id"]),
        _day(p["hire_date"]),
        _day(p["leave_date"]),
    )


def _indexed(tables: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, ...]:
    """Persons, children and couples indexed by their ids (first of a duplicated id)."""
    return tuple(
        tables[t].drop_duplicates(k).set_index(k)
        for t, k in (("persons", "person_id"), ("children", "child_id"), ("couples", "couple_id"))
    )


def _certificate(c: pd.Series, children: pd.DataFrame, couples: pd.DataFrame) -> tuple:
    """A certificates row as the rule reads it: the certificate, the child's birth date and
    the couple's wife and husband ids."""
    child = children.loc[c["child_id"]] if c["child_id"] in children.index else None
    birth = None if child is None else _day(child["birth_date"])
    cert = Certificate(_day(c["issue_date"]), birth, _day(c["revoked_date"]))
    couple = couples.loc[c["couple_id"]] if c["couple_id"] in couples.index else None
    wife_id = None if couple is None else couple["wife_id"]
    husband_id = None if couple is None else couple["husband_id"]
    return cert, birth, wife_id, husband_id


def first_paid(tables: Mapping[str, pd.DataFrame], params: Params, start: Any) -> str | None:
    """The first certificate (by id) paid in the month ``start`` (``YYYY-MM``), by the readable
    reward rule (:func:`~fpanalysis.rules.bonus.payments`), or None: what a report traces."""
    m = month_start(parse_month(start))
    persons, children, couples = _indexed(tables)
    for _, c in tables["certificates"].sort_values("cert_id", kind="stable").iterrows():
        cert, _, wife_id, husband_id = _certificate(c, children, couples)
        payee = person_of(persons, c["payee_id"])
        wife, husband = person_of(persons, wife_id), person_of(persons, husband_id)
        if payments(cert, payee, m, params, wife=wife, husband=husband):
            return str(c["cert_id"])
    return None


def explain_certificate(
    tables: Mapping[str, pd.DataFrame],
    certificate: str,
    start: Any,
    months: int,
    params: Params,
    *,
    reveal_pii: bool = False,
) -> Trace:
    """The trace of one certificate over ``months`` months from ``start`` (rulebook §5).

    Args:
        tables: ``certificates``, ``children``, ``couples`` and ``persons``.
        certificate: the certificate's id.
        start: the first month (``YYYY-MM``); ``None``: the month after the dataset's last
            recorded date.
        months: how many months.
        params: parameters in force (each month takes those in force on its first day).
        reveal_pii: show names in full (rulebook §7; masked by default).

    Returns:
        A :class:`Trace` whose ``result`` holds ``months`` (``YYYY-MM`` -> {unit: fen paid}),
        ``total_fen`` and ``paid_months``.

    Raises:
        UsageError: a certificate the dataset does not hold (naming the closest ids), a bad
            month, fewer than 1 month.
    """
    start_m = parse_month(default_start(tables) if start is None else start)
    if int(months) < 1:
        raise UsageError(
            "月数应至少为 1", "months must be at least 1", value=str(months), rule="months"
        )
    certs = tables["certificates"]
    key = str(certificate).strip()
    rows = certs[certs["cert_id"].astype(str).eq(key)]
    if rows.empty:
        raise unknown_id(("光荣证", "certificate"), key, certs["cert_id"])
    c = rows.iloc[0]
    persons, children, couples = _indexed(tables)
    cert, birth, wife_id, husband_id = _certificate(c, children, couples)
    payee = person_of(persons, c["payee_id"])
    wife, husband = person_of(persons, wife_id), person_of(persons, husband_id)

    def named(pid: Any, lang: str) -> str:
        if pid is None or pd.isna(pid):
            return "—"
        name = name_text(persons.at[pid, "name"], reveal_pii) if pid in persons.index else ""
        return f"{pid} {name}".strip()

    t = Trace("certificate", key, reveal=reveal_pii)
    first, last = month_label(start_m), month_label(start_m + int(months) - 1)
    kid = "" if pd.isna(c["child_id"]) else str(c["child_id"])
    born = day_text(birth) or "不详"
    rev_zh = f"{day_text(cert.revoked_date)} 收回" if cert.revoked_date else "未收回"
    rev_en = f"revoked {day_text(cert.revoked_date)}" if cert.revoked_date else "not revoked"
    t.add(
        "title",
        f"光荣证 {key}（夫妻 {c['couple_id']}，子女 {kid} 生于 {born}，"
        f"领证 {day_text(cert.issue_date) or '未填'}，{rev_zh}）{first} 至 {last} 逐月发放"
        "（规则手册 §5）",
        f"certificate {key} (couple {c['couple_id']}, child {kid} born {day_text(birth) or '?'}, "
        f"issued {day_text(cert.issue_date) or '?'}, {rev_en}): {first} to {last}, month by "
        "month (rulebook §5)",
        rule="§5",
        refs=tuple(str(x) for x in (c["couple_id"], c["child_id"]) if not pd.isna(x)),
    )
    sides = {"wife": wife_id, "husband": husband_id}
    payee_side = next(
        (s for s, pid in sides.items() if not pd.isna(c["payee_id"]) and pid == c["payee_id"]), None
    )
    people = [("payee", c["payee_id"], payee)] + [
        (s, sides[s], p) for s, p in (("wife", wife), ("husband", husband)) if s != payee_side
    ]
    for role, pid, p in people:
        if role == "payee":
            side = f"（{_SIDES[payee_side][0]}）" if payee_side else ""
            role_zh, role_en = (
                f"领取人{side}",
                "payee" + (f" ({_SIDES[payee_side][1]})" if payee_side else ""),
            )
        else:
            role_zh, role_en = _SIDES[role]
        gap = "" if role_zh.endswith("）") else " "
        t.add(
            "person",
            f"{role_zh}{gap}{named(pid, 'zh')}：{_payroll_zh(p)}（§5.1）",
            f"{role_en} {named(pid, 'en')}: {_payroll_en(p)} (§5.1)",
            1,
            rule="§5.1",
            refs=() if pid is None or pd.isna(pid) else (str(pid),),
        )
    spouses = {"wife": wife, "husband": husband}
    decided = []
    for k in range(int(months)):
        m = month_start(start_m + k)
        paid = payments(cert, payee, m, params, wife=wife, husband=husband)
        zh, en = _clause(cert, payee, spouses, m, params, paid)
        decided.append((month_label(start_m + k), paid, zh, en))
    for run in _runs(decided):
        (a, paid, zh, en), n = run[0], len(run)
        b = run[-1][0]
        span_zh = a if n == 1 else f"{a} 至 {b}（{n} 个月）"
        span_en = a if n == 1 else f"{a} to {b} ({n} months)"
        t.add(
            "month",
            f"{span_zh}：{zh}",
            f"{span_en}: {en}",
            1,
            rule="§5.2",
            refs=tuple(r[0] for r in run),
            value=dict(paid),
        )
    by_unit: dict[str, int] = {}
    for _, paid, _, _ in decided:
        for u, fen in paid.items():
            by_unit[u] = by_unit.get(u, 0) + fen
    total = sum(by_unit.values())
    n_paid = sum(1 for _, paid, _, _ in decided if paid)
    units_zh = "、".join(f"{u} {yuan_text(f)} 元" for u, f in sorted(by_unit.items()))
    units_en = ", ".join(f"{u} {yuan_text(f)} yuan" for u, f in sorted(by_unit.items()))
    t.add(
        "total",
        f"合计：{n_paid} 个月发放，共 {yuan_text(total)} 元"
        + (f"（{units_zh}）" if units_zh else ""),
        f"total: {n_paid} months paid, {yuan_text(total)} yuan"
        + (f" ({units_en})" if units_en else ""),
        1,
        rule="§5",
        value=total,
    )
    t.result = {
        "cert_id": key,
        "months": {label: dict(paid) for label, paid, _, _ in decided},
        "total_fen": total,
        "paid_months": n_paid,
    }
    return t


def _runs(decided: list[tuple]) -> list[list[tuple]]:
    """Consecutive months decided alike (same payers and amounts, same clause) together."""
    runs: list[list[tuple]] = []
    for d in decided:
        if runs and runs[-1][-1][1:] == d[1:]:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _payroll_zh(p: Person | None) -> str:
    if p is None:
        return "不在人员表中"
    cat = (
        TABLES["persons"].column("category").labels.get(p.category or "", p.category or "类别不详")
    )
    if p.category != "staff" or p.unit_id is None or p.hire_date is None:
        return f"{cat}，不在本局工资表上"
    left = f"{day_text(p.leave_date)} 离职" if p.leave_date else "在职"
    return f"本局职工，{p.unit_id}，{day_text(p.hire_date)} 入职，{left}"


def _payroll_en(p: Person | None) -> str:
    if p is None:
        return "not in the persons table"
    if p.category != "staff" or p.unit_id is None or p.hire_date is None:
        return f"{p.category or 'category unknown'}, not on the bureau's payroll"
    left = f"left {day_text(p.leave_date)}" if p.leave_date else "still employed"
    return f"bureau staff, {p.unit_id}, hired {day_text(p.hire_date)}, {left}"


def _off_payroll(p: Person | None, m: dt.date) -> tuple[str, str]:
    """Why a person is not on the bureau's payroll in month ``m`` (rulebook §5.2, §5.6)."""
    if p is None:
        return "不在人员表中（§5.2）", "is not in the persons table (§5.2)"
    if p.category != "staff" or p.unit_id is None or p.hire_date is None:
        cats = TABLES["persons"].column("category").labels
        cz = cats.get(p.category or "", p.category or "类别不详")
        return (
            f"属{cz}，不在本局工资表上，不在本局预算内（§5.6）",
            f"is {p.category or 'of no known category'}, not on the bureau's payroll: outside "
            "its budget (§5.6)",
        )
    if month_of(m) < month_of(p.hire_date):
        return (
            f"{day_text(p.hire_date)} 入职，入职当月起才在工资表上（§5.2）",
            f"was hired on {day_text(p.hire_date)}: on the payroll from that month (§5.2)",
        )
    return (
        f"{day_text(p.leave_date)} 离职，离职当月之后不在工资表上（§5.2）",
        f"left on {day_text(p.leave_date)}: off the payroll after that month (§5.2)",
    )


def _clause(
    cert: Certificate,
    payee: Person | None,
    spouses: dict[str, Person | None],
    m: dt.date,
    params: Params,
    paid: dict[str, int],
) -> tuple[str, str]:
    """The clause of rulebook §5 that decides month ``m``, in Chinese and English."""
    amount = yuan_to_fen(params.at("reward_monthly_yuan", m))
    split = params.at("reward_split", m)
    if paid:
        return _payers(paid, amount, split, payee, spouses, m)
    if not entitled(cert, m, params):
        return _not_entitled(cert, m, params)
    if split == "payee":
        why = _off_payroll(payee, m)
        pid = payee.person_id if payee else "—"
        return f"不发放：领取人 {pid} {why[0]}", f"not paid: the payee {pid} {why[1]}"
    zh, en = [], []
    for side, p in spouses.items():
        why = _off_payroll(p, m)
        zh.append(f"{_SIDES[side][0]} {p.person_id if p else '—'} {why[0]}")
        en.append(f"the {_SIDES[side][1]} {p.person_id if p else '—'} {why[1]}")
    return (
        "不发放：夫妻双方本月都不在本局工资表上（reward_split = half，§5.4）：" + "；".join(zh),
        "not paid: neither spouse is on the payroll this month (reward_split = half, §5.4): "
        + "; ".join(en),
    )


def _not_entitled(cert: Certificate, m: dt.date, params: Params) -> tuple[str, str]:
    """Which bound of the paid months ``m`` falls outside (rulebook §5.2, §5.3)."""
    if cert.issue_date is None:
        return (
            "不发放：光荣证没有领证日期（§5.2）",
            "not paid: the certificate has no issue date (§5.2)",
        )
    if cert.birth_date is None:
        return (
            "不发放：子女的出生日期不详（§5.2）",
            "not paid: the child's birth date is unknown (§5.2)",
        )
    if month_of(m) < month_of(cert.issue_date):
        d = day_text(cert.issue_date)
        return (
            f"不发放：{d} 领证，从领证当月起发放（§5.2）",
            f"not paid: issued on {d}, paid from the month of issue (§5.2)",
        )
    cap = params.at("reward_age_cap", m)
    bday = birthday(cert.birth_date, cap)
    if month_of(m) > month_of(bday):
        d = day_text(bday)
        return (
            f"不发放：子女 {d} 满 {cap} 周岁，发放至当月止（年龄上限取当月 1 日有效的 {cap} 岁，"
            "§5.2、§5.3）",
            f"not paid: the child turned {cap} on {d}, paid through that month (the age cap in "
            f"force on the month's first day, {cap}; §5.2, §5.3)",
        )
    if cert.revoked_date is not None and month_of(m) >= month_of(cert.revoked_date):
        d = day_text(cert.revoked_date)
        return (
            f"不发放：光荣证 {d} 收回，收回当月起不发（§5.2）",
            f"not paid: revoked on {d}, not paid from that month on (§5.2)",
        )
    return "不发放（§5.2）", "not paid (§5.2)"  # pragma: no cover - the rule gained a clause


def _payers(
    paid: dict[str, int],
    amount: int,
    split: str,
    payee: Person | None,
    spouses: dict[str, Person | None],
    m: dt.date,
) -> tuple[str, str]:
    """Who pays a paid month and how much (rulebook §5.3, §5.4)."""
    total = sum(paid.values())
    if split == "payee" and len(paid) == 1:
        ((unit, fen),) = paid.items()
        pid = payee.person_id if payee else "—"
        return (
            f"发放 {yuan_text(fen)} 元（当月 1 日有效的金额，§5.3），由领取人 {pid} 的单位 {unit} "
            "随工资发放（reward_split = payee，§5.4）",
            f"paid {yuan_text(fen)} yuan (the amount in force on the month's first day, §5.3) by "
            f"the payee {pid}'s unit {unit} with the salary (reward_split = payee, §5.4)",
        )
    parts_zh, parts_en, payers = [], [], 0
    for unit, fen in sorted(paid.items()):
        who = [
            s
            for s, p in spouses.items()
            if p is not None and p.unit_id == unit and on_payroll(p, m)
        ]
        payers += len(who)
        wz = "、".join(f"{_SIDES[s][0]} {spouses[s].person_id}" for s in who)
        we = ", ".join(f"{_SIDES[s][1]} {spouses[s].person_id}" for s in who)
        parts_zh.append(f"{unit} {yuan_text(fen)} 元" + (f"（{wz}）" if wz else ""))
        parts_en.append(f"{unit} {yuan_text(fen)} yuan" + (f" ({we})" if we else ""))
    if total == amount and payers == 1:
        how_zh, how_en = (
            "只有一方在本局工资表上，由其单位付全额",
            "one spouse alone is on the payroll: its unit pays it all",
        )
    elif total == amount and payers == 2:
        how_zh = "双方都在本局工资表上，各付一半" + (
            "，奇数的 1 分归领取人一方" if amount % 2 else ""
        )
        how_en = "both spouses are on the payroll: each pays half" + (
            ", the odd fen on the payee's side" if amount % 2 else ""
        )
    else:
        how_zh, how_en = (
            "由夫妻双方在本局工资表上的单位分担",
            "shared by the spouses' units on the payroll",
        )
    return (
        f"发放 {yuan_text(total)} 元（当月 1 日有效的金额 {yuan_text(amount)} 元，§5.3）："
        f"{how_zh}（reward_split = {split}，§5.4）：" + "、".join(parts_zh),
        f"paid {yuan_text(total)} yuan (the amount in force on the month's first day is "
        f"{yuan_text(amount)} yuan, §5.3): {how_en} (reward_split = {split}, §5.4): "
        + ", ".join(parts_en),
    )
