"""Model avatars (SPEC sections 1 and 3, issue 4): PUT/GET/DELETE
/v1/models/{id}/avatar, through the same pipeline as the account picture:
re-encoded, metadata stripped, at most 512x512; 415 for a wrong type, 413 for
a decompression bomb, 422 for a truncated image; one avatar per model."""

import io

import pytest
from PIL import Image

import limits
from accounts_helpers import assert_error, bearer, create_account, outbox
from models_helpers import (
    create_model,
    get_avatar,
    get_model,
    image_fixture,
    model_path,
    put_avatar,
    snapshot,
)

SECRETS = (b"SecretCam", b"SecretModel", b"SecretSoftware", b"SecretCity", b"SecretText")


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "avatar")


@pytest.fixture
def model(server, acc):
    return create_model(server, acc, "with an avatar", True, {"neck": 340, "chest": 925}, "notes")


def ctype_of(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip()


def assert_clean(data, ctype):
    assert ctype in ("image/jpeg", "image/png", "image/webp"), ctype
    im = Image.open(io.BytesIO(data))
    im.load()
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[ctype]
    assert im.format == fmt, f"served as {ctype} but the bytes are {im.format}"
    assert im.width <= limits.LIMIT_PICTURE_EDGE and im.height <= limits.LIMIT_PICTURE_EDGE, im.size
    for s in SECRETS:
        assert s not in data, f"{s!r} survived the re-encoding"
    assert b"Exif\x00\x00" not in data, "an EXIF block survived"
    exif = im.getexif()
    assert len(exif) == 0, f"EXIF survived: {dict(exif)}"
    assert not exif.get_ifd(0x8825), "a GPS IFD survived"
    for k in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "Comment"):
        assert k not in im.info, f"{k} survived"
    return im


def test_exif_gps_jpeg_comes_back_stripped_and_bounded(server, acc, model):
    src = image_fixture("photo.jpg")
    # The fixture really carries the metadata.
    im = Image.open(io.BytesIO(src))
    assert im.getexif().get(0x010F) == "SecretCam" and im.getexif().get_ifd(0x8825)
    assert im.size == (800, 600)

    r = put_avatar(server, acc.token, model["id"], src, "image/jpeg")
    assert r.status_code == 200, r.text
    info = r.json()
    assert set(info) == {"content_type", "width", "height"}, info
    assert (info["width"], info["height"]) == (512, 384), info

    g = get_avatar(server, acc.token, model["id"])
    assert g.status_code == 200, g.text[:200]
    assert ctype_of(g) == info["content_type"]
    assert "no-store" in g.headers.get("Cache-Control", ""), g.headers
    out = assert_clean(g.content, ctype_of(g))
    assert out.size == (512, 384)
    assert g.content != src

    m = get_model(server, acc, model["id"])
    assert m["has_avatar"] is True
    for k in ("name", "breasts", "measurements", "notes"):
        assert m[k] == model[k], k


def test_png_and_webp_are_accepted_and_stripped(server, acc, model):
    for name, ctype, size in (("alpha.png", "image/png", (512, 341)), ("photo.webp", "image/webp", (512, 366))):
        r = put_avatar(server, acc.token, model["id"], image_fixture(name), ctype)
        assert r.status_code == 200, f"{name}: {r.text}"
        info = r.json()
        assert max(info["width"], info["height"]) == limits.LIMIT_PICTURE_EDGE, info
        g = get_avatar(server, acc.token, model["id"])
        assert g.status_code == 200
        im = assert_clean(g.content, ctype_of(g))
        assert im.size == (info["width"], info["height"])
        assert abs(im.size[0] - size[0]) <= 1 and abs(im.size[1] - size[1]) <= 1, (name, im.size)


def test_small_image_is_not_enlarged(server, acc, model):
    r = put_avatar(server, acc.token, model["id"], image_fixture("small.jpg"), "image/jpeg")
    assert r.status_code == 200, r.text
    assert (r.json()["width"], r.json()["height"]) == (100, 80)


