"""Options shared by the subcommands, and the steps every analysis takes first."""

from __future__ import annotations

import argparse
from pathlib import Path

from fpanalysis.core import config
from fpanalysis.core.errors import UsageError


def add_dataset(parser: argparse.ArgumentParser) -> None:
    """The optional positional DATASET (a folder of CSV/Parquet or one .xlsx)."""
    parser.add_argument(
        "dataset",
        nargs="?",
        type=Path,
        default=config.SAMPLE_DIR,
        metavar="DATASET",
        help="数据集：CSV/Parquet 文件夹或一个 .xlsx 工作簿（默认样例数据） / "
        "dataset folder or .xlsx workbook (default: the bundled sample)",
    )


def add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params",
        type=Path,
        metavar="FILE",
        help="参数覆盖文件（YAML） / parameter override file (YAML)",
    )


def add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=["zh", "en"],
        default="zh",
        help="消息与输出表头的语言 / language of messages and output headers (default zh)",
    )


def add_out(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        required=required,
        metavar="FILE",
        help="输出文件：.csv（UTF-8 带 BOM）或 .xlsx / output file: .csv (UTF-8 with BOM) or .xlsx",
    )


def add_reveal_pii(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reveal-pii",
        action="store_true",
        help="显示完整姓名和身份证号（默认脱敏） / show full names and ID numbers (masked by default)",
    )


def add_skip_invalid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="跳过校验不通过的行并报告数量 / run without rows that fail validation, and say how many",
    )


def add_analysis_options(parser: argparse.ArgumentParser, out_required: bool = True) -> None:
    """DATASET, --params, --lang, --out, --reveal-pii, --skip-invalid."""
    add_dataset(parser)
    add_params(parser)
    add_lang(parser)
    add_out(parser, required=out_required)
    add_reveal_pii(parser)
    add_skip_invalid(parser)


OUTPUT_SUFFIXES = (".csv", ".xlsx", ".parquet")


def check_outputs(*paths: Path | None, dataset: Path | None = None) -> None:
    """Refuse, before any work, an unknown output extension or an output that is an input.

    The write guard's check (:func:`fpanalysis.io.guard.check_writes`) of output files
    only; commands name every output with :func:`fpanalysis.cli.outputs.guard_writes`.
    """
    from fpanalysis.io.guard import Target, check_writes

    targets = [Target("--out", Path(p), "file", OUTPUT_SUFFIXES) for p in paths if p is not None]
    check_writes(targets, [("DATASET", dataset)])


def write(df, path: Path, args: argparse.Namespace) -> None:
    """Mask personal information unless --reveal-pii, then write in the chosen language."""
    from fpanalysis.core.privacy import mask_frame
    from fpanalysis.io import write_table

    write_table(mask_frame(df, reveal=args.reveal_pii), path, lang=args.lang)


# --------------------------------------------------------------------------- the engine (issue 7)


def _workers(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--workers: 应为整数 / must be an integer: {text!r}"
        ) from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"--workers: 应至少为 1 / must be at least 1: {v}")
    return v


def _memory(text: str) -> str:
    from fpanalysis.core.errors import FPError
    from fpanalysis.engines.dask.cluster import parse_memory

    try:
        parse_memory(text)
    except FPError:
        raise argparse.ArgumentTypeError(
            f"--worker-memory: 应写作 4GB、512MiB 之类 / must read like 4GB or 512MiB: {text!r}"
        ) from None
    return text


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--engine {pandas,dask}``, ``--scheduler ADDRESS``, ``--workers N``, ``--worker-memory SIZE``.

    ``--scheduler``, ``--workers`` and ``--worker-memory`` only make sense with
    ``--engine dask``; :func:`check_engine_options` (called by
    :func:`engine_client`) refuses them otherwise, and refuses ``--workers`` /
    ``--worker-memory`` together with ``--scheduler`` (a running cluster has
    its own workers).
    """
    parser.add_argument(
        "--engine",
        choices=["pandas", "dask"],
        default="pandas",
        help="计算引擎：pandas（默认，单机）或 dask（分区并行，可用于集群） / "
        "engine: pandas (default, one machine) or dask (partitions in parallel, local or a cluster)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask 调度器地址 tcp://主机:端口（仅与 --engine dask 同用；不给则在 127.0.0.1 启动本地集群） / "
        "Dask scheduler address tcp://host:port (only with --engine dask; without it a local "
        "cluster starts on 127.0.0.1)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="本地集群的工作进程数（默认 2） / workers of the local cluster (default 2)",
    )
    parser.add_argument(
        "--worker-memory",
        type=_memory,
        default=None,
        metavar="SIZE",
        help="本地集群每个工作进程的内存上限（默认 4GB） / memory limit per local worker (default 4GB)",
    )


def check_engine_options(args: argparse.Namespace) -> None:
    """Refuse engine options that do not go together (a :class:`UsageError`, exit 2)."""
    engine = getattr(args, "engine", "pandas")
    given = [
        opt
        for opt, attr in (
            ("--scheduler", "scheduler"),
            ("--workers", "workers"),
            ("--worker-memory", "worker_memory"),
        )
        if getattr(args, attr, None) is not None
    ]
    if engine != "dask" and given:
        raise UsageError(
            f"{'、'.join(given)} 只能与 --engine dask 一起使用",
            f"{', '.join(given)} can only be used with --engine dask",
            value=given[0],
            rule="engine-options",
        )
    if getattr(args, "scheduler", None) is not None and len(given) > 1:
        raise UsageError(
            "连接已有调度器时不能再指定 --workers 或 --worker-memory（集群有自己的工作进程）",
            "--workers and --worker-memory do not go with --scheduler (a running cluster has its "
            "own workers)",
            value=given[1],
            rule="engine-options",
        )


def engine_client(args: argparse.Namespace):
    """The ``dask_client`` context manager the engine options ask for (checked first).

    Usage in a command's ``run``: ``with engine_client(args) as client: ...``.
    """
    from fpanalysis.engines.dask.cluster import dask_client

    check_engine_options(args)
    kw = {}
    if getattr(args, "workers", None) is not None:
        kw["n_workers"] = args.workers
    if getattr(args, "worker_memory", None) is not None:
        kw["memory_limit"] = args.worker_memory
    return dask_client(getattr(args, "scheduler", None), **kw)
