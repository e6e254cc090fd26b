"""Issue 12 item 7: decode amplification. The work of one image is bounded
(LIMIT_IMAGE_DECODE_BYTES: pixels x bytes per pixel, checked from the header),
image uploads run on their own pool, and one account has one upload at a time.
The bound is proven by the refusal and the per-account rule by its 429; how
login fares during worst-case uploads is measured in bench/image.sh, not here."""

import socket
import struct
import zlib

import pytest

import limits
from accounts_helpers import assert_error, bearer, create_account, outbox

# The attack file of the issue (6300 x 6300, 16-bit RGBA: 8 bytes a pixel) and
# the heaviest accepted file (8-bit RGBA, 4 bytes a pixel); test_sizes checks
# them against the limits of the binary.
BOMB = (6300, 8)
HEAVY = (4000, 4)


def png_bytes(w, h, depth, ctype, bpp):
    """A valid, all-zero PNG made row by row (a 317 MB raster compresses to
    about 300 KB, like the attack file)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\x00" * (1 + w * bpp)
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def bomb16():
    """The attack file of the issue: 6300 x 6300, 16-bit RGBA, ~300 KB."""
    data = png_bytes(BOMB[0], BOMB[0], 16, 6, BOMB[1])
    assert len(data) <= limits.LIMIT_IMAGE_BODY
    return data


@pytest.fixture(scope="module")
def heavy_ok():
    """An 8-bit RGBA PNG just under the budget: real work (about a second of
    CPU) that is accepted; the per-account test needs an upload that lasts."""
    return png_bytes(HEAVY[0], HEAVY[0], 8, 6, HEAVY[1])


def test_sizes():
    decode_max = limits.LIMIT_IMAGE_DECODE_BYTES
    assert BOMB[0] ** 2 <= limits.LIMIT_IMAGE_PIXELS, "the attack stays under the pixel limit"
    assert BOMB[0] ** 2 * BOMB[1] > decode_max
    assert HEAVY[0] ** 2 * HEAVY[1] <= decode_max
    assert HEAVY[0] ** 2 * HEAVY[1] > decode_max * 0.9


def put_picture(server, token, data, ctype="image/png"):
    return server.request("PUT", "/v1/account/picture",
                          headers={**bearer(token), "Content-Type": ctype}, data=data, timeout=120)


def test_16bit_rgba_bomb_refused_before_decoding(server, mails, bomb16):
    acc = create_account(server, mails, "bomb")
    r = put_picture(server, acc.token, bomb16)
    err = assert_error(r, 413, "too_large")
    # the limit in units people read (issue 18), never as a count of bytes
    assert f"{limits.LIMIT_IMAGE_DECODE_BYTES // 2**20} MiB" in err["message"], err
    assert str(limits.LIMIT_IMAGE_DECODE_BYTES) not in err["message"], err
    assert server.get("/v1/account/picture", headers=bearer(acc.token)).status_code == 404


def test_16bit_rgba_bomb_refused_as_avatar(server, mails, bomb16):
    acc = create_account(server, mails, "bombav")
    r = server.post("/v1/models", headers=acc.auth,
                    json={"name": "m", "breasts": False, "measurements": {}})
    assert r.status_code == 201, r.text[:300]
    mid = r.json()["id"]
    r = server.request("PUT", f"/v1/models/{mid}/avatar",
                       headers={**bearer(acc.token), "Content-Type": "image/png"}, data=bomb16, timeout=120)
    assert_error(r, 413, "too_large")


def test_under_the_budget_accepted(server, mails, heavy_ok):
    acc = create_account(server, mails, "heavyok")
    r = put_picture(server, acc.token, heavy_ok)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["width"] == limits.LIMIT_PICTURE_EDGE


def _upload_held(server, token, data):
    """A connection that has sent everything of an upload but its last byte."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=120)
    head = (f"PUT /v1/account/picture HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: image/png\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n")
    s.sendall(head.encode() + data[:-1])
    return s


def _status(s):
    buf = b""
    while b"\r\n" not in buf:
        part = s.recv(4096)
        if not part:
            break
        buf += part
    s.close()
    return int(buf.split(b" ", 2)[1])


def _race(server, tokens, data):
    """Complete len(tokens) uploads within microseconds of each other."""
    socks = [_upload_held(server, t, data) for t in tokens]
    for s in socks:
        s.sendall(data[-1:])
    return [_status(s) for s in socks]


def test_one_upload_at_a_time_per_account(server, mails, heavy_ok):
    acc = create_account(server, mails, "oneup")
    statuses = _race(server, [acc.token] * 4, heavy_ok)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) >= 1, statuses
    assert statuses.count(429) >= 1, f"four simultaneous uploads of one account all ran: {statuses}"
    # the slot is free again once the upload is done
    assert put_picture(server, acc.token, heavy_ok).status_code == 200


def test_other_accounts_are_not_refused(server, mails, heavy_ok):
    accs = [create_account(server, mails, f"par{i}") for i in range(3)]
    statuses = _race(server, [a.token for a in accs], heavy_ok)
    assert statuses == [200, 200, 200], statuses


def test_429_names_the_reason(server, mails, heavy_ok):
    acc = create_account(server, mails, "why429")
    socks = [_upload_held(server, acc.token, heavy_ok) for _ in range(2)]
    for s in socks:
        s.sendall(heavy_ok[-1:])
    answers = []
    for s in socks:
        buf = b""
        while True:
            part = s.recv(65536)
            if not part:
                break
            buf += part
        s.close()
        answers.append(buf)
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 429")]
    assert refused, [a[:200] for a in answers]
    assert b"in progress" in refused[0] and b"Retry-After" in refused[0], refused[0][:400]
