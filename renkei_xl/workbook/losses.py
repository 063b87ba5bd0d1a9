"""Parts of a workbook openpyxl would drop on save (SPEC §5), found before writing.

openpyxl rewrites a workbook from its own object model, so whatever it does not model
disappears on save without a word. This module looks at the zip package itself (it
must not import openpyxl: the point is to see what openpyxl would not see) and tells
the caller, before anything is written, which parts the staff built would be lost.
The caller then writes its results to a new file instead of the master.

What was checked against openpyxl 3.1.5 (load_workbook + save, keep_vba=True for
.xlsm), with files written by XlsxWriter 3.3.1 and LibreOffice 7.4, or (marked *)
an XlsxWriter file with the part added the way Excel stores it. Every "lost" row
is proved again by tests/test_safety.py:

    part / feature                                 openpyxl round trip        reported as
    ---------------------------------------------  -------------------------  ----------------
    x14 conditional formats (data bar 2010)        extLst dropped (warning)   x14_conditional_format
    x14 data validations (extLst)*                 extLst dropped (warning)   x14_data_validation
    sparklines (x14:sparklineGroups)               extLst dropped (warning)   sparkline
    slicers / timelines*                           parts and extLst dropped   slicer / timeline
    form controls saved by Excel (<controls>,      <controls> and ctrlProps   form_control
      xl/ctrlProps, LibreOffice writes the same)   link dropped; with
                                                   keep_vba only the VML
                                                   fallback stays
    VML buttons/controls (XlsxWriter buttons)      dropped without keep_vba;  form_control (only
                                                   kept with keep_vba         without keep_vba)
    ActiveX (xl/activeX), OLE embeddings*          sheet link dropped         activex / embedded_object
    pictures in drawings (xl/media)                dropped (Pillow missing;   image
                                                   with Pillow kept without
                                                   name/alt text/cropping)
    shapes and text boxes (xdr:sp, grpSp, cxnSp)   dropped                    shape
    charts                                         re-serialised: chart       chart (not on owned
                                                   style (c:style), Excel     sheets: those charts
                                                   chart style parts, tick    are ours and rebuilt)
                                                   marks change
    sheet background picture, header/footer        dropped                    background /
      pictures                                                                header_footer_image
    threaded comments*, custom XML*, connections*  dropped (no model)         threaded_comment /
      and any other relationship openpyxl does                                custom_xml / other
      not model
    comment boxes: size, fill, always shown        rewritten 108pt x 59.25pt, comment_format
                                                   #ffffe1, hidden
    rich text runs in cells (shared strings)       plain text unless          rich_text (only when
                                                   rich_text=True             rich_text=False)
    furigana (<rPh>, phoneticPr in sharedStrings)  dropped                    phonetic

    not reported (kept, or nothing the staff built):
    tables, plain conditional formats and data     kept
      validations, defined names, external links
      (keep_links=True default), custom document
      properties, default comments (text kept,
      default box), pivot tables (openpyxl models
      them; not re-checked here), vbaProject and
      customUI with keep_vba
    xl/printerSettings/*.bin                       dropped, harmless: paper, orientation and
                                                   scaling stay in <pageSetup>; openpyxl also
                                                   strips the r:id, so the file stays valid
    calcChain, docProps/thumbnail, ignoredErrors   dropped, harmless: Excel rebuilds them
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import defusedxml.ElementTree as SafeET

from renkei_xl.errors import UserError

# ------------------------------------------------------------------ openpyxl losses

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_VML = "urn:schemas-microsoft-com:vml"
NS_VML_EXCEL = "urn:schemas-microsoft-com:office:excel"

# extLst <ext uri> of a worksheet -> (kind, description). URIs as in openpyxl's EXT_TYPES.
_SHEET_EXT = {
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": ("x14_conditional_format", "Excel 2010 以降の条件付き書式（x14 拡張）"),
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": ("x14_data_validation", "Excel 2010 以降の入力規則（x14 拡張）"),
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": ("sparkline", "スパークライン"),
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": ("slicer", "スライサー"),
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": ("slicer", "スライサー"),
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": ("timeline", "タイムライン"),
    "{FC87AEE6-9EDD-4A0A-B7FB-166176984837}": ("protected_range", "範囲の編集の許可（x14 拡張）"),
    "{F7C9EE02-42E1-4005-9D12-6889AFFD525C}": ("web_extension", "アドイン（Web 拡張）"),
}
# Ignored-error suppressions only hide green triangles; Excel shows them again.
_HARMLESS_SHEET_EXT = {"{01252117-D84E-4E92-8308-4BE1C098FCBB}"}

# Relationship types (last path segment) openpyxl writes back, or whose loss is harmless.
# The parts behind "drawing", "vmlDrawing" and "chart" are inspected separately.
_KEPT_RELS = {
    "officeDocument", "core-properties", "extended-properties", "custom-properties",
    "worksheet", "chartsheet", "styles", "sharedStrings", "theme", "externalLink",
    "externalLinkPath", "pivotCacheDefinition", "pivotCacheRecords", "pivotTable",
    "table", "comments", "hyperlink", "drawing", "vmlDrawing", "chart",
    "calcChain", "printerSettings", "thumbnail",
    # parts of a chart: reported with the chart itself
    "chartStyle", "chartColorStyle", "chartUserShapes", "themeOverride",
}
_VBA_RELS = {"vbaProject", "extensibility", "keyMapCustomizations"}
_REL_KINDS = {
    "ctrlProp": ("form_control", "フォームコントロール（ボタン・チェックボックス等）"),
    "control": ("activex", "ActiveX コントロール"),
    "activeXControl": ("activex", "ActiveX コントロール"),
    "activeXControlBinary": ("activex", "ActiveX コントロール"),
    "oleObject": ("embedded_object", "埋め込みオブジェクト（OLE）"),
    "package": ("embedded_object", "埋め込みオブジェクト（OLE）"),
    "threadedComment": ("threaded_comment", "スレッド形式のコメント"),
    "person": ("threaded_comment", "スレッド形式のコメントの投稿者一覧"),
    "slicer": ("slicer", "スライサー"),
    "slicerCache": ("slicer", "スライサー"),
    "timeline": ("timeline", "タイムライン"),
    "timelineCache": ("timeline", "タイムライン"),
    "customXml": ("custom_xml", "カスタム XML 部品"),
    "connections": ("connection", "外部データ接続（クエリ）"),
    "queryTable": ("connection", "外部データのクエリ テーブル"),
    "sheetMetadata": ("metadata", "動的配列数式などのメタデータ"),
    "image": ("image", "画像"),
    "webextension": ("web_extension", "アドイン（Web 拡張）"),
    "webextensiontaskpanes": ("web_extension", "アドイン（Web 拡張）"),
}

# Excel's default comment box, which openpyxl writes for every comment (144 x 79 px).
_COMMENT_WIDTH_PT = 108.0
_COMMENT_HEIGHT_PT = 59.25
_COMMENT_FILLS = {"#ffffe1", "infobackground", "infobackground [80]"}
_UNITS_PT = {"pt": 1.0, "px": 0.75, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "": 0.75}


@dataclass(frozen=True)
class DropRisk:
    """Something in the workbook that an openpyxl load+save would lose."""

    part: str                  # zip member that holds it
    sheet: Optional[str]       # Japanese sheet name when it belongs to a sheet
    what: str                  # Japanese description shown to the staff
    kind: str                  # stable code for callers and tests
    cell: Optional[str] = None  # top-left cell of a picture, shape or chart ("E2")


@dataclass(frozen=True)
class Rel:
    type: str                  # last segment of the relationship type URI
    target: str                # zip member name (or the raw target when external)
    rid: str
    external: bool = False


@dataclass
class WorkbookParts:
    """The package as a graph: zip members, relationships per part, sheet names per part."""

    path: Path
    names: frozenset
    workbook_part: str
    sheets: dict = field(default_factory=dict)        # sheet part -> sheet name (in order)
    chartsheets: set = field(default_factory=set)     # parts of chart sheets
    rels: dict = field(default_factory=dict)          # source part ('' = package) -> [Rel]

    def rels_of(self, part: str, rel_type: Optional[str] = None) -> list[Rel]:
        found = self.rels.get(part, [])
        return [r for r in found if rel_type is None or r.type == rel_type]


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _read_rels(zf: zipfile.ZipFile, names: frozenset, part: str) -> list[Rel]:
    rels_name = "_rels/.rels" if part == "" else _rels_name(part)
    if rels_name not in names:
        return []
    root = SafeET.fromstring(zf.read(rels_name))
    out = []
    for node in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
        rel_type = node.get("Type", "")
        short = rel_type.rsplit("/", 1)[-1]
        external = node.get("TargetMode") == "External"
        target = node.get("Target", "")
        out.append(Rel(short, target if external else _resolve(part, target), node.get("Id", ""), external))
    return out


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UserError(f"「{path}」が見つかりません。") from None
    except zipfile.BadZipFile:
        raise UserError(f"「{path.name}」は Excel ブック（.xlsx/.xlsm）として読めません。壊れているか別の形式です。") from None


def inspect_parts(path: os.PathLike | str) -> WorkbookParts:
    """Map the package: every relationship reachable from the root, and each sheet's name."""
    path = Path(path)
    with _open_zip(path) as zf:
        names = frozenset(zf.namelist())
        root_rels = _read_rels(zf, names, "")
        office = [r for r in root_rels if r.type == "officeDocument" and not r.external]
        if not office:
            raise UserError(f"「{path.name}」にブック本体がありません。Excel ブックとして読めません。")
        parts = WorkbookParts(path=path, names=names, workbook_part=office[0].target)
        parts.rels[""] = root_rels
        todo = [r.target for r in root_rels if not r.external]
        seen = {""}
        while todo:
            part = todo.pop()
            if part in seen or part not in names:
                continue
            seen.add(part)
            rels = _read_rels(zf, names, part)
            parts.rels[part] = rels
            todo.extend(r.target for r in rels if not r.external)
        wb_xml = SafeET.fromstring(zf.read(parts.workbook_part))
        by_id = {r.rid: r for r in parts.rels_of(parts.workbook_part)}
        for node in wb_xml.iter(f"{{{NS_MAIN}}}sheet"):
            rel = by_id.get(node.get(f"{{{NS_REL}}}id", ""))
            if rel is None:
                continue
            parts.sheets[rel.target] = node.get("name", "")
            if rel.type == "chartsheet":
                parts.chartsheets.add(rel.target)
    return parts


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_SHEETDATA_OPEN = re.compile(rb"<(?:\w+:)?sheetData(?=[\s/>])")
_SHEETDATA_CLOSE = re.compile(rb"</(?:\w+:)?sheetData\s*>")


