"""Checking and cleaning a resident's photo before it is stored.

An upload is judged by its bytes only: the file name and the browser's content type are
whatever the client says, so they are never consulted. What we keep is re-encoded from the
pixels alone, which is the one reliable way to drop EXIF (camera, time, GPS position), XMP,
comments and text chunks — residents often do not know their phone records where they stood.
"""

from __future__ import annotations

import contextlib
import math
import struct
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from PIL import Image, ImageOps

from portal.core.i18n import lazy_gettext as _l

try:  # Little CMS ships in Pillow's wheels, but a distribution build may leave it out.
    from PIL import ImageCms

    _HAVE_CMS = True
except ImportError:  # pragma: no cover - depends on how Pillow was built
    _HAVE_CMS = False

MAX_BYTES = 5 * 1024 * 1024
MAX_EDGE = 1600
THUMB_EDGE = 400
# The most pixels one photo may decode to: 20 megapixels (80 MB as RGBA, the largest buffer
# processing holds). A JPEG decodes at 1/2, 1/4 or 1/8 of its size when that still covers
# MAX_EDGE, so a 12–48 MP phone photo decodes to a few megapixels and passes; a PNG or WebP
# decodes whole, so at most 20 MP of it is accepted (a 6300×6300 PNG of zeros, 115 KB on the
# wire, is refused from its header).
MAX_PIXELS = 20_000_000
# The most pixels all photos of one request may decode to together: bounds the time a request
# takes (photos are decoded one at a time, each released before the next, so memory is bounded
# by MAX_PIXELS). Four phone JPEGs take ~12 MP; two 20 MP PNGs are the most that pass.
MAX_REQUEST_PIXELS = 40_000_000
JPEG_QUALITY = 85
WEBP_QUALITY = 85

# Pillow format name → (content type, file extension). Nothing else is accepted.
ALLOWED: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# Only these decoders ever see an upload's pixels; the rest of Pillow's formats are just named.
_OPEN_FORMATS = tuple(ALLOWED)

ImageErrorCode = Literal[
    "too_large",
    "not_an_image",
    "unsupported_type",
    "too_many_pixels",
    "too_many_pixels_together",
    "empty",
]

_MESSAGES = {
    "too_large": _l("The photo is larger than 5 MB."),
    "not_an_image": _l("This file is not a photo we can read. Use JPEG, PNG or WebP."),
    "unsupported_type": _l("Use a JPEG, PNG or WebP photo."),
    "too_many_pixels": _l("The photo is too large: at most 20 megapixels."),
    "too_many_pixels_together": _l(
        "These photos are too large together: send fewer or smaller photos."
    ),
    "empty": _l("The file is empty."),
}

# What Pillow raises for damaged or hostile files; anything of these while decoding means the
# bytes are not a photo we can use. MemoryError is deliberately not here.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


class ImageError(ValueError):
    """Why an upload was refused.

    ``code`` is stable, for programs, logs and tests (it is also ``str(error)``); ``message`` is
    the translated sentence to show the resident next to the upload field.
    """

    def __init__(self, code: ImageErrorCode) -> None:
        super().__init__(code)
        self.code: ImageErrorCode = code
        self.message = _MESSAGES[code]


@dataclass(frozen=True)
class ProcessedImage:
    """A cleaned photo and its thumbnail, both in the same format, ready to be stored."""

    data: bytes
    thumb: bytes
    content_type: str
    extension: str
    width: int
    height: int


def process_images(uploads: list[bytes]) -> list[ProcessedImage]:
    """Check and clean the photos of one request, within a budget of decoded pixels.

    Every photo's header is read first (nothing is decoded) so that a request whose photos
    together would decode to more than ``MAX_REQUEST_PIXELS`` is refused before any work;
    then they are processed one at a time, each decoded image released before the next."""
    total = 0
    for data in uploads:
        _fmt, pixels = _plan(data)
        total += pixels
    if total > MAX_REQUEST_PIXELS:
        raise ImageError("too_many_pixels_together")
    return [process_image(data) for data in uploads]


def process_image(data: bytes) -> ProcessedImage:
    """Check an upload and return it cleaned, resized and with a thumbnail.

    Raises :class:`ImageError` for anything we will not keep. The output has the upright
    orientation the camera recorded, sRGB colours, only the first frame of an animation, the
    longest edge at most ``MAX_EDGE`` (never enlarged) and no metadata at all.
    """
    with _pillow_warnings():
        fmt, _pixels = _plan(data)
        decoded = _decode(data, fmt)
        try:
            img = decoded
            if img.mode in ("P", "1"):
                # Resizing would fall back to nearest-neighbour for these: final mode first.
                img = img.convert(_target_mode(img, fmt))
            # Shrink the largest buffer first: reduce() by a whole factor (a cheap box filter
            # keeping at least twice the target size), then Lanczos to the size we keep.
            # Turning upright and colour conversion then work on at most MAX_EDGE².
            img.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0)
            img = _prepare(img, fmt)
        finally:
            decoded.close()  # the decoded pixels go now, not whenever the collector runs
        thumb = img.copy()
        thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    content_type, extension = ALLOWED[fmt]
    return ProcessedImage(
        data=_encode(img, fmt),
        thumb=_encode(thumb, fmt),
        content_type=content_type,
        extension=extension,
        width=img.width,
        height=img.height,
    )


