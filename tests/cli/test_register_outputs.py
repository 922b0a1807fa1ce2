"""What the register's tables read like (rulebook §3, §6): ``history`` and ``review --units``
in Chinese have Chinese headers and values, and the units' tables carry each unit's name,
read from the dataset the newest compliance round recorded or from ``--dataset``.

The register: a copy of the sample, compliance for 2023 and 2024 and one relief round recorded
from it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fpanalysis.cli import main
from fpanalysis.core import config

CJK = re.compile(r"[\u4e00-\u9fff]")


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A folder holding the dataset (``ds``) and the register recorded from it."""
    root = tmp_path_factory.mktemp("recorded")
    shutil.copytree(config.SAMPLE_DIR, root / "ds")
    reg = ["--register", str(root / "register.sqlite"), "--record"]
    for period in ("2023", "2024"):
        argv = ["compliance", str(root / "ds"), "--period", period, *reg]
        assert main([*argv, "--out", str(root / f"c{period}.csv")]) == 0
    argv = ["relief", str(root / "ds"), "--quota", "40", *reg]
    assert main([*argv, "--out", str(root / "r.csv")]) == 0
    return root


def names_of(units_csv: Path) -> dict[str, str]:
    u = read(units_csv)
    return dict(zip(u["unit_id"], u["name"], strict=True))


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["history", "--rounds"], id="rounds"),
        pytest.param(["history", "--units"], id="units"),
        pytest.param(["history", "--unit", "U01"], id="unit"),
        pytest.param(["review", "--units"], id="review-units"),
        pytest.param(["history", "HOUSEHOLD"], id="household"),
    ],
)
def test_the_registers_tables_in_chinese_have_chinese_headers(recorded, tmp_path, argv):
    if argv[-1] == "HOUSEHOLD":
        argv = ["history", read(recorded / "r.csv")["户编号"].iloc[0]]
    out = tmp_path / "o.csv"
    assert main([*argv, "--register", str(recorded / "register.sqlite"), "--out", str(out)]) == 0
    headers = list(read(out).columns)
    assert [h for h in headers if not CJK.search(h)] == []


def test_review_units_in_chinese_labels_grades_and_transitions(recorded, tmp_path):
    out = tmp_path / "u.csv"
    argv = ["review", "--units", "--register", str(recorded / "register.sqlite")]
    assert main([*argv, "--out", str(out)]) == 0
    u = read(out)
    grades = {"优秀", "合格", "不合格"}
    assert set(u["上期等次"]) <= grades and set(u["等次"]) <= grades
    moves = {"等次上升", "等次下降", "等次未变", "新列入考核", "不再考核"}
    assert set(u["变动"]) <= moves
    # the 2023 scorecard is the previous round: its grades, unit by unit
    c23 = read(recorded / "c2023.csv").set_index("单位编号")["等次"]
    assert u.set_index("单位编号")["上期等次"].to_dict() == c23.to_dict()


def test_history_rounds_names_the_rounds_kind(recorded, tmp_path):
    out = tmp_path / "rounds.csv"
    argv = ["history", "--rounds", "--register", str(recorded / "register.sqlite")]
    assert main([*argv, "--out", str(out)]) == 0
    rounds = read(out)
    assert "单位类型" not in rounds.columns  # a unit's kind, not a round's
    assert rounds["轮次类型"].tolist() == ["单位考核", "单位考核", "低保评议"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["history", "--units"], id="history"),
        pytest.param(["review", "--units"], id="review"),
    ],
)
def test_units_are_named_from_the_recorded_dataset(recorded, tmp_path, capsys, argv):
    name_column = "单位名称"
    out = tmp_path / "u.csv"
    assert main([*argv, "--register", str(recorded / "register.sqlite"), "--out", str(out)]) == 0
    u = read(out)
    assert list(u.columns[:2]) == ["单位编号", name_column]
    names = names_of(recorded / "ds" / "units.csv")
    assert dict(zip(u["单位编号"], u[name_column], strict=True)) == {
        k: names[k] for k in u["单位编号"]
    }
    assert f"单位名称取自 {recorded / 'ds'}" in capsys.readouterr().err


def test_one_unit_is_named_in_the_line_printed(recorded, tmp_path, capsys):
    argv = ["history", "--unit", "U03", "--register", str(recorded / "register.sqlite")]
    assert main([*argv, "--out", str(tmp_path / "g.csv")]) == 0
    name = names_of(recorded / "ds" / "units.csv")["U03"]
    assert capsys.readouterr().out.startswith(f"U03（{name}）：2 轮考核，2 行")
    # and in the workbook's title
    import openpyxl

    assert main([*argv, "--out", str(tmp_path / "g.xlsx")]) == 0
    title = openpyxl.load_workbook(tmp_path / "g.xlsx").worksheets[0]["A1"].value
    assert f"单位 U03（{name}）" in title


def test_dataset_given_names_the_units_as_it_does_today(recorded, tmp_path):
    renamed = tmp_path / "renamed"
    shutil.copytree(recorded / "ds", renamed)
    units = read(renamed / "units.csv")
    units.loc[units["unit_id"].eq("U01"), "name"] = "改名后的办公室"
    units.to_csv(renamed / "units.csv", index=False, encoding="utf-8")
    reg = ["--register", str(recorded / "register.sqlite")]
    out = tmp_path / "h.csv"
    assert main(["history", "--units", *reg, "--dataset", str(renamed), "--out", str(out)]) == 0
    h = read(out)
    assert set(h.loc[h["单位编号"].eq("U01"), "单位名称"]) == {"改名后的办公室"}
    out2 = tmp_path / "r.csv"
    assert main(["review", "--units", str(renamed), *reg, "--out", str(out2)]) == 0
    assert read(out2).set_index("单位编号").at["U01", "单位名称"] == "改名后的办公室"


