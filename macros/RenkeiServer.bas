Attribute VB_Name = "RenkeiServer"
' The buttons' way to the renkei-xl server (renkei-xl serve) and the changes it sends back.
'
' RenkeiCallServer posts the workbook through xlwings' own VBA client (RunServerPython in
' the Remote module, with WebClient and friends): the key is xlwings' AUTH setting (a row
' of the xlwings.conf sheet or of the user's xlwings.conf file), sent as Authorization.
' Nine headers of ours: X-Renkei-Client says that this module is here, so the server may
' answer with the actions below; X-Renkei-User is Application.UserName as UTF-16 hex
' (an HTTP header carries ASCII only), which the server writes in its log; X-Renkei-Master
' is the master's identity (RenkeiMasterId); X-Renkei-Chart-Sheets the tab positions of
' chart sheets (RenkeiChartSheets); X-Renkei-Book whether the open book has unsaved changes
' and was opened read-only (RenkeiBookState); X-Renkei-Place where the master was opened
' from (Workbook.FullName as UTF-16 hex, from version 6), so that the server serves a
' click only from the folder its settings name, never from a copy of the master elsewhere.
' X-Renkei-Percents (from version 7) the number formats with a percent sign of the cells that
' hold a number (RenkeiPercents): xlwings' payload carries values only, and a number typed
' since the last save (1500% is stored 15 with the format 0%) reads as it shows only with its
' format (renkei_xl.server.percent_header; renkei_xl.core.percent_cells decides what shows).
' X-Renkei-Currency (from version 9) the exact number (Value2) of each cell whose Value is a
' Currency that is another number: Remote.bas sends Range.Value, four decimal places in a
' Currency or Accounting cell, and 0.123456 typed since the save reached the server as 0.1235
' (renkei_xl.server.currency_header; the server takes a number only where it rounds to the one
' sent). Found in RenkeiPercents' own walk of the columns (one read of each column's values).
' X-Renkei-Tabs (from version 10) the names of the tabs that are not worksheets (chart, dialog
' and Excel 4.0 macro sheets; found in RenkeiChartSheets' walk of the tabs): the server knew the
' saved master's alone, and where staff gave a chart sheet a tool sheet's name since the save,
' Excel refused that name to the sheet the answer adds (1004) halfway through the replay, a
' stray Sheet1 left. The server now refuses such a click before anything is written, naming
' the tab (renkei_xl.server.sheet_positions, WritePlan.refuse_taken).
'
' The book: Remote.bas sends and replays ActiveWorkbook, so RenkeiUnready first brings the
' master (ThisWorkbook) to the front, ungroups sheets staff grouped, calculates a book set to
' manual calculation, and refuses a legacy shared workbook to the buttons that write into it
' (BOOK_WRITERS); everything after it works on the master itself.
'
' Protection: the tool's sheets are protected (no password) so that staff do not type
' into them, and Excel refuses any write, merge or format on a protected sheet (1004).
' The server's answer therefore starts with renkeiUnprotectSheets, naming the sheets the
' click writes: it lifts the protection of those that have one and remembers their
' options. RenkeiCallServer puts every remembered protection back after the replay,
' whether it ended well or not, so no error leaves a tool sheet open. A tool sheet the
' click added is protected with the options the server sends (the tool's one protection,
' renkei_xl.core.looks.PROTECTION): this module holds no copy of them. The server knows
' protection from the master as last saved; a sheet protected with a password, or the book's
' structure protected, after that save is met here, before anything is written, and the
' click stops with the refusal the server sent in staff's words (never Excel's password
' dialog in the middle of the replay, never a 1004 halfway through it). This lives in VBA
' (not in actions at the end of the answer) because Remote.bas stops at the first failing
' action: an action meant to restore would never run.
'
' Remote.bas replays each returned action with Application.Run action("func"), so every
' Sub below is named after an action of xlwings' remote engine that Remote.bas lacks:
' fonts, borders, wrapping, alignment, merges, sizes, hidden columns, frozen panes,
' conditional formats, the print area, page breaks, the page setup, filter buttons, text kept as text,
' numbers written exactly and the tool's charts.
' Names must not repeat one of Remote.bas.
' The server reads which of these Subs the master carries (renkei_xl.vba.read) and sends
' nothing else.
' This file is ASCII (the project's code page is 1252): Japanese text is written as
' UTF-16 hex and decoded by RenkeiText; "{0}" in a text is filled by RenkeiFormat.
Option Explicit

Public Const RENKEI_CLIENT_VERSION As String = "10"
' The last row (or column) of a used range Remote.bas can count: it holds the range's first
' row and its row count in VBA Integer and adds them (startRow + nRows - 1), and the sum
' overflows (run-time error 6) when it reaches 32,768, a used range ending at row 32,767 too.
Private Const RENKEI_MAX_COUNT As Long = 32766
' The most names of the book, and shapes of a sheet (notes among them), Remote.bas can walk:
' it counts them in Integer and loops For i = 1 To n with an Integer i, which overflows
' when it steps past 32,767.
Private Const RENKEI_MAX_ITEMS As Long = 32766
' RenkeiPercents: the most characters it sends, and what it sends instead of a longer list
' (the server then reads formats as before: from the saved master). The server's HTTP reader
' (h11) takes 16 KiB of request line and headers together; the other headers need the rest.
' renkei_xl.server.percent_header reads both.
Private Const PERCENTS_MAX As Long = 8000
Private Const PERCENTS_OVERFLOW As String = "+"
' The header's grammar (percent_header reads only this one): "2" added the sheet whose formats
' are not known (PERCENTS_UNKNOWN in place of a format), so one such sheet leaves the others read.
Private Const PERCENTS_VERSION As String = "2"
Private Const PERCENTS_UNKNOWN As String = "+"
' The most cells RenkeiSheetPercents reads the NumberFormat of one by one (a run of numbers in
' mixed formats), on one sheet and in the whole book: a sheet past either is sent as not known
' (the server reads it as before: the saved master's formats), so a click never waits on it.
Private Const PERCENTS_WALK_SHEET As Long = 5000
Private Const PERCENTS_WALK_BOOK As Long = 20000
' X-Renkei-Currency (RenkeiPercents' exact argument): the most characters it sends (h11's 16 KiB
' hold it beside X-Renkei-Percents' 8,000), what it sends instead of a longer list, its grammar,
' and what stands for a sheet whose part did not fit (the server reads that sheet as before:
' the saved master's numbers). renkei_xl.server.currency_header reads them.
Private Const CURRENCY_MAX As Long = 4000
Private Const CURRENCY_OVERFLOW As String = "+"
Private Const CURRENCY_VERSION As String = "1"
Private Const CURRENCY_UNKNOWN As String = "+"
' X-Renkei-Tabs (RenkeiChartSheets' tabs argument): the most characters it sends (beside
' X-Renkei-Percents' 8,000 and X-Renkei-Currency's 4,000 within h11's 16 KiB), what it sends
' instead of a longer list (the server then knows the saved master's tabs alone, as before
' version 10), and its grammar. renkei_xl.server.sheet_positions reads them.
Private Const TABS_MAX As Long = 1000
Private Const TABS_OVERFLOW As String = "+"
Private Const TABS_VERSION As String = "1"
' VBA's vbObjectError (&H80040000), spelled out: LibreOffice's VBA mode lacks the constant.
Private Const RENKEI_OBJECT_ERROR As Long = -2147221504
' Raised by RenkeiRefuse: vbObjectError + 700.
Private Const RENKEI_REFUSED As Long = -2147220804
' RenkeiCheckWritten (from version 8): the most cells it walks one by one in a click (past it the
' rest goes unchecked, as before), and the most cells a refusal names, then MSG_MORE (the
' server's core.contract._places_listed says the same), the names joined by U+3001.
Private Const WRITTEN_WALK As Long = 5000
Private Const WRITTEN_SHOWN As Long = 10
Private Const MSG_MORE As String = "0020307B304B0020007B0030007D0020304B6240"
' What stands between two sheet names in a refusal (U+300D U+300C), as UTF-16 hex.
Private Const SHEET_JOIN As String = "300D300C"
' The entries (Renkei.bas' RenkeiRun names) of the buttons that write into the open book:
' renkei_xl.core.contract.BOOK_WRITERS. The others make files from the saved master.
Private Const BOOK_WRITERS As String = ",check,recalc,collect,"
Private Const MSG_CONNECT As String = "00720065006E006B00650069002D0078006C002030B530FC30D030FC306B63A57D9A3067304D307E305B309330673057305FFF08007B0030007DFF09300230B530FC30D030FC304C52D5304430663044308B304B300130B730FC30C8300C0078006C00770069006E00670073002E0063006F006E0066300D306E002000520045004E004B00450049005F0053004500520056004500520020306E50243092002000490054002062C55F538005306B78BA304B30813066304F3060305530443002"
' Remote.bas' box for an answer with no text whose status is 408: VBA-Web's WebClient answers a
' timeout, a server name not resolved and a refused connection so (RenkeiNoAnswer).
Private Const MSG_NO_ANSWER As String = "00720065006E006B00650069002D0078006C002030B530FC30D030FC304B30897B543048304C5C4A304D307E305B309330673057305FFF08007B0030007DFF09300230B530FC30D030FC304C6B62307E306330663044308B304B300130B730FC30C8300C0078006C00770069006E00670073002E0063006F006E0066300D306E002000520045004E004B00450049005F0053004500520056004500520020306E5024304C90553046304B300100540049004D0045004F005500540020306E66429593FF0865E25B9A002000330030002079D2FF095185306B7B543048304C5C4A304B306A304B3063305F305F30813067305930023053306E30D630C330AF306F590966F4305730663044307E305B3093300230B530FC30D030FC304C52D5304430663044308B304B300100520045004E004B00450049005F0053004500520056004500520020306E50243092002000490054002062C55F538005306B78BA304B30813066304F306030553044FF089045304456DE7DDA3067306F300100540049004D0045004F005500540020306E884C306B0020003600300030003000300020306A3069309266F8304D307E3059FF093002"
Private Const MSG_FAILED_1 As String = "300C007B0030007D300D306E90144E2D306700200045007800630065006C0020304C30A830E930FC30928FD43057307E3057305FFF0830A830E930FC756A53F70020007B0031007D003A0020007B0032007DFF093002"
' RenkeiFailure's box when the click stopped before the answer's first action (renkeiRequest):
' most often an answer that was not the server's JSON (cut short, or a proxy's page with status 200).
Private Const MSG_UNREADABLE As String = "300C007B0030007D300D306F300130B530FC30D030FC306E7B543048309266F8304D8FBC3080524D306B6B62307E308A307E3057305FFF0830A830E930FC756A53F70020007B0031007D003A0020007B0032007DFF09300230D630C330AF306F590966F4305730663044307E305B3093300230B530FC30D030FC306E7B543048304C90144E2D30675207308C305F304B300130B530FC30D030FC4EE55916306E6A5F5668FF0830D730ED30AD30B7306A3069FF09304C7B543048305F53EF80FD6027304C3042308A307E30593002308230464E005EA630DC30BF30F3309262BC305730663082540C30583068304D306F30013053306E30E130C330BB30FC30B83092002000490054002062C55F538005306B4F1D30483066304F306030553044FF08300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8306E002000520045004E004B00450049005F00530045005200560045005200203068002000500052004F00580059005F0053004500520056004500520020306E5024308278BA8A8D305730663082308930633066304F306030553044FF093002"
' RenkeiFailure's box when Remote.bas stopped before it sent anything (RenkeiPreparing, not yet
' RenkeiSending): its payload code met something in the book it cannot read (ListObject.TableStyle
' is a String for a table whose style is none, and .Name of it is error 424), or an xlwings.conf
' row it could not take. The server never saw the click: nothing is reported to it.
Private Const MSG_NOT_PREPARED As String = "300C007B0030007D300D306F30010045007800630065006C0020304C30D630C330AF309230B530FC30D030FC306B9001308B5F62306B3059308B90144E2D30676B62307E308A307E3057305FFF0830A830E930FC756A53F70020007B0031007D003A0020007B0032007DFF09300230B530FC30D030FC306B306F4F5530829001306330663044306A3044305F3081300130D630C330AF306F590966F4305730663044307E305B3093300230D630C330AF306E4E2D306B9001308B5F62306B3067304D306A30443082306EFF0830B930BF30A430EB3092300C306A3057300D306B3057305F30C630FC30D630EB306A3069FF09304C3042308B30688D77304D307E305930024FDD5B5830573066304B3089308230464E005EA630DC30BF30F3309262BC30573001540C30583068304D306F30013053306E30E130C330BB30FC30B83092002000490054002062C55F538005306B4F1D30483066304F3060305530443002"
' RenkeiRefuse's text where the answer carries no refusal for the reason met (a server older than
' this module, or none at all): the places met and the reason's name, never an empty box.
Private Const MSG_REFUSED_PLAIN As String = "30DC30BF30F3306E7D50679C309266F8304D8FBC3081306A30447B876240304C3042308B305F308130014F55308266F8304D8FBC307E305A306B6B623081307E3057305FFF08007B0030007DFF09300230D630C330AF306F590966F4305730663044307E305B3093300230B530FC30D030FC304C3053306E30DE30B930BF30FC306E30DE30AF30ED3088308A53E430447248306E305F308130018A733057304474067531FF08007B0031007DFF09306E8AAC660E30928868793A3067304D307E305B3093300200490054002062C55F538005306B300130B530FC30D030FC306E66F465B030924F9D983C30573066304F3060305530443002"
' Remote.bas' box for an answer that is not 200 and not the server's text (RenkeiServerSaid).
Private Const MSG_NOT_OURS As String = "00720065006E006B00650069002D0078006C002030B530FC30D030FC3067306F306A304476F8624B304C7B543048307E3057305FFF08007B0030007D300100480054005400500020007B0031007D0020007B0032007DFF09300230D630C330AF306F590966F4305730663044307E305B3093300230D730ED30AD30B7306A306990144E2D306E6A5F5668304C6B623081305F304B30015225306E30B530FC30D030FC306B3064306A304C306330663044307E30593002300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8306E002000520045004E004B00450049005F005300450052005600450052FF083068002000500052004F00580059005F005300450052005600450052FF09306E50243092002000490054002062C55F538005306B78BA304B308130663082308930633066304F3060305530443002"
' Application.EnableCancelKey while a click lifts protection, turns events off and replays the answer
' (xlDisabled): Esc or Ctrl+Break does nothing there (RenkeiCallServer says why).
Private Const CANCEL_KEY_DISABLED As Long = 0
' Shape.Type of a chart object (Office's MsoShapeType msoChart): how renkeiAddChart finds the tool's charts.
Private Const MSO_CHART As Long = 3
' The type of the server's refusals (renkei_xl.server.refusals.TEXT).
Private Const SERVER_TEXT As String = "text/plain; charset=utf-8"
' RenkeiLeftOut's refusal: Remote.bas sends no values of sheets INCLUDE leaves out or EXCLUDE names.
Private Const MSG_LEFT_OUT As String = "0078006C00770069006E00670073002E0063006F006E0066FF08300C0078006C00770069006E00670073002E0063006F006E0066300D30B730FC30C8304B8A2D5B9A30D530A130A430EBFF09306B0020007B0030007D0020306E884C304C3042308B305F3081300130DC30BF30F330925B9F884C3067304D307E305B309330673057305F300230D630C330AF306F590966F4305730663044307E305B309330023053306E30C430FC30EB306F30D630C330AF306E305930793066306E30B730FC30C830928AAD309330678A087B973059308B305F308130019001308B30B730FC30C83092907830768A2D5B9A306F4F7F3048307E305B3093FF0890013089308C306A304B3063305F30B730FC30C8306F7A7A3068305730668A087B973055308C307E3059FF09300200490054002062C55F538005306B0020007B0030007D0020306E884C3092524A9664305730663082308930633066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F3060305530443002"
Private Const MSG_FAILED_2 As String = "30D630C330AF306E4E0090E830603051304C66F8304D63DB30483089308C305F53EF80FD6027304C3042308A307E3059300230D630C330AF30924FDD5B58305B305A306B958930583066958B304D76F430573001308230464E005EA630DC30BF30F3309262BC30573066304F30603055304430027E70308A8FD430593068304D306F30013053306E30E130C330BB30FC30B83092002000490054002062C55F538005306B4F1D30483066304F3060305530443002"
Private Const MSG_TOO_MANY As String = "30B730FC30C8300C007B0030007D300D306E4F7F75287BC456F2304C0020007B0031007D0020884C002000D70020007B0032007D002052173042308A300130B530FC30D030FC306B9001308C307E305B3093FF0800330032002C0037003600360020884C30FB00330032002C00370036003600205217307E3067FF0930024F7F306330663044306A3044884C308452173092524A9664305730664E0A66F8304D4FDD5B5830573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F3060305530443002"
Private Const MSG_TOO_MANY_NAMES As String = "3053306E30D630C330AF306B306F540D524D306E5B9A7FA9304C0020007B0030007D0020500B3042308A300130B530FC30D030FC306B9001308C307E305B3093FF0800330032002C0037003600360020500B307E30673002307B304B306E30D630C330AF304B308930B730FC30C8309230B330D430FC3057305F3068304D306B4ED830443066304F308B3001540D524D306E7BA17406306B8868793A3055308C306A3044540D524D308265703048307E3059FF09300230D630C330AF306F590966F4305730663044307E305B3093300200490054002062C55F538005306B30014F7F306330663044306A3044540D524D306E524A966430924F9D983C30573066304F3060305530443002"
Private Const MSG_TOO_MANY_SHAPES As String = "30B730FC30C8300C007B0030007D300D306B56F35F62FF0830E130E23092542B3080FF09304C0020007B0031007D0020500B3042308A300130B530FC30D030FC306B9001308C307E305B3093FF0800310020679A306E30B730FC30C8306B002000330032002C0037003600360020500B307E3067FF09300230D630C330AF306F590966F4305730663044307E305B309330024F7F306330663044306A304456F35F623092524A9664305730664E0A66F8304D4FDD5B5830573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F3060305530443002"
Private Const MSG_RESTORE As String = "30B730FC30C8300C007B0030007D300D306E4FDD8B7730925143306B623B305B307E305B309330673057305F3002300C682195B2300D30BF30D6306E300C30B730FC30C8306E4FDD8B77300D30674FDD8B77305776F430573066304F3060305530443002"
' RenkeiUnready's refusals: renkei_xl.excel.book.shared_book_message (and a full stop), the master
' window hidden, the sheets still grouped.
Private Const MSG_SHARED As String = "3053306E30D630C330AF306F300C30D630C330AF306E51716709FF0830EC30AC30B7FF09300D3067517167093055308C30663044308B305F308130010045007800630065006C0020304C30B730FC30C8306E4FDD8B77306E89E39664308430BB30EB306E7D505408309253D730514ED83051305A300130DC30BF30F3306E7D50679C309266F8304D8FBC3081307E305B3093300230D630C330AF306F590966F4305730663044307E305B30933002300C682195B2300D2192300C30D630C330AF306E51716709306E89E39664300D30675171670930923084308130664FDD5B5830573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F3060305530443002"
Private Const MSG_NOT_FRONT As String = "30DE30B930BF30FC306E30A630A330F330C930A63092524D9762306B8868793A3067304D307E305B309330673057305FFF0830A630A330F330C930A6304C975E8868793A306B306A306330663044307E3059FF093002300C8868793A300D2192300C518D8868793A300D306730DE30B930BF30FC30928868793A30573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F306030553044300230D630C330AF306F590966F4305730663044307E305B30933002"
Private Const MSG_GROUPED As String = "30B730FC30C8306E30B030EB30FC30D7FF0830BF30A430C830EB30D030FC306E300C005B30B030EB30FC30D7005D300DFF09309289E396643067304D307E305B309330673057305F300230B730FC30C8898B51FA30573092002000310020306430AF30EA30C330AF3057306630B030EB30FC30D7309289E3966430573066304B30893001308230464E005EA630DC30BF30F3309262BC30573066304F306030553044300230D630C330AF306F590966F4305730663044307E305B30933002"
Private Const MSG_REQUEST As String = "FF0853D74ED8756A53F70020007B0030007DFF09"
Private Const MSG_TITLE As String = "9023643A4E8B696D00208A554FA130C430FC30EB"

' Protections lifted by renkeiUnprotectSheets in this click: Array(name, options...).
Private renkeiLifted As Collection
' Sheets added in this click that are protected like the tool's own sheets afterwards,
' and how: Protect's arguments by name, as the server sent them (Nothing: Excel's defaults).
Private renkeiProtectNew As Collection
Private renkeiNewOptions As Object
' The server's number of this click (renkeiRequest), shown to staff and reported back.
Private renkeiRequestId As String
' Why renkeiUnprotectSheets stopped this click before anything was written ("": it did not).
Private renkeiRefusal As String
' How far Remote.bas' RunServerPython got in this click: STAGE_PREPARING from its first line
' (RenkeiPreparing), STAGE_SENT once the payload is JSON and about to go (RenkeiSending), ""
' where it called neither (a Remote module without the calls: every failure read as before).
' renkei_xl.vba.sources writes both calls into the master's Remote, or neither.
Private renkeiStage As String
Private Const STAGE_PREPARING As String = "preparing"
Private Const STAGE_SENT As String = "sent"

Public Sub RenkeiCallServer(server As String, entry As String)
    Dim url As String, problem As String
    Dim headers As New Dictionary
    Dim number As Long, description As String
    Dim events As Boolean, unguarded As String, unprotected As Long, cancelKey As Long
    Dim wb As Workbook
    url = server
    If Right(url, 1) = "/" Then url = Left(url, Len(url) - 1)
    url = url & "/buttons/" & entry
    ' The master, never ActiveWorkbook: a button of the macro list (Alt+F8) or of the toolbar
    ' runs while another book is in front, and RunServerPython sends and writes that one.
    Set wb = ThisWorkbook
    problem = RenkeiLeftOut(GetConfig("INCLUDE", ""), GetConfig("EXCLUDE", ""))
    If problem = "" Then problem = RenkeiUnready(wb, entry)
    If problem = "" Then problem = RenkeiUncountable(wb)
    If problem <> "" Then
        MsgBox problem, vbCritical, RenkeiText(MSG_TITLE)
        Exit Sub
    End If
    headers.Add "X-Renkei-Client", RENKEI_CLIENT_VERSION
    headers.Add "X-Renkei-User", RenkeiHex(Application.UserName)
    Set renkeiLifted = New Collection
    Set renkeiProtectNew = New Collection
    renkeiRequestId = ""
    renkeiRefusal = ""
    renkeiStage = ""
    Dim exact As String, tabs As String
    headers.Add "X-Renkei-Master", RenkeiMasterId()
    headers.Add "X-Renkei-Chart-Sheets", RenkeiChartSheets(wb, tabs)
    headers.Add "X-Renkei-Tabs", tabs
    headers.Add "X-Renkei-Book", RenkeiBookState(wb)
    headers.Add "X-Renkei-Place", RenkeiHex(wb.FullName)
    headers.Add "X-Renkei-Percents", RenkeiPercents(wb, exact)
    headers.Add "X-Renkei-Currency", exact
    ' Staff's event procedures (a Worksheet_Change or Workbook_SheetChange that stamps a date,
    ' a Worksheet_Activate that selects a cell: upgrade-macros carries them) would run at every
    ' value the replay writes and every sheet RenkeiFreeze shows, writing cells the answer does
    ' not know or stopping it halfway: events are off while the answer is replayed, as Excel
    ' documents for a macro's own Save (Application.EnableEvents), and put back as they were.
    ' Esc or Ctrl+Break meanwhile: Excel's default (xlInterrupt) stops the code in its "Code
    ' execution has been interrupted" box, whose End ends every procedure without running its
    ' handler: the sheets renkeiUnprotectSheets lifted stayed unprotected, events stayed off for
    ' the rest of the session, and no box said the book was half written. The key is off
    ' (xlDisabled) until protection and events are back, then as it was: the wait is bounded by
    ' TIMEOUT and the replay by the answer (Excel resets the key itself once no code runs).
    cancelKey = RenkeiCancelKey(CANCEL_KEY_DISABLED)
    events = Application.EnableEvents
    Application.EnableEvents = False
    On Error GoTo Failed
    RunServerPython url, headers:=headers
    On Error GoTo 0
    Application.EnableEvents = events
    ' The answer ran; a sheet left open is what staff read, and what the server's log says.
    unguarded = RenkeiRestoreProtection(wb, unprotected)
    RenkeiCancelKey cancelKey
    If unguarded <> "" Then
        RenkeiReport url, unprotected, unguarded
        MsgBox unguarded, vbExclamation, RenkeiText(MSG_TITLE)
    End If
    Exit Sub
Failed:
    number = Err.Number
    description = Err.Description
    On Error GoTo 0
    Application.EnableEvents = events
    unguarded = RenkeiRestoreProtection(wb, unprotected)
    RenkeiCancelKey cancelKey
    If unguarded <> "" Then MsgBox unguarded, vbExclamation, RenkeiText(MSG_TITLE)
    If RenkeiIsConnectionError(number) And renkeiStage <> STAGE_PREPARING Then
        MsgBox RenkeiFormat(RenkeiText(MSG_CONNECT), url) & vbLf & vbLf & description, _
            vbCritical, RenkeiText(MSG_TITLE)
    Else
        If renkeiRefusal <> "" Then description = renkeiRefusal
        ' A click Remote.bas never sent is not the server's to log: it would read as an answer
        ' Excel could not replay, for a request the server never received.
        If renkeiStage <> STAGE_PREPARING Then RenkeiReport url, number, description
        MsgBox RenkeiFailure(entry, number, description), vbCritical, RenkeiText(MSG_TITLE)
    End If
End Sub

Function RenkeiCancelKey(ByVal how As Long) As Long
    ' Application.EnableCancelKey set to how; what it was (xlInterrupt where the host lacks the
    ' property: LibreOffice, the test bench, keeps its own).
    RenkeiCancelKey = 1  ' xlInterrupt
    On Error Resume Next
    RenkeiCancelKey = Application.EnableCancelKey
    Application.EnableCancelKey = how
End Function

' Remote.bas' RunServerPython calls this on its first line (renkei_xl.vba.sources writes the call):
' from here until RenkeiSending, an error is Excel's own, met preparing the book to send.
Public Sub RenkeiPreparing()
    renkeiStage = STAGE_PREPARING
End Sub

' Remote.bas' RunServerPython calls this just before WebClient.Execute: VBA-Web turns the payload
' into JSON when its Body is first read and keeps the text for Execute, so an error converting it
' is met here, still preparing. From here on the request may have reached the server.
Public Sub RenkeiSending(ByVal request As Object)
    Dim body As Variant
    body = request.Body
    renkeiStage = STAGE_SENT
End Sub

Function RenkeiFailure(ByVal entry As String, ByVal number As Long, ByVal description As String) As String
    ' What staff read when the replay stopped: the refusal alone when renkeiUnprotectSheets
    ' stopped it (nothing was written), else Excel's error and the request number.
    ' Every answer starts with renkeiRequest: without its number, no action ran and nothing
    ' was written; VBA-Web leaves Data empty for a body that is not JSON (error 91 on it).
    ' Stopped before Remote.bas sent the book (STAGE_PREPARING): Excel's error, nothing sent.
    If renkeiRefusal <> "" Then
        RenkeiFailure = renkeiRefusal & RenkeiFormat(RenkeiText(MSG_REQUEST), renkeiRequestId)
    ElseIf renkeiStage = STAGE_PREPARING Then
        RenkeiFailure = RenkeiFormat(RenkeiText(MSG_NOT_PREPARED), RenkeiCaption(entry), CStr(number), description)
    ElseIf renkeiRequestId = "" Then
        RenkeiFailure = RenkeiFormat(RenkeiText(MSG_UNREADABLE), RenkeiCaption(entry), CStr(number), description)
    Else
        RenkeiFailure = RenkeiFormat(RenkeiText(MSG_FAILED_1), RenkeiCaption(entry), CStr(number), description) _
            & RenkeiFormat(RenkeiText(MSG_REQUEST), renkeiRequestId) _
            & vbLf & vbLf & RenkeiText(MSG_FAILED_2)
    End If
End Function

Sub RenkeiReport(url As String, ByVal number As Long, ByVal description As String)
    ' Tells the server what Excel did with its answer, so its log says what staff saw.
    ' Best effort: the staff's message waits for it at most TimeoutMs and does not depend on it. It goes the
    ' way the click went (RenkeiConnection), or it would not arrive where the click did.
    Dim client As New WebClient
    Dim request As New WebRequest
    Dim body As New Dictionary
    Dim auth As String
    On Error GoTo Done
    body.Add "request", renkeiRequestId
    body.Add "error", number
    body.Add "description", description
    client.BaseUrl = url & "/outcome"
    client.TimeoutMs = 5000
    RenkeiConnection client
    request.Method = WebMethod.HttpPost
    request.Format = WebFormat.Json
    Set request.Body = body
    ' Remote.bas' key: AUTH, else the older API_KEY row.
    auth = GetConfig("AUTH", "")
    If auth = "" Then auth = GetConfig("API_KEY", "")
    request.AddHeader "Authorization", auth
    request.AddHeader "X-Renkei-User", RenkeiHex(Application.UserName)
    client.Execute request
Done:
End Sub

Sub RenkeiConnection(client As WebClient)
    ' The rows of xlwings.conf that RunServerPython (Remote.bas) connects with, read as it
    ' reads them: a proxy, or a certificate IT told it to accept, that the click needed to
    ' reach the server is needed by the report of its outcome too.
    Dim value As String
    value = GetConfig("PROXY_SERVER", "")
    If value <> "" Then client.proxyServer = value
    value = GetConfig("PROXY_BYPASS_LIST", "")
    If value <> "" Then client.proxyBypassList = value
    value = GetConfig("PROXY_USERNAME", "")
    If value <> "" Then client.proxyUsername = value
    value = GetConfig("PROXY_PASSWORD", "")
    If value <> "" Then client.proxyPassword = value
    value = GetConfig("ENABLE_AUTO_PROXY", False)
    If value <> False Then client.enableAutoProxy = value
    value = GetConfig("INSECURE", False)
    If value <> False Then client.insecure = value
    value = GetConfig("FOLLOW_REDIRECTS", False)
    If value <> False Then client.followRedirects = value
End Sub

Sub renkeiRequest(wb As Workbook, action As Dictionary)
    ' The first action of every answer: the server's request number for this click.
    renkeiRequestId = action("args")(1)
End Sub

Function RenkeiIsConnectionError(ByVal number As Long) As Boolean
    ' WebClient raises 11010-11013 + vbObjectError, and WinHTTP/cURL errors as
    ' 12xxx + &H30000 + vbObjectError (VBA-Web's WebClient.cls).
    Dim code As Long
    code = number - RENKEI_OBJECT_ERROR
    If code >= 11010 And code <= 11013 Then RenkeiIsConnectionError = True
    code = code - &H30000
    If code >= 12000 And code <= 12200 Then RenkeiIsConnectionError = True
End Function

Function RenkeiLeftOut(ByVal include As String, ByVal exclude As String) As String
    ' Remote.bas sends an empty sheet for each sheet xlwings.conf's INCLUDE leaves out or EXCLUDE
    ' names, and the server would read it as empty (a municipality's figures as missing, its
    ' results written so); with both rows it showed English ("Either use 'include' or
    ' 'exclude', but not both!"). The tool reads every sheet: either row is refused ("": none).
    Dim rows As String
    If include <> "" Then rows = "INCLUDE"
    If exclude <> "" Then
        If rows <> "" Then rows = rows & ChrW(&H30FB)
        rows = rows & "EXCLUDE"
    End If
    If rows <> "" Then RenkeiLeftOut = RenkeiFormat(RenkeiText(MSG_LEFT_OUT), rows)
End Function

Function RenkeiChartSheets(wb As Workbook, tabs As String) As String
    ' The tab positions (from 0) of the sheets Remote.bas does not send: it sends each name's
    ' sheet as RefersToRange.Parent.Index - 1, which counts every tab, but only wb.Worksheets,
    ' so the server counts a name's sheet among the worksheets again (sheet_positions). Chart
    ' and dialog sheets, and Excel 4.0 macro sheets too: Worksheets leaves those out though
    ' their TypeName is "Worksheet", so each tab is matched against Worksheets by name, in order.
    ' tabs: X-Renkei-Tabs, the names of the same tabs (RenkeiTabsAdd), which no sheet the
    ' answer adds may take: Excel holds one sheet of a name over every tab.
    Dim i As Long, sent As Long, isSent As Boolean, found As String
    sent = 1
    tabs = TABS_VERSION
    For i = 1 To wb.Sheets.Count
        isSent = False
        If sent <= wb.Worksheets.Count Then isSent = (wb.Worksheets(sent).Name = wb.Sheets(i).Name)
        If isSent Then
            sent = sent + 1
        Else
            If found <> "" Then found = found & ","
            found = found & CStr(i - 1)
            tabs = RenkeiTabsAdd(tabs, wb.Sheets(i).Name)
        End If
    Next i
    RenkeiChartSheets = found
End Function

Function RenkeiTabsAdd(ByVal tabs As String, ByVal name As String) As String
    ' X-Renkei-Tabs with one more name: ";" and the name as UTF-16 hex (RenkeiHex); TABS_OVERFLOW
    ' once the whole would pass TABS_MAX characters, and from then on.
    If tabs <> TABS_OVERFLOW Then tabs = tabs & ";" & RenkeiHex(name)
    If Len(tabs) > TABS_MAX Then tabs = TABS_OVERFLOW
    RenkeiTabsAdd = tabs
End Function

Function RenkeiUnready(wb As Workbook, ByVal entry As String) As String
    ' What Remote.bas and Excel need of the book before the button entry sends it ("": ready).
    ' RunServerPython sends and replays ActiveWorkbook: the master is brought to the front
    ' (a window staff hid cannot be, and is named). Sheets staff grouped (tabs ctrl-clicked,
    ' [Group] in the title bar) are ungrouped, as clicking one tab does: Excel offers no
    ' protection, filter, conditional format or panes for a group (docs/excel-model.md).
    ' A legacy shared workbook is refused to the buttons that write into it (BOOK_WRITERS):
    ' there Excel unprotects no sheet and merges no cells, so their answer would stop at its
    ' first action, read as a password. The buttons that make files only read the book.
    ' Each property is read into a variable under On Error Resume Next: an error in an If
    ' condition would run its Then branch, and LibreOffice lacks some of them.
    Dim isShared As Boolean, isFront As Boolean, grouped As Long, calculation As Long
    On Error Resume Next
    ' The values Excel shows after F9: with calculation set to manual (by staff, or by the first
    ' book opened in the session), a formula shows its last result, which Remote.bas would
    ' send; the command line reads the master as Excel calculated it before saving.
    calculation = Application.Calculation
    If calculation = -4135 Then Application.Calculate  ' xlCalculationManual
    isShared = wb.MultiUserEditing
    ' By name: Excel opens no two books of one name, and LibreOffice gives each call its own
    ' wrapper of the same book, which Is tells apart.
    If ActiveWorkbook.Name <> wb.Name Then wb.Activate
    isFront = (ActiveWorkbook.Name = wb.Name)
    grouped = ActiveWindow.SelectedSheets.Count
    If isFront And grouped > 1 Then
        ActiveSheet.Select
        grouped = ActiveWindow.SelectedSheets.Count
    End If
    On Error GoTo 0
    If isShared And InStr(BOOK_WRITERS, "," & entry & ",") > 0 Then
        RenkeiUnready = RenkeiText(MSG_SHARED)
    ElseIf Not isFront Then
        RenkeiUnready = RenkeiText(MSG_NOT_FRONT)
    ElseIf grouped > 1 Then
        RenkeiUnready = RenkeiText(MSG_GROUPED)
    End If
End Function

Function RenkeiUncountable(wb As Workbook) As String
    ' What Remote.bas cannot count in Integer, named before sending: a sheet's used range or
    ' shapes, the book's names. Past them it stops with error 6 (overflow) before it sends.
    Dim ws As Worksheet
    Dim lastRow As Long, lastCol As Long, count As Long
    count = wb.Names.Count
    If count > RENKEI_MAX_ITEMS Then
        RenkeiUncountable = RenkeiFormat(RenkeiText(MSG_TOO_MANY_NAMES), CStr(count))
        Exit Function
    End If
    For Each ws In wb.Worksheets
        With ws.UsedRange
            lastRow = .Row + .Rows.Count - 1
            lastCol = .Column + .Columns.Count - 1
        End With
        If lastRow > RENKEI_MAX_COUNT Or lastCol > RENKEI_MAX_COUNT Then
            RenkeiUncountable = RenkeiFormat(RenkeiText(MSG_TOO_MANY), ws.Name, CStr(lastRow), CStr(lastCol))
            Exit Function
        End If
        count = ws.Shapes.Count
        If count > RENKEI_MAX_ITEMS Then
            RenkeiUncountable = RenkeiFormat(RenkeiText(MSG_TOO_MANY_SHAPES), ws.Name, CStr(count))
            Exit Function
        End If
    Next ws
End Function

Function RenkeiCaption(ByVal entry As String) As String
    Select Case entry
    Case "check": RenkeiCaption = RenkeiText("5165529B30C130A730C330AF")
    Case "recalc": RenkeiCaption = RenkeiText("8A554FA13092518D8A087B97")
    Case "split": RenkeiCaption = RenkeiText("914D5E03752830D530A130A430EB4F5C6210")
    Case "collect": RenkeiCaption = RenkeiText("56DE53CE30D530A130A430EB53D68FBC")
    Case "export": RenkeiCaption = RenkeiText("78BA5B9A7248309266F8304D51FA3057")
    Case "rollover": RenkeiCaption = RenkeiText("6B215E745EA6306E30DE30B930BF30FC30924F5C6210")
    Case Else: RenkeiCaption = entry
    End Select
End Function

' The title of every box of the buttons' server path, Remote.bas' refusal boxes too
' (renkei_xl.vba.sources gives them this call in place of xlwings' "Error").
Public Function RenkeiTitle() As String
    RenkeiTitle = RenkeiText(MSG_TITLE)
End Function

Public Function RenkeiNoAnswer(ByVal url As String, ByVal status As Long, ByVal description As String) As String
    ' What Remote.bas' RunServerPython shows for an answer without text (the master's Remote
    ' calls it: renkei_xl.vba.sources). VBA-Web's WebClient.Execute turns WinHTTP's (or cURL's)
    ' timeout, unresolved name and refused connection (12002, 12007, 12029) into a 408 of its
    ' own, not an error RenkeiCallServer could catch, and Remote.bas showed its English
    ' "Request Timeout: ... (408)" when the server was down. The server answers every other
    ' status with text: one without came from something else ("Bad Gateway (502)").
    If status = 408 Then
        RenkeiNoAnswer = RenkeiFormat(RenkeiText(MSG_NO_ANSWER), url) & vbLf & vbLf & description
    Else
        RenkeiNoAnswer = RenkeiFormat(RenkeiText(MSG_NOT_OURS), url, CStr(status), description)
    End If
End Function

Public Function RenkeiServerSaid(ByVal url As String, ByVal status As Long, ByVal description As String, _
        headers As Collection, ByVal content As String) As String
    ' What Remote.bas' RunServerPython shows for an answer with text that is not 200 (the
    ' master's Remote calls it with its WebResponse's parts). The server's refusals are its plain
    ' text in staff's words, shown as they are; a proxy's or gateway's page (HTML, 407, 502) or
    ' another web server's JSON at that address was shown raw, in English, as if the tool said it.
    If InStr(LCase(RenkeiHeader(headers, "Content-Type")), SERVER_TEXT) = 1 Then
        RenkeiServerSaid = content
    Else
        RenkeiServerSaid = RenkeiFormat(RenkeiText(MSG_NOT_OURS), url, CStr(status), description)
    End If
End Function

Function RenkeiHeader(headers As Collection, ByVal name As String) As String
    ' A header of VBA-Web's answer (Key/Value pairs); "" when absent. LCase, not vbTextCompare:
    ' LibreOffice's VBA mode, the test bench, lacks the constant.
    Dim header As Variant
    On Error Resume Next
    For Each header In headers
        If LCase(CStr(header("Key"))) = LCase(name) Then RenkeiHeader = CStr(header("Value"))
    Next header
End Function

' What the payload cannot say and the server needs when the open book differs from the saved
' master (renkei_xl.server.book_state): unsaved changes (save, then press again) or a copy
' older than the saved master (do not save over a colleague's work). A property the host
' lacks is sent empty (LibreOffice has no Workbook.ReadOnly): the server then gives both steps.
Function RenkeiBookState(wb As Workbook) As String
    Dim isSaved As String, isReadOnly As String
    On Error Resume Next
    isSaved = IIf(wb.Saved, "1", "0")
    isReadOnly = IIf(wb.ReadOnly, "1", "0")
    On Error GoTo 0
    RenkeiBookState = "saved=" & isSaved & "; read-only=" & isReadOnly
End Function

' What X-Renkei-Percents says: PERCENTS_VERSION, then for each sheet and each number format
' holding a percent sign (anywhere: the server's core decides whether the number shows as a
' percent) ";" sheet name "/" format (both as UTF-16 hex, RenkeiHex) "/" the cells holding a
' number in that format, A1 references joined by ",", a run of such cells down a column as
' "E2:E70"; ";" sheet name "/" PERCENTS_UNKNOWN for a sheet whose formats could not be read
' (the server reads that sheet alone as before); PERCENTS_OVERFLOW where the whole would pass
' PERCENTS_MAX characters. Every Worksheet (Remote.bas' sheets): which sheets a percent is
' read on is the server's rule (renkei_xl.core.percent_cells.read_on).
' The same walk sets exact to X-Renkei-Currency: CURRENCY_VERSION, then for each sheet ";"
' sheet name (RenkeiHex) "/" the cells whose Value is a Currency other than their Value2, each
' "E12=" and the Value2's bits (RenkeiDoubleHex), joined by ","; ";" sheet "/" CURRENCY_UNKNOWN
' for a sheet whose part did not fit or could not be read; CURRENCY_OVERFLOW where even that
' would pass CURRENCY_MAX characters. Which sheets are read, and whether a number is taken, is
' the server's rule (renkei_xl.excel.remote, renkei_xl.core.currency).
Function RenkeiPercents(wb As Workbook, exact As String) As String
    Dim ws As Worksheet, out As String, part As String, walked As Long, sheetExact As String
    out = PERCENTS_VERSION
    exact = CURRENCY_VERSION
    For Each ws In wb.Worksheets
        If out = PERCENTS_OVERFLOW And exact = CURRENCY_OVERFLOW Then Exit For
        ' a room below 0: the percents have overflowed, the walk goes on for the Currency cells
        part = RenkeiSheetPercents(ws, IIf(out = PERCENTS_OVERFLOW, -1, PERCENTS_MAX - Len(out)), walked, _
            sheetExact, IIf(exact = CURRENCY_OVERFLOW, -1, CURRENCY_MAX - Len(exact)))
        If out <> PERCENTS_OVERFLOW Then
            If part = PERCENTS_OVERFLOW Then out = PERCENTS_OVERFLOW Else out = out & part
        End If
        If exact <> CURRENCY_OVERFLOW Then
            If sheetExact = CURRENCY_OVERFLOW Then exact = CURRENCY_OVERFLOW Else exact = exact & sheetExact
        End If
    Next ws
    RenkeiPercents = out
End Function

Function RenkeiSheetPercents(ws As Worksheet, ByVal room As Long, walked As Long, _
        exact As String, ByVal exactRoom As Long) As String
    ' The sheet's part of RenkeiPercents ("" none), its PERCENTS_UNKNOWN part, or
    ' PERCENTS_OVERFLOW past room characters; walked counts the cells read one by one in the book.
    ' exact: the sheet's part of X-Renkei-Currency ("" none; its CURRENCY_UNKNOWN part past
    ' exactRoom characters; CURRENCY_OVERFLOW where that too would). A room below 0: that part
    ' is not wanted (the whole has overflowed), and is not made.
    ' Only property reads, which Excel allows on a protected sheet (the tool's sheets are
    ' protected): SpecialCells, which is widely reported to raise 1004 there, made every click
    ' of a server master send the overflow. Each column of the used range is one NumberFormat
    ' read: one without a percent sign is passed over; in one holding a percent sign, or mixed
    ' (Null), the runs of cells holding a number (its values read at once) are found and each
    ' run's NumberFormat read; a run of mixed formats is walked cell by cell, at most
    ' PERCENTS_WALK_SHEET cells a sheet and PERCENTS_WALK_BOOK a book. Any error, or a bound
    ' passed, leaves this sheet not known, never the book. The Currency cells are found in the
    ' same columns: the values of a column of one format other than General are read too (no
    ' number in General is a Currency); the column's Value2 is read only where a Currency is
    ' (RenkeiCurrencyCells). Past the bound of cells
    ' read one by one, only the percents of the sheet are not known; an error leaves both so.
    Dim area As Range, col As Range, vals As Variant, fmt As Variant, runFormat As Variant
    Dim percents As Boolean, pctUnknown As Boolean, pctOverflow As Boolean, exactDone As Boolean
    Dim fmts() As String, refs() As String, n As Long, used As Long, i As Long
    Dim top As Long, left As Long, nRows As Long, c As Long, r As Long, first As Long, own As Long
    Dim runFmt As String, runFirst As Range, runLast As Range, cell As Range, sheetHex As String
    ReDim fmts(0 To 0)
    ReDim refs(0 To 0)
    exact = ""
    exactDone = exactRoom < 0
    pctUnknown = room < 0
    sheetHex = RenkeiHex(ws.Name)
    On Error GoTo Unknown
    Set area = ws.UsedRange
    top = area.Row
    left = area.Column
    nRows = area.Rows.Count
    For c = 1 To area.Columns.Count
        Set col = area.Columns(c)
        fmt = col.NumberFormat
        percents = Not pctUnknown
        If percents And Not IsNull(fmt) Then percents = InStr(fmt, "%") > 0
        If Not percents Then
            If exactDone Then GoTo NextColumn
            If Not IsNull(fmt) Then
                If fmt = "General" Then GoTo NextColumn
            End If
        End If
        vals = RenkeiColumnValues(col, nRows, False)
        If Not exactDone Then
            If Not RenkeiCurrencyCells(col, vals, nRows, sheetHex, exact, exactRoom) Then
                exactDone = True
                exact = ";" & sheetHex & "/" & CURRENCY_UNKNOWN
                If Len(exact) > exactRoom Then exact = CURRENCY_OVERFLOW
            End If
        End If
        If Not percents Then GoTo NextColumn
        r = 1
        Do While r <= nRows
            If RenkeiIsNumber(vals(r, 1)) Then
                first = r
                Do While r < nRows
                    If Not RenkeiIsNumber(vals(r + 1, 1)) Then Exit Do
                    r = r + 1
                Loop
                runFormat = fmt
                If IsNull(runFormat) Then runFormat = ws.Range(ws.Cells(top + first - 1, left + c - 1), _
                    ws.Cells(top + r - 1, left + c - 1)).NumberFormat
                If Not IsNull(runFormat) Then
                    used = RenkeiPercentAdd(fmts, refs, n, used, sheetHex, CStr(runFormat), _
                        ws.Cells(top + first - 1, left + c - 1), ws.Cells(top + r - 1, left + c - 1))
                Else
                    own = own + r - first + 1
                    walked = walked + r - first + 1
                    If own > PERCENTS_WALK_SHEET Or walked > PERCENTS_WALK_BOOK Then
                        pctUnknown = True
                        GoTo NextColumn
                    End If
                    Set runFirst = Nothing
                    For i = first To r
                        Set cell = ws.Cells(top + i - 1, left + c - 1)
                        runFormat = cell.NumberFormat
                        If runFirst Is Nothing Then
                            Set runFirst = cell
                        ElseIf CStr(runFormat) <> runFmt Then
                            used = RenkeiPercentAdd(fmts, refs, n, used, sheetHex, runFmt, runFirst, runLast)
                            Set runFirst = cell
                        End If
                        runFmt = CStr(runFormat)
                        Set runLast = cell
                    Next i
                    used = RenkeiPercentAdd(fmts, refs, n, used, sheetHex, runFmt, runFirst, runLast)
                End If
                If used > room Then
                    pctOverflow = True
                    pctUnknown = True
                    GoTo NextColumn
                End If
            End If
            r = r + 1
        Loop
NextColumn:
    Next c
    On Error GoTo 0
    If room < 0 Then Exit Function
    If pctOverflow Then
        RenkeiSheetPercents = PERCENTS_OVERFLOW
    ElseIf pctUnknown Then
        RenkeiSheetPercents = ";" & sheetHex & "/" & PERCENTS_UNKNOWN
        If Len(RenkeiSheetPercents) > room Then RenkeiSheetPercents = PERCENTS_OVERFLOW
    Else
        For i = 1 To n
            RenkeiSheetPercents = RenkeiSheetPercents & ";" & sheetHex & "/" & RenkeiHex(fmts(i)) & "/" & refs(i)
        Next i
    End If
    Exit Function
Unknown:
    RenkeiSheetPercents = ";" & sheetHex & "/" & PERCENTS_UNKNOWN
    If Len(RenkeiSheetPercents) > room Then RenkeiSheetPercents = PERCENTS_OVERFLOW
    If room < 0 Then RenkeiSheetPercents = ""
    If exactRoom >= 0 Then
        exact = ";" & sheetHex & "/" & CURRENCY_UNKNOWN
        If Len(exact) > exactRoom Then exact = CURRENCY_OVERFLOW
    End If
End Function

Function RenkeiColumnValues(col As Range, ByVal nRows As Long, ByVal exact As Boolean) As Variant
    ' A column's Value, or its Value2 (exact), as an array (1 To nRows, 1 To 1): for one cell
    ' Excel gives the value alone, not in an array.
    Dim vals As Variant
    If nRows = 1 Then
        ReDim vals(1 To 1, 1 To 1)
        If exact Then vals(1, 1) = col.Value2 Else vals(1, 1) = col.Value
    ElseIf exact Then
        vals = col.Value2
    Else
        vals = col.Value
    End If
    RenkeiColumnValues = vals
End Function

Function RenkeiCurrencyCells(col As Range, vals As Variant, ByVal nRows As Long, _
        ByVal sheetHex As String, exact As String, ByVal exactRoom As Long) As Boolean
    ' Adds to exact (the sheet's part of X-Renkei-Currency) each cell of the column whose Value
    ' (vals) is a Currency other than its Value2, read once for the column and only where a
    ' Currency is: LibreOffice, the test bench, has no Value2 and gives no Currency. False when
    ' the part passes exactRoom characters. Every cell is looked at, a column of one format too:
    ' past Currency's range Excel's Value may be a Double among Currency numbers.
    Dim r As Long, exacts As Variant, v As Variant, entry As String
    RenkeiCurrencyCells = True
    For r = 1 To nRows
        If VarType(vals(r, 1)) = vbCurrency Then
            If IsEmpty(exacts) Then
                exacts = RenkeiColumnValues(col, nRows, True)
            End If
            v = exacts(r, 1)
            entry = RenkeiCurrencyEntry(col.Cells(r, 1).Address(False, False), vals(r, 1), v)
            If entry <> "" Then
                If exact = "" Then exact = ";" & sheetHex & "/" & entry Else exact = exact & "," & entry
                If Len(exact) > exactRoom Then
                    RenkeiCurrencyCells = False
                    Exit Function
                End If
            End If
        End If
    Next r
End Function

Function RenkeiCurrencyEntry(ByVal ref As String, shown As Variant, stored As Variant) As String
    ' "E12=" and the bits of stored (Value2, a Double) where shown (Value, VBA's Currency) is
    ' another number; "" where they are one number, or stored is no Double.
    If VarType(stored) <> vbDouble Then Exit Function
    If CDbl(shown) = stored Then Exit Function
    RenkeiCurrencyEntry = ref & "=" & RenkeiDoubleHex(stored)
