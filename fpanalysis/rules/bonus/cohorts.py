"""Segments folded into cohorts and the committed payments projected from them (rulebook §5). A
cohort is the segments with the same split mode, paying unit, share, first paid month, last
payroll or revocation month and the child's birth month (not the last paid month, so a new age cap
needs no second look at the certificates); :func:`project_cohorts` evaluates the rule over the
cohorts, at a cost that depends on their number, not on the certificates'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fpanalysis.rules.bonus import parallel
from fpanalysis.rules.bonus.months import MAX_AGE_CAP, MonthlyParams

#: What a cohort is keyed by: the child's birth month rather than the last paid month, so that any
#: age cap re-projects from cohorts alone.
COHORT_KEYS = ["mode", "unit_id", "share", "first_m", "end_m", "birth_m"]
#: Largest dense count table the fold allocates (int64 cells).
DENSE_MAX = 1 << 25
#: Most cohorts :func:`project_cohorts` reads at once: its temporaries (~130 bytes a cohort) stay
#: near 130 MB per thread however many cohorts a province has.
PROJECT_SLICE = 1 << 20


@dataclass(frozen=True)
class Cohorts:
    """Segments folded into cohorts: numpy columns plus the unit labels.

    ``unit`` is a code into ``units``; ``count`` is how many certificates the
    cohort holds. Built once; every projection works from this form only.
    """

    units: tuple[str, ...]
    mode: np.ndarray
    unit: np.ndarray
    share: np.ndarray
    first_m: np.ndarray
    end_m: np.ndarray
    birth_m: np.ndarray
    count: np.ndarray
    start_m: int
    max_months: int | None = None

    def __len__(self) -> int:
        return len(self.count)

    @property
    def certificates(self) -> int:
        """Segments folded in (a ``half`` certificate counts once per segment: twice when two units
        pay, more when a spouse joins or leaves the payroll)."""
        return int(self.count.sum())


def compress(
    segments: pd.DataFrame, start_m: int, units: Sequence[str] = (), max_months: int | None = None
) -> Cohorts:
    """Fold segments into cohorts from ``start_m`` on (months before it are dropped).

    A segment that ends before ``start_m``, or whose child is older than
    :data:`MAX_AGE_CAP` throughout, can never be paid from ``start_m`` on and is
    dropped; ``first_m`` is raised to ``start_m`` so that certificates issued
    before the start share one cohort, and ``end_m`` is lowered to the month of
    the child's 30th birthday (no cap allows more). With ``max_months`` the
    cohorts serve projections of at most that many months only: ends are
    lowered to the horizon's last month and segments that start after it are
    dropped, which bounds the number of cohorts whatever the number of
    certificates.

    Examples:
        >>> seg = pd.DataFrame({"cert_id": ["A", "B", "C"], "mode": [0, 0, 0],
        ...     "unit_id": ["U1"] * 3, "share": [0, 0, 0], "first_m": [24000, 24100, 24400],
        ...     "end_m": [10**7] * 3, "birth_m": [24200, 24200, 24200]})
        >>> c = compress(seg, 24300)
        >>> len(c), c.count.tolist(), c.first_m.tolist(), c.end_m.tolist()
        (2, [2, 1], [24300, 24400], [24560, 24560])
    """
    s = segments
    n = len(s)
    horizon_end = None if max_months is None else start_m + max_months - 1
    first_all = s["first_m"].to_numpy(np.int64)
    end_all = s["end_m"].to_numpy(np.int64)
    birth_all = s["birth_m"].to_numpy(np.int64)
    # Rows are cut in two halves folded by two threads when there are many (see parallel.pool); the
    # counts add up.
    half = (n + 1) // 2
    bounds = [(0, half), (half, n)] if n >= parallel.PARALLEL_MIN else [(0, n)]

    # The clipped month columns are held as int32 when every value a kept row can have fits (month
    # indices do; sentinels too): half the memory. Values of rows that are dropped are clipped into
    # that range too (a first month past the last possible end, an end before the start: still
    # dropped).
    b_max = int(birth_all.max()) if n else 0
    first_cap = b_max + 12 * MAX_AGE_CAP + 1  # past every row's end
    narrow = -(2**31) <= start_m - 1 and max(start_m, first_cap) < 2**31 - 1
    mdt = np.int32 if narrow else np.int64
    unit_col = s["unit_id"]
    # segments from certificate_segments: the unit codes are there already; only categories in use
    # count
    codes = (
        unit_col.cat.codes.to_numpy() if isinstance(unit_col.dtype, pd.CategoricalDtype) else None
    )
    n_cats = len(unit_col.cat.categories) if codes is not None else 0

    def prepare(lo: int, hi: int):
        m = hi - lo
        first, end = np.empty(m, mdt), np.empty(m, mdt)
        keep, typical = np.empty(m, bool), np.empty(m, bool)
        kept_per_cat = np.zeros(n_cats + 1, np.int64)  # kept rows per code + 1 (0: none, dropped)
        for b0 in range(0, m, parallel.BLOCK):  # block by block: the int64 temporaries stay small
            b1 = min(b0 + parallel.BLOCK, m)
            f = np.maximum(first_all[lo + b0 : lo + b1], start_m)
            seg_end = end_all[lo + b0 : lo + b1]
            # Beyond the child's 30th birthday month nothing is ever paid (MAX_AGE_CAP), so the end
            # can be clipped there: this bounds every month column, which lets the six keys pack
            # into one int64.
            e = birth_all[lo + b0 : lo + b1] + 12 * MAX_AGE_CAP
            if horizon_end is not None:
                np.minimum(e, horizon_end, out=e)
            # Typical: paid from the start month until the horizon ends or the child turns 30,
            # neither payroll nor revocation ending it first (the segment's own end is no earlier
            # than that one). Such a row's key is (mode, unit, share, birth) alone.
            t = seg_end >= e
            np.minimum(e, seg_end, out=e)
            k = f <= e
            t &= f == start_m
            t &= k
            keep[b0:b1], typical[b0:b1] = k, t
            if codes is not None:
                cb = codes[lo + b0 : lo + b1].astype(np.intp)
                cb += 1
                cb *= k
                kept_per_cat += np.bincount(cb, minlength=n_cats + 1)
            if narrow:
                np.minimum(f, first_cap, out=f)
                np.maximum(e, start_m - 1, out=e)
            first[b0:b1], end[b0:b1] = f, e
        return first, end, keep, typical, kept_per_cat

    with parallel.pool(n) as pool:
        prepared = [job.result() for job in [pool.submit(prepare, lo, hi) for lo, hi in bounds]]

    if codes is not None:
        used = sum(p[4] for p in prepared)[1:] > 0
        cats = [str(x) for x in unit_col.cat.categories]
        labels = [c for c, u in zip(cats, used, strict=True) if u]
        all_units = sorted(set(units) | set(labels))
        recode = np.append(pd.Index(all_units).get_indexer(cats), -1)  # code -1 (no unit) -> -1
        recode = recode.astype(np.int16 if len(all_units) < 2**15 else np.int32)  # narrow row codes

        def unit_of(lo: int, hi: int) -> np.ndarray:
            return recode[codes[lo:hi]]
    else:
        keep = prepared[0][2] if len(prepared) == 1 else np.concatenate([p[2] for p in prepared])
        fcodes, fl = pd.factorize(unit_col.reset_index(drop=True)[keep])
        labels = [str(x) for x in fl]
        all_units = sorted(set(units) | set(labels))
        unit_code = np.zeros(n, np.int64)
        unit_code[keep] = (
            pd.Index(all_units).get_indexer(labels)[fcodes]
            if len(fcodes)
            else np.zeros(0, np.int64)
        )

        def unit_of(lo: int, hi: int) -> np.ndarray:
            return unit_code[lo:hi]

    mode_all, share_all = s["mode"].to_numpy(), s["share"].to_numpy()

    def columns(k: int) -> list[np.ndarray]:
        (lo, hi), (first, end, *_) = bounds[k], prepared[k]
        return [mode_all[lo:hi], unit_of(lo, hi), share_all[lo:hi], first, end, birth_all[lo:hi]]

    uniq, count = _fold(columns, prepared, n, start_m, horizon_end, len(all_units))
    return Cohorts(
        units=tuple(all_units),
        mode=uniq[0].astype(np.int8),
        unit=uniq[1],
        share=uniq[2].astype(np.int8),
        first_m=uniq[3],
        end_m=uniq[4],
        birth_m=uniq[5],
        count=count.astype(np.int64),
        start_m=start_m,
        max_months=max_months,
    )


def _fold(columns, prepared, n: int, start_m: int, horizon_end: int | None, n_units: int):
    """Distinct kept rows of the six key columns (mode, unit, share, first, end, birth), in order.

    ``columns(k)`` gives chunk k's six columns and ``prepared[k]`` its
    ``(first, end, keep, typical, ...)`` (the list is emptied once the rows
    are folded, so that its full-length arrays are freed early). The keys are
    packed mixed-radix into one int64. *Typical* rows (see :func:`compress`)
    are counted in a dense table over (mode, unit, share, birth month) with
    ``np.bincount`` (no hashing), one table per chunk, added up; the other
    kept rows by a hash factorize of their packed keys. The two sorted lists
    are then merged (a typical key never equals an atypical one). Same result
    as counting every row at once (the property tests compare with a
    month-by-month reference).

    Returns:
        ``([mode, unit, share, first, end, birth], count)``, int64 arrays.
    """
    n_keep = sum(int(np.count_nonzero(p[2])) for p in prepared)
    if n_keep == 0:
        return [np.zeros(0, np.int64) for _ in range(6)], np.zeros(0, np.int64)
    # Bounds that cover every kept row, from cheap whole-column reductions: a kept row has start ≤
    # first ≤ end ≤ birth + 12 × MAX_AGE_CAP (and ≤ the horizon's end), so birth ≥ start - 360; unit
    # codes are -1 (no unit) .. n_units - 1.
    chunks = [columns(k) for k in range(len(prepared))]
    hi_birth = max(int(c[5].max()) for c in chunks if len(c[5]))
    hi_end = hi_birth + 12 * MAX_AGE_CAP
    if horizon_end is not None:
        hi_end = min(hi_end, horizon_end)
    lows = [
        min(int(c[0].min()) for c in chunks if len(c[0])),
        -1,
        min(int(c[2].min()) for c in chunks if len(c[2])),
        start_m,
        start_m,
        start_m - 12 * MAX_AGE_CAP,
    ]
    highs = [
        max(int(c[0].max()) for c in chunks if len(c[0])),
        n_units - 1,
        max(int(c[2].max()) for c in chunks if len(c[2])),
        hi_end,
        hi_end,
        hi_birth,
    ]
    spans = [hi - lo + 1 for lo, hi in zip(lows, highs, strict=True)]
    if (
        np.prod([float(x) for x in spans]) >= 2.0**62
    ):  # pathological month ranges: sort rows instead
        stacked = np.concatenate(
            [
                np.column_stack([col[p[2]].astype(np.int64) for col in c])
                for c, p in zip(chunks, prepared, strict=True)
            ]
        )
        uniq, count = np.unique(stacked, axis=0, return_counts=True)
        return [uniq[:, i] for i in range(6)], count

    def pack(cs: list[np.ndarray]) -> np.ndarray:
        key = cs[0].astype(np.int64)
        key -= lows[0]
        for c, lo, sp in zip(cs[1:], lows[1:], spans[1:], strict=True):
            key *= sp
            key += c
            key -= lo
        return key

    def unpack(keys: np.ndarray) -> list[np.ndarray]:
        out, rest = [], keys.copy()
        for lo, sp in zip(reversed(lows), reversed(spans), strict=True):
            out.append(rest % sp + lo)
            rest //= sp
        return out[::-1]

    dense = spans[0] * spans[1] * spans[2] * spans[5]
    n_typ = sum(int(np.count_nonzero(p[3])) for p in prepared)
    use_dense = n_typ > 0 and dense <= min(DENSE_MAX, 8 * n_typ + (1 << 20))

    def fold_chunk(k: int):
        mode, unit, share, first, end, birth = chunks[k]
        keep, typical = prepared[k][2], prepared[k][3]
        hist = None
        if use_dense:
            # the typical rows' cells, block by block (computed over every row of a block, no
            # gathers)
            d = np.empty(int(np.count_nonzero(typical)), np.int64)
            o = 0
            for b0 in range(0, len(mode), parallel.BLOCK):
                sl = slice(b0, b0 + parallel.BLOCK)
                db = mode[sl].astype(np.int64)
                db -= lows[0]
                for c, i in ((unit, 1), (share, 2), (birth, 5)):
                    db *= spans[i]
                    db += c[sl]
                    db -= lows[i]
                db = db[typical[sl]]
                d[o : o + len(db)] = db
                o += len(db)
            hist = np.bincount(d, minlength=dense)
            del d
            rest = keep & ~typical
        else:
            rest = keep
        rows = np.flatnonzero(
            rest
        )  # one index array for the six gathers (a mask would be scanned six times)
        return hist, pack([c[rows] for c in chunks[k]])

    with parallel.pool(n) as pool:
        folded = [job.result() for job in [pool.submit(fold_chunk, k) for k in range(len(chunks))]]
    # the full-length columns are no longer needed (the caller keeps none of them): free them before
    # the cohorts' own arrays are allocated, so that those reuse their memory
    chunks.clear()
    prepared.clear()
    hists = [f[0] for f in folded]
    folded = [f[1] for f in folded]
    parts_keys, parts_counts, parts_cols = [], [], []
    if use_dense:
        hist = hists.pop(0)
        while hists:
            hist += hists.pop()
        cells = np.flatnonzero(hist)
        cnt = hist[cells]
        del hist
        birth, rest = cells % spans[5] + lows[5], cells // spans[5]
        share, rest = rest % spans[2] + lows[2], rest // spans[2]
        unit, mode = rest % spans[1] + lows[1], rest // spans[1] + lows[0]
        end = birth + 12 * MAX_AGE_CAP
        if horizon_end is not None:
            np.minimum(end, horizon_end, out=end)
        tcols = [mode, unit, share, np.full(len(cells), start_m, np.int64), end, birth]
        # (mode, unit, share, birth) order is the full key order: first is fixed and end grows with
        # birth
        parts_keys.append(pack(tcols))
        parts_counts.append(cnt)
        parts_cols.append(tcols)
    key = folded[0] if len(folded) == 1 else np.concatenate(folded)
    del folded
    if len(key) or not use_dense:
        inv, uk = pd.factorize(key, sort=True)
        uk = np.asarray(uk, dtype=np.int64)
        parts_keys.append(uk)
        parts_counts.append(np.bincount(inv, minlength=len(uk)))
        parts_cols.append(unpack(uk))
    del key
    if len(parts_keys) == 1:
        return parts_cols[0], parts_counts[0]
    # merge two sorted, disjoint key lists
    k1, k2 = parts_keys
    at2 = np.searchsorted(k1, k2) + np.arange(len(k2))
    total = len(k1) + len(k2)
    from1 = np.ones(total, bool)
    from1[at2] = False
    out_cols = []
    for c1, c2 in zip(parts_cols[0], parts_cols[1], strict=True):
        c = np.empty(total, np.int64)
        c[from1] = c1
        c[at2] = c2
        out_cols.append(c)
    count = np.empty(total, np.int64)
    count[from1] = parts_counts[0]
    count[at2] = parts_counts[1]
    return out_cols, count


def project_cohorts(
    cohorts: Cohorts, mp: MonthlyParams, slice_size: int = PROJECT_SLICE
) -> np.ndarray:
    """Committed fen per unit and month: int64 array ``(len(cohorts.units), len(mp.months))``.

    The horizon is cut into runs of months with the same age cap and split
    (usually one to three). Within a run a cohort is paid in one interval of
    months, ``max(first, run start) .. min(end, birth + 12 × cap, run end)``,
    so each cohort adds its count at the interval's start and removes it after
    its end; a cumulative sum over months then gives the certificates paid per
    unit, share and month, and the amount in force is applied per month. The
    cost is one pass over the cohorts per run, independent of the number of
    months: this is what a widget re-runs on every slider move. The cohorts
    are read ``slice_size`` at a time (the counts are exact integers, so the
    slicing does not change the result).

    Examples:
        >>> c = Cohorts(("U1",), np.array([0], np.int8), np.array([0]), np.array([0], np.int8),
        ...     np.array([24300]), np.array([24310]), np.array([24150]), np.array([2]), 24300)
        >>> mp = MonthlyParams(np.arange(24300, 24304), np.array([2000, 2000, 3000, 3000]),
        ...     np.array([14, 14, 14, 12]), np.zeros(4, np.int8), np.ones(4))
        >>> project_cohorts(c, mp).tolist()  # born 2012-07: 12 from 2024-07, so cap 12 stops it
        [[4000, 4000, 6000, 0]]
    """
    n_u, n_m = len(cohorts.units), len(mp.months)
    out = np.zeros((n_u, n_m), np.int64)
    if len(cohorts.count) == 0 or n_m == 0:
        return out
    cap, split = np.asarray(mp.age_cap), np.asarray(mp.split)
    cut = np.flatnonzero((cap[1:] != cap[:-1]) | (split[1:] != split[:-1])) + 1
    bounds = np.r_[0, cut, n_m]
    m0 = int(mp.months[0])
    width = n_m + 1
    size = n_u * 3 * width
    mode = cohorts.mode
    # Cohorts from compress (and merged ones) are sorted by mode first: a run then reads only the
    # cohorts of the split in force, as one slice. Otherwise a mask picks them.
    by_mode = len(mode) < 2 or bool(np.all(mode[1:] >= mode[:-1]))

    def run_delta(sl: slice, lo_m: int, hi_m: int, cap_years: int, split_code: int) -> np.ndarray:
        """Count changes (+count at the first paid month, -count after the last) of ``sl``."""
        first, end, birth = cohorts.first_m[sl], cohorts.end_m[sl], cohorts.birth_m[sl]
        lo = np.maximum(first, lo_m)
        hi = birth + 12 * cap_years
        np.minimum(hi, end, out=hi)
        np.minimum(hi, hi_m, out=hi)
        sel = lo <= hi
        if not by_mode:
            sel &= mode[sl] == split_code
        rows = np.flatnonzero(sel)
        if len(rows) == 0:
            return np.zeros(size, np.float64)
        # (unit, share) row of the count table, then the month's column
        base = cohorts.unit[sl][rows].astype(np.int64) * 3
        base += cohorts.share[sl][rows]
        base *= width
        base -= m0
        # Counts as float64 bincount weights are exact: every partial sum is an integer far below
        # 2**53 (so the order they are added in does not matter). One bincount of the starts and
        # the ends together: one table of the units' size per call.
        w = cohorts.count[sl][rows].astype(np.float64)
        at = np.concatenate([base + lo[rows], base + hi[rows] + 1])
        return np.bincount(at, weights=np.concatenate([w, -w]), minlength=size)

    delta: np.ndarray | None = None
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        lo_m, hi_m, c, sp = int(mp.months[a]), int(mp.months[b - 1]), int(cap[a]), int(split[a])
        if by_mode:
            i0 = int(np.searchsorted(mode, sp, side="left"))
            i1 = int(np.searchsorted(mode, sp, side="right"))
        else:
            i0, i1 = 0, len(mode)
        # slices of at most slice_size cohorts; two at a time in two threads for province-sized
        # cohort sets (each adds its own array)
        n = i1 - i0
        k = max(2 if n >= parallel.PARALLEL_MIN else 1, -(-n // max(1, slice_size)))
        edges = [i0 + n * j // k for j in range(k + 1)]
        pieces = [slice(p, q) for p, q in zip(edges[:-1], edges[1:], strict=True)]
        with parallel.pool(n) as pool:
            for j in range(0, len(pieces), 2):
                for job in [
                    pool.submit(run_delta, sl, lo_m, hi_m, c, sp) for sl in pieces[j : j + 2]
                ]:
                    if delta is None:
                        delta = job.result()
                    else:
                        delta += job.result()
    assert delta is not None  # the horizon has at least one run
    # The count table (units x shares x months) is the size of a province's units: summed over
    # months in place, then turned into fen a block of units at a time.
    paid = delta.reshape(n_u, 3, width)
    np.cumsum(paid, axis=2, out=paid)
    np.rint(paid, out=paid)
    fen = mp.share_fen()  # (3, M)
    step = max(1, parallel.BLOCK // (3 * width))
    for u0 in range(0, n_u, step):
        block = paid[u0 : u0 + step, :, :n_m].astype(np.int64)
        np.einsum("usm,sm->um", block, fen, out=out[u0 : u0 + step])
    return out
