"""The write guard: every path the tool writes is checked before any work, and every write goes
through it, so that no input and nobody's own work is ever overwritten (rulebook §7: outputs go
only where the user asks).

:func:`check_writes` refuses, before anything is read or computed, an output that is, or is
inside, an input (symlinks resolved: the dataset and everything under it, the real targets of its
files, ``--previous``, ``--previous-round``, ``--params``, the register...), a folder output that
holds an input, two outputs at one path, an existing folder or dataset fpanalysis did not write
(unless ``--force``), a file output that is a folder, whose folder is a file or cannot be written.
:func:`atomic_file` writes a file under a temporary name beside it and renames it into place,
keeping the mode of the file it replaces (or the user's umask for a new one); it and
:func:`os_errors` turn every OS error into a bilingual :class:`~fpanalysis.core.errors.OutputError`
naming the path, the old file intact.

How "fpanalysis wrote it" is known (so that a rerun may replace it and nothing else is):

- a folder fpanalysis fills (a synthetic dataset, the templates, the rejects) holds a marker file,
  :data:`MARKER`, listing every file it wrote with its SHA-256; the folder may be written again
  when each file in it is listed there unchanged. A file added since, or a template filled in,
  makes the folder someone's own work: refused without ``--force``;
- a workbook fpanalysis wrote carries its document properties: creator ``fpanalysis`` and a
  modification time equal to its creation time (every program that saves it again, Excel, WPS,
  LibreOffice or a script, stamps a new one);
- a report folder holds ``provenance.json`` (checked by :mod:`fpanalysis.report`);
- an empty folder, a missing path and a single output file (``--out FILE``) may always be written,
  except a file that is part of a dataset fpanalysis did not write (a workbook with sheets named
  after two tables or more, or a table file in a folder holding two table files or more).
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fpanalysis.core import schema
from fpanalysis.core.errors import FPError, OutputError, UsageError

__all__ = [
    "MARKER",
    "TABLE_SUFFIXES",
    "Target",
    "atomic_file",
    "check_writes",
    "folder_files",
    "foreign_files",
    "mark_written",
    "os_error",
    "os_errors",
    "output_mode",
    "workbook_is_ours",
    "write_bytes",
]

#: The file that lists what fpanalysis wrote into a folder (relative path -> SHA-256).
MARKER = ".fpanalysis.json"
#: Files an operating system drops into any folder: neither ours nor the user's work.
_SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: The suffixes of an output table.
TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


@dataclass(frozen=True)
class Target:
    """One path a command writes.

    Attributes:
        option: the option naming it (``--out``, ``--rejects``, ``--register``...).
        path: the path as given.
        kind: ``file`` (one output file, replaced by a rerun), ``folder`` (a folder
            fpanalysis fills: refused when it holds files it did not write),
            ``workbook`` (a dataset written as one ``.xlsx``: refused when
            fpanalysis did not write it), ``report`` (a folder replaced as a whole,
            recognised by the file ``marker`` in it) or ``register`` (the decision
            register, which checks its own file).
        suffixes: the suffixes allowed for a ``file`` (None: any).
        marker: for a ``report``, the file that shows fpanalysis wrote the folder.
        forceable: whether the command has ``--force`` (a refusal then says so).
    """

    option: str
    path: Path
    kind: str = "file"
    suffixes: tuple[str, ...] | None = None
    marker: str | None = None
    forceable: bool = True


@dataclass
class _Inputs:
    """The inputs by real path: files, and folders (everything under them is an input)."""

    files: dict[Path, tuple[str, Path]] = field(default_factory=dict)
    dirs: dict[Path, tuple[str, Path]] = field(default_factory=dict)

    def add(self, option: str, path: Path) -> None:
        given = Path(path)
        real = _real(given)
        if real.is_dir():
            self.dirs.setdefault(real, (option, given))
            seen = {real}
            for root, dirs, files in os.walk(real, followlinks=True):
                for d in dirs:
                    r = _real(Path(root) / d)
                    if r in seen:  # a link back up the tree: walked once
                        dirs.remove(d)
                        continue
                    seen.add(r)
                    self.dirs.setdefault(r, (option, given))
                for f in files:
                    self.files.setdefault(_real(Path(root) / f), (option, given))
        else:
            self.files.setdefault(real, (option, given))

    def holding(self, real: Path, skip: str) -> tuple[str, Path] | None:
        """The input that ``real`` is, or is inside (inputs named by ``skip`` aside)."""
        hit = self.files.get(real)
        if hit is not None and hit[0] != skip:
            return hit
        for p in (real, *real.parents):
            hit = self.dirs.get(p)
            if hit is not None and hit[0] != skip:
                return hit
        return None

    def inside(self, real: Path, skip: str) -> tuple[str, Path] | None:
        """An input at or under the folder ``real`` (inputs named by ``skip`` aside)."""
        for p, hit in (*self.files.items(), *self.dirs.items()):
            if hit[0] != skip and (p == real or real in p.parents):
                return hit
        return None


def _real(path: Path) -> Path:
    """The absolute path with every symlink resolved (a missing tail kept as given)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def _shown(option: str, path: Path) -> str:
    return f"{option} {path}" if option.startswith("-") else f"数据集 {path}"


