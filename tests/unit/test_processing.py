"""storage.processing: real types from first bytes, safe image normalisation, PDF checks."""

from __future__ import annotations

import hashlib
import io
import resource
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat, JpegImagePlugin, PngImagePlugin

from core.errors import DomainError
from core.settings import Settings
from storage import processing as p
from storage.processing import Processed, ProcessingError
from tests import images

NO_FONT = p.find_cjk_font("") is None
needs_cjk_font = pytest.mark.skipif(
    NO_FONT,
    reason="no font with Chinese glyphs on this machine (apt-get install -y fonts-wqy-zenhei)",
)
WATERMARK = p.watermark_text("不动产登记", date(2025, 11, 22))
BIG = 60_000_000


@dataclass(frozen=True)
class Limits:
    image_max_pixels: int = BIG
    image_max_side: int = 4096
    pdf_max_pages: int = 50
    watermark_font: str = ""


def image(data: bytes | None) -> Image.Image:
    assert data is not None
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def refused(code: str, call: object, *args: object, **kwargs: object) -> ProcessingError:
    assert callable(call)
    with pytest.raises(ProcessingError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.details
    return caught.value


def normalise(data: bytes, **kwargs: object) -> Processed:
    options: dict[str, object] = {"max_pixels": BIG, "max_side": 4096} | kwargs
    return p.process_image(data, **options)  # type: ignore[arg-type]


def is_red(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 180 and g < 90 and b < 90


# --- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: images.jpeg_with_exif(64, 48), "image/jpeg"),
        (lambda: images.png(64, 48), "image/png"),
        (lambda: images.webp(64, 48), "image/webp"),
        (lambda: images.heic(64, 48), "image/heic"),
        (lambda: images.pdf(), "application/pdf"),
    ],
    ids=["jpeg", "png", "webp", "heic", "pdf"],
)
def test_sniff_recognises_each_allowed_type(make: object, expected: str) -> None:
    assert callable(make)
    assert p.sniff(make()[:64]) == expected


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"])
def test_sniff_accepts_every_heif_brand(brand: bytes) -> None:
    head = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic"
    assert p.sniff(head) == "image/heic"


def test_sniff_refuses_avif_and_video_behind_generic_brands() -> None:
    avif = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf"
    mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    assert p.sniff(avif) is None
    assert p.sniff(mp4) is None
    assert p.describe(mp4) == "other_media"


def test_sniff_wants_the_pdf_header_at_offset_zero() -> None:
    assert p.sniff(b"%PDF-1.7\n") == "application/pdf"
    assert p.sniff(b"\n%PDF-1.7\n") is None  # readers accept it; we do not
    assert p.sniff(b"GARBAGE %PDF-1.7") is None


