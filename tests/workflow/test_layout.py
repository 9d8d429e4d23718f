"""The project's layout: each result (deeplin.config.RESULT_IDS) has every piece under its own id, the shared
modules depend on no result, and no comment or docstring points at documents outside the repository."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest
import yaml
from deeplin.config import RESULT_IDS

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "workflow" / "deeplin"
# (module, the functions or names it must define) of every result's subpackage
RESULT_MODULES = {
    "__init__.py": (),
    "cli.py": ("add_commands",),
    "config_rules.py": ("problems", "complete"),
    "settings.py": (),
    "figure_names.py": ("CHAPTER",),
}
RULE = re.compile(r"^(?:rule|checkpoint)\s+(\w+)\s*:", re.MULTILINE)


def _defined_names(path: Path) -> set[str]:
    """Top-level functions, classes and assigned names of a module."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@pytest.mark.parametrize("result_id", RESULT_IDS)
def test_result_subpackage_has_its_modules(result_id: str) -> None:
    for module, names in RESULT_MODULES.items():
        path = PACKAGE / result_id / module
        assert path.is_file(), f"missing {path.relative_to(REPO)}"
        missing = set(names) - _defined_names(path)
        assert not missing, f"{path.relative_to(REPO)} defines no {sorted(missing)}"


@pytest.mark.parametrize("result_id", RESULT_IDS)
def test_result_has_its_schema_config_section_report_tests_and_docs(result_id: str) -> None:
    assert (REPO / "workflow" / "schemas" / f"{result_id}.schema.yaml").is_file()
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    assert isinstance(config.get(result_id), dict), f"config.yaml has no {result_id}: section"
    captions = sorted((REPO / "workflow" / "report" / result_id).glob("*.rst"))
    assert captions, f"no captions in workflow/report/{result_id}/"
    tests = REPO / "tests" / result_id
    assert sorted(tests.glob("test_*.py")), f"no test files in tests/{result_id}/"
    # the result's tiny study, run end to end by its own workflow test and by the cross-result tests
    assert (tests / "workflow.yaml").is_file(), f"no tests/{result_id}/workflow.yaml"
    assert (REPO / "docs" / f"{result_id}.md").is_file(), f"no docs/{result_id}.md"


@pytest.mark.parametrize("result_id", RESULT_IDS)
def test_result_rules_file_is_included_and_its_rules_carry_the_id(result_id: str) -> None:
    rules = REPO / "workflow" / "rules" / f"{result_id}.smk"
    names = RULE.findall(rules.read_text(encoding="utf-8"))
    assert names, f"{rules.relative_to(REPO)} defines no rule"
    assert all(name.startswith(f"{result_id}_") for name in names), names
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    assert re.search(rf'^include:\s*"workflow/rules/{result_id}\.smk"', snakefile, re.MULTILINE)


def _shared_modules() -> list[Path]:
    """The modules every result may use: workflow/deeplin/*.py and the sampler's package, if it is one."""
    return sorted([*PACKAGE.glob("*.py"), *(PACKAGE / "hmc").rglob("*.py")])


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module (and from-imported name) ``path`` imports, relative imports resolved."""
    package = ".".join(path.parent.relative_to(REPO / "workflow").parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import <subpackage>`
    return found


def test_shared_modules_import_no_result() -> None:
    modules = _shared_modules()
    assert PACKAGE / "config.py" in modules
    for path in modules:
        for module in _imported_modules(path):
            for result_id in RESULT_IDS:
                result = f"deeplin.{result_id}"
                assert module != result and not module.startswith(f"{result}."), (
                    f"{path.relative_to(REPO)} imports {module}: shared modules must not depend on a result"
                )


# Pointers at documents that live outside the repository (a task tracker, a specification document). Spelt
# in two pieces so that this file does not match itself.
OUTSIDE_POINTER = re.compile(r"\b" + "SP" + r"EC\b|\bissue\s+" + "#", re.IGNORECASE)
SKIPPED_PARTS = {"__pycache__", ".snakemake", ".pytest_cache"}


def _python_prose(text: str) -> list[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python source."""
    prose = [
        (t.start[0], t.string)
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    prose.append((body[0].lineno, body[0].value.value))
    return prose


def _other_prose(text: str) -> list[tuple[int, str]]:
    """(line, text) of every line of a rules file, config, caption or note: all of it can be read as prose."""
    return list(enumerate(text.splitlines(), start=1))


def _prose_files() -> list[Path]:
    files = [REPO / "Snakefile"]
    for folder in (REPO / "workflow", REPO / "tests"):
        files += [p for p in folder.rglob("*") if p.is_file() and not SKIPPED_PARTS & set(p.parts)]
    return sorted(p for p in files if p.suffix in {".py", ".smk", ".yaml", ".yml", ".rst", ".md", ".txt", ""})


def test_no_comment_or_docstring_points_outside_the_repository() -> None:
    """Comments and docstrings cite papers, equations and docs/<id>.md, never an outside document."""
    hits = []
    for path in _prose_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        prose = _python_prose(text) if path.suffix == ".py" else _other_prose(text)
        for line, passage in prose:
            match = OUTSIDE_POINTER.search(passage)
            if match:
                hits.append(f"{path.relative_to(REPO)}:{line}: {match.group(0)!r}")
    assert not hits, "\n".join(hits)
