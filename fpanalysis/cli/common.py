"""Options shared by the subcommands, and the steps every analysis takes first."""

from __future__ import annotations

import argparse
from pathlib import Path

from fpanalysis import config
from fpanalysis.errors import UsageError


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
    """Refuse, before any work, an unknown output extension or an output inside the input dataset.

    No input file is ever modified, so an output may not be the dataset's file or sit in its folder.
    """
    src = Path(dataset).resolve() if dataset is not None else None
    for p in paths:
        if p is None:
            continue
        if p.suffix.lower() not in OUTPUT_SUFFIXES:
            raise UsageError(
                f"输出文件应为 .csv、.xlsx 或 .parquet：{p}",
                f"an output file must be .csv, .xlsx or .parquet: {p}",
                file=str(p),
                rule="output-extension",
            )
        rp = p.resolve()
        if src is not None and (rp == src or (src.is_dir() and rp.parent == src)):
            raise UsageError(
                "输出文件不能写进输入数据集",
                "an output must not be written into the input dataset",
                file=str(p),
                rule="output-is-input",
            )


def write(df, path: Path, args: argparse.Namespace) -> None:
    """Mask personal information unless --reveal-pii, then write in the chosen language."""
    from fpanalysis.io import write_table
    from fpanalysis.privacy import mask_frame

    write_table(mask_frame(df, reveal=args.reveal_pii), path, lang=args.lang)