def test_sniff_ignores_short_and_empty_heads() -> None:
    assert p.sniff(b"") is None
    assert p.sniff(b"\xff") is None
    assert p.describe(b"") == "empty"


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (images.exe_as_jpg(), "windows_executable"),
        (b"\x7fELF\x02\x01\x01\x00", "elf_executable"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "macos_executable"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "zip_archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "ole_document"),
        (b"Rar!\x1a\x07\x01\x00", "rar_archive"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z_archive"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"\xef\xbb\xbf  <script>alert(1)</script>", "markup"),
        (b"<!DOCTYPE html><html>", "markup"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">', "markup"),
        (b"<?php system($_GET['c']); ?>", "markup"),
        (b"@echo off\r\ndel /q *", "markup"),
        (b"GIF89a\x01\x00\x01\x00", "gif_image"),
        (b"just some text", "unknown"),
    ],
)
def test_dangerous_and_other_files_are_named_and_not_allowed(head: bytes, name: str) -> None:
    assert p.sniff(head) is None
    assert p.describe(head) == name
    error = refused("storage.type_not_allowed", p.process, head + bytes(64), settings=Limits())
    assert error.details == {"detected": name}


def test_an_exe_renamed_jpg_is_refused_by_every_entry_point() -> None:
    exe = images.exe_as_jpg()
    error = refused("storage.type_not_allowed", p.process, exe, settings=Limits())
    assert error.details["detected"] == "windows_executable"
    assert error.message == "文件不是允许的图片或PDF格式，请重新拍照上传。"
    refused("storage.type_not_allowed", normalise, exe)
    refused("storage.type_not_allowed", p.check_pdf, exe, max_pages=5)


def test_zero_bytes_are_an_empty_file_everywhere() -> None:
    refused("storage.empty_file", p.process, b"", settings=Limits())
    refused("storage.empty_file", normalise, b"")
    refused("storage.empty_file", p.check_pdf, b"", max_pages=5)


def test_errors_are_domain_errors_with_chinese_messages() -> None:
    codes = [
        "storage.type_not_allowed",
        "storage.empty_file",
        "storage.file_too_large",
        "storage.corrupt_image",
        "storage.image_too_large",
        "storage.corrupt_pdf",
        "storage.pdf_active_content",
        "storage.pdf_too_many_pages",
        "storage.pdf_encrypted",
        "storage.watermark_font_missing",
    ]
    for code in codes:
        error = ProcessingError(code)
        assert isinstance(error, DomainError)
        assert error.code == code
        assert any("\u4e00" <= c <= "\u9fff" for c in error.message)
        assert error.status == (503 if code == "storage.watermark_font_missing" else 422)


# --- process(): dispatch and limits ------------------------------------------------------------


def test_process_dispatches_on_content_not_on_claims() -> None:
    photo = p.process(images.png(120, 80), settings=Limits())
    assert (photo.content_type, photo.width, photo.height, photo.pages) == (
        "image/jpeg",
        120,
        80,
        None,
    )
    document = p.process(images.pdf(2), settings=Limits())
    assert (document.content_type, document.pages, document.thumbnail) == (
        "application/pdf",
        2,
        None,
    )


def test_process_accepts_the_real_settings_object() -> None:
    settings = Settings(image_max_side=100)
    result = p.process(images.jpeg_with_exif(400, 300), settings=settings)
    assert max(result.width or 0, result.height or 0) == 100


def test_process_narrows_to_the_material_types_and_checks_the_size() -> None:
    refused(
        "storage.type_not_allowed",
        p.process,
        images.pdf(),
        settings=Limits(),
        allowed=p.IMAGE_TYPES,
    )
    data = images.png(200, 200)
    error = refused(
        "storage.file_too_large", p.process, data, settings=Limits(), max_bytes=len(data) - 1
    )
    assert error.details == {"size": len(data), "max_size": len(data) - 1}
    assert p.process(data, settings=Limits(), max_bytes=len(data)).width == 200


def test_the_original_is_hashed() -> None:
    for data in (images.jpeg_with_exif(64, 48), images.pdf()):
        result = p.process(data, settings=Limits())
        assert result.sha256_original == hashlib.sha256(data).hexdigest()


def test_the_repr_leaves_the_bytes_out() -> None:
    result = p.process(images.png(64, 48), settings=Limits())
    assert "data=" not in repr(result) and "thumbnail=" not in repr(result)


# --- images: metadata, orientation, size -------------------------------------------------------


def test_exif_gps_icc_xmp_and_comments_are_stripped() -> None:
    source = images.jpeg_with_exif(400, 300, orientation=6, gps=True, icc=images.srgb_icc())
    before = image(source)
    assert before.getexif().get_ifd(images.EXIF_GPS_IFD)  # the input does carry GPS
    assert {"exif", "icc_profile", "comment", "xmp"} <= set(before.info)

    result = normalise(source)
    for data in (result.data, result.thumbnail):
        assert data is not None
        out = image(data)
        assert out.format == "JPEG"
        assert not set(out.info) & {"exif", "icc_profile", "comment", "xmp", "photoshop"}
        assert len(out.getexif()) == 0
        assert not out.getexif().get_ifd(images.EXIF_GPS_IFD)
        for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"secret"):
            assert marker not in data
        assert b"PhoneMaker" not in data


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [
        (1, "top_left"),
        (2, "top_right"),
        (3, "bottom_right"),
        (4, "bottom_left"),
        (5, "top_left"),
        (6, "top_right"),
        (7, "bottom_right"),
        (8, "bottom_left"),
    ],
)
def test_the_exif_orientation_is_applied(orientation: int, corner: str) -> None:
    result = normalise(images.jpeg_with_exif(400, 300, orientation=orientation))
    out = image(result.data)
    upright = (300, 400) if orientation >= 5 else (400, 300)
    assert out.size == upright == (result.width, result.height)
    w, h = out.size
    corners = {
        "top_left": (10, 10),
        "top_right": (w - 11, 10),
        "bottom_left": (10, h - 11),
        "bottom_right": (w - 11, h - 11),
    }
    for name, xy in corners.items():
        pixel = out.getpixel(xy)
        assert isinstance(pixel, tuple)
        assert is_red(pixel) == (name == corner), (name, pixel)


