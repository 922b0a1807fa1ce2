"""Fuzzing the loaders, the validator, the parameters and every analysis.

Hypothesis draws small datasets (tests/strategies.py: a valid tiny county with
hostile edits, written as CSV, XLSX or Parquet) and parameter override files
(valid and broken YAML). The property everywhere: the call succeeds or raises
one of the project's documented errors (:class:`fpanalysis.core.errors.FPError`:
``DataError``, ``ParamError``, ``UsageError``); any other exception is a bug.

The ``ci`` profile (the default here) is derandomized, so CI draws the same
examples every run; ``HYPOTHESIS_PROFILE=dev`` draws fresh ones and more of
them. The number of examples run is printed at the end of the test run.
Regression tests for the bugs fuzzing found are at the end, each a plain test.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import cmdruns
import pandas as pd
import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError, FPError, ParamError, UsageError
from fpanalysis.core.params import load_params
from fpanalysis.io import load_dataset, load_for_analysis
from fpanalysis.io.validate import count_accounting, validate_dataset
from fpanalysis.rules import bonus, cases, compliance, relief

settings.register_profile(
    "fpanalysis-ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],  # capsys: read out per example
)
settings.register_profile(
    "fpanalysis-dev",
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
_PROFILE = "fpanalysis-" + os.environ.get("HYPOTHESIS_PROFILE", "ci").removeprefix("fpanalysis-")
_SCALE = 1 if _PROFILE == "fpanalysis-ci" else 5
ALLOWED = (DataError, ParamError, UsageError, FPError)

EXAMPLES: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _count(request):
    yield
    if EXAMPLES:
        cmdruns.record_figure(
            request.config,
            "fuzz examples run",
            f"{sum(EXAMPLES.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(EXAMPLES.items()))}; "
            f"profile {_PROFILE})",
        )


def _seen(test: str) -> None:
    EXAMPLES[test] = EXAMPLES.get(test, 0) + 1


def _fuzz(n: int):
    return settings(settings.get_profile(_PROFILE), max_examples=n * _SCALE)


ANALYSES = {
    "bonus": bonus.TABLES_NEEDED,
    "compliance": compliance.TABLES_NEEDED,
    "accountability": compliance.TABLES_NEEDED,
    "cases": ["units", "persons", "couples", "children", "permits", "pregnancies"],
    "relief": list(relief.RELIEF_TABLES),
    "review": list(relief.RELIEF_TABLES),
}


def run_analysis(name: str, ds, params) -> pd.DataFrame:
    """One analysis as its command runs it (defaults derived from the data)."""
    if name == "bonus":
        start = bonus.default_start(ds)
        model = bonus.BonusModel.build(ds, params, start, max_months=12)
        out = model.project(params, 12, 10, 0).table()
        bonus.liability(ds, params, start)
        bonus.outside_budget(ds, params, start, 12)
        return out
    if name in ("compliance", "accountability"):
        period = str(compliance.latest_complete_year(ds))
        if name == "accountability":
            return compliance.accountability_list(ds, params, period)
        return compliance.compliance_scorecard(ds, params, period)
    if name == "cases":
        return cases.case_list(ds, params)
    if name == "relief":
        result = relief.rank_households(ds, params, quota=3)
        relief.cut_line(result)
        return result.output()
    return relief.review(ds, params)[0]


# --------------------------------------------------------------------------- properties


@_fuzz(25)
@given(spec=strategies.datasets())
def test_load_and_validate_never_crash(spec):
    """load_dataset and validate_dataset on any drawn dataset: a result or an FPError."""
    _seen("load+validate")
    with tempfile.TemporaryDirectory() as d:
        path = strategies.write_dataset(spec, Path(d))
        try:
            ds = load_dataset(path)
        except ALLOWED:
            return
        report = validate_dataset(ds)
        # every problem can be shown in both languages
        for p in report.problems[:50]:
            assert p.text("zh") and p.text("en")
        report.to_frame("zh")
        for t, (read, kept, rejected) in count_accounting(report, ds).items():
            assert kept + rejected == read, t


@_fuzz(20)
@given(
    spec=strategies.datasets(max_edits=4),
    analysis=st.sampled_from(sorted(ANALYSES)),
    skip_invalid=st.booleans(),
)
def test_analyses_never_crash(spec, analysis, skip_invalid):
    """load_for_analysis and an analysis on a drawn dataset: a result or an FPError."""
    _seen("analyses")
    params = load_params()
    with tempfile.TemporaryDirectory() as d:
        path = strategies.write_dataset(spec, Path(d))
        try:
            ds = load_for_analysis(path, ANALYSES[analysis], skip_invalid=skip_invalid, lang="en")
            out = run_analysis(analysis, ds, params)
        except ALLOWED:
            return
        assert isinstance(out, pd.DataFrame)


_BASE_DS: dict[str, object] = {}


def _base_dataset():
    """The sample, loaded once for the parameter fuzzing."""
    if "ds" not in _BASE_DS:
        from fpanalysis.core import config

        _BASE_DS["ds"] = load_for_analysis(config.SAMPLE_DIR, [t.name for t in schema.TABLES_LIST])
    return _BASE_DS["ds"]


@_fuzz(40)
@given(text=strategies.param_files(), analysis=st.sampled_from(sorted(ANALYSES)))
def test_parameter_files_never_crash(text, analysis):
    """load_params on any drawn override file, then an analysis with what it gave: a result or an
    FPError."""
    _seen("parameter files")
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "override.yaml"
        f.write_text(text, encoding="utf-8")
        try:
            params = load_params(f)
        except ALLOWED:
            return
        try:
            out = run_analysis(analysis, _base_dataset(), params)
        except ALLOWED:
            return
        assert isinstance(out, pd.DataFrame)


CLI_COMMANDS = {
    "validate": lambda d, o: [
        "validate",
        d,
        "--rejects",
        str(o / "rejects"),
        "--out",
        str(o / "p.csv"),
    ],
    "bonus": lambda d, o: ["bonus", d, "--draws", "5", "--months", "6", "--out", str(o / "b.xlsx")],
    "compliance": lambda d, o: [
        "compliance",
        d,
        "--out",
        str(o / "c.csv"),
        "--detail",
        str(o / "d.parquet"),
    ],
    "cases": lambda d, o: ["cases", d, "--out", str(o / "cases.xlsx")],
    "accountability": lambda d, o: ["accountability", d, "--out", str(o / "a.csv")],
    "relief": lambda d, o: [
        "relief",
        d,
        "--quota",
        "2",
        "--out",
        str(o / "r.csv"),
        "--meeting",
        str(o / "m.xlsx"),
    ],
    "review": lambda d, o: ["review", d, "--out", str(o / "rv.csv")],
}


@_fuzz(12)
@given(
    spec=strategies.datasets(max_edits=3),
    command=st.sampled_from(sorted(CLI_COMMANDS)),
    skip_invalid=st.booleans(),
    lang=st.sampled_from(["zh", "en"]),
)
def test_cli_never_crashes(spec, command, skip_invalid, lang, capsys):
    """The command line on a drawn dataset: exit 0, 1 or 2 with a message, never an exception."""
    from fpanalysis.cli import main

    _seen("cli")
    with tempfile.TemporaryDirectory() as d:
        path = strategies.write_dataset(spec, Path(d) / "in")
        out = Path(d) / "out"
        out.mkdir()
        argv = CLI_COMMANDS[command](str(path), out) + ["--lang", lang]
        if skip_invalid and command != "validate":
            argv.append("--skip-invalid")
        code = main(argv)
        said = capsys.readouterr()
        assert code in (0, 1, 2), code
        assert "Traceback" not in said.err
        if code:
            assert (said.out + said.err).strip(), "a failure must say why"


_DATES = st.dates(dt.date(1890, 1, 1), dt.date(2110, 12, 31))


@_fuzz(30)
@given(
    analysis=st.sampled_from(["bonus", "compliance", "accountability", "relief", "review"]),
    day=_DATES,
    other_day=_DATES,
    quota=st.one_of(
        st.none(),
        st.integers(0, 400),
        st.fixed_dictionaries({"urban": st.integers(0, 50), "rural": st.integers(0, 50)}),
    ),
    budget=st.one_of(st.none(), st.floats(0, 1e6), st.integers(0, 10**9)),
    pool=st.sampled_from(["all", "urban", "rural", "separate"]),
    period=st.one_of(
        st.integers(1890, 2110).map(str),
        st.sampled_from(["2024H1", "2024H2", "1900H2", "2100h1", "24", "2024H3", "", "2024 H1"]),
    ),
    months=st.integers(1, 600),
    draws=st.integers(1, 30),
    seed=st.integers(-5, 2**63),
)
def test_analysis_options_never_crash(
    analysis, day, other_day, quota, budget, pool, period, months, draws, seed
):
    """Any as-of date, start month, period, quota, budget, pool, horizon, draws or seed on the
    sample: a result or an FPError."""
    _seen("analysis options")
    ds, params = _base_dataset(), load_params()
    try:
        if analysis == "bonus":
            start = f"{day.year:04d}-{day.month:02d}"
            model = bonus.BonusModel.build(ds, params, start, max_months=months)
            model.project(params, months, draws, seed).table()
            bonus.liability(ds, params, start)
            bonus.outside_budget(ds, params, start, months)
        elif analysis == "compliance":
            compliance.compliance_scorecard(ds, params, period)
        elif analysis == "accountability":
            compliance.accountability_list(ds, params, period)
        elif analysis == "relief":
            result = relief.rank_households(
                ds, params, day, quota=quota, budget_yuan=budget, pool=pool
            )
            relief.cut_line(result)
            result.output()
        else:
            relief.review(
                ds,
                params,
                day,
                previous=ds,
                previous_as_of=other_day,
                quota=quota,
                budget_yuan=budget,
                pool=pool,
            )
    except ALLOWED:
        pass


# --------------------------------------------------------------------- regressions found by fuzzing


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("1899-12", id="before-1900-no-parameter-in-force"),
        pytest.param("1850-01", id="1850"),
        pytest.param("2201-01", id="after-2200"),
        pytest.param("2300-01", id="2300-pandas-overflow"),
        pytest.param("9999-12", id="9999"),
    ],
)
def test_bonus_start_outside_1900_2200_is_a_usage_error(start, capsys):
    """Found by fuzzing: ``bonus --start 1899-12`` ended in decimal.InvalidOperation (no reward
    amount is in force before 1900-01-01) and ``--start 2300-01`` in pandas' OutOfBoundsDatetime;
    both are now a bilingual usage error (exit 2) before any data is read."""
    from fpanalysis.cli import main

    with pytest.raises(UsageError) as e:
        bonus.parse_month(start)
    assert e.value.rule == "month-range"
    assert main(["bonus", "--start", start, "--out", "unused.csv", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "a month must lie between 1900-01 and 2200-12" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("1900-01", id="first-month"),
        pytest.param("2200-12", id="last-month"),
    ],
)
def test_bonus_start_at_the_bounds_runs(start):
    """The first and last accepted months project (nothing is committed that far out)."""
    params = load_params()
    model = bonus.BonusModel.build(_base_dataset(), params, start, max_months=12)
    table = model.project(params, 12, 5, 0).table()
    assert len(table) == 12 * 20
    assert table["committed_yuan"].sum() == 0


BAD_OPTIONS = [
    (
        "relief-budget-nan",
        ["relief", "--budget", "nan"],
        "the budget must be a non-negative number",
    ),
    (
        "relief-budget-inf",
        ["relief", "--budget", "inf"],
        "the budget must be a non-negative number",
    ),
    (
        "relief-budget-1e400",
        ["relief", "--budget", "1e400"],
        "the budget must be a non-negative number",
    ),
    (
        "compliance-period-9999H2",
        ["compliance", "--period", "9999H2"],
        "must lie between 1900 and 2200",
    ),
    (
        "compliance-period-0001",
        ["compliance", "--period", "0001"],
        "period '0001' must lie between 1900 and 2200",
    ),
    (
        "accountability-period-1899",
        ["accountability", "--period", "1899"],
        "must lie between 1900 and 2200",
    ),
    (
        "bonus-seed-negative",
        ["bonus", "--seed", "-1", "--draws", "2"],
        "the seed must be a whole number >= 0",
    ),
]


@pytest.mark.parametrize("argv,message", [pytest.param(*c[1:], id=c[0]) for c in BAD_OPTIONS])
def test_bad_option_values_found_by_fuzzing_are_usage_errors(tmp_path, capsys, argv, message):
    """Found by fuzzing the options: ``--budget nan``/``inf`` crashed in Decimal/int conversion,
    ``--period 9999H2`` in pandas (OutOfBoundsDatetime), ``--seed -1`` in numpy (ValueError).
    Each is now a bilingual usage error, exit 2, no traceback."""
    from fpanalysis.cli import main

    code = main([*argv, "--out", str(tmp_path / "out.csv"), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "limit,name",
    [
        pytest.param(float("nan"), "budget_yuan", id="budget-nan"),
        pytest.param(float("inf"), "budget_yuan", id="budget-inf"),
        pytest.param(float("-inf"), "budget_yuan", id="budget-minus-inf"),
        pytest.param(10**30, "quota", id="quota-10**30-is-fine"),
    ],
)
def test_relief_limits_library(limit, name):
    """The library refuses NaN/infinite budgets too (notebooks and widgets call it); a huge whole
    quota is simply no limit: all 226 eligible households of the sample are selected."""
    ds, params = _base_dataset(), load_params()
    if name == "quota":
        result = relief.rank_households(ds, params, quota=limit)
        assert int(result.table["selected"].sum()) == 226
        return
    with pytest.raises(UsageError):
        relief.rank_households(ds, params, budget_yuan=limit)
