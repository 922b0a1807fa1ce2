"""Nothing lost: inputs never written, every row accounted for, no half files.

(a) Every command (tests/cmdruns.py: validate, synth, templates, bonus,
    compliance, cases, accountability, relief, review, report, and history
    when it exists) ran on copies of the sample as a CSV folder and as the
    workbook: every input file has the same SHA-256 afterwards and no file
    appeared in the dataset folder; ``data/sample`` itself (the default dataset)
    is unchanged too.
(b) ``validate --rejects`` accounts for every row: rows kept + rows rejected =
    rows read, per table, on ``synth --faults`` data (CSV and XLSX) and on a
    hand-made table.
(c) A writer killed with SIGKILL mid-way (``write_table`` on a big frame, the
    ``bonus`` command, the ``report`` command over an existing report) leaves
    the previous output byte-identical and nothing partial under the final
    name; what may remain is clearly temp-named (``.NAME.*.tmp``,
    ``.NAME.building-*``).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cmdruns
import pytest

from fpanalysis.io import load_dataset
from fpanalysis.io.validate import validate_dataset

PY = sys.executable


@pytest.fixture(scope="module")
def runs():
    return cmdruns.command_runs()


# ------------------------------------------------------------------------- (a) inputs never written


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("csv", id="csv-folder"),
        pytest.param("xlsx", id="xlsx-workbook"),
        pytest.param("pii", id="pii-folder"),
    ],
)
def test_every_command_leaves_the_inputs_unchanged(runs, kind):
    ran = {cr.argv[0] for run in runs.runs.values() for cr in run.values()}
    wanted = {
        "validate",
        "synth",
        "templates",
        "bonus",
        "compliance",
        "cases",
        "accountability",
        "relief",
        "review",
        "report",
    } | ({"history"} if cmdruns.history_available() else set())
    assert wanted <= ran
    src = runs.inputs[kind]
    pii = cmdruns.PII_PREFIX
    keys = {
        k
        for k in runs.hashes_before
        if (kind == "pii") == k.startswith(pii) and (kind == "xlsx") == k.endswith(".xlsx")
    }
    assert keys, "nothing hashed"
    after = {k: v for k, v in runs.hashes_after.items() if k in keys}
    assert after == {k: runs.hashes_before[k] for k in keys}
    if src.is_dir():  # no file was added to the dataset folder either
        assert sorted(p.name for p in src.iterdir()) == sorted(k.removeprefix(pii) for k in keys)


@pytest.mark.slow
def test_default_dataset_is_unchanged(runs):
    """``fpanalysis validate`` without a DATASET reads data/sample and writes nothing there."""
    assert runs.sample_after == runs.sample_before
    assert runs.runs["a"]["validate-default"].returncode == 0


# ---------------------------------------------------------------- (b) rejects account for every row


def _data_rows(path: Path) -> dict[int, list[str]]:
    """row number (header = 1) -> cells, of the non-blank records of a CSV, read independently."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return {i + 1: r for i, r in enumerate(rows) if i > 0 and any(c.strip() for c in r)}


def _rejects(folder: Path) -> dict[str, list[int]]:
    out = {}
    for p in sorted(folder.glob("*.csv")):
        with p.open(encoding="utf-8-sig", newline="") as f:
            out[p.stem] = [int(r["row"]) for r in csv.DictReader(f)]
    return out


