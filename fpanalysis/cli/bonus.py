"""``fpanalysis bonus``: budget projection of the only-child parents' reward (rulebook §5), one
row per month and unit: ``month`` (YYYY-MM), ``unit_id``, ``committed_yuan`` (today's certificates)
and ``new_p10_yuan`` / ``new_p50_yuan`` / ``new_p90_yuan`` (expected new certificates, seeded Monte
Carlo), in yuan with 2 decimals from exact fen; with ``--scenario`` a ``scenario`` column, baseline
first, every scenario drawn with the same seed. ``--liability`` and ``--outside`` write the
remaining liability by unit and the certificates outside the budget; ``--engine dask`` computes the
same files as a map-reduce over the dataset's partitions (:mod:`fpanalysis.engines.dask.bonus`)."""

from __future__ import annotations

import argparse

from fpanalysis.cli.common import (
    add_analysis_options,
    add_engine_options,
    add_path,
    book,
    check_engine_options,
    load_data,
    on_dask,
    option_help,
    positive_int,
    print_messages,
    say_written,
    uses_dask,
    write,
)
from fpanalysis.cli.outputs import guard_writes
from fpanalysis.core.memory import release_memory
from fpanalysis.core.params import load_params
from fpanalysis.io.scenarios import load_scenarios
from fpanalysis.rules import bonus

HELP = "独生子女父母奖励金预算预测 / only-child parents' reward budget projection"
DESCRIPTION = """\
预测独生子女父母奖励金（光荣证）逐月、分单位的支出（规则手册 docs/rules.md §5）：
已发证的应付金额，以及无子女育龄夫妇将来领证的新增支出（蒙特卡洛 P10/P50/P90）。
Projects the only-child parents' reward by month and unit (rulebook docs/rules.md §5):
payments committed to today's certificates, and new certificates from childless in-scope
couples (Monte Carlo P10/P50/P90).

reward_split = half（夫妻双方单位各半）按月判断：某月双方都在本局工资表上，各付一半
（多出的 1 分给领取人一方）；某月只有一方在工资表上，由该方单位付全额。
reward_split = half (each spouse's unit pays half) is judged month by month: in a month both
spouses are on the bureau's payroll each unit pays half (the odd fen to the payee's half); in a
month only one is, that one's unit pays all.
--liability：现有光荣证今后各月的剩余负债，按同一月份规则计算，已记录的离职日期和收回日期都计入。
--liability: the remaining liability of today's certificates, by the same month rule, recorded
leave dates and revocations included.

--start 默认为数据中最后记录日期的下一个月；--months 默认 36。
--start defaults to the month after the dataset's last recorded date; --months defaults to 36.
--scenario FILE 可重复：覆盖参数文件（以文件名为情景名），或 scenarios: {情景名: 覆盖参数}。
--scenario FILE may repeat: an override file (named by its file name) or scenarios: \
{name: overrides}.
--engine dask：按分区在 Dask 集群上计算（分区 Parquet 数据集在工作进程中读取），\
输出与 pandas 引擎逐字节相同。
--engine dask: computed partition by partition on a Dask cluster (a partitioned Parquet dataset is
read in the workers); the output files are byte-identical to the pandas engine's.
"""


OPTIONS = option_help(
    """
    --start
        预测起始月份（默认：数据最后记录日期的下一个月） /
        first month (default: the month after the dataset's last recorded date)
    --seed
        随机数种子（默认 0） /
        random seed (default 0)
    --scenario
        情景文件（可重复） /
        scenario file (repeatable)
    --fiscal-year-start
        预算年度的起始月份（默认 1，即自然年；用于 .xlsx 预算申请表） /
        the month a budget year starts in (default 1: calendar years; for the .xlsx budget request)
    --liability
        另写出各单位剩余负债（计入已记录的离职和收回日期） /
        also write the remaining liability by unit (recorded leave and revocation dates included)
    --outside
        另写出预算外的光荣证 /
        also write the certificates outside the budget
    """
)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数 / must be an integer: {text!r}") from None


