"""Every ``fpanalysis`` command run once (twice, with another PYTHONHASHSEED) on copies of the
sample.

Shared by tests/system/test_determinism.py, tests/system/test_pii_outputs.py and
tests/system/test_nothing_lost.py so that the commands (and the slow ``report``)
run once per pytest session, whichever of those files run: :func:`command_runs`
caches its result in this module.

Each run executes every command in a subprocess (``python -m fpanalysis``) on
a copy of the sample as a CSV folder (``--lang zh``) and as the ``.xlsx``
workbook (``--lang en``), and the commands that read personal information on a
third copy that holds the cases rulebook §7 names (:func:`make_pii_dataset`: a
15-digit legacy ID number, households numbered by their head's ID number),
writing every output the command can write into its
own folder, and keeps each command's stdout and stderr (the "logs"). Run ``a``
uses ``PYTHONHASHSEED=0``, run ``b`` ``PYTHONHASHSEED=12345``; the report gets
``SOURCE_DATE_EPOCH`` (its documented way to a fixed run time).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fpanalysis.core import config

PY = sys.executable
#: seconds one command may take
TIMEOUT = 600
HASH_SEEDS = {"a": "0", "b": "12345"}
SOURCE_DATE_EPOCH = "1764288000"  # 2025-11-28T00:00:00Z, the sample's extract date
REPORT_UNITS = "U01"  # one per-unit run besides the bureau's: the report stays under ~30 s


@dataclass
class CommandRun:
    """One command of one run: its argv, exit code, logs and output folder."""

    name: str
    argv: list[str]
    out: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Runs:
    """Everything :func:`command_runs` did."""

    root: Path
    # "csv" -> folder, "xlsx" -> workbook, "pii" -> folder (the copies the commands read)
    inputs: dict[str, Path]
    hashes_before: dict[str, str]
    hashes_after: dict[str, str]
    sample_before: dict[str, str]
    sample_after: dict[str, str]
    runs: dict[str, dict[str, CommandRun]] = field(default_factory=dict)  # run -> command -> result
    seconds: float = 0.0


def tree_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of every file under ``path`` (or of ``path`` itself), keyed by relative path."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {
        (p.name if p == path else p.relative_to(path).as_posix()): hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in files
    }


def history_available() -> bool:
    """Whether the ``history`` command exists (another engineer adds it)."""
    return (Path(config.PACKAGE_DIR) / "cli" / "history.py").is_file()


PII_PREFIX = "sample_pii/"  # the keys of the third copy's files in Runs.hashes_before / after


def pii_household() -> str:
    """The household id (its head's ID number) that ``history`` looks up in the PII copy."""
    import csv

    with (Path(config.SAMPLE_DIR) / "households.csv").open(encoding="utf-8-sig") as f:
        return next(csv.DictReader(f))["head_id_number"]


def make_pii_dataset(dst: Path) -> dict[str, str]:
    """A copy of the sample with the personal information rulebook §7 names: person P00001's ID
    number in its 15-digit legacy form, every household numbered by its head's ID number.

    Returns:
        the ID numbers put in (legacy form and upgraded form, household keys): what the scan
        of outputs looks for besides any valid 18-character number.
    """
    import pandas as pd

    from fpanalysis.core.ids import upgrade_15

    shutil.copytree(config.SAMPLE_DIR, dst)
    (dst / ".fpanalysis.json").unlink(missing_ok=True)  # a copy edited by hand
    read = lambda name: pd.read_csv(dst / name, dtype=str, keep_default_na=False)  # noqa: E731
    persons = read("persons.csv")
    full = persons.at[0, "id_number"]
    legacy = full[:6] + full[8:17]
    persons.at[0, "id_number"] = legacy
    hh, members = read("households.csv"), read("household_members.csv")
    by_id = dict(zip(hh["household_id"], hh["head_id_number"], strict=True))
    hh["household_id"] = hh["head_id_number"]
    members["household_id"] = members["household_id"].map(by_id)
    for name, df in (
        ("persons.csv", persons),
        ("households.csv", hh),
        ("household_members.csv", members),
    ):
        df.to_csv(dst / name, index=False, encoding="utf-8-sig", lineterminator="\n")
    return {"legacy": legacy, "upgraded": upgrade_15(legacy), "keys": ";".join(hh["household_id"])}


def secret_ids(runs: Runs) -> set[str]:
    """Every ID number the PII copy holds, in every form (the scan looks for each)."""
    from fpanalysis.core.ids import upgrade_15

    out = set(input_id_numbers(runs.inputs["pii"]))
    out |= {upgrade_15(i) for i in out if len(i) == 15}
    return out


_DIGITS_RE = None


def find_ids(text: str, ids: set[str]) -> list[str]:
    """The numbers of ``ids`` that occur in ``text`` (runs of 15 digits or more looked up)."""
    import re

    global _DIGITS_RE
    if _DIGITS_RE is None:
        _DIGITS_RE = re.compile(r"[0-9]{15,}[Xx]?")
    found = set()
    for run in _DIGITS_RE.findall(text):
        found |= {i for i in ids if i in run.upper()}
    return sorted(found)


def commands(
    csv_ds: Path, xlsx_ds: Path, pii_ds: Path | None = None
) -> list[tuple[str, list[str]]]:
    """(name, argv after ``fpanalysis``) of every command, outputs relative to the run's folder.

    With ``pii_ds`` (the copy of :func:`make_pii_dataset`), also the commands that read its
    personal information (names ending ``-pii``).
    """
    out: list[tuple[str, list[str]]] = []
    for kind, ds, lang in (("csv", csv_ds, "zh"), ("xlsx", xlsx_ds, "en")):
        d, L = str(ds), ["--lang", lang]
        out += [
            (
                f"validate-{kind}",
                ["validate", d, "--rejects", "rejects", "--out", "problems.csv", *L],
            ),
            (
                f"bonus-{kind}",
                [
                    "bonus",
                    d,
                    "--draws",
                    "40",
                    "--out",
                    "bonus.csv",
                    "--liability",
                    "liability.xlsx",
                    "--outside",
                    "outside.parquet",
                    *L,
                ],
            ),
            (
                f"compliance-{kind}",
                ["compliance", d, "--out", "scorecard.xlsx", "--detail", "detail.csv", *L],
            ),
            (f"cases-{kind}", ["cases", d, "--out", "cases.xlsx", *L]),
            (f"accountability-{kind}", ["accountability", d, "--out", "accountability.csv", *L]),
            (
                f"relief-{kind}",
                [
                    "relief",
                    d,
                    "--quota",
                    "40",
                    "--out",
                    "relief.csv",
                    "--meeting",
                    "meeting.xlsx",
                    *L,
                ],
            ),
            (f"review-{kind}", ["review", d, "--out", "review.xlsx", *L]),
        ]
    out += [
        ("synth-csv", ["synth", "--seed", "11", "--people", "30", "--out", "synth"]),
        (
            "synth-xlsx",
            [
                "synth",
                "--seed",
                "11",
                "--people",
                "30",
                "--faults",
                "--out",
                "synth.xlsx",
                "--lang",
                "zh",
            ],
        ),
        ("templates", ["templates", "--out", "templates"]),
        # the default dataset (data/sample) is read, never written
        ("validate-default", ["validate"]),
        (
            "report",
            ["report", str(csv_ds), "--out", "report", "--units", REPORT_UNITS, "--no-progress"],
        ),
    ]
    if history_available():
        # a relief round recorded first (PRE_STEPS), then one household's history from the register
        out.append(
            (
                "history",
                ["history", "H0001", "--register", "register.sqlite", "--out", "history.csv"],
            )
        )
    if pii_ds is not None:
        d = str(pii_ds)
        out += [
            ("validate-pii", ["validate", d, "--rejects", "rejects", "--out", "problems.csv"]),
            ("compliance-pii", ["compliance", d, "--out", "scorecard.csv", "--detail", "d.csv"]),
            (
                "relief-pii",
                [
                    *("relief", d, "--quota", "40", "--out", "relief.csv"),
                    *("--meeting", "meeting.xlsx", "--record", "--register", "register.sqlite"),
                ],
            ),
            ("review-pii", ["review", d, "--out", "review.xlsx"]),
            (
                "history-pii",
                [
                    *("history", pii_household(), "--register", "register.sqlite"),
                    *("--out", "history.csv"),
                ],
            ),
            ("report-pii", ["report", d, "--out", "report", "--units", "none", "--no-progress"]),
            *((name, argv) for name, argv in committee_steps(pii_ds)),
        ]
    return out


#: the committee's round on the PII copy (its default as-of date, a quota of 40)
PII_ROUND = "relief-2025-11-16-0001"
PII_DECIDED = "relief-2025-11-16-0002"


def committee_steps(pii_ds: Path) -> list[tuple[str, list[str]]]:
    """The committee's commands on the PII copy, in order (each one's runs start with the
    ones before it, :func:`pre_steps`): the proposal and its workbook, the decisions read back
    (a blank workbook: every household confirmed), the notice, an objection about a household
    numbered by its head's ID number, the approval."""
    reg = ("--register", "register.sqlite")
    return [
        (
            "relief-meeting-pii",
            [
                *("relief", str(pii_ds), "--as-of", "2025-11-16", "--quota", "40"),
                *("--out", "relief.csv", "--meeting", "meeting.xlsx", "--record", *reg),
            ],
        ),
        ("decide-pii", ["decide", "meeting.xlsx", "--round", PII_ROUND, *reg]),
        (
            "notice-pii",
            [
                *("notice", "--round", PII_DECIDED, *reg, "--dataset", str(pii_ds)),
                *("--from", "2025-11-20", "--out", "notice.html"),
            ],
        ),
        (
            "object-pii",
            [
                *("object", "--round", PII_DECIDED, *reg, "--household", pii_household()),
                *("--date", "2025-11-21", "--text", "群众反映", "--rejected", "经核实无此情况"),
            ],
        ),
        (
            "approve-pii",
            [
                *("approve", "--round", PII_DECIDED, *reg),
                *("--by", "王主任", "--date", "2025-11-27"),
            ],
        ),
    ]


def pre_steps(name: str, csv_ds: Path, pii_ds: Path | None = None) -> list[list[str]]:
    """Commands run before ``name`` in the same folder (the register must hold a round first).

    The committee's steps have none here: :func:`run_chain` runs each in a copy of the folder of
    the step before it."""
    if name == "history-pii" and pii_ds is not None:
        return [
            [
                *("relief", str(pii_ds), "--quota", "40", "--out", "relief.csv"),
                *("--record", "--register", "register.sqlite"),
            ]
        ]
    if name == "history":
        return [
            [
                "relief",
                str(csv_ds),
                "--quota",
                "40",
                "--out",
                "relief.csv",
                "--record",
                "--register",
                "register.sqlite",
            ]
        ]
    return []


#: files that hold the time they were written by design (the register's ``recorded_at``):
#: compared for nothing but scanned for PII like every other output.
TIME_STAMPED = ("register.sqlite",)


def keyed_files(name: str) -> tuple[str, ...]:
    """Files of run ``name`` that hold the register's keyed hashes of households numbered by
    ID numbers (the meeting workbook of a recorded round on the PII copy): made with the
    register's own random key, so two registers differ there by design; scanned for PII like
    every other output, compared for nothing."""
    return ("meeting.xlsx",) if name.endswith("-pii") else ()


def run_command(
    name: str, argv: list[str], folder: Path, hash_seed: str, pre: list[list[str]] = ()
) -> CommandRun:
    """Run ``python -m fpanalysis ARGV`` in ``folder`` (created) with ``PYTHONHASHSEED``.

    ``pre`` commands run first; their exit codes and logs are folded into the result.
    """
    folder.mkdir(parents=True, exist_ok=True)
    logs_out, logs_err, worst = "", "", 0
    for step in pre:
        r = run_command(name, step, folder, hash_seed)
        logs_out, logs_err, worst = logs_out + r.stdout, logs_err + r.stderr, worst or r.returncode
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONHASHSEED")}
    env["PYTHONHASHSEED"] = hash_seed
    env["PYTHONIOENCODING"] = "utf-8"
    if argv[0] == "report":
        env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    t0 = time.monotonic()
    p = subprocess.run(
        [PY, "-m", "fpanalysis", *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
    )
    return CommandRun(
        name,
        argv,
        folder,
        worst or p.returncode,
        logs_out + p.stdout,
        logs_err + p.stderr,
        time.monotonic() - t0,
    )


def run_chain(steps: list[tuple[str, list[str]]], root: Path, hash_seed: str) -> list[CommandRun]:
    """Run ``steps`` (name, argv) in order, each in ``root / name``: a copy of the folder the
    step before it ran in, so that it finds the register and files its predecessors made there
    (each step run once). Each result's logs and exit code hold its predecessors' too, as
    :func:`run_command` with ``pre`` gives them."""
    out: list[CommandRun] = []
    for name, argv in steps:
        folder = root / name
        if out:
            shutil.copytree(out[-1].out, folder)
        r = run_command(name, argv, folder, hash_seed)
        if out:
            before = out[-1]
            r.stdout, r.stderr = before.stdout + r.stdout, before.stderr + r.stderr
            r.returncode = before.returncode or r.returncode
        out.append(r)
    return out


_CACHE: dict[str, Runs] = {}


def command_runs() -> Runs:
    """Run every command twice (PYTHONHASHSEED 0 and 12345) once per session; cached."""
    if "runs" in _CACHE:
        return _CACHE["runs"]
    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="fp-cmdruns-"))
    inputs = {
        "csv": root / "input" / "sample",
        "xlsx": root / "input" / "sample_workbook.xlsx",
        "pii": root / "input" / "sample_pii",
    }
    shutil.copytree(config.SAMPLE_DIR, inputs["csv"])
    shutil.copy2(Path(config.SAMPLE_DIR).parent / "sample_workbook.xlsx", inputs["xlsx"])
    make_pii_dataset(inputs["pii"])
    before = _input_hashes(inputs)
    sample_before = tree_hashes(config.SAMPLE_DIR)
    cmds = commands(inputs["csv"], inputs["xlsx"], inputs["pii"])
    steps = committee_steps(inputs["pii"])
    chain = {n for n, _ in steps}
    jobs = [(run, name, argv) for run in HASH_SEEDS for name, argv in cmds if name not in chain]
    # the two report runs first, then the committee's two chains, so that they overlap the many
    # short commands (2 cores)
    reports = [j for j in jobs if j[1] == "report"]
    with ThreadPoolExecutor(max_workers=2) as pool:

        def submit(run: str, name: str, argv: list[str]):
            pre = pre_steps(name, inputs["csv"], inputs["pii"])
            return pool.submit(run_command, name, argv, root / run / name, HASH_SEEDS[run], pre)

        futures = {(run, name): submit(run, name, argv) for run, name, argv in reports}
        chains = {
            run: pool.submit(run_chain, steps, root / run, seed) for run, seed in HASH_SEEDS.items()
        }
        futures |= {(r, n): submit(r, n, argv) for r, n, argv in jobs if n != "report"}
    done = {key: f.result() for key, f in futures.items()}
    for run, f in chains.items():
        done.update({(run, r.name): r for r in f.result()})
    result = Runs(
        root=root,
        inputs=inputs,
        hashes_before=before,
        hashes_after=_input_hashes(inputs),
        sample_before=sample_before,
        sample_after=tree_hashes(config.SAMPLE_DIR),
    )
    for (run, name), r in done.items():
        result.runs.setdefault(run, {})[name] = r
    result.seconds = time.monotonic() - t0
    _CACHE["runs"] = result
    import atexit

    atexit.register(shutil.rmtree, root, True)
    return result


