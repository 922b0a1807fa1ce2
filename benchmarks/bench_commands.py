"""Benchmarks of the commands as a user runs them: one fresh process per command, on a dataset.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_commands.py                      # 1M, 2M and 10M people
    .venv/bin/python benchmarks/bench_commands.py --sizes 1M --only compliance,relief
    .venv/bin/python benchmarks/bench_commands.py --quick              # 20k people, a smoke run

Each size is a synthetic partitioned dataset, ``fpanalysis synth --people N
--format parquet --seed 7``, generated once and kept under ``--data-dir``
(default ``benchmarks/data/``, git-ignored). Each command runs as a user runs
it, ``python -m fpanalysis CMD DATASET ... --out FILE.parquet`` in a fresh
process (:data:`COMMANDS`; ``bonus`` and ``relief`` once more with ``--out FILE.csv``,
runner ``csv``, :data:`CSV_COMMANDS`; ``bonus`` once more with every option at its default,
runner ``defaults``, :data:`DEFAULTS_COMMANDS`), and so do the DuckDB contenders of ``compliance``
and ``relief`` (``duckdb_compliance.py``, ``duckdb_relief.py``), whose output
is compared with the command's.

Per row:

- **wall**: from starting the process to its exit, interpreter start-up and
  imports included.
- **peak RSS**: the larger of (a) the kernel's high-water mark of the largest
  process of the tree: ``/usr/bin/time``'s "Maximum resident set size"
  (``%M``; the process is started under it, so the figure is the command's
  own and covers the children it waits for) and each process's ``VmHWM``
  read from ``/proc`` while polling; and (b) the sum of ``VmRSS`` over the
  process and all its descendants, sampled every 0.1 s (child processes
  running at once add up). Not ``ru_maxrss`` of a child of this harness:
  Linux counts in it the harness's own memory, copied before the ``exec``.
- **Dask rows** (``compliance`` and ``relief`` with ``--engine dask --workers 2
  --worker-memory 4GB``, on 20M people by default, ``--dask-sizes``): besides the above, the
  driver's own peak (the ``python -m fpanalysis`` process's ``VmHWM``) and each worker
  process's, polled; where the same size also runs the default engine, the two output files
  are compared byte for byte.
- **exit**: the exit code; a process killed by a signal, by ``--timeout`` or
  by the memory guard (the sampled tree over ``--mem-limit``) is a row that
  says so. The processes also get ``oom_score_adj`` 1000, so that on a shared
  machine the kernel's OOM killer takes them before anyone else's.
- **floor**: in another fresh process, the time pyarrow takes to read every
  column of every table the command needs (``pyarrow.parquet.read_table`` of
  each table, default threads) plus the time to write the command's own output
  once more with pyarrow (same format, default options). The page cache is
  not dropped (a shared machine): the share of the tables' bytes resident in
  it just before the read (``fincore``) is reported, and is normally all of
  it, the command having just read the same files, so the floor is a warm read.
- **x floor**: wall ÷ floor.
- **CPU**: the user and system time the kernel counted for the process and every descendant it
  reaped (``os.wait4``'s usage; GNU time reaps the command, a Dask driver its workers), the
  system's share in the notes. CPU over wall is the cores the command kept busy; CPU over the
  machine's cores is the least wall time the same work could take here.
- **phases**: where a command's wall time goes. Every measured process runs with
  ``FPANALYSIS_TIMINGS=1`` (``fpanalysis.core.timings``: a line on stderr per phase, nothing
  else changed), and the row keeps the command's own summary of its main thread: ``read``
  (the tables read whole), ``validate`` (with the tables read and checked a part at a time),
  ``prepare``, ``rules``, ``write`` (a table written a slice at a time, its texts made as it
  goes), and ``analysis and outputs`` (the rest of the command); ``start and exit`` is the wall
  time outside the command (interpreter start-up, imports, exit). A DuckDB contender's row
  keeps the time it reports itself from connecting to its output written (``in process``).
- **settle**: every measured process (command, contender, floor) starts ``--settle`` seconds
  (default 5) after the one before it ended. On the benchmark machine, a virtual machine,
  memory the previous process has just freed is cheap to take again, and memory left free for
  a few seconds is not: 1 GB of fresh numpy array in huge pages took 11.39 s after 12 s of rest
  and 0.09 s at once after another process had freed as much (``bench_memory.py``). Without
  the pause each process ran in the memory its predecessor freed (the floor in the command's),
  so the measurements depended on their order; with it, each starts in the same state.
  ``--quick`` does not pause.

Which tables each command needs comes from the code: ``validate`` reads every
table of the schema present in the dataset, ``bonus``
``fpanalysis.rules.bonus.TABLES_NEEDED``, ``compliance``
``fpanalysis.rules.compliance.TABLES_NEEDED``, ``relief``
``fpanalysis.rules.relief.RELIEF_TABLES``. Results: printed, and written to
``benchmarks/results/bench_commands.json`` (git-ignored); ``bench_all.py``
runs the same as its "commands" section.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DATA_DIR = HERE / "data"
sys.path.insert(0, str(HERE))

COMMANDS = ("validate", "bonus", "compliance", "relief")
#: The commands also run with the Dask engine, and on which sizes.
DASK_COMMANDS = ("compliance", "relief")
DASK_SIZES = (20_000_000,)
#: The Dask engine as the command line starts it on this machine: a local cluster of two
#: worker processes of 4 GB each.
DASK_ARGS = ("--engine", "dask", "--workers", "2", "--worker-memory", "4GB")
#: The commands also run writing a ``.csv`` (runner ``csv``): the format a user opens in a
#: spreadsheet, with the largest outputs (the budget's unit x month table, the relief list).
CSV_COMMANDS = ("bonus", "relief")
#: The commands also run with no option but ``--out`` (runner ``defaults``): what a user types
#: first. For ``bonus`` that is 36 months from the month after the data's last date and 1,000
#: Monte Carlo draws, where the other rows take :data:`BONUS_ARGS`' one draw over 120 months.
DEFAULTS_COMMANDS = ("bonus",)
#: The DuckDB contender of a command: its script in this folder.
CONTENDERS = {"compliance": "duckdb_compliance.py", "relief": "duckdb_relief.py"}
SIZES = (1_000_000, 2_000_000, 10_000_000)
QUICK_SIZES = (20_000,)
SEED = 7
PERIOD = "2024"
BONUS_ARGS = ("--start", "2025-01", "--months", "120", "--draws", "1")
POLL_S = 0.1
TIMEOUT_S = 3600.0
#: GNU time: the command's own maximum resident set size, measured by a small parent.
GNU_TIME = "/usr/bin/time"
#: Seconds between one measured process's end and the next one's start (see the docstring).
SETTLE_S = 5.0


# --------------------------------------------------------------------------- sizes and datasets


def parse_size(text: str) -> int:
    """``1M``, ``2.5M``, ``20k`` or ``20000`` as a number of people."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size {text!r}: write 20000, 20k or 1M")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(round(float(m.group(1)) * scale))


