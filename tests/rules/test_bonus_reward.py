"""The cohort engine pays what the readable rule says (rulebook §5), by unit and by month.

Hypothesis draws small datasets (a few couples, their children and certificates, payees who are a
spouse, a third person or nobody known, 29 February births, month-end dates, revocations, hires and
leaves on either side of the horizon) and parameter timelines (amount, age cap and split changing
on any day), and compares the engine's committed fen per unit-month
(``certificate_segments`` → ``compress`` → ``project_cohorts``) with the sum over certificates and
months of :func:`fpanalysis.rules.bonus.payments`. The ``ci`` profile (the default) is
derandomized, so every run draws the same examples; ``HYPOTHESIS_PROFILE=dev`` draws fresh ones,
more of them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis.core.dataset import unit_ids
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules import bonus

P = load_params()
DEV = os.environ.get("HYPOTHESIS_PROFILE", "ci").removeprefix("fpanalysis-") == "dev"
PROFILE = settings(
    max_examples=600 if DEV else 150,
    derandomize=not DEV,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
UNITS = ["U1", "U2", "U3"]

# ------------------------------------------------------------------------------------ strategies


def _snap(day: dt.date, how: str) -> dt.date:
    """``day`` itself, the first or last day of its month, or 29 February of a leap year near it."""
    if how == "first":
        return day.replace(day=1)
    if how == "last":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if how == "leap":
        year = day.year - day.year % 4
        return dt.date(year if year % 100 or year % 400 == 0 else year - 4, 2, 29)
    return day


def near(start: dt.date, lo: int, hi: int) -> st.SearchStrategy[dt.date]:
    """A day ``lo`` to ``hi`` days from ``start``, often a month's first or last day or 29 Feb."""
    return st.builds(
        _snap,
        st.integers(lo, hi).map(lambda k: start + dt.timedelta(days=k)),
        st.sampled_from(["day", "day", "day", "first", "last", "leap"]),
    )


#: Any day at all, far from the horizon or not.
ANY_DAY = st.dates(dt.date(1960, 1, 1), dt.date(2060, 12, 31))


def day(draw, start: dt.date, lo: int, hi: int, *, near_w: int = 6, none_w: int = 1):
    """Mostly a day near ``start`` (:func:`near`), now and then any day, or missing."""
    kind = draw(st.sampled_from(["near"] * near_w + ["any"] + ["none"] * none_w))
    if kind == "none":
        return None
    return draw(near(start, lo, hi) if kind == "near" else ANY_DAY)


@st.composite
def persons(draw, pid: str, sex: str, start: dt.date) -> dict:
    return {
        "person_id": pid,
        "sex": sex,
        "category": draw(st.sampled_from(["staff"] * 6 + ["floating", "outside"])),
        "unit_id": draw(st.sampled_from([*UNITS, *UNITS, None])),
        "hire_date": day(draw, start, -9000, 700),
        "leave_date": day(draw, start, -400, 1600, near_w=2, none_w=4),
    }


@st.composite
def datasets(draw):
    """A dataset of up to six certificates, its parameters, a start month and a horizon."""
    start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2031, 12, 1)))
    n = draw(st.integers(0, 6))
    people, couples, children, certs = [], [], [], []
    people.append(draw(persons("X", "F", start)))  # a payee who is neither spouse
    for i in range(n):
        people += [draw(persons(f"W{i}", "F", start)), draw(persons(f"H{i}", "M", start))]
        couples.append({"couple_id": f"C{i}", "wife_id": f"W{i}", "husband_id": f"H{i}"})
        birth = day(draw, start, -5500, 400)
        children.append({"child_id": f"K{i}", "couple_id": f"C{i}", "birth_date": birth})
        issue = day(draw, start, -5000, 400)
        certs.append(
            {
                "cert_id": f"G{i}",
                "couple_id": draw(st.sampled_from([f"C{i}"] * 9 + ["C-unknown"])),
                "child_id": draw(st.sampled_from([f"K{i}"] * 9 + ["K-unknown"])),
                "issue_date": issue,
                "payee_id": draw(st.sampled_from([f"W{i}"] * 3 + [f"H{i}"] * 2 + ["X", "P-no"])),
                "revoked_date": day(draw, start, -300, 1500, near_w=1, none_w=3),
            }
        )
    overrides = {}
    for name, values in (
        ("reward_monthly_yuan", [20, 25.01, 0.03, 30, 0]),
        ("reward_age_cap", [14, 16, 18, 30, 0]),
        ("reward_split", ["payee", "half"]),
    ):
        changes = draw(
            st.lists(st.tuples(near(start, -400, 1500), st.sampled_from(values)), max_size=3)
        )
        if changes:
            overrides[name] = {d.isoformat(): v for d, v in changes}
    tables = {
        "units": coerce("units", [{"unit_id": u, "name": u} for u in UNITS]),
        "persons": coerce("persons", people),
        "couples": coerce("couples", couples),
        "children": coerce("children", children),
        "certificates": coerce("certificates", certs),
    }
    return tables, overrides, start.year * 12 + start.month - 1, draw(st.integers(1, 48))


