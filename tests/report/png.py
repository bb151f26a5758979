"""Just enough PNG decoding (stdlib only) to tell a rendered page from a blank screenshot.

Handles what headless Chromium writes: 8-bit RGB or RGBA, not interlaced, any of the five row
filters. Returns the pixels as rows of bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixels(self) -> list[bytes]:
        """Every pixel's RGB bytes (alpha dropped), row by row."""
        step = self.channels
        return [row[i : i + 3] for row in self.rows for i in range(0, len(row), step)]


def decode_png(data: bytes) -> Image:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    pos, header, compressed = len(SIGNATURE), b"", []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = CHANNELS[colour]
    stride = width * bpp
    raw = zlib.decompress(b"".join(compressed))
    previous = bytes(stride)
    rows: list[bytes] = []
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, bpp)
        rows.append(row)
        previous = row
    return Image(width, height, bpp, rows)


def _unfilter(kind: int, line: bytearray, previous: bytes, bpp: int) -> bytes:
    size = len(line)
    if kind == 0:
        return bytes(line)
    if kind == 1:  # Sub
        for i in range(bpp, size):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:  # Up: a byte-wise sum without carries, done on the whole row at once
        a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
        low, high = int.from_bytes(b"\x7f" * size, "big"), int.from_bytes(b"\x80" * size, "big")
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(size, "big")
    elif kind == 3:  # Average
        for i in range(size):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:  # Paeth
        for i in range(size):
            up = previous[i]
            if i >= bpp:
                left, corner = line[i - bpp], previous[i - bpp]
            else:
                left = corner = 0
            pa, pb, pc = abs(up - corner), abs(left - corner), abs(left + up - 2 * corner)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + predictor) & 0xFF
    else:
        raise ValueError(f"unknown PNG row filter {kind}")
    return bytes(line)
