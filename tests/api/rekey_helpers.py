"""Key rotation tests (test_890_rekey*.py): the server key's subkeys and the
sealed values of the database, opened here in Python, independently of the
binary (libsodium through ctypes: the same primitives, none of atelier's
code).

  Key(path)              a key file's subkeys and key id (src/base/seal.c:
                         crypto_kdf under "atelier1": 1 sealing, 2 lookup,
                         3 key id)
  sealed_values(store)   every sealed value of the database, found from the
                         schema itself (every column named *_sealed, keyed by
                         its table's one-column primary key, and the key check
                         rows of meta), so a column added later is covered
  lookup_values(store)   every keyed lookup column <x>_lookup of a table that
                         also has <x>_sealed, with the row's sealed <x>
  run_rekey(...)         `atelier rekey` against a server's data and database
"""

import ctypes
import ctypes.util
import hashlib
import os
import re
import sqlite3
import subprocess

import pg_helpers
from conftest import ATELIER_BIN, BACKEND, server_env

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _sodium.sodium_init() >= 0

SEAL_HEADER = 1 + 4 + 24
SEAL_OVERHEAD = SEAL_HEADER + 16
KEY_CHECK_ROWS = ("key_check", "key_check_next")


def _kdf(master, subkey_id, n):
    out = ctypes.create_string_buffer(n)
    rc = _sodium.crypto_kdf_derive_from_key(out, ctypes.c_size_t(n), ctypes.c_uint64(subkey_id),
                                            ctypes.c_char_p(b"atelier1"), ctypes.c_char_p(master))
    assert rc == 0
    return out.raw


class Key:
    """A server key: its sealing and lookup subkeys and its key id."""

    def __init__(self, path=None, raw=None):
        if raw is None:
            with open(path, "rb") as f:
                raw = f.read()
        assert len(raw) == 32, f"{path}: {len(raw)} bytes"
        self.raw = raw
        self.seal = _kdf(raw, 1, 32)
        self.lookup_key = _kdf(raw, 2, 32)
        self.id = int.from_bytes(_kdf(raw, 3, 16)[:4], "big")

    def open(self, label, row, box):
        """The plaintext of a sealed value, or None when it does not open
        under this key with associated data "label:row"."""
        if len(box) < SEAL_OVERHEAD or box[0] != 1:
            return None
        ad = f"{label}:{row}".encode()
        ct = box[SEAL_HEADER:]
        out = ctypes.create_string_buffer(len(ct))
        outlen = ctypes.c_ulonglong(0)
        rc = _sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, ctypes.byref(outlen), None, ctypes.c_char_p(ct), ctypes.c_ulonglong(len(ct)),
            ctypes.c_char_p(ad), ctypes.c_ulonglong(len(ad)), ctypes.c_char_p(box[5:SEAL_HEADER]),
            ctypes.c_char_p(self.seal))
        return out.raw[:outlen.value] if rc == 0 else None

    def lookup(self, domain, data):
        """seal_lookup: keyed BLAKE2b-256 of domain, a NUL, data."""
        return hashlib.blake2b(domain.encode() + b"\0" + data, key=self.lookup_key,
                               digest_size=32).digest()


def new_key_file(directory, name="new.key", mode=0o600, size=32):
    path = os.path.join(str(directory), name)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(path, mode)
    return path


def key_id_of(box):
    return int.from_bytes(box[1:5], "big")


# --------------------------------------------------------------------------
# the database, read directly


