"""What a VBA client can replay, read from the master's own VBA, and answers cut to it.

The product's reader (renkei_xl.vba.read: olefile + its own MS-OVBA decompression) is
checked against oletools' olevba on real projects: masters the tool builds and the files
Excel saved (../shared/excel-made is not in the repository; tests/data holds what is).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import decompress_stream

from remote_payload import vba_subs
from renkei_xl.cli.workbook import init_master
from renkei_xl.excel.client import LOOK_GROUPS, REQUEST, UNPROTECT, ClientCannotReplay, fit_actions, request_action
from renkei_xl.vba.read import (STANDARD, VbaProjectError, name_clashes, project_modules, replayable_actions,
                                 workbook_project)
from realbooks import vba_modules

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("client") / "master.xlsm", sample="fy2023")


def _norm(code: str) -> str:
    return code.replace("\r\n", "\n").strip()


def test_the_modules_read_are_the_ones_olevba_reads(master):
    ours = {m.name: m for m in project_modules(workbook_project(master))}
    reference = {name.rsplit(".", 1)[0]: code for name, code in vba_modules(master).items()}
    assert set(ours) == set(reference)
    for name, code in reference.items():
        assert _norm(ours[name].source) == _norm(code), name
    assert {m.name for m in ours.values() if m.kind == STANDARD} == {
        "Renkei", "RenkeiServer", "xlwings", "Remote", "WebHelpers"}


def test_the_replayable_subs_are_the_public_subs_of_the_standard_modules(master):
    subs = replayable_actions(project_modules(workbook_project(master)))
    assert subs == frozenset(vba_subs(master))
    assert {"setValues", "alert", "addSheet", "sheetClear", UNPROTECT, REQUEST, "setFontProperty"} <= subs
    assert not {"addChart", "RenkeiCallServer", "GetRange"} & subs


def test_decompression_agrees_with_oletools_on_every_module_stream(master):
    from renkei_xl.vba.ovba import decompress
    from renkei_xl.vba.read import _module_entries, _records

    with zipfile.ZipFile(master) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    dir_stream = ole.openstream(["VBA", "dir"]).read()
    assert decompress(dir_stream) == bytes(decompress_stream(bytearray(dir_stream)))
    entries = list(_module_entries(list(_records(decompress(dir_stream))), 1252))
    assert len(entries) > 20
    for _name, stream, offset, _kind in entries:
        data = ole.openstream(["VBA", stream]).read()[offset:]
        assert decompress(data) == bytes(decompress_stream(bytearray(data))), stream


def test_a_file_without_a_project_or_a_damaged_one_is_refused(tmp_path, master):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "plain.xlsx")
    with pytest.raises(VbaProjectError):
        project_modules(workbook_project(tmp_path / "plain.xlsx"))
    damaged = tmp_path / "damaged.xlsm"
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:2000] if info.filename == "xl/vbaProject.bin" else data)
    with pytest.raises(VbaProjectError):
        project_modules(workbook_project(damaged))



def _with_project_edited(master: Path, path: Path, edit) -> Path:
    """A copy of ``master`` whose VBA project's streams ``edit(tree, dir_stream)`` changed
    in place (tree: storage name -> stream bytes or a storage; dir_stream: VBA/dir decompressed)."""
    from conftest import replace_vba_project
    from renkei_xl.vba.cfb import write_compound_file
    from renkei_xl.vba.ovba import decompress

    with zipfile.ZipFile(master) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    tree: dict = {}
    for entry in ole.listdir(streams=True, storages=False):
        node = tree
        for part in entry[:-1]:
            node = node.setdefault(part, {})
        node[entry[-1]] = ole.openstream(entry).read()
    edit(tree, decompress(tree["VBA"]["dir"]))
    replace_vba_project(master, path, write_compound_file(tree))
    return path


def _with_module_stream(master: Path, path: Path, module: str, container: bytes) -> Path:
    """A copy of ``master`` whose module stream ``module`` holds ``container`` after the
    offset its dir record gives (the source as compressed, as Excel stores it)."""
    from renkei_xl.vba.read import _module_entries, _records

    def edit(tree, dir_stream):
        entries = _module_entries(list(_records(dir_stream)), 1252)
        offset = next(at for name, _stream, at, _kind in entries if name == module)
        tree["VBA"][module] = tree["VBA"][module][:offset] + container

    return _with_project_edited(master, path, edit)


# A CompressedChunk of 6 bytes that decompresses to 4,096: a literal, then one CopyToken of
# offset 1 and length 4,095 (2.4.1.3.19.1: 4 offset bits at the chunk's start).
_FULL_CHUNK = (0xB000 | 3).to_bytes(2, "little") + bytes([0b10, ord("A")]) + (4095 - 3).to_bytes(2, "little")


def test_a_project_decompressing_past_any_real_one_is_refused_quickly(master, tmp_path, capsys):
    """A module stream of 6-byte chunks that each decompress to 4 KB: a 200 KB master held
    4 GB of "source". The server's click read it for minutes and ended in a MemoryError
    (「予期しないエラー」), upgrade-macros past any time staff wait. The project is read
    within a budget (ovba.MAX_DECOMPRESSED) and refused as too large, in Japanese: not as
    damaged, which would send staff to save it again, to the same refusal."""
    import time

    from renkei_xl.cli import main
    from renkei_xl.core.errors import UserError
    from renkei_xl.server.place import replayable_of
    from renkei_xl.vba.ovba import MAX_DECOMPRESSED
    from renkei_xl.vba.read import VbaProjectTooLarge
    from renkei_xl.vba.carry import carried_modules

    count = MAX_DECOMPRESSED // 4096 + 10          # just past the budget: without it, read in full
    path = _with_module_stream(master, tmp_path / "マスター.xlsm", "xlwings", b"\x01" + _FULL_CHUNK * count)
    assert path.stat().st_size < 500_000
    started = time.perf_counter()
    with pytest.raises(UserError, match="マスター「マスター.xlsm」のマクロ（VBA プロジェクト）は、展開すると 4 MB を超え、"
                                        "大きすぎて読めません。IT 担当者に"):
        replayable_of(path)
    with pytest.raises(VbaProjectTooLarge, match="decompresses past"):
        carried_modules(workbook_project(path), ["ThisWorkbook"])
    assert time.perf_counter() - started < 10
    capsys.readouterr()
    assert main(["upgrade-macros", str(path)]) == 0
    said = capsys.readouterr()
    assert "前のマクロは大きすぎて（展開すると 4 MB を超えます）読めないため" in said.out + said.err, said


def test_a_chunk_decompressing_past_its_4096_bytes_is_damage():
    """2.4.1.1.3: a DecompressedChunk holds 4,096 bytes at most. A chunk whose tokens went on
    past them was read on (and past 65,536 bytes its offset bits made a negative shift)."""
    from renkei_xl.vba.ovba import decompress

    assert decompress(b"\x01" + _FULL_CHUNK) == b"A" * 4096
    body = bytes([0b110, ord("A")]) + (4095 - 3).to_bytes(2, "little") + (5).to_bytes(2, "little")
    with pytest.raises(ValueError, match="past 4096"):
        decompress(b"\x01" + (0xB000 | len(body) - 1).to_bytes(2, "little") + body)



def test_a_dir_stream_listing_more_modules_than_it_declares_is_damage(master, tmp_path):
    """PROJECTMODULES says how many modules follow (2 bytes). A dir stream of 8 MB listed
    600,000 modules of one empty stream, in a project of 195 KB: the click read them for 12 s
    of its turn. Entries past the count are damage, refused in Japanese."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.server.place import replayable_of
    from renkei_xl.vba.ovba import compress

    def edit(tree, dir_stream):
        terminator = (0x2B).to_bytes(2, "little") + bytes(4)
        end = dir_stream.rindex(terminator) + len(terminator)
        extra = (0x19).to_bytes(2, "little") + (1).to_bytes(4, "little") + b"Z" + terminator
        tree["VBA"]["dir"] = compress(dir_stream[:end] + extra * 1000 + dir_stream[end:])
        tree["VBA"]["Z"] = b"\x01"

    path = _with_project_edited(master, tmp_path / "マスター.xlsm", edit)
    with pytest.raises(UserError, match="マスター「マスター.xlsm」のマクロ（VBA プロジェクト）を読めません"):
        replayable_of(path)
    with pytest.raises(VbaProjectError, match="more modules than the"):
        project_modules(workbook_project(path))


