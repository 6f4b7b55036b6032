"""Checking and cleaning a resident's photo before it is stored.

An upload is judged by its bytes only: the file name and the browser's content type are
whatever the client says, so they are never consulted. What we keep is re-encoded from the
pixels alone, which is the one reliable way to drop EXIF (camera, time, GPS position), XMP,
comments and text chunks — residents often do not know their phone records where they stood.
"""

from __future__ import annotations

import contextlib
import struct
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

try:  # Little CMS ships in Pillow's wheels, but a distribution build may leave it out.
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on how Pillow was built
    ImageCms = None

MAX_BYTES = 5 * 1024 * 1024
MAX_EDGE = 1600
THUMB_EDGE = 400
# A photo from a phone is 12–24 megapixels. The limit bounds the memory one upload may take
# (decoding 40 MP RGBA is 160 MB, and resizing briefly needs a second copy).
MAX_PIXELS = 40_000_000
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
    "too_large", "not_an_image", "unsupported_type", "too_many_pixels", "empty"
]

_MESSAGES = {
    "too_large": _l("The photo is larger than 5 MB."),
    "not_an_image": _l("This file is not a photo we can read. Use JPEG, PNG or WebP."),
    "unsupported_type": _l("Use a JPEG, PNG or WebP photo."),
    "too_many_pixels": _l("The photo has too many pixels."),
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


def process_image(data: bytes) -> ProcessedImage:
    """Check an upload and return it cleaned, resized and with a thumbnail.

    Raises :class:`ImageError` for anything we will not keep. The output has the upright
    orientation the camera recorded, sRGB colours, only the first frame of an animation, the
    longest edge at most ``MAX_EDGE`` (never enlarged) and no metadata at all.
    """
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_BYTES:
        raise ImageError("too_large")
    with warnings.catch_warnings():
        # Pillow warns (rather than fails) between its own pixel limit and twice that; make the
        # warning an error we report, so it never reaches the log or a test run with
        # ``filterwarnings = error``. Its other warnings are about metadata we throw away.
        # catch_warnings changes process-wide state; it is restored on exit and only filters
        # warnings, so a concurrent thread at worst loses a Pillow warning for a moment.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\.|$)")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        fmt = _identify(data)
        img = _prepare(_decode(data, fmt), fmt)
        img.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
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


def _identify(data: bytes) -> str:
    """The format family of ``data``, after Pillow has checked the file's structure."""
    try:
        with Image.open(BytesIO(data), formats=_OPEN_FORMATS) as probe:
            # Camera JPEGs with an embedded preview or depth map open as MPO: still a JPEG.
            fmt = "JPEG" if probe.format == "MPO" else probe.format
            _check_pixels(probe.size)
            probe.verify()
    except ImageError:
        raise
    except Image.UnidentifiedImageError:
        code = "unsupported_type" if _is_other_image(data) else "not_an_image"
        raise ImageError(code) from None
    except _BOMB:
        raise ImageError("too_many_pixels") from None
    except _DECODE_ERRORS:
        raise ImageError("not_an_image") from None
    if fmt not in ALLOWED:  # pragma: no cover - formats= above already restricts this
        raise ImageError("unsupported_type")
    return fmt


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


def _check_pixels(size: tuple[int, int]) -> None:
    # Checked from the header, before anything is decoded: a few kilobytes of PNG can declare
    # a canvas that takes gigabytes to unpack.
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError("not_an_image")
    if width * height > MAX_PIXELS:
        raise ImageError("too_many_pixels")


def _decode(data: bytes, fmt: str) -> Image.Image:
    """Decode the first frame. ``verify()`` leaves an image unusable, so the file is reopened."""
    try:
        img = Image.open(BytesIO(data), formats=_OPEN_FORMATS)
        _check_pixels(img.size)
        if fmt == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result is still at least
            # MAX_EDGE on both sides: the same output for much less memory and time.
            img.draft(None, (MAX_EDGE, MAX_EDGE))
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
    if not icc_profile or ImageCms is None or img.mode not in {"RGB", "RGBA", "CMYK"}:
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
