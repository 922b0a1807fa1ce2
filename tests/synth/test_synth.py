"""The synthetic-data generator and the committed sample (fpanalysis.synth, ``fpanalysis synth``).

Structure is checked on the default county (the committed sample's size);
calibration on one larger run (cached for the module). Every run is seconds.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from stdnum.cn import ric

from fpanalysis import synth
from fpanalysis.cli import main as cli_main
from fpanalysis.core import config
from fpanalysis.core.ids import check_chars
from fpanalysis.core.schema import TABLES, TABLES_LIST

END = synth.END


@pytest.fixture(scope="module")
def sample() -> synth.SynthTables:
    """The committed sample's tables: generate(20241)."""
    return synth.generate(seed=20241)


@pytest.fixture(scope="module")
def big() -> synth.SynthTables:
    """A larger county for calibration (3000 couples, about 3600 births; about 1 s)."""
    return synth.generate(seed=20241, people=3000)


@pytest.fixture(scope="module")
def faulty() -> synth.SynthTables:
    return synth.generate(seed=11, people=120, faults=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_same_seed_same_bytes(tmp_path, monkeypatch, fmt):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / (f"{run}.xlsx" if fmt == "xlsx" else run)
        synth.write_dataset(
            synth.generate(seed=99, people=60),
            out,
            format=fmt,
            lang="zh" if fmt == "xlsx" else "en",
        )
        outs.append({out.name: out.read_bytes()} if fmt == "xlsx" else _files(out))
    assert list(outs[0].values()) == list(outs[1].values())


def test_different_seed_different_data():
    a, b = synth.generate(seed=1, people=60), synth.generate(seed=2, people=60)
    assert not a["persons"]["id_number"].equals(b["persons"]["id_number"])
    assert not a["households"]["monthly_income"].equals(b["households"]["monthly_income"])


def test_committed_sample_is_the_generators_output(tmp_path, monkeypatch):
    """data/sample and data/sample_workbook.xlsx are exactly `make sample`.

    Regenerate them after changing synth.
    """
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    t = synth.generate(seed=20241)
    synth.write_dataset(t, tmp_path / "csv")
    assert _files(tmp_path / "csv") == {
        k: v for k, v in _files(config.SAMPLE_DIR).items() if k.endswith(".csv")
    }
    synth.write_dataset(t, tmp_path / "book.xlsx", format="xlsx", lang="zh")
    assert (tmp_path / "book.xlsx").read_bytes() == config.SAMPLE_WORKBOOK.read_bytes()


@pytest.mark.parametrize(
    ("epoch", "stamp"),
    [
        pytest.param(None, b"2000-01-01T00:00:00Z", id="fixed-2000-01-01"),
        pytest.param("1700000000", b"2023-11-14T22:13:20Z", id="SOURCE_DATE_EPOCH"),
    ],
)
def test_xlsx_document_time(tmp_path, monkeypatch, epoch, stamp):
    if epoch is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    out = tmp_path / "b.xlsx"
    synth.write_dataset(synth.generate(seed=3, people=20), out, format="xlsx")
    z = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    core = z.read("docProps/core.xml")
    assert core.count(stamp) == 2  # created and modified
    assert {i.date_time for i in z.infolist()} == {
        tuple(
            int(x)
            for x in (stamp[:4], stamp[5:7], stamp[8:10], stamp[11:13], stamp[14:16], stamp[17:19])
        )
    }


# --------------------------------------------------------------------------- structure


def test_every_table_with_schema_columns_and_dtypes(sample):
    assert list(sample) == [t.name for t in TABLES_LIST]
    for t in TABLES_LIST:
        df = sample[t.name]
        assert df.columns.tolist() == t.names, t.name
        assert {c: str(d) for c, d in df.dtypes.items()} == {c.name: c.dtype for c in t.columns}, (
            t.name
        )
        assert df.index.tolist() == list(range(2, 2 + len(df))), t.name
        assert len(df) > 0, t.name


@pytest.mark.parametrize("table", [pytest.param(table, id=table) for table in TABLES])
def test_keys_unique_and_sorted(sample, table):
    df = sample[table]
    key = list(TABLES[table].key)
    assert not df.duplicated(key).any()
    assert df[key].equals(df[key].sort_values(key).reset_index(drop=True).set_axis(df.index))


_REFS = [(t.name, c.name, c.references) for t in TABLES_LIST for c in t.columns if c.references]


@pytest.mark.parametrize(
    ("table", "column", "target"),
    [pytest.param(t, c, target, id=f"{t}.{c}") for t, c, target in _REFS],
)
def test_references_resolve(sample, table, column, target):
    tt, tc = target.split(".")
    values = sample[table][column].dropna()
    assert values.isin(sample[tt][tc]).all()


def test_required_columns_filled(sample):
    for t in TABLES_LIST:
        for c in t.columns:
            if c.required:
                assert sample[t.name][c.name].notna().all(), f"{t.name}.{c.name}"


def test_enum_values_are_codes(sample):
    for t in TABLES_LIST:
        for c in t.columns:
            s = sample[t.name][c.name].dropna()
            if c.type == "enum":
                assert s.isin(c.codes).all(), f"{t.name}.{c.name}"
            if c.type == "set":
                assert s.str.split(";").explode().isin(c.codes).all()
                assert (s == s.str.split(";").map(lambda x: ";".join(sorted(x)))).all()


# --------------------------------------------------------------------------- ID numbers


@pytest.mark.parametrize(
    ("body", "check"),
    [
        pytest.param("11010519491231002", "X", id="GB11643-example-X"),
        pytest.param("44052418800101001", "4", id="GB11643-example-4"),
    ],
)
def test_check_chars_hand_examples(body, check):
    assert check_chars([body]).tolist() == [check]


def test_check_chars_agree_with_stdnum(sample):
    nums = pd.concat([sample["persons"]["id_number"], sample["households"]["head_id_number"]])
    assert all(ric.calc_check_digit(x) == x[-1] for x in nums)


def test_id_numbers_agree_with_sex_and_birth_date(sample):
    ids = pytest.importorskip("fpanalysis.core.ids")
    p = sample["persons"]
    assert p["id_number"].is_unique
    for num, sex, birth in zip(p["id_number"], p["sex"], p["birth_date"], strict=True):
        r = ids.check_id_number(num, birth_date=birth, sex=sex)
        assert r.ok and not r.errors, (num, r.errors)
    # regions are real codes; the 2000 renumbering (412825 -> 411722) shows in people born
    # before 2000
    regions = p["id_number"].str[:6]
    assert {"412825", "411722"} <= set(regions)
    assert ((regions == "411722") & (p["birth_date"].dt.year < 2000)).any()


def test_household_head_id_agrees_with_head_member(sample):
    h = sample["households"]
    m = sample["household_members"]
    heads = m[m["relation"] == "head"]
    assert heads["household_id"].is_unique and set(heads["household_id"]) == set(h["household_id"])
    j = h.merge(heads, on="household_id")
    assert (j["head_id_number"].str[6:14] == j["birth_date"].dt.strftime("%Y%m%d")).all()
    odd = j["head_id_number"].str[16].astype(int) % 2 == 1
    assert (odd == (j["sex"] == "M")).all()


# --------------------------------------------------------------------------- dates and logic

_ORDER = [
    pytest.param("persons", "hire_date", "leave_date", id="persons.hire_date<=leave_date"),
    pytest.param(
        "couples", "marriage_date", "divorce_date", id="couples.marriage_date<=divorce_date"
    ),
    pytest.param(
        "permits", "issue_date", "cancelled_date", id="permits.issue_date<=cancelled_date"
    ),
    pytest.param(
        "pregnancies", "detected_date", "outcome_date", id="pregnancies.detected_date<=outcome_date"
    ),
    pytest.param(
        "surveys", "survey_date", "reported_date", id="surveys.survey_date<=reported_date"
    ),
    pytest.param("check_rounds", "start_date", "end_date", id="check_rounds.start_date<=end_date"),
    pytest.param(
        "contraception", "start_date", "end_date", id="contraception.start_date<=end_date"
    ),
    pytest.param(
        "contraception",
        "start_date",
        "falsified_found_date",
        id="contraception.start_date<=falsified_found_date",
    ),
    pytest.param(
        "certificates", "issue_date", "revoked_date", id="certificates.issue_date<=revoked_date"
    ),
    pytest.param(
        "households",
        "application_date",
        "last_review_date",
        id="households.application_date<=last_review_date",
    ),
]


@pytest.mark.parametrize(("table", "first", "then"), _ORDER)
def test_dates_in_order(sample, table, first, then):
    df = sample[table].dropna(subset=[first, then])
    assert len(df) > 0
    assert (df[then] >= df[first]).all()


def test_every_date_on_or_before_the_extract_and_last_in_late_2025(sample):
    last = max(
        df[c.name].max()
        for t in TABLES_LIST
        for c in t.columns
        if c.type == "date"
        for df in [sample[t.name]]
    )
    assert pd.Timestamp("2025-09-01") <= last <= END


def test_years_2018_to_2025_covered(sample):
    years = set(sample["surveys"]["survey_date"].dt.year)
    assert years == set(range(2018, 2026))
    assert (sample["check_rounds"]["start_date"].dt.year.value_counts() == 2).all()
    assert set(sample["check_rounds"]["start_date"].dt.month) == {3, 9}


def test_spouses_sexes_and_checked_women(sample):
    sex = sample["persons"].set_index("person_id")["sex"]
    c = sample["couples"]
    assert (c["wife_id"].map(sex) == "F").all() and (c["husband_id"].map(sex) == "M").all()
    assert (sample["check_attendance"]["person_id"].map(sex) == "F").all()
    assert c["wife_id"].is_unique and c["husband_id"].is_unique


def test_persons_categories(sample):
    p = sample["persons"]
    staff = p["category"] == "staff"
    assert p.loc[staff, "hire_date"].notna().all() and p.loc[staff, "unit_id"].notna().all()
    assert p.loc[p["category"] == "outside", "unit_id"].isna().all()
    assert p.loc[p["category"] == "floating", "unit_id"].notna().all()
    assert p.loc[~staff, "leave_date"].isna().all()
    assert set(p["category"]) == {"staff", "floating", "outside"}
    assert 250 <= staff.sum() <= 450


def test_units_sections_and_affiliated(sample):
    u = sample["units"]
    assert len(u) == 20 and u["name"].is_unique
    assert set(u["kind"]) == {"section", "affiliated"}
    assert {"社会救助股", "社会福利院", "婚姻登记处"} <= set(u["name"])


def test_births_link_children_of_the_same_couple_on_the_same_day(sample):
    p = sample["pregnancies"]
    b = p[p["outcome"] == "birth"].merge(sample["children"], on="child_id", suffixes=("", "_child"))
    assert len(b) == (p["outcome"] == "birth").sum()
    assert (b["couple_id"] == b["couple_id_child"]).all() and (
        b["outcome_date"] == b["birth_date"]
    ).all()
    assert p.loc[p["outcome"] != "birth", "child_id"].isna().all()
    ongoing = p["outcome"] == "ongoing"
    assert p.loc[ongoing, ["outcome_date", "gestation_weeks"]].isna().all().all()
    assert p.loc[~ongoing, "gestation_weeks"].between(4, 42).all()


def test_children_born_after_marriage(sample):
    j = sample["children"].merge(sample["couples"], on="couple_id")
    assert (j["birth_date"] > j["marriage_date"]).all()


def test_certificates_only_child_parent_payee(sample):
    ce = sample["certificates"].merge(sample["children"], on=["child_id", "couple_id"], how="left")
    assert ce["birth_date"].notna().all() and (ce["issue_date"] >= ce["birth_date"]).all()
    cp = ce.merge(sample["couples"], on="couple_id")
    assert ((cp["payee_id"] == cp["wife_id"]) | (cp["payee_id"] == cp["husband_id"])).all()
    # only child when issued: no sibling born on or before the issue date
    ch = sample["children"]
    sib = ce[["cert_id", "couple_id", "child_id", "issue_date"]].merge(
        ch, on="couple_id", suffixes=("", "_s")
    )
    sib = sib[(sib["child_id_s"] != sib["child_id"]) & (sib["birth_date"] <= sib["issue_date"])]
    assert sib.empty
    cat = sample["persons"].set_index("person_id")["category"]
    payee_cat = ce["payee_id"].map(cat)
    assert (payee_cat == "staff").mean() > 0.8 and (payee_cat != "staff").any()
    assert 0 < ce["revoked_date"].notna().sum() < len(ce) / 2


def test_households_size_members_and_declared_types(sample):
    h = sample["households"].set_index("household_id")
    m = sample["household_members"]
    assert (m.groupby("household_id").size().reindex(h.index) == h["size"]).all()
    assert h["size"].between(1, 6).all() and set(h["size"]) == set(range(1, 7))
    kids = m[m["relation"] == "child"]
    n_kids = kids.groupby("household_id").size().reindex(h.index, fill_value=0)
    daughters = (
        (kids["sex"] == "F").groupby(kids["household_id"]).sum().reindex(h.index, fill_value=0)
    )
    ster = (
        m[m["relation"].isin(["head", "spouse"])]
        .groupby("household_id")["sterilized"]
        .any()
        .reindex(h.index)
    )
    derived = pd.Series(None, index=h.index, dtype="object")
    derived[(n_kids == 1) & (daughters == 1)] = "only_daughter"
    derived[(n_kids == 2) & (daughters == 2) & ster.fillna(False)] = "two_daughters_sterilized"
    derived[(n_kids == 0) & h["infertile"].fillna(False)] = "infertile"
    declared = h["declared_fp_type"].dropna()
    assert (declared == derived[declared.index]).all()
    assert set(declared) == {"only_daughter", "two_daughters_sterilized", "infertile"}
    assert derived.notna().sum() > len(declared)  # some qualify without declaring


# --------------------------------------------------------------------------- §4 and behaviour


def test_section4_case_exists(sample):
    """A couple with a valid permit terminates for sex selection without approval, then has
    another pregnancy."""
    p = sample["pregnancies"]
    pm = sample["permits"]
    sel = p[(p["termination_reason"] == "sex_selection") & ~p["county_approved"].fillna(False)]
    j = sel.merge(pm, on="couple_id")
    valid = j[
        (j["issue_date"] <= j["detected_date"]) & ~(j["cancelled_date"] <= j["detected_date"])
    ]
    later = valid.merge(p[["couple_id", "detected_date"]], on="couple_id", suffixes=("", "_later"))
    later = later[later["detected_date_later"] > later["outcome_date"]]
    assert later["couple_id"].nunique() >= 2
    # both variants: the county's cancellation recorded, and not recorded with a later permit
    assert (later["cancel_reason"] == synth.CANCEL_SEX_SELECTION).any()
    assert (
        later.merge(pm, on="couple_id", suffixes=("", "_new")).pipe(
            lambda d: d["issue_date_new"] > d["outcome_date"]
        )
    ).any()


def test_section4_case_list_not_empty(sample):
    cases = pytest.importorskip("fpanalysis.rules.cases")
    from fpanalysis.core.params import load_params

    cl = cases.case_list(sample, load_params())
    assert cl["violations"].str.contains("sex_selective_termination").sum() >= 2
    assert (cl["out_of_plan_births"] + cl["pregnancies_without_permit"] > 0).any()


def test_non_compliant_behaviour_present(sample):
    s = sample["surveys"]
    base = s[s["kind"] == "baseline"]
    assert (base["survey_date"].dt.month > 3).any()  # late baselines
    prob = s[s["problem_found"]]
    lag = (prob["reported_date"] - prob["survey_date"]).dt.days
    assert (lag > 15).any() and prob["reported_date"].isna().any() and (lag <= 15).mean() > 0.7
    assert sample["contraception"]["falsified_found_date"].notna().sum() >= 3
    p = sample["pregnancies"]
    late = p[(p["outcome"] == "termination") & (p["gestation_weeks"] >= 16)]
    assert (late["county_approved"].fillna(False) & late["designated_facility"].fillna(False)).any()
    assert (~late["county_approved"].fillna(False)).any()
    assert set(p["outcome"]) == {"ongoing", "birth", "termination", "miscarriage"}


# --------------------------------------------------------------------------- calibration


def test_sex_ratio_at_birth_about_118(big):
    sex = big["children"]["sex"]
    ratio = 100 * (sex == "M").sum() / (sex == "F").sum()
    assert 106 <= ratio <= 131  # 118 ± about 3 standard errors (≈4) at ~3600 births


def test_completed_fertility_in_chinas_range(big):
    c = big["couples"].merge(
        big["persons"][["person_id", "birth_date"]], left_on="wife_id", right_on="person_id"
    )
    done = c[(END - c["birth_date"]).dt.days > 46 * 365.25]
    kids = big["children"].groupby("couple_id").size().reindex(done["couple_id"], fill_value=0)
    assert 1.2 <= kids.mean() <= 1.6


def test_incomes_around_and_below_the_dibao_standard(big):
    from fpanalysis.core.params import load_params

    p = load_params()
    h = big["households"]
    std = h["area"].map({a: p.dibao_standard(a, END.date()) for a in ("urban", "rural")})
    ratio = h["monthly_income"] / h["size"] / std
    assert 0.62 <= (ratio < 1).mean() <= 0.82
    assert ratio.max() < 1.85
    assert set(h["area"]) == {"urban", "rural"} and "城关镇" in set(h["township"])


def test_people_scales_couples_households_and_units(big):
    assert len(big["couples"]) == 3000 and len(big["households"]) == 3000
    assert len(big["units"]) == 200 and big["units"]["name"].is_unique


def test_check_attendance_mostly_attended(sample):
    a = sample["check_attendance"].merge(sample["check_rounds"], on="round_id")
    inside = a["attended_date"].between(a["start_date"], a["end_date"])
    assert 0.9 < inside.mean() < 1.0


# --------------------------------------------------------------------------- faults


def test_clean_output_has_no_fault_log(sample):
    assert sample.faults is None


@pytest.mark.parametrize("kind", [pytest.param(kind, id=kind) for kind in synth.FAULTS])
def test_faults_add_each_kind(faulty, kind):
    log = faulty.faults[faulty.faults["kind"] == kind]
    table, rate, _zh, _en = synth.FAULTS[kind]
    assert 1 <= len(log) <= max(1, round(rate * len(faulty[table]) + 1))
    assert (log["table"] == table).all()
    key = TABLES[table].key[0]
    df = faulty[table]
    for k, col, value in log[["key", "column", "value"]].itertuples(index=False):
        cells = df.loc[df[key] == k, col]
        shown = [v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v) for v in cells]
        assert value in shown, (kind, k, col, value, shown)