def test_a_directory_written_as_a_chain_is_damage_not_a_recursion(master, tmp_path, monkeypatch):
    """A compound file's directory is a red-black tree, which olefile walks by recursion, a
    call a level. Written as a chain (each of 3,000 streams the right child of the last), it
    raised RecursionError out of the server's click (「予期しないエラー」) and out of
    upgrade-macros (exit 3): read as damage, refused in Japanese, and upgrade-macros notes the
    old macros unreadable and builds new ones."""
    from renkei_xl.cli import main
    from renkei_xl.core.errors import UserError
    from renkei_xl.server.place import replayable_of
    from renkei_xl.vba import cfb

    def chain(nodes, _depth, _red_depth):
        first = cfb.NOSTREAM
        for node in reversed(nodes):
            node.color, node.left, node.right, first = cfb.BLACK, cfb.NOSTREAM, first, node.sid
        return first

    def edit(tree, _dir_stream):
        tree["VBA"].update({f"z{i}": b"\x01" for i in range(3_000)})
        monkeypatch.setattr(cfb, "_build_tree", chain)

    path = _with_project_edited(master, tmp_path / "マスター.xlsm", edit)
    monkeypatch.undo()
    with pytest.raises(UserError, match="マスター「マスター.xlsm」のマクロ（VBA プロジェクト）を読めません"):
        replayable_of(path)
    with pytest.raises(VbaProjectError, match="RecursionError"):
        project_modules(workbook_project(path))
    assert main(["upgrade-macros", str(path)]) == 0
    assert len(project_modules(workbook_project(path))) > 20


