"""Certificates to payment segments (rulebook §5), the fast path of the reward: one pass of array
look-ups joins every certificate to its child, couple and payee, and writes, for both split modes,
which unit pays which share of the amount from which month to which (block by block, in two threads
on province-sized tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core.dataset import arrow_text
from fpanalysis.core.textnumbers import one_array
from fpanalysis.rules.bonus import parallel
from fpanalysis.rules.bonus.months import FAR_FUTURE, FAR_PAST, MODES, SHARES, month_or

#: The tables the reward reads.
TABLES_NEEDED = ["units", "persons", "couples", "children", "certificates"]
#: Columns of those tables that the reward never reads (validated with the rest, then let go): a
#: person's name and resident ID number.
COLUMNS_UNUSED = {"persons": ("name", "id_number")}
SEGMENT_COLUMNS = ["cert_id", "mode", "unit_id", "share", "first_m", "end_m", "birth_m"]
#: The pieces of a spouse's months under ``split = half``: alone on the payroll before the other
#: spouse is on it, both on it, alone after the other has left.
PIECES = ("alone_before", "together", "alone_after")


def _on_payroll_person(p: pd.DataFrame) -> np.ndarray:
    return (
        ((p["category"] == "staff") & p["unit_id"].notna() & p["hire_date"].notna())
        .fillna(False)
        .to_numpy(bool)
    )


def _ids(values: Any) -> Any:
    """Key values as an array: int64 for integer keys without gaps, pyarrow text for pandas'
    pyarrow-backed ``str`` (no Python string per key), else a numpy array of objects."""
    if isinstance(values, np.ndarray | pa.Array | pa.ChunkedArray):
        return values
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype.kind in "iu":
        return s.to_numpy(np.int64)
    if isinstance(s.dtype, pd.Int64Dtype | pd.Int32Dtype) and not s.hasnans:
        return s.to_numpy(np.int64)
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return arrow_text(s)
    return s.to_numpy(object) if s.dtype != object else s.to_numpy()


def _is_text(a: Any) -> bool:
    return isinstance(a, pa.Array | pa.ChunkedArray) and (
        pa.types.is_string(a.type) or pa.types.is_large_string(a.type)
    )


def _numpy_ids(a: Any) -> np.ndarray:
    """Keys as :func:`_ids` gives them for a numpy look-up (pyarrow text as objects)."""
    if isinstance(a, pa.Array | pa.ChunkedArray):
        return pd.Series(a.to_pandas(), dtype=object).to_numpy(object)
    return a


def _take_ids(ids: Any, pos: np.ndarray) -> Any:
    """``ids[pos]`` for the arrays :func:`_ids` gives (``pos`` within bounds)."""
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        return ids.take(pa.array(pos))
    return ids[pos]


def lookup(keys: Any, values: Any) -> np.ndarray:
    """Position in ``keys`` of each of ``values`` (the first of repeated keys; -1 when absent).

    Integer keys in ascending order (what a register numbered in order gives)
    are searched by bisection: ``values`` sorted first unless they already
    are, since bisecting in random order misses the cache at every step. Any
    other key is hashed (``pandas.Index.get_indexer``).

    Examples:
        >>> lookup(np.array([10, 20, 20, 30]), np.array([30, 20, 25])).tolist()
        [3, 1, -1]
        >>> lookup(pd.Series(["b", "a", "b"]), pd.Series(["a", "b", "c"])).tolist()
        [1, 0, -1]
    """
    k, v = _ids(keys), _ids(values)
    if len(k) == 0 or len(v) == 0:
        return np.full(len(v), -1, np.int64)
    if _is_text(k) and _is_text(v):
        # text keys hashed by pyarrow: the first position of each value, as below (a missing
        # value finds a missing key, as pandas' hashing finds NaN)
        k = one_array(k)
        if k.type != v.type:
            k = k.cast(v.type)
        found = pc.index_in(v, value_set=k).fill_null(-1)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    k, v = _numpy_ids(k), _numpy_ids(v)
    if k.dtype.kind in "iu" and v.dtype.kind in "iu" and bool(np.all(k[1:] >= k[:-1])):
        first, last = int(k[0]), int(k[-1])
        if last - first == len(k) - 1 and (len(k) < 2 or bool(np.all(k[1:] != k[:-1]))):
            # consecutive numbers (a register numbered 1..n): the position is the number's offset,
            # like a database's perfect-hash join on a dense integer key
            pos = v - first
            pos[(v < first) | (v > last)] = -1
            return pos
        if bool(np.all(v[1:] >= v[:-1])):
            pos = np.searchsorted(k, v)
        else:
            order = np.argsort(v)
            pos = np.empty(len(v), np.int64)
            pos[order] = np.searchsorted(k, v[order])
        np.minimum(pos, len(k) - 1, out=pos)
        pos[k[pos] != v] = -1
        return pos
    idx = pd.Index(k)
    if idx.is_unique:
        return idx.get_indexer(v).astype(np.int64, copy=False)
    first = ~idx.duplicated(keep="first")
    pos = pd.Index(idx[first]).get_indexer(v)
    return np.where(pos >= 0, np.flatnonzero(first)[np.maximum(pos, 0)], -1)


def take(arr: np.ndarray, pos: np.ndarray, missing: Any) -> np.ndarray:
    """``arr[pos]`` with ``missing`` where ``pos`` is -1."""
    if len(arr) == 0:
        return np.full(
            len(pos),
            missing,
            dtype=np.asarray(missing).dtype if not isinstance(missing, bool) else bool,
        )
    absent = pos < 0
    if not absent.any():  # the usual case: every key found, no clipped copy of the positions
        return arr[pos]
    out = arr[np.maximum(pos, 0)]
    out[absent] = missing
    return out


def factorize_units(units: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 = missing) and labels (order of first appearance) of a unit column.

    A pyarrow-backed string column is dictionary-encoded by pyarrow (several
    times faster than hashing through pandas on tens of millions of rows).
    """
    arr = units.array
    pa_arr = getattr(arr, "_pa_array", None)
    if pa_arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        enc = one_array(pc.dictionary_encode(pa_arr))
        if pa.types.is_string(enc.type.value_type) or pa.types.is_large_string(enc.type.value_type):
            ind = enc.indices if enc.null_count == 0 else enc.indices.fill_null(-1)
            codes = np.asarray(ind.to_numpy(zero_copy_only=False))
            return codes, pd.Index([str(u) for u in enc.dictionary.to_pylist()], dtype="str")
    codes, labels = pd.factorize(units.reset_index(drop=True))  # NaN -> -1
    return codes, pd.Index([str(u) for u in labels], dtype="str")


