"""fpanalysis: the county Civil Affairs Bureau's family-planning work plan, made computable.

The package is cut in layers, each importing only its own and lower ones: ``core`` (paths,
errors, parameters with ``policy.yaml``, table schemas, ID numbers, masking, the in-memory
dataset), ``rules`` (the work plan's rules as pure functions), ``io`` (reading, validating and
writing), ``engines.dask``, ``register`` and ``synth``, ``charts``, ``widgets``, ``report`` and
``cli``. The rules are in ``docs/rules.md``, the layout in ``docs/design.md``.
"""

__version__ = "0.1.0"


def _skip_iri_grammars() -> None:
    """Keep ``jsonschema`` from importing ``rfc3987_syntax`` in this process.

    Jupyter's packages install ``jsonschema[format-nongpl]``, whose ``rfc3987_syntax`` (1.1) builds
    39 Earley parsers for the ``iri`` formats when ``jsonschema`` is first imported (by
    altair and papermill): 3 of the 4 seconds ``import altair`` took on a 2-core machine, paid by
    every command that draws or runs a notebook and by every notebook kernel. No schema this
    package validates against names an ``iri`` format (altair's Vega-Lite schema names ``uri``,
    ``uri-reference`` and ``color-hex``; nbformat's none), so in a process that imports the
    package first, ``jsonschema`` goes without those two checkers, as it does where the extra
    is not installed. A process that imported ``rfc3987_syntax`` already keeps it
    (``setdefault``).
    """
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


_skip_iri_grammars()