End Function

Function RenkeiDoubleHex(ByVal x As Double) As String
    ' The IEEE 754 bits of x as 16 hex digits, sign first: CStr, Str and Format give 15 significant
    ' digits, not the Double. Found by arithmetic alone (no Type and LSet), each step exact: x
    ' halved or doubled (a power of two) until it is an integer m of 53 bits (m * 2 ^ e), or a
    ' subnormal's multiple of 2 ^ -1074; then m's digits by division by 16.
    Dim top As Long, e As Long, m As Double, two52 As Double, i As Long, d As Double, out As String
    two52 = 2 ^ 52
    If x < 0 Then
        top = 2048
        x = -x
    End If
    If x = 0 Then
        RenkeiDoubleHex = IIf(top = 0, "0", "8") & String(15, "0")
        Exit Function
    End If
    m = x
    Do While m >= two52 * 2
        m = m / 2
        e = e + 1
    Loop
    Do While m < two52 And e > -1074
        m = m * 2
        e = e - 1
    Loop
    If m >= two52 Then
        top = top + e + 1075
        m = m - two52
    End If
    For i = 1 To 13
        d = m - Int(m / 16) * 16
        out = Mid("0123456789ABCDEF", d + 1, 1) & out
        m = Int(m / 16)
    Next i
    RenkeiDoubleHex = Mid("0123456789ABCDEF", top \ 256 + 1, 1) & Mid("0123456789ABCDEF", (top \ 16) Mod 16 + 1, 1) _
        & Mid("0123456789ABCDEF", top Mod 16 + 1, 1) & out
