Attribute VB_Name = "Renkei"
' Buttons of the master workbook: one Sub per button, each calling renkei_xl through
' xlwings. Every message the staff read comes from Python. The Python module is named
' explicitly, never after the workbook: xlwings cannot import a Japanese workbook name.
Option Explicit

Sub RenkeiCheck()
    RunPython "import renkei_xl.excel.buttons as m; m.check()"
End Sub

Sub RenkeiRecalc()
    RunPython "import renkei_xl.excel.buttons as m; m.recalc()"
End Sub

Sub RenkeiSplit()
    RunPython "import renkei_xl.excel.buttons as m; m.split()"
End Sub

Sub RenkeiCollect()
    RunPython "import renkei_xl.excel.buttons as m; m.collect()"
End Sub

Sub RenkeiExport()
    RunPython "import renkei_xl.excel.buttons as m; m.export()"
End Sub

Sub RenkeiRollover()
    RunPython "import renkei_xl.excel.buttons as m; m.rollover()"
End Sub