def test_fault_kinds_are_visible(faulty):
    f = faulty
    p = f["persons"]
    bad = f.faults.set_index("kind")
    wrong = p[p["person_id"].isin(bad.loc[["bad_check_char"], "key"])]["id_number"]
    assert all(ric.calc_check_digit(x) != x[-1] for x in wrong)
    assert f["children"]["child_id"].duplicated().any()
    assert f["surveys"]["survey_date"].dtype == object
    assert not f["persons"]["unit_id"].dropna().isin(f["units"]["unit_id"]).all()


def test_faults_written_as_text(tmp_path, faulty):
    synth.write_dataset(faulty, tmp_path / "d")
    text = (tmp_path / "d" / "surveys.csv").read_text(encoding="utf-8-sig")
    assert "-02-30" in text
    assert "约" in (tmp_path / "d" / "households.csv").read_text(encoding="utf-8-sig")


# ------------------------------------------------------------------ writing and the command line


def test_csv_format(tmp_path, sample):
    synth.write_dataset(sample, tmp_path / "en")
    synth.write_dataset(sample, tmp_path / "zh", lang="zh")
    raw = (tmp_path / "en" / "persons.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfperson_id,name,id_number,") and b"\r\n" not in raw
    zh = (tmp_path / "zh" / "household_members.csv").read_text(encoding="utf-8-sig").splitlines()
    assert zh[0] == "成员编号,户编号,关系,性别,出生日期,已结扎,残疾"
    assert zh[1].split(",")[2] == "户主" and zh[1].split(",")[5] in ("是", "否")


