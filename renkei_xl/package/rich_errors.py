"""The error values Excel 365 saves as rich values: which value metadata of a book are errors.

Excel 365 saves a cell showing #SPILL!, #CALC!, #FIELD!, #CONNECT!, #BLOCKED! or #UNKNOWN!
as ``<c t="e" vm="1"><v>#VALUE!</v></c>``: #VALUE! for older applications, and the error
itself as a rich value of the structure ``_error`` (xl/metadata.xml → xl/richData/
rdrichvalue.xml and rdrichvaluestructure.xml), its key ``errorType`` the code. A picture
placed in a cell is saved the same way, with another structure (``_localImage``), so the
vm alone cannot tell them apart: a blocked spill was named to staff as a picture in the
cell (「画像（または株価・地理などのデータの種類）が入っています」) while they saw #SPILL!.

Only structures named ``_error`` count; anything unreadable here leaves the cell to the
reader's older rule (a picture's placeholder for #VALUE!), never an empty cell.
"""

from __future__ import annotations

from typing import Optional

from ..core.errors import UserError
from ..core.values import UNKNOWN_ERROR
from .workbook import WorkbookXml
from .xml import MAIN_NS, parse

_RICH_NS = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
_METADATA = "/sheetMetadata"
_VALUES = "/rdRichValue"
_STRUCTURES = "/rdRichValueStructure"
_ERROR_STRUCTURE = "_error"
# errorType as Excel saves it: zero-based, in the order of ERROR.TYPE for the classic codes
# (#REF! 3, #NAME? 4, #N/A 6), then Excel 365's (Aspose.Cells' ErrorCellValueType; #SPILL! 8
# through #CALC! 13 read back in Excel 16). Any other errorType of an ``_error`` structure is
# an error all the same, of a kind not named here (UNKNOWN_ERROR).
ERROR_TYPES = {0: "#NULL!", 1: "#DIV/0!", 2: "#VALUE!", 3: "#REF!", 4: "#NAME?", 5: "#NUM!", 6: "#N/A",
               7: "#GETTING_DATA", 8: "#SPILL!", 9: "#CONNECT!", 10: "#BLOCKED!", 11: "#UNKNOWN!",
               12: "#FIELD!", 13: "#CALC!"}


def rich_errors(workbook: WorkbookXml) -> dict[int, str]:
    """vm (as a cell's attribute gives it, 1-based) → the error value that value metadata
    holds, for each one that is a rich error value; {} for a book without any (or whose
    rich-value parts cannot be read: the cells keep the reader's older rule)."""
    parts = {}
    for rel in workbook.rels.values():
        for suffix in (_METADATA, _VALUES, _STRUCTURES):
            if rel.part is not None and rel.type.endswith(suffix):
                parts[suffix] = rel.part
    if len(parts) < 3:
        return {}
    try:
        structures = [s.get("t") == _ERROR_STRUCTURE and _key_index(s) for s in
                      _tree(workbook, parts[_STRUCTURES]).iter(f"{{{_RICH_NS}}}s")]
        values = [_error_of(rv, structures) for rv in _tree(workbook, parts[_VALUES]).iter(f"{{{_RICH_NS}}}rv")]
        return _by_vm(_tree(workbook, parts[_METADATA]), values)
    except (UserError, ValueError, IndexError):
        return {}


def _tree(workbook: WorkbookXml, part: str):
    data = workbook.pkg.get(part)
    if data is None:
        raise ValueError(part)
    return parse(data, part)


def _key_index(structure) -> Optional[int]:
    """The position of ``errorType`` among an error structure's keys (None: it has none)."""
    keys = [k.get("n") for k in structure.iter(f"{{{_RICH_NS}}}k")]
    return keys.index("errorType") if "errorType" in keys else None


def _error_of(rv, structures: list) -> Optional[str]:
    """The error a rich value holds, or None when its structure is no error's."""
    s = int(rv.get("s", "-1"))
    at = structures[s] if 0 <= s < len(structures) else False
    if at is False:
        return None
    texts = [v.text or "" for v in rv.iter(f"{{{_RICH_NS}}}v")]
    code = texts[at].strip() if at is not None and at < len(texts) else ""
    return ERROR_TYPES.get(int(code), UNKNOWN_ERROR) if code.isdigit() else UNKNOWN_ERROR


def _by_vm(metadata, values: list[Optional[str]]) -> dict[int, str]:
    """valueMetadata's blocks (vm - 1) → the error of the rich value each points at: its
    record names a metadata type (t, 1-based) and a block of that type's futureMetadata (v)."""
    types = [t.get("name") for t in metadata.iter(f"{{{MAIN_NS}}}metadataType")]
    future = {f.get("name"): [[int(r.get("i", "-1")) for r in bk.iter(f"{{{_RICH_NS}}}rvb")]
                              for bk in f.iter(f"{{{MAIN_NS}}}bk")]
              for f in metadata.iter(f"{{{MAIN_NS}}}futureMetadata")}
    out = {}
    block = next(metadata.iter(f"{{{MAIN_NS}}}valueMetadata"), None)
    for vm, bk in enumerate(block.iter(f"{{{MAIN_NS}}}bk") if block is not None else (), start=1):
        for rc in bk.iter(f"{{{MAIN_NS}}}rc"):
            t, v = int(rc.get("t", "0")), int(rc.get("v", "-1"))
            name = types[t - 1] if 0 < t <= len(types) else None
            rvbs = future.get(name, [])
            i = rvbs[v][0] if 0 <= v < len(rvbs) and rvbs[v] else -1
            if 0 <= i < len(values) and values[i] is not None:
                out[vm] = values[i]
    return out
