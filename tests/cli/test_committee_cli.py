"""The committee's procedure through the commands, on the sample (rulebook §6): ``relief
--meeting --record`` proposes, the committee fills the workbook in, ``decide`` records its
decisions, ``notice`` posts them, ``object`` records an objection that is upheld, ``approve``
closes the round and the next ``review`` starts from the approved list; on an SQLite file and
on PostgreSQL. Then every bad workbook ``decide`` refuses, naming the cell, with nothing
recorded.

The sample as of 2025-11-16 with a quota of 40: 169 households receive relief and continue (more
than the quota, so nobody new is proposed); 57 eligible households wait.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fpanalysis import register as R
from fpanalysis.cli import build_parser, main
from fpanalysis.core import config
from fpanalysis.core.errors import FPError
from fpanalysis.core.privacy import find_names, find_unmasked_ids

SAMPLE = config.SAMPLE_DIR
PROPOSAL = "relief-2025-11-16-0001"
DECIDED = "relief-2025-11-16-0002"
APPROVED = "relief-2025-11-16-0003"
IMAGE = config.PROJ_ROOT / "docs" / "img" / "notice.png"


def head_names() -> list[str]:
    hh = pd.read_csv(SAMPLE / "households.csv", dtype=str, encoding="utf-8-sig")
    return list(hh["head_name"].dropna())


def propose(tmp: Path, url: str) -> Path:
    """``relief --quota 40 --meeting m.xlsx --record``: the proposal and its workbook."""
    meeting = tmp / "m.xlsx"
    argv = ["relief", str(SAMPLE), "--quota", "40", "--meeting", str(meeting), "--record"]
    argv += ["--register", url, "--out", str(tmp / "r.csv")]
    assert main(argv) == 0
    return meeting


def rows_by_household(ws) -> tuple[dict[str, int], dict[str, int]]:
    """``({header: column}, {household id: row})`` of a list sheet."""
    cols = {c.value: c.column for c in ws[2]}
    rows = {ws.cell(row=r, column=cols["户编号"]).value: r for r in range(3, ws.max_row + 1)}
    return cols, rows


def fill(path: Path, marks) -> None:
    """Fill decisions in as the committee would: ``(sheet, household, decision, reason, tier)``."""
    wb = openpyxl.load_workbook(path)
    for sheet, hid, decision, reason, tier in marks:
        ws = wb[sheet]
        cols, rows = rows_by_household(ws)
        r = rows[hid]
        ws.cell(row=r, column=cols["评议意见"], value=decision)
        ws.cell(row=r, column=cols["评议理由"], value=reason)
        if tier is not None:
            ws.cell(row=r, column=cols["调整后档次"], value=tier)
    wb.save(path)


def listed(path: Path, sheet: str) -> list[str]:
    ws = openpyxl.load_workbook(path)[sheet]
    cols, rows = rows_by_household(ws)
    return sorted(rows, key=rows.get)


def run(argv: list[str]):
    """Run a command's ``run`` directly: an error comes back as the FPError itself."""
    args = build_parser().parse_args(argv)
    return args._run(args)


