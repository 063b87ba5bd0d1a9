"""The zip container: parts read on demand, replaced, added or removed, written once.

Untouched parts are copied as they are (same name, same content, same order); the zip
is rewritten as a whole because a zip cannot be edited in place, and the caller writes it
to a temporary file that is then renamed over the master (renkei_xl.safety).
"""

from __future__ import annotations

import functools
import io
import os
import posixpath
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Optional

from ..core.lazy_pattern import LazyPattern
from .content import OLE_MAGIC, ZIP_DAMAGE, ZIP_MAGIC, members_refusal
from .part_names import part_key, resolve
from .xml import (PKG_REL_NS, XML_PARTS, PackageError, check_xml_chars, not_utf8, odd_markup, odd_markup_refusal,
                  parse, q, without_markup)

# A master is a few MB unpacked; a part that claims more than this is not one we can
# handle in bounded memory (a zip bomb claims less and inflates more: reads are capped too).
MAX_PART_BYTES = 256 * 1024 * 1024
# Sheet XML compresses about 10:1; a part that claims far more is a zip bomb.
MAX_RATIO = 200
RATIO_FROM_BYTES = 8 * 1024 * 1024


# The [Content_Types].xml of a workbook is a few kB; one larger is not looked into to tell a kind.
_TYPES_READ = 1024 * 1024
# An OLE file's directory, where an encrypted book names its 「EncryptedPackage」, is near its head.
_OLE_READ = 8 * 1024 * 1024
_XLS_STREAMS = tuple((name + "\0").encode("utf-16-le") for name in ("Workbook", "Book"))


