"""What an upload is, read from its bytes alone, and the refusals made before
any decoder runs.

Nothing here decodes pixels or trusts a file name or a declared content type.
:func:`inspect_upload` is the gate ``images.process_image`` passes first:

- size in bytes, then the magic number: JPEG, PNG, WebP, GIF and HEIC/HEIF
  are allowlisted (:func:`sniff_format`); SVG, HTML, PDF, BMP, TIFF, AVIF,
  scripts and everything else are refused;
- markup, script or PDF signatures anywhere in the bytes (:func:`find_markup`:
  a polyglot is a valid image that a browser or another parser would also
  read as HTML, SVG, PHP or PDF);
- the width and height the header claims (:func:`header_size`), so a
  decompression bomb is refused before Pillow allocates anything;
- GIF frames, counted up to the cap (:func:`count_gif_frames`), because
  Pillow's ``n_frames`` walks every frame (3 s for 15 MB of 1x1 frames).

The readers are bounded by the length of the data and never raise on garbage:
they answer ``None`` (unknown) and leave the verdict to the decoder. The
refusals (the :class:`ImageRejected` tree) live here and are re-exported by
``images.py``.
"""

from __future__ import annotations

import struct
from typing import Literal

from chat_service.errors import BadRequest, ChatError, PayloadTooLarge, UnsupportedMedia

__all__ = [
    "MARKUP_SIGNATURES",
    "ImageCorrupt",
    "ImageFileTooLarge",
    "ImageRejected",
    "ImageTooLarge",
    "SourceFormat",
    "TooManyFrames",
    "UnsupportedImage",
    "check_frames",
    "check_pixels",
    "count_gif_frames",
    "find_markup",
    "header_size",
    "inspect_upload",
    "sniff_format",
]


class ImageRejected(ChatError):
    """Root of the image pipeline's refusals. Each subclass also derives from
    the service error that carries its HTTP status, and has one stable code::

        ImageRejected
        ├── UnsupportedImage   415  unsupported_image_type (not allowlisted, polyglot)
        ├── ImageFileTooLarge  413  payload_too_large (bytes)
        ├── ImageTooLarge      413  image_too_large (pixels)
        ├── ImageCorrupt       400  image_corrupt (truncated, damaged, undecodable)
        └── TooManyFrames      400  too_many_frames

    ``detail`` is their only constructor argument, so they pickle: a refusal
    raised in a worker process comes back with its class and code.
    """


class UnsupportedImage(ImageRejected, UnsupportedMedia):
    code = "unsupported_image_type"


class ImageFileTooLarge(ImageRejected, PayloadTooLarge):
    code = "payload_too_large"


class ImageTooLarge(ImageRejected, PayloadTooLarge):
    code = "image_too_large"


class ImageCorrupt(ImageRejected, BadRequest):
    code = "image_corrupt"


class TooManyFrames(ImageRejected, BadRequest):
    code = "too_many_frames"


SourceFormat = Literal["jpeg", "png", "webp", "gif", "heif"]

# Searched case-insensitively. "<svg" is checked separately: four letters
# appear by chance in about one compressed 3 MB photo in a hundred, so it only
# counts when followed by what ends a tag name (whitespace, "/" or ">"), which
# cuts chance hits some forty-fold. The others are five or more fixed bytes.
MARKUP_SIGNATURES: tuple[bytes, ...] = (
    b"<?php",
    b"<script",
    b"<html",
    b"<!doctype",
    b"<iframe",
    b"%pdf-",
)
_SVG = b"<svg"
_TAG_NAME_END = frozenset(b" \t\r\n\f/>")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# HEVC-coded HEIF brands (ISO/IEC 23008-12). AVIF ("avif", "avis") is refused:
# it is not on the allowlist and libheif here has no AV1 decoder.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# JPEG start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def sniff_format(data: bytes) -> SourceFormat | None:
    """The allowlisted format the magic number announces, or ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if _is_heic(data):
        return "heif"
    return None


def _is_heic(data: bytes) -> bool:
    """An ISO-BMFF ``ftyp`` box whose brands name an HEVC-coded HEIF image."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(data[:4], "big")
    if box_size < 16 or box_size > min(len(data), 4096) or box_size % 4:
        return False
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, box_size, 4)}
    if major in _HEIC_BRANDS:
        return True
    return major in _GENERIC_HEIF_BRANDS and bool(compatible & _HEIC_BRANDS)


