"""``core.ahead.read_ahead``: the slices of an output made on another thread while the last is
written, in their order, with what making one raises raised in its place."""

from __future__ import annotations

import os
import threading
import time

import pandas as pd
import pytest

from fpanalysis.core.ahead import beside, both_ends, in_order, read_ahead
from fpanalysis.io import write_table, write_table_chunks


def _until(test, seconds: float = 10.0) -> bool:
    """Whether ``test()`` comes true within ``seconds`` (polled: the thread's pace is the
    machine's)."""
    end = time.monotonic() + seconds
    while not test():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def _making() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fpanalysis-read-ahead"]


def _counted(n: int) -> tuple[list[int], object]:
    """Slices 0 .. n-1, and the list of those made so far."""
    made: list[int] = []

    def slices():
        for k in range(n):
            made.append(k)
            yield k

    return made, slices()


def test_the_items_come_in_their_order():
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead([])) == []


def test_at_most_one_item_waits():
    made, slices = _counted(5)
    got = read_ahead(slices)
    assert next(got) == 0
    # slice 0 taken, slice 1 waiting in the queue, slice 2 made and waiting to be put
    assert _until(lambda: len(made) == 3)
    time.sleep(0.2)
    assert made == [0, 1, 2]
    assert list(got) == [1, 2, 3, 4]


def test_an_error_is_raised_in_its_place():
    def slices():
        yield "first"
        raise KeyError("the second slice")

    got = read_ahead(slices())
    assert next(got) == "first"
    with pytest.raises(KeyError, match="the second slice"):
        next(got)


def test_a_caller_that_stops_stops_the_making():
    made, slices = _counted(1000)
    got = read_ahead(slices)
    assert next(got) == 0
    got.close()  # the writer failed: the round's slices are not all made
    assert _until(lambda: not _making())
    assert len(made) <= 3


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_slices_written_ahead_are_the_bytes_written_in_turn(tmp_path, ext):
    df = pd.DataFrame({"household_id": [f"H{k:03d}" for k in range(7)], "size": range(7)})
    slices = [df.iloc[:3], df.iloc[3:5], df.iloc[5:]]
    write_table_chunks(iter(slices), tmp_path / f"ahead{ext}", lang="en")
    write_table_chunks(iter(slices), tmp_path / f"in-turn{ext}", lang="en", ahead=False)
    assert (tmp_path / f"ahead{ext}").read_bytes() == (tmp_path / f"in-turn{ext}").read_bytes()
    if ext == ".csv":  # the file of the slices joined
        write_table(df, tmp_path / "whole.csv", lang="en")
        assert (tmp_path / "ahead.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    got = (
        pd.read_csv(tmp_path / f"ahead{ext}", dtype=str, encoding="utf-8-sig")
        if ext == ".csv"
        else pd.read_parquet(tmp_path / f"ahead{ext}").astype(str)
    )
    assert got["household_id"].tolist() == df["household_id"].tolist()


def test_a_slice_that_fails_leaves_the_old_file(tmp_path):
    out = tmp_path / "round.csv"
    out.write_text("the last round\n", encoding="utf-8")

    def slices():
        yield pd.DataFrame({"household_id": ["H001"]})
        yield pd.DataFrame({"household_id": ["H002"]})
        raise ValueError("the third slice")

    with pytest.raises(ValueError, match="the third slice"):
        write_table_chunks(slices(), out, lang="en")
    assert out.read_text(encoding="utf-8") == "the last round\n"


def test_beside_runs_at_once_and_returns_what_the_work_returned():
    """The work starts before the result is asked for (it has run while the caller worked)."""
    started = threading.Event()
    result = beside(lambda: (started.set(), "done")[1])
    assert _until(started.is_set)
    assert result() == "done"
    assert result() == "done"  # asked again: the same answer, no second run


def test_beside_raises_the_work_s_error_in_the_caller():
    def work():
        raise KeyError("part 3")

    result = beside(work)
    with pytest.raises(KeyError, match="part 3"):
        result()


