"""Resident ID numbers, GB 11643-1999 (POLICY.md §8). Check characters computed by hand.

Check character: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over the first 17
digits, sum mod 11 -> "1 0 X 9 8 7 6 5 4 3 2".
"""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from fpanalysis.core import ids
from fpanalysis.core.ids import (
    check_id_number,
    make_id_number,
    normalize_id_number,
    sex_from_id,
    upgrade_15,
)

# The standard's published example: 110105 19491231 002 X.
# 1*7+1*9+0+1*5+0+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0+0+2*2 = 167; 167 mod 11 = 2 -> X.
STANDARD = "11010519491231002X"
# 15-digit 130503 670401 001 -> insert 19 -> 13050319670401001 + check:
# 1*7+3*9+0+5*5+0+3*4+1*2+9*1+6*6+7*3+0+4*9+0+1*5+0+0+1*2 = 182; 182 mod 11 = 6 -> 6.
LEGACY_15 = "130503670401001"
LEGACY_UPGRADED = "130503196704010016"
# Region 999999 is in no code list. 999999 19800101 001:
# 9*(7+9+10+5+8+4)=387, +1*2 +9*1 +8*6 +0 +0 +1*9 +0 +1*5 +0 +0 +1*2 = 462; 462 mod 11 = 0 -> 1.
UNKNOWN_REGION = "999999198001010011"
# 411722 (上蔡县, code list entry "[2000-]") for someone born 1990: stdnum.validate() refuses it.
# 4*7+1*9+1*10+7*5+2*8+2*4+1*2+9*1+9*6+0+0+1*9+0+1*5+0+0+2*2 = 189; 189 mod 11 = 2 -> X.
SHANGCAI_1990 = "41172219900101002X"
# 110105 19490230 002: the standard's sum with 1231 -> 0230 loses 1*7+3*10... = 60-48 = 12:
# 155 mod 11 = 1 -> 0. Check character right, date impossible.
FEB_30 = "110105194902300020"
# 110105 20300101 002: 7+9+5+20+2*2+3*6+1*9+1*5+2*2 = 81; 81 mod 11 = 4 -> 8.
BORN_2030 = "110105203001010028"


def codes(problems):
    return [p[0] for p in problems]


