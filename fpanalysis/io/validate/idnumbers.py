"""Resident ID numbers checked by the rules of rulebook §8 (:mod:`fpanalysis.core.ids`), by
whole columns: a province holds tens of millions of numbers, so numbers of ASCII digits and
``X`` are checked by numpy (check character, birth date, sex digit, 15-digit upgrade, region
code) and the unusual rest one by one, with exactly the problems and messages of
:func:`fpanalysis.core.ids.check_id_number`; two persons with one number are a warning. A key
column that holds ID numbers (households numbered by the head's ID) is warned about once per
column (rulebook §7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fpanalysis.core import ids
from fpanalysis.core.dataset import Dataset, Problem
from fpanalysis.core.privacy import id_shaped
from fpanalysis.core.textnumbers import text_layout
from fpanalysis.io.validate.findings import Finding, loaded_columns, map_values

__all__ = ["KEY_ID_RULE", "id_number_findings", "key_id_problems"]

#: The rule of the warning that a key column holds resident ID numbers.
KEY_ID_RULE = "key_id_numbers"

#: Numbers checked at once by numpy (their text and digits are held while checked).
_CHUNK = 1_000_000


def _id_findings(
    table: str,
    df: pd.DataFrame,
    column: str,
    births: pd.Series,
    sexes: pd.Series,
    subject: tuple[str, str],
) -> list[Finding]:
    """Check ``df[column]`` by the rules of :func:`fpanalysis.core.ids.check_id_number`.

    Vectorised over the column (a province has tens of millions of numbers):
    numbers written with ASCII digits and ``X`` only are checked by numpy over
    their 17 digits — check character (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8
    4 2, ``10X98765432``), birth date, sex digit, 15-digit upgrade, region
    code — giving exactly the problems and messages ``check_id_number`` gives;
    any other value (spaces, full-width digits, a lowercase ``x``, other
    scripts, empty) goes through ``check_id_number`` itself, one by one.
    """
    v = df[column]
    has = v.notna()
    if not has.any():
        return []
    rows = df.index[has]
    vals = v[has].astype("str")
    b = births[has]
    if not pd.api.types.is_datetime64_any_dtype(b):
        b = pd.to_datetime(b, errors="coerce")
    sx = sexes[has]
    # the recorded sex as a code (1 M, 0 F, -1 anything else or missing): no Python object
    # per person for the numbers checked by whole columns
    male, female = (sx.eq(c).fillna(False).to_numpy(dtype=bool) for c in ("M", "F"))
    sex_code = np.select([male, female], [1, 0], -1).astype(np.int8)
    found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}

    def add(sev: str, code: str, where: np.ndarray, zh, en) -> None:
        if len(where):
            found.setdefault((sev, code), []).append(
                (
                    np.asarray(rows[where]),
                    np.asarray(zh, dtype=object),
                    np.asarray(en, dtype=object),
                )
            )

    shapes = _shapes(vals)
    plain = shapes.plain
    _id_rowwise(np.flatnonzero(~plain), vals, b, sx, add)
    plain_pos = np.flatnonzero(plain)
    for start in range(0, len(plain_pos), _CHUNK):  # bounded temporaries on a province
        _id_vectorised(plain_pos[start : start + _CHUNK], vals, b, sex_code, add, shapes)

    out = []
    for (sev, code), chunks in found.items():
        r = np.concatenate([c[0] for c in chunks])
        zh = np.concatenate([c[1] for c in chunks])
        en = np.concatenate([c[2] for c in chunks])
        msgs = pd.DataFrame(
            {
                "message_zh": [f"{subject[0]}{x}" for x in zh],
                "message_en": [f"{subject[1]}{x}" for x in en],
            },
            index=pd.Index(r),
        )
        rule = code if str(code).startswith("id") else f"id_{code}"
        out.append(
            Finding(
                table,
                pd.Index(r),
                column,
                rule,
                msgs["message_zh"].iloc[0],
                msgs["message_en"].iloc[0],
                sev,
                messages=msgs,
            )
        )
    return out


def _id_rowwise(pos: np.ndarray, vals: pd.Series, births: pd.Series, sexes: pd.Series, add) -> None:
    """The unusual values: :func:`fpanalysis.core.ids.check_id_number` row by row (few rows)."""

    for i in pos:
        bb, s = births.iloc[i], sexes.iloc[i]
        res = ids.check_id_number(
            vals.iloc[i],
            birth_date=None if pd.isna(bb) else pd.Timestamp(bb).date(),
            sex=None if (s is None or pd.isna(s) or s not in ("F", "M")) else s,
        )
        for sev, items in (("error", res.errors), ("warning", res.warnings)):
            for code, zh, en in items:
                add(sev, code, np.array([i]), [zh], [en])


_ID_CHECK = np.frombuffer(ids.CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)
_SEX_ZH = {"F": "女", "M": "男"}


def _id_vectorised(
    pos: np.ndarray,
    vals: pd.Series,
    births: pd.Series,
    sexes: np.ndarray,
    add,
    shapes: _Shapes,
) -> None:
    """Numbers of ASCII digits and ``X``: the rules of ``check_id_number`` by whole columns.
    ``sexes``: the recorded sex of each of ``vals`` as a code (1 M, 0 F, -1 none);
    ``shapes``: :func:`_shapes` of ``vals``."""

    if not pos.size:
        return
    sub = vals.iloc[pos]
    length, has_x = shapes.length[pos], shapes.has_x[pos]
    x_last_only = shapes.x_last[pos]
    is15 = (length == 15) & ~has_x
    is18 = (length == 18) & (~has_x | x_last_only)
    bad_len = (length != 15) & (length != 18)
    add(
        "error",
        "bad_length",
        pos[bad_len],
        [f"身份证号应为 18 位（或 15 位旧号），实为 {n} 位" for n in length[bad_len]],
        [
            f"an ID number has 18 characters (or 15 digits, legacy); this one has {n}"
            for n in length[bad_len]
        ],
    )
    bad_chars = ~bad_len & ~is15 & ~is18
    k = int(bad_chars.sum())
    add(
        "error",
        "bad_characters",
        pos[bad_chars],
        ["身份证号只能是数字，最后一位可以是 X"] * k,
        ["an ID number is digits only, with X allowed as the last character"] * k,
    )
    ok = is15 | is18
    if not ok.any():
        return
    # 18-character form: a 15-digit number gets "19" before its year and a computed check character
    buf = _id_bytes(sub, is18, is15)[ok]
    legacy = is15[ok]
    if legacy.any():
        old = buf[legacy, :15].copy()
        buf[legacy, :6] = old[:, :6]
        buf[legacy, 6:8] = np.frombuffer(b"19", dtype=np.uint8)
        buf[legacy, 8:17] = old[:, 6:15]
    # one contiguous row per digit position (position-major), so each pass reads memory in order
    digits = np.subtract(np.ascontiguousarray(buf[:, :17].T), 48, dtype=np.int32)
    expected = _ID_CHECK[ids.check_indices(digits)]
    buf[legacy, 17] = expected[legacy]

    def full(mask: np.ndarray) -> np.ndarray:  # the 18-character numbers of some rows, as text
        return buf[mask].view("S18").ravel().astype(str)

    at = pos[ok]
    if legacy.any():
        up = full(legacy)
        add(
            "warning",
            "legacy_15",
            at[legacy],
            [f"15 位旧身份证号，已升级为 18 位：{n}" for n in up],
            [f"15-digit legacy ID number, upgraded to 18 characters: {n}" for n in up],
        )
    sex_id = (digits[16] % 2).astype(np.int8)  # 1 M, 0 F, as the codes of ``sexes``
    y = (digits[6] * 1000 + digits[7] * 100 + digits[8] * 10 + digits[9]).astype(np.int64)
    m = (digits[10] * 10 + digits[11]).astype(np.int64)
    d = (digits[12] * 10 + digits[13]).astype(np.int64)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m - 1, 0, 11)]
    month_days = month_days + ((m == 2) & leap)
    valid = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= month_days)
    bad_date = ~valid
    add(
        "error",
        "bad_birth_date",
        at[bad_date],
        [f"身份证号中的出生日期 {n[6:14]} 不存在" for n in full(bad_date)],
        [f"the birth date in the ID number, {n[6:14]}, does not exist" for n in full(bad_date)],
    )
    wrong = ~legacy & (buf[:, 17] != expected)
    got = buf[wrong, 17].tobytes().decode("ascii")
    exp = expected[wrong].tobytes().decode("ascii")
    add(
        "error",
        "bad_check_character",
        at[wrong],
        [f"校验码错误：末位为“{g}”，应为“{e}”" for g, e in zip(got, exp, strict=True)],
        [f"wrong check character '{g}'; expected '{e}'" for g, e in zip(got, exp, strict=True)],
    )
    rec = births.iloc[at]
    known = rec.notna().to_numpy(dtype=bool)
    rec_ymd = np.where(
        known,
        (rec.dt.year.fillna(0) * 10000 + rec.dt.month.fillna(0) * 100 + rec.dt.day.fillna(0))
        .to_numpy(dtype="float64")
        .astype(np.int64),
        0,
    )
    mismatch = valid & known & (rec_ymd != y * 10000 + m * 100 + d)
    born = [
        f"{a:04d}-{b_:02d}-{c:02d}"
        for a, b_, c in zip(y[mismatch], m[mismatch], d[mismatch], strict=True)
    ]
    recorded = [f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}" for x in rec_ymd[mismatch]]
    add(
        "error",
        "birth_date_mismatch",
        at[mismatch],
        [
            f"身份证号中的出生日期 {a} 与登记的出生日期 {r} 不一致"
            for a, r in zip(born, recorded, strict=True)
        ],
        [
            f"the birth date in the ID number, {a}, disagrees with the recorded {r}"
            for a, r in zip(born, recorded, strict=True)
        ],
    )
    rec_sex = sexes[at]
    sex_bad = (rec_sex >= 0) & (rec_sex != sex_id)
    letters = np.array(["F", "M"])
    add(
        "error",
        "sex_mismatch",
        at[sex_bad],
        [
            f"身份证号表示性别为{_SEX_ZH[a]}，登记为{_SEX_ZH[r]}"
            for a, r in zip(letters[sex_id[sex_bad]], letters[rec_sex[sex_bad]], strict=True)
        ],
        [
            f"the ID number says sex {a}; the record says {r}"
            for a, r in zip(letters[sex_id[sex_bad]], letters[rec_sex[sex_bad]], strict=True)
        ],
    )
    region = (
        digits[0] * 100000
        + digits[1] * 10000
        + digits[2] * 1000
        + digits[3] * 100
        + digits[4] * 10
        + digits[5]
    )
    unknown = ~_regions_known(region)
    regs = [f"{c:06d}" for c in region[unknown]]
    add(
        "warning",
        "unknown_region",
        at[unknown],
        [f"地区码 {r} 不在代码表中（可能已撤销，仅提示）" for r in regs],
        [
            f"region code {r} is not in the code list (perhaps abolished; a warning only)"
            for r in regs
        ],
    )


def _regions_known(region: np.ndarray) -> np.ndarray:
    """Whether each region code (six digits as a number, 0 to 999999) is in the code list:
    each code present asked once (:func:`fpanalysis.core.ids.region_known`), through a table
    of every six-digit code rather than a sort of the column.

    Examples:
        >>> _regions_known(np.array([110105, 999999, 110105])).tolist()
        [True, False, True]
    """
    seen = np.zeros(_REGIONS, dtype=bool)
    seen[region] = True
    codes = np.flatnonzero(seen)
    known = np.zeros(_REGIONS, dtype=bool)
    known[codes[[ids.region_known(f"{c:06d}") for c in codes]]] = True
    return known[region]


#: Region codes: six digits.
_REGIONS = 1_000_000


@dataclass(frozen=True)
class _Shapes:
    """What :func:`_shapes` reads off each value's bytes."""

    length: np.ndarray  # int64: characters (bytes; the same for the plain values)
    plain: np.ndarray  # ASCII digits and X only, at least one: ``[0-9X]+``
    has_x: np.ndarray  # an X somewhere
    x_last: np.ndarray  # 17 digits then X: ``[0-9]{17}X``


