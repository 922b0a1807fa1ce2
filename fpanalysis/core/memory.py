"""Handing freed memory back to the system, shared by the commands and the Dask driver."""

from __future__ import annotations

import contextlib

__all__ = ["release_memory"]


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