def _month_of_year(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= 12:
        raise argparse.ArgumentTypeError(
            f"--fiscal-year-start: 应为 1 至 12 的月份 / must be a month, 1 to 12: {text!r}"
        )
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_options(parser)
    add_engine_options(parser)
    parser.add_argument("--start", metavar="YYYY-MM", help=OPTIONS["--start"])
    for option, default, help in (
        ("--months", bonus.DEFAULT_MONTHS, "预测月数（默认 36） / horizon in months (default 36)"),
        (
            "--draws",
            bonus.DEFAULT_DRAWS,
            "蒙特卡洛模拟次数（默认 1000） / Monte Carlo draws (default 1000)",
        ),
    ):
        parser.add_argument(
            option, type=positive_int(option), default=default, metavar="N", help=help
        )
    parser.add_argument("--seed", type=_int, default=0, metavar="S", help=OPTIONS["--seed"])
    add_path(parser, "--scenario", OPTIONS["--scenario"], action="append", default=[])
    parser.add_argument(
        "--fiscal-year-start",
        type=_month_of_year,
        default=1,
        metavar="MM",
        help=OPTIONS["--fiscal-year-start"],
    )
    add_path(parser, "--liability", OPTIONS["--liability"])
    add_path(parser, "--outside", OPTIONS["--outside"])


def run(args: argparse.Namespace) -> int:
    guard_writes(args, "--out", "--liability", "--outside")  # before any work
    check_engine_options(args)
    if args.start:
        bonus.parse_month(args.start)  # a bad month is a usage error before loading anything
    params = load_params(args.params)
    scenarios = (
        bonus.scenario_params(params, load_scenarios(args.scenario)) if args.scenario else None
    )
    if uses_dask(args):
        # Map-reduce over partitions on a Dask cluster (fpanalysis.engines.dask.bonus): same tables.
        from fpanalysis.engines.dask.bonus import budget as dask_budget

        res = on_dask(
            args,
            dask_budget,
            params,
            start=args.start,
            months=args.months,
            liability=args.liability is not None,
            outside=args.outside is not None,
        )
        start, model = res.start, res.model
        liability_table, outside_table = res.liability, res.outside
        dataset = None  # the units' names are read for a workbook only
    else:
        dataset = load_data(args, bonus.TABLES_NEEDED)
        dataset = dataset.replace_frames(  # validated whole; the names and ID numbers let go
            {
                t: df.drop(columns=[c for c in bonus.COLUMNS_UNUSED.get(t, ()) if c in df])
                for t, df in dataset.items()
            }
        )
        release_memory()  # what the validation held
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
        # past here only a workbook's unit names are read: the other tables are let go
        dataset = {"units": dataset["units"]}
        release_memory()
    # money as whole fen until written (a province's table without a Decimal per cell); the
    # workbook's sheets take yuan
    as_fen = args.out.suffix.lower() != ".xlsx"
    if scenarios:
        out = bonus.compare_scenarios(
            model, scenarios, args.months, args.draws, args.seed, fen=as_fen
        )
    else:
        out = model.project(params, args.months, args.draws, args.seed).table(fen=as_fen)
    last = bonus.month_label(bonus.parse_month(start) + args.months - 1)
    if not as_fen:
        write_budget(out, model, scenarios or {"baseline": params}, args, dataset)
    else:
        write(out, args.out, args, fen=[c for c in out.columns if c.endswith("_yuan")])
    if args.liability is not None:
        when = f"自 {start} 起" if args.lang == "zh" else f"from {start}"
        b = book("liability", args, args.liability, when=when, tables=dataset)
        write(liability_table, args.liability, args, b)
    if args.outside is not None:
        when = f"{start} 至 {last}" if args.lang == "zh" else f"{start} to {last}"
        b = book("outside", args, args.outside, when=when, tables=dataset)
        write(outside_table, args.outside, args, b)

    base = out[out["scenario"] == "baseline"] if "scenario" in out else out
    if not as_fen:
        committed = sum(base["committed_yuan"], start=0)
    else:  # the sum of the yuan Decimals: 0 with no row
        committed = bonus.fen_to_yuan([int(base["committed_yuan"].sum())])[0] if len(base) else 0
    n_units = base["unit_id"].nunique()
    say_written(
        args,
        f"{start} 至 {last}，{n_units} 个单位：已发证应付 {committed} 元；"
        f"新增见 new_p10/p50/p90（{args.draws} 次模拟，种子 {args.seed}）",
        f"{start} to {last}, {n_units} units: committed {committed} yuan; new certificates in "
        f"new_p10/p50/p90 ({args.draws} draws, seed {args.seed})",
    )
    return 0


def write_budget(out, model, params_by_scenario, args: argparse.Namespace, dataset) -> None:
    """``--out FILE.xlsx``: the budget request workbook (:mod:`fpanalysis.io.budget`).

    Each scenario is projected again (same draws and seed) to keep its draws,
    from which the yearly P50/P90 are taken; the monthly sheet holds ``out``.
    """
    from fpanalysis.io.budget import monthly_elsewhere_text, monthly_fits, write_budget_workbook

    projections = [
        model.project(p, args.months, args.draws, args.seed, scenario=name)
        for name, p in params_by_scenario.items()
    ]
    b = book("budget_monthly", args, args.out, tables=dataset)
    write_budget_workbook(
        args.out,
        projections,
        out,
        lang=args.lang,
        unit_names=b.unit_names,
        fiscal_year_start=args.fiscal_year_start,
        source=b.source,
    )
    if not monthly_fits(len(out)):  # the budget sheets are written; the monthly rows are not
        print_messages([monthly_elsewhere_text(len(out), args.lang)])
