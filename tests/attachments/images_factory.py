"""Images for the pipeline tests, made with Pillow in the test run.

Where a hostile file cannot come out of Pillow (a PNG header claiming
20000x20000, a GIF of 10,000 frames, bytes after a JPEG's end marker), it is a
Pillow-made image edited by hand, or assembled by hand with valid checksums.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import pillow_heif
from PIL import Image, ImageCms, ImageDraw, PngImagePlugin

__all__ = [
    "BOTTOM_LEFT",
    "BOTTOM_RIGHT",
    "GPS_IFD",
    "HTML_PAGE",
    "METADATA_MARKERS",
    "PHP_SHELL",
    "SVG_WITH_SCRIPT",
    "TOP_LEFT",
    "TOP_RIGHT",
    "animated_gif",
    "apng",
    "camera_exif",
    "encode",
    "gif_with_empty_extensions",
    "heic_photo",
    "hostile_inputs",
    "many_frame_gif",
    "noisy_photo",
    "png_claiming",
    "png_with_alpha",
    "quadrant_image",
    "quadrant_photo",
    "srgb_icc",
    "webp_photo",
    "with_jpeg_segment",
]

pillow_heif.register_heif_opener()

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# The stored corners of quadrant_photo; where they belong once upright depends
# on the orientation tag.
TOP_LEFT = (230, 20, 20)  # red
TOP_RIGHT = (20, 200, 20)  # green
BOTTOM_LEFT = (20, 20, 230)  # blue
BOTTOM_RIGHT = (240, 240, 240)  # white

PHP_SHELL = b"<?php system($_GET['c']); ?>"
HTML_PAGE = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
# Byte strings that only metadata blocks carry; none may appear in a rendition.
METADATA_MARKERS = (
    b"Exif\x00\x00",
    b"ICC_PROFILE",
    b"http://ns.adobe.com/xap/1.0/",
    b"Photoshop 3.0",
    b"8BIM",
    b"PhoneMaker",
    b"Phone 15 Secret Edition",
    b"Secret comment",
    b"Rue de Rivoli",
)


@cache
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """Make, Model, capture time and a GPS position, as a phone writes them."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15 Secret Edition"  # Model
    exif[0x0131] = "PhoneOS 18.1"  # Software
    exif[0x0112] = orientation
    exif[EXIF_IFD] = {0x9003: "2026:11:25 10:42:07", 0x920A: 4.2}  # DateTimeOriginal, focal
    exif[GPS_IFD] = {
        1: "N",
        2: (48.0, 51.0, 29.6),
        3: "E",
        4: (2.0, 17.0, 40.2),
        5: 0,
        6: 35.0,  # altitude
    }
    return exif


def quadrant_image(width: int, height: int) -> Image.Image:
    """Four flat quadrants, so orientation survives JPEG and resizing."""
    image = Image.new("RGB", (width, height))
    w2, h2 = width // 2, height // 2
    image.paste(TOP_LEFT, (0, 0, w2, h2))
    image.paste(TOP_RIGHT, (w2, 0, width, h2))
    image.paste(BOTTOM_LEFT, (0, h2, w2, height))
    image.paste(BOTTOM_RIGHT, (w2, h2, width, height))
    return image


def with_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """Insert an APPn/COM segment right after the start-of-image marker."""
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def iptc_app13() -> bytes:
    """A Photoshop APP13 block with one IPTC record (a street name)."""
    record = b"\x1c\x02\x5c" + struct.pack(">H", 13) + b"Rue de Rivoli"  # 2:92 sub-location
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(record))
    return b"Photoshop 3.0\x00" + resource + record


def quadrant_photo(width: int = 160, height: int = 120, *, orientation: int = 6) -> bytes:
    """A phone-style JPEG carrying every kind of metadata: EXIF (camera and
    GPS, orientation), XMP, ICC profile, a comment and an IPTC block."""
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        b' exif:GPSLatitude="48,51.49N"/></rdf:RDF></x:xmpmeta>'
    )
    jpeg = encode(
        quadrant_image(width, height),
        "JPEG",
        quality=95,
        exif=camera_exif(orientation),
        xmp=xmp,
        icc_profile=srgb_icc(),
        comment=b"Secret comment",
    )
    return with_jpeg_segment(jpeg, 0xED, iptc_app13())


