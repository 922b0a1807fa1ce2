"""The committee's commands and ``explain`` under the write guard and the masking of personal
information (rulebook §6, §7): on a copy of the sample whose households are numbered by their
head's ID number, ``relief --meeting --record``, ``decide``, ``notice``, ``object`` and
``approve`` store keyed hashes, print and write masked numbers, and keep the chain of seals
whole; every output they write is refused where it would overwrite an input or the committee's
own filled-in workbook, with nothing written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cmdruns
import openpyxl
import pytest
import sqlalchemy as sa

from fpanalysis import register as R
from fpanalysis.cli import build_parser, main
from fpanalysis.core.errors import FPError
from fpanalysis.core.privacy import find_unmasked_ids


def run(argv: list[str]):
    """Run a command's ``run`` directly: an error comes back as the FPError itself."""
    args = build_parser().parse_args(argv)
    return args._run(args)


@pytest.fixture(scope="module")
def proposed(tmp_path_factory):
    """The ID-numbered copy, its recorded proposal and meeting workbook (never edited)."""
    root = tmp_path_factory.mktemp("pii_round")
    ids = cmdruns.make_pii_dataset(root / "ds")
    reg, meeting = root / "register.sqlite", root / "m.xlsx"
    argv = ["relief", str(root / "ds"), "--quota", "40", "--meeting", str(meeting)]
    assert main([*argv, "--record", "--register", str(reg), "--out", str(root / "r.csv")]) == 0
    rid = R.open_register(str(reg)).rounds("relief")["round_id"].iloc[-1]
    return root, rid, set(ids["keys"].split(";"))


@pytest.fixture
def work(proposed, tmp_path):
    """A copy of the proposal's folder to take through the procedure."""
    root, rid, keys = proposed
    shutil.copytree(root, tmp_path / "w")
    return tmp_path / "w", rid, keys


def _fill_first(meeting: Path, decision: str, reason: str) -> tuple[str, str, bool]:
    """Mark the first household of the selected list; return the household the workbook shows,
    the register's key beside it and whether that key's column is hidden."""
    wb = openpyxl.load_workbook(meeting)
    ws = wb["拟纳入名单"]
    cols = {c.value: c.column for c in ws[2]}
    shown = ws.cell(row=3, column=cols["户编号"]).value
    key = ws.cell(row=3, column=cols["登记簿户键"])
    hidden = ws.column_dimensions[key.column_letter].hidden
    ws.cell(row=3, column=cols["评议意见"], value=decision)
    ws.cell(row=3, column=cols["评议理由"], value=reason)
    wb.save(meeting)
    return shown, key.value, hidden


