"""C6-C8 made from the history of the couples that can have an event in the period
(``events.couples_history``) against the readable way, the whole tables; and the per-unit sums
counted on integers (``scoring.unit_sums``) against pandas' group-by of the texts.

The hand-computed cases are small bureaus of the base world of ``test_compliance`` (couple C1:
wife W1, staff of U1; husband H1) with a few rows that reach across couples."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from test_compliance import C1, H1, W1, person, preg, world

from fpanalysis.core.params import load_params
from fpanalysis.rules.compliance import compliance_detail, parse_period
from fpanalysis.rules.compliance import events as events_module
from fpanalysis.rules.compliance.scoring import SUMS_COLUMNS, _exact, unit_sums
from fpanalysis.rules.frames import table_of

PERIODS = ["2019", "2020", "2021H1", "2022", "2023H2", "2024", "2024H1", "2024H2", "2025"]


def whole_tables(tables, period):
    """The readable way: every row of the three tables, whatever the period."""
    return {t: table_of(tables, t) for t in events_module._HISTORY_TABLES}


def both_ways(tables, period, monkeypatch):
    """C5-C8's blocks from the couples' history, then from the whole tables."""
    params, p = load_params(), parse_period(period)
    fast = events_module.event_rows(tables, params, p)
    with monkeypatch.context() as m:
        m.setattr(events_module, "couples_history", whole_tables)
        readable = events_module.event_rows(tables, params, p)
    return fast, readable


def assert_same_blocks(fast, readable):
    assert len(fast) == len(readable) == 4
    for a, b in zip(fast, readable, strict=True):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@pytest.mark.parametrize("period", PERIODS)
def test_the_couples_history_gives_the_events_of_the_whole_tables(sample_dir, period, monkeypatch):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    fast, readable = both_ways(ds, period, monkeypatch)
    assert_same_blocks(fast, readable)
    history = events_module.couples_history(ds, parse_period(period))
    assert len(history["permits"]) < len(ds["permits"])  # the history is a part, not the whole


# Couple C2 = W2 (staff of U2) and H2; couple C3 = W3 (staff of U1) and H3.
W2 = person("W2", "F", "1991-03-01", "U2", "staff", "2012-01-01")
H2 = person("H2", "M", "1989-03-01")
W3 = person("W3", "F", "1992-03-01", "U1", "staff", "2012-01-01")
H3 = person("H3", "M", "1990-03-01")
C2 = {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2016-01-01"}
C3 = {"couple_id": "C3", "wife_id": "W3", "husband_id": "H3", "marriage_date": "2016-01-01"}


def child(kid, couple, born, sex="F"):
    return {"child_id": kid, "couple_id": couple, "birth_date": born, "sex": sex}


def permit(pid, couple, issued):
    return {"permit_id": pid, "couple_id": couple, "issue_date": issued}


def c6(blocks):
    """C6's rows as (couple, event, counted) triples."""
    b = blocks[1]
    return sorted(zip(b["couple_id"], b["event_id"], b["in_numerator"], strict=True))


def bureau(**tables):
    return world(persons=[W1, H1, W2, H2, W3, H3], couples=[C1, C2, C3], **tables)


def check(t, period, counted, monkeypatch, kept=None):
    """C6 of ``period`` is ``counted`` ((couple, event, counted) triples) both ways, every block
    the same; ``kept``: (table, ids) the couples' history holds."""
    fast, readable = both_ways(t, period, monkeypatch)
    assert c6(fast) == counted
    assert_same_blocks(fast, readable)
    if kept:
        table, ids = kept
        history = events_module.couples_history(t, parse_period(period))
        assert history[table].iloc[:, 0].tolist() == ids


def test_a_birth_dated_by_another_couples_child_is_in_the_period(monkeypatch):
    """C1's pregnancy G1 ended in a birth with no outcome date and names K1, a child recorded
    under C2 and born on 2024-05-01: C1's birth is dated 2024-05-01, inside 2024, and C1's
    permit P1 (2023) makes it planned. C2's own child K1 is named, so not a birth of C2's."""
    t = bureau(
        pregnancies=[preg("G1", "2023-09-01", "birth", None, couple="C1", child_id="K1")],
        children=[child("K1", "C2", "2024-05-01")],
        permits=[permit("P1", "C1", "2023-01-01")],
    )
    check(t, "2024", [("C1", "G1", False)], monkeypatch)


def test_a_child_named_by_a_couple_outside_the_period_is_not_a_birth_of_its_own(monkeypatch):
    """K2, born to C3 on 2024-03-01, is named by C2's pregnancy G2, which ended on 2019-01-01:
    K2 is G2's child, so C3 has no birth of its own in 2024 (none to count), and G2's birth is
    in 2019. G2 is read for 2024 because it names a child born in 2024."""
    t = bureau(
        pregnancies=[preg("G2", "2018-05-01", "birth", "2019-01-01", couple="C2", child_id="K2")],
        children=[child("K2", "C3", "2024-03-01")],
    )
    check(t, "2024", [], monkeypatch, kept=("pregnancies", ["G2"]))
    check(t, "2019", [("C2", "G2", True)], monkeypatch)  # no permit: out of plan


