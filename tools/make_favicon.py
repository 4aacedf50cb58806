"""Draw the store's favicon (a white basket on a green rounded square, 32x32) and
write it as a PNG inside an ICO file, with the standard library only:

    python tools/make_favicon.py autogrocery/api/docs/favicon.ico
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

SIZE = 32
GREEN = (46, 139, 87, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
Pixel = tuple[int, int, int, int]


def draw() -> list[list[Pixel]]:
    pixels = [[CLEAR] * SIZE for _ in range(SIZE)]
    radius = 6
    for y in range(SIZE):
        for x in range(SIZE):
            cx = min(max(x, radius), SIZE - 1 - radius)
            cy = min(max(y, radius), SIZE - 1 - radius)
            if (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius:
                pixels[y][x] = GREEN

    def fill(x0: int, y0: int, x1: int, y1: int, colour: Pixel = WHITE) -> None:
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                pixels[y][x] = colour

    for x in range(9, 24):  # the handle, an arch
        for y in range(5, 14):
            reach = ((x - 16) / 7.0) ** 2 + ((y - 13) / 7.5) ** 2
            if 0.72 <= reach <= 1.0:
                pixels[y][x] = WHITE
    fill(5, 13, 26, 15)  # the rim
    for y in range(16, 26):  # the body, narrowing to the bottom
        inset = (y - 16) // 4
        fill(7 + inset, y, 24 - inset, y)
    for x in (11, 16, 21):  # its slats
        fill(x, 17, x, 24, GREEN)
    return pixels


def png(pixels: list[list[Pixel]]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(image: bytes) -> bytes:
    """One PNG image in an ICO container (as browsers have read it for years)."""
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(ico(png(draw())))