End Function

' Whether a cell's Value is a number as the payload carries one (Remote.bas sends a date as
' text, a logical as true/false): the cells whose format the server may take.
Function RenkeiIsNumber(v As Variant) As Boolean
    Select Case VarType(v)
    Case vbDouble, vbCurrency, vbInteger, vbLong, vbSingle, vbDecimal
        RenkeiIsNumber = True
    End Select
End Function

Function RenkeiPercentAdd(fmts() As String, refs() As String, n As Long, ByVal used As Long, _
        ByVal sheetHex As String, ByVal fmt As String, first As Range, last As Range) As Long
    ' Adds the block from first to last (last Nothing: first is the block) under fmt when fmt
    ' has a percent sign; the characters of the sheet's part so far.
    Dim i As Long, ref As String
    RenkeiPercentAdd = used
    If InStr(fmt, "%") = 0 Then Exit Function
    ref = first.Address(False, False)
    If Not last Is Nothing Then
        If last.Address(False, False) <> ref Then ref = ref & ":" & last.Address(False, False)
    End If
    For i = 1 To n
        If fmts(i) = fmt Then
            refs(i) = refs(i) & "," & ref
            RenkeiPercentAdd = used + Len(ref) + 1
            Exit Function
        End If
    Next i
    n = n + 1
    ReDim Preserve fmts(0 To n)
    ReDim Preserve refs(0 To n)
    fmts(n) = fmt
    refs(n) = ref
    RenkeiPercentAdd = used + Len(sheetHex) + 4 * Len(fmt) + Len(ref) + 3
End Function

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

Function RenkeiFormat(ByVal text As String, ParamArray values() As Variant) As String
    ' Each "{k}" of text filled with values(k), in one pass: a value is never filled in turn.
    ' Replacing "{0}", then "{1}" in the result, turned a sheet staff named "{1}" (or Excel's
    ' text holding one) into the next value, and the box named another sheet.
    Dim i As Long, at As Long, mark As String, out As String, filled As Boolean
    at = 1
    Do While at <= Len(text)
        filled = False
        If Mid(text, at, 1) = "{" Then
            For i = LBound(values) To UBound(values)
                mark = "{" & CStr(i) & "}"
                If Mid(text, at, Len(mark)) = mark Then
                    out = out & CStr(values(i))
                    at = at + Len(mark)
                    filled = True
                    Exit For
                End If
            Next i
        End If
        If Not filled Then
            out = out & Mid(text, at, 1)
            at = at + 1
        End If
    Loop
    RenkeiFormat = out
End Function

' ------------------------------------------------------------------ protection

Sub renkeiUnprotectSheets(wb As Workbook, action As Dictionary)
    ' args(1): the sheets this click writes; args(2): the tool's sheets it protects afterwards
    ' (those not in the book yet, it adds); args(3): how those are protected, Protect's
    ' arguments by name; args(4): the refusals in staff's words by reason ("{0}": the sheets,
    ' or the cells); args(5), from version 8: the cells the click writes values into on staff's
    ' sheets, checked before anything is lifted or written (RenkeiCheckWritten).
    Dim sheetName As Variant, o As Variant
    Dim adding As String
    Dim lifted As Boolean
    Dim ws As Worksheet
    Dim refusals As Object
    If renkeiLifted Is Nothing Then Set renkeiLifted = New Collection
    If renkeiProtectNew Is Nothing Then Set renkeiProtectNew = New Collection
    If action("args").Count >= 3 Then Set renkeiNewOptions = action("args")(3)
    If action("args").Count >= 4 Then Set refusals = action("args")(4)
    For Each sheetName In action("args")(2)
        renkeiProtectNew.Add CStr(sheetName)
        If RenkeiSheet(wb, CStr(sheetName)) Is Nothing Then
            If adding <> "" Then adding = adding & RenkeiText(SHEET_JOIN)
            adding = adding & CStr(sheetName)
        End If
    Next sheetName
    ' Excel adds no sheet to a book whose structure is protected (1004 at addSheet).
    If adding <> "" And wb.ProtectStructure Then RenkeiRefuse refusals, "structure", adding
    If action("args").Count >= 5 Then RenkeiCheckWritten wb, action("args")(5), refusals
    For Each sheetName In action("args")(1)
        Set ws = RenkeiSheet(wb, CStr(sheetName))
        If Not ws Is Nothing Then
            If ws.ProtectContents Then
                o = RenkeiProtection(ws)
                ' An explicit empty password: a sheet protected with a password raises an error
                ' here, where Unprotect without one would ask staff for it in a dialog.
                On Error Resume Next
                ws.Unprotect ""
                lifted = (Err.Number = 0)
                On Error GoTo 0
                If Not lifted Then RenkeiRefuse refusals, "password", ws.Name
                renkeiLifted.Add o
            End If
        End If
    Next sheetName
End Sub

Sub RenkeiCheckWritten(wb As Workbook, written As Object, refusals As Object)
    ' What Excel refuses halfway through the replay (1004), met before anything is written: a
    ' cell the click writes a value into (written: [sheet, [address, ...]] pairs, one rectangle
    ' an address) that is in the hidden part of a merged area (not its MergeArea's first cell) or
    ' is its first cell written with its row's neighbours while the area reaches past them,
    ' in a What-If data table's results (a formula "=TABLE(...)") or in an array formula, in the
    ' open book. The server knows these from the master as last saved; this finds the ones staff
    ' made since. Property reads only (never SpecialCells, which Excel refuses on a protected
    ' sheet): each range's MergeCells and HasFormula, False when no cell of it is merged or holds
    ' a formula (an array formula and a data table are formulas); only a range where one is True
    ' or Null (mixed) has its cells read one by one, at most WRITTEN_WALK in a click: MergeArea,
    ' then Formula (a data table's results read "=TABLE(...)") and HasArray. A range
    ' that cannot be read, or cells past the walk, are left unchecked (as before this check):
    ' the check itself never stops a click. Each read goes into a variable under On Error
    ' Resume Next: an error in an If condition would run its Then branch.
    Dim entry As Variant, address As Variant, ws As Worksheet, area As Range, cell As Range
    Dim merged As Variant, formulas As Variant, walkMerged As Boolean, walkFormulas As Boolean
    Dim hits(1 To 4) As String, counts(1 To 4) As Long, reasons As Variant
    Dim walked As Long, k As Long, r As Long, c As Long, cellHasFormula As Boolean, cellHasArray As Boolean
    Dim cellFormula As String, place As String, span As Long, wide As Long
    reasons = Split("merged data_table array merged_run", " ")
    On Error Resume Next
    For Each entry In written
        Set ws = Nothing
        Set ws = RenkeiSheet(wb, CStr(entry(1)))
        If Not ws Is Nothing Then
            For Each address In entry(2)
                Set area = Nothing
                merged = False
                formulas = False
                Set area = ws.Range(CStr(address))
                If Not area Is Nothing Then
                    merged = area.MergeCells
                    formulas = area.HasFormula
                End If
                walkMerged = False
                walkFormulas = False
                If IsNull(merged) Then walkMerged = True Else walkMerged = (merged = True)
                If IsNull(formulas) Then walkFormulas = True Else walkFormulas = (formulas = True)
                If walkMerged Or walkFormulas Then
                    For Each cell In area.Cells
                        walked = walked + 1
                        If walked > WRITTEN_WALK Then GoTo Checked
                        k = 0
                        place = ws.Name & "!" & cell.Address(False, False)
                        If walkMerged Then
                            r = 0
                            c = 0
                            r = cell.MergeArea.Row
                            c = cell.MergeArea.Column
                            If r > 0 And (r <> cell.Row Or c <> cell.Column) Then
                                k = 1
                            ElseIf r > 0 And area.Columns.Count > 1 Then
                                ' Its first cell, written in one range with its row's neighbours
                                ' (the server writes each row of a rectangle as one range): Excel
                                ' refuses it when the merge reaches below or past the range.
                                span = 0
                                wide = 0
                                span = cell.MergeArea.Rows.Count
                                wide = cell.MergeArea.Columns.Count
                                If span > 1 Or c + wide > area.Column + area.Columns.Count Then k = 4
                            End If
                            If k > 0 Then
                                place = place & ChrW(&HFF08) & cell.MergeArea.Address(False, False) & ChrW(&HFF09)
                            End If
                        End If
                        If k = 0 And walkFormulas Then
                            cellHasFormula = False
                            cellHasArray = False
                            cellFormula = ""
                            cellHasFormula = cell.HasFormula
                            If cellHasFormula Then
                                cellFormula = cell.Formula
                                cellHasArray = cell.HasArray
                                If Not cellHasArray Then
                                    ' LibreOffice (the test bench) lacks HasArray (423); its
                                    ' CurrentArray is the array, or the cell alone. Excel raises there.
                                    span = 0
                                    span = cell.CurrentArray.Cells.Count
                                    cellHasArray = (span > 1)
                                End If
                                If UCase(Left(cellFormula, 7)) = "=TABLE(" Then
                                    k = 2
                                ElseIf cellHasArray Then
                                    k = 3
                                End If
                            End If
                        End If
                        If k > 0 Then
                            counts(k) = counts(k) + 1
                            If counts(k) <= WRITTEN_SHOWN Then
                                If hits(k) <> "" Then hits(k) = hits(k) & ChrW(&H3001)
                                hits(k) = hits(k) & place
                            End If
                        End If
                    Next cell
                End If
            Next address
        End If
    Next entry
