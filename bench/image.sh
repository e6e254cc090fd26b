#!/usr/bin/env bash
# Benchmark (not a test): login latency while four clients upload
# worst-case images at once (issue 12 item 7).
#
#   1. a fresh data dir and `atelier serve` (SQLite); five accounts sign up
#      and confirm (links from the outbox): one logs in, four upload;
#   2. two worst-case PNGs are made (all zeros, so tiny on the wire):
#      "bomb"  6300 x 6300 16-bit RGBA (317 MB of raster in ~300 KB), the
#              attack file of the issue: refused from its header when the
#              decode budget (LIMIT_IMAGE_DECODE_BYTES) exists;
#      "heavy" 4000 x 4000 8-bit RGBA (64,000,000 bytes of raster), the
#              heaviest file under that budget: decoded and stored;
#   3. for each phase (none, bomb, heavy), DURATION seconds of sequential
#      logins (each an argon2id verification) while the four uploaders each
#      PUT /v1/account/picture in a loop (phase "none": no uploads);
#   4. prints per phase: logins, login p50/p99/max, uploads and their
#      statuses, and the server's peak RSS (VmHWM) at the end.
#
# Usage: bench/image.sh            (builds ./build-bench, RelWithDebInfo)
#        ATELIER_BIN=/path/atelier bench/image.sh
#        DURATION=15 bench/image.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-15}"
BUILD="${BUILD:-build-bench}"

bench_need "$PY"
bench_init atelier-image-bench
bench_atelier
DATA="$WORK/data"
mkdir -m 0700 "$DATA"
bench_serve "$WORK/atelier" "$DATA"
echo "bench: atelier $BIN, data $DATA, $(nproc) cores, $DURATION s per phase"

"$PY" - "$SERVER_BASE" "$DATA/outbox" "$DURATION" <<'PYEOF'
import email as email_pkg, email.policy, json, os, re, secrets, struct, sys, threading, time
import urllib.error, urllib.request, zlib

base, outbox, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])

def call(method, path, body=None, headers=None, timeout=120):
    req = urllib.request.Request(base + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def post_json(path, obj):
    s, b = call("POST", path, json.dumps(obj).encode(), {"Content-Type": "application/json"})
    return s, json.loads(b or b"{}")

def account(i):
    tag = secrets.token_hex(4)
    email, pw = f"img{i}.{tag}@example.org", "Vq7#" + secrets.token_urlsafe(12) + "-zT9"
    s, b = post_json("/v1/signup", {"email": email, "username": f"img{i}_{tag}", "password": pw})
    assert s == 202, (s, b)
    deadline, token = time.monotonic() + 20, None
    while token is None and time.monotonic() < deadline:
        for name in os.listdir(outbox) if os.path.isdir(outbox) else []:
            if name.startswith("."):
                continue  # being written
            msg = email_pkg.message_from_bytes(open(os.path.join(outbox, name), "rb").read(),
                                               policy=email_pkg.policy.default)
            if email in str(msg.get("To", "")):
                m = re.search(r"token=([A-Za-z0-9_-]{43})", msg.get_body(("plain",)).get_content())
                token = m.group(1) if m else None
        time.sleep(0.05)
    s, body = post_json("/v1/confirm", {"token": token})
    assert s == 200, s
    return email, pw, body["token"]

def png(w, h, depth, bpp):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z, row = zlib.compressobj(9), b"\x00" * (1 + w * bpp)
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 6, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))

login_acc = account(0)
uploaders = [account(i) for i in range(1, 5)]
files = {"bomb": png(6300, 6300, 16, 8), "heavy": png(4000, 4000, 8, 4)}
print(f"bench: bomb {len(files['bomb'])} bytes, heavy {len(files['heavy'])} bytes")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")

for phase in ("none", "bomb", "heavy"):
    stop = threading.Event()
    statuses, lock = {}, threading.Lock()

    def upload(tok, data):
        while not stop.is_set():
            s, _ = call("PUT", "/v1/account/picture", data,
                        {"Authorization": "Bearer " + tok, "Content-Type": "image/png"})
            with lock:
                statuses[s] = statuses.get(s, 0) + 1

    threads = [threading.Thread(target=upload, args=(u[2], files[phase])) for u in uploaders] \
        if phase != "none" else []
    for t in threads:
        t.start()
    time.sleep(0.5 if threads else 0)
    lat, end = [], time.monotonic() + duration
    while time.monotonic() < end:
        t0 = time.monotonic()
        s, _ = post_json("/v1/login", {"login": login_acc[0], "password": login_acc[1]})
        lat.append((time.monotonic() - t0) * 1000)
        assert s == 200, s
    stop.set()
    for t in threads:
        t.join()
    print(f"phase {phase:5}: logins {len(lat):4}  p50 {pct(lat, 50):7.1f} ms  p99 {pct(lat, 99):7.1f} ms"
          f"  max {max(lat):7.1f} ms  uploads {dict(sorted(statuses.items()))}")
PYEOF
echo "bench: server peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER_PID/status")"