def _validate(ds_path: Path, rejects: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            PY,
            "-m",
            "fpanalysis",
            "validate",
            str(ds_path),
            "--rejects",
            str(rejects),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def _synth(out: Path, *extra: str) -> None:
    p = subprocess.run(
        [
            PY,
            "-m",
            "fpanalysis",
            "synth",
            "--seed",
            "5",
            "--people",
            "120",
            "--faults",
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert p.returncode == 0, p.stderr


def test_rejects_account_for_every_row_csv(tmp_path):
    """synth --faults as CSV: per table, rows read = rows kept + rows in the rejects file."""
    ds_path = tmp_path / "faulty"
    _synth(ds_path)
    p = _validate(ds_path, tmp_path / "rejects")
    assert p.returncode == 1 and "Traceback" not in p.stderr  # the faults are errors
    rejected = _rejects(tmp_path / "rejects")
    ds = load_dataset(ds_path)
    report = validate_dataset(ds)
    kept = report.valid_frames(ds)
    assert sum(map(len, rejected.values())) > 0
    for f in sorted(ds_path.glob("*.csv")):
        read = _data_rows(f)
        rej = rejected.get(f.stem, [])
        assert len(rej) == len(set(rej)), f.stem
        assert set(rej) <= set(read), f.stem
        assert len(kept[f.stem]) + len(rej) == len(read), f.stem
        assert set(kept[f.stem].index).isdisjoint(rej), f.stem


def test_rejects_account_for_every_row_xlsx(tmp_path):
    """synth --faults as a Chinese workbook: the rejects are named after the sheets and add up
    too."""
    book = tmp_path / "faulty.xlsx"
    _synth(book, "--lang", "zh")
    p = _validate(book, tmp_path / "rejects")
    assert p.returncode == 1
    rejected = _rejects(tmp_path / "rejects")
    ds = load_dataset(book)
    report = validate_dataset(ds)
    kept = report.valid_frames(ds)
    from fpanalysis.core import schema

    assert rejected, "no rejects written"
    for t in ds:
        read = report.rows[t]
        rej = rejected.get(schema.TABLES[t].zh, [])
        assert len(kept[t]) + len(rej) == read, t
    assert set(rejected) <= {schema.TABLES[t].zh for t in ds}


def test_rejects_hand_table(tmp_path):
    """units: U1 fine, U2 with no kind, U3 twice (every copy of a duplicate key is rejected), a
    blank row.

    Read 4 (the blank row is no data), rejected 3 (U2, both U3), kept 1 (U1).
    """
    d = tmp_path / "ds"
    d.mkdir()
    (d / "units.csv").write_text(
        "unit_id,name,kind\nU1,办公室,section\nU2,财务股,\n,,\nU3,低保股,section\nU3,救助站,affiliated\n",
        encoding="utf-8",
    )
    _validate(d, tmp_path / "rejects")
    assert _rejects(tmp_path / "rejects") == {"units": [3, 5, 6]}
    ds = load_dataset(d)
    report = validate_dataset(ds)
    assert report.rows["units"] == 4
    assert list(report.valid_frames(ds)["units"]["unit_id"]) == ["U1"]


# --------------------------------------------------------------------------- (c) killed writers


def _tree(path: Path) -> dict[str, str]:
    return cmdruns.tree_hashes(path)


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from fpanalysis.io import write_table
    n = int(sys.argv[2])
    df = pd.DataFrame({"unit_id": np.char.add("U", np.arange(n).astype(str)).astype(object),
                       "amount_yuan": np.arange(n) / 100, "note": "低保 说明 " * 3})
    print("ready", flush=True)
    write_table(df, sys.argv[1], lang="zh")
    print("done", flush=True)
    """
)

# (suffix, rows, seconds after the temporary file appeared)
KILLS = [
    ("csv", 1_500_000, 0.0),
    ("csv", 1_500_000, 0.4),
    ("xlsx", 150_000, 0.0),
    ("xlsx", 150_000, 1.0),
    ("parquet", 3_000_000, 0.0),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "suffix,rows,after", [pytest.param(s, r, a, id=f"{s}-{a}s") for s, r, a in KILLS]
)
def test_write_table_killed_midway_keeps_previous_file(tmp_path, suffix, rows, after):
    """SIGKILL while write_table writes: the old file is intact; only a ``.out.SUFFIX.*.tmp`` may
    remain."""
    out = tmp_path / f"out.{suffix}"
    previous = b"previous output, not to be lost\n"
    out.write_bytes(previous)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    p = subprocess.Popen([PY, str(script), str(out), str(rows)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        tmp_re = re.compile(rf"^\.out\.{suffix}\..+\.tmp$")
        deadline = time.monotonic() + 60
        while not any(tmp_re.match(f.name) for f in tmp_path.iterdir()):
            assert p.poll() is None, "the writer finished before a temporary file was seen"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(after)
        assert p.poll() is None, "the writer finished before it was killed: use more rows"
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert out.read_bytes() == previous
    left = _leftovers(tmp_path, {out.name, script.name})
    assert left and all(tmp_re.match(n) for n in left), left


@pytest.mark.slow
@pytest.mark.parametrize(
    "after",
    [
        pytest.param(0.3, id="kill-0.3s"),
        pytest.param(0.9, id="kill-0.9s"),
        pytest.param(1.4, id="kill-1.4s"),
    ],
)
def test_bonus_command_killed_keeps_previous_output(tmp_path, after):
    """``fpanalysis bonus`` killed at a few points: each output is the previous run's or the new
    run's, whole.

    Every file is swapped in by a rename, so whatever the moment of the kill,
    ``bonus.csv`` and ``liability.xlsx`` each hold either the previous run's
    bytes or the complete new ones (never a part), and only dot-named
    temporaries may be left beside them. On a fast machine the run may finish
    before the kill: then every file must be the complete new one.
    """
    args = [
        PY,
        "-m",
        "fpanalysis",
        "bonus",
        "--draws",
        "200",
        "--out",
        "bonus.csv",
        "--liability",
        "liability.xlsx",
    ]
    again = [*args[:5], "500", *args[6:]]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    for cmd, where in ((again, fresh), (args, work)):
        done = subprocess.run(cmd, cwd=where, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
    new = _tree(fresh)
    before = _tree(work)
    assert set(new) == set(before) == {"bonus.csv", "liability.xlsx"} and new != before
    p = subprocess.Popen(again, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    after_tree = _tree(work)
    finals = {k: v for k, v in after_tree.items() if not k.startswith(".")}
    assert set(finals) == set(before)
    for name, digest in finals.items():
        assert digest in (before[name], new[name]), name
    if p.returncode == 0:  # it finished before the kill: every file is the new one
        assert finals == new
    assert all(
        re.match(r"^\.(bonus\.csv|liability\.xlsx)\..+\.tmp$", k)
        for k in after_tree
        if k not in finals
    )


@pytest.mark.slow
@pytest.mark.parametrize("wait_for", ["building-folder", "first-notebook-output"])
def test_report_killed_keeps_previous_report(runs, tmp_path, wait_for):
    """``fpanalysis report`` over an existing report, killed mid-run: the old report is intact."""
    out = tmp_path / "report"
    shutil.copytree(runs.runs["a"]["report"].out / "report", out)
    before = _tree(out)
    env = {**os.environ, "SOURCE_DATE_EPOCH": cmdruns.SOURCE_DATE_EPOCH}
    p = subprocess.Popen(
        [
            PY,
            "-m",
            "fpanalysis",
            "report",
            "--out",
            str(out),
            "--notebooks",
            "03",
            "--units",
            "none",
            "--no-progress",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its notebook kernels are killed with it
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            building = [d for d in tmp_path.iterdir() if d.name.startswith(".report.building-")]
            if building and (wait_for == "building-folder" or any(building[0].glob("*.ipynb"))):
                break
            assert p.poll() is None, "the report finished or failed before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert _tree(out) == before
    left = _leftovers(tmp_path, {"report"})
    assert all(n.startswith(".report.") for n in left), left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_report_swap_is_one_atomic_exchange(tmp_path):
    """The finished report replaces the old one in one step (renameat2 RENAME_EXCHANGE): no moment
    without one."""
    from fpanalysis.report.folders import exchange, swap_in

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("a")
    (b / "f").write_text("b")
    assert exchange(a, b) is True
    assert (a / "f").read_text() == "b" and (b / "f").read_text() == "a"
    swap_in(a, b)  # a holds "b" now: b gets it back, a (the old one) is removed
    assert (b / "f").read_text() == "b" and sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_report_swap_without_exchange_falls_back_to_two_renames(tmp_path, monkeypatch):
    """Where the exchange is unavailable the old report is moved aside first, then removed."""
    from fpanalysis.report import folders

    monkeypatch.setattr(folders, "exchange", lambda a, b: False)
    new, out = tmp_path / ".out.building-1", tmp_path / "out"
    new.mkdir()
    out.mkdir()
    (new / "index.html").write_text("new")
    (out / "index.html").write_text("old")
    folders.swap_in(new, out)
    assert (out / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
