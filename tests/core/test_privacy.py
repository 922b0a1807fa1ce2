"""Masking of names and ID numbers (rulebook §7)."""

import pandas as pd
import pytest

from fpanalysis.core import schema
from fpanalysis.core.privacy import (
    PII_ID_COLUMNS,
    PII_NAME_COLUMNS,
    find_names,
    find_unmasked_ids,
    mask_frame,
    mask_id_number,
    mask_name,
)


@pytest.mark.parametrize(
    "raw,expected",
    [
        pytest.param("张三丰", "张**", id="three-chars"),
        pytest.param("王五", "王*", id="two-chars"),
        pytest.param("欧阳娜娜", "欧***", id="compound-surname"),
        pytest.param("李", "*", id="one-char-fully-masked"),
        pytest.param("", "", id="empty"),
        pytest.param("Ann Lee", "A******", id="latin-with-space"),
        pytest.param("张**", "张**", id="idempotent"),
    ],
)
def test_mask_name(raw, expected):
    assert mask_name(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        # 18 - 6 - 4 = 8 stars
        pytest.param("11010519491231002X", "110105********002X", id="18-char"),
        # 15 - 10 = 5 stars
        pytest.param("130503670401001", "130503*****1001", id="15-digit"),
        # 11 characters: one star
        pytest.param("12345678901", "123456*8901", id="11-chars"),
        # 10 or fewer: all starred
        pytest.param("1234567890", "**********", id="10-chars"),
        pytest.param("12345", "*****", id="5-chars"),
        pytest.param("", "", id="empty"),
        pytest.param("110105********002X", "110105********002X", id="idempotent"),
    ],
)
def test_mask_id_number(raw, expected):
    assert mask_id_number(raw) == expected


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(None, id="none"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(pd.NA, id="pd-na"),
    ],
)
def test_missing_stays_missing(missing):
    assert mask_name(missing) is missing
    assert mask_id_number(missing) is missing


def test_pii_column_sets():
    assert PII_NAME_COLUMNS == {
        "name",
        "head_name",
        "liaison_name",
        "wife_name",
        "husband_name",
        "payee_name",
        "unit_head_name",
        "party_name",
        "approved_by",
    }
    assert PII_ID_COLUMNS == {"id_number", "head_id_number", "wife_id_number", "husband_id_number"}
    # every schema column marked pii is in one of the sets
    for t in schema.TABLES_LIST:
        for c in t.columns:
            if c.pii:
                assert c.name in (PII_NAME_COLUMNS if c.pii_kind == "name" else PII_ID_COLUMNS)


def test_mask_frame_english_headers():
    df = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "name": ["张三丰", "李", None],
            "id_number": ["11010519491231002X", "12345", None],
            "wife_name": ["王小红", "赵丽", "钱"],
            "husband_id_number": ["130503196704010016", "", "130503670401001"],
            "n": [1, 2, 3],
        }
    )
    before = df.copy()
    out = mask_frame(df)
    expected = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "name": ["张**", "*", None],
            "id_number": ["110105********002X", "*****", None],
            "wife_name": ["王**", "赵*", "*"],
            "husband_id_number": ["130503********0016", "", "130503*****1001"],
            "n": [1, 2, 3],
        }
    )
    pd.testing.assert_frame_equal(out, expected)
    pd.testing.assert_frame_equal(df, before)  # the input is untouched
    pd.testing.assert_frame_equal(mask_frame(out), out)  # idempotent


def test_mask_frame_chinese_headers_spare_unit_names():
    # 单位名称 (units.name) is not personal information; 姓名 (persons.name) is.
    df = pd.DataFrame(
        {
            "单位名称": ["社会救助股"],
            "负责人": ["刘备"],
            "户主姓名": ["关云长"],
            "身份证号": ["11010519491231002X"],
            "女方姓名": ["孙尚香"],
            "男方身份证号": ["130503196704010016"],
        }
    )
    out = mask_frame(df)
    assert out.iloc[0].tolist() == [
        "社会救助股",
        "刘*",
        "关**",
        "110105********002X",
        "孙**",
        "130503********0016",
    ]


def test_mask_frame_reveal_returns_an_unmasked_copy():
    df = pd.DataFrame({"name": ["张三丰"]})
    out = mask_frame(df, reveal=True)
    pd.testing.assert_frame_equal(out, df)
    assert out is not df


def test_mask_frame_non_string_columns_and_index():
    # An ID typed into Excel as a number arrives as an int; a name may be the index.
    df = pd.DataFrame(
        {"id_number": pd.array([110105194912310021, None], dtype="Int64"), "x": [1, 2]},
        index=pd.Index(["张三丰", "李四"], name="name"),
    )
    out = mask_frame(df)
    assert out["id_number"].iloc[0] == "110105********0021"
    assert pd.isna(out["id_number"].iloc[1])
    assert out.index.tolist() == ["张**", "李*"] and out.index.name == "name"


def test_mask_frame_multiindex_level():
    idx = pd.MultiIndex.from_tuples([("U1", "张三丰")], names=["unit_id", "head_name"])
    out = mask_frame(pd.DataFrame({"v": [1]}, index=idx))
    assert out.index.tolist() == [("U1", "张**")]


