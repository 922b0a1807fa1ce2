"""Work done on a second thread beside the caller's, on machines of two cores or more.

- :func:`read_ahead`: making the next slice of an output while the last one is written. A
  relief round's reasons are made a slice at a time (pyarrow's text kernels) and each slice is
  written as it comes (pyarrow's CSV and Parquet writers); both let go of the interpreter for
  most of their work, so on two cores the one waits less for the other. The slices and their
  order are the same as without it, so the file is the same bytes.
- :func:`beside`: one piece of work started now and waited for later (compliance's C5-C8
  beside C1-C4, ``fpanalysis.rules.compliance.detail``), and :func:`both_ends`: a list of pieces
  shared by two threads (the tables read typed, ``fpanalysis.io.load``; validation's checks,
  ``fpanalysis.io.validate.check``); each when :func:`two_threads` says the dataset is small
  enough.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "TWO_THREADS_BYTES_PER_ROW",
    "TWO_THREADS_ROWS",
    "beside",
    "both_ends",
    "fits_beside",
    "in_order",
    "memory_for_us",
    "outcome_of",
    "read_ahead",
    "two_threads",
]

T = TypeVar("T")

#: Up to this many rows in the whole dataset, the tables read whole are read two at a time, and
#: validation's checks and compliance's rules run on two threads: a county's to a large city's
#: data (2M people's dataset holds 22M rows, 5M people's 56M). Most of their work is in
#: pyarrow's kernels and the Parquet reader, which let go of the interpreter. On 5M people
#: (measured in turns, benchmarks/README.md) validation took 30-31 s instead of 44-45 s and
#: compliance 45-48 s instead of 56-63 s, their peaks 4.7-4.9 GB and 5.3 GB instead of 4.1 GB
#: and 3.8-4.0 GB. Beyond it (a province, whose large tables are read in slices to stay
#: within memory) they run one after another, so that 10M people stay within the 8 GB target,
#: but for what :func:`fits_beside` lets a second thread take while the caller reads a part at
#: a time: the checks of the tables held whole (up to ``io.validate.check.HELD_BESIDE_ROWS``)
#: and compliance's C5-C8. Compliance there peaks at 7.2-7.4 GB.
TWO_THREADS_ROWS = 60_000_000
#: What two threads' peak comes to, in bytes per row of the dataset: the 5M people's peaks
#: above over their 56M rows are 87 (validation) and 95 (compliance) bytes a row.
TWO_THREADS_BYTES_PER_ROW = 100


def two_threads(rows: int) -> bool:
    """Whether work over a dataset of ``rows`` rows is shared by two threads: ``rows`` within
    :data:`TWO_THREADS_ROWS`, and two threads' peak (``rows`` x
    :data:`TWO_THREADS_BYTES_PER_ROW`) within the memory this process can have
    (:func:`memory_for_us`; unknown: the rows decide alone). The answer is the same bytes either
    way; only the time and the peak differ.

    Examples:
        >>> two_threads(1_000), two_threads(TWO_THREADS_ROWS + 1)
        (True, False)
    """
    return rows <= TWO_THREADS_ROWS and fits_beside(rows)


def fits_beside(rows: int) -> bool:
    """Whether a second thread's work over tables of ``rows`` rows held in memory fits beside
    the caller's: ``rows`` x :data:`TWO_THREADS_BYTES_PER_ROW` within the memory this process
    can have (:func:`memory_for_us`; unknown: it fits). With no limit on the rows: work that
    holds no part of a province's largest tables, which the caller reads a part at a time, so
    that only one part is held at once either way (validation's checks of the tables held
    whole, ``io.validate.check``; compliance's C5-C8, ``rules.compliance.detail``).

    Examples:
        >>> fits_beside(1_000)
        True
    """
    room = memory_for_us()
    return room is None or rows * TWO_THREADS_BYTES_PER_ROW <= room


#: Where :func:`memory_for_us` reads the machine's memory, the process's and its cgroup's
#: (module constants, so that a test can point them at files of its own).
MEMINFO = Path("/proc/meminfo")
STATM = Path("/proc/self/statm")
CGROUP_MAX = Path("/sys/fs/cgroup/memory.max")
CGROUP_CURRENT = Path("/sys/fs/cgroup/memory.current")


def memory_for_us() -> int | None:
    """The bytes this process could hold: what it holds now (``statm``'s resident pages) and
    what the machine has left (Linux's ``MemAvailable``), within its cgroup's limit when one is
    set (the limit less what the group holds, page cache too, plus what this process holds);
    None where this cannot be read (not Linux).

    Examples:
        >>> room = memory_for_us()
        >>> room is None or room > 0
        True
    """
    try:
        meminfo = MEMINFO.read_text(encoding="ascii").splitlines()
        free = next(int(x.split()[1]) * 1024 for x in meminfo if x.startswith("MemAvailable:"))
        held = int(STATM.read_text(encoding="ascii").split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, StopIteration, IndexError):
        return None
    room = free + held
    try:
        limit = CGROUP_MAX.read_text(encoding="ascii").strip()
        if limit != "max":
            current = int(CGROUP_CURRENT.read_text(encoding="ascii").strip())
            room = min(room, int(limit) - current + held)
    except (OSError, ValueError):
        pass
    return room


_DONE = object()


class _Failed:
    """What the producing thread raised, handed to the consumer to raise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], *, ahead: int = 1) -> Iterator[T]:
    """``items`` in their order, each next one made on another thread while the caller works
    on the last (at most ``ahead`` made and waiting, so that memory holds that many more).

    What making an item raises is raised here, in its place; a caller that stops early (an
    error while writing) stops the making too (the thread ends at its next item, and is a
    daemon: it never holds the process open).

    Examples:
        >>> list(read_ahead(x * x for x in range(5)))
        [0, 1, 4, 9, 16]
        >>> def failing():
        ...     yield 1
        ...     raise ValueError("the second slice")
        >>> got = read_ahead(failing())
        >>> next(got)
        1
        >>> next(got)
        Traceback (most recent call last):
        ...
        ValueError: the second slice
    """
    made: queue.Queue = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - raised again by the consumer
            put(_Failed(error))
            return
        put(_DONE)

    thread = threading.Thread(target=make, name="fpanalysis-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = made.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
            del item  # not held while the next one is waited for
    finally:
        stop.set()  # the thread ends at its next item


def in_order(work: Callable[[Any], T], items: Iterable[Any], *, workers: int = 2) -> Iterator[T]:
    """``work(item)`` of each of ``items``, in their order, made by ``workers`` threads at once
    (one thread, here, on a machine of one core): at most ``workers`` made or being made ahead
    of the one the caller has, so that memory holds that many more.

    Each item is made whole by one thread, so what comes is what ``map(work, items)`` gives.
    What ``work`` raises is raised here, in its item's place; a caller that stops early stops
    the making (what is not begun is dropped; what is begun ends in its thread).

    Examples:
        >>> list(in_order(lambda x: x * x, range(5)))
        [0, 1, 4, 9, 16]
        >>> got = in_order(lambda x: 1 // x, [1, 0, 2])
        >>> next(got)
        1
        >>> next(got)
        Traceback (most recent call last):
        ...
        ZeroDivisionError: integer division or modulo by zero
    """
    if workers < 2 or (os.cpu_count() or 1) < 2:
        for item in items:
            yield work(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fpanalysis-in-order")
    pending: collections.deque = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            del item
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def outcome_of(work: Callable[[], T]) -> Callable[[], T]:
    """Run ``work()`` now; the function returned gives what it returned, or raises what it
    raised, each time it is called: an outcome kept to be taken later, in the taker's order
    (or in another thread: :func:`beside`).

    Examples:
        >>> later = outcome_of(lambda: 1 / 0)
        >>> later()
        Traceback (most recent call last):
        ...
        ZeroDivisionError: division by zero
        >>> outcome_of(lambda: 42)()
        42
    """
    try:
        value = work()
    except BaseException as error:  # noqa: BLE001 - raised when the outcome is taken
        caught = error

        def failed() -> T:
            raise caught

        return failed
    return lambda: value


def beside(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work()`` on another thread now; the function returned waits for it to end and
    returns what it returned, or raises what it raised (in the caller's thread).

    The thread is a daemon: a caller that stops on an error of its own (or Ctrl-C) does not wait
    for it, and what it would have returned is let go with the process.

    Examples:
        >>> result = beside(lambda: sum(range(10)))
        >>> result()
        45
        >>> failed = beside(lambda: 1 / 0)
        >>> failed()
        Traceback (most recent call last):
        ...
        ZeroDivisionError: division by zero
    """
    out: list[Callable[[], T]] = []
    thread = threading.Thread(
        target=lambda: out.append(outcome_of(work)), name="fpanalysis-beside", daemon=True
    )
    thread.start()

    def result() -> T:
        thread.join()
        return out[0]()

    return result


def both_ends(
    pieces: list[tuple[str, Callable[[], Any]]],
    *,
    second: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> dict[str, Any]:
    """Run each of ``pieces`` ([(name, work)], names distinct) once on two threads; their
    results by name.

    A second thread takes pieces from the front of the list while the caller's takes them from
    the back, each until none is left: put the largest first, so that the second thread starts
    with it while the caller gets through the small ones. Each piece runs whole in one thread,
    so its result is the same either way. The second thread's work runs within ``second()``
    (a context of the caller's it must share). What a piece raises is raised here, once both
    threads have stopped taking pieces.

    Examples:
        >>> done = both_ends([(n, lambda n=n: n * 2) for n in ("a", "b", "c")])
        >>> sorted(done.items())
        [('a', 'aa'), ('b', 'bb'), ('c', 'cc')]
    """
    todo = collections.deque(pieces)
    out: dict[str, Any] = {}

    def take(pop: Callable[[], tuple[str, Callable[[], Any]]]) -> None:
        while True:
            try:
                name, work = pop()
            except IndexError:  # every piece begun
                return
            out[name] = work()

    def front() -> None:
        with second():
            take(todo.popleft)

    waiting = beside(front)
    try:
        take(todo.pop)
    except BaseException:
        todo.clear()  # the second thread takes no more; the caller's error is the one raised
        with contextlib.suppress(BaseException):
            waiting()
        raise
    waiting()
    return out
