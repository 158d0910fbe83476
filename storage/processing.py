"""Verification and normalisation of uploaded materials: bytes in, bytes out.

Completion of an upload reads the object and hands its bytes to :func:`process`, which

1. decides the real type from the first bytes (:func:`sniff`), never from the name or the type
   the phone claimed; anything that is not a JPEG, PNG, WebP, HEIC or PDF is refused (and
   executables, archives, Office files and scripts are named in the refusal's details);
2. hashes the original (SHA-256);
3. images (:func:`process_image`): refuses pixel bombs from the header before decoding, decodes
   with Pillow (HEIC through pillow-heif), turns the picture upright from its EXIF orientation,
   converts it to sRGB RGB (alpha flattened onto white), scales the long side down to
   ``image_max_side``, optionally draws the visible watermark, and re-encodes a JPEG that carries
   no metadata at all (no EXIF, so no GPS; no ICC, XMP or comments), plus a 320 px thumbnail;
4. PDFs (:func:`check_pdf`): header at offset 0, structure parsed by pypdf, no encryption, a page
   limit, and no active content (JavaScript, launch actions, additional actions, embedded files,
   rich media, XFA). The original bytes are kept unchanged.

Every refusal is a :class:`ProcessingError` with a stable code and a Chinese message a citizen can
act on. The functions do no I/O except looking for a font file, and are CPU-bound: callers run them
in a thread (``asyncio.to_thread``). This module imports only ``core`` and third-party libraries.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

import pillow_heif
from PIL import Image, ImageCms, ImageDraw, ImageFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from core.errors import DomainError

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
PDF = "application/pdf"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP, HEIC})
ALLOWED_TYPES = frozenset({*IMAGE_TYPES, PDF})

#: How many leading bytes :func:`sniff` and :func:`describe` look at.
SNIFF_BYTES = 64
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 75
#: Watermark: angle (degrees, counter-clockwise) and the alpha of the text and of its outline.
WATERMARK_ANGLE = 30
WATERMARK_FILL = (60, 60, 60, 80)
WATERMARK_STROKE = (255, 255, 255, 56)
#: Watermark layout: the text spans this share of the short side; copies on a line are this many
#: font sizes apart, parallel lines this many font sizes apart.
WATERMARK_SPAN = 0.5
WATERMARK_GAP = 3.0
WATERMARK_LINE_PITCH = 6.0
#: Strips per text height the rotated text is cut into (fewer: fewer pastes, more empty area).
WATERMARK_BANDS = 3
#: A PDF with more indirect objects than this, or whose inspection takes more CPU than this (of
#: the calling thread), is refused as malformed: pypdf parses only some thousands of objects a
#: second, so a small file packed with tiny objects would otherwise cost minutes. A 50-page
#: document usually has hundreds to a few thousand objects (tagged PDFs: tens of thousands).
PDF_MAX_OBJECTS = 50_000
PDF_MAX_CPU_S = 5.0

#: Freed image memory Pillow keeps for the next image, in blocks of 16 MB (Pillow keeps none by
#: default). A 12-megapixel photo needs six (the decoded picture, then the turned one): without
#: the cache each completion faults in ~90 MB of fresh pages, ~40 ms of system CPU. The cost is up
#: to this many blocks of resident memory per process. ``PILLOW_BLOCKS_MAX`` in the environment
#: (Pillow's own setting) takes precedence.
PILLOW_BLOCKS_CACHED = 8
if "PILLOW_BLOCKS_MAX" not in os.environ:
    Image.core.set_blocks_max(max(Image.core.get_blocks_max(), PILLOW_BLOCKS_CACHED))

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_HEVC_BRANDS = _HEIC_BRANDS - {b"mif1", b"msf1"}
_PIL_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", HEIC: "HEIF"}

# --- errors ------------------------------------------------------------------------------------

_MESSAGES = {
    "storage.type_not_allowed": "文件不是允许的图片或PDF格式，请重新拍照上传。",
    "storage.empty_file": "上传的文件是空的，请重新拍照或选择文件上传。",
    "storage.file_too_large": "文件太大，请压缩后重新上传。",
    "storage.corrupt_image": "图片已损坏或不完整，无法打开，请重新拍照上传。",
    "storage.image_too_large": "图片像素过大，请缩小或重新拍照后上传。",
    "storage.corrupt_pdf": "PDF文件已损坏或格式不正确，请重新生成后上传。",
    "storage.pdf_active_content": "PDF文件含有脚本、附件等不允许的内容，请另存为普通PDF后上传。",
    "storage.pdf_too_many_pages": "PDF文件页数过多，请精简或拆分后上传。",
    "storage.pdf_encrypted": "PDF文件已加密或设有密码，请取消密码后上传。",
    "storage.watermark_font_missing": "服务暂时无法处理图片，请稍后再试。",
}
#: Codes caused by our configuration rather than by the file: the HTTP status is 503 (the upload
#: is kept and the phone retries later, as it does when a dependency is down), not 422.
_SERVER_CODES = frozenset({"storage.watermark_font_missing"})


class ProcessingError(DomainError):
    """A file refused at completion (or a server-side processing fault), with a stable code.

    It is a ``DomainError``, so the HTTP edge renders it as the usual error envelope; callers that
    mark the upload ``rejected`` read ``code``, ``message`` and ``details``.
    """

    status = 422
    code = "storage.type_not_allowed"
    message = _MESSAGES["storage.type_not_allowed"]

    def __init__(
        self, code: str, *, details: dict[str, Any] | None = None, message: str | None = None
    ) -> None:
        super().__init__(
            message or _MESSAGES.get(code, self.message),
            code=code,
            details=details,
            status=503 if code in _SERVER_CODES else 422,
        )


# --- results and settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Processed:
    """What completion stores: the normalised bytes (or the original PDF) and what we learnt."""

    data: bytes = field(repr=False)
    content_type: str
    width: int | None
    height: int | None
    pages: int | None
    thumbnail: bytes | None = field(repr=False)
    sha256_original: str


class ProcessingSettings(Protocol):
    """The settings :func:`process` reads; ``core.settings.Settings`` satisfies it."""

    @property
    def image_max_pixels(self) -> int: ...

    @property
    def image_max_side(self) -> int: ...

    @property
    def pdf_max_pages(self) -> int: ...

    @property
    def watermark_font(self) -> str: ...


def watermark_text(item_name: str, on: date) -> str:
    """The watermark of a material used for one item: ``仅供办理<item name>使用 <date>``."""
    return f"仅供办理{item_name}使用 {on.isoformat()}"


# --- sniffing ----------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The allowed type the first bytes prove, or None. Names and claimed types are ignored.

    A PDF must start with ``%PDF-`` at offset 0 (readers accept it anywhere in the first kilobyte,
    which is how polyglot files hide; we do not).
    """
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and _is_heic(head):
        return HEIC
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def _is_heic(head: bytes) -> bool:
    major = head[8:12]
    if major not in _HEIC_BRANDS:
        return False
    if major in _HEVC_BRANDS:
        return True
    # A generic HEIF major brand (mif1/msf1) is also used by AVIF; look at the compatible brands.
    box_size = int.from_bytes(head[0:4], "big")
    brands = head[16 : min(box_size, len(head))]
    compatible = {brands[i : i + 4] for i in range(0, len(brands) - 3, 4)}
    return not compatible & {b"avif", b"avis"} or bool(compatible & _HEVC_BRANDS)