# -------------------------------------------------------------------- fitting

def _action(func: str, args=None) -> dict:
    return {"func": func, "args": args or [], "values": None, "sheet_position": 0, "start_row": 0,
            "start_column": 0, "row_count": 1, "column_count": 1}


ANSWER = [request_action("ab12", "recalc"), _action(UNPROTECT, [["一覧"], []]), _action("setValues"),
          _action("rangeUnmerge"), _action("rangeMerge"), _action("setFontProperty"), _action("renkeiAddChart"),
          _action("alert", ["完了しました。", "renkei-xl", "ok", "info", ""])]


def test_a_client_with_everything_gets_the_whole_answer():
    assert fit_actions(ANSWER, None).actions == ANSWER
    everything = frozenset(a["func"] for a in ANSWER)
    assert fit_actions(ANSWER, everything).actions == ANSWER


def test_a_look_the_client_cannot_draw_goes_with_its_whole_group():
    client = frozenset({REQUEST, UNPROTECT, "setValues", "rangeUnmerge", "setFontProperty", "alert"})
    fitted = fit_actions(ANSWER, client)
    assert [a["func"] for a in fitted.actions] == [REQUEST, UNPROTECT, "setValues", "setFontProperty", "alert"]
    assert fitted.left_out == ("merge", "chart")


def test_without_what_the_click_is_for_the_answer_is_refused():
    for essential in (UNPROTECT, "setValues", "alert"):
        client = frozenset(a["func"] for a in ANSWER) - {essential}
        with pytest.raises(ClientCannotReplay) as refused:
            fit_actions(ANSWER, client)
        assert refused.value.missing == (essential,)


def _with_set_text() -> tuple[str, list[dict]]:
    from renkei_xl.excel.client import SET_TEXT

    return SET_TEXT, [*ANSWER[:3], _action(SET_TEXT, ["2024-3-31"]), *ANSWER[3:]]


def _with_set_numbers() -> tuple[str, list[dict]]:
    from renkei_xl.excel.client import SET_NUMBERS, exact_numbers

    return SET_NUMBERS, exact_numbers([*ANSWER[:2], {**_action("setValues", []), "values": [[2 / 3]]}, *ANSWER[2:]])


@pytest.mark.parametrize("answer_with", [_with_set_text, _with_set_numbers])
def test_an_action_of_ours_that_writes_values_is_no_look_a_master_may_go_without(answer_with):
    """renkeiSetText (a date-shaped text into a Text cell) and renkeiSetNumbers (numbers VBA-Web
    would hand setValues as Strings) write values: a master whose VBA lacks one is refused the
    answer, never sent the date Remote.bas' setValues would write or the numbers Excel would
    read as typed (15 digits, text in a 文字列 cell)."""
    action, answer = answer_with()
    client = frozenset(a["func"] for a in ANSWER)
    with pytest.raises(ClientCannotReplay) as refused:
        fit_actions(answer, client)
    assert refused.value.missing == (action,)
    assert fit_actions(answer, client | {action}).actions == answer


