"""``fpanalysis validate``: check a dataset and list every problem (docs/data_dictionary.md;
rulebook §7). Prints, per table, the rows read, rejected and warned about, then each problem on
its own line in the chosen language. Exit code 0 when the data is usable (warnings allowed), 1
otherwise. Never writes to the input: ``--rejects DIR`` writes the rejected rows (unmasked, for
the clerk's corrections) and ``--out FILE`` the problem list (values masked, rulebook §7), only
where asked. The rejects files of an earlier run into the same folder are removed (a clean run
leaves none behind), and any other file there is named."""

from __future__ import annotations

import argparse
import os
import sys

from fpanalysis.cli.common import (
    add_dataset,
    add_lang,
    add_out,
    add_path,
    arrow_pool,
    option_help,
    parse_date,
)
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.io import load_by_part, write_table
from fpanalysis.io.guard import mark_written
from fpanalysis.io.validate import validate_dataset, write_rejects

HELP = "校验数据集并列出全部问题 / check a dataset and list every problem"
DESCRIPTION = """\
校验数据集（CSV/Parquet 文件夹或 .xlsx 工作簿），\
逐行列出全部问题：表、行号、编号、列、原值、规则、说明。
Check a dataset (folder of CSV/Parquet files or one .xlsx workbook) and list every
problem: table, row, key, column, value as typed, rule, message.

退出码 / exit code: 0 数据可用（可有警告） usable (warnings allowed); 1 有错误 errors found.
--rejects 写出的文件含未脱敏的原始值，仅供经办人改正数据使用 /
the --rejects files show values unmasked, for the clerk's own corrections.
"""


OPTIONS = option_help(
    """
    --rejects
        把被拒绝的行（原样、含原因）写到此文件夹 /
        write the rejected rows, as typed, with reasons, to DIR
    --as-of
        检查日（默认今天）：出生日期晚于此日为错误 /
        the day of the check (default today): a birth date after it is an error
    --force
        --rejects 文件夹中有不是 fpanalysis 写的文件时也写入 /
        write --rejects into a folder that holds files fpanalysis did not write
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset(parser)
    add_path(parser, "--rejects", OPTIONS["--rejects"], metavar="DIR")
    parser.add_argument("--as-of", metavar="DATE", help=OPTIONS["--as-of"])
    add_lang(parser)
    add_out(parser, required=False)
    parser.add_argument("--force", action="store_true", help=OPTIONS["--force"])


def run(args: argparse.Namespace) -> int:
    lang = args.lang
    guard_writes(args, "--out", "--rejects", force=args.force)  # before any work
    as_of = parse_date(args.as_of)
    arrow_pool()  # a province's columns are read, converted and let go one after another
    # the largest tables (surveys, attendance) read and checked a part at a time, never whole
    dataset, by_part = load_by_part(args.dataset)
    report = validate_dataset(dataset, as_of=as_of, by_part=by_part)
    # Files first, then the printout: a closed pipe (`| head`) must not lose the files.
    written, removed, others = {}, [], []
    if args.rejects is not None:
        written = write_rejects(report, dataset, args.rejects, lang=lang)
        if written or args.rejects.is_dir():
            removed, others = mark_written(
                args.rejects, written.values(), "validate", remove_stale=True
            )
    # the problem list is a file like any output: the values it quotes are masked (rulebook §7)
    if args.out is not None and args.out.suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import Book, as_of_text, dataset_text, write_table_workbook

        when = as_of_text(as_of, lang) if as_of is not None else None
        b = Book("problems", when=when, source=dataset_text(dataset.source, lang))
        frame = report.to_frame(lang, masked=True)
        write_table_workbook(frame, args.out, b, lang=lang, translate=False)
    elif args.out is not None:
        write_table(report.to_frame(lang, masked=True), args.out)
    lines = [report.summary(dataset, lang)]
    if written:
        what = "被拒绝的行已写到" if lang == "zh" else "rejected rows written to"
        lines.append(f"{what} {args.rejects} ({', '.join(p.name for p in written.values())})")
    if removed:
        what = "已删除上次的被拒绝行文件" if lang == "zh" else "removed the earlier rejects files"
        lines.append(f"{what} {args.rejects}: {', '.join(removed)}")
    if others:
        what = (
            "注意：该文件夹中还有不是本次写的文件"
            if lang == "zh"
            else "note: the folder also holds files this run did not write"
        )
        lines.append(f"{what} {args.rejects}: {', '.join(others)}")
    if args.out is not None:
        lines.append(
            ("问题清单已写到 " if lang == "zh" else "problem list written to ") + str(args.out)
        )
    try:
        print("\n".join(lines))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a Unix tool does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0 if report.ok else 1
