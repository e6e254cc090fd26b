"""The account picture (SPEC sections 1, 3 and 4): re-encoded, stripped of
all metadata (EXIF, GPS, comments, text chunks, ICC), at most 512x512, only
JPEG/PNG/WebP of the declared type, size limits, served only to its owner."""

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

import limits
from accounts_helpers import (
    assert_error,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    outbox,
)

MIB = 1024 * 1024
EDGE = limits.LIMIT_PICTURE_EDGE
IMAGE_MAX = limits.LIMIT_IMAGE_BODY
SECRETS = (b"SecretCam", b"SecretModel", b"SecretComment", b"SecretText", b"SecretXMP")


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def owner(server, mails):
    return create_account(server, mails, "picowner")


@pytest.fixture
def acc(server, mails):
    return create_account(server, mails, "pic")


# ------------------------------------------------------------ image makers


def noisy(size, mode="RGB", seed=1):
    """An image with structure and noise (so it compresses like a photo)."""
    rnd = random.Random(seed)
    w, h = size
    im = Image.new(mode, size)
    px = []
    for y in range(h):
        for x in range(w):
            base = ((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), ((x + y) * 7) % 256)
            n = rnd.randrange(-20, 21)
            c = tuple(max(0, min(255, v + n)) for v in base)
            if mode == "RGBA":
                c = c + (255 if (x // 16 + y // 16) % 2 else 0,)
            px.append(c)
    im.putdata(px)
    return im


_CACHE = {}


def gps_jpeg(size=(1200, 800)):
    """A JPEG with EXIF (Make "SecretCam", Model "SecretModel") and a GPS IFD."""
    key = ("gps", size)
    if key not in _CACHE:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"
        exif[0x0110] = "SecretModel"
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        b = io.BytesIO()
        noisy(size).save(b, "JPEG", exif=exif.tobytes(), quality=90, icc_profile=icc)
        data = b.getvalue()
        # Sanity of the fixture itself: the metadata is really there.
        check = Image.open(io.BytesIO(data))
        assert check.getexif().get(0x010F) == "SecretCam"
        assert check.getexif().get_ifd(0x8825), "the test JPEG has no GPS IFD"
        assert b"SecretCam" in data and check.info.get("icc_profile")
        _CACHE[key] = data
    return _CACHE[key]


def jpeg_with_comment(data, comment):
    """Insert a COM segment right after SOI."""
    seg = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + seg + data[2:]


def png_bytes(size=(300, 200), mode="RGB", text=True):
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", "SecretText")
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>SecretXMP</x:xmpmeta>")
    b = io.BytesIO()
    noisy(size, mode).save(b, "PNG", pnginfo=info)
    data = b.getvalue()
    assert (b"SecretText" in data) == text
    return data


def webp_bytes(size=(640, 480)):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    b = io.BytesIO()
    noisy(size).save(b, "WEBP", quality=80, exif=exif.tobytes())
    return b.getvalue()


# ------------------------------------------------------------ requests


def put(server, token, data, ctype):
    return server.request(
        "PUT", "/v1/account/picture", headers={**bearer(token), "Content-Type": ctype}, data=data, timeout=60
    )


def get_picture(server, token):
    return server.get("/v1/account/picture", headers=bearer(token))


def assert_clean_image(data, ctype):
    assert ctype in ("image/jpeg", "image/png", "image/webp"), ctype
    im = Image.open(io.BytesIO(data))
    im.load()
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[ctype]
    assert im.format == fmt, f"served as {ctype} but the bytes are {im.format}"
    assert im.width <= EDGE and im.height <= EDGE, im.size
    for s in SECRETS:
        assert s not in data, f"{s!r} survived the re-encoding"
    assert b"Exif\x00\x00" not in data, "an EXIF block survived"
    exif = im.getexif()
    assert len(exif) == 0, f"EXIF survived: {dict(exif)}"
    assert not exif.get_ifd(0x8825), "a GPS IFD survived"
    for k in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "Comment"):
        assert k not in im.info, f"{k} survived: {str(im.info.get(k))[:100]}"
    return im


# ------------------------------------------------------------ the happy path


def test_jpeg_with_gps_is_reencoded_and_stripped(server, acc):
    src = jpeg_with_comment(gps_jpeg(), b"SecretComment")
    r = put(server, acc.token, src, "image/jpeg")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"content_type", "width", "height"}, body
    assert body["content_type"] in ("image/jpeg", "image/png", "image/webp"), body
    assert isinstance(body["width"], int) and isinstance(body["height"], int)
    assert max(body["width"], body["height"]) == EDGE, body  # shrunk to fit, aspect kept
    assert abs(body["width"] / body["height"] - 1200 / 800) < 0.01, body

    g = get_picture(server, acc.token)
    assert g.status_code == 200, g.text[:200]
    ctype = g.headers["Content-Type"].split(";")[0].strip()
    assert ctype == body["content_type"]
    im = assert_clean_image(g.content, ctype)
    assert im.size == (body["width"], body["height"])
    assert g.content != src
    assert get_account(server, acc.token)["has_picture"] is True


