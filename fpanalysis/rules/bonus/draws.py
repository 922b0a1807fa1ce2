"""Every Monte Carlo draw of the new certificates' fen, kept small (rulebook §5).

A percentile at any level (unit-month, unit-year, the county's month or year) is the percentile of
that level's summed draws, so every draw is kept. Kept as fen per draw, unit and month, they are
draws × units × months numbers: the default 1,000 draws of 60,608 units over 36 months (2 million
people) are 2.2 billion int64, 17 GB, and the command was killed. :class:`SimulatedDraws` keeps
instead each couple's certificate as drawn, one byte per couple and draw (95,890 couples: 96 MB
for 1,000 draws), and makes a level's fen a block of units at a time, reduced at once to that
level's percentiles per unit, the county's total per draw and each unit's sum over the draws.
:class:`DenseDraws` holds a given array (a test's, a small projection's) behind the same methods.

The fen of one draw are those of :func:`fpanalysis.rules.bonus.new.project_new`, the readable
rule, on the same draws of :func:`fpanalysis.rules.bonus.new.simulate_new`: the draws are the same
random numbers in the same order (numpy's multinomial taken a few draws at a time gives what one
call gives), and ``tests/rules/test_bonus_draws.py`` checks the two against each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

import numpy as np

from fpanalysis.rules.bonus import parallel

#: The percentiles a projection's tables show.
QS = (10, 50, 90)
#: Numbers per array in a block of units: a block's arrays (tens of MB each) are made, reduced and
#: let go before the next block's.
BLOCK_CELLS = 1 << 23


def percentiles(x: np.ndarray, qs: Sequence[int] = QS, axis: int = 0) -> np.ndarray:
    """Percentiles ``qs`` of ``x`` over ``axis`` (the draws) as int64 fen, ``qs`` first.

    The percentile is an actual draw (numpy's ``inverted_cdf``), never a value between two; no
    draw gives zeros; one draw is every percentile.

    Examples:
        >>> percentiles(np.array([40, 10, 30, 20])).tolist()
        [10, 20, 40]
        >>> percentiles(np.zeros((0, 2), np.int64), (50, 90)).tolist()
        [[0, 0], [0, 0]]
    """
    shape = [len(qs), *(n for i, n in enumerate(x.shape) if i != axis)]
    if x.shape[axis] == 0:
        return np.zeros(shape, np.int64)
    if x.shape[axis] == 1 and x.dtype == np.int64:  # one draw is each percentile: no copies
        return np.broadcast_to(np.take(x, 0, axis=axis), shape)
    return np.percentile(x, list(qs), axis=axis, method="inverted_cdf").astype(np.int64)


def _order_statistics(x: np.ndarray, qs: Sequence[int], own: bool) -> np.ndarray:
    """:func:`percentiles` of ``x`` over its last axis, ``qs`` first: the same draws picked, by
    a partial sort of each contiguous row (in place when ``own``: the caller is done with it)."""
    n = x.shape[-1]
    if n <= 1:
        return percentiles(x, qs, axis=x.ndim - 1)
    # the order positions numpy's inverted_cdf picks: its percentiles of 0 .. n-1
    pos = np.percentile(np.arange(n), list(qs), method="inverted_cdf").astype(np.intp)
    y = x if own else x.copy()
    y.partition(np.unique(pos), axis=-1)
    return np.moveaxis(y[..., pos], -1, 0).astype(np.int64)


def _running_sum(x: np.ndarray, out: np.ndarray) -> None:
    """``out[:, k] = x[:, 0] + … + x[:, k]``: one whole-row addition per month (numpy's cumsum
    along a short middle axis is several times slower)."""
    if x.shape[1]:
        out[:, 0] = x[:, 0]
    for k in range(1, x.shape[1]):
        np.add(out[:, k - 1], x[:, k], out=out[:, k])


def by_periods(values: np.ndarray, starts: Sequence[int], total: bool, axis: int) -> np.ndarray:
    """``values`` summed over consecutive months along ``axis``: periods starting at ``starts``
    (each to the next start), then the whole horizon when ``total``.

    Examples:
        >>> by_periods(np.array([1, 2, 3, 4]), [0, 3], True, 0).tolist()
        [6, 4, 10]
    """
    parts = []
    if len(starts):
        parts.append(np.add.reduceat(values, np.asarray(starts, np.intp), axis=axis))
    if total:
        parts.append(values.sum(axis=axis, keepdims=True))
    if not parts:
        shape = list(values.shape)
        shape[axis] = 0
        return np.zeros(shape, values.dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


class NewDraws:
    """Fen of new certificates for every draw, unit and month, and the reductions a table needs.

    Subclasses give :meth:`blocks`: units (their indices) and their fen, ``(units, months,
    draws)`` (the draws of one unit-month side by side, for the percentiles), a block at a time;
    a unit in no block has no fen in any draw.
    """

    n_draws: int
    n_units: int
    n_months: int
    _month_totals: np.ndarray | None = None
    #: Whether a block's array is the subclass's to reorder (made for the caller, not a view).
    owns_blocks = False

    def block_jobs(self) -> list[Callable[[], tuple[np.ndarray, np.ndarray]]]:
        """One call per block, each giving its units and their fen (independent of the others)."""
        raise NotImplementedError

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for job in self.block_jobs():
            yield job()

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.n_draws, self.n_units, self.n_months)

    def dense(self) -> np.ndarray:
        """Every draw as one int64 array ``(draws, units, months)``: for a small projection only
        (a province's is billions of numbers)."""
        out = np.zeros(self.shape, np.int64)
        for units, v in self.blocks():
            out[:, units, :] = v.transpose(2, 0, 1)
        return out

    def month_totals(self) -> np.ndarray:
        """The county's fen per draw and month, ``(draws, months)`` int64 (summed over units)."""
        if self._month_totals is None:
            total = np.zeros((self.n_draws, self.n_months), np.int64)
            for _, v in self.blocks():
                total += v.sum(axis=0).T
            self._month_totals = total
        return self._month_totals

    def unit_periods(
        self, starts: Sequence[int], total: bool = False, qs: Sequence[int] = QS
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per unit and period (see :func:`by_periods`): the percentiles ``qs`` of the draws summed
        to that unit and period, ``(len(qs), units, periods)``, and the sum over all draws,
        ``(units, periods)``; both int64 fen, made a block of units at a time."""
        n_p = len(starts) + bool(total)
        one = self.n_draws == 1  # one draw is every percentile: its sums, not three copies
        pct = np.zeros((0 if one else len(qs), self.n_units, n_p), np.int64)
        sums = np.zeros((self.n_units, n_p), np.int64)
        month_total = np.zeros((self.n_draws, self.n_months), np.int64)

        def reduce(job):
            units, v = job()
            if total or len(starts) != self.n_months:  # else: months are the periods
                s = by_periods(v, starts, total, axis=1)  # (units, periods, draws)
            else:
                s = v
            reduced = (v.sum(axis=0).T, s.sum(axis=2))
            if len(qs) and not one:
                reduced += (_order_statistics(s, qs, own=s is not v or self.owns_blocks),)
            return units, reduced

        # blocks in two threads (numpy lets go of the GIL in its loops), taken back in order;
        # each block's units are its own, and integer sums are exact in any order
        jobs = self.block_jobs()
        with parallel.pool(self.n_draws * self.n_units * self.n_months) as ex:
            for units, (mt, sm, *p) in ex.map(reduce, jobs):
                month_total += mt
                sums[units] = sm
                if p:
                    pct[:, units, :] = p[0]
        self._month_totals = month_total
        if one:
            pct = np.broadcast_to(sums, (len(qs), *sums.shape))
        return pct, sums


class DenseDraws(NewDraws):
    """A given int64 array ``(draws, units, months)`` behind :class:`NewDraws`' methods."""

    def __init__(self, fen: np.ndarray):
        fen = np.asarray(fen, dtype=np.int64)
        if fen.ndim != 3:
            raise ValueError(f"new fen must be (draws, units, months), not {fen.shape}")
        self.fen = fen
        self.n_draws, self.n_units, self.n_months = fen.shape

    def block_jobs(self) -> list[Callable[[], tuple[np.ndarray, np.ndarray]]]:
        d, u, m = self.fen.shape
        step = max(1, BLOCK_CELLS // max(1, d * m))
        return [partial(self._block, u0, min(u0 + step, u)) for u0 in range(0, u, step)]

    def _block(self, u0: int, u1: int) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(u0, u1), self.fen[:, u0:u1, :].transpose(1, 2, 0)

    def dense(self) -> np.ndarray:
        return self.fen


class SimulatedDraws(NewDraws):
    """The draws of :func:`fpanalysis.rules.bonus.new.simulate_slots`, made fen by unit blocks.

    Args:
        slots: ``(couples, draws)``: per couple of the groups (group after group, in the groups'
            order) and draw, the category of its certificate: ``k`` for one issued ``lag + k``
            months into the horizon, ``k_issue`` for none within it.
        couples: couples per group.
        legs: ``(group, unit, kind)`` int arrays: who pays for each group's certificates. Kind
            0: the payee's unit, the other spouse not staff; 1: the payee's unit, the other spouse
            staff; 2: the other spouse's unit.
        kind_fen: ``(3, months)`` fen one certificate pays in each month to a leg of each kind.
        first_paid: ``(months,)`` the earliest issue month (index into the horizon) still paid
            in each month (the child's age cap).
        lag: months from a birth to its certificate.
        n_units, n_draws: the projection's units and draws.
    """

    owns_blocks = True

    def __init__(
        self,
        slots: np.ndarray,
        couples: np.ndarray,
        legs: tuple[np.ndarray, np.ndarray, np.ndarray],
        kind_fen: np.ndarray,
        first_paid: np.ndarray,
        lag: int,
        n_units: int,
        n_draws: int,
    ):
        self.slots = slots
        self.n_draws, self.n_units, self.n_months = int(n_draws), int(n_units), kind_fen.shape[1]
        self.k_issue = max(0, self.n_months - lag)
        g, u, kind = (np.asarray(a, np.int64) for a in legs)
        order = np.lexsort((g, kind, u))  # by unit, then kind, then group
        self.leg_g, self.leg_u, self.leg_kind = g[order], u[order], kind[order]
        self.first_slot = np.r_[0, np.cumsum(couples, dtype=np.int64)]
        self.kind_fen = np.asarray(kind_fen, np.int64)
        # active in month m: issued in issue months first_paid[m]..m, i.e. categories lo..hi-1
        m = np.arange(self.n_months)
        self.hi = np.clip(m + 1 - lag, 0, self.k_issue)
        self.lo = np.minimum(np.clip(np.asarray(first_paid) - lag, 0, self.k_issue), self.hi)
        self.lag = lag
        # no certificate issued in the horizon stops being paid in it (the usual case): the
        # certificates being paid are the cumulative counts, shifted by the lag
        self.whole_window = not self.lo.any()

    def _block_ends(self) -> np.ndarray:
        """Leg positions where blocks end: whole units, a block's arrays near BLOCK_CELLS (one
        unit larger than that is a block alone)."""
        if not len(self.leg_u):
            return np.zeros(0, np.int64)
        unit_end = np.flatnonzero(np.r_[self.leg_u[1:] != self.leg_u[:-1], True]) + 1
        n_slot = np.diff(self.first_slot)[self.leg_g]
        # per leg: its key's categories and months, and its slots, for every draw
        cost = self.n_draws * np.maximum(max(self.k_issue + 1, self.n_months), n_slot)
        cum = np.cumsum(cost)[unit_end - 1]
        unit_cost = np.diff(np.r_[0, cum])
        block = (cum - unit_cost) // BLOCK_CELLS  # by where each unit starts
        return unit_end[np.r_[block[1:] != block[:-1], True]]

    def block_jobs(self) -> list[Callable[[], tuple[np.ndarray, np.ndarray]]]:
        if not len(self.leg_u) or self.k_issue <= 0 or self.n_draws == 0:
            return []
        ends = [int(e) for e in self._block_ends()]
        return [partial(self._block, l0, l1) for l0, l1 in zip([0, *ends[:-1]], ends, strict=True)]

    def _block(self, l0: int, l1: int) -> tuple[np.ndarray, np.ndarray]:
        """Fen of legs ``l0..l1`` (whole units): their units and ``(units, months, draws)``,
        int32 when no unit's sum over the horizon can reach 2^31 fen, else int64."""
        g, u, kind = self.leg_g[l0:l1], self.leg_u[l0:l1], self.leg_kind[l0:l1]
        d, k_issue, n_m = self.n_draws, self.k_issue, self.n_months
        # a key per (unit, kind): the legs of one kind in one unit are summed first (the payment
        # window is linear in the counts)
        new_key = np.r_[True, (u[1:] != u[:-1]) | (kind[1:] != kind[:-1])]
        key = np.cumsum(new_key) - 1
        n_keys = int(key[-1]) + 1
        key_kind, key_unit = kind[new_key], u[new_key]
        unit_first = np.flatnonzero(np.r_[True, key_unit[1:] != key_unit[:-1]])
        # each leg's slots: its group's couples
        first, n = self.first_slot[g], self.first_slot[g + 1] - self.first_slot[g]
        at = np.repeat(first - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(int(n.sum()))
        slot_key = np.repeat(key, n)
        # the largest a unit's fen can sum to: all its couples paid the most, every month
        unit_slots = np.add.reduceat(n, np.flatnonzero(np.r_[True, u[1:] != u[:-1]]))
        top = int(unit_slots.max()) * int(self.kind_fen.max(initial=0)) * max(n_m, 1)
        dtype = np.int32 if top < 2**31 else np.int64
        k1 = k_issue + 1
        # counts per key, category and draw: the draws of a key side by side
        flat = (slot_key.astype(np.int64) * (k1 * d))[:, None] + np.arange(d, dtype=np.int64)
        flat += self.slots[at].astype(np.int64) * d  # (slots, draws): + the category
        counts = np.bincount(flat.ravel(), minlength=n_keys * k1 * d).reshape(n_keys, k1, d)
        del flat
        counts = counts[:, :k_issue, :].astype(dtype)
        if self.whole_window:  # paid from issue to the horizon's end: cumulative counts
            active = np.zeros((n_keys, n_m, d), dtype)
            _running_sum(counts, active[:, self.lag :, :])
        else:
            csum = np.zeros((n_keys, k1, d), dtype)
            _running_sum(counts, csum[:, 1:, :])
            active = csum[:, self.hi, :]
            active -= csum[:, self.lo, :]
            del csum
        del counts
        active *= self.kind_fen[key_kind].astype(dtype)[:, :, None]
        if len(unit_first) == n_keys:  # one key per unit: the keys are the units
            return key_unit, active
        # a unit has at most three keys (one per kind): its first, plus its second and third
        out = active[unit_first]
        unit_of_key = np.cumsum(np.r_[True, key_unit[1:] != key_unit[:-1]]) - 1
        nth = np.arange(n_keys) - unit_first[unit_of_key]
        for j in (1, 2):
            at_j = np.flatnonzero(nth == j)
            out[unit_of_key[at_j]] += active[at_j]
        return key_unit[unit_first], out
