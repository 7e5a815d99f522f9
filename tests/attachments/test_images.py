"""The image pipeline: metadata stripped, orientation applied, bad input refused
with stable codes (the worker pool: test_image_pool.py)."""

from __future__ import annotations

import hashlib
import io
import pickle
import time
import warnings

import pillow_heif
import pytest
from PIL import Image

from chat_service.attachments.images import (
    ImageCorrupt,
    ImageFileTooLarge,
    ImageLimits,
    ImageRejected,
    ImageTooLarge,
    ProcessedImage,
    TooManyFrames,
    UnsupportedImage,
    process_image,
)
from chat_service.attachments.sniff import (
    count_gif_frames,
    find_markup,
    header_size,
    scan_gif,
    sniff_format,
)
from chat_service.errors import ChatError
from tests.attachments import images_factory as make
from tests.attachments.images_factory import (
    BOTTOM_LEFT,
    BOTTOM_RIGHT,
    TOP_LEFT,
    TOP_RIGHT,
)

LEAKY_INFO_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop"}


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(result: ProcessedImage) -> None:
    for name, rendition in result.renditions.items():
        image = reopen(rendition.data)
        assert len(image.getexif()) == 0, name
        assert image.getexif().get_ifd(make.GPS_IFD) == {}, name
        assert not LEAKY_INFO_KEYS & set(image.info), (name, image.info.keys())
        if image.format == "PNG":
            assert not getattr(image, "text", {}), name
        for marker in make.METADATA_MARKERS:
            assert marker not in rendition.data, (name, marker)


