"""A relief round on Dask whose driver gathers only the households' keys (rulebook §6).

The driver ranks and selects on the keys (``relief_keys.key_table``); the rows stay in the
workers, cut into pieces of blocks of the round's order, and the output is written from them a
slice at a time (``relief_rows.HeldRound``). Its files must be the pandas engine's, byte for byte,
whatever the pool mode, the limit, the partitions and the blocks.

A real ``LocalCluster`` (threads, 2 workers) is started once for the module. The blocks are made
small (``BLOCK_ROWS``) so that a slice spans several blocks and every block several partitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import coerce
from fpanalysis.engines.dask import relief as dr
from fpanalysis.engines.dask import relief_keys as rk
from fpanalysis.engines.dask import relief_rows as rr
from fpanalysis.engines.dask.cluster import dask_client, partition_paths
from fpanalysis.io import load_for_analysis, write_table_chunks
from fpanalysis.rules import relief as rl

P = load_params()

#: Every pool mode with a quota and with a budget (the synthetic households apply from 2014 on;
#: about seven in ten are eligible and half receive relief now, so these cut among the newcomers).
ROUNDS = [
    pytest.param({"pool": "all", "quota": 0.6}, id="all-quota"),
    pytest.param({"pool": "all", "budget_yuan": 0.6}, id="all-budget"),
    pytest.param({"pool": "urban", "quota": 0.3}, id="urban-quota"),
    pytest.param({"pool": "rural", "budget_yuan": 0.3}, id="rural-budget"),
    pytest.param({"pool": "separate", "quota": 0.3}, id="separate-quota"),
    pytest.param({"pool": "separate", "budget_yuan": 0.3}, id="separate-budget"),
    pytest.param({"pool": "all"}, id="all-no-limit"),
]


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2, processes=False, memory_limit="2GB") as c:
        yield c


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(rr, "BLOCK_ROWS", 37)


def limits(kw, households: pd.DataFrame) -> dict:
    """Round options with the limits made concrete: a share of the households (quota) or of their
    incomes' scale (budget), per area when the pools are separate."""
    out = {"pool": kw["pool"]}
    for name in ("quota", "budget_yuan"):
        if name not in kw:
            continue
        share = kw[name]

        def amount(n, name=name, share=share):
            return int(n * share) if name == "quota" else int(n * share * 800)

        if kw["pool"] == "separate":
            counts = households["area"].value_counts()
            out[name] = {a: amount(int(counts.get(a, 0))) for a in ("urban", "rural")}
        else:
            out[name] = amount(len(households))
    return out


def write(result, path):
    chunks = (mask_frame(c) for c in result.output_chunks())
    write_table_chunks(chunks, path, lang="zh", table="households")
    return path.read_bytes()


