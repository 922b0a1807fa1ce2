"""The work plan's rules as pure functions over pandas DataFrames.

``scope`` (who is in scope, responsible unit), ``compliance`` (unit
scorecards), ``cases`` (late terminations and quota cancellations), ``bonus``
(the only-child parents' reward and its budget) and ``relief`` (minimum-living
relief: eligibility, tiers, FP types, ranking, selection, review). A rule takes
frames and parameters and returns frames: it reads no file, prints nothing,
draws nothing and knows no engine. Rules import only ``fpanalysis.core``.
"""