def size_label(n: int) -> str:
    """``1M``, ``20k`` or the number."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def child_env() -> dict:
    """The environment of every measured process: this worktree's ``fpanalysis`` first, and its
    phases timed (``FPANALYSIS_TIMINGS=1``: see :func:`phases`)."""
    env = dict(os.environ)
    env["FPANALYSIS_TIMINGS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    return env


def compile_package() -> bool:
    """Byte-compile this worktree's ``fpanalysis`` before anything is measured, as ``pip install``
    does for an installed package. Under ``PYTHONDONTWRITEBYTECODE`` (set on CI and on this host)
    no process writes the bytecode it makes, so without this every measured process compiled
    about 110 modules again at its start: 0.3-0.4 s of a command's wall time that a user's
    installed copy never spends (``python -m fpanalysis --help``: 0.93-1.05 s without the
    bytecode, 0.62-0.65 s with it). ``make test`` compiles first for the same reason."""
    import compileall

    return bool(compileall.compile_dir(str(ROOT / "fpanalysis"), quiet=1))


def table_files(dataset: Path, table: str) -> list[Path]:
    """The Parquet files of ``table``: its folder's parts, or its one file."""
    folder = dataset / table
    if folder.is_dir():
        return sorted(folder.glob("*.parquet"))
    flat = dataset / f"{table}.parquet"
    return [flat] if flat.is_file() else []


def ensure_dataset(data_dir: Path, people: int, log) -> dict:
    """The dataset of ``people`` persons under ``data_dir``, generated once (a marker file says so).

    Returns ``{"path", "generate_s" (None when cached), "rows", "bytes"}``.
    """
    path = data_dir / f"people-{people}-seed-{SEED}"
    marker = path / "complete.json"
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        return {**info, "path": str(path), "generate_s": None}
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{path.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    log(f"generating {people:,} people into {path} ...")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "fpanalysis", "synth", "--people", str(people)]
        + ["--format", "parquet", "--seed", str(SEED), "--out", str(tmp)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(),
    )
    secs = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"synth failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
    tmp.rename(path)
    rows = {}
    import pyarrow.parquet as pq

    for t in sorted(p.name for p in path.iterdir() if p.is_dir()):
        rows[t] = sum(pq.ParquetFile(f).metadata.num_rows for f in table_files(path, t))
    size = sum(f.stat().st_size for f in path.rglob("*.parquet"))
    info = {"people": people, "seed": SEED, "rows": rows, "bytes": size, "first_generate_s": secs}
    marker.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return {**info, "path": str(path), "generate_s": secs}


