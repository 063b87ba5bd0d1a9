"""Whether a saved .xlsm master still carries what its buttons need: the VBA modules their
macros name, and the buttons themselves on メニュー.

LibreOffice loses either without a word (measured, 7.4): a master saved as .ods and then
as .xlsm again carries a vbaProject.bin of 1,536 bytes with no module at all, so every
button fails in Excel with 「マクロが見つかりません」; and Calc reads back the form buttons
it saved itself as nothing, so a master saved twice in Calc has no buttons left. Every
command that opens a master says so (cli), the server's admission too (server.place), and
upgrade-macros puts both back (workbook.menu_buttons) and checks the file it wrote with the
same rule. What the buttons need is read from core.contract.BUTTONS, the build's own list.
"""

# No ``from __future__ import annotations``: see package.drawing (NamedTuple at import; every
# command on an .xlsm imports this module).

from pathlib import Path
from typing import NamedTuple, Optional

from ..core import contract as c
from . import VBA_PART


class Missing(NamedTuple):
    modules: tuple[str, ...]    # the modules the buttons' macros name that the project lacks
    buttons: tuple[str, ...]    # captions of the tool's buttons not on メニュー
    menu: bool = True           # whether the book has a sheet メニュー to put them on

    def __bool__(self) -> bool:
        return bool(self.modules or self.buttons)


def button_modules() -> tuple[str, ...]:
    """The modules the tool's buttons run a macro of (「Renkei」 of 「Renkei.RenkeiCheck」)."""
    return tuple(dict.fromkeys(macro.split(".")[0] for _caption, macro, _what in c.BUTTONS))


def missing_in(pkg) -> Optional[Missing]:
    """What of the buttons' needs the package ``pkg`` of an .xlsm lacks; None without a VBA
    part (upgrade-macros refuses such a book in its own words). A project too large or
    damaged for this reader, which Excel may still run, is not called empty: no false alarm."""
    from ..package.controls import button_macros
    from ..package.workbook import WorkbookXml

    if VBA_PART not in pkg:
        return None
    modules = _missing_modules(pkg.read(VBA_PART))
    menu = WorkbookXml(pkg).sheet(c.MENU)
    if menu is None or not menu.part or menu.part not in pkg:
        return Missing(modules, tuple(caption for caption, _m, _w in c.BUTTONS), menu=False)
    have = {macro.lower() for macro in button_macros(pkg, menu.part)}
    # Excel runs 「RenkeiCheck」 as well as 「Renkei.RenkeiCheck」 (the Sub's name is unique)
    buttons = tuple(caption for caption, macro, _w in c.BUTTONS
                    if not {macro.lower(), macro.split(".")[-1].lower()} & have)
    return Missing(modules, buttons)


def _missing_modules(project: bytes) -> tuple[str, ...]:
    """The buttons' modules the project lacks. Its PROJECT stream declares each standard
    module as the text 「Module=Renkei」, stored as it is: found there, the module is in the
    project, without olefile and the ``dir`` stream (their imports and reading were 40 ms of
    CPU at the start of every command on an .xlsm). Not found there (a stream cut across
    sectors, another spelling), the ``dir`` stream decides."""
    wanted = tuple(m for m in button_modules() if b"\nModule=%s\r\n" % m.encode("ascii") not in project)
    if not wanted:
        return ()
    from .read import VbaProjectEmpty, VbaProjectError, listed_modules

    try:
        listed = {name.lower() for name in listed_modules(project)}
    except VbaProjectEmpty:     # LibreOffice's .ods round trip: a compound file with nothing in it
        return wanted
    except VbaProjectError:     # too large, or damaged: said where the project is read (server.place)
        return ()
    return tuple(m for m in wanted if m.lower() not in listed)


def missing_macros(path: Path) -> Optional[Missing]:
    """missing_in of the master at ``path`` when it is an .xlsm; None for an .xlsx, and for a
    file that cannot be read (the command's own reading says why, in its words)."""
    from ..package.xml import PackageError
    from ..package.zipped import Package
    from ..core.errors import UserError

    path = Path(path)
    if path.suffix.lower() != c.MACRO_SUFFIX or not path.is_file():
        return None
    try:
        with Package(path) as pkg:
            return missing_in(pkg)
    except (OSError, PackageError, UserError):
        return None


def missing_said(name: str, missing: Missing) -> str:
    """The Japanese sentence for staff: what the master ``name`` lacks, why, and the command
    that puts it back (no full stop at the end)."""
    what = []
    if missing.modules:
        what.append(f"ボタンのマクロ（VBA のモジュール {'、'.join(missing.modules)}）")
    if missing.buttons:
        where = f"シート「{c.MENU}」の" if missing.menu else ""
        what.append(f"{where}ボタン（{'、'.join(missing.buttons)}）")
    why = []
    if missing.modules:
        why.append("LibreOffice Calc で .ods に保存してから .xlsm に戻すと、マクロはなくなります")
    if missing.buttons:
        why.append("LibreOffice Calc で保存し直すと、ボタンがなくなることがあります" if missing.menu
                   else f"シート「{c.MENU}」がありません")
    why = "。".join(why)
    said = (f"マスター「{name}」には{'と'.join(what)}がありません（{why}）。このままでは Excel でボタンが動きません。"
            f"「renkei-xl upgrade-macros {name}」で入れ直してください")
    if not missing.menu and missing.buttons:
        said += f"（ボタンはシート「{c.MENU}」に置くため、シート「{c.MENU}」を戻してから実行してください）"
    return said
