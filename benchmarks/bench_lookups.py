"""Benchmark the look-up of text keys that validation's references and the rules' indexes share
(``fpanalysis.core.dataset.text_positions``) against its readable rule, the keys hashed
(``positions_by_keys``), on the references of a synthetic partitioned dataset.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_lookups.py --people 10M --data-dir DIR
    .venv/bin/python benchmarks/bench_lookups.py --people 20k      # a quick run

The dataset is the one ``bench_commands.py`` uses (``fpanalysis synth --people N --format
parquet --seed 7``, generated once under ``--data-dir``). Each row is one reference of the
data dictionary as a part-at-a-time check looks it up: the referring column's first
``--rows`` values (8M, a slice of ``byparts.ROWS_AT_ONCE``) among the referred table's keys,
both as one Arrow array. Each way runs ``--repeat`` times in turn, the fastest kept; both
answers are checked equal. The ratio is the readable rule's time over ``text_positions``'s
(above 1: faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: (referring table.column, referred table.column): every reference of a 10M-person dataset
#: with a million rows or more, as the data dictionary declares them.
REFERENCES = [
    ("check_attendance.person_id", "persons.person_id"),
    ("surveys.couple_id", "couples.couple_id"),
    ("surveys.unit_id", "units.unit_id"),
    ("contraception.person_id", "persons.person_id"),
    ("children.couple_id", "couples.couple_id"),
    ("couples.wife_id", "persons.person_id"),
    ("household_members.household_id", "households.household_id"),
]


def column(dataset: Path, ref: str, rows: int | None = None):
    """One column of the dataset as one Arrow ``large_string`` array (its first ``rows``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table, name = ref.split(".")
    col = pq.read_table(dataset / table, columns=[name]).column(0)
    if rows is not None:
        col = col.slice(0, rows)
    return col.combine_chunks().cast(pa.large_string())


def fastest(f, *args, repeat: int):
    """``f(*args)`` and the fewest seconds it took in ``repeat`` runs."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*args)
        best = min(best, time.perf_counter() - t0)
    return out, best


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    import pyarrow.compute as pc
    from bench_commands import ensure_dataset, parse_size

    from fpanalysis.core.dataset import (
        by_values_pays,
        lookup_way,
        positions_by_keys,
        text_positions,
    )
    from fpanalysis.core.memory import no_huge_pages

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=parse_size, default=10_000_000, help="dataset size")
    ap.add_argument("--data-dir", type=Path, default=HERE / "data", help="where datasets are")
    ap.add_argument("--rows", type=parse_size, default=8_000_000, help="referring values")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each way")
    args = ap.parse_args(argv)
    no_huge_pages()  # as every command runs

    info = ensure_dataset(args.data_dir, args.people, lambda m: print(m, file=sys.stderr))
    dataset = Path(info["path"])
    print(f"dataset {dataset} ({args.people:,} people); each way run {args.repeat} times")
    print(
        "| values | keys | keys | values | distinct | way | by the keys | text_positions | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")

    def cold(values, keys):
        """text_positions with nothing made before: SortedKeys.held keeps what it made of an
        array while that array lives, so each run is given a new array of the same keys."""
        return text_positions(values, keys.slice(0))

    for ref, key in REFERENCES:
        values, keys = column(dataset, ref, args.rows), column(dataset, key)
        want, base = fastest(positions_by_keys, values, keys, repeat=args.repeat)
        got, mine = fastest(cold, values, keys, repeat=args.repeat)
        if not np.array_equal(want, got):
            raise SystemExit(f"{ref} in {key}: text_positions differs from positions_by_keys")
        distinct = pc.count_distinct(values, mode="all").as_py()
        way = lookup_way(values, keys)  # the way text_positions took, as it decides
        if way == "repeats":
            pays = by_values_pays(len(values), distinct, len(keys))
            way = "by values" if pays else "by keys (after the distinct values)"
        print(
            f"| {ref} | {key} | {len(keys):,} | {len(values):,} | {distinct:,} | {way} "
            f"| {base:.2f} s | {mine:.2f} s | {base / mine:.2f} |"
        )
        del values, keys, want, got
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
