"""Fuzz corpus of the image pipeline (issue 8, scope 5).

Small valid images of every allowlisted format, made with Pillow, are mutated
by Hypothesis: bit flips, truncations, inserted random bytes, well-formed
chunks/segments with random content (PNG chunks with correct CRCs, JPEG
segments, GIF extensions, RIFF chunks), overwritten header bytes, and random
bytes behind a valid magic number. Whatever comes out, ``process_image``
either returns renditions that Pillow reads back as what they claim (no
EXIF, sizes within limits), or raises an ``ImageRejected`` with a known code
whose cause is a known decoder error: never anything else, and never the
catch-all for unexpected exceptions.

Cases per run: ``MUTATIONS_PER_SEED`` for each of the seeds in ``SEEDS`` plus
``RANDOM_CASES_PER_MAGIC`` for each magic number (7 x 400 + 6 x 100 = 3,400,
about 10 s; ``FUZZ_SCALE`` multiplies both), recorded per test with ``record_property`` (``cases``,
``accepted``, ``refused``; see them with ``--junitxml``). Nothing is printed.
A one-off run of 4,000 mutations per seed and 1,000 random cases per magic
number (34,000 cases) found nothing either, after the fixes it prompted.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chat_service.attachments.images import (
    DECODER_ERRORS,
    ImageLimits,
    ImageRejected,
    process_image,
)
from tests.attachments import images_factory as make
from tests.fuzz.scale import scaled

# Expected warnings: Pillow's plugins on damaged data (EXIF read for the
# orientation, APNG control chunks), and a mutated HEIF clean-aperture box that
# makes Pillow's size (checked by the pipeline right after opening) big enough
# for Pillow's bomb warning.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]

MUTATIONS_PER_SEED = scaled(400)
RANDOM_CASES_PER_MAGIC = scaled(100)
LIMITS = ImageLimits(
    max_pixels=250_000, max_frames=8, full_max_side=64, display_max_side=32, thumb_max_side=16
)
CODES = {
    "unsupported_image_type",
    "payload_too_large",
    "image_too_large",
    "image_corrupt",
    "too_many_frames",
}
EXPECTED_CAUSES = (*DECODER_ERRORS, Image.DecompressionBombError)
CONTENT_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAGIC = {
    "jpeg": b"\xff\xd8\xff\xe0",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    "webp_lossless": b"RIFF\x00\x10\x00\x00WEBPVP8L",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
}


@cache
def seeds() -> dict[str, bytes]:
    rgb = make.quadrant_image(24, 16)
    return {
        "jpeg": make.encode(rgb, "JPEG", quality=80, exif=make.camera_exif(6)),
        "png_rgba": make.png_with_alpha(20, 12),
        "png_palette": make.encode(rgb.convert("P"), "PNG"),
        "gif": make.animated_gif(((200, 0, 0), (0, 200, 0)), size=12),
        "webp": make.encode(rgb, "WEBP", quality=70, exif=make.camera_exif(3)),
        "webp_lossless": make.encode(rgb.convert("RGBA"), "WEBP", lossless=True),
        "heic": make.heic_photo(24, 16),
    }


SEEDS = ("jpeg", "png_rgba", "png_palette", "gif", "webp", "webp_lossless", "heic")


def check(data: bytes) -> str:
    """'accepted' or 'refused'; any other outcome fails the test."""
    try:
        result = process_image(data, LIMITS)
    except ImageRejected as exc:
        refusal = exc
    else:
        for rendition in result.renditions.values():
            image = Image.open(io.BytesIO(rendition.data))
            image.load()
            assert image.format == CONTENT_TYPES[rendition.content_type]
            assert image.size == (rendition.width, rendition.height)
            assert max(image.size) <= LIMITS.full_max_side
            assert len(image.getexif()) == 0
        assert list(result.renditions) == ["full", "display", "thumb"]
        return "accepted"
    assert refusal.code in CODES, refusal.code
    cause = refusal.__cause__
    assert cause is None or isinstance(cause, EXPECTED_CAUSES), repr(cause)
    return "refused"


# -- mutations ---------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _insert_structured(data: bytes, kind: bytes, body: bytes, where: int) -> bytes:
    """A well-formed container element with random content, placed where the
    format allows one (after PNG's IHDR, JPEG's SOI, GIF's header, RIFF's header)."""
    if data.startswith(b"\x89PNG"):
        element, at = _png_chunk(kind, body), 33
    elif data.startswith(b"\xff\xd8"):
        marker = 0xE0 + kind[0] % 16 if kind[1] % 2 else (0xFE, 0xDB, 0xC4, 0xC0)[kind[2] % 4]
        element, at = bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body, 2
    elif data.startswith(b"GIF"):
        blocks = b"".join(bytes([len(p)]) + p for p in (body[:255], body[255:]) if p)
        element, at = b"\x21" + kind[:1] + blocks + b"\x00", 13 + where % 8
    else:  # RIFF (WebP) or ISO-BMFF (HEIF): a chunk/box of random type
        if data.startswith(b"RIFF"):
            element, at = kind + struct.pack("<I", len(body)) + body, 12
        else:
            element, at = struct.pack(">I", len(body) + 8) + kind + body, 0
        at = min(len(data), at + where % 64)
    return data[:at] + element + data[at:]


PNG_KINDS = [b"IHDR", b"IDAT", b"PLTE", b"tRNS", b"acTL", b"fcTL", b"iCCP", b"eXIf", b"zTXt"]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**20), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 2**20)),
    st.tuples(st.just("insert"), st.integers(0, 2**20), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("overwrite_header"), st.integers(0, 63), st.binary(min_size=1, max_size=4)),
    st.tuples(
        st.just("structured"),
        st.one_of(st.sampled_from(PNG_KINDS), st.binary(min_size=4, max_size=4)),
        st.binary(max_size=300),
        st.integers(0, 2**16),
    ),
)


def apply(data: bytes, op: tuple[object, ...]) -> bytes:
    name, *args = op
    if name == "flip":
        pos, bit = args
        assert isinstance(pos, int) and isinstance(bit, int)
        pos %= len(data)
        return data[:pos] + bytes([data[pos] ^ (1 << bit)]) + data[pos + 1 :]
    if name == "truncate":
        (pos,) = args
        assert isinstance(pos, int)
        return data[: pos % len(data)]
    if name in ("insert", "overwrite_header"):
        pos, blob = args
        assert isinstance(pos, int) and isinstance(blob, bytes)
        pos %= len(data)
        tail = data[pos:] if name == "insert" else data[pos + len(blob) :]
        return data[:pos] + blob + tail
    kind, body, where = args
    assert isinstance(kind, bytes) and isinstance(body, bytes) and isinstance(where, int)
    return _insert_structured(data, kind, body, where)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    def build(ops: list[tuple[object, ...]]) -> bytes:
        data = seed
        for op in ops:
            if data:
                data = apply(data, op)
        return data

    return st.lists(mutation, min_size=1, max_size=4).map(build)


# -- the corpus --------------------------------------------------------------


def run_corpus(strategy: st.SearchStrategy[bytes], examples: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def one_case(data: bytes) -> None:
        outcomes[check(data)] += 1

    one_case()
    return outcomes


Record = Callable[[str, object], None]


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_images_are_rendered_or_refused(seed: str, record_property: Record) -> None:
    original = seeds()[seed]
    assert check(original) == "accepted"
    outcomes = run_corpus(mutated(original), MUTATIONS_PER_SEED)
    record_property("cases", sum(outcomes.values()))
    record_property("accepted", outcomes["accepted"])
    record_property("refused", outcomes["refused"])
    assert sum(outcomes.values()) >= MUTATIONS_PER_SEED
    assert outcomes["refused"] > 0


@pytest.mark.parametrize("magic", sorted(MAGIC))
def test_random_bytes_behind_a_valid_magic_number(magic: str, record_property: Record) -> None:
    prefix = MAGIC[magic]
    noise = st.binary(max_size=2048).map(lambda b: prefix + b)
    outcomes = run_corpus(noise, RANDOM_CASES_PER_MAGIC)
    record_property("cases", sum(outcomes.values()))
    record_property("accepted", outcomes["accepted"])
    assert sum(outcomes.values()) >= RANDOM_CASES_PER_MAGIC