Checked:
    On Error GoTo 0
    For k = 1 To 4
        If counts(k) > 0 Then
            If counts(k) > WRITTEN_SHOWN Then
                hits(k) = hits(k) & RenkeiFormat(RenkeiText(MSG_MORE), CStr(counts(k) - WRITTEN_SHOWN))
            End If
            RenkeiRefuse refusals, CStr(reasons(k - 1)), hits(k)
        End If
    Next k
End Sub

Sub RenkeiRefuse(refusals As Object, ByVal reason As String, ByVal sheets As String)
    ' Stops the replay: the refusal the server sent for reason, its text as it is. A server that
    ' sent none for reason (older than this module, or no refusals at all): MSG_REFUSED_PLAIN with
    ' the places and the reason's name. Scripting.Dictionary gives Empty for a key it lacks, and
    ' an empty refusal read as an Excel error that may have half-written the book.
    ' RenkeiCallServer shows it and puts back what was lifted.
    Dim template As Variant
    If Not refusals Is Nothing Then
        On Error Resume Next
        template = refusals.Item(reason)
        On Error GoTo 0
    End If
    If VarType(template) = vbString Then renkeiRefusal = RenkeiFormat(CStr(template), sheets) Else renkeiRefusal = ""
    If renkeiRefusal = "" Then renkeiRefusal = RenkeiFormat(RenkeiText(MSG_REFUSED_PLAIN), sheets, reason)
    Err.Raise RENKEI_REFUSED, "RenkeiServer", renkeiRefusal
