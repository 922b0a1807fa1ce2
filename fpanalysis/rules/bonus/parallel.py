"""How the reward's array code splits its work: the rows per block of a blockwise loop, the row
count from which two threads share a job, and the pool that hands the pieces out (only independent,
deterministic pieces, so the result is the same either way)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

#: Rows per block of the blockwise loops: their temporaries (a few MB) stay in the cache and are
#: reused, instead of full-length arrays of tens of millions of rows each touched fresh.
BLOCK = 1 << 20

#: Below this many rows the work runs in the calling thread (a thread hand-off costs more than it
#: saves).
PARALLEL_MIN = 500_000


class Serial:
    """A stand-in for an executor that runs each job at once in the calling thread."""

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn, *args):
        f: Future = Future()
        f.set_result(fn(*args))
        return f

    def map(self, fn, *iterables):
        return map(fn, *iterables)


def pool(rows: int):
    """Two threads for province-sized work (machines have two cores or more), else :class:`Serial`.

    Examples:
        >>> type(pool(10)).__name__
        'Serial'
    """
    if rows < PARALLEL_MIN:
        return Serial()
    return ThreadPoolExecutor(max_workers=2)
