"""The master's key, its identity and the seal of the files split issues: pure functions
of bytes and names, so the builder (a new master gets its key), split, collect, rollover
and the server take them from one place below all of them.

Why a seal at all, and why the key lives in a hidden defined name: ``master_key``.
Moved here from renkei_xl.cycle.distribute, which writes the files the seal goes into.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Iterable, Mapping, Optional, Sequence

from .contract import INPUT_FIELDS, ISSUED_FIELDS
from .contract_read import MasterData
from .errors import UserError

# The version of the input files split writes now (RenkeiTemplateVersion), and what each
# version's seal covers (``seal``):
# - "1": the identifier (municipality, year, version, issue time, indicators, fingerprint);
# - "2": the same and the input cells as issued, which the file keeps in hidden columns
#   (core.contract.ISSUED_HEADERS) and collect trusts to tell what a municipality changed
#   (cycle.collect.since_issue). Unsealed, a lifted protection let a return rewrite them and
#   have its own answer dropped under a false 「マスターで直した」;
# - "3": the same and the labels (連携事業名, 評価指標) as issued, kept in hidden columns too:
#   a note a municipality typed into a label once the protection was lifted (「…（うち2件は
#   見込み）」) was imported without a word and never read. 指標 is no reference for it (staff
#   may reword an indicator after the split); the label as issued is, and sealed, it cannot
#   be rewritten to hide the note.
TEMPLATE_VERSION = "3"
# The versions collect takes: files issued before are out with the municipalities while
# the tool is updated mid-cycle, and each is checked the way it was sealed, so nobody has
# to split again. A file cannot be passed off as older: the version is in the sealed payload.
READ_VERSIONS = ("1", "2", TEMPLATE_VERSION)
# The cells of each row a version's seal covers as issued (``issued_payload``).
SEALED_FIELDS = {"1": (), "2": INPUT_FIELDS, "3": ISSUED_FIELDS}

# The master's key for sealing returns: a hidden workbook-scope name holding a string
# constant (see master_key for why there).
KEY_NAME = "_renkei_key"
KEY_BYTES = 32
# The master's identity for the server: not the key (which must never leave the master)
# but an HMAC of it, kept in a second hidden name that RenkeiServer.bas reads and sends
# (the xlwings payload lists no constant names). The server recomputes it from the key
# of the master saved in the folder a click names, so a click reaches only its own folder.
ID_NAME = "_renkei_master_id"
ID_TAG = b"renkei-master-id"
ID_CHARS = 32
SEAL_TAG = "renkei-xl return seal 1"   # the version in the payload tells its form apart
SEAL_CHARS = 32                        # 128 bits of the HMAC, in hex


def fingerprint(rows: Sequence[tuple[str, str]]) -> str:
    """Hash of the ordered (指標ID, 目標値) pairs a file was issued for.

    A returned file is only diffed against the master when the master still asks the
    same questions: a target changed or a row added after the split changes this code.
    """
    payload = "\n".join(f"{ind_id}\t{target}" for ind_id, target in rows)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def issued_rows(data: MasterData, municipality: Optional[str] = None) -> dict[str, list[tuple[str, str]]]:
    """Municipality → the (指標ID, 目標値) pairs of its file, in its sheet's order: what the
    fingerprint and the seal are over. One pass over the entries for every municipality
    (a split of 40 files would otherwise pass over all 80,000 entries per file)."""
    targets = {i.id: i.target for i in data.indicators}
    out: dict[str, list[tuple[str, str]]] = {}
    for e in data.entries:
        if e.indicator_id and (municipality is None or e.municipality == municipality):
            out.setdefault(e.municipality, []).append((e.indicator_id, targets.get(e.indicator_id, "")))
    return out


# ------------------------------------------------------------------------ the key, the seal

def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def key_formula(key: bytes) -> str:
    """The name's definition: a string constant, as Excel's 名前の定義 would take it."""
    return '="' + key.hex() + '"'


# Spaces after 「=」 only after one: an optional 「=」 between two runs of spaces tried every
# split of a run of spaces (test_pattern_costs).
_KEY_VALUE = re.compile(r'\s*(?:=\s*)?"([0-9A-Fa-f]{%d})"\s*' % (2 * KEY_BYTES))


def master_key(workbook) -> Optional[bytes]:
    """The master's key, or None for a master built before keys existed.

    ``workbook``: anything with ``.names`` (renkei_xl.package.workbook.WorkbookXml, as
    ``read_state`` gives it in ``fs.workbook``) or an iterable of its DefinedName.

    Where the key lives, and why: a workbook-scope defined name marked hidden, whose
    definition is a string constant (``<definedName name="_renkei_key" hidden="1">
    "…64 hex…"</definedName>``).
    - It survives every save the master goes through: Excel keeps hidden names, openpyxl
      and LibreOffice (7.4) write them back (LibreOffice drops the hidden flag, so there
      the name becomes visible in 名前の管理, but keeps its value).
    - Nobody sees it in normal use: Excel lists no hidden name in 名前の管理 and it refers
      to no cell, so no formula, print area or validation can pick it up.
    - It cannot travel with what the tool sends: split and export write brand-new
      workbooks (nothing is copied from the master). A sheet a person copies out of the
      master takes the names that refer to it or that its formulas use; this one refers
      to no cell and no formula uses it.
    - The file face already reads the names (``WorkbookXml.names``) and the writer
      already edits them (``WorkbookXml.set_name``), so no new part is parsed.
    Rejected: a custom document property is shown to anyone under ファイル → プロパティ and
    in Explorer's file details, and Excel's ドキュメント検査 removes custom properties with
    the personal information; a very hidden sheet cell adds a sheet, which the VBA project
    needs a document module for and every sheet list of the tool would have to skip.

    A malformed key is an error, not "no key": silently falling back would accept
    returns the key is there to refuse.
    """
    names = getattr(workbook, "names", workbook)
    for n in names:
        if n.name.lower() == KEY_NAME.lower() and n.local_sheet is None:
            m = _KEY_VALUE.fullmatch(n.value or "")
            if m is None:
                raise UserError(f"マスターの照合用の鍵（非表示の名前「{KEY_NAME}」）が壊れています。"
                                "バックアップのマスターから戻してください")
            return bytes.fromhex(m.group(1))
    return None


def master_id(key: bytes) -> str:
    """The non-secret identity derived from the key (32 hex characters, 128 bits)."""
    return hmac.new(key, ID_TAG, hashlib.sha256).hexdigest()[:ID_CHARS]


def identity_names(key: bytes) -> list:
    """The hidden names a master carries for ``key``: the key and its identity."""
    from .plan_types import NameEdit

    return [NameEdit(KEY_NAME, key_formula(key)[1:], hidden=True),
            NameEdit(ID_NAME, f'"{master_id(key)}"', hidden=True)]


def stored_master_id(workbook) -> Optional[str]:
    """The identity name's value as saved (None when the master has none yet)."""
    names = getattr(workbook, "names", workbook)
    for n in names:
        if n.name.lower() == ID_NAME.lower() and n.local_sheet is None:
            return (n.value or "").strip().lstrip("=").strip('"')
    return None


