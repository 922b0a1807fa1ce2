"""The building blocks of the partitioned tables: resident ID numbers over real county codes,
name pools, ids and dates as pyarrow arrays, and tables in schema order and types."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core import schema
from fpanalysis.core.ids import CHECK_CHARACTERS, body_digits, check_indices
from fpanalysis.synth.common import AFFILIATED, SECTIONS, Y


def _region_codes() -> tuple[str, ...]:
    """County-level codes of python-stdnum's list still in use (no end year), sorted."""
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    codes = []
    prov = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^(\d{2}) ", line)
        if m:
            prov = m.group(1)
            continue
        m = re.match(r"^\s+(\d{4}) county=\"([^\"]*)\"", line)
        if not (m and prov):
            continue
        # a name may carry its years, "[1986-]房山区" or "[-2010]崇文区": keep codes still in use
        current = [
            n
            for n in m.group(2).split(",")
            if not re.match(r"^\[\d*-\d+\]", n) and "市辖区" not in n and n.strip() != "县"
        ]
        code = prov + m.group(1)
        if current and code[4:] not in ("00", "01"):
            codes.append(code)
    return tuple(sorted(set(codes)))


REGION_CODES = _region_codes()
REGIONS_PER_PARTITION = 6


class NamePools:
    """Name pools from Faker's zh_CN lists, built once (weights for surnames)."""

    def __init__(self) -> None:
        from faker.providers.person.zh_CN import Provider

        last = Provider.last_names
        self.last = pa.array(list(last))
        w = np.array(list(last.values()), dtype=float)
        self.last_cdf = np.cumsum(w / w.sum())
        self.male = pa.array(sorted(set(Provider.first_names_male)))
        self.female = pa.array(sorted(set(Provider.first_names_female)))
        self.unit_names = pa.array(list(SECTIONS) + list(AFFILIATED))

    def names(self, rng: np.random.Generator, female: np.ndarray) -> pa.Array:
        n = len(female)
        li = np.minimum(np.searchsorted(self.last_cdf, rng.random(n)), len(self.last) - 1)
        fm = rng.integers(0, len(self.male), n)
        ff = rng.integers(0, len(self.female), n)
        given_f = self.female.take(pa.array(ff))
        given_m = self.male.take(pa.array(fm))
        given = pc.if_else(pa.array(female), given_f, given_m)
        return pc.binary_join_element_wise(self.last.take(pa.array(li)), given, "")


@functools.cache
def name_pools() -> NamePools:
    """The name pools, built once."""
    return NamePools()


def part_ids(prefix: str, part: int, n: int, start: int = 1) -> pa.Array:
    """``prefix``, 5-digit partition, ``_``, 8-digit number: globally unique, sorted as text."""
    head = np.frombuffer(f"{prefix}{part:05d}_".encode(), dtype=np.uint8)
    buf = np.empty((n, head.size + 8), dtype=np.uint8)
    buf[:, : head.size] = head
    rest = np.arange(start, start + n, dtype="int64")
    for j in range(head.size + 7, head.size - 1, -1):  # 8 digit passes, not a loop over rows
        buf[:, j] = 48 + rest % 10
        rest //= 10
    return pa.array(buf.view(f"S{buf.shape[1]}").ravel()).cast(pa.string())


