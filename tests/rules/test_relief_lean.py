"""A lean relief round and the table written a slice at a time (a province: 5M households).

A lean round (``rank_households(..., texts=False)``) is the round without its
texts; :meth:`ReliefResult.chunks` writes them a slice at a time from each
row and the row above's values (``above__`` columns), and
:func:`fpanalysis.io.write_table_chunks` appends slice after slice to the file.
Joined, the slices must be the full round's table, whatever the slice size and
wherever a slice starts (even a slice of one row must quote the row above it).

The hand-made round: four urban one-person households as of 2025-06-30 (urban
standard 770 yuan, tier bands 0.3 and 0.6: incomes below 231 are tier 1,
below 462 tier 2), none an FP priority household:

=====  ======  ====  ====  ================================================
id     income  tier  rank  separated from the row above by
=====  ======  ====  ====  ================================================
H1     100     1     1     (first in the pool)
H2     150     1     2     per-capita income: 150.00 here, 100.00 there
H3     150     1     3     application date (H3 applied later than H2)
H4     300     2     4     tier: tier 2 here, tier 1 there
H5     900     -     -     not eligible (900 ≥ 770)
=====  ======  ====  ====  ================================================
"""

from __future__ import annotations

import contextlib
import io as _io
import os

import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.cli import main
from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import coerce
from fpanalysis.io import load_for_analysis, write_table, write_table_chunks
from fpanalysis.io import write as fio_write
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.rules import relief as rl
from fpanalysis.rules.relief import result as relief_result

P = load_params()
AS_OF = "2025-06-30"
ROUND = [
    ("H1", 100, "2025-03-01"),
    ("H2", 150, "2025-03-01"),
    ("H3", 150, "2025-03-05"),
    ("H4", 300, "2025-03-01"),
    ("H5", 900, "2025-03-01"),
]


def round_tables():
    hh = coerce(
        "households",
        [
            {
                "household_id": h,
                "head_name": f"户主{h}",
                "area": "urban",
                "township": "城关镇",
                "size": 1,
                "monthly_income": float(v),
                "application_date": d,
            }
            for h, v, d in ROUND
        ],
    )
    mm = coerce(
        "household_members",
        [
            {"member_id": f"M{h}", "household_id": h, "relation": "head", "sex": "M"}
            for h, _, _ in ROUND
        ],
    )
    return {"households": hh, "household_members": mm}


@pytest.fixture(scope="module")
def sample_tables():
    from fpanalysis.core.config import SAMPLE_DIR

    ds = load_for_analysis(SAMPLE_DIR, list(rl.RELIEF_TABLES))
    return {t: ds[t] for t in rl.RELIEF_TABLES}


# -------------------------------------------------------------------- the texts, a slice at a time


@pytest.mark.parametrize(
    ("household", "decided_en"),
    [
        pytest.param("H1", "first in the pool", id="rank-1-first"),
        pytest.param(
            "H2",
            "same tier, FP priority as H1 (rank 1) just above; separated by per-capita income: "
            "150.00 yuan here, 100.00 yuan there",
            id="rank-2-by-income",
        ),
        pytest.param(
            "H3",
            "same tier, FP priority, per-capita income as H2 (rank 2) just above; separated by "
            "application date: 2025-03-05 here, 2025-03-01 there",
            id="rank-3-by-date",
        ),
        pytest.param(
            "H4",
            "against H3 (rank 3) just above, separated by tier: tier 2 here, tier 1 there",
            id="rank-4-by-tier",
        ),
    ],
)
def test_a_one_row_slice_still_quotes_the_row_above(household, decided_en):
    lean = rl.rank_households(round_tables(), P, AS_OF, texts=False)
    assert lean.lean and "reason_en" not in lean.table
    pieces = list(lean.chunks(rows=1))
    assert len(pieces) == 5  # one row each, H5 (not eligible) last
    row = next(p for p in pieces if p["household_id"].iloc[0] == household).iloc[0]
    assert row["decided_en"] == decided_en
    assert row["reason_en"].startswith(f"rank {int(row['rank'])}. ")
    assert f"ranking: {decided_en};" in row["reason_en"]


