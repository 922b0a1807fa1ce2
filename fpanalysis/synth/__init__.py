"""The seeded synthetic county Civil Affairs Bureau (民政局) and its data: :func:`generate` builds
every table of ``docs/data_dictionary.md``, realistic and internally consistent, from one seed
(the committed sample ``data/sample`` is ``generate(20241)``); :func:`inject_faults` adds the
data-entry errors of :data:`FAULTS` for testing validation; :func:`write_dataset` writes a
dataset as CSV, Parquet or one XLSX workbook; :mod:`fpanalysis.synth.scale` writes a
province-scale partitioned Parquet dataset. ``docs/synth.md`` gives the shapes, rates and
sources. It may import :mod:`fpanalysis.core` and :mod:`fpanalysis.io`.
"""

from fpanalysis.synth.cases import CANCEL_DIVORCE, CANCEL_SEX_SELECTION
from fpanalysis.synth.common import (
    AFFILIATED,
    END,
    RURAL_TOWNSHIPS,
    SECTIONS,
    START,
    URBAN_TOWNSHIPS,
    SynthTables,
)
from fpanalysis.synth.faults import FAULTS, inject_faults
from fpanalysis.synth.generate import DEFAULT_COUPLES, DEFAULT_SEED, generate
from fpanalysis.synth.write import FORMATS, to_text, write_dataset

__all__ = [
    "AFFILIATED",
    "CANCEL_DIVORCE",
    "CANCEL_SEX_SELECTION",
    "DEFAULT_COUPLES",
    "DEFAULT_SEED",
    "END",
    "FAULTS",
    "FORMATS",
    "RURAL_TOWNSHIPS",
    "SECTIONS",
    "START",
    "URBAN_TOWNSHIPS",
    "SynthTables",
    "generate",
    "inject_faults",
    "to_text",
    "write_dataset",
]