def _sheet_top_level(zf: zipfile.ZipFile, part: str) -> list:
    """Top-level children of a worksheet except <sheetData>.

    The cells are most of a sheet's bytes and none of what openpyxl drops lives there, so
    <sheetData> is cut out of the raw XML before parsing (a 20,000-row sheet parses in
    milliseconds instead of seconds). An unusual layout falls back to streaming the whole
    part with the cells cleared as they go.
    """
    raw = zf.read(part)
    start = _SHEETDATA_OPEN.search(raw)
    if start:
        tag_end = raw.find(b">", start.end())
        if raw[tag_end - 1:tag_end] == b"/":  # <sheetData/>
            end = tag_end + 1
        else:
            closes = list(_SHEETDATA_CLOSE.finditer(raw))
            end = closes[-1].end() if closes else -1
        if end > 0:
            root = SafeET.fromstring(raw[:start.start()] + raw[end:])
            return list(root)
    return _sheet_top_level_streamed(zf, part)


def _sheet_top_level_streamed(zf: zipfile.ZipFile, part: str) -> list:
    kept = []
    depth = 0
    stack = []
    for event, node in SafeET.iterparse(zf.open(part), events=("start", "end")):
        if event == "start":
            depth += 1
            stack.append(node)
            continue
        depth -= 1
        stack.pop()
        if depth == 1:
            if _local(node.tag) == "sheetData":
                node.clear()
            else:
                kept.append(node)
        elif depth >= 2 and stack and _local(stack[1].tag) == "sheetData" and _local(node.tag) == "row":
            node.clear()
    return kept


