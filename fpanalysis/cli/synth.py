"""``fpanalysis synth``: write a seeded synthetic dataset (see :mod:`fpanalysis.synth`).

An existing dataset is replaced only when synth wrote it and nothing changed it since (a folder's
marker file, a workbook's document properties: :mod:`fpanalysis.io.guard`), or with ``--force``.
"""

from __future__ import annotations

import argparse
import sys

from fpanalysis import synth
from fpanalysis.cli.common import add_lang, add_path, option_help
from fpanalysis.core import schema
from fpanalysis.core.errors import UsageError

# --format parquet is the province-scale partitioned layout (fpanalysis.synth.scale, --people =
# persons); the small generator's one-file-per-table Parquet is --format parquet-flat.
FORMATS = ("csv", "parquet", "parquet-flat", "xlsx")

HELP = "生成模拟数据集 / generate a seeded synthetic dataset"
DESCRIPTION = """\
生成一个模拟县民政局的完整数据集（docs/data_dictionary.md 的每张表），同一种子得到逐字节相同的文件。
Generate a synthetic county bureau's dataset (every table of docs/data_dictionary.md); the same
seed gives byte-identical files.

  fpanalysis synth --seed 20241 --out data/sample
  fpanalysis synth --seed 20241 --out data/sample_workbook.xlsx --format xlsx --lang zh
  fpanalysis synth --seed 7 --out /tmp/bad --faults      # 加入录入错误 / with data-entry errors
  fpanalysis synth --seed 7 --out /tmp/county --format parquet-flat   # 每表一个 Parquet 文件

全省规模 / province scale（分区 Parquet，每表一个文件夹，--people 为人数）:
  fpanalysis synth --people 10000000 --format parquet --out /tmp/p10m
  # 约 1 亿张光荣证 / about 100 million certificates:
  fpanalysis synth --people 100000000 --format parquet --out /tmp/certs \
--certificates-per-couple 2.4 --tables units,persons,couples,children,certificates
"""


