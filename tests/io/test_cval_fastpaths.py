"""The fast paths of reading and validating large tables, each against the readable rule it
stands for: an enum column written in its codes taken as it is (``typed._parse_text``), the
columns referring to the same keys looked up together (``findings.key_positions_each``), and a
few values looked up in many keys by hashing the values (``core.dataset.positions_by_values``,
shared with the rules' ``frames.positions``), many values that repeat looked up the same way
(``core.dataset.text_positions``, when ``by_values_pays``), and values in runs of equal ones
looked up a run at a time (``core.dataset.positions_by_runs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fpanalysis.core import dataset, schema, textnumbers
from fpanalysis.core.dataset import (
    by_values_pays,
    lookup_way,
    positions_by_keys,
    positions_by_runs,
    positions_by_values,
    text_positions,
)
from fpanalysis.io.typed import _fixed_words, _parse_readable, _parse_text
from fpanalysis.io.validate.findings import (
    key_positions,
    key_positions_each,
    shared_lookups,
)

SEX = schema.TABLES["persons"].column("sex")
KIND = schema.TABLES["surveys"].column("kind")
GROUPS = schema.TABLES["households"].column("special_groups")


def test_fixed_words_are_the_codes():
    assert sorted(_fixed_words(SEX).to_pylist()) == ["F", "M"]
    assert _fixed_words(schema.TABLES["persons"].column("birth_date")).to_pylist() == []


@pytest.mark.parametrize(
    ("col", "values"),
    [
        pytest.param(SEX, ["F", "M", "F"], id="codes"),
        pytest.param(SEX, ["F", None, "M", None], id="codes-and-missing"),
        pytest.param(SEX, [None, None], id="all-missing"),
        pytest.param(SEX, [], id="no-rows"),
        pytest.param(SEX, ["F", "女", "m"], id="a-label-and-lower-case"),
        pytest.param(SEX, ["F", " M", "M "], id="spaces"),
        pytest.param(SEX, ["F", "", "  "], id="blank"),
        pytest.param(SEX, ["F", "X"], id="not-allowed"),
        pytest.param(SEX, ["Ｆ", "M"], id="full-width"),
        pytest.param(KIND, [KIND.codes[0], KIND.codes[-1], None], id="other-enum"),
        pytest.param(GROUPS, [GROUPS.codes[0], None, GROUPS.codes[1]], id="set-one-each"),
        pytest.param(GROUPS, [f"{GROUPS.codes[1]};{GROUPS.codes[0]}"], id="set-two"),
    ],
)
@pytest.mark.parametrize("chunks", [1, 2])
@pytest.mark.parametrize("large", [False, True])
def test_parse_text_is_the_readable_parse(col, values, chunks, large):
    kind = pa.large_string() if large else pa.string()
    size = max(1, -(-len(values) // chunks))
    arr = pa.chunked_array(
        [pa.array(values[i : i + size], kind) for i in range(0, len(values), size)] or [[]],
        type=kind,
    )
    got, got_bad = _parse_text(arr, col)
    want, want_bad = _parse_readable(arr, col)
    pd.testing.assert_series_equal(got, want)
    assert got_bad.tolist() == want_bad.tolist()
    assert got.array._pa_array.num_chunks == want.array._pa_array.num_chunks == 1


def test_parse_text_by_hand():
    values, bad = _parse_text(pa.chunked_array([pa.array(["F", None, "M"])]), SEX)
    assert values.tolist()[::2] == ["F", "M"] and pd.isna(values[1])
    assert bad.tolist() == [False, False, False]
    values, bad = _parse_text(pa.chunked_array([pa.array(["女", None, "X"])]), SEX)
    assert values.tolist()[::2] == ["F", "X"] and pd.isna(values[1])


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("large", [False, True])
def test_key_positions_each_is_each_alone(shared, large):
    keys = pd.Series(["a", "b", "a", None, "c"], dtype="str")
    columns = [
        pd.Series(["b", "c", "x"], dtype="str"),
        pd.Series([None, "a"], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series(["c", "c", "b", "a"], dtype="str"),
    ]
    if large:
        columns[1] = pd.Series(
            pd.arrays.ArrowStringArray(pa.chunked_array([pa.array([None, "a"], pa.large_string())]))
        ).astype(pd.StringDtype("pyarrow", na_value=np.nan))
    want = [key_positions(v, keys).tolist() for v in columns]
    assert want == [[1, 4, -1], [3, 0], [], [4, 4, 1, 0]]
    if shared:
        with shared_lookups():
            first = key_positions(columns[3], keys)
            got = key_positions_each(columns, keys)
            again = [key_positions(v, keys).tolist() for v in columns]
        assert first.tolist() == want[3] and again == want
    else:
        got = key_positions_each(columns, keys)
    assert [g.tolist() for g in got] == want
    assert all(g.dtype == np.int64 for g in got)


@pytest.mark.parametrize(
    ("values", "keys"),
    [
        pytest.param(["c", "a", "x", None, "c"], ["a", None, "b", "a", "c", None], id="by-hand"),
        pytest.param(["a", None], ["a", "b", "c"], id="no-missing-key"),
        pytest.param([None, None], [None, "a", None], id="only-missing"),
        pytest.param([], ["a", "b"], id="no-values"),
        pytest.param(["a"], [], id="no-keys"),
        pytest.param(["b", "b"], ["b", "b", "b"], id="repeated-keys"),
    ],
)
@pytest.mark.parametrize("value_kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("key_kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("chunks", [1, 2])
def test_positions_by_values_are_by_keys(values, keys, value_kind, key_kind, chunks):
    size = max(1, -(-len(values) // chunks))
    v = pa.chunked_array(
        [pa.array(values[i : i + size], value_kind) for i in range(0, len(values), size)] or [[]],
        type=value_kind,
    )
    k = pa.chunked_array([pa.array(keys, key_kind)], type=key_kind)
    want = positions_by_keys(v, k)
    assert positions_by_values(v, k).tolist() == want.tolist()
    if values and keys and "x" in values:
        assert want.tolist() == [4, 0, -1, 1, 4]


def test_few_values_go_the_other_way(monkeypatch):
    calls = []
    monkeypatch.setattr(
        dataset,
        "positions_by_values",
        lambda v, k: calls.append(len(v)) or positions_by_values(v, k),
    )
    keys = pd.Series([f"k{i}" for i in range(30)], dtype="str")
    few = pd.Series(["k3", "k19", "zz", None], dtype="str")
    assert key_positions(few, keys).tolist() == [3, 19, -1, -1]
    assert calls == [4]
    assert key_positions_each([few, few.iloc[:2]], keys)[1].tolist() == [3, 19]
    assert calls == [4, 6]


def _keys_and_values(distinct: int, repeats: int, keys: int):
    """``keys`` keys k0, k1, ... (every 7th missing, k3 twice) and ``distinct`` values each
    repeated ``repeats`` times, among them a missing one and one that no key holds."""
    k = [None if i % 7 == 6 else f"k{i}" for i in range(keys)] + ["k3"]
    v = (["k3", None, "zz"] + [f"k{i}" for i in range(10, 10 + distinct - 3)]) * repeats
    return pa.chunked_array([pa.array(v[:5]), pa.array(v[5:])]), pa.array(k)


@pytest.mark.parametrize(
    ("distinct", "repeats", "keys", "way"),
    [
        # 40 values 100 times among 5,001 keys: 5,001 > 1.1 * (0.2 * 4,000 + 2 * 40), by values
        pytest.param(40, 100, 5_000, "by values", id="repeats-among-many-keys"),
        # 3,000 values twice among 5,001 keys: 5,001 > 1.1 * (1,200 + 6,000) is false, by keys
        pytest.param(3_000, 2, 5_000, "by keys", id="few-repeats"),
        # 40 values 100 times among 501 keys: 501 > 1.1 * (800 + 80) is false, by keys
        pytest.param(40, 100, 500, "by keys", id="few-keys"),
    ],
)
def test_text_positions_are_by_keys(monkeypatch, distinct, repeats, keys, way):
    monkeypatch.setattr(dataset, "MANY_VALUES", 0)  # (a province's sizes, here by hand)
    v, k = _keys_and_values(distinct, repeats, keys)
    assert by_values_pays(len(v), distinct, len(k)) == (way == "by values")
    ways = []
    monkeypatch.setattr(
        dataset, "_first_key_of", lambda d, k, f=dataset._first_key_of: ways.append(1) or f(d, k)
    )
    got = text_positions(v, k)
    assert got.tolist() == positions_by_keys(v, k).tolist()
    assert got[:3].tolist() == [3, 6, -1]  # k3 first at 3, the first missing key at 6, no zz
    assert ("by values" if ways else "by keys") == way


def test_a_county_is_looked_up_by_the_keys(monkeypatch):
    """Below ``MANY_VALUES`` values nobody asks whether they repeat."""
    monkeypatch.setattr(dataset, "_few_distinct", lambda values, keys: pytest.fail("asked"))
    v, k = _keys_and_values(40, 100, 5_000)
    assert text_positions(v, k).tolist() == positions_by_keys(v, k).tolist()


def test_a_misleading_sample_gives_the_same_positions(monkeypatch):
    """The sample says the values repeat; they do not: the keys are hashed after all."""
    monkeypatch.setattr(dataset, "MANY_VALUES", 0)
    monkeypatch.setattr(dataset, "_few_distinct", lambda values, keys: True)
    v, k = _keys_and_values(3_000, 2, 5_000)
    assert text_positions(v, k).tolist() == positions_by_keys(v, k).tolist()


@pytest.mark.parametrize(
    ("values", "keys"),
    [
        pytest.param(["C3", "C1", "C9", "C2"], ["C1", "C2", "C3"], id="found-and-not"),
        pytest.param(["C1", None, "C10", "", "C"], ["C1", "C2"], id="missing-and-other-widths"),
        pytest.param(["C\x00", "C1"], ["C1", "C2"], id="a-zero-byte-in-a-value"),
        pytest.param(["C1", "C2"], ["C2", "C1"], id="keys-out-of-order"),
        pytest.param(["C1"], ["C1", "C1"], id="a-key-twice"),
        pytest.param(["C1"], ["C1", None], id="a-key-missing"),
        pytest.param(["C1", "C10"], ["C1", "C10"], id="keys-of-two-widths"),
        pytest.param(["a\x00", "ab"], ["a\x00", "ab"], id="a-zero-byte-in-a-key"),
        pytest.param(["D1", "C1", "CA"], ["C1", "C2"], id="another-prefix-or-byte"),
        pytest.param(["ab", "az", "ba"], ["aa", "ab", "ba"], id="no-prefix"),
        pytest.param(["P1"] * 3, ["P1"], id="one-key"),
        pytest.param(["张三", "李四"], ["张三", "李四"], id="several-bytes-a-character"),
        pytest.param([], ["C1"], id="no-values"),
    ],
)
@pytest.mark.parametrize("value_kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("chunks", [1, 2])
def test_sorted_keys_are_searched_as_hashed(values, keys, value_kind, chunks):
    size = max(1, -(-len(values) // chunks))
    v = pa.chunked_array(
        [pa.array(values[i : i + size], value_kind) for i in range(0, len(values), size)] or [[]],
        type=value_kind,
    )
    k = pa.array(keys)
    want = positions_by_keys(v, k).tolist()
    assert text_positions(v, k).tolist() == want
    held = textnumbers.SortedKeys.of(k)
    if held is not None:
        assert held.positions(v).tolist() == want


def test_sorted_keys_random_against_the_hash():
    rng = np.random.default_rng(7)
    ids = np.unique(rng.integers(0, 10**6, 5_000))
    keys = pa.array([f"P{i:07d}" for i in ids])  # sorted, one width
    pool = [f"P{i:07d}" for i in rng.choice(ids, 2_000)]  # keys
    pool += [f"P{i:07d}" for i in rng.integers(0, 10**6, 1_000)]  # mostly not
    pool += [f"P{i}" for i in ids[:50]]  # another width
    values = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 40, 6_000)]
    v = pa.chunked_array([pa.array(values[:2_500]), pa.array(values[2_500:])])
    held = textnumbers.SortedKeys.of(keys)
    assert held is not None
    want = positions_by_keys(v, keys)
    assert (want >= 0).sum() > 1_000 and (want < 0).sum() > 1_000
    assert held.positions(v).tolist() == want.tolist()
    assert text_positions(v, keys).tolist() == want.tolist()


def test_sorted_keys_are_made_once_while_they_live():
    keys = pa.array([f"P{i:03d}" for i in range(100)])
    held = textnumbers.SortedKeys.held(keys)
    assert held is not None and textnumbers.SortedKeys.held(keys) is held
    assert textnumbers.SortedKeys.held(pa.array([f"P{i:03d}" for i in range(100)])) is not held
    mixed = pa.array(["P2", "P1"])
    assert textnumbers.SortedKeys.held(mixed) is None and id(mixed) in textnumbers._HELD
    gone = id(keys)
    del keys
    assert gone not in textnumbers._HELD


def test_a_columns_sorted_keys_are_made_once_however_often_it_is_read():
    # pyarrow gives a new array for a column of one chunk each time it is asked for one: the
    # same pandas column must give the same Arrow array, so that its keys are held, not remade
    frame = pd.DataFrame({"person_id": pd.Series([f"P{i:03d}" for i in range(100)], dtype="str")})
    first = dataset.arrow_text(frame["person_id"])
    assert dataset.arrow_text(frame["person_id"]) is first
    assert textnumbers.SortedKeys.held(dataset.arrow_text(frame["person_id"])) is (
        textnumbers.SortedKeys.held(first)
    )
    frame.loc[0, "person_id"] = "P000"  # a value set: another array, read afresh
    again = dataset.arrow_text(frame["person_id"])
    assert again.to_pylist() == first.to_pylist() and frame["person_id"].iloc[0] == "P000"
    frame.loc[1, "person_id"] = "P999"
    assert dataset.arrow_text(frame["person_id"]).to_pylist()[1] == "P999"
    held = dict(dataset._ONE_CHUNK)
    del frame, first, again
    assert len(dataset._ONE_CHUNK) < len(held)  # let go with the column


@pytest.mark.parametrize("block", [1, 3, 16, 17, 1 << 16])
@pytest.mark.parametrize("chunks", [1, 3])
def test_ids_read_as_numbers_a_block_at_a_time(monkeypatch, block, chunks):
    monkeypatch.setattr(textnumbers, "BLOCK_ROWS", block)
    rng = np.random.default_rng(11)
    ids = [
        f"P{int(i):05d}-{int(j)}"
        for i, j in zip(rng.integers(0, 99_999, 50), rng.integers(0, 9, 50), strict=True)
    ]
    size = -(-len(ids) // chunks)
    arr = pa.chunked_array([pa.array(ids[i : i + size]) for i in range(0, len(ids), size)])
    held, numbers = textnumbers._fixed_width_numbers(arr)
    # the readable rule: equal ids, equal numbers; the numbers in the ids' order
    order = sorted(range(len(ids)), key=lambda k: ids[k])
    assert [numbers[k] for k in order] == sorted(numbers.tolist())
    assert len(set(numbers.tolist())) == len(set(ids))
    low, high = textnumbers._place_spans(
        np.frombuffer("".join(ids).encode(), np.uint8).reshape(50, 8)
    )
    assert [chr(b) for b in low] == [min(i[p] for i in ids) for p in range(8)]
    assert [chr(b) for b in high] == [max(i[p] for i in ids) for p in range(8)]
    keys = pa.array(sorted(set(ids)))
    assert textnumbers.SortedKeys.of(keys).positions(arr).tolist() == (
        positions_by_keys(arr, keys).tolist()
    )


def test_keys_too_varied_for_a_number_are_hashed():
    # 16 places of 16 byte values each: 2^64 numbers, more than an int64 holds
    digits = "0123456789abcdef"
    keys = pa.array(
        sorted(
            {"".join(digits[(i * 7 + j * 5) % 16] for j in range(16)) for i in range(16)}
            | {"0" * 16, "f" * 16}
        )
    )
    assert textnumbers.SortedKeys.of(keys) is None
    values = pa.array(["f" * 16, "0" * 16, "x" * 16])
    assert text_positions(values, keys).tolist() == positions_by_keys(values, keys).tolist()


@pytest.mark.parametrize(
    ("values", "want"),
    [
        # keys: H1 H2 H3 (missing) H1: the first H1 is found, a missing value finds the missing key
        pytest.param(["H1", "H1", "H1", "H2"], [0, 0, 0, 1], id="a-household-its-members"),
        pytest.param(["H2", "H1", "H2"], [1, 0, 1], id="a-run-of-one-each"),
        pytest.param(["H3", "H9", "H9", "H3"], [2, -1, -1, 2], id="a-run-no-key-holds"),
        pytest.param([None, None, "H2", None], [3, 3, 1, 3], id="missing-values-run-alone"),
        pytest.param(["H1"], [0], id="one-value"),
        pytest.param([], [], id="no-values"),
    ],
)
@pytest.mark.parametrize("chunks", [1, 2])
def test_runs_are_looked_up_once_each(values, want, chunks):
    size = max(1, -(-len(values) // chunks))
    v = pa.chunked_array(
        [pa.array(values[i : i + size], pa.string()) for i in range(0, len(values), size)] or [[]],
        type=pa.string(),
    )
    keys = pa.array(["H1", "H2", "H3", None, "H1"])
    assert positions_by_keys(v, keys).tolist() == want
    assert positions_by_runs(v, keys).tolist() == want


@pytest.mark.parametrize(
    ("values", "keys", "want"),
    [
        # the runs' heads are the keys in increasing order: each run at its head's own place
        pytest.param(
            ["H1", "H1", "H2", "H3", "H3"],
            ["H1", "H2", "H3"],
            [0, 0, 1, 2, 2],
            id="runs-are-the-keys-in-order",
        ),
        # the same texts, a key repeated: the first of its text is found, not its own place
        pytest.param(["H1", "H2", "H1"], ["H1", "H2", "H1"], [0, 1, 0], id="a-key-repeated"),
        # the same texts, keys not in order (unique): looked up, the same places
        pytest.param(["H2", "H2", "H1"], ["H2", "H1"], [0, 0, 1], id="keys-out-of-order"),
        # a household with no members: fewer heads than keys, looked up
        pytest.param(["H1", "H3", "H3"], ["H1", "H2", "H3"], [0, 2, 2], id="a-key-without-run"),
        pytest.param(["H1", None], ["H1", None], [0, 1], id="a-missing-key-looked-up"),
    ],
)
def test_runs_listed_as_the_keys_are_their_places(values, keys, want):
    v, k = pa.array(values, pa.string()), pa.array(keys, pa.large_string())
    assert positions_by_keys(v, k).tolist() == want
    assert positions_by_runs(v, k).tolist() == want


def _members(households: int, each: int, chunks: int = 3):
    """``each`` members a household, listed household by household (a few ids no household
    holds and a few missing among them), in ``chunks`` chunks; the households' ids, sorted."""
    ids = [f"H{i:06d}" for i in range(households)]
    v = [h for h in ids for _ in range(each)]
    v[5:7] = [None, None]
    v[-3:] = ["H999999"] * 3
    size = -(-len(v) // chunks)
    return pa.chunked_array([pa.array(v[i : i + size]) for i in range(0, len(v), size)]), pa.array(
        ids
    )


def test_members_listed_by_household_are_looked_up_by_runs(monkeypatch):
    values, keys = _members(3_000, 3)  # 9,000 values, 2 of 3 equal to the one before
    assert len(values) > dataset.RUNS_WINDOWS * dataset.RUNS_WIDTH
    assert lookup_way(values, keys) != "runs"  # 3,000 households: their hash costs little
    monkeypatch.setattr(dataset, "RUNS_KEYS", 3_000)  # (a province's households, by hand)
    assert lookup_way(values, keys) == "runs"
    assert lookup_way(values, keys, runs=False) != "runs"
    got = text_positions(values, keys)
    assert got.tolist() == positions_by_keys(values, keys).tolist()
    assert got[:8].tolist() == [0, 0, 0, 1, 1, -1, -1, 2]


def test_values_not_in_runs_are_not_looked_up_by_runs(monkeypatch):
    monkeypatch.setattr(dataset, "RUNS_KEYS", 0)
    values, keys = _members(3_000, 3)
    shuffled = values.take(pa.array(np.random.default_rng(1).permutation(len(values))))
    assert lookup_way(shuffled, keys) != "runs"
    assert text_positions(shuffled, keys).tolist() == positions_by_keys(shuffled, keys).tolist()
    one_each, keys = _members(9_000, 1)  # sorted, but no two alike: sorted keys, not runs
    assert lookup_way(one_each, keys) == "sorted keys"


def test_a_misjudged_run_gives_the_same_positions(monkeypatch):
    """The windows say the values come in runs; they do not: each is a run of its own."""
    monkeypatch.setattr(dataset, "_in_runs", lambda values: True)
    monkeypatch.setattr(dataset, "RUNS_KEYS", 0)
    values, keys = _members(9_000, 1)
    shuffled = values.take(pa.array(np.random.default_rng(2).permutation(len(values))))
    assert lookup_way(shuffled, keys) == "runs"
    assert text_positions(shuffled, keys).tolist() == positions_by_keys(shuffled, keys).tolist()


@pytest.mark.parametrize(
    ("table_values", "way"),
    [
        pytest.param(0.25, "table", id="read-in-the-table"),
        pytest.param(float("inf"), "search", id="searched-for"),
    ],
)
def test_dense_ids_read_in_their_table_as_searched_for(monkeypatch, table_values, way):
    """A province's ids spell few more numbers than there are ids: each value's key is read
    in a table of them, with the same answer as the binary search and the hash (the readable
    rule), for values in and out of the keys, of other widths, with bytes outside a place's
    span, and missing."""
    monkeypatch.setattr(textnumbers, "TABLE_VALUES", table_values)
    rng = np.random.default_rng(17)
    ids = np.sort(rng.choice(2_000, 1_500, replace=False))  # 2,000 numbers for 1,500 keys
    keys = pa.array([f"P{i // 1000:02d}_{i % 1000:03d}" for i in ids])
    held = textnumbers.SortedKeys.of(keys)
    assert held is not None and held.table is not None and len(held.table) <= 4 * len(keys)
    pool = [f"P{i // 1000:02d}_{i % 1000:03d}" for i in rng.integers(0, 2_000, 2_000)]
    pool += ["P02_000", "Q00_001", "P00-001", "P0_001", "", "P00_0010"]  # out of span, widths
    values = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 30, 3_000)]
    v = pa.chunked_array([pa.array(values[:1_000]), pa.array(values[1_000:])])
    want = positions_by_keys(v, keys)
    assert (want >= 0).sum() > 1_000 and (want < 0).sum() > 500
    called = []
    monkeypatch.setattr(np, "searchsorted", lambda *a, **k: called.append(1) or _SEARCH(*a, **k))
    assert held.positions(v).tolist() == want.tolist()
    assert bool(called) == (way == "search")