def content_suffix(path: Path) -> str:
    """The extension ``path``'s bytes say it is (core.contract.CONTENT_KINDS), or "" when
    they say nothing this can tell (unreadable, encrypted, text, damaged). Why: the kind was
    judged by the name alone, and a master renamed .xls was told it was an .xls. Only the
    head, the zip's directory, its content types and _rels/.rels are read, all bounded."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head == OLE_MAGIC:
                # An encrypted .xlsx/.xlsm is an OLE file too, and so are a Word .doc, an .msg
                # and a damaged head: only a directory naming Excel's workbook stream
                # (「Workbook」, 「Book」 before Excel 97) and no encrypted package is an .xls.
                f.seek(0)
                directory = f.read(_OLE_READ)
                if "EncryptedPackage".encode("utf-16-le") in directory:
                    return ""
                return ".xls" if any(n in directory for n in _XLS_STREAMS) else ""
            if not head.startswith(ZIP_MAGIC):
                return ""
            f.seek(0)
            with zipfile.ZipFile(f) as zf:
                names = set(zf.namelist())
                if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                    if zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                        return ".ods"
                if "[Content_Types].xml" not in names or zf.getinfo("[Content_Types].xml").file_size > _TYPES_READ:
                    return ""
                types = zf.read("[Content_Types].xml")
                book = workbook_member(zf, names)
    except (*ZIP_DAMAGE, ValueError, KeyError, PackageError):
        return ""
    if part_key(book or "").endswith(".bin") or b"sheet.binary.macroEnabled.main" in types:
        return ".xlsb"
    if book is None or b".template." in types:   # a template (.xltx/.xltm): not told
        return ""
    return ".xlsm" if b"sheet.macroEnabled.main+xml" in types else ".xlsx"


# Where Excel puts the workbook part, and the only place python-calamine reads it from
# (workbook.sheet_checks.check_calamine_places); a binary workbook's beside it.
BOOK_PLACE = "xl/workbook.xml"
_BOOK_PLACES = (BOOK_PLACE, "xl/workbook.bin")


def workbook_member(zf: zipfile.ZipFile, names: set[str]) -> Optional[str]:
    """The member that is the workbook part, found as the reader finds it (content_suffix,
    and a return refused before its package is read: cycle.collect.inspect):
    where _rels/.rels names it (package.workbook.workbook_part), else at Excel's place, its
    name compared as OPC compares part names (part_names.part_key). 「xl/workbook.xml」 looked
    up as written told a master stored as 「XL/workbook.xml」 nothing, and it was judged by its
    file name alone: an .xlsm named .xlsx went unsaid."""
    by_key = {part_key(n): n for n in names}
    rels = by_key.get("_rels/.rels")
    if rels is not None and zf.getinfo(rels).file_size <= _TYPES_READ:
        for el in parse(zf.read(rels), rels).iter(q(PKG_REL_NS, "Relationship")):
            if el.get("Type", "").endswith("/officeDocument") and el.get("TargetMode") != "External":
                return by_key.get(part_key(resolve("", el.get("Target", ""))))
    return next((by_key[p] for p in _BOOK_PLACES if p in by_key), None)


def _past_bounds(info: zipfile.ZipInfo) -> Optional[str]:
    """Which bound a member's sizes pass, in the words of Package's refusal, or None. The
    refusal named both bounds whichever was passed: 「8 MB になります（上限 256 MB、圧縮率 200
    倍まで）」 said of a part refused for its ratio read as refused below its limit."""
    if info.file_size > MAX_PART_BYTES:
        return f"上限は {MAX_PART_BYTES // 2**20} MB です"
    if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"圧縮された大きさの {info.file_size // max(info.compress_size, 1):,} 倍で、"
                f"ブックの部品としてありえる {MAX_RATIO} 倍を超えています")
    return None


def _unreadable_part(name: str, label: Optional[str]) -> PackageError:
    where = f"{label}（部品「{name}」）" if label else f"ブックの部品「{name}」"
    return PackageError(f"{where}を読めません（圧縮されたデータが壊れています）。Excel で開いて"
                        "「修復」してから保存し直すか、バックアップのファイルを使ってください")


class Package:
    def __init__(self, path: Path, data: Optional[bytes] = None, compresslevel: int = 6):
        """The package at ``path``, or held in ``data`` (a returned file read once).
        ``compresslevel``: zlib's, for the parts written (as they are written, see Deflated)."""
        self.path = Path(path)
        self.compresslevel = compresslevel
        self.labels: dict[str, str] = {}   # part → what staff call it (「シート「札幌市」」), for messages
        if data is not None:
            self._file = io.BytesIO(data)
        else:
            from ..safety import open_confined

            # One handle for the whole life of the package, opened once and judged as opened
            # (safety.open_confined: inside a server click's folder, not a link swapped in):
            # if the file is replaced on disk meanwhile, the parts read and copied on save
            # still come from the file that was checked.
            self._file = open_confined(self.path)
        head = self._file.read(8)
        self._file.seek(0)
        if head == OLE_MAGIC:
            self._file.close()
            raise PackageError(f"「{self.path.name}」はパスワードで保護（暗号化）されているか、古い形式（.xls）"
                               "のブックです。パスワードを外し、.xlsx / .xlsm で保存し直してください")
        # The version of the file read (None for bytes given): a write back onto it checks
        # that no one saved it meanwhile (renkei_xl.safety.ensure_unchanged).
        self.read_as = None if data is not None else os.fstat(self._file.fileno())
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise PackageError(f"「{self.path.name}」をブックとして開けません（壊れているか、Excel のファイルでは"
                               "ありません）") from None
        infos = [i for i in self._zip.infolist() if not i.is_dir()]
        if (why := members_refusal(infos)) is not None:
            raise PackageError(f"「{self.path.name}」は{why}。壊れているか、作り変えられたファイルです。"
                               "Excel で開いて「修復」してから保存し直すか、バックアップのファイルを使ってください")
        self._infos = {i.filename: i for i in infos}
        # Each member under its name as OPC compares part names (see member): one at most,
        # members_refusal having refused two names of one part.
        self._folded = {part_key(name): name for name in self._infos}
        for info in self._infos.values():
            if (why := _past_bounds(info)) is not None:
                raise PackageError(f"「{self.path.name}」の部品「{info.filename}」は展開すると "
                                   f"{info.file_size // 2**20:,} MB になります（{why}）。壊れているか、ブックではないファイルです")
        self._order = list(self._infos)
        # Parsed forms of parts, keyed by part name with the bytes they came from, so a
        # part rewritten since is parsed again (relationships are walked several times).
        self.parsed: dict[str, tuple[bytes, object]] = {}
        # Small parts as read and checked (read): name → (bytes, odd markup checked too).
        self._kept: dict[str, tuple[bytes, bool]] = {}
        self._changed: dict[str, bytes | Deflated] = {}
        self._removed: set[str] = set()
        if "[Content_Types].xml" not in self._infos:
            raise PackageError(f"「{self.path.name}」は Office Open XML のブックではありません")
        # Checked as it opens (read's check_xml_chars), for every package: a master's was read
        # only when a command wrote, and a returned file's never through here (collect's macro
        # scan reads it as bytes), so a forbidden character in it was taken from a return
        # where the master's was refused (qa-94). A few hundred bytes.
        self.read("[Content_Types].xml")

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def names(self) -> list[str]:
        return [n for n in self._order if n not in self._removed] + [
            n for n in self._changed if n not in self._infos]

    def __contains__(self, name: str) -> bool:
        return name in self._changed or (name in self._infos and name not in self._removed)

    def member(self, name: str) -> str:
        """The part ``name`` as the package stores it: the member whose name is the same
        part (part_names.part_key: ASCII letters compared case-insensitively, as ECMA-376
        Part 2 compares part names and python-calamine finds its parts since calamine #419;
        「%20」 and a space alike), when ``name`` itself is not one; else ``name``. Why: a writer may name a part 「xl/worksheets/sheet1.xml」 and
        its relationship 「worksheets/Sheet1.xml」 (xlrd #150, #169 report such files), and
        the tool refused the book as broken (「部品がありません」, 「sharedStrings がありません」)
        where Excel and calamine read it. Every name a relationship gives goes through
        here (rels.read_rels), so the readers and the write path all use the member's own
        name, and a part rewritten keeps it. Unambiguous: members_refusal refuses two
        members that are one part by the same key."""
        if name in self:
            return name
        found = self._folded.get(part_key(name))
        return found if found is not None and found in self else name

    def read(self, name: str, parser_read: bool = False) -> bytes:
        """The part's bytes. An XML part is refused where it holds a character XML forbids
        (check_xml_chars) and, unless ``parser_read``, where it holds a comment, a CDATA
        section or a processing instruction (xml.odd_markup): most readers search a part's
        bytes for tags as Excel writes them, and such text may look like a tag to them (a
        cell, a name, a cell format that is not there). ``parser_read``: the caller reads
        the part through a parser only (xml.parse, streamed), or rewrites it through one
        first (a worksheet's workbook.sheet_checks.check_sheet_xml), which takes each as
        XML does. A part no one reads is copied as it is, comments and all."""
        if name in self._changed:
            data = self._changed[name]
            return data.inflated() if isinstance(data, Deflated) else data
        if name not in self._infos or name in self._removed:
            raise PackageError(f"ブックの部品「{name}」がありません（ファイルが壊れています）")
        kept = self._kept.get(name)
        if kept is not None and (parser_read or kept[1]):
            return kept[0]
        info = self._infos[name]
        if info.file_size > MAX_PART_BYTES:
            raise PackageError(f"ブックの部品「{name}」が大きすぎます（{info.file_size // 2**20} MB）")
        data = self._inflate(info) if kept is None else kept[0]
        xml_part = name.lower().endswith(XML_PARTS)
        if xml_part and kept is None:
            check_xml_chars(name, data, self.labels.get(name))
        if xml_part and not parser_read and (kind := odd_markup(data)) is not None:
            label = self.labels.get(name)
            raise PackageError(odd_markup_refusal(f"{label}（部品「{name}」）" if label else f"ブックの部品「{name}」",
                                                  kind))
        if info.file_size <= self.KEPT_BYTES:
            self._kept[name] = (data, not parser_read or (kept is not None and kept[1]))
        return data

    # A part of at most this many bytes is kept as read (``_kept``): a command asks for the
    # same small parts again and again (a FY2023 recalc read xl/_rels/workbook.xml.rels 14
    # times, [Content_Types].xml, _rels/.rels and styles 3 to 5 times each, every time opened
    # in the zip, inflated and checked anew). The file does not change under the package
    # (one handle, judged as opened) and a part written or removed since is answered from
    # ``_changed`` first, so what is kept stays true. Large parts (a big sheet, its shared
    # strings) are read once and never kept: their memory is the write's.
    KEPT_BYTES = 64 * 1024

    def as_read(self, name: str) -> bool:
        """Whether ``name`` is still the part read from the file (not written or removed since)."""
        return name in self._infos and name not in self._changed and name not in self._removed

    def unpacked_size(self, name: str) -> int:
        """What the part holds, uncompressed, as the zip says (0 for a part it lacks)."""
        info = self._infos.get(name)
        return info.file_size if info is not None and name not in self._changed else 0

    def top(self, name: str, size: Optional[int] = None) -> tuple[bytes, bool]:
        """The part's first ``size`` bytes (all of it for None) as a reader searching them for
        tags must see them: without comments, CDATA sections and processing instructions
        (xml.without_markup), and whether the part goes on past them. The one head read:
        inflating no more than ``size`` for what sits at the top of a large part (a
        worksheet's root, sheetPr and sheetView; the shared strings' root), and not through
        read's odd-markup check, which refuses what such a part may hold (a worksheet is
        read through a parser, comments and all). A comment before the root of the shared
        strings, 「<!-- <sst uniqueCount="1"> -->」, was taken for it: the count checked was
        the comment's, and python-calamine, reading the real one (4294967296), aborted the
        process with a Rust backtrace (workbook.sheet_checks.check_unique_count)."""
        data = self.read(name, parser_read=True) if size is None else self._head(name, size)
        cut = size is not None and len(data) == size
        return (without_markup(data) if odd_markup(data) is not None else data), cut

    def _head(self, name: str, size: int) -> bytes:
        """The part's first ``size`` bytes (fewer when it is shorter), inflating no more than
        that; read through ``top``."""
        data = self._changed.get(name)
        if isinstance(data, Deflated):
            return zlib.decompressobj(-15).decompress(data.packed, size)
        if data is not None:
            return data[:size]
        if name not in self._infos or name in self._removed:
            raise PackageError(f"ブックの部品「{name}」がありません（ファイルが壊れています）")
        try:
            with self._zip.open(self._infos[name]) as f:
                return f.read(size)
        except ZIP_DAMAGE:
            raise _unreadable_part(name, self.labels.get(name)) from None

    def text(self, name: str) -> str:
        return part_text(self.read(name), name)

    def get(self, name: str, parser_read: bool = False) -> Optional[bytes]:
        return self.read(name, parser_read) if name in self else None

    # ------------------------------------------------------------------ writing

    def write(self, name: str, data: bytes | str) -> None:
        self._changed[name] = data.encode("utf-8") if isinstance(data, str) else data
        self._removed.discard(name)

    def write_pieces(self, name: str, pieces: Iterable[str]) -> None:
        """A part given as text in pieces, compressed as they come (see Deflated)."""
        self._changed[name] = Deflated.of(pieces, self.compresslevel)
        self._removed.discard(name)

    def remove(self, name: str) -> None:
        self._changed.pop(name, None)
        if name in self._infos:
            self._removed.add(name)

    def changed(self) -> set[str]:
        """Parts whose content differs from the original file, added and removed ones too."""
        out = set(self._removed)
        for name in self._changed:
            if name not in self._infos or self.read_original(name) != self.read(name):
                out.add(name)
        return out

    def read_original(self, name: str) -> bytes:
        return self._inflate(self._infos[name])

    # What one read of the zip inflates at a time (see _inflate).
    READ_CHUNK = 4 * 2**20

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        """The part's bytes, at most MAX_PART_BYTES of them.

        Inflated a chunk at a time into one growing buffer, not by one ``read`` of the
        whole: zlib gathers a large output in blocks and joins them at the end, so a single
        read of a 245 MiB part peaked at twice that (597 MiB for a shared-strings part
        alone, before python-calamine read it again). The buffer grows in place (realloc)
        and ``getvalue`` hands it over without a copy, so the peak is the part and one
        chunk. A part that fits in one chunk is that chunk, as before."""
        name = info.filename
        try:
            with self._zip.open(info) as f:
                data = f.read(self.READ_CHUNK)
                if len(data) < self.READ_CHUNK:
                    return data
                buf = io.BytesIO()
                buf.write(data)
                del data
                while chunk := f.read(self.READ_CHUNK):
                    buf.write(chunk)
                    if buf.tell() > MAX_PART_BYTES:
                        raise PackageError(f"ブックの部品「{name}」が大きすぎます")
                return buf.getvalue()
        except ZIP_DAMAGE:
            raise _unreadable_part(name, self.labels.get(name)) from None

    def save(self, target: Path) -> None:
        """Every part in its original order (new ones at the end), unless the write would
        leave the package broken (package.integrity): then nothing is written.

        Parts the write did not change are copied as their compressed bytes, without
        inflating and deflating them again: the parts are what must stay identical, and
        on a large master the untouched municipality sheets are most of the file.
        zipfile has no public way to copy an entry raw, hence the small writer below.
        """
        from ..core.values import listed
        from .integrity import write_problems

        problems = write_problems(self.names(), self._infos, self._changed, self.read)
        if problems:
            raise PackageError(f"書き込みを中止しました。「{self.path.name}」から書くファイルが、Excel で開くと"
                               "「修復」を求められるものになるためです（どのファイルも変更していません）: "
                               + listed(problems))
        entries = []
        for name in self.names():
            info = self._infos.get(name)
            data = self._changed.get(name)
            if isinstance(data, Deflated):
                entries.append(data.entry(name, info))
            elif data is not None or info is None:
                entries.append(_deflated(name, data, info, self.compresslevel))
            else:
                # read as it is written: every untouched part's bytes held at once for the
                # write were one more copy of a large master (70 MB for one padded sheet)
                entries.append(functools.partial(_raw, self._file, info))
        _write_zip(target, entries)

    def copy_with(self, replace: dict[str, bytes]) -> bytes:
        """The package as it was read, with ``replace``'s parts in place, in memory: for a
        reader that takes a whole file (python-calamine) when one part must be given to it
        otherwise than it was saved. Nothing is written anywhere."""
        entries = [_deflated(name, replace[name], self._infos.get(name)) if name in replace
                   else _raw(self._file, self._infos[name]) for name in self._order]
        out = io.BytesIO()
        _write_entries(out, entries)
        return out.getvalue()