End Sub

Function RenkeiProtection(ws As Worksheet) As Variant
    ' Array(name, DrawingObjects, Scenarios, AllowFormattingCells, ..., AllowUsingPivotTables),
    ' in the order of Protect's arguments, as ws is protected now. LibreOffice's VBA mode
    ' (where the tests run this module) has no Protection object: there the Allow* options
    ' stay Excel's defaults, which its Protect ignores.
    Dim o As Variant
    o = RenkeiNamedProtection(ws, Nothing)
    o(1) = ws.ProtectDrawingObjects
    o(2) = ws.ProtectScenarios
    On Error GoTo Done
    With ws.Protection
        o(3) = .AllowFormattingCells
        o(4) = .AllowFormattingColumns
        o(5) = .AllowFormattingRows
        o(6) = .AllowInsertingColumns
        o(7) = .AllowInsertingRows
        o(8) = .AllowInsertingHyperlinks
        o(9) = .AllowDeletingColumns
        o(10) = .AllowDeletingRows
        o(11) = .AllowSorting
        o(12) = .AllowFiltering
        o(13) = .AllowUsingPivotTables
    End With
Done:
    RenkeiProtection = o
End Function

Function RenkeiNamedProtection(ws As Worksheet, named As Object) As Variant
    ' Array(name, options...) as RenkeiProtection has it, from Protect's arguments by name
    ' (Nothing: Excel's defaults, everything protected, nothing allowed).
    Dim o As Variant, names As Variant, k As Long
    o = Array(ws.Name, True, True, False, False, False, False, False, False, False, False, False, False, False)
    If Not named Is Nothing Then
        names = Split("DrawingObjects Scenarios AllowFormattingCells AllowFormattingColumns " & _
            "AllowFormattingRows AllowInsertingColumns AllowInsertingRows AllowInsertingHyperlinks " & _
            "AllowDeletingColumns AllowDeletingRows AllowSorting AllowFiltering AllowUsingPivotTables", " ")
        For k = 1 To 13
            o(k) = CBool(named.Item(names(k - 1)))
        Next k
    End If
    RenkeiNamedProtection = o
