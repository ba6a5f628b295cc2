"""The engine is pure (docs/architecture.md): standard library only, no clock, no global random source."""

import ast
import sys
from pathlib import Path

import pytest

import cm_tracker.engine

ENGINE = Path(cm_tracker.engine.__file__).parent
MODULES = sorted(ENGINE.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            names.add(node.module or "")
    return names


def test_there_are_engine_modules_to_check() -> None:
    assert len(MODULES) > 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_engine_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for name in imported_modules(path):
        inside = name == "cm_tracker.engine" or name.startswith("cm_tracker.engine.")
        assert inside or name.split(".")[0] in sys.stdlib_module_names, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_engine_never_reads_the_clock_or_the_global_random_source(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source)
    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    forbidden = {"datetime.now", "datetime.utcnow", "date.today", "time.time", "time.monotonic", "random.random",
                 "random.randrange", "random.choice", "random.randint", "random.shuffle"}  # fmt: skip
    assert not calls & forbidden, f"{path.name} calls {calls & forbidden}"
    assert "import random" not in source
