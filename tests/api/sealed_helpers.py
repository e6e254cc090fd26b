"""Raw rows of the database, for the at-rest checks of sealed columns
(issue 12): which columns of a row hold something other than NULL or a
sealed value (a blob of at least SEAL_OVERHEAD bytes)."""

import os
import sqlite3

import pg_helpers

SEAL_OVERHEAD = 1 + 4 + 24 + 16  # base/seal.h: version, key id, nonce, tag


def raw_row(srv, backend, table, key_col, key):
    """{column: value} of the row of table whose key_col is key, read from
    the database itself (not through the server); None when there is none."""
    if backend == "postgres":
        rows = pg_helpers.execute(srv.database_url, f"SELECT * FROM {table} WHERE {key_col} = '{key}'")
        if not rows:
            return None
        cols = pg_helpers.execute(
            srv.database_url,
            f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
            " AND table_schema = current_schema() ORDER BY ordinal_position")
        return {c[0]: (bytes(v) if isinstance(v, memoryview) else v) for c, v in zip(cols, rows[0])}
    con = sqlite3.connect(f"file:{os.path.join(srv.data_dir, 'atelier.db')}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        row = con.execute(f"SELECT * FROM {table} WHERE {key_col} = ?", (key,)).fetchone()
        return None if row is None else {k: row[k] for k in row.keys()}
    finally:
        con.close()


def unsealed(row, clear_ok):
    """The columns of row, other than those in clear_ok, holding a value that
    is neither NULL nor sealed."""
    return {k: v for k, v in row.items()
            if k not in clear_ok and v is not None
            and not (isinstance(v, bytes) and len(v) >= SEAL_OVERHEAD)}
