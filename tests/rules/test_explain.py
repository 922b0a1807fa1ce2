"""The traces agree with the analyses for the whole county (rulebook §3, §5, §6): every unit's
traced score, grade and veto is the scorecard's, every household's traced rank and selection is the
round's, every certificate's traced months add up to the committed payments by unit and month; the
rows a trace lists make its numbers; names and ID numbers are masked unless revealed (§7); unknown
ids are bilingual usage errors naming the closest ids."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pandas as pd
import pytest

from fpanalysis.core import config
from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import find_names, find_unmasked_ids
from fpanalysis.io import load_for_analysis
from fpanalysis.rules import bonus, compliance, explain, relief
from fpanalysis.rules.compliance import INDICATOR_IDS, RATE_INDICATORS, round_half_up

pytestmark = pytest.mark.skipif(
    not (config.SAMPLE_DIR / "units.csv").exists(), reason="sample data not generated"
)
P = load_params()


@pytest.fixture(scope="module")
def county():
    return load_for_analysis(config.SAMPLE_DIR, compliance.TABLES_NEEDED)


@pytest.fixture(scope="module")
def households():
    return load_for_analysis(config.SAMPLE_DIR, list(relief.RELIEF_TABLES))


@pytest.fixture(scope="module")
def certificates():
    return load_for_analysis(config.SAMPLE_DIR, bonus.TABLES_NEEDED)


# --------------------------------------------------------------------------- units (§3)


@pytest.mark.parametrize(
    "period",
    [
        pytest.param("2023", id="2023-penalties-and-a-veto"),
        pytest.param("2024H1", id="2024H1"),
        pytest.param("2024H2", id="2024H2-no-C1"),
    ],
)
def test_every_unit_trace_ends_on_the_scorecard(county, period):
    detail = compliance.compliance_detail(county, P, period)
    card = compliance.compliance_scorecard(county, P, period, detail=detail).set_index("unit_id")
    summary = compliance.indicator_summary(detail, list(card.index), period).set_index(
        ["unit_id", "indicator"]
    )
    for unit, row in card.iterrows():
        trace = explain.explain_unit(county, unit, period, P, detail=detail)
        r = trace.result
        assert (r["score"], r["grade"], r["veto"]) == (row["score"], row["grade"], row["veto"])
        # the arithmetic shown rounds to the score
        assert float(round_half_up(max(r["raw"], 0))) == row["score"]
        assert f"→ {row['score']:.2f}" in trace.text("zh")
        for k in RATE_INDICATORS:
            s = summary.loc[(unit, k)]
            if r["rates"][k] is None:
                assert period.endswith("H2") and k == "baseline_coverage"
                continue
            num, den = r["rates"][k]
            assert (num, den) == (s["numerator"], s["denominator"])
            # the trace lists the couples behind the numerator and the denominator
            rule = f"§3 {INDICATOR_IDS[k]}"
            kinds = Counter(st.kind for st in trace.steps if st.rule == rule)
            assert kinds["counted"] == num
            assert kinds["counted"] + kinds["missed"] == den
        for k, n in r["counts"].items():
            assert n == summary.loc[(unit, k), "numerator"]
            rule = f"§3 {INDICATOR_IDS[k]}"
            assert sum(st.kind == "violation" and st.rule == rule for st in trace.steps) == n


def test_unit_trace_without_a_precomputed_detail_is_the_same(county):
    detail = compliance.compliance_detail(county, P, "2024H1")
    a = explain.explain_unit(county, "U13", "2024H1", P, detail=detail)
    b = explain.explain_unit(county, " U13 ", "2024H1", P)
    assert a.text("en") == b.text("en")
    assert a.result == b.result


def test_unit_trace_defaults_to_the_latest_complete_year(county):
    year = str(compliance.latest_complete_year(county))
    assert explain.explain_unit(county, "U07", None, P).result["period"] == year


def test_unit_penalties_and_veto_are_listed_with_their_events(county):
    trace = explain.explain_unit(county, "U10", "2023", P)
    pens = [s for s in trace.steps if s.kind == "penalty"]
    assert sum(Decimal(str(s.value)) for s in pens) == trace.result["penalty"] == 50
    assert {s.rule for s in pens} == {"§3 C5", "§3 C6", "§3 C7", "§3 C8"}
    vetoes = [s for s in trace.steps if s.kind == "veto_event"]
    assert [s.refs for s in vetoes] == [("C0219", "G00074")]
    assert "grade (§3.6): vetoed, whatever the score: fail" in trace.text("en")


# --------------------------------------------------------------------------- households (§6)


ROUNDS = [
    pytest.param({"as_of": "2025-12-31", "quota": 182}, id="quota-182"),
    pytest.param({"as_of": "2025-06-30", "budget_yuan": 200000}, id="budget"),
    pytest.param({"as_of": "2025-11-16"}, id="no-limit"),
    pytest.param(
        {"as_of": "2025-12-31", "pool": "separate", "quota": {"urban": 80, "rural": 110}},
        id="separate-pools",
    ),
    pytest.param({"as_of": "2025-12-31", "pool": "rural", "quota": 100}, id="rural-pool-only"),
]


@pytest.mark.parametrize("options", ROUNDS)
def test_every_household_trace_ends_on_the_round(households, options):
    options = dict(options)
    as_of = options.pop("as_of")
    result = relief.rank_households(households, P, as_of, **options)
    table = result.table.set_index("household_id")
    for hid in households["households"]["household_id"]:
        trace = explain.explain_household(households, hid, as_of, P, result=result)
        r = trace.result
        if hid not in table.index:
            assert r["in_round"] is False and r["selected"] is False
            continue
        row = table.loc[hid]
        assert r["selected"] == bool(row["selected"])
        assert r["selection"] == row["selection"]
        assert r["pool"] == row["pool"]
        assert r["eligible"] == bool(row["eligible"])
        assert r["rank"] == (None if pd.isna(row["rank"]) else int(row["rank"]))
        if r["rank"] is not None:
            # the neighbours named are the ranks either side in the same pool
            near = {s.value: s.refs[0] for s in trace.steps if s.kind == "neighbour"}
            pool = table[table["pool"].eq(row["pool"])]
            for rank, other in near.items():
                assert pool.loc[other, "rank"] == rank
            assert set(near) <= {r["rank"] - 1, r["rank"] + 1}


def test_household_trace_computes_the_round_itself_when_not_given_one(households):
    a = explain.explain_household(households, "H0287", "2025-12-31", P, quota=182)
    result = relief.rank_households(households, P, "2025-12-31", quota=182)
    b = explain.explain_household(households, "H0287", None, P, result=result)
    assert a.text("zh") == b.text("zh")


def test_household_not_in_the_pool_says_so(households):
    trace = explain.explain_household(households, "H0050", "2025-12-31", P, pool="rural")
    assert trace.result["in_round"] is False
    assert "this round ranks the rural pool only" in trace.text("en")


def test_household_not_eligible_and_receiving_should_exit(households):
    result = relief.rank_households(households, P, "2025-12-31")
    t = result.table
    leaving = t[~t["eligible"].astype(bool) & t["incumbent"]]["household_id"].iloc[0]
    trace = explain.explain_household(households, leaving, None, P, result=result)
    assert trace.result["selection"] == "not_eligible"
    assert "选定（§6.9）：否，不符合条件；目前在保，复核后不再符合，应退出" in trace.text("zh")


# --------------------------------------------------------------------------- certificates (§5)


@pytest.mark.parametrize(
    "overrides, start, months",
    [
        pytest.param({}, "2026-01", 36, id="payee-2026-36"),
        pytest.param({}, "2004-01", 300, id="payee-from-2004"),
        pytest.param(
            {"reward_split": "half", "reward_monthly_yuan": 25.01},
            "2010-01",
            240,
            id="half-odd-fen",
        ),
        pytest.param(
            {"reward_age_cap": {"2027-01-01": 16}, "reward_monthly_yuan": {"2026-07-01": 30}},
            "2026-01",
            36,
            id="cap-and-amount-change",
        ),
    ],
)
def test_every_certificate_trace_adds_up_to_the_committed_payments(
    certificates, overrides, start, months
):
    params = P.with_overrides(overrides)
    committed = bonus.committed_payments(certificates, params, start, months)
    want = Counter(
        {
            (r.unit_id, r.month): int(Decimal(r.committed_yuan) * 100)
            for r in committed.itertuples()
            if r.committed_yuan
        }
    )
    got: Counter = Counter()
    for cid in certificates["certificates"]["cert_id"]:
        trace = explain.explain_certificate(certificates, cid, start, months, params)
        for month, paid in trace.result["months"].items():
            for unit, fen in paid.items():
                got[(unit, month)] += fen
        assert trace.result["total_fen"] == sum(
            sum(p.values()) for p in trace.result["months"].values()
        )
        # every month is in exactly one line of the trace
        lines = [m for s in trace.steps if s.kind == "month" for m in s.refs]
        assert lines == list(trace.result["months"])
    assert +got == +want


# --------------------------------------------------------------------------- privacy (§7), errors


def test_traces_mask_names_and_id_numbers_unless_revealed(county, households, certificates):
    names = list(county["persons"]["name"]) + list(households["households"]["head_name"])
    names += list(county["units"]["head_name"]) + list(county["units"]["liaison_name"])
    traces = [
        explain.explain_unit(county, "U07", "2024H1", P),
        explain.explain_household(households, "H0287", "2025-12-31", P, quota=182),
        explain.explain_certificate(certificates, "GRZ00035", "2025-01", 12, P),
    ]
    for t in traces:
        for text in (t.text("zh"), t.text("en"), t.markdown("zh"), t.html("en")):
            assert find_unmasked_ids(text) == []
            assert find_names(text, names) == []
    shown = explain.explain_household(households, "H0287", "2025-12-31", P, reveal_pii=True)
    assert find_unmasked_ids(shown.text("zh")) == ["411722197812197853"]
    assert find_names(shown.text("zh"), names) == ["吕兵"]


@pytest.mark.parametrize(
    "call, zh, en",
    [
        pytest.param(
            lambda c, h, g: explain.explain_unit(c, "U7", "2024H1", P),
            "数据集中没有单位 U7；最接近的编号：U07",
            "no unit U7 in the dataset; the closest ids: U07",
            id="unit",
        ),
        pytest.param(
            lambda c, h, g: explain.explain_household(h, "H12", "2025-12-31", P),
            "数据集中没有户 H12；最接近的编号：H0012",
            "no household H12 in the dataset; the closest ids: H0012",
            id="household",
        ),
        pytest.param(
            lambda c, h, g: explain.explain_certificate(g, "GRZ50", "2026-01", 3, P),
            "数据集中没有光荣证 GRZ50；最接近的编号：GRZ00050",
            "no certificate GRZ50 in the dataset; the closest ids: GRZ00050",
            id="certificate",
        ),
        pytest.param(
            lambda c, h, g: explain.explain_certificate(g, "GRZ00024", "2026-01", 0, P),
            "月数应至少为 1",
            "months must be at least 1",
            id="no-months",
        ),
    ],
)
def test_errors_name_the_id_and_the_closest_ones(county, households, certificates, call, zh, en):
    with pytest.raises(UsageError) as exc:
        call(county, households, certificates)
    assert exc.value.text("zh").startswith(zh)
    assert exc.value.text("en").startswith(en)
    assert exc.value.exit_code == 2


# --------------------------------------------------------------------------- renderings


def test_renderings_hold_the_same_steps(county):
    trace = explain.explain_unit(county, "U07", "2024H1", P)
    frame = trace.frame()
    assert list(frame.columns) == explain.FRAME_COLUMNS
    assert len(frame) == len(trace.steps)
    assert frame["text_zh"].tolist() == [s.zh for s in trace.steps]
    md = trace.markdown("zh")
    assert md.startswith("**单位 U07 社会事务股")
    assert "郭\\*" in md  # a masked name's stars are text, not emphasis
    html = trace.html("en")
    assert html.count("<li>") == len(trace.steps) - 1
    assert html.count("<ul>") == html.count("</ul>")
    assert trace._repr_html_() == trace.html("zh")


def test_a_notebook_drill_down_gets_the_same_trace_as_html(county, households):
    html = explain.trace_html(county, P, "unit", "U07", period="2024H1", lang="en")
    assert html == explain.explain_unit(county, "U07", "2024H1", P).html("en")
    assert "91.67" in html
    h = explain.trace_html(households, P, "household", "H0287", as_of="2025-12-31", quota=182)
    assert "第 48 名" in h
    with pytest.raises(UsageError) as exc:
        explain.explain(county, P, "couple", "C0001")
    assert "what can be traced: unit, household, certificate" in exc.value.text("en")


def test_household_that_applied_after_the_as_of_date_is_said_so(households):
    """H0026 applied on 2025-10-28: a round on 2025-06-30 does not consider it (rulebook §6.6)."""
    trace = explain.explain_household(households, "H0026", "2025-06-30", P, budget_yuan=150000)
    assert "applied on 2025-10-28, after" in trace.text("en")
    assert "on or before" not in trace.text("en")


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda t: t.text("zh"), id="text"),
        pytest.param(lambda t: t.markdown("en"), id="markdown"),
        pytest.param(lambda t: t.html("zh"), id="html"),
        pytest.param(lambda t: t.frame().to_csv(), id="frame"),
    ],
)
def test_a_trace_masks_id_shaped_words_unless_revealed(render):
    """A household numbered by its head's ID number (rulebook §7): every output of its trace
    shows the number masked; --reveal-pii shows it."""
    from fpanalysis.rules.explain.trace import Step, Trace

    key = "412825196710260752"
    steps = [
        Step("title", f"户 {key}", f"household {key}"),
        Step("rank", f"排在 {key} 之后", f"after {key}", level=1),
    ]
    masked = render(Trace("household", key, list(steps)))
    assert key not in masked
    assert "412825********0752" in masked.replace("\\*", "*")  # markdown escapes the stars
    assert key in render(Trace("household", key, list(steps), reveal=True))


def test_first_paid_is_the_first_certificate_the_trace_pays():
    """What the budget report traces: every certificate before it (by id) is paid nothing in the
    month, by its own trace; it is paid; a month before any certificate: none."""
    from fpanalysis.core.params import load_params
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules import bonus
    from fpanalysis.rules.explain import explain_certificate, first_paid

    ds = load_for_analysis(config.SAMPLE_DIR, bonus.TABLES_NEEDED)
    p = load_params()
    got = first_paid(ds, p, "2025-12")
    assert got is not None
    paid = {
        c: explain_certificate(ds, c, "2025-12", 1, p).result["total_fen"]
        for c in sorted(ds["certificates"]["cert_id"])
        if c <= got
    }
    assert paid.pop(got) > 0 and not any(paid.values())
    assert first_paid(ds, p, "1990-01") is None
