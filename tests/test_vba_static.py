"""Static checks of the master's VBA, held to the limits of Excel's VBA editor and compiler.

Every module the master carries (ours and xlwings' shipped ones) is read back from a
built master with oletools, as Excel would load it:
- (Renkei.bas and RenkeiServer.bas parsing with a VBA grammar is in test_vba_compile.py, which
  shares the parse with its compile checks.)
- Each module is ASCII (the project's code page is 1252 and Japanese is written as
  UTF-16 hex), no line is longer than 1,023 characters and no logical line has more than
  24 line continuations (VBA's limits).
- Public names are unique across the standard modules (a repeated one is "Ambiguous name
  detected" wherever it is called unqualified).
- Every button's FmlaMacro names a public Sub without parameters.
- Every worksheet has a code name and a document module: on a fresh master, after
  recalc (which adds 次の一歩), after rollover, and after upgrade-macros.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser

from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from conftest import replace_vba_project
from renkei_xl.vba.inject import sheet_code_names
from renkei_xl.vba.sources import MACROS_DIR, master_project

SERVER = "http://127.0.0.1:9"
MAX_LINE = 1023
MAX_CONTINUATIONS = 24
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"   # VB_Base of a worksheet's module
_CONTINUATION = re.compile(r"(?:^|[ \t])_$")


# ------------------------------------------------------------------------------ helpers

def _modules(path: Path) -> dict[str, str]:
    """File name as olevba exports it ("Renkei.bas", "shMenu.cls") -> source."""
    parser = VBA_Parser(str(path))
    try:
        return {vba_name: code for _, _, vba_name, code in parser.extract_macros()}
    finally:
        parser.close()


def _strip_strings_and_comments(line: str) -> str:
    """The code of one physical line without string literals and the trailing comment."""
    out, in_string = [], False
    for ch in line:
        if ch == '"':
            in_string = not in_string
            out.append(" ")
            continue
        if not in_string and ch == "'":
            break
        out.append(" " if in_string else ch)
    return "".join(out)


def _logical_lines(code: str) -> list[tuple[int, list[str]]]:
    """(first line number, physical lines) of each logical line."""
    out, current, start = [], [], 1
    for number, line in enumerate(code.split("\n"), start=1):
        if not current:
            start = number
        current.append(line)
        if not _CONTINUATION.search(_strip_strings_and_comments(line.rstrip("\r")).rstrip(" \t")):
            out.append((start, current))
            current = []
    if current:
        out.append((start, current))
    return out


_PUBLIC = re.compile(
    r"^(?:(Public|Global|Private|Friend)\s+)?(?:Static\s+)?"
    r"(?:(Sub|Function|Property\s+(?:Get|Let|Set)|Const|Declare\s+(?:PtrSafe\s+)?(?:Sub|Function)|Enum|Type)\s+)?"
    r"(\w+)", re.IGNORECASE)


def _public_names(code: str) -> set[str]:
    """Names a standard module makes public: Subs, Functions and Properties without
    Private, Public/Global variables, constants, enums, types and declares."""
    names, depth = set(), 0
    for _, physical in _logical_lines(code):
        line = " ".join(_strip_strings_and_comments(p.rstrip("\r")).rstrip(" _") for p in physical).strip()
        if not line or line.lower().startswith(("attribute ", "option ", "#")):
            continue
        low = line.lower()
        if re.match(r"end\s+(sub|function|property|enum|type)\b", low):
            depth = max(depth - 1, 0)
            continue
        if depth:
            continue
        m = _PUBLIC.match(line)
        if not m:
            continue
        scope, kind, name = m.group(1), m.group(2), m.group(3)
        kind_low = (kind or "").lower()
        opens = kind_low.startswith(("sub", "function", "property", "enum", "type"))
        if opens:
            depth += 1
        if scope and scope.lower() in ("private",):
            continue
        if kind is None and (scope is None or name.lower() in ("dim", "sub", "function")):
            continue   # a statement, or Dim (module-level Dim is private)
        if kind is None and scope and scope.lower() in ("public", "global"):
            if name.lower() in ("withevents",):
                continue
            names.add(name)               # Public x As Long
            continue
        if kind_low == "const" and not scope:
            continue                      # a module-level Const is private by default
        names.add(name)
    return names


def _sub_signature(code: str, sub: str) -> tuple[str, str] | None:
    """(scope, parameters) of ``Sub sub(...)`` at module level, or None."""
    m = re.search(r"^(?:(Public|Private|Friend)\s+)?(?:Static\s+)?Sub\s+" + re.escape(sub) + r"\s*\(([^)]*)\)",
                  code, re.IGNORECASE | re.MULTILINE)
    return (m.group(1) or "Public", m.group(2).strip()) if m else None


def _button_macros(path: Path) -> list[str]:
    """The FmlaMacro of every form control: VML (as XlsxWriter and older Excel write
    buttons) and xl/ctrlProps (as Excel and LibreOffice write them)."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".vml"):
                out += re.findall(r"<x:FmlaMacro>([^<]*)</x:FmlaMacro>", z.read(name).decode("utf-8", "replace"))
            elif name.startswith("xl/ctrlProps/"):
                out += re.findall(r'fmlaMacro="([^"]*)"', z.read(name).decode("utf-8", "replace"))
    return out


