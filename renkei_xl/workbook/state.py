"""What the file face knows of a master before a write: its contract data and state.

Values come from python-calamine, which reads every sheet fast and sees the cached result
of each formula (openpyxl gives either the formula or, loaded a second time, its value).
Names, sheets and cell formats come from the package itself (renkei_xl.package), which the
file applier then edits; so reader and writer agree about which part is which sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from collections import OrderedDict
from itertools import chain, islice
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Optional, Sequence

from ..core import contract as c
from ..core.contract_read import Book, MasterData, needed_sheets, read_contract
from ..core.refs import parse_ref
from ..core.errors import UnreadableSheet, UserError
from ..core.findings import MISSING_HEADER
from ..core.model import Finding
from ..core.validate import uncached_formula_finding
from ..package.cells import SheetCells
from ..package.rels import T_STYLES, read_rels
from ..package.styles import Styles
from ..package.workbook import WorkbookXml
from ..package.xml import dtd_refusal, has_dtd, prefix_of
from ..package.zipped import Package
from ..core.plan_types import MasterState

if TYPE_CHECKING:
    from concurrent.futures import Future


_PLAIN = frozenset({str, float, int, bool, dt.datetime, dt.date})   # kept as calamine gives them


def _cell(value: object) -> object:
    """calamine's "" for an empty cell is None, as the contract reader expects."""
    if value == "":
        return None
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return value