def test_a_permit_used_before_the_period_is_not_valid_in_it(monkeypatch):
    """C1's permit P1 (2020) was used by the birth of K1 in 2021, read from C1's history: its
    birth of K2 in 2024 has no valid permit; C3, with no event in 2024, is not read."""
    t = bureau(
        children=[child("K1", "C1", "2021-04-01"), child("K2", "C1", "2024-06-01")],
        permits=[permit("P1", "C1", "2020-01-01"), permit("P3", "C3", "2020-01-01")],
    )
    check(t, "2024", [("C1", "K2", True)], monkeypatch, kept=("permits", ["P1"]))


def test_a_child_named_by_a_couple_without_events_does_not_use_its_parents_permit(monkeypatch):
    """C1's permit P1 (2020) and its children K1 (2021) and K2 (2024). K1 is named by C2's
    pregnancy G2 (a birth in 2021; C2 has no event in 2024), so K1 is G2's birth, not C1's:
    P1 is first used by K2, which is planned. G2 must be read for C1's history."""
    t = bureau(
        pregnancies=[preg("G2", "2020-06-01", "birth", "2021-02-01", couple="C2", child_id="K1")],
        children=[child("K1", "C1", "2021-02-01"), child("K2", "C1", "2024-06-01")],
        permits=[permit("P1", "C1", "2020-01-01")],
    )
    check(t, "2024", [("C1", "K2", False)], monkeypatch, kept=("pregnancies", ["G2"]))


def test_a_birth_dated_by_a_child_of_a_couple_without_events_uses_the_permit(monkeypatch):
    """C1's pregnancy G1 ended in a birth with no outcome date and names K9, recorded under C3
    and born in 2021: G1 is C1's birth of 2021 and uses C1's permit P1 (2020), so C1's K2,
    born in 2024, is out of plan. K9 must be read for C1's history though C3 has no event."""
    t = bureau(
        pregnancies=[preg("G1", "2020-06-01", "birth", None, couple="C1", child_id="K9")],
        children=[child("K9", "C3", "2021-02-01"), child("K2", "C1", "2024-06-01")],
        permits=[permit("P1", "C1", "2020-01-01")],
    )
    check(t, "2024", [("C1", "K2", True)], monkeypatch, kept=("children", ["K9", "K2"]))


def test_repeated_ids_read_the_whole_tables(monkeypatch):
    """Two children recorded as K1 (under C3 in 2020, under C1 in 2024): a look-up of K1 in
    fewer rows could find another one, so the whole tables are read. G1 names K1 and is dated
    by the first K1 (2020), and C1's K1 is named, so 2024 has no birth to count."""
    kids = [child("K1", "C3", "2020-01-01"), child("K1", "C1", "2024-06-01")]
    t = bureau(
        pregnancies=[preg("G1", "2023-09-01", "birth", None, couple="C1", child_id="K1")],
        children=kids,
    )
    history = events_module.couples_history(t, parse_period("2024"))
    assert all(history[n] is t[n] for n in ("pregnancies", "children"))
    check(t, "2024", [], monkeypatch)
    check(t, "2020", [("C1", "G1", True)], monkeypatch)


# --------------------------------------------------------------------------- unit sums


def readable_unit_sums(detail: pd.DataFrame) -> pd.DataFrame:
    """The per-unit sums as pandas' group-by of the texts reads them (rulebook §3)."""
    d = detail[detail["unit_id"].notna()]
    g = pd.DataFrame(
        {
            "unit_id": d["unit_id"].astype("str"),
            "indicator": d["indicator"].astype("str"),
            "numerator": (
                d["in_numerator"].fillna(False) & d["in_denominator"].fillna(True)
            ).astype("int64"),
            "denominator": d["in_denominator"].fillna(False).astype("int64"),
            "veto": d["veto"].astype(bool).astype("int64"),
            "penalty": [_exact(v) if v > 0 else Fraction(0) for v in d["penalty"]],
        }
    )
    out = g.groupby(["unit_id", "indicator"], sort=True).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        penalty=("penalty", lambda s: sum(s, Fraction(0))),
        veto=("veto", "sum"),
    )
    return out.reset_index()[SUMS_COLUMNS].astype({"penalty": "object"})


@pytest.mark.parametrize("seed", range(6))
def test_unit_sums_random(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    flag = pd.array([True, False, pd.NA], dtype="boolean")
    units = pd.array(["U1", "U10", "U2", "单位甲", None], dtype="str")
    d = pd.DataFrame(
        {
            "unit_id": units.take(rng.integers(0, len(units), n)),
            "indicator": pd.array(
                ["followup_coverage", "falsifications", "baseline_coverage"], dtype="str"
            ).take(rng.integers(0, 3, n)),
            "in_denominator": flag.take(rng.integers(0, 3, n)),
            "in_numerator": flag.take(rng.integers(0, 3, n)),
            "penalty": rng.choice([0.0, 0.0, 0.5, 1.0, 2.5], n),
            "veto": rng.random(n) < 0.1,
        }
    )
    got = unit_sums(d)
    pd.testing.assert_frame_equal(got, readable_unit_sums(d), check_dtype=False)
    assert got.dtypes.astype(str).tolist() == ["str", "str", "int64", "int64", "object", "int64"]


def test_unit_sums_on_the_samples_drill_down(sample_dir):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    detail = compliance_detail(ds, load_params(), "2024")
    pd.testing.assert_frame_equal(unit_sums(detail), readable_unit_sums(detail), check_dtype=False)
