"""The read's byte scans skip a pass where a cheaper look says it cannot find anything
(perf-read): each answer here is held to the full scan's on the byte layouts a skip could
get wrong. The refusals themselves, on whole files, are test_hostile_files'."""

import random

import pytest

from renkei_xl.package.xml import _CHAR_REF, _NONCHARACTER, _forbidden, forbidden_char

_FORBIDDEN = bytes((*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))


def _every_pass(data: bytes):
    """forbidden_char as it was: the forbidden bytes, U+FFFE/U+FFFF and every character
    reference, each searched for over the whole part."""
    found = [(data.find(bytes([b])), b) for b in set(data) if b in _FORBIDDEN]
    nonchar = _NONCHARACTER.search(data)
    if nonchar:
        found.append((nonchar.start(), 0xFFFE if nonchar.group().endswith(b"\xbe") else 0xFFFF))
    if found:
        return min(found)[1]
    for m in _CHAR_REF.finditer(data):
        value = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if _forbidden(value):
            return value
    return None


# Pieces a part's bytes are made of here: the marks the skip looks for, apart and together,
# inside other characters (ｿ is ef bd bf, ￥ ef bf a5), an &amp; before a "#", references
# allowed and forbidden, and the forbidden bytes.
PIECES = [b"<c r=\"A1\">", b"&amp;", b"&", b"#", b"&#", b"&#x1B;", b"&#27;", b"&#10;", b"&#x41;", b"#1;",
          "ｿ".encode(), "￥".encode(), "\ufffe".encode(), "\uffff".encode(), b"\xef", b"\xbf", b"\xbe",
          "人".encode(), b"\x01", b"\x1f", b"\t", b"x", b";"]


@pytest.mark.parametrize("seed", range(40))
def test_forbidden_char_answers_as_every_pass(seed):
    rng = random.Random(seed)
    for _ in range(200):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        assert forbidden_char(data) == _every_pass(data), data


@pytest.mark.parametrize("data, code", [
    (b"a&amp;b&#x1B;c", 0x1B),              # a reference after an &amp;
    (b"&amp;#1;", None),                     # "&" and "#" kept side by side, and no reference
    ("ｿ\ufffe".encode(), 0xFFFE),            # U+FFFE right after a character ending in \xbf
    ("￥x".encode(), None),                  # \xef\xbf of an allowed character
    (b"&#" + b"9" * 11 + b";", None),         # too many digits: not a reference
    (b"\xef\xbf", None),                     # cut short (the UTF-8 check's to refuse)
])
def test_forbidden_char_cases(data, code):
    assert forbidden_char(data) == code == _every_pass(data)


def _kind(data: bytes, code) -> str:
    if code is None:
        return "none"
    if code in (0xFFFE, 0xFFFF):
        return "noncharacter"
    return "byte" if bytes([code]) in data else "reference"


def test_the_layouts_reach_every_kind():
    """The pieces make each kind of answer, so the comparison above means something."""
    rng = random.Random(0)
    seen = set()
    for _ in range(40 * 200):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        seen.add(_kind(data, _every_pass(data)))
    assert seen == {"none", "noncharacter", "byte", "reference"}
