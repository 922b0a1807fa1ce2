"""Options and checks every analysis command shares (fpanalysis.cli.common)."""

from __future__ import annotations

import hashlib

import pytest

from fpanalysis.cli import main

COMMANDS = [
    ["compliance", "--period", "2024"],
    ["cases"],
    ["accountability", "--period", "2024"],
    ["bonus", "--months", "3", "--draws", "10"],
    ["relief"],
]


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("command", [pytest.param(c, id=c[0]) for c in COMMANDS])
def test_output_into_the_input_dataset_is_refused(tmp_path, sample_dir, command, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    before = _hashes(data)
    code = main([command[0], str(data), *command[1:], "--out", str(data / "persons.csv")])
    assert code == 2
    assert "output-is-input" in capsys.readouterr().err
    assert _hashes(data) == before


@pytest.mark.parametrize("command", [pytest.param(c, id=c[0]) for c in COMMANDS])
def test_unknown_output_extension_is_refused(tmp_path, command, capsys):
    code = main([*command, "--out", str(tmp_path / "out.txt"), "--lang", "en"])
    assert code == 2
    assert "an output file must be .csv, .xlsx or .parquet" in capsys.readouterr().err
