"""Resident ID numbers, GB 11643-1999 (rulebook §8). Check characters computed by hand.

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
    pytest.param(
        STANDARD,
        {},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="standard-example-valid-female-1949-12-31",
    ),
    pytest.param(
        STANDARD,
        {"birth_date": "1949-12-31", "sex": "F"},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="standard-agrees-with-record",
    ),
    pytest.param(
        STANDARD,
        {"sex": "女"},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="standard-record-sex-in-chinese",
    ),
    pytest.param(
        "11010519491231002x",
        {},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="lowercase-x",
    ),
    pytest.param(
        "１１０１０５１９４９１２３１００２Ｘ",
        {},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="full-width-digits-and-X",
    ),
    pytest.param(
        "\u00a0110105 19491231\u3000002x ",
        {},
        True,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        [],
        [],
        id="nbsp-and-ideographic-spaces",
    ),
    pytest.param(
        LEGACY_15,
        {},
        True,
        LEGACY_UPGRADED,
        dt.date(1967, 4, 1),
        "M",
        [],
        ["legacy_15"],
        id="15-digit-upgraded-with-warning",
    ),
    pytest.param(
        "110105194912310021",
        {},
        False,
        "110105194912310021",
        dt.date(1949, 12, 31),
        "F",
        ["bad_check_character"],
        [],
        id="wrong-check-character",
    ),
    pytest.param(
        STANDARD,
        {"sex": "M"},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["sex_mismatch"],
        [],
        id="sex-mismatch",
    ),
    pytest.param(
        STANDARD,
        {"sex": "男"},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["sex_mismatch"],
        [],
        id="sex-mismatch-chinese-label",
    ),
    pytest.param(
        STANDARD,
        {"birth_date": dt.date(1949, 12, 30)},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["birth_date_mismatch"],
        [],
        id="birth-date-mismatch",
    ),
    pytest.param(
        STANDARD,
        {"birth_date": "1949-12-30", "sex": "M"},
        False,
        STANDARD,
        dt.date(1949, 12, 31),
        "F",
        ["birth_date_mismatch", "sex_mismatch"],
        [],
        id="birth-date-and-sex-mismatch",
    ),
    pytest.param(
        UNKNOWN_REGION,
        {},
        True,
        UNKNOWN_REGION,
        dt.date(1980, 1, 1),
        "M",
        [],
        ["unknown_region"],
        id="unknown-region-warning-still-ok",
    ),
    pytest.param(
        SHANGCAI_1990,
        {},
        True,
        SHANGCAI_1990,
        dt.date(1990, 1, 1),
        "F",
        [],
        [],
        id="abolished-era-region-accepted",
    ),
    pytest.param(
        FEB_30, {}, False, FEB_30, None, "F", ["bad_birth_date"], [], id="impossible-date-feb-30"
    ),
    pytest.param(
        "110105490230002",
        {},
        False,
        FEB_30,
        None,
        "F",
        ["bad_birth_date"],
        ["legacy_15"],
        id="15-digit-impossible-date",
    ),
    pytest.param(
        BORN_2030,
        {"today": "2026-11-29"},
        False,
        BORN_2030,
        dt.date(2030, 1, 1),
        "F",
        ["future_birth_date"],
        [],
        id="born-after-today",
    ),
    pytest.param(
        BORN_2030,
        {},
        True,
        BORN_2030,
        dt.date(2030, 1, 1),
        "F",
        [],
        [],
        id="no-today-no-future-test",
    ),
    pytest.param(
        "1101051949123100",
        {},
        False,
        "1101051949123100",
        None,
        None,
        ["bad_length"],
        [],
        id="16-characters",
    ),
    pytest.param(
        "11010519491231A02X",
        {},
        False,
        "11010519491231A02X",
        None,
        None,
        ["bad_characters"],
        [],
        id="letter-inside",
    ),
    pytest.param(
        "X1010519491231002X",
        {},
        False,
        "X1010519491231002X",
        None,
        None,
        ["bad_characters"],
        [],
        id="X-not-last",
    ),
    pytest.param("", {}, False, "", None, None, ["empty"], [], id="empty-string"),
    pytest.param(None, {}, False, "", None, None, ["empty"], [], id="none"),
]


@pytest.mark.parametrize("value,kwargs,ok,normalized,birth_date,sex,errors,warnings", CASES)
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
    # Why ids.py does not call stdnum's validate().
    assert not ric.is_valid(SHANGCAI_1990)
    assert not ric.is_valid(LEGACY_15)
    assert check_id_number(SHANGCAI_1990).ok and check_id_number(LEGACY_15).ok


@pytest.mark.parametrize(
    "raw,expected",
    [
        pytest.param("11010519491231002x", STANDARD, id="lowercase-x"),
        pytest.param("１１０１０５１９４９１２３１００２ｘ", STANDARD, id="full-width-lower-x"),
        pytest.param(" 110105\u00a019491231\u3000002X\n", STANDARD, id="spaces-nbsp-ideographic"),
        pytest.param("\ufeff11010519491231002X\u200b", STANDARD, id="bom-zero-width"),
        pytest.param("abc", "abc", id="junk-kept"),
        pytest.param(None, "", id="none"),
        pytest.param(float("nan"), "", id="nan"),
    ],
)
def test_normalize_id_number(raw, expected):
    assert normalize_id_number(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        pytest.param(LEGACY_15, LEGACY_UPGRADED, id="130503-1967"),
        pytest.param("110105491231002", STANDARD, id="standard-as-15-digit"),
        pytest.param(" 130503 670401 001 ", LEGACY_UPGRADED, id="with-spaces"),
    ],
)
def test_upgrade_15(raw, expected):
    assert upgrade_15(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(STANDARD, id="18-chars"),
        pytest.param("13050367040100", id="14-digits"),
        pytest.param("13050367040100A", id="letter"),
    ],
)
def test_upgrade_15_refuses_non_15_digit(raw):
    with pytest.raises(ValueError):
        upgrade_15(raw)


@pytest.mark.parametrize(
    "region,born,seq,expected",
    [
        pytest.param("110105", dt.date(1949, 12, 31), 2, STANDARD, id="standard"),
        pytest.param("130503", dt.date(1967, 4, 1), 1, LEGACY_UPGRADED, id="legacy-upgraded"),
        pytest.param("999999", dt.date(1980, 1, 1), 1, UNKNOWN_REGION, id="unknown-region"),
        pytest.param("411722", dt.date(1990, 1, 1), 2, SHANGCAI_1990, id="shangcai"),
    ],
)
def test_make_id_number(region, born, seq, expected):
    assert make_id_number(region, born, seq) == expected


@pytest.mark.parametrize(
    "region,seq",
    [
        pytest.param("11010", 1, id="short-region"),
        pytest.param("11010A", 1, id="letter-region"),
        pytest.param("110105", 1000, id="seq-too-big"),
        pytest.param("110105", -1, id="seq-negative"),
    ],
)
def test_make_id_number_refuses_bad_arguments(region, seq):
    with pytest.raises(ValueError):
        make_id_number(region, dt.date(2000, 1, 1), seq)


@pytest.mark.parametrize(
    "value,sex",
    [
        pytest.param(STANDARD, "F", id="even-002"),
        pytest.param(LEGACY_15, "M", id="15-digit-odd-001"),
        pytest.param(LEGACY_UPGRADED, "M", id="18-digit-odd-001"),
        pytest.param("11010519491231002x", "F", id="lowercase-x"),
    ],
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