def test_orientation_six_turns_a_landscape_photo_into_an_upright_portrait() -> None:
    out = image(normalise(images.jpeg_with_exif(400, 300, orientation=6)).data)
    assert out.size == (300, 400)
    top_right = out.getpixel((290, 10))
    assert isinstance(top_right, tuple) and is_red(top_right)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_counts_as_upright() -> None:
    im = Image.new("RGB", (60, 40), (10, 200, 10))
    out = io.BytesIO()
    im.save(out, "JPEG", exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff")
    result = normalise(out.getvalue())
    assert (result.width, result.height) == (60, 40)


def test_the_long_side_is_capped_and_the_aspect_ratio_kept() -> None:
    result = normalise(images.png(3000, 1000), max_side=1024)
    assert (result.width, result.height) == (1024, 341)
    assert image(result.data).size == (1024, 341)


def test_a_much_larger_jpeg_is_decoded_reduced_and_still_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drafts: list[object] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: object) -> object:
        drafts.append(size)
        return original(self, mode, size)  # type: ignore[arg-type]

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = normalise(images.jpeg_with_exif(4000, 2000, orientation=6), max_side=800)
    assert drafts == [(800, 400)]  # libjpeg decodes at 1/4 scale (1000×500), never below
    out = image(result.data)
    assert out.size == (400, 800)
    top_right = out.getpixel((390, 10))
    assert isinstance(top_right, tuple) and is_red(top_right)


def test_the_thumbnail_is_a_small_jpeg() -> None:
    result = normalise(images.jpeg_with_exif(1600, 1200, orientation=6))
    thumb = image(result.thumbnail)
    assert thumb.format == "JPEG"
    assert thumb.size == (240, 320)
    small = normalise(images.png(200, 100))
    assert image(small.thumbnail).size == (200, 100)


def test_the_output_is_a_baseline_jpeg_of_the_source_pixels() -> None:
    source = images.png(300, 200)
    out = image(normalise(source).data)
    assert out.mode == "RGB" and "progressive" not in out.info
    diff = ImageStat.Stat(ImageChops.difference(out, image(source).convert("RGB"))).mean
    assert max(diff) < 4


def test_the_twelve_megapixel_phone_photo() -> None:
    source = images.photo_12mp()
    assert 3_000_000 < len(source) < 5_500_000
    result = p.process(source, settings=Limits())
    assert (result.width, result.height) == (3000, 4000)  # orientation 6
    assert len(result.data) < len(source)
    out = image(result.data)
    top_right = out.getpixel((2990, 10))
    assert isinstance(top_right, tuple) and is_red(top_right)


# --- images: other formats -----------------------------------------------------------------------


def test_heic_is_accepted_and_converted_to_jpeg() -> None:
    result = p.process(images.heic(320, 240), settings=Limits())
    assert (result.content_type, result.width, result.height) == ("image/jpeg", 320, 240)
    out = image(result.data)
    assert out.format == "JPEG" and not set(out.info) & {"exif", "icc_profile", "xmp"}
    top_left = out.getpixel((8, 8))
    assert isinstance(top_left, tuple) and is_red(top_left)


def test_heic_rotation_is_applied_once() -> None:
    out = image(p.process(images.heic(400, 300, orientation=6), settings=Limits()).data)
    assert out.size == (300, 400)
    top_right = out.getpixel((290, 10))
    assert isinstance(top_right, tuple) and is_red(top_right)


def test_webp_is_accepted_and_transparency_becomes_white() -> None:
    result = p.process(images.webp(200, 100, alpha=True), settings=Limits())
    out = image(result.data)
    assert out.format == "JPEG" and out.size == (200, 100)
    assert min(out.getpixel((190, 50))) > 245  # type: ignore[arg-type]
    assert "exif" not in out.info


@pytest.mark.parametrize("mode", ["P", "L", "I;16", "1"])
def test_png_modes_are_converted_to_rgb(mode: str) -> None:
    out = image(normalise(images.png(100, 80, mode=mode)).data)
    assert out.mode == "RGB" and out.size == (100, 80)


