"""Schema-aware damage to one part of a master at a time: definedName texts and names,
sqref/ref of mergeCells, conditionalFormatting, dataValidations and hyperlinks, formulas in
a sheet, pageSetup/printOptions/headerFooter, sheetProtection, cols, calcPr/workbookPr,
[Content_Types].xml overrides and defaults, relationships' Type/Target/TargetMode/Id. Each
change is well-formed XML, so it gets past the parser to the rule that reads it. Then
three of validate, recalc, split, export, upgrade-macros, history import (of the damaged
master into the FY2024 one) and rollover followed by history import and recalc.

A defect is what the oracle (fuzzlib.problem) calls one."""

from __future__ import annotations

import re

from fuzzlib import Case, copy_to, problem, read_parts, run_cli, write_parts

NAME = "schema"
ATTRV = ['', '-1', 'abc', '1e400', '99999999999999999999', '2', ' 1 ', '&amp;', '\uff11', '0', '1.5', '-0', '4294967296', 'true', 'false', 'TRUE', '1', 'x' * 5000, '&#0;', '\u00b2']
SQREF = ['', 'A1', 'A1:A0', 'B2:A1', 'XFD1048576', 'XFE1', 'A1048577', 'A1 B2', 'A1  B2', 'A:A', '1:1', '$A$1', 'a1', 'A1:XFD1048576', 'A0',
         '#REF!', "'x'!A1", 'A1,B2', '\uff21\uff11', ' A1 ', 'A1:B2 ' * 3000, 'B16', 'A1:A1', 'ZZZZ1', 'A01', 'A1:B', 'R1C1', 'A-1', 'A1:B2:C3']
DEFINED = ['#REF!', '[1]Sheet1!$A$1', '[1]!x', "'It''s'!$A$1", "'小樽市'!$A$1:$B$2", '小樽市!#REF!', '=1+1', 'SUM(A1:A3)', '"x"', '', '""',
           'OFFSET(A1,0,0)', "'一覧'!$3:$3,'一覧'!$A:$A", "'ない'!$1:$1", '$A$1', 'A1', "'一覧'!$1:$1048576", '一覧!$3:$3', 'x' * 10000,
           "'一覧'!$3:$3", '一覧!$B:$A', "'一覧'!$A$1:$XFD$1048576", "'一覧'!$3:$2", "'一覧'!3:3", "一覧!$3:$3", "'一'覧'!$3:$3", "'一覧!$3:$3",
           '"9b5d7fb6"', '"' + 'a' * 64 + '"', '"d5c74586e50c0d3d5743f66189956619"&""', '"\u0000"', "'[1]一覧'!$3:$3", 'TRUE', '1', '1/0', "'xlwings.conf'!$A$1", '小樽市!$1:$1 小樽市!$A:$A']
NAMES = ['_xlnm.Print_Titles', '_xlnm.Print_Area', '_xlnm._FilterDatabase', '_renkei_key', '_renkei_master_id', '対象年度', 'x', '', '_xlnm.print_titles', '_xlnm.Criteria', 'A1', 'R1C1', '_xlnm.Print_Titles ']
HF = ['&P', '&&', '&"ＭＳ ゴシック,太字"', '&K', '&KFF0000x', '&Z&F', '&G', 'x' * 300, '&[Page]', '&L&C&R', '&999', '&', '&"', 'a&', '&"a', '&L' * 200, '', '&D&T&N&A', '&12&"Arial"', '\n', '&U&E&X&Y&S&B&I&O&H']
PAGE = {'paperSize': ['0', '9', '119', '256', '-1', 'A4', '1e3'], 'scale': ['0', '9', '10', '400', '401', '-5', '50.5'], 'fitToWidth': ['0', '-1', '32768', '1.5'],
        'fitToHeight': ['0', '-1', '32768'], 'orientation': ['landscape', 'portrait', 'default', 'sideways', ''], 'horizontalDpi': ['0', '-1', '600', 'x'],
        'firstPageNumber': ['-1', '0', '32768', '4294967296'], 'useFirstPageNumber': ['1', 'yes', '2'], 'copies': ['0', '32768'], 'pageOrder': ['overThenDown', 'x'],
        'blackAndWhite': ['1', 'x'], 'cellComments': ['atEnd', 'x'], 'errors': ['blank', 'x'], 'usePrinterDefaults': ['0', 'x'], 'r:id': ['rId999', '']}
