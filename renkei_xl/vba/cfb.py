"""A minimal MS-CFB (compound file) writer, enough for a vbaProject.bin.

Hand-written because no maintained Python library writes compound files: olefile only reads
them (and overwrites streams of the same size in place), and the VBA project has to be built
from scratch on Linux. Version 3 (512-byte sectors), the DIFAT in the header only: that
caps the file at 109 FAT sectors (about 6.8 MB), far above a VBA project; past that we
raise instead of writing a broken file.
"""

from __future__ import annotations

import struct
from typing import Mapping, Union

Tree = Mapping[str, Union[bytes, "Tree"]]  # storage name -> stream bytes or a sub-storage

SECTOR = 512  # 2.2 header: SectorShift 9 for major version 3
MINI_SECTOR = 64  # 2.2: MiniSectorShift 6
MINI_CUTOFF = 4096  # 2.2: MiniStreamCutoffSize; smaller streams live in the mini stream
HEADER_DIFAT = 109  # 2.2: DIFAT entries held by the header itself
FATSECT, ENDOFCHAIN, FREESECT = 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF  # 2.1 sector numbers
NOSTREAM = 0xFFFFFFFF  # 2.6.1: no sibling / child
STORAGE, STREAM, ROOT = 1, 2, 5  # 2.6.1 Object Type
RED, BLACK = 0, 1  # 2.6.1 Color Flag


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        if len(name) > 31 or any(c in name for c in "/\\:!"):
            raise ValueError(f"invalid compound-file entry name: {name!r}")  # 2.6.1
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Entry] = []
        self.left = self.right = self.child = NOSTREAM
        self.color, self.start, self.size = BLACK, 0, 0
        self.sid = 0


def _name_key(name: str) -> tuple[int, str]:
    """2.6.4: shorter names sort first, then by the upper-cased UTF-16 code points."""
    return len(name.encode("utf-16-le")), "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def _build_tree(nodes: list[_Entry], depth: int, red_depth: int) -> int:
    """Balanced binary search tree over sorted siblings, returning the root's id.

    Splitting at the middle leaves every missing child at depth d or d+1; colouring the
    nodes of the deepest, incomplete level red gives every path the same number of black
    nodes, so this is a valid red-black tree (2.6.4) and not just an ordered one.
    """
    if not nodes:
        return NOSTREAM
    mid = len(nodes) // 2
    node = nodes[mid]
    node.color = RED if depth == red_depth else BLACK
    node.left = _build_tree(nodes[:mid], depth + 1, red_depth)
    node.right = _build_tree(nodes[mid + 1 :], depth + 1, red_depth)
    return node.sid


def _link_siblings(entry: _Entry) -> None:
    kids = sorted(entry.children, key=lambda e: _name_key(e.name))
    for a, b in zip(kids, kids[1:]):
        if _name_key(a.name) == _name_key(b.name):
            raise ValueError(f"duplicate compound-file entry name: {b.name!r}")
    full_levels = (len(kids) + 1).bit_length() - 1  # levels a tree of len(kids) fills
    perfect = len(kids) + 1 == 1 << full_levels
    entry.child = _build_tree(kids, 0, -1 if perfect else full_levels)
    for kid in kids:
        _link_siblings(kid)


def _flatten(tree: Tree, parent: _Entry, entries: list[_Entry]) -> None:
    for name, value in tree.items():
        if isinstance(value, (bytes, bytearray)):
            entry = _Entry(name, STREAM, bytes(value))
        else:
            entry = _Entry(name, STORAGE)
        entry.sid = len(entries)
        entries.append(entry)
        parent.children.append(entry)
        if entry.kind == STORAGE:
            _flatten(value, entry, entries)


