"""``fpanalysis params``: the listing, the changes an override file makes, the rulebook's tables.

Each case runs twice: as ``python -m fpanalysis params ...`` in a fresh process
and through :func:`fpanalysis.cli.main`, from the project folder so that the
override files show as ``tests/fixtures/params/NAME.yaml``. The expected text is
written by hand; a default's line is found in ``policy.yaml`` by reading it here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from fpanalysis.cli import main
from fpanalysis.core import config
from fpanalysis.core.params import default_params, load_params, read_yaml_lines

ROOT = config.PROJ_ROOT
FIX = "tests/fixtures/params"
STANDARD = "dibao_standard_yuan"


def policy_line(name: str, date: str = "1900-01-01", area: str | None = None) -> int:
    """The line of ``date:`` under ``name:`` (and ``area:``) in policy.yaml, counted from 1."""
    lines = config.POLICY_FILE.read_text(encoding="utf-8").splitlines()
    i = lines.index(f"{name}:")
    if area is not None:
        i = next(k for k in range(i, len(lines)) if lines[k].strip() == f"{area}:")
    return next(k for k in range(i, len(lines)) if lines[k].strip().startswith(f"{date}:")) + 1


def run(how: str, args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    if how == "process":
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        p = subprocess.run(
            [sys.executable, "-m", "fpanalysis", "params", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )
        return p.returncode, p.stdout, p.stderr
    monkeypatch.chdir(ROOT)
    code = main(["params", *args])
    out, err = capsys.readouterr()
    return code, out, err


HOW = [pytest.param("process", id="python-m"), pytest.param("main", id="main")]


# --------------------------------------------------------------------------- --diff

DIFFS = [
    pytest.param(
        ["--diff", f"{FIX}/rise.yaml", "--lang", "en"],
        f"""\
Changes made by {FIX}/rise.yaml (before → after):
reward_monthly_yuan: 20 → 30 (yuan per month), from 2025-07-01
reward_age_cap: 14 → 18 (years), from 1900-01-01 (the start)
dibao_standard_yuan.urban: 770 → 800 (yuan per person per month), from 2025-01-01
""",
        id="rise-en-rural-unchanged-not-shown",
    ),
    pytest.param(
        ["--diff", f"{FIX}/rise.yaml"],
        f"""\
{FIX}/rise.yaml 改变的参数（之前 → 之后）：
reward_monthly_yuan：20 → 30（yuan per month），自 2025-07-01 起
reward_age_cap：14 → 18（years），自 1900-01-01（起始日）起
dibao_standard_yuan.urban：770 → 800（yuan per person per month），自 2025-01-01 起
""",
        id="rise-zh",
    ),
    pytest.param(
        ["--diff", f"{FIX}/no_change.yaml", "--lang", "en"],
        f"""\
Changes made by {FIX}/no_change.yaml (before → after):
no change
""",
        id="defaults-restated-no-change-en",
    ),
    pytest.param(
        ["--diff", f"{FIX}/no_change.yaml"],
        f"""\
{FIX}/no_change.yaml 改变的参数（之前 → 之后）：
无变化
""",
        id="defaults-restated-no-change-zh",
    ),
    pytest.param(
        ["--params", f"{FIX}/rise.yaml", "--diff", f"{FIX}/no_change.yaml", "--lang", "en"],
        f"""\
Changes made by {FIX}/no_change.yaml (before → after):
reward_age_cap: 18 → 14 (years), from 1900-01-01 (the start)
""",
        id="over-a-base-file-the-cap-goes-back",
    ),
    pytest.param(
        ["--diff", f"{FIX}/weights.yaml", "--lang", "en"],
        f"""\
Changes made by {FIX}/weights.yaml (before → after):
compliance_weights: {{baseline_coverage: 0.25, followup_coverage: 0.25, feedback_timeliness: \
0.15, check_attendance: 0.35}} → {{baseline_coverage: 0.25, followup_coverage: 0.25, \
feedback_timeliness: 0.1, check_attendance: 0.4}} (share), from 2024-01-01
""",
        id="mapping-replaced-whole-from-a-date",
    ),
    pytest.param(
        ["--diff", f"{FIX}/standard_back.yaml", "--lang", "en"],
        f"""\
