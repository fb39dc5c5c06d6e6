"""The shape of the code (issue 14): short modules and functions, no import cycle, docs that name real modules.

Measured from the source with ``ast``, so a new long module, long function or cycle fails here first. The
exceptions are listed with why they stand; an exception that no longer applies fails too, so the lists only
shrink.
"""

import ast
import re
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = [
    "accounts",
    "cases",
    "collections_app",
    "demo",
    "discussions",
    "health",
    "imaging",
    "ingest",
    "packages",
    "quizzes",
    "teachingfile",
]
MODULE_LINES = 400
FUNCTION_LINES = 60

# Modules still longer than MODULE_LINES, and why (docs/decisions.md, "The shape of the code").
LONG_MODULES: dict[str, str] = {}
# Functions still longer than FUNCTION_LINES ("path:qualified name"), and why.
LONG_FUNCTIONS: dict[str, str] = {}


def product_modules() -> list[Path]:
    """The project's own Python modules: not its tests, migrations or benchmarks."""
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            modules.append(path)
    return modules


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_measured_packages_exist():
    assert all((ROOT / package / "__init__.py").exists() for package in PACKAGES)
    assert len(product_modules()) > 50


def test_no_module_is_longer_than_the_limit():
    lengths = {relative(path): len(path.read_text(encoding="utf-8").splitlines()) for path in product_modules()}
    long = {path for path, lines in lengths.items() if lines > MODULE_LINES}
    assert long - set(LONG_MODULES) == set(), "split these modules"
    assert set(LONG_MODULES) - long == set(), "no longer long: strike them from LONG_MODULES"


def functions(tree: ast.AST, prefix: str = ""):
    """Yield (qualified name, node) of every function and method, nested ones too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{node.name}", node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines without its docstring: a long docstring documents, it does not make the code long."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_function_is_longer_than_the_limit():
    long = set()
    for path in product_modules():
        for name, node in functions(ast.parse(path.read_text(encoding="utf-8"))):
            if code_lines(node) > FUNCTION_LINES:
                long.add(f"{relative(path)}:{name}")
    assert long - set(LONG_FUNCTIONS) == set(), "split these functions"
    assert set(LONG_FUNCTIONS) - long == set(), "no longer long: strike them from LONG_FUNCTIONS"


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules this module imports, wherever the import stands (in a function too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in product_modules()}
    return {name: imported_modules(path, set(modules)) for name, path in modules.items()}


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_relative_and_package_imports():
    graph = import_graph()
    assert "cases.models" in graph["cases.services"]
    assert "cases.admin.access" in graph["cases.admin.stages"]


def test_a_module_named_in_the_architecture_doc_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_0-9]+\.py)`", text))
    assert len(named) > 20, "the doc names the modules by their paths"
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_every_package_says_what_it_owns():
    silent = [
        package
        for package in PACKAGES
        if not ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    ]
    assert silent == []


def test_every_tests_folder_is_collected():
    """A tests folder outside pytest's testpaths never runs (packages' tests did not, for a while)."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    folders = {path.parent.parent.name for path in ROOT.glob("*/tests/__init__.py")}
    assert folders <= set(options["testpaths"]), f"not collected: {folders - set(options['testpaths'])}"


class _Item:
    """What ``engine_can_change`` reads of a collected test: its marks and fixtures."""

    def __init__(self, *marks: str, fixtures: tuple[str, ...] = ()):
        self.marks, self.fixturenames = set(marks), list(fixtures)

    def get_closest_marker(self, name: str):
        return name if name in self.marks else None


def test_the_postgresql_pass_keeps_the_database_tests_and_the_marked_browser_tests():
    from conftest import engine_can_change

    assert engine_can_change(_Item("django_db"))
    assert engine_can_change(_Item(fixtures=("transactional_db",)))
    assert engine_can_change(_Item(fixtures=("database_url",)))
    assert engine_can_change(_Item("browser", "postgresql", fixtures=("live_server",)))
    assert not engine_can_change(_Item())
    assert not engine_can_change(_Item("browser", "django_db", fixtures=("live_server",)))
