"""Importing the package keeps ``jsonschema`` from building the ``iri`` grammars
(``fpanalysis._skip_iri_grammars``): every other format check stays, and no schema the package
validates against names an ``iri`` format."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = """
import fpanalysis, altair, jsonschema, sys
checkers = jsonschema.Draft7Validator.FORMAT_CHECKER.checkers
print(json.dumps({
    "iri": sorted(f for f in checkers if f.startswith("iri")),
    "others": sorted(f for f in ("uri", "uri-reference", "date", "email") if f in checkers),
    "blocked": sys.modules.get("rfc3987_syntax", "absent") is None,
}))
"""


def run(code: str) -> dict:
    p = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def test_the_package_first_then_jsonschema_has_no_iri_checkers_and_every_other():
    got = run(CHECK)
    assert got["blocked"] is True and got["iri"] == []
    assert got["others"] == ["date", "email", "uri", "uri-reference"]


def test_a_process_that_loaded_the_grammars_first_keeps_them():
    pytest.importorskip("rfc3987_syntax")
    got = run("import rfc3987_syntax\n" + CHECK)
    assert got["blocked"] is False and got["iri"] == ["iri", "iri-reference"]


def test_charts_are_still_validated_against_vega_lite():
    """In a process that imported the package first (as a notebook kernel does): the grammars
    are left out and altair still refuses a chart its schema does not allow."""
    got = run(
        "import sys, fpanalysis, altair as alt, pandas as pd\n"
        "chart = lambda **kw: alt.Chart(pd.DataFrame({'a': [1]})).mark_bar(**kw)\n"
        "ok = chart().encode(x='a:Q').to_dict()['mark']['type']\n"
        "try:\n"
        "    chart(size='wide').to_dict(); refused = ''\n"
        "except Exception as e:\n"
        "    refused = str(e)\n"
        "print(json.dumps({'ok': ok, 'refused': refused,\n"
        "    'blocked': sys.modules.get('rfc3987_syntax', 'absent') is None}))\n"
    )
    assert got["blocked"] is True and got["ok"] == "bar"
    assert "invalid value for `size`" in got["refused"]


def test_no_schema_the_package_validates_against_names_an_iri_format():
    import altair
    import nbformat

    schemas = [
        *Path(altair.__file__).parent.glob("vegalite/*/schema/*.json"),
        *Path(nbformat.__file__).parent.glob("v4/*.json"),
    ]
    assert schemas
    for path in schemas:
        assert not re.search(r'"format":\s*"iri', path.read_text(encoding="utf-8")), path