def _dump(path: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        text = "\n".join(
            str(v)
            for name in R.REGISTER_TABLES
            for row in conn.exec_driver_sql(f"SELECT * FROM {name}")
            for v in row
        )
    engine.dispose()
    return text


def test_the_procedure_on_households_numbered_by_id_numbers(work, capsys):
    folder, rid, keys = work
    reg_path, meeting = folder / "register.sqlite", folder / "m.xlsx"
    reg = ["--register", str(reg_path)]
    shown, key, hidden = _fill_first(meeting, "不同意", "入户调查发现有未申报的经营收入")
    # the committee reads the number masked, as every output shows it; the register's key
    # (never the number) is beside it in a hidden column, for decide to read back
    assert shown[6:14] == "********" and find_unmasked_ids(shown) == []
    assert [k for k in keys if k[:6] + "********" + k[-4:] == shown]
    assert key.startswith("id#") and hidden
    capsys.readouterr()
    assert main(["decide", str(meeting), "--round", rid, *reg]) == 0
    said = capsys.readouterr()
    # the secretary's console names the rejected household as the workbook did, not by hash
    assert f"  {shown}（第 " in said.out and "id#" not in said.out + said.err
    decided = R.open_register(str(reg_path)).rounds("relief")["round_id"].iloc[-1]
    notice = folder / "notice.html"
    argv = ["notice", "--round", decided, *reg, "--out", str(notice)]
    assert main([*argv, "--from", "2025-11-20", "--where", "民政办"]) == 0
    html = notice.read_text(encoding="utf-8")
    assert "*" in html  # the heads' names found through the keys, shown masked
    household = sorted(keys)[0]
    obj = ["object", "--round", decided, *reg, "--household", household, "--date", "2025-11-21"]
    assert main([*obj, "--text", "群众反映", "--rejected", "经核实无此情况"]) == 0
    assert (
        main(["approve", "--round", decided, *reg, "--by", "王主任", "--date", "2025-11-27"]) == 0
    )
    out = capsys.readouterr()
    logs = said.out + said.err + out.out + out.err
    for text, where in ((logs, "the console"), (html, "the notice"), (_dump(reg_path), "register")):
        assert find_unmasked_ids(text) == [], where
        assert not [k for k in keys if k in text], where
    assert household[:6] + "********" + household[-4:] in logs  # the objection, masked
    r = R.open_register(str(reg_path))
    assert r.decisions(decided)["household_id"].str.startswith("id#").all()
    # the household marked in the workbook is the one the register records as rejected
    rejected = r.decisions(decided).query("decision == 'reject'")["household_id"]
    assert rejected.tolist() == [key]
    assert r.objections(decided)["household_id"].str.startswith("id#").all()
    found = r.check_seals()
    assert found.ok, [p.message_en for p in found.problems]
    assert main(["register", "check", *reg]) == 0


def test_explain_masks_a_household_numbered_by_its_id(proposed, capsys):
    root, _, keys = proposed
    household = sorted(keys)[0]
    assert main(["explain", "household", household, str(root / "ds"), "--quota", "40"]) == 0
    out = capsys.readouterr().out
    assert household not in out and household[:6] + "********" + household[-4:] in out


def _notice_onto_meeting(folder: Path, rid: str) -> tuple[list[str], Path]:
    _fill_first(folder / "m.xlsx", "同意", "")
    reg = ["--register", str(folder / "register.sqlite")]
    assert main(["decide", str(folder / "m.xlsx"), "--round", rid, *reg]) == 0
    decided = R.open_register(str(folder / "register.sqlite")).rounds("relief")["round_id"]
    argv = ["notice", "--round", decided.iloc[-1], *reg, "--from", "2025-11-20"]
    return [*argv, "--out", str(folder / "m.xlsx")], folder / "m.xlsx"


def _notice_into_dataset(folder: Path, rid: str) -> tuple[list[str], Path]:
    _fill_first(folder / "m.xlsx", "同意", "")
    reg = ["--register", str(folder / "register.sqlite")]
    assert main(["decide", str(folder / "m.xlsx"), "--round", rid, *reg]) == 0
    decided = R.open_register(str(folder / "register.sqlite")).rounds("relief")["round_id"]
    target = folder / "ds" / "notice.html"
    argv = ["notice", "--round", decided.iloc[-1], *reg, "--dataset", str(folder / "ds")]
    assert not target.exists()
    return [*argv, "--out", str(target)], folder / "ds" / "households.csv"


def _notice_through_a_link(folder: Path, rid: str) -> tuple[list[str], Path]:
    argv, _ = _notice_into_dataset(folder, rid)
    link = folder / "notice.html"  # outside the dataset, its target inside
    link.symlink_to(folder / "ds" / "households.csv")
    return [*argv[:-1], str(link)], folder / "ds" / "households.csv"


def _decide_into_its_workbook(folder: Path, rid: str) -> tuple[list[str], Path]:
    meeting = folder / "m.xlsx"
    return ["decide", str(meeting), "--round", rid, "--register", str(meeting)], meeting


@pytest.mark.parametrize(
    ("setup", "rule", "says"),
    [
        pytest.param(
            _notice_onto_meeting,
            "output-not-ours",
            "is not a workbook fpanalysis wrote",
            id="notice-out-onto-the-filled-meeting-workbook",
        ),
        pytest.param(
            _notice_into_dataset,
            "output-is-input",
            "an output never overwrites an input",
            id="notice-out-inside-the-rounds-dataset",
        ),
        pytest.param(
            _notice_through_a_link,
            "output-is-input",
            "an output never overwrites an input",
            id="notice-out-a-link-to-a-dataset-file",
        ),
        pytest.param(
            _decide_into_its_workbook,
            "output-is-input",
            "an output never overwrites an input",
            id="decide-register-is-the-meeting-workbook",
        ),
    ],
)
def test_committee_outputs_are_guarded(work, setup, rule, says):
    folder, rid, _ = work
    argv, kept = setup(folder, rid)
    before = kept.read_bytes()
    n_rounds = len(R.open_register(str(folder / "register.sqlite")).rounds())
    with pytest.raises(FPError) as e:
        run(argv)
    assert e.value.rule == rule
    assert says in str(e.value)
    assert kept.read_bytes() == before  # nothing written over it
    assert not (folder / "ds" / "notice.html").exists()
    assert len(R.open_register(str(folder / "register.sqlite")).rounds()) == n_rounds


def test_decide_names_households_in_its_problems_as_the_workbook_showed_them():
    from fpanalysis.cli.decide import _as_shown
    from fpanalysis.rules.relief import Problem

    known, unknown = "id#" + "a" * 24, "id#" + "b" * 24
    shown = {known: "110105********002X"}
    found = _as_shown(
        [
            Problem(f"户 {known} 重复列出", f"household {known} is listed twice", "x", known),
            Problem(f"缺少本轮方案中的 1 户：{unknown}", f"missing: {unknown}", "y", unknown),
        ],
        shown,
    )
    assert [(p.message_zh, p.value) for p in found] == [
        ("户 110105********002X 重复列出", "110105********002X"),
        (f"缺少本轮方案中的 1 户：{unknown}", unknown),  # not in the workbook: its key
    ]
    assert found[0].message_en == "household 110105********002X is listed twice"


def _without_a_selected_household(src: Path, dst: Path, listed: Path) -> str:
    """A copy of ``src`` without the first household the round ``listed`` selected; returns its
    number masked, as the round's table shows it."""
    import pandas as pd

    shutil.copytree(src, dst)
    (dst / ".fpanalysis.json").unlink(missing_ok=True)
    read = lambda name: pd.read_csv(dst / name, dtype=str, keep_default_na=False)  # noqa: E731
    r = pd.read_csv(listed, dtype=str, keep_default_na=False)
    masked = r.loc[r["拟纳入"].eq("是"), "户编号"].iloc[0]
    hh, members = read("households.csv"), read("household_members.csv")
    gone = [h for h in hh["household_id"] if h[:6] == masked[:6] and h[-4:] == masked[-4:]]
    assert len(gone) == 1
    hh[hh["household_id"] != gone[0]].to_csv(dst / "households.csv", index=False)
    members[members["household_id"] != gone[0]].to_csv(dst / "household_members.csv", index=False)
    return masked


def test_review_names_a_household_that_left_by_its_number_masked(proposed, tmp_path, capsys):
    """An exit is named by the number the previous round's dataset gives it, masked (rulebook
    §7), not by the register's hash."""
    root, _, _ = proposed
    masked = _without_a_selected_household(root / "ds", tmp_path / "now", root / "r.csv")
    out = tmp_path / "rev.csv"
    argv = ["review", str(tmp_path / "now"), "--register", str(root / "register.sqlite")]
    assert main([*argv, "--as-of", "2025-12-31", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    exits = [line for line in text.splitlines() if ",退出," in line]
    assert len(exits) == 1 and exits[0].startswith(masked + ",")
    assert "id#" not in text and find_unmasked_ids(text) == []


def test_review_keeps_the_key_when_the_previous_dataset_has_changed(tmp_path, capsys):
    ids = cmdruns.make_pii_dataset(tmp_path / "then")
    reg = ["--register", str(tmp_path / "register.sqlite")]
    argv = ["relief", str(tmp_path / "then"), "--quota", "40", "--record", *reg]
    assert main([*argv, "--out", str(tmp_path / "r.csv")]) == 0
    _without_a_selected_household(tmp_path / "then", tmp_path / "now", tmp_path / "r.csv")
    # the previous dataset edited since the round read it
    with (tmp_path / "then" / "households.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    capsys.readouterr()
    out = tmp_path / "rev.csv"
    argv = ["review", str(tmp_path / "now"), *reg, "--as-of", "2025-12-31", "--lang", "en"]
    assert main([*argv, "--out", str(out)]) == 0
    exits = [line for line in out.read_text(encoding="utf-8-sig").splitlines() if ",exit," in line]
    assert len(exits) == 1 and exits[0].startswith("id#")  # nothing else to name it by
    err = capsys.readouterr().err
    assert "note: households no longer listed are shown by their key: the previous round's " in err
    assert "no longer holds the households.csv that round read (its SHA-256 differs)" in err
    assert not [k for k in ids["keys"].split(";") if k in out.read_text(encoding="utf-8-sig")]


@pytest.mark.notebook
@pytest.mark.slow
def test_the_relief_notebook_reads_id_numbered_households_against_the_register(proposed, tmp_path):
    """notebooks/03 with ``register``: this period's households are matched with the register's
    (their ids given back), and the one that left is named by its number masked."""
    import html
    import json

    from nbrun import outputs_text, run_notebook

    from fpanalysis.core import config

    root, _, _ = proposed
    masked = _without_a_selected_household(root / "ds", tmp_path / "now", root / "r.csv")
    nb = run_notebook(
        config.NOTEBOOKS_DIR / "03_relief_ranking.ipynb",
        tmp_path,
        dataset=str(tmp_path / "now"),
        as_of="2025-12-31",
        quota=40,
        lang="en",
        register=str(root / "register.sqlite"),
    )
    text = html.unescape(outputs_text(nb))
    assert '"output_type": "error"' not in text
    assert "id#" not in text and find_unmasked_ids(text) == []
    cell = next(c for c in nb.cells if c.cell_type == "code" and "previous_selection(" in c.source)
    out = html.unescape(json.dumps(cell.outputs, ensure_ascii=False))
    assert f"<td>{masked}</td>" in out
