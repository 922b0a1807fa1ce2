"""The one reading of ``SOURCE_DATE_EPOCH`` and the times the tool writes into outputs: when it
is set (whole seconds since 1970, UTC), every time written into an output (workbook document
properties, zip entry times, the report's run time, the register's recording time) is that time,
so that reruns give identical bytes; unset, files carry a fixed document time (2000-01-01) and a
run its clock time.
"""

from __future__ import annotations

import datetime as dt
import os

from fpanalysis.core.errors import UsageError

#: the document time of workbooks and zip entries when ``SOURCE_DATE_EPOCH`` is not set
DOCUMENT_TIME = dt.datetime(2000, 1, 1)
_ZIP_EPOCH = dt.datetime(1980, 1, 1)  # zip entry times cannot be earlier


def source_date_epoch() -> dt.datetime | None:
    """The UTC time ``SOURCE_DATE_EPOCH`` names (naive), or None when it is not set.

    Raises:
        UsageError: it is set but not whole seconds.

    Examples:
        >>> os.environ["SOURCE_DATE_EPOCH"] = "0"; source_date_epoch()
        datetime.datetime(1970, 1, 1, 0, 0)
        >>> del os.environ["SOURCE_DATE_EPOCH"]; source_date_epoch() is None
        True
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"环境变量 SOURCE_DATE_EPOCH 应为整数秒，而不是 {epoch!r}",
            f"SOURCE_DATE_EPOCH must be whole seconds, not {epoch!r}",
            value=epoch,
            rule="source-date-epoch",
        ) from None


def document_time() -> dt.datetime:
    """The time written into file metadata: ``SOURCE_DATE_EPOCH``, else 2000-01-01.

    Never before 1980 (zip entry times cannot be earlier).
    """
    when = source_date_epoch()
    return DOCUMENT_TIME if when is None else max(when, _ZIP_EPOCH)


def now_utc() -> dt.datetime:
    """The time of a run (UTC, naive, to the second): ``SOURCE_DATE_EPOCH``, else the clock."""
    when = source_date_epoch()
    if when is None:
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


def now_source() -> str:
    """Where :func:`now_utc` takes the time from: ``"SOURCE_DATE_EPOCH"`` or ``"clock"``."""
    return "SOURCE_DATE_EPOCH" if source_date_epoch() is not None else "clock"
