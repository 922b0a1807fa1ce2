"""The in-memory dataset types: :class:`Dataset` (English table name -> typed frame, with the
provenance of every table and the parts a partitioned table was read from), :class:`Problem`
(one problem found in a dataset, as a clerk needs it to correct the input) and the helpers over
frames they need (row keys, key lookups, the units of a dataset). Nothing here reads or writes a
file: :mod:`fpanalysis.io` does.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError
from fpanalysis.core.textnumbers import SortedKeys, _made_once, one_array

__all__ = [
    "ID_NUMBER_COLUMNS",
    "SEVERITY_LABELS",
    "Dataset",
    "Problem",
    "RawTables",
    "isin_keys",
    "positions_by_keys",
    "positions_by_values",
    "row_keys",
    "text_bytes",
    "text_positions",
]

#: Columns holding resident ID numbers: normalised on reading.
ID_NUMBER_COLUMNS = frozenset(
    {"id_number", "head_id_number", "wife_id_number", "husband_id_number"}
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset, as a clerk needs it to correct the input.

    Attributes:
        table: English table name (``None`` for the dataset as a whole).
        row: row number as the user sees it (header = 1); ``None`` for the whole table.
        column: English column name, if one is concerned.
        value: the cell as it stands in the input (raw text).
        rule: short rule name (``date``, ``enum``, ``required``, ``unique``,
            ``reference``, ``date_order``, ``id_check_char``...).
        message_zh, message_en: what is wrong, in Chinese and English.
        severity: ``error`` (rejects the row), ``warning`` or ``note``.
        key: the row's key value (``P0001``; ``R1/P0003`` for a composite key).
        file: the input file (``persons.csv``; ``book.xlsx[人员]`` for a sheet).
    """

    table: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message_zh: str
    message_en: str
    severity: str = "error"
    key: str | None = None
    file: str | None = None

    def text(self, lang: str = "zh") -> str:
        """One line for a person: where, what, rule.

        Examples:
            >>> Problem("persons", 5, "sex", "X", "enum", "不是允许的选项", "not an allowed value",
            ...         key="P3", file="persons.csv").text("en")
            "error: persons.csv row 5 [P3] column sex value 'X': not an allowed value (rule enum)"
        """
        zh = lang == "zh"
        sev = SEVERITY_LABELS.get(self.severity, (self.severity, self.severity))[0 if zh else 1]
        where = []
        if self.file or self.table:
            where.append(self.file or self.table)
        if self.row is not None:
            where.append(f"第{self.row}行" if zh else f"row {self.row}")
        if self.key:
            where.append(f"[{self.key}]")
        if self.column:
            col = schema.zh_header(self.column, self.table) if zh else self.column
            where.append(f"列 {col}" if zh else f"column {self.column}")
        if self.value not in (None, ""):
            where.append(f"值 {self.value!r}" if zh else f"value {self.value!r}")
        msg = self.message_zh if zh else self.message_en
        rule = f"（规则 {self.rule}）" if zh else f" (rule {self.rule})"
        sep = "：" if zh else ": "
        return f"{sev}{sep}{' '.join(where)}{sep}{msg}{rule}" if where else f"{sev}{sep}{msg}{rule}"

    @classmethod
    def from_error(cls, error: DataError, table: str | None, file: str | None) -> Problem:
        """The error that makes a whole file unusable (it cannot be read), as a problem.

        Examples:
            >>> e = DataError("无法读取", "cannot be read", rule="unreadable_file")
            >>> Problem.from_error(e, "units", "units.csv").text("en")
            'error: units.csv: cannot be read (rule unreadable_file)'
        """
        rule = error.rule or "unreadable_file"
        zh, en = error.message_zh, error.message_en
        return cls(table, None, None, None, rule, zh, en, "error", None, file)


#: A problem's severity as a clerk reads it: (Chinese, English).
SEVERITY_LABELS = {
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "note": ("说明", "note"),
}