def test_the_not_eligible_row_gets_its_reason_and_no_ranking_text():
    lean = rl.rank_households(round_tables(), P, AS_OF, texts=False)
    h5 = pd.concat(list(lean.chunks(rows=2))).set_index("household_id").loc["H5"]
    assert pd.isna(h5["decided_en"])
    assert h5["reason_en"].startswith(
        "not eligible: per-capita income 900.00 yuan (household income 900.00 yuan / 1) "
        "is not below the urban standard of 770 yuan"
    )


@pytest.mark.parametrize(
    ("pool", "limits", "rows"),
    [
        pytest.param("all", {"quota": 5}, 3, id="all-quota-rows3"),
        pytest.param("all", {"quota": 5}, 7, id="all-quota-rows7"),
        pytest.param("all", {"budget_yuan": 20000}, 64, id="all-budget-rows64"),
        pytest.param("all", {}, 299, id="all-nolimit-rows299"),
        pytest.param("all", {"quota": 5}, 300, id="all-quota-one-slice"),
        pytest.param("separate", {"quota": {"urban": 2, "rural": 3}}, 13, id="separate-rows13"),
        pytest.param("urban", {}, 50, id="urban-rows50"),
    ],
)
def test_the_slices_joined_are_the_full_round(sample_tables, pool, limits, rows):
    full = rl.rank_households(sample_tables, P, pool=pool, **limits)
    lean = rl.rank_households(sample_tables, P, pool=pool, texts=False, **limits)
    # everything but the texts (the FP evidence's too) is already in the lean table
    later = [*rl.TEXT_COLUMNS, *rl.EVIDENCE_COLUMNS]
    same = [c for c in full.table.columns if c not in later]
    pt.assert_frame_equal(lean.table[same], full.table[same])
    # what the evidence is written from, where the full table has it
    at = list(full.table.columns).index("fp_evidence_zh")
    assert list(lean.table.columns)[at : at + 2] == ["fp_branch", "children_at"]
    assert set(rl.EVIDENCE_INPUT_COLUMNS) <= set(lean.table.columns)
    pieces = list(lean.chunks(rows=rows))
    assert [len(p) for p in pieces[:-1]] == [rows] * (len(pieces) - 1)
    pt.assert_frame_equal(pd.concat(pieces).reset_index(drop=True), full.table)
    pt.assert_frame_equal(
        pd.concat(list(lean.output_chunks(rows)), ignore_index=True), full.output()
    )
    pt.assert_frame_equal(lean.with_texts().table, full.table)
    pt.assert_frame_equal(rl.cut_line(lean), rl.cut_line(full))


def test_one_row_slices_joined_are_the_full_round():
    """Slices of one row (each slice's texts have a fixed cost: on the hand round,
    not the sample's 300)."""
    full = rl.rank_households(round_tables(), P, AS_OF, quota=2)
    lean = rl.rank_households(round_tables(), P, AS_OF, quota=2, texts=False)
    pieces = list(lean.chunks(rows=1))
    assert [len(p) for p in pieces] == [1] * len(full.table)
    pt.assert_frame_equal(pd.concat(pieces).reset_index(drop=True), full.table)
    pt.assert_frame_equal(pd.concat(list(lean.output_chunks(1)), ignore_index=True), full.output())


def whole_rows_round(tables, pool, texts, limits):
    """The round's table stacked from the pools' whole assessed rows (as the Dask engine's
    workers stack theirs): what ranking on the keys alone must give."""
    as_of = rl.default_as_of(tables)
    order = tuple(P.at("ranking_order", as_of))
    if texts:
        a, _ = rl.prepare_round(tables, P, as_of, pool=pool, previous_round=None)
    else:  # a lean round leaves the FP evidence for later too
        a, _, _ = rl.prepare_lean_round(tables, P, as_of, pool=pool, previous_round=None)
    parts = []
    for p in sorted(a["pool"].dropna().unique()):
        ap = a[a["pool"].eq(p)]
        sel, _ = rl.rank_and_select(ap, order, p, pool=pool, texts=texts, **limits)
        parts += [sel, rl.not_ranked(ap, sel)]
    return rl.finish_table(parts, a, P, as_of, texts=texts)


