"""The vocabulary every layer shares: paths, errors, parameters, tables, resident IDs, masking.

``config`` (paths), ``errors`` (bilingual user-facing errors), ``params`` with
``policy.yaml`` (effective-dated parameters and overrides), ``schema`` (every
table and column once), ``ids`` (GB 11643 resident ID numbers) and ``privacy``
(masking of names and ID numbers). Modules here import nothing of the package
outside ``fpanalysis.core``.
"""
