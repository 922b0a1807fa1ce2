"""The Dask cluster plumbing: dask_client, the engine options, partition listing."""

from __future__ import annotations

import argparse
import socket
import time

import pytest

from fpanalysis.cli.common import add_engine_options, check_engine_options
from fpanalysis.core.errors import UsageError
from fpanalysis.engines.dask.cluster import (
    aligned_partitions,
    check_scheduler_address,
    dask_client,
    parse_memory,
    partition_paths,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_local_cluster_of_processes_on_loopback_is_shut_down_afterwards():
    with dask_client(n_workers=2, threads_per_worker=1, memory_limit="1GB") as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert {w["memory_limit"] for w in workers.values()} == {1_000_000_000}
        # a real separate process: its pid is not ours
        import os

        pids = set(client.run(os.getpid).values())
        assert os.getpid() not in pids and len(pids) == 2
        assert client.submit(sum, [1, 2, 3]).result() == 6
        cluster = client.cluster
    assert client.status == "closed"
    assert cluster.status.name == "closed"


@pytest.mark.parametrize(
    "processes", [pytest.param(True, id="processes"), pytest.param(False, id="threads")]
)
def test_every_socket_of_a_local_cluster_listens_on_loopback_only(processes):
    import os

    psutil = pytest.importorskip("psutil")
    with dask_client(n_workers=1, processes=processes, memory_limit="1GB"):
        me = psutil.Process(os.getpid())
        listening = [
            c.laddr.ip
            for p in [me, *me.children(recursive=True)]
            for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
    assert listening and set(listening) == {"127.0.0.1"}


def test_local_cluster_is_shut_down_on_an_error_too():
    seen = {}
    with pytest.raises(RuntimeError, match="boom"):
        with dask_client(n_workers=1, processes=False, memory_limit="1GB") as client:
            seen["client"], seen["cluster"] = client, client.cluster
            raise RuntimeError("boom")
    assert seen["client"].status == "closed"
    assert seen["cluster"].status.name == "closed"


def test_connecting_by_address_closes_only_the_client():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with dask_client(cluster.scheduler_address) as client:
            assert client.submit(lambda: 41 + 1).result() == 42
        assert client.status == "closed"
        assert cluster.status.name == "running"


def test_unreachable_scheduler_is_a_bilingual_usage_error_within_seconds():
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(UsageError) as exc:
        with dask_client(address):
            pass  # pragma: no cover - never reached
    assert time.monotonic() - t0 < 20
    e = exc.value
    assert e.rule == "scheduler-unreachable" and e.exit_code == 2
    assert "无法连接 Dask 调度器" in e.text("zh") and address in e.text("zh")
    assert "cannot reach the Dask scheduler" in e.text("en")


@pytest.mark.parametrize(
    "address, expected",
    [
        pytest.param("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786", id="tcp-url"),
        pytest.param("10.0.0.5:8786", "tcp://10.0.0.5:8786", id="host-port-taken-as-tcp"),
        pytest.param(" tcp://host.example:1 ", "tcp://host.example:1", id="spaces-trimmed"),
    ],
)
def test_scheduler_address_forms(address, expected):
    assert check_scheduler_address(address) == expected


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("localhost", id="no-port"),
        pytest.param("tcp://:8786", id="no-host"),
        pytest.param("http://x:1", id="unknown-protocol"),
        pytest.param("tcp://x:port", id="port-not-a-number"),
    ],
)
def test_malformed_scheduler_address_is_a_usage_error(address):
    with pytest.raises(UsageError) as exc:
        with dask_client(address):
            pass  # pragma: no cover
    assert exc.value.rule == "scheduler-address"