def test_long_numbers_go_as_exact_parts_after_their_values():
    """VBA-Web's parser hands a number of 16 JSON characters or more (17 with a point) to
    setValues as a String: each goes as SET_NUMBERS' integer parts, each short enough to be
    parsed as a Double, 0 in its place; short numbers, booleans and texts stay as they are."""
    import math

    from remote_payload import vba_parsed
    from renkei_xl.excel.client import SET_NUMBERS, exact_numbers, long_number

    row = [0.1 + 0.2, 0.3, 1234567890123456, 123456789012345, True, "0.30000000000000004", -1e-300 / 3, 10 ** 400]
    assert [long_number(v) for v in row] == [True, False, True, False, False, False, True, True]
    values = {**_action("setValues", []), "values": [row]}
    sent = exact_numbers([ANSWER[0], values, ANSWER[-1]])
    assert [a["func"] for a in sent] == [REQUEST, "setValues", SET_NUMBERS, "alert"]
    assert sent[1]["values"] == [[0, 0.3, 0, 123456789012345, True, "0.30000000000000004", 0, 10 ** 400]]
    parts = sent[2]["args"][0]
    assert [(i, j) for i, j, *_ in parts] == [(0, 0), (0, 2), (0, 6)]
    assert [math.ldexp(high * 2.0 ** 26 + low, e) for _i, _j, high, low, e in parts] == [
        0.1 + 0.2, 1234567890123456.0, -1e-300 / 3]
    received = vba_parsed(sent)
    assert not [v for a in received for v in [*(a["args"] or []), *(a["values"] or [])]
                if isinstance(v, str) and v[:1].isdigit()]
    assert all(type(v) in (int, float) for part in received[2]["args"][0] for v in part)
    assert exact_numbers(ANSWER) == ANSWER


def test_the_model_reads_long_numbers_as_vba_web_and_excel_do():
    """VBA-Web: a String from 16 characters (17 with a point); Excel: such a String assigned
    to a cell of General is read as typed, 15 significant digits, the rest set to zero."""
    from remote_payload import _excel_value, vba_parsed

    got = vba_parsed([{"args": [0.1 + 0.2, 0.25, 1234567890123456, 123456789012345, 1e+100, -0.6666666666666666]}])
    assert got[0]["args"] == ["0.30000000000000004", 0.25, "1234567890123456", 123456789012345, 1e+100,
                              "-0.6666666666666666"]
    assert _excel_value("0.30000000000000004") == 0.3
    assert _excel_value("73.21428571428571") == 73.2142857142857
    assert _excel_value("1234567890123456") == 1234567890123450
    assert _excel_value("-0.6666666666666666") == -0.666666666666666
    assert _excel_value("73.21428571428571", text_cell=True) == "73.21428571428571"
    assert _excel_value("'17") == "17"


def test_a_line_break_the_server_writes_reaches_excel_as_alt_enter_types_it():
    """xlwings' VBA client reads JSON's \\n as vbCrLf (WebHelpers.json_ParseString) and Excel
    stores both characters, where Alt+Enter types LF alone: every line break of 一覧's 実施状況
    reached the cell as CR LF, one unit more against the cell's 32,767 (a status cut to the
    limit with a line break stopped 評価を再計算 with 1004). The server writes LF as \\u000a,
    which the client reads as LF; a backslash before an n and a staff's CR LF stay as they are."""
    from remote_payload import vba_parsed, vba_read
    from renkei_xl.server.limits import answer_json

    assert vba_read('["a\\nb", "c\\\\nd", "e\\\\\\nf", "g\\u000ah"]') == ["a\r\nb", "c\\nd", "e\\\r\nf", "g\nh"]
    texts = ["a\nb", "c\\nd", "e\\\nf", "g\r\nh", "\n" * 3, "\ud83d\n"]
    assert vba_parsed([{"args": texts}])[0]["args"] == texts
    assert b"\\n" not in answer_json({"actions": [{"args": ["a\nb"]}]})