def _shown_en(option: str, path: Path) -> str:
    return f"{option} {path}" if option.startswith("-") else f"the dataset {path}"


def check_writes(
    targets: Iterable[Target],
    inputs: Iterable[tuple[str, str | os.PathLike | None]] = (),
    *,
    force: bool = False,
) -> None:
    """Refuse, before any work, every write of ``targets`` that could destroy something.

    Args:
        targets: the paths the command will write (None paths are skipped by the caller).
        inputs: ``(option, path)`` of every input (``DATASET``, ``--params``...);
            None paths are skipped.
        force: replace a folder or dataset fpanalysis did not write (``--force``).

    Raises:
        UsageError: an output is, or is inside, an input (rule ``output-is-input``), holds
            one (``output-holds-input``), shares its path with another output
            (``output-twice``), has a suffix not allowed (``output-extension``), or is
            a folder or dataset fpanalysis did not write (``output-not-ours``).
        OutputError: the path is a folder where a file is asked (``output-is-folder``) or
            a file where a folder is (``output-not-folder``), its folder is a file
            (``output-parent``) or cannot be written (``output-permission``).

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "persons.csv").write_text("person_id\\n")
        >>> check_writes([Target("--out", d / "persons.csv")], [("DATASET", d)])
        Traceback (most recent call last):
        ...
        fpanalysis.core.errors.UsageError: --out ...
    """
    ins = _Inputs()
    for option, path in inputs:
        if path is not None and str(path) != "":
            ins.add(option, Path(path))
    seen: dict[Path, Target] = {}
    targets = list(targets)
    for t in targets:
        real = _real(t.path)
        hit, holds = ins.holding(real, skip=t.option), False
        if hit is None and t.kind in ("folder", "report"):
            hit, holds = ins.inside(real, skip=t.option), True
        if hit is not None:
            raise _overwrites_input(t, hit, holds)
        for other_real, other in seen.items():
            folder = other if other.kind in ("folder", "report") else t
            inner = t if folder is other else other
            same = other_real == real
            within = (
                folder.kind in ("folder", "report")
                and _real(folder.path) in _real(inner.path).parents
            )
            if same or within:
                raise UsageError(
                    f"{other.option} 和 {t.option} 指向同一位置（{t.path}）：一个输出会覆盖另一个",
                    f"{other.option} and {t.option} name the same place ({t.path}): one output "
                    "would overwrite the other",
                    file=str(t.path),
                    rule="output-twice",
                )
        seen[real] = t
        _check_target(t, force)


def _check_target(t: Target, force: bool) -> None:
    path = Path(t.path)
    if t.kind == "register":
        return  # the register checks its own file, with its own exit codes (3, 75)
    exists = path.exists()
    if t.kind in ("file", "workbook"):
        if exists and path.is_dir():
            raise OutputError(
                f"{t.option} {path} 是一个文件夹，不能作为输出文件：请给出文件名",
                f"{t.option} {path} is a folder, not a file: give a file name",
                file=str(path),
                rule="output-is-folder",
            )
        if t.suffixes is not None and path.suffix.lower() not in t.suffixes:
            s = list(t.suffixes)
            zh = "、".join(s[:-1]) + " 或 " + s[-1] if len(s) > 1 else s[0]
            en = ", ".join(s[:-1]) + " or " + s[-1] if len(s) > 1 else s[0]
            raise UsageError(
                f"{t.option}：输出文件应为 {zh}：{path}",
                f"{t.option}: an output file must be {en}: {path}",
                file=str(path),
                rule="output-extension",
            )
        _check_place(path.parent, t.option, path)
        if exists and t.kind == "workbook" and not force and _nonempty(path):
            if not workbook_is_ours(path):
                raise _not_ours(t, [path.name], "workbook")
        if exists and t.kind == "file" and not force:
            why = _dataset_file(path)
            if why is not None:
                raise _not_ours(t, [why], "dataset-file")
        return
    # a folder
    if exists and not path.is_dir():
        raise OutputError(
            f"{t.option} {path} 已存在且是文件，不是文件夹",
            f"{t.option} {path} exists and is a file, not a folder",
            file=str(path),
            rule="output-not-folder",
        )
    if t.kind == "report" or not exists:  # built beside it and swapped in / made in its parent
        _check_place(path.parent, t.option, path)
    if exists:
        _check_place(path, t.option, path)
        if t.kind == "folder" and not force:
            foreign = foreign_files(path)
            if foreign:
                raise _not_ours(t, foreign, "folder")
        if t.kind == "report" and not force and t.marker is not None:
            if any(path.iterdir()) and not (path / t.marker).is_file():
                raise _not_ours(t, [], "report")