def test_a_recorded_dataset_gone_leaves_the_names_out_and_says_so(tmp_path, capsys):
    gone = tmp_path / "gone"
    # a register whose dataset has moved: record two rounds from a copy, then move the copy
    shutil.copytree(config.SAMPLE_DIR, gone)
    reg = ["--register", str(tmp_path / "moved.sqlite"), "--record"]
    for period in ("2023", "2024"):
        out = tmp_path / f"c{period}.csv"
        assert main(["compliance", str(gone), "--period", period, *reg, "--out", str(out)]) == 0
    shutil.move(gone, tmp_path / "elsewhere")
    capsys.readouterr()
    out = tmp_path / "h.csv"
    argv = ["history", "--units", "--register", str(tmp_path / "moved.sqlite"), "--lang", "en"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "unit_name" not in read(out).columns and len(read(out)) == 40
    err = capsys.readouterr().err
    assert f"no unit names: the newest compliance round's dataset {gone}" in err
    assert "give one with --dataset" in err


def test_the_names_dataset_is_never_overwritten(recorded, capsys):
    target = recorded / "ds" / "units.csv"
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    argv = ["history", "--units", "--register", str(recorded / "register.sqlite"), "--lang", "en"]
    assert main([*argv, "--out", str(target)]) == 2
    assert "output-is-input" in capsys.readouterr().err
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        pytest.param(
            ["history", "--rounds", "--dataset", "DS"],
            2,
            "--dataset is for --unit or --units only",
            id="dataset-without-units",
        ),
        pytest.param(
            ["history", "--units", "--dataset", "MISSING"],
            1,
            "MISSING",
            id="dataset-missing",
        ),
    ],
)
def test_history_dataset_errors(recorded, tmp_path, capsys, argv, code, text):
    argv = [a.replace("DS", str(recorded / "ds")) for a in argv]
    argv = [a.replace("MISSING", str(tmp_path / "missing")) for a in argv]
    out = tmp_path / "o.csv"
    reg = ["--register", str(recorded / "register.sqlite"), "--lang", "en"]
    assert main([*argv, *reg, "--out", str(out)]) == code
    assert text.replace("MISSING", str(tmp_path / "missing")) in capsys.readouterr().err
    assert not out.exists()


def _recorded_from(folder: Path) -> Path:
    """Record compliance for 2023 and 2024 from ``folder`` (as given, relative or not)."""
    reg = folder.parent / "reg.sqlite"
    for period in ("2023", "2024"):
        argv = ["compliance", str(folder), "--period", period, "--register", str(reg), "--record"]
        assert main([*argv, "--out", str(folder.parent / f"c{period}.csv")]) == 0
    return reg


def test_a_recorded_dataset_changed_since_leaves_the_names_out(tmp_path, capsys):
    shutil.copytree(config.SAMPLE_DIR, tmp_path / "ds")
    reg = _recorded_from(tmp_path / "ds")
    units = read(tmp_path / "ds" / "units.csv")
    units.loc[units["unit_id"].eq("U01"), "name"] = "改名后的办公室"
    units.to_csv(tmp_path / "ds" / "units.csv", index=False, encoding="utf-8")
    capsys.readouterr()
    out = tmp_path / "h.csv"
    assert main(["history", "--units", "--register", str(reg), "--out", str(out)]) == 0
    assert "单位名称" not in read(out).columns
    err = capsys.readouterr().err
    assert "的 units.csv 已不是该轮读取的文件（SHA-256 不同）；可用 --dataset 指明" in err
    # given as today's dataset, its names are used as they are now
    argv = ["history", "--units", "--register", str(reg), "--dataset", str(tmp_path / "ds")]
    assert main([*argv, "--out", str(out)]) == 0
    assert "改名后的办公室" in set(read(out)["单位名称"])


def test_a_dataset_recorded_by_a_relative_path_is_not_another_folders(
    tmp_path, monkeypatch, capsys
):
    """Recorded as ``ds`` in one folder, read from another that has a different ``ds``."""
    (tmp_path / "a").mkdir()
    shutil.copytree(config.SAMPLE_DIR, tmp_path / "a" / "ds")
    monkeypatch.chdir(tmp_path / "a")
    reg = _recorded_from(Path("ds"))
    assert main(["history", "--units", "--register", str(reg), "--out", "h.csv"]) == 0
    assert "单位名称" in read(tmp_path / "a" / "h.csv").columns  # from where it was recorded
    other = tmp_path / "b" / "ds"
    shutil.copytree(config.SAMPLE_DIR, other)
    units = read(other / "units.csv")
    units["name"] = "别处的单位"
    units.to_csv(other / "units.csv", index=False, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "b")
    capsys.readouterr()
    argv = ["history", "--units", "--register", str(tmp_path / "a" / reg), "--out", "h.csv"]
    assert main(argv) == 0
    assert "单位名称" not in read(tmp_path / "b" / "h.csv").columns
    assert "SHA-256" in capsys.readouterr().err