CASES = [
    # (input, kwargs, ok, normalized, birth_date, sex, error codes, warning codes)
    (STANDARD, {}, True, STANDARD, dt.date(1949, 12, 31), "F", [], []),
    (
        STANDARD,
        {"birth_date": "1949-12-31", "sex": "F"},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
    ),
    (STANDARD, {"sex": "女"}, True, STANDARD, dt.date(1949, 12, 31), "F", [], []),
    ("11010519491231002x", {}, True, STANDARD, dt.date(1949, 12, 31), "F", [], []),
    (
        "１１０１０５１９４９１２３１００２Ｘ",
        {},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
    ),
    ("\u00a0110105 19491231\u3000002x ", {}, True, STANDARD, dt.date(1949, 12, 31), "F", [], []),
    (LEGACY_15, {}, True, LEGACY_UPGRADED, dt.date(1967, 4, 1), "M", [], ["legacy_15"]),
    (
        "110105194912310021",
        {},
        False,
        "110105194912310021",
        dt.date(1949, 12, 31),
        "F",
        ["bad_check_character"],
        [],
    ),
    (STANDARD, {"sex": "M"}, False, STANDARD, dt.date(1949, 12, 31), "F", ["sex_mismatch"], []),
    (STANDARD, {"sex": "男"}, False, STANDARD, dt.date(1949, 12, 31), "F", ["sex_mismatch"], []),
    (
        STANDARD,
        {"birth_date": dt.date(1949, 12, 30)},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["birth_date_mismatch"],
        [],
    ),
    (
        STANDARD,
        {"birth_date": "1949-12-30", "sex": "M"},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["birth_date_mismatch", "sex_mismatch"],
        [],
    ),
    (UNKNOWN_REGION, {}, True, UNKNOWN_REGION, dt.date(1980, 1, 1), "M", [], ["unknown_region"]),
    (SHANGCAI_1990, {}, True, SHANGCAI_1990, dt.date(1990, 1, 1), "F", [], []),
    (FEB_30, {}, False, FEB_30, None, "F", ["bad_birth_date"], []),
    ("110105490230002", {}, False, FEB_30, None, "F", ["bad_birth_date"], ["legacy_15"]),
    (
        BORN_2030,
        {"today": "2026-11-29"},
        False,
        BORN_2030,
        dt.date(2030, 1, 1),
        "F",
        ["future_birth_date"],
        [],
    ),
    (BORN_2030, {}, True, BORN_2030, dt.date(2030, 1, 1), "F", [], []),
    ("1101051949123100", {}, False, "1101051949123100", None, None, ["bad_length"], []),
    ("11010519491231A02X", {}, False, "11010519491231A02X", None, None, ["bad_characters"], []),
    ("X1010519491231002X", {}, False, "X1010519491231002X", None, None, ["bad_characters"], []),
    ("", {}, False, "", None, None, ["empty"], []),
    (None, {}, False, "", None, None, ["empty"], []),
]
IDS = [
    "standard-example-valid-female-1949-12-31",
    "standard-agrees-with-record",
    "standard-record-sex-in-chinese",
    "lowercase-x",
    "full-width-digits-and-X",
    "nbsp-and-ideographic-spaces",
    "15-digit-upgraded-with-warning",
    "wrong-check-character",
    "sex-mismatch",
    "sex-mismatch-chinese-label",
    "birth-date-mismatch",
    "birth-date-and-sex-mismatch",
    "unknown-region-warning-still-ok",
    "abolished-era-region-accepted",
    "impossible-date-feb-30",
    "15-digit-impossible-date",
    "born-after-today",
    "no-today-no-future-test",
    "16-characters",
    "letter-inside",
    "X-not-last",
    "empty-string",
    "none",
]


@pytest.mark.parametrize(
    "value,kwargs,ok,normalized,birth_date,sex,errors,warnings", CASES, ids=IDS
)
def test_check_id_number(value, kwargs, ok, normalized, birth_date, sex, errors, warnings):
    r = check_id_number(value, **kwargs)
    assert (r.ok, r.normalized, r.birth_date, r.sex) == (ok, normalized, birth_date, sex)
    assert codes(r.errors) == errors
    assert codes(r.warnings) == warnings
    for _code, zh, en in (*r.errors, *r.warnings):
        assert zh and en and zh != en


def test_wrong_check_character_names_the_expected_one():
    ((code, zh, en),) = check_id_number("110105194912310021").errors
    assert "'X'" in en and "“X”" in zh and "'1'" in en


def test_stdnum_validate_would_refuse_what_we_accept():
    # Why ids.py does not call stdnum's validate() (STACK.md).
    assert not ric.is_valid(SHANGCAI_1990)
    assert not ric.is_valid(LEGACY_15)
    assert check_id_number(SHANGCAI_1990).ok and check_id_number(LEGACY_15).ok


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("11010519491231002x", STANDARD),
        ("１１０１０５１９４９１２３１００２ｘ", STANDARD),
        (" 110105\u00a019491231\u3000002X\n", STANDARD),
        ("\ufeff11010519491231002X\u200b", STANDARD),
        ("abc", "abc"),
        (None, ""),
        (float("nan"), ""),
    ],
    ids=[
        "lowercase-x",
        "full-width-lower-x",
        "spaces-nbsp-ideographic",
        "bom-zero-width",
        "junk-kept",
        "none",
        "nan",
    ],
)
def test_normalize_id_number(raw, expected):
    assert normalize_id_number(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        (LEGACY_15, LEGACY_UPGRADED),
        ("110105491231002", STANDARD),
        (" 130503 670401 001 ", LEGACY_UPGRADED),
    ],
    ids=["130503-1967", "standard-as-15-digit", "with-spaces"],
)
def test_upgrade_15(raw, expected):
    assert upgrade_15(raw) == expected


