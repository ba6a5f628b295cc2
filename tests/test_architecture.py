"""The tiers of docs/architecture.md, read from the source: the import order between them, no import cycle, no module
over 400 lines, commits only in use cases, and re-evaluation only through the helper that keeps the reports in step.

Every module of cm_tracker is parsed with `ast` (nothing is imported); imports inside functions count like any other.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from pathlib import Path

import pytest

import cm_tracker

PACKAGE = Path(cm_tracker.__file__).parent
ROOT = PACKAGE.parent
MAX_LINES = 400

# Lowest first; a module may import its own tier and the tiers before it. Anything else is a view (blueprints,
# the API, commands, permissions, security, template helpers, the app factory), which may import every tier.
TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the engine", ("cm_tracker.engine",)),
    ("the labs", ("cm_tracker.labs",)),  # lab bodies read into one shape, pure like the engine (docs/architecture.md)
    ("money", ("cm_tracker.money",)),
    ("the helpers", ("cm_tracker.extensions", "cm_tracker.timeutil", "cm_tracker.net", "cm_tracker.validation")),
    ("the models", ("cm_tracker.models",)),
    ("services.core", ("cm_tracker.services.core",)),
    ("services.queries", ("cm_tracker.services.queries",)),
    ("services.usecases", ("cm_tracker.services.usecases",)),
    ("the tooling", ("cm_tracker.tooling",)),
)
VIEWS = "the views"
SERVICE_TIERS = ("cm_tracker.services.core", "cm_tracker.services.queries", "cm_tracker.services.usecases")
MAY_COMMIT = ("cm_tracker.services.usecases", "cm_tracker.tooling")
REEVALUATION_HELPER = "cm_tracker.services.usecases.reevaluation"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    is_type_checking: bool

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported} (line {self.line})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def tier_of(module: str) -> int:
    for rank, (_label, prefixes) in enumerate(TIERS):
        if any(_within(module, prefix) for prefix in prefixes):
            return rank
    return len(TIERS)


def tier_label(module: str) -> str:
    rank = tier_of(module)
    return TIERS[rank][0] if rank < len(TIERS) else VIEWS


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for child in node.body:
                lines |= {n.lineno for n in ast.walk(child) if hasattr(n, "lineno")}
    return lines


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if PATHS[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> list[Import]:
    """The cm_tracker modules `module` imports, at the top or inside functions; `from package import module` names
    the module. Importing a package's module runs the package's __init__ too, which is not counted as an import."""
    tree = ast.parse(PATHS[module].read_text(), str(PATHS[module]))
    guarded = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in PATHS else base for a in node.names]
        else:
            continue
        for name in dict.fromkeys(names):
            if _within(name, "cm_tracker"):
                found.append(Import(module, name, node.lineno, node.lineno in guarded))
    return found


IMPORTS = [edge for module in PATHS for edge in imports_of(module)]


def test_there_are_modules_in_every_tier() -> None:
    tiers = {tier_label(module) for module in PATHS}
    assert tiers == {label for label, _ in TIERS} | {VIEWS}


def test_every_service_module_sits_in_a_tier_folder() -> None:
    loose = [m for m in PATHS if _within(m, "cm_tracker.services") and m != "cm_tracker.services"
             and not any(_within(m, tier) for tier in SERVICE_TIERS)]
    assert not loose, f"put these in services/core, services/queries or services/usecases: {loose}"


def test_each_tier_imports_only_its_own_tier_and_the_tiers_below() -> None:
    upward = [f"{edge}: {tier_label(edge.importer)} may not import {tier_label(edge.imported)}"
              for edge in IMPORTS if tier_of(edge.imported) > tier_of(edge.importer)]
    assert not upward, "imports against the tier order (docs/architecture.md):\n" + "\n".join(upward)


def _is_model(module: str) -> bool:
    return _within(module, "cm_tracker.models")


def test_no_cm_tracker_modules_import_each_other_in_a_circle() -> None:
    """Function-level imports count; only `if TYPE_CHECKING:` imports between two models (for annotations) do not."""
    graph: dict[str, set[str]] = {module: set() for module in PATHS}
    lines: dict[tuple[str, str], int] = {}
    for edge in IMPORTS:
        if edge.is_type_checking and _is_model(edge.importer) and _is_model(edge.imported):
            continue
        graph[edge.importer].add(edge.imported)
        lines.setdefault((edge.importer, edge.imported), edge.line)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        steps = [f"{b} imports {a} (line {lines[(b, a)]})" for a, b in pairwise(cycle)]
        pytest.fail("import cycle:\n" + "\n".join(reversed(steps)))


@pytest.mark.parametrize("module", sorted(PATHS))
def test_no_module_is_over_400_lines(module: str) -> None:
    count = len(PATHS[module].read_text().splitlines())
    assert count <= MAX_LINES, f"{PATHS[module].relative_to(ROOT)} has {count} lines; split it by concept"


def test_only_use_cases_and_the_tooling_commit() -> None:
    committing = []
    for module, path in PATHS.items():
        if any(_within(module, prefix) for prefix in MAY_COMMIT):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".commit"):
                committing.append(f"{module} (line {node.lineno})")
    assert not committing, "only services.usecases (and the tooling) commit:\n" + "\n".join(committing)


def test_use_cases_re_evaluate_only_through_the_helper_that_refreshes_the_reports() -> None:
    """core.evaluation.reevaluate leaves the report cache alone; the helper rebuilds it in the same transaction."""
    callers = []
    for module, path in PATHS.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and module != REEVALUATION_HELPER
                    and _resolve(module, node) == "cm_tracker.services.core.evaluation"
                    and "reevaluate" in {alias.name for alias in node.names}):
                callers.append(f"{module} (line {node.lineno})")
    assert not callers, f"call {REEVALUATION_HELPER}.reevaluate_and_refresh instead:\n" + "\n".join(callers)


# The views: the blueprint packages (docs/architecture.md "Views").
BLUEPRINT_PACKAGES = tuple(f"cm_tracker.{name}" for name in
                           ("auth", "staff", "patient", "reports", "api", "admin", "programs", "catalog", "main"))
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
MAX_VIEW_LINES = 20
# The services learn of the request and the app only through services.core.context, which create_app answers with
# the adapter cm_tracker.request_context (a view); net reads the request too.
REQUEST_MODULES = ("flask", "flask_login", "cm_tracker.net", "cm_tracker.request_context")


def _blueprint_modules() -> list[str]:
    return [m for m in PATHS if any(_within(m, package) for package in BLUEPRINT_PACKAGES)]


def _is_route(decorator: ast.expr) -> bool:
    """`@bp.route(...)`, `@bp.get(...)` and the other verbs, on any blueprint's name."""
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr in ROUTE_DECORATORS and isinstance(func.value, ast.Name)


