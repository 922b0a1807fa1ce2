"""What each command reads and writes, for the write guard (:mod:`fpanalysis.io.guard`): every
command calls :func:`guard_writes` first, before anything is read or computed, naming the options
that hold its outputs; the inputs (the dataset, ``--params``, ``--previous``, ``--previous-round``,
``--scenario``, ``--diff``, the register) are found in the parsed options. Also the notice
``--reveal-pii`` prints (rulebook §7)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from fpanalysis.io.guard import TABLE_SUFFIXES, Target, check_writes

#: option -> (attribute of the parsed options, kind of output, suffixes allowed)
OUTPUTS = {
    "--out": ("out", "file", TABLE_SUFFIXES),
    "--detail": ("detail", "file", TABLE_SUFFIXES),
    "--liability": ("liability", "file", TABLE_SUFFIXES),
    "--outside": ("outside", "file", TABLE_SUFFIXES),
    # a meeting workbook the committee has filled in and saved is theirs: never replaced
    "--meeting": ("meeting", "workbook", None),
    "--rejects": ("rejects", "folder", None),
    "--dictionary": ("dictionary", "file", None),
}

#: option -> attribute, for the inputs a command may read
INPUTS = {
    "DATASET": "dataset",
    "WORKBOOK": "workbook",
    "--params": "params",
    "--previous": "previous",
    "--previous-round": "previous_round",
    "--scenario": "scenario",
    "--diff": "diff",
}


def uses_register(args: argparse.Namespace) -> bool:
    """Whether the command reads or writes the register (``--register`` or ``--record``)."""
    return getattr(args, "register", None) is not None or bool(getattr(args, "record", False))


def register_path(args: argparse.Namespace) -> Path | None:
    """The register's file (``--register``, default ``register.sqlite``); None for a server."""
    from fpanalysis.core.errors import FPError
    from fpanalysis.register import normalize_target

    try:
        return normalize_target(getattr(args, "register", None))[2]
    except FPError:
        return None  # a bad target: refused by the register itself, with its own message


def inputs_of(args: argparse.Namespace, *, register: bool) -> list[tuple[str, Path]]:
    """``(option, path)`` of every input named by the parsed options (and the register)."""
    out: list[tuple[str, Path]] = []
    for option, attr in INPUTS.items():
        value = getattr(args, attr, None)
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                out.append((option, Path(v)))
    if register:
        reg = register_path(args)
        if reg is not None:
            out.append(("--register", reg))
    return out


def guard_writes(
    args: argparse.Namespace,
    *options: str,
    extra: Iterable[Target] = (),
    register: bool | None = None,
    force: bool = False,
) -> None:
    """Check every output of a command before any work (:func:`fpanalysis.io.guard.check_writes`).

    Args:
        args: the parsed options.
        options: the options that name output files or folders (``--out``, ``--detail``...;
            see :data:`OUTPUTS`); those not given are skipped.
        extra: other targets (a folder given by default, ``synth``'s dataset).
        register: whether the register is read or written (default: ``--register`` or
            ``--record`` given); it is then an input of every other output, and, when
            written, checked against the other inputs.
        force: ``--force``.

    With ``--reveal-pii`` it also says that the outputs will show full names and ID
    numbers (rulebook §7).
    """
    if register is None:
        register = uses_register(args)
    targets = []
    for option in options:
        attr, kind, suffixes = OUTPUTS[option]
        value = getattr(args, attr, None)
        if value is not None:
            forceable = hasattr(args, "force")
            targets.append(Target(option, Path(value), kind, suffixes, forceable=forceable))
    targets += list(extra)
    if register and getattr(args, "record", False):
        reg = register_path(args)
        if reg is not None:
            targets.append(Target("--register", reg, "register"))
    check_writes(targets, inputs_of(args, register=register), force=force)
    say_revealed(args)


def register_target(args: argparse.Namespace) -> list[Target]:
    """The register as the output of a command that always writes it (the committee's steps)."""
    reg = register_path(args)
    return [] if reg is None else [Target("--register", reg, "register")]


def say_revealed(args: argparse.Namespace) -> None:
    """With ``--reveal-pii``, say on the console that full names and ID numbers are shown."""
    if not getattr(args, "reveal_pii", False):
        return
    if getattr(args, "lang", "zh") == "en":
        print(
            "note: --reveal-pii: the outputs show full names and resident ID numbers (rulebook §7)",
            file=sys.stderr,
        )
    else:
        print(
            "注意：--reveal-pii：输出显示完整的姓名和身份证号（rulebook §7）",
            file=sys.stderr,
        )
