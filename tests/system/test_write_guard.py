"""The write guard, command by command and path by path (fpanalysis.io.guard; rulebook §7).

:data:`WRITERS` lists every command with every option that names a path it writes; each
scenario of :data:`SCENARIOS` that applies to it becomes one test case
(``relief-meeting-is-input-workbook``...). Every case runs the command in this process,
checks its exit code, the rule and the Chinese text of its message (and the English text when
it is refused before any work), that nothing was traceback, that no input changed, that a file
that stood at the path before is intact, and that no temporary file was left beside it.
Refusals must come before any work: the loaders, the generator and the report are replaced by a
tripwire in those cases.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from fpanalysis import synth
from fpanalysis.cli import main
from fpanalysis.core import config
from fpanalysis.io.guard import MARKER, foreign_files, output_mode, write_error

# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """Inputs the commands read, made once per module under a temporary folder."""

    root: Path
    ds: Path  # the sample as a CSV folder
    book: Path  # the sample as a workbook
    faulty: Path  # a dataset with rejected rows
    parts: Path  # the sample with households as Parquet parts
    linked: Path  # the sample with persons.csv a symlink to ...
    elsewhere: Path  # ... elsewhere/persons_real.csv
    params: Path  # an override file
    previous_round: Path  # a relief output
    register: Path  # a register holding a relief round
    other: Path  # somebody else's dataset folder
    other_book: Path  # somebody else's dataset workbook (saved again since synth wrote it)
    afile: Path  # a plain file (a path "through" it has a file for a folder)
    rulebook: Path  # a copy of the rulebook whose parameter tables are out of date

    def fresh(self, name: str) -> Path:
        """A new, empty folder for one case."""
        d = self.root / "cases" / name
        if d.exists():
            _unlock(d)
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d


def _hash_tree(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("guard")
    ds = root / "ds"
    shutil.copytree(config.SAMPLE_DIR, ds)
    book = root / "book.xlsx"
    shutil.copy2(config.SAMPLE_WORKBOOK, book)
    faulty = root / "faulty"
    synth.write_dataset(synth.generate(seed=5, people=30, faults=True), faulty)
    parts = root / "parts"
    shutil.copytree(config.SAMPLE_DIR, parts)
    hh = pd.read_csv(parts / "households.csv", dtype=str, keep_default_na=False)
    (parts / "households.csv").unlink()
    (parts / "households").mkdir()
    hh.iloc[:150].to_parquet(parts / "households" / "part-00000.parquet", index=False)
    hh.iloc[150:].to_parquet(parts / "households" / "part-00001.parquet", index=False)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    shutil.copy2(config.SAMPLE_DIR / "persons.csv", elsewhere / "persons_real.csv")
    linked = root / "linked"
    linked.mkdir()
    for f in config.SAMPLE_DIR.glob("*.csv"):
        target = elsewhere / "persons_real.csv" if f.name == "persons.csv" else f.resolve()
        (linked / f.name).symlink_to(target)
    params = root / "override.yaml"
    params.write_text("reward_monthly_yuan: 10\n", encoding="utf-8")
    previous_round = root / "previous_round.csv"
    register = root / "register.sqlite"
    assert (
        main(
            [
                "relief",
                str(ds),
                "--quota",
                "40",
                "--out",
                str(previous_round),
                "--record",
                "--register",
                str(register),
            ]
        )
        == 0
    )
    other = root / "other"
    shutil.copytree(config.SAMPLE_DIR, other)
    (other / MARKER).unlink(missing_ok=True)
    other_book = root / "other_book.xlsx"
    _saved_again(config.SAMPLE_WORKBOOK, other_book)
    afile = root / "afile"
    afile.write_text("not a folder\n", encoding="utf-8")
    rulebook = root / "rules.md"
    text = (config.PROJ_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rulebook.write_text(text.replace("| `responsible_spouse` |", "| `responsible_spouse`  |"))
    return World(
        root,
        ds,
        book,
        faulty,
        parts,
        linked,
        elsewhere,
        params,
        previous_round,
        register,
        other,
        other_book,
        afile,
        rulebook,
    )


def _saved_again(src: Path, dst: Path) -> None:
    """A copy of a workbook as another program saves it: a later modification time."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                start = text.index("<dcterms:modified")
                end = text.index("</dcterms:modified>")
                inner = text[start:end]
                stamp = inner[inner.index(">") + 1 :]
                data = text.replace(inner, inner.replace(stamp, "2025-12-01T08:00:00Z")).encode()
            out.writestr(info, data)