def test_the_request_number_is_left_out_for_a_client_without_it():
    client = frozenset(a["func"] for a in ANSWER) - {REQUEST}
    assert [a["func"] for a in fit_actions(ANSWER, client).actions] == [a["func"] for a in ANSWER[1:]]


def test_a_client_without_activate_sheet_keeps_the_sheet_it_added_shown():
    """The sheet shown again after a click added one (WritePlan.added) is no reason to refuse
    a click whose client lacks xlwings' activateSheet: left out, told to no one."""
    shown = _action("activateSheet", [0])
    answer = [*ANSWER[:-1], shown, ANSWER[-1]]
    client = frozenset(a["func"] for a in ANSWER)
    fitted = fit_actions(answer, client)
    assert fitted.actions == ANSWER and fitted.left_out == ()
    assert fit_actions(answer, client | {"activateSheet"}).actions == answer


def test_every_look_group_is_named_for_staff():
    from renkei_xl.excel.client import LOOK_NAMES

    assert set(LOOK_NAMES) == set(LOOK_GROUPS)


def test_staff_are_told_only_of_the_looks_an_upgrade_of_the_macros_brings_back():
    """A look the shipped VBA draws but the master's does not: the master's macros are old,
    and the note names upgrade-macros (集計's charts among them since renkeiAddChart). A look
    no shipped VBA draws is not news at every click. The note ends the click's last message,
    and an answer without a message is left as it is."""
    from renkei_xl.excel.client import upgrade_note, with_note
    from renkei_xl.vba.sources import shipped_replayable

    shipped = shipped_replayable()
    assert LOOK_GROUPS["merge"] <= shipped and LOOK_GROUPS["chart"] <= shipped
    note = upgrade_note(("merge", "chart"), shipped)
    assert note.startswith("このマスターのマクロが古いため、セルの結合・グラフは付けていません。"), note
    assert "upgrade-macros" in note
    assert upgrade_note(("chart",), shipped - LOOK_GROUPS["chart"]) == ""
    noted = with_note(ANSWER, note)
    alert = next(a for a in noted if a["func"] == "alert")
    assert alert["args"][0].endswith("\n\n" + note) and alert["args"][1:] == ANSWER[-1]["args"][1:]
    assert [a for a in noted if a["func"] != "alert"] == [a for a in ANSWER if a["func"] != "alert"]
    silent = [a for a in ANSWER if a["func"] != "alert"]
    assert with_note(silent, note) == silent


def test_the_longest_note_fits_the_room_a_buttons_message_leaves_for_it():
    """A button's message keeps within core.alerts.BUTTON_CHARS so that what the server adds
    after it (the note with every look group left out, and a stopped click's request number:
    server.app._numbered_refusal) still ends inside MsgBox's prompt."""
    from renkei_xl.core.alerts import ALERT_CHARS, BUTTON_CHARS, SERVER_NOTE_CHARS
    from renkei_xl.excel.client import upgrade_note, with_note

    everything = frozenset().union(*LOOK_GROUPS.values())
    longest = upgrade_note(tuple(LOOK_GROUPS), everything)
    message = [{**ANSWER[-1], "args": ["あ" * BUTTON_CHARS, *ANSWER[-1]["args"][1:]]}]
    noted = with_note(with_note(message, longest), "受付番号 0123abcd")[0]["args"][0]
    assert len(noted) - BUTTON_CHARS <= SERVER_NOTE_CHARS and len(noted) <= ALERT_CHARS


def _with_staff_module(master: Path, path: Path, source: str) -> Path:
    """A copy of ``master`` whose VBA project also holds a standard module staff imported."""
    from conftest import replace_vba_project
    from renkei_xl.vba.inject import sheet_code_names
    from renkei_xl.vba.project import WORKBOOK_BASE, Module, build_vba_project
    from renkei_xl.vba.sources import our_modules, remote_modules, xlwings_modules

    documents = [Module("ThisWorkbook", "document", f"Attribute VB_Base = {WORKBOOK_BASE}\r\n")]
    documents += [Module(n, "document", "") for n in sheet_code_names(master)]
    staff = Module("StaffTools", "standard", source)
    replace_vba_project(master, path, build_vba_project([*documents, *our_modules(), *xlwings_modules(),
                                                         *remote_modules(), staff]))
    return path


