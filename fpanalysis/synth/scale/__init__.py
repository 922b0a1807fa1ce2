"""Province-scale synthetic data: :func:`generate_partitioned` writes every table for any number
of persons (100 million is fine) as a partitioned Parquet dataset, a folder per table with one
part per partition, generated and written a partition at a time so memory stays bounded. Each
partition holds whole couples and households and the staff of its own units, draws from its own
random stream and gives byte-identical files for the same seed and sizes; the shapes follow the
county generator (:mod:`fpanalysis.synth`), simplified for size (``docs/synth.md``).

Examples:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> counts = generate_partitioned(d, 2000, seed=1, partition_people=1000)
    >>> counts["persons"], sorted(p.name for p in (d / "persons").iterdir())
    (2000, ['part-00000.parquet', 'part-00001.parquet'])
"""

from fpanalysis.synth.scale.columns import REGION_CODES, REGIONS_PER_PARTITION, region_pool
from fpanalysis.synth.scale.dataset import (
    DEFAULT_PARTITION_PEOPLE,
    MAX_PARTITION_PEOPLE,
    RATIOS,
    REFERENCE_TABLES,
    generate_partitioned,
)
from fpanalysis.synth.scale.partition import partition_tables

__all__ = [
    "DEFAULT_PARTITION_PEOPLE",
    "MAX_PARTITION_PEOPLE",
    "RATIOS",
    "REFERENCE_TABLES",
    "REGIONS_PER_PARTITION",
    "REGION_CODES",
    "generate_partitioned",
    "partition_tables",
    "region_pool",
]