def seal(key: bytes, municipality: str, year: str, version: str, issued: str,
         indicator_ids: Iterable[str], code: str,
         issued_cells: Optional[Sequence[Sequence[Optional[str]]]] = None) -> str:
    """HMAC-SHA256 under the master's key over what identifies an issued file.

    The payload is a JSON array, so no two different identifiers encode alike (a
    municipality name cannot borrow characters from the year). ``code`` is the plain
    fingerprint, which brings the targets in as well. ``issued_cells`` (version "2" on):
    per indicator, in ``indicator_ids``' order, the text of each input cell as issued
    (``issued_payload``); a version "1" file's seal never covered them.
    """
    parts = [SEAL_TAG, municipality, year, version, issued, list(indicator_ids), code]
    if issued_cells is not None:
        parts.append([list(row) for row in issued_cells])
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:SEAL_CHARS]


# What reading a cell's text back from a file may change, undone before it is sealed: XML
# turns a stored CR (alone or before LF) into LF, and the reader decodes ``_xHHHH_`` (how
# Excel stores a character XML cannot hold) even where the writer wrote it as plain text.
# A genuine file must never read as doctored over a line break in a 実施状況.
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _sealed_text(value: str) -> str:
    value = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value.replace("\r\n", "\n").replace("\r", "\n")


def issued_payload(ids: Sequence[str], cells: Mapping[str, Mapping[str, str]],
                   fields: Sequence[str] = INPUT_FIELDS) -> list[list[Optional[str]]]:
    """The issued cells as the seal covers them: per 指標ID of ``ids``, the text of each of
    ``fields`` (SEALED_FIELDS of the file's version, in order), None where the file has no
    such column.

    ``cells``: 指標ID → field → text, as split wrote the hidden columns
    (core.input_sheet.issued_texts) or as collect read them back; a field missing from a
    row stands for a column the file does not have, so a column deleted from a return
    changes the payload as surely as a value typed over."""
    out = []
    for ind_id in ids:
        row = cells.get(ind_id, {})
        out.append([_sealed_text(row[f]) if f in row else None for f in fields])
    return out


def municipality_seal(key: bytes, data: MasterData, municipality: str, issued: str,
                      rows: Optional[list[tuple[str, str]]] = None, *,
                      cells: Optional[Mapping[str, Mapping[str, str]]] = None,
                      version: str = TEMPLATE_VERSION) -> str:
    """The seal of ``municipality``'s file issued at ``issued`` (the text of RenkeiIssued);
    ``rows``: its ``issued_rows``, when the caller has them; ``cells``: its input cells (and
    labels) as issued (``issued_payload``), which a seal of version "2" on covers; ``version``: the file's
    RenkeiTemplateVersion (collect checks an older file the way it was sealed)."""
    if rows is None:
        rows = issued_rows(data, municipality).get(municipality, [])
    ids = [ind_id for ind_id, _target in rows]
    if version != "1" and cells is None:
        raise ValueError(f"a version {version} seal covers the issued cells")
    payload = None if version == "1" else issued_payload(ids, cells, SEALED_FIELDS[version])
    return seal(key, municipality, str(data.settings.fiscal_year), version, issued, ids, fingerprint(rows), payload)


def seal_matches(expected: str, got: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), got.strip().lower().encode("ascii", "replace"))