def find_markup(data: bytes) -> str | None:
    """The first markup/script/PDF signature found anywhere in ``data``, or ``None``."""
    folded = data.lower()
    for signature in MARKUP_SIGNATURES:
        if signature in folded:
            return signature.decode()
    at = folded.find(_SVG)
    while at != -1:
        after = at + len(_SVG)
        if after >= len(folded) or folded[after] in _TAG_NAME_END:
            return _SVG.decode()
        at = folded.find(_SVG, after)
    return None


def header_size(data: bytes, fmt: SourceFormat) -> tuple[int, int] | None:
    """(width, height) as the header claims them, before any decoding.

    For HEIF, the largest size any image item's ``ispe`` property claims
    (libheif decodes coded items at their own size, which may differ from the
    primary image's). ``None`` when the header cannot be read here; the
    caller then checks the size Pillow reads, still before decoding.
    """
    try:
        if fmt == "heif":
            return _heif_size(data)
        if fmt == "png":
            return _png_size(data)
        if fmt == "gif":
            return struct.unpack_from("<HH", data, 6) if len(data) >= 10 else None
        if fmt == "jpeg":
            return _jpeg_size(data)
        if fmt == "webp":
            return _webp_size(data)
    except struct.error:
        return None
    return None


def _heif_size(data: bytes) -> tuple[int, int] | None:
    """The largest ``ispe`` (image spatial extents) inside the top-level ``meta`` box."""
    pos, end = 0, len(data)
    while pos + 8 <= end:
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        if size == 1 and pos + 16 <= end:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            size = end - pos
        if size < 8:
            return None
        if kind == b"meta":
            meta = data[pos : min(end, pos + size)]
            sizes = [
                struct.unpack_from(">II", meta, at + 8)
                for at in _find_all(meta, b"ispe")
                if at >= 4 and at + 16 <= len(meta) and meta[at - 4 : at] == b"\x00\x00\x00\x14"
            ]
            return max(sizes, key=lambda wh: wh[0] * wh[1], default=None)
        pos += size
    return None


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found, at = [], data.find(needle)
    while at != -1:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the marker segments up to the first start-of-frame."""
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI or start of scan before any frame header
            return None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def count_gif_frames(data: bytes, stop_after: int) -> int | None:
    """Image descriptors in a GIF, counting no further than ``stop_after``.

    Walks the block structure (extensions and image data as length-prefixed
    sub-blocks) without decoding anything. ``None`` if the structure is
    damaged before the first frame; the decoder then reports the damage.
    """
    if len(data) < 13:
        return None
    flags = data[10]
    pos = 13 + ((3 << ((flags & 0x07) + 1)) if flags & 0x80 else 0)
    frames = 0
    end = len(data)
    while pos < end and frames < stop_after:
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif introducer == 0x2C:  # image descriptor (10 bytes), local table, LZW size
            if pos + 10 > end:
                break
            frames += 1
            local = data[pos + 9]
            pos += 10 + ((3 << ((local & 0x07) + 1)) if local & 0x80 else 0)
            pos = _skip_sub_blocks(data, pos + 1)
        else:
            break
        if pos < 0:
            break
    return frames or None


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """The position after a chain of sub-blocks ending in a zero length; -1 if cut."""
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return -1


def inspect_upload(
    data: bytes, *, max_bytes: int, max_pixels: int, max_frames: int
) -> tuple[SourceFormat, int | None]:
    """The sniffed format and, for GIF, the frame count; raises :class:`ImageRejected`."""
    if len(data) > max_bytes:
        raise ImageFileTooLarge(f"an image may be at most {max_bytes} bytes")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImage("only JPEG, PNG, WebP, GIF and HEIC images are accepted")
    if find_markup(data) is not None:
        raise UnsupportedImage("the file contains markup or a document besides an image")
    size = header_size(data, fmt)
    if size is not None:
        check_pixels(size, max_pixels)
    frames = None
    if fmt == "gif":  # never Pillow's n_frames: see count_gif_frames
        frames = count_gif_frames(data, stop_after=max_frames + 1) or 1
        check_frames(frames, max_frames)
    return fmt, frames


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image has more than {max_pixels} pixels")
    if width < 1 or height < 1:
        raise ImageCorrupt("the image has no pixels")


def check_frames(frames: int, max_frames: int) -> None:
    if frames > max_frames:
        raise TooManyFrames(f"an image may have at most {max_frames} frames")