def test_a_sub_two_standard_modules_define_is_not_replayable(master, tmp_path):
    """Remote.bas replays with an unqualified ``Application.Run "setWrapText", wb, action``;
    with a Public Sub of that name in two standard modules (a staff module that copied
    RenkeiServer's) Excel cannot tell which to run and the replay stops. So the name is not
    one the client can replay: its look is left out (and the master's macros named), as
    for a Sub the master lacks. The model of Excel (tests/remote_payload.vba_subs) agrees."""
    staff = _with_staff_module(master, tmp_path / "staff.xlsm",
                               "Attribute VB_Name = \"StaffTools\"\r\nOption Explicit\r\n\r\n"
                               "Public Sub setWrapText(wb As Workbook, action As Dictionary)\r\n"
                               "    GetRange(wb, action).WrapText = True\r\nEnd Sub\r\n\r\n"
                               "Sub StaffOwn(wb As Workbook, action As Dictionary)\r\nEnd Sub\r\n\r\n"
                               "Function SetRowHeight(points As Double) As Boolean\r\nEnd Function\r\n\r\n"
                               "Private Sub setColumnWidth()\r\nEnd Sub\r\n")
    subs = replayable_actions(project_modules(workbook_project(staff)))
    assert not {"setWrapText", "setRowHeight"} & subs, "a name declared twice, whatever its parameters"
    assert {"StaffOwn", "setFontProperty", "setValues", "setColumnWidth"} <= subs   # a Private one is not seen
    assert subs == frozenset(vba_subs(staff))
    fitted = fit_actions([_action("setValues"), _action("setWrapText"), _action("alert")], subs)
    assert fitted.left_out == ("wrap",)


def test_the_models_subs_are_read_once_per_project_and_anew_for_another(master, tmp_path, monkeypatch):
    """tests/remote_payload.vba_subs keeps its answer per project's modules (reading them
    again was half of every VBA client's payload): a copy of the master is not read again,
    a master whose modules differ is, with its own answer, and a caller changing the list
    it got changes no later answer."""
    import shutil

    import remote_payload

    read = []
    names = remote_payload._vba_names
    monkeypatch.setattr(remote_payload, "_vba_names", lambda code: read.append(code) or names(code))
    monkeypatch.setattr(remote_payload.vba_subs, "answers", {})
    first = vba_subs(master)
    assert "setWrapText" in first and read
    once = len(read)
    first.append("changed by a caller")
    copy = tmp_path / "copy.xlsm"
    shutil.copyfile(master, copy)
    assert vba_subs(copy) == first[:-1] and len(read) == once
    staff = _with_staff_module(master, tmp_path / "staff.xlsm",
                               "Attribute VB_Name = \"StaffTools\"\r\nOption Explicit\r\n\r\n"
                               "Public Sub setWrapText(wb As Workbook, action As Dictionary)\r\nEnd Sub\r\n")
    assert "setWrapText" not in vba_subs(staff) and len(read) > once
    assert vba_subs(master) == first[:-1]


def test_the_models_readings_of_a_vba_project_are_made_once_per_project(master, tmp_path, monkeypatch):
    """Every reading the model makes of a master's VBA (remote_payload.VBA_READINGS: what
    RenkeiCallServer does before sending, what renkeiUnprotectSheets checks, which headers
    RenkeiServer.bas sends, ...) is worked out once per project's modules, as vba_subs is
    (a dozen searches through 400 KB of code, asked for every VBA client's payload): a copy
    of the master is not read again and answers as the reading itself does, a master with
    one more module is read anew, and a caller changing what it got changes no later answer."""
    import copy
    import shutil

    import remote_payload

    readings = {r.__name__: r for r in remote_payload.VBA_READINGS}
    assert {"before_sending", "written_check", "refuses_unsaved_protection", "page_setup_arguments",
            "sends_percents", "sends_currency", "vba_subs"} <= set(readings)
    made = []
    for reading in readings.values():
        monkeypatch.setattr(reading, "answers", {})
        monkeypatch.setattr(reading, "__wrapped__", lambda codes, read=reading.__wrapped__: made.append(read) or read(codes))
    codes = remote_payload._vba_codes_read(master)
    expected = {name: r.__wrapped__(codes) for name, r in readings.items()}
    del made[:]
    first = {name: r(master) for name, r in readings.items()}
    assert first == expected and len(made) == len(readings)
    assert first["written_check"] and first["before_sending"] and first["page_setup_arguments"]
    for name in ("written_check", "before_sending", "page_setup_arguments"):
        first[name]["changed by a caller"] = 1
    copied = tmp_path / "copy.xlsm"
    shutil.copyfile(master, copied)
    assert {name: r(copied) for name, r in readings.items()} == expected and len(made) == len(readings)
    staff = _with_staff_module(master, tmp_path / "staff.xlsm",
                               'Attribute VB_Name = "StaffTools"\r\nOption Explicit\r\n')
    answers = {name: r(staff) for name, r in readings.items()}
    assert len(made) == 2 * len(readings)
    assert answers == {name: r.__wrapped__(remote_payload._vba_codes_read(staff)) for name, r in readings.items()}
    assert {name: r(master) for name, r in readings.items()} == copy.deepcopy(expected)


