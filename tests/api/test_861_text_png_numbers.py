"""Issue 12 item 16: format characters (Unicode Cf: bidi overrides, zero-width
characters, BOM, tags) are refused in model names, notes and the bio with a
422 naming the field; re-encoded PNGs carry no pHYs chunk (the chunks are
walked); a long JSON number is read by its value: in range accepted, out of
range refused by the measurement check, a true underflow still refused."""

import io
import struct
import zlib

import pytest
from PIL import Image

from accounts_helpers import assert_error, assert_invalid_field, bearer, create_account, outbox
from models_helpers import create, create_model, patch, patch_raw

FORMAT_CHARS = ["\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\u00ad",
                "\u2060", "\U000e0041"]


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "cf")


@pytest.mark.parametrize("ch", FORMAT_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_model_name_refuses_format_characters(server, acc, ch):
    r = create(server, acc, name=f"invoice{ch}fdp.exe", breasts=False)
    err = assert_invalid_field(r, "name")
    assert f"U+{ord(ch):04X}" in err["message"], err


@pytest.mark.parametrize("ch", FORMAT_CHARS[:4], ids=lambda c: f"U+{ord(c):04X}")
def test_model_notes_refuse_format_characters(server, acc, ch):
    r = create(server, acc, name="ok", breasts=False, notes=f"left{ch}right")
    assert_invalid_field(r, "notes")
    m = create_model(server, acc, name="notes-patch", breasts=False)
    assert_invalid_field(patch(server, acc, m["id"], {"notes": f"a{ch}b"}), "notes")
    assert_invalid_field(patch(server, acc, m["id"], {"name": f"a{ch}b"}), "name")


@pytest.mark.parametrize("ch", FORMAT_CHARS[:4], ids=lambda c: f"U+{ord(c):04X}")
def test_bio_refuses_format_characters(server, acc, ch):
    r = server.request("PATCH", "/v1/account", headers=bearer(acc.token), json={"bio": f"hi {ch}there"})
    assert_invalid_field(r, "bio")


def test_ordinary_text_still_accepted(server, acc):
    text = "Zoë's linen dress – שמלה – فستان – 裙子 🧵\nline two\ttab"
    m = create_model(server, acc, name=text[:60], breasts=False, notes=text)
    assert m["notes"] == text
    r = server.request("PATCH", "/v1/account", headers=bearer(acc.token), json={"bio": text})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["bio"] == text


def png_chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, kinds = 8, []
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        body = data[i + 8:i + 8 + n]
        (crc,) = struct.unpack(">I", data[i + 8 + n:i + 12 + n])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind}"
        kinds.append(kind.decode("latin-1"))
        i += 12 + n
    assert i == len(data) and kinds[-1] == "IEND", kinds
    return kinds


def test_reencoded_png_has_no_phys(server, acc):
    im = Image.new("RGBA", (300, 200), (10, 200, 30, 128))
    b = io.BytesIO()
    im.save(b, "PNG", dpi=(300, 300))
    assert "pHYs" in png_chunks(b.getvalue())
    r = server.request("PUT", "/v1/account/picture", headers={**bearer(acc.token), "Content-Type": "image/png"},
                       data=b.getvalue(), timeout=60)
    assert r.status_code == 200, r.text[:300]
    g = server.get("/v1/account/picture", headers=bearer(acc.token))
    assert g.status_code == 200 and g.headers["Content-Type"] == "image/png"
    kinds = png_chunks(g.content)
    assert set(kinds) <= {"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}, kinds


def long_number(digits, exp):
    return ("3" * digits + f"e{exp}").encode()


def put_neck(server, acc, model_id, raw):
    return patch_raw(server, acc.token, model_id, b'{"neck":' + raw + b"}", suffix="/measurements", method="PUT")


def test_long_number_in_range_accepted(server, acc):
    m = create_model(server, acc, name="longnum", breasts=False)
    raw = long_number(71, -68)  # 333.33... mm (the number)
    r = put_neck(server, acc, m["id"], raw)
    assert r.status_code == 200, r.text[:300]
    got = server.get(f"/v1/models/{m['id']}/measurements", headers=acc.auth).json()
    assert abs(got["neck"] - float(raw)) < 1e-6, got
    # a long plain fraction too
    r = put_neck(server, acc, m["id"], b"380." + b"0" * 200)
    assert r.status_code == 200, r.text[:300]


def test_long_number_out_of_range_refused_by_the_check(server, acc):
    m = create_model(server, acc, name="longbig", breasts=False)
    r = put_neck(server, acc, m["id"], long_number(70, -60))  # 3.3e9 mm
    err = assert_invalid_field(r, "measurements.neck")
    assert "between" in err["message"], err
    r = put_neck(server, acc, m["id"], long_number(70, -75))  # 3.3e-6 mm: small but representable
    err = assert_invalid_field(r, "measurements.neck")
    assert "between" in err["message"], err
    r = put_neck(server, acc, m["id"], long_number(70, -68))  # 33.3 mm
    err = assert_invalid_field(r, "measurements.neck")
    assert "between" in err["message"], err


def test_long_number_that_underflows_still_refused(server, acc):
    m = create_model(server, acc, name="longtiny", breasts=False)
    r = put_neck(server, acc, m["id"], long_number(70, -500))
    err = assert_error(r, 400)
    assert "too small" in err["message"], err