def near(pixel: object, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def corners(image: Image.Image) -> tuple[object, ...]:
    """Pixels at the centre of each quadrant: TL, TR, BL, BR."""
    w, h = image.size
    rgb = image.convert("RGB")
    return tuple(
        rgb.getpixel((x * w // 4, y * h // 4)) for y, x in ((1, 1), (1, 3), (3, 1), (3, 3))
    )


def assert_turned_clockwise(image: Image.Image) -> None:
    """Orientation 6: the stored left column is now the top row."""
    tl, tr, bl, br = corners(image)
    assert near(tl, BOTTOM_LEFT), tl
    assert near(tr, TOP_LEFT), tr
    assert near(bl, BOTTOM_RIGHT), bl
    assert near(br, TOP_RIGHT), br


# -- good input --------------------------------------------------------------


def test_phone_jpeg_loses_every_metadata_block_and_is_upright() -> None:
    data = make.quadrant_photo(160, 120, orientation=6)
    source = reopen(data)  # the fixture really carries what must go
    assert source.getexif()[0x0112] == 6
    assert source.getexif().get_ifd(make.GPS_IFD)[2] == (48.0, 51.0, 29.6)
    assert {"exif", "xmp", "icc_profile", "comment"} <= set(source.info)
    assert b"Photoshop 3.0" in data

    result = process_image(data, ImageLimits())

    assert (result.source_format, result.width, result.height) == ("jpeg", 120, 160)
    assert list(result.renditions) == ["full", "display", "thumb"]
    assert_no_metadata(result)
    for rendition in result.renditions.values():
        image = reopen(rendition.data)
        assert (image.format, rendition.content_type) == ("JPEG", "image/jpeg")
        assert image.size == (rendition.width, rendition.height) == (120, 160)
        assert_turned_clockwise(image)


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (1, (TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT)),
        (3, (BOTTOM_RIGHT, BOTTOM_LEFT, TOP_RIGHT, TOP_LEFT)),
        (8, (TOP_RIGHT, BOTTOM_RIGHT, TOP_LEFT, BOTTOM_LEFT)),
        (2, (TOP_RIGHT, TOP_LEFT, BOTTOM_RIGHT, BOTTOM_LEFT)),
    ],
)
def test_other_orientations(orientation: int, expected: tuple[tuple[int, int, int], ...]) -> None:
    result = process_image(make.quadrant_photo(160, 120, orientation=orientation))
    image = reopen(result.renditions["display"].data)
    swapped = orientation in (5, 6, 7, 8)
    assert image.size == ((120, 160) if swapped else (160, 120))
    for got, want in zip(corners(image), expected, strict=True):
        assert near(got, want), (orientation, got, want)


def test_rendition_sizes_follow_the_limits_and_never_upscale() -> None:
    limits = ImageLimits(full_max_side=100, display_max_side=50, thumb_max_side=20)
    result = process_image(make.quadrant_photo(160, 120, orientation=6), limits)
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {"full": (75, 100), "display": (38, 50), "thumb": (15, 20)}
    small = process_image(make.encode(Image.new("RGB", (30, 10), "red"), "JPEG"))
    assert {(r.width, r.height) for r in small.renditions.values()} == {(30, 10)}


def test_default_sides_cap_a_wide_image() -> None:
    wide = make.encode(Image.new("L", (5000, 600), 128), "JPEG")
    result = process_image(wide)
    sizes = {name: (r.width, r.height) for name, r in result.renditions.items()}
    assert sizes == {"full": (4096, 492), "display": (1280, 154), "thumb": (320, 38)}


def test_png_with_alpha_stays_png_and_transparent_without_text_chunks() -> None:
    result = process_image(make.png_with_alpha(120, 80))
    assert result.source_format == "png"
    assert_no_metadata(result)
    for rendition in result.renditions.values():
        image = reopen(rendition.data)
        assert (image.format, image.mode, rendition.content_type) == ("PNG", "RGBA", "image/png")
        w, h = image.size
        assert image.getpixel((w // 4, h // 2)) == (*TOP_LEFT, 255)
        assert image.getpixel((3 * w // 4, h // 2))[3] == 0  # type: ignore[index]


def test_opaque_rgba_png_and_palette_images_become_jpeg() -> None:
    opaque = make.encode(Image.new("RGBA", (20, 20), (1, 2, 3, 255)), "PNG")
    palette = make.encode(Image.new("RGB", (20, 20), "red").convert("P"), "PNG")
    for data in (opaque, palette):
        result = process_image(data)
        assert {r.content_type for r in result.renditions.values()} == {"image/jpeg"}


def test_webp_source() -> None:
    result = process_image(make.webp_photo(120, 90, orientation=6))
    assert (result.source_format, result.width, result.height) == ("webp", 90, 120)
    assert_no_metadata(result)
    assert_turned_clockwise(reopen(result.renditions["full"].data))


def test_heic_source_encoded_by_pillow_heif() -> None:
    # Not skipped: this build of libheif has the x265 encoder, and the test must
    # fail rather than pass silently should that ever change.
    assert pillow_heif.libheif_info()["HEIF"], "no HEIC encoder in this libheif build"
    data = make.heic_photo(120, 90, orientation=6)
    assert sniff_format(data) == "heif"
    result = process_image(data)
    assert (result.source_format, result.width, result.height) == ("heif", 90, 120)
    assert_no_metadata(result)
    assert_turned_clockwise(reopen(result.renditions["display"].data))


def test_animated_gif_keeps_its_first_frame() -> None:
    data = make.animated_gif(((250, 0, 0), (0, 250, 0), (0, 0, 250)))
    result = process_image(data)
    assert (result.source_format, result.frames) == ("gif", 3)
    for rendition in result.renditions.values():
        assert near(reopen(rendition.data).getpixel((5, 5)), (250, 0, 0))


def test_animated_webp_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in ((250, 0, 0), (0, 250, 0))]
    data = make.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    result = process_image(data)
    assert result.frames == 2
    assert near(reopen(result.renditions["full"].data).getpixel((8, 8)), (250, 0, 0))


def test_gif_transparency_gives_png() -> None:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 5, 10))
    result = process_image(make.encode(image, "GIF", transparency=0))
    full = reopen(result.renditions["full"].data)
    assert full.format == "PNG"
    assert full.getpixel((1, 1))[3] == 0 and full.getpixel((8, 8)) == (255, 0, 0, 255)  # type: ignore[index]


def test_cmyk_grey_and_16_bit_sources_become_plain_jpeg() -> None:
    cmyk = make.encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG")
    grey = make.encode(Image.new("L", (20, 20), 90), "JPEG")
    deep = make.encode(Image.new("I;16", (20, 20), 40000), "PNG")
    assert near(reopen(process_image(cmyk).renditions["full"].data).getpixel((5, 5)), (255, 0, 0))
    assert reopen(process_image(grey).renditions["full"].data).mode == "L"
    deep_full = reopen(process_image(deep).renditions["full"].data)
    assert deep_full.mode == "L"
    assert abs(deep_full.getpixel((5, 5)) - 40000 // 256) <= 2  # type: ignore[operator]


def test_icc_profile_converted_or_ignored_never_kept() -> None:
    image = Image.new("RGB", (20, 20), (10, 120, 200))
    tagged = make.encode(image, "JPEG", icc_profile=make.srgb_icc(), quality=95)
    broken = make.encode(image, "JPEG", icc_profile=b"not a profile" * 20, quality=95)
    for data in (tagged, broken):
        result = process_image(data)
        assert_no_metadata(result)
        assert near(reopen(result.renditions["full"].data).getpixel((5, 5)), (10, 120, 200), 8)


def test_rendition_checksums_and_stable_output() -> None:
    data = make.quadrant_photo()
    first, second = process_image(data), process_image(data)
    for name, rendition in first.renditions.items():
        assert rendition.sha256 == hashlib.sha256(rendition.data).hexdigest()
        assert second.renditions[name].sha256 == rendition.sha256


# -- bad input ---------------------------------------------------------------


BAD_INPUTS = make.hostile_inputs()
STATUS = {
    "unsupported_image_type": 415,
    "image_too_large": 413,
    "payload_too_large": 413,
    "image_corrupt": 400,
    "too_many_frames": 400,
}


@pytest.mark.parametrize(
    ("data", "code"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_refused_with_a_stable_code(data: bytes, code: str) -> None:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Pillow bomb warning would fail the test
        with pytest.raises(ImageRejected) as caught:
            process_image(data, ImageLimits())
    assert caught.value.code == code
    assert caught.value.status == STATUS[code]
    assert isinstance(caught.value, ChatError)
    assert time.perf_counter() - started < 2.0  # refused from the header, not by decoding


def test_pillow_alone_would_accept_the_polyglot_and_only_warn_on_a_big_header() -> None:
    """The guards are ours: Pillow decodes a JPEG with a script appended, and
    a 10000x10000 header only earns a warning from it."""
    polyglot = make.quadrant_photo() + b"<script>alert(1)</script>"
    assert reopen(polyglot).size == (160, 120)
    with pytest.warns(Image.DecompressionBombWarning):
        Image.open(io.BytesIO(make.png_claiming(10_000, 10_000)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLarge):
            process_image(make.png_claiming(10_000, 10_000))


@pytest.mark.parametrize(
    "data",
    [
        make.png_with_alpha(),
        make.webp_photo(),
        make.heic_photo(),
        make.animated_gif(((1, 2, 3),) * 2),
    ],
    ids=["png", "webp", "heic", "gif"],
)
def test_truncated_images_of_every_format_are_corrupt(data: bytes) -> None:
    for cut in (len(data) // 2, len(data) * 3 // 4):
        with pytest.raises(ImageCorrupt):
            process_image(data[:cut])


def test_limits_are_configurable() -> None:
    photo = make.quadrant_photo(160, 120)
    with pytest.raises(ImageTooLarge):
        process_image(photo, ImageLimits(max_pixels=160 * 120 - 1))
    process_image(photo, ImageLimits(max_pixels=160 * 120))
    with pytest.raises(ImageFileTooLarge):
        process_image(photo, ImageLimits(max_bytes=len(photo) - 1))
    three = make.animated_gif(((1, 2, 3), (4, 5, 6), (7, 8, 9)))
    with pytest.raises(TooManyFrames):
        process_image(three, ImageLimits(max_frames=2))
    with pytest.raises(ValueError, match="thumb"):
        ImageLimits(thumb_max_side=2000)
    with pytest.raises(ValueError, match="quality"):
        ImageLimits(jpeg_quality=100)


@pytest.mark.parametrize(
    "error",
    [
        UnsupportedImage("x"),
        ImageFileTooLarge("x"),
        ImageTooLarge("x"),
        ImageCorrupt("x"),
        TooManyFrames("x"),
    ],
)
def test_refusals_pickle_with_class_code_and_status(error: ImageRejected) -> None:
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert type(back) is type(error)
    assert (back.code, back.status, back.detail) == (error.code, error.status, "x")
    assert isinstance(back, ChatError) and str(back) == "x"


# -- sniffing ----------------------------------------------------------------


def test_sniffing_and_header_sizes_agree_with_pillow() -> None:
    samples = {
        "jpeg": make.quadrant_photo(160, 120),
        "png": make.png_with_alpha(120, 80),
        "webp": make.webp_photo(120, 90),
        "gif": make.animated_gif(((1, 2, 3),)),
        "heif": make.heic_photo(),
    }
    samples["webp_lossless"] = make.encode(Image.new("RGB", (33, 17)), "WEBP", lossless=True)
    samples["webp_alpha"] = make.encode(Image.new("RGBA", (33, 17)), "WEBP")
    for name, data in samples.items():
        fmt = sniff_format(data)
        assert fmt == name.split("_")[0]
        size = header_size(data, fmt)
        if fmt == "heif":  # the coded item's extents: before the irot rotation
            assert size == tuple(reversed(reopen(data).size)) == (120, 90)
        else:
            assert size == reopen(data).size, name


def test_markup_search() -> None:
    assert find_markup(b"\xff\xd8\xff...<ScRiPt>") == "<script"
    assert find_markup(b"...%PDF-1.7") == "%pdf-"
    assert find_markup(b"..<svg>") == find_markup(b"..<SVG\nx") == find_markup(b"<svg") == "<svg"
    assert find_markup(b"..<svgz..<svg1..") is None  # four letters alone are noise
    assert find_markup(b"..<HTML lang=en>") == "<html"
    assert find_markup(b"..<htmlq..") is None
    assert find_markup(make.quadrant_photo()) is None


def test_gif_frames_counted_up_to_the_cap() -> None:
    assert count_gif_frames(make.many_frame_gif(10_000), stop_after=101) == 101
    assert count_gif_frames(make.many_frame_gif(7), stop_after=101) == 7
    assert count_gif_frames(b"GIF89a", stop_after=5) is None
    started = time.perf_counter()
    assert scan_gif(make.gif_with_empty_extensions(1_000_000), stop_after=101).too_many_blocks
    assert time.perf_counter() - started < 0.1
    gif = bytearray(make.animated_gif(((1, 2, 3),), size=10))
    frame = gif.index(b",")
    gif[frame + 5 : frame + 9] = b"\x10\x27\x10\x27"  # first frame 10000 x 10000
    assert scan_gif(bytes(gif), stop_after=2).size == (10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before Pillow could warn
        with pytest.raises(ImageTooLarge):
            process_image(bytes(gif))