def test_mask_frame_typed_schema_frame():
    df = schema.coerce(
        "persons",
        [
            {
                "person_id": "P1",
                "name": "张三丰",
                "id_number": "11010519491231002X",
                "sex": "F",
                "birth_date": "1949-12-31",
                "category": "staff",
            }
        ],
    )
    out = mask_frame(df)
    assert (out.loc[2, "name"], out.loc[2, "id_number"]) == ("张**", "110105********002X")
    assert out.dtypes.equals(df.dtypes)


@pytest.mark.parametrize(
    "text,expected",
    [
        pytest.param("身份证 11010519491231002X。", ["11010519491231002X"], id="valid"),
        pytest.param("lower 11010519491231002x", ["11010519491231002x"], id="lowercase-x"),
        pytest.param("masked 110105********002X", [], id="masked"),
        pytest.param("bad check 110105194912310021", [], id="wrong-check"),
        pytest.param("inside a longer number 911010519491231002X1", [], id="embedded"),
        pytest.param(
            "a,130503196704010016,b,11010519491231002X",
            ["130503196704010016", "11010519491231002X"],
            id="two-in-csv",
        ),
        pytest.param("15-digit 130503670401001 not scanned", [], id="legacy-15-ignored"),
    ],
)
def test_find_unmasked_ids(text, expected):
    assert find_unmasked_ids(text) == expected


@pytest.mark.parametrize(
    "text,names,expected",
    [
        pytest.param("户主：张**", ["张三丰"], [], id="masked-not-found"),
        pytest.param(
            "户主：张三丰；联系人：李四",
            ["李四", "张三丰", "李四"],
            ["李四", "张三丰"],
            id="found-once-in-order",
        ),
        pytest.param("张", ["张"], [], id="one-char-ignored"),
        pytest.param("nothing", [None, float("nan"), ""], [], id="missing-skipped"),
    ],
)
def test_find_names(text, names, expected):
    assert find_names(text, names) == expected


def test_masked_frame_passes_the_scanners():
    df = pd.DataFrame(
        {"name": ["张三丰", "李四"], "id_number": ["11010519491231002X", "130503196704010016"]}
    )
    text = mask_frame(df).to_csv(index=False)
    assert find_unmasked_ids(text) == [] and find_names(text, df["name"]) == []
    raw = df.to_csv(index=False)
    assert len(find_unmasked_ids(raw)) == 2 and find_names(raw, df["name"]) == ["张三丰", "李四"]


@pytest.mark.parametrize(
    "value,shown",
    [
        pytest.param("11010519491231002X", "110105********002X", id="18-characters"),
        pytest.param("11010519491231002x", "110105********002x", id="lowercase-x"),
        pytest.param("130503670401001", "130503*****1001", id="15-digit-legacy"),
        pytest.param("110105194912310021", "110105********0021", id="wrong-check-character"),
        pytest.param("户 11010519491231002X 之后", "户 110105********002X 之后", id="in-a-text"),
        pytest.param("H0001", "H0001", id="an-ordinary-key"),
        pytest.param("1234567890123456789", "1234567890123456789", id="19-digits"),
        pytest.param("a123456789012345678b", "a123456789012345678b", id="inside-a-hash"),
        pytest.param("110105********002X", "110105********002X", id="already-masked"),
    ],
)
def test_values_shaped_like_id_numbers_are_masked_in_any_column(value, shown):
    """rulebook §7: a key holding ID numbers, and a text naming one, are masked as IDs."""
    from fpanalysis.core.privacy import mask_text

    assert mask_text(value) == shown
    df = pd.DataFrame({"household_id": [value], "reason_zh": [value]})
    assert mask_frame(df).iloc[0].tolist() == [shown, shown]
    assert mask_frame(df, reveal=True).iloc[0].tolist() == [value, value]


@pytest.mark.parametrize(
    "column,value,shown",
    [
        pytest.param("id_number", "130503670401001", "130503*****1001", id="legacy-id"),
        pytest.param("head_name", "张三丰", "张**", id="a-name"),
        pytest.param("household_id", "11010519491231002X", "110105********002X", id="id-key"),
        pytest.param("monthly_income", "2309.995", "2309.995", id="other-value-kept"),
    ],
)
def test_what_validation_quotes_is_masked_outside_validate(column, value, shown):
    from fpanalysis.core.dataset import Problem
    from fpanalysis.core.privacy import mask_problem

    p = Problem("households", 2, column, value, "r", f"值 {value}", f"value {value}", "warning",
                "11010519491231002X/M1")  # fmt: skip
    m = mask_problem(p)
    assert m.value == shown and m.key == "110105********002X/M1"
    if value.isdigit() or value.endswith("X"):
        assert value not in m.text("zh") and value not in m.text("en")


@pytest.mark.parametrize(
    "dtype", [pytest.param("str", id="text-column"), pytest.param(object, id="object-column")]
)
def test_a_name_column_is_masked_as_each_name(dtype):
    names = ["张三丰", "王五", "欧阳娜娜", "李", "", None, "Ann Lee", "张**", "a\nb", "\U0001f600z"]
    s = pd.Series(names, dtype=dtype, index=range(2, 12))
    got = mask_frame(pd.DataFrame({"head_name": s}))["head_name"]
    assert got.tolist()[:5] == ["张**", "王*", "欧***", "*", ""]
    assert [v for v in got.tolist() if isinstance(v, str)] == [
        mask_name(v) for v in names if v is not None
    ]
    assert got.isna().tolist() == [v is None for v in names]
    assert got.dtype == s.dtype or dtype is object
