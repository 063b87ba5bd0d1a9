"""xl/styles.xml: looks turned into cell formats, appended and never renumbered.

Existing fonts, fills, borders, number formats and cell formats keep their index and
their bytes; what the tool needs is found among them (an exact match of the element the
tool would write, or for a staff cell an equal format but for its fill) or appended at
the end, so every ``s=`` in every staff sheet still means what it meant.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Optional
from xml.etree.ElementTree import Element

from ..core.looks import Look
from .xml import MAIN_NS, PackageError, append_children, attr, element_span, index_attribute, index_text, parse, prefix_of, q
from .zipped import part_text

BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
                   "yyyy/m/d": 14, "yyyy/m/d h:mm": 22, "@": 49}
# What a cell of a built-in number format (ECMA-376 18.8.30: no numFmt of its own in the
# file) shows, by its id, as Excel shows it on a Japanese desktop: the ones the tool writes
# (BUILTIN_FORMATS) and the other dates and times. Read, never written (numfmt_id keeps to
# BUILTIN_FORMATS). Why: a cell of id 20 (h:mm) was read as 「General」, so a -0.5 in it,
# which Excel shows as ##### (core.displayed.shows_hashes), was imported as the number.
BUILTIN_CODES = {**{i: code for code, i in BUILTIN_FORMATS.items()},
                 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
                 20: "h:mm", 21: "h:mm:ss", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0"}
KEEP = object()   # "leave this attribute of the cell's format as it is"
_UNKNOWN = object()
# What Styles._key leaves out of a cell format's attributes (compared by what they name)
_NOT_COMPARED = frozenset({"fillId", "applyFill", "applyNumberFormat", "numFmtId"})


def _raw_children(text: str, container: str, child: str) -> list[str]:
    """The ``child`` elements of ``container`` as written (cell formats, fonts …), in order.
    A start tag is read attribute by attribute, a quoted value whole (XML allows ``>`` in
    one), and an element's content ends before another ``child`` starts. Why: the pattern
    took ``>`` in a value for the tag's end and ran on to the next ``</xf>``, from every
    ``<xf a=">"/>``: 4.6 s for a styles part of 100 kB, minutes for 1 MB, and none of those
    cell formats counted, so a format added was given the index of one already there."""
    span = element_span(text, container)
    if span is None or span[1] == span[2]:
        return []
    body = text[span[1]:span[2]]
    name = re.escape(child)
    pattern = re.compile(r"<" + name + r"""(?=[\s/>])(?:[^<>"'/]++|/(?!>)|"[^"<]*+"|'[^'<]*+')*+"""
                         r"(?:/>|>(?:[^<]++|<(?!/?" + name + r"[\s/>]))*+</" + name + r">)")
    return pattern.findall(body)


def fill_key(fill: Optional[Element]) -> Optional[str]:
    """A fill as the colour staff see: "RRGGBB" for a solid colour, None for no fill,
    another token for theme/indexed colours and patterns (compared, never painted)."""
    if fill is None:
        return None
    pattern = fill.find(q(MAIN_NS, "patternFill"))
    if pattern is None:
        return "gradient" if fill.find(q(MAIN_NS, "gradientFill")) is not None else None
    kind = pattern.get("patternType", "none" if pattern.find(q(MAIN_NS, "fgColor")) is None else "solid")
    if kind == "none":
        return None
    fg = pattern.find(q(MAIN_NS, "fgColor"))
    colour = "auto"
    if fg is not None:
        if fg.get("rgb"):
            colour = fg.get("rgb", "")[-6:].upper()
        elif fg.get("theme") is not None:
            colour = f"theme:{fg.get('theme')}:{fg.get('tint', '0')}"
        elif fg.get("indexed") is not None:
            colour = f"indexed:{fg.get('indexed')}"
    return colour if kind == "solid" else f"{kind}:{colour}"


class Styles:
    def __init__(self, text: str, part: str):
        self.part = part
        self.text = text
        self.p = prefix_of(text)
        root = parse(text.encode("utf-8"), part)
        self.root = root
        p = self.p
        self.raw = {kind: _raw_children(text, p + container, p + child) for kind, container, child in (
            ("font", "fonts", "font"), ("fill", "fills", "fill"), ("border", "borders", "border"),
            ("xf", "cellXfs", "xf"), ("dxf", "dxfs", "dxf"))}
        self.index = {kind: {raw: i for i, raw in reversed(list(enumerate(items)))}
                      for kind, items in self.raw.items()}
        self.added: dict[str, list[str]] = {k: [] for k in self.raw}
        self.numfmts: dict[int, str] = {}
        for el in root.iter(q(MAIN_NS, "numFmt")):
            self.numfmts[index_attribute(el, "numFmtId", part)] = el.get("formatCode", "")
        self.added_numfmts: list[tuple[int, str]] = []
        fills = root.find(q(MAIN_NS, "fills"))
        self._fills = list(fills) if fills is not None else []
        xfs = root.find(q(MAIN_NS, "cellXfs"))
        self._xfs = list(xfs) if xfs is not None else []
        if not self._xfs:
            raise PackageError("styles.xml にセルの書式（cellXfs）がありません")
        self._derived: dict[tuple, int] = {}
        self._keys: Optional[tuple[int, dict[tuple, int]]] = None
        self._ids: dict[str, int] = {}                       # an id's text -> its number (_key)
        self._fill_keys: dict[int, object] = {}              # a fill's index -> fill_key (_key)
        self._rests: dict[tuple, tuple] = {}                 # attributes as written -> compared (_key)
        # _existing_keys of the part as parsed (no number format added), shared by its copies
        self._parsed_keys: list[Optional[dict[tuple, int]]] = [None]
        self._origin = self                                  # the never-written parse copies share

    def copy(self) -> "Styles":
        """These styles as parsed, to count what a write would append without appending it
        (workbook.apply.cell_formats_problem), or for another reader of the same part
        (read_styles). The parse and what is read of it are shared, never changed (a write
        appends to ``added``); a copy of styles already written to is made from the parse
        they were copied from, or parsed again where they were written to themselves. Why:
        a button's click near Excel's cell formats limit parsed styles.xml's 65,000 formats
        twice, for its reader and for the count."""
        origin = self._origin
        if origin.dirty:
            return Styles(self.text, self.part)
        twin = object.__new__(type(self))
        twin.__dict__.update(origin.__dict__)
        twin.index = {kind: dict(found) for kind, found in origin.index.items()}
        twin.added = {kind: [] for kind in origin.raw}
        twin.numfmts = dict(origin.numfmts)
        twin.added_numfmts = []
        twin._derived = dict(origin._derived)
        twin._rests = {}      # what this copy's derives compare (_key), never the kept parse's
        return twin

    # ------------------------------------------------------------------ lookups

    def _count(self, kind: str) -> int:
        return len(self.raw[kind]) + len(self.added[kind])

    def _put(self, kind: str, raw: str) -> int:
        at = self.index[kind].get(raw)
        if at is None:
            at = self._count(kind)
            self.added[kind].append(raw)
            self.index[kind][raw] = at
        return at

    def numfmt_id(self, code: Optional[str]) -> int:
        if code is None:
            return 0
        if code in BUILTIN_FORMATS:
            return BUILTIN_FORMATS[code]
        for i, existing in self.numfmts.items():
            if existing == code:
                return i
        new = max([163, *self.numfmts]) + 1
        self.numfmts[new] = code
        self.added_numfmts.append((new, code))
        return new

    def _el(self, tag: str) -> str:
        return self.p + tag

    def _fill_raw(self, colour: str) -> str:
        e = self._el
        return (f'<{e("fill")}><{e("patternFill")} patternType="solid"><{e("fgColor")} rgb="FF{colour}"/>'
                f'<{e("bgColor")} indexed="64"/></{e("patternFill")}></{e("fill")}>')

    def fill_id(self, colour: Optional[str]) -> int:
        if colour is None:
            return 0
        for i, el in enumerate(self._fills):
            if fill_key(el) == colour:
                return i
        return self._put("fill", self._fill_raw(colour))

    def xf_for(self, look: Look) -> int:
        """The cell format of a tool look (found or appended): the package's one
        translation of renkei_xl.core.looks.Look."""
        e = self._el
        font = (f"<{e('font')}>" + (f"<{e('b')}/>" if look.bold else "") + (f"<{e('u')}/>" if look.underline else "")
                + f'<{e("sz")} val="{look.font_size:g}"/>'
                + (f'<{e("color")} rgb="FF{look.font_color}"/>' if look.font_color else "")
                + f'<{e("name")} val="{attr(look.font_name)}"/><{e("family")} val="3"/><{e("charset")} val="128"/>'
                + f"</{e('font')}>")
        font_id = self._put("font", font)
        fill_id = self._put("fill", self._fill_raw(look.fill)) if look.fill else 0
        border_id = 0
        if look.border:
            side = "".join(f'<{e(s)} style="thin"><{e("color")} rgb="FF{look.border_color}"/></{e(s)}>'
                           for s in ("left", "right", "top", "bottom"))
            border_id = self._put("border", f"<{e('border')}>{side}<{e('diagonal')}/></{e('border')}>")
        fmt = self.numfmt_id(look.number_format)
        align = "".join([f' horizontal="{look.h_align}"' if look.h_align else "",
                         f' vertical="{look.v_align}"' if look.v_align else "",
                         ' wrapText="1"' if look.wrap else ""])
        inner = (f"<{e('alignment')}{align}/>" if align else "") + (
            "" if look.locked else f'<{e("protection")} locked="0"/>')
        xf = (f'<{e("xf")} numFmtId="{fmt}" fontId="{font_id}" fillId="{fill_id}" borderId="{border_id}" xfId="0"'
              f' applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"'
              + ("" if look.locked else ' applyProtection="1"')
              + (f">{inner}</{e('xf')}>" if inner else "/>"))
        return self._put("xf", xf)

    def dxf_fill(self, colour: str) -> int:
        e = self._el
        return self._put("dxf", f'<{e("dxf")}><{e("fill")}><{e("patternFill")} patternType="solid">'
                                f'<{e("fgColor")} rgb="FF{colour}"/><{e("bgColor")} rgb="FF{colour}"/>'
                                f"</{e('patternFill')}></{e('fill')}></{e('dxf')}>")

    # --------------------------------------------------------- staff cell formats

    def fill_of(self, xf_index: int) -> Optional[str]:
        xf = self._xf(xf_index)
        if xf is None:
            return None
        fill_id = index_attribute(xf, "fillId", self.part)
        return fill_key(self._fills[fill_id]) if fill_id < len(self._fills) else None

    def locked_of(self, xf_index: int) -> bool:
        """Whether a cell format keeps its cells locked when the sheet is protected: Excel
        locks every cell whose format does not say ``<protection locked="0"/>``."""
        xf = self._xf(xf_index)
        shield = xf.find(q(MAIN_NS, "protection")) if xf is not None else None
        return shield is None or shield.get("locked", "1") not in ("0", "false")

    def number_format_of(self, xf_index: int) -> str:
        """A cell format's number format code ("General" for none or one not defined), the
        builtin ones by their code (BUILTIN_CODES), so that Text is "@" either way (id 49,
        or a custom format "@") and a built-in time is a time."""
        xf = self._xf(xf_index)
        fmt_id = index_attribute(xf, "numFmtId", self.part) if xf is not None else 0
        if fmt_id in self.numfmts:
            return self.numfmts[fmt_id]
        return BUILTIN_CODES.get(fmt_id, "General")

    def currency_xfs(self) -> frozenset:
        """The cell formats whose number format is Currency or Accounting (core.currency): the
        cells whose Range.Value is a VBA Currency. Empty for a book without one, which is
        how the server learns, from styles.xml alone, that no cell of it needs reading."""
        from ..core.currency import CURRENCY_BUILTIN_IDS, is_currency_format

        out = set()
        for i, xf in enumerate(self._xfs):
            fmt_id = index_attribute(xf, "numFmtId", self.part)
            code = self.numfmts.get(fmt_id)
            if is_currency_format(code) if code is not None else fmt_id in CURRENCY_BUILTIN_IDS:
                out.add(i)
        return frozenset(out)

    def _xf(self, index: int) -> Optional[Element]:
        if index < len(self._xfs):
            return self._xfs[index]
        return None

    def derive(self, xf_index: int, *, fill=KEEP, number_format=KEEP) -> int:
        """A staff cell's format with only its fill and/or number format changed.

        An existing format that equals the result is reused — so lifting a mark finds the
        cell's own format again and the cell's bytes come back as they were. The answer is
        kept per question: formats are only ever appended, so the first equal one stays
        the same, and a rollover asks the same question for tens of thousands of cells.
        """
        question = (xf_index, fill, number_format)
        known = self._derived.get(question)
        if known is None:
            known = self._derived[question] = self._derive(xf_index, fill, number_format)
        return known

    def _derive(self, xf_index: int, fill, number_format) -> int:
        base = self._xf(xf_index)
        if base is None:
            if xf_index < self._count("xf"):
                raise PackageError("内部エラー: 追加した書式は派生できません")
            base = self._xfs[0]
        attrs = dict(base.attrib)
        if fill is not KEEP:
            attrs["fillId"] = str(self.fill_id(fill))
        if number_format is not KEEP:
            attrs["numFmtId"] = str(self.numfmt_id(number_format))
        found = self._existing_keys().get(self._key(attrs, base))
        if found is not None:
            return found
        raw = self.raw["xf"][xf_index] if xf_index < len(self.raw["xf"]) else self.raw["xf"][0]
        changes = {}
        if fill is not KEEP:
            changes["fillId"] = attrs["fillId"]
            if fill is not None:
                changes["applyFill"] = "1"
        if number_format is not KEEP:
            changes["numFmtId"] = attrs["numFmtId"]
            changes["applyNumberFormat"] = "1"
        return self._put("xf", _with_attrs(raw, changes))

    def _existing_keys(self) -> dict[tuple, int]:
        """``_key`` of each cell format the book holds -> the first with it. Made once (again
        when a number format is added, which a format's key may name): each new question
        compared every format of the book, tens of thousands of ``_key`` near Excel's limit
        for each colour a plan paints."""
        if not self.added_numfmts:
            # what the part holds alone: made once for every copy of one parse (read_styles),
            # so a second click on the same master does not describe its 65,000 formats again
            if self._parsed_keys[0] is None:
                self._parsed_keys[0] = self._describe()
            return self._parsed_keys[0]
        if self._keys is None or self._keys[0] != len(self.numfmts):
            self._keys = (len(self.numfmts), self._describe())
        return self._keys[1]

    def _describe(self) -> dict[tuple, int]:
        """``_key`` of each cell format of the part, the first index of each. The compared
        attributes are kept in a table of this description's own (``_rests``), dropped
        after it: a copy's table was the parse's, kept with it (read_styles) for nothing."""
        keys: dict[tuple, int] = {}
        self._rests = {}
        try:
            for i, candidate in enumerate(self._xfs):
                keys.setdefault(self._key(candidate.attrib, candidate), i)
        finally:
            self._rests = {}
        return keys

    def _key(self, attrs: dict, el: Element) -> tuple:
        """What makes two cell formats look the same: everything, fills by colour.

        Asked of each of a book's formats (``_existing_keys``): near Excel's limit 65,000 of
        them on every click that paints or counts. An id's number and a fill's colour are
        therefore kept per text and per fill (both read from the parsed part, never
        changed), the compared attributes per their text as written (a book's formats
        mostly differ in a few of them; kept while the book's keys are made, and by each copy
        for its own derives, never in the kept parse: _rests), and the key
        is built of lists, not generators: the same key in about half the time."""
        ids = self._ids
        fill_text, fmt_text = attrs.get("fillId"), attrs.get("numFmtId")
        fill_id = 0 if fill_text is None else ids.get(fill_text)
        if fill_id is None:
            fill_id = ids[fill_text] = index_text(fill_text, "fillId", self.part)
        fmt_id = 0 if fmt_text is None else ids.get(fmt_text)
        if fmt_id is None:
            fmt_id = ids[fmt_text] = index_text(fmt_text, "numFmtId", self.part)
        fill = self._fill_keys.get(fill_id, _UNKNOWN)
        if fill is _UNKNOWN:
            fill = self._fill_keys[fill_id] = (fill_key(self._fills[fill_id]) if fill_id < len(self._fills)
                                               else ("new", fill_id))
        fmt = self.numfmts.get(fmt_id, fmt_id)
        written = tuple(attrs.items())
        rest = self._rests.get(written)
        if rest is None:
            rest = tuple(sorted([item for item in written if item[0] not in _NOT_COMPARED]))
            self._rests[written] = rest
        if len(el) == 1:
            only = el[0]
            children = ((only.tag, tuple(sorted(only.attrib.items()))),)
        else:
            children = tuple(sorted([(c.tag, tuple(sorted(c.attrib.items()))) for c in el]))
        return rest, fill, fmt, children

    def cell_formats(self) -> tuple[int, int]:
        """(the book's cell formats as Excel counts them against core.looks.MAX_CELL_FORMATS,
        those this write appends): cellXfs and the cell style formats of no built-in style."""
        style_xfs = self.root.find(q(MAIN_NS, "cellStyleXfs"))
        builtin = {el.get("xfId") for el in self.root.iter(q(MAIN_NS, "cellStyle")) if el.get("builtinId") is not None}
        own_styles = sum(1 for i in range(len(style_xfs) if style_xfs is not None else 0) if str(i) not in builtin)
        return len(self._xfs) + own_styles, len(self.added["xf"])

    # ------------------------------------------------------------------- output

    @property
    def dirty(self) -> bool:
        return bool(self.added_numfmts or any(self.added.values()))

    def render(self) -> str:
        text = self.text
        p = self.p
        if self.added_numfmts:
            items = [f'<{p}numFmt numFmtId="{i}" formatCode="{attr(code)}"/>' for i, code in self.added_numfmts]
            text = append_children(text, "numFmts", items, len(self.numfmts), prefix=p,
                                   create_before=("fonts", "fills", "borders", "cellStyleXfs", "cellXfs"))
        order = (("font", "fonts", ("fills", "borders", "cellStyleXfs", "cellXfs")),
                 ("fill", "fills", ("borders", "cellStyleXfs", "cellXfs")),
                 ("border", "borders", ("cellStyleXfs", "cellXfs")),
                 ("xf", "cellXfs", ("cellStyles",)),
                 ("dxf", "dxfs", ("tableStyles", "colors", "extLst")))
        for kind, container, before in order:
            if self.added[kind]:
                text = append_children(text, container, self.added[kind], self._count(kind), prefix=p,
                                       create_before=before)
        return text


# A styles part's bytes and name -> (its parse, never handed out: read_styles hands out
# copies; the part's size in bytes), the latest first read last. Keyed by the bytes
# themselves, compared whole where their hashes agree: exact, and no digest to compute
# (hashlib brought OpenSSL's library into every command's start, about 2.4 ms and 12 M
# instructions of a FY2023 recalc; tests/test_startup.py). The bytes kept are a part's
# size, a twelfth of its parse. Bounded, so that a server
# worker reading many masters does not grow: at most _PARSED_KEPT parts, and older ones are
# dropped while the parts kept hold more than _PARSED_BYTES (the latest is kept whatever its
# size). A part near Excel's 65,000 formats is about 8 MB and held as about 100 MB parsed, a
# master's usual part a few KB and 0.1 MB.
_PARSED: "OrderedDict[tuple[bytes, str], tuple[Styles, int]]" = OrderedDict()
_PARSED_KEPT = 2
_PARSED_BYTES = 4_000_000
_PARSED_LOCK = threading.Lock()


def read_styles(data: bytes, part: str) -> Styles:
    """The styles part ``part`` of the bytes ``data``, parsed once per process for the same
    bytes: every reader of a book's styles (workbook.state.StyleReader) comes here. Each
    caller gets its own copy (Styles.copy): what one write appends to it (a look, a derived
    staff format, a number format) is never seen by the next reader of the same part.

    Why: a master near Excel's 65,000 cell formats took 0.4 s to parse and 0.35 s to describe
    its formats (_existing_keys) on every read, and the same master is read again and again:
    the server's second and later clicks on it, a command that reads the book more than
    once. A changed part has other bytes, so it is parsed anew; only the latest parts are
    kept (``_PARSED``), the older dropped."""
    key = (bytes(data), part)
    with _PARSED_LOCK:
        kept = _PARSED.get(key)
        if kept is not None:
            _PARSED.move_to_end(key)
    if kept is None:
        kept = (Styles(part_text(data, part), part), len(data))
        with _PARSED_LOCK:
            _PARSED[key] = kept
            _PARSED.move_to_end(key)
            while len(_PARSED) > 1 and (len(_PARSED) > _PARSED_KEPT
                                        or sum(size for _, size in _PARSED.values()) > _PARSED_BYTES):
                _PARSED.popitem(last=False)
    return kept[0].copy()


def _with_attrs(raw: str, changes: dict[str, str]) -> str:
    """An element's text with attributes of its opening tag set (added when absent);
    its children keep their bytes."""
    end = raw.find(">")
    opening, rest = raw[:end], raw[end:]
    closing = "/" if opening.endswith("/") else ""
    opening = opening.rstrip("/")
    for name, value in changes.items():
        pattern = re.compile(r"\s" + name + r'="[^"]*"')
        if pattern.search(opening):
            opening = pattern.sub(f' {name}="{value}"', opening, count=1)
        else:
            opening += f' {name}="{value}"'
    return opening + closing + rest
