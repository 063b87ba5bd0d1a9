"""The sheets of one workbook file as rows, read with python-calamine when first asked, the
large ones checked and parsed ahead of the reader on threads of their own."""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and the first compile() of a process builds the ast module's
# types, about 3 ms of every command (docs/performance.md).

import io
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Optional, Sequence

from ..core.errors import UnreadableSheet, UserError
from ..package.sheet_tail import remember
from ..package.workbook import MACRO_SHEET_KINDS, WorkbookXml, sheet_kind
from ..package.zipped import Package
from .sheet_checks import (check_shared_strings_size, check_sheet_xml, duration_styles, holds_formula, shown_styles,
                           put_back, rich_lookup, unopened_part)
from .sheet_rows import SheetRows

if TYPE_CHECKING:
    from concurrent.futures import Future


class SheetMapping(Mapping[str, list]):
    """A mapping over a fixed list of sheet names (``_names``)."""

    _names: list[str]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class Grids(SheetMapping):
    """Sheets as rows of values, read with calamine when first asked, few kept at a time.

    The contract reader goes through the sheets one after another; keeping every grid of a
    20,000-row master alive until the write would double the memory a run needs.
    """

    KEEP = 2

    def __init__(self, pkg: Package, names: Sequence[str], workbook: Optional[WorkbookXml] = None,
                 keep: Optional[int] = KEEP, checked_first: Sequence[str] = ()):
        """``keep=None``: every grid read stays (a caller that needs all of them anyway,
        as split does, then reads none twice). ``checked_first``: the large sheets among
        them whose checks begin before python-calamine opens the book (``_check_first``)."""
        from python_calamine import CalamineWorkbook

        self._pkg = pkg
        self._workbook = workbook or WorkbookXml(pkg)
        self._rich = rich_lookup(self._workbook)   # Excel 365's rich error values, by vm
        self._names = list(names)
        self._keep = keep
        self._cache: OrderedDict[str, list] = OrderedDict()
        self._streams: OrderedDict[str, SheetRows] = OrderedDict()
        self.with_formulas: dict[str, bytes] = {}   # sheets read so far that hold a formula
        self.formulas: dict[str, bool] = {}         # every sheet read so far: holds one (apply_plan asks)
        self._patches: dict[str, bytes] = {}         # part → as calamine reads it (calamine_readable)
        self._patched = None
        self._lock = threading.Lock()
        self._ahead: list[str] = []                  # read_ahead: the sheets asked for next
        self._pending: dict[str, Future] = {}    # the one being parsed ahead, by name
        self._prepared: dict[str, Future] = {}   # the large ones after it, being checked (_prepare)
        self._workers: Optional[tuple] = None     # their threads, one per kind (_submit)
        self._durations_found: Optional[frozenset] = None
        self._percent_xfs: Optional[dict] = None
        # sheet → (row, col) → number format of its numbers whose format is not plain
        # (core.displayed.plain_format; core.percent_cells), found as each sheet is read
        self.percents: dict[str, dict] = {}
        # calamine reads the shared strings whole as it opens the book, so their limit comes
        # first here too: not every reader of a sheet checked them before (conf, rollover)
        check_shared_strings_size(pkg, self._workbook)
        # python-calamine refuses a whole book holding an Excel 4.0 macro sheet (「Unrecognized
        # sheet:type」: it knows worksheets, chart and dialog sheets only), which the command
        # line then called damaged, though Excel opens it and saving again keeps the sheet. The
        # tool reads no macro sheet, so calamine is shown the book without its tabs.
        macro = {s.rid for s in self._workbook.sheets
                 if sheet_kind(self._workbook.rels[s.rid].type) in MACRO_SHEET_KINDS}
        if macro:
            self._patches[self._workbook.part] = self._workbook.without_sheets(macro)
        self._book = None
        self._check_first(checked_first)
        try:
            self._book = (CalamineWorkbook.from_filelike(io.BytesIO(pkg.copy_with(self._patches))) if macro
                          else CalamineWorkbook.from_path(str(pkg.path)))
        except Exception:   # calamine raises its own kinds, in English, on damaged files
            said = unopened_part(pkg, self._workbook)
            self.close()    # the checks begun first end here, and nothing of theirs is raised
            raise UserError(f"「{pkg.path.name}」の" + (said or "値を読めません（ファイルが壊れています）")
                            + "。Excel で開いて保存し直してください") from None

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

    def _check_first(self, names: Sequence[str]) -> None:
        """The checks of the large sheets ``names`` begun on the check thread (``_prepare``),
        as ``read_ahead`` would begin them: the reader waits for the first large sheet's
        checks and parse before it can go on (指標 of a 20,000 × 12 master: 10 MB, its checks
        ≈ 70 ms, then its parse ≈ 140), and calamine's opening of the book, which reads its
        shared strings whole on the main thread (≈ 13 ms of that master's), and 設定's read no
        longer come before those checks. A sheet's damage is raised where it is asked for, as
        from any check begun ahead; a book calamine cannot open ends them (``close``)."""
        for name in names:
            if name in self._names and name not in self._prepared and self._large(name):
                self._prepared[name] = self._submit(1, self._prepare, name)

    def _submit(self, kind: int, call: Callable[[str], object], name: str) -> "Future":
        """``call(name)`` on the thread kept for its kind (0: parses, 1: checks). A thread
        per sheet left glibc's per-thread arenas mixed between the two kinds of work, and
        the peak memory of a 20,000 × 12 recalc moved between 151 and 194 MiB from run to
        run; one thread per kind holds it at 164 (158 with one thread doing both, slower).
        Run in the reader's context: a refusal made there says the run again in the face's
        words (core.face.again), where a button's click was told 「もう一度実行して」."""
        import contextvars

        if self._workers is None:
            # here: only a large sheet is read ahead, and the import costs a small master's run ms
            from concurrent.futures import ThreadPoolExecutor

            self._workers = (ThreadPoolExecutor(1, "renkei-parse"), ThreadPoolExecutor(1, "renkei-check"))
        return self._workers[kind].submit(contextvars.copy_context().run, call, name)

    def _prepare(self, name: str) -> "Optional[_Checked]":
        """The sheet's XML read and checked, as calamine must then read it (None: a sheet
        without a part). Touches nothing shared, so it runs beside a parse."""
        entry = self._workbook.sheet(name)
        if entry is None or entry.part is None:
            return None
        try:
            raw = self._pkg.read(entry.part, parser_read=True)   # rewritten by check_sheet_xml where not in the usual form
        except UserError as exc:   # a missing or broken part: the sheet cannot be read
            said = str(exc)
            raise UnreadableSheet(said if said.startswith(f"シート「{name}」") else
                                  f"シート「{name}」を読めません: {said}") from None
        remember(self._pkg, entry.part, raw)   # for a rebuild's keepers (package.sheet_tail)
        rewritten, may_hold_errors, negatives = check_sheet_xml(name, raw, self._durations())
        raw = rewritten or raw
        errors, readable = put_back(raw, may_hold_errors, negatives, self._rich)
        # the bytes are kept for uncached_formulas only where there is a formula; the cells of
        # formats not plain are sought only on the sheets a number is read as shown on (read_on:
        # not 設定 nor the tool's own 一覧 and 集計, the largest sheets of a large master)
        from ..core.percent_cells import read_on

        return _Checked(entry.part, errors, readable or rewritten, raw if holds_formula(raw) else None,
                        self._percent_cells(entry.part, raw) if read_on(name) else {})

    def _percent_cells(self, part: str, raw: bytes) -> dict:
        """The sheet's numbers and empty cells in a cell format whose number format is not
        plain (shown_styles), by (row, col), with that format (package.cells.numbers_formatted: the
        reader reads the numbers by it, collect's plan the cells it writes); found by a search
        of the bytes for those formats first, so a sheet without one costs a few searches."""
        xfs = self._percents()
        if not xfs:
            return {}
        from ..package.cells import numbers_formatted, styles_named

        named = styles_named(raw, frozenset(xfs))
        if not named:
            return {}
        xfs = {xf: xfs[xf] for xf in named}
        from ..package.xml import prefix_of

        text = raw.decode("utf-8", "replace")
        return {cell: code for cell, (code, _number) in numbers_formatted(text, prefix_of(text), part, xfs).items()}

    def _percents(self) -> dict:
        """shown_styles of the book, read once (both read-ahead threads
        may ask at once and get the same answer); its cell formats are searched only where
        styles.xml declares a number format or names a built-in one that is not plain."""
        if self._percent_xfs is None:
            self._percent_xfs = shown_styles(self._pkg, self._workbook)
        return self._percent_xfs

    def formats(self, name: str) -> dict:
        """The cells of a sheet read so far whose number format is not plain
        (``_percent_cells``), for core.contract_read.read_contract's ``formats``."""
        return self.percents.get(name, {})

    def _durations(self) -> frozenset:
        """The book's duration styles (sheet_checks.duration_styles), read once; the
        read-ahead threads may ask at once, and both get the same answer."""
        if self._durations_found is None:
            self._durations_found = duration_styles(self._pkg, self._workbook)
        return self._durations_found

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
                self.formulas[name] = checked.formulas is not None
                if checked.formulas is not None:
                    self.with_formulas[name] = checked.formulas
                if checked.readable is not None:
                    self._patch(checked.part, checked.readable)
                self.percents[name] = checked.percents
            book = self._patched if checked is not None and checked.part in self._patches else self._book
            try:
                return SheetRows(book.get_sheet_by_name(name), errors)
            except Exception as exc:   # calamine raises its own kinds, in English, on damaged sheets
                raise UnreadableSheet(self._unreadable(name, exc)) from None

    def _unreadable(self, name: str, exc: BaseException) -> str:
        """The cell calamine could not read in sheet ``name``, said (stored_values), else
        the reason its refusal ``exc`` gives (stored_values.calamine_refusal): the sheet read
        again, as only a refused one is."""
        from .stored_values import calamine_refusal, shared_texts, unreadable_cell

        raw = self._pkg.read(self._workbook.sheet(name).part, parser_read=True)
        rewritten = check_sheet_xml(name, raw, self._durations())[0]
        return (unreadable_cell(name, rewritten or raw, shared_texts(self._pkg, self._workbook))
                or calamine_refusal(name, exc, "Excel で開いて保存し直してください"))

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
        if self._book is not None:     # closed once more is nothing (a write closes it before its rename)
            self._book.close()
            self._book = None
        if self._patched is not None:
            self._patched.close()
            self._patched = None


class _Checked(NamedTuple):
    """What ``Grids._prepare`` found of a sheet: what calamine must read instead of the part
    (None: the part as it is), the error values to put back, the XML kept for the formula check."""
    part: str
    errors: dict
    readable: Optional[bytes]
    formulas: Optional[bytes]
    percents: dict = {}

