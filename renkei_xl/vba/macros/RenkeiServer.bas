Attribute VB_Name = "RenkeiServer"
' The buttons' way to the renkei-xl server (renkei-xl serve) and the changes it sends back.
'
' RenkeiCallServer posts the workbook through xlwings' own VBA client (RunServerPython in
' the Remote module, with WebClient and friends): the key is xlwings' AUTH setting (a row
' of the xlwings.conf sheet or of the user's xlwings.conf file), sent as Authorization.
' Three headers of ours: X-Renkei-Client says that this module is here, so the server may
' answer with the actions below; X-Renkei-User is Application.UserName as UTF-16 hex
' (an HTTP header carries ASCII only), which the server writes in its log; X-Renkei-Master
' is the master's identity (RenkeiMasterId).
'
' Remote.bas replays each returned action with Application.Run action("func"), so every
' Sub below is named after an action of xlwings' remote engine that Remote.bas lacks:
' fonts, borders, wrapping, alignment, merges, sizes, hidden columns, frozen panes,
' conditional formats and the print area. Names must not repeat one of Remote.bas.
' This file is ASCII (the project's code page is 1252): Japanese text is written as
' UTF-16 hex and decoded by RenkeiText.
Option Explicit

Public Const RENKEI_CLIENT_VERSION As String = "1"

Public Sub RenkeiCallServer(server As String, entry As String)
    Dim url As String
    Dim headers As New Dictionary
    url = server
    If Right(url, 1) = "/" Then url = Left(url, Len(url) - 1)
    url = url & "/buttons/" & entry
    headers.Add "X-Renkei-Client", RENKEI_CLIENT_VERSION
    headers.Add "X-Renkei-User", RenkeiHex(Application.UserName)
    headers.Add "X-Renkei-Master", RenkeiMasterId()
    On Error GoTo Failed
    RunServerPython url, headers:=headers
    Exit Sub
Failed:
    MsgBox RenkeiText("00720065006E006B00650069002D0078006C002030B530FC30D030FC306B63A57D9A3067304D307E305B309330673057305F300230B530FC30D030FC304C52D5304430663044308B304B300130B730FC30C8300C0078006C00770069006E00670073002E0063006F006E0066300D306E002000520045004E004B00450049005F0053004500520056004500520020306E5024309278BA8A8D30573066304F3060305530443002") & vbLf & vbLf & url & vbLf & Err.Description, _
        vbCritical, RenkeiText("9023643A4E8B696D00208A554FA130C430FC30EB")
End Sub

