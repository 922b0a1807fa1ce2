"""Family-planning priority types of hardship households (rulebook §6).

The type each household has by its members (only daughter, two daughters with
a parent sterilised, infertile), with the evidence in words, and the declared
types the members contradict, reported as data problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


#: The FP evidence's texts, which a lean round writes with its reasons (:func:`with_evidence`).
EVIDENCE_COLUMNS = ("fp_evidence_zh", "fp_evidence_en")
#: What a household's FP evidence is written from (:func:`evidence_texts`), with the
#: :class:`Children` listed: the columns a round that leaves the evidence for later keeps in its
#: place (``fp_branch``: which of the evidence's six cases; ``children_at``: where the
#: household's children start in :class:`Children`, -1: none).
EVIDENCE_INPUT_COLUMNS = (
    "fp_branch",
    "n_children",
    "n_daughters",
    "sterilized_members",
    "children_at",
)


@dataclass(frozen=True)
class Children:
    """Every listed household's ``child`` members, a household's together in member-id order:
    what the evidence lists (``id（女）``). ``sex``: 0 for ``F``, 1 for ``M``, 2 for any other
    value or none."""

    ids: pa.Array
    sex: np.ndarray

    def listed(
        self, at: np.ndarray, count: np.ndarray, sep: str, brackets: tuple[str, str], sexes: tuple
    ) -> pa.Array:
        """Per row, its ``count`` children from ``at`` (-1: none) as the evidence lists them,
        joined by ``sep`` (``""`` for none; ``sexes``: the labels of the three sex codes)."""
        from fpanalysis.rules.relief import textcols as tc

        count = np.where(at >= 0, count, 0).astype(np.int64)
        offsets = np.zeros(len(count) + 1, np.int64)
        np.cumsum(count, out=offsets[1:])
        # child j of row i is at[i] + j
        idx = np.repeat(at - offsets[:-1], count) + np.arange(offsets[-1], dtype=np.int64)
        labels = pa.array(list(sexes), tc.TEXT).take(pa.array(self.sex[idx]))
        texts = tc.cat(self.ids.take(pa.array(idx)), brackets[0], labels, brackets[1])
        joined = pc.binary_join(
            pa.LargeListArray.from_arrays(pa.array(offsets), texts.cast(pa.large_string())),
            pa.scalar(sep, pa.large_string()),
        )
        return pc.fill_null(joined, tc.lit(""))  # a child without an id: none listed, as before


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
    return with_evidence(*derive_without_evidence(households, members))


def derive_without_evidence(
    households: pd.DataFrame, members: pd.DataFrame
) -> tuple[pd.DataFrame, Children]:
    """:func:`derive_fp_types` with the evidence's texts left for later: the frame has
    :data:`EVIDENCE_INPUT_COLUMNS` where it would have ``fp_evidence_zh`` and ``fp_evidence_en``,
    and the children they list come beside it (:func:`with_evidence` of any of its rows writes
    them: a province's round writes them a slice at a time)."""
    from fpanalysis.rules.relief import textcols as tc

    (hid, hcode, nk, at, kid, parent, _), nc_a, nd_a, has_st = _counted(households, members)
    # each household's children together, in member-id order; ``at``: the member's household
    kids = _by_member(members.loc[kid, ["member_id", "sex"]].assign(at=at[kid]))
    kat = kids["at"].to_numpy()
    grouped = np.argsort(kat, kind="stable")  # stable: each household keeps its ids' order
    sex = kids["sex"]
    codes = np.select(
        [sex.eq("F").fillna(False).to_numpy(bool), sex.eq("M").fillna(False).to_numpy(bool)],
        [0, 1],
        default=2,
    ).astype(np.int8)
    children = Children(tc.texts_of(kids["member_id"]).take(pa.array(grouped)), codes[grouped])
    counts = np.bincount(kat, minlength=nk)
    starts = np.cumsum(counts) - counts
    parents = _by_member(members.loc[parent, ["member_id"]].assign(at=at[parent]))
    st_groups = _join_codes(parents["at"].to_numpy(), tc.texts_of(parents["member_id"]), nk, "、")

    # per household row (a household id not listed: none)
    present = hcode >= 0
    take = np.where(present, hcode, 0)
    if nk:
        # distinct ids, every one present: each row is its own group (the usual households table)
        own = nk == len(hid) and bool((hcode == np.arange(nk)).all())
        st = st_groups if own else st_groups.take(pa.array(take))
        if not present.all():
            st = pc.if_else(pa.array(present), st, pa.scalar(None, tc.TEXT))
        children_at = np.where(present & (counts[take] > 0), starts[take], -1)
    else:
        st = pa.nulls(len(hid), tc.TEXT)
        children_at = np.full(len(hid), -1, np.int64)
    only_daughter, two_daughters, infert, fp_codes = _type_codes(households, nc_a, nd_a, has_st)
    # which of the evidence's cases: why the type holds, or the near miss that keeps it from
    # holding
    branch = np.select(
        [only_daughter, two_daughters, infert, nc_a == 0, (nc_a == 2) & (nd_a == 2)],
        [0, 1, 2, 3, 4],
        default=5,
    ).astype(np.int8)
    index = households.index
    frame = pd.DataFrame(
        {
            "household_id": hid,
            "fp_type": tc.as_series(_type_texts(fp_codes), index),
            "n_children": pd.Series(nc_a, index=index),
            "n_daughters": pd.Series(nd_a, index=index),
            "sterilized_members": tc.as_series(st, index),
            "fp_branch": pd.Series(branch, index=index),
            "children_at": pd.Series(children_at.astype(np.int64), index=index),
        },
        index=index,
    )
    return frame, children


def with_evidence(rows: pd.DataFrame, children: Children, *, threads: bool = True) -> pd.DataFrame:
    """``rows`` (any rows of a frame with :data:`EVIDENCE_INPUT_COLUMNS`) with ``fp_evidence_zh``
    and ``fp_evidence_en`` (:func:`evidence_texts`) in the place of ``fp_branch`` and
    ``children_at``."""
    return put_evidence(rows, *evidence_texts(rows, children, threads=threads))


def put_evidence(rows: pd.DataFrame, zh: pd.Series, en: pd.Series) -> pd.DataFrame:
    """``rows`` with the evidence ``zh``, ``en`` (:data:`EVIDENCE_COLUMNS`) where ``fp_branch``
    and ``children_at`` stand, those two dropped: the columns of the full derivation."""
    at = rows.columns.get_loc("fp_branch")
    out = rows.drop(columns=["fp_branch", "children_at"])
    for k, (c, texts) in enumerate(zip(EVIDENCE_COLUMNS, (zh, en), strict=True)):
        out.insert(at + k, c, texts)
    return out


def evidence_texts(
    rows: pd.DataFrame, children: Children, *, threads: bool = True
) -> tuple[pd.Series, pd.Series]:
    """The FP evidence of each of ``rows`` (:data:`EVIDENCE_INPUT_COLUMNS`), in Chinese and in
    English: the members that establish the household's type, or the near miss that keeps it
    from holding. ``threads``: the two languages made side by side where memory allows."""
    from fpanalysis.core.ahead import beside, outcome_of, two_threads
    from fpanalysis.rules.relief import textcols as tc

    n = len(rows)
    branch = rows["fp_branch"].to_numpy(np.int64)
    nc_a = rows["n_children"].to_numpy(np.int64)
    nd_a = rows["n_daughters"].to_numpy(np.int64)
    at = rows["children_at"].to_numpy(np.int64)
    stz = pc.fill_null(tc.texts_of(rows["sterilized_members"]), tc.lit(""))
    nc_t, nd_t = tc.int_texts(nc_a), tc.int_texts(nd_a)
    parts = {k: np.flatnonzero(branch == k) for k in range(6)}

    def of(k: int, col: pa.Array) -> pa.Array:
        return col.take(pa.array(parts[k]))

    def when(k: int, cond: np.ndarray, yes: str, no: str) -> pa.Array:
        return pc.if_else(pa.array(cond[parts[k]]), tc.lit(yes), tc.lit(no))

    def evidence_zh() -> pa.Array:
        ktz = children.listed(at, nc_a, "、", ("（", "）"), ("女", "男", "性别不详"))
        listed = pc.not_equal(ktz, tc.lit("")).to_numpy(zero_copy_only=False)
        return tc.assemble(
            n,
            [
                (parts[0], tc.cat("独女户：唯一子女 ", of(0, ktz), " 为女儿")),
                (
                    parts[1],
                    tc.cat(
                        "二女结扎户：两个子女 ", of(1, ktz), " 均为女儿，且 ", of(1, stz), " 已结扎"
                    ),
                ),
                (parts[2], tc.repeat("不育户：无子女，且登记为不育", len(parts[2]))),
                (parts[3], tc.repeat("非计生优先户：无子女，但未登记不育", len(parts[3]))),
                (
                    parts[4],
                    tc.cat(
                        "非计生优先户：两个子女 ", of(4, ktz), " 均为女儿，但户主夫妻均未登记结扎"
                    ),
                ),
                (
                    parts[5],
                    tc.cat(
                        "非计生优先户：子女 ",
                        of(5, nc_t),
                        " 人（",
                        of(5, nd_t),
                        " 女）",
                        when(5, listed, "：", ""),
                        of(5, ktz),
                    ),
                ),
            ],
        )

    def evidence_en() -> pa.Array:
        kte = children.listed(at, nc_a, ", ", (" (", ")"), ("F", "M", "?"))
        listed = pc.not_equal(kte, tc.lit("")).to_numpy(zero_copy_only=False)
        return tc.assemble(
            n,
            [
                (
                    parts[0],
                    tc.cat(
                        "only-daughter household: the only child ", of(0, kte), " is a daughter"
                    ),
                ),
                (
                    parts[1],
                    tc.cat(
                        "two-daughters-sterilised household: both children ",
                        of(1, kte),
                        " are daughters and ",
                        pc.replace_substring(of(1, stz), "、", ", "),
                        " sterilised",
                    ),
                ),
                (
                    parts[2],
                    tc.repeat(
                        "infertile household: no children and infertility recorded", len(parts[2])
                    ),
                ),
                (
                    parts[3],
                    tc.repeat(
                        "no FP priority type: no children, but infertility not recorded",
                        len(parts[3]),
                    ),
                ),
                (
                    parts[4],
                    tc.cat(
                        "no FP priority type: both children ",
                        of(4, kte),
                        " are daughters, but neither head nor spouse is recorded sterilised",
                    ),
                ),
                (
                    parts[5],
                    tc.cat(
                        "no FP priority type: ",
                        of(5, nc_t),
                        when(5, nc_a == 1, " child (", " children ("),
                        of(5, nd_t),
                        when(5, nd_a == 1, " daughter)", " daughters)"),
                        when(5, listed, ": ", ""),
                        of(5, kte),
                    ),
                ),
            ],
        )

    # the two languages' texts are independent: on two cores, made side by side (pyarrow's text
    # kernels let go of the interpreter), the same texts
    side = threads and two_threads(n + len(children.ids))
    en_later = beside(evidence_en) if side else outcome_of(evidence_en)
    zh = evidence_zh()
    en = en_later()
    return tc.as_series(zh, rows.index), tc.as_series(en, rows.index)


def fp_types(households: pd.DataFrame, members: pd.DataFrame) -> pd.Series:
    """``derive_fp_types(households, members)["fp_type"]`` without the evidence's texts: what
    validation compares each declared type with (rulebook §6). The same counts, the same rule
    (:func:`_type_codes`).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [{"household_id": "H1"}, {"household_id": "H2"}])
        >>> mm = coerce("household_members", [
        ...     {"member_id": "A", "household_id": "H2", "relation": "child", "sex": "F"}])
        >>> fp_types(hh, mm).tolist()
        [nan, 'only_daughter']
    """
    _, nc_a, nd_a, has_st = _counted(households, members)
    codes = _type_codes(households, nc_a, nd_a, has_st)[3]
    return pd.Series(_type_texts(codes), index=households.index, dtype="str")


def _members_of(households: pd.DataFrame, members: pd.DataFrame) -> tuple:
    """What both derivations read of the members: ``(household ids, each row's group code
    (-1: a missing id), the number of groups, each member's group (-1: none), the children,
    the sterilised head or spouse, the daughters)``, the last three as boolean arrays."""
    from fpanalysis.rules.frames import positions, unique_keys

    hid = households["household_id"]
    # each household row's key, and each member's household among those keys (one hash join)
    if len(hid) and unique_keys(hid) and hid.notna().all():  # a validated table: no hashing
        hcode, keys = np.arange(len(hid)), pd.Index(hid)  # what factorize gives distinct ids
    else:
        hcode, keys = pd.factorize(hid)
    at = positions(keys, members["household_id"])  # (runs of a household's members found once)
    relation = members["relation"]
    kid = (relation.eq("child").fillna(False).to_numpy(bool)) & (at >= 0)
    parent = relation.isin(["head", "spouse"]).to_numpy(bool) & (at >= 0)
    parent &= members["sterilized"].fillna(False).astype(bool).to_numpy()
    daughter = members["sex"].eq("F").fillna(False).to_numpy(bool)
    return hid, hcode, len(keys), at, kid, parent, daughter


def _counted(households: pd.DataFrame, members: pd.DataFrame) -> tuple:
    """:func:`_members_of`, and per household row what the rule counts: its children, its
    daughters, and whether its head or spouse is sterilised (0 and false for a row with no
    group: a missing id)."""
    read = _members_of(households, members)
    _, hcode, nk, at, kid, parent, daughter = read
    present = hcode >= 0
    at_row = np.where(present, hcode, 0)

    def per_row(who: np.ndarray) -> np.ndarray:
        counts = np.bincount(at[who], minlength=nk)
        if not nk:  # no group at all
            return np.zeros(len(hcode), "int64")
        return np.where(present, counts[at_row], 0).astype("int64")

    return read, per_row(kid), per_row(kid & daughter), per_row(parent) > 0


def _type_codes(
    households: pd.DataFrame, nc: np.ndarray, nd: np.ndarray, has_st: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rule of the three types on each household's counts: ``(only daughter, two daughters
    sterilised, infertile, code)``, the code an index into :data:`FP_TYPES` (-1: none)."""
    infertile = households["infertile"].fillna(False).astype(bool).to_numpy()
    only_daughter = (nc == 1) & (nd == 1)
    two_daughters = (nc == 2) & (nd == 2) & has_st
    infert = (nc == 0) & infertile
    codes = np.select([only_daughter, two_daughters, infert], [0, 1, 2], default=-1)
    return only_daughter, two_daughters, infert, codes


def _type_texts(codes: np.ndarray) -> pa.Array:
    from fpanalysis.rules.relief import textcols as tc

    return pa.array(list(FP_TYPES), tc.TEXT).take(pa.array(codes, mask=codes < 0))


def _by_member(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows.sort_values("member_id", kind="mergesort")``: ``rows`` as they are when their ids
    are already in order (a members table as exported), which that stable sort keeps."""
    from fpanalysis.core.dataset import text_in_order

    if text_in_order(rows["member_id"]):
        return rows
    return rows.sort_values("member_id", kind="mergesort")


def _join_codes(codes: np.ndarray, values: pa.Array, n: int, sep: str) -> pa.Array:
    """The values of each group ``0..n-1`` joined with ``sep``, in their order (null for a
    group with none; a code ``-1`` belongs to no group)."""
    keep = codes >= 0
    codes = codes[keep]
    order = np.argsort(codes, kind="stable")  # stable: each group keeps its values' order
    counts = np.bincount(codes, minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    vals = values.filter(pa.array(keep)).take(pa.array(order)).cast(pa.large_string())
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), vals), pa.scalar(sep, pa.large_string())
    )
    return pc.if_else(pa.array(counts > 0), joined, pa.scalar(None, pa.large_string()))


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


def fp_type_problems(
    households: pd.DataFrame, derived: pd.DataFrame, children: Children | None = None
) -> pd.DataFrame:
    """Declared FP types the members contradict: one problem per household (rulebook §6).

    Args:
        households: the households table.
        derived: :func:`derive_fp_types` of it, or :func:`derive_without_evidence`'s frame
            with its ``children`` (the evidence is then written for the contradicted only).

    Returns:
        ``table, row, household_id, column, value, rule, message_zh, message_en``;
        ``row`` is the household's row in its file; rule ``fp_type_contradicted``.
    """
    declared = households["declared_fp_type"]
    bad = declared.notna() & declared.ne(derived["fp_type"].fillna(""))
    h = households[bad]
    d = derived[bad]
    if "fp_evidence_zh" not in d.columns:
        d = with_evidence(d, children, threads=False)
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
