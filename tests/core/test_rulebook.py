"""The rulebook (docs/rules.md) stays true to the code: parameters, tables, functions, tests.

It also quotes the work plan verbatim. Every check reads the rulebook as text and is
table-driven: one case per parameter, table, function path, test reference and quoted clause,
each with the name it checks as its id, so a failure says which line of the rulebook to fix.
The tables are regenerated with ``fpanalysis params --rulebook docs/rules.md``.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from fpanalysis.core import config
from fpanalysis.core.param_tables import parameter_table, rulebook_blocks
from fpanalysis.core.params import default_params, read_yaml

ROOT = config.PROJ_ROOT
RULEBOOK = ROOT / "docs" / "rules.md"
WORK_PLAN = ROOT / "docs" / "work_plan_zh.md"
TEXT = RULEBOOK.read_text(encoding="utf-8")
BLOCKS = rulebook_blocks(TEXT)
PARAMS = default_params()

# `fpanalysis.rules.relief.rank_households`, `fpanalysis.rules.bonus.BonusProjection.table`
FUNCTION_RE = re.compile(r"`(fpanalysis(?:\.\w+)+)`")
# `tests/rules/test_relief.py::test_pools`
TEST_RE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
# > 工作计划 三.1：“……”, each piece between the ellipses a verbatim part of the plan
CLAUSE_RE = re.compile(r"^> 工作计划[^“\n]*“([^”]+)”", re.M)
# - 参数 parameters: `a`, `b`
PARAM_LINE_RE = re.compile(r"^- 参数 parameters: (.*)$", re.M)
SECTION_RE = re.compile(r"^## §(\d+) ", re.M)


def _cases(values, ident=str):
    return [pytest.param(v, id=ident(v)) for v in values]


def _block_id(block) -> str:
    return f"line-{block.line}-" + "+".join(block.names)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("name", _cases(PARAMS.names))
def test_every_parameter_has_a_table(name):
    """A parameter of policy.yaml that no table of the rulebook lists is undocumented."""
    assert any(name in b.names for b in BLOCKS), (
        f"{name} is in policy.yaml but in no <!-- params: ... --> block of {RULEBOOK.name}"
    )


@pytest.mark.parametrize("name", _cases(sorted({n for b in BLOCKS for n in b.names})))
def test_every_table_name_is_a_parameter(name):
    assert name in PARAMS.names, f"{RULEBOOK.name} lists {name}, which policy.yaml does not hold"


@pytest.mark.parametrize("block", _cases(BLOCKS, _block_id))
def test_parameter_tables_are_up_to_date(block):
    known = [n for n in block.names if n in PARAMS.names]
    assert block.body == parameter_table(known), (
        f"the table at {RULEBOOK.name} line {block.line} is stale: run "
        "`fpanalysis params --rulebook docs/rules.md`"
    )


def test_the_rulebook_has_parameter_tables():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(
    "name",
    _cases(
        sorted(
            {n for line in PARAM_LINE_RE.findall(TEXT) for n in re.findall(r"`([a-z_]+)`", line)}
        )
    ),
)
def test_parameters_named_by_a_rule_exist(name):
    assert name in PARAMS.names, f"a rule of {RULEBOOK.name} uses {name}, not in policy.yaml"


# --------------------------------------------------------------------------- functions and tests


def _resolve(path: str):
    """Import the longest module prefix of a dotted path, then follow attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name is not None and not ".".join(parts[:i]).startswith(exc.name):
                raise  # a module that exists failed to import something else
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(path)


FUNCTIONS = sorted(set(FUNCTION_RE.findall(TEXT)))


def test_the_rulebook_names_functions():
    assert len(FUNCTIONS) > 50


@pytest.mark.parametrize("path", _cases(FUNCTIONS))
def test_named_function_imports(path):
    try:
        _resolve(path)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{RULEBOOK.name} names {path}, which does not import: {exc}")


TESTS = sorted(set(TEST_RE.findall(TEXT)))


def _test_names(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    }


def test_the_rulebook_names_tests():
    assert len(TESTS) > 50


@pytest.mark.parametrize("ref", _cases(TESTS, lambda r: f"{r[0]}::{r[1]}"))
def test_named_test_exists(ref):
    file, name = ref
    path = ROOT / file
    assert path.is_file(), f"{RULEBOOK.name} names {file}, which does not exist"
    assert name in _test_names(path), f"{RULEBOOK.name} names {file}::{name}, not in that file"


# --------------------------------------------------------------------------- the work plan


PLAN = WORK_PLAN.read_text(encoding="utf-8")
CLAUSES = sorted(
    {piece for q in CLAUSE_RE.findall(TEXT) for piece in q.split("……") if piece.strip()}
)
# The clauses policy.yaml quotes in its references ("在年初……进行一次摸底调查").
YAML_CLAUSES = sorted(
    {
        piece
        for entry in read_yaml(config.POLICY_FILE).values()
        for q in re.findall(r'"([^"]+)"', entry["reference"])
        for piece in q.split("……")
        if piece.strip()
    }
)


def test_the_rulebook_quotes_the_plan():
    assert len(CLAUSES) > 20


@pytest.mark.parametrize("clause", _cases(sorted({*CLAUSES, *YAML_CLAUSES}), lambda c: c[:12]))
def test_quoted_clause_is_in_the_work_plan(clause):
    assert clause in PLAN, f"“{clause}” is not a verbatim part of {WORK_PLAN.name}"


def test_work_plan_keeps_its_numbering():
    heads = re.findall(r"^## ([一二三四五])、", PLAN, re.M)
    items = re.findall(r"^(\d)、", PLAN, re.M)
    assert heads == list("一二三四五")
    assert items == [str(i) for i in range(1, 7)]


# --------------------------------------------------------------------------- sections


def test_sections_one_to_nine():
    assert [int(n) for n in SECTION_RE.findall(TEXT)] == list(range(1, 10))


CITED = sorted(
    {
        (str(p.relative_to(ROOT)), int(n))
        for p in [*sorted((ROOT / "fpanalysis").rglob("*.py")), config.POLICY_FILE]
        for n in re.findall(r"rulebook §(\d+)", p.read_text(encoding="utf-8"))
    }
)


@pytest.mark.parametrize("cite", _cases(CITED, lambda c: f"{c[0]}-§{c[1]}"))
def test_cited_sections_exist(cite):
    file, n = cite
    assert 1 <= n <= 9, f"{file} cites rulebook §{n}; the rulebook has §1 to §9"