class _Named(Mapping[str, list]):
    """A mapping over a fixed list of sheet names (``_names``)."""

    _names: list[str]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class Grids(_Named):
    """Sheets as rows of values, read with calamine when first asked, few kept at a time.

    The contract reader goes through the sheets one after another; keeping every grid of a
    20,000-row master alive until the write would double the memory a run needs.
    """

    KEEP = 2

    def __init__(self, pkg: Package, names: Sequence[str], workbook: Optional[WorkbookXml] = None,
                 keep: Optional[int] = KEEP):
        """``keep=None``: every grid read stays (a caller that needs all of them anyway,
        as split does, then reads none twice)."""
        from python_calamine import CalamineWorkbook

        self._pkg = pkg
        self._workbook = workbook or WorkbookXml(pkg)
        self._path = pkg.path
        self._names = list(names)
        self._keep = keep
        self._cache: OrderedDict[str, list] = OrderedDict()
        self._streams: OrderedDict[str, SheetRows] = OrderedDict()
        self.with_formulas: dict[str, bytes] = {}   # sheets read so far that hold a formula
        self._patches: dict[str, bytes] = {}         # part → as calamine reads it (calamine_readable)
        self._patched = None
        self._lock = threading.Lock()
        self._ahead: list[str] = []                  # read_ahead: the sheets asked for next
        self._pending: dict[str, Future] = {}    # the one being parsed ahead, by name
        self._prepared: dict[str, Future] = {}   # the large ones after it, being checked (_prepare)
        self._workers: Optional[tuple] = None     # their threads, one per kind (_submit)
        try:
            self._book = CalamineWorkbook.from_path(str(pkg.path))
        except Exception:   # calamine raises its own kinds, in English, on damaged files
            raise UserError(f"「{pkg.path.name}」の値を読めません（ファイルが壊れています）。"
                            "Excel で開いて保存し直してください") from None

    def __getitem__(self, name: str) -> list:
        if name not in self._names:
            raise KeyError(name)
        if name in self._cache:
            self._cache.move_to_end(name)
            return self._cache[name]
        grid = list(self.rows(name))
        self._cache[name] = grid
        while self._keep is not None and len(self._cache) > self._keep:
            self._cache.popitem(last=False)
        return grid

    def rows(self, name: str) -> "SheetRows":
        """The sheet's rows converted one at a time as a reader walks down them: a large
        sheet never exists as Python objects all at once."""
        if name not in self._names:
            raise KeyError(name)
        if name in self._streams:
            self._streams.move_to_end(name)
            return self._streams[name]
        pending = self._pending.pop(name, None)
        rows = pending.result() if pending is not None else self._open(name)
        self._streams[name] = rows
        while len(self._streams) > (self._keep or self.KEEP):
            self._streams.popitem(last=False)
        if name in self._ahead:
            del self._ahead[:self._ahead.index(name) + 1]
        self._start_next()
        return rows

    def read_ahead(self, names: Sequence[str]) -> None:
        """Sheets a reader will ask for next, in order, handled on threads while the reader
        reads the one before: the next is parsed (python-calamine lets go of the GIL while it
        parses, which is half the time a 20,000-row master spends reading), and the large
        ones after it are inflated and scanned (``_prepare``), so that neither waits for the
        other. Before, one thread did both for one sheet at a time, and the reader waited for
        it on every sheet of a 20,000 × 12 master (about 80 ms each). One sheet is parsed
        ahead, as its rows take memory; ``CHECK_AHEAD`` are checked ahead, each kept only as
        its checks' findings (its bytes are let go once scanned, but where a sheet keeps them
        for a later check). A small sheet first in line is left to the reader, and the
        checks of the large ones behind it begin at once (指標 while 設定 is read)."""
        self._ahead = [n for n in names if n in self._names and n not in self._streams]
        self._start_next()

    # A sheet smaller than this is read when asked: a thread and the GIL passing between
    # two threads cost more than parsing it (a FY2023 master, sheets of 40 KB at most, read
    # 10 ms slower ahead). A 2,000 × 40 master's sheets of 350 KB gain: its recalc took
    # 1.01 s with them read ahead in two stages, 1.24 s without (nine alternated runs).
    AHEAD_FROM_BYTES = 200_000
    # Sheets checked ahead of the one parsed ahead: a check's result is small, but for a
    # sheet rewritten into the usual form (sheet_form, up to its REWRITE_LIMIT) it holds the
    # rewrite, so they are bounded.
    CHECK_AHEAD = 2

    def _large(self, name: str) -> bool:
        entry = self._workbook.sheet(name)
        return (entry is not None and bool(entry.part)
                and self._pkg.unpacked_size(entry.part) >= self.AHEAD_FROM_BYTES)

    def _start_next(self) -> None:
        if not self._ahead:
            return
        first, rest = self._ahead[0], self._ahead[1:]
        if first not in self._pending and first not in self._streams and self._large(first):
            # its parse, which takes its checks from _prepared when they were begun
            self._pending[first] = self._submit(0, self._open, first)
        checked = 0
        for name in rest:
            if checked == self.CHECK_AHEAD:
                break
            if name in self._pending or name in self._streams or not self._large(name):
                continue
            checked += 1
            if name not in self._prepared:
                self._prepared[name] = self._submit(1, self._prepare, name)

    def _submit(self, kind: int, call: Callable[[str], object], name: str) -> "Future":
        """``call(name)`` on the thread kept for its kind (0: parses, 1: checks). A thread
        per sheet left glibc's per-thread arenas mixed between the two kinds of work, and
        the peak memory of a 20,000 × 12 recalc moved between 151 and 194 MiB from run to
        run; one thread per kind holds it at 164 (158 with one thread doing both, slower)."""
        if self._workers is None:
            # here: only a large sheet is read ahead, and the import costs a small master's run ms
            from concurrent.futures import ThreadPoolExecutor

            self._workers = (ThreadPoolExecutor(1, "renkei-parse"), ThreadPoolExecutor(1, "renkei-check"))
        return self._workers[kind].submit(call, name)

    def _prepare(self, name: str) -> Optional["_Checked"]:
        """The sheet's XML read and checked, as calamine must then read it (None: a sheet
        without a part). Touches nothing shared, so it runs beside a parse."""
        entry = self._workbook.sheet(name)
        if entry is None or entry.part is None:
            return None
        try:
            raw = self._pkg.read(entry.part)
        except UserError as exc:   # a missing or broken part: the sheet cannot be read
            said = str(exc)
            raise UnreadableSheet(said if said.startswith(f"シート「{name}」") else
                                  f"シート「{name}」を読めません: {said}") from None
        rewritten, may_hold_errors = check_sheet_xml(name, raw)
        raw = rewritten or raw
        errors, readable = {}, None
        if may_hold_errors:   # looked for once, by check_sheet_xml, not by both helpers
            errors, readable = cached_errors(raw), calamine_readable(raw)
        # the bytes are kept for uncached_formulas only where there is a formula
        return _Checked(entry.part, errors, readable or rewritten, raw if holds_formula(raw) else None)

    def _open(self, name: str) -> "SheetRows":
        """The sheet checked (``_prepare``, perhaps already done ahead), then parsed by
        calamine. Runs on the main thread or on a read-ahead thread, the parse never on both
        at once (``_lock``): calamine's workbook object refuses a second caller while it
        parses."""
        prepared = self._prepared.pop(name, None)
        checked = prepared.result() if prepared is not None else self._prepare(name)
        with self._lock:
            errors = {}
            if checked is not None:
                errors = checked.errors
                if checked.formulas is not None:
                    self.with_formulas[name] = checked.formulas
                if checked.readable is not None:
                    self._patch(checked.part, checked.readable)
            book = self._patched if checked is not None and checked.part in self._patches else self._book
            try:
                return SheetRows(book.get_sheet_by_name(name), errors)
            except Exception:   # calamine raises its own kinds, in English, on damaged sheets
                raise UnreadableSheet(f"シート「{name}」の値を読めません（XML が壊れているか、共有文字列が"
                                      "見つかりません）。Excel で開いて保存し直してください") from None

    def _patch(self, part: str, readable: bytes) -> None:
        """calamine reads from a copy of the package in memory, with this sheet made
        readable to it (calamine_readable) or as the scans read it (a sheet not in the
        usual form, sheet_form); rare, so the copy is made only then."""
        from python_calamine import CalamineWorkbook

        self._patches[part] = readable
        if self._patched is not None:
            self._patched.close()
        self._patched = CalamineWorkbook.from_filelike(io.BytesIO(self._pkg.copy_with(self._patches)))

    def drop(self) -> None:
        """Forget the grids read so far (their memory is needed for the write)."""
        self._cache.clear()
        self._streams.clear()

    def close(self) -> None:
        if self._workers is not None:   # what was read ahead but never asked for ends first
            for worker in self._workers:
                worker.shutdown(wait=True, cancel_futures=True)
            self._workers = None
        self._pending.clear()
        self._prepared.clear()
        self._book.close()
        if self._patched is not None:
            self._patched.close()


