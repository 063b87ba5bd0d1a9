"""xl/workbook.xml: the sheets (name → part), the defined names, and the edits the tool
makes there (a sheet added when staff deleted one of the tool's, print titles, print
areas and filter ranges of the tool's sheets, the request to recalculate on load)."""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import re
from functools import lru_cache
from typing import NamedTuple, Optional

from ..core.refs import NameMap
from .rels import CT_WORKSHEET, T_WORKSHEET, ContentTypes, add_rel, read_rels
from .xml import MAIN_NS, PREFIXES_KEPT, REL_NS, PackageError, attr, element_span, escape, index_attribute, parse, prefix_of, q
from .zipped import Package, fresh_name, relative, rels_name

T_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


class SheetEntry(NamedTuple):
    name: str
    sheet_id: str
    rid: str
    part: Optional[str]     # None: a chartsheet or dialog sheet has no worksheet grid
    state: str = "visible"


class DefinedName(NamedTuple):
    name: str
    local_sheet: Optional[int]
    value: str
    hidden: bool = False


T_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"


def workbook_part(pkg: Package) -> str:
    """The part _rels/.rels names the workbook. Without that name xl/workbook.xml was read
    on a guess, and python-calamine, which goes by the name as Excel does, then refused the
    whole book naming nothing (「Relationship not found」)."""
    found = [rel.part for rel in read_rels(pkg, "")
             if rel.type in (T_OFFICE_DOCUMENT, T_STRICT_OFFICE_DOCUMENT) and rel.part]
    if found and found[0] in pkg:
        return found[0]
    if found or "xl/workbook.xml" not in pkg:
        raise PackageError(f"「{pkg.path.name}」にブック本体（{found[0] if found else 'workbook.xml'}）がありません")
    raise PackageError(f"「{pkg.path.name}」の部品「_rels/.rels」にブック本体（workbook.xml）への参照がありません"
                       "（ファイルが壊れています）")