_DANGERS: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "windows_executable"),
    (b"\x7fELF", "elf_executable"),
    (b"\xfe\xed\xfa\xce", "macos_executable"),
    (b"\xfe\xed\xfa\xcf", "macos_executable"),
    (b"\xce\xfa\xed\xfe", "macos_executable"),
    (b"\xcf\xfa\xed\xfe", "macos_executable"),
    (b"\xca\xfe\xba\xbe", "macos_executable"),
    (b"dex\n", "android_dex"),
    (b"PK\x03\x04", "zip_archive"),
    (b"PK\x05\x06", "zip_archive"),
    (b"PK\x07\x08", "zip_archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole_document"),
    (b"Rar!\x1a\x07", "rar_archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z_archive"),
    (b"\x1f\x8b", "gzip_archive"),
    (b"{\\rtf", "rtf_document"),
    (b"#!", "script"),
    (b"GIF8", "gif_image"),
    (b"BM", "bmp_image"),
    (b"II*\x00", "tiff_image"),
    (b"MM\x00*", "tiff_image"),
)
_MARKUP = re.compile(
    rb"<(\?php|\?xml|script|html|!doctype\s+html|svg|hta:|job|package)|@echo\s+off|powershell",
    re.IGNORECASE,
)


def describe(head: bytes) -> str:
    """What a refused file looks like, for the refusal's details: the allowed type it is, a named
    danger (``windows_executable``, ``elf_executable``, ``zip_archive`` (also docx/xlsx/apk),
    ``ole_document`` (doc/xls/msi), ``script``, ``markup`` (HTML, SVG, XML, PHP)…), ``empty`` or
    ``unknown``. Everything but the allowed types is simply not allowed.
    """
    if not head:
        return "empty"
    found = sniff(head)
    if found:
        return found
    for magic, name in _DANGERS:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "other_media"  # AVIF, MP4, MOV…
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if _MARKUP.match(text) or _MARKUP.search(head[:SNIFF_BYTES]):
        return "markup"
    return "unknown"