class RawTables(Mapping):
    """Table -> its rows as text exactly as in the input (``Dataset.raw``), some read on demand.

    A table read as text (CSV, ``.xlsx``) holds its raw frame; a table read typed from Parquet
    holds a reader (``index``, ``columns`` and ``rows(rows)``, see :mod:`fpanalysis.io.typed`)
    that renders the text of the rows asked for, so that millions of rows are never held twice.
    Indexing a table gives its whole raw frame (rendered once for a reader); :meth:`rows`,
    :meth:`index` and :meth:`columns` answer without rendering the whole table.
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame] | None = None, readers=None) -> None:
        self._frames = dict(frames or {})
        self._readers = dict(readers or {})

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self._frames and table in self._readers:
            reader = self._readers[table]
            self._frames[table] = reader.rows(reader.index)
        return self._frames[table]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._frames, *(t for t in self._readers if t not in self._frames)])

    def __len__(self) -> int:
        return len(set(self._frames) | set(self._readers))

    @property
    def on_demand(self) -> frozenset[str]:
        """The tables whose text is rendered from their files when asked for (read typed)."""
        return frozenset(t for t in self._readers if t not in self._frames)

    def index(self, table: str) -> pd.Index:
        """The row numbers of ``table`` (blank rows left out)."""
        if table in self._frames:
            return self._frames[table].index
        return self._readers[table].index

    def columns(self, table: str) -> list[str]:
        """The headers of ``table`` as written (made unique)."""
        if table in self._frames:
            return list(self._frames[table].columns)
        return list(self._readers[table].columns)

    def rows(self, table: str, rows: Iterable[int]) -> pd.DataFrame:
        """The raw frame of ``rows`` of ``table`` (in the order given)."""
        rows = list(rows)
        if table in self._frames:
            return self._frames[table].loc[rows]
        return self._readers[table].rows(pd.Index(rows, dtype="int64", name="row"))


class Dataset(Mapping):
    """A loaded dataset: English table name -> typed DataFrame (docs/design.md).

    Attributes:
        source: the folder or workbook read.
        files: table -> the file it came from (``persons.csv``, ``book.xlsx[人员]``).
        sha256: file name -> SHA-256 hex of every input file read (provenance).
        raw: table -> the rows as text exactly as in the input (all original
            columns under their original headers, index = row number).
        headers: table -> {English column: header as written in the input}.
        problems: problems found while reading (types, headers, files).
        absent: known tables asked for and not in the dataset.
        skipped: table -> rows left out by ``load_for_analysis(skip_invalid=True)``.
        messages: lines for a command to print (rows left out, warnings), in
            the language asked of :func:`load_for_analysis`.
        parts: table -> [(first row, last row, part file), ...] for a table
            read from a folder of Parquet parts (rows numbered on across parts).
    """

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        source: Path | str | None = None,
        files: Mapping[str, str] | None = None,
        sha256: Mapping[str, str] | None = None,
        raw: Mapping[str, pd.DataFrame] | RawTables | None = None,
        headers: Mapping[str, Mapping[str, str]] | None = None,
        problems: Iterable[Problem] = (),
        absent: Iterable[str] = (),
        skipped: Mapping[str, int] | None = None,
        parts: Mapping[str, list[tuple[int, int, str]]] | None = None,
    ) -> None:
        self._frames = dict(frames)
        self.source = Path(source) if source is not None else None
        self.files = dict(files or {})
        self.sha256 = dict(sha256 or {})
        self.raw = raw if isinstance(raw, RawTables) else RawTables(raw)
        self.headers = {k: dict(v) for k, v in (headers or {}).items()}
        self.problems = list(problems)
        self.absent = tuple(absent)
        self.skipped = dict(skipped or {})
        self.parts = {k: list(v) for k, v in (parts or {}).items()}
        self.messages: list[str] = []

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self._frames.items())
        return f"Dataset({self.source}: {sizes})"

    def replace_frames(self, frames: Mapping[str, pd.DataFrame]) -> Dataset:
        """A copy with other frames and the same provenance."""
        out = Dataset(
            frames,
            source=self.source,
            files=self.files,
            sha256=self.sha256,
            raw=self.raw,
            headers=self.headers,
            problems=self.problems,
            absent=self.absent,
            skipped=self.skipped,
            parts=self.parts,
        )
        out.messages = list(self.messages)
        return out

    def file_of(self, table: str | None, row: int | None = None) -> str | None:
        """The input file a table came from (for messages).

        For a table read from a folder of Parquet parts, ``row`` picks the
        part file that holds it (``persons/part-00001.parquet``); without a
        row it is the folder (``persons/``).
        """
        if table is None:
            return self.source.name if self.source else None
        spans = self.parts.get(table) if row is not None else None
        if spans:
            i = bisect.bisect_right([s[0] for s in spans], row) - 1
            if i >= 0 and spans[i][0] <= row <= spans[i][1]:
                return spans[i][2]
        return self.files.get(table)


def row_keys(frame: pd.DataFrame, table: str) -> pd.Series:
    """The key value of each row as text (``R1/P0003`` for a composite key).

    Examples:
        >>> df = schema.coerce("check_attendance", [{"round_id": "R1", "person_id": "P3",
        ...                                          "attended_date": "2024-03-02"}])
        >>> row_keys(df, "check_attendance").tolist()
        ['R1/P3']
    """
    key = schema.TABLES[table].key
    parts = [frame[k].astype("str").fillna("") for k in key]
    out = parts[0]
    for p in parts[1:]:
        out = out + "/" + p
    return out


def isin_keys(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values.isin(keys)`` for text columns, as a hash lookup in pyarrow (missing: False).

    Examples:
        >>> keys = pd.Series(["a", "b", "a"], dtype="str")
        >>> isin_keys(pd.Series(["a", None, "c"], dtype="str"), keys).tolist()
        [True, False, False]
    """
    import pyarrow.compute as pc

    found = pc.is_in(arrow_text(values), value_set=arrow_text(keys.dropna()), skip_nulls=True)
    out = found.to_numpy(zero_copy_only=False) & values.notna().to_numpy()
    return pd.Series(out, index=values.index)