def _length_pt(text: str) -> Optional[float]:
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]*)\s*", text)
    if not match or match.group(2) not in _UNITS_PT:
        return None
    return float(match.group(1)) * _UNITS_PT[match.group(2)]


def _comment_box_changed(shape) -> bool:
    """Whether openpyxl's default box (108 x 59.25 pt, #ffffe1, hidden) would change this comment."""
    style = {}
    for item in (shape.get("style") or "").split(";"):
        if ":" in item:
            key, value = item.split(":", 1)
            style[key.strip().lower()] = value.strip().lower()
    width, height = _length_pt(style.get("width", "")), _length_pt(style.get("height", ""))
    if width is None or height is None:
        return True
    if abs(width - _COMMENT_WIDTH_PT) > 0.8 or abs(height - _COMMENT_HEIGHT_PT) > 0.8:
        return True
    if style.get("visibility", "hidden") != "hidden":
        return True
    if shape.find(f"{{{NS_VML_EXCEL}}}ClientData/{{{NS_VML_EXCEL}}}Visible") is not None:
        return True
    fill = (shape.get("fillcolor") or "#ffffe1").strip().lower()
    return fill not in _COMMENT_FILLS


_FORM_CONTROL = "フォームコントロール（ボタン・チェックボックス等）"


def _inspect_vml(zf, part: str, sheet: str, keep_vba: bool, has_controls: bool) -> list[DropRisk]:
    try:
        root = SafeET.fromstring(zf.read(part))
    except SafeET.ParseError:
        # Excel's VML is not always well-formed XML; openpyxl would fail on it too, but
        # with keep_vba it copies the file as it is. Say so rather than guess.
        return [DropRisk(part, sheet, "コメントまたはフォームコントロールの図形（読み取れない形式）", "vml")]
    risks = []
    for shape in root.iter(f"{{{NS_VML}}}shape"):
        data = shape.find(f"{{{NS_VML_EXCEL}}}ClientData")
        if data is None:
            continue
        obj = data.get("ObjectType", "")
        if obj == "Note":
            if _comment_box_changed(shape):
                risks.append(DropRisk(part, sheet, "コメントの書式（大きさ・色・常に表示）", "comment_format"))
        elif not keep_vba and not has_controls:
            # with <controls> the VML is only Excel's fallback copy, reported via ctrlProps
            risks.append(DropRisk(part, sheet, _FORM_CONTROL, "form_control"))
    return risks


