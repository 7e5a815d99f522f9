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
- GIF frames, counted up to the cap (:func:`scan_gif`), because Pillow's
  ``n_frames`` walks every frame (3 s for 15 MB of 1x1 frames).

The readers are bounded by the length of the data and never raise on garbage:
they answer ``None`` (unknown) and leave the verdict to the decoder. The
limits (:class:`ImageLimits`, including the rendition sizes) and the refusals
(the :class:`ImageRejected` tree) live here and are re-exported by ``images.py``.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Literal

from chat_service.errors import BadRequest, ChatError, PayloadTooLarge, UnsupportedMedia

__all__ = [
    "MARKUP_SIGNATURES",
    "SHORT_TAGS",
    "GifScan",
    "ImageCorrupt",
    "ImageFileTooLarge",
    "ImageLimits",
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
    "scan_gif",
    "sniff_format",
]


MiB = 1024 * 1024


@dataclass(frozen=True)
class ImageLimits:
    """Every limit of the pipeline; the defaults suit phone photos."""

    max_bytes: int = 15 * MiB
    max_pixels: int = 40_000_000
    max_frames: int = 100
    full_max_side: int = 4096
    display_max_side: int = 1280
    thumb_max_side: int = 320
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_frames", "full_max_side"):
            if getattr(self, name) < 1:
                raise ValueError(f"ImageLimits.{name} must be positive")
        if not 1 <= self.thumb_max_side <= self.display_max_side <= self.full_max_side:
            raise ValueError("ImageLimits needs 1 <= thumb <= display <= full max side")
        if not 1 <= self.jpeg_quality <= 95:
            raise ValueError("ImageLimits.jpeg_quality must be within 1..95")


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

# Searched case-insensitively, anywhere. Short tag names only count when
# followed by what ends a tag name (whitespace, "/" or ">"), as a browser reads
# them: "<svg" alone turns up by chance in about one compressed 3 MB photo in
# 170, "<svg" plus a tag end in about one in 7,000, "<html" plus a tag end in
# about one in a million. The other signatures are long enough alone.
MARKUP_SIGNATURES: tuple[bytes, ...] = (
    b"<?php",
    b"<script",
    b"<!doctype",
    b"<iframe",
    b"%pdf-",
)
SHORT_TAGS: tuple[bytes, ...] = (b"<svg", b"<html")
_TAG_NAME_END = frozenset(b" \t\r\n\f/>")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# HEVC-coded HEIF brands (ISO/IEC 23008-12). AVIF ("avif", "avis") is refused:
# it is not on the allowlist and libheif here has no AV1 decoder.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_GIF_INTRODUCER = re.compile(rb"[!,;]")
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
    for tag in SHORT_TAGS:
        at = folded.find(tag)
        while at != -1:
            after = at + len(tag)
            if after >= len(folded) or folded[after] in _TAG_NAME_END:
                return tag.decode()
            at = folded.find(tag, after)
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
            return scan_gif(data, stop_after=1).size
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


@dataclass(frozen=True)
class GifScan:
    """What one walk over a GIF's blocks found (``frames`` stops at the cap)."""

    frames: int
    size: tuple[int, int] | None  # the screen, grown to hold the first frame
    too_many_blocks: bool


def scan_gif(data: bytes, stop_after: int) -> GifScan:
    """Walk the block structure the way Pillow's reader does, without decoding.

    Extensions and image data are length-prefixed sub-blocks; stray bytes are
    skipped up to the next introducer. Counts frames up to ``stop_after`` and
    walks at most ``8 * stop_after + 64`` blocks: Pillow walks every block
    before a frame byte by byte, so 15 MB of empty extensions would cost
    seconds of CPU (``too_many_blocks``).
    """
    if len(data) < 13:
        return GifScan(0, None, False)
    size = struct.unpack_from("<HH", data, 6)
    flags = data[10]
    pos = 13 + ((3 << ((flags & 0x07) + 1)) if flags & 0x80 else 0)
    end, frames, budget = len(data), 0, 8 * stop_after + 64
    while 0 <= pos < end and frames < stop_after:
        budget -= 1
        if budget < 0:
            return GifScan(frames, size, True)
        introducer = data[pos]
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif introducer == 0x2C and pos + 10 <= end:  # descriptor, local table, LZW size
            if frames == 0:
                left, top, w, h = struct.unpack_from("<HHHH", data, pos + 1)
                size = max(size[0], left + w), max(size[1], top + h)
            frames += 1
            local = data[pos + 9]
            pos += 10 + ((3 << ((local & 0x07) + 1)) if local & 0x80 else 0)
            pos = _skip_sub_blocks(data, pos + 1)
        elif introducer == 0x3B:  # trailer
            break
        else:
            found = _GIF_INTRODUCER.search(data, pos + 1)
            pos = found.start() if found else end
    return GifScan(frames, size, False)


def count_gif_frames(data: bytes, stop_after: int) -> int | None:
    """GIF frames, counted no further than ``stop_after``; ``None`` if none is found."""
    return scan_gif(data, stop_after).frames or None


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """The position after a chain of sub-blocks ending in a zero length; -1 if cut."""
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return -1


def inspect_upload(data: bytes, limits: ImageLimits) -> tuple[SourceFormat, int | None]:
    """The sniffed format and, for GIF, the frame count; raises :class:`ImageRejected`."""
    max_bytes, max_pixels, max_frames = limits.max_bytes, limits.max_pixels, limits.max_frames
    if len(data) > max_bytes:
        raise ImageFileTooLarge(f"an image may be at most {max_bytes} bytes")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImage("only JPEG, PNG, WebP, GIF and HEIC images are accepted")
    if find_markup(data) is not None:
        raise UnsupportedImage("the file contains markup or a document besides an image")
    if fmt == "gif":  # one walk; never Pillow's n_frames, see scan_gif
        gif = scan_gif(data, stop_after=max_frames + 1)
        if gif.size is not None:
            check_pixels(gif.size, max_pixels)
        if gif.too_many_blocks:
            raise TooManyFrames("the GIF has too many blocks for its frames")
        check_frames(gif.frames or 1, max_frames)
        return fmt, gif.frames or 1
    size = header_size(data, fmt)
    if size is not None:
        check_pixels(size, max_pixels)
    return fmt, None


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image has more than {max_pixels} pixels")
    if width < 1 or height < 1:
        raise ImageCorrupt("the image has no pixels")


def check_frames(frames: int, max_frames: int) -> None:
    if frames > max_frames:
        raise TooManyFrames(f"an image may have at most {max_frames} frames")