class _Checked(NamedTuple):
    """What ``Grids._prepare`` found of a sheet: what calamine must read instead of the part
    (None: the part as it is), the error values to put back, the XML kept for the formula check."""
    part: str
    errors: dict
    readable: Optional[bytes]
    formulas: Optional[bytes]


# What a sheet the contract reads may span. calamine allocates the whole rectangle from A1
# to the last cell at once, and a process that asks for more memory than there is is
# killed outright (no exception): a single cell at XFD1048576 asks for 17 billion cells.
# So the extent is measured in the sheet's XML first. A 20,000-indicator master is
# 20,001 rows by 13 columns.
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000
MAX_CELLS = 4_000_000
# A cell calamine keeps: an opening <c> tag that is not self-closing (an empty styled cell
# <c r="Z9" s="1"/> and an empty <row/> are skipped, as Excel writes for a comment on
# XFD1048576). Cell attributes (r, s, t, cm, vm, ph) hold no "/".
_FILLED = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>/]*>')
_WIDE_FILLED = re.compile(rb' r="([A-Z]{2,3})[0-9]+"[^>/]*>')   # rows have r="12": only cells match


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_shared_strings(pkg: Package, workbook: WorkbookXml) -> None:
    """What calamine reads besides the sheets, checked before it does: it resolves entities
    itself (a DTD in the shared strings is refused first) and reads on past characters
    XML forbids (reading a part checks them: package.xml.check_xml_chars), in the shared
    strings and in the styles alike."""
    for rel in read_rels(pkg, workbook.part):
        if rel.type.endswith("/sharedStrings") and rel.part and rel.part not in pkg:
            # Damage even where no sheet that is read needs it (an input file's own sheet
            # holds its texts inline): Excel reports such a file as broken.
            raise UserError("共有文字列の部品（sharedStrings.xml）がありません（ファイルが壊れています）。"
                            "Excel で開いて保存し直してください")
        if rel.type.endswith("/sharedStrings") and rel.part and rel.part in pkg:
            if has_dtd(pkg.read(rel.part)):
                raise UserError(dtd_refusal("共有文字列（sharedStrings.xml）"))
        elif rel.type == T_STYLES and rel.part and rel.part in pkg:
            pkg.read(rel.part)