class WorkbookXml:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = workbook_part(pkg)
        self.text = pkg.text(self.part)
        self.p = prefix_of(self.text)
        root = parse(self.text.encode("utf-8"), self.part)
        rels = {r.id: r for r in read_rels(pkg, self.part)}
        self.rels = rels
        self.sheets: list[SheetEntry] = []
        for el in root.iter(q(MAIN_NS, "sheet")):
            rid = el.get(q(REL_NS, "id"), "")
            rel = rels.get(rid)
            _check_sheet_rel(el.get("name", ""), rid, rel, self.part)
            _check_sheet_state(el.get("name", ""), el.get("state", "visible"), self.part)
            part = rel.part if rel.type == T_WORKSHEET else None
            self.sheets.append(SheetEntry(el.get("name", ""), el.get("sheetId", ""), rid, part,
                                          el.get("state", "visible")))
            if part is not None:
                pkg.labels[part] = f"シート「{el.get('name', '')}」"
        seen: set[str] = set()
        for s in self.sheets:
            if s.name.lower() in seen:   # Excel compares sheet names case-insensitively
                raise PackageError(f"シート名「{s.name}」が二つあります（ファイルが壊れています）")
            seen.add(s.name.lower())
        self.names: list[DefinedName] = []
        for el in root.iter(q(MAIN_NS, "definedName")):
            local = index_attribute(el, "localSheetId", self.part, None)
            self.names.append(DefinedName(el.get("name", ""), local,
                                          el.text or "", el.get("hidden") in ("1", "true")))
        self.dirty = False

    def without_sheets(self, rids: "set[str]") -> bytes:
        """The workbook part as saved, less the tabs of relationship ``rids``: the book as a
        reader is shown that cannot read those tabs (python-calamine and a macro sheet,
        workbook.grids). A tab is an empty ``sheet`` element, as Excel writes it."""
        def keep(m: "re.Match") -> str:
            return "" if m.group(1) in rids else m.group(0)
        return re.sub(r'<(?:[\w.-]+:)?sheet\s[^<>]*?\b[\w.-]+:id="([^"]*)"[^<>]*?(?:/>|>\s*</(?:[\w.-]+:)?sheet>)',
                      keep, self.text).encode("utf-8")

    @property
    def sheetnames(self) -> list[str]:
        return [s.name for s in self.sheets]

    @property
    def other_tabs(self) -> list[str]:
        """The tabs that are not worksheets (no grid part: chart, dialog and Excel 4.0 macro
        sheets), whose names no added sheet may take (WritePlan.refuse_taken): asked by the
        file face and by the server of the saved master alike."""
        return [s.name for s in self.sheets if s.part is None]

    def sheet(self, name: str) -> Optional[SheetEntry]:
        return next((s for s in self.sheets if s.name == name), None)

    def index(self, name: str) -> int:
        return self.sheetnames.index(name)

    def workbook_names(self) -> NameMap:
        """Workbook-scope names that refer to one range, as (sheet, "B3") — what the
        contract reader needs — and the others' definitions (NameMap.unresolved)."""
        out = NameMap()
        for n in self.names:
            if n.local_sheet is not None:
                if 0 <= n.local_sheet < len(self.sheets):
                    out.add_scoped(n.name, self.sheets[n.local_sheet].name, n.value)
                continue
            out.add(n.name, n.value)
        return out

    # -------------------------------------------------------------------- edits

    def set_name(self, name: str, local_sheet: Optional[int], value: Optional[str], hidden: bool = False) -> None:
        """A name set to ``value`` (None removes it), of a sheet's scope or (``local_sheet``
        None) the workbook's. Only the one element changes."""
        element = ""
        if value is not None:
            flag = ' hidden="1"' if hidden else ""
            scope = f' localSheetId="{local_sheet}"' if local_sheet is not None else ""
            element = (f'<{self.p}definedName name="{attr(name)}"{scope}{flag}>'
                       f"{escape(value)}</{self.p}definedName>")
        m = self._find_name(name, local_sheet)
        current = DefinedName(name, local_sheet, value or "", hidden)
        self.names = [n for n in self.names if not (n.name == name and n.local_sheet == local_sheet)]
        if value is not None:
            self.names.append(current)
        if m is not None:
            if self.text[m[0]:m[1]] == element:
                return
            self.text = self.text[:m[0]] + element + self.text[m[1]:]
            self.dirty = True
            return
        if value is None:
            return
        span = element_span(self.text, self.p + "definedNames")
        if span is None:
            after = None
            for tag in ("externalReferences", "functionGroups", "sheets"):
                after = element_span(self.text, self.p + tag)
                if after is not None:
                    break
            if after is None:
                raise PackageError("workbook.xml に sheets 要素がありません")
            at = after[3]
            self.text = (self.text[:at] + f"<{self.p}definedNames>{element}</{self.p}definedNames>"
                         + self.text[at:])
        else:
            o, cs, ce, e = span
            if cs == ce:
                self.text = (self.text[:o] + f"<{self.p}definedNames>{element}</{self.p}definedNames>"
                             + self.text[e:])
            else:
                self.text = self.text[:ce] + element + self.text[ce:]
        self.dirty = True

    def _find_name(self, name: str, local_sheet: Optional[int]) -> "Optional[tuple[int, int]]":
        """Where the <definedName> element of that name and scope lies (start, end), by its
        attributes in any order; an empty one (<definedName name="x"/>) too. Found in one
        pass (package.xml.closed_elements): a pattern read each empty one to the next end
        tag, searching the rest of workbook.xml from each (qa-fuzz62)."""
        from .xml import closed_elements

        want_name = f'name="{attr(name)}"'
        want_scope = f'localSheetId="{local_sheet}"' if local_sheet is not None else None
        start_tag = _defined_name_pattern(self.p)
        for start, end in closed_elements(self.text, start_tag, empty_too=True):
            attrs = start_tag.match(self.text, start).group(2)
            if want_name in attrs and (want_scope in attrs if want_scope else "localSheetId=" not in attrs):
                if re.search(r'(?:^|\s)name="' + re.escape(attr(name)) + '"', attrs):
                    return start, end
        return None

    def add_sheet(self, name: str, types: ContentTypes) -> SheetEntry:
        """A new worksheet entry at the end (its part is written by the caller)."""
        part = fresh_name(self.pkg.names(), "xl/worksheets/sheet%d.xml")
        rid = add_rel(self.pkg, self.part, T_WORKSHEET, relative(self.part, part))
        # ASCII digits only, an unsignedInt's: str.isdigit() takes 「²」 (int() raises) and 「٣」
        ids = [int(s.sheet_id) for s in self.sheets if s.sheet_id.isascii() and s.sheet_id.isdigit()]
        sheet_id = str(max(ids, default=0) + 1)
        span = element_span(self.text, self.p + "sheets")
        if span is None:
            raise PackageError("workbook.xml に sheets 要素がありません")
        r_prefix = _rel_prefix(self.text)
        element = f'<{self.p}sheet name="{attr(name)}" sheetId="{sheet_id}" {r_prefix}id="{rid}"/>'
        self.text = self.text[:span[2]] + element + self.text[span[2]:]
        entry = SheetEntry(name, sheet_id, rid, part)
        self.sheets.append(entry)
        types.add(part, CT_WORKSHEET)
        self.dirty = True
        return entry

    def lock_structure(self) -> None:
        """The workbook's structure locked without a password (Excel's 「ブックの保護」:
        no sheet added, copied, moved, renamed, deleted, hidden or shown). Written where
        the schema puts it, after fileVersion/fileSharing/workbookPr, before bookViews."""
        element = f'<{self.p}workbookProtection lockStructure="1"/>'
        span = element_span(self.text, self.p + "workbookProtection")
        if span is not None:
            self.text = self.text[:span[0]] + element + self.text[span[3]:]
        else:
            at = None
            for tag in ("workbookPr", "fileSharing", "fileVersion"):
                found = element_span(self.text, self.p + tag)
                if found is not None:
                    at = found[3]
                    break
            if at is None:
                found = element_span(self.text, self.p + "bookViews") or element_span(self.text, self.p + "sheets")
                if found is None:
                    raise PackageError("workbook.xml に sheets 要素がありません")
                at = found[0]
            self.text = self.text[:at] + element + self.text[at:]
        self.dirty = True

    @property
    def date1904(self) -> bool:
        """Whether the book counts its dates from 1904-01-01 (workbookPr/@date1904: Excel's
        「1904 年から計算する」, the old Mac default), not from 1900."""
        span = element_span(self.text, self.p + "workbookPr")
        if span is None:
            return False
        m = _DATE1904.search(self.text, span[0], span[1])
        return m is not None and m.group(1) in ("1", "true")

    @property
    def full_calc_on_load(self) -> bool:
        """Whether calcPr already asks the next application that opens the file to calculate
        every formula (fullCalcOnLoad: XlsxWriter and openpyxl write it into every book they
        make; Excel drops it from the books it saves)."""
        span = element_span(self.text, self.p + "calcPr")
        if span is None:
            return False
        m = _FULL_CALC.search(self.text, span[0], span[1])
        return m is not None and m.group(2) in ("1", "true")

    @property
    def full_precision(self) -> bool:
        """False where the book is set to precision as displayed (calcPr fullPrecision="0",
        Excel's 「表示桁数で計算する」): Excel keeps each number rounded as it is shown."""
        return self.calc_setting("fullPrecision") not in ("0", "false")

    def calc_setting(self, name: str) -> Optional[str]:
        """An attribute of calcPr as the application wrote it (calcMode, calcOnSave …), None
        when absent (core.calc_on_load.saved_uncalculated reads what they mean)."""
        span = element_span(self.text, self.p + "calcPr")
        if span is None:
            return None
        m = re.search(r"\s" + re.escape(name) + r"""\s*=\s*(["'])([^"']*)\1""", self.text[span[0]:span[1]])
        return None if m is None else m.group(2)

    def ask_full_calc_on_load(self) -> None:
        """calcPr/@fullCalcOnLoad set to "1" and nothing else changed: the calcId and every
        other setting the application wrote stay as they were (core.calc_on_load says why).
        A workbook without calcPr gets one where CT_Workbook puts it, after definedNames
        (or what precedes them), before oleSize, customWorkbookViews, pivotCaches …"""
        if self.full_calc_on_load:
            return
        span = element_span(self.text, self.p + "calcPr")
        if span is not None:
            m = _FULL_CALC.search(self.text, span[0], span[1])
            if m is not None:     # "0" or "false": only the value changes
                self.text = self.text[:m.start(2)] + "1" + self.text[m.end(2):]
            else:                 # after the last attribute, any space before "/>" kept
                at = span[1] - (2 if self.text[span[1] - 2:span[1]] == "/>" else 1)
                while self.text[at - 1].isspace():
                    at -= 1
                self.text = self.text[:at] + ' fullCalcOnLoad="1"' + self.text[at:]
        else:
            after = None
            for tag in ("definedNames", "externalReferences", "functionGroups", "sheets"):
                after = element_span(self.text, self.p + tag)
                if after is not None:
                    break
            if after is None:
                raise PackageError("workbook.xml に sheets 要素がありません")
            self.text = self.text[:after[3]] + f'<{self.p}calcPr fullCalcOnLoad="1"/>' + self.text[after[3]:]
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            self.pkg.write(self.part, self.text)


