"""Deterministic outputs (docs/design.md "Outputs").

Every command is run twice in separate processes, with ``PYTHONHASHSEED=0``
and ``PYTHONHASHSEED=12345`` (tests/cmdruns.py), on copies of the sample as a
CSV folder and as the workbook; every file each run wrote (CSV, XLSX, Parquet,
the report's HTML, notebooks and provenance, templates, synthetic datasets,
rejects, a household's history from the decision register) must be
byte-identical between the two; only the register file itself is not compared
(it records when each round was recorded, by design). Hash randomisation changes the
order of set iteration, so a result that leaks it (a set turned into a list, a
dict built from a set) shows up here.
"""

from __future__ import annotations

from pathlib import Path

import cmdruns
import pytest

NAMES = [
    name
    for name, _ in cmdruns.commands(
        Path("sample"), Path("sample_workbook.xlsx"), Path("sample_pii")
    )
]

_CHECKED: dict[str, int] = {}


@pytest.fixture(scope="module")
def runs():
    return cmdruns.command_runs()


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in NAMES])
def test_command_succeeds(runs, name):
    """Each command of the shared runs exits 0 on the sample (else the comparisons below mean
    little)."""
    for run in cmdruns.HASH_SEEDS:
        cr = runs.runs[run][name]
        assert cr.returncode == 0, f"{run} {cr.argv}: exit {cr.returncode}\n{cr.stderr[-2000:]}"
        assert "Traceback" not in cr.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in NAMES])
def test_outputs_identical_across_processes(runs, name, request):
    """Same inputs and parameters, another process and hash seed: the same files, byte for byte."""
    a, b = runs.runs["a"][name], runs.runs["b"][name]
    files_a = {
        p.relative_to(a.out).as_posix(): p
        for p in cmdruns.output_files(a)
        if p.name not in (*cmdruns.TIME_STAMPED, *cmdruns.keyed_files(name))
    }
    files_b = {
        p.relative_to(b.out).as_posix(): p
        for p in cmdruns.output_files(b)
        if p.name not in (*cmdruns.TIME_STAMPED, *cmdruns.keyed_files(name))
    }
    assert sorted(files_a) == sorted(files_b)
    differ = [rel for rel in files_a if files_a[rel].read_bytes() != files_b[rel].read_bytes()]
    assert not differ, f"{name}: differs between PYTHONHASHSEED 0 and 12345: {differ}"
    _CHECKED[name] = len(files_a)
    total = sum(_CHECKED.values())
    cmdruns.record_figure(
        request.config,
        "outputs checked for determinism",
        f"{total} files from {len(_CHECKED)} command runs, each written twice "
        "(PYTHONHASHSEED 0 / 12345)",
    )


@pytest.mark.slow
def test_every_kind_of_output_was_compared(runs):
    """The comparison covers CSV, XLSX, Parquet and the report's HTML, notebooks and provenance."""
    suffixes = {
        p.suffix.lower() for name in NAMES for p in cmdruns.output_files(runs.runs["a"][name])
    }
    assert {".csv", ".xlsx", ".parquet", ".html", ".ipynb", ".json"} <= suffixes
    report = runs.runs["a"]["report"].out / "report"
    # the bureau's compliance report, one unit's, the budget and the relief notebooks
    assert len(list(report.glob("*.html"))) == 5
    # the copy with personal information in it: the three notebooks and the index, no unit
    assert len(list((runs.runs["a"]["report-pii"].out / "report").glob("*.html"))) == 4


@pytest.mark.slow
def test_stdout_identical_across_processes(runs):
    """What a command prints (its log) does not depend on the hash seed either (the report's timing
    aside)."""
    for name in NAMES:
        if name.startswith("report"):
            continue
        a, b = runs.runs["a"][name], runs.runs["b"][name]
        assert a.stdout.replace(str(a.out), "OUT") == b.stdout.replace(str(b.out), "OUT"), name
