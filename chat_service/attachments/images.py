"""The image pipeline: upload bytes in, safe re-encoded renditions out.

:func:`process_image` is pure and synchronous (bytes and limits in, a
:class:`ProcessedImage` out, both picklable); :class:`ImageProcessor` runs it
in worker processes so a large photo never stalls the event loop. An upload:

1. passes the gate of ``sniff.py`` (bytes, allowlisted magic number, no
   markup or PDF anywhere, header pixels, GIF frames) before any decoder runs;
2. is opened by Pillow restricted to the sniffed format, its size and frames
   checked again as Pillow reads them; the first frame only is decoded
   (animated GIF/WebP, APNG, multi-image HEIF); decoder failure: image_corrupt;
3. is copied into a fresh image of pixels only (through its ICC profile to
   sRGB), so no EXIF, GPS, XMP, IPTC, ICC, comment or text chunk survives,
   and turned upright (EXIF orientation);
4. is re-encoded as ``full``, ``display``, ``thumb`` (long side capped, never
   upscaled): JPEG when every pixel is opaque, PNG when any is transparent
   (lossless, shown everywhere; transparent uploads are logos, stickers and
   screenshots rather than photos; zlib level 3: a third of level 6's time on
   noisy content, at about the same size).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import io
import logging
import math
import multiprocessing
import os
import resource
import struct
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pillow_heif
from PIL import ExifTags, Image, ImageCms

from chat_service.attachments.sniff import (
    ImageCorrupt,
    ImageFileTooLarge,
    ImageLimits,
    ImageRejected,
    ImageTooLarge,
    SourceFormat,
    TooManyFrames,
    UnsupportedImage,
    check_frames,
    check_pixels,
    inspect_upload,
)
from chat_service.errors import ChatError, Unavailable

__all__ = [
    "DECODER_ERRORS",
    "RENDITION_NAMES",
    "ImageCorrupt",
    "ImageFileTooLarge",
    "ImageLimits",
    "ImageProcessor",
    "ImageRejected",
    "ImageTooLarge",
    "ProcessedImage",
    "Rendition",
    "TooManyFrames",
    "UnsupportedImage",
    "process_image",
]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
RENDITION_NAMES = ("full", "display", "thumb")

# What Pillow, its plugins and pillow-heif raise on damaged data. Anything else
# escaping a decoder is still refused as image_corrupt, but logged with its
# traceback (see process_image); the fuzz corpus asserts it never happens.
DECODER_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow plugins' "not a ... file"
    ValueError,
    EOFError,
    IndexError,  # Pillow's GIF reader indexing a short block
    RuntimeError,  # pillow-heif: libheif errors, its security limits included
    struct.error,
    ImageCms.PyCMSError,
)


@dataclass(frozen=True)
class Rendition:
    """One re-encoded image; ``sha256`` is the hex digest of ``data``."""

    content_type: str
    width: int
    height: int
    data: bytes = field(repr=False)
    sha256: str


@dataclass(frozen=True)
class ProcessedImage:
    """The renditions of an upload, keyed ``full``, ``display``, ``thumb``.

    ``width`` and ``height`` are the source's, upright; ``frames`` is how many
    the source had (only the first is kept).
    """

    source_format: SourceFormat
    width: int
    height: int
    frames: int
    renditions: dict[str, Rendition]


# -- the pipeline ----------------------------------------------------------

# EXIF orientation -> the transpose that makes the picture upright (the table
# of ImageOps.exif_transpose, applied without rewriting metadata we drop anyway).
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIF, once per process; no thumbnails, depth or aux images."""
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def process_image(data: bytes, limits: ImageLimits | None = None) -> ProcessedImage:
    """Check, decode, clean and re-encode one upload; raises :class:`ImageRejected`."""
    limits = limits or ImageLimits()
    fmt, frames = inspect_upload(data, limits)
    if fmt == "heif":
        _register_heif()
    try:
        with Image.open(io.BytesIO(data), formats=[fmt.upper()]) as im:
            return _process_opened(im, fmt, frames, limits)
    except ChatError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the image has more than {limits.max_pixels} pixels") from exc
    except MemoryError:
        raise
    except DECODER_ERRORS as exc:
        raise ImageCorrupt(f"the {fmt} image is damaged or truncated") from exc
    except Exception as exc:
        # The boundary around third-party parsers fed hostile bytes: whatever
        # they raise is the upload's fault, never a 500.
        log.exception("unexpected %s from the %s decoder", type(exc).__name__, fmt)
        raise ImageCorrupt(f"the {fmt} image could not be decoded") from exc


def _process_opened(
    im: Image.Image, fmt: SourceFormat, frames: int | None, limits: ImageLimits
) -> ProcessedImage:
    if im.format != fmt.upper():
        raise UnsupportedImage("the image is not what its header says")
    check_pixels(im.size, limits.max_pixels)  # Pillow's reading, still before decoding
    if frames is None:
        frames = int(getattr(im, "n_frames", 1))
        check_frames(frames, limits.max_frames)
    orientation = _orientation(im)
    width, height = im.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if fmt == "jpeg":
        _draft(im, limits.full_max_side)
    im.load()  # the first frame only
    check_pixels(im.size, limits.max_pixels)
    pixels = _clean_pixels(im)
    im.close()  # frees the decoded frame before the next full-size copy
    if orientation in _UPRIGHT:
        pixels = pixels.transpose(_UPRIGHT[orientation])
    return ProcessedImage(
        source_format=fmt,
        width=width,
        height=height,
        frames=frames,
        renditions=_renditions(pixels, limits),
    )


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation; 1 when absent or unreadable (the EXIF is dropped anyway)."""
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
        return value if isinstance(value, int) and value in _UPRIGHT else 1
    except DECODER_ERRORS:
        return 1


def _draft(im: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the full rendition is that small."""
    w, h = im.size
    if max(w, h) >= 2 * max_side:
        scale = max_side / max(w, h)
        im.draft(None, (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))


