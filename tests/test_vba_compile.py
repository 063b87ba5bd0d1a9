"""The master's VBA holds to the compile errors Excel raises and LibreOffice does not (qa-134).

Excel compiles the VBA project at the first click that calls into it and runs nothing of it
after one compile error: every button of the master then stops with 「コンパイル エラー」.
The LibreOffice tests (test_vba_libreoffice.py, test_vba.py, test_master_macros.py) run our
VBA in a compiler that lets a Variant through to a ByRef String parameter, or an undeclared
name through under Option Explicit. tests/vba_compile.py holds our modules, as a built master
carries them, to those rules of Excel's compiler (its docstring lists them); each rule has a
small broken module here that it must find, and the correct spelling of it that it must pass.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import pytest

import vba_compile
from renkei_xl.cli import main as cli_main
from test_vba_static import _modules
from vba_compile import _PROCEDURE, check_project, parse_units, read_signatures

SERVER = "http://127.0.0.1:9"
OURS = ("Renkei.bas", "RenkeiServer.bas")


@pytest.fixture(scope="module")
def master_modules(tmp_path_factory) -> dict[str, str]:
    """Every module of a server master, as oletools reads them back (as Excel loads them)."""
    path = tmp_path_factory.mktemp("compile") / "master.xlsm"
    assert cli_main(["init", str(path), "--sample", "fy2023", "--server", SERVER]) == 0
    return _modules(path)


def vba_syntax_errors(name: str, source: str) -> list[str]:
    """What the grammar finds wrong with a module, as ``name:line:column message``.

    Parsed a unit at a time, each with ANTLR's two-stage strategy (tests/vba_compile.parse_units,
    whose trees the compile checks of tests/test_vba_compile.py read): the declarations, then
    each procedure, every unit after the module's first line (its Attribute VB_Name) as a
    module of its own. A unit is parsed first in SLL mode, which bails out at its first
    conflict; only a unit that bails is parsed again with full LL, as ANTLR's authors
    advise. Parsing RenkeiServer.bas whole in LL took 40–50 s of CPU in the Python runtime
    (its 35-line opening comment alone 10 s: each comment line's prediction looks through
    the lines after it); a unit at a time, about half, with the same verdict (a unit cannot
    hide an error: a procedure left open ends its unit at the next one, and the error is
    reported there). Line numbers are the module's own."""
    return [error for unit in parse_units(name, source) for error in unit.errors]


@pytest.mark.parametrize("name", OURS)
def test_our_modules_parse_with_a_vba_grammar(name, master_modules, request):
    """Each module as the built master carries it (oletools reads it back as Excel loads it),
    the same text the compile checks read, so one parse (vba_compile.parse_units, cached per
    source) serves both in the one process this file runs in: they were in two files, and a
    fresh clone parsed RenkeiServer.bas twice, about 20 s of CPU each. The verdict is cached
    per source, grammar and runtime in pytest's cache: a changed module is parsed again, and a
    fresh clone or a run without the cache parses both."""
    source = master_modules[name]
    versions = "/".join(importlib.metadata.version(p) for p in ("antlr4-vba", "antlr4-python3-runtime"))
    key = f"renkei_xl/vba_grammar/{name}"
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass") + versions.encode()
                            + _PROCEDURE.pattern.encode()).hexdigest()
    cache = getattr(request.config, "cache", None)    # None under -p no:cacheprovider
    if cache is not None and cache.get(key, None) == digest:
        return
    errors = vba_syntax_errors(name, source)
    assert not errors, "\n".join(errors)
    if cache is not None:
        cache.set(key, digest)


