"""The lab readers are pure like the engine (docs/architecture.md): the standard library, python-hl7 and the engine
only, and no clock (an ACK's time is passed in), so the same body always reads the same."""

import ast
import sys
from pathlib import Path

import pytest
from engine.test_engine_purity import imported_modules

import cm_tracker.labs

MODULES = sorted(Path(cm_tracker.labs.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_lab_readers_import_only_the_standard_library_python_hl7_the_engine_and_themselves(path: Path) -> None:
    for name in imported_modules(path):
        ours = name.startswith(("cm_tracker.labs", "cm_tracker.engine"))
        assert ours or name.split(".")[0] in {*sys.stdlib_module_names, "hl7"}, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_lab_readers_never_read_the_clock(path: Path) -> None:
    calls = {ast.unparse(node.func) for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)}
    assert not calls & {"datetime.now", "datetime.utcnow", "date.today", "time.time", "utcnow"}, path.name
