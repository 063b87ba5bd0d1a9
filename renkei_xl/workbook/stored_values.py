"""A cell whose stored value its type cannot hold, refused naming the cell before
python-calamine reads the sheet.

SpreadsheetML stores the value of a number cell (no ``t``, or ``t="n"``) as an xsd:double,
of a text cell (``t="s"``) as the index of its text in the shared strings, of a boolean
(``t="b"``) as 0 or 1. A file written by another tool may hold something else there:
``<c r="B5"><v>1,000</v></c>``. Excel reports such a file as damaged, and its repair empties
the cell (PhpSpreadsheet issue 4766); openpyxl refuses the whole book. python-calamine reads
the number cell as the text 「1,000」, which the tool then read as 1000 without a word, and a
shared-string index that is not a plain whole number (「1.5」「 2」「abc」) as index 0: the
book's first text, published or imported as this cell's. A bad boolean or an unknown type
made calamine refuse the whole sheet, without naming the cell. Each is refused here, naming
the cell and what it holds, in the same words on the master and on a returned file.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

from ..core.lazy_pattern import LazyPattern
from ..core.errors import UnreadableSheet
from ..core.refs import COLUMN_LETTERS
from ..package.xml import unescape
from .sheet_form import CELL_TYPE, CellTags, Undated, note_negative, worksheet_prefix

if TYPE_CHECKING:
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package

# A text's index of this many digits is past any book's shared strings, and past what
# python-calamine parses: it read one of 5,000 digits as index 0, the book's first text.
_INDEX_DIGITS = 20
# A number as Excel writes one (-12, 0.5, 1.2345E-2), of any length: a number cell holding
# one needs no other look (values.py says what lies past a double).
_WHOLE = LazyPattern(r"-?[0-9]+(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?", re.ASCII)
# An xsd:double's lexical form other writers use (+5, .5, 5., 1e3, padded), which calamine
# reads as the number; INF and NaN are doubles too, but no cell of Excel's holds one.
_DOUBLE = LazyPattern(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*", re.ASCII)
_BOOLEANS = frozenset(("0", "1", "true", "false"))
# Types whose <v> holds any text: a formula's text result, an error, an ISO date; an inline
# text keeps its own in <is>. An error's text is the error readers' (sheet_checks.put_back).
_ANY_TEXT = frozenset((b"str", b"e", b"d", b"inlineStr"))
_SHOWN = 20    # characters of a bad value quoted


@lru_cache(maxsize=8)
def _odd_values(prefix: bytes, any_prefix: bool) -> "re.Pattern[bytes]":
    """Value tags whose content is not a short run of digits, each ending where the value
    starts: the only values that may not fit their cell. A run of fewer than _INDEX_DIGITS
    digits fits every type a value is read as (a number, a text's index, a boolean's 0 or
    1; a boolean 7 calamine refuses itself, and unreadable_cell names it), and it is what
    nearly every value of a master is. One search for them all, whatever the cell's type,
    negative numbers among them: a search for numbers not in Excel's form, a second for
    text cells whose index is not whole and a third for ``>-`` took 52 ms of the
    20,000 × 12 master's 10 MB 指標 (the whole read waits for that sheet), this one 14 ms.
    The negatives and the values in no number's form it passes on are looked at one by one
    (their cell's type decides); a decimal only a text's index cannot be (_decimal_indexes).
    ``any_prefix``: a value tag may have a prefix (python-calamine reads ``<y:v>`` as the
    value, whatever the sheet's prefix): a slower pattern, for the sheets that hold ``:v``."""
    return re.compile(_value_tag(prefix, any_prefix) + rb"(?![0-9]{0,%d}<)" % (_INDEX_DIGITS - 1))


def _value_tag(prefix: bytes, any_prefix: bool) -> bytes:
    """A value tag, with or without attributes: ``>`` first, as nearly every tag is <v>. An
    optional group, ``(?:\\s[^<>]*)?>``, is the same tags and took ``re`` a repeat's
    bookkeeping at each of a sheet's value tags (the 20,000 × 12 master's 55 MB: 70 → 58 ms)."""
    tag = rb"<(?:[\w.-]+:)?v" if any_prefix else b"<" + re.escape(prefix) + b"v"
    return tag + rb"(?:>|\s[^<>]*>)"


# Searched for with ``re``, as ``:`` is rare in a sheet: ``b":v" in raw`` stops at each ``v``
# of every value tag (8 ms for 10 MB, against 2.6).
_PREFIXED_VALUE = re.compile(rb":v")
# A positive number as Excel writes one, past a run of digits (12.5, 1.5E-3), up to the end
# of its value: in a number cell, nearly all of a sheet's values that _odd_values passes on.
_DECIMAL = re.compile(rb"[0-9]{1,%d}(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?</" % (_INDEX_DIGITS - 1))


@lru_cache(maxsize=8)
def _decimal_indexes(prefix: bytes, any_prefix: bool) -> "re.Pattern[bytes]":
    """Text cells whose index is not a run of digits, each ending where the value starts.
    Searched only in a sheet holding a decimal (check_stored_values): a decimal is what a
    number cell holds, and a look at its cell's type for each one cost 1.7 µs (34 ms for a
    sheet of 20,000), where this search of the sheet's text cells costs 18 ms for 10 MB.
    It must find every text cell the one search's look at each decimal would: ``t="s"``
    after a tab or a line break rather than a space, and a value after a formula or any
    other element of its cell (python-calamine reads that value all the same), up to the
    cell's end. A hit that is no text cell (``t="s"`` in some other attribute or a text) is
    harmless: _check_value decides by its cell's own type. A hit's tag ends before another
    ``t="s"``: 40,000 of them in one attribute (0.2 MB) were each read to the tag's end, 2.5 s,
    hours for a sheet of them; a real tag holds one (the one nearest its end is tried)."""
    tag = _value_tag(prefix, any_prefix)
    return re.compile(rb't="s"(?:[^<>t]|t(?!="s"))*>\s*(?=(' + tag + b"|" + _IN_CELL + tag + rb"))\1(?=[0-9]*[^0-9<])")


# What may lie between a text cell's tag and its value (a formula, an inline text), short of
# the cell's end, the next cell or a row's tag (a value tag past them is no value of this
# cell). Tried only where the cell's first element is no value tag, and never again once it
# is (``(?=(…))\1``, an atomic group Python 3.10 lacks): let into every text cell, the search
# went on to each one's end after its index, 15 -> 58 ms for 10 MB (17 ms as it is).
_IN_CELL = rb"<(?!/?(?:[\w.-]+:)?(?:c|row)[\s/>])(?:[^<]|<(?!/?(?:[\w.-]+:)?(?:c|row)[\s/>]))*?"


def check_stored_values(name: str, raw: bytes, prefix: bytes) -> Undated:
    """Refuses the first cell of sheet ``name`` (its XML ``raw`` in the usual form,
    sheet_form) whose value its type cannot hold, and returns the negative numbers of its
    number cells (sheet_form.note_negative says why they are put back). One search of the
    sheet finds the values that may not fit (decimals, negatives, text results of formulas,
    errors and dates among them); only those are looked at one by one."""
    negatives, cells = Undated(), CellTags(raw, prefix)
    any_prefix = bool(prefix) or _PREFIXED_VALUE.search(raw) is not None
    decimals = False
    for m in _odd_values(prefix, any_prefix).finditer(raw):
        if _DECIMAL.match(raw, m.end()):
            decimals = True
            continue
        _check_value(name, raw, m.end(), cells.attrs(m.start() + 1), negatives)
    if decimals:
        # every negative was a hit above: a number cell this search also meets (t="s" in
        # another attribute) must not note it twice (a span twice in ``unsafe`` is zeroed twice)
        cells, seen = CellTags(raw, prefix), Undated()
        for m in _decimal_indexes(prefix, any_prefix).finditer(raw):
            _check_value(name, raw, m.end(), cells.attrs(m.start() + 1), seen)
    return negatives


def _check_value(name: str, raw: bytes, at: int, attrs: bytes, negatives: Undated) -> None:
    """Refuses the value at ``at`` (just past its tag) when its cell (of tag attributes
    ``attrs``) cannot hold it; a negative number of a number cell goes into ``negatives``."""
    kind = CELL_TYPE.search(attrs)
    kind = kind.group(1) if kind else None
    if kind in _ANY_TEXT:
        return
    held = unescape(raw[at:raw.find(b"<", at)].decode("utf-8", "replace"))
    what = _unfit(kind, held)
    if what is not None:
        raise UnreadableSheet(_refusal(name, attrs, what))
    if held[:1] == "-":
        note_negative(negatives, attrs, raw, at)


# What python-calamine says (in English) when it refuses a sheet for one known reason that
# no cell scan finds, and that reason as staff are told it. Its text is never shown: staff
# read 「XML が壊れているか、共有文字列が見つかりません」 for a sheet whose dimension (the used
# range Excel records, <dimension ref="A1:"/>) was damaged, and looked for a missing text.
_CALAMINE_REASONS = (
    (("Range is missing the expected", "Range dimension must be"),
     "シートの使用範囲の記録（dimension）の番地が壊れています"),
    (("Unsupported cell error value",), "Excel にないエラー値のセルがあります"),
    (("Unknown cell 't' attribute",), "Excel にない種類のセルがあります"),
    (("Unrecognized boolean cell value",), "TRUE / FALSE のセルに読めない値があります"),
    (("string index not found in shared strings",), "文字列のセルの番号に当たる文字列がありません"),
)


# Any other refusal of calamine's, said as what it may be.
_CALAMINE_ANY = "XML が壊れているか、共有文字列が見つかりません"


def calamine_refusal(name: str, exc: BaseException, tail: str = "") -> str:
    """Sheet ``name``'s refusal by python-calamine (``exc``) said in Japanese, naming the
    known reason its text gives, else what any other may be (_CALAMINE_ANY); ``tail``: what
    to do, as the caller's staff can. The one sentence of both readers (workbook.grids, a
    return's workbook.returned), which each had the general one of their own."""
    text = str(exc)
    reason = next((reason for marks, reason in _CALAMINE_REASONS if any(mark in text for mark in marks)),
                  _CALAMINE_ANY)
    return f"シート「{name}」の値を読めません（{reason}）。{tail}"


def unreadable_cell(name: str, raw: bytes, texts: Optional[int]) -> Optional[str]:
    """After python-calamine refused sheet ``name`` (its XML ``raw`` in the usual form,
    sheet_form):
    the refusal naming the first cell it could not read, or None (the damage is elsewhere).
    What the scan passes as a plain number: a boolean stored as 7, a type Excel has not
    (``t="x"``), a text's index past the ``texts`` of the shared strings. Only a sheet
    calamine refused is walked cell by cell, in one pass: a cell's end and value searched
    from each cell's start made a sheet of unclosed cells (its XML damaged) take the square
    of its cells (9 s for 0.7 MB)."""
    prefix = re.escape(worksheet_prefix(raw) or b"")
    token = re.compile(rb"<" + prefix + rb"c(\s[^<>]*?)(/?)>|</" + prefix + rb"c>|<" + prefix
                       + rb"v(?:\s[^<>]*)?>([^<]*)<")
    cell, held = None, None      # the open cell's attributes, and its first value
    for m in token.finditer(raw):
        attrs, value = m.group(1), m.group(3)
        if value is not None:
            held = value if held is None else held
            continue
        said = _cell_said(name, cell, held, texts) if cell is not None else None
        cell, held = (attrs, None) if attrs is not None else (None, None)
        if said is None and attrs is not None and m.group(2):
            said, cell = _cell_said(name, attrs, None, texts), None
        if said is not None:
            return said
    return _cell_said(name, cell, held, texts) if cell is not None else None


def _cell_said(name: str, attrs: bytes, value: Optional[bytes], texts: Optional[int]) -> Optional[str]:
    """The refusal of the cell with tag attributes ``attrs`` holding ``value``, or None."""
    kind = CELL_TYPE.search(attrs)
    kind = kind.group(1) if kind else None
    if kind in _ANY_TEXT:
        return None
    held = unescape(value.decode("utf-8", "replace")) if value else ""
    what = _unfit(kind, held)
    # Compared as digits: int() refuses a text of more than 4,300 digits (ValueError).
    if what is None and kind == b"s" and held and texts is not None and _past(held, texts):
        what = f"文字列のセルの番号「{_shown(held)}」に当たる文字列がありません。共有文字列は {texts:,} 個です"
    if what is None:
        return None
    return _refusal(name, attrs, what)


def _past(index: str, texts: int) -> bool:
    """Whether the plain whole number ``index`` is ``texts`` or more."""
    digits = index.lstrip("0") or "0"
    count = str(texts)
    return (len(digits), digits) >= (len(count), count)


def shared_texts(pkg: "Package", workbook: "WorkbookXml") -> Optional[int]:
    """How many texts the book's shared strings hold (None: it has none to count)."""
    from ..package.rels import read_rels

    for rel in read_rels(pkg, workbook.part):
        if rel.type.endswith("/sharedStrings") and rel.part and rel.part in pkg:
            return len(re.findall(rb"<(?:\w+:)?si[\s/>]", pkg.read(rel.part)))
    return None


def _unfit(kind: Optional[bytes], held: str) -> Optional[str]:
    """What is wrong with ``held`` as the value of a cell of type ``kind`` (None: no ``t``,
    a number) or None. An empty value is an empty cell to every reader, Excel's too. A
    number spaced in a cell that says ``t="n"`` is one calamine cannot read (without ``t``
    it can)."""
    if kind not in (None, b"n", b"s", b"b"):
        return f"セルの種類「{_shown(kind.decode('utf-8', 'replace'))}」は Excel にありません"
    if held == "":
        return None
    if kind is None or kind == b"n":
        if _WHOLE.fullmatch(held):   # Excel's form, of any length: read on (values.py says past a double)
            return None
        if _DOUBLE.fullmatch(held) and math.isfinite(float(held)) and (kind is None or held == held.strip()):
            return None
        return f"数値のセルに数値として読めない「{_shown(held)}」が保存されています"
    if kind == b"s":
        if held[:1] == "-" and held[1:].isascii() and held[1:].isdigit():
            # python-calamine would read some other text of the book in its place
            return f"文字列のセルの番号が負の数「{_shown(held)}」です"
        if not (held.isascii() and held.isdigit()):
            return f"文字列のセルの番号が番号として読めない「{_shown(held)}」です"
        return None if len(held.lstrip("0")) < _INDEX_DIGITS else f"文字列のセルの番号「{_shown(held)}」が大きすぎます"
    return None if held.strip().lower() in _BOOLEANS else f"論理値のセルに「{_shown(held)}」が保存されています"


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


# A cell tag's r, for naming the cell in a refusal (the sheet is in the usual form: sheet_form).
_NAMED_REF = LazyPattern(rb'\sr="([A-Z]{1,%d}[0-9]+)"' % COLUMN_LETTERS)


def _refusal(name: str, attrs: bytes, what: str) -> str:
    """Sheet ``name``'s cell (of tag attributes ``attrs``; 「?」 where it has no r) refused
    for ``what``: the one sentence of both checks of a stored value (_check_value, and
    unreadable_cell after python-calamine refused the sheet)."""
    found = _NAMED_REF.search(attrs)
    ref = found.group(1).decode("ascii") if found else "?"
    return (f"シート「{name}」のセル {ref} が壊れています（{what}。Excel 以外の道具で書いたファイルで起きます）。"
            "Excel で開くと修復を求められ、このセルの値は消えることがあります。Excel で開いて保存し、"
            "このセルの値を確かめてから使ってください")
