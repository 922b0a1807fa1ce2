"""The ``fpanalysis`` command line: each subcommand is a module in this package with ``HELP`` (a
one-line bilingual help), ``add_arguments(parser)`` and ``run(args) -> int``, listed in
``SUBCOMMANDS``; what they share is in :mod:`fpanalysis.cli.common`. It may import every layer
below it."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from fpanalysis import __version__
from fpanalysis.core import timings
from fpanalysis.core.errors import FPError

# The subcommands import the heavy libraries (Dask, the register's database drivers, papermill,
# the province-scale generator) inside the functions that use them, and only those: every
# subcommand's module is imported to build the parser, so a top-level import of one of them
# would slow down `fpanalysis --help` and every command.

# Order is the order shown in --help.
SUBCOMMANDS = [
    "validate",
    "synth",
    "templates",
    "params",
    "bonus",
    "compliance",
    "cases",
    "accountability",
    "relief",
    "decide",
    "notice",
    "object",
    "approve",
    "review",
    "history",
    "explain",
    "register",
    "report",
]

DESCRIPTION = """\
fpanalysis —— 民政局计划生育工作计划分析工具
County Civil Affairs Bureau family-planning work-plan analyses.

不给出数据集时，所有命令都使用自带的样例数据 data/sample。
Without a DATASET every command uses the bundled sample, data/sample.

退出码 / exit codes: 0 成功 ok; 1 数据或参数有误 bad data or parameters; \
2 命令用法有误 bad command line;
3 登记簿不可用 the register cannot be used; \
75 登记簿正被他人写入，请稍后重试 the register is busy, try again.
"""


def _load(name: str):
    try:
        return importlib.import_module(f"fpanalysis.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"fpanalysis.cli.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="fpanalysis",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fpanalysis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        mod = _load(name)
        if mod is None:
            continue
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from fpanalysis.core.memory import keep_freed_memory, no_huge_pages

    no_huge_pages()  # measured: numpy's huge pages cost seconds here (core.memory)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "engine", None) != "dask":  # measured: fresh pages cost seconds here too
        keep_freed_memory()
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    lang = getattr(args, "lang", "zh") or "zh"
    try:
        t0 = time.perf_counter()
        with timings.phase(f"command {getattr(args, 'command', None) or 'run'}"):
            code = int(args._run(args) or 0)
        if timings.enabled():
            print(timings.summary(time.perf_counter() - t0), file=sys.stderr)
        return code
    except FPError as exc:
        label = "错误" if lang == "zh" else "error"
        print(f"{label}: {exc.text(lang)}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("中断 / interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # a file the system refused that no check foresaw: its path, in words, never a traceback
        from fpanalysis.io.guard import os_error

        label = "错误" if lang == "zh" else "error"
        print(f"{label}: {os_error(exc).text(lang)}", file=sys.stderr)
        return 1
