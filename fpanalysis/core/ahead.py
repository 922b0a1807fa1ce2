"""Making the next slice of an output while the last one is written (:func:`read_ahead`): a
relief round's reasons are made a slice at a time (pyarrow's text kernels) and each slice is
written as it comes (pyarrow's CSV and Parquet writers); both let go of the interpreter for
most of their work, so on two cores the one waits less for the other. The slices and their
order are the same as without it, so the file is the same bytes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")

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