def test_transparent_png_is_flattened_onto_white() -> None:
    out = image(normalise(images.png(100, 80, alpha=True)).data)
    assert min(out.getpixel((90, 40))) > 245  # type: ignore[arg-type]


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    out = image(normalise(images.cmyk_jpeg(100, 80)).data)
    assert out.mode == "RGB"
    top_left = out.getpixel((5, 5))
    assert isinstance(top_left, tuple) and is_red(top_left)


def test_an_unreadable_colour_profile_is_dropped_not_fatal() -> None:
    source = images.jpeg_with_exif(100, 80, orientation=1, icc=b"not a profile" * 20)
    out = image(normalise(source).data)
    assert "icc_profile" not in out.info


# --- images: hostile input -----------------------------------------------------------------------


def test_a_pixel_bomb_is_refused_before_decoding_quickly_and_in_little_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = images.png_bomb()
    assert len(bomb) < 200_000  # 20000×20000 pixels in a small file

    def no_decoding(self: object) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    refused("storage.image_too_large", p.process, bomb, settings=Limits())
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50 * 1024  # decoding would need 400 MB


def test_more_pixels_than_allowed_are_refused_from_the_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = images.png(2000, 1000)

    def no_decoding(self: object) -> None:
        raise AssertionError("decoded before the pixel check")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    error = refused("storage.image_too_large", normalise, data, max_pixels=1_999_999)
    assert error.details == {"width": 2000, "height": 1000, "max_pixels": 1_999_999}


def test_a_truncated_jpeg_is_corrupt() -> None:
    refused("storage.corrupt_image", p.process, images.truncated_jpeg(), settings=Limits())


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + bytes(100),  # JPEG magic, nothing else
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,  # PNG signature, no IHDR
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(40),
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
    ],
    ids=["jpeg", "png", "webp", "heic"],
)
def test_right_magic_with_garbage_behind_is_corrupt(data: bytes) -> None:
    refused("storage.corrupt_image", p.process, data, settings=Limits())


# --- watermark -----------------------------------------------------------------------------------


def test_watermark_text() -> None:
    assert (
        p.watermark_text("居民身份证换领", date(2025, 1, 2))
        == "仅供办理居民身份证换领使用 2025-01-02"
    )


