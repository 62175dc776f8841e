"""Small real images for the tests, made without any imaging library.

``png(width, height)`` writes a valid PNG (zlib and CRCs by the standard
library), so the tests of images run where Pillow is not installed too.
"""

from __future__ import annotations

import os
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _png(width: int, height: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 6))
        + _chunk(b"IEND", b"")
    )


def noisy_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress (about 3 bytes a pixel)."""
    return _png(width, height, b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height)))


def png(width: int, height: int, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """An opaque ``width`` x ``height`` PNG of one colour, with a lighter diagonal band."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            light = abs(x - y) < max(1, width // 8)
            rows += bytes(min(255, c + 90) if light else c for c in rgb)
    return _png(width, height, bytes(rows))


def gif_header(width: int, height: int) -> bytes:
    """The first bytes of a GIF: enough for its size to be read, not to be drawn."""
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00"


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 segment, then a baseline start-of-frame with the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof


def svg(body: str = '<rect width="10" height="10" fill="#36c"/>') -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' + body + "</svg>"
    ).encode()