_ANCHORS = {"twoCellAnchor", "oneCellAnchor", "absoluteAnchor"}


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _anchor_cell(anchor) -> Optional[str]:
    start = anchor.find(f"{{{NS_XDR}}}from")
    if start is None:
        return None
    col, row = start.find(f"{{{NS_XDR}}}col"), start.find(f"{{{NS_XDR}}}row")
    try:
        return f"{_column_letters(int(col.text))}{int(row.text) + 1}"
    except (AttributeError, TypeError, ValueError):
        return None


def _drawing_content(anchor) -> list:
    """The objects of one drawing anchor, looking through mc:AlternateContent (first choice)."""
    out = []
    for child in anchor:
        name = _local(child.tag)
        if name == "AlternateContent":
            choice = child.find(f"{{{NS_MC}}}Choice")
            if choice is not None:
                out.extend(_drawing_content(choice))
        elif name in {"sp", "grpSp", "cxnSp", "pic", "graphicFrame", "contentPart"}:
            out.append(child)
    return out


def _inspect_drawing(zf, parts: WorkbookParts, part: str, sheet: str, owned: bool,
                     has_controls: bool) -> list[DropRisk]:
    risks = []
    root = SafeET.fromstring(zf.read(part))
    by_id = {r.rid: r for r in parts.rels_of(part)}
    for anchor in root:
        if _local(anchor.tag) == "AlternateContent":
            choice = anchor.find(f"{{{NS_MC}}}Choice")
            anchors = [a for a in (choice if choice is not None else []) if _local(a.tag) in _ANCHORS]
        elif _local(anchor.tag) in _ANCHORS:
            anchors = [anchor]
        else:
            continue
        for a in anchors:
            cell = _anchor_cell(a)
            for obj in _drawing_content(a):
                name = _local(obj.tag)
                if name == "pic":
                    risks.append(DropRisk(part, sheet, "画像", "image", cell))
                elif name == "graphicFrame":
                    chart = obj.find(f".//{{{NS_CHART}}}chart")
                    if chart is not None:
                        rel = by_id.get(chart.get(f"{{{NS_REL}}}id", ""))
                        if not owned:
                            risks.append(DropRisk(rel.target if rel else part, sheet,
                                                  "グラフ（openpyxl では書式の一部が失われます）", "chart", cell))
                    else:
                        # chartex (Excel 2016 charts), slicers, SmartArt: openpyxl models none
                        risks.append(DropRisk(part, sheet, "図形・グラフ（Excel 2010 以降の形式）", "shape", cell))
                elif has_controls and name == "sp":
                    continue  # the drawing half of a form control, reported with the control
                else:
                    risks.append(DropRisk(part, sheet, "図形・テキストボックス", "shape", cell))
    return risks