def _overwrites_input(t: Target, hit: tuple[str, Path], holds: bool) -> UsageError:
    """``t`` is, or is inside, the input ``hit`` (``holds``: ``t`` is a folder holding it)."""
    out_zh, in_zh = _shown(t.option, t.path), _shown(*hit)
    out_en, in_en = _shown_en(t.option, t.path), _shown_en(*hit)
    if holds:
        zh = f"{out_zh} 包含输入（{in_zh}）：写入这个文件夹会覆盖输入"
        en = f"{out_en} holds an input ({in_en}): writing that folder would overwrite it"
    else:
        zh = f"{out_zh} 是输入或在输入之中（{in_zh}）：输出不能覆盖输入"
        en = f"{out_en} is, or is inside, an input ({in_en}): an output never overwrites an input"
    rule = "output-holds-input" if holds else "output-is-input"
    return UsageError(zh, en, file=str(t.path), rule=rule)


def _nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _not_ours(t: Target, names: Sequence[str], what: str) -> UsageError:
    shown = "、".join(names[:5]) + ("……" if len(names) > 5 else "")
    shown_en = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
    no_force = what in ("dataset-file", "report") or not t.forceable
    force_zh = "" if no_force else "，或加 --force 覆盖"
    force_en = "" if no_force else ", or add --force to replace it"
    if what == "folder":
        zh = f"{t.option} {t.path} 中有不是 fpanalysis 写的（或写后改过的）文件：{shown}"
        en = (
            f"{t.option} {t.path} holds files fpanalysis did not write (or that were changed "
            f"since): {shown_en}"
        )
    elif what == "report":
        zh = f"{t.option} {t.path} 已存在，不是以前生成的报告（没有 {t.marker}）"
        en = f"{t.option} {t.path} exists and is not a previous report (no {t.marker})"
    elif what == "workbook":
        zh = f"{t.option} {t.path} 已存在，不是 fpanalysis 写的工作簿（或写后又保存过）"
        en = (
            f"{t.option} {t.path} exists and is not a workbook fpanalysis wrote (or it was "
            "saved again since)"
        )
    else:
        zh = f"{t.option} {t.path} 是一个数据集的一部分（{shown}），不是 fpanalysis 写的"
        en = f"{t.option} {t.path} is part of a dataset ({shown_en}) fpanalysis did not write"
    return UsageError(
        f"{zh}：为免覆盖，请换一个位置{force_zh}",
        f"{en}: choose another place so that nothing is overwritten{force_en}",
        file=str(t.path),
        rule="output-not-ours",
    )


def _check_place(folder: Path, option: str, path: Path) -> None:
    """The folder ``path`` goes into (or its nearest existing parent) is a writable folder."""
    at = Path(folder).absolute()
    while not os.path.lexists(at) and at != at.parent:
        at = at.parent
    if not at.is_dir():
        raise OutputError(
            f"无法写入 {option} {path}：路径中的 {at} 是文件，不是文件夹",
            f"cannot write {option} {path}: {at} on its path is a file, not a folder",
            file=str(path),
            rule="output-parent",
        )
    if not os.access(at, os.W_OK | os.X_OK):
        raise OutputError(
            f"无法写入 {option} {path}：文件夹 {at} 不可写（只读或没有权限）",
            f"cannot write {option} {path}: the folder {at} cannot be written (read-only or "
            "no permission)",
            file=str(path),
            rule="output-permission",
        )


# --------------------------------------------------------------------------- writing