_STAFF_EXCEL_RULES = "\r\n".join([
    'Attribute VB_Name = "StaffTools"', "Option Explicit", "Option Private Module",
    "Public setWrapText As Boolean, staffFlag As Long",
    "Public Const setRowHeight As Long = 1",
    'Declare PtrSafe Function setColumnWidth Lib "user32" Alias "GetTickCount" () As Long',
    "Public Enum StaffKinds", "    setHorizontalAlignment = 1", "End Enum",
    "Public Property Get setVerticalAlignment() As Long", "End Property",
    "#If False Then",
    "Sub StaffDisabled(wb As Workbook, action As Dictionary)", "End Sub",
    "#End If",
    "#If Mac Then",
    "Sub StaffMacOnly(wb As Workbook, action As Dictionary)", "End Sub",
    "#End If",
    "Sub StaffScripting(wb As Workbook, action As Scripting.Dictionary)", "End Sub",
    "Sub StaffQualified(wb As Excel.Workbook, _", "                   action As Dictionary)", "End Sub",
    "' StaffCommented is switched off: _", "Sub StaffCommented(wb As Workbook, action As Dictionary)",
    "Sub StaffOwn(wb As Workbook, action As Dictionary)", "End Sub",
    "Sub StaffTools(wb As Workbook, action As Dictionary)", "End Sub", ""])


def test_what_excel_cannot_run_by_name_is_not_replayable(master, tmp_path):
    """Excel's rules for ``Application.Run "name", wb, action``, not a regex's (qa-93; each was
    replayable before): a Public variable, Const, Declare, Enum member or Property of the
    same name in another standard module is "Ambiguous name detected" as much as a second
    Sub; a Sub under ``#If False`` is not compiled, and one under ``#If Mac`` not on Windows;
    a line a comment continues (`` _``) is comment; a Sub taking a ``Scripting.Dictionary`` gets Remote.bas' Dictionary class (run-time error
    13, and the project has no Scripting reference); a Sub named as its module is taken as
    ambiguous too (the stricter reading). ``Excel.Workbook``, a declaration with a
    line continuation and Option Private Module (hidden from other projects only) are what
    Excel runs. The model of Excel (tests/remote_payload.vba_subs) agrees."""
    staff = _with_staff_module(master, tmp_path / "staff.xlsm", _STAFF_EXCEL_RULES)
    subs = replayable_actions(project_modules(workbook_project(staff)))
    assert not {"setWrapText", "setRowHeight", "setColumnWidth", "setHorizontalAlignment",
                "setVerticalAlignment"} & subs, "a name public in two modules, whatever it names"
    assert not {"StaffDisabled", "StaffMacOnly", "StaffScripting", "StaffCommented", "StaffTools"} & subs
    assert {"StaffQualified", "StaffOwn", "setValues", "setFontProperty", UNPROTECT} <= subs
    assert subs == frozenset(vba_subs(staff))
    assert set(name_clashes(project_modules(workbook_project(staff)))) == {
        "setwraptext", "setrowheight", "setcolumnwidth", "sethorizontalalignment", "setverticalalignment"}


