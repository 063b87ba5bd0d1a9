"""A signed VBA project is never left signed by a signature of other code.

IT may sign the master's macros so that its buttons run on PCs set to 「デジタル署名された
マクロを除き、すべてのマクロを無効にする」 (in Excel, or with signtool and Office's SIPs,
which add the signature parts and leave xl/vbaProject.bin as it was). Each signature is kept
in a part of its own, related from xl/_rels/vbaProject.bin.rels (renkei_xl.package.vba_signature).

- A command that writes the master but not its macros (recalc, which adds 次の一歩 with a code
  name) leaves a signed project and its signatures as they were: rebuilding the project for
  the new sheet's document module left them signing code no longer there.
- upgrade-macros, whose job is a new project, removes the old signatures with their
  relationships and content types, and says so: they were left in the file, naming a signer
  who never signed the new code.
"""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from realbooks import package_problems
from renkei_xl.cli.workbook import init_master
from renkei_xl.package.vba_signature import SIGNATURE_TYPES
from renkei_xl.vba.inject import VBA_PART, sheet_code_names
from renkei_xl.vba.project import Module, build_vba_project
from renkei_xl.vba.sources import xlwings_modules
from renkei_xl.workbook.session import recalc_file

# Each signature as Office stores it: part, content type (its relationship type: SIGNATURE_TYPES).
SIGNATURES = [("xl/vbaProjectSignature.bin", "application/vnd.ms-office.vbaProjectSignature"),
              ("xl/vbaProjectSignatureAgile.bin", "application/vnd.ms-office.vbaProjectSignatureAgile"),
              ("xl/vbaProjectSignatureV3.bin", "application/vnd.ms-office.vbaProjectSignatureV3")]
RELS = "xl/_rels/vbaProject.bin.rels"


def _signed(src: Path, dst: Path) -> Path:
    """``src`` with its project signed three ways, the way Office adds the parts (the bytes of
    a signature are not read by the tool, so they stand in for a PKCS#7 blob here)."""
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{t}" Target="{part[3:]}"/>'
                      for i, ((part, _), t) in enumerate(zip(SIGNATURES, SIGNATURE_TYPES), 1))
            + "</Relationships>")
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", "".join(
                    f'<Override PartName="/{part}" ContentType="{ct}"/>' for part, ct in SIGNATURES
                ).encode() + b"</Types>")
            out.writestr(info, data)
        for n, (part, _) in enumerate(SIGNATURES):
            out.writestr(part, bytes([0x30, 0x82, n]) * 200)
        out.writestr(RELS, rels)
    return dst


@pytest.fixture(scope="module")
def signed_master(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("signed")
    plain = folder / "plain.xlsm"
    init_master(plain, sample="fy2023")
    return _signed(plain, folder / "さっぽろ圏_2023年度_マスター.xlsm")


def _copy(master: Path, tmp_path: Path) -> Path:
    path = tmp_path / master.name
    path.write_bytes(master.read_bytes())
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_recalc_leaves_a_signed_project_as_it_was_signed(signed_master, tmp_path):
    path = _copy(signed_master, tmp_path)
    before = _parts(path)
    codes = sheet_code_names(path)
    recalc_file(path)
    after = _parts(path)
    assert len(sheet_code_names(path)) == len(codes) + 1, "recalc adds 次の一歩 with its code name"
    assert after[VBA_PART] == before[VBA_PART], "the signed project was rebuilt under its signature"
    for name in [RELS, *(part for part, _ in SIGNATURES)]:
        assert after[name] == before[name], name
    assert package_problems(path) == []


def _older_project(path: Path) -> None:
    """The master as an older release made it: its Renkei module differs (the signature
    parts, which the tool never reads, are kept by this write as the project is the same)."""
    codes = sheet_code_names(path)
    old = [Module("Renkei", "standard", 'Sub RenkeiRecalc()\r\n    RunPython "import old"\r\nEnd Sub\r\n')]
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[VBA_PART] = build_vba_project([Module("ThisWorkbook", "document", ""),
                                         *(Module(n, "document", "") for n in codes), *old, *xlwings_modules()])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_upgrade_macros_removes_the_signatures_of_the_old_project_and_says_so(signed_master, tmp_path):
    path = _copy(signed_master, tmp_path)
    _older_project(path)
    before = _parts(path)
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "upgrade-macros", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "デジタル署名を外しました" in out.stdout and "署名し直す" in out.stdout
    after = _parts(path)
    gone = {RELS, *(part for part, _ in SIGNATURES)}
    assert not gone & set(after), "a signature of the old project stayed beside the new one"
    types = after["[Content_Types].xml"].decode()
    assert not any(part in types for part, _ in SIGNATURES)
    assert types == before["[Content_Types].xml"].decode().replace("".join(
        f'<Override PartName="/{part}" ContentType="{ct}"/>' for part, ct in SIGNATURES), "")
    # everything else as it was: the project replaced, no other part touched
    assert {n: b for n, b in after.items() if n != VBA_PART} == {
        n: b for n, b in before.items() if n not in gone | {VBA_PART, "[Content_Types].xml"}} | {
        "[Content_Types].xml": after["[Content_Types].xml"]}
    assert after[VBA_PART] != before[VBA_PART]
    assert package_problems(path) == []


def test_upgrade_macros_to_the_same_project_keeps_its_signatures(signed_master, tmp_path):
    path = _copy(signed_master, tmp_path)
    before = _parts(path)
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "upgrade-macros", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "署名" not in out.stdout
    assert _parts(path) == before


def test_upgrade_macros_on_an_unsigned_master_says_nothing_of_signatures(signed_master, tmp_path):
    path = tmp_path / "plain.xlsm"
    path.write_bytes((signed_master.parent / "plain.xlsm").read_bytes())
    _older_project(path)
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "upgrade-macros", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "署名" not in out.stdout
    assert package_problems(path) == []