def _chain(fat: list[int], first: int, count: int) -> None:
    fat.extend(range(first + 1, first + count))
    fat.append(ENDOFCHAIN)


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def write_compound_file(tree: Tree) -> bytes:
    """A version-3 compound file holding ``tree`` under its Root Entry.

    One function on purpose (70 lines): it lays the file out in the order MS-CFB's sections
    describe it (mini stream, sectors, FAT, directory, header), each step using the sector
    numbers the one before it assigned; split up, the steps would pass a dozen of them."""
    root = _Entry("Root Entry", ROOT)
    entries = [root]
    _flatten(tree, root, entries)
    _link_siblings(root)

    # Small streams go into the mini stream (2.5), chained in the mini FAT (2.3).
    mini, minifat = bytearray(), []
    big = [e for e in entries if e.kind == STREAM and len(e.data) >= MINI_CUTOFF]
    for e in entries:
        e.size = len(e.data)
        if e.kind == STREAM and 0 < len(e.data) < MINI_CUTOFF:
            e.start = len(mini) // MINI_SECTOR
            _chain(minifat, e.start, -(-len(e.data) // MINI_SECTOR))
            mini += _pad(e.data, MINI_SECTOR)
        elif e.kind == STREAM and not e.data:
            e.start = ENDOFCHAIN
    root.size = len(mini)

    # Regular sectors: big streams, the mini stream, the mini FAT, the directory, then FAT.
    fat: list[int] = []
    body = bytearray()

    def place(data: bytes) -> int:
        if not data:
            return ENDOFCHAIN
        first = len(fat)
        _chain(fat, first, -(-len(data) // SECTOR))
        body.extend(_pad(data, SECTOR))
        return first

    for e in big:
        e.start = place(e.data)
    root.start = place(bytes(mini))
    minifat += [FREESECT] * (-len(minifat) % (SECTOR // 4))
    minifat_bytes = b"".join(struct.pack("<I", n) for n in minifat)
    minifat_start = place(minifat_bytes)
    entries_padded = entries + [None] * (-len(entries) % (SECTOR // 128))
    directory = b"".join(_dir_entry(e) for e in entries_padded)
    dir_start = place(directory)

    fat_sectors = 0  # FAT sectors describe themselves too: grow until they fit
    while fat_sectors * (SECTOR // 4) < len(fat) + fat_sectors:
        fat_sectors += 1
    if fat_sectors > HEADER_DIFAT:
        raise ValueError(
            f"compound file too large: {fat_sectors} FAT sectors, the header holds {HEADER_DIFAT}"
        )
    fat_first = len(fat)
    fat.extend([FATSECT] * fat_sectors)
    fat.extend([FREESECT] * (-len(fat) % (SECTOR // 4)))
    difat = list(range(fat_first, fat_first + fat_sectors))
    difat += [FREESECT] * (HEADER_DIFAT - len(difat))

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",  # 2.2 Header Signature
        b"\x00" * 16,  # Header CLSID
        0x003E, 0x0003, 0xFFFE,  # minor version, major version 3, little-endian byte order
        9, 6, b"\x00" * 6,  # sector shift, mini sector shift, reserved
        0,  # number of directory sectors: must be 0 in version 3
        fat_sectors, dir_start, 0,  # FAT sectors, first directory sector, transaction
        MINI_CUTOFF,
        minifat_start, len(minifat_bytes) // SECTOR,
        ENDOFCHAIN, 0,  # no DIFAT sectors beyond the header
        *difat,
    )
    fat_bytes = b"".join(struct.pack("<I", n) for n in fat)
    return header + bytes(body) + fat_bytes


def _dir_entry(e: _Entry | None) -> bytes:
    """2.6.1 Compound File Directory Entry, 128 bytes; None is an unused entry."""
    if e is None:
        return b"\x00" * 64 + struct.pack("<HBBIII16sIQQIQ", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                                          b"\x00" * 16, 0, 0, 0, 0, 0)
    name = e.name.encode("utf-16-le") + b"\x00\x00"
    return name.ljust(64, b"\x00") + struct.pack(
        "<HBBIII16sIQQIQ",
        len(name), e.kind, e.color, e.left, e.right, e.child,
        b"\x00" * 16, 0, 0, 0,  # CLSID, state bits, creation and modified time
        e.start if e.kind != STORAGE else 0, e.size,
    )
