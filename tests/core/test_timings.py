"""``core.timings``: with ``FPANALYSIS_TIMINGS=1`` each phase prints its time; the summary adds
up the main thread's phases only, a phase on a second thread being shown as such."""

from __future__ import annotations

import pytest

from fpanalysis.core import timings
from fpanalysis.core.ahead import beside


@pytest.fixture
def enabled(monkeypatch):
    monkeypatch.setenv("FPANALYSIS_TIMINGS", "1")
    monkeypatch.setattr(timings, "_TOTALS", {})


def test_nothing_is_printed_unless_asked(monkeypatch, capsys):
    monkeypatch.delenv("FPANALYSIS_TIMINGS", raising=False)
    with timings.phase("read persons"):
        pass
    assert capsys.readouterr().err == ""


def test_a_phase_on_a_second_thread_is_shown_but_not_summed(enabled, capsys):
    def work():
        with timings.phase("rules C5-C8 events"):
            return 1

    with timings.phase("read persons"):
        pass
    assert beside(work)() == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("[timings] read persons: ")
    assert err[1].startswith("[timings] rules C5-C8 events (second thread): ")
    assert list(timings._TOTALS) == ["read"]
    assert timings.summary(10.0).startswith("[timings] summary: read ")
    assert "rules" not in timings.summary(10.0)