def arrow_pieces(table):
    """Each text column's Arrow chunks (where a Parquet file's pages are cut)."""
    return {
        c: [len(k) for k in table[c].array.__arrow_array__().chunks]
        for c in table.columns
        if table[c].dtype == "str"
    }


@pytest.mark.parametrize("texts", [pytest.param(True, id="texts"), pytest.param(False, id="lean")])
@pytest.mark.parametrize(
    ("pool", "limits"),
    [
        pytest.param("all", {"quota": 5}, id="all-quota"),
        pytest.param("all", {"budget_yuan": 20000}, id="all-budget"),
        pytest.param("all", {}, id="all-nolimit"),
        pytest.param("separate", {"quota": {"urban": 2, "rural": 3}}, id="separate"),
        pytest.param("rural", {"quota": 3}, id="rural"),
    ],
)
def test_ranking_on_the_keys_gives_the_table_of_the_whole_rows(sample_tables, pool, limits, texts):
    r = rl.rank_households(sample_tables, P, pool=pool, texts=texts, **limits)
    whole = whole_rows_round(sample_tables, pool, texts, limits)
    pt.assert_frame_equal(r.table, whole, check_exact=True)
    assert arrow_pieces(r.table) == arrow_pieces(whole)


def test_the_selection_reasons_are_shared_texts_once_stacked(sample_tables):
    t = rl.rank_households(sample_tables, P, quota=5, texts=False).table
    why = t["why_en"][t["rank"].notna()]
    assert why.dtype == object  # the unranked rows have none (NaN), as the stacking gives
    assert why.map(id).nunique() == why.nunique() < len(why)


def test_the_households_given_are_left_as_they_were(sample_tables):
    before = {k: v.copy() for k, v in sample_tables.items()}
    rl.rank_households(sample_tables, P, quota=5, texts=False)
    for k, v in before.items():
        pt.assert_frame_equal(sample_tables[k], v)


def test_a_round_with_no_household_gives_one_empty_slice():
    t = round_tables()
    empty = {k: v.iloc[0:0] for k, v in t.items()}
    full = rl.rank_households(empty, P, AS_OF)
    lean = rl.rank_households(empty, P, AS_OF, texts=False)
    pieces = list(lean.output_chunks())
    assert len(pieces) == 1 and pieces[0].empty
    assert list(pieces[0].columns) == list(full.output().columns)


# --------------------------------------------------------------------------- write_table_chunks


FRAME = pd.DataFrame(
    {
        "household_id": ["H1", "H2", "H3", "H4", "H5"],
        "sex": ["F", "M", "F", "M", "F"],
        "note": ["=1+1", "plain", "-2", "@x", "ok"],
        "n": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "amount": [1.5, 2.25, 0.1, 1e6, None],
        "day": pd.to_datetime(["2025-01-01", None, "2025-02-03", "2025-03-04", "2025-04-05"]),
    }
)


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param([5], id="one-slice"),
        pytest.param([1, 4], id="1+4"),
        pytest.param([2, 2, 1], id="2+2+1"),
        pytest.param([0, 5], id="empty-first"),
        pytest.param([1, 1, 1, 1, 1], id="row-by-row"),
    ],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_slices_give_the_bytes_of_the_whole(tmp_path, cuts, lang):
    starts = [sum(cuts[:k]) for k in range(len(cuts))]
    pieces = [FRAME.iloc[s : s + n] for s, n in zip(starts, cuts, strict=True)]
    write_table(FRAME, tmp_path / "whole.csv", lang=lang, table="persons")
    path, rows = write_table_chunks(pieces, tmp_path / "parts.csv", lang=lang, table="persons")
    assert rows == 5
    assert path.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert "'=1+1" in path.read_text(encoding="utf-8-sig")  # formulas neutralised in every slice


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param([5], id="one-slice"),
        pytest.param([2, 3], id="2+3"),
        pytest.param([0, 1, 4], id="empty-first"),
    ],
)
def test_parquet_slices_read_back_as_the_whole(tmp_path, cuts):
    starts = [sum(cuts[:k]) for k in range(len(cuts))]
    pieces = [FRAME.iloc[s : s + n] for s, n in zip(starts, cuts, strict=True)]
    write_table(FRAME, tmp_path / "whole.parquet", lang="zh", table="persons")
    write_table_chunks(pieces, tmp_path / "parts.parquet", lang="zh", table="persons")
    pt.assert_frame_equal(
        pd.read_parquet(tmp_path / "parts.parquet"), pd.read_parquet(tmp_path / "whole.parquet")
    )
    if len(cuts) == 1:  # one slice is write_table itself
        assert (tmp_path / "parts.parquet").read_bytes() == (
            tmp_path / "whole.parquet"
        ).read_bytes()