def tables_needed(command: str, dataset: Path) -> list[str]:
    """The tables ``command`` reads, from the code's own constants."""
    if command == "validate":
        from fpanalysis.core.schema import TABLES

        return [t for t in TABLES if table_files(dataset, t)]
    if command == "bonus":
        from fpanalysis.rules.bonus import TABLES_NEEDED

        return list(TABLES_NEEDED)
    if command == "compliance":
        from fpanalysis.rules.compliance import TABLES_NEEDED

        return list(TABLES_NEEDED)
    if command == "relief":
        from fpanalysis.rules.relief import RELIEF_TABLES

        return list(RELIEF_TABLES)
    raise ValueError(f"unknown command {command!r}")


def relief_quota(dataset: Path) -> int:
    """Six in ten households (``bench_relief.quota_for``): the cut falls among the newcomers."""
    import pyarrow.parquet as pq
    from bench_relief import quota_for

    n = sum(pq.ParquetFile(f).metadata.num_rows for f in table_files(dataset, "households"))
    return quota_for(n)


def command_argv(command: str, dataset: Path, out: Path, quota: int | None = None) -> list[str]:
    """The command line of ``command`` on ``dataset`` (English headers, to compare outputs)."""
    argv = [sys.executable, "-m", "fpanalysis", command, str(dataset)]
    extra = {
        "validate": [],
        "bonus": [*BONUS_ARGS, "--lang", "en"],
        "compliance": ["--period", PERIOD, "--lang", "en"],
        "relief": ["--quota", str(quota), "--lang", "en"],
    }[command]
    return [*argv, *extra, "--out", str(out)]


def defaults_argv(command: str, dataset: Path, out: Path, quota: int | None = None) -> list[str]:
    """The command line of ``command`` with every option left at its default (English headers)."""
    return [
        sys.executable,
        "-m",
        "fpanalysis",
        command,
        str(dataset),
        "--lang",
        "en",
        "--out",
        str(out),
    ]


def dask_argv(command: str, dataset: Path, out: Path, quota: int | None = None) -> list[str]:
    """The command line of ``command`` with the Dask engine (:data:`DASK_ARGS`)."""
    return [*command_argv(command, dataset, out, quota), *DASK_ARGS]


def contender_argv(command: str, dataset: Path, out: Path, quota: int | None = None) -> list[str]:
    """The command line of ``command``'s DuckDB contender."""
    argv = [sys.executable, str(HERE / CONTENDERS[command]), str(dataset)]
    extra = ["--period", PERIOD] if command == "compliance" else ["--quota", str(quota)]
    return [*argv, *extra, "--out", str(out)]


# --------------------------------------------------------------------------- measuring a process


def _status_kb(pid: int) -> tuple[int, int]:
    """``VmRSS`` and ``VmHWM`` of ``pid`` in kB (0, 0 once it is gone or a zombie)."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> list[str]:
    """A process's arguments (none when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def _is_driver(argv: list[str]) -> bool:
    """``python -m fpanalysis ...`` itself (not GNU time starting it)."""
    return argv[:1] != [GNU_TIME] and any(
        a == "-m" and b == "fpanalysis" for a, b in zip(argv, argv[1:], strict=False)
    )


def _tree(pid: int) -> dict[int, int | None]:
    """``pid`` and every descendant of it, each with its parent (None for ``pid``)."""
    seen: dict[int, int | None] = {}
    todo: list[tuple[int, int | None]] = [(pid, None)]
    while todo:
        p, parent = todo.pop()
        if p in seen:
            continue
        seen[p] = parent
        todo += [(c, p) for c in _children(p)]
    return seen