@pytest.mark.parametrize("broken, line", [
    ("Sub A()\r\n    If x Then\r\n        y = 1\r\n    End Sub\r\n", 5),
    ("Sub A()\r\n    y = 1\r\nEnd Sub\r\n\r\nSub B()\r\n    For i = 1 To 3\r\n        y = i\r\nEnd Sub\r\n", 7),
    ("Sub A()\r\n    y = 1\r\n\r\nPrivate Function B() As Long\r\n    B = 1\r\nEnd Function\r\n", 5),
    ("Option Explicit\r\nPrivate Const X As = 1\r\n\r\nSub A()\r\nEnd Sub\r\n", 3),
    ("Sub A()\r\n    y = 1\r\nEnd Sub\r\nDim z As Long\r\n", 5),
    ("Sub A()\r\n    B(1, 2)\r\nEnd Sub\r\nSub B(x, y)\r\nEnd Sub\r\n", 3),
], ids=["if without end if", "for without next in a later sub", "sub left open", "broken declaration",
        "declaration after a procedure", "sub called with parentheses (Expected: =)"])
def test_the_grammar_finds_a_broken_module(broken, line):
    """The parser really rejects VBA that Excel rejects (so the test above can fail), in any
    unit, and names the module's own line."""
    errors = vba_syntax_errors("X.bas", 'Attribute VB_Name = "X"\r\n' + broken)
    assert errors and any(e.startswith(f"X.bas:{line}:") for e in errors), errors


LOOPS = ("Sub A()\r\n"
         "    For i = 1 To 2\r\n        x = i\r\n    Next\r\n"
         "    For i = 1 To 2: x = i: Next i\r\n"
         "    For i = 1 To 2\r\n        For j = 1 To 2\r\n            If j = 2 Then Exit For\r\n"
         "        Next j, i\r\n"
         "    For Each v In c\r\n        For Each w In v\r\n            x = w\r\n        Next\r\n    Next v\r\n"
         "    If x Then For i = 1 To 2: x = i: Next i Else x = 0\r\n"
         "    For i = 1 To 2 ' For\r\n        Open f For Input As #1\r\n    Next i ' Next\r\n"
         "    For i = 1 To 2\r\n"
         "L1: For j = 1 To 2\r\n        Next\r\n    Next i\r\n"
         "    If TypeOf Selection Is Range Then x = 1\r\n"
         "    If TypeOf c.Parent Is Workbook Then x = 1 Else x = c Is Nothing\r\n"
         "End Sub\r\n"
         "Sub B()\r\n    For i = 1 To 2\r\n        x = i\r\n    Next j, i\r\nEnd Sub\r\n"
         "Sub C()\r\n    For i = 1 To 2\r\n        x = i\r\nEnd Sub\r\n")


