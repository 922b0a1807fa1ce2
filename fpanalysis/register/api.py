"""The open register: :class:`Register`, a :class:`~fpanalysis.register.connection.Database`
whose methods record rounds (:mod:`~fpanalysis.register.write`), take a relief round through
the committee's procedure (:mod:`~fpanalysis.register.procedure`) and read them back
(:mod:`~fpanalysis.register.read`), and :func:`open_register`, which builds and checks one."""

from __future__ import annotations

import os

from fpanalysis.register import procedure, read, write
from fpanalysis.register.connection import DEFAULT_TIMEOUT, Database, normalize_target
from fpanalysis.register.errors import RegisterError


class Register(Database):
    """An open register. Build it with :func:`open_register`.

    A :class:`~fpanalysis.register.connection.Database` whose methods are the functions of
    :mod:`~fpanalysis.register.write`, :mod:`~fpanalysis.register.procedure` and
    :mod:`~fpanalysis.register.read`: ``reg.rounds(kind)`` is ``read.rounds(reg, kind)``.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        where: the file path or the URL with its password hidden (for messages).
        timeout: seconds a writer waits for another before :class:`RegisterBusyError`.
    """

    ROUND_COLUMNS = read.ROUND_COLUMNS
    HISTORY_COLUMNS = read.HISTORY_COLUMNS
    GRADE_COLUMNS = read.GRADE_COLUMNS

    record_relief = write.record_relief
    record_compliance = write.record_compliance

    rounds = read.rounds
    last_round = read.last_round
    relief_rows = read.relief_rows
    compliance_units = read.compliance_units
    compliance_accountability = read.compliance_accountability
    household_history = read.household_history
    unit_grades = read.unit_grades
    previous_selection = read.previous_selection
    check_seals = read.check_seals
    seal_of = read.seal_of
    stored_keys = read.stored_keys

    record_decision = procedure.record_decision
    record_notice = procedure.record_notice
    record_objection = procedure.record_objection
    close_objection = procedure.close_objection
    approve = procedure.approve
    decisions = procedure.decisions
    notices = procedure.notices
    objections = procedure.objections
    approvals = procedure.approvals
    final_rows = procedure.final_rows
    procedure = procedure.procedure


def open_register(
    target: str | os.PathLike | None = None,
    *,
    create: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> Register:
    """Open the decision register at ``target`` and check it can be used.

    Args:
        target: a file path (SQLite; default ``register.sqlite`` in the working
            folder), ``sqlite:///PATH``, or ``postgresql://user@host:port/db``
            (``postgresql+psycopg://`` too).
        create: when False, a missing SQLite file is an error (reading commands).
            When True it is created by the first round recorded (never before:
            a failed command leaves no file behind).
        timeout: seconds a writer waits for another writer (SQLite busy timeout,
            PostgreSQL lock polling) before :class:`RegisterBusyError`.

    Returns:
        A :class:`Register`.

    Raises:
        RegisterError: not an SQLite file or corrupt, a foreign database, a
            schema newer than this code, an unreachable server, a missing file
            with ``create=False``.

    Examples:
        >>> import tempfile, pathlib
        >>> reg = open_register(pathlib.Path(tempfile.mkdtemp()) / "register.sqlite")
        >>> reg.rounds().columns[:4].tolist(), len(reg.rounds())
        (['round_id', 'seq', 'kind', 'as_of'], 0)
    """
    backend, url, path = normalize_target(target)
    reg = Register(backend, url, path, timeout)
    if not create and path is not None and not path.exists():
        raise RegisterError(
            "找不到登记簿文件",
            "the register file does not exist",
            file=str(path),
            rule="register-missing",
        )
    try:
        reg.check()
    except BaseException:
        reg.close()
        raise
    return reg