@pytest.mark.parametrize(
    "text, size",
    [
        pytest.param("4GB", 4_000_000_000, id="GB"),
        pytest.param("512MiB", 536_870_912, id="MiB"),
        pytest.param("1.5 GiB", 1_610_612_736, id="fractional-GiB"),
        pytest.param(1000, 1000, id="plain-int"),
    ],
)
def test_parse_memory(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("4 parsecs", id="unit"),
        pytest.param("", id="empty"),
        pytest.param("-1GB", id="negative"),
        pytest.param("0", id="zero"),
    ],
)
def test_bad_memory_size_is_a_usage_error(text):
    with pytest.raises(UsageError) as exc:
        parse_memory(text)
    assert exc.value.rule == "memory-size"


def _parser():
    p = argparse.ArgumentParser(prog="t", exit_on_error=False)
    add_engine_options(p)
    return p


@pytest.mark.parametrize(
    "argv, engine, scheduler, workers, memory",
    [
        pytest.param([], "pandas", None, None, None, id="default-pandas"),
        pytest.param(["--engine", "dask"], "dask", None, None, None, id="dask-local"),
        pytest.param(
            ["--engine", "dask", "--scheduler", "tcp://h:1"],
            "dask",
            "tcp://h:1",
            None,
            None,
            id="dask-scheduler",
        ),
        pytest.param(
            ["--engine", "dask", "--workers", "3", "--worker-memory", "2GB"],
            "dask",
            None,
            3,
            "2GB",
            id="dask-sized-local",
        ),
    ],
)
def test_engine_options_parse(argv, engine, scheduler, workers, memory):
    a = _parser().parse_args(argv)
    check_engine_options(a)
    assert (a.engine, a.scheduler, a.workers, a.worker_memory) == (
        engine,
        scheduler,
        workers,
        memory,
    )


@pytest.mark.parametrize(
    "argv, bad",
    [
        pytest.param(["--scheduler", "tcp://h:1"], "--scheduler", id="scheduler-without-dask"),
        pytest.param(["--workers", "2"], "--workers", id="workers-without-dask"),
        pytest.param(
            ["--engine", "pandas", "--worker-memory", "1GB"],
            "--worker-memory",
            id="memory-with-pandas",
        ),
        pytest.param(
            ["--engine", "dask", "--scheduler", "tcp://h:1", "--workers", "2"],
            "--workers",
            id="workers-with-scheduler",
        ),
    ],
)
def test_engine_options_that_do_not_go_together(argv, bad):
    a = _parser().parse_args(argv)
    with pytest.raises(UsageError) as exc:
        check_engine_options(a)
    assert exc.value.rule == "engine-options" and exc.value.value == bad


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--engine", "spark"], id="unknown-engine"),
        pytest.param(["--engine", "dask", "--workers", "0"], id="zero-workers"),
        pytest.param(["--worker-memory", "lots"], id="bad-memory"),
    ],
)
def test_bad_engine_option_values_are_refused_by_the_parser(argv):
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        _parser().parse_args(argv)


def test_partition_listing_and_alignment(tmp_path):
    for table, n in [
        ("units", 1),
        ("persons", 2),
        ("couples", 2),
        ("children", 2),
        ("certificates", 2),
    ]:
        (tmp_path / table).mkdir()
        for k in range(n):
            (tmp_path / table / f"part-{k:05d}.parquet").write_bytes(b"")
    (tmp_path / "notes").mkdir()  # not a table: ignored
    parts = partition_paths(tmp_path)
    assert sorted(parts) == ["certificates", "children", "couples", "persons", "units"]
    assert [p.name for p in parts["persons"]] == ["part-00000.parquet", "part-00001.parquet"]
    tables = ["units", "persons", "couples", "children", "certificates"]
    aligned = aligned_partitions(parts, tables)
    assert len(aligned) == 2
    assert aligned[1]["units"] == parts["units"]
    assert aligned[1]["certificates"] == [parts["certificates"][1]]
    # one more certificate part than couple parts: not aligned
    (tmp_path / "certificates" / "part-00002.parquet").write_bytes(b"")
    assert aligned_partitions(partition_paths(tmp_path), tables) is None


def test_a_csv_folder_is_not_a_partitioned_dataset(sample_dir):
    assert partition_paths(sample_dir) == {}