def test_parquet_round_trip(tmp_path, sample):
    synth.write_dataset(sample, tmp_path / "p", format="parquet")
    back = pd.read_parquet(tmp_path / "p" / "pregnancies.parquet")
    exp = sample["pregnancies"].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, exp, check_dtype=False)


def test_cli_writes_and_reports(tmp_path, capsys):
    assert (
        cli_main(
            ["synth", "--seed", "4", "--people", "30", "--out", str(tmp_path / "x"), "--faults"]
        )
        == 0
    )
    from fpanalysis.io.guard import MARKER, foreign_files

    # the tables, and the marker that says synth wrote them (a rerun may replace them)
    written = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert written == sorted([MARKER, *(f"{t}.csv" for t in TABLES)])
    assert foreign_files(tmp_path / "x") == []
    err = capsys.readouterr().err
    assert all(kind in err for kind in synth.FAULTS)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--people", "0", "--out", "OUT"], id="people-zero"),
        pytest.param(["--format", "xlsx", "--out", "OUT"], id="xlsx-needs-file"),
        pytest.param(["--out", "OUT.xlsx", "--format", "csv"], id="csv-needs-folder"),
    ],
)
def test_cli_usage_errors(tmp_path, capsys, argv):
    argv = [a.replace("OUT", str(tmp_path / "o")) for a in argv]
    assert cli_main(["synth", "--lang", "en", *argv]) == 2
    assert "error:" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- validate


