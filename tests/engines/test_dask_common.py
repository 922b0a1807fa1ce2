"""The plumbing the Dask engines share, without a cluster: reading one partition, the map-task
shape, gathering results, and the fallback to the driver when partitions are not aligned.

The partitions are those of the compliance engine's small bureau (``test_dask_compliance``):
partition 0 holds C1 and C3, partition 1 holds C2; "broken" moves partition 1's spouses into
partition 0, so that C2's references leave its partition.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from test_dask_compliance import FULL, write_parts

from fpanalysis.core.errors import DataError
from fpanalysis.engines.dask import common
from fpanalysis.engines.dask import compliance as dc
from fpanalysis.engines.dask.cluster import aligned_partitions, partition_paths


def part_files(tmp_path, broken=False):
    write_parts(FULL(), tmp_path / "pq", 2, break_alignment=broken)
    return aligned_partitions(partition_paths(tmp_path / "pq"), dc.TABLES_NEEDED, dc.SHARED_TABLES)


@pytest.mark.parametrize(
    "validate", [pytest.param(False, id="read-fast"), pytest.param(True, id="validated")]
)
def test_an_aligned_partition_is_read(tmp_path, validate):
    source = part_files(tmp_path)[1]
    info = dc.Partial()
    tables = common.load_partition(
        dc.SPEC, source, info, validate=validate, skip_invalid=False, lang="en"
    )
    assert info.not_aligned is None
    assert tables["couples"]["couple_id"].tolist() == ["C2"]
    assert isinstance(tables, dict) is not validate  # validated: the loader's Dataset


@pytest.mark.parametrize(
    "validate", [pytest.param(False, id="read-fast"), pytest.param(True, id="validated")]
)
def test_a_partition_not_aligned_is_reported_not_validated(tmp_path, validate):
    """C2's wife W2 sits in partition 0: a data error for the validator, only "not aligned" here."""
    source = part_files(tmp_path, broken=True)[1]
    info = dc.Partial()
    common.load_partition(dc.SPEC, source, info, validate=validate, skip_invalid=False, lang="en")
    assert info.not_aligned == "part-00001.parquet: couples.wife_id 'W2' not in persons"


def test_frames_pass_through_unread():
    frames = {"couples": pd.DataFrame({"couple_id": ["C9"]})}
    info = dc.Partial()
    got = common.load_partition(dc.SPEC, frames, info, validate=True, skip_invalid=False, lang="en")
    assert got is frames and info == dc.Partial()


def test_a_map_task_brings_its_error_back_naming_the_partition(tmp_path):
    @common.map_task(dc.SPEC)
    def task(source):
        raise DataError("坏", "bad", rule="r")

    back = task(part_files(tmp_path)[1])
    assert isinstance(back, dc.Partial) and back.sums is None
    with pytest.raises(DataError) as e:
        back.failure.raise_()
    assert e.value.message_en == "bad (partition part-00001.parquet)"
    assert task({"couples": pd.DataFrame()}).failure.fields["message_en"] == "bad (partition ?)"


def done(value):
    return SimpleNamespace(result=lambda: value)


def failed(where):
    return dc.Partial(failure=common.failure(DataError("坏", "bad", rule="r"), where))


def test_gather_raises_the_first_failure():
    with pytest.raises(DataError, match="partition p1"):
        common.gather([done(dc.Partial()), done(failed("p1")), done(failed("p2"))])


def test_gather_keeps_failures_when_a_partition_is_not_aligned():
    """An error may only follow from the misalignment: the caller re-partitions and retries."""
    out = common.gather([done(failed("p0")), done(dc.Partial(not_aligned="p1: x"))])
    assert [p.not_aligned for p in out] == [None, "p1: x"]


class Client:
    """Just what the driver's plumbing asks of a ``distributed.Client``."""

    def scheduler_info(self):
        return {"workers": {"w1": {}, "w2": {}}}

    def scatter(self, parts):
        return list(parts)


def test_run_partitions_falls_back_to_the_driver(tmp_path, monkeypatch):
    """Partition 1 is not aligned: nothing is computed on it, the dataset is loaded in the driver,
    cut in 2 (``partitions``) and run again; a note says so."""
    part_files(tmp_path, broken=True)
    monkeypatch.setattr(common, "driver_tables", lambda *a, **k: (FULL(), ["loaded"]))
    runs = []

    def run(sources):
        runs.append(sources)
        partials = []
        for source in sources.parts:
            info = dc.Partial(rows={"couples": 1}, messages=["w"])
            common.load_partition(dc.SPEC, source, info, **sources.opts)
            partials.append(info)
        return len(runs), partials

    result, partials, sources = common.run_partitions(
        Client(),
        dc.SPEC,
        tmp_path / "pq",
        None,
        run,
        dangling=DataError("缺", "dangling", rule="r"),
        validate=False,
        skip_invalid=False,
        lang="en",
        partitions=2,
    )
    assert result == 2 and len(partials) == 2
    assert [r.repartitioned for r in runs] == [False, True]
    assert runs[1].opts == {"validate": False, "skip_invalid": False, "lang": "en"}
    assert sources.messages == [
        "partitions not aligned (part-00001.parquet: couples.wife_id 'W2' not in persons): "
        "loaded in the driver and re-partitioned",
        "loaded",
    ]
    assert common.total_rows(partials) == {"couples": 2}


def test_run_partitions_refuses_references_to_nothing(monkeypatch):
    """Even the driver's own partitions are not aligned: the data refer to rows that are nowhere."""

    monkeypatch.setattr(common, "driver_tables", lambda *a, **k: (FULL(), []))

    def run(sources):
        return None, [dc.Partial(not_aligned="?: couples.wife_id 'W9' not in persons")]

    with pytest.raises(DataError, match="dangling"):
        common.run_partitions(
            Client(),
            dc.SPEC,
            None,
            FULL(),
            run,
            dangling=DataError("缺", "dangling", rule="r"),
            validate=True,
            skip_invalid=False,
            lang="en",
            partitions=None,
        )
