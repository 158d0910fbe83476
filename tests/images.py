"""Generators of uploaded files for tests: photos with real EXIF, other image formats, hostile
files (pixel bomb, truncated JPEG, executable named .jpg) and PDFs good and bad.

Everything is generated in memory and deterministic. The photos carry a red marker in the *stored*
top-left corner (``MARKER``), so a test can tell where the EXIF orientation moved it.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from typing import Any

import pillow_heif
from PIL import Image, ImageChops, ImageCms, ImageDraw
from pypdf import PdfWriter

pillow_heif.register_heif_opener()

#: Colour of the marker square in the stored top-left corner of generated photos.
MARKER = (230, 20, 20)
#: Colour of the rest of a generated photo (before the gradient).
BACKGROUND = (40, 90, 200)
#: Latitude and longitude written into the GPS IFD (Beijing, Tiananmen).
GPS_LAT = (39.0, 54.0, 27.0)
GPS_LON = (116.0, 23.0, 28.0)
EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825


def _marked(width: int, height: int) -> Image.Image:
    im = Image.new("RGB", (width, height), BACKGROUND)
    shade = Image.linear_gradient("L").resize((width, height))
    im = Image.composite(im, Image.new("RGB", (width, height), (60, 140, 230)), shade)
    side = max(4, min(width, height) // 6)
    ImageDraw.Draw(im).rectangle((0, 0, side - 1, side - 1), fill=MARKER)
    return im


def srgb_icc() -> bytes:
    """An sRGB ICC profile (what Android phones embed)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation: int | None = 6, gps: bool = True) -> bytes:
    """A real EXIF block: orientation (0x0112), camera make/model and a GPS IFD (0x8825)."""
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0132] = "2025:01:02 03:04:05"  # DateTime
    if gps:
        exif[EXIF_GPS_IFD] = {1: "N", 2: GPS_LAT, 3: "E", 4: GPS_LON}
    return exif.tobytes()


def jpeg_with_exif(
    width: int,
    height: int,
    orientation: int | None = 6,
    gps: bool = True,
    *,
    icc: bytes | None = None,
    comment: bytes = b"secret comment",
    quality: int = 90,
) -> bytes:
    """A JPEG as a phone writes it: EXIF with orientation and GPS, a comment, an XMP packet and
    (optionally) an ICC profile; a red marker in the stored top-left corner."""
    out = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    _marked(width, height).save(
        out,
        "JPEG",
        quality=quality,
        exif=exif_bytes(orientation, gps),
        comment=comment,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
        **extra,
    )
    return out.getvalue()