def certificate_segments(
    tables: Mapping[str, pd.DataFrame],
    *,
    with_info: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Payment segments of every certificate, for both split modes (rulebook §5).

    A segment says: under split ``mode``, unit ``unit_id`` pays ``share`` of the
    amount in each month m with ``first_m ≤ m ≤ end_m`` and
    ``m ≤ birth_m + 12 × age_cap``. Months are month indices (:func:`month_index`).
    Under ``half`` the split is judged month by month: a spouse's months are cut
    where the other spouse joins or leaves the payroll, ``share`` being the
    payee's or the other half in the months both are on it and ``full`` in the
    others. One pass of array look-ups: the person attributes are computed once, then
    taken for payees, wives and husbands by position.

    Args:
        tables: needs ``certificates``, ``children``, ``persons``, ``couples``.
        with_info: also return the per-certificate frame (``None`` otherwise:
            a projection does not need it).

    Returns:
        ``(segments, certs)``: segments with :data:`SEGMENT_COLUMNS` (``share``
        and ``mode`` as codes into :data:`SHARES`, :data:`MODES`; ``unit_id``
        categorical), and one row per certificate with ``cert_id``,
        ``couple_id``, ``payee_id``, ``category``, ``payee_unit_id``,
        ``issue_m``, ``birth_m``, ``stop_m`` (last month before revocation) and
        ``in_budget_payee`` / ``in_budget_half`` (a bureau payer exists under
        that split).
    """
    certs = tables["certificates"]
    persons = tables["persons"]
    children = tables["children"]
    couples = tables["couples"]

    p_ids = _ids(persons["person_id"])

    # Person attributes, once; then only positions are carried per certificate and the attributes
    # are gathered for the segments that exist (fewer full-length temporaries on province-sized
    # tables).
    def person_units():
        return factorize_units(persons["unit_id"])

    def person_side():
        p_ok = _on_payroll_person(persons)
        # int32 months (sentinels ±10**7 fit): half the memory first touched on province-sized
        # tables
        p_hire = month_or(persons["hire_date"], FAR_FUTURE, np.int32)
        p_leave = month_or(persons["leave_date"], FAR_FUTURE, np.int32)
        return p_ok, p_hire, p_leave

    def cert_side():
        pos_child = lookup(children["child_id"], certs["child_id"])
        birth_m = take(
            month_or(children["birth_date"], FAR_PAST, np.int32), pos_child, FAR_PAST
        )  # unknown child: never paid
        del pos_child
        pos_couple = lookup(couples["couple_id"], certs["couple_id"])
        issue_m = month_or(certs["issue_date"], FAR_FUTURE, np.int32)  # no issue date: never paid
        stop_m = month_or(certs["revoked_date"], FAR_FUTURE + 1, np.int32)
        stop_m -= 1

        def spouse(column: str) -> np.ndarray:
            ids = _ids(couples[column])
            if len(ids) == 0:
                return np.full(len(pos_couple), -1, np.int64)
            unknown = pos_couple < 0
            if not unknown.any():  # every couple found: no clipped copy of the positions
                return lookup(p_ids, _take_ids(ids, pos_couple))
            pos = lookup(p_ids, _take_ids(ids, np.maximum(pos_couple, 0)))
            pos[unknown] = -1  # unknown couple: no spouses
            return pos

        # positions kept as int32 when the persons table allows: three full-length arrays held until
        # the segments are written, at half the memory
        narrow = np.int32 if len(p_ids) < 2**31 - 1 else np.int64
        payee_pos = lookup(p_ids, certs["payee_id"]).astype(narrow, copy=False)
        wife_pos = spouse("wife_id").astype(narrow, copy=False)
        husb_pos = spouse("husband_id").astype(narrow, copy=False)
        return birth_m, issue_m, stop_m, payee_pos, wife_pos, husb_pos

    with parallel.pool(len(certs)) as pool:
        # the persons' units, their other attributes and the certificate side are independent: when
        # the tables are large two pool threads take the person side, in two jobs of about equal
        # length, while this thread does the certificate side (numpy and pyarrow release the GIL),
        # otherwise one after the other
        units_job = pool.submit(person_units)
        person_job = pool.submit(person_side)
        birth_m, issue_m, stop_m, payee_pos, wife_pos, husb_pos = cert_side()
        unit_codes, unit_labels = units_job.result()
        p_ok, p_hire, p_leave = person_job.result()
    pay_ok = take(p_ok, payee_pos, False)
    w_ok = take(p_ok, wife_pos, False)
    h_ok = take(p_ok, husb_pos, False)

    # split = payee: the payee's unit pays all while the payee is on the payroll. split = half,
    # judged month by month: a spouse on the bureau's payroll pays half in the months the other
    # spouse is on it too (the payee's half has the odd fen; a payee who is neither spouse counts
    # as the wife), and all of it in the months the other is not: before the other's hire, after
    # the other's leaving, throughout when the other is no bureau staff. Each spouse's months are
    # thus cut into up to three pieces (PIECES): alone before the other, together, alone after.
    def piece_months(kind, rows, pos, other_pos, other_ok):
        """First and last month of a spouse's piece ``kind`` for certificates ``rows``."""
        pp = pos[rows]
        lo = np.maximum(issue_m[rows], p_hire[pp])
        hi = np.minimum(stop_m[rows], p_leave[pp])
        ok = other_ok[rows]
        op = np.maximum(other_pos[rows], 0)  # the other is unknown: not on the payroll (ok False)
        o_hire, o_leave = p_hire[op], p_leave[op]
        if kind == "alone_before":  # before the other's hire (throughout when never on it)
            np.minimum(hi, np.where(ok, o_hire - 1, FAR_FUTURE), out=hi)
        elif kind == "together":
            np.maximum(lo, o_hire, out=lo)
            np.minimum(hi, o_leave, out=hi)
            hi[~ok] = FAR_PAST
        else:  # alone_after: after the other's leaving (or hire, whichever is later)
            np.maximum(lo, np.maximum(o_leave, o_hire - 1) + 1, out=lo)
            hi[~ok] = FAR_PAST
        return lo, hi

    payee_is_husband = (husb_pos >= 0) & (payee_pos == husb_pos)
    full, major, minor = (np.int8(SHARES.index(x)) for x in SHARES)
    half_mode = MODES.index("half")
    spouses = (
        (wife_pos, w_ok, husb_pos, h_ok, np.where(payee_is_husband, minor, major)),
        (husb_pos, h_ok, wife_pos, w_ok, np.where(payee_is_husband, major, minor)),
    )
    del payee_is_husband
    n_certs = len(certs)
    # leg: (mask, mode, payer positions, share code(s), piece kind, other spouse's side); the
    # payee leg has no piece kind (its months are the payer's payroll months)
    legs: list[tuple] = [(pay_ok, MODES.index("payee"), payee_pos, full, None, None)]
    for pos, ok, other_pos, other_ok, together_share in spouses:
        for kind in PIECES:
            mask = np.zeros(n_certs, bool)
            for b0 in range(0, n_certs, parallel.BLOCK):  # block by block: small temporaries
                rows = np.flatnonzero(ok[b0 : b0 + parallel.BLOCK])
                rows += b0
                lo, hi = piece_months(kind, rows, pos, other_pos, other_ok)
                mask[rows[lo <= hi]] = True  # an empty piece is no segment
            share_code = together_share if kind == "together" else full
            legs.append((mask, half_mode, pos, share_code, kind, (other_pos, other_ok)))

    # Every column is written once into its final array (no per-leg pieces concatenated afterwards).
    # The work is cut in pieces of one leg and one block of certificates, each writing its own slice
    # of every column, so that two threads share it evenly (legs of unequal size would not).
    pieces = []  # (leg, first certificate, first segment row)
    total = 0
    for k, leg in enumerate(legs):
        for b0 in range(0, n_certs, parallel.BLOCK):
            pieces.append((k, b0, total))
            total += int(np.count_nonzero(leg[0][b0 : b0 + parallel.BLOCK]))
    cert_ids = certs["cert_id"].reset_index(drop=True)
    # integer certificate ids (numpy) are gathered block by block like the other columns; any other
    # kind (strings, nullable) through one index array and the array's own take
    cert_np = (
        cert_ids.to_numpy()
        if cert_ids.dtype.kind in "iu" and isinstance(cert_ids.dtype, np.dtype)
        else None
    )
    cid = np.empty(total, cert_np.dtype) if cert_np is not None else None
    idx = np.empty(total, np.int64) if cert_np is None else None
    mode = np.empty(total, np.int8)
    # codes as narrow as the categorical will store them, so that it takes them without a copy
    unit = np.empty(total, np.int16 if len(unit_labels) < 2**15 else np.int32)
    share = np.empty(total, np.int8)
    first = np.empty(total, np.int64)
    end = np.empty(total, np.int64)
    birth = np.empty(total, np.int64)

    def fill(k: int, b0: int, o: int) -> None:  # leg k, certificates b0 .. b0 + BLOCK - 1
        mask, mode_code, pos, share_code, kind, other = legs[k]
        # block by block: the gathered temporaries stay small (in the cache) and are reused
        rows = np.flatnonzero(mask[b0 : b0 + parallel.BLOCK])
        rows += b0
        sl = slice(o, o + len(rows))
        mode[sl] = mode_code
        if cid is not None:
            cid[sl] = cert_np[rows]
        else:
            idx[sl] = rows
        share[sl] = share_code if np.ndim(share_code) == 0 else share_code[rows]
        pp = pos[rows]
        unit[sl] = unit_codes[pp]
        if kind is None:
            np.maximum(issue_m[rows], p_hire[pp], out=first[sl])
            np.minimum(stop_m[rows], p_leave[pp], out=end[sl])
        else:
            first[sl], end[sl] = piece_months(kind, rows, pos, *other)
        birth[sl] = birth_m[rows]

    with parallel.pool(total) as pool:
        for job in [pool.submit(fill, *piece) for piece in pieces]:
            job.result()
    legs.clear()  # drop the masks early

    if total:
        # copy=False: no consolidation of the int columns into one block (a full copy of every
        # segment)
        seg = pd.DataFrame(
            {
                "cert_id": cid if cid is not None else cert_ids.array.take(idx),
                "mode": mode,
                "unit_id": pd.Categorical.from_codes(unit, categories=unit_labels, validate=False),
                "share": share,
                "first_m": first,
                "end_m": end,
                "birth_m": birth,
            },
            copy=False,
        )
    else:
        seg = pd.DataFrame(
            {
                c: pd.Series([], dtype=t)
                for c, t in zip(
                    SEGMENT_COLUMNS,
                    ["str", "int8", "str", "int8", "int64", "int64", "int64"],
                    strict=True,
                )
            }
        )
    if not with_info:
        return seg, None
    cat = take(persons["category"].to_numpy(object), payee_pos, None)
    pay_unit = take(unit_codes, payee_pos, -1)
    pay_unit_label = np.where(
        pay_unit >= 0,
        unit_labels.to_numpy(object)[np.maximum(pay_unit, 0)] if len(unit_labels) else None,
        None,
    )
    info = pd.DataFrame(
        {
            "cert_id": cert_ids.to_numpy(),
            "couple_id": certs["couple_id"].to_numpy(),
            "payee_id": certs["payee_id"].to_numpy(),
            "category": cat,
            "payee_unit_id": pay_unit_label,
            "issue_m": issue_m.astype(np.int64),
            "birth_m": birth_m.astype(np.int64),
            "stop_m": stop_m.astype(np.int64),
            "in_budget_payee": pay_ok,
            "in_budget_half": w_ok | h_ok,
        }
    )
    return seg, info
