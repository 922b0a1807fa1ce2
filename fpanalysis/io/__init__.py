"""Reading datasets and writing outputs: the cell parsers (``cells``), the readers of CSV,
``.xlsx`` and Parquet files (``read``) and of tables in Parquet parts (``parts``), rows of text
to typed frames (``frames``), :func:`load_dataset` and :func:`load_for_analysis` (``load``),
dataset validation (``validate``), the writers of outputs (``write``) and the input templates
(``templates``). The in-memory dataset types live in :mod:`fpanalysis.core.dataset` and are
re-exported here; this layer imports ``fpanalysis.core`` and ``fpanalysis.rules``.
"""

from fpanalysis.core.dataset import (
    ID_NUMBER_COLUMNS,
    SEVERITY_LABELS,
    Dataset,
    Problem,
    isin_keys,
    row_keys,
)
from fpanalysis.io.cells import (
    parse_bools,
    parse_dates,
    parse_enum,
    parse_ints,
    parse_numbers,
    parse_set,
)
from fpanalysis.io.load import (
    MAX_LISTED,
    MAX_WARNINGS_SHOWN,
    load_by_part,
    load_dataset,
    load_for_analysis,
    load_table_file,
)
from fpanalysis.io.parts import partition_paths
from fpanalysis.io.read import (
    HEADER_SEARCH_ROWS,
    XLSX_BOMB_MIN_BYTES,
    XLSX_BOMB_RATIO,
    XLSX_MAX_BYTES,
    decode_csv_bytes,
    sha256_file,
)
from fpanalysis.io.write import (
    FORMULA_START,
    XLSX_MAX_ROWS,
    localize,
    neutralize_formulas,
    neutralize_text,
    workbook_bytes,
    write_table,
    write_table_chunks,
    write_workbook,
)

__all__ = [
    "FORMULA_START",
    "HEADER_SEARCH_ROWS",
    "ID_NUMBER_COLUMNS",
    "MAX_LISTED",
    "MAX_WARNINGS_SHOWN",
    "SEVERITY_LABELS",
    "XLSX_BOMB_MIN_BYTES",
    "XLSX_BOMB_RATIO",
    "XLSX_MAX_BYTES",
    "XLSX_MAX_ROWS",
    "Dataset",
    "Problem",
    "decode_csv_bytes",
    "isin_keys",
    "load_by_part",
    "load_dataset",
    "load_for_analysis",
    "load_table_file",
    "localize",
    "neutralize_formulas",
    "neutralize_text",
    "parse_bools",
    "parse_dates",
    "parse_enum",
    "parse_ints",
    "parse_numbers",
    "parse_set",
    "partition_paths",
    "row_keys",
    "sha256_file",
    "workbook_bytes",
    "write_table",
    "write_table_chunks",
    "write_workbook",
]
