"""Handing freed memory back to the system, shared by the commands and the Dask driver."""

from __future__ import annotations

import contextlib

__all__ = ["keep_freed_memory", "no_huge_pages", "release_memory"]


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


#: glibc's own variables for what :func:`keep_freed_memory` sets: a user who set either keeps
#: their own choice.
GLIBC_MALLOC_SWITCHES = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")
#: ``mallopt``'s parameter numbers (glibc's ``malloc.h``).
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
#: The free memory at the top of the C heap kept rather than handed back (``mallopt``'s
#: largest value).
KEPT_AT_TOP = 2**31 - 1


def keep_freed_memory() -> bool:
    """Ask the C heap to keep the memory an analysis frees for its next arrays, rather than hand
    it back to the system at once; True when glibc took it. Called by every command on the
    pandas engine (not by the Dask engine's driver, whose memory is budgeted more tightly, nor by
    its workers), unless the user set ``MALLOC_MMAP_MAX_`` or ``MALLOC_TRIM_THRESHOLD_``.

    glibc maps each large array on its own and unmaps it when freed, so the next array of the
    analysis takes fresh pages, and the system zeroes each one. The benchmark machine is a
    virtual machine, and there the zeroing (``clear_page_erms`` under ``perf record``) was a
    quarter of the samples of a process running the compliance kernel. The budget's kernel at
    10M certificates took 870k page faults and 3.5-3.9 s of system time in a 6 s run. With the
    arrays taken from the heap and the freed ones kept, it took 200k faults and 1.2 s
    (``benchmarks/README.md``). Where a command calls :func:`release_memory` (``compliance``
    and ``bonus``, once their validation is done), everything free is still handed back. The
    cost is a higher peak: 0.2-0.3 GB more at 10M people, within the 8 GB target. What is
    computed is the same either way.

    Examples:
        >>> isinstance(keep_freed_memory(), bool)
        True
    """
    import ctypes
    import os

    if any(k in os.environ for k in GLIBC_MALLOC_SWITCHES):  # the user's own choice stands
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc: its own allocator's ways stand
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, KEPT_AT_TOP))
