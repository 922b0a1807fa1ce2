"""Writing the province-scale dataset: :func:`generate_partitioned` makes one partition at a
time and writes it as a Parquet part per table, so memory stays bounded whatever its size."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fpanalysis.core import schema
from fpanalysis.core.errors import UsageError
from fpanalysis.synth.common import dibao_standards
from fpanalysis.synth.scale.events import check_rounds
from fpanalysis.synth.scale.partition import PERSONS_PER_COUPLE, partition_tables
from fpanalysis.synth.write import atomic_path

DEFAULT_PARTITION_PEOPLE = 250_000
# Larger partitions would need more memory than a shared machine has, and more people per
# (region, birth date, sex) than an ID number's 500 sequence numbers (rulebook §8).
MAX_PARTITION_PEOPLE = 5_000_000
# Expected rows per person (measured on 1,000,000 people, seed 20241; see docs/synth.md).
RATIOS: Mapping[str, float] = {
    "couples": 1 / PERSONS_PER_COUPLE,
    "households": 1 / PERSONS_PER_COUPLE,
    "certificates": 0.087,
}
REFERENCE_TABLES = schema.REFERENCE_TABLES
_PARQUET_OPTS = {"compression": "zstd", "write_statistics": True}


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Dictionary-encode every column but the keys and ID numbers (unique values gain nothing)."""
    return [
        f.name
        for f in table.schema
        if not (f.name.endswith("_id") or f.name in ("id_number", "head_id_number"))
    ]


def _write_part(table: pa.Table, path: Path) -> None:
    """Write one part atomically (a temporary name in the folder, then a rename)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, str(tmp), use_dictionary=_dictionary_columns(table), **_PARQUET_OPTS)


def generate_partitioned(
    out_dir: str | os.PathLike,
    people: int,
    *,
    seed: int = 20241,
    partition_people: int = DEFAULT_PARTITION_PEOPLE,
    tables: Iterable[str] | None = None,
    certificates_per_couple: float | None = None,
    progress=None,
) -> dict[str, int]:
    """Write ``people`` persons (and everything that goes with them) as partitioned Parquet.

    Args:
        out_dir: the dataset folder (created; a folder per table inside). Part
            files already there for a table written now are replaced; stale
            higher-numbered parts of a previous larger run are removed.
        people: rows of ``persons`` (at least 1).
        seed: the seed; same seed, ``people`` and ``partition_people`` ->
            byte-identical files.
        partition_people: persons per partition (the last one takes the rest).
        tables: English table names to write (default every table).
        certificates_per_couple: certificates-heavy mode (``docs/synth.md``).
        progress: optional callable ``(part, n_parts)`` called after each partition.

    Returns:
        rows written per table.

    Raises:
        UsageError: ``people`` or ``partition_people`` below 1, an unknown table.
    """
    if people < 1:
        raise UsageError("人数必须至少为 1", "people must be at least 1", value=people)
    if not 1 <= partition_people <= MAX_PARTITION_PEOPLE:
        raise UsageError(
            f"每个分区的人数应在 1 到 {MAX_PARTITION_PEOPLE} 之间",
            f"partition_people must be between 1 and {MAX_PARTITION_PEOPLE}",
            value=partition_people,
        )
    if certificates_per_couple is not None and not 0 <= certificates_per_couple <= 20:
        raise UsageError(
            "每对夫妻的光荣证数应在 0 到 20 之间",
            "certificates_per_couple must be between 0 and 20",
            value=certificates_per_couple,
        )
    wanted = list(schema.TABLES) if tables is None else list(tables)
    for t in wanted:
        if t not in schema.TABLES:
            raise UsageError(f"未知的表：{t}", f"unknown table: {t}", value=t)
    wanted = [t for t in schema.TABLES if t in wanted]
    out = Path(out_dir)
    n_parts = -(-int(people) // int(partition_people))
    standards = dibao_standards()
    rounds_tab, rids, rs, re_ = check_rounds(seed)
    counts = {t: 0 for t in wanted}
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        # every partition's units go into one part, a row group per partition
        units_tmp = (
            stack.enter_context(atomic_path(out / "units" / "part-00000.parquet"))
            if "units" in wanted
            else None
        )
        units_writer = None
        for part in range(n_parts):
            n = min(partition_people, people - part * partition_people)
            tabs = partition_tables(
                seed,
                part,
                n,
                n_partitions=n_parts,
                certificates_per_couple=certificates_per_couple,
                rounds=(rids, rs, re_),
                standards=standards,
                tables=wanted,
            )
            for t in wanted:
                if t in REFERENCE_TABLES:
                    continue
                _write_part(tabs[t], out / t / f"part-{part:05d}.parquet")
                counts[t] += tabs[t].num_rows
            if units_tmp is not None:
                if units_writer is None:
                    units_writer = stack.enter_context(
                        pq.ParquetWriter(
                            str(units_tmp),
                            tabs["units"].schema,
                            use_dictionary=_dictionary_columns(tabs["units"]),
                            **_PARQUET_OPTS,
                        )
                    )
                units_writer.write_table(tabs["units"])
                counts["units"] += tabs["units"].num_rows
            del tabs
            if progress is not None:
                progress(part, n_parts)
    if "check_rounds" in wanted:
        _write_part(rounds_tab, out / "check_rounds" / "part-00000.parquet")
        counts["check_rounds"] = rounds_tab.num_rows
    # a previous, larger run may have left more parts: they are not part of this dataset
    for t in wanted:
        last = 0 if t in REFERENCE_TABLES else n_parts - 1
        for f in (out / t).glob("part-*.parquet"):
            m = re.fullmatch(r"part-(\d+)\.parquet", f.name)
            if m and int(m.group(1)) > last:
                f.unlink()
    return counts
