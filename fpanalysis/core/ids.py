"""Resident ID numbers by GB 11643-1999 (rulebook §8): normalising a number as typed, the check
character one at a time (:func:`check_char`) and vectorised over numpy arrays of digits
(:func:`body_digits`, :func:`check_indices`, :func:`check_chars`, what validation uses for a
province's millions of numbers), the upgrade of a 15-digit legacy number, the sex digit, whether
a region code is known, and :func:`check_id_number`, the full check of one number against the
person's record (choices: ``docs/design.md``, "ID numbers").

Examples:
    >>> r = check_id_number("11010519491231002X")
    >>> r.ok, r.birth_date, r.sex
    (True, datetime.date(1949, 12, 31), 'F')
    >>> upgrade_15("110105491231002")
    '11010519491231002X'
    >>> normalize_id_number(" １１０１０５１９４９１２３１００２ｘ ")
    '11010519491231002X'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from stdnum.cn import ric

# Characters a pasted number may carry that are not part of it: ASCII, no-break,
# ideographic (full-width) and zero-width spaces, and a BOM from a CSV cell.
_SPACES_RE = re.compile(r"[\s\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff]+")
# Full-width digits and X (an IME in full-width mode types these).
_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "X", "x": "X"}
)
_RE_18 = re.compile(r"^\d{17}[\dX]$")
_RE_15 = re.compile(r"^\d{15}$")

Problem = tuple[str, str, str]  # (code, message_zh, message_en)


@dataclass(frozen=True)
class IdCheck:
    """The result of :func:`check_id_number`.

    Attributes:
        ok: no errors (warnings allowed).
        normalized: the number after :func:`normalize_id_number`, and upgraded to
            18 characters when it was a sound 15-digit number.
        birth_date: the birth date the number encodes, or None when it has none.
        sex: ``'F'`` or ``'M'`` from the sequence, or None.
        errors: ``(code, zh, en)`` for each error.
        warnings: ``(code, zh, en)`` for each warning.
    """

    ok: bool
    normalized: str
    birth_date: dt.date | None
    sex: str | None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def normalize_id_number(s: Any) -> str:
    """Tidy a typed or pasted ID number without judging it.

    Strips every kind of space (ordinary, no-break, full-width, zero-width),
    turns full-width digits and ``Ｘ`` into ASCII and a lowercase ``x`` into ``X``.
    A missing value (None/NaN) gives ``""``.

    Examples:
        >>> normalize_id_number("110105 19491231 002x")
        '11010519491231002X'
        >>> normalize_id_number(None)
        ''
    """
    if s is None or (isinstance(s, float) and s != s):
        return ""
    return _SPACES_RE.sub("", str(s)).translate(_FULLWIDTH)


#: GB 11643 weights of the first 17 digits, and the check character of each sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def check_char(first17: str) -> str:
    """The check character of a 17-digit body (python-stdnum).

    Examples:
        >>> check_char("11010519491231002")
        'X'
    """
    # stdnum ignores the last character it is given: pass a placeholder.
    return ric.calc_check_digit(first17 + "0")


def body_digits(bodies: Any) -> np.ndarray:
    """The digits of 17-digit bodies as an int32 array of shape (17, n), position-major.

    ``bodies`` holds 17-character strings, or whole numbers below 10**17.

    Examples:
        >>> body_digits(["11010519491231002"])[:, 0].tolist()[:6]
        [1, 1, 0, 1, 0, 5]
        >>> body_digits(np.array([11010519491231002]))[:, 0].tolist()[-3:]
        [0, 0, 2]
    """
    b = np.asarray(bodies)
    if b.dtype.kind in "iu":
        rest = b.astype(np.int64)
        out = np.empty((17, rest.size), dtype=np.int32)
        for j in range(16, -1, -1):  # the last digit first
            out[j] = rest % 10
            rest = rest // 10
        return out
    raw = np.asarray(b, dtype="S17")
    return np.ascontiguousarray(raw.view(np.uint8).reshape(raw.size, 17).T).astype(np.int32) - 48


def check_indices(digits: np.ndarray) -> np.ndarray:
    """Weighted sum mod 11 of each column of a (17, n) digit array.

    The result indexes ``CHECK_CHARACTERS``: one pass per digit position, not a loop over rows.
    """
    total = np.zeros(digits.shape[1], dtype=np.int32)
    for j, w in enumerate(ID_WEIGHTS):
        total += digits[j] * w
    return total % 11


def check_chars(bodies: Any) -> np.ndarray:
    """GB 11643 check characters of many 17-digit bodies at once.

    The vectorised :func:`check_char`.

    Examples:
        >>> check_chars(["11010519491231002", "13050319670401001"]).tolist()
        ['X', '6']
    """
    if np.asarray(bodies).size == 0:
        return np.array([], dtype="U1")
    return np.array(list(CHECK_CHARACTERS))[check_indices(body_digits(bodies))]


def upgrade_15(s: Any) -> str:
    """Upgrade a 15-digit legacy number to 18 characters (GB 11643-1999).

    Inserts ``19`` before the two-digit year and appends the check character.

    Raises:
        ValueError: ``s`` is not 15 digits after normalisation.

    Examples:
        >>> upgrade_15("130503670401001")
        '130503196704010016'
    """
    n = normalize_id_number(s)
    if not _RE_15.match(n):
        raise ValueError(f"not a 15-digit ID number: {s!r}")
    body = n[:6] + "19" + n[6:]
    return body + check_char(body)


def make_id_number(region: str, birth_date: dt.date, seq: int) -> str:
    """Build a valid 18-character number (for the synthetic data generator).

    Args:
        region: 6-digit region code.
        birth_date: the holder's birth date.
        seq: sequence 0-999; odd for a man, even for a woman.

    Examples:
        >>> make_id_number("110105", dt.date(1949, 12, 31), 2)
        '11010519491231002X'
    """
    if not re.fullmatch(r"\d{6}", str(region)):
        raise ValueError(f"region must be 6 digits: {region!r}")
    if not 0 <= int(seq) <= 999:
        raise ValueError(f"seq must be 0-999: {seq!r}")
    body = f"{region}{birth_date:%Y%m%d}{int(seq):03d}"
    return body + check_char(body)


def sex_from_id(s: Any) -> str:
    """``'M'`` when the sequence is odd, ``'F'`` when even (15 or 18 characters).

    Raises:
        ValueError: not a 15- or 18-character number.

    Examples:
        >>> sex_from_id("11010519491231002X"), sex_from_id("130503670401001")
        ('F', 'M')
    """
    n = normalize_id_number(s)
    if _RE_15.match(n):
        n = upgrade_15(n)
    if not _RE_18.match(n):
        raise ValueError(f"not an ID number: {s!r}")
    return "M" if int(n[16]) % 2 else "F"


@lru_cache(maxsize=4096)
def region_known(region: str) -> bool:
    """Whether stdnum's region code list has a county entry for ``region``.

    Examples:
        >>> region_known("110105"), region_known("999999")
        (True, False)
    """
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(region) for k, v in props.items()}
    return "county" in info


_SEX_ALIASES = {"F": "F", "M": "M", "女": "F", "男": "M", "f": "F", "m": "M"}
_SEX_ZH = {"F": "女", "M": "男"}


def _as_date(v: Any) -> dt.date | None:
    if v is None:
        return None
    # fast path: validate calls this once per row
    if isinstance(v, dt.datetime) and v == v:  # Timestamp too; NaT != NaT
        return v.date()
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    try:
        import pandas as pd

        if pd.isna(v):
            return None
        return pd.Timestamp(v).date()
    except (TypeError, ValueError):
        return None


def check_id_number(
    s: Any,
    birth_date: Any = None,
    sex: str | None = None,
    today: Any = None,
) -> IdCheck:
    """Check a resident ID number, and against the person's record (rulebook §8).

    Args:
        s: the number as typed (it is normalised first).
        birth_date: the birth date on the person's record (date, Timestamp or
            ``YYYY-MM-DD``); None skips the comparison.
        sex: the sex on the record (``F``/``M`` or ``女``/``男``); None skips it.
        today: a birth date after this day is an error; None skips the test.

    Returns:
        An :class:`IdCheck`. Error codes: ``empty``, ``bad_length``,
        ``bad_characters``, ``bad_birth_date``, ``future_birth_date``,
        ``bad_check_character``, ``birth_date_mismatch``, ``sex_mismatch``.
        Warning codes: ``legacy_15``, ``unknown_region``.

    Examples:
        >>> r = check_id_number("110105194912310021")
        >>> r.ok, r.errors[0][0], r.errors[0][2]
        (False, 'bad_check_character', "wrong check character '1'; expected 'X'")
        >>> check_id_number("11010519491231002X", sex="M").errors[0][0]
        'sex_mismatch'
    """
    n = normalize_id_number(s)
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def done() -> IdCheck:
        return IdCheck(not errors, n, born, sex_id, tuple(errors), tuple(warnings))

    born: dt.date | None = None
    sex_id: str | None = None
    if not n:
        errors.append(("empty", "身份证号为空", "the ID number is empty"))
        return done()
    if _RE_15.match(n):
        n = upgrade_15(n)
        warnings.append(
            (
                "legacy_15",
                f"15 位旧身份证号，已升级为 18 位：{n}",
                f"15-digit legacy ID number, upgraded to 18 characters: {n}",
            )
        )
    elif len(n) not in (15, 18):
        errors.append(
            (
                "bad_length",
                f"身份证号应为 18 位（或 15 位旧号），实为 {len(n)} 位",
                f"an ID number has 18 characters (or 15 digits, legacy); this one has {len(n)}",
            )
        )
        return done()
    elif not _RE_18.match(n):
        errors.append(
            (
                "bad_characters",
                "身份证号只能是数字，最后一位可以是 X",
                "an ID number is digits only, with X allowed as the last character",
            )
        )
        return done()

    sex_id = "M" if int(n[16]) % 2 else "F"
    try:
        born = ric.get_birth_date(n)
    except Exception:  # stdnum raises InvalidComponent for an impossible date
        errors.append(
            (
                "bad_birth_date",
                f"身份证号中的出生日期 {n[6:14]} 不存在",
                f"the birth date in the ID number, {n[6:14]}, does not exist",
            )
        )
    today_d = _as_date(today)
    if born is not None and today_d is not None and born > today_d:
        errors.append(
            (
                "future_birth_date",
                f"身份证号中的出生日期 {born} 晚于 {today_d}",
                f"the birth date in the ID number, {born}, is after {today_d}",
            )
        )
    expected = check_char(n[:17])
    if n[17] != expected:
        errors.append(
            (
                "bad_check_character",
                f"校验码错误：末位为“{n[17]}”，应为“{expected}”",
                f"wrong check character '{n[17]}'; expected '{expected}'",
            )
        )
    record_born = _as_date(birth_date)
    if born is not None and record_born is not None and born != record_born:
        errors.append(
            (
                "birth_date_mismatch",
                f"身份证号中的出生日期 {born} 与登记的出生日期 {record_born} 不一致",
                f"the birth date in the ID number, {born}, disagrees with the recorded "
                f"{record_born}",
            )
        )
    if sex is not None and not (isinstance(sex, float) and sex != sex):
        record_sex = _SEX_ALIASES.get(str(sex).strip())
        if record_sex is not None and record_sex != sex_id:
            errors.append(
                (
                    "sex_mismatch",
                    f"身份证号表示性别为{_SEX_ZH[sex_id]}，登记为{_SEX_ZH[record_sex]}",
                    f"the ID number says sex {sex_id}; the record says {record_sex}",
                )
            )
    if not region_known(n[:6]):
        warnings.append(
            (
                "unknown_region",
                f"地区码 {n[:6]} 不在代码表中（可能已撤销，仅提示）",
                f"region code {n[:6]} is not in the code list (perhaps abolished; a warning only)",
            )
        )
    return done()