def png_with_alpha(width: int = 120, height: int = 80) -> bytes:
    """RGBA: the right half fully transparent; text chunks and EXIF attached."""
    image = Image.new("RGBA", (width, height), (*TOP_LEFT, 255))
    image.paste((0, 0, 0, 0), (width // 2, 0, width, height))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "Secret comment")
    text.add_itxt("Location", "Rue de Rivoli")
    return encode(image, "PNG", pnginfo=text, exif=camera_exif())


def webp_photo(width: int = 120, height: int = 90, *, orientation: int = 1) -> bytes:
    return encode(quadrant_image(width, height), "WEBP", quality=90, exif=camera_exif(orientation))


def heic_photo(width: int = 120, height: int = 90, *, orientation: int = 6) -> bytes:
    """HEIC through pillow-heif's encoder; the orientation becomes an ``irot``."""
    return encode(
        quadrant_image(width, height),
        "HEIF",
        quality=90,
        exif=camera_exif(orientation).tobytes(),
    )


def animated_gif(colours: tuple[tuple[int, int, int], ...], size: int = 40) -> bytes:
    frames = [Image.new("RGB", (size, size), colour) for colour in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def apng(frames: int, size: int = 8) -> bytes:
    images = [Image.new("RGB", (size, size), (i % 256, 0, 0)) for i in range(frames)]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:])


def many_frame_gif(frames: int) -> bytes:
    """A Pillow-made 1x1 GIF whose one frame is repeated: ~15 bytes per frame."""
    single = encode(Image.new("P", (1, 1)), "GIF")
    flags = single[10]
    start = 13 + ((3 << ((flags & 0x07) + 1)) if flags & 0x80 else 0)
    assert single[start] == 0x2C and single[-1] == 0x3B
    return single[:start] + single[start:-1] * frames + b";"


def gif_with_empty_extensions(blocks: int) -> bytes:
    """A Pillow-made 1x1 GIF with ``blocks`` empty extensions before its frame:
    3 bytes each, which Pillow's reader walks one by one."""
    single = encode(Image.new("P", (1, 1)), "GIF")
    start = 13 + ((3 << ((single[10] & 0x07) + 1)) if single[10] & 0x80 else 0)
    return single[:start] + b"!\xf9\x00" * blocks + single[start:]


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG structure (correct CRCs) whose IHDR claims ``width`` x ``height``
    while the data holds one row: only the header is big."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def noisy_photo(width: int, height: int, *, quality: int = 90) -> bytes:
    """Gradients, shapes and sensor-like noise: compresses like a photo."""
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
        ),
    )
    draw = ImageDraw.Draw(base)
    for i in range(12):
        x, y = (i * 7919) % width, (i * 104729) % height
        draw.ellipse((x, y, x + width // 5, y + height // 4), fill=(i * 20, 255 - i * 20, 90))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    photo = Image.blend(base, noise, 0.25)
    return encode(photo, "JPEG", quality=quality, exif=camera_exif(6))


UNSUPPORTED = "unsupported_image_type"


def hostile_inputs() -> list[tuple[str, bytes, str]]:
    """(name, bytes, the code the pipeline must refuse them with)."""
    photo = quadrant_photo()
    gif_65535 = bytearray(animated_gif(((1, 2, 3),)))
    gif_65535[6:10] = b"\xff\xff\xff\xff"
    sof = photo.index(b"\xff\xc0")
    heic_huge = bytearray(heic_photo())
    ispe = heic_huge.index(b"\x00\x00\x00\x14ispe") + 12
    heic_huge[ispe : ispe + 8] = struct.pack(">II", 64, 0x01000040)  # 64 x 16,777,280
    php_comment = encode(Image.new("RGB", (8, 8)), "JPEG", comment=PHP_SHELL)
    jpeg_huge = photo[: sof + 5] + b"\xfd\xe8\xfd\xe8" + photo[sof + 9 :]  # 65000 x 65000
    return [
        # "x.php.jpg", declared image/jpeg: neither name nor type is an input.
        ("x.php.jpg with PHP", PHP_SHELL, UNSUPPORTED),
        ("HTML declared image/png", HTML_PAGE, UNSUPPORTED),
        ("PNG IHDR claiming 20000x20000", png_claiming(20000, 20000), "image_too_large"),
        ("PNG IHDR claiming 7000x7000", png_claiming(7000, 7000), "image_too_large"),
        ("JPEG SOF claiming 65000x65000", jpeg_huge, "image_too_large"),
        ("GIF screen 65535x65535", bytes(gif_65535), "image_too_large"),
        ("HEIC ispe claiming 64x16777280", bytes(heic_huge), "image_too_large"),
        ("truncated JPEG", photo[: len(photo) * 2 // 3], "image_corrupt"),
        ("JPEG header only", photo[:400], "image_corrupt"),
        ("SVG with script", SVG_WITH_SCRIPT, UNSUPPORTED),
        ("plain SVG", b'<svg xmlns="http://www.w3.org/2000/svg"/>', UNSUPPORTED),
        ("10,000-frame GIF", many_frame_gif(10_000), "too_many_frames"),
        ("APNG of 150 frames", apng(150), "too_many_frames"),
        ("GIF, 1M empty extensions", gif_with_empty_extensions(1_000_000), "too_many_frames"),
        (
            "JPEG + <script> after EOI",
            photo + b"<script>alert(1)</script>",
            UNSUPPORTED,
        ),
        ("JPEG with PHP comment", php_comment, UNSUPPORTED),
        ("PNG magic then HTML", b"\x89PNG\r\n\x1a\n" + HTML_PAGE, UNSUPPORTED),
        (
            "PDF made by Pillow",
            encode(Image.new("RGB", (8, 8)), "PDF"),
            UNSUPPORTED,
        ),
        ("BMP", encode(Image.new("RGB", (8, 8)), "BMP"), UNSUPPORTED),
        ("TIFF", encode(Image.new("RGB", (8, 8)), "TIFF"), UNSUPPORTED),
        ("ICO", encode(Image.new("RGB", (16, 16)), "ICO"), UNSUPPORTED),
        ("AVIF", encode(Image.new("RGB", (8, 8)), "AVIF"), UNSUPPORTED),
        ("empty", b"", UNSUPPORTED),
        ("RIFF/WEBP magic, garbage", b"RIFF\x10\x00\x00\x00WEBPjunkjunkjunk", "image_corrupt"),
        ("over the byte limit", photo + b"\x00" * (15 * 1024 * 1024), "payload_too_large"),
    ]
