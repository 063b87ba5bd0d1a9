"""MS-OVBA 2.4.1 compression: every stream of a VBA project except PROJECT is stored this way.

Hand-written because the only PyPI package for it (``ms-ovba-compression`` 1.0.1) corrupts
inputs over about 600 bytes (measured when this module was written). The tests check this
compressor against oletools' own decompressor. Decompression is here too: the server reads
the Subs a master's VBA carries (renkei_xl.vba.read) and oletools, which has one, is a large
analysis toolkit with a slow import, not a runtime dependency worth adding for 30 lines.
"""

CHUNK = 4096  # 2.4.1.1.4: a DecompressedChunk holds 4096 bytes (the last one may hold fewer)
_MIN_MATCH = 3  # 2.4.1.3.19.4: a CopyToken is only worth it for 3 bytes or more
_MAX_CANDIDATES = 64  # search depth per position; shallower search only costs compression


def compress(data: bytes) -> bytes:
    """2.4.1.3.6 Compression algorithm: a CompressedContainer of CompressedChunks."""
    out = bytearray(b"\x01")  # 2.4.1.1.1 CompressedContainer: SignatureByte 0x01
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data, start, min(start + CHUNK, len(data)))
    return bytes(out)


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """2.4.1.3.7 Compressing a DecompressedChunk, falling back to a raw chunk (2.4.1.3.10)."""
    body = bytearray()
    heads: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions in this chunk
    pos = start
    while pos < end:
        # 2.4.1.3.8 Compressing a TokenSequence: a FlagByte, then up to 8 tokens
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= end:
                break
            offset, length = _longest_match(data, start, pos, end, heads)
            if length:
                # 2.4.1.3.19.3 Pack CopyToken with the offset/length split of CopyToken Help
                bits = _offset_bits(pos - start)
                token = ((offset - 1) << (16 - bits)) | (length - _MIN_MATCH)
                body += token.to_bytes(2, "little")
                body[flag_at] |= 1 << bit
            else:
                body.append(data[pos])  # 2.4.1.3.9 Compressing a LiteralToken
                length = 1
            for p in range(pos, min(pos + length, end - _MIN_MATCH + 1)):
                heads.setdefault(data[p : p + _MIN_MATCH], []).append(p)
            pos += length
    if len(body) <= CHUNK:
        # 2.4.1.1.5 CompressedChunkHeader: size - 3 in 12 bits, signature 0b011, flag 1
        return (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + bytes(body)
    # 2.4.1.3.10 Compressing a RawChunk: 4096 bytes verbatim, padded with 0x00 as the
    # spec says (only a last chunk of 3641+ incompressible bytes is ever padded)
    raw = data[start:end].ljust(CHUNK, b"\x00")
    return (0x3000 | (CHUNK + 2 - 3)).to_bytes(2, "little") + raw


def _offset_bits(difference: int) -> int:
    """2.4.1.3.19.1 CopyToken Help: bits for the offset, at least 4, the rest for the length."""
    return max((difference - 1).bit_length(), 4)


def _longest_match(data: bytes, start: int, pos: int, end: int, heads: dict) -> tuple[int, int]:
    """2.4.1.3.19.4 Matching: the longest earlier occurrence in the same chunk."""
    if end - pos < _MIN_MATCH:  # the key must not reach into the next chunk
        return 0, 0
    candidates = heads.get(data[pos : pos + _MIN_MATCH])
    if not candidates:
        return 0, 0
    max_length = min((0xFFFF >> _offset_bits(pos - start)) + _MIN_MATCH, end - pos)
    best_at, best = 0, 0
    for cand in reversed(candidates[-_MAX_CANDIDATES:]):
        length = _MIN_MATCH
        while length < max_length and data[cand + length] == data[pos + length]:
            length += 1
        if length > best:
            best_at, best = cand, length
            if length == max_length:
                break
    return (pos - best_at, best) if best >= _MIN_MATCH else (0, 0)


def decompress(data: bytes) -> bytes:
    """2.4.1.3.1 Decompression algorithm; ValueError on anything that is not a container."""
    if not data or data[0] != 0x01:
        raise ValueError("not a CompressedContainer (signature byte)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated CompressedChunkHeader")
        header = int.from_bytes(data[pos:pos + 2], "little")
        size = (header & 0x0FFF) + 3            # the chunk with its 2-byte header
        if (header >> 12) & 0b0111 != 0b011:
            raise ValueError("bad CompressedChunkSignature")
        end = min(pos + size, len(data))
        pos += 2
        if not header & 0x8000:                 # a RawChunk: 4096 bytes verbatim
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        start = len(out)
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise ValueError("truncated CopyToken")
                token = int.from_bytes(data[pos:pos + 2], "little")
                pos += 2
                bits = _offset_bits(len(out) - start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + _MIN_MATCH
                if offset > len(out) - start:
                    raise ValueError("CopyToken reaches before its chunk")
                for _ in range(length):     # may overlap what it is copying: byte by byte
                    out.append(out[-offset])
    return bytes(out)
