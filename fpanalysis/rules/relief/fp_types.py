"""Family-planning priority types of hardship households (rulebook §6).

The type each household has by its members (only daughter, two daughters with
a parent sterilised, infertile), with the evidence in words, and the declared
types the members contradict, reported as data problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FP_TYPES = ("only_daughter", "two_daughters_sterilized", "infertile")
FP_LABELS = {
    "only_daughter": ("独女户", "only-daughter household"),
    "two_daughters_sterilized": ("二女结扎户", "two-daughters-sterilised household"),
    "infertile": ("不育户", "infertile household"),
}


def join_per_group(keys: pd.Series, values: pd.Series, sep: str) -> pd.Series:
    """``values.groupby(keys).agg(sep.join)`` in one vectorised pass (pyarrow's ``binary_join``).

    The groupby runs a Python join per group: most of a province's relief
    round (5M households: minutes). Same result: indexed by the sorted keys
    (missing keys dropped), each group's values joined in their order.

    Examples:
        >>> keys, values = pd.Series(["H2", "H1", "H2"]), pd.Series(["a", "b", "c"])
        >>> join_per_group(keys, values, "、").to_dict()
        {'H1': 'b', 'H2': 'a、c'}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(keys, sort=True)
    keep = codes >= 0
    codes = codes[keep]
    order = np.argsort(codes, kind="stable")  # stable: each group keeps its rows' order
    offsets = np.zeros(len(uniques) + 1, np.int64)
    np.cumsum(np.bincount(codes, minlength=len(uniques)), out=offsets[1:])
    vals = pa.array(values.to_numpy(object)[keep][order], type=pa.large_string())
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), vals), pa.scalar(sep, pa.large_string())
    )
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=pd.Index(uniques), dtype="str")