# The attribute inside calcPr's opening tag, in either quote (XML allows both).
_FULL_CALC = re.compile(r"""\sfullCalcOnLoad\s*=\s*(["'])([^"']*)\1""")
_DATE1904 = re.compile(r"""\sdate1904\s*=\s*["']([^"']*)["']""")


# The kinds of sheet a workbook lists (ECMA-376 Part 1, 12.3), by the last word of their
# relationship type: transitional and strict alike. A chart or dialog sheet has no grid.
MACRO_SHEET_KINDS = ("xlMacrosheet", "xlIntlMacrosheet")     # Excel 4.0 macro sheets, international or not
SHEET_KINDS = ("worksheet", "chartsheet", "dialogsheet") + MACRO_SHEET_KINDS


def sheet_kind(rel_type: str) -> str:
    """The kind of sheet a relationship type names (SHEET_KINDS), by its last word: Excel
    knows a sheet by its relationship, never by the folder its part is in."""
    return rel_type.rsplit("/", 1)[-1]


def _check_sheet_rel(name: str, rid: str, rel, part: str) -> None:
    """A sheet whose r:id names no relationship, or one to no kind of sheet, was taken for a
    sheet without a grid and left unread, until python-calamine refused the whole book
    without naming the sheet (「Relationship not found」); Excel calls the file damaged."""
    if rel is None:
        raise PackageError(f"シート「{name}」の参照（r:id=\"{rid[:40]}\"）がブックの部品の一覧（{rels_name(part)}）に"
                           "ありません（ファイルが壊れています）")
    if sheet_kind(rel.type) not in SHEET_KINDS:
        raise PackageError(f"シート「{name}」の参照（{rels_name(part)} の {rid[:40]}）がシートの部品を指していません"
                           f"（種類「{sheet_kind(rel.type)[:40]}」。ファイルが壊れています）")


SHEET_STATES = ("visible", "hidden", "veryHidden")   # ST_SheetState, as Excel spells them


def _check_sheet_state(name: str, state: str, part: str) -> None:
    """A sheet's state Excel does not know (「x」, a number): python-calamine refused the whole
    book naming nothing (「値を読めません」), and upgrade-macros had swapped the macros before it
    was read (schema:31375:578). Excel calls the file damaged; the sheet is named here."""
    if state not in SHEET_STATES:
        raise PackageError(f"シート「{name}」の表示状態（{part} の state=\"{state[:40]}\"）が Excel にない値です"
                           "（ファイルが壊れています）")


@lru_cache(maxsize=PREFIXES_KEPT)
def _defined_name_pattern(prefix: str) -> "re.Pattern[str]":
    """A <definedName> start tag: its name with its prefix (group ``name``), its attributes."""
    return re.compile(r"<(?P<name>" + re.escape(prefix) + r"definedName)\b([^<>]*)>")


def _rel_prefix(text: str) -> str:
    m = re.search(r'xmlns:(\w+)="' + re.escape(REL_NS) + '"', text)
    if m is None:
        raise PackageError("workbook.xml に relationships の名前空間がありません")
    return m.group(1) + ":"



