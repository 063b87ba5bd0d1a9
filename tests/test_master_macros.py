"""The master that `renkei-xl init` writes carries our macros and working buttons, and
`renkei-xl upgrade-macros` swaps the project while everything else stays byte for byte."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings

from conftest import require_soffice
from realbooks import lo_probe
from forked_cli import cli_run
from test_vba import _norm, _olevba_modules, _split_header
from renkei_xl.core import contract as c
from conftest import replace_vba_project
from renkei_xl.vba.inject import VBA_PART, sheet_code_names
from renkei_xl.vba.project import Module, build_vba_project, stored_source
from renkei_xl.vba.sources import MACROS_DIR, our_modules, remote_modules, xlwings_modules
from test_vba import CODE_MODULES
from renkei_xl.workbook.build import code_names
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import recalc_file

XLWINGS_DIR = Path(xlwings.__file__).parent


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "連携事業" / "さっぽろ圏_2023年度_マスター.xlsm"
    init_master(path, sample="fy2023")
    return path


def test_every_module_of_the_master_equals_its_source(master, fy2023):
    found = _olevba_modules(master)
    codes = sheet_code_names(master)
    assert codes == [*code_names(fy2023.settings), "shHistory"]   # the sample's 経年, added by the file writer
    assert sorted(found) == sorted(["ThisWorkbook", *codes, *CODE_MODULES])
    assert _norm(found["Renkei"]) == _norm((MACROS_DIR / "Renkei.bas").read_text("ascii"))
    assert _norm(found["xlwings"]) == _norm(xlwings_modules()[0].source)   # its boxes Japanese (below)
    assert _split_header(found["Dictionary"])[1] == _split_header(
        (XLWINGS_DIR / "addin" / "Dictionary.cls").read_bytes().decode("cp1252"))[1]
    with zipfile.ZipFile(master) as z:
        ole = olefile.OleFileIO(z.read(VBA_PART))
    assert ole.get_size("VBA/_VBA_PROJECT") == 7
    assert ole.exists("PROJECT") and ole.exists("VBA/dir")


def test_the_server_clients_refusal_boxes_have_the_tools_title_not_error(master):
    """RunServerPython shows each refusal of the server (Japanese) in a box; xlwings titles
    it "Error". The master's Remote calls RenkeiTitle, which RenkeiServer.bas defines: an
    xlwings that words those boxes otherwise fails here, not in front of staff."""
    found = _olevba_modules(master)
    original = (XLWINGS_DIR / "addin" / "Remote.bas").read_bytes().decode("cp1252")
    assert original.count('vbCritical, "Error"') == 2
    assert '"Error"' not in found["Remote"] and found["Remote"].count("vbCritical, RenkeiTitle()") == 2
    assert re.search(r"^Public Function RenkeiTitle\(\) As String\r?\n    RenkeiTitle = RenkeiText\(MSG_TITLE\)",
                     found["RenkeiServer"], re.MULTILINE)
    status_box = 'MsgBox myResponse.StatusDescription & " (" & myResponse.StatusCode & ")"'
    ours = "MsgBox RenkeiNoAnswer(url, myResponse.StatusCode, myResponse.StatusDescription)"
    content_box = "MsgBox myResponse.Content, vbCritical"
    assert original.count(content_box) == 1
    said = ("MsgBox RenkeiServerSaid(url, myResponse.StatusCode, myResponse.StatusDescription, myResponse.Headers, "
            "myResponse.Content), vbCritical")
    assert found["Remote"].count(said + ", RenkeiTitle()") == 1
    assert _norm(found["Remote"]) == _norm(_with_stages(original.replace(status_box, ours)
                                                        .replace(content_box, said)
                                                        .replace('vbCritical, "Error"', "vbCritical, RenkeiTitle()")))


def _with_stages(remote: str) -> str:
    """xlwings' Remote.bas with the two calls that say how far RunServerPython got (below)."""
    remote = remote.replace("    Set wb = ActiveWorkbook\r\n", "    Set wb = ActiveWorkbook\r\n    RenkeiPreparing\r\n")
    return remote.replace("    Set myResponse = myClient.Execute(myRequest)\r\n",
                          "    RenkeiSending myRequest\r\n    Set myResponse = myClient.Execute(myRequest)\r\n")