# --------------------------------------------------------------------------- the writers


@dataclass(frozen=True)
class Writer:
    """One command and one option that names a path it writes.

    ``argv(world, path, dataset)`` is the command line with ``path`` given to the option (and
    ``dataset`` as its DATASET); ``kind`` is the guard's kind of output.
    """

    name: str
    command: str
    option: str
    kind: str
    argv: Callable[[World, Path, Path], list]
    dataset: bool = True  # reads a DATASET
    params: bool = True  # takes --params
    register: bool = False  # reads the register
    force: bool = False  # has --force
    others: tuple[str, ...] = ()  # the command's other output options (same-path case)
    work: bool = True  # the case "full-disk" runs it (not for the slow report)
    suffix: str = ".csv"  # the file name a case gives
    lang: str = "zh"  # the language it is run in (the partitioned synth writes English only)


def _out(w: World, name: str) -> str:
    return str(w.fresh(name) / "x.csv")


WRITERS = [
    Writer("validate-out", "validate", "--out", "file", lambda w, p, d: ["validate", d, "--out", p],
           params=False, others=("--rejects",)),
    Writer("validate-rejects", "validate", "--rejects", "folder",
           lambda w, p, d: ["validate", d, "--rejects", p],
           params=False, force=True, suffix=""),
    Writer("synth-out-csv", "synth", "--out", "folder",
           lambda w, p, d: ["synth", "--people", "20", "--out", p],
           dataset=False, params=False, force=True, suffix=""),
    Writer("synth-out-xlsx", "synth", "--out", "workbook",
           lambda w, p, d: ["synth", "--people", "20", "--out", p],
           dataset=False, params=False, force=True, suffix=".xlsx"),
    Writer("synth-out-parquet", "synth", "--out", "folder",
           lambda w, p, d: ["synth", "--people", "200", "--partition-rows", "100", "--format",
                            "parquet", "--out", p],
           dataset=False, params=False, force=True, suffix="", lang="en"),
    Writer("templates-out", "templates", "--out", "folder",
           lambda w, p, d: ["templates", "--out", p],
           dataset=False, params=False, force=True, suffix=""),
    Writer("templates-dictionary", "templates", "--dictionary", "file",
           lambda w, p, d: ["templates", "--out", w.fresh("tpl"), "--dictionary", p],
           dataset=False, params=False, force=True, suffix=".md"),
    Writer("params-out", "params", "--out", "file", lambda w, p, d: ["params", "--out", p],
           dataset=False),
    Writer("params-rulebook", "params", "--rulebook", "rulebook",
           lambda w, p, d: ["params", "--rulebook", p], dataset=False, params=False,
           suffix=".md"),
    Writer("bonus-out", "bonus", "--out", "file",
           lambda w, p, d: ["bonus", d, "--months", "3", "--draws", "10", "--out", p],
           others=("--liability", "--outside")),
    Writer("bonus-liability", "bonus", "--liability", "file",
           lambda w, p, d: ["bonus", d, "--months", "3", "--draws", "10",
                            "--out", _out(w, "bonus-l"), "--liability", p],
           others=("--out",)),
    Writer("bonus-outside", "bonus", "--outside", "file",
           lambda w, p, d: ["bonus", d, "--months", "3", "--draws", "10",
                            "--out", _out(w, "bonus-o"), "--outside", p],
           others=("--out",)),
    Writer("compliance-out", "compliance", "--out", "file",
           lambda w, p, d: ["compliance", d, "--out", p], others=("--detail",)),
    Writer("compliance-detail", "compliance", "--detail", "file",
           lambda w, p, d: ["compliance", d, "--out", _out(w, "comp-d"), "--detail", p],
           others=("--out",)),
    Writer("compliance-register", "compliance", "--register", "register",
           lambda w, p, d: ["compliance", d, "--out", _out(w, "comp-r"), "--record",
                            "--register", p],
           register=True, suffix=".sqlite"),
    Writer("cases-out", "cases", "--out", "file", lambda w, p, d: ["cases", d, "--out", p]),
    Writer("accountability-out", "accountability", "--out", "file",
           lambda w, p, d: ["accountability", d, "--out", p]),
    Writer("relief-out", "relief", "--out", "file",
           lambda w, p, d: ["relief", d, "--quota", "40", "--out", p], others=("--meeting",)),
    Writer("relief-meeting", "relief", "--meeting", "workbook",
           lambda w, p, d: ["relief", d, "--quota", "40", "--out", _out(w, "relief-m"),
                            "--meeting", p],
           others=("--out",), suffix=".xlsx"),
    Writer("relief-register", "relief", "--register", "register",
           lambda w, p, d: ["relief", d, "--quota", "40", "--out", _out(w, "relief-r"),
                            "--record", "--register", p],
           register=True, suffix=".sqlite"),
    Writer("review-out", "review", "--out", "file", lambda w, p, d: ["review", d, "--out", p]),
    Writer("history-out", "history", "--out", "file",
           lambda w, p, d: ["history", "H0001", "--register", w.register, "--out", p],
           dataset=False, params=False, register=True),
    Writer("report-out", "report", "--out", "report",
           lambda w, p, d: ["report", d, "--out", p, "--units", "none", "--notebooks", "02",
                            "--no-progress"],
           work=False, suffix=""),
]  # fmt: skip

