"""The register's refusals: :class:`RegisterError` (exit code 3) and :class:`RegisterBusyError`
(exit code 75, try again), and the messages for a bad target, a foreign or corrupt database, an
unreachable server and a write the database refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc

from fpanalysis.core.errors import FPError


class RegisterError(FPError):
    """The register cannot be used: not a register, foreign, too new, unreachable, refused."""

    def __init__(self, message_zh: str, message_en: str, **kw: Any) -> None:
        kw.setdefault("exit_code", 3)
        super().__init__(message_zh, message_en, **kw)


class RegisterBusyError(RegisterError):
    """Another writer holds the register: nothing was written, try again."""

    def __init__(self, where: str | None = None) -> None:
        super().__init__(
            "登记簿正被他人写入，请稍后重试（本次未写入任何内容）",
            "the register is busy, try again (nothing was written)",
            file=where,
            rule="register-busy",
            exit_code=75,
        )


def first_line(exc: Exception) -> str:
    """The first line of a database error's message (the driver's own, when wrapped)."""
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0] if text else ""


def bad_target(text: str) -> RegisterError:
    zh = "登记簿应为文件路径（SQLite）或 postgresql:// 地址"
    en = "the register must be a file path (SQLite) or a postgresql:// URL"
    return RegisterError(zh, en, value=text, rule="register-target")


def not_sqlite(where: str) -> RegisterError:
    zh = "不是登记簿文件（不是 SQLite 数据库，或文件已损坏）；未做任何改动"
    en = "not a register file (not an SQLite database, or corrupt); nothing was changed"
    return RegisterError(zh, en, file=where, rule="register-not-sqlite")


def no_round(where: str | None, round_id: str, kind: str | None = None) -> RegisterError:
    """No round ``round_id`` (of ``kind``, where given: only ``relief`` is named) recorded."""
    zh, en = ("低保轮次", "relief round") if kind == "relief" else ("轮次", "round")
    return RegisterError(
        f"登记簿中没有{zh} {round_id}",
        f"no {en} {round_id} in the register",
        file=where,
        value=round_id,
        rule="round-id",
    )


def foreign(where: str, names: list[str]) -> RegisterError:
    """A database that holds other tables and no register."""
    shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
    return RegisterError(
        f"该数据库不是 fpanalysis 登记簿（已有其他表：{shown}）；未做任何改动",
        f"this database is not an fpanalysis register (it holds other tables: {shown}); "
        "nothing was changed",
        file=where,
        rule="register-foreign",
    )


def tampered(where: str, problems: list[Any]) -> RegisterError:
    """The register's record does not match its seals (:mod:`fpanalysis.register.seals`)."""
    shown_zh = "；".join(p.message_zh for p in problems[:10])
    shown_en = "; ".join(p.message_en for p in problems[:10])
    more = len(problems) - 10
    if more > 0:
        shown_zh += f"；……另有 {more} 处"
        shown_en += f"; ... and {more} more"
    return RegisterError(
        f"登记簿的记录与其封存不符，不能作为依据：{shown_zh}。"
        "请用 fpanalysis register check 查看，并从备份恢复",
        f"the register's record does not match its seals and cannot be relied on: {shown_en}. "
        "See fpanalysis register check, and restore it from a backup",
        file=where,
        rule="register-tampered",
    )


def unreachable(where: str, exc: Exception) -> RegisterError:
    line = first_line(exc)
    return RegisterError(
        f"无法连接登记簿数据库服务器：{line}",
        f"cannot reach the register's database server: {line}",
        file=where,
        rule="register-unreachable",
    )


def db_error(exc: Exception, where: str, backend: str) -> RegisterError:
    """The refusal a database error stands for: busy, unreachable, corrupt, append-only, other."""
    low = str(getattr(exc, "orig", exc)).lower()
    if "locked" in low or "busy" in low:
        return RegisterBusyError(where)
    if (
        isinstance(exc, sa_exc.OperationalError)
        and backend == "postgresql"
        and ("connect" in low or "connection" in low or "timeout" in low or "refused" in low)
    ):
        return unreachable(where, exc)
    if "not a database" in low or "malformed" in low or "encrypted" in low:
        return not_sqlite(where)
    if "append-only" in low:
        return RegisterError(
            "登记簿只能追加：已记录的轮次不能修改或删除",
            "the register is append-only: recorded rounds cannot be changed or deleted",
            file=where,
            rule="register-append-only",
        )
    line = first_line(exc)
    return RegisterError(
        f"登记簿拒绝了本次写入，未写入任何内容：{line}",
        f"the register refused this write; nothing was written: {line}",
        file=where,
        rule="register-refused",
    )


class ProcedureError(FPError):
    """A step of the committee's procedure that cannot be taken now (rulebook §6): a round in
    another stage, a notice period not over, an objection still open. Nothing was written."""


def stage_error(where: str | None, round_id: str, zh: str, en: str) -> ProcedureError:
    """Round ``round_id`` is not at the stage of the procedure this step needs."""
    return ProcedureError(zh, en, file=where, value=round_id, rule="round-stage")