def date_array(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """int days since 1970 -> timestamp[ns] (the loaders' datetime64[ns]); ``valid`` False: null."""
    d = np.asarray(days, dtype="int64")
    ns = d * 86_400_000_000_000
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(ns, type=pa.int64(), mask=mask).cast(pa.timestamp("ns"))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dt = np.asarray(days, dtype="int64").astype("datetime64[D]")
    y = dt.astype("datetime64[Y]").astype("int64") + 1970
    mo = dt.astype("datetime64[M]")
    m = mo.astype("int64") % 12 + 1
    d = (dt - mo.astype("datetime64[D]")).astype("int64") + 1
    return y, m, d


def birthday(birth: np.ndarray, years: int) -> np.ndarray:
    """The day of the ``years``-th birthday (29 Feb -> 1 Mar in a common year), as int days."""
    dt = np.asarray(birth, dtype="int64").astype("datetime64[D]")
    mo = dt.astype("datetime64[M]")
    day = (dt - mo.astype("datetime64[D]")).astype("int64")
    return ((mo + 12 * years).astype("datetime64[D]") + day).astype("int64")


def uniform_years(rng, lo, hi, n) -> np.ndarray:
    """A uniform number of years from ``lo`` to ``hi``, in days."""
    return (rng.uniform(lo, hi, n) * Y).astype("int64")


_CHECK = pa.array(list(CHECK_CHARACTERS))


def part_id_numbers(
    rng, part: int, birth: np.ndarray, female: np.ndarray, regions: np.ndarray
) -> pa.Array:
    """Valid 18-character resident ID numbers, unique within the partition (GB 11643, rulebook §8).

    The sequence is the rank within (region, birth date, sex) plus a random
    offset, so two people never share a number; odd = male.
    """
    n = len(birth)
    y, m, d = _ymd(birth)
    ymd = y * 10000 + m * 100 + d
    sex = (~np.asarray(female, dtype=bool)).astype("int64")
    key = (regions * 100_000_000 + ymd) * 2 + sex
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.r_[True, ks[1:] != ks[:-1]]
    gstart = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype="int64")
    rank[order] = np.arange(n) - gstart
    offset = rng.integers(0, 500, n)
    # one offset per group (the first member's), so ranks stay distinct within the group
    group_offset = np.empty(n, dtype="int64")
    group_offset[order] = offset[order][gstart]
    seq = 2 * ((group_offset + rank) % 500) + sex
    body = regions * 10**11 + ymd * 1000 + seq
    check = check_indices(body_digits(body))
    return pc.binary_join_element_wise(
        pc.cast(pa.array(body), pa.string()), _CHECK.take(pa.array(check)), ""
    )


def region_pool(part: int) -> np.ndarray:
    L = len(REGION_CODES)
    i = (part * REGIONS_PER_PARTITION + np.arange(REGIONS_PER_PARTITION)) % L
    return np.array([int(REGION_CODES[j]) for j in i], dtype="int64")


def draw_part_regions(rng, part: int, n: int) -> np.ndarray:
    pool = region_pool(part)
    # the partition's home county 60%, the other eight the rest
    p = np.r_[0.6, np.full(len(pool) - 1, 0.4 / (len(pool) - 1))]
    return pool[np.minimum(np.searchsorted(np.cumsum(p), rng.random(n)), len(pool) - 1)]


def arrow_table(name: str, cols: Mapping[str, pa.Array | np.ndarray]) -> pa.Table:
    """A pyarrow table of ``name`` in schema order and types (absent columns null)."""
    t = schema.TABLES[name]
    n = len(next(iter(cols.values())))
    arrays, fields = [], []
    for c in t.columns:
        typ = {
            "date": pa.timestamp("ns"),
            "bool": pa.bool_(),
            "int": pa.int64(),
            "number": pa.float64(),
        }.get(c.type, pa.string())
        v = cols.get(c.name)
        if v is None:
            a = pa.nulls(n, type=typ)
        elif isinstance(v, pa.Array | pa.ChunkedArray):
            a = v.cast(typ) if v.type != typ else v
        else:
            a = pa.array(v, type=typ)
        arrays.append(a)
        fields.append(pa.field(c.name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


@dataclass
class Couples:
    """A partition's couples as arrays by couple position ``i``: the wife is person ``i``, the
    husband person ``len + i``; the anchoring spouse (staff or floating) ties the couple to a unit.
    """

    part: int
    ids: pa.Array
    person_ids: pa.Array
    unit_ids: pa.Array
    wife_birth: np.ndarray
    marriage: np.ndarray
    divorce: np.ndarray
    staff: np.ndarray
    anchor_wife: np.ndarray
    anchor_unit: np.ndarray
    anchor_hire: np.ndarray
    anchor_leave: np.ndarray
    diligence: np.ndarray  # of the anchor's unit: miss rates scale with it
    turn15: np.ndarray = field(init=False)  # the wife's 15th birthday
    turn50: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.turn15 = birthday(self.wife_birth, 15)
        self.turn50 = birthday(self.wife_birth, 50)

    def __len__(self) -> int:
        return len(self.marriage)

    def responsible(self, d: int) -> np.ndarray:
        """Married, with the anchor on the books: the anchor's unit answers for the couple."""
        return (
            (self.anchor_hire <= d)
            & (self.anchor_leave > d)
            & (self.marriage <= d)
            & (self.divorce > d)
        )

    def childbearing(self, d: int) -> np.ndarray:
        """The wife is 15-49 on day ``d``: her 15th birthday <= d < her 50th."""
        return (self.turn15 <= d) & (self.turn50 > d)