# --------------------------------------------------------------------------- the scenarios


@dataclass
class Case:
    """What one scenario makes of a writer: the command line and what must come of it."""

    argv: list
    path: Path  # the path given to the option under test
    code: int
    rule: str
    zh: str
    en: str | None = None  # checked again in English (refusals before any work)
    before_work: bool = True
    inputs: tuple[Path, ...] = ()  # must be unchanged


def _folder_like(w: Writer) -> bool:
    return w.kind in ("folder", "report")


def is_input(world: World, w: Writer) -> Case | None:
    """The path is the dataset (a folder output) or one of its files."""
    if not w.dataset:
        return None
    p = world.ds if _folder_like(w) else world.ds / "persons.csv"
    return _refused(world, w, p, world.ds)


def is_input_workbook(world: World, w: Writer) -> Case | None:
    """The path is the dataset workbook itself."""
    if not w.dataset or _folder_like(w):
        return None
    return _refused(world, w, world.book, world.book)


def in_partition_folder(world: World, w: Writer) -> Case | None:
    """The path is a part file inside a partitioned table's folder."""
    if not w.dataset:
        return None
    p = world.parts / "households" / "part-00001.parquet"
    return _refused(world, w, p, world.parts)


def at_symlink_target(world: World, w: Writer) -> Case | None:
    """The path is the real file a dataset's table file links to."""
    if not w.dataset:
        return None
    p = world.elsewhere / "persons_real.csv"
    return _refused(world, w, p, world.linked, inputs=(world.elsewhere,))


def is_params(world: World, w: Writer) -> Case | None:
    """The path is the --params file."""
    if not w.params or w.kind == "register" or _folder_like(w):
        return None
    case = _refused(world, w, world.params, world.ds)
    case.argv += ["--params", world.params]
    return case