End Function

Sub RenkeiProtect(ws As Worksheet, o As Variant)
    ' Protect with the options of RenkeiProtection; raises what Protect raises.
    On Error GoTo NoAllow
    ws.Protect DrawingObjects:=o(1), Contents:=True, Scenarios:=o(2), _
        AllowFormattingCells:=o(3), AllowFormattingColumns:=o(4), AllowFormattingRows:=o(5), _
        AllowInsertingColumns:=o(6), AllowInsertingRows:=o(7), AllowInsertingHyperlinks:=o(8), _
        AllowDeletingColumns:=o(9), AllowDeletingRows:=o(10), AllowSorting:=o(11), _
        AllowFiltering:=o(12), AllowUsingPivotTables:=o(13)
    Exit Sub
NoAllow:
    ' 448, named argument not found: LibreOffice's Protect has no Allow* arguments.
    If Err.Number <> 448 Then Err.Raise Err.Number, Err.Source, Err.Description
    On Error GoTo 0
    ws.Protect DrawingObjects:=o(1), Contents:=True, Scenarios:=o(2)
End Sub

Function RenkeiRestoreProtection(wb As Workbook, number As Long) As String
    ' Every lifted sheet with its own options, then new tool sheets as the server said.
    ' A sheet that cannot be protected again is never left silently open: the text staff read
    ' ("": every sheet protected), each sheet named in its own brackets (a space between two
    ' names read as one sheet's name), and number: the last error of Protect.
    Dim o As Variant, sheetName As Variant
    Dim ws As Worksheet
    Dim failed As String
    If Not renkeiLifted Is Nothing Then
        For Each o In renkeiLifted
            Set ws = RenkeiSheet(wb, CStr(o(0)))
            If Not ws Is Nothing Then
                On Error Resume Next
                RenkeiProtect ws, o
                If Err.Number <> 0 Then
                    number = Err.Number
                    failed = RenkeiSheetsJoin(failed, CStr(o(0)))
                End If
                On Error GoTo 0
            End If
        Next o
    End If
    If Not renkeiProtectNew Is Nothing Then
        For Each sheetName In renkeiProtectNew
            Set ws = RenkeiSheet(wb, CStr(sheetName))
            If Not ws Is Nothing Then
                If Not ws.ProtectContents Then
                    On Error Resume Next
                    RenkeiProtect ws, RenkeiNamedProtection(ws, renkeiNewOptions)
                    If Err.Number <> 0 Then
                        number = Err.Number
                        failed = RenkeiSheetsJoin(failed, CStr(sheetName))
                    End If
                    On Error GoTo 0
                End If
            End If
        Next sheetName
    End If
    Set renkeiLifted = Nothing
    Set renkeiProtectNew = Nothing
    Set renkeiNewOptions = Nothing
    If failed <> "" Then RenkeiRestoreProtection = RenkeiFormat(RenkeiText(MSG_RESTORE), failed)
