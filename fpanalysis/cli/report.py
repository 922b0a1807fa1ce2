"""``fpanalysis report``: every notebook on a dataset, into a browsable report folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fpanalysis.cli.common import (
    add_dataset,
    add_lang,
    add_params,
    add_path,
    add_reveal_pii,
    option_help,
)
from fpanalysis.core import config

HELP = (
    "运行全部笔记本，生成可浏览的报告（含各单位考核） / "
    "run every notebook into a browsable report (with one per unit)"
)
DESCRIPTION = """\
运行 notebooks/ 中的全部笔记本（考核笔记本另按单位表逐个单位运行），写出：
每个笔记本的已执行版本（.ipynb）和不含代码的网页（.html），以及链接全部报告并列出
运行信息（版本、参数、数据集指纹、时间）的 index.html。失败时保留原有报告。

Runs every notebook in notebooks/ (the compliance notebook also once per unit of the
dataset's units table) and writes the executed notebooks (.ipynb), HTML without code,
and an index.html linking them with the provenance (version, parameters, dataset
hashes, time). A failed run leaves the previous report as it was.

例 / example:
  fpanalysis report --out reports
  fpanalysis report data/2025.xlsx --params overrides.yaml --lang en -p draws=200 \
-p 01:period=2024H2 --out reports_en
"""


OPTIONS = option_help(
    """
    --out
        报告文件夹（成功后整体替换） /
        report folder (replaced as a whole when the run succeeds)
    -p
        笔记本参数，可重复；NOTEBOOK 为编号（如 02）或文件名 /
        a notebook parameter, repeatable; NOTEBOOK is the number (02) or the file stem
    --units
        只为这些单位生成单位报告；none = 不生成（默认：单位表中的全部单位） /
        per-unit reports only for these units; none = no per-unit reports (default: every unit of
        the units table)
    --notebooks
        只运行这些笔记本（编号或文件名） /
        run only these notebooks (numbers or stems)
    --jobs
        同时运行的笔记本数（默认 2） /
        notebooks run at the same time (default 2)
    --pdf
        另写出 A4 简报 briefing.pdf（首页和三份报告） /
        also write briefing.pdf, the front page and the three reports on A4
    --no-progress
        不显示进度条 /
        no progress bar
    """
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset(parser)
    add_params(parser)
    add_lang(parser)
    add_path(parser, "--out", OPTIONS["--out"], metavar="DIR", required=True)
    add_reveal_pii(parser)
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="[NOTEBOOK:]NAME=VALUE",
        help=OPTIONS["-p"],
    )
    parser.add_argument("--units", metavar="U01,U02", help=OPTIONS["--units"])
    parser.add_argument("--notebooks", metavar="01,03", help=OPTIONS["--notebooks"])
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help=OPTIONS["--jobs"])
    parser.add_argument("--pdf", action="store_true", help=OPTIONS["--pdf"])
    parser.add_argument("--no-progress", action="store_true", help=OPTIONS["--no-progress"])


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip().lower() == "none":
        return []
    return [s.strip() for s in text.split(",") if s.strip()]


def run(args: argparse.Namespace) -> int:
    from fpanalysis.cli.outputs import guard_writes
    from fpanalysis.report import build_report
    from fpanalysis.report.folders import report_target

    guard_writes(args, extra=[report_target(args.out)], register=False)
    dataset = None if Path(args.dataset).resolve() == config.SAMPLE_DIR.resolve() else args.dataset
    started = time.monotonic()
    out = build_report(
        args.out,
        dataset,
        params_file=args.params,
        lang=args.lang,
        parameters=args.parameter,
        units=_split(args.units),
        notebooks=_split(args.notebooks),
        jobs=max(1, args.jobs),
        reveal_pii=args.reveal_pii,
        progress=not args.no_progress,
        pdf=args.pdf,
    )
    secs = time.monotonic() - started
    if args.lang == "zh":
        print(f"报告已写到 {out / 'index.html'}（用时 {secs:.0f} 秒）", file=sys.stderr)
    else:
        print(f"report written to {out / 'index.html'} ({secs:.0f} s)", file=sys.stderr)
    return 0