def test_the_procedure_end_to_end(tmp_path, register_url, capsys):
    meeting = propose(tmp_path, register_url)
    out = capsys.readouterr().out
    assert f"轮次 {PROPOSAL}" in out and "fpanalysis decide" in out
    selected, waiting = listed(meeting, "拟纳入名单"), listed(meeting, "候补名单")
    assert len(selected) == 169 and len(waiting) == 57
    rejected, changed, admitted = selected[0], selected[1], waiting[3]
    reg = R.open_register(register_url)
    proposal = reg.relief_rows(PROPOSAL).set_index("household_id")
    old_tier = int(proposal.loc[changed, "tier"])
    new_tier = 2 if old_tier == 1 else 1
    fill(
        meeting,
        [
            ("拟纳入名单", rejected, "不同意", "入户调查发现有未申报的经营收入", None),
            ("拟纳入名单", changed, "调整档次", "家庭成员重病，医疗支出大", new_tier),
            ("候补名单", admitted, "补充纳入", "户主突发重病，情况紧急", None),
        ],
    )

    # 168 continuing households still fill the quota of 40: one admission is over it.
    decide = ["decide", str(meeting), "--round", PROPOSAL, "--register", register_url]
    assert main(decide) == 1
    err = capsys.readouterr().err
    assert "决定新纳入 1 户，超过名额：名额 40 户，继续保障 168 户先占，剩余 0 个名额" in err
    assert len(reg.rounds()) == 1
    assert main([*decide, "--over-quota", "--reason", "评议会一致同意"]) == 0
    out = capsys.readouterr().out
    assert f"轮次 {DECIDED}（评议结果，取代方案 {PROPOSAL}）" in out
    assert "同意 223，不同意 1，调整档次 1，补充纳入 1" in out
    passed_over = waiting[:3]
    assert f"{admitted}（第 {int(proposal.loc[admitted, 'rank'])} 名）：补充纳入，越过 " in out
    assert "、".join(passed_over) in out

    rounds = reg.rounds("relief").set_index("round_id")
    assert rounds.loc[DECIDED, "supersedes"] == PROPOSAL
    assert rounds.loc[DECIDED, "stage"] == "decided"
    assert '"over_quota_reason": "评议会一致同意"' in rounds.loc[DECIDED, "options_json"]
    dec = reg.decisions(DECIDED).set_index("household_id")
    assert dec.loc[rejected, ["decision", "proposed_selected", "decided_selected"]].tolist() == [
        "reject",
        True,
        False,
    ]
    assert dec.loc[changed, ["proposed_tier", "decided_tier"]].tolist() == [old_tier, new_tier]
    assert dec.loc[admitted, "passes_over"] == " ".join(passed_over)
    # history shows the proposal and the decision
    hist = tmp_path / "h.csv"
    assert main(["history", admitted, "--register", register_url, "--out", str(hist)]) == 0
    h = pd.read_csv(hist, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert h["轮次编号"].tolist() == [PROPOSAL, DECIDED]
    assert h["拟纳入"].tolist() == ["否", "是"] and h["阶段"].tolist() == ["拟定", "已评议"]
    assert h["评议意见"].tolist() == ["", "补充纳入"]
    assert h["评议理由"].tolist() == ["", "户主突发重病，情况紧急"]
    capsys.readouterr()

    # the notice: before it is recorded the round cannot be approved, nor objected to
    approve = ["approve", "--round", DECIDED, "--register", register_url, "--by", "王主任"]
    with pytest.raises(R.ProcedureError, match="has not been posted"):
        run([*approve, "--date", "2025-11-30"])
    notice = tmp_path / "notice.html"
    where = "城关镇人民政府民政办"
    argv = ["notice", "--round", DECIDED, "--register", register_url, "--out", str(notice)]
    assert main([*argv, "--from", "2025-11-20", "--where", where]) == 0
    out = capsys.readouterr().out
    assert "新纳入 1 户，继续保障 167 户，档次变更 1 户" in out
    assert "公示期 2025-11-20 至 2025-11-26（7 天）" in out and "2025-11-27 起可审批" in out
    text = notice.read_text(encoding="utf-8")
    assert "最低生活保障民主评议结果公示" in text and where in text
    assert "公示期自 2025 年 11 月 20 日至 2025 年 11 月 26 日，共 7 天" in text
    check_notice_text(text, admitted)
    for suffix in (".xlsx", ".pdf"):
        if suffix == ".pdf" and not pdf_tools():
            continue
        assert main([*argv[:-1], str(tmp_path / f"notice{suffix}")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "notice.xlsx")
    cells = "\n".join(str(c.value) for row in wb.active.iter_rows() for c in row if c.value)
    check_notice_text(cells, admitted)
    if pdf_tools():
        check_pdf(tmp_path / "notice.pdf", admitted)
        again = tmp_path / "notice-again.pdf"
        assert main([*argv[:-1], str(again)]) == 0
        assert again.read_bytes() == (tmp_path / "notice.pdf").read_bytes()  # a reprint: same bytes
    assert len(reg.notices(DECIDED)) == 1  # printing again records nothing
    capsys.readouterr()

    # an objection, the ordering rules, then upheld
    with pytest.raises(R.ProcedureError, match="before the notice's first day"):
        run(["object", "--round", DECIDED, "--register", register_url, "--household", admitted,
             "--date", "2025-11-19", "--text", "群众反映该户有营运车辆"])  # fmt: skip
    obj = ["object", "--round", DECIDED, "--register", register_url]
    raise_it = ["--household", admitted, "--date", "2025-11-21", "--text", "群众反映有营运车辆"]
    assert main([*obj, *raise_it]) == 0
    assert f"异议 O001（户 {admitted}）已记入登记簿：未办结" in capsys.readouterr().out
    with pytest.raises(R.ProcedureError, match="not over: approval from 2025-11-27"):
        run([*approve, "--date", "2025-11-26"])
    with pytest.raises(R.ProcedureError, match="objections still open: O001"):
        run([*approve, "--date", "2025-11-27"])
    close_it = ["--close", "O001", "--date", "2025-11-25", "--upheld", "经核实有营运车辆"]
    assert main([*obj, *close_it]) == 0
    with pytest.raises(R.ProcedureError, match="already closed"):
        run([*obj, "--close", "O001", "--date", "2025-11-26", "--rejected", "x"])
    capsys.readouterr()
    assert main([*approve, "--date", "2025-11-27"]) == 0
    out = capsys.readouterr().out
    assert f"最终名单记为轮次 {APPROVED}" in out and "王**" in out and "王主任" not in out
    assert "纳入 168 户" in out and "成立撤销 1 户" in out
    with pytest.raises(R.ProcedureError, match="already approved"):
        run([*approve, "--date", "2025-11-28"])
    appr = reg.approvals()
    assert appr[["round_id", "decided_round_id", "approved_by"]].values.tolist() == [
        [APPROVED, DECIDED, "王主任"]
    ]
    proc = reg.procedure(PROPOSAL)
    assert (proc["stage"], proc["proposal"], proc["decided"], proc["approved"]) == (
        "approved",
        PROPOSAL,
        DECIDED,
        APPROVED,
    )
    assert sorted(proc["departures"]["household_id"]) == sorted([rejected, changed, admitted])

    # the next round's review starts from the approved list
    rev = tmp_path / "rev.csv"
    argv = ["review", str(SAMPLE), "--as-of", "2025-12-31", "--register", register_url]
    assert main([*argv, "--out", str(rev), "--lang", "en"]) == 0
    assert f"before: register round {APPROVED}" in capsys.readouterr().err
    r = pd.read_csv(rev, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    r = r.set_index("household_id")
    assert r.loc[rejected, "previously_selected"] == "False"
    assert r.loc[admitted, "previously_selected"] == "False"  # the objection was upheld
    assert r.loc[changed, "previous_tier"] == str(new_tier)
    assert (r["previously_selected"] == "True").sum() == 168

    # a later proposal does not displace the approved round as "the last recorded round"
    argv = ["relief", str(SAMPLE), "--as-of", "2025-12-31", "--record", "--register"]
    assert main([*argv, register_url, "--out", str(tmp_path / "r2.csv")]) == 0
    assert reg.last_round("relief")["round_id"] == APPROVED
    assert reg.rounds("relief")["stage"].tolist() == ["proposed", "noticed", "approved", "proposed"]
    reg.close()


def check_notice_text(text: str, admitted: str) -> None:
    """Only what a notice may show: masked names, no ID numbers, no incomes."""
    assert find_unmasked_ids(text) == []
    assert find_names(text, head_names()) == []
    assert "收入" not in text and "income" not in text.lower()
    hh = pd.read_csv(SAMPLE / "households.csv", dtype=str, encoding="utf-8-sig")
    name = hh.set_index("household_id").loc[admitted, "head_name"]
    shown = name[0] + "*" * (len(name) - 2) + name[-1] if len(name) > 2 else name[0] + "*"
    assert shown in text
    for idn in hh["head_id_number"].dropna():
        assert idn[-8:] not in text


def pdf_tools() -> bool:
    from fpanalysis.io.notice import chromium_path

    ok = chromium_path() is not None and shutil.which("pdftoppm") and shutil.which("pdffonts")
    if not ok and os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium and poppler-utils are needed for the notice's PDF (CI=true)")
    return bool(ok)


def check_pdf(pdf: Path, admitted: str) -> None:
    """A4, the CJK fonts embedded, the text a notice may show; the first page as PNG."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    lines = fonts.stdout.splitlines()[2:]
    assert lines and all(re.search(r"\byes\b", line) for line in lines)  # every font embedded
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "最低生活保障民主评议结果公示" in text
    check_notice_text(text, admitted)
    png = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
        check=True,
    )
    image = png.with_suffix(".png")
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01
    if os.environ.get("FPANALYSIS_UPDATE_IMAGES"):
        IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, IMAGE)
    assert IMAGE.is_file()  # docs/img/notice.png: this page, committed


def test_pdf_without_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FPANALYSIS_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(FPError) as e:
        run(["notice", "--round", DECIDED, "--register", str(tmp_path / "r.sqlite"), "--out",
             str(tmp_path / "n.pdf")])  # fmt: skip
    assert e.value.rule == "chromium-missing"
    assert e.value.message_zh.startswith("找不到 Chromium")
    assert "Chromium (/usr/bin/chromium) is not installed" in e.value.message_en
    assert not (tmp_path / "n.pdf").exists() and not (tmp_path / "r.sqlite").exists()


# --------------------------------------------------------------------------- bad workbooks


@pytest.fixture(scope="module")
def proposed(tmp_path_factory):
    """One proposal on SQLite and its untouched workbook, shared by the bad-input cases."""
    tmp = tmp_path_factory.mktemp("proposal")
    url = str(tmp / "register.sqlite")
    meeting = propose(tmp, url)
    return {"url": url, "meeting": meeting}


def _set(sheet, cell, value):
    def edit(wb, lists):
        wb[sheet][cell] = value

    return edit


def _mark(sheet, index, decision, reason, tier=None):
    """Fill the decision of the ``index``-th household of a list (its row is 3 + index)."""

    def edit(wb, lists):
        ws = wb[sheet]
        cols, _ = rows_by_household(ws)
        r = 3 + index
        ws.cell(row=r, column=cols["评议意见"], value=decision)
        ws.cell(row=r, column=cols["评议理由"], value=reason)
        if tier is not None:
            ws.cell(row=r, column=cols["调整后档次"], value=tier)

    return edit


def _append_household(wb, lists):
    ws = wb["候补名单"]
    cols, _ = rows_by_household(ws)
    r = ws.max_row + 1
    ws.cell(row=r, column=cols["户编号"], value="H9999")
    ws.cell(row=r, column=cols["评议意见"], value="补充纳入")
    ws.cell(row=r, column=cols["评议理由"], value="补报")


BAD = [
    pytest.param(
        None,
        ["--round", "relief-2025-11-16-0009"],
        "round-mismatch",
        "工作表“轮次”单元格 C2：这份会议表属于轮次 relief-2025-11-16-0001，"
        "不是 relief-2025-11-16-0009",
        "sheet '轮次' cell C2: this meeting workbook is of round relief-2025-11-16-0001, "
        "not relief-2025-11-16-0009",
        id="workbook-of-another-round",
    ),
    pytest.param(
        _set("拟纳入名单", "K5", 1),
        [],
        "protected-cell",
        "工作表“拟纳入名单”单元格 K5：受保护的单元格被改动：方案为“",
        "sheet '拟纳入名单' cell K5: a protected cell was edited: the proposal has",
        id="edited-amount",
    ),
    pytest.param(
        _set("轮次", "C3", "0" * 64),
        [],
        "proposal-digest",
        "工作表“轮次”单元格 C3：会议表中的方案摘要与登记簿中该轮的方案不符",
        "sheet '轮次' cell C3: the workbook's proposal hash does not match",
        id="edited-proposal-hash",
    ),
    pytest.param(
        _mark("拟纳入名单", 2, "同意吧", None),
        [],
        "decision-value",
        "工作表“拟纳入名单”单元格 O5：评议意见“同意吧”不是可选值"
        "（同意、不同意、调整档次；留空视为同意）",
        "sheet '拟纳入名单' cell O5: the decision '同意吧' is not one of: confirm, reject, "
        "change tier (blank = confirm)",
        id="unknown-decision",
    ),
    pytest.param(
        _mark("拟纳入名单", 0, "不同意", "  "),
        [],
        "reason-required",
        "工作表“拟纳入名单”单元格 P3：“不同意”须填写评议理由",
        "sheet '拟纳入名单' cell P3: 'reject' needs the committee's reason",
        id="reject-without-reason",
    ),
    pytest.param(
        _mark("候补名单", 1, "补充纳入", None),
        ["--over-quota", "--reason", "一致同意"],
        "reason-required",
        "工作表“候补名单”单元格 O4：“补充纳入”须填写评议理由",
        "sheet '候补名单' cell O4: 'admit' needs the committee's reason",
        id="admission-without-reason",
    ),
    pytest.param(
        _mark("拟纳入名单", 1, "调整档次", "支出大"),
        [],
        "decided-tier",
        "工作表“拟纳入名单”单元格 Q4：“调整档次”须填写调整后的档次（1 至 3 的整数）",
        "sheet '拟纳入名单' cell Q4: 'change tier' needs the decided tier (a whole number 1 to 3)",
        id="change-tier-without-tier",
    ),
    pytest.param(
        _mark("拟纳入名单", 1, "同意", None, 2),
        [],
        "decided-tier",
        "工作表“拟纳入名单”单元格 Q4：只有“调整档次”才填写调整后的档次",
        "sheet '拟纳入名单' cell Q4: a decided tier goes only with 'change tier'",
        id="tier-without-change",
    ),
    pytest.param(
        _mark("拟纳入名单", 0, "补充纳入", "重病"),
        [],
        "decision-list",
        "工作表“拟纳入名单”单元格 O3：这份名单不能选“补充纳入”（可选：同意、不同意、调整档次）",
        "sheet '拟纳入名单' cell O3: 'admit' is not a decision this list offers",
        id="admission-on-the-selected-list",
    ),
    pytest.param(
        _mark("拟纳入名单", 0, "不同意", "身份证 110105198001010016 有误"),
        [],
        "id-number-in-text",
        "工作表“拟纳入名单”单元格 P3：评议理由中不能写身份证号",
        "sheet '拟纳入名单' cell P3: a reason must not hold an ID number",
        id="id-number-in-reason",
    ),
    pytest.param(
        _append_household,
        ["--over-quota", "--reason", "一致同意"],
        "household-not-in-round",
        "工作表“候补名单”单元格 B60：户 H9999 不在本轮（relief-2025-11-16-0001）中",
        "sheet '候补名单' cell B60: household H9999 is not in this round (relief-2025-11-16-0001)",
        id="household-not-in-the-round",
    ),
    pytest.param(
        _mark("候补名单", 0, "补充纳入", "重病"),
        [],
        "over-quota",
        "资金池 城乡合并：决定新纳入 1 户，超过名额：名额 40 户，"
        "继续保障 169 户先占，剩余 0 个名额",
        "pool all: 1 newcomer decided, over the quota of 40: 169 continuing first, 0 places left",
        id="over-the-quota",
    ),
]


@pytest.mark.parametrize(("edit", "extra", "rule", "zh", "en"), BAD)
def test_decide_refuses_a_bad_workbook(proposed, tmp_path, edit, extra, rule, zh, en):
    meeting = tmp_path / "m.xlsx"
    shutil.copyfile(proposed["meeting"], meeting)
    if edit is not None:
        wb = openpyxl.load_workbook(meeting)
        edit(wb, None)
        wb.save(meeting)
    url = proposed["url"]
    before = hashlib.sha256(Path(url).read_bytes()).hexdigest()
    argv = ["decide", str(meeting), "--register", url, *extra]
    if "--round" not in extra:
        argv += ["--round", PROPOSAL]
    with pytest.raises(FPError) as e:
        run(argv)
    err = e.value
    assert err.rule == rule
    assert err.message_zh.startswith(zh), err.message_zh
    assert en in err.message_en, err.message_en
    assert "未记入登记簿" in err.message_zh and "nothing was recorded" in err.message_en
    assert err.exit_code == 1
    assert hashlib.sha256(Path(url).read_bytes()).hexdigest() == before  # nothing recorded


def test_a_blank_workbook_confirms_the_proposal(proposed, tmp_path, capsys):
    """Blank decisions confirm: the decided round holds the proposal's list."""
    url = tmp_path / "register.sqlite"
    shutil.copyfile(proposed["url"], url)
    meeting = proposed["meeting"]
    assert main(["decide", str(meeting), "--round", PROPOSAL, "--register", str(url)]) == 0
    assert "同意 226，不同意 0，调整档次 0，补充纳入 0" in capsys.readouterr().out
    reg = R.open_register(url)
    a, b = reg.relief_rows(PROPOSAL), reg.relief_rows(DECIDED)
    assert a["selected"].tolist() == b["selected"].tolist()
    assert reg.last_round("relief")["round_id"] == DECIDED
    # a proposal is decided once
    with pytest.raises(R.ProcedureError, match="not a proposal awaiting decision"):
        run(["decide", str(meeting), "--round", PROPOSAL, "--register", str(url)])
    reg.close()