def categories_as_full(held: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """The key table with its categoricals in the full table's types."""
    return held.astype({c: full[c].dtype for c in rk.CATEGORICAL})


def same_round(held_result, want, tmp_path, slices=(50, 1000)):
    """The held round writes the pandas engine's files and has its keys, notes and cut line;
    joined, its ``slices``-row slices are the table (each slice a few Dask tasks: a slice of 5
    is asked for once, on the sample)."""
    assert isinstance(held_result, rr.HeldRound)
    full = want.with_texts()
    t = held_result.table
    assert list(t.columns) == [c for c in full.table.columns if c in t.columns]
    pt.assert_frame_equal(categories_as_full(t, full.table), full.table[list(t.columns)])
    assert held_result.notes == want.notes
    assert held_result.as_of == want.as_of
    pt.assert_frame_equal(
        categories_as_full(held_result.selected, full.table).reset_index(drop=True),
        full.selected[list(t.columns)].reset_index(drop=True),
    )
    cut_held, cut_full = rl.cut_line(held_result), rl.cut_line(full)
    pt.assert_frame_equal(cut_held.astype(cut_full.dtypes.to_dict()), cut_full)
    for suffix in (".parquet", ".csv"):
        got = write(held_result, tmp_path / f"held{suffix}")
        assert got == write(want, tmp_path / f"pandas{suffix}")
    pt.assert_frame_equal(held_result.with_texts().table, full.table)
    # slices across blocks and partitions
    for rows in slices:
        pt.assert_frame_equal(
            pd.concat(list(held_result.chunks(rows))).reset_index(drop=True), full.table
        )


@pytest.mark.parametrize("kw", ROUNDS)
def test_sample_in_four_partitions_writes_the_pandas_files(client, sample_dir, kw, tmp_path):
    ds = load_for_analysis(sample_dir, rl.RELIEF_TABLES)
    opts = limits(kw, ds["households"])
    got = dr.rank_households(
        client, None, P, tables=ds, partitions=4, texts=False, keys_only=True, **opts
    )
    assert got.partitions == 4
    want = rl.rank_households(ds, P, texts=False, **opts)
    first = kw == ROUNDS[0].values[0]  # 5-row slices (a task each) on one round only
    same_round(got.result, want, tmp_path, (5, 50, 1000) if first else (50,))


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A partitioned dataset in four aligned partitions (households and members only): about
    550 households, so that with :func:`small_blocks` a pass over the round is some 60 pieces
    (each piece a Dask task of its own)."""
    from fpanalysis.synth.scale import generate_partitioned

    out = tmp_path_factory.mktemp("province")
    generate_partitioned(out, 1_200, seed=7, partition_people=300, tables=list(rl.RELIEF_TABLES))
    return out


@pytest.mark.parametrize(
    "kw", [r for r in ROUNDS if r.id in ("all-quota", "rural-budget", "separate-budget")]
)
def test_partitioned_dataset_writes_the_pandas_files(client, province, kw, small_blocks, tmp_path):
    parts = partition_paths(province)
    assert len(parts["households"]) >= 4
    tables = dr.read_partition_fast(parts)
    opts = limits(kw, tables["households"])
    got = dr.rank_households(
        client, province, P, texts=False, keys_only=True, validate=False, **opts
    )
    assert got.partitions == len(parts["households"]) and not got.repartitioned
    want = rl.rank_households(tables, P, texts=False, **opts)
    same_round(got.result, want, tmp_path)


def test_validated_partitions_write_the_pandas_files(client, province, small_blocks, tmp_path):
    """Read and validated in the workers (as the CLI does), quota six in ten."""
    ds = load_for_analysis(province, rl.RELIEF_TABLES)
    opts = limits({"pool": "all", "quota": 0.6}, ds["households"])
    got = dr.rank_households(client, province, P, texts=False, keys_only=True, **opts)
    same_round(got.result, rl.rank_households(ds, P, texts=False, **opts), tmp_path)


def test_the_rows_are_gone_once_the_client_is_closed(client, sample_dir):
    ds = load_for_analysis(sample_dir, rl.RELIEF_TABLES)
    # a second client of the module's cluster (a second cluster in one process can stall)
    with dask_client(client.scheduler.address) as c:
        r = dr.rank_households(
            c, None, P, tables=ds, partitions=3, quota=180, texts=False, keys_only=True
        ).result
        n = len(pd.concat(list(r.output_chunks())))
    assert n == len(ds["households"])
    assert int(r.table["selected"].sum()) == 180  # the key table stays
    with pytest.raises(RuntimeError, match="client is closed"):
        next(r.chunks())


def test_keys_only_needs_a_lean_round(client, sample_dir):
    ds = load_for_analysis(sample_dir, rl.RELIEF_TABLES)
    with pytest.raises(ValueError, match="texts=False"):
        dr.rank_households(client, None, P, tables=ds, quota=180, keys_only=True)


def test_an_empty_round_writes_the_header(client, tmp_path):
    empty = {t: coerce(t, []) for t in rl.RELIEF_TABLES}
    got = dr.rank_households(
        client, None, P, "2025-06-30", tables=empty, texts=False, keys_only=True
    )
    want = rl.rank_households(empty, P, "2025-06-30", texts=False)
    for suffix in (".csv", ".parquet"):
        assert write(got.result, tmp_path / f"h{suffix}") == write(want, tmp_path / f"p{suffix}")


# --------------------------------------------------------------------------- the keys alone


def six_households():
    """Six urban one-person households in three partitions of two (test_dask_relief's round)."""
    incomes = {"HA1": 150, "HA2": 300, "HB1": 100, "HB2": 600, "HC1": 150, "HC2": 350}
    hh = coerce(
        "households",
        [
            {
                "household_id": h,
                "area": "urban",
                "size": 1,
                "monthly_income": float(v),
                "application_date": "2025-03-01",
                "receiving": h == "HB2",
            }
            for h, v in incomes.items()
        ],
    )
    mm = coerce(
        "household_members",
        [{"member_id": f"M{h}", "household_id": h, "relation": "head"} for h in incomes],
    )
    return {"households": hh, "household_members": mm}


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"quota": 4}, id="quota"),
        pytest.param({"budget_yuan": 1900}, id="budget"),
        pytest.param({}, id="no-limit"),
    ],
)
def test_the_key_table_is_the_full_tables_keys(kw):
    """No cluster: three partitions' keys ranked and selected in the driver alone."""
    tables = six_households()
    day = pd.Timestamp("2025-06-30")
    order = P.at("ranking_order", day)
    keys = []
    for part in dr.split_by_household(tables, 3):
        a, _ = rl.prepare_round(part, P, day, pool="all", previous_round=None)
        keys.append(rk.sort_partition(a, order)[rk.KEY_COLUMNS].reset_index(drop=True))
    kt = rk.key_table(keys, order, **kw)
    full = rl.rank_households(tables, P, day, **kw)
    t = kt.table
    pt.assert_frame_equal(categories_as_full(t, full.table), full.table[list(t.columns)])
    assert kt.notes == full.notes
    assert kt.part.tolist() == [1, 0, 2, 0, 2, 1]  # HB1 HA1 HC1 HA2 HC2 HB2
    slices = list(kt.ranked_slices())
    assert [s["rank"].tolist() for s in slices] == [[2, 4], [1, 6], [3, 5]]
    assert slices[0][rl.ABOVE_PREFIX + "household_id"].tolist() == ["HB1", "HC1"]
    assert slices[1][rl.ABOVE_PREFIX + "rank"].isna().tolist() == [True, False]