Changes made by {FIX}/standard_back.yaml (before → after):
dibao_standard_yuan.urban: 624 → 650 (yuan per person per month), from 2020-01-01
dibao_standard_yuan.urban: 684 → 650 (yuan per person per month), from 2021-01-01
dibao_standard_yuan.urban: 730 → 650 (yuan per person per month), from 2023-01-01
dibao_standard_yuan.urban: 730 → 770 (yuan per person per month), from 2024-01-01
dibao_standard_yuan.urban: the same as before from 2025-01-01 on: 770 (yuan per person per month)
""",
        id="each-date-of-a-dated-mapping-and-where-it-agrees-again",
    ),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(("args", "expected"), DIFFS)
def test_params_diff(how, args, expected, capsys, monkeypatch):
    code, out, err = run(how, args, capsys, monkeypatch)
    assert (code, err) == (0, "")
    assert out == expected


# --------------------------------------------------------------------------- the listing

LISTINGS = [
    pytest.param(
        ["--lang", "en"],
        "Parameters in force on 2025-01-01 (the latest effective date in the parameter files):",
        [
            "reward_monthly_yuan: 20 (yuan per month) — default (policy.yaml line "
            f"{policy_line('reward_monthly_yuan')})",
            "responsible_spouse: wife (spouse) — default (policy.yaml line "
            f"{policy_line('responsible_spouse')})",
            "dibao_standard_yuan.urban: 770 (yuan per person per month), from 2025-01-01 — "
            f"default (policy.yaml line {policy_line(STANDARD, '2025-01-01', 'urban')})",
        ],
        id="defaults-en",
    ),
    pytest.param(
        ["--params", f"{FIX}/rise.yaml"],
        "2025-07-01 生效的参数（默认取参数文件中最晚的生效日期）：",
        [
            "reward_monthly_yuan：30（yuan per month），自 2025-07-01 起 —— "
            f"{FIX}/rise.yaml 第 3 行",
            f"reward_age_cap：18（years） —— {FIX}/rise.yaml 第 4 行",
            "dibao_standard_yuan.rural：600（yuan per person per month），自 2025-01-01 起 —— "
            f"{FIX}/rise.yaml 第 7 行",
            f"uptake：0.8（share） —— 默认（policy.yaml 第 {policy_line('uptake')} 行）",
        ],
        id="override-zh-date-moves-to-its-latest",
    ),
    pytest.param(
        ["--params", f"{FIX}/rise.yaml", "--date", "2024-06-01", "--lang", "en"],
        "Parameters in force on 2024-06-01:",
        [
            "reward_monthly_yuan: 20 (yuan per month) — default (policy.yaml line "
            f"{policy_line('reward_monthly_yuan')})",
            f"reward_age_cap: 18 (years) — {FIX}/rise.yaml line 4",
            "dibao_standard_yuan.urban: 730 (yuan per person per month), from 2023-01-01 — "
            f"default (policy.yaml line {policy_line(STANDARD, '2023-01-01', 'urban')})",
        ],
        id="before-the-rise-the-default-is-in-force",
    ),
    pytest.param(
        ["--params", f"{FIX}/weights.yaml", "--date", "2024-01-01", "--lang", "en"],
        "Parameters in force on 2024-01-01:",
        [
            "compliance_weights: {baseline_coverage: 0.25, followup_coverage: 0.25, "
            "feedback_timeliness: 0.1, check_attendance: 0.4} (share), from 2024-01-01 — "
            f"{FIX}/weights.yaml line 3",
        ],
        id="a-dated-mapping-names-its-date-line",
    ),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(("args", "head", "lines"), LISTINGS)
def test_params_listing(how, args, head, lines, capsys, monkeypatch):
    code, out, err = run(how, args, capsys, monkeypatch)
    assert (code, err) == (0, "")
    got = out.splitlines()
    assert got[0] == head
    # one line per parameter, two for the standard (urban, rural)
    assert len(got) == 1 + len(default_params().names) + 1
    for line in lines:
        assert line in got


def test_listing_written_to_a_file_in_chinese(tmp_path, capsys, monkeypatch):
    out = tmp_path / "params.csv"
    code, _, err = run(
        "main", ["--params", f"{FIX}/rise.yaml", "--out", str(out)], capsys, monkeypatch
    )
    assert (code, err) == (0, "")
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(df.columns) == ["参数", "值", "单位", "生效日期", "来源"]
    row = df.set_index("参数").loc["reward_monthly_yuan"]
    assert row.tolist() == ["30", "yuan per month", "2025-07-01", f"{FIX}/rise.yaml 第 3 行"]


@pytest.mark.parametrize(
    "args, title, header, row",
    [
        pytest.param(
            ["--params", f"{FIX}/rise.yaml", "--date", "2025-08-01"],
            "现行参数（2025-08-01 生效）",
            ["参数", "值", "单位", "生效日期", "来源"],
            [
                "reward_monthly_yuan",
                "30",
                "yuan per month",
                "2025-07-01",
                f"{FIX}/rise.yaml 第 3 行",
            ],
            id="listing-zh",
        ),
        pytest.param(
            ["--diff", f"{FIX}/rise.yaml", "--lang", "en"],
            f"Changes made by a parameter file ({FIX}/rise.yaml)",
            ["parameter", "effective_from", "old", "new", "unit"],
            ["reward_monthly_yuan", "2025-07-01", "20", "30", "yuan per month"],
            id="diff-en",
        ),
    ],
)
def test_written_to_a_workbook_with_a_title(
    args, title, header, row, tmp_path, capsys, monkeypatch
):
    """An .xlsx is a formatted workbook: a title saying what and when, headers in the
    language asked for, the day a date cell, the header frozen; the .csv's rows."""
    import openpyxl

    out = tmp_path / "params.xlsx"
    code, _, err = run("main", [*args, "--out", str(out)], capsys, monkeypatch)
    assert (code, err) == (0, "")
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(1, 1).value == title
    assert [c.value for c in ws[2]] == header
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    day = header.index("生效日期" if "生效日期" in header else "effective_from")
    got = list(rows[row[0]])
    assert got[day].date().isoformat() == row[day]
    got[day] = row[day]
    assert got == row
    assert ws.freeze_panes == "A3"


