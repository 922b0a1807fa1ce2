"""Layer 0, the vocabulary every layer shares: ``config`` (paths), ``errors`` (bilingual
user-facing errors), ``clock`` (``SOURCE_DATE_EPOCH``), ``params`` with ``policy.yaml``
(effective-dated parameters and overrides) and ``param_tables`` (parameters written out for
people), ``schema`` (every table and column once; the last recorded date), ``ids`` (GB 11643
resident ID numbers, one by one and vectorised), ``privacy`` (masking of names and ID numbers),
``labels`` (bilingual labels read from a table) and ``dataset`` (the in-memory
:class:`~fpanalysis.core.dataset.Dataset` and :class:`~fpanalysis.core.dataset.Problem`).
Modules here import nothing of the package outside ``fpanalysis.core`` (``docs/design.md``,
"Layout").
"""
