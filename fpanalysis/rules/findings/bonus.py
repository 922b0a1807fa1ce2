"""What a reward budget projection says (rulebook §5), as figures and sentences: each calendar
year's cost with its P10–P90 range (years the horizon only partly covers are marked), the
year to quote, and each scenario as a difference from current policy, its range taken over
the paired draws (same seed) rather than as a difference of percentiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.rules.bonus import BonusProjection, percentiles
from fpanalysis.rules.findings.text import Findings, Line, fen_money

#: Readable names of the parameters a scenario or a slider changes (zh, en, unit).
PARAM_LABELS = {
    "reward_monthly_yuan": ("月金额", "monthly amount", "元"),
    "reward_age_cap": ("发放至孩子年龄", "paid until the child's age", "岁"),
    "uptake": ("领证率", "uptake", ""),
    "lag_months": ("领证滞后月数", "months to issue", "个月"),
    "reward_split": ("发放单位", "who pays", ""),
}


def _years(pr: BonusProjection) -> np.ndarray:
    return np.arange(pr.start_m, pr.start_m + pr.committed_fen.shape[1]) // 12


def draw_totals(pr: BonusProjection, year: int | None = None) -> np.ndarray:
    """Per draw, the bureau's total (committed + new) in fen over ``year`` (None: the horizon)."""
    keep = np.ones(pr.committed_fen.shape[1], bool) if year is None else _years(pr) == year
    committed = int(pr.committed_fen[:, keep].sum())
    if pr.new.n_draws == 0:
        return np.array([committed], np.int64)
    return committed + pr.new.month_totals()[:, keep].sum(axis=1).astype(np.int64)


def year_totals(pr: BonusProjection) -> pd.DataFrame:
    """Per calendar year: ``year``, ``months`` covered, ``full`` (all 12), ``committed_fen`` and
    the total's ``total_p10_fen``/``total_p50_fen``/``total_p90_fen`` over the summed draws.

    Examples:
        >>> pr = BonusProjection(24300 - 1, ("U1",), np.array([[100] * 13]),
        ...                      np.zeros((2, 1, 13), np.int64))
        >>> year_totals(pr)[["year", "months", "full", "total_p50_fen"]].values.tolist()
        [[2024, 1, False, 100], [2025, 12, True, 1200]]
    """
    years = _years(pr)
    rows = []
    for y in np.unique(years):
        p = percentiles(draw_totals(pr, int(y)))
        rows.append(
            {
                "year": int(y),
                "months": int((years == y).sum()),
                "full": bool((years == y).sum() == 12),
                "committed_fen": int(pr.committed_fen[:, years == y].sum()),
                "total_p10_fen": int(p[0]),
                "total_p50_fen": int(p[1]),
                "total_p90_fen": int(p[2]),
            }
        )
    return pd.DataFrame(rows)


def quoted_year(pr: BonusProjection) -> int:
    """The calendar year a conclusion quotes: the first the horizon covers in full, else the
    one it covers most."""
    t = year_totals(pr)
    full = t[t["full"]]
    if len(full):
        return int(full["year"].iloc[0])
    return int(t.sort_values(["months", "year"], ascending=[False, True])["year"].iloc[0])


def year_label(year: int, months: int, lang: str = "zh") -> str:
    """A year as a table shows it, marking one the horizon only partly covers.

    Examples:
        >>> year_label(2026, 12), year_label(2025, 1), year_label(2028, 11, "en")
        ('2026', '2025（仅 1 个月）', '2028 (11 months only)')
    """
    if months >= 12:
        return str(year)
    plural = "s" if months > 1 else ""
    return (
        f"{year}（仅 {months} 个月）" if lang == "zh" else f"{year} ({months} month{plural} only)"
    )


