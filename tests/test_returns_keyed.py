"""Returned files are authenticated: each carries a seal keyed with a secret only the master holds.

Issue [hostile]: a 小樽市 return relabelled consistently as 江別市 (properties, sheet name,
visible labels, indicator rows, the plain fingerprint recomputed) was imported into 江別市,
because everything in a returned file could be recomputed by whoever held it. The seal
(HMAC-SHA256 under the master's key over municipality, year, template version, issue time
and indicators) cannot be, so collect refuses such a file, a file issued by another master,
and a sealed file whose identifier was touched; genuine returns and masters built before
keys existed keep working. The key itself never leaves the master.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import require_soffice, shared_build
from renkei_xl.cycle.collect import UNKEYED_NOTE, collect, plan_collect
from renkei_xl.cycle.collect.said import collect_lines
from renkei_xl.core import contract as c
from renkei_xl.cycle.distribute import (L_FINGERPRINT, L_SEAL, L_VERSION, P_FINGERPRINT, P_ISSUED, P_MUNICIPALITY,
                                        P_SEAL, P_VERSION, UNKEYED_SPLIT, file_name, master_key_of_file,
                                        split_master)
from renkei_xl.core.seal import KEY_NAME, fingerprint, issued_rows, key_formula, master_key, municipality_seal, new_key
from renkei_xl.core.errors import UserError
from renkei_xl.cycle.export import export_master
from renkei_xl.package.workbook import DefinedName
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import load_master
from test_cycle import as_version_1, cell_of, header_row, identified, issued_cells, rewrite_zip, set_cell

FROM, TO = "小樽市", "江別市"
KEY_ELEMENT = re.compile(rb'<definedName [^>]*name="' + KEY_NAME.encode() + rb'"[^>]*>[^<]*</definedName>')


def _issued_build(folder: Path) -> tuple[Path, dict[str, Path]]:
    master = init_master(folder / "マスター.xlsx", sample="fy2023")
    return master, dict(zip(load_master(master).settings.names, split_master(master, folder / "配布")))


@pytest.fixture
def issued(tmp_path, tmp_path_factory):
    """A keyed master (the sample, as `renkei-xl init` builds it) and its split files, in
    the test's own folder: built once per run (conftest.shared_build: an init and a split
    of twelve files were 0.4 s of each of 21 tests) and copied whole, so a test may write
    the master and the files as it likes. Every test gets the same key; a test about two
    masters' keys makes the other master itself."""
    master, files = shared_build(tmp_path_factory, "returns-keyed-issued", _issued_build)
    root = master.parent
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return tmp_path / master.name, {m: tmp_path / p.relative_to(root) for m, p in files.items()}