def _input_hashes(inputs: dict[str, Path]) -> dict[str, str]:
    """Every input file's SHA-256: the CSV copy's and the workbook's by name, the PII copy's
    under :data:`PII_PREFIX`."""
    pii = {PII_PREFIX + k: v for k, v in tree_hashes(inputs["pii"]).items()}
    return {**tree_hashes(inputs["csv"]), **tree_hashes(inputs["xlsx"]), **pii}


def output_files(cr: CommandRun) -> list[Path]:
    """Every file a command wrote, sorted (relative to its folder via ``.relative_to(cr.out)``)."""
    return sorted(p for p in cr.out.rglob("*") if p.is_file())


_U_ESCAPE_RE = None


def file_text(path: Path) -> str:
    """The text a person could read in an output file, for the PII scan.

    XLSX: every XML part of the zip; Parquet: the table as CSV; notebooks and
    JSON: re-dumped without ASCII escapes; everything else decoded as UTF-8.
    HTML entities and JSON ``\\uXXXX`` escapes are decoded, and SVG images
    embedded as base64 data URIs (the report's charts) are appended decoded, so
    that an escaped or embedded name or ID number is found too. PNG images are
    pixels, not text: not scanned (the report's charts are SVG).
    """
    import base64
    import html
    import json
    import re
    import zipfile

    global _U_ESCAPE_RE
    if _U_ESCAPE_RE is None:
        _U_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            text = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    elif suffix == ".parquet":
        import pandas as pd

        df = pd.read_parquet(path)
        text = ",".join(map(str, df.columns)) + "\n" + df.to_csv(index=False)
    elif suffix in (".ipynb", ".json"):
        text = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
    else:
        text = path.read_bytes().decode("utf-8", "replace")
    text = _U_ESCAPE_RE.sub(lambda m: chr(int(m[1], 16)), text)
    text = html.unescape(text)
    # charts in the report's HTML are base64 data URIs: scan the SVG (text) inside them too
    return text + "".join(
        "\n" + base64.b64decode(m[1]).decode("utf-8", "replace")
        for m in re.finditer(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", text)
    )


def input_names(dataset: Path) -> list[str]:
    """Every person's name in a dataset (columns declared ``pii_kind="name"`` in schema.py)."""
    from fpanalysis.core import schema
    from fpanalysis.io import load_dataset

    ds = load_dataset(dataset)
    names: dict[str, None] = {}
    for t in schema.TABLES_LIST:
        if t.name not in ds:
            continue
        for c in t.columns:
            if c.pii and c.pii_kind == "name":
                names.update(dict.fromkeys(str(v).strip() for v in ds[t.name][c.name].dropna()))
    return sorted(n for n in names if len(n) >= 2)


def input_id_numbers(dataset: Path) -> list[str]:
    """Every resident ID number in a dataset (columns declared ``pii_kind="id_number"``)."""
    from fpanalysis.core import schema
    from fpanalysis.io import load_dataset

    ds = load_dataset(dataset)
    out: set[str] = set()
    for t in schema.TABLES_LIST:
        if t.name not in ds:
            continue
        for c in t.columns:
            if c.pii and c.pii_kind == "id_number":
                out |= {str(v) for v in ds[t.name][c.name].dropna()}
    return sorted(out)


# -------------------------------------------------------------------------- figures for the summary

FIGURES: dict[str, str] = {}


class _Summary:
    """A plugin registered at run time: prints :data:`FIGURES` at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):  # noqa: ARG002
        if FIGURES:
            terminalreporter.section("fpanalysis trust figures")
            for k in sorted(FIGURES):
                terminalreporter.write_line(f"{k}: {FIGURES[k]}")

    def pytest_sessionfinish(self, session):
        # A pytest-xdist worker's summary is never shown: hand the figures to the controller,
        # which prints them (tests/conftest.py, pytest_testnodedown).
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["fpanalysis_figures"] = dict(FIGURES)


def record_figure(config, key: str, text: str) -> None:
    """Record a figure (fuzz examples run, outputs compared, bytes scanned) for the summary
    printed at the end of the test run."""
    FIGURES[key] = text
    pm = config.pluginmanager
    if not pm.has_plugin("fpanalysis-trust-figures"):
        pm.register(_Summary(), "fpanalysis-trust-figures")
