"""write_table_chunks writes the same Parquet bytes however each slice's columns are chunked.

The Dask relief engine stacks a slice from several workers' pieces, so its text columns can
arrive in several Arrow chunks where the pandas engine's arrive in one. Parquet's writer falls
back from dictionary to plain pages at a point that depends on where the written batches end,
and a chunk ends a batch: without joining the chunks first, the two engines' files held the
same values but different bytes (seen at 2M people, in two row groups of the relief list).
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa

from fpanalysis.io.write import write_table_chunks

ROWS = 100_000  # per slice
DISTINCT = 20_000  # texts of ~110 bytes: a dictionary over 1 MB, so the writer falls back


def _slices(pieces: int) -> list[pd.DataFrame]:
    texts = [
        f"H{k:05d} waits below the cut line: " + "income over the standard " * 3
        for k in range(DISTINCT)
    ]
    out = []
    for s in range(2):
        values = [texts[(i * 7919 + s) % DISTINCT] for i in range(ROWS)]
        step = -(-ROWS // pieces)
        chunks = [pa.array(values[i : i + step], pa.large_string()) for i in range(0, ROWS, step)]
        why = pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks))
        out.append(pd.DataFrame({"rank": range(s * ROWS, (s + 1) * ROWS), "why": why}))
    return out


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_slices_in_four_chunks_write_the_bytes_of_slices_in_one(tmp_path):
    one, four = _slices(pieces=1), _slices(pieces=4)
    assert one[0]["why"].array._pa_array.num_chunks == 1
    assert four[0]["why"].array._pa_array.num_chunks == 4  # the case this test is about
    a, rows_a = write_table_chunks(iter(one), tmp_path / "one.parquet", lang="en")
    b, rows_b = write_table_chunks(iter(four), tmp_path / "four.parquet", lang="en")
    assert rows_a == rows_b == 2 * ROWS
    assert pd.read_parquet(a).equals(pd.read_parquet(b))
    assert _sha(a) == _sha(b)
