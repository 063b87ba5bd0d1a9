"""Hardened XML reading and the small text edits the package writer makes.

Parts are *read* safely (DTDs forbidden, so no entity expansion, no external entities:
``parse``, defusedxml's ElementTree where a part's prolog declares a DTD, ElementTree's C
parser where it declares none) and *edited* as text: ElementTree would re-serialise the whole part
with its own namespace prefixes, changing bytes that belong to staff or to the
application that saved the file.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from typing import Iterator, Optional
from xml.etree import ElementTree
from xml.etree.ElementTree import Element
from xml.parsers import expat

from ..core.face import again
from ..core.lazy_pattern import LazyPattern
from ..core.errors import UserError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"

# Characters XML 1.0 cannot carry; Excel writes them as _xHHHH_ (ST_Xstring).
_ILLEGAL = LazyPattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class PackageError(UserError):
    """A part that cannot be read safely: the write is refused, the file left alone."""


# What XML 1.0 forbids in a document, as raw UTF-8 bytes (C0 controls but tab and line
# breaks; U+FFFE, U+FFFF) and as character references (&#1; &#x1F;). Excel calls a file
# holding them damaged, and python-calamine would read on as if nothing were wrong. Every
# sheet read passes here, so each test is one pass in C: ``bytes.translate`` deleting every
# byte no test looks for (2 ms on a 3.6 MB sheet, where a find per forbidden byte took 10 to
# 20 ms and one regular expression over a class of them 30 ms), and patterns that start with
# a literal (which the regular expression engine searches for as a string), each searched
# only where what the translate kept says it may be found.
_FORBIDDEN_BYTES = frozenset((*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
# Compiled where first asked: most parts give neither pattern a pass (_MARKS).
_NONCHARACTER = LazyPattern(rb"\xef\xbf[\xbe\xbf]")   # U+FFFE, U+FFFF
_CHAR_REF = LazyPattern(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
# The bytes the three tests look for: the forbidden ones, the first two of a character
# reference and the three of U+FFFE/U+FFFF. The one translate keeps only these, in order, so
# a sequence of them in the part is one in what it keeps: where what it keeps holds no
# "&#" (no "\xef\xbf"), the part holds no reference (no U+FFFE/U+FFFF) and that pattern's
# pass is not made. Each pass cost as much as the translate (≈ 15 ms for the 55 MB of a
# 20,000 × 12 master's sheets, on the thread that checks them beside the reader); a sheet's
# "&" is nearly always an &amp;, and \xef\xbf starts only U+FFC0 to U+FFFF (￥ among them).
_MARKS = b"&#\xef\xbf\xbe"
_SCANNED = frozenset((*_FORBIDDEN_BYTES, *_MARKS))
_NOT_SCANNED = bytes(b for b in range(256) if b not in _SCANNED)
XML_PARTS = (".xml", ".rels", ".vml")


def _forbidden(code: int) -> bool:
    return (code < 0x20 and code not in (0x9, 0xA, 0xD)) or 0xD800 <= code <= 0xDFFF \
        or code in (0xFFFE, 0xFFFF) or code > 0x10FFFF


def forbidden_char(data: bytes) -> Optional[int]:
    """The first kind of character XML 1.0 forbids that ``data`` holds (its code point), or None."""
    scanned = data.translate(None, _NOT_SCANNED)
    found = [(data.find(bytes([b])), b) for b in set(scanned.translate(None, _MARKS))]
    nonchar = _NONCHARACTER.search(data) if b"\xef\xbf" in scanned else None
    if nonchar:
        found.append((nonchar.start(), 0xFFFE if nonchar.group().endswith(b"\xbe") else 0xFFFF))
    if found:
        return min(found)[1]
    for m in (_CHAR_REF.finditer(data) if b"&#" in scanned else ()):
        value = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if _forbidden(value):
            return value
    return None


# The first bytes of a part written in UTF-16 (either byte order, with a byte-order mark or
# starting with "<?"), as XML 1.0's Appendix F tells them apart.
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?")


# An XML declaration's encoding: a part that names one other than UTF-8 is read in it
# (expat decodes it; package.drawing re-encodes it), so only the others must be UTF-8.
DECLARED_ENCODING = re.compile(rb'<\?xml[^<>]*?\bencoding=["\']([^"\']*)["\']')


def not_utf8(where: str) -> str:
    """The one sentence for a part whose bytes are not UTF-8; ``where`` names the part."""
    return f"{where}の文字を読めません（UTF-8 ではありません。ファイルが壊れています）"


def _utf8_expected(data: bytes) -> bool:
    declared = DECLARED_ENCODING.match(data)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


_UTF8_CHUNK = 1 << 20


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, decoded a megabyte at a time: the text of a whole large
    sheet would cost four times its bytes in memory (a sheet of a million styled rows past
    the 512 MB bound), and the characters are not kept."""
    decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:
        for at in range(0, len(data), _UTF8_CHUNK):
            decoder.decode(view[at:at + _UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def check_xml_chars(part: str, data: bytes, label: Optional[str] = None) -> None:
    """Refuse a part holding a character XML 1.0 forbids, or bytes that are no character of
    its encoding (a byte cut out of a character, a part damaged in transit), naming the part.
    Called on every XML part as it is read (package.zipped.Package.read), so a damaged
    sheet, shared strings, workbook or styles part stops a run before anything is written,
    and the readers past it that scan a part's text (workbook.sheet_checks.formula_cells,
    a returned file's sheets, which expat never parses) may decode it as UTF-8. The UTF-8
    test is skipped for an ASCII part (a sheet of shared strings)."""
    code = forbidden_char(data)
    where = f"{label}（部品「{part}」）" if label else f"ブックの部品「{part}」"
    if code is None and not data.isascii() and not data.startswith(_UTF16_STARTS) and _utf8_expected(data):
        if not _is_utf8(data):
            raise PackageError(not_utf8(where) + "。Excel で開いて保存し直すか、元のファイルを使ってください")
    if code is not None:
        shown = f"U+{code:04X}" if code <= 0x10FFFF else "範囲外の文字参照"
        if data.startswith(_UTF16_STARTS):
            # Allowed by the format, written by no application the tool knows: every one of
            # its ASCII characters carries a NUL byte, which read as 「制御文字（U+0000）…
            # 壊れています」 of a part that is whole. Excel saves it again as UTF-8.
            raise PackageError(f"{where}は UTF-16 で書かれています（このツールは UTF-8 の部品だけを読みます。"
                               "ファイルが壊れているのではありません）。Excel で開いて上書き保存してから、"
                               f"もう一度{again()}ください")
        raise PackageError(f"{where}に XML で使えない制御文字（{shown}）が含まれています"
                           "（ファイルが壊れています）。Excel で開いて保存し直すか、元のファイルを使ってください")


# What XML allows in a part beside elements and text that no application writes there
# (Excel and LibreOffice write none past the XML declaration), by how it starts.
_ODD_MARKUP = ((b"<!--", "XML のコメント"), (b"<![CDATA[", "CDATA セクション"), (b"<?", "処理命令"))


def odd_markup(data: bytes) -> Optional[str]:
    """What a part holds past its XML declaration that is neither an element nor text: a
    comment, a CDATA section or a processing instruction (named in Japanese), or None.

    Why: the tool reads a sheet's cells, the cell formats, the defined names, shared
    strings, drawings and notes by searching the part's bytes for tags as Excel writes them,
    and a comment may hold ``<``: 「<!-- <c r="G20" t="e"><v>#N/A</v></c> -->」 is text to
    Excel and a cell to such a search (a silent wrong read), and a pattern over ``<c…>…</c>``
    went quadratic through a comment of many ``<c>`` (patterns62). Each starts ``<!`` or
    ``<?``, looked for by their second byte (_markup_start). A ``<!DOCTYPE`` is has_dtd's."""
    head = 0
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.startswith(b"<?xml", start) and data[start + 5:start + 6] in (b" ", b"\t", b"\r", b"\n"):
        head = data.find(b"?>") + 2
        if head == 1:
            return None    # a declaration never closed: damaged, the parser says so
    found = []
    at = _markup_start(data, b"?", head)
    if at >= 0:
        found.append((at, _ODD_MARKUP[2][1]))
    at = _markup_start(data, b"!", head)
    while at >= 0:
        kind = next((said for start, said in _ODD_MARKUP[:2] if data.startswith(start, at)), None)
        if kind is not None:
            found.append((at, kind))
            break
        at = _markup_start(data, b"!", at + 2)
    return min(found)[1] if found else None


# How many of a mark not after "<" (a formula's 「設定!A1」, a text's 「?」) _markup_start
# passes over one at a time before it searches for the two bytes together.
_MARKS_PASSED = 64


def _markup_start(data: bytes, mark: bytes, at: int) -> int:
    """Where the first ``<`` followed by ``mark`` (``!`` or ``?``) starts, from ``at``, or -1.
    ``mark`` is searched for alone (memchr: 3 ms for the 55 MB of a 20,000 × 12 master's
    sheets, which hold neither), then the byte before it looked at: a search for the two
    bytes together stopped at every ``<`` of the part, 57 ms each. A part that holds many
    of them outside a tag (formulas naming other sheets) gets the two-byte search."""
    for _ in range(_MARKS_PASSED):
        at = data.find(mark, at)
        if at < 0:
            return -1
        if at > 0 and data[at - 1] == 0x3C:
            return at - 1
        at += 1
    return data.find(b"<" + mark, at - 1)


# Where each kind of odd markup ends, by how it starts (without_markup).
_MARKUP_ENDS = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}


def without_markup(data: bytes) -> bytes:
    """``data`` without its comments, CDATA sections and processing instructions (the XML
    declaration too), cut by XML's own delimiters in one pass: what a head read
    (zipped.Package.top) searches for tags, so that 「<!-- <sst uniqueCount="1"> -->」 or
    「<!-- <sheetPr codeName="X"/> -->」 is not taken for the element after it. Each start
    is searched for again only once passed (a pattern ``<!--.*?-->`` searched on from every
    unclosed start went quadratic); the earliest start wins, so a 「<!--」 inside a CDATA
    section is its text. One left open runs to the end, as the parser would refuse it."""
    out, at, found = [], 0, dict.fromkeys(_MARKUP_ENDS, -1)
    while True:
        for mark, i in found.items():
            if 0 <= i < at or (i == -1 and at == 0):
                found[mark] = data.find(mark, at)
        starts = [(i, mark) for mark, i in found.items() if i >= at]
        if not starts:
            return b"".join(out) + data[at:]
        start, mark = min(starts)
        out.append(data[at:start])
        end = data.find(_MARKUP_ENDS[mark], start + len(mark))
        if end < 0:
            return b"".join(out)
        at = end + len(_MARKUP_ENDS[mark])


def odd_markup_refusal(where: str, kind: str) -> str:
    """The one sentence for a part refused for ``odd_markup``'s ``kind``; ``where`` names it."""
    return (f"{where}に Excel が書かない形（{kind}）があります。このツールはこの部品を文字の並びとして"
            "読むため、その中の文字をセルや設定と取り違えるおそれがあり、読み込みません。Excel で開いて"
            f"保存し直すと消えます。保存し直してから、もう一度{again()}ください")


DTD_SCAN = 65_536   # a DTD sits in the prolog, before the root element: this far is looked at


def has_dtd(data: bytes) -> bool:
    """Whether a part declares a DTD or entities: refused wherever XML is read (here, and
    before python-calamine, which resolves entities itself, reads a sheet or the shared
    strings), with one window for every reader."""
    head = data[:DTD_SCAN]
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


def dtd_refusal(what: str) -> str:
    """The one sentence for a part refused by ``has_dtd``; ``what`` names the part."""
    return f"{what}に DTD（実体定義）が含まれています。安全のため読み込みません"


class _PrologRead(Exception):
    """expat reached the root element's start tag (``doctype`` says whether a document
    type declaration came before it)."""

    def __init__(self, doctype: bool):
        super().__init__(doctype)
        self.doctype = doctype


def _prolog_plain(data: bytes) -> bool:
    """Whether expat, reading ``data`` from its start, reaches the root element with no
    document type declaration before it: entities (internal or external) can only be
    declared in one, and XML allows one nowhere else (expat refuses a ``<!DOCTYPE`` after
    the root's start tag as damaged XML). Only the prolog is read: expat stops at the
    first start tag. False on anything else (an error, an encoding expat cannot read),
    which then goes the defusedxml way as before."""
    reader = expat.ParserCreate(None, "}")

    def start(*_args):
        raise _PrologRead(False)

    def doctype(*_args):
        raise _PrologRead(True)

    reader.StartElementHandler = start
    reader.StartDoctypeDeclHandler = doctype
    try:
        reader.Parse(data, True)
    except _PrologRead as read:
        return not read.doctype
    except Exception:   # noqa: BLE001 — whatever it is, defusedxml's parse meets it again and says it
        return False
    return False


# The most tags ("<") a part may hold to be read as an element tree. ElementTree keeps every
# element (about 350 bytes each with its attributes, measured): a master whose styles.xml
# carried six million small elements in an extLst (a 102 MB part, a 37 MB file, within the
# part limit and the packing ratio zipped allows) took validate past 2 GiB and out with a
# MemoryError and a traceback (qa-fuzz61). Every tag is one "<", so their count bounds the
# tree at about 350 MB. Far above any part Excel writes for a master: styles.xml at Excel's
# 64,000 cell formats holds some 200,000 tags, and the calculation chain one per formula cell.
# Not so a worksheet (a 20,000-indicator 一覧 holds 1.2 million): none is read as a tree
# (package.cells reads its text; child_attributes its sheetPr).
MAX_TREE_TAGS = 1_000_000


def parse(data: bytes, part: str) -> Element:
    """A part's element tree, refused where its XML declares a DTD or entities, or is damaged.

    A part whose prolog holds no document type declaration (every part Excel and
    LibreOffice write) is parsed by ElementTree's parser in C: without a DTD there is no
    entity to expand and nothing external to fetch, which is what defusedxml guards.
    defusedxml's own parser is ElementTree's pure-Python one (so that it can set expat's
    handlers): a click on a master near Excel's cell formats limit spent about 0.35 s
    parsing styles.xml's 65,000 formats that way, 0.2 s in C. A part with a DTD past
    ``has_dtd``'s window, or a damaged prolog, still goes to defusedxml (``_parse_defused``),
    which refuses its entities as before. A part of more than MAX_TREE_TAGS tags is refused
    before any tree is built: the tree's memory grows with its elements, not its bytes."""
    if has_dtd(data):
        raise PackageError(dtd_refusal(f"ブックの部品「{part}」"))
    if (tags := data.count(b"<")) > MAX_TREE_TAGS:
        raise PackageError(f"ブックの部品「{part}」の XML のタグが多すぎます（{tags:,} 個、上限 {MAX_TREE_TAGS:,} 個）。"
                           "タグ一つごとに数百バイトのメモリが要るため読み込みません。壊れているか、Excel 以外で"
                           "作られたファイルです。Excel で開いて保存し直してください")
    with _damage_named(part):
        if _prolog_plain(data):
            return ElementTree.XML(data)
        return _parse_defused(data, part)


@contextlib.contextmanager
def _damage_named(part: str) -> Iterator[None]:
    """expat's errors while a part is read, said in Japanese naming the part: ``parse`` and
    ``child_attributes`` say a damaged part alike."""
    try:
        yield
    except ElementTree.ParseError as exc:   # expat's message is English: its position is kept
        line, column = getattr(exc, "position", (0, 0))
        raise PackageError(f"ブックの部品「{part}」が壊れています（XML の {line} 行 {column} 文字目）") from None
    except LookupError:   # expat asks Python for the codec an XML declaration names
        raise PackageError(f"ブックの部品「{part}」が壊れています（XML 宣言の文字コードが読めません）") from None


class _FirstChild:
    """An XMLParser target that keeps the attributes of the root's first child named ``tag``
    and no element: the part's memory is its bytes, whatever its elements."""

    def __init__(self, tag: str):
        self.tag, self.depth, self.found = tag, 0, None

    def start(self, tag: str, attrib: dict) -> None:
        if self.depth == 1 and self.found is None and tag == self.tag:
            self.found = dict(attrib)
        self.depth += 1

    def end(self, _tag: str) -> None:
        self.depth -= 1

    def close(self) -> Optional[dict]:
        return self.found


def child_attributes(data: bytes, part: str, tag: str) -> Optional[dict]:
    """The attributes of the root's first child ``tag`` (``{namespace}name``), None where it
    has none; the part refused as ``parse`` refuses it (a DTD, damaged XML), read whole but
    kept as no tree. Why: a worksheet's sheetPr (upgrade-macros' code names) was read from
    the sheet's element tree, and a 20,000-indicator master's 一覧 after recalc holds 1.2
    million tags, more than MAX_TREE_TAGS lets be a tree: that master was refused as
    damaged. A part whose prolog is not plain goes ``parse``'s way (defusedxml), bound and all."""
    return streamed(data, part, _FirstChild(tag))


def streamed(data: bytes, part: str, target):
    """What an XMLParser ``target`` (start, end, data and close calls) makes of a part, read
    whole and kept as no tree, refused as ``parse`` refuses it (a DTD, damaged XML). A part
    whose prolog is not plain goes ``parse``'s way (defusedxml, bound and all) and its tree
    is told to the target. For what a reader keeps of a part that may hold more than
    MAX_TREE_TAGS tags: a sheet's code name, a sheet's notes (36,000 notes are a million)."""
    if has_dtd(data) or not _prolog_plain(data):
        _tell(parse(data, part), target)
        return target.close()
    with _damage_named(part):
        reader = ElementTree.XMLParser(target=target)
        reader.feed(data)
        return reader.close()


def _tell(element: Element, target) -> None:
    """An element tree told to an XMLParser target, as the parser would have."""
    target.start(element.tag, dict(element.attrib))
    if element.text and hasattr(target, "data"):
        target.data(element.text)
    for child in element:
        _tell(child, target)
        if child.tail and hasattr(target, "data"):
            target.data(child.tail)
    target.end(element.tag)


def _parse_defused(data: bytes, part: str) -> Element:
    """``parse`` for a part whose prolog declares a DTD or cannot be read. defusedxml is
    imported here, not with this module: importing it imports a second, pure-Python copy
    of ElementTree (its parser), about 4 ms of every command's start, and no part Excel or
    LibreOffice writes comes this way (tests/test_startup.py holds commands to that)."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        return SafeET.fromstring(data)
    except DefusedXmlException:
        raise PackageError(f"ブックの部品「{part}」に安全でない XML 構造があります。読み込みません") from None


def index_attribute(attrs, name: str, part: str, default: int = 0) -> int:
    """An attribute the format types as an unsigned number (``numFmtId``, ``fillId``,
    ``localSheetId``), as an index into a list. ``int()`` alone stopped a command with a
    traceback on 「abc」 and took 「-1」 as the list's last entry, a look or a name staff
    never gave; Excel calls either file damaged. ``attrs`` is an element or its attributes."""
    value = attrs.get(name)
    return default if value is None else index_text(value, name, part)


def index_text(value: str, name: str, part: str) -> int:
    """``index_attribute`` for an attribute's text found by a pattern (a sheet part's s=,
    min=, max=, style=, read without parsing the part), by ``unsigned_number``'s rule."""
    number = unsigned_number(value)
    if number is not None:
        return number
    raise PackageError(f"ブックの部品「{part}」が壊れています（{name}=\"{value[:40]}\" は番号ではありません）")


