"""The core imports no Excel library: it must serve files, live workbooks and tests alike."""

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "renkei_xl"
CORE = sorted(p for p in (PKG / "core").glob("*.py"))
EXCEL_LIBRARIES = ("openpyxl", "xlwings", "pandas", "xlsxwriter", "python_calamine", "uno", "defusedxml")


def _imports(path: Path):
    """Every module a file imports, relative imports resolved to their absolute name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = "renkei_xl.core"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            if node.module:
                yield ".".join([*base, node.module])
            else:
                yield from (".".join([*base, a.name]) for a in node.names)


def test_the_core_is_every_module_of_its_folder():
    names = {p.stem for p in CORE}
    assert {"values", "rules", "consolidate", "validate", "contract", "plan", "looks", "pipeline"} <= names


def test_core_modules_import_nothing_but_the_core_and_no_excel_library():
    """The pure set is the folder: a module moved into core/ is held to this at once."""
    for path in CORE:
        for m in _imports(path):
            assert m.split(".")[0] not in EXCEL_LIBRARIES, (path.name, m)
            if m.startswith("renkei_xl"):
                assert m.startswith("renkei_xl.core"), (path.name, m)


def _excel_libraries_loaded_by(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the Excel libraries it left in sys.modules."""
    probe = (f"{code}\nimport sys\n"
             f"print(sorted(m for m in {EXCEL_LIBRARIES!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip())


def test_evaluating_the_reference_list_loads_no_excel_library():
    code = ("from renkei_xl.core.reference import load_reference\n"
            "from renkei_xl.core.pipeline import recalculate\n"
            "r = load_reference()\n"
            "recalculate(r.settings, r.indicators, r.entries)")
    assert _excel_libraries_loaded_by(code) == []


def test_a_write_plan_is_made_without_any_excel_library():
    code = ("import datetime as dt\n"
            "from renkei_xl.core.reference import load_reference\n"
            "from renkei_xl.core.pipeline import recalculate\n"
            "from renkei_xl.core.plan import recalc_plan\n"
            "from renkei_xl.core.plan_types import MasterState\n"
            "from renkei_xl.core.contract_read import MasterData\n"
            "r = load_reference()\n"
            "res = recalculate(r.settings, r.indicators, r.entries)\n"
            "p, _ = recalc_plan(MasterState([], {}), MasterData(r.settings, list(r.indicators), list(r.entries)), res,\n"
            "                '', dt.datetime(2024, 4, 1))\n"
            "assert [s.name for s in p.sheets] == ['一覧', '集計', '検証結果', '次の一歩'], p.sheets")
    assert _excel_libraries_loaded_by(code) == []


def _outside_markers() -> list[str]:
    """What would name a place outside the repository, read from the machine itself rather
    than typed here: the folder holding the repository (as an absolute path), the home
    folder, each thing kept beside the repository (as ``../name``) and the Markdown documents
    in the folders beside it, where the repository has no file of that name."""
    repo = PKG.parent
    own = {p.name for p in repo.iterdir()}
    markers = [str(repo.parent).rstrip("/\\") + "/", str(Path.home()).rstrip("/\\") + "/"]
    for beside in repo.parent.iterdir():
        if beside.resolve() == repo.resolve() or beside.name.startswith("."):
            continue
        markers.append(f"../{beside.name}")
        if beside.is_dir():
            markers += [d.name for d in beside.iterdir()
                        if d.is_file() and d.suffix.lower() == ".md" and d.name not in own]
    return [m for m in markers if len(m) > 3]


def test_no_file_of_the_package_names_a_place_outside_the_repository():
    """Comments and data speak of the repository alone: a reader of an installed package
    has nothing else (no folder beside the repository, no machine paths, no documents kept
    next to it)."""
    markers = _outside_markers()
    # Each marker looked for in a file's whole text first, its lines walked only where one
    # is: a checkout beside many folders has thousands of markers, and a Python loop over
    # them for every line took seconds.
    found = []
    for path in [*PKG.rglob("*"), *(PKG.parent / "macros").glob("*")]:   # macros/ ships as renkei_xl/vba/macros
        if path.is_file() and path.suffix in (".py", ".bas", ".toml", ".cls"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if not any(m in text for m in markers):
                continue
            for n, line in enumerate(text.splitlines(), 1):
                hit = next((m for m in markers if m in line), None)
                if hit:
                    found.append(f"{path.relative_to(PKG.parent)}:{n}: {hit}: {line.strip()}")
    assert not found, "\n".join(found)