_SEARCH = np.searchsorted


def test_sparse_ids_have_no_table():
    keys = pa.array(["C1", "C9"])  # 9 numbers for 2 keys: searched for
    held = textnumbers.SortedKeys.of(keys)
    assert held.table is None
    assert held.positions(pa.array(["C9", "C5", "C1"])).tolist() == [1, -1, 0]


@pytest.mark.parametrize("sizes", [[7], [3, 0, 4], [0, 0, 7], [1, 1, 1, 1, 1, 1, 1], [6, 1, 0]])
@pytest.mark.parametrize("at", [[], [0], [6], [0, 2, 3, 6], [1, 1, 4], list(range(7))])
def test_values_taken_chunk_by_chunk_as_taken_whole(sizes, at):
    cells = ["a", None, "b", "b", "c", None, "d"]
    chunks, start = [], 0
    for size in sizes:
        chunks.append(pa.array(cells[start : start + size], pa.string()))
        start += size
    values = pa.chunked_array(chunks, type=pa.string())
    got = dataset.take_in_order(values, np.array(at, dtype=np.int64))
    assert got.type == values.type
    assert got.to_pylist() == [cells[i] for i in at]


@pytest.mark.parametrize("chunks", [1, 3])
def test_ids_coded_in_order_as_factorized(chunks):
    """Ids of one width coded by their numbers: pandas' sorted factorization, codes and the
    distinct values in order, whatever the order and chunks of the values."""
    rng = np.random.default_rng(23)
    ids = [f"U{int(i):02d}_{int(j):03d}" for i, j in rng.integers(0, [5, 200], (3_000, 2))]
    size = -(-len(ids) // chunks)
    arr = pa.chunked_array([pa.array(ids[i : i + size]) for i in range(0, len(ids), size)])
    coded = textnumbers.sorted_text_codes(arr)
    assert coded is not None
    codes, first = coded
    want_codes, want_names = pd.factorize(pd.Series(ids, dtype="str"), sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert [ids[i] for i in first] == list(want_names)
    assert all(ids.index(ids[i]) == i for i in first)  # each where it is first


def test_ids_too_sparse_or_not_ids_are_not_coded():
    assert textnumbers.sorted_text_codes(pa.array(["U1", "U9"]), span=4) is None  # 9 numbers, 2 ids
    assert textnumbers.sorted_text_codes(pa.array(["U1", "U10"])) is None  # two widths
    assert textnumbers.sorted_text_codes(pa.array(["U1", None])) is None
