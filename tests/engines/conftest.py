"""Fixtures of the engine tests: what a Dask driver receives from its workers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest


def flatten(value: Any) -> Iterator[Any]:
    """The objects of a gathered result (lists, tuples and dicts opened)."""
    if isinstance(value, list | tuple):
        for v in value:
            yield from flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from flatten(v)
    else:
        yield value


@pytest.fixture
def arrivals(monkeypatch) -> list[Any]:
    """Every object the driver receives from the workers, in order of arrival.

    ``Future.result`` and ``Client.gather`` both fetch through
    ``Client._gather``; the fixture records a shallow copy of what it
    returns (as it arrived: the driver may drop an attribute once used).
    """
    import distributed

    got: list[Any] = []
    gather = distributed.Client._gather

    async def recording(self, futures, *args, **kwargs):
        out = await gather(self, futures, *args, **kwargs)
        got.extend(copy.copy(o) for o in flatten(out))
        return out

    monkeypatch.setattr(distributed.Client, "_gather", recording)
    return got
