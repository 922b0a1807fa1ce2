"""The committee's procedure of a relief round (rulebook §6): the decisions of the democratic
appraisal meeting (民主评议) checked against the proposal and applied to it, the quota or budget
re-checked, the households an out-of-order admission passes over, the lists of the public
notice (公示), the notice period and the conditions of an objection and of the approval.

Pure functions over frames: the workbook is read by :mod:`fpanalysis.io.meeting`, the register
written by :mod:`fpanalysis.register.procedure`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from fpanalysis.core.labels import labels
from fpanalysis.core.numbers import as_written
from fpanalysis.core.privacy import find_unmasked_ids
from fpanalysis.rules.findings import missing
from fpanalysis.rules.relief.texts import AREA_LABELS

#: decision codes and their (zh, en) labels; a blank decision confirms the proposal
DECISION_LABELS = {
    "confirm": ("同意", "confirm"),
    "reject": ("不同意", "reject"),
    "change_tier": ("调整档次", "change tier"),
    "admit": ("补充纳入", "admit"),
}
DECISIONS = tuple(DECISION_LABELS)
#: the decisions each list of the meeting workbook offers
SHEET_DECISIONS = {
    "selected": ("confirm", "reject", "change_tier"),
    "waiting": ("confirm", "admit"),
}
#: what a decided round's ``selection`` says of a household the committee turned down, and
#: of one an upheld objection took out of the list (besides the codes of a proposal)
REJECTED, WITHDRAWN = "rejected", "withdrawn"
#: the columns of a round that its proposal digest covers
DIGEST_COLUMNS = ("household_id", "pool", "rank", "selection", "tier", "entitlement_yuan")
#: the columns of :func:`apply_decisions`'s table
DECIDED_COLUMNS = [
    "household_id",
    "sheet",
    "cell",
    "pool",
    "rank",
    "proposed_selected",
    "proposed_selection",
    "proposed_tier",
    "decision",
    "decided_selected",
    "decided_tier",
    "reason",
    "passes_over",
]
#: the notice's categories in the order it lists them, with their (zh, en) headings
NOTICE_CATEGORIES = labels(
    """
    admitted  | 新纳入   | to be admitted
    continued | 继续保障 | to continue
    changed   | 档次变更 | tier changed
    stopped   | 停止保障 | to stop
    """
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the committee's decisions, where it is and which rule it breaks.

    ``sheet`` and ``cell`` (``P5``) name the workbook cell when there is one.
    """

    message_zh: str
    message_en: str
    rule: str
    value: Any = None
    sheet: str | None = None
    cell: str | None = None

    def located(self) -> tuple[str, str]:
        """The messages, each beginning with the sheet and cell when known."""
        if self.sheet is None:
            return self.message_zh, self.message_en
        where_zh = f"工作表“{self.sheet}”" + (f"单元格 {self.cell}" if self.cell else "")
        where_en = f"sheet '{self.sheet}'" + (f" cell {self.cell}" if self.cell else "")
        return f"{where_zh}：{self.message_zh}", f"{where_en}: {self.message_en}"


def _blank(v: Any) -> bool:
    return missing(v) or str(v).strip() == ""


def _int(v: Any) -> int | None:
    return None if _blank(v) else int(v)


def decision_code(value: Any) -> str | None:
    """The decision a cell holds: a code of :data:`DECISIONS`, ``confirm`` when blank, or None
    when it is none of them (Chinese or English labels and codes, any case, are accepted).

    Examples:
        >>> decision_code("不同意"), decision_code(" Change tier "), decision_code(None)
        ('reject', 'change_tier', 'confirm')
        >>> decision_code("maybe") is None
        True
    """
    if _blank(value):
        return "confirm"
    text = " ".join(str(value).replace("_", " ").split()).casefold()
    for code, (zh, en) in DECISION_LABELS.items():
        if text in (zh, en.casefold(), code.replace("_", " ")):
            return code
    return None


def allowed_text(sheet: str) -> tuple[str, str]:
    """The decisions a list offers, in words (for messages and the sheet's title)."""
    codes = SHEET_DECISIONS[sheet]
    zh = "、".join(DECISION_LABELS[c][0] for c in codes)
    en = ", ".join(DECISION_LABELS[c][1] for c in codes)
    return zh, en