# The most digits of an unsignedInt (4,294,967,295), leading zeros not counted.
UNSIGNED_DIGITS = 10


def unsigned_number(value: str) -> Optional[int]:
    """An attribute the format types as an unsignedInt (an index, a row's r), as Excel reads
    it, or None where it is none: the one reading for every reader of such numbers (index_text
    here, workbook.sheet_form.row_number for a sheet's rows, which names the sheet). ASCII
    digits only, after the schema's whitespace collapse (「٣」 passed isdigit() and was read
    as 3), and at most UNSIGNED_DIGITS of them: 5,000 passed isdigit() and int() raised past
    its 4,300-digit limit (a traceback)."""
    text = value.strip(" \t\r\n")   # the schema's whitespace collapse, as Excel reads it
    digits = text.lstrip("0")        # leading zeros are still the number, however many
    if text.isascii() and text.isdigit() and len(digits) <= UNSIGNED_DIGITS:
        return int(digits or "0")
    return None


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def escape(text: str) -> str:
    # Printable text holds none of _ILLEGAL (controls are Cc, U+FFFE/U+FFFF unassigned):
    # the test runs in C and spares most texts the substitution.
    if not text.isprintable():
        text = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A cell's text as Excel writes it (ST_Xstring): a carriage return as _x000D_ (a literal one
