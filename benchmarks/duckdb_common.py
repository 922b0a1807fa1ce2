"""What the DuckDB contenders share: the Parquet files of a table, the connection, exact numbers.

A dataset is a folder holding, per table, either a folder of parts
(``DIR/persons/part-00000.parquet``, as ``fpanalysis synth --format parquet``
writes) or one file (``DIR/persons.parquet``, ``--format parquet-flat``).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from fpanalysis.core.schema import TABLES


def table_source(dataset: Path, table: str) -> str:
    """The ``read_parquet`` argument for ``table``: its parts' glob, or its one file."""
    folder = Path(dataset) / table
    if folder.is_dir():
        return str(folder / "*.parquet")
    flat = Path(dataset) / f"{table}.parquet"
    if flat.is_file():
        return str(flat)
    raise FileNotFoundError(f"{dataset}: no Parquet for table {table}")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def connect(threads: int | None = None):
    """An in-memory DuckDB connection (``threads`` None: DuckDB's default, every core)."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    return con


def last_recorded_sql(dataset: Path, tables: tuple[str, ...] | list[str]) -> str:
    """A query for the latest recorded date (the schema's ``recorded`` columns) of ``tables``."""
    parts = []
    for t in tables:
        src = sql_text(table_source(dataset, t))
        for c in TABLES[t].columns:
            if c.recorded:
                parts.append(f"SELECT max(CAST({c.name} AS DATE)) AS d FROM read_parquet({src})")
    return "SELECT max(d) FROM (" + " UNION ALL ".join(parts) + ")"


def exact(x) -> Fraction:
    """A parameter's decimal value exactly as written (0.35 is 35/100)."""
    return Fraction(Decimal(str(x)))


def scaled(x, scale: int, what: str) -> int:
    """``x × scale`` as an integer; an error when ``x`` has more decimals than the scale holds."""
    v = exact(x) * scale
    if v.denominator != 1:
        raise ValueError(f"{what} = {x}: more decimals than this query computes exactly")
    return int(v)


def views_from_parquet(con, dataset: Path, views: dict[str, str]) -> None:
    """Each table of ``views`` (table -> its columns and casts) as a view over the dataset's
    Parquet files."""
    for t, cols in views.items():
        con.execute(
            f"CREATE VIEW {t} AS SELECT {cols} "
            f"FROM read_parquet({sql_text(table_source(dataset, t))})"
        )


def register_frames(con, tables, views: dict[str, str]) -> None:
    """Each table of ``views``' in-memory frame of ``tables`` as ``{table}_frame`` (no copy:
    DuckDB scans the frame)."""
    for t in views:
        con.register(f"{t}_frame", tables[t])


def views_from_frames(con, views: dict[str, str]) -> None:
    """Each table of ``views`` as a view over its registered frame (:func:`register_frames`),
    with the Parquet views' columns and casts."""
    for t, cols in views.items():
        con.execute(f"CREATE VIEW {t} AS SELECT {cols} FROM {t}_frame")