def text_equals(values: pd.Series, text: str) -> np.ndarray:
    """Whether each of ``values`` (text) is ``text``, as flags (missing: False): one comparison of
    the Arrow texts (:func:`arrow_text`: chunk by chunk, without joining the chunks first).

    Examples:
        >>> text_equals(pd.Series(["baseline", None, "followup"], dtype="str"), "baseline").tolist()
        [True, False, False]
    """
    import pyarrow.compute as pc

    same = pc.equal(arrow_text(values), text).fill_null(False)
    return np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)


def text_in_order(values: pd.Series | pd.Index, *, strict: bool = False) -> bool:
    """Whether ``values`` are texts (``str``), none missing, each after the one before in
    increasing order (``strict``) or not before it: one comparison of each with the one before,
    no hashing and no sort (ids as an export lists them).

    Examples:
        >>> s = pd.Series(["M1", "M2", "M2"], dtype="str")
        >>> text_in_order(s), text_in_order(s, strict=True), text_in_order(s[::-1])
        (True, False, False)
    """
    import pyarrow as pa

    if values.dtype != "str":
        return False
    return arrow_in_order(one_array(pa.array(values.array)), strict=strict)


def arrow_in_order(a, *, strict: bool = False) -> bool:
    """:func:`text_in_order` of Arrow texts in one array: none missing, each after the one
    before (``strict``) or not before it.

    Examples:
        >>> import pyarrow as pa
        >>> ids = pa.array(["a", "b", "b"])
        >>> arrow_in_order(ids), arrow_in_order(ids, strict=True), arrow_in_order(ids[::-1])
        (True, False, False)
    """
    import pyarrow.compute as pc

    if a.null_count:
        return False
    after = pc.greater if strict else pc.greater_equal
    return len(a) < 2 or bool(pc.all(after(a[1:], a[:-1])).as_py())


def same_texts(a: pd.Series, b: pd.Series) -> bool:
    """Whether two text columns (``str``) hold the same texts in the same order, none missing.

    Examples:
        >>> s = pd.Series(["H1", "H2"], dtype="str")
        >>> same_texts(s, s.copy()), same_texts(s, s[::-1]), same_texts(s, s[:1])
        (True, False, False)
    """
    import pyarrow.compute as pc

    if a.dtype != "str" or b.dtype != "str" or len(a) != len(b) or a.isna().any() or b.isna().any():
        return False
    return bool(pc.all(pc.equal(arrow_text(a), arrow_text(b))).as_py()) if len(a) else True


