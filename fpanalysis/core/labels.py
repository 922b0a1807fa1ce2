"""Bilingual labels written as a table: ``labels`` reads lines ``key | 中文 | English`` into the
mapping ``{key: (中文, English)}`` the package uses for headings, tags and type names."""

from __future__ import annotations


def labels(table: str) -> dict[str, tuple[str, str]]:
    """``{key: (zh, en)}`` from a table, one ``key | zh | en`` a line (blank lines skipped).

    Examples:
        >>> labels('''
        ...     no   | 序号 | No.
        ...     head | 户主 | head of household
        ... ''')
        {'no': ('序号', 'No.'), 'head': ('户主', 'head of household')}
    """
    out: dict[str, tuple[str, str]] = {}
    for line in table.splitlines():
        if line.strip():
            key, zh, en = (cell.strip() for cell in line.split("|"))
            out[key] = (zh, en)
    return out
