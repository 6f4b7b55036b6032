"""Photos are judged by their bytes, come out upright, small enough and with no metadata left."""

from __future__ import annotations

import functools
import os
import struct
import warnings
import weakref
import zlib
from io import BytesIO

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile

from portal.media import images
from portal.media.images import (
    MAX_BYTES,
    MAX_EDGE,
    THUMB_EDGE,
    ImageError,
    ProcessedImage,
    process_image,
)

RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 1.0)}


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way a photo was turned."""
    img = Image.new(mode, size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


def exif_with(orientation: int | None = None, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretPhone"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = GPS
    return exif


def opened(data: bytes) -> Image.Image:
    img = Image.open(BytesIO(data))
    img.load()
    return img


def close_to(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


@functools.cache
def png_declaring(width: int, height: int, rgb: bool = False) -> bytes:
    """A real PNG of the given size, all zeros (1-bit grey, or 8-bit RGB): a few kilobytes
    (about 115 KB for 6300 × 6300 RGB), however large it claims to be."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    # The filter byte, then the pixels (packed bits, or three bytes each).
    row = b"\x00" * (1 + (width * 3 if rgb else (width + 7) // 8))
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    header = struct.pack(">IIBBBBB", width, height, 8 if rgb else 1, 2 if rgb else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def refused(data: bytes) -> str:
    with pytest.raises(ImageError) as info:
        process_image(data)
    return info.value.code


# --- metadata and orientation -------------------------------------------------------------


def test_jpeg_loses_exif_gps_xmp_comment_and_profile():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        halves((200, 100)),
        "JPEG",
        exif=exif_with(orientation=6),
        xmp=b"<x:xmpmeta>secret-place</x:xmpmeta>",
        comment=b"secret-comment",
        icc_profile=srgb,
    )
    source = opened(data)
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries GPS
    assert {"exif", "xmp", "comment", "icc_profile"} <= source.info.keys()

    result = process_image(data)

    for out in (result.data, result.thumb):
        img = opened(out)
        assert img.format == "JPEG"
        assert not img.getexif()
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "comment", "icc_profile"} & img.info.keys()
        for secret in (b"Exif", b"SecretPhone", b"secret-place", b"secret-comment"):
            assert secret not in out


@pytest.mark.parametrize(
    ("orientation", "top", "bottom"),
    [(6, RED, BLUE), (8, BLUE, RED), (3, None, None), (1, None, None)],
)
def test_exif_orientation_is_applied_before_it_is_stripped(orientation, top, bottom):
    data = encode(halves((200, 100)), "JPEG", exif=exif_with(orientation, gps=False))

    result = process_image(data)
    img = opened(result.data).convert("RGB")

    if orientation in (6, 8):  # a quarter turn: the landscape file is a portrait photo
        assert (result.width, result.height) == img.size == (100, 200)
        assert close_to(img.getpixel((50, 20)), top)
        assert close_to(img.getpixel((50, 180)), bottom)
        assert opened(result.thumb).size == (100, 200)
    else:
        assert (result.width, result.height) == img.size == (200, 100)
        left, right = (BLUE, RED) if orientation == 3 else (RED, BLUE)
        assert close_to(img.getpixel((20, 50)), left)
        assert close_to(img.getpixel((180, 50)), right)


def test_turned_large_photo_is_scaled_after_turning():
    data = encode(Image.new("RGB", (3200, 1600), RED), "JPEG", exif=exif_with(6, gps=False))

    result = process_image(data)

    assert (result.width, result.height) == (800, 1600)
    assert opened(result.thumb).size == (200, 400)


def test_damaged_exif_costs_nothing_but_the_exif():
    data = encode(halves((60, 40)), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7fgarbage")

    result = process_image(data)

    assert opened(result.data).size == (60, 40)
    assert not opened(result.data).getexif()


def test_unreadable_colour_profile_is_dropped_not_fatal():
    data = encode(halves((60, 40)), "JPEG", icc_profile=b"not a profile" * 10)

    result = process_image(data)

    assert "icc_profile" not in opened(result.data).info


# --- formats -----------------------------------------------------------------------------


def test_png_with_alpha_stays_png_with_alpha_and_loses_text_and_exif():
    img = Image.new("RGBA", (120, 80), (*RED, 255))
    img.paste((0, 0, 0, 0), (0, 0, 60, 80))
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Location", "secret-place")
    data = encode(img, "PNG", pnginfo=text, exif=exif_with())
    assert opened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    result = process_image(data)

    assert (result.content_type, result.extension) == ("image/png", ".png")
    for out in (result.data, result.thumb):
        png = opened(out)
        assert png.format == "PNG"
        assert png.mode == "RGBA"
        assert png.getpixel((5, 5))[3] == 0
        assert png.getpixel((png.width - 5, 5))[3] == 255
        assert not png.getexif()
        assert not getattr(png, "text", {})
        assert b"secret-place" not in out


def test_palette_png_with_transparency_keeps_it():
    img = Image.new("P", (40, 40), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (20, 0, 40, 40))
    data = encode(img, "PNG", transparency=0)

    png = opened(process_image(data).data)

    assert png.mode == "RGBA"
    assert png.getpixel((5, 5))[3] == 0
    assert png.getpixel((35, 5)) == (255, 0, 0, 255)


def test_opaque_png_stays_png_without_alpha():
    result = process_image(encode(halves((50, 50)), "PNG"))

    png = opened(result.data)
    assert (png.format, png.mode) == ("PNG", "RGB")


def test_webp_works_and_loses_exif():
    data = encode(halves((300, 200)), "WEBP", exif=exif_with(), quality=90)
    assert opened(data).getexif()

    result = process_image(data)

    assert (result.content_type, result.extension) == ("image/webp", ".webp")
    assert (result.width, result.height) == (300, 200)
    webp = opened(result.data)
    assert webp.format == "WEBP"
    assert not webp.getexif()
    assert "exif" not in webp.info
    assert close_to(webp.convert("RGB").getpixel((20, 100)), RED)
    assert opened(result.thumb).format == "WEBP"


def test_webp_with_alpha_keeps_it():
    img = Image.new("RGBA", (40, 40), (*BLUE, 255))
    img.paste((0, 0, 0, 0), (0, 0, 20, 40))

    webp = opened(process_image(encode(img, "WEBP", lossless=True)).data)

    assert webp.mode == "RGBA"
    assert webp.getpixel((5, 5))[3] == 0


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animation_keeps_only_its_first_frame(fmt):
    frames = [Image.new("RGB", (64, 48), colour) for colour in (RED, BLUE, (20, 220, 20))]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert getattr(opened(data), "n_frames", 1) == 3

    out = opened(process_image(data).data)

    assert getattr(out, "n_frames", 1) == 1
    assert not getattr(out, "is_animated", False)
    assert close_to(out.convert("RGB").getpixel((10, 10)), RED)


def test_cmyk_jpeg_becomes_rgb_and_grey_jpeg_stays_grey():
    cmyk = opened(process_image(encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")).data)
    grey = opened(process_image(encode(Image.new("L", (40, 30), 128), "JPEG")).data)

    assert cmyk.mode == "RGB"
    assert close_to(cmyk.getpixel((5, 5)), (255, 0, 0), tolerance=60)
    assert grey.mode == "L"


def test_multi_picture_jpeg_is_a_jpeg_with_one_picture():
    frames = [halves((80, 60)), Image.new("RGB", (80, 60), BLUE)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(BytesIO(data)).format == "MPO"

    result = process_image(data)

    out = opened(result.data)
    assert (result.content_type, out.format) == ("image/jpeg", "JPEG")
    assert getattr(out, "n_frames", 1) == 1


# --- size --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "main", "thumb"),
    [
        ((4000, 3000), (1600, 1200), (400, 300)),
        ((3000, 4000), (1200, 1600), (300, 400)),
        ((1600, 900), (1600, 900), (400, 225)),
        ((2000, 40), (1600, 32), (400, 8)),
    ],
)
def test_large_photos_are_scaled_down_keeping_their_shape(size, main, thumb):
    result = process_image(encode(Image.new("RGB", size, RED), "JPEG", quality=50))

    assert (result.width, result.height) == main
    assert opened(result.data).size == main
    assert opened(result.thumb).size == thumb
    assert max(main) <= MAX_EDGE and max(thumb) <= THUMB_EDGE


def test_small_photos_are_not_enlarged():
    result = process_image(encode(halves((300, 200)), "PNG"))

    assert (result.width, result.height) == (300, 200)
    assert opened(result.data).size == (300, 200)
    assert opened(result.thumb).size == (300, 200)


def test_result_is_a_frozen_record():
    result = process_image(encode(halves((30, 20)), "JPEG"))

    assert isinstance(result, ProcessedImage)
    assert (result.content_type, result.extension) == ("image/jpeg", ".jpg")
    with pytest.raises(AttributeError):
        result.width = 1  # type: ignore[misc]


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (encode(halves((30, 20)), "GIF"), "unsupported_type"),
        (encode(halves((30, 20)), "BMP"), "unsupported_type"),
        (encode(halves((30, 20)), "TIFF"), "unsupported_type"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", "not_an_image"),
        (os.urandom(4096), "not_an_image"),
        (b"Dear council,\nplease fix the lift.\n" * 20, "not_an_image"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "not_an_image",
        ),
        (encode(halves((300, 200)), "JPEG")[:400], "not_an_image"),
        (encode(halves((300, 200)), "PNG")[:-30], "not_an_image"),
    ],
    ids=["empty", "gif", "bmp", "tiff", "pdf", "random", "text", "svg", "cut-jpeg", "cut-png"],
)
def test_what_is_not_a_usable_photo_is_refused_with_a_reason(data, code):
    assert refused(data) == code


def test_more_than_five_megabytes_is_too_large_before_anything_is_decoded():
    assert refused(encode(halves((30, 20)), "JPEG") + b"\x00" * MAX_BYTES) == "too_large"
    # Exactly the limit is allowed through to the content check.
    assert refused(b"\x00" * MAX_BYTES) == "not_an_image"


def test_png_bomb_helper_makes_real_images():
    result = process_image(png_declaring(64, 48))

    assert opened(result.data).size == (64, 48)


@pytest.mark.parametrize(
    "size",
    [(7000, 7000), (10_000, 10_000), (20_000, 20_000)],
    ids=["over-our-limit", "pillow-warns", "pillow-refuses"],
)
def test_decompression_bombs_are_refused_without_a_warning(size):
    bomb = png_declaring(*size)
    assert len(bomb) < MAX_BYTES  # small on the wire, gigantic in memory

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert refused(bomb) == "too_many_pixels"

    assert caught == []


def test_errors_carry_a_code_and_a_message_for_the_resident():
    with pytest.raises(ImageError) as info:
        process_image(b"")

    assert isinstance(info.value, ValueError)
    assert str(info.value) == "empty"
    from portal.core.i18n import force_locale

    with force_locale("en"):
        assert str(info.value.message) == "The file is empty."
    with force_locale("zh_Hans"):
        assert str(info.value.message) == "文件是空的。"
    assert set(images._MESSAGES) == {
        "too_large",
        "not_an_image",
        "unsupported_type",
        "too_many_pixels",
        "too_many_pixels_together",
        "empty",
    }


# --- how much one photo and one request may cost -----------------------------------------


def test_a_photo_decodes_to_at_most_20_megapixels():
    assert images.MAX_PIXELS == 20_000_000
    # The PNG of zeros that took 1.5 s and 150 MB: 6300 × 6300 is 39.7 megapixels.
    bomb = png_declaring(6300, 6300, rgb=True)
    assert len(bomb) < 200_000
    assert refused(bomb) == "too_many_pixels"
    assert refused(png_declaring(4500, 4500)) == "too_many_pixels"  # 20.25 MP


def test_the_cap_is_checked_before_anything_is_decoded(monkeypatch):
    def no_decoding(*_args):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(images, "_decode", no_decoding)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert refused(png_declaring(6300, 6300, rgb=True)) == "too_many_pixels"
    with pytest.raises(ImageError) as info:
        images.process_images([png_declaring(4000, 4000)] * 3)
    assert info.value.code == "too_many_pixels_together"


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    """6000 × 4000 is 24 MP on paper, over the cap, but libjpeg decodes it at half size
    (6 MP), which still covers the 1600 pixels we keep: it is accepted, and cheap."""
    data = encode(halves((6000, 4000)), "JPEG", quality=40)
    with Image.open(BytesIO(data)) as probe:
        assert images._decoded_size(probe, "JPEG") == (3000, 2000)
    result = process_image(data)
    assert (result.width, result.height) == (1600, 1067)
    main = opened(result.data)
    assert close_to(main.getpixel((10, 500)), RED) and close_to(main.getpixel((1590, 500)), BLUE)


def test_one_request_decodes_at_most_40_megapixels_in_all():
    assert images.MAX_REQUEST_PIXELS == 40_000_000
    twelve = png_declaring(4000, 3000)  # 12 MP each
    with pytest.raises(ImageError) as info:
        images.process_images([twelve] * 4)  # 48 MP together
    assert info.value.code == "too_many_pixels_together"
    from portal.core.i18n import force_locale

    with force_locale("en"):
        assert "too large" in str(info.value.message)
    done = images.process_images([twelve, encode(halves((300, 200)), "PNG")])
    assert [(r.width, r.height) for r in done] == [(1600, 1200), (300, 200)]


def test_photos_of_a_request_are_decoded_one_at_a_time(monkeypatch):
    """Each photo's decoded pixels are released before the next photo is decoded."""
    real, alive = images._decode, []

    def spy(data, fmt):
        assert all(ref() is None or _closed(ref()) for ref in alive)
        img = real(data, fmt)
        alive.append(weakref.ref(img))
        return img

    monkeypatch.setattr(images, "_decode", spy)
    photo = encode(halves((2400, 1800)), "JPEG")
    assert len(images.process_images([photo, photo, encode(halves((900, 900)), "PNG")])) == 3
    assert len(alive) == 3


def _closed(img: Image.Image) -> bool:
    try:
        img.getpixel((0, 0))
    except ValueError:
        return True
    return False