def test_the_masters_remote_says_whether_it_sent_the_book(master):
    """An error in RunServerPython before it sends anything (its payload code reads
    ListObject.TableStyle.Name, error 424 for a table whose style is none) was shown as an
    answer the server or a proxy spoiled (MSG_UNREADABLE) and reported to a server that never
    saw the click. The master's Remote says when it starts (RenkeiPreparing, before any payload
    code or xlwings.conf row is read) and when the payload is JSON and about to go (RenkeiSending,
    the statement before WebClient.Execute); RenkeiCallServer reports to the server only a click
    that got that far, and RenkeiFailure names Excel's error for one that did not (its text:
    test_vba_libreoffice)."""
    found = _olevba_modules(master)
    remote = _norm(found["Remote"])
    body = remote[remote.index("Function RunServerPython("):remote.index("End Function")]
    code = [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("'")]
    start = code.index("Set wb = ActiveWorkbook")
    assert code[start + 1] == "RenkeiPreparing" and "Dim payload As New Dictionary" not in code[:start]
    assert not any("GetConfig" in line for line in code[:start])
    sent = code.index("Set myResponse = myClient.Execute(myRequest)")
    assert code[sent - 1] == "RenkeiSending myRequest" and code.count("RenkeiSending myRequest") == 1
    assert code.index("myRequest.Format = WebFormat.Json") < sent - 1
    server = _norm(found["RenkeiServer"])
    sending = re.search(r"^Public Sub RenkeiSending\(ByVal request As Object\)\n(.*?)^End Sub", server, re.M | re.S).group(1)
    assert [line.strip() for line in sending.splitlines() if line.strip()] == [
        "Dim body As Variant", "body = request.Body", "renkeiStage = STAGE_SENT"]   # VBA-Web converts and keeps the JSON
    call = re.search(r"^Public Sub RenkeiCallServer\(.*?^End Sub", server, re.M | re.S).group(0)
    assert call.index('renkeiStage = ""') < call.index("RunServerPython url")
    failed = call[call.index("\nFailed:\n"):]
    reports = [line.strip() for line in failed.splitlines() if "RenkeiReport" in line and not line.strip().startswith("'")]
    assert reports == ["If renkeiStage <> STAGE_PREPARING Then RenkeiReport url, number, description"]


def test_a_server_that_does_not_answer_is_said_in_japanese(master):
    """VBA-Web's WebClient answers a server that is down, a server name not resolved and a
    timeout (WinHTTP 12002, 12007, 12029; cURL 6, 7, 28) with a 408 of its own and no text,
    which Remote.bas showed as 「Request Timeout: … (408)」: the staff saw English where
    docs/staff-setup.md promised the tool's Japanese, and nothing said what to check. The
    master's Remote shows RenkeiNoAnswer's text instead, which names the URL, RENKEI_SERVER and
    TIMEOUT; any other status without text came from something else (MSG_NOT_OURS)."""
    found = _olevba_modules(master)
    original = (XLWINGS_DIR / "addin" / "Remote.bas").read_bytes().decode("cp1252")
    status_box = 'MsgBox myResponse.StatusDescription & " (" & myResponse.StatusCode & ")"'
    assert original.count(status_box) == 1 and status_box not in found["Remote"]
    assert found["Remote"].count(
        "MsgBox RenkeiNoAnswer(url, myResponse.StatusCode, myResponse.StatusDescription), vbCritical, RenkeiTitle()") == 1
    server = found["RenkeiServer"].replace("\r\n", "\n")
    body = re.search(r"^Public Function RenkeiNoAnswer\(ByVal url As String, ByVal status As Long, "
                     r"ByVal description As String\) As String\n(.*?)^End Function", server, re.MULTILINE | re.DOTALL)
    code = [line.strip() for line in body.group(1).splitlines() if line.strip() and not line.strip().startswith("'")]
    assert code == ["If status = 408 Then",
                    "RenkeiNoAnswer = RenkeiFormat(RenkeiText(MSG_NO_ANSWER), url) & vbLf & vbLf & description",
                    "Else", "RenkeiNoAnswer = RenkeiFormat(RenkeiText(MSG_NOT_OURS), url, CStr(status), description)",
                    "End If"]
    text = bytes.fromhex(re.search(r'^Private Const MSG_NO_ANSWER As String = "([0-9A-F]+)"', server,
                                   re.MULTILINE).group(1)).decode("utf-16-be")
    assert text.startswith("renkei-xl サーバーから答えが届きませんでした（{0}）。")
    assert "RENKEI_SERVER" in text and "TIMEOUT" in text and "変更していません" in text