def test_a_partition_keeps_its_rows_in_the_rounds_order():
    a = pd.DataFrame(
        {
            "pool": ["rural", "urban", "urban", "urban", None],
            "household_id": ["H5", "H4", "H1", "H2", "H3"],
            "eligible": pd.array([True, False, True, True, True]),
            "tier": pd.array([1, None, 2, 1, 1], dtype="Int64"),
            "fp_priority": [False] * 5,
            "pc_key": np.arange(5.0),
            "application_date": pd.to_datetime(["2025-01-01"] * 5),
        }
    )
    got = rk.sort_partition(a, ["tier", "household_id"])
    assert got["household_id"].tolist() == ["H5", "H2", "H1", "H4"]  # no pool: not listed


# --------------------------------------------------------------------------- what the driver gets


def test_the_driver_gets_the_keys_then_only_the_rows_it_writes(
    client, sample_dir, arrivals, small_blocks, tmp_path
):
    """Ranked and selected on the partitions' keys; a full row reaches the driver only in the
    slice that writes it, once."""
    ds = load_for_analysis(sample_dir, rl.RELIEF_TABLES)
    n = len(ds["households"])
    got = dr.rank_households(
        client, None, P, tables=ds, partitions=4, quota=180, texts=False, keys_only=True
    ).result
    partials = [o for o in arrivals if isinstance(o, dr.Partial)]
    assert all(p.assessed is None for p in partials)
    keys = [p.keys for p in partials if p.keys is not None]
    assert len(keys) == 4
    assert all(list(k.columns) == rk.KEY_COLUMNS for k in keys)
    assert sum(len(k) for k in keys) == n
    assert not [o for o in arrivals if isinstance(o, pd.DataFrame)]
    # the counts, the money and the cut line need no row
    assert int(got.table["selected"].sum()) == 180
    assert len(rl.cut_line(got)) and got.selected["entitlement_yuan"].sum() > 0
    assert not [o for o in arrivals if isinstance(o, pd.DataFrame)]

    write(got, tmp_path / "h.csv")
    rows = [o for o in arrivals if isinstance(o, pd.DataFrame)]
    assert {tuple(f.columns) for f in rows} == {tuple(got.output_columns())}
    assert sum(len(f) for f in rows) == n  # every household once
    assert max(len(f) for f in rows) <= rr.BLOCK_ROWS  # a piece of one block at most