def check_sheet_xml(name: str, raw: bytes) -> tuple[Optional[bytes], bool]:
    """What must hold before calamine reads a sheet: a worksheet, well-formed enough, no
    DTD, no raw control characters (not XML; Excel calls such a file corrupt), no damaged
    text number, and an extent calamine can allocate. Returns the sheet rewritten in the
    usual form (sheet_form) when it was not in it, else None: then that is what the scans
    and calamine must read; and whether it may hold an error value (else ``cached_errors``
    and ``calamine_readable`` have nothing to find)."""
    from .sheet_form import check_shared_indexes, foreign_cell, in_usual_form, survey

    head = raw[:4096]
    if has_dtd(raw):
        raise UnreadableSheet(dtd_refusal(f"シート「{name}」の XML "))
    root = re.search(rb"<(\w+:)?worksheet[\s>]", head)
    if not root:
        raise UnreadableSheet(f"シート「{name}」はワークシートとして読めません（ファイルが壊れています）")
    prefix = root.group(1) or b""
    other = foreign_cell(raw, prefix)
    if other is not None:
        raise UnreadableSheet(f"シート「{name}」は Excel 以外の書き方で保存されています（セルの名前空間の接頭辞"
                              f"「{other or 'なし'}」がシートの「{prefix.decode('ascii', 'replace') or 'なし'}」と"
                              "違います）。Excel で開いて保存し直してください")
    usual, odd_at, errors = survey(raw, prefix)
    rewritten = None if usual else in_usual_form(name, raw)
    if rewritten is not None:
        raw = rewritten
        odd_at, errors = survey(raw, prefix)[1:]
    # Characters XML forbids were refused as the part was read (package.xml.check_xml_chars).
    check_shared_indexes(name, raw, prefix)
    check_extent(name, raw, prefix, odd_at)
    return rewritten, errors


def check_extent(name: str, raw: bytes, prefix: bytes, odd_at: Optional[int]) -> None:
    """``odd_at``: where the first cell tag starts that may lie past column Z or at row
    100,000 or below (sheet_form.survey; None when none does), perhaps before the last cell
    in the file, where the rows are not counted from the last cell alone."""
    rows = 0
    opening = b"<" + prefix + b"c "
    end = raw.rfind(b"sheetData>")
    while end > 0:   # cells come in row order: the last filled one has the largest row
        start = raw.rfind(opening, 0, end)
        if start < 0:
            break
        m = _FILLED.match(raw, start)
        if m:
            rows = int(m.group(2))
            break
        end = start
    cols = 26
    if odd_at is not None:
        from .sheet_form import far_rows

        rows = max(rows, far_rows(raw, prefix, odd_at))
        cols = max((_column(letters) for letters in set(_WIDE_FILLED.findall(raw, odd_at))), default=26)
    if rows > MAX_ROWS or cols > MAX_COLUMNS or rows * cols > MAX_CELLS:
        from ..core.refs import column_letter

        # The message names the real last column (26 above is only the least calamine takes).
        widest = max((_column(letters) for letters in set(re.findall(rb' r="([A-Z]{1,3})[0-9]+"', raw))), default=1)
        raise UnreadableSheet(f"シート「{name}」の使用範囲が大きすぎます（{column_letter(widest)}{rows} まで、"
                        f"上限は {MAX_ROWS:,} 行・{MAX_COLUMNS:,} 列）。"
                        "Excel で使っていない行・列を選んで削除し、保存し直してください")


