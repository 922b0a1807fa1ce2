"""Layer 1, the work plan's rules as pure functions over pandas DataFrames: ``scope`` (who is in
scope, the responsible unit), ``compliance`` (unit scorecards C1–C8, score, grade, veto, the
accountability list), ``cases`` (births, late terminations, quota cancellations, the case list),
``bonus`` (the only-child parents' reward and its budget), ``relief`` (minimum-living relief:
eligibility, tiers, FP types, ranking, selection, review) and ``frames`` (the frame helpers the
rules share). A rule takes frames and parameters and returns frames: it reads no file, prints
nothing, draws nothing and knows no engine. Rules import only ``fpanalysis.core``.
"""
