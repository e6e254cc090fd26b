"""The systemd unit of deploy/systemd/ (issue 17, item 4; docs/DEPLOY.md).

systemd is not PID 1 in the test machine, so the unit cannot be started
here. What can be checked is checked:
  - `systemd-analyze verify` accepts the unit without a word (its ExecStart
    pointed at the binary under test: verify wants an executable there);
  - `systemd-analyze security --offline=yes` rates its exposure 2.0 or less
    ("OK"), and the unit keeps the settings docs/DEPLOY.md promises;
  - the environment file's variables are all settings of `atelier serve`,
    its data directory is the unit's only writable path, and its key file
    lies outside it;
  - MemoryDenyWriteExecute=yes does not break atelier: a server started
    under the kernel's equivalent (prctl PR_SET_MDWE with
    PR_MDWE_REFUSE_EXEC_GAIN, after PR_SET_NO_NEW_PRIVS, like the unit's
    NoNewPrivileges=yes), with the environment file's settings, signs up
    and confirms an account (argon2id, mail), re-encodes JPEG, PNG and WebP
    avatars (libvips, orc), drafts SVG and PDF (cairo) and sets up 2FA (the
    QR code). systemd applies the same rule with a seccomp filter (it
    refuses mmap with PROT_WRITE|PROT_EXEC and any mprotect adding
    PROT_EXEC), which the kernel's flag matches for these libraries.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

import conftest
from accounts_helpers import create_account, outbox
from conftest import ATELIER_BIN, ROOT
import mfa_helpers
from models_helpers import create_model, image_fixture, put_avatar
from saved_patterns_helpers import bust_body

UNIT = os.path.join(ROOT, "deploy", "systemd", "atelier.service")
ENV_FILE = os.path.join(ROOT, "deploy", "systemd", "atelier.env")
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"

# Executes TARGET with its own arguments, with no new privileges and no memory that is both
# writable and executable, or that becomes executable (Linux 6.3+).
MDWE_EXEC = """import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 1
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0):
    sys.exit("mdwe_exec: prctl: " + os.strerror(ctypes.get_errno()))