# ------------------------------------------------------------------------------------ both sides


def engine_fen(tables, params, start_m: int, months: int, *, horizon: bool) -> Counter:
    """The cohort engine's committed fen by (unit, month index), zeros left out."""
    seg, _ = bonus.certificate_segments(tables, with_info=False)
    cohorts = bonus.compress(
        seg, start_m, units=unit_ids(tables), max_months=months if horizon else None
    )
    fen = bonus.project_cohorts(cohorts, bonus.MonthlyParams.of(params, start_m, months))
    return Counter(
        {
            (unit, start_m + k): int(v)
            for unit, row in zip(cohorts.units, fen, strict=True)
            for k, v in enumerate(row)
            if v
        }
    )


def _day(value) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def readable_fen(tables, params, start_m: int, months: int, payers: dict | None = None) -> Counter:
    """The readable rule summed over certificates and months, by (unit, month index).

    ``payers``, when given, collects {unit: certificate rows it pays in some month} (a month
    of a zero amount included: the month is paid, at nothing).
    """
    people = {}
    for r in tables["persons"].itertuples():
        people.setdefault(
            str(r.person_id),
            bonus.Person(
                str(r.person_id),
                _text(r.category),
                _text(r.unit_id),
                _day(r.hire_date),
                _day(r.leave_date),
            ),
        )
    births = {}
    for r in tables["children"].itertuples():
        births.setdefault(str(r.child_id), _day(r.birth_date))
    couples = {}
    for r in tables["couples"].itertuples():
        couples.setdefault(str(r.couple_id), (_text(r.wife_id), _text(r.husband_id)))
    total: Counter = Counter()
    for c in tables["certificates"].itertuples():
        cert = bonus.Certificate(
            _day(c.issue_date), births.get(str(c.child_id)), _day(c.revoked_date)
        )
        wife_id, husband_id = couples.get(str(c.couple_id), (None, None))
        for k in range(months):
            paid = bonus.payments(
                cert,
                people.get(str(c.payee_id)),
                bonus.month_start(start_m + k),
                params,
                wife=people.get(wife_id),
                husband=people.get(husband_id),
            )
            for unit, fen in paid.items():
                total[(unit, start_m + k)] += fen
                if payers is not None:
                    payers.setdefault(unit, set()).add(c.Index)
    return +total  # zeros left out


# ------------------------------------------------------------------------------------ properties


@PROFILE
@given(datasets())
def test_cohort_engine_pays_what_the_readable_rule_says(case):
    tables, overrides, start_m, months = case
    params = P.with_overrides(overrides)
    want = readable_fen(tables, params, start_m, months)
    assert engine_fen(tables, params, start_m, months, horizon=True) == want
    assert engine_fen(tables, params, start_m, months, horizon=False) == want


def readable_liability(tables, params, start_m: int) -> dict[str, tuple[int, int]]:
    """The readable rule from ``start_m`` to the end of every entitlement: by unit, the
    certificates paid in any month (each once) and the fen owed."""
    max_cap = max(int(v) for _, v in params.timeline("reward_age_cap"))
    births = [b for b in tables["children"]["birth_date"] if not pd.isna(b)]
    last = max((b.year + max_cap) * 12 + b.month - 1 for b in births) if births else start_m
    months = max(last - start_m + 1, 1)
    certs: dict[str, set] = {}
    owed = readable_fen(tables, params, start_m, months, certs)
    fen: Counter = Counter()
    for (unit, _), v in owed.items():
        fen[unit] += v
    return {u: (len(certs.get(u, ())), fen[u]) for u in set(fen) | set(certs)}


@settings(PROFILE, max_examples=120 if DEV else 30)
@given(datasets())
def test_liability_is_the_readable_rule_to_the_end(case):
    # rulebook §5.5: the committed month rule over every future month (undiscounted here)
    tables, overrides, start_m, _ = case
    params = P.with_overrides({**overrides, "discount_rate": 0})
    got = bonus.liability(tables, params, bonus.month_label(start_m)).set_index("unit_id")
    have = {
        u: (int(r["certificates"]), int(r["liability_yuan"] * 100))
        for u, r in got.iterrows()
        if r["certificates"] or r["liability_yuan"]
    }
    assert have == readable_liability(tables, params, start_m)


