"""The read's checks, made cheaper and begun sooner (perf-read): a byte scan skips a pass
where a cheaper look says it cannot find anything, each answer here held to the full scan's
on the byte layouts a skip could get wrong; and 指標's checks begin before python-calamine
opens the book. The refusals themselves, on whole files, are test_hostile_files'."""

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


def _master(tmp_path):
    from tests.realbooks import sample_master

    return sample_master(tmp_path / "m.xlsx")


def test_indicators_checks_begin_before_calamine_opens_the_book(tmp_path, monkeypatch):
    """read_state begins 指標's checks (the first large sheet the reader waits for) before
    python-calamine opens the book, which reads the shared strings whole on the main thread."""
    import python_calamine

    from renkei_xl.core import contract as c
    from renkei_xl.workbook.grids import Grids
    from renkei_xl.workbook.session import opened

    master = _master(tmp_path)
    events = []
    real_submit, real_book = Grids._submit, python_calamine.CalamineWorkbook

    class Book:
        @staticmethod
        def from_path(path):
            events.append(("open",))
            return real_book.from_path(path)

        from_filelike = staticmethod(real_book.from_filelike)

    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", 0)
    monkeypatch.setattr(Grids, "_submit", lambda grids, kind, call, name: events.append((kind, name))
                        or real_submit(grids, kind, call, name))
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Book)
    with opened(master) as fs:
        assert fs.data.indicators
    assert events.index((1, c.INDICATORS)) < events.index(("open",)), events
    assert events.count((1, c.INDICATORS)) == 1, "checked once"


def test_a_book_calamine_cannot_open_ends_the_checks_begun_first(tmp_path, monkeypatch):
    """The checks begun before the book is opened end with the refusal, and nothing of theirs
    is raised: the refusal is the book's, as before."""
    import threading

    import python_calamine

    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.grids import Grids
    from renkei_xl.workbook.session import opened

    master = _master(tmp_path)

    class Unopenable:
        @staticmethod
        def from_path(path):
            raise ValueError("Unrecognized sheet")

        from_filelike = from_path

    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", 0)
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Unopenable)
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(UserError, match="の値を読めません（ファイルが壊れています）"):
        with opened(master):
            pass
    assert {t.ident for t in threading.enumerate()} <= before, "check thread left running"
