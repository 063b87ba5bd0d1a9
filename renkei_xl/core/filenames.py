"""File names made from workbook content (圏域名, 年度, municipality names, a book's name).

Whatever staff type into 設定 ends up in a file name on a Windows share or a Linux disk, so
every such name goes through ``safe_file_name``: one rule for every face (the command line,
the local buttons, the server). A name it returns is one plain file name on both systems:
- no folder separators (``/`` ``\\``), no ``..``, no leading dot (hidden on POSIX, and ``..``);
- none of Windows' forbidden characters (``<>:"|?*`` and control characters);
- not a reserved device name (CON, PRN, AUX, NUL, COM0–9, LPT0–9, with or without an
  extension, ``nul.xlsx`` as well);
- no trailing dot or space (Windows strips them, so two names would meet);
- at most ``max_bytes`` bytes of UTF-8 (ext4 counts bytes, NTFS UTF-16 units: the byte count
  is the stricter for Japanese text); a name cut short ends in a hash of the whole name, so
  two long names that share their beginning stay two files;
- none of the characters Excel itself will not have in a file name it saves or links to
  (``[`` ``]`` ``#``, EXCEL_UNSAFE), and, given the folder it goes in (as staff name it),
  short enough that Excel opens it and its backups there (EXCEL_PATH_MAX).

Characters are replaced, not refused: a 圏域名 with a slash is a legitimate name in 設定, and
its file is still wanted. Hand-written rather than a kept library: pathvalidate would do the
character part, but not the byte budget with a unique cut, and the core imports nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

from .backup_names import BACKUP_FOLDER_SUFFIX, LONGEST_STAMP
from .errors import UserError
from .face import again
from .values import UNSEEN_IN_NAMES

DEFAULT_MAX_BYTES = 120     # room beside it for backups' stamps, temp-file prefixes, 依頼.eml
NAME_MAX_BYTES = 255        # the longest name ext4, a Samba share and NTFS all take (safety.NAME_MAX)
HASH_CHARS = 8
REPLACEMENT = "_"

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Excel's own refusals, beyond the file system's. Brackets mark a workbook's name inside a
# reference (='[book.xlsx]Sheet'!A1): Excel's Save As refuses them, and a file renamed with
# them opens with the brackets shown as parentheses, so links to it break once it is closed
# (Microsoft KB 123577: "when you save a new file ... you cannot include brackets in the file
# name"; "links to that workbook will not function correctly"). ``#`` marks where a
# hyperlink's address ends and its place inside the file begins (the bookmark, Office's
# HYPERLINK field): a link to 「a#b.xlsx」 looks for 「a」. Names the tool makes carry neither.
EXCEL_UNSAFE = re.compile(r"[\[\]#]")
# The longest full path (drive or share, folders, separators, name and extension, in UTF-16
# units as Windows counts) Excel opens or saves: past it Excel says 「ファイル名またはパスが
# 存在しません」 even though the file is there, far below Windows' MAX_PATH (260). Microsoft:
# "Error message when you open or save a file that has a long path in Excel"
# (learn.microsoft.com/troubleshoot/microsoft-365-apps/office-suite-issues/
# fails-opening-long-folder-name-files: "Excel: ... exceeds 218 characters"; KB 131464,
# "make sure that the path to the file contains fewer than 219 characters").
EXCEL_PATH_MAX = 218
# The backups the tool keeps of a file it writes again (renkei_xl.safety.backup) lie one
# folder deeper under a longer name (core.backup_names): staff open them to get an older
# version back, so a name is made to fit with them.
# Fewer characters of a name's own text than this, beside its hash, and staff cannot tell
# whose file it is: the name is refused (a shorter folder is asked for), not cut further.
MIN_KEPT_CHARS = 4
_DOTS = re.compile(r"\.{2,}")
# Microsoft's list ("Naming Files, Paths, and Namespaces": CON, PRN, AUX, NUL, COM0–COM9,
# COM¹–COM³, LPT0–LPT9, LPT¹–LPT³), with the console's CONIN$ and CONOUT$. COM0 and LPT0 are
# on it though not every Windows opens them as devices: a name is made to be safe on all.
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))}


def _as_is(ch: str) -> bool:
    """Whether a name may hold ``ch`` as it is: a printable character or a space of any
    width. 「　」 (U+3000) is printable to Windows and to staff, and common in Japanese file
    and folder names (「2023年度　本番」); Python's isprintable() counts it with the control
    characters. Line separators, format characters (bidi overrides, zero widths) and
    control characters stay out: they hide or reorder what a name shows. So do the printable
    characters that show as nothing or as a blank of their own (core.values.UNSEEN_IN_NAMES:
    a Hangul filler, the blank Braille pattern), which visible() spelled as they were."""
    return (ch.isprintable() or unicodedata.category(ch) == "Zs") and ch not in UNSEEN_IN_NAMES


def visible(text: str) -> str:
    """``text`` for a message: each character a name may not hold shown as 〔U+XXXX〕, so a
    refusal shows the name as it is, not a bidi override turning the message around or a
    NUL cutting it short in Excel's message box."""
    return "".join(ch if _as_is(ch) else f"〔U+{ord(ch):04X}〕" for ch in str(text))


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch if _as_is(ch) else REPLACEMENT for ch in text)
    text = EXCEL_UNSAFE.sub(REPLACEMENT, _FORBIDDEN.sub(REPLACEMENT, text))
    return _DOTS.sub(".", text)


