"""The fast paths of loading and validating a province's tables against the plain statements
they stand for: parsed values spread back over the rows by position (``cells._spread``) as
pandas' ``reindex`` spreads them, a text column's parts joined in one Arrow array
(``typed._one_chunk``) holding the same values, and the checks run over such columns and over
chunked ones giving the same problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fpanalysis.core.dataset import isin_keys
from fpanalysis.core.privacy import _text_id_shaped_cells, id_shaped
from fpanalysis.io.cells import _spread, float_text
from fpanalysis.io.typed import _as_fifteen_digits, _one_chunk
from fpanalysis.io.validate import idnumbers
from fpanalysis.io.validate.columns import _duplicated, _strictly_increasing, column_problems
from fpanalysis.io.validate.findings import key_positions, shared_lookups
from fpanalysis.io.validate.idnumbers import _duplicated_known, _id_bytes, _regions_known, _shapes

STR = pd.StringDtype("pyarrow", na_value=np.nan)


@pytest.mark.parametrize(
    ("values", "fill"),
    [
        pytest.param(pd.Series(["a", "b", None], dtype="str"), None, id="text"),
        pytest.param(pd.Series(pd.to_datetime(["2024-01-02", None])), None, id="dates"),
        pytest.param(pd.Series([True, False]), None, id="numpy-bool-upcast"),
        pytest.param(pd.Series([True, False]), False, id="bad-mask"),
        pytest.param(pd.Series([1, None], dtype="Int64"), None, id="nullable-int"),
        pytest.param(pd.Series([True, None], dtype="boolean"), None, id="nullable-bool"),
        pytest.param(pd.Series([1.5, np.nan]), None, id="float"),
        pytest.param(pd.Series([], dtype="str"), None, id="no-values"),
        pytest.param(pd.Series(["x", "y"], dtype="str", index=[5, 3]), None, id="other-index"),
    ],
)
@pytest.mark.parametrize(
    "codes",
    [
        pytest.param(np.array([0, 1, -1, 1, 0]), id="some-missing"),
        pytest.param(np.array([-1, -1]), id="all-missing"),
        pytest.param(np.array([], dtype=np.intp), id="no-rows"),
    ],
)
def test_spread_is_reindex(values, fill, codes):
    if len(values) == 0:
        codes = np.full(len(codes), -1)
    codes = codes[codes < len(values)]
    got = _spread(values, codes, fill)
    want = values.reindex(codes, fill_value=fill)
    pd.testing.assert_series_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def _chunked(values: list, pieces: int) -> pd.Series:
    size = max(1, -(-len(values) // pieces))
    parts = [pd.Series(values[i : i + size], dtype=STR) for i in range(0, len(values), size)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


@pytest.mark.parametrize(
    ("values", "pieces"),
    [
        pytest.param(["a", "b", None, "a", "c", ""], 3, id="three-parts"),
        pytest.param(["a", "b"], 1, id="one-part"),
        pytest.param([None, None, None], 2, id="all-missing"),
        pytest.param(["甲", "乙", " 丙 ", "甲"], 4, id="one-row-a-part"),
    ],
)
def test_one_chunk_keeps_the_values(values, pieces):
    s = _chunked(values, pieces)
    s.index = pd.RangeIndex(2, 2 + len(s), name="row")
    one = _one_chunk(s)
    pd.testing.assert_series_equal(one, s)


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(["P1", "P2", "P1", None, None, "P3"], id="duplicates-and-missing"),
        pytest.param(["P1", "P2", "P3", "P4"], id="none-duplicated"),
        pytest.param([f"P{i % 7}" for i in range(40)], id="many-copies"),
    ],
)
def test_checks_agree_over_chunks(keys):
    chunked = pd.DataFrame({"unit_id": _chunked(keys, 3)})
    one = pd.DataFrame({"unit_id": _one_chunk(_chunked(keys, 3))})
    plain = pd.DataFrame({"unit_id": pd.Series(keys, dtype="str")})
    want = plain["unit_id"].notna() & plain["unit_id"].duplicated(keep=False)
    for df in (chunked, one, plain):
        df.index = pd.RangeIndex(2, 2 + len(keys), name="row")
        known = df["unit_id"].notna().to_numpy()
        dup = np.zeros(len(df), dtype=bool)
        dup[known] = _duplicated(df.loc[known], ["unit_id"])
        assert dup.tolist() == want.tolist()
        assert column_problems("units", df) == column_problems("units", plain.set_index(df.index))


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["11010519491231002X", "130503670401001", "110105194912310021"], id="mixed"),
        pytest.param(["130503670401001"], id="legacy-only"),
        pytest.param(["11010519491231002X"] * 3, id="long-only"),
        pytest.param(["H1", "11010519491231002X", "12"], id="other-lengths-left-out"),
    ],
)
@pytest.mark.parametrize("chunks", [pytest.param(1, id="one-chunk"), pytest.param(2, id="chunks")])
def test_id_bytes_are_the_numbers_as_bytes(values, chunks):
    s = _chunked(values, chunks)
    length = np.array([len(v) for v in values])
    long, short = length == 18, length == 15
    want = np.zeros((len(values), 18), dtype=np.uint8)
    wanted = long | short
    text = np.array([v for v, w in zip(values, wanted, strict=True) if w], dtype="S18")
    want[wanted] = text.view(np.uint8).reshape(len(text), 18)
    assert (_id_bytes(s, long, short) == want).all()


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["11010519491231002X", " 130503670401001 ", "H0001", None], id="plain"),
        pytest.param(["\u3000" * 14 + "1", "1" * 14, "1" * 15, "x" * 20], id="lengths"),
        pytest.param(["１３０５０３６７０４０１００１", "13050367040100１"], id="full-width"),
        pytest.param(["11010519491231002x", "\t110105194912310021\n"], id="lower-x-and-tabs"),
        pytest.param([None, None], id="all-missing"),
        pytest.param(["P1", "P2"], id="all-short"),
        pytest.param(["P00000_00000001", "x11010519491231002", "110105194912310021"], id="codes"),
        pytest.param(["@110105194912310021", "[11010519491231002X", "é130503670401001"], id="odd"),
        pytest.param(["", " ", "110105194912310021"], id="empty"),
    ],
)
@pytest.mark.parametrize("pieces", [pytest.param(1, id="one-chunk"), pytest.param(2, id="chunks")])
def test_id_shaped_is_every_cell_matched(values, pieces):
    s = _chunked(values, pieces)
    assert id_shaped(s).tolist() == _text_id_shaped_cells(s).tolist()
    tail = s.iloc[1:]  # a slice: its chunk's offsets start after the first cell
    assert id_shaped(tail).tolist() == _text_id_shaped_cells(tail).tolist()


def test_id_shaped_by_hand_across_chunks():
    s = _chunked(["P00000_00000001", "110105194912310021", None, "11010519491231002X", "H1"], 2)
    assert pa.array(s.array).num_chunks == 2
    assert id_shaped(s).tolist() == [False, True, False, True, False]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([("P1", "a"), ("P2", "a"), ("P3", "b")], id="in-order"),
        pytest.param([("P1", "a"), ("P1", "b"), ("P2", "a")], id="in-order-by-both"),
        pytest.param([("P1", "a"), ("P1", "a"), ("P2", "a")], id="repeated-neighbours"),
        pytest.param([("P2", "a"), ("P1", "a"), ("P2", "a")], id="out-of-order-repeat"),
        pytest.param([("P1", "b"), ("P1", "a"), ("P3", "a")], id="second-out-of-order"),
        pytest.param([("P1", None), ("P2", None), ("P2", None)], id="missing-equals-missing"),
        pytest.param([("P1", "a"), (None, "a"), ("P3", "a")], id="missing-key"),
    ],
)
@pytest.mark.parametrize("chunks", [pytest.param(1, id="one-chunk"), pytest.param(2, id="chunks")])
def test_duplicated_is_pandas_duplicated(rows, chunks):
    df = pd.DataFrame(
        {
            "a": _chunked([r[0] for r in rows], chunks),
            "b": _chunked([r[1] for r in rows], chunks),
        }
    )
    for columns in (["a"], ["a", "b"]):
        want = df[columns].astype(object).fillna("\0missing").duplicated(keep=False)
        assert _duplicated(df, columns).tolist() == want.tolist()
        increasing = not df[columns].isna().any().any() and all(
            tuple(x) < tuple(y)
            for x, y in zip(df[columns].values[:-1], df[columns].values[1:], strict=True)
        )
        arrays = [pa.array(df[c].array) for c in columns]
        assert _strictly_increasing(arrays) == increasing


@pytest.mark.parametrize(
    ("values", "keys"),
    [
        pytest.param(["a", "c", "b", None], ["a", "b", "a", None], id="missing-finds-missing"),
        pytest.param(["a", None], ["a", "b"], id="no-missing-key"),
        pytest.param([], ["a"], id="no-values"),
    ],
)
def test_shared_lookups_give_the_same_positions(values, keys):
    v, k = pd.Series(values, dtype="str"), pd.Series(keys, dtype="str")
    alone = key_positions(v, k)
    with shared_lookups():
        first, again = key_positions(v, k), key_positions(v, k)
        other = pd.Series(values[::-1], dtype="str")  # other arrays: looked up afresh
        reversed_ = key_positions(other, k)
        again[:] = -7  # a caller's changes stay its own
        third = key_positions(v, k)
    assert first.tolist() == alone.tolist() == third.tolist()
    assert reversed_.tolist() == key_positions(other, k).tolist()
    isin = isin_keys(v, k).to_numpy()
    assert isin.tolist() == ((alone >= 0) & v.notna().to_numpy()).tolist()


@pytest.mark.parametrize(
    "numbers",
    [
        pytest.param(["1", "2", "1", None, None], id="repeats-and-missing"),
        pytest.param(["1", "2", "3"], id="distinct"),
        pytest.param([None, None], id="all-missing"),
        pytest.param(["3", "3", "2", "1"], id="out-of-order"),
        pytest.param([], id="none"),
    ],
)
def test_duplicated_numbers_are_pandas_duplicated(numbers):
    df = pd.DataFrame({"id_number": pd.Series(numbers, dtype="str")})
    n = df["id_number"]
    want = (n.notna() & n.duplicated(keep=False)).tolist()
    assert _duplicated_known(df, "id_number").tolist() == want


from fpanalysis.io.validate.crossfield import _member_counts_readable, member_counts  # noqa: E402

CASES = [
    ["H001", "H002", "H001", None, "H003", "H001"],  # duplicates and a missing value
    ["H009"],
    [],
    [None, None],
    ["H002", "H001"],
    ["H001", "H001", "H002", "H003", "H003", "H003"],  # listed by household: runs counted
    ["H001", "H001"],
    ["H001", "H002", "H002", "H001"],  # in order, then not: hashed
]


@pytest.mark.parametrize("ids", CASES)
def test_member_counts_equal_the_group_sizes(ids):
    s = pd.Series(ids, dtype="str")
    keys, counts = member_counts(s)
    want_keys, want_counts = _member_counts_readable(s)
    assert str(keys.dtype) == "str"
    assert dict(zip(keys, counts.tolist(), strict=True)) == dict(
        zip(want_keys, want_counts.tolist(), strict=True)
    )


def test_member_counts_by_hand():
    keys, counts = member_counts(pd.Series(["H001", "H002", "H001", None], dtype="str"))
    assert dict(zip(keys, counts.tolist(), strict=True)) == {"H001": 2, "H002": 1}
    # members listed by household: the runs, in order of first appearance (as value_counts)
    keys, counts = member_counts(pd.Series(["H1", "H1", "H2", "H3", "H3"], dtype="str"))
    assert (keys.tolist(), counts.tolist()) == (["H1", "H2", "H3"], [2, 1, 2])


DUPLICATE_CASES = [
    ["P001", "P002", "P001", None, None, "P003"],  # a repeated id and two missing
    ["P001", "P002", "P003"],
    ["P002", "P001", None],  # one missing: not a duplicate
    ["P001", "P001"],
    [None, None, None],
]


def _repeated(arrays):
    from fpanalysis.io.validate.columns import _repeated_numbers, _row_numbers

    return _repeated_numbers(_row_numbers(arrays))


@pytest.mark.parametrize("ids", DUPLICATE_CASES)
def test_repeated_numbers_equal_the_sorted_duplicates(ids):
    from fpanalysis.io.validate.columns import _sorted_duplicates

    a = pa.array(ids, type=pa.string())
    assert _repeated([a]).tolist() == _sorted_duplicates([a]).tolist()
    chunked = pa.chunked_array([a.slice(0, 1), a.slice(1)])
    assert _repeated([chunked]).tolist() == _sorted_duplicates([a]).tolist()


# (first key, second key) rows, by hand: which rows another row repeats
KEY_CASES = {
    "ids-of-one-width-repeated": (
        [("R2018-1", "P00001"), ("R2018-2", "P00001"), ("R2018-1", "P00001")],
        [True, False, True],
    ),
    "widths-differ": (
        [("R1", "P1"), ("R1", "P10"), ("R10", "P1"), ("R1", "P1")],
        [True, False, False, True],
    ),
    "missing-equals-missing": ([("R1", None), ("R1", None), (None, "P1")], [True, True, False]),
    "the-same-text-split-differently": ([("ab", "c"), ("a", "bc")], [False, False]),
    "id-numbers": (
        [("R1", "11010519491231002X"), ("R1", "110105194912310021"), ("R1", "11010519491231002X")],
        [True, False, True],
    ),
}


@pytest.mark.parametrize(("rows", "want"), KEY_CASES.values(), ids=KEY_CASES.keys())
def test_keys_read_as_numbers_repeat_where_the_texts_do(rows, want):
    from fpanalysis.io.validate.columns import _sorted_duplicates

    arrays = [pa.array([r[i] for r in rows], type=pa.string()) for i in range(2)]
    assert _repeated(arrays).tolist() == want
    assert _sorted_duplicates(arrays).tolist() == want


def test_keys_too_varied_for_one_number_are_sorted_as_text():
    from fpanalysis.io.validate.columns import _row_numbers

    # two columns of 18 digits each spanning 0-9: 10**18 numbers each, 10**36 side by side
    digits = pa.array(["000000000000000000", "999999999999999999", "000000000000000000"])
    assert _row_numbers([digits]) is not None
    assert _row_numbers([digits] * 2) is None
    df = pd.DataFrame({f"k{i}": pd.Series(digits.to_pylist(), dtype="str") for i in range(2)})
    assert _duplicated(df, list(df.columns)).tolist() == [True, False, True]


def test_duplicated_by_hand():
    from fpanalysis.io.validate.columns import _duplicated

    df = pd.DataFrame({"id": pd.Series(["P002", "P001", "P002", None, None], dtype="str")})
    assert _duplicated(df, ["id"]).tolist() == [True, False, True, True, True]


SHAPE_VALUES = [
    "11010519491231002X",  # 17 digits then X
    "110105194912310021",
    "110105491231002",  # 15 digits
    "",
    "X",
    "12X3",
    "110105194912310X2X",  # X inside
    "１１０１０５",  # full-width digits
    "12 3",
    "x12",  # lowercase x
    "\u3000",
    "12\n",
    "ÿ12",
    "",
    "7",
    "",  # empty values last: the last non-empty value's bytes run to the end
]


@pytest.mark.parametrize("chunk", [1, 3, 1_000_000])
@pytest.mark.parametrize("start", [0, 1, 4])  # a slice: Arrow offsets not from zero
def test_shapes_are_the_regular_expressions(monkeypatch, chunk, start):
    monkeypatch.setattr(idnumbers, "_CHUNK", chunk)
    s = pd.Series(SHAPE_VALUES, dtype="str").iloc[start:]
    got = _shapes(s)
    assert got.plain.tolist() == s.str.fullmatch(r"[0-9X]+").tolist()
    assert got.length.tolist() == s.str.len().tolist()
    plain = got.plain
    assert got.has_x[plain].tolist() == s[plain].str.contains("X", regex=False).tolist()
    assert got.x_last[plain].tolist() == s[plain].str.fullmatch(r"[0-9]{17}X").tolist()
    assert not got.has_x[~plain].any() and not got.x_last[~plain].any()


def test_shapes_of_fixed_width_values_by_hand():
    # every value 18 characters: read as a grid of bytes
    s = pd.Series(["11010519491231002X", "110105194912310021", "11010519491231002x"], dtype="str")
    got = _shapes(s)
    assert got.plain.tolist() == [True, True, False]
    assert got.has_x.tolist() == [True, False, False]
    assert got.x_last.tolist() == [True, False, False]


def test_regions_known_ask_each_code_once(monkeypatch):
    asked = []

    def known(code):
        asked.append(code)
        return code == "110105"

    monkeypatch.setattr(idnumbers.ids, "region_known", known)
    got = _regions_known(np.array([110105, 999999, 110105, 0]))
    assert got.tolist() == [True, False, True, False]
    assert asked == ["000000", "110105", "999999"]


def test_fifteen_digits_are_the_text_of_each_value():
    rng = np.random.default_rng(7)
    money = np.round(rng.uniform(0, 100_000, 5_000), 2)
    values = np.concatenate(
        [
            money,
            -money[:100],
            rng.uniform(1e-4, 1e14, 2_000),  # all their digits
            np.array([0.1 + 0.2, 2309.995, 1 / 3, 99999999999999.9, 0.0001, 123456789.123456789]),
            np.round(rng.uniform(0, 10, 500), 4),
            np.round(rng.uniform(1e12, 1e13, 500), 3),  # 16 digits: more than 15 kept
        ]
    )
    want = [float(float_text(float(x))) for x in values]
    assert _as_fifteen_digits(values).tolist() == want
