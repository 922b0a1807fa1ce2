"""A notebook whose kernel died while starting (two kernels given the same port by parallel
runs: ``Address already in use``) is started once more; a kernel that keeps dying, or any other
error, is reported as before."""

from __future__ import annotations

import papermill
import pytest

from fpanalysis.report import execute

DIED = RuntimeError(execute.KERNEL_DIED)


def run_with(monkeypatch, failures: list[BaseException]) -> tuple[object, int]:
    """``_execute_one`` with papermill raising ``failures`` in turn, then succeeding: what it
    returned and how many times papermill was called."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    return execute._execute_one("in.ipynb", "out.ipynb", {}, "."), len(calls)


def test_a_kernel_that_died_starting_is_started_again(monkeypatch):
    assert run_with(monkeypatch, [DIED]) == (None, 2)


def test_a_kernel_that_keeps_dying_is_an_error(monkeypatch):
    with pytest.raises(RuntimeError, match="Kernel died"):
        run_with(monkeypatch, [DIED] * (execute.TIMEOUT_RETRIES + 1))


def test_another_runtime_error_is_not_retried(monkeypatch):
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("something else")

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    with pytest.raises(RuntimeError, match="something else"):
        execute._execute_one("in.ipynb", "out.ipynb", {}, ".")
    assert len(calls) == 1
