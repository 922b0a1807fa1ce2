"""Keys that are personal information never enter the register (rulebook §7): a key shaped like
a resident ID number (a bureau numbering households by the head's ID) is stored as a keyed hash,
``id#`` and 24 hex digits of HMAC-SHA256 under the register's own random key; such a number
inside a stored text (a reason naming the household ranked above, a note) is stored masked, as
every output shows it (``110105********0016``): a text is read, never matched, and the same
round's text reads the same in every register.

Why a keyed hash, not a surrogate number: a surrogate needs a table from each ID number to its
surrogate, which would put the numbers in the register again (or in a second file whose loss
makes every earlier round unmatchable); the hash needs only its key, and the same household gets
the same stored key in every round, so its history and the previous round of a review still
match. Why keyed, and by a key of the register's own (``meta.pii_key``, made at random when the
register is created or upgraded): a plain hash of an ID number can be reversed by hashing every
possible number (a few hundred billion), and a key shared by every register would match one
register's households against another's. The hash keeps the numbers out of the register's
tables, exports and backups read by eye; it does not stop someone who holds the whole register
and the will to try every number against its key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa

from fpanalysis.core.privacy import looks_like_id, mask_text
from fpanalysis.register.tables import T

KEY_META = "pii_key"
PREFIX = "id#"
#: How many hex digits of the HMAC a stored key keeps, and a stored key as a pattern (in a text).
DIGEST_CHARS = 24
STORED_KEY = re.compile(re.escape(PREFIX) + f"[0-9a-f]{{{DIGEST_CHARS}}}")


def new_key() -> str:
    """A new random key (64 hex digits)."""
    return secrets.token_hex(32)


def register_key(conn: sa.Connection) -> bytes:
    """The register's key, read in the caller's transaction (made by the version 4 upgrade)."""
    m = T["meta"]
    value = conn.execute(sa.select(m.c.value).where(m.c.key == KEY_META)).scalar()
    return bytes.fromhex(value) if value else b""


def protect(value: Any, key: bytes) -> Any:
    """``value`` as stored: its keyed hash when it is shaped like an ID number, else itself.

    Examples:
        >>> k = bytes(32)
        >>> protect("11010519491231002x", k) == protect("11010519491231002X", k), protect("H1", k)
        (True, 'H1')
        >>> protect("11010519491231002X", k)[:3]
        'id#'
    """
    if not looks_like_id(value):
        return value
    digest = hmac.new(key, value.strip().upper().encode("ascii"), hashlib.sha256)
    return PREFIX + digest.hexdigest()[:DIGEST_CHARS]


def protect_text(text: Any) -> Any:
    """``text`` with every word shaped like an ID number masked
    (:func:`fpanalysis.core.privacy.mask_text`).

    Examples:
        >>> protect_text("与上一名 11010519491231002X（第 1 名）相同")
        '与上一名 110105********002X（第 1 名）相同'
    """
    return mask_text(text)


#: What is protected, table by table: (key columns, text columns, key-list columns). A key-list
#: column holds keys separated by spaces (the households an admission passed over), each one
#: stored as a key is.
PROTECTED = {
    "rounds": ((), ("note",), ()),
    "relief_rows": (("household_id",), ("reason_zh", "reason_en"), ()),
    "compliance_units": (("unit_id",), (), ()),
    "compliance_accountability": (
        ("event_id", "couple_id", "wife_id", "husband_id", "unit_id"),
        ("reason_zh", "reason_en"),
        (),
    ),
    "relief_decisions": (("household_id",), ("reason",), ("passes_over",)),
    "relief_notices": ((), ("place",), ()),
    "relief_objections": (("household_id",), ("text",), ()),
    "relief_approvals": ((), ("approved_by",), ()),
}


def protect_keys(text: Any, key: bytes) -> Any:
    """Keys separated by spaces, each stored as :func:`protect` stores it.

    Examples:
        >>> protect_keys("H1 H2", bytes(32)), protect_keys(None, bytes(32))
        ('H1 H2', None)
    """
    if not isinstance(text, str):
        return text
    return " ".join(str(protect(w, key)) for w in text.split(" "))


def protect_row(table: str, row: dict[str, Any], key: bytes) -> dict[str, Any]:
    """A row of ``table`` as stored: its ID-shaped keys hashed, words masked (:data:`PROTECTED`)."""
    keys, texts, lists = PROTECTED.get(table, ((), (), ()))
    out = dict(row)
    for c in keys:
        if c in out:
            out[c] = protect(out[c], key)
    for c in texts:
        if c in out:
            out[c] = protect_text(out[c])
    for c in lists:
        if c in out:
            out[c] = protect_keys(out[c], key)
    return out


def stored_keys(values: Iterable[Any], key: bytes) -> list[Any]:
    """Keys as the register stores them (:func:`protect` of each)."""
    return [protect(v, key) for v in values]


def reveal(values: pd.Series, known: Iterable[Any], key: bytes) -> pd.Series:
    """Stored keys back to the clear keys among ``known`` (this round's households); the others
    stay as stored (a household that left is named by its hash)."""
    back = {protect(k, key): k for k in known if looks_like_id(k)}
    if not back:
        return values
    return values.map(lambda v: back.get(v, v)).astype(values.dtype)
