"""The fast paths of reading and validating large tables, each against the readable rule it
stands for: an enum column written in its codes taken as it is (``typed._parse_text``), the
columns referring to the same keys looked up together (``findings.key_positions_each``), and a
few values looked up in many keys by hashing the values (``core.dataset.positions_by_values``,
shared with the rules' ``frames.positions``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fpanalysis.core import dataset, schema
from fpanalysis.core.dataset import positions_by_keys, positions_by_values
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