OPTIONS = option_help(
    """
    --out
        输出文件夹（csv/parquet）或 .xlsx 文件 /
        output folder (csv, parquet, parquet-flat) or .xlsx file
    --format
        csv（默认；--out 以 .xlsx 结尾时为 xlsx）、xlsx、parquet-flat（每表一个文件）或
        parquet（全省规模：分区 Parquet，每表一个文件夹，--people 为人数） /
        csv (default; xlsx when --out ends in .xlsx), xlsx, parquet-flat (one file per table) or
        parquet (province scale: partitioned, a folder per table; --people counts persons)
    --partition-rows
        parquet：每个分区的人数（默认 250000） /
        parquet: persons per partition (default 250000)
    --certificates-per-couple
        parquet：压力测试用，每对夫妻约 X 张光荣证（光荣证 ≈ 0.42 × X × 人数） /
        parquet: load test, about X certificates per couple (certificates ≈ 0.42 × X × people)
    --tables
        parquet：只写这些表（英文表名，逗号分隔） /
        parquet: write only these tables (English names, comma-separated)
    --faults
        加入有记录的录入错误，用于测试校验 /
        add documented data-entry errors, to test validate
    --force
        --out 已有不是 synth 写的数据时也覆盖 /
        replace --out even when it holds data synth did not write
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=synth.DEFAULT_SEED,
        help=f"随机种子 / seed (default {synth.DEFAULT_SEED})",
    )
    add_path(parser, "--out", OPTIONS["--out"], metavar="PATH", required=True)
    parser.add_argument("--format", choices=FORMATS, default=None, help=OPTIONS["--format"])
    parser.add_argument(
        "--people",
        type=int,
        default=None,
        metavar="N",
        help=f"csv/xlsx/parquet-flat：夫妻对数，低保户数相同（默认 {synth.DEFAULT_COUPLES}）；"
        "parquet：人数（persons 表行数，必填，可达 1 亿） / "
        f"csv, xlsx, parquet-flat: number of couples, as many households (default "
        f"{synth.DEFAULT_COUPLES}); parquet: number of persons (rows of persons; required; "
        "up to 100 million)",
    )
    parser.add_argument("--partition-rows", type=int, metavar="R", help=OPTIONS["--partition-rows"])
    parser.add_argument(
        "--certificates-per-couple",
        type=float,
        metavar="X",
        help=OPTIONS["--certificates-per-couple"],
    )
    parser.add_argument("--tables", default=None, metavar="T1,T2", help=OPTIONS["--tables"])
    parser.add_argument("--faults", action="store_true", help=OPTIONS["--faults"])
    add_lang(
        parser,
        "表头、工作表名与选项的语言（默认 en） / "
        "language of headers, sheet names and labels (default en)",
        choices=("en", "zh"),
        default="en",
    )
    parser.add_argument("--force", action="store_true", help=OPTIONS["--force"])


def _guard(args: argparse.Namespace, fmt: str) -> None:
    """The dataset ``--out`` is checked before anything is generated (fpanalysis.io.guard)."""
    from fpanalysis.cli.outputs import guard_writes
    from fpanalysis.io.guard import Target

    kind = "workbook" if fmt == "xlsx" else "folder"
    guard_writes(args, extra=[Target("--out", args.out, kind)], register=False, force=args.force)


def _mark(args: argparse.Namespace, files) -> None:
    """Record in the folder's marker the files synth wrote (a workbook carries its own mark)."""
    from fpanalysis.io.guard import mark_written

    mark_written(args.out, files, "synth")


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
    if fmt == "parquet":
        return _run_partitioned(args)
    for opt, given in (
        ("--partition-rows", args.partition_rows is not None),
        ("--certificates-per-couple", args.certificates_per_couple is not None),
        ("--tables", args.tables is not None),
    ):
        if given:
            raise UsageError(
                f"{opt} 只用于 --format parquet", f"{opt} is only for --format parquet", value=opt
            )
    if fmt == "parquet-flat":
        fmt = "parquet"  # synth.write_dataset's one-file-per-table Parquet
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
    _guard(args, fmt)
    tables = synth.generate(seed=args.seed, people=args.people, faults=args.faults)
    files = synth.write_dataset(tables, args.out, format=fmt, lang=args.lang)
    if fmt != "xlsx":
        _mark(args, files)
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


def _run_partitioned(args: argparse.Namespace) -> int:
    """``--format parquet``: the province-scale partitioned dataset
    (:mod:`fpanalysis.synth.scale`)."""
    from fpanalysis.synth import scale as synth_scale

    zh = args.lang == "zh"
    if args.people is None:
        raise UsageError(
            "--format parquet 需要 --people（人数，即 persons 表的行数）",
            "--format parquet needs --people (the number of persons, rows of persons)",
        )
    if args.faults:
        raise UsageError(
            "--faults 不能用于 --format parquet（请用 csv、xlsx 或 parquet-flat）",
            "--faults is not available with --format parquet (use csv, xlsx or parquet-flat)",
        )
    if args.lang == "zh":
        raise UsageError(
            "--format parquet 只写英文列名（--lang zh 请用 csv、xlsx 或 parquet-flat）",
            "--format parquet writes English column names only "
            "(for --lang zh use csv, xlsx or parquet-flat)",
        )
    if args.out.suffix.lower() == ".xlsx":
        raise UsageError(
            "--format parquet 的 --out 必须是文件夹",
            "with --format parquet, --out must be a folder",
            value=str(args.out),
        )
    tables = None
    if args.tables is not None:
        tables = []
        for name in (t.strip() for t in args.tables.split(",") if t.strip()):
            try:
                tables.append(schema.table_for_name(name).name)
            except KeyError:
                raise UsageError(
                    f"未知的表：{name}", f"unknown table: {name}", value=name
                ) from None
    part_rows = args.partition_rows or synth_scale.DEFAULT_PARTITION_PEOPLE
    _guard(args, "parquet")
    n_parts = -(-args.people // part_rows) if args.people > 0 else 0

    def progress(part: int, total: int) -> None:
        if total > 4:
            print(f"  {part + 1}/{total}", file=sys.stderr, flush=True)

    counts = synth_scale.generate_partitioned(
        args.out,
        args.people,
        seed=args.seed,
        partition_people=part_rows,
        tables=tables,
        certificates_per_couple=args.certificates_per_couple,
        progress=progress,
    )
    _mark(args, [p for t in counts for p in sorted((args.out / t).glob("*.parquet"))])
    rows = sum(counts.values())
    print(
        (
            f"已写入 {len(counts)} 张表（{n_parts} 个分区），共 {rows} 行：{args.out}"
            if zh
            else f"wrote {len(counts)} tables in {n_parts} partition(s), {rows} rows: {args.out}"
        ),
        file=sys.stderr,
    )
    for t, n in counts.items():
        print(f"  {t}: {n}", file=sys.stderr)
    return 0