# --- dispatch ----------------------------------------------------------------------------------


def process(
    data: bytes,
    *,
    settings: ProcessingSettings,
    watermark_text: str | None = None,
    allowed: Collection[str] | None = None,
    max_bytes: int | None = None,
) -> Processed:
    """Verify and normalise one uploaded file, whatever it claims to be.

    ``allowed`` narrows the accepted types for a material (e.g. images only); ``max_bytes`` is the
    upload's size limit, checked again on the bytes actually read. Images come back as JPEG; a PDF
    comes back unchanged. Raises :class:`ProcessingError`; the caller deletes the object.
    """
    if not data:
        raise ProcessingError("storage.empty_file")
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None or (allowed is not None and kind not in allowed):
        raise ProcessingError(
            "storage.type_not_allowed", details={"detected": describe(data[:SNIFF_BYTES])}
        )
    if max_bytes is not None and len(data) > max_bytes:
        raise ProcessingError(
            "storage.file_too_large", details={"size": len(data), "max_size": max_bytes}
        )
    if kind == PDF:
        return check_pdf(data, max_pages=settings.pdf_max_pages)
    return process_image(
        data,
        max_pixels=settings.image_max_pixels,
        max_side=settings.image_max_side,
        watermark=watermark_text,
        font_path=settings.watermark_font or None,
    )


# --- images ------------------------------------------------------------------------------------

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            pillow_heif.register_heif_opener()
            _heif_registered = True


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def process_image(
    data: bytes,
    *,
    max_pixels: int,
    max_side: int,
    watermark: str | None = None,
    font_path: str | None = None,
) -> Processed:
    """Decode a JPEG, PNG, WebP or HEIC safely and re-encode it as an upright, metadata-free JPEG.

    The pixel count is read from the header and refused above ``max_pixels`` before anything is
    decoded (Pillow's own bomb limit is a second net). JPEGs much larger than ``max_side`` are
    decoded directly at 1/2, 1/4 or 1/8 scale. ``watermark`` draws that text diagonally across the
    whole picture with the CJK font at ``font_path`` (or one found on the system).
    """
    if not data:
        raise ProcessingError("storage.empty_file")
    kind = sniff(data[:SNIFF_BYTES])
    if kind not in IMAGE_TYPES:
        raise ProcessingError(
            "storage.type_not_allowed", details={"detected": describe(data[:SNIFF_BYTES])}
        )
    font = None
    if watermark:
        found = find_cjk_font(font_path or "")
        if found is None:
            error = ProcessingError("storage.watermark_font_missing")
            error.add_note(  # for the server log; the client sees only the code and message
                f"ZB_WATERMARK_FONT={font_path!r} is not a font with Chinese glyphs"
                if font_path
                else "no font with Chinese glyphs in " + ", ".join(CJK_FONT_CANDIDATES)
            )
            raise error
        font = found
    sha = hashlib.sha256(data).hexdigest()
    if kind == HEIC:
        _register_heif()

    im, profile = _decode(data, _PIL_FORMAT[kind], max_pixels=max_pixels, max_side=max_side)
    orientation = _orientation(im)
    try:
        im = _to_rgb(im, profile)
    except (ValueError, OSError) as exc:  # a mode Pillow cannot convert (LAB, exotic TIFF-ish…)
        raise ProcessingError("storage.corrupt_image") from exc
    im = _fit(im, max_side, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if profile is not None and im.mode == "RGB":
        im = _apply_profile(im, profile)
    if orientation:
        im = im.transpose(_TRANSPOSE[orientation])
    if watermark and font:
        _draw_watermark(im, watermark, font)
    im.info = {}  # nothing of the source travels to the output (comment, XMP, ICC, EXIF…)

    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False, subsampling=2)
    tout = io.BytesIO()
    thumb = _fit(im, THUMBNAIL_SIDE, Image.Resampling.BICUBIC, reducing_gap=1.5)
    thumb.save(tout, "JPEG", quality=THUMBNAIL_QUALITY, subsampling=2)
    return Processed(
        data=out.getvalue(),
        content_type=JPEG,
        width=im.width,
        height=im.height,
        pages=None,
        thumbnail=tout.getvalue(),
        sha256_original=sha,
    )


