"""What fresh memory and a large write cost on this machine: the measurements behind two choices
of the commands (``fpanalysis.core.memory.no_huge_pages`` and ``io.write.CSV_WRITE_BYTES``)
and behind ``bench_commands.py``'s pause between rows.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_memory.py                 # 1 GB, 12 s rest before each
    .venv/bin/python benchmarks/bench_memory.py --gb 0.05 --rest 0   # a smoke run

Each row is a fresh process started ``--rest`` seconds after the one before ended, timing one
thing with ``time.perf_counter``:

- **fill**: ``numpy.ones`` of ``--gb`` GB with numpy's transparent huge page advice on (its
  default on Linux); the same again started at once (no rest), in the huge pages the process
  before has just freed; then with the advice off (what the commands ask for);
- **write**: ``--gb`` GB of bytes written to a new file, the same 27 MB buffer handed to the
  system 27 MB, 1 MB or 64 kB a call (a relief list's slice of 25,000 rows is about 27 MB of
  text), the file deleted after.

It also reads the kernel's ``compact_stall`` and ``thp_fault_alloc`` counters
(``/proc/vmstat``) around each fill: huge pages that are slow to get without any compaction
stall are slow for a reason outside this machine's kernel. The table is printed and written to
``benchmarks/results/bench_memory.json`` (git-ignored). No figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUFFER_BYTES = 27_000_000
CALLS = {"27 MB": BUFFER_BYTES, "1 MB": 1 << 20, "64 kB": 1 << 16}


def fill_worker(gb: float, huge: bool) -> dict:
    """In this (fresh) process: the seconds ``numpy.ones`` of ``gb`` GB takes."""
    import numpy as np

    np._core.multiarray._set_madvise_hugepage(huge)
    t0 = time.perf_counter()
    a = np.ones(int(gb * 2**30) // 8)
    secs = time.perf_counter() - t0
    del a
    return {"seconds": secs}


def write_worker(gb: float, call_bytes: int, folder: str) -> dict:
    """In this (fresh) process: the seconds writing ``gb`` GB to a new file takes, a buffer of
    :data:`BUFFER_BYTES` handed over ``call_bytes`` at a time (closing the file included)."""
    import os

    buf = memoryview(os.urandom(BUFFER_BYTES))
    path = Path(folder) / "bench_memory.bin"
    total = int(gb * 2**30)
    t0 = time.perf_counter()
    with path.open("wb", buffering=0) as f:
        written = 0
        while written < total:
            piece = buf[: min(BUFFER_BYTES, total - written)]
            for at in range(0, len(piece), call_bytes):
                f.write(piece[at : at + call_bytes])
            written += len(piece)
    secs = time.perf_counter() - t0
    path.unlink()
    return {"seconds": secs, "bytes": written}


def vmstat() -> dict:
    """The kernel's counters of compaction stalls and huge pages faulted in (none elsewhere)."""
    out = {}
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, value = line.split()
            if name in ("compact_stall", "thp_fault_alloc"):
                out[name] = int(value)
    except OSError:
        pass
    return out


def in_fresh_process(kind: str, spec: dict, rest: float) -> dict:
    """``kind``'s worker in a fresh Python process started ``rest`` seconds from now."""
    time.sleep(rest)
    before = vmstat()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", kind, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    after = vmstat()
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    got.update({f"{k}_delta": after[k] - before[k] for k in before if k in after})
    return got


def run(gb: float, rest: float, folder: str) -> list[dict]:
    rows = []
    got = in_fresh_process("fill", {"gb": gb, "huge": True}, rest)
    rows.append({"what": "fill, huge pages on", **got})
    # the same again, at once: in the huge pages the process before has just freed
    got = in_fresh_process("fill", {"gb": gb, "huge": True}, 0.0)
    rows.append({"what": "fill, huge pages on, at once after the one before", **got})
    got = in_fresh_process("fill", {"gb": gb, "huge": False}, rest)
    rows.append({"what": "fill, huge pages off", **got})
    for label, size in CALLS.items():
        got = in_fresh_process("write", {"gb": gb, "call_bytes": size, "folder": folder}, rest)
        rows.append({"what": f"write, {label} a call", **got})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0, help="GB filled and written (default 1)")
    ap.add_argument(
        "--rest", type=float, default=12.0, help="seconds of rest before each row (default 12)"
    )
    ap.add_argument("--dir", default=None, help="where the file is written (default: a temp dir)")
    ap.add_argument(
        "--out", type=Path, default=RESULTS / "bench_memory.json", help="the JSON file written"
    )
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, spec = args.worker[0], json.loads(args.worker[1])
        print(json.dumps((fill_worker if kind == "fill" else write_worker)(**spec)))
        return 0
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        rows = run(args.gb, args.rest, folder)
    print(f"{args.gb:g} GB each, a fresh process {args.rest:g} s after the one before")
    for r in rows:
        counters = ", ".join(f"{k[:-6]} +{v}" for k, v in r.items() if k.endswith("_delta"))
        print(f"  {r['what']:<50} {r['seconds']:>8.2f} s  {counters}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    res = {"gb": args.gb, "rest_s": args.rest, "rows": rows}
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
