Attribute VB_Name = "Renkei"
' Buttons of the master workbook: one Sub per button, each naming its entry point in
' renkei_xl.excel.buttons. Every message the staff read comes from Python.
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
    server = GetConfig("RENKEI_SERVER", BUILT_FOR_SERVER)
    If server = "" Then
        RunPython "import renkei_xl.excel.buttons as m; m." & entry & "()"
    Else
        RenkeiCallServer server, entry
    End If
End Sub