os.execv(TARGET, [TARGET] + sys.argv[1:])
"""


def unit_text():
    with open(UNIT) as f:
        return f.read()


def unit_settings():
    out = {}
    for line in unit_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def env_file():
    out = {}
    with open(ENV_FILE) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                if len(v) >= 2 and v[0] == v[-1] == '"':  # systemd removes the quotes
                    v = v[1:-1]
                out[k] = v
    return out


needs_analyze = pytest.mark.skipif(not os.access(ANALYZE, os.X_OK),
                                   reason="environment: no systemd-analyze (Debian's systemd)")


@pytest.fixture
def unit_for_test(tmp_path):
    text, n = re.subn(r"^ExecStart=/usr/local/bin/atelier ", f"ExecStart={ATELIER_BIN} ", unit_text(),
                      flags=re.M)
    assert n == 1, "ExecStart changed: update the test"
    path = tmp_path / "atelier.service"
    path.write_text(text)
    return str(path)


@needs_analyze
def test_systemd_analyze_verify_is_silent(unit_for_test):
    p = subprocess.run([ANALYZE, "verify", unit_for_test], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == "" and p.stderr.strip() == "", p.stdout + p.stderr


@needs_analyze
def test_systemd_analyze_verify_would_see_a_mistake(unit_for_test, tmp_path):
    """The check above can fail: a misspelt setting is reported."""
    bad = tmp_path / "bad.service"
    bad.write_text(open(unit_for_test).read().replace("ProtectSystem=", "ProtectSytem="))
    p = subprocess.run([ANALYZE, "verify", str(bad)], capture_output=True, text=True, timeout=120)
    assert "ProtectSytem" in p.stderr, p.stderr


@needs_analyze
def test_exposure_is_ok(unit_for_test):
    p = subprocess.run([ANALYZE, "security", "--offline=yes", "--no-pager", unit_for_test],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    m = re.search(r"Overall exposure level for atelier\.service: (\d+\.\d+) (\w+)", p.stdout)
    assert m, p.stdout[-2000:]
    assert float(m.group(1)) <= 2.0, p.stdout


def test_unit_keeps_its_promises():
    s = unit_settings()
    want = {"User": "atelier", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
            "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
            "Restart": "on-failure", "EnvironmentFile": "/etc/atelier/atelier.env",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "ReadWritePaths": "/var/lib/atelier"}
    for k, v in want.items():
        assert s.get(k) == [v], (k, s.get(k))
    assert "@system-service" in s["SystemCallFilter"], s["SystemCallFilter"]
    assert int(s["LimitNOFILE"][0]) >= 8192


def test_env_file_matches_the_unit_and_the_program():
    env = env_file()
    p = subprocess.run([ATELIER_BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    known = set(re.findall(r"\b(ATELIER_[A-Z_]+)\b", p.stdout + p.stderr))
    assert set(env) <= known, set(env) - known
    assert env["ATELIER_DATA"] == unit_settings()["ReadWritePaths"][0]
    assert not env["ATELIER_KEY_FILE"].startswith(env["ATELIER_DATA"] + "/")
    assert env["ATELIER_LISTEN"].startswith("127.0.0.1:") and env["ATELIER_METRICS_LISTEN"].startswith("127.0.0.1:")
    assert env["ATELIER_TRUSTED_PROXY"] == "127.0.0.1"  # nginx on the same machine


def wrap(tmp_path, name, target):
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nTARGET = {target!r}\n{MDWE_EXEC}")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def mdwe_wrapper(tmp_path):
    probe = subprocess.run([wrap(tmp_path, "mdwe_python", sys.executable), "-c",
                            "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"],
                           capture_output=True, text=True, timeout=30)
    if "prctl" in probe.stderr and "Invalid argument" in probe.stderr:
        pytest.skip("environment: the kernel has no PR_SET_MDWE (Linux 6.3+)")
    # the wrapper works: a writable and executable mapping is refused under it
    assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
    return wrap(tmp_path, "mdwe_atelier", ATELIER_BIN)


def test_the_server_works_without_writable_executable_memory(mdwe_wrapper, server_factory, monkeypatch,
                                                             tmp_path):
    env = env_file()
    env.update({"ATELIER_DATA": str(tmp_path / "data"), "ATELIER_KEY_FILE": str(tmp_path / "secret.key"),
                "ATELIER_SMTP": None, "ATELIER_PUBLIC_URL": "http://127.0.0.1"})
    monkeypatch.setattr(conftest, "ATELIER_BIN", mdwe_wrapper)
    srv = server_factory.start(env=env, data_dir=str(tmp_path / "data"))
    monkeypatch.undo()
    acc = create_account(srv, outbox(srv), "mdwe")
    model = create_model(srv, acc, "sandboxed", breasts=True, measurements=bust_body())
    for name, ctype in (("small.jpg", "image/jpeg"), ("alpha.png", "image/png"), ("photo.webp", "image/webp")):
        r = put_avatar(srv, acc.token, model["id"], image_fixture(name), ctype)
        assert r.status_code == 200, (name, r.status_code, r.text[:300])
    for suffix, ctype in ((".svg", "image/svg+xml"), (".pdf", "application/pdf")):
        r = srv.get(f"/v1/models/{model['id']}/patterns/bodice{suffix}", headers=acc.auth, timeout=60)
        assert r.status_code == 200, (suffix, r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith(ctype), r.headers
    m = mfa_helpers.setup(srv, acc)
    assert m.secret
    assert srv.proc.poll() is None
    err = srv.stderr()
    assert "ORC" not in err and "orc" not in err.lower().replace("sorc", ""), err[-3000:]