def derive_fp_types(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Each household's FP priority type from its members (rulebook §6).

    - ``only_daughter``: exactly one ``child`` member, a daughter;
    - ``two_daughters_sterilized``: exactly two ``child`` members, both
      daughters, and the ``head`` or ``spouse`` member sterilised;
    - ``infertile``: no ``child`` member and ``infertile`` recorded true.

    ``child`` members are the head couple's children ever born, living in the
    household or not (a married-out daughter still counts).

    Returns:
        A frame aligned with ``households`` (same index): ``household_id``,
        ``fp_type`` (NaN when none), ``n_children``, ``n_daughters``,
        ``sterilized_members`` (member ids, ``、``-joined), ``fp_evidence_zh``,
        ``fp_evidence_en`` (the members that establish the type, or why not).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [{"household_id": "H1"}, {"household_id": "H2"}])
        >>> mm = coerce("household_members", [
        ...     {"member_id": "A", "household_id": "H1", "relation": "child", "sex": "F"},
        ...     {"member_id": "B", "household_id": "H1", "relation": "child", "sex": "M"},
        ...     {"member_id": "C", "household_id": "H2", "relation": "child", "sex": "F"}])
        >>> derived = derive_fp_types(hh, mm)[["household_id", "fp_type", "n_children"]]
        >>> derived.to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
        [{'household_id': 'H1', 'fp_type': nan, 'n_children': 2},
         {'household_id': 'H2', 'fp_type': 'only_daughter', 'n_children': 1}]
    """
    m = members.sort_values("member_id", kind="mergesort")
    kids = m[m["relation"].eq("child")]
    n_children = kids.groupby("household_id").size()
    n_daughters = kids[kids["sex"].eq("F")].groupby("household_id").size()
    kid_text_zh = join_per_group(
        kids["household_id"],
        kids["member_id"]
        + "（"
        + kids["sex"].map({"F": "女", "M": "男"}).fillna("性别不详")
        + "）",
        "、",
    )
    kid_text_en = join_per_group(
        kids["household_id"],
        kids["member_id"] + " (" + kids["sex"].map({"F": "F", "M": "M"}).fillna("?") + ")",
        ", ",
    )
    parents = m[m["relation"].isin(["head", "spouse"]) & m["sterilized"].fillna(False).astype(bool)]
    ster = join_per_group(parents["household_id"], parents["member_id"], "、")

    hid = households["household_id"]
    nc = hid.map(n_children).fillna(0).astype("int64")
    nd = hid.map(n_daughters).fillna(0).astype("int64")
    st = hid.map(ster).astype("str")
    has_st = st.notna()
    infertile = households["infertile"].fillna(False).astype(bool)

    only_daughter = nc.eq(1) & nd.eq(1)
    two_daughters = nc.eq(2) & nd.eq(2) & has_st
    infert = nc.eq(0) & infertile
    fp_type = pd.Series(np.nan, index=households.index, dtype="str")
    fp_type = (
        fp_type.mask(only_daughter, "only_daughter")
        .mask(two_daughters, "two_daughters_sterilized")
        .mask(infert, "infertile")
    )

    ktz = hid.map(kid_text_zh).astype("str").fillna("")
    kte = hid.map(kid_text_en).astype("str").fillna("")
    stz = st.fillna("")
    # Evidence: why the type holds, or the near miss that keeps it from holding.
    zh = np.select(
        [only_daughter, two_daughters, infert, nc.eq(0), nc.eq(2) & nd.eq(2)],
        [
            "独女户：唯一子女 " + ktz + " 为女儿",
            "二女结扎户：两个子女 " + ktz + " 均为女儿，且 " + stz + " 已结扎",
            pd.Series("不育户：无子女，且登记为不育", index=hid.index),
            pd.Series("非计生优先户：无子女，但未登记不育", index=hid.index),
            "非计生优先户：两个子女 " + ktz + " 均为女儿，但户主夫妻均未登记结扎",
        ],
        default="非计生优先户：子女 "
        + nc.astype(str)
        + " 人（"
        + nd.astype(str)
        + " 女）"
        + np.where(ktz.ne(""), "：" + ktz, ""),
    )
    en = np.select(
        [only_daughter, two_daughters, infert, nc.eq(0), nc.eq(2) & nd.eq(2)],
        [
            "only-daughter household: the only child " + kte + " is a daughter",
            "two-daughters-sterilised household: both children "
            + kte
            + " are daughters and "
            + st.fillna("").str.replace("、", ", ")
            + " sterilised",
            pd.Series("infertile household: no children and infertility recorded", index=hid.index),
            pd.Series(
                "no FP priority type: no children, but infertility not recorded", index=hid.index
            ),
            "no FP priority type: both children "
            + kte
            + " are daughters, but neither head nor spouse is recorded sterilised",
        ],
        default="no FP priority type: "
        + nc.astype(str)
        + np.where(nc.eq(1), " child (", " children (")
        + nd.astype(str)
        + np.where(nd.eq(1), " daughter)", " daughters)")
        + np.where(kte.ne(""), ": " + kte, ""),
    )
    return pd.DataFrame(
        {
            "household_id": hid,
            "fp_type": fp_type,
            "n_children": nc,
            "n_daughters": nd,
            "sterilized_members": st,
            "fp_evidence_zh": pd.Series(zh, index=hid.index, dtype="str"),
            "fp_evidence_en": pd.Series(en, index=hid.index, dtype="str"),
        },
        index=households.index,
    )


PROBLEM_COLUMNS = [
    "table",
    "row",
    "household_id",
    "column",
    "value",
    "rule",
    "message_zh",
    "message_en",
]


def fp_type_problems(households: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """Declared FP types the members contradict: one problem per household (rulebook §6).

    Args:
        households: the households table.
        derived: :func:`derive_fp_types` of it.

    Returns:
        ``table, row, household_id, column, value, rule, message_zh, message_en``;
        ``row`` is the household's row in its file; rule ``fp_type_contradicted``.
    """
    declared = households["declared_fp_type"]
    bad = declared.notna() & declared.ne(derived["fp_type"].fillna(""))
    h = households[bad]
    d = derived[bad]
    dz = h["declared_fp_type"].map(lambda v: FP_LABELS.get(v, (v, v))[0])
    de = h["declared_fp_type"].map(lambda v: FP_LABELS.get(v, (v, v))[1])
    uz = (
        d["fp_type"]
        .map(lambda v: FP_LABELS[v][0], na_action="ignore")
        .astype("str")
        .fillna("无计生优先类型")
    )
    ue = (
        d["fp_type"]
        .map(lambda v: FP_LABELS[v][1], na_action="ignore")
        .astype("str")
        .fillna("no FP priority type")
    )
    out = pd.DataFrame(
        {
            "table": "households",
            "row": pd.array(h.index, dtype="Int64"),
            "household_id": h["household_id"].to_numpy(),
            "column": "declared_fp_type",
            "value": h["declared_fp_type"].to_numpy(),
            "rule": "fp_type_contradicted",
            "message_zh": (
                "户 "
                + h["household_id"]
                + " 申报为"
                + dz
                + "，与家庭成员不符（"
                + d["fp_evidence_zh"]
                + "）；按成员认定为"
                + uz
            ).to_numpy(),
            "message_en": (
                "household "
                + h["household_id"]
                + " declares "
                + de
                + ", which its members contradict ("
                + d["fp_evidence_en"]
                + "); the members make it: "
                + ue
            ).to_numpy(),
        },
        columns=PROBLEM_COLUMNS,
    )
    return out.reset_index(drop=True)