class Db:
    """Raw rows of a server's database: SQLite (read-only) or PostgreSQL."""

    def __init__(self, data_dir, url=None):
        self.data_dir = str(data_dir)
        self.url = url
        if BACKEND == "postgres":
            assert url, "a PostgreSQL store without a URL"

    def query(self, sql):
        if self.url:
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in pg_helpers.execute(self.url, sql)]
        con = sqlite3.connect(f"file:{os.path.join(self.data_dir, 'atelier.db')}?mode=ro",
                              uri=True, timeout=30)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def tables(self):
        if self.url:
            return [r[0] for r in self.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")]
        return [r[0] for r in self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY 1")]

    def columns(self, table):
        assert re.match(r"^[a-z_][a-z0-9_]*$", table), table
        if self.url:
            return [r[0] for r in self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                f" current_schema() AND table_name = '{table}' ORDER BY ordinal_position")]
        return [r[1] for r in self.query(f'PRAGMA table_info("{table}")')]

    def primary_key(self, table):
        """The columns of the table's primary key."""
        if self.url:
            return [r[0] for r in self.query(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                f" AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{table}'::regclass"
                " AND i.indisprimary")]
        return [r[1] for r in sorted(self.query(f'PRAGMA table_info("{table}")'), key=lambda r: r[5])
                if r[5] > 0]

    def meta(self, key):
        rows = self.query(f"SELECT value FROM meta WHERE key = '{key}'")
        return bytes(rows[0][0]) if rows else None


def _row_id(v):
    """The row id of associated data: a TEXT key as is, a BLOB key in hex."""
    return v.hex() if isinstance(v, (bytes, bytearray)) else str(v)


def sealed_columns(db):
    """[(table, key column, sealed column, label)] of every *_sealed column."""
    out = []
    for t in db.tables():
        cols = [c for c in db.columns(t) if c.endswith("_sealed")]
        if not cols:
            continue
        pk = db.primary_key(t)
        assert len(pk) == 1, f"{t}: sealed columns need a one-column primary key, not {pk}"
        for c in cols:
            out.append((t, pk[0], c, f"{t}.{c[:-len('_sealed')]}"))
    return out


def sealed_values(db):
    """{(label, row id): sealed bytes} of every sealed value of the database,
    the key check rows of meta included."""
    out = {}
    for table, key, col, label in sealed_columns(db):
        for k, v in db.query(f'SELECT "{key}", "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL'):
            out[(label, _row_id(bytes(k) if isinstance(k, memoryview) else k))] = bytes(v)
    for name in KEY_CHECK_ROWS:
        v = db.meta(name)
        if v is not None:
            out[("meta.value", name)] = v
    return out


def lookup_values(db):
    """[(table, lookup column, domain, row id, lookup bytes, sealed label)] of
    every <x>_lookup column whose table also has <x>_sealed."""
    out = []
    for table, key, col, label in sealed_columns(db):
        field = col[:-len("_sealed")]
        if f"{field}_lookup" not in db.columns(table):
            continue
        for k, v in db.query(f'SELECT "{key}", "{field}_lookup" FROM "{table}"'):
            out.append((table, f"{field}_lookup", field, _row_id(k), bytes(v), label))
    return out


def plaintexts(db, key, values=None):
    """{(label, row): plaintext} of every sealed value, opened under key;
    fails naming the values that do not open."""
    values = sealed_values(db) if values is None else values
    out, bad = {}, []
    for (label, row), box in values.items():
        pt = key.open(label, row, box)
        if pt is None:
            bad.append((label, row, f"{key_id_of(box):08x}"))
        out[(label, row)] = pt
    assert not bad, f"{len(bad)} values do not open under key {key.id:08x}: {bad[:10]}"
    return out


# --------------------------------------------------------------------------
# the command


def rekey_args(srv, new_key, *extra):
    args = [ATELIER_BIN, "rekey", "--data", srv.data_dir, "--new-key-file", str(new_key)]
    if getattr(srv, "database_url", None):
        args += ["--database", srv.database_url]
    return args + list(extra)


def run_rekey(srv, new_key, *extra, crash=None, env=None, timeout=300):
    env = dict(env or {})
    if crash:
        env["ATELIER_TEST_REKEY_CRASH"] = crash
    return subprocess.run(rekey_args(srv, new_key, *extra), capture_output=True, text=True,
                          env=server_env(env), timeout=timeout, stdin=subprocess.DEVNULL)


def start_rekey(srv, new_key, *extra):
    """The command as a process of its own (stderr piped), not waited for."""
    return subprocess.Popen(rekey_args(srv, new_key, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=server_env(),
                            stdin=subprocess.DEVNULL)
