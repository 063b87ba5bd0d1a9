"""package.xml.parse: a part without a DTD is parsed in C, one with a DTD as defusedxml
parses it, and both refuse and report alike."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree as SafeET

from renkei_xl.package.xml import DTD_SCAN, PackageError, parse

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PLAIN = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
         '<cellXfs count="2"><xf numFmtId="0" fontId="0"/><xf numFmtId="9" fontId="0" applyAlignment="1">'
         '<alignment textRotation="90"/></xf></cellXfs><x>a &amp; b &#x3042;</x></styleSheet>').encode("utf-8")
LAUGHS = ('<!DOCTYPE styleSheet [<!ENTITY lol0 "lollollollollollollollollollol">'
          + "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 8)) + "]>")
# a prolog longer than has_dtd's window: the DTD after it is only seen while parsing
LONG_PROLOG = "<!--" + " " * DTD_SCAN + "-->"


def _shape(el) -> tuple:
    return el.tag, dict(el.attrib), el.text, el.tail, [_shape(c) for c in el]


def test_a_part_without_a_dtd_is_parsed_without_defusedxmls_python_parser(monkeypatch):
    """defusedxml parses with ElementTree's pure-Python parser (0.35 s for the 65,000 cell
    formats of a master near Excel's limit, read on every click and write); a part whose
    prolog declares nothing takes the C parser, and gives the same tree."""
    expected = _shape(SafeET.fromstring(PLAIN))

    def refused(_data):
        raise AssertionError("defusedxml's parser for a part without a DTD")

    monkeypatch.setattr(SafeET, "fromstring", refused)
    assert _shape(parse(PLAIN, "xl/styles.xml")) == expected


@pytest.mark.parametrize("dtd", [LAUGHS, '<!DOCTYPE styleSheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'],
                         ids=["laughs", "external"])
def test_entities_past_the_dtd_window_are_still_refused_as_unsafe(dtd):
    """has_dtd looks at the first 64 KiB; a DTD after a longer prolog is refused by
    defusedxml, as before: the C parser never sees it."""
    text = PLAIN.decode("utf-8").replace("?>\n", "?>\n" + LONG_PROLOG + dtd, 1)
    if "lol" in dtd:
        text = text.replace("a &amp; b", "&lol7;")
    with pytest.raises(PackageError, match="安全でない XML 構造"):
        parse(text.encode("utf-8"), "xl/styles.xml")


def test_a_plain_dtd_past_the_window_is_read_as_before():
    """A DTD that declares no entity, past has_dtd's window, was read (defusedxml allows a
    DTD, not its entities): still read."""
    text = PLAIN.decode("utf-8").replace("?>\n", "?>\n" + LONG_PROLOG + "<!DOCTYPE styleSheet>", 1)
    assert _shape(parse(text.encode("utf-8"), "x")) == _shape(SafeET.fromstring(PLAIN))


@pytest.mark.parametrize("damaged", [b"<a><b></a>", b"<a>&nbsp;</a>", b'<a x="1" x="2"/>', b"<a/><b/>",
                                     b'<?xml version="1.0" encoding="no-such-codec"?><a/>', b"<p:a/>", b""])
def test_damaged_xml_is_reported_as_defusedxml_reported_it(damaged):
    """The message staff read (the line and column expat stopped at) is the same whichever
    parser reads the part."""
    with pytest.raises(PackageError) as fast:
        parse(damaged, "xl/x.xml")
    try:
        SafeET.fromstring(damaged)
    except SafeET.ParseError as exc:
        line, column = exc.position
        assert str(fast.value) == f"ブックの部品「xl/x.xml」が壊れています（XML の {line} 行 {column} 文字目）"
    except LookupError:
        assert "文字コード" in str(fast.value)


@pytest.mark.parametrize("data,kind", [
    (b'<?xml version="1.0"?>\n<a><!-- <c r="G20"/> --></a>', "XML のコメント"),
    (b'<?xml version="1.0"?><a><t><![CDATA[<c>]]></t></a>', "CDATA セクション"),
    (b'<?xml version="1.0"?><a><?renkei x?></a>', "処理命令"),
    (b'<?xml-stylesheet href="x"?><a/>', "処理命令"),
    (b'\xef\xbb\xbf<?xml version="1.0"?><a><?p?></a>', "処理命令"),
    (b"<a>" + "<f>設定!A1</f>?".encode() * 200 + b"<!--x--></a>", "XML のコメント"),
    (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<a><f>S!A1</f>?</a>', None),
    (b'<?xml version="1.0"?><!DOCTYPE a><a/>', None),
])
def test_odd_markup_names_what_excel_never_writes_past_the_declaration(data, kind):
    """odd_markup: a comment, a CDATA section or a processing instruction past the XML
    declaration, also after many 「!」 and 「?」 outside tags (the two-byte search then);
    the declaration itself and a DTD (has_dtd's) are none."""
    from renkei_xl.package.xml import odd_markup

    assert odd_markup(data) == kind