# A cell holding an error value: <c r="E5" t="e"><f>#REF!+1</f><v>#REF!</v></c>. Attributes
# come in any order; the value is what Excel shows.
ERROR_MARK = b't="e"'
# Kept as text: ``re`` compiles each on its first use (its own cache), and most masters
# hold no error value, so a command does not pay for compiling them at every start.
_ERROR_CELL = rb'(?s)<(?:\w+:)?c\b([^>]*\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>'
_ERROR_REF = rb'\br="([A-Z]{1,3})([0-9]+)"'
_ERROR_TEXT = rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>"


def cached_errors(raw: bytes) -> dict[int, dict[int, str]]:
    """Error values a sheet's XML holds, by 0-based row and column.

    python-calamine hands an error cell over as "" (an empty cell), which would let
    「#REF!」 pass for "nothing reported" or be imported as emptiness over a value. The
    error is put back into the grid as the text Excel shows, as xlwings reads it
    (err_to_str), so the core classifies both faces' values in one place
    (renkei_xl.core.values.error_value)."""
    if ERROR_MARK not in raw:
        return {}
    import html   # here: its entity table costs 2 ms to import, and few sheets hold an error

    out: dict[int, dict[int, str]] = {}
    for m in re.finditer(_ERROR_CELL, raw):
        ref, value = re.search(_ERROR_REF, m.group(1)), re.search(_ERROR_TEXT, m.group(2))
        if ref and value and value.group(1).strip():
            text = html.unescape(value.group(1).decode("utf-8", "replace")).strip()
            out.setdefault(int(ref.group(2)) - 1, {})[_column(ref.group(1)) - 1] = text
    return out


# The error values python-calamine 0.9 reads; any other (#SPILL!, #CALC!, #GETTING_DATA …,
# Excel 365's) makes it refuse the whole sheet.
CALAMINE_ERRORS = frozenset({b"#NULL!", b"#DIV/0!", b"#VALUE!", b"#REF!", b"#NAME?", b"#NUM!", b"#N/A"})


def calamine_readable(raw: bytes) -> Optional[bytes]:
    """The sheet with every error value calamine does not know turned into one it does, or
    None when there is none. Only calamine reads the result: the real error is put back
    from ``cached_errors`` of the sheet as saved, so nothing of it is lost."""
    if ERROR_MARK not in raw:
        return None
    changed = False

    def fix(m: re.Match) -> bytes:
        nonlocal changed
        value = re.search(_ERROR_TEXT, m.group(2))
        if value is None or value.group(1).strip() in CALAMINE_ERRORS:
            return m.group(0)
        changed = True
        inner = m.group(2)[:value.start()] + b"<v>#N/A</v>" + m.group(2)[value.end():]
        return m.group(0)[:m.start(2) - m.start()] + inner + m.group(0)[m.end(2) - m.start():]
    out = re.sub(_ERROR_CELL, fix, raw)
    return out if changed else None


def with_errors(row: list, errors: Optional[Mapping[int, str]]) -> list:
    """A grid row with the sheet's error values in place of calamine's empty cells."""
    if errors:
        for col, text in errors.items():
            if col >= len(row):
                row.extend([None] * (col + 1 - len(row)))
            row[col] = text
    return row


