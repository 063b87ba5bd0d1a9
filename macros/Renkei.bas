Attribute VB_Name = "Renkei"
' Buttons of the master workbook: one Sub per button, each naming its entry point in
' renkei_xl.excel.buttons. Every message the staff read comes from Python, but those of a Python
' that cannot start or stops before it can speak (RenkeiPythonFailed and the functions beside it).
' Where that Python runs is one row of the xlwings.conf sheet (or of the user's
' xlwings.conf file), so IT can switch a master without rebuilding it:
' - RENKEI_SERVER empty, or absent with no server named at build: RunPython on this PC. The Python module is named
'   explicitly, never after the workbook: xlwings cannot import a Japanese workbook name.
' - RENKEI_SERVER = http://host:port: the renkei-xl server (renkei-xl serve), through
'   xlwings' own VBA client (RunServerPython in the Remote module); see RenkeiServer.
Option Explicit

' The server named when the macros were written (renkei-xl init / upgrade-macros --server);
' a RENKEI_SERVER row in xlwings.conf, when there is one, decides instead (empty: this PC).
Private Const BUILT_FOR_SERVER As String = ""

' RunPython's boxes in Japanese (UTF-16 hex, decoded by RenkeiServer.bas' RenkeiText): the
' master's xlwings module calls these where xlwings shows English (renkei_xl.vba.sources).
' The cmd.exe of a Japanese Windows says a program is not found with CMD_NOT_FOUND.
Private Const MSG_NO_PYTHON As String = "3053306E30D130BD30B330F3306700200050007900740068006F006E0020304C898B3064304B3089306A3044305F3081300130DC30BF30F330925B9F884C3067304D307E305B309330673057305FFF08007B0030007DFF09300230D630C330AF306F590966F4305730663044307E305B30933002300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8306E002000410020521700200049006E007400650072007000720065007400650072005F00570069006EFF08004D0061006300203067306F00200049006E007400650072007000720065007400650072005F004D00610063FF09306E53F3306E00200042002052173092300100720065006E006B00650069002D0078006C002030925165308C305F00200050007900740068006F006E0020306E58346240306B305730664FDD5B5830573001308230464E005EA630DC30BF30F3309262BC30573066304F306030553044FF08300C807754E1752830D130BD30B330F3306E6E965099306830DC30BF30F3306E4F7F304465B9300D306E00200031002D0033FF08004D0061006300203067306F00200032FF093002308F304B3089306A30443068304D306F002000490054002062C55F5380053078FF093002"
Private Const MSG_NO_TOOL As String = "30DC30BF30F3304C4F7F304600200050007900740068006F006E0020306B002000720065006E006B00650069002D0078006CFF08307E305F306F00200078006C00770069006E00670073FF09304C5165306330663044306A3044305F3081300130DC30BF30F330925B9F884C3067304D307E305B309330673057305F300230D630C330AF306F590966F4305730663044307E305B30933002300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8306E00200049006E007400650072007000720065007400650072005F00570069006EFF08004D0061006300203067306F00200049006E007400650072007000720065007400650072005F004D00610063FF09304C002000720065006E006B00650069002D0078006C002030925165308C305F00200050007900740068006F006E002030926307305730663044308B304B300100490054002062C55F538005306B78BA8A8D305730663082308930633066304F306030553044FF08300C807754E1752830D130BD30B330F3306E6E965099306830DC30BF30F3306E4F7F304465B9300D306E00200031002D003230FB0031002D0033FF093002"
Private Const MSG_PYTHON_FAILED As String = "0050007900740068006F006E0020304C90144E2D30676B62307E3063305F305F3081300130DC30BF30F3306E51E67406309267005F8C307E30675B9F884C3067304D307E305B309330673057305F30024E0B306E51855BB93092002000490054002062C55F538005306B4F1D30483066304F3060305530443002"
Private Const MSG_COPY As String = "FF08004300740072006C002B0043002030673053306E753B9762306E65875B57309230B330D430FC3067304D307E3059FF09"
Private Const MSG_NO_RUNPYTHON As String = "3053306E0020004D0061006300203067306F307E306030DC30BF30F3304B308900200050007900740068006F006E0020309252D5304B305B307E305B3093300230D630C330AF306F590966F4305730663044307E305B3093300230BF30FC30DF30CA30EB3067300C0078006C00770069006E00670073002000720075006E0070007900740068006F006E00200069006E007300740061006C006C300D309200200031002056DE5B9F884C30573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F306030553044FF08300C807754E1752830D130BD30B330F3306E6E965099306830DC30BF30F3306E4F7F304465B9300D306E00200032FF093002"
Private Const MSG_MACRO_FAILED As String = "300C007B0030007D300D306E30DE30AF30ED304C30A830E930FC30676B62307E308A307E3057305FFF0830A830E930FC756A53F70020007B0031007D003A0020007B0032007DFF093002300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8306E0020004100205217306B540C3058540D524D306E884C304C0020003200203064306A3044304B78BA8A8D305730013042308C3070724765B93092524A9664305730664FDD5B5830573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F306030553044300276F43089306A30443068304D306F30013053306E30E130C330BB30FC30B83092002000490054002062C55F538005306B4F1D30483066304F3060305530443002"
Private Const CMD_NOT_FOUND As String = "518590E830B330DE30F330C9307E305F306F591690E830B330DE30F330C9"
' The first words of a sentence the click wrote itself where no box could show it
' (renkei_xl.excel.buttons.SAID_BY_CLICK): RenkeiPythonFailed shows it as the click said it.
Private Const SAID_BY_CLICK As String = "renkei-xl: "

Sub RenkeiCheck()
    RenkeiRun "check"
End Sub

Sub RenkeiRecalc()
    RenkeiRun "recalc"
End Sub

Sub RenkeiSplit()
    RenkeiRun "split"
End Sub

Sub RenkeiCollect()
    RenkeiRun "collect"
End Sub

Sub RenkeiExport()
    RenkeiRun "export"
End Sub

Sub RenkeiRollover()
    RenkeiRun "rollover"
End Sub

Private Sub RenkeiRun(entry As String)
    Dim server As String
    ' A run-time error in xlwings' VBA ended in Excel's own dialog with its Debug button: a name
    ' written twice in column A of the xlwings.conf sheet stops GetConfig with error 457.
    On Error GoTo Failed
    server = GetConfig("RENKEI_SERVER", BUILT_FOR_SERVER)
    If server = "" Then
        RunPython "import renkei_xl.excel.buttons as m; m." & entry & "()"
    Else
        RenkeiCallServer server, entry
    End If
    Exit Sub
Failed:
    MsgBox RenkeiMacroFailed(Err.Number, Err.Description, entry), vbCritical, RenkeiTitle()
End Sub

' Names the button (RenkeiServer.bas' RenkeiCaption), as every other failure of a click does.
Public Function RenkeiMacroFailed(ByVal number As Long, ByVal description As String, ByVal entry As String) As String
    RenkeiMacroFailed = RenkeiFormat(RenkeiText(MSG_MACRO_FAILED), RenkeiCaption(entry), CStr(number), description)
