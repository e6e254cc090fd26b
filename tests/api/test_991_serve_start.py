"""`atelier serve` at start, issue 18 items 5 and 6: the port is bound before
anything is created, and a port it cannot have is explained (in use, not a
local address, permission); --smtp and --public-url are checked with
libcurl's parser; a database file it can only read is refused with its name
and the fix, and no file mode is ever changed; a clamped --hash-slots warns.

The read-only and file-mode cases are about the SQLite file, so they run the
server on SQLite whatever the backend of the run."""
import os
import shutil
import socket
import stat
import subprocess
import tempfile

import pytest

from conftest import ATELIER_BIN, free_port, server_env


def serve(args, env=None, timeout=30, user=None):
    cmd = [ATELIER_BIN, "serve", *args]
    if user is not None:
        cmd = [shutil.which("setpriv"), f"--reuid={user}", f"--regid={user}", "--clear-groups",
               *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=server_env(env))
    return p.returncode, p.stdout + p.stderr


@pytest.fixture
def parent():
    d = tempfile.mkdtemp(prefix="atelier-991-", dir="/tmp")
    yield d
    subprocess.run(["chattr", "-R", "-i", d], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def test_port_in_use_is_named_and_nothing_is_created(parent):
    data = os.path.join(parent, "data")
    key = os.path.join(parent, "elsewhere.key")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out = serve(["--listen", f"127.0.0.1:{port}", "--data", data, "--key-file", key])
    assert rc == 1, out
    assert f"cannot listen on 127.0.0.1:{port} (--listen): the address is already in use" in out, out
    assert os.listdir(parent) == [], "created before the port was bound: " + str(os.listdir(parent))


def test_metrics_port_in_use_is_named_too(parent):
    data = os.path.join(parent, "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out = serve(["--listen", f"127.0.0.1:{free_port()}", "--metrics-listen",
                         f"127.0.0.1:{port}", "--data", data])
    assert rc == 1, out
    assert f"(--metrics-listen): the address is already in use" in out, out
    assert os.listdir(parent) == []


def test_not_a_local_address(parent):
    data = os.path.join(parent, "data")
    rc, out = serve(["--listen", "192.0.2.1:8080", "--data", data])  # TEST-NET-1
    assert rc == 1, out
    assert "cannot listen on 192.0.2.1:8080 (--listen): the address is not a local address" in out
    assert os.listdir(parent) == []


def test_permission_below_1024(parent):
    """As an unprivileged user (setpriv when the tests run as root, as in CI)
    a port below 1024 is refused for permission."""
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        start = int(f.read())
    if start <= 1:
        pytest.skip("environment: unprivileged users may bind every port here")
    user = None
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("environment: running as root without setpriv to drop privileges")
        user = 65534
        os.chmod(parent, 0o777)  # so that only the port can stop it creating data/
    data = os.path.join(parent, "data")
    rc, out = serve(["--listen", "127.0.0.1:1", "--data", data], user=user)
    assert rc == 1, out
    assert "cannot listen on 127.0.0.1:1 (--listen): permission denied" in out, out
    assert os.listdir(parent) == []


@pytest.mark.parametrize("flag,value,why", [
    ("--smtp", "http://u:s3cret@mail.example:25", "--smtp must start with smtp:// or smtps://"),
    ("--smtp", "smtp://u:s3cret@", "--smtp is not a URL libcurl can parse"),
    ("--smtp", "u:s3cret@mail.example:25", "--smtp"),
    ("--public-url", "https://", "--public-url"),
    ("--public-url", "https://atelier.example/", "--public-url must not end in '/'"),
    ("--public-url", "https://atelier.example/?a=1", "--public-url must not have a query"),
    ("--public-url", "https://atelier.example#x", "--public-url must not have a query or a fragment"),
])
def test_urls_checked_at_start(parent, flag, value, why):
    data = os.path.join(parent, "data")
    rc, out = serve(["--listen", f"127.0.0.1:{free_port()}", "--data", data, flag, value])
    assert rc in (1, 2), out
    assert why in out, out
    assert "s3cret" not in out, "an SMTP URL may hold a password: " + out
    assert os.listdir(parent) == []


def test_good_urls_start(server_factory):
    srv = server_factory.start(["--public-url", "https://atelier.example/sub",
                                "--smtp", "smtps://127.0.0.1:1", "--smtp-tls", "off"])
    assert srv.get("/healthz").status_code == 200


def migrated(parent):
    data = os.path.join(parent, "data")
    p = subprocess.run([ATELIER_BIN, "migrate", "--data", data], capture_output=True, text=True,
                       timeout=60, env=server_env())
    assert p.returncode == 0, p.stderr
    return data, os.path.join(data, "atelier.db")


def test_read_only_database_names_the_file_and_the_fix(parent):
    """An immutable database file (chattr +i: read-only even for root) is
    refused at start with its path and what to do; before, the server
    started and failed every write with 503."""
    data, db = migrated(parent)
    if subprocess.run(["chattr", "+i", db], capture_output=True).returncode != 0:
        pytest.skip("environment: chattr +i is not possible here (no CAP_LINUX_IMMUTABLE or "
                    "a file system without it)")
    try:
        rc, out = serve(["--listen", f"127.0.0.1:{free_port()}", "--data", data], timeout=30)
    finally:
        subprocess.run(["chattr", "-i", db], capture_output=True)
    assert rc == 1, out
    assert f"the database file {db} is read-only for this process" in out, out
    assert "make it writable" in out and "chattr -i" in out, out
    assert "listening on" not in out


def test_read_only_database_as_an_unprivileged_user(parent):
    """The same with plain file modes, as a user whom the mode binds."""
    user = None
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("environment: running as root without setpriv to drop privileges")
        user = 65534
    data, db = migrated(parent)
    os.chmod(parent, 0o755)
    if user is not None:
        for root, dirs, files in os.walk(data):
            for n in dirs + files:
                os.chown(os.path.join(root, n), user, user)
        os.chown(data, user, user)
    os.chmod(db, 0o400)
    rc, out = serve(["--listen", f"127.0.0.1:{free_port()}", "--data", data], user=user)
    assert rc == 1, out
    assert f"the database file {db} is read-only for this process" in out, out
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o400


def test_database_mode_is_never_changed(server_factory, parent):
    """A database file others may read gets a warning with the chmod, and
    keeps its mode (before, the server silently changed it to 0600)."""
    data, db = migrated(parent)
    os.chmod(db, 0o644)
    port = free_port()
    p = subprocess.Popen([ATELIER_BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data", data],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=server_env())
    try:
        line = p.stdout.readline()
        assert "listening on" in line, line
    finally:
        p.terminate()
        out, err = p.communicate(timeout=30)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o644
    assert f"the database file {db} has mode 0644: other users may read it; `chmod 600 {db}`" in err
    assert err.count("has mode 0644") == 1, "warned more than once: " + err


def test_clamped_hash_slots_warn(server_factory):
    n = os.cpu_count()
    srv = server_factory.start(["--hash-slots", "1024"])
    assert f"--hash-slots 1024 is more than the {n} cores of this machine: using {n}" in srv.stderr()
