"""The sift before ID-shaped words are searched in a text column (rulebook §7): the whole
column's bytes first (:func:`_may_hold_digit_run`), and a column it lets through is masked
exactly as the readable rule (:func:`mask_text`, cell by cell) masks it."""

import pandas as pd
import pyarrow as pa
import pytest

from fpanalysis.core import privacy
from fpanalysis.core.privacy import _may_hold_digit_run, mask_frame, mask_text

# Hand-checkable cells: ID numbers alone, hidden inside free text (zh and en), at a cell's
# start or end, next to letters (not a word: kept), and near misses (14 digits, split runs).
CELLS = [
    "户 H00001_00091357（第 3 名）",
    "成员 11010519491231002X（女）为女儿",
    "the only child 130503670401001 (F) is a daughter",
    "110105194912310021",
    "与上一名 H0001（第 12345678901234 名）相同",  # 14 digits: no ID
    "12345678901234567890123",  # 23 digits: no word of 15 or 18
    "A130503670401001",  # a letter before it: not a word of its own
    "1234567 89012345",  # 15 digits, not in a row
    "２０２１ 全角数字 110105194912310021",  # full-width digits are not [0-9]
    "",
    None,
]


def _readable(cells: list) -> list:
    return [mask_text(c) if isinstance(c, str) else c for c in cells]


def test_sift_sees_every_run_of_15_digits():
    assert not _may_hold_digit_run(pd.Series(["H00001_00091357", "第 12 名", None], dtype="str"))
    assert not _may_hold_digit_run(pd.Series(["12345678901234"], dtype="str"))  # 14
    assert _may_hold_digit_run(pd.Series(["x123456789012345y"], dtype="str"))  # 15
    assert _may_hold_digit_run(pd.Series(["成员 11010519491231002X（女）"], dtype="str"))
    assert _may_hold_digit_run(pd.Series([], dtype="str")) is False


@pytest.mark.parametrize("at", [0, 1, 5, 13, 14, 15, 16, 100])
def test_sift_finds_a_run_across_its_blocks(monkeypatch, at):
    """A run is found wherever it starts against the blocks the bytes are read in."""
    monkeypatch.setattr(privacy, "_SIFT_BYTES", 16)
    text = "x" * at + "130503670401001" + "y" * 7
    assert _may_hold_digit_run(pd.Series([text], dtype="str"))
    assert not _may_hold_digit_run(pd.Series([text.replace("1001", "10z1")], dtype="str"))


def test_sift_reads_slices_and_pieces():
    """A slice of a column (an offset into the buffers) and a column in several pieces."""
    s = pd.Series(["130503670401001", "H1", "H2", "户 130503670401001"], dtype="str")
    assert not _may_hold_digit_run(s.iloc[1:3])
    assert _may_hold_digit_run(s.iloc[2:])
    text = pa.large_string()
    pieces = pa.chunked_array([pa.array(["H1"], text), pa.array(["130503670401001"], text)])
    assert _may_hold_digit_run(pd.Series(pd.arrays.ArrowStringArray(pieces)))


@pytest.mark.parametrize("dtype", ["str", object])
def test_mask_frame_masks_as_the_readable_rule(dtype):
    df = pd.DataFrame({"reason": pd.Series(CELLS, dtype=dtype)})
    got = mask_frame(df)["reason"]
    assert got.tolist() == pd.Series(_readable(CELLS), dtype=dtype).tolist()
    assert got.dtype == df["reason"].dtype
    # the hand-checked cells
    assert got[1] == "成员 110105********002X（女）为女儿"
    assert got[2] == "the only child 130503*****1001 (F) is a daughter"
    assert got[3] == "110105********0021"
    assert got[4] == CELLS[4] and got[5] == CELLS[5] and got[6] == CELLS[6]
    assert got[8] == "２０２１ 全角数字 110105********0021"


def test_mask_frame_columns_with_no_id_pass_unchanged():
    """The sift's "none": the column is the one given, cell for cell."""
    cells = ["户 H00001_00091357", "第 12 名", None, "2024-01-31"] * 3
    df = pd.DataFrame({"t": pd.Series(cells, dtype="str")})
    out = mask_frame(df)["t"]
    assert out.equals(df["t"]) and out.dtype == "str"
    assert out.dropna().tolist() == [c for c in _readable(cells) if c is not None]


def test_mask_frame_every_slice_as_the_whole():
    """Cut anywhere (as the relief table is written, a slice at a time), each slice's cells
    are masked as the readable rule masks them."""
    cells = (CELLS[:-1] * 7)[:60]
    s = pd.Series(cells, dtype="str")
    for a in range(0, 60, 7):
        part = pd.DataFrame({"t": s.iloc[a : a + 11]})
        assert mask_frame(part)["t"].tolist() == _readable(cells[a : a + 11])
