"""``fpanalysis relief`` and ``fpanalysis review`` on small hand-made datasets (rulebook §6)."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from fpanalysis.cli import main

# Urban standard 770 from 2025-01-01. One person each unless said:
#   A income 100 (tier 1, entitlement 670), an only-daughter household of 2
#     (100 / 1540: tier 1, 1440)
#   B income 200 (tier 1, 570), receiving now
#   C income 300 (tier 2, 470)
#   D income 900 (not eligible), receiving now -> exits
HOUSEHOLDS = [
    ("A", "张三丰", 2, 100.0, "only_daughter", "2025-01-10", False, None),
    ("B", "李四", 1, 200.0, None, "2024-05-01", True, "2025-01-01"),
    ("C", "王五", 1, 300.0, None, "2025-02-01", False, None),
    ("D", "赵六", 1, 900.0, None, "2024-03-01", True, "2025-03-31"),
]
MEMBERS = [
    ("A1", "A", "head", "M"),
    ("A2", "A", "child", "F"),
    ("B1", "B", "head", "F"),
    ("C1", "C", "head", "M"),
    ("D1", "D", "head", "M"),
]


def write_dataset(folder, households=HOUSEHOLDS, members=MEMBERS):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        [
            {
                "household_id": h,
                "head_name": n,
                "area": "urban",
                "township": "城关镇",
                "size": s,
                "monthly_income": inc,
                "declared_fp_type": d,
                "application_date": app,
                "receiving": "是" if rec else "否",
                "last_review_date": rev,
            }
            for h, n, s, inc, d, app, rec, rev in households
        ]
    ).to_csv(folder / "households.csv", index=False)
    pd.DataFrame(
        [{"member_id": m, "household_id": h, "relation": r, "sex": x} for m, h, r, x in members]
    ).to_csv(folder / "household_members.csv", index=False)
    return folder


@pytest.fixture
def data(tmp_path):
    return write_dataset(tmp_path / "data")


def read(path):
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def test_relief_quota_writes_every_household_masked(data, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["relief", str(data), "--quota", "2", "--out", str(out), "--lang", "en"]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    df = read(out).set_index("household_id")
    assert list(df.columns[:4]) == ["rank", "area", "township", "head_name"]
    # Ranks: A (per capita 50), B (200), C (300); D not eligible. B continues, A takes the second
    # place.
    assert df["rank"].to_dict() == {"A": "1", "B": "2", "C": "3", "D": ""}
    assert df["selected"].to_dict() == {"A": "True", "B": "True", "C": "False", "D": "False"}
    assert df.loc["A", "fp_type"] == "only_daughter"
    assert df.loc["A", "entitlement_yuan"] == "1440"
    assert df.loc["A", "head_name"] == "张**" and "张三丰" not in out.read_text(
        encoding="utf-8-sig"
    )
    captured = capsys.readouterr()
    assert "as of 2025-03-31" in captured.out  # the last recorded date (D's review), not today
    assert "rank 3 C" in captured.out and "rank 1 A" in captured.out  # either side of the cut line


def test_relief_zh_headers_and_labels(data, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["relief", str(data), "--as-of", "2025-06-30", "--out", str(out)]) == 0
    df = read(out)
    assert list(df.columns[:3]) == ["排名", "户编号", "城乡"]
    assert set(df["纳入情况"]) == {"继续保障", "新纳入", "不符合条件"}
    assert df.loc[df["户编号"] == "A", "计生类型"].item() == "独女户"
    assert df.loc[df["户编号"] == "D", "理由"].item().startswith("不符合低保条件")


def test_relief_reveal_pii(data, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["relief", str(data), "--reveal-pii", "--out", str(out)]) == 0
    assert "张三丰" in out.read_text(encoding="utf-8-sig")


def test_relief_budget_stops_at_first_misfit(data, tmp_path, capsys):
    # B continues (570); 1000 - 570 = 430 left; A needs 1440: stop, and C (470) waits too.
    out = tmp_path / "out.csv"
    assert main(["relief", str(data), "--budget", "1000", "--out", str(out), "--lang", "en"]) == 0
    df = read(out).set_index("household_id")
    assert df["selection"].to_dict() == {
        "A": "waiting",
        "B": "continuing",
        "C": "waiting",
        "D": "not_eligible",
    }
    assert "selection stopped at A" in df.loc["C", "reason_en"]


def test_relief_incumbents_exceeding_quota_are_announced(data, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["relief", str(data), "--quota", "0", "--out", str(out)]) == 0
    assert "在保户 1 户已超过名额 0 户" in capsys.readouterr().out


def test_relief_meeting_workbook(data, tmp_path):
    out, meeting = tmp_path / "out.xlsx", tmp_path / "meeting.xlsx"
    assert (
        main(["relief", str(data), "--quota", "2", "--out", str(out), "--meeting", str(meeting)])
        == 0
    )
    ws = openpyxl.load_workbook(meeting).active
    assert ws["A1"].value.startswith("低保拟纳入名单")
    assert ws.max_row == 4  # title, header, B (continuing), A (admitted)
    assert [ws.cell(row=r, column=2).value for r in (3, 4)] == ["B", "A"]  # continuing first


def test_relief_previous_round_counts_as_receiving(data, tmp_path):
    prev = tmp_path / "prev.csv"
    pd.DataFrame({"户编号": ["C"], "拟纳入": ["是"]}).to_csv(
        prev, index=False, encoding="utf-8-sig"
    )
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "relief",
                str(data),
                "--quota",
                "2",
                "--previous-round",
                str(prev),
                "--out",
                str(out),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    df = read(out).set_index("household_id")
    assert df["selection"].to_dict() == {
        "A": "waiting",
        "B": "continuing",
        "C": "continuing",
        "D": "not_eligible",
    }


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        pytest.param(["--as-of", "2025-02-30"], 2, "--as-of", id="bad-date"),
        pytest.param(["--quota", "-1"], 2, "--quota", id="negative-quota"),
        pytest.param(["--quota", "1.5"], 2, "--quota", id="fractional-quota"),
        pytest.param(
            ["--pool", "separate", "--quota", "3"], 2, "urban=N,rural=M", id="separate-needs-areas"
        ),
        pytest.param(
            ["--quota", "urban=3,rural=2"], 2, "--pool separate", id="areas-need-separate"
        ),
        pytest.param(["--out", "x.txt"], 2, ".csv", id="bad-extension"),
    ],
)
def test_relief_usage_errors(data, tmp_path, capsys, argv, code, text):
    args = ["relief", str(data), *argv]
    if "--out" not in argv:
        args += ["--out", str(tmp_path / "o.csv")]
    assert main(args) == code
    assert text in capsys.readouterr().err


def test_relief_quota_and_budget_are_exclusive(data, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "relief",
                str(data),
                "--quota",
                "1",
                "--budget",
                "100",
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
    assert exc.value.code == 2


def test_relief_refuses_invalid_data(tmp_path, capsys):
    # validate rejects a household whose size differs from its members: the analysis refuses,
    # naming it; --skip-invalid leaves the row out and says so.
    bad = write_dataset(
        tmp_path / "bad",
        households=[*HOUSEHOLDS, ("X", "张三", 3, 100.0, None, "2025-01-01", False, None)],
        members=[*MEMBERS, ("X1", "X", "head", "M")],
    )
    out = tmp_path / "o.csv"
    assert main(["relief", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "household_size" in err and "[X]" in err
    assert main(["relief", str(bad), "--skip-invalid", "--out", str(out), "--lang", "en"]) == 0
    assert "households: 1 rows left out" in capsys.readouterr().err
    assert "X" not in set(read(out)["household_id"])


def test_relief_contradicted_declared_type_warns_and_uses_members(tmp_path, capsys):
    # rulebook §6: declared infertile, but nothing recorded: reported naming the
    # household, and the type derived from the members (none) is used.
    bad = write_dataset(
        tmp_path / "bad",
        households=[*HOUSEHOLDS, ("X", "张三", 1, 100.0, "infertile", "2025-01-01", False, None)],
        members=[*MEMBERS, ("X1", "X", "head", "M")],
    )
    out = tmp_path / "o.csv"
    assert main(["relief", str(bad), "--out", str(out), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "fp_type_contradicted" in err and "X" in err
    row = read(out).set_index("household_id").loc["X"]
    assert pd.isna(row["fp_type"]) or row["fp_type"] == ""


def test_review_between_two_periods(data, tmp_path, capsys):
    # Previous period: B and E receiving; E is gone now (moved or died); D was not receiving then.
    prev = write_dataset(
        tmp_path / "prev",
        households=[
            ("B", "李四", 1, 200.0, None, "2024-05-01", True, "2025-01-01"),
            ("D", "赵六", 1, 900.0, None, "2024-03-01", False, None),
            ("E", "钱七", 1, 100.0, None, "2024-01-01", True, "2024-12-01"),
        ],
        members=[("B1", "B", "head", "F"), ("D1", "D", "head", "M"), ("E1", "E", "head", "M")],
    )
    out = tmp_path / "review.csv"
    assert (
        main(
            [
                "review",
                str(data),
                "--previous",
                str(prev),
                "--as-of",
                "2025-06-30",
                "--out",
                str(out),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    df = read(out).set_index("household_id")
    assert df["transition"].to_dict() == {
        "A": "enter",
        "B": "continue",
        "C": "enter",
        "D": "",
        "E": "exit",
    }
    assert "no longer listed (moved or died)" in df.loc["E", "reason_en"]
    # B: last review 2025-01-01 + 6 months = 2025-07-01, not yet due on 2025-06-30.
    assert (df.loc["B", "next_review_date"], df.loc["B", "review_due"]) == ("2025-07-01", "False")
    assert "enter 2, continue 1, tier change 0, exit 1" in capsys.readouterr().out


def test_review_against_receiving_now(data, tmp_path):
    out = tmp_path / "review.csv"
    assert (
        main(["review", str(data), "--as-of", "2025-06-30", "--out", str(out), "--lang", "en"]) == 0
    )
    df = read(out).set_index("household_id")
    # D receives relief now but its income (900) is above 770: exit.
    assert (
        df.loc["D", "transition"] == "exit"
        and "at or above the standard of 770" in df.loc["D", "reason_en"]
    )
    assert df.loc["B", "transition"] == "continue"


def test_relief_runs_on_the_sample(tmp_path, sample_dir):
    if not (sample_dir / "households.csv").exists():
        pytest.skip("sample data not generated")
    out = tmp_path / "out.csv"
    assert main(["relief", "--quota", "160", "--out", str(out)]) == 0
    df = read(out)
    ranks = pd.to_numeric(df["排名"], errors="coerce").dropna()
    assert list(ranks) == list(range(1, len(ranks) + 1))
    assert df["户主姓名"].str.contains(r"\*").all()


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_relief_reruns_are_byte_identical(data, tmp_path, ext):
    a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
    assert main(["relief", str(data), "--quota", "2", "--out", str(a)]) == 0
    assert main(["relief", str(data), "--quota", "2", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_relief_separate_pools(tmp_path, capsys):
    # One urban (A) and one rural (R) household, each pool with one place of its own.
    data = write_dataset(
        tmp_path / "data",
        households=[*HOUSEHOLDS[:1], ("R", "孙八", 1, 50.0, None, "2025-01-05", False, None)],
        members=[*MEMBERS[:2], ("R1", "R", "head", "M")],
    )
    pd.read_csv(data / "households.csv").assign(area=["urban", "rural"]).to_csv(
        data / "households.csv", index=False
    )
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "relief",
                str(data),
                "--pool",
                "separate",
                "--quota",
                "urban=1,rural=0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    df = read(out).set_index("户编号")
    assert df["资金池"].to_dict() == {"A": "城镇", "R": "农村"}
    assert df["排名"].to_dict() == {"A": "1", "R": "1"}  # each pool ranks on its own
    assert df["纳入情况"].to_dict() == {"A": "新纳入", "R": "候补未纳入"}


def test_review_zh_labels(data, tmp_path):
    out = tmp_path / "review.csv"
    assert main(["review", str(data), "--as-of", "2025-06-30", "--out", str(out)]) == 0
    df = read(out).set_index("户编号")
    assert df.loc["D", "变动"] == "退出" and df.loc["A", "变动"] == "新纳入"
    assert df.loc["B", "应复核"] == "否" and df.loc["B", "下次复核日期"] == "2025-07-01"