#: :func:`arrow_text`'s chunked arrays of one chunk: id -> (a weak reference, the chunk).
_ONE_CHUNK: dict[int, tuple[Any, Any]] = {}


def arrow_text(s: pd.Series):
    """A text column as pyarrow strings (no copy for pandas' pyarrow-backed ``str``): its chunked
    array, or its one chunk. The one chunk is the same Arrow object each time it is asked for
    the same chunked array, which pandas holds until a value is set (pyarrow makes a new one
    otherwise), so that what is made of a column once (:meth:`SortedKeys.held`) is found again.

    Examples:
        >>> s = pd.Series(["P1", "P2"], dtype="str")
        >>> arrow_text(s) is arrow_text(s), arrow_text(s).to_pylist()
        (True, ['P1', 'P2'])
    """
    import pyarrow as pa

    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        s = s.astype(pd.StringDtype("pyarrow", na_value=float("nan")))
    chunked = s.array.__arrow_array__()
    if not isinstance(chunked, pa.ChunkedArray) or chunked.num_chunks != 1:
        return pa.array(s.array)
    return _made_once(_ONE_CHUNK, chunked, lambda c: c.chunk(0))


def text_bytes(s: pd.Series):
    """The bytes of a ``str`` column's cells, one after another, as numpy ``uint8`` views of
    its Arrow data buffers (one per chunk, not copied; a missing cell adds none, or the bytes
    Arrow left under it, which a sift may take for a match); ``None`` when the column is not
    held as Arrow text. For sifting a whole column at once (is there a CR, a run of digits
    anywhere?) before searching its cells one by one.

    Examples:
        >>> [bytes(b) for b in text_bytes(pd.Series(["ab", None, "c"], dtype="str"))]
        [b'abc']
        >>> text_bytes(pd.Series(["ab"], dtype=object)) is None
        True
    """
    import numpy as np
    import pyarrow as pa

    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        return None
    arr = pa.array(s.array)
    out = []
    for a in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if pa.types.is_large_string(a.type):
            width = np.int64
        elif pa.types.is_string(a.type):
            width = np.int32
        else:  # pragma: no cover - another layout (a view type)
            return None
        if not len(a) or a.buffers()[2] is None:
            continue
        offsets = np.frombuffer(a.buffers()[1], dtype=width)
        lo, hi = int(offsets[a.offset]), int(offsets[a.offset + len(a)])
        out.append(np.frombuffer(a.buffers()[2], dtype=np.uint8)[lo:hi])
    return out


#: Values this many times fewer than the keys they are looked up in are looked up the other
#: way round (:func:`positions_by_values`): their own distinct values hashed, not the keys.
FEW_VALUES = 4
#: Fewer values than this are looked up by the keys (or by :data:`FEW_VALUES`) without asking
#: whether they repeat: a county's look-ups take milliseconds either way.
MANY_VALUES = 1 << 20
#: Values at most this many per key are looked up among keys that :class:`SortedKeys` holds by
#: a binary search of their numbers, not a hash of the keys. Measured on 2M people's references
#: (``benchmarks/bench_lookups.py``, nothing made before each run): 0.9M wives among 2M persons
#: 0.27 s against 0.52 s by the hash; 4M check attendances among 2M persons 0.70 s against
#: 0.86 s; near even at 3.2 a key (2.9M household members among 0.9M households: 0.36-0.45 s
#: either way, run to run); 8.3M surveys among 0.9M couples 0.91 s against 0.41 s.
SORTED_MOST = 2.5