def test_runpythons_boxes_are_japanese_in_the_master(master):
    """xlwings' RunPython showed staff English when Python could not run the button:
    「Could not find Interpreter!」, the Mac's 「To enable RunPython, please run 'xlwings runpython
    install'…」, and Python's stderr (renkei_xl or xlwings not in that Python, cmd.exe or the
    Store alias finding no python, a traceback) in a box titled "Error" ending 「Press Ctrl+C to
    copy…」. The master's xlwings calls Renkei.bas instead (its texts: test_vba_libreoffice).
    An xlwings that words one of them otherwise fails here, not in front of staff."""
    from renkei_xl.vba.sources import _XLWINGS_BOXES

    found = _olevba_modules(master)
    original = (XLWINGS_DIR / "xlwings.bas").read_bytes().decode("cp1252")
    patched = original
    for english, ours in _XLWINGS_BOXES:
        assert original.count(english) == 1 and english not in found["xlwings"], english
        assert found["xlwings"].count(ours) == 1, ours
        patched = patched.replace(english, ours)
    assert _norm(found["xlwings"]) == _norm(patched)
    assert not re.search(r'(MsgBox|Popup) [^\r\n]*"Error"', found["xlwings"])   # an "Error" sheet is no box
    called = {name for _, ours in _XLWINGS_BOXES for name in re.findall(r"\b(Renkei\w+)\(", ours)}
    assert called == {"RenkeiNoPython", "RenkeiNoRunPython", "RenkeiPythonFailed", "RenkeiCopyHint", "RenkeiTitle"}
    ours = found["Renkei"] + found["RenkeiServer"]
    for name in called:
        assert re.search(rf"^Public Function {name}\(", ours, re.MULTILINE), name


def test_libreoffice_sees_the_modules_and_the_buttons_of_the_master(master, tmp_path):
    require_soffice()
    probe = lo_probe("uno_probe", master)
    library = probe["libraries"]["VBAProject"]
    codes = sheet_code_names(master)
    assert sorted(library) == sorted(["ThisWorkbook", *codes, *CODE_MODULES])
    stored = {m.name: stored_source(m) for m in [*our_modules(), *xlwings_modules(), *remote_modules()]}
    lo_header = re.compile(r"(Rem Attribute VBA_ModuleType=\w+|Option VBASupport 1|Option ClassModule)")
    for name, source in library.items():  # every module with its full source
        lines = [l for l in _norm(source).split("\n") if l and not lo_header.fullmatch(l)]
        code = [l for l in _norm(stored.get(name, "")).split("\n") if l and not l.startswith("Attribute ")]
        assert lines == code, name
    buttons = probe["buttons"][c.MENU]
    assert [(b["label"], [e["code"] for e in b["events"]]) for b in buttons] == [
        (caption, [f"vnd.sun.star.script:VBAProject.{macro}?language=Basic&location=document"])
        for caption, macro, _ in c.BUTTONS]


