"""Part names as ECMA-376 Part 2 (OPC) holds them: the one rule by which a relationship's
target becomes a part name (``resolve``) and by which two names are the same part
(``part_key``), for every reader, the write check (package.integrity), the zip's member
check (package.content.members_refusal) and the look at a file's kind
(package.zipped.content_suffix). Each had its own: the write check decoded 「%20」 and the
readers did not, so a master saved with a target 「worksheets/sheet%201.xml」 was read and
then refused on every write (「ない部品「xl/worksheets/sheet 1.xml」を指しています」); the
member check folded case by Unicode and the reader by ASCII, so 「Ａ.png」 and 「ａ.png」 were
refused as one part twice.

What the standard and the applications do, which this follows:
- A part name is a URI path (Part 2 §6.2.2.2, ed. 1 §8.1.1.1): only RFC 3986 pchar
  characters, anything else percent-encoded (a space is 「%20」, a non-ASCII letter its UTF-8
  bytes); a percent-encoded unreserved character (「%61」 for 「a」) is not allowed [M1.8],
  and Office decodes one in a target (Office 2007, measured by SC34 WG4, 2014-01).
- Two part names are equal compared 「as case-insensitive ASCII strings」 [M1.12]: a
  non-ASCII letter is never folded (「Ａ」 and 「ａ」, 「İ」 and 「i̇」 are other parts).
  .NET's System.IO.Packaging compares the escaped URI upper-cased, which is the same.
- A ZIP item name is the part name without its 「/」 (§7.3.4; non-ASCII may be stored
  unencoded): a literal 「%20」 in the item name, as .NET writes it, is the part a target
  「…%20…」 names, and an item with a plain space is the same part.
- python-calamine and openpyxl decode no escape: they look for the target's text as
  written (calamine ASCII case-insensitively), so a target whose text is not the member's
  is refused before calamine reads (workbook.sheet_checks.check_calamine_places).
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# What a part name holds as it is: pchar (unreserved, sub-delims, 「:」, 「@」) and the 「/」 between segments.
_AS_IS = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_PLAIN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*\Z")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def _triplet() -> "re.Pattern[str]":
    """A percent-encoded byte; compiled at the first name holding a 「%」, which most commands
    never meet (tests/test_startup.py)."""
    return re.compile(r"%([0-9A-Fa-f]{2})")


def _unreserved_decoded(name: str) -> str:
    """``name`` with each percent-encoded unreserved character written out (RFC 3986 §6.2.2.2)."""
    return _triplet().sub(lambda m: chr(int(m.group(1), 16)) if chr(int(m.group(1), 16)) in _UNRESERVED
                        else m.group(0), name) if "%" in name else name


def _uri_form(name: str) -> str:
    """``name`` as a URI path: every character outside pchar percent-encoded as its UTF-8
    bytes (a 「%」 that starts no triplet too), every encoded unreserved one written out."""
    if _PLAIN.match(name):
        return name
    out = []
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "%" and _triplet().match(name, i):
            byte = int(name[i + 1:i + 3], 16)
            out.append(chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}")
            i += 3
            continue
        out.append(ch if ch in _AS_IS else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


def ascii_folded(name: str) -> str:
    """``name`` with its ASCII capitals made small and nothing else changed: part_key's
    folding, and all python-calamine does to find a member (calamine #419)."""
    return name.translate(_ASCII_LOWER)


def part_key(name: str) -> str:
    """What two names of one part have in common, in the standard's sense (see the module):
    their URI form with its ASCII letters made small. A member's name and a resolved target
    alike."""
    return ascii_folded(_uri_form(name))


def twin_words(a: str, b: str) -> str:
    """How two names of one part differ, for a refusal naming both: in case only, or in
    how they are written (「%20」 for a space, 「%61」 for 「a」)."""
    return "大文字・小文字" if ascii_folded(a) == ascii_folded(b) else "書き方（「%20」と空白など）"


def resolve(base_part: str, target: str) -> str:
    """A relationship target as a part name: relative to the source part's folder, or
    absolute from the package root; an encoded unreserved character written out first, so
    that 「%2E%2E/」 is the 「../」 it is. Anything else stays as written: which member it
    names is ``part_key``'s question (Package.member)."""
    target = _unreserved_decoded(target)
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))
