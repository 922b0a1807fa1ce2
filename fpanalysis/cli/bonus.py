"""``fpanalysis bonus``: the budget projection of the only-child parents' reward (rulebook §5), one
row per month and unit (``committed_yuan`` for today's certificates, ``new_p10_yuan`` /
``new_p50_yuan`` / ``new_p90_yuan`` for new ones, seeded Monte Carlo), with ``--scenario`` files
side by side, ``--liability`` and ``--outside`` tables, and ``--engine dask`` for the same files
computed over a partitioned dataset on a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fpanalysis.cli.common import (
    add_analysis_options,
    add_engine_options,
    check_engine_options,
    engine_client,
    write,
)
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.params import load_params
from fpanalysis.rules import bonus

HELP = "独生子女父母奖励金预算预测 / only-child parents' reward budget projection"
DESCRIPTION = """\
预测独生子女父母奖励金（光荣证）逐月、分单位的支出（POLICY.md §5）：已发证的应付金额，
以及无子女育龄夫妇将来领证的新增支出（蒙特卡洛 P10/P50/P90）。
Projects the only-child parents' reward by month and unit (POLICY.md §5): payments committed to
today's certificates, and new certificates from childless in-scope couples (Monte Carlo \
P10/P50/P90).

--start 默认为数据中最后记录日期的下一个月；--months 默认 36。
--start defaults to the month after the dataset's last recorded date; --months defaults to 36.
--scenario FILE 可重复：覆盖参数文件（以文件名为情景名），或 scenarios: {情景名: 覆盖参数}。
--scenario FILE may repeat: an override file (named by its file name) or \
scenarios: {name: overrides}.
--engine dask：按分区在 Dask 集群上计算（分区 Parquet 数据集在工作进程中读取），\
输出与 pandas 引擎逐字节相同。
--engine dask: computed partition by partition on a Dask cluster (a partitioned Parquet dataset is
read in the workers); the output files are byte-identical to the pandas engine's.
"""


def _positive(kind: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{kind}: 应为整数 / must be an integer: {text!r}"
            ) from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{kind}: 应至少为 1 / must be at least 1: {v}")
        return v

    return parse


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数 / must be an integer: {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    add_engine_options(parser)
    parser.add_argument(
        "--start",
        metavar="YYYY-MM",
        help="预测起始月份（默认：数据最后记录日期的下一个月） / first month "
        "(default: the month after the dataset's last recorded date)",
    )
    parser.add_argument(
        "--months",
        type=_positive("--months"),
        default=bonus.DEFAULT_MONTHS,
        metavar="N",
        help="预测月数（默认 36） / horizon in months (default 36)",
    )
    parser.add_argument(
        "--draws",
        type=_positive("--draws"),
        default=bonus.DEFAULT_DRAWS,
        metavar="N",
        help="蒙特卡洛模拟次数（默认 1000） / Monte Carlo draws (default 1000)",
    )
    parser.add_argument(
        "--seed",
        type=_int,
        default=0,
        metavar="S",
        help="随机数种子（默认 0） / random seed (default 0)",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="情景文件（可重复） / scenario file (repeatable)",
    )
    parser.add_argument(
        "--liability",
        type=Path,
        metavar="FILE",
        help="另写出各单位剩余负债 / also write the remaining liability by unit",
    )
    parser.add_argument(
        "--outside",
        type=Path,
        metavar="FILE",
        help="另写出预算外的光荣证 / also write the certificates outside the budget",
    )


def run(args: argparse.Namespace) -> int:
    from fpanalysis.io import load_for_analysis
    from fpanalysis.io.scenarios import load_scenarios

    guard_writes(args, "--out", "--liability", "--outside")  # before any work
    check_engine_options(args)
    if args.start:
        bonus.parse_month(args.start)  # a bad month is a usage error before loading anything
    params = load_params(args.params)
    scenarios = (
        bonus.scenario_params(params, load_scenarios(args.scenario)) if args.scenario else None
    )
    if args.engine == "dask":
        # Map-reduce over partitions on a Dask cluster (fpanalysis.engines.dask.bonus): same tables.
        from fpanalysis.engines.dask.bonus import budget as dask_budget

        with engine_client(args) as client:
            res = dask_budget(
                client,
                args.dataset,
                params,
                start=args.start,
                months=args.months,
                liability=args.liability is not None,
                outside=args.outside is not None,
                skip_invalid=args.skip_invalid,
                lang=args.lang,
            )
        for line in res.messages:
            print(line, file=sys.stderr)
        start, model = res.start, res.model
        liability_table, outside_table = res.liability, res.outside
    else:
        dataset = load_for_analysis(
            args.dataset, bonus.TABLES_NEEDED, skip_invalid=args.skip_invalid, lang=args.lang
        )
        for line in getattr(dataset, "messages", []):
            print(line, file=sys.stderr)
        start = args.start or bonus.default_start(dataset)
        model = bonus.BonusModel.build(dataset, params, start, max_months=args.months)
        liability_table = (
            bonus.liability(dataset, params, start) if args.liability is not None else None
        )
        outside_table = (
            bonus.outside_budget(dataset, params, start, args.months)
            if args.outside is not None
            else None
        )
    if scenarios:
        out = bonus.compare_scenarios(model, scenarios, args.months, args.draws, args.seed)
    else:
        out = model.project(params, args.months, args.draws, args.seed).table()
    write(out, args.out, args)
    if args.liability is not None:
        write(liability_table, args.liability, args)
    if args.outside is not None:
        write(outside_table, args.outside, args)

    base = out[out["scenario"] == "baseline"] if "scenario" in out else out
    committed = sum(base["committed_yuan"], start=0)
    last = bonus.month_label(bonus.parse_month(start) + args.months - 1)
    n_units = base["unit_id"].nunique()
    if args.lang == "zh":
        print(
            f"{start} 至 {last}，{n_units} 个单位：已发证应付 {committed} 元；"
            f"新增见 new_p10/p50/p90（{args.draws} 次模拟，种子 {args.seed}）；已写到 {args.out}"
        )
    else:
        print(
            f"{start} to {last}, {n_units} units: committed {committed} yuan; new certificates in "
            f"new_p10/p50/p90 ({args.draws} draws, seed {args.seed}); written to {args.out}"
        )
    return 0