# would come back as a line feed, XML's end-of-line rule) and a text that itself reads like
# an escape, 「_x0041_」, with its underscore escaped (_x005F_), or a reader would decode it.
_XSTRING_CONTROL = LazyPattern("[\x00-\x08\x0b-\x0d\x0e-\x1f\ufffe\uffff]")
_LOOKS_ESCAPED = LazyPattern("_(x[0-9A-Fa-f]{4}_)")


def cell_text(text: str) -> str:
    """``escape`` for the text of a cell, which readers decode (Excel, python-calamine)."""
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    if not text.isprintable():
        text = _XSTRING_CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# XML names five entities and character references, nothing more (a part using another is
# refused by parse first). Written here rather than taken from xml.sax.saxutils, whose import
# pulls in urllib.request, http.client and email (25 ms of a 75 ms FY2023 recalc), or from
# html, whose table of 2,000 HTML entities costs 2 ms and would read «&copy;» that XML does not.
_ENTITY = LazyPattern(r"&(?:(lt|gt|amp|quot|apos)|#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: "re.Match[str]") -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2), 16) if m.group(2) else int(m.group(3))
    return chr(code) if code <= 0x10FFFF else m.group()


def unescape(text: str) -> str:
    """An attribute value or text as written in a part's XML, read back as its characters."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


def attr(text: str) -> str:
    return escape(str(text)).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


# Patterns compiled per namespace prefix (package.cells, package.workbook) keep this many
# prefixes: a prefix is the file's own choice (any XML name, as long as its writer liked), so
# a cache without a bound gained a pattern for every master whose writer chose another one,
# for the life of a server worker. Excel and LibreOffice write "" and some generators "x:":
# a handful is every prefix a server meets in practice.
PREFIXES_KEPT = 16


def prefix_of(text: str, ns: str = MAIN_NS) -> str:
    """"" or "x:" — the prefix the part's author bound to ``ns`` on its root element.

    Excel and LibreOffice use the default namespace; some generators write ``x:``.
    Elements the writer inserts must use the same prefix.
    """
    m = re.search(r'<(?:\w+:)?\w+\b[^<>]*?\sxmlns(?::(\w+))?="' + re.escape(ns) + '"', text)
    if m is None:
        if STRICT_NS in text[:2000]:
            raise PackageError("このブックは「Strict Open XML」形式で保存されています。"
                               "Excel で「Excel ブック」（.xlsx / .xlsm）形式で保存し直してください")
        raise PackageError("ブックの形式を認識できません（SpreadsheetML の名前空間がありません）")
    return f"{m.group(1)}:" if m.group(1) else ""


def element_span(text: str, tag: str, start: int = 0) -> Optional[tuple[int, int, int, int]]:
    """(open_start, content_start, content_end, close_end) of the first ``<tag …>…</tag>``
    or ``<tag …/>`` (content_start == content_end then) at or after ``start``.

    Found with ``str.find``: a pattern for each tag asked cost a compile each (eleven on
    every recalc, perf-111). ``<tag`` counts where a space (``str.isspace``, as ``\\s``
    reads), ``/`` or ``>`` follows; the opening tag ends at the first ``>`` after it, and is
    empty where a ``/`` stands just before that ``>``."""
    opening = "<" + tag
    at = text.find(opening, start)
    while at >= 0:
        name_end = at + len(opening)
        follows = text[name_end:name_end + 1]
        if follows and (follows in "/>" or follows.isspace()):
            break
        at = text.find(opening, at + 1)
    else:
        return None
    gt = text.find(">", name_end)
    if gt < 0:
        return None
    if gt > name_end and text[gt - 1] == "/":
        return at, gt + 1, gt + 1, gt + 1
    close = text.find(f"</{tag}>", gt + 1)
    if close < 0:
        raise PackageError(f"XML 要素 <{tag}> が閉じていません")
    return at, gt + 1, close, close + len(tag) + 3


def set_count(open_tag: str, count: int) -> str:
    """An opening tag with its ``count`` attribute set (added when absent)."""
    if re.search(r'\scount="\d*"', open_tag):
        return re.sub(r'\scount="\d*"', f' count="{count}"', open_tag, count=1)
    return re.sub(r"\s*/?>$", f' count="{count}">', open_tag, count=1)


def append_children(text: str, tag: str, children: list[str], count: Optional[int] = None,
                    *, create_before: tuple[str, ...] = (), prefix: str = "") -> str:
    """``children`` appended inside ``<tag>`` (created before the first of ``create_before``
    found, or before the root's end when none is) with its count attribute updated."""
    if not children:
        return text
    full = prefix + tag
    span = element_span(text, full)
    body = "".join(children)
    if span is None:
        opening = f"<{full} count=\"{count}\">" if count is not None else f"<{full}>"
        block = f"{opening}{body}</{full}>"
        for before in create_before:
            at = element_span(text, prefix + before)
            if at is not None:
                return text[:at[0]] + block + text[at[0]:]
        end = text.rfind("</")
        return text[:end] + block + text[end:]
    o, cs, ce, e = span
    opening = text[o:cs]
    if cs == ce:  # <tag count="0"/>
        opening = opening[:-2].rstrip() + ">"
        new_open = set_count(opening, count) if count is not None else opening
        return text[:o] + new_open + body + f"</{full}>" + text[e:]
    new_open = set_count(opening, count) if count is not None else opening
    return text[:o] + new_open + text[cs:ce] + body + text[ce:]


def closed_elements(data, starts: "re.Pattern", empty_too: bool = False):
    """(start, end) of each element whose start tag ``starts`` finds in ``data`` (bytes or
    text), from its ``<`` to past its end tag; ``starts`` spells the element's name with its
    prefix in its group ``name``. Empty ones (``<x/>``) hold nothing and are passed over,
    unless ``empty_too``. In the order found, none inside another.

    Why not one pattern ``<(p:)x[\\s>].*?</\\1x>``: from each start tag without an end tag
    after it (an empty ``<x14:dataValidation />``, ``<definedName name="a"/>``) it searched
    the whole rest of the part, so 8,000 of them in a 66 kB master held recalc 15 to 25 s,
    and 64,000 over a quarter of an hour (qa-fuzz62); and it read an empty one to the next
    element's end tag, as one element. Here a name's end tag, once missing, is not looked
    for again."""
    lt, close, slash = (">", "</", "/") if isinstance(data, str) else (b">", b"</", b"/")
    missing = set()
    at = 0
    while (m := starts.search(data, at)) is not None:
        tag_end = data.find(lt, m.end("name"))
        if tag_end < 0:
            return
        at = tag_end + 1
        name = m.group("name")
        if data[tag_end - 1:tag_end] == slash:
            if empty_too:
                yield m.start(), at
            continue
        end = -1 if name in missing else data.find(close + name + lt, at)
        if end < 0:
            missing.add(name)
            continue
        at = end + len(name) + 3
        yield m.start(), at