def _parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_upgrade_macros_replaces_the_project_and_keeps_everything_else(master, tmp_path):
    path = tmp_path / master.name
    path.write_bytes(master.read_bytes())
    recalc_file(path)
    # Pretend the master was made by an older release: its Renkei module differs.
    old = [Module("Renkei", "standard", 'Sub RenkeiRecalc()\r\n    RunPython "import old"\r\nEnd Sub\r\n')]
    codes = sheet_code_names(path)
    old_project = build_vba_project([Module("ThisWorkbook", "document", ""),
                                     *(Module(n, "document", "") for n in codes), *old,
                                     *xlwings_modules()])
    replace_vba_project(path, path, old_project)
    assert "import old" in _olevba_modules(path)["Renkei"]
    before = _parts(path)
    # A fresh process, as staff start it: the one run here that checks upgrade-macros' own
    # imports (the others fork from a process that has imported the tool, tests/forked_cli.py).
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "upgrade-macros", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    after = _parts(path)
    assert _norm(_olevba_modules(path)["Renkei"]) == _norm(our_modules()[0].source)
    assert after[VBA_PART] != before[VBA_PART]
    assert {n: b for n, b in after.items() if n != VBA_PART} == \
        {n: b for n, b in before.items() if n != VBA_PART}
    # the parts that hold data, conditional formats and buttons are among those kept
    assert any(b"conditionalFormatting" in b for n, b in after.items() if n.startswith("xl/worksheets/"))
    assert any(b"FmlaMacro" in b for n, b in after.items() if n.endswith(".vml"))
    assert list((path.parent / f"{path.stem}_バックアップ").iterdir())


def test_upgrade_macros_refuses_an_xlsx(tmp_path):
    path = tmp_path / "m.xlsx"
    init_master(path, sample="fy2023")
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 2 and ".xlsm" in out.stderr and "Traceback" not in out.stderr


def _excel_module(book: str, name: str) -> Module:
    """A module as Microsoft Excel saved it (tests/data/excel_made), its source unchanged."""
    from realbooks import EXCEL_MADE
    from renkei_xl.vba.read import project_modules, workbook_project

    found = next(m for m in project_modules(workbook_project(EXCEL_MADE / book)) if m.name == name)
    return Module(name, "standard", found.source)


def _staff_project(path: Path, extra: list, codepage: int = 932) -> bytes:
    """The master's own project as a Japanese Excel saves it once staff wrote code in it."""
    codes = sheet_code_names(path)
    documents = {"ThisWorkbook": Module("ThisWorkbook", "document", "")} | {n: Module(n, "document", "") for n in codes}
    for module in extra:
        if module.kind == "document":
            documents[module.name] = module
    older = Module("Renkei", "standard", 'Sub RenkeiRecalc()\r\n    RunPython "import old"\r\nEnd Sub\r\n')
    ours = [older if m.name == "Renkei" else m for m in our_modules()]
    return build_vba_project([*documents.values(), *ours, *xlwings_modules(), *remote_modules(),
                              *(m for m in extra if m.kind != "document")], codepage=codepage)


STAFF_CODE = [
    Module("ThisWorkbook", "document", 'Private Sub Workbook_Open()\r\n    MsgBox "保存前に入力チェックを押してください"\r\nEnd Sub\r\n'),
    Module("shMuni02", "document", "Option Explicit\r\nPrivate Sub Worksheet_Change(ByVal Target As Range)\r\n"
                                   "    Application.StatusBar = \"小樽市を編集中\"\r\nEnd Sub\r\n"),
    Module("集計用", "standard", 'Sub 印刷する()\r\n    Worksheets("一覧").PrintOut\r\nEnd Sub\r\n'),
    Module("Tally", "class", "Public Count As Long\r\n"),
]


def test_upgrade_macros_keeps_the_code_staff_wrote_in_the_project(master, tmp_path):
    """Staff's own macros (a module, a Workbook_Open, a sheet's Worksheet_Change, in Japanese
    as a Japanese Excel stores it) went with the project upgrade-macros replaced, exit 0 and
    no word: they come over, each where it was, with the new Renkei."""
    path = tmp_path / master.name
    path.write_bytes(master.read_bytes())
    staff = [*STAFF_CODE, _excel_module("macro01.xlsm", "Module1")]
    replace_vba_project(path, path, _staff_project(path, staff))
    assert "import old" in _olevba_modules(path)["Renkei"]
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 0, out.stderr
    found = {name: _norm(code) for name, code in _olevba_modules(path).items()}
    for module in staff:
        body = [line for line in _norm(module.source).split("\n") if line and not line.startswith("Attribute VB_Name")]
        assert [line for line in found[module.name].split("\n") if line in body] == body, module.name
    assert found["Renkei"] == _norm(our_modules()[0].source)
    assert "集計用" in out.stdout and "Module1" in out.stdout and "shMuni02" in out.stdout


