"""Readable units (issue 20): no function of the package over about 60 lines unless its
docstring says why it is one function ("on purpose", and the reason), and no function the
package never uses (dead code, or a helper only the tests call)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "renkei_xl"
LIMIT = 60


@functools.lru_cache(maxsize=None)
def _tree(source: str) -> ast.Module:
    """``source`` parsed once a process: the three scans of the package below each parsed
    every file of it (with _nodes, 2.8 -> 1.6 CPU s for this module). Read-only to its callers."""
    return ast.parse(source)


@functools.lru_cache(maxsize=None)
def _nodes(tree: ast.AST) -> tuple[ast.AST, ...]:
    """``ast.walk(tree)``, walked once a process: the scans walk each tree four times."""
    return tuple(ast.walk(tree))


def _parsed(path: Path) -> ast.Module:
    return _tree(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", autouse=True)
def _trees_let_go():
    """The trees (some 450,000 objects) let go when this module is done: kept, every full
    garbage collection of the rest of the worker's run would walk them."""
    yield
    _tree.cache_clear()
    _nodes.cache_clear()


def long_functions(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in _nodes(_parsed(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LIMIT and "on purpose" not in (ast.get_docstring(node) or ""):
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return out


def test_no_function_is_long_without_a_reason():
    assert not long_functions(), "\n".join(long_functions())


def test_the_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def f():\n{body}\n\n\ndef g():\n    '''One on purpose: why.'''\n{body}\n")
    assert [line.split()[1] for line in long_functions(tmp_path)] == ["f"]


# Names Python or a framework calls, never the package: logging's Handler.emit and
# Formatter.formatTime and uvicorn's H11Protocol .send_400_response (server.connections
# overrides it).
CALLED_FROM_OUTSIDE = {"emit", "formatTime", "send_400_response"}


def _docstrings(tree: ast.AST) -> set[int]:
    """The docstring nodes of ``tree``: a name a docstring mentions is not a use of it
    (displayed.shows_nothing lived on, called by the tests alone, named in three)."""
    return {id(node.body[0].value) for node in _nodes(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)}


def unused_definitions(root: Path = PACKAGE, outside: tuple[Path, ...] = ()) -> list[str]:
    """Functions, classes and module-level names the package never uses: not called,
    imported, read nor named in a string other than a docstring (a button's macro, an entry
    point in setup.cfg, a Sub in macros/). A helper or a constant only the tests use is
    dead code in the package."""
    used: set[str] = set()
    defined: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        tree = _parsed(path)
        where = path.relative_to(root.parent).as_posix()
        docstrings = _docstrings(tree)
        for statement in tree.body:          # module-level names (constants, aliases)
            targets = (statement.targets if isinstance(statement, ast.Assign)
                       else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
            defined += [(where, statement.lineno, t.id) for t in targets if isinstance(t, ast.Name)]
        for node in _nodes(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.append((where, node.lineno, node.name))
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.alias):
                used.add(node.name.rsplit(".", 1)[-1])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                used.update(re.findall(r"\w+", node.value))
    for path in outside:
        used.update(re.findall(r"\w+", path.read_text(encoding="utf-8", errors="replace")))
    return [f"{path}:{line} {name}" for path, line, name in defined
            if name not in used and name not in CALLED_FROM_OUTSIDE and not (name.startswith("__") and name.endswith("__"))]


def test_no_function_of_the_package_is_left_unused():
    root = PACKAGE.parent
    dead = unused_definitions(outside=(root / "setup.cfg", *sorted((root / "macros").glob("*.bas"))))
    assert not dead, "\n".join(dead)


def test_the_check_sees_an_unused_function(tmp_path):
    (tmp_path / "m.py").write_text(
        "def used():\n    pass\n\n\ndef unused():\n    '''Calls used().'''\n    used()\n\n\n"
        "def named():\n    pass\n\n\nclass Named:\n    '''Not named().'''\n\n    def __init__(self):\n        pass\n\n\n"
        "BUTTON = 'm.Named'\nLIMIT = 3\nWIDTH = LIMIT\n")
    assert sorted(line.split()[1] for line in unused_definitions(tmp_path)) == ["BUTTON", "WIDTH", "named", "unused"]


# A module path a docstring or comment names: 「renkei_xl.core.findings.HIDDEN_NUMBER」,
# 「core.seal」, 「server.log.OnceAMinute」. Not after "/" or "." (a URL: .../excel.range.value2),
# and a part's file name (workbook.xml.rels) is no module.
_FILE_SUFFIXES = {"py", "bas", "xml", "rels", "json", "xlsx", "xlsm", "toml", "md", "bin"}


def _module_path(root: Path) -> "re.Pattern[str]":
    heads = [root.name, *(p.name for p in sorted(root.iterdir()) if (p / "__init__.py").exists())]
    return re.compile(rf"(?<![\w./])((?:{'|'.join(heads)})(?:\.\w+)+)")


def _names_defined(path: Path) -> set[str]:
    """Every name ``path`` binds: functions, classes, assignments (self.x too), imports, arguments."""
    names: set[str] = set()
    for node in _nodes(_parsed(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _resolves(root: Path, parts: list[str], defined: dict[Path, set[str]]) -> bool:
    """Whether ``parts`` (under ``root``) is a package, a module, or a module and a name it
    binds (what follows that name is its attribute, not looked up)."""
    at = root
    for part in parts:
        if at.is_dir() and (at / part / "__init__.py").exists():
            at = at / part
        elif at.is_dir() and (at / f"{part}.py").exists():
            at = at / f"{part}.py"
        else:
            module = at / "__init__.py" if at.is_dir() else at
            if module not in defined:
                defined[module] = _names_defined(module)
            return part in defined[module]
    return True


def _docstring_lines(tree: ast.AST) -> set[int]:
    return {n for node in _nodes(tree) if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)
            for n in range(node.body[0].lineno, node.body[0].end_lineno + 1)}


def dangling_references(root: Path = PACKAGE) -> list[str]:
    """Module paths named in the package's docstrings and comments that name nothing: a
    function renamed or moved left its old name in the words (findings.py named
    cycle.collect.inspect._only_changed, gone to since_issue.changed_since_issue). A
    comment is what follows a "#" on its line (tokenizing every file took longer than the
    rest of this file's checks together); the code's own names resolve anyway, and its
    variables (core, workbook) would not."""
    pattern = _module_path(root)
    defined: dict[Path, set[str]] = {}
    out = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if not pattern.search(source):
            continue
        docstrings = _docstring_lines(_tree(source))
        for number, line in enumerate(source.splitlines(), start=1):
            for found in pattern.finditer(line):
                if number not in docstrings and "#" not in line[:found.start()]:
                    continue
                parts = found.group(1).split(".")
                while parts[-1] in _FILE_SUFFIXES:
                    parts.pop()
                if parts[0] == root.name:
                    parts = parts[1:]
                if len(parts) > 1 and not _resolves(root, parts, defined):
                    out.append(f"{path.relative_to(root.parent)}:{number} {found.group(0)}")
    return out


def test_every_module_path_in_the_words_names_something():
    assert not dangling_references(), "\n".join(dangling_references())


def test_the_check_sees_a_name_that_is_gone(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "sub" / "k.py").write_text("def f(x):\n    pass\n")
    (pkg / "m.py").write_text(
        '"""See pkg.m.kept, pkg.m.gone, sub.k.f, sub.k.g.h, pkg.sub.z and http://x/pkg.m.url."""\n\n\n'
        "def kept():\n    pass  # not pkg.m.old_name, once renamed; the part pkg.m.xml\n")
    assert [line.split()[1] for line in dangling_references(pkg)] == [
        "pkg.m.gone", "sub.k.g.h", "pkg.sub.z", "pkg.m.old_name"]