_REASONS = {
    errno.ENOSPC: ("磁盘已满", "the disk is full"),
    errno.EDQUOT: ("超出磁盘配额", "the disk quota is exceeded"),
    errno.EACCES: ("没有写权限（或文件夹只读）", "permission denied (or the folder is read-only)"),
    errno.EPERM: (
        "不允许写入（文件夹只读或受保护）",
        "not permitted (a read-only or protected folder)",
    ),
    errno.EROFS: ("只读文件系统", "a read-only file system"),
    errno.EISDIR: ("这是一个文件夹", "it is a folder"),
    errno.ENOTDIR: ("路径中有一段是文件而不是文件夹", "a part of the path is a file, not a folder"),
    errno.EFBIG: ("文件超过系统允许的大小", "the file is larger than the system allows"),
    errno.ENAMETOOLONG: ("文件名太长", "the file name is too long"),
}


def write_error(path: str | os.PathLike, exc: OSError, option: str | None = None) -> OutputError:
    """The bilingual refusal an OS error while writing ``path`` stands for.

    Examples:
        >>> e = write_error("out.csv", OSError(errno.ENOSPC, "No space left on device"), "--out")
        >>> e.text("en")
        'cannot write --out out.csv: the disk is full; a file there before is unchanged [file \
out.csv, rule output-os-error]'
    """
    zh, en = _REASONS.get(exc.errno, (exc.strerror or str(exc), exc.strerror or str(exc)))
    opt = f"{option} " if option else ""
    return OutputError(
        f"无法写入 {opt}{path}：{zh}；原有文件未改动",
        f"cannot write {opt}{path}: {en}; a file there before is unchanged",
        file=str(path),
        rule="output-os-error",
    )


def os_error(exc: OSError) -> OutputError:
    """The bilingual message of an OS error no check foresaw, naming its file.

    Examples:
        >>> os_error(PermissionError(errno.EACCES, "Permission denied", "/x/y.csv")).text("en")
        'the system refused /x/y.csv: permission denied (or the folder is read-only) [file \
/x/y.csv, rule os-error]'
    """
    zh, en = _REASONS.get(exc.errno, (exc.strerror or str(exc), exc.strerror or str(exc)))
    name = exc.filename if exc.filename is not None else ""
    return OutputError(
        f"系统拒绝了对 {name} 的操作：{zh}",
        f"the system refused {name}: {en}",
        file=None if exc.filename is None else str(exc.filename),
        rule="os-error",
    )


@contextmanager
def os_errors(path: str | os.PathLike, option: str | None = None) -> Iterator[None]:
    """Turn an :class:`OSError` raised in the block into :func:`write_error` for ``path``."""
    try:
        yield
    except FPError:
        raise
    except OSError as exc:
        raise write_error(path, exc, option) from None


