"""What of a master's saved VBA project ``upgrade-macros`` carries into the new one.

upgrade-macros replaces the tool's modules (vba.sources.tool_module_names). Staff's own
code in the same project (a module of their macros, a Workbook_Open in ThisWorkbook, a
Worksheet_Change in a sheet's module) went with them, unsaid, the backup the only copy
left. It comes over as it was: a standard or class module after ours, a document module's
code into the new module of the same code name, in a code page that holds its text (a
Japanese Excel stores its project in 932). What cannot come over is refused by name
before anything is written: a UserForm (its form is a storage our writer does not copy)
and a document module's code whose sheet is no longer in the book.
The project's references are not carried: ours are the two every new project has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Sequence

from ..core.errors import UserError
from .project import CODEPAGE, Module, fits
from .read import LARGEST_SHOWN, OTHER, VbaProjectEmpty, VbaProjectError, VbaProjectTooLarge, read_project

_NAME_LINE = re.compile(r'^Attribute VB_Name = "[^"]*"\r?\n', re.MULTILINE)
_NOT_CODE = re.compile(r"^\s*(?:Attribute\s|Option\s|$)", re.IGNORECASE)
_CODEPAGES = (CODEPAGE, 932)   # ours; then a Japanese Excel's, where a saved one has no codec here


def upgraded_project(path: Path, documents: Sequence[str], workbook_code_name: str,
                     server: Optional[str], charts: Sequence[str] = ()) -> tuple[bytes, list[str]]:
    """The new project for the master at ``path`` (sheets' code names ``documents``, chart
    sheets' ``charts``), and what staff should read about the old one's own code: carried,
    or unreadable."""
    from .read import saved_project, stored_streams
    from .sources import master_project

    try:
        old = saved_project(path)       # a part past the package's limits is refused here, in its words
    except OSError:
        old = None      # said by the writer, which opens the file next
    kept: list[Module] = []
    names = [workbook_code_name, *documents, *charts]
    codepage, notes = _codepage([], CODEPAGE, names), []
    if old is not None:
        try:
            kept, codepage = carried_modules(old, names)
        except VbaProjectEmpty:
            pass        # no module at all (LibreOffice's .ods round trip): nothing of staff's to carry
        except VbaProjectTooLarge:
            notes.append(f"前のマクロは大きすぎて（展開すると {LARGEST_SHOWN} を超えます）読めないため、職員が書いた"
                         "マクロがあっても引き継げませんでした（バックアップに残っています）")
        except VbaProjectError:
            notes.append("前のマクロは壊れていて読めないため、職員が書いたマクロがあっても引き継げませんでした"
                         "（バックアップに残っています）")
    if kept:
        from ..core.values import listed

        names = listed((m.name for m in kept), "モジュール")
        notes.append(f"職員が書いたマクロ（{names}）は、新しいマクロに引き継ぎました")
    # xlwings' modules, most of the bytes, are as they were: their streams are taken as stored
    stored = stored_streams(old) if old is not None else None
    return master_project(documents, workbook_code_name, server=server, kept=kept, codepage=codepage,
                          chart_code_names=charts, stored=stored), notes


def carried_modules(old: bytes, documents: Sequence[str]) -> tuple[list[Module], int]:
    """Staff's modules of the project ``old`` as they come over, and the code page to store
    them in. ``documents``: the code names (workbook first) the new project has modules for."""
    from .sources import tool_module_names

    project = read_project(old)
    tool, places = tool_module_names(), {d.lower(): d for d in documents}
    kept = []
    for module in project.modules:
        kind = project.declared.get(module.name.lower(), "class" if module.kind == OTHER else "standard")
        source = _NAME_LINE.sub("", module.source, count=1)
        if module.name.lower() in tool or (kind == "document" and not _has_code(source)):
            continue
        if kind == "designer":
            # 「もう一度実行」 here and below: only upgrade-macros carries staff's code, no button
            raise UserError(f"マクロのユーザーフォーム「{module.name}」は、マクロの入れ替えで引き継げません。VBA の画面で"
                            "そのフォームを［ファイルのエクスポート］で保存してから削除し、もう一度実行した後に"
                            "［ファイルのインポート］で戻してください（何も変更していません）")
        if kind == "document" and module.name.lower() not in places:
            raise UserError(f"マクロのモジュール「{module.name}」（シートのモジュール）に書かれたコードは、"
                            "引き継ぐシートが見つからないため、マクロの入れ替えで引き継げません。VBA の画面で"
                            "コードを標準モジュールに移してから、もう一度実行してください（何も変更していません）")
        name = places[module.name.lower()] if kind == "document" else module.name
        kept.append(Module(name, kind, source))
    _refuse_clashes(kept)
    return kept, _codepage(kept, project.codepage, documents)


def _refuse_clashes(kept: Sequence[Module]) -> None:
    """A staff module's public name that one of the tool's modules also makes public (a
    renkeiPageSetup of their own, or a GetRange): every module that uses the name unqualified
    no longer compiles ("Ambiguous name detected", Japanese Excel 「名前が適切ではありません」),
    so the buttons stop at a compile error before they send anything, and Application.Run
    cannot tell which to run. A new release's modules can bring a name staff's module already
    has: refused by name before anything is written."""
    from .read import STANDARD, VbaModule, name_clashes
    from .sources import our_modules, remote_modules, xlwings_modules

    staff = {m.name for m in kept if m.kind == "standard"}
    if not staff:
        return
    modules = [VbaModule(m.name, STANDARD if m.kind == "standard" else OTHER, m.source)
               for m in [*our_modules(), *xlwings_modules(), *remote_modules(), *kept]]
    for name, where in name_clashes(modules, replay_only=False).items():
        theirs, ours = [w for w in where if w in staff], [w for w in where if w not in staff]
        if theirs and ours:
            source = next(m.source for m in kept if m.name == theirs[0])
            spelled = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", source, re.IGNORECASE)
            raise UserError(f"職員が書いたマクロのモジュール「{theirs[0]}」の名前「{spelled.group(0) if spelled else name}」は、"
                            f"このツールのマクロ（{ours[0]}）にもあるため、マクロの入れ替え後にボタンが動きません（Excel の"
                            "「名前が適切ではありません」）。VBA の画面で職員のモジュールのその名前を変えてから、"
                            "もう一度実行してください（何も変更していません）")


def _has_code(source: str) -> bool:
    """A document module holds code beyond what Excel gives every one (its attributes, and
    the Option Explicit of 「変数の宣言を強制する」)."""
    return any(not _NOT_CODE.match(line) for line in source.splitlines())


def _codepage(kept: Sequence[Module], saved: int, documents: Sequence[str] = ()) -> int:
    """Ours when staff's text and the sheets' code names fit in it (a project of ours stays
    as it was written), else the saved project's own, else a Japanese Excel's. A code name no
    code page holds is named by the project's builder (vba.sources)."""
    candidates = list(dict.fromkeys((CODEPAGE, saved, *_CODEPAGES)))
    for names in (documents, ()):
        for codepage in candidates:
            if all(fits(module.name + module.source, codepage) for module in kept) and fits("".join(names), codepage):
                return codepage
    worst = next((m for m in kept if not any(fits(m.name + m.source, codepage) for codepage in candidates)), kept[0])
    raise UserError(f"職員が書いたマクロのモジュール「{worst.name}」に、マクロの文字コードで書けない文字があるため、"
                    "マクロの入れ替えで引き継げません。その文字を直してから、もう一度実行してください（何も変更していません）")
