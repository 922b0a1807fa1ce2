"""Stable bytes for an executed notebook: papermill's timing metadata and the saved widget state
dropped, widget model ids renumbered in order of appearance, and consecutive outputs of one
stream joined (the kernel's writes arrive as one output or several depending on timing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def normalize_notebook(nb: Any) -> Any:
    """Make an executed notebook's bytes stable across runs (in place; also returned).

    Drops papermill's timing metadata and the saved widget state, numbers
    widget model ids in order of appearance, and joins consecutive stream
    outputs of the same stream: the kernel sends ``print(x)`` as two writes
    (``x``, then the newline) that arrive as one output or two depending on
    timing, which made the same run's bytes differ now and then.

    Examples:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(
        ...     metadata={"papermill": {"duration": 1.5}, "widgets": {}}
        ... )
        >>> c = nbformat.v4.new_code_cell("w", metadata={"papermill": {"status": "completed"}})
        >>> c.outputs = [
        ...     nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "9f3a"}})
        ... ]
        >>> nb.cells = [c]
        >>> nb = normalize_notebook(nb)
        >>> sorted(nb.metadata), dict(nb.cells[0].metadata)
        ([], {})
        >>> nb.cells[0].outputs[0]["data"][WIDGET_MIME]
        {'model_id': '00000000000000000000000000000001'}
        >>> s = nbformat.v4.new_code_cell("print('a'); print('b')")
        >>> s.outputs = [
        ...     nbformat.v4.new_output("stream", name="stdout", text=t)
        ...     for t in ("a", "\\n", "b\\n")
        ... ]
        >>> s.outputs.append(nbformat.v4.new_output("stream", name="stderr", text="w\\n"))
        >>> nb.cells = [s]
        >>> [(o["name"], o["text"]) for o in normalize_notebook(nb).cells[0].outputs]
        [('stdout', 'a\\nb\\n'), ('stderr', 'w\\n')]
    """
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    ids: dict[str, str] = {}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _join_streams(cell.outputs)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            w = data.get(WIDGET_MIME)
            if isinstance(w, dict) and "model_id" in w:
                w["model_id"] = ids.setdefault(w["model_id"], f"{len(ids) + 1:032x}")
    return nb


def _join_streams(outputs: Sequence[Any]) -> list[Any]:
    """Consecutive stream outputs of one stream (stdout, stderr) as one output."""
    joined: list[Any] = []
    for out in outputs:
        prev = joined[-1] if joined else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            text = out.get("text", "")
            prev["text"] = "".join(prev.get("text", "")) + "".join(text)
        else:
            joined.append(out)
    return joined
