"""Readable units (issue 20): no function of the package over about 60 lines unless its
docstring says why it is one function ("on purpose", and the reason), and no function the
package never uses (dead code, or a helper only the tests call)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "renkei_xl"
LIMIT = 60


def long_functions(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
# Formatter.formatTime, FastAPI's route (app.get("/")) and uvicorn's H11Protocol
# .send_400_response (server.connections overrides it).
CALLED_FROM_OUTSIDE = {"emit", "formatTime", "health", "send_400_response"}


def _docstrings(tree: ast.AST) -> set[int]:
    """The docstring nodes of ``tree``: a name a docstring mentions is not a use of it
    (displayed.shows_nothing lived on, called by the tests alone, named in three)."""
    return {id(node.body[0].value) for node in ast.walk(tree)
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
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(root.parent).as_posix()
        docstrings = _docstrings(tree)
        for statement in tree.body:          # module-level names (constants, aliases)
            targets = (statement.targets if isinstance(statement, ast.Assign)
                       else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
            defined += [(where, statement.lineno, t.id) for t in targets if isinstance(t, ast.Name)]
        for node in ast.walk(tree):
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