def test_a_clash_no_replay_touches_is_not_named_and_one_it_touches_is():
    """Two of staff's modules may share a public Const that nothing replayed uses: staff are
    not sent after it when a look is left out for another reason (old macros). Once a module
    holding replayable Subs uses it unqualified, that module does not compile: named."""
    from renkei_xl.vba.read import VbaModule

    modules = [VbaModule("A", STANDARD, "Public Const Version = 1\r\nSub Go(wb As Workbook, action As Dictionary)\r\n"
                                        "End Sub\r\n"),
               VbaModule("B", STANDARD, "Public Const Version = 2\r\n")]
    assert name_clashes(modules) == {} and replayable_actions(modules) == {"Go"}
    modules.append(VbaModule("C", STANDARD, "Sub Other(wb As Workbook, action As Dictionary)\r\n"
                                            "    Debug.Print Version\r\nEnd Sub\r\n"))
    assert name_clashes(modules) == {"version": ("A", "B")} and replayable_actions(modules) == {"Go"}


def test_a_staff_module_that_breaks_our_modules_compile_leaves_their_subs_out(master, tmp_path):
    """A staff module defining GetRange (Remote.bas' helper, which RenkeiServer.bas calls
    unqualified) makes RenkeiServer "Ambiguous name detected" when it compiles: none of its
    Subs run, while Remote's own, which find their module's GetRange first, still do. The
    server then names the clash for staff (server.app), not the age of the macros."""
    staff = _with_staff_module(master, tmp_path / "getrange.xlsm", "\r\n".join([
        'Attribute VB_Name = "StaffTools"', "Option Explicit",
        "Public Function GetRange(wb As Workbook, action As Dictionary) As Range",
        "    Set GetRange = wb.Sheets(1).Range(\"A1\")", "End Function", ""]))
    modules = project_modules(workbook_project(staff))
    subs = replayable_actions(modules)
    assert {"setValues", "setRangeColor", "addHyperlink"} <= subs
    assert not {UNPROTECT, REQUEST, "setFontProperty", "renkeiSetText"} & subs
    assert subs == frozenset(vba_subs(staff))
    assert name_clashes(modules) == {"getrange": ("Remote", "StaffTools")}


def test_a_master_whose_macros_lack_the_page_setup_gets_the_rest_and_the_upgrade_note():
    """renkeiPageSetup is new in RenkeiServer.bas: an older master's VBA cannot run it, and a
    missing Sub would stop the replay halfway. Its page is left out (the breaks, which that
    master draws, are not) and staff are told the macros' upgrade brings it back."""
    from renkei_xl.excel.client import PAGE_BREAKS, PAGE_SETUP, upgrade_note
    from renkei_xl.vba.sources import shipped_replayable

    shipped = shipped_replayable()
    assert {PAGE_SETUP, PAGE_BREAKS} <= shipped
    page = [{**ANSWER[0], "func": PAGE_SETUP, "args": []}, {**ANSWER[0], "func": PAGE_BREAKS, "args": [[]]}]
    older = (shipped | {a["func"] for a in ANSWER}) - {PAGE_SETUP}
    fitted = fit_actions([*page, *ANSWER], older)
    assert fitted.left_out == ("page_setup",)
    assert [a["func"] for a in fitted.actions] == [PAGE_BREAKS, *(a["func"] for a in ANSWER)]
    assert "ページ設定" in upgrade_note(fitted.left_out, shipped)


def test_a_string_excel_could_read_as_typed_is_known_as_such():
    """excel.client.read_as_typed (qa-client63): what goes into a cell the saved master has as
    Text with the prefix and again through renkeiSetText, as the open cell may be 標準 now.
    Wider than Excel's parser on purpose; a text Excel cannot read as anything else goes as it is."""
    from renkei_xl.excel.client import read_as_typed

    assert all(map(read_as_typed, ["3/5", "(5)", "73.2%", "1,234", "R6.4.1", "令和6年4月1日", "１２", "=1+1",
                                   "+1", "-x", "@SUM(A1)", "#N/A", "＝1", "TRUE", "false", "ｔｒｕｅ", "2024-3-31",
                                   "&HA-&HB-&HC", "4/1開設", "'実施", "'=1", " \u3000=1+1", "\t-2+3"]))
    assert not any(map(read_as_typed, ["実施済み", "維持", "未実施", "ー", "TRUEです", "済", "実施'"]))