def test_png_with_text_chunks_is_stripped(server, acc):
    r = put(server, acc.token, png_bytes(), "image/png")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (300, 200), body  # small enough already
    g = get_picture(server, acc.token)
    assert g.status_code == 200
    im = assert_clean_image(g.content, g.headers["Content-Type"].split(";")[0].strip())
    assert im.size == (300, 200)


def test_png_with_transparency_stays_transparent(server, acc):
    r = put(server, acc.token, png_bytes((700, 700), "RGBA"), "image/png")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (EDGE, EDGE), body
    g = get_picture(server, acc.token)
    ctype = g.headers["Content-Type"].split(";")[0].strip()
    im = assert_clean_image(g.content, ctype)
    assert "A" in im.mode or "transparency" in im.info, f"the alpha channel was lost ({ctype}, {im.mode})"


def test_webp_accepted(server, acc):
    r = put(server, acc.token, webp_bytes(), "image/webp")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) in ((512, 384),), body
    g = get_picture(server, acc.token)
    assert g.status_code == 200
    assert_clean_image(g.content, g.headers["Content-Type"].split(";")[0].strip())


def test_tall_image_fits_512(server, acc):
    b = io.BytesIO()
    noisy((300, 2000)).save(b, "JPEG", quality=85)
    r = put(server, acc.token, b.getvalue(), "image/jpeg")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["height"] == EDGE and body["width"] <= 80, body


def test_replace_then_delete_picture(server, acc):
    assert put(server, acc.token, png_bytes((100, 50), text=False), "image/png").status_code == 200
    first = get_picture(server, acc.token).content
    assert put(server, acc.token, gps_jpeg(), "image/jpeg").status_code == 200
    second = get_picture(server, acc.token)
    assert second.status_code == 200 and second.content != first
    assert Image.open(io.BytesIO(second.content)).size[0] == EDGE

    r = server.request("DELETE", "/v1/account/picture", headers=bearer(acc.token))
    assert r.status_code == 204, r.text
    assert_error(get_picture(server, acc.token), 404)
    assert get_account(server, acc.token)["has_picture"] is False


def test_no_picture_is_404(server, acc):
    assert_error(get_picture(server, acc.token), 404)


def test_picture_needs_auth(server):
    assert_unauthenticated(server.get("/v1/account/picture"))
    assert_unauthenticated(server.request("DELETE", "/v1/account/picture"))
    r = server.request("PUT", "/v1/account/picture", headers={"Content-Type": "image/png"}, data=png_bytes())
    assert_unauthenticated(r)


def test_other_account_never_sees_the_picture(server, mails, owner):
    assert put(server, owner.token, gps_jpeg(), "image/jpeg").status_code == 200
    mine = get_picture(server, owner.token)
    assert mine.status_code == 200
    other = create_account(server, mails, "nosy")
    r = get_picture(server, other.token)
    assert_error(r, 404)
    assert mine.content not in r.content
    # Deleting "its" picture does not touch the owner's.
    assert server.request("DELETE", "/v1/account/picture", headers=bearer(other.token)).status_code == 204
    again = get_picture(server, owner.token)
    assert again.status_code == 200 and again.content == mine.content
    # Uploading its own leaves the owner's alone too.
    assert put(server, other.token, png_bytes((64, 64), text=False), "image/png").status_code == 200
    assert get_picture(server, owner.token).content == mine.content
    assert Image.open(io.BytesIO(get_picture(server, other.token).content)).size == (64, 64)


# ------------------------------------------------------------ refusals


@pytest.mark.parametrize("ctype", ["text/plain", "application/octet-stream", "image/gif", "application/json", ""])
def test_wrong_media_type_is_415(server, acc, ctype):
    r = put(server, acc.token, gps_jpeg(), ctype)
    assert_error(r, 415)
    assert_error(get_picture(server, acc.token), 404)