def test_the_shared_lookups_of_one_thread_are_not_another_s():
    """Validation's memo of look-ups is kept per thread: the checks on the second thread neither
    see nor empty the caller's."""
    from fpanalysis.io.validate import findings

    keys = pd.Series(["a", "b"], dtype="str")
    values = pd.Series(["b", "c"], dtype="str")
    with findings.shared_lookups():
        assert findings.key_positions(values, keys).tolist() == [1, -1]
        mine = findings._shared()[-1]
        assert len(mine) == 1

        def other():
            before = list(findings._shared())
            with findings.shared_lookups():
                findings.key_positions(values, keys)
                inner = len(findings._shared()[-1])
            return before, inner

        before, inner = beside(other)()
        assert before == [] and inner == 1
        assert findings._shared()[-1] is mine and len(mine) == 1


def _pieces(n: int, log: list, fail: str | None = None):
    def piece(name):
        def work():
            log.append((name, threading.current_thread().name))
            if name == fail:
                raise ValueError(name)
            return name.upper()

        return work

    return [(f"p{k}", piece(f"p{k}")) for k in range(n)]


def test_both_ends_runs_each_piece_once_from_both_ends():
    """The second thread starts at the front, the caller at the back; every piece once."""
    log: list = []
    done = both_ends(_pieces(6, log))
    assert done == {f"p{k}": f"P{k}" for k in range(6)}
    assert sorted(n for n, _ in log) == [f"p{k}" for k in range(6)]
    me = threading.current_thread().name
    mine = [n for n, t in log if t == me]
    theirs = [n for n, t in log if t == "fpanalysis-beside"]
    assert mine == sorted(mine, reverse=True) and theirs == sorted(theirs)  # each from its end
    assert not mine or not theirs or max(theirs) < min(mine)  # they met, never crossed


@pytest.mark.parametrize("fail", ["p0", "p5"])
def test_both_ends_raises_what_a_piece_raised(fail):
    """Whichever thread ran the failing piece, its error reaches the caller."""
    with pytest.raises(ValueError, match=fail):
        both_ends(_pieces(6, [], fail=fail))


def test_both_ends_gives_the_second_thread_the_caller_s_context():
    import contextlib

    seen: list = []

    @contextlib.contextmanager
    def shared():
        seen.append(threading.current_thread().name)
        yield

    both_ends(_pieces(2, []), second=shared)
    assert seen == ["fpanalysis-beside"]


# --------------------------------------------------------------------------- two threads or one

GB = 1024**3


def _machine(tmp_path, monkeypatch, *, available_kb, resident_pages, limit=None, current=None):
    """Point ``memory_for_us`` at files of the test's own: ``MemAvailable`` in kB, the
    process's resident pages and, when given, a cgroup's limit and what it holds (bytes)."""
    from fpanalysis.core import ahead

    (tmp_path / "meminfo").write_text(
        f"MemTotal:       25000000 kB\nMemAvailable:   {available_kb} kB\n", encoding="ascii"
    )
    (tmp_path / "statm").write_text(f"900000 {resident_pages} 1000 1 0 2000 0\n", "ascii")
    monkeypatch.setattr(ahead, "MEMINFO", tmp_path / "meminfo")
    monkeypatch.setattr(ahead, "STATM", tmp_path / "statm")
    monkeypatch.setattr(ahead, "CGROUP_MAX", tmp_path / "memory.max")
    monkeypatch.setattr(ahead, "CGROUP_CURRENT", tmp_path / "memory.current")
    if limit is not None:
        (tmp_path / "memory.max").write_text(f"{limit}\n", "ascii")
        (tmp_path / "memory.current").write_text(f"{current}\n", "ascii")
    monkeypatch.setattr("os.sysconf", lambda name: 4096)
    return ahead


