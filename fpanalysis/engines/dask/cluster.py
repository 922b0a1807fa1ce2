"""Starting or joining a Dask cluster, and listing the part files of partitioned datasets:
:func:`dask_client` gives a ``distributed.Client`` on a fresh ``LocalCluster`` bound to 127.0.0.1
(no dashboard, nothing reachable from the network) or on a running scheduler given by address, and
stops whatever it started, on success and on error; a wrong or unreachable scheduler, or a bad
memory size, is a :class:`~fpanalysis.core.errors.UsageError`, never a traceback."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from fpanalysis.core.errors import UsageError

#: Seconds to wait for a scheduler given by address before giving up.
CONNECT_TIMEOUT = 5


def parse_memory(size: str | int) -> int:
    """Bytes of a memory size such as ``"4GB"``, ``"512MiB"`` or ``4000000000``.

    Raises:
        UsageError: not a size (``"4 parsecs"``, ``""``, 0).

    Examples:
        >>> parse_memory("4GB"), parse_memory("1.5 GiB")
        (4000000000, 1610612736)
    """
    from dask.utils import parse_bytes

    try:
        # parse_bytes reads "" as 1 byte: a size needs a digit
        value = int(parse_bytes(size)) if any(ch.isdigit() for ch in str(size)) else -1
    except (ValueError, TypeError, KeyError):
        value = -1
    if value <= 0:
        raise UsageError(
            f"内存大小应写作 4GB、512MiB 之类：{size!r}",
            f"a memory size must read like 4GB or 512MiB: {size!r}",
            value=str(size),
            rule="memory-size",
        )
    return value


def check_scheduler_address(address: str) -> str:
    """A scheduler address ``tcp://host:port`` (or ``host:port``, taken as tcp).

    Raises:
        UsageError: anything else.

    Examples:
        >>> check_scheduler_address("10.0.0.5:8786")
        'tcp://10.0.0.5:8786'
    """
    text = str(address).strip()
    if "://" not in text:
        text = "tcp://" + text
    proto, _, rest = text.partition("://")
    host, sep, port = rest.rpartition(":")
    if proto not in ("tcp", "tls", "ucx", "ws", "wss", "inproc") or (
        proto != "inproc" and (not sep or not host or not port.isdigit())
    ):
        raise UsageError(
            f"调度器地址应写作 tcp://主机:端口：{address!r}",
            f"a scheduler address must read tcp://host:port: {address!r}",
            value=str(address),
            rule="scheduler-address",
        )
    return text


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: str = "4GB",
    processes: bool = True,
) -> Iterator:
    """A ``distributed.Client`` for the duration of a ``with`` block.

    Args:
        scheduler: address of a running scheduler (``tcp://host:port``). ``None``
            starts a ``LocalCluster(host="127.0.0.1", dashboard_address=None)``
            and shuts it down on leaving the block (also on an error).
        n_workers, threads_per_worker, memory_limit: the local cluster's size
            (ignored with ``scheduler``: a running cluster has its own).
        processes: local workers as processes (default) or threads.

    Yields:
        The client. With ``scheduler``, only the client is closed afterwards;
        the cluster keeps running.

    Raises:
        UsageError: the address is malformed or no scheduler answers within
            :data:`CONNECT_TIMEOUT` seconds; ``memory_limit`` is not a size.

    Examples:
        >>> with dask_client(n_workers=1, processes=False, memory_limit="1GB") as client:
        ...     client.submit(sum, [1, 2, 3]).result()
        6
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        address = check_scheduler_address(scheduler)
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"无法连接 Dask 调度器 {address}（{CONNECT_TIMEOUT} 秒内无应答）。"
                "请检查地址和端口、调度器是否在运行；不加 --scheduler 则在本机启动集群",
                f"cannot reach the Dask scheduler at {address} (no answer within "
                f"{CONNECT_TIMEOUT} s): check the address and port and that the scheduler is "
                "running; without --scheduler a local cluster is started",
                value=scheduler,
                rule="scheduler-unreachable",
            ) from exc
        try:
            yield client
        finally:
            client.close()
        return

    if n_workers < 1 or threads_per_worker < 1:
        raise UsageError(
            "工作进程数和线程数应至少为 1",
            "workers and threads per worker must be at least 1",
            value=f"{n_workers}x{threads_per_worker}",
            rule="workers",
        )
    parse_memory(memory_limit)
    # Everything listens on 127.0.0.1 only. Threads (processes=False) would default to inproc://,
    # which refuses a host and leaves the scheduler's HTTP server on 0.0.0.0: use tcp on the
    # loopback instead.
    cluster = LocalCluster(
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
        # No dashboard, but the scheduler still serves /health on HTTP: on 127.0.0.1 at a free
        # port, not the well-known 8787 an analyst's own Dask session may hold.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        processes=processes,
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        memory_limit=memory_limit,
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    try:
        yield client
    finally:
        try:
            client.close()
        finally:
            cluster.close()


# --------------------------------------------------------------------------- partitioned datasets


def partition_paths(path: str | Path) -> dict[str, list[Path]]:
    """The part files of a partitioned Parquet dataset: ``{table: [DIR/<table>/part-N.parquet]}``.

    Uses ``fpanalysis.io.partition_paths`` when the package has it (the
    generator's own reader), else lists ``DIR/<table>/*.parquet`` sorted by
    name. Only folders named after a known table count; an empty dict means
    ``path`` is not a partitioned dataset (a CSV folder, a workbook, one file
    per table).
    """
    from fpanalysis import io
    from fpanalysis.core import schema

    path = Path(path)
    if not path.is_dir():
        return {}
    own = getattr(io, "partition_paths", None)
    if own is not None:
        found = own(path)
        return {str(k): [Path(p) for p in v] for k, v in dict(found).items() if v}
    out: dict[str, list[Path]] = {}
    for sub in sorted(path.iterdir()):
        if not sub.is_dir() or sub.name.startswith("."):
            continue
        try:
            table = schema.table_for_name(sub.name).name
        except KeyError:
            continue
        parts = sorted(p for p in sub.glob("*.parquet") if not p.name.startswith("."))
        if parts:
            out[table] = parts
    return out


def aligned_partitions(
    parts: dict[str, list[Path]], tables: list[str], shared: tuple[str, ...] = ("units",)
) -> list[dict[str, list[Path]]] | None:
    """Group part files into aligned partitions: ``[{table: [files]}, ...]``, or ``None``.

    Tables in ``shared`` (small, unpartitioned: ``units``) go with every
    partition. The other tables are aligned when each has the same number of
    parts; part k of every table then forms partition k (the generator writes
    whole couples to one part). A table with a different count, or missing,
    means the dataset cannot be trusted to be aligned: ``None``.
    """
    per = [t for t in tables if t not in shared]
    if any(t not in parts for t in tables):
        return None
    counts = {len(parts[t]) for t in per}
    if len(counts) != 1:
        return None
    n = counts.pop()
    return [
        {**{t: list(parts[t]) for t in tables if t in shared}, **{t: [parts[t][k]] for t in per}}
        for k in range(n)
    ]