End Function

Function RenkeiSheetsJoin(ByVal sheets As String, ByVal sheetName As String) As String
    ' sheets with one more name, SHEET_JOIN between two, as a refusal names them.
    If sheets <> "" Then sheets = sheets & RenkeiText(SHEET_JOIN)
    RenkeiSheetsJoin = sheets & sheetName
End Function

Function RenkeiSheet(wb As Workbook, ByVal sheetName As String) As Worksheet
    On Error Resume Next
    Set RenkeiSheet = wb.Worksheets(sheetName)
    On Error GoTo 0
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

Sub renkeiClearFill(wb As Workbook, action As Dictionary)
    ' No fill: xlwings sends it as setRangeColor with null, which Remote.bas hands to
    ' HexToRgb, a String parameter (run-time error 94, the replay stopped halfway).
    GetRange(wb, action).Interior.ColorIndex = -4142 ' xlColorIndexNone
End Sub

Sub renkeiSetText(wb As Workbook, action As Dictionary)
    ' A string as it is, into a cell staff formatted as Text: Remote.bas' setValues hands every
    ' value to VBA-Web's ParseIso first, and "2024-3-31" or "05-1-2" would be written as a date.
    ' The server knows the saved master's formats: a cell set back to General since the save
    ' reads the string as typed ("3/5" a date), so there it goes with the text prefix.
    Dim rng As Range
    Dim text As String
    Set rng = GetRange(wb, action)
    text = CStr(action("args")(1))
    If rng.NumberFormat = "@" Then
        rng.Value = text
    Else
        rng.Value = "'" & text
    End If