def _fit(
    im: Image.Image, side: int, resample: Image.Resampling, *, reducing_gap: float
) -> Image.Image:
    """``im`` scaled down to at most ``side`` on its long side (a box reduction by an integer
    factor first, then ``resample``), or ``im`` itself when it already fits."""
    scale = side / max(im.size)
    if scale >= 1:
        return im
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, resample, reducing_gap=reducing_gap)


def _decode(
    data: bytes, fmt: str, *, max_pixels: int, max_side: int
) -> tuple[Image.Image, ImageCms.ImageCmsProfile | None]:
    """Open lazily, refuse oversized pixel counts from the header, then decode (maybe reduced).
    Also the embedded colour profile when the colours must be converted (see ``_colour_profile``).
    """
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        # Pillow's own words (its limit, its internals) stay in the server log, not the answer.
        raise ProcessingError("storage.image_too_large") from exc
    except Exception as exc:
        raise ProcessingError("storage.corrupt_image") from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ProcessingError("storage.corrupt_image")
    if width * height > max_pixels:
        raise ProcessingError(
            "storage.image_too_large",
            details={"width": width, "height": height, "max_pixels": max_pixels},
        )
    profile = _colour_profile(im.info.get("icc_profile"))
    try:
        if fmt == "JPEG" and im.mode == "RGB":
            # Keep libjpeg's YCbCr (no colour conversion on decode nor on encode) unless a colour
            # profile must be applied, and let it decode at 1/2, 1/4 or 1/8 scale when the
            # picture is at least twice the size we keep (never below that size).
            keep_ycbcr = profile is None
            long_side = max(width, height)
            reduced = None
            if long_side >= 2 * max_side:
                scale = max_side / long_side
                reduced = (math.ceil(width * scale), math.ceil(height * scale))
            if keep_ycbcr or reduced:
                im.draft("YCbCr" if keep_ycbcr else None, reduced)
        im.load()  # the first frame of an animation
    except Image.DecompressionBombError as exc:
        # Pillow's own words (its limit, its internals) stay in the server log, not the answer.
        raise ProcessingError("storage.image_too_large") from exc
    except Exception as exc:  # truncated data, broken Huffman tables, bad chunks, libheif errors…
        raise ProcessingError("storage.corrupt_image") from exc
    return im, profile


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (2-8) still to apply, or 0. Unreadable EXIF counts as upright."""
    try:
        value = im.getexif().get(0x0112)
    except Exception:
        return 0
    return value if isinstance(value, int) and value in _TRANSPOSE else 0


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _colour_profile(icc: bytes | None) -> ImageCms.ImageCmsProfile | None:
    """The embedded colour profile when it is not sRGB (e.g. Display P3 from iPhones), else None.
    The profile is dropped from the output, so its colours must be converted to sRGB first; an
    unreadable profile is ignored (the pixels are kept as they are)."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return None
    except Exception:
        return None
    return profile


def _to_rgb(im: Image.Image, profile: ImageCms.ImageCmsProfile | None) -> Image.Image:
    """RGB pixels (or the decoder's YCbCr, which needs no conversion): alpha flattened onto white,
    CMYK (through its profile when it has one), grey, palette and 16-bit converted."""
    mode = im.mode
    if mode in ("RGB", "YCbCr"):
        return im
    if mode == "CMYK" and profile is not None:
        converted = _apply_profile(im, profile)
        if converted.mode == "RGB":
            return converted
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode.startswith("I;16") or mode == "I":
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im if im.mode == "RGB" else im.convert("RGB")