def versus(base: BonusProjection, other: BonusProjection, year: int | None = None) -> dict:
    """``other`` against ``base`` over ``year`` (None: the horizon), from paired draws.

    Both must be drawn with the same seed and number of draws (common random
    numbers): the P10/P50/P90 are those of the per-draw differences.

    Returns:
        ``{"year", "base_p50_fen", "other_p50_fen", "diff_committed_fen", "diff_p10_fen",
        "diff_p50_fen", "diff_p90_fen"}``.

    Examples:
        >>> b = BonusProjection(24300, ("U1",), np.array([[100, 100]]),
        ...                     np.array([[[0, 10]], [[0, 30]]]))
        >>> o = BonusProjection(24300, ("U1",), np.array([[150, 150]]),
        ...                     np.array([[[0, 15]], [[0, 45]]]))
        >>> v = versus(b, o)
        >>> v["diff_committed_fen"], v["diff_p10_fen"], v["diff_p90_fen"]
        (100, 105, 115)
    """
    a, b = draw_totals(base, year), draw_totals(other, year)
    if a.shape != b.shape:
        raise ValueError("the projections must have the same number of draws")
    keep_b = np.ones(base.committed_fen.shape[1], bool) if year is None else _years(base) == year
    keep_o = np.ones(other.committed_fen.shape[1], bool) if year is None else _years(other) == year
    d = percentiles(b - a)
    return {
        "year": year,
        "base_p50_fen": int(percentiles(a)[1]),
        "other_p50_fen": int(percentiles(b)[1]),
        "diff_committed_fen": int(other.committed_fen[:, keep_o].sum())
        - int(base.committed_fen[:, keep_b].sum()),
        "diff_p10_fen": int(d[0]),
        "diff_p50_fen": int(d[1]),
        "diff_p90_fen": int(d[2]),
    }


def versus_sentence(v: Mapping[str, Any], label_zh: str, label_en: str) -> Line:
    """ "每年多支出 ¥X（P10–P90 ¥A–¥B）": a difference from current policy as one line.

    Examples:
        >>> v = {"year": 2026, "diff_p10_fen": 230000, "diff_p50_fen": 256000,
        ...      "diff_p90_fen": 269000, "base_p50_fen": 512000, "other_p50_fen": 768000}
        >>> versus_sentence(v, "月金额 30 元", "30 yuan a month").zh
        '月金额 30 元：2026 年多支出 ¥2,560.00（P10–P90 ¥2,300.00–¥2,690.00），合计 ¥7,680.00。'
    """
    mid = v["diff_p50_fen"]
    when_zh = f"{v['year']} 年" if v.get("year") is not None else "预测期内"
    when_en = f"in {v['year']}" if v.get("year") is not None else "over the horizon"
    verb_zh = "多支出" if mid >= 0 else "少支出"
    verb_en = "more" if mid >= 0 else "less"
    lo, hi = (v["diff_p10_fen"], v["diff_p90_fen"])
    if lo < 0 < hi:  # the range spans no change: the signed differences themselves
        rng = f"{fen_money(lo, sign=True)} 至 {fen_money(hi, sign=True)}"
        rng_en = f"{fen_money(lo, sign=True)} to {fen_money(hi, sign=True)}"
    else:
        if mid < 0:  # a saving: from the smaller saving to the larger
            lo, hi = -v["diff_p90_fen"], -v["diff_p10_fen"]
        rng = rng_en = f"{fen_money(abs(lo))}–{fen_money(abs(hi))}"
    if mid == 0 and v["diff_p10_fen"] == 0 and v["diff_p90_fen"] == 0:
        return Line(
            f"{label_zh}：{when_zh}支出不变（合计 {fen_money(v['other_p50_fen'])}）。",
            f"{label_en}: costs the same {when_en} ({fen_money(v['other_p50_fen'])} in all).",
        )
    return Line(
        f"{label_zh}：{when_zh}{verb_zh} {fen_money(abs(mid))}（P10–P90 {rng}），"
        f"合计 {fen_money(v['other_p50_fen'])}。",
        f"{label_en}: costs {fen_money(abs(mid))} {verb_en} {when_en} (P10–P90 {rng_en}), "
        f"{fen_money(v['other_p50_fen'])} in all.",
        "warn" if mid > 0 else "good",
    )


def _value_text(name: str, value: Any, lang: str) -> str:
    unit = PARAM_LABELS.get(name, ("", "", ""))[2]
    if name == "uptake":
        return f"{float(value):.0%}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if lang == "en":
        return f"{value} {'yuan' if unit == '元' else ''}".strip()
    return f"{value} {unit}".strip()


