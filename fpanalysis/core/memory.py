"""Handing freed memory back to the system, shared by the commands and the Dask driver."""

from __future__ import annotations

import contextlib

__all__ = ["no_huge_pages", "release_memory"]


def release_memory() -> None:
    """Hand back to the system the memory that large temporaries held and freed (a province's
    validation, a model's build, a pool's ranking in the Dask driver).

    pyarrow's pool keeps freed blocks for itself and the C heap keeps freed pages, which numpy
    and pyarrow then cannot lend each other: without this a process's footprint is the sum of
    every step's peak rather than the largest one.
    """
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: numpy's own switch: whether it asks the kernel for huge pages for its large arrays.
HUGE_PAGES_SWITCH = "NUMPY_MADVISE_HUGEPAGE"


def no_huge_pages() -> None:
    """Ask numpy not to request transparent huge pages for its arrays, in this process and in
    those it starts (Dask's workers), unless the user set ``NUMPY_MADVISE_HUGEPAGE``
    themselves. Called first by every command.

    numpy advises the kernel to back each large array with 2 MB pages. On the benchmark
    machine, a virtual machine, a huge page taken after a few idle seconds costs about 20 ms:
    1 GB of fresh array took 11.39 s to fill with huge pages and 0.44 s without, with no
    compaction stall counted (``benchmarks/bench_memory.py``). Where huge pages come cheaply they
    save a fraction of a second per gigabyte. What numpy computes is the same either way.
    """
    import os

    if HUGE_PAGES_SWITCH in os.environ:  # the user's own choice stands
        return
    os.environ[HUGE_PAGES_SWITCH] = "0"  # read by numpy in the processes started from here
    import numpy as np

    # numpy read the variable when it was imported: tell the copy already loaded too
    with contextlib.suppress(AttributeError):
        np._core.multiarray._set_madvise_hugepage(False)
