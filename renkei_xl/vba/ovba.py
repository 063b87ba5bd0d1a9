"""MS-OVBA 2.4.1 compression: every stream of a VBA project except PROJECT is stored this way.

Hand-written because the only PyPI package for it (``ms-ovba-compression`` 1.0.1) corrupts
inputs over about 600 bytes (measured when this module was written). The tests check this
compressor against oletools' own decompressor. Decompression is here too: the server reads
the Subs a master's VBA carries (renkei_xl.vba.read) and oletools, which has one, is a large
analysis toolkit with a slow import, not a runtime dependency worth adding for 30 lines.
"""

from bisect import bisect_left

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
    """2.4.1.3.7 Compressing a DecompressedChunk, falling back to a raw chunk (2.4.1.3.10).

    2.4.1.3.19.4 Matching, inlined (a call per token was a fifth of the time): the longest
    earlier occurrence of the bytes at ``pos`` in the chunk, the latest of equally long ones,
    among the last ``_MAX_CANDIDATES`` earlier positions of the same 3-byte key (what comparing
    each byte by byte, latest first, finds). The keys are indexed first, the earlier ones found
    by ``bisect``; a candidate that cannot beat the best is passed over on one byte and one
    slice compare, a match extended a slice at a time. The byte-by-byte search was most of a
    VBA build (0.3 s a project, in every test process); the output is the same bytes."""
    body = bytearray()
    last_key = end - _MIN_MATCH          # a key must not reach into the next chunk
    heads = _keys_at(data, start, last_key)
    pos = start
    while pos < end:
        # 2.4.1.3.8 Compressing a TokenSequence: a FlagByte, then up to 8 tokens
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= end:
                break
            found = heads.get(data[pos:pos + _MIN_MATCH]) if pos <= last_key else None
            if found is None or found[0] >= pos:
                body.append(data[pos])  # 2.4.1.3.9 Compressing a LiteralToken
                pos += 1
                continue
            earlier = bisect_left(found, pos)   # the positions before this one (found holds pos)
            bits = _offset_bits(pos - start)
            max_length = min((0xFFFF >> bits) + _MIN_MATCH, end - pos)
            best_at, best = 0, 0
            for i in range(earlier - 1, max(earlier - _MAX_CANDIDATES, 0) - 1, -1):
                cand = found[i]
                if best:
                    # only a longer match counts: it must agree on the first ``best + 1`` bytes
                    if data[cand + best] != data[pos + best] or data[cand:cand + best] != data[pos:pos + best]:
                        continue
                    length = best + 1
                else:
                    length = _MIN_MATCH
                while length + _STRIDE <= max_length and \
                        data[cand + length:cand + length + _STRIDE] == data[pos + length:pos + length + _STRIDE]:
                    length += _STRIDE
                while length < max_length and data[cand + length] == data[pos + length]:
                    length += 1
                best_at, best = cand, length
                if length == max_length:
                    break
            # 2.4.1.3.19.3 Pack CopyToken with the offset/length split of CopyToken Help
            token = ((pos - best_at - 1) << (16 - bits)) | (best - _MIN_MATCH)
            body += token.to_bytes(2, "little")
            body[flag_at] |= 1 << bit
            pos += best
    if len(body) <= CHUNK:
        # 2.4.1.1.5 CompressedChunkHeader: size - 3 in 12 bits, signature 0b011, flag 1
        return (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + bytes(body)
    # 2.4.1.3.10 Compressing a RawChunk: 4096 bytes verbatim, padded with 0x00 as the
    # spec says (only a last chunk of 3641+ incompressible bytes is ever padded)
    raw = data[start:end].ljust(CHUNK, b"\x00")
    return (0x3000 | (CHUNK + 2 - 3)).to_bytes(2, "little") + raw


def _keys_at(data: bytes, start: int, last: int) -> dict[bytes, list[int]]:
    """Every 3-byte key from ``start`` to ``last`` → its positions, in order."""
    heads: dict[bytes, list[int]] = {}
    for p in range(start, last + 1):
        key = data[p:p + _MIN_MATCH]
        found = heads.get(key)
        if found is None:
            heads[key] = [p]
        else:
            found.append(p)
    return heads


# How many bytes a match is extended by at once before the last ones are compared singly.
_STRIDE = 16


def _offset_bits(difference: int) -> int:
    """2.4.1.3.19.1 CopyToken Help: bits for the offset, at least 4, the rest for the length."""
    return max((difference - 1).bit_length(), 4)


# What one project's streams may decompress to, together (renkei_xl.vba.read): the master's own
# 31 modules are 0.37 MB of source, this is ten times that. A CompressedChunk of 6 bytes holds
# 4,096 (a literal and one CopyToken), so a 200 KB master whose module stream repeated it held
# 4 GB of "source": a click spent minutes of its worker's turn before a MemoryError
# (「予期しないエラー」), and upgrade-macros ran past any time staff wait. Within the bound, the
# worst to decompress (3-byte copies only, 1.4 million tokens) takes about 3 s here, and the
# worst to read for its Subs and names (read._shape: declarations on every line) about 5 s,
# once per saved project (server.place caches it).
MAX_DECOMPRESSED = 4 * 1024 * 1024


class TooLarge(ValueError):
    """A container that decompresses past its budget: said to staff as too large, not as
    damaged (a project of real modules past the budget is not repaired by saving it again)."""


def decompress(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """2.4.1.3.1 Decompression algorithm; ValueError on anything that is not a container,
    on a chunk that decompresses to more than a DecompressedChunk holds (2.4.1.1.3: 4,096
    bytes), and past ``limit`` bytes in all: what a container may declare is bounded by the
    spec, not by the bytes it was given. Copies and runs of literals go a slice at a time, so
    the time follows the tokens, not the bytes they stand for."""
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
        if len(out) > limit:                    # checked a chunk at a time: at most 4096 bytes past it
            raise TooLarge(f"decompresses past {limit:,} bytes")
        if not header & 0x8000:                 # a RawChunk: 4096 bytes verbatim
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        start = len(out)
        while pos < end:
            flags = data[pos]
            pos += 1
            if not flags:                       # eight literals (fewer at the chunk's end)
                out += data[pos:min(pos + 8, end)]
                pos = min(pos + 8, end)
            else:
                for bit in range(8):
                    if pos >= end:
                        break
                    if not flags >> bit & 1:
                        out.append(data[pos])
                        pos += 1
                        continue
                    if pos + 2 > end:
                        raise ValueError("truncated CopyToken")
                    token = data[pos] | data[pos + 1] << 8
                    pos += 2
                    done = len(out) - start
                    bits = max((done - 1).bit_length(), 4)      # _offset_bits, inlined: a call per token
                    offset = (token >> (16 - bits)) + 1
                    length = (token & (0xFFFF >> bits)) + _MIN_MATCH
                    if offset > done:
                        raise ValueError("CopyToken reaches before its chunk")
                    at = len(out) - offset
                    if offset >= length:
                        out += out[at:at + length]
                    else:                       # overlaps what it copies: the last offset bytes repeated
                        out += (out[at:] * (length // offset + 1))[:length]
            if len(out) - start > CHUNK:
                raise ValueError("a CompressedChunk decompresses past 4096 bytes")
    if len(out) > limit:
        raise TooLarge(f"decompresses past {limit:,} bytes")
    return bytes(out)