def change_label(changes: Mapping[str, tuple[Any, Any]]) -> tuple[str, str]:
    """A scenario named by what it changes: ``{name: (current, new)}`` -> (zh, en).

    Examples:
        >>> change_label({"reward_monthly_yuan": (20, 30)})
        ('月金额 20 元 → 30 元', 'monthly amount 20 yuan → 30 yuan')
        >>> change_label({"uptake": (0.8, 0.5)})[0]
        '领证率 80% → 50%'
    """
    zh, en = [], []
    for name, (old, new) in changes.items():
        lz, le, _ = PARAM_LABELS.get(name, (name, name, ""))
        zh.append(f"{lz} {_value_text(name, old, 'zh')} → {_value_text(name, new, 'zh')}")
        en.append(f"{le} {_value_text(name, old, 'en')} → {_value_text(name, new, 'en')}")
    return "，".join(zh), ", ".join(en)


def scenario_changes(spec: Mapping[str, Any], params: Any, day: Any) -> dict[str, tuple]:
    """What a scenario (``{parameter: {date: value}}``) changes from the value in force on
    ``day``: ``{parameter: (current, new)}`` (the value dated last on or before the horizon)."""
    out = {}
    for name, by_date in spec.items():
        if isinstance(by_date, Mapping) and by_date:
            new = by_date[sorted(by_date, key=str)[-1]]
        else:
            new = by_date
        out[name] = (params.at(name, day), new)
    return out


def bonus_findings(
    pr: BonusProjection,
    *,
    scenarios: Sequence[tuple[str, str, BonusProjection]] = (),
) -> Findings:
    """The conclusion of a projection: the quoted year's cost with its P10–P90 range, what the
    horizon covers (partial years named), and each scenario (``(label_zh, label_en,
    projection)``, drawn with the projection's seed) as a difference from it.

    Figures: ``year``, ``total_p10``, ``total_p50``, ``total_p90``, ``committed`` (yuan as
    text with 2 decimals), ``partial_years``, ``scenarios`` (per label the differences).
    """
    t = year_totals(pr)
    year = quoted_year(pr)
    r = t[t["year"] == year].iloc[0]
    months = pr.months
    partial = [(int(x.year), int(x.months)) for x in t.itertuples() if not x.full]
    lines = [
        Line(
            f"{year} 年预计支出 {fen_money(r.total_p50_fen)}（P10–P90 "
            f"{fen_money(r.total_p10_fen)}–{fen_money(r.total_p90_fen)}），其中已发证应付 "
            f"{fen_money(r.committed_fen)}，其余为将来新领证的估计。",
            f"{year} is expected to cost {fen_money(r.total_p50_fen)} (P10–P90 "
            f"{fen_money(r.total_p10_fen)}–{fen_money(r.total_p90_fen)}), of which "
            f"{fen_money(r.committed_fen)} is owed on today's certificates and the rest is the "
            "estimate for new ones.",
        ),
    ]
    if partial:
        lines.append(
            Line(
                f"预测期 {months[0]} 至 {months[-1]}；"
                + "、".join(f"{y} 年只含 {m} 个月" for y, m in partial)
                + "，表中已标出。",
                f"The horizon runs {months[0]} to {months[-1]}; "
                + ", ".join(f"{y} has {m} month{'s' if m > 1 else ''} only" for y, m in partial)
                + " (marked in the tables).",
            )
        )
    figs_sc = {}
    for label_zh, label_en, other in scenarios:
        v = versus(pr, other, year)
        lines.append(versus_sentence(v, label_zh, label_en))
        figs_sc[label_zh] = {k: v[k] for k in v if k != "year"}
    figures = {
        "year": year,
        "total_p10": str(Decimal(int(r.total_p10_fen)).scaleb(-2)),
        "total_p50": str(Decimal(int(r.total_p50_fen)).scaleb(-2)),
        "total_p90": str(Decimal(int(r.total_p90_fen)).scaleb(-2)),
        "committed": str(Decimal(int(r.committed_fen)).scaleb(-2)),
        "partial_years": [f"{y}:{m}" for y, m in partial],
        "scenarios": figs_sc,
    }
    return Findings("结论", "Conclusions", figures, tuple(lines))
