"""Error values as the Mac button face reads them (renkei_xl/excel/mac_errors.py).

No Mac runs here. What Excel for Mac answers is modelled as xlwings documents it (an error
cell's ``value`` is ``missing value``, its ``string_value`` the text it shows), and xlwings'
own Mac reading code does the rest: ``xlwings/_xlmac.py`` is loaded from the installed
package with stand-ins for the macOS-only modules it imports, so its ``Range.raw_value`` and
``Engine.clean_value_data`` run as they run on a Mac. Each AppleScript term the product asks
for is checked against the terminology xlwings sends (tests/apple_model.py).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from types import ModuleType, SimpleNamespace

import pytest

from apple_model import PROPERTIES
from renkei_xl.core.errors import UserError
from renkei_xl.core.values import UNKNOWN_ERROR
from renkei_xl.excel import mac_errors
from renkei_xl.excel.desktop import MacBook

MISSING = "k.missing_value"     # appscript's k.missing_value, as the stand-in k names it


class _K:
    def __getattr__(self, name):
        return f"k.{name}"


@pytest.fixture(scope="module")
def xlmac():
    """xlwings._xlmac, loaded without touching sys.modules for good."""
    stubs = {"aem": ModuleType("aem"), "osax": ModuleType("osax"), "psutil": ModuleType("psutil"),
             "appscript": ModuleType("appscript"), "appscript.reference": ModuleType("appscript.reference")}
    stubs["psutil"].process_iter = lambda: []          # its atexit hook asks whether Excel runs
    stubs["appscript"].k, stubs["appscript"].its, stubs["appscript"].mactypes = _K(), object(), SimpleNamespace()
    stubs["appscript.reference"].CommandError = type("CommandError", (Exception,), {})
    stubs["appscript.reference"].Reference = object
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(
            "xlwings._xlmac", importlib.util.find_spec("xlwings").submodule_search_locations[0] + "/_xlmac.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    assert module.kw.missing_value == MISSING
    return module


class _Property:
    def __init__(self, value):
        self._value = value

    def get(self):
        return self._value


class _RangeApi:
    """An appscript range reference: only terms of xlwings' terminology, answered as
    AppleScript answers (a single cell as its value, a range as rows)."""

    def __init__(self, values, shown):
        self._answers = {"value": values, "string_value": shown}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        assert name in PROPERTIES, f"not an AppleScript term of xlwings: {name}"
        answer = self._answers[name]
        return _Property(answer[0][0] if len(answer) == 1 and len(answer[0]) == 1 else answer)


class _Range:
    def __init__(self, sheet, first, last, xlmac):
        (r1, c1), (r2, c2) = first, last or first
        self._xlmac = xlmac
        self.api = _RangeApi([r[c1 - 1:c2] for r in sheet.values[r1 - 1:r2]],
                             [r[c1 - 1:c2] for r in sheet.shown[r1 - 1:r2]])
        sheet.reads.append((first, last))

    def options(self, ndim=None, err_to_str=False, **_):
        """xlwings' read pipeline on a Mac: ReadValueFromRange (_xlmac.Range.raw_value),
        Ensure2D, CleanDataFromRead (_xlmac.Engine.clean_value_data)."""
        impl = object.__new__(self._xlmac.Range)
        impl.xl, impl.options = self.api, {"err_to_str": err_to_str}
        raw = impl.raw_value
        if not isinstance(raw, list):
            raw = [[raw]]
        elif raw and not isinstance(raw[0], list):
            raw = [raw]
        return SimpleNamespace(value=self._xlmac.Engine.clean_value_data(raw, dt.datetime, None, None, err_to_str))


class _Sheet:
    def __init__(self, name, values, shown, xlmac):
        self.name, self.values, self.shown, self.reads = name, values, shown, []
        last = SimpleNamespace(row=len(values), column=len(values[0]))
        self.used_range = SimpleNamespace(last_cell=last)
        self.range = lambda first, last=None: _Range(self, first, last, xlmac)


def _mac_book(sheet) -> MacBook:
    return MacBook(SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop")),
                                   sheets=_Sheets([sheet])))


class _Sheets(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


# 指標 as Excel for Mac answers it: a header row, then 実績値 cells holding #N/A, #SPILL!,
# #NV (#N/A in a German Excel), a text typed as 「#N/A」 (a text format), a number, an empty cell.
VALUES = [["指標ID", "実績値", "目標値"],
          ["1-1", MISSING, 12.0],
          ["1-2", MISSING, MISSING],
          ["1-3", "#N/A", 3.0],
          ["1-4", 7.0, ""]]
SHOWN = [["指標ID", "実績値", "目標値"],
         ["1-1", "#N/A", "12"],
         ["1-2", "#SPILL!", "#NV"],
         ["1-3", "#N/A", "3"],
         ["1-4", "7", ""]]


def test_xlwings_err_to_str_cannot_read_a_range_on_a_mac(xlmac):
    """Why the Mac face does not ask xlwings for err_to_str: on two rows it raises."""
    sheet = _Sheet("指標", VALUES, SHOWN, xlmac)
    with pytest.raises(TypeError):
        sheet.range((1, 1), (5, 3)).options(ndim=2, err_to_str=True).value
    # and without it, every error value reads as an empty cell
    assert sheet.range((1, 1), (5, 3)).options(ndim=2).value[2] == ["1-2", None, None]


def test_a_mac_reads_every_error_value_as_its_text_never_as_empty(xlmac):
    """Before, the Mac's grid asked for err_to_str and every button that read a sheet
    stopped with xlwings' TypeError; without it, #SPILL! in 実績値 read as nothing reported."""
    live = _mac_book(_Sheet("指標", VALUES, SHOWN, xlmac))
    assert live.grid("指標") == [["指標ID", "実績値", "目標値"],
                                 ["1-1", "#N/A", 12.0],
                                 ["1-2", "#SPILL!", UNKNOWN_ERROR],
                                 ["1-3", "#N/A", 3.0],      # the typed text: an error value to the core too
                                 ["1-4", 7.0, None]]


def test_the_shown_text_is_read_in_parts_on_a_large_sheet(xlmac, monkeypatch):
    monkeypatch.setattr(mac_errors, "SHOWN_CELLS", 6)       # two rows of three cells a read
    sheet = _Sheet("指標", VALUES, SHOWN, xlmac)
    live = _mac_book(sheet)
    assert live.grid("指標")[2] == ["1-2", "#SPILL!", UNKNOWN_ERROR]
    assert sheet.reads[1:] == [((1, 1), (2, 3)), ((3, 1), (4, 3)), ((5, 1), (5, 3))]


def test_a_mac_reply_missing_cells_is_refused_naming_the_sheet(xlmac):
    """Excel for Mac has returned a range holding errors with cells left out (xlwings
    #1924): its values would shift into the wrong columns."""
    short = [list(r) for r in VALUES]
    del short[2][1]
    live = _mac_book(_Sheet("指標", short, SHOWN, xlmac))
    with pytest.raises(UserError, match="シート「指標」"):
        live.grid("指標")