def _shapes(values: pd.Series) -> _Shapes:
    """For each of ``values`` (text, none missing) what the regular expressions ``[0-9X]+``,
    ``X`` and ``[0-9]{17}X`` (whole value) find and its length, read off the Arrow bytes of
    :data:`_CHUNK` values at a time (a count per value of its other bytes and of its Xs; no
    regular expression run per value). A value with any byte other than an ASCII digit or X
    (a space, a full-width digit, a lowercase x, any other script) is not plain; its length
    is then its characters, as ``str.len`` counts them.

    Examples:
        >>> s = _shapes(pd.Series(["11010519491231002X", "", "1X", "１2", "12 ", "7", ""],
        ...                       dtype="str"))
        >>> s.plain.tolist()
        [True, False, True, False, False, True, False]
        >>> s.has_x.tolist()
        [True, False, True, False, False, False, False]
        >>> s.x_last.tolist()[:3], s.length.tolist()
        ([True, False, False], [18, 0, 2, 2, 3, 1, 0])
    """
    from fpanalysis.core.dataset import arrow_text

    arr = arrow_text(values)  # (a slice of its chunks is joined by text_layout)
    n = len(arr)
    out = _Shapes(np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool))
    for start in range(0, n, _CHUNK):
        _shapes_of(*text_layout(arr.slice(start, _CHUNK)), out, start)
    if not out.plain.all():  # characters, not bytes, of the values with other bytes
        other = ~out.plain
        out.length[other] = values[other].str.len().to_numpy(dtype=np.int64)
    return out