PROT = {'password': ['', 'ZZZZ', 'GGGG', 'CC3D', '0', '12345'], 'algorithmName': ['SHA-512', 'MD5', '', 'x'], 'hashValue': ['', 'xx', '!!!', 'AAAA'],
        'saltValue': ['', '!', 'AAAA'], 'spinCount': ['-1', '0', '100000', '100000000000', 'x'], 'sheet': ['0', '1', '2', 'x', ''],
        'objects': ['1', 'x'], 'scenarios': ['1', 'x'], 'formatCells': ['0', 'x'], 'selectLockedCells': ['1', 'x'], 'selectUnlockedCells': ['1', 'x']}
CALC = {'calcId': ['0', '-1', 'x', '999999999999'], 'calcMode': ['manual', 'auto', 'autoNoTable', 'x', ''], 'fullCalcOnLoad': ['1', '0', 'x'],
        'iterate': ['1', 'x'], 'iterateCount': ['-1', '0', '32768', 'x'], 'iterateDelta': ['x', '-1', '1e400'], 'refMode': ['R1C1', 'x'],
        'calcOnSave': ['0', 'x'], 'fullPrecision': ['0', 'x'], 'concurrentCalc': ['0', 'x'], 'forceFullCalc': ['1', 'x']}
WBPR = {'date1904': ['1', 'true', 'x', '0', ''], 'codeName': ['', 'x', 'ThisWorkbook ', 'Sheet1', 'ワークブック'], 'filterPrivacy': ['1', 'x'],
        'defaultThemeVersion': ['x', '-1'], 'showObjects': ['none', 'placeholders', 'x'], 'backupFile': ['1', 'x'], 'hidePivotFieldList': ['1', 'x']}
CT = ['application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml', 'application/vnd.ms-excel.sheet.macroEnabled.main+xml',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml', 'application/xml', '', 'text/plain',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml']
RELTYPE = ['http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet',
           'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles', 'http://schemas.microsoft.com/office/2006/relationships/vbaProject',
           'http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet', '', 'x', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink',
           'http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument']
TARGET = ['../x.xml', '/xl/worksheets/sheet1.xml', 'worksheets/sheet1.xml', 'http://example.invalid/a.xml', '%2e%2e/x', 'C:\\x.xml', '', 'worksheets/Sheet1.xml',
          'worksheets/sheet999.xml', 'worksheets/./sheet2.xml', 'worksheets/../worksheets/sheet3.xml', '\\\\srv\\s\\a.xml', 'file:///C:/x.xml', 'worksheets/sheet1.xml#x',
          'xl/worksheets/sheet1.xml', 'vbaProject.bin', 'styles.xml', 'sharedStrings.xml', 'worksheets/sheet%31.xml', 'worksheets/sheet 1.xml']
ORDER = ['sheetPr', 'dimension', 'sheetViews', 'sheetFormatPr', 'cols', 'sheetData', 'sheetCalcPr', 'sheetProtection', 'protectedRanges', 'scenarios', 'autoFilter',
         'sortState', 'dataConsolidate', 'customSheetViews', 'mergeCells', 'phoneticPr', 'conditionalFormatting', 'dataValidations', 'hyperlinks', 'printOptions',
         'pageMargins', 'pageSetup', 'headerFooter', 'rowBreaks', 'colBreaks', 'customProperties', 'cellWatches', 'ignoredErrors', 'smartTags', 'drawing', 'legacyDrawing']


def esc(v: str) -> str:
    """A value as attribute text; character references stay as the hostile token they are."""
    if v.startswith('&#') or v == '&amp;':
        return v
    return v.replace('&', '&amp;').replace('<', '&lt;').replace('"', '&quot;')


