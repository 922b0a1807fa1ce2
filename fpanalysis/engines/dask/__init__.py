"""The Dask engine: the budget (:mod:`~fpanalysis.engines.dask.bonus`, rulebook §5), unit
compliance (:mod:`~fpanalysis.engines.dask.compliance`, §3) and relief
(:mod:`~fpanalysis.engines.dask.relief`, §6) as a map over a dataset's partitions in the workers of
a ``dask.distributed`` cluster (:mod:`~fpanalysis.engines.dask.cluster`), a reduce of small partial
results and a compute step in the driver, with the same results as the pandas engine; the plumbing
they share is in :mod:`~fpanalysis.engines.dask.common`, and they call only public names of
:mod:`fpanalysis.rules`."""