def test_the_first_stage_builds_the_trees_of_antlrs_own_ll_parse():
    """vba_compile's first stage predicts For and For Each loops by their `Next` and the other
    decisions from their caller: its trees and errors must be the ones of ANTLR's own LL parse
    of each unit (a guess that does not hold bails to LL), for every form of loop, a broken one
    among them (Sub B's `Next j, i` closing one loop, Sub C's For without Next: only the LL
    stage reports them). Sub A parses in the first stage, its TypeOf ... Is too (plain SLL read
    `Selection Is Range` as a comparison and bailed: xlwings' RunServerPython, parsed again in
    LL, was most of test_the_masters_vba_has_none_of_excels_compile_errors' CPU)."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.atn.PredictionMode import PredictionMode
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    source = 'Attribute VB_Name = "X"\r\n' + LOOPS
    lines = source.split("\r\n")
    units = vba_compile._parse_units("X.bas", source)
    assert [bool(unit.errors) for unit in units] == [False, True, True]
    assert [unit.second_stage for unit in units] == [False, True, True]
    for unit, end in zip(units, [*(u.start for u in units[1:]), len(lines)]):
        lexer = vbaLexer(InputStream("\r\n".join([lines[0], *lines[unit.start:end]]) + "\r\n"))
        lexer.removeErrorListeners()
        parser = vbaParser(CommonTokenStream(lexer))
        parser.removeErrorListeners()
        parser._interp.predictionMode = PredictionMode.LL
        tree = parser.startRule()
        assert unit.tree.toStringTree(recog=parser) == tree.toStringTree(recog=parser)
        assert bool(unit.errors) == (parser.getNumberOfSyntaxErrors() > 0)


def _split(modules: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    return ({n: s for n, s in modules.items() if n in OURS},
            {n: s for n, s in modules.items() if n not in OURS})


def test_the_masters_vba_has_none_of_excels_compile_errors(master_modules, request):
    """Renkei.bas and RenkeiServer.bas whole; xlwings' modules as signatures, and their
    procedures that call ours (renkei_xl.vba.sources writes those calls) for those calls.
    The verdict is cached in pytest's cache per module text, checker and grammar."""
    ours, theirs = _split(master_modules)
    assert set(ours) == set(OURS) and {"xlwings.bas", "Remote.bas", "WebClient.cls"} <= set(theirs)
    versions = "/".join(importlib.metadata.version(p) for p in ("antlr4-vba", "antlr4-python3-runtime"))
    digest = hashlib.sha256()
    for name in sorted(master_modules):
        digest.update(name.encode() + b"\0" + master_modules[name].encode("utf-8", "surrogatepass") + b"\0")
    digest.update(Path(vba_compile.__file__).read_bytes() + versions.encode())
    key, cache = "renkei_xl/vba_compile/master", getattr(request.config, "cache", None)
    if cache is not None and cache.get(key, None) == digest.hexdigest():
        return
    findings = check_project(ours, theirs)
    assert not findings, "\n".join(findings)
    if cache is not None:
        cache.set(key, digest.hexdigest())


# A module of another's (as xlwings' are to ours): read for its signatures only.
THEIRS = {
    "Lib.bas": 'Attribute VB_Name = "Lib"\r\nOption Explicit\r\nPublic Enum Colour\r\n    Red = 1\r\nEnd Enum\r\n'
               "Public Const LIMIT As Long = 3\r\n"
               "Function Takes(ByVal a As Long, b As String, Optional c As Long) As String\r\nEnd Function\r\n"
               "Private Function Hidden() As Long\r\nEnd Function\r\n"
               "Sub Many(ParamArray values() As Variant)\r\nEnd Sub\r\n",
    "Client.cls": 'VERSION 1.0 CLASS\r\nAttribute VB_Name = "Client"\r\nPublic Timeout As Long\r\n'
                  "Public Property Get Url() As String\r\nEnd Property\r\n"
                  "Public Property Let Url(ByVal value As String)\r\nEnd Property\r\n"
                  "Public Function Run(ByVal x As Long) As Long\r\nEnd Function\r\n",
}

