"""Personal information masked in every output by default (rulebook §7).

Scans every file every command wrote in the shared runs (tests/cmdruns.py:
CSV, XLSX, Parquet, the report's HTML, executed notebooks and provenance,
templates, the register), every command's stdout and stderr (the logs), and the
committed executed notebooks in ``notebooks/`` for

- an unmasked resident ID number: 18 characters with a valid GB 11643 check
  character (:func:`fpanalysis.core.privacy.find_unmasked_ids`),
- a full name from the input's name columns (:func:`fpanalysis.core.privacy.find_names`;
  names of 2 characters or more), and
- on the copy holding the cases rulebook §7 names (a 15-digit legacy ID number,
  households numbered by their head's ID number: the ``-pii`` runs), any of its
  ID numbers in any form (the legacy one, its 18-character upgrade, the keys).

Not scanned, by design: the synthetic datasets ``synth`` writes (invented
people, an input for other runs, not an output about the input's people), the
``validate --rejects`` files and ``validate``'s own console (the clerk's own
corrections, shown as typed by the rulebook §7.2 exception: checked to hold
them, so that the exception is real and the scan of everything else is not
blind). ``--reveal-pii`` is the only way to show names (tested below on the
analysis commands): it says so, and the report's provenance and the register
record it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cmdruns
import pytest

from fpanalysis.core import config
from fpanalysis.core.privacy import find_names, find_unmasked_ids

NAMES = [
    name
    for name, _ in cmdruns.commands(
        Path("sample"), Path("sample_workbook.xlsx"), Path("sample_pii")
    )
]
NOT_SCANNED = ("synth", "rejects")  # see the module docstring
NOTEBOOKS = sorted(Path(config.NOTEBOOKS_DIR).glob("[0-9][0-9]_*.ipynb"))

_SCANNED = {"files": 0, "bytes": 0, "logs": 0, "log_bytes": 0}


@pytest.fixture(scope="module")
def runs():
    return cmdruns.command_runs()


@pytest.fixture(scope="module")
def names(runs) -> list[str]:
    n = cmdruns.input_names(runs.inputs["csv"])
    assert len(n) > 500  # the sample's persons, unit heads, liaisons and household heads
    return n


def _record(request):
    cmdruns.record_figure(
        request.config,
        "PII scan coverage",
        f"{_SCANNED['files']} output files ({_SCANNED['bytes']:,} bytes of text) and "
        f"{_SCANNED['logs']} stdout/stderr logs ({_SCANNED['log_bytes']:,} bytes) scanned "
        "for unmasked ID numbers and the input's full names",
    )


def _scannable(cr: cmdruns.CommandRun) -> list[Path]:
    return [
        p
        for p in cmdruns.output_files(cr)
        if not any(part.startswith(NOT_SCANNED) for part in p.relative_to(cr.out).parts)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in NAMES])
def test_outputs_and_logs_hold_no_unmasked_pii(runs, names, name, request):
    """Every file and log line of a command run without --reveal-pii: no ID number, no full name."""
    secrets = cmdruns.secret_ids(runs) if name.endswith("-pii") else set()
    for run in cmdruns.HASH_SEEDS:
        cr = runs.runs[run][name]
        assert cr.returncode == 0, cr.stderr[-2000:]
        for p in _scannable(cr):
            text = cmdruns.file_text(p)
            rel = p.relative_to(cr.out)
            assert find_unmasked_ids(text) == [], f"{name}: ID number in {rel}"
            assert find_names(text, names) == [], f"{name}: full names in {rel}"
            assert cmdruns.find_ids(text, secrets) == [], f"{name}: the input's IDs in {rel}"
            _SCANNED["files"] += 1
            _SCANNED["bytes"] += len(text.encode("utf-8"))
        logs = [cr.stdout, cr.stderr]
        if name == "validate-pii":  # validate's console: the rulebook §7.2 exception
            assert cmdruns.find_ids(cr.stdout, secrets), "validate shows the values as typed"
            logs = [cr.stderr]
        for log in logs:
            assert find_unmasked_ids(log) == [], f"{name}: ID number in its log"
            assert find_names(log, names) == [], f"{name}: full names in its log"
            assert cmdruns.find_ids(log, secrets) == [], f"{name}: the input's IDs in its log"
            _SCANNED["logs"] += 1
            _SCANNED["log_bytes"] += len(log.encode("utf-8"))
    _record(request)


@pytest.mark.slow
def test_the_pii_copy_says_what_it_holds(runs):
    """The analyses warn that households are numbered by ID numbers, and that a number is legacy."""
    for name in ("compliance-pii", "relief-pii", "review-pii"):
        err = runs.runs["a"][name].stderr
        if name == "compliance-pii":
            assert "id_legacy_15" in err and "412825*****" in err
        else:
            assert "key_id_numbers" in err
    stored = (runs.runs["a"]["relief-pii"].out / "register.sqlite").read_bytes()
    assert b"id#" in stored


@pytest.mark.parametrize("notebook", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_committed_notebooks_hold_no_unmasked_pii(notebook, request):
    """The executed notebooks committed in notebooks/ (run on the sample): tables, charts,
    widgets."""
    names = cmdruns.input_names(config.SAMPLE_DIR)
    text = cmdruns.file_text(notebook)
    assert "<table" in text or "text/html" in text  # there are tables to scan
    assert find_unmasked_ids(text) == []
    assert find_names(text, names) == []
    _SCANNED["files"] += 1
    _SCANNED["bytes"] += len(text.encode("utf-8"))
    _record(request)


@pytest.mark.slow
def test_report_charts_are_scanned(runs):
    """The report's charts (SVG text, where tooltips and labels live) are part of what is
    scanned."""
    page = runs.runs["a"]["report"].out / "report" / "03_relief_ranking.html"
    assert "data:image/svg+xml;base64," in page.read_text(encoding="utf-8")
    assert (
        cmdruns.file_text(page).count("<svg") >= 5
    )  # the decoded charts are part of the scanned text
    prov = json.loads(
        (runs.runs["a"]["report"].out / "report" / "provenance.json").read_text(encoding="utf-8")
    )
    assert prov["reveal_pii"] is False


def test_scan_finds_what_it_looks_for():
    """The scanner is not blind: a real ID number and a name from the input are found, masked ones
    not."""
    names = cmdruns.input_names(config.SAMPLE_DIR)
    ids = cmdruns.input_id_numbers(config.SAMPLE_DIR)
    text = (
        f"户主 {names[0]}，身份证 {ids[0]}；脱敏 {names[1][0]}*，{ids[1][:6]}********{ids[1][-4:]}"
    )
    assert find_names(text, names) == [names[0]]
    assert find_unmasked_ids(text) == [ids[0]]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fpanalysis", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


REVEAL_CASES = [
    ("relief", ["relief", "--quota", "40", "--out", "relief.csv"], "relief.csv"),
    ("cases-xlsx", ["cases", "--out", "cases.xlsx"], "cases.xlsx"),
    ("accountability", ["accountability", "--out", "acc.csv"], "acc.csv"),
]


@pytest.mark.parametrize("args,out", [pytest.param(*c[1:], id=c[0]) for c in REVEAL_CASES])
def test_reveal_pii_shows_names(tmp_path, args, out):
    """--reveal-pii is the way to show them: the same command with it writes full names."""
    names = cmdruns.input_names(config.SAMPLE_DIR)
    (tmp_path / "masked").mkdir()
    (tmp_path / "shown").mkdir()
    masked = _run(args, tmp_path / "masked")
    assert masked.returncode == 0, masked.stderr
    assert "--reveal-pii" not in masked.stderr
    shown = _run([*args, "--reveal-pii"], tmp_path / "shown")
    assert shown.returncode == 0, shown.stderr
    assert "注意：--reveal-pii：输出显示完整的姓名和身份证号" in shown.stderr  # said (rulebook §7)
    assert find_names(cmdruns.file_text(tmp_path / "masked" / out), names) == []
    assert len(find_names(cmdruns.file_text(tmp_path / "shown" / out), names)) >= 3


def test_report_passes_reveal_pii_to_every_notebook():
    """``fpanalysis report --reveal-pii`` sets each notebook's ``reveal_pii``; without it, none is
    set."""
    from fpanalysis.report import find_notebooks, plan_runs

    stems = [p.stem for p in find_notebooks()]
    assert len(stems) == 3
    shown = plan_runs(stems, units=["U01"], reveal_pii=True)
    assert len(shown) == 4 and all(r.parameters["reveal_pii"] is True for r in shown)
    masked = plan_runs(stems, units=["U01"])
    assert all(r.parameters.get("reveal_pii", False) is False for r in masked)


@pytest.mark.slow
@pytest.mark.notebook
def test_notebook_reveals_only_when_asked(tmp_path):
    """The relief notebook with ``reveal_pii=True`` shows household heads' full names (masked by
    default: the committed notebook, scanned above, holds none)."""
    from nbrun import outputs_text, run_notebook

    names = cmdruns.input_names(config.SAMPLE_DIR)
    nb = run_notebook(
        Path(config.NOTEBOOKS_DIR) / "03_relief_ranking.ipynb", tmp_path, reveal_pii=True
    )
    assert len(find_names(outputs_text(nb), names)) >= 10


def test_provenance_records_reveal_pii():
    """The report's provenance says whether PII was revealed (index.html, each notebook,
    provenance.json)."""
    from fpanalysis.report import Run, provenance, provenance_markdown

    run = Run("02_bonus_budget", "02_bonus_budget")
    for reveal in (False, True):
        prov = provenance(dataset=None, params_file=None, lang="en", reveal_pii=reveal, runs=[run])
        assert prov["reveal_pii"] is reveal
        md = provenance_markdown(prov, run)
        assert "--reveal-pii" in md
        assert ("yes" if reveal else "no") in md.split("--reveal-pii", 1)[1].splitlines()[0]