def test_upgrade_macros_refuses_what_it_cannot_carry_and_changes_nothing(master, tmp_path, monkeypatch):
    """A UserForm (its form a storage of its own) and a sheet module's code with no sheet to
    go to cannot come over: named, with the way round, the master byte-identical."""
    import renkei_xl.vba.project as project_module

    stream = project_module._project_stream
    monkeypatch.setattr(project_module, "_project_stream",
                        lambda *a: stream(*a).replace(b"Class=UserForm1", b"BaseClass=UserForm1"))
    cases = {"UserForm1": [Module("UserForm1", "class", "Private Sub UserForm_Click()\r\nEnd Sub\r\n")],
             "Chart1": [Module("Chart1", "document", "Private Sub Chart_Activate()\r\nEnd Sub\r\n")]}
    for name, extra in cases.items():
        path = tmp_path / name / master.name
        path.parent.mkdir()
        path.write_bytes(master.read_bytes())
        replace_vba_project(path, path, _staff_project(path, extra, codepage=1252))
        before = path.read_bytes()
        out = cli_run(["upgrade-macros", str(path)])
        assert out.returncode == 2 and f"「{name}」" in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert path.read_bytes() == before


def test_upgrade_macros_refuses_a_staff_module_whose_public_name_is_also_ours(master, tmp_path):
    """qa-93: a staff module's public name that the tool's modules also have (its own
    renkeiPageSetup, a new Sub of this release, a GetRange as Remote.bas has, or a
    RenkeiCallServer that only Renkei.bas calls) came over as it was: RenkeiServer.bas or the
    button's own Renkei.bas then stops at Excel's compile error "Ambiguous name detected" at
    every click, before anything is sent. Refused by name, the master byte-identical; a
    Private one, or a name in a class module, is no clash and comes over."""
    cases = {"renkeiPageSetup": "Public Sub renkeiPageSetup(wb As Workbook, action As Dictionary)\r\nEnd Sub\r\n",
             "GetRange": "Public GetRange As Range\r\n",
             "RenkeiCallServer": "Public Sub RenkeiCallServer()\r\nEnd Sub\r\n"}   # only Renkei.bas calls it
    for name, source in cases.items():
        path = tmp_path / name / master.name
        path.parent.mkdir()
        path.write_bytes(master.read_bytes())
        replace_vba_project(path, path, _staff_project(path, [Module("職員用", "standard", source)]))
        before = path.read_bytes()
        out = cli_run(["upgrade-macros", str(path)])
        assert out.returncode == 2 and f"「職員用」の名前「{name}」" in out.stderr, out.stderr
        assert "名前が適切ではありません" in out.stderr and "Traceback" not in out.stderr
        assert path.read_bytes() == before
    path = tmp_path / "private" / master.name
    path.parent.mkdir()
    path.write_bytes(master.read_bytes())
    replace_vba_project(path, path, _staff_project(path, [
        Module("職員用", "standard", "Private Sub renkeiPageSetup()\r\nEnd Sub\r\n"),
        Module("Tally", "class", "Public GetRange As Long\r\n")]))
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 0, out.stderr


def test_upgrade_macros_gives_the_workbook_module_the_workbooks_code_name(master, tmp_path):
    """A workbook another language's Excel made names its document module in its own words
    (workbookPr codeName="DieseArbeitsmappe"): the new project's module is that one, not a
    ThisWorkbook no workbook is bound to."""
    path = tmp_path / master.name
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                assert b'codeName="ThisWorkbook"' in data
                data = data.replace(b'codeName="ThisWorkbook"', b'codeName="DieseArbeitsmappe"')
            dst.writestr(item, data)
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 0, out.stderr
    found = _olevba_modules(path)
    assert "DieseArbeitsmappe" in found and "ThisWorkbook" not in found
    assert "00020819-0000-0000-C000-000000000046" in found["DieseArbeitsmappe"]


