"""A drawing part holding one column chart, and the chart part (DrawingML).

Written the way XlsxWriter writes its charts, reduced to what 集計 needs: one series of
counts against one row of category labels, title, no legend. The series refers to the
sheet's cells and carries a cache of their values, so a viewer that does not recalculate
shows the bars too.
"""

from __future__ import annotations

from typing import Sequence

from ..core.refs import column_letter, quote_sheet
from .xml import escape

EMU_PER_CM = 360000
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _abs(sheet: str, rect: tuple[int, int, int, int]) -> str:
    r1, c1, r2, c2 = rect
    return f"{quote_sheet(sheet)}!${column_letter(c1)}${r1}:${column_letter(c2)}${r2}"


def drawing_xml_many(charts: Sequence[tuple[tuple[int, int], float, float, str, str]]) -> str:
    """One drawing part holding each chart (anchor, width, height, relationship id, name)."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}">' + chart_anchors(charts) + '</xdr:wsDr>')


def chart_anchors(charts: Sequence[tuple[tuple[int, int], float, float, str, str]], first_id: int = 2,
                  declare: bool = False) -> str:
    """The charts' anchors, shape ids from ``first_id``; ``declare``: each anchor declares the
    xdr and a prefixes itself, for a drawing part whose root the tool did not write
    (package.drawing: the pictures staff placed on a tool sheet stay before them)."""
    return "".join(_anchor_xml(anchor, w, h, rid, first_id + i, name, declare)
                   for i, (anchor, w, h, rid, name) in enumerate(charts))


def _anchor_xml(anchor: tuple[int, int], width_cm: float, height_cm: float, chart_rid: str, shape_id: int,
                name: str, declare: bool) -> str:
    row, col = anchor
    xmlns = f' xmlns:xdr="{XDR}" xmlns:a="{A}"' if declare else ""
    return (
        f'<xdr:oneCellAnchor{xmlns}>'
        f'<xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row - 1}</xdr:row>'
        '<xdr:rowOff>0</xdr:rowOff></xdr:from>'
        f'<xdr:ext cx="{int(width_cm * EMU_PER_CM)}" cy="{int(height_cm * EMU_PER_CM)}"/>'
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{shape_id}" name="{escape(name)}"/>'
        '<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{C}"><c:chart xmlns:c="{C}" xmlns:r="{R}" r:id="{chart_rid}"/>'
        '</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>')


def column_chart_xml(sheet: str, title: str, categories: tuple[int, int, int, int],
                     values: tuple[int, int, int, int], category_cache: Sequence[object],
                     value_cache: Sequence[object], legend: bool = False) -> str:
    cat_pts = "".join(f'<c:pt idx="{i}"><c:v>{escape(str(v))}</c:v></c:pt>' for i, v in enumerate(category_cache))
    val_pts = "".join(f'<c:pt idx="{i}"><c:v>{v}</c:v></c:pt>' for i, v in enumerate(value_cache)
                      if isinstance(v, (int, float)) and not isinstance(v, bool))
    title_xml = ('<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr b="1"/></a:pPr>'
                 f'<a:r><a:rPr lang="ja-JP" b="1"/><a:t>{escape(title)}</a:t></a:r></a:p></c:rich></c:tx>'
                 '<c:overlay val="0"/></c:title>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{C}" xmlns:a="{A}" xmlns:r="{R}">'
        '<c:lang val="ja-JP"/><c:chart>' + title_xml + '<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        '<c:ser><c:idx val="0"/><c:order val="0"/>'
        # Office's default first series colour (accent 1), which Excel gives the live face's
        # chart unasked: written here only because a chart part must name its fill.
        '<c:spPr><a:solidFill><a:srgbClr val="4472C4"/></a:solidFill></c:spPr>'
        '<c:invertIfNegative val="0"/>'
        f'<c:cat><c:strRef><c:f>{escape(_abs(sheet, categories))}</c:f><c:strCache>'
        f'<c:ptCount val="{len(category_cache)}"/>{cat_pts}</c:strCache></c:strRef></c:cat>'
        f'<c:val><c:numRef><c:f>{escape(_abs(sheet, values))}</c:f><c:numCache><c:formatCode>General</c:formatCode>'
        f'<c:ptCount val="{len(value_cache)}"/>{val_pts}</c:numCache></c:numRef></c:val>'
        '</c:ser><c:gapWidth val="150"/><c:axId val="50010001"/><c:axId val="50010002"/></c:barChart>'
        '<c:catAx><c:axId val="50010001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:tickLblPos val="nextTo"/><c:crossAx val="50010002"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="50010002"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/><c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:tickLblPos val="nextTo"/><c:crossAx val="50010001"/><c:crosses val="autoZero"/>'
        '<c:crossBetween val="between"/></c:valAx></c:plotArea>'
        + ('<c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend>' if legend else "")
        + '<c:plotVisOnly val="1"/>'
        '<c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')