# ------------------------------------------------------------------ zip writing

class Deflated:
    """A part held compressed, as it will be stored: a large sheet the writer renders in
    pieces is encoded and deflated piece by piece, so neither its text nor its bytes are
    ever whole in memory. Fed without flushing, zlib makes the same stream as from the
    whole part at once, so the saved file does not depend on how it was cut."""

    __slots__ = ("packed", "crc", "size")

    def __init__(self, packed: bytes, crc: int, size: int):
        self.packed, self.crc, self.size = packed, crc, size

    # From this much text on, zlib works on a thread of its own (it lets go of the GIL)
    # while the writer renders the next pieces: a 20,000-row 一覧 deflates in 0.3 s.
    THREAD_FROM_BYTES = 1_000_000

    @classmethod
    def of(cls, pieces: Iterable[str], level: int = 6) -> "Deflated":
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed: list[bytes] = []
        crc = size = 0
        helper: Optional[_Deflater] = None
        try:
            for piece in pieces:
                data = piece.encode("utf-8")
                crc, size = zlib.crc32(data, crc), size + len(data)
                if helper is None and size >= cls.THREAD_FROM_BYTES:
                    helper = _Deflater(packer, packed)
                if helper is not None:
                    helper.put(data)
                else:
                    packed.append(packer.compress(data))
        finally:
            if helper is not None:
                helper.finish()
        packed.append(packer.flush())
        return cls(b"".join(packed), crc, size)

    def inflated(self) -> bytes:
        return zlib.decompress(self.packed, -15)

    def entry(self, name: str, info: Optional[zipfile.ZipInfo]) -> tuple:
        date_time = info.date_time if info else (1980, 1, 1, 0, 0, 0)
        attr = info.external_attr if info else 0o600 << 16
        return name, date_time, attr, zipfile.ZIP_DEFLATED, self.crc, len(self.packed), self.size, self.packed