def _clean_pixels(im: Image.Image) -> Image.Image:
    """The pixels as L, RGB or RGBA in sRGB, in a new image that carries nothing else."""
    has_alpha = im.mode in _ALPHA_MODES or "transparency" in im.info
    icc = im.info.get("icc_profile")
    if im.mode.startswith("I") or im.mode == "F":  # 16-bit or float grey
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif has_alpha:
        im = im.convert("RGBA")
        if im.getchannel("A").getextrema() == (255, 255):
            im = im.convert("RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode not in ("L", "RGB", "CMYK"):
        im = im.convert("RGB")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        im = _to_srgb(im, icc)
    if im.mode == "CMYK":
        im = im.convert("RGB")
    clean = Image.new(im.mode, im.size)
    clean.paste(im, (0, 0))
    return clean


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Convert through the embedded profile; an unusable profile is ignored
    (the pixels are then taken as sRGB), never a reason to refuse a photo."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, source, _srgb(), outputMode=out_mode)
    except DECODER_ERRORS:
        return im
    return converted if converted is not None else im


def _renditions(pixels: Image.Image, limits: ImageLimits) -> dict[str, Rendition]:
    """full, display, thumb: each scaled from the previous one, never upscaled."""
    out: dict[str, Rendition] = {}
    current = pixels
    sides = (limits.full_max_side, limits.display_max_side, limits.thumb_max_side)
    for name, max_side in zip(RENDITION_NAMES, sides, strict=True):
        size = _fit(current.size, max_side)
        if size != current.size:
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        out[name] = _encode(current, limits.jpeg_quality)
    return out


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= max_side:
        return size
    scale = max_side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _encode(im: Image.Image, quality: int) -> Rendition:
    buf = io.BytesIO()
    if im.mode == "RGBA":
        im.save(buf, "PNG", compress_level=3)
        content_type = "image/png"
    else:
        im.save(buf, "JPEG", quality=quality, optimize=True)
        content_type = "image/jpeg"
    data = buf.getvalue()
    return Rendition(
        content_type=content_type,
        width=im.width,
        height=im.height,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


# -- off the event loop ----------------------------------------------------


_WORKER_NICENESS = 10


def _start_worker(memory_bytes: int) -> None:
    """Worker initialiser: lower the priority (chat on the same cores goes
    first), cap the address space (a decoder that allocates more fails instead
    of taking the machine's memory), load Pillow's plugins."""
    with contextlib.suppress(OSError):
        os.nice(_WORKER_NICENESS)
    if memory_bytes > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    Image.init()
    _register_heif()


def _process_in_worker(data: bytes, limits: ImageLimits) -> ProcessedImage:
    try:
        return process_image(data, limits)
    except MemoryError:  # under the worker's cap, the image's fault
        raise ImageTooLarge("the image needs more memory than allowed") from None


class ImageProcessor:
    """Runs :func:`process_image` in a pool of worker processes.

    Decoding and encoding hold the GIL, so threads would still stall the
    event loop; processes do not. The pool is created on first use (or by
    :meth:`start`) with the ``forkserver`` start method (forking a process that
    runs threads and an event loop is unsafe) or ``spawn``. At most
    ``max_workers`` images are processed at once (default: min(2, CPUs));
    further calls wait their turn in the pool's queue. Refusals raised in a
    worker come back as the same :class:`ImageRejected` subclass and code.

    Each worker's address space is capped at ``worker_memory_bytes`` (default
    512 MiB + 24 bytes per allowed pixel: 1.4 GiB for 40 MP; 0 = no cap;
    a 12 MP JPEG peaks near 160 MiB). If a worker dies (a decoder crash), the
    pool is replaced and the image tried once more; dying twice on the same
    bytes is ``image_corrupt``.
    """

    def __init__(
        self,
        limits: ImageLimits | None = None,
        *,
        max_workers: int | None = None,
        start_method: str = "forkserver",
        worker_memory_bytes: int | None = None,
    ) -> None:
        if start_method not in ("forkserver", "spawn"):
            raise ValueError("start_method must be 'forkserver' or 'spawn'")
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be positive")
        self.limits = limits or ImageLimits()
        self.max_workers = max_workers or min(2, os.cpu_count() or 1)
        self._start_method = start_method
        if worker_memory_bytes is None:
            worker_memory_bytes = 512 * MiB + 24 * self.limits.max_pixels
        self.worker_memory_bytes = worker_memory_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._closed:
            raise Unavailable("image processing has shut down")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.max_workers,
                mp_context=multiprocessing.get_context(self._start_method),
                initializer=_start_worker,
                initargs=(self.worker_memory_bytes,),
            )
        return self._pool

    async def start(self) -> None:
        """Start every worker now rather than on the first upload."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(
            *(loop.run_in_executor(pool, os.getpid) for _ in range(self.max_workers))
        )

    async def process(self, data: bytes) -> ProcessedImage:
        """:func:`process_image` in a worker, with this processor's limits."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return await loop.run_in_executor(pool, _process_in_worker, data, self.limits)
            except BrokenProcessPool:
                self._discard(pool)
                log.warning("an image worker died (attempt %d of 2)", attempt)
        raise ImageCorrupt("the image could not be decoded")

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers (after their current image when ``wait``); later
        calls to :meth:`process` raise ``Unavailable``."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