class Damage:
    """The case's randomness and the master's parts; each ``m_*`` returns (part, new bytes)
    or (part, None) when the part has nothing of that kind."""

    def __init__(self, rng, parts: dict):
        self.rng, self.parts = rng, parts
        self.sheets = sorted(n for n in parts if re.fullmatch(r'xl/worksheets/sheet\d+\.xml', n))

    def pick(self, values):
        return self.rng.choice(values)

    def set_attr(self, data: bytes, tag: str, attrs: dict):
        found = list(re.finditer(rf'<{tag}\b[^>]*>'.encode(), data))
        if not found:
            return None
        m = self.pick(found)
        el, name = m.group(0).decode(), self.pick(list(attrs))
        val = esc(self.pick(attrs[name] + ATTRV[:8]))
        if re.search(rf'\s{re.escape(name)}="[^"]*"', el):
            el = re.sub(rf'(\s{re.escape(name)}=")[^"]*"', lambda x: x.group(1) + val + '"', el, count=1)
        else:
            el = el.replace(f'<{tag}', f'<{tag} {name}="{val}"', 1)
        return data[:m.start()] + el.encode() + data[m.end():]

    def insert_sheet_el(self, data: bytes, tag: str, xml: str):
        """``xml`` where the schema's order puts ``tag``, unless the sheet has one."""
        if re.search(rf'<{tag}\b'.encode(), data):
            return None
        for later in ORDER[ORDER.index(tag) + 1:]:
            m = re.search(rf'<{later}\b'.encode(), data)
            if m:
                return data[:m.start()] + xml.encode() + data[m.start():]
        i = data.rfind(b'</worksheet>')
        return data[:i] + xml.encode() + data[i:]

    def sqref_el(self, tag: str) -> str:
        sq, formula = esc(self.pick(SQREF)), esc(self.pick(DEFINED))
        return {'mergeCells': f'<mergeCells count="1"><mergeCell ref="{sq}"/></mergeCells>',
                'conditionalFormatting': f'<conditionalFormatting sqref="{sq}"><cfRule type="expression" dxfId="0" '
                                         f'priority="1"><formula>{formula}</formula></cfRule></conditionalFormatting>',
                'dataValidations': f'<dataValidations count="1"><dataValidation type="list" allowBlank="1" sqref="{sq}">'
                                   f'<formula1>{formula}</formula1></dataValidation></dataValidations>',
                'hyperlinks': f'<hyperlinks><hyperlink ref="{sq}" location="{formula}" display="x"/></hyperlinks>'}[tag]

    def m_sqref(self):
        p = self.pick(self.sheets)
        d = self.parts[p]
        tag = self.pick(['mergeCell', 'conditionalFormatting', 'dataValidation', 'hyperlink'])
        attr = 'ref' if tag in ('mergeCell', 'hyperlink') else 'sqref'
        found = list(re.finditer(rf'<{tag}\b[^>]*\s{attr}="([^"]*)"'.encode(), d))
        if found and self.rng.random() < .6:
            m = self.pick(found)
            return p, d[:m.start(1)] + esc(self.pick(SQREF)).encode() + d[m.end(1):]
        outer = {'mergeCell': 'mergeCells', 'dataValidation': 'dataValidations', 'hyperlink': 'hyperlinks'}.get(tag, tag)
        return p, self.insert_sheet_el(d, outer, self.sqref_el(outer))

    def m_sheetformula(self):
        p = self.pick(self.sheets)
        d = self.parts[p]
        found = list(re.finditer(rb'<(formula1?|formula2)>([^<]*)</', d))
        if not found:
            return p, None
        m = self.pick(found)
        return p, d[:m.start(2)] + esc(self.pick(DEFINED)).encode() + d[m.end(2):]

    def m_defined(self):
        p = 'xl/workbook.xml'
        d = self.parts[p]
        found = list(re.finditer(rb'(<definedName\b[^>]*>)([^<]*)</definedName>', d))
        k = self.rng.randrange(4)
        if not found and k < 2:
            return p, None
        if k == 0:
            m = self.pick(found)
            return p, d[:m.start(2)] + esc(self.pick(DEFINED)).encode() + d[m.end(2):]
        if k == 1:
            m = self.pick(found)
            el = re.sub(r'name="[^"]*"', lambda _m: f'name="{esc(self.pick(NAMES))}"', m.group(1).decode())
            return p, d[:m.start(1)] + el.encode() + d[m.end(1):]
        if k == 2:
            loc = self.pick(['', f' localSheetId="{self.pick(["0", "4", "20", "21", "99", "-1", "x"])}"'])
            hidden = self.pick(['', ' hidden="1"', ' hidden="x"'])
            new = f'<definedName name="{esc(self.pick(NAMES))}"{loc}{hidden}>{esc(self.pick(DEFINED))}</definedName>'
            i = d.find(b'</definedNames>')
            return p, d[:i] + new.encode() + d[i:]
        return p, self.set_attr(d, 'definedName', {'localSheetId': ['0', '20', '21', '99', '-1'], 'hidden': ['0', '1', 'x'],
                                                   'function': ['1'], 'xlm': ['1'], 'vbProcedure': ['1']})

    def m_page(self):
        p = self.pick(self.sheets)
        d = self.parts[p]
        k = self.rng.randrange(5)
        flags = ['1', '0', 'true', 'x', '2', '']
        if k == 0:
            return p, self.set_attr(d, 'pageSetup', PAGE)
        if k == 1:
            names = ['gridLines', 'headings', 'horizontalCentered', 'verticalCentered', 'gridLinesSet']
            return p, self.set_attr(d, 'printOptions', {a: flags for a in names})
        if k == 2:
            names = ['left', 'right', 'top', 'bottom', 'header', 'footer']
            return p, self.set_attr(d, 'pageMargins', {a: ['-1', '0', '100', 'x', '1e400', ''] for a in names})
        if k == 3:
            names = ['differentOddEven', 'differentFirst', 'scaleWithDoc', 'alignWithMargins']
            return p, self.set_attr(d, 'headerFooter', {a: ['1', '0', 'x'] for a in names})
        return p, self.header_footer_text(d)

    def header_footer_text(self, d: bytes):
        found = list(re.finditer(rb'<(oddHeader|oddFooter|evenHeader|firstFooter)>([^<]*)</', d))
        if found and self.rng.random() < .7:
            m = self.pick(found)
            return d[:m.start(2)] + esc(self.pick(HF)).encode() + d[m.end(2):]
        m = re.search(rb'<headerFooter\b[^>]*?(/>|>)', d)
        if not m:
            return None
        tag = self.pick(['oddHeader', 'oddFooter', 'evenHeader', 'firstHeader'])
        inner = f'<{tag}>{esc(self.pick(HF))}</{tag}>'.encode()
        if m.group(1) == b'/>':
            return d[:m.start()] + m.group(0)[:-2] + b'>' + inner + b'</headerFooter>' + d[m.end():]
        return d[:m.end()] + inner + d[m.end():]

    def m_protect(self):
        p = self.pick(self.sheets)
        d = self.parts[p]
        out = self.set_attr(d, 'sheetProtection', PROT)
        if out is not None:
            return p, out
        attr, value = self.pick(list(PROT)), esc(self.pick(sum(PROT.values(), [])))
        return p, self.insert_sheet_el(d, 'sheetProtection', f'<sheetProtection {attr}="{value}" sheet="1"/>')

    def m_cols(self):
        p = self.pick(self.sheets)
        d = self.parts[p]
        m = re.search(rb'</cols>', d)
        if m and self.rng.random() < .3:
            col = (f'<col min="{self.pick(["1", "0", "3", "16384", "16385", "-1"])}" '
                   f'max="{self.pick(["1", "0", "2", "16384", "16385", "x"])}" '
                   f'width="{self.pick(["10", "0", "-1", "256", "x", "1e400"])}" customWidth="1"/>')
            return p, d[:m.start()] + col.encode() + d[m.start():]
        return p, self.set_attr(d, 'col', {'min': ['0', '-1', '16385', '1.5', 'x', '3', '100'],
                                           'max': ['0', '16385', '16384', '1', 'x', '1.5'],
                                           'width': ['0', '-1', '256', '1e400', 'x', ''], 'style': ['999', '-1', 'x'],
                                           'hidden': ['1', 'x'], 'outlineLevel': ['8', '-1', 'x'],
                                           'customWidth': ['0', 'x'], 'bestFit': ['x']})

    def m_calc(self):
        p = 'xl/workbook.xml'
        d = self.parts[p]
        if self.rng.random() < .5:
            return p, self.set_attr(d, 'workbookPr', WBPR)
        out = self.set_attr(d, 'calcPr', CALC)
        if out is None:
            a = self.pick(list(CALC))
            m = re.search(rb'<(oleSize|customWorkbookViews|pivotCaches|smartTagPr|smartTagTypes|webPublishing|'
                          rb'fileRecoveryPr|webPublishObjects|extLst)\b', d)
            i = m.start() if m else d.find(b'</workbook>')
            out = d[:i] + f'<calcPr {a}="{esc(self.pick(CALC[a]))}"/>'.encode() + d[i:]
        return p, out

    def m_ct(self):
        p = '[Content_Types].xml'
        d = self.parts[p]
        k = self.rng.randrange(6)
        defaults, overrides = list(re.finditer(rb'<Default\b[^>]*/>', d)), list(re.finditer(rb'<Override\b[^>]*/>', d))
        if not (defaults if k == 5 else overrides):   # an earlier change removed the last one
            return p, None
        if k == 5:
            dd = self.pick(defaults)
            de = dd.group(0).decode()
            de = self.pick(['', re.sub(r'ContentType="[^"]*"', lambda _m: f'ContentType="{self.pick(CT)}"', de),
                            re.sub(r'Extension="[^"]*"', lambda _m: f'Extension="{self.pick(["XML", "rels", "bin", "", "xlsx"])}"', de)])
            return p, d[:dd.start()] + de.encode() + d[dd.end():]
        m = self.pick(overrides)
        el = m.group(0).decode()
        typed = re.sub(r'ContentType="[^"]*"', lambda _m: f'ContentType="{self.pick(CT)}"', el)
        renamed = re.sub(r'PartName="/?([^"]*)"', lambda x: 'PartName="%s"' % self.pick(
            ["", "/" + x.group(1).upper(), x.group(1), "/" + x.group(1) + "x", "/xl/worksheets/sheet999.xml", "//" + x.group(1)]), el)
        el = ['', typed, renamed, el + el, el + typed][k]
        return p, d[:m.start()] + el.encode() + d[m.end():]

    def m_rels(self):
        p = self.pick([n for n in self.parts if n.endswith('.rels')])
        d = self.parts[p]
        found = list(re.finditer(rb'<Relationship\b[^>]*/>', d))
        if not found:   # an earlier change removed the last one
            return p, None
        m = self.pick(found)
        el = m.group(0).decode()
        k = self.rng.randrange(6)
        if k == 0:
            el = re.sub(r'Type="[^"]*"', lambda _m: f'Type="{self.pick(RELTYPE)}"', el)
        elif k == 1:
            el = re.sub(r'Target="[^"]*"', lambda _m: f'Target="{esc(self.pick(TARGET))}"', el)
        elif k == 2:
            el = re.sub(r'\s*/>$', lambda _m: f' TargetMode="{self.pick(["External", "Internal", "x", ""])}"/>', el)
        elif k == 3:
            el = re.sub(r'Id="[^"]*"', lambda _m: f'Id="{self.pick(["rId1", "rId2", "", "x", "rId24"])}"', el)
        elif k == 4:
            el = ''
        else:
            el = el + re.sub(r'Id="[^"]*"', 'Id="rId900"', el)
        return p, d[:m.start()] + el.encode() + d[m.end():]


    def m_sheets(self):
        """workbook.xml's sheet list: a sheet hidden or very hidden, ids doubled or out of
        range, names Excel refuses (too long, 「:」「[」, a trailing space, another's name in
        another case or width), two sheets swapped, a local name pointing past the sheets."""
        p, d = 'xl/workbook.xml', self.parts['xl/workbook.xml']
        found = list(re.finditer(rb'<sheet\b[^>]*/>', d))
        k = self.rng.randrange(4)
        if k == 0:
            return p, self.set_attr(d, 'sheet', {'state': ['hidden', 'veryHidden', 'visible', 'x', ''],
                                                 'sheetId': ['1', '0', '-1', '65536', '4294967296', 'x']})
        if k == 1 and found:
            m = self.pick(found)
            name = self.pick(['設定', 'ｾｯﾃｲ', '設定 ', ' 設定', 'x' * 32, 'a:b', 'a[1]', "'x", 'x\'', '一覧', 'History', '検証結果',
                              '小樽市 ', '小樽市\u3000', 'ＯＴＡＲＵ', '札幌市', '', '&amp;', '\u200b小樽市'])
            el = re.sub(r'name="[^"]*"', lambda _m: f'name="{esc(name)}"', m.group(0).decode())
            return p, d[:m.start()] + el.encode() + d[m.end():]
        if k == 2 and len(found) > 1:
            a, b = sorted(self.rng.sample(found, 2), key=lambda m: m.start())
            return p, d[:a.start()] + b.group(0) + d[a.end():b.start()] + a.group(0) + d[b.end():]
        return p, self.set_attr(d, 'definedName', {'localSheetId': ['0', '-1', '18', '19', '99', '4294967296', 'x', ''],
                                                    'hidden': ['0', '1', 'x']})

    def m_views(self):
        """A sheet's dimension, view, pane and selection: huge or broken references, a frozen
        pane past the sheet, every sheet selected, right-to-left."""
        p = self.pick(self.sheets)
        d = self.parts[p]
        k = self.rng.randrange(4)
        if k == 0:
            return p, self.set_attr(d, 'dimension', {'ref': SQREF})
        if k == 1:
            return p, self.set_attr(d, 'sheetView', {'rightToLeft': ['1', 'x'], 'tabSelected': ['1', 'x'], 'topLeftCell': SQREF[:12],
                                                     'view': ['pageBreakPreview', 'pageLayout', 'x'], 'zoomScale': ['0', '9', '401', 'x'],
                                                     'workbookViewId': ['1', '-1', 'x'], 'showGridLines': ['0', 'x']})
        if k == 2:
            return p, self.set_attr(d, 'pane', {'xSplit': ['0', '-1', '16384', '1e9', 'x'], 'ySplit': ['0', '-1', '1048576', 'x'],
                                                'topLeftCell': SQREF[:12], 'state': ['frozen', 'split', 'frozenSplit', 'x'],
                                                'activePane': ['topRight', 'x']})
        return p, self.set_attr(d, 'selection', {'activeCell': SQREF[:12], 'sqref': SQREF, 'pane': ['topLeft', 'x']})