@contextlib.contextmanager
def _pillow_warnings():
    with warnings.catch_warnings():
        # Pillow warns (rather than fails) between its own pixel limit and twice that; make the
        # warning an error we report, so it never reaches the log or a test run with
        # ``filterwarnings = error``. Its other warnings are about metadata we throw away.
        # catch_warnings changes process-wide state; it is restored on exit and only filters
        # warnings, so a concurrent thread at worst loses a Pillow warning for a moment.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\.|$)")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _plan(data: bytes) -> tuple[str, int]:
    """The format family of ``data`` and how many pixels decoding it will produce, after
    Pillow has checked the file's structure. Only headers are read, never the pixels."""
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_BYTES:
        raise ImageError("too_large")
    with _pillow_warnings():
        try:
            with Image.open(BytesIO(data), formats=_OPEN_FORMATS) as probe:
                # Camera JPEGs with an embedded preview or depth map open as MPO: still a JPEG.
                fmt = "JPEG" if probe.format == "MPO" else probe.format
                pixels = _check_pixels(_decoded_size(probe, fmt))
                probe.verify()
        except ImageError:
            raise
        except Image.UnidentifiedImageError:
            code: ImageErrorCode = "unsupported_type" if _is_other_image(data) else "not_an_image"
            raise ImageError(code) from None
        except _BOMB:
            raise ImageError("too_many_pixels") from None
        except _DECODE_ERRORS:
            raise ImageError("not_an_image") from None
    if fmt not in ALLOWED:  # pragma: no cover - formats= above already restricts this
        raise ImageError("unsupported_type")
    return fmt, pixels


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its longest side is at most ``edge``."""
    width, height = size
    scale = edge / max(width, height)
    if scale >= 1:
        return size
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _decoded_size(img: Image.Image, fmt: str | None) -> tuple[int, int]:
    """The size ``img`` will decode to. For a JPEG, libjpeg is first told to decode at 1/2,
    1/4 or 1/8 scale as long as the result still covers what we keep (the same output for a
    fraction of the memory and time); ``draft`` reads no pixels."""
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageError("not_an_image")
    if fmt == "JPEG":
        img.draft(None, _fit(img.size, MAX_EDGE))
    return img.size


def _is_other_image(data: bytes) -> bool:
    """Whether Pillow recognises ``data`` as some image format we do not accept (GIF, TIFF...).

    Only the header is read, never the pixels; it decides which message the resident sees."""
    try:
        with Image.open(BytesIO(data)):
            return True
    except _BOMB:
        return True
    except (Image.UnidentifiedImageError, *_DECODE_ERRORS):
        return False


def _check_pixels(size: tuple[int, int]) -> int:
    # Checked from the header, before anything is decoded: a few kilobytes of PNG can declare
    # a canvas that takes gigabytes to unpack.
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError("not_an_image")
    if width * height > MAX_PIXELS:
        raise ImageError("too_many_pixels")
    return width * height


def _decode(data: bytes, fmt: str) -> Image.Image:
    """Decode the first frame, at a reduced scale where the format allows it. ``verify()``
    leaves an image unusable, so the file is opened again."""
    try:
        img = Image.open(BytesIO(data), formats=_OPEN_FORMATS)
        _check_pixels(_decoded_size(img, fmt))
        img.load()
    except ImageError:
        raise
    except _BOMB:
        raise ImageError("too_many_pixels") from None
    except _DECODE_ERRORS:
        raise ImageError("not_an_image") from None
    return img


def _prepare(img: Image.Image, fmt: str) -> Image.Image:
    """Upright, sRGB, in a mode the output format can hold, and with no metadata attached."""
    icc_profile = img.info.get("icc_profile")
    # Before the metadata goes: the orientation tag is what makes a portrait photo upright.
    # A damaged EXIF block (Pillow's EXIF parser raises many kinds of error) costs the rotation,
    # not the photo.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(img, in_place=True)
    img = _to_srgb(img, icc_profile)
    img = img.convert(_target_mode(img, fmt))
    # Rebuild from raw pixels: nothing of the original file (info, palette, EXIF, XMP, ICC,
    # text chunks, comments, further frames) can be carried into what we save.
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert wide-gamut photos (Display P3 from phones, Adobe RGB, CMYK) to sRGB.

    The profile itself is dropped with the rest of the metadata, and without this the colours
    of such photos would come out washed out or, for CMYK, wrong."""
    if not icc_profile or not _HAVE_CMS or img.mode not in {"RGB", "RGBA", "CMYK"}:
        return img
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        srgb = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, source, srgb, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else img


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in _ALPHA_MODES or (
        img.mode in {"P", "L", "RGB"} and "transparency" in img.info
    )


def _target_mode(img: Image.Image, fmt: str) -> str:
    """The mode to encode in: JPEG has no alpha; WebP stores colour only; PNG keeps grey."""
    grey = img.mode in _GREY_MODES
    alpha = fmt != "JPEG" and _has_alpha(img)
    if fmt == "WEBP":
        return "RGBA" if alpha else "RGB"
    if alpha:
        return "LA" if grey else "RGBA"
    return "L" if grey else "RGB"


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif fmt == "WEBP":
        img.save(buf, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        img.save(buf, "PNG")
    return buf.getvalue()