End Function

' The box of RunPython when the Python that xlwings.conf names (Interpreter_Win) is not there.
Public Function RenkeiNoPython(ByVal interpreter As String) As String
    RenkeiNoPython = RenkeiFormat(RenkeiText(MSG_NO_PYTHON), interpreter)
End Function

' The Mac's box when xlwings' AppleScript is not installed (xlwings runpython install).
Public Function RenkeiNoRunPython() As String
    RenkeiNoRunPython = RenkeiText(MSG_NO_RUNPYTHON)
End Function

Public Function RenkeiCopyHint() As String
    RenkeiCopyHint = RenkeiText(MSG_COPY)
End Function

Public Function RenkeiPythonFailed(ByVal written As String) As String
    ' What Python wrote to stderr before it stopped (xlwings' log of the click), under a
    ' sentence saying what to do: renkei_xl or xlwings not in that Python; no Python at all
    ' (cmd.exe in English or Japanese, or the Microsoft Store's python alias); else anything
    ' else, the text kept for IT. buttons.py shows its own boxes, and a sentence of its own that
    ' no box could show comes here after SAID_BY_CLICK.
    Dim lead As String, said As Long
    said = InStr(vbLf & written, vbLf & SAID_BY_CLICK)   ' at the start of a line
    If said > 0 Then
        ' The click's own sentence (a message no box could show): no lead says it stopped.
        RenkeiPythonFailed = Mid(written, said + Len(SAID_BY_CLICK))
        Exit Function
    End If
    If InStr(written, "No module named 'renkei_xl'") > 0 Or InStr(written, "No module named 'xlwings'") > 0 Then
        lead = RenkeiText(MSG_NO_TOOL)
    ElseIf InStr(written, "Python was not found") > 0 Or InStr(written, "not recognized as an internal or external command") > 0 Then
        lead = RenkeiNoPython("python")
    ElseIf InStr(written, RenkeiText(CMD_NOT_FOUND)) > 0 Then
        lead = RenkeiNoPython("python")
    Else
        lead = RenkeiText(MSG_PYTHON_FAILED)
    End If
    RenkeiPythonFailed = lead & vbLf & vbLf & written
End Function