def _validate(path):
    io_ = pytest.importorskip("fpanalysis.io")
    val = pytest.importorskip("fpanalysis.io.validate")
    return val.validate_dataset(io_.load_dataset(path))


@pytest.mark.parametrize(
    "which",
    [pytest.param("csv", id="data/sample"), pytest.param("workbook", id="sample_workbook.xlsx")],
)
def test_validate_passes_on_committed_sample(which):
    r = _validate(config.SAMPLE_DIR if which == "csv" else config.SAMPLE_WORKBOOK)
    assert r.ok, [p.text("en") for p in r.errors[:5]]


@pytest.mark.parametrize(
    ("seed", "fmt"),
    [
        pytest.param(1, "csv", id="seed1-csv"),
        pytest.param(2, "parquet", id="seed2-parquet"),
        pytest.param(3, "xlsx", id="seed3-xlsx"),
    ],
)
def test_validate_passes_on_generated(tmp_path, seed, fmt):
    out = tmp_path / ("d.xlsx" if fmt == "xlsx" else "d")
    synth.write_dataset(
        synth.generate(seed=seed, people=120), out, format=fmt, lang="zh" if fmt == "xlsx" else "en"
    )
    r = _validate(out)
    assert r.ok, [p.text("en") for p in r.errors[:5]]


