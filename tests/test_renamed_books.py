"""A book renamed by hand to another extension (a .xlsm saved as 「….xls」, .xlsx and .xlsm
swapped, a return renamed .csv): the refusal says what the file really is, by its content,
and to rename it back. It was told by its name alone: 「.xls 形式のファイルで、このツールは
読めません（拡張子を変えるだけでは読めません）」 of a master that only needed its name back."""

from __future__ import annotations

import shutil

import pytest

from renkei_xl.cli import main
from renkei_xl.cli.workbook import init_master
from renkei_xl.package.zipped import content_suffix


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("renamed")
    return init_master(tmp / "m.xlsm"), init_master(tmp / "p.xlsx")


# .xlsx ↔ .xlsm swapped is refused too: Excel opens neither (「ファイル形式または拡張子が正しく
# ありません」), so a master the tool wrote on would still not open for staff; an openpyxl script
# that saved an .xlsm without keep_vba made such a file, and renaming it .xlsx is the mend.
@pytest.mark.parametrize("source, renamed, back", [
    (0, "a.xls", ".xlsm"), (0, "b.xlsx", ".xlsm"), (0, "c.ods", ".xlsm"), (0, "d.csv", ".xlsm"),
    (1, "e.xlsm", ".xlsx"), (1, "f.xls", ".xlsx"), (1, "g.ods", ".xlsx"), (1, "h.csv", ".xlsx")])
def test_a_renamed_master_is_told_what_it_is_and_to_rename_it_back(masters, tmp_path, capsys, source, renamed, back):
    path = tmp_path / renamed
    shutil.copyfile(masters[source], path)
    assert main(["validate", str(path)]) != 0
    err = capsys.readouterr().err
    suffix = path.suffix
    assert f"「{renamed}」は名前の拡張子が「{suffix}」ですが、中身は Excel " in err, err
    assert f"（{back}）です。名前の最後の「{suffix}」を「{back}」に戻してから、もう一度指定してください" in err, err
    assert "拡張子を変えるだけでは読めません" not in err and "文字のファイル" not in err, err
    assert ("取り違えたままでは、Excel でも開けません" in err) == (suffix in (".xlsx", ".xlsm")), err

    path.rename(path.with_suffix(back))
    assert main(["validate", str(path.with_suffix(back))]) in (0, 1)


def test_content_is_told_by_the_bytes(masters, tmp_path):
    assert [content_suffix(m) for m in masters] == [".xlsm", ".xlsx"]
    text = tmp_path / "t.csv"
    text.write_text("指標ID,年度\n", encoding="utf-8")
    old = tmp_path / "o.xls"
    old.write_bytes(_compound({"Workbook": BIFF8_BOF}))
    assert content_suffix(text) == "" and content_suffix(old) == ".xls"
    # A compound file is not an .xls by its head: an encrypted .xlsx, a Word .doc and a bare
    # head (damaged) say nothing this can tell, and keep their own refusals.
    for name, streams in [("enc.xlsx", {"EncryptionInfo": bytes(64), "EncryptedPackage": bytes(600)}),
                          ("doc.xls", {"WordDocument": bytes(600)})]:
        other = tmp_path / name
        other.write_bytes(_compound(streams))
        assert content_suffix(other) == "", name
    bare = tmp_path / "bare.xlsx"
    bare.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert content_suffix(bare) == ""


def _moved_book(master, book: str, rels: str, named: str) -> bytes:
    """``master``'s package with its workbook part stored as ``book``, its relationships as
    ``rels``, and _rels/.rels naming it ``named``."""
    import io
    import zipfile

    with zipfile.ZipFile(master) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members[book] = members.pop("xl/workbook.xml")
    members[rels] = members.pop("xl/_rels/workbook.xml.rels")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b'Target="xl/workbook.xml"', f'Target="{named}"'.encode())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


# Where ECMA-376 Part 2 lets a writer keep the workbook part: under another case (OPC part
# names are ASCII case-insensitive) or anywhere _rels/.rels names. The reader finds it so
# (Package.member, package.workbook.workbook_part); content_suffix looked for
# 「xl/workbook.xml」 as written and said nothing, so an .xlsm named .xlsx went unsaid.
@pytest.mark.parametrize("book, rels, named", [
    ("XL/workbook.xml", "XL/_rels/workbook.xml.rels", "xl/workbook.xml"),
    ("xl/book.xml", "xl/_rels/book.xml.rels", "xl/book.xml")])
def test_content_is_told_from_the_workbook_part_where_the_package_names_it(masters, tmp_path, book, rels, named):
    path = tmp_path / "swapped.xlsx"
    path.write_bytes(_moved_book(masters[0], book, rels, named))
    assert content_suffix(path) == ".xlsm"


# A BIFF8 workbook stream's first record (BOF: version 0x0600, a workbook globals substream).
BIFF8_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00" + bytes(600)


def _compound(streams: dict[str, bytes]) -> bytes:
    """A compound file (OLE) with these streams, as Excel 97-2003, Word or Office's
    encryption write them, through the tool's own CFB writer."""
    from renkei_xl.vba.cfb import write_compound_file

    return write_compound_file(streams)