def routed_views(module: str) -> list[ast.FunctionDef]:
    tree = ast.parse(PATHS[module].read_text())
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and any(_is_route(d) for d in node.decorator_list)]


def test_no_routed_view_is_over_20_lines() -> None:
    """From `def` to its last line; the logic goes to small helpers or a service (thin views)."""
    views = {(module, view) for module in _blueprint_modules() for view in routed_views(module)}
    assert len(views) > 100, "the routes were not found: does the test still recognise the route decorators?"
    long = sorted(f"{PATHS[m].relative_to(ROOT)}:{v.lineno} {v.name} has {v.end_lineno - v.lineno + 1} lines"
                  for m, v in views if (v.end_lineno or v.lineno) - v.lineno + 1 > MAX_VIEW_LINES)
    assert not long, f"routed views over {MAX_VIEW_LINES} lines:\n" + "\n".join(long)


def test_no_view_module_uses_the_database_session() -> None:
    """Views read through queries and write through use cases; rolling back after an error is cm_tracker.errors'."""
    found = []
    for module in _blueprint_modules():
        for node in ast.walk(ast.parse(PATHS[module].read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "session" and ast.unparse(node.value) == "db":
                found.append(f"{module} (line {node.lineno}): db.session")
            elif (isinstance(node, ast.ImportFrom) and _resolve(module, node) == "cm_tracker.extensions"
                  and "db" in {alias.name for alias in node.names}):
                found.append(f"{module} (line {node.lineno}): imports db")
    assert not found, "views go through services/queries and use cases:\n" + "\n".join(found)


def _imported_names(module: str) -> list[tuple[str, int]]:
    """Every module `module` imports (ours and others'), at the top or inside functions."""
    names = []
    for node in ast.walk(ast.parse(PATHS[module].read_text())):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            names += [(f"{base}.{a.name}" if f"{base}.{a.name}" in PATHS else base, node.lineno) for a in node.names]
    return names


def test_no_service_reads_flasks_request_current_user_or_app() -> None:
    """The actor and source of an audit row, and the clinic's settings, come through services.core.context."""
    found = [f"{module} imports {name} (line {line})"
             for module in PATHS if any(_within(module, tier) for tier in (*SERVICE_TIERS, "cm_tracker.tooling"))
             for name, line in _imported_names(module) if any(_within(name, bad) for bad in REQUEST_MODULES)]
    assert not found, "ask services.core.context instead:\n" + "\n".join(found)


RECORD_IDS = ("specimen_id", "record_id", "activity_id", "redemption_id", "draw_id")
# The portal's URLs carry no patient: it reaches only the account's own records (usecases.portal.own_redemption).
OWN_RECORDS_ONLY = "cm_tracker.patient"


def _calls(node: ast.AST) -> set[str]:
    return {ast.unparse(n.func).rpartition(".")[2] for n in ast.walk(node) if isinstance(n, ast.Call)}


def _route_paths(view: ast.FunctionDef) -> str:
    return " ".join(ast.unparse(d.args[0]) for d in view.decorator_list
                    if _is_route(d) and isinstance(d, ast.Call) and d.args)


def test_every_view_of_a_patients_record_loads_it_through_the_access_helper() -> None:
    """A URL naming a specimen, a session mark, an activity, a redemption or a draw reaches it through
    permissions.get_record_for, in the view or in a helper of its module (which scopes it by its patient)."""
    unguarded, seen = [], 0
    for module in (m for m in _blueprint_modules() if not _within(m, OWN_RECORDS_ONLY)):
        tree = ast.parse(PATHS[module].read_text())
        loaders = {f.name for f in tree.body if isinstance(f, ast.FunctionDef) and "get_record_for" in _calls(f)}
        for view in routed_views(module):
            if any(name in _route_paths(view) for name in RECORD_IDS):
                seen += 1
                if not _calls(view) & (loaders | {"get_record_for"}):
                    unguarded.append(f"{module}.{view.name} (line {view.lineno})")
    assert seen > 10, "no view names a record: does the test still read the route paths?"
    assert not unguarded, "load the record with permissions.get_record_for:\n" + "\n".join(unguarded)