# ------------------------------------------------------------------------------------ by hand


def _couple(wife: dict, husband: dict, **cert) -> dict[str, pd.DataFrame]:
    """One couple W, H with child K (born 2015-06-10) and certificate G (issued 2016-01-05)."""
    base = {"person_id": "W", "sex": "F", "category": "staff", "unit_id": "U1"}
    return {
        "units": coerce("units", [{"unit_id": u, "name": u} for u in UNITS]),
        "persons": coerce(
            "persons",
            [
                {**base, "hire_date": "2000-01-01", **wife},
                {**base, "person_id": "H", "sex": "M", "unit_id": "U2", **husband},
            ],
        ),
        "couples": coerce("couples", [{"couple_id": "C", "wife_id": "W", "husband_id": "H"}]),
        "children": coerce(
            "children", [{"child_id": "K", "couple_id": "C", "birth_date": "2015-06-10"}]
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "G",
                    "couple_id": "C",
                    "child_id": "K",
                    "issue_date": "2016-01-05",
                    "payee_id": "W",
                    **cert,
                }
            ],
        ),
    }


@pytest.mark.parametrize(
    "wife, husband, cert, overrides, expected",
    [
        pytest.param(
            {},
            {"hire_date": "2000-01-01", "leave_date": "2025-01-20"},
            {},
            {"reward_split": "half", "reward_monthly_yuan": 25.01},
            # January both on the payroll: 2501 = 1251 (wife, the payee: odd fen) + 1250;
            # February only the wife: her unit pays all 2501
            {("U1", "2025-01"): 1251, ("U2", "2025-01"): 1250, ("U1", "2025-02"): 2501},
            id="half-split-husband-leaves-2025-01-wife-unit-pays-2501-fen-from-february",
        ),
        pytest.param(
            {},
            {"hire_date": None},
            {"payee_id": "H"},
            {"reward_split": "half"},
            {("U1", "2025-01"): 2000, ("U1", "2025-02"): 2000},
            id="half-split-husband-never-hired-wife-pays-all",
        ),
        pytest.param(
            {"leave_date": "2025-01-31"},
            {"hire_date": "2000-01-01"},
            {"revoked_date": "2025-02-01"},
            {},
            {("U1", "2025-01"): 2000},
            id="payee-leaves-and-certificate-revoked",
        ),
        pytest.param(
            {},
            {"hire_date": "2000-01-01"},
            {"payee_id": "X"},
            {},
            {},
            id="payee-unknown-nothing-paid",
        ),
    ],
)
def test_engine_and_readable_rule_by_hand(wife, husband, cert, overrides, expected):
    tables = _couple(wife, husband, **cert)
    params = P.with_overrides(overrides)
    start_m = bonus.parse_month("2025-01")
    want = Counter({(u, bonus.parse_month(m)): v for (u, m), v in expected.items()})
    assert readable_fen(tables, params, start_m, 2) == want
    assert engine_fen(tables, params, start_m, 2, horizon=True) == want


# ------------------------------------------------------------------------------ split by month


@pytest.mark.parametrize(
    "wife, husband, cert, expected",
    [
        pytest.param(
            {},
            {"hire_date": "2000-01-01", "leave_date": "2026-03-20"},
            {},
            # March both: 2501 = 1251 (wife, the payee, has the odd fen) + 1250 (husband);
            # April the husband has left: the wife's unit pays all 2501
            {("U1", "2026-03"): 1251, ("U2", "2026-03"): 1250, ("U1", "2026-04"): 2501},
            id="half-split-husband-leaves-2026-03-wife-unit-pays-2501-fen-from-april",
        ),
        pytest.param(
            {},
            {"hire_date": "2026-04-01"},
            {},
            # March only the wife is on the payroll: 2501; April both: 1251 + 1250
            {("U1", "2026-03"): 2501, ("U1", "2026-04"): 1251, ("U2", "2026-04"): 1250},
            id="half-split-husband-hired-2026-04-wife-unit-pays-2501-fen-in-march",
        ),
        pytest.param(
            {"leave_date": "2026-03-05"},
            {"hire_date": "2000-01-01"},
            {},
            # the payee herself leaves in March: 1251 + 1250 in March, the husband's 2501 in April
            {("U1", "2026-03"): 1251, ("U2", "2026-03"): 1250, ("U2", "2026-04"): 2501},
            id="half-split-wife-payee-leaves-2026-03-husband-unit-pays-2501-fen-from-april",
        ),
        pytest.param(
            {"leave_date": "2026-03-31"},
            {"hire_date": "2000-01-01"},
            {"payee_id": "H"},
            # the husband is the payee: his half has the odd fen (1251), then all 2501
            {("U1", "2026-03"): 1250, ("U2", "2026-03"): 1251, ("U2", "2026-04"): 2501},
            id="half-split-husband-payee-wife-leaves-2026-03-his-unit-pays-2501-fen-from-april",
        ),
        pytest.param(
            {},
            {"hire_date": "2026-05-01", "leave_date": "2026-02-01"},
            {},
            # hired after leaving: never on the payroll in any month, so the wife pays all
            {("U1", "2026-03"): 2501, ("U1", "2026-04"): 2501},
            id="half-split-husband-never-on-payroll-by-month-wife-unit-pays-2501-fen",
        ),
    ],
)
def test_half_split_judged_month_by_month(wife, husband, cert, expected):
    # rulebook §5.4: who pays is judged month by month; amount 25.01 yuan = 2501 fen, child born
    # 2015-06-10 (paid through 2029-06), certificate issued 2016-01-05; horizon 2026-03 .. 2026-04
    tables = _couple(wife, husband, **cert)
    params = P.with_overrides({"reward_split": "half", "reward_monthly_yuan": 25.01})
    start_m = bonus.parse_month("2026-03")
    want = Counter({(u, bonus.parse_month(m)): v for (u, m), v in expected.items()})
    assert readable_fen(tables, params, start_m, 2) == want
    assert engine_fen(tables, params, start_m, 2, horizon=True) == want
    assert engine_fen(tables, params, start_m, 2, horizon=False) == want