End Sub

Sub renkeiSetNumbers(wb As Workbook, action As Dictionary)
    ' Numbers of the setValues before it, exactly: VBA-Web's JSON parser keeps a number of 16
    ' characters or more (0.30000000000000004) as a String, which Excel would read as typed
    ' (15 digits, or text in a Text cell). Each entry is (row, column) in the range and the
    ' number as (high * 2^26 + low) * 2^exponent, short integers the parser gives as Doubles:
    ' every step below is exact, so the cell gets the double the server computed.
    Dim rng As Range
    Dim entry As Variant
    Set rng = GetRange(wb, action)
    For Each entry In action("args")(1)
        rng.Cells(CLng(entry(1)) + 1, CLng(entry(2)) + 1).Value = _
            RenkeiExactNumber(CDbl(entry(3)), CDbl(entry(4)), CLng(entry(5)))
    Next entry
End Sub

Function RenkeiExactNumber(ByVal high As Double, ByVal low As Double, ByVal exponent As Long) As Double
    ' Halving or doubling one step at a time: exact down to the smallest subnormal, where
    ' VBA's ^ operator would round 2^exponent first.
    Dim value As Double
    Dim k As Long
    value = high * 67108864# + low
    For k = 1 To Abs(exponent)
        If exponent > 0 Then value = value * 2# Else value = value * 0.5
    Next k
    RenkeiExactNumber = value
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
    ' A sheet staff hid cannot be shown so (Activate raises 1004): its panes stay as they
    ' are, a look, and are set by the first click after it is shown again. So do the panes
    ' of a sheet staff look at in Page Layout view (shown as printed): Excel offers no
    ' freezing there, and what FreezePanes does then is not known (docs/excel-model.md,
    ' check 16); the view staff chose is kept.
    Dim before As Object
    Dim shown As Long
    If ws.Visible <> -1 Then Exit Sub  ' xlSheetVisible
    Set before = ws.Parent.ActiveSheet
    ws.Activate
    On Error Resume Next
    shown = ActiveWindow.View
    On Error GoTo 0
    If shown <> 3 Then  ' xlPageLayoutView
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
    End If
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

Sub renkeiAutoFilter(wb As Workbook, action As Dictionary)
    ' The plan's filter buttons (args: the address, or none), as the desktop faces put
    ' them: a filter staff set on the last run's list goes first. Left on, it kept the rows
    ' it had hidden hidden, and the new findings written into them out of sight.
    Dim ws As Worksheet
    Set ws = wb.Worksheets(action("sheet_position") + 1)
    If ws.AutoFilterMode Then ws.AutoFilterMode = False
    If Len(action("args")(1)) > 0 Then ws.Range(action("args")(1)).AutoFilter
End Sub

Sub renkeiPageBreaks(wb As Workbook, action As Dictionary)
    ' The plan's page breaks (renkei_xl.core.pages), the sheet's manual ones removed first:
    ' each number is the last row of a page. LibreOffice, the test bench, has no
    ' ResetAllPageBreaks (423) and runs the rest.
    Dim ws As Worksheet
    Dim last As Variant
    Set ws = wb.Worksheets(action("sheet_position") + 1)
    On Error Resume Next
    ws.ResetAllPageBreaks
    On Error GoTo 0
    For Each last In action("args")(1)
        ws.HPageBreaks.Add ws.Cells(CLng(last) + 1, 1)
    Next last
End Sub

Sub renkeiPageSetup(wb As Workbook, action As Dictionary)
    ' The plan's page, as the desktop buttons set it through COM: the arguments are the
    ' values of renkei_xl.excel.client.PAGE_SETUP_PROPERTIES, in that order (print titles
    ' "" for none, orientation, paper, pages wide and tall with False for "as needed",
    ' centring, the margins in points, the footer with Excel's codes). Zoom is turned off
    ' before the fit, which counts only then. A paper the printer driver lacks is refused by Excel with 1004
    ' ("Unable to set the PaperSize property"): the page keeps its paper and the replay
    ' goes on, as a paper is no reason to leave the rest of the answer unwritten.
    Dim a As Object
    Set a = action("args")
    With wb.Worksheets(action("sheet_position") + 1).PageSetup
        .PrintTitleRows = a(1)
        .Orientation = CLng(a(2))
        On Error Resume Next
        .PaperSize = CLng(a(3))
        On Error GoTo 0
        .Zoom = False
        .FitToPagesWide = a(4)
        .FitToPagesTall = a(5)
        .CenterHorizontally = a(6)
        .LeftMargin = CDbl(a(7))
        .RightMargin = CDbl(a(8))
        .TopMargin = CDbl(a(9))
        .BottomMargin = CDbl(a(10))
        .HeaderMargin = CDbl(a(11))
        .FooterMargin = CDbl(a(12))
        .CenterFooter = a(13)
    End With
End Sub

Sub setPrintArea(wb As Workbook, action As Dictionary)
    Dim area As Variant
    area = action("args")(1)
    If IsNull(area) Then area = ""
    wb.Worksheets(action("sheet_position") + 1).PageSetup.PrintArea = area
End Sub

Sub renkeiAddChart(wb As Workbook, action As Dictionary)
    ' One of the tool's charts (renkei_xl.excel.client.CHART_ARGUMENTS): the charts of the tool's
    ' name, and of the names an older version gave it (args 12), go first, so a second click
    ' draws it once; a chart of any other name, and any other shape, is the staff's and is left.
    ' They are found among the sheet's Shapes (a chart object is the shape of its name, Type
    ' msoChart): LibreOffice's ChartObjects(i) gives every chart its internal name back when it
    ' reads it, so a second click there found none (docs/excel-model.md). Then it is drawn as
    ' xlwings' Charts.add draws it on the desktop: the object at the anchor cell, the data by
    ' rows, the type, the style (a style this Excel lacks is left: the chart stays), the title,
    ' the legend, and last the categories of each series (LibreOffice has no SeriesCollection:
    ' there the rest is drawn before it stops, error 91). The sheet is lifted by
    ' renkeiUnprotectSheets first: Excel refuses a chart object on a sheet protected with
    ' DrawingObjects (1004).
    Dim ws As Worksheet
    Dim a As Object, co As Object, at As Range
    Dim i As Long
    Set ws = wb.Worksheets(action("sheet_position") + 1)
    Set a = action("args")
    For i = ws.Shapes.Count To 1 Step -1
        If ws.Shapes(i).Type = MSO_CHART Then
            If RenkeiToolChart(ws.Shapes(i).Name, a(1), a(12)) Then ws.Shapes(i).Delete
        End If
    Next i
    Set at = ws.Range(a(5))
    Set co = ws.ChartObjects.Add(at.Left, at.Top, CDbl(a(6)), CDbl(a(7)))
    co.Name = a(1)
    With co.Chart
        .SetSourceData ws.Range(a(3)), CLng(a(10))
        .ChartType = CLng(a(9))
        On Error Resume Next
        .ChartStyle = CLng(a(11))
        On Error GoTo 0
        .HasTitle = True
        .ChartTitle.Text = a(2)
        .HasLegend = a(8)
        For i = 1 To .SeriesCollection.Count
            .SeriesCollection(i).XValues = ws.Range(a(4))
        Next i
    End With
End Sub

Function RenkeiToolChart(ByVal name As String, ByVal toolName As String, older As Object) As Boolean
    ' Whether a chart object of this name is the tool's (renkeiAddChart's arguments).
    Dim n As Variant
    RenkeiToolChart = (name = toolName)
    For Each n In older
        If name = n Then RenkeiToolChart = True
    Next n
End Function
