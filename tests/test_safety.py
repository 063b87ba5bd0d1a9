"""Safe writes: atomic replace, Excel lock files, backups, and what openpyxl would drop.

Every kind the detector reports is proved on a real file: the file is made by
XlsxWriter or LibreOffice (or an XlsxWriter file with the part added the way Excel
stores it), the detector reports it, and a real openpyxl load+save loses it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from renkei_xl.errors import UserError
from renkei_xl.workbook.losses import carry_report, droppable_parts, inspect_parts
from renkei_xl.workbook.safety import (
    atomic_path, atomic_write, backup, ensure_not_open, list_backups, lock_file,
)

# ----------------------------------------------------------------- helpers


def make_png(path: Path) -> Path:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def vba_project() -> bytes:
    """A real VBA project (xlwings ships one) so .xlsm files are genuine."""
    base = Path(importlib.util.find_spec("xlwings").submodule_search_locations[0])
    with zipfile.ZipFile(base / "quickstart_standalone.xlsm") as zf:
        return zf.read("xl/vbaProject.bin")


def make_book(path: Path, build=None) -> Path:
    """An XlsxWriter workbook with a staff sheet 指標 and a tool-owned sheet 集計."""
    wb = xlsxwriter.Workbook(str(path))
    if path.suffix == ".xlsm":
        bin_path = path.with_name("vbaProject.bin")
        bin_path.write_bytes(vba_project())
        wb.add_vba_project(str(bin_path))
    staff = wb.add_worksheet("指標")
    owned = wb.add_worksheet("集計")
    for row in range(5):
        staff.write_row(row, 0, [row + 1, (row + 1) * 2, "◎"])
        owned.write_row(row, 0, [row + 1, (row + 1) * 3])
    if build:
        build(wb, staff, owned)
    wb.close()
    return path


def round_trip(src: Path) -> Path:
    """What the file path would do: openpyxl load (keep_vba for .xlsm) and save."""
    dst = src.with_name("openpyxl_" + src.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(src, keep_vba=src.suffix == ".xlsm")
        wb.save(dst)
    return dst


def read(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member).decode("utf-8") if member in zf.namelist() else ""


def members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def all_text(path: Path, prefix: str) -> str:
    return "".join(read(path, m) for m in members(path) if m.startswith(prefix))


def rewrite(path: Path, changes: dict[str, bytes | str]) -> Path:
    """Replace or add zip members, the way Excel would store an extra part."""
    tmp = path.with_name("rewrite_" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in changes:
                dst.writestr(item, src.read(item.filename))
        for name, data in changes.items():
            dst.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    tmp.replace(path)
    return path


def add_part(path: Path, *, part: str, data: str, content_type: str, source: str, rel_type: str) -> Path:
    """Add a part and the relationship from ``source`` to it (content types too)."""
    folder, name = source.rsplit("/", 1) if "/" in source else ("", source)
    rels_name = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    rels = read(path, rels_name) or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="rIdAdded" Type="{rel_type}" Target="/{part}"/></Relationships>')
    types = read(path, "[Content_Types].xml").replace(
        "</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')
    return rewrite(path, {part: data, rels_name: rels, "[Content_Types].xml": types})


def kinds(path: Path, **kw) -> list[str]:
    return sorted({risk.kind for risk in droppable_parts(path, **kw)})


# ----------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_content_and_keeps_permissions(tmp_path):
    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new content"))
    assert target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


def test_atomic_write_new_file_gets_normal_permissions(tmp_path):
    target = tmp_path / "new.xlsx"
    umask = os.umask(0o022)
    try:
        atomic_write(target, lambda tmp: tmp.write_bytes(b"x"))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failure_after_temp_file_is_written_leaves_target_identical(tmp_path):
    target = make_book(tmp_path / "master.xlsx")
    before = target.read_bytes()
    seen = {}

    def write_then_fail(tmp: Path):
        make_book(tmp)  # the whole new workbook is on disk ...
        seen["tmp"] = tmp
        assert tmp.stat().st_size > 0 and tmp.parent == target.parent
        assert tmp.name.startswith(".~renkei-") and tmp.suffix == ".xlsx"
        raise RuntimeError("injected between writing and the rename")

    with pytest.raises(RuntimeError, match="injected"):
        atomic_write(target, write_then_fail)
    assert target.read_bytes() == before
    assert not seen["tmp"].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_context_manager_flavour_with_openpyxl(tmp_path):
    target = make_book(tmp_path / "master.xlsx")
    wb = openpyxl.load_workbook(target)
    wb["指標"]["D1"] = "更新"
    with atomic_path(target) as tmp:
        wb.save(tmp)
    assert openpyxl.load_workbook(target)["指標"]["D1"].value == "更新"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_nothing_written_to_temp_keeps_target(tmp_path):
    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        atomic_write(target, lambda tmp: None)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


# ----------------------------------------------------------------- lock files


@pytest.mark.parametrize("name, lock_name", [
    ("master.xlsm", "~$master.xlsm"),
    ("連携事業一覧マスター.xlsm", "~$連携事業一覧マスター.xlsm"),
    ("連携事業一覧マスター.xlsm", "~$事業一覧マスター.xlsm"),   # first two characters replaced
    ("abcdefg.xlsx", "~$bcdefg.xlsx"),                          # 7-character stem: one replaced
    ("master.xlsm", ".~lock.master.xlsm#"),                     # LibreOffice
])
def test_open_workbook_is_refused_and_not_written(tmp_path, name, lock_name):
    target = tmp_path / name
    target.write_bytes(b"staff edits")
    (tmp_path / lock_name).write_bytes(b"\x05staff")
    with pytest.raises(UserError) as info:
        atomic_write(target, lambda tmp: tmp.write_bytes(b"ours"))
    message = str(info.value)
    assert f"「{name}」は Excel で開かれています（ロックファイル {lock_name} があります）" in message
    assert "Excel で閉じてからもう一度実行してください" in message
    assert target.read_bytes() == b"staff edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, lock_name])


def test_short_name_is_not_confused_with_truncated_locks(tmp_path):
    target = tmp_path / "master.xlsm"
    (tmp_path / "~$ster.xlsm").write_bytes(b"x")   # would be a lock only for a long stem
    ensure_not_open(target)
    assert lock_file(target) == tmp_path / "~$master.xlsm"


# ----------------------------------------------------------------- backups


def test_twelve_backups_keep_newest_ten_in_time_order(tmp_path):
    target = tmp_path / "master.xlsm"
    made = []
    for version in range(12):
        target.write_bytes(f"version {version}".encode())
        made.append(backup(target, keep=10))
    folder = tmp_path / "master_バックアップ"
    kept = list_backups(target)
    assert sorted(folder.iterdir()) == kept
    assert len(kept) == 10
    assert kept == made[2:]                       # the two oldest went
    assert [p.read_bytes() for p in kept] == [f"version {v}".encode() for v in range(2, 12)]
    assert kept == sorted(kept, key=lambda p: p.name)
    for p in kept:
        assert re.fullmatch(r"master_\d{8}-\d{6}(_\d{3})?\.xlsm", p.name)


def test_backup_of_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="見つかりません"):
        backup(tmp_path / "missing.xlsm")


# ----------------------------------------------------------------- part map


def test_inspect_parts_maps_sheet_parts_to_japanese_names(tmp_path):
    path = make_book(tmp_path / "book.xlsx")
    parts = inspect_parts(path)
    assert list(parts.sheets.values()) == ["指標", "集計"]
    assert all(p in parts.names for p in parts.sheets)


def test_not_a_workbook_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(UserError, match="読めません"):
        droppable_parts(bad)


# ------------------------------------------------- droppable parts: proofs of loss

def _chart(sheet_name):
    def build(wb, staff, owned):
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"values": "=指標!$A$1:$A$5", "name": "実績"})
        chart.set_style(26)
        (staff if sheet_name == "指標" else owned).insert_chart("E2", chart)
    return build


X14_DV = ('<extLst><ext uri="{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}" '
          'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
          '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
          '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
          '<x14:formula1><xm:f>集計!$A$1:$A$5</xm:f></x14:formula1><xm:sqref>C1:C5</xm:sqref>'
          '</x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>')


def case_x14_conditional_format(tmp_path):
    path = make_book(tmp_path / "cf.xlsx", lambda wb, s, o: s.conditional_format(
        "A1:A5", {"type": "data_bar", "data_bar_2010": True}))
    return path, lambda out: ("x14:conditionalFormatting" in read(path, "xl/worksheets/sheet1.xml")
                              and "x14:" not in read(out, "xl/worksheets/sheet1.xml"))


def case_x14_data_validation(tmp_path):
    path = make_book(tmp_path / "dv.xlsx")
    sheet = read(path, "xl/worksheets/sheet1.xml").replace("</worksheet>", X14_DV)
    rewrite(path, {"xl/worksheets/sheet1.xml": sheet})
    return path, lambda out: "集計!$A$1:$A$5" not in read(out, "xl/worksheets/sheet1.xml")


def case_sparkline(tmp_path):
    path = make_book(tmp_path / "spark.xlsx", lambda wb, s, o: s.add_sparkline("E1", {"range": "指標!A1:B1"}))
    return path, lambda out: "sparkline" not in read(out, "xl/worksheets/sheet1.xml")


def case_image(tmp_path):
    png = make_png(tmp_path / "red.png")
    path = make_book(tmp_path / "image.xlsm", lambda wb, s, o: s.insert_image("E2", str(png)))
    return path, lambda out: not [m for m in members(out) if m.startswith("xl/media/")]


def case_shape(tmp_path):
    path = make_book(tmp_path / "textbox.xlsx", lambda wb, s, o: s.insert_textbox("E2", "担当者メモ"))
    return path, lambda out: "担当者メモ" not in all_text(out, "xl/")


def case_chart(tmp_path):
    path = make_book(tmp_path / "chart.xlsx", _chart("指標"))
    return path, lambda out: ('<c:style val="26"/>' in read(path, "xl/charts/chart1.xml")
                              and 'style val="26"' not in all_text(out, "xl/charts/"))


def case_comment_format(tmp_path):
    path = make_book(tmp_path / "comment.xlsm", lambda wb, s, o: s.write_comment(
        "A1", "確認してください", {"x_scale": 2, "color": "#CCFFCC", "visible": True}))
    def lost(out):
        vml = all_text(out, "xl/drawings/")
        return ("確認してください" in all_text(out, "xl/comments")      # the text stays ...
                and "#ccffcc" not in vml.lower() and "visibility:hidden" in vml
                and "width:144px" in vml)                               # ... the box does not
    return path, lost


def case_form_control(tmp_path):
    path = make_book(tmp_path / "button.xlsx", lambda wb, s, o: s.insert_button(
        "E2", {"macro": "run", "caption": "実行"}))
    return path, lambda out: "Button" not in all_text(out, "xl/drawings/")


def case_background(tmp_path):
    png = make_png(tmp_path / "bg.png")
    path = make_book(tmp_path / "bg.xlsx", lambda wb, s, o: s.set_background(str(png)))
    return path, lambda out: "<picture" not in read(out, "xl/worksheets/sheet1.xml") and not [
        m for m in members(out) if m.startswith("xl/media/")]


def case_header_footer_image(tmp_path):
    png = make_png(tmp_path / "logo.png")
    path = make_book(tmp_path / "hf.xlsx", lambda wb, s, o: s.set_header("&L&G", {"image_left": str(png)}))
    return path, lambda out: "legacyDrawingHF" not in read(out, "xl/worksheets/sheet1.xml")


def case_rich_text(tmp_path):
    path = make_book(tmp_path / "rich.xlsx", lambda wb, s, o: s.write_rich_string(
        "D1", "札幌市", wb.add_format({"bold": True, "color": "red"}), "（要確認）"))
    def lost(out):
        value = openpyxl.load_workbook(out, rich_text=True)["指標"]["D1"].value
        return value == "札幌市（要確認）" and isinstance(value, str)
    return path, lost


def case_phonetic(tmp_path):
    path = make_book(tmp_path / "furigana.xlsx", lambda wb, s, o: s.write("D1", "当別町"))
    strings = read(path, "xl/sharedStrings.xml").replace(
        "<t>当別町</t></si>",
        '<t>当別町</t><rPh sb="0" eb="3"><t>トウベツチョウ</t></rPh><phoneticPr fontId="1"/></si>')
    rewrite(path, {"xl/sharedStrings.xml": strings})
    return path, lambda out: "トウベツチョウ" not in all_text(out, "xl/")


def case_threaded_comment(tmp_path):
    path = make_book(tmp_path / "threaded.xlsx")
    add_part(path, part="xl/threadedComments/threadedComment1.xml",
             data='<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
                  '<threadedComment ref="A1" dT="2024-03-31T09:00:00.00" personId="{00000000-0000-0000-0000-000000000001}" '
                  'id="{00000000-0000-0000-0000-000000000002}"><text>スレッド</text></threadedComment></ThreadedComments>',
             content_type="application/vnd.ms-excel.threadedcomments+xml",
             source="xl/worksheets/sheet1.xml",
             rel_type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment")
    return path, lambda out: "スレッド" not in all_text(out, "xl/")


def case_custom_xml(tmp_path):
    path = make_book(tmp_path / "customxml.xlsx")
    add_part(path, part="customXml/item1.xml", data="<root><文書番号>R6-001</文書番号></root>",
             content_type="application/xml", source="xl/workbook.xml",
             rel_type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml")
    return path, lambda out: "customXml/item1.xml" not in members(out)


def case_slicer(tmp_path):
    path = make_book(tmp_path / "slicer.xlsx")
    add_part(path, part="xl/slicers/slicer1.xml",
             data='<slicers xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                  '<slicer name="役割" cache="Slicer_役割" caption="役割" rowHeight="241300"/></slicers>',
             content_type="application/vnd.ms-excel.slicer+xml", source="xl/worksheets/sheet1.xml",
             rel_type="http://schemas.microsoft.com/office/2007/relationships/slicer")
    return path, lambda out: not [m for m in members(out) if "slicer" in m]


CASES = {
    "x14_conditional_format": case_x14_conditional_format,
    "x14_data_validation": case_x14_data_validation,
    "sparkline": case_sparkline,
    "image": case_image,
    "shape": case_shape,
    "chart": case_chart,
    "comment_format": case_comment_format,
    "form_control": case_form_control,
    "background": case_background,
    "header_footer_image": case_header_footer_image,
    "rich_text": case_rich_text,
    "phonetic": case_phonetic,
    "threaded_comment": case_threaded_comment,
    "custom_xml": case_custom_xml,
    "slicer": case_slicer,
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_reported_kind_is_really_lost_by_openpyxl(tmp_path, kind):
    path, lost = CASES[kind](tmp_path)
    assert not lost(path), "the proof must see the feature in the original file"
    risks = droppable_parts(path, owned_sheets=["集計"])
    assert kind in {r.kind for r in risks}, risks
    for risk in risks:
        assert risk.part in members(path)
        assert risk.what
    out = round_trip(path)
    assert lost(out), f"openpyxl kept the {kind}; the detector must not report it"


def test_plain_openpyxl_workbook_has_no_risks(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指標"
    ws["A1"] = "◎"
    ws["A1"].comment = openpyxl.comments.Comment("普通のコメント", "担当")
    wb.create_sheet("集計")["A1"] = 1
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    assert droppable_parts(path) == []


def test_kept_features_are_not_reported_and_really_kept(tmp_path):
    def build(wb, staff, owned):
        green = wb.add_format({"bg_color": "#C6EFCE"})
        staff.conditional_format("C1:C5", {"type": "cell", "criteria": "==", "value": '"◎"', "format": green})
        staff.data_validation("C1:C5", {"validate": "list", "source": ["◎", "□", "×"]})
        staff.add_table("A7:B9", {"columns": [{"header": "指標ID"}, {"header": "値"}]})
        staff.write_comment("A1", "既定の大きさ", {"width": 144, "height": 79})
        staff.insert_button("E2", {"macro": "run", "caption": "実行"})
        wb.set_custom_property("識別子", "renkei")
        wb.define_name("対象年度", "=集計!$A$1")
    path = make_book(tmp_path / "master.xlsm", build)
    assert droppable_parts(path) == []
    out = round_trip(path)
    sheet = read(out, "xl/worksheets/sheet1.xml")
    assert "<conditionalFormatting" in sheet and "<dataValidation" in sheet
    assert [m for m in members(out) if m.startswith("xl/tables/")]
    assert "既定の大きさ" in all_text(out, "xl/comments")
    assert "Button" in all_text(out, "xl/drawings/") and "xl/vbaProject.bin" in members(out)
    assert "識別子" in read(out, "docProps/custom.xml")
    assert "対象年度" in read(out, "xl/workbook.xml")


def test_owned_sheet_chart_is_not_a_risk(tmp_path):
    path = make_book(tmp_path / "owned.xlsx", _chart("集計"))
    assert droppable_parts(path, owned_sheets=["集計"]) == []
    risks = droppable_parts(path)
    assert [(r.kind, r.sheet, r.part, r.cell) for r in risks] == [("chart", "集計", "xl/charts/chart1.xml", "E2")]


def test_xlsm_button_kept_only_with_keep_vba(tmp_path):
    path = make_book(tmp_path / "buttons.xlsm", lambda wb, s, o: s.insert_button("E2", {"macro": "run"}))
    assert kinds(path) == []
    assert kinds(path, keep_vba=False) == ["form_control", "vba"]


def test_rich_text_not_reported_when_loaded_with_rich_text(tmp_path):
    path, _ = case_rich_text(tmp_path)
    assert "rich_text" not in kinds(path, rich_text=True)


def test_carry_report_names_sheets_and_counts(tmp_path):
    png = make_png(tmp_path / "p.png")
    def build(wb, staff, owned):
        staff.insert_image("E2", str(png))
        staff.insert_image("E9", str(png))
        staff.add_sparkline("F1", {"range": "指標!A1:B1"})
    path = make_book(tmp_path / "many.xlsx", build)
    text = carry_report(droppable_parts(path))
    assert "・シート「指標」の画像（E2、E9）" in text.splitlines()
    assert "・シート「指標」のスパークライン" in text.splitlines()


# ------------------------------------------------- LibreOffice-made form controls

LO_SCRIPT = textwrap.dedent('''
    import subprocess, sys, time, uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.awt import Size, Point
    out, profile, pipe = sys.argv[1:4]
    proc = subprocess.Popen(["soffice", "--headless", "--norestore", "-env:UserInstallation=" + profile,
                             "--accept=pipe,name=%s;urp;" % pipe], stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.25)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    def pv(name, value):
        p = PropertyValue(); p.Name = name; p.Value = value; return p
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (pv("Hidden", True),))
    sheet = doc.Sheets.getByIndex(0)
    sheet.Name = "指標"
    sheet.getCellByPosition(0, 0).setValue(1)
    model = doc.createInstance("com.sun.star.form.component.CheckBox")
    model.Label = "確認済み"
    shape = doc.createInstance("com.sun.star.drawing.ControlShape")
    shape.Size = Size(3000, 800)
    shape.Position = Point(1000, 1000)
    shape.Control = model
    sheet.DrawPage.add(shape)
    doc.storeToURL(uno.systemPathToFileUrl(out), (pv("FilterName", "Calc MS Excel 2007 XML"),))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
    proc.wait(timeout=60)
''')


def libreoffice_checkbox(tmp_path: Path) -> Path:
    if not shutil.which("soffice") or not Path("/usr/bin/python3").exists():
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice + python3-uno) is required in CI")
        pytest.skip("LibreOffice is not installed")
    script = tmp_path / "lo_checkbox.py"
    script.write_text(LO_SCRIPT, encoding="utf-8")
    out = tmp_path / "checkbox.xlsx"
    profile = (tmp_path / "lo_profile").as_uri()
    subprocess.run(["/usr/bin/python3", str(script), str(out), profile, f"renkei_safety_{os.getpid()}"],
                   check=True, timeout=180)
    return out


def test_libreoffice_form_control_is_reported_and_really_lost(tmp_path):
    path = libreoffice_checkbox(tmp_path)
    assert "<controls>" in read(path, "xl/worksheets/sheet1.xml")
    for keep_vba in (False, True):
        risks = droppable_parts(path, keep_vba=keep_vba)
        assert [r.kind for r in risks] == ["form_control"]
        assert risks[0].part.startswith("xl/ctrlProps/") and risks[0].sheet == "指標"
        out = tmp_path / f"openpyxl_{keep_vba}.xlsx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            openpyxl.load_workbook(path, keep_vba=keep_vba).save(out)
        assert "<controls" not in read(out, "xl/worksheets/sheet1.xml")
        assert "ctrlProp" not in read(out, "xl/worksheets/_rels/sheet1.xml.rels")


def test_module_does_not_import_openpyxl():
    code = ("import sys, renkei_xl.workbook.safety, renkei_xl.workbook.losses; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'xlwings', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
