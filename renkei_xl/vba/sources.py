"""Where the master workbook's VBA comes from: our button macros and xlwings' own modules.

xlwings' modules are read from the installed xlwings at build time, so the VBA in the
workbook always matches the Python package that answers its ``RunPython`` calls
(``Book.caller()`` fails when the two versions differ).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import re
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..core.contract import BUTTONS as CONTRACT_BUTTONS
from ..core.errors import UserError
from .project import CHART_BASE, CODEPAGE, WORKBOOK_BASE, Module, build_vba_project, is_identifier


def _macros_dir() -> Path:
    """The folder of our ``*.bas`` modules. Their one copy is the repository's top-level
    ``macros/``; a wheel carries it as ``renkei_xl/vba/macros/`` (setup.cfg's package_dir),
    so an installed tool finds it beside this module, and a checkout (an editable install,
    or PYTHONPATH) two folders up, where the source is. Not importlib.resources: the import
    hook of setuptools' editable install cannot import a mapped folder that has no
    ``__init__.py`` (ModuleNotFoundError), and a wheel installs as plain files anyway."""
    installed = Path(__file__).with_name("macros")
    return installed if (installed / "Renkei.bas").is_file() else Path(__file__).resolve().parents[2] / "macros"


MACROS_DIR = _macros_dir()
# The button macros of macros/Renkei.bas and the captions of their buttons, as
# (macro, caption), derived from the one list in renkei_xl.core.contract.
BUTTONS: tuple[tuple[str, str], ...] = tuple((macro, caption) for caption, macro, _ in CONTRACT_BUTTONS)
_VB_NAME = re.compile(r'^Attribute VB_Name = "([^"]*)"', re.MULTILINE)


def our_modules(macros_dir: str | Path | None = None) -> list[Module]:
    """Every ``*.bas`` of the macros folder (MACROS_DIR), by file name."""
    folder = Path(macros_dir) if macros_dir is not None else MACROS_DIR
    return [_read_module(path, "standard") for path in sorted(folder.glob("*.bas"))]


# Renkei.bas names the server it was written for here; "" is this PC.
_BUILT_FOR_SERVER = 'Private Const BUILT_FOR_SERVER As String = ""'
_SERVER_URL = re.compile(r"https?://[!#-~]+")   # printable ASCII, no space, no double quote


def with_server(modules: Sequence[Module], server: Optional[str]) -> list[Module]:
    """The button module naming ``server`` as the one it was built for, so the VBA itself
    says where its buttons go (the xlwings.conf row still decides when present)."""
    if not server:
        return list(modules)
    if not _SERVER_URL.fullmatch(server):
        raise UserError(f"サーバーの URL「{server}」はマクロに書けません（半角の http:// または https:// で始まる URL）")
    out = []
    for m in modules:
        if m.name == "Renkei":
            if _BUILT_FOR_SERVER not in m.source:
                raise RuntimeError("Renkei.bas lost its BUILT_FOR_SERVER line")
            m = dataclasses.replace(m, source=m.source.replace(_BUILT_FOR_SERVER, _BUILT_FOR_SERVER[:-2] + f'"{server}"'))
        out.append(m)
    return out


def xlwings_modules() -> list[Module]:
    """The modules ``xlwings quickstart --standalone`` embeds: ``xlwings.bas`` and the
    ``Dictionary`` class it needs on the Mac (see ``xlwings/cli.py``). RunPython's boxes for
    a Python that does not start or stops with an error say it in Japanese (_japanese_boxes)."""
    root = _xlwings_root()
    return [_japanese_boxes(_read_module(root / "xlwings.bas", "standard")),
            _read_module(root / "addin" / "Dictionary.cls", "class")]


# xlwings' own VBA client for a server, as ``xlwings release`` imports it into a standalone
# workbook (xlwings/cli.py, import_remote_modules): RunServerPython and the replay of the
# actions (Remote), and VBA-Web's HTTP client and JSON converter it needs.
REMOTE_MODULES = (("Remote.bas", "standard"), ("IWebAuthenticator.cls", "class"), ("WebClient.cls", "class"),
                  ("WebRequest.cls", "class"), ("WebResponse.cls", "class"), ("WebHelpers.bas", "standard"))
# Renkei.bas: ``Sub RenkeiRecalc()`` whose body is ``RenkeiRun "recalc"``.
_BUTTON_SUB = re.compile(r'^Sub (\w+)\(\)\r?\n\s*RenkeiRun "(\w+)"\r?\nEnd Sub', re.MULTILINE)


def remote_modules() -> list[Module]:
    """xlwings' VBA client for a server (REMOTE_MODULES), from the installed xlwings: the
    buttons call it when the xlwings.conf sheet names a server (RENKEI_SERVER), so every
    master carries it and IT can switch a master without rebuilding it. Its refusal boxes
    get the tool's Japanese title, and the box for no answer Japanese text
    (_japanese_boxes)."""
    root = _xlwings_root() / "addin"
    return [_japanese_boxes(_read_module(root / name, kind)) for name, kind in REMOTE_MODULES]


# RunServerPython shows every answer that is not 200 (each refusal of the server, in staff's
# Japanese) in a box titled "Error". The title becomes the one RenkeiServer.bas gives its
# own boxes (RenkeiTitle), which every master carries beside Remote; the text stays the
# server's. Replaced where found: an xlwings that words it otherwise keeps its own title
# (tests/test_master_macros.py says so), it does not stop a master being built.
_ERROR_TITLE = 'vbCritical, "Error"'
_OUR_TITLE = "vbCritical, RenkeiTitle()"
# The box for an answer without text: VBA-Web's WebClient answers a server that is down, a
# name not resolved or a timeout with a 408 of its own, which Remote.bas showed as
# 「Request Timeout: … (408)」 in English; RenkeiServer.bas' RenkeiNoAnswer says it in Japanese.
_STATUS_BOX = 'MsgBox myResponse.StatusDescription & " (" & myResponse.StatusCode & ")"'
_OUR_STATUS_BOX = "MsgBox RenkeiNoAnswer(url, myResponse.StatusCode, myResponse.StatusDescription)"
# The box for an answer with text: the server's refusals as they are, anything else (a proxy's
# page, another server's JSON) in Japanese (RenkeiServerSaid), where Remote.bas showed it raw.
_CONTENT_BOX = "MsgBox myResponse.Content, vbCritical"
_OUR_CONTENT_BOX = ("MsgBox RenkeiServerSaid(url, myResponse.StatusCode, myResponse.StatusDescription, "
                    "myResponse.Headers, myResponse.Content), vbCritical")


# RunPython's boxes (xlwings.bas), which staff met in English under the title "Error" when the
# Python that xlwings.conf names is missing, lacks renkei_xl or xlwings, or stops with a
# traceback before buttons.py could show its own message: Renkei.bas' RenkeiNoPython,
# RenkeiNoRunPython (the Mac's AppleScript not installed) and RenkeiPythonFailed (the text
# Python wrote to stderr, under a sentence saying what to do) give the Japanese text.
_XLWINGS_BOXES = (
    ('MsgBox "Could not find Interpreter!", vbCritical', "MsgBox RenkeiNoPython(PYTHON_WIN), vbCritical, RenkeiTitle()"),
    ("MsgBox \"To enable RunPython, please run 'xlwings runpython install' in a terminal once and try again.\", "
     "vbCritical", "MsgBox RenkeiNoRunPython(), vbCritical, RenkeiTitle()"),
    ("Content = ReadFile(FileName)", "Content = RenkeiPythonFailed(ReadFile(FileName))"),
    ('"Press Ctrl+C to copy this message to the clipboard."', "RenkeiCopyHint()"),
    ('WScript.Popup Content, AUTO_DISMISS, "Error", OK_BUTTON_ERROR',
     "WScript.Popup Content, AUTO_DISMISS, RenkeiTitle(), OK_BUTTON_ERROR"),
    ('MsgBox Content, vbCritical, "Error"', "MsgBox Content, vbCritical, RenkeiTitle()"),
)
# Each xlwings module's English texts and what replaces them, found by exact text: an xlwings
# that words one otherwise keeps its own box there (tests/test_master_macros.py fails on it),
# it does not stop a master being built.
_JAPANESE_BOXES = {"Remote": ((_STATUS_BOX, _OUR_STATUS_BOX), (_CONTENT_BOX, _OUR_CONTENT_BOX), (_ERROR_TITLE, _OUR_TITLE)),
                   "xlwings": _XLWINGS_BOXES}


# Where RunServerPython is in a click, for RenkeiServer.bas' RenkeiFailure: RenkeiPreparing on its
# first line, RenkeiSending just before WebClient.Execute. An error between them (the payload code
# meeting a table whose style is none: TableStyle.Name, error 424) was read as an answer the server
# or a proxy spoiled, and reported to a server that never saw the click. Both calls or neither: with
# one alone every error would read as met before sending, or none would ever be.
_STAGES = {"Remote": (("    Set wb = ActiveWorkbook\r\n", "    Set wb = ActiveWorkbook\r\n    RenkeiPreparing\r\n"),
                      ("    Set myResponse = myClient.Execute(myRequest)\r\n",
                       "    RenkeiSending myRequest\r\n    Set myResponse = myClient.Execute(myRequest)\r\n"))}


def _japanese_boxes(module: Module) -> Module:
    source = module.source
    for english, ours in _JAPANESE_BOXES.get(module.name, ()):
        source = source.replace(english, ours)
    stages = _STAGES.get(module.name, ())
    if stages and all(source.count(line) == 1 for line, _ in stages):
        for line, ours in stages:
            source = source.replace(line, ours)
    return module if source == module.source else dataclasses.replace(module, source=source)


@functools.lru_cache(maxsize=1)
def shipped_replayable() -> frozenset[str]:
    """What the VBA this installation writes into a master can replay (renkei_xl.vba.read):
    a look that a master's own VBA lacks but this set holds comes back with upgrade-macros."""
    from .read import replayable_actions

    return replayable_actions([*our_modules(), *remote_modules()])


def button_entries() -> dict[str, str]:
    """Each button macro ("Renkei.RenkeiRecalc") -> its entry point in
    renkei_xl.excel.buttons ("recalc"), as Renkei.bas names them: the one place that
    says which Python function a button runs, locally (RunPython) and on the server."""
    source = (MACROS_DIR / "Renkei.bas").read_bytes().decode("cp1252")
    return {f"Renkei.{sub}": entry for sub, entry in _BUTTON_SUB.findall(source)}


def _xlwings_root() -> Path:
    spec = importlib.util.find_spec("xlwings")  # locate without importing (~0.5 s)
    if spec is None or spec.origin is None:
        raise RuntimeError("xlwings is not installed")
    return Path(spec.origin).parent


def master_project(sheet_code_names: Sequence[str], workbook_code_name: str = "ThisWorkbook",
                   server: Optional[str] = None, kept: Sequence[Module] = (), codepage: int = CODEPAGE,
                   chart_code_names: Sequence[str] = (), stored: Optional[Mapping[bytes, bytes]] = None) -> bytes:
    """The vbaProject.bin of the master: the workbook's, sheets' and chart sheets' document
    modules (Excel binds them by code name), then our button macros (naming ``server`` when
    the master is built for one) and xlwings (with its client for a server). ``kept``: staff's
    own code that upgrade-macros carries over (renkei_xl.vba.carry), a document module's
    in place of the empty one of its name, other modules after ours, in ``codepage``.
    ``stored``: a saved project's streams (vba.read.stored_streams), taken as they are where
    this one's would hold the same bytes."""
    key = (tuple(sheet_code_names), workbook_code_name, server, tuple(kept), codepage, tuple(chart_code_names))
    if stored:
        return build_vba_project(_master_modules(*key), codepage, stored)
    return _master_project(*key)


def tool_module_names() -> frozenset[str]:
    """The modules every master of this installation carries, in lower case (VBA's names are
    not case-sensitive): upgrade-macros replaces these, and keeps any other."""
    return frozenset(m.name.lower() for m in [*our_modules(), *xlwings_modules(), *remote_modules()])


def own_project_with(data: bytes, before: Sequence[str], after: Sequence[str],
                     servers: Sequence[Optional[str]]) -> Optional[bytes]:
    """``data`` rebuilt with a document module for each sheet code name of ``after``, when
    ``data`` is exactly the project this installation writes for the sheets ``before``
    (for one of ``servers``); None otherwise. A project Excel has saved, or staff have
    edited, is not rebuilt: what it holds cannot be told apart here, and Excel itself adds
    the document module of a sheet with a code name when it next saves the book.

    Kept per (project bytes, sheets, servers): every master this installation builds for
    the same sheets carries the same project, byte for byte, and reading it decompresses
    all its streams in Python (vba.read.stored_streams, ~0.05 s) before two builds are
    compared. A server (or a run of the tests) that wrote the first 経年 or 次の一歩 of one
    master after another paid that for each; the answer is a function of those arguments
    and this installation's modules alone."""
    return _own_project_with(data, tuple(before), tuple(after), tuple(servers))


@functools.lru_cache(maxsize=8)     # bytes are hashed once per object; a hit compares them
def _own_project_with(data: bytes, before: tuple[str, ...], after: tuple[str, ...],
                      servers: tuple[Optional[str], ...]) -> Optional[bytes]:
    from .read import stored_streams

    stored = stored_streams(data)     # its streams as they are: no module compressed again
    for server in dict.fromkeys(servers):
        try:
            if master_project(before, server=server, stored=stored) == data:
                return master_project(after, server=server, stored=stored)
        except UserError:
            continue
    return None


@functools.lru_cache(maxsize=8)   # building compresses ~360 KB of modules in Python (~0.2 s)
def _master_project(sheet_code_names: tuple[str, ...], workbook_code_name: str, server: Optional[str],
                    kept: tuple[Module, ...], codepage: int, charts: tuple[str, ...]) -> bytes:
    return build_vba_project(_master_modules(sheet_code_names, workbook_code_name, server, kept, codepage, charts),
                             codepage=codepage)


def _master_modules(sheet_code_names: tuple[str, ...], workbook_code_name: str, server: Optional[str],
                    kept: tuple[Module, ...], codepage: int, charts: tuple[str, ...]) -> list[Module]:
    """master_project's modules, in the order the project holds them."""
    code_modules = [*with_server(our_modules(), server), *xlwings_modules(), *remote_modules()]
    taken = {m.name.lower() for m in code_modules}
    for name in [workbook_code_name, *sheet_code_names, *charts]:
        if not is_identifier(name, codepage) or name.lower() in taken:
            raise UserError(
                f"シートのコード名「{name}」はマクロに使えません。VBA の画面でコード名を、英字か日本語の文字で始まり"
                "記号や空白のない 31 文字以内の名前（マクロのモジュール名 " + "・".join(sorted(m.name for m in code_modules))
                + " 以外）に変更してください。"
            )
        taken.add(name.lower())
    code = {m.name.lower(): m for m in kept if m.kind == "document"}
    documents = [code.get(workbook_code_name.lower(),
                          Module(workbook_code_name, "document", f"Attribute VB_Base = {WORKBOOK_BASE}\r\n"))]
    documents += [code.get(name.lower(), Module(name, "document", "")) for name in sheet_code_names]
    documents += [code.get(name.lower(), Module(name, "document", f"Attribute VB_Base = {CHART_BASE}\r\n"))
                  for name in charts]
    others = [m for m in kept if m.kind != "document"]
    return [*documents, *code_modules, *others]


def _read_module(path: Path, kind: str) -> Module:
    # Exported modules are in the ANSI code page the project declares (PROJECTCODEPAGE 1252).
    source = path.read_bytes().decode("cp1252")
    match = _VB_NAME.search(source)
    return Module(match[1] if match else path.stem, kind, source)  # type: ignore[arg-type]