def is_previous_round(world: World, w: Writer) -> Case | None:
    """The path is the --previous-round file."""
    if w.command not in ("relief", "review") or w.kind != "file":
        return None
    case = _refused(world, w, world.previous_round, world.ds)
    case.argv += ["--previous-round", world.previous_round]
    return case


def is_previous(world: World, w: Writer) -> Case | None:
    """The path is the --previous dataset."""
    if w.command != "review":
        return None
    case = _refused(world, w, world.book, world.ds)
    case.argv += ["--previous", world.book]
    return case


def is_register(world: World, w: Writer) -> Case | None:
    """The path is the register the command reads (and, with --record, writes)."""
    if w.kind == "register" or w.command not in ("relief", "review", "compliance", "history"):
        return None
    case = _refused(world, w, world.register, world.ds)
    if w.command != "history":
        case.argv += ["--register", world.register]
    return case


def holds_input(world: World, w: Writer) -> Case | None:
    """A folder output that holds the dataset."""
    if not (_folder_like(w) and w.dataset):
        return None
    case = _refused(world, w, world.root, world.ds)
    case.rule, case.zh, case.en = "output-holds-input", "包含输入", "holds an input"
    return case


def _refused(world: World, w: Writer, p: Path, dataset: Path, inputs=()) -> Case:
    return Case(
        w.argv(world, p, dataset),
        p,
        2,
        "output-is-input",
        "输出不能覆盖输入",
        "an output never overwrites an input",
        inputs=(dataset, p, *inputs),
    )


def is_folder(world: World, w: Writer) -> Case | None:
    """A file output given an existing folder, a folder output given an existing file."""
    if w.kind in ("register", "rulebook"):
        return None
    if _folder_like(w):
        p = world.fresh(f"{w.name}-isfile") / "taken"
        p.write_text("a file\n", encoding="utf-8")
        return Case(w.argv(world, p, world.ds), p, 1, "output-not-folder", "不是文件夹",
                    "is a file, not a folder")  # fmt: skip
    p = world.fresh(f"{w.name}-isdir") / f"out{w.suffix}"
    p.mkdir()
    return Case(w.argv(world, p, world.ds), p, 1, "output-is-folder", "是一个文件夹",
                "is a folder, not a file")  # fmt: skip


def parent_is_file(world: World, w: Writer) -> Case | None:
    """The path goes through a file as if it were a folder."""
    if w.kind in ("register", "rulebook"):
        return None
    p = world.afile / f"out{w.suffix}"
    return Case(w.argv(world, p, world.ds), p, 1, "output-parent", "是文件，不是文件夹",
                "is a file, not a folder")  # fmt: skip


def read_only(world: World, w: Writer) -> Case | None:
    """The folder of the path cannot be written; the file that stood there stays."""
    if w.kind == "register":
        return None
    d = world.fresh(f"{w.name}-ro")
    p = d / f"out{w.suffix}"
    if not _folder_like(w):
        _old_file(world, w, p)
    _lock(d)
    return Case(w.argv(world, p, world.ds), p, 1, "output-permission", "不可写",
                "cannot be written")  # fmt: skip


def not_ours(world: World, w: Writer) -> Case | None:
    """A folder (or dataset workbook) holding somebody else's work."""
    if w.kind == "workbook":
        p = world.fresh(w.name) / "book.xlsx"
        shutil.copy2(world.other_book, p)
    elif w.kind == "folder":
        p = world.fresh(w.name) / "theirs"
        p.mkdir()
        (p / "notes.txt").write_text("somebody's notes\n", encoding="utf-8")
    elif w.kind == "report":
        p = world.fresh(w.name) / "theirs"
        p.mkdir()
        (p / "notes.txt").write_text("somebody's notes\n", encoding="utf-8")
        return Case(w.argv(world, p, world.ds), p, 2, "output-not-ours", "不是以前生成的报告",
                    "is not a previous report")  # fmt: skip
    else:
        return None
    en = "not a workbook fpanalysis wrote" if w.kind == "workbook" else "fpanalysis did not write"
    return Case(w.argv(world, p, world.ds), p, 2, "output-not-ours", "不是 fpanalysis 写的", en)