@pytest.mark.parametrize(
    "declared,maker",
    [
        ("image/jpeg", lambda: png_bytes(text=False)),
        ("image/png", gps_jpeg),
        ("image/webp", gps_jpeg),
        ("image/jpeg", lambda: webp_bytes()),
        ("image/png", lambda: b"GIF89a" + b"\0" * 100),
    ],
)
def test_bytes_not_of_the_declared_type_is_415(server, acc, declared, maker):
    r = put(server, acc.token, maker(), declared)
    assert_error(r, 415)
    assert_error(get_picture(server, acc.token), 404)


def test_truncated_jpeg_is_422(server, acc):
    data = gps_jpeg()
    r = put(server, acc.token, data[: len(data) // 2], "image/jpeg")
    assert_error(r, 422)
    assert_error(get_picture(server, acc.token), 404)


def test_truncated_png_is_422(server, acc):
    data = png_bytes((400, 400), text=False)
    r = put(server, acc.token, data[: len(data) // 2], "image/png")
    assert_error(r, 422)


def test_garbage_after_jpeg_magic_is_refused(server, acc):
    r = put(server, acc.token, b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, "image/jpeg")
    assert r.status_code in (415, 422), r.text
    assert_error(r, r.status_code)


def _set_sof_size(data, w, h):
    """Rewrite the frame size in the SOF0/SOF2 header of a JPEG."""
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, "not at a marker"
        marker = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return data[: i + 5] + struct.pack(">HH", h, w) + data[i + 9 :]
        i += 2 + seglen
    raise AssertionError("no SOF marker")


def test_jpeg_claiming_60000x60000_is_413(server, acc):
    b = io.BytesIO()
    noisy((64, 64)).save(b, "JPEG", quality=80)
    data = _set_sof_size(b.getvalue(), 60000, 60000)
    assert b"\xea\x60\xea\x60" in data  # height and width 60000 in the frame header
    assert len(data) < 10000
    r = put(server, acc.token, data, "image/jpeg")
    assert_error(r, 413)
    assert_error(get_picture(server, acc.token), 404)


def test_png_claiming_huge_size_is_413(server, acc):
    data = png_bytes((64, 64), text=False)
    # IHDR is the first chunk: 8 signature, 4 length, 4 type, 13 data, 4 crc.
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", 50000, 50000)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    data = data[:16] + bytes(ihdr) + crc + data[33:]
    r = put(server, acc.token, data, "image/png")
    assert_error(r, 413)


def test_body_over_8_mib_is_413(server, acc):
    src = gps_jpeg()
    data = src + b"\0" * (IMAGE_MAX + 1 - len(src))
    assert len(data) == IMAGE_MAX + 1
    r = put(server, acc.token, data, "image/jpeg")
    assert_error(r, 413)

    def chunks():  # no Content-Length: the limit must hold while reading
        yield src
        left = IMAGE_MAX + 1 - len(src)
        while left > 0:
            n = min(left, MIB)
            yield b"\0" * n
            left -= n

    r = put(server, acc.token, chunks(), "image/jpeg")
    assert_error(r, 413)
    assert_error(get_picture(server, acc.token), 404)


def test_body_of_8_mib_is_accepted(server, acc):
    # A valid JPEG padded with COM segments to exactly 8 MiB.
    src = gps_jpeg()
    pad_total = IMAGE_MAX - len(src)
    segs = []
    while pad_total > 0:
        n = min(pad_total, 65535 + 2)  # marker (2) + length (2) + up to 65533 bytes
        if pad_total - n in (1, 2, 3):  # leave room for a minimal next segment
            n -= 4
        payload = n - 4
        segs.append(b"\xff\xfe" + struct.pack(">H", payload + 2) + b"SecretComment"[: min(13, payload)].ljust(payload, b"."))
        pad_total -= n
    data = src[:2] + b"".join(segs) + src[2:]
    assert len(data) == IMAGE_MAX, len(data)
    r = put(server, acc.token, data, "image/jpeg")
    assert r.status_code == 200, r.text
    g = get_picture(server, acc.token)
    assert_clean_image(g.content, g.headers["Content-Type"].split(";")[0].strip())


def test_empty_body_refused(server, acc):
    r = put(server, acc.token, b"", "image/jpeg")
    assert r.status_code in (400, 415, 422), r.text
    assert_error(r, r.status_code)
    assert_error(get_picture(server, acc.token), 404)


def test_failed_upload_keeps_the_previous_picture(server, acc):
    assert put(server, acc.token, png_bytes((120, 80), text=False), "image/png").status_code == 200
    before = get_picture(server, acc.token).content
    data = gps_jpeg()
    assert put(server, acc.token, data[: len(data) // 2], "image/jpeg").status_code == 422
    assert put(server, acc.token, data, "text/plain").status_code == 415
    assert get_picture(server, acc.token).content == before
