"""Layer 3, engines that run the rules at province scale: ``engines.dask``, a map-reduce over a
dataset's partitions on a Dask cluster. An engine calls the public functions of
``fpanalysis.rules`` on partitions and merges their results; it holds no copy of a rule.
Engines import ``core``, ``rules`` and ``io``.
"""