def measure(
    argv: list[str],
    *,
    timeout: float = TIMEOUT_S,
    mem_limit_mb: float | None = None,
    log_dir: Path,
    name: str,
    settle: float = 0.0,
) -> dict:
    """Run ``argv`` as a fresh process (its own process group), ``settle`` seconds from now,
    and measure it.

    Returns ``wall_s``, ``cpu_s`` (``user_s`` + ``system_s``: the CPU the kernel counted for
    the process and the descendants it reaped), ``peak_rss_mb`` (the larger of
    ``max_process_mb``, the largest process's high-water mark, GNU time's ``%M`` or a polled
    ``VmHWM``,
    and ``tree_rss_mb``, the sampled sum over the process tree),
    ``exit_code`` (negative: the signal), ``status`` (``ok``, ``failed``,
    ``timeout``, ``memory limit`` or ``killed``), the tail of its stderr and
    where its output and errors were written.
    """
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    time_path = log_dir / f"{name}.time"
    time_path.unlink(missing_ok=True)
    timed = Path(GNU_TIME).is_file()
    if timed:
        argv_run = [GNU_TIME, "-f", "maxrss_kb=%M", "-o", str(time_path), *argv]
    else:
        argv_run = argv
    time.sleep(settle)  # not timed: the machine's memory in the same state for every process
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv_run, stdout=out, stderr=err, cwd=ROOT, env=child_env(), start_new_session=True
        )
        try:  # on a shared machine the kernel's OOM killer takes ours first
            Path(f"/proc/{proc.pid}/oom_score_adj").write_text("1000")
        except OSError:
            pass
        tree_peak_kb, hwm_kb, cmds, parents, verdict = 0, {}, {}, {}, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            pids = _tree(proc.pid)
            parents.update(pids)
            total = 0
            for p in pids:
                rss, hwm = _status_kb(p)
                total += rss
                hwm_kb[p] = max(hwm_kb.get(p, 0), hwm)
                # read again each time: a process forked but not yet exec'd still shows its
                # parent's arguments (a worker shows the driver's; a worker's helper the worker's)
                cmds[p] = _cmdline(p) or cmds.get(p, [])
            tree_peak_kb = max(tree_peak_kb, total)
            elapsed = time.perf_counter() - t0
            if verdict is None and elapsed > timeout:
                verdict = "timeout"
            elif verdict is None and mem_limit_mb and total / 1024 > mem_limit_mb:
                verdict = "memory limit"
            if verdict:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(POLL_S)
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    try:  # anything the process left running in its group (none, normally)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    timed_kb = 0
    if timed and time_path.is_file():
        text = time_path.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"maxrss_kb=(\d+)", text)
        timed_kb = int(m.group(1)) if m else 0
        m = re.search(r"terminated by signal (\d+)", text)
        code = -int(m.group(1)) if m else code
    max_process_mb = max([timed_kb, *hwm_kb.values()]) / 1024
    if verdict is None:
        verdict = "ok" if code == 0 else ("failed" if code > 0 else "killed")
    tail = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-6:]
    # the driver: the command itself (GNU time's child when timed), not a process forked from it
    top = [p for p, parent in parents.items() if parent == (proc.pid if timed else None)]
    driver = [p for p in top if _is_driver(cmds.get(p, []))]
    # the Dask workers: the driver's children that multiprocessing spawned (not its resource
    # tracker, nor anything a worker starts in turn)
    workers = [
        p
        for p, parent in parents.items()
        if parent in driver and "spawn_main" in " ".join(cmds.get(p, []))
    ]
    return {
        "driver_mb": max((hwm_kb[p] for p in driver), default=0) / 1024,
        "workers_mb": sorted((hwm_kb[p] / 1024 for p in workers), reverse=True),
        "argv": [Path(a).name if a == sys.executable else a for a in argv],
        "wall_s": wall,
        # the tree's CPU as the kernel reports it on reaping the process: its own and that of
        # every descendant reaped before it (GNU time's child, a Dask driver's workers)
        "user_s": usage.ru_utime,
        "system_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "settle_s": settle,
        "peak_rss_mb": max(max_process_mb, tree_peak_kb / 1024),
        "max_process_mb": max_process_mb,
        "tree_rss_mb": tree_peak_kb / 1024,
        "processes": len(hwm_kb) - (1 if timed else 0),
        "exit_code": code,
        "status": verdict,
        "stderr_tail": tail,
        "stdout": str(out_path),
        "stderr": str(err_path),
    }