def text_positions(values, keys, *, runs: bool = True):
    """Where the first key equal to each of ``values`` is (-1: none; a missing value finds the
    first missing key), as an ``int64`` numpy array, for Arrow text arrays. The one look-up of
    text in text shared by validation's references and the rules' indexes; every way gives the
    answer of :func:`positions_by_keys`, the readable rule. Values that are the keys
    themselves, listed as they are (:func:`listed_as_keys`: the first values of a members
    table's runs, every household with members), are each at their own place, found without a
    look-up. Otherwise the ways, in the order they are asked for (:func:`lookup_way` decides):

    - ``few values`` (among keys that are not sorted ids; among sorted ids, ``sorted keys``):
      :func:`positions_by_values`;
    - ``runs`` (values that come in runs of equal ones, a household's members or a couple's
      surveys one after another): :func:`positions_by_runs`, each run looked up once;
    - ``sorted keys`` (ids as an export lists them, at most :data:`SORTED_MOST` values each):
      :meth:`SortedKeys.positions`, a binary search of the keys as numbers;
    - ``repeats``: the values' distinct values found (one hash of the values); if there are as
      few as the sample suggested (:func:`by_values_pays`), each key is looked up among them,
      else the keys are hashed and only the distinct values looked up; either way each value
      is then given its distinct value's position;
    - ``by keys``: :func:`positions_by_keys`.

    ``runs``: False leaves the runs out of the choice (the first values of runs, which
    :func:`positions_by_runs` looks up, are no runs).

    Measured on a 10M-person dataset (``benchmarks/README.md``, "Looking up text keys"), by
    their repeats before sorted keys were searched: a slice of 8M check attendances (a million
    women) among 10M persons in 1.66 s against 2.58 s by the keys; 8M surveys (600,000 couples)
    among 4.5M couples 0.67 s against 1.11 s. Sorted keys: ``benchmarks/README.md``, "Sorted ids
    looked up as numbers"; runs (the surveys since): "Runs of equal values looked up once".

    Examples:
        >>> import pyarrow as pa
        >>> keys = pa.array(["a", None, "b", "a", "c", None])
        >>> text_positions(pa.array(["c", "a", "x", None, "c"]), keys).tolist()
        [4, 0, -1, 1, 4]
    """
    if listed_as_keys(values, keys):  # the keys themselves, in their order: nothing to look up
        return np.arange(len(keys), dtype=np.int64)
    way = lookup_way(values, keys, runs=runs)
    if way == "few values":
        return positions_by_values(values, keys)
    if way == "runs":
        return positions_by_runs(values, keys)
    if way == "sorted keys":
        return SortedKeys.held(keys).positions(values)  # (made once, by lookup_way)
    coded = _distinct_codes(values) if way == "repeats" else None
    if coded is None:
        return positions_by_keys(values, keys)
    distinct, codes = coded
    if by_values_pays(len(values), len(distinct), len(keys)):
        return _first_key_of(distinct, keys)[codes]
    return positions_by_keys(distinct, keys)[codes]  # the sample misled: the same answer


def lookup_way(values, keys, *, runs: bool = True) -> str:
    """How :func:`text_positions` looks ``values`` up among ``keys`` (Arrow text arrays):
    ``sorted keys`` or else ``few values`` when the values are :data:`FEW_VALUES` times fewer
    than the keys (a binary search of keys already numbered costs less than reading every key
    once; numbering them costs about that, once: ``benchmarks/README.md``, "Validation's
    duplicate keys by numbers"), ``runs`` (more than
    :data:`RUNS_WINDOWS` x :data:`RUNS_WIDTH` values among :data:`RUNS_KEYS` keys or more, seen
    in runs by :func:`_in_runs`; not asked with ``runs`` false), ``sorted keys`` (keys that
    :meth:`SortedKeys.held` holds, at most :data:`SORTED_MOST` values each), ``repeats``
    (:data:`MANY_VALUES` or more that, by a sample of them, repeat enough for
    :func:`by_values_pays`: :func:`_few_distinct`) or ``by keys``.

    Examples:
        >>> import pyarrow as pa
        >>> few, two = pa.array(["a", "b"]), pa.array(["b", "a"])
        >>> sorted_ids = pa.array([f"k{i:03d}" for i in range(100)])
        >>> lookup_way(few, sorted_ids), lookup_way(few, sorted_ids[::-1]), lookup_way(few, two)
        ('sorted keys', 'few values', 'by keys')
        >>> lookup_way(few, pa.array(["a", "b"]))
        'sorted keys'
    """
    if FEW_VALUES * len(values) < len(keys):
        return "sorted keys" if SortedKeys.held(keys) is not None else "few values"
    if (
        runs
        and len(keys) >= RUNS_KEYS
        and len(values) > RUNS_WINDOWS * RUNS_WIDTH
        and _in_runs(values)
    ):
        return "runs"
    if len(values) <= SORTED_MOST * len(keys) and SortedKeys.held(keys) is not None:
        return "sorted keys"
    if len(values) >= MANY_VALUES and _few_distinct(values, len(keys)):
        return "repeats"
    return "by keys"


