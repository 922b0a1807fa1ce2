"""The .csv writer's column-wise lines (``_csv_rows``): the bytes pandas' ``to_csv`` writes.

Large outputs (the budget's unit x month table, the relief list) are written by joining their
text columns into lines with Arrow instead of pandas formatting a Python object per cell. Each
case here writes a small frame both ways and compares the bytes: the cells a person would check
by eye (a comma, a quote, a line break, an empty cell, a missing one, Chinese text), then
frames drawn at random from the same characters, then the kinds of column left to pandas.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from fpanalysis.io import write as w


def by_pandas(df: pd.DataFrame, header: bool = True) -> bytes:
    return df.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


def by_lines(df: pd.DataFrame, header: bool = True) -> bytes:
    raw = io.BytesIO()
    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    w._csv_rows(df, fh, header=header)
    fh.flush()
    return raw.getvalue()


def text(*values) -> pd.Series:
    return pd.Series(list(values), dtype="str")


CASES = [
    pytest.param({"a": text("x", "y"), "n": [1, 2]}, "a,n\nx,1\ny,2\n", id="plain"),
    pytest.param({"a": text("a,b", "c"), "n": [1, 2]}, 'a,n\n"a,b",1\nc,2\n', id="comma-quoted"),
    pytest.param(
        {"a": text('say "hi"', "c"), "n": [1, 2]}, 'a,n\n"say ""hi""",1\nc,2\n', id="quote-doubled"
    ),
    pytest.param({"a": text("l1\nl2", "c"), "n": [1, 2]}, 'a,n\n"l1\nl2",1\nc,2\n', id="newline"),
    pytest.param({"a": text("", None), "n": [1, 2]}, "a,n\n,1\n,2\n", id="empty-and-missing"),
    pytest.param(
        {"a": text(" lead", "trail "), "n": [-5, 0]}, "a,n\n lead,-5\ntrail ,0\n", id="spaces"
    ),
    pytest.param(
        {"月份": text("2025-01"), "金额（元）": text("-0.05")},
        "月份,金额（元）\n2025-01,-0.05\n",
        id="chinese-headers",
    ),
    pytest.param(
        {"a": text("'=1", "中文，逗号"), "b": text("a\tb", "x;y")},
        "a,b\n'=1,a\tb\n中文，逗号,x;y\n",
        id="tab-semicolon-fullwidth",
    ),
]


@pytest.mark.parametrize("frame, expected", CASES)
def test_lines_by_hand(frame, expected):
    df = pd.DataFrame(frame)
    assert w._csv_body(df) is not None  # the column-wise path, not pandas
    assert by_lines(df).decode("utf-8") == expected
    assert by_lines(df) == by_pandas(df)
    assert by_lines(df, header=False) == by_pandas(df, header=False)


CHARS = ["a", "中", ",", '"', "\n", " ", "'", "=", "-", "\t", "，", "é"]