def _with_chart_sheet(src: Path, path: Path) -> Path:
    """The master with a chart sheet staff made (a chart moved to a sheet of its own), its
    code name Chart1 as Excel gives it."""
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chartsheet.properties import ChartsheetProperties

    wb = load_workbook(src, keep_vba=True)
    chart = BarChart()
    chart.add_data(Reference(wb[c.SETTINGS], min_col=2, min_row=3, max_row=5))
    sheet = wb.create_chartsheet("グラフ1")
    sheet.add_chart(chart)
    sheet.sheetPr = ChartsheetProperties(codeName="Chart1")
    wb.save(path)
    return path


def test_upgrade_macros_keeps_a_chart_sheets_module_and_its_code(master, tmp_path):
    """A chart sheet has a document module as a worksheet has (Chart1): its Chart_Activate
    was refused as code 「引き継ぐシートが見つからない」 with the chart sheet there, and a
    chart sheet's module without code went from the project. Both come over, as a Chart's."""
    path = _with_chart_sheet(master, tmp_path / master.name)
    assert b'codeName="Chart1"' in _parts(path)["xl/chartsheets/sheet1.xml"]
    code = Module("Chart1", "document", 'Attribute VB_Base = "0{00020821-0000-0000-C000-000000000046}"\r\n'
                                        'Private Sub Chart_Activate()\r\n    MsgBox "グラフ"\r\nEnd Sub\r\n')
    plain = tmp_path / "plain" / master.name
    plain.parent.mkdir()
    plain.write_bytes(path.read_bytes())
    replace_vba_project(path, path, _staff_project(path, [code]))
    for book, said in ((path, True), (plain, False)):
        out = cli_run(["upgrade-macros", str(book)])
        assert out.returncode == 0, out.stderr
        assert ("Chart1" in out.stdout) == said, out.stdout
        found = _olevba_modules(book)
        assert "00020821-0000-0000-C000-000000000046" in found["Chart1"]
        assert ("Private Sub Chart_Activate()" in found["Chart1"]) == said
        assert sorted(found) == sorted(["ThisWorkbook", *sheet_code_names(book), "Chart1", *CODE_MODULES])


def test_upgrade_macros_keeps_sheets_whose_code_names_staff_gave_in_japanese(master, tmp_path):
    """A Japanese Excel lets staff name a sheet's object in Japanese (メニュー → 「メニュー画面」
    in the VBA editor's properties), and their code calls it so: upgrade-macros refused the
    master, asking for a code name of half-width letters, which would break that code. The
    modules come over under their names, in the code page that holds them (932)."""
    renamed = {"shMenu": "メニュー画面", "shMuni02": "小樽シート"}
    path = tmp_path / master.name
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            for old, new in renamed.items():
                data = data.replace(f'codeName="{old}"'.encode(), f'codeName="{new}"'.encode())
            dst.writestr(item, data)
    plain = tmp_path / "plain" / master.name
    plain.parent.mkdir()
    plain.write_bytes(path.read_bytes())
    code = Module("小樽シート", "document", "Private Sub Worksheet_Activate()\r\n    メニュー画面.Range(\"A1\").Select\r\nEnd Sub\r\n")
    replace_vba_project(path, path, _staff_project(path, [code]))
    for book, said in ((path, True), (plain, False)):
        assert set(renamed.values()) <= set(sheet_code_names(book))
        out = cli_run(["upgrade-macros", str(book)])
        assert out.returncode == 0, out.stderr
        found = _olevba_modules(book)
        assert sorted(found) == sorted(["ThisWorkbook", *sheet_code_names(book), *CODE_MODULES])
        assert ("メニュー画面.Range" in found["小樽シート"]) == said
        assert ("小樽シート" in out.stdout) == said, out.stdout