def _shapes_of(offsets: np.ndarray, data: np.ndarray, out: _Shapes, start: int) -> None:
    """:func:`_shapes` of one slice of values given by their bytes
    (:func:`~fpanalysis.core.textnumbers.text_layout`), written into ``out`` from row ``start``."""
    k = len(offsets) - 1
    length = np.diff(offsets)
    at = slice(start, start + k)
    out.length[at] = length
    if not len(data):
        return  # every value empty: none plain
    some = length > 0
    is_x = data == ord("X")
    other = ~(((data - np.uint8(ord("0"))) < 10) | is_x)
    width = int(length[0])
    if width and (length == width).all():  # every value as long (as ID numbers are): a grid
        others = other.reshape(k, width).sum(axis=1, dtype=np.int64)
        xs = is_x.reshape(k, width).sum(axis=1, dtype=np.int64)
    else:
        # each non-empty value's bytes run from its first to the next one's (an empty value
        # has none, so the starts strictly increase and the last runs to the end of the data)
        firsts = offsets[:-1][some]
        others = np.ones(k, dtype=np.int64)
        others[some] = np.add.reduceat(other, firsts, dtype=np.int64)
        xs = np.zeros(k, dtype=np.int64)
        xs[some] = np.add.reduceat(is_x, firsts, dtype=np.int64)
    last = data[np.maximum(offsets[1:] - 1, 0)]
    plain = some & (others == 0)
    out.plain[at] = plain
    out.has_x[at] = plain & (xs > 0)
    out.x_last[at] = plain & (length == 18) & (xs == 1) & (last == ord("X"))


