"""Arrow text read as bytes and as numbers: a column's bytes end to end (:func:`text_layout`),
and ids of one width read as numbers (:class:`SortedKeys`, :func:`text_numbers`,
:func:`sorted_text_codes`), the numbers' order being the texts' (bytewise, as Python orders
them). What :mod:`fpanalysis.core.dataset`'s look-ups and the rules' groupings are built on.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

__all__ = [
    "BLOCK_ROWS",
    "TABLE_SPAN",
    "TABLE_VALUES",
    "SortedKeys",
    "dense_codes",
    "one_array",
    "sorted_text_codes",
    "text_layout",
    "text_numbers",
]


def _made_once(cache: dict[int, tuple[Any, Any]], obj, make):
    """``make(obj)``, made once for as long as ``obj`` (an Arrow array: immutable) lives:
    ``cache`` holds id -> (a weak reference to ``obj``, what was made), let go with ``obj``.
    An object that cannot be referred to weakly has it made each time.

    Examples:
        >>> import pyarrow as pa
        >>> cache, a = {}, pa.array(["x"])
        >>> _made_once(cache, a, len), id(a) in cache, _made_once(cache, a, lambda _: 7)
        (1, True, 1)
        >>> key = id(a)
        >>> del a
        >>> key in cache
        False
    """
    key = id(obj)
    got = cache.get(key)
    if got is not None and got[0]() is obj:
        return got[1]
    made = make(obj)
    try:
        ref = weakref.ref(obj, lambda _: cache.pop(key, None))
    except TypeError:
        return made
    cache[key] = (ref, made)
    return made


def one_array(arr):
    """An Arrow array, its chunks (if it has them) joined: one chunk is taken as it is.

    Examples:
        >>> import pyarrow as pa
        >>> c = pa.array(["c"])
        >>> one_array(pa.chunked_array([["a"], ["b"]])).to_pylist(), one_array(c) is c
        (['a', 'b'], True)
    """
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def text_layout(arr):
    """An Arrow text array (chunked or not, ``string`` or ``large_string``) as numpy arrays:
    ``(offsets, data)``, each value being ``data[offsets[i]:offsets[i + 1]]`` (``len(arr) + 1``
    int64 offsets from 0; a missing value's bytes are what Arrow left under it, normally none)
    and ``data`` the values' bytes end to end (``uint8``). Not copied for one ``large_string``
    chunk; several chunks are joined and a ``string`` array's offsets widened first. For reading
    a whole column's bytes at once (its lengths, its first bytes, its digits).

    Examples:
        >>> import pyarrow as pa
        >>> offsets, data = text_layout(pa.chunked_array([["ab", None], ["", "c"]]).slice(1))
        >>> offsets.tolist(), bytes(data)
        ([0, 0, 0, 1], b'c')
    """
    import numpy as np
    import pyarrow as pa

    arr = one_array(arr)
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    if not len(arr):
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    at = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    buf = arr.buffers()[2]
    data = np.zeros(0, np.uint8) if buf is None else np.frombuffer(buf, dtype=np.uint8)
    return at - at[0], data[int(at[0]) : int(at[-1])]


#: :meth:`SortedKeys.held`'s keys: id -> (a weak reference to them, what :meth:`SortedKeys.of`
#: made of them), let go with them.
_HELD: dict[int, tuple[Any, Any]] = {}


@dataclass(frozen=True)
class SortedKeys:
    """Keys (an Arrow text array) that are ids as an export lists them, each as one integer:
    every key there, each of the same number of bytes, in increasing order (bytewise, as Arrow
    orders texts), and few enough values at each byte's place that a key read as a number whose
    digit at each place is its byte less the place's ``low``est (``radix``: how many bytes that
    place spans) fits in 62 bits: ``codes``, in the keys' order and increasing as they do.
    ``P00000_00000001`` to ``P00007_00250000`` (2M persons): eight places of one byte value,
    one of 8 (the part), one of 3 and five of 10: 21 bits.

    Examples:
        >>> import pyarrow as pa
        >>> held = SortedKeys.of(pa.array(["C1", "C2", "C9"]))
        >>> held.radix.tolist(), held.codes.tolist()
        ([1, 9], [0, 1, 8])
        >>> held.positions(pa.array(["C9", None, "C3", "C10", "D1", "C1"])).tolist()
        [2, -1, -1, -1, -1, 0]
        >>> held.table.tolist()  # 9 numbers for 3 keys: each number's key
        [0, 1, -1, -1, -1, -1, -1, -1, 2]
        >>> [SortedKeys.of(pa.array(k)) for k in (["C2", "C1"], ["C1", "C10"], ["C1", None])]
        [None, None, None]
    """

    low: np.ndarray  # uint8, one per place
    radix: np.ndarray  # int64, one per place
    codes: np.ndarray  # int64, one per key

    @staticmethod
    def held(keys) -> SortedKeys | None:
        """:meth:`of`, made once for as long as the same Arrow array of keys lives (the parts
        of a province's table are each looked up among the same persons)."""
        return _made_once(_HELD, keys, SortedKeys.of)

    @staticmethod
    def of(keys) -> SortedKeys | None:
        """The keys held so, or ``None`` when they are not ids as described above."""
        numbered = _fixed_width_numbers(keys)
        if numbered is None:
            return None
        held, codes = numbered
        if not (codes[1:] > codes[:-1]).all():  # out of order, or a key twice
            return None
        return SortedKeys(held.low, held.radix, codes)

    def _numbers(self, grid: np.ndarray, spans: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Each row of bytes ``grid`` (of the keys' width) as its number, and whether each of
        its bytes lies in its place's span (where one does not, the number means nothing;
        ``spans`` false: not asked, the keys' own bytes). Read :data:`BLOCK_ROWS` rows at a
        time, each block's places side by side (a place's bytes one after another, in the
        cache), not a place down the whole column (every ``width``-th byte of it)."""
        codes = np.empty(len(grid), dtype=np.int64)
        inside = np.ones(len(grid), dtype=bool)
        places = [
            (j, int(low), int(radix))
            for j, (low, radix) in enumerate(
                zip(self.low.tolist(), self.radix.tolist(), strict=True)
            )
        ]
        for start in range(0, len(grid), BLOCK_ROWS):
            block = np.ascontiguousarray(grid[start : start + BLOCK_ROWS].T)
            number = np.zeros(block.shape[1], dtype=np.int64)
            ok = inside[start : start + BLOCK_ROWS]
            for j, low, radix in places:
                digit = block[j] - np.uint8(low)  # (below the lowest wraps round, above the span)
                if spans:
                    ok &= digit < radix
                if radix > 1:
                    number *= radix
                    number += digit
            codes[start : start + BLOCK_ROWS] = number
        return codes, inside

    @property
    def span(self) -> int:
        """How many numbers the places can spell: the numbers are below it."""
        return int(np.prod(self.radix.astype(object)))

    @cached_property
    def table(self) -> np.ndarray | None:
        """Each number the keys' places can spell, the position of the key that is it (-1:
        none), ``int32``; ``None`` where the numbers are more than :data:`TABLE_SPAN` times as
        many as the keys. A province's ids are numbered densely (10M persons' ids spell 12M
        numbers: a table of 48 MB), and a value's key is then read at its number, where a
        binary search of the keys reads two dozen."""
        if self.span > TABLE_SPAN * len(self.codes) or len(self.codes) >= 2**31:
            return None
        table = np.full(self.span, -1, dtype=np.int32)
        table[self.codes] = np.arange(len(self.codes), dtype=np.int32)
        return table

    def positions(self, values) -> np.ndarray:
        """:func:`positions_by_keys` of ``values`` (an Arrow text array) among these keys: a
        value missing, of another width or with a byte outside its place's span is no key
        (-1); the others are found by their numbers: read in :attr:`table` where there is one
        and the values are at least :data:`TABLE_VALUES` of the keys (it is made once), else by
        a binary search of the keys' numbers."""
        width = len(self.low)
        offsets, data = text_layout(values)
        ok = np.diff(offsets) == width
        if values.null_count:
            ok &= values.is_valid().to_numpy(zero_copy_only=False)
        out = np.full(len(values), -1, dtype=np.int64)
        if not ok.any():
            return out
        if ok.all() and len(data) == width * len(values):
            grid = data.reshape(len(values), width)
        else:  # the bytes of the values of the keys' width, gathered
            grid = data[offsets[:-1][ok][:, None] + np.arange(width)]
        codes, inside = self._numbers(grid)
        table = self.table if len(codes) >= TABLE_VALUES * len(self.codes) else None
        if table is not None:  # (a number is within the table where its bytes are in span)
            np.copyto(codes, 0, where=~inside)
            out[ok] = np.where(inside, table[codes], -1)
            return out
        at = np.searchsorted(self.codes, codes)
        np.minimum(at, len(self.codes) - 1, out=at)
        out[ok] = np.where(inside & (self.codes[at] == codes), at, -1)
        return out