def _inspect_shared_strings(zf, part: str, rich_text: bool) -> list[DropRisk]:
    risks = []
    seen_rich = seen_phonetic = False
    for _event, node in SafeET.iterparse(zf.open(part), events=("end",)):
        name = _local(node.tag)
        if name == "r" and not rich_text:
            seen_rich = True
        elif name == "rPh":
            seen_phonetic = True
        elif name == "si":
            node.clear()
        if seen_phonetic and (seen_rich or rich_text):
            break
    if seen_rich:
        risks.append(DropRisk(part, None, "セル内の一部だけの書式（太字・色などのリッチテキスト）", "rich_text"))
    if seen_phonetic:
        risks.append(DropRisk(part, None, "ふりがな情報（PHONETIC 関数やふりがな順の並べ替えに使われます）", "phonetic"))
    return risks


def droppable_parts(path: os.PathLike | str, *, owned_sheets: Iterable[str] = (),
                    keep_vba: Optional[bool] = None, rich_text: bool = False) -> list[DropRisk]:
    """What an openpyxl 3.1 load+save of ``path`` would lose, checked before anything is written.

    ``owned_sheets`` are the sheets the tool rebuilds (their charts are ours);
    ``keep_vba`` and ``rich_text`` are the options the caller will pass to
    ``load_workbook`` (``keep_vba`` defaults to True for .xlsm/.xltm).
    """
    path = Path(path)
    if keep_vba is None:
        keep_vba = path.suffix.lower() in (".xlsm", ".xltm")
    owned = set(owned_sheets)
    parts = inspect_parts(path)
    risks: list[DropRisk] = []
    with _open_zip(path) as zf:
        # Which sheet each part belongs to, for messages.
        owner: dict[str, str] = {}
        for sheet_part, name in parts.sheets.items():
            stack = [sheet_part]
            while stack:
                p = stack.pop()
                if p in owner:
                    continue
                owner[p] = name
                stack.extend(r.target for r in parts.rels_of(p) if not r.external
                             and r.type not in ("worksheet", "chartsheet"))

        for source, rels in parts.rels.items():
            sheet = owner.get(source)
            for rel in rels:
                if rel.external:
                    continue
                if rel.type in _KEPT_RELS:
                    continue
                if rel.type in _VBA_RELS:
                    if not keep_vba:
                        risks.append(DropRisk(rel.target, sheet, "マクロ（VBA）・リボン設定", "vba"))
                    continue
                if rel.type == "image" and source in parts.sheets:
                    risks.append(DropRisk(rel.target, sheet, "シートの背景画像", "background"))
                    continue
                if rel.type == "image" and source.endswith(".vml"):
                    continue  # header/footer pictures and control icons: reported via the sheet
                if rel.type == "image":
                    continue  # pictures in drawings are reported per picture
                kind, what = _REL_KINDS.get(rel.type, ("other", f"openpyxl が扱わない部品（{rel.type}）"))
                risks.append(DropRisk(rel.target, sheet, what, kind))

        for sheet_part, name in parts.sheets.items():
            if sheet_part not in parts.names:
                continue
            is_owned = name in owned
            has_controls = bool(parts.rels_of(sheet_part, "ctrlProp") or parts.rels_of(sheet_part, "control"))
            top_level = _sheet_top_level(zf, sheet_part)
            if sheet_part not in parts.chartsheets:
                for node in top_level:
                    risks.extend(_inspect_sheet_node(node, sheet_part, name))
            by_id = {r.rid: r for r in parts.rels_of(sheet_part)}
            hf_rids = {n.get(f"{{{NS_REL}}}id", "") for n in top_level
                       if _local(n.tag) in ("legacyDrawingHF", "drawingHF")}
            for rel in parts.rels_of(sheet_part, "drawing"):
                if rel.target in parts.names:
                    risks.extend(_inspect_drawing(zf, parts, rel.target, name, is_owned, has_controls))
            hf_vml = {by_id[rid].target for rid in hf_rids if rid in by_id}
            for rel in parts.rels_of(sheet_part, "vmlDrawing"):
                if rel.target not in parts.names:
                    continue
                if rel.target in hf_vml:
                    risks.append(DropRisk(rel.target, name, "ヘッダー／フッターの画像", "header_footer_image"))
                else:
                    risks.extend(_inspect_vml(zf, rel.target, name, keep_vba, has_controls))

        for rel in parts.rels_of(parts.workbook_part, "sharedStrings"):
            if rel.target in parts.names:
                risks.extend(_inspect_shared_strings(zf, rel.target, rich_text))
    # one entry per part, kind and place
    return list(dict.fromkeys(risks))