def png(width: int, height: int, *, alpha: bool = False, mode: str = "RGB") -> bytes:
    """A PNG. ``alpha``: the right half is fully transparent. ``mode``: e.g. "P", "L", "I;16"."""
    im = _marked(width, height)
    if alpha:
        im = im.convert("RGBA")
        ImageDraw.Draw(im).rectangle((width // 2, 0, width, height), fill=(0, 0, 0, 0))
    elif mode == "I;16":
        im = im.convert("L").point(lambda v: v * 256, "I").convert("I;16")
    elif mode != "RGB":
        im = im.convert(mode)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=4)
def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A 1-bit greyscale PNG of ``width`` × ``height`` white pixels that is only ~50 KB: decoding
    it would take 400 MB. Written chunk by chunk, never held as an image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def heic(width: int, height: int, orientation: int | None = None) -> bytes:
    """A HEIC as an iPhone writes it (pillow-heif/x265), with EXIF and GPS. With an orientation,
    the rotation is recorded in the HEIF container (``irot``), as iPhones do."""
    out = io.BytesIO()
    _marked(width, height).save(out, "HEIF", quality=80, exif=exif_bytes(orientation, gps=True))
    return out.getvalue()


def webp(width: int, height: int, *, alpha: bool = False) -> bytes:
    """A WebP with EXIF (and, with ``alpha``, a transparent right half)."""
    im = _marked(width, height)
    if alpha:
        im = im.convert("RGBA")
        ImageDraw.Draw(im).rectangle((width // 2, 0, width, height), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    im.save(out, "WEBP", quality=80, exif=exif_bytes(1, gps=True))
    return out.getvalue()


def cmyk_jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    _marked(width, height).convert("CMYK").save(out, "JPEG", quality=90)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a valid JPEG (the upload broke off)."""
    data = jpeg_with_exif(800, 600, orientation=1, gps=False)
    return data[: len(data) // 2]


def exe_as_jpg() -> bytes:
    """A Windows executable's first bytes (what an ``invoice.jpg.exe`` renamed ``.jpg`` holds)."""
    dos = bytearray(128)
    dos[0:2] = b"MZ"
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    dos[0x40 : 0x40 + 39] = b"This program cannot be run in DOS mode."
    return bytes(dos) + b"PE\x00\x00" + bytes(2000)


# --- the 12-megapixel phone photo ----------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def photo_12mp(orientation: int = 6) -> bytes:
    """A 4000×3000 JPEG of about 4 MB, like a phone camera's: gradients, fine grain (noise is what
    makes camera JPEGs large and slow to code), edges, quality 92, EXIF with orientation 6
    (portrait) and GPS. Generated once per process (about a second)."""
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    bands = []
    for base in (gradient, radial, gradient.transpose(Image.Transpose.ROTATE_180)):
        grain = Image.effect_noise((width // 2, height // 2), 36)
        grain = grain.resize((width, height), Image.Resampling.BILINEAR)
        bands.append(ImageChops.blend(base, grain, 0.45))
    im = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(im)
    for x in range(0, width, 250):
        draw.line((x, 0, width - x, height), fill=(250, 250, 250), width=6)
    draw.rectangle((0, 0, 499, 499), fill=MARKER)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92, exif=exif_bytes(orientation, gps=True))
    return out.getvalue()


# --- PDFs ----------------------------------------------------------------------------------------


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    """A valid PDF of ``pages`` blank A4 pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    return _written(writer)


def pdf_with_javascript() -> bytes:
    """A PDF with document-level JavaScript (the /Names /JavaScript tree) and a JS OpenAction."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_js("app.alert('pwned');")
    return _written(writer)


def pdf_with_embedded_file() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("invoice.exe", exe_as_jpg())
    return _written(writer)


def encrypted_pdf(user_password: str = "1234") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    return _written(writer)


def raw_pdf(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF written by hand: ``objects[i]`` is the body of object ``i + 1``; a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\n" % (len(objects) + 1, root)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]%s >>"


def _one_page(catalog_extra: bytes = b"", page_extra: bytes = b"", *more: bytes) -> bytes:
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE % page_extra,
            *more,
        ]
    )


def pdf_with_open_action_js() -> bytes:
    return _one_page(b" /OpenAction << /S /JavaScript /JS (app.alert(1)) >>")


def pdf_with_hex_escaped_js() -> bytes:
    """``/J#61vaScript`` and ``/J#53`` are /JavaScript and /JS once the name escapes are decoded."""
    return _one_page(b" /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>")


def pdf_with_unreferenced_js() -> bytes:
    """A JavaScript action in an object nothing points to (some readers still find it)."""
    return _one_page(b"", b"", b"<< /S /JavaScript /JS (app.alert(1)) >>")


def pdf_with_launch() -> bytes:
    return _one_page(b" /OpenAction 4 0 R", b"", b"<< /S /Launch /F (cmd.exe) >>")


def pdf_with_additional_actions() -> bytes:
    return _one_page(b"", b" /AA << /O << /S /URI /URI (https://example.com) >> >>")


def pdf_with_xfa() -> bytes:
    return _one_page(
        b" /AcroForm << /Fields [] /XFA 4 0 R >>", b"", b"<< /Length 0 >>\nstream\n\nendstream"
    )


def pdf_with_uri_link() -> bytes:
    """A page with a link annotation to a web address (allowed) and an OpenAction destination."""
    link = (
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100]"
        b" /A << /S /URI /URI (https://gov.cn) >> >>"
    )
    return _one_page(b" /OpenAction [3 0 R /Fit]", b" /Annots [4 0 R]", link)


def pdf_without_pages() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def garbage_pdf() -> bytes:
    """``%PDF-1.7`` followed by random bytes: the header is right, nothing else is."""
    return b"%PDF-1.7\n" + random.Random(7).randbytes(4096)
