"""The Dask engine: the analyses as map-reduce over partitions (issue 7).

The default engine stays plain pandas on one machine. With ``--engine dask`` the
work of ``bonus`` (and, in sibling modules, ``compliance`` and ``relief``) is cut
into a *map* over the partitions of a dataset, run on the workers of a
``dask.distributed`` cluster, a *reduce* of small partial results, and a
*compute* step in the driver over the reduced (small) form, so the result is
identical to the pandas engine's.

- :mod:`fpanalysis.engines.dask.cluster`: starting / connecting to a cluster
  (:func:`~fpanalysis.engines.dask.cluster.dask_client`) and reading partitioned
  datasets.
- :mod:`fpanalysis.engines.dask.bonus`: the reward budget (POLICY.md §5).
"""