_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_UTF8 = 0x800


def _dos_time(date_time) -> tuple[int, int]:
    y, mo, d, h, mi, sec = date_time
    return (h << 11) | (mi << 5) | (sec // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d


class _Deflater:
    """Feeds one compressor from a thread, in the order the pieces were put. The queue is
    short, so the text waiting for it stays a few pieces long."""

    def __init__(self, packer, packed: list[bytes]):
        import queue
        import threading

        self._queue: "queue.Queue[Optional[bytes]]" = queue.Queue(maxsize=4)
        self._packer, self._packed = packer, packed
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._packed.append(self._packer.compress(data))
                except BaseException as exc:   # raised again by finish, on the writer's thread
                    self._error = exc

    def put(self, data: bytes) -> None:
        self._queue.put(data)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _deflated(name: str, data: bytes, info: Optional[zipfile.ZipInfo], level: int = 6) -> tuple:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Deflated(packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)).entry(name, info)


def _raw(src, info: zipfile.ZipInfo) -> tuple:
    src.seek(info.header_offset)
    head = src.read(_LOCAL.size)
    if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
        raise PackageError(f"ブックの部品「{info.filename}」の位置が壊れています")
    fields = _LOCAL.unpack(head)
    src.seek(info.header_offset + _LOCAL.size + fields[10] + fields[11])   # name, extra
    packed = src.read(info.compress_size)
    if len(packed) != info.compress_size:
        raise PackageError(f"ブックの部品「{info.filename}」が途中で切れています")
    return (info.filename, info.date_time, info.external_attr, info.compress_type, info.CRC,
            info.compress_size, info.file_size, packed)


