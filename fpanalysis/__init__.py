"""fpanalysis: the county Civil Affairs Bureau's family-planning work plan, made computable.

The package is cut in layers, each importing only its own and lower ones: ``core`` (paths,
errors, parameters with ``policy.yaml``, table schemas, ID numbers, masking, the in-memory
dataset), ``rules`` (the work plan's rules as pure functions), ``io`` (reading, validating and
writing), ``engines.dask``, ``register`` and ``synth``, ``charts``, ``widgets``, ``report`` and
``cli``. The rules are in ``docs/rules.md``, the layout in ``docs/design.md``.
"""

__version__ = "0.1.0"