class SheetRows(Sequence[list]):
    """Rows of one sheet from A1 (calamine drops the empty columns left of the data; they
    are put back), the first rows kept for header searches, the rest read forward."""

    HEAD = 64

    def __init__(self, sheet, errors: Optional[Mapping[int, Mapping[int, str]]] = None):
        self._sheet = sheet
        self._errors = errors or {}   # row → column → error text (0-based), see cached_errors
        self._len = sheet.end[0] + 1 if sheet.height else 0   # end: the last cell, 0-based
        self._pad = [None] * (sheet.start[1] if sheet.start else 0)
        self._head: list[list] = []
        self._it = None
        self._pos = 0            # index of the row the iterator gives next
        self._last: tuple[int, list] = (-1, [])

    def _convert(self, row, index: int) -> list:
        # text first, most cells; "" (calamine's empty cell) becomes None as in _cell
        out = self._pad + [(v or None) if type(v) is str else v if type(v) in _PLAIN else _cell(v)
                           for v in row]
        return with_errors(out, self._errors.get(index))

    def __len__(self) -> int:
        return self._len

    def __iter__(self):
        """Every row from the first, on an iterator of its own (the contract reader walks
        a sheet down once; going through ``__getitem__`` cost a call and its checks per row)."""
        head = self._head
        for i, row in enumerate(self._sheet.iter_rows()):
            yield head[i] if i < len(head) else self._convert(row, i)

    def loose(self) -> "LooseRows":
        """These rows for a reader to whom "" and None are alike (see LooseRows)."""
        return LooseRows(self)

    def _loose_iter(self):
        """The first rows as converted, then calamine's own rows. In the usual sheet (data
        from column A, no error values) the rest is calamine's iterator itself, chained in
        C: a Python step per row cost about 0.1 s of CPU over the 240,000 entry rows of a
        20,000 × 12 read, on the main thread."""
        head = self._head[:]   # as it is now: a lookup meanwhile may add to it
        rest = islice(self._sheet.iter_rows(), len(head), None)
        if not self._pad and not self._errors:
            return chain(head, rest)
        return chain(head, self._put_back(rest, len(head)))

    def _put_back(self, rows, first: int):
        """``rows`` (the first of them the sheet's row ``first``, 0-based) with the columns
        left of the data and the error values put back."""
        pad, errors = self._pad, self._errors
        for i, row in enumerate(rows, start=first):
            if pad:
                row = pad + row
            found = errors.get(i)
            yield with_errors(row, found) if found else row

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        if index < len(self._head):
            return self._head[index]
        if index == self._last[0]:
            return self._last[1]
        if self._it is None or index < self._pos:
            self._it, self._pos = iter(self._sheet.iter_rows()), 0
        row = None
        while self._pos <= index:
            row = self._convert(next(self._it), self._pos)
            if self._pos < self.HEAD and self._pos == len(self._head):
                self._head.append(row)
            self._pos += 1
        self._last = (index, row)
        return row


class LooseRows(Sequence[list]):
    """A sheet's rows as calamine gives them below the first rows: "" for an empty cell,
    times and durations not yet converted, the error values and the columns left of the
    data put back. The contract reader turns every cell into text (contract_read.text),
    which reads "" as None and the rest as _cell would, so converting each cell first
    only cost time: 0.1 s of a 20,000 × 12 master's read, all of it holding the GIL that
    the sheet read ahead needs."""

    def __init__(self, rows: SheetRows):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        return self._rows[index]

    def __iter__(self):
        return self._rows._loose_iter()


class FileState:
    """The master as one write sees it; ``data`` is dropped once the plan is made."""

    __slots__ = ("pkg", "workbook", "data", "state", "styles", "sheets")

    def __init__(self, pkg: Package, workbook: WorkbookXml, data: Optional[MasterData],
                 state: MasterState, styles: "StyleReader", sheets: Grids):
        self.pkg, self.workbook, self.data, self.state = pkg, workbook, data, state
        self.styles = styles
        self.sheets = sheets     # every sheet the contract reads (read again when asked)

    def close(self) -> None:
        self.sheets.close()