def most_distinct(values: int, keys: int) -> float:
    """How many distinct values ``values`` values may hold for looking them up by their
    distinct values (hash the values, then look each key up among the distinct ones) to cost
    clearly less than by ``keys`` keys (hash the keys, look each value up). Hashing a text
    costs about two look-ups and finding a value's distinct value about 1.2, so by values
    costs less when ``keys > 0.2 * values + 2 * distinct``; it is taken when it costs a tenth
    less, so that a near tie (a 10M-person dataset's wives among its persons) stays with the
    keys. The model orders the seven look-ups measured on that dataset
    (``benchmarks/bench_lookups.py``, ``benchmarks/README.md``).

    Examples:
        >>> round(most_distinct(8_000_000, 10_000_000))  # check attendances, persons
        3745455
    """
    return (keys / 1.1 - 0.2 * values) / 2


def by_values_pays(values: int, distinct: int, keys: int) -> bool:
    """Whether ``values`` values holding ``distinct`` distinct ones are looked up by those
    among ``keys`` keys: fewer than :func:`most_distinct`.

    Examples:
        >>> by_values_pays(8_000_000, 983_086, 10_000_000)  # check attendances, persons
        True
        >>> by_values_pays(8_000_000, 2_495_870, 4_545_440)  # household members, households
        False
    """
    return distinct < most_distinct(values, keys)


#: Values sampled by :func:`_few_distinct`.
DISTINCT_SAMPLE = 1 << 16


def _few_distinct(values, keys: int) -> bool:
    """Whether ``values`` seem to hold fewer distinct values than :func:`most_distinct` against
    ``keys`` (a number of keys): the distinct values of :data:`DISTINCT_SAMPLE` values drawn
    at random (a fixed seed: the same values give the same answer; not at even steps, which
    would miss the repeats of values kept together, a couple's surveys one after another)
    fewer than as many draws from that many equally common values would give. Only the speed
    of :func:`text_positions` depends on the answer.

    Examples:
        >>> import pyarrow as pa
        >>> repeated = pa.array([f"p{i % 1000}" for i in range(200_000)])
        >>> _few_distinct(repeated, 1_000_000), _few_distinct(repeated, 10_000)
        (True, False)
        >>> _few_distinct(pa.array([f"p{i}" for i in range(200_000)]), 300_000)
        False
    """
    import math

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    most = most_distinct(len(values), keys)
    if most < 1:
        return False
    at = np.random.default_rng(0).integers(0, len(values), DISTINCT_SAMPLE, dtype=np.int64)
    seen = pc.count_distinct(values.take(pa.array(at)), mode="all").as_py()
    return seen < most * -math.expm1(-DISTINCT_SAMPLE / most)


#: The least share of values equal to the value before them for :func:`text_positions` to look
#: up each run of equal values once: a half, two values a run on average.
RUNS_LEAST = 0.5
#: The fewest keys among which runs are looked up once each: among fewer, each value's look-up
#: in their hash costs little, and finding the runs more than it saves. Measured by
#: ``benchmarks/bench_lookups.py`` (``benchmarks/README.md``, "Runs of equal values looked up
#: once"): the first 8M of 10M people's surveys among their 303,040 units, 6.8 values a run,
#: took 0.32 s by runs against 0.27 s by the keys; among 4.5M keys runs paid, 8M household
#: members in 0.86 s against 1.05 s and 8M surveys among the couples in 0.61 s against 0.89 s.
RUNS_KEYS = 1 << 19
#: :func:`_in_runs` compares each value with the one before it in this many windows of this
#: many values, spread evenly: 4,096 pairs of neighbours, each window a slice (values drawn at
#: random would be taken one by one across a table's chunks).
RUNS_WINDOWS = RUNS_WIDTH = 64