def _document_modules(path: Path) -> dict[str, str]:
    return {name[:-4]: code for name, code in _modules(path).items()
            if name.endswith(".cls") and WORKSHEET_BASE in code}


def _assert_every_sheet_has_its_module(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
    sheets = re.findall(r'<sheet [^>]*name="([^"]*)"', workbook)
    codes = sheet_code_names(path)
    assert len(codes) == len(sheets), (sheets, codes)   # every worksheet has a code name
    assert set(codes) <= set(_document_modules(path)), set(codes) - set(_document_modules(path))


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("static") / "master.xlsm"
    assert cli_main(["init", str(path), "--sample", "fy2023", "--server", SERVER]) == 0
    return path


@pytest.fixture(scope="module")
def modules(master) -> dict[str, str]:
    return _modules(master)


# -------------------------------------------------------------------------------- tests

def test_the_master_carries_ours_and_xlwings_modules(modules):
    assert {"Renkei.bas", "RenkeiServer.bas", "xlwings.bas", "Remote.bas", "WebHelpers.bas",
            "Dictionary.cls", "WebClient.cls", "WebRequest.cls"} <= set(modules)


def test_every_module_is_ascii_with_lines_and_continuations_in_vba_limits(modules):
    problems = []
    for name, code in modules.items():
        if not code.isascii():
            bad = next(i for i, line in enumerate(code.split("\n"), 1) if not line.isascii())
            problems.append(f"{name}:{bad} is not ASCII")
        for number, line in enumerate(code.split("\n"), start=1):
            if len(line.rstrip("\r")) > MAX_LINE:
                problems.append(f"{name}:{number} has {len(line.rstrip())} characters")
        for start, physical in _logical_lines(code):
            if len(physical) - 1 > MAX_CONTINUATIONS:
                problems.append(f"{name}:{start} has {len(physical) - 1} line continuations")
    assert not problems, "\n".join(problems)


def test_the_limits_are_checked_for_real():
    code = "Sub A()\r\n" + "    x = 1 + _\r\n" * 25 + "    1\r\nEnd Sub\r\n"
    assert max(len(p) - 1 for _, p in _logical_lines(code)) == 25
    assert max(len(p) for _, p in _logical_lines('x = "a _"\r\ny = 2 \' _\r\nz = 3\r\n')) == 1
    assert _public_names('Attribute VB_Name = "M"\r\nPrivate Sub P()\r\nEnd Sub\r\nSub Q(x As Long)\r\n'
                         '    Dim y As Long\r\nEnd Sub\r\nPublic Const K = 1\r\nConst L = 2\r\n'
                         'Public Function F() As Long\r\nEnd Function\r\nPublic V As Long\r\n') == {"Q", "K", "F", "V"}


def test_public_names_are_unique_across_standard_modules(modules):
    owners: dict[str, list[str]] = {}
    for name, code in modules.items():
        if name.endswith(".bas"):
            for public in _public_names(code):
                owners.setdefault(public.lower(), []).append(f"{name}:{public}")
    repeated = {k: v for k, v in owners.items() if len(v) > 1}
    assert not repeated, repeated


def test_every_button_names_a_public_sub_without_parameters(master, modules):
    macros = _button_macros(master)
    assert len(macros) == len(c.BUTTONS)
    for macro in macros:
        m = re.fullmatch(r"(?:\[0\]!)?(\w+)\.(\w+)", macro)
        assert m, macro
        module, sub = m.groups()
        code = modules.get(f"{module}.bas")
        assert code is not None, f"{macro}: no standard module {module}"
        signature = _sub_signature(code, sub)
        assert signature is not None, f"{macro}: no Sub {sub} in {module}"
        assert signature == ("Public", ""), f"{macro}: {signature}"


def test_every_sheet_of_a_fresh_master_has_a_code_name_and_its_module(master):
    assert c.HISTORY in zipfile.ZipFile(master).read("xl/workbook.xml").decode("utf-8")
    _assert_every_sheet_has_its_module(master)


def test_recalc_and_rollover_give_their_new_sheets_code_names_and_modules(master, tmp_path):
    book = tmp_path / "master.xlsm"
    shutil.copyfile(master, book)
    assert cli_main(["recalc", str(book)]) == 0
    assert c.NEXT_STEPS in zipfile.ZipFile(book).read("xl/workbook.xml").decode("utf-8")
    _assert_every_sheet_has_its_module(book)
    assert {"shHistory", "shNextSteps"} <= set(sheet_code_names(book))
    # the server the master was built for stays in its macros
    assert f'BUILT_FOR_SERVER As String = "{SERVER}"' in _modules(book)["Renkei.bas"]
    nxt = tmp_path / "next.xlsm"
    assert cli_main(["rollover", str(book), "--out", str(nxt)]) == 0
    _assert_every_sheet_has_its_module(nxt)


def test_upgrade_macros_gives_every_code_named_sheet_its_module(master, tmp_path):
    """A project that lacks a sheet's module (as after Excel saved a sheet staff added,
    before our writer could add it) gets it back from upgrade-macros."""
    book = tmp_path / "master.xlsm"
    shutil.copyfile(master, book)
    codes = sheet_code_names(book)
    replace_vba_project(book, book, master_project([n for n in codes if n != "shHistory"], server=SERVER))
    assert "shHistory" not in _document_modules(book)
    assert cli_main(["upgrade-macros", str(book), "--server", SERVER]) == 0
    _assert_every_sheet_has_its_module(book)


def test_the_client_refuses_from_the_row_the_server_refuses_and_remote_bas_overflows():
    """RenkeiUncountable (before sending), the server's size check and the test model hold
    one number: the last row Remote.bas can count. It adds the used range's first row to its
    row count in VBA Integer (startRow + nRows - 1), so that sum must stay within 32,767."""
    from remote_payload import VBA_LAST_ROW
    from renkei_xl.server.limits import VBA_MAX_ROWS

    ours = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii")
    count = int(re.search(r"RENKEI_MAX_COUNT As Long = (\d+)", ours).group(1))
    remote = (Path(importlib.metadata.distribution("xlwings").locate_file("xlwings")) / "addin" / "Remote.bas").read_text()
    assert "Dim startRow As Integer, startCol As Integer" in remote and "startRow + nRows - 1" in remote
    integer_max = 32_767
    assert count == VBA_MAX_ROWS == VBA_LAST_ROW == integer_max - 1    # 1 + 32,766 rows is the largest sum


def _procedure(source: str, name: str) -> str:
    start = re.search(rf"^(?:Public |Private )?(?:Sub|Function) {name}\(", source, re.M).start()
    return source[start:re.search(r"^End (?:Sub|Function)", source[start:], re.M).end() + start]


def test_the_outcome_report_connects_as_the_click_did():
    """RenkeiReport tells the server what staff saw. A proxy, or a certificate IT told
    xlwings to accept (PROXY_*, INSECURE, … rows of xlwings.conf), that RunServerPython
    needed to reach the server is needed by the report too, and the key is found the same
    way: otherwise the server logs 完了 for a click that stopped halfway in Excel."""
    remote = (Path(importlib.metadata.distribution("xlwings").locate_file("xlwings")) / "addin" / "Remote.bas").read_text()
    run = _procedure(remote, "RunServerPython")
    keys = dict(re.findall(r'^\s*(\w+) = GetConfig\("(\w+)"', run, re.M))     # variable -> row
    # TIMEOUT aside: the report waits 5 s at most, before staff's message box
    used = {prop.lower(): keys[var] for prop, var in re.findall(r"myClient\.(\w+) = (\w+)", run)
            if var in keys and prop.lower() != "timeoutms"}
    assert {"proxyserver", "insecure", "enableautoproxy"} <= set(used), used
    auth_rows = {keys[var] for var in re.findall(r'AddHeader "Authorization", (\w+)', run)}
    assert auth_rows == {"AUTH", "API_KEY"}

    ours = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii")
    report = _procedure(ours, "RenkeiReport")
    connection = _procedure(ours, "RenkeiConnection") if "RenkeiConnection client" in report else ""
    pairs = re.findall(r'value = GetConfig\("(\w+)"[^\r\n]*\r?\n\s*If value <> [^\r\n]* Then client\.(\w+) = value',
                       connection)
    assert {prop.lower(): row for row, prop in pairs} == used
    assert set(re.findall(r'GetConfig\("(\w+)"', report)) >= auth_rows


def test_the_client_refuses_the_names_and_shapes_remote_bas_cannot_walk():
    """Remote.bas walks the book's names and each sheet's shapes (notes among them) with
    For i = 1 To n, n and i Integer: i steps past 32,767 and overflows. RenkeiUncountable
    refuses from the same number the test model does."""
    from remote_payload import VBA_MAX_ITEMS

    remote = (Path(importlib.metadata.distribution("xlwings").locate_file("xlwings")) / "addin" / "Remote.bas").read_text()
    for counter, bound in (("iName", "nNames"), ("iShape", "nShapes")):
        assert re.search(rf"Dim {counter} As Integer", remote) and re.search(rf"Dim {bound} As Integer", remote)
        assert f"For {counter} = 1 To {bound}" in remote
    ours = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii")
    items = int(re.search(r"RENKEI_MAX_ITEMS As Long = (\d+)", ours).group(1))
    assert items == VBA_MAX_ITEMS == 32_767 - 1
    uncountable = _procedure(ours, "RenkeiUncountable")
    assert "wb.Names.Count" in uncountable and "ws.Shapes.Count" in uncountable


def test_renkei_percents_reads_only_what_a_protected_sheet_allows_and_says_what_the_server_and_model_read():
    """client-124: RenkeiSheetPercents listed a sheet's numbers with UsedRange.SpecialCells,
    which Excel is widely reported to refuse (1004) on a protected sheet, and sent the whole
    book's overflow marker for it: a server master protects its tool sheets, so the header was
    "+" on every click. X-Renkei-Percents is made of property reads alone (UsedRange, Value,
    NumberFormat, Address), and its grammar and bounds are the ones the server parses and the
    model of the client (remote_payload.percent_header_of) writes."""
    import remote_payload
    from renkei_xl.server import percent_header

    ours = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii")
    called = {"RenkeiPercents"}          # and every procedure of ours it calls, on down
    while True:
        made = "".join(_procedure(ours, name) for name in sorted(called))
        more = {name for name in re.findall(r"\b(Renkei\w+)\(", made)
                if re.search(rf"^(?:Public |Private )?(?:Sub|Function) {name}\(", ours, re.M)} - called
        if not more:
            break
        called |= more
    assert {"RenkeiSheetPercents", "RenkeiHex"} <= called
    code = "\n".join(_strip_strings_and_comments(line) for line in made.splitlines())
    for refused in ("SpecialCells", "WorksheetFunction", r"\.Select\b", r"\.Activate\b", r"\.Find\b", "Protect"):
        assert not re.search(refused, code), refused
    const = dict(re.findall(r'^Private Const (PERCENTS_\w+) As \w+ = "?([^"\r\n]*)"?', ours, re.M))
    assert const == {"PERCENTS_MAX": str(remote_payload.PERCENTS_MAX), "PERCENTS_OVERFLOW": percent_header.OVERFLOW,
                     "PERCENTS_VERSION": percent_header._VERSION, "PERCENTS_UNKNOWN": percent_header.UNKNOWN,
                     "PERCENTS_WALK_SHEET": str(remote_payload.PERCENTS_WALK_SHEET),
                     "PERCENTS_WALK_BOOK": str(remote_payload.PERCENTS_WALK_BOOK)}
    assert (remote_payload.PERCENTS_OVERFLOW, remote_payload.PERCENTS_VERSION, remote_payload.PERCENTS_UNKNOWN) == (
        percent_header.OVERFLOW, percent_header._VERSION, percent_header.UNKNOWN)
    # the same walk's X-Renkei-Currency (client 9): RenkeiCurrencyCells, bits by RenkeiDoubleHex
    from renkei_xl.server import currency_header

    assert {"RenkeiCurrencyCells", "RenkeiCurrencyEntry", "RenkeiDoubleHex"} <= called
    const = dict(re.findall(r'^Private Const (CURRENCY_\w+) As \w+ = "?([^"\r\n]*)"?', ours, re.M))
    assert const == {"CURRENCY_MAX": str(remote_payload.CURRENCY_MAX), "CURRENCY_OVERFLOW": currency_header.OVERFLOW,
                     "CURRENCY_VERSION": currency_header._VERSION, "CURRENCY_UNKNOWN": currency_header.UNKNOWN}
    assert (remote_payload.CURRENCY_OVERFLOW, remote_payload.CURRENCY_VERSION, remote_payload.CURRENCY_UNKNOWN) == (
        currency_header.OVERFLOW, currency_header._VERSION, currency_header.UNKNOWN)
    assert remote_payload.CURRENCY_MAX < currency_header.MAX_CHARS
    assert re.search(r'headers\.Add "X-Renkei-Percents", RenkeiPercents\(wb, exact\)\r?\n'
                     r'\s*headers\.Add "X-Renkei-Currency", exact\r?\n', _procedure(ours, "RenkeiCallServer"))


def test_the_check_of_written_cells_only_reads_and_refuses_in_the_servers_words():
    """client-125: renkeiUnprotectSheets' fifth argument (the cells the click writes values
    into) is checked by RenkeiCheckWritten before anything is lifted or written, with property
    reads alone (never SpecialCells, which Excel refuses on a protected sheet; nothing it writes,
    selects or protects), and each hit refuses the click with the server's template for its
    reason (excel.book.written_refusals), the cells listed as the server lists them
    (core.contract._places_listed: ten, then 「 ほか n か所」)."""
    from renkei_xl.core.contract import _places_listed
    from renkei_xl.excel.book import client_refusals, written_refusals

    ours = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii")
    unprotect = _procedure(ours, "renkeiUnprotectSheets")
    check = _procedure(ours, "RenkeiCheckWritten")
    assert 'RenkeiCheckWritten wb, action("args")(5), refusals' in unprotect
    assert unprotect.index("RenkeiCheckWritten") < unprotect.index("ws.Unprotect")    # before anything is lifted
    code = "\n".join(_strip_strings_and_comments(line) for line in check.splitlines())
    for refused in ("SpecialCells", "WorksheetFunction", r"\.Select\b", r"\.Activate\b", r"\.Find\b", "Protect",
                    r"^\s*[\w.()]+\.(?:Value|Formula\w*|NumberFormat)\s*=",
                    r"\.(?:Merge|UnMerge|Clear|ClearContents|Delete)\b"):
        assert not re.search(refused, code, re.M), refused
    reasons = re.search(r'reasons = Split\("([^"]*)", " "\)', check).group(1).split(" ")
    assert set(reasons) == set(written_refusals()) and set(reasons) <= set(client_refusals())
    const = dict(re.findall(r'^Private Const (WRITTEN_\w+|MSG_MORE) As \w+ = "?([^"\r\n]*)"?', ours, re.M))
    shown = int(const["WRITTEN_SHOWN"])
    more = "".join(chr(int(const["MSG_MORE"][i:i + 4], 16)) for i in range(0, len(const["MSG_MORE"]), 4))
    places = [f"P{i}" for i in range(shown + 3)]
    assert _places_listed(places) == "\u3001".join(places[:shown]) + more.replace("{0}", "3")