def _write_zip(target: Path, entries: list) -> None:
    with open(target, "wb") as out:
        _write_entries(out, entries)


def _write_entries(out, entries: list) -> None:
    if len(entries) >= 0xFFFF:
        raise PackageError("ブックの部品が多すぎます")
    central = []
    for entry in entries:   # an entry, or what reads it when it is written (Package.save)
        name, date_time, attr, method, crc, csize, usize, packed = entry() if callable(entry) else entry
        if csize >= 0xFFFFFFFF or usize >= 0xFFFFFFFF:
            raise PackageError(f"ブックの部品「{name}」が大きすぎます（4 GB 以上）")
        raw_name = name.encode("utf-8")
        flags = _UTF8 if not name.isascii() else 0
        dostime, dosdate = _dos_time(date_time)
        offset = out.tell()
        out.write(_LOCAL.pack(b"PK\x03\x04", 20, 0, flags, method, dostime, dosdate, crc, csize, usize,
                              len(raw_name), 0))
        out.write(raw_name)
        out.write(packed)
        central.append(_CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, flags, method, dostime, dosdate, crc,
                                     csize, usize, len(raw_name), 0, 0, 0, 0, attr, offset) + raw_name)
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def relative(from_part: str, to_part: str) -> str:
    """``to_part`` as a relationship target from ``from_part``'s folder: names inside the
    package, worked out from the package root. relpath makes a relative name absolute
    against the process's working folder (os.getcwd), which is no part of a package: a
    server whose working folder had been removed since its start (a console's folder, an
    unpacked offline folder deleted after the install) failed every 確定版を書き出し and
    次年度のマスターを作成 with 「予期しないエラー」 (FileNotFoundError)."""
    return posixpath.relpath("/" + to_part.lstrip("/"), "/" + posixpath.dirname(from_part).lstrip("/"))