def _in_runs(values) -> bool:
    """Whether ``values`` seem to come in runs of equal values: of the values in
    :data:`RUNS_WINDOWS` windows of :data:`RUNS_WIDTH` spread evenly over them, at least
    :data:`RUNS_LEAST` equal to the value before them (a missing value equals none). Runs are
    local (a household's members together), so neighbours are compared, not values far apart.
    Only the speed of :func:`text_positions` depends on the answer.

    Examples:
        >>> import pyarrow as pa
        >>> _in_runs(pa.array([f"h{i // 3}" for i in range(100_000)]))
        True
        >>> _in_runs(pa.array([f"h{i % 3}" for i in range(100_000)]))
        False
    """
    import numpy as np
    import pyarrow.compute as pc

    starts = np.linspace(0, len(values) - RUNS_WIDTH - 1, RUNS_WINDOWS).astype(np.int64)
    same = 0
    for start in starts.tolist():
        w = values.slice(start, RUNS_WIDTH + 1)
        same += pc.sum(pc.fill_null(pc.equal(w.slice(1), w.slice(0, RUNS_WIDTH)), False)).as_py()
    return same >= RUNS_LEAST * RUNS_WINDOWS * RUNS_WIDTH


def run_starts(values):
    """Where each run of equal values starts (numpy ``int64`` positions; a missing value is a run
    of its own), found by comparing each value with the one before: the households of a members
    table listed by household, one position each.

    Examples:
        >>> import pyarrow as pa
        >>> run_starts(pa.array(["h1", "h1", "h2", None, None, "h1"])).tolist()
        [0, 2, 3, 4, 5]
    """
    import numpy as np
    import pyarrow.compute as pc

    n = len(values)
    if n == 0:
        return np.zeros(0, dtype="int64")
    differs = pc.fill_null(pc.not_equal(values.slice(1), values.slice(0, n - 1)), True)
    differs = np.asarray(differs.to_numpy(zero_copy_only=False), dtype=bool)
    return np.flatnonzero(np.concatenate([[True], differs]))


def positions_by_runs(values, keys):
    """:func:`positions_by_keys` of values that come in runs of equal values (a members table
    listed by household): the first value of each run looked up (in the way
    :func:`text_positions` chooses for them), and its position given to the whole run. A
    missing value is a run of its own.

    Examples:
        >>> import pyarrow as pa
        >>> keys = pa.array(["a", None, "b", "a", "c", None])
        >>> positions_by_runs(pa.array(["c", "c", "a", None, None, "x", "c"]), keys).tolist()
        [4, 4, 0, 1, 1, -1, 4]
    """
    import numpy as np

    starts = run_starts(values)
    if not len(starts):
        return np.zeros(0, dtype="int64")
    # the heads of the runs are no runs: their way is asked without looking for runs again
    heads = text_positions(take_in_order(values, starts), keys, runs=False)
    return np.repeat(heads, np.diff(np.append(starts, len(values))))


def listed_as_keys(values, keys) -> bool:
    """Whether Arrow texts ``values`` are ``keys`` themselves, in the same order, none missing,
    with the keys in strictly increasing order (so each key is the first of its text): then each
    value is found at its own place. Two comparisons of neighbouring bytes, no hashing: a members
    table listed household by household, every household with members, as a validated export
    lists them. At 10M people the 4.5M households' runs were seen to be the households in
    0.02 s; looking them up took 0.69-1.12 s (a scratch timer, two runs).

    Examples:
        >>> import pyarrow as pa
        >>> keys = pa.array(["H1", "H2", "H3"])
        >>> listed_as_keys(pa.chunked_array([["H1"], ["H2", "H3"]]), keys)
        True
        >>> listed_as_keys(pa.array(["H1", "H3"]), keys), listed_as_keys(keys[::-1], keys[::-1])
        (False, False)
    """
    import pyarrow.compute as pc

    if len(values) != len(keys) or values.null_count:
        return False
    return not len(keys) or (
        arrow_in_order(one_array(keys), strict=True)
        and bool(pc.all(pc.equal(values, keys)).as_py())
    )