def phases(stderr: str, wall_s: float | None = None) -> dict[str, float]:
    """Where a command's time went, from the lines ``FPANALYSIS_TIMINGS=1`` makes it print:
    its summary's seconds by kind of phase (the main thread's), ``command`` (the command as a
    whole) and, given the process's ``wall_s``, ``start and exit`` (the rest). Empty when the
    command printed no summary (it failed, or is not ``fpanalysis``).

    Examples:
        >>> err = ("[timings] command relief: 6.83 s, peak 1944 MB\\n"
        ...        "[timings] summary: read 1.01 s, validate 0.97 s, rules 2.24 s, "
        ...        "analysis and outputs 0.44 s\\n")
        >>> phases(err, wall_s=7.5)  # doctest: +NORMALIZE_WHITESPACE
        {'read': 1.01, 'validate': 0.97, 'rules': 2.24, 'analysis and outputs': 0.44,
         'command': 6.83, 'start and exit': 0.67}
    """
    out: dict[str, float] = {}
    for line in stderr.splitlines():
        if line.startswith("[timings] summary: "):
            for part in line[len("[timings] summary: ") :].split(", "):
                m = re.fullmatch(r"(.+) (\d+(?:\.\d+)?) s", part.strip())
                if m:
                    out[m.group(1)] = float(m.group(2))
    whole = re.findall(r"^\[timings\] command \S+: (\d+(?:\.\d+)?) s", stderr, re.M)
    if not out or not whole:
        return {}
    out["command"] = float(whole[-1])
    if wall_s is not None:
        out["start and exit"] = round(max(0.0, wall_s - out["command"]), 2)
    return out


def contender_seconds(stdout: str) -> float | None:
    """The seconds a DuckDB contender reports for its own work (``... in 1.35 s; OUT``)."""
    found = re.findall(r" in (\d+(?:\.\d+)?) s;", stdout)
    return float(found[-1]) if found else None


def phases_text(r: dict) -> str:
    """A row's phases as printed: ``start and exit 0.67 s, read 1.01 s, ...`` (empty: none)."""
    ph = r.get("phases") or {}
    if ph:
        order = ["start and exit", *[k for k in ph if k not in ("command", "start and exit")]]
        return "phases: " + ", ".join(f"{k} {ph[k]:.2f} s" for k in order if k in ph)
    if r.get("in_process_s") is not None:
        return f"in process {r['in_process_s']:.2f} s"
    return ""


# --------------------------------------------------------------------------- the I/O floor


def _resident_fraction(files: list[Path]) -> float | None:
    """The share of ``files``' bytes in the page cache (``fincore``), or None without it."""
    if not files or not shutil.which("fincore"):
        return None
    proc = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", *map(str, files)],
        capture_output=True,
        text=True,
    )
    res = size = 0
    for line in proc.stdout.splitlines():
        r, s = (int(x) for x in line.split()[:2])
        res, size = res + r, size + s
    return min(1.0, res / size) if size else None