class StyleReader:
    """Cell fills read lazily from styles.xml and the sheet parts (only marked cells ask)."""

    def __init__(self, pkg: Package, workbook: WorkbookXml):
        self.pkg = pkg
        self.workbook = workbook
        self.part = next((r.part for r in read_rels(pkg, workbook.part) if r.type == T_STYLES), None)
        self._styles: Optional[Styles] = None
        self._sheets: dict[str, SheetCells] = {}

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            if self.part is None or self.part not in self.pkg:
                raise UserError(f"「{self.pkg.path.name}」に書式の部品（styles.xml）がありません")
            self._styles = Styles(self.pkg.text(self.part), self.part)
        return self._styles

    def sheet(self, name: str) -> SheetCells:
        if name not in self._sheets:
            entry = self.workbook.sheet(name)
            if entry is None or entry.part is None:
                raise UserError(f"シート「{name}」の部品が見つかりません")
            text = self.pkg.text(entry.part)
            self._sheets[name] = SheetCells(text, entry.part, prefix_of(text))
        return self._sheets[name]

    def fill_of(self, sheet: str, ref: str) -> Optional[str]:
        row, col = parse_ref(ref)
        return self.styles.fill_of(self.sheet(sheet).style_of(row, col))


# The patterns below ANY_FORMULA are text for the reason _ERROR_CELL's are: only a sheet
# that holds a formula needs them.
_CELL = r"(?s)<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)"
_REF = r'\sr="([A-Z]{1,3}\d+)"'
_FORMULA = r"<(?:\w+:)?f[\s>/]"
ANY_FORMULA = rb"<(?:\w+:)?f[\s>/]"
_PLAIN_FORMULA = re.compile(rb"<f[\s>/]")
_PREFIXED_FORMULA = re.compile(rb":f[\s>/]")


def holds_formula(raw: bytes) -> bool:
    """``ANY_FORMULA.search(raw)``, ten times faster on a large sheet: a pattern that
    starts with a bare ``<`` is tried at every tag, one that starts with a literal is
    searched for as a string. A prefixed formula (``<x:f>``) holds ``:f``, so the full
    pattern runs only then."""
    return bool(_PLAIN_FORMULA.search(raw) or (_PREFIXED_FORMULA.search(raw) and re.search(ANY_FORMULA, raw)))
# A saved result: <v>17</v>; openpyxl writes <v /> (nothing saved). Excel writes an empty
# text result as t="str" with <v></v>, which counts as saved.
_VALUE = r"<(?:\w+:)?v>[^<]+</(?:\w+:)?v>"
_TEXT_RESULT = r'\st="str"'


def uncached_formulas(sheets: Mapping[str, bytes]) -> dict[str, list[str]]:
    """Cells holding a formula without a saved result, per sheet (of the sheets read, as
    their XML; Grids keeps those that hold a formula at all).

    Excel and LibreOffice save each formula's last result; a file written by a library
    (openpyxl, for one) may not. calamine then reads the cell as empty, which must never
    pass for "nothing reported": such cells become findings.
    """
    out: dict[str, list[str]] = {}
    for name, raw in sheets.items():
        for m in re.finditer(_CELL, raw.decode("utf-8")):
            inner = m.group(2) or ""
            if re.search(_FORMULA, inner) and not re.search(_VALUE, inner) and not (
                    re.search(_TEXT_RESULT, m.group(1)) and re.search(r"<(?:\w+:)?v>", inner)):
                ref = re.search(_REF, m.group(1))
                if ref:
                    out.setdefault(name, []).append(ref.group(1))
    return out


def _formula_findings(data: MasterData, missing: dict[str, list[str]]) -> list[Finding]:
    """Only cells the contract reads matter: a formula in a staff memo column is theirs."""
    if not missing:
        return []
    wanted = {(sheet, ref) for sheet, refs in missing.items() for ref in refs}
    read = {(r.sheet, ref): getattr(r, "indicator_id", None) or getattr(r, "id", "")
            for r in [*data.entries, *data.indicators] if r.sheet in missing
            for ref in r.cells.values() if (r.sheet, ref) in wanted}
    out = []
    for sheet, refs in missing.items():
        for ref in refs:
            if (sheet, ref) in read:
                out.append(uncached_formula_finding(sheet, ref, read[(sheet, ref)]))
    return out


