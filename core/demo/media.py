"""Deterministic, real-looking media files for the demo catalogue, stdlib only.

Everything is derived from a seed, so a file's sha256 is the same on every run and
machine (tests compare against it). The PNG, JPEG, WAV, PDF, CSV and ZIP are valid
files a viewer opens; the MP3 and MP4 carry real headers around seeded payload.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zipfile
import zlib
from collections.abc import Callable

RGB = tuple[int, int, int]


def seeded_bytes(seed: str, size: int) -> bytes:
    """`size` pseudo-random bytes that depend only on `seed`."""
    return hashlib.shake_256(seed.encode()).digest(size)


def _words(seed: str, count: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ra", "te", "sun", "na", "vo", "el", "dri", "po", "sa"]
    noise = seeded_bytes(seed, count * 3)
    words = []
    for i in range(count):
        a, b, c = noise[3 * i : 3 * i + 3]
        words.append(syllables[a % 12] + syllables[b % 12] + ("" if c % 3 else syllables[c % 12]))
    return words


# --------------------------------------------------------------------------- PNG


def png(width: int, height: int, seed: str) -> bytes:
    """A tide chart on textured paper: grid, a tide curve, seeded grain (so it is not tiny)."""
    grain = bytes(236 + (b & 15) for b in range(256))
    pixels = bytearray(seeded_bytes(seed, width * height * 3).translate(grain))

    def dot(x: int, y: int, colour: RGB) -> None:
        if 0 <= x < width and 0 <= y < height:
            i = (y * width + x) * 3
            pixels[i : i + 3] = bytes(colour)

    for x in range(0, width, 40):
        for y in range(height):
            dot(x, y, (200, 210, 225))
    for y in range(0, height, 40):
        for x in range(width):
            dot(x, y, (200, 210, 225))
    for x in range(width):
        y = int(height / 2 + height / 3 * math.sin(x / width * 4 * math.pi))
        for dy in (-1, 0, 1):
            dot(x, y + dy, (20, 70, 160))
    return encode_png(width, height, bytes(pixels))


def encode_png(width: int, height: int, rgb: bytes, level: int = 9) -> bytes:
    """An 8-bit RGB PNG of `rgb` (width * height * 3 bytes, rows top to bottom)."""
    stride = width * 3
    if len(rgb) != stride * height:
        raise ValueError(f"expected {stride * height} bytes of RGB, got {len(rgb)}")
    raw = b"".join(b"\x00" + rgb[r * stride : (r + 1) * stride] for r in range(height))
    return png_file(width, height, zlib.compress(raw, level))


def png_file(width: int, height: int, idat: bytes) -> bytes:
    """A PNG that declares width x height RGB and carries `idat` as its compressed pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def cover(seed: str, size: int = 64) -> bytes:
    """A small square cover: a seeded two-colour diagonal gradient with a disc and grain.

    Every seed gives its own colours and disc position, so covers tell items apart.
    Built a row at a time from byte slices, so a cover takes well under a millisecond.
    """
    a0, a1, a2, b0, b1, b2, cx, cy, radius = seeded_bytes("cover:" + seed, 9)
    top, bottom = (a0, a1, a2), (b0 // 2, b1 // 2, b2 // 2)
    disc = bytes((255 - a0 // 3, 255 - a1 // 3, 255 - a2 // 3))
    span = max(1, 2 * (size - 1))
    # Pixel (x, y) has the colour of diagonal x + y: row y is a slice of this strip.
    strip = b"".join(
        bytes(int(t + (b - t) * d / span) for t, b in zip(top, bottom, strict=True))
        for d in range(2 * size - 1)
    )
    centre_x = size * (0.25 + cx / 512)
    centre_y = size * (0.25 + cy / 512)
    r = size * (0.15 + radius / 1024)
    rows = []
    for y in range(size):
        row = bytearray(strip[3 * y : 3 * (y + size)])
        dy = y + 0.5 - centre_y
        if abs(dy) < r:
            half = math.sqrt(r * r - dy * dy)
            start = max(0, math.ceil(centre_x - half - 0.5))
            end = min(size, math.floor(centre_x + half - 0.5) + 1)
            if end > start:
                row[3 * start : 3 * end] = disc * (end - start)
        rows.append(bytes(row))
    pixels = b"".join(rows)
    # Grain: flip the two low bits of each channel by a seeded mask.
    low_bits = bytes(b & 3 for b in range(256))
    mask = seeded_bytes("grain:" + seed, len(pixels)).translate(low_bits)
    grained = int.from_bytes(pixels, "big") ^ int.from_bytes(mask, "big")
    return encode_png(size, size, grained.to_bytes(len(pixels), "big"))


# -------------------------------------------------------------------------- JPEG

# Standard luminance DC table (ITU T.81 K.3); an AC table holding only end-of-block,
# since every block here is flat (DC only): a tiny but fully valid baseline JPEG.
_DC_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_AC_COUNTS = (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _canonical_codes(counts: tuple[int, ...]) -> list[tuple[int, int]]:
    codes: list[tuple[int, int]] = []
    code = 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes.append((code, length))
            code += 1
        code <<= 1
    return codes


def _dc_block_bits() -> list[str]:
    """The bits of one flat block, by DC difference + 255: the Huffman code of the
    difference's size, its magnitude bits, then the AC end-of-block code ("0")."""
    codes = _canonical_codes(_DC_COUNTS)
    table = []
    for diff in range(-255, 256):
        size = abs(diff).bit_length()
        code, length = codes[size]
        magnitude = (
            format(diff if diff > 0 else diff + (1 << size) - 1, f"0{size}b") if size else ""
        )
        table.append(format(code, f"0{length}b") + magnitude + "0")
    return table


def jpeg(width: int, height: int, paint: Callable[[float, float], RGB], seed: str) -> bytes:
    """A baseline JPEG of 8x8 flat blocks coloured by `paint(x, y)` (x, y in 0..1).

    Seeded grain on each block's luminance makes it look (and weigh) more like a photo.
    """
    cols, rows = (width + 7) // 8, (height + 7) // 8
    grain = seeded_bytes(seed, cols * rows)
    block_bits = _dc_block_bits()
    bits: list[str] = []
    previous = [0, 0, 0]
    for by in range(rows):
        for bx in range(cols):
            r, g, b = paint((bx + 0.5) / cols, (by + 0.5) / rows)
            noise = grain[by * cols + bx] % 9 - 4
            ycc = (
                0.299 * r + 0.587 * g + 0.114 * b + noise,
                128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
            )
            for component, value in enumerate(ycc):
                dc = max(-128, min(127, round(value) - 128))  # quantiser 8 cancels the DCT's 8
                diff = dc - previous[component]
                previous[component] = dc
                bits.append(block_bits[diff + 255])
    # Pad the last byte with 1s, then stuff a 0 after every 0xFF byte of the scan.
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    scan = int(stream, 2).to_bytes(len(stream) // 8, "big").replace(b"\xff", b"\xff\x00")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    components = b"".join(struct.pack(">BBB", i, 0x11, 0) for i in (1, 2, 3))
    huffman = b"\x00" + bytes(_DC_COUNTS) + bytes(range(12)) + b"\x10" + bytes(_AC_COUNTS) + b"\x00"
    return b"".join(
        [
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + bytes([8] * 64)),
            segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components),
            segment(0xC4, huffman),
            segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        ]
    )


def dawn_harbour(x: float, y: float) -> RGB:
    """Sky from violet to orange, a low sun, dark water with its reflection."""
    horizon = 0.58
    if y < horizon:
        t = y / horizon
        sky = (int(60 + 190 * t), int(50 + 100 * t), int(120 - 40 * t))
        glow = max(0.0, 1 - math.hypot(x - 0.66, (y - horizon + 0.06) * 1.6) / 0.14)
        return tuple(min(255, int(c + (255 - c) * glow)) for c in sky)  # type: ignore[return-value]
    t = (y - horizon) / (1 - horizon)
    shimmer = 0.5 + 0.5 * math.sin(y * 90) if abs(x - 0.66) < 0.05 + 0.1 * t else 0.0
    return (int(30 + 150 * shimmer), int(40 + 80 * shimmer - 20 * t), int(80 - 30 * t))


def noon_lighthouse(x: float, y: float) -> RGB:
    """A pale sky, a white tower with a red band on a green headland, blue sea."""
    if 0.46 < x < 0.54 and 0.2 < y < 0.7:
        return (200, 40, 40) if 0.38 < y < 0.46 else (245, 245, 240)
    if y < 0.62:
        return (int(150 + 80 * y), int(190 + 50 * y), 240)
    if x < 0.7 and y < 0.75:
        return (70, 130, 60)
    return (30, int(80 + 60 * (1 - y)), 150)


# ---------------------------------------------------------------------- audio/video


def wav(seconds: float, seed: str, rate: int = 22050) -> bytes:
    """16-bit mono PCM of soft noise ("rain"): valid and playable."""
    samples = int(seconds * rate)
    data = bytearray(seeded_bytes(seed, samples * 2))
    quiet = bytes((b & 0x0F) if b < 128 else (0xF0 | (b & 0x0F)) for b in range(256))
    data[1::2] = bytes(data[1::2]).translate(quiet)  # high bytes: amplitude within ±4096
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + bytes(data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _id3_frame(kind: bytes, text: str) -> bytes:
    payload = b"\x00" + text.encode("latin-1", "replace")
    return kind + struct.pack(">I", len(payload)) + b"\x00\x00" + payload


def mp3(size: int, seed: str, title: str, artist: str = "haul demo") -> bytes:
    """An ID3v2.3 tag and MPEG-1 Layer III frame headers around seeded payload."""
    frames = _id3_frame(b"TIT2", title) + _id3_frame(b"TPE1", artist)
    n = len(frames)
    synchsafe = bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
    tag = b"ID3\x03\x00\x00" + synchsafe + frames
    frame_size = 417  # 128 kbit/s, 44.1 kHz, no padding
    count = max(1, (size - len(tag)) // frame_size)
    payload = seeded_bytes(seed, count * (frame_size - 4))
    step = frame_size - 4
    body = b"".join(b"\xff\xfb\x90\x44" + payload[i * step : (i + 1) * step] for i in range(count))
    return tag + body


def mp4(size: int, seed: str) -> bytes:
    """An ISO-BMFF `ftyp` box and an `mdat` box of seeded payload."""
    ftyp = b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41"
    ftyp_box = struct.pack(">I", len(ftyp) + 8) + b"ftyp" + ftyp
    payload = seeded_bytes(seed, max(0, size - len(ftyp_box) - 8))
    return ftyp_box + struct.pack(">I", len(payload) + 8) + b"mdat" + payload


# ----------------------------------------------------------------------- documents


def pdf(title: str, pages: int, seed: str) -> bytes:
    """A real multi-page PDF of generated field notes (Helvetica, uncompressed)."""
    words = _words(seed, pages * 40 * 9)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once the page ids are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page_ids = []
    for p in range(pages):
        lines = [f"({title} - page {p + 1}) '".encode()]
        for line in range(40):
            start = (p * 40 + line) * 9
            lines.append(f"({' '.join(words[start : start + 9])}) '".encode())
        stream = b"BT /F1 11 Tf 14 TL 60 780 Td\n" + b"\n".join(lines) + b"\nET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def csv_log(rows: int, seed: str) -> bytes:
    """A weather-station log: a plausible CSV with a header row."""
    noise = seeded_bytes(seed, rows * 4)
    stations = ("north-pier", "lighthouse", "harbour-mouth", "east-breakwater")
    lines = ["timestamp,station,temp_c,wind_kt,pressure_hpa"]
    for i in range(rows):
        a, b, c, d = noise[4 * i : 4 * i + 4]
        day, minute = divmod(i * 10, 24 * 60)
        stamp = f"2019-06-{1 + day % 30:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
        temp = 8 + a / 25.5
        lines.append(f"{stamp},{stations[b % 4]},{temp:.1f},{c % 40},{990 + d / 6.4:.1f}")
    return ("\n".join(lines) + "\n").encode()


def zip_archive(members: dict[str, bytes]) -> bytes:
    """A ZIP with fixed timestamps, so the archive bytes do not depend on the clock."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2019, 6, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()