' The master's identity (hidden name _renkei_master_id, derived from its key on the server's
' side too): the server lets a click touch only the folder where this very master is saved.
Function RenkeiMasterId() As String
    Dim s As String
    On Error Resume Next
    s = ThisWorkbook.Names("_renkei_master_id").RefersTo
    On Error GoTo 0
    RenkeiMasterId = Replace(Replace(s, "=", ""), Chr(34), "")
End Function

Function RenkeiHex(ByVal s As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(s)
        out = out & Right("000" & Hex(AscW(Mid(s, i, 1)) And &HFFFF&), 4)
    Next i
    RenkeiHex = out
End Function

Function RenkeiText(ByVal codes As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(codes) Step 4
        out = out & ChrW(CLng("&H" & Mid(codes, i, 4)))
    Next i
    RenkeiText = out
End Function

' ------------------------------------------------------------------ the actions

Sub setFontProperty(wb As Workbook, action As Dictionary)
    Dim rng As Range
    Dim value As Variant
    Set rng = GetRange(wb, action)
    value = action("args")(2)
    Select Case action("args")(1)
    Case "bold"
        rng.Font.Bold = value
    Case "italic"
        rng.Font.Italic = value
    Case "size"
        rng.Font.Size = value
    Case "name"
        rng.Font.Name = value
    Case "color"
        rng.Font.Color = HexToRgb(value)
    Case "underline"
        If IsNull(value) Or value = "None" Then
            rng.Font.Underline = -4142 ' xlUnderlineStyleNone
        ElseIf value = "Double" Then
            rng.Font.Underline = -4119 ' xlUnderlineStyleDouble
        Else
            rng.Font.Underline = 2 ' xlUnderlineStyleSingle
        End If
    End Select
End Sub

Sub setBorderProperty(wb As Workbook, action As Dictionary)
    Dim rng As Range
    Dim side As Long
    Dim value As Variant
    Set rng = GetRange(wb, action)
    Select Case action("args")(1)
    Case "edge_top": side = 8 ' xlEdgeTop
    Case "edge_bottom": side = 9 ' xlEdgeBottom
    Case "edge_left": side = 7 ' xlEdgeLeft
    Case "edge_right": side = 10 ' xlEdgeRight
    Case "inside_horizontal"
        If rng.Rows.Count = 1 Then Exit Sub
        side = 12 ' xlInsideHorizontal
    Case "inside_vertical"
        If rng.Columns.Count = 1 Then Exit Sub
        side = 11 ' xlInsideVertical
    Case "diagonal_down": side = 5 ' xlDiagonalDown
    Case "diagonal_up": side = 6 ' xlDiagonalUp
    Case Else: Exit Sub
    End Select
    value = action("args")(3)
    Select Case action("args")(2)
    Case "line_style"
        rng.Borders(side).LineStyle = RenkeiLineStyle(value)
    Case "weight"
        Select Case value
        Case "hairline": rng.Borders(side).Weight = 1 ' xlHairline
        Case "medium": rng.Borders(side).Weight = -4138 ' xlMedium
        Case "thick": rng.Borders(side).Weight = 4 ' xlThick
        Case Else: rng.Borders(side).Weight = 2 ' xlThin
        End Select
    Case "color"
        rng.Borders(side).Color = HexToRgb(value)
    End Select
End Sub

Function RenkeiLineStyle(value As Variant) As Long
    If IsNull(value) Then
        RenkeiLineStyle = -4142 ' xlLineStyleNone
        Exit Function
    End If
    Select Case value
    Case "dash": RenkeiLineStyle = -4115 ' xlDash
    Case "dash_dot": RenkeiLineStyle = 4 ' xlDashDot
    Case "dash_dot_dot": RenkeiLineStyle = 5 ' xlDashDotDot
    Case "dot": RenkeiLineStyle = -4118 ' xlDot
    Case "double": RenkeiLineStyle = -4119 ' xlDouble
    Case "slant_dash_dot": RenkeiLineStyle = 13 ' xlSlantDashDot
    Case "none": RenkeiLineStyle = -4142 ' xlLineStyleNone
    Case Else: RenkeiLineStyle = 1 ' xlContinuous
    End Select
End Function

Sub setWrapText(wb As Workbook, action As Dictionary)
    GetRange(wb, action).WrapText = action("args")(1)
End Sub

Sub setHorizontalAlignment(wb As Workbook, action As Dictionary)
    Dim value As Long
    Select Case action("args")(1)
    Case "Left": value = -4131 ' xlLeft
    Case "Center": value = -4108 ' xlCenter
    Case "Right": value = -4152 ' xlRight
    Case "Fill": value = 5 ' xlFill
    Case "Justify": value = -4130 ' xlJustify
    Case "CenterAcrossSelection": value = 7 ' xlCenterAcrossSelection
    Case "Distributed": value = -4117 ' xlDistributed
    Case Else: value = 1 ' xlGeneral
    End Select
    GetRange(wb, action).HorizontalAlignment = value
End Sub

Sub setVerticalAlignment(wb As Workbook, action As Dictionary)
    Dim value As Long
    Select Case action("args")(1)
    Case "Top": value = -4160 ' xlTop
    Case "Center": value = -4108 ' xlCenter
    Case "Justify": value = -4130 ' xlJustify
    Case "Distributed": value = -4117 ' xlDistributed
    Case Else: value = -4107 ' xlBottom
    End Select
    GetRange(wb, action).VerticalAlignment = value
End Sub

Sub rangeMerge(wb As Workbook, action As Dictionary)
    Dim across As Boolean
    If Not IsNull(action("args")(1)) Then across = action("args")(1)
    GetRange(wb, action).Merge across
End Sub

Sub rangeUnmerge(wb As Workbook, action As Dictionary)
    GetRange(wb, action).UnMerge
End Sub

Sub setColumnWidth(wb As Workbook, action As Dictionary)
    ' The action gives points; Excel sets widths in characters of the standard font.
    ' Two corrections through the first column's own points-per-character ratio.
    Dim rng As Range
    Dim points As Double
    Dim i As Integer
    Set rng = GetRange(wb, action)
    points = action("args")(1)
    If points <= 0 Then
        rng.ColumnWidth = 0
        Exit Sub
    End If
    rng.ColumnWidth = points / 5.25
    For i = 1 To 2
        If rng.Columns(1).Width > 0 And rng.Columns(1).ColumnWidth > 0 Then
            rng.ColumnWidth = points / (rng.Columns(1).Width / rng.Columns(1).ColumnWidth)
        End If
    Next i
End Sub

Sub setRowHeight(wb As Workbook, action As Dictionary)
    GetRange(wb, action).RowHeight = action("args")(1)
End Sub

Sub setColumnHidden(wb As Workbook, action As Dictionary)
    GetRange(wb, action).EntireColumn.Hidden = action("args")(1)
End Sub

Sub freezePaneAtRange(wb As Workbook, action As Dictionary)
    ' "1:3" freezes rows, "A:B" columns, "A1:C3" both: what stays put.
    Dim ws As Worksheet
    Dim frozen As Range
    Dim nRows As Long, nCols As Long
    Set ws = wb.Worksheets(action("sheet_position") + 1)
    Set frozen = ws.Range(action("args")(1))
    If frozen.Rows.Count < ws.Rows.Count Then nRows = frozen.Row + frozen.Rows.Count - 1
    If frozen.Columns.Count < ws.Columns.Count Then nCols = frozen.Column + frozen.Columns.Count - 1
    RenkeiFreeze ws, nRows, nCols
End Sub

Sub freezePaneUnfreeze(wb As Workbook, action As Dictionary)
    RenkeiFreeze wb.Worksheets(action("sheet_position") + 1), 0, 0
End Sub

Sub RenkeiFreeze(ws As Worksheet, nRows As Long, nCols As Long)
    ' Panes belong to the window: the sheet is shown for a moment, then the one before.
    Dim before As Object
    Set before = ws.Parent.ActiveSheet
    ws.Activate
    With ActiveWindow
        .FreezePanes = False
        .Split = False
        If nRows > 0 Or nCols > 0 Then
            .ScrollRow = 1
            .ScrollColumn = 1
            .SplitRow = nRows
            .SplitColumn = nCols
            .FreezePanes = True
        End If
    End With
    before.Activate
End Sub

Sub addConditionalFormat(wb As Workbook, action As Dictionary)
    Dim rng As Range
    Dim entry As Dictionary
    Dim fc As Object
    Set rng = GetRange(wb, action)
    Set entry = action("args")(1)
    Select Case entry("type")
    Case "CellValue"
        If entry.Exists("formula2") And Not IsNull(entry("formula2")) Then
            Set fc = rng.FormatConditions.Add(Type:=1, Operator:=RenkeiOperator(entry("operator")), _
                Formula1:=entry("formula1"), Formula2:=entry("formula2"))
        Else
            Set fc = rng.FormatConditions.Add(Type:=1, Operator:=RenkeiOperator(entry("operator")), _
                Formula1:=entry("formula1"))
        End If
        If Not IsNull(entry("fill_color")) Then fc.Interior.Color = HexToRgb(entry("fill_color"))
        If Not IsNull(entry("font_color")) Then fc.Font.Color = HexToRgb(entry("font_color"))
        If Not IsNull(entry("font_bold")) Then fc.Font.Bold = entry("font_bold")
        If Not IsNull(entry("font_italic")) Then fc.Font.Italic = entry("font_italic")
        If Not IsNull(entry("stop_if_true")) Then fc.StopIfTrue = entry("stop_if_true")
    Case "DataBar"
        Set fc = rng.FormatConditions.AddDatabar
        fc.BarColor.Color = HexToRgb(entry("bar_color"))
        If entry.Exists("gradient") Then
            If entry("gradient") Then fc.BarFillType = 1 Else fc.BarFillType = 0
        End If
        If entry.Exists("show_value") Then fc.ShowValue = entry("show_value")
        If entry.Exists("thresholds") Then
            fc.MinPoint.Modify RenkeiThreshold(entry("threshold_types")(1), True), entry("thresholds")(1)
            fc.MaxPoint.Modify RenkeiThreshold(entry("threshold_types")(2), False), entry("thresholds")(2)
        End If
    End Select
End Sub

Function RenkeiOperator(name As Variant) As Long
    Select Case name
    Case "Between": RenkeiOperator = 1
    Case "NotBetween": RenkeiOperator = 2
    Case "NotEqualTo": RenkeiOperator = 4
    Case "GreaterThan": RenkeiOperator = 5
    Case "LessThan": RenkeiOperator = 6
    Case "GreaterThanOrEqual": RenkeiOperator = 7
    Case "LessThanOrEqual": RenkeiOperator = 8
    Case Else: RenkeiOperator = 3 ' xlEqual
    End Select
End Function

Function RenkeiThreshold(name As Variant, isMin As Boolean) As Long
    Select Case name
    Case "Number": RenkeiThreshold = 0 ' xlConditionValueNumber
    Case "LowestValue": RenkeiThreshold = 1
    Case "HighestValue": RenkeiThreshold = 2
    Case "Percent": RenkeiThreshold = 3
    Case "Formula": RenkeiThreshold = 4
    Case "Percentile": RenkeiThreshold = 5
    Case Else
        If isMin Then RenkeiThreshold = 6 Else RenkeiThreshold = 7 ' xlConditionValueAutomaticMin/Max
    End Select
End Function

Sub clearConditionalFormats(wb As Workbook, action As Dictionary)
    GetRange(wb, action).FormatConditions.Delete
End Sub

Sub setPrintArea(wb As Workbook, action As Dictionary)
    Dim area As Variant
    area = action("args")(1)
    If IsNull(area) Then area = ""
    wb.Worksheets(action("sheet_position") + 1).PageSetup.PrintArea = area
End Sub