def take_in_order(values, at):
    """``values.take(at)`` for increasing positions ``at`` (numpy ``int64``) of an Arrow array,
    chunked or not: each chunk's values taken from it, so that a column of many chunks is not
    first joined into one (Arrow's ``take`` of a chunked array copies the whole column, 130 MB
    for the 8.3M surveys of a province's part, to take the 620,000 first of their couples' runs).

    Examples:
        >>> import pyarrow as pa
        >>> values = pa.chunked_array([["a", "b"], [], ["c", None, "d"]])
        >>> take_in_order(values, np.array([1, 2, 3, 4])).to_pylist()
        ['b', 'c', None, 'd']
    """
    import pyarrow as pa

    if not isinstance(values, pa.ChunkedArray) or values.num_chunks < 2:
        return values.take(pa.array(at, type=pa.int64()))
    ends = np.cumsum([len(chunk) for chunk in values.chunks])
    cuts = np.searchsorted(at, ends)  # at[cuts[i - 1]:cuts[i]] fall in chunk i
    pieces = [
        chunk.take(pa.array(at[begin:end] - (stop - len(chunk)), type=pa.int64()))
        for chunk, begin, end, stop in zip(
            values.chunks, np.append(0, cuts[:-1]), cuts, ends, strict=True
        )
        if end > begin
    ]
    return pa.chunked_array(pieces, type=values.type)


def positions_by_keys(values, keys):
    """The readable rule of :func:`text_positions`: each value looked up in a hash of the keys
    (Arrow's ``index_in``, a missing value finding the first missing key)."""
    import pyarrow.compute as pc

    at = pc.index_in(values, value_set=keys, skip_nulls=False)
    return at.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")


def positions_by_values(values, keys):
    """:func:`positions_by_keys` the other way round. For a few values in many keys (a certificate's
    payee among a province's persons; a handful of couples in a county's surveys) the distinct
    values are hashed, each key looked up among them, and each value takes the first key found
    equal to it: the hash table built is the values' (small), not the keys'. ``values`` and
    ``keys``: Arrow text arrays, chunked or not, ``string`` or ``large_string``.

    Examples:
        >>> import pyarrow as pa
        >>> keys = pa.array(["a", None, "b", "a", "c", None])
        >>> positions_by_values(pa.array(["c", "a", "x", None, "c"]), keys).tolist()
        [4, 0, -1, 1, 4]
    """
    coded = _distinct_codes(values)
    if coded is None:  # pragma: no cover - chunks that do not share a dictionary
        return positions_by_keys(values, keys)
    distinct, codes = coded
    return _first_key_of(distinct, keys)[codes]


def _distinct_codes(values):
    """``values``' distinct values (a missing value among them when there is one) and the
    position of each value among them (numpy ``intp``); ``None`` for chunks whose dictionaries
    differ (Arrow's chunks share one)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    coded = pc.dictionary_encode(values, null_encoding="encode")
    chunks = coded.chunks if isinstance(coded, pa.ChunkedArray) else [coded]
    if not chunks:  # (a chunked array of no chunks)
        return pa.array([], type=values.type), np.zeros(0, dtype=np.intp)
    distinct = chunks[0].dictionary
    if any(not c.dictionary.equals(distinct) for c in chunks[1:]):  # pragma: no cover
        return None
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
    return distinct, codes.astype(np.intp)


def _first_key_of(distinct, keys):
    """For each of the ``distinct`` values, the position of the first key equal to it (-1:
    none): each key looked up among the distinct values (their hash, not the keys')."""
    import numpy as np
    import pyarrow.compute as pc

    among = pc.index_in(keys, value_set=distinct, skip_nulls=False)
    among = among.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    hit = np.flatnonzero(among >= 0)
    first = np.full(len(distinct), -1, dtype="int64")
    first[among[hit][::-1]] = hit[::-1]  # written last to first: the first key stays
    return first


def unit_ids(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The ``units`` table's ids as text, in its order (none when the dataset has no ``units``)."""
    if "units" not in tables:
        return []
    return tables["units"]["unit_id"].dropna().astype("str").tolist()