@pytest.mark.parametrize(
    "raw", [STANDARD, "13050367040100", "13050367040100A"], ids=["18-chars", "14-digits", "letter"]
)
def test_upgrade_15_refuses_non_15_digit(raw):
    with pytest.raises(ValueError):
        upgrade_15(raw)


@pytest.mark.parametrize(
    "region,born,seq,expected",
    [
        ("110105", dt.date(1949, 12, 31), 2, STANDARD),
        ("130503", dt.date(1967, 4, 1), 1, LEGACY_UPGRADED),
        ("999999", dt.date(1980, 1, 1), 1, UNKNOWN_REGION),
        ("411722", dt.date(1990, 1, 1), 2, SHANGCAI_1990),
    ],
    ids=["standard", "legacy-upgraded", "unknown-region", "shangcai"],
)
def test_make_id_number(region, born, seq, expected):
    assert make_id_number(region, born, seq) == expected


@pytest.mark.parametrize(
    "region,seq",
    [("11010", 1), ("11010A", 1), ("110105", 1000), ("110105", -1)],
    ids=["short-region", "letter-region", "seq-too-big", "seq-negative"],
)
def test_make_id_number_refuses_bad_arguments(region, seq):
    with pytest.raises(ValueError):
        make_id_number(region, dt.date(2000, 1, 1), seq)


@pytest.mark.parametrize(
    "value,sex",
    [(STANDARD, "F"), (LEGACY_15, "M"), (LEGACY_UPGRADED, "M"), ("11010519491231002x", "F")],
    ids=["even-002", "15-digit-odd-001", "18-digit-odd-001", "lowercase-x"],
)
def test_sex_from_id(value, sex):
    assert sex_from_id(value) == sex


def test_sex_from_id_refuses_junk():
    with pytest.raises(ValueError):
        sex_from_id("1234")


@settings(max_examples=200, deadline=None)
@given(
    region=st.sampled_from(["110105", "411722", "999999", "510000"]),
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)),
    seq=st.integers(0, 999),
)
def test_made_numbers_check_out(region, born, seq):
    n = make_id_number(region, born, seq)
    sex = "M" if seq % 2 else "F"
    r = check_id_number(n, birth_date=born, sex=sex)
    assert r.ok and r.errors == () and r.normalized == n
    assert (r.birth_date, r.sex, sex_from_id(n)) == (born, sex, sex)
    # every other last character is a wrong check character
    wrong = next(c for c in "0123456789X" if c != n[-1])
    assert codes(check_id_number(n[:-1] + wrong).errors) == ["bad_check_character"]


@pytest.mark.parametrize(
    ("body", "check"),
    [
        pytest.param("11010519491231002", "X", id="GB11643-example-X"),
        pytest.param("44052418800101001", "4", id="GB11643-example-4"),
        pytest.param("13050319670401001", "6", id="upgraded-15-digit-6"),
    ],
)
def test_check_character_scalar_and_vectorised(body, check):
    assert ids.check_char(body) == check
    assert ids.check_chars([body]).tolist() == [check]
    assert ids.check_chars(np.array([int(body)])).tolist() == [check]


def test_vectorised_check_agrees_with_scalar_on_random_bodies():
    rng = np.random.default_rng(11643)
    bodies = ["".join(map(str, rng.integers(0, 10, 17))) for _ in range(2000)]
    assert ids.check_chars(bodies).tolist() == [ids.check_char(b) for b in bodies]
    as_ints = np.array([int(b) for b in bodies], dtype=np.int64)
    assert ids.check_chars(as_ints).tolist() == [ids.check_char(b) for b in bodies]