def test_replace_then_delete(server, acc, model):
    assert put_avatar(server, acc.token, model["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    first = get_avatar(server, acc.token, model["id"]).content
    assert put_avatar(server, acc.token, model["id"], image_fixture("photo.jpg"), "image/jpeg").status_code == 200
    second = get_avatar(server, acc.token, model["id"])
    assert second.status_code == 200 and second.content != first
    assert Image.open(io.BytesIO(second.content)).size == (512, 384)

    r = server.request("DELETE", model_path(model["id"], "/avatar"), headers=acc.auth)
    assert r.status_code == 204, r.text
    assert_error(get_avatar(server, acc.token, model["id"]), 404, "not_found")
    assert get_model(server, acc, model["id"])["has_avatar"] is False
    # Deleting when there is none is still 204 (like the account picture).
    r = server.request("DELETE", model_path(model["id"], "/avatar"), headers=acc.auth)
    assert r.status_code == 204, r.text


def test_no_avatar_is_404(server, acc, model):
    assert_error(get_avatar(server, acc.token, model["id"]), 404, "not_found")
    assert model["has_avatar"] is False


def test_each_model_has_its_own_avatar(server, acc):
    a = create_model(server, acc, "a", True, {})
    b = create_model(server, acc, "b", False, {})
    assert put_avatar(server, acc.token, a["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    assert_error(get_avatar(server, acc.token, b["id"]), 404)
    assert get_model(server, acc, b["id"])["has_avatar"] is False
    assert put_avatar(server, acc.token, b["id"], image_fixture("photo.jpg"), "image/jpeg").status_code == 200
    ga, gb = get_avatar(server, acc.token, a["id"]), get_avatar(server, acc.token, b["id"])
    assert Image.open(io.BytesIO(ga.content)).size == (100, 80)
    assert Image.open(io.BytesIO(gb.content)).size == (512, 384)
    assert server.request("DELETE", model_path(b["id"], "/avatar"), headers=acc.auth).status_code == 204
    assert get_avatar(server, acc.token, a["id"]).content == ga.content


def test_avatar_on_a_missing_model_is_404(server, acc):
    r = put_avatar(server, acc.token, "AAAAAAAAAAAAAAAAAAAAAA", image_fixture("small.jpg"), "image/jpeg")
    assert_error(r, 404, "not_found")


# ------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "fixture,ctype",
    [
        ("photo.jpg", "text/plain"),
        ("photo.jpg", "application/octet-stream"),
        ("anim.gif", "image/gif"),
        ("alpha.png", "image/jpeg"),
        ("photo.jpg", "image/png"),
        ("photo.jpg", "image/webp"),
        ("random.bin", "image/jpeg"),
    ],
)
def test_wrong_type_is_415(server, acc, model, fixture, ctype):
    assert put_avatar(server, acc.token, model["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    before = snapshot(server, acc, model["id"])
    r = put_avatar(server, acc.token, model["id"], image_fixture(fixture), ctype)
    if fixture == "random.bin":
        assert r.status_code in (415, 422), r.text
        assert_error(r, r.status_code)
    else:
        assert_error(r, 415)
    assert snapshot(server, acc, model["id"]) == before


def test_bomb_is_413(server, acc, model):
    data = image_fixture("bomb.jpg")
    assert b"\xea\x60\xea\x60" in data  # 60000x60000 in the frame header
    assert_error(put_avatar(server, acc.token, model["id"], data, "image/jpeg"), 413)
    assert_error(get_avatar(server, acc.token, model["id"]), 404)
    assert get_model(server, acc, model["id"])["has_avatar"] is False


def test_truncated_is_422_and_keeps_the_previous_avatar(server, acc, model):
    assert put_avatar(server, acc.token, model["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    before = snapshot(server, acc, model["id"])
    assert_error(put_avatar(server, acc.token, model["id"], image_fixture("truncated.jpg"), "image/jpeg"), 422)
    assert snapshot(server, acc, model["id"]) == before


def test_body_over_8_mib_is_413(server, acc, model):
    src = image_fixture("photo.jpg")
    data = src + b"\0" * (limits.LIMIT_IMAGE_BODY + 1 - len(src))
    assert_error(put_avatar(server, acc.token, model["id"], data, "image/jpeg"), 413)
    assert get_model(server, acc, model["id"])["has_avatar"] is False


def test_empty_body_is_refused(server, acc, model):
    r = put_avatar(server, acc.token, model["id"], b"", "image/jpeg")
    assert r.status_code in (400, 415, 422), r.text
    assert_error(r, r.status_code)
    assert get_model(server, acc, model["id"])["has_avatar"] is False


def test_avatar_is_not_the_account_picture(server, acc, model):
    assert put_avatar(server, acc.token, model["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    assert_error(server.get("/v1/account/picture", headers=bearer(acc.token)), 404)
