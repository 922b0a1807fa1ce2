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
