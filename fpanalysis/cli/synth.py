"""``fpanalysis synth``: write a seeded synthetic dataset (see :mod:`fpanalysis.synth`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fpanalysis import synth
from fpanalysis.errors import UsageError

HELP = "生成模拟数据集 / generate a seeded synthetic dataset"
DESCRIPTION = """\
生成一个模拟县民政局的完整数据集（DATA.md 的每张表），同一种子得到逐字节相同的文件。
Generate a synthetic county bureau's dataset (every table of DATA.md); the same
seed gives byte-identical files.

  fpanalysis synth --seed 20241 --out data/sample
  fpanalysis synth --seed 20241 --out data/sample_workbook.xlsx --format xlsx --lang zh
  fpanalysis synth --seed 7 --out /tmp/bad --faults      # 加入录入错误 / with data-entry errors
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=synth.DEFAULT_SEED,
        help=f"随机种子 / seed (default {synth.DEFAULT_SEED})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="输出文件夹（csv/parquet）或 .xlsx 文件 / output folder (csv, parquet) or .xlsx file",
    )
    parser.add_argument(
        "--format",
        choices=synth.FORMATS,
        default=None,
        help="csv（默认；--out 以 .xlsx 结尾时为 xlsx）、parquet 或 xlsx / "
        "csv (default; xlsx when --out ends in .xlsx), parquet or xlsx",
    )
    parser.add_argument(
        "--people",
        type=int,
        default=None,
        metavar="N",
        help=f"夫妻对数，低保户数相同（默认 {synth.DEFAULT_COUPLES}） / "
        f"number of couples; as many households (default {synth.DEFAULT_COUPLES})",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="加入有记录的录入错误，用于测试校验 / add documented data-entry errors, to test validate",
    )
    parser.add_argument(
        "--lang",
        choices=["en", "zh"],
        default="en",
        help="表头、工作表名与选项的语言（默认 en） / language of headers, sheet names and labels (default en)",
    )


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
    if args.people is not None and args.people < 1:
        raise UsageError("--people 必须至少为 1", "--people must be at least 1", value=args.people)
    if fmt == "xlsx" and args.out.suffix.lower() != ".xlsx":
        raise UsageError(
            "xlsx 格式的 --out 必须是 .xlsx 文件",
            "with --format xlsx, --out must be a .xlsx file",
            value=str(args.out),
        )
    if fmt != "xlsx" and args.out.suffix.lower() == ".xlsx":
        raise UsageError(
            "csv/parquet 格式的 --out 必须是文件夹",
            "with csv or parquet, --out must be a folder",
            value=str(args.out),
        )
    if fmt != "xlsx" and args.out.exists() and not args.out.is_dir():
        raise UsageError(
            "--out 已存在且不是文件夹", "--out exists and is not a folder", value=str(args.out)
        )
    tables = synth.generate(seed=args.seed, people=args.people, faults=args.faults)
    files = synth.write_dataset(tables, args.out, format=fmt, lang=args.lang)
    zh = args.lang == "zh"
    rows = sum(len(v) for v in tables.values())
    print(
        (
            f"已写入 {len(files)} 个文件，{len(tables)} 张表，共 {rows} 行：{args.out}"
            if zh
            else f"wrote {len(files)} file(s), {len(tables)} tables, {rows} rows: {args.out}"
        ),
        file=sys.stderr,
    )
    if tables.faults is not None:
        counts = tables.faults.groupby("kind").size()
        for kind, (_table, _rate, fzh, fen) in synth.FAULTS.items():
            print(f"  {kind}: {int(counts.get(kind, 0))} ({fzh if zh else fen})", file=sys.stderr)
    return 0