def is_reserved(name: str) -> bool:
    """A Windows device name, whatever follows its first dot (``CON.xlsx``, ``nul .txt``)."""
    return name.split(".")[0].rstrip(" ").upper() in _RESERVED


def safe_file_name(stem: str, suffix: str = "", *, max_bytes: int = DEFAULT_MAX_BYTES,
                   tail: str = "", folder: str | None = None) -> str:
    """``stem`` + ``tail`` + ``suffix`` as one safe file name (see the module). ``suffix``
    and ``tail`` are the tool's own words (``.xlsx``; 「_2023年度_入力」) and kept as they
    are; only ``stem``, the workbook's content, is cleaned and, if need be, cut: a long
    municipality's draft once came out as 「…_2023年度__1a2b3c4d.eml」, its 「入力依頼」 cut off.

    ``folder``: where the file goes, as staff name it (the share path on the server). The
    name is then cut further so that Excel opens it and its backups there (EXCEL_PATH_MAX);
    a folder too deep for a readable name is refused (ExcelPathTooLong) before anything is
    written. The same rule on every face: each passes its folder, no face counts."""
    suffix, tail = _clean(suffix), _clean(tail)
    budget = max_bytes - len(suffix.encode("utf-8")) - len(tail.encode("utf-8"))
    if budget < HASH_CHARS + 2:
        raise ValueError("max_bytes leaves no room for a name")
    head = _clean(stem).strip(" .") if not tail else _clean(stem).lstrip(" .")
    if not head and not tail:
        head = "無題"
    if is_reserved(head + tail + suffix):
        head = REPLACEMENT + head
    chars = None
    if folder is not None:
        # folder\{s}_バックアップ\{s}_YYYYMMDD-HHMMSS_001{suffix}: the stem s counts twice.
        fixed = (_folder_chars(folder) + 1 + path_chars(BACKUP_FOLDER_SUFFIX) + 1
                 + path_chars(LONGEST_STAMP + suffix))
        chars = (EXCEL_PATH_MAX - fixed) // 2 - path_chars(tail)
        if path_chars(head) > chars and chars < MIN_KEPT_CHARS + HASH_CHARS + 1:
            raise ExcelPathTooLong(path_too_long(folder, head + tail + suffix))
    name = (_cut(head, budget, chars, key=str(stem) + tail) if head else "") + tail
    return name.strip(" .") + suffix


class ExcelPathTooLong(UserError):
    """A file's path (or its backups') past what Excel opens: said before anything is written."""


def path_chars(text: str) -> int:
    """A path's length as Windows and Excel count it: UTF-16 units."""
    return len(str(text).encode("utf-16-le", "surrogatepass")) // 2


def _folder_chars(folder: str) -> int:
    return path_chars(str(folder).rstrip("\\/"))


