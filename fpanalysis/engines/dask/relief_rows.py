"""A relief round whose rows stay in the Dask workers (rulebook §6): the driver holds the round's
key table (a few columns a household, in the round's order); every partition's finished rows are cut
into pieces, one per block of :data:`BLOCK_ROWS` rows of the round's order, and the pieces stay in
the workers. A slice of the table is written by the workers from the pieces it spans (the texts of
a lean round included) and put in the round's order by the driver, so neither the driver nor any
worker ever holds the whole table."""

from __future__ import annotations

import dataclasses
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.engines.dask.relief_keys import KeyTable
from fpanalysis.rules import relief as rl

#: Rows of the round's order per block (a piece holds one partition's rows of one block).
BLOCK_ROWS = rl.CHUNK_ROWS
#: Slices a :class:`HeldRound` has in the workers at once while it is written.
SLICES_AHEAD = 2


def take_rows(frame: pd.DataFrame, start: int, stop: int, total: int) -> pd.DataFrame:
    """Rows ``start:stop`` of a partition's finished rows, copied (a piece owns its memory).

    ``total``: how many rows the driver's key table gives the partition.

    Examples:
        >>> take_rows(pd.DataFrame({"a": [1, 2, 3]}), 1, 3, 3)["a"].tolist()
        [2, 3]
    """
    if len(frame) != total:  # the finish and the keys agree: never
        raise RuntimeError(f"a partition finished {len(frame)} rows, its keys {total}")
    return frame.take(np.arange(start, stop)).reset_index(drop=True)


def piece_rows(
    piece: pd.DataFrame,
    start: int,
    stop: int,
    columns: Sequence[str] | None,
    bands: tuple,
    order: Sequence[str],
) -> pd.DataFrame:
    """Rows ``start:stop`` of a piece with every text (a lean piece's written now), in ``columns``.

    What :meth:`fpanalysis.rules.relief.ReliefResult.chunks` does to a slice
    of a lean table, done to these rows.
    """
    rows = piece.iloc[start:stop]
    if "reason_zh" not in rows.columns:
        inputs = rows[[c for c in rl.TEXT_INPUT_COLUMNS if c in rows.columns]]
        rows = rl.with_texts(rows, rl.texts_for(inputs, bands, order))
    return rows if columns is None else rows[list(columns)]


