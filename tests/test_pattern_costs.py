"""What the product's regular expressions cost over hostile part text (patterns62).

A part's text is read by patterns, not only by a parser: a pattern that scans past where
its match could end, from every place it may start, is quadratic in the part, and a part
may be up to package.zipped.MAX_PART_BYTES. The end-to-end cases run a real command on a
real master in a forked child under a time bound; the guard reads the product's source."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import with_members
from forked_cli import cli_run
from renkei_xl.cli.workbook import init_master

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("pattern_costs") / "sample.xlsx", sample="fy2023")


def _with_tail(sample: Path, path: Path, part: str, tail: bytes) -> Path:
    """``sample`` copied to ``path`` with ``tail`` before the end tag of ``part``'s root."""
    with zipfile.ZipFile(sample) as z:
        data = z.read(part)
    at = data.rindex(b"</")
    with_members(sample, path, {part: data[:at] + tail + data[at:]})
    return path


def test_start_tags_by_the_thousand_in_an_xml_comment_cost_validate_no_time(sample, tmp_path):
    """20,000 「<mergeCell」 in an XML comment in a sheet (220 kB, well-formed: a comment may
    hold ``<``): the pattern for a merged range's ref scanned from each one to the comment's
    ``>`` for an attribute it did not find there, 47 s of validate. A start tag holds no
    ``<``, so no pattern reading one scans past the next ``<`` now."""
    master = _with_tail(sample, tmp_path / "comment.xlsx", "xl/worksheets/sheet3.xml",
                        b"<!--" + b"<mergeCell" * 20_000 + b"-->")
    done = cli_run(["validate", str(master)], timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr


# A start tag's attributes read as "anything but >": in a comment, a CDATA section or a
# damaged part they run on over every "<" to the next ">", from every start before it.
_PAST_TAGS = re.compile(r"\[\^(?![^\]]*<)[^\]]*>[^\]]*\]")


def _package_lines(pattern: re.Pattern) -> list[str]:
    """Each line of the package's source ``pattern`` finds, as 「path:line: text」."""
    found = []
    for path in sorted((ROOT / "renkei_xl").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_no_pattern_reads_a_start_tag_past_the_next_lt():
    """Every character class that excludes ``>`` (a start tag's attributes) excludes ``<``
    too: ``[^<>]*``, not ``[^>]*``. Over well-formed tags the two are the same."""
    found = _package_lines(_PAST_TAGS)
    assert not found, "\n".join(found)


def _timed(work) -> float:
    import time
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def test_elements_without_their_end_tag_cost_the_sheet_readers_no_time():
    """A name that only begins as the element's (「<c-x>」, 「<sheetPr-x>」, 「<cellXfs-x>」,
    well-formed in an extLst) has no end tag of that element after it: each pattern read
    ``.*?`` to the end of the part from every one, over 100 s for 20,000 (a 360 kB sheet).
    A name ends at a space, "/" or ">" now, and the window and cell-format patterns take no
    other start or end tag of their element as content."""
    tail = b'<c-x t="e">1</c-x>' * 20_000
    from renkei_xl.package.sheet_window import sheet_window
    from renkei_xl.workbook import sheet_checks

    raw = (b'<worksheet><sheetPr><tabColor rgb="FF00FF00"/></sheetPr><sheetData><row r="1">'
           b'<c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData><extLst>' + tail + b"</extLst></worksheet>")
    named = raw.replace(b"<c-x", b"<sheetPr-x").replace(b"</c-x", b"</sheetPr-x")
    styles = (b'<styleSheet><cellXfs count="1"><xf numFmtId="46"/></cellXfs>'
              + tail.replace(b"<c-x", b"<cellXfs-x").replace(b"</c-x", b"</cellXfs-x") + b"</styleSheet>")
    spent = {
        "cached_errors": _timed(lambda: sheet_checks.cached_errors(raw)),
        "calamine_readable": _timed(lambda: sheet_checks.calamine_readable(raw)),
        "formula_refs": _timed(lambda: sheet_checks.formula_refs(raw)),
        "sheet_window": _timed(lambda: sheet_window(named.decode())),
        "cellXfs": _timed(lambda: re.search(sheet_checks._CELL_XFS, styles)),
    }
    assert max(spent.values()) < 2, spent
    assert sheet_checks.cached_errors(raw) == {0: {0: "#DIV/0!"}}
    assert sheet_window(named.decode()).tab_color == '<tabColor rgb="FF00FF00"/>'
    assert re.search(sheet_checks._CELL_XFS, styles).group(1) == b'<xf numFmtId="46"/>'


def test_cell_tags_by_the_thousand_in_an_xml_comment_cost_validate_and_recalc_no_time(sample, tmp_path):
    """20,000 「<c r="E5" t="e">」 without an end tag in an XML comment after 札幌市's cells:
    the search for error cells (``<c … t="e">…</c>``) read from each one to the part's end
    for a ``</c>``, 6 s of validate for 5,000 and 23 s for 10,000 (comments62; patterns62
    found no pattern that avoids it without slowing every large sheet). A sheet holding a
    comment is read through the parser now (sheet_form.survey), and a write carries it
    back as it was: the comment is the staff's, not the tool's."""
    part = "xl/worksheets/sheet4.xml"
    master = _with_tail(sample, tmp_path / "comment.xlsx", part, b"<!--" + b'<c r="E5" t="e">' * 20_000 + b"-->")
    with zipfile.ZipFile(master) as z:
        before = z.read(part)
    for command in ("validate", "recalc"):
        done = cli_run([command, str(master)], timeout=20)
        assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(master) as z:
        assert z.read(part) == before


def test_hostile_shapes_cost_the_part_and_format_readers_linear_time(tmp_path):
    """Shapes stop 62 left untimed (leftalone63), each well-formed XML or a format code a
    styles part may hold, at sizes that took seconds to days: a cell format whose value holds
    「>」 (「<xf a=">"/>」, 100 kB: 4.6 s in styles._raw_children, and none of them counted);
    「[$」 repeated in a numFmt (10,000 characters: past 200 s in core.currency); a formula
    tag, and a relationship whose value quoted with ' holds 「t="shared"」 or 「Id="rId1"」
    many times (100 kB: 16 s and 10 s). Each is read in linear time now: 1 MB each here."""
    import zipfile

    from renkei_xl.core.currency import is_currency_format
    from renkei_xl.package.cells import _shared_formula
    from renkei_xl.package.rels import remove_rel
    from renkei_xl.package.styles import Styles
    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    n = 1_000_000
    styles = ('<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<cellXfs count="1">' + '<xf a=">"/>' * (n // 11) + "</cellXfs></styleSheet>")
    formula = '<f a=\'' + ' t="shared"' * (n // 11) + "'>1</f>"
    book = tmp_path / "rels.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   "<Relationship Target='" + ' Id="rId1"' * (n // 10) + "' Id=\"rId2\">x</Relationship></Relationships>")
    pkg = Package(book)

    def remove():
        with pytest.raises(PackageError):
            remove_rel(pkg, "xl/workbook.xml", "rId1")

    spent = {
        "styles": _timed(lambda: Styles(styles, "xl/styles.xml")),
        "currency": _timed(lambda: is_currency_format("[$" * (n // 2))),
        "condition": _timed(lambda: is_currency_format("[" * n)),
        "shared formula": _timed(lambda: _shared_formula("").search(formula)),
        "relationship": _timed(remove),
    }
    assert max(spent.values()) < 2, spent
    assert len(Styles(styles, "xl/styles.xml").raw["xf"]) == n // 11
    assert is_currency_format('[$¥-411]#,##0') and not is_currency_format('[$-411]ggge"年"')
    assert _shared_formula("").search('<f ref="A1:A3" t="shared" si="0">') is not None


# A run of one class, an optional item, and a run of the same class again: 「\s*[+-]?\s*」
# splits a run of spaces between its two quantifiers every way there is, before failing.
_SPLIT_RUN = re.compile(r"\\s\*(?:\[[^\]]*\]|\\?.|\([^)]*\))\?\\s\*")


def test_no_pattern_splits_a_run_of_spaces_between_two_quantifiers():
    """「\\s*[+-]?\\s*」 is written 「\\s*(?:[+-]\\s*)?」: the same strings, one way to read them."""
    assert _package_lines(_SPLIT_RUN) == []


def test_long_texts_staff_or_a_returned_file_hold_are_read_in_bounded_time():
    """Each text below is the worst a cell (or a tag of a returned file) can hold for a pattern
    that split a run of spaces between two quantifiers, or asked the rest of the text again at
    each place: 0.8 s (設定's addresses, at split --eml) to 9 s (a <col> tag's attributes) for
    one. Each is read ten times in a child held to 5 s of CPU, which any one of them passed
    alone; read linearly, all of them take a fraction of a second."""
    import resource

    code = r"""
from renkei_xl.cycle.mail import parse_addresses
from renkei_xl.core.errors import UserError
from renkei_xl.core.methods import rate_lines
from renkei_xl.core.seal import _KEY_VALUE
from renkei_xl.excel.client import parsed_as_date
from renkei_xl.package.columns import ATTRIBUTE
from renkei_xl.workbook.sheet_form import _cell_spaced_otherwise
n = 32767
for _ in range(10):
    try:
        parse_addresses(["a," * (n // 2)], "設定")
        raise AssertionError("taken")
    except UserError:
        pass
    try:
        parse_addresses(["企画課" + " " * (n - 30) + "担当 <kikaku@city.otaru.example>"], "設定")
    except UserError:
        pass
    assert rate_lines(" " * (n - 1) + "x") == [] and _KEY_VALUE.fullmatch(" " * n) is None
    assert not parsed_as_date(" " * n + "-1-1")
    assert ATTRIBUTE.findall("a" * n) == []
    assert not _cell_spaced_otherwise(b"<x>\n<t>" + b"\n" * n + b"</t>", b"")
"""
    limit = lambda: resource.setrlimit(resource.RLIMIT_CPU, (5, 5))   # noqa: E731
    run = subprocess.run([sys.executable, "-c", code], preexec_fn=limit, capture_output=True, timeout=120)
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