def fresh_name(pkg_names: Iterable[str], pattern: str) -> str:
    """The first ``pattern % n`` (n = 1, 2, …) not taken, e.g. "xl/drawings/drawing%d.xml",
    whatever the case of the names taken: OPC holds 「xl/worksheets/Sheet1.xml」 to be
    「xl/worksheets/sheet1.xml」, and a sheet added under the second beside the first was a
    case twin, refused on write (package.integrity)."""
    taken = {part_key(name) for name in pkg_names}
    n = 1
    while part_key(pattern % n) in taken:
        n += 1
    return pattern % n


# The document dates a writer stamps in docProps/core.xml (and the zip entries' own times).
_STAMPS = LazyPattern(rb"<dcterms:(created|modified)\b[^<>]*>[^<]*</dcterms:\1>")


def part_text(data: bytes, name: str) -> str:
    """A part's bytes ``data`` as text, refused naming the part ``name`` where they are not
    UTF-8 (Package.text; package.styles.read_styles decodes bytes it read before)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(not_utf8(f"ブックの部品「{name}」")) from None


def book_digest(path: Path) -> str:
    """The content of a workbook as 16 hex digits, by same_book's rule (its parts and their
    bytes, core.xml's dates left out): the 送信記録 names a 確定版 by it, and a 確定版 exported
    again from an unchanged master is the same one, though its file is written anew."""
    import hashlib

    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            data = book.read(name)
            if name == "docProps/core.xml":
                data = _STAMPS.sub(b"", data)
            for piece in (name.encode("utf-8"), data):
                digest.update(len(piece).to_bytes(8, "big"))
                digest.update(piece)
    return digest.hexdigest()[:16]


def same_book(a: Path, b: Path, transform=None) -> bool:
    """Whether two workbooks hold the same parts, apart from when each was made: the same
    part names in the same order and the same bytes, core.xml's created and modified dates
    left out. What the tool writes anew (a 確定版 exported again from the same master) then
    counts as unchanged, and a file anything else touched does not. False for a file that
    is not a readable package: it is kept. ``transform``: applied to each part of ``b``
    first (an input file's earlier issue stamp read as the new one)."""
    try:
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            names = za.namelist()
            if names != zb.namelist():
                return False
            for name in names:
                pa, pb = za.read(name), zb.read(name)
                if transform is not None:
                    pb = transform(pb)
                if name == "docProps/core.xml":
                    pa, pb = _STAMPS.sub(b"", pa), _STAMPS.sub(b"", pb)
                if pa != pb:
                    return False
            return True
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, RuntimeError):
        return False
