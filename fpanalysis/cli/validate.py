"""``fpanalysis validate``: check a dataset and list every problem (docs/data_dictionary.md;
rulebook §7). Prints, per table, the rows read, rejected and warned about, then each problem on
its own line in the chosen language. Exit code 0 when the data is usable (warnings allowed), 1
otherwise. Never writes to the input: ``--rejects DIR`` writes the rejected rows (unmasked, for
the clerk's corrections) and ``--out FILE`` the problem list, only where asked."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fpanalysis.cli.common import add_dataset, add_lang, add_out, add_path, parse_date
from fpanalysis.core.errors import UsageError
from fpanalysis.io import load_dataset, write_table
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset(parser)
    add_path(
        parser,
        "--rejects",
        "把被拒绝的行（原样、含原因）写到此文件夹 / "
        "write the rejected rows, as typed, with reasons, to DIR",
        metavar="DIR",
    )
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="检查日（默认今天）：出生日期晚于此日为错误 / "
        "the day of the check (default today): a birth date after it is an error",
    )
    add_lang(parser)
    add_out(parser, required=False)


def run(args: argparse.Namespace) -> int:
    lang = args.lang
    as_of = parse_date(args.as_of)
    dataset = load_dataset(args.dataset)
    # Output files never overwrite an input file.
    src = Path(dataset.source)
    inputs = {(src / n).resolve() for n in dataset.sha256} if src.is_dir() else {src.resolve()}
    if args.out is not None and args.out.resolve() in inputs:
        raise UsageError(
            "--out 不能是输入文件", "--out must not be an input file", file=str(args.out)
        )
    if args.rejects is not None and args.rejects.resolve() == Path(dataset.source).resolve():
        raise UsageError(
            "--rejects 不能是数据集文件夹本身（会被当作输入读取）",
            "--rejects must not be the dataset folder itself (it would be read as input)",
            file=str(args.rejects),
        )
    report = validate_dataset(dataset, as_of=as_of)
    # Files first, then the printout: a closed pipe (`| head`) must not lose the files.
    written = (
        write_rejects(report, dataset, args.rejects, lang=lang) if args.rejects is not None else {}
    )
    if args.out is not None and args.out.suffix.lower() == ".xlsx":
        from fpanalysis.io.workbooks import Book, as_of_text, dataset_text, write_table_workbook

        when = as_of_text(as_of, lang) if as_of is not None else None
        b = Book("problems", when=when, source=dataset_text(dataset.source, lang))
        write_table_workbook(report.to_frame(lang), args.out, b, lang=lang, translate=False)
    elif args.out is not None:
        write_table(report.to_frame(lang), args.out)
    lines = [report.summary(dataset, lang)]
    if written:
        what = "被拒绝的行已写到" if lang == "zh" else "rejected rows written to"
        lines.append(f"{what} {args.rejects} ({', '.join(p.name for p in written.values())})")
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
