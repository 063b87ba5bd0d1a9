"""A returned input workbook, read without openpyxl: values with calamine, identifier and
save time from the package's document properties.

Municipalities return small files, but they arrive from outside: the package layer
refuses DTDs, zip bombs and broken parts, and each sheet's extent is measured before
calamine allocates it (renkei_xl.workbook.sheet_checks.check_extent). Reading with calamine also
keeps openpyxl's import (a quarter of a second) out of 回収ファイル取込.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Optional

from ..clock import JAPAN, local, now
from ..core.calc_on_load import saved_uncalculated
from ..core.errors import UserError
from ..package.cells import hidden_rows, merged_areas
from ..package.protection import sheet_protected
from ..package.workbook import WorkbookXml
from ..package.xml import parse
from ..package.zipped import Package
from .sheet_checks import (check_places_once, check_shared_strings, check_sheet_xml, duration_styles, formula_cells,
                           holds_formula, put_back, rich_lookup, shown_styles, unopened_part)
from .sheet_form import note_numbers_shown, worksheet_prefix
from .sheet_rows import with_errors
from .stored_values import calamine_refusal, shared_texts, unreadable_cell

CORE = "docProps/core.xml"
DCTERMS = "{http://purl.org/dc/terms/}modified"
APP = "docProps/app.xml"
APPLICATION = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Application"
# How far past the moment of reading a save time may lie and still be one: a municipality's
# PC clock a few hours fast, or a writer that stores local time marked as UTC (Japan's nine
# hours). Beyond it the time is no time (ReturnedBook._modified).
FUTURE_SLACK = dt.timedelta(days=1)


class ReturnedBook:
    def __init__(self, raw: bytes, name: str = "returned.xlsx"):
        from python_calamine import CalamineWorkbook

        self._pkg = Package(Path(name), raw)
        self._uncached: dict[str, list[str]] = {}
        self._stale: dict[str, list[str]] = {}
        self._merged: dict[str, list[tuple[int, int, int, int]]] = {}
        self._hidden: dict[str, set[int]] = {}
        self._protected: dict[str, bool] = {}
        self._grids: dict[str, object] = {}     # grid's reading (or its refusal, a UserError), per sheet
        self._styles = None     # a StyleReader made when first asked (_styled); False: unreadable
        # Asked of the book once, not per sheet read (_read_grid): each asking read the
        # workbook's relationships and styles.xml again (and WorkbookXml.sheet walked every
        # tab), so a return of 20,000 empty sheets (5 MB, every one read to see it holds no
        # answer) ran past two minutes (qa-returns64).
        self._durations: Optional[frozenset[bytes]] = None
        self._by_number: Optional[dict[int, str]] = None
        self._entries: Optional[dict] = None
        try:
            self._workbook = WorkbookXml(self._pkg)
            self._rich = rich_lookup(self._workbook)   # Excel 365's rich error values, by vm
            check_shared_strings(self._pkg, self._workbook)
            # Saved by the municipality's Excel in manual calculation without calculating
            # (core.calc_on_load.saved_uncalculated, as the master's reader asks): every
            # formula's saved result may predate what it reads.
            self.uncalculated = saved_uncalculated(self._workbook.calc_setting("calcMode"),
                                                   self._workbook.calc_setting("calcOnSave"))
            # Still asking to be calculated on opening (fullCalcOnLoad, as split issued it):
            # neither Excel nor LibreOffice saved it, as both drop the flag, so no formula's
            # saved result was calculated by either (the master's reader takes the flag the
            # same way: core.calc_on_load.stale_results).
            self.flagged = self._workbook.full_calc_on_load and not self.uncalculated
            # Read once: workbook.xml is searched from its start, past every sheet's tab, so
            # asked per sheet read it made a book of many sheets quadratic (as _durations).
            self._full_precision = self._workbook.full_precision
            self.sheetnames = [s.name for s in self._workbook.sheets if s.part is not None]
            self.custom = self._custom()
            self.modified = self._modified()
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        except UserError:
            self._pkg.close()
            raise
        except Exception:   # calamine raises its own kinds, in English, on a damaged file
            said = unopened_part(self._pkg, getattr(self, "_workbook", None))
            self._pkg.close()
            raise UserError(said or "壊れているか、Excel のブックではありません") from None

    def close(self) -> None:
        self._pkg.close()

    def __enter__(self) -> "ReturnedBook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _custom(self) -> dict[str, str]:
        from .kind import custom_properties

        return custom_properties(self._pkg)

    def _modified(self) -> Optional[dt.datetime]:
        """The last save time (core ``modified``, stored in UTC, by LibreOffice in the PC's
        local time: _stamped_local) as local time; None where
        there is none, it cannot be read or converted, or it lies after now (FUTURE_SLACK):
        a PC whose clock ran years ahead saved 「2099/01/01」, collect took it as the newest
        submission and logged it, and every later return of that municipality (its
        correction) was refused as older, on the buttons with a --force they cannot give.
        With no save time the file is ordered as one without (collect._newest_of_each)."""
        data = self._pkg.get(CORE, parser_read=True)
        el = parse(data, CORE).find(DCTERMS) if data is not None else None
        if el is None or not (el.text or "").strip():
            return None
        stamp = el.text.strip()
        try:
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None or stamp.endswith("Z"):
            when = when.replace(tzinfo=JAPAN if self._stamped_local() else dt.timezone.utc)
        when = local(when)
        if when is None or when > now() + FUTURE_SLACK:
            return None
        return when.replace(microsecond=0)

    def _stamped_local(self) -> bool:
        """Whether LibreOffice (or a product built on it: its generator string ends in
        「…_project/build」) saved the file. It stamps core's modified with the PC's own clock
        and marks it UTC all the same (sfx2 takes the system's local time, its OOXML export
        writes it with 「Z」; measured with 7.4 in Japan: saved at 09:56 UTC, 「18:56:30Z」).
        Read as UTC, a return from Calc was nine hours newer than it was, and came before a
        correction saved in Excel within them: that one was left out as the older, or refused
        as older than the imported one. The municipalities' clocks keep Japan time."""
        data = self._pkg.get(APP, parser_read=True)
        try:
            el = parse(data, APP).find(APPLICATION) if data is not None else None
        except UserError:
            return False
        name = (el.text or "").strip() if el is not None else ""
        return name.startswith("LibreOffice") or "_project/" in name

    def grid(self, name: str) -> list[list[object]]:
        """The sheet's values from A1 (empty cells None); formulas as their saved results.
        Read once per sheet (the book is bytes that do not change) and handed out as a copy:
        collect asks for the first sheet's identifier block twice and then for the
        municipality's table, the same sheet, each a parse, checks and a calamine read."""
        if name not in self._grids:
            try:
                self._grids[name] = self._read_grid(name)
            except UserError as exc:
                # Kept without its traceback, whose frames hold the sheet's bytes.
                self._grids[name] = exc.with_traceback(None)
        if isinstance(self._grids[name], UserError):
            # A refusal is kept as a grid is: a sheet refused for its extent (styled cells down
            # to the grid's last row, 47 MB) was measured again at each asking, four times,
            # 1.4 s each, before collect refused the return (qa-returns64b).
            raise self._grids[name].with_traceback(None)
        return [list(row) for row in self._grids[name]]

    def sheet_xml(self, name: str) -> bytes:
        """Sheet ``name``'s part as saved (KeyError where the book has no such sheet)."""
        return self._pkg.read(self._entry(name).part, parser_read=True)

    def _entry(self, name: str):
        if self._entries is None:       # the first of each name, as WorkbookXml.sheet finds it
            self._entries = {}
            for sheet in self._workbook.sheets:
                self._entries.setdefault(sheet.name, sheet)
        entry = self._entries.get(name)
        if entry is None or entry.part is None:
            raise KeyError(name)
        return entry

    def _read_grid(self, name: str) -> list[list[object]]:
        entry = self._entry(name)
        raw = self._pkg.read(entry.part, parser_read=True)   # rewritten below where not in the usual form
        if self._durations is None:
            self._durations = duration_styles(self._pkg, self._workbook)
        rewritten, _errors, negatives = check_sheet_xml(name, raw, self._durations)    # not None: not in the usual form (sheet_form)
        raw = rewritten or raw
        by_number = self._dates_by_number()
        if by_number and (0 in by_number or any(b' s="%d"' % k in raw for k in by_number)):
            note_numbers_shown(negatives, raw, worksheet_prefix(raw) or b"", by_number)
        check_places_once(name, raw)
        cells = (formula_cells({name: raw}, saved_too=self.uncalculated or self.flagged, constants=self.flagged)
                 .get(name, {}) if holds_formula(raw) else {})
        self._uncached[name] = [ref for ref, saved in cells.items() if not saved]
        self._stale[name] = [ref for ref, saved in cells.items() if saved]
        self._merged[name] = merged_areas(raw.decode("utf-8", "replace")) if b"mergeCell" in raw else []
        self._hidden[name] = hidden_rows(raw.decode("utf-8", "replace")) if b"hidden" in raw else set()
        self._protected[name] = sheet_protected(raw)
        errors, readable = put_back(raw, True, negatives, self._rich)
        readable = readable or rewritten
        book = self._book
        if readable is not None:   # rewritten, or an error value calamine does not know: it reads a copy
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_filelike(io.BytesIO(self._pkg.copy_with({entry.part: readable})))
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:   # calamine's own kinds, in English
            raise UserError(unreadable_cell(name, raw, shared_texts(self._pkg, self._workbook))
                            or calamine_refusal(name, exc)) from None
        # An error cell calamine holds nothing for (<c t="e"/>) may lie below its last row.
        rows = list(rows) + [[] for _ in range(len(rows), max(errors, default=-1) + 1)]
        grid = [with_errors([None if v == "" else v for v in row], errors.get(r)) for r, row in enumerate(rows)]
        grid = self._dates_as_shown(name, grid)
        return grid if self._full_precision else self._as_shown(name, grid)

    def _dates_by_number(self) -> dict[int, str]:
        """The book's cell formats (index → number format) that show some numbers as dates
        and others not (core.displayed.shows_date_by_number), read once: the numbers of their
        cells python-calamine converted by the first section alone are put back where the
        section a number takes shows no date (sheet_form.note_numbers_shown). Empty for a book
        whose styles cannot be read (as _styled)."""
        if self._by_number is None:
            from ..core.displayed import shows_date_by_number
            from ..package.xml import PackageError

            try:
                formats = shown_styles(self._pkg, self._workbook)
            except (PackageError, UserError):
                formats = {}
            self._by_number = {k: fmt for k, fmt in formats.items() if shows_date_by_number(fmt)}
        return self._by_number

    def _dates_as_shown(self, name: str, grid: list[list[object]]) -> list[list[object]]:
        """Each number python-calamine handed over that its cell shows as a date (core.
        displayed.date_shown: an era format's 令和5年, 5 in 「[>=100]0;yyyy/m/d」) as that date,
        as python-calamine hands over every other date-formatted cell: it knows no era part
        and converts by a format's first section alone, and 令和5年 arrived as 45017, which
        a 実績値 imported as a number."""
        from ..core.displayed import date_shown, is_era_format, shows_date_by_number

        # Only a book whose own formats show an era or a date by the number holds one (the
        # built-in Japanese date formats calamine reads as dates): the cell by cell look
        # below costs 3-5 µs a numeric cell in date_shown alone (a return of 20,000
        # indicators holds ~100,000), and builds the sheet's style map besides.
        if not self._styled(lambda styles: any(is_era_format(code) or shows_date_by_number(code)
                                               for code in styles.styles.numfmts.values())):
            return grid
        for r, row in enumerate(grid, start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    when = date_shown(v, self.number_format(name, r, c) or "", self.date1904)
                    if when is not None:
                        row[c - 1] = when
        return grid

    def _as_shown(self, name: str, grid: list[list[object]]) -> list[list[object]]:
        """The numbers of a book set to precision as displayed (calcPr fullPrecision="0",
        「表示桁数で計算する」) as that Excel holds them: rounded to what each cell's format
        shows (core.displayed.as_displayed, the rule the master's writes follow). Excel
        rounds a number as it is typed there, but one typed before its cell got a 0.0 (the
        municipality formatting the cell after typing 12.345) is saved as typed, while its
        Excel shows 12.3 and, set so, calculates with what the cells show: collect imported
        12.345, a number the municipality never saw."""
        from ..core.displayed import as_displayed

        for r, row in enumerate(grid, start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    row[c - 1] = as_displayed(v, self.number_format(name, r, c))
        return grid

    def uncached(self, name: str) -> list[str]:
        """Cells of sheet ``name`` (read by ``grid`` first) whose formula has no saved result:
        calamine gives them as empty, which must never be imported over a value."""
        return self._uncached.get(name, [])

    def stale(self, name: str) -> list[str]:
        """Cells of sheet ``name`` (read by ``grid`` first) whose formula's saved result may be
        stale: the book was saved uncalculated (``uncalculated``), so =G23*2 may still hold
        what it gave before G23 was typed, which must never be imported as the answer.
        A formula of numbers alone (=6+11) is left out: nothing can have changed its result.
        In a book no application calculated (``flagged``) every formula's result counts,
        =6+11's too: XlsxWriter saves 0 for any formula, and Excel shows 17 once it opens it."""
        return self._stale.get(name, [])

    def merged(self, name: str) -> list[tuple[int, int, int, int]]:
        """The merged areas of sheet ``name`` (read by ``grid`` first), (first row, first
        col, last row, last col): calamine gives each one's value in its first cell only."""
        return self._merged.get(name, [])

    def protected(self, name: str) -> bool:
        """Whether sheet ``name`` (read by ``grid`` first) is still protected: its locked cells
        then hold what split wrote, or what the master's side changed, never a typed value."""
        return self._protected.get(name, True)

    def locked(self, name: str, row: int, col: int) -> Optional[bool]:
        """Whether the cell is one staff of the municipality could not type into: locked on
        a sheet still protected (as split issued it); None where the file's styles cannot
        be read (_styled)."""
        if not self.protected(name):
            return False
        return self._styled(lambda styles: styles.locked_at(name, row, col))

    def number_format(self, name: str, row: int, col: int) -> Optional[str]:
        """The number format the cell shows its value in (1-based row and column); None
        where the file's styles cannot be read (_styled)."""
        return self._styled(lambda styles: styles.number_format_at(name, row, col))

    def _styled(self, ask):
        """``ask`` of the book's styles, or None where they or the sheet's cell styles cannot
        be read (a damaged styles.xml, a sheet in a form the part reader does not take, such
        as single-quoted attributes, which calamine reads). A returned file's styles only
        word a finding (what a cell shows), name a closed cell and evidence a percentage:
        without them collect reads the values as the master's faces do, which know no
        format, and the file is not refused for a part the values do not need. A PackageError
        left to rise was named after the master, not the returned file; so was a file with
        no styles part at all (StyleReader's UserError), which stopped the whole collect."""
        from ..package.xml import PackageError
        from .state import StyleReader

        if self._styles is False:
            return None
        try:
            if self._styles is None:
                self._styles = StyleReader(self._pkg, self._workbook)
            return ask(self._styles)
        except (PackageError, UserError):
            self._styles = False
            return None

    @property
    def date1904(self) -> bool:
        """Whether the book counts its dates from 1904 (a serial is then another date)."""
        return self._workbook.date1904

    def notes(self, name: str) -> list[tuple[str, str]]:
        """(cell, text) of each note (comment) on sheet ``name``, as package.comments reads them."""
        from ..package.comments import sheet_comments

        return sheet_comments(self._pkg, self._workbook, name)

    def hidden_rows(self, name: str) -> set[int]:
        """The rows of sheet ``name`` (read by ``grid`` first) that are hidden, 1-based."""
        return self._hidden.get(name, set())
