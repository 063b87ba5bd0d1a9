"""What must hold of a sheet's XML before python-calamine reads it, and what calamine would
not show: the error values it gives as empty cells and the formulas saved without a result.

Every check reads the sheet's bytes (a second parse of a 10 MB sheet would double a read),
in the one form every spreadsheet application writes (renkei_xl.workbook.sheet_form makes
any other into it first). The master (renkei_xl.workbook.grids) and a returned input file
(renkei_xl.workbook.returned) are checked alike.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from ..core.face import again
from ..core.lazy_pattern import LazyPattern
from ..core.errors import UnreadableSheet, UserError
from ..core.refs import (COLUMN_LETTERS, LAST_COLUMN, LAST_ROW, LEAST_COLUMNS_READ, MAX_CELLS, MAX_COLUMNS, MAX_ROWS,
                         ROW_DIGITS, cell_ref, column_number, parse_ref)
from ..core.values import RICH_VALUE, UNKNOWN_ERROR, error_value
from ..package.part_names import ascii_folded, part_key
from ..package.rels import T_STYLES, read_rels
from ..package.workbook import WorkbookXml
from ..package.xml import UNSIGNED_DIGITS, dtd_refusal, has_dtd, unescape, unsigned_number
from ..package.zipped import BOOK_PLACE, Package

if TYPE_CHECKING:
    from .sheet_form import Undated


# What a sheet the contract reads may span. calamine allocates the whole rectangle from A1
# to the last cell at once, and a process that asks for more memory than there is is
# killed outright (no exception): a single cell at XFD1048576 asks for 17 billion cells.
# So the extent is measured in the sheet's XML first. A 20,000-indicator master is
# 20,001 rows by 13 columns.
# (The limits are core.refs': no plan writes past them either.)
_WIDE_FILLED = LazyPattern(rb' r="([A-Z]{2,%d})[0-9]+"[^<>/]*>' % COLUMN_LETTERS)   # rows have r="12": only cells match


def _column(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


# The largest shared-strings part read, inflated. python-calamine holds every text of the
# part as a string of its own when it opens a book (before any sheet is asked for): 64 MiB
# of empty texts (<si/>) took it 320 MiB, of one-letter ones 224 MiB, of 40-letter ones
# 80 MiB (measured, python-calamine 0.9.1). At the part limit (package.zipped,
# MAX_PART_BYTES) short texts would take more than a run may (500 MiB), so the shared
# strings have a limit of their own, said as such, well above any master's: a
# 20,000 × 12 master's part is 1.4 MB. The sheets need none: calamine reads them as it
# parses, and the checks read them in bounded windows (check_extent).
MAX_SHARED_STRINGS_BYTES = 32 * 2**20


def check_shared_strings_size(pkg: Package, workbook: WorkbookXml) -> None:
    """Refuses a shared-strings part over MAX_SHARED_STRINGS_BYTES, by the size the zip
    says (it inflates no further: zipfile stops there), before calamine opens the book;
    and one whose root claims more texts than the part can hold (check_unique_count)."""
    for rel in read_rels(pkg, workbook.part):
        if rel.type.endswith("/sharedStrings") and rel.part and rel.part in pkg:
            size = pkg.unpacked_size(rel.part)
            if size > MAX_SHARED_STRINGS_BYTES:
                raise UserError(f"共有文字列の部品（sharedStrings.xml）が大きすぎます（展開すると {size / 2**20:,.0f} MB、"
                                f"上限 {MAX_SHARED_STRINGS_BYTES // 2**20} MB）。文字列をすべて読むにはその何倍ものメモリが"
                                "要るため読み込みません。Excel で開いて保存し直すと使われていない文字列が除かれます。"
                                "それでも大きいときは、不要なシートを削除してください")
            check_unique_count(pkg, rel.part)


# The root of the shared strings and the count of texts it declares (<sst uniqueCount="26">),
# however the attribute is quoted or spaced and whatever the prefix, as XML readers take it;
# a leading + and zeros too, as Rust's integer parsing takes them (forty digits are past any
# count: int() refuses more than 4,300).
_UNIQUE_COUNT = LazyPattern(rb'<(?:[\w.-]+:)?sst\b[^<>]*?\suniqueCount\s*=\s*["\']\+?0*([0-9]{1,40})')
_SST_START = LazyPattern(rb'<(?:[\w.-]+:)?sst\b[^<>]*>')
# The fewest bytes one text takes in the part (<si/>): no part holds more texts than this
# many per byte of its size.
_BYTES_PER_TEXT = 5
_HEAD = 65_536   # the root's start tag sits after the declaration: this far is looked at first


def check_unique_count(pkg: Package, part: str) -> None:
    """Refuses shared strings whose ``uniqueCount`` is more texts than the part's size can
    hold. Why: python-calamine reserves room for that many texts as it opens the book,
    before reading one, and a process that asks for more memory than there is is aborted
    outright (no exception, no message): a returned file whose sharedStrings.xml said
    uniqueCount="4294967296" (a 1 KB part) made collect ask for 96 GiB and die with exit
    code -6 and a Rust backtrace (fuzzer case returned:25721:154). Excel writes the number
    of texts there, so a count no larger than the part can hold is never refused, and the
    room reserved stays within what the part's own texts would take (MAX_SHARED_STRINGS_BYTES
    bounds that)."""
    head, cut = pkg.top(part, _HEAD)    # the root's own count, not one in a comment before it
    if not _SST_START.search(head) and cut:
        head = pkg.top(part)[0]   # a long prolog before the root: within the size checked above
    found = _UNIQUE_COUNT.search(head)
    if found is None:
        return
    claimed, size = int(found.group(1)), pkg.unpacked_size(part) or len(pkg.read(part))
    if claimed > size // _BYTES_PER_TEXT:
        raise UserError(f"共有文字列の部品「{part}」の文字列の数（uniqueCount）が {claimed:,} と書かれていますが、"
                        f"部品の大きさ（{size:,} バイト）にそれだけの文字列は入りません（ファイルが壊れています）。"
                        "Excel で開いて保存し直してください")


def _where_calamine_reads(rel_type: str, target: str) -> Optional[tuple[str, str]]:
    """(the part python-calamine reads for a relationship of the workbook, what staff call
    it), or None for one it does not read. It takes the shared strings and the styles at
    Excel's own names whatever the relationship says, and a sheet at 「xl/」 + the target as
    written (an absolute target without its 「/」), with no 「./」 or 「../」 resolved
    (measured, python-calamine 0.9.1)."""
    if rel_type.endswith("/sharedStrings"):
        return "xl/sharedStrings.xml", "共有文字列"
    if rel_type.endswith("/styles"):
        return "xl/styles.xml", "書式"
    if rel_type.endswith("/worksheet"):
        return (target[1:] if target.startswith("/") else "xl/" + target), "シート"
    return None


def check_calamine_places(pkg: Package, workbook: WorkbookXml) -> None:
    """Refuses a book whose parts lie where OPC allows but python-calamine does not look:
    the tool's own reader follows the relationships, calamine takes Excel's names. Such a
    book (a writer that names its parts otherwise: xlrd #317 reports shared strings outside
    xl/sharedStrings.xml from Microsoft Dynamics AX) was refused as a broken sheet, or read
    wrong in silence: with the styles at xl/styles1.xml calamine lost every date format and
    collect imported a date typed as 実績値 as the number 45382; with the shared strings
    elsewhere, an old xl/sharedStrings.xml left in the file gave its texts."""
    said = None
    if ascii_folded(workbook.part) != BOOK_PLACE:
        said = _book_elsewhere(workbook.part)
    for rel in () if said else read_rels(pkg, workbook.part):
        found = None if rel.part is None or rel.part not in pkg else _where_calamine_reads(rel.type, rel.target)
        # calamine finds a member by the text it looks for, ASCII letters in either case
        # (calamine #419); it decodes no 「%20」 and resolves no 「./」
        if found is None or ascii_folded(found[0]) == ascii_folded(rel.part):
            continue
        what = pkg.labels.get(rel.part, found[1])
        said = (f"{what}の部品「{rel.part}」への参照が「{rel.target}」と、Excel と違う書き方です"
                if part_key(posixpath.normpath(found[0])) == part_key(rel.part)
                else f"{what}の部品が「{rel.part}」にあり、Excel が置く場所（{found[0]}）と違います")
        break
    if said is not None:
        raise UserError(_unread_form(said))


def _book_elsewhere(part: str) -> str:
    return f"ブック本体の部品が「{part}」にあり、Excel が置く場所（{BOOK_PLACE}）と違います"


def _unread_form(said: str) -> str:
    return (f"{said}。Excel 以外のソフトが保存したファイルで、このツールはこの形を読めません"
            f"（ファイルが壊れているのではありません）。Excel で開いて上書き保存してから、もう一度{again()}ください")


def book_elsewhere_refusal(part: str) -> str:
    """check_calamine_places' refusal of a book whose workbook part _rels/.rels names at
    ``part``, for a return refused before its package is read (cycle.collect.inspect): it
    was told 「Excel ブック（.xlsx）ではありません（ブック本体がありません）」, though the book
    has one, where the tool does not read it."""
    return _unread_form(_book_elsewhere(part))


def check_shared_strings(pkg: Package, workbook: WorkbookXml) -> None:
    """What calamine reads besides the sheets, checked before it does: where it finds them
    (check_calamine_places); it resolves entities
    itself (a DTD in the shared strings is refused first) and reads on past characters
    XML forbids (reading a part checks them: package.xml.check_xml_chars), in the shared
    strings and in the styles alike; and the size of the shared strings, which it holds
    whole (check_shared_strings_size)."""
    check_calamine_places(pkg, workbook)
    check_shared_strings_size(pkg, workbook)
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


def unopened_part(pkg: Package, workbook: Optional[WorkbookXml]) -> Optional[str]:
    """After python-calamine refused to open a book: the refusal naming the first part it
    reads as it opens (the styles, the shared strings) that is no XML, as package.xml.parse
    names a part the tool reads itself (「ブックの部品「xl/styles.xml」が壊れています（XML の
    1 行 0 文字目）」), else None. An empty or cut styles.xml was said only as 「壊れているか、
    Excel のブックではありません」 by collect and 「…の値を読めません（ファイルが壊れています）」
    by validate, naming no part (qa-fuzz63). Asked only on calamine's refusal, by both
    readers (workbook.grids, workbook.returned): a book it opens pays nothing."""
    from ..package.xml import PackageError, parse

    if workbook is None:
        return None
    try:
        for rel in read_rels(pkg, workbook.part):
            if (rel.type == T_STYLES or rel.type.endswith("/sharedStrings")) and rel.part and rel.part in pkg:
                parse(pkg.read(rel.part, parser_read=True), rel.part)
    except PackageError as exc:
        return str(exc)
    except UserError:
        return None
    return None


# A number format that makes python-calamine read a cell as a duration: [h], [m] or [s] in
# its code, or the built-in 46 ([h]:mm:ss).
_DURATION_CODE = rb'(?i)\[(?:h+|m+|s+)\]'
_NUM_FMT = rb'<(?:\w+:)?numFmt\b([^<>]*)>'
_BUILTIN_DURATION = rb'\bnumFmtId\s*=\s*["\']46["\']'
# (as package.sheet_window._PR: content without another cellXfs tag, taken whole)
_CELL_XFS = rb'(?s)<(?:\w+:)?cellXfs(?=[\s/>])[^<>]*>((?:[^<]++|<(?!/?(?:\w+:)?cellXfs[\s/>]))*+)</(?:\w+:)?cellXfs>'
_XF = rb'<(?:\w+:)?xf\b([^<>]*)>'
EVERY_CELL = b""     # in duration_styles: the default style is one, so every cell may be


def duration_styles(pkg: Package, workbook: WorkbookXml) -> frozenset[bytes]:
    """The cell styles of the book whose number format is a duration, as a cell's XML names
    them (b' s="5"'; EVERY_CELL when the default style is one): python-calamine turns a
    large number in such a cell into a duration that overflows (sheet_form.note_large_numbers).
    A sheet naming none of them is not searched: most masters have no duration format.
    Bytes, not package.styles.Styles: every read of a master or a returned file asks this,
    and one search for a duration code answers most of them without parsing the part."""
    for rel in read_rels(pkg, workbook.part):
        if rel.type == T_STYLES and rel.part and rel.part in pkg:
            styles = pkg.read(rel.part)
            if not re.search(_DURATION_CODE, styles) and not re.search(_BUILTIN_DURATION, styles):
                return frozenset()
            ids = {46} | {_format_id(m.group(1)) for m in re.finditer(_NUM_FMT, styles)
                          if re.search(_DURATION_CODE, _attr(m.group(1), b"formatCode") or b"")}
            xfs = re.search(_CELL_XFS, styles)
            out = set()
            for k, xf in enumerate(re.finditer(_XF, xfs.group(1)) if xfs else ()):
                fmt = _format_id(xf.group(1))
                if fmt is not None and fmt in ids:
                    out.add(EVERY_CELL if k == 0 else b' s="%d"' % k)
            return frozenset(out)
    return frozenset()


@lru_cache(maxsize=1)
def _builtin_shown() -> "tuple[dict[int, str], re.Pattern]":
    """The built-in number formats that are not plain (ECMA-376 18.8.30; no numFmt of their
    own in the file): with a percent sign, and the dates and times (a number past 9999-12-31
    shows #####: core.displayed.shown_otherwise), each by its code; and a pattern of a
    numFmtId naming one of them. Read from package.styles.BUILTIN_CODES through
    core.displayed.plain_format: shown63 typed its own table of these codes and its own
    range of ids while leftalone63 added the same times to BUILTIN_CODES, so a built-in id
    added to one would have been read otherwise by the other face."""
    from ..core.displayed import plain_format
    from ..package.styles import BUILTIN_CODES

    codes = {i: code for i, code in BUILTIN_CODES.items() if not plain_format(code)}
    ids = "|".join(str(i) for i in sorted(codes)).encode("ascii")
    return codes, re.compile(rb'\bnumFmtId\s*=\s*["\']\s*0*(?:%s)\s*["\']' % ids)


def shown_styles(pkg: Package, workbook: WorkbookXml) -> dict[int, str]:
    """Cell format → number format of the book's cell formats whose number format is not a
    plain number format (core.displayed.plain_format): a percent sign (core.percent_cells reads
    a number in such a cell as the percent it shows), words, a scale, a section without digits,
    a date (read as duration_styles reads: bytes, without parsing the part, as every read of a
    master asks it). A number in one is read as shown or refused (core.displayed.
    shown_otherwise); only the cells of these formats are looked at one by one. Empty at once
    where styles.xml declares no number format and uses no builtin one of these."""
    from ..core.displayed import plain_format

    for rel in read_rels(pkg, workbook.part):
        if rel.type == T_STYLES and rel.part and rel.part in pkg:
            styles = pkg.read(rel.part)
            builtin, builtin_id = _builtin_shown()
            if not re.search(_NUM_FMT, styles) and not builtin_id.search(styles):
                return {}
            codes = dict(builtin)
            for m in re.finditer(_NUM_FMT, styles):
                fmt_id, code = _format_id(m.group(1)), _attr(m.group(1), b"formatCode")
                if fmt_id is not None:
                    codes.pop(fmt_id, None)
                    if code is not None:
                        text = unescape(code.decode("utf-8", "replace"))
                        if not plain_format(text):
                            codes[fmt_id] = text
            if not codes:
                return {}
            xfs = re.search(_CELL_XFS, styles)
            out = {}
            for k, xf in enumerate(re.finditer(_XF, xfs.group(1)) if xfs else ()):
                fmt = _format_id(xf.group(1))
                if fmt is not None and fmt in codes:
                    out[k] = codes[fmt]
            return out
    return {}


def _format_id(attrs: bytes) -> Optional[int]:
    """A numFmt's or a cell format's numFmtId as the number it is (package.xml.unsigned_number,
    as the writer's reader of styles takes it): compared as written, 「0165」 was no 165, and a
    cell Excel shows as 50% was read as 0.5. None where it has none or it is no number."""
    found = _attr(attrs, b"numFmtId")
    return None if found is None else unsigned_number(found.decode("ascii", "replace"))


def _attr(attrs: bytes, name: bytes) -> Optional[bytes]:
    """An attribute's value in a tag's attributes, in any order and either quote, as XML
    allows: the styles part is read as written (no usual form), and a numFmt whose
    formatCode came before its numFmtId hid its duration, so calamine's OverflowError
    ended the read of the whole book."""
    pattern = _ATTR_PATTERNS.get(name)
    if pattern is None:
        pattern = _ATTR_PATTERNS[name] = re.compile(rb'(?<![\w:])' + name + rb'\s*=\s*(["\'])(.*?)\1', re.S)
    m = pattern.search(attrs)
    return m.group(2).strip() if m else None


# _attr's pattern per attribute name, compiled once: shown_styles asks it of each of a
# book's cell formats, 65,000 near Excel's limit on every read of such a master, where
# re.search's own cache lookup and the pattern's bytes built per call cost twice the search
_ATTR_PATTERNS: dict[bytes, re.Pattern] = {}


def check_sheet_xml(name: str, raw: bytes, durations: frozenset = frozenset()) -> "tuple[Optional[bytes], bool, Undated]":
    """What must hold before calamine reads a sheet: a worksheet, well-formed enough, no
    DTD, no raw control characters (not XML; Excel calls such a file corrupt), no damaged
    text number, no value its cell's type cannot hold (stored_values), and an extent
    calamine can allocate. Returns the sheet rewritten in the
    usual form (sheet_form) when it was not in it, else None: then that is what the scans
    and calamine must read; whether it may hold an error value (else ``cached_errors``
    and ``calamine_readable`` have nothing to find); and its numbers Excel has no date
    for, which the reader puts back where calamine read a time (negative ones:
    stored_values.check_stored_values) or could not read the cell (large ones, looked for
    in the cells of a duration style, ``durations``: duration_styles)."""
    from .sheet_form import foreign_cell, in_usual_form, note_large_numbers, survey, worksheet_prefix
    from .stored_values import check_stored_values

    if has_dtd(raw):
        raise UnreadableSheet(dtd_refusal(f"シート「{name}」の XML "))
    prefix = worksheet_prefix(raw)
    if prefix is None:
        raise UnreadableSheet(f"シート「{name}」はワークシートとして読めません（ファイルが壊れています）")
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
    undated = check_stored_values(name, raw, prefix)
    if durations and (EVERY_CELL in durations or any(style in raw for style in durations)):
        note_large_numbers(undated, raw, prefix, durations)
    check_extent(name, raw, prefix, odd_at)
    check_inline_texts(name, raw, prefix)
    return rewritten, errors, undated


@lru_cache(maxsize=4)
def _odd_inline(prefix: bytes) -> "re.Pattern":
    """Where a cell's inline text may not be as every application writes it, each hit
    starting at an ``i`` (searched for as a single byte: about 15 ms for the 20,000 × 12
    master's 54 MB of sheets, which holds none of these): (1) a cell of type inlineStr
    whose first element is no ``<is>`` (a ``<v>``, a formula); (2) anything but an end tag
    after ``</is>`` (a value after the text); (3) two texts side by side in one inline text
    (``<is><t>5</t><t>7</t></is>``; a run's own ``<t>`` is alone in its ``<r>``), looked
    for up to the ``</is>`` of each; (4) an ``<is>`` not just after a ``t="inlineStr">``
    tag end, looked at in _inline_cell_fits (another attribute after t is fine; any other
    type is not)."""
    p = re.escape(prefix)
    return re.compile(rb'i(?:nlineStr"[^<>/]*>(?!\s*<(?:[\w.-]+:)?is[\s>/]|\s*</)(?P<first>)'
                      rb'|s>(?<=</' + p + rb'is>)(?!\s*</)(?P<after>)'
                      rb'|s[\s>](?<=<' + p + rb'is.)(?=(?:[^<]++|<(?!/' + p + rb'is>|/' + p + rb't>\s*<' + p
                      + rb't[\s>]))*+</' + p + rb't>\s*<' + p + rb't[\s>])(?P<two>)'
                      rb'|s[\s>/](?<=<' + p + rb'is.)(?<!t="inlineStr"><' + p + rb'is.))')


_INLINE_UNSURE = ("の文字列が Excel と違う形で保存されていて、読み方がアプリによって違います（空のセルと"
                  "読むものもあります。ファイルが壊れています）。Excel で開いて保存し直してください")


def check_inline_texts(name: str, raw: bytes, prefix: bytes) -> None:
    """Refuses a cell whose inline text (``<is>``) is not the one thing its cell of type
    inlineStr holds, or holds two texts side by side, naming sheet and cell. Why: the
    readers part ways there, and none says a word. ``<c r="G20" t="inlineStr"><v>5</v></c>``
    is empty to python-calamine and to LibreOffice, so a return cleared the master's value;
    ``<is><t>12</t></is><v>5</v>`` is empty to both, 12 to openpyxl; ``t="s"``, ``t="n"``
    or no t with an ``<is>`` is 12 to calamine, empty to LibreOffice and openpyxl;
    ``<is><t>5</t><t>7</t></is>`` is 「57」 to calamine and LibreOffice, 「7」 to openpyxl
    (qa-cells63, measured). Excel's reading is not known (it may call the file damaged).
    No application writes any of these, so no real file is refused. Master and returns
    alike (check_sheet_xml); one search where the sheet holds none (_odd_inline)."""
    pattern = _odd_inline(prefix)
    tag = b"<" + prefix + b"c "
    at = 0
    while (m := pattern.search(raw, at)) is not None:
        at = m.end()
        if m.group("first") is None and m.group("after") is None and m.group("two") is None \
                and _inline_cell_fits(raw, m.start(), tag):
            continue
        raise UnreadableSheet(f"シート「{name}」のセル {_cell_place(raw, m.start(), tag)} " + _INLINE_UNSURE)


def _inline_cell_fits(raw: bytes, at: int, tag: bytes) -> bool:
    """Whether the ``<is>`` at ``at`` (just past its ``<``, prefix aside) is its cell's first
    element and the cell's type is inlineStr."""
    start = raw.rfind(tag, 0, at)
    end = raw.find(b">", start) if start >= 0 else -1
    if end < 0 or end > at or raw[start:end].endswith(b"/"):
        return False
    return bool(re.search(rb'\st="inlineStr"', raw[start:end])) and not raw[end + 1:raw.rfind(b"<", 0, at + 1)].strip()


def _cell_place(raw: bytes, at: int, tag: bytes) -> str:
    """The r of the cell tag last opened before ``at``, or 「?」."""
    start = raw.rfind(tag, 0, at + 1)
    cell = _CELL_START.match(raw, start) if start >= 0 else None
    return cell.group(1).decode("ascii") if cell is not None else "?"


def check_extent(name: str, raw: bytes, prefix: bytes, odd_at: Optional[int]) -> None:
    """``odd_at``: where the first cell tag starts that may lie past column Z or at row
    100,000 or below (sheet_form.survey; None when none does), perhaps before the last cell
    in the file, where the rows are not counted from the last cell alone.

    Every search of the whole sheet runs a window at a time (``sheet_form.in_windows``),
    never as one ``findall`` of every cell: a sheet of 1,048,576 rows of styled empty cells
    (207 MB) gave lists of eight million matches, 400 MB beside the sheet, and was refused
    only after 7 s. The windows give exactly the matches of one search, so the limits mean
    what they did."""
    from .sheet_form import in_windows

    rows = _last_filled_row(name, raw, prefix)
    cols = LEAST_COLUMNS_READ
    if odd_at is not None and (long := _LONG_COLUMN.search(raw, odd_at)) is not None:
        from .sheet_form import unreadable_place

        raise UnreadableSheet(unreadable_place(name, long.group(1).decode("ascii", "replace")))
    if odd_at is not None:
        from .sheet_form import far_rows

        rows = max(rows, far_rows(name, raw, prefix, odd_at))
        cols = max((_column(letters) for found in in_windows(_WIDE_FILLED, raw, odd_at) for letters in set(found)),
                   default=LEAST_COLUMNS_READ)
    if rows > MAX_ROWS or cols > MAX_COLUMNS or rows * cols > MAX_CELLS:
        from ..core.refs import column_letter

        # The message names the real last column (LEAST_COLUMNS_READ above is only the least calamine takes).
        widest = max((_column(letters) for found in in_windows(_ANY_CELL_COLUMN, raw) for letters in set(found)),
                     default=1)
        # Only the limits the sheet is over are named: the cells only, when rows and
        # columns are each within theirs (ZZ150000: 702 × 150,000 cells).
        over = []
        if rows > MAX_ROWS:
            over.append(f"{rows:,} 行（上限 {MAX_ROWS:,} 行）")
        if cols > MAX_COLUMNS:
            over.append(f"{cols:,} 列（上限 {MAX_COLUMNS:,} 列）")
        if not over:
            over = [f"{rows * cols:,} セル（上限 {MAX_CELLS:,} セル、行数×列数）"]
        raise UnreadableSheet(f"シート「{name}」の使用範囲が大きすぎます（{column_letter(widest)}{rows} まで: "
                              f"{'・'.join(over)}）。Excel で使っていない行・列を選んで削除し、保存し直してください")


# A cell's place as the usual form writes it (sheet_form): r first, capitals, no zeros.
_CELL_PLACE = LazyPattern(rb'<(?:[\w.-]+:)?c r="([A-Z]{1,%d}[1-9][0-9]*)"' % COLUMN_LETTERS)
# A cell's second value tag after its value (a value beside an inline text is
# check_inline_texts', on the master too).
_SECOND_VALUE = LazyPattern(rb'</(?:[\w.-]+:)?v>\s*<(?:[\w.-]+:)?v[\s>]')
_CELL_START = LazyPattern(rb'<(?:[\w.-]+:)?c\s[^<>]*\br="([A-Z]{1,%d}[0-9]+)"' % COLUMN_LETTERS)
_TWICE = "（どちらの値が正しいか分かりません。ファイルが壊れています）。Excel で開いて保存し直してください"


def check_places_once(name: str, raw: bytes) -> None:
    """Refuses a sheet (in the usual form: check_sheet_xml's rewrite, if any) that gives
    one cell twice, as its own ``<c>`` twice in a row or in a row written twice, or one cell
    two values (``<v>5</v><v>7</v>``; a value beside an inline text: check_inline_texts). Why: python-calamine keeps
    one without a word (the last place, the last value, the inline text), so a returned
    file whose G20 said 12 and then 99 was collected as 99 (qa-fuzz63), a guess between two
    values the file holds; Excel calls such a file damaged and repairs it. No application
    writes either, so no real file is refused. Searched a window at a time
    (sheet_form.in_windows) after check_extent, so the places kept are within the extent
    calamine would allocate anyway. Asked of what arrives from outside and is written into
    the master (a returned file, renkei_xl.workbook.returned): a set of every place costs
    about 25 ms a megabyte of sheet, a second on the 20,000 × 12 master's 55 MB, which the
    master's every read would pay."""
    from .sheet_form import in_windows

    second = _SECOND_VALUE.search(raw)
    if second is not None:
        at = max(raw.rfind(b"<c ", 0, second.start()), raw.rfind(b":c ", 0, second.start()))
        cell = _CELL_START.match(raw, raw.rfind(b"<", 0, at + 1)) if at >= 0 else None
        place = cell.group(1).decode("ascii") if cell is not None else "?"
        raise UnreadableSheet(f"シート「{name}」のセル {place} に値が 2 つ保存されています" + _TWICE)
    seen: set[bytes] = set()
    for found in in_windows(_CELL_PLACE, raw):
        for place in found:
            if place in seen:
                raise UnreadableSheet(f"シート「{name}」のセル {place.decode('ascii')} がファイルの中に 2 度書かれています"
                                      + _TWICE)
            seen.add(place)


# A cell whose column has more letters than the grid's (refs.COLUMN_LETTERS: AAAA is past
# XFD): no cell of Excel's grid, which neither the measure of the columns (_WIDE_FILLED,
# three letters) nor calamine sees: a value at 「ABCDE1」 went without a word, in a file
# Excel calls damaged.
_LONG_COLUMN = LazyPattern(rb' r="([A-Z]{%d}[^"]{0,20})' % (COLUMN_LETTERS + 1))
_ANY_CELL_COLUMN = LazyPattern(rb' r="([A-Z]{1,%d})[0-9]+"' % COLUMN_LETTERS)


def _last_filled_row(name: str, raw: bytes, prefix: bytes) -> int:
    """The row of the last cell calamine keeps (``_filled_at``) before ``sheetData>``'s end:
    cells come in row order, so the last filled one has the largest row (a far one out of
    order is ``far_rows``'s). Searched for backwards a window at a time, from 4 KB up:
    a cell at a time, eight million empty styled cells after the last filled one took a
    loop of eight million steps. A window starts just after a ``>``, so a tag (one ``>``,
    at its end) is wholly in one window; the first one reaches to the file's end, as a
    cell tag that begins before ``sheetData>`` counts whatever follows it."""
    from . import sheet_form

    opening = b"<" + prefix + b"c "
    filled = _filled_at(prefix)
    end = raw.rfind(b"sheetData>")
    hi, size = end, 4096
    while hi > 0:
        lo = raw.rfind(b">", 0, max(0, hi - size)) + 1
        last = None
        for m in filled.finditer(raw, lo, len(raw) if hi == end else hi):
            if m.start() + len(opening) > end:
                break
            last = m
        if last is not None:
            return sheet_form.row_number(name, last.group(2).decode("ascii"))
        hi, size = lo, min(size * 16, sheet_form.WINDOW)
    return 0


@lru_cache(maxsize=4)
def _filled_at(prefix: bytes) -> "re.Pattern":
    """A cell calamine keeps, where a cell tag of the sheet's own prefix opens: an opening
    <c> tag that is not self-closing (an empty styled cell <c r="Z9" s="1"/> and an empty
    <row/> are skipped, as Excel writes for a comment on XFD1048576; cell attributes (r, s,
    t, cm, vm, ph) hold no "/"). The pattern consumes ``<c`` (searched for as a string)
    and looks ahead for the rest, so every opening is tried, as a match at each ``rfind``
    of one tried them."""
    return re.compile(b"<" + re.escape(prefix) + rb'c(?= r="([A-Z]{1,%d})([0-9]+)"[^<>/]*>)' % COLUMN_LETTERS)


# A cell holding an error value: <c r="E5" t="e"><f>#REF!+1</f><v>#REF!</v></c>. Attributes
# come in any order; the value is what Excel shows.
ERROR_MARK = b't="e"'
# Kept as text: ``re`` compiles each on its first use (its own cache), and most masters
# hold no error value, so a command does not pay for compiling them at every start.
# Its row's digits past leading zeros, within an unsignedInt's (package.xml.unsigned_number):
# int() counts zeros toward its 4,300 digits, and an error cell in B000…030000 (row 30,000, as
# check_extent and calamine read it) stopped validate with 「予期しないエラー」. Not the grid's
# refs.ROW_DIGITS, on purpose: a row past the grid (eight to ten digits) is read as
# check_extent reads it, which refuses that sheet naming the row.
_ERROR_REF = rb'\br="([A-Z]{1,%d})0*([0-9]{1,%d})"' % (COLUMN_LETTERS, UNSIGNED_DIGITS)
_ERROR_TEXT = rb"<(?:\w+:)?v\b[^<>]*>([^<]*)</(?:\w+:)?v>"   # <v xml:space="preserve"> too
# A rich value's cell (values.RICH_VALUE): an error cell with value metadata (vm="1", an
# index into xl/metadata.xml's valueMetadata) whose cached value is #VALUE!. Excel 365 saves
# #SPILL!, #CALC!, #FIELD! … so too, the error itself a rich value of its own structure
# (package.rich_errors): those are read as the error they show, never as a picture.
_VALUE_METADATA = rb'\bvm="0*([0-9]{1,9})"'
# An error cell, t="e" among its attributes, and its content up to its first </c>; a
# self-closing one (<c r="E5" t="e"/>) holds no value and is an error all the same. With
# what the scans ask of each cell found inside the one pattern: a column of #N/A pasted down
# (400,000 error cells, 16 MB) took cached_errors 1.4 CPU s and calamine_readable 0.7 s, three
# searches more of each cell's short text after the pattern's (``.*?`` to its </c>), each
# through re's cache. ``col`` and ``row``: _ERROR_REF's where r is the cell's first
# attribute, as the usual form (sheet_form) writes it, so its first match in ``attrs`` (else
# None, and ``attrs`` is searched); ``tag`` and ``value``: _ERROR_TEXT's first match in the
# cell's content (None: it has none). Possessive, as _FORMULA_CELL: the content is read
# once, up to its first value tag, then up to its first </c>.
_ERROR_CELL_PARTS = LazyPattern(
    rb'(?s)<(?:\w+:)?c(?=[\s/>])(?P<attrs>(?:'
    + _ERROR_REF.replace(rb'\br="(', rb'\sr="(?P<col>', 1).replace(rb'0*(', rb'0*(?P<row>', 1)
    + rb')?+[^<>]*?\bt="e"[^<>]*?)(?:/>|>(?:[^<]++|<(?!/(?:\w+:)?c>|' + _ERROR_TEXT[1:].replace(b"([^<]*)", b"[^<]*")
    + rb'))*+(?P<tag>' + _ERROR_TEXT.replace(b"([^<]*)", b"(?P<value>[^<]*)")
    + rb')?+(?:[^<]++|<(?!/(?:\w+:)?c>))*+</(?:\w+:)?c>)')
_ERROR_REF_IN = LazyPattern(_ERROR_REF)
_VALUE_METADATA_IN = LazyPattern(_VALUE_METADATA)


def _error_cells(raw: bytes) -> "re.Pattern[bytes]":
    """_ERROR_CELL_PARTS as it may be asked of ``raw`` (_for's rule: without the prefix,
    tried at every ``<``, where no c or v tag of the sheet has one)."""
    if b":c" in raw or b":v" in raw:
        return _ERROR_CELL_PARTS
    return _unprefixed(_ERROR_CELL_PARTS.pattern)


def cached_errors(raw: bytes, rich: "Optional[Callable[[], Mapping[int, str]]]" = None) -> dict[int, dict[int, str]]:
    """Error values a sheet's XML holds, by 0-based row and column. ``rich``: the book's rich
    error values by vm (package.rich_errors), asked only of a sheet holding a cell with vm.

    python-calamine hands an error cell over as "" (an empty cell), which would let
    「#REF!」 pass for "nothing reported" or be imported as emptiness over a value. The
    error is put back into the grid as the text Excel shows, as xlwings reads it
    (err_to_str), so the core classifies both faces' values in one place
    (renkei_xl.core.values.error_value)."""
    return _error_scan(raw, rich, errors=True)[0]


# The error values python-calamine 0.9 reads; any other (#SPILL!, #CALC!, #GETTING_DATA …,
# Excel 365's) makes it refuse the whole sheet.
CALAMINE_ERRORS = frozenset({b"#NULL!", b"#DIV/0!", b"#VALUE!", b"#REF!", b"#NAME?", b"#NUM!", b"#N/A"})


def calamine_readable(raw: bytes) -> Optional[bytes]:
    """The sheet with every error value calamine does not know turned into one it does, or
    None when there is none. Only calamine reads the result: the real error is put back
    from ``cached_errors`` of the sheet as saved, so nothing of it is lost. A value is kept
    only as written, byte for byte one calamine takes: 「 #N/A」 or 「#REF!」 and a line break
    (spaces that cached_errors, as Excel, reads past) was kept because its stripped text was
    one, and calamine refused the whole sheet for it (「Excel にないエラー値のセルがあります」,
    naming no cell), where 「#n/a」 beside it was named on its row (qa-fuzz63)."""
    return _error_scan(raw, None, readable=True)[1]


def _error_scan(raw: bytes, rich: "Optional[Callable[[], Mapping[int, str]]]", errors: bool = False,
                readable: bool = False) -> tuple[dict[int, dict[int, str]], Optional[bytes]]:
    """(cached_errors, calamine_readable) of a sheet, each asked only where ``errors`` or
    ``readable`` says, in one search (_ERROR_CELL_PARTS): put_back asks both of the same
    bytes, and a column of #N/A pasted down (400,000 error cells, 16 MB) took them 2.1 CPU
    s, three searches more of each cell's short text after the pattern's, each through re's
    cache, and the sheet searched twice. Each value and column is read once: a sheet's
    error cells hold a handful of codes in a few columns. Only the values calamine does not
    know are cut out and joined, not every error cell rebuilt."""
    out: dict[int, dict[int, str]] = {}
    if ERROR_MARK not in raw:
        return out, None
    columns: dict[bytes, int] = {}
    shown: dict[tuple[bytes, Optional[bytes]], str] = {}
    pieces, at = [], 0
    for m in _error_cells(raw).finditer(raw):
        attrs, col, row, tag, value = m.groups()
        if readable and tag is not None and value not in CALAMINE_ERRORS:
            pieces += (raw[at:m.start("tag")], b"<v>#N/A</v>")
            at = m.end("tag")
        if not errors:
            continue
        if col is None:
            ref = _ERROR_REF_IN.search(attrs)
            if ref is None:
                continue
            col, row = ref.groups()
        vm = _VALUE_METADATA_IN.search(attrs) if b"vm=" in attrs else None
        key = (value or b"", vm.group(1) if vm else None)
        text = shown.get(key)
        if text is None:
            text = shown[key] = _error_shown(*key, rich)
        column = columns.get(col)
        if column is None:
            column = columns[col] = _column(col) - 1
        cells = out.get(place := int(row) - 1)
        if cells is None:
            cells = out[place] = {}
        cells[column] = text
    return out, (b"".join(pieces) + raw[at:] if pieces else None)


def _error_shown(value: bytes, vm: Optional[bytes], rich: "Optional[Callable[[], Mapping[int, str]]]") -> str:
    """What an error cell of saved ``value`` (b"": none) and value metadata ``vm`` shows.
    Every cell stored as an error is one: with its code as Excel shows it, else (no value,
    an empty one, a text unlike any error) as UNKNOWN_ERROR, never as ""."""
    text = unescape(value.decode("utf-8", "replace")).strip()
    if vm is not None:
        text = (rich() if rich else {}).get(int(vm)) or (RICH_VALUE if text == "#VALUE!" else text)
    return text if error_value(text) is not None else UNKNOWN_ERROR


def put_back(raw: bytes, may_hold_errors: bool, negatives: "Undated",
             rich: "Optional[Callable[[], Mapping[int, str]]]" = None) -> tuple[dict, Optional[bytes]]:
    """What the reader puts back into calamine's rows, row → column → value (0-based: the
    error values, as ``cached_errors``, and the numbers Excel has no date for, see
    ``check_sheet_xml``), and the sheet as calamine must read it instead of ``raw`` (None:
    ``raw`` itself). ``rich``: as cached_errors takes it (rich_lookup)."""
    from .sheet_form import calamine_safe_numbers

    safe = calamine_safe_numbers(raw, negatives) if negatives else None   # first: its spans are raw's
    errors, readable = {}, safe
    if may_hold_errors and safe is None:   # looked for once, by check_sheet_xml, not by both helpers
        errors, readable = _error_scan(raw, rich, errors=True, readable=True)
    elif may_hold_errors:
        errors, readable = cached_errors(raw, rich), calamine_readable(safe) or safe
    for row, cells in negatives.items():
        errors.setdefault(row, {}).update(cells)
    return errors, readable


def rich_lookup(workbook: WorkbookXml) -> Callable[[], Mapping[int, str]]:
    """The book's rich error values by vm (package.rich_errors), read once when first asked:
    most books hold none, and a sheet without a vm error cell never asks."""
    found: list = []

    def lookup() -> Mapping[int, str]:
        if not found:
            from ..package.rich_errors import rich_errors

            found.append(rich_errors(workbook))
        return found[0]
    return lookup


# The patterns below ANY_FORMULA are text for the reason _ERROR_REF's are: only a sheet
# that holds a formula needs them.
_CELL = r"(?s)<(?:\w+:)?c(?=[\s/>])([^<>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)"
_REF = rf'\sr="([A-Z]{{1,{COLUMN_LETTERS}}}\d+)"'
_FORMULA = r"<(?:\w+:)?f[\s>/]"
ANY_FORMULA = rb"<(?:\w+:)?f[\s>/]"
_FORMULA_TAG = LazyPattern(ANY_FORMULA)
_FORMULA_TAIL = re.compile(rb"f[\s>/]")
# A saved result: <v>17</v>; openpyxl writes <v /> (nothing saved). Excel writes an empty
# text result as t="str" with <v></v>, which counts as saved. The value tag may carry
# attributes (<v xml:space="preserve">12</v>, as other writers spell it and _ERROR_TEXT
# reads it): a saved 12 was taken for no result, and a returned row held for it.
_VALUE = r"<(?:\w+:)?v(?:\s[^<>/]*)?>[^<]+</(?:\w+:)?v>"
_OPEN_VALUE = r"<(?:\w+:)?v(?:\s[^<>/]*)?>"
_TEXT_RESULT = r'\st="str"'
# A cell holding a formula (its attributes, its content), as _CELL takes a cell:
# its content up to its first </c>. The formula scans search for this alone, so a cell
# without a formula is passed over inside the pattern: they asked six searches of every
# cell, and a return of a million formula cells below its table (35 MB) took 12 CPU s to
# refuse, past a button's 30 s near the part limit (its sheet read twice). Possessive, so
# each character is looked at once: _UNTIL is a cell's content up to its first </c>, or
# up to the first of what ``%`` adds (a formula tag) before it.
_UNTIL = r"(?:[^<]++|<(?!/(?:\w+:)?c>%s))*+"
_FORMULA_CELL = LazyPattern(r"(?s)<(?:\w+:)?c(?=[\s/>])(?P<attrs>[^<>]*+)(?<!/)>"
                            r"(?P<inner>" + _UNTIL % ("|" + _FORMULA[1:]) + _FORMULA + _UNTIL % ""
                            + r")</(?:\w+:)?c>")
_ANY_CELL = LazyPattern(r"(?s)<(?:\w+:)?c(?=[\s/>])(?P<attrs>[^<>]*?)(?:/>|>(?P<inner>.*?)</(?:\w+:)?c>)")   # _CELL
_CELL_REF = LazyPattern(_REF)
# _REF's column and row, each alone (_extent): a list of pairs took longer to take apart
_CELL_COLUMN = LazyPattern(_REF.replace(r"}\d+)", r"})\d+"))
_CELL_ROW = LazyPattern(_REF.replace(r"([A-Z]", r"[A-Z]").replace(r"}\d+)", r"}(\d+)"))
_ARRAY_TYPE = 't="array"'     # in an array formula's <f> (_Arrays.note); a sheet without one has no area
_FORMULA_IN = LazyPattern(_FORMULA)
_VALUE_IN = LazyPattern(_VALUE)
_OPEN_VALUE_IN = LazyPattern(_OPEN_VALUE)
_TEXT_RESULT_IN = LazyPattern(_TEXT_RESULT)


_ANY_PREFIX = r"(?:\w+:)?"


@lru_cache(maxsize=16)    # one a pattern of this module (a handful)
def _unprefixed(pattern: "str | bytes") -> "re.Pattern":
    """``pattern`` compiled for a sheet none of whose c, f or v tags has a prefix (_for):
    with none to try, the patterns above search a sheet three times as fast (a prefix
    tried at every tag's ``<`` was most of their time)."""
    prefix = _ANY_PREFIX if isinstance(pattern, str) else _ANY_PREFIX.encode("ascii")
    return re.compile(pattern.replace(prefix, prefix[:0]))


def _for(text: str, pattern: LazyPattern):
    """``pattern`` as it may be asked of ``text`` (_unprefixed where no tag it reads can
    have a prefix: one with one, <x:c or </x:c>, holds 「:c」)."""
    if ":c" in text or ":f" in text or ":v" in text:
        return pattern
    return _unprefixed(pattern.pattern)


def _cells_to_read(text: str, arrays: "_Arrays", formulas: LazyPattern = _FORMULA_CELL):
    """The cells of a sheet (its XML, decoded) a formula scan looks at, in order, each as a
    match (its ``attrs`` and ``inner``) and whether ``formulas`` found it: each cell it finds,
    and while an array formula's area is open (``arrays``, which the caller keeps as it
    goes) every cell (_ANY_CELL), as the area's other cells hold no formula. A sheet
    without an array formula is one search of its text."""
    every, formulas = _for(text, _ANY_CELL), _for(text, formulas)
    at = 0
    while True:
        pattern = every if arrays.areas else formulas
        m = pattern.search(text, at)
        if m is None:
            return
        at = m.end()
        yield m, pattern is formulas


def holds_formula(raw: bytes) -> bool:
    """``ANY_FORMULA.search(raw)``, twenty times faster on a large sheet. A pattern that
    starts with ``<`` is tried at every tag (and ``re`` finds even a literal ``<f`` slowly,
    every tag starting with its ``<``: 4.4 ms for 10 MB); one that starts with ``f``, rare in
    a sheet's cells, is searched for as a string (2.4 ms, with the ``:f`` of a prefixed
    formula in the same pass). Each hit is then looked at from its tag's ``<``."""
    for m in _FORMULA_TAIL.finditer(raw):
        at = m.start()
        if at and raw[at - 1] in b"<:" and _FORMULA_TAG.match(raw, raw.rfind(b"<", max(0, at - 256), at)):
            return True
    return False


def formula_refs(raw: bytes) -> frozenset[str]:
    """The cells of a sheet (its XML) that hold a formula of their own, saved result or not
    (「A1」 each). A formula showing nothing (=IF(E5="","要確認",""), or one saved without its
    result, which calamine reads as empty) is a staff cell all the same: rollover took the
    column of one for a free column and wrote 前年度実績 over the formulas."""
    if not holds_formula(raw):
        return frozenset()
    text = raw.decode("utf-8")
    refs = (_CELL_REF.search(m["attrs"]) for m in _for(text, _FORMULA_CELL).finditer(text))
    return frozenset(ref.group(1) for ref in refs if ref)


def uncached_formulas(sheets: Mapping[str, bytes]) -> dict[str, list[str]]:
    """Cells holding a formula without a saved result, per sheet (of the sheets read, as
    their XML; Grids keeps those that hold a formula at all).

    Excel and LibreOffice save each formula's last result; a file written by a library
    (openpyxl, for one) may not. calamine then reads the cell as empty, which must never
    pass for "nothing reported": such cells become findings.
    """
    return {name: [ref for ref, saved in cells.items() if not saved]
            for name, cells in formula_cells(sheets).items() if not all(cells.values())}


def unsaved_in_row(raw: bytes, row_no: int) -> frozenset[int]:
    """The columns (1-based) of row ``row_no`` of a sheet (its XML, in the usual form) whose
    cell holds a formula saved without its result: a header row's, asked by the contract's
    reader only when a header is missing (contract_read.Book._unsaved_marked). Rows come in
    order, so the scan stops at the end of that row's element, near the top of the sheet,
    rather than going through every cell of a large one."""
    start = re.search(rb'<(?:\w+:)?row(?=[\s/>])[^<>]*?\sr="%d"' % row_no, raw)
    if start is None:
        return frozenset()
    end = re.compile(rb"</(?:\w+:)?row>").search(raw, start.end())
    head = raw[:end.end() if end is not None else len(raw)]
    cells = formula_cells({"": head}).get("", {})
    return frozenset(col for ref, saved in cells.items() if not saved for r, col in (parse_ref(ref),) if r == row_no)


def formula_cells(sheets: Mapping[str, bytes], saved_too: bool = False,
                  constants: bool = False) -> dict[str, dict[str, bool]]:
    """Cells holding a formula, per sheet: each with whether its result is saved. Only the
    ones without when not ``saved_too``: a saved result matters only when it is known to be
    stale (core.calc_on_load.stale_results), and one scan answers both questions. A saved
    formula that refers to nothing (=6+11, typed as a sum) is left out then too: no write
    can make its result stale. ``constants``: it counts all the same, where no application
    may have calculated any result (a returned file still asking for a calculation on
    opening: XlsxWriter saves =6+11 with the result 0). The other cells of an array formula
    (_Arrays) count as its."""
    out: dict[str, dict[str, bool]] = {}
    for name, raw in sheets.items():
        text = raw.decode("utf-8")
        if _ARRAY_TYPE not in text:
            cells = _formula_cells_alone(text, saved_too, constants)
        else:
            cells, arrays = {}, _Arrays()
            for m, own in _cells_to_read(text, arrays):
                cell = _formula_cell(m, own, arrays, saved_too, constants)
                if cell is not None:
                    cells[cell[0]] = cell[1]
            for ref in arrays.absent(text, name):
                cells[ref] = False
        if cells:
            out[name] = cells
    return out


def _formula_cells_alone(text: str, saved_too: bool, constants: bool) -> dict[str, bool]:
    """formula_cells of a sheet without an array formula: each cell _FORMULA_CELL finds is
    all there is to look at, and costs two searches of its own short text (a return may
    hold a million, each named in a flagged one's answer)."""
    out: dict[str, bool] = {}
    value, place = _for(text, _VALUE_IN).search, _CELL_REF.search
    for m in _for(text, _FORMULA_CELL).finditer(text):
        attrs, inner = m.group(1, 2)
        saved = value(inner) is not None or bool(_TEXT_RESULT_IN.search(attrs) and _OPEN_VALUE_IN.search(inner))
        if saved and (not saved_too or (not constants and _constant(inner))):
            continue
        if (ref := place(attrs)) is not None:
            out[ref.group(1)] = saved
    return out


def _formula_cell(m: "re.Match", own: bool, arrays: "_Arrays", saved_too: bool,
                  constants: bool) -> Optional[tuple[str, bool]]:
    """formula_cells' answer for one cell of _cells_to_read (``own``: found as a formula's):
    its place and whether its result is saved, or None where it is not one to name."""
    inner, attrs = m["inner"] or "", m["attrs"]
    ref = _CELL_REF.search(attrs)
    constant: Optional[bool] = None     # asked only of a saved result
    if own or _FORMULA_IN.search(inner):
        if ref and "array" in inner:
            constant = _constant(inner)
            arrays.note(inner, ref.group(1), constant)
    elif arrays.areas and ref:
        constant = arrays.constant_at(ref.group(1))
        if constant is None:
            return None
    else:
        return None
    saved = bool(_VALUE_IN.search(inner)) or bool(
        _TEXT_RESULT_IN.search(attrs) and _OPEN_VALUE_IN.search(inner))
    if saved and (not saved_too or (not constants and (_constant(inner) if constant is None else constant))):
        return None
    return (ref.group(1), saved) if ref else None


# The array results a sheet may lack and still be read, each named (_Arrays.absent).
MAX_ABSENT = 10_000


class _Arrays:
    """The areas of a sheet's array formulas, as the scan meets them. Only an array's first
    cell holds its <f t="array" ref="E5:E9">; the others hold its results and no formula:
    Excel's {=…} entered over several cells, and a dynamic array's spill (=FILTER(…),
    =XLOOKUP(A3:A30, …) in Excel 365) alike. Their results are as stale as the first's.
    The first cell comes before the others in the XML (rows and cells in order), so an area
    the scan has passed is dropped: while one is kept, every cell without a formula is
    looked up, and one 2×2 array at the top of a 20,000-row sheet tripled the scan of a
    master's every read (0.4 s → 1.2 s)."""

    def __init__(self) -> None:
        self.areas: list[tuple[tuple[int, int, int, int], str, object]] = []
        self._ends = 0      # the lowest last row of the areas kept (0: none kept)
        self._met: dict[tuple[tuple[int, int, int, int], str], set[str]] = {}   # each area's other cells met

    def note(self, inner: str, ref: str, value: object = None) -> None:
        """An array formula's first cell ``ref``, and ``value``, which its other cells take."""
        from ..package.cells import ref_area

        f = _FORMULA_ELEMENT.search(inner)
        area_ref = _AREA_REF.search(f.group(1)) if f is not None and 't="array"' in f.group(1) else None
        area = ref_area(area_ref.group(1)) if area_ref else None
        if area is not None and area[:2] != area[2:]:
            self.areas.append((area, ref, value))
            self._met.setdefault((area, ref), set())
            self._ends = min(self._ends or area[2], area[2])

    def absent(self, text: str, sheet: str) -> list[str]:
        """The other cells of the areas that the sheet (``text``, its XML decoded) holds no element for, within
        the cells it has (past them nothing is read): each is a result the array formula
        lacks. Excel saves every result of an array, spilled or {=…}; a file written by
        another tool (openpyxl's ArrayFormula, for one) may hold the first cell alone, and
        the cells below it were read as empty: an indicator turned ― without a word while
        the first cell was named. The sheet is walked again only when some area lacks a
        cell. Past MAX_ABSENT such cells the sheet is refused, not listed: an area's
        reference is the file's word, and one array over A1:ALL200000 with a cell at its far
        corner would have the list made cell by cell (200 million of them)."""
        wanting = [(area, first, met) for (area, first), met in self._met.items()
                   if len(met) < (area[2] - area[0] + 1) * (area[3] - area[1] + 1) - 1]
        if not wanting:
            return []
        rows, cols = _extent(text)
        clipped = [((r1, c1, min(r2, rows), min(c2, cols)), first, met) for (r1, c1, r2, c2), first, met in wanting]
        lacking = sum(max(0, r2 - r1 + 1) * max(0, c2 - c1 + 1) for (r1, c1, r2, c2), _, _ in clipped)
        if lacking > MAX_ABSENT + sum(len(met) + 1 for _, _, met in clipped):
            first = clipped[0][1]
            raise UnreadableSheet(f"シート「{sheet}」の配列数式（{first} から）の計算結果が、多くのセルで保存されていません。"
                                  f"Excel で開いて保存し直してから、もう一度{again()}ください")
        return [ref for (r1, c1, r2, c2), first, met in clipped
                for r in range(r1, r2 + 1) for k in range(c1, c2 + 1)
                if (ref := cell_ref(r, k)) != first and ref not in met]

    def of(self, ref: str) -> "Optional[tuple[str, object]]":
        """(first cell, its value given to ``note``) of the array ``ref`` lies in, if any."""
        from ..core.refs import parse_ref

        try:
            row, col = parse_ref(ref)
        except ValueError:
            return None
        if row > self._ends:        # rows come in order: the areas ended above are done
            self.areas = [a for a in self.areas if a[0][2] >= row]
            self._ends = min((a[0][2] for a in self.areas), default=0)
        for area, first, value in self.areas:
            r1, c1, r2, c2 = area
            if r1 <= row <= r2 and c1 <= col <= c2:
                self._met[(area, first)].add(ref)
                return first, value
        return None

    def constant_at(self, ref: str) -> Optional[bool]:
        found = self.of(ref)
        return None if found is None else bool(found[1])


def _extent(text: str) -> tuple[int, int]:
    """(last row, last column) of the cells a sheet's XML (decoded) places (_CELL_REF), each
    read as parse_ref reads it. Two searches give every row and every column, and only the
    rows' extremes and the columns' few distinct letters are read: a place at a time
    through parse_ref, 100,000 rows of ten cells with one array lacking its results took
    1.2 s here (0.45 s now). Where some place may be no cell of the grid to parse_ref (a
    row of zeros, past the grid or of more than its digits, digits other than ASCII, a
    column past XFD), each is read by parse_ref as before, which raises as it did."""
    digits = _CELL_ROW.findall(text)
    if not digits:
        return 0, 0
    if max(map(len, digits)) <= ROW_DIGITS and "".join(digits).isascii():
        rows = list(map(int, digits))
        last_row, last_col = max(rows), max(map(column_number, set(_CELL_COLUMN.findall(text))))
        if min(rows) >= 1 and last_row <= LAST_ROW and last_col <= LAST_COLUMN:
            return last_row, last_col
    rows = cols = 0
    for m in _CELL_REF.finditer(text):
        row, col = parse_ref(m.group(1))
        rows, cols = max(rows, row), max(cols, col)
    return rows, cols


_AREA_REF = LazyPattern(rf'\sref="([A-Z]{{1,{COLUMN_LETTERS}}}\d+(?::[A-Z]{{1,{COLUMN_LETTERS}}}\d+)?)"')


# A formula's own text (not a shared formula's other cells, which hold none).
_FORMULA_TEXT = LazyPattern(r"<(?:\w+:)?f(?:\s[^<>]*)?>([^<]*)</(?:\w+:)?f>")
# What a formula of numbers alone is made of, its texts ("…") taken out: no name, function,
# sheet or cell reference can hide in it ($, !, letters, [ ], #REF!, array constants).
_ARITHMETIC = LazyPattern(r"[0-9.\s+\-*/^%()&=<>]*")


def _constant(inner: str) -> bool:
    """Whether the cell's formula is arithmetic on numbers and texts typed into it."""
    m = _FORMULA_TEXT.search(inner)
    if m is None or 't="shared"' in m.group(0):
        return False
    return _ARITHMETIC.fullmatch(_TEXTS.sub("", m.group(1))) is not None


# A formula's texts ("…", &quot;…&quot;), which _constant reads past: compiled once, as
# _constant is asked of each saved formula (a million on a return: re.sub's own cache
# lookup cost as much as the search).
_TEXTS = LazyPattern(r'"[^"]*"|&quot;.*?&quot;')


# A cell's formula element: its attributes, and its text unless it is a shared formula's
# other cell or a data table (<f t="shared" si="0"/>, <f t="dataTable" … r1="B1"/>).
_FORMULA_ELEMENT = LazyPattern(r"<(?:\w+:)?f\b([^<>]*?)(?:/>|>([^<]*)</(?:\w+:)?f>)")
_SHARED_INDEX = LazyPattern(r'\ssi="(\d+)"')
# A cell holding one (formula_texts' cells, as _FORMULA_CELL is formula_cells').
_FORMULA_ELEMENT_CELL = LazyPattern(r"(?s)<(?:\w+:)?c(?=[\s/>])(?P<attrs>[^<>]*+)(?<!/)>(?P<inner>"
                                    + _UNTIL % ("|" + _FORMULA_ELEMENT.pattern[1:]) + _FORMULA_ELEMENT.pattern
                                    + _UNTIL % "" + r")</(?:\w+:)?c>")


def formula_texts(raw: bytes) -> "dict[str, Optional[str]]":
    """Each formula's text as Excel would show it after "=", per cell of a sheet's XML; a
    shared formula's other cells get the first cell's text (shifted, its cells differ but
    its sheets do not, which is all core.formula_refs asks). None: no text to read (a data
    table), so it may read anything."""
    texts: dict[str, Optional[str]] = {}
    shared: dict[str, str] = {}
    children: dict[str, str] = {}
    arrays = _Arrays()
    for m, _own in _cells_to_read(raw.decode("utf-8"), arrays, _FORMULA_ELEMENT_CELL):
        f = _FORMULA_ELEMENT.search(m["inner"] or "")
        ref = _CELL_REF.search(m["attrs"])
        if ref is not None and f is None and arrays.areas:    # an array formula's other cell
            found = arrays.of(ref.group(1))
            if found is not None:
                texts[ref.group(1)] = texts.get(found[0])
            continue
        if f is None or ref is None:
            continue
        if 't="array"' in f.group(1):
            arrays.note(m["inner"], ref.group(1))
        si = _SHARED_INDEX.search(f.group(1))
        if f.group(2):
            texts[ref.group(1)] = text = unescape(f.group(2))
            if si is not None and 't="shared"' in f.group(1):
                shared[si.group(1)] = text
        elif si is not None:
            children[ref.group(1)] = si.group(1)
        else:
            texts[ref.group(1)] = None
    for ref, si in children.items():
        texts[ref] = shared.get(si)
    return texts