@pytest.fixture(scope="module")
def faulty_report(tmp_path_factory, faulty):
    out = tmp_path_factory.mktemp("faulty") / "d"
    synth.write_dataset(faulty, out)
    return _validate(out)


def test_validate_fails_on_faults(faulty_report):
    assert not faulty_report.ok


def test_validate_fails_on_faulty_workbook(tmp_path, faulty):
    synth.write_dataset(faulty, tmp_path / "f.xlsx", format="xlsx", lang="zh")
    r = _validate(tmp_path / "f.xlsx")
    assert not r.ok
    assert {"persons", "surveys", "households", "pregnancies"} <= {p.table for p in r.errors}


@pytest.mark.parametrize("kind", [pytest.param(kind, id=kind) for kind in synth.FAULTS])
def test_validate_reports_each_fault(faulty, faulty_report, kind):
    log = faulty.faults[faulty.faults["kind"] == kind]
    # a contradicted declared FP type is reported as a warning (relief uses the derived type)
    found = {(p.table, p.key) for p in faulty_report.errors + faulty_report.warnings}
    missing = [k for t, k in zip(log["table"], log["key"], strict=True) if (t, k) not in found]
    assert not missing, (kind, missing)


def test_legal_marriage_ages_and_plausible_mothers(big):
    age_on = pytest.importorskip("fpanalysis.rules.scope").age_on
    c = big["couples"]
    born = big["persons"].set_index("person_id")["birth_date"]
    assert (age_on(c["wife_id"].map(born), c["marriage_date"]) >= 20).all()
    assert (age_on(c["husband_id"].map(born), c["marriage_date"]) >= 22).all()
    ch = big["children"].merge(c, on="couple_id")
    assert age_on(ch["wife_id"].map(born), ch["birth_date"]).between(20, 46).all()


@pytest.mark.parametrize(
    "people",
    [
        pytest.param(1, id="1-couple"),
        pytest.param(2, id="2-couples"),
        pytest.param(5, id="5-couples"),
    ],
)
def test_tiny_datasets_are_consistent(people):
    for seed in range(2):
        t = synth.generate(seed=seed, people=people)
        assert len(t["couples"]) == people and len(t["households"]) == people
        for table, column, target in _REFS:
            tt, tc = target.split(".")
            assert t[table][column].dropna().isin(t[tt][tc]).all(), (seed, table, column)
        assert synth.generate(seed=seed, people=people, faults=True).faults is not None


def test_household_children_born_to_plausible_mothers(big):
    m = big["household_members"]
    kids = m[m["relation"] == "child"]
    assert (kids["birth_date"] <= END).all()
    assert not kids.duplicated(["household_id", "birth_date"]).any()
    parents = m[m["relation"].isin(["head", "spouse"])].groupby("household_id")["birth_date"].min()
    gap = (kids["birth_date"] - kids["household_id"].map(parents)).dt.days / 365.25
    assert gap.between(18, 46).all()