def floor_worker(dataset: str, tables: list[str], outputs: list[str | None]) -> dict:
    """The I/O floor, in this (fresh) process: read every table, then write each output once.

    Returns ``read_s``, the tables' bytes on disk and in memory, their rows, the
    share of their bytes in the page cache before the read, and per output
    ``write_s`` and its bytes (None for an output that does not exist).
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    ds = Path(dataset)
    files = [f for t in tables for f in table_files(ds, t)]
    cached = _resident_fraction(files)
    t0 = time.perf_counter()
    mem_bytes = rows = 0
    for t in tables:
        folder = ds / t
        tab = pq.read_table(str(folder) if folder.is_dir() else str(ds / f"{t}.parquet"))
        mem_bytes += tab.nbytes
        rows += tab.num_rows
        del tab
    read_s = time.perf_counter() - t0
    writes = []
    for out in outputs:
        p = Path(out) if out else None
        if p is None or not p.is_file():
            writes.append(None)
            continue
        tmp = p.with_name(p.stem + ".floor" + p.suffix)
        if p.suffix == ".csv":
            tab = pcsv.read_csv(p)
            t0 = time.perf_counter()
            pcsv.write_csv(tab, tmp)
        else:
            tab = pq.read_table(p)
            t0 = time.perf_counter()
            pq.write_table(tab, tmp)
        secs = time.perf_counter() - t0
        writes.append({"write_s": secs, "bytes": tmp.stat().st_size, "rows": tab.num_rows})
        tmp.unlink()
    return {
        "read_s": read_s,
        "read_disk_bytes": sum(f.stat().st_size for f in files),
        "read_memory_bytes": mem_bytes,
        "read_rows": rows,
        "page_cache_resident": cached,
        "writes": writes,
    }


def measure_floor(
    dataset: Path,
    tables: list[str],
    outputs: list[Path],
    log_dir: Path,
    name: str,
    settle: float = 0.0,
):
    """:func:`floor_worker` in a fresh process; its result, or ``{"error": ...}``."""
    spec = json.dumps(
        {"dataset": str(dataset), "tables": tables, "outputs": list(map(str, outputs))}
    )
    m = measure(
        [sys.executable, str(Path(__file__).resolve()), "--floor-worker", spec],
        log_dir=log_dir,
        name=name,
        settle=settle,
    )
    for line in Path(m["stdout"]).read_text(encoding="utf-8").splitlines():
        if line.startswith("FLOOR "):
            return json.loads(line[len("FLOOR ") :])
    return {"error": f"floor worker {m['status']}: " + " | ".join(m["stderr_tail"])}


# --------------------------------------------------------------------------- the run


def load_avg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _compare(command: str, ours: Path, theirs: Path) -> tuple[bool | None, str]:
    """The contender's ``compare`` of the two outputs, in a process of its own: read here, the
    outputs (gigabytes at 10M people) would stay in the harness's memory through the rows that
    follow, and take page cache from them."""
    if not (ours.is_file() and theirs.is_file()):
        return None, "not compared: an output is missing"
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "mod = __import__(sys.argv[2]); same, detail = mod.compare(Path(sys.argv[3]), "
        "Path(sys.argv[4])); print(json.dumps([bool(same), str(detail)]))"
    )
    name = CONTENDERS[command].removesuffix(".py")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(HERE), name, str(ours), str(theirs)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    if proc.returncode:
        return None, f"not compared: {proc.stderr.strip()[-300:]}"
    same, detail = json.loads(proc.stdout.strip().splitlines()[-1])
    return same, detail


def bench_size(
    people: int,
    commands: list[str],
    *,
    data_dir: Path,
    scratch: Path,
    timeout: float,
    mem_limit_mb: float | None,
    contenders: bool,
    log,
    dask_commands: Sequence[str] = (),
    settle: float = 0.0,
) -> dict:
    """Every command (and contender) on the dataset of ``people``: the dataset and the rows.

    ``commands`` run with the default engine (and their DuckDB contenders), ``dask_commands``
    with the Dask engine (:data:`DASK_ARGS`).
    """
    ds = ensure_dataset(data_dir, people, log)
    path = Path(ds["path"])
    label = size_label(people)
    everything = [c for c in COMMANDS if c in commands or c in dask_commands]
    quota = relief_quota(path) if "relief" in everything else None
    rows = []
    for command in everything:
        runs = [("fpanalysis", command_argv)] if command in commands else []
        if command in CSV_COMMANDS and command in commands:
            runs.append(("csv", command_argv))
        if command in DEFAULTS_COMMANDS and command in commands:
            runs.append(("defaults", defaults_argv))
        if contenders and command in CONTENDERS and command in commands:
            runs.append(("duckdb", contender_argv))
        if command in dask_commands:
            runs.append(("dask", dask_argv))
        outs = {}
        for runner, make in runs:
            suffix = ".csv" if runner == "csv" else ".parquet"
            out = scratch / f"{label}-{command}-{runner}{suffix}"
            out.unlink(missing_ok=True)
            log(f"{label} {command} ({runner}) ...")
            row = {"people": people, "size": label, "command": command, "runner": runner}
            row["load_before"] = load_avg()
            row.update(
                measure(
                    make(command, path, out, quota),
                    timeout=timeout,
                    mem_limit_mb=mem_limit_mb,
                    log_dir=scratch,
                    name=f"{label}-{command}-{runner}",
                    settle=settle,
                )
            )
            err = Path(row["stderr"]).read_text(encoding="utf-8", errors="replace")
            row["phases"] = phases(err, row["wall_s"]) if row["status"] == "ok" else {}
            if runner == "duckdb":
                text = Path(row["stdout"]).read_text(encoding="utf-8", errors="replace")
                row["in_process_s"] = contender_seconds(text)
            for k in ("stdout", "stderr"):  # in the scratch folder, removed at the end
                row.pop(k)
            rows.append(row)
            outs[runner] = (row, out)
        log(f"{label} {command}: I/O floor ...")
        floor = measure_floor(
            path,
            tables_needed(command, path),
            [o for _, o in outs.values()],
            scratch,
            f"{label}-{command}-floor",
            settle=settle,
        )
        for k, (row, _out) in enumerate(outs.values()):
            row["tables"] = tables_needed(command, path)
            if "error" in floor:
                row["floor_error"] = floor["error"]
                continue
            write = floor["writes"][k]
            row.update({k2: v for k2, v in floor.items() if k2 != "writes"})
            row["write_s"] = None if write is None else write["write_s"]
            row["output_bytes"] = None if write is None else write["bytes"]
            row["floor_s"] = floor["read_s"] + (write["write_s"] if write else 0.0)
            row["ratio"] = row["wall_s"] / row["floor_s"] if row["floor_s"] else None
        if "duckdb" in outs:
            ok, msg = _compare(command, outs["duckdb"][1], outs["fpanalysis"][1])
            outs["duckdb"][0]["agrees"], outs["duckdb"][0]["agreement"] = ok, msg
        if "dask" in outs and "fpanalysis" in outs:
            a, b = outs["dask"][1], outs["fpanalysis"][1]
            same = a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
            outs["dask"][0]["identical"] = same
    return {"dataset": {k: v for k, v in ds.items()}, "quota": quota, "rows": rows}


def run(
    sizes: list[int] | tuple[int, ...] = SIZES,
    commands: list[str] | tuple[str, ...] = COMMANDS,
    *,
    data_dir: Path = DATA_DIR,
    timeout: float = TIMEOUT_S,
    mem_limit_mb: float | None = None,
    contenders: bool = True,
    scratch: Path | None = None,
    log=None,
    dask_sizes: Sequence[int] = (),
    dask_commands: Sequence[str] = DASK_COMMANDS,
    settle: float = SETTLE_S,
) -> dict:
    """The "commands" benchmark: every size, every command. What ``bench_all.py`` runs too.

    ``dask_commands`` also run with the Dask engine on ``dask_sizes`` (a size in both lists
    runs both engines, and the two outputs are compared byte for byte).

    ``settle``: seconds of rest before each measured process (:data:`SETTLE_S`).
    ``mem_limit_mb`` defaults to 90 % of the machine's memory. Outputs go to
    ``scratch`` (default: a new folder under /tmp, removed at the end).
    """
    log = log or (lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr))
    if mem_limit_mb is None:
        mem_limit_mb = 0.9 * _mem_total_mb()
    compiled = compile_package()
    own = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix="fp_bench_commands_")) if own else Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    out = {
        "config": {
            "sizes": list(sizes),
            "commands": list(commands),
            "data_dir": str(data_dir),
            "timeout_s": timeout,
            "mem_limit_mb": mem_limit_mb,
            "seed": SEED,
            "period": PERIOD,
            "bonus_args": list(BONUS_ARGS),
            "dask_sizes": list(dask_sizes),
            "dask_commands": list(dask_commands),
            "dask_args": list(DASK_ARGS),
            "settle_s": settle,
            "compiled": compiled,
        },
        "load_before": load_avg(),
        "sizes": {},
    }
    try:
        for n in sorted(set(sizes) | set(dask_sizes)):
            out["sizes"][size_label(n)] = bench_size(
                n,
                list(commands) if n in sizes else [],
                dask_commands=list(dask_commands) if n in dask_sizes else [],
                data_dir=Path(data_dir),
                scratch=scratch,
                timeout=timeout,
                mem_limit_mb=mem_limit_mb,
                contenders=contenders,
                log=log,
                settle=settle,
            )
    finally:
        if own:
            shutil.rmtree(scratch, ignore_errors=True)
    out["load_after"] = load_avg()
    return out


def _mem_total_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- printing


def _s(x) -> str:
    return "-" if x is None else (f"{x:.2f} s" if x < 100 else f"{x:.0f} s")


def _mb(x) -> str:
    return "-" if not x else f"{x / 1024:.2f} GB" if x >= 1024 else f"{x:.0f} MB"


def table_lines(res: dict) -> list[str]:
    """The section's printed table: one line per command (and contender) and size."""
    lines = [
        "commands (fresh processes on synthetic Parquet datasets; floor = pyarrow reads the "
        "tables the command needs + writes its output once)",
        f"  load average before {res.get('load_before')}, after {res.get('load_after')}; "
        f"each process started {res.get('config', {}).get('settle_s', 0):g} s after the one "
        "before it ended",
        f"  {'people':>6} {'command':<11} {'runner':<10} {'exit':>4} {'wall':>8} {'CPU':>8} "
        f"{'peak RSS':>9} {'read':>8} {'write':>8} {'floor':>8} {'x floor':>8}  notes",
    ]
    for label, block in res.get("sizes", {}).items():
        if not block["rows"]:  # a size kept for another engine's commands, none of them asked
            continue
        d = block["dataset"]
        gen = d.get("generate_s")
        lines.append(
            f"  {label}: {d['path']} ({_mb(d.get('bytes', 0) / 2**20)} of Parquet, "
            + ("generated in " + _s(gen) if gen is not None else "cached")
            + (f"; relief quota {block['quota']:,}" if block.get("quota") else "")
            + ")"
        )
        for r in block["rows"]:
            notes = [] if r["status"] == "ok" else [r["status"].upper()]
            if r["status"] != "ok" and r.get("stderr_tail"):
                notes.append(r["stderr_tail"][-1][:80])
            if r.get("page_cache_resident") is not None:
                notes.append(f"page cache {r['page_cache_resident']:.0%} warm")
            if r["runner"] == "dask" and r.get("driver_mb"):
                workers = ", ".join(_mb(x) for x in r.get("workers_mb", []))
                notes.append(f"driver {_mb(r['driver_mb'])}; workers {workers}")
            if "identical" in r:
                notes.append(f"output identical to pandas': {r['identical']}")
            if "agrees" in r:
                notes.append(f"agrees with fpanalysis: {r['agrees']}")
                if not r["agrees"]:
                    notes.append(r.get("agreement", "")[:80])
            if r.get("floor_error"):
                notes.append(r["floor_error"][:80])
            if r.get("cpu_s") is not None:
                notes.append(f"system {_s(r['system_s'])} of the CPU")
            if phases_text(r):
                notes.append(phases_text(r))
            ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.1f}"
            lines.append(
                f"  {label:>6} {r['command']:<11} {r['runner']:<10} {r['exit_code']:>4} "
                f"{_s(r['wall_s']):>8} {_s(r.get('cpu_s')):>8} {_mb(r['peak_rss_mb']):>9} "
                f"{_s(r.get('read_s')):>8} "
                f"{_s(r.get('write_s')):>8} {_s(r.get('floor_s')):>8} {ratio:>8}  "
                + "; ".join(notes)
                + f" (load {r['load_before'][0] if r.get('load_before') else '?'})"
            )
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        type=lambda s: [parse_size(x) for x in s.split(",") if x.strip() and x != "none"],
        help="people per dataset, comma-separated (default 1M,2M,10M; --quick: 20k; none: "
        "only the Dask rows)",
    )
    ap.add_argument(
        "--only",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        help=f"commands to run, comma-separated (default {','.join(COMMANDS)})",
    )
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per process")
    ap.add_argument(
        "--mem-limit",
        type=float,
        default=None,
        help="MB the process tree may hold before it is killed (default 90%% of RAM)",
    )
    ap.add_argument("--quick", action="store_true", help="tiny sizes (20k people): a smoke run")
    ap.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB contenders")
    ap.add_argument(
        "--dask-sizes",
        type=lambda s: [parse_size(x) for x in s.split(",") if x.strip() and x != "none"],
        help="people per dataset of the Dask rows (compliance, relief; default 20M; --quick: "
        "20k; none: no Dask rows)",
    )
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where datasets are kept")
    ap.add_argument(
        "--settle",
        type=float,
        default=None,
        help=f"seconds between one measured process and the next (default {SETTLE_S:g}; "
        "--quick: 0)",
    )
    ap.add_argument(
        "--out", type=Path, default=RESULTS / "bench_commands.json", help="the JSON file written"
    )
    ap.add_argument("--floor-worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.floor_worker:
        print("FLOOR " + json.dumps(floor_worker(**json.loads(args.floor_worker))), flush=True)
        return 0
    commands = args.only or list(COMMANDS)
    unknown = sorted(set(commands) - set(COMMANDS))
    if unknown:
        ap.error(f"unknown command(s) {', '.join(unknown)}; choose from {', '.join(COMMANDS)}")
    from bench_all import machine

    m = machine()
    res = run(
        args.sizes if args.sizes is not None else (QUICK_SIZES if args.quick else SIZES),
        commands,
        data_dir=args.data_dir,
        timeout=args.timeout,
        mem_limit_mb=args.mem_limit,
        contenders=not args.no_duckdb,
        dask_sizes=(
            args.dask_sizes
            if args.dask_sizes is not None
            else (QUICK_SIZES if args.quick else DASK_SIZES)
        ),
        dask_commands=[c for c in DASK_COMMANDS if c in commands],
        settle=args.settle if args.settle is not None else (0.0 if args.quick else SETTLE_S),
    )
    res["machine"] = m
    print(
        f"machine: {m.get('Model name', '?')}, {m.get('CPU(s)', m['cpus'])} CPUs, "
        f"{m.get('ram_gb', '?')} GB RAM; Python {m['python']}, pandas {m['pandas']}, "
        f"pyarrow {m['pyarrow']}, duckdb {m['duckdb']}"
    )
    print("\n".join(table_lines(res)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
