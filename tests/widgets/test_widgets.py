"""The dashboards (rulebook §3, §5, §6, §7) without a browser: hand-computed cases.

The dashboards draw into an ``ipywidgets.HTML`` widget (the difference from the starting
settings, summary text, the chart as inline SVG, the masked cut-line table), never into an
``Output`` widget, which hung papermill and Voilà now and then. Each test moves a slider the
way the browser does (by setting its value) and reads the HTML.

Bonus world (``world()``): one certificate, child born 2012-03-15, paid 20
yuan a month by U1; age cap 14 in force, so from a start of 2026-02 it pays
February and March 2026 (the month of the 14th birthday) and nothing after.
The couple has its child, so no new certificates: P10 = P50 = P90 = committed.

Relief world (``households()``): urban standard 770 on 2025-06-30; one-person
households A (income 100 -> 670 yuan, tier 1), B (200 -> 570, tier 1), C
(500 -> 270, tier 3: 500/770 > 0.6) and D (800: above the standard).
"""

from __future__ import annotations

import re

import ipywidgets as w
import pytest

from fpanalysis.core.errors import ParamError
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules import bonus

P = load_params()
AS_OF = "2025-06-30"
HEADS = {"A": "张三丰", "B": "李四光", "C": "王五福", "D": "赵六顺"}


