"""PostgreSQL inspection for the API tests over one psycopg2 connection per
database URL (Debian's python3-psycopg2), instead of a psql process per query.

  psql(url, sql)          rows as psql -A -t prints them: fields joined by "|",
                          one row per line ("" for a statement without rows)
  copy_out(url, sql)      the bytes of a COPY ... TO STDOUT statement
  execute(url, sql)       the rows as Python values
  forget_database(name)   close our connections to a database about to be dropped

Connections are in autocommit mode, so every call is its own transaction, as
with psql -c (CREATE/DROP DATABASE work). A connection that the server ended
(pg_terminate_backend, a restart) is opened again once, and the call retried;
any other error is raised as is."""

import io
import threading
import urllib.parse

import psycopg2

_lock = threading.Lock()
_conns = {}  # url -> connection


def _connect(url):
    with _lock:
        conn = _conns.get(url)
        if conn is None or conn.closed:
            conn = psycopg2.connect(url)
            conn.autocommit = True
            _conns[url] = conn
        return conn


def _drop(url, conn):
    with _lock:
        if _conns.get(url) is conn:
            del _conns[url]
    try:
        conn.close()
    except psycopg2.Error:
        pass


def _run(url, fn):
    """fn(cursor) on url's connection; once more on a new connection when the
    server had closed the old one."""
    for attempt in (0, 1):
        conn = _connect(url)
        try:
            with conn.cursor() as cur:
                return fn(cur)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            if not conn.closed or attempt:
                raise
            _drop(url, conn)
    raise AssertionError("unreachable")


def execute(url, sql):
    """Run sql; its rows (tuples of Python values), or [] without a result."""
    return _run(url, lambda cur: (cur.execute(sql), cur.fetchall() if cur.description else [])[1])


def _text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (memoryview, bytes)):
        return "\\x" + bytes(v).hex()
    return str(v)


def psql(url, sql):
    """Rows in the unaligned, tuples-only form of psql -A -t."""
    return "".join("|".join(_text(v) for v in row) + "\n" for row in execute(url, sql))


def copy_out(url, sql):
    """The output of a COPY ... TO STDOUT statement, as bytes."""

    def copy(cur):
        buf = io.BytesIO()
        cur.copy_expert(sql, buf)
        return buf.getvalue()

    return _run(url, copy)


def forget_database(name):
    """Close every cached connection to database `name` (before DROP DATABASE)."""
    with _lock:
        urls = [u for u in _conns if urllib.parse.urlsplit(u).path.lstrip("/") == name]
        conns = [_conns.pop(u) for u in urls]
    for conn in conns:
        try:
            conn.close()
        except psycopg2.Error:
            pass