# (what Excel says, a module it refuses, the same module as Excel compiles it)
CASES = {
    "byref variant to string": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim v As Variant\r\n    Debug.Print Takes(1, v)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim v As Variant\r\n    Debug.Print Takes(1, CStr(v))\r\n    Debug.Print Takes(v, (v))\r\nEnd Sub\r\n"),
    "byref long to integer": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim n As Long\r\n    B n\r\nEnd Sub\r\nSub B(i As Integer)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim n As Integer\r\n    B n\r\nEnd Sub\r\nSub B(i As Integer)\r\nEnd Sub\r\n"),
    "byref untyped is a variant": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim s, t As String\r\n    B s\r\nEnd Sub\r\nSub B(s As String)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim s As String, t As String\r\n    B s\r\nEnd Sub\r\nSub B(s As String)\r\nEnd Sub\r\n"),
    "byref array element": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim a(1 To 2) As Variant\r\n    B a(1)\r\nEnd Sub\r\nSub B(s As String)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim a(1 To 2) As String\r\n    B a(1)\r\n    B a(1) & \"\"\r\nEnd Sub\r\nSub B(s As String)\r\nEnd Sub\r\n"),
    "byref typed array": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim a() As Long\r\n    B a\r\nEnd Sub\r\nSub B(s() As String)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim a() As String\r\n    B a\r\nEnd Sub\r\nSub B(s() As String)\r\nEnd Sub\r\n"),
    "byref object type": (
        "ByRef argument type mismatch",
        "Sub A()\r\n    Dim w As Worksheet\r\n    B w\r\nEnd Sub\r\nSub B(r As Range)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim w As Worksheet, v As Long\r\n    B w.Range(\"A1\")\r\n    C w, v\r\nEnd Sub\r\n"
        "Sub B(r As Range)\r\nEnd Sub\r\nSub C(w As Worksheet, ByVal s As String)\r\nEnd Sub\r\n"),
    "duplicate local": (
        "Duplicate declaration in current scope",
        "Sub A(x As Long)\r\n    Dim x As Long\r\nEnd Sub\r\n",
        "Sub A(x As Long)\r\n    Dim y As Long\r\nEnd Sub\r\n"),
    "a const named as a variable": (
        "Duplicate declaration in current scope",
        "Function F() As Long\r\n    Dim y As Long, z As Long\r\n    Const z = 1\r\nEnd Function\r\n",
        "Function F() As Long\r\n    Dim y As Long\r\n    Const z = 1\r\nEnd Function\r\n"),
    "duplicate function name": (
        "Duplicate declaration in current scope",
        "Function F() As Long\r\n    Dim F As Long\r\nEnd Function\r\n",
        "Function F() As Long\r\n    F = 1\r\nEnd Function\r\n"),
    "duplicate module variable": (
        "Duplicate declaration in current scope",
        "Private z As Long\r\nPrivate Const z As Long = 1\r\n",
        "Private z As Long\r\nPrivate Const y As Long = 1\r\n"),
    "a module variable named as a procedure": (
        "Duplicate declaration in current scope",
        "Private Const A As Long = 1\r\nSub A()\r\nEnd Sub\r\n",
        "Private Const K As Long = 1\r\nSub A()\r\n    Dim A2 As Long\r\nEnd Sub\r\n"),
    "two procedures of one name": (
        "Ambiguous name detected",
        "Sub A()\r\nEnd Sub\r\nPrivate Function A() As Long\r\nEnd Function\r\n",
        "Property Get A() As Long\r\nEnd Property\r\nProperty Let A(ByVal v As Long)\r\nEnd Property\r\n"),
    "variable not defined": (
        "Variable not defined",
        "Sub A()\r\n    Dim total As Long\r\n    totl = 1\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim total As Long\r\n    total = LIMIT + Red + Len(\"a\") + vbCritical\r\nEnd Sub\r\n"),
    "used before its dim": (
        "Variable not defined",
        "Sub A()\r\n    total = 1\r\n    Dim total As Long\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim total As Long\r\n    total = 1\r\nEnd Sub\r\n"),
    "sub not defined": (
        "Sub or Function not defined",
        "Sub A()\r\n    Nope 1\r\nEnd Sub\r\n",
        "Sub A()\r\n    Many 1, 2, 3\r\nEnd Sub\r\n"),
    "private of another module": (
        "Sub or Function not defined",
        "Sub A()\r\n    Debug.Print Hidden()\r\nEnd Sub\r\n",
        "Sub A()\r\n    Debug.Print Takes(1, \"a\")\r\nEnd Sub\r\n"),
    "function not defined": (
        "Sub or Function not defined",
        "Function A() As Long\r\n    A = Nope(1)\r\nEnd Function\r\n",
        "Function A() As Long\r\n    A = Len(\"1\")\r\nEnd Function\r\n"),
    "an argument too many": (
        "Wrong number of arguments",
        "Sub A()\r\n    Debug.Print Takes(1, \"a\", 2, 3)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Debug.Print Takes(1, \"a\", 2)\r\nEnd Sub\r\n"),
    "argument not optional": (
        "Argument not optional",
        "Sub A()\r\n    Debug.Print Takes(1)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Debug.Print Takes(1, b:=\"a\")\r\nEnd Sub\r\n"),
    "vba's function short of an argument": (
        "Argument not optional: Mid",
        "Function A(s As String) As String\r\n    A = Mid(s)\r\nEnd Function\r\n",
        "Function A(s As String) As String\r\n    A = Mid(s, 2) & Mid(s, 1, 1) & Left(s, 1)\r\nEnd Function\r\n"),
    "vba's function given one too many": (
        "Wrong number of arguments",
        "Sub A()\r\n    MsgBox Left(\"ab\", 1, 2), vbCritical\r\nEnd Sub\r\n",
        "Sub A()\r\n    MsgBox Left(\"ab\", 1), vbCritical, , \"h\", 1\r\nEnd Sub\r\n"),
    "named argument not found": (
        "Named argument not found",
        "Sub A()\r\n    Debug.Print Takes(1, \"a\", d:=2)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Debug.Print Takes(1, \"a\", c:=2)\r\nEnd Sub\r\n"),
    "sub used for a value": (
        "Expected Function or variable",
        "Sub A()\r\n    Dim n As Long\r\n    n = B(1)\r\nEnd Sub\r\nSub B(ByVal x As Long)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim n As Long\r\n    B 1\r\n    Call B(n)\r\nEnd Sub\r\nSub B(ByVal x As Long)\r\nEnd Sub\r\n"),
    "a sub assigned": (
        "Expected Function or variable",
        "Sub A()\r\n    B = 1\r\nEnd Sub\r\nSub B()\r\nEnd Sub\r\n",
        "Function A() As Long\r\n    A = 1\r\nEnd Function\r\n"),
    "another function assigned": (
        "Function call on left side of assignment must return Variant or Object",
        "Function A() As Long\r\n    A = 1\r\nEnd Function\r\nSub B()\r\n    A = 2\r\nEnd Sub\r\n",
        "Function A() As Long\r\n    A = 1\r\nEnd Function\r\nSub B()\r\n    Dim n As Long\r\n    n = A\r\nEnd Sub\r\n"),
    "a scalar indexed": (
        "Expected array",
        "Sub A()\r\n    Dim left As Long\r\n    Debug.Print Left(\"ab\", 1)\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim first As Long\r\n    Debug.Print Left(\"ab\", 1)\r\nEnd Sub\r\n"),
    "set into a string": (
        "Object required",
        "Sub A()\r\n    Dim s As String\r\n    Set s = ActiveSheet\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim s As Object\r\n    Set s = ActiveSheet\r\nEnd Sub\r\n"),
    "set from a literal": (
        "Object required",
        "Sub A()\r\n    Dim r As Range\r\n    Set r = 5\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim r As Range\r\n    Set r = Nothing\r\nEnd Sub\r\n"),
    "nothing without set": (
        "Invalid use of object",
        "Sub A()\r\n    Dim r As Range\r\n    r = Nothing\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim r As Range\r\n    Set r = Nothing\r\nEnd Sub\r\n"),
    "new without set": (
        "Invalid use of object",
        "Sub A()\r\n    Dim c As Collection\r\n    c = New Collection\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim c As Collection\r\n    Set c = New Collection\r\nEnd Sub\r\n"),
    "set from a string function": (
        "Type mismatch",
        "Sub A()\r\n    Dim r As Object\r\n    Set r = Takes(1, \"a\")\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim r As Object\r\n    Set r = G()\r\nEnd Sub\r\nFunction G() As Object\r\nEnd Function\r\n"),
    "set from a long": (
        "Type mismatch",
        "Sub A()\r\n    Dim r As Object, n As Long\r\n    Set r = n\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim r As Object, n As Object\r\n    Set r = n\r\nEnd Sub\r\n"),
    "const assigned": (
        "Assignment to constant not permitted",
        "Private Const K As Long = 1\r\nSub A()\r\n    K = 2\r\nEnd Sub\r\n",
        "Private Const K As Long = 1\r\nSub A()\r\n    Dim k2 As Long\r\n    k2 = K\r\nEnd Sub\r\n"),
    "another module's const assigned": (
        "Assignment to constant not permitted",
        "Sub A()\r\n    LIMIT = 2\r\nEnd Sub\r\n",
        "Sub A()\r\n    Debug.Print LIMIT\r\nEnd Sub\r\n"),
    "const as a for variable": (
        "Assignment to constant not permitted",
        "Sub A()\r\n    Const i As Long = 1\r\n    For i = 1 To 2\r\n    Next i\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim i As Long\r\n    For i = 1 To 2\r\n    Next i\r\nEnd Sub\r\n"),
    "const from a function": (
        "Constant expression required",
        "Private Const L As String = Chr(34)\r\n",
        "Private Const Q As String = \"a\"\r\nPrivate Const L As String = Q & \"b\" & vbLf\r\n"),
    "local const from a variable": (
        "Constant expression required",
        "Sub A()\r\n    Dim n As Long\r\n    Const P As Long = n + 1\r\nEnd Sub\r\n",
        "Sub A()\r\n    Const n As Long = 2\r\n    Const P As Long = n + LIMIT\r\nEnd Sub\r\n"),
    "fixed array bound": (
        "Constant expression required",
        "Sub A()\r\n    Dim n As Long\r\n    Dim a(1 To n) As Long\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim n As Long\r\n    Dim a() As Long\r\n    ReDim a(1 To n)\r\nEnd Sub\r\n"),
    "label not defined": (
        "Label not defined",
        "Sub A()\r\n    On Error GoTo Failed\r\n    Exit Sub\r\nFaild:\r\nEnd Sub\r\n",
        "Sub A()\r\n    On Error GoTo Failed\r\n    On Error GoTo 0\r\n    Exit Sub\r\nFailed:\r\n    Resume Next\r\nEnd Sub\r\n"),
    "label of another procedure": (
        "Label not defined",
        "Sub A()\r\n    GoTo Done\r\nEnd Sub\r\nSub B()\r\nDone:\r\nEnd Sub\r\n",
        "Sub A()\r\n    GoTo Done\r\nDone:\r\nEnd Sub\r\nSub B()\r\nDone:\r\nEnd Sub\r\n"),
    "duplicate label": (
        "Duplicate label",
        "Sub A()\r\nDone:\r\nDone:\r\nEnd Sub\r\n",
        "Sub A()\r\nDone:\r\nEnd Sub\r\n"),
    "for each over an array": (
        "For Each control variable on arrays must be Variant",
        "Sub A()\r\n    Dim a(1 To 2) As Object, o As Object\r\n    For Each o In a\r\n    Next o\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim a(1 To 2) As Object, o As Variant\r\n    For Each o In a\r\n    Next o\r\nEnd Sub\r\n"),
    "for each over split": (
        "For Each control variable on arrays must be Variant",
        "Sub A()\r\n    Dim w As Object\r\n    For Each w In Split(\"a b\")\r\n    Next w\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim w As Variant\r\n    For Each w In Split(\"a b\")\r\n    Next w\r\nEnd Sub\r\n"),
    "for each over a paramarray": (
        "For Each control variable on arrays must be Variant",
        "Sub A(ParamArray p() As Variant)\r\n    Dim o As Object\r\n    For Each o In p\r\n    Next o\r\nEnd Sub\r\n",
        "Sub A(ParamArray p() As Variant)\r\n    Dim o As Variant\r\n    For Each o In p\r\n    Next o\r\nEnd Sub\r\n"),
    "for each with a string": (
        "For Each control variable must be Variant or Object",
        "Sub A()\r\n    Dim s As String, c As New Collection\r\n    For Each s In c\r\n    Next s\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim s As Range, c As New Collection\r\n    For Each s In c\r\n    Next s\r\nEnd Sub\r\n"),
    "member of a class": (
        "Method or data member not found",
        "Sub A()\r\n    Dim c As New Client\r\n    c.Urll = \"x\"\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim c As New Client\r\n    c.Url = \"x\"\r\n    c.Timeout = c.Run(1)\r\nEnd Sub\r\n"),
    "member of an excel object": (
        "Method or data member not found: wb.MultiUserEdit",
        "Function A(wb As Workbook) As Boolean\r\n    On Error Resume Next\r\n    A = wb.MultiUserEdit\r\nEnd Function\r\n",
        "Function A(wb As Workbook) As Boolean\r\n    On Error Resume Next\r\n    A = wb.MultiUserEditing\r\nEnd Function\r\n"),
    "member in a with block": (
        "Method or data member not found: .FreezePane",
        "Sub A(ws As Worksheet)\r\n    With ActiveWindow\r\n        .FreezePane = False\r\n    End With\r\n"
        "    With ws.UsedRange\r\n        Debug.Print .Rows.Count\r\n    End With\r\nEnd Sub\r\n",
        "Sub A(ws As Worksheet)\r\n    With ActiveWindow\r\n        .FreezePanes = False\r\n    End With\r\n"
        "    With ws.UsedRange\r\n        Debug.Print .Rows.Count\r\n    End With\r\nEnd Sub\r\n"),
    "member of a range in a with block": (
        "Method or data member not found: .Rowz",
        "Sub A(ws As Worksheet)\r\n    With ws.UsedRange\r\n        Debug.Print .Rowz.Count\r\n    End With\r\nEnd Sub\r\n",
        "Sub A(ws As Worksheet)\r\n    With ws.Protection\r\n        Debug.Print .AllowSorting\r\n    End With\r\nEnd Sub\r\n"),
    "member past a member": (
        "Method or data member not found: cell.MergeArea.Rowz",
        "Sub A(cell As Range, ws As Worksheet)\r\n    Debug.Print cell.MergeArea.Rowz.Count, ws.Cells(1, 1).Value\r\nEnd Sub\r\n",
        "Sub A(cell As Range, ws As Worksheet)\r\n    Debug.Print cell.MergeArea.Rows.Count, ws.Cells(1, 1).Value\r\nEnd Sub\r\n"),
    "member of an indexed range": (
        "Method or data member not found: ws.Cells(1, 1).Valu",
        "Sub A(ws As Worksheet)\r\n    ws.Cells(1, 1).Valu = 1\r\nEnd Sub\r\n",
        "Sub A(ws As Worksheet)\r\n    ws.Cells(1, 1).Value = 1\r\n    ws.Parent.Anything = 1\r\nEnd Sub\r\n"),
    "member of a font and a border": (
        "Method or data member not found: rng.Borders(9).LineStyl",
        "Sub A(rng As Range)\r\n    rng.Font.Bold = True\r\n    rng.Borders(9).LineStyl = 1\r\nEnd Sub\r\n",
        "Sub A(rng As Range)\r\n    rng.Font.Bold = True\r\n    rng.Borders(9).LineStyle = 1\r\nEnd Sub\r\n"),
    "named argument of excel's method": (
        "Named argument not found: AllowFormatingCells of ws.Protect",
        "Sub A(ws As Worksheet)\r\n    ws.Protect Contents:=True, AllowFormatingCells:=True\r\nEnd Sub\r\n",
        "Sub A(ws As Worksheet, rng As Range)\r\n    Dim fc As Object\r\n    ws.Protect Contents:=True, AllowFormattingCells:=True\r\n"
        "    Set fc = rng.FormatConditions.Add(Type:=1, Operator:=3, Formula1:=\"1\")\r\nEnd Sub\r\n"),
    "type not defined": (
        "User-defined type not defined",
        "Sub A()\r\n    Dim c As Clent\r\nEnd Sub\r\n",
        "Sub A()\r\n    Dim c As Client, k As Colour, d As Date\r\nEnd Sub\r\n"),
}