def test_a_project_that_inflates_past_the_part_limits_is_refused_before_it_is_held(master, tmp_path):
    """A vbaProject.bin that inflates to 64 MB of zeros (a zip bomb's ratio): upgrade-macros
    and the server's reading of the replayable Subs read it with zipfile, whole (600 MB of it
    peaked at 1.2 GB), before the writer's package refused it. It is read as every part is,
    within MAX_PART_BYTES and MAX_RATIO, and refused naming the part; the master is untouched."""
    import tracemalloc

    from renkei_xl.core.errors import UserError
    from renkei_xl.vba.carry import upgraded_project
    from renkei_xl.vba.read import VbaProjectError, project_modules, workbook_project

    path = tmp_path / master.name
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            out.writestr(info, data + b"\0" * (64 * 2**20) if info.filename == VBA_PART else data)
    before = path.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=f"部品「{VBA_PART}」は展開すると 64 MB"):
            upgraded_project(path, sheet_code_names(path), "ThisWorkbook", None)
        with pytest.raises(VbaProjectError):
            project_modules(workbook_project(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, peak
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 2 and f"部品「{VBA_PART}」" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert path.read_bytes() == before


# ------------------------------------------------------------ what LibreOffice loses

@pytest.fixture(scope="module")
def lo_lost(master, lo_master_xlsm, tmp_path_factory):
    """The sample master as LibreOffice 7.4 leaves it, from the office the tests share
    (realbooks.lo_convert): "emptied", saved as .ods and then as .xlsm again (a
    vbaProject.bin of 1,536 bytes with no module); "twice", staff's edits saved as .xlsm in
    Calc (lo_master_xlsm, the run's own) saved once more (the buttons of the first save read
    back as nothing, so the second has none; its notes' drawing stays)."""
    from realbooks import XLSM_FILTER, lo_convert

    require_soffice()
    base = tmp_path_factory.mktemp("lo_lost")
    ods = lo_convert(master, base / "ods" / "m.ods", "calc8")
    emptied = lo_convert(ods, base / "emptied" / master.name, XLSM_FILTER)
    twice = lo_convert(lo_master_xlsm, base / "twice" / master.name, XLSM_FILTER)
    return {"emptied": emptied, "twice": twice}


def _copy(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / src.name).write_bytes(src.read_bytes())
    return folder / src.name


def _menu_buttons(path: Path) -> list[str]:
    """The macros of メニュー's buttons as saved (their VML shapes, read here, not by the tool),
    sorted, without Excel's 「[0]!」."""
    from realbooks import relationships, resolve_target, sheet_parts

    pkg = _parts(path)
    menu = sheet_parts(pkg)[c.MENU]
    out = []
    for rel in relationships(pkg, menu):
        if rel["Type"].endswith("/vmlDrawing"):
            vml = pkg[resolve_target(menu, rel["Target"])].decode("utf-8")
            out += [m.split("!")[-1] for shape in re.findall(r"<v:shape\b.*?</v:shape>", vml, re.DOTALL)
                    if 'ObjectType="Button"' in shape for m in re.findall(r"<x:FmlaMacro>([^<]+)<", shape)]
    return sorted(out)


def test_libreoffice_loses_the_modules_or_the_buttons_and_every_command_says_so(lo_lost, tmp_path):
    """Both losses measured with LibreOffice 7.4, then said by the commands that open the master
    (a 【注意】 naming the file, what is lost and upgrade-macros), which still do their work."""
    with zipfile.ZipFile(lo_lost["emptied"]) as z:
        assert z.getinfo(VBA_PART).file_size < 4096        # 1,536 bytes: no module
    assert _menu_buttons(lo_lost["emptied"]) == sorted(m for _c, m, _w in c.BUTTONS)
    assert _menu_buttons(lo_lost["twice"]) == []
    assert "Renkei" in _olevba_modules(lo_lost["twice"])
    name = lo_lost["emptied"].name
    out = cli_run(["validate", "--no-write", str(lo_lost["emptied"])])
    assert out.returncode == 0, out.stderr
    note = out.stdout.splitlines()[0]
    assert note.startswith("【注意】") and f"「{name}」" in note and "モジュール Renkei" in note
    assert f"upgrade-macros {name}" in note and "ボタン（" not in note
    assert "入力チェック: エラー 0 件" in out.stdout
    path = _copy(lo_lost["twice"], tmp_path / "twice")
    out = cli_run(["recalc", str(path)])
    assert out.returncode == 0, out.stderr
    note = out.stdout.splitlines()[0]
    assert note.startswith("【注意】") and f"シート「{c.MENU}」のボタン（{'、'.join(b for b, _m, _w in c.BUTTONS)}）" in note
    assert "モジュール" not in note and "達成割合 52／71" in out.stdout


def test_the_server_names_a_master_emptied_of_its_macros_and_upgrade_macros(lo_lost):
    """The server's admission read the empty project as damage and asked staff to save it
    again as .xlsm, which keeps it empty."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.server.place import replayable_of

    with pytest.raises(UserError, match=f"マスター「{lo_lost['emptied'].name}」にはボタンのマクロ.*upgrade-macros") as info:
        replayable_of(lo_lost["emptied"])
    assert "保存し直して" not in str(info.value)


@pytest.mark.parametrize("lost", ["emptied", "twice"])
def test_upgrade_macros_puts_back_the_modules_and_the_buttons_where_the_build_puts_them(lo_lost, master, lost, tmp_path):
    """upgrade-macros said 「マクロを更新しました」 and left a master without buttons as it was.
    It puts back what was lost, says so, and the buttons are the build's own (the same VML);
    every part but those it owns stays byte for byte."""
    path = _copy(lo_lost[lost], tmp_path)
    before = _parts(path)
    out = cli_run(["upgrade-macros", str(path)])
    assert out.returncode == 0, out.stderr
    assert "入れ直しました" in out.stdout and "壊れていて" not in out.stdout
    assert "Renkei" in _olevba_modules(path)
    assert "【注意】" not in cli_run(["validate", "--no-write", str(path)]).stdout
    assert _menu_buttons(path) == sorted(m for _c, m, _w in c.BUTTONS)
    after = _parts(path)
    owned = {VBA_PART, "[Content_Types].xml", "xl/workbook.xml", "docProps/app.xml"}
    if lost == "twice":
        menu, (vml,) = "xl/worksheets/sheet1.xml", {n for n in set(after) - set(before) if n.endswith(".vml")}
        assert after[vml] == _parts(master)["xl/drawings/vmlDrawing1.vml"]     # the build's buttons, byte for byte
        assert after[menu].count(b"<legacyDrawing ") == 1
        owned |= {menu, "xl/worksheets/_rels/sheet1.xml.rels", vml}
    kept = {n for n in before if n not in owned}
    assert {n: after.get(n) for n in kept} == {n: before[n] for n in kept}
    if lost == "twice":         # and LibreOffice reads them, each bound to its macro
        require_soffice()
        buttons = lo_probe("uno_probe", path)["buttons"][c.MENU]
        assert [(b["label"], [e["code"] for e in b["events"]]) for b in buttons] == [
            (caption, [f"vnd.sun.star.script:VBAProject.{macro}?language=Basic&location=document"])
            for caption, macro, _ in c.BUTTONS]


def test_a_master_excel_saved_gives_no_note(grafted_master):
    """No false alarm: the sample master with every Excel-made sheet (buttons of Excel's own,
    「[0]!say_hello」, among them) carries the tool's modules and buttons."""
    from renkei_xl.vba.missing import missing_macros

    assert missing_macros(grafted_master) is not None and not missing_macros(grafted_master)
    out = cli_run(["validate", "--no-write", str(grafted_master)])
    assert "【注意】" not in out.stdout and out.returncode in (0, 1), out.stderr


def test_upgrade_macros_that_cannot_put_the_buttons_back_says_so(lo_lost, tmp_path, monkeypatch, capsys):
    """What it wrote is checked by the rule that found the loss: a master still without
    buttons is not 「マクロを更新しました」, and the command ends in an error saying what is left."""
    from renkei_xl.cli import main
    from renkei_xl.workbook import menu_buttons

    path = _copy(lo_lost["twice"], tmp_path)
    monkeypatch.setattr(menu_buttons, "put_back_buttons", lambda pkg, captions: [])
    assert main(["upgrade-macros", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "マクロを更新しました" not in out and "ボタンはまだ動きません" in out
    assert "入れ直せないもの" in err and f"シート「{c.MENU}」のボタン（" in err
