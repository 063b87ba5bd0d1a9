"""The house's floors: each module imports only from its own floor or the ones below, and
no import runs in a circle.

A module's floor is read from its folder, so a module added to a folder is held to the
rule at once (as test_purity does for the core). Every import counts, the ones inside
functions too: the code imports late on purpose (start-up speed), and a late import is
still a dependency. So does an import for type names only (under TYPE_CHECKING).

Floors, bottom to top (README, 開発者向け):

0. core         -- values, rules, the contract, the plan and its types: pure data and rules,
                   no file, no Excel library (test_purity).
1. foundations  -- the OOXML package, the VBA project writer, safe writes and locks, the
                   error log. They use the core's errors, addresses and looks; the core
                   needs none of them.
2. appliers     -- apply a plan to a file (workbook/) or a live workbook (excel/).
3. operations   -- split, collect, export, rollover (cycle/), each ending in a plan.
4. faces        -- the command line, the buttons' entry points, the server.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "renkei_xl"

# The one statement of the floors. A folder's floor holds for every module under it.
FLOORS = ("core", "foundations", "appliers", "operations", "faces")
FOLDER_FLOOR = {
    "core": "core",
    "package": "foundations",
    "vba": "foundations",
    "": "foundations",             # renkei_xl/*.py: safety, errorlog, the version
    "workbook": "appliers",
    "excel": "appliers",
    "cycle": "operations",
    "cli": "faces",
    "server": "faces",
}
# The one module whose folder is not its floor: the buttons' entry points are a face that
# lives beside the live applier, because each master's VBA names it by this path.
MODULE_FLOOR = {"renkei_xl.excel.buttons": "faces"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def folder(module: str) -> str:
    """The folder under renkei_xl/ a module is in ("" for renkei_xl/*.py)."""
    parts = MODULES[module].relative_to(PKG).parts
    return parts[0] if len(parts) > 1 else ""


def floor(module: str) -> int:
    return FLOORS.index(MODULE_FLOOR.get(module) or FOLDER_FLOOR[folder(module)])


def _resolve(name: str) -> str:
    """The module of ours an imported name lives in (a package, a module, or a module's
    name's module)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str) -> dict[str, int]:
    """Every module of ours ``module`` imports, anywhere in it, with the first line."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for n in names:
            if n.split(".")[0] == "renkei_xl":
                if isinstance(node, ast.ImportFrom) and base not in MODULES:
                    MISSING.append(f"{module}:{node.lineno}: {base}")
                target = _resolve(n)
                if target != module:
                    found.setdefault(target, node.lineno)
    return found


MISSING: list[str] = []


@functools.cache
def graph() -> dict[str, dict[str, int]]:
    """Every module's imports of ours (``imports_of``), read once when a test first asks: at
    import it was read as each xdist worker collected this file, 0.6 CPU-s a worker (perf-107)."""
    return {m: imports_of(m) for m in MODULES}


def test_every_import_of_ours_names_a_module_that_exists():
    """A module that moved leaves no import behind (late imports fail only when they run)."""
    graph()
    assert not MISSING, "\n".join(MISSING)


def test_every_folder_has_a_floor():
    folders = {folder(m) for m in MODULES}
    assert folders <= set(FOLDER_FLOOR), folders - set(FOLDER_FLOOR)
    assert {"core", "package", "vba", "workbook", "excel", "cycle", "cli", "server"} <= folders


def test_floors_read_from_folders():
    """The test reads what the README says."""
    assert floor("renkei_xl.core.plan") < floor("renkei_xl.package.xml") < floor("renkei_xl.workbook.apply")
    assert floor("renkei_xl.vba.inject") == floor("renkei_xl.errorlog") == floor("renkei_xl")
    assert floor("renkei_xl.excel.apply") < floor("renkei_xl.cycle.collect.records") < floor("renkei_xl.excel.buttons")
    assert floor("renkei_xl.cli.workbook") == floor("renkei_xl.server.app") == len(FLOORS) - 1


def test_no_module_imports_from_a_floor_above_its_own():
    upward = [f"{m} ({FLOORS[floor(m)]}) -> {t} ({FLOORS[floor(t)]}) at line {line}"
              for m, targets in graph().items() for t, line in targets.items() if floor(t) > floor(m)]
    assert not upward, "\n".join(upward)


def _cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph()[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph()):
        if v not in index:
            visit(v)
    return groups


def test_no_import_cycle():
    found = [" <-> ".join(g) + ": " + "; ".join(f"{a}->{b}:{graph()[a][b]}" for a in g for b in g if b in graph()[a])
             for g in _cycles()]
    assert not found, "\n".join(found)


def test_the_cycle_finder_finds_a_cycle():
    """A test that cannot fail is a defect: the finder sees a planted circle."""
    graph()["renkei_xl.core.refs"]["renkei_xl.core.plan"] = 0
    try:
        assert any("renkei_xl.core.refs" in g for g in _cycles())
    finally:
        del graph()["renkei_xl.core.refs"]["renkei_xl.core.plan"]


def test_late_imports_are_seen():
    """An import inside a function counts (cli imports its subcommands when they run)."""
    assert "renkei_xl.cli.workbook" in graph()["renkei_xl.cli"]


def private_imports(module: str, source: str) -> list[str]:
    """The names ``module`` imports from another module of ours that mark themselves as that
    module's own (a leading underscore), anywhere in ``source``."""
    package = module if MODULES.get(module, Path()).name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        if base.split(".")[0] != "renkei_xl" or base == module:
            continue
        found += [f"{module}:{node.lineno}: {base}.{a.name}" for a in node.names
                  if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_module_imports_another_modules_private_name():
    """A name with a leading underscore is its module's own (issue 20): a module that needs
    another's helper imports it under a public name, so a change to a private helper cannot
    break a module nobody looked at (server.running and server.log took safety's locks so)."""
    found = [f for m, path in MODULES.items() for f in private_imports(m, path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_the_private_import_finder_finds_one():
    """A test that cannot fail is a defect: the finder sees a planted import, late or not."""
    planted = "def f():\n    from ..safety import _try_lock, backup_folder\n"
    assert private_imports("renkei_xl.server.running", planted) == ["renkei_xl.server.running:2: renkei_xl.safety._try_lock"]
    assert private_imports("renkei_xl.server.running", "from .running import _x\nfrom os import _exit\n") == []


def test_collecting_this_file_parses_nothing(monkeypatch):
    """Every xdist worker imports this file to collect it, and most run none of its tests:
    the package is parsed when a test first asks (``graph``), not at import."""
    import importlib.util

    parsed = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda *a, **k: parsed.append(1) or real_parse(*a, **k))
    spec = importlib.util.spec_from_file_location("test_layers_collected", __file__)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert parsed == []
