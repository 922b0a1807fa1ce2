"""Enum labels of a ``str`` column looked up once per distinct value (``_relabel``) against the
readable rule, the per-value map that :func:`fpanalysis.io.write.localize` stands on."""

import pandas as pd
import pytest

from fpanalysis.io.write import _relabel, localize


def readable(s: pd.Series, labels) -> pd.Series:
    return s.map(lambda v: labels.get(v, v), na_action="ignore")


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["urban", "rural", "urban"], id="labels"),
        pytest.param(["urban", None, "moon", "rural", None], id="missing-and-unknown"),
        pytest.param([None, None], id="all-missing"),
        pytest.param([], id="empty"),
        pytest.param(["", "urban"], id="empty-text"),
    ],
)
@pytest.mark.parametrize("dtype", ["str", object])
def test_relabel_is_the_per_value_map(values, dtype):
    labels = {"urban": "城镇", "rural": "农村"}
    s = pd.Series(values, dtype=dtype, index=range(10, 10 + len(values)), name="area")
    got, want = _relabel(s, labels), readable(s, labels)
    pd.testing.assert_series_equal(got, want, check_exact=True)


def test_localize_labels_by_hand():
    df = pd.DataFrame(
        {
            "area": pd.Series(["urban", None, "rural", "moon"], dtype="str"),
            "selection": pd.Series(["admitted", "waiting", "admitted", None], dtype="str"),
        }
    )
    out = localize(df, "zh")
    assert out.iloc[:, 0].isna().tolist() == [False, True, False, False]
    assert out.iloc[:, 0].dropna().tolist() == ["城镇", "农村", "moon"]
    assert out.iloc[:, 1].tolist()[:3] == ["新纳入", "候补未纳入", "新纳入"]
    assert out.dtypes.tolist() == ["str", "str"]