def _apply_profile(im: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    try:
        out = ImageCms.profileToProfile(
            im, profile, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except Exception:  # a profile that does not fit the pixels: keep them as they are
        return im
    return out if out is not None else im


# --- watermark ---------------------------------------------------------------------------------

#: Fonts with Chinese glyphs, in order of preference (Debian/Ubuntu, Fedora, Alpine, macOS,
#: Windows). ``fonts-wqy-zenhei`` provides the first one.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_CJK_PROBE = "仅供办理使用"
#: FreeType faces are not safe to use from two threads at once; fonts are shared through caches.
_font_lock = threading.RLock()


def find_cjk_font(configured: str) -> str | None:
    """A font file that really has Chinese glyphs, or None.

    A configured path is used only if it exists and has the glyphs (a misconfiguration is reported,
    not papered over); otherwise the common system locations are searched.
    """
    candidates = (configured,) if configured else CJK_FONT_CANDIDATES
    for path in candidates:
        if os.path.isfile(path):
            with _font_lock:
                if _font_face(path) is not None:
                    return path
    return None


@lru_cache(maxsize=16)
def _font_face(path: str) -> int | None:
    """The face index of ``path`` to use (the Simplified Chinese one of a collection), or None when
    the file cannot be read or draws Chinese as "missing glyph" boxes."""
    faces: list[tuple[int, str]] = []
    for index in range(8 if path.lower().endswith(".ttc") else 1):
        try:
            font = ImageFont.truetype(path, 32, index=index)
        except OSError:
            break
        if _draws_cjk(font):
            faces.append((index, " ".join(n or "" for n in font.getname())))
    if not faces:
        return None
    for index, name in faces:
        if " SC" in name or "GB" in name:
            return index
    return faces[0][0]


def _draws_cjk(font: ImageFont.FreeTypeFont) -> bool:
    """Whether the font has real glyphs for Chinese (not its "missing glyph" box, not nothing)."""
    missing = {_glyph(font, c) for c in ("\u0378", "\U0010fffd")}  # unassigned code points
    return all((g := _glyph(font, c)) not in missing and any(g) for c in _CJK_PROBE)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    canvas = Image.new("L", (48, 48))
    ImageDraw.Draw(canvas).text((4, 4), char, font=font, fill=255)
    return canvas.tobytes()


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_font_face(path) or 0)


_OUTLINE_ALPHA = WATERMARK_STROKE[3]
_LETTERS_ALPHA = WATERMARK_FILL[3]
#: Alpha value -> share of the dark (letters) colour: outline and below light, letters dark.
_DARKNESS = [
    0
    if v <= _OUTLINE_ALPHA
    else min(255, (v - _OUTLINE_ALPHA) * 255 // (_LETTERS_ALPHA - _OUTLINE_ALPHA))
    for v in range(256)
]


_Strip = tuple[int, int, Image.Image, Image.Image]


@lru_cache(maxsize=64)
def _watermark_pieces(
    text: str, path: str, size: int, mode: str
) -> tuple[tuple[int, int], tuple[_Strip, ...], float, float]:
    """The text rotated by ``WATERMARK_ANGLE``, cut into horizontal strips each cropped to its ink
    (so that pasting costs about the ink's area, not the rotated bounding box), ready to paste
    onto an image of ``mode``: (x, y, colour, alpha). Also the pitch along and across the lines.

    One greyscale rendering carries everything: the outline is drawn with the outline's alpha and
    the letters over it with the letters' alpha, so the value of a pixel is its alpha and tells
    outline (light) from letters (dark). Large text is rotated with nearest-neighbour sampling:
    several times cheaper, and its one-pixel steps do not show at that size.
    """
    stroke = max(1, size // 16)
    margin = 2
    with _font_lock:
        font = _font(path, size)
        left, top, right, bottom = (round(v) for v in font.getbbox(text, stroke_width=stroke))
        tile = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin))
        ImageDraw.Draw(tile).text(
            (margin - left, margin - top),
            text,
            font=font,
            fill=_LETTERS_ALPHA,
            stroke_width=stroke,
            stroke_fill=_OUTLINE_ALPHA,
        )
    resample = Image.Resampling.NEAREST if size >= 40 else Image.Resampling.BILINEAR
    rotated = tile.rotate(WATERMARK_ANGLE, resample=resample, expand=True)
    light = _ink(WATERMARK_STROKE[:3], mode)
    dark = _ink(WATERMARK_FILL[:3], mode)
    band = max(4, tile.height // WATERMARK_BANDS)
    strips: list[_Strip] = []
    for y0 in range(0, rotated.height, band):
        strip = rotated.crop((0, y0, rotated.width, min(y0 + band, rotated.height)))
        box = strip.getbbox()
        if box:
            alpha = strip.crop(box)
            colour = Image.composite(
                Image.new(mode, alpha.size, dark),
                Image.new(mode, alpha.size, light),
                alpha.point(_DARKNESS),
            )
            strips.append((box[0], y0 + box[1], colour, alpha))
    along = tile.width + WATERMARK_GAP * size  # from one copy to the next on the same line
    across = WATERMARK_LINE_PITCH * size  # between parallel lines
    return rotated.size, tuple(strips), along, across


@lru_cache(maxsize=8)
def _ink(rgb: tuple[int, int, int], mode: str) -> tuple[int, ...]:
    """An RGB colour in the image's mode (the decoder's YCbCr, or RGB)."""
    value = Image.new("RGB", (1, 1), rgb).convert(mode).getpixel((0, 0))
    assert isinstance(value, tuple)
    return value


def _draw_watermark(im: Image.Image, text: str, font_path: str) -> None:
    """Repeat ``text`` on parallel lines at 30° over the whole image, semi-transparent: dark
    letters with a light outline, legible on light and on dark pictures."""
    width, height = im.size
    short = min(width, height)
    with _font_lock:
        reference = _font(font_path, 100).getlength(text) or 100.0
    # The text spans WATERMARK_SPAN of the short side; at least 12 px, at most a tenth of it.
    size = int(100 * WATERMARK_SPAN * short / reference)
    size = max(12, min(size, max(12, short // 10)))
    size = _bucket(size)
    (rw, rh), strips, along, across = _watermark_pieces(text, font_path, size, im.mode)

    theta = math.radians(WATERMARK_ANGLE)
    ux, uy = math.cos(theta), -math.sin(theta)  # along the text (rising to the right)
    vx, vy = math.sin(theta), math.cos(theta)  # across the lines
    cx, cy = width / 2, height / 2
    reach = math.hypot(width, height) / 2 + max(rw, rh)
    lines = math.ceil(reach / across)
    copies = math.ceil(reach / along) + 1
    for j in range(-lines, lines + 1):
        shift = 0.5 if j % 2 else 0.0  # stagger neighbouring lines
        for i in range(-copies, copies + 1):
            a = (i + shift) * along
            b = j * across
            x = round(cx + a * ux + b * vx - rw / 2)
            y = round(cy + a * uy + b * vy - rh / 2)
            if x >= width or y >= height or x + rw <= 0 or y + rh <= 0:
                continue
            for dx, dy, colour, alpha in strips:
                px, py = x + dx, y + dy
                if px < width and py < height and px + colour.width > 0 and py + colour.height > 0:
                    im.paste(colour, (px, py), alpha)


def _bucket(size: int) -> int:
    """Round font sizes so that similar images share one cached rendering of the watermark."""
    if size <= 24:
        return size
    step = 2 if size <= 64 else 4
    return size - size % step


# --- PDFs --------------------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
#: Dictionary keys that are active content wherever they appear.
_ACTIVE_KEYS = {
    "/JavaScript": "javascript",
    "/JS": "javascript",
    "/AA": "additional_actions",
    "/Launch": "launch",
    "/EmbeddedFiles": "embedded_file",
    "/EmbeddedFile": "embedded_file",
    "/EF": "embedded_file",
    "/RichMedia": "rich_media",
    "/RichMediaContent": "rich_media",
    "/XFA": "xfa",
}
#: Action types (``/S``) and object types (``/Type``, ``/Subtype``) that are active content.
_ACTIVE_TYPES = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/ImportData": "import_data",
    "/GoToE": "embedded_file",
    "/RichMediaExecute": "rich_media",
    "/EmbeddedFile": "embedded_file",
    "/FileAttachment": "embedded_file",
    "/RichMedia": "rich_media",
}
_TYPE_KEYS = frozenset({"/S", "/Type", "/Subtype"})


def check_pdf(data: bytes, *, max_pages: int) -> Processed:
    """Check a PDF's header, structure, encryption, page count and active content.

    The bytes are kept as they are (``data`` is returned unchanged); there is no thumbnail. Every
    indirect object of the file is inspected, not only those reachable from the catalogue, and
    names are compared after pypdf has decoded ``#xx`` escapes (``/J#61vaScript``).
    """
    if not data:
        raise ProcessingError("storage.empty_file")
    if not _PDF_HEADER.match(data):
        looks_like_pdf = sniff(data[:SNIFF_BYTES]) == PDF
        raise ProcessingError(
            "storage.corrupt_pdf" if looks_like_pdf else "storage.type_not_allowed",
            details={"detected": describe(data[:SNIFF_BYTES])},
        )
    sha = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise ProcessingError("storage.corrupt_pdf") from exc
    if encrypted:
        raise ProcessingError("storage.pdf_encrypted")
    try:
        root = reader.trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject):
            raise ValueError("no document catalogue")
        pages_node = root["/Pages"].get_object()
        if not isinstance(pages_node, DictionaryObject):
            raise ValueError("no page tree")
        if _declared_pages(pages_node) > max_pages:  # cheap, before walking a huge tree
            raise _too_many_pages(_declared_pages(pages_node), max_pages)
        found = _active_content(reader)
        pages = len(reader.pages)
    except ProcessingError:
        raise
    except _TooComplex as exc:
        raise ProcessingError(
            "storage.corrupt_pdf",
            details={"reason": "too_complex"},
            message="PDF文件结构过于复杂，请另存为或打印为普通PDF后上传。",
        ) from exc
    except Exception as exc:  # unreadable structure, cycles, decompression limits…
        raise ProcessingError("storage.corrupt_pdf") from exc
    if found:
        raise ProcessingError("storage.pdf_active_content", details={"found": found})
    if pages < 1:
        raise ProcessingError("storage.corrupt_pdf", details={"pages": 0})
    if pages > max_pages:
        raise _too_many_pages(pages, max_pages)
    return Processed(
        data=data,
        content_type=PDF,
        width=None,
        height=None,
        pages=pages,
        thumbnail=None,
        sha256_original=sha,
    )


def _declared_pages(pages_node: DictionaryObject) -> int:
    """The page count the page tree claims (0 when it claims nothing readable)."""
    count = pages_node.get("/Count")
    try:
        return int(count.get_object()) if count is not None else 0
    except (TypeError, ValueError, AttributeError):
        return 0


def _too_many_pages(pages: int, max_pages: int) -> ProcessingError:
    return ProcessingError(
        "storage.pdf_too_many_pages",
        details={"pages": pages, "max_pages": max_pages},
        message=f"PDF文件页数过多（{pages}页，最多{max_pages}页），请精简或拆分后上传。",
    )


class _TooComplex(Exception):
    pass


def _active_content(reader: PdfReader) -> list[str]:
    """The kinds of active content found anywhere in the file (sorted, unique), or []."""
    found: set[str] = set()
    for node in _walk(reader):
        for key, value in node.items():
            if key in _ACTIVE_KEYS:
                found.add(_ACTIVE_KEYS[key])
            if isinstance(value, str) and key in _TYPE_KEYS and value in _ACTIVE_TYPES:
                found.add(_ACTIVE_TYPES[value])
    return sorted(found)


def _walk(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every dictionary (streams included) of the file: from the trailer down, and then every
    object the cross-reference tables and object streams list, reachable or not."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    for generation, numbers in reader.xref.items():
        stack.extend(IndirectObject(n, generation, reader) for n in numbers)
    stack.extend(IndirectObject(n, 0, reader) for n in reader.xref_objStm)
    deadline = time.thread_time() + PDF_MAX_CPU_S
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > PDF_MAX_OBJECTS or (
                len(seen) % 256 == 0 and time.thread_time() > deadline
            ):
                raise _TooComplex
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(v for v in item.values() if isinstance(v, _CONTAINERS))
        elif isinstance(item, ArrayObject):
            stack.extend(v for v in item if isinstance(v, _CONTAINERS))


_CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)