def _id_bytes(values: pd.Series, long: np.ndarray, short: np.ndarray) -> np.ndarray:
    """The numbers of ASCII characters as rows of 18 bytes, a 15-character number padded with
    zeros (as ``np.array(values, dtype="S18")`` holds them), where ``long`` (18 characters) or
    ``short`` (15); other rows zeros. Read from the Arrow buffers of each width at once: no
    Python string per number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from fpanalysis.core.dataset import arrow_text

    arr = arrow_text(values)
    out = np.zeros((len(values), 18), dtype=np.uint8)
    for width, rows in ((18, long), (15, short)):
        if not rows.any():
            continue
        offsets, data = text_layout(pc.filter(arr, pa.array(rows)))
        if not (np.diff(offsets) == width).all():  # not one byte a character: one by one
            text = np.array(values[rows].tolist(), dtype="S18")
            out[rows] = text.view(np.uint8).reshape(len(text), 18)
            continue
        out[rows, :width] = data.reshape(len(offsets) - 1, width)
    return out


def _duplicated_known(df: pd.DataFrame, column: str) -> np.ndarray:
    """``df[column].notna() & df[column].duplicated(keep=False)``, by
    :func:`~fpanalysis.io.validate.columns._duplicated` (pandas hashes millions of numbers
    slowly)."""
    from fpanalysis.io.validate.columns import _duplicated

    known = df[column].notna().to_numpy(dtype=bool)
    if known.all():
        return _duplicated(df, [column])
    dup = np.zeros(len(df), dtype=bool)
    if known.any():
        dup[known] = _duplicated(df.loc[known, [column]], [column])
    return dup


def id_number_findings(ds: Dataset) -> list[Finding]:
    out: list[Finding] = []
    if "persons" in ds:
        p = ds["persons"]
        out += _id_findings("persons", p, "id_number", p["birth_date"], p["sex"], ("", ""))
        dup = _duplicated_known(p, "id_number")
        if dup.any():
            out.append(
                Finding(
                    "persons",
                    p.index[dup],
                    "id_number",
                    "duplicate_id_number",
                    "身份证号与另一人员相同",
                    "the same ID number is recorded for another person",
                    "warning",
                )
            )
    if "households" in ds:
        h = ds["households"]
        births = pd.Series(pd.NaT, index=h.index, dtype="datetime64[ns]")
        sexes = pd.Series(None, index=h.index, dtype="str")
        if "household_members" in ds:
            m = ds["household_members"]
            heads = m[m["relation"].eq("head")]
            heads = heads[~heads["household_id"].duplicated(keep=False)].set_index("household_id")
            births = map_values(h["household_id"], heads["birth_date"])
            sexes = map_values(h["household_id"], heads["sex"])
        out += _id_findings(
            "households", h, "head_id_number", births, sexes, ("户主成员：", "head member: ")
        )
    return out


def key_id_problems(ds: Dataset) -> list[Problem]:
    """One warning per key column (type ``id``) holding values shaped like ID numbers.

    Such a key is personal information (rulebook §7): masked in every output
    like an ID number and stored in the register only as a keyed hash.

    Examples:
        >>> from fpanalysis.core import schema
        >>> hh = schema.coerce("households", [{"household_id": "11010519491231002X",
        ...     "head_name": "张三", "area": "urban", "size": 1, "monthly_income": 0,
        ...     "application_date": "2025-01-01"}])
        >>> [(p.table, p.column, p.rule) for p in key_id_problems(Dataset({"households": hh}))]
        [('households', 'household_id', 'key_id_numbers')]
    """
    out = []
    for table, df, c in loaded_columns(ds):
        if c.type != "id" or c.name not in df:
            continue
        n = int(id_shaped(df[c.name]).sum())
        if n:
            total = int(df[c.name].notna().sum())
            out.append(key_id_problem(table, c, n, total, ds.file_of(table)))
    return out


def key_id_problem(table: str, c, n: int, total: int, file: str | None) -> Problem:
    """The warning of :func:`key_id_problems`: ``n`` of the ``total`` values of key column
    ``c`` are shaped like ID numbers."""
    return Problem(
        table,
        None,
        c.name,
        None,
        KEY_ID_RULE,
        f"“{c.zh}”列的 {total} 个值中有 {n} 个是身份证号：身份证号是个人信息"
        "（rulebook §7），所有输出中都脱敏，登记簿只存其密钥散列值；"
        "建议改用不含个人信息的编号",
        f"column {c.name} holds resident ID numbers ({n} of its {total} values): "
        "personal information (rulebook §7), masked in every output and stored in "
        "the register only as a keyed hash; better number them otherwise",
        "warning",
        None,
        file,
    )