def test_a_column_empty_in_the_first_slice_is_text(tmp_path):
    a = pd.DataFrame({"k": [1, 2], "why": pd.Series([None, None], dtype=object)})
    b = pd.DataFrame({"k": [3], "why": pd.Series(["quota used up"], dtype=object)})
    write_table_chunks([a, b], tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["why"].tolist()[2] == "quota used up" and back["why"].isna().sum() == 2


def test_xlsx_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(fio_write, "XLSX_MAX_ROWS", 3)
    with pytest.raises(UsageError) as e:
        write_table_chunks([FRAME.iloc[:2], FRAME.iloc[2:]], tmp_path / "t.xlsx")
    assert (
        "超过 Excel 工作表的上限 3 行" in e.value.message_zh
        and ".csv or .parquet" in e.value.message_en
    )
    assert e.value.file == str(tmp_path / "t.xlsx") and e.value.rule == "xlsx_rows"
    assert not (tmp_path / "t.xlsx").exists()
    with pytest.raises(UsageError):
        write_table(FRAME, tmp_path / "t.xlsx")
    write_table_chunks([FRAME.iloc[:2], FRAME.iloc[2:3]], tmp_path / "ok.xlsx")  # 3 rows fit


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_a_failure_mid_way_leaves_the_old_file(tmp_path, ext):
    out = tmp_path / f"t.{ext}"
    write_table(FRAME, out)
    before = out.read_bytes()

    def pieces():
        yield FRAME.iloc[:2]
        yield FRAME.iloc[2:4]
        raise RuntimeError("the cluster went away")

    with pytest.raises(RuntimeError):
        write_table_chunks(pieces(), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


# ------------------------------------------------------------------- the CLI writes slice by slice


def run_cli(argv):
    text = _io.StringIO()
    with contextlib.redirect_stdout(text):
        code = main(argv)
    return code, text.getvalue()


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_cli_output_does_not_depend_on_the_slice_size(tmp_path, monkeypatch, sample_tables, ext):
    """The sample (300 households) written in slices of 7 rows is the full round written whole."""
    monkeypatch.setattr(relief_result, "CHUNK_ROWS", 7)
    out = tmp_path / f"relief.{ext}"
    code, text = run_cli(["relief", "--quota", "180", "--lang", "zh", "--out", str(out)])
    assert code == 0
    full = rl.rank_households(sample_tables, P, quota=180)
    write_table(mask_frame(full.output()), tmp_path / f"whole.{ext}", lang="zh", table="households")
    if ext == "csv":
        assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    else:
        pt.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(tmp_path / "whole.parquet"))


def test_cli_dask_writes_the_texts_in_its_workers_slice_by_slice(tmp_path, monkeypatch):
    """``--engine dask`` with slices of 50 rows: the bytes of the pandas engine's file."""
    monkeypatch.setattr(relief_result, "CHUNK_ROWS", 50)
    files = {}
    for engine in ("pandas", "dask"):
        out = tmp_path / f"{engine}.csv"
        extra = (
            ["--engine", "dask", "--workers", "1", "--worker-memory", "2GB"]
            if engine == "dask"
            else []
        )
        code, _ = run_cli(["relief", "--quota", "180", "--out", str(out), *extra])
        assert code == 0
        files[engine] = out.read_bytes()
    assert files["dask"] == files["pandas"]
    assert files["dask"].count(b"\n") == 301  # the header and the sample's 300 households


# ------------------------------------------------------------------------- the per-household joins


@pytest.mark.parametrize(
    ("keys", "values", "sep", "expected"),
    [
        pytest.param(
            ["H1", "H1", "H2"], ["a", "b", "c"], "、", {"H1": "a、b", "H2": "c"}, id="two-groups"
        ),
        # each group keeps its order
        pytest.param(
            ["H2", "H1", "H2"], ["a", "b", "c"], ", ", {"H1": "b", "H2": "a, c"}, id="unsorted-keys"
        ),
        # no household: dropped, as groupby does
        pytest.param(["H1", None, "H1"], ["a", "b", "c"], "、", {"H1": "a、c"}, id="missing-key"),
        pytest.param([], [], "、", {}, id="empty"),
    ],
)
def test_join_per_group_is_groupby_join(keys, values, sep, expected):
    k, v = pd.Series(keys, dtype="str"), pd.Series(values, dtype="str")
    got = rl.join_per_group(k, v, sep)
    assert got.to_dict() == expected
    if keys:
        assert got.to_dict() == v.groupby(k).agg(sep.join).to_dict()


def test_a_lean_round_gives_the_meeting_workbook_and_the_register_their_reasons(tmp_path):
    from fpanalysis.register import open_register

    full = rl.rank_households(round_tables(), P, AS_OF, quota=2)
    lean = rl.rank_households(round_tables(), P, AS_OF, quota=2, texts=False)
    export_meeting_xlsx(full, tmp_path / "full.xlsx")
    export_meeting_xlsx(lean, tmp_path / "lean.xlsx")
    assert (tmp_path / "lean.xlsx").read_bytes() == (tmp_path / "full.xlsx").read_bytes()
    with open_register(tmp_path / "r.sqlite") as reg:
        round_id = reg.record_relief(lean, P)
        rows = reg.relief_rows(round_id)
    assert rows.set_index("household_id").loc["H2", "reason_en"].startswith("rank 2. tier 1")


def test_a_dask_lean_round_writes_its_texts_in_the_workers_then_here_once_closed(sample_tables):
    """Slices of 40 rows: by the workers while the client is open, in the driver after it closed."""
    from fpanalysis.engines.dask import relief as dr
    from fpanalysis.engines.dask.cluster import dask_client

    full = rl.rank_households(sample_tables, P, quota=180)
    with dask_client(n_workers=2, processes=False, memory_limit="2GB") as client:
        lean = dr.rank_households(
            client, None, P, quota=180, tables=sample_tables, partitions=3, texts=False
        ).result
        assert lean.runner is not None
        # the workers write the FP evidence with the assessment; a round made here, with the
        # reasons
        here = rl.rank_households(sample_tables, P, quota=180, texts=False)
        pt.assert_frame_equal(lean.table, rl.fp_types.with_evidence(here.table, here.children))
        in_workers = pd.concat(list(lean.chunks(rows=40))).reset_index(drop=True)
    pt.assert_frame_equal(in_workers, full.table)
    pt.assert_frame_equal(lean.output(), full.output())  # the client is closed now


@pytest.mark.parametrize(
    ("limit", "threads"), [pytest.param(10**9, True, id="two"), pytest.param(0, False, id="one")]
)
def test_the_reasons_are_made_two_slices_at_once_where_two_threads_allow(
    sample_tables, monkeypatch, limit, threads
):
    """Where ``two_threads`` allows the round's rows, two slices' reasons are made at once (on
    the in-order pool's threads); otherwise one at a time, in the caller's thread. The same
    slices either way."""
    import threading
    import time

    from fpanalysis.core import ahead

    def pool_threads() -> bool:
        return any(t.name.startswith("fpanalysis-in-order") for t in threading.enumerate())

    deadline = time.monotonic() + 10  # an earlier round's threads end once idle
    while pool_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    monkeypatch.setattr(ahead, "TWO_THREADS_ROWS", limit)
    lean = rl.rank_households(sample_tables, P, quota=5, texts=False)
    seen = set()
    pieces = []
    for piece in lean.output_chunks(rows=7):
        seen |= {t.name for t in threading.enumerate()}
        pieces.append(piece)
    pooled = any(name.startswith("fpanalysis-in-order") for name in seen)
    assert pooled is (threads and (os.cpu_count() or 1) >= 2)
    full = rl.rank_households(sample_tables, P, quota=5)
    pt.assert_frame_equal(pd.concat(pieces, ignore_index=True), full.output())