@pytest.mark.parametrize("seed", range(20))
def test_random_frames_agree_with_pandas(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))

    def cell():
        k = int(rng.integers(0, 6))
        if k == 0:
            return None
        return "".join(rng.choice(CHARS, size=int(rng.integers(0, 5))))

    df = pd.DataFrame(
        {
            "t1": text(*[cell() for _ in range(n)]),
            "i": rng.integers(-(10**12), 10**12, size=n),
            "t2": text(*[cell() for _ in range(n)]),
        }
    )
    parts = pd.concat([df.iloc[: n // 2], df.iloc[n // 2 :]], ignore_index=True)  # chunked text
    for frame in (df, parts):
        assert by_lines(frame) == by_pandas(frame)


def test_slices_give_the_same_bytes(monkeypatch):
    df = pd.DataFrame({"a": text(*"abcdefg"), "n": range(7)})
    whole = by_lines(df)
    monkeypatch.setattr(w, "CSV_SLICE_ROWS", 3)
    assert by_lines(df) == whole == by_pandas(df)


def test_lines_are_handed_over_in_pieces(monkeypatch):
    """No write call longer than ``CSV_WRITE_BYTES`` (here 5 bytes), and the same bytes."""

    class Calls(io.BytesIO):
        sizes: list[int] = []

        def write(self, b):
            self.sizes.append(len(b))
            return super().write(b)

    df = pd.DataFrame({"a": text("中文，逗号", 'say "hi"', "x" * 12), "n": range(3)})
    monkeypatch.setattr(w, "CSV_WRITE_BYTES", 5)
    raw = Calls()
    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    w._csv_rows(df, fh, header=False)
    fh.flush()
    assert raw.getvalue() == by_pandas(df, header=False)
    assert max(raw.sizes) == 5 and len(raw.sizes) == -(-len(raw.getvalue()) // 5)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"f": [0.1, 1416.0, 1e16, -2.5, np.nan, np.inf, 1 / 3, 0.0]}, id="fractions"),
        pytest.param({"b": [True, False]}, id="yes-no"),
        pytest.param({"b": pd.array([True, None, False], dtype="boolean")}, id="yes-no-missing"),
        pytest.param({"n": pd.array([1, None, -3], dtype="Int64")}, id="int-missing"),
        pytest.param({"n": pd.array([7, None], dtype="int64[pyarrow]")}, id="int-arrow"),
        pytest.param({"n": np.array([1, 2, 250], dtype="uint8")}, id="small-unsigned"),
    ],
)
def test_numbers_and_yes_no_as_pandas_shows_them(frame):
    rows = len(next(iter(frame.values())))
    df = pd.DataFrame({"a": text(*["x"] * rows), **frame})
    assert w._csv_body(df) is not None  # the column-wise path
    assert by_lines(df) == by_pandas(df)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"a": text("x", "y"), "f": [0.0, -0.0]}, id="negative-zero"),
        pytest.param({"a": text("x"), "f": pd.array([0.5], dtype="Float64")}, id="float-nullable"),
        pytest.param({"a": text("")}, id="one-column"),
        pytest.param({"a": text("a\rb"), "n": [1]}, id="lone-cr"),
        pytest.param({"a": pd.Series(["x", 1], dtype=object), "n": [1, 2]}, id="objects"),
    ],
)
def test_other_columns_are_left_to_pandas(frame):
    df = pd.DataFrame(frame)
    assert by_lines(df) == by_pandas(df)


def test_money_text_is_the_decimals_text():
    """Whole fen shown as yuan: the text ``str(Decimal)`` gives, without a Decimal a cell."""
    from fpanalysis.rules.bonus import fen_to_yuan

    fen = np.array([0, 1, 7, 10, 99, 100, 1250, -5, -100, -123456789, 10**15])
    assert w.fen_text(fen).tolist() == [str(d) for d in fen_to_yuan(fen)]
    assert w.fen_text(fen).tolist()[:8] == [
        "0.00", "0.01", "0.07", "0.10", "0.99", "1.00", "12.50", "-0.05"
    ]  # fmt: skip


def with_bytes_under_a_missing_cell() -> pd.Series:
    """["a", missing, "b"] whose missing cell has "\\r,x" left under it in Arrow's buffers (as
    Arrow allows): the column's bytes read "a\\r,xb", the cells do not hold a CR or a comma."""
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, 1, 4, 5], dtype=np.int32).tobytes())
    data = pa.py_buffer(b"a\r,xb")
    valid = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    arr = pa.Array.from_buffers(pa.string(), 3, [valid, offsets, data], null_count=1)
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def test_a_cr_is_found_by_one_search_of_the_bytes():
    """The CR sift (``_may_hold_cr``) against the cell-by-cell test, and the lines then written:
    a CR in a cell, none at all, a missing cell with a CR left under it (a false alarm, which
    the cells then clear), and in a chunk sliced out of a larger one."""
    cr, plain, under = text("x", "a\rb"), text("x", "y", None), with_bytes_under_a_missing_cell()
    assert pd.isna(under.tolist()[1])
    assert [w._may_hold_cr(s) for s in (cr, plain, under)] == [True, False, True]
    assert [bool(s.str.contains("\r", regex=False).any()) for s in (cr, plain, under)] == [
        True,
        False,
        False,
    ]
    assert not w._may_hold_cr(text("a\rb", "x", "y").iloc[1:])  # the CR is outside the slice
    for s in (cr, plain, under):
        df = pd.DataFrame({"a": s, "n": range(len(s))})
        assert by_lines(w._csv_frame(df)) == by_pandas(w._csv_frame(df))
        assert by_lines(w._csv_frame(df)).count(b"\r") == 0
