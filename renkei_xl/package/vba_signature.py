"""The digital signatures of a macro book's VBA project, and what a new project does to them.

Excel keeps a signed project's signatures beside it (MS-OFFCRYPTO/MS-OVBA: the legacy one
in xl/vbaProjectSignature.bin, the Agile one since Office 2016, V3 since 2020), each related
from the project's own relationships part (xl/_rels/vbaProject.bin.rels). A signature is a
hash of the project's modules: once xl/vbaProject.bin is replaced it signs code that is no
longer there, and Excel meets the book with an invalid signature, where a master signed so
that its buttons run under 「デジタル署名されたマクロを除き、すべてのマクロを無効にする」
loses them with no word of why. The tool holds no signing key, so a project it writes goes
unsigned, as Excel leaves a signed project someone without the key has changed:
``drop_signatures`` removes the signature parts, their relationships and content types, and
says which went, for staff to sign the project again.
"""

from .rels import ContentTypes, read_rels, rels_part, remove_rel
from .zipped import Package

# The relationship types of the three signatures ([MS-OFFCRYPTO] 2.3.2, Office's own files).
SIGNATURE_TYPES = (
    "http://schemas.microsoft.com/office/2006/relationships/vbaProjectSignature",
    "http://schemas.microsoft.com/office/2014/relationships/vbaProjectSignatureAgile",
    "http://schemas.microsoft.com/office/2020/07/relationships/vbaProjectSignatureV3",
)


def signature_parts(pkg: Package, vba_part: str) -> list[str]:
    """The signature parts the project at ``vba_part`` relates to (none for an unsigned one)."""
    return [rel.part for rel in read_rels(pkg, vba_part) if rel.type in SIGNATURE_TYPES and rel.part]


def drop_signatures(pkg: Package, vba_part: str, types: ContentTypes) -> list[str]:
    """Remove the project's signatures: their parts, their relationships (the project's
    .rels goes when nothing else is left in it) and their Overrides. Returns the parts
    removed. ``types`` is saved by the caller."""
    removed = []
    for rel in read_rels(pkg, vba_part):
        if rel.type not in SIGNATURE_TYPES:
            continue
        remove_rel(pkg, vba_part, rel.id)
        if rel.part and rel.part in pkg:
            pkg.remove(rel.part)
            types.remove(rel.part)
            removed.append(rel.part)
    name = rels_part(pkg, vba_part)
    if removed and name in pkg and not read_rels(pkg, vba_part):
        pkg.remove(name)
        types.remove(name)
    return removed