KINDS = ('sqref', 'sheetformula', 'defined', 'page', 'protect', 'cols', 'calc', 'ct', 'rels', 'sheets', 'views')


def commands(master, folder, next_year) -> dict:
    """Each command as a list of steps (a rolled master is imported back, then recalculated)."""
    return {'validate': [['validate', master]], 'recalc': [['recalc', master]],
            'split': [['split', master, '--outdir', folder / 'sp']], 'export': [['export', master, '-o', folder / 'x.xlsx']],
            'upgrade': [['upgrade-macros', master]], 'histprev': [['history', 'import', next_year, master]],
            'rollhist': [['rollover', master, '-o', folder / 'r.xlsm'], ['history', 'import', folder / 'r.xlsm', master],
                         ['recalc', folder / 'r.xlsm']]}


def run_case(masters: dict, case: Case) -> list:
    parts = read_parts(masters['xlsm'])
    damage = Damage(case.rng, dict(parts))
    kind = case.rng.choice(KINDS)
    for _ in range(case.rng.randrange(1, 3)):
        target, data = getattr(damage, 'm_' + kind)()
        if data is not None:
            damage.parts[target] = data
    master = write_parts(case.folder / masters['xlsm'].name, damage.parts)
    case.inputs.append(master)
    next_year = copy_to(masters['next'], case.folder)
    steps = commands(master, case.folder, next_year)
    outcomes = []
    for name in [case.rng.choice(sorted(steps))]:
        for args in steps[name]:
            outcomes.append(run_cli(args, case.folder, guard=master if args[0] != 'history' else next_year))
            if problem(outcomes[-1]) or outcomes[-1].rc == 2:
                break
    return outcomes