def returned(src: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    out = folder / src.name
    out.write_bytes(src.read_bytes())
    return out


def relabel(src: Path, genuine_target: Path, out: Path, data, *, seal: str = "keep") -> Path:
    """小樽市's file made into 江別市's the way a person with Excel would, consistently:
    sheet name, every visible label, the indicator rows as 江別市's file has them, the
    custom properties and the plain fingerprint recomputed with its (public) formula.
    ``seal``: keep 小樽市's, ``drop`` it, or a hex string to put there."""
    wb = openpyxl.load_workbook(src)
    ws = wb[FROM]
    ws.title = TO
    top, cols = header_row(ws)
    code = fingerprint(issued_rows(data, TO)[TO])
    for row in ws.iter_rows(max_row=top - 1):
        for i, cell in enumerate(row):
            if isinstance(cell.value, str) and FROM in cell.value:
                cell.value = cell.value.replace(FROM, TO)
            if cell.value == L_FINGERPRINT:
                next(x for x in row[i + 1:] if x.value).value = code
            if cell.value == L_SEAL and seal != "keep":
                target = next((x for x in row[i + 1:] if x.value), None)
                if target is not None:
                    target.value = None if seal == "drop" else seal
    # the rows: 江別市's indicator IDs and texts, 小樽市's answers where the IDs meet
    genuine = openpyxl.load_workbook(genuine_target)[TO]
    g_top, g_cols = header_row(genuine)
    assert g_cols == cols
    rows = [list(r) for r in genuine.iter_rows(min_row=g_top + 1, values_only=True) if r[cols["指標ID"] - 1]]
    mine = {ws.cell(r, cols["指標ID"]).value: [ws.cell(r, cols[h]).value for h in ("実績値", "分母", "実施状況")]
            for r in range(top + 1, ws.max_row + 1)}
    old_rows = ws.max_row - top
    for i, row in enumerate(rows):
        answers = mine.get(row[cols["指標ID"] - 1])
        if answers:
            for h, v in zip(("実績値", "分母", "実施状況"), answers):
                row[cols[h] - 1] = v
        for j, v in enumerate(row, start=1):
            ws.cell(top + 1 + i, j).value = v
    if old_rows > len(rows):
        ws.delete_rows(top + 1 + len(rows), old_rows - len(rows))
    props = wb.custom_doc_props
    for prop in list(props.props):
        if prop.name == P_MUNICIPALITY:
            prop.value = TO
        elif prop.name == P_FINGERPRINT:
            prop.value = code
        elif prop.name == P_SEAL and seal != "keep":
            if seal == "drop":
                props.props.remove(prop)
            else:
                prop.value = seal
    wb.save(out)
    return out


def props_of(path: Path) -> dict[str, str]:
    return {p.name: p.value for p in openpyxl.load_workbook(path).custom_doc_props.props}


def all_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def without_key(master: Path) -> Path:
    """The master as a version before keys wrote it: no hidden key name."""
    def drop(data: bytes) -> bytes:
        out, n = KEY_ELEMENT.subn(b"", data)
        assert n == 1
        return out
    rewrite_zip(master, master, {"xl/workbook.xml": drop})
    assert master_key_of_file(master) is None
    return master


def with_key(master: Path, key: bytes) -> Path:
    """A key added to a master that had none (what the writer does for an old master)."""
    element = f'<definedName name="{KEY_NAME}" hidden="1">{key_formula(key)[1:].replace(chr(34), "&quot;")}</definedName>'
    rewrite_zip(master, master, {"xl/workbook.xml": lambda d: d.replace(b"</definedNames>",
                                                                        element.encode() + b"</definedNames>", 1)})
    assert master_key_of_file(master) == key
    return master


# --------------------------------------------------------------------------- the key

def test_a_new_master_holds_a_hidden_key_that_survives_a_save(issued, tmp_path):
    master, _ = issued
    book = all_parts(master)["xl/workbook.xml"]
    [element] = KEY_ELEMENT.findall(book)
    assert b'hidden="1"' in element and b"localSheetId" not in element
    key = master_key_of_file(master)
    assert key is not None and len(key) == 32
    # openpyxl (what staff tools and these tests save with) writes it back unchanged
    wb = openpyxl.load_workbook(master)
    wb.save(tmp_path / "saved.xlsx")
    assert master_key_of_file(tmp_path / "saved.xlsx") == key
    # every master has its own
    other = init_master(tmp_path / "別" / "マスター.xlsx", sample="fy2023")
    assert master_key_of_file(other) not in (None, key)


def test_the_key_survives_a_libreoffice_save(issued, tmp_path):
    from realbooks import XLSX_FILTER, lo_convert

    require_soffice()
    master, _ = issued
    saved = lo_convert(master, tmp_path / "lo" / (master.stem + ".xlsx"), XLSX_FILTER)
    assert master_key_of_file(saved) == master_key_of_file(master)


def test_a_malformed_key_is_an_error_not_a_missing_one():
    assert master_key([DefinedName("Other", None, '"00"')]) is None
    assert master_key([DefinedName(KEY_NAME, 0, '"' + "ab" * 32 + '"')]) is None   # sheet scope: not ours
    assert master_key([DefinedName(KEY_NAME, None, '"' + "ab" * 32 + '"', True)]) == bytes.fromhex("ab" * 32)
    assert master_key([DefinedName(KEY_NAME.upper(), None, '="' + "AB" * 32 + '"')]) == bytes.fromhex("ab" * 32)
    for broken in ('"abc"', "設定!$A$1", '"' + "zz" * 32 + '"', ""):
        with pytest.raises(UserError, match="照合用の鍵"):
            master_key([DefinedName(KEY_NAME, None, broken)])


def test_the_key_never_travels_in_split_or_export_files(issued, tmp_path):
    master, files = issued
    key = master_key_of_file(master)
    needles = [key.hex().encode(), key.hex().upper().encode(), KEY_NAME.encode()]
    export = export_master(master, tmp_path / "確定版.xlsx").path
    for path in [*files.values(), export]:
        for part, data in all_parts(path).items():
            for needle in needles:
                assert needle not in data, (path.name, part, needle)
    # what travels instead: each split file's own seal
    data = load_master(master)
    for muni, path in files.items():
        book = openpyxl.load_workbook(path)     # its properties and its sheet: one load of each file
        props = {p.name: p.value for p in book.custom_doc_props.props}
        assert props[P_SEAL] == municipality_seal(key, data, muni, props[P_ISSUED], cells=issued_cells(path, muni))
        ws = book[muni]
        top, _ = header_row(ws)
        visible = [v for row in ws.iter_rows(max_row=top - 1, values_only=True) for v in row if v]
        assert L_SEAL in visible and props[P_SEAL] in visible


# ------------------------------------------------------------------ what is refused

def test_relabelled_return_is_refused_and_changes_nothing(issued, tmp_path):
    master, files = issued
    data = load_master(master)
    (tmp_path / "回収").mkdir()
    forged = relabel(files[FROM], files[TO], tmp_path / "回収" / file_name(TO, 2023), data)
    set_cell(forged, TO, "04-1", "実績値", 99)
    props = props_of(forged)
    assert props[P_MUNICIPALITY] == TO and props[P_FINGERPRINT] == fingerprint(issued_rows(data, TO)[TO])
    assert openpyxl.load_workbook(forged).sheetnames[0] == TO
    # the issue: without the key, nothing tells this file from 江別市's own
    report = plan_collect(data, [forged])
    changes, refusals, records = report.changes, report.refusals, report.records
    assert not refusals and [r.municipality for r in records] == [TO]
    assert ("江別市", "04-1", 99) in {(ch.sheet, ch.indicator_id, ch.new) for ch in changes}

    key = master_key_of_file(master)
    report = plan_collect(data, [forged], key=key)
    refusals, records = report.refusals, report.records
    assert records == [] and "照合コードが一致しません" in refusals[0].reason

    before = master.read_bytes()
    report = collect(master, [forged])
    assert master.read_bytes() == before
    assert report.written is None and report.changes == [] and report.records == []
    [refusal] = report.refused
    assert "照合コードが一致しません" in refusal.reason and TO in refusal.reason
    from renkei_xl.cycle.collect.said import collect_lines

    assert f"・{forged.name}: {refusal.reason}" in collect_lines(report)
    assert cell_of(master, TO, "04-1", "実績値") is None


@pytest.mark.parametrize("seal, reason", [("drop", "照合コードがありません"),
                                          ("0" * 32, "照合コードが一致しません")])
def test_relabelled_return_without_the_seal_or_with_a_made_up_one_is_refused(issued, tmp_path, seal, reason):
    master, files = issued
    (tmp_path / "回収").mkdir()
    forged = relabel(files[FROM], files[TO], tmp_path / "回収" / file_name(TO, 2023), load_master(master),
                     seal=seal)
    assert (P_SEAL in props_of(forged)) == (seal != "drop")
    before = master.read_bytes()
    report = collect(master, [forged])
    assert master.read_bytes() == before and report.written is None
    assert reason in report.refused[0].reason, report.refused[0].reason


def test_relabelled_return_is_refused_when_only_the_visible_labels_remain(issued, tmp_path):
    """Properties dropped (as some mail clients do): the identifier and the seal are read
    from the visible block, and the relabelled file is still refused."""
    master, files = issued
    (tmp_path / "回収").mkdir()
    forged = relabel(files[FROM], files[TO], tmp_path / "回収" / file_name(TO, 2023), load_master(master))
    rewrite_zip(forged, forged, {"[Content_Types].xml": lambda d: re.sub(rb'<Override [^>]*custom\.xml"[^>]*/>', b"", d),
                                 "_rels/.rels": lambda d: re.sub(rb'<Relationship [^>]*custom\.xml"[^>]*/>', b"", d)},
                drop={"docProps/custom.xml"})
    assert props_of(forged) == {}
    report = plan_collect(load_master(master), [forged], key=master_key_of_file(master))
    refusals = report.refusals
    assert "照合コードが一致しません" in refusals[0].reason
    before = master.read_bytes()
    assert collect(master, [forged]).refused and master.read_bytes() == before


def test_a_return_for_another_master_is_refused(issued, tmp_path):
    master, _ = issued
    other = init_master(tmp_path / "別の圏域" / "マスター.xlsx", sample="fy2023")
    foreign = split_master(other, tmp_path / "別の圏域" / "配布")[1]
    assert props_of(foreign)[P_MUNICIPALITY] == FROM
    back = returned(foreign, tmp_path / "回収")
    set_cell(back, FROM, "04-1", "実績値", 5)
    before = master.read_bytes()
    report = collect(master, [back])
    assert master.read_bytes() == before and report.written is None and report.records == []
    assert "照合コードが一致しません" in report.refused[0].reason
    assert "別のマスター" in report.refused[0].reason


def test_a_genuine_return_whose_issue_time_was_changed_is_refused(issued, tmp_path):
    master, files = issued
    back = returned(files[FROM], tmp_path / "回収")
    wb = openpyxl.load_workbook(back)
    for prop in wb.custom_doc_props.props:
        if prop.name == P_ISSUED:
            prop.value = "2099-01-01 00:00:00"
    wb.save(back)
    before = master.read_bytes()
    report = collect(master, [back])
    assert master.read_bytes() == before and "照合コードが一致しません" in report.refused[0].reason


# ------------------------------------------------- the issued values under the seal

ISSUED_VALUE = c.ISSUED_HEADERS["value"]      # 配布時の実績値: hidden, locked, after the table


def _answer_and_its_issued_value(path: Path) -> None:
    """The reproduction: the protection lifted (it has no password) and 04-1's row pasted,
    the hidden 配布時の実績値 with it, so the answer 9 reads as returned untouched."""
    set_cell(path, FROM, "04-1", "実績値", 9)
    set_cell(path, FROM, "04-1", ISSUED_VALUE, "9")


def _issued_column_renamed(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[FROM]
    top, cols = header_row(ws)
    ws.cell(top, cols[ISSUED_VALUE]).value = "メモ"
    wb.save(path)
    set_cell(path, FROM, "04-1", "実績値", 9)


def _passed_off_as_version_1(path: Path) -> None:
    """A new file relabelled as issued before the seal covered the issued values."""
    _answer_and_its_issued_value(path)
    identified(path, FROM, **{P_VERSION: "1"})


NOTE = "（うち2件は見込み）"


def _noted(path: Path) -> None:
    """A note appended to 04-1's 評価指標 (the protection lifted), with its answer 9."""
    set_cell(path, FROM, "04-1", "実績値", 9)
    set_cell(path, FROM, "04-1", "評価指標", cell_of(path, FROM, "04-1", "評価指標") + NOTE)


def _note_and_its_issued_label(path: Path) -> None:
    """The note hidden: the hidden 配布時の評価指標 (after the input cells) rewritten with it, so the
    label reads as issued."""
    _noted(path)
    set_cell(path, FROM, "04-1", c.ISSUED_HEADERS["name"], cell_of(path, FROM, "04-1", "評価指標"))


def _note_passed_off_as_version_2(path: Path) -> None:
    """A new file relabelled as issued before the seal covered the labels."""
    _noted(path)
    identified(path, FROM, **{P_VERSION: "2"})


@pytest.mark.parametrize("doctor", [_answer_and_its_issued_value, _issued_column_renamed, _passed_off_as_version_1,
                                    _note_and_its_issued_label, _note_passed_off_as_version_2])
def test_a_return_whose_issued_values_were_rewritten_is_refused_as_doctored(issued, tmp_path, doctor):
    """The hidden 配布時の… columns tell collect what the municipality changed; unsealed, a
    return that rewrote them with its answer had the answer dropped and the report said
    staff had corrected the master after the split (they had not). Sealed, such a file is
    refused like any file whose identifier was touched, and the master is not written."""
    master, files = issued
    back = returned(files[FROM], tmp_path / "回収")
    doctor(back)
    before = master.read_bytes()
    report = collect(master, [back])
    assert master.read_bytes() == before and report.written is None and report.records == []
    [refusal] = report.refused
    assert "照合コードが一致しません" in refusal.reason and "配布時の値" in refusal.reason, refusal.reason
    assert not report.kept and cell_of(master, FROM, "04-1", "実績値") == 2


def test_a_return_issued_before_the_seal_covered_the_issued_values_is_still_taken(issued, tmp_path):
    """Files split by the previous version (様式の版 1, sealed without the issued values) are
    out with the municipalities when the tool is updated: each is checked the way it was
    sealed, so nobody has to split again, and its hidden columns still keep a correction
    staff made after the split."""
    master, files = issued
    back = as_version_1(returned(files[FROM], tmp_path / "回収"), master, FROM)
    set_cell(back, FROM, "04-1", "実績値", 8)
    set_cell(master, FROM, "06-1", "実績値", 7)          # staff's correction after the split
    report = collect(master, [back])
    assert not report.refused, report.refused
    assert cell_of(master, FROM, "04-1", "実績値") == 8
    assert cell_of(master, FROM, "06-1", "実績値") == 7
    assert [f.indicator_id for _name, f in report.kept] == ["06-1"]


def version_2_seal(key: bytes, muni: str, props: dict[str, str], ids: list[str], cells: dict) -> str:
    """The seal as the files issued before version 3 carry it (the input cells as issued, not
    the labels), written out here rather than asked of the code under test (as version_1_seal)."""
    import hashlib
    import hmac
    import json

    rows = [[cells[i][f] for f in ("value", "denominator", "status")] for i in ids]
    payload = json.dumps(["renkei-xl return seal 1", muni, props["RenkeiFiscalYear"], "2", props[P_ISSUED], ids,
                          props[P_FINGERPRINT], rows], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def as_version_2(path: Path, master: Path) -> Path:
    """小樽市's input file as version 2 split it: no hidden label columns, sealed without them."""
    cells = issued_cells(path, FROM)
    wb = openpyxl.load_workbook(path)
    ws = wb[FROM]
    top, cols = header_row(ws)
    for field in c.LABEL_FIELDS:
        for r in range(top, ws.max_row + 1):
            ws.cell(r, cols[c.ISSUED_HEADERS[field]]).value = None
    wb.save(path)
    ids = [e.indicator_id for e in load_master(master).entries if e.municipality == FROM and e.indicator_id]
    props = props_of(path)
    return identified(path, FROM, **{P_VERSION: "2", P_SEAL: version_2_seal(master_key_of_file(master), FROM, props,
                                                                             ids, cells)})


@pytest.mark.parametrize("version", ["2", "3"])
def test_a_note_typed_into_a_label_is_said_from_version_3_and_a_version_2_file_collects_as_before(
        issued, tmp_path, version):
    """Files of version 2 are out with the municipalities when the tool is updated: one keeps
    no label as issued, so it is checked as it was sealed and imported as before (a label it
    changed cannot be told from one staff reworded in 指標). A file of version 3 is imported
    too, its note said as a warning on the cell."""
    master, files = issued
    back = returned(files[FROM], tmp_path / "回収")
    if version == "2":
        as_version_2(back, master)
    _noted(back)
    report = collect(master, [back])
    assert not report.refused and not report.held and [r.municipality for r in report.records] == [FROM], collect_lines(report)
    assert cell_of(master, FROM, "04-1", "実績値") == 9
    said = [(f.type, f.indicator_id, f.message) for _name, f in report.noted]
    assert said == ([] if version == "2" else [("returned-label-changed", "04-1", (
        f"評価指標が配布時と違います: 配布時の文の後に「{NOTE}」が書き足されています。取り込むのは実績値・分母・実施状況だけで、"
        "評価指標の文は取り込みません（マスターは変わりません）。市町村のメモなら内容を確かめ、回答に関わること"
        "（見込みの値など）は市町村に確かめてマスターに直接入力してください"))]), said


def test_line_breaks_and_escapes_in_an_issued_status_do_not_break_the_seal(issued, tmp_path):
    """A 実施状況 pasted into the master with CR LF (Excel keeps the CR as _x000D_), and one
    holding the text 「_x0041_」 (Excel writes it _x005F_x0041_), do not read back from the
    issued file as written (XML turns CR into LF; the reader decodes _xHHHH_). The seal is
    over what reading gives, so a genuine return is never taken for a doctored one."""
    master, _files = issued
    set_cell(master, FROM, "04-1", "実施状況", "一行目_x000D_\n二行目")
    set_cell(master, FROM, "06-1", "実施状況", "記号_x005F_x0041_の説明")
    assert {e.indicator_id: e.status for e in load_master(master).entries if e.municipality == FROM
            and e.indicator_id in ("04-1", "06-1")} == {"04-1": "一行目\r\n二行目", "06-1": "記号_x0041_の説明"}
    fresh = {p.name: p for p in split_master(master, tmp_path / "配布")}
    back = returned(fresh[file_name(FROM, 2023)], tmp_path / "回収")
    set_cell(back, FROM, "08-1", "実績値", 6)
    report = collect(master, [back])
    assert not report.refused, report.refused
    assert cell_of(master, FROM, "08-1", "実績値") == 6


# ------------------------------------------------------------------ what is imported

def test_a_genuine_return_is_imported(issued, tmp_path):
    master, files = issued
    back = returned(files[FROM], tmp_path / "回収")
    set_cell(back, FROM, "04-1", "実績値", 7)
    report = collect(master, [back])
    assert not report.refused and [r.municipality for r in report.records] == [FROM]
    assert report.written is not None
    assert cell_of(master, FROM, "04-1", "実績値") == 7
    assert master_key_of_file(master) is not None        # the write kept the key


def test_a_genuine_return_is_imported_from_the_visible_labels(issued, tmp_path):
    master, files = issued
    back = returned(files[TO], tmp_path / "回収")
    set_cell(back, TO, "04-1", "実績値", 3)
    rewrite_zip(back, back, {"[Content_Types].xml": lambda d: re.sub(rb'<Override [^>]*custom\.xml"[^>]*/>', b"", d),
                             "_rels/.rels": lambda d: re.sub(rb'<Relationship [^>]*custom\.xml"[^>]*/>', b"", d)},
                drop={"docProps/custom.xml"})
    report = plan_collect(load_master(master), [back], key=master_key_of_file(master))
    changes, refusals = report.changes, report.refusals
    assert not refusals and changes
    report = collect(master, [back])
    assert not report.refused and cell_of(master, TO, "04-1", "実績値") == 3


def test_an_old_master_gets_a_key_at_its_first_split(issued, tmp_path):
    """Only workbook.xml changes, by one hidden name; the files it issues are sealed."""
    master, _ = issued
    without_key(master)
    with zipfile.ZipFile(master) as z:
        before = {n: z.read(n) for n in z.namelist()}
    said = []
    files = split_master(master, tmp_path / "配布", echo=said.append)
    assert said == []
    with zipfile.ZipFile(master) as z:
        after = {n: z.read(n) for n in z.namelist()}
    assert set(after) == set(before)
    assert [n for n in before if before[n] != after[n]] == ["xl/workbook.xml"]
    wb_xml = after["xl/workbook.xml"].decode()
    assert re.search(f'<definedName name="{KEY_NAME}" hidden="1">"[0-9a-f]{{64}}"</definedName>', wb_xml)
    assert all(props_of(p).get(P_SEAL) for p in files)
    back = returned(files[1], tmp_path / "回収")
    set_cell(back, FROM, "04-1", "実績値", 4)
    report = collect(master, [back])
    assert not report.refused and report.written is not None


def test_an_old_master_open_in_excel_still_splits_unsealed_and_collects(issued, tmp_path):
    """When the key cannot be written now (Excel has the master), the split still goes out,
    unsealed, with a note; collect then checks the plain fingerprint only."""
    master, _ = issued
    without_key(master)
    lock = master.with_name("~$" + master.name)
    lock.write_text("excel")
    said = []
    files = split_master(master, tmp_path / "古い配布", echo=said.append)
    lock.unlink()
    assert said == [UNKEYED_SPLIT]
    assert all(P_SEAL not in props_of(p) for p in files)
    back = returned(files[1], tmp_path / "回収")
    set_cell(back, FROM, "04-1", "実績値", 4)
    data = load_master(master)
    report = plan_collect(data, [back], key=None)   # the fallback: plain fingerprint only
    changes, refusals, records = report.changes, report.refusals, report.records
    assert not refusals and len(records) == 1 and changes
    report = collect(master, [back])
    assert not report.refused and report.written is not None
    assert cell_of(master, FROM, "04-1", "実績値") == 4
    assert KEY_NAME in UNKEYED_NOTE and "確認コードだけ" in UNKEYED_NOTE


def test_once_an_old_master_has_a_key_its_unsealed_files_are_refused(issued, tmp_path):
    """Files issued before the master had a key carry no seal; afterwards they cannot be
    told from forged ones, so they are refused with the reason (split again)."""
    master, _ = issued
    without_key(master)
    lock = master.with_name("~$" + master.name)   # open in Excel: the split cannot add a key
    lock.write_text("excel")
    old = split_master(master, tmp_path / "古い配布", echo=lambda _line: None)[1]
    lock.unlink()
    assert P_SEAL not in props_of(old)
    with_key(master, new_key())
    back = returned(old, tmp_path / "回収")
    before = master.read_bytes()
    report = collect(master, [back])
    assert master.read_bytes() == before
    assert "照合コードがありません" in report.refused[0].reason
    assert "新しく配布した" in report.refused[0].reason
    # the new split seals them again
    fresh = split_master(master, tmp_path / "新しい配布")[1]
    assert not collect(master, [returned(fresh, tmp_path / "回収2")]).refused


def test_a_return_whose_rows_the_municipality_sorted_says_so_not_that_the_master_changed(issued, tmp_path):
    """Calc: protection lifted (no password), the table sorted by 指標ID descending with its
    header. Was refused as 「マスターの指標が変わった…配布し直してください」 (the rows'
    fingerprint is in order), sending staff to issue the file again for the municipality's sort."""
    require_soffice()
    from realbooks import lo_rows_edit
    master, files = issued
    src = files["小樽市"]
    ws = openpyxl.load_workbook(src)["小樽市"]
    top, _cols = header_row(ws)
    last = ws.max_row
    edited = lo_rows_edit(src, tmp_path / "回収" / src.name, "小樽市", sort=f"A{top}:L{last}", unprotect=True)
    before = master.read_bytes()
    report = collect(master, [edited])
    assert master.read_bytes() == before and report.records == []
    [refusal] = report.refused
    assert "行の順番が配布したときと変わっています" in refusal.reason and "小樽市!A" in refusal.reason
    assert "配布し直して" not in refusal.reason
