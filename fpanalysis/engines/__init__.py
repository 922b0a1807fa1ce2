"""Engines that run the rules at province scale (``engines.dask``: map-reduce over partitions).

An engine calls the public functions of ``fpanalysis.rules`` on partitions and
merges their results; it holds no copy of a rule. Engines import ``core``,
``rules`` and ``io``.
"""