def not_ours_forced(world: World, w: Writer) -> Case | None:
    """The same with --force: written (somebody's other files stay)."""
    if not w.force or w.kind not in ("folder", "workbook"):
        return None
    case = not_ours(world, w)
    case.argv.append("--force")
    case.code, case.rule, case.zh, case.en, case.before_work = 0, "", "", None, False
    return case


def dataset_file(world: World, w: Writer) -> Case | None:
    """A file output at a table file of somebody else's dataset (a folder, a workbook)."""
    if w.kind != "file":
        return None
    p = world.other_book if w.suffix == ".xlsx" else world.other / "persons.csv"
    if w.suffix not in (".csv", ".xlsx"):
        return None
    return Case(w.argv(world, p, world.ds), p, 2, "output-not-ours", "数据集的一部分",
                "part of a dataset", inputs=(p,))  # fmt: skip


def same_as_another_output(world: World, w: Writer) -> Case | None:
    """The path is also given to another output option of the command."""
    if not w.others:
        return None
    other = w.others[0]
    d = world.fresh(f"{w.name}-twice")
    p = d / "rejects" / "problems.csv" if other == "--rejects" else d / f"out{w.suffix}"
    argv = w.argv(world, p, world.ds)
    if other == "--rejects":  # a file output inside the rejects folder
        argv += [other, d / "rejects"]
    elif other in argv:
        argv[argv.index(other) + 1] = p
    else:
        argv += [other, p]
    return Case(argv, p, 2, "output-twice", "指向同一位置", "name the same place")


def full_disk(world: World, w: Writer) -> Case | None:
    """The disk fills up while the output is written; the file that stood there stays."""
    if not w.work or not _TMPFS:
        return None
    p = _TMPFS[0] / f"out{w.suffix}"
    if not _folder_like(w):
        _old_file(world, w, p)
    _fill(_TMPFS[0])
    ds = world.faulty if w.name == "validate-rejects" else world.ds  # rows to reject
    if w.kind == "register":  # the register refuses with its own code
        return Case(w.argv(world, p, ds), p, 3, "register-refused", "登记簿拒绝了本次写入",
                    before_work=False)  # fmt: skip
    return Case(w.argv(world, p, ds), p, 1, "output-os-error", "磁盘已满",
                before_work=False)  # fmt: skip


SCENARIOS = {
    "is-input": is_input,
    "is-input-workbook": is_input_workbook,
    "in-partition-folder": in_partition_folder,
    "at-symlink-target": at_symlink_target,
    "is-params": is_params,
    "is-previous-round": is_previous_round,
    "is-previous": is_previous,
    "is-register": is_register,
    "holds-input": holds_input,
    "is-folder-or-file": is_folder,
    "parent-is-file": parent_is_file,
    "read-only-folder": read_only,
    "not-ours": not_ours,
    "not-ours-forced": not_ours_forced,
    "dataset-file": dataset_file,
    "same-as-another-output": same_as_another_output,
    "full-disk": full_disk,
}

# Which scenarios apply to which writer is decided by the scenario itself (None: not this one);
# a small probe world decides it at collection time from the writers' declarations.
_APPLIES = {
    "is-input": lambda w: w.dataset,
    "is-input-workbook": lambda w: w.dataset and not _folder_like(w),
    "in-partition-folder": lambda w: w.dataset,
    "at-symlink-target": lambda w: w.dataset,
    "is-params": lambda w: w.params and w.kind not in ("register",) and not _folder_like(w),
    "is-previous-round": lambda w: w.command in ("relief", "review") and w.kind == "file",
    "is-previous": lambda w: w.command == "review",
    "is-register": lambda w: (
        w.kind != "register" and w.command in ("relief", "review", "compliance", "history")
    ),
    "holds-input": lambda w: _folder_like(w) and w.dataset,
    "is-folder-or-file": lambda w: w.kind not in ("register", "rulebook"),
    "parent-is-file": lambda w: w.kind not in ("register", "rulebook"),
    "read-only-folder": lambda w: w.kind != "register",
    "not-ours": lambda w: w.kind in ("workbook", "folder", "report"),
    "not-ours-forced": lambda w: w.force and w.kind in ("folder", "workbook"),
    "dataset-file": lambda w: w.kind == "file" and w.suffix in (".csv", ".xlsx"),
    "same-as-another-output": lambda w: bool(w.others),
    "full-disk": lambda w: w.work,
}

