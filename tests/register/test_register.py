"""The decision register (fpanalysis.register) on a real SQLite file and a real PostgreSQL server.

The same test bodies run on both backends (the ``register_url`` fixture). The
PostgreSQL server is a throwaway cluster started once per session (tests/pg.py):
without Debian's binaries these tests skip, except under CI=true where they fail.

The story (rulebook §6, hand-computed; urban standard 770 yuan, one-person
households unless said, tier bands 0.3 / 0.6 / 1.0):

Round 1, as of 2025-06-30, quota 4
    A  2 persons, income 100, an only daughter -> ratio 100/1540 = 0.065, tier 1, 1440 yuan
    B  income 200, receiving -> ratio 0.260, tier 1, 570 yuan
    C  income 300, committee-assessed tier 1 (ratio 0.390 would give 2), receiving, 470 yuan
    F  income 250, receiving -> ratio 0.325, tier 2, 520 yuan
    D  income 500 -> ratio 0.649, tier 3, 270 yuan
    ranks: A 1 (tier 1, FP priority), B 2, C 3, F 4 (tier 2), D 5 (tier 3)
    B, C, F continue (3 places), 1 left: A (rank 1) admitted; D waits.
Round 2, as of 2025-12-31, quota 3; the data no longer carries ``receiving``:
    B's income rises to 800 >= 770 -> not eligible -> exit (income)
    F is no longer listed -> exit (moved or died)
    C's assessed tier is withdrawn -> tier 2 from the ratio -> tier_change 1 -> 2
    E applies: income 150 -> ratio 0.195, tier 1, 620 yuan
    A continues (the register says it was selected; the data's flag says no)
    ranks: A 1, E 2, C 3 (tier 2), D 4 (tier 3); A, C continue, 1 place left: E enters; D waits.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import types
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from fpanalysis import register as R
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.register.migrations import create_v1
from fpanalysis.register.tables import V1
from fpanalysis.rules.relief import rank_households, review

FIXTURE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "register" / "v1.sqlite"
STANDARDS = {"dibao_standard_yuan": {"urban": 770, "rural": 600}}

# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
def params():
    return load_params().with_overrides(STANDARDS)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def household(
    hid,
    size,
    income,
    *,
    app="2025-01-01",
    receiving=False,
    review=None,
    tier=None,
    name="张三丰",
    id_number=None,
):
    return {
        "household_id": hid,
        "head_name": name,
        "head_id_number": id_number,
        "area": "urban",
        "township": "城关镇",
        "size": size,
        "monthly_income": float(income),
        "assessed_tier": tier,
        "application_date": app,
        "receiving": receiving,
        "last_review_date": review,
    }


def tables(households, members):
    return {
        "households": coerce("households", households),
        "household_members": coerce("household_members", members),
    }


def members_for(hids):
    out = []
    for h in hids:
        out.append({"member_id": f"{h}1", "household_id": h, "relation": "head", "sex": "M"})
        if h == "A":
            out.append({"member_id": "A2", "household_id": "A", "relation": "child", "sex": "F"})
    return out


def round1_tables():
    hh = [
        household("A", 2, 100, app="2025-01-10"),
        household("B", 1, 200, app="2024-05-01", receiving=True, review="2025-01-01", name="李四"),
        household(
            "C", 1, 300, app="2024-06-01", receiving=True, review="2025-03-01", tier=1, name="王五"
        ),
        household("F", 1, 250, app="2024-01-01", receiving=True, review="2025-05-01", name="钱七"),
        household("D", 1, 500, app="2025-02-01", name="赵六"),
    ]
    return tables(hh, members_for("ABCFD"))


def round2_tables():
    hh = [
        household("A", 2, 100, app="2025-01-10"),
        household("B", 1, 800, app="2024-05-01", review="2025-01-01", name="李四"),
        household("C", 1, 300, app="2024-06-01", review="2025-03-01", name="王五"),
        household("D", 1, 500, app="2025-02-01", name="赵六"),
        household("E", 1, 150, app="2025-10-01", name="孙八"),
    ]
    return tables(hh, members_for("ABCDE"))


def record_round(reg, t, params, as_of, quota, **kw):
    prev, _ = reg.previous_selection(as_of=as_of)
    rev, res = review(t, params, as_of, previous_round=prev, quota=quota)
    return reg.record_relief(res, params, review=rev, options={"quota": quota}, **kw), rev, res


def n_rows(url, table):
    reg = R.open_register(url)
    with reg.transaction(write=False) as (conn, _):
        return (
            0
            if conn is None
            else conn.execute(sa.select(sa.func.count()).select_from(R.T[table])).scalar()
        )


# ---------------------------------------------------------------------------- the story


def test_story_rounds_review_and_history(register_url, params):
    reg = R.open_register(register_url)
    rid1, _, res1 = record_round(reg, round1_tables(), params, "2025-06-30", 4)
    assert rid1 == "relief-2025-06-30-0001"
    sel1 = res1.table.set_index("household_id")["selection"].to_dict()
    assert sel1 == {
        "A": "admitted",
        "B": "continuing",
        "C": "continuing",
        "F": "continuing",
        "D": "waiting",
    }

    # This period against the last recorded round (before recording it).
    prev, prev_id = reg.previous_selection(as_of="2025-12-31")
    assert prev_id == rid1
    rev, _ = review(round2_tables(), params, "2025-12-31", previous_round=prev, quota=3)
    r = rev.set_index("household_id")
    assert r["transition"].fillna("").to_dict() == {
        "A": "continue",
        "B": "exit",
        "C": "tier_change",
        "D": "",
        "E": "enter",
        "F": "exit",
    }
    assert r.loc["C", "previous_tier"] == 1 and r.loc["C", "tier"] == 2
    assert r.loc["C", "reason_en"].startswith("tier change: selected both times, tier 1 -> tier 2")
    assert r.loc["A", "reason_en"].startswith("continues: selected both times, same tier (tier 1)")
    assert r.loc["B", "reason_en"].startswith(
        "exits: per-capita income 800.00 yuan is at or above the standard of 770 yuan"
    )
    assert r.loc["F", "reason_en"].startswith("exits: no longer listed (moved or died)")
    assert r.loc["E", "reason_en"].startswith("enters: selected in this round (tier 1)")
    # C: last review 2025-03-01 + 6 months = 2025-09-01 <= 2025-12-31;
    # E entered now: next 2026-06-30.
    assert bool(r.loc["C", "review_due"]) and not bool(r.loc["E", "review_due"])
    assert r.loc["E", "next_review_date"] == pd.Timestamp("2026-06-30")
    assert r.loc["C", "income_changed"] == False  # noqa: E712 - from the recorded income

    rid2, _, res2 = record_round(reg, round2_tables(), params, "2025-12-31", 3, note="second half")
    assert rid2 == "relief-2025-12-31-0002"
    sel2 = res2.table.set_index("household_id")["selection"].to_dict()
    assert sel2 == {
        "A": "continuing",
        "C": "continuing",
        "E": "admitted",
        "D": "waiting",
        "B": "not_eligible",
    }

    hist = {h: reg.household_history(h).set_index("round_id") for h in "ABCEF"}
    b = hist["B"]
    assert b["selected"].tolist() == [True, False]
    assert b["entitlement_yuan"].tolist()[0] == 570 and pd.isna(b["entitlement_yuan"].tolist()[1])
    assert b.loc[rid2, "reason_en"].startswith("not eligible: per-capita income 800.00 yuan")
    assert "should exit" in b.loc[rid2, "reason_en"]
    e = hist["E"]
    assert e["listed"].tolist() == [False, True]
    assert e.loc[rid1, "reason_en"].startswith("not listed in this round's data")
    assert (e.loc[rid2, "rank"], e.loc[rid2, "tier"], e.loc[rid2, "entitlement_yuan"]) == (
        2,
        1,
        620,
    )
    c = hist["C"]
    assert c["tier"].tolist() == [1, 2] and c["selected"].tolist() == [True, True]
    f = hist["F"]
    assert f["listed"].tolist() == [True, False] and f.loc[rid1, "entitlement_yuan"] == 520
    a = hist["A"]
    assert a["rank"].tolist() == [1, 1] and a["entitlement_yuan"].tolist() == [1440, 1440]
    assert list(a.columns[:9]) == [
        "as_of",
        "rank",
        "tier",
        "fp_type",
        "selected",
        "entitlement_yuan",
        "reason_zh",
        "reason_en",
        "params_sha256",
    ]
    assert a["params_sha256"].tolist() == [params.sha256] * 2
    assert a.loc[rid2, "note"] == "second half"


# ---------------------------------------------------------------------------- rounds


def test_round_ids_and_metadata(register_url, params, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    reg = R.open_register(register_url)
    t = round1_tables()
    rid, _, _ = record_round(reg, t, params, "2025-06-30", 4)
    card = pd.DataFrame(
        [
            {
                "unit_id": "U1",
                "period": "2024H1",
                "baseline_coverage": 0.5,
                "followup_coverage": 1.0,
                "feedback_timeliness": 1.0,
                "check_attendance": 1.0,
                "falsifications": 0,
                "out_of_plan_births": 0,
                "pregnancies_without_permit": 0,
                "unapproved_late_terminations": 0,
                "score": 87.5,
                "grade": "pass",
                "veto": False,
            }
        ]
    )
    cid = reg.record_compliance(card, None, params, period="2024H1")
    assert (rid, cid) == ("relief-2025-06-30-0001", "compliance-2024H1-0002")
    rounds = reg.rounds().set_index("round_id")
    assert rounds["seq"].tolist() == [1, 2]
    assert rounds.loc[rid, "recorded_at"] == "2026-01-01T00:00:00Z"
    assert json.loads(rounds.loc[rid, "params_json"]) == params.as_dict()
    assert rounds.loc[rid, "params_sha256"] == params.sha256
    assert json.loads(rounds.loc[rid, "options_json"]) == {"quota": 4}
    assert rounds.loc[cid, "period"] == "2024H1" and pd.isna(rounds.loc[cid, "as_of"])
    units = reg.compliance_units(cid)
    assert units.loc[0, "score"] == 87.5 and units.loc[0, "grade"] == "pass"


def test_inputs_and_override_recorded(tmp_path, params):
    from fpanalysis.core.dataset import Dataset

    t = round1_tables()
    ds = Dataset(
        t,
        source=tmp_path,
        files={"households": "households.csv"},
        sha256={"households.csv": "ab" * 32},
    )
    override = tmp_path / "o.yaml"
    override.write_text("dibao_standard_yuan:\n  urban: 770\n", encoding="utf-8")
    p = load_params(override)
    reg = R.open_register(tmp_path / "r.sqlite")
    res = rank_households(ds, p, "2025-06-30", quota=4)
    rid = reg.record_relief(res, p, dataset=ds)
    row = reg.rounds().set_index("round_id").loc[rid]
    assert json.loads(row["inputs_json"])["sha256"] == {"households.csv": "ab" * 32}
    assert (
        row["override_text"] == "dibao_standard_yuan:\n  urban: 770\n"
    )  # read from params.override_file


def test_money_is_exact(register_url, params):
    reg = R.open_register(register_url)
    rid, _, _ = record_round(reg, round1_tables(), params, "2025-06-30", 4)
    rows = reg.relief_rows(rid).set_index("household_id")
    # income 100 yuan = 10000 fen over 2 persons = 5000 fen; standard 770 = 77000 fen.
    assert rows.loc[
        "A", ["income_fen", "per_capita_income_fen", "standard_fen", "entitlement_yuan"]
    ].tolist() == [
        10000,
        5000,
        77000,
        1440,
    ]
    assert str(rows["entitlement_yuan"].dtype) == "Int64"


def test_score_stored_exact_as_two_decimals(tmp_path, params):
    reg = R.open_register(tmp_path / "r.sqlite")
    card = pd.DataFrame(
        [{"unit_id": "U1", "period": "2024", "score": 73.33, "grade": "pass", "veto": False}]
    )
    rid = reg.record_compliance(card, None, params, period="2024")
    raw = (
        sqlite3.connect(tmp_path / "r.sqlite")
        .execute("SELECT score FROM compliance_units")
        .fetchone()[0]
    )
    assert raw == "73.33"  # text, not a binary float
    assert reg.compliance_units(rid).loc[0, "score"] == 73.33


# ---------------------------------------------------------------------------- supersession


def test_supersedes_rules(register_url, params):
    reg = R.open_register(register_url)
    t = round1_tables()
    r1, _, _ = record_round(reg, t, params, "2025-06-30", 4)
    card = pd.DataFrame(
        [{"unit_id": "U1", "period": "2024", "score": 90.0, "grade": "excellent", "veto": False}]
    )
    c1 = reg.record_compliance(card, None, params, period="2024")
    res = rank_households(t, params, "2025-06-30", quota=4)
    cases = [
        ("relief-2025-06-30-9999", "not in the register"),
        (c1, "must be of the same kind"),
    ]
    for target, text in cases:
        with pytest.raises(R.RegisterError, match=text):
            reg.record_relief(res, params, supersedes=target)
    r2 = reg.record_relief(res, params, supersedes=r1, note="quota was 4, corrected")
    with pytest.raises(R.RegisterError, match=f"already superseded by {r2}"):
        reg.record_relief(res, params, supersedes=r1)
    rounds = reg.rounds("relief").set_index("round_id")
    assert rounds.loc[r1, "superseded_by"] == r2 and rounds.loc[r2, "supersedes"] == r1
    assert len(rounds) == 2  # the refused corrections left nothing behind


def test_last_round_is_latest_in_force_by_date(register_url, params):
    reg = R.open_register(register_url)
    t = round1_tables()
    res_jun = rank_households(t, params, "2025-06-30", quota=4)
    res_dec = rank_households(t, params, "2025-12-31", quota=4)
    r1 = reg.record_relief(res_jun, params)
    r2 = reg.record_relief(res_dec, params)
    r3 = reg.record_relief(res_jun, params, supersedes=r1)  # a late correction of June
    assert reg.last_round("relief")["round_id"] == r2
    assert (
        reg.last_round("relief", as_of="2025-12-31")["round_id"] == r3
    )  # strictly before December
    assert reg.last_round("relief", before=r2)["round_id"] == r3
    assert reg.last_round("relief", before=r3) is None  # r1 is superseded by r3
    assert reg.last_round("relief", as_of="2025-06-30") is None
    assert reg.last_round("compliance") is None


# ---------------------------------------------------------------------------- integrity


def test_append_only_in_the_database(register_url, params):
    reg = R.open_register(register_url)
    rid, _, _ = record_round(reg, round1_tables(), params, "2025-06-30", 4)
    engine = sa.create_engine(reg.url)
    statements = [
        "UPDATE rounds SET note = 'x'",
        "DELETE FROM rounds",
        "UPDATE relief_rows SET selected = false",
        "DELETE FROM relief_rows",
    ]
    for stmt in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    engine.dispose()
    assert len(reg.relief_rows(rid)) == 5 and len(reg.rounds()) == 1


def test_a_failed_round_writes_nothing(register_url, params):
    reg = R.open_register(register_url)
    record_round(reg, round1_tables(), params, "2025-06-30", 4)
    before = sha(register_url) if not register_url.startswith("postgresql") else None
    res = rank_households(round2_tables(), params, "2025-12-31", quota=3)
    res.table = pd.concat(
        [res.table, res.table.iloc[[0]]]
    )  # a household twice: the insert fails midway
    with pytest.raises(R.RegisterError, match="refused this write"):
        reg.record_relief(res, params)
    assert len(reg.rounds()) == 1
    assert n_rows(register_url, "relief_rows") == 5
    if before is not None:
        assert sha(register_url) == before


def test_no_names_or_id_numbers_stored(register_url, params):
    idn = "110105198001010016"
    hh = [household("A", 2, 100, name="欧阳娜娜", id_number=idn)]
    t = tables(hh, members_for("A"))
    reg = R.open_register(register_url)
    res = rank_households(t, params, "2025-06-30")
    assert res.table.loc[0, "head_name"] == "欧阳娜娜"  # the result holds it ...
    reg.record_relief(res, params)
    card = pd.DataFrame(
        [{"unit_id": "U1", "period": "2024", "score": 90.0, "grade": "excellent", "veto": False}]
    )
    acc = pd.DataFrame(
        [
            {
                "date": pd.Timestamp("2024-05-01"),
                "rule": "falsifications",
                "event_id": "J1",
                "couple_id": "C1",
                "wife_id": "P1",
                "husband_id": "P2",
                "wife_name": "上官婉儿",
                "husband_name": "司马相如",
                "unit_id": "U1",
                "unit_name": "办公室",
                "unit_head_name": "诸葛明",
                "liaison_name": "东方朔",
                "penalty": 5.0,
                "veto": False,
                "reason_zh": "查实节育弄虚作假",
                "reason_en": "falsification",
            }
        ]
    )
    reg.record_compliance(card, acc, params, period="2024")
    engine = sa.create_engine(reg.url)
    dump = []
    with engine.connect() as conn:
        for name in R.REGISTER_TABLES:
            cols = [c["name"] for c in sa.inspect(conn).get_columns(name)]
            assert not [c for c in cols if "name" in c or "id_number" in c], name
            dump += [str(v) for row in conn.exec_driver_sql(f"SELECT * FROM {name}") for v in row]
    engine.dispose()
    text = "\n".join(dump)
    for secret in ("欧阳", "上官", "司马", "诸葛", "东方", idn, idn[-4:] + "\n"):
        assert secret not in text
    assert "P1" in text and "C1" in text  # ... only the keys are kept


# ---------------------------------------------------------------------------- schema versions


def test_new_register_matches_the_current_tables(register_url, params):
    reg = R.open_register(register_url)
    assert reg.check() is None  # nothing created by opening
    record_round(reg, round1_tables(), params, "2025-06-30", 4)
    assert reg.check() == R.CURRENT_SCHEMA_VERSION == 4
    engine = sa.create_engine(reg.url)
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        for name, table in R.T.items():
            assert sorted(c["name"] for c in insp.get_columns(name)) == sorted(
                c.name for c in table.columns
            )
    engine.dispose()


def test_v1_file_upgrades_in_place_on_first_write(tmp_path, params):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE_V1, path)
    before = sha(path)
    reg = R.open_register(path)
    assert reg.check() == 1
    # Reading an old register upgrades inside a transaction that is rolled back:
    # the file is unchanged.
    rounds = reg.rounds()
    assert rounds["round_id"].tolist() == ["relief-2025-06-30-0001", "compliance-2024-0002"]
    assert rounds["note"].isna().all()
    h = reg.household_history("H1")
    assert h["entitlement_yuan"].tolist() == [1440] and h["review_due"].isna().all()
    assert reg.compliance_units("compliance-2024-0002").loc[0, "score"] == 82.5
    assert reg.compliance_accountability("compliance-2024-0002").loc[0, "penalty"] == 5.0
    assert sha(path) == before and reg.check() == 1

    rid, _, _ = record_round(reg, round2_tables(), params, "2025-12-31", 3)
    assert rid == "relief-2025-12-31-0003"
    assert reg.check() == R.CURRENT_SCHEMA_VERSION == 4
    # v1 -> v4 in one step: the rounds kept their stage (a proposal) and the procedure's
    # tables are there, empty, and append-only too.
    assert reg.rounds("relief")["stage"].tolist() == ["proposed", "proposed"]
    assert reg.procedure("relief-2025-06-30-0001")["stage"] == "proposed"
    con = sqlite3.connect(path)
    for table in R.PROCEDURE_TABLES:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert {f"{t}_no_{op}" for t in R.PROCEDURE_TABLES for op in ("update", "delete")} <= names
    con.close()
    assert reg.rounds()["round_id"].tolist()[:2] == [
        "relief-2025-06-30-0001",
        "compliance-2024-0002",
    ]
    # The upgraded file is append-only too.
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con = sqlite3.connect(path)
        con.execute("DELETE FROM relief_rows WHERE round_id = 'relief-2025-06-30-0001'")
    con.close()


def test_v1_upgrade_on_postgresql(pg_server, params):
    url = pg_server.new_database()
    engine = sa.create_engine(R.normalize_target(url)[1])
    with engine.begin() as conn:  # a register as version 1 built it
        create_v1(conn)
        conn.execute(
            V1.tables["rounds"]
            .insert()
            .values(
                round_id="relief-2025-06-30-0001",
                seq=1,
                kind="relief",
                as_of=pd.Timestamp("2025-06-30").date(),
                recorded_at="2025-07-01T08:00:00Z",
                package_version="0.1.0",
                params_json="{}",
                params_sha256="aaaa",
                inputs_json="{}",
            )
        )
    engine.dispose()
    reg = R.open_register(url)
    assert reg.check() == 1
    assert reg.rounds()["note"].isna().all() and reg.check() == 1  # the read did not upgrade
    rid, _, _ = record_round(reg, round1_tables(), params, "2025-12-31", 4)
    assert rid == "relief-2025-12-31-0002" and reg.check() == R.CURRENT_SCHEMA_VERSION


# ---------------------------------------------------------------------------- refusals


def _foreign_sqlite(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO people VALUES (1, '张三')")
    con.commit()
    con.close()


def _newer_sqlite(path):
    shutil.copy(FIXTURE_V1, path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        pytest.param(
            lambda p: p.write_bytes(os.urandom(4096)), "register-not-sqlite", id="random-bytes"
        ),
        pytest.param(
            lambda p: p.write_text("household_id,selected\nH1,是\n", encoding="utf-8"),
            "register-not-sqlite",
            id="a-csv-file",
        ),
        pytest.param(
            lambda p: p.write_bytes(R.SQLITE_MAGIC + os.urandom(4000)),
            "register-not-sqlite",
            id="sqlite-header-then-garbage",
        ),
        pytest.param(_foreign_sqlite, "register-foreign", id="foreign-sqlite-db"),
        pytest.param(_newer_sqlite, "register-version", id="newer-version"),
    ],
)
def test_refused_files_are_left_unchanged(tmp_path, params, make, rule):
    path = tmp_path / "register.sqlite"
    make(path)
    before = sha(path)
    res = rank_households(round1_tables(), params, "2025-06-30")
    with pytest.raises(R.RegisterError) as e:
        R.open_register(path).record_relief(res, params)
    assert e.value.rule == rule and e.value.exit_code == 3
    assert e.value.message_zh and e.value.message_en
    assert sha(path) == before


def test_missing_file_for_reading_and_nothing_created_by_a_failure(tmp_path, params):
    path = tmp_path / "none.sqlite"
    with pytest.raises(R.RegisterError, match="does not exist"):
        R.open_register(path, create=False)
    res = rank_households(round1_tables(), params, "2025-06-30")
    with pytest.raises(R.RegisterError):
        R.open_register(path).record_relief(res, params, supersedes="relief-2025-01-01-0001")
    assert not path.exists()


def test_postgresql_foreign_and_newer_databases_refused(pg_server, params):
    res = rank_households(round1_tables(), params, "2025-06-30")
    foreign = pg_server.new_database()
    engine = sa.create_engine(R.normalize_target(foreign)[1])
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE payroll (id integer)")
    engine.dispose()
    with pytest.raises(R.RegisterError) as e:
        R.open_register(foreign).record_relief(res, params)
    assert e.value.rule == "register-foreign"

    newer = pg_server.new_database()
    reg = R.open_register(newer)
    reg.record_relief(res, params)
    engine = sa.create_engine(reg.url)
    with engine.begin() as conn:
        newer_version = str(R.CURRENT_SCHEMA_VERSION + 1)
        conn.exec_driver_sql(
            f"UPDATE meta SET value = '{newer_version}' WHERE key = 'schema_version'"
        )
    engine.dispose()
    with pytest.raises(R.RegisterError) as e:
        R.open_register(newer)
    assert e.value.rule == "register-version" and "newer" in e.value.message_en


def test_unreachable_server_refused():
    import pg

    port = pg._free_port()  # nothing listens there
    with pytest.raises(R.RegisterError) as e:
        R.open_register(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=2)
    assert e.value.rule == "register-unreachable" and e.value.exit_code == 3


@pytest.mark.parametrize(
    ("target", "backend"),
    [
        pytest.param("r.sqlite", "sqlite", id="path"),
        pytest.param("sqlite:///r.sqlite", "sqlite", id="sqlite-url"),
        pytest.param("postgres://u@h/db", "postgresql", id="postgres-scheme"),
        pytest.param("postgresql+psycopg://u@h/db", "postgresql", id="psycopg-url"),
    ],
)
def test_targets(target, backend):
    assert R.normalize_target(target)[0] == backend


def test_unknown_url_scheme_refused():
    with pytest.raises(R.RegisterError, match="postgresql:// URL"):
        R.open_register("mysql://u@h/db")


# ---------------------------------------------------------------------------- concurrency

WRITER = textwrap.dedent(
    """
    import sys, time, types
    import pandas as pd
    from fpanalysis import register as R
    from fpanalysis.core.params import load_params
    url, start, n, tag = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    table = pd.DataFrame({
        "household_id": [f"{tag}{i:05d}" for i in range(n)], "pool": "all", "eligible": True,
        "selected": True, "selection": "admitted", "size": 1, "income_fen": 100,
        "reason_zh": "x" * 200,
    })
    res = types.SimpleNamespace(table=table, as_of=pd.Timestamp("2025-06-30"), pool="all")
    p = load_params()
    reg = R.open_register(url, timeout=float(sys.argv[5]))
    while time.time() < start:
        time.sleep(0.002)
    try:
        print("OK", reg.record_relief(res, p))
    except R.RegisterBusyError as e:
        print("BUSY", e.message_en)
        sys.exit(75)
    """
)


def _writers(url, timeout, n=3000):
    start = time.time() + 2.5  # both processes are up (imports) before they write
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(start), str(n), tag, str(timeout)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("X", "Y")
    ]
    return [(p.wait(timeout=120), *p.communicate()) for p in procs]


def test_two_writers_at_once(register_url):
    results = _writers(register_url, timeout=60)
    for code, out, err in results:
        assert code in (0, 75), err
        assert out.startswith("OK") or "the register is busy, try again" in out
    ok = [out.split()[1] for code, out, _ in results if code == 0]
    assert len(ok) == 2  # with a 60 s wait the second writer waits for the first: both succeed
    reg = R.open_register(register_url)
    assert sorted(reg.rounds()["round_id"]) == sorted(ok)
    assert sorted(reg.rounds()["seq"]) == list(range(1, len(ok) + 1))
    for rid in ok:  # every recorded round is whole
        assert len(reg.relief_rows(rid)) == 3000
    assert n_rows(register_url, "relief_rows") == 3000 * len(ok)


def test_busy_register_gives_try_again_and_writes_nothing(register_url, params):
    reg = R.open_register(register_url, timeout=0.3)
    res = rank_households(round1_tables(), params, "2025-06-30")
    reg.record_relief(res, params)
    if register_url.startswith("postgresql"):
        import psycopg

        u = sa.make_url(register_url)
        holder = psycopg.connect(
            host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True
        )
        holder.execute(f"SELECT pg_advisory_lock({R.PG_LOCK_KEY})")
        before = None
    else:
        holder = sqlite3.connect(register_url, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        before = sha(register_url)
    try:
        t0 = time.monotonic()
        with pytest.raises(R.RegisterBusyError) as e:
            reg.record_relief(res, params)
        assert time.monotonic() - t0 < 10
        assert e.value.exit_code == 75
        assert e.value.message_zh.startswith("登记簿正被他人写入，请稍后重试")
        if before is not None:
            assert sha(register_url) == before
    finally:
        holder.close()
    assert len(reg.rounds()) == 1
    assert reg.record_relief(res, params).endswith("-0002")  # free again


# ---------------------------------------------------------------------------- units


def _card(period, grades):
    return pd.DataFrame(
        [
            {"unit_id": u, "period": period, "score": s, "grade": g, "veto": v}
            for u, (s, g, v) in grades.items()
        ]
    )


def test_unit_grades_and_transitions(register_url, params):
    reg = R.open_register(register_url)
    c1 = reg.record_compliance(
        _card(
            "2024H1",
            {
                "U1": (92.5, "excellent", False),
                "U2": (75.0, "pass", False),
                "U3": (80.0, "pass", False),
            },
        ),
        None,
        params,
        period="2024H1",
    )
    c2 = reg.record_compliance(
        _card(
            "2024H2",
            {
                "U1": (73.33, "pass", False),
                "U2": (91.0, "excellent", False),
                "U4": (95.0, "fail", True),
            },
        ),
        None,
        params,
        period="2024H2",
    )
    g = reg.unit_grades("U1")
    assert g[["round_id", "grade", "score"]].values.tolist() == [
        [c1, "excellent", 92.5],
        [c2, "pass", 73.33],
    ]
    assert len(reg.unit_grades()) == 6
    tr = R.unit_transitions(reg).set_index("unit_id")
    assert tr["transition"].to_dict() == {
        "U1": "declined",
        "U2": "improved",
        "U3": "dropped",
        "U4": "new",
    }
    assert (
        tr.loc["U1", "reason_en"]
        == "grade declined: excellent (2024H1, 92.50 points) -> pass (2024H2, 73.33 points)"
    )
    assert tr.loc["U4", "reason_zh"] == "新列入考核：不合格（95.00 分）；本期一票否决"
    assert (tr["previous_round_id"].unique().tolist(), tr["round_id"].unique().tolist()) == (
        [c1],
        [c2],
    )


def test_unit_transitions_need_two_rounds(tmp_path, params):
    reg = R.open_register(tmp_path / "r.sqlite")
    reg.record_compliance(
        _card("2024", {"U1": (90.0, "excellent", False)}), None, params, period="2024"
    )
    with pytest.raises(R.RegisterError, match="fewer than two compliance rounds"):
        R.unit_transitions(reg)


def test_accountability_round_trip(tmp_path, params):
    reg = R.open_register(tmp_path / "r.sqlite")
    acc = pd.DataFrame(
        [
            {
                "date": pd.Timestamp("2024-05-01"),
                "rule": "out_of_plan_births",
                "event_id": "B1",
                "couple_id": "C1",
                "wife_id": "P1",
                "husband_id": "P2",
                "unit_id": "U1",
                "penalty": 20.0,
                "veto": True,
                "reason_zh": "计划外生育",
                "reason_en": "out-of-plan birth",
            }
        ]
    )
    rid = reg.record_compliance(
        _card("2024", {"U1": (0.0, "fail", True)}), acc, params, period="2024"
    )
    got = reg.compliance_accountability(rid)
    assert got.loc[0, ["line", "rule", "couple_id", "penalty", "veto"]].tolist() == [
        1,
        "out_of_plan_births",
        "C1",
        20.0,
        True,
    ]
    assert got.loc[0, "date"] == pd.Timestamp("2024-05-01")
    assert types.SimpleNamespace  # keep the import used by WRITER's twin
    assert Decimal("20.00") == Decimal(str(got.loc[0, "penalty"]))


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        pytest.param("true", pytest.fail.Exception, id="ci-fails"),
        pytest.param("", pytest.skip.Exception, id="elsewhere-skips"),
    ],
)
def test_missing_postgresql_skips_except_under_ci(monkeypatch, ci, outcome):
    import pg

    monkeypatch.setattr(pg, "find_bindir", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="PostgreSQL server binaries not installed"):
        pg.pg_server_or_skip()


# ---------------------------------------------------------------------------- the committee


def _marks(rows):
    """Workbook rows ``(household, list, decision, reason, tier)`` as decide reads them."""
    return pd.DataFrame(
        [
            {
                "household_id": h,
                "sheet": sheet,
                "round_id": "R",
                "decision": d,
                "reason": why,
                "decided_tier": tier,
                "household_cell": f"B{i}",
                "decision_cell": f"O{i}",
                "reason_cell": f"P{i}",
                "tier_cell": f"Q{i}",
            }
            for i, (h, sheet, d, why, tier) in enumerate(rows, start=3)
        ]
    )


def test_procedure_steps_and_the_approved_round_wins(register_url, params):
    """Round 1 of the story decided (F rejected, C's tier changed, D admitted), posted, an
    objection to A upheld, approved; the approved round is then the one in force."""
    from fpanalysis.rules.relief import apply_decisions

    reg = R.open_register(register_url)
    rid, _, _ = record_round(reg, round1_tables(), params, "2025-06-30", 4)
    proposal = reg.relief_rows(rid)
    assert proposal.set_index("household_id")["incumbent"].to_dict() == {
        "A": False,
        "B": True,
        "C": True,
        "D": False,
        "F": True,
    }
    decided, problems = apply_decisions(
        proposal,
        _marks(
            [
                ("B", "selected", None, None, None),
                ("C", "selected", "调整档次", "支出大", 2),
                ("F", "selected", "不同意", "已迁出", None),
                ("A", "selected", "同意", None, None),
                ("D", "waiting", "补充纳入", "重病", None),
            ]
        ),
    )
    assert problems == []
    did = reg.record_decision(rid, decided, note="评议会 2025-07-02")
    assert did == "relief-2025-06-30-0002"
    rows = reg.relief_rows(did).set_index("household_id")
    assert rows["selection"].to_dict() == {
        "A": "admitted",
        "B": "continuing",
        "C": "continuing",
        "D": "admitted",
        "F": "rejected",
    }
    assert rows.loc["C", "tier"] == 2 and rows.loc["C", "tier_basis"] == "committee"
    assert rows.loc["F", "reason_zh"].endswith("；民主评议：不同意（已迁出）")
    with pytest.raises(R.ProcedureError, match="not a proposal awaiting decision"):
        reg.record_decision(rid, decided)
    # before a notice: no objection, no approval
    with pytest.raises(R.ProcedureError, match="not recorded yet"):
        reg.record_objection(did, "A", "2025-07-05", "有车辆")
    assert reg.record_notice(did, "2025-07-03", 7, "民政办") == (1, True)
    assert reg.record_notice(did, "2025-07-03", 7, "民政办") == (1, False)
    with pytest.raises(R.ProcedureError, match="is a proposal decided as"):
        reg.record_notice(rid, "2025-07-03", 7, None)
    oid = reg.record_objection(did, "A", "2025-07-05", "群众反映有车辆")
    with pytest.raises(R.ProcedureError, match="not in round"):
        reg.record_objection(did, "Z", "2025-07-05", "x")
    with pytest.raises(R.ProcedureError, match="objections still open: O001"):
        reg.approve(did, "王主任", "2025-07-10")
    reg.close_objection(did, oid, "upheld", "2025-07-08", "核实有营运车辆")
    with pytest.raises(R.ProcedureError, match="approval from 2025-07-10"):
        reg.approve(did, "王主任", "2025-07-09")
    aid = reg.approve(did, "王主任", "2025-07-10")
    final = reg.relief_rows(aid).set_index("household_id")
    assert final["selected"].to_dict() == {"A": False, "B": True, "C": True, "D": True, "F": False}
    assert final.loc["A", "selection"] == "withdrawn"
    # the approved round is the one in force, even after a later proposal
    assert reg.last_round("relief")["round_id"] == aid
    prev, prev_id = reg.previous_selection(as_of="2025-12-31")
    assert prev_id == aid and sorted(prev.loc[prev["selected"], "household_id"]) == ["B", "C", "D"]
    later, _, _ = record_round(reg, round2_tables(), params, "2025-12-31", 3)
    assert reg.last_round("relief")["round_id"] == aid
    assert reg.rounds("relief").set_index("round_id")["stage"].to_dict() == {
        rid: "proposed",
        did: "noticed",
        aid: "approved",
        later: "proposed",
    }
    proc = reg.procedure(did)
    assert (proc["proposal"], proc["decided"], proc["approved"]) == (rid, did, aid)
    assert proc["departures"]["decision"].tolist() == ["change_tier", "admit", "reject"]
    assert proc["objections"][["objection_id", "household_id", "outcome"]].values.tolist() == [
        ["O001", "A", "upheld"]
    ]
    h = reg.household_history("F")
    assert h["stage"].tolist()[:3] == ["proposed", "noticed", "approved"]
    assert h["selected"].tolist()[:3] == [True, False, False]
    assert pd.isna(h["decision"].iloc[0]) and h["decision"].iloc[1] == "reject"
    assert h["decision_reason"].iloc[1] == "已迁出"
    # the procedure's tables are append-only in the database too
    engine = sa.create_engine(reg.url)
    for stmt in (
        "UPDATE relief_decisions SET reason = 'x'",
        "DELETE FROM relief_notices",
        "DELETE FROM relief_objections",
        "UPDATE relief_approvals SET approved_by = 'x'",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    engine.dispose()


# ---------------------------------------------------------------------------- seals (version 4)


def _tamper(url: str, statements: list[str]) -> None:
    """Edit the register by hand: lift the append-only triggers first, as a tamperer would."""
    engine = sa.create_engine(R.normalize_target(url)[1])
    with engine.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
    engine.dispose()


def _drop_triggers(url: str, table: str) -> list[str]:
    from fpanalysis.register.tables import append_only_triggers, drop_trigger_sql

    dialect = "sqlite" if not url.startswith("postgresql") else "postgresql"
    return [drop_trigger_sql(dialect, n, table) for n in append_only_triggers(dialect, (table,))]


def _three_rounds(url, params):
    reg = R.open_register(url)
    ids = [record_round(reg, round1_tables(), params, "2025-06-30", 4)[0]]
    ids.append(record_round(reg, round2_tables(), params, "2025-12-31", 3)[0])
    ids.append(record_round(reg, round2_tables(), params, "2026-06-30", 3)[0])
    return reg, ids


def test_every_round_is_sealed_and_the_chain_holds(register_url, params):
    reg, ids = _three_rounds(register_url, params)
    found = reg.check_seals()
    assert found.ok and found.rounds == 3
    assert found.tip == reg.seal_of(ids[-1]) and len(found.tip) == 64


@pytest.mark.parametrize(
    "edit,rule,which",
    [
        pytest.param(
            lambda ids: ["UPDATE relief_rows SET entitlement_yuan = 9999 "
                         f"WHERE round_id = '{ids[1]}' AND household_id = 'A'"],
            "round-altered", 1, id="a-row-changed",
        ),
        pytest.param(
            lambda ids: [f"UPDATE rounds SET note = 'fixed' WHERE round_id = '{ids[0]}'"],
            "round-altered", 0, id="a-round-note-changed",
        ),
        pytest.param(
            lambda ids: [f"DELETE FROM relief_rows WHERE round_id = '{ids[2]}' "
                         "AND household_id = 'D'"],
            "round-altered", 2, id="a-row-deleted",
        ),
        pytest.param(
            lambda ids: [f"DELETE FROM round_seals WHERE round_id = '{ids[1]}'",
                         f"DELETE FROM relief_rows WHERE round_id = '{ids[1]}'",
                         f"DELETE FROM rounds WHERE round_id = '{ids[1]}'"],
            "chain-broken", 2, id="a-whole-round-and-its-seal-removed",
        ),
        pytest.param(
            lambda ids: [f"UPDATE round_seals SET round_sha256 = 'x' WHERE round_id = '{ids[0]}'"],
            "chain-broken", 0, id="a-seal-changed",
        ),
    ],
)  # fmt: skip
def test_a_hand_edit_names_the_round(register_url, params, edit, rule, which):
    reg, ids = _three_rounds(register_url, params)
    tables = ["rounds", "relief_rows", "round_seals"]
    lift = [s for t in tables for s in _drop_triggers(register_url, t)]
    _tamper(register_url, [*lift, *edit(ids)])
    found = reg.check_seals()
    assert not found.ok
    assert (ids[which], rule) in {(p.round_id, p.rule) for p in found.problems}
    # and the dropped triggers are named too
    removed = {p.message_en for p in found.problems if p.rule == "append-only-removed"}
    assert any("relief_rows" in m for m in removed)


def test_a_trigger_dropped_alone_is_noticed(register_url, params):
    reg, ids = _three_rounds(register_url, params)
    _tamper(register_url, _drop_triggers(register_url, "relief_rows")[:1])
    found = reg.check_seals()
    assert [p.rule for p in found.problems] == ["append-only-removed"]
    assert found.problems[0].message_zh.startswith("表 relief_rows 的只追加保护")


def test_id_number_keys_stored_as_keyed_hashes_and_found_again(register_url, params):
    """rulebook §7: households numbered by the head's ID; the register stores none of them."""
    ida, idb = "110105198001010016", "11010519850312002X"
    hh = [household(ida, 2, 100, id_number=ida), household(idb, 1, 200, id_number=idb)]
    members = [
        {"member_id": "M1", "household_id": ida, "relation": "head", "sex": "M"},
        {"member_id": "M2", "household_id": ida, "relation": "child", "sex": "F"},
        {"member_id": "M3", "household_id": idb, "relation": "head", "sex": "F"},
    ]
    t = tables(hh, members)
    reg = R.open_register(register_url)
    res = rank_households(t, params, "2025-06-30", quota=1)
    rid = reg.record_relief(res, params, note=f"checked with {ida}")
    engine = sa.create_engine(reg.url)
    with engine.connect() as conn:
        dump = "\n".join(
            str(v)
            for name in R.REGISTER_TABLES
            for row in conn.exec_driver_sql(f"SELECT * FROM {name}")
            for v in row
        )
    engine.dispose()
    assert ida not in dump and idb not in dump and ida[:14] not in dump
    stored = reg.relief_rows(rid)["household_id"].tolist()
    assert all(s.startswith("id#") and len(s) == 27 for s in stored)
    # the household's history is found by its number; the previous round maps back to it
    assert reg.household_history(ida)["listed"].tolist() == [True]
    prev, _ = reg.previous_selection(as_of="2025-12-31", known=[ida, idb])
    assert sorted(prev["household_id"]) == sorted([ida, idb])
    prev, _ = reg.previous_selection(as_of="2025-12-31", known=[ida])  # idb has left
    assert set(prev["household_id"]) == {ida, protect_for(reg, idb)}
    assert reg.check_seals().ok


def protect_for(reg, value):
    from fpanalysis.register.keys import protect, register_key

    with reg.transaction(write=False) as (conn, _):
        return protect(value, register_key(conn))


def test_v2_register_with_id_numbers_upgrades_to_hashes_and_seals(tmp_path, params):
    """A version 2 register that stored ID numbers in the clear: the upgrade hashes and seals."""
    from fpanalysis.register.migrations import upgrade_1_to_2

    idn = "110105198001010016"
    path = tmp_path / "v2.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        create_v1(conn)
        upgrade_1_to_2(conn)
        conn.exec_driver_sql("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        conn.execute(
            R.T["rounds"].insert().values(
                round_id="relief-2025-06-30-0001", seq=1, kind="relief",
                as_of=pd.Timestamp("2025-06-30").date(), recorded_at="2025-07-01T08:00:00Z",
                package_version="0.1.0", params_json="{}", params_sha256="aaaa",
                inputs_json="{}",
            )
        )  # fmt: skip
        conn.execute(
            R.T["relief_rows"].insert().values(
                round_id="relief-2025-06-30-0001", household_id=idn, pool="all",
                eligible=True, selected=True, selection="admitted",
                reason_zh=f"第 1 名；户 {idn}", reason_en=f"rank 1; household {idn}",
            )
        )  # fmt: skip
    engine.dispose()
    reg = R.open_register(path)
    assert reg.check() == 2
    assert reg.household_history(idn)["listed"].tolist() == [True]  # read: upgraded, rolled back
    assert idn.encode() in path.read_bytes()
    record_round(reg, round1_tables(), params, "2025-12-31", 4)  # a write: upgraded for good
    assert reg.check() == R.CURRENT_SCHEMA_VERSION == 4
    con = sqlite3.connect(path)
    con.execute("VACUUM")  # the old pages go
    con.close()
    assert idn.encode() not in path.read_bytes()
    assert reg.household_history(idn)["listed"].tolist() == [True, False]
    found = reg.check_seals()
    assert found.ok and found.rounds == 2
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con = sqlite3.connect(path)
        con.execute("DELETE FROM round_seals")
    con.close()
