"""``fpanalysis templates``: write the empty input templates and the data dictionary.

The folder is written again only when the templates in it are as fpanalysis wrote them (its
marker file, :mod:`fpanalysis.io.guard`): templates filled in since are refused without
``--force``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fpanalysis.cli.common import add_lang, add_path, option_help
from fpanalysis.core import config
from fpanalysis.io import templates

HELP = (
    "生成空白录入模板（Excel、CSV）和数据字典 / "
    "write blank input templates (Excel, CSV) and the data dictionary"
)

DESCRIPTION = f"""\
{HELP}

写出 / writes:
  DIR/{templates.WORKBOOK_NAME}   每表一个工作表，中文表头、批注、下拉选项 / one sheet per table
  DIR/{templates.CSV_DIR}/<表>.csv               每表一个 CSV（UTF-8 带 BOM）/ one CSV per table
  数据字典 data dictionary: docs/data_dictionary.md（默认 DIR 时）或 DIR/data_dictionary.md
"""


OPTIONS = option_help(
    """
    --dictionary
        数据字典的路径（默认见上） /
        where to write the data dictionary (default above)
    --force
        文件夹中有不是 fpanalysis 写的（或已填写的）文件时也覆盖 /
        write even when the folder holds files fpanalysis did not write (or filled-in ones)
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_path(
        parser,
        "--out",
        f"输出文件夹（默认 {config.TEMPLATES_DIR.relative_to(config.PROJ_ROOT)}） / "
        "output folder (default data/templates)",
        metavar="DIR",
        default=None,
    )
    add_path(parser, "--dictionary", OPTIONS["--dictionary"], default=None)
    add_lang(parser, "消息语言 / language of messages (default zh)")
    parser.add_argument("--force", action="store_true", help=OPTIONS["--force"])


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else config.TEMPLATES_DIR
    if args.dictionary is not None:
        dictionary = args.dictionary
    elif args.out is None:
        dictionary = templates.DICTIONARY_PATH
    else:
        # a user-chosen folder gets everything in it, not a write into the project's docs
        dictionary = Path(args.out) / "data_dictionary.md"
    from fpanalysis.cli.outputs import guard_writes
    from fpanalysis.io.guard import Target, mark_written

    targets = [Target("--out", Path(out), "folder")]
    if Path(out).resolve() not in Path(dictionary).resolve().parents:  # else one of the folder's
        targets.append(Target("--dictionary", Path(dictionary)))
    guard_writes(args, extra=targets, register=False, force=args.force)
    paths = templates.write_templates(out, dictionary)
    mark_written(out, [p for p in paths if Path(out).resolve() in p.resolve().parents], "templates")
    word = "已写出" if args.lang == "zh" else "wrote"
    for p in paths:
        print(f"{word} {p}")
    return 0
