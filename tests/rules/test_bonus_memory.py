"""The budget engine's memory-lean paths (rulebook §5) give the hand-computed segments and cohorts.

``certificate_segments`` and ``compress`` work block by block (``parallel.BLOCK``
rows at a time) and hand pieces to two threads on large tables
(``parallel.PARALLEL_MIN``); ``compress`` holds its month columns as int32 when
they fit. These tests shrink both constants so that tiny hand-made tables
cross block boundaries and take the threaded path, and check the rows a person
can work out on paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core.schema import coerce
from fpanalysis.rules import bonus
from fpanalysis.rules.bonus import parallel
from fpanalysis.rules.bonus.months import FAR_FUTURE, month_or
from fpanalysis.rules.bonus.segments import take

HI = FAR_FUTURE  # "no end"


@pytest.fixture(params=["one-row-blocks", "default-blocks"])
def blocks(request, monkeypatch):
    """Blocks of one row and threads for two rows, or the shipped sizes."""
    if request.param == "one-row-blocks":
        monkeypatch.setattr(parallel, "BLOCK", 1)
        monkeypatch.setattr(parallel, "PARALLEL_MIN", 2)
    return request.param


@pytest.mark.parametrize(
    "values, unit, expected",
    [
        pytest.param(
            ["2024-02-29", "2025-01-01", "2000-01-01"], "ns", [24289, 24300, 24000], id="ns"
        ),
        pytest.param(
            ["1969-12-31T23:00", None, "1970-01-01"],
            "ns",
            [23639, -1, 23640],
            id="ns-before-1970-and-missing",
        ),  # floor, not toward 0
        pytest.param(
            ["1969-12-31T23:59:59", "2262-04-01", None], "s", [23639, 27147, -1], id="seconds"
        ),  # past ns range
        pytest.param([None, "1999-12-31", None], "us", [-1, 23999, -1], id="us-missing-both-ends"),
        pytest.param(["2024-02-29", "1970-01-01"], "D", [24289, 23640], id="days"),
        # months: no division, numpy's own cast
        pytest.param(["2024-02", None], "M", [24289, -1], id="months"),
        pytest.param([None, None], "ns", [-1, -1], id="all-missing"),
    ],
)
def test_month_or_blockwise(blocks, values, unit, expected):
    arr = np.array([np.datetime64(v) if v else np.datetime64("NaT") for v in values]).astype(
        f"datetime64[{unit}]"
    )
    out = month_or(arr, -1, np.int32)
    assert out.dtype == np.int32
    assert out.tolist() == expected


@pytest.mark.parametrize(
    "pos, expected",
    [
        pytest.param([2, 0, 1], [30, 10, 20], id="all-found"),
        pytest.param([2, -1, 0], [30, -9, 10], id="one-missing"),
        pytest.param([-1, -1], [-9, -9], id="all-missing"),
    ],
)
def test_take(pos, expected):
    assert take(np.array([10, 20, 30]), np.array(pos), -9).tolist() == expected


def _tables(int_ids: bool) -> dict[str, pd.DataFrame]:
    """Two certificates.

    Certificate 0: wife P0 (staff, unit U1, hired 2010-03) and husband P1
    (staff, U2, hired 2026-05, leaves 2027-02); child born 2015-06; issued
    2016-01; the wife is the payee. Certificate 1: wife P2 outside the bureau,
    husband P3 (staff, U1, hired 2000-01, leaves 2025-12) is the payee; child
    born 2020-01; issued 2020-03, revoked 2027-07.
    """
    t = {
        "persons": coerce(
            "persons",
            [
                {
                    "person_id": "P0",
                    "category": "staff",
                    "unit_id": "U1",
                    "hire_date": "2010-03-15",
                },
                {
                    "person_id": "P1",
                    "category": "staff",
                    "unit_id": "U2",
                    "hire_date": "2026-05-10",
                    "leave_date": "2027-02-01",
                },
                {"person_id": "P2", "category": "outside"},
                {
                    "person_id": "P3",
                    "category": "staff",
                    "unit_id": "U1",
                    "hire_date": "2000-01-01",
                    "leave_date": "2025-12-31",
                },
            ],
        ),
        "couples": coerce(
            "couples",
            [
                {"couple_id": "K0", "wife_id": "P0", "husband_id": "P1"},
                {"couple_id": "K1", "wife_id": "P2", "husband_id": "P3"},
            ],
        ),
        "children": coerce(
            "children",
            [
                {"child_id": "H0", "couple_id": "K0", "birth_date": "2015-06-20"},
                {"child_id": "H1", "couple_id": "K1", "birth_date": "2020-01-05"},
            ],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "C0",
                    "couple_id": "K0",
                    "child_id": "H0",
                    "issue_date": "2016-01-10",
                    "payee_id": "P0",
                },
                {
                    "cert_id": "C1",
                    "couple_id": "K1",
                    "child_id": "H1",
                    "issue_date": "2020-03-01",
                    "payee_id": "P3",
                    "revoked_date": "2027-07-15",
                },
            ],
        ),
    }
    if int_ids:  # the province form: integer ids numbered from 0 (the "P0" -> 0)
        for df in t.values():
            for c in df.columns:
                if c.endswith("_id") and c != "unit_id":
                    df[c] = df[c].str[1:].astype("int64")
    return t


@pytest.mark.parametrize(
    "int_ids",
    [
        pytest.param(True, id="integer-ids"),
        pytest.param(False, id="string-ids"),
    ],
)
def test_segments_by_hand(blocks, int_ids):
    seg, _ = bonus.certificate_segments(_tables(int_ids), with_info=False)
    c0, c1 = (0, 1) if int_ids else ("C0", "C1")
    payee, half = bonus.MODES.index("payee"), bonus.MODES.index("half")
    full, major, minor = (bonus.SHARES.index(s) for s in ("full", "major", "minor"))
    # months: 2015-06 = 24185, 2016-01 = 24192, 2020-01 = 24240, 2020-03 = 24242,
    # 2025-12 = 24311, 2026-05 = 24316, 2027-02 = 24325, revoked 2027-07 -> last paid 24329
    expected = [
        (c0, payee, "U1", full, 24192, HI, 24185),  # the wife pays all under the payee split
        # the husband, until he leaves (before revocation)
        (c1, payee, "U1", full, 24242, 24311, 24240),
        # split = half, month by month: the wife alone until the husband is hired (2026-05) ...
        (c0, half, "U1", full, 24192, 24315, 24185),
        # ... her half, with the odd fen (she is the payee), while both are on the payroll ...
        (c0, half, "U1", major, 24316, 24325, 24185),
        # ... and all of it again from the month after he leaves (2027-03)
        (c0, half, "U1", full, 24326, HI, 24185),
        # only the husband is ever on the payroll: all of it
        (c1, half, "U1", full, 24242, 24311, 24240),
        (c0, half, "U2", minor, 24316, 24325, 24185),  # husband's half while he is on the payroll
    ]
    got = sorted(
        seg.astype({"unit_id": "str"}).itertuples(index=False, name=None),
        key=lambda r: (r[1], r[2], r[3], str(r[0]), r[4]),
    )
    assert got == sorted(expected, key=lambda r: (r[1], r[2], r[3], str(r[0]), r[4]))
    assert seg["cert_id"].dtype == (
        "int64" if int_ids else _tables(False)["certificates"]["cert_id"].dtype
    )
    assert [str(t) for t in seg.dtypes[["first_m", "end_m", "birth_m"]]] == ["int64"] * 3


def _segments(rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["cert_id", "mode", "unit_id", "share", "first_m", "end_m", "birth_m"]
    ).astype({"unit_id": "category"})


@pytest.mark.parametrize(
    "rows, max_months, expected",
    [
        pytest.param(  # the compress docstring's case: issued before the start -> one cohort of two
            [
                ("A", 0, "U1", 0, 24000, HI, 24200),
                ("B", 0, "U1", 0, 24100, HI, 24200),
                ("C", 0, "U1", 0, 24400, HI, 24200),
            ],
            None,
            [(24300, 24560, 24200, 2), (24400, 24560, 24200, 1)],  # ends at the 30th birthday
            id="docstring-case",
        ),
        pytest.param(  # horizon 2025-01 .. 2025-12 (24300 .. 24311)
            [
                ("A", 0, "U1", 0, 24000, 24311, 24000),  # ends with the horizon: typical
                ("B", 0, "U1", 0, 24000, 24310, 24000),  # leaves a month before: atypical
                ("C", 0, "U1", 0, 24000, 24305, 23945),  # ends on the 30th birthday month: typical
                ("D", 0, "U1", 0, 24000, 24299, 24000),  # ended before the start: dropped
                ("E", 0, "U1", 0, 24312, HI, 24000),
            ],  # starts after the horizon: dropped
            12,
            [(24300, 24305, 23945, 1), (24300, 24310, 24000, 1), (24300, 24311, 24000, 1)],
            id="horizon-typical-atypical-dropped",
        ),
        pytest.param(  # a birth month beyond int32 (a corrupt date): the int64 path, same rule
            [("A", 0, "U1", 0, 24000, HI, 3 * 10**9), ("B", 0, "U1", 0, 24000, HI, 24200)],
            None,
            [(24300, 24560, 24200, 1), (24300, HI, 3 * 10**9, 1)],
            id="int64-months",
        ),
    ],
)
def test_compress_by_hand(blocks, rows, max_months, expected):
    c = bonus.compress(_segments(rows), 24300, max_months=max_months)
    got = list(
        zip(c.first_m.tolist(), c.end_m.tolist(), c.birth_m.tolist(), c.count.tolist(), strict=True)
    )
    assert got == expected
    assert c.units == ("U1",)
    assert [a.dtype for a in (c.first_m, c.end_m, c.birth_m, c.count)] == [np.int64] * 4