def _tree(widget):
    """The widget and every widget inside it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _tree(child)


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def _text(html: str) -> str:
    """The HTML without its charts (summary lines and tables)."""
    return re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S)


# --------------------------------------------------------------------------- bonus


def world():
    persons = [
        {
            "person_id": "W",
            "name": "陈秀英",
            "sex": "F",
            "birth_date": "1988-01-01",
            "unit_id": "U1",
            "category": "staff",
            "hire_date": "2010-01-01",
        },
        {
            "person_id": "H",
            "name": "刘建国",
            "sex": "M",
            "birth_date": "1987-01-01",
            "unit_id": "U2",
            "category": "staff",
            "hire_date": "2010-01-01",
        },
    ]
    return {
        "units": coerce(
            "units", [{"unit_id": "U1", "name": "办公室"}, {"unit_id": "U2", "name": "福利院"}]
        ),
        "persons": coerce("persons", persons),
        "couples": coerce(
            "couples",
            [{"couple_id": "C1", "wife_id": "W", "husband_id": "H", "marriage_date": "2011-01-01"}],
        ),
        "children": coerce(
            "children",
            [{"child_id": "K1", "couple_id": "C1", "birth_date": "2012-03-15", "sex": "M"}],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "G1",
                    "couple_id": "C1",
                    "child_id": "K1",
                    "issue_date": "2013-01-05",
                    "payee_id": "W",
                }
            ],
        ),
    }


@pytest.fixture(scope="module")
def model():
    return bonus.BonusModel.build(world(), P, "2026-02")


def _sliders(box):
    (amount, cap), (uptake, horizon, fixed) = box.children[0].children, box.children[1].children
    return {"amount": amount, "cap": cap, "uptake": uptake, "months": horizon, "fixed": fixed}


@pytest.mark.parametrize(
    ("moves", "period", "committed"),
    [
        # Feb + Mar 2026 at 20
        pytest.param({}, "2026-02–2027-01", "40.00", id="defaults"),
        # 2 x 30
        pytest.param({"amount": 30.0}, "2026-02–2027-01", "60.00", id="amount-30"),
        # pays to Mar 2028: all 12 months x 20
        pytest.param({"cap": 16}, "2026-02–2027-01", "240.00", id="cap-16"),
        # 12 x 30
        pytest.param(
            {"cap": 16, "amount": 30.0}, "2026-02–2027-01", "360.00", id="cap-16-amount-30"
        ),
        # 24 x 20
        pytest.param(
            {"cap": 16, "months": 24}, "2026-02–2028-01", "480.00", id="cap-16-horizon-24"
        ),
        # Feb 2026..Mar 2028 = 26 x 20
        pytest.param(
            {"cap": 16, "months": 36}, "2026-02–2029-01", "520.00", id="cap-16-horizon-36"
        ),
    ],
)
def test_bonus_dashboard_redraws_summary_and_chart(model, moves, period, committed):
    from fpanalysis.widgets.bonus import budget_dashboard

    box = budget_dashboard(model, P, months=12, draws=20)
    view = box.children[2]
    sliders = _sliders(box)
    first_chart = _svgs(view.value)
    for name, value in moves.items():
        sliders[name].value = value
    text = _text(view.value)
    c = f"¥{committed}"
    assert f"{period}：已发证 {c}；合计 P10 {c} / P50 {c} / P90 {c}" in text
    charts = _svgs(view.value)
    assert len(charts) == 1 and 'class="marks"' in charts[0]
    if moves:
        assert charts != first_chart  # the chart was redrawn with the new figures


def test_bonus_dashboard_has_no_output_widget_and_is_byte_stable(model):
    from fpanalysis.widgets.bonus import budget_dashboard

    box = budget_dashboard(model, P, months=12, draws=20)
    assert not any(isinstance(x, w.Output) for x in _tree(box))
    view = box.children[2]
    assert isinstance(view, w.HTML)
    before = view.value
    _sliders(box)["amount"].value = 30.0
    assert view.value != before
    _sliders(box)["amount"].value = 20.0  # back: the same bytes as at first (no ids, no clock)
    assert view.value == before
    assert "陈秀英" not in view.value and "刘建国" not in view.value


def test_bonus_dashboard_shows_a_refused_setting_instead_of_a_stale_chart(model, monkeypatch):
    from fpanalysis.widgets import bonus as wb

    box = wb.budget_dashboard(model, P, months=12, draws=20)

    def refuse(*_a, **_k):
        raise ParamError("金额无效", "invalid amount", value=35)

    monkeypatch.setattr(wb, "reproject", refuse)
    _sliders(box)["amount"].value = 35.0  # no exception escapes the callback
    assert box.children[2].value == (
        '<p class="fp-error">无法重算 could not recompute: 金额无效 [值 35] / '
        "invalid amount [value 35]</p>"
    )


def test_bonus_dashboard_shows_a_bug_and_lets_it_reach_the_kernel_log(model, monkeypatch):
    from fpanalysis.widgets import bonus as wb

    box = wb.budget_dashboard(model, P, months=12, draws=20)

    def broken(*_a, **_k):
        raise KeyError("U9")

    monkeypatch.setattr(wb, "reproject", broken)
    with pytest.raises(KeyError):
        _sliders(box)["cap"].value = 15
    assert box.children[2].value == (
        '<p class="fp-error">无法重算 could not recompute: KeyError: &#x27;U9&#x27;</p>'
    )


# --------------------------------------------------------------------------- relief


def households():
    hh = [
        {
            "household_id": h,
            "head_name": HEADS[h],
            "area": "urban",
            "size": 1,
            "monthly_income": inc,
            "application_date": "2025-03-01",
        }
        for h, inc in (("A", 100.0), ("B", 200.0), ("C", 500.0), ("D", 800.0))
    ]
    mm = [{"member_id": f"{h}1", "household_id": h, "relation": "head", "sex": "M"} for h in HEADS]
    return {
        "households": coerce("households", hh),
        "household_members": coerce("household_members", mm),
    }


@pytest.fixture
def no_chart(monkeypatch):
    """A stand-in for the SVG drawing (vl-convert takes ~0.2 s a chart) in tests that read only
    text."""
    import fpanalysis.widgets.relief as wr

    monkeypatch.setattr(wr, "chart_svg", lambda chart: '<svg class="marks"></svg>')


def _relief_controls(box):
    mode = box.children[0]
    quota, budget = box.children[1].children
    urban, rural, _fixed = box.children[3].children
    return mode, quota, budget, urban, rural, box.children[4]


@pytest.mark.parametrize(
    ("start", "moves", "summary", "cut_line"),
    [
        pytest.param(
            {"quota": 2},
            {},
            "拟纳入 2 户（继续 0，新纳入 2），候补 1 户，月保障金 ¥1,240.00",
            ["B", "C"],
            id="quota-2",  # A 670 + B 570; C waits
        ),
        pytest.param(
            {"quota": 2},
            {"quota": 1},
            "拟纳入 1 户（继续 0，新纳入 1），候补 2 户，月保障金 ¥670.00",
            ["A", "B"],
            id="quota-moved-to-1",  # A only; B and C wait
        ),
        pytest.param(
            {},
            {},
            "拟纳入 3 户（继续 0，新纳入 3），候补 0 户，月保障金 ¥1,510.00",
            [],
            id="no-limit",  # A + B + C = 1510; D is above 770
        ),
        pytest.param(
            {},
            {"urban": 810},
            "拟纳入 4 户（继续 0，新纳入 4），候补 0 户，月保障金 ¥1,640.00",
            [],
            id="urban-standard-810",  # 710 + 610 + 310 + D 10 = 1640
        ),
        pytest.param(
            {"budget_yuan": 1300},
            {},
            "拟纳入 2 户（继续 0，新纳入 2），候补 1 户，月保障金 ¥1,240.00",
            ["B", "C"],
            id="budget-1300",  # A + B = 1240; C (270) would make 1510 > 1300
        ),
        pytest.param(
            {"budget_yuan": 1300},
            {"mode": "none"},
            "拟纳入 3 户（继续 0，新纳入 3），候补 0 户，月保障金 ¥1,510.00",
            [],
            id="budget-then-no-limit",
        ),
        pytest.param(
            {"quota": 2},
            {"urban": 810, "quota": 3},
            "拟纳入 3 户（继续 0，新纳入 3），候补 1 户，月保障金 ¥1,630.00",
            ["C", "D"],
            id="standard-810-quota-3",  # A + B + C = 710 + 610 + 310; D (10) waits
        ),
    ],
)
def test_relief_dashboard_redraws_summary_chart_and_cut_line(start, moves, summary, cut_line):
    from fpanalysis.widgets.relief import cut_dashboard

    box = cut_dashboard(households(), P, AS_OF, **start)
    mode, quota, budget, urban, _rural, view = _relief_controls(box)
    first = view.value
    for name, value in moves.items():
        {"mode": mode, "quota": quota, "budget": budget, "urban": urban}[name].value = value
    text = _text(view.value)
    assert f"<p>{summary} / selected " in text
    charts = _svgs(view.value)
    assert len(charts) == 1 and 'class="marks"' in charts[0]
    # the household ids either side of the line
    assert re.findall(r"<td>([A-D])</td>", text) == cut_line
    if moves:
        assert view.value != first


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        pytest.param("zh", "<th>户编号</th>", id="zh"),
        pytest.param("en", "<th>household id</th>", id="en"),
    ],
)
def test_relief_dashboard_table_is_masked_localised_and_has_no_output_widget(
    no_chart, lang, header
):
    from fpanalysis.widgets.relief import cut_dashboard

    box = cut_dashboard(households(), P, AS_OF, quota=2, lang=lang)
    assert not any(isinstance(x, w.Output) for x in _tree(box))
    view = box.children[4]
    assert isinstance(view, w.HTML)
    assert header in view.value
    assert "&lt;NA&gt;" not in view.value  # a missing value is an empty cell
    assert not any(name in view.value for name in HEADS.values())


@pytest.mark.parametrize(
    ("reveal", "shown", "hidden"),
    [
        pytest.param(False, ["李**", "王**"], ["李四光", "王五福"], id="masked-by-default"),
        pytest.param(True, ["李四光", "王五福"], ["李**", "王**"], id="reveal-pii"),
    ],
)
def test_relief_dashboard_masks_names_the_cut_line_carries(
    no_chart, monkeypatch, reveal, shown, hidden
):
    # cut_line has no name column today; if it gains one, the dashboard still masks it (rulebook §7)
    # unless the notebook passes reveal_pii through.
    import fpanalysis.widgets.relief as wr

    original = wr.cut_line
    monkeypatch.setattr(
        wr, "cut_line", lambda res: original(res).assign(head_name=["李四光", "王五福"])
    )
    view = wr.cut_dashboard(households(), P, AS_OF, quota=2, reveal=reveal).children[4].value
    assert all(x in view for x in shown)
    assert not any(x in view for x in hidden)


@pytest.mark.parametrize(
    ("mode", "quota_disabled", "budget_disabled"),
    [
        pytest.param("quota", False, True, id="quota"),
        pytest.param("budget", True, False, id="budget"),
        pytest.param("none", True, True, id="no-limit"),
    ],
)
def test_relief_dashboard_greys_out_the_slider_not_in_use(
    no_chart, mode, quota_disabled, budget_disabled
):
    from fpanalysis.widgets.relief import cut_dashboard

    box = cut_dashboard(households(), P, AS_OF, quota=2)
    m, quota, budget, *_ = _relief_controls(box)
    m.value = mode
    assert (quota.disabled, budget.disabled) == (quota_disabled, budget_disabled)


def test_relief_standard_slider_cannot_reach_zero(no_chart):
    # A standard of 0 makes no round (rank_households divides by it): the slider starts at 10.
    from fpanalysis.widgets.relief import cut_dashboard

    _m, _q, _b, urban, rural, view = _relief_controls(cut_dashboard(households(), P, AS_OF))
    urban.value = 0
    assert urban.value == 10 and rural.min == 10
    assert "拟纳入 0 户" in view.value  # 10 yuan: nobody qualifies


# --------------------------------------------------------------------------- against the baseline


def test_bonus_dashboard_says_what_a_setting_costs_against_current_policy(model):
    from fpanalysis.widgets.bonus import budget_dashboard

    box = budget_dashboard(model, P, months=24, draws=20)
    view = box.children[2]
    assert "现行政策（未调整）" in view.value
    _sliders(box)["amount"].value = 30.0  # Feb + Mar 2026 at 30 instead of 20; 2027 pays nothing
    assert (
        "月金额 20 元 → 30 元：2027 年支出不变" in view.value
        or "月金额 20 元 → 30 元" in view.value
    )
    assert view.value.count("<svg") == 1
    assert "stroke-dasharray" in view.value  # current policy drawn dashed


def test_relief_dashboard_counts_households_and_money_against_the_start():
    from fpanalysis.widgets.relief import cut_dashboard

    box = cut_dashboard(households(), P, AS_OF, quota=1)
    _mode, quota, *_rest, view = _relief_controls(box)
    assert "与基准相同：没有户变动，每月支出不变。" in view.value
    quota.value = 3  # B 570 + C 270 join A
    assert (
        "与基准相比：纳入多 2 户（新纳入多 2 户），候补少 2 户，每月多支出 ¥840.00。" in view.value
    )


def test_relief_quota_slider_starts_at_the_continuing_households():
    from fpanalysis.widgets.relief import cut_dashboard

    world = households()
    world["households"] = world["households"].assign(receiving=[True, True, False, False])
    box = cut_dashboard(world, P, AS_OF)
    _mode, quota, *_rest = _relief_controls(box)
    assert (quota.min, quota.max) == (2, 3)
    assert "名额是本轮拟纳入的总户数" in box.children[2].value


def test_reweight_lists_units_whose_grade_changes():
    import pandas as pd

    from fpanalysis.widgets.compliance import reweight

    rows = []
    for unit, feedback in (("U1", 0), ("U2", 1)):
        for ind in ("baseline_coverage", "followup_coverage", "check_attendance"):
            rows.append((unit, ind, True, True))
        rows.append((unit, "feedback_timeliness", True, bool(feedback)))
    detail = pd.DataFrame(rows, columns=["unit_id", "indicator", "in_denominator", "in_numerator"])
    detail = detail.assign(
        period="2024", part="", couple_id="C", person_id="W", event_id="E",
        date=pd.NaT, penalty=float("nan"), veto=False, reason_zh="", reason_en="",
    )  # fmt: skip
    box = reweight(detail, P, "2024", names={"U1": "办公室"})
    view = box.children[2]
    assert "没有单位改变等次" in view.value  # U1: 85.00, pass
    c3 = box.children[1].children[0]
    c3.value = 0.6  # feedback weighs 0.6 / 1.45: U1 falls to 58.62
    assert "U1 办公室 从 合格 降为 不合格" in view.value
    assert "<th>单位名称</th>" in view.value and "<th>等次</th>" in view.value
