"""The trace of one unit's compliance score (rulebook §3): each indicator C1–C8 with the couples,
women and events it counted, did not count and left out (exempt, out of scope, another unit's), each
penalty with its event, the score's arithmetic, the grade and the veto. Built on the drill-down
(:func:`~fpanalysis.rules.compliance.compliance_detail`) and the scorecard the analysis gives; the
reasons a couple is left out come from the scope rules (rulebook §2)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from fpanalysis.core.labels import labels
from fpanalysis.core.numbers import as_written
from fpanalysis.core.params import Params
from fpanalysis.core.schema import OUTPUT_LABELS, TABLES
from fpanalysis.rules.compliance import (
    INDICATOR_IDS,
    INDICATORS,
    RATE_INDICATORS,
    Period,
    compliance_detail,
    indicator_summary,
    latest_complete_year,
    parse_period,
    scorecard_from_detail,
    unit_sums,
)
from fpanalysis.rules.explain.common import (
    day_text,
    exact_text,
    name_text,
    number_text,
    rate_text,
    unknown_id,
    with_name,
)
from fpanalysis.rules.explain.trace import Trace
from fpanalysis.rules.frames import as_dates, table_of
from fpanalysis.rules.scope import is_floating_on, is_staff_on, responsible_units

#: Indicator -> (zh, en) name.
INDICATOR_LABELS = {
    k: (OUTPUT_LABELS["indicator"][k], en)
    for k, en in zip(
        INDICATORS,
        [
            "baseline survey coverage",
            "half-year follow-up coverage",
            "timely feedback",
            "check attendance",
            "contraception falsifications",
            "out-of-plan births",
            "pregnancies without a permit",
            "unapproved late terminations",
        ],
        strict=True,
    )
}
#: What a row of the drill-down was to its indicator -> (zh, en) tag.
TAGS = labels(
    """
    counted     | 【计入】     | [counted]
    missed      | 【未达标】   | [not met]
    exempt      | 【不在分母】 | [not required]
    violation   | 【违规】     | [violation]
    not_counted | 【不计】     | [not counted]
    excluded    | 【不计入】   | [left out]
    """
)
_BASIS = {"staff": ("职工", "staff"), "floating": ("流动人口", "floating population")}
_SPOUSE = {"wife": ("女方", "wife"), "husband": ("男方", "husband")}


def explain_unit(
    tables: Mapping[str, pd.DataFrame],
    unit: str,
    period: str | Period | None,
    params: Params,
    *,
    detail: pd.DataFrame | None = None,
    reveal_pii: bool = False,
) -> Trace:
    """The trace of one unit's score, grade and veto for a period (rulebook §3).

    Args:
        tables: the dataset (the tables of :data:`~fpanalysis.rules.compliance.TABLES_NEEDED`).
        unit: the unit's id.
        period: ``2024``, ``2024H1``, ``2024H2``; ``None``: the dataset's latest complete year.
        params: parameters in force.
        detail: the county's :func:`~fpanalysis.rules.compliance.compliance_detail` for the
            period, when already computed.
        reveal_pii: show names in full (rulebook §7; masked by default).

    Returns:
        A :class:`Trace` whose ``result`` holds the scorecard's ``score``, ``grade`` and ``veto``,
        each rate's ``(numerator, denominator)``, each count, the exact ``penalty`` and the exact
        ``raw`` score before rounding.

    Raises:
        UsageError: a unit the dataset does not hold (naming the closest ids), a bad period.
    """
    period = parse_period(latest_complete_year(tables) if period is None else period)
    if detail is None:
        detail = compliance_detail(tables, params, period)
    units = table_of(tables, "units")
    known = set(units["unit_id"].dropna().astype(str)) | set(detail["unit_id"].dropna())
    unit = str(unit).strip()
    if unit not in known:
        raise unknown_id(("单位", "unit"), unit, known)
    return _UnitTrace(tables, unit, period, params, detail, reveal_pii).build()


class _UnitTrace:
    """The state one unit's trace is written from (the unit's rows, names, connected couples)."""

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        unit: str,
        period: Period,
        params: Params,
        detail: pd.DataFrame,
        reveal: bool,
    ) -> None:
        self.tables, self.unit, self.period, self.params = tables, unit, period, params
        self.detail, self.reveal = detail, reveal
        self.mine = detail[detail["unit_id"].eq(unit)]
        persons = table_of(tables, "persons").drop_duplicates("person_id")
        self.persons = persons.set_index("person_id")
        self.couples = (
            table_of(tables, "couples").drop_duplicates("couple_id").set_index("couple_id")
        )
        ours = set(persons.loc[persons["unit_id"].eq(unit), "person_id"])
        c = self.couples
        self.connected = sorted(
            c.index[c["wife_id"].isin(ours) | c["husband_id"].isin(ours)].astype(str)
        )
        self.ours = ours
        self._scope: dict[tuple[str, pd.Timestamp], Any] | None = None
        self.trace = Trace("unit", unit, reveal=reveal)

    # ------------------------------------------------------------------ names

    def who(self, couple_id: Any, person_id: Any, lang: str) -> str:
        """A couple (or a person) with the name of the row's person, masked unless revealed."""
        name = ""
        if not pd.isna(person_id) and person_id in self.persons.index:
            name = name_text(self.persons.at[person_id, "name"], self.reveal)
        key = couple_id if not pd.isna(couple_id) else person_id
        return with_name(str(key), name, lang)

    def wife(self, couple_id: str) -> Any:
        return self.couples.at[couple_id, "wife_id"] if couple_id in self.couples.index else None

    # ------------------------------------------------------------------ the trace

    def build(self) -> Trace:
        t, p = self.trace, self.period
        units = table_of(self.tables, "units").drop_duplicates("unit_id").set_index("unit_id")
        row = units.loc[self.unit] if self.unit in units.index else None
        name = "" if row is None or pd.isna(row["name"]) else str(row["name"])
        kind_zh = kind_en = ""
        if row is not None and not pd.isna(row["kind"]):
            kind_en = str(row["kind"])
            kind_zh = TABLES["units"].column("kind").labels.get(kind_en, kind_en)
        span = (day_text(p.start), day_text(p.end))
        t.add(
            "title",
            f"单位 {self.unit} {name}（{kind_zh}）考核期 {p.label}（{span[0]} 至 {span[1]}）的"
            "得分与等次（规则手册 §3）",
            f"unit {self.unit} {name} ({kind_en}), period {p.label} ({span[0]} to {span[1]}): "
            "score and grade (rulebook §3)",
            rule="§3",
        )
        if row is not None:
            head = name_text(row["head_name"], self.reveal) or "—"
            liaison = name_text(row["liaison_name"], self.reveal) or "—"
            t.add(
                "unit",
                f"负责人（第一责任人）{head}，计生联络员 {liaison}（§1.1）",
                f"head (first responsible person) {head}, family-planning liaison {liaison} (§1.1)",
                1,
                rule="§1.1",
            )
        summary = indicator_summary(self.mine, units=[self.unit], period=p.label).set_index(
            "indicator"
        )
        rates: dict[str, tuple[int, int] | None] = {}
        counts: dict[str, int] = {}
        for k in INDICATORS:
            num = int(summary.at[k, "numerator"])
            if k in RATE_INDICATORS:
                left_out = k == "baseline_coverage" and p.half == 2
                den = int(summary.at[k, "denominator"])
                rates[k] = None if left_out else (num, den)
                self.rate_indicator(k, rates[k])
            else:
                counts[k] = num
                self.count_indicator(k, num)
        card = scorecard_from_detail(self.mine, self.params, p, units=[self.unit]).iloc[0]
        penalty = sum(unit_sums(self.mine)["penalty"], Fraction(0))
        raw = self.score(rates, penalty, float(card["score"]))
        self.grade(str(card["grade"]), bool(card["veto"]), float(card["score"]))
        t.result = {
            "unit_id": self.unit,
            "period": p.label,
            "score": float(card["score"]),
            "grade": str(card["grade"]),
            "veto": bool(card["veto"]),
            "rates": rates,
            "counts": counts,
            "penalty": penalty,
            "raw": raw,
        }
        return t

    def heading(self, k: str) -> tuple[str, str, str]:
        n = INDICATOR_IDS[k]
        zh, en = INDICATOR_LABELS[k]
        return f"{n} {zh}（§3 {n}）", f"{n} {en} (§3 {n})", f"§3 {n}"

    def rate_indicator(self, k: str, rate: tuple[int, int] | None) -> None:
        t = self.trace
        hz, he, rule = self.heading(k)
        if rate is None:
            t.add(
                "indicator",
                f"{hz}：下半年不计（摸底在年初进行，§3.5）",
                f"{he}: not part of a second half-year (the baseline is done at the start of the "
                "year, §3.5)",
                rule=rule,
            )
            return
        t.add(
            "indicator",
            f"{hz}：{_rate_zh(*rate)}",
            f"{he}: {_rate_en(*rate)}",
            rule=rule,
            value=rate,
        )
        parts = self.parts(k)
        nested = k in ("followup_coverage", "check_attendance")
        for part, on, pz, pe in parts:
            rows = self.mine[self.mine["indicator"].eq(k) & self.mine["part"].eq(part)]
            level = 1
            if nested:
                n = int((rows["in_numerator"] & rows["in_denominator"]).sum())
                d = int(rows["in_denominator"].sum())
                t.add("part", f"{pz}：{_rate_zh(n, d)}", f"{pe}: {_rate_en(n, d)}", 1, rule=rule)
                level = 2
            for r in rows.itertuples(index=False):
                if not r.in_denominator:
                    tag = "exempt"
                elif r.in_numerator:
                    tag = "counted"
                else:
                    tag = "missed"
                self.row_step(r, tag, level, rule)
            if on is not None:
                present = set(rows["couple_id"].dropna())
                self.left_out(k, [c for c in self.connected if c not in present], on, level)
        if k == "feedback_timeliness":
            self.other_units(k, 1)

    def parts(self, k: str) -> list[tuple[str, pd.Timestamp | None, str, str]]:
        """(part, the day scope is taken on, zh label, en label) of a rate indicator."""
        p = self.period
        if k == "baseline_coverage":
            return [("", pd.Timestamp(p.year, 1, 1), "", "")]
        if k == "followup_coverage":
            return [
                (
                    f"H{h.half}",
                    h.start,
                    f"{h.label}（{day_text(h.start)} 在范围内的夫妻）",
                    f"{h.label} (couples in scope on {day_text(h.start)})",
                )
                for h in p.halves
            ]
        if k == "check_attendance":
            rounds = table_of(self.tables, "check_rounds")
            rounds = rounds[p.contains(as_dates(rounds["start_date"]))].sort_values(
                ["start_date", "round_id"], kind="stable"
            )
            return [
                (
                    str(r.round_id),
                    pd.Timestamp(r.start_date),
                    f"轮次 {r.round_id}（{day_text(r.start_date)} 至 {day_text(r.end_date)}）",
                    f"round {r.round_id} ({day_text(r.start_date)} to {day_text(r.end_date)})",
                )
                for r in rounds.itertuples(index=False)
            ]
        return [("", None, "", "")]

    def row_step(self, r: Any, tag: str, level: int, rule: str) -> None:
        tz, te = TAGS[tag]
        refs = _refs(r)
        self.trace.add(
            tag,
            f"{tz}{self.who(r.couple_id, r.person_id, 'zh')}：{r.reason_zh}",
            f"{te} {self.who(r.couple_id, r.person_id, 'en')}: {r.reason_en}",
            level,
            rule=rule,
            refs=refs,
        )

    def count_indicator(self, k: str, n: int) -> None:
        hz, he, rule = self.heading(k)
        self.trace.add("indicator", f"{hz}：{n} 起", f"{he}: {n}", rule=rule, value=n)
        rows = self.mine[self.mine["indicator"].eq(k)]
        for r in rows.itertuples(index=False):
            self.row_step(r, "violation" if r.in_numerator else "not_counted", 1, rule)
        self.other_units(k, 1)

    # ------------------------------------------------------------------ left out

    def left_out(self, k: str, couples: list[str], on: pd.Timestamp, level: int) -> None:
        """The unit's couples a rate left out on ``on``, each with why (rulebook §2)."""
        if not couples:
            return
        scope = self.scope()
        tz, te = TAGS["excluded"]
        for r in (scope[(c, on)] for c in couples):
            zh, en = self.why_out(r, on, c1=k == "baseline_coverage")
            wife = self.wife(r.couple_id)
            self.trace.add(
                "excluded",
                f"{tz}{self.who(r.couple_id, wife, 'zh')}：{zh}",
                f"{te} {self.who(r.couple_id, wife, 'en')}: {en}",
                level,
                rule="§2",
                refs=(str(r.couple_id),),
            )

    def scope(self) -> dict[tuple[str, pd.Timestamp], Any]:
        """Each of the unit's couples on each day a rate takes scope on: its spouses, marriage,
        wife's age and responsible unit (:func:`~fpanalysis.rules.scope.responsible_units`, one
        call for every couple and day)."""
        if self._scope is None:
            days = sorted(
                {on for k in RATE_INDICATORS for _, on, _, _ in self.parts(k) if on is not None}
            )
            ev = pd.DataFrame(
                [(c, d) for d in days for c in self.connected], columns=["couple_id", "date"]
            )
            ev["date"] = as_dates(ev["date"])
            resp = responsible_units(self.tables, self.params, ev, "date")
            self._scope = {(r.couple_id, r.date): r for r in resp.itertuples(index=False)}
        return self._scope

    def why_out(self, r: Any, on: pd.Timestamp, c1: bool) -> tuple[str, str]:
        """Why a couple of the unit is not in a rate's list on ``on`` (rulebook §2, §3 C1)."""
        ds = day_text(on)
        c = self.couples.loc[r.couple_id]
        if not r.married:
            m, dv = c["marriage_date"], c["divorce_date"]
            if not pd.isna(m) and m <= on:
                return (
                    f"{day_text(dv)} 已离婚（§2.2）",
                    f"divorced on {day_text(dv)} (§2.2)",
                )
            if pd.isna(m):
                return "没有结婚日期，不算已婚（§2.2）", "no marriage date: not married (§2.2)"
            return (
                f"{day_text(m)} 才结婚，{ds} 时未婚（§2.2）",
                f"married only on {day_text(m)}, not yet on {ds} (§2.2)",
            )
        ru = r.responsible_unit_id
        status = self.status(r, on)
        if pd.isna(ru):
            return (
                f"{ds} 夫妻双方都不是本局职工或登记的流动人口，不在本局范围内"
                + (f"：{status[0]}" if status[0] else "")
                + "（§2.4）",
                f"on {ds} neither spouse is the bureau's staff or registered floating population, "
                "so the couple is outside the bureau's scope"
                + (f": {status[1]}" if status[1] else "")
                + " (§2.4)",
            )
        if ru != self.unit:
            how = self.how_other(r, on)
            parts_zh = "；".join(x for x in (status[0], how[0]) if x)
            parts_en = "; ".join(x for x in (status[1], how[1]) if x)
            return (
                f"由 {ru} 负责" + (f"：{parts_zh}" if parts_zh else "") + "（§2.4）",
                f"counts under {ru}" + (f": {parts_en}" if parts_en else "") + " (§2.4)",
            )
        if not r.wife_childbearing:
            lo, hi = self.params.at("childbearing_age", on)
            if pd.isna(r.wife_age):
                return (
                    "女方出生日期不详，不能算作育龄妇女（§2.1）",
                    "the wife's birth date is unknown: not of childbearing age (§2.1)",
                )
            return (
                f"女方 {ds} 时 {int(r.wife_age)} 周岁，不在育龄 {lo}–{hi} 岁（§2.1）",
                f"the wife is {int(r.wife_age)} on {ds}, outside the childbearing ages "
                f"{lo}–{hi} (§2.1)",
            )
        if c1 and r.basis != "staff":
            return (
                "流动人口夫妻，C1 只计职工夫妻（§3 C1）",
                "a floating-population couple: C1 counts staff couples only (§3 C1)",
            )
        return "不在本单位的名单中", "not on the unit's list"  # pragma: no cover - rules changed

    def status(self, r: Any, on: pd.Timestamp) -> tuple[str, str]:
        """What the unit's own spouse(s) of a couple are on ``on`` (rulebook §2.3)."""
        zh, en = [], []
        for pid in (r.wife_id, r.husband_id):
            if pd.isna(pid) or pid not in self.ours:
                continue
            p = self.persons.loc[pid]
            hire, leave = p["hire_date"], p["leave_date"]
            if p["category"] == "staff":
                if pd.isna(hire):
                    z, e = f"{pid} 没有入职日期", f"{pid} has no hire date"
                elif hire > on:
                    z, e = (
                        f"{pid} {day_text(hire)} 才入职",
                        f"{pid} was hired only on {day_text(hire)}",
                    )
                elif not pd.isna(leave) and leave <= on:
                    z, e = f"{pid} 已于 {day_text(leave)} 离职", f"{pid} left on {day_text(leave)}"
                else:
                    z, e = f"{pid} 是 {self.unit} 的职工", f"{pid} is staff of {self.unit}"
            elif p["category"] == "floating":
                if not pd.isna(hire) and hire > on:
                    z = f"{pid} 自 {day_text(hire)} 起才登记"
                    e = f"{pid} is registered only from {day_text(hire)}"
                elif not pd.isna(leave) and leave <= on:
                    z = f"{pid} 的登记已于 {day_text(leave)} 结束"
                    e = f"{pid}'s registration ended on {day_text(leave)}"
                else:
                    z = f"{pid} 是登记在 {self.unit} 的流动人口"
                    e = f"{pid} is floating population registered with {self.unit}"
            else:
                z, e = f"{pid} 不是职工或流动人口", f"{pid} is neither staff nor floating"
            zh.append(z)
            en.append(e)
        return "、".join(zh), ", ".join(en)

    def how_other(self, r: Any, on: pd.Timestamp) -> tuple[str, str]:
        """Why another unit answers for a couple with a spouse in this unit (rulebook §2.4)."""
        ours = [pid for pid in (r.wife_id, r.husband_id) if not pd.isna(pid) and pid in self.ours]
        if not ours:
            return "", ""
        who = self.persons.loc[ours]
        staff = bool(is_staff_on(who, on).any())
        floating = bool(is_floating_on(who, on).any())
        side = _SPOUSE.get(self.params.at("responsible_spouse", on), ("", ""))
        if r.basis == "staff" and staff:
            return (
                f"双方都是职工时取{side[0]}单位",
                f"when both are staff, the {side[1]}'s unit answers",
            )
        if r.basis == "staff" and floating:
            return "职工优先于流动人口", "staff comes before floating population"
        if r.basis == "floating" and floating:
            return (
                f"双方都是登记的流动人口时取{side[0]}登记的单位",
                f"when both are registered floating population, the {side[1]}'s unit answers",
            )
        return "", ""

    def other_units(self, k: str, level: int) -> None:
        """Rows of the unit's couples (or, for C3, its surveys) counted under another unit."""
        d = self.detail
        rows = d[d["indicator"].eq(k) & d["unit_id"].ne(self.unit)]
        mask = rows["couple_id"].isin(self.connected)
        if k == "feedback_timeliness":
            s = table_of(self.tables, "surveys")
            by_us = set(s.loc[s["unit_id"].eq(self.unit), "survey_id"])
            mask |= rows["event_id"].isin(by_us)
        tz, te = TAGS["excluded"]
        for r in rows[mask].itertuples(index=False):
            self.trace.add(
                "excluded",
                f"{tz}{self.who(r.couple_id, r.person_id, 'zh')}：计入 {r.unit_id}"
                f"（事件当天夫妻的负责单位，§2.4）：{r.reason_zh}",
                f"{te} {self.who(r.couple_id, r.person_id, 'en')}: counts under {r.unit_id} "
                f"(the couple's responsible unit that day, §2.4): {r.reason_en}",
                level,
                rule="§2.4",
                refs=_refs(r),
            )

    # ------------------------------------------------------------------ score, grade, veto

    def score(
        self, rates: dict[str, tuple[int, int] | None], penalty: Fraction, score: float
    ) -> Fraction:
        """The penalties, then the score's arithmetic (rulebook §3.4); returns the exact score."""
        t = self.trace
        p = self.period
        pen_rows = self.mine[self.mine["in_numerator"] & (self.mine["penalty"] > 0)]
        if pen_rows.empty:
            t.add("penalties", "扣分（§3.4）：无", "penalties (§3.4): none", rule="§3.4", value=0)
        else:
            t.add(
                "penalties",
                f"扣分（§3.4，每起取事件当天有效的分值）：共 {number_text(penalty)} 分",
                f"penalties (§3.4, each the points in force on its event's day): "
                f"{number_text(penalty)} in all",
                rule="§3.4",
                value=penalty,
            )
            for r in pen_rows.itertuples(index=False):
                pts = number_text(r.penalty)
                self.event_step(r, "penalty", f"：扣 {pts} 分", f": {pts} points", r.penalty)
        weights = self.params.at("compliance_weights", p.end)
        used = [k for k in RATE_INDICATORS if rates[k] is not None]
        w = {k: Fraction(as_written(weights[k])) for k in used}
        total_w = sum(w.values(), Fraction(0))
        part = Fraction(0)
        terms = []
        for k in used:
            num, den = rates[k]
            part += w[k] * (Fraction(num, den) if den else 1)
            terms.append(f"{number_text(weights[k])} × {f'{num}/{den}' if den else '1'}")
        rate_part = 100 * part / total_w if total_w else Fraction(100)
        raw = rate_part - penalty
        if total_w:
            formula = "100 × (" + " + ".join(terms) + ")"
            if total_w != 1:
                formula += f" ÷ {number_text(total_w)}"
        else:
            formula = "100"
        formula += f" − {number_text(penalty)}"
        shown = f"{score:.2f}"
        floor_zh = floor_en = ""
        if raw < 0:
            floor_zh, floor_en = "，低于 0 按 0 计", ", below 0 so 0"
        note_zh = note_en = ""
        if p.half == 2:
            note_zh = "；下半年不计 C1，其余权重按比例放大，§3.5"
            note_en = "; a second half-year leaves C1 out and scales the other weights up (§3.5)"
        t.add(
            "score",
            f"得分（§3.4）：{formula} = {exact_text(raw)}{floor_zh} → {shown}"
            f"（精确计算，最后四舍五入保留 2 位小数{note_zh}）",
            f"score (§3.4): {formula} = {exact_text(raw)}{floor_en} → {shown} "
            f"(exact arithmetic, rounded once to 2 decimals, halves up{note_en})",
            rule="§3.4",
            value=score,
        )
        return raw

    def grade(self, grade: str, veto: bool, score: float) -> None:
        t = self.trace
        th = self.params.at("grade_thresholds", self.period.end)
        ex, ps = number_text(th["excellent"]), number_text(th["pass"])
        label_zh = OUTPUT_LABELS["grade"].get(grade, grade)
        s = f"{score:.2f}"
        if veto:
            zh, en = "一票否决，不论得分", "vetoed, whatever the score"
        elif grade == "excellent":
            zh = en = f"{s} ≥ {ex}"
        elif grade == "pass":
            zh = en = f"{ps} ≤ {s} < {ex}"
        else:
            zh = en = f"{s} < {ps}"
        t.add(
            "grade",
            f"等次（§3.6）：{zh}：{label_zh}",
            f"grade (§3.6): {en}: {grade}",
            rule="§3.6",
            value=grade,
        )
        vetoes = self.mine[self.mine["veto"]]
        if vetoes.empty:
            t.add("veto", "一票否决（§3.7）：无", "veto (§3.7): none", rule="§3.7", value=False)
            return
        t.add(
            "veto",
            f"一票否决（§3.7）：{len(vetoes)} 起，本考核期不合格",
            f"veto (§3.7): {len(vetoes)} event(s), the unit fails the period",
            rule="§3.7",
            value=True,
        )
        for r in vetoes.itertuples(index=False):
            self.event_step(r, "veto_event")

    def event_step(self, r: Any, kind: str, zh: str = "", en: str = "", value: Any = None) -> None:
        """A drill-down event (a penalty, a veto): indicator, event, date, couple, reason."""
        n = INDICATOR_IDS[r.indicator]
        ev = "" if pd.isna(r.event_id) else f" {r.event_id}"
        self.trace.add(
            kind,
            f"{n}{ev}（{day_text(r.date)}，{self.who(r.couple_id, r.person_id, 'zh')}）："
            f"{r.reason_zh}{zh}",
            f"{n}{ev} ({day_text(r.date)}, {self.who(r.couple_id, r.person_id, 'en')}): "
            f"{r.reason_en}{en}",
            1,
            rule=f"§3 {n}",
            refs=_refs(r),
            value=value,
        )


def _refs(r: Any) -> tuple[str, ...]:
    """The ids of a drill-down row: its couple and its event."""
    return tuple(str(x) for x in (r.couple_id, r.event_id) if not pd.isna(x))


def _rate_zh(num: int, den: int) -> str:
    return f"{num}/{den}，分母为 0，按 1 计" if den == 0 else rate_text(num, den)


def _rate_en(num: int, den: int) -> str:
    return f"{num}/{den}: no denominator, counts as 1" if den == 0 else rate_text(num, den)