@pytest.mark.parametrize("message, broken, compiles", CASES.values(), ids=list(CASES))
def test_each_check_finds_its_broken_module_and_passes_the_mended_one(message, broken, compiles):
    head = 'Attribute VB_Name = "X"\r\nOption Explicit\r\n'
    found = check_project({"X.bas": head + broken}, THEIRS)
    assert any(message in f for f in found), found
    assert all(f.startswith("X.bas:") for f in found), found
    mended = check_project({"X.bas": head + compiles}, THEIRS)
    assert not mended, mended


def test_without_option_explicit_an_undeclared_name_is_a_variable():
    """Variable not defined is Option Explicit's; a call of an unknown Sub is refused either way."""
    found = check_project({"X.bas": 'Attribute VB_Name = "X"\r\nSub A()\r\n    total = 1\r\n    Nope\r\nEnd Sub\r\n'}, {})
    assert [f.split(" ", 1)[1] for f in found] == ["Sub or Function not defined: Nope"]


def test_xlwings_modules_are_read_for_what_our_calls_need(master_modules):
    """The signatures our calls are checked against, read from the master's own xlwings
    modules: a reader that found nothing would let every call through."""
    theirs = {n: s for n, s in master_modules.items() if n not in OURS}
    xlwings = read_signatures("xlwings.bas", theirs["xlwings.bas"])
    get_config = xlwings.procs["getconfig"][0]
    assert [(p.name, p.type, p.byval, p.optional) for p in get_config.params] == [
        ("configKey", "string", False, False), ("default", "string", False, True), ("source", "string", False, True)]
    remote = read_signatures("Remote.bas", theirs["Remote.bas"])
    assert "headers" in [p.name for p in remote.procs["runserverpython"][0].params]
    assert [(p.type, p.byval) for p in remote.procs["hextorgb"][0].params] == [("string", True)]
    helpers = read_signatures("WebHelpers.bas", theirs["WebHelpers.bas"])
    assert {"webmethod", "webformat"} <= helpers.types and {"httppost", "json"} <= helpers.public
    client = read_signatures("WebClient.cls", theirs["WebClient.cls"])
    assert {"proxyserver", "insecure", "followredirects", "execute", "timeoutms"} <= client.members