# ------------------------------------------------------------------------------ liability


@pytest.mark.parametrize(
    "wife, husband, cert, overrides, expected",
    [
        pytest.param(
            {"leave_date": "2026-02-10"},
            {},
            {},
            {},
            {"U1": (1, "40.00"), "U2": (0, "0.00")},
            # the payee leaves in February: 2026-01 and 2026-02 at 20 yuan, not March
            id="payee-leaves-2026-02-liability-2-months-40-yuan",
        ),
        pytest.param(
            {},
            {},
            {"revoked_date": "2026-02-20"},
            {},
            {"U1": (1, "20.00"), "U2": (0, "0.00")},
            # revoked in February: only January is owed (the month of revocation is not paid)
            id="revoked-2026-02-liability-january-only-20-yuan",
        ),
        pytest.param(
            {},
            {"leave_date": "2026-01-15"},
            {},
            {"reward_split": "half"},
            {"U1": (1, "50.00"), "U2": (1, "10.00")},
            # half split: January 10 + 10; the husband has left, so February and March are the
            # wife's unit's alone: U1 10 + 20 + 20 = 50 (one certificate, two segments), U2 10
            id="half-split-husband-leaves-2026-01-wife-unit-owes-50-yuan-his-10",
        ),
        pytest.param(
            {},
            {"unit_id": "U1"},
            {},
            {"reward_split": "half"},
            {"U1": (1, "60.00"), "U2": (0, "0.00")},
            # both spouses in U1: 10 + 10 a month for 3 months = 60 yuan, one certificate
            id="half-split-both-spouses-in-one-unit-60-yuan-one-certificate",
        ),
        pytest.param(
            {"leave_date": "2025-12-10"},
            {},
            {},
            {},
            {"U1": (0, "0.00"), "U2": (0, "0.00")},
            id="payee-left-before-the-start-nothing-owed",
        ),
    ],
)
def test_liability_honours_leave_dates_and_revocations(wife, husband, cert, overrides, expected):
    # rulebook §5.5: the month rule over the future, recorded leave dates and revocations included.
    # Child born 2012-03-15: paid through 2026-03 (cap 14); certificate issued 2013-01-05; start
    # 2026-01; no discounting (discount_rate 0), so the liability is the months owed x 20 yuan;
    # ``certificates`` counts the certificate once per paying unit
    tables = _couple(wife, {"hire_date": "2000-01-01", **husband}, issue_date="2013-01-05", **cert)
    tables["children"]["birth_date"] = pd.Timestamp("2012-03-15")
    params = P.with_overrides({"discount_rate": 0, **overrides})
    got = bonus.liability(tables, params, "2026-01").set_index("unit_id")
    assert {
        u: (int(got.loc[u, "certificates"]), str(got.loc[u, "liability_yuan"]))
        for u in ("U1", "U2")
    } == expected
    owed: Counter = Counter()  # the readable rule over the three months left, by unit
    for (unit, _), fen in readable_fen(tables, params, bonus.parse_month("2026-01"), 3).items():
        owed[unit] += fen
    assert {u: f"{Decimal(owed[u]) / 100:.2f}" for u in ("U1", "U2")} == {
        u: yuan for u, (_, yuan) in expected.items()
    }
