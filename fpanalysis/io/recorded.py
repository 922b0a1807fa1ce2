"""The dataset a recorded round read, read again (rulebook §3, §6, §7).

A round records its dataset's path as the command was given it (perhaps relative to where it
ran), each file it read and that file's SHA-256 (``inputs_json``). What the register keeps no
copy of (units' names; the ids of households numbered by an ID number, stored as keyed hashes)
can be read back from that dataset, but only while its file is still the one the round read: a
dataset moved, gone, edited since, or a path naming another folder from here, gives nothing,
with a line on stderr saying what is left out and why.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from fpanalysis.core.errors import FPError

__all__ = ["changed_file", "recorded_dataset", "recorded_households"]


def recorded_dataset(
    inputs_json: str | None,
    table: str,
    *,
    lang: str,
    what: tuple[str, str],
    whose: tuple[str, str],
    hint: tuple[str, str] = ("", ""),
) -> Any | None:
    """The dataset a recorded round read (its ``inputs_json``'s ``source``), loaded for
    ``table`` alone, when that table's file is still the one the round read (the SHA-256 it
    recorded).

    Else None, with a line on stderr: ``what`` is left out, ``whose`` dataset it was, why (it
    cannot be read, or its file differs) and the ``hint``, each (Chinese, English).
    """
    from fpanalysis.io.load import load_for_analysis

    inputs = json.loads(inputs_json or "{}")
    source = inputs.get("source")
    if not source:
        return None
    zh = lang == "zh"

    def left_out(zh_why: str, en_why: str) -> None:
        print(
            f"注意：{what[0]}：{whose[0]} {source} {zh_why}{hint[0]}"
            if zh
            else f"note: {what[1]}: {whose[1]} {source} {en_why}{hint[1]}",
            file=sys.stderr,
        )

    try:
        ds = load_for_analysis(source, [table], lang=lang)
    except FPError as exc:
        return left_out(f"无法读取（{exc.message_zh}）", f"cannot be read ({exc.message_en})")
    changed = changed_file(ds, inputs, table)
    if changed is not None and changed[1] is not None:
        name = changed[0]
        return left_out(
            f"的 {name} 已不是该轮读取的文件（SHA-256 不同）",
            f"no longer holds the {name} that round read (its SHA-256 differs)",
        )
    return ds


def changed_file(
    ds: Any, inputs: Mapping[str, Any], table: str
) -> tuple[str, str | None, str | None] | None:
    """``(file, SHA-256 recorded, SHA-256 now)`` of ``table`` when the dataset ``ds`` no longer
    holds the file a round read (``inputs``: its ``inputs_json`` read), else None (the file is
    the same, or the round read no such table)."""
    name = inputs.get("files", {}).get(table)
    if name is None:
        return None
    was = inputs.get("sha256", {}).get(name)
    now = ds.sha256.get(ds.files.get(table, ""), None)
    return None if now == was else (name, was, now)


def recorded_households(inputs_json: str | None, *, lang: str = "zh") -> list[Any]:
    """The household ids of the dataset a recorded relief round read (none when it cannot be
    read as that round read it: :func:`recorded_dataset`): for the register to give the
    households that have left since their ids back (``previous_selection(more_known=...)``)."""
    ds = recorded_dataset(
        inputs_json,
        "households",
        lang=lang,
        what=("不再列出的户以登记簿键显示", "households no longer listed are shown by their key"),
        whose=("上期轮次的数据集", "the previous round's dataset"),
    )
    return [] if ds is None else ds["households"]["household_id"].tolist()