#: :attr:`SortedKeys.table` is made where the keys' numbers span at most this many times as
#: many numbers as there are keys (at most 16 bytes a key, beside the 8 of its number) ...
TABLE_SPAN = 4
#: ... and read for values at least this share of the keys (a few values are searched for:
#: the table would cost more to make than it saves them).
TABLE_VALUES = 0.25


#: Rows of a text column's bytes read at a time by :meth:`SortedKeys._numbers` and
#: :func:`_place_spans` (64K rows of 15-byte ids: a megabyte).
BLOCK_ROWS = 1 << 16


def _place_spans(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest byte at each place (column) of ``grid`` (``uint8``, a row of
    bytes per value), :data:`BLOCK_ROWS` rows at a time, each block read as rows of 16 values
    (a place down a narrow grid is every ``width``-th byte: slow to reduce).

    Examples:
        >>> low, high = _place_spans(np.frombuffer(b"C1C9B5", dtype=np.uint8).reshape(3, 2))
        >>> bytes(low), bytes(high)
        (b'B1', b'C9')
    """
    n, width = grid.shape
    low = np.full(width, 255, dtype=np.uint8)
    high = np.zeros(width, dtype=np.uint8)
    for start in range(0, n, BLOCK_ROWS):
        block = grid[start : start + BLOCK_ROWS]
        whole = len(block) - len(block) % 16
        if whole:
            wide = block[:whole].reshape(whole // 16, 16 * width)
            np.minimum(low, wide.min(axis=0).reshape(16, width).min(axis=0), out=low)
            np.maximum(high, wide.max(axis=0).reshape(16, width).max(axis=0), out=high)
        if whole < len(block):
            np.minimum(low, block[whole:].min(axis=0), out=low)
            np.maximum(high, block[whole:].max(axis=0), out=high)
    return low, high


def _fixed_width_numbers(arr) -> tuple[SortedKeys, np.ndarray] | None:
    """Each value of an Arrow text array (chunked or not: the chunks are read in turn, not
    joined) read as one number, as :class:`SortedKeys` reads its keys (the places' lowest
    bytes and spans, without the keys' order asked): equal values and only they have equal
    numbers. ``None`` when a value is missing, the values are not all of one width, or the
    spans need 62 bits or more.

    Examples:
        >>> import pyarrow as pa
        >>> held, codes = _fixed_width_numbers(pa.chunked_array([["C2", "C1"], ["C9", "C2"]]))
        >>> held.radix.tolist(), codes.tolist()
        ([1, 9], [1, 0, 8, 1])
        >>> [_fixed_width_numbers(pa.array(k)) for k in (["C1", "C10"], ["C1", None], [])]
        [None, None, None]
    """
    import pyarrow as pa

    if not len(arr) or arr.null_count:
        return None
    grids = []
    width = None
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if not len(chunk):
            continue
        offsets, data = text_layout(chunk)
        width = int(offsets[1]) if width is None else width
        if width == 0 or len(data) != width * len(chunk):
            return None
        if not (np.diff(offsets) == width).all():
            return None
        grids.append(data.reshape(len(chunk), width))
    spans = [_place_spans(g) for g in grids]
    low = np.min([lo for lo, _ in spans], axis=0)
    high = np.max([hi for _, hi in spans], axis=0)
    radix = high.astype(np.int64) - low + 1
    if np.log2(radix).sum() >= 62:  # (a bit to spare for rounding: no overflow)
        return None
    held = SortedKeys(low, radix, np.zeros(0, dtype=np.int64))
    codes = [held._numbers(g, spans=False)[0] for g in grids]
    return held, codes[0] if len(codes) == 1 else np.concatenate(codes)


def sorted_text_codes(arr, *, span: int = 4) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize(values, sort=True)`` of an Arrow text array (chunked or not) of ids of one
    width, none missing, read as numbers (:func:`_fixed_width_numbers`, which increase as the
    texts do, bytewise, as Python orders them): ``(codes, first)``, each value's place among the
    distinct values sorted, and where each distinct value is first. ``None`` where the values are
    not such ids, or spell more than ``span`` times as many numbers as there are values (no
    table of every number is then made). No hash and no sort of the texts: a province's 4.5M
    couples' units, in a table of 320,000 numbers.

    Examples:
        >>> import pyarrow as pa
        >>> codes, first = sorted_text_codes(pa.chunked_array([["U3", "U1"], ["U3", "U2"]]))
        >>> codes.tolist(), first.tolist()
        ([2, 0, 2, 1], [1, 3, 0])
        >>> no_ids, too_sparse = pa.array(["U1", None]), pa.array(["U1", "U9"])
        >>> sorted_text_codes(no_ids), sorted_text_codes(too_sparse, span=2)
        (None, None)
    """
    numbered = _fixed_width_numbers(arr)
    if numbered is None:
        return None
    held, numbers = numbered
    if held.span > span * len(numbers):
        return None
    codes, present = dense_codes(numbers, held.span)
    first = np.zeros(held.span, dtype=np.intp)
    first[numbers[::-1]] = np.arange(len(numbers) - 1, -1, -1, dtype=np.intp)  # the first wins
    return codes, first[present]


def dense_codes(numbers: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Integers below ``bound`` renumbered densely, in their order: ``(codes, present)``, each
    number's place among the distinct numbers, and those numbers, increasing. By a table of
    every number below ``bound``, not a sort: for numbers that fill much of their range.

    Examples:
        >>> codes, present = dense_codes(np.array([7, 2, 7, 5]), 8)
        >>> codes.tolist(), present.tolist()
        ([2, 0, 2, 1], [2, 5, 7])
    """
    present = np.flatnonzero(np.bincount(numbers, minlength=bound))
    place = np.zeros(bound, dtype=np.intp)
    place[present] = np.arange(len(present), dtype=np.intp)
    return place[numbers], present


def text_numbers(arr) -> tuple[np.ndarray, int]:
    """Each value of an Arrow text array (chunked or not) as an ``int64`` number below a
    bound, equal values and only they having equal numbers (a missing value equals a missing
    one): ``(numbers, bound)``. Values of one width are read as :class:`SortedKeys` reads ids
    (no hash: ids, ID numbers); others are numbered by a dictionary of their distinct values.

    Examples:
        >>> import pyarrow as pa
        >>> numbers, bound = text_numbers(pa.array(["C2", "C1", "C9", "C2"]))
        >>> numbers.tolist(), bound
        ([1, 0, 8, 1], 9)
        >>> numbers, bound = text_numbers(pa.chunked_array([["b", None], ["a", "bb", None]]))
        >>> numbers.tolist(), bound
        ([0, 1, 2, 3, 1], 4)
    """
    import pyarrow.compute as pc

    numbered = _fixed_width_numbers(arr)
    if numbered is not None:
        held, codes = numbered
        return codes, held.span
    arr = one_array(arr)
    coded = pc.dictionary_encode(arr, null_encoding="encode")
    return coded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(coded.dictionary)
