"""Register version 4 over the committee's procedure (rulebook §6, §7): a version 3 register
recorded by the committee's commands upgrades to version 4 with its procedure records' ID-shaped
household keys hashed and their texts masked, and every record sealed; a record of the
procedure changed, deleted or unsealed by hand is named by the check of the seals."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa
from test_register import (
    _drop_triggers,
    _marks,
    _tamper,
    params,  # noqa: F401 (a fixture)
    record_round,
    round1_tables,
)

from fpanalysis import register as R
from fpanalysis.register.migrations import create_v1, upgrade_1_to_2, upgrade_2_to_3

IDN = "110105198001010016"
RID = ("relief-2025-06-30-0001", "relief-2025-06-30-0002", "relief-2025-06-30-0003")


def _v3_register(path) -> None:
    """A version 3 register as the committee's commands left it: a proposal, its decided round
    (a household numbered by its ID number rejected, its number in the texts), a notice, an
    objection raised and upheld, and the approved round."""
    day = pd.Timestamp("2025-06-30").date()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        create_v1(conn)
        upgrade_1_to_2(conn)
        upgrade_2_to_3(conn)
        conn.exec_driver_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        stages = ("proposed", "decided", "approved")
        for seq, (rid, stage) in enumerate(zip(RID, stages, strict=True), 1):
            conn.execute(
                R.T["rounds"].insert().values(
                    round_id=rid, seq=seq, kind="relief", as_of=day, stage=stage,
                    recorded_at=f"2025-07-0{seq}T08:00:00Z", package_version="0.1.0",
                    params_json="{}", params_sha256="aaaa", inputs_json="{}",
                    supersedes=RID[seq - 2] if seq > 1 else None, note=f"户 {IDN}",
                )
            )  # fmt: skip
            for hid, selected in ((IDN, seq == 1), ("H2", True)):
                conn.execute(
                    R.T["relief_rows"].insert().values(
                        round_id=rid, household_id=hid, pool="all", eligible=True,
                        selected=selected, selection="admitted" if selected else "rejected",
                        reason_zh=f"第 1 名；户 {IDN}", reason_en=f"household {IDN}",
                    )
                )  # fmt: skip
        conn.execute(
            R.T["relief_decisions"].insert().values(
                round_id=RID[1], household_id=IDN, proposal_round_id=RID[0],
                proposed_selected=True, proposed_selection="admitted", decision="reject",
                decided_selected=False, reason=f"{IDN} 已迁出", passes_over=None,
            )
        )  # fmt: skip
        conn.execute(
            R.T["relief_decisions"].insert().values(
                round_id=RID[1], household_id="H2", proposal_round_id=RID[0],
                proposed_selected=False, proposed_selection="waiting", decision="admit",
                decided_selected=True, reason="重病", passes_over=f"{IDN} H9",
            )
        )  # fmt: skip
        conn.execute(
            R.T["relief_notices"].insert().values(
                round_id=RID[1], notice_no=1, first_day=day, last_day=day, days=7,
                place="民政办", recorded_at="2025-07-02T09:00:00Z",
            )
        )  # fmt: skip
        for event, text in (("raised", f"反映 {IDN} 有车"), ("upheld", "属实")):
            conn.execute(
                R.T["relief_objections"].insert().values(
                    round_id=RID[1], objection_id="O001", event=event, household_id=IDN,
                    date=day, text=text, recorded_at="2025-07-02T10:00:00Z",
                )
            )  # fmt: skip
        conn.execute(
            R.T["relief_approvals"].insert().values(
                round_id=RID[2], decided_round_id=RID[1], approved_by="王主任",
                approved_on=day, recorded_at="2025-07-03T08:00:00Z",
            )
        )  # fmt: skip
    engine.dispose()


def test_v3_committee_register_upgrades_to_4(tmp_path):
    path = tmp_path / "v3.sqlite"
    _v3_register(path)
    reg = R.open_register(path)
    assert reg.check() == 3
    assert IDN.encode() in path.read_bytes()
    with reg.transaction(write=True):
        pass  # a write: upgraded for good
    assert reg.check() == R.CURRENT_SCHEMA_VERSION == 4
    con = sqlite3.connect(path)
    con.execute("VACUUM")  # the old pages go
    assert con.execute("SELECT count(*) FROM record_seals").fetchone() == (3,)
    con.close()
    assert IDN.encode() not in path.read_bytes()
    dec = reg.decisions(RID[1]).set_index("decision")
    hashed = dec.loc["reject", "household_id"]
    assert hashed.startswith("id#") and hashed == reg.stored_keys([IDN])[0]
    assert dec.loc["reject", "reason"] == "110105********0016 已迁出"
    assert dec.loc["admit", "passes_over"] == f"{hashed} H9"  # a key list: each key hashed
    obj = reg.objections(RID[1])
    assert obj["household_id"].tolist() == [hashed] and obj["outcome"].tolist() == ["upheld"]
    assert obj["text"].tolist() == ["反映 110105********0016 有车"]
    h = reg.household_history(IDN)
    assert h["listed"].tolist() == [True, True, True]
    assert h["decision"].tolist()[1] == "reject"
    found = reg.check_seals()
    assert found.ok and found.rounds == 3, [p.message_en for p in found.problems]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con = sqlite3.connect(path)
        con.execute("DELETE FROM record_seals")
    con.close()


def _procedure(url, params):  # noqa: F811
    """A proposal decided, its notice, an objection raised: every record sealed."""
    from fpanalysis.rules.relief import apply_decisions

    reg = R.open_register(url)
    rid = record_round(reg, round1_tables(), params, "2025-06-30", 4)[0]
    marks = _marks(
        [
            ("B", "selected", None, None, None),
            ("C", "selected", None, None, None),
            ("F", "selected", "不同意", "已迁出", None),
            ("A", "selected", None, None, None),
            ("D", "waiting", None, None, None),
        ]
    )
    decided, problems = apply_decisions(reg.relief_rows(rid), marks)
    assert problems == []
    did = reg.record_decision(rid, decided)
    reg.record_notice(did, "2025-07-03", 7, "民政办")
    reg.record_objection(did, "A", "2025-07-05", "有车辆")
    return reg, did


def test_every_procedure_record_is_sealed(register_url, params):  # noqa: F811
    reg, did = _procedure(register_url, params)
    found = reg.check_seals()
    assert found.ok and found.rounds == 2
    with reg.transaction(write=False) as (conn, _):
        n = conn.execute(sa.select(sa.func.count()).select_from(R.T["record_seals"])).scalar()
    assert n == 2  # the notice and the objection raised
    # the chain goes on: a round recorded after them links to the last record's seal
    record_round(reg, round1_tables(), params, "2025-12-31", 4)
    assert reg.check_seals().ok


@pytest.mark.parametrize(
    ("table", "edit", "rule"),
    [
        pytest.param(
            "relief_notices", "UPDATE relief_notices SET place = '别处'", "record-altered",
            id="a-notice-changed",
        ),
        pytest.param(
            "relief_objections", "DELETE FROM relief_objections", "record-deleted",
            id="an-objection-deleted",
        ),
        pytest.param(
            "relief_decisions", "UPDATE relief_decisions SET reason = '无'", "round-altered",
            id="a-decision-changed",
        ),
        pytest.param(
            "record_seals", "DELETE FROM record_seals WHERE record_table = 'relief_notices'",
            "record-unsealed", id="a-notice-unsealed",
        ),
    ],
)  # fmt: skip
def test_a_hand_edit_of_the_procedure_is_named(register_url, params, table, edit, rule):  # noqa: F811
    reg, did = _procedure(register_url, params)
    _tamper(register_url, [*_drop_triggers(register_url, table), edit])
    found = reg.check_seals()
    assert not found.ok
    assert (did, rule) in {(p.round_id, p.rule) for p in found.problems}
