"""What a file that should be a workbook holds, told from its first bytes and, for a ZIP,
from its members' names: one rule for the master's opener (workbook.session.check_path)
and the returns' reader (cycle.collect.inspect), which word their own refusals and what to
do. A master given as a CSV, a PDF, a file of 0 bytes or a ZIP of itself was told only
「ブックとして開けません」 where a return was told what it is (qa-returns64b).

Only bytes are read here, never a member: bounded by the head (HEAD) and MAX_NAMES names.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import zipfile
import zlib
from itertools import islice
from typing import NamedTuple, Optional, Sequence

from ..core import contract as c
from .part_names import part_key, twin_words

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How much of a file's head tells what it is.
HEAD = 4096
# How many names of an archive (or a folder) are looked at: a file comes alone, or with a
# few others; an archive of thousands costs no more than this.
MAX_NAMES = 200
# What macOS adds: a ``._`` twin of each file (AppleDouble: its Finder data, written on a
# share or a stick that keeps no such data, and into every ZIP a Mac makes).
APPLE_DOUBLE = "._"

# What zipfile raises for a member it cannot inflate: a CRC that does not match
# (BadZipFile), a damaged deflate stream (zlib.error, which is no OSError: it ended the run
# as an unexpected error), a member cut short (EOFError), an encrypted member (RuntimeError)
# and a compression method it lacks (NotImplementedError: Deflate64, which Windows'
# compressed folders use). Each is said in Japanese, never with zipfile's English inside.
ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError)

# The kinds content_of tells apart.
EMPTY, ZEROS, WEB, TEXT, UNKNOWN = "empty", "zeros", "web", "text", "unknown"
# What no workbook's bytes begin with, and what the file is then.
_TEXT_HEADS = ((b"%PDF", " PDF "), (b"{\\rtf", "リッチ テキスト（.rtf）"))


class Content(NamedTuple):
    """What a file that is neither a ZIP package nor an OLE file holds: ``kind`` (EMPTY,
    ZEROS, WEB, TEXT: a PDF, an RTF, a text file, or UNKNOWN) and, for TEXT, ``what`` it is
    in the words a sentence 「中身は{what}です」 takes."""
    kind: str
    what: str = ""


def content_of(head: bytes, size: int, zeros: bool) -> Content:
    """What a file is from ``head`` (its first HEAD bytes or more), its ``size`` and whether
    it holds only zero bytes (``zeros``: a sync client's placeholder). A file of 0 bytes is an
    attachment saved as the mail client failed, a copy cut off; a PDF or a CSV named .xlsx
    carries none of a workbook; Excel's 「Unicode テキスト」 is UTF-16, whose NUL bytes are no
    damage; an HTML page or an XML 2003 spreadsheet is what Excel saves as 「Web ページ」."""
    head = head[:HEAD]
    if not size:
        return Content(EMPTY)
    if zeros:
        return Content(ZEROS)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    what = next((w for magic, w in _TEXT_HEADS if stripped.startswith(magic)), "")
    lower = stripped[:200].lower()
    if not what and (lower.startswith((b"<html", b"<!doctype html")) or b"urn:schemas-microsoft-com:office" in head):
        return Content(WEB)
    if not what and head.startswith((b"\xff\xfe", b"\xfe\xff")):     # Excel's 「Unicode テキスト」: UTF-16
        what = "文字のファイル（Unicode テキスト）"
    if not what and b"\0" not in head:
        for codec in ("utf-8", "cp932"):
            try:
                head.decode(codec)
            except UnicodeDecodeError as exc:
                if exc.start < len(head) - 4:      # a character cut at the 4,096th byte is still text
                    continue
            what = "文字のファイル（CSV など）"
            break
    return Content(TEXT, what) if what else Content(UNKNOWN)


def member_name(info: zipfile.ZipInfo) -> str:
    """A ZIP member's name as its writer meant it. zipfile reads a name without the UTF-8 flag
    as cp437: Windows wrote it in Shift_JIS, while Info-ZIP (Linux's zip, many servers) and
    macOS write UTF-8 without the flag, which read as Shift_JIS gave 「σ░Åµ¿╜…」 for 小樽市 and
    its municipality went unseen. UTF-8 first: Japanese in Shift_JIS is almost never valid
    UTF-8, the other way round it often decodes."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        for codec in ("utf-8", "cp932"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                pass
    return name


def archived(infos: Sequence[zipfile.ZipInfo]) -> list[str]:
    """The names (without their folders) of the workbooks among a ZIP's members ``infos``
    when it is an archive rather than a workbook's package (no [Content_Types].xml): a
    file zipped and then named .xlsx or .xlsm by hand or by a mail system that keeps the
    attachment's name. MAX_NAMES of them at most, a Mac's ``._`` twins (APPLE_DOUBLE) left
    out; [] for a package."""
    if any(i.filename == "[Content_Types].xml" for i in infos):
        return []
    books = (*c.MASTER_SUFFIXES, *c.OTHER_SPREADSHEETS)
    return [n for n in (member_name(i).rstrip("/").rsplit("/", 1)[-1] for i in islice(infos, MAX_NAMES)
                        if not i.is_dir())
            if n.lower().endswith(books) and not n.startswith(APPLE_DOUBLE)]


def members_refusal(infos: Sequence[zipfile.ZipInfo]) -> Optional[str]:
    """Why a package's members ``infos`` cannot be one workbook, as a phrase naming the part
    (「…を含んでいます」), or None. Two members of one name, or of names OPC holds to be one
    part (part_names.part_key: ASCII letters in either case, 「%20」 or a space; 「Ａ」 and
    「ａ」 are two, though Python's lower() made them one): the readers disagreed on which
    was the part (the tool's parser read the one the relationship names, python-calamine its
    twin, and collect imported the twin's values in silence). A member encrypted with the ZIP's own
    password: Excel encrypts a whole book as an OLE file, never a member, and zipfile raised
    its English RuntimeError on the return (予期しないエラー) while a write copied the member
    without its flag, its cipher bytes then taken for the part. Members whose data overlap
    (a ZIP's directory may point many names at one member's bytes): a write copies each
    member's bytes, so 200 names over one 1 MB member made a 1.2 MB master a 201 MB one.
    One rule for the master's package (Package) and the returns' check
    (cycle.collect.inspect), before any member is read."""
    exact: set[str] = set()
    folded: dict[str, str] = {}
    for info in infos:
        if info.is_dir():
            continue
        name = info.filename
        if info.flag_bits & 0x1:
            return f"パスワードで暗号化された部品「{name}」を含んでいます（ZIP の暗号化で、Excel はブックをこの形で暗号化しません）"
        if name in exact:
            return f"同じ名前の部品「{name}」を二つ含んでいます"
        exact.add(name)
        if (other := folded.setdefault(part_key(name), name)) != name:
            return f"{twin_words(other, name)}だけが違う名前の部品「{other}」と「{name}」を含んでいます（Excel では同じ部品の名前です）"
    return _overlapping(infos)


# A member's local header is at least this long, before its name and extra field.
_LOCAL_HEADER = 30


def _overlapping(infos: Sequence[zipfile.ZipInfo]) -> Optional[str]:
    """members_refusal's overlap, in the order the members lie in the file: each one's data
    must end before the next one's header (its name and extra field left out of its length,
    so a real package is never taken for one that overlaps)."""
    laid = sorted((i for i in infos if not i.is_dir()), key=lambda i: i.header_offset)
    for first, then in zip(laid, laid[1:]):
        if first.header_offset + _LOCAL_HEADER + first.compress_size > then.header_offset:
            return f"同じデータを ZIP の中で指す部品「{first.filename}」と「{then.filename}」を含んでいます"
    return None