def _name_header_formulas(data: MasterData, missing: dict[str, list[str]]) -> None:
    """A header that is a formula saved without its result reads as empty, so the sheet's
    header is not found: the finding names that cell and why, not A1 (a file written by a
    tool other than Excel; Excel's save mends it)."""
    for i, f in enumerate(data.findings):
        refs = missing.get(f.sheet, ()) if f.type == MISSING_HEADER.code else ()
        near = sorted((ref for ref in refs if parse_ref(ref)[0] <= c.HEADER_SEARCH_ROWS), key=parse_ref)
        if near:
            data.findings[i] = f._replace(cell=near[0], message=f"{f.message}（見出しのセル {near[0]} は数式で、"
                                          "計算結果が保存されていません。Excel で開いて保存し直してください）")


def _settings_formulas(grids: "Grids", names: Mapping[str, tuple[str, str]]) -> None:
    """A setting whose formula has no saved result is refused before 設定 is read: calamine
    gives it as empty, and 設定 is never read around a gap (contract_read.read_settings)."""
    if c.SETTINGS not in grids:
        return
    grids.rows(c.SETTINGS)
    raw = grids.with_formulas.get(c.SETTINGS)
    refs = set(uncached_formulas({c.SETTINGS: raw}).get(c.SETTINGS, ())) if raw else set()
    if not refs:
        return
    read = {ref.replace("$", "").split(":")[0]: name for name, (sheet, ref) in names.items()
            if sheet == c.SETTINGS and name in (*c.SETTING_NAMES, c.N_SERVER_FOLDER)}
    book = Book({c.SETTINGS: grids.rows(c.SETTINGS)}, {})
    try:
        header_row, cols = book.header(c.SETTINGS, c.MUNI_HEADERS, ("name",))
    except UserError:
        header_row, cols = 0, {}
    for ref in sorted(refs, key=parse_ref):
        row, col = parse_ref(ref)
        label = read.get(ref) or next((c.MUNI_HEADERS[f] for f, k in cols.items()
                                       if k == col and row > header_row), None)
        if label is not None:
            f = uncached_formula_finding(c.SETTINGS, ref, "")
            raise UserError(f"{f.place}: {label}の{f.message}")


def read_state(pkg: Package, keep_grids: bool = False, workbook: Optional[WorkbookXml] = None) -> FileState:
    """``keep_grids``: the contract reads whole grids and keeps them (see Grids).
    ``workbook``: workbook.xml already read (kind.check_master), not parsed again."""
    workbook = workbook or WorkbookXml(pkg)
    check_shared_strings(pkg, workbook)
    sheetnames = [s.name for s in workbook.sheets if s.part is not None]
    names = workbook.workbook_names()
    wanted = needed_sheets(sheetnames)
    extra = [n for n in c.STATE_SHEETS if n in sheetnames]
    grids = Grids(pkg, [*wanted, *extra], workbook, keep=None if keep_grids else Grids.KEEP)
    try:
        grids.read_ahead([*extra, c.SETTINGS, c.INDICATORS])   # 指標 checked while 設定 is read
        own = {n: grids[n] for n in extra}
        _settings_formulas(grids, names)
        data = read_contract(ContractView(grids, wanted, whole=keep_grids), names, grids.read_ahead)
    except BaseException:
        grids.close()
        raise
    uncached = uncached_formulas(grids.with_formulas)
    _name_header_formulas(data, uncached)
    data.findings.extend(_formula_findings(data, uncached))
    grids.with_formulas.clear()
    styles = StyleReader(pkg, workbook)
    state = MasterState(sheetnames, names, own, styles.fill_of)
    return FileState(pkg, workbook, data, state, styles, grids)


class ContractView(_Named):
    """The sheets the contract reads, out of all the grids: streamed, or ``whole`` grids."""

    def __init__(self, grids: Grids, names: Sequence[str], whole: bool = False):
        self._grids, self._names, self._whole = grids, list(names), whole

    def __getitem__(self, name: str) -> Sequence[list]:
        if name not in self._names:
            raise KeyError(name)
        return self._grids[name] if self._whole else self._grids.rows(name).loose()


