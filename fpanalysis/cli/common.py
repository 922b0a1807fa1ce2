"""What the subcommands share: the option builders (dataset, parameters, language, outputs,
register, engine), the checks of the outputs and of the engine options, the steps every analysis
takes first (parameters, the validated dataset) and the summary line it prints last."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.core import config
from fpanalysis.core.errors import FPError, UsageError
from fpanalysis.core.params import Params, load_params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.io import load_for_analysis, write_table

# --------------------------------------------------------------------------- options


def option_help(table: str) -> dict[str, str]:
    """The help texts of a module's options from a table: each option's name on a line of its
    own, its help (``中文 / English``) on the more indented lines under it, joined by spaces.

    >>> option_help('''
    ...     --out
    ...         输出文件 /
    ...         output file
    ... ''')
    {'--out': '输出文件 / output file'}
    """
    texts: dict[str, list[str]] = {}
    lines = [line for line in table.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    for line in lines:
        if len(line) - len(line.lstrip()) == indent:
            texts[line.strip()] = words = []
        else:
            words.append(line.strip())
    return {option: " ".join(words) for option, words in texts.items()}


OPTIONS = option_help(
    """
    dataset
        数据集：CSV/Parquet 文件夹或一个 .xlsx 工作簿（默认样例数据） /
        dataset folder or .xlsx workbook (default: the bundled sample)
    --params
        参数覆盖文件（YAML） /
        parameter override file (YAML)
    --out
        输出文件：.csv（UTF-8 带 BOM）或 .xlsx /
        output file: .csv (UTF-8 with BOM) or .xlsx
    --reveal-pii
        显示完整姓名和身份证号（默认脱敏） /
        show full names and ID numbers (masked by default)
    --skip-invalid
        跳过校验不通过的行并报告数量 /
        run without rows that fail validation, and say how many
    --record
        把本轮结果记入登记簿（不可修改，只能追加）并显示轮次编号 /
        record this round in the register (append-only) and print its round id
    --supersedes
        本轮更正的轮次编号（同类，须已记录） /
        the round this one corrects (same kind, recorded)
    --note
        本轮说明（如更正原因） /
        a note kept with the round (e.g. why it corrects another)
    --engine
        计算引擎：pandas（默认，单机）或 dask（分区并行，可用于集群） /
        engine: pandas (default, one machine) or dask (partitions in parallel, local or a cluster)
    --scheduler
        Dask 调度器地址 tcp://主机:端口（仅与 --engine dask 同用；不给则在 127.0.0.1
        启动本地集群） /
        Dask scheduler address tcp://host:port (only with --engine dask; without it a local cluster
        starts on 127.0.0.1)
    --workers
        本地集群的工作进程数（默认 2） /
        workers of the local cluster (default 2)
    --worker-memory
        本地集群每个工作进程的内存上限（默认 4GB） /
        memory limit per local worker (default 4GB)
    """
)


def add_dataset(parser: argparse.ArgumentParser) -> None:
    """The optional positional DATASET (a folder of CSV/Parquet or one .xlsx)."""
    parser.add_argument(
        "dataset",
        nargs="?",
        type=Path,
        default=config.SAMPLE_DIR,
        metavar="DATASET",
        help=OPTIONS["dataset"],
    )


def add_path(
    parser: argparse.ArgumentParser, option: str, help: str, metavar: str = "FILE", **kw: Any
) -> None:
    """An option naming a file or a folder (a :class:`~pathlib.Path`)."""
    parser.add_argument(option, type=Path, metavar=metavar, help=help, **kw)


def add_params(parser: argparse.ArgumentParser) -> None:
    add_path(parser, "--params", OPTIONS["--params"])


LANG_HELP = "消息与输出表头的语言 / language of messages and output headers (default zh)"


def add_lang(
    parser: argparse.ArgumentParser,
    help: str = LANG_HELP,
    choices: Sequence[str] = ("zh", "en"),
    default: str = "zh",
) -> None:
    parser.add_argument("--lang", choices=list(choices), default=default, help=help)


def add_out(parser: argparse.ArgumentParser, required: bool = True) -> None:
    add_path(parser, "--out", OPTIONS["--out"], required=required)


def add_reveal_pii(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reveal-pii", action="store_true", help=OPTIONS["--reveal-pii"])


def add_skip_invalid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-invalid", action="store_true", help=OPTIONS["--skip-invalid"])


def add_analysis_options(parser: argparse.ArgumentParser, out_required: bool = True) -> None:
    """DATASET, --params, --lang, --out, --reveal-pii, --skip-invalid."""
    add_dataset(parser)
    add_params(parser)
    add_lang(parser)
    add_out(parser, required=out_required)
    add_reveal_pii(parser)
    add_skip_invalid(parser)


def add_register_option(parser: argparse.ArgumentParser, help_extra: str = "") -> None:
    parser.add_argument(
        "--register",
        metavar="PATH|URL",
        help="登记簿：SQLite 文件路径或 postgresql:// 地址（默认 register.sqlite） / "
        "the decision register: an SQLite file or a postgresql:// URL (default register.sqlite)"
        + help_extra,
    )


def add_record_options(parser: argparse.ArgumentParser, register_help: str = "") -> None:
    """--register (its help ending with ``register_help``), --record, --supersedes, --note."""
    add_register_option(parser, register_help)
    parser.add_argument("--record", action="store_true", help=OPTIONS["--record"])
    parser.add_argument("--supersedes", metavar="ROUND_ID", help=OPTIONS["--supersedes"])
    parser.add_argument("--note", metavar="TEXT", help=OPTIONS["--note"])


def add_recorded_analysis_options(
    parser: argparse.ArgumentParser,
    add_round: Callable[[argparse.ArgumentParser], None],
    register_help: str = "",
) -> None:
    """An analysis whose round the register can record: the analysis options, the round's own
    (``add_round``), the register's and the engine's, in that order."""
    add_analysis_options(parser)
    add_round(parser)
    add_record_options(parser, register_help)
    add_engine_options(parser)


def write(df, path: Path, args: argparse.Namespace, book=None, fen: Sequence[str] = ()) -> None:
    """Mask personal information unless --reveal-pii, then write in the chosen language.

    An ``.xlsx`` with ``book`` (:func:`book`) is the formatted workbook of
    :func:`fpanalysis.io.workbooks.write_table_workbook`; a ``.csv`` or
    ``.parquet`` is the plain table, ``fen`` its columns of whole fen written as
    yuan (:func:`fpanalysis.io.write.write_table`; not with ``book``).
    """
    masked = mask_frame(df, reveal=args.reveal_pii)
    if book is not None and Path(path).suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import write_table_workbook

        write_table_workbook(masked, path, book, lang=args.lang)
    else:
        write_table(masked, path, lang=args.lang, fen=fen)


def book(
    kind: str,
    args: argparse.Namespace,
    path: Path | None,
    *,
    when: str | None = None,
    tables=None,
    source: str | None = None,
):
    """The workbook of output ``kind`` written to ``path``, titled with ``when`` and the dataset.

    None when ``path`` is not an ``.xlsx`` (nothing to format). ``tables`` (the
    loaded dataset) names the units; without them (the Dask engine) the
    ``units`` table is read from the dataset, and a dataset whose units cannot
    be read shows ids only. ``source`` replaces the dataset's name in the title.
    """
    from fpanalysis.io.workbooks import Book, dataset_text, unit_names_of

    if path is None or Path(path).suffix.lower() != ".xlsx":
        return None
    dataset = getattr(args, "dataset", None)
    if tables is None and dataset is not None:
        tables = _units_only(dataset, args)
    return Book(
        kind,
        when=when,
        source=source if source is not None else dataset_text(dataset, args.lang),
        unit_names=unit_names_of(tables),
    )


def _units_only(dataset: Path, args: argparse.Namespace):
    try:
        return load_for_analysis(dataset, ["units"], skip_invalid=True, lang=args.lang)
    except FPError:
        return None


def positive_int(option: str) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number at least 1; its messages name ``option``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option}: 应为整数 / must be an integer: {text!r}"
            ) from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{option}: 应至少为 1 / must be at least 1: {v}")
        return v

    return parse


def parse_date(text: str | None, option: str = "--as-of") -> pd.Timestamp | None:
    """``YYYY-MM-DD`` as a Timestamp; a bad date is a usage error naming the option."""
    if text is None:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise UsageError(
            f"{option} 应为日期 YYYY-MM-DD：{text!r}",
            f"{option} must be a date YYYY-MM-DD: {text!r}",
            value=text,
            rule="date",
        ) from None


# --------------------------------------------------------------------------- the engine


def _memory(text: str) -> str:
    from fpanalysis.engines.dask.cluster import parse_memory

    try:
        parse_memory(text)
    except FPError:
        raise argparse.ArgumentTypeError(
            f"--worker-memory: 应写作 4GB、512MiB 之类 / must read like 4GB or 512MiB: {text!r}"
        ) from None
    return text


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--engine {pandas,dask}``, ``--scheduler ADDRESS``, ``--workers N``,
    ``--worker-memory SIZE``.

    ``--scheduler``, ``--workers`` and ``--worker-memory`` only make sense with
    ``--engine dask``; :func:`check_engine_options` (called by
    :func:`engine_client`) refuses them otherwise, and refuses ``--workers`` /
    ``--worker-memory`` together with ``--scheduler`` (a running cluster has
    its own workers).
    """
    parser.add_argument(
        "--engine", choices=["pandas", "dask"], default="pandas", help=OPTIONS["--engine"]
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help=OPTIONS["--scheduler"])
    parser.add_argument(
        "--workers", type=positive_int("--workers"), metavar="N", help=OPTIONS["--workers"]
    )
    parser.add_argument(
        "--worker-memory", type=_memory, metavar="SIZE", help=OPTIONS["--worker-memory"]
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


def check_dask_options(args: argparse.Namespace) -> None:
    """Engine options that do not go together, refused before any work (exit 2).

    ``--record``/``--register`` need the whole dataset in one process (the
    accountability list, the previous round) and are refused with ``--engine dask``.
    """
    check_engine_options(args)
    if uses_dask(args) and (
        getattr(args, "record", False) or getattr(args, "register", None) is not None
    ):
        raise UsageError(
            "--record/--register 暂不能与 --engine dask 同用（需要在本机读入整个数据集）",
            "--record/--register do not go with --engine dask yet (they need the whole dataset "
            "in one process)",
            value="--engine dask",
            rule="engine-options",
        )


def uses_dask(args: argparse.Namespace) -> bool:
    """Whether the command runs on the Dask engine (``--engine dask``)."""
    return getattr(args, "engine", "pandas") == "dask"


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


def on_dask(args: argparse.Namespace, compute: Callable[..., Any], *a: Any, **kw: Any) -> Any:
    """``compute(client, DATASET, *a, skip_invalid=..., lang=..., **kw)`` on the cluster the
    engine options ask for; prints, once the cluster is closed, what the result's ``messages``
    say (what ``--skip-invalid`` left out)."""
    with engine_client(args) as client:
        res = compute(
            client, args.dataset, *a, skip_invalid=args.skip_invalid, lang=args.lang, **kw
        )
    print_messages(res.messages)
    return res


# --------------------------------------------------------------------------- outputs

OUTPUT_SUFFIXES = (".csv", ".xlsx", ".parquet")


def check_outputs(*paths: Path | None, dataset: Path | None = None) -> None:
    """Refuse, before any work, an unknown output extension or an output that is an input.

    The write guard's check (:func:`fpanalysis.io.guard.check_writes`) of output files
    only; commands name every output with :func:`fpanalysis.cli.outputs.guard_writes`.
    """
    from fpanalysis.io.guard import Target, check_writes

    targets = [Target("--out", Path(p), "file", OUTPUT_SUFFIXES) for p in paths if p is not None]
    check_writes(targets, [("DATASET", dataset)])


def say_written(args: argparse.Namespace, zh: str, en: str) -> None:
    """A command's summary line in ``--lang``, ending with where ``--out`` was written."""
    if args.lang == "zh":
        print(f"{zh}；已写到 {args.out}")
    else:
        print(f"{en}; written to {args.out}")


# --------------------------------------------------------------------------- loading


def arrow_pool() -> None:
    """Arrow's jemalloc allocator for this process, when Arrow has it (``relief``).

    A province's round builds its texts a slice at a time (hundreds of MB each);
    Arrow's default allocator here gives the freed buffers back to the system and
    faults them in again slice after slice (seconds of system time at 2M people).
    Where the memory comes from changes no byte written.
    """
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except (NotImplementedError, AttributeError):  # an Arrow built without it
        pass


def print_messages(lines: Iterable[str]) -> None:
    """What loading said (the rows ``--skip-invalid`` left out), on stderr."""
    for line in lines:
        print(line, file=sys.stderr)


def load_data(args: argparse.Namespace, tables: Sequence[str], keep=None):
    """The validated dataset's ``tables``; prints what ``--skip-invalid`` left out. ``keep``:
    table -> the rows of it the analysis can look at (:func:`fpanalysis.io.load_for_analysis`)."""
    dataset = load_for_analysis(
        args.dataset, list(tables), skip_invalid=args.skip_invalid, lang=args.lang, keep=keep
    )
    print_messages(getattr(dataset, "messages", []))
    return dataset


def load(args: argparse.Namespace, tables: Sequence[str]) -> tuple[Any, Params]:
    """Parameters (``--params``), then the validated dataset's ``tables``."""
    params = load_params(args.params)
    return load_data(args, tables), params
