"""SHA-256 of every file the tool writes, to prove a change of structure changes no output.

Runs, each as a fresh process (``python -m fpanalysis``):

- every command of :func:`cmdruns.commands` on copies of the sample (CSV folder
  and ``.xlsx`` workbook), including a report for one unit;
- the same commands on a seeded synthetic county (``synth --seed 7``) as a CSV
  folder and as flat Parquet;
- ``bonus``, ``compliance`` and ``relief`` with both engines (pandas and Dask)
  on a seeded partitioned dataset (``synth --format parquet``);
- ``make report``'s command (the full report, every unit) on the sample.

and writes ``{"relative/path": "sha256"}`` for every output into a JSON file.
``SOURCE_DATE_EPOCH`` and ``PYTHONHASHSEED`` are fixed so that the report and
the register's timestamps are reproducible.

Usage::

    .venv/bin/python tests/output_manifest.py record  MANIFEST.json
    .venv/bin/python tests/output_manifest.py compare MANIFEST.json   # exit 1 on any difference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cmdruns  # noqa: E402

from fpanalysis.core import config  # noqa: E402

SEED = "0"


def _dask_commands(ds: Path) -> list[tuple[str, list[str]]]:
    d = str(ds)
    out = []
    for engine in ("pandas", "dask"):
        e = ["--engine", engine] + (
            ["--workers", "1", "--worker-memory", "2GB"] if engine == "dask" else []
        )
        out += [
            (f"bonus-part-{engine}", ["bonus", d, "--draws", "20", "--out", "bonus.csv", *e]),
            (
                f"compliance-part-{engine}",
                ["compliance", d, "--period", "2024", "--out", "scorecard.csv", *e],
            ),
            (f"relief-part-{engine}", ["relief", d, "--quota", "300", "--out", "relief.csv", *e]),
        ]
    return out


def _prepare(root: Path) -> list[tuple[str, list[str], list[list[str]]]]:
    inp = root / "input"
    inp.mkdir(parents=True)
    sample, book = inp / "sample", inp / "sample_workbook.xlsx"
    shutil.copytree(config.SAMPLE_DIR, sample)
    shutil.copy2(Path(config.SAMPLE_DIR).parent / "sample_workbook.xlsx", book)
    synth_csv, synth_pq, part = inp / "synth7", inp / "synth7pq", inp / "part"
    for argv in (
        ["synth", "--seed", "7", "--people", "400", "--out", str(synth_csv)],
        [
            "synth",
            "--seed",
            "7",
            "--people",
            "400",
            "--format",
            "parquet-flat",
            "--out",
            str(synth_pq),
        ],
        [
            "synth",
            "--seed",
            "7",
            "--people",
            "60000",
            "--partition-rows",
            "20000",
            "--format",
            "parquet",
            "--out",
            str(part),
        ],
    ):
        r = cmdruns.run_command("prepare", argv, root / "prepare", SEED)
        if r.returncode:
            raise SystemExit(f"prepare failed: {argv}\n{r.stderr}")
    jobs: list[tuple[str, list[str], list[list[str]]]] = []
    for prefix, (a, b) in (("sample", (sample, book)), ("synth7", (synth_csv, synth_pq))):
        for name, argv in cmdruns.commands(a, b):
            if prefix == "synth7" and name in (
                "report",
                "synth-csv",
                "synth-xlsx",
                "templates",
                "validate-default",
            ):
                continue
            jobs.append((f"{prefix}/{name}", argv, cmdruns.pre_steps(name, a)))
    for name, argv in _dask_commands(part):
        jobs.append((f"part/{name}", argv, []))
    jobs.append(("full-report", ["report", str(sample), "--out", "report", "--no-progress"], []))
    # prepared inputs are outputs of synth too: hash them
    return jobs


def notebook_outputs_digest(path: Path) -> str:
    """SHA-256 of an executed notebook without its code cells' source: what it showed.

    A change of layout changes the import lines of the notebooks' code cells (the
    notebooks are source); everything they display must stay identical.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["source"] = ""
    return hashlib.sha256(json.dumps(nb, sort_keys=True).encode()).hexdigest()


def run_all(root: Path, only: list[str] | None = None) -> dict[str, str]:
    jobs = _prepare(root)
    if only:
        jobs = [j for j in jobs if any(w in j[0] for w in only)]
    jobs.sort(key=lambda j: "report" not in j[0])
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(cmdruns.run_command, name, argv, root / "runs" / name, SEED, pre)
            for name, argv, pre in jobs
        }
    manifest: dict[str, str] = {}
    for name, f in sorted(futures.items()):
        r = f.result()
        manifest[f"{name}/:exit"] = str(r.returncode)
        for rel, digest in cmdruns.tree_hashes(r.out).items():
            if rel.endswith(cmdruns.TIME_STAMPED):
                continue
            manifest[f"{name}/{rel}"] = digest
            if rel.endswith(".ipynb"):
                manifest[f"{name}/{rel}#outputs"] = notebook_outputs_digest(r.out / rel)
    for rel, digest in cmdruns.tree_hashes(root / "input").items():
        if not rel.startswith(("sample/", "sample_workbook")):
            manifest[f"input/{rel}"] = digest
    return dict(sorted(manifest.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["record", "compare"])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the run folder (printed)")
    ap.add_argument(
        "--only",
        default="",
        help="run only the jobs whose name contains one of these comma-separated words "
        "(compare then checks only those entries)",
    )
    a = ap.parse_args(argv)
    os.environ["SOURCE_DATE_EPOCH"] = cmdruns.SOURCE_DATE_EPOCH
    cmdruns.TIMEOUT = 3600  # the full report on a busy machine
    # a fixed folder inside the project: the report shows input paths relative to the project,
    # so every run (in any clone) names its inputs alike
    root = config.PROJ_ROOT / "out" / "manifest"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t0 = time.monotonic()
    try:
        got = run_all(root, [w for w in a.only.split(",") if w])
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"run folder: {root}")
    print(f"{len(got)} entries in {time.monotonic() - t0:.0f} s")
    if a.mode == "record":
        a.manifest.write_text(
            json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return 0
    want = json.loads(a.manifest.read_text(encoding="utf-8"))
    if a.only:
        ran = {k.rsplit("/", 1)[0].split("/:")[0] for k in got}
        want = {
            k: v for k, v in want.items() if k in got or any(k.startswith(r + "/") for r in ran)
        }
    diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    # an executed notebook whose code cells changed but which shows the same is reported apart
    code_only = [
        k
        for k in diff
        if k.endswith(".ipynb") and f"{k}#outputs" in want and f"{k}#outputs" not in diff
    ]
    for k in diff:
        note = " (code cells only; every output identical)" if k in code_only else ""
        print(f"DIFFERS {k}: {want.get(k, '(absent)')[:12]} -> {got.get(k, '(absent)')[:12]}{note}")
    real = len(diff) - len(code_only)
    print(
        f"{len(want) - len(diff)} of {len(want)} identical; {real} differ"
        + (f"; {len(code_only)} notebooks differ in code cells only" if code_only else "")
    )
    return 1 if real else 0


if __name__ == "__main__":
    raise SystemExit(main())