def test_an_old_xls_renamed_xlsm_is_said_to_be_an_old_book(tmp_path, capsys):
    old = tmp_path / "古い.xlsm"
    old.write_bytes(_compound({"Workbook": BIFF8_BOF}))
    assert main(["validate", str(old)]) != 0
    err = capsys.readouterr().err
    assert "中身は古い形式（Excel 97-2003）のブック（.xls）です。このツールは読めません。" in err, err


# A master staff without Excel saved in LibreOffice Calc as .ods or .xls (its default and its
# 「Excel 97-2003」): the refusal said only 「Excel で開き…保存」. Calc's way is said too, and for
# .ods that its macros are gone (LibreOffice 7.4 saves that book back as an .xlsm with an empty
# VBA project, measured) and upgrade-macros puts them back.
@pytest.mark.parametrize("name, content", [
    ("マスター.ods", "ods"), ("マスター.xls", "xls"), ("マスター.xlsm", "xls")])
def test_a_master_calc_saved_in_its_own_format_is_told_how_in_calc(tmp_path, capsys, name, content):
    import zipfile

    path = tmp_path / name
    if content == "ods":
        with zipfile.ZipFile(path, "w") as z:     # an OpenDocument package: its mimetype first, stored
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            z.writestr("content.xml", "<office:document-content/>")
    else:
        path.write_bytes(_compound({"Workbook": BIFF8_BOF}))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Excel で開き" in err and "LibreOffice Calc では「ファイル」→「名前を付けて保存」" in err, err
    assert "「Excel 2007-365 (マクロ有効)（.xlsm）」を選んで保存します" in err, err
    assert ("renkei-xl upgrade-macros" in err) == (content == "ods"), err


def test_a_return_renamed_xls_is_told_to_be_renamed_back(masters, tmp_path, capsys):
    """collect's folder: a return renamed .xls was 「Excel ブック（.xlsx）ではありません（.xls 形式）」."""
    master = tmp_path / "m.xlsm"
    shutil.copyfile(masters[0], master)
    inbox = tmp_path / "回収"
    inbox.mkdir()
    shutil.copyfile(masters[1], inbox / "小樽市_2023年度_入力.xls")
    main(["collect", str(master), str(inbox)])
    out = capsys.readouterr().out
    assert ("「小樽市_2023年度_入力.xls」は名前の拡張子が「.xls」ですが、中身は Excel ブック（.xlsx）です。"
            "名前の最後の「.xls」を「.xlsx」に戻してから、もう一度取り込んでください") in out, out


def _zipped(master) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(master, "連携マスター.xlsm")
    return buf.getvalue()


# What staff give as the master that is no workbook, and what the refusal says it is
# (package.content, the returns' rule): one sentence and what to do, where all of these were
# 「ブックとして開けません（壊れているか、Excel のファイルではありません）」.
NOT_A_MASTER = {
    "0 bytes": ("m.xlsm", lambda m: b"", "は空のファイル（0 バイト）で、マスターブックではありません"),
    "zeros": ("m.xlsm", lambda m: bytes(5000), "は中身がすべて 0 のファイル（5,000 バイト）で、マスターブックではありません"),
    "CSV": ("m.xlsm", lambda m: "指標ID,実績値\r\n01-1,5\r\n".encode("cp932"),
            "はマスターブックではありません（中身は文字のファイル（CSV など）です）"),
    "PDF": ("m.xlsm", lambda m: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            "はマスターブックではありません（中身は PDF です）"),
    "Unicode text .xlsx": ("m.xlsx", lambda m: "指標ID\t実績値\r\n01-1\t5\r\n".encode("utf-16"),
                           "はマスターブックではありません（中身は文字のファイル（Unicode テキスト）です）"),
    "ZIP of the master": ("m.xlsm", _zipped, "はマスターブックではなく、「連携マスター.xlsm」を入れた圧縮ファイル（ZIP）です。"
                          "名前の最後の「.xlsm」を「.zip」に変えてから展開し、中のマスターブックを指定してください"),
}


@pytest.mark.parametrize("case", list(NOT_A_MASTER))
@pytest.mark.parametrize("backups", [False, True])
def test_a_master_that_is_no_workbook_is_told_what_it_is(masters, tmp_path, capsys, case, backups):
    """A master that is no workbook is told what it is and what to do: give the master's file,
    or, where its backups are kept, copy the newest back (qa-returns64b). The file stays."""
    name, make, said = NOT_A_MASTER[case]
    path = tmp_path / name
    path.write_bytes(make(masters[0]))
    if backups:
        (tmp_path / f"{path.stem}_バックアップ").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"エラー: 「{name}」{said}") and "ブックとして開けません" not in err, err
    restore = f"「{path.stem}_バックアップ」フォルダーのいちばん新しいバックアップ（名前の日時が最新のもの）をコピーして「{name}」の名前にし"
    assert (restore in err) == (backups and case != "ZIP of the master"), err
    assert path.read_bytes() == make(masters[0]) and sorted(p.name for p in tmp_path.iterdir()) == before
