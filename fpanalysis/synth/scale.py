"""Province-scale synthetic data: partitioned Parquet, streamed (issue 7; POLICY.md §2–§6).

:func:`generate_partitioned` writes the tables of DATA.md for ``people``
persons (rows of ``persons``; 100 million is fine) as a *partitioned* Parquet
dataset, a folder per table::

    DIR/units/part-00000.parquet          (one part: every unit, one row group per partition)
    DIR/check_rounds/part-00000.parquet   (one part: the county's schedule)
    DIR/persons/part-00000.parquet, part-00001.parquet, ...
    DIR/couples/part-00000.parquet, ...   (and so on for every other table)

It is the small realistic generator (:mod:`fpanalysis.synth`) rebuilt for
size: numpy over whole partitions (no Python loop over rows, no Faker per row:
names are numpy draws over Faker's ``zh_CN`` surname and given-name pools,
built once), ids and ID numbers built as fixed-width bytes by numpy, one partition
generated and written at a time so memory stays bounded whatever ``people``
is (about 0.6 GB peak at the default 250,000 persons per partition).

**Aligned partitions** (the contract the Dask engine relies on, also in
``docs/design.md``): partition ``k`` of every partitioned table holds whole
couples — both spouses' ``persons`` rows, their ``children``, ``permits``,
``pregnancies``, ``contraception``, ``surveys``, ``check_attendance`` and
``certificates`` — and whole households (``households`` with their
``household_members``); the single staff of partition ``k``'s units are in
partition ``k`` too. Ids are globally unique: the partition number is part of
every id (``P00003_00000012`` is person 12 of partition 3). Each unit belongs
to one partition: every staff member, floating registrant, survey and payee
of a unit is in that unit's partition. The only references that cross
partitions are to the two reference tables written once: ``units``
(``persons.unit_id``, ``surveys.unit_id``) and ``check_rounds``
(``check_attendance.round_id``). Resident ID numbers are unique across the
whole dataset while there are at most ``len(REGION_CODES) // 6`` partitions
(467; 100 million people at the default 250,000 per partition are 400):
each partition draws from its own six county codes (python-stdnum's list).

**Shapes** follow :mod:`fpanalysis.synth` (whose docstring gives the sources):
2.2 persons per couple (couples = people / 2.2, the rest single staff), as
many hardship households as couples, one unit per 15 couples; 70% of couples
are anchored by a staff spouse and 30% by a floating one; wanted children
0–3 (8/50/37/5%) and 118 boys per 100 girls; certificates ≈ 0.19 per couple ≈
**0.087 × people** (see :data:`RATIOS`; the sample has 0.076); per person
about 4.2 surveys, 2.0 check attendances, 0.52 permits, 0.53 children
(``docs/synth.md`` has the table); households' per-capita incomes 72%
below the 低保 standard in force at the extract date and 28% at 1.0–1.8 times
it. Simplified against the small generator (the realistic details that need
per-couple histories): no twins, no scripted §4 cases (sex-selective
terminations occur at random), no cancelled permits, surveys only while the
anchoring spouse is on the books. The extract date is
:data:`fpanalysis.synth.END`.

**Certificates-heavy datasets** for the budget benchmark:
``certificates_per_couple=x`` (``--certificates-per-couple x``) gives every
couple ``floor(x)`` or ``floor(x) + 1`` children (``x`` on average) born
since 2004 between the marriage and the extract date, each with an
only-child certificate; couples married in the last year (about 8.5%) have
none, so certificates ≈ ``0.915 × x × couples`` ≈ **0.42 × x × people**
(measured: x = 2.2 gives 2.01 per couple). 100 million certificates take
about ``240e6 / x`` people: x = 2.4 → 100 million people. That is a load
test, not a county: several certificates per couple never happen. With
``tables=[...]`` only the tables named are written (surveys, check
attendance and households are then not even made; each has its own random
stream, so the other tables are the same bytes whichever are asked for).

Determinism: partition ``k`` draws from ``SeedSequence(seed).spawn(...)[k]``
only, so its bytes do not depend on the other partitions or the timing; the
Parquet files are written by pyarrow with fixed options (zstd, no
statistics-dependent metadata beyond the data), so the same ``seed``,
``people`` and ``partition_people`` give byte-identical files.

Examples:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> counts = generate_partitioned(d, 2000, seed=1, partition_people=1000)
    >>> counts["persons"], sorted(p.name for p in (d / "persons").iterdir())
    (2000, ['part-00000.parquet', 'part-00001.parquet'])
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fpanalysis.core import schema
from fpanalysis.core.errors import UsageError
from fpanalysis.core.ids import CHECK_CHARACTERS, body_digits, check_indices
from fpanalysis.synth.common import (
    AFFILIATED,
    END,
    RURAL_TOWNSHIPS,
    SECTIONS,
    START,
    URBAN_TOWNSHIPS,
    Y,
)

__all__ = [
    "DEFAULT_PARTITION_PEOPLE",
    "RATIOS",
    "REGION_CODES",
    "generate_partitioned",
    "partition_tables",
]

DEFAULT_PARTITION_PEOPLE = 250_000
# Larger partitions would need more memory than a shared machine has, and more people per
# (region, birth date, sex) than an ID number's 500 sequence numbers (§8).
MAX_PARTITION_PEOPLE = 5_000_000
PERSONS_PER_COUPLE = 2.2
COUPLES_PER_UNIT = 15
# Expected rows per person (measured on 1,000,000 people, seed 20241; see docs/synth.md).
RATIOS: Mapping[str, float] = {
    "couples": 1 / PERSONS_PER_COUPLE,
    "households": 1 / PERSONS_PER_COUPLE,
    "certificates": 0.087,
}
REFERENCE_TABLES = ("units", "check_rounds")

_EPOCH = np.datetime64("1970-01-01", "D")
_S = int((np.datetime64(START.date(), "D") - _EPOCH).astype(int))
_E = int((np.datetime64(END.date(), "D") - _EPOCH).astype(int))
_NEVER = 10**9
_D2004 = int((np.datetime64("2004-01-01", "D") - _EPOCH).astype(int))
_D2016 = int((np.datetime64("2016-01-01", "D") - _EPOCH).astype(int))
_BOY_P = 118 / 218
_PARQUET_OPTS = {"compression": "zstd", "write_statistics": True}


# --------------------------------------------------------------------------- reference data


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
_REGIONS_PER_PARTITION = 6


class _Pools:
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


_POOLS: _Pools | None = None


def _pools() -> _Pools:
    global _POOLS
    if _POOLS is None:
        _POOLS = _Pools()
    return _POOLS


# --------------------------------------------------------------------------- helpers


def _ids(prefix: str, part: int, n: int, start: int = 1) -> pa.Array:
    """``prefix`` + 5-digit partition + ``_`` + 8-digit number: globally unique, sorted by string."""
    head = np.frombuffer(f"{prefix}{part:05d}_".encode(), dtype=np.uint8)
    buf = np.empty((n, head.size + 8), dtype=np.uint8)
    buf[:, : head.size] = head
    rest = np.arange(start, start + n, dtype="int64")
    for j in range(head.size + 7, head.size - 1, -1):  # 8 digit passes, not a loop over rows
        buf[:, j] = 48 + rest % 10
        rest //= 10
    return pa.array(buf.view(f"S{buf.shape[1]}").ravel()).cast(pa.string())


def _date(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """int days since 1970 -> timestamp[ns] (the loaders' datetime64[ns]); ``valid`` False -> null."""
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


def _birthday(birth: np.ndarray, years: int) -> np.ndarray:
    """The day of the ``years``-th birthday (29 Feb -> 1 Mar in a common year), as int days."""
    dt = np.asarray(birth, dtype="int64").astype("datetime64[D]")
    mo = dt.astype("datetime64[M]")
    day = (dt - mo.astype("datetime64[D]")).astype("int64")
    return ((mo + 12 * years).astype("datetime64[D]") + day).astype("int64")


def _years(rng, lo, hi, n) -> np.ndarray:
    return (rng.uniform(lo, hi, n) * Y).astype("int64")


def _uint(rng, lo, hi, n) -> np.ndarray:
    """Uniform integers lo..hi inclusive (arrays allowed)."""
    lo = np.asarray(lo, dtype="int64")
    hi = np.asarray(hi, dtype="int64")
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype("int64")


_CHECK = pa.array(list(CHECK_CHARACTERS))


def _id_numbers(
    rng, part: int, birth: np.ndarray, female: np.ndarray, regions: np.ndarray
) -> pa.Array:
    """Valid 18-character resident ID numbers, unique within the partition (GB 11643, §8).

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


def _region_pool(part: int) -> np.ndarray:
    L = len(REGION_CODES)
    i = (part * _REGIONS_PER_PARTITION + np.arange(_REGIONS_PER_PARTITION)) % L
    return np.array([int(REGION_CODES[j]) for j in i], dtype="int64")


def _draw_regions(rng, part: int, n: int) -> np.ndarray:
    pool = _region_pool(part)
    # the partition's home county 60%, the other eight the rest
    p = np.r_[0.6, np.full(len(pool) - 1, 0.4 / (len(pool) - 1))]
    return pool[np.minimum(np.searchsorted(np.cumsum(p), rng.random(n)), len(pool) - 1)]


def _table(name: str, cols: Mapping[str, pa.Array | np.ndarray]) -> pa.Table:
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


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Dictionary-encode every column but the keys and ID numbers (unique values gain nothing)."""
    return [
        f.name
        for f in table.schema
        if not (f.name.endswith("_id") or f.name in ("id_number", "head_id_number"))
    ]


def _write(table: pa.Table, path: Path) -> None:
    """Atomic write of one part (temp name in the folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, use_dictionary=_dictionary_columns(table), **_PARQUET_OPTS)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- one partition


def _check_rounds(seed: int) -> tuple[pa.Table, list[str], np.ndarray, np.ndarray]:
    """Twice a year from 2018, 8–14 March and September, 13–16 days (as :mod:`fpanalysis.synth`)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    ids, starts, ends = [], [], []
    for year in range(START.year, END.year + 1):
        for k, month in ((1, 3), (2, 9)):
            s = int((np.datetime64(f"{year}-{month:02d}-08", "D") - _EPOCH).astype(int))
            s += int(rng.integers(0, 7))
            e = s + int(rng.integers(12, 16))
            if e <= _E:
                ids.append(f"R{year}-{k}")
                starts.append(s)
                ends.append(e)
    s, e = np.array(starts, dtype="int64"), np.array(ends, dtype="int64")
    tab = _table(
        "check_rounds", {"round_id": pa.array(ids), "start_date": _date(s), "end_date": _date(e)}
    )
    return tab, ids, s, e


def partition_tables(
    seed: int,
    part: int,
    people: int,
    *,
    n_partitions: int = 1,
    certificates_per_couple: float | None = None,
    rounds: tuple[list[str], np.ndarray, np.ndarray] | None = None,
    standards: Mapping[str, float] | None = None,
    tables: Iterable[str] | None = None,
) -> dict[str, pa.Table]:
    """Generate partition ``part`` (``people`` persons) as pyarrow tables, units included.

    Args:
        seed: the dataset's seed; partition ``part`` uses
            ``SeedSequence(seed).spawn(n_partitions)[part]`` only.
        part: partition number (0-based).
        people: persons rows in this partition (at least 1).
        n_partitions: how many partitions the dataset has (for the spawn).
        certificates_per_couple: ``None`` for realistic shapes, else the
            certificates-heavy mode (module docstring).
        rounds: (ids, start days, end days) of the check rounds; default the
            dataset's schedule for ``seed``.
        standards: 低保 standards by area (yuan per person per month); default
            those in force at the extract date.
        tables: the tables wanted (default all): ``surveys``,
            ``check_attendance`` and the households are only made when asked
            for. Each has its own random stream, so the others are the same
            bytes whichever are asked for.

    Returns:
        table name -> pyarrow table: every table of DATA.md except
        ``check_rounds`` (``units`` holds this partition's units), less the
        optional ones not asked for.

    Examples:
        >>> t = partition_tables(1, 0, 500)
        >>> t["persons"].num_rows, t["persons"]["person_id"][0].as_py()
        (500, 'P00000_00000001')
    """
    ss = np.random.SeedSequence(seed).spawn(n_partitions)[part]
    # one stream for the people and their events, one each for surveys, checks and households
    rng, rng_sv, rng_at, rng_hh = (np.random.default_rng(s) for s in ss.spawn(4))
    want = set(schema.TABLES) if tables is None else set(tables)
    pools = _pools()
    if rounds is None:
        _, rids, rs, re_ = _check_rounds(seed)
    else:
        rids, rs, re_ = rounds
    if standards is None:
        from fpanalysis.core.params import load_params

        params = load_params()
        standards = {a: float(params.dibao_standard(a, END.date())) for a in ("urban", "rural")}
    k = part
    n = int(people)
    C = min(n // 2, int(round(n / PERSONS_PER_COUPLE)))
    S = n - 2 * C
    U = max(1, int(round(C / COUPLES_PER_UNIT)))
    out: dict[str, pa.Table] = {}

    # ---- units and their diligence (miss rates scale with it, so scorecards differ)
    diligence = np.clip(rng.lognormal(0.0, 0.45, U), 0.3, 2.5)

    # ---- couples: wife, husband, marriage, the anchoring spouse (staff or floating)
    w_birth = _E - _years(rng, 22, 66, C)
    h_birth = w_birth - (np.clip(rng.normal(2.0, 2.5, C), -3, 10) * Y).astype("int64")
    # a husband under 22 would be too young to marry (§2): spread over 22-25 (not clipped onto one day)
    young = h_birth > _E - int(22 * Y) - 1
    h_birth = np.where(young, _E - _years(rng, 22, 25, C), h_birth)
    legal = np.maximum(w_birth + int(20 * Y) + 1, h_birth + int(22 * Y) + 1)
    marriage = legal + _years(rng, 0, 9, C)
    marriage = np.minimum(marriage, _E - _uint(rng, 30, 400, C))
    marriage = np.maximum(marriage, legal)
    divorced = rng.random(C) < 0.05
    divorce = np.where(
        divorced, marriage + ((_E - marriage) * rng.random(C)).astype("int64"), _NEVER
    )
    divorced &= divorce > marriage
    divorce = np.where(divorced, divorce, _NEVER)
    staff_couple = rng.random(C) < 0.70
    anchor_wife = rng.random(C) < 0.5
    anchor_unit = rng.integers(0, U, C)
    r_other = rng.random(C)
    other_cat = np.where(
        r_other < 0.65, 2, np.where(r_other < 0.90, 0, 1)
    )  # 0 staff 1 floating 2 outside
    other_unit = np.where(rng.random(C) < 0.85, anchor_unit, rng.integers(0, U, C))

    # ---- persons: wives 0..C-1, husbands C..2C-1, single staff 2C..n-1
    birth = np.r_[w_birth, h_birth, _E - _years(rng, 22, 60, S)]
    female = np.r_[np.ones(C, bool), np.zeros(C, bool), rng.random(S) < 0.5]
    anchor_cat = np.where(staff_couple, 0, 1)
    w_cat = np.where(anchor_wife, anchor_cat, other_cat)
    h_cat = np.where(anchor_wife, other_cat, anchor_cat)
    cat = np.r_[w_cat, h_cat, np.zeros(S, "int64")]
    w_unit = np.where(anchor_wife, anchor_unit, other_unit)
    h_unit = np.where(anchor_wife, other_unit, anchor_unit)
    unit = np.r_[w_unit, h_unit, rng.integers(0, U, S)]
    staff = cat == 0
    transfer = rng.random(n) < 0.2
    hire = birth + np.where(transfer, _years(rng, 30, 45, n), _years(rng, 22, 30, n))
    hire = np.where(hire > _E, _E - _uint(rng, 0, 300, n), hire)
    retire = birth + np.where(female, int(55 * Y), int(60 * Y))
    early = rng.random(n) < 0.08
    leave = np.where(early, hire + ((_E - hire) * rng.random(n)).astype("int64"), retire)
    left = (leave <= _E) & (leave >= hire) & staff
    leave = np.where(left, leave, _NEVER)
    hire = np.where(staff, hire, _NEVER)
    regions = _draw_regions(rng, k, n)

    # household heads are generated now so that their ID numbers are unique with the persons'
    hh = _household_plan(rng_hh, C, standards)
    all_birth = np.r_[birth, hh["head_birth"]]
    all_female = np.r_[female, hh["head_female"]]
    all_regions = np.r_[regions, _draw_regions(rng, k, C)]
    all_idn = _id_numbers(rng, k, all_birth, all_female, all_regions)
    person_ids = _ids("P", k, n)
    unit_ids = _ids("U", k, U)
    has_unit = cat != 2
    cat_codes = pa.array(["staff", "floating", "outside"])
    person_names = pools.names(rng, female)
    out["persons"] = _table(
        "persons",
        {
            "person_id": person_ids,
            "name": person_names,
            "id_number": all_idn.slice(0, n),
            "sex": pa.array(np.where(female, "F", "M")),
            "birth_date": _date(birth),
            "unit_id": unit_ids.take(pa.array(unit, mask=~has_unit)),
            "category": cat_codes.take(pa.array(cat)),
            "hire_date": _date(hire, staff),
            "leave_date": _date(leave, left),
        },
    )

    # units: the head is the unit's most senior staff member in post, the liaison the most recent
    in_post = staff & (leave == _NEVER)
    idx = np.flatnonzero(in_post)
    head = np.full(U, -1)
    liaison = np.full(U, -1)
    if idx.size:
        o = idx[np.lexsort((hire[idx], unit[idx]))]
        u_sorted = unit[o]
        firsts = np.r_[True, u_sorted[1:] != u_sorted[:-1]]
        lasts = np.r_[u_sorted[1:] != u_sorted[:-1], True]
        head[u_sorted[firsts]] = o[firsts]
        liaison[u_sorted[lasts]] = o[lasts]
    liaison = np.where(liaison == head, -1, liaison)
    j = np.arange(U)
    base_name = pools.unit_names.take(pa.array(j % 20))
    suffix = pc.if_else(
        pa.array(j < 20), pa.scalar(""), pc.cast(pa.array(j // 20 + 1), pa.string())
    )
    unit_name = pc.binary_join_element_wise(base_name, suffix, "")
    out["units"] = _table(
        "units",
        {
            "unit_id": unit_ids,
            "name": unit_name,
            "kind": pa.array(np.where(j % 20 < 10, "section", "affiliated")),
            "head_name": person_names.take(pa.array(np.maximum(head, 0), mask=head < 0)),
            "liaison_name": person_names.take(pa.array(np.maximum(liaison, 0), mask=liaison < 0)),
        },
    )

    couple_ids = _ids("C", k, C)
    out["couples"] = _table(
        "couples",
        {
            "couple_id": couple_ids,
            "wife_id": person_ids.slice(0, C),
            "husband_id": person_ids.slice(C, C),
            "marriage_date": _date(marriage),
            "divorce_date": _date(divorce, divorced),
        },
    )

    # ---- children: wanted 0-3 (8/50/37/5%), first 1-3 years after marriage, 2-5 years apart
    end_of_union = np.minimum(divorce, _E)
    if certificates_per_couple is None:
        wanted = np.searchsorted(np.cumsum([0.08, 0.50, 0.37, 0.05]), rng.random(C), side="right")
        wanted = np.minimum(wanted, 3)
        first = marriage + _uint(rng, 300, 1100, C)
        gaps = _uint(rng, 700, 1800, (2, C))
        bdays = np.vstack([first, first + gaps[0], first + gaps[0] + gaps[1]])
        k_max = 3
        fertile_end = w_birth + int(45 * Y)
        born_mask = (np.arange(k_max)[:, None] < wanted) & (
            bdays <= np.minimum(end_of_union, fertile_end)
        )
        born_mask &= bdays <= _E - 1
    else:
        x = float(certificates_per_couple)
        kc = np.floor(x).astype("int64") + (rng.random(C) < (x - np.floor(x)))
        k_max = int(kc.max()) if C else 0
        lo = np.maximum(marriage, _D2004) + 280
        span = np.maximum(_E - 60 - lo, 0)
        bdays = np.sort(lo + (rng.random((max(k_max, 1), C)) * span).astype("int64"), axis=0)[
            :k_max
        ]
        wanted = kc
        born_mask = (np.arange(k_max)[:, None] < kc) & (span > 0)
    # conceived but not yet born by the extract date: an ongoing pregnancy
    next_child = np.where(born_mask, 0, 1).argmax(axis=0) if k_max else np.zeros(C, "int64")
    n_born = born_mask.sum(axis=0)
    ordr, cidx = np.nonzero(born_mask)
    o = np.lexsort((ordr, cidx))
    ordr, cidx = ordr[o], cidx[o]
    cbirth = bdays[ordr, cidx]
    csex_f = rng.random(cidx.size) >= _BOY_P
    NC = cidx.size
    child_ids = _ids("K", k, NC)
    out["children"] = _table(
        "children",
        {
            "child_id": child_ids,
            "couple_id": couple_ids.take(pa.array(cidx)),
            "birth_date": _date(cbirth),
            "sex": pa.array(np.where(csex_f, "F", "M")),
        },
    )

    # ---- permits: 93% issued before conception, 3% during the pregnancy, 4% none
    conception = cbirth - 270
    r = rng.random(NC)
    has_permit = r < 0.96
    issue = np.where(
        r < 0.93, conception - _uint(rng, 30, 365, NC), conception + _uint(rng, 30, 150, NC)
    )
    p_idx = np.flatnonzero(has_permit)
    # ongoing pregnancies (conceived by the extract date, due after it)
    due = (
        bdays[np.minimum(next_child, max(k_max - 1, 0)), np.arange(C)]
        if k_max
        else np.full(C, _NEVER)
    )
    ongoing_c = (n_born < wanted) & (due > _E) & (due - 270 + 56 <= _E) & (due - 270 >= marriage)
    ongoing_c &= divorce > _E
    og = np.flatnonzero(ongoing_c)
    og_detect = due[og] - 270 + _uint(rng, 42, 70, og.size)
    og_detect = np.minimum(og_detect, _E)
    og_permit = rng.random(og.size) < 0.93
    permit_couple = np.r_[cidx[p_idx], og[og_permit]]
    permit_issue = np.r_[
        issue[p_idx], due[og[og_permit]] - 270 - _uint(rng, 30, 365, int(og_permit.sum()))
    ]
    o = np.lexsort((permit_issue, permit_couple))
    permit_couple, permit_issue = permit_couple[o], permit_issue[o]
    out["permits"] = _table(
        "permits",
        {
            "permit_id": _ids("SYZ", k, permit_couple.size),
            "couple_id": couple_ids.take(pa.array(permit_couple)),
            "issue_date": _date(permit_issue),
        },
    )

    # ---- pregnancies since the register's start: births (92% recorded), ongoing, miscarriages,
    # terminations (medical mostly late and approved, other early, a few for sex selection)
    rec = (cbirth - 250 >= _S) & (rng.random(NC) < 0.92)
    b_idx = np.flatnonzero(rec)
    b_det = cbirth[b_idx] - _uint(rng, 200, 245, b_idx.size)
    b_weeks = _uint(rng, 37, 41, b_idx.size)
    mis_c = b_idx[rng.random(b_idx.size) < 0.11]
    mis_det = cbirth[mis_c] - 280 - _uint(rng, 120, 400, mis_c.size)
    ok = (mis_det >= _S) & (mis_det > marriage[cidx[mis_c]])
    mis_c, mis_det = mis_c[ok], mis_det[ok]
    mis_out = mis_det + _uint(rng, 20, 60, mis_c.size)
    t_c = np.flatnonzero(
        (rng.random(C) < 0.05) & (divorce > _E) & (w_birth + int(45 * Y) > _S + 400)
    )
    t_det = np.maximum(np.maximum(marriage[t_c], _S), w_birth[t_c] + int(20 * Y))
    t_det = t_det + (
        (np.minimum(_E - 120, w_birth[t_c] + int(45 * Y)) - t_det).clip(0) * rng.random(t_c.size)
    ).astype("int64")
    rt = rng.random(t_c.size)
    t_reason = np.where(
        rt < 0.55, 0, np.where(rt < 0.95, 2, 1)
    )  # 0 medical 1 sex_selection 2 other
    t_weeks = np.select(
        [t_reason == 0, t_reason == 1],
        [_uint(rng, 16, 27, t_c.size), _uint(rng, 14, 20, t_c.size)],
        _uint(rng, 6, 12, t_c.size),
    )
    t_out = t_det + (t_weeks - 5).clip(1) * 7 - _uint(rng, 0, 20, t_c.size)
    t_out = np.maximum(t_out, t_det)
    t_approved = np.where(t_reason == 0, rng.random(t_c.size) < 0.9, False)
    t_facility = np.where(t_reason == 1, rng.random(t_c.size) < 0.3, rng.random(t_c.size) < 0.95)
    og_rec = og_detect >= _S
    g_couple = np.r_[cidx[b_idx], og[og_rec], cidx[mis_c], t_c]
    g_det = np.r_[b_det, og_detect[og_rec], mis_det, t_det]
    g_kind = np.r_[
        np.full(b_idx.size, 1),
        np.full(int(og_rec.sum()), 0),
        np.full(mis_c.size, 3),
        np.full(t_c.size, 2),
    ]
    g_out = np.r_[cbirth[b_idx], np.full(int(og_rec.sum()), _NEVER), mis_out, t_out]
    g_weeks = np.r_[
        b_weeks, np.zeros(int(og_rec.sum()), "int64"), _uint(rng, 6, 14, mis_c.size), t_weeks
    ]
    g_child = np.r_[b_idx, np.full(int(og_rec.sum()) + mis_c.size + t_c.size, -1)]
    g_reason = np.r_[np.full(b_idx.size + int(og_rec.sum()) + mis_c.size, -1), t_reason]
    g_appr = np.r_[np.zeros(b_idx.size + int(og_rec.sum()) + mis_c.size, bool), t_approved]
    g_fac = np.r_[np.zeros(b_idx.size + int(og_rec.sum()) + mis_c.size, bool), t_facility]
    o = np.lexsort((g_det, g_couple))
    g_couple, g_det, g_kind, g_out, g_weeks, g_child, g_reason, g_appr, g_fac = (
        a[o] for a in (g_couple, g_det, g_kind, g_out, g_weeks, g_child, g_reason, g_appr, g_fac)
    )
    is_term = g_kind == 2
    out["pregnancies"] = _table(
        "pregnancies",
        {
            "pregnancy_id": _ids("G", k, g_couple.size),
            "couple_id": couple_ids.take(pa.array(g_couple)),
            "detected_date": _date(g_det),
            "outcome": pa.array(["ongoing", "birth", "termination", "miscarriage"]).take(
                pa.array(g_kind)
            ),
            "outcome_date": _date(g_out, g_kind != 0),
            "gestation_weeks": pa.array(g_weeks, mask=g_kind == 0),
            "termination_reason": pa.array(["medical", "sex_selection", "other"]).take(
                pa.array(np.maximum(g_reason, 0), mask=~is_term)
            ),
            "county_approved": pa.array(g_appr, mask=~is_term),
            "designated_facility": pa.array(g_fac, mask=~is_term),
            "child_id": child_ids.take(pa.array(np.maximum(g_child, 0), mask=g_child < 0)),
        },
    )

    # ---- contraception: spacing after 60% of births that are not the last; after the last,
    # sterilisation (45%; female 85%) or an IUD (45%); 2% found falsified
    last_birth = ordr == (n_born[cidx] - 1)
    nxt = np.where(~last_birth, np.r_[cbirth[1:], _NEVER] - 270, _NEVER)
    st = cbirth + _uint(rng, 42, 120, NC)
    rr = rng.random(NC)
    spacing = ~last_birth & (rr < 0.6) & (nxt - 30 > st)
    ster = last_birth & (rr < 0.45)
    iud_last = last_birth & (rr >= 0.45) & (rr < 0.90)
    take = (spacing | ster | iud_last) & (st <= _E)
    r2 = rng.random(NC)
    method = np.select(
        [spacing & (r2 < 0.70), spacing & (r2 < 0.85), spacing, ster & (r2 < 0.85), ster],
        [0, 3, 4, 1, 2],
        0,
    )  # 0 iud 1 female_sterilization 2 male_sterilization 3 implant 4 other
    c_end = np.where(spacing, nxt - _uint(rng, 0, 30, NC), _NEVER)
    c_end = np.where(c_end > _E, _NEVER, c_end)
    fals = take & np.isin(method, [0, 1, 2]) & (rng.random(NC) < 0.02)
    fdate = st + ((np.minimum(c_end, _E) - st).clip(0) * rng.random(NC)).astype("int64")
    fals &= fdate <= _E
    ti = np.flatnonzero(take)
    c_cpl = cidx[ti]
    user = np.where(method[ti] == 2, C + c_cpl, c_cpl)
    out["contraception"] = _table(
        "contraception",
        {
            "record_id": _ids("J", k, ti.size),
            "couple_id": couple_ids.take(pa.array(c_cpl)),
            "person_id": person_ids.take(pa.array(user)),
            "method": pa.array(
                ["iud", "female_sterilization", "male_sterilization", "implant", "other"]
            ).take(pa.array(method[ti])),
            "start_date": _date(st[ti]),
            "end_date": _date(c_end[ti], c_end[ti] != _NEVER),
            "falsified_found_date": _date(fdate[ti], fals[ti]),
        },
    )
    sterilised_from = np.full(C, _NEVER)
    s_i = ti[np.isin(method[ti], [1, 2])]
    np.minimum.at(sterilised_from, cidx[s_i], st[s_i])

    # ---- certificates: couples with one wanted child born since 2004 (staff 85%, floating 30%;
    # a fifth of that for couples who go on to a second), 1-48 months after the birth; revoked
    # within 3 months of a second birth. Heavy mode: every child born since 2004 has one.
    first_child = ordr == 0
    if certificates_per_couple is None:
        p_take = np.where(staff_couple[cidx], 0.85, 0.30) * np.where(wanted[cidx] == 1, 1.0, 0.2)
        cert = first_child & (cbirth >= _D2004) & (rng.random(NC) < p_take)
    else:
        cert = cbirth >= _D2004
    months = np.clip(np.round(rng.lognormal(np.log(6), 0.8, NC)), 1, 48).astype("int64")
    c_issue = cbirth + (months * 30.44).astype("int64")
    if certificates_per_couple is not None:
        c_issue = np.minimum(c_issue, _E)  # heavy mode: every child born since 2004 has one
    cert &= c_issue <= _E
    ce = np.flatnonzero(cert)
    ce_c = cidx[ce]
    second = np.full(C, _NEVER)
    sec_i = np.flatnonzero(ordr == 1)
    second[cidx[sec_i]] = cbirth[sec_i]
    if certificates_per_couple is None:
        rev = second[ce_c] + _uint(rng, 0, 90, ce.size)
        revoked = (second[ce_c] != _NEVER) & (rev <= _E) & (rev >= c_issue[ce])
    else:
        rev = np.zeros(ce.size, "int64")
        revoked = np.zeros(ce.size, bool)
    payee_anchor = rng.random(ce.size) < 0.97
    payee_is_wife = np.where(payee_anchor, anchor_wife[ce_c], ~anchor_wife[ce_c])
    payee = np.where(payee_is_wife, ce_c, C + ce_c)
    out["certificates"] = _table(
        "certificates",
        {
            "cert_id": _ids("GRZ", k, ce.size),
            "couple_id": couple_ids.take(pa.array(ce_c)),
            "child_id": child_ids.take(pa.array(ce)),
            "issue_date": _date(c_issue[ce]),
            "payee_id": person_ids.take(pa.array(payee)),
            "revoked_date": _date(rev, revoked),
        },
    )

    # ---- the responsible unit on a day: the anchor's unit while the anchor is on the books
    a_person = np.where(anchor_wife, np.arange(C), C + np.arange(C))
    a_hire = np.where(staff_couple, hire[a_person], -_NEVER)
    a_leave = np.where(staff_couple, leave[a_person], _NEVER)

    def responsible(d: int) -> np.ndarray:
        return (a_hire <= d) & (a_leave > d) & (marriage <= d) & (divorce > d)

    # aged 15-49 on day d  <=>  15th birthday <= d < 50th birthday
    turn15, turn50 = _birthday(w_birth, 15), _birthday(w_birth, 50)

    def childbearing(d: int) -> np.ndarray:
        return (turn15 <= d) & (turn50 > d)

    dil = diligence[anchor_unit]
    # ---- surveys: a baseline each year (staff couples), a follow-up each half-year
    if "surveys" in want:
        sv_c, sv_unit, sv_kind, sv_day, sv_prob, sv_rep = [], [], [], [], [], []
        for year in range(START.year, END.year + 1):
            y0 = int((np.datetime64(f"{year}-01-01", "D") - _EPOCH).astype(int))
            h2 = int((np.datetime64(f"{year}-07-01", "D") - _EPOCH).astype(int))
            y1 = int((np.datetime64(f"{year}-12-31", "D") - _EPOCH).astype(int))
            # (kind 0 baseline / 1 follow-up, window start, window end): the baseline's
            # window is the first quarter, a follow-up's its half-year
            waves = [(0, y0, y0 + 89), (1, y0, h2 - 1), (1, h2, y1)]
            for kind, d0, d1 in waves:
                if d0 > _E:
                    continue
                need = responsible(d0) & childbearing(d0)
                if kind == 0:
                    need &= staff_couple
                ci = np.flatnonzero(need)
                m = ci.size
                if not m:
                    continue
                fl = ~staff_couple[ci]
                base_miss = np.where(kind == 0, 0.05, np.where(fl, 0.12, 0.06))
                miss = np.minimum(base_miss * dil[ci], 0.6)
                late_p = np.where(kind == 0, 0.05, 0.04)
                r = rng_sv.random(m)
                in_window = d0 + np.floor(rng_sv.random(m) * (d1 - d0 + 1)).astype("int64")
                late = np.where(
                    kind == 0, d1 + _uint(rng_sv, 1, 60, m), d1 + _uint(rng_sv, 1, 45, m)
                )
                day = np.where(r < late_p, late, in_window)
                keep = (r >= late_p + miss) | (r < late_p)
                keep &= day <= _E
                ci, day, fl = ci[keep], day[keep], fl[keep]
                m = ci.size
                prob = rng_sv.random(m) < np.where(fl, 0.10, 0.06)
                rr = rng_sv.random(m)
                rep = np.where(
                    rr < 0.82, day + _uint(rng_sv, 0, 15, m), day + _uint(rng_sv, 16, 60, m)
                )
                rep = np.where(prob & (rr < 0.92) & (rep <= _E), rep, _NEVER)
                su = np.where(rng_sv.random(m) < 0.04, rng_sv.integers(0, U, m), anchor_unit[ci])
                sv_c.append(ci)
                sv_unit.append(su)
                sv_kind.append(np.full(m, kind))
                sv_day.append(day)
                sv_prob.append(prob)
                sv_rep.append(rep)
        if sv_c:
            sv = [np.concatenate(a) for a in (sv_c, sv_unit, sv_kind, sv_day, sv_prob, sv_rep)]
        else:
            sv = [np.zeros(0, "int64")] * 6
        o = np.lexsort((sv[2], sv[3], sv[0]))
        sv = [a[o] for a in sv]
        out["surveys"] = _table(
            "surveys",
            {
                "survey_id": _ids("S", k, sv[0].size),
                "couple_id": couple_ids.take(pa.array(sv[0])),
                "unit_id": unit_ids.take(pa.array(sv[1])),
                "kind": pa.array(["baseline", "followup"]).take(pa.array(sv[2])),
                "survey_date": _date(sv[3]),
                "problem_found": pa.array(sv[4].astype(bool)),
                "reported_date": _date(sv[5], sv[5] != _NEVER),
            },
        )

    # ---- check attendance: required women attend in the window (by unit diligence), 2% late
    if "check_attendance" in want:
        at_round, at_c, at_day = [], [], []
        preg_start, preg_end = g_det, np.where(g_kind == 0, _NEVER, g_out)
        for ri, (s, e) in enumerate(zip(rs.tolist(), re_.tolist(), strict=True)):
            need = responsible(s) & childbearing(s) & (sterilised_from > s)
            busy = g_couple[(preg_start <= s) & (preg_end + 30 >= s)]
            need[busy] = False
            ci = np.flatnonzero(need)
            m = ci.size
            miss = np.minimum(0.05 * dil[ci], 0.5)
            r = rng_at.random(m)
            day = np.where(
                r < 0.02,
                e + _uint(rng_at, 1, 20, m),
                s + np.floor(rng_at.random(m) * (e - s + 1)).astype("int64"),
            )
            keep = ((r >= 0.02 + miss) | (r < 0.02)) & (day <= _E)
            at_round.append(np.full(int(keep.sum()), ri))
            at_c.append(ci[keep])
            at_day.append(day[keep])
        at_r = np.concatenate(at_round) if at_round else np.zeros(0, "int64")
        at_cc = np.concatenate(at_c) if at_c else np.zeros(0, "int64")
        at_d = np.concatenate(at_day) if at_day else np.zeros(0, "int64")
        round_ids = pa.array(list(rids), type=pa.string())
        out["check_attendance"] = _table(
            "check_attendance",
            {
                "round_id": round_ids.take(pa.array(at_r)),
                "person_id": person_ids.take(pa.array(at_cc)),
                "attended_date": _date(at_d),
            },
        )

    # ---- hardship households and members (as fpanalysis.synth, vectorised the same way)
    if {"households", "household_members"} & want:
        out["households"], out["household_members"] = _households(
            rng_hh, k, hh, all_idn.slice(n, C), pools, standards
        )
    return out


_HH_TYPES = ("single_elderly", "orphan", "only_daughter", "two_daughters", "infertile", "general")
_HH_P = np.cumsum((0.14, 0.02, 0.12, 0.07, 0.04, 0.61))


def _household_plan(rng, n: int, standards) -> dict[str, np.ndarray]:
    """The households' kinds, heads and sizes (drawn before the ID numbers are made)."""
    kind = np.minimum(np.searchsorted(_HH_P, rng.random(n), side="right"), 5)
    single, orphan, only_d, two_d, infert, general = (kind == i for i in range(6))
    head_female = np.where(
        single, rng.random(n) < 0.6, np.where(orphan, rng.random(n) < 0.5, rng.random(n) >= 0.8)
    )
    lo = np.select([single, orphan, general], [62, 8, 25], 30)
    hi = np.select([single, orphan], [88, 17], 72)
    head_birth = _E - (rng.uniform(lo, hi + 0.99) * Y).astype("int64")
    has_spouse = np.select(
        [single | orphan, only_d, general], [False, rng.random(n) < 0.8, rng.random(n) < 0.75], True
    )
    spouse_birth = np.minimum(
        head_birth + (rng.normal(0, 2.5, n) * Y).astype("int64"), _E - int(20 * Y)
    )
    n_child = np.select(
        [only_d, two_d, general],
        [
            1,
            2,
            np.searchsorted(np.cumsum([0.1, 0.35, 0.4, 0.15]), rng.random(n), side="right").clip(
                0, 3
            ),
        ],
        0,
    )
    mother = np.where(head_female | ~has_spouse, head_birth, spouse_birth)
    first = mother + (rng.uniform(21, 26, n) * Y).astype("int64")
    gaps = (rng.uniform(1.5, 6, (2, n)) * Y).astype("int64")
    kb = np.vstack([first, first + gaps[0], first + gaps[0] + gaps[1]])
    fits = (kb <= _E - 30).sum(axis=0)
    n_child = np.where(general, np.minimum(n_child, fits), n_child)
    kb[1] = np.where(two_d, np.minimum(kb[1], _E - 30), kb[1])
    kb[0] = np.where(two_d, np.minimum(kb[0], kb[1] - 500), kb[0])
    kb[0] = np.where(only_d, np.minimum(kb[0], _E - 30), kb[0])
    n_other = np.where(
        orphan,
        rng.integers(0, 2, n),
        np.where(single, 0, np.searchsorted([0.7, 0.9], rng.random(n), side="right")),
    )
    base = 1 + has_spouse + n_child
    n_other = np.minimum(n_other, 6 - base)
    return {
        "kind": kind,
        "head_female": head_female,
        "head_birth": head_birth,
        "has_spouse": has_spouse,
        "spouse_birth": spouse_birth,
        "n_child": n_child,
        "kb": kb,
        "n_other": n_other,
        "size": base + n_other,
    }


def _households(rng, part, plan, head_idn, pools, standards) -> tuple[pa.Table, pa.Table]:
    n = len(plan["kind"])
    kind = plan["kind"]
    single, orphan, only_d, two_d, infert, general = (kind == i for i in range(6))
    hf, hb, has_sp = plan["head_female"], plan["head_birth"], plan["has_spouse"]
    n_child, kb, n_other, size = plan["n_child"], plan["kb"], plan["n_other"], plan["size"]
    area_urban = rng.random(n) < 0.4
    towns = pa.array(list(URBAN_TOWNSHIPS) + list(RURAL_TOWNSHIPS))
    town = np.where(
        area_urban,
        np.searchsorted([0.6, 0.8], rng.random(n), side="right"),
        3 + rng.integers(0, len(RURAL_TOWNSHIPS), n),
    )
    # member slots: head, spouse, children 1-3, others 1-2 (parents of the head / an orphan's siblings)
    r_ster = rng.random(n)
    ster_wife = (two_d & (r_ster < 0.85)) | (general & (n_child >= 2) & (r_ster < 0.1))
    ster_husband = two_d & (r_ster >= 0.85)
    head_ster = np.where(hf, ster_wife, ster_husband & has_sp) | (ster_husband & ~has_sp)
    spouse_ster = np.where(hf, ster_husband, ster_wife) & has_sp
    slots_h, slots_o, slots_rel, slots_f, slots_b, slots_known, slots_st = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )

    def slot(mask, order, rel, female, b, st=None, known=None):
        i = np.flatnonzero(mask)
        slots_h.append(i)
        slots_o.append(np.full(i.size, order))
        slots_rel.append(np.full(i.size, rel))
        slots_f.append(np.asarray(female)[i])
        slots_b.append(np.asarray(b)[i])
        slots_known.append(np.ones(i.size, bool) if known is None else np.asarray(known)[i])
        slots_st.append(np.zeros(i.size, bool) if st is None else np.asarray(st)[i])

    slot(np.ones(n, bool), 0, 0, hf, hb, head_ster)
    slot(has_sp, 1, 1, ~hf, plan["spouse_birth"], spouse_ster)
    for j in range(3):
        girl = only_d | two_d | (rng.random(n) >= _BOY_P)
        slot(n_child > j, 2 + j, 2, girl, kb[j])
    for j in range(2):
        ob = np.where(
            orphan,
            hb + (rng.uniform(-6, 6, n) * Y).astype("int64"),
            hb - (rng.uniform(22, 32, n) * Y).astype("int64"),
        )
        ob = np.minimum(ob, _E - 365)
        slot(n_other > j, 5 + j, 3, rng.random(n) < 0.5, ob, known=rng.random(n) >= 0.05)
    mh, mo, mrel, mf, mb, mk, mst = (
        np.concatenate(a)
        for a in (slots_h, slots_o, slots_rel, slots_f, slots_b, slots_known, slots_st)
    )
    o = np.lexsort((mo, mh))
    mh, mrel, mf, mb, mk, mst = mh[o], mrel[o], mf[o], mb[o], mk[o], mst[o]
    disabled = rng.random(mh.size) < np.where(single[mh], 0.25, 0.07)
    any_dis = np.zeros(n, bool)
    any_dis[mh[disabled]] = True
    widowed = single | (only_d & ~has_sp)
    flags = [
        ("disabled", any_dis & (rng.random(n) < 0.8)),
        ("orphan", orphan),
        ("other", rng.random(n) < 0.04),
        ("widow", widowed & hf),
        ("widower", widowed & ~hf),
    ]  # sorted by code, joined by ";" (as the loaders normalise a set)
    groups = pa.array(np.full(n, ""))
    for code, f in flags:
        with_code = pc.if_else(
            pc.equal(groups, ""),
            pa.scalar(code),
            pc.binary_join_element_wise(groups, pa.scalar(code), ";"),
        )
        groups = pc.if_else(pa.array(f), with_code, groups)
    groups = pc.if_else(pc.equal(groups, ""), pa.scalar(None, pa.string()), groups)
    declared_code = np.select([only_d, two_d, infert], [0, 1, 2], -1)
    declared_code = np.where(rng.random(n) < 0.85, declared_code, -1)
    infertile_val = np.where(infert, True, False)
    infertile_null = ~infert & (rng.random(n) < 0.05)
    std = np.where(area_urban, float(standards["urban"]), float(standards["rural"]))
    r = np.where(rng.random(n) < 0.72, rng.beta(2.0, 1.6, n), rng.uniform(1.0, 1.8, n))
    r = np.where((orphan | single) & (rng.random(n) < 0.1), 0.0, r)
    income = np.round(r * std * size)
    cents = rng.random(n) < 0.25
    income = np.where(cents & (income > 0), income + rng.integers(1, 100, n) / 100, income)
    pc_ratio = income / (std * size)
    band = np.select([pc_ratio < 0.3, pc_ratio < 0.6], [1, 2], 3)
    tier = np.clip(np.where(rng.random(n) < 0.8, band, band + rng.choice([-1, 1], size=n)), 1, 3)
    has_tier = (pc_ratio < 1.0) & (rng.random(n) < 0.35)
    applied = _D2016 + np.floor(rng.random(n) * (_E - 10 - _D2016)).astype("int64")
    settled = applied <= _E - 120
    receiving = settled & (rng.random(n) < np.where(pc_ratio < 1.0, 0.75, 0.2))
    review = np.maximum(applied, _E - _uint(rng, 10, 330, n))
    hh_ids = _ids("H", part, n)
    households = _table(
        "households",
        {
            "household_id": hh_ids,
            "head_name": pools.names(rng, hf),
            "head_id_number": head_idn,
            "area": pa.array(np.where(area_urban, "urban", "rural")),
            "township": towns.take(pa.array(town)),
            "size": pa.array(size.astype("int64")),
            "monthly_income": pa.array(income),
            "assessed_tier": pa.array(tier.astype("int64"), mask=~has_tier),
            "special_groups": groups,
            "infertile": pa.array(infertile_val, mask=infertile_null),
            "declared_fp_type": pa.array(
                ["only_daughter", "two_daughters_sterilized", "infertile"]
            ).take(pa.array(np.maximum(declared_code, 0), mask=declared_code < 0)),
            "application_date": _date(applied),
            "receiving": pa.array(receiving),
            "last_review_date": _date(review, receiving),
        },
    )
    members = _table(
        "household_members",
        {
            "member_id": _ids("M", part, mh.size),
            "household_id": hh_ids.take(pa.array(mh)),
            "relation": pa.array(["head", "spouse", "child", "other"]).take(pa.array(mrel)),
            "sex": pa.array(np.where(mf, "F", "M")),
            "birth_date": _date(mb, mk),
            # the other members' sterilisation is not recorded (empty)
            "sterilized": pa.array(mst, mask=mrel == 3),
            "disabled": pa.array(disabled),
        },
    )
    return households, members


# --------------------------------------------------------------------------- the dataset


def generate_partitioned(
    out_dir: str | os.PathLike,
    people: int,
    *,
    seed: int = 20241,
    partition_people: int = DEFAULT_PARTITION_PEOPLE,
    tables: Iterable[str] | None = None,
    certificates_per_couple: float | None = None,
    progress=None,
) -> dict[str, int]:
    """Write ``people`` persons (and everything that goes with them) as partitioned Parquet.

    Args:
        out_dir: the dataset folder (created; a folder per table inside). Part
            files already there for a table written now are replaced; stale
            higher-numbered parts of a previous larger run are removed.
        people: rows of ``persons`` (at least 1).
        seed: the seed; same seed, ``people`` and ``partition_people`` ->
            byte-identical files.
        partition_people: persons per partition (the last one takes the rest).
        tables: English table names to write (default every table).
        certificates_per_couple: certificates-heavy mode (module docstring).
        progress: optional callable ``(part, n_parts)`` called after each partition.

    Returns:
        rows written per table.

    Raises:
        UsageError: ``people`` or ``partition_people`` below 1, an unknown table.
    """
    if people < 1:
        raise UsageError("人数必须至少为 1", "people must be at least 1", value=people)
    if not 1 <= partition_people <= MAX_PARTITION_PEOPLE:
        raise UsageError(
            f"每个分区的人数应在 1 到 {MAX_PARTITION_PEOPLE} 之间",
            f"partition_people must be between 1 and {MAX_PARTITION_PEOPLE}",
            value=partition_people,
        )
    if certificates_per_couple is not None and not 0 <= certificates_per_couple <= 20:
        raise UsageError(
            "每对夫妻的光荣证数应在 0 到 20 之间",
            "certificates_per_couple must be between 0 and 20",
            value=certificates_per_couple,
        )
    wanted = list(schema.TABLES) if tables is None else list(tables)
    for t in wanted:
        if t not in schema.TABLES:
            raise UsageError(f"未知的表：{t}", f"unknown table: {t}", value=t)
    wanted = [t for t in schema.TABLES if t in wanted]
    out = Path(out_dir)
    n_parts = -(-int(people) // int(partition_people))
    from fpanalysis.core.params import load_params

    params = load_params()
    standards = {a: float(params.dibao_standard(a, END.date())) for a in ("urban", "rural")}
    rounds_tab, rids, rs, re_ = _check_rounds(seed)
    counts = {t: 0 for t in wanted}
    out.mkdir(parents=True, exist_ok=True)
    units_writer = None
    units_tmp = None
    try:
        if "units" in wanted:
            (out / "units").mkdir(exist_ok=True)
            fd, units_tmp = tempfile.mkstemp(
                prefix=".part-00000.parquet.", suffix=".tmp", dir=out / "units"
            )
            os.close(fd)
        for part in range(n_parts):
            n = min(partition_people, people - part * partition_people)
            tabs = partition_tables(
                seed,
                part,
                n,
                n_partitions=n_parts,
                certificates_per_couple=certificates_per_couple,
                rounds=(rids, rs, re_),
                standards=standards,
                tables=wanted,
            )
            for t in wanted:
                if t in REFERENCE_TABLES:
                    continue
                _write(tabs[t], out / t / f"part-{part:05d}.parquet")
                counts[t] += tabs[t].num_rows
            if "units" in wanted:
                if units_writer is None:
                    units_writer = pq.ParquetWriter(
                        units_tmp,
                        tabs["units"].schema,
                        use_dictionary=_dictionary_columns(tabs["units"]),
                        **_PARQUET_OPTS,
                    )
                units_writer.write_table(tabs["units"])
                counts["units"] += tabs["units"].num_rows
            del tabs
            if progress is not None:
                progress(part, n_parts)
        if units_writer is not None:
            units_writer.close()
            units_writer = None
            Path(units_tmp).chmod(0o644)
            Path(units_tmp).replace(out / "units" / "part-00000.parquet")
            units_tmp = None
        if "check_rounds" in wanted:
            _write(rounds_tab, out / "check_rounds" / "part-00000.parquet")
            counts["check_rounds"] = rounds_tab.num_rows
        # a previous, larger run may have left more parts: they are not part of this dataset
        for t in wanted:
            last = 0 if t in REFERENCE_TABLES else n_parts - 1
            for f in (out / t).glob("part-*.parquet"):
                m = re.fullmatch(r"part-(\d+)\.parquet", f.name)
                if m and int(m.group(1)) > last:
                    f.unlink()
    finally:
        if units_writer is not None:
            units_writer.close()
        if units_tmp is not None:
            Path(units_tmp).unlink(missing_ok=True)
    return counts
