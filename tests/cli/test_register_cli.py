"""The register on the command line: ``relief/compliance --record``, ``review --register``,
``history``.

The story is the one of tests/register/test_register.py (hand-computed there), told
through CSV datasets and the commands, on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import html
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from fpanalysis import register as R
from fpanalysis.cli import main

# household_id, name, size, income, assessed tier, application, receiving, last review
ROUND1 = [
    ("A", "张三丰", 2, 100, None, "2025-01-10", False, None),
    ("B", "李四", 1, 200, None, "2024-05-01", True, "2025-01-01"),
    ("C", "王五", 1, 300, 1, "2024-06-01", True, "2025-03-01"),
    ("F", "钱七", 1, 250, None, "2024-01-01", True, "2025-05-01"),
    ("D", "赵六", 1, 500, None, "2025-02-01", False, None),
]
ROUND2 = [
    ("A", "张三丰", 2, 100, None, "2025-01-10", False, None),
    ("B", "李四", 1, 800, None, "2024-05-01", False, "2025-01-01"),
    ("C", "王五", 1, 300, None, "2024-06-01", False, "2025-03-01"),
    ("D", "赵六", 1, 500, None, "2025-02-01", False, None),
    ("E", "孙八", 1, 150, None, "2025-10-01", False, None),
]
OVERRIDE = "dibao_standard_yuan:\n  urban: 770\n  rural: 600\n"


def write_dataset(folder: Path, households) -> Path:
    folder.mkdir(parents=True)
    pd.DataFrame(
        [
            {
                "household_id": h,
                "head_name": n,
                "area": "urban",
                "township": "城关镇",
                "size": s,
                "monthly_income": inc,
                "assessed_tier": t,
                "application_date": app,
                "receiving": "是" if rec else "否",
                "last_review_date": rev,
            }
            for h, n, s, inc, t, app, rec, rev in households
        ]
    ).to_csv(folder / "households.csv", index=False)
    members = []
    for h, *_ in households:
        members.append({"member_id": f"{h}1", "household_id": h, "relation": "head", "sex": "M"})
        if h == "A":
            members.append(
                {"member_id": "A2", "household_id": "A", "relation": "child", "sex": "F"}
            )
    pd.DataFrame(members).to_csv(folder / "household_members.csv", index=False)
    return folder


@pytest.fixture
def story(tmp_path):
    override = tmp_path / "standards.yaml"
    override.write_text(OVERRIDE, encoding="utf-8")
    return {
        "d1": write_dataset(tmp_path / "data1", ROUND1),
        "d2": write_dataset(tmp_path / "data2", ROUND2),
        "params": override,
        "tmp": tmp_path,
    }


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def relief(story, data, as_of, quota, url, out, *extra):
    return main(
        [
            "relief",
            str(story[data]),
            "--as-of",
            as_of,
            "--quota",
            str(quota),
            "--params",
            str(story["params"]),
            "--register",
            url,
            "--out",
            str(story["tmp"] / out),
            "--lang",
            "en",
            *extra,
        ]
    )


def test_story_through_the_commands(story, register_url, capsys):
    tmp = story["tmp"]
    assert relief(story, "d1", "2025-06-30", 4, register_url, "r1.csv", "--record") == 0
    assert "round relief-2025-06-30-0001" in capsys.readouterr().out

    # review: this period against the last recorded round.
    args = [
        "review",
        str(story["d2"]),
        "--as-of",
        "2025-12-31",
        "--quota",
        "3",
        "--params",
        str(story["params"]),
        "--register",
        register_url,
        "--out",
        str(tmp / "rev.csv"),
        "--lang",
        "en",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "before: register round relief-2025-06-30-0001" in captured.err
    assert "enter 1, continue 1, tier change 1, exit 2" in captured.out
    rev = read(tmp / "rev.csv").set_index("household_id")
    assert rev["transition"].to_dict() == {
        "A": "continue",
        "B": "exit",
        "C": "tier_change",
        "D": "",
        "E": "enter",
        "F": "exit",
    }
    assert rev.loc["B", "reason_en"].startswith(
        "exits: per-capita income 800.00 yuan is at or above the standard of 770 yuan"
    )
    assert rev.loc["F", "reason_en"].startswith("exits: no longer listed (moved or died)")
    assert rev.loc["C", "reason_en"].startswith(
        "tier change: selected both times, tier 1 -> tier 2"
    )
    assert rev.loc["C", "review_due"] == "True" and rev.loc["E", "review_due"] == "False"
    assert rev.loc["A", "head_name"] == "张**"

    assert (
        relief(
            story, "d2", "2025-12-31", 3, register_url, "r2.csv", "--record", "--note", "H2 round"
        )
        == 0
    )
    assert "round relief-2025-12-31-0002" in capsys.readouterr().out
    r2 = read(tmp / "r2.csv").set_index("household_id")
    # A continues although the data says it does not receive relief: the register remembers.
    assert r2["selection"].to_dict() == {
        "A": "continuing",
        "E": "admitted",
        "C": "continuing",
        "D": "waiting",
        "B": "not_eligible",
    }

    assert (
        main(
            [
                "history",
                "B",
                "--register",
                register_url,
                "--out",
                str(tmp / "hb.csv"),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    hb = read(tmp / "hb.csv")
    assert hb["round_id"].tolist() == ["relief-2025-06-30-0001", "relief-2025-12-31-0002"]
    assert hb["selected"].tolist() == ["True", "False"] and hb["entitlement_yuan"].tolist() == [
        "570",
        "",
    ]
    assert hb["reason_en"][1].startswith("not eligible: per-capita income 800.00 yuan")
    assert (
        main(
            [
                "history",
                "E",
                "--register",
                register_url,
                "--out",
                str(tmp / "he.csv"),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    he = read(tmp / "he.csv")
    assert he["listed"].tolist() == ["False", "True"]
    assert he[["rank", "tier", "entitlement_yuan"]].values.tolist()[1] == ["2", "1", "620"]
    assert "listed in 1" in capsys.readouterr().out

    reg = R.open_register(register_url)
    rounds = reg.rounds().set_index("round_id")
    assert rounds["override_text"].tolist() == [OVERRIDE, OVERRIDE]
    assert rounds.loc["relief-2025-12-31-0002", "note"] == "H2 round"
    assert (
        '"before": "register:relief-2025-06-30-0001"'
        in rounds.loc["relief-2025-12-31-0002", "options_json"]
    )


def test_failed_record_leaves_the_register_unchanged(story, capsys):
    url = str(story["tmp"] / "register.sqlite")
    assert relief(story, "d1", "2025-06-30", 4, url, "r1.csv", "--record") == 0
    before = sha(url)
    code = relief(
        story,
        "d2",
        "2025-12-31",
        3,
        url,
        "r2.csv",
        "--record",
        "--supersedes",
        "relief-2025-01-01-0099",
    )
    err = capsys.readouterr().err
    assert code == 3
    assert "no round relief-2025-01-01-0099 in the register" in err
    assert "Traceback" not in err
    assert sha(url) == before


@pytest.mark.parametrize(
    ("content", "zh"),
    [
        pytest.param(b"\x00\x01garbage" * 50, "不是登记簿文件", id="random-bytes"),
        pytest.param(b"household_id,selected\nH1,yes\n", "不是登记簿文件", id="a-csv-file"),
    ],
)
def test_corrupt_register_refused_before_any_work(story, capsys, content, zh):
    url = story["tmp"] / "register.sqlite"
    url.write_bytes(content)
    code = main(
        [
            "relief",
            str(story["d1"]),
            "--record",
            "--register",
            str(url),
            "--out",
            str(story["tmp"] / "o.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 3 and zh in err and "Traceback" not in err
    assert url.read_bytes() == content
    assert not (story["tmp"] / "o.csv").exists()


def test_foreign_sqlite_refused_in_english(story, capsys):
    url = story["tmp"] / "other.sqlite"
    con = sqlite3.connect(url)
    con.execute("CREATE TABLE salaries (id INTEGER)")
    con.commit()
    con.close()
    before = sha(url)
    code = main(
        [
            "history",
            "A",
            "--register",
            str(url),
            "--out",
            str(story["tmp"] / "h.csv"),
            "--lang",
            "en",
        ]
    )
    assert code == 3
    assert "not an fpanalysis register (it holds other tables: salaries)" in capsys.readouterr().err
    assert sha(url) == before


def test_busy_register_says_try_again(story, capsys, monkeypatch):
    url = str(story["tmp"] / "register.sqlite")
    assert relief(story, "d1", "2025-06-30", 4, url, "r1.csv", "--record") == 0
    monkeypatch.setenv("FPANALYSIS_REGISTER_TIMEOUT", "0.3")
    holder = sqlite3.connect(url, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        before = sha(url)
        code = relief(story, "d2", "2025-12-31", 3, url, "r2.csv", "--record")
        assert code == 75
        assert "the register is busy, try again" in capsys.readouterr().err
        assert sha(url) == before
    finally:
        holder.close()


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        pytest.param(
            ["relief", "--note", "x", "--out", "o.csv"],
            2,
            "--note needs --record",
            id="note-without-record",
        ),
        pytest.param(
            ["relief", "--supersedes", "relief-2025-06-30-0001", "--out", "o.csv"],
            2,
            "--supersedes needs --record",
            id="supersedes-without-record",
        ),
        pytest.param(
            ["history", "A", "--register", "missing.sqlite", "--out", "h.csv"],
            3,
            "the register file does not exist",
            id="history-missing-register",
        ),
        pytest.param(
            ["history", "--register", "missing.sqlite", "--out", "h.csv"],
            2,
            "give a household id",
            id="history-no-mode",
        ),
        pytest.param(
            ["review", "--units", "--out", "u.csv"],
            2,
            "--units needs --register",
            id="units-without-register",
        ),
        pytest.param(
            ["history", "A", "--register", "mysql://u@h/db", "--out", "h.csv"],
            3,
            "postgresql:// URL",
            id="unknown-url-scheme",
        ),
    ],
)
def test_usage_errors(tmp_path, monkeypatch, capsys, argv, code, text):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--lang", "en"]) == code
    assert text in capsys.readouterr().err
    assert not (tmp_path / "register.sqlite").exists()


def test_review_register_and_previous_round_exclusive(story, capsys):
    prev = story["tmp"] / "prev.csv"
    prev.write_text("household_id,selected\nA,是\n", encoding="utf-8")
    code = main(
        [
            "review",
            str(story["d2"]),
            "--register",
            str(story["tmp"] / "r.sqlite"),
            "--previous-round",
            str(prev),
            "--out",
            str(story["tmp"] / "o.csv"),
            "--lang",
            "en",
        ]
    )
    assert code == 2 and "not both" in capsys.readouterr().err


def test_record_defaults_to_register_sqlite_in_the_working_folder(story, monkeypatch, capsys):
    monkeypatch.chdir(story["tmp"])
    code = main(
        ["relief", str(story["d1"]), "--params", str(story["params"]), "--record", "--out", "o.csv"]
    )
    assert code == 0
    assert "已记入登记簿 register.sqlite：轮次 relief-2025-05-01-0001" in capsys.readouterr().out
    assert R.open_register(story["tmp"] / "register.sqlite").check() == R.CURRENT_SCHEMA_VERSION


def test_compliance_rounds_units_review_and_history(tmp_path, sample_dir, capsys):
    url = str(tmp_path / "register.sqlite")
    for period in ("2024H1", "2024H2"):
        code = main(
            [
                "compliance",
                str(sample_dir),
                "--period",
                period,
                "--record",
                "--register",
                url,
                "--out",
                str(tmp_path / f"c{period}.csv"),
                "--lang",
                "en",
            ]
        )
        assert code == 0
    out = capsys.readouterr().out
    assert "round compliance-2024H1-0001" in out and "round compliance-2024H2-0002" in out
    reg = R.open_register(url)
    card = read(tmp_path / "c2024H2.csv").set_index("unit_id")
    units = reg.compliance_units("compliance-2024H2-0002").set_index("unit_id")
    assert units["grade"].to_dict() == card["grade"].to_dict()
    assert [f"{v:g}" for v in units["score"]] == [f"{float(v):g}" for v in card["score"]]
    n_acc = len(reg.compliance_accountability("compliance-2024H2-0002"))
    assert (
        main(
            [
                "accountability",
                str(sample_dir),
                "--period",
                "2024H2",
                "--out",
                str(tmp_path / "a.csv"),
            ]
        )
        == 0
    )
    assert n_acc == len(read(tmp_path / "a.csv"))

    assert (
        main(
            [
                "review",
                "--units",
                "--register",
                url,
                "--out",
                str(tmp_path / "u.csv"),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    u = read(tmp_path / "u.csv").set_index("unit_id")
    h1 = read(tmp_path / "c2024H1.csv").set_index("unit_id")
    assert u["previous_grade"].to_dict() == h1["grade"].to_dict()
    rank = {"fail": 0, "pass": 1, "excellent": 2}
    for _uid, r in u.iterrows():  # 20 units
        d = rank[r["grade"]] - rank[r["previous_grade"]]
        assert r["transition"] == ("improved" if d > 0 else "declined" if d < 0 else "unchanged")

    assert (
        main(
            [
                "history",
                "--unit",
                "U01",
                "--register",
                url,
                "--out",
                str(tmp_path / "g.csv"),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    g = read(tmp_path / "g.csv")
    assert g["period"].tolist() == ["2024H1", "2024H2"]
    assert g["grade"].tolist() == [h1.loc["U01", "grade"], card.loc["U01", "grade"]]


@pytest.mark.notebook
@pytest.mark.slow
def test_relief_notebook_reads_the_register(tmp_path, sample_dir):
    """notebooks/03_relief_ranking.ipynb with ``register``: transitions since the last round and
    a history."""
    from nbrun import outputs_text, run_notebook

    from fpanalysis.core import config
    from fpanalysis.core.privacy import find_names, find_unmasked_ids

    url = str(tmp_path / "register.sqlite")
    code = main(
        [
            "relief",
            str(sample_dir),
            "--as-of",
            "2025-06-30",
            "--quota",
            "150",
            "--record",
            "--register",
            url,
            "--out",
            str(tmp_path / "r.csv"),
        ]
    )
    assert code == 0
    nb = run_notebook(
        config.NOTEBOOKS_DIR / "03_relief_ranking.ipynb",
        tmp_path,
        quota=180,
        lang="en",
        register=url,
    )
    text = html.unescape(outputs_text(nb))
    assert '"output_type": "error"' not in text
    assert "Against register round relief-2025-06-30-0001" in text
    # the last round's stage in the committee's procedure (a proposal, never decided)
    assert "the committee's procedure" in text
    assert "proposed (the ranking, awaiting the committee)" in text
    assert "not decided yet: the list is the ranking" in text
    cell = next(c for c in nb.cells if c.cell_type == "code" and "household_history(" in c.source)
    out = json.dumps(cell.outputs, ensure_ascii=False)
    assert "over the recorded rounds" in out and "relief-2025-06-30-0001" in out
    heads = pd.read_csv(sample_dir / "households.csv", encoding="utf-8-sig", dtype=str)[
        "head_name"
    ].dropna()
    assert find_names(text, list(heads)) == [] and find_unmasked_ids(text) == []


# ---------------------------------------------------------------------------- seals


def _hand_edit(path, *statements):
    """What a tired clerk with an SQLite browser does: drop a trigger, change a row."""
    con = sqlite3.connect(path)
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    "edit,named",
    [
        pytest.param(
            ("DROP TRIGGER relief_rows_no_update",
             "UPDATE relief_rows SET entitlement_yuan = 9999 WHERE household_id = 'A' "
             "AND round_id = 'relief-2025-06-30-0001'"),
            "round relief-2025-06-30-0001 was altered",
            id="trigger-dropped-and-a-row-changed",
        ),
        pytest.param(
            ("DROP TRIGGER relief_rows_no_delete",),
            "the append-only protection of table relief_rows",
            id="a-trigger-dropped",
        ),
    ],
)  # fmt: skip
def test_history_review_and_check_notice_a_hand_edited_register(story, capsys, edit, named):
    url = str(story["tmp"] / "register.sqlite")
    assert relief(story, "d1", "2025-06-30", 4, url, "r1.csv", "--record") == 0
    assert relief(story, "d2", "2025-12-31", 3, url, "r2.csv", "--record") == 0
    assert main(["register", "check", "--register", url, "--lang", "en"]) == 0
    assert "every seal and the chain intact" in capsys.readouterr().out
    _hand_edit(url, *edit)
    for argv in (
        ["register", "check", "--register", url],
        ["history", "A", "--register", url, "--out", str(story["tmp"] / "h.csv")],
        ["review", str(story["d2"]), "--register", url, "--params", str(story["params"]),
         "--out", str(story["tmp"] / "rv.csv")],
    ):  # fmt: skip
        code = main([*argv, "--lang", "en"])
        err = capsys.readouterr().err
        assert code == 3 and "register-tampered" in err and named in err, (argv, err)
    assert not (story["tmp"] / "h.csv").exists() and not (story["tmp"] / "rv.csv").exists()
    assert main(["register", "check", "--register", url]) == 3
    assert "登记簿的记录与其封存不符" in capsys.readouterr().err


def test_check_prints_the_last_seal_to_note_in_the_minutes(story, capsys):
    url = str(story["tmp"] / "register.sqlite")
    assert relief(story, "d1", "2025-06-30", 4, url, "r1.csv", "--record") == 0
    reg = R.open_register(url)
    seal = reg.seal_of(reg.rounds()["round_id"].iloc[-1])[:16]
    capsys.readouterr()
    assert main(["register", "check", "--register", url]) == 0
    assert f"最后的封存 {seal}" in capsys.readouterr().out


def test_reveal_pii_is_recorded_in_the_round(story, capsys):
    url = str(story["tmp"] / "register.sqlite")
    assert relief(story, "d1", "2025-06-30", 4, url, "r1.csv", "--record", "--reveal-pii") == 0
    assert "--reveal-pii" in capsys.readouterr().err
    options = json.loads(R.open_register(url).rounds()["options_json"].iloc[0])
    assert options["reveal_pii"] is True