@dataclass
class Pieces:
    """Where a held round's rows are: ``futures[(partition, block)]``, one piece each.

    ``part`` gives the partition of each row of the round, in order; block
    ``s`` holds the round's rows ``s * block`` to ``(s + 1) * block``; a
    partition's rows of a block form one piece, in the round's order.
    ``empty`` is a piece with no row (the columns of an empty slice).
    """

    client: Any
    part: np.ndarray
    n_parts: int
    block: int
    futures: dict[tuple[int, int], Any]
    empty: Any

    def submit(
        self, start: int, stop: int, columns: Sequence[str] | None, bands: tuple, order
    ) -> tuple[list[Any], np.ndarray]:
        """Tasks writing rows ``start:stop`` of the round, and where each of their rows goes.

        Returns the futures (per block, per partition) and, for each row of
        the slice, its place in their results stacked.
        """
        client, part, b, k = self.client, self.part, self.block, self.n_parts
        futures = []
        for s in range(start // b, (stop - 1) // b + 1) if stop > start else ():
            lo, hi = max(start, s * b), min(stop, (s + 1) * b)
            before = np.bincount(part[s * b : lo], minlength=k)
            within = np.bincount(part[lo:hi], minlength=k)
            for p in np.flatnonzero(within):
                a = int(before[p])
                futures.append(
                    client.submit(
                        piece_rows,
                        self.futures[(int(p), s)],
                        a,
                        a + int(within[p]),
                        columns,
                        bands,
                        order,
                        pure=False,
                    )
                )
        if not futures:
            futures.append(
                client.submit(piece_rows, self.empty, 0, 0, columns, bands, order, pure=False)
            )
        rows = np.arange(start, stop, dtype=np.int64)
        # the results stack blocks in order, each block's partitions in order
        grouped = np.argsort((rows // b) * k + part[start:stop], kind="stable")
        where = np.empty_like(grouped)
        where[grouped] = np.arange(len(grouped))
        return futures, where


@dataclass
class HeldRound(rl.ReliefResult):
    """A relief round whose rows stay in the workers (rulebook §6).

    ``table`` is the key table
    (:data:`~fpanalysis.engines.dask.relief_keys.TABLE_COLUMNS`, one row a
    household in the round's order; a few columns are categoricals): what the
    counts, the selected households' money and the cut line need. The full
    rows, texts included, come from the workers, a slice at a time
    (:meth:`chunks`), **while the client is open**.
    """

    pieces: Pieces | None = field(default=None, repr=False, compare=False)

    def chunks(
        self, rows: int | None = None, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """The full table a slice of ``rows`` rows at a time (every text), in the round's order.

        As :meth:`fpanalysis.rules.relief.ReliefResult.chunks`: joined, the
        slices are the table the pandas engine gives with ``texts=True``.
        Each slice is written by the workers holding its rows; a few slices
        are in the workers at once.

        Raises:
            RuntimeError: the client is closed (the rows were in its workers).
        """
        pieces = self.pieces
        if pieces is None or getattr(pieces.client, "status", "running") != "running":
            raise RuntimeError(
                "this relief round's rows were held by the Dask workers, and the client is closed"
            )
        rows = rows or rl.CHUNK_ROWS
        n = len(self.table)
        starts = range(0, n, rows) if n else range(1)
        pending: deque = deque()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            for s in starts:
                stop = min(s + rows, n)
                futures, where = pieces.submit(s, stop, columns, self.bands, self.order)
                pending.append((s, stop, futures, where))
                if len(pending) > SLICES_AHEAD:
                    yield _slice(pieces.client, *pending.popleft())
        while pending:
            yield _slice(pieces.client, *pending.popleft())

    def with_texts(self) -> rl.ReliefResult:
        """This round as a :class:`~fpanalysis.rules.relief.ReliefResult` holding its whole table
        (fetched from the workers, texts written)."""
        table = pd.concat(list(self.chunks())).reset_index(drop=True)
        kept = {f.name: getattr(self, f.name) for f in dataclasses.fields(rl.ReliefResult)}
        return rl.ReliefResult(**{**kept, "table": table, "runner": None})


def _slice(client: Any, start: int, stop: int, futures: list[Any], where: np.ndarray):
    frames = client.gather(futures)
    for f in futures:
        f.release()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out.take(where).set_axis(pd.RangeIndex(start, stop))


def hold_rows(
    client: Any,
    kt: KeyTable,
    finishing: Sequence[Any],
    assessing: Sequence[Any],
    *,
    problems: pd.DataFrame,
    notes: list[tuple[str, str]],
    params: Any,
    as_of: pd.Timestamp,
    pool: str,
    quota: Any,
    budget_yuan: Any,
) -> HeldRound:
    """The round, its finished rows cut into pieces left in the workers.

    ``finishing``: per partition, the future of its finished rows (in the
    round's order); ``assessing``: the assessed partitions they read. Both are
    released once the pieces are asked for (the scheduler keeps them until
    the pieces are made, and can remake them from the part files).
    """
    b, k, n = BLOCK_ROWS, kt.n_parts, len(kt.part)
    blocks = max(1, -(-n // b))
    cell = kt.part.astype(np.int64) * blocks + np.arange(n, dtype=np.int64) // b
    counts = np.bincount(cell, minlength=k * blocks).reshape(k, blocks)
    total = counts.sum(axis=1)
    offset = np.cumsum(counts, axis=1) - counts
    futures = {}
    for p in range(k):
        for s in np.flatnonzero(counts[p]):
            a = int(offset[p, s])
            futures[(p, int(s))] = client.submit(
                take_rows,
                finishing[p],
                a,
                a + int(counts[p, s]),
                int(total[p]),
                pure=False,
                priority=1,  # cut each finished partition at once, freeing it
            )
    empty = client.submit(take_rows, finishing[0], 0, 0, int(total[0]), pure=False)
    for f in [*finishing, *assessing]:
        f.release()
    round_ = HeldRound.of_round(
        kt.table,
        problems,
        notes,
        params,
        as_of,
        pool=pool,
        quota=quota,
        budget_yuan=budget_yuan,
    )
    round_.pieces = Pieces(client, kt.part, k, b, futures, empty)
    return round_