CASES = [
    pytest.param(w, s, id=f"{w.name}-{s}") for w in WRITERS for s in SCENARIOS if _APPLIES[s](w)
]


# --------------------------------------------------------------------------- helpers


def _old_file(world: World, w: Writer, p: Path) -> None:
    """What stood at the path before: a previous output (a folder of one for folder outputs)."""
    if w.kind == "rulebook":
        shutil.copy2(world.rulebook, p)
    elif w.kind == "register":
        shutil.copy2(world.register, p)
    elif w.kind == "workbook":
        shutil.copy2(world.book, p)  # synth's own workbook: it may replace it
    elif _folder_like(w):
        p.mkdir()
        (p / "kept.txt").write_text("old\n", encoding="utf-8")
    else:
        p.write_text("the previous output\n", encoding="utf-8")


def _lock(d: Path) -> None:
    """Make the folder unwritable, for root too (immutable) when the system allows it."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (chattr)")
    else:
        d.chmod(0o555)


def _unlock(d: Path) -> None:
    for p in [d, *(x for x in d.rglob("*") if x.is_dir())]:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True)
        with contextlib.suppress(OSError):
            p.chmod(0o755)


_TMPFS: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def tmpfs(tmp_path_factory):
    """A tiny file system to fill up (root only; the full-disk cases skip otherwise)."""
    d = tmp_path_factory.mktemp("full")
    ok = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(d)], capture_output=True
        ).returncode
        == 0
    )
    if ok:
        _TMPFS.append(d)
    yield
    if ok:
        _TMPFS.clear()
        subprocess.run(["umount", str(d)], capture_output=True)


def _fill(d: Path) -> None:
    """Fill the file system of ``d`` to the last byte."""
    fd = os.open(d / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def _clear_tmpfs() -> None:
    if _TMPFS:
        for p in _TMPFS[0].iterdir():
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()


@pytest.fixture
def tripwire(monkeypatch):
    """Loading, generating or building anything fails the test (a refusal comes first)."""

    def boom(*a, **k):
        raise AssertionError("work started before the outputs were checked")

    import fpanalysis.cli.validate
    import fpanalysis.io
    import fpanalysis.io.load
    import fpanalysis.io.templates
    import fpanalysis.report

    for mod, name in [
        (fpanalysis.io.load, "load_dataset"),
        (fpanalysis.io, "load_dataset"),
        (fpanalysis.io, "load_for_analysis"),
        (fpanalysis.io.load, "load_by_part"),
        (fpanalysis.io, "load_by_part"),
        (fpanalysis.cli.validate, "load_by_part"),
        (synth, "generate"),
        (fpanalysis.io.templates, "write_templates"),
        (fpanalysis.report, "build_report"),
    ]:
        monkeypatch.setattr(mod, name, boom)
    return monkeypatch


def _run(capsys, argv: list, lang: str) -> tuple[int, str]:
    rc = main([*(str(a) for a in argv), "--lang", lang])
    out = capsys.readouterr()
    return rc, out.out + out.err


def _snapshot(paths) -> dict[str, str]:
    snap: dict[str, str] = {}
    for p in paths:
        if Path(p).exists():
            snap.update(_hash_tree(Path(p)))
    return snap


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize("writer,scenario", CASES)
def test_every_command_and_writing_option(world, writer, scenario, capsys, request):
    """Each command × each option that names a path it writes × each way that path can be bad."""
    _clear_tmpfs()
    case = SCENARIOS[scenario](world, writer)
    assert case is not None
    if case.before_work:
        request.getfixturevalue("tripwire")
    old = _snapshot([case.path, *case.inputs])
    try:
        rc, text = _run(capsys, case.argv, writer.lang)
        assert "Traceback" not in text
        assert rc == case.code, text[-3000:]
        if case.rule and writer.lang == "zh":
            assert f"规则 {case.rule}" in text and case.zh in text, text[-3000:]
        if case.en is not None:
            rc_en, text_en = _run(capsys, case.argv, "en")
            assert rc_en == case.code and case.en in text_en and f"rule {case.rule}" in text_en
        if case.code != 0:
            # nothing that stood there before changed, nothing half-written beside it
            assert _snapshot([case.path, *case.inputs]) == old
            parent = case.path.parent
            if parent.is_dir():
                assert not [p.name for p in parent.iterdir() if p.name.endswith(".tmp")]
        elif case.path.is_dir():  # forced: written, and somebody's own file is still there
            assert (case.path / "notes.txt").read_text(encoding="utf-8") == "somebody's notes\n"
    finally:
        for d in {case.path.parent, world.root / "cases"}:
            if d.exists():
                _unlock(d)
        _clear_tmpfs()


def test_the_table_covers_every_command_and_writing_option():
    """Every subcommand that writes is in the table, with every option naming a path it writes."""
    from fpanalysis.cli import SUBCOMMANDS

    writes = {
        "validate": {"--out", "--rejects"},
        "synth": {"--out"},
        "templates": {"--out", "--dictionary"},
        "params": {"--out", "--rulebook"},
        "bonus": {"--out", "--liability", "--outside"},
        "compliance": {"--out", "--detail", "--register"},
        "cases": {"--out"},
        "accountability": {"--out"},
        "relief": {"--out", "--meeting", "--register"},
        "review": {"--out"},
        "history": {"--out"},
        "report": {"--out"},
        "register": set(),  # reads only
        "explain": set(),  # prints only
        # the committee's steps need a decided round: their table is in
        # tests/cli/test_committee_guarded.py (test_committee_outputs_are_guarded)
        "decide": {"--register"},
        "notice": {"--out", "--register"},
        "object": {"--register"},
        "approve": {"--register"},
    }
    committee = {"decide", "notice", "object", "approve"}
    assert set(SUBCOMMANDS) == set(writes)
    table: dict[str, set[str]] = {}
    for w in WRITERS:
        table.setdefault(w.command, set()).add(w.option)
    assert {c: o for c, o in writes.items() if o and c not in committee} == table
    assert len(CASES) > 150


# --------------------------------------------------------------------------- what fpanalysis wrote


def test_a_rerun_replaces_its_own_folder_and_nothing_else(tmp_path, capsys):
    """synth writes its folder again while unchanged; a file changed since, or added, stops it."""
    out = tmp_path / "syn"
    assert main(["synth", "--people", "20", "--out", str(out)]) == 0
    assert main(["synth", "--people", "20", "--seed", "2", "--out", str(out)]) == 0
    assert foreign_files(out) == []
    (out / "persons.csv").write_text("person_id\n", encoding="utf-8")  # somebody edited it
    assert main(["synth", "--people", "20", "--out", str(out), "--lang", "en"]) == 2
    assert "persons.csv" in capsys.readouterr().err
    assert (out / "persons.csv").read_text(encoding="utf-8") == "person_id\n"


def test_filled_in_templates_are_not_replaced(tmp_path, capsys):
    out = tmp_path / "tpl"
    assert main(["templates", "--out", str(out)]) == 0
    assert main(["templates", "--out", str(out)]) == 0  # unchanged: written again
    with (out / "csv" / "units.csv").open("a", encoding="utf-8") as f:
        f.write("U1,办公室,股室\n")  # the clerk filled it in
    filled = (out / "csv" / "units.csv").read_bytes()
    assert main(["templates", "--out", str(out)]) == 2
    assert "csv/units.csv" in capsys.readouterr().err
    assert (out / "csv" / "units.csv").read_bytes() == filled


def test_synth_replaces_its_own_workbook_not_one_saved_again(world, tmp_path, capsys):
    book = tmp_path / "b.xlsx"
    assert main(["synth", "--people", "20", "--out", str(book)]) == 0
    assert main(["synth", "--people", "20", "--out", str(book)]) == 0
    _saved_again(book, tmp_path / "again.xlsx")
    assert main(["synth", "--people", "20", "--out", str(tmp_path / "again.xlsx")]) == 2
    assert "output-not-ours" in capsys.readouterr().err


def test_a_rerun_replaces_its_meeting_workbook_not_one_the_committee_saved(world, tmp_path, capsys):
    """The meeting list fpanalysis wrote is replaced by a rerun; once the committee has filled
    it in and saved it, it is theirs: refused, byte for byte intact (relief has no --force)."""
    book, out = tmp_path / "m.xlsx", str(tmp_path / "r.csv")
    argv = ["relief", str(world.ds), "--quota", "40", "--out", out, "--meeting"]
    assert main([*argv, str(book)]) == 0
    assert main([*argv, str(book)]) == 0
    filled = tmp_path / "filled.xlsx"
    _saved_again(book, filled)
    before = filled.read_bytes()
    assert main([*argv, str(filled)]) == 2
    err = capsys.readouterr().err
    assert "output-not-ours" in err and "--force" not in err
    assert filled.read_bytes() == before


def test_clean_validate_removes_the_earlier_rejects_and_names_other_files(world, tmp_path, capsys):
    rej = tmp_path / "rej"
    assert main(["validate", str(world.faulty), "--rejects", str(rej)]) == 1
    earlier = sorted(p.name for p in rej.iterdir() if p.name != MARKER)
    assert earlier
    capsys.readouterr()
    assert main(["validate", str(world.ds), "--rejects", str(rej), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "removed the earlier rejects files" in out and earlier[0] in out
    assert [p.name for p in rej.iterdir()] == [MARKER]
    # a file of the clerk's own in the folder: refused, then written with --force and named
    (rej / "my notes.txt").write_text("x", encoding="utf-8")
    assert main(["validate", str(world.faulty), "--rejects", str(rej)]) == 2
    assert main(["validate", str(world.faulty), "--rejects", str(rej), "--force"]) == 1
    assert "my notes.txt" in capsys.readouterr().out
    assert (rej / "my notes.txt").read_text(encoding="utf-8") == "x"


# --------------------------------------------------------------------------- modes


@pytest.mark.parametrize(
    "before,umask,expected",
    [
        pytest.param(0o644, 0o077, 0o644, id="replaces-0644-keeps-0644"),
        pytest.param(0o640, 0o022, 0o640, id="replaces-0640-keeps-0640"),
        pytest.param(None, 0o022, 0o644, id="new-file-umask-022"),
        pytest.param(None, 0o027, 0o640, id="new-file-umask-027"),
    ],
)
def test_outputs_keep_the_mode_of_the_file_they_replace(tmp_path, before, umask, expected):
    out = tmp_path / "cases.csv"
    if before is not None:
        out.write_text("old\n", encoding="utf-8")
        out.chmod(before)
    old = os.umask(umask)
    try:
        assert main(["cases", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == expected
    assert output_mode(out) == expected


def test_every_os_error_has_words_in_both_languages():
    for code in (errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR):
        e = write_error("o.csv", OSError(code, os.strerror(code)), "--out")
        assert "原有文件未改动" in e.text("zh") and "unchanged" in e.text("en")
        assert e.exit_code == 1