def excel_path_chars(folder: str, name: str) -> int:
    """The longest path the file ``name`` in ``folder`` makes: its backups' (see
    BACKUP_FOLDER_SUFFIX), one folder deeper under a longer name."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = dot + suffix
    return (_folder_chars(folder) + 1 + path_chars(stem + BACKUP_FOLDER_SUFFIX) + 1
            + path_chars(stem + LONGEST_STAMP + suffix))


def path_too_long(folder: str, name: str, *, backups: bool = True) -> str:
    """The refusal of a file Excel could not open where it would go, in Japanese, naming
    the path and what to do."""
    folder = str(folder)
    path = f"{folder.rstrip(chr(92) + '/')}{chr(92) if chr(92) in folder else '/'}{name}"
    also = f"。同じフォルダーに作るバックアップ「…{BACKUP_FOLDER_SUFFIX}」の中はもっと長くなります" if backups else ""
    return (f"保存先のパスが長すぎます（Excelは{EXCEL_PATH_MAX}文字まで）: 「{visible(path)}」"
            f"（{path_chars(path)} 文字{also}）。Excel ではこの場所のファイルを開くことも保存することもできません。"
            f"フォルダーをもっと浅い場所に移すか、フォルダー名（やファイル名）を短くしてから、もう一度{again()}ください。"
            "何も書き込んでいません")


def excel_path_problem(folder: str, name: str, *, backups: bool = True) -> str:
    """Why Excel could not open the file ``name`` (a name staff chose, not cut) in ``folder``
    (as staff name it), or, with ``backups``, its backups there; "" when it can."""
    longest = excel_path_chars(folder, name) if backups else _folder_chars(folder) + 1 + path_chars(name)
    if longest <= EXCEL_PATH_MAX:
        return ""
    return path_too_long(folder, name, backups=backups)


def _cut(text: str, max_bytes: int, max_chars: int | None, *, key: str) -> str:
    """``text`` within ``max_bytes`` bytes of UTF-8 and, when given, ``max_chars`` UTF-16
    units: as it is when it fits, else its beginning and a hash of ``key`` (as shortened)."""
    if max_chars is None or path_chars(text) <= max_chars:
        return shortened(text, max_bytes, key=key)
    room_chars, room_bytes, kept = max_chars - HASH_CHARS - 1, max_bytes - HASH_CHARS - 1, []
    for ch in text:
        room_chars -= path_chars(ch)
        room_bytes -= len(ch.encode("utf-8", "surrogateescape"))
        if room_chars < 0 or room_bytes < 0:
            break
        kept.append(ch)
    return _with_hash("".join(kept), key)


def shortened(text: str, max_bytes: int, *, key: str | None = None) -> str:
    """``text`` as it is when it fits in ``max_bytes`` bytes of UTF-8, else its beginning and
    a hash of ``key`` (``text`` itself by default), so two long texts that share their
    beginning stay two names. The one place a name is cut to bytes (_cut cuts one further
    to Excel's path, the same way): the tool's own working files (writer lock, temporary
    files, backups) are cut by it too (renkei_xl.safety).

    Bytes of UTF-8 are the stricter measure on both systems (ext4 counts bytes, NTFS UTF-16
    units); ``surrogateescape`` counts a POSIX name that is not UTF-8 by its real bytes.
    The cut falls between characters: back from the limit past UTF-8 continuation bytes
    (never through a character, and without dropping a non-UTF-8 byte kept before it)."""
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= max_bytes:
        return text
    if max_bytes < HASH_CHARS + 2:
        raise ValueError("max_bytes leaves no room for a name")
    end = max_bytes - HASH_CHARS - 1
    while end > 0 and data[end] & 0xC0 == 0x80:   # data[end]: the first byte left out
        end -= 1
    return _with_hash(data[:end].decode("utf-8", "surrogateescape"), text if key is None else key)


def _with_hash(kept: str, key: str) -> str:
    """A name cut to ``kept`` (shortened's bytes, _cut's path characters), told apart from
    another with the same beginning by a hash of ``key``: one form for every cut name."""
    return f"{kept.rstrip(' .')}{REPLACEMENT}{_digest(key)}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:HASH_CHARS]


def name_problem(name: str, *, max_bytes: int) -> str:
    """Why ``name`` (a name someone chose, e.g. a workbook's) is not one safe file name as it
    is, in Japanese; "" when it is. Names staff chose are refused, not rewritten: the file
    has that name and no other."""
    if not name.strip():
        return "名前が空です"
    if len(name.encode("utf-8", "surrogatepass")) > max_bytes:
        return f"名前が長すぎます（{len(name)} 文字。UTF-8 で {max_bytes} バイト以内にしてください）"
    if not all(map(_as_is, name)):      # the control characters of _FORBIDDEN too
        return "見えない文字（制御文字・書式文字など）を含みます"
    if _FORBIDDEN.search(name):
        return "フォルダーの区切りや使えない記号（\\ / : * ? \" < > |）を含みます"
    if name.strip(" .") in ("", ".") or ".." in name or name.startswith("."):
        return "「.」で始まるか「..」を含みます"
    if name != name.rstrip(" ."):
        return "末尾が「.」か空白です"
    if is_reserved(name):
        return "Windows の予約名（CON, NUL, COM1 など）です"
    return ""


def as_windows_compares(name: str) -> str:
    """``name`` as Windows matches a file name: each UTF-16 unit upcased by a one-to-one
    table (NTFS's $UpCase, FsRtlAreNamesEqual: "converting both strings to uppercase before
    they are compared"), so case is ignored and nothing else is. Not str.casefold: that
    folds 「ß」 to 「ss」, 「ﬃ」 to 「ffi」, the Kelvin sign 「K」 to 「k」 and 「ſ」 to 「s」, names
    Windows keeps apart (a folder 「Straße」 and its copy 「STRASSE」 are two folders on the
    share, and were one to the server).
    Width is kept (「２０２３」 is not 「2023」), and so is every invisible character.

    Composition is the one thing ignored beyond case: a Mac reaches the share with its
    names decomposed (「カ」 and 「゙」 for 「ガ」), and Excel on it says so in FullName. Only
    sequences are composed: a character that Unicode's NFC replaces on its own (a CJK
    compatibility ideograph such as 「神」 U+FA19, the Ångström sign) is a name of its own on
    NTFS and stays itself here."""
    out: list[str] = []
    run: list[str] = []
    for ch in name:
        if unicodedata.normalize("NFC", ch) != ch:      # a singleton: NFC would give another name
            out += [unicodedata.normalize("NFC", "".join(run)), ch]
            run = []
        else:
            run.append(ch)
    out.append(unicodedata.normalize("NFC", "".join(run)))
    return "".join(map(_upcased, "".join(out)))


def _upcased(ch: str) -> str:
    """One character as the upcase table has it: one unit for one unit, the BMP only
    (a character past it is two UTF-16 units the table leaves as they are), and nothing
    made ASCII that was not: the table (Linux's fs/ntfs/upcase.c, generate_default_upcase,
    the one Windows formats NTFS with) leaves the dotless 「ı」 and the long 「ſ」 as they
    are, where Unicode upcases them to 「I」 and 「S」."""
    up = ch.upper()
    if len(up) != 1 or ord(ch) >= 0x10000 or ord(up) >= 0x10000 or (up.isascii() and not ch.isascii()):
        return ch
    return up


def lookalike_key(name: str) -> str:
    """What two names share when staff would read them as one: the same characters up to
    Unicode's compatibility forms (full-width 「２０２３」 and 「2023」, a 濁点 composed or
    not, as a Mac may save it) and case (which Windows ignores, Linux does not)."""
    return unicodedata.normalize("NFKC", name).casefold()


def named_in(label: str, names: Iterable[str], *, tail: str = "") -> frozenset[str]:
    """The names of ``names`` (設定's municipalities) that the file name ``label`` names.

    Each is looked for as 設定 writes it and as a file name carries it (split names a
    file by ``safe_file_name``: 「小樽|市」 travels as 「小樽_市」), in NFC (macOS hands over
    names decomposed) and without regard to case (Windows ignores it). At each position
    the longest name that starts there is taken and the scan goes on after it, so a name
    inside a longer one is not named by it: 「北広島市_2023年度_入力.xlsx」 names 北広島市, not
    a 広島市 that 設定 may list too.

    ``tail``: what split adds after a name (safe_file_name's ``tail``). A name split cut to
    fit a deep folder keeps only its beginning and a hash of the whole name and ``tail``
    (「石狩振興局管内_1a2b3c4d_2023年度_入力.xlsx」): it names the one whose hash it carries,
    however much of it the folder left, so a file named as split named it is recognised
    in any folder (and a name inside the kept beginning is not named by it)."""
    forms: dict[str, str] = {}
    cuts: dict[str, str] = {}
    for name in names:
        for form in (unicodedata.normalize("NFC", name), _clean(name).strip(" .")):
            if form:
                forms.setdefault(form.casefold(), name)
        if tail:
            cuts.setdefault(REPLACEMENT + _digest(str(name) + _clean(tail)), name)
    text = unicodedata.normalize("NFC", label).casefold()
    found: set[str] = set()
    taken = [False] * len(text)
    for mark, name in cuts.items():
        start = text.find(mark)
        while start > 0:
            kept = _clean(name).lstrip(" .").casefold()
            begin = next((start - k for k in range(min(start, len(kept)), 0, -1)
                          if text[start - k:start] == kept[:k]), None)
            if begin is not None:
                found.add(name)
                taken[begin:start + len(mark)] = [True] * (start + len(mark) - begin)
            start = text.find(mark, start + 1)
    lengths = sorted({len(f) for f in forms}, reverse=True)
    i = 0
    while i < len(text):
        hit = None if taken[i] else next((n for n in lengths if text[i:i + n] in forms), None)
        if hit is None:
            i += 1
            continue
        found.add(forms[text[i:i + hit]])
        i += hit
    return frozenset(found)