@pytest.mark.parametrize(
    ("available_kb", "resident_pages", "limit", "current", "room"),
    [
        # 4 GB left on the machine, 1 GB (262,144 pages of 4 kB) held: 5 GB
        pytest.param(4 * 1024**2, 262_144, None, None, 5 * GB, id="machine"),
        # a cgroup of 3 GB holding 2.5 GB: 0.5 GB left, plus the 1 GB held
        pytest.param(4 * 1024**2, 262_144, 3 * GB, GB * 5 // 2, GB * 3 // 2, id="cgroup"),
        # a cgroup with no limit: the machine's
        pytest.param(4 * 1024**2, 262_144, "max", 0, 5 * GB, id="cgroup-max"),
    ],
)
def test_the_memory_a_process_can_have(
    tmp_path, monkeypatch, available_kb, resident_pages, limit, current, room
):
    ahead = _machine(
        tmp_path,
        monkeypatch,
        available_kb=available_kb,
        resident_pages=resident_pages,
        limit=limit,
        current=current,
    )
    assert ahead.memory_for_us() == room


def test_memory_unknown_where_it_cannot_be_read(tmp_path, monkeypatch):
    from fpanalysis.core import ahead

    monkeypatch.setattr(ahead, "MEMINFO", tmp_path / "no-such-file")
    assert ahead.memory_for_us() is None
    assert ahead.two_threads(ahead.TWO_THREADS_ROWS)  # the rows decide alone
    assert not ahead.two_threads(ahead.TWO_THREADS_ROWS + 1)


@pytest.mark.parametrize(
    ("rows", "room_gb", "two"),
    [
        # 100 bytes a row: 20M rows want 2 GB
        pytest.param(20_000_000, 5, True, id="county-ample-memory"),
        pytest.param(20_000_000, 1, False, id="county-1-GB-machine"),
        # 56M rows (5M people) want 5.6 GB
        pytest.param(56_000_000, 24, True, id="city-24-GB"),
        pytest.param(56_000_000, 5, False, id="city-5-GB"),
        # beyond the rows' limit, one thread whatever the memory
        pytest.param(60_000_001, 1000, False, id="province"),
    ],
)
def test_two_threads_when_the_rows_and_their_memory_allow(
    tmp_path, monkeypatch, rows, room_gb, two
):
    # room: room_gb GB left on the machine, nothing held
    ahead = _machine(tmp_path, monkeypatch, available_kb=room_gb * 1024**2, resident_pages=0)
    assert ahead.TWO_THREADS_ROWS == 60_000_000 and ahead.TWO_THREADS_BYTES_PER_ROW == 100
    assert ahead.two_threads(rows) is two


@pytest.mark.parametrize(
    ("rows", "room_gb", "fits"),
    [
        # 100 bytes a row: a province's 25M rows held whole want 2.5 GB, whatever the rows
        pytest.param(25_000_000, 24, True, id="province-24-GB"),
        pytest.param(25_000_000, 2, False, id="province-2-GB"),
        pytest.param(600_000_000, 100, True, id="beyond-two-threads-rows"),
    ],
)
def test_work_beside_the_parts_when_its_memory_allows(tmp_path, monkeypatch, rows, room_gb, fits):
    ahead = _machine(tmp_path, monkeypatch, available_kb=room_gb * 1024**2, resident_pages=0)
    assert ahead.fits_beside(rows) is fits


def test_beside_the_parts_when_memory_cannot_be_read(tmp_path, monkeypatch):
    from fpanalysis.core import ahead

    monkeypatch.setattr(ahead, "MEMINFO", tmp_path / "no-such-file")
    assert ahead.fits_beside(10**12)


# --------------------------------------------------------------------------- in_order
def _pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fpanalysis-in-order")]


def test_in_order_gives_the_work_of_each_item_in_the_items_order():
    def slow_first(k: int) -> int:
        if k == 0:
            time.sleep(0.2)  # the second thread finishes item 1 first: still given second
        return k * 10

    assert list(in_order(slow_first, range(6))) == [0, 10, 20, 30, 40, 50]
    assert list(in_order(slow_first, [])) == []
    assert list(in_order(slow_first, range(3), workers=1)) == [0, 10, 20]


def test_in_order_makes_at_most_two_ahead():
    made, items = _counted(10)
    got = in_order(lambda k: k, items)
    assert next(got) == 0
    time.sleep(0.2)
    two = (os.cpu_count() or 1) >= 2  # one core: one item at a time, as map() makes them
    assert made == ([0, 1] if two else [0])  # item 1 made ahead of the caller, no more taken
    assert list(got) == list(range(1, 10))


def test_in_order_raises_an_item_s_error_in_its_place():
    got = in_order(lambda k: 10 // k, [5, 0, 1])
    assert next(got) == 2
    with pytest.raises(ZeroDivisionError):
        next(got)


def test_in_order_stops_when_its_caller_stops():
    made, items = _counted(1000)
    got = in_order(lambda k: k, items)
    assert next(got) == 0
    got.close()
    assert _until(lambda: not _pool_threads())
    assert len(made) <= 3