# --------------------------------------------------------------------------- refusals

ERRORS = [
    pytest.param(["--check"], 2, "--check can only be used with --rulebook", id="check-alone"),
    pytest.param(
        ["--rulebook", "docs/rules.md", "--date", "2025-01-01"],
        2,
        "--rulebook does not go with --date",
        id="rulebook-with-date",
    ),
    pytest.param(
        ["--diff", f"{FIX}/rise.yaml", "--date", "2025-01-01"],
        2,
        "--diff does not go with --date",
        id="diff-with-date",
    ),
    pytest.param(["--date", "2025-13-01"], 2, "--date must be a date", id="bad-date"),
    pytest.param(
        ["--params", f"{FIX}/unknown.yaml"],
        1,
        "unknown parameter reward_monthy_yuan",
        id="misspelt-name-in-an-override",
    ),
    pytest.param(
        ["--diff", f"{FIX}/missing.yaml"], 1, "parameter file not found", id="missing-diff-file"
    ),
    pytest.param(
        ["--out", "params.txt"], 2, "an output file must be .csv, .xlsx", id="bad-out-extension"
    ),
]


@pytest.mark.parametrize(("args", "code", "text"), ERRORS)
def test_params_refuses(args, code, text, capsys, monkeypatch):
    got, out, err = run("main", [*args, "--lang", "en"], capsys, monkeypatch)
    assert got == code
    assert text in err
    assert out == ""


def test_refusals_are_in_chinese_first(capsys, monkeypatch):
    code, _, err = run("main", ["--check"], capsys, monkeypatch)
    assert code == 2
    assert err.startswith("错误: --check 只能与 --rulebook 一起使用")


# --------------------------------------------------------------------------- --rulebook


def _rulebook(tmp_path, body: str):
    p = tmp_path / "rules.md"
    p.write_text(body, encoding="utf-8")
    return p


def test_rulebook_check_then_regenerate(tmp_path, capsys, monkeypatch):
    p = _rulebook(tmp_path, "# R\n\n<!-- params: uptake, lag_months -->\nold\n<!-- /params -->\n")
    code, out, err = run(
        "main", ["--rulebook", str(p), "--check", "--lang", "en"], capsys, monkeypatch
    )
    assert code == 1 and out == ""
    assert err == (
        f"{p} line 3: parameter table out of date (uptake, lag_months)\n"
        "run fpanalysis params --rulebook to regenerate them\n"
    )
    code, out, _ = run("main", ["--rulebook", str(p), "--lang", "en"], capsys, monkeypatch)
    assert (code, out) == (0, f"{p}: 1 of 1 parameter tables regenerated\n")
    text = p.read_text(encoding="utf-8")
    assert re.findall(r"^\| `(\w+)` \|", text, re.M) == ["uptake", "lag_months"]
    code, out, _ = run("main", ["--rulebook", str(p), "--check"], capsys, monkeypatch)
    assert (code, out) == (0, f"{p}：参数表均为最新\n")


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        pytest.param(
            "<!-- params: uptake, no_such -->\n<!-- /params -->\n",
            1,
            "unknown parameter no_such",
            id="unknown-name",
        ),
        pytest.param("no tables here\n", 2, "holds no parameter block", id="no-block"),
    ],
)
def test_rulebook_refuses(tmp_path, body, code, text, capsys, monkeypatch):
    p = _rulebook(tmp_path, body)
    got, _, err = run("main", ["--rulebook", str(p), "--lang", "en"], capsys, monkeypatch)
    assert got == code and text in err
    assert p.read_text(encoding="utf-8") == body


def test_the_project_rulebook_is_up_to_date(tmp_path, capsys, monkeypatch):
    copy = tmp_path / "rules.md"
    shutil.copyfile(ROOT / "docs" / "rules.md", copy)
    code, _, err = run("main", ["--rulebook", str(copy), "--check"], capsys, monkeypatch)
    assert (code, err) == (0, "")


# --------------------------------------------------------------------------- lines, not values


def test_lines_change_neither_values_nor_the_hash():
    path = ROOT / FIX / "rise.yaml"
    doc, lines = read_yaml_lines(path)
    from_file, from_mapping = load_params(path), load_params(doc)
    assert from_file.sha256 == from_mapping.sha256
    assert from_file.as_dict() == from_mapping.as_dict()
    assert lines[("dibao_standard_yuan", "urban", "2025-01-01")] == 6
    assert from_file.source("dibao_standard_yuan", "2025-02-01", "urban").line == 6
    assert from_mapping.source("dibao_standard_yuan", "2025-02-01", "urban").line is None
    # the defaults keep their sources before the override's first date
    assert from_file.source("reward_monthly_yuan", "2025-06-30").default
