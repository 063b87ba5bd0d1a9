"""Excel for Mac as xlwings' desktop engine reaches it: appscript references, every term
checked against the terminology xlwings sends (no Mac runs here).

xlwings builds its appscript application with ``terms=mac_dict`` (xlwings/_xlmac.py, App:
``appscript.app(..., terms=mac_dict)``), so ``sheet.api`` and ``app.api`` know exactly the
properties, elements, commands and enumerators of xlwings/mac_dict.py. appscript itself
(reference.py) answers:

- an attribute that is no property, element (by its plural name) or command: AttributeError
  ("Unknown property, element or command"; terminology.py's _makereferencetable leaves the
  classes' singular names out);
- a keyword a command does not take: TypeError ("Unknown keyword argument");
- calling a reference that is not a command, ``ref()``: ``ref.get()``, nothing else.

Each ``set`` and command reaches the model's ``log`` as (path, command, argument or keywords),
and a sheet's protection behaves as Excel's: ``unprotect`` lifts it with the right password
(an explicit ``password=""`` for none) and fails with a CommandError otherwise; without a
``password`` on a sheet that has one, Excel would ask staff for it in a dialog in the middle
of the click, which the model refuses too (the stricter answer).
"""

from __future__ import annotations

from typing import Optional

from xlwings import mac_dict

PROPERTIES = frozenset(name for name, _ in mac_dict.properties)
ELEMENTS = frozenset(name for name, _ in mac_dict.elements)
COMMANDS = {name: frozenset(param for param, _ in params) for name, _, params in mac_dict.commands}
ENUMS = frozenset(name for name, _ in mac_dict.enums)


class CommandError(Exception):
    """appscript.CommandError, which Excel's refusals arrive as."""


class Keywords:
    """appscript's ``k``: only the enumerators of xlwings' terminology."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__") or name not in ENUMS:
            raise AttributeError(name)
        return f"k.{name}"


class AppleExcel:
    """The state the references read and write: ``values`` by path ("sheet[一覧].protect_contents")."""

    def __init__(self, values: Optional[dict] = None, passwords: Optional[dict] = None):
        self.values = dict(values or {})
        self.passwords = dict(passwords or {})       # sheet path -> its password
        self.log: list[tuple[str, str, object]] = []

    def ref(self, path: str) -> "Ref":
        return Ref(self, path)


class Ref:
    def __init__(self, excel: AppleExcel, path: str):
        self._excel, self._path = excel, path

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in COMMANDS:
            return _Command(self._excel, self._path, name)
        if name in PROPERTIES or name in ELEMENTS:
            return Ref(self._excel, f"{self._path}.{name}")
        raise AttributeError(f"Unknown property, element or command: {name!r}")

    def __call__(self, *args, **kwargs):
        return self.get(*args, **kwargs)


class _Command:
    def __init__(self, excel: AppleExcel, path: str, name: str):
        self._excel, self._path, self._name = excel, path, name

    def __call__(self, *args, **kwargs):
        unknown = set(kwargs) - COMMANDS[self._name]
        if unknown:
            raise TypeError(f"Unknown keyword argument {sorted(unknown)[0]!r}.")
        excel, path = self._excel, self._path
        if self._name == "get":
            return excel.values.get(path)
        if self._name == "set":
            excel.values[path] = args[0] if args else kwargs.get("to")
            excel.log.append((path, "set", excel.values[path]))
            return None
        excel.log.append((path, self._name, dict(kwargs)))
        if self._name == "unprotect":
            if path in excel.passwords and kwargs.get("password") != excel.passwords[path]:
                raise CommandError("The password you supplied is not correct." if "password" in kwargs
                                   else "Excel would ask for the password in a dialog")
            excel.values[f"{path}.protect_contents"] = False
        elif self._name == "protect_worksheet":
            excel.values[f"{path}.protect_contents"] = bool(kwargs.get("worksheet_contents"))
        return None