def test_calls_of_ours_into_xlwings_and_back_are_checked_against_the_masters_modules(master_modules):
    """A wrong call of ours into xlwings (GetConfig's key is a ByRef String), a member
    WebClient lacks, and a call renkei_xl.vba.sources wrote into xlwings' module that no
    longer fits ours are found, in the modules the master really carries."""
    ours, theirs = _split(master_modules)
    planted = ("Sub RenkeiPlanted()\r\n    Dim key As Variant, client As New WebClient\r\n"
               "    Debug.Print GetConfig(key)\r\n    client.proxyServr = \"x\"\r\n    RunPython\r\nEnd Sub\r\n")
    ours["Renkei.bas"] = ours["Renkei.bas"].replace("Sub RenkeiCheck()", planted + "\r\nSub RenkeiCheck()", 1)
    ours["Renkei.bas"] = ours["Renkei.bas"].replace(
        "Public Function RenkeiNoPython(ByVal interpreter As String)", "Public Function RenkeiNoPython(ByVal interpreter As String, ByVal more As String)")
    del ours["RenkeiServer.bas"]     # not needed here, and the longest to parse
    theirs = {n: s for n, s in theirs.items() if n != "Remote.bas"}
    found = "\n".join(check_project(ours, theirs))
    assert "ByRef argument type mismatch: key (variant) to configKey As string of GetConfig" in found, found
    assert "Method or data member not found: client.proxyServr (WebClient)" in found, found
    assert "Argument not optional: PythonCommand of RunPython" in found, found
    assert "xlwings.bas:" in found and "Argument not optional: more of RenkeiNoPython" in found, found