@needs_cjk_font
def test_the_watermark_covers_the_whole_image_and_keeps_it_readable() -> None:
    source = images.png(1200, 900)
    plain = image(normalise(source).data)
    marked_result = normalise(source, watermark=WATERMARK)
    marked = image(marked_result.data)
    assert marked.size == plain.size
    w, h = plain.size
    for row in range(3):
        for col in range(3):
            box = (col * w // 3, row * h // 3, (col + 1) * w // 3, (row + 1) * h // 3)
            diff = ImageChops.difference(plain.crop(box), marked.crop(box)).convert("L")
            assert ImageStat.Stat(diff).mean[0] > 1.0, box  # text in every ninth of the picture
            assert ImageStat.Stat(diff).extrema[0][1] > 25, box
    overall = ImageChops.difference(plain, marked).convert("L")
    assert ImageStat.Stat(overall).mean[0] < 30  # semi-transparent: the picture is still there
    top_left = marked.getpixel((10, 10))
    assert isinstance(top_left, tuple) and top_left[0] > 150  # the marker shows through
    thumb_plain = image(normalise(source).thumbnail)
    thumb_marked = image(marked_result.thumbnail)
    assert ImageStat.Stat(ImageChops.difference(thumb_plain, thumb_marked)).mean[0] > 1.0


@needs_cjk_font
def test_the_watermark_is_drawn_upright_after_the_orientation() -> None:
    source = images.jpeg_with_exif(800, 600, orientation=6, gps=True)
    result = normalise(source, watermark=WATERMARK)
    assert (result.width, result.height) == (600, 800)
    out = image(result.data)
    assert "exif" not in out.info


@needs_cjk_font
def test_the_watermark_fits_tiny_and_huge_pictures() -> None:
    for size in ((40, 30), (30, 2000)):
        result = normalise(images.png(*size), watermark=WATERMARK)
        assert (result.width, result.height) == size


def test_a_missing_configured_font_is_unavailable_not_a_refused_file() -> None:
    error = refused(
        "storage.watermark_font_missing",
        normalise,
        images.png(100, 100),
        watermark=WATERMARK,
        font_path="/nonexistent/font.ttc",
    )
    assert error.status == 503  # our configuration, not the file: the phone retries later
    assert error.details == {}  # server paths stay out of what the client sees
    assert "/nonexistent/font.ttc" in "".join(error.__notes__)  # but reach the server log
    # Without a watermark the font does not matter.
    assert normalise(images.png(100, 100), font_path="/nonexistent/font.ttc").width == 100


def test_a_font_without_chinese_glyphs_is_not_accepted() -> None:
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin.is_file():
        pytest.skip("DejaVuSans (a font without Chinese glyphs) is not installed")
    assert p.find_cjk_font(str(latin)) is None


@needs_cjk_font
def test_find_cjk_font_searches_the_system_and_honours_a_configured_path() -> None:
    found = p.find_cjk_font("")
    assert found is not None
    assert p.find_cjk_font(found) == found
    assert p.find_cjk_font("/nonexistent/font.ttc") is None


# --- PDFs ----------------------------------------------------------------------------------------


def test_a_pdf_is_kept_unchanged_and_its_pages_counted() -> None:
    data = images.pdf(pages=3)
    result = p.check_pdf(data, max_pages=50)
    assert result.data is data
    assert (result.content_type, result.pages, result.width, result.height) == (
        "application/pdf",
        3,
        None,
        None,
    )
    assert result.thumbnail is None
    assert result.sha256_original == hashlib.sha256(data).hexdigest()


def test_links_and_open_action_destinations_are_fine() -> None:
    assert p.check_pdf(images.pdf_with_uri_link(), max_pages=5).pages == 1


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (images.pdf_with_javascript, "javascript"),
        (images.pdf_with_open_action_js, "javascript"),
        (images.pdf_with_hex_escaped_js, "javascript"),
        (images.pdf_with_unreferenced_js, "javascript"),
        (images.pdf_with_launch, "launch"),
        (images.pdf_with_additional_actions, "additional_actions"),
        (images.pdf_with_embedded_file, "embedded_file"),
        (images.pdf_with_xfa, "xfa"),
    ],
)
def test_active_content_is_refused(make: object, found: str) -> None:
    assert callable(make)
    error = refused("storage.pdf_active_content", p.process, make(), settings=Limits())
    assert found in error.details["found"]


def test_an_encrypted_pdf_is_refused() -> None:
    refused("storage.pdf_encrypted", p.process, images.encrypted_pdf(), settings=Limits())
    refused("storage.pdf_encrypted", p.process, images.encrypted_pdf(""), settings=Limits())


def test_too_many_pages_are_refused() -> None:
    error = refused("storage.pdf_too_many_pages", p.check_pdf, images.pdf(pages=5), max_pages=4)
    assert error.details == {"pages": 5, "max_pages": 4}
    assert "最多4页" in error.message
    refused(
        "storage.pdf_too_many_pages", p.process, images.pdf(3), settings=Limits(pdf_max_pages=2)
    )
    assert p.check_pdf(images.pdf(pages=4), max_pages=4).pages == 4


@pytest.mark.parametrize(
    "data",
    [
        images.garbage_pdf(),
        b"%PDF-1.7\n%%EOF\n",
        b"%PDF-garbage",
        images.pdf_without_pages(),
        images.pdf(2)[:40],
    ],
    ids=["random-body", "header-only", "no-version", "no-pages", "truncated-to-header"],
)
def test_a_broken_pdf_is_corrupt(data: bytes) -> None:
    refused("storage.corrupt_pdf", p.process, data, settings=Limits())


def test_a_pdf_header_after_offset_zero_is_not_a_pdf() -> None:
    error = refused(
        "storage.type_not_allowed", p.process, b"\r\n" + images.pdf(), settings=Limits()
    )
    assert error.details == {"detected": "unknown"}


def test_an_unreadable_page_count_is_replaced_by_counting_the_pages() -> None:
    lying = images.raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 5 0 R >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ]
    )
    assert p.check_pdf(lying, max_pages=3).pages == 3  # an indirect /Count is fine
    refused("storage.pdf_too_many_pages", p.check_pdf, lying, max_pages=2)


def test_a_pdf_too_complex_to_inspect_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(p, "PDF_MAX_OBJECTS", 3)
    error = refused("storage.corrupt_pdf", p.check_pdf, images.pdf(pages=4), max_pages=50)
    assert error.details == {"reason": "too_complex"}