def _umask() -> int:
    """The process's umask (read without changing it where the system says it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:  # noqa: PTH123 - a system file
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(path: str | os.PathLike) -> int:
    """The permission bits a file written at ``path`` gets: those of the file it replaces, else
    ``0666`` less the user's umask (as any program creating a file).

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = f.write_text("x"); f.chmod(0o640)
        >>> oct(output_mode(f))
        '0o640'
    """
    try:
        return stat.S_IMODE(Path(path).stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextmanager
def atomic_file(path: str | os.PathLike, option: str | None = None) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed to ``path`` when the block ends.

    A reader sees the old file or the whole new one; the temporary file
    (``.NAME.*.tmp``) is removed if the block fails. The file gets
    :func:`output_mode`; an OS error (full disk, read-only folder...) becomes
    :func:`write_error`, the old file intact.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_file(p) as tmp:
        ...     _ = tmp.write_text("new")
        >>> p.read_text()
        'new'
    """
    path = Path(path)
    with os_errors(path, option):
        mode = output_mode(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            tmp.chmod(mode)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def write_bytes(path: str | os.PathLike, data: bytes, option: str | None = None) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_file`; return the path."""
    with atomic_file(path, option) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# --------------------------------------------------------------------------- what we wrote


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def folder_files(folder: str | os.PathLike) -> list[str]:
    """Every file under ``folder`` (relative POSIX paths, sorted), the marker and system files
    aside."""
    folder = Path(folder)
    out = []
    for p in folder.rglob("*"):
        if p.is_dir() or p.name in _SYSTEM_FILES:
            continue
        rel = p.relative_to(folder).as_posix()
        if rel != MARKER:
            out.append(rel)
    return sorted(out)


def _listed(folder: Path) -> dict[str, str]:
    """The files the marker of ``folder`` lists (relative path -> SHA-256); {} without one."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if doc.get("written_by") != "fpanalysis" or not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def foreign_files(folder: str | os.PathLike) -> list[str]:
    """The files of ``folder`` fpanalysis did not write, or that changed since it did.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.csv").write_text("1"); mark_written(d, [d / "a.csv"], "synth")
        ([], [])
        >>> foreign_files(d)
        []
        >>> _ = (d / "a.csv").write_text("2"); _ = (d / "b.csv").write_text("3")
        >>> foreign_files(d)
        ['a.csv', 'b.csv']
    """
    folder = Path(folder)
    listed = _listed(folder)
    return [
        rel
        for rel in folder_files(folder)
        if rel not in listed or _sha256(folder / rel) != listed[rel]
    ]


def mark_written(
    folder: str | os.PathLike,
    written: Iterable[str | os.PathLike],
    command: str,
    *,
    remove_stale: bool = False,
) -> tuple[list[str], list[str]]:
    """Record in ``folder``'s marker that fpanalysis wrote ``written`` (paths in the folder).

    Files the old marker lists and that are still unchanged stay listed, or,
    with ``remove_stale`` (the rejects of an earlier run), are removed.

    Returns:
        ``(removed, others)``: the files removed, and the files of the folder
        fpanalysis did not write (kept; a caller names them).
    """
    folder = Path(folder)
    with os_errors(folder):
        old = _listed(folder)
        now = {Path(p).resolve().relative_to(folder.resolve()).as_posix() for p in written}
        files: dict[str, str] = {}
        removed: list[str] = []
        for rel, digest in old.items():
            p = folder / rel
            if rel in now or not p.is_file() or _sha256(p) != digest:
                continue
            if remove_stale:
                p.unlink()
                removed.append(rel)
            else:
                files[rel] = digest
        for rel in now:
            files[rel] = _sha256(folder / rel)
        others = [rel for rel in folder_files(folder) if rel not in files]
        doc = {"written_by": "fpanalysis", "command": command, "files": dict(sorted(files.items()))}
        text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes(folder / MARKER, text.encode("utf-8"))
    return sorted(removed), others


# --------------------------------------------------------------------------- workbooks


def _core_props(path: Path) -> dict[str, str] | None:
    """``creator``, ``created`` and ``modified`` of an .xlsx (None: not a readable workbook)."""
    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return None
    out = {}
    for key, tag in (("creator", "dc:creator"), ("created", "dcterms:created")):
        m = re.search(rf"<{tag}[^>]*>([^<]*)</{tag}>", core)
        out[key] = html.unescape(m[1]).strip() if m else ""
    m = re.search(r"<dcterms:modified[^>]*>([^<]*)</dcterms:modified>", core)
    out["modified"] = m[1].strip() if m else ""
    return out


def workbook_is_ours(path: str | os.PathLike) -> bool:
    """Whether fpanalysis wrote the workbook ``path`` and nothing saved it since.

    Its creator is ``fpanalysis`` (or ``fpanalysis synth``) and its
    modification time is its creation time: Excel, WPS, LibreOffice and
    openpyxl all stamp a new one when they save.
    """
    props = _core_props(Path(path))
    if props is None:
        return False
    return (
        props["creator"].startswith("fpanalysis")
        and props["created"] != ""
        and props["created"] == props["modified"]
    )


def _table_sheets(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return []
    names = [
        html.unescape(n) for n in re.findall(r"<(?:\w+:)?sheet\b[^>]*\bname=\"([^\"]*)\"", book)
    ]
    return [n for n in names if _is_table_name(n)]


def _is_table_name(name: str) -> bool:
    try:
        schema.table_for_name(name)
    except KeyError:
        return False
    return True


def _dataset_file(path: Path) -> str | None:
    """What makes the existing file ``path`` part of a dataset fpanalysis did not write."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = _table_sheets(path)
        if len(sheets) >= 2 and not workbook_is_ours(path):
            return path.name
        return None
    if suffix in (".csv", ".parquet", ".pq") and _is_table_name(path.stem):
        folder = path.parent
        tables = [
            f.name
            for f in folder.iterdir()
            if f.is_file()
            and f.suffix.lower() in (".csv", ".parquet", ".pq")
            and _is_table_name(f.stem)
        ]
        if len(tables) >= 2 and path.name not in _listed(folder):
            return path.parent.name + "/"
    return None
