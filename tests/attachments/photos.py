"""Small photos made with Pillow for the attachments tests: a phone-style JPEG
with camera and GPS metadata, and hostile files."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def phone_jpeg(width: int = 640, height: int = 480, *, orientation: int = 1) -> bytes:
    """A JPEG with Make/Model, GPS coordinates and an orientation tag."""
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((20, 20, 220), (0, 0, width // 4, height // 4))  # a blue top-left corner
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15 Secret Edition"  # Model
    exif[0x0112] = orientation
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


HTML_AS_PNG = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