def _inspect_sheet_node(node, part: str, sheet: str) -> list[DropRisk]:
    name = _local(node.tag)
    if name == "extLst":
        risks = []
        for ext in node:
            uri = (ext.get("uri") or "").upper()
            if uri in _HARMLESS_SHEET_EXT:
                continue
            kind, what = _SHEET_EXT.get(uri, ("extension", "Excel の拡張情報"))
            risks.append(DropRisk(part, sheet, what, kind))
        return risks
    if name == "AlternateContent":
        # Excel wraps <controls> and <oleObjects> in mc:AlternateContent; the parts behind
        # them are reported through their relationships. Anything else is still lost.
        inner = {_local(n.tag) for n in node.iter()}
        if inner & {"controls", "oleObjects"}:
            return []
        return [DropRisk(part, sheet, "Excel の拡張情報", "extension")]
    if name in ("controls", "oleObjects"):
        return []  # reported through the ctrlProp / control / oleObject relationships
    if name == "picture":
        return []  # the background picture is reported through its image relationship
    return []


def carry_report(risks: Iterable[DropRisk]) -> str:
    """The lines the staff read: what openpyxl could not carry, one line per sheet and item.

    The caller adds the sentence around it (which new file was written instead).
    """
    lines: dict[str, list] = {}
    for risk in risks:
        where = f"シート「{risk.sheet}」の" if risk.sheet else "ブック全体の"
        cells = lines.setdefault(f"・{where}{risk.what}", [])
        if risk.cell and risk.cell not in cells:
            cells.append(risk.cell)
    return "\n".join(f"{line}（{'、'.join(cells)}）" if cells else line for line, cells in lines.items())
