"""The relief meeting workbook (rulebook §6, §7): formatted, masked, the same bytes on a rerun."""

from __future__ import annotations

import openpyxl
import pytest

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.rules.relief import rank_households


def round_of(households, **limits):
    """A round as of 2025-06-30 of one-person urban households ``(id, income, head name)``."""
    hh = coerce(
        "households",
        [
            {
                "household_id": hid,
                "head_name": name,
                "area": "urban",
                "township": "城关镇",
                "size": 1,
                "monthly_income": income,
                "application_date": "2025-01-01",
            }
            for hid, income, name in households
        ],
    )
    mm = coerce(
        "household_members",
        [
            {"member_id": f"{hid}-1", "household_id": hid, "relation": "head", "sex": "M"}
            for hid, _, _ in households
        ],
    )
    tables = {"households": hh, "household_members": mm}
    return rank_households(tables, load_params(), "2025-06-30", **limits)


def test_meeting_workbook_is_formatted_masked_and_reproducible(tmp_path):
    r = round_of([("A", 100.0, "张三丰"), ("B", 200.0, "李四"), ("C", 900.0, "王某某")], quota=1)
    a = export_meeting_xlsx(r, tmp_path / "a.xlsx")
    b = export_meeting_xlsx(r, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    ws = openpyxl.load_workbook(a).active
    assert "低保拟纳入名单" in ws["A1"].value and "名额 1" in ws["A1"].value
    assert ws.freeze_panes == "A3"
    assert ws["A2"].font.bold
    values = [c.value for c in ws[3]]
    assert "A" in values and "张**" in values and "张三丰" not in values
    assert ws.max_row == 3  # title, header, one selected household


def test_meeting_workbook_must_be_xlsx(tmp_path):
    r = round_of([("A", 100.0, "张三丰")])
    with pytest.raises(UsageError, match="must be an .xlsx file"):
        export_meeting_xlsx(r, tmp_path / "m.csv")
    assert not (tmp_path / "m.csv").exists()


def _cells(ws, header: str):
    """The column's cells below the header row, and whether the column is hidden."""
    col = next(c for c in ws[2] if c.value == header)
    cells = [ws.cell(row=r, column=col.column).value for r in range(3, ws.max_row + 1)]
    return cells, bool(ws.column_dimensions[col.column_letter].hidden)


def test_a_recorded_meeting_list_shows_id_numbers_masked_and_keeps_the_key_hidden(tmp_path):
    """Rulebook §6, §7: households numbered by an ID number are shown as every output shows
    them; the register's key of each is in a hidden column, and is what is read back."""
    from fpanalysis.io.meeting import read_meeting_workbook
    from fpanalysis.register.keys import protect

    ids = ("11010519491231002X", "H2")  # one numbered by its head's ID number, one not
    r = round_of([(ids[0], 100.0, "张三丰"), (ids[1], 200.0, "李四")], quota=2)
    keys = {h: protect(h, bytes(32)) for h in ids}
    assert keys["H2"] == "H2" and keys[ids[0]].startswith("id#")
    path = export_meeting_xlsx(r, tmp_path / "m.xlsx", round_id="R1", keys=keys)
    wb = openpyxl.load_workbook(path)
    ws = wb["拟纳入名单"]
    shown, shown_hidden = _cells(ws, "户编号")
    stored, stored_hidden = _cells(ws, "登记簿户键")
    assert shown == ["110105********002X", "H2"] and not shown_hidden
    assert stored == [keys[ids[0]], "H2"] and stored_hidden
    decision = next(c for c in ws[2] if c.value == "评议意见").column
    ws.cell(row=3, column=decision, value="同意")
    wb.save(path)
    marks = read_meeting_workbook(path).marks
    assert marks["household_id"].tolist() == [keys[ids[0]], "H2"]
    assert marks["decision"].fillna("").tolist() == ["同意", ""]
    letter = next(c for c in ws[2] if c.value == "户编号").column_letter
    # a problem names the cell the committee reads, not the hidden one
    assert marks["household_cell"].tolist() == [f"{letter}3", f"{letter}4"]


def test_a_meeting_list_whose_ids_are_their_own_keys_has_no_key_column(tmp_path):
    r = round_of([("H1", 100.0, "张三丰"), ("H2", 200.0, "李四")], quota=2)
    path = export_meeting_xlsx(r, tmp_path / "m.xlsx", round_id="R1", keys={"H1": "H1", "H2": "H2"})
    ws = openpyxl.load_workbook(path)["拟纳入名单"]
    headers = [c.value for c in ws[2]]
    assert "户编号" in headers and "登记簿户键" not in headers