def proposal_digest(rows: pd.DataFrame) -> str:
    """SHA-256 of a round's proposal: each household's pool, rank, selection, tier and amount.

    The same for a :class:`~fpanalysis.rules.relief.ReliefResult`'s table and for the rows
    the register recorded from it, so a meeting workbook can be matched with its round.

    Examples:
        >>> df = pd.DataFrame({"household_id": ["B", "A"], "pool": ["all", "all"],
        ...     "rank": [2, 1], "selection": ["waiting", "admitted"], "tier": [2, 1],
        ...     "entitlement_yuan": [100, 200]})
        >>> proposal_digest(df) == proposal_digest(df.iloc[::-1])
        True
        >>> len(proposal_digest(df))
        64
    """
    recs = [
        [
            str(h),
            str(p) if not _blank(p) else "all",
            _int(r),
            str(s),
            _int(t),
            _int(e),
        ]
        for h, p, r, s, t, e in rows[list(DIGEST_COLUMNS)].itertuples(index=False, name=None)
    ]
    recs.sort(key=lambda x: x[0])
    text = json.dumps(recs, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meeting_lists(rows: pd.DataFrame) -> dict[str, list[str]]:
    """The households of each list of the meeting workbook, by their proposed selection.

    ``selected``: the proposed list (continuing, then admitted); ``waiting``: the eligible
    households left waiting (the committee may admit one out of order).
    """
    sel = rows["selected"].fillna(False).astype(bool)
    waiting = rows["selection"].astype("str").eq("waiting") & ~sel
    return {
        "selected": sorted(rows.loc[sel, "household_id"].astype(str)),
        "waiting": sorted(rows.loc[waiting, "household_id"].astype(str)),
    }


def _check_lists(proposal: pd.DataFrame, marks: pd.DataFrame, sheets: Mapping[str, str]):
    """Households in the workbook that the round does not hold, twice, or on the wrong list."""
    problems: list[Problem] = []
    known = set(proposal["household_id"].astype(str))
    expected = meeting_lists(proposal)
    seen: set[str] = set()
    for m in marks.to_dict("records"):
        hid, sheet = str(m["household_id"]), m["sheet"]
        label = sheets.get(sheet, sheet)
        if hid not in known:
            problems.append(
                Problem(
                    f"户 {hid} 不在本轮（{m['round_id']}）中",
                    f"household {hid} is not in this round ({m['round_id']})",
                    "household-not-in-round",
                    hid,
                    label,
                    m["household_cell"],
                )
            )
        elif hid in seen:
            problems.append(
                Problem(
                    f"户 {hid} 重复列出",
                    f"household {hid} is listed twice",
                    "household-twice",
                    hid,
                    label,
                    m["household_cell"],
                )
            )
        elif hid not in expected[sheet]:
            problems.append(
                Problem(
                    f"户 {hid} 不属于这份名单（按本轮方案）",
                    f"household {hid} does not belong on this list (by the round's proposal)",
                    "wrong-list",
                    hid,
                    label,
                    m["household_cell"],
                )
            )
        seen.add(hid)
    for sheet, ids in expected.items():
        listed = set(marks.loc[marks["sheet"].eq(sheet), "household_id"].astype(str))
        missing = [h for h in ids if h not in listed]
        if missing:
            shown = "、".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            problems.append(
                Problem(
                    f"缺少本轮方案中的 {len(missing)} 户：{shown}",
                    f"{len(missing)} households of the round's proposal are missing: "
                    + shown.replace("、", ", "),
                    "rows-missing",
                    missing[0],
                    sheets.get(sheet, sheet),
                )
            )
    return problems


def _check_row(m: Mapping[str, Any], prop: Mapping[str, Any], n_tiers: int, label: str):
    """The problems of one household's decision cells, and its decision (None when unusable)."""
    out: list[Problem] = []
    sheet = m["sheet"]
    code = decision_code(m["decision"])
    if code is None:
        zh, en = allowed_text(sheet)
        return [
            Problem(
                f"评议意见“{m['decision']}”不是可选值（{zh}；留空视为同意）",
                f"the decision {m['decision']!r} is not one of: {en} (blank = confirm)",
                "decision-value",
                m["decision"],
                label,
                m["decision_cell"],
            )
        ], None
    if code not in SHEET_DECISIONS[sheet]:
        zh, en = allowed_text(sheet)
        out.append(
            Problem(
                f"这份名单不能选“{DECISION_LABELS[code][0]}”（可选：{zh}）",
                f"{DECISION_LABELS[code][1]!r} is not a decision this list offers ({en})",
                "decision-list",
                m["decision"],
                label,
                m["decision_cell"],
            )
        )
    reason = "" if _blank(m.get("reason")) else str(m["reason"]).strip()
    if code != "confirm" and not reason:
        out.append(
            Problem(
                f"“{DECISION_LABELS[code][0]}”须填写评议理由",
                f"{DECISION_LABELS[code][1]!r} needs the committee's reason",
                "reason-required",
                "",
                label,
                m["reason_cell"],
            )
        )
    if reason and find_unmasked_ids(reason):
        out.append(
            Problem(
                "评议理由中不能写身份证号",
                "a reason must not hold an ID number",
                "id-number-in-text",
                None,
                label,
                m["reason_cell"],
            )
        )
    tier = m.get("decided_tier")
    if code == "change_tier":
        ok = False
        try:
            t = float(str(tier).strip())
            ok = t.is_integer() and 1 <= int(t) <= n_tiers
        except (TypeError, ValueError):
            pass
        if not ok:
            out.append(
                Problem(
                    f"“调整档次”须填写调整后的档次（1 至 {n_tiers} 的整数）",
                    f"'change tier' needs the decided tier (a whole number 1 to {n_tiers})",
                    "decided-tier",
                    tier,
                    label,
                    m["tier_cell"],
                )
            )
        elif _int(prop.get("tier")) == int(t):
            out.append(
                Problem(
                    f"调整后的档次与拟定档次相同（{int(t)}）",
                    f"the decided tier is the proposed one ({int(t)})",
                    "decided-tier",
                    tier,
                    label,
                    m["tier_cell"],
                )
            )
    elif not _blank(tier):
        out.append(
            Problem(
                "只有“调整档次”才填写调整后的档次",
                "a decided tier goes only with 'change tier'",
                "decided-tier",
                tier,
                label,
                m.get("tier_cell"),
            )
        )
    return out, (None if out else code)


def apply_decisions(
    proposal: pd.DataFrame,
    marks: pd.DataFrame,
    *,
    n_tiers: int = 3,
    sheets: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The committee's decisions on a proposal, checked (rulebook §6 民主评议).

    Args:
        proposal: the proposal's rows as recorded (``household_id``, ``pool``, ``rank``,
            ``tier``, ``selected``, ``selection``, ``entitlement_yuan``).
        marks: one row per household of the workbook's lists: ``household_id``, ``sheet``
            (``selected`` or ``waiting``), ``round_id``, ``decision``, ``reason``,
            ``decided_tier`` and the cells they came from (``household_cell``,
            ``decision_cell``, ``reason_cell``, ``tier_cell``).
        n_tiers: how many tiers there are (a decided tier is 1 to this).
        sheets: the sheets' names as the workbook shows them, by list (for messages).

    Returns:
        ``(decided, problems)``: :data:`DECIDED_COLUMNS` for every household of the lists
        (a blank decision confirms), and every problem found (then ``decided`` is not to be
        used). Departures need a reason; ``change_tier`` a tier other than the proposed
        one; an admission out of rank order lists in ``passes_over`` the waiting households
        of its pool ranked above it that stay waiting.
    """
    sheets = dict(sheets or {})
    problems = _check_lists(proposal, marks, sheets)
    prop = proposal.assign(household_id=proposal["household_id"].astype(str)).set_index(
        "household_id"
    )
    rows = []
    for m in marks.to_dict("records"):
        hid = str(m["household_id"])
        if hid not in prop.index:
            continue
        p = prop.loc[hid]
        found, code = _check_row(m, p, n_tiers, sheets.get(m["sheet"], m["sheet"]))
        problems += found
        if code is None:
            continue
        proposed = bool(p["selected"]) if not _blank(p["selected"]) else False
        reason = "" if _blank(m.get("reason")) else str(m["reason"]).strip()
        rows.append(
            {
                "household_id": hid,
                "sheet": m["sheet"],
                "cell": m["decision_cell"],
                "pool": p["pool"],
                "rank": _int(p["rank"]),
                "proposed_selected": proposed,
                "proposed_selection": str(p["selection"]),
                "proposed_tier": _int(p["tier"]),
                "decision": code,
                "decided_selected": {"reject": False, "admit": True}.get(code, proposed),
                "decided_tier": int(float(m["decided_tier"]))
                if code == "change_tier"
                else _int(p["tier"]),
                "reason": reason or None,
                "passes_over": None,
            }
        )
    decided = pd.DataFrame(rows, columns=DECIDED_COLUMNS)
    for i in decided.index[decided["decision"].eq("admit")]:
        r = decided.loc[i]
        over = decided[
            decided["pool"].eq(r["pool"])
            & decided["proposed_selection"].eq("waiting")
            & ~decided["decided_selected"].astype(bool)
            & decided["rank"].lt(r["rank"])
        ].sort_values("rank")
        decided.at[i, "passes_over"] = " ".join(over["household_id"]) or None
    return decided, problems


def _area_limit(limit: Any, pool: str) -> Any:
    if isinstance(limit, Mapping):
        return limit.get(pool)
    return limit


def limit_excess(
    proposal: pd.DataFrame, decided: pd.DataFrame, *, quota: Any = None, budget_yuan: Any = None
) -> list[tuple[str, str]]:
    """How the decided set exceeds the round's quota or budget, per pool (empty: it does not).

    As in the selection (rulebook §6): continuing households kept come first, even beyond the
    limit; newcomers (proposed or admitted out of order) fit in what remains.

    Examples:
        >>> prop = pd.DataFrame({"household_id": ["A", "B", "C"], "pool": "all",
        ...     "selection": ["continuing", "admitted", "waiting"],
        ...     "entitlement_yuan": [300, 200, 100]})
        >>> dec = pd.DataFrame({"household_id": ["A", "B", "C"],
        ...     "decided_selected": [True, True, True]})
        >>> print(limit_excess(prop, dec, quota=2)[0][1])
        pool all: 2 newcomers decided, over the quota of 2: 1 continuing first, 1 place left
        >>> limit_excess(prop, dec, budget_yuan=600)
        []
    """
    p = proposal[["household_id", "pool", "selection", "entitlement_yuan"]].astype(
        {"household_id": str}
    )
    kept = set(decided.loc[decided["decided_selected"].astype(bool), "household_id"].astype(str))
    out = []
    for pool in sorted(p["pool"].dropna().unique()):
        rows = p[p["pool"].eq(pool) & p["household_id"].isin(kept)]
        cont = rows[rows["selection"].eq("continuing")]
        new = rows[~rows["selection"].eq("continuing")]
        zh_pool = AREA_LABELS.get(pool, ("城乡合并", "all"))[0]
        q = _area_limit(quota, pool)
        if q is not None:
            left = max(0, int(q) - len(cont))
            if len(new) > left:
                out.append(
                    (
                        f"资金池 {zh_pool}：决定新纳入 {len(new)} 户，超过名额：名额 {q} 户，"
                        f"继续保障 {len(cont)} 户先占，剩余 {left} 个名额",
                        f"pool {pool}: {len(new)} newcomer{'s' * (len(new) != 1)} decided, "
                        f"over the quota of {q}: "
                        f"{len(cont)} continuing first, {left} place{'s' * (left != 1)} left",
                    )
                )
        b = _area_limit(budget_yuan, pool)
        if b is not None:
            spent = int(cont["entitlement_yuan"].fillna(0).astype("int64").sum())
            new_total = int(new["entitlement_yuan"].fillna(0).astype("int64").sum())
            left_b = max(Decimal(0), as_written(b) - spent)
            if new_total > left_b:
                out.append(
                    (
                        f"资金池 {zh_pool}：新纳入户月保障金 {new_total} 元，超过预算："
                        f"预算 {b} 元，继续保障户 {spent} 元先占，剩余 {left_b} 元",
                        f"pool {pool}: newcomers' {new_total} yuan a month is over the budget: "
                        f"budget {b} yuan, continuing households' {spent} yuan come first, "
                        f"{left_b} yuan left",
                    )
                )
    return out


# --------------------------------------------------------------------------- the notice


def notice_period(first_day: Any, days: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a notice posted ``days`` days from ``first_day`` (inclusive).

    Examples:
        >>> notice_period("2025-03-01", 7)
        (datetime.date(2025, 3, 1), datetime.date(2025, 3, 7))
    """
    first = pd.Timestamp(first_day).date()
    return first, first + dt.timedelta(days=int(days) - 1)


def earliest_approval(first_day: Any, days: int) -> dt.date:
    """The first day a round may be approved: the day after its notice period ends.

    Examples:
        >>> earliest_approval("2025-03-01", 7)
        datetime.date(2025, 3, 8)
        >>> earliest_approval("2024-02-25", 7)  # a leap year
        datetime.date(2024, 3, 3)
    """
    return notice_period(first_day, days)[1] + dt.timedelta(days=1)


def notice_lists(
    rows: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
    previous_tiers: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The households a round's public notice lists, by category (rulebook §6 公示).

    ``admitted``: selected and not receiving relief when the round was run; ``continued``:
    selected and receiving, the same tier; ``changed``: selected and receiving, its tier
    changed by the committee or since ``previous_tiers`` (the previous round's); ``stopped``:
    receiving and no longer selected (not eligible, turned down, or an objection upheld).
    "Receiving" is the round's ``incumbent`` column, else a proposal's ``continuing``.

    Returns:
        ``category``, ``household_id``, ``area``, ``township``, ``size``, ``tier``,
        ``entitlement_yuan`` (empty for a stopped household), in category then rank order.
    """
    r = rows.copy()
    r["household_id"] = r["household_id"].astype(str)
    inc = r["incumbent"] if "incumbent" in r else pd.Series(pd.NA, index=r.index)
    inc = inc.astype("boolean").fillna(r["selection"].astype(str).eq("continuing")).astype(bool)
    sel = r["selected"].fillna(False).astype(bool)
    changed_ids: set[str] = set()
    if decisions is not None and len(decisions):
        changed_ids |= set(
            decisions.loc[decisions["decision"].eq("change_tier"), "household_id"].astype(str)
        )
    for hid, t in (previous_tiers or {}).items():
        cur = r.loc[r["household_id"].eq(str(hid)), "tier"]
        if len(cur) and not _blank(t) and not _blank(cur.iloc[0]) and int(cur.iloc[0]) != int(t):
            changed_ids.add(str(hid))
    cat = pd.Series(None, index=r.index, dtype=object)
    cat[sel & ~inc] = "admitted"
    cat[sel & inc] = "continued"
    cat[sel & inc & r["household_id"].isin(changed_ids)] = "changed"
    cat[~sel & inc] = "stopped"
    r["category"] = cat
    r = r[r["category"].notna()].copy()
    r.loc[r["category"].eq("stopped"), "entitlement_yuan"] = pd.NA
    order = {c: i for i, c in enumerate(NOTICE_CATEGORIES)}
    r["_c"] = r["category"].map(order)
    r["_r"] = pd.to_numeric(r["rank"], errors="coerce").fillna(10**12)
    r = r.sort_values(["_c", "_r", "household_id"], kind="mergesort")
    cols = ["category", "household_id", "area", "township", "size", "tier", "entitlement_yuan"]
    return r[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- objections, approval


def objection_problems(
    notices: pd.DataFrame, objections: pd.DataFrame, *, objection_id: str | None, date: Any
) -> list[Problem]:
    """Why an objection cannot be recorded or closed on ``date`` (empty: it can).

    An objection is raised from the first day of the round's notice on (none before a notice
    is recorded); closing names an objection that is open, on or after the day it was raised.

    Examples:
        >>> n = pd.DataFrame({"first_day": [dt.date(2025, 3, 1)]})
        >>> o = pd.DataFrame({"objection_id": ["O001"], "event": ["raised"],
        ...     "date": [dt.date(2025, 3, 3)]})
        >>> [p.rule for p in objection_problems(n, o, objection_id=None, date="2025-02-28")]
        ['objection-before-notice']
        >>> [p.rule for p in objection_problems(n, o, objection_id="O001", date="2025-03-02")]
        ['objection-order']
    """
    day = pd.Timestamp(date).date()
    if notices.empty:
        return [
            Problem(
                "本轮的公示还没有记录（先用 fpanalysis notice --from 记录公示），不能登记异议",
                "this round's notice is not recorded yet (record it with fpanalysis notice "
                "--from); no objection can be recorded",
                "objection-before-notice",
                str(day),
            )
        ]
    first = min(pd.Timestamp(d).date() for d in notices["first_day"])
    if objection_id is None:
        if day < first:
            return [
                Problem(
                    f"异议日期 {day} 早于公示首日 {first}",
                    f"the objection's date {day} is before the notice's first day {first}",
                    "objection-before-notice",
                    str(day),
                )
            ]
        return []
    mine = objections[objections["objection_id"].eq(objection_id)]
    raised = mine[mine["event"].eq("raised")]
    if raised.empty:
        return [
            Problem(
                f"本轮没有异议 {objection_id}",
                f"this round has no objection {objection_id}",
                "objection-id",
                objection_id,
            )
        ]
    if (~mine["event"].eq("raised")).any():
        outcome = mine.loc[~mine["event"].eq("raised"), "event"].iloc[0]
        return [
            Problem(
                f"异议 {objection_id} 已经办结（{'成立' if outcome == 'upheld' else '不成立'}）",
                f"objection {objection_id} is already closed ({outcome})",
                "objection-closed",
                objection_id,
            )
        ]
    when = pd.Timestamp(raised["date"].iloc[0]).date()
    if day < when:
        return [
            Problem(
                f"办结日期 {day} 早于异议提出日期 {when}",
                f"the closing date {day} is before the objection was raised ({when})",
                "objection-order",
                str(day),
            )
        ]
    return []


def approval_problems(notices: pd.DataFrame, objections: pd.DataFrame, date: Any) -> list[Problem]:
    """Why a decided round cannot be approved on ``date`` (empty: it can; rulebook §6).

    Its notice must be recorded and its period over (the last notice's first day plus its
    days: 7 days from 1 March means approval from 8 March), no objection open, and no
    objection raised or closed after ``date``.

    Examples:
        >>> n = pd.DataFrame({"first_day": [dt.date(2025, 3, 1)], "days": [7]})
        >>> o = pd.DataFrame({"objection_id": [], "event": [], "date": []})
        >>> [p.rule for p in approval_problems(n, o, "2025-03-07")]
        ['notice-period']
        >>> approval_problems(n, o, "2025-03-08")
        []
    """
    day = pd.Timestamp(date).date()
    if notices.empty:
        return [
            Problem(
                "本轮还没有公示（fpanalysis notice --from），不能审批",
                "this round has not been posted (fpanalysis notice --from); it cannot be approved",
                "notice-missing",
                str(day),
            )
        ]
    last = notices.sort_values("first_day").iloc[-1]
    first, end = notice_period(last["first_day"], int(last["days"]))
    earliest = earliest_approval(first, int(last["days"]))
    out = []
    if day < earliest:
        out.append(
            Problem(
                f"公示期 {first} 至 {end}（{int(last['days'])} 天）未满：最早 {earliest} 可审批，"
                f"审批日期为 {day}",
                f"the notice period {first} to {end} ({int(last['days'])} days) is not over: "
                f"approval from {earliest}, the approval date is {day}",
                "notice-period",
                str(day),
            )
        )
    closed = set(objections.loc[~objections["event"].eq("raised"), "objection_id"])
    open_ = sorted(set(objections.loc[objections["event"].eq("raised"), "objection_id"]) - closed)
    if open_:
        out.append(
            Problem(
                f"还有未办结的异议：{'、'.join(open_)}（用 fpanalysis object --close 办结）",
                f"objections still open: {', '.join(open_)} (close them with fpanalysis object "
                "--close)",
                "objection-open",
                open_[0],
            )
        )
    later = [pd.Timestamp(d).date() for d in objections["date"] if pd.Timestamp(d).date() > day]
    if later:
        out.append(
            Problem(
                f"审批日期 {day} 早于异议的日期 {max(later)}",
                f"the approval date {day} is before an objection's date {max(later)}",
                "approval-order",
                str(day),
            )
        )
    return out
